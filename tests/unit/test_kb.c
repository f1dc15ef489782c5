/* test_kb.c - the knowledge base: every entry complete and reachable by a
 * lookup built from its own key, ids unique, no text pattern shadowing
 * another except the intended pairs below, real replies from the field
 * giving the expected matches in order, and hostile input giving no
 * match without crashing. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "smtprobe/kb.h"

#include "banned.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define MAXM     16

/* Pattern pairs where one contains the other on purpose: the longer one
 * is a more specific refusal of a different vendor, and both ranking
 * (longest first) and both explanations are wanted. */
static const char *const intended[][2] = {
        {"Authentication required", "Proper authentication required"},
        {"Unable to relay", "Unable to relay recipient in non-accepted domain"},
};

static int contains_ci(const char *hay, const char *needle)
{
	size_t hl = strlen(hay), nl = strlen(needle), i;

	for (i = 0; i + nl <= hl; i++)
		if (strncasecmp(hay + i, needle, nl) == 0)
			return 1;
	return 0;
}

static int has(const struct smtprobe_kb_entry **m, size_t n,
               const struct smtprobe_kb_entry *e)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (m[i] == e)
			return 1;
	return 0;
}

static void test_complete(void **state)
{
	const struct smtprobe_kb_entry *all;
	size_t n, i, j, texts = 0;

	(void)state;
	all = smtprobe_kb_entries(&n);
	assert_true(n > 150);
	for (i = 0; i < n; i++) {
		const struct smtprobe_kb_entry *e = &all[i];

		assert_non_null(e->id);
		assert_non_null(e->key);
		assert_true(e->key[0] != '\0');
		assert_non_null(e->title);
		assert_true(e->title[0] != '\0');
		assert_non_null(e->meaning);
		assert_true(e->meaning[0] != '\0');
		assert_non_null(e->causes[0]);
		assert_non_null(e->fixes[0]);
		assert_non_null(e->reference);
		assert_true(e->reference[0] != '\0');
		assert_true(e->kind <= SMTPROBE_KB_X509);
		if (e->kind == SMTPROBE_KB_TEXT)
			texts++;
		for (j = i + 1; j < n; j++)
			if (strcmp(e->id, all[j].id) == 0)
				fail_msg("duplicate id %s", e->id);
	}
	assert_true(texts >= 40);
}

static void test_reachable(void **state)
{
	const struct smtprobe_kb_entry *all, *m[MAXM];
	size_t n, i, k;

	(void)state;
	all = smtprobe_kb_entries(&n);
	for (i = 0; i < n; i++) {
		const struct smtprobe_kb_entry *e = &all[i];
		char enh[16];
		long code;

		switch (e->kind) {
		case SMTPROBE_KB_BASIC:
			code = strtol(e->key, NULL, 10);
			k = smtprobe_kb_lookup((int)code, "", "", m, MAXM);
			assert_true(k >= 1);
			assert_ptr_equal(m[0], e);
			break;
		case SMTPROBE_KB_ENHANCED:
			snprintf(enh, sizeof(enh), "%s", e->key);
			if (enh[0] == 'x')
				enh[0] = '5';
			k = smtprobe_kb_lookup(0, enh, "", m, MAXM);
			if (!has(m, k, e)) {
				enh[0] = '4';
				k = smtprobe_kb_lookup(0, enh, "", m, MAXM);
			}
			if (!has(m, k, e))
				fail_msg("enhanced %s unreachable", e->key);
			break;
		case SMTPROBE_KB_TEXT:
			k = smtprobe_kb_lookup(0, "", e->key, m, MAXM);
			assert_true(k >= 1);
			if (m[0] != e)
				fail_msg("text '%s' shadowed by '%s'", e->key,
				         m[0]->key);
			break;
		case SMTPROBE_KB_LOCAL:
			if (smtprobe_kb_local(e->key) != e)
				fail_msg("local %s unreachable", e->key);
			break;
		case SMTPROBE_KB_X509:
			if (smtprobe_kb_x509(0, e->key) != e)
				fail_msg("x509 '%s' unreachable by reason",
				         e->key);
			code = strtol(e->id + 5, NULL, 10);
			if (smtprobe_kb_x509(code, NULL) != e)
				fail_msg("x509 %ld unreachable by code", code);
			break;
		}
	}
}

