/* test_policy.c - table-driven tests of the relay decisions (policy.c):
 * every rule and exact reply, the relay catalogue's address tricks
 * against each preset and small custom policies, network matching at the
 * prefix edges, local-domain matching. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "policy.h"

#include "banned.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Custom policies, by name; the rest are presets. */
static const struct {
	const char *name;
	const char *yaml;
} customs[] = {
        {"known", "local_domains: [example.test, example.net]\n"
                  "known_recipients: true\n"
                  "auth: {offer: false}\n"
                  "users:\n"
                  "  - {name: alice, password: a}\n"
                  "  - {name: carol@example.test, password: c}\n"},
        {"max2", "max_recipients: 2\n"
                 "open_relay: true\n"},
        {"nolimit", "max_recipients: 0\n"},
        {"slm", "local_domains: [example.test, example.net]\n"
                "sender_login_match: true\n"
                "auth: {offer: true, without_tls: true}\n"
                "users:\n"
                "  - {name: carol, password: c}\n"
                "  - {name: dave@example.org, password: d}\n"
                "  - name: erin\n"
                "    password: e\n"
                "    allowed_domains: [.example.org]\n"
                "  - name: frank\n"
                "    password: f\n"
                "    owns: [frank@example.test, boss@example.org]\n"},
        {"all4", "trusted_networks: [0.0.0.0/0]\n"},
        {"all6", "trusted_networks: [\"::/0\"]\n"},
        {"hosts", "trusted_networks: [192.0.2.7/32, \"2001:db8::7/128\",\n"
                  "  10.1.2.128/25, \"2001:db8:8000::/33\"]\n"},
        {"no-local", "local_domains: []\n"},
};

static struct srv_policy *policies[16];
static const char *policy_names[16];

static const struct srv_policy *get_policy(const char *name)
{
	char err[512];
	size_t i;
	int rc = -1;

	for (i = 0; i < NELEM(policies) && policy_names[i] != NULL; i++) {
		if (strcmp(policy_names[i], name) == 0)
			return policies[i];
	}
	if (i == NELEM(policies))
		fail_msg("too many policies");
	policies[i] = malloc(sizeof(*policies[i]));
	assert_non_null(policies[i]);
	for (size_t j = 0; j < NELEM(customs); j++) {
		if (strcmp(customs[j].name, name) == 0)
			rc = srv_policy_parse(policies[i], customs[j].yaml,
			                      strlen(customs[j].yaml), err,
			                      sizeof(err));
	}
	if (rc != 0)
		rc = srv_policy_preset(policies[i], name, err, sizeof(err));
	if (rc != 0)
		fail_msg("policy %s: %s", name, err);
	policy_names[i] = name;
	return policies[i];
}

static void client_init(struct srv_client *c, const char *ip, int tls,
                        const char *user)
{
	memset(c, 0, sizeof(*c));
	if (inet_pton(AF_INET, ip, c->addr) == 1)
		c->family = AF_INET;
	else if (inet_pton(AF_INET6, ip, c->addr) == 1)
		c->family = AF_INET6;
	else
		fail_msg("bad test address %s", ip);
	c->tls = tls;
	c->auth_user = user;
}

static void check_verdict(const char *what, const struct srv_verdict *v, int rc,
                          int code, const char *enh, const char *text,
                          const char *reason)
{
	if (rc != v->code)
		fail_msg("%s: returned %d, verdict code %d", what, rc, v->code);
	if (v->code != code)
		fail_msg("%s: code %d, expected %d (%s %s)", what, v->code,
		         code, v->enhanced, v->text);
	if (code == 0) {
		if (v->enhanced[0] != '\0' || v->text[0] != '\0' ||
		    v->reason != NULL)
			fail_msg("%s: accepted with leftovers", what);
		return;
	}
	if (strcmp(v->enhanced, enh) != 0)
		fail_msg("%s: enhanced %s, expected %s", what, v->enhanced,
		         enh);
	if (text != NULL && strcmp(v->text, text) != 0)
		fail_msg("%s: text \"%s\", expected \"%s\"", what, v->text,
		         text);
	if (v->reason == NULL || strcmp(v->reason, reason) != 0)
		fail_msg("%s: reason %s, expected %s", what,
		         v->reason ? v->reason : "(null)", reason);
}

/* ---- MAIL and RCPT ------------------------------------------------- */

#define MAIL_ONLY NULL

struct pcase {
	const char *policy;
	const char *ip;
	int tls;
	const char *user;
	const char *sender;
	const char *rcpt; /* MAIL_ONLY: srv_check_mail */
	size_t nrcpt;
	int code;
	const char *enh;
	const char *text; /* NULL: not checked */
	const char *reason;
};

#define OK       0, NULL, NULL, NULL
#define RELAY(r) 554, "5.7.1", "<" r ">: Relay access denied", "relay denied"
#define NO_TLS                                                                 \
	530, "5.7.0", "Must issue a STARTTLS command first", "tls required"
