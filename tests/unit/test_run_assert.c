/* test_run_assert.c - the assertions of `smtprobe run` (lib/assure/
 * run_assert.c) and its drift report (run_drift.c), both pure: tables of
 * expectations and measured facts, each with the statuses it must give;
 * and facts of one target name in several environments, with the
 * differences that must (and must not) be reported. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "smtprobe/assure.h"

#include "banned.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void expect_none(struct smtprobe_pol_expect *e)
{
	memset(e, 0, sizeof(*e));
	e->tls_required = e->tls_min_version = e->tls_verify = -1;
	e->tls_cert_days_left_min = -1;
	e->auth_offered_in_clear = e->auth_succeeds = -1;
	e->max_ms = -1;
}

/* a target reached over STARTTLS TLS 1.3, verified, 80 days left, AUTH
 * PLAIN LOGIN after TLS only, credentials taken, A closed, C violated */
static void facts_reached(struct smtprobe_run_facts *f)
{
	memset(f, 0, sizeof(*f));
	f->reached = 1;
	snprintf(f->banner, sizeof(f->banner), "220 mx.example.test ESMTP");
	f->tls = 1;
	snprintf(f->tls_version, sizeof(f->tls_version), "TLSv1.3");
	f->tls_verified = 1;
	f->cert_days_left = 80;
	f->lowest_version = SMTPROBE_TP_TLS12;
	snprintf(f->accepted_versions, sizeof(f->accepted_versions),
	         "TLSv1.2 TLSv1.3");
	f->auth_in_clear = 0;
	snprintf(f->mechanisms, sizeof(f->mechanisms), "PLAIN LOGIN");
	f->auth_ok = 1;
	f->check_ms = 120;
	f->relay_ran = 1;
	f->relay[0] = SMTPROBE_V_CLOSED;
	f->relay[1] = SMTPROBE_V_HOLDS;
	f->relay[2] = SMTPROBE_V_VIOLATED;
}

enum what {
	W_RELAY_A_CLOSED,
	W_RELAY_C_HOLDS,
	W_TLS_REQUIRED,
	W_MIN_TLS13,
	W_MIN_TLS12,
	W_VERIFY,
	W_DAYS_90,
	W_DAYS_30,
	W_CLEAR_FALSE,
	W_MECHS_PLAIN,
	W_MECHS_SCRAM,
	W_SUCCEEDS,
	W_BANNER_OK,
	W_BANNER_BAD,
	W_MAX_100,
	W_MAX_500,
};

struct acase {
	enum what what;
	const char *name;
	enum smtprobe_case_status reached; /* with facts_reached */
	enum smtprobe_case_status down;    /* with the server unreachable */
};

static const struct acase cases[] = {
        {W_RELAY_A_CLOSED, "relay.A", SMTPROBE_CASE_PASS, SMTPROBE_CASE_ERROR},
        {W_RELAY_C_HOLDS, "relay.C", SMTPROBE_CASE_FAIL, SMTPROBE_CASE_ERROR},
        {W_TLS_REQUIRED, "tls.required", SMTPROBE_CASE_PASS,
         SMTPROBE_CASE_ERROR},
        {W_MIN_TLS13, "tls.min_version", SMTPROBE_CASE_FAIL,
         SMTPROBE_CASE_ERROR},
        {W_MIN_TLS12, "tls.min_version", SMTPROBE_CASE_PASS,
         SMTPROBE_CASE_ERROR},
        {W_VERIFY, "tls.verify", SMTPROBE_CASE_PASS, SMTPROBE_CASE_ERROR},
        {W_DAYS_90, "tls.cert_days_left_min", SMTPROBE_CASE_FAIL,
         SMTPROBE_CASE_ERROR},
        {W_DAYS_30, "tls.cert_days_left_min", SMTPROBE_CASE_PASS,
         SMTPROBE_CASE_ERROR},
        {W_CLEAR_FALSE, "auth.offered_in_clear", SMTPROBE_CASE_PASS,
         SMTPROBE_CASE_ERROR},
        {W_MECHS_PLAIN, "auth.mechanisms_include", SMTPROBE_CASE_PASS,
         SMTPROBE_CASE_ERROR},
        {W_MECHS_SCRAM, "auth.mechanisms_include", SMTPROBE_CASE_FAIL,
         SMTPROBE_CASE_ERROR},
        {W_SUCCEEDS, "auth.succeeds", SMTPROBE_CASE_PASS, SMTPROBE_CASE_ERROR},
        {W_BANNER_OK, "banner", SMTPROBE_CASE_PASS, SMTPROBE_CASE_ERROR},
        {W_BANNER_BAD, "banner", SMTPROBE_CASE_FAIL, SMTPROBE_CASE_ERROR},
        {W_MAX_100, "max_ms", SMTPROBE_CASE_FAIL, SMTPROBE_CASE_ERROR},
        {W_MAX_500, "max_ms", SMTPROBE_CASE_PASS, SMTPROBE_CASE_ERROR},
};

static char plain[] = "PLAIN", scram[] = "SCRAM-SHA-256";
static char banner_ok[] = "^220 [a-z.]+ ESMTP", banner_bad[] = "Postfix$";