static int is_intended(const char *a, const char *b)
{
	size_t i;

	for (i = 0; i < NELEM(intended); i++)
		if (strcasecmp(intended[i][0], a) == 0 &&
		    strcasecmp(intended[i][1], b) == 0)
			return 1;
	return 0;
}

static void test_no_shadowing(void **state)
{
	const struct smtprobe_kb_entry *all;
	size_t n, i, j, used = 0;

	(void)state;
	all = smtprobe_kb_entries(&n);
	for (i = 0; i < n; i++) {
		if (all[i].kind != SMTPROBE_KB_TEXT)
			continue;
		for (j = 0; j < n; j++) {
			if (i == j || all[j].kind != SMTPROBE_KB_TEXT)
				continue;
			if (!contains_ci(all[j].key, all[i].key))
				continue;
			if (!is_intended(all[i].key, all[j].key))
				fail_msg("pattern '%s' shadows '%s'",
				         all[i].key, all[j].key);
			used++;
		}
	}
	/* the allow-list holds no stale pairs */
	assert_int_equal(used, NELEM(intended));
}

struct lcase {
	const char *name;
	int code;
	const char *enh;
	const char *text;
	const char *want[6]; /* ids, in order, NULL-ended */
};

static const struct lcase lcases[] = {
        {"postfix relay denied",
         554,
         "5.7.1",
         "<x@example.net>: Relay access denied",
         {"postfix-relay-access-denied", "enh-x.7.1", "basic-554"}},
        {"postfix deferred relay",
         454,
         "4.7.1",
         "<x@example.net>: Relay access denied",
         {"postfix-relay-access-denied", "enh-4.7.1", "enh-x.7.1",
          "basic-454"}},
        {"gmail 5.7.26",
         550,
         "5.7.26",
         "This message does not have authentication information or fails "
         "to pass authentication checks (SPF or DKIM).",
         {"gmail-unauthenticated-sender", "enh-x.7.26", "basic-550"}},
        {"exchange 5.7.139",
         535,
         "5.7.139",
         "Authentication unsuccessful, SmtpClientAuthentication is "
         "disabled for the Tenant.",
         {"m365-smtp-auth-disabled", "exchange-auth-unsuccessful", "ms-5.7.139",
          "basic-535"}},
        {"exchange 5.7.57",
         530,
         "5.7.57",
         "Client was not authenticated to send anonymous mail during MAIL "
         "FROM",
         {"exchange-anonymous-mail-from",
          "exchange-client-not-"
          "authenticated",
          "ms-5.7.57", "basic-530"}},
        {"postfix starttls",
         530,
         "5.7.0",
         "Must issue a STARTTLS command first",
         {"starttls-first", "enh-x.7.0", "basic-530"}},
        {"sendmail relaying",
         550,
         "5.7.1",
         "<x@example.net>... Relaying denied. Proper authentication "
         "required.",
         {"sendmail-proper-auth", "generic-auth-required",
          "sendmail-relaying-denied", "enh-x.7.1", "basic-550"}},
        {"unknown detail falls back",
         550,
         "5.7.99",
         "",
         {"enh-x.7.0", "basic-550"}},
        {"code only", 421, "", "", {"basic-421"}},
        {"bad enhanced ignored", 535, "5.7", "", {"basic-535"}},
};

static void test_lookups(void **state)
{
	const struct smtprobe_kb_entry *m[MAXM];
	size_t i, j, n;

	(void)state;
	for (i = 0; i < NELEM(lcases); i++) {
		const struct lcase *c = &lcases[i];

		n = smtprobe_kb_lookup(c->code, c->enh, c->text, m, MAXM);
		for (j = 0; c->want[j] != NULL; j++) {
			if (j >= n)
				fail_msg("%s: only %zu matches", c->name, n);
			if (strcmp(m[j]->id, c->want[j]) != 0)
				fail_msg("%s: match %zu is %s, want %s",
				         c->name, j, m[j]->id, c->want[j]);
		}
		assert_int_equal(n, j);
		for (j = 0; j < n; j++)
			assert_int_equal(has(m, j, m[j]), 0);
	}
	/* max is respected */
	n = smtprobe_kb_lookup(554, "5.7.1", "Relay access denied", m, 2);
	assert_int_equal(n, 2);
}

