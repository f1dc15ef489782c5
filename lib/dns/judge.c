/* judge.c - the judgement of `smtprobe dns DOMAIN` (dnscheck.h): facts
 * in, the report out. Here: the report's assembly (every id of
 * smtprobe_dc_check_ids, in that order, exactly once - dkim.key once per
 * selector), the helpers judge_auth.c shares (judge_int.h), and the checks
 * of the MX hosts (mx.*, ptr.*), MTA-STS, TLS-RPT, DANE and DNSSEC.
 *
 * Pure: no I/O, no allocation; the same facts give the same report.
 * Every answer is read through jd_kind(): one not asked skips its check,
 * a DNSSEC-bogus one is never used as data (its checks skip and say so,
 * dnssec.status fails with the validator's reason), one that failed
 * (servfail, timeout) makes its check a warn saying it could not tell.
 * Per-MX checks are one row each over every MX host (host set when one
 * host is concerned). With no MX record but mxs[] filled, mxs[] is the
 * implicit MX of RFC 5321 §5.1 (the domain itself).
 *
 * Limits: texts and fixes are cut at their fields' size and then end in
 * "..."; records are quoted escaped and cut (JD_QUOTE). A record list
 * truncated by the collection (more than SMTPROBE_DC_MAX_RECORDS) or more
 * MX hosts than SMTPROBE_DC_MAX_MX are said in the texts. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "judge_int.h"
#include "smtprobe/reply.h"

#include "banned.h"

#define JD_NIDS 25 /* ids in smtprobe_dc_check_ids */
_Static_assert(JD_NIDS - 1 + SMTPROBE_DC_MAX_SELECTORS <=
                       SMTPROBE_DC_MAX_CHECKS,
               "the report has room for every row");

#define STS_MIN_AGE 86400UL /* RFC 8461 §3.2 expects weeks */

const char *const smtprobe_dc_check_ids[JD_NIDS + 1] = {
        "mx.present",     "mx.null",          "mx.cname",
        "mx.resolves",    "ptr.present",      "ptr.fcrdns",
        "spf.present",    "spf.multiple",     "spf.syntax",
        "spf.lookups",    "spf.void_lookups", "spf.all",
        "spf.result",     "dmarc.present",    "dmarc.multiple",
        "dmarc.syntax",   "dmarc.policy",     "dmarc.rua_external_auth",
        "dkim.key",       "mta_sts.record",   "mta_sts.policy",
        "mta_sts.mx_match", "tlsrpt.present", "dane.tlsa",
        "dnssec.status",  NULL};

const char *smtprobe_dc_status_name(enum smtprobe_dc_status s)
{
	static const char *const names[] = {"pass", "warn", "fail", "info",
	                                    "skip"};

	return (unsigned)s <= SMTPROBE_DC_SKIP ? names[s] : "?";
}

/* ---- shared helpers (judge_int.h) ---- */

enum jd_kind jd_kind(const struct smtprobe_dc_answer *a)
{
	if (!a->asked)
		return JD_UNASKED;
	if (a->dnssec == SMTPROBE_DNSSEC_BOGUS)
		return JD_BOGUS;
	switch (a->status) {
	case SMTPROBE_DNS_OK:
		return a->n > 0 ? JD_DATA : JD_EMPTY;
	case SMTPROBE_DNS_NODATA:
		return JD_EMPTY;
	case SMTPROBE_DNS_NXDOMAIN:
		return JD_NXDOMAIN;
	default:
		return JD_FAILED;
	}
}

struct smtprobe_dc_check *jd_row(struct smtprobe_dc_report *r, const char *id)
{
	/* the static assertion above keeps n below the cap */
	struct smtprobe_dc_check *c =
	        &r->check[r->n < SMTPROBE_DC_MAX_CHECKS ? r->n++ : r->n - 1];

	memset(c, 0, sizeof(*c));
	c->id = id;
	c->status = SMTPROBE_DC_SKIP;
	return c;
}

static void vappend(char *buf, size_t sz, const char *fmt, va_list ap)
{
	size_t len = strlen(buf);
	int n;

	if (len + 1 >= sz)
		return; /* full: already cut */
	n = vsnprintf(buf + len, sz - len, fmt, ap);
	if (n >= 0 && (size_t)n >= sz - len)
		memcpy(buf + sz - 4, "...", 4);
}

void jd_set(struct smtprobe_dc_check *c, enum smtprobe_dc_status s,
            const char *fmt, ...)
{
	va_list ap;

	c->status = s;
	c->text[0] = '\0';
	va_start(ap, fmt);
	vappend(c->text, sizeof(c->text), fmt, ap);
	va_end(ap);
}

void jd_text(struct smtprobe_dc_check *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vappend(c->text, sizeof(c->text), fmt, ap);
	va_end(ap);
}

void jd_fix(struct smtprobe_dc_check *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vappend(c->fix, sizeof(c->fix), fmt, ap);
	va_end(ap);
}

void jd_worse(struct smtprobe_dc_check *c, enum smtprobe_dc_status s)
{
	static const unsigned char rank[] = {[SMTPROBE_DC_PASS] = 1,
	                                     [SMTPROBE_DC_WARN] = 3,
	                                     [SMTPROBE_DC_FAIL] = 4,
	                                     [SMTPROBE_DC_INFO] = 2,
	                                     [SMTPROBE_DC_SKIP] = 0};

	if (rank[s] > rank[c->status])
		c->status = s;
}

const char *jd_quote(char *out, size_t outsz, const char *s, size_t len)
{
	size_t max = JD_QUOTE - 8 < outsz ? JD_QUOTE - 8 : outsz;

	if (smtprobe_escape(out, max, s, len) >= max && max > 4)
		memcpy(out + max - 4, "...", 4);
	return out;
}

const char *jd_problem(char *out, size_t outsz,
                       const struct smtprobe_dc_answer *a)
{
	char why[JD_QUOTE];

	if (a->dnssec == SMTPROBE_DNSSEC_BOGUS)
		snprintf(out, outsz, "%s",
		         a->why[0] ? jd_quote(why, sizeof(why), a->why,
		                              strlen(a->why))
		                   : "bogus, no reason given");
	else if (a->why[0])
		snprintf(out, outsz, "%s (%s)", smtprobe_dns_status_name(a->status),
		         jd_quote(why, sizeof(why), a->why, strlen(a->why)));
	else
		snprintf(out, outsz, "%s", smtprobe_dns_status_name(a->status));
	return out;
}

