/* test_logs_exim.c - Exim's log lines (lib/logs/exim.c) through
 * smtprobe_log_parse: real lines from tests/data/logs/exim-mainlog.log and
 * exim-rejectlog.log, each with the event it must give (a few constructed
 * from Exim's source formats, marked so); the rule that counts a
 * rejection once when both logs are given; the whole samples against the
 * traffic of exim-mainlog.expected.json; hostile lines (every truncation,
 * a bare timestamp, 100 KB, every byte) ending at an unreadable page. */
#include "logs_test.h"

#include "banned.h"

#define REF_TIME 1796688000 /* 2026-12-08T00:00:00Z */

/* a line of the mainlog alone: tells the input it is a mainlog */
#define MAINLOG_LINE                                                           \
	"2026-12-07 05:29:20 exim 4.96 daemon started: pid=17705, no queue "   \
	"runs, listening for SMTP on [127.0.0.1]:{50583,33327}"

/* real lines the table and the tests share */
#define RELAY_LINE                                                             \
	"2026-12-07 05:29:23 H=(host30.example.net) [127.0.0.30]:45493 "       \
	"F=<promo@example.net> rejected RCPT <victim1@relay-test.invalid>: "   \
	"relay not permitted"
#define AUTH_ALICE_LINE                                                        \
	"2026-12-07 05:29:21 1xaRHt-0004cX-2G <= alice@example.test "          \
	"H=(host10.example.net) [127.0.0.10]:51081 P=esmtpsa "                 \
	"X=TLS1.3:ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM:256 CV=no "   \
	"A=plain_server:alice S=588 id=exim-5@client.example.net"
#define AUTH_BOB_LINE                                                          \
	"2026-12-07 05:29:21 1xaRHt-0004cl-2y <= bob@example.test "            \
	"H=(host11.example.net) [127.0.0.11]:58771 P=esmtpsa "                 \
	"X=TLS1.3:ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM:256 CV=no "   \
	"A=login_server:bob S=602 id=exim-7@client.example.net"

/* ---- the table ---- */

