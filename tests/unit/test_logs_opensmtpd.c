/* test_logs_opensmtpd.c - OpenSMTPD's log lines (lib/logs/opensmtpd.c),
 * through the dispatcher: real lines of tests/data/logs/opensmtpd*.log in
 * order (the session table carries the client from "connected" to later
 * lines), lines written from OpenSMTPD 6.8's format strings for what the
 * samples lack (AUTH, TLS success, remote deliveries, expiry), the totals
 * of both sample files against their .expected.json, and hostile lines:
 * every prefix of every sample line, 100 KB lines, all byte values, each
 * ending at an unreadable page (an over-read crashes: logs_test.h), a
 * flood of sessions through the ring. */
#include "logs_int.h"
#include "logs_test.h"

#include "banned.h"

/* 2026-12-07T05:30:00Z, after the samples' lines */
#define REF_TIME 1796621400

#define OS SMTPROBE_LF_OPENSMTPD

/* every field in the line or in the input's session table */
static const struct logst_rules rules = {SMTPROBE_LF_LAST, 1, 0};

/* opensmtpd.log (smtpd -d: no time), in the file's order */
static void test_foreground(void **state)
{
	static const struct logst_want w[] = {
	        {.line = "info: OpenSMTPD 6.8.0p2 starting",
	         .format = OS,
	         .ts = -1},
	        {.line = "b958dcb968ab8ee0 smtp connected address=127.0.0.60 "
	                 "host=<unknown>",
	         .format = OS,
	         .kind = SMTPROBE_LE_CONNECT,
	         .ts = -1,
	         .client = "127.0.0.60"},
	        {.line = "b958dcb968ab8ee0 smtp disconnected reason=quit",
	         .format = OS},
	        {.line = "b958dcbdcb5eda34 smtp connected address=127.0.0.30 "
	                 "host=<unknown>",
	         .format = OS,
	         .kind = SMTPROBE_LE_CONNECT,
	         .client = "127.0.0.30"},
	        /* the client from the session; the command as typed */
	        {.line = "b958dcbdcb5eda34 smtp failed-command command=\"rcpt "
	                 "TO:<victim1@relay-test.invalid>\" result=\"550 "
	                 "Invalid recipient: <victim1@relay-test.invalid>\"",
	         .format = OS,
	         .kind = SMTPROBE_LE_REJECT,
	         .ts = -1,
	         .client = "127.0.0.30",
	         .sender = "",
	         .rcpt = "victim1@relay-test.invalid",
	         .text = "Invalid recipient: <victim1@relay-test.invalid>",
	         .code = 550,
	         .reject = SMTPROBE_LR_RELAY_DENIED},
	        {.line = "b958dcbdcb5eda34 smtp disconnected reason=quit",
	         .format = OS},
	        {.line = "b958dcc2519b3050 smtp connected address=127.0.0.40 "
	                 "host=<unknown>",
	         .format = OS,
	         .kind = SMTPROBE_LE_CONNECT,
	         .client = "127.0.0.40"},
	        {.line = "b958dcc2519b3050 smtp message msgid=69d7f2b4 "
	                 "size=506 "
	                 "nrcpt=1 proto=ESMTP",
	         .format = OS},
	        {.line = "b958dcc2519b3050 smtp envelope "
	                 "evpid=69d7f2b4c84872f3 "
	                 "from=<friend@example.net> to=<alice@example.test>",
	         .format = OS},
	        {.line = "b958dcc2519b3050 smtp disconnected reason=quit",
	         .format = OS},
	        {.line = "b958dcc34d1ae95e mda delivery evpid=69d7f2b4c84872f3 "
	                 "from=<friend@example.net> to=<alice@example.test> "
	                 "rcpt=<alice@example.test> user=alice delay=0s "
	                 "result=Ok stat=Delivered",
	         .format = OS,
	         .kind = SMTPROBE_LE_DELIVERED,
	         .client = "",
	         .sender = "friend@example.net",
	         .rcpt = "alice@example.test",
	         .text = "Delivered"},
	        {.line = "b958dccbaa610410 smtp connected address=127.0.0.42 "
	                 "host=<unknown>",
	         .format = OS,
	         .kind = SMTPROBE_LE_CONNECT,
	         .client = "127.0.0.42"},
	        /* the unknown local user reads as the relay denial here */
	        {.line = "b958dccbaa610410 smtp failed-command command=\"rcpt "
	                 "TO:<nosuchuser@example.test>\" result=\"550 Invalid "
	                 "recipient: <nosuchuser@example.test>\"",
	         .format = OS,
	         .kind = SMTPROBE_LE_REJECT,
	         .client = "127.0.0.42",
	         .rcpt = "nosuchuser@example.test",
	         .code = 550,
	         .reject = SMTPROBE_LR_RELAY_DENIED},
	        {.line = "b958dcccd70d0625 smtp connected address=127.0.0.50 "
	                 "host=<unknown>",
	         .format = OS,
	         .kind = SMTPROBE_LE_CONNECT,
	         .client = "127.0.0.50"},
	        {.line = "b958dcccd70d0625 smtp disconnected "
	                 "reason=\"io-error: error:0A00009C:SSL "
	                 "routines::http request\"",
	         .format = OS,
	         .kind = SMTPROBE_LE_TLS_FAIL,
	         .client = "127.0.0.50",
	         .text = "error:0A00009C:SSL routines::http request",
	         .cause = SMTPROBE_LT_NOT_TLS},
	        {.line = "b958dccd43756ede smtp connected address=127.0.0.51 "
	                 "host=<unknown>",
	         .format = OS,
	         .kind = SMTPROBE_LE_CONNECT,
	         .client = "127.0.0.51"},
	        /* Debian's 6.8 with OpenSSL 3: the server's key operation */
	        {.line = "b958dccd43756ede smtp disconnected "
	                 "reason=\"io-error: error:0A080006:SSL "
	                 "routines::EVP lib\"",
	         .format = OS,
	         .kind = SMTPROBE_LE_TLS_FAIL,
	         .client = "127.0.0.51",
	         .cause = SMTPROBE_LT_CERT_PROBLEM},
	        {.line = "b958dccfec2e36a3 smtp connected address=127.0.0.53 "
	                 "host=<unknown>",
	         .format = OS,
	         .kind = SMTPROBE_LE_CONNECT,
	         .client = "127.0.0.53"},
	        {.line = "b958dccfec2e36a3 smtp disconnected "
	                 "reason=\"io-error: error:0A000076:SSL "
	                 "routines::no suitable signature algorithm\"",
	         .format = OS,
	         .kind = SMTPROBE_LE_TLS_FAIL,
	         .client = "127.0.0.53",
	         .cause = SMTPROBE_LT_NO_SHARED},
	        /* the session is over: its id names no client any more */
	        {.line = "b958dccfec2e36a3 smtp disconnected reason=quit",
	         .format = OS,
	         .client = ""},
	        /* smtpd -d's last line has no prefix the dispatcher knows */
	        {.line = "Exiting", .format = SMTPROBE_LF_UNKNOWN},
	};

	(void)state;
	logst_run(w, sizeof(w) / sizeof(w[0]), REF_TIME);
}

