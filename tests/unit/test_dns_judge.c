/* test_dns_judge.c - the judgement of `smtprobe dns` (lib/dns/judge*.c):
 * facts built by hand, the report checked.
 *
 * The first table is the DNS lab of tests/harness/dns_zones.py in C: per
 * domain what its zone publishes (the baseline is good.test's), turned
 * into the facts the collection would gather from the lab, and the checks
 * the domain must trip (`trips` there: the statuses the lab allows, and
 * the one the judge picked). Every other check must pass or skip, as the
 * lab says, except where a row's `also` says otherwise and why. spf.result
 * is judged apart (the lab gives the result word, not a status).
 *
 * The other tests are edge cases: bogus answers carrying data, timeouts,
 * truncated record lists, no MX at all, several selectors, and the
 * rewritten records the fixes offer. Every report is also checked for
 * the contract: every id once in order (dkim.key once per selector),
 * exit code 1 exactly when a check fails, a fix for every fail, and
 * spf.result's text starting with the result word.
 *
 * The facts are about 5 MB: they live on the heap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "smtprobe/dnscheck.h"
#include "smtprobe/software.h"
#include "smtprobe/spf.h"

#include "banned.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define OK       SMTPROBE_DNS_OK
#define NODATA   SMTPROBE_DNS_NODATA
#define NXDOMAIN SMTPROBE_DNS_NXDOMAIN
#define SERVFAIL SMTPROBE_DNS_SERVFAIL
#define TIMEOUT  SMTPROBE_DNS_TIMEOUT
#define SEC      SMTPROBE_DNSSEC_SECURE
#define INSEC    SMTPROBE_DNSSEC_INSECURE
#define BOGUS    SMTPROBE_DNSSEC_BOGUS

/* made with the openssl CLI for test_dnsrec.c */
#define RSA512                                                                 \
	"MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBANkZGObiHP+3uQIVricH78Oh52/W1NGc"     \
	"3vf5F27RnTpPvxfVRz+mFCSHmmZnJyXZ5rmGgR8xK5G+NGvDclYuUNsCAwEAAQ=="
#define RSA1024                                                                \
	"MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQClzJjYTMek/Ldn0ivA69FG+Nhr"     \
	"j0ToyRrDxIvTOtmZNXfBlPK8EvWP7qHoiFiocOmP6rj+DXHdwg76eHNYesvxkes+"     \
	"E7redmfSI2WXcaJ+Flkb7Jl8mSNr7FjTXGo+zK7V/ZxhQq0LZ3Ze7jJX/wt8iZby"     \
	"cqP5xU8YMfjfyRaW2wIDAQAB"
#define RSA2048                                                                \
	"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA3cEU11rxZUEeVffQSBN1"     \
	"H6BnAAXbxeF2GhOIP6pdJQRFS9CFrzF3D/L86LuzxuKWv1WkVpv6rEplHf1q78LS"     \
	"m0QzxFRGCSjCv1wH2vYaLyo0VHO5Ve2mIqrUU6S7J96YW48th8ut5kyE6ss0OMdn"     \
	"LBMr9w7UhpSY8NtWyL3ga2jPsQy92znQvM44jx1H8PQMgBIs8FInwOaITkBI/YSO"     \
	"0cNQG10/f3RW3UGDowz8opTUXNyrHBFvnC1ORqTdqtJJhKb0SuB1Td4DLlt2zjAu"     \
	"LY9fnuT5wZWvu0bwsn0ZF2Zri26cOudvrLCStfLY/+od3qh7k5/QLKqF+7QYVNMS"     \
	"8QIDAQAB"
#define ED25519 "f6DlRVmZOt/fyuAQ/ToQcqMY9OcXDN0NFjFGYVatykc="

#define HEX64(c)                                                               \
	c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c  \
	        c c c c c c c c c c c c c c c c c c c c c c c c c c c c c
#define TLSA_LIVE  "3 1 1 " HEX64("a")
#define TLSA_NEXT  "3 1 1 " HEX64("b")
#define TLSA_STALE "3 1 1 " HEX64("c")

/* ---- helpers ---- */

/* Fill an answer: asked, status, DNSSEC state, the records (NULL-ended). */
static void fill(struct smtprobe_dc_answer *a, enum smtprobe_dns_status st,
                 enum smtprobe_dnssec sec, ...)
{
	va_list ap;
	const char *s;

	smtprobe_dc_answer_clear(a);
	a->asked = 1;
	a->status = st;
	a->dnssec = sec;
	if (sec == BOGUS)
		snprintf(a->why, sizeof(a->why), "signature crypto failed");
	va_start(ap, sec);
	while ((s = va_arg(ap, const char *)) != NULL) {
		assert_true(a->n < SMTPROBE_DC_MAX_RECORDS);
		assert_int_equal(smtprobe_dc_answer_add(a, s, strlen(s)), 0);
	}
	va_end(ap);
}

/* The records; the MTA-STS policies of these tests are static buffers */
static void facts_release(struct smtprobe_dc_facts *f)
{
	f->sts_policy = NULL;
	smtprobe_dc_facts_free(f);
	free(f);
}

static struct smtprobe_dc_facts *facts_new(const char *domain)
{
	struct smtprobe_dc_facts *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->domain, sizeof(f->domain), "%s", domain);
	snprintf(f->org_domain, sizeof(f->org_domain), "%s", domain);
	return f;
}

static const struct smtprobe_dc_check *find(const struct smtprobe_dc_report *r,
                                            const char *id)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->check[i].id, id) == 0)
			return &r->check[i];
	fail_msg("no check %s in the report", id);
	return NULL;
}

static const char *st(enum smtprobe_dc_status s)
{
	return smtprobe_dc_status_name(s);
}

static void expect(const struct smtprobe_dc_report *r, const char *id,
                   enum smtprobe_dc_status s, const char *needle)
{
	const struct smtprobe_dc_check *c = find(r, id);

	if (c->status != s)
		fail_msg("%s: %s, expected %s: %s", id, st(c->status), st(s),
		         c->text);
	if (needle && !strstr(c->text, needle) && !strstr(c->fix, needle))
		fail_msg("%s: '%s' not in '%s' / fix '%s'", id, needle, c->text,
		         c->fix);
}

/* The contract every report keeps. */
static void contract(const struct smtprobe_dc_facts *f,
                     const struct smtprobe_dc_report *r)
{
	size_t k = 0, nsel = f->nsel ? f->nsel : 1;
	int failed = 0;

	for (size_t i = 0; smtprobe_dc_check_ids[i]; i++) {
		size_t times = strcmp(smtprobe_dc_check_ids[i], "dkim.key") == 0
		                       ? nsel
		                       : 1;

		for (size_t t = 0; t < times; t++, k++) {
			const struct smtprobe_dc_check *c = &r->check[k];

			assert_true(k < r->n);
			assert_string_equal(c->id, smtprobe_dc_check_ids[i]);
			if (f->nsel && times > 1)
				assert_string_equal(c->selector,
				                    f->selector[t]);
			if (c->status == SMTPROBE_DC_FAIL) {
				failed = 1;
				if (!c->fix[0])
					fail_msg("%s fails without a fix: %s",
					         c->id, c->text);
			}
			if (c->status != SMTPROBE_DC_PASS && !c->text[0])
				fail_msg("%s: %s without a text", c->id,
				         st(c->status));
		}
	}
	assert_int_equal(k, r->n);
	assert_int_equal(r->exit_code, failed);
	if (f->spf_evaluated) {
		const struct smtprobe_dc_check *c = find(r, "spf.result");

		assert_memory_equal(c->text, f->spf_result,
		                    strlen(f->spf_result));
	}
}

