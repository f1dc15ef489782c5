/* test_params.c - server/params.c, table-driven: MAIL and RCPT parameters
 * against what was advertised (555 for unknown or not offered, 501 for a
 * bad value or a repeat, the values kept), BDAT's argument, and the UTF-8
 * checks of SMTPUTF8 (RFC 3629's corner cases). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "params.h"

#include "banned.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const struct srv_offer all = {1, 1, 1, 1, 1};
static const struct srv_offer none = {0, 0, 0, 0, 0};

struct mcase {
	const char *params;
	const struct srv_offer *offer;
	const char *reply; /* NULL: accepted */
	/* when accepted */
	int has_size;
	uint64_t size;
	enum srv_body body;
	int smtputf8;
	enum srv_ret ret;
	const char *envid;
};

static const struct mcase mcases[] = {
        {"", &all, NULL, 0, 0, SRV_BODY_NONE, 0, SRV_RET_NONE, ""},
        {"   ", &all, NULL, 0, 0, SRV_BODY_NONE, 0, SRV_RET_NONE, ""},
        {"SIZE=1024", &all, NULL, 1, 1024, SRV_BODY_NONE, 0, SRV_RET_NONE, ""},
        {"size=0 body=8bitmime", &all, NULL, 1, 0, SRV_BODY_8BITMIME, 0,
         SRV_RET_NONE, ""},
        {"BODY=7BIT  SMTPUTF8", &all, NULL, 0, 0, SRV_BODY_7BIT, 1,
         SRV_RET_NONE, ""},
        {"RET=HDRS ENVID=QQ314159+2Bx", &all, NULL, 0, 0, SRV_BODY_NONE, 0,
         SRV_RET_HDRS, "QQ314159+2Bx"},
        {"RET=full", &all, NULL, 0, 0, SRV_BODY_NONE, 0, SRV_RET_FULL, ""},
        {"AUTH=<>", &all, NULL, 0, 0, SRV_BODY_NONE, 0, SRV_RET_NONE, ""},
        {"AUTH=alice+40example.test", &all, NULL, 0, 0, SRV_BODY_NONE, 0,
         SRV_RET_NONE, ""},
        {"SIZE=18446744073709551615", &all, NULL, 1, UINT64_MAX, SRV_BODY_NONE,
         0, SRV_RET_NONE, ""},
        /* unknown, or an extension not offered: 555 */
        {.params = "FOO=BAR",
         .offer = &all,
         .reply = "555 5.5.4 Unsupported option: FOO"},
        {.params = "X-FOO",
         .offer = &all,
         .reply = "555 5.5.4 Unsupported option: X-FOO"},
        {.params = "SMTPUTF8",
         .offer = &none,
         .reply = "555 5.5.4 Unsupported option: SMTPUTF8"},
        {.params = "RET=FULL",
         .offer = &none,
         .reply = "555 5.5.4 Unsupported option: RET"},
        {.params = "BODY=BINARYMIME",
         .offer = &all,
         .reply = "501 5.5.4 Bad BODY parameter syntax"},
        /* bad values: 501 */
        {.params = "SIZE=abc",
         .offer = &all,
         .reply = "501 5.5.4 Bad SIZE parameter syntax"},
        {.params = "SIZE=-1",
         .offer = &all,
         .reply = "501 5.5.4 Bad SIZE parameter syntax"},
        {.params = "SIZE",
         .offer = &all,
         .reply = "501 5.5.4 Bad SIZE parameter syntax"},
        {.params = "SIZE=",
         .offer = &all,
         .reply = "501 5.5.4 Bad SIZE parameter syntax"},
        {.params = "SIZE=18446744073709551616",
         .offer = &all,
         .reply = "501 5.5.4 Bad SIZE parameter syntax"},
        {.params = "SIZE=123456789012345678901",
         .offer = &all,
         .reply = "501 5.5.4 Bad SIZE parameter syntax"},
        {.params = "SMTPUTF8=yes",
         .offer = &all,
         .reply = "501 5.5.4 Bad SMTPUTF8 parameter syntax"},
        {.params = "RET=NONE",
         .offer = &all,
         .reply = "501 5.5.4 Bad RET parameter syntax"},
        {.params = "ENVID=a=b",
         .offer = &all,
         .reply = "501 5.5.4 Bad ENVID parameter syntax"},
        {.params = "ENVID=a+zz",
         .offer = &all,
         .reply = "501 5.5.4 Bad ENVID parameter syntax"},
        {.params = "ENVID=a+4",
         .offer = &all,
         .reply = "501 5.5.4 Bad ENVID parameter syntax"},
        {.params = "AUTH=a b",
         .offer = &all,
         .reply = "555 5.5.4 Unsupported option: B"},
        {.params = "SIZE=1 SIZE=2",
         .offer = &all,
         .reply = "501 5.5.4 Duplicate SIZE parameter"},
        {.params = "=x",
         .offer = &all,
         .reply = "501 5.5.4 Bad parameter syntax"},
        {.params = "-X=1",
         .offer = &all,
         .reply = "501 5.5.4 Bad parameter syntax"},
        {.params = "K\x01=1",
         .offer = &all,
         .reply = "501 5.5.4 Bad parameter syntax"},
        {.params = "AVERYVERYVERYVERYVERYLONGKEYWORD1=1",
         .offer = &all,
         .reply = "501 5.5.4 Bad parameter syntax"},
};

