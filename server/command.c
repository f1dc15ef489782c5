/* command.c - parsing one SMTP command line on the server side
 * (RFC 5321 4.1, with Postfix's leniencies).
 *
 * srv_command_parse() is a pure function over (line, len), the line
 * without its CRLF: no I/O, no allocation, no reads outside the buffer
 * (NUL bytes are data, not terminators). Its output spans point into
 * line; empty spans point to a static "" so that a careless caller who
 * treats one as a C string reads nothing.
 *
 * What is accepted: a verb (case-insensitive) followed by one or more
 * spaces and the argument; trailing spaces are ignored. MAIL FROM: and
 * RCPT TO: may be followed by spaces (Postfix accepts "FROM: <x>"), then
 * a path in angle brackets or a bare address without spaces (Postfix's
 * strict_rfc821_envelopes=no), then the ESMTP parameters, which are left
 * to the caller. Quoted local parts may contain spaces and angle brackets.
 * Source routes are kept in the path. Unknown verbs are not an error:
 * verb SRV_CMD_UNKNOWN, and the caller answers 502.
 *
 * What is refused, with the exact reply to send:
 *   longer than SRV_MAX_CMDLINE         500 5.5.2 Error: line too long
 *   empty, leading space, NUL, control  500 5.5.2 Error: bad syntax
 *   (tabs, CR, LF and DEL included: a bare CR or LF inside a line is
 *   the classic smuggling vector)
 *   missing / unexpected argument       501 5.5.4 Syntax: VERB ...
 *   HELO name not a domain or literal   501 5.5.4 Syntax: HELO hostname
 *   malformed or over-long path         501 5.1.7 (MAIL) / 5.1.3 (RCPT)
 *   RCPT TO:<>                          501 5.1.3 Bad recipient address...
 * On error out->verb and out->name are still set when the verb was
 * recognised (for logging and per-command counters); every other span
 * is empty.
 *
 * Limits: a path (brackets included) is at most SRV_MAX_PATH octets,
 * RFC 5321 4.5.3.1.3.
 *
 * srv_addr_domain() returns what follows the last '@' outside a quoted
 * string; a backslash inside quotes escapes the next byte. */
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "command.h"

#include "banned.h"

/* RFC 5321 4.5.3.1.3: reverse-path and forward-path, brackets included. */
#define SRV_MAX_PATH 256

#define R_TOO_LONG "500 5.5.2 Error: line too long"
#define R_BAD      "500 5.5.2 Error: bad syntax"
#define R_BAD_MAIL "501 5.1.7 Bad sender address syntax"
#define R_BAD_RCPT "501 5.1.3 Bad recipient address syntax"
#define R_SYN_MAIL "501 5.5.4 Syntax: MAIL FROM:<address>"
#define R_SYN_RCPT "501 5.5.4 Syntax: RCPT TO:<address>"

enum arg_rule {
	ARG_NONE,     /* an argument is a syntax error */
	ARG_OPTIONAL, /* anything goes */
	ARG_REQUIRED, /* anything non-empty */
	ARG_HELO,     /* a domain or an address literal */
	ARG_MAIL,     /* FROM:<path> params */
	ARG_RCPT,     /* TO:<path> params */
};

struct verb_def {
	const char *name;
	enum srv_verb verb;
	enum arg_rule rule;
	const char *syntax; /* reply when the argument breaks the rule */
};

static const struct verb_def verbs[] = {
        {"HELO", SRV_CMD_HELO, ARG_HELO, "501 5.5.4 Syntax: HELO hostname"},
        {"EHLO", SRV_CMD_EHLO, ARG_HELO, "501 5.5.4 Syntax: EHLO hostname"},
        {"LHLO", SRV_CMD_LHLO, ARG_HELO, "501 5.5.4 Syntax: LHLO hostname"},
        {"MAIL", SRV_CMD_MAIL, ARG_MAIL, R_SYN_MAIL},
        {"RCPT", SRV_CMD_RCPT, ARG_RCPT, R_SYN_RCPT},
        {"DATA", SRV_CMD_DATA, ARG_NONE, "501 5.5.4 Syntax: DATA"},
        {"BDAT", SRV_CMD_BDAT, ARG_REQUIRED,
         "501 5.5.4 Syntax: BDAT chunk-size [LAST]"},
        {"RSET", SRV_CMD_RSET, ARG_NONE, "501 5.5.4 Syntax: RSET"},
        {"NOOP", SRV_CMD_NOOP, ARG_OPTIONAL, NULL},
        {"QUIT", SRV_CMD_QUIT, ARG_NONE, "501 5.5.4 Syntax: QUIT"},
        {"VRFY", SRV_CMD_VRFY, ARG_OPTIONAL, NULL},
        {"EXPN", SRV_CMD_EXPN, ARG_OPTIONAL, NULL},
        {"HELP", SRV_CMD_HELP, ARG_OPTIONAL, NULL},
        {"STARTTLS", SRV_CMD_STARTTLS, ARG_NONE, "501 5.5.4 Syntax: STARTTLS"},
        {"AUTH", SRV_CMD_AUTH, ARG_REQUIRED,
         "501 5.5.4 Syntax: AUTH mechanism"},
};

#define NVERBS (sizeof(verbs) / sizeof(verbs[0]))

static int is_ctrl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static int is_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z');
}

static const struct verb_def *find_verb(const char *s, size_t n)
{
	for (size_t i = 0; i < NVERBS; i++)
		if (strlen(verbs[i].name) == n &&
		    strncasecmp(verbs[i].name, s, n) == 0)
			return &verbs[i];
	return NULL;
}

/* A HELO argument: one domain (letters, digits, '-', '.', '_' which
 * Windows hosts use, and UTF-8 for IDNs) or one address literal. */