int jd_unusable(struct smtprobe_dc_check *c,
                const struct smtprobe_dc_answer *a, const char *what)
{
	char why[JD_QUOTE + 32];

	switch (jd_kind(a)) {
	case JD_UNASKED:
		jd_set(c, SMTPROBE_DC_SKIP, "not looked up: %s", what);
		return 1;
	case JD_BOGUS:
		jd_set(c, SMTPROBE_DC_SKIP,
		       "not judged: %s is DNSSEC-bogus (%s); its data is not "
		       "trusted (see dnssec.status)",
		       what, jd_problem(why, sizeof(why), a));
		return 1;
	case JD_FAILED:
		jd_set(c, SMTPROBE_DC_WARN, "could not tell: %s: %s", what,
		       jd_problem(why, sizeof(why), a));
		jd_fix(c, "check that the domain's name servers answer this "
		          "query (dig +dnssec), then run again");
		return 1;
	default:
		return 0;
	}
}

size_t jd_txts(const struct smtprobe_dc_answer *a, struct smtprobe_txt *txt)
{
	size_t n = a->n < SMTPROBE_DC_MAX_RECORDS ? a->n : SMTPROBE_DC_MAX_RECORDS;

	for (size_t i = 0; i < n; i++) {
		txt[i].data = a->rec[i];
		txt[i].len = strnlen(a->rec[i], SMTPROBE_DC_RECORD);
	}
	return n;
}

int jd_in_domain(const char *a, const char *b)
{
	size_t al = strlen(a), bl = strlen(b);

	if (al > 0 && a[al - 1] == '.')
		al--;
	if (bl > 0 && b[bl - 1] == '.')
		bl--;
	if (al == bl)
		return smtprobe_dnsrec_domain_eq(a, al, b, bl);
	return bl > 0 && al > bl && a[al - bl - 1] == '.' &&
	       smtprobe_dnsrec_domain_eq(a + al - bl, bl, b, bl);
}

/* "PREF NAME": the name, or NULL for a malformed record */
static const char *mx_name(const char *rec, unsigned long *pref)
{
	char *end;

	*pref = strtoul(rec, &end, 10);
	return end != rec && *end == ' ' ? end + 1 : NULL;
}

void jd_mx_shape(const struct smtprobe_dc_facts *f, size_t *nnull,
                 size_t *nreal)
{
	*nnull = *nreal = 0;
	if (jd_kind(&f->mx) != JD_DATA)
		return;
	for (size_t i = 0; i < f->mx.n && i < SMTPROBE_DC_MAX_RECORDS; i++) {
		unsigned long pref;
		const char *name = mx_name(f->mx.rec[i], &pref);

		if (name && (!name[0] || strcmp(name, ".") == 0))
			++*nnull;
		else
			++*nreal;
	}
}

int jd_takes_no_mail(const struct smtprobe_dc_facts *f)
{
	size_t nnull, nreal;

	jd_mx_shape(f, &nnull, &nreal);
	return nnull > 0 && nreal == 0;
}

/* ---- the MX hosts ---- */

static size_t nmx(const struct smtprobe_dc_facts *f)
{
	return f->nmx < SMTPROBE_DC_MAX_MX ? f->nmx : SMTPROBE_DC_MAX_MX;
}

/* The per-MX checks have hosts to look at: a trusted MX answer with real
 * hosts, or the implicit MX. Else the row skips, saying why. */
static int have_hosts(const struct smtprobe_dc_facts *f,
                      struct smtprobe_dc_check *c)
{
	enum jd_kind k = jd_kind(&f->mx);

	if (k == JD_BOGUS || k == JD_FAILED || k == JD_UNASKED)
		jd_set(c, SMTPROBE_DC_SKIP, "no trusted MX answer (see "
		                            "mx.present)");
	else if (jd_takes_no_mail(f))
		jd_set(c, SMTPROBE_DC_SKIP, "the domain takes no mail (null "
		                            "MX)");
	else if (nmx(f) == 0)
		jd_set(c, SMTPROBE_DC_SKIP, "no MX host (see mx.present)");
	else
		return 1;
	if (nmx(f) == 1)
		snprintf(c->host, sizeof(c->host), "%s", f->mxs[0].host);
	return 0;
}

/* the row names the one host concerned: the only MX, or the only bad one */
static void one_host(struct smtprobe_dc_check *c,
                     const struct smtprobe_dc_facts *f, size_t nbad,
                     const char *bad)
{
	if (nmx(f) == 1)
		snprintf(c->host, sizeof(c->host), "%s", f->mxs[0].host);
	else if (nbad == 1)
		snprintf(c->host, sizeof(c->host), "%s", bad);
}

static void mx_present(const struct smtprobe_dc_facts *f,
                       struct smtprobe_dc_report *r)
{
	struct smtprobe_dc_check *c = jd_row(r, "mx.present");
	const char *d = f->domain;
	size_t nnull, nreal;
	char what[300];

	snprintf(what, sizeof(what), "MX at %s", d);
	if (jd_unusable(c, &f->mx, what))
		return;
	jd_mx_shape(f, &nnull, &nreal);
	if (jd_kind(&f->mx) == JD_NXDOMAIN) {
		jd_set(c, SMTPROBE_DC_FAIL,
		       "%s does not exist (NXDOMAIN): mail to any address @%s "
		       "bounces",
		       d, d);
		jd_fix(c, "create the zone and publish '%s. MX 10 mail.%s.' "
		          "(or '%s. MX 0 .' if it takes no mail)",
		       d, d, d);
	} else if (nnull + nreal == 0) {
		const struct smtprobe_dc_mx *m = &f->mxs[0];

		if (nmx(f) > 0 &&
		    (jd_kind(&m->a) == JD_DATA || jd_kind(&m->aaaa) == JD_DATA)) {
			jd_set(c, SMTPROBE_DC_WARN,
			       "no MX record: senders fall back to %s's own "
			       "address %s (implicit MX, RFC 5321 §5.1)",
			       d,
			       jd_kind(&m->a) == JD_DATA ? m->a.rec[0]
			                                 : m->aaaa.rec[0]);
			jd_fix(c, "publish '%s. MX 10 %s.' to make it explicit, "
			          "or '%s. MX 0 .' (null MX, RFC 7505) if "
			          "that host takes no mail",
			       d, d, d);
		} else {
			jd_set(c, SMTPROBE_DC_FAIL,
			       "no MX record and no address: mail to @%s "
			       "cannot be delivered (RFC 5321 §5.1)",
			       d);
			jd_fix(c, "publish '%s. MX 10 mail.%s.' naming your "
			          "mail server (with its A/AAAA record), or "
			          "'%s. MX 0 .' (null MX, RFC 7505) if the "
			          "domain takes no mail",
			       d, d, d);
		}
	} else if (nreal == 0) {
		jd_set(c, SMTPROBE_DC_PASS,
		       "a null MX (RFC 7505): the domain says it takes no mail "
		       "(see mx.null)");
	} else {
		jd_set(c, SMTPROBE_DC_PASS, "%zu MX record%s:", f->mx.n,
		       f->mx.n == 1 ? "" : "s");
		for (size_t i = 0; i < f->mx.n && i < SMTPROBE_DC_MAX_RECORDS;
		     i++)
			jd_text(c, "%s %s", i ? "," : "", f->mx.rec[i]);
		if (f->mx.truncated)
			jd_text(c, " (more than %d: only those kept)",
			        SMTPROBE_DC_MAX_RECORDS);
		if (nreal > nmx(f))
			jd_text(c, "; the checks below look at the first %zu "
			           "hosts only",
			        nmx(f));
	}
}

