/* policy_yaml.c - the generic half of the policy parser (policy_int.h):
 * errors that point at a file and a line, strict readers of values
 * (texts, numbers, booleans, enums, lists, mappings of names), paths
 * made absolute, and the loading of one YAML document and of a file.
 * The schema is policy.c's, the regex guard policy_regex.c's.
 *
 * Diagnostics: -1 with "PATH:LINE: key.path: what is wrong" in err, LINE
 * being the 1-based line of the offending node (of the anchor, for a node
 * reached through an alias); errors without a node (size, memory) read
 * "PATH: ...". Controls in a message become '?', a quoted value is cut at
 * 64 bytes, and environment variable names and paths are never quoted.
 * Nothing is guessed or truncated: a wrong type, a number that is not
 * plain decimal or out of range, a bad enum value (the allowed ones are
 * listed), a control character, an empty value or list and a text over
 * its cap are errors.
 *
 * Limits: POL_MAX_TEXT bytes of YAML, one document. Before libyaml builds
 * its tree, the YAML guard (lib/core/yaml_guard.c) refuses nesting deeper
 * than POL_MAX_DEPTH, more than POL_MAX_NODES nodes or POL_MAX_ANCHORS
 * anchors, so loading is linear in the input; aliases become shared nodes
 * (no expansion). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "policy_int.h"
#include "util.h"
#include "yaml_guard.h"

#include "banned.h"

/* ---- errors ------------------------------------------------------- */

/* No C0 or C1 control reaches a terminal through a message. */
static void printable(char *s)
{
	unsigned char *u = (unsigned char *)s;

	for (; *u != '\0'; u++) {
		if (*u < 0x20 || *u == 0x7f)
			*u = '?';
		else if (u[0] == 0xc2 && u[1] >= 0x80 && u[1] <= 0x9f)
			u[0] = u[1] = '?';
	}
}

void pol_set_err(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	if (errsz == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
	printable(err);
}

unsigned long pol_line(const yaml_node_t *n)
{
	return n ? (unsigned long)n->start_mark.line + 1 : 1;
}

int pol_fail(struct pol_ctx *c, const yaml_node_t *n, const char *kp,
             const char *fmt, ...)
{
	char msg[POL_MAX_MSG];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pol_set_err(c->err, c->errsz, "%s:%lu: %s%s%s", c->file, pol_line(n),
	            kp ? kp : "", kp ? ": " : "", msg);
	return -1;
}

const yaml_node_t *pol_node(const struct pol_ctx *c, int i)
{
	return yaml_document_get_node(c->doc, i);
}

/* A plain empty scalar, "~" or "null": the YAML null. */
int pol_is_null(const yaml_node_t *n)
{
	const char *s = (const char *)n->data.scalar.value;

	if (n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	return n->data.scalar.length == 0 || strcmp(s, "~") == 0 ||
	       strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
	       strcmp(s, "NULL") == 0;
}

const char *pol_node_type(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return pol_is_null(n) ? "an empty value" : "a value";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

void pol_keypath(char *out, const char *at, const char *key)
{
	snprintf(out, POL_MAX_KEYPATH, "%s%s%.64s%s", at, *at ? "." : "", key,
	         strlen(key) > 64 ? "..." : "");
}

/* ---- values ------------------------------------------------------- */

/* A scalar as a C string: no embedded NUL (a "\0" escape). */
int pol_scalar(struct pol_ctx *c, const yaml_node_t *n, const char *kp,
               const char **s, size_t *len)
{
	if (n->type != YAML_SCALAR_NODE)
		return pol_fail(c, n, kp, "expected a value, got %s",
		                pol_node_type(n));
	*s = (const char *)n->data.scalar.value;
	*len = n->data.scalar.length;
	if (memchr(*s, '\0', *len) != NULL)
		return pol_fail(c, n, kp, "NUL character in the value");
	return 0;
}

static int has_control(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i;

	for (i = 0; i < len; i++) {
		if (u[i] < 0x20 || u[i] == 0x7f ||
		    (u[i] == 0xc2 && i + 1 < len && u[i + 1] >= 0x80 &&
		     u[i + 1] <= 0x9f))
			return 1;
	}
	return 0;
}

int pol_only(const char *s, size_t len, const char *extra)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || strchr(extra, ch) != NULL))
			return 0;
	}
	return 1;
}

/* rel made absolute against the directory of c->anchor (or the working
 * directory), "./" prefixes dropped. */