#define NO_AUTH 530, "5.7.0", "Authentication required", "auth required"
#define NOT_OWNED(s, u)                                                        \
	553, "5.7.1",                                                          \
	        "<" s ">: Sender address rejected: not owned by user " u,      \
	        "sender not owned"
#define UNKNOWN(r)                                                             \
	550, "5.1.1",                                                          \
	        "<" r ">: Recipient address rejected: User unknown in local "  \
	        "recipient table",                                             \
	        "unknown user"
#define NOT_ALLOWED(r, u, d)                                                   \
	550, "5.7.1",                                                          \
	        "<" r ">: Recipient address rejected: user " u                 \
	        " may not send to " d,                                         \
	        "recipient domain not allowed"
#define TOO_MANY                                                               \
	452, "4.5.3", "Error: too many recipients", "too many recipients"

static const struct pcase pcases[] = {
        /* mx: controls (relay catalogue C1..C4) */
        {"mx", "192.0.2.1", 0, NULL, "u@example.org", "postmaster@example.test",
         0, OK},
        {"mx", "192.0.2.1", 0, NULL, "u@example.org", "postmaster", 0, OK},
        {"mx", "192.0.2.1", 0, NULL, "u@example.org", "PostMaster", 0, OK},
        {"mx", "192.0.2.1", 0, NULL, "u@example.org", "POSTMASTER@Example.Test",
         0, OK},
        {"mx", "192.0.2.1", 0, NULL, "u@example.org", "anyone@example.test", 0,
         OK},
        {"mx", "192.0.2.1", 0, NULL, "", "anyone@example.test", 0, OK},
        {"mx", "192.0.2.1", 0, NULL, "", MAIL_ONLY, 0, OK},
        /* mx: unauthenticated sender variants to an external recipient */
        {"mx", "192.0.2.1", 0, NULL, "", "v@example.org", 0,
         RELAY("v@example.org")},
        {"mx", "192.0.2.1", 0, NULL, "u@example.org", "v@example.org", 0,
         RELAY("v@example.org")},
        {"mx", "192.0.2.1", 0, NULL, "u@example.test", "v@example.org", 0,
         RELAY("v@example.org")},
        {"mx", "192.0.2.1", 0, NULL, "postmaster@example.test", "v@example.org",
         0, RELAY("v@example.org")},
        {"mx", "192.0.2.1", 0, NULL, "u@mx.example.test", "v@example.org", 0,
         RELAY("v@example.org")},
        {"mx", "192.0.2.1", 0, NULL, "u@[192.0.2.25]", "v@example.org", 0,
         RELAY("v@example.org")},
        {"mx", "192.0.2.1", 0, NULL, "u", "v@example.org", 0,
         RELAY("v@example.org")},
        {"mx", "192.0.2.1", 0, NULL, "u@localhost", "v@example.org", 0,
         RELAY("v@example.org")},
        {"mx", "192.0.2.1", 0, NULL, "u@EXAMPLE.TEST", "v@example.org", 0,
         RELAY("v@example.org")},
        {"mx", "192.0.2.1", 0, NULL, "example.org!u", "v@example.org", 0,
         RELAY("v@example.org")},
        {"mx", "127.0.0.1", 0, NULL, "u@example.test", "v@example.org", 0,
         RELAY("v@example.org")},
        {"mx", "::1", 0, NULL, "u@example.test", "v@example.org", 0,
         RELAY("v@example.org")},
        /* mx: the recipient tricks */
        {"mx", "192.0.2.1", 0, NULL, "", "v%example.org@example.test", 0,
         RELAY("v%example.org@example.test")},
        {"mx", "192.0.2.1", 0, NULL, "", "v%example.org@mx.example.test", 0,
         RELAY("v%example.org@mx.example.test")},
        {"mx", "192.0.2.1", 0, NULL, "", "v%example.org@[192.0.2.25]", 0,
         RELAY("v%example.org@[192.0.2.25]")},
        {"mx", "192.0.2.1", 0, NULL, "", "\"v@example.org\"", 0,
         RELAY("\"v@example.org\"")},
        {"mx", "192.0.2.1", 0, NULL, "", "\"v%example.org\"", 0,
         RELAY("\"v%example.org\"")},
        {"mx", "192.0.2.1", 0, NULL, "", "\"v@example.org\"@example.test", 0,
         RELAY("\"v@example.org\"@example.test")},
        {"mx", "192.0.2.1", 0, NULL, "", "\"v%example.org\"@example.test", 0,
         RELAY("\"v%example.org\"@example.test")},
        {"mx", "192.0.2.1", 0, NULL, "", "\"v@example.org\"@[192.0.2.25]", 0,
         RELAY("\"v@example.org\"@[192.0.2.25]")},
        {"mx", "192.0.2.1", 0, NULL, "", "v@example.org@example.test", 0,
         RELAY("v@example.org@example.test")},
        {"mx", "192.0.2.1", 0, NULL, "", "v@example.org@[192.0.2.25]", 0,
         RELAY("v@example.org@[192.0.2.25]")},
        {"mx", "192.0.2.1", 0, NULL, "", "@example.test:v@example.org", 0,
         RELAY("@example.test:v@example.org")},
        {"mx", "192.0.2.1", 0, NULL, "", "@[192.0.2.25]:v@example.org", 0,
         RELAY("@[192.0.2.25]:v@example.org")},
        {"mx", "192.0.2.1", 0, NULL, "", "example.org!v", 0,
         RELAY("example.org!v")},
        {"mx", "192.0.2.1", 0, NULL, "", "example.org!v@example.test", 0,
         RELAY("example.org!v@example.test")},
        {"mx", "192.0.2.1", 0, NULL, "", "example.org!v@[192.0.2.25]", 0,
         RELAY("example.org!v@[192.0.2.25]")},
        {"mx", "192.0.2.1", 0, NULL, "", "v@example.org.", 0,
         RELAY("v@example.org.")},
        {"mx", "192.0.2.1", 0, NULL, "", "v@example.test.", 0,
         RELAY("v@example.test.")},
        {"mx", "192.0.2.1", 0, NULL, "", "v@EXAMPLE.ORG", 0,
         RELAY("v@EXAMPLE.ORG")},
        {"mx", "192.0.2.1", 0, NULL, "", "v@EXAMPLE.TEST", 0, OK},
        {"mx", "192.0.2.1", 0, NULL, "", "V@Example.Test", 0, OK},
        {"mx", "192.0.2.1", 0, NULL, "", "\"v w\"@example.test", 0, OK},
        {"mx", "192.0.2.1", 0, NULL, "", "v w@example.test", 0,
         RELAY("v w@example.test")},
        {"mx", "192.0.2.1", 0, NULL, "", "v@sub.example.test", 0,
         RELAY("v@sub.example.test")},
        {"mx", "192.0.2.1", 0, NULL, "", "v@localhost", 0,
         RELAY("v@localhost")},
        {"mx", "192.0.2.1", 0, NULL, "", "v@mx.example.test", 0,
         RELAY("v@mx.example.test")},
        {"mx", "192.0.2.1", 0, NULL, "", "v", 0, RELAY("v")},
        {"mx", "192.0.2.1", 0, NULL, "", "@example.test", 0,
         RELAY("@example.test")},
        {"mx", "192.0.2.1", 0, NULL, "", "v@", 0, RELAY("v@")},
        {"mx", "192.0.2.1", 0, NULL, "", "", 0, RELAY("")},
        {"mx", "192.0.2.1", 0, NULL, "", "postmaster@example.org", 0,
         RELAY("postmaster@example.org")},
        {"mx", "192.0.2.1", 0, NULL, "", "postmaster%example.org@example.test",
         0, RELAY("postmaster%example.org@example.test")},
        {"mx", "192.0.2.1", 0, NULL, "", "v\r\n@example.test", 0,
         RELAY("v\\x0d\\x0a@example.test")},
        {"mx", "192.0.2.1", 0, NULL, "", "v\\@example.org", 0,
         RELAY("v\\x5c@example.org")},
        {"mx", "192.0.2.1", 0, NULL, "", "v\xc3\xa9@example.org", 0,
         RELAY("v\\xc3\\xa9@example.org")},
        {"mx", "192.0.2.1", 0, NULL, "", "v@[IPv6:2001:db8::1]", 0,
         RELAY("v@[IPv6:2001:db8::1]")},
        /* the null sender after AUTH on a policy without a login match */
        {"mx", "192.0.2.1", 0, "someone", "", "v@example.org", 0, OK},
        /* mx: AUTH is not offered, but an authenticated client relays */
        {"mx", "192.0.2.1", 1, "alice", "alice@example.test", "v@example.org",
         0, OK},
        {"mx", "192.0.2.1", 1, "", "alice@example.test", "v@example.org", 0,
         RELAY("v@example.org")},

        /* open: anyone, anything, any trick */
        {"open", "192.0.2.1", 0, NULL, "", "v@example.org", 0, OK},
        {"open", "2001:db8::1", 0, NULL, "u@example.org",
         "v%example.net@example.test", 0, OK},
        {"open", "192.0.2.1", 0, NULL, "", "example.org!v", 0, OK},
        {"open", "192.0.2.1", 0, NULL, "", "@example.test:v@example.org", 0,
         OK},

        /* relay-by-ip: loopback v4 and v6, prefix edges */
        {"relay-by-ip", "127.0.0.1", 0, NULL, "u@example.org", "v@example.org",
         0, OK},
        {"relay-by-ip", "127.255.255.254", 0, NULL, "", "v@example.org", 0, OK},
        {"relay-by-ip", "126.255.255.255", 0, NULL, "", "v@example.org", 0,
         RELAY("v@example.org")},
        {"relay-by-ip", "128.0.0.1", 0, NULL, "", "v@example.org", 0,
         RELAY("v@example.org")},
        {"relay-by-ip", "::1", 0, NULL, "", "v@example.org", 0, OK},
        {"relay-by-ip", "::2", 0, NULL, "", "v@example.org", 0,
         RELAY("v@example.org")},
        {"relay-by-ip", "::", 0, NULL, "", "v@example.org", 0,
         RELAY("v@example.org")},
        {"relay-by-ip", "::ffff:127.0.0.1", 0, NULL, "", "v@example.org", 0,
         OK},
        {"relay-by-ip", "::ffff:192.0.2.1", 0, NULL, "", "v@example.org", 0,
         RELAY("v@example.org")},
        {"relay-by-ip", "::127.0.0.1", 0, NULL, "", "v@example.org", 0,
         RELAY("v@example.org")},
        {"relay-by-ip", "192.0.2.1", 0, NULL, "", "v@example.test", 0, OK},
        {"relay-by-ip", "192.0.2.1", 0, NULL, "", "v@example.org", 0,
         RELAY("v@example.org")},
        {"relay-by-ip", "192.0.2.1", 0, NULL, "", "v%example.org@example.test",
         0, RELAY("v%example.org@example.test")},
        {"relay-by-ip", "127.0.0.1", 0, NULL, "", "v%example.org@example.test",
         0, OK},
        {"relay-by-ip", "127.0.0.1", 0, NULL, "", MAIL_ONLY, 0, OK},

        /* custom networks: /0 and host routes */
        {"all4", "203.0.113.9", 0, NULL, "", "v@example.org", 0, OK},
        {"all4", "0.0.0.0", 0, NULL, "", "v@example.org", 0, OK},
        {"all4", "::ffff:203.0.113.9", 0, NULL, "", "v@example.org", 0, OK},
        {"all4", "2001:db8::1", 0, NULL, "", "v@example.org", 0,
         RELAY("v@example.org")},
        {"all6", "2001:db8::1", 0, NULL, "", "v@example.org", 0, OK},
        {"all6", "::", 0, NULL, "", "v@example.org", 0, OK},
        {"all6", "203.0.113.9", 0, NULL, "", "v@example.org", 0,
         RELAY("v@example.org")},
        {"all6", "::ffff:203.0.113.9", 0, NULL, "", "v@example.org", 0,
         RELAY("v@example.org")},
        {"hosts", "192.0.2.7", 0, NULL, "", "v@example.org", 0, OK},
        {"hosts", "192.0.2.6", 0, NULL, "", "v@example.org", 0,
         RELAY("v@example.org")},
        {"hosts", "192.0.2.8", 0, NULL, "", "v@example.org", 0,
         RELAY("v@example.org")},
        {"hosts", "2001:db8::7", 0, NULL, "", "v@example.org", 0, OK},
        {"hosts", "2001:db8::6", 0, NULL, "", "v@example.org", 0,
         RELAY("v@example.org")},
        {"hosts", "2001:db8::7:0", 0, NULL, "", "v@example.org", 0,
         RELAY("v@example.org")},
        {"hosts", "10.1.2.128", 0, NULL, "", "v@example.org", 0, OK},
        {"hosts", "10.1.2.255", 0, NULL, "", "v@example.org", 0, OK},
        {"hosts", "10.1.2.127", 0, NULL, "", "v@example.org", 0,
         RELAY("v@example.org")},
        {"hosts", "10.1.3.128", 0, NULL, "", "v@example.org", 0,
         RELAY("v@example.org")},
        {"hosts", "2001:db8:8000::1", 0, NULL, "", "v@example.org", 0, OK},
        {"hosts", "2001:db8:ffff:ffff::1", 0, NULL, "", "v@example.org", 0, OK},
        {"hosts", "2001:db8:7fff::1", 0, NULL, "", "v@example.org", 0,
         RELAY("v@example.org")},
        {"hosts", "2001:db9:8000::1", 0, NULL, "", "v@example.org", 0,
         RELAY("v@example.org")},

        /* submission: TLS, then AUTH, then the sender must be owned */
        {"submission", "192.0.2.1", 0, NULL, "alice@example.test", MAIL_ONLY, 0,
         NO_TLS},
        {"submission", "192.0.2.1", 0, "alice", "alice@example.test", MAIL_ONLY,
         0, NO_TLS},
        {"submission", "127.0.0.1", 1, NULL, "alice@example.test", MAIL_ONLY, 0,
         NO_AUTH},
        {"submission", "192.0.2.1", 1, NULL, "", MAIL_ONLY, 0, NO_AUTH},
        {"submission", "192.0.2.1", 1, "alice", "alice@example.test", MAIL_ONLY,
         0, OK},
        {"submission", "192.0.2.1", 1, "alice", "alice@EXAMPLE.TEST", MAIL_ONLY,
         0, OK},
        {"submission", "192.0.2.1", 1, "alice", "Alice@example.test", MAIL_ONLY,
         0, NOT_OWNED("Alice@example.test", "alice")},
        {"submission", "192.0.2.1", 1, "alice", "ALICE@EXAMPLE.TEST", MAIL_ONLY,
         0, NOT_OWNED("ALICE@EXAMPLE.TEST", "alice")},
        {"submission", "192.0.2.1", 1, "alice", "bob@example.test", MAIL_ONLY,
         0, NOT_OWNED("bob@example.test", "alice")},
        {"submission", "192.0.2.1", 1, "alice", "alice@example.org", MAIL_ONLY,
         0, NOT_OWNED("alice@example.org", "alice")},
        {"submission", "192.0.2.1", 1, "alice", "alice", MAIL_ONLY, 0,
         NOT_OWNED("alice", "alice")},
        {"submission", "192.0.2.1", 1, "alice", "", MAIL_ONLY, 0,
         NOT_OWNED("", "alice")},
        {"submission", "192.0.2.1", 1, "alice",
         "alice%example.org@example.test", MAIL_ONLY, 0,
         NOT_OWNED("alice%example.org@example.test", "alice")},
        {"submission", "192.0.2.1", 1, "alice",
         "alice@example.test@example.org", MAIL_ONLY, 0,
         NOT_OWNED("alice@example.test@example.org", "alice")},
        {"submission", "192.0.2.1", 1, "bob", "bob@example.test", MAIL_ONLY, 0,
         OK},
        {"submission", "192.0.2.1", 1, "bob", "alice@example.test", MAIL_ONLY,
         0, NOT_OWNED("alice@example.test", "bob")},
        /* ... and the same checks again at RCPT */
        {"submission", "192.0.2.1", 0, NULL, "alice@example.test",
         "v@example.test", 0, NO_TLS},
        {"submission", "192.0.2.1", 1, NULL, "alice@example.test",
         "v@example.org", 0, NO_AUTH},
        {"submission", "192.0.2.1", 1, NULL, "alice@example.test",
         "postmaster@example.test", 0, NO_AUTH},
        {"submission", "192.0.2.1", 1, "alice", "bob@example.test",
         "v@example.org", 0, NOT_OWNED("bob@example.test", "alice")},
        {"submission", "192.0.2.1", 1, "alice", "", "v@example.org", 0,
         NOT_OWNED("", "alice")},
        /* alice may send anywhere */
        {"submission", "192.0.2.1", 1, "alice", "alice@example.test",
         "v@example.org", 0, OK},
        {"submission", "192.0.2.1", 1, "alice", "alice@example.test",
         "v@example.net", 0, OK},
        {"submission", "192.0.2.1", 1, "alice", "alice@example.test",
         "v%x@example.org", 0, OK},
        {"submission", "192.0.2.1", 1, "alice", "alice@example.test",
         "bob@example.test", 0, OK},
        /* bob: example.test and example.net only */
        {"submission", "192.0.2.1", 1, "bob", "bob@example.test",
         "v@example.net", 0, OK},
        {"submission", "192.0.2.1", 1, "bob", "bob@example.test",
         "v@EXAMPLE.NET", 0, OK},
        {"submission", "192.0.2.1", 1, "bob", "bob@example.test",
         "alice@example.test", 0, OK},
        {"submission", "192.0.2.1", 1, "bob", "bob@example.test",
         "postmaster@example.test", 0, OK},
        {"submission", "192.0.2.1", 1, "bob", "bob@example.test", "postmaster",
         0, OK},
        {"submission", "192.0.2.1", 1, "bob", "bob@example.test",
         "v@example.org", 0,
         NOT_ALLOWED("v@example.org", "bob", "example.org")},
        {"submission", "192.0.2.1", 1, "bob", "bob@example.test",
         "v@sub.example.net", 0,
         NOT_ALLOWED("v@sub.example.net", "bob", "sub.example.net")},
        {"submission", "192.0.2.1", 1, "bob", "bob@example.test",
         "v@example.net.", 0,
         NOT_ALLOWED("v@example.net.", "bob", "example.net.")},
        {"submission", "192.0.2.1", 1, "bob", "bob@example.test",
         "postmaster@example.org", 0,
         NOT_ALLOWED("postmaster@example.org", "bob", "example.org")},
        {"submission", "192.0.2.1", 1, "bob", "bob@example.test",
         "v%example.org@example.net", 0,
         NOT_ALLOWED("v%example.org@example.net", "bob",
                     "v%example.org@example.net")},
        {"submission", "192.0.2.1", 1, "bob", "bob@example.test",
         "v@example.org@example.net", 0,
         NOT_ALLOWED("v@example.org@example.net", "bob",
                     "v@example.org@example.net")},
        {"submission", "192.0.2.1", 1, "bob", "bob@example.test",
         "example.org!v@example.test", 0,
         NOT_ALLOWED("example.org!v@example.test", "bob",
                     "example.org!v@example.test")},

        /* known recipients: users only, postmaster always */
        {"known", "192.0.2.1", 0, NULL, "", "alice@example.test", 0, OK},
        {"known", "192.0.2.1", 0, NULL, "", "alice@EXAMPLE.NET", 0, OK},
        {"known", "192.0.2.1", 0, NULL, "", "Alice@example.test", 0,
         UNKNOWN("Alice@example.test")},
        {"known", "192.0.2.1", 0, NULL, "", "nobody@example.test", 0,
         UNKNOWN("nobody@example.test")},
        {"known", "192.0.2.1", 0, NULL, "", "postmaster@example.test", 0, OK},
        {"known", "192.0.2.1", 0, NULL, "", "Postmaster@example.net", 0, OK},
        {"known", "192.0.2.1", 0, NULL, "", "postmaster", 0, OK},
        {"known", "192.0.2.1", 0, NULL, "", "carol@example.test", 0, OK},
        {"known", "192.0.2.1", 0, NULL, "", "carol@EXAMPLE.TEST", 0, OK},
        {"known", "192.0.2.1", 0, NULL, "", "carol@example.net", 0,
         UNKNOWN("carol@example.net")},
        {"known", "192.0.2.1", 0, NULL, "", "\"alice\"@example.test", 0,
         UNKNOWN("\"alice\"@example.test")},
        {"known", "192.0.2.1", 0, NULL, "", "alice@example.org", 0,
         RELAY("alice@example.org")},
        {"known", "192.0.2.1", 0, NULL, "", "alice%x@example.test", 0,
         RELAY("alice%x@example.test")},

        /* recipient limit (postmaster counts too); 0 = no limit */
        {"max2", "192.0.2.1", 0, NULL, "", "v@example.org", 1, OK},
        {"max2", "192.0.2.1", 0, NULL, "", "v@example.org", 2, TOO_MANY},
        {"max2", "192.0.2.1", 0, NULL, "", "postmaster", 2, TOO_MANY},
        {"max2", "192.0.2.1", 0, NULL, "", "v@example.org", 3, TOO_MANY},
        {"mx", "192.0.2.1", 0, NULL, "", "v@example.test", 99, OK},
        {"mx", "192.0.2.1", 0, NULL, "", "v@example.test", 100, TOO_MANY},
        {"nolimit", "192.0.2.1", 0, NULL, "", "v@example.test", 1000000, OK},

        /* sender_login_match with the default ownership */
        {"slm", "192.0.2.1", 0, NULL, "", MAIL_ONLY, 0, OK},
        {"slm", "192.0.2.1", 0, NULL, "carol@example.test", MAIL_ONLY, 0, OK},
        {"slm", "192.0.2.1", 0, NULL, "anyone@example.org", MAIL_ONLY, 0, OK},
        {"slm", "192.0.2.1", 0, "carol", "carol@example.test", MAIL_ONLY, 0,
         OK},
        {"slm", "192.0.2.1", 0, "carol", "carol@Example.Net", MAIL_ONLY, 0, OK},
        {"slm", "192.0.2.1", 0, "carol", "carol@example.org", MAIL_ONLY, 0,
         NOT_OWNED("carol@example.org", "carol")},
        {"slm", "192.0.2.1", 0, "carol", "Carol@example.test", MAIL_ONLY, 0,
         NOT_OWNED("Carol@example.test", "carol")},
        {"slm", "192.0.2.1", 0, "carol", "carol", MAIL_ONLY, 0,
         NOT_OWNED("carol", "carol")},
        {"slm", "192.0.2.1", 0, "carol", "", MAIL_ONLY, 0,
         NOT_OWNED("", "carol")},
        {"slm", "192.0.2.1", 0, "dave@example.org", "dave@example.org",
         MAIL_ONLY, 0, OK},
        {"slm", "192.0.2.1", 0, "dave@example.org", "dave@EXAMPLE.ORG",
         MAIL_ONLY, 0, OK},
        {"slm", "192.0.2.1", 0, "dave@example.org", "dave@example.test",
         MAIL_ONLY, 0, NOT_OWNED("dave@example.test", "dave@example.org")},
        {"slm", "192.0.2.1", 0, "frank", "boss@example.org", MAIL_ONLY, 0, OK},
        {"slm", "192.0.2.1", 0, "frank", "frank@example.test", MAIL_ONLY, 0,
         OK},
        {"slm", "192.0.2.1", 0, "frank", "frank@example.net", MAIL_ONLY, 0,
         NOT_OWNED("frank@example.net", "frank")},
        {"slm", "192.0.2.1", 0, "zed", "zed@example.net", MAIL_ONLY, 0, OK},
        {"slm", "192.0.2.1", 0, "zed", "carol@example.net", MAIL_ONLY, 0,
         NOT_OWNED("carol@example.net", "zed")},
        /* allowed_domains with a leading dot: sub-domains only */
        {"slm", "192.0.2.1", 0, "erin", "erin@example.test", "v@a.example.org",
         0, OK},
        {"slm", "192.0.2.1", 0, "erin", "erin@example.test",
         "v@a.b.EXAMPLE.org", 0, OK},
        {"slm", "192.0.2.1", 0, "erin", "erin@example.test", "v@example.org", 0,
         NOT_ALLOWED("v@example.org", "erin", "example.org")},
        {"slm", "192.0.2.1", 0, "erin", "erin@example.test", "v@xexample.org",
         0, NOT_ALLOWED("v@xexample.org", "erin", "xexample.org")},
        {"slm", "192.0.2.1", 0, "erin", "erin@example.test", "v@.example.org",
         0, NOT_ALLOWED("v@.example.org", "erin", ".example.org")},
        {"slm", "192.0.2.1", 0, "erin", "erin@example.test", "v@example.test",
         0, NOT_ALLOWED("v@example.test", "erin", "example.test")},
        {"slm", "192.0.2.1", 0, "erin", "erin@example.test",
         "postmaster@example.test", 0, OK},

        /* no local domains: everything is relaying */
        {"no-local", "192.0.2.1", 0, NULL, "", "v@example.test", 0,
         RELAY("v@example.test")},
        {"no-local", "192.0.2.1", 0, NULL, "", "postmaster@example.test", 0,
         RELAY("postmaster@example.test")},
        {"no-local", "192.0.2.1", 0, NULL, "", "postmaster", 0, OK},
};

