/* test_relay.c - table-driven tests of the relay audit's pure parts: the
 * reply classifier over real replies of Postfix, Exim, Sendmail,
 * OpenSMTPD, Exchange, Gmail and Microsoft 365 (RELAY-TESTS.md, "What
 * servers answer"), the catalogue expansion for one listener, the local
 * domain guess, and the per-test and per-listener verdicts on hand-built
 * results. Replies are parsed from the bytes a server sends, so multi-line
 * replies reach the classifier as they would in a session. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "smtprobe/discover.h"
#include "smtprobe/relay.h"

#include "banned.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define MAXTESTS 128

#define ACC SMTPROBE_OUT_ACCEPTED
#define REF SMTPROBE_OUT_REFUSED
#define TMP SMTPROBE_OUT_TEMPFAIL
#define INC SMTPROBE_OUT_INCONCLUSIVE
#define SKP SMTPROBE_OUT_SKIPPED

#define K_NONE   SMTPROBE_RK_NONE
#define K_RELAY  SMTPROBE_RK_RELAY
#define K_AUTH   SMTPROBE_RK_AUTH
#define K_TLS    SMTPROBE_RK_TLS
#define K_SENDER SMTPROBE_RK_SENDER
#define K_RCPT   SMTPROBE_RK_RECIPIENT
#define K_DOMAIN SMTPROBE_RK_DOMAIN
#define K_SYNTAX SMTPROBE_RK_SYNTAX
#define K_GREY   SMTPROBE_RK_GREYLIST
#define K_CLIENT SMTPROBE_RK_CLIENT
#define K_OTHER  SMTPROBE_RK_OTHER

/* ---- smtprobe_refusal_classify ---------------------------------------- */

/* A reply from the wire (raw), or a local one (code, enh, text) when raw
 * is NULL, or no reply at all when code is NOREPLY. */
#define NOREPLY -1000

struct ccase {
	const char *name;
	const char *raw;
	int code;
	const char *enh;
	const char *text;
	enum smtprobe_reply_outcome out;
	enum smtprobe_refusal_kind kind;
};

#define WIRE(n, r, o, k)                                                       \
	{                                                                      \
		.name = (n), .raw = (r), .out = (o), .kind = (k)               \
	}
#define LOCAL(n, c, e, t, o, k)                                                \
	{                                                                      \
		.name = (n), .code = (c), .enh = (e), .text = (t), .out = (o), \
		.kind = (k)                                                    \
	}

