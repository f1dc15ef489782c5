/* test_logs_sendmail.c - Sendmail's log lines (lib/logs/sendmail.c)
 * through smtprobe_log_parse: real lines from tests/data/logs/
 * sendmail.log and sendmail-traditional.log, each with the event it must
 * give (a few constructed from Sendmail's formats, marked so); one
 * connection per session; the whole samples against the traffic of
 * sendmail.expected.json; hostile lines (every truncation, a bare
 * timestamp, 100 KB, every byte) ending at an unreadable page. */
#include "logs_test.h"

#include "banned.h"

#define REF_TIME 1796688000 /* 2026-12-08T00:00:00Z: the samples' year */

#define P "2026-12-07T05:29:33.919846+00:00 mx sm-mta[18338]: "
#define T "Dec  7 05:29:33 mx sm-mta[18338]: "

/* ---- the table ---- */

static const struct logst_row rows[] = {
        /* sessions: their end without MAIL, their first from= */
        {.line = P "6B75TWei018257: [127.0.0.60] did not issue "
                   "MAIL/EXPN/VRFY/ETRN during connection to MTA",
         .kind = SMTPROBE_LE_CONNECT,
         .client = "127.0.0.60"},
        {.line = T "6B75TWei018257: [127.0.0.60] did not issue "
                   "MAIL/EXPN/VRFY/ETRN during connection to MTA",
         .kind = SMTPROBE_LE_CONNECT,
         .client = "127.0.0.60"},
        {.line = P "6B75TWxE018255: localhost [127.0.0.1] did not issue "
                   "MAIL/EXPN/VRFY/ETRN during connection to MTA",
         .kind = SMTPROBE_LE_CONNECT,
         .client = "127.0.0.1"},
        {.line = P "6B75TXsu018338: from=<promo@example.net>, size=0, "
                   "class=0, nrcpts=0, proto=ESMTP, daemon=MTA, "
                   "relay=relay30.example.net [127.0.0.30]",
         .kind = SMTPROBE_LE_CONNECT,
         .client = "127.0.0.30"},
        {.line = P "6B75TYaw018350: from=<friend@example.net>, size=326, "
                   "class=0, nrcpts=1, msgid=<sendmail-25@client.example.net>, "
                   "proto=ESMTP, daemon=MTA, relay=[127.0.0.40]",
         .kind = SMTPROBE_LE_CONNECT,
         .client = "127.0.0.40"},
        /* AUTH */
        {.line = P "AUTH=server, relay=[127.0.0.10], authid=alice, mech=PLAIN, "
                   "bits=0",
         .kind = SMTPROBE_LE_AUTH_OK,
         .client = "127.0.0.10",
         .user = "alice"},
        {.line = T "AUTH=server, relay=[127.0.0.11], authid=bob, mech=LOGIN, "
                   "bits=0",
         .kind = SMTPROBE_LE_AUTH_OK,
         .client = "127.0.0.11",
         .user = "bob"},
        {.line = P "6B75TWEL018286: AUTH failure (PLAIN): authentication "
                   "failure (-13) SASL(-13): authentication failure: Password "
                   "verification failed, user=alice, relay=[127.0.0.20]",
         .kind = SMTPROBE_LE_AUTH_FAIL,
         .client = "127.0.0.20",
         .user = "alice",
         .text = "authentication failure (-13) SASL(-13): authentication "
                 "failure: Password verification failed",
         .code = 535},
        {.line = P "6B75TXL6018318: AUTH failure (LOGIN): user not found (-20) "
                   "SASL(-13): user not found: checkpass failed, user=admin, "
                   "relay=[127.0.0.24]",
         .kind = SMTPROBE_LE_AUTH_FAIL,
         .client = "127.0.0.24",
         .user = "admin",
         .code = 535},
        /* TLS */
        {.line = P "STARTTLS=server, relay=[127.0.0.54], version=TLSv1.3, "
                   "verify=NO, cipher=TLS_AES_256_GCM_SHA384, bits=256/256",
         .kind = SMTPROBE_LE_TLS_OK,
         .client = "127.0.0.54",
         .protocol = "TLSv1.3",
         .cipher = "TLS_AES_256_GCM_SHA384"},
        {.line = P "STARTTLS=server, error: accept failed=-1, reason=http "
                   "request, SSL_error=1, errno=0, retry=-1, "
                   "relay=[127.0.0.50]",
         .kind = SMTPROBE_LE_TLS_FAIL,
         .client = "127.0.0.50",
         .text = "http request",
         .cause = SMTPROBE_LT_NOT_TLS},
        {.line = P "STARTTLS=server, error: accept failed=-1, "
                   "reason=unexpected eof while reading, SSL_error=1, "
                   "errno=0, retry=-1, relay=[127.0.0.51]",
         .kind = SMTPROBE_LE_TLS_FAIL,
         .client = "127.0.0.51",
         .text = "unexpected eof while reading",
         .cause = SMTPROBE_LT_CLOSED},
        {.line = P "STARTTLS=server, error: accept failed=-1, reason=tlsv1 "
                   "alert unknown ca, SSL_error=1, errno=0, retry=-1, "
                   "relay=[127.0.0.52]",
         .kind = SMTPROBE_LE_TLS_FAIL,
         .client = "127.0.0.52",
         .text = "tlsv1 alert unknown ca",
         .cause = SMTPROBE_LT_CLIENT_ALERT},
        {.line = T "STARTTLS=server, error: accept failed=-1, reason=no "
                   "suitable signature algorithm, SSL_error=1, errno=0, "
                   "retry=-1, relay=[127.0.0.53]",
         .kind = SMTPROBE_LE_TLS_FAIL,
         .client = "127.0.0.53",
         .text = "no suitable signature algorithm",
         .cause = SMTPROBE_LT_NO_SHARED},
        /* constructed (srvrsmtp.c's format): no reason, an EOF */
        {.line = P "STARTTLS=server, error: accept failed=0, reason=unknown, "
                   "SSL_error=5, errno=0, retry=-1, relay=[192.0.2.5]",
         .kind = SMTPROBE_LE_TLS_FAIL,
         .client = "192.0.2.5",
         .cause = SMTPROBE_LT_CLOSED},
        /* rejections */
        {.line = P
         "6B75TXsu018338: ruleset=check_rcpt, "
         "arg1=<victim1@relay-test.invalid>, relay=relay30.example.net "
         "[127.0.0.30], reject=550 5.7.1 "
         "<victim1@relay-test.invalid>... Relaying denied",
         .kind = SMTPROBE_LE_REJECT,
         .client = "127.0.0.30",
         .rcpt = "victim1@relay-test.invalid",
         .text = "5.7.1 <victim1@relay-test.invalid>... Relaying denied",
         .code = 550,
         .reject = SMTPROBE_LR_RELAY_DENIED},
        {.line = T "6B75TYMe018344: ruleset=check_rcpt, "
                   "arg1=<victim4@relay-test.invalid>, relay=[127.0.0.31], "
                   "reject=450 4.4.0 <victim4@relay-test.invalid>... Relaying "
                   "temporarily denied. Cannot resolve PTR record for "
                   "127.0.0.31",
         .kind = SMTPROBE_LE_REJECT,
         .client = "127.0.0.31",
         .rcpt = "victim4@relay-test.invalid",
         .code = 450,
         .reject = SMTPROBE_LR_RELAY_DENIED},
        /* constructed (the fact: a client whose PTR lookup failed
         * outright) */
        {.line = P "6B75TYMf018345: ruleset=check_rcpt, "
                   "arg1=<victim6@relay-test.invalid>, relay=[192.0.2.6] (may "
                   "be forged), reject=550 5.7.1 "
                   "<victim6@relay-test.invalid>... Relaying denied. IP name "
                   "lookup failed [192.0.2.6]",
         .kind = SMTPROBE_LE_REJECT,
         .client = "192.0.2.6",
         .rcpt = "victim6@relay-test.invalid",
         .code = 550,
         .reject = SMTPROBE_LR_RELAY_DENIED},
        /* constructed (proto.m4's rulesets) */
        {.line = P "6B75TYMg018346: ruleset=check_mail, arg1=<a@nx.invalid>, "
                   "relay=[192.0.2.7], reject=553 5.1.8 <a@nx.invalid>... "
                   "Domain of sender address a@nx.invalid does not exist",
         .kind = SMTPROBE_LE_REJECT,
         .client = "192.0.2.7",
         .sender = "a@nx.invalid",
         .code = 553,
         .reject = SMTPROBE_LR_SENDER},
        {.line = P "ruleset=check_relay, arg1=[192.0.2.8], arg2=192.0.2.8, "
                   "relay=[192.0.2.8], reject=421 4.3.2 Connection rate limit "
                   "exceeded.",
         .kind = SMTPROBE_LE_REJECT,
         .client = "192.0.2.8",
         .code = 421,
         .reject = SMTPROBE_LR_RATE},
        {.line = P "6B75TY3Q018366: <nosuchuser@example.test>... User unknown",
         .kind = SMTPROBE_LE_REJECT,
         .rcpt = "nosuchuser@example.test",
         .text = "User unknown",
         .code = 550,
         .reject = SMTPROBE_LR_RECIPIENT},
        /* deliveries */
        {.line = P "6B75TYKV018357: to=/dev/null, ctladdr=<alice@example.test> "
                   "(1/0), delay=00:00:06, xdelay=00:00:00, mailer=*file*, "
                   "pri=120324, dsn=2.0.0, stat=Sent",
         .kind = SMTPROBE_LE_DELIVERED,
         .rcpt = "alice@example.test",
         .text = "Sent"},
        {.line = P "6B75TWQH018279: to=<friend@relay-test.invalid>, "
                   "delay=00:00:08, xdelay=00:00:00, mailer=relay, "
                   "pri=120321, relay=[127.0.0.1] [127.0.0.1], dsn=4.4.1, "
                   "stat=Deferred: Connection refused by [127.0.0.1]",
         .kind = SMTPROBE_LE_DEFERRED,
         .rcpt = "friend@relay-test.invalid",
         .text = "Deferred: Connection refused by [127.0.0.1]"},
        {.line = P "6B75TWQH018279: to=<friend@relay-test.invalid>, "
                   "delay=00:00:00, mailer=relay, pri=30321, stat=queued",
         .kind = SMTPROBE_LE_NONE},
        /* constructed (deliver.c's format): two recipients, a bounce */
        {.line = P "6B75TWQH018280: to=<a@example.net>,<b@example.net>, "
                   "delay=00:00:01, xdelay=00:00:01, mailer=esmtp, pri=120321, "
                   "relay=mx.example.net. [192.0.2.9], dsn=2.0.0, stat=Sent "
                   "(ok 1234)",
         .kind = SMTPROBE_LE_DELIVERED,
         .count = 2,
         .rcpt = "a@example.net"},
        {.line = P "6B75TWQH018281: to=<x@example.net>, delay=00:00:01, "
                   "xdelay=00:00:01, mailer=esmtp, pri=120321, "
                   "relay=mx.example.net. [192.0.2.9], dsn=5.1.1, stat=User "
                   "unknown",
         .kind = SMTPROBE_LE_BOUNCED,
         .rcpt = "x@example.net",
         .text = "User unknown"},
        /* what counts for nothing */
        {.line = "2026-12-07T05:29:32.044425+00:00 mx sm-mta[18214]: starting "
                 "daemon (8.17.1.9): SMTP",
         .kind = SMTPROBE_LE_NONE},
        {.line = "2026-12-07T05:29:32.024579+00:00 mx sendmail[18251]: "
                 "gethostbyaddr(192.0.2.2) failed: 2",
         .kind = SMTPROBE_LE_NONE},
        {.line = "Dec  7 05:29:32 mx sendmail[18251]: alias database "
                 "/opt/smtprobe-mtas/sendmail/etc/mail/aliases rebuilt by root",
         .kind = SMTPROBE_LE_NONE},
        /* constructed: the MSP's hand-over to the MTA is no delivery */
        {.line = "2026-12-07T05:29:40.8+00:00 mx sm-msp-queue[900]: "
                 "6B75TWQH018282: to=root, ctladdr=root (0/0), delay=00:00:00, "
                 "xdelay=00:00:00, mailer=relay, pri=30000, relay=[127.0.0.1] "
                 "[127.0.0.1], dsn=2.0.0, stat=Sent (6B75TWQH018283 Message "
                 "accepted for delivery)",
         .kind = SMTPROBE_LE_NONE},
        /* constructed: tlslogerr's detail (LogLevel > 9) */
        {.line = P "STARTTLS=server: 1234:error:0A00009C:SSL routines::http "
                   "request:../ssl/record/ssl3_record.c:345:",
         .kind = SMTPROBE_LE_NONE},
};