static void test_mail_rcpt(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(pcases); i++) {
		const struct pcase *t = &pcases[i];
		const struct srv_policy *p = get_policy(t->policy);
		struct srv_client c;
		struct srv_verdict v;
		char what[600];
		int rc;

		memset(&v, 0x55, sizeof(v));
		client_init(&c, t->ip, t->tls, t->user);
		snprintf(what, sizeof(what),
		         "case %zu (%s, %s, user %s, <%s> -> <%s>)", i,
		         t->policy, t->ip, t->user ? t->user : "-", t->sender,
		         t->rcpt ? t->rcpt : "MAIL");
		if (t->rcpt == MAIL_ONLY)
			rc = srv_check_mail(p, &c, t->sender, &v);
		else
			rc = srv_check_rcpt(p, &c, t->sender, t->rcpt, t->nrcpt,
			                    &v);
		check_verdict(what, &v, rc, t->code, t->enh, t->text,
		              t->reason);
	}
}

/* ---- AUTH ----------------------------------------------------------- */

static const struct acase {
	const char *policy;
	int tls;
	int code;
	const char *enh;
	const char *text;
	const char *reason;
} acases[] = {
        {"submission", 0, 538, "5.7.11",
         "Encryption required for requested authentication mechanism",
         "encryption required"},
        {"submission", 1, OK},
        {"slm", 0, OK},
        {"slm", 1, OK},
        {"mx", 0, 502, "5.5.1", "Error: authentication not enabled",
         "auth not offered"},
        {"mx", 1, 502, "5.5.1", "Error: authentication not enabled",
         "auth not offered"},
        {"open", 1, 502, "5.5.1", "Error: authentication not enabled",
         "auth not offered"},
        {"relay-by-ip", 0, 502, "5.5.1", "Error: authentication not enabled",
         "auth not offered"},
        {"all4", 0, 538, "5.7.11",
         "Encryption required for requested authentication mechanism",
         "encryption required"},
};

