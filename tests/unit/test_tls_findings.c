/* test_tls_findings.c - a TLS posture judged (lib/tlsscan/findings.c): a
 * table of postures, each with the findings (id and severity) it must
 * give and the ones it must not, the mail-aware trust rule, the order
 * (worst first) and fixes for the software that runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "smtprobe/tlsposture.h"

#include "banned.h"

#define NELEM(a)   (sizeof(a) / sizeof((a)[0]))
#define MAX_EXPECT 8

enum tweak {
	T_NONE,
	T_MX,         /* port 25, no AUTH */
	T_SUBMISSION, /* port 587, AUTH */
	T_OLD_PROTOS, /* TLS 1.0 and 1.1 offered */
	T_SSL3_ONLY,  /* SSLv3 and TLS 1.0 only */
	T_NO_STARTTLS,
	T_WEAK_SUITES, /* RC4, 3DES, an RSA-kx CBC suite */
	T_NULL_SUITE,
	T_ANON,
	T_TRUST_UNKNOWN,
	T_MUST_STAPLE,
	T_MISORDERED,
	T_DH1024,
	T_DH_CUSTOM_3072,
	T_EXPIRED,
	T_SOON,
	T_SELF_SIGNED,
	T_INCOMPLETE,
	T_MISMATCH,
	T_WEAK_KEY_SHA1,
	T_LONG_LIFE,
	T_SESSION_BAD, /* compression, insecure renegotiation, no SCSV */
	T_INJECTION,
	T_VERIFY_EVERYWHERE,
	T_EXIM,
};

struct expect {
	const char *id;
	enum smtprobe_tls_severity sev;
};

struct tcase {
	const char *name;
	enum tweak t[4];
	struct expect want[MAX_EXPECT];
	const char *absent[MAX_EXPECT];
};

#define SEV(s) SMTPROBE_SEV_##s