static const struct logst_row rows[] = {
        /* connections (+smtp_connection) */
        {.line = "2026-12-07 05:29:20 SMTP connection from [127.0.0.60]:60213 "
                 "(TCP/IP connection count = 1)",
         .kind = SMTPROBE_LE_CONNECT,
         .client = "127.0.0.60"},
        {.line = "2026-12-07 05:29:20 SMTP connection from [127.0.0.1]:53926 "
                 "(TCP/IP connection count = 1)",
         .kind = SMTPROBE_LE_CONNECT,
         .client = "127.0.0.1"},
        {.line = "2026-12-07 05:29:21 SMTP connection from "
                 "(host61.example.net) "
                 "[127.0.0.61]:48259 lost D=0s",
         .kind = SMTPROBE_LE_NONE},
        {.line = "2026-12-07 05:29:21 SMTP connection from [127.0.0.60]:60213 "
                 "closed by QUIT",
         .kind = SMTPROBE_LE_NONE},
        /* AUTH success: A= on a message's line */
        {.line = AUTH_ALICE_LINE,
         .kind = SMTPROBE_LE_AUTH_OK,
         .client = "127.0.0.10",
         .user = "alice",
         .protocol = "TLS1.3",
         .cipher = "ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM"},
        {.line = AUTH_BOB_LINE,
         .kind = SMTPROBE_LE_AUTH_OK,
         .client = "127.0.0.11",
         .user = "bob",
         .protocol = "TLS1.3",
         .cipher = "ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM"},
        /* a message without AUTH */
        {.line = "2026-12-07 05:29:24 1xaRHw-0004e4-32 <= friend@example.net "
                 "H=(host40.example.net) [127.0.0.40]:39851 P=esmtp S=547 "
                 "id=exim-28@client.example.net",
         .kind = SMTPROBE_LE_NONE},
        /* AUTH failures: in both logs; counted in the mainlog */
        {.line = "2026-12-07 05:29:22 plain_server authenticator failed for "
                 "(host20.example.net) [127.0.0.20]:60955: 535 Incorrect "
                 "authentication data (set_id=alice)",
         .kind = SMTPROBE_LE_AUTH_FAIL,
         .client = "127.0.0.20",
         .user = "alice",
         .text = "Incorrect authentication data",
         .code = 535},
        {.line = "2026-12-07 05:29:23 login_server authenticator failed for "
                 "(host24.example.net) [127.0.0.24]:42091: 535 Incorrect "
                 "authentication data (set_id=admin)",
         .kind = SMTPROBE_LE_AUTH_FAIL,
         .client = "127.0.0.24",
         .user = "admin",
         .text = "Incorrect authentication data",
         .code = 535},
        {.line = "2026-12-07 05:29:22 plain_server authenticator failed for "
                 "(host20.example.net) [127.0.0.20]:60955: 535 Incorrect "
                 "authentication data (set_id=alice)",
         .rejectlog = 1,
         .kind = SMTPROBE_LE_NONE,
         .client = "127.0.0.20",
         .user = "alice",
         .code = 535},
        /* constructed (smtp_in.c's formats): a malformed answer is an
         * attempt, a cancelled one is not; no set_id without a user */
        {.line = "2026-12-07 05:29:22 plain_server authenticator failed for "
                 "(host20.example.net) [127.0.0.20]:60956: 501 Invalid base64 "
                 "data",
         .kind = SMTPROBE_LE_AUTH_FAIL,
         .client = "127.0.0.20",
         .text = "Invalid base64 data",
         .code = 501},
        {.line = "2026-12-07 05:29:22 login_server authenticator failed for "
                 "(host20.example.net) [127.0.0.20]:60957: 501 Authentication "
                 "cancelled",
         .kind = SMTPROBE_LE_NONE,
         .client = "127.0.0.20",
         .text = "Authentication cancelled",
         .code = 501},
        {.line = "2026-12-07 05:29:22 plain_server authenticator failed for "
                 "[192.0.2.9]:4000: 435 Unable to authenticate at present "
                 "(set_id=eve): lookup deferred",
         .kind = SMTPROBE_LE_AUTH_FAIL,
         .client = "192.0.2.9",
         .user = "eve",
         .text = "Unable to authenticate at present",
         .code = 435},
        /* rejections */
        {.line = RELAY_LINE,
         .kind = SMTPROBE_LE_REJECT,
         .client = "127.0.0.30",
         .sender = "promo@example.net",
         .rcpt = "victim1@relay-test.invalid",
         .text = "relay not permitted",
         .code = 550,
         .reject = SMTPROBE_LR_RELAY_DENIED},
        {.line = RELAY_LINE,
         .rejectlog = 1,
         .kind = SMTPROBE_LE_NONE,
         .client = "127.0.0.30",
         .sender = "promo@example.net",
         .rcpt = "victim1@relay-test.invalid",
         .code = 550,
         .reject = SMTPROBE_LR_RELAY_DENIED},
        {.line = "2026-12-07 05:29:25 H=(host42.example.net) "
                 "[127.0.0.42]:33679 "
                 "F=<friend@example.net> rejected RCPT "
                 "<nosuchuser@example.test>: Unrouteable address",
         .kind = SMTPROBE_LE_REJECT,
         .client = "127.0.0.42",
         .sender = "friend@example.net",
         .rcpt = "nosuchuser@example.test",
         .text = "Unrouteable address",
         .code = 550,
         .reject = SMTPROBE_LR_RECIPIENT},
        {.line = "2026-12-07 05:29:22 H=(host10.example.net) "
                 "[127.0.0.10]:53223 "
                 "X=TLS1.3:ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM:256 "
                 "CV=no rejected MAIL <bob@example.test>: 553 5.7.1 "
                 "<bob@example.test>: sender address not owned by user alice",
         .kind = SMTPROBE_LE_REJECT,
         .client = "127.0.0.10",
         .sender = "bob@example.test",
         .protocol = "TLS1.3",
         .cipher = "ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM",
         .text = "5.7.1 <bob@example.test>: sender address not owned by user "
                 "alice",
         .code = 553,
         .reject = SMTPROBE_LR_SENDER_LOGIN},
        {.line = "2026-12-07 05:29:23 H=(host26.example.net) "
                 "[127.0.0.26]:50901 "
                 "rejected MAIL <alice@example.test>: 530 5.7.0 Must issue a "
                 "STARTTLS command first",
         .kind = SMTPROBE_LE_REJECT,
         .client = "127.0.0.26",
         .sender = "alice@example.test",
         .text = "5.7.0 Must issue a STARTTLS command first",
         .code = 530,
         .reject = SMTPROBE_LR_AUTH_REQUIRED},
        /* constructed (acl.c, smtp_in.c's formats) */
        {.line = "2026-12-07 05:30:00 H=([192.0.2.1]) [192.0.2.7] "
                 "F=<a@example.net> temporarily rejected RCPT "
                 "<b@example.test>: "
                 "greylisted",
         .kind = SMTPROBE_LE_REJECT,
         .client = "192.0.2.7",
         .sender = "a@example.net",
         .rcpt = "b@example.test",
         .text = "greylisted",
         .code = 451,
         .reject = SMTPROBE_LR_GREYLIST},
        {.line = "2026-12-07 05:30:00 H=[192.0.2.7] rejected EHLO or HELO "
                 "localhost: HELO name is ours",
         .kind = SMTPROBE_LE_REJECT,
         .client = "192.0.2.7",
         .text = "HELO name is ours",
         .code = 550,
         .reject = SMTPROBE_LR_HELO},
        {.line = "2026-12-07 05:30:00 unqualified sender rejected: <root> "
                 "H=(x) [192.0.2.8]:1234",
         .rejectlog = 1, /* gated in the mainlog: counts in the rejectlog */
         .kind = SMTPROBE_LE_REJECT,
         .client = "192.0.2.8",
         .sender = "root",
         .code = 501,
         .reject = SMTPROBE_LR_SYNTAX},
        {.line = "2026-12-07 05:30:00 SMTP protocol synchronization error "
                 "(input sent without waiting for greeting): rejected "
                 "connection from H=[192.0.2.9]:999 input=\"EHLO x\"",
         .kind = SMTPROBE_LE_REJECT,
         .client = "192.0.2.9",
         .code = 554,
         .reject = SMTPROBE_LR_SYNTAX},
        {.line = "2026-12-07 05:30:00 Connection from [192.0.2.10]:555 "
                 "refused: "
                 "too many connections from that IP address",
         .rejectlog = 1, /* the mainlog's alone: counts (and tells it) */
         .kind = SMTPROBE_LE_REJECT,
         .client = "192.0.2.10",
         .code = 421,
         .reject = SMTPROBE_LR_RATE},
        {.line = "2026-12-07 05:30:00 H=(x) [192.0.2.11]:5 sender verify fail "
                 "for <x@invalid.example>: unrouteable mail domain",
         .kind = SMTPROBE_LE_NONE},
        /* outbound, not a rejection of ours */
        {.line = "2026-12-07 05:30:00 1xaRHt-0004cl-2y H=mx.example.net "
                 "[192.0.2.12]: SMTP error from remote mail server after RCPT "
                 "TO:<x@example.net>: 550 rejected because of policy",
         .kind = SMTPROBE_LE_NONE},
        /* TLS: handshake failures (GnuTLS); not after a handshake */
        {.line = "2026-12-07 05:29:26 TLS error on connection from "
                 "(host50.example.net) [127.0.0.50]:50931 (gnutls_handshake): "
                 "An unexpected TLS packet was received.",
         .kind = SMTPROBE_LE_TLS_FAIL,
         .client = "127.0.0.50",
         .text = "An unexpected TLS packet was received.",
         .cause = SMTPROBE_LT_NOT_TLS},
        {.line = "2026-12-07 05:29:27 TLS error on connection from "
                 "(host51.example.net) [127.0.0.51]:52879 (gnutls_handshake): "
                 "The TLS connection was non-properly terminated.",
         .kind = SMTPROBE_LE_TLS_FAIL,
         .client = "127.0.0.51",
         .cause = SMTPROBE_LT_CLOSED},
        {.line = "2026-12-07 05:29:29 TLS error on connection from "
                 "(host52.example.net) [127.0.0.52]:55189 (gnutls_handshake): "
                 "Decryption has failed.",
         .kind = SMTPROBE_LE_TLS_FAIL,
         .client = "127.0.0.52",
         .cause = SMTPROBE_LT_CLIENT_ALERT},
        {.line = "2026-12-07 05:29:20 TLS error on connection from "
                 "[127.0.0.1]:35930 (recv): The TLS connection was "
                 "non-properly terminated.",
         .kind = SMTPROBE_LE_NONE,
         .client = "127.0.0.1"},
        /* constructed: Exim built with OpenSSL, a timeout */
        {.line = "2026-12-07 05:30:00 TLS error on connection from [192.0.2.13]"
                 ":4 (SSL_accept): error:0A00009C:SSL routines::http request",
         .kind = SMTPROBE_LE_TLS_FAIL,
         .client = "192.0.2.13",
         .cause = SMTPROBE_LT_NOT_TLS},
        {.line = "2026-12-07 05:30:00 TLS error on connection from [192.0.2.14]"
                 ":4 (gnutls_handshake): timed out",
         .kind = SMTPROBE_LE_TLS_FAIL,
         .client = "192.0.2.14",
         .cause = SMTPROBE_LT_TIMEOUT},
        /* deliveries */
        {.line = "2026-12-07 05:29:30 1xaRHt-0004cX-2G => bob "
                 "<bob@example.test> "
                 "R=local_users T=local_file",
         .kind = SMTPROBE_LE_DELIVERED,
         .rcpt = "bob@example.test"},
        {.line = "2026-12-07 05:29:30 1xaRHt-0004cl-2y == "
                 "friend@relay-test.invalid R=remote_closed T=remote_closed "
                 "defer (111): Connection refused",
         .kind = SMTPROBE_LE_DEFERRED,
         .rcpt = "friend@relay-test.invalid",
         .text = "Connection refused"},
        {.line = "2026-12-07 05:30:00 1xaRHt-0004cl-2y ** x@example.net "
                 "R=dnslookup T=remote_smtp H=mx.example.net [192.0.2.12]: "
                 "SMTP "
                 "error from remote mail server after RCPT TO:<x@example.net>: "
                 "550 5.1.1 no such user",
         .kind = SMTPROBE_LE_BOUNCED,
         .rcpt = "x@example.net"},
        {.line = "2026-12-07 05:29:30 1xaRHt-0004cl-2y H=127.0.0.1 [127.0.0.1] "
                 "Connection refused",
         .kind = SMTPROBE_LE_NONE},
        {.line = "2026-12-07 05:29:30 1xaRHx-0004f2-1U Completed",
         .kind = SMTPROBE_LE_NONE},
        /* 4.97's longer message ids, [pid] and a zone */
        {.line = "2026-12-07 05:29:30 +0000 [1234] 1xaRHx-00000004f2U-1Uab => "
                 "carol@example.test R=local_users T=local_file",
         .kind = SMTPROBE_LE_DELIVERED,
         .rcpt = "carol@example.test"},
        {.line = "2026-12-07 05:29:30 Start queue run: pid=18133 -qf",
         .kind = SMTPROBE_LE_NONE},
};