static void test_auth(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(acases); i++) {
		const struct acase *t = &acases[i];
		struct srv_client c;
		struct srv_verdict v;
		char what[64];

		client_init(&c, "192.0.2.1", t->tls, NULL);
		snprintf(what, sizeof(what), "auth case %zu (%s)", i,
		         t->policy);
		check_verdict(what, &v,
		              srv_check_auth(get_policy(t->policy), &c, &v),
		              t->code, t->enh, t->text, t->reason);
	}
}

/* ---- networks and domains ------------------------------------------- */

static const struct ncase {
	int family;
	const char *net;
	unsigned prefix;
	const char *addr;
	int want;
} ncases[] = {
        {AF_INET, "0.0.0.0", 0, "255.255.255.255", 1},
        {AF_INET, "0.0.0.0", 0, "0.0.0.0", 1},
        {AF_INET, "0.0.0.0", 0, "::1", 0},
        {AF_INET, "0.0.0.0", 0, "::ffff:10.0.0.1", 1},
        {AF_INET, "192.0.2.1", 32, "192.0.2.1", 1},
        {AF_INET, "192.0.2.1", 32, "192.0.2.0", 0},
        {AF_INET, "192.0.2.1", 32, "192.0.2.129", 0},
        {AF_INET, "192.0.2.1", 32, "::ffff:192.0.2.1", 1},
        {AF_INET, "192.0.2.1", 33, "192.0.2.1", 0}, /* invalid prefix */
        {AF_INET, "10.0.0.0", 8, "10.255.255.255", 1},
        {AF_INET, "10.0.0.0", 8, "11.0.0.0", 0},
        {AF_INET, "10.0.0.0", 8, "9.255.255.255", 0},
        {AF_INET, "172.16.0.0", 12, "172.31.255.255", 1},
        {AF_INET, "172.16.0.0", 12, "172.32.0.0", 0},
        {AF_INET, "128.0.0.0", 1, "200.0.0.1", 1},
        {AF_INET, "128.0.0.0", 1, "127.255.255.255", 0},
        {AF_INET, "192.0.2.0", 31, "192.0.2.1", 1},
        {AF_INET, "192.0.2.0", 31, "192.0.2.2", 0},
        {AF_INET6, "::", 0, "2001:db8::1", 1},
        {AF_INET6, "::", 0, "::", 1},
        {AF_INET6, "::", 0, "192.0.2.1", 0},
        {AF_INET6, "::", 0, "::ffff:192.0.2.1", 0},
        {AF_INET6, "::1", 128, "::1", 1},
        {AF_INET6, "::1", 128, "::", 0},
        {AF_INET6, "::1", 128, "::3", 0},
        {AF_INET6, "::1", 129, "::1", 0}, /* invalid prefix */
        {AF_INET6, "2001:db8::", 32, "2001:db8:ffff::1", 1},
        {AF_INET6, "2001:db8::", 32, "2001:db9::1", 0},
        {AF_INET6, "fe80::", 10, "febf::1", 1},
        {AF_INET6, "fe80::", 10, "fec0::1", 0},
        {AF_INET6, "2001:db8::", 127, "2001:db8::1", 1},
        {AF_INET6, "2001:db8::", 127, "2001:db8::2", 0},
        {AF_INET6, "::ffff:0:0", 96, "::ffff:192.0.2.1", 0},
};