/* opensmtpd-syslog.log (smtpd -F through rsyslog): the same events, timed */
static void test_syslog(void **state)
{
	static const struct logst_want w[] = {
	        {.line = "2026-12-07T05:29:53.097567+00:00 mx smtpd[19721]: "
	                 "info: OpenSMTPD 6.8.0p2 starting",
	         .format = OS,
	         .ts = 1796621393},
	        {.line = "2026-12-07T05:29:53.375498+00:00 mx smtpd[19744]: "
	                 "0cbd4d0f9eb70a46 smtp connected address=127.0.0.30 "
	                 "host=<unknown>",
	         .format = OS,
	         .kind = SMTPROBE_LE_CONNECT,
	         .ts = 1796621393,
	         .client = "127.0.0.30"},
	        {.line = "2026-12-07T05:29:53.376582+00:00 mx smtpd[19744]: "
	                 "0cbd4d0f9eb70a46 smtp failed-command "
	                 "command=\"rcpt TO:<victim1@relay-test.invalid>\" "
	                 "result=\"550 Invalid recipient: "
	                 "<victim1@relay-test.invalid>\"",
	         .format = OS,
	         .kind = SMTPROBE_LE_REJECT,
	         .ts = 1796621393,
	         .client = "127.0.0.30",
	         .rcpt = "victim1@relay-test.invalid",
	         .code = 550,
	         .reject = SMTPROBE_LR_RELAY_DENIED},
	        {.line = "2026-12-07T05:29:53.645175+00:00 mx smtpd[19744]: "
	                 "0cbd4d15690d8345 mda delivery evpid=aa7ad7cd26cd483c "
	                 "from=<friend@example.net> to=<alice@example.test> "
	                 "rcpt=<alice@example.test> user=alice delay=0s "
	                 "result=Ok stat=Delivered",
	         .format = OS,
	         .kind = SMTPROBE_LE_DELIVERED,
	         .rcpt = "alice@example.test"},
	        {.line = "2026-12-07T05:30:03.406427+00:00 mx smtpd[19721]: "
	                 "Exiting",
	         .format = OS,
	         .ts = 1796621403},
	        /* written from queue.c's queue_log(): an expired envelope */
	        {.line = "2026-12-07T05:30:03+00:00 mx smtpd[19744]: relay: "
	                 "Expire for 69d7f2b4c84872f3: "
	                 "from=<friend@example.net>, to=<x@example.org>, "
	                 "rcpt=<->, delay=4d, stat=Envelope expired",
	         .format = OS,
	         .kind = SMTPROBE_LE_BOUNCED,
	         .sender = "friend@example.net",
	         .rcpt = "x@example.org",
	         .text = "Envelope expired"},
	};

	(void)state;
	logst_run(w, sizeof(w) / sizeof(w[0]), REF_TIME);
}

