/* test_logs_dovecot.c - Dovecot's log lines (lib/logs/dovecot.c), through
 * the dispatcher: real lines of tests/data/logs/dovecot.log (log_path) and
 * of the dovecot: lines in postfix-syslog*.log (syslog, RFC 3339 and
 * traditional), lines written from Dovecot 2.3's formats for what the
 * samples lack (imap/pop3/submission logins and their failures, TLS
 * handshake failures, sieve, LDA, failed saves), the totals of the
 * Dovecot lines of the three files against their .expected.json, and
 * hostile lines: every prefix of every sample line, 100 KB lines, all
 * byte values, each ending at an unreadable page (logs_test.h). */
#include "logs_int.h"
#include "logs_test.h"

#include "banned.h"

#define REF_TIME 1796621400

/* the lines of w in order in one input; no Dovecot event has a code or a
 * sender */
static void run(const struct logst_want *w, size_t n)
{
	static struct smtprobe_log_input in;
	struct smtprobe_log_event ev;

	logst_fresh(&in, REF_TIME);
	for (size_t i = 0; i < n; i++) {
		logst_check(&in, &w[i], &ev);
		assert_int_equal(ev.code, 0);
		assert_int_equal(ev.sender.n, 0);
	}
}

#define DC SMTPROBE_LF_DOVECOT

/* dovecot.log: Dovecot's own log_path file */
static void test_log_path(void **state)
{
	static const struct logst_want w[] = {
	        {.line = "Dec 07 05:27:52 master: Info: Dovecot v2.3.19.1 "
	                 "(9b53102964) starting up for lmtp (core dumps "
	                 "disabled)",
	         .format = DC},
	        /* the harness's readiness probe */
	        {.line = "Dec 07 05:27:52 lmtp(12519): Info: Connect from "
	                 "127.0.0.1",
	         .format = DC,
	         .kind = SMTPROBE_LE_CONNECT,
	         .client = "127.0.0.1"},
	        {.line = "Dec 07 05:27:52 lmtp(12519): Info: Disconnect from "
	                 "127.0.0.1: Connection closed (state=GREETING)",
	         .format = DC,
	         .client = ""},
	        {.line = "Dec 07 05:27:55 auth: Info: "
	                 "passwd-file(alice,127.0.0.20): Password mismatch",
	         .format = DC,
	         .kind = SMTPROBE_LE_AUTH_FAIL,
	         .client = "127.0.0.20",
	         .user = "alice",
	         .text = "Password mismatch",
	         .authd = 1},
	        /* the penalty-delayed request: no user, no address */
	        {.line = "Dec 07 05:28:19 auth: Error: auth client 0 "
	                 "disconnected with 1 pending requests: EOF",
	         .format = DC},
	        {.line = "Dec 07 05:28:19 auth: Info: "
	                 "passwd-file(admin,127.0.0.22): unknown user",
	         .format = DC,
	         .kind = SMTPROBE_LE_AUTH_FAIL,
	         .client = "127.0.0.22",
	         .user = "admin",
	         .text = "unknown user",
	         .authd = 1},
	        {.line = "Dec 07 05:28:27 lmtp(12519): Info: Connect from "
	                 "127.0.0.43",
	         .format = DC,
	         .kind = SMTPROBE_LE_CONNECT,
	         .client = "127.0.0.43"},
	        {.line = "Dec 07 05:28:27 "
	                 "lmtp(alice)<12519><OMugAftDFmvnMAAAg+zDdQ>: Info: "
	                 "msgid=<postfix-33@client.example.net>: saved mail "
	                 "to INBOX",
	         .format = DC,
	         .kind = SMTPROBE_LE_DELIVERED,
	         .client = "",
	         .rcpt = "alice",
	         .text = "saved mail to INBOX"},
	        {.line = "Dec 07 05:28:32 master: Warning: Killed with signal "
	                 "15 (by pid=14683 uid=0 code=kill)",
	         .format = DC},
	};

	(void)state;
	run(w, sizeof(w) / sizeof(w[0]));
}

