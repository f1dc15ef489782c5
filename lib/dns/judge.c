/* judge.c - the judgement of `smtprobe dns DOMAIN` (dnscheck.h): facts
 * in, the report out. Here: the report's assembly (every id of
 * smtprobe_dc_check_ids, in that order, exactly once - dkim.key once per
 * selector), dnssec.status, and the helpers the other judge_*.c share
 * (judge_int.h): judge_mx.c (mx.*, ptr.*), judge_smtp.c (what the SMTP
 * connections showed: mx.smtp, mx.starttls, ptr.banner), judge_auth.c (spf.*),
 * judge_dmarc.c (dmarc.*, dkim.key), judge_tls.c (mta_sts.*, tlsrpt,
 * dane.tlsa).
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
 * "..."; records are quoted escaped and cut (JD_QUOTE). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "judge_int.h"
#include "smtprobe/reply.h"

#include "banned.h"

#define JD_NIDS 28 /* ids in smtprobe_dc_check_ids */
_Static_assert(JD_NIDS - 1 + SMTPROBE_DC_MAX_SELECTORS <=
                       SMTPROBE_DC_MAX_CHECKS,
               "the report has room for every row");

const char *const smtprobe_dc_check_ids[JD_NIDS + 1] = {
        "mx.present",
        "mx.null",
        "mx.cname",
        "mx.resolves",
        "ptr.present",
        "ptr.fcrdns",
        "mx.smtp",
        "mx.starttls",
        "ptr.banner",
        "spf.present",
        "spf.multiple",
        "spf.syntax",
        "spf.lookups",
        "spf.void_lookups",
        "spf.all",
        "spf.result",
        "dmarc.present",
        "dmarc.multiple",
        "dmarc.syntax",
        "dmarc.policy",
        "dmarc.rua_external_auth",
        "dkim.key",
        "mta_sts.record",
        "mta_sts.policy",
        "mta_sts.mx_match",
        "tlsrpt.present",
        "dane.tlsa",
        "dnssec.status",
        NULL};

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

__attribute__((format(printf, 3, 0))) static void
vappend(char *buf, size_t sz, const char *fmt, va_list ap)
{
	size_t len = strlen(buf);
	int n;

	if (len + 1 >= sz)
		return; /* full: already cut */
	n = vsnprintf(buf + len, sz - len, fmt, ap);
	if (n >= 0 && (size_t)n >= sz - len) {
		/* cut at the start of a character, never inside one: the text
		 * goes into JSON, which takes only whole UTF-8 */
		size_t cut = sz - 4;
		while (cut > 0 && ((unsigned char)buf[cut] & 0xC0) == 0x80)
			cut--;
		memcpy(buf + cut, "...", 4);
	}
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
		snprintf(out, outsz, "%s (%s)",
		         smtprobe_dns_status_name(a->status),
		         jd_quote(why, sizeof(why), a->why, strlen(a->why)));
	else
		snprintf(out, outsz, "%s", smtprobe_dns_status_name(a->status));
	return out;
}

