/* test_logs_postfix.c - Postfix's log lines (lib/logs/postfix.c) and the
 * summary over whole files: real lines of tests/data/logs/postfix*.log
 * (maillog_file and both syslog forms), each with the event it must give;
 * the three samples through smtprobe_logs_*, with the counts their
 * postfix*.expected.json traffic implies; hostile lines. */
#include "logs_test.h"

#include "banned.h"

/* the table's rows leave the fields they do not check out */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define E_NONE  SMTPROBE_LE_NONE
#define E_CONN  SMTPROBE_LE_CONNECT
#define E_AOK   SMTPROBE_LE_AUTH_OK
#define E_AFAIL SMTPROBE_LE_AUTH_FAIL
#define E_TLS   SMTPROBE_LE_TLS_OK
#define E_TLSF  SMTPROBE_LE_TLS_FAIL
#define E_REJ   SMTPROBE_LE_REJECT
#define E_DLV   SMTPROBE_LE_DELIVERED
#define E_DEF   SMTPROBE_LE_DEFERRED
#define E_BNC   SMTPROBE_LE_BOUNCED

struct row {
	const char *line;
	enum smtprobe_log_kind kind;
	unsigned count;
	const char *client, *user, *sender, *rcpt;
	int code;
	enum smtprobe_log_reject reject;
	const char *protocol, *cipher;
};

