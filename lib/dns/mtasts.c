/* mtasts.c - MTA-STS (RFC 8461): the TXT record at _mta-sts.DOMAIN
 * (§3.1), the policy file (§3.2) and the matching of MX host names against
 * its mx patterns (§4.1); and the TLS-RPT record at _smtp._tls.DOMAIN
 * (RFC 8460 §3), which shares the record grammar.
 *
 * The TXT records are read with the tag-list rules of taglist.c (names
 * case-sensitive, no space around "="); v=STSv1 / v=TLSRPTv1 must come
 * first. A tag twice is not forbidden by these RFCs: the first counts and
 * the record says so (duplicates). Extension tags must have the values
 * the grammars allow. MTA-STS needs id= of 1 to 32 letters and digits;
 * TLS-RPT needs rua= with mailto: or https: URIs.
 *
 * The policy is "key: value" lines ended by LF or CRLF (RFC 8461 errata
 * 6253), no space before ":", trailing whitespace dropped, version: STSv1
 * the first field. Oddities that do not change the meaning are flags
 * (line ends, blank lines, a field besides mx twice: the first counts,
 * unknown fields: ignored, as §3.2 says). Anything else is an error
 * naming its line.
 *
 * Limits: a policy of SMTPROBE_MTASTS_MAX_POLICY bytes and
 * SMTPROBE_MTASTS_MAX_MX mx lines at most, the tag-list caps for the
 * records; each is an error. Nothing is allocated. */
#include <stdio.h>
#include <string.h>

#include "taglist.h"

#include "banned.h"

#define STS         SMTPROBE_TAGLIST_MTASTS
#define TLSRPT      SMTPROBE_TAGLIST_TLSRPT
#define ID_MAX      32
#define QUOTE(b, s) taglist_quote(q, sizeof(q), (b) + (s).off, (s).len)

static int name_is(const char *buf, struct smtprobe_span s, const char *lit)
{
	return s.len == strlen(lit) && memcmp(buf + s.off, lit, s.len) == 0;
}

/* Extension tags of either record: the value the grammar allows. */
static int extension(const char *buf, const struct smtprobe_tag *t,
                     enum smtprobe_taglist_dialect d,
                     struct smtprobe_dnsrec_error *e)
{
	if (taglist_ext_value(buf, t->value))
		return 0;
	return taglist_bad_tag(e, SMTPROBE_DNSREC_E_VALUE, d, buf, t,
	                       "is not a valid extension value");
}

/* ---- the TXT record ---- */

static int sts_id(const char *buf, const struct smtprobe_tag *t,
                  struct smtprobe_mtasts_record *out)
{
	size_t i;

	for (i = 0; i < t->value.len; i++) {
		char c = buf[t->value.off + i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		      (c >= 'A' && c <= 'Z')))
			break;
	}
	if (t->value.len == 0 || t->value.len > ID_MAX || i < t->value.len)
		return taglist_bad_tag(&out->error, SMTPROBE_DNSREC_E_VALUE,
		                       STS, buf, t,
		                       "is not 1 to 32 letters and digits");
	out->id = t->value;
	return 0;
}

int smtprobe_mtasts_record_parse(const char *buf, size_t len,
                                 struct smtprobe_mtasts_record *out)
{
	struct smtprobe_taglist tl;
	size_t i;
	int rc, have_id = 0;

	memset(out, 0, sizeof(*out));
	rc = smtprobe_taglist_parse(buf, len, STS, &tl);
	if (rc < 0) {
		out->error = tl.error;
		return rc;
	}
	rc = taglist_version(&tl, buf, &out->error);
	if (rc < 0)
		return rc;
	out->duplicates = tl.duplicates;
	for (i = 1; i < tl.n && rc == 0; i++) {
		const struct smtprobe_tag *t = &tl.tag[i];

		if (!name_is(buf, t->name, "id"))
			rc = extension(buf, t, STS, &out->error);
		else if (!have_id++)
			rc = sts_id(buf, t, out);
	}
	if (rc == 0 && !have_id)
		rc = taglist_seterr(&out->error, SMTPROBE_DNSREC_E_MISSING,
		                    tl.tag[0].name, "mta-sts: id= is missing");
	return rc;
}