static int helo_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	if (s[0] == '[') {
		if (n < 3 || s[n - 1] != ']')
			return 0;
		for (i = 1; i < n - 1; i++)
			if (s[i] == '[' || s[i] == ']' || s[i] == '\\' ||
			    s[i] == ' ')
				return 0;
		return 1;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!is_alnum(c) && c != '-' && c != '.' && c != '_' &&
		    c < 0x80)
			return 0;
	}
	return 1;
}

/* Scan an address from s: bracketed (ends at the '>' outside quotes) or
 * bare (ends at the first space). Spaces and angle brackets are allowed
 * only inside quotes, spaces only with brackets (a bare "a b"@x cannot be
 * told from a path and a parameter), and quotes must balance. Sets the path
 * span and returns the bytes consumed, or 0 when the syntax is broken. */
static size_t scan_path(const char *s, size_t n, const char **path,
                        size_t *pathlen)
{
	int bracket = n > 0 && s[0] == '<';
	size_t i = bracket ? 1 : 0, start = i;
	int quoted = 0;

	for (; i < n; i++) {
		char c = s[i];

		if (quoted) {
			if (c == ' ' && !bracket)
				return 0;
			if (c == '\\') {
				if (++i == n)
					return 0;
			} else if (c == '"') {
				quoted = 0;
			}
			continue;
		}
		if (c == '"')
			quoted = 1;
		else if (c == '>' && bracket)
			break;
		else if (c == '<' || c == '>')
			return 0;
		else if (c == ' ' && !bracket)
			break;
		else if (c == ' ')
			return 0;
	}
	if (quoted || (bracket && i == n))
		return 0;
	*path = s + start;
	*pathlen = i - start;
	return bracket ? i + 1 : i;
}

/* The argument of MAIL or RCPT: "FROM:" or "TO:" (any case), optional
 * spaces, the path, then spaces and parameters or nothing. */
static const char *parse_path_arg(const struct verb_def *v,
                                  struct srv_command *out)
{
	const char *kw = v->rule == ARG_MAIL ? "FROM:" : "TO:";
	const char *bad = v->rule == ARG_MAIL ? R_BAD_MAIL : R_BAD_RCPT;
	size_t kwlen = strlen(kw), i, used, pathlen = 0;
	const char *s = out->arg, *path = NULL;
	size_t n = out->arglen;

	if (n < kwlen || strncasecmp(s, kw, kwlen) != 0)
		return v->syntax;
	for (i = kwlen; i < n && s[i] == ' '; i++)
		;
	if (i == n)
		return v->syntax;
	used = scan_path(s + i, n - i, &path, &pathlen);
	if (used == 0)
		return bad;
	if (s[i] != '<' && pathlen == 0)
		return v->syntax;
	if (pathlen + 2 > SRV_MAX_PATH)
		return bad;
	if (pathlen == 0 && v->rule == ARG_RCPT)
		return R_BAD_RCPT;
	i += used;
	if (i < n && s[i] != ' ')
		return bad;
	while (i < n && s[i] == ' ')
		i++;
	if (pathlen > 0)
		out->path = path;
	out->pathlen = pathlen;
	if (i < n) {
		out->params = s + i;
		out->paramslen = n - i;
	}
	return NULL;
}

static void clear_spans(struct srv_command *out)
{
	out->arg = out->path = out->params = "";
	out->arglen = out->pathlen = out->paramslen = 0;
}

int srv_command_parse(const char *line, size_t len, struct srv_command *out,
                      const char **reply)
{
	const struct verb_def *v;
	const char *err = NULL;
	size_t i, vlen, end;

	out->verb = SRV_CMD_UNKNOWN;
	out->name = "";
	clear_spans(out);
	*reply = NULL;
	if (len > SRV_MAX_CMDLINE) {
		*reply = R_TOO_LONG;
		return -1;
	}
	if (len == 0 || line[0] == ' ') {
		*reply = R_BAD;
		return -1;
	}
	for (i = 0; i < len; i++)
		if (is_ctrl((unsigned char)line[i])) {
			*reply = R_BAD;
			return -1;
		}
	for (vlen = 0; vlen < len && line[vlen] != ' '; vlen++)
		;
	for (i = vlen; i < len && line[i] == ' '; i++)
		;
	for (end = len; end > i && line[end - 1] == ' '; end--)
		;
	if (end > i) {
		out->arg = line + i;
		out->arglen = end - i;
	}
	v = find_verb(line, vlen);
	if (v == NULL)
		return 0;
	out->verb = v->verb;
	out->name = v->name;
	switch (v->rule) {
	case ARG_NONE:
		if (out->arglen != 0)
			err = v->syntax;
		break;
	case ARG_OPTIONAL:
		break;
	case ARG_REQUIRED:
		if (out->arglen == 0)
			err = v->syntax;
		break;
	case ARG_HELO:
		if (!helo_ok(out->arg, out->arglen))
			err = v->syntax;
		break;
	case ARG_MAIL:
	case ARG_RCPT:
		err = parse_path_arg(v, out);
		break;
	}
	if (err != NULL) {
		clear_spans(out);
		*reply = err;
		return -1;
	}
	return 0;
}

const char *srv_addr_domain(const char *addr, size_t len, size_t *dlen)
{
	size_t i, at = len;
	int quoted = 0;

	for (i = 0; i < len; i++) {
		char c = addr[i];

		if (quoted) {
			if (c == '\\')
				i++;
			else if (c == '"')
				quoted = 0;
		} else if (c == '"') {
			quoted = 1;
		} else if (c == '@') {
			at = i;
		}
	}
	if (at + 1 >= len) {
		*dlen = 0;
		return "";
	}
	*dlen = len - at - 1;
	return addr + at + 1;
}