/* a row's line, after MAINLOG_LINE unless it stands for a rejectlog's */
static void check_row(const struct logst_row *r)
{
	struct smtprobe_log_input in;
	struct smtprobe_log_event ev;

	logst_fresh(&in, REF_TIME);
	if (!r->rejectlog)
		assert_int_equal(logst_parse(&in, MAINLOG_LINE, &ev),
		                 SMTPROBE_LF_EXIM);
	logst_check_row(&in, r, SMTPROBE_LF_EXIM);
}

static void test_lines(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		check_row(&rows[i]);
}

/* ---- counted once: mainlog and rejectlog ---- */

static void test_rejectlog_rule(void **state)
{
	struct smtprobe_log_input in;
	struct smtprobe_log_event ev;
	const char *relay = RELAY_LINE;

	(void)state;
	logst_fresh(&in, REF_TIME);
	/* a rejectlog: its lines are the mainlog's too */
	logst_parse(&in, relay, &ev);
	assert_int_equal(ev.kind, SMTPROBE_LE_NONE);
	/* a line the mainlog has alone: from now on it is one */
	logst_parse(
	        &in,
	        "2026-12-07 05:29:20 SMTP connection from [127.0.0.1]:53926 "
	        "(TCP/IP connection count = 1)",
	        &ev);
	assert_int_equal(ev.kind, SMTPROBE_LE_CONNECT);
	logst_parse(&in, relay, &ev);
	assert_int_equal(ev.kind, SMTPROBE_LE_REJECT);
	/* Cyrus SASL's details of a failure (the rejectlog's alone) tell
	 * nothing, count nothing */
	logst_fresh(&in, REF_TIME);
	logst_parse(
	        &in,
	        "2026-12-07 05:30:00 cyrus_plain authenticator (PLAIN):", &ev);
	assert_int_equal(ev.kind, SMTPROBE_LE_NONE);
	logst_parse(&in, relay, &ev);
	assert_int_equal(ev.kind, SMTPROBE_LE_NONE);
}