static void mx_null(const struct smtprobe_dc_facts *f,
                    struct smtprobe_dc_report *r)
{
	struct smtprobe_dc_check *c = jd_row(r, "mx.null");
	const char *d = f->domain;
	unsigned long pref = 0;
	size_t nnull, nreal;

	if (jd_kind(&f->mx) != JD_DATA) {
		jd_set(c, SMTPROBE_DC_SKIP, "no MX record (see mx.present)");
		return;
	}
	jd_mx_shape(f, &nnull, &nreal);
	if (nnull == 0) {
		jd_set(c, SMTPROBE_DC_PASS, "no null MX: the domain takes mail");
		return;
	}
	if (nreal > 0) {
		jd_set(c, SMTPROBE_DC_FAIL,
		       "a null MX ('0 .') next to %zu other MX record%s: RFC "
		       "7505 §3 forbids mixing them; senders may bounce mail "
		       "at once or use the others",
		       nreal, nreal == 1 ? "" : "s");
		jd_fix(c, "remove '%s. MX 0 .' if the domain takes mail, or "
		          "the other MX records if it does not",
		       d);
		return;
	}
	for (size_t i = 0; i < f->mx.n && i < SMTPROBE_DC_MAX_RECORDS; i++)
		if (mx_name(f->mx.rec[i], &pref) && pref != 0)
			break;
	jd_set(c, SMTPROBE_DC_INFO,
	       "%s takes no mail (null MX, RFC 7505): senders bounce mail to "
	       "it at once instead of retrying for days",
	       d);
	if (pref != 0 || nnull > 1) {
		jd_worse(c, SMTPROBE_DC_WARN);
		jd_text(c, "; but RFC 7505 §3 wants exactly one, '0 .'");
		jd_fix(c, "publish the null MX once: '%s. MX 0 .'", d);
	}
	if (jd_spf_authorises(f) == 1) {
		jd_worse(c, SMTPROBE_DC_WARN);
		jd_text(c, "; yet its SPF authorises senders: bounces to mail "
		           "from @%s cannot be delivered and receivers may "
		           "refuse it (RFC 7505 §4.2, 550 5.7.27)",
		        d);
		jd_fix(c, "%sif %s sends no mail, publish '%s. TXT \"v=spf1 "
		          "-all\"'; if it does, replace the null MX with an MX "
		          "that receives its bounces",
		       c->fix[0] ? "; " : "", d, d);
	} else {
		jd_text(c, "; its SPF authorises no sender, as it should");
	}
}

static void mx_cname(const struct smtprobe_dc_facts *f,
                     struct smtprobe_dc_report *r)
{
	struct smtprobe_dc_check *c = jd_row(r, "mx.cname");
	size_t nbad = 0, nunk = 0;
	const char *bad = "";

	if (!have_hosts(f, c))
		return;
	jd_set(c, SMTPROBE_DC_PASS, "no MX target is an alias (CNAME)");
	for (size_t i = 0; i < nmx(f); i++) {
		const struct smtprobe_dc_mx *m = &f->mxs[i];
		const char *target = NULL;
		enum jd_kind k = jd_kind(&m->cname);

		if (k == JD_DATA)
			target = m->cname.rec[0];
		else if (m->a.canonname[0] &&
		         !jd_in_domain(m->a.canonname, m->host) &&
		         jd_kind(&m->a) != JD_BOGUS)
			target = m->a.canonname;
		if (target) {
			if (nbad++ == 0)
				jd_set(c, SMTPROBE_DC_FAIL, "alias:");
			bad = m->host;
			jd_text(c, " %s is a CNAME to %s;", m->host, target);
			jd_fix(c, "%sreplace '%s. MX %u %s.' with '%s. MX %u "
			          "%s.'",
			       nbad > 1 ? "; " : "", f->domain, m->pref,
			       m->host, f->domain, m->pref, target);
		} else if (k == JD_FAILED || k == JD_BOGUS) {
			nunk++;
		}
	}
	if (nbad)
		jd_text(c, " an MX must name a host, not an alias (RFC 2181 "
		           "§10.3, RFC 5321 §5.1): some senders refuse it, and "
		           "MTA-STS and DANE name checks see two names");
	else if (nunk) {
		jd_set(c, SMTPROBE_DC_WARN, "could not tell for %zu of %zu MX "
		                            "hosts: their CNAME lookup failed "
		                            "or is bogus",
		       nunk, nmx(f));
	}
	one_host(c, f, nbad, bad);
}

static int is_addr(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 ||
	       inet_pton(AF_INET6, s, buf) == 1;
}

static void mx_resolves(const struct smtprobe_dc_facts *f,
                        struct smtprobe_dc_report *r)
{
	struct smtprobe_dc_check *c = jd_row(r, "mx.resolves");
	size_t nbad = 0, nunk = 0, nv6 = 0;
	const char *bad = "";
	char why[JD_QUOTE + 32];

	if (!have_hosts(f, c))
		return;
	jd_set(c, SMTPROBE_DC_PASS, "every MX host has addresses:");
	for (size_t i = 0; i < nmx(f); i++) {
		const struct smtprobe_dc_mx *m = &f->mxs[i];
		enum jd_kind k4 = jd_kind(&m->a), k6 = jd_kind(&m->aaaa);

		if (k6 == JD_DATA)
			nv6++;
		if (k4 == JD_DATA || k6 == JD_DATA) {
			if (nbad + nunk == 0)
				jd_text(c, " %s %s%s;", m->host,
				        k4 == JD_DATA ? m->a.rec[0]
				                      : m->aaaa.rec[0],
				        m->a.n + m->aaaa.n > 1 ? " and more" : "");
			continue;
		}
		if (k4 == JD_FAILED || k4 == JD_BOGUS || k6 == JD_FAILED ||
		    k6 == JD_BOGUS) {
			nunk++;
			continue;
		}
		if (nbad++ == 0)
			jd_set(c, SMTPROBE_DC_FAIL, "no address:");
		bad = m->host;
		jd_text(c, " %s (A: %s)%s;", m->host,
		        jd_problem(why, sizeof(why), &m->a),
		        is_addr(m->host) ? ", an address where a host name "
		                           "belongs"
		                         : "");
		jd_fix(c, "%spublish '%s. A <address>' or point the MX at a "
		          "host that has one",
		       nbad > 1 ? "; " : "", m->host);
	}
	if (nbad) {
		jd_text(c, " senders cannot deliver through %s",
		        nbad == nmx(f) ? "any MX: mail bounces"
		        : nbad == 1    ? "it"
		                       : "them");
		if (nbad < nmx(f))
			c->status = SMTPROBE_DC_WARN;
	} else if (nunk) {
		jd_set(c, SMTPROBE_DC_WARN,
		       "could not tell for %zu of %zu MX hosts: their address "
		       "lookups failed or are bogus",
		       nunk, nmx(f));
	} else {
		jd_text(c, " IPv6: %zu of %zu host%s%s", nv6, nmx(f),
		        nmx(f) == 1 ? "" : "s",
		        nv6 ? "" : " (mail arrives over IPv4 only)");
	}
	one_host(c, f, nbad, bad);
}