/* the dovecot: lines of postfix-syslog.log and its traditional twin */
static void test_syslog(void **state)
{
	static const struct logst_want w[] = {
	        {.line = "2026-12-07T05:28:36.533043+00:00 mx dovecot: "
	                 "lmtp(14839): Connect from 127.0.0.1",
	         .format = DC,
	         .kind = SMTPROBE_LE_CONNECT,
	         .ts = 1796621316,
	         .client = "127.0.0.1"},
	        {.line = "2026-12-07T05:28:39.612227+00:00 mx dovecot: auth: "
	                 "passwd-file(alice,127.0.0.20): Password mismatch",
	         .format = DC,
	         .kind = SMTPROBE_LE_AUTH_FAIL,
	         .ts = 1796621319,
	         .client = "127.0.0.20",
	         .user = "alice",
	         .text = "Password mismatch",
	         .authd = 1},
	        {.line = "2026-12-07T05:29:03.364662+00:00 mx dovecot: auth: "
	                 "Error: auth client 0 disconnected with 1 pending "
	                 "requests: EOF",
	         .format = DC},
	        {.line = "2026-12-07T05:29:11.080885+00:00 mx dovecot: "
	                 "lmtp(alice)<14839><gH0cBCdEFmv3OQAAg+zDdQ>: "
	                 "msgid=<postfix-syslog-33@client.example.net>: saved "
	                 "mail to INBOX",
	         .format = DC,
	         .kind = SMTPROBE_LE_DELIVERED,
	         .ts = 1796621351,
	         .rcpt = "alice"},
	        {.line = "2026-12-07T05:29:16.858790+00:00 mx dovecot: master: "
	                 "Warning: Killed with signal 15 (by pid=17591 uid=0 "
	                 "code=kill)",
	         .format = DC},
	        {.line = "Dec  7 05:29:03 mx dovecot: auth: "
	                 "passwd-file(bob,127.0.0.21): Password mismatch",
	         .format = DC,
	         .kind = SMTPROBE_LE_AUTH_FAIL,
	         .client = "127.0.0.21",
	         .user = "bob",
	         .authd = 1},
	        {.line = "Dec  7 05:29:11 mx dovecot: lmtp(14839): Disconnect "
	                 "from 127.0.0.43: Logged out (state=READY)",
	         .format = DC},
	};

	(void)state;
	run(w, sizeof(w) / sizeof(w[0]));
}

/* what the samples lack, from Dovecot 2.3's formats (login_log_format
 * "%$: %s" with the default elements, client_get_extra_disconnect_reason,
 * auth_verbose's "driver(user,rip[,<session>])", deliver_log_format) */