/* a session's second message: its AUTH counted already (constructed: the
 * first message's line with another id) */
static void test_auth_once_per_session(void **state)
{
	struct smtprobe_log_input in;
	struct smtprobe_log_event ev;
	const char *second =
	        "2026-12-07 05:29:21 1xaRHt-0004cY-2H <= alice@example.test "
	        "H=(host10.example.net) [127.0.0.10]:51081 P=esmtpsa "
	        "X=TLS1.3:ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM:256 "
	        "CV=no A=plain_server:alice S=600 id=exim-6@client.example.net";

	(void)state;
	logst_fresh(&in, REF_TIME);
	logst_parse(&in, AUTH_ALICE_LINE, &ev);
	assert_int_equal(ev.kind, SMTPROBE_LE_AUTH_OK);
	logst_parse(&in, second, &ev);
	assert_int_equal(ev.kind, SMTPROBE_LE_NONE);
	logst_parse(&in, AUTH_BOB_LINE, &ev); /* another session */
	assert_int_equal(ev.kind, SMTPROBE_LE_AUTH_OK);
}

/* through syslog (constructed from Exim's log.c: syslog_timestamp keeps
 * Exim's time in the message; syslog_duplication writes a both-logs line
 * twice; a line with headers is split in numbered parts) */
static void test_syslog(void **state)
{
	struct smtprobe_log_input in;
	struct smtprobe_log_event ev;
	const char *rej =
	        "2026-12-07T05:29:23.100000+00:00 mx exim[4242]: 2026-12-07 "
	        "05:29:23 H=(host30.example.net) [127.0.0.30]:45493 "
	        "F=<promo@example.net> rejected RCPT "
	        "<victim1@relay-test.invalid>: relay not permitted";

	(void)state;
	logst_fresh(&in, REF_TIME);
	assert_int_equal(
	        logst_parse(&in,
	                    "2026-12-07T05:29:23.000000+00:00 mx exim[4242]: "
	                    "2026-12-07 05:29:23 SMTP connection from "
	                    "[127.0.0.30]:45493 (TCP/IP connection count = 1)",
	                    &ev),
	        SMTPROBE_LF_EXIM);
	assert_int_equal(ev.kind, SMTPROBE_LE_CONNECT);
	logst_parse(&in, rej, &ev);
	assert_int_equal(ev.kind, SMTPROBE_LE_REJECT);
	assert_int_equal(ev.reject, SMTPROBE_LR_RELAY_DENIED);
	logst_parse(&in, rej, &ev); /* the reject log's copy */
	assert_int_equal(ev.kind, SMTPROBE_LE_NONE);
	logst_parse(&in, rej, &ev); /* a third: another rejection */
	assert_int_equal(ev.kind, SMTPROBE_LE_REJECT);
	logst_parse(&in,
	            "2026-12-07T05:29:23.200000+00:00 mx exim4[4242]: [2\\3] "
	            "P Received: from [127.0.0.30] by mx",
	            &ev);
	assert_int_equal(ev.kind, SMTPROBE_LE_NONE);
	assert_int_equal(ev.format, SMTPROBE_LF_EXIM);
}