static void test_lines(void **state)
{
	struct smtprobe_log_input in;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		logst_fresh(&in, REF_TIME);
		logst_check_row(&in, &rows[i], SMTPROBE_LF_SENDMAIL);
	}
}

/* a session (a process) that sends two messages: one connection; the
 * same pid an hour later is another session (constructed: the sample's
 * from= line with other ids and times) */
static void test_one_connect_per_session(void **state)
{
	struct smtprobe_log_input in;
	struct smtprobe_log_event ev;

	(void)state;
	logst_fresh(&in, REF_TIME);
	logst_parse(&in,
	            P "6B75TYaw018350: from=<friend@example.net>, size=326, "
	              "class=0, nrcpts=1, msgid=<a@client.example.net>, "
	              "proto=ESMTP, daemon=MTA, relay=[127.0.0.40]",
	            &ev);
	assert_int_equal(ev.kind, SMTPROBE_LE_CONNECT);
	logst_parse(
	        &in,
	        "2026-12-07T05:29:35.0+00:00 mx sm-mta[18338]: 6B75TYax018350: "
	        "from=<friend@example.net>, size=326, class=0, nrcpts=1, "
	        "msgid=<b@client.example.net>, proto=ESMTP, daemon=MTA, "
	        "relay=[127.0.0.40]",
	        &ev);
	assert_int_equal(ev.kind, SMTPROBE_LE_NONE);
	logst_parse(
	        &in,
	        "2026-12-07T07:00:00.0+00:00 mx sm-mta[18338]: 6B7700ax018350: "
	        "from=<friend@example.net>, size=326, class=0, nrcpts=1, "
	        "msgid=<c@client.example.net>, proto=ESMTP, daemon=MTA, "
	        "relay=[127.0.0.41]",
	        &ev);
	assert_int_equal(ev.kind, SMTPROBE_LE_CONNECT);
	/* another process */
	logst_parse(
	        &in,
	        "2026-12-07T07:00:01.0+00:00 mx sm-mta[18339]: 6B7701ax018339: "
	        "from=<friend@example.net>, size=326, class=0, nrcpts=1, "
	        "msgid=<d@client.example.net>, proto=ESMTP, daemon=MTA, "
	        "relay=[127.0.0.41]",
	        &ev);
	assert_int_equal(ev.kind, SMTPROBE_LE_CONNECT);
	/* locally submitted (no daemon=): no connection */
	logst_parse(
	        &in,
	        "2026-12-07T07:00:02.0+00:00 mx sendmail[900]: 6B7702ax000900: "
	        "from=root, size=100, class=0, nrcpts=1, msgid=<e@mx>, "
	        "relay=root@localhost",
	        &ev);
	assert_int_equal(ev.kind, SMTPROBE_LE_NONE);
}