static void test_mail_params(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(mcases); i++) {
		const struct mcase *c = &mcases[i];
		struct srv_mail_params p;
		char reply[128] = "";
		int rc = srv_mail_params_parse(c->params, strlen(c->params),
		                               c->offer, &p, reply,
		                               sizeof(reply));
		if (c->reply) {
			if (rc != -1 || strcmp(reply, c->reply) != 0)
				fail_msg("\"%s\": got %d \"%s\", want \"%s\"",
				         c->params, rc, reply, c->reply);
			continue;
		}
		if (rc != 0)
			fail_msg("\"%s\": refused: %s", c->params, reply);
		assert_int_equal(p.has_size, c->has_size);
		assert_true(p.size == c->size);
		assert_int_equal(p.body, c->body);
		assert_int_equal(p.smtputf8, c->smtputf8);
		assert_int_equal(p.ret, c->ret);
		assert_string_equal(p.envid, c->envid);
	}
}

struct rcase {
	const char *params;
	const struct srv_offer *offer;
	const char *reply;
	unsigned notify;
	const char *orcpt;
};

static const struct rcase rcases[] = {
        {"", &all, NULL, 0, ""},
        {"NOTIFY=NEVER", &all, NULL, SRV_NOTIFY_NEVER, ""},
        {"notify=delay,success,FAILURE ORCPT=rfc822;b+40example.org", &all,
         NULL, SRV_NOTIFY_SUCCESS | SRV_NOTIFY_FAILURE | SRV_NOTIFY_DELAY,
         "rfc822;b+40example.org"},
        {"ORCPT=utf-8;x", &all, NULL, 0, "utf-8;x"},
        {.params = "NOTIFY=NEVER,SUCCESS",
         .offer = &all,
         .reply = "501 5.5.4 Bad NOTIFY parameter syntax"},
        {.params = "NOTIFY=SUCCESS,SUCCESS",
         .offer = &all,
         .reply = "501 5.5.4 Bad NOTIFY parameter syntax"},
        {.params = "NOTIFY=",
         .offer = &all,
         .reply = "501 5.5.4 Bad NOTIFY parameter syntax"},
        {.params = "NOTIFY=SUCCESS,",
         .offer = &all,
         .reply = "501 5.5.4 Bad NOTIFY parameter syntax"},
        {.params = "NOTIFY=LATER",
         .offer = &all,
         .reply = "501 5.5.4 Bad NOTIFY parameter syntax"},
        {.params = "ORCPT=rfc822",
         .offer = &all,
         .reply = "501 5.5.4 Bad ORCPT parameter syntax"},
        {.params = "ORCPT=;x",
         .offer = &all,
         .reply = "501 5.5.4 Bad ORCPT parameter syntax"},
        {.params = "ORCPT=rfc822;",
         .offer = &all,
         .reply = "501 5.5.4 Bad ORCPT parameter syntax"},
        {.params = "ORCPT=rfc 822;x",
         .offer = &all,
         .reply = "501 5.5.4 Bad ORCPT parameter syntax"},
        {.params = "ORCPT=rf.c;x",
         .offer = &all,
         .reply = "501 5.5.4 Bad ORCPT parameter syntax"},
        {.params = "NOTIFY=NEVER NOTIFY=NEVER",
         .offer = &all,
         .reply = "501 5.5.4 Duplicate NOTIFY parameter"},
        {.params = "NOTIFY=NEVER",
         .offer = &none,
         .reply = "555 5.5.4 Unsupported option: NOTIFY"},
        {.params = "SIZE=1",
         .offer = &all,
         .reply = "555 5.5.4 Unsupported option: SIZE"},
};