static void test_net_contains(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(ncases); i++) {
		const struct ncase *t = &ncases[i];
		struct srv_net n;
		struct srv_client c;

		memset(&n, 0, sizeof(n));
		n.family = t->family;
		n.prefix = t->prefix;
		assert_int_equal(inet_pton(t->family, t->net, n.addr), 1);
		client_init(&c, t->addr, 0, NULL);
		if (srv_net_contains(&n, c.family, c.addr) != t->want)
			fail_msg("net case %zu: %s/%u contains %s: expected %d",
			         i, t->net, t->prefix, t->addr, t->want);
	}
}

static const struct dcase {
	const char *domain;
	int want;
} dcases[] = {
        {"example.test", 1},     {"EXAMPLE.TEST", 1},
        {"Example.Test", 1},     {"example.net", 1},
        {"example.test.", 0},    {".example.test", 0},
        {"sub.example.test", 0}, {"example.tes", 0},
        {"example.testx", 0},    {"", 0},
        {"example.org", 0},      {"[192.0.2.1]", 0},
};

static void test_local_domain(void **state)
{
	const struct srv_policy *p = get_policy("known");
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(dcases); i++) {
		if (srv_is_local_domain(p, dcases[i].domain) != dcases[i].want)
			fail_msg("domain '%s': expected %d", dcases[i].domain,
			         dcases[i].want);
	}
	assert_int_equal(srv_is_local_domain(p, NULL), 0);
}