static int resolve_path(struct pol_ctx *c, const yaml_node_t *n, const char *kp,
                        const char *rel, char **out)
{
	char cwd[POL_MAX_PATH], *buf;
	const char *dir = "", *slash;
	size_t dlen = 0, need;
	int len;

	if (rel[0] == '/') {
		*out = strdup(rel);
		return *out ? 0 : pol_fail(c, n, NULL, "out of memory");
	}
	slash = c->anchor ? strrchr(c->anchor, '/') : NULL;
	if (slash != NULL) {
		dir = c->anchor;
		dlen = (size_t)(slash - c->anchor);
	}
	cwd[0] = '\0';
	if (c->anchor == NULL || c->anchor[0] != '/') {
		if (getcwd(cwd, sizeof(cwd)) == NULL) {
			char ebuf[128];

			return pol_fail(
			        c, n, kp, "cannot make the path absolute: %s",
			        util_strerror(errno, ebuf, sizeof(ebuf)));
		}
		while (dlen >= 2 && dir[0] == '.' && dir[1] == '/') {
			dir += 2;
			dlen -= 2;
		}
		if (dlen == 1 && dir[0] == '.')
			dlen = 0;
	}
	while (rel[0] == '.' && rel[1] == '/')
		rel += 2;
	need = strlen(cwd) + dlen + strlen(rel) + 3;
	if (need > POL_MAX_PATH)
		return pol_fail(c, n, kp,
		                "path longer than %d bytes once joined",
		                POL_MAX_PATH - 1);
	buf = malloc(need);
	if (buf == NULL)
		return pol_fail(c, n, NULL, "out of memory");
	/* cwd "/" and an absolute dir's "" leave a lone separator */
	len = snprintf(buf, need, "%s%s%.*s%s%s", cwd,
	               cwd[0] != '\0' && strcmp(cwd, "/") != 0 ? "/" : "",
	               (int)dlen, dir,
	               dlen > 0 || (cwd[0] == '\0' && slash != NULL) ? "/" : "",
	               rel);
	if (len < 0 || (size_t)len >= need) {
		free(buf);
		return pol_fail(c, n, kp, "path too long");
	}
	*out = buf;
	return 0;
}

int pol_text(struct pol_ctx *c, const yaml_node_t *n, const char *kp,
             enum pol_vk kind, char **out)
{
	size_t len, cap = POL_MAX_HOST;
	const char *s, *at;

	if (pol_scalar(c, n, kp, &s, &len) < 0)
		return -1;
	if (len == 0 || pol_is_null(n))
		return pol_fail(c, n, kp, "empty value");
	if (has_control(s, len))
		return pol_fail(c, n, kp, "control character in the value");
	switch (kind) {
	case VK_NAME:
		cap = POL_MAX_NAME;
		if (!pol_only(s, len, "._-"))
			return pol_fail(c, n, kp,
			                QFMT " is not a valid name (letters, "
			                     "digits, '.', '_' and '-')",
			                QARG(s));
		break;
	case VK_HOST:
	case VK_DOMAIN:
		if (strchr(s, ' ') != NULL)
			return pol_fail(c, n, kp, "space in " QFMT, QARG(s));
		if (kind == VK_DOMAIN && strchr(s, '@') != NULL)
			return pol_fail(c, n, kp, QFMT " is not a domain",
			                QARG(s));
		break;
	case VK_ADDR:
		at = strrchr(s, '@');
		if (strpbrk(s, " <>") != NULL || at == NULL || at == s ||
		    at[1] == '\0')
			return pol_fail(c, n, kp,
			                QFMT
			                " is not an address (local@domain, "
			                "no brackets)",
			                QARG(s));
		break;
	case VK_ENVVAR:
		cap = POL_MAX_ENVVAR;
		if (!pol_only(s, len, "_") || (s[0] >= '0' && s[0] <= '9'))
			return pol_fail(
			        c, n, kp,
			        "not an environment variable's name "
			        "(letters, digits and '_', not starting "
			        "with a digit)");
		break;
	case VK_PATH:
		cap = POL_MAX_PATH - 1;
		break;
	case VK_REGEX:
		cap = POL_MAX_REGEX;
		break;
	default:
		break;
	}
	if (len > cap)
		return pol_fail(c, n, kp, "longer than %zu bytes", cap);
	if (kind == VK_REGEX && pol_check_regex(c, n, kp, s) < 0)
		return -1;
	if (kind == VK_PATH)
		return resolve_path(c, n, kp, s, out);
	*out = strdup(s);
	return *out ? 0 : pol_fail(c, n, NULL, "out of memory");
}

