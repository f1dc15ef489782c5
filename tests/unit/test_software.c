/* test_software.c - recognising the mail server software (lib/kb/
 * software.c) from real banners, EHLO keywords and refusal texts, and the
 * advice written for it (lib/kb/advice.c): the software's own fix alone
 * when it has one, every vendor's when it is unknown; the knowledge
 * base's vendor lines filtered the same way. Table-driven. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "smtprobe/software.h"

static void test_banners(void **state)
{
	static const struct {
		const char *banner;
		enum smtprobe_software sw;
		const char *confidence, *version;
	} cases[] = {
	        {"mx.example.org ESMTP Postfix (Debian/GNU)",
	         SMTPROBE_SW_POSTFIX, "high", ""},
	        {"mx.example.org ESMTP Exim 4.96 Sat, 06 Dec 2026 20:00:00 "
	         "+0000",
	         SMTPROBE_SW_EXIM, "high", "4.96"},
	        {"mx.example.org ESMTP Sendmail 8.17.1.9/8.17.1.9/Debian-2; "
	         "Sat, 6 Dec 2026",
	         SMTPROBE_SW_SENDMAIL, "high", "8.17.1.9"},
	        {"mx.example.org ESMTP OpenSMTPD", SMTPROBE_SW_OPENSMTPD,
	         "high", ""},
	        {"EX01.corp.example Microsoft ESMTP MAIL Service ready at Sat, "
	         "6 Dec 2026",
	         SMTPROBE_SW_EXCHANGE, "high", ""},
	        {"mail.example.com Microsoft ESMTP MAIL Service, Version: "
	         "10.0.17763.1 ready at Sat, 6 Dec 2026",
	         SMTPROBE_SW_IIS, "high", "10.0.17763.1"},
	        {"mx.google.com ESMTP a1-20020a05 - gsmtp", SMTPROBE_SW_GMAIL,
	         "high", ""},
	        {"mail.example.net ESMTP Haraka/2.8.28 ready",
	         SMTPROBE_SW_HARAKA, "high", ""},
	        {"mail.example.net ESMTP MDaemon 23.0.2; Sat, 06 Dec 2026",
	         SMTPROBE_SW_MDAEMON, "high", "23.0.2"},
	        {"mail.example.net ESMTP hMailServer", SMTPROBE_SW_HMAILSERVER,
	         "high", ""},
	        {"mail.example.net ESMTP qmail", SMTPROBE_SW_QMAIL, "high", ""},
	        {"mx.example.test ESMTP smtprobe", SMTPROBE_SW_SMTPROBE, "high",
	         ""},
	        /* a banner that names something else is not smtprobe serve */
	        {"mx.example.test ESMTP smtprobe-test", SMTPROBE_SW_UNKNOWN, "",
	         ""},
	        {"mail.example.net ESMTP ready", SMTPROBE_SW_UNKNOWN, "", ""},
	};
	struct smtprobe_software_guess g;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		smtprobe_software_init(&g);
		smtprobe_software_learn_text(&g, cases[i].banner, 1);
		if (g.id != cases[i].sw ||
		    strcmp(g.confidence, cases[i].confidence) != 0 ||
		    strcmp(g.version, cases[i].version) != 0)
			fail_msg("'%s': %s %s '%s'", cases[i].banner,
			         smtprobe_software_name(g.id), g.confidence,
			         g.version);
	}
}

/* A hidden banner: the software's own wording adds up over a run. */
static void test_replies(void **state)
{
	static const struct {
		const char *lines[6];
		enum smtprobe_software sw;
	} cases[] = {
	        {{"<a@b.test>: Relay access denied", "Ok", "VRFY"},
	         SMTPROBE_SW_POSTFIX},
	        {{"relay not permitted", "PIPE_CONNECT"}, SMTPROBE_SW_EXIM},
	        {{"<x@y.invalid>... Domain of sender address x@y.invalid does "
	          "not exist",
	          "<a@b.invalid>... Relaying denied"},
	         SMTPROBE_SW_SENDMAIL},
	        {{"Mailing list expansion problem: <nobody@example.test>",
	          "Delivery not authorized, message refused"},
	         SMTPROBE_SW_OPENSMTPD},
	        {{"5.7.54 SMTP; Unable to relay recipient in non-accepted "
	          "domain",
	          "XRDST"},
	         SMTPROBE_SW_EXCHANGE},
	        {{"sorry, that domain isn't in my list of allowed rcpthosts "
	          "(#5.7.1)"},
	         SMTPROBE_SW_QMAIL},
	        /* one weak clue alone says nothing */
	        {{"Bye"}, SMTPROBE_SW_UNKNOWN},
	};
	struct smtprobe_software_guess g;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		smtprobe_software_init(&g);
		for (size_t k = 0; k < 6 && cases[i].lines[k]; k++)
			smtprobe_software_learn_text(&g, cases[i].lines[k], 0);
		if (g.id != cases[i].sw)
			fail_msg("case %zu: %s (score %d)", i,
			         smtprobe_software_name(g.id), g.score[g.id]);
	}
	/* a clue counts once, however often it shows */
	smtprobe_software_init(&g);
	for (int k = 0; k < 10; k++)
		smtprobe_software_learn_text(&g, "Bye", 0);
	assert_int_equal(g.id, SMTPROBE_SW_UNKNOWN);
	/* smtprobe serve's banner outweighs its Postfix wording */
	smtprobe_software_init(&g);
	smtprobe_software_learn_text(&g, "mx.example.test ESMTP smtprobe", 1);
	smtprobe_software_learn_text(&g, "<a@b>: Relay access denied", 0);
	smtprobe_software_learn_text(&g, "Recipient address rejected: x", 0);
	assert_int_equal(g.id, SMTPROBE_SW_SMTPROBE);
}