static void test_user_lookup(void **state)
{
	const struct srv_policy *p = get_policy("submission");
	const struct srv_user *u;

	(void)state;
	u = srv_policy_user(p, "bob");
	assert_non_null(u);
	assert_string_equal(u->name, "bob");
	assert_int_equal(u->nallowed, 2);
	assert_null(srv_policy_user(p, "Bob"));
	assert_null(srv_policy_user(p, "bo"));
	assert_null(srv_policy_user(p, ""));
	assert_null(srv_policy_user(p, NULL));
}

/* Hostile input: long and unprintable addresses are escaped and elided,
 * and the reply always fits. */
static void test_echo_bounds(void **state)
{
	const struct srv_policy *p = get_policy("submission");
	static char rcpt[4096], user[1024];
	struct srv_client c;
	struct srv_verdict v;
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(rcpt) - 1; i++)
		rcpt[i] = (char)(i % 3 == 0 ? '\x01' : 'a');
	rcpt[sizeof(rcpt) - 1] = '\0';
	memset(user, 'u', sizeof(user) - 1);
	client_init(&c, "192.0.2.1", 1, user);

	srv_check_mail(p, &c, rcpt, &v);
	assert_int_equal(v.code, 553);
	len = strlen(v.text);
	assert_true(len < 400);
	assert_non_null(strstr(v.text, "...>: Sender address rejected"));
	assert_non_null(strstr(v.text, "\\x01"));
	for (i = 0; i < len; i++)
		assert_true(v.text[i] >= 0x20 && v.text[i] < 0x7f);

	c.auth_user = "bob";
	memcpy(rcpt + 3000, "@example.org", 13);
	srv_check_rcpt(p, &c, "bob@example.test", rcpt, 0, &v);
	assert_int_equal(v.code, 550);
	assert_true(strlen(v.text) < 450);
	for (i = 0; v.text[i] != '\0'; i++)
		assert_true(v.text[i] >= 0x20 && v.text[i] < 0x7f);

	c.auth_user = NULL;
	c.tls = 0;
	p = get_policy("mx");
	memset(rcpt, 'a', sizeof(rcpt) - 1);
	srv_check_rcpt(p, &c, "", rcpt, 0, &v);
	assert_int_equal(v.code, 554);
	assert_int_equal(strlen(v.text),
	                 1 + 160 + 3 + strlen(">: Relay access denied"));
}

static int teardown(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(policies); i++) {
		free(policies[i]);
		policies[i] = NULL;
		policy_names[i] = NULL;
	}
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_mail_rcpt),
	        cmocka_unit_test(test_auth),
	        cmocka_unit_test(test_net_contains),
	        cmocka_unit_test(test_local_domain),
	        cmocka_unit_test(test_user_lookup),
	        cmocka_unit_test(test_echo_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, teardown);
}