/* SMTPROBE_TEST_DUMP=1: print every report, to read the texts */
static void dump(const struct smtprobe_dc_facts *f,
                 const struct smtprobe_dc_report *r)
{
	if (!getenv("SMTPROBE_TEST_DUMP"))
		return;
	printf("== %s (exit %d)\n", f->domain, r->exit_code);
	for (size_t i = 0; i < r->n; i++) {
		const struct smtprobe_dc_check *c = &r->check[i];

		printf("%-24s %-4s %s%s%s\n", c->id, st(c->status),
		       c->selector[0] ? c->selector : "",
		       c->selector[0] ? ": " : "", c->text);
		if (c->fix[0])
			printf("%29s fix: %s\n", "", c->fix);
	}
}

static struct smtprobe_dc_report *judge(const struct smtprobe_dc_facts *f)
{
	static struct smtprobe_dc_report r;

	memset(&r, 0xa5, sizeof(r)); /* the judge starts from nothing */
	smtprobe_dns_judge(f, &r);
	contract(f, &r);
	dump(f, &r);
	return &r;
}

/* ---- the lab (tests/harness/dns_zones.py) ---- */

struct trip {
	const char *id;
	const char *allowed; /* the lab's statuses, "|"-separated */
	enum smtprobe_dc_status chosen;
};

struct lab {
	const char *name;
	int nomx, nullmx, own_mx; /* own_mx: MX 10 mx.NAME in its zone */
	const char *mx;           /* another MX target */
	const char *spf[2];       /* NULL: "v=spf1 mx -all" */
	unsigned lookups, voids;  /* the walk of the SPF record */
	const char *count_error;
	int count_code;      /* enum smtprobe_spf_err */
	const char *dmarc;   /* NULL: p=reject, rua at the domain */
	const char *dkim;    /* NULL: rsa2048; "rsa1024", "revoked" */
	const char *mta_sts; /* NULL: enforce; "-": none; "missing", ... */
	const char *sts_mx;  /* the policy's mx: (default: the MX) */
	int no_tlsrpt;
	const char *signing; /* NULL: on; "off", "broken", "ds" */
	const char *tlsa;    /* own_mx: NULL live, "stale" */
	const char *rua_ext; /* the report domain, and ... */
	int rua_ok;          /* ... whether it authorises */
	const char *spf_result;
	struct trip trips[3];
	struct trip also[2]; /* where the judge differs from the lab, why */
};

#define F_ SMTPROBE_DC_FAIL
#define W_ SMTPROBE_DC_WARN
#define I_ SMTPROBE_DC_INFO
#define P_ SMTPROBE_DC_PASS
#define S_ SMTPROBE_DC_SKIP

static const struct lab lab_domains[] = {
        {.name = "good.test"},
        {"nomx.test", .nomx = 1, .spf = {"v=spf1 ip4:127.0.0.2 -all"},
         .trips = {{"mx.present", "fail", F_}},
         /* the lab serves nomx.test an enforce policy without mx: lines
          * (there is no MX to name): RFC 8461 §3.2 makes it invalid */
         .also = {{"mta_sts.policy", "", F_}}},
        {"nullmx.test", .nullmx = 1, .spf = {"v=spf1 -all"}, .mta_sts = "-",
         .no_tlsrpt = 1, .spf_result = "fail",
         .trips = {{"mx.null", "info|pass", I_}}},
        {"mx-cname.test", .mx = "mail.mx-cname.test",
         .trips = {{"mx.cname", "fail", F_}}},
        {"ptr-missing.test", .own_mx = 1,
         .trips = {{"ptr.present", "fail", F_}, {"ptr.fcrdns", "fail", F_}}},
        {"ptr-mismatch.test", .own_mx = 1,
         .trips = {{"ptr.fcrdns", "fail", F_}, {"ptr.banner", "warn", W_}}},
        {"spf-lookups.test",
         .spf = {"v=spf1 include:i1.{d} include:i2.{d} include:i3.{d} "
                 "include:i4.{d} include:i5.{d} include:i6.{d} "
                 "include:i7.{d} include:i8.{d} include:i9.{d} "
                 "include:i10.{d} include:i11.{d} -all"},
         .lookups = 11, .count_code = SMTPROBE_SPF_E_LOOKUPS,
         .count_error = "permerror: 'include:i11.spf-lookups.test' is "
                        "DNS lookup number 11, over the limit of 10",
         .spf_result = "permerror", .trips = {{"spf.lookups", "fail", F_}}},
        {"spf-void.test",
         .spf = {"v=spf1 a:void1.{d} a:void2.{d} a:void3.{d} mx -all"},
         .lookups = 4, .voids = 3, .count_code = SMTPROBE_SPF_E_VOID,
         .count_error = "permerror: 'a:void3.spf-void.test' is void "
                        "lookup number 3, over the limit of 2",
         .spf_result = "permerror",
         .trips = {{"spf.void_lookups", "fail", F_}}},
        {"spf-plusall.test", .spf = {"v=spf1 mx +all"}, .lookups = 1,
         .trips = {{"spf.all", "fail", F_}}},
        {"spf-two.test", .spf = {"v=spf1 mx -all", "v=spf1 ip4:127.0.0.2 -all"},
         .count_error = "permerror: two SPF records",
         .count_code = SMTPROBE_SPF_E_MULTIPLE, .spf_result = "permerror",
         .trips = {{"spf.multiple", "fail", F_}}},
        {"dmarc-none.test", .dmarc = "v=DMARC1; p=none; rua=mailto:dmarc@{d}",
         .trips = {{"dmarc.policy", "warn", W_}}},
        {"dmarc-extrua.test",
         .dmarc = "v=DMARC1; p=reject; rua=mailto:dmarc@good.test",
         .rua_ext = "good.test",
         .trips = {{"dmarc.rua_external_auth", "warn|fail", F_}}},
        {"dmarc-extrua-ok.test",
         .dmarc = "v=DMARC1; p=reject; rua=mailto:dmarc@good.test",
         .rua_ext = "good.test", .rua_ok = 1},
        {"dmarc-syntax.test",
         .dmarc = "v=DMARC1; p=rejected; rua=mailto:dmarc@{d}",
         .trips = {{"dmarc.syntax", "fail", F_}}},
        {"dkim-weak.test", .dkim = "rsa1024",
         .trips = {{"dkim.key", "warn", W_}}},
        {"dkim-revoked.test", .dkim = "revoked",
         .trips = {{"dkim.key", "warn|fail", W_}}},
        {"mta-sts-mismatch.test", .sts_mx = "mx.elsewhere.test",
         .trips = {{"mta_sts.mx_match", "fail", F_}}},
        {"mta-sts-404.test", .mta_sts = "missing",
         .trips = {{"mta_sts.policy", "fail", F_}}},
        {"mta-sts-type.test", .mta_sts = "wrong-type",
         .trips = {{"mta_sts.policy", "fail", F_}}},
        {"mta-sts-redirect.test", .mta_sts = "redirect",
         .trips = {{"mta_sts.policy", "fail", F_}}},
        {"tlsa-bad.test", .own_mx = 1, .tlsa = "stale",
         .trips = {{"dane.tlsa", "fail", F_}}},
        {"bogus.test", .signing = "broken",
         .trips = {{"dnssec.status", "fail", F_}}},
        {"bogus-ds.test", .signing = "ds",
         .trips = {{"dnssec.status", "fail", F_}}},
        {"unsigned.test", .own_mx = 1, .signing = "off",
         .trips = {{"dnssec.status", "warn|info", W_},
                   {"dane.tlsa", "skip|info|warn", W_}}},
};

static const struct {
	const char *host, *addr, *ptr;
} lab_hosts[] = {
        {"mx.good.test", "127.0.0.2", "mx.good.test"},
        {"mx.ptr-missing.test", "127.0.0.3", NULL},
        {"mx.ptr-mismatch.test", "127.0.0.4", "relay.ptr-mismatch.test"},
        {"mx.tlsa-bad.test", "127.0.0.5", "mx.tlsa-bad.test"},
        {"mx.unsigned.test", "127.0.0.6", "mx.unsigned.test"},
        {"relay.ptr-mismatch.test", "127.0.0.14", NULL},
};

static const char *lab_addr(const char *host)
{
	for (size_t i = 0; i < NELEM(lab_hosts); i++)
		if (strcmp(lab_hosts[i].host, host) == 0)
			return lab_hosts[i].addr;
	return NULL;
}