static void test_written(void **state)
{
	static const struct logst_want w[] = {
	        {.line = "Dec  7 06:00:00 imap-login: Info: Login: "
	                 "user=<alice>, method=PLAIN, rip=192.0.2.10, "
	                 "lip=192.0.2.1, mpid=4242, TLS, session=<abcd>",
	         .format = DC,
	         .kind = SMTPROBE_LE_AUTH_OK,
	         .client = "192.0.2.10",
	         .user = "alice",
	         .text = ""},
	        {.line = "Dec  7 06:00:01 imap-login: Info: Disconnected "
	                 "(auth failed, 3 attempts in 12 secs): "
	                 "user=<alice>, method=PLAIN, rip=192.0.2.20, "
	                 "lip=192.0.2.1, TLS, session=<efgh>",
	         .format = DC,
	         .kind = SMTPROBE_LE_AUTH_FAIL,
	         .count = 3,
	         .client = "192.0.2.20",
	         .user = "alice",
	         .text = "auth failed, 3 attempts in 12 secs"},
	        {.line = "Dec  7 06:00:02 pop3-login: Info: Aborted login "
	                 "(auth failed, 1 attempts in 2 secs): user=<admin>, "
	                 "method=LOGIN, rip=192.0.2.21, lip=192.0.2.1, "
	                 "session=<ijkl>",
	         .format = DC,
	         .kind = SMTPROBE_LE_AUTH_FAIL,
	         .client = "192.0.2.21",
	         .user = "admin"},
	        {.line = "2026-12-07T06:00:03+00:00 mx dovecot: "
	                 "submission-login: Login aborted: Connection closed "
	                 "(auth failed, 1 attempts in 2 secs) (auth_failed): "
	                 "user=<bob>, method=PLAIN, rip=192.0.2.22, "
	                 "lip=192.0.2.1, TLS, session=<mnop>",
	         .format = DC,
	         .kind = SMTPROBE_LE_AUTH_FAIL,
	         .ts = 1796623203,
	         .client = "192.0.2.22",
	         .user = "bob"},
	        {.line = "Dec  7 06:00:04 imap-login: Info: Disconnected (user "
	                 "disabled): user=<carol>, method=PLAIN, "
	                 "rip=192.0.2.23, lip=192.0.2.1, session=<qrst>",
	         .format = DC,
	         .kind = SMTPROBE_LE_AUTH_FAIL,
	         .user = "carol",
	         .text = "user disabled"},
	        {.line = "Dec  7 06:00:05 imap-login: Info: Disconnected (no "
	                 "auth attempts in 0 secs): user=<>, rip=192.0.2.50, "
	                 "lip=192.0.2.1, TLS handshaking: SSL_accept() "
	                 "failed: error:0A00009C:SSL routines::http request, "
	                 "session=<uvwx>",
	         .format = DC,
	         .kind = SMTPROBE_LE_TLS_FAIL,
	         .client = "192.0.2.50",
	         .user = "",
	         .text = "SSL_accept() failed: error:0A00009C:SSL "
	                 "routines::http request",
	         .cause = SMTPROBE_LT_NOT_TLS},
	        {.line = "Dec  7 06:00:06 imap-login: Info: Disconnected (no "
	                 "auth attempts in 0 secs): user=<>, rip=192.0.2.51, "
	                 "lip=192.0.2.1, TLS handshaking: Disconnected, "
	                 "session=<yzab>",
	         .format = DC,
	         .kind = SMTPROBE_LE_TLS_FAIL,
	         .client = "192.0.2.51",
	         .text = "Disconnected",
	         .cause = SMTPROBE_LT_CLOSED},
	        {.line = "Dec  7 06:00:07 imap-login: Info: Disconnected (no "
	                 "auth attempts in 0 secs): user=<>, rip=192.0.2.52, "
	                 "lip=192.0.2.1, TLS handshaking: SSL_accept() "
	                 "failed: error:0A000416:SSL routines::sslv3 alert "
	                 "certificate unknown: SSL alert number 46, "
	                 "session=<cdef>",
	         .format = DC,
	         .kind = SMTPROBE_LE_TLS_FAIL,
	         .cause = SMTPROBE_LT_CLIENT_ALERT},
	        /* no attempt, a refused plaintext attempt: nothing */
	        {.line = "Dec  7 06:00:08 imap-login: Info: Disconnected (no "
	                 "auth attempts in 0 secs): user=<>, rip=192.0.2.60, "
	                 "lip=192.0.2.1, session=<ghij>",
	         .format = DC,
	         .client = "",
	         .user = ""},
	        {.line = "Dec  7 06:00:09 imap-login: Info: Disconnected "
	                 "(tried to use disallowed plaintext auth): user=<>, "
	                 "rip=192.0.2.61, lip=192.0.2.1, session=<klmn>",
	         .format = DC},
	        /* auth_verbose with a session id; a user name with a comma */
	        {.line = "Dec  7 06:00:10 auth: Info: "
	                 "passwd-file(carol,192.0.2.25,<AbCdEf>): unknown user",
	         .format = DC,
	         .kind = SMTPROBE_LE_AUTH_FAIL,
	         .client = "192.0.2.25",
	         .user = "carol",
	         .authd = 1},
	        {.line = "Dec  7 06:00:11 auth: Info: "
	                 "passwd-file(a,b,192.0.2.26): Password mismatch",
	         .format = DC,
	         .kind = SMTPROBE_LE_AUTH_FAIL,
	         .client = "192.0.2.26",
	         .user = "a,b",
	         .authd = 1},
	        {.line = "Dec  7 06:00:12 auth-worker(4321): Info: "
	                 "pam(alice,192.0.2.27,<x>): pam_authenticate() "
	                 "failed: Authentication failure (Password "
	                 "mismatch?)",
	         .format = DC,
	         .kind = SMTPROBE_LE_AUTH_FAIL,
	         .client = "192.0.2.27",
	         .user = "alice",
	         .authd = 1},
	        /* auth_verbose_passwords: the password stays out */
	        {.line = "Dec  7 06:00:13 auth: Info: "
	                 "passwd-file(alice,192.0.2.28): Password mismatch "
	                 "(given password: hunter2)",
	         .format = DC,
	         .kind = SMTPROBE_LE_AUTH_FAIL,
	         .text = "Password mismatch",
	         .authd = 1},
	        {.line = "Dec  7 06:00:14 auth: Debug: "
	                 "passwd-file(alice,192.0.2.28): Password mismatch",
	         .format = DC},
	        {.line = "Dec  7 06:00:15 auth: Info: "
	                 "passwd-file(alice,192.0.2.28): lookup succeeded",
	         .format = DC},
	        {.line = "Dec  7 06:00:16 auth: Info: (alice): unknown user",
	         .format = DC},
	        /* a UNIX socket is no client */
	        {.line = "Dec  7 06:00:17 lmtp(4711): Info: Connect from local",
	         .format = DC},
	        {.line = "Dec  7 06:00:18 lda(bob)<4712><s1>: Info: sieve: "
	                 "msgid=<m1@example.net>: stored mail into mailbox "
	                 "'INBOX'",
	         .format = DC,
	         .kind = SMTPROBE_LE_DELIVERED,
	         .rcpt = "bob"},
	        {.line = "Dec  7 06:00:19 lmtp(carol)<4713><s2>: Error: "
	                 "msgid=<m2@example.net>: save failed to INBOX: Quota "
	                 "exceeded (mailbox for user is full)",
	         .format = DC,
	         .kind = SMTPROBE_LE_BOUNCED,
	         .rcpt = "carol"},
	        {.line = "Dec  7 06:00:20 lmtp(carol)<4713><s3>: Error: "
	                 "msgid=<m3@example.net>: save failed to INBOX: "
	                 "Internal error occurred.",
	         .format = DC,
	         .kind = SMTPROBE_LE_DEFERRED,
	         .rcpt = "carol",
	         .text = "save failed to INBOX: Internal error occurred."},
	        /* a delivery logged under the process's pid: no user */
	        {.line = "Dec  7 06:00:21 lmtp(4714): Info: "
	                 "msgid=<m4@example.net>: saved mail to INBOX",
	         .format = DC,
	         .kind = SMTPROBE_LE_DELIVERED,
	         .rcpt = ""},
	        {.line = "2026-12-07T06:00:22+00:00 mx dovecot: imap(alice)"
	                 "<4715><s4>: Logged out in=10 out=20",
	         .format = DC},
	};

	(void)state;
	run(w, sizeof(w) / sizeof(w[0]));
}