/* ---- the samples ---- */

/* sendmail.expected.json (counts, startup_probes, log_notes):
 *   connect       36 = 34 sessions + 2 startup probes (mx, submission:
 *                      "localhost [127.0.0.1] did not issue ...")
 *   auth_success   5 = auth_success.total (no sender check: no mismatch
 *                      sessions)
 *   auth_failure  10 = auth_failures.total (5 password, 5 unknown user)
 *   tls           17 = tls.handshakes (all TLSv1.3)
 *   tls_failure    4 = tls.failures (garbage, eof, unknown CA, the TLS
 *                      1.0 client: no suitable signature algorithm)
 *   reject         6 = rejections.total: relay_denied 5 (3 x 550, 2 x 450
 *                      "Relaying temporarily denied"), unknown_recipient 1
 *   delivered      4 = messages_accepted 5 less friend@relay-test.invalid
 *   deferred       1 = friend@relay-test.invalid (the closed smart host)
 * sendmail-traditional.log: the same lines in the traditional format. */
static void check_sendmail(const struct logst_totals *t)
{
	assert_int_equal(t->lines, 96);
	assert_int_equal(t->unknown, 0);
	assert_int_equal(t->kind[SMTPROBE_LE_CONNECT], 36);
	assert_int_equal(t->kind[SMTPROBE_LE_AUTH_OK], 5);
	assert_int_equal(t->kind[SMTPROBE_LE_AUTH_FAIL], 10);
	assert_int_equal(t->kind[SMTPROBE_LE_TLS_OK], 17);
	assert_int_equal(t->kind[SMTPROBE_LE_TLS_FAIL], 4);
	assert_int_equal(t->kind[SMTPROBE_LE_REJECT], 6);
	assert_int_equal(t->kind[SMTPROBE_LE_DELIVERED], 4);
	assert_int_equal(t->kind[SMTPROBE_LE_DEFERRED], 1);
	assert_int_equal(t->kind[SMTPROBE_LE_BOUNCED], 0);
	assert_int_equal(t->reject[SMTPROBE_LR_RELAY_DENIED], 5);
	assert_int_equal(t->reject[SMTPROBE_LR_RECIPIENT], 1);
	assert_int_equal(t->cause[SMTPROBE_LT_NOT_TLS], 1);
	assert_int_equal(t->cause[SMTPROBE_LT_CLOSED], 1);
	assert_int_equal(t->cause[SMTPROBE_LT_CLIENT_ALERT], 1);
	assert_int_equal(t->cause[SMTPROBE_LT_NO_SHARED], 1);
}