static const struct ccase ccases[] = {
        /* Postfix */
        WIRE("postfix relay",
             "554 5.7.1 <smtprobe-relay-test@relay-test.invalid>: Relay "
             "access denied\r\n",
             REF, K_RELAY),
        WIRE("postfix defer_unauth_destination",
             "454 4.7.1 <smtprobe-relay-test@relay-test.invalid>: Relay "
             "access denied\r\n",
             TMP, K_RELAY),
        WIRE("postfix starttls first",
             "530 5.7.0 Must issue a STARTTLS command first\r\n", REF, K_TLS),
        WIRE("postfix auth failed",
             "535 5.7.8 Error: authentication failed: authentication "
             "failure\r\n",
             REF, K_AUTH),
        WIRE("postfix sender not owned",
             "553 5.7.1 <bob@example.test>: Sender address rejected: not "
             "owned by user alice\r\n",
             REF, K_SENDER),
        WIRE("postfix greylisted",
             "450 4.2.0 <smtprobe@example.test>: Recipient address "
             "rejected: Greylisted, see "
             "http://postgrey.schweikert.ch/help/example.test.html\r\n",
             TMP, K_GREY),
        WIRE("postfix too many errors",
             "421 4.7.0 mx.example.test Error: too many errors\r\n", INC,
             K_OTHER),
        WIRE("postfix user unknown",
             "550 5.1.1 <bob@example.test>: Recipient address rejected: "
             "User unknown in local recipient table\r\n",
             REF, K_RCPT),
        WIRE("postfix client host rejected",
             "554 5.7.1 <unknown[192.0.2.1]>: Client host rejected: Access "
             "denied\r\n",
             REF, K_CLIENT),
        WIRE("postfix too many recipients",
             "452 4.5.3 Error: too many recipients\r\n", INC, K_OTHER),

        /* Exim */
        WIRE("exim relay", "550 relay not permitted\r\n", REF, K_RELAY),
        WIRE("exim acl auth required",
             "550 Authentication is required to send mail\r\n", REF, K_AUTH),
        WIRE("exim default acl deny", "550 Administrative prohibition\r\n", REF,
             K_OTHER),
        WIRE("exim auth failed", "535 Incorrect authentication data\r\n", REF,
             K_AUTH),
        WIRE("exim takes a spoofed sender", "250 Accepted\r\n", ACC, K_NONE),
        WIRE("exim temporary local problem",
             "451 Temporary local problem - please try later\r\n", INC,
             K_OTHER),
        WIRE("exim too many nonmail commands",
             "554 Too many nonmail commands\r\n", INC, K_OTHER),

        /* Sendmail */
        WIRE("sendmail relaying denied",
             "550 5.7.1 <smtprobe-relay-test@relay-test.invalid>... "
             "Relaying denied\r\n",
             REF, K_RELAY),
        WIRE("sendmail auth required", "530 5.7.0 Authentication required\r\n",
             REF, K_AUTH),
        WIRE("sendmail auth failed", "535 5.7.0 authentication failed\r\n", REF,
             K_AUTH),
        WIRE("sendmail takes a spoofed sender",
             "250 2.1.0 <bob@example.test>... Sender ok\r\n", ACC, K_NONE),
        WIRE("sendmail too many bad recipients",
             "421 4.7.0 mx.example.test Too many bad recipients\r\n", INC,
             K_OTHER),
        WIRE("sendmail user unknown",
             "550 5.1.1 <bob@example.test>... User unknown\r\n", REF, K_RCPT),

        /* OpenSMTPD */
        WIRE("opensmtpd relay", "550 Invalid recipient\r\n", REF, K_RCPT),
        WIRE("opensmtpd starttls first",
             "530 5.5.1 Invalid command: Must issue a STARTTLS command "
             "first\r\n",
             REF, K_TLS),
        WIRE("opensmtpd auth failed", "535 Authentication failed\r\n", REF,
             K_AUTH),
        WIRE("opensmtpd sender rejected at MAIL", "530 Sender rejected\r\n",
             REF, K_SENDER),
        WIRE("opensmtpd temporary failure", "451 Temporary failure\r\n", INC,
             K_OTHER),

        /* Exchange */
        WIRE("exchange unable to relay, 5.7.54",
             "550 5.7.54 SMTP; Unable to relay recipient in non-accepted "
             "domain\r\n",
             REF, K_RELAY),
        WIRE("exchange unable to relay, older", "550 5.7.1 Unable to relay\r\n",
             REF, K_RELAY),
        WIRE("exchange client not authenticated",
             "530 5.7.57 SMTP; Client was not authenticated to send "
             "anonymous mail during MAIL FROM\r\n",
             REF, K_AUTH),
        WIRE("exchange starttls required (451 with 5.7.3)",
             "451 5.7.3 STARTTLS is required to send mail\r\n", TMP, K_TLS),
        WIRE("exchange auth unsuccessful",
             "535 5.7.3 Authentication unsuccessful\r\n", REF, K_AUTH),
        WIRE("exchange send as",
             "550 5.7.60 SMTP; Client does not have permissions to send as "
             "this sender\r\n",
             REF, K_SENDER),
        WIRE("exchange service not available",
             "421 4.3.2 Service not available\r\n", INC, K_OTHER),

        /* Gmail */
        WIRE("gmail relay denied",
             "550-5.7.0 Mail relay denied [192.0.2.1]. Invalid credentials "
             "for\r\n"
             "550-5.7.0 relay for one of the domains in: example.test (as "
             "obtained from\r\n"
             "550-5.7.0 HELO and MAIL FROM). Email is being sent from a "
             "domain or IP\r\n"
             "550 5.7.0 address which isn't registered in your Workspace "
             "account. - gsmtp\r\n",
             REF, K_RELAY),
        WIRE("gmail auth required",
             "530-5.7.0 Authentication Required. For more information, go "
             "to\r\n"
             "530 5.7.0  https://support.google.com/mail/?p=WantAuthError "
             "a1-20020a05 - gsmtp\r\n",
             REF, K_AUTH),
        WIRE("gmail starttls first",
             "530 5.7.0 Must issue a STARTTLS command first. a1-20020a05 - "
             "gsmtp\r\n",
             REF, K_TLS),
        WIRE("gmail bad credentials",
             "535-5.7.8 Username and Password not accepted. For more "
             "information, go to\r\n"
             "535 5.7.8  https://support.google.com/mail/?p=BadCredentials "
             "a1-20020a05 - gsmtp\r\n",
             REF, K_AUTH),
        WIRE("gmail no such user",
             "550-5.1.1 The email account that you tried to reach does not "
             "exist. Please try\r\n"
             "550-5.1.1 double-checking the recipient's email address for "
             "typos or\r\n"
             "550 5.1.1  https://support.google.com/mail/?p=NoSuchUser "
             "a1-20020a05 - gsmtp\r\n",
             REF, K_RCPT),
        WIRE("gmail ip not authorized",
             "550-5.7.1 [192.0.2.1] The IP you're using to send mail is not "
             "authorized to\r\n"
             "550-5.7.1 send email directly to our servers. Please use the "
             "SMTP relay at your\r\n"
             "550 5.7.1 service provider instead. - gsmtp\r\n",
             REF, K_CLIENT),
        WIRE("gmail rate limited",
             "421-4.7.0 [192.0.2.1] Our system has detected an unusual rate "
             "of\r\n"
             "421 4.7.0 unsolicited mail originating from your IP address. "
             "- gsmtp\r\n",
             INC, K_OTHER),
        WIRE("gmail receiving too quickly",
             "450-4.2.1 The user you are trying to contact is receiving mail "
             "too quickly.\r\n"
             "450 4.2.1 Please resend your message at a later time. - "
             "gsmtp\r\n",
             INC, K_OTHER),

        /* Microsoft 365 */
        WIRE("m365 relay access denied",
             "550 5.7.64 TenantAttribution; Relay Access Denied "
             "[SN1NAM02FT011.eop-nam02.prod.protection.outlook.com]\r\n",
             REF, K_RELAY),
        WIRE("m365 client not authenticated",
             "530 5.7.57 Client not authenticated to send mail. "
             "[AM0PR01CA0001.eurprd01.prod.exchangelabs.com]\r\n",
             REF, K_AUTH),
        WIRE("m365 smtp auth disabled",
             "535 5.7.139 Authentication unsuccessful, "
             "SmtpClientAuthentication is disabled for the Tenant.\r\n",
             REF, K_AUTH),
        WIRE("m365 recipient not found",
             "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient "
             "bob@example.test not found by SMTP address lookup\r\n",
             REF, K_RCPT),
        WIRE("m365 client blocked",
             "550 5.7.1 Service unavailable, Client host [192.0.2.1] blocked "
             "using Spamhaus.\r\n",
             REF, K_CLIENT),
        WIRE("m365 server busy (4.7.x is policy)",
             "451 4.7.500 Server busy. Please try again later from "
             "[192.0.2.1]. (S77719)\r\n",
             TMP, K_OTHER),

        /* the brief's list, as short replies */
        WIRE("greylisted", "450 4.2.0 Greylisted, see the help page\r\n", TMP,
             K_GREY),
        WIRE("greylisting in action",
             "451 4.7.1 Greylisting in action, please come back later\r\n", TMP,
             K_GREY),
        WIRE("too many errors", "421 4.7.0 Too many errors\r\n", INC, K_OTHER),
        WIRE("temporary local problem names no policy",
             "451 4.3.0 Temporary local problem\r\n", INC, K_OTHER),
        WIRE("insufficient storage",
             "452 4.3.1 Insufficient system storage\r\n", INC, K_OTHER),
        WIRE("relay access denied, temporary",
             "454 4.7.1 Relay access denied\r\n", TMP, K_RELAY),
        WIRE("rcpt ok", "250 2.1.5 Ok\r\n", ACC, K_NONE),
        WIRE("251 will forward",
             "251 2.1.5 User not local; will forward to "
             "<alice@example.org>\r\n",
             ACC, K_NONE),
        WIRE("354 go ahead", "354 End data with <CR><LF>.<CR><LF>\r\n", ACC,
             K_NONE),
        WIRE("starttls first",
             "530 5.7.0 Must issue a STARTTLS command first\r\n", REF, K_TLS),
        WIRE("auth required", "530 5.7.0 Authentication required\r\n", REF,
             K_AUTH),
        WIRE("sender not owned",
             "553 5.7.1 Sender address rejected: not owned by user alice\r\n",
             REF, K_SENDER),
        WIRE("user unknown", "550 5.1.1 User unknown\r\n", REF, K_RCPT),
        WIRE("domain not found, temporary",
             "450 4.1.2 Recipient address rejected: Domain not found\r\n", TMP,
             K_DOMAIN),
        WIRE("bad recipient syntax",
             "501 5.1.3 Bad recipient address syntax\r\n", REF, K_SYNTAX),
        WIRE("client host rejected", "554 5.7.1 Client host rejected\r\n", REF,
             K_CLIENT),

        /* the telling word on a later line */
        WIRE("multi-line, relay on line 2",
             "550-5.7.1 Sorry, we do not\r\n"
             "550 5.7.1 relay for unauthenticated clients\r\n",
             REF, K_RELAY),
        WIRE("multi-line, greylisted on line 2",
             "451-4.7.1 Please try again later:\r\n"
             "451 4.7.1 you are greylisted for 300 seconds\r\n",
             TMP, K_GREY),
        WIRE("multi-line, starttls on line 3",
             "530-5.7.0 Hello\r\n530-5.7.0 this is a submission port\r\n"
             "530 5.7.0 Must issue a STARTTLS command first\r\n",
             REF, K_TLS),
        WIRE("multi-line without enhanced code",
             "550-Access denied\r\n550 User unknown\r\n", REF, K_RCPT),

        /* case does not matter */
        WIRE("upper case relay", "554 5.7.1 RELAY ACCESS DENIED\r\n", REF,
             K_RELAY),
        WIRE("mixed case relaying", "550 5.7.1 ReLaYiNg DeNiEd\r\n", REF,
             K_RELAY),
        WIRE("lower case starttls",
             "530 5.7.0 must issue a starttls command first\r\n", REF, K_TLS),
        WIRE("mixed case greylist", "450 4.2.0 GrEyLiStEd, come back later\r\n",
             TMP, K_GREY),
        WIRE("upper case user unknown", "550 5.1.1 USER UNKNOWN\r\n", REF,
             K_RCPT),

        /* no enhanced code: class and text only */
        WIRE("no enhanced: relay", "554 Relay access denied\r\n", REF, K_RELAY),
        WIRE("no enhanced: relay, temporary", "454 Relay access denied\r\n",
             TMP, K_RELAY),
        WIRE("no enhanced: 4xx names no policy", "450 Try again later\r\n", INC,
             K_OTHER),
        WIRE("no enhanced: mailbox unavailable",
             "550 Requested action not taken: mailbox unavailable\r\n", REF,
             K_RCPT),
        WIRE("no enhanced: auth required", "530 Authentication required\r\n",
             REF, K_AUTH),
        WIRE("no enhanced: unrecognized command",
             "500 Command unrecognized\r\n", REF, K_SYNTAX),
        WIRE("no enhanced: accepted", "250 OK\r\n", ACC, K_NONE),

        /* Replies that echo our own test addresses: the local part
         * "smtprobe-relay-test", the external domain "relay-test.invalid"
         * and the HELO name "relay-audit.smtprobe.invalid" all contain
         * "relay"; the classifier ignores what is inside <...>. A domain
         * that does not resolve is kind domain whether the sender's or the
         * recipient's (it proves nothing about the relay rule). */
        WIRE("echo: user unknown for the random local part",
             "550 5.1.1 <smtprobe-relay-test-4711@example.test>: Recipient "
             "address rejected: User unknown in local recipient table\r\n",
             REF, K_RCPT),
        WIRE("echo: temporary lookup failure",
             "451 4.3.0 <smtprobe-relay-test@relay-test.invalid>: Temporary "
             "lookup failure\r\n",
             INC, K_OTHER),
        WIRE("echo: recipient domain not found",
             "450 4.1.2 <smtprobe-relay-test@relay-test.invalid>: Recipient "
             "address rejected: Domain not found\r\n",
             TMP, K_DOMAIN),
        WIRE("echo: sender domain not found",
             "450 4.1.8 <smtprobe-relay-test@relay-test.invalid>: Sender "
             "address rejected: Domain not found\r\n",
             TMP, K_DOMAIN),
        WIRE("echo: helo host not found",
             "450 4.7.1 <relay-audit.smtprobe.invalid>: Helo command "
             "rejected: Host not found\r\n",
             TMP, K_CLIENT),
        WIRE("helo host not found",
             "450 4.7.1 <client.example.org>: Helo command rejected: Host not "
             "found\r\n",
             TMP, K_CLIENT),
        WIRE("user unknown in relay recipient table",
             "550 5.1.1 <bob@example.test>: Recipient address rejected: User "
             "unknown in relay recipient table\r\n",
             REF, K_RCPT),

        /* local replies, invalid codes and boundaries */
        LOCAL("local 250", 250, "2.0.0", "ok", ACC, K_NONE),
        LOCAL("local 200, lowest valid", 200, NULL, "ok", ACC, K_NONE),
        LOCAL("local 599, highest valid", 599, NULL, "relay denied", REF,
              K_RELAY),
        LOCAL("local 454 4.7.1", 454, "4.7.1", "Relay access denied", TMP,
              K_RELAY),
        LOCAL("local 4xx with a 4.7 code and plain text", 450, "4.7.0",
              "try later", TMP, K_OTHER),
        LOCAL("code 0", 0, NULL, "", INC, K_NONE),
        LOCAL("code 999", 999, "5.7.1", "Relay access denied", INC, K_NONE),
        LOCAL("code 199", 199, NULL, "relay", INC, K_NONE),
        LOCAL("code 600", 600, NULL, "relay", INC, K_NONE),
        LOCAL("code -1", -1, NULL, "relay", INC, K_NONE),
        LOCAL("no reply", NOREPLY, NULL, NULL, INC, K_NONE),
};

static struct smtprobe_reply *wire_reply(const char *raw)
{
	struct smtprobe_reply_parse p;
	struct smtprobe_reply *r;
	long rc = smtprobe_reply_parse(raw, strlen(raw), &p);

	assert_int_equal(rc, (long)strlen(raw));
	r = smtprobe_reply_build(raw, &p);
	assert_non_null(r);
	return r;
}

static struct smtprobe_reply *case_reply(const struct ccase *c)
{
	struct smtprobe_reply *r;