static const struct tcase cases[] = {
        {"a modern MX gives nothing above info",
         {T_MX},
         {{NULL, 0}},
         {"protocol.tls1_0", "cipher.no_pfs", "cert.untrusted",
          "starttls.not_offered", "dh.weak"}},
        {"TLS 1.0 and 1.1 are medium",
         {T_MX, T_OLD_PROTOS},
         {{"protocol.tls1_0", SEV(MEDIUM)}, {"protocol.tls1_1", SEV(MEDIUM)}},
         {"protocol.sslv3", "protocol.no_tls1_2"}},
        {"SSLv3 is high; no 1.2 nor 1.3 is high",
         {T_MX, T_SSL3_ONLY},
         {{"protocol.sslv3", SEV(HIGH)},
          {"protocol.no_tls1_2", SEV(HIGH)},
          {"protocol.no_tls1_3", SEV(LOW)}},
         {NULL}},
        {"no STARTTLS is high, and names the credentials with AUTH",
         {T_SUBMISSION, T_NO_STARTTLS},
         {{"starttls.not_offered", SEV(HIGH)}},
         {NULL}},
        {"RC4 high, 3DES medium, no forward secrecy medium, CBC low",
         {T_MX, T_WEAK_SUITES},
         {{"cipher.rc4", SEV(HIGH)},
          {"cipher.3des", SEV(MEDIUM)},
          {"cipher.no_pfs", SEV(MEDIUM)},
          {"cipher.cbc", SEV(LOW)}},
         {"cipher.null", "cipher.export"}},
        {"anonymous suites: high on a port-25 MX",
         {T_MX, T_ANON},
         {{"cipher.anon", SEV(HIGH)}},
         {NULL}},
        {"anonymous suites where clients authenticate are critical",
         {T_SUBMISSION, T_ANON},
         {{"cipher.anon", SEV(CRITICAL)}},
         {NULL}},
        {"a leaf from a raw flight: no trust findings, the rest stays",
         {T_SUBMISSION, T_TRUST_UNKNOWN, T_WEAK_KEY_SHA1},
         {{"cert.key_weak", SEV(MEDIUM)}, {"cert.sig_sha1", SEV(MEDIUM)}},
         {"cert.untrusted", "cert.chain_incomplete"}},
        {"must-staple without a staple: high where trust counts",
         {T_SUBMISSION, T_MUST_STAPLE, T_MISORDERED},
         {{"cert.must_staple_unstapled", SEV(HIGH)},
          {"cert.chain_order", SEV(LOW)}},
         {"ocsp.not_stapled"}},
        {"a NULL suite is critical",
         {T_MX, T_NULL_SUITE},
         {{"cipher.null", SEV(CRITICAL)}},
         {"cipher.no_pfs"}},
        {"DHE-1024 is high",
         {T_MX, T_DH1024},
         {{"dh.weak", SEV(HIGH)}},
         {"dh.custom"}},
        {"a custom 3072-bit group is low",
         {T_MX, T_DH_CUSTOM_3072},
         {{"dh.custom", SEV(LOW)}},
         {"dh.weak"}},
        {"on a port-25 MX trust problems are info",
         {T_MX, T_EXPIRED, T_MISMATCH},
         {{"cert.expired", SEV(INFO)}, {"cert.hostname_mismatch", SEV(INFO)}},
         {NULL}},
        {"on submission they are high",
         {T_SUBMISSION, T_EXPIRED, T_MISMATCH},
         {{"cert.expired", SEV(HIGH)}, {"cert.hostname_mismatch", SEV(HIGH)}},
         {NULL}},
        {"--tls-verify makes them high on port 25 too",
         {T_MX, T_SELF_SIGNED, T_VERIFY_EVERYWHERE},
         {{"cert.self_signed", SEV(HIGH)}},
         {"cert.untrusted", "cert.chain_incomplete"}},
        {"an incomplete chain names the missing issuer",
         {T_SUBMISSION, T_INCOMPLETE},
         {{"cert.chain_incomplete", SEV(HIGH)}},
         {"cert.untrusted"}},
        {"expiring in 10 days is medium where trust counts",
         {T_SUBMISSION, T_SOON},
         {{"cert.expires_soon", SEV(MEDIUM)}},
         {"cert.expired"}},
        {"RSA-1024 and SHA-1 are medium",
         {T_MX, T_WEAK_KEY_SHA1},
         {{"cert.key_weak", SEV(MEDIUM)}, {"cert.sig_sha1", SEV(MEDIUM)}},
         {NULL}},
        {"a 5-year certificate is low",
         {T_MX, T_LONG_LIFE},
         {{"cert.lifetime_long", SEV(LOW)}},
         {NULL}},
        {"compression medium, insecure renegotiation medium, no SCSV low",
         {T_MX, T_SESSION_BAD, T_OLD_PROTOS},
         {{"compression.enabled", SEV(MEDIUM)},
          {"renegotiation.insecure", SEV(MEDIUM)},
          {"renegotiation.client_initiated", SEV(LOW)},
          {"fallback_scsv.missing", SEV(LOW)}},
         {NULL}},
        {"STARTTLS injection is high",
         {T_MX, T_INJECTION},
         {{"starttls.injection", SEV(HIGH)}},
         {NULL}},
};

/* A modern, trusted port-25 MX: the base every case changes. */
static void base(struct smtprobe_tls_posture *p)
{
	static const struct smtprobe_tls_suite_fact good[] = {
	        {"TLS_AES_256_GCM_SHA384", SMTPROBE_STRENGTH_HIGH, 0, 0, 0, 1},
	        {"ECDHE-RSA-AES256-GCM-SHA384", SMTPROBE_STRENGTH_HIGH, 0, 0, 0,
	         1},
	};

	memset(p, 0, sizeof(*p));
	p->port = 25;
	p->starttls_offered = 1;
	p->software = SMTPROBE_SW_POSTFIX;
	for (int i = 0; i < SMTPROBE_TP_LAST; i++)
		p->tested[i] = 1;
	p->offered[SMTPROBE_TP_TLS12] = p->offered[SMTPROBE_TP_TLS13] = 1;
	memcpy(p->suites, good, sizeof(good));
	p->nsuites = NELEM(good);
	p->have_cert = 1;
	p->days_left = 80;
	p->lifetime_days = 90;
	snprintf(p->key_type, sizeof(p->key_type), "RSA");
	p->key_bits = 2048;
	snprintf(p->sig_alg, sizeof(p->sig_alg), "sha256WithRSAEncryption");
	p->trusted = 1;
	p->host_checked = p->host_match = 1;
	snprintf(p->host, sizeof(p->host), "mx.example.test");
	p->ocsp_stapled = SMTPROBE_UNKNOWN;
	p->compression = SMTPROBE_NO;
	p->secure_renegotiation = SMTPROBE_YES;
	p->fallback_scsv = SMTPROBE_YES;
	p->starttls_injection = SMTPROBE_NO;
}