/* ---- whole files ---- */

/* dovecot.expected.json (the traffic of the Postfix run; Dovecot is its
 * SASL server and LMTP): connections: the LMTP session from 127.0.0.43
 * plus the readiness probe of the lmtp listener (127.0.0.1) = 2 (the
 * other 38 sessions are Postfix's); AUTH failures 10, of which the 4th
 * from 127.0.0.20 never reached the passdb (auth penalty: "auth client 0
 * disconnected with 1 pending requests") = 9 lines, all the auth
 * process's; no AUTH success line (auth_verbose logs failures); 1 LMTP
 * delivery. postfix-syslog*.expected.json: the same plan in another run,
 * the dovecot: lines among Postfix's (17 each). */
static void test_files(void **state)
{
	static const char *const files[] = {"dovecot.log", "postfix-syslog.log",
	                                    "postfix-syslog-traditional.log"};
	struct logst_totals t;
	const uint64_t *k = t.kind;

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		memset(&t, 0, sizeof(t));
		logst_totals(files[i], REF_TIME, DC, 0, &t);
		assert_int_equal(t.lines, 17);
		assert_int_equal(k[SMTPROBE_LE_CONNECT], 1 + 1);
		assert_int_equal(k[SMTPROBE_LE_AUTH_FAIL], 10 - 1);
		assert_int_equal(t.authd, 9);
		assert_int_equal(k[SMTPROBE_LE_AUTH_OK], 0);
		assert_int_equal(k[SMTPROBE_LE_DELIVERED], 1);
		assert_int_equal(k[SMTPROBE_LE_TLS_OK] +
		                         k[SMTPROBE_LE_TLS_FAIL] +
		                         k[SMTPROBE_LE_REJECT] +
		                         k[SMTPROBE_LE_DEFERRED] +
		                         k[SMTPROBE_LE_BOUNCED],
		                 0);
		assert_int_equal(k[SMTPROBE_LE_NONE], 17 - 2 - 9 - 1);
	}
}