size_t smtprobe_mtasts_select(const struct smtprobe_txt *txt, size_t n,
                              size_t *first)
{
	return taglist_select(txt, n, STS, first);
}

/* ---- the policy file ---- */

static const char *const mode_names[] = {
        [SMTPROBE_MTASTS_UNSET] = "unset",
        [SMTPROBE_MTASTS_ENFORCE] = "enforce",
        [SMTPROBE_MTASTS_TESTING] = "testing",
        [SMTPROBE_MTASTS_NONE] = "none",
};

const char *smtprobe_mtasts_mode_name(enum smtprobe_mtasts_mode m)
{
	return (unsigned)m <= SMTPROBE_MTASTS_NONE ? mode_names[m] : "?";
}

static int fail(struct smtprobe_mtasts_policy *out, int code,
                struct smtprobe_span at, const char *what, const char *buf,
                struct smtprobe_span val, const char *why)
{
	char q[TAGLIST_QUOTE_SZ];

	return taglist_seterr(&out->error, code, at,
	                      "mta-sts: line %u: %s%s %s", out->error.line,
	                      what, QUOTE(buf, val), why);
}

static int version(const char *buf, struct smtprobe_span v,
                   struct smtprobe_mtasts_policy *out)
{
	if (name_is(buf, v, "STSv1"))
		return 0;
	return fail(out, SMTPROBE_DNSREC_E_VERSION, v, "version: ", buf, v,
	            "is not STSv1");
}

static int mode(const char *buf, struct smtprobe_span v,
                struct smtprobe_mtasts_policy *out)
{
	unsigned i;

	for (i = SMTPROBE_MTASTS_ENFORCE; i <= SMTPROBE_MTASTS_NONE; i++)
		if (name_is(buf, v, mode_names[i])) {
			out->mode = (enum smtprobe_mtasts_mode)i;
			return 0;
		}
	return fail(out, SMTPROBE_DNSREC_E_VALUE, v, "mode: ", buf, v,
	            "is not enforce, testing or none");
}

static int max_age(const char *buf, struct smtprobe_span v,
                   struct smtprobe_mtasts_policy *out)
{
	if (taglist_number(buf, v, 10, SMTPROBE_MTASTS_MAX_AGE,
	                   &out->max_age) == 0)
		return 0;
	return fail(out, SMTPROBE_DNSREC_E_VALUE, v, "max_age: ", buf, v,
	            "is not a number of seconds from 0 to 31557600");
}

static int mx(const char *buf, struct smtprobe_span v,
              struct smtprobe_mtasts_policy *out)
{
	const char *p = buf + v.off;
	int wild = v.len > 2 && p[0] == '*' && p[1] == '.';

	if (!(wild ? taglist_hostname(p + 2, v.len - 2)
	           : taglist_hostname(p, v.len)))
		return fail(out, SMTPROBE_DNSREC_E_VALUE, v, "mx: ", buf, v,
		            "is not a host name or *.domain pattern");
	if (out->nmx == SMTPROBE_MTASTS_MAX_MX)
		return taglist_seterr(&out->error, SMTPROBE_DNSREC_E_TOO_MANY,
		                      v, "mta-sts: more than %d mx: lines",
		                      SMTPROBE_MTASTS_MAX_MX);
	out->mx[out->nmx++] = v;
	return 0;
}

/* The fields of §3.2, as data; once: a bit of "seen", 0 for mx. */
enum { SEEN_VERSION = 1u << 0, SEEN_MODE = 1u << 1, SEEN_MAX_AGE = 1u << 2 };