	if (c->raw != NULL)
		return wire_reply(c->raw);
	if (c->code == NOREPLY)
		return NULL;
	r = smtprobe_reply_new(c->code, c->enh, c->text);
	assert_non_null(r);
	return r;
}

static void test_classify(void **state)
{
	size_t i, valid = 0;

	(void)state;
	for (i = 0; i < NELEM(ccases); i++) {
		const struct ccase *c = &ccases[i];
		struct smtprobe_reply *r = case_reply(c);
		enum smtprobe_refusal_kind kind =
		        (enum smtprobe_refusal_kind)99;
		enum smtprobe_reply_outcome o;
		char why[256], code[16];

		print_message("classify: %s\n", c->name);
		memset(why, 'x', sizeof(why));
		o = smtprobe_refusal_classify(r, &kind, why, sizeof(why));
		if (o != c->out || kind != c->kind)
			fail_msg("%s: got %s/%s, want %s/%s (%s)", c->name,
			         smtprobe_reply_outcome_name(o),
			         smtprobe_refusal_kind_name(kind),
			         smtprobe_reply_outcome_name(c->out),
			         smtprobe_refusal_kind_name(c->kind), why);
		assert_non_null(memchr(why, '\0', sizeof(why)));
		assert_true(why[0] != '\0');
		if (r != NULL && r->code >= 200 && r->code <= 599) {
			valid++;
			snprintf(code, sizeof(code), "%d", r->code);
			assert_non_null(strstr(why, code));
			if (r->enhanced[0] != '\0')
				assert_non_null(strstr(why, r->enhanced));
			if (kind != K_NONE && kind != K_OTHER)
				assert_non_null(strstr(
				        why, smtprobe_refusal_kind_name(kind)));
		}
		/* without the optional outputs the answer is the same */
		assert_int_equal(smtprobe_refusal_classify(r, NULL, NULL, 0),
		                 o);
		smtprobe_reply_free(r);
	}
	assert_true(valid >= 45);
}

/* why is always terminated and never overrun, however small. */
static void test_classify_small_why(void **state)
{
	struct smtprobe_reply *r =
	        wire_reply("554 5.7.1 <a@relay-test.invalid>: Relay access "
	                   "denied\r\n");
	char why[32];
	size_t sz;

	(void)state;
	for (sz = 1; sz < sizeof(why); sz++) {
		memset(why, 'x', sizeof(why));
		assert_int_equal(smtprobe_refusal_classify(r, NULL, why, sz),
		                 REF);
		assert_int_equal(strlen(why), sz - 1);
		assert_int_equal(why[sz], 'x');
	}
	memset(why, 'x', sizeof(why));
	assert_int_equal(smtprobe_refusal_classify(NULL, NULL, why, 1), INC);
	assert_int_equal(why[0], '\0');
	assert_int_equal(why[1], 'x');
	smtprobe_reply_free(r);
}

static void test_names(void **state)
{
	int i;

	(void)state;
	for (i = SMTPROBE_OUT_ACCEPTED; i <= SMTPROBE_OUT_SKIPPED; i++)
		assert_string_not_equal(smtprobe_reply_outcome_name(
		                                (enum smtprobe_reply_outcome)i),
		                        "?");
	for (i = SMTPROBE_RK_NONE; i <= SMTPROBE_RK_OTHER; i++)
		assert_string_not_equal(smtprobe_refusal_kind_name(
		                                (enum smtprobe_refusal_kind)i),
		                        "?");
	for (i = SMTPROBE_EXPECT_REFUSED; i <= SMTPROBE_EXPECT_INFO; i++)
		assert_string_not_equal(smtprobe_relay_expect_name(
		                                (enum smtprobe_relay_expect)i),
		                        "?");
	for (i = SMTPROBE_RAUTH_NONE; i <= SMTPROBE_RAUTH_ABORTED; i++)
		assert_string_not_equal(
		        smtprobe_relay_auth_name((enum smtprobe_relay_auth)i),
		        "?");
	for (i = SMTPROBE_V_SKIPPED; i <= SMTPROBE_V_INCONCLUSIVE; i++)
		assert_string_not_equal(smtprobe_relay_verdict_name(
		                                (enum smtprobe_relay_verdict)i),
		                        "?");
	assert_string_equal(
	        smtprobe_refusal_kind_name((enum smtprobe_refusal_kind)1000),
	        "?");
}

/* ---- smtprobe_relay_build -------------------------------------------- */

static const char *const allowed[] = {"a.test", "b.test"};
static const char *const denied[] = {"c.test"};

static struct smtprobe_relay_names typical(void)
{
	struct smtprobe_relay_names n;

	memset(&n, 0, sizeof(n));
	n.local = "example.test";
	n.external = "relay-test.invalid";
	n.host = "mx.example.test";
	n.ip = "127.0.0.1";
	n.helo = "relay-audit.smtprobe.invalid";
	n.own = NULL;
	n.auth_offered = 0;
	n.tls_offered = 1;
	n.random = 4711;
	return n;
}

static struct smtprobe_relay_names with_user(void)
{
	struct smtprobe_relay_names n = typical();

	n.have_user = 1;
	n.auth_offered = 1;
	n.own = "alice@example.test";
	n.other = "bob@example.test";
	n.allowed = allowed;
	n.nallowed = NELEM(allowed);
	n.denied = denied;
	n.ndenied = NELEM(denied);
	return n;
}

static struct smtprobe_relay_test *tests_new(void)
{
	struct smtprobe_relay_test *t = calloc(MAXTESTS, sizeof(*t));

	assert_non_null(t);
	return t;
}

static const struct smtprobe_relay_test *
find(const struct smtprobe_relay_test *t, size_t n, const char *id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(t[i].id, id) == 0)
			return &t[i];
	return NULL;
}

static size_t count_prefix(const struct smtprobe_relay_test *t, size_t n,
                           const char *prefix)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (strncmp(t[i].id, prefix, strlen(prefix)) == 0)
			k++;
	return k;
}

static int terminated(const char *s, size_t sz)
{
	return memchr(s, '\0', sz) != NULL;
}

/* What holds for every expansion: terminated strings, no line breaks,
 * angle brackets, unique ids, controls first, fields consistent. */
static void check_well_formed(const struct smtprobe_relay_test *t, size_t n,
                              unsigned port)
{
	size_t i, j, first_judged = n;

	for (i = 0; i < n; i++) {
		const struct smtprobe_relay_test *x = &t[i];
		size_t ml, rl;

		assert_true(terminated(x->id, sizeof(x->id)));
		assert_true(terminated(x->helo, sizeof(x->helo)));
		assert_true(terminated(x->mail_from, sizeof(x->mail_from)));
		assert_true(terminated(x->rcpt_to, sizeof(x->rcpt_to)));
		assert_true(x->id[0] != '\0' && x->helo[0] != '\0');
		assert_null(strpbrk(x->id, "\r\n"));
		assert_null(strpbrk(x->helo, "\r\n"));
		assert_null(strpbrk(x->mail_from, "\r\n"));
		assert_null(strpbrk(x->rcpt_to, "\r\n"));
		ml = strlen(x->mail_from);
		rl = strlen(x->rcpt_to);
		assert_true(ml >= 2 && x->mail_from[0] == '<' &&
		            x->mail_from[ml - 1] == '>');
		if (strcmp(x->id, "A.rcpt.no-brackets") == 0) {
			assert_true(x->rcpt_to[0] == ' ');
			assert_null(strpbrk(x->rcpt_to, "<>"));
		} else {
			assert_true(rl >= 2 && x->rcpt_to[0] == '<' &&
			            x->rcpt_to[rl - 1] == '>');
		}
		assert_true(x->id[0] == "ABC"[x->scenario] && x->id[1] == '.');
		assert_int_equal(x->port, port);
		assert_non_null(x->title);
		assert_int_equal(x->ran, 0);
		assert_int_equal(x->outcome, SKP);
		if (x->expect == SMTPROBE_EXPECT_REFUSED &&
		    x->scenario == SMTPROBE_RELAY_A)
			assert_int_not_equal(x->topic, SMTPROBE_ADV_LAST);
		if (x->scenario == SMTPROBE_RELAY_B)
			assert_int_equal(x->auth, SMTPROBE_RAUTH_USER);
		if (x->clear)
			assert_string_equal(x->id, "A.tls.skipped");
		for (j = i + 1; j < n; j++)
			if (strcmp(x->id, t[j].id) == 0)
				fail_msg("duplicate id %s", x->id);
		if (x->expect == SMTPROBE_EXPECT_CONTROL ||
		    x->expect == SMTPROBE_EXPECT_PROBE) {
			if (first_judged < i)
				fail_msg("control %s after %s", x->id,
				         t[first_judged].id);
		} else if (first_judged == n) {
			first_judged = i;
		}
	}
}