int jd_unusable(struct smtprobe_dc_check *c, const struct smtprobe_dc_answer *a,
                const char *what)
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
	size_t n =
	        a->n < SMTPROBE_DC_MAX_RECORDS ? a->n : SMTPROBE_DC_MAX_RECORDS;

	for (size_t i = 0; i < n; i++) {
		txt[i].data = a->rec[i];
		txt[i].len = strlen(a->rec[i]);
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
const char *jd_mx_name(const char *rec, unsigned long *pref)
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
		const char *name = jd_mx_name(f->mx.rec[i], &pref);

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

/* ---- the MX hosts, for every per-MX check ---- */

size_t jd_nmx(const struct smtprobe_dc_facts *f)
{
	return f->nmx < SMTPROBE_DC_MAX_MX ? f->nmx : SMTPROBE_DC_MAX_MX;
}

/* The per-MX checks have hosts to look at: a trusted MX answer with real
 * hosts, or the implicit MX. Else the row skips, saying why. */
int jd_have_hosts(const struct smtprobe_dc_facts *f,
                  struct smtprobe_dc_check *c)
{
	enum jd_kind k = jd_kind(&f->mx);

	if (k == JD_BOGUS || k == JD_FAILED || k == JD_UNASKED)
		jd_set(c, SMTPROBE_DC_SKIP,
		       "no trusted MX answer (see "
		       "mx.present)");
	else if (jd_takes_no_mail(f))
		jd_set(c, SMTPROBE_DC_SKIP,
		       "the domain takes no mail (null "
		       "MX)");
	else if (jd_nmx(f) == 0)
		jd_set(c, SMTPROBE_DC_SKIP, "no MX host (see mx.present)");
	else
		return 1;
	if (jd_nmx(f) == 1)
		snprintf(c->host, sizeof(c->host), "%s", f->mxs[0].host);
	return 0;
}

/* the row names the one host concerned: the only MX, or the only bad one */
void jd_one_host(struct smtprobe_dc_check *c, const struct smtprobe_dc_facts *f,
                 size_t nbad, const char *bad)
{
	if (jd_nmx(f) == 1)
		snprintf(c->host, sizeof(c->host), "%s", f->mxs[0].host);
	else if (nbad == 1)
		snprintf(c->host, sizeof(c->host), "%s", bad);
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

/* the host's addresses came without a chain of trust */
static int insecure_host(const struct smtprobe_dc_mx *m)
{
	return (jd_kind(&m->a) == JD_DATA &&
	        m->a.dnssec == SMTPROBE_DNSSEC_INSECURE) ||
	       (jd_kind(&m->aaaa) == JD_DATA &&
	        m->aaaa.dnssec == SMTPROBE_DNSSEC_INSECURE);
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
	for (size_t i = 0; i < jd_nmx(f); i++) {
		const struct smtprobe_dc_mx *m = &f->mxs[i];

		bogus(c, &nbogus, &m->a, "A", "", m->host);
		bogus(c, &nbogus, &m->aaaa, "AAAA", "", m->host);
		bogus(c, &nbogus, &m->tlsa, "TLSA", "_25._tcp.", m->host);
		if (insecure_host(m))
			ninsecure++;
	}
	if (nbogus) {
		if (nbogus > 3)
			jd_text(c, " and %zu more;", nbogus - 3);
		jd_text(c, " validating resolvers answer SERVFAIL for these "
		           "names, so senders that validate cannot deliver; "
		           "no other check uses this data");
		jd_fix(c,
		       "re-sign the zone (its RRSIGs must verify with the "
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
		jd_set(c, SMTPROBE_DC_INFO,
		       "%s validates (secure); %zu MX "
		       "host%s not signed:",
		       d, ninsecure, ninsecure == 1 ? " is" : "s are");
		for (size_t i = 0; i < jd_nmx(f); i++)
			if (insecure_host(&f->mxs[i]))
				jd_text(c, " %s", f->mxs[i].host);
		jd_text(c, "; DANE cannot protect mail to %s",
		        ninsecure == 1 ? "it" : "them");
	} else if (jd_nmx(f)) {
		jd_text(c, ", and so do its MX hosts' addresses");
	}
}

/* ---- the report ---- */

/* the separators that lists leave at the start and the end */
static void trim(char *s)
{
	size_t n = strlen(s);
	size_t lead = strspn(s, " ");

	while (n > lead && (s[n - 1] == ';' || s[n - 1] == ' '))
		s[--n] = '\0';
	memmove(s, s + lead, n - lead + 1);
}

void smtprobe_dns_judge(const struct smtprobe_dc_facts *f,
                        struct smtprobe_dc_report *r)
{
	memset(r, 0, sizeof(*r));
	jd_mx(f, r);
	jd_smtp(f, r);
	jd_spf(f, r);
	jd_dmarc_dkim(f, r);
	jd_tls(f, r);
	dnssec_status(f, r);
	for (size_t i = 0; i < r->n; i++) {
		trim(r->check[i].text);
		trim(r->check[i].fix);
		if (r->check[i].status == SMTPROBE_DC_FAIL)
			r->exit_code = 1;
	}
}