static void add_suite(struct smtprobe_tls_posture *p, const char *name,
                      enum smtprobe_suite_strength st, int rc4, int des3,
                      int cbc, int pfs)
{
	struct smtprobe_tls_suite_fact *s = &p->suites[p->nsuites++];

	s->name = name;
	s->strength = st;
	s->rc4 = rc4;
	s->des3 = des3;
	s->cbc = cbc;
	s->pfs = pfs;
}

static void apply(struct smtprobe_tls_posture *p, enum tweak t)
{
	switch (t) {
	case T_NONE:
	case T_MX:
		break;
	case T_SUBMISSION:
		p->port = 587;
		p->auth_offered = 1;
		break;
	case T_OLD_PROTOS:
		p->offered[SMTPROBE_TP_TLS10] = p->offered[SMTPROBE_TP_TLS11] =
		        1;
		break;
	case T_SSL3_ONLY:
		memset(p->offered, 0, sizeof(p->offered));
		p->offered[SMTPROBE_TP_SSL3] = p->offered[SMTPROBE_TP_TLS10] =
		        1;
		break;
	case T_NO_STARTTLS:
		p->starttls_offered = 0;
		break;
	case T_WEAK_SUITES:
		add_suite(p, "RC4-SHA", SMTPROBE_STRENGTH_LOW, 1, 0, 0, 0);
		add_suite(p, "DES-CBC3-SHA", SMTPROBE_STRENGTH_MEDIUM, 0, 1, 1,
		          0);
		add_suite(p, "AES128-SHA", SMTPROBE_STRENGTH_HIGH, 0, 0, 1, 0);
		break;
	case T_NULL_SUITE:
		add_suite(p, "NULL-SHA", SMTPROBE_STRENGTH_NULL, 0, 0, 0, 0);
		break;
	case T_ANON:
		add_suite(p, "ADH-AES128-SHA", SMTPROBE_STRENGTH_ANON, 0, 0, 1,
		          1);
		break;
	case T_TRUST_UNKNOWN:
		p->trusted = 0;
		p->trust_unknown = 1;
		break;
	case T_MUST_STAPLE:
		p->must_staple = 1;
		p->ocsp_stapled = SMTPROBE_NO;
		break;
	case T_MISORDERED:
		p->chain_misordered = 1;
		break;
	case T_DH1024:
		p->dh_bits = 1024;
		break;
	case T_DH_CUSTOM_3072:
		p->dh_bits = 3072;
		break;
	case T_EXPIRED:
		p->days_left = -3;
		break;
	case T_SOON:
		p->days_left = 10;
		break;
	case T_SELF_SIGNED:
		p->self_signed = 1;
		p->trusted = 0;
		break;
	case T_INCOMPLETE:
		p->trusted = 0;
		p->chain_incomplete = 1;
		snprintf(p->missing_issuer, sizeof(p->missing_issuer),
		         "CN=Test Intermediate");
		break;
	case T_MISMATCH:
		p->host_match = 0;
		break;
	case T_WEAK_KEY_SHA1:
		p->key_bits = 1024;
		snprintf(p->sig_alg, sizeof(p->sig_alg),
		         "sha1WithRSAEncryption");
		break;
	case T_LONG_LIFE:
		p->lifetime_days = 1826;
		break;
	case T_SESSION_BAD:
		p->client_renegotiation = SMTPROBE_YES;
		p->compression = SMTPROBE_YES;
		p->secure_renegotiation = SMTPROBE_NO;
		p->fallback_scsv = SMTPROBE_NO;
		break;
	case T_INJECTION:
		p->starttls_injection = SMTPROBE_YES;
		break;
	case T_VERIFY_EVERYWHERE:
		p->verify_everywhere = 1;
		break;
	case T_EXIM:
		p->software = SMTPROBE_SW_EXIM;
		break;
	}
}

static const struct smtprobe_tls_finding *
find(const struct smtprobe_tls_finding *f, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(f[i].id, id) == 0)
			return &f[i];
	return NULL;
}

