/* taglist.c - the tag=value list shared by DKIM key records (RFC 6376
 * §3.2), DMARC (RFC 7489 §6.4), MTA-STS (RFC 8461 §3.1) and TLS-RPT
 * (RFC 8460 §3) records, and the pieces of their values they share:
 * the version tag, ":"- and ","-separated lists, report URIs, host names.
 *
 * smtprobe_taglist_parse() splits a record on ";", drops whitespace
 * around each element and around "=" where the dialect allows it, and
 * describes each tag with spans into the record. It allocates nothing and
 * reads nothing past buf + len.
 *
 * Bad input is an error, never a guess: an element without "=", an empty
 * element other than the last (";;"), a tag name outside the dialect's
 * syntax, a control or non-ASCII byte, a tag twice where the RFC forbids
 * it (DKIM §3.2; DMARC takes DKIM's syntax), space around "=" where the
 * grammar has none (MTA-STS, TLS-RPT). The error names the element, its
 * bytes escaped.
 *
 * Limits: SMTPROBE_DNSREC_MAX_RECORD bytes, SMTPROBE_TAGLIST_MAX_TAGS
 * tags, SMTPROBE_DNSREC_MAX_URIS URIs per tag; hitting one is an error. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "taglist.h"

#include "banned.h"

/* The dialects, as data. */
static const struct dialect {
	const char *prefix;  /* of messages */
	const char *version; /* the value of the first tag, v= */
	unsigned nocase : 1; /* tag names compared ignoring case */
	unsigned dups : 1;   /* a name twice is allowed (the first counts) */
	unsigned wsp_eq : 1; /* whitespace around "=" */
	unsigned fws : 1;    /* CR and LF are whitespace (folding) */
	unsigned ext : 1;    /* names (ALPHA / DIGIT) *31(... "-" / ".") */
} dialects[SMTPROBE_TAGLIST_LAST] = {
        [SMTPROBE_TAGLIST_DKIM] = {"dkim", "DKIM1", 0, 0, 1, 1, 0},
        [SMTPROBE_TAGLIST_DMARC] = {"dmarc", "DMARC1", 1, 0, 1, 0, 0},
        [SMTPROBE_TAGLIST_MTASTS] = {"mta-sts", "STSv1", 0, 1, 0, 0, 1},
        [SMTPROBE_TAGLIST_TLSRPT] = {"tls-rpt", "TLSRPTv1", 0, 1, 0, 0, 1},
};

#define EXT_NAME_MAX 32 /* RFC 8461 / 8460 ext-name */
#define QUOTE_BYTES  32

static const struct dialect *dialect_of(enum smtprobe_taglist_dialect d)
{
	return &dialects[(unsigned)d < SMTPROBE_TAGLIST_LAST ? d : 0];
}