/* what the samples lack (no AUTH: OpenSMTPD offers it only after TLS,
 * broken there), written from OpenSMTPD 6.8's format strings
 * (smtp_session.c, mda.c, mta.c) */
static void test_written(void **state)
{
	static const struct logst_want w[] = {
	        {.line = "0123456789abcdef smtp connected "
	                 "address=[2001:db8::25] host=mail.example.net",
	         .format = OS,
	         .kind = SMTPROBE_LE_CONNECT,
	         .client = "2001:db8::25"},
	        {.line = "0123456789abcdef smtp tls "
	                 "ciphers=TLSv1.3:TLS_AES_256_GCM_SHA384:256",
	         .format = OS,
	         .kind = SMTPROBE_LE_TLS_OK,
	         .client = "2001:db8::25",
	         .protocol = "TLSv1.3",
	         .cipher = "TLS_AES_256_GCM_SHA384"},
	        {.line = "0123456789abcdef smtp authentication user=alice "
	                 "result=permfail",
	         .format = OS,
	         .kind = SMTPROBE_LE_AUTH_FAIL,
	         .client = "2001:db8::25",
	         .user = "alice",
	         .text = "permfail"},
	        /* the 535 after an authentication line: said already */
	        {.line = "0123456789abcdef smtp failed-command "
	                 "command=\"AUTH PLAIN (...)\" result=\"535 "
	                 "Authentication failed\"",
	         .format = OS,
	         .client = ""},
	        /* bad base64: no authentication line of its own */
	        {.line = "0123456789abcdef smtp failed-command "
	                 "command=\"AUTH LOGIN (password)\" result=\"501 "
	                 "5.5.4 Syntax error\"",
	         .format = OS,
	         .kind = SMTPROBE_LE_AUTH_FAIL,
	         .client = "2001:db8::25",
	         .user = "",
	         .text = "5.5.4 Syntax error",
	         .code = 501},
	        {.line = "0123456789abcdef smtp authentication user=alice "
	                 "result=tempfail",
	         .format = OS,
	         .kind = SMTPROBE_LE_AUTH_FAIL,
	         .user = "alice",
	         .text = "tempfail"},
	        {.line = "0123456789abcdef smtp authentication user=alice "
	                 "result=ok",
	         .format = OS,
	         .kind = SMTPROBE_LE_AUTH_OK,
	         .client = "2001:db8::25",
	         .user = "alice"},
	        {.line = "0123456789abcdef smtp failed-command "
	                 "command=\"MAIL FROM:<bob@example.test> SIZE=100\" "
	                 "result=\"550 5.7.1 Delivery not authorized, "
	                 "message refused\"",
	         .format = OS,
	         .kind = SMTPROBE_LE_REJECT,
	         .client = "2001:db8::25",
	         .sender = "bob@example.test",
	         .rcpt = "",
	         .text = "5.7.1 Delivery not authorized, message refused",
	         .code = 550,
	         .reject = SMTPROBE_LR_OTHER},
	        /* an unknown local user where OpenSMTPD expands aliases */
	        {.line = "0123456789abcdef smtp failed-command "
	                 "command=\"RCPT TO: <nobody@example.test>\" "
	                 "result=\"524 5.2.4 Mailing list expansion problem: "
	                 "<nobody@example.test>\"",
	         .format = OS,
	         .kind = SMTPROBE_LE_REJECT,
	         .rcpt = "nobody@example.test",
	         .code = 524,
	         .reject = SMTPROBE_LR_RECIPIENT},
	        {.line = "0123456789abcdef smtp failed-command "
	                 "command=\"mail FROM:<a@example.test>\" result=\"530 "
	                 "5.5.1 Invalid command: Must issue a STARTTLS "
	                 "command first\"",
	         .format = OS,
	         .kind = SMTPROBE_LE_REJECT,
	         .sender = "a@example.test",
	         .code = 530,
	         .reject = SMTPROBE_LR_AUTH_REQUIRED},
	        /* no policy decision: an unknown command, bad input */
	        {.line = "0123456789abcdef smtp failed-command "
	                 "command=\"GET / HTTP/1.0\" result=\"500 5.5.1 "
	                 "Invalid command: Command unrecognized\"",
	         .format = OS},
	        {.line = "0123456789abcdef smtp bad-input result=\"500 5.5.1 "
	                 "Invalid command: Pipelining not supported\"",
	         .format = OS},
	        {.line = "0123456789abcdef mta delivery "
	                 "evpid=69d7f2b4c84872f3 from=<alice@example.test> "
	                 "to=<x@example.org> rcpt=<-> source=\"192.0.2.1\" "
	                 "relay=\"mx.example.org\" delay=1s "
	                 "result=\"TempFail\" stat=\"Connection refused\"",
	         .format = OS,
	         .kind = SMTPROBE_LE_DEFERRED,
	         .sender = "alice@example.test",
	         .rcpt = "x@example.org",
	         .text = "Connection refused"},
	        {.line = "0123456789abcdef mta delivery "
	                 "evpid=69d7f2b4c84872f3 from=<alice@example.test> "
	                 "to=<x@example.org> rcpt=<-> source=\"192.0.2.1\" "
	                 "relay=\"mx.example.org\" delay=1s "
	                 "result=\"PermFail\" stat=\"550 5.1.1 No such user\"",
	         .format = OS,
	         .kind = SMTPROBE_LE_BOUNCED,
	         .text = "550 5.1.1 No such user"},
	        {.line = "0123456789abcdef mda delivery evpid=1 from=<> "
	                 "to=<a@example.test> user=a delay=0s result=TempFail "
	                 "stat=Error (exited with status 75)",
	         .format = OS,
	         .kind = SMTPROBE_LE_DEFERRED,
	         .sender = "",
	         .text = "Error (exited with status 75)"},
	        /* a quote inside the command: it ends at '" result=' */
	        {.line = "0123456789abcdef smtp failed-command "
	                 "command=\"RCPT TO:<\"x\"@example.test>\" "
	                 "result=\"550 Invalid recipient: "
	                 "<\"x\"@example.test>\"",
	         .format = OS,
	         .kind = SMTPROBE_LE_REJECT,
	         .rcpt = "\"x\"@example.test",
	         .text = "Invalid recipient: <\"x\"@example.test>",
	         .code = 550,
	         .reject = SMTPROBE_LR_RELAY_DENIED},
	        {.line = "0123456789abcdef smtp disconnected reason=quit",
	         .format = OS},
	        /* a local submission (sendmail(8)): no connection */
	        {.line = "aaaaaaaaaaaaaaaa smtp connected address=local "
	                 "host=mx.example.test",
	         .format = OS},
	        /* a client certificate refused (note the double space) */
	        {.line = "bbbbbbbbbbbbbbbb smtp disconnected  "
	                 "reason=no-client-cert",
	         .format = OS,
	         .kind = SMTPROBE_LE_TLS_FAIL,
	         .client = "",
	         .text = "no-client-cert",
	         .cause = SMTPROBE_LT_OTHER},
	        /* an I/O error that is no TLS error */
	        {.line = "cccccccccccccccc smtp disconnected "
	                 "reason=\"io-error: Connection reset by peer\"",
	         .format = OS},
	        {.line = "warn: purge_task: opendir: No such file or directory",
	         .format = OS},
	};

	(void)state;
	logst_run(w, sizeof(w) / sizeof(w[0]), REF_TIME);
}