static const struct row rows[] = {
        {"Dec 07 05:20:59 mx postfix/open/smtpd[30671]: connect from "
         "unknown[127.0.0.1]",
         E_CONN, 1, "127.0.0.1"},
        {"Dec  7 05:21:43 mx postfix/open/smtpd[32606]: connect from "
         "mail.example.net[2001:db8::25]",
         E_CONN, 1, "2001:db8::25"},
        {"2026-12-07T05:21:43.727032+00:00 mx postfix/mx/smtpd[32606]: "
         "connect from unknown[IPv6:2001:db8::1]",
         E_CONN, 1, "2001:db8::1"},
        /* per-listener syslog names as postlogd writes them */
        {"Dec 07 05:20:59 mx closed/smtpd[30671]: connect from "
         "unknown[127.0.0.9]",
         E_CONN, 1, "127.0.0.9"},
        {"Dec 07 05:27:55 mx postfix/submission/smtpd[12898]: disconnect "
         "from unknown[127.0.0.10] ehlo=2 starttls=1 auth=1 mail=1 rcpt=1 "
         "data=1 quit=1 commands=8",
         E_AOK, 1, "127.0.0.10"},
        {"Dec 07 05:27:55 mx postfix/submission/smtpd[12898]: disconnect "
         "from unknown[127.0.0.10] ehlo=2 auth=2/5 quit=1 commands=5/8",
         E_AOK, 2, "127.0.0.10"},
        /* a hostile count is none, not a huge one */
        {"Dec 07 05:27:55 mx postfix/submission/smtpd[12898]: disconnect "
         "from unknown[127.0.0.10] auth=abc quit=1",
         E_NONE},
        {"Dec 07 05:27:55 mx postfix/submission/smtpd[12898]: disconnect "
         "from unknown[127.0.0.10] auth=-1/2 quit=1",
         E_NONE},
        {"Dec 07 05:27:55 mx postfix/submission/smtpd[12898]: disconnect "
         "from unknown[127.0.0.10] auth=99999999 quit=1",
         E_NONE},
        {"Dec 07 05:20:59 mx postfix/open/smtpd[30671]: disconnect from "
         "unknown[127.0.0.1] commands=0/0",
         E_NONE},
        {"Dec 07 05:20:59 mx postfix/submission/smtpd[12898]: disconnect "
         "from unknown[127.0.0.20] ehlo=2 starttls=1 auth=0/1 quit=1 "
         "commands=4/5",
         E_NONE},
        {"Dec 07 05:21:00 mx postfix/submission/smtpd[30675]: warning: "
         "unknown[127.0.0.20]: SASL PLAIN authentication failed: (reason "
         "unavailable), sasl_username=alice",
         E_AFAIL, 1, "127.0.0.20", "alice"},
        {"Dec 07 05:28:19 mx postfix/submission/smtpd[12898]: warning: "
         "unknown[127.0.0.20]: SASL PLAIN authentication failed: "
         "Connection lost to authentication server, "
         "sasl_username=(unavailable)",
         E_AFAIL, 1, "127.0.0.20", NULL},
        /* Postfix before 3.7: the base64 prompt, no user */
        {"Dec 07 05:21:00 mx postfix/smtpd[30675]: warning: "
         "unknown[192.0.2.7]: SASL LOGIN authentication failed: "
         "UGFzc3dvcmQ6",
         E_AFAIL, 1, "192.0.2.7", NULL},
        {"Dec 07 05:20:59 mx postfix/smtps/smtpd[30676]: Anonymous TLS "
         "connection established from unknown[127.0.0.1]: TLSv1.3 with "
         "cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange "
         "X25519 server-signature RSA-PSS (2048 bits) server-digest "
         "SHA256",
         E_TLS, 1, "127.0.0.1", NULL, NULL, NULL, 0, 0, "TLSv1.3",
         "TLS_AES_256_GCM_SHA384"},
        /* outbound TLS is not a client's handshake */
        {"Dec 07 05:20:59 mx postfix/smtp[30676]: Trusted TLS connection "
         "established to mx.example.net[192.0.2.1]:25: TLSv1.3 with "
         "cipher TLS_AES_256_GCM_SHA384 (256/256 bits)",
         E_NONE},
        {"Dec 07 05:21:33 mx postfix/mx/smtpd[30672]: SSL_accept error "
         "from unknown[127.0.0.51]: lost connection",
         E_TLSF, 1, "127.0.0.51"},
        {"Dec 07 05:21:31 mx postfix/mx/smtpd[30672]: NOQUEUE: reject: "
         "RCPT from unknown[127.0.0.30]: 554 5.7.1 "
         "<victim1@relay-test.invalid>: Relay access denied; "
         "from=<promo@example.net> to=<victim1@relay-test.invalid> "
         "proto=ESMTP helo=<host30.example.net>",
         E_REJ, 1, "127.0.0.30", NULL, "promo@example.net",
         "victim1@relay-test.invalid", 554, SMTPROBE_LR_RELAY_DENIED},
        {"Dec 07 05:28:26 mx postfix/defer/smtpd[12917]: NOQUEUE: reject: "
         "RCPT from unknown[127.0.0.32]: 454 4.7.1 "
         "<victim6@relay-test.invalid>: Relay access denied; "
         "from=<info@example.net> to=<victim6@relay-test.invalid> "
         "proto=ESMTP helo=<host32.example.net>",
         E_REJ, 1, "127.0.0.32", NULL, "info@example.net",
         "victim6@relay-test.invalid", 454, SMTPROBE_LR_RELAY_DENIED},
        {"Dec 07 05:21:00 mx postfix/submission/smtpd[30675]: NOQUEUE: "
         "reject: RCPT from unknown[127.0.0.10]: 553 5.7.1 "
         "<bob@example.test>: Sender address rejected: not owned by user "
         "alice; from=<bob@example.test> to=<carol@example.test> "
         "proto=ESMTP helo=<host10.example.net>",
         E_REJ, 1, "127.0.0.10", NULL, "bob@example.test", "carol@example.test",
         553, SMTPROBE_LR_SENDER_LOGIN},
        /* the kinds of other restrictions, as Postfix words them */
        {"Dec 07 05:21:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from "
         "unknown[192.0.2.9]: 450 4.7.1 Client host rejected: cannot find "
         "your hostname, [192.0.2.9]; from=<a@b.example> "
         "to=<u@example.test> proto=ESMTP helo=<x>",
         E_REJ, 1, "192.0.2.9", NULL, "a@b.example", "u@example.test", 450,
         SMTPROBE_LR_CLIENT},
        {"Dec 07 05:21:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from "
         "unknown[192.0.2.9]: 554 5.7.1 Service unavailable; Client host "
         "[192.0.2.9] blocked using zen.spamhaus.org; from=<a@b.example> "
         "to=<u@example.test> proto=ESMTP helo=<x>",
         E_REJ, 1, "192.0.2.9", NULL, "a@b.example", "u@example.test", 554,
         SMTPROBE_LR_RBL},
        {"Dec 07 05:21:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from "
         "unknown[192.0.2.9]: 504 5.5.2 <x>: Helo command rejected: need "
         "fully-qualified hostname; from=<a@b.example> to=<u@example.test> "
         "proto=ESMTP helo=<x>",
         E_REJ, 1, "192.0.2.9", NULL, "a@b.example", "u@example.test", 504,
         SMTPROBE_LR_HELO},
        {"Dec 07 05:21:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from "
         "unknown[192.0.2.9]: 450 4.2.0 <u@example.test>: Recipient "
         "address rejected: Greylisted, see "
         "https://postgrey.schweikert.ch/help/example.test.html; "
         "from=<a@b.example> to=<u@example.test> proto=ESMTP helo=<x>",
         E_REJ, 1, "192.0.2.9", NULL, "a@b.example", "u@example.test", 450,
         SMTPROBE_LR_GREYLIST},
        {"Dec 07 05:21:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from "
         "unknown[192.0.2.9]: 550 5.1.1 <nobody@example.test>: Recipient "
         "address rejected: User unknown in local recipient table; "
         "from=<a@b.example> to=<nobody@example.test> proto=ESMTP "
         "helo=<x>",
         E_REJ, 1, "192.0.2.9", NULL, "a@b.example", "nobody@example.test", 550,
         SMTPROBE_LR_RECIPIENT},
        {"Dec 07 05:21:00 mx postfix/smtpd[1]: NOQUEUE: reject: MAIL from "
         "unknown[192.0.2.9]: 552 5.3.4 Message size exceeds fixed limit; "
         "proto=ESMTP helo=<x>",
         E_REJ, 1, "192.0.2.9", NULL, NULL, NULL, 552, SMTPROBE_LR_SIZE},
        {"Dec 07 05:21:00 mx postfix/smtpd[1]: warning: Connection rate "
         "limit exceeded: 31 from unknown[192.0.2.9] for service smtp",
         E_REJ, 1, "192.0.2.9", NULL, NULL, NULL, 0, SMTPROBE_LR_RATE},
        /* warn mode is not a rejection */
        {"Dec 07 05:21:00 mx postfix/smtpd[1]: NOQUEUE: reject_warning: "
         "RCPT from unknown[192.0.2.9]: 554 5.7.1 Relay access denied; "
         "from=<a@b.example> to=<x@elsewhere.example>",
         E_NONE},
        {"Dec 07 05:21:00 mx postfix/cleanup[9]: 4F1A2: reject: header "
         "Subject: win money from unknown[192.0.2.9]; from=<a@b.example> "
         "to=<u@example.test> proto=ESMTP helo=<x>: 5.7.1 message content "
         "rejected",
         E_REJ, 1, "192.0.2.9", NULL, "a@b.example", "u@example.test", 0,
         SMTPROBE_LR_OTHER},
        {"Dec 07 05:27:55 mx postfix/discard[12929]: 2C9DAAB40B1: "
         "to=<bob@example.test>, relay=none, delay=0.02, "
         "delays=0.01/0.01/0/0, dsn=2.0.0, status=sent (test)",
         E_DLV, 1, NULL, NULL, NULL, "bob@example.test"},
        {"Dec 07 05:27:55 mx postfix/smtp[1]: 2C9DAAB40B1: "
         "to=<x@example.net>, orig_to=<y@example.test>, "
         "relay=mx.example.net[192.0.2.1]:25, delay=5, dsn=4.4.1, "
         "status=deferred (connect to mx.example.net[192.0.2.1]:25: "
         "Connection refused)",
         E_DEF, 1, NULL, NULL, NULL, "x@example.net"},
        {"Dec 07 05:27:55 mx postfix/smtp[1]: 2C9DAAB40B1: "
         "to=<x@example.net>, relay=mx.example.net[192.0.2.1]:25, "
         "dsn=5.1.1, status=bounced (host said: 550 5.1.1 no such user)",
         E_BNC, 1, NULL, NULL, NULL, "x@example.net"},
        {"Dec 07 05:20:59 mx postfix/qmgr[30669]: F065BAAE008: "
         "from=<alice@example.test>, size=689, nrcpt=1 (queue active)",
         E_NONE},
        {"Dec 07 05:20:59 mx postfix/master[30667]: daemon started -- "
         "version 3.7.11, configuration /etc/postfix",
         E_NONE},
};