/* ---- the samples ---- */

/* the sample name, added to *t; every event that has a client names it */
static void parse_file(const char *name, struct logst_totals *t)
{
	logst_totals(name, REF_TIME, SMTPROBE_LF_LAST,
	             1u << SMTPROBE_LE_CONNECT | 1u << SMTPROBE_LE_AUTH_OK |
	                     1u << SMTPROBE_LE_AUTH_FAIL |
	                     1u << SMTPROBE_LE_TLS_FAIL |
	                     1u << SMTPROBE_LE_REJECT,
	             t);
}

/* exim-mainlog.expected.json (counts, startup_probes, log_notes):
 *   connect       45 = 37 sessions + 8 startup probes (one per listener,
 *                      from 127.0.0.1: a connection line each)
 *   auth_success   2 = of the 7 successful AUTHs only the 2 sessions
 *                      that sent a message show (A= on '<='; log_notes)
 *   auth_failure  10 = auth_failures.total (5 password, 5 unknown user)
 *   tls            0 = no line for a handshake that worked
 *   tls_failure    3 = tls.failures (garbage, eof, unknown CA); the smtps
 *                      probe's "(recv)" error is after its handshake
 *   reject         9 = rejections.total: relay_denied 5,
 *                      sender_login_mismatch 2, starttls_required 1
 *                      (auth_required here), unknown_recipient 1
 *   delivered      4 = messages_accepted 5 less friend@relay-test.invalid
 *   deferred       1 = friend@relay-test.invalid (closed port)
 * exim-rejectlog.expected.json: the same run's rejectlog, 19 lines = the
 * 10 AUTH failures and 9 rejections again: nothing more when both are
 * given, nothing when it is alone (no line tells a mainlog). */