/* ---- reverse DNS of the MX addresses ---- */

static int same_addr(const char *a, const char *b)
{
	unsigned char x[16], y[16];

	if (inet_pton(AF_INET, a, x) == 1 && inet_pton(AF_INET, b, y) == 1)
		return memcmp(x, y, 4) == 0;
	if (inet_pton(AF_INET6, a, x) == 1 && inet_pton(AF_INET6, b, y) == 1)
		return memcmp(x, y, 16) == 0;
	return 0;
}

/* 3.0.0.127.in-addr.arpa, or the ip6.arpa nibbles */
static const char *reverse_name(const char *addr, char *out, size_t outsz)
{
	unsigned char b[16];
	size_t o = 0;

	if (inet_pton(AF_INET, addr, b) == 1) {
		snprintf(out, outsz, "%u.%u.%u.%u.in-addr.arpa", b[3], b[2],
		         b[1], b[0]);
	} else if (inet_pton(AF_INET6, addr, b) == 1 && outsz >= 74) {
		for (int i = 15; i >= 0; i--) {
			o += (size_t)snprintf(out + o, outsz - o, "%x.%x.",
			                      b[i] & 15, b[i] >> 4);
		}
		snprintf(out + o, outsz - o, "ip6.arpa");
	} else {
		snprintf(out, outsz, "the reverse name of %s", addr);
	}
	return out;
}

enum ptr_state { PTR_SKIP, PTR_OK, PTR_NONE, PTR_UNKNOWN };

static enum ptr_state ptr_of(const struct smtprobe_dc_addr *ad)
{
	switch (jd_kind(&ad->ptr)) {
	case JD_UNASKED:
		return PTR_SKIP;
	case JD_DATA:
		return PTR_OK;
	case JD_NXDOMAIN:
	case JD_EMPTY:
		return PTR_NONE;
	default:
		return PTR_UNKNOWN;
	}
}

/* Forward-confirmed: one of the PTR names resolves back to the address.
 * 1 yes, 0 no, -1 could not tell. */
static int fcrdns(const struct smtprobe_dc_addr *ad, const char **name,
                  const char **got)
{
	int unknown = 0;
	size_t n = ad->ptr.n < SMTPROBE_DC_MAX_PTR_NAMES
	                   ? ad->ptr.n
	                   : SMTPROBE_DC_MAX_PTR_NAMES;

	*name = ad->ptr.n ? ad->ptr.rec[0] : "";
	*got = "no address";
	for (size_t k = 0; k < n; k++) {
		const struct smtprobe_dc_answer *fw = &ad->fwd[k];
		enum jd_kind kind = jd_kind(fw);

		if (kind == JD_FAILED || kind == JD_BOGUS ||
		    kind == JD_UNASKED) {
			unknown = 1;
			continue;
		}
		for (size_t j = 0; j < fw->n && j < SMTPROBE_DC_MAX_RECORDS;
		     j++)
			if (same_addr(fw->rec[j], ad->addr)) {
				*name = ad->ptr.rec[k];
				return 1;
			}
		if (k == 0)
			*got = kind == JD_DATA ? fw->rec[0]
			                       : smtprobe_dns_status_name(fw->status);
	}
	return unknown ? -1 : 0;
}

static void ptr_checks(const struct smtprobe_dc_facts *f,
                       struct smtprobe_dc_report *r)
{
	struct smtprobe_dc_check *p = jd_row(r, "ptr.present");
	struct smtprobe_dc_check *fc = jd_row(r, "ptr.fcrdns");
	size_t naddr = 0, pbad = 0, punk = 0, fbad = 0, funk = 0;
	const char *pbad_host = "", *fbad_host = "";
	char rev[80];

	int hp = have_hosts(f, p), hf = have_hosts(f, fc);

	if (!hp || !hf)
		return;
	jd_set(p, SMTPROBE_DC_PASS, "every MX address has a PTR:");
	jd_set(fc, SMTPROBE_DC_PASS, "every PTR name resolves back to its "
	                             "address (FCrDNS):");
	for (size_t i = 0; i < nmx(f); i++) {
		const struct smtprobe_dc_mx *m = &f->mxs[i];

		for (size_t j = 0; j < m->naddr && j < SMTPROBE_DC_MAX_ADDRS;
		     j++) {
			const struct smtprobe_dc_addr *ad = &m->addr[j];
			enum ptr_state st = ptr_of(ad);
			const char *name, *got;
			int ok;

			if (st == PTR_SKIP)
				continue;
			naddr++;
			if (st == PTR_UNKNOWN) {
				punk++;
				funk++;
				continue;
			}
			if (st == PTR_NONE) {
				if (pbad++ == 0)
					jd_set(p, SMTPROBE_DC_FAIL,
					       "no PTR for:");
				if (fbad++ == 0)
					jd_set(fc, SMTPROBE_DC_FAIL,
					       "not forward-confirmed:");
				pbad_host = fbad_host = m->host;
				jd_text(p, " %s (%s);", ad->addr, m->host);
				jd_text(fc, " %s has no PTR;", ad->addr);
				jd_fix(fc, "%spublish the PTR of %s (see "
				           "ptr.present) naming a host whose "
				           "address it is",
				       fbad > 1 ? "; " : "", ad->addr);
				jd_fix(p, "%sthe owner of %s (your provider) "
				          "publishes '%s. PTR %s.'",
				       pbad > 1 ? "; " : "", ad->addr,
				       reverse_name(ad->addr, rev, sizeof(rev)),
				       m->host);
				continue;
			}
			if (pbad == 0)
				jd_text(p, " %s -> %s%s;", ad->addr,
				        ad->ptr.rec[0],
				        ad->ptr.n > 1 ? " (and more: some "
				                        "receivers read only "
				                        "the first)"
				                      : "");
			ok = fcrdns(ad, &name, &got);
			if (ok < 0) {
				funk++;
			} else if (ok == 0) {
				if (fbad++ == 0)
					jd_set(fc, SMTPROBE_DC_FAIL,
					       "not forward-confirmed:");
				fbad_host = m->host;
				jd_text(fc, " %s -> %s -> %s, not back;",
				        ad->addr, name, got);
				jd_fix(fc, "%sset the PTR of %s to a name that "
				           "resolves to it (e.g. %s), or publish "
				           "'%s. %s %s'",
				       fbad > 1 ? "; " : "", ad->addr, m->host,
				       name, strchr(ad->addr, ':') ? "AAAA" : "A",
				       ad->addr);
			} else if (fbad == 0) {
				jd_text(fc, " %s <-> %s;", ad->addr, name);
			}
		}
	}
	if (naddr == 0) {
		jd_set(p, SMTPROBE_DC_SKIP, "no MX address to look up");
		jd_set(fc, SMTPROBE_DC_SKIP, "no MX address to look up");
		return;
	}
	if (pbad) {
		jd_text(p, " receivers that check reverse DNS (Postfix's "
		           "reject_unknown_client_hostname, the large "
		           "providers' sender rules) refuse or junk mail these "
		           "hosts send");
		jd_fix(p, "; give the server that name (Postfix: myhostname, "
		          "smtp_helo_name; Exim: primary_hostname, helo_data)");
	} else if (punk) {
		jd_set(p, SMTPROBE_DC_WARN, "could not tell for %zu of %zu "
		                            "addresses: the PTR lookup failed",
		       punk, naddr);
	}
	if (fbad)
		jd_text(fc, " receivers see the host as 'unknown' (Postfix: "
		            "unknown[ADDR] and reject_unknown_client_hostname)");
	else if (funk)
		jd_set(fc, SMTPROBE_DC_WARN, "could not tell for %zu of %zu "
		                             "addresses: a lookup failed",
		       funk, naddr);
	one_host(p, f, pbad, pbad_host);
	one_host(fc, f, fbad, fbad_host);
}