static void test_lines(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct smtprobe_log_input in;
		struct smtprobe_log_event ev;

		memset(&in, 0, sizeof(in));
		in.ref_time = 1796601600; /* 2026-12-07 */
		enum smtprobe_log_format f =
		        smtprobe_log_parse(&in, r->line, strlen(r->line), &ev);
		if (f != SMTPROBE_LF_POSTFIX)
			fail_msg("%s: format %s", r->line,
			         smtprobe_log_format_name(f));
		if (ev.kind != r->kind)
			fail_msg("%s: kind %s, want %s", r->line,
			         smtprobe_log_kind_name(ev.kind),
			         smtprobe_log_kind_name(r->kind));
		if (r->kind == E_NONE)
			continue;
		assert_int_equal(ev.count, r->count);
		assert_true(ev.ts > 0);
		logst_str_or_none(r->line, "client", ev.client, r->client);
		logst_str_or_none(r->line, "user", ev.user, r->user);
		logst_str_or_none(r->line, "sender", ev.sender, r->sender);
		logst_str_or_none(r->line, "rcpt", ev.rcpt, r->rcpt);
		if (r->kind == E_REJ && ev.reject != r->reject)
			fail_msg("%s: reject %s, want %s", r->line,
			         smtprobe_log_reject_name(ev.reject),
			         smtprobe_log_reject_name(r->reject));
		if (r->code)
			assert_int_equal(ev.code, r->code);
		if (r->protocol) {
			logst_str_or_none(r->line, "protocol", ev.protocol,
			                  r->protocol);
			logst_str_or_none(r->line, "cipher", ev.cipher,
			                  r->cipher);
		}
	}
}