static void test_rcpt_params(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(rcases); i++) {
		const struct rcase *c = &rcases[i];
		struct srv_rcpt_params p;
		char reply[128] = "";
		int rc = srv_rcpt_params_parse(c->params, strlen(c->params),
		                               c->offer, &p, reply,
		                               sizeof(reply));
		if (c->reply) {
			if (rc != -1 || strcmp(reply, c->reply) != 0)
				fail_msg("\"%s\": got %d \"%s\", want \"%s\"",
				         c->params, rc, reply, c->reply);
			continue;
		}
		if (rc != 0)
			fail_msg("\"%s\": refused: %s", c->params, reply);
		assert_int_equal(p.notify, c->notify);
		assert_string_equal(p.orcpt, c->orcpt);
	}
}

static void test_bdat(void **state)
{
	static const struct {
		const char *arg;
		int ok;
		uint64_t size;
		int last;
	} cases[] = {
	        {"0", 1, 0, 0},
	        {"1024", 1, 1024, 0},
	        {"86 LAST", 1, 86, 1},
	        {"86  last", 1, 86, 1},
	        {"18446744073709551615 LAST", 1, UINT64_MAX, 1},
	        {"", 0, 0, 0},
	        {"LAST", 0, 0, 0},
	        {"-1", 0, 0, 0},
	        {"12x", 0, 0, 0},
	        {"12 LASTX", 0, 0, 0},
	        {"12 LAST extra", 0, 0, 0},
	        {"18446744073709551616", 0, 0, 0},
	        {"123456789012345678901", 0, 0, 0},
	};

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		uint64_t size;
		int last;
		char reply[128] = "";
		int rc = srv_bdat_parse(cases[i].arg, strlen(cases[i].arg),
		                        &size, &last, reply, sizeof(reply));
		if (!cases[i].ok) {
			if (rc != -1)
				fail_msg("BDAT %s accepted", cases[i].arg);
			assert_string_equal(
			        reply,
			        "501 5.5.4 Syntax: BDAT chunk-size [LAST]");
			continue;
		}
		if (rc != 0)
			fail_msg("BDAT %s refused", cases[i].arg);
		assert_true(size == cases[i].size);
		assert_int_equal(last, cases[i].last);
	}
}

static void test_utf8(void **state)
{
	static const struct {
		const char *s;
		int valid, eight;
	} cases[] = {
	        {"plain@example.org", 1, 0},
	        {"j\xc3\xb6rg@b\xc3\xbc"
	         "cher.example",
	         1, 1},
	        {"\xe2\x82\xac", 1, 1},     /* U+20AC */
	        {"\xf0\x9f\x98\x80", 1, 1}, /* U+1F600 */
	        {"\xf4\x8f\xbf\xbf", 1, 1}, /* U+10FFFF */
	        {"\xed\xa0\x80", 0, 1},     /* a surrogate */
	        {"\xc0\xaf", 0, 1},         /* overlong '/' */
	        {"\xe0\x80\xaf", 0, 1},     /* overlong */
	        {"\xf0\x80\x80\xaf", 0, 1}, /* overlong */
	        {"\xf4\x90\x80\x80", 0, 1}, /* above U+10FFFF */
	        {"\xf5\x80\x80\x80", 0, 1}, /* no such lead byte */
	        {"\x80", 0, 1},             /* a lone continuation */
	        {"\xc3", 0, 1},             /* cut short */
	        {"\xe2\x82", 0, 1},         /* cut short */
	        {"\xc3\x28", 0, 1},         /* not a continuation */
	        {"\xed\x9f\xbf", 1, 1},     /* U+D7FF */
	        {"\xee\x80\x80", 1, 1},     /* U+E000 */
	};

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		size_t n = strlen(cases[i].s);
		if (srv_utf8_valid(cases[i].s, n) != cases[i].valid)
			fail_msg("case %zu: valid should be %d", i,
			         cases[i].valid);
		assert_int_equal(srv_has_8bit(cases[i].s, n), cases[i].eight);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_mail_params),
	        cmocka_unit_test(test_rcpt_params),
	        cmocka_unit_test(test_bdat),
	        cmocka_unit_test(test_utf8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