/* ---- hostile lines ---- */

/* every field of a Dovecot event in its line (Dovecot keeps no state);
 * the other parsers' events are theirs */
static const struct logst_rules rules = {DC, 0, 0};

static void test_hostile(void **state)
{
	static struct smtprobe_log_input in;
	static const char *const heads[] = {
	        "",
	        "Dec 07 05:27:52",
	        "Dec 07 05:27:52 ",
	        "Dec 07 05:27:52 auth: Info: ",
	        "Dec 07 05:27:52 auth: Info: passwd-file(",
	        "Dec 07 05:27:52 auth: Info: passwd-file(a,",
	        "Dec 07 05:27:52 auth: Info: passwd-file(a,b): ",
	        "Dec 07 05:27:52 imap-login: Info: Login: user=<",
	        "Dec 07 05:27:52 imap-login: Info: x (auth failed, ",
	        "Dec 07 05:27:52 imap-login: Info: x, TLS handshaking: ",
	        "Dec 07 05:27:52 lmtp(: Info: Connect from ",
	        "Dec 07 05:27:52 lmtp(: Info: saved mail to ",
	        "2026-12-07T05:28:39.612227+00:00",
	        "2026-12-07T05:28:39.612227+00:00 mx dovecot: ",
	        "2026-12-07T05:28:39.612227+00:00 mx dovecot: auth: ",
	        "2026-12-07T05:28:39Z mx dovecot: lmtp(alice)<1><2>: ",
	};

	(void)state;
	logst_fresh(&in, REF_TIME);
	logst_heads(&in, &rules, heads, sizeof(heads) / sizeof(heads[0]), " :",
	            "(,");
	logst_file_prefixes("dovecot.log", REF_TIME, &rules);
	logst_file_prefixes("postfix-syslog.log", REF_TIME, &rules);
	logst_file_prefixes("postfix-syslog-traditional.log", REF_TIME, &rules);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_log_path), cmocka_unit_test(test_syslog),
	        cmocka_unit_test(test_written),  cmocka_unit_test(test_files),
	        cmocka_unit_test(test_hostile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