static void check_exim_main(const struct logst_totals *t)
{
	assert_int_equal(t->kind[SMTPROBE_LE_CONNECT], 45);
	assert_int_equal(t->kind[SMTPROBE_LE_AUTH_OK], 2);
	assert_int_equal(t->kind[SMTPROBE_LE_AUTH_FAIL], 10);
	assert_int_equal(t->kind[SMTPROBE_LE_TLS_OK], 0);
	assert_int_equal(t->kind[SMTPROBE_LE_TLS_FAIL], 3);
	assert_int_equal(t->kind[SMTPROBE_LE_REJECT], 9);
	assert_int_equal(t->kind[SMTPROBE_LE_DELIVERED], 4);
	assert_int_equal(t->kind[SMTPROBE_LE_DEFERRED], 1);
	assert_int_equal(t->kind[SMTPROBE_LE_BOUNCED], 0);
	assert_int_equal(t->reject[SMTPROBE_LR_RELAY_DENIED], 5);
	assert_int_equal(t->reject[SMTPROBE_LR_SENDER_LOGIN], 2);
	assert_int_equal(t->reject[SMTPROBE_LR_AUTH_REQUIRED], 1);
	assert_int_equal(t->reject[SMTPROBE_LR_RECIPIENT], 1);
	assert_int_equal(t->cause[SMTPROBE_LT_NOT_TLS], 1);
	assert_int_equal(t->cause[SMTPROBE_LT_CLOSED], 1);
	assert_int_equal(t->cause[SMTPROBE_LT_CLIENT_ALERT], 1);
}