static const char *lab_ptr(const char *addr)
{
	for (size_t i = 0; i < NELEM(lab_hosts); i++)
		if (strcmp(lab_hosts[i].addr, addr) == 0)
			return lab_hosts[i].ptr;
	return NULL;
}

/* "{d}" replaced by the domain */
static const char *subst(char *out, size_t outsz, const char *s, const char *d)
{
	size_t o = 0;

	for (; *s && o + 1 < outsz; s++) {
		if (strncmp(s, "{d}", 3) == 0) {
			o += (size_t)snprintf(out + o, outsz - o, "%s", d);
			s += 2;
		} else {
			out[o++] = *s;
		}
	}
	out[o < outsz ? o : outsz - 1] = '\0';
	return out;
}

/* what a validator from the lab's anchor says of a zone's answers */
static enum smtprobe_dnssec zone_sec(const char *signing, int dnskey)
{
	if (!signing)
		return SEC;
	if (strcmp(signing, "off") == 0)
		return INSEC;
	if (strcmp(signing, "broken") == 0 && dnskey)
		return SEC; /* the DNSKEY set's own RRSIG verifies */
	return BOGUS;
}

static const struct lab *lab_of(const char *host)
{
	const char *dot = strchr(host, '.');

	for (size_t i = 0; dot && i < NELEM(lab_domains); i++)
		if (strcmp(lab_domains[i].name, dot + 1) == 0)
			return &lab_domains[i];
	return NULL;
}

static char policy_buf[NELEM(lab_domains)][512];

/* One MX host as the collection finds it in the lab. */
static void lab_mx(struct smtprobe_dc_mx *m, const char *host)
{
	const struct lab *z = lab_of(host);
	enum smtprobe_dnssec sec = zone_sec(z ? z->signing : NULL, 0);
	const char *canon = host, *addr;

	snprintf(m->host, sizeof(m->host), "%s", host);
	m->pref = 10;
	if (strcmp(host, "mail.mx-cname.test") == 0) {
		canon = "mx.good.test";
		fill(&m->cname, OK, sec, canon, NULL);
		snprintf(m->a.canonname, sizeof(m->a.canonname), "%s", canon);
	} else {
		fill(&m->cname, NODATA, sec, NULL);
	}
	addr = lab_addr(canon);
	z = lab_of(canon);
	sec = zone_sec(z ? z->signing : NULL, 0);
	fill(&m->a, OK, sec, addr, NULL);
	if (strcmp(host, "mail.mx-cname.test") == 0)
		snprintf(m->a.canonname, sizeof(m->a.canonname), "%s", canon);
	fill(&m->aaaa, NODATA, sec, NULL);
	/* TLSA: for an alias, at the expanded name first (RFC 7672
	 * §2.2.2) - good.test's */
	if (strcmp(canon, "mx.good.test") == 0)
		fill(&m->tlsa, OK, sec, TLSA_LIVE, TLSA_NEXT, NULL);
	else if (z && z->tlsa && strcmp(z->tlsa, "stale") == 0)
		fill(&m->tlsa, OK, sec, TLSA_STALE, NULL);
	else
		fill(&m->tlsa, OK, sec, TLSA_LIVE, NULL);
	m->naddr = 1;
	snprintf(m->addr[0].addr, sizeof(m->addr[0].addr), "%s", addr);
	if (lab_ptr(addr)) {
		const char *name = lab_ptr(addr);
		const struct lab *pz = lab_of(name);

		fill(&m->addr[0].ptr, OK, SEC, name, NULL);
		fill(&m->addr[0].fwd[0], OK,
		     zone_sec(pz ? pz->signing : NULL, 0), lab_addr(name),
		     NULL);
	} else {
		fill(&m->addr[0].ptr, NXDOMAIN, SEC, NULL);
	}
}

/* What the lab's MX listener at m's address shows (tests/harness/
 * dns_mx.py): its host's name in the banner and EHLO, STARTTLS, TLS 1.3,
 * the lab's MX certificate (valid for every lab MX name); DANE when the
 * TLSA records may be used (secure answers), matching the "live" key. */
static void lab_smtp(const struct smtprobe_dc_facts *f,
                     struct smtprobe_dc_mx *m)
{
	struct smtprobe_dc_smtp *s = &m->addr[0].smtp;
	const char *name = NULL;

	for (size_t i = 0; i < NELEM(lab_hosts); i++)
		if (strcmp(lab_hosts[i].addr, m->addr[0].addr) == 0 &&
		    strncmp(lab_hosts[i].host, "mx.", 3) == 0)
			name = lab_hosts[i].host;
	if (name == NULL)
		return;
	s->tried = 1;
	s->banner_code = 220;
	snprintf(s->banner, sizeof(s->banner), "220 %s ESMTP smtprobe", name);
	snprintf(s->banner_name, sizeof(s->banner_name), "%s", name);
	snprintf(s->ehlo_name, sizeof(s->ehlo_name), "%s", name);
	s->starttls = s->tls = 1;
	snprintf(s->protocol, sizeof(s->protocol), "TLSv1.3");
	s->host_match = 1;
	s->verify_ok = 1;
	if (m->tlsa.dnssec == SEC && f->mx.dnssec == SEC &&
	    m->a.dnssec == SEC) {
		s->tlsa_given = m->tlsa.n;
		s->dane_checked = 1;
		s->dane_match = strcmp(m->tlsa.rec[0], TLSA_LIVE) == 0;
		s->verify_ok = s->dane_match;
		s->dane_depth = s->dane_match ? 0 : -1;
		s->dane_usage = 3;
		s->dane_selector = 1;
		s->dane_mtype = 1;
	}
}

static const char *key_of(const char *kind)
{
	if (!kind)
		return "v=DKIM1; k=rsa; p=" RSA2048;
	if (strcmp(kind, "rsa1024") == 0)
		return "v=DKIM1; k=rsa; p=" RSA1024;
	return "v=DKIM1; k=rsa; p=";
}

/* The facts `smtprobe dns NAME --ip SPF_IP --dkim-selector s1` gathers
 * from the lab. */
static struct smtprobe_dc_facts *lab_facts(const struct lab *l, size_t idx)
{
	struct smtprobe_dc_facts *f = facts_new(l->name);
	enum smtprobe_dnssec sec = zone_sec(l->signing, 0);
	const char *d = l->name, *host;
	char buf[3][1024];