static void test_local_x509(void **state)
{
	(void)state;
	assert_string_equal(smtprobe_kb_local("ECONNREFUSED")->id,
	                    "local-econnrefused");
	assert_string_equal(smtprobe_kb_local("econnrefused")->id,
	                    "local-econnrefused");
	assert_string_equal(
	        smtprobe_kb_local("connect to mx[1.2.3.4]:25: Connection "
	                          "refused")
	                ->id,
	        "local-econnrefused");
	assert_string_equal(smtprobe_kb_local("Connection timed out")->id,
	                    "local-etimedout");
	assert_string_equal(
	        smtprobe_kb_local("timeout waiting for the banner")->id,
	        "local-timeout");
	assert_string_equal(smtprobe_kb_local("Network is unreachable")->id,
	                    "local-enetunreach");
	assert_string_equal(
	        smtprobe_kb_local("error:0A00010B:SSL routines::wrong version "
	                          "number")
	                ->id,
	        "tls-wrong-version");
	assert_null(smtprobe_kb_local("all is well"));
	assert_null(smtprobe_kb_local(""));
	assert_null(smtprobe_kb_local(NULL));

	assert_string_equal(smtprobe_kb_x509(0, "certificate has expired")->id,
	                    "x509-10-expired");
	assert_string_equal(smtprobe_kb_x509(10, NULL)->id, "x509-10-expired");
	assert_string_equal(smtprobe_kb_x509(0,
	                                     "verify error:num=19:self signed "
	                                     "certificate in certificate chain")
	                            ->id,
	                    "x509-19-self-signed-in-chain");
	assert_string_equal(smtprobe_kb_x509(0, "self-signed certificate")->id,
	                    "x509-18-self-signed");
	assert_string_equal(smtprobe_kb_x509(0, "Hostname mismatch")->id,
	                    "x509-62-hostname-mismatch");
	assert_null(smtprobe_kb_x509(9999, NULL));
	assert_null(smtprobe_kb_x509(0, "ok"));
	assert_null(smtprobe_kb_x509(-1, NULL));
}

static void test_hostile(void **state)
{
	const struct smtprobe_kb_entry *m[MAXM];
	char *big;
	size_t i, sz = 1 << 20;

	(void)state;
	big = malloc(sz + 1);
	assert_non_null(big);
	for (i = 0; i < sz; i++)
		big[i] = (char)(1 + (i * 131 + 7) % 255); /* NUL-free */
	big[sz] = '\0';
	assert_int_equal(smtprobe_kb_lookup(0, "", big, m, MAXM), 0);
	assert_int_equal(smtprobe_kb_lookup(999, "5.7.1", "Relay access denied",
	                                    m, MAXM),
	                 0);
	assert_int_equal(smtprobe_kb_lookup(-5, "", "", m, MAXM), 0);
	assert_int_equal(smtprobe_kb_lookup(199, "", "", m, MAXM), 0);
	assert_int_equal(smtprobe_kb_lookup(0, big, NULL, m, MAXM), 0);
	assert_int_equal(smtprobe_kb_lookup(0, "9.9.9", "", m, MAXM), 0);
	assert_int_equal(smtprobe_kb_lookup(0, "5.7.1111", "", m, MAXM), 0);
	assert_int_equal(smtprobe_kb_lookup(0, "5..1", "", m, MAXM), 0);
	assert_int_equal(smtprobe_kb_lookup(554, "5.7.1", "x", NULL, MAXM), 0);
	assert_int_equal(smtprobe_kb_lookup(554, "5.7.1", "x", m, 0), 0);
	assert_null(smtprobe_kb_local(big));
	assert_null(smtprobe_kb_x509(0, big));
	/* a pattern beyond the first 1024 bytes is not considered */
	memset(big, ' ', 2000);
	memcpy(big + 1500, "Relay access denied", 19);
	big[2000] = '\0';
	assert_int_equal(smtprobe_kb_lookup(0, "", big, m, MAXM), 0);
	free(big);
}