static const struct policy_field {
	const char *name;
	unsigned once;
	int (*fn)(const char *buf, struct smtprobe_span v,
	          struct smtprobe_mtasts_policy *out);
} policy_fields[] = {
        {"version", SEEN_VERSION, version},
        {"mode", SEEN_MODE, mode},
        {"max_age", SEEN_MAX_AGE, max_age},
        {"mx", 0, mx},
};

/* One "key: value" line, [from, to) without its line end. */
static int field(const char *buf, size_t from, size_t to, unsigned *seen,
                 int first, struct smtprobe_mtasts_policy *out)
{
	const char *colon = memchr(buf + from, ':', to - from);
	struct smtprobe_span line = taglist_span(from, to - from), key, v;
	const struct policy_field *f = NULL;
	size_t i;

	for (i = from; i < to; i++)
		if (((unsigned char)buf[i] < 0x20 && buf[i] != '\t') ||
		    buf[i] == 0x7f)
			return fail(out, SMTPROBE_DNSREC_E_SYNTAX, line, "",
			            buf, line, "has a control byte");
	if (colon == NULL)
		return fail(out, SMTPROBE_DNSREC_E_SYNTAX, line, "", buf, line,
		            "is not 'key: value'");
	key = taglist_span(from, (size_t)(colon - buf) - from);
	v = taglist_span((size_t)(colon - buf) + 1,
	                 to - (size_t)(colon - buf) - 1);
	while (v.len > 0 && (buf[v.off] == ' ' || buf[v.off] == '\t')) {
		v.off++;
		v.len--;
	}
	if (!taglist_ext_name(buf + key.off, key.len))
		return fail(out, SMTPROBE_DNSREC_E_SYNTAX, key, "", buf, key,
		            "is not a field name");
	if (first && !name_is(buf, key, "version"))
		return taglist_seterr(&out->error, SMTPROBE_DNSREC_E_VERSION,
		                      key,
		                      "mta-sts: the policy does not start with "
		                      "version: STSv1");
	for (i = 0; i < sizeof(policy_fields) / sizeof(policy_fields[0]); i++)
		if (name_is(buf, key, policy_fields[i].name))
			f = &policy_fields[i];
	if (f == NULL) {
		out->flags |= SMTPROBE_MTASTS_F_UNKNOWN;
		return 0;
	}
	if (*seen & f->once) {
		out->flags |= SMTPROBE_MTASTS_F_DUP;
		return 0;
	}
	*seen |= f->once;
	return f->fn(buf, v, out);
}

int smtprobe_mtasts_policy_parse(const char *buf, size_t len,
                                 struct smtprobe_mtasts_policy *out)
{
	size_t pos = 0, fields = 0;
	unsigned seen = 0;
	int blank = 0;

	memset(out, 0, sizeof(*out));
	if (len > SMTPROBE_MTASTS_MAX_POLICY)
		return taglist_seterr(&out->error, SMTPROBE_DNSREC_E_TOO_LONG,
		                      taglist_span(0, 0),
		                      "mta-sts: the policy is longer than %d "
		                      "bytes",
		                      SMTPROBE_MTASTS_MAX_POLICY);
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t eol = nl != NULL ? (size_t)(nl - buf) : len, end = eol;
		int rc;