	fill(&f->dnskey, sec == INSEC ? NODATA : OK, zone_sec(l->signing, 1),
	     sec == INSEC ? NULL : "257 3 13 AAAA", NULL);
	/* MX */
	host = l->own_mx ? subst(buf[2], sizeof(buf[2]), "mx.{d}", d)
	       : l->mx   ? l->mx
	                 : "mx.good.test";
	snprintf(buf[0], sizeof(buf[0]), "10 %s", host);
	if (l->nomx)
		fill(&f->mx, NODATA, sec, NULL);
	else if (l->nullmx)
		fill(&f->mx, OK, sec, "0 .", NULL);
	else {
		fill(&f->mx, OK, sec, buf[0], NULL);
		f->nmx = 1;
		lab_mx(&f->mxs[0], host);
		f->connect = 1;
		f->mx_port = 25;
		lab_smtp(f, &f->mxs[0]);
	}
	/* SPF */
	fill(&f->txt, OK, sec,
	     subst(buf[0], sizeof(buf[0]),
	           l->spf[0] ? l->spf[0] : "v=spf1 mx -all", d),
	     l->spf[1] ? subst(buf[1], sizeof(buf[1]), l->spf[1], d) : NULL,
	     NULL);
	f->spf_counted = sec != BOGUS;
	f->spf_lookups = l->lookups ? l->lookups : l->spf[0] ? 0 : 1;
	f->spf_voids = l->voids;
	if (!f->spf_counted)
		snprintf(f->spf_count_error, sizeof(f->spf_count_error),
		         "temperror: TXT at %s: servfail", d);
	else if (l->count_error)
		snprintf(f->spf_count_error, sizeof(f->spf_count_error), "%s",
		         l->count_error);
	f->spf_count_code = l->count_code;
	f->spf_evaluated = 1;
	snprintf(f->spf_ip, sizeof(f->spf_ip), "%s",
	         l->own_mx ? lab_addr(host) : "127.0.0.2");
	snprintf(f->spf_result, sizeof(f->spf_result), "%s",
	         l->spf_result ? l->spf_result : "pass");
	snprintf(f->spf_mechanism, sizeof(f->spf_mechanism), "%s",
	         strcmp(f->spf_result, "pass") == 0
	                 ? (l->spf[0] ? "ip4:127.0.0.2" : "mx")
	         : strcmp(f->spf_result, "fail") == 0 ? "-all"
	                                              : "");
	/* DMARC */
	fill(&f->dmarc, OK, sec,
	     subst(buf[0], sizeof(buf[0]),
	           l->dmarc ? l->dmarc
	                    : "v=DMARC1; p=reject; rua=mailto:dmarc@{d}",
	           d),
	     NULL);
	if (l->rua_ext) {
		f->nrua = 1;
		snprintf(f->rua_domain[0], sizeof(f->rua_domain[0]), "%s",
		         l->rua_ext);
		if (l->rua_ok)
			fill(&f->rua_auth[0], OK, SEC, "v=DMARC1", NULL);
		else
			fill(&f->rua_auth[0], NXDOMAIN, SEC, NULL);
	}
	/* DKIM */
	f->nsel = 1;
	snprintf(f->selector[0], sizeof(f->selector[0]), "s1");
	fill(&f->dkim[0], OK, sec, key_of(l->dkim), NULL);
	/* MTA-STS */
	if (l->mta_sts && strcmp(l->mta_sts, "-") == 0) {
		fill(&f->sts, NXDOMAIN, sec, NULL);
	} else {
		char *p = policy_buf[idx];
		const char *mode = l->mta_sts ? l->mta_sts : "enforce";

		fill(&f->sts, OK, sec, "v=STSv1; id=20261207T000000", NULL);
		f->sts_fetched = 1;
		snprintf(p, sizeof(policy_buf[0]),
		         "version: STSv1\r\nmode: enforce\r\n%s%s%s"
		         "max_age: 604800\r\n",
		         l->nomx && !l->sts_mx ? "" : "mx: ",
		         l->sts_mx ? l->sts_mx
		         : l->nomx ? ""
		                   : host,
		         l->nomx && !l->sts_mx ? "" : "\r\n");
		f->http_status = 200;
		snprintf(f->content_type, sizeof(f->content_type),
		         "text/plain");
		f->sts_policy = p;
		f->sts_policy_len = strlen(p);
		if (strcmp(mode, "missing") == 0) {
			f->http_status = 404;
			snprintf(f->content_type, sizeof(f->content_type),
			         "text/html");
			f->sts_policy = NULL;
			f->sts_policy_len = 0;
		} else if (strcmp(mode, "wrong-type") == 0) {
			snprintf(f->content_type, sizeof(f->content_type),
			         "text/html");
		} else if (strcmp(mode, "redirect") == 0) {
			f->http_status = 301;
			snprintf(f->sts_error, sizeof(f->sts_error),
			         "redirect to https://mta-sts.good.test/"
			         ".well-known/mta-sts.txt not followed");
			f->sts_policy = NULL;
			f->sts_policy_len = 0;
		}
	}
	/* TLS-RPT */
	if (l->no_tlsrpt)
		fill(&f->tlsrpt, NXDOMAIN, sec, NULL);
	else
		fill(&f->tlsrpt, OK, sec,
		     subst(buf[0], sizeof(buf[0]),
		           "v=TLSRPTv1; rua=mailto:tlsrpt@{d}", d),
		     NULL);
	return f;
}

static int allowed(const char *list, enum smtprobe_dc_status s)
{
	const char *name = st(s);
	size_t n = strlen(name);

	for (const char *p = list; *p;) {
		size_t len = strcspn(p, "|");

		if (len == n && strncmp(p, name, n) == 0)
			return 1;
		p += len;
		p += *p == '|';
	}
	return 0;
}

static const struct trip *trip_of(const struct trip *t, size_t n,
                                  const char *id)
{
	for (size_t i = 0; i < n && t[i].id; i++)
		if (strcmp(t[i].id, id) == 0)
			return &t[i];
	return NULL;
}

static enum smtprobe_dc_status result_status(const struct lab *l)
{
	const char *w = l->spf_result ? l->spf_result : "pass";

	if (zone_sec(l->signing, 0) == BOGUS)
		return S_; /* the SPF record's answer is not trusted */

	if (strcmp(w, "pass") == 0)
		return P_;
	if (strcmp(w, "fail") == 0 && l->nullmx)
		return I_; /* the domain sends no mail: as intended */
	return strcmp(w, "temperror") == 0 || strcmp(w, "softfail") == 0 ? W_
	                                                                 : F_;
}

static void test_lab(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(lab_domains); i++) {
		const struct lab *l = &lab_domains[i];
		struct smtprobe_dc_facts *f = lab_facts(l, i);
		const struct smtprobe_dc_report *r = judge(f);
		int fails = 0;

		for (size_t k = 0; k < r->n; k++) {
			const struct smtprobe_dc_check *c = &r->check[k];
			const struct trip *t =
			        trip_of(l->trips, NELEM(l->trips), c->id);
			const struct trip *a =
			        trip_of(l->also, NELEM(l->also), c->id);
			enum smtprobe_dc_status want = c->status;

			if (t && !allowed(t->allowed, t->chosen))
				fail_msg("%s %s: the chosen %s is not the "
				         "lab's",
				         l->name, c->id, st(t->chosen));
			if (strcmp(c->id, "spf.result") == 0)
				want = result_status(l);
			else if (t || a)
				want = (t ? t : a)->chosen;
			else if (c->status == P_ || c->status == S_)
				want = c->status;
			else
				fail_msg("%s: %s is %s, the lab wants pass "
				         "or skip: %s",
				         l->name, c->id, st(c->status),
				         c->text);
			if (c->status != want)
				fail_msg("%s: %s is %s, expected %s: %s",
				         l->name, c->id, st(c->status),
				         st(want), c->text);
			fails += c->status == F_;
		}
		/* good.test: every check passes */
		if (strcmp(l->name, "good.test") == 0)
			for (size_t k = 0; k < r->n; k++)
				if (r->check[k].status != P_)
					fail_msg("good.test: %s is %s: %s",
					         r->check[k].id,
					         st(r->check[k].status),
					         r->check[k].text);
		assert_int_equal(r->exit_code, fails > 0);
		facts_release(f);
	}
}

/* ---- edge cases ---- */

/* good.test's facts, to be broken one thing at a time */
static struct smtprobe_dc_facts *good(void)
{
	return lab_facts(&lab_domains[0], 0);
}

static void test_bogus_data_unused(void **state)
{
	struct smtprobe_dc_facts *f = good();
	const struct smtprobe_dc_report *r;

	(void)state;
	/* libunbound hands bogus data over: an attacker's MX and SPF */
	fill(&f->mx, OK, BOGUS, "10 evil.example", NULL);
	fill(&f->txt, OK, BOGUS, "v=spf1 +all", NULL);
	fill(&f->dmarc, SERVFAIL, BOGUS, NULL);
	r = judge(f);
	expect(r, "mx.present", S_, "DNSSEC-bogus");
	expect(r, "mx.present", S_, "not trusted");
	expect(r, "mx.cname", S_, "no trusted MX answer");
	expect(r, "ptr.fcrdns", S_, NULL);
	expect(r, "dane.tlsa", S_, NULL);
	expect(r, "mta_sts.mx_match", S_, NULL);
	expect(r, "spf.present", S_, "bogus");
	expect(r, "spf.all", S_, NULL);
	expect(r, "spf.result", S_, "bogus");
	expect(r, "dmarc.present", S_, "bogus");
	expect(r, "dmarc.policy", S_, NULL);
	expect(r, "dnssec.status", F_,
	       "MX at good.test: signature crypto failed");
	expect(r, "dnssec.status", F_, "TXT at _dmarc.good.test: signature");
	assert_null(strstr(find(r, "dnssec.status")->text, "evil"));
	assert_int_equal(r->exit_code, 1);
	/* a bogus TLSA on a trusted MX: DANE senders defer */
	facts_release(f);
	f = good();
	fill(&f->mxs[0].tlsa, SERVFAIL, BOGUS, NULL);
	r = judge(f);
	expect(r, "dane.tlsa", F_, "defer");
	expect(r, "dnssec.status", F_, "TLSA at _25._tcp.mx.good.test");
	facts_release(f);
}