/* The query parser of `smtprobe explain`: what a user pastes. */
static void test_query_parse(void **state)
{
	static const struct {
		const char *in;
		int code;
		const char *enh, *text;
	} cases[] = {
	        {"554 5.7.1 Relay access denied", 554, "5.7.1",
	         "Relay access denied"},
	        {"550-5.7.26 Unauthenticated email", 550, "5.7.26",
	         "Unauthenticated email"},
	        {"smtprobe: <** 535 5.7.8 Error: authentication failed", 535,
	         "5.7.8", "Error: authentication failed"},
	        {"  ** 421  ", 421, "", ""},
	        {"5.7.1", 0, "5.7.1", ""},
	        {"ECONNREFUSED", 0, "", "ECONNREFUSED"},
	        {"certificate has expired\r\n", 0, "",
	         "certificate has expired"},
	        {"554\t5.7.1\tx", 554, "5.7.1", "x"},
	        {"55 5.7.1", 0, "", "55 5.7.1"},
	        {"5541 text", 0, "", "5541 text"},
	        {"010 text", 0, "", "010 text"},
	        {"650 text", 0, "", "650 text"},
	        {"554 5.7.1.2 text", 554, "", "5.7.1.2 text"},
	        {"caf\xc3\xa9 \x01 bad", 0, "", "caf??   bad"},
	        {"", 0, "", ""},
	};
	struct smtprobe_kb_query q;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(smtprobe_kb_query_parse(
		                         cases[i].in, strlen(cases[i].in), &q),
		                 0);
		if (q.code != cases[i].code ||
		    strcmp(q.enhanced, cases[i].enh) != 0 ||
		    strcmp(q.text, cases[i].text) != 0)
			fail_msg("'%s': got %d '%s' '%s'", cases[i].in, q.code,
			         q.enhanced, q.text);
	}
	/* too long is refused, never cut */
	char big[SMTPROBE_KB_QUERY_MAX + 2];
	memset(big, 'a', sizeof(big));
	assert_int_equal(smtprobe_kb_query_parse(big, sizeof(big), &q), -1);
	assert_int_equal(
	        smtprobe_kb_query_parse(big, SMTPROBE_KB_QUERY_MAX, &q), 0);
	assert_int_equal(strlen(q.text), SMTPROBE_KB_QUERY_MAX);
}

static void test_query_match(void **state)
{
	const struct smtprobe_kb_entry *m[MAXM];
	struct smtprobe_kb_query q;
	const char *in;

	(void)state;
	in = "connection refused";
	smtprobe_kb_query_parse(in, strlen(in), &q);
	assert_true(smtprobe_kb_query_match(&q, m, MAXM) >= 1);
	assert_string_equal(m[0]->id, "local-econnrefused");
	in = "certificate has expired";
	smtprobe_kb_query_parse(in, strlen(in), &q);
	assert_true(smtprobe_kb_query_match(&q, m, MAXM) >= 1);
	assert_string_equal(smtprobe_kb_kind_name(m[0]->kind), "x509");
	in = "454 4.7.1 Relay access denied";
	smtprobe_kb_query_parse(in, strlen(in), &q);
	assert_true(smtprobe_kb_query_match(&q, m, 2) <= 2);
	assert_string_equal(smtprobe_kb_kind_name((enum smtprobe_kb_kind)99),
	                    "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_complete),
	        cmocka_unit_test(test_reachable),
	        cmocka_unit_test(test_no_shadowing),
	        cmocka_unit_test(test_lookups),
	        cmocka_unit_test(test_local_x509),
	        cmocka_unit_test(test_hostile),
	        cmocka_unit_test(test_query_parse),
	        cmocka_unit_test(test_query_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