static void test_build_typical(void **state)
{
	struct smtprobe_relay_names n = typical();
	struct smtprobe_relay_test *t = tests_new();
	const struct smtprobe_relay_test *x;
	size_t k, i;

	(void)state;
	k = smtprobe_relay_build(&n, 25, t, MAXTESTS);
	assert_true(k > 0 && k < MAXTESTS);
	check_well_formed(t, k, 25);

	assert_string_equal(t[0].id, "A.control.postmaster");
	assert_int_equal(t[0].expect, SMTPROBE_EXPECT_CONTROL);
	assert_string_equal(t[0].rcpt_to, "<postmaster@example.test>");
	assert_string_equal(t[0].helo, "relay-audit.smtprobe.invalid");
	x = find(t, k, "A.control.random-local");
	assert_non_null(x);
	assert_int_equal(x->expect, SMTPROBE_EXPECT_PROBE);
	assert_string_equal(x->rcpt_to,
	                    "<smtprobe-relay-test-4711@example.test>");
	assert_null(find(t, k, "A.control.local-user")); /* no known user */

	x = find(t, k, "A.rcpt.percent-ip");
	assert_non_null(x);
	assert_string_equal(
	        x->rcpt_to,
	        "<smtprobe-relay-test%relay-test.invalid@[127.0.0.1]>");
	assert_int_equal(x->routed_local, 1);
	x = find(t, k, "A.rcpt.upper");
	assert_non_null(x);
	assert_string_equal(x->rcpt_to,
	                    "<smtprobe-relay-test@RELAY-TEST.INVALID>");
	assert_int_equal(x->routed_local, 0);
	x = find(t, k, "A.helo.host");
	assert_non_null(x);
	assert_string_equal(x->helo, "mx.example.test");
	x = find(t, k, "A.helo.ip");
	assert_non_null(x);
	assert_string_equal(x->helo, "[127.0.0.1]");
	x = find(t, k, "A.mail.null");
	assert_non_null(x);
	assert_string_equal(x->mail_from, "<>");
	x = find(t, k, "A.rcpt.no-brackets");
	assert_non_null(x);
	assert_string_equal(x->rcpt_to,
	                    " smtprobe-relay-test@relay-test.invalid");

	/* no user: no B or C; no AUTH offered: no A.auth.* */
	assert_int_equal(count_prefix(t, k, "B."), 0);
	assert_int_equal(count_prefix(t, k, "C."), 0);
	assert_int_equal(count_prefix(t, k, "A.auth."), 0);
	for (i = 0; i < k; i++)
		assert_int_equal(t[i].auth, SMTPROBE_RAUTH_NONE);

	/* STARTTLS offered, not implicit: the clear-text test is there */
	x = find(t, k, "A.tls.skipped");
	assert_non_null(x);
	assert_int_equal(x->clear, 1);
	free(t);
}

static void test_build_auth_and_tls(void **state)
{
	static const struct {
		int auth, tls, implicit;
		size_t nauth;
		int skipped;
	} rows[] = {
	        {0, 0, 0, 0, 0}, {0, 1, 0, 0, 1}, {0, 1, 1, 0, 0},
	        {1, 0, 0, 3, 0}, {1, 1, 0, 3, 1}, {1, 1, 1, 3, 0},
	        {1, 0, 1, 3, 0},
	};
	struct smtprobe_relay_test *t = tests_new();
	size_t i, k;

	(void)state;
	for (i = 0; i < NELEM(rows); i++) {
		struct smtprobe_relay_names n = typical();
		const struct smtprobe_relay_test *x;

		n.auth_offered = rows[i].auth;
		n.tls_offered = rows[i].tls;
		n.implicit_tls = rows[i].implicit;
		print_message("auth %d tls %d implicit %d\n", rows[i].auth,
		              rows[i].tls, rows[i].implicit);
		k = smtprobe_relay_build(&n, 587, t, MAXTESTS);
		check_well_formed(t, k, 587);
		assert_int_equal(count_prefix(t, k, "A.auth."), rows[i].nauth);
		x = find(t, k, "A.tls.skipped");
		assert_int_equal(x != NULL, rows[i].skipped);
		if (rows[i].auth) {
			assert_int_equal(find(t, k, "A.auth.failed")->auth,
			                 SMTPROBE_RAUTH_FAILED);
			assert_int_equal(find(t, k, "A.auth.garbage")->auth,
			                 SMTPROBE_RAUTH_GARBAGE);
			assert_int_equal(find(t, k, "A.auth.aborted")->auth,
			                 SMTPROBE_RAUTH_ABORTED);
		}
		if (rows[i].auth && rows[i].tls && !rows[i].implicit)
			assert_true(k >= 40);
		assert_int_equal(count_prefix(t, k, "B."), 0);
		assert_int_equal(count_prefix(t, k, "C."), 0);
	}
	free(t);
}

static void test_build_user(void **state)
{
	struct smtprobe_relay_names n = with_user();
	struct smtprobe_relay_test *t = tests_new();
	const struct smtprobe_relay_test *x;
	size_t k;

	(void)state;
	k = smtprobe_relay_build(&n, 587, t, MAXTESTS);
	check_well_formed(t, k, 587);

	x = find(t, k, "B.own.a.test");
	assert_non_null(x);
	assert_int_equal(x->expect, SMTPROBE_EXPECT_ACCEPTED);
	assert_string_equal(x->mail_from, "<alice@example.test>");
	assert_string_equal(x->rcpt_to, "<smtprobe-relay-test@a.test>");
	assert_non_null(find(t, k, "B.own.b.test"));
	assert_int_equal(count_prefix(t, k, "B."), 2);

	x = find(t, k, "C.denied.c.test");
	assert_non_null(x);
	assert_int_equal(x->expect, SMTPROBE_EXPECT_REFUSED);
	assert_string_equal(x->rcpt_to, "<smtprobe-relay-test@c.test>");
	x = find(t, k, "C.other-sender");
	assert_non_null(x);
	assert_string_equal(x->mail_from, "<bob@example.test>");
	assert_string_equal(x->rcpt_to, "<smtprobe-relay-test@a.test>");
	assert_int_equal(x->auth, SMTPROBE_RAUTH_USER);
	x = find(t, k, "C.other-sender-case");
	assert_non_null(x);
	assert_string_equal(x->mail_from, "<BOB@EXAMPLE.TEST>");
	x = find(t, k, "C.own-case");
	assert_non_null(x);
	assert_string_equal(x->mail_from, "<ALICE@example.test>");
	assert_int_equal(x->expect, SMTPROBE_EXPECT_INFO);
	x = find(t, k, "C.null-sender");
	assert_non_null(x);
	assert_int_equal(x->expect, SMTPROBE_EXPECT_SHOULD_REFUSE);
	assert_string_equal(x->mail_from, "<>");
	x = find(t, k, "C.no-auth-own");
	assert_non_null(x);
	assert_int_equal(x->auth, SMTPROBE_RAUTH_NONE);
	assert_string_equal(x->mail_from, "<alice@example.test>");

	/* a known user other than postmaster adds a control and a sender */
	x = find(t, k, "A.control.local-user");
	assert_non_null(x);
	assert_string_equal(x->rcpt_to, "<bob@example.test>");
	assert_non_null(find(t, k, "A.mail.local-user"));

	/* the default other sender, postmaster, is no second control */
	n.other = "postmaster@example.test";
	k = smtprobe_relay_build(&n, 587, t, MAXTESTS);
	check_well_formed(t, k, 587);
	assert_null(find(t, k, "A.control.local-user"));
	assert_null(find(t, k, "A.mail.local-user"));

	/* no allowed domains: B sends to the external domain */
	n.nallowed = 0;
	n.allowed = NULL;
	n.ndenied = 0;
	n.denied = NULL;
	k = smtprobe_relay_build(&n, 587, t, MAXTESTS);
	check_well_formed(t, k, 587);
	assert_non_null(find(t, k, "B.own.relay-test.invalid"));
	assert_int_equal(count_prefix(t, k, "B."), 1);
	assert_int_equal(count_prefix(t, k, "C.denied."), 0);
	x = find(t, k, "C.other-sender");
	assert_non_null(x);
	assert_string_equal(x->rcpt_to,
	                    "<smtprobe-relay-test@relay-test.invalid>");
	free(t);
}

/* Without H the rows that need it are left out, nothing else. */
static void test_build_no_host(void **state)
{
	static const char *const need_host[] = {
	        "A.mail.host",           "A.rcpt.percent-host",
	        "A.rcpt.double-at-host", "A.rcpt.route-host",
	        "A.rcpt.bang-host",      "A.helo.host",
	};
	struct smtprobe_relay_names n = with_user();
	struct smtprobe_relay_test *t = tests_new();
	size_t full, k, i;

	(void)state;
	full = smtprobe_relay_build(&n, 25, t, MAXTESTS);
	for (i = 0; i < NELEM(need_host); i++)
		assert_non_null(find(t, full, need_host[i]));
	n.host = NULL;
	k = smtprobe_relay_build(&n, 25, t, MAXTESTS);
	check_well_formed(t, k, 25);
	assert_int_equal(k, full - NELEM(need_host));
	for (i = 0; i < NELEM(need_host); i++)
		assert_null(find(t, k, need_host[i]));
	n.host = "";
	assert_int_equal(smtprobe_relay_build(&n, 25, t, MAXTESTS), k);

	/* no own address: the rows built on it go, the rest stay */
	n.own = NULL;
	k = smtprobe_relay_build(&n, 25, t, MAXTESTS);
	check_well_formed(t, k, 25);
	assert_int_equal(count_prefix(t, k, "B."), 0);
	assert_null(find(t, k, "C.own-case"));
	assert_null(find(t, k, "C.no-auth-own"));
	assert_non_null(find(t, k, "C.other-sender"));
	free(t);
}