static void test_timeouts(void **state)
{
	struct smtprobe_dc_facts *f = good();
	const struct smtprobe_dc_report *r;

	(void)state;
	fill(&f->mx, TIMEOUT, INSEC, NULL);
	snprintf(f->mx.why, sizeof(f->mx.why), "no answer in time");
	fill(&f->dmarc, SERVFAIL, INSEC, NULL);
	fill(&f->dkim[0], TIMEOUT, INSEC, NULL);
	fill(&f->sts, TIMEOUT, INSEC, NULL);
	f->spf_counted = 0;
	snprintf(f->spf_count_error, sizeof(f->spf_count_error),
	         "temperror: TXT at i1.good.test: timeout");
	r = judge(f);
	expect(r, "mx.present", W_,
	       "could not tell: MX at good.test: timeout "
	       "(no answer in time)");
	expect(r, "mx.null", S_, NULL);
	expect(r, "mx.resolves", S_, NULL);
	expect(r, "dmarc.present", W_, "could not tell");
	expect(r, "dmarc.multiple", S_, NULL);
	expect(r, "dkim.key", W_, "could not tell: TXT at s1._domainkey");
	expect(r, "spf.lookups", W_, "could not count: temperror");
	expect(r, "spf.void_lookups", W_, "could not count");
	expect(r, "mta_sts.record", W_, "could not tell");
	expect(r, "mta_sts.policy", S_, NULL);
	/* the domain's DNSSEC state is still known from its DNSKEY */
	expect(r, "dnssec.status", P_, NULL);
	assert_int_equal(r->exit_code, 0);
	facts_release(f);
	/* PTR and forward lookups that time out */
	f = good();
	fill(&f->mxs[0].addr[0].ptr, TIMEOUT, INSEC, NULL);
	r = judge(f);
	expect(r, "ptr.present", W_, "could not tell");
	expect(r, "ptr.fcrdns", W_, "could not tell");
	facts_release(f);
	f = good();
	fill(&f->mxs[0].addr[0].fwd[0], SERVFAIL, INSEC, NULL);
	r = judge(f);
	expect(r, "ptr.present", P_, NULL);
	expect(r, "ptr.fcrdns", W_, "could not tell");
	facts_release(f);
}

static void test_truncated(void **state)
{
	struct smtprobe_dc_facts *f = good();
	const struct smtprobe_dc_report *r;
	char rec[64];

	(void)state;
	fill(&f->mx, OK, SEC, NULL);
	for (size_t i = 0; i < SMTPROBE_DC_MAX_RECORDS; i++) {
		snprintf(rec, sizeof(rec), "%zu mx%zu.good.test", 10 + i, i);
		assert_int_equal(
		        smtprobe_dc_answer_add(&f->mx, rec, strlen(rec)), 0);
	}
	f->mx.truncated = 1;
	f->nmx = SMTPROBE_DC_MAX_MX;
	for (size_t i = 1; i < f->nmx; i++) {
		lab_mx(&f->mxs[i], "mx.good.test");
		snprintf(f->mxs[i].host, sizeof(f->mxs[i].host),
		         "mx%zu.good.test", i);
	}
	r = judge(f);
	expect(r, "mx.present", P_, "more than 256");
	expect(r, "mx.present", P_, "first 8 hosts");
	/* the policy names mx.good.test only */
	expect(r, "mta_sts.mx_match", F_, "mx7.good.test");
	assert_string_equal(find(r, "mta_sts.mx_match")->host, "");
	facts_release(f);
}

static void test_no_mx(void **state)
{
	struct smtprobe_dc_facts *f = good();
	const struct smtprobe_dc_report *r;

	(void)state;
	/* no MX, but an address: the implicit MX of RFC 5321 §5.1 */
	fill(&f->mx, NODATA, SEC, NULL);
	snprintf(f->mxs[0].host, sizeof(f->mxs[0].host), "good.test");
	r = judge(f);
	expect(r, "mx.present", W_, "implicit MX");
	expect(r, "mx.present", W_, "good.test. MX 10 good.test.");
	expect(r, "mx.resolves", P_, NULL);
	facts_release(f);
	/* the domain does not exist */
	f = good();
	fill(&f->mx, NXDOMAIN, SEC, NULL);
	f->nmx = 0;
	r = judge(f);
	expect(r, "mx.present", F_, "NXDOMAIN");
	expect(r, "mx.cname", S_, NULL);
	expect(r, "ptr.present", S_, NULL);
	facts_release(f);
	/* MX not asked at all */
	f = good();
	smtprobe_dc_answer_clear(&f->mx);
	r = judge(f);
	expect(r, "mx.present", S_, "not looked up");
	facts_release(f);
}

static void test_null_mx(void **state)
{
	struct smtprobe_dc_facts *f = lab_facts(&lab_domains[2], 2);
	const struct smtprobe_dc_report *r;

	(void)state;
	r = judge(f);
	expect(r, "mx.null", I_, "takes no mail");
	expect(r, "mta_sts.record", S_, NULL);
	expect(r, "spf.result", I_, "as intended");
	/* the conflict: a null MX and SPF that authorises senders */
	fill(&f->txt, OK, SEC, "v=spf1 ip4:192.0.2.1 -all", NULL);
	r = judge(f);
	expect(r, "mx.null", W_, "550 5.7.27");
	expect(r, "mx.null", W_, "nullmx.test. TXT \"v=spf1 -all\"");
	expect(r, "spf.result", F_, NULL);
	/* mixed with a real MX */
	fill(&f->mx, OK, SEC, "0 .", "10 mx.good.test", NULL);
	f->nmx = 1;
	lab_mx(&f->mxs[0], "mx.good.test");
	r = judge(f);
	expect(r, "mx.null", F_, "RFC 7505 §3");
	expect(r, "mx.present", P_, NULL);
	facts_release(f);
}

static void test_selectors(void **state)
{
	static const char *const sel[] = {"s1",  "gone", "test",
	                                  "old", "tiny", "ed"};
	struct smtprobe_dc_facts *f = good();
	const struct smtprobe_dc_report *r;
	size_t first = 0;

	(void)state;
	f->nsel = NELEM(sel);
	for (size_t i = 0; i < NELEM(sel); i++)
		snprintf(f->selector[i], sizeof(f->selector[i]), "%s", sel[i]);
	fill(&f->dkim[1], NXDOMAIN, SEC, NULL);
	fill(&f->dkim[2], OK, SEC, "v=DKIM1; t=y; p=" RSA2048, NULL);
	fill(&f->dkim[3], OK, SEC, "v=DKIM1; p=", NULL);
	fill(&f->dkim[4], OK, SEC, "v=DKIM1; p=" RSA512, NULL);
	fill(&f->dkim[5], OK, SEC, "v=DKIM1; k=ed25519; p=" ED25519, NULL);
	r = judge(f);
	while (strcmp(r->check[first].id, "dkim.key") != 0)
		first++;
	static const struct {
		enum smtprobe_dc_status s;
		const char *needle;
	} want[] = {{P_, "rsa 2048 bits"}, {F_, "gone._domainkey.good.test"},
	            {W_, "t=y"},           {W_, "revoked"},
	            {F_, "rsa 512 bits"},  {P_, "ed25519"}};
	for (size_t i = 0; i < NELEM(want); i++) {
		const struct smtprobe_dc_check *c = &r->check[first + i];

		assert_string_equal(c->selector, sel[i]);
		if (c->status != want[i].s || !strstr(c->text, want[i].needle))
			fail_msg("selector %s: %s '%s'", sel[i], st(c->status),
			         c->text);
	}
	assert_non_null(
	        strstr(r->check[first + 4].fix, "opendkim-genkey -b 2048"));
	assert_non_null(strstr(r->check[first + 4].fix, "dkim_selector"));
	facts_release(f);
	/* no selector: one skip row */
	f = good();
	f->nsel = 0;
	r = judge(f);
	expect(r, "dkim.key", S_, "no --dkim-selector given");
	facts_release(f);
}

