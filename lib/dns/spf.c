/* spf.c - the SPF record parser (RFC 7208 sections 4.5, 4.6, 5, 6, 7.1
 * and the ABNF of section 12), record selection and the macro-string
 * tokenizer the evaluator shares.
 *
 * smtprobe_spf_parse() reads one record as the caller joined its TXT
 * strings and describes every term with spans into it; it never
 * allocates and never reads past buf + len. It is strict, as section 4.6
 * wants: a syntax error anywhere (after an "all" too) refuses the whole
 * record, and the error names the offending term, its index and its
 * offset, the term's bytes escaped: "permerror: 'ip4:300.1.1.1' is not an
 * IPv4 network". Terms are separated by spaces only (a TAB or CR inside a
 * record is a bad byte of the term that holds it); mechanism and
 * modifier names ignore case; unknown modifiers are kept with their
 * name, their value checked as a macro-string; redirect= and exp= may
 * appear once each. A domain-spec must end in a macro or in "." and a
 * top label that is not all digits, so "a:192.0.2.1" is an error.
 * Prefix lengths follow the ABNF to the letter: no leading zeros, 0-32
 * and 0-128, a dual length only on a and mx.
 *
 * Limits: SMTPROBE_SPF_MAX_RECORD bytes and SMTPROBE_SPF_MAX_TERMS terms,
 * each an error of its own (smtprobe's bounds, not the RFC's). */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "smtprobe/spf.h"
#include "spf_int.h"

#include "banned.h"

static const char *const result_names[SMTPROBE_SPF_RESULT_LAST] = {
        "none", "neutral", "pass", "fail", "softfail", "temperror", "permerror",
};

/* name, counted by 4.6.4, is a modifier */
static const struct {
	const char *name;
	int counts;
} kind_tab[SMTPROBE_SPF_KIND_LAST] = {
        [SMTPROBE_SPF_ALL] = {"all", 0},
        [SMTPROBE_SPF_INCLUDE] = {"include", 1},
        [SMTPROBE_SPF_A] = {"a", 1},
        [SMTPROBE_SPF_MX] = {"mx", 1},
        [SMTPROBE_SPF_PTR] = {"ptr", 1},
        [SMTPROBE_SPF_IP4] = {"ip4", 0},
        [SMTPROBE_SPF_IP6] = {"ip6", 0},
        [SMTPROBE_SPF_EXISTS] = {"exists", 1},
        [SMTPROBE_SPF_REDIRECT] = {"redirect", 1},
        [SMTPROBE_SPF_EXP] = {"exp", 0},
        [SMTPROBE_SPF_UNKNOWN_MOD] = {"modifier", 0},
};

/* indexed by -code */
static const char *const err_tab[] = {
        [0] = "no error",
        [1] = "record longer than smtprobe's limit",
        [2] = "more terms than smtprobe's limit",
        [3] = "not an SPF record (no \"v=spf1\")",
        [4] = "contains a control or non-ASCII byte",
        [5] = "is neither a mechanism nor a modifier",
        [6] = "does not fit the mechanism's syntax",
        [7] = "has an invalid domain-spec",
        [8] = "has an invalid macro",
        [9] = "uses %{c}, %{r} or %{t}, allowed only in explanations",
        [10] = "is not an IPv4 network",
        [11] = "is not an IPv6 network",
        [12] = "has an invalid prefix length",
        [13] = "is not a valid modifier",
        [14] = "repeats a modifier allowed once",
        [20] = "two or more SPF records",
        [21] = "more than 10 DNS-querying terms",
        [22] = "more than 2 void lookups",
        [23] = "more than 10 MX records for one mx",
        [24] = "target has no SPF record",
        [25] = "target is not a domain name",
        [26] = "macro expansion longer than smtprobe's limit",
        [27] = "DNS error (server failure or timeout)",
        [28] = "include loop",
        [29] = "includes nested deeper than smtprobe's limit",
        [30] = "invalid parameter",
        [31] = "out of memory",
        [32] = "no query pending",
};