static void test_build_max(void **state)
{
	struct smtprobe_relay_names n = with_user();
	struct smtprobe_relay_test *t = tests_new();
	struct smtprobe_relay_test *ref = tests_new();
	unsigned char *p;
	size_t full, max, k, i;

	(void)state;
	full = smtprobe_relay_build(&n, 25, ref, MAXTESTS);
	assert_true(full > 10);
	for (max = 0; max <= full + 1; max++) {
		memset(t, 0xa5, MAXTESTS * sizeof(*t));
		k = smtprobe_relay_build(&n, 25, t, max);
		assert_int_equal(k, max < full ? max : full);
		for (i = 0; i < k; i++)
			assert_string_equal(t[i].id, ref[i].id);
		/* nothing written past what was returned */
		p = (unsigned char *)&t[k];
		for (i = 0; i < sizeof(*t); i++)
			assert_int_equal(p[i], 0xa5);
	}
	free(ref);
	free(t);
}

/* A name too long for a field drops the rows it would overflow; the rows
 * that remain hold it whole. */
static void test_build_long_local(void **state)
{
	static const char *const dropped[] = {
	        "A.helo.local",
	        "A.rcpt.percent-local",
	        "A.rcpt.quoted-local",
	        "A.rcpt.double-at-local",
	};
	struct smtprobe_relay_names n = typical();
	struct smtprobe_relay_test *t = tests_new();
	const struct smtprobe_relay_test *x;
	char local[800], want[900];
	size_t full, k, i, len;

	(void)state;
	n.auth_offered = 1;
	full = smtprobe_relay_build(&n, 25, t, MAXTESTS);
	for (len = 600; len <= 700; len += 100) {
		memset(local, 'l', len);
		memcpy(local + len - 13, ".example.test", 13);
		local[len] = '\0';
		n.local = local;
		print_message("local domain of %zu bytes\n", len);
		k = smtprobe_relay_build(&n, 25, t, MAXTESTS);
		check_well_formed(t, k, 25);
		assert_true(k < full);
		for (i = 0; i < NELEM(dropped); i++)
			if (find(t, k, dropped[i]) != NULL)
				fail_msg("%s was not dropped", dropped[i]);
		for (i = 0; i < k; i++) {
			const char *f[] = {t[i].helo, t[i].mail_from,
			                   t[i].rcpt_to};
			size_t j;

			for (j = 0; j < NELEM(f); j++) {
				const char *s = strstr(f[j], "llllllllll");
				if (s != NULL && strstr(f[j], local) == NULL)
					fail_msg("%s holds a truncated local "
					         "domain",
					         t[i].id);
			}
		}
		x = find(t, k, "A.control.postmaster");
		if (len == 600) {
			/* "<postmaster@" + 600 + ">" fits in 640 */
			snprintf(want, sizeof(want), "<postmaster@%s>", local);
			assert_non_null(x);
			assert_string_equal(x->rcpt_to, want);
			assert_non_null(find(t, k, "A.mail.external"));
		} else {
			/* every row naming L is gone, the others remain */
			assert_null(x);
			assert_null(find(t, k, "A.mail.local"));
			assert_non_null(find(t, k, "A.mail.external"));
			assert_non_null(find(t, k, "A.rcpt.percent-ip"));
		}
	}
	/* an over-long external domain leaves only rows without it */
	n = typical();
	memset(local, 'x', 700);
	local[700] = '\0';
	n.external = local;
	k = smtprobe_relay_build(&n, 25, t, MAXTESTS);
	check_well_formed(t, k, 25);
	for (i = 0; i < k; i++)
		assert_null(strstr(t[i].rcpt_to, "xxxxxxxxxx"));
	free(t);
}

/* Names that are missing or empty drop rows, never crash. */
static void test_build_sparse(void **state)
{
	struct smtprobe_relay_names n;
	struct smtprobe_relay_test *t = tests_new();
	size_t k;

	(void)state;
	memset(&n, 0, sizeof(n));
	k = smtprobe_relay_build(&n, 25, t, MAXTESTS);
	assert_int_equal(k, 0);
	n.local = "";
	n.external = "";
	n.ip = "";
	n.helo = "";
	n.have_user = 1;
	n.auth_offered = 1;
	n.tls_offered = 1;
	assert_int_equal(smtprobe_relay_build(&n, 25, t, MAXTESTS), 0);
	n = typical();
	n.ip = "IPv6:2001:db8::1";
	k = smtprobe_relay_build(&n, 25, t, MAXTESTS);
	check_well_formed(t, k, 25);
	assert_string_equal(
	        find(t, k, "A.rcpt.percent-ip")->rcpt_to,
	        "<smtprobe-relay-test%relay-test.invalid@[IPv6:2001:db8::1]>");
	n.helo = NULL; /* every row needs our HELO name */
	assert_int_equal(smtprobe_relay_build(&n, 25, t, MAXTESTS) < (size_t)k,
	                 1);
	free(t);
}

/* ---- smtprobe_guess_domain ------------------------------------- */

static void test_guess_domain(void **state)
{
	static const struct {
		const char *host;
		size_t outsz;
		const char *want;
	} rows[] = {
	        {"mx.example.test", 64, "example.test"},
	        {"example.test", 64, "example.test"},
	        {"localhost", 64, ""},   /* no dot: no guess */
	        {"192.0.2.1", 64, ""},   /* an address */
	        {"[192.0.2.1]", 64, ""}, /* a literal */
	        {"ESMTP", 64, ""},
	        {"", 64, ""},
	        {NULL, 64, ""},
	        {"a.b.c.d", 64, "b.c.d"},
	        {"smtp.mail.example.co.uk", 64, "mail.example.co.uk"},
	        {"mx.example.test", 5, "exam"},
	        {"mx.example.test", 1, ""},
	        {"mx.example.test", 13, "example.test"},
	        {"mx.example.test", 12, "example.tes"},
	};
	char out[64];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(rows); i++) {
		print_message("guess: %s (%zu)\n",
		              rows[i].host ? rows[i].host : "(null)",
		              rows[i].outsz);
		memset(out, 'x', sizeof(out));
		smtprobe_guess_domain(rows[i].host, out, rows[i].outsz);
		assert_string_equal(out, rows[i].want);
		if (rows[i].outsz < sizeof(out))
			assert_int_equal(out[rows[i].outsz], 'x');
	}
	/* no room: nothing written */
	memset(out, 'x', sizeof(out));
	smtprobe_guess_domain("mx.example.test", out, 0);
	assert_int_equal(out[0], 'x');
}

/* ---- smtprobe_relay_judge_port --------------------------------------- */

#define T_ROUTED     1u
#define T_DELIVERED  2u
#define T_AT_DATA    4u
#define T_NOT_RUN    8u
#define T_NO_DOMAIN  16u /* refused because a domain does not resolve */
#define T_RELAY_KIND 32u /* refused as relaying */
#define MAXT         8

struct tspec {
	const char *id;
	enum smtprobe_relay_scenario sc;
	enum smtprobe_relay_expect ex;
	enum smtprobe_reply_outcome out;
	unsigned f;
};

struct pcase {
	const char *name;
	struct tspec t[MAXT];
	enum smtprobe_relay_verdict v[3];
	const char *conf[3]; /* NULL: not checked */
	size_t warnings;     /* C */
	int catch_all;       /* A */
	int cite;            /* CITE(i): v[A] must cite test i; 0: none */
};

#define CITE(i) ((i) + 1)

#define SA       SMTPROBE_RELAY_A
#define SB       SMTPROBE_RELAY_B
#define SC       SMTPROBE_RELAY_C
#define E_REF    SMTPROBE_EXPECT_REFUSED
#define E_CTL    SMTPROBE_EXPECT_CONTROL
#define E_PRB    SMTPROBE_EXPECT_PROBE
#define E_ACC    SMTPROBE_EXPECT_ACCEPTED
#define E_SHD    SMTPROBE_EXPECT_SHOULD_REFUSE
#define E_INF    SMTPROBE_EXPECT_INFO
#define V_SKIP   SMTPROBE_V_SKIPPED
#define V_CLOSED SMTPROBE_V_CLOSED
#define V_OPEN   SMTPROBE_V_OPEN
#define V_HOLDS  SMTPROBE_V_HOLDS
#define V_VIOL   SMTPROBE_V_VIOLATED
#define V_INC    SMTPROBE_V_INCONCLUSIVE

/* the usual controls */
#define CTL_OK                                                                 \
	{                                                                      \
		"A.control.postmaster", SA, E_CTL, ACC, 0                      \
	}
#define NULL_OK                                                                \
	{                                                                      \
		"A.control.null-sender", SA, E_CTL, ACC, 0                     \
	}
#define PROBE_NO                                                               \
	{                                                                      \
		"A.control.random-local", SA, E_PRB, REF, 0                    \
	}
#define PROBE_YES                                                              \
	{                                                                      \
		"A.control.random-local", SA, E_PRB, ACC, 0                    \
	}
/* an unauthenticated relay attempt, routed or not */
#define ATT(id, out, f)                                                        \
	{                                                                      \
		"A." id, SA, E_REF, out, f                                     \
	}