/* ---- MTA-STS and TLS-RPT ---- */

enum rec_state { REC_UNTRUSTED, REC_NONE, REC_BAD, REC_OK };

struct sts_view {
	enum rec_state record;
	int usable; /* the policy: fetched, 200, text/plain, parsed */
	struct smtprobe_mtasts_policy p;
};

static int text_plain(const char *ct)
{
	size_t n = strlen("text/plain");

	return strncasecmp(ct, "text/plain", n) == 0 &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static void mta_sts_record(const struct smtprobe_dc_facts *f,
                           struct smtprobe_dc_report *r, struct sts_view *v)
{
	struct smtprobe_dc_check *c = jd_row(r, "mta_sts.record");
	struct smtprobe_txt txt[SMTPROBE_DC_MAX_RECORDS];
	struct smtprobe_mtasts_record rec;
	size_t n, first = 0, count;
	const char *d = f->domain;
	char what[300], q[JD_QUOTE];

	snprintf(what, sizeof(what), "TXT at _mta-sts.%s", d);
	v->record = REC_UNTRUSTED;
	if (jd_unusable(c, &f->sts, what))
		return;
	n = jd_txts(&f->sts, txt);
	count = smtprobe_mtasts_select(txt, n, &first);
	v->record = count == 0 ? REC_NONE : count > 1 ? REC_BAD : REC_OK;
	if (count == 0 && jd_takes_no_mail(f)) {
		jd_set(c, SMTPROBE_DC_SKIP, "no MTA-STS record: a domain that "
		                            "takes no mail needs none");
	} else if (count == 0) {
		jd_set(c, SMTPROBE_DC_INFO,
		       "no MTA-STS record at _mta-sts.%s: senders use TLS "
		       "only if offered, and an attacker on the path can "
		       "strip STARTTLS",
		       d);
		jd_fix(c, "publish '_mta-sts.%s TXT \"v=STSv1; "
		          "id=20260101T000000\"' and serve https://mta-sts.%s"
		          "/.well-known/mta-sts.txt as text/plain: 'version: "
		          "STSv1', 'mode: testing', one 'mx: HOST' per MX, "
		          "'max_age: 604800' (mode: enforce once TLS-RPT reports "
		          "are clean)",
		       d, d);
	} else if (count > 1) {
		jd_set(c, SMTPROBE_DC_FAIL,
		       "%zu MTA-STS records: senders apply no policy (RFC "
		       "8461 §3.1)",
		       count);
		jd_fix(c, "keep one '_mta-sts.%s TXT \"v=STSv1; id=...\"'", d);
	} else if (smtprobe_mtasts_record_parse(txt[first].data, txt[first].len,
	                                        &rec) < 0) {
		v->record = REC_BAD;
		jd_set(c, SMTPROBE_DC_FAIL, "%s; senders ignore the record",
		       rec.error.text);
		jd_fix(c, "publish '_mta-sts.%s TXT \"v=STSv1; "
		          "id=20260101T000000\"' (id: 1 to 32 letters and "
		          "digits, changed with every policy change)",
		       d);
	} else {
		jd_set(c, SMTPROBE_DC_PASS, "%s",
		       jd_quote(q, sizeof(q), txt[first].data, txt[first].len));
		if (rec.duplicates)
			jd_text(c, " (a tag twice: the first counts)");
	}
}

static void mta_sts_policy(const struct smtprobe_dc_facts *f,
                           struct smtprobe_dc_report *r, struct sts_view *v)
{
	struct smtprobe_dc_check *c = jd_row(r, "mta_sts.policy");
	const char *d = f->domain;
	char url[300], q[JD_QUOTE];

	v->usable = 0;
	snprintf(url, sizeof(url), "https://mta-sts.%s/.well-known/mta-sts.txt",
	         d);
	if (v->record == REC_UNTRUSTED) {
		jd_set(c, SMTPROBE_DC_SKIP, "no trusted MTA-STS record (see "
		                            "mta_sts.record)");
		return;
	}
	if (!f->sts_fetched) {
		jd_set(c, SMTPROBE_DC_SKIP, "%s",
		       v->record == REC_NONE ? "no MTA-STS record"
		                             : "the policy was not fetched");
		return;
	}
	if (f->sts_error[0] || f->http_status != 200) {
		if (v->record == REC_NONE) {
			jd_set(c, SMTPROBE_DC_SKIP, "no MTA-STS record and no "
			                            "policy");
			return;
		}
		if (f->sts_error[0])
			jd_set(c, SMTPROBE_DC_FAIL, "%s: %s", url,
			       jd_quote(q, sizeof(q), f->sts_error,
			                strlen(f->sts_error)));
		else
			jd_set(c, SMTPROBE_DC_FAIL, "%s answered HTTP %ld", url,
			       f->http_status);
		if (f->http_status >= 300 && f->http_status < 400)
			jd_text(c, " (a redirect: senders must not follow "
			           "it, RFC 8461 §3.3)");
		jd_text(c, "; a record without a policy: senders apply none");
		jd_fix(c, "serve the policy at %s itself (HTTPS with a "
		          "certificate valid for mta-sts.%s, status 200, "
		          "Content-Type: text/plain), or remove the "
		          "_mta-sts.%s record",
		       url, d, d);
		return;
	}
	if (!text_plain(f->content_type)) {
		jd_set(c, SMTPROBE_DC_FAIL,
		       "%s is served as '%s', not text/plain: senders discard "
		       "it (RFC 8461 §3.2)",
		       url,
		       jd_quote(q, sizeof(q), f->content_type,
		                strlen(f->content_type)));
		jd_fix(c, "nginx: 'location = /.well-known/mta-sts.txt { "
		          "default_type text/plain; }'; Apache: 'AddType "
		          "text/plain .txt'");
		return;
	}
	if (!f->sts_policy || smtprobe_mtasts_policy_parse(
	                              f->sts_policy, f->sts_policy_len, &v->p) <
	                              0) {
		jd_set(c, SMTPROBE_DC_FAIL, "%s: %s", url,
		       f->sts_policy ? v->p.error.text : "empty");
		if (f->sts_policy && v->p.error.line)
			jd_text(c, " (line %u)", v->p.error.line);
		jd_fix(c, "serve lines 'version: STSv1', 'mode: enforce', "
		          "'mx: HOST' per MX, 'max_age: 604800' (RFC 8461 "
		          "§3.2)");
		return;
	}
	v->usable = 1;
	if (v->record == REC_NONE) {
		jd_set(c, SMTPROBE_DC_FAIL,
		       "a policy (mode %s) is served but no _mta-sts "
		       "record announces it: new senders never fetch it, "
		       "those that cached it keep it until max_age",
		       smtprobe_mtasts_mode_name(v->p.mode));
		jd_fix(c, "publish '_mta-sts.%s TXT \"v=STSv1; "
		          "id=20260101T000000\"', or to withdraw MTA-STS serve "
		          "'mode: none' for max_age, then remove both (RFC "
		          "8461 §8.3)",
		       d);
		return;
	}
	switch (v->p.mode) {
	case SMTPROBE_MTASTS_ENFORCE:
		jd_set(c, SMTPROBE_DC_PASS, "mode enforce, max_age %lu s, %zu mx "
		                            "pattern%s",
		       v->p.max_age, v->p.nmx, v->p.nmx == 1 ? "" : "s");
		break;
	case SMTPROBE_MTASTS_TESTING:
		jd_set(c, SMTPROBE_DC_WARN,
		       "mode testing: senders report TLS failures (TLS-RPT) but "
		       "still deliver without TLS");
		jd_fix(c, "once the TLS-RPT reports are clean, serve 'mode: "
		          "enforce' and change the id= of _mta-sts.%s",
		       d);
		break;
	default:
		jd_set(c, SMTPROBE_DC_INFO, "mode none: MTA-STS is being "
		                            "withdrawn; senders apply nothing");
		break;
	}
	if (v->record == REC_BAD)
		jd_text(c, "; but senders find no valid record to announce it "
		           "(see mta_sts.record)");
	if (v->p.max_age < STS_MIN_AGE) {
		jd_worse(c, SMTPROBE_DC_WARN);
		jd_text(c, "; max_age %lu s is under a day: a policy that "
		           "expires fast leaves senders unprotected (RFC 8461 "
		           "§3.2 expects weeks)",
		        v->p.max_age);
		jd_fix(c, "%sserve 'max_age: 604800' or more",
		       c->fix[0] ? "; " : "");
	}
}

static void mta_sts_mx_match(const struct smtprobe_dc_facts *f,
                             struct smtprobe_dc_report *r,
                             const struct sts_view *v)
{
	struct smtprobe_dc_check *c = jd_row(r, "mta_sts.mx_match");
	int enforce = v->p.mode == SMTPROBE_MTASTS_ENFORCE;
	size_t nbad = 0;
	const char *bad = "";

	if (!v->usable) {
		jd_set(c, SMTPROBE_DC_SKIP, "no usable MTA-STS policy (see "
		                            "mta_sts.policy)");
		return;
	}
	if (v->p.mode == SMTPROBE_MTASTS_NONE) {
		jd_set(c, SMTPROBE_DC_SKIP, "mode none: senders match nothing");
		return;
	}
	if (!have_hosts(f, c))
		return;
	jd_set(c, SMTPROBE_DC_PASS, "every MX matches an mx: pattern of the "
	                            "policy");
	for (size_t i = 0; i < nmx(f); i++) {
		const char *h = f->mxs[i].host;

		if (smtprobe_mtasts_policy_match(&v->p, f->sts_policy, h,
		                                 strlen(h)) >= 0)
			continue;
		if (nbad++ == 0)
			jd_set(c, enforce ? SMTPROBE_DC_FAIL : SMTPROBE_DC_WARN,
			       "no mx: pattern matches:");
		bad = h;
		jd_text(c, " %s;", h);
		jd_fix(c, "%s'mx: %s'", nbad > 1 ? ", " : "add to the policy ",
		       h);
	}
	if (nbad) {
		jd_text(c, " %s (RFC 8461 §4.1)",
		        enforce ? "senders that enforce the policy refuse to "
		                  "deliver to them"
		                : "in mode testing senders only report it; "
		                  "enforce would stop the mail");
		jd_fix(c, ", then change the id= of _mta-sts.%s so that "
		          "senders fetch it again",
		       f->domain);
	}
	one_host(c, f, nbad, bad);
}

/* MTA-STS announced, or a secure TLSA record: TLS-RPT is worth more */
static int tls_policy_in_use(const struct smtprobe_dc_facts *f,
                             const struct sts_view *v)
{
	if (v->record == REC_OK)
		return 1;
	for (size_t i = 0; i < nmx(f); i++)
		if (jd_kind(&f->mxs[i].tlsa) == JD_DATA &&
		    f->mxs[i].tlsa.dnssec == SMTPROBE_DNSSEC_SECURE)
			return 1;
	return 0;
}

static void tlsrpt_present(const struct smtprobe_dc_facts *f,
                           struct smtprobe_dc_report *r,
                           const struct sts_view *v)
{
	struct smtprobe_dc_check *c = jd_row(r, "tlsrpt.present");
	struct smtprobe_txt txt[SMTPROBE_DC_MAX_RECORDS];
	struct smtprobe_tlsrpt t;
	size_t n, first = 0, count;
	const char *d = f->domain;
	char what[300], q[JD_QUOTE];

	snprintf(what, sizeof(what), "TXT at _smtp._tls.%s", d);
	if (jd_unusable(c, &f->tlsrpt, what))
		return;
	n = jd_txts(&f->tlsrpt, txt);
	count = smtprobe_tlsrpt_select(txt, n, &first);
	if (count == 0 && jd_takes_no_mail(f)) {
		jd_set(c, SMTPROBE_DC_SKIP, "no TLS-RPT record: a domain that "
		                            "takes no mail needs none");
	} else if (count == 0) {
		jd_set(c, tls_policy_in_use(f, v) ? SMTPROBE_DC_WARN
		                                  : SMTPROBE_DC_INFO,
		       "no TLS-RPT record at _smtp._tls.%s: you do not hear "
		       "of senders failing TLS to your MX (RFC 8460)%s",
		       d,
		       tls_policy_in_use(f, v) ? ", which MTA-STS or DANE "
		                                 "makes them refuse"
		                               : "");
		jd_fix(c, "publish '_smtp._tls.%s TXT \"v=TLSRPTv1; "
		          "rua=mailto:tlsrpt@%s\"'",
		       d, d);
	} else if (count > 1) {
		jd_set(c, SMTPROBE_DC_FAIL, "%zu TLS-RPT records: senders send "
		                            "no reports (RFC 8460 §3)",
		       count);
		jd_fix(c, "keep one '_smtp._tls.%s TXT \"v=TLSRPTv1; "
		          "rua=...\"'",
		       d);
	} else if (smtprobe_tlsrpt_parse(txt[first].data, txt[first].len, &t) <
	           0) {
		jd_set(c, SMTPROBE_DC_FAIL, "%s; senders send no reports",
		       t.error.text);
		jd_fix(c, "publish '_smtp._tls.%s TXT \"v=TLSRPTv1; "
		          "rua=mailto:tlsrpt@%s\"'",
		       d, d);
	} else {
		jd_set(c, SMTPROBE_DC_PASS, "%s",
		       jd_quote(q, sizeof(q), txt[first].data, txt[first].len));
	}
}

/* ---- DANE ---- */

/* "USAGE SELECTOR TYPE HEX": usable on port 25 (RFC 7672 §3.1.3: usages
 * 2 and 3 only; a known selector and matching type, a digest of the
 * right length) */
static int tlsa_usable(const char *rec, unsigned long *usage)
{
	unsigned long sel, mt;
	char *e1, *e2, *e3;
	size_t hex;

	*usage = strtoul(rec, &e1, 10);
	sel = strtoul(e1, &e2, 10);
	mt = strtoul(e2, &e3, 10);
	if (e1 == rec || e2 == e1 || e3 == e2 || *e3 != ' ')
		return 0;
	hex = strspn(e3 + 1, "0123456789abcdefABCDEF");
	if (e3[1 + hex] != '\0' || hex == 0 || sel > 1 || mt > 2 ||
	    (mt == 1 && hex != 64) || (mt == 2 && hex != 128))
		return 0;
	return *usage == 2 || *usage == 3;
}

static void dane_host(const struct smtprobe_dc_facts *f,
                      const struct smtprobe_dc_mx *m,
                      struct smtprobe_dc_check *c)
{
	const struct smtprobe_dc_answer *t = &m->tlsa;
	size_t usable = 0, pkix = 0, n;
	unsigned long usage;
	char why[JD_QUOTE + 32];

	switch (jd_kind(t)) {
	case JD_UNASKED:
		return;
	case JD_BOGUS:
		jd_worse(c, SMTPROBE_DC_FAIL);
		jd_text(c, " %s: the TLSA answer is bogus (%s): DANE senders "
		           "defer mail to it (RFC 7672 §2.2);",
		        m->host, jd_problem(why, sizeof(why), t));
		jd_fix(c, "fix the signatures of _25._tcp.%s (see "
		          "dnssec.status); ",
		       m->host);
		return;
	case JD_FAILED:
		jd_worse(c, SMTPROBE_DC_WARN);
		jd_text(c, " %s: could not tell, TLSA lookup %s;", m->host,
		        jd_problem(why, sizeof(why), t));
		return;
	case JD_NXDOMAIN:
	case JD_EMPTY:
		jd_worse(c, SMTPROBE_DC_INFO);
		jd_text(c, " %s: no TLSA, DANE not used%s;", m->host,
		        t->dnssec == SMTPROBE_DNSSEC_SECURE ? ""
		                                            : " (zone not "
		                                              "signed)");
		return;
	default:
		break;
	}
	if (t->dnssec != SMTPROBE_DNSSEC_SECURE ||
	    f->mx.dnssec != SMTPROBE_DNSSEC_SECURE ||
	    (m->a.dnssec != SMTPROBE_DNSSEC_SECURE &&
	     m->aaaa.dnssec != SMTPROBE_DNSSEC_SECURE)) {
		jd_worse(c, SMTPROBE_DC_WARN);
		jd_text(c, " %s: TLSA not used: %s not signed, and DANE needs "
		           "DNSSEC (RFC 7672 §2.2);",
		        m->host,
		        t->dnssec != SMTPROBE_DNSSEC_SECURE
		                ? "the zone is"
		                : f->mx.dnssec != SMTPROBE_DNSSEC_SECURE
		                          ? "the MX record set is"
		                          : "the host's addresses are");
		jd_fix(c, "sign the zone of %s and publish its DS (or remove "
		          "the TLSA records); ",
		       t->dnssec != SMTPROBE_DNSSEC_SECURE ? m->host
		                                           : f->domain);
		return;
	}
	n = t->n < SMTPROBE_DC_MAX_RECORDS ? t->n : SMTPROBE_DC_MAX_RECORDS;
	for (size_t i = 0; i < n; i++) {
		if (tlsa_usable(t->rec[i], &usage))
			usable++;
		else if (usage <= 1)
			pkix++;
	}
	if (usable == 0) {
		jd_worse(c, SMTPROBE_DC_WARN);
		jd_text(c, " %s: no usable TLSA record%s: DANE senders insist "
		           "on TLS but authenticate nothing (RFC 7672 §2.2);",
		        m->host,
		        pkix ? " (usages 0/1 are ignored on port 25, RFC 7672 "
		               "§3.1.3)"
		             : "");
		jd_fix(c, "publish '_25._tcp.%s. TLSA 3 1 1 <SHA-256 of the "
		          "server key's SPKI>'; ",
		       m->host);
		return;
	}
	jd_worse(c, SMTPROBE_DC_PASS);
	jd_text(c, " %s: %zu usable TLSA record%s%s%s;", m->host, usable,
	        usable == 1 ? "" : "s",
	        n > usable ? " (others ignored: usages 0/1 or malformed)" : "",
	        usable == 1 ? ", publish the next key's ahead of a rollover "
	                      "(RFC 7671 §8.1)"
	                    : "");
	/* hook: when the facts carry the match of the MX's chain against
	 * these records (lib/tls, SSL_dane_*), no match is a fail here */
}

static void dane_tlsa(const struct smtprobe_dc_facts *f,
                      struct smtprobe_dc_report *r)
{
	struct smtprobe_dc_check *c = jd_row(r, "dane.tlsa");

	if (!have_hosts(f, c))
		return;
	jd_set(c, SMTPROBE_DC_SKIP, "TLSA at _25._tcp.MX:");
	for (size_t i = 0; i < nmx(f); i++)
		dane_host(f, &f->mxs[i], c);
	if (c->status == SMTPROBE_DC_SKIP)
		jd_text(c, " not looked up");
	else if (c->status == SMTPROBE_DC_PASS)
		jd_text(c, " not compared with the live certificate");
	if (c->status == SMTPROBE_DC_INFO)
		jd_fix(c, "to use DANE: sign the zones, publish '_25._tcp.MX. "
		          "TLSA 3 1 1 <SHA-256 of the key's SPKI>' per MX, and "
		          "the next key's before each rollover");
	if (nmx(f) == 1)
		snprintf(c->host, sizeof(c->host), "%s", f->mxs[0].host);
}

/* ---- DNSSEC ---- */

struct named {
	const struct smtprobe_dc_answer *a;
	const char *type, *prefix, *name;
};

/* a bogus answer: counted, and the first three named with the reason */
static void bogus(struct smtprobe_dc_check *c, size_t *nbogus,
                  const struct smtprobe_dc_answer *a, const char *type,
                  const char *prefix, const char *name)
{
	char why[JD_QUOTE + 32];

	if (jd_kind(a) == JD_BOGUS && (*nbogus)++ < 3)
		jd_text(c, " %s at %s%s: %s;", type, prefix, name,
		        jd_problem(why, sizeof(why), a));
}

static void dnssec_status(const struct smtprobe_dc_facts *f,
                          struct smtprobe_dc_report *r)
{
	struct smtprobe_dc_check *c = jd_row(r, "dnssec.status");
	const char *d = f->domain;
	const struct named zone[] = {
	        {&f->dnskey, "DNSKEY", "", d},
	        {&f->mx, "MX", "", d},
	        {&f->txt, "TXT", "", d},
	        {&f->dmarc, "TXT", "_dmarc.", d},
	        {&f->org_dmarc, "TXT", "_dmarc.", f->org_domain},
	        {&f->sts, "TXT", "_mta-sts.", d},
	        {&f->tlsrpt, "TXT", "_smtp._tls.", d}};
	const struct smtprobe_dc_answer *dom = NULL;
	size_t nbogus = 0, ninsecure = 0;
	char why[JD_QUOTE + 32], sel[128];

	jd_set(c, SMTPROBE_DC_FAIL, "bogus:");
	for (size_t i = 0; i < sizeof(zone) / sizeof(zone[0]); i++)
		bogus(c, &nbogus, zone[i].a, zone[i].type, zone[i].prefix,
		      zone[i].name);
	for (size_t i = 0; i < f->nsel && i < SMTPROBE_DC_MAX_SELECTORS; i++) {
		snprintf(sel, sizeof(sel), "%s._domainkey.", f->selector[i]);
		bogus(c, &nbogus, &f->dkim[i], "TXT", sel, d);
	}
	for (size_t i = 0; i < nmx(f); i++) {
		const struct smtprobe_dc_mx *m = &f->mxs[i];

		bogus(c, &nbogus, &m->a, "A", "", m->host);
		bogus(c, &nbogus, &m->aaaa, "AAAA", "", m->host);
		bogus(c, &nbogus, &m->tlsa, "TLSA", "_25._tcp.", m->host);
		if (jd_kind(&m->a) == JD_DATA &&
		    m->a.dnssec == SMTPROBE_DNSSEC_INSECURE)
			ninsecure++;
	}
	if (nbogus) {
		if (nbogus > 3)
			jd_text(c, " and %zu more;", nbogus - 3);
		jd_text(c, " validating resolvers answer SERVFAIL for these "
		           "names, so senders that validate cannot deliver; "
		           "no other check uses this data");
		jd_fix(c, "re-sign the zone (its RRSIGs must verify with the "
		          "published DNSKEYs) and make the DS at the parent "
		          "match a published KSK; 'delv %s MX' and 'dig "
		          "+dnssec DNSKEY %s' show which",
		       d, d);
		return;
	}
	/* the domain's status: its DNSKEY answer (data or a denial), else
	 * the MX or TXT answer */
	for (size_t i = 0; i < 3 && !dom; i++)
		if (jd_kind(zone[i].a) >= JD_NXDOMAIN)
			dom = zone[i].a;
	if (!dom) {
		jd_set(c, SMTPROBE_DC_WARN, "could not tell: DNSKEY at %s: %s",
		       d, jd_problem(why, sizeof(why), &f->dnskey));
		return;
	}
	if (dom->dnssec != SMTPROBE_DNSSEC_SECURE) {
		jd_set(c, SMTPROBE_DC_WARN,
		       "%s is not signed (no chain of trust from the anchor): "
		       "its MX and TXT records can be forged on the path and "
		       "DANE cannot be used",
		       d);
		jd_fix(c, "sign the zone (BIND: dnssec-policy default; Knot: "
		          "dnssec-signing: on) and publish its DS at the "
		          "registrar");
		return;
	}
	jd_set(c, SMTPROBE_DC_PASS, "%s validates (secure)", d);
	if (ninsecure) {
		jd_set(c, SMTPROBE_DC_INFO, "%s validates (secure); %zu MX "
		                            "host%s not signed:",
		       d, ninsecure, ninsecure == 1 ? " is" : "s are");
		for (size_t i = 0; i < nmx(f); i++)
			if (jd_kind(&f->mxs[i].a) == JD_DATA &&
			    f->mxs[i].a.dnssec == SMTPROBE_DNSSEC_INSECURE)
				jd_text(c, " %s", f->mxs[i].host);
		jd_text(c, "; DANE cannot protect mail to %s",
		        ninsecure == 1 ? "it" : "them");
	} else if (nmx(f)) {
		jd_text(c, ", and so do its MX hosts' addresses");
	}
}

/* ---- the report ---- */

/* the separators that lists leave at the end */
static void trim(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == ';' || s[n - 1] == ' ' || s[n - 1] == ':'))
		s[--n] = '\0';
}

void smtprobe_dns_judge(const struct smtprobe_dc_facts *f,
                        struct smtprobe_dc_report *r)
{
	struct sts_view sts;

	memset(r, 0, sizeof(*r));
	memset(&sts, 0, sizeof(sts));
	mx_present(f, r);
	mx_null(f, r);
	mx_cname(f, r);
	mx_resolves(f, r);
	ptr_checks(f, r);
	jd_auth(f, r);
	mta_sts_record(f, r, &sts);
	mta_sts_policy(f, r, &sts);
	mta_sts_mx_match(f, r, &sts);
	tlsrpt_present(f, r, &sts);
	dane_tlsa(f, r);
	dnssec_status(f, r);
	for (size_t i = 0; i < r->n; i++) {
		trim(r->check[i].text);
		trim(r->check[i].fix);
		if (r->check[i].status == SMTPROBE_DC_FAIL)
			r->exit_code = 1;
	}
}