static int has_prefix(const char *const *v, size_t n, const char *p)
{
	for (size_t i = 0; i < n; i++)
		if (strncmp(v[i], p, strlen(p)) == 0)
			return 1;
	return 0;
}

static void test_advice(void **state)
{
	const char *lines[SMTPROBE_ADVICE_MAX], *what;
	char text[2000];

	(void)state;
	/* every topic says what is wrong and has advice for Postfix */
	for (int t = 0; t < SMTPROBE_ADV_LAST; t++) {
		size_t n = smtprobe_advice((enum smtprobe_advice_topic)t,
		                           SMTPROBE_SW_POSTFIX, &what, lines,
		                           SMTPROBE_ADVICE_MAX);
		assert_non_null(what);
		assert_true(n == 1);
		assert_true(strncmp(lines[0], "Postfix:", 8) == 0);
	}
	/* known software: its line alone */
	size_t n = smtprobe_advice(SMTPROBE_ADV_OPEN_RELAY, SMTPROBE_SW_EXIM,
	                           NULL, lines, SMTPROBE_ADVICE_MAX);
	assert_int_equal(n, 1);
	assert_true(strncmp(lines[0], "Exim:", 5) == 0);
	n = smtprobe_advice(SMTPROBE_ADV_TLS_BROKEN, SMTPROBE_SW_OPENSMTPD,
	                    NULL, lines, SMTPROBE_ADVICE_MAX);
	assert_int_equal(n, 1);
	assert_non_null(strstr(lines[0], "OpenSMTPD 7"));
	/* unknown software: every vendor's, Postfix, Exim, Sendmail,
	 * OpenSMTPD and Exchange among them */
	n = smtprobe_advice(SMTPROBE_ADV_OPEN_RELAY, SMTPROBE_SW_UNKNOWN, NULL,
	                    lines, SMTPROBE_ADVICE_MAX);
	assert_true(n >= 5);
	assert_true(has_prefix(lines, n, "Postfix:"));
	assert_true(has_prefix(lines, n, "Exim:"));
	assert_true(has_prefix(lines, n, "Sendmail:"));
	assert_true(has_prefix(lines, n, "OpenSMTPD:"));
	assert_true(has_prefix(lines, n, "Exchange:"));
	/* software without a line of its own: the general statement alone,
	 * no other product's setting */
	n = smtprobe_advice(SMTPROBE_ADV_SYNTAX, SMTPROBE_SW_EXIM, &what, lines,
	                    SMTPROBE_ADVICE_MAX);
	assert_int_equal(n, 0);
	assert_non_null(what);
	smtprobe_advice_text(SMTPROBE_ADV_SOURCE_ROUTE, SMTPROBE_SW_OPENSMTPD,
	                     text, sizeof(text));
	assert_non_null(strstr(text, "source routes"));
	assert_null(strstr(text, "Postfix"));
	/* the joined text */
	smtprobe_advice_text(SMTPROBE_ADV_HELO, SMTPROBE_SW_EXIM, text,
	                     sizeof(text));
	assert_non_null(strstr(text, "HELO name"));
	assert_non_null(strstr(text, "Exim: "));
	assert_null(strstr(text, "Postfix"));
	smtprobe_advice_text(SMTPROBE_ADV_HELO, SMTPROBE_SW_EXIM, text, 10);
	assert_int_equal(strlen(text), 9);
	assert_int_equal(smtprobe_advice(SMTPROBE_ADV_LAST, SMTPROBE_SW_EXIM,
	                                 &what, lines, SMTPROBE_ADVICE_MAX),
	                 0);
}

static void test_kb_fixes(void **state)
{
	const struct smtprobe_kb_entry *e =
	        smtprobe_kb_by_id("postfix-relay-access-denied");
	const char *f[SMTPROBE_KB_MAX_LIST];

	(void)state;
	assert_non_null(e);
	size_t all = smtprobe_kb_fixes(e, SMTPROBE_SW_UNKNOWN, f,
	                               SMTPROBE_KB_MAX_LIST);
	size_t ex =
	        smtprobe_kb_fixes(e, SMTPROBE_SW_EXIM, f, SMTPROBE_KB_MAX_LIST);
	assert_true(ex <= all);
	for (size_t i = 0; i < ex; i++)
		assert_false(strncmp(f[i], "Postfix:", 8) == 0);
	size_t pf = smtprobe_kb_fixes(e, SMTPROBE_SW_POSTFIX, f,
	                              SMTPROBE_KB_MAX_LIST);
	assert_true(pf >= 1);
	/* the software's own lines come first */
	if (has_prefix(f, pf, "Postfix:"))
		assert_true(strncmp(f[0], "Postfix:", 8) == 0);
	assert_int_equal(smtprobe_kb_fixes(NULL, SMTPROBE_SW_POSTFIX, f, 4), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_banners),
	        cmocka_unit_test(test_replies),
	        cmocka_unit_test(test_advice),
	        cmocka_unit_test(test_kb_fixes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
