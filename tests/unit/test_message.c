/* test_message.c - address forms, dot-stuffing and the default message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "smtprobe/message.h"

static void test_addr_format(void **state)
{
	static const struct {
		const char *in;
		const char *out; /* NULL = refused */
	} cases[] = {
	        {"user@example.com", "<user@example.com>"},
	        {"  user@example.com\t", "<user@example.com>"},
	        {"<user@example.com>", "<user@example.com>"},
	        {"<>", "<>"},
	        {"postmaster", "<postmaster>"},
	        {"\"a b\"@example.com", "<\"a b\"@example.com>"},
	        {"user@example.com\r\nRCPT TO:<x@y>", NULL},
	        {"user@example.com\n", NULL},
	        {"a\0"
	         "b",
	         "<a>"}, /* the C string ends at the NUL */
	        {"a\x01@b", NULL},
	        {"", NULL},
	        {"   ", NULL},
	        {"<user@example.com", NULL},
	        {"user@example.com>", NULL},
	};
	char out[SMTPROBE_MAX_ADDRESS], err[128];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = smtprobe_addr_format(cases[i].in, out, sizeof(out),
		                              err, sizeof(err));
		if (!cases[i].out) {
			assert_int_equal(rc, -1);
			assert_true(err[0] != '\0');
		} else {
			assert_int_equal(rc, 0);
			assert_string_equal(out, cases[i].out);
		}
	}
	char big[SMTPROBE_MAX_ADDRESS + 10];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(
	        smtprobe_addr_format(big, out, sizeof(out), err, sizeof(err)),
	        -1);
}

static void test_dotstuff(void **state)
{
	static const struct {
		const char *in;
		const char *out;
	} cases[] = {
	        {"", ".\r\n"},
	        {"a", "a\r\n.\r\n"},
	        {"a\r\n", "a\r\n.\r\n"},
	        {"a\n", "a\r\n.\r\n"},
	        {".", "..\r\n.\r\n"},
	        {".\r\n", "..\r\n.\r\n"},
	        {"a\r\n.\r\nb", "a\r\n..\r\nb\r\n.\r\n"},
	        {"a\n.b\n", "a\r\n..b\r\n.\r\n"},
	        {"a.b\r\n", "a.b\r\n.\r\n"},
	        {"x\r\n..\r\n", "x\r\n...\r\n.\r\n"},
	        {"bare\rcr", "bare\r\ncr\r\n.\r\n"},
	        {"\r\n\r\n", "\r\n\r\n.\r\n"},
	        {"a\r\n.", "a\r\n..\r\n.\r\n"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n;
		char *o =
		        smtprobe_dotstuff(cases[i].in, strlen(cases[i].in), &n);
		assert_non_null(o);
		assert_int_equal(n, strlen(cases[i].out));
		assert_memory_equal(o, cases[i].out, n);
		free(o);
	}
	/* NUL bytes in the message are kept as they are. */
	size_t n;
	char *o = smtprobe_dotstuff("a\0b", 3, &n);
	assert_int_equal(n, 8);
	assert_memory_equal(o, "a\0b\r\n.\r\n", 8);
	free(o);
}

static void test_arg_safe(void **state)
{
	(void)state;
	assert_true(smtprobe_arg_safe("client.example.test", 0));
	assert_false(smtprobe_arg_safe("a b", 0));
	assert_true(smtprobe_arg_safe("a b", 1));
	assert_false(smtprobe_arg_safe("a\r\nQUIT", 1));
	assert_false(smtprobe_arg_safe("", 0));
	assert_false(smtprobe_arg_safe("a\x7f", 1));
}

static void test_message_default(void **state)
{
	const char *to[] = {"<a@example.test>", "<b@example.test>"};
	struct smtprobe_msg_params p = {
	        .from = "<s@example.test>",
	        .to = to,
	        .nto = 2,
	        .helo = "client.example.test",
	        .mailer = "smtprobe test",
	        .now = 1795376378,
	        .nonce = 42,
	};
	char *m, err[128];
	size_t n;

	(void)state;
	assert_int_equal(smtprobe_message_build(&p, &m, &n, err, sizeof(err)),
	                 0);
	assert_int_equal(strlen(m), n);
	assert_non_null(strstr(m, "Date: Sun, 22 Nov 2026 19:39:38 +0000\r\n"));
	assert_non_null(strstr(m, "To: a@example.test, b@example.test\r\n"));
	assert_non_null(strstr(m, "From: s@example.test\r\n"));
	assert_non_null(
	        strstr(m, "Subject: test Sun, 22 Nov 2026 19:39:38 +0000\r\n"));
	assert_non_null(strstr(
	        m, "Message-Id: <1795376378.42@client.example.test>\r\n"));
	assert_non_null(strstr(m, "X-Mailer: smtprobe test\r\n"));
	assert_non_null(strstr(m, "\r\n\r\nThis is a test mailing"));
	/* CRLF only: no bare LF anywhere. */
	for (size_t i = 0; i < n; i++)
		if (m[i] == '\n')
			assert_true(i > 0 && m[i - 1] == '\r');
	free(m);
}

static void test_message_headers_and_attach(void **state)
{
	const char *to[] = {"<a@example.test>"};
	const char *hdr[] = {"Subject: custom", "X-Test: 1"};
	const struct smtprobe_attachment att[] = {{"hello.txt", "hello\n", 6}};
	struct smtprobe_msg_params p = {
	        .from = "<>",
	        .to = to,
	        .nto = 1,
	        .headers = hdr,
	        .nheaders = 2,
	        .body = "line one\nline two",
	        .attach = att,
	        .nattach = 1,
	        .now = 0,
	};
	char *m, err[128];
	size_t n;

	(void)state;
	assert_int_equal(smtprobe_message_build(&p, &m, &n, err, sizeof(err)),
	                 0);
	assert_null(strstr(m, "Subject: test"));
	assert_non_null(strstr(m, "Subject: custom\r\n"));
	assert_non_null(strstr(m, "X-Test: 1\r\n"));
	assert_non_null(strstr(m, "From: MAILER-DAEMON\r\n"));
	assert_non_null(strstr(m, "Content-Type: multipart/mixed;"));
	assert_non_null(strstr(m, "line one\r\nline two"));
	assert_non_null(strstr(m, "filename=\"hello.txt\""));
	assert_non_null(strstr(m, "aGVsbG8K\r\n")); /* base64("hello\n") */
	free(m);

	const char *bad[] = {"Subject: x\r\nBcc: evil@example.com"};
	p.headers = bad;
	p.nheaders = 1;
	assert_int_equal(smtprobe_message_build(&p, &m, &n, err, sizeof(err)),
	                 -1);
	const char *nocolon[] = {"no colon here"};
	p.headers = nocolon;
	assert_int_equal(smtprobe_message_build(&p, &m, &n, err, sizeof(err)),
	                 -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_addr_format),
	        cmocka_unit_test(test_dotstuff),
	        cmocka_unit_test(test_arg_safe),
	        cmocka_unit_test(test_message_default),
	        cmocka_unit_test(test_message_headers_and_attach),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