static void test_samples(void **state)
{
	struct logst_totals main, rej, both;

	(void)state;
	memset(&main, 0, sizeof(main));
	memset(&rej, 0, sizeof(rej));
	parse_file("exim-mainlog.log", &main);
	assert_int_equal(main.lines, 131);
	assert_int_equal(main.unknown, 0);
	check_exim_main(&main);

	parse_file("exim-rejectlog.log", &rej);
	assert_int_equal(rej.lines, 19);
	assert_int_equal(rej.unknown, 0);
	for (int k = SMTPROBE_LE_CONNECT; k < SMTPROBE_LE_LAST; k++)
		assert_int_equal(rej.kind[k], 0);

	/* both, in either order: each input its own */
	memset(&both, 0, sizeof(both));
	parse_file("exim-rejectlog.log", &both);
	parse_file("exim-mainlog.log", &both);
	check_exim_main(&both);
}

/* ---- hostile lines ---- */

/* every field of every event a slice of its line */
static const struct logst_rules rules = {SMTPROBE_LF_LAST, 0, 0};

static void test_truncated(void **state)
{
	struct smtprobe_log_input in;

	(void)state;
	logst_fresh(&in, REF_TIME);
	logst_parse_guarded(&in, &rules, MAINLOG_LINE, strlen(MAINLOG_LINE),
	                    NULL);
	logst_row_prefixes(&in, &rules, rows, sizeof(rows) / sizeof(rows[0]));
}

static void test_hostile(void **state)
{
	struct smtprobe_log_input in;
	struct smtprobe_log_event ev;
	static const char *const heads[] = {
	        "2026-12-07 05:29:20 ",
	        "2026-12-07 05:29:20 H=",
	        "2026-12-07 05:29:20 H=(",
	        "2026-12-07 05:29:20 H=[1.2.3.4]:",
	        "2026-12-07 05:29:20 1xaRHt-0004cX-2G <= ",
	        "2026-12-07 05:29:20 1xaRHt-0004cX-2G => ",
	        "2026-12-07 05:29:20 x authenticator failed for ",
	        "2026-12-07 05:29:20 TLS error on connection from ",
	        "2026-12-07 05:29:20 SMTP connection from ",
	        "2026-12-07 05:29:20 rejected MAIL FROM:",
	        "2026-12-07T05:29:20Z mx exim[1]: ",
	        "2026-12-07T05:29:20Z mx exim[1]: [1\\2] ",
	        "2026-12-07T05:29:20Z mx exim[1]: 2026-12-07 05:29:20 [",
	};

	(void)state;
	logst_fresh(&in, REF_TIME);
	/* a bare timestamp, with and without its space */
	assert_int_equal(logst_parse(&in, "2026-12-07 05:29:20", &ev),
	                 SMTPROBE_LF_UNKNOWN);
	assert_int_equal(logst_parse(&in, "2026-12-07 05:29:20 ", &ev),
	                 SMTPROBE_LF_UNKNOWN);
	assert_int_equal(logst_parse(&in, "2026-12-07 05:29:20 +0000", &ev),
	                 SMTPROBE_LF_UNKNOWN);
	/* every byte, after every head; 100 KB of brackets, parentheses,
	 * digits, colons */
	logst_heads(&in, &rules, heads, sizeof(heads) / sizeof(heads[0]),
	            "[(]):0123456789 ", "[");
	/* random bytes after a real line's start */
	logst_row_mutations(&in, &rules, rows, sizeof(rows) / sizeof(rows[0]),
	                    2000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_lines),
	        cmocka_unit_test(test_rejectlog_rule),
	        cmocka_unit_test(test_auth_once_per_session),
	        cmocka_unit_test(test_syslog),
	        cmocka_unit_test(test_samples),
	        cmocka_unit_test(test_truncated),
	        cmocka_unit_test(test_hostile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