/* Plain decimal digits, no sign, no leading zero: YAML 1.1 would read
 * "010" as octal, and "1e3" or "0x10" are not what anyone checks. */
int pol_num(struct pol_ctx *c, const yaml_node_t *n, const char *kp, long min,
            long max, long *out)
{
	const char *s;
	size_t len, i;
	long v = 0;

	if (pol_scalar(c, n, kp, &s, &len) < 0)
		return -1;
	if (len == 0 || strspn(s, "0123456789") != len ||
	    (len > 1 && s[0] == '0'))
		return pol_fail(
		        c, n, kp,
		        "expected a whole number from %ld to %ld, got " QFMT,
		        min, max, QARG(s));
	for (i = 0; i < len; i++) {
		v = v * 10 + (s[i] - '0');
		if (v > max)
			break;
	}
	if (v < min || v > max)
		return pol_fail(c, n, kp, QFMT " is out of range (%ld to %ld)",
		                QARG(s), min, max);
	*out = v;
	return 0;
}

int pol_bool(struct pol_ctx *c, const yaml_node_t *n, const char *kp, int *out)
{
	const char *s;
	size_t len;

	if (pol_scalar(c, n, kp, &s, &len) < 0)
		return -1;
	if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0) {
		*out = s[0] == 't';
		return 0;
	}
	return pol_fail(c, n, kp,
	                "expected true or false, got " QFMT
	                " (only true and false are accepted)",
	                QARG(s));
}

int pol_enum(struct pol_ctx *c, const yaml_node_t *n, const char *kp,
             const struct pol_enum_tab *e, int *out)
{
	char list[128];
	const char *s;
	size_t len, i, used = 0;

	if (pol_scalar(c, n, kp, &s, &len) < 0)
		return -1;
	for (i = 0; i < e->n; i++) {
		if (strcasecmp(s, e->names[i]) == 0) {
			*out = e->values[i];
			return 0;
		}
	}
	list[0] = '\0';
	for (i = 0; i < e->n && used < sizeof(list); i++) {
		int k = snprintf(list + used, sizeof(list) - used, "%s%s",
		                 i ? ", " : "", e->names[i]);

		used += k > 0 ? (size_t)k : 0;
	}
	return pol_fail(c, n, kp, QFMT " is not one of %s", QARG(s), list);
}

/* A list's items: a sequence of 1..max. */
int pol_items(struct pol_ctx *c, const yaml_node_t *n, const char *kp,
              size_t max, size_t *count)
{
	if (n->type != YAML_SEQUENCE_NODE)
		return pol_fail(c, n, kp, "expected a list, got %s",
		                pol_node_type(n));
	*count = (size_t)(n->data.sequence.items.top -
	                  n->data.sequence.items.start);
	if (*count == 0)
		return pol_fail(c, n, kp, "empty list");
	if (*count > max)
		return pol_fail(c, n, kp, "too many items (%zu, at most %zu)",
		                *count, max);
	return 0;
}

/* A mapping of names (environments, modules): 1..max pairs. */
int pol_named(struct pol_ctx *c, const yaml_node_t *n, const char *kp,
              size_t max, size_t *count)
{
	if (n->type != YAML_MAPPING_NODE)
		return pol_fail(c, n, kp, "expected a mapping of names, got %s",
		                pol_node_type(n));
	*count = (size_t)(n->data.mapping.pairs.top -
	                  n->data.mapping.pairs.start);
	if (*count == 0)
		return pol_fail(c, n, kp, "empty mapping (at least one name)");
	if (*count > max)
		return pol_fail(c, n, kp, "too many entries (%zu, at most %zu)",
		                *count, max);
	return 0;
}

/* ---- the document ------------------------------------------------- */

static int yaml_failed(struct pol_ctx *c, const yaml_parser_t *y,
                       const char *text, size_t len)
{
	unsigned long line;
	char ctx[96] = "";

	if (y->error == YAML_MEMORY_ERROR) {
		pol_set_err(c->err, c->errsz, "%s: out of memory", c->file);
		return -1;
	}
	if (y->error == YAML_READER_ERROR) {
		/* no mark: count the lines up to the bad byte */
		size_t i,
		        end = y->problem_offset < len ? y->problem_offset : len;

		for (i = 0, line = 1; i < end; i++)
			line += text[i] == '\n';
	} else {
		line = (unsigned long)y->problem_mark.line + 1;
	}
	if (y->context != NULL)
		snprintf(ctx, sizeof(ctx), " (%s at line %lu)", y->context,
		         (unsigned long)y->context_mark.line + 1);
	pol_set_err(c->err, c->errsz, "%s:%lu: invalid YAML: %s%s", c->file,
	            line, y->problem ? y->problem : "malformed", ctx);
	return -1;
}