/* the ring: a session keeps its client among SMTPROBE_LOG_SESSIONS
 * others, and loses it past them */
static void test_sessions(void **state)
{
	static struct smtprobe_log_input in;
	struct smtprobe_log_event ev;
	char line[128];
	int n;

	(void)state;
	logst_fresh(&in, REF_TIME);
	for (unsigned i = 0; i < SMTPROBE_LOG_SESSIONS + 1; i++) {
		n = snprintf(line, sizeof(line),
		             "%016x smtp connected address=192.0.2.%u host=x",
		             i + 1, i % 250);
		logst_parse_guarded(&in, &rules, line, (size_t)n, &ev);
		assert_int_equal(ev.kind, SMTPROBE_LE_CONNECT);
	}
	/* the newest SMTPROBE_LOG_SESSIONS are known, the first is not (the
	 * client is the session table's) */
	n = snprintf(line, sizeof(line),
	             "%016x smtp authentication user=u result=permfail", 2);
	logst_parse_guarded(&in, &rules, line, (size_t)n, &ev);
	assert_int_equal(ev.kind, SMTPROBE_LE_AUTH_FAIL);
	logst_str_is(line, "client", ev.client, "192.0.2.1");
	n = snprintf(line, sizeof(line),
	             "%016x smtp authentication user=u result=permfail", 1);
	logst_parse_guarded(&in, &rules, line, (size_t)n, &ev);
	assert_int_equal(ev.kind, SMTPROBE_LE_AUTH_FAIL);
	assert_int_equal(ev.client.n, 0);
}