static const struct pcase pcases[] = {
        {.name = "a refusal judge_test found moot (domain, greylist)",
         .t = {CTL_OK, PROBE_NO, ATT("mail.external", INC, T_NO_DOMAIN),
               ATT("mail.null", REF, 0)},
         .v = {V_INC, V_SKIP, V_SKIP},
         .conf = {"low"},
         .cite = CITE(2)},
        {.name = "a control refused as relaying: the local domain is wrong",
         .t = {{"A.control.postmaster", SA, E_CTL, REF, T_RELAY_KIND},
               PROBE_NO,
               ATT("mail.external", REF, 0)},
         .v = {V_INC, V_SKIP, V_SKIP},
         .conf = {"low"},
         .cite = CITE(0)},
        {.name = "one relay attempt accepted",
         .t = {CTL_OK, PROBE_NO, ATT("mail.external", REF, 0),
               ATT("mail.null", ACC, 0), ATT("helo.localhost", TMP, 0)},
         .v = {V_OPEN, V_SKIP, V_SKIP},
         .conf = {"medium"},
         .cite = CITE(3)},
        {.name = "routed local accepted by a catch-all",
         .t = {CTL_OK, PROBE_YES, ATT("rcpt.percent-ip", ACC, T_ROUTED),
               ATT("mail.external", REF, 0)},
         .v = {V_INC, V_SKIP, V_SKIP},
         .conf = {"low"},
         .catch_all = 1,
         .cite = CITE(2)},
        {.name = "routed local accepted, no catch-all",
         .t = {CTL_OK, PROBE_NO, ATT("rcpt.percent-ip", ACC, T_ROUTED),
               ATT("mail.external", REF, 0)},
         .v = {V_OPEN, V_SKIP, V_SKIP},
         .conf = {"medium"},
         .cite = CITE(2)},
        {.name = "a catch-all excuses only routed forms",
         .t = {CTL_OK, PROBE_YES, ATT("mail.external", ACC, 0)},
         .v = {V_OPEN, V_SKIP, V_SKIP},
         .conf = {"medium"},
         .catch_all = 1,
         .cite = CITE(2)},
        {.name = "all refused, controls accepted",
         .t = {CTL_OK, NULL_OK, PROBE_NO, ATT("mail.external", REF, 0),
               ATT("rcpt.percent-ip", REF, T_ROUTED),
               ATT("helo.localhost", TMP, 0)},
         .v = {V_CLOSED, V_SKIP, V_SKIP},
         .conf = {"high", "", ""},
         .cite = CITE(3)},
        {.name = "controls refused too (a submission port)",
         .t = {{"A.control.postmaster", SA, E_CTL, REF, 0},
               {"A.control.null-sender", SA, E_CTL, REF, 0},
               ATT("mail.external", REF, 0),
               ATT("mail.null", REF, 0)},
         .v = {V_CLOSED, V_SKIP, V_SKIP},
         .conf = {"medium"},
         .cite = CITE(2)},
        {.name = "one control refused, one accepted",
         .t = {CTL_OK,
               {"A.control.null-sender", SA, E_CTL, REF, 0},
               ATT("mail.external", REF, 0)},
         .v = {V_CLOSED, V_SKIP, V_SKIP},
         .conf = {"medium"},
         .cite = CITE(2)},
        {.name = "one inconclusive",
         .t = {CTL_OK, ATT("mail.external", REF, 0), ATT("mail.null", INC, 0)},
         .v = {V_INC, V_SKIP, V_SKIP},
         .conf = {"low"},
         .cite = CITE(2)},
        {.name = "a control inconclusive",
         .t = {{"A.control.postmaster", SA, E_CTL, INC, 0},
               ATT("mail.external", REF, 0)},
         .v = {V_INC, V_SKIP, V_SKIP},
         .conf = {"low"},
         .cite = CITE(0)},
        {.name = "accepted outweighs inconclusive",
         .t = {CTL_OK, ATT("mail.external", INC, 0), ATT("mail.null", ACC, 0)},
         .v = {V_OPEN, V_SKIP, V_SKIP},
         .conf = {"medium"},
         .cite = CITE(2)},
        {.name = "refused only at DATA",
         .t = {CTL_OK, ATT("mail.external", REF, T_AT_DATA)},
         .v = {V_CLOSED, V_SKIP, V_SKIP},
         .conf = {"medium"},
         .cite = CITE(1)},
        {.name = "open, delivered",
         .t = {CTL_OK, ATT("mail.external", ACC, T_DELIVERED)},
         .v = {V_OPEN, V_SKIP, V_SKIP},
         .conf = {"high"},
         .cite = CITE(1)},
        {.name = "open, one delivered, one at RCPT only",
         .t = {CTL_OK, ATT("mail.external", ACC, 0),
               ATT("mail.null", ACC, T_DELIVERED)},
         .v = {V_OPEN, V_SKIP, V_SKIP},
         .conf = {"high"},
         .cite = CITE(2)},
        {.name = "open, accepted only at RCPT",
         .t = {CTL_OK, ATT("mail.external", ACC, 0)},
         .v = {V_OPEN, V_SKIP, V_SKIP},
         .conf = {"medium"},
         .cite = CITE(1)},
        {.name = "tests that did not run are ignored",
         .t = {CTL_OK, ATT("mail.external", ACC, T_NOT_RUN),
               ATT("mail.null", INC, T_NOT_RUN), ATT("mail.local", REF, 0)},
         .v = {V_CLOSED, V_SKIP, V_SKIP},
         .conf = {"high"},
         .cite = CITE(3)},
        {.name = "controls only: nothing to judge",
         .t = {CTL_OK, PROBE_NO},
         .v = {V_SKIP, V_SKIP, V_SKIP}},
        {.name = "nothing at all", .v = {V_SKIP, V_SKIP, V_SKIP}},
        {.name = "B refused",
         .t = {{"B.own.a.test", SB, E_ACC, ACC, 0},
               {"B.own.b.test", SB, E_ACC, REF, 0}},
         .v = {V_SKIP, V_VIOL, V_SKIP},
         .conf = {NULL, "high"}},
        {.name = "B tempfail is a refusal",
         .t = {{"B.own.a.test", SB, E_ACC, TMP, 0}},
         .v = {V_SKIP, V_VIOL, V_SKIP},
         .conf = {NULL, "high"}},
        {.name = "B all accepted",
         .t = {{"B.own.a.test", SB, E_ACC, ACC, 0},
               {"B.own.b.test", SB, E_ACC, ACC, 0}},
         .v = {V_SKIP, V_HOLDS, V_SKIP},
         .conf = {NULL, "high"}},
        {.name = "B inconclusive",
         .t = {{"B.own.a.test", SB, E_ACC, ACC, 0},
               {"B.own.b.test", SB, E_ACC, INC, 0}},
         .v = {V_SKIP, V_INC, V_SKIP},
         .conf = {NULL, "low"}},
        {.name = "C accepted",
         .t = {{"C.other-sender", SC, E_REF, ACC, 0},
               {"C.foreign-sender", SC, E_REF, REF, 0}},
         .v = {V_SKIP, V_SKIP, V_VIOL},
         .conf = {NULL, NULL, "high"}},
        {.name = "C should-refuse accepted is a warning",
         .t = {{"C.other-sender", SC, E_REF, REF, 0},
               {"C.foreign-sender", SC, E_REF, TMP, 0},
               {"C.null-sender", SC, E_SHD, ACC, 0}},
         .v = {V_SKIP, V_SKIP, V_HOLDS},
         .conf = {NULL, NULL, "medium"},
         .warnings = 1},
        {.name = "C should-refuse refused: no warning",
         .t = {{"C.other-sender", SC, E_REF, REF, 0},
               {"C.null-sender", SC, E_SHD, REF, 0}},
         .v = {V_SKIP, V_SKIP, V_HOLDS},
         .conf = {NULL, NULL, "high"}},
        {.name = "C info is ignored",
         .t = {{"C.other-sender", SC, E_REF, REF, 0},
               {"C.own-case", SC, E_INF, ACC, 0},
               {"C.own-case-2", SC, E_INF, INC, 0}},
         .v = {V_SKIP, V_SKIP, V_HOLDS},
         .conf = {NULL, NULL, "high"}},
        {.name = "C info only: nothing to judge",
         .t = {{"C.own-case", SC, E_INF, ACC, 0}},
         .v = {V_SKIP, V_SKIP, V_SKIP}},
        {.name = "C inconclusive",
         .t = {{"C.other-sender", SC, E_REF, REF, 0},
               {"C.foreign-sender", SC, E_REF, INC, 0}},
         .v = {V_SKIP, V_SKIP, V_INC},
         .conf = {NULL, NULL, "low"}},
        {.name = "A, B and C together",
         .t = {CTL_OK,
               PROBE_NO,
               ATT("mail.external", REF, 0),
               {"B.own.a.test", SB, E_ACC, ACC, 0},
               {"C.other-sender", SC, E_REF, REF, 0},
               {"C.no-auth-own", SC, E_REF, REF, 0}},
         .v = {V_CLOSED, V_HOLDS, V_HOLDS},
         .conf = {"high", "high", "high"},
         .cite = CITE(2)},
};

static void fill(struct smtprobe_relay_test *t, const struct tspec *s)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->id, sizeof(t->id), "%s", s->id);
	t->scenario = s->sc;
	t->expect = s->ex;
	t->outcome = s->out;
	t->routed_local = (s->f & T_ROUTED) != 0;
	t->delivered = (s->f & T_DELIVERED) != 0;
	t->refused_at_data = (s->f & T_AT_DATA) != 0;
	t->ran = (s->f & T_NOT_RUN) == 0;
	if (s->f & T_NO_DOMAIN)
		t->kind = SMTPROBE_RK_DOMAIN;
	if (s->f & T_RELAY_KIND)
		t->kind = SMTPROBE_RK_RELAY;
	t->title = s->id;
	snprintf(t->why, sizeof(t->why), "%s: %s", s->id,
	         smtprobe_reply_outcome_name(s->out));
}