static void run_case(void **state)
{
	const struct tcase *c = *state;
	struct smtprobe_tls_posture p;
	struct smtprobe_tls_finding f[SMTPROBE_MAX_FINDINGS];

	base(&p);
	for (size_t i = 0; i < NELEM(c->t); i++)
		apply(&p, c->t[i]);
	size_t n = smtprobe_tls_findings(&p, f, NELEM(f));

	for (size_t i = 0; i < MAX_EXPECT && c->want[i].id; i++) {
		const struct smtprobe_tls_finding *x =
		        find(f, n, c->want[i].id);
		if (!x)
			fail_msg("%s: no %s", c->name, c->want[i].id);
		if (x->severity != c->want[i].sev)
			fail_msg("%s: %s is %s, not %s", c->name, x->id,
			         smtprobe_tls_severity_name(x->severity),
			         smtprobe_tls_severity_name(c->want[i].sev));
		assert_true(x->text[0] != '\0');
	}
	for (size_t i = 0; i < MAX_EXPECT && c->absent[i]; i++)
		if (find(f, n, c->absent[i]))
			fail_msg("%s: %s should not be there", c->name,
			         c->absent[i]);
	if (!c->want[0].id)
		for (size_t i = 0; i < n; i++)
			if (f[i].severity > SMTPROBE_SEV_INFO)
				fail_msg("%s: %s (%s)", c->name, f[i].id,
				         smtprobe_tls_severity_name(
				                 f[i].severity));
	for (size_t i = 1; i < n; i++)
		assert_true(f[i - 1].severity >= f[i].severity);
}

static void test_fixes_for_the_software(void **state)
{
	struct smtprobe_tls_posture p;
	struct smtprobe_tls_finding f[SMTPROBE_MAX_FINDINGS];
	(void)state;

	base(&p);
	apply(&p, T_OLD_PROTOS);
	size_t n = smtprobe_tls_findings(&p, f, NELEM(f));
	const struct smtprobe_tls_finding *x = find(f, n, "protocol.tls1_0");
	assert_non_null(x);
	assert_non_null(strstr(x->fix, "smtpd_tls_protocols"));
	assert_null(strstr(x->fix, "Exim"));
	apply(&p, T_EXIM);
	n = smtprobe_tls_findings(&p, f, NELEM(f));
	x = find(f, n, "protocol.tls1_0");
	assert_non_null(strstr(x->fix, "openssl_options"));
	assert_null(strstr(x->fix, "Postfix"));
	/* the injection has no setting to change: no fix line */
	apply(&p, T_INJECTION);
	n = smtprobe_tls_findings(&p, f, NELEM(f));
	x = find(f, n, "starttls.injection");
	assert_string_equal(x->fix, "");
}

static void test_untested_facts_give_nothing(void **state)
{
	struct smtprobe_tls_posture p;
	struct smtprobe_tls_finding f[SMTPROBE_MAX_FINDINGS];
	(void)state;

	memset(&p, 0, sizeof(p));
	p.port = 25;
	p.starttls_offered = 1;
	p.ocsp_stapled = p.compression = p.secure_renegotiation =
	        p.fallback_scsv = p.starttls_injection = SMTPROBE_UNKNOWN;
	assert_int_equal(smtprobe_tls_findings(&p, f, NELEM(f)), 0);
	/* and the list is bounded */
	base(&p);
	apply(&p, T_WEAK_SUITES);
	apply(&p, T_OLD_PROTOS);
	assert_int_equal(smtprobe_tls_findings(&p, f, 2), 2);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(smtprobe_tls_proto_name(SMTPROBE_TP_TLS11),
	                    "TLSv1.1");
	assert_string_equal(smtprobe_tls_proto_name(SMTPROBE_TP_LAST), "?");
	assert_string_equal(smtprobe_tls_severity_name(SMTPROBE_SEV_CRITICAL),
	                    "critical");
	assert_string_equal(
	        smtprobe_suite_strength_name(SMTPROBE_STRENGTH_EXPORT),
	        "export");
}

int main(void)
{
	struct CMUnitTest tests[NELEM(cases) + 3];

	for (size_t i = 0; i < NELEM(cases); i++) {
		tests[i] = (struct CMUnitTest){cases[i].name, run_case, NULL,
		                               NULL, (void *)&cases[i]};
	}
	tests[NELEM(cases)] = (struct CMUnitTest)cmocka_unit_test(
	        test_fixes_for_the_software);
	tests[NELEM(cases) + 1] = (struct CMUnitTest)cmocka_unit_test(
	        test_untested_facts_give_nothing);
	tests[NELEM(cases) + 2] =
	        (struct CMUnitTest)cmocka_unit_test(test_names);
	return _cmocka_run_group_tests("tls_findings", tests, NELEM(tests),
	                               NULL, NULL);
}