static int is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static int is_space(const struct dialect *dl, char c)
{
	return is_wsp(c) || (dl->fws && (c == '\r' || c == '\n'));
}

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_alnum(char c)
{
	return is_alpha(c) || is_digit(c);
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static int mem_eq(const char *a, const char *b, size_t n, int nocase)
{
	size_t i;

	if (!nocase)
		return memcmp(a, b, n) == 0;
	for (i = 0; i < n; i++)
		if (lower(a[i]) != lower(b[i]))
			return 0;
	return 1;
}

/* [from, to) without the dialect's whitespace at either end */
static struct smtprobe_span trim(const struct dialect *dl, const char *buf,
                                 size_t from, size_t to)
{
	while (from < to && is_space(dl, buf[from]))
		from++;
	while (to > from && is_space(dl, buf[to - 1]))
		to--;
	return taglist_span(from, to - from);
}

int taglist_seterr(struct smtprobe_dnsrec_error *e, int code,
                   struct smtprobe_span at, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (e->code != SMTPROBE_DNSREC_OK)
		return e->code;
	e->code = (enum smtprobe_dnsrec_err)code;
	e->at = at;
	va_start(ap, fmt);
	n = vsnprintf(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
	if (n < 0)
		e->text[0] = '\0';
	else if ((size_t)n >= sizeof(e->text))
		memcpy(e->text + sizeof(e->text) - 4, "...", 4);
	return code;
}

const char *taglist_quote(char *dst, size_t dstsz, const char *s, size_t len)
{
	char esc[QUOTE_BYTES * 4 + 1];
	int n;

	smtprobe_escape(esc, sizeof(esc), s,
	                len < QUOTE_BYTES ? len : QUOTE_BYTES);
	n = snprintf(dst, dstsz, "'%s%s'", esc, len > QUOTE_BYTES ? "..." : "");
	if (n < 0 || (size_t)n >= dstsz)
		snprintf(dst, dstsz, "'...'");
	return dst;
}

int taglist_bad_tag(struct smtprobe_dnsrec_error *e, int code,
                    enum smtprobe_taglist_dialect d, const char *buf,
                    const struct smtprobe_tag *t, const char *why)
{
	char q[TAGLIST_QUOTE_SZ];

	return taglist_seterr(
	        e, code, t->name, "%s: %.*s=%s %s", dialect_of(d)->prefix,
	        (int)t->name.len, buf + t->name.off,
	        taglist_quote(q, sizeof(q), buf + t->value.off, t->value.len),
	        why);
}

int taglist_number(const char *buf, struct smtprobe_span s, size_t max,
                   unsigned long limit, unsigned long *v)
{
	unsigned long n = 0;
	size_t i;

	if (s.len == 0 || s.len > max)
		return -1;
	for (i = 0; i < s.len; i++) {
		if (!is_digit(buf[s.off + i]))
			return -1;
		n = n * 10 + (unsigned long)(buf[s.off + i] - '0');
	}
	if (n > limit)
		return -1;
	*v = n;
	return 0;
}

const char *taglist_prefix(enum smtprobe_taglist_dialect d)
{
	return dialect_of(d)->prefix;
}

const char *smtprobe_dnsrec_strerror(int code)
{
	static const char *const msg[] = {
	        "ok",
	        "record too long",
	        "too many items",
	        "syntax error",
	        "duplicate tag",
	        "missing or wrong version",
	        "required tag missing",
	        "invalid value",
	        "undecodable key",
	        "unsupported key type",
	};

	if (code > 0 || -code >= (int)(sizeof(msg) / sizeof(msg[0])))
		return "unknown error";
	return msg[-code];
}

int smtprobe_dnsrec_domain_eq(const char *a, size_t alen, const char *b,
                              size_t blen)
{
	if (alen > 0 && a[alen - 1] == '.')
		alen--;
	if (blen > 0 && b[blen - 1] == '.')
		blen--;
	return alen == blen && mem_eq(a, b, alen, 1);
}

/* ---- the tag list ---- */

static int name_ok(const struct dialect *dl, const char *s, size_t len)
{
	size_t i;

	if (len == 0 || !(dl->ext ? is_alnum(s[0]) : is_alpha(s[0])))
		return 0;
	if (dl->ext && len > EXT_NAME_MAX)
		return 0;
	for (i = 1; i < len; i++)
		if (!is_alnum(s[i]) && s[i] != '_' &&
		    !(dl->ext && (s[i] == '-' || s[i] == '.')))
			return 0;
	return 1;
}

static int one_tag(const char *buf, struct smtprobe_span el,
                   const struct dialect *dl, struct smtprobe_taglist *out)
{
	struct smtprobe_dnsrec_error *e = &out->error;
	const char *p = buf + el.off;
	const char *eq = memchr(p, '=', el.len);
	struct smtprobe_span name, value;
	char q[TAGLIST_QUOTE_SZ];
	size_t i, eqoff;

	if (eq == NULL)
		return taglist_seterr(e, SMTPROBE_DNSREC_E_SYNTAX, el,
		                      "%s: %s is not tag=value", dl->prefix,
		                      taglist_quote(q, sizeof(q), p, el.len));
	eqoff = (size_t)(eq - buf);
	name = trim(dl, buf, el.off, eqoff);
	value = trim(dl, buf, eqoff + 1, el.off + el.len);
	if (!dl->wsp_eq && (name.off + name.len != eqoff ||
	                    (value.len > 0 && value.off != eqoff + 1)))
		return taglist_seterr(e, SMTPROBE_DNSREC_E_SYNTAX, el,
		                      "%s: space around '=' in %s", dl->prefix,
		                      taglist_quote(q, sizeof(q), p, el.len));
	if (!name_ok(dl, buf + name.off, name.len))
		return taglist_seterr(
		        e, SMTPROBE_DNSREC_E_SYNTAX, name,
		        "%s: %s is not a tag name", dl->prefix,
		        taglist_quote(q, sizeof(q), buf + name.off, name.len));
	for (i = 0; i < value.len; i++) {
		char c = buf[value.off + i];

		if ((c < 0x21 || c > 0x7e) && !is_space(dl, c))
			return taglist_seterr(
			        e, SMTPROBE_DNSREC_E_SYNTAX, name,
			        "%s: tag %s has a control or non-ASCII byte",
			        dl->prefix,
			        taglist_quote(q, sizeof(q), buf + name.off,
			                      name.len));
	}
	for (i = 0; i < out->n; i++) {
		const struct smtprobe_span *o = &out->tag[i].name;

		if (o->len != name.len ||
		    !mem_eq(buf + o->off, buf + name.off, name.len, dl->nocase))
			continue;
		if (!dl->dups)
			return taglist_seterr(
			        e, SMTPROBE_DNSREC_E_DUPLICATE, name,
			        "%s: tag %s appears twice", dl->prefix,
			        taglist_quote(q, sizeof(q), buf + name.off,
			                      name.len));
		out->duplicates = 1;
	}
	if (out->n == SMTPROBE_TAGLIST_MAX_TAGS)
		return taglist_seterr(e, SMTPROBE_DNSREC_E_TOO_MANY, name,
		                      "%s: more than %d tags", dl->prefix,
		                      SMTPROBE_TAGLIST_MAX_TAGS);
	out->tag[out->n].name = name;
	out->tag[out->n].value = value;
	out->n++;
	return 0;
}

int smtprobe_taglist_parse(const char *buf, size_t len,
                           enum smtprobe_taglist_dialect d,
                           struct smtprobe_taglist *out)
{
	const struct dialect *dl = dialect_of(d);
	size_t pos = 0;

	memset(out, 0, sizeof(*out));
	out->dialect =
	        (unsigned)d < SMTPROBE_TAGLIST_LAST ? d : SMTPROBE_TAGLIST_DKIM;
	if (len > SMTPROBE_DNSREC_MAX_RECORD)
		return taglist_seterr(&out->error, SMTPROBE_DNSREC_E_TOO_LONG,
		                      taglist_span(0, 0),
		                      "%s: the record is longer than %d bytes",
		                      dl->prefix, SMTPROBE_DNSREC_MAX_RECORD);
	for (;;) {
		const char *semi =
		        pos < len ? memchr(buf + pos, ';', len - pos) : NULL;
		size_t end = semi != NULL ? (size_t)(semi - buf) : len;
		struct smtprobe_span el = trim(dl, buf, pos, end);
		int rc;

		if (el.len == 0) {
			if (end == len && out->n > 0)
				break; /* "a=1;" and "a=1; " */
			return taglist_seterr(
			        &out->error, SMTPROBE_DNSREC_E_SYNTAX, el,
			        out->n == 0 && end == len
			                ? "%s: the record is empty"
			                : "%s: an empty element (';;' or a "
			                  "leading ';')",
			        dl->prefix);
		}
		rc = one_tag(buf, el, dl, out);
		if (rc < 0)
			return rc;
		if (end == len)
			break;
		pos = end + 1;
	}
	return 0;
}

const struct smtprobe_tag *
smtprobe_taglist_find(const struct smtprobe_taglist *tl, const char *buf,
                      const char *name)
{
	const struct dialect *dl = dialect_of(tl->dialect);
	size_t i, len = strlen(name);

	for (i = 0; i < tl->n; i++) {
		const struct smtprobe_span *s = &tl->tag[i].name;

		if (s->len == len &&
		    mem_eq(buf + s->off, name, len, dl->nocase))
			return &tl->tag[i];
	}
	return NULL;
}

/* ---- the version tag ---- */

int taglist_version(const struct smtprobe_taglist *tl, const char *buf,
                    struct smtprobe_dnsrec_error *e)
{
	const struct dialect *dl = dialect_of(tl->dialect);
	const struct smtprobe_tag *t = &tl->tag[0];
	size_t vlen = strlen(dl->version);
	char q[TAGLIST_QUOTE_SZ];

	/* "begin with": no whitespace first, as the selections see it */
	if (tl->n == 0 || t->name.off != 0 || t->name.len != 1 ||
	    !mem_eq(buf + t->name.off, "v", 1, dl->nocase))
		return taglist_seterr(e, SMTPROBE_DNSREC_E_VERSION,
		                      tl->n > 0 ? t->name : taglist_span(0, 0),
		                      "%s: the record does not start with v=%s",
		                      dl->prefix, dl->version);
	if (t->value.len != vlen ||
	    memcmp(buf + t->value.off, dl->version, vlen) != 0)
		return taglist_seterr(e, SMTPROBE_DNSREC_E_VERSION, t->name,
		                      "%s: v=%s is not %s", dl->prefix,
		                      taglist_quote(q, sizeof(q),
		                                    buf + t->value.off,
		                                    t->value.len),
		                      dl->version);
	return 0;
}

/* Whether s starts with the version tag, "v=STSv1" then whitespace, ";"
 * or the end (DMARC: "v" in either case, whitespace around "="). */
static int starts_with_version(const struct dialect *dl, const char *s,
                               size_t len)
{
	size_t i = 1, vlen = strlen(dl->version);

	if (len == 0 || !(s[0] == 'v' || (dl->nocase && s[0] == 'V')))
		return 0;
	while (dl->wsp_eq && i < len && is_wsp(s[i]))
		i++;
	if (i == len || s[i++] != '=')
		return 0;
	while (dl->wsp_eq && i < len && is_wsp(s[i]))
		i++;
	if (len - i < vlen || memcmp(s + i, dl->version, vlen) != 0)
		return 0;
	for (i += vlen; i < len && is_wsp(s[i]); i++)
		;
	return i == len || s[i] == ';';
}

size_t taglist_select(const struct smtprobe_txt *txt, size_t n,
                      enum smtprobe_taglist_dialect d, size_t *first)
{
	size_t i, count = 0;

	for (i = 0; i < n; i++) {
		if (txt[i].data == NULL ||
		    !starts_with_version(dialect_of(d), txt[i].data,
		                         txt[i].len))
			continue;
		if (count++ == 0 && first != NULL)
			*first = i;
	}
	return count;
}

/* ---- pieces of values ---- */

int taglist_next_item(const char *buf, size_t *pos, size_t end, char sep,
                      struct smtprobe_span *item)
{
	const struct dialect *dl = dialect_of(SMTPROBE_TAGLIST_DKIM);
	const char *s;
	size_t stop;

	if (*pos > end)
		return 0;
	s = memchr(buf + *pos, sep, end - *pos);
	stop = s != NULL ? (size_t)(s - buf) : end;
	*item = trim(dl, buf, *pos, stop);
	*pos = stop + 1; /* past end when the list is done */
	return 1;
}

int taglist_span_is(const char *buf, struct smtprobe_span s, const char *lit)
{
	return s.len == strlen(lit) && mem_eq(buf + s.off, lit, s.len, 1);
}

int taglist_word(const char *buf, struct smtprobe_span s)
{
	const char *p = buf + s.off;
	size_t i;

	if (s.len == 0 || !is_alpha(p[0]) || p[s.len - 1] == '-')
		return 0;
	for (i = 1; i < s.len; i++)
		if (!is_alnum(p[i]) && p[i] != '-')
			return 0;
	return 1;
}

int taglist_ext_name(const char *s, size_t len)
{
	return name_ok(&dialects[SMTPROBE_TAGLIST_MTASTS], s, len);
}

int taglist_ext_value(const char *buf, struct smtprobe_span s)
{
	size_t i;

	if (s.len == 0)
		return 0;
	for (i = 0; i < s.len; i++) {
		char c = buf[s.off + i];

		if (c < 0x21 || c > 0x7e || c == ';' || c == '=')
			return 0;
	}
	return 1;
}

int taglist_hostname(const char *s, size_t len)
{
	size_t i, label = 0;

	if (len == 0 || len > SMTPROBE_DNSREC_MAX_NAME)
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!is_alnum(s[i]) && s[i] != '-')
			return 0;
		if (label == 0 && s[i] == '-')
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0 && s[len - 1] != '-';
}

/* DMARC "!10m": a size in bytes (k, m, g, t: powers of 1024) */
static int size_limit(const char *p, size_t len, uint64_t *out)
{
	static const char units[] = "kmgt";
	uint64_t v = 0;
	unsigned shift = 0;
	size_t i;

	if (len > 0 && !is_digit(p[len - 1])) {
		const char *u = memchr(units, lower(p[len - 1]), 4);

		if (u == NULL)
			return -1;
		shift = 10 * (unsigned)(u - units + 1);
		len--;
	}
	if (len == 0 || len > 15)
		return -1;
	for (i = 0; i < len; i++) {
		if (!is_digit(p[i]))
			return -1;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	if (v == 0 || v > (UINT64_MAX >> shift))
		return -1;
	*out = v << shift;
	return 0;
}

/* The scheme, the characters, and the domain of one URI. */
static int one_uri(const char *buf, struct smtprobe_span el,
                   const struct dialect *dl, const char *tag,
                   struct smtprobe_report_uri *u,
                   struct smtprobe_dnsrec_error *e)
{
	static const char bad[] = "\"<>\\^`{|}!,;";
	const char *p = buf + el.off, *colon, *at, *stop, *host;
	size_t len = el.len, i, rest;
	char q[TAGLIST_QUOTE_SZ];

	memset(u, 0, sizeof(*u));
	if (dl == &dialects[SMTPROBE_TAGLIST_DMARC]) {
		const char *bang = memchr(p, '!', len);

		if (bang != NULL) {
			size_t blen = (size_t)(bang - p);

			if (size_limit(bang + 1, len - blen - 1, &u->max_size) <
			    0)
				return taglist_seterr(
				        e, SMTPROBE_DNSREC_E_VALUE, el,
				        "%s: %s URI %s has a bad size limit",
				        dl->prefix, tag,
				        taglist_quote(q, sizeof(q), p, len));
			len = blen;
		}
	}
	u->uri = taglist_span(el.off, len);
	colon = memchr(p, ':', len);
	for (i = 0; i < len; i++)
		if (p[i] < 0x21 || p[i] > 0x7e ||
		    memchr(bad, p[i], sizeof(bad) - 1) != NULL)
			break;
	if (i < len || colon == NULL || colon == p || colon == p + len - 1 ||
	    !is_alpha(p[0]))
		goto not_uri;
	for (i = 1; p + i < colon; i++)
		if (!is_alnum(p[i]) && memchr("+-.", p[i], 3) == NULL)
			goto not_uri;
	rest = len - (size_t)(colon + 1 - p);
	if (taglist_span_is(p, taglist_span(0, (size_t)(colon - p)),
	                    "mailto")) {
		u->scheme = SMTPROBE_URI_MAILTO;
		stop = memchr(colon + 1, '?', rest);
		stop = stop != NULL ? stop : p + len;
		for (at = stop; at > colon && at[-1] != '@'; at--)
			;
		if (at - 1 <= colon + 1 ||
		    !taglist_hostname(at, (size_t)(stop - at)))
			return taglist_seterr(
			        e, SMTPROBE_DNSREC_E_VALUE, el,
			        "%s: %s URI %s has no valid domain", dl->prefix,
			        tag, taglist_quote(q, sizeof(q), p, len));
		u->domain =
		        taglist_span((size_t)(at - buf), (size_t)(stop - at));
		return 0;
	}
	if (taglist_span_is(p, taglist_span(0, (size_t)(colon - p)), "https")) {
		u->scheme = SMTPROBE_URI_HTTPS;
		if (rest < 3 || memcmp(colon + 1, "//", 2) != 0)
			goto not_uri;
		host = colon + 3;
		for (stop = host; stop < p + len && !memchr("/?#", *stop, 3);
		     stop++)
			;
		for (at = stop; at > host && at[-1] != '@'; at--)
			;
		host = at; /* past any userinfo; then drop the port */
		if (host < stop && *host == '[') {
			at = memchr(host, ']', (size_t)(stop - host));
			stop = at != NULL ? at + 1 : stop;
		} else {
			at = memchr(host, ':', (size_t)(stop - host));
			stop = at != NULL ? at : stop;
		}
		if (stop == host)
			goto not_uri;
		u->domain = taglist_span((size_t)(host - buf),
		                         (size_t)(stop - host));
		return 0;
	}
	u->scheme = SMTPROBE_URI_OTHER;
	if (dl == &dialects[SMTPROBE_TAGLIST_TLSRPT])
		return taglist_seterr(
		        e, SMTPROBE_DNSREC_E_VALUE, el,
		        "%s: %s URI %s is not mailto: or https:", dl->prefix,
		        tag, taglist_quote(q, sizeof(q), p, len));
	return 0;
not_uri:
	return taglist_seterr(e, SMTPROBE_DNSREC_E_VALUE, el,
	                      "%s: %s value %s is not a URI", dl->prefix, tag,
	                      taglist_quote(q, sizeof(q), p, el.len));
}

int taglist_uris(const char *buf, const struct smtprobe_tag *t,
                 enum smtprobe_taglist_dialect d,
                 struct smtprobe_report_uri *uris, size_t *n,
                 struct smtprobe_dnsrec_error *e)
{
	const struct dialect *dl = dialect_of(d);
	size_t pos = t->value.off, end = t->value.off + t->value.len;
	struct smtprobe_span item;
	char tag[16];

	snprintf(tag, sizeof(tag), "%.*s",
	         (int)(t->name.len < 15 ? t->name.len : 15), buf + t->name.off);
	while (taglist_next_item(buf, &pos, end, ',', &item)) {
		int rc;

		if (item.len == 0)
			return taglist_seterr(
			        e, SMTPROBE_DNSREC_E_VALUE, t->name,
			        "%s: %s has an empty URI", dl->prefix, tag);
		if (*n == SMTPROBE_DNSREC_MAX_URIS)
			return taglist_seterr(
			        e, SMTPROBE_DNSREC_E_TOO_MANY, t->name,
			        "%s: %s has more than %d URIs", dl->prefix, tag,
			        SMTPROBE_DNSREC_MAX_URIS);
		rc = one_uri(buf, item, dl, tag, &uris[*n], e);
		if (rc < 0)
			return rc;
		(*n)++;
	}
	return 0;
}