static void test_judge_port(void **state)
{
	struct smtprobe_relay_test *t = tests_new();
	size_t i, j, e, n;

	(void)state;
	for (i = 0; i < NELEM(pcases); i++) {
		const struct pcase *c = &pcases[i];
		struct smtprobe_relay_scenario_verdict v[3];
		int cited = 0;

		print_message("judge port: %s\n", c->name);
		for (n = 0; n < MAXT && c->t[n].id != NULL; n++)
			fill(&t[n], &c->t[n]);
		memset(v, 0xa5, sizeof(v));
		smtprobe_relay_judge_port(t, n, v);
		for (j = 0; j < 3; j++) {
			if (v[j].verdict != c->v[j])
				fail_msg("%s: scenario %c is %s, want %s (%s)",
				         c->name, "ABC"[j],
				         smtprobe_relay_verdict_name(
				                 v[j].verdict),
				         smtprobe_relay_verdict_name(c->v[j]),
				         v[j].why);
			assert_non_null(v[j].confidence);
			if (c->conf[j] != NULL)
				assert_string_equal(v[j].confidence,
				                    c->conf[j]);
			assert_true(v[j].why[0] != '\0');
			assert_non_null(
			        memchr(v[j].why, '\0', sizeof(v[j].why)));
			assert_true(v[j].nevidence <= NELEM(v[j].evidence));
			for (e = 0; e < v[j].nevidence; e++)
				assert_true(v[j].evidence[e] < n);
		}
		assert_int_equal(v[SA].warnings, 0);
		assert_int_equal(v[SC].warnings, c->warnings);
		assert_int_equal(v[SA].catch_all, c->catch_all);
		if (c->v[SA] == V_OPEN || c->v[SA] == V_INC ||
		    c->v[SA] == V_CLOSED)
			assert_true(v[SA].nevidence > 0);
		if (c->v[SC] == V_VIOL)
			assert_true(v[SC].nevidence > 0);
		if (c->v[SB] == V_VIOL)
			assert_true(v[SB].nevidence > 0);
		for (e = 0; e < v[SA].nevidence; e++)
			if (c->cite && v[SA].evidence[e] + 1 == (size_t)c->cite)
				cited = 1;
		if (c->cite && !cited)
			fail_msg("%s: test %d not cited", c->name, c->cite - 1);
	}
	free(t);
}

/* Many accepted attempts: the evidence list stays within its array. */
static void test_judge_port_evidence_cap(void **state)
{
	struct smtprobe_relay_test *t = tests_new();
	struct smtprobe_relay_scenario_verdict v[3];
	struct tspec s = {"A.x", SA, E_REF, ACC, 0};
	size_t i;

	(void)state;
	for (i = 0; i < 40; i++)
		fill(&t[i], &s);
	smtprobe_relay_judge_port(t, 40, v);
	assert_int_equal(v[SA].verdict, V_OPEN);
	assert_int_equal(v[SA].nevidence, NELEM(v[SA].evidence));
	assert_non_null(strstr(v[SA].why, "40 of 40"));
	free(t);
}

/* ---- smtprobe_relay_judge_test --------------------------------------- */

enum { D_NONE, D_GREET, D_AUTH, D_MAIL, D_RCPT, D_DATA, D_DOT };

struct jcase {
	const char *name;
	/* the result: replies as sent (NULL: none came) */
	enum smtprobe_relay_auth auth;
	int auth_ok;
	int not_run;
	const char *greet; /* a refused EHLO (and HELO) reply, or NULL */
	const char *authr, *mail, *rcpt, *data, *dot;
	int rcpt_sent;  /* an RCPT entry exists (with or without a reply) */
	int data_tried; /* DATA was sent */
	const char *error;
	int ext_rcpt;   /* the test's recipient is at the external domain */
	int std_sender; /* the test's sender is the standard external one */
	/* what judge_test must make of it */
	enum smtprobe_reply_outcome out;
	enum smtprobe_refusal_kind kind;
	enum smtprobe_stage at;
	int deciding; /* D_*: which reply decided */
	int delivered, at_data;
	const char *why; /* a substring of t->why, NULL: not checked */
};

#define R_OK250  "250 2.1.0 Ok\r\n"
#define R_RCPT   "250 2.1.5 Ok\r\n"
#define R_354    "354 End data with <CR><LF>.<CR><LF>\r\n"
#define R_QUEUED "250 2.0.0 Ok: queued as 4Xyz\r\n"
#define R_RELAY  "554 5.7.1 <x@relay-test.invalid>: Relay access denied\r\n"
#define R_535    "535 5.7.8 Error: authentication failed\r\n"

static const struct jcase jcases[] = {
        {.name = "HELO refused (a HELO rule is a refusal)",
         .greet = "550 5.7.1 <localhost>: Helo command rejected: go "
                  "away\r\n",
         .out = REF,
         .kind = K_CLIENT,
         .at = SMTPROBE_ST_EHLO,
         .deciding = D_GREET,
         .why = "greeting"},
        {.name = "bogus credentials accepted (235)",
         .auth = SMTPROBE_RAUTH_FAILED,
         .authr = "235 2.7.0 Authentication successful\r\n",
         .mail = R_OK250,
         .rcpt = R_RELAY,
         .rcpt_sent = 1,
         .out = ACC,
         .kind = K_NONE,
         .at = SMTPROBE_ST_AUTH,
         .deciding = D_AUTH,
         .why = "bogus credentials"},
        {.name = "refused only because the domain does not resolve",
         .mail = R_OK250,
         .rcpt = "450 4.1.2 <x@relay-test.invalid>: Recipient address "
                 "rejected: Domain not found\r\n",
         .rcpt_sent = 1,
         .out = INC,
         .kind = K_DOMAIN,
         .at = SMTPROBE_ST_RCPT,
         .deciding = D_RCPT,
         .why = "--external-domain"},
        {.name = "OpenSMTPD: an external recipient 'invalid' is a relay "
                 "refusal",
         .ext_rcpt = 1,
         .mail = R_OK250,
         .rcpt = "550 Invalid recipient: <x@relay-test.invalid>\r\n",
         .rcpt_sent = 1,
         .out = REF,
         .kind = K_RELAY,
         .at = SMTPROBE_ST_RCPT,
         .deciding = D_RCPT,
         .why = "relaying denied"},
        {.name = "a routed recipient 'invalid' stays an unknown user",
         .mail = R_OK250,
         .rcpt = "550 Invalid recipient: <x%relay-test.invalid@h>\r\n",
         .rcpt_sent = 1,
         .out = REF,
         .kind = K_RCPT,
         .at = SMTPROBE_ST_RCPT,
         .deciding = D_RCPT,
         .why = "unknown recipient"},
        {.name = "standard sender refused at MAIL: not reached",
         .std_sender = 1,
         .mail = "553 5.1.8 <x@relay-test.invalid>... Domain of sender "
                 "address x@relay-test.invalid does not exist\r\n",
         .out = INC,
         .kind = K_DOMAIN,
         .at = SMTPROBE_ST_MAIL,
         .deciding = D_MAIL,
         .why = "did not reach RCPT"},
        {.name = "a sender test refused for its own domain: answered",
         .mail = "553 5.1.8 <x@r1.example.test>... Domain of sender "
                 "address x@r1.example.test does not exist\r\n",
         .out = REF,
         .kind = K_DOMAIN,
         .at = SMTPROBE_ST_MAIL,
         .deciding = D_MAIL,
         .why = "at mail"},
        {.name = "greylisted: no answer yet",
         .mail = R_OK250,
         .rcpt = "450 4.2.0 <x@relay-test.invalid>: Recipient address "
                 "rejected: Greylisted\r\n",
         .rcpt_sent = 1,
         .out = INC,
         .kind = K_GREY,
         .at = SMTPROBE_ST_RCPT,
         .deciding = D_RCPT,
         .why = "greylisting"},
        {.name = "refused at MAIL (OpenSMTPD)",
         .mail = "530 Sender rejected\r\n",
         .out = REF,
         .kind = K_SENDER,
         .at = SMTPROBE_ST_MAIL,
         .deciding = D_MAIL,
         .why = "530"},
        {.name = "tempfail at RCPT",
         .mail = R_OK250,
         .rcpt = "454 4.7.1 <smtprobe-relay-test@relay-test.invalid>: Relay "
                 "access denied\r\n",
         .rcpt_sent = 1,
         .out = TMP,
         .kind = K_RELAY,
         .at = SMTPROBE_ST_RCPT,
         .deciding = D_RCPT,
         .why = "454 4.7.1"},
        {.name = "refused at RCPT",
         .mail = R_OK250,
         .rcpt = R_RELAY,
         .rcpt_sent = 1,
         .out = REF,
         .kind = K_RELAY,
         .at = SMTPROBE_ST_RCPT,
         .deciding = D_RCPT,
         .why = "554"},
        {.name = "accepted at RCPT, stopped before DATA",
         .mail = R_OK250,
         .rcpt = R_RCPT,
         .rcpt_sent = 1,
         .out = ACC,
         .kind = K_NONE,
         .at = SMTPROBE_ST_RCPT,
         .deciding = D_RCPT,
         .why = "nothing was sent"},
        {.name = "refused at DATA",
         .mail = R_OK250,
         .rcpt = R_RCPT,
         .rcpt_sent = 1,
         .data_tried = 1,
         .data = "554 5.7.1 <DATA>: Data command rejected: Relaying not "
                 "allowed\r\n",
         .out = REF,
         .kind = K_RELAY,
         .at = SMTPROBE_ST_DATA,
         .deciding = D_DATA,
         .at_data = 1,
         .why = "RCPT was accepted"},
        {.name = "refused after the dot (Exchange send as)",
         .mail = R_OK250,
         .rcpt = R_RCPT,
         .rcpt_sent = 1,
         .data_tried = 1,
         .data = R_354,
         .dot = "550 5.7.60 SMTP; Client does not have permissions to send "
                "as this sender\r\n",
         .out = REF,
         .kind = K_SENDER,
         .at = SMTPROBE_ST_DOT,
         .deciding = D_DOT,
         .at_data = 1,
         .why = "550 5.7.60"},
        {.name = "delivered",
         .mail = R_OK250,
         .rcpt = R_RCPT,
         .rcpt_sent = 1,
         .data_tried = 1,
         .data = R_354,
         .dot = R_QUEUED,
         .out = ACC,
         .kind = K_NONE,
         .at = SMTPROBE_ST_DOT,
         .deciding = D_DOT,
         .delivered = 1,
         .why = "final dot"},
        {.name = "no banner",
         .error = "timeout waiting for the banner",
         .out = INC,
         .kind = K_NONE,
         .at = SMTPROBE_ST_MAIL,
         .deciding = D_NONE,
         .why = "timeout waiting for the banner"},
        {.name = "session ended before MAIL",
         .out = INC,
         .kind = K_NONE,
         .at = SMTPROBE_ST_MAIL,
         .deciding = D_NONE,
         .why = "the session ended"},
        {.name = "no reply to RCPT",
         .mail = R_OK250,
         .rcpt_sent = 1,
         .error = "timeout waiting for the RCPT TO reply",
         .out = INC,
         .kind = K_NONE,
         .at = SMTPROBE_ST_RCPT,
         .deciding = D_NONE,
         .why = "timeout waiting for the RCPT"},
        {.name = "421 at RCPT",
         .mail = R_OK250,
         .rcpt = "421 4.7.0 mx.example.test Error: too many errors\r\n",
         .rcpt_sent = 1,
         .out = INC,
         .kind = K_OTHER,
         .at = SMTPROBE_ST_RCPT,
         .deciding = D_RCPT,
         .why = "421"},
        {.name = "DATA sent, no reply",
         .mail = R_OK250,
         .rcpt = R_RCPT,
         .rcpt_sent = 1,
         .data_tried = 1,
         .error = "connection closed by the server",
         .out = INC,
         .kind = K_NONE,
         .at = SMTPROBE_ST_DATA,
         .deciding = D_NONE,
         .why = "connection closed by the server"},
        {.name = "354, then no reply to the dot",
         .mail = R_OK250,
         .rcpt = R_RCPT,
         .rcpt_sent = 1,
         .data_tried = 1,
         .data = R_354,
         .error = "timeout waiting for the reply to the dot",
         .out = INC,
         .kind = K_NONE,
         .at = SMTPROBE_ST_DOT,
         .deciding = D_NONE,
         .why = "no reply after the message"},
        {.name = "auth as the user failed",
         .auth = SMTPROBE_RAUTH_USER,
         .authr = R_535,
         .mail = R_OK250,
         .rcpt = R_RCPT,
         .rcpt_sent = 1,
         .error = "authentication failed",
         .out = INC,
         .kind = K_AUTH,
         .at = SMTPROBE_ST_AUTH,
         .deciding = D_AUTH,
         .why = "could not authenticate: authentication failed"},
        {.name = "auth as the user, no reply",
         .auth = SMTPROBE_RAUTH_USER,
         .out = INC,
         .kind = K_AUTH,
         .at = SMTPROBE_ST_AUTH,
         .deciding = D_NONE,
         .why = "no reply to AUTH"},
        {.name = "auth as the user worked",
         .auth = SMTPROBE_RAUTH_USER,
         .auth_ok = 1,
         .authr = "235 2.7.0 Authentication successful\r\n",
         .mail = R_OK250,
         .rcpt = R_RCPT,
         .rcpt_sent = 1,
         .out = ACC,
         .kind = K_NONE,
         .at = SMTPROBE_ST_RCPT,
         .deciding = D_RCPT,
         .why = "accepted at RCPT"},
        {.name = "a failed AUTH on purpose goes on to RCPT",
         .auth = SMTPROBE_RAUTH_FAILED,
         .authr = R_535,
         .mail = R_OK250,
         .rcpt = R_RELAY,
         .rcpt_sent = 1,
         .out = REF,
         .kind = K_RELAY,
         .at = SMTPROBE_ST_RCPT,
         .deciding = D_RCPT,
         .why = "554"},
        {.name = "not run",
         .not_run = 1,
         .mail = R_OK250,
         .rcpt = R_RCPT,
         .rcpt_sent = 1,
         .out = SKP,
         .kind = K_NONE},
};

