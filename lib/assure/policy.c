/* policy.c - the files of `smtprobe run` (a policy: environments of
 * targets with expectations) and of `smtprobe exporter` (modules), read
 * with libyaml's document API and walked along the schema tables below
 * (docs/smtprobe-run-policy.md).
 *
 * Diagnostics: a parse returns -1 with "PATH:LINE: key.path: what is
 * wrong" in err, LINE being the 1-based line of the offending node (of
 * the anchor, for a node reached through an alias) and key.path relative
 * to the target or module ("expect.tls.min_version"), or to the file above
 * them ("environments.staging.targets[1]"); errors without a node (size,
 * memory) read "PATH: ...". Nothing is guessed or truncated: an unknown or
 * repeated key, a wrong type, a number that is not plain decimal or out of
 * range, a bad enum value (the allowed ones are listed), a control
 * character, an empty value, list or mapping, a duplicate name, a bad
 * regex and any key that would hold a secret (password, passwd, pass,
 * secret) are errors. Values of password_env and password_file are never
 * quoted in a message: they may be a secret typed in the wrong place.
 * On error the result is freed and zeroed, so it is always safe to free.
 *
 * Limits: POL_MAX_TEXT bytes of YAML, one document. Before libyaml builds
 * its tree, a pass over its events refuses nesting deeper than
 * POL_MAX_DEPTH, more than POL_MAX_NODES nodes or POL_MAX_ANCHORS anchors,
 * so loading is linear in the input. Aliases become shared nodes (no
 * expansion) and the walk follows the schema's fixed depth, so a cyclic
 * document cannot make it loop, and what aliases can multiply is bounded
 * by the caps on environments and targets (64 x 256 targets). Names, hosts,
 * paths, regexes and item counts have the caps below; a banner regex
 * that regcomp/regexec would make expensive (nested counted repetitions,
 * counts over 255, stacked quantifiers, back-references) is refused.
 *
 * smtprobe_policy_secret reads a secret when a probe runs: an environment
 * variable or the first line of a regular file; its errors name the
 * variable or file, never the value, and scratch copies are wiped. */
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "smtprobe/policy.h"
#include "util.h"

#include "banned.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define POL_MAX_TEXT       (1024 * 1024) /* bytes of YAML */
#define POL_MAX_DEPTH      16            /* nested mappings and lists */
#define POL_MAX_NODES      65536         /* values, mappings, lists, aliases */
#define POL_MAX_ANCHORS    256
#define POL_MAX_ENVS       64
#define POL_MAX_TARGETS    256 /* per environment */
#define POL_MAX_MODULES    256
#define POL_MAX_NAME       64   /* environment, target, module names */
#define POL_MAX_HOST       255  /* hosts, domains, addresses, users */
#define POL_MAX_ENVVAR     128  /* password_env */
#define POL_MAX_PATH       4096 /* after joining with the directory */
#define POL_MAX_REGEX      1024
#define POL_MAX_REGEX_COST 2000 /* estimated compiled size */
#define POL_MAX_MECH       20   /* RFC 4422 */
#define POL_MAX_KEYPATH    256
#define POL_MAX_MSG        512
#define MAX_KEYS           16 /* keys in one of our mappings */

/* ---- the schema --------------------------------------------------- */

enum vk {
	VK_NAME,   /* letters, digits, '.', '_', '-' */
	VK_HOST,   /* no space */
	VK_DOMAIN, /* no space, no '@' */
	VK_ADDR,   /* local@domain */
	VK_USER,   /* printable */
	VK_ENVVAR, /* an environment variable's name (never quoted) */
	VK_PATH,   /* made absolute (never quoted) */
	VK_REGEX,  /* POSIX extended, compiled once here */
	VK_UINT,   /* unsigned, min..max */
	VK_LONG,   /* long, min..max */
	VK_BOOL,   /* int: true or false */
	VK_ENUM,   /* int, one of a names table */
	VK_MECHS,  /* the mechanisms list */
	VK_MAP,    /* a nested mapping filling the same object */
	VK_ENVS,   /* the environments mapping */
	VK_MODS,   /* the modules mapping */
	VK_TARGETS /* an environment's targets list */
};

#define W_POL 1u /* the key belongs in a policy */
#define W_MOD 2u /* ... in a modules file */
#define W_ALL (W_POL | W_MOD)
#define F_REQ 4u /* required */
#define F_SET 8u /* set the int at .set to 1 when given */

/* value nodes remembered for checks across keys */
enum note {
	N_NONE,
	N_NAME,
	N_AUTH,
	N_PW_FILE,
	N_EXPECT,
	N_RELAY_B,
	N_RELAY_C,
	N_SUCCEEDS,
	N_LAST
};

struct enum_tab {
	const char *const *names;
	const int *values;
	size_t n;
};

struct field {
	const char *key;
	enum vk kind;
	unsigned flags;
	size_t off; /* in the object the mapping fills */
	size_t set; /* F_SET */
	long min, max;
	const struct enum_tab *e;
	const struct field *sub;
	size_t nsub;
	enum note note;
};

static const char *const tls_names[] = {"starttls", "implicit", "none",
                                        "optional"};
static const int tls_values[] = {
        SMTPROBE_POL_TLS_STARTTLS, SMTPROBE_POL_TLS_IMPLICIT,
        SMTPROBE_POL_TLS_NONE, SMTPROBE_POL_TLS_OPTIONAL};
static const struct enum_tab tls_tab = {tls_names, tls_values, 4};

static const char *const kind_names[] = {"check", "relay", "tls"};
static const int kind_values[] = {SMTPROBE_POL_CHECK, SMTPROBE_POL_RELAY,
                                  SMTPROBE_POL_TLS};
static const struct enum_tab kind_tab = {kind_names, kind_values, 3};

static const char *const proto_names[] = {"TLSv1", "TLSv1.1", "TLSv1.2",
                                          "TLSv1.3"};
static const int proto_values[] = {SMTPROBE_TP_TLS10, SMTPROBE_TP_TLS11,
                                   SMTPROBE_TP_TLS12, SMTPROBE_TP_TLS13};
static const struct enum_tab proto_tab = {proto_names, proto_values, 4};

static const char *const va_names[] = {"closed", "open"};
static const int va_values[] = {SMTPROBE_V_CLOSED, SMTPROBE_V_OPEN};
static const struct enum_tab va_tab = {va_names, va_values, 2};