/* the record a fix offers, rewritten from the one found */
static void test_spf_fixes(void **state)
{
	static const struct {
		const char *spf, *id;
		enum smtprobe_dc_status s;
		const char *needle;
	} rows[] = {
	        {"v=spf1 mx +all", "spf.all", F_,
	         "good.test. TXT \"v=spf1 mx -all\""},
	        {"v=spf1 mx ?all", "spf.all", W_, "\"v=spf1 mx -all\""},
	        {"v=spf1 mx ~all", "spf.all", P_, NULL},
	        {"v=spf1 mx", "spf.all", W_, "\"v=spf1 mx -all\""},
	        {"v=spf1 mx redirect=_spf.good.test", "spf.all", P_,
	         "redirect=_spf.good.test"},
	        {"v=spf1 -all mx", "spf.all", W_, "never reached"},
	        {"v=spf1 mx -all redirect=x.test", "spf.all", W_, "§6.1"},
	        {"v=spf1 ip4:300.1.1.1 -all", "spf.syntax", F_, "300.1.1.1"},
	        {"v=spf1 ip4:300.1.1.1 -all", "spf.all", S_, NULL},
	        {"spf1 mx -all", "spf.present", F_, "\"v=spf1 mx ip4:"},
	        {"v=spf2.0/pra mx -all", "spf.present", F_, "not one"},
	};
	struct smtprobe_dc_facts *f = good();
	const struct smtprobe_dc_report *r;

	(void)state;
	for (size_t i = 0; i < NELEM(rows); i++) {
		fill(&f->txt, OK, SEC, rows[i].spf, NULL);
		r = judge(f);
		expect(r, rows[i].id, rows[i].s, rows[i].needle);
	}
	/* two records: merged into one */
	fill(&f->txt, OK, SEC, "v=spf1 mx -all", "v=spf1 ip4:127.0.0.2 mx ~all",
	     "google-site-verification=x", NULL);
	r = judge(f);
	expect(r, "spf.multiple", F_,
	       "good.test. TXT \"v=spf1 mx ip4:127.0.0.2 -all\"");
	expect(r, "spf.syntax", P_, "all 2 records parse");
	expect(r, "spf.lookups", S_, "spf.multiple");
	/* the IP does not pass: add it before the all */
	fill(&f->txt, OK, SEC, "v=spf1 mx -all", NULL);
	snprintf(f->spf_ip, sizeof(f->spf_ip), "192.0.2.9");
	snprintf(f->spf_result, sizeof(f->spf_result), "fail");
	snprintf(f->spf_mechanism, sizeof(f->spf_mechanism), "-all");
	r = judge(f);
	expect(r, "spf.result", F_, "fail for 192.0.2.9");
	expect(r, "spf.result", F_, "\"v=spf1 mx ip4:192.0.2.9 -all\"");
	snprintf(f->spf_ip, sizeof(f->spf_ip), "2001:db8::9");
	snprintf(f->spf_result, sizeof(f->spf_result), "softfail");
	r = judge(f);
	expect(r, "spf.result", W_, "ip6:2001:db8::9 -all");
	snprintf(f->spf_result, sizeof(f->spf_result), "temperror");
	r = judge(f);
	expect(r, "spf.result", W_, "could not tell");
	f->spf_evaluated = 0; /* asked for, but no SPF record to start */
	r = judge(f);
	expect(r, "spf.result", S_, "not evaluated for 2001:db8::9");
	f->spf_ip[0] = '\0'; /* not asked for */
	r = judge(f);
	expect(r, "spf.result", S_, "no --ip");
	/* a problem inside an include, limits kept */
	f->spf_counted = 1;
	f->spf_lookups = 3;
	snprintf(f->spf_count_error, sizeof(f->spf_count_error),
	         "permerror: include:x.test has no SPF record");
	f->spf_count_code = SMTPROBE_SPF_E_NO_RECORD;
	r = judge(f);
	expect(r, "spf.syntax", F_, "include:x.test has no SPF record");
	expect(r, "spf.lookups", P_,
	       "DNS-querying terms (include a mx ptr exists redirect): 3 of");
	/* at the limits: 10 and 2 pass */
	f->spf_lookups = 10;
	f->spf_voids = 2;
	f->spf_count_error[0] = '\0';
	f->spf_count_code = 0;
	r = judge(f);
	expect(r, "spf.lookups", P_, NULL);
	expect(r, "spf.void_lookups", P_, NULL);
	facts_release(f);
}

static void test_dmarc(void **state)
{
	static const struct {
		const char *rec, *id;
		enum smtprobe_dc_status s;
		const char *needle;
	} rows[] = {
	        {"v=DMARC1; p=quarantine", "dmarc.policy", P_, "p=quarantine"},
	        {"v=DMARC1; p=quarantine", "dmarc.rua_external_auth", S_,
	         "rua=mailto:dmarc@good.test"},
	        {"v=DMARC1; p=reject; pct=50; rua=mailto:d@good.test",
	         "dmarc.policy", W_,
	         "\"v=DMARC1; p=reject; rua=mailto:d@good.test\""},
	        {"v=DMARC1; p=none; rua=mailto:d@good.test", "dmarc.policy", W_,
	         "\"v=DMARC1; p=quarantine; rua=mailto:d@good.test\""},
	        {"v=DMARC1; p=reject; sp=none", "dmarc.policy", W_,
	         "\"v=DMARC1; p=reject\""},
	        {"v=DMARC1; p=reject; np=none", "dmarc.policy", W_,
	         "subdomain"},
	        {"v=DMARC1; p=reject; foo=bar", "dmarc.syntax", P_, "ignored"},
	        {"v=DMARC1; p=block; rua=mailto:d@good.test", "dmarc.syntax",
	         F_, "p=none"},
	        {"v=DMARC1; rua=mailto:d@good.test", "dmarc.syntax", F_,
	         "p= is missing"},
	        {"v=DMARC1; p=reject; rua=mailto:d@mail.good.test",
	         "dmarc.rua_external_auth", P_, "inside good.test"},
	        {"v=DMARC1; p=reject; rua=mailto:d@other.test",
	         "dmarc.rua_external_auth", W_, "not made"},
	        {"v=spf1 -all", "dmarc.present", F_,
	         "_dmarc.good.test TXT \"v=DMARC1; p=quarantine; "
	         "rua=mailto:dmarc@good.test\""},
	};
	struct smtprobe_dc_facts *f = good();
	const struct smtprobe_dc_report *r;

	(void)state;
	for (size_t i = 0; i < NELEM(rows); i++) {
		fill(&f->dmarc, OK, SEC, rows[i].rec, NULL);
		r = judge(f);
		expect(r, rows[i].id, rows[i].s, rows[i].needle);
	}
	fill(&f->dmarc, OK, SEC, "v=DMARC1; p=reject", "v=DMARC1; p=none",
	     NULL);
	r = judge(f);
	expect(r, "dmarc.multiple", F_, "2 DMARC records");
	expect(r, "dmarc.policy", S_, NULL);
	/* an external rua that does not authorise, and one that does */
	fill(&f->dmarc, OK, SEC,
	     "v=DMARC1; p=reject; rua=mailto:a@rep.test,mailto:b@ok.test",
	     NULL);
	f->nrua = 2;
	snprintf(f->rua_domain[0], sizeof(f->rua_domain[0]), "rep.test");
	fill(&f->rua_auth[0], OK, SEC, "v=spf1 -all", NULL);
	snprintf(f->rua_domain[1], sizeof(f->rua_domain[1]), "ok.test");
	fill(&f->rua_auth[1], OK, SEC, "v=DMARC1", NULL);
	r = judge(f);
	expect(r, "dmarc.rua_external_auth", F_,
	       "good.test._report._dmarc.rep.test TXT \"v=DMARC1\"");
	assert_null(
	        strstr(find(r, "dmarc.rua_external_auth")->text, "ok.test"));
	fill(&f->rua_auth[0], TIMEOUT, INSEC, NULL);
	r = judge(f);
	expect(r, "dmarc.rua_external_auth", W_, "could not tell");
	facts_release(f);
	/* a subdomain with no record: the organisational domain's applies */
	f = good();
	snprintf(f->domain, sizeof(f->domain), "sub.good.test");
	fill(&f->dmarc, NXDOMAIN, SEC, NULL);
	fill(&f->org_dmarc, OK, SEC, "v=DMARC1; p=reject; sp=none", NULL);
	snprintf(f->org_domain, sizeof(f->org_domain), "good.test");
	r = judge(f);
	expect(r, "dmarc.present", P_, "organisational");
	expect(r, "dmarc.policy", W_, "sp=none");
	expect(r, "dmarc.policy", W_, "_dmarc.sub.good.test TXT");
	facts_release(f);
}