static struct smtprobe_reply *add_ex(struct smtprobe_result *res,
                                     enum smtprobe_stage st, const char *raw)
{
	struct smtprobe_exchange *ex;

	ex = realloc(res->ex, (res->nex + 1) * sizeof(*ex));
	assert_non_null(ex);
	res->ex = ex;
	memset(&ex[res->nex], 0, sizeof(ex[0]));
	ex[res->nex].stage = st;
	ex[res->nex].reply = raw != NULL ? wire_reply(raw) : NULL;
	return ex[res->nex++].reply;
}

static void test_judge_test(void **state)
{
	struct smtprobe_relay_test *t = tests_new();
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(jcases); i++) {
		const struct jcase *c = &jcases[i];
		struct smtprobe_result *res = &t->res;
		struct smtprobe_reply *want[D_DOT + 1] = {NULL};

		print_message("judge test: %s\n", c->name);
		memset(t, 0, sizeof(*t));
		snprintf(t->id, sizeof(t->id), "A.mail.external");
		t->auth = c->auth;
		t->ext_rcpt = c->ext_rcpt;
		t->std_sender = c->std_sender;
		t->ran = !c->not_run;
		t->decided_at = SMTPROBE_ST_RESOLVE;
		snprintf(res->error, sizeof(res->error), "%s",
		         c->error ? c->error : "");
		if (c->greet != NULL)
			want[D_GREET] = add_ex(res, SMTPROBE_ST_EHLO, c->greet);
		if (c->auth != SMTPROBE_RAUTH_NONE) {
			res->auth_tried = 1;
			res->auth_ok = c->auth_ok;
			if (c->authr != NULL)
				res->auth_reply = want[D_AUTH] =
				        add_ex(res, SMTPROBE_ST_AUTH, c->authr);
		}
		if (c->mail != NULL)
			want[D_MAIL] = add_ex(res, SMTPROBE_ST_MAIL, c->mail);
		if (c->rcpt_sent) {
			res->rcpt = calloc(1, sizeof(*res->rcpt));
			assert_non_null(res->rcpt);
			res->nrcpt = 1;
			res->rcpt[0].address = strdup("<x@relay-test.invalid>");
			assert_non_null(res->rcpt[0].address);
			if (c->rcpt != NULL) {
				want[D_RCPT] =
				        add_ex(res, SMTPROBE_ST_RCPT, c->rcpt);
				res->rcpt[0].reply = want[D_RCPT];
				res->rcpt[0].accepted =
				        want[D_RCPT]->code < 400;
			}
		}
		/* as the session does: data_tried once the message went out
		 * after a 354; a DATA without a reply is an exchange with a
		 * command and no reply */
		res->data_tried = c->data_tried && c->data != NULL &&
		                  strncmp(c->data, "354", 3) == 0;
		if (c->data != NULL)
			want[D_DATA] = add_ex(res, SMTPROBE_ST_DATA, c->data);
		else if (c->data_tried) {
			add_ex(res, SMTPROBE_ST_DATA, NULL);
			res->ex[res->nex - 1].command = strdup("DATA");
			assert_non_null(res->ex[res->nex - 1].command);
		}
		if (c->dot != NULL)
			res->message_reply = want[D_DOT] =
			        add_ex(res, SMTPROBE_ST_DOT, c->dot);

		smtprobe_relay_judge_test(t);
		if (t->outcome != c->out || t->kind != c->kind)
			fail_msg("%s: got %s/%s, want %s/%s (%s)", c->name,
			         smtprobe_reply_outcome_name(t->outcome),
			         smtprobe_refusal_kind_name(t->kind),
			         smtprobe_reply_outcome_name(c->out),
			         smtprobe_refusal_kind_name(c->kind), t->why);
		assert_int_equal(t->delivered, c->delivered);
		assert_int_equal(t->refused_at_data, c->at_data);
		if (!c->not_run) {
			assert_int_equal(t->decided_at, c->at);
			assert_ptr_equal(t->deciding, want[c->deciding]);
			assert_true(t->why[0] != '\0');
		}
		assert_non_null(memchr(t->why, '\0', sizeof(t->why)));
		if (c->why != NULL && strstr(t->why, c->why) == NULL)
			fail_msg("%s: why \"%s\" lacks \"%s\"", c->name, t->why,
			         c->why);
		smtprobe_result_release(res);
	}
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_classify),
	        cmocka_unit_test(test_classify_small_why),
	        cmocka_unit_test(test_names),
	        cmocka_unit_test(test_build_typical),
	        cmocka_unit_test(test_build_auth_and_tls),
	        cmocka_unit_test(test_build_user),
	        cmocka_unit_test(test_build_no_host),
	        cmocka_unit_test(test_build_max),
	        cmocka_unit_test(test_build_long_local),
	        cmocka_unit_test(test_build_sparse),
	        cmocka_unit_test(test_guess_domain),
	        cmocka_unit_test(test_judge_port),
	        cmocka_unit_test(test_judge_port_evidence_cap),
	        cmocka_unit_test(test_judge_test),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