/* "SSL_accept error ...: -1", then the cause on the next line of the same
 * process: one failure, with the client of the first line */
static void test_tls_cause_on_the_next_line(void **state)
{
	static const char *const pairs[][2] = {
	        {"Dec 07 05:21:31 mx postfix/mx/smtpd[30672]: SSL_accept error "
	         "from unknown[127.0.0.50]: -1",
	         "Dec 07 05:21:31 mx postfix/mx/smtpd[30672]: warning: TLS "
	         "library problem: error:0A00009C:SSL routines::http "
	         "request:../ssl/record/ssl3_record.c:341:"},
	        {"Dec 07 05:21:34 mx postfix/mx/smtpd[30672]: SSL_accept error "
	         "from unknown[127.0.0.52]: -1",
	         "Dec 07 05:21:34 mx postfix/mx/smtpd[30672]: warning: TLS "
	         "library problem: error:0A000418:SSL routines::tlsv1 alert "
	         "unknown ca:../ssl/record/rec_layer_s3.c:1601:SSL alert "
	         "number 48:"},
	        {"Dec 07 05:21:34 mx postfix/mx/smtpd[30672]: SSL_accept error "
	         "from unknown[127.0.0.53]: -1",
	         "Dec 07 05:21:34 mx postfix/mx/smtpd[30672]: lost connection "
	         "after STARTTLS from unknown[127.0.0.53]"},
	};
	static const enum smtprobe_log_tls_cause cause[] = {
	        SMTPROBE_LT_NOT_TLS, SMTPROBE_LT_CLIENT_ALERT,
	        SMTPROBE_LT_CLOSED};
	static const char *const client[] = {"127.0.0.50", "127.0.0.52",
	                                     "127.0.0.53"};
	struct smtprobe_log_input in;
	struct smtprobe_log_event ev;

	(void)state;
	memset(&in, 0, sizeof(in));
	in.ref_time = 1796601600;
	for (size_t i = 0; i < 3; i++) {
		smtprobe_log_parse(&in, pairs[i][0], strlen(pairs[i][0]), &ev);
		assert_int_equal(ev.kind, E_NONE);
		smtprobe_log_parse(&in, pairs[i][1], strlen(pairs[i][1]), &ev);
		assert_int_equal(ev.kind, E_TLSF);
		assert_int_equal(ev.tls_cause, cause[i]);
		logst_str_or_none(pairs[i][1], "client", ev.client, client[i]);
		/* the "lost connection after STARTTLS" after a cause line is
		 * not a second failure */
		const char *lost =
		        "Dec 07 05:21:34 mx postfix/mx/smtpd[30672]: "
		        "lost connection after STARTTLS from "
		        "unknown[127.0.0.50]";
		smtprobe_log_parse(&in, lost, strlen(lost), &ev);
		assert_int_equal(ev.kind, E_NONE);
	}
}

/* the summary of a whole sample, as its traffic says it must be */
struct file_want {
	const char *names[2];
	uint64_t conn, auth_ok, auth_fail, tls_ok, tls_fail, rejects, relay,
	        login, delivered;
};

static void summary_line(struct smtprobe_log_input *in, const char *line,
                         size_t len, void *l)
{
	smtprobe_logs_line(l, in, line, len);
}

static struct smtprobe_logs *read_files(const char *const *names)
{
	struct smtprobe_logs *l = smtprobe_logs_new(NULL);

	assert_non_null(l);
	for (size_t k = 0; k < 2 && names[k]; k++)
		logst_each_line(names[k], 1796601600 + 86400 * 30, summary_line,
		                l);
	smtprobe_logs_finish(l);
	return l;
}