static void test_mta_sts(void **state)
{
	struct smtprobe_dc_facts *f = good();
	const struct smtprobe_dc_report *r;
	char pol[256];

	(void)state;
	snprintf(pol, sizeof(pol),
	         "version: STSv1\nmode: testing\n"
	         "mx: *.good.test\nmax_age: 3600\n");
	f->sts_policy = pol;
	f->sts_policy_len = strlen(pol);
	snprintf(f->content_type, sizeof(f->content_type),
	         "Text/Plain; charset=utf-8");
	r = judge(f);
	expect(r, "mta_sts.policy", W_, "mode testing");
	expect(r, "mta_sts.policy", W_, "under a day");
	expect(r, "mta_sts.mx_match", P_, NULL);
	/* a second MX that no pattern matches, in testing mode: a warn */
	f->nmx = 2;
	lab_mx(&f->mxs[1], "mx.good.test");
	snprintf(f->mxs[1].host, sizeof(f->mxs[1].host), "mx.other.test");
	r = judge(f);
	expect(r, "mta_sts.mx_match", W_, "mx.other.test");
	assert_string_equal(find(r, "mta_sts.mx_match")->host, "mx.other.test");
	assert_null(strstr(find(r, "mta_sts.mx_match")->text, "mx.good.test"));
	/* a policy without a record; two records */
	fill(&f->sts, NXDOMAIN, SEC, NULL);
	r = judge(f);
	expect(r, "mta_sts.record", I_, "_mta-sts.good.test TXT");
	expect(r, "mta_sts.policy", F_, "no _mta-sts record");
	fill(&f->sts, OK, SEC, "v=STSv1; id=1", "v=STSv1; id=2", NULL);
	r = judge(f);
	expect(r, "mta_sts.record", F_, "2 MTA-STS records");
	fill(&f->sts, OK, SEC, "v=STSv1; id=this-is-no-id", NULL);
	r = judge(f);
	expect(r, "mta_sts.record", F_, "id=");
	/* a record and a fetch that failed on TLS */
	fill(&f->sts, OK, SEC, "v=STSv1; id=1", NULL);
	f->http_status = 0;
	snprintf(f->sts_error, sizeof(f->sts_error),
	         "certificate verify failed");
	r = judge(f);
	expect(r, "mta_sts.policy", F_, "certificate verify failed");
	expect(r, "mta_sts.mx_match", S_, NULL);
	/* not fetched */
	f->sts_fetched = 0;
	r = judge(f);
	expect(r, "mta_sts.policy", S_, "not fetched");
	/* a policy that does not parse */
	f->sts_fetched = 1;
	f->sts_error[0] = '\0';
	f->http_status = 200;
	snprintf(pol, sizeof(pol), "version: STSv1\nmode: enforce\n");
	f->sts_policy_len = strlen(pol);
	r = judge(f);
	expect(r, "mta_sts.policy", F_, "max_age");
	facts_release(f);
}

static void test_tlsrpt(void **state)
{
	struct smtprobe_dc_facts *f = good();
	const struct smtprobe_dc_report *r;

	(void)state;
	fill(&f->tlsrpt, NXDOMAIN, SEC, NULL);
	r = judge(f);
	expect(r, "tlsrpt.present", W_,
	       "v=TLSRPTv1; rua=mailto:tlsrpt@good.test");
	fill(&f->tlsrpt, OK, SEC, "v=TLSRPTv1; rua=ftp://x", NULL);
	r = judge(f);
	expect(r, "tlsrpt.present", F_, NULL);
	fill(&f->tlsrpt, OK, SEC, "v=TLSRPTv1; rua=mailto:a@good.test",
	     "v=TLSRPTv1; rua=mailto:b@good.test", NULL);
	r = judge(f);
	expect(r, "tlsrpt.present", F_, "2 TLS-RPT records");
	facts_release(f);
}

static void test_dane(void **state)
{
	static const struct {
		const char *tlsa[3];
		enum smtprobe_dnssec sec;
		enum smtprobe_dc_status s;
		const char *needle;
	} rows[] = {
	        {{TLSA_LIVE, TLSA_NEXT}, SEC, P_, "2 usable TLSA records"},
	        {{TLSA_LIVE}, SEC, P_, "rollover"},
	        {{"1 1 1 " HEX64("a")}, SEC, W_, "§3.1.3"},
	        {{"1 1 1 " HEX64("a"), TLSA_LIVE}, SEC, P_, "others ignored"},
	        {{"3 1 1 abcd"}, SEC, W_, "no usable"},
	        {{TLSA_LIVE}, INSEC, W_, "the zone is not signed"},
	        {{NULL}, SEC, I_, "no TLSA"},
	};
	struct smtprobe_dc_facts *f = good();
	const struct smtprobe_dc_report *r;

	(void)state;
	for (size_t i = 0; i < NELEM(rows); i++) {
		if (rows[i].tlsa[0])
			fill(&f->mxs[0].tlsa, OK, rows[i].sec, rows[i].tlsa[0],
			     rows[i].tlsa[1], NULL);
		else
			fill(&f->mxs[0].tlsa, NXDOMAIN, rows[i].sec, NULL);
		r = judge(f);
		expect(r, "dane.tlsa", rows[i].s, rows[i].needle);
	}
	expect(r, "dane.tlsa", I_, "TLSA 3 1 1");
	/* a secure TLSA behind an MX record set that is not signed */
	fill(&f->mxs[0].tlsa, OK, SEC, TLSA_LIVE, NULL);
	f->mx.dnssec = INSEC;
	r = judge(f);
	expect(r, "dane.tlsa", W_, "the MX record set is not signed");
	f->mx.dnssec = SEC;
	r = judge(f);
	expect(r, "dane.tlsa", P_, "the certificate matches TLSA 3 1 1");
	/* the live chain matches no record: the key in use is the fix */
	struct smtprobe_dc_smtp *sm = &f->mxs[0].addr[0].smtp;
	sm->dane_match = 0;
	snprintf(sm->spki_sha256, sizeof(sm->spki_sha256), "%s", HEX64("e"));
	r = judge(f);
	expect(r, "dane.tlsa", F_, "matches no TLSA record");
	assert_non_null(
	        strstr(find(r, "dane.tlsa")->fix, "TLSA 3 1 1 " HEX64("e")));
	/* no STARTTLS: DANE senders defer */
	sm->starttls = sm->tls = 0;
	r = judge(f);
	expect(r, "dane.tlsa", F_, "no STARTTLS");
	/* no connections */
	f->connect = 0;
	r = judge(f);
	expect(r, "dane.tlsa", P_,
	       "not compared with the live certificate "
	       "(--no-connect)");
	facts_release(f);
}