/* What stopped the guard (lib/core/yaml_guard.c), in this file's words. */
static int guard_failed(struct pol_ctx *c, const struct yaml_guard *g,
                        const char *text, size_t len)
{
	switch (g->stop) {
	case YAML_GUARD_YAML:
		return yaml_failed(c, &g->parser, text, len);
	case YAML_GUARD_DEPTH:
		pol_set_err(c->err, c->errsz, "%s:%lu: nesting deeper than %u",
		            c->file, g->line, g->limit);
		break;
	case YAML_GUARD_NODES:
		pol_set_err(c->err, c->errsz, "%s:%lu: more YAML nodes than %u",
		            c->file, g->line, g->limit);
		break;
	case YAML_GUARD_ANCHORS:
		pol_set_err(c->err, c->errsz, "%s:%lu: more anchors than %u",
		            c->file, g->line, g->limit);
		break;
	case YAML_GUARD_MORE:
		pol_set_err(c->err, c->errsz,
		            "%s:%lu: more than one YAML document", c->file,
		            g->line);
		break;
	default:
		pol_set_err(c->err, c->errsz, "%s: out of memory", c->file);
		break;
	}
	return -1;
}

int pol_doc(struct pol_ctx *c, const char *text, size_t len,
            int (*walk)(struct pol_ctx *c, const yaml_node_t *root))
{
	static const struct yaml_guard_caps caps = {
	        POL_MAX_DEPTH, POL_MAX_NODES, POL_MAX_ANCHORS};
	struct yaml_guard g;
	int rc;

	if (len > POL_MAX_TEXT) {
		pol_set_err(c->err, c->errsz,
		            "%s: larger than %d bytes (1 MiB)", c->file,
		            POL_MAX_TEXT);
		return -1;
	}
	if (yaml_guard_init(&g, text, len, &caps) < 0) {
		guard_failed(c, &g, text, len);
		yaml_guard_release(&g);
		return -1;
	}
	c->doc = &g.doc;
	rc = walk(c, yaml_document_get_root_node(c->doc));
	/* a second document would be silently ignored: refuse it (empty
	 * ones, as after a trailing "---", are harmless) */
	if (rc == 0 && yaml_guard_rest(&g, pol_is_null) < 0)
		rc = guard_failed(c, &g, text, len);
	c->doc = NULL;
	yaml_guard_release(&g);
	return rc;
}

/* ---- files -------------------------------------------------------- */

/* "WHATPATH: strerror(errno)" */
void pol_sys_err(char *err, size_t errsz, const char *what, const char *path)
{
	char ebuf[128];

	pol_set_err(err, errsz, "%s%s: %s", what, path,
	            util_strerror(errno, ebuf, sizeof(ebuf)));
}

/* A regular file opened for reading without blocking on a FIFO, or -1
 * with "WHATPATH: why" in err. */
int pol_open_regular(const char *path, const char *what, char *err,
                     size_t errsz)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0) {
		pol_sys_err(err, errsz, what, path);
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		pol_set_err(err, errsz, "%s%s: not a regular file", what, path);
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads until buf is full or the file ends; bytes read, or -1. */
ssize_t pol_read_full(int fd, char *buf, size_t cap)
{
	size_t n = 0;

	while (n < cap) {
		ssize_t r = read(fd, buf + n, cap - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		n += (size_t)r;
	}
	return (ssize_t)n;
}

char *pol_read_file(const char *path, size_t *len, char *err, size_t errsz)
{
	char *buf;
	ssize_t n;
	int fd = pol_open_regular(path, "", err, errsz);

	if (fd < 0)
		return NULL;
	buf = malloc(POL_MAX_TEXT + 1);
	if (buf == NULL) {
		pol_set_err(err, errsz, "%s: out of memory", path);
		close(fd);
		return NULL;
	}
	n = pol_read_full(fd, buf, POL_MAX_TEXT + 1);
	if (n < 0)
		pol_sys_err(err, errsz, "", path);
	else if (n > POL_MAX_TEXT)
		pol_set_err(err, errsz, "%s: larger than %d bytes (1 MiB)",
		            path, POL_MAX_TEXT);
	close(fd);
	if (n < 0 || n > POL_MAX_TEXT) {
		explicit_bzero(buf, n > 0 ? (size_t)n : 0);
		free(buf);
		return NULL;
	}
	*len = (size_t)n;
	return buf;
}