static void test_files(void **state)
{
	/* postfix.expected.json: 39 sessions, one of them Dovecot's LMTP
	 * (not in Postfix's log) and 10 readiness probes from 127.0.0.1 (11
	 * listeners, lmtp Dovecot's): 48 connects; AUTH 7 successes, 10
	 * failures; 20 handshakes + the probe of the implicit-TLS listener;
	 * 3 TLS failures; 10 rejections but the 530 to MAIL before STARTTLS
	 * is no reject: line (log_notes): 9 - 7 relay, 2 sender-login; 6
	 * messages, 5 delivered by Postfix (the LMTP one is Dovecot's). The
	 * syslog runs: the same plan, 11 probes (submission's on
	 * postfix-syslog: see its expected.json). */
	static const struct file_want files[] = {
	        {{"postfix.log", NULL}, 48, 7, 10, 21, 3, 9, 7, 2, 5},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		const struct file_want *w = &files[i];
		struct smtprobe_logs *l = read_files(w->names);
		struct smtprobe_logs_totals t;

		smtprobe_logs_totals(l, &t);
		assert_int_equal(t.events[E_CONN], w->conn);
		assert_int_equal(t.events[E_AOK], w->auth_ok);
		assert_int_equal(t.events[E_AFAIL], w->auth_fail);
		assert_int_equal(t.events[E_TLS], w->tls_ok);
		assert_int_equal(t.events[E_TLSF], w->tls_fail);
		assert_int_equal(t.events[E_REJ], w->rejects);
		assert_int_equal(t.rejects[SMTPROBE_LR_RELAY_DENIED], w->relay);
		assert_int_equal(t.rejects[SMTPROBE_LR_SENDER_LOGIN], w->login);
		assert_int_equal(t.events[E_DLV], w->delivered);
		assert_false(t.auth_from_authd);
		/* the failures by address, as sent */
		struct smtprobe_logs_row r[16];
		size_t n = smtprobe_logs_top(l, SMTPROBE_LT_AUTH_FAIL_CLIENT, r,
		                             16);
		assert_int_equal(n, 6);
		assert_string_equal(r[0].key, "127.0.0.20");
		assert_int_equal(r[0].count, 4);
		assert_int_equal(r[0].err, 0);
		char *json = smtprobe_logs_json(l, 10);
		assert_non_null(json);
		assert_non_null(strstr(json, "\"relay_denied\": 7"));
		free(json);
		smtprobe_logs_free(l);
	}
}

/* hostile lines: no crash, no read past the line (each ends at an
 * unreadable page), every field in the line or the session table */
static void test_hostile(void **state)
{
	static const char *const lines[] = {
	        "",
	        "Dec",
	        "Dec 07 05:20:59",
	        "Dec 07 05:20:59 ",
	        "Dec 07 05:20:59 mx",
	        "Dec 07 05:20:59 mx postfix/smtpd[",
	        "Dec 07 05:20:59 mx postfix/smtpd[1]:",
	        "Dec 07 05:20:59 mx postfix/smtpd[1]: connect from",
	        "Dec 07 05:20:59 mx postfix/smtpd[1]: connect from x[",
	        "Dec 07 05:20:59 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT",
	        "Dec 07 05:20:59 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT "
	        "from u[1.2.3.4]: 5",
	        "Dec 07 05:20:59 mx postfix/smtpd[1]: warning: x: SASL "
	        "authentication failed",
	        "Dec 07 05:20:59 mx postfix/smtpd[1]: SSL_accept error from",
	        "Dec 07 05:20:59 mx postfix/smtpd[1]: disconnect from x auth=",
	        "Dec 07 05:20:59 mx postfix/smtp[1]: Q: status=sent",
	        "Dec 07 05:20:59 mx postfix/cleanup[1]: Q: reject: header x",
	        "Dec 99 05:20:59 mx postfix/smtpd[1]: connect from x[1.2.3.4]",
	        "Xyz 07 05:20:59 mx postfix/smtpd[1]: connect from x[1.2.3.4]",
	        "2026-13-07T05:20:59Z mx postfix/smtpd[1]: connect from x[1]",
	        "Dec 07 05:20:59 mx postfix/smtpd[99999999999]: x",
	};
	static const char *const heads[] = {
	        "Dec 07 05:20:59 mx postfix/smtpd[1]: connect from [",
	};
	static const struct logst_rules rules = {SMTPROBE_LF_LAST, 1, 0};
	struct smtprobe_log_input in;

	(void)state;
	logst_fresh(&in, 1796601600);
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		logst_parse_guarded(&in, &rules, lines[i], strlen(lines[i]),
		                    NULL);
	/* 100 KB lines, and every byte value */
	logst_heads(&in, &rules, heads, 1, "a[]:;= <>", "a");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_lines),
	        cmocka_unit_test(test_tls_cause_on_the_next_line),
	        cmocka_unit_test(test_files),
	        cmocka_unit_test(test_hostile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