static void test_samples(void **state)
{
	static const char *const files[] = {"sendmail.log",
	                                    "sendmail-traditional.log"};
	struct logst_totals t;

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		memset(&t, 0, sizeof(t));
		/* every event that has a client names it */
		logst_totals(files[i], REF_TIME, SMTPROBE_LF_LAST,
		             1u << SMTPROBE_LE_CONNECT |
		                     1u << SMTPROBE_LE_AUTH_OK |
		                     1u << SMTPROBE_LE_AUTH_FAIL |
		                     1u << SMTPROBE_LE_TLS_OK |
		                     1u << SMTPROBE_LE_TLS_FAIL,
		             &t);
		check_sendmail(&t);
	}
}

/* ---- hostile lines ---- */

/* every field of every event a slice of its line */
static const struct logst_rules rules = {SMTPROBE_LF_LAST, 0, 0};

static void test_truncated(void **state)
{
	struct smtprobe_log_input in;

	(void)state;
	logst_fresh(&in, REF_TIME);
	logst_row_prefixes(&in, &rules, rows, sizeof(rows) / sizeof(rows[0]));
}

static void test_hostile(void **state)
{
	struct smtprobe_log_input in;
	struct smtprobe_log_event ev;
	static const char *const heads[] = {
	        P,
	        T,
	        P "6B75TXsu018338: ",
	        P "NOQUEUE: ",
	        P "6B75TXsu018338: ruleset=check_rcpt, arg1=",
	        P "6B75TXsu018338: ruleset=check_rcpt, reject=",
	        P "6B75TXsu018338: from=",
	        P "6B75TXsu018338: from=<a>, daemon=MTA, relay=",
	        P "6B75TXsu018338: to=",
	        P "6B75TXsu018338: to=<a>,<b>, ctladdr=",
	        P "6B75TXsu018338: <",
	        P "AUTH=server, relay=",
	        P "6B75TXsu018338: AUTH failure (",
	        P "STARTTLS=server, error: ",
	        P "STARTTLS=server, relay=[",
	};

	(void)state;
	logst_fresh(&in, REF_TIME);
	/* a bare timestamp; a prefix without a message */
	assert_int_equal(logst_parse(&in, "Dec  7 05:29:33", &ev),
	                 SMTPROBE_LF_UNKNOWN);
	assert_int_equal(
	        logst_parse(&in, "2026-12-07T05:29:33.919846+00:00", &ev),
	        SMTPROBE_LF_UNKNOWN);
	logst_parse(&in, "Dec  7 05:29:33 mx sm-mta[1]: ", &ev);
	assert_int_equal(ev.kind, SMTPROBE_LE_NONE);
	logst_heads(&in, &rules, heads, sizeof(heads) / sizeof(heads[0]),
	            "[<>],= 0123456789", ",");
	logst_row_mutations(&in, &rules, rows, sizeof(rows) / sizeof(rows[0]),
	                    2000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_lines),
	        cmocka_unit_test(test_one_connect_per_session),
	        cmocka_unit_test(test_samples),
	        cmocka_unit_test(test_truncated),
	        cmocka_unit_test(test_hostile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