static void set(struct smtprobe_pol_target *t, enum what w)
{
	struct smtprobe_pol_expect *e = &t->expect;
	switch (w) {
	case W_RELAY_A_CLOSED:
		e->relay_set[0] = 1;
		e->relay[0] = SMTPROBE_V_CLOSED;
		break;
	case W_RELAY_C_HOLDS:
		e->relay_set[2] = 1;
		e->relay[2] = SMTPROBE_V_HOLDS;
		break;
	case W_TLS_REQUIRED:
		e->tls_required = 1;
		break;
	case W_MIN_TLS13:
		e->tls_min_version = SMTPROBE_TP_TLS13;
		break;
	case W_MIN_TLS12:
		e->tls_min_version = SMTPROBE_TP_TLS12;
		break;
	case W_VERIFY:
		e->tls_verify = 1;
		break;
	case W_DAYS_90:
		e->tls_cert_days_left_min = 90;
		break;
	case W_DAYS_30:
		e->tls_cert_days_left_min = 30;
		break;
	case W_CLEAR_FALSE:
		e->auth_offered_in_clear = 0;
		break;
	case W_MECHS_PLAIN:
		e->mechs_include[0] = plain;
		e->nmechs = 1;
		break;
	case W_MECHS_SCRAM:
		e->mechs_include[0] = plain;
		e->mechs_include[1] = scram;
		e->nmechs = 2;
		break;
	case W_SUCCEEDS:
		e->auth_succeeds = 1;
		break;
	case W_BANNER_OK:
		e->banner = banner_ok;
		break;
	case W_BANNER_BAD:
		e->banner = banner_bad;
		break;
	case W_MAX_100:
		e->max_ms = 100;
		break;
	case W_MAX_500:
		e->max_ms = 500;
		break;
	}
}

static char host[] = "127.0.0.1", user[] = "alice", tname[] = "sub";

static void one(const struct acase *c, int reached)
{
	struct smtprobe_pol_target t;
	struct smtprobe_run_target rt;

	memset(&t, 0, sizeof(t));
	t.name = tname;
	t.host = host;
	t.port = 587;
	t.auth_user = user;
	expect_none(&t.expect);
	set(&t, c->what);
	memset(&rt, 0, sizeof(rt));
	rt.env = "staging";
	rt.t = &t;
	facts_reached(&rt.facts);
	if (!reached) {
		rt.facts.reached = 0;
		rt.facts.relay_ran = 0;
	}
	smtprobe_run_assert(&rt);
	assert_int_equal(rt.na, 2);
	assert_string_equal(rt.a[0].name, "reachable");
	assert_int_equal(rt.a[0].status,
	                 reached ? SMTPROBE_CASE_PASS : SMTPROBE_CASE_FAIL);
	assert_string_equal(rt.a[1].name, c->name);
	if ((int)rt.a[1].status != (int)(reached ? c->reached : c->down))
		fail_msg("%s (%s): status %d, want %d; expected '%s' actual "
		         "'%s'",
		         c->name, reached ? "reached" : "down",
		         (int)rt.a[1].status,
		         (int)(reached ? c->reached : c->down),
		         rt.a[1].expected, rt.a[1].actual);
	assert_true(rt.a[1].expected[0] != '\0');
	assert_true(rt.a[1].actual[0] != '\0');
}

static void test_assertions(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		one(&cases[i], 1);
		one(&cases[i], 0);
	}
}

/* a target that could not run at all (its secret unreadable) */
static void test_error_is_undecided(void **state)
{
	struct smtprobe_pol_target t;
	struct smtprobe_run_target rt;
	(void)state;

	memset(&t, 0, sizeof(t));
	t.name = tname;
	t.host = host;
	expect_none(&t.expect);
	memset(&rt, 0, sizeof(rt));
	rt.t = &t;
	rt.env = "prod";
	snprintf(rt.error, sizeof(rt.error), "ALICE_PW is not set");
	smtprobe_run_assert(&rt);
	assert_int_equal(rt.na, 1);
	assert_int_equal(rt.a[0].status, SMTPROBE_CASE_ERROR);
	assert_non_null(strstr(rt.a[0].actual, "ALICE_PW"));
}

static void test_drift(void **state)
{
	struct smtprobe_pol_target sub, mx;
	struct smtprobe_run_target rt[4];
	struct smtprobe_run_report r;
	(void)state;

	memset(&sub, 0, sizeof(sub));
	memset(&mx, 0, sizeof(mx));
	sub.name = tname;
	mx.name = host; /* any other name */
	memset(rt, 0, sizeof(rt));
	const char *envs[4] = {"staging", "production", "staging",
	                       "production"};
	for (int i = 0; i < 4; i++) {
		rt[i].env = envs[i];
		rt[i].t = i < 2 ? &sub : &mx;
		facts_reached(&rt[i].facts);
	}
	/* production's submission lets alice send as bob; its TLS was not
	 * scanned (not comparable); the mx targets are alike */
	rt[0].facts.relay[2] = SMTPROBE_V_HOLDS;
	rt[1].facts.lowest_version = -1;
	memset(&r, 0, sizeof(r));
	r.targets = rt;
	r.ntargets = 4;
	smtprobe_run_drift(&r);
	assert_int_equal(r.compared, 2);
	assert_int_equal(r.ndrift, 1);
	assert_string_equal(r.drift[0].target, tname);
	assert_string_equal(r.drift[0].fact, "relay.C");
	assert_int_equal(r.drift[0].nvalues, 2);
	assert_string_equal(r.drift[0].env[0], "staging");
	assert_string_equal(r.drift[0].value[0], "holds");
	assert_string_equal(r.drift[0].value[1], "violated");
	r.targets = NULL;
	smtprobe_run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_assertions),
	        cmocka_unit_test(test_error_is_undecided),
	        cmocka_unit_test(test_drift),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