static const char *const vbc_names[] = {"holds", "violated"};
static const int vbc_values[] = {SMTPROBE_V_HOLDS, SMTPROBE_V_VIOLATED};
static const struct enum_tab vbc_tab = {vbc_names, vbc_values, 2};

_Static_assert(sizeof(enum smtprobe_pol_tls) == sizeof(int) &&
                       sizeof(enum smtprobe_pol_kind) == sizeof(int) &&
                       sizeof(enum smtprobe_relay_verdict) == sizeof(int),
               "enums are stored through int pointers");

#define T     struct smtprobe_pol_target
#define AT(m) offsetof(T, m)
#define STR(k, vk, m, fl, nt)                                                  \
	{                                                                      \
		.key = k, .kind = vk, .flags = fl, .off = AT(m), .note = nt    \
	}
#define NUM(k, vk, m, lo, hi)                                                  \
	{                                                                      \
		.key = k, .kind = vk, .flags = W_ALL, .off = AT(m), .min = lo, \
		.max = hi                                                      \
	}
#define ENUM(k, m, tab, fl, s, nt)                                             \
	{                                                                      \
		.key = k, .kind = VK_ENUM, .flags = fl, .off = AT(m),          \
		.set = s, .e = &tab, .note = nt                                \
	}
#define MAP(k, tab, fl, nt)                                                    \
	{                                                                      \
		.key = k, .kind = VK_MAP, .flags = fl, .sub = tab,             \
		.nsub = NELEM(tab), .note = nt                                 \
	}

static const struct field auth_fields[] = {
        STR("user", VK_USER, auth_user, W_ALL | F_REQ, N_NONE),
        STR("password_env", VK_ENVVAR, password_env, W_ALL, N_NONE),
        STR("password_file", VK_PATH, password_file, W_ALL, N_PW_FILE),
};

static const struct field relay_fields[] = {
        ENUM("A", expect.relay[0], va_tab, W_POL | F_SET,
             AT(expect.relay_set[0]), N_NONE),
        ENUM("B", expect.relay[1], vbc_tab, W_POL | F_SET,
             AT(expect.relay_set[1]), N_RELAY_B),
        ENUM("C", expect.relay[2], vbc_tab, W_POL | F_SET,
             AT(expect.relay_set[2]), N_RELAY_C),
};

static const struct field etls_fields[] = {
        NUM("required", VK_BOOL, expect.tls_required, 0, 1),
        ENUM("min_version", expect.tls_min_version, proto_tab, W_POL, 0,
             N_NONE),
        NUM("verify", VK_BOOL, expect.tls_verify, 0, 1),
        NUM("cert_days_left_min", VK_LONG, expect.tls_cert_days_left_min, 0,
            36500),
};

static const struct field eauth_fields[] = {
        NUM("offered_in_clear", VK_BOOL, expect.auth_offered_in_clear, 0, 1),
        STR("mechanisms_include", VK_MECHS, expect.mechs_include, W_POL,
            N_NONE),
        STR("succeeds", VK_BOOL, expect.auth_succeeds, W_POL, N_SUCCEEDS),
};

static const struct field expect_fields[] = {
        MAP("relay", relay_fields, W_POL, N_NONE),
        MAP("tls", etls_fields, W_POL, N_NONE),
        MAP("auth", eauth_fields, W_POL, N_NONE),
        STR("banner", VK_REGEX, expect.banner, W_POL, N_NONE),
        NUM("max_ms", VK_LONG, expect.max_ms, 1, 3600000),
};

static const struct field target_fields[] = {
        STR("name", VK_NAME, name, W_POL | F_REQ, N_NAME),
        STR("host", VK_HOST, host, W_POL | F_REQ, N_NONE),
        ENUM("kind", kind, kind_tab, W_MOD | F_REQ, 0, N_NONE),
        NUM("port", VK_UINT, port, 1, 65535),
        ENUM("tls", tls, tls_tab, W_ALL | F_SET, AT(tls_set), N_NONE),
        STR("tls_ca_path", VK_PATH, tls_ca_path, W_ALL, N_NONE),
        STR("local_domain", VK_DOMAIN, local_domain, W_ALL, N_NONE),
        MAP("auth", auth_fields, W_ALL, N_AUTH),
        STR("other_sender", VK_ADDR, other_sender, W_ALL, N_NONE),
        STR("helo", VK_DOMAIN, helo, W_ALL, N_NONE),
        STR("external_domain", VK_DOMAIN, external_domain, W_ALL, N_NONE),
        NUM("timeout", VK_UINT, timeout_s, 1, 600),
        MAP("expect", expect_fields, W_POL, N_EXPECT),
};
#undef T

static const struct field env_fields[] = {
        {.key = "targets", .kind = VK_TARGETS, .flags = W_POL | F_REQ},
};

static const struct field root_fields[] = {
        {.key = "environments", .kind = VK_ENVS, .flags = W_POL | F_REQ},
        {.key = "modules", .kind = VK_MODS, .flags = W_MOD | F_REQ},
};

_Static_assert(NELEM(target_fields) <= MAX_KEYS, "a mapping over MAX_KEYS");

/* Keys that would put a secret in the file. */
static const char *const secret_keys[] = {"password", "passwd", "pass",
                                          "secret"};

/* ---- context and errors ------------------------------------------- */

struct pctx {
	yaml_document_t docs[2]; /* the document, and one after it */
	yaml_document_t *doc;    /* the one being read */
	struct smtprobe_policy *p;
	const char *file;   /* in messages */
	const char *anchor; /* its directory anchors relative paths; NULL:
	                       the working directory */
	unsigned mode;      /* W_POL or W_MOD */
	const char *env;    /* the environment being read */
	const yaml_node_t *note[N_LAST];
	char *err;
	size_t errsz;
};

/* Quoting a value: at most 64 bytes of it. */
#define QFMT    "'%.64s%s'"
#define QARG(s) (s), (strlen(s) > 64 ? "..." : "")

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