		out->error.line++;
		if (nl != NULL && end > pos && buf[end - 1] == '\r') {
			end--;
			out->flags |= SMTPROBE_MTASTS_F_CRLF;
		} else if (nl != NULL) {
			out->flags |= SMTPROBE_MTASTS_F_LF;
		}
		while (end > pos &&
		       (buf[end - 1] == ' ' || buf[end - 1] == '\t'))
			end--;
		if (end == pos) {
			blank = 1;
		} else {
			if (blank)
				out->flags |= SMTPROBE_MTASTS_F_BLANK;
			blank = 0;
			rc = field(buf, pos, end, &seen, fields++ == 0, out);
			if (rc < 0)
				return rc;
		}
		pos = nl != NULL ? eol + 1 : len;
	}
	out->error.line = 0;
	if (fields == 0)
		return taglist_seterr(&out->error, SMTPROBE_DNSREC_E_VERSION,
		                      taglist_span(0, 0),
		                      "mta-sts: the policy is empty");
	if (!(seen & SEEN_MODE))
		return taglist_seterr(&out->error, SMTPROBE_DNSREC_E_MISSING,
		                      taglist_span(0, 0),
		                      "mta-sts: no mode: field");
	if (!(seen & SEEN_MAX_AGE))
		return taglist_seterr(&out->error, SMTPROBE_DNSREC_E_MISSING,
		                      taglist_span(0, 0),
		                      "mta-sts: no max_age: field");
	if (out->nmx == 0 && out->mode != SMTPROBE_MTASTS_NONE)
		return taglist_seterr(&out->error, SMTPROBE_DNSREC_E_MISSING,
		                      taglist_span(0, 0),
		                      "mta-sts: no mx: field (one is needed "
		                      "unless mode is none)");
	return 0;
}

/* ---- mx matching ---- */

int smtprobe_mtasts_mx_match(const char *pattern, size_t plen, const char *host,
                             size_t hlen)
{
	const char *dot;

	if (plen > 0 && pattern[plen - 1] == '.')
		plen--;
	if (hlen > 0 && host[hlen - 1] == '.')
		hlen--;
	if (plen == 0 || hlen == 0)
		return 0;
	if (plen < 2 || pattern[0] != '*' || pattern[1] != '.')
		return plen == hlen &&
		       smtprobe_dnsrec_domain_eq(pattern, plen, host, hlen);
	/* "*.example.com": one whole label, then ".example.com" */
	dot = memchr(host, '.', hlen);
	if (dot == NULL || dot == host)
		return 0;
	hlen -= (size_t)(dot - host);
	return plen - 1 == hlen &&
	       smtprobe_dnsrec_domain_eq(pattern + 1, plen - 1, dot, hlen);
}

long smtprobe_mtasts_policy_match(const struct smtprobe_mtasts_policy *p,
                                  const char *buf, const char *host,
                                  size_t hlen)
{
	size_t i;

	for (i = 0; i < p->nmx; i++)
		if (smtprobe_mtasts_mx_match(buf + p->mx[i].off, p->mx[i].len,
		                             host, hlen))
			return (long)i;
	return -1;
}

/* ---- TLS-RPT ---- */

int smtprobe_tlsrpt_parse(const char *buf, size_t len,
                          struct smtprobe_tlsrpt *out)
{
	struct smtprobe_taglist tl;
	size_t i;
	int rc, have_rua = 0;

	memset(out, 0, sizeof(*out));
	rc = smtprobe_taglist_parse(buf, len, TLSRPT, &tl);
	if (rc < 0) {
		out->error = tl.error;
		return rc;
	}
	rc = taglist_version(&tl, buf, &out->error);
	if (rc < 0)
		return rc;
	out->duplicates = tl.duplicates;
	for (i = 1; i < tl.n && rc == 0; i++) {
		const struct smtprobe_tag *t = &tl.tag[i];

		if (!name_is(buf, t->name, "rua"))
			rc = extension(buf, t, TLSRPT, &out->error);
		else if (!have_rua++)
			rc = taglist_uris(buf, t, TLSRPT, out->rua, &out->nrua,
			                  &out->error);
	}
	if (rc == 0 && !have_rua)
		rc = taglist_seterr(&out->error, SMTPROBE_DNSREC_E_MISSING,
		                    tl.tag[0].name, "tls-rpt: rua= is missing");
	return rc;
}

size_t smtprobe_tlsrpt_select(const struct smtprobe_txt *txt, size_t n,
                              size_t *first)
{
	return taglist_select(txt, n, TLSRPT, first);
}