const char *smtprobe_spf_result_name(int result)
{
	if (result < 0 || result >= SMTPROBE_SPF_RESULT_LAST)
		return "unknown";
	return result_names[result];
}

const char *smtprobe_spf_kind_name(int kind)
{
	if (kind < 0 || kind >= SMTPROBE_SPF_KIND_LAST)
		return "unknown";
	return kind_tab[kind].name;
}

int smtprobe_spf_kind_counts(int kind)
{
	return kind >= 0 && kind < SMTPROBE_SPF_KIND_LAST &&
	       kind_tab[kind].counts;
}

const char *smtprobe_spf_strerror(int code)
{
	size_t i = code <= 0 ? (size_t)(-(long)code) : 0;

	if (code > 0 || i >= sizeof(err_tab) / sizeof(err_tab[0]) ||
	    err_tab[i] == NULL)
		return "unknown error";
	return err_tab[i];
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_alnum(int c)
{
	return is_alpha(c) || is_digit(c);
}

/* macro-literal: %x21-24 / %x26-7E */
static int is_literal(int c)
{
	return (c >= 0x21 && c <= 0x24) || (c >= 0x26 && c <= 0x7e);
}

static int ieq(const char *a, size_t alen, const char *b)
{
	size_t i;

	for (i = 0; i < alen; i++)
		if (b[i] == '\0' || lower((unsigned char)a[i]) != b[i])
			return 0;
	return b[alen] == '\0';
}

/* ---- macro-strings ---- */

int spf_tok_next(const char *s, size_t len, size_t *pos, int allow_space,
                 struct spf_tok *t)
{
	size_t i = *pos, j;
	int c;

	memset(t, 0, sizeof(*t));
	t->off = i;
	if (i >= len)
		return -1;
	if (s[i] != '%') {
		for (j = i; j < len; j++) {
			c = (unsigned char)s[j];
			if (!is_literal(c) && !(allow_space && c == ' '))
				break;
		}
		if (j == i)
			return -1;
		t->kind = SPF_TOK_LITERAL;
		t->len = j - i;
		*pos = j;
		return 0;
	}
	if (i + 1 >= len)
		return -1;
	c = s[i + 1];
	if (c == '%' || c == '_' || c == '-') {
		t->kind = SPF_TOK_ESCAPE;
		t->letter = (char)c;
		t->len = 2;
		*pos = i + 2;
		return 0;
	}
	if (c != '{' || i + 2 >= len)
		return -1;
	j = i + 2;
	c = (unsigned char)s[j];
	if (!is_alpha(c) || strchr("slodiphvcrt", lower(c)) == NULL)
		return -1;
	t->kind = SPF_TOK_MACRO;
	t->letter = (char)lower(c);
	t->upper = c != lower(c);
	j++;
	if (j < len && is_digit((unsigned char)s[j])) {
		unsigned n = 0;

		/* saturate: any count above the parts a value can have means
		 * "all of them" */
		for (; j < len && is_digit((unsigned char)s[j]); j++)
			if (n < 100000)
				n = n * 10 + (unsigned)(s[j] - '0');
		if (n == 0)
			return -1; /* "the value MUST be nonzero" (7.3) */
		t->digits = n;
	}
	if (j < len && lower((unsigned char)s[j]) == 'r') {
		t->reverse = 1;
		j++;
	}
	for (; j < len && s[j] != '\0' && strchr(".-+,/_=", s[j]) != NULL;
	     j++) {
		size_t nd = strlen(t->delims);

		if (strchr(t->delims, s[j]) == NULL &&
		    nd < sizeof(t->delims) - 1)
			t->delims[nd] = s[j];
	}
	if (j >= len || s[j] != '}')
		return -1;
	t->len = j + 1 - i;
	*pos = j + 1;
	return 0;
}

/* toplabel = ( *alphanum ALPHA *alphanum ) /
 *            ( 1*alphanum "-" *( alphanum / "-" ) alphanum ) */
static int toplabel_ok(const char *s, size_t len)
{
	int alpha = 0, dash = 0;
	size_t i;

	if (len == 0 || !is_alnum((unsigned char)s[0]) ||
	    !is_alnum((unsigned char)s[len - 1]))
		return 0;
	for (i = 0; i < len; i++) {
		int c = (unsigned char)s[i];

		if (c == '-')
			dash = 1;
		else if (is_alpha(c))
			alpha = 1;
		else if (!is_digit(c))
			return 0;
	}
	return alpha || dash;
}

/* domain-end = ( "." toplabel [ "." ] ) / macro-expand, here for a
 * literal tail: the bytes after the last macro. */
static int domain_end_ok(const char *s, size_t len)
{
	size_t e = len, k;

	if (e > 0 && s[e - 1] == '.')
		e--;
	for (k = e; k > 0; k--)
		if (s[k - 1] == '.')
			return toplabel_ok(s + k, e - k);
	return 0;
}

int spf_check_macro_string(const char *s, size_t len, enum spf_ms_mode mode,
                           unsigned *flags)
{
	size_t pos = 0, tail = 0;
	unsigned f = 0;
	struct spf_tok t;

	while (pos < len) {
		if (spf_tok_next(s, len, &pos, mode == SPF_MS_EXPLAIN, &t) <
		    0) {
			return s[pos] == '%' ? SMTPROBE_SPF_E_MACRO
			                     : SMTPROBE_SPF_E_CHAR;
		}
		if (t.kind == SPF_TOK_LITERAL)
			continue;
		tail = pos;
		f |= SMTPROBE_SPF_T_MACRO;
		if (t.kind != SPF_TOK_MACRO)
			continue;
		if (mode != SPF_MS_EXPLAIN && strchr("crt", t.letter) != NULL)
			return SMTPROBE_SPF_E_MACRO_EXP;
		if (strchr("ipvc", t.letter) != NULL)
			f |= SMTPROBE_SPF_T_NEEDS_IP;
		if (t.letter == 'p')
			f |= SMTPROBE_SPF_T_NEEDS_IP | SMTPROBE_SPF_T_NEEDS_PTR;
		if (t.letter == 'h')
			f |= SMTPROBE_SPF_T_NEEDS_HELO;
	}
	if (mode == SPF_MS_DOMAIN &&
	    (len == 0 || (tail < len && !domain_end_ok(s + tail, len - tail))))
		return SMTPROBE_SPF_E_DOMAIN;
	if (flags != NULL)
		*flags = f;
	return 0;
}

/* ---- networks ---- */

/* ip4-network = qnum "." qnum "." qnum "." qnum, without leading zeros */
static int parse_ip4(const char *s, size_t len, unsigned char out[4])
{
	size_t i = 0;
	int part;

	for (part = 0; part < 4; part++) {
		size_t start;
		unsigned v = 0;

		if (part > 0) {
			if (i >= len || s[i] != '.')
				return -1;
			i++;
		}
		start = i;
		while (i < len && is_digit((unsigned char)s[i]) &&
		       i - start < 4)
			v = v * 10 + (unsigned)(s[i++] - '0');
		if (i == start || i - start > 3 || v > 255 ||
		    (i - start > 1 && s[start] == '0'))
			return -1;
		out[part] = (unsigned char)v;
	}
	return i == len ? 0 : -1;
}

static int parse_ip6(const char *s, size_t len, unsigned char out[16])
{
	char tmp[64];

	if (len == 0 || len >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	return inet_pton(AF_INET6, tmp, out) == 1 ? 0 : -1;
}

/* "0" / %x31-39 0*1DIGIT (max 32) or 0*2DIGIT (max 128) */
static int parse_cidr(const char *s, size_t len, int max, int *out)
{
	size_t maxdigits = max == 32 ? 2 : 3, i;
	int v = 0;

	if (len == 0 || len > maxdigits || (len > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < len; i++) {
		if (!is_digit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

/* Strip a dual-cidr-length from the end of s[0..*len): "/24", "//64",
 * "/24//64". Returns 0, or E_CIDR when a length is there but invalid. */
static int strip_dual_cidr(const char *s, size_t *len, int *c4, int *c6)
{
	size_t end = *len, k;

	for (k = end; k > 0 && is_digit((unsigned char)s[k - 1]); k--)
		;
	if (k < end && k >= 2 && s[k - 1] == '/' && s[k - 2] == '/') {
		if (parse_cidr(s + k, end - k, 128, c6) < 0)
			return SMTPROBE_SPF_E_CIDR;
		end = k - 2;
		for (k = end; k > 0 && is_digit((unsigned char)s[k - 1]); k--)
			;
	}
	if (k < end && k >= 1 && s[k - 1] == '/') {
		if (parse_cidr(s + k, end - k, 32, c4) < 0)
			return SMTPROBE_SPF_E_CIDR;
		end = k - 1;
	}
	*len = end;
	return 0;
}

/* ---- terms ---- */

static int parse_domain_arg(const char *t, size_t off, size_t len,
                            struct smtprobe_spf_term *out)
{
	int rc = spf_check_macro_string(t + off, len, SPF_MS_DOMAIN,
	                                &out->flags);

	out->arg.off = off;
	out->arg.len = len;
	return rc;
}

/* ip4:network[/n] or ip6:network[/n]; rest starts after the name */
static int parse_network(const char *t, size_t p, size_t len,
                         struct smtprobe_spf_term *out)
{
	int v6 = out->kind == SMTPROBE_SPF_IP6;
	int bad = v6 ? SMTPROBE_SPF_E_IP6 : SMTPROBE_SPF_E_IP4;
	size_t slash, nlen;
	const char *net;

	if (p >= len || t[p] != ':')
		return SMTPROBE_SPF_E_SYNTAX;
	net = t + p + 1;
	nlen = len - p - 1;
	for (slash = 0; slash < nlen && net[slash] != '/'; slash++)
		;
	out->arg.off = p + 1;
	out->arg.len = slash;
	if (v6 ? parse_ip6(net, slash, out->net) < 0
	       : parse_ip4(net, slash, out->net) < 0)
		return bad;
	if (slash < nlen &&
	    parse_cidr(net + slash + 1, nlen - slash - 1, v6 ? 128 : 32,
	               v6 ? &out->cidr6 : &out->cidr4) < 0)
		return SMTPROBE_SPF_E_CIDR;
	return 0;
}

static int parse_mechanism(const char *t, size_t p, size_t len,
                           struct smtprobe_spf_term *out)
{
	size_t n = p, rest;
	int k;

	while (n < len && is_alnum((unsigned char)t[n]))
		n++;
	for (k = 0; k <= SMTPROBE_SPF_EXISTS; k++)
		if (ieq(t + p, n - p, kind_tab[k].name))
			break;
	if (k > SMTPROBE_SPF_EXISTS)
		return SMTPROBE_SPF_E_UNKNOWN;
	if (n < len && t[n] != ':' && t[n] != '/')
		return SMTPROBE_SPF_E_SYNTAX; /* "-all.", "-a=b" */
	out->kind = (enum smtprobe_spf_kind)k;
	rest = len - n;
	switch (out->kind) {
	case SMTPROBE_SPF_ALL:
		return rest == 0 ? 0 : SMTPROBE_SPF_E_SYNTAX;
	case SMTPROBE_SPF_IP4:
	case SMTPROBE_SPF_IP6:
		return parse_network(t, n, len, out);
	case SMTPROBE_SPF_INCLUDE:
	case SMTPROBE_SPF_EXISTS:
		if (rest == 0 || t[n] != ':')
			return SMTPROBE_SPF_E_SYNTAX;
		return parse_domain_arg(t, n + 1, rest - 1, out);
	case SMTPROBE_SPF_PTR:
		if (rest == 0)
			return 0;
		if (t[n] != ':')
			return SMTPROBE_SPF_E_SYNTAX;
		return parse_domain_arg(t, n + 1, rest - 1, out);
	default: /* a, mx */
		if (strip_dual_cidr(t + n, &rest, &out->cidr4, &out->cidr6) < 0)
			return SMTPROBE_SPF_E_CIDR;
		if (rest == 0)
			return 0;
		if (t[n] != ':')
			return SMTPROBE_SPF_E_SYNTAX;
		return parse_domain_arg(t, n + 1, rest - 1, out);
	}
}

/* name "=" value, name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ) */
static int parse_modifier(const char *t, size_t n, size_t len,
                          struct smtprobe_spf_term *out)
{
	size_t v = n + 1;

	out->name.off = 0;
	out->name.len = n;
	out->qual = SMTPROBE_SPF_PASS;
	if (ieq(t, n, "redirect"))
		out->kind = SMTPROBE_SPF_REDIRECT;
	else if (ieq(t, n, "exp"))
		out->kind = SMTPROBE_SPF_EXP;
	else
		out->kind = SMTPROBE_SPF_UNKNOWN_MOD;
	if (out->kind != SMTPROBE_SPF_UNKNOWN_MOD)
		return parse_domain_arg(t, v, len - v, out);
	out->arg.off = v;
	out->arg.len = len - v;
	return spf_check_macro_string(t + v, len - v, SPF_MS_VALUE,
	                              &out->flags);
}

static int parse_term(const char *t, size_t len, struct smtprobe_spf_term *out)
{
	size_t i, n;

	memset(out, 0, sizeof(*out));
	out->cidr4 = out->cidr6 = -1;
	out->qual = SMTPROBE_SPF_PASS;
	for (i = 0; i < len; i++)
		if ((unsigned char)t[i] < 0x21 || (unsigned char)t[i] > 0x7e)
			return SMTPROBE_SPF_E_CHAR;
	if (t[0] == '=')
		return SMTPROBE_SPF_E_MODIFIER; /* empty modifier name */
	/* a modifier: the name, then '=' before any ':' or '/' (4.6.1) */
	n = 0;
	if (is_alpha((unsigned char)t[0])) {
		while (n < len && (is_alnum((unsigned char)t[n]) ||
		                   strchr("-_.", t[n]) != NULL))
			n++;
		if (n < len && t[n] == '=')
			return parse_modifier(t, n, len, out);
	}
	switch (t[0]) {
	case '+':
		out->qual = SMTPROBE_SPF_PASS;
		break;
	case '-':
		out->qual = SMTPROBE_SPF_FAIL;
		break;
	case '~':
		out->qual = SMTPROBE_SPF_SOFTFAIL;
		break;
	case '?':
		out->qual = SMTPROBE_SPF_NEUTRAL;
		break;
	default:
		return parse_mechanism(t, 0, len, out);
	}
	return parse_mechanism(t, 1, len, out);
}

size_t spf_show(char *dst, size_t dstsz, const char *s, size_t len)
{
	size_t need = smtprobe_escape(dst, dstsz, s, len);

	/* a term too long to quote whole is shown cut, and says so */
	if (need >= dstsz && dstsz > 4)
		memcpy(dst + dstsz - 4, "...", 4);
	return need;
}

static int fail_at(struct smtprobe_spf_error *err, int code, const char *buf,
                   size_t idx, size_t off, size_t len)
{
	char shown[96];

	if (err == NULL)
		return code;
	err->code = code;
	err->term = idx;
	err->off = off;
	err->len = len;
	spf_show(shown, sizeof(shown), buf + off, len);
	snprintf(err->msg, sizeof(err->msg), "permerror: '%s' %s", shown,
	         smtprobe_spf_strerror(code));
	return code;
}

static int fail_record(struct smtprobe_spf_error *err, int code, size_t len)
{
	if (err == NULL)
		return code;
	err->code = code;
	err->off = 0;
	err->len = len;
	if (code == SMTPROBE_SPF_E_TOO_LONG)
		snprintf(err->msg, sizeof(err->msg),
		         "permerror: the record is %zu bytes, more than "
		         "smtprobe's limit of %d",
		         len, SMTPROBE_SPF_MAX_RECORD);
	else if (code == SMTPROBE_SPF_E_TOO_MANY_TERMS)
		snprintf(err->msg, sizeof(err->msg),
		         "permerror: the record has more than %d terms, "
		         "smtprobe's limit",
		         SMTPROBE_SPF_MAX_TERMS);
	else
		snprintf(err->msg, sizeof(err->msg), "permerror: %s",
		         smtprobe_spf_strerror(code));
	return code;
}

int smtprobe_spf_is_record(const char *p, size_t len)
{
	return len >= 6 && ieq(p, 6, "v=spf1") && (len == 6 || p[6] == ' ');
}

int smtprobe_spf_parse(const char *buf, size_t len,
                       struct smtprobe_spf_record *rec,
                       struct smtprobe_spf_error *err)
{
	size_t pos = 6;

	if (err != NULL)
		memset(err, 0, sizeof(*err));
	rec->nterms = 0;
	rec->redirect = rec->exp = rec->all = -1;
	rec->counted = 0;
	if (len > SMTPROBE_SPF_MAX_RECORD)
		return fail_record(err, SMTPROBE_SPF_E_TOO_LONG, len);
	if (!smtprobe_spf_is_record(buf, len))
		return fail_record(err, SMTPROBE_SPF_E_VERSION, len);
	for (;;) {
		struct smtprobe_spf_term *t;
		size_t start;
		int rc, *slot = NULL;

		while (pos < len && buf[pos] == ' ')
			pos++;
		if (pos == len)
			return 0;
		start = pos;
		while (pos < len && buf[pos] != ' ')
			pos++;
		if (rec->nterms == SMTPROBE_SPF_MAX_TERMS)
			return fail_record(err, SMTPROBE_SPF_E_TOO_MANY_TERMS,
			                   len);
		t = &rec->terms[rec->nterms];
		rc = parse_term(buf + start, pos - start, t);
		if (rc < 0)
			return fail_at(err, rc, buf, rec->nterms + 1, start,
			               pos - start);
		/* spans so far are relative to the term */
		t->text.off = start;
		t->text.len = pos - start;
		t->arg.off += start;
		t->name.off += start;
		if (t->kind == SMTPROBE_SPF_REDIRECT)
			slot = &rec->redirect;
		else if (t->kind == SMTPROBE_SPF_EXP)
			slot = &rec->exp;
		if (slot != NULL && *slot >= 0)
			return fail_at(err, SMTPROBE_SPF_E_DUPLICATE, buf,
			               rec->nterms + 1, start, pos - start);
		if (slot != NULL)
			*slot = (int)rec->nterms;
		if (t->kind == SMTPROBE_SPF_ALL && rec->all < 0)
			rec->all = (int)rec->nterms;
		if (smtprobe_spf_kind_counts(t->kind))
			rec->counted++;
		rec->nterms++;
	}
}

enum smtprobe_spf_sel smtprobe_spf_select(const struct smtprobe_txt *txt,
                                          size_t n, size_t *first,
                                          size_t *count)
{
	size_t i, found = 0;

	for (i = 0; i < n; i++) {
		if (!smtprobe_spf_is_record(txt[i].data, txt[i].len))
			continue;
		if (found++ == 0 && first != NULL)
			*first = i;
	}
	if (count != NULL)
		*count = found;
	return found == 0   ? SMTPROBE_SPF_SEL_NONE
	       : found == 1 ? SMTPROBE_SPF_SEL_ONE
	                    : SMTPROBE_SPF_SEL_MULTIPLE;
}