static void set_err(char *err, size_t errsz, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	if (errsz == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
	printable(err);
}

static unsigned long line_of(const yaml_node_t *n)
{
	return n ? (unsigned long)n->start_mark.line + 1 : 1;
}

static int fail(struct pctx *c, const yaml_node_t *n, const char *kp,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail(struct pctx *c, const yaml_node_t *n, const char *kp,
                const char *fmt, ...)
{
	char msg[POL_MAX_MSG];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	set_err(c->err, c->errsz, "%s:%lu: %s%s%s", c->file, line_of(n),
	        kp ? kp : "", kp ? ": " : "", msg);
	return -1;
}

static const yaml_node_t *node(const struct pctx *c, int i)
{
	return yaml_document_get_node(c->doc, i);
}

/* A plain empty scalar, "~" or "null": the YAML null. */
static int is_null(const yaml_node_t *n)
{
	const char *s = (const char *)n->data.scalar.value;

	if (n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	return n->data.scalar.length == 0 || strcmp(s, "~") == 0 ||
	       strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
	       strcmp(s, "NULL") == 0;
}

static const char *node_type(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return is_null(n) ? "an empty value" : "a value";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

static void keypath(char *out, const char *at, const char *key)
{
	snprintf(out, POL_MAX_KEYPATH, "%s%s%.64s%s", at, *at ? "." : "", key,
	         strlen(key) > 64 ? "..." : "");
}

/* ---- values ------------------------------------------------------- */

/* A scalar as a C string: no embedded NUL (a "\0" escape). */
static int scalar(struct pctx *c, const yaml_node_t *n, const char *kp,
                  const char **s, size_t *len)
{
	if (n->type != YAML_SCALAR_NODE)
		return fail(c, n, kp, "expected a value, got %s", node_type(n));
	*s = (const char *)n->data.scalar.value;
	*len = n->data.scalar.length;
	if (memchr(*s, '\0', *len) != NULL)
		return fail(c, n, kp, "NUL character in the value");
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

static int only(const char *s, size_t len, const char *extra)
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

/* Past a bracket expression (s at its '['), or NULL when it is not
 * closed (regcomp then says so). */
static const char *skip_bracket(const char *s)
{
	s++;
	if (*s == '^')
		s++;
	if (*s == ']')
		s++;
	while (*s != '\0' && *s != ']') {
		if (*s == '[' && (s[1] == ':' || s[1] == '.' || s[1] == '=')) {
			const char close[3] = {s[1], ']', '\0'};
			const char *end = strstr(s + 2, close);

			if (end == NULL)
				return NULL;
			s = end + 2;
		} else {
			s++;
		}
	}
	return *s != '\0' ? s + 1 : NULL;
}

/* Decimal digits at *s (capped), *s moved past them. */
static unsigned long digits(const char **s)
{
	unsigned long v = 0;

	for (; **s >= '0' && **s <= '9'; (*s)++) {
		if (v < 100000)
			v = v * 10 + (unsigned long)(**s - '0');
	}
	return v;
}

/* Whether glibc's regcomp and regexec stay cheap on s: its automaton
 * copies a group once per repetition, so "(a{255}){255}" has 65025 nodes
 * and one more level a few GB; stacked quantifiers ("a??????++++++": 1.3
 * s), undefined in POSIX EREs, blow up its closure computation; and
 * back-references (a GNU extension) make matching exponential. The
 * estimate is the product of the counts along nested groups, summed
 * along a sequence. 0, or -1 with why. */
static int regex_cost(const char *s, const char **why)
{
	unsigned long total[POL_MAX_DEPTH + 1], last[POL_MAX_DEPTH + 1];
	size_t d = 0;
	int quant = 0; /* the previous token was a quantifier */

	total[0] = last[0] = 0;
	while (*s != '\0') {
		unsigned long mult = 0, lo, hi;

		if (*s == '*' || *s == '+' || *s == '?') {
			mult = 2;
			s++;
		} else if (*s == '{' &&
		           ((s[1] >= '0' && s[1] <= '9') || s[1] == ',')) {
			s++;
			lo = hi = digits(&s);
			if (*s == ',') {
				s++;
				hi = *s >= '0' && *s <= '9' ? digits(&s) : lo;
			}
			if (lo > 255 || hi > 255) {
				*why = "repetition counts above 255 are not "
				       "supported";
				return -1;
			}
			mult = (hi > lo ? hi : lo) + 1;
			if (*s == '}')
				s++;
		}
		if (mult > 0) {
			if (quant) {
				*why = "stacked quantifiers (such as a+* or "
				       "a{2}?) are not supported";
				return -1;
			}
			quant = 1;
			last[d] *= mult;
		} else if (*s == '(') {
			quant = 0;
			if (++d > POL_MAX_DEPTH) {
				*why = "groups nested too deeply";
				return -1;
			}
			total[d] = last[d] = 0;
			s++;
		} else if (*s == ')' && d > 0) {
			unsigned long g = total[d] + last[d] + 1;

			quant = 0;
			d--;
			total[d] += last[d];
			last[d] = g;
			s++;
		} else {
			quant = 0;
			if (*s == '\\' && s[1] >= '1' && s[1] <= '9') {
				*why = "back-references are not supported";
				return -1;
			}
			if (*s == '[') {
				s = skip_bracket(s);
				if (s == NULL)
					return 0;
			} else {
				s += *s == '\\' && s[1] != '\0' ? 2 : 1;
			}
			total[d] += last[d];
			last[d] = 1;
		}
		if (last[d] > POL_MAX_REGEX_COST ||
		    total[d] > POL_MAX_REGEX_COST) {
			*why = "too many repetitions (it would compile to a "
			       "very large automaton)";
			return -1;
		}
	}
	return 0;
}

static int check_regex(struct pctx *c, const yaml_node_t *n, const char *kp,
                       const char *s)
{
	const char *why = NULL;
	regex_t re;
	int rc;

	if (regex_cost(s, &why) < 0)
		return fail(c, n, kp, "%s in " QFMT, why, QARG(s));
	rc = regcomp(&re, s, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		char msg[128];

		regerror(rc, &re, msg, sizeof(msg));
		return fail(c, n, kp,
		            QFMT " is not a POSIX extended regular "
		                 "expression: %s",
		            QARG(s), msg);
	}
	regfree(&re);
	return 0;
}

/* rel made absolute against the directory of c->anchor (or the working
 * directory), "./" prefixes dropped. */
static int resolve_path(struct pctx *c, const yaml_node_t *n, const char *kp,
                        const char *rel, char **out)
{
	char cwd[POL_MAX_PATH], *buf;
	const char *dir = "", *slash;
	size_t dlen = 0, need;
	int len;

	if (rel[0] == '/') {
		*out = strdup(rel);
		return *out ? 0 : fail(c, n, NULL, "out of memory");
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

			return fail(c, n, kp,
			            "cannot make the path absolute: %s",
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
		return fail(c, n, kp, "path longer than %d bytes once joined",
		            POL_MAX_PATH - 1);
	buf = malloc(need);
	if (buf == NULL)
		return fail(c, n, NULL, "out of memory");
	/* cwd "/" and an absolute dir's "" leave a lone separator */
	len = snprintf(buf, need, "%s%s%.*s%s%s", cwd,
	               cwd[0] != '\0' && strcmp(cwd, "/") != 0 ? "/" : "",
	               (int)dlen, dir,
	               dlen > 0 || (cwd[0] == '\0' && slash != NULL) ? "/" : "",
	               rel);
	if (len < 0 || (size_t)len >= need) {
		free(buf);
		return fail(c, n, kp, "path too long");
	}
	*out = buf;
	return 0;
}

static int get_text(struct pctx *c, const yaml_node_t *n, const char *kp,
                    enum vk kind, char **out)
{
	size_t len, cap = POL_MAX_HOST;
	const char *s, *at;

	if (scalar(c, n, kp, &s, &len) < 0)
		return -1;
	if (len == 0 || is_null(n))
		return fail(c, n, kp, "empty value");
	if (has_control(s, len))
		return fail(c, n, kp, "control character in the value");
	switch (kind) {
	case VK_NAME:
		cap = POL_MAX_NAME;
		if (!only(s, len, "._-"))
			return fail(c, n, kp,
			            QFMT " is not a valid name (letters, "
			                 "digits, '.', '_' and '-')",
			            QARG(s));
		break;
	case VK_HOST:
	case VK_DOMAIN:
		if (strchr(s, ' ') != NULL)
			return fail(c, n, kp, "space in " QFMT, QARG(s));
		if (kind == VK_DOMAIN && strchr(s, '@') != NULL)
			return fail(c, n, kp, QFMT " is not a domain", QARG(s));
		break;
	case VK_ADDR:
		at = strrchr(s, '@');
		if (strpbrk(s, " <>") != NULL || at == NULL || at == s ||
		    at[1] == '\0')
			return fail(c, n, kp,
			            QFMT " is not an address (local@domain, "
			                 "no brackets)",
			            QARG(s));
		break;
	case VK_ENVVAR:
		cap = POL_MAX_ENVVAR;
		if (!only(s, len, "_") || (s[0] >= '0' && s[0] <= '9'))
			return fail(c, n, kp,
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
		return fail(c, n, kp, "longer than %zu bytes", cap);
	if (kind == VK_REGEX && check_regex(c, n, kp, s) < 0)
		return -1;
	if (kind == VK_PATH)
		return resolve_path(c, n, kp, s, out);
	*out = strdup(s);
	return *out ? 0 : fail(c, n, NULL, "out of memory");
}

/* Plain decimal digits, no sign, no leading zero: YAML 1.1 would read
 * "010" as octal, and "1e3" or "0x10" are not what anyone checks. */
static int get_num(struct pctx *c, const yaml_node_t *n, const char *kp,
                   long min, long max, long *out)
{
	const char *s;
	size_t len, i;
	long v = 0;

	if (scalar(c, n, kp, &s, &len) < 0)
		return -1;
	if (len == 0 || strspn(s, "0123456789") != len ||
	    (len > 1 && s[0] == '0'))
		return fail(
		        c, n, kp,
		        "expected a whole number from %ld to %ld, got " QFMT,
		        min, max, QARG(s));
	for (i = 0; i < len; i++) {
		v = v * 10 + (s[i] - '0');
		if (v > max)
			break;
	}
	if (v < min || v > max)
		return fail(c, n, kp, QFMT " is out of range (%ld to %ld)",
		            QARG(s), min, max);
	*out = v;
	return 0;
}

static int get_bool(struct pctx *c, const yaml_node_t *n, const char *kp,
                    int *out)
{
	const char *s;
	size_t len;

	if (scalar(c, n, kp, &s, &len) < 0)
		return -1;
	if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0) {
		*out = s[0] == 't';
		return 0;
	}
	return fail(c, n, kp,
	            "expected true or false, got " QFMT
	            " (only true and false are accepted)",
	            QARG(s));
}

static int get_enum(struct pctx *c, const yaml_node_t *n, const char *kp,
                    const struct enum_tab *e, int *out)
{
	char list[128];
	const char *s;
	size_t len, i, used = 0;

	if (scalar(c, n, kp, &s, &len) < 0)
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
	return fail(c, n, kp, QFMT " is not one of %s", QARG(s), list);
}

/* A list's items: a sequence of 1..max. */
static int items(struct pctx *c, const yaml_node_t *n, const char *kp,
                 size_t max, size_t *count)
{
	if (n->type != YAML_SEQUENCE_NODE)
		return fail(c, n, kp, "expected a list, got %s", node_type(n));
	*count = (size_t)(n->data.sequence.items.top -
	                  n->data.sequence.items.start);
	if (*count == 0)
		return fail(c, n, kp, "empty list");
	if (*count > max)
		return fail(c, n, kp, "too many items (%zu, at most %zu)",
		            *count, max);
	return 0;
}

/* SASL mechanism names (RFC 4422: 1-20 of A-Z 0-9 - _), upper-cased. */
static int get_mechs(struct pctx *c, const yaml_node_t *n, const char *kp,
                     struct smtprobe_pol_expect *e)
{
	size_t count, i, j;

	if (items(c, n, kp, SMTPROBE_POL_MAX_MECHS, &count) < 0)
		return -1;
	for (i = 0; i < count; i++) {
		const yaml_node_t *it =
		        node(c, n->data.sequence.items.start[i]);
		const char *s;
		size_t len;
		char *m;

		if (scalar(c, it, kp, &s, &len) < 0)
			return -1;
		if (len == 0 || len > POL_MAX_MECH || !only(s, len, "-_"))
			return fail(c, it, kp,
			            QFMT " is not a SASL mechanism name (1 to "
			                 "20 letters, digits, '-' and '_')",
			            QARG(s));
		m = strdup(s);
		if (m == NULL)
			return fail(c, it, NULL, "out of memory");
		for (j = 0; j < len; j++) {
			if (m[j] >= 'a' && m[j] <= 'z')
				m[j] = (char)(m[j] - 'a' + 'A');
		}
		e->mechs_include[e->nmechs++] = m;
		for (j = 0; j + 1 < e->nmechs; j++) {
			if (strcmp(e->mechs_include[j], m) == 0)
				return fail(c, it, kp, "%s is listed twice", m);
		}
	}
	return 0;
}

/* ---- mappings ----------------------------------------------------- */

static int walk_map(struct pctx *c, const yaml_node_t *n, const char *what,
                    const char *at, const struct field *fs, size_t nf,
                    void *base);
static int get_envs(struct pctx *c, const yaml_node_t *n);
static int get_modules(struct pctx *c, const yaml_node_t *n);
static int get_targets(struct pctx *c, const yaml_node_t *n, const char *kp,
                       struct smtprobe_pol_env *e);

static int apply(struct pctx *c, const struct field *f, const yaml_node_t *v,
                 const char *kp, void *base)
{
	void *at = (char *)base + f->off;
	long num = 0;

	switch (f->kind) {
	case VK_NAME:
	case VK_HOST:
	case VK_DOMAIN:
	case VK_ADDR:
	case VK_USER:
	case VK_ENVVAR:
	case VK_PATH:
	case VK_REGEX:
		return get_text(c, v, kp, f->kind, at);
	case VK_UINT:
	case VK_LONG:
		if (get_num(c, v, kp, f->min, f->max, &num) < 0)
			return -1;
		if (f->kind == VK_UINT)
			*(unsigned *)at = (unsigned)num;
		else
			*(long *)at = num;
		return 0;
	case VK_BOOL:
		return get_bool(c, v, kp, at);
	case VK_ENUM:
		if (get_enum(c, v, kp, f->e, at) < 0)
			return -1;
		if (f->flags & F_SET)
			*(int *)(void *)((char *)base + f->set) = 1;
		return 0;
	case VK_MECHS:
		return get_mechs(c, v, kp,
		                 &((struct smtprobe_pol_target *)base)->expect);
	case VK_MAP:
		return walk_map(c, v, kp, kp, f->sub, f->nsub, base);
	case VK_ENVS:
		return get_envs(c, v);
	case VK_MODS:
		return get_modules(c, v);
	case VK_TARGETS:
		return get_targets(c, v, kp, base);
	}
	return fail(c, v, kp, "internal error");
}

static int is_secret_key(const char *key)
{
	size_t i;

	for (i = 0; i < NELEM(secret_keys); i++) {
		if (strcasecmp(key, secret_keys[i]) == 0)
			return 1;
	}
	return 0;
}

static int unknown_key(struct pctx *c, const yaml_node_t *k, const char *what,
                       const char *kp, const char *key, const struct field *fs,
                       size_t nf)
{
	char list[256];
	size_t i, used = 0;

	if (is_secret_key(key))
		return fail(c, k, kp,
		            "inline secrets are refused; use password_env (an "
		            "environment variable) or password_file");
	if (strcmp(key, "<<") == 0)
		return fail(c, k, what,
		            "merge keys (<<) are not supported; alias a whole "
		            "value instead");
	list[0] = '\0';
	for (i = 0; i < nf && used < sizeof(list); i++) {
		int n;

		if (!(fs[i].flags & c->mode))
			continue;
		n = snprintf(list + used, sizeof(list) - used, "%s%s",
		             used ? ", " : "", fs[i].key);
		used += n > 0 ? (size_t)n : 0;
	}
	return fail(c, k, kp, "unknown key (expected %s)", list);
}

/* Walks a mapping filling base: every key known and in this kind of
 * file, none twice, the required ones there. what names the mapping in
 * errors, at prefixes its keys. */
static int walk_map(struct pctx *c, const yaml_node_t *n, const char *what,
                    const char *at, const struct field *fs, size_t nf,
                    void *base)
{
	const yaml_node_t *seen[MAX_KEYS] = {NULL};
	const yaml_node_t *keys[MAX_KEYS] = {NULL};
	char kp[POL_MAX_KEYPATH];
	yaml_node_pair_t *pair;
	size_t i;

	if (n->type != YAML_MAPPING_NODE)
		return fail(c, n, what, "expected a mapping, got %s",
		            node_type(n));
	for (pair = n->data.mapping.pairs.start;
	     pair < n->data.mapping.pairs.top; pair++) {
		const yaml_node_t *k = node(c, pair->key);
		const yaml_node_t *v = node(c, pair->value);
		const char *key;
		size_t klen;

		if (k->type != YAML_SCALAR_NODE)
			return fail(c, k, what, "a key must be a value, got %s",
			            node_type(k));
		if (scalar(c, k, what, &key, &klen) < 0)
			return -1;
		keypath(kp, at, key);
		for (i = 0; i < nf; i++) {
			if (strcmp(key, fs[i].key) == 0)
				break;
		}
		if (i == nf)
			return unknown_key(c, k, what, kp, key, fs, nf);
		if (!(fs[i].flags & c->mode))
			return fail(c, k, kp,
			            c->mode == W_POL
			                    ? "belongs in a modules file, not "
			                      "in a policy"
			                    : "belongs in a policy, not in a "
			                      "modules file");
		if (seen[i] != NULL)
			return fail(c, k, kp,
			            "duplicate key (first at line %lu)",
			            line_of(keys[i]));
		seen[i] = v;
		keys[i] = k;
		if (fs[i].note != N_NONE)
			c->note[fs[i].note] = v;
		if (apply(c, &fs[i], v, kp, base) < 0)
			return -1;
	}
	for (i = 0; i < nf; i++) {
		if ((fs[i].flags & c->mode) && (fs[i].flags & F_REQ) &&
		    seen[i] == NULL) {
			keypath(kp, at, fs[i].key);
			return fail(c, n, kp, "required key missing");
		}
	}
	if (n->data.mapping.pairs.top == n->data.mapping.pairs.start)
		return fail(c, n, what, "empty mapping (leave the key out)");
	return 0;
}

static void target_init(struct smtprobe_pol_target *t)
{
	struct smtprobe_pol_expect *e = &t->expect;

	memset(t, 0, sizeof(*t));
	t->kind = SMTPROBE_POL_CHECK;
	e->tls_required = e->tls_min_version = e->tls_verify = -1;
	e->auth_offered_in_clear = e->auth_succeeds = -1;
	e->tls_cert_days_left_min = e->max_ms = -1;
}

/* What a target or module needs across its keys, and its defaults. */
static int target_finish(struct pctx *c, struct smtprobe_pol_target *t)
{
	static const char need_auth[] =
	        "needs auth credentials (auth: user and password_env or "
	        "password_file)";

	if (c->note[N_AUTH] != NULL) {
		if (t->password_env != NULL && t->password_file != NULL)
			return fail(c, c->note[N_PW_FILE], "auth",
			            "give password_env or password_file, not "
			            "both");
		if (t->password_env == NULL && t->password_file == NULL)
			return fail(c, c->note[N_AUTH], "auth",
			            "password_env or password_file is "
			            "required (secrets are never written in "
			            "the file)");
	}
	if (t->auth_user == NULL) {
		if (c->note[N_SUCCEEDS] != NULL)
			return fail(c, c->note[N_SUCCEEDS],
			            "expect.auth.succeeds", "%s", need_auth);
		if (c->note[N_RELAY_B] != NULL)
			return fail(c, c->note[N_RELAY_B], "expect.relay.B",
			            "scenario B %s", need_auth);
		if (c->note[N_RELAY_C] != NULL)
			return fail(c, c->note[N_RELAY_C], "expect.relay.C",
			            "scenario C %s", need_auth);
	}
	if (!t->tls_set)
		t->tls = t->port == 465 ? SMTPROBE_POL_TLS_IMPLICIT
		                        : SMTPROBE_POL_TLS_STARTTLS;
	t->expect.any = c->note[N_EXPECT] != NULL;
	return 0;
}

static int get_targets(struct pctx *c, const yaml_node_t *n, const char *kp,
                       struct smtprobe_pol_env *e)
{
	char ip[POL_MAX_KEYPATH + 24];
	size_t count, i, j;

	if (items(c, n, kp, POL_MAX_TARGETS, &count) < 0)
		return -1;
	e->targets = calloc(count, sizeof(*e->targets));
	if (e->targets == NULL)
		return fail(c, n, NULL, "out of memory");
	for (i = 0; i < count; i++) {
		const yaml_node_t *it =
		        node(c, n->data.sequence.items.start[i]);
		struct smtprobe_pol_target *t = &e->targets[i];

		snprintf(ip, sizeof(ip), "%s[%zu]", kp, i);
		target_init(t);
		e->ntargets = i + 1;
		t->line = (int)line_of(it);
		memset(c->note, 0, sizeof(c->note));
		if (walk_map(c, it, ip, "", target_fields, NELEM(target_fields),
		             t) < 0)
			return -1;
		for (j = 0; j < i; j++) {
			if (strcmp(e->targets[j].name, t->name) == 0)
				return fail(
				        c, c->note[N_NAME], "name",
				        "duplicate target '%s' in "
				        "environment '%s' (first at line %d)",
				        t->name, c->env, e->targets[j].line);
		}
		if (target_finish(c, t) < 0)
			return -1;
	}
	return 0;
}

/* A mapping of names (environments, modules): 1..max pairs. */
static int named(struct pctx *c, const yaml_node_t *n, const char *kp,
                 size_t max, size_t *count)
{
	if (n->type != YAML_MAPPING_NODE)
		return fail(c, n, kp, "expected a mapping of names, got %s",
		            node_type(n));
	*count = (size_t)(n->data.mapping.pairs.top -
	                  n->data.mapping.pairs.start);
	if (*count == 0)
		return fail(c, n, kp, "empty mapping (at least one name)");
	if (*count > max)
		return fail(c, n, kp, "too many entries (%zu, at most %zu)",
		            *count, max);
	return 0;
}

static int get_envs(struct pctx *c, const yaml_node_t *n)
{
	struct smtprobe_policy *p = c->p;
	char kp[POL_MAX_KEYPATH];
	size_t count, i, j;

	if (named(c, n, "environments", POL_MAX_ENVS, &count) < 0)
		return -1;
	p->envs = calloc(count, sizeof(*p->envs));
	if (p->envs == NULL)
		return fail(c, n, NULL, "out of memory");
	for (i = 0; i < count; i++) {
		const yaml_node_pair_t *pair = &n->data.mapping.pairs.start[i];
		const yaml_node_t *k = node(c, pair->key);
		struct smtprobe_pol_env *e = &p->envs[i];

		p->nenvs = i + 1;
		if (get_text(c, k, "environments", VK_NAME, &e->name) < 0)
			return -1;
		e->line = (int)line_of(k);
		snprintf(kp, sizeof(kp), "environments.%s", e->name);
		for (j = 0; j < i; j++) {
			if (strcmp(p->envs[j].name, e->name) == 0)
				return fail(c, k, kp,
				            "duplicate environment (first at "
				            "line %d)",
				            p->envs[j].line);
		}
		c->env = e->name;
		if (walk_map(c, node(c, pair->value), kp, kp, env_fields,
		             NELEM(env_fields), e) < 0)
			return -1;
	}
	return 0;
}

static int get_modules(struct pctx *c, const yaml_node_t *n)
{
	struct smtprobe_policy *p = c->p;
	char kp[POL_MAX_KEYPATH];
	size_t count, i, j;

	if (named(c, n, "modules", POL_MAX_MODULES, &count) < 0)
		return -1;
	p->modules = calloc(count, sizeof(*p->modules));
	if (p->modules == NULL)
		return fail(c, n, NULL, "out of memory");
	for (i = 0; i < count; i++) {
		const yaml_node_pair_t *pair = &n->data.mapping.pairs.start[i];
		const yaml_node_t *k = node(c, pair->key);
		struct smtprobe_pol_target *t = &p->modules[i];

		target_init(t);
		p->nmodules = i + 1;
		if (get_text(c, k, "modules", VK_NAME, &t->name) < 0)
			return -1;
		t->line = (int)line_of(k);
		snprintf(kp, sizeof(kp), "modules.%s", t->name);
		for (j = 0; j < i; j++) {
			if (strcmp(p->modules[j].name, t->name) == 0)
				return fail(
				        c, k, kp,
				        "duplicate module (first at line %d)",
				        p->modules[j].line);
		}
		memset(c->note, 0, sizeof(c->note));
		if (walk_map(c, node(c, pair->value), kp, "", target_fields,
		             NELEM(target_fields), t) < 0 ||
		    target_finish(c, t) < 0)
			return -1;
	}
	return 0;
}

/* ---- the document ------------------------------------------------- */

static int yaml_failed(struct pctx *c, const yaml_parser_t *y, const char *text,
                       size_t len)
{
	unsigned long line;
	char ctx[96] = "";

	if (y->error == YAML_MEMORY_ERROR) {
		set_err(c->err, c->errsz, "%s: out of memory", c->file);
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
	set_err(c->err, c->errsz, "%s:%lu: invalid YAML: %s%s", c->file, line,
	        y->problem ? y->problem : "malformed", ctx);
	return -1;
}

/* The shape of the stream from libyaml's events, before any tree is
 * built: each event costs O(1) once nesting is bounded. A YAML error is
 * left to the loader, which stops at the same place. */
static int prescan(struct pctx *c, const char *text, size_t len)
{
	yaml_parser_t y;
	yaml_event_t ev;
	unsigned depth = 0, nodes = 0, anchors = 0;
	const char *what = NULL;
	int done = 0, limit = 0;

	if (!yaml_parser_initialize(&y)) {
		set_err(c->err, c->errsz, "%s: out of memory", c->file);
		return -1;
	}
	yaml_parser_set_input_string(&y, (const unsigned char *)text, len);
	while (!done && what == NULL && yaml_parser_parse(&y, &ev)) {
		const yaml_char_t *anchor = NULL;

		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			anchor = ev.type == YAML_SEQUENCE_START_EVENT
			                 ? ev.data.sequence_start.anchor
			                 : ev.data.mapping_start.anchor;
			if (++depth > POL_MAX_DEPTH) {
				what = "nesting deeper than";
				limit = POL_MAX_DEPTH;
			}
			/* fall through */
		case YAML_SCALAR_EVENT:
		case YAML_ALIAS_EVENT:
			if (ev.type == YAML_SCALAR_EVENT)
				anchor = ev.data.scalar.anchor;
			if (what == NULL && ++nodes > POL_MAX_NODES) {
				what = "more YAML nodes than";
				limit = POL_MAX_NODES;
			}
			if (what == NULL && anchor != NULL &&
			    ++anchors > POL_MAX_ANCHORS) {
				what = "more anchors than";
				limit = POL_MAX_ANCHORS;
			}
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		default:
			break;
		}
		if (what != NULL)
			set_err(c->err, c->errsz, "%s:%lu: %s %d", c->file,
			        (unsigned long)ev.start_mark.line + 1, what,
			        limit);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&y);
	return what != NULL ? -1 : 0;
}

static int parse_doc(struct pctx *c, const char *text, size_t len)
{
	yaml_parser_t y;
	const yaml_node_t *root;
	const char *top = c->mode == W_POL ? "environments" : "modules";
	int rc = -1;

	if (len > POL_MAX_TEXT) {
		set_err(c->err, c->errsz, "%s: larger than %d bytes (1 MiB)",
		        c->file, POL_MAX_TEXT);
		return -1;
	}
	if (prescan(c, text, len) < 0)
		return -1;
	if (!yaml_parser_initialize(&y)) {
		set_err(c->err, c->errsz, "%s: out of memory", c->file);
		return -1;
	}
	yaml_parser_set_input_string(&y, (const unsigned char *)text, len);
	if (!yaml_parser_load(&y, &c->docs[0])) {
		yaml_failed(c, &y, text, len);
		yaml_parser_delete(&y);
		return -1;
	}
	c->doc = &c->docs[0];
	root = yaml_document_get_root_node(c->doc);
	if (root == NULL || is_null(root))
		fail(c, root, top, "required key missing (the file is empty)");
	else if (root->type != YAML_MAPPING_NODE)
		fail(c, root, NULL,
		     "expected a mapping with the key %s, got %s", top,
		     node_type(root));
	else
		rc = walk_map(c, root, "top level", "", root_fields,
		              NELEM(root_fields), c->p);
	/* a second document would be silently ignored: refuse it (empty
	 * ones, as after a trailing "---", are harmless) */
	while (rc == 0) {
		const yaml_node_t *r2;

		if (!yaml_parser_load(&y, &c->docs[1])) {
			rc = yaml_failed(c, &y, text, len);
			break;
		}
		r2 = yaml_document_get_root_node(&c->docs[1]);
		if (r2 != NULL && !is_null(r2)) {
			c->doc = &c->docs[1];
			rc = fail(c, r2, NULL, "more than one YAML document");
		}
		yaml_document_delete(&c->docs[1]);
		if (r2 == NULL)
			break;
	}
	c->doc = NULL;
	yaml_document_delete(&c->docs[0]);
	yaml_parser_delete(&y);
	return rc;
}

static int parse(const char *text, size_t len, const char *path, unsigned mode,
                 struct smtprobe_policy *out, char *err, size_t errsz)
{
	struct pctx c;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	c.p = out;
	c.file = path ? path : "-";
	c.anchor = path;
	c.mode = mode;
	c.err = err;
	c.errsz = errsz;
	if (errsz > 0)
		err[0] = '\0';
	if (path != NULL && (out->path = strdup(path)) == NULL) {
		set_err(err, errsz, "%s: out of memory", c.file);
		return -1;
	}
	if (parse_doc(&c, text ? text : "", text ? len : 0) < 0) {
		smtprobe_policy_free(out);
		return -1;
	}
	return 0;
}

int smtprobe_policy_parse(const char *text, size_t len, const char *path,
                          struct smtprobe_policy *out, char *err, size_t errsz)
{
	return parse(text, len, path, W_POL, out, err, errsz);
}

int smtprobe_modules_parse(const char *text, size_t len, const char *path,
                           struct smtprobe_policy *out, char *err, size_t errsz)
{
	return parse(text, len, path, W_MOD, out, err, errsz);
}

/* ---- files -------------------------------------------------------- */

/* "WHATPATH: strerror(errno)" */
static void sys_err(char *err, size_t errsz, const char *what, const char *path)
{
	char ebuf[128];

	set_err(err, errsz, "%s%s: %s", what, path,
	        util_strerror(errno, ebuf, sizeof(ebuf)));
}

/* A regular file opened for reading without blocking on a FIFO, or -1
 * with "WHATPATH: why" in err. */
static int open_regular(const char *path, const char *what, char *err,
                        size_t errsz)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0) {
		sys_err(err, errsz, what, path);
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		set_err(err, errsz, "%s%s: not a regular file", what, path);
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads until buf is full or the file ends; bytes read, or -1. */
static ssize_t read_full(int fd, char *buf, size_t cap)
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

static int load(const char *path, unsigned mode, struct smtprobe_policy *out,
                char *err, size_t errsz)
{
	char *buf;
	ssize_t n;
	int fd, rc;

	memset(out, 0, sizeof(*out));
	fd = open_regular(path, "", err, errsz);
	if (fd < 0)
		return -1;
	buf = malloc(POL_MAX_TEXT + 1);
	if (buf == NULL) {
		set_err(err, errsz, "%s: out of memory", path);
		close(fd);
		return -1;
	}
	n = read_full(fd, buf, POL_MAX_TEXT + 1);
	if (n < 0)
		sys_err(err, errsz, "", path);
	else if (n > POL_MAX_TEXT)
		set_err(err, errsz, "%s: larger than %d bytes (1 MiB)", path,
		        POL_MAX_TEXT);
	close(fd);
	rc = n < 0 || n > POL_MAX_TEXT
	             ? -1
	             : parse(buf, (size_t)n, path, mode, out, err, errsz);
	/* an inline secret, refused, may still be in there */
	explicit_bzero(buf, n > 0 ? (size_t)n : 0);
	free(buf);
	return rc;
}

int smtprobe_policy_load(const char *path, struct smtprobe_policy *out,
                         char *err, size_t errsz)
{
	return load(path, W_POL, out, err, errsz);
}

int smtprobe_modules_load(const char *path, struct smtprobe_policy *out,
                          char *err, size_t errsz)
{
	return load(path, W_MOD, out, err, errsz);
}

/* ---- the result --------------------------------------------------- */

static void target_release(struct smtprobe_pol_target *t)
{
	size_t i;

	free(t->name);
	free(t->host);
	free(t->tls_ca_path);
	free(t->local_domain);
	free(t->helo);
	free(t->auth_user);
	free(t->password_env);
	free(t->password_file);
	free(t->other_sender);
	free(t->external_domain);
	for (i = 0; i < t->expect.nmechs; i++)
		free(t->expect.mechs_include[i]);
	free(t->expect.banner);
}

void smtprobe_policy_free(struct smtprobe_policy *p)
{
	size_t i, j;

	if (p == NULL)
		return;
	for (i = 0; i < p->nenvs; i++) {
		for (j = 0; j < p->envs[i].ntargets; j++)
			target_release(&p->envs[i].targets[j]);
		free(p->envs[i].targets);
		free(p->envs[i].name);
	}
	free(p->envs);
	for (i = 0; i < p->nmodules; i++)
		target_release(&p->modules[i]);
	free(p->modules);
	free(p->path);
	memset(p, 0, sizeof(*p));
}

const struct smtprobe_pol_env *
smtprobe_policy_env(const struct smtprobe_policy *p, const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < p->nenvs; i++) {
		if (strcmp(p->envs[i].name, name) == 0)
			return &p->envs[i];
	}
	return NULL;
}

const struct smtprobe_pol_target *
smtprobe_policy_module(const struct smtprobe_policy *p, const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < p->nmodules; i++) {
		if (strcmp(p->modules[i].name, name) == 0)
			return &p->modules[i];
	}
	return NULL;
}

/* ---- secrets ------------------------------------------------------ */

static int secret_file(const char *path, char *buf, size_t bufsz, char *err,
                       size_t errsz)
{
	char extra;
	const char *nl;
	ssize_t n;
	size_t len;
	int fd = open_regular(path, "password_file ", err, errsz);

	if (fd < 0)
		return -1;
	n = read_full(fd, buf, bufsz - 1);
	if (n < 0) {
		sys_err(err, errsz, "password_file ", path);
		close(fd);
		return -1;
	}
	nl = memchr(buf, '\n', (size_t)n);
	len = nl ? (size_t)(nl - buf) : (size_t)n;
	/* a full buffer is fine only when the line ends right there */
	if (nl == NULL && (size_t)n == bufsz - 1 &&
	    read_full(fd, &extra, 1) == 1 && extra != '\n' && extra != '\r') {
		close(fd);
		set_err(err, errsz,
		        "password_file %s: the secret is longer than %zu bytes",
		        path, bufsz - 1);
		return -1;
	}
	close(fd);
	/* only the first line is the secret: wipe what followed it */
	explicit_bzero(buf + len, (size_t)n - len);
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	if (memchr(buf, '\0', len) != NULL) {
		set_err(err, errsz, "password_file %s: NUL byte in the secret",
		        path);
		return -1;
	}
	if (len == 0) {
		set_err(err, errsz, "password_file %s: the first line is empty",
		        path);
		return -1;
	}
	return 0;
}

int smtprobe_policy_secret(const struct smtprobe_pol_target *t,
                           smtprobe_env_fn env, char *buf, size_t bufsz,
                           char *err, size_t errsz)
{
	const char *v;
	size_t len;

	if (errsz > 0)
		err[0] = '\0';
	if (bufsz > 0)
		buf[0] = '\0';
	if (t->password_env == NULL && t->password_file == NULL)
		return 1;
	if (bufsz < 2) {
		set_err(err, errsz, "no room for the secret");
		return -1;
	}
	if (t->password_file != NULL && t->password_env == NULL) {
		int rc = secret_file(t->password_file, buf, bufsz, err, errsz);
		if (rc < 0)
			explicit_bzero(buf, bufsz);
		return rc;
	}
	v = env ? env(t->password_env) : NULL;
	if (v == NULL) {
		set_err(err, errsz, "password_env %s: the variable is not set",
		        t->password_env);
		return -1;
	}
	len = strlen(v);
	if (len == 0) {
		set_err(err, errsz, "password_env %s: the variable is empty",
		        t->password_env);
		return -1;
	}
	if (len >= bufsz) {
		set_err(err, errsz,
		        "password_env %s: the secret is longer than %zu bytes",
		        t->password_env, bufsz - 1);
		return -1;
	}
	memcpy(buf, v, len + 1);
	return 0;
}

const char *smtprobe_pol_tls_name(enum smtprobe_pol_tls t)
{
	return (unsigned)t < NELEM(tls_names) ? tls_names[t] : "?";
}

const char *smtprobe_pol_kind_name(enum smtprobe_pol_kind k)
{
	return (unsigned)k < NELEM(kind_names) ? kind_names[k] : "?";
}