/* mx.smtp, mx.starttls and ptr.banner from the sessions' facts */
static void test_smtp(void **state)
{
	struct smtprobe_dc_facts *f = good();
	struct smtprobe_dc_mx *m = &f->mxs[0];
	struct smtprobe_dc_smtp *s = &m->addr[0].smtp;
	const struct smtprobe_dc_report *r;

	(void)state;
	r = judge(f);
	expect(r, "mx.smtp", P_, "answers '220 mx.good.test ESMTP");
	expect(r, "mx.starttls", P_, "TLSv1.3");
	expect(r, "ptr.banner", P_, "banner 'mx.good.test' = PTR");
	/* a second address that refuses connections: a warn */
	m->naddr = 2;
	snprintf(m->addr[1].addr, sizeof(m->addr[1].addr), "127.0.0.9");
	m->addr[1].smtp.tried = 1;
	snprintf(m->addr[1].smtp.why, sizeof(m->addr[1].smtp.why),
	         "cannot connect to 127.0.0.9:25: connection refused");
	r = judge(f);
	expect(r, "mx.smtp", W_, "connection refused");
	/* no address answers: a fail; a 554 banner is quoted */
	s->banner_code = 554;
	snprintf(s->banner, sizeof(s->banner), "554 5.7.1 go away");
	r = judge(f);
	expect(r, "mx.smtp", F_, "refuses: '554 5.7.1 go away'");
	expect(r, "mx.starttls", S_, "no MX took a session");
	expect(r, "ptr.banner", S_, "took a session");
	m->naddr = 1;
	s->banner_code = 220;
	snprintf(s->banner, sizeof(s->banner),
	         "220 mx.good.test ESMTP Postfix");
	s->software = SMTPROBE_SW_POSTFIX; /* as the session recognised it */
	/* the banner is not the PTR: the fix is Postfix's */
	snprintf(s->banner_name, sizeof(s->banner_name), "localhost");
	r = judge(f);
	expect(r, "ptr.banner", W_, "banner 'localhost' is not the PTR");
	assert_non_null(strstr(find(r, "ptr.banner")->fix, "myhostname"));
	assert_null(strstr(find(r, "ptr.banner")->fix, "Exim"));
	/* no STARTTLS with MTA-STS and DANE: a fail, with Postfix's fix */
	s->starttls = s->tls = 0;
	r = judge(f);
	expect(r, "mx.starttls", F_, "no STARTTLS");
	assert_non_null(strstr(find(r, "mx.starttls")->fix, "Postfix"));
	/* ... without them: a warn */
	fill(&f->sts, NXDOMAIN, SEC, NULL);
	fill(&m->tlsa, NXDOMAIN, SEC, NULL);
	s->tlsa_given = 0;
	s->dane_checked = 0;
	r = judge(f);
	expect(r, "mx.starttls", W_, "clear text");
	/* a handshake that fails */
	s->starttls = 1;
	snprintf(s->tls_error, sizeof(s->tls_error), "tls handshake failed");
	r = judge(f);
	expect(r, "mx.starttls", F_, "STARTTLS fails: tls handshake failed");
	/* MTA-STS, no DANE, a certificate that does not verify: a fail */
	fill(&f->sts, OK, SEC, "v=STSv1; id=1", NULL);
	s->tls = 1;
	s->verify_ok = 0;
	snprintf(s->verify_reason, sizeof(s->verify_reason),
	         "self-signed certificate");
	r = judge(f);
	expect(r, "mx.starttls", F_, "MTA-STS senders verify");
	/* --no-connect: all three skip */
	f->connect = 0;
	r = judge(f);
	expect(r, "mx.smtp", S_, "--no-connect");
	expect(r, "mx.starttls", S_, "--no-connect");
	expect(r, "ptr.banner", S_, "--no-connect");
	facts_release(f);
}

static void test_ptr_and_addresses(void **state)
{
	struct smtprobe_dc_facts *f = good();
	struct smtprobe_dc_mx *m = &f->mxs[0];
	const struct smtprobe_dc_report *r;

	(void)state;
	/* IPv6: the forward answer in another spelling still confirms */
	fill(&m->aaaa, OK, SEC, "2001:db8::25", NULL);
	m->naddr = 2;
	snprintf(m->addr[1].addr, sizeof(m->addr[1].addr), "2001:db8::25");
	fill(&m->addr[1].ptr, OK, SEC, "mx6.good.test", "mx.good.test", NULL);
	fill(&m->addr[1].fwd[0], OK, SEC, "2001:0db8:0:0::25", NULL);
	fill(&m->addr[1].fwd[1], NXDOMAIN, SEC, NULL);
	r = judge(f);
	expect(r, "ptr.fcrdns", P_, "2001:db8::25 <-> mx6.good.test");
	expect(r, "ptr.present", P_, "some receivers read only the first");
	expect(r, "mx.resolves", P_, "IPv6: 1 of 1");
	/* a missing PTR for the v6 address: the reverse name in the fix */
	fill(&m->addr[1].ptr, NXDOMAIN, SEC, NULL);
	r = judge(f);
	expect(r, "ptr.present", F_,
	       "5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"
	       ".ip6.arpa. PTR mx.good.test.");
	expect(r, "ptr.present", F_, "smtp_helo_name");
	/* an MX host without any address; one of two */
	facts_release(f);
	f = good();
	fill(&f->mxs[0].a, NXDOMAIN, SEC, NULL);
	f->mxs[0].naddr = 0;
	r = judge(f);
	expect(r, "mx.resolves", F_, "mail bounces");
	expect(r, "ptr.present", S_, "no MX address");
	f->nmx = 2;
	lab_mx(&f->mxs[1], "mx.good.test");
	r = judge(f);
	expect(r, "mx.resolves", W_, "mx.good.test. A <address>");
	assert_string_equal(find(r, "mx.resolves")->host, "mx.good.test");
	facts_release(f);
}

static void test_dnssec(void **state)
{
	struct smtprobe_dc_facts *f = good();
	const struct smtprobe_dc_report *r;

	(void)state;
	/* a secure domain whose MX host's zone is not signed */
	f->mxs[0].a.dnssec = INSEC;
	f->mxs[0].tlsa.dnssec = INSEC;
	r = judge(f);
	expect(r, "dnssec.status", I_, "mx.good.test; DANE cannot protect");
	/* could not tell: no DNSKEY, MX nor TXT answer */
	fill(&f->dnskey, TIMEOUT, INSEC, NULL);
	fill(&f->mx, TIMEOUT, INSEC, NULL);
	fill(&f->txt, TIMEOUT, INSEC, NULL);
	r = judge(f);
	expect(r, "dnssec.status", W_, "could not tell");
	/* many bogus answers: three named, the rest counted */
	facts_release(f);
	f = lab_facts(&lab_domains[NELEM(lab_domains) - 2],
	              NELEM(lab_domains) - 2); /* bogus-ds */
	r = judge(f);
	expect(r, "dnssec.status", F_, "and 4 more");
	expect(r, "dnssec.status", F_, "DNSKEY at bogus-ds.test");
	facts_release(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_lab),
	        cmocka_unit_test(test_bogus_data_unused),
	        cmocka_unit_test(test_timeouts),
	        cmocka_unit_test(test_truncated),
	        cmocka_unit_test(test_no_mx),
	        cmocka_unit_test(test_null_mx),
	        cmocka_unit_test(test_selectors),
	        cmocka_unit_test(test_spf_fixes),
	        cmocka_unit_test(test_dmarc),
	        cmocka_unit_test(test_mta_sts),
	        cmocka_unit_test(test_tlsrpt),
	        cmocka_unit_test(test_dane),
	        cmocka_unit_test(test_smtp),
	        cmocka_unit_test(test_ptr_and_addresses),
	        cmocka_unit_test(test_dnssec),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