/* ---- whole files ---- */

/* opensmtpd.expected.json: 19 sessions + 4 startup probes (127.0.0.1, one
 * per listener) = 23 connections; rejections 6 (relay_denied 5 +
 * unknown_recipient 1, which this OpenSMTPD answers with the same "550
 * Invalid recipient": 6 relay denials in the log); TLS failures 6 (every
 * STARTTLS: garbage, eof, unknown CA, TLS 1.0, 2 good clients); accepted
 * messages 3, each delivered to its Maildir at once; no AUTH (offered
 * only after TLS). The syslog run is the same traffic. */
static void expect_opensmtpd(const char *name, uint64_t unknown_lines)
{
	struct logst_totals t;
	const uint64_t *k = t.kind, *r = t.reject;

	memset(&t, 0, sizeof(t));
	logst_totals(name, REF_TIME, OS, 0, &t);
	assert_int_equal(k[SMTPROBE_LE_CONNECT], 19 + 4);
	assert_int_equal(k[SMTPROBE_LE_REJECT], 6);
	assert_int_equal(r[SMTPROBE_LR_RELAY_DENIED], 6);
	assert_int_equal(k[SMTPROBE_LE_TLS_FAIL], 6);
	assert_int_equal(k[SMTPROBE_LE_TLS_OK], 0);
	assert_int_equal(k[SMTPROBE_LE_DELIVERED], 3);
	assert_int_equal(k[SMTPROBE_LE_AUTH_OK], 0);
	assert_int_equal(k[SMTPROBE_LE_AUTH_FAIL], 0);
	assert_int_equal(k[SMTPROBE_LE_DEFERRED], 0);
	assert_int_equal(k[SMTPROBE_LE_BOUNCED], 0);
	assert_int_equal(t.unknown, unknown_lines);
}

static void test_files(void **state)
{
	(void)state;
	expect_opensmtpd("opensmtpd.log", 1); /* "Exiting" */
	expect_opensmtpd("opensmtpd-syslog.log", 0);
}

/* ---- hostile lines ---- */

static void test_hostile(void **state)
{
	static struct smtprobe_log_input in;
	static const char *const heads[] = {
	        "",
	        "2026-12-07T05:29:53.097567+00:00",
	        "2026-12-07T05:29:53.097567+00:00 mx smtpd[1]: ",
	        "Dec  7 05:28:36",
	        "Dec  7 05:28:36 mx smtpd: ",
	        "0123456789abcdef ",
	        "0123456789abcdef smtp ",
	        "0123456789abcdef smtp connected address=",
	        "0123456789abcdef smtp tls ciphers=",
	        "0123456789abcdef smtp failed-command command=\"",
	        "0123456789abcdef smtp failed-command command=\"RCPT TO:",
	        "0123456789abcdef smtp failed-command command=\"x\" result=\"",
	        "0123456789abcdef smtp disconnected reason=\"io-error: ",
	        "0123456789abcdef mda delivery result=\"",
	        "2026-12-07T05:29:53Z mx smtpd[1]: relay: Expire for ",
	};

	(void)state;
	logst_fresh(&in, REF_TIME);
	/* then 100 KB of one byte, of every byte value, of quotes; all byte
	 * values, as a line of their own */
	logst_heads(&in, &rules, heads, sizeof(heads) / sizeof(heads[0]), " =",
	            "x\"");
	logst_file_prefixes("opensmtpd.log", REF_TIME, &rules);
	logst_file_prefixes("opensmtpd-syslog.log", REF_TIME, &rules);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_foreground),
	        cmocka_unit_test(test_syslog),
	        cmocka_unit_test(test_written),
	        cmocka_unit_test(test_sessions),
	        cmocka_unit_test(test_files),
	        cmocka_unit_test(test_hostile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
