/* test_config.c - table-driven tests of the YAML policy loader (config.c):
 * the presets, a full example with every field, the defaults, the error
 * table (each with its line number), numbers with units, the document's
 * shape (nesting depth at the cap and one over, node and anchor caps, and
 * hostile documents refused in bounded time), connections_per_ip's
 * default, users_file through srv_policy_load from a temporary
 * directory. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "smtprobe/ehlo.h"
#include "policy.h"

#include "banned.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define M_PLAIN  SMTPROBE_MECH_PLAIN
#define M_LOGIN  SMTPROBE_MECH_LOGIN
#define M_CRAM   SMTPROBE_MECH_CRAM_MD5
#define M_SCRAM1 SMTPROBE_MECH_SCRAM_SHA_1
#define M_SCRAM  SMTPROBE_MECH_SCRAM_SHA_256

static struct srv_policy *pol;

static int setup(void **state)
{
	(void)state;
	pol = malloc(sizeof(*pol));
	return pol == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	free(pol);
	return 0;
}

static int parse(const char *yaml, char *err, size_t errsz)
{
	return srv_policy_parse(pol, yaml, strlen(yaml), err, errsz);
}

static void check_net(const struct srv_net *n, int family, const char *addr,
                      unsigned prefix)
{
	unsigned char want[16] = {0};

	assert_int_equal(inet_pton(family, addr, want), 1);
	assert_int_equal(n->family, family);
	assert_memory_equal(n->addr, want, 16);
	assert_int_equal(n->prefix, prefix);
}

/* ---- presets ------------------------------------------------------ */

static const struct prcase {
	const char *name;
	int open_relay, offer_auth, without_tls, require_tls, require_auth;
	int slm;
	unsigned mechs;
	size_t ntrusted, nusers;
} prcases[] = {
        {"open", 1, 0, 0, 0, 0, 0, M_PLAIN | M_LOGIN | M_CRAM | M_SCRAM, 0, 0},
        {"mx", 0, 0, 0, 0, 0, 0, M_PLAIN | M_LOGIN | M_CRAM | M_SCRAM, 0, 0},
        {"submission", 0, 1, 0, 1, 1, 1, M_PLAIN | M_LOGIN | M_CRAM | M_SCRAM,
         0, 2},
        {"relay-by-ip", 0, 0, 0, 0, 0, 0, M_PLAIN | M_LOGIN | M_CRAM | M_SCRAM,
         2, 0},
};

static void test_presets(void **state)
{
	char err[512];
	size_t i, n;

	(void)state;
	for (n = 0; srv_preset_names[n] != NULL; n++)
		;
	assert_int_equal(n, NELEM(prcases));
	for (i = 0; i < NELEM(prcases); i++) {
		const struct prcase *t = &prcases[i];
		int via;

		assert_string_equal(srv_preset_names[i], t->name);
		for (via = 0; via < 2; via++) {
			int rc = via ? srv_policy_load(pol, t->name, err,
			                               sizeof(err))
			             : srv_policy_preset(pol, t->name, err,
			                                 sizeof(err));
			if (rc != 0)
				fail_msg("preset %s: %s", t->name, err);
			assert_string_equal(pol->name, t->name);
			assert_string_equal(pol->hostname, "mx.example.test");
			assert_int_equal(pol->nlocal, 1);
			assert_string_equal(pol->local_domains[0],
			                    "example.test");
			assert_int_equal(pol->open_relay, t->open_relay);
			assert_int_equal(pol->offer_auth, t->offer_auth);
			assert_int_equal(pol->auth_without_tls, t->without_tls);
			assert_int_equal(pol->require_tls, t->require_tls);
			assert_int_equal(pol->require_auth, t->require_auth);
			assert_int_equal(pol->sender_login_match, t->slm);
			assert_int_equal(pol->known_recipients, 0);
			assert_int_equal(pol->mechs, t->mechs);
			assert_int_equal(pol->ntrusted, t->ntrusted);
			assert_int_equal(pol->nusers, t->nusers);
			assert_int_equal(pol->max_recipients, 100);
			assert_int_equal(pol->max_size, 10UL << 20);
			assert_int_equal(pol->nfaults, 0);
		}
	}

	assert_int_equal(
	        srv_policy_preset(pol, "relay-by-ip", err, sizeof(err)), 0);
	check_net(&pol->trusted[0], AF_INET, "127.0.0.0", 8);
	check_net(&pol->trusted[1], AF_INET6, "::1", 128);

	assert_int_equal(srv_policy_preset(pol, "submission", err, sizeof(err)),
	                 0);
	assert_string_equal(pol->users[0].name, "alice");
	assert_string_equal(pol->users[0].password, "alice-password");
	assert_int_equal(pol->users[0].nowns, 1);
	assert_string_equal(pol->users[0].owns[0], "alice@example.test");
	assert_int_equal(pol->users[0].nallowed, 0);
	assert_string_equal(pol->users[1].name, "bob");
	assert_string_equal(pol->users[1].password, "bob-password");
	assert_int_equal(pol->users[1].nowns, 1);
	assert_string_equal(pol->users[1].owns[0], "bob@example.test");
	assert_int_equal(pol->users[1].nallowed, 2);
	assert_string_equal(pol->users[1].allowed[0], "example.test");
	assert_string_equal(pol->users[1].allowed[1], "example.net");

	assert_int_equal(srv_policy_preset(pol, "MX", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown preset 'MX'"));
	assert_int_equal(srv_policy_preset(pol, "", err, sizeof(err)), -1);
}

/* ---- the full example --------------------------------------------- */

static const char full_example[] =
        "# every key\n"
        "hostname: mx.example.test\n"
        "local_domains: [example.test, Example.NET]\n"
        "trusted_networks: [\"127.0.0.0/8\", \"::1/128\", 192.0.2.7,\n"
        "                   \"2001:db8::/32\", 0.0.0.0/0]\n"
        "open_relay: false\n"
        "known_recipients: yes\n"
        "require_tls: TRUE\n"
        "require_auth: on\n"
        "sender_login_match: true\n"
        "max_recipients: 50\n"
        "max_message_size: 25M\n"
        "auth:\n"
        "  offer: true\n"
        "  without_tls: true\n"
        "  mechanisms: [plain, LOGIN, CRAM-MD5, SCRAM-SHA-1, "
        "SCRAM-SHA-256]\n"
        "users:\n"
        "  - name: alice\n"
        "    password: \"alice password: with colon\"\n"
        "    owns: [alice@example.test, a.smith@example.net]\n"
        "    allowed_domains: [example.test, .example.org]\n"
        "    message_rate: 7\n"
        "  - name: bob@example.test\n"
        "    password: b\n"
        "limits:\n"
        "  max_connections: 20\n"
        "  connections_per_ip: 3\n"
        "  connection_rate: 30\n"
        "  auth_failures: 5\n"
        "  auth_failure_delay: 2s\n"
        "  greylist: 5m\n"
        "  message_rate: 60\n"
        "faults:\n"
        "  - command: rcpt\n"
        "    action: reply\n"
        "    code: 451\n"
        "    text: \"4.3.0 try again later\"\n"
        "    probability: 0.25\n"
        "  - {command: connect, action: delay, ms: 1500}\n"
        "  - {command: MAIL, action: 421-after, count: 5}\n"
        "  - {command: DATA, action: long-line, bytes: 100K}\n"
        "  - {command: Dot, action: drip, ms: 1s}\n"
        "  - {command: any, action: garbage, probability: 1}\n"
        "  - {command: ehlo, action: drop}\n"
        "  - {command: helo, action: silence}\n"
        "  - {command: EHLO, action: endless}\n"
        "  - {command: data, action: reset-data}\n"
        "  - {command: starttls, action: bad-starttls, probability: .5}\n";

static void test_full_example(void **state)
{
	const struct srv_user *u;
	char err[512];

	(void)state;
	if (parse(full_example, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(pol->name, "");
	assert_string_equal(pol->hostname, "mx.example.test");
	assert_int_equal(pol->nlocal, 2);
	assert_string_equal(pol->local_domains[0], "example.test");
	assert_string_equal(pol->local_domains[1], "Example.NET");
	assert_int_equal(pol->ntrusted, 5);
	check_net(&pol->trusted[0], AF_INET, "127.0.0.0", 8);
	check_net(&pol->trusted[1], AF_INET6, "::1", 128);
	check_net(&pol->trusted[2], AF_INET, "192.0.2.7", 32);
	check_net(&pol->trusted[3], AF_INET6, "2001:db8::", 32);
	check_net(&pol->trusted[4], AF_INET, "0.0.0.0", 0);
	assert_int_equal(pol->open_relay, 0);
	assert_int_equal(pol->known_recipients, 1);
	assert_int_equal(pol->require_tls, 1);
	assert_int_equal(pol->require_auth, 1);
	assert_int_equal(pol->sender_login_match, 1);
	assert_int_equal(pol->max_recipients, 50);
	assert_int_equal(pol->max_size, 25UL << 20);
	assert_int_equal(pol->offer_auth, 1);
	assert_int_equal(pol->auth_without_tls, 1);
	assert_int_equal(pol->mechs,
	                 M_PLAIN | M_LOGIN | M_CRAM | M_SCRAM1 | M_SCRAM);

	assert_int_equal(pol->nusers, 2);
	u = &pol->users[0];
	assert_string_equal(u->name, "alice");
	assert_string_equal(u->password, "alice password: with colon");
	assert_int_equal(u->nowns, 2);
	assert_string_equal(u->owns[0], "alice@example.test");
	assert_string_equal(u->owns[1], "a.smith@example.net");
	assert_int_equal(u->nallowed, 2);
	assert_string_equal(u->allowed[0], "example.test");
	assert_string_equal(u->allowed[1], ".example.org");
	assert_int_equal(u->msg_rate, 7);
	u = &pol->users[1];
	assert_string_equal(u->name, "bob@example.test");
	assert_string_equal(u->password, "b");
	assert_int_equal(u->nowns, 0); /* the default is applied by policy.c */
	assert_int_equal(u->nallowed, 0);
	assert_int_equal(u->msg_rate, 0);

	assert_int_equal(pol->max_connections, 20);
	assert_int_equal(pol->conn_per_ip, 3);
	assert_int_equal(pol->conn_rate, 30);
	assert_int_equal(pol->auth_fail_limit, 5);
	assert_int_equal(pol->auth_fail_delay_ms, 2000);
	assert_int_equal(pol->greylist_secs, 300);
	assert_int_equal(pol->msg_rate, 60);

	assert_int_equal(pol->nfaults, 11);
	assert_int_equal(pol->faults[0].kind, SRV_FAULT_REPLY);
	assert_string_equal(pol->faults[0].when, "RCPT");
	assert_int_equal(pol->faults[0].code, 451);
	assert_string_equal(pol->faults[0].text, "4.3.0 try again later");
	assert_true(pol->faults[0].probability == 0.25);
	assert_int_equal(pol->faults[1].kind, SRV_FAULT_DELAY);
	assert_string_equal(pol->faults[1].when, "connect");
	assert_int_equal(pol->faults[1].n, 1500);
	assert_true(pol->faults[1].probability == 1.0);
	assert_int_equal(pol->faults[2].kind, SRV_FAULT_421_AFTER);
	assert_string_equal(pol->faults[2].when, "MAIL");
	assert_int_equal(pol->faults[2].n, 5);
	assert_int_equal(pol->faults[3].kind, SRV_FAULT_LONG_LINE);
	assert_string_equal(pol->faults[3].when, "DATA");
	assert_int_equal(pol->faults[3].n, 102400);
	assert_int_equal(pol->faults[4].kind, SRV_FAULT_DRIP);
	assert_string_equal(pol->faults[4].when, "dot");
	assert_int_equal(pol->faults[4].n, 1000);
	assert_int_equal(pol->faults[5].kind, SRV_FAULT_GARBAGE);
	assert_string_equal(pol->faults[5].when, "any");
	assert_true(pol->faults[5].probability == 1.0);
	assert_int_equal(pol->faults[6].kind, SRV_FAULT_DROP);
	assert_string_equal(pol->faults[6].when, "EHLO");
	assert_int_equal(pol->faults[7].kind, SRV_FAULT_SILENCE);
	assert_string_equal(pol->faults[7].when, "HELO");
	assert_int_equal(pol->faults[8].kind, SRV_FAULT_ENDLESS);
	assert_int_equal(pol->faults[9].kind, SRV_FAULT_RESET_DATA);
	assert_int_equal(pol->faults[10].kind, SRV_FAULT_BAD_STARTTLS);
	assert_string_equal(pol->faults[10].when, "STARTTLS");
	assert_true(pol->faults[10].probability == 0.5);
	assert_int_equal(pol->faults[10].n, 0);
	assert_int_equal(pol->faults[10].code, 0);
}

/* ---- defaults ----------------------------------------------------- */

static void check_defaults(const char *what)
{
	if (strcmp(pol->hostname, "mx.example.test") != 0 || pol->nlocal != 1 ||
	    strcmp(pol->local_domains[0], "example.test") != 0 ||
	    pol->ntrusted != 0 || pol->open_relay || pol->known_recipients ||
	    pol->require_tls || pol->require_auth || pol->sender_login_match ||
	    !pol->offer_auth || pol->auth_without_tls ||
	    pol->mechs != (M_PLAIN | M_LOGIN | M_CRAM | M_SCRAM) ||
	    pol->max_recipients != 100 || pol->max_size != 10UL << 20 ||
	    pol->nusers != 0 || pol->max_connections != 100 ||
	    pol->conn_per_ip != 50 || pol->conn_rate != 0 ||
	    pol->auth_fail_limit != 0 || pol->auth_fail_delay_ms != 0 ||
	    pol->greylist_secs != 0 || pol->msg_rate != 0 ||
	    pol->nfaults != 0 || pol->name[0] != '\0')
		fail_msg("%s: not the defaults", what);
}

static const char *const empty_docs[] = {
        "",    "# nothing\n", "---\n", "---\n...\n",
        "~\n", "\n\n  \n",    "{}",    "---\n---\n",
};

static void test_defaults(void **state)
{
	char err[512];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(empty_docs); i++) {
		/* a previous policy must not leak through */
		assert_int_equal(
		        srv_policy_preset(pol, "submission", err, sizeof(err)),
		        0);
		if (parse(empty_docs[i], err, sizeof(err)) != 0)
			fail_msg("empty doc %zu: %s", i, err);
		check_defaults(empty_docs[i]);
	}
}

/* ---- numbers with units ------------------------------------------- */

enum nfield { N_SIZE, N_RCPT, N_DELAY, N_GREY, N_FAULT_MS, N_FAULT_BYTES };

static const struct ncase {
	const char *yaml;
	enum nfield field;
	unsigned long want;
} ncases[] = {
        {"max_message_size: 0", N_SIZE, 0},
        {"max_message_size: 1000", N_SIZE, 1000},
        {"max_message_size: 512K", N_SIZE, 512UL * 1024},
        {"max_message_size: 512k", N_SIZE, 512UL * 1024},
        {"max_message_size: 10M", N_SIZE, 10UL << 20},
        {"max_message_size: 2G", N_SIZE, 2UL << 30},
        {"max_message_size: \"10M\"", N_SIZE, 10UL << 20},
        {"max_recipients: 0", N_RCPT, 0},
        {"max_recipients: 4294967295", N_RCPT, 4294967295UL},
        {"max_recipients: 007", N_RCPT, 7},
        {"limits: {auth_failure_delay: 250}", N_DELAY, 250},
        {"limits: {auth_failure_delay: 250ms}", N_DELAY, 250},
        {"limits: {auth_failure_delay: 2s}", N_DELAY, 2000},
        {"limits: {auth_failure_delay: 1m}", N_DELAY, 60000},
        {"limits: {auth_failure_delay: 1h}", N_DELAY, 3600000},
        {"limits: {greylist: 300}", N_GREY, 300},
        {"limits: {greylist: 5m}", N_GREY, 300},
        {"limits: {greylist: 30s}", N_GREY, 30},
        {"limits: {greylist: 2h}", N_GREY, 7200},
        {"limits: {greylist: 3000ms}", N_GREY, 3},
        {"faults: [{command: RCPT, action: delay, ms: 0}]", N_FAULT_MS, 0},
        {"faults: [{command: RCPT, action: delay, ms: 24h}]", N_FAULT_MS,
         86400000},
        {"faults: [{command: RCPT, action: long-line, bytes: 1M}]",
         N_FAULT_BYTES, 1UL << 20},
        {"faults: [{command: RCPT, action: long-line, bytes: 1000}]",
         N_FAULT_BYTES, 1000},
};

static void test_numbers(void **state)
{
	char err[512];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(ncases); i++) {
		const struct ncase *t = &ncases[i];
		unsigned long got = 0;

		if (parse(t->yaml, err, sizeof(err)) != 0)
			fail_msg("%s: %s", t->yaml, err);
		switch (t->field) {
		case N_SIZE:
			got = pol->max_size;
			break;
		case N_RCPT:
			got = pol->max_recipients;
			break;
		case N_DELAY:
			got = pol->auth_fail_delay_ms;
			break;
		case N_GREY:
			got = pol->greylist_secs;
			break;
		case N_FAULT_MS:
		case N_FAULT_BYTES:
			got = pol->faults[0].n;
			break;
		}
		if (got != t->want)
			fail_msg("%s: got %lu, expected %lu", t->yaml, got,
			         t->want);
	}
}

/* ---- errors ------------------------------------------------------- */

static const struct ecase {
	const char *yaml;
	const char *err; /* the start of the message */
} ecases[] = {
        /* keys */
        {"hostname: a\nbogus: 1\n", "line 2: unknown key 'bogus'"},
        {"auth:\n  offer: true\n  colour: red\n",
         "line 3: unknown key 'colour'"},
        {"limits: {greylist: 1, spam: 2}", "line 1: unknown key 'spam'"},
        {"users:\n  - name: a\n    password: b\n    admin: true\n",
         "line 4: unknown key 'admin'"},
        {"faults:\n  - command: RCPT\n    action: drop\n    when: now\n",
         "line 4: unknown key 'when'"},
        {"Hostname: a", "line 1: unknown key 'Hostname'"},
        {"hostname: a\nhostname: b\n", "line 2: duplicate key 'hostname'"},
        {"? [a]\n: b\n", "line 1: key: expected a value, got a list"},
        /* CIDRs */
        {"trusted_networks: [\"10.0.0.0/33\"]",
         "line 1: trusted_networks: prefix of '10.0.0.0/33' is longer than "
         "32"},
        {"trusted_networks:\n  - \"::1/128\"\n  - \"2001:db8::/129\"\n",
         "line 3: trusted_networks: prefix of '2001:db8::/129' is longer "
         "than 128"},
        {"trusted_networks: [10.0.0.1/8]",
         "line 1: trusted_networks: '10.0.0.1/8' has host bits set"},
        {"trusted_networks: [\"2001:db8::1/64\"]",
         "line 1: trusted_networks: '2001:db8::1/64' has host bits set"},
        {"trusted_networks: [300.0.0.0/8]",
         "line 1: trusted_networks: bad address in '300.0.0.0/8'"},
        {"trusted_networks: [\"::g/8\"]",
         "line 1: trusted_networks: bad address in '::g/8'"},
        {"trusted_networks: [10.0.0.0/]",
         "line 1: trusted_networks: bad prefix in '10.0.0.0/'"},
        {"trusted_networks: [10.0.0.0/-8]",
         "line 1: trusted_networks: bad prefix in '10.0.0.0/-8'"},
        {"trusted_networks: [10.0.0.0/8/8]",
         "line 1: trusted_networks: bad prefix in '10.0.0.0/8/8'"},
        {"trusted_networks: [\"/8\"]",
         "line 1: trusted_networks: bad network '/8'"},
        {"trusted_networks: [localhost]",
         "line 1: trusted_networks: bad address in 'localhost'"},
        /* numbers */
        {"max_message_size: 10X",
         "line 1: max_message_size: bad number or unit '10X'"},
        {"max_message_size: 10MB",
         "line 1: max_message_size: bad number or unit '10MB'"},
        {"max_message_size: M", "line 1: max_message_size: expected a number"},
        {"max_message_size: 99999999999G",
         "line 1: max_message_size: '99999999999G' is too large"},
        {"max_message_size: 99999999999999999999",
         "line 1: max_message_size: '99999999999999999999' is too large"},
        {"max_recipients: -1",
         "line 1: max_recipients: expected a number, got '-1'"},
        {"max_recipients: 4294967296",
         "line 1: max_recipients: '4294967296' is too large"},
        {"max_recipients: 10K",
         "line 1: max_recipients: bad number or unit '10K'"},
        {"max_recipients: 1.5",
         "line 1: max_recipients: bad number or unit '1.5'"},
        {"max_recipients: 0x10",
         "line 1: max_recipients: bad number or unit '0x10'"},
        {"max_recipients: \" 5\"", "line 1: max_recipients: expected a number"},
        {"limits:\n  greylist: 1500ms\n",
         "line 2: greylist: '1500ms' is not a whole number of seconds"},
        {"limits:\n  greylist: 5d\n",
         "line 2: greylist: bad number or unit '5d'"},
        {"limits:\n  auth_failure_delay: 5000h\n",
         "line 2: auth_failure_delay: '5000h' is too large"},
        /* types */
        {"open_relay: [true]",
         "line 1: open_relay: expected a value, got a list"},
        {"open_relay: maybe",
         "line 1: open_relay: expected true or false, got 'maybe'"},
        {"open_relay: 1", "line 1: open_relay: expected true or false"},
        {"open_relay:", "line 1: open_relay: expected true or false, got ''"},
        {"local_domains: example.test",
         "line 1: local_domains: expected a list, got a value"},
        {"local_domains: {a: b}",
         "line 1: local_domains: expected a list, got a mapping"},
        {"local_domains: [[a]]",
         "line 1: local_domains: expected a value, got a list"},
        {"local_domains: [\"\"]", "line 1: local_domains: empty value"},
        {"local_domains: [user@example.test]",
         "line 1: local_domains: 'user@example.test' is not a domain"},
        {"hostname: \"mx example\"", "line 1: hostname: space in"},
        {"hostname:", "line 1: hostname: empty value"},
        {"hostname: ~", "line 1: hostname: empty value"},
        {"hostname: {a: b}",
         "line 1: hostname: expected a value, got a mapping"},
        {"hostname: \"a\\r\\nb\"",
         "line 1: hostname: control character in value"},
        {"hostname: \"a\\0b\"", "line 1: hostname: NUL character in value"},
        {"auth: true", "line 1: auth: expected a mapping, got a value"},
        {"auth:\n  mechanisms: PLAIN\n",
         "line 2: auth.mechanisms: expected a list"},
        {"auth:\n  mechanisms: [PLAIN, FOO]\n",
         "line 2: auth.mechanisms: unknown mechanism 'FOO'"},
        {"auth:\n  mechanisms: [DIGEST-MD5]\n",
         "line 2: auth.mechanisms: 'DIGEST-MD5' is not available "
         "server-side"},
        {"auth:\n  mechanisms: [XOAUTH2]\n",
         "line 2: auth.mechanisms: 'XOAUTH2' is not available"},
        {"hostname: a\nauth:\n  mechanisms: []\n",
         "line 3: auth.offer is true but auth.mechanisms is empty"},
        {"users: {name: a}", "line 1: users: expected a list, got a mapping"},
        {"users: [alice]", "line 1: users: expected a mapping, got a value"},
        {"faults: {command: RCPT}",
         "line 1: faults: expected a list, got a mapping"},
        {"[a, b]", "line 1: expected a mapping of keys, got a list"},
        {"just text", "line 1: expected a mapping of keys, got a value"},
        /* users */
        {"users:\n  - name: alice\n    password: x\n  - name: bob\n"
         "    password: y\n  - name: alice\n    password: z\n",
         "line 6: users: duplicate user 'alice'"},
        {"users:\n  - password: x\n", "line 2: users: a user without a name"},
        {"users:\n  - name: alice\n", "line 2: users: user 'alice' has no "
                                      "password"},
        {"users:\n  - name: alice\n    password: \"\"\n",
         "line 3: password: empty value"},
        {"users:\n  - {name: a, password: b, owns: [x, y, z, x, y, z, x, y, "
         "z]}\n",
         "line 2: owns: too many items (9, at most 8)"},
        {"users:\n  - {name: a, password: b, owns: a@example.test}\n",
         "line 2: owns: expected a list"},
        {"users:\n  - {name: \"a b\", password: b}\n", "line 2: name: space"},
        {"users_file: users.txt", "line 1: users_file is only allowed in a "
                                  "file"},
        {"hostname: a\nusers_file: /etc/passwd\n",
         "line 2: users_file is only allowed in a file"},
        /* faults */
        {"faults:\n  - command: RCPT\n    action: explode\n",
         "line 3: action: unknown action 'explode'"},
        {"faults:\n  - command: FROB\n    action: drop\n",
         "line 2: command: unknown command 'FROB'"},
        {"faults:\n  - command: RCPT\n    action: reply\n",
         "line 2: faults: action 'reply' needs 'code'"},
        {"faults:\n  - command: RCPT\n    action: reply\n    code: 451\n"
         "    ms: 10\n",
         "line 5: ms: does not apply to action 'reply'"},
        {"faults:\n  - {command: RCPT, action: drop, text: hi}\n",
         "line 2: text: does not apply to action 'drop'"},
        {"faults:\n  - {command: RCPT, action: delay}\n",
         "line 2: faults: action 'delay' needs 'ms'"},
        {"faults:\n  - {command: RCPT, action: 421-after}\n",
         "line 2: faults: action '421-after' needs 'count'"},
        {"faults:\n  - {command: RCPT, action: long-line}\n",
         "line 2: faults: action 'long-line' needs 'bytes'"},
        {"faults:\n  - {command: RCPT, action: long-line, bytes: 1G}\n",
         "line 2: bytes: '1G' is too large"},
        {"faults:\n  - {command: RCPT, action: reply, code: 999}\n",
         "line 2: code: '999' is too large"},
        {"faults:\n  - {command: RCPT, action: reply, code: 199}\n",
         "line 2: code: expected 200..599, got 199"},
        {"faults:\n  - {command: RCPT, action: reply, code: 451, text: "
         "\"a\\r\\n250 ok\"}\n",
         "line 2: text: control character in value"},
        {"faults:\n  - {command: RCPT, action: drop, probability: 1.5}\n",
         "line 2: probability: expected 0..1, got '1.5'"},
        {"faults:\n  - {command: RCPT, action: drop, probability: -0.5}\n",
         "line 2: probability: expected 0..1, got '-0.5'"},
        {"faults:\n  - {command: RCPT, action: drop, probability: nan}\n",
         "line 2: probability: expected 0..1, got 'nan'"},
        {"faults:\n  - {command: RCPT, action: drop, probability: 1e0}\n",
         "line 2: probability: expected 0..1, got '1e0'"},
        {"faults:\n  - {command: RCPT, action: drop, probability: .}\n",
         "line 2: probability: expected 0..1, got '.'"},
        {"faults:\n  - {action: drop}\n",
         "line 2: faults: a fault without a command"},
        {"faults:\n  - {command: RCPT}\n",
         "line 2: faults: a fault without an action"},
        {"faults:\n  - {command: RCPT, action: drop, action: drop}\n",
         "line 2: duplicate key 'action'"},
        /* malformed YAML */
        {"hostname: [a\n", "line 2: did not find expected ',' or ']'"},
        {"a: 1\n b: 2\n", "line 2: mapping values are not allowed"},
        {"\t- x", "line 1: found character that cannot start any token"},
        {"hostname: *x", "line 1: found undefined alias"},
        {"hostname: \"open\n", "line 2: found unexpected end of stream"},
        {"hostname: a\n---\nhostname: b\n",
         "line 3: more than one YAML document"},
        /* anchors work but can't build a loop the walk would follow */
        {"local_domains: &d [*d]",
         "line 1: local_domains: expected a value, got a list"},
        {"auth: &a {offer: true, mechanisms: *a}",
         "line 1: auth.mechanisms: expected a list, got a mapping"},
};

static void test_errors(void **state)
{
	char err[512];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(ecases); i++) {
		const struct ecase *t = &ecases[i];

		memset(err, 'x', sizeof(err));
		if (parse(t->yaml, err, sizeof(err)) != -1)
			fail_msg("case %zu accepted: %s", i, t->yaml);
		if (strncmp(err, t->err, strlen(t->err)) != 0)
			fail_msg("case %zu: got \"%s\", expected \"%s...\"", i,
			         err, t->err);
	}
}

/* Caps: lists at their limit pass, one more fails; long values. */
static void test_caps(void **state)
{
	static char buf[SRV_MAX_CONFIG + 2];
	char err[512], name[SRV_MAX_NAME + 2];
	size_t len, i;

	(void)state;
	/* SRV_MAX_DOMAINS local domains, then one more */
	len = (size_t)snprintf(buf, sizeof(buf), "local_domains:\n");
	for (i = 0; i < SRV_MAX_DOMAINS; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
		                        "  - d%zu.example\n", i);
	assert_int_equal(srv_policy_parse(pol, buf, len, err, sizeof(err)), 0);
	assert_int_equal(pol->nlocal, SRV_MAX_DOMAINS);
	assert_string_equal(pol->local_domains[SRV_MAX_DOMAINS - 1],
	                    "d63.example");
	len += (size_t)snprintf(buf + len, sizeof(buf) - len, "  - x\n");
	assert_int_equal(srv_policy_parse(pol, buf, len, err, sizeof(err)), -1);
	assert_string_equal(err, "line 2: local_domains: too many items (65, "
	                         "at most 64)");

	/* SRV_MAX_USERS users, then one more */
	len = (size_t)snprintf(buf, sizeof(buf), "users:\n");
	for (i = 0; i <= SRV_MAX_USERS; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
		                        "  - {name: u%zu, password: p}\n", i);
	assert_int_equal(srv_policy_parse(pol, buf, len, err, sizeof(err)), -1);
	assert_string_equal(err,
	                    "line 2: users: too many items (129, at most 128)");

	/* SRV_MAX_NETS networks, SRV_MAX_FAULTS faults, then one more */
	len = (size_t)snprintf(buf, sizeof(buf), "trusted_networks:\n");
	for (i = 0; i <= SRV_MAX_NETS; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
		                        "  - 10.0.%zu.0/24\n", i);
	assert_int_equal(srv_policy_parse(pol, buf, len, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too many items (65, at most 64)"));
	len = (size_t)snprintf(buf, sizeof(buf), "faults:\n");
	for (i = 0; i <= SRV_MAX_FAULTS; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
		                        "  - {command: any, action: drop}\n");
	assert_int_equal(srv_policy_parse(pol, buf, len, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too many items (33, at most 32)"));

	/* a value of exactly SRV_MAX_NAME - 1 bytes fits, one more fails */
	memset(name, 'h', sizeof(name));
	name[SRV_MAX_NAME - 1] = '\0';
	len = (size_t)snprintf(buf, sizeof(buf), "hostname: %s\n", name);
	assert_int_equal(srv_policy_parse(pol, buf, len, err, sizeof(err)), 0);
	assert_string_equal(pol->hostname, name);
	name[SRV_MAX_NAME - 1] = 'h';
	name[SRV_MAX_NAME] = '\0';
	len = (size_t)snprintf(buf, sizeof(buf), "hostname: %s\n", name);
	assert_int_equal(srv_policy_parse(pol, buf, len, err, sizeof(err)), -1);
	assert_string_equal(err,
	                    "line 1: hostname: value longer than 255 bytes");
	len = (size_t)snprintf(buf, sizeof(buf),
	                       "faults: [{command: RCPT, action: reply, "
	                       "code: 451, text: %s}]\n",
	                       name);
	assert_int_equal(srv_policy_parse(pol, buf, len, err, sizeof(err)), -1);
	assert_string_equal(err, "line 1: text: value longer than 255 bytes");

	/* SRV_MAX_CONFIG bytes pass (comments), one more is refused */
	memset(buf, '#', SRV_MAX_CONFIG + 1);
	buf[SRV_MAX_CONFIG - 1] = '\n';
	assert_int_equal(
	        srv_policy_parse(pol, buf, SRV_MAX_CONFIG, err, sizeof(err)),
	        0);
	assert_int_equal(srv_policy_parse(pol, buf, SRV_MAX_CONFIG + 1, err,
	                                  sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "config too large"));

	/* a NUL in the text, a tiny err buffer, no err buffer */
	assert_int_equal(
	        srv_policy_parse(pol, "hostname: a\0b", 13, err, sizeof(err)),
	        -1);
	assert_int_equal(srv_policy_parse(pol, "bogus: 1", 8, err, 8), -1);
	assert_string_equal(err, "line 1:");
	assert_int_equal(srv_policy_parse(pol, "bogus: 1", 8, NULL, 0), -1);
	/* invalid UTF-8 */
	assert_int_equal(srv_policy_parse(pol, "hostname: \xff\xfe", 12, err,
	                                  sizeof(err)),
	                 -1);
}

/* ---- the document's shape: depth, nodes, anchors ------------------- */

/* Build a document: head, then open x n, then mid, then close x n, then
 * tail. Returns its length. */
static size_t nest(char *buf, size_t cap, const char *head, const char *open,
                   const char *mid, const char *close, size_t n,
                   const char *tail)
{
	size_t len = (size_t)snprintf(buf, cap, "%s", head);

	for (size_t i = 0; i < n && len < cap; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%s", open);
	len += (size_t)snprintf(buf + len, cap - len, "%s", mid);
	for (size_t i = 0; close[0] != '\0' && i < n && len < cap; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%s", close);
	len += (size_t)snprintf(buf + len, cap - len, "%s", tail);
	assert_true(len < cap);
	return len;
}

/* Collections below the root mapping: SRV_MAX_DEPTH - 1 of them reach
 * the cap (the root is level 1) and fail on the schema as before; one
 * more is refused by the pre-scan, with its line. */
static const struct dcase {
	const char *head, *open, *mid, *close, *tail;
	int extra; /* levels relative to the cap: 0 = at it, 1 = one over */
	const char *err;
} dcases[] = {
        /* flow lists */
        {"hostname: ", "[", "a", "]", "\n", 0,
         "line 1: hostname: expected a value, got a list"},
        {"hostname: ", "[", "a", "]", "\n", 1,
         "line 1: nesting deeper than 32 levels"},
        /* flow mappings */
        {"auth: ", "{a: ", "b", "}", "\n", 0, "line 1: unknown key 'a'"},
        {"auth: ", "{a: ", "b", "}", "\n", 1,
         "line 1: nesting deeper than 32 levels"},
        /* block lists on one line */
        {"users:\n  ", "- ", "x", "", "\n", 0,
         "line 2: users: expected a mapping, got a list"},
        {"users:\n  ", "- ", "x", "", "\n", 1,
         "line 2: nesting deeper than 32 levels"},
        /* an empty list at the bottom counts as a level */
        {"local_domains: ", "[", "", "]", "\n", 0,
         "line 1: local_domains: expected a value, got a list"},
        {"local_domains: ", "[", "", "]", "\n", 1,
         "line 1: nesting deeper than 32 levels"},
        /* the second document is scanned too */
        {"---\n---\nhostname: ", "[", "a", "]", "\n", 1,
         "line 3: nesting deeper than 32 levels"},
};

static void test_depth(void **state)
{
	static char buf[8192];
	char err[512];

	(void)state;
	for (size_t i = 0; i < NELEM(dcases); i++) {
		const struct dcase *t = &dcases[i];
		size_t len = nest(
		        buf, sizeof(buf), t->head, t->open, t->mid, t->close,
		        (size_t)(SRV_MAX_DEPTH - 1 + t->extra), t->tail);

		if (srv_policy_parse(pol, buf, len, err, sizeof(err)) != -1)
			fail_msg("depth case %zu accepted", i);
		if (strcmp(err, t->err) != 0)
			fail_msg("depth case %zu: got \"%s\", expected \"%s\"",
			         i, err, t->err);
	}

	/* block mappings, one level a line: the line that goes too deep */
	size_t len = 0;
	for (size_t i = 0; i <= SRV_MAX_DEPTH; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
		                        "%*sk%zu:\n", (int)i, "", i);
	assert_int_equal(srv_policy_parse(pol, buf, len, err, sizeof(err)), -1);
	assert_string_equal(err, "line 33: nesting deeper than 32 levels");

	/* the schema's own depth (users -> a user -> owns) is far below */
	assert_int_equal(parse("users:\n  - name: a\n    password: b\n"
	                       "    owns: [a@example.test]\n",
	                       err, sizeof(err)),
	                 0);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 100,000 levels (44.8 s with libyaml's loader alone) are refused at
 * once; so are the other shapes that made loading quadratic. */
static const struct bcase {
	const char *head, *open, *mid, *close;
	size_t n;
	const char *err;
} bcases[] = {
        {"", "[", "", "]", 100000, "line 1: nesting deeper than 32 levels"},
        {"", "{a: ", "b", "}", 100000, "line 1: nesting deeper than 32 levels"},
        {"", "- ", "x", "", 100000, "line 1: nesting deeper than 32 levels"},
        {"hostname: ", "[", "", "]", 100000,
         "line 1: nesting deeper than 32 levels"},
        /* 100,000 values, 100,000 anchors, 100,000 aliases of the last
         * of 128 anchors */
        {"local_domains: [", "a, ", "", "", 100000,
         "line 1: more than 16384 YAML nodes"},
        {"local_domains: [", "&a x, ", "", "", 100000,
         "line 1: more than 128 anchors"},
};

static void test_bounded_time(void **state)
{
	static char buf[SRV_MAX_CONFIG + 1];
	char err[512];
	size_t len, i;
	double t;

	(void)state;
	for (i = 0; i < NELEM(bcases); i++) {
		const struct bcase *b = &bcases[i];

		len = nest(buf, sizeof(buf), b->head, b->open, b->mid, b->close,
		           b->n, "\n");
		t = now_s();
		assert_int_equal(
		        srv_policy_parse(pol, buf, len, err, sizeof(err)), -1);
		t = now_s() - t;
		if (strcmp(err, b->err) != 0)
			fail_msg("case %zu: got \"%s\", expected \"%s\"", i,
			         err, b->err);
		if (t > 1.0)
			fail_msg("case %zu: %zu bytes refused in %.2f s", i,
			         len, t);
	}

	/* within the caps: 128 anchors and as many aliases as fit in the
	 * node cap, each of the last anchor (libyaml's slowest lookup) */
	len = (size_t)snprintf(buf, sizeof(buf), "x: [");
	for (i = 0; i < SRV_MAX_ANCHORS; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
		                        "&anchor_%03zu v, ", i);
	for (i = 0; i < SRV_MAX_NODES - SRV_MAX_ANCHORS - 3; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
		                        "*anchor_%03d, ", SRV_MAX_ANCHORS - 1);
	len += (size_t)snprintf(buf + len, sizeof(buf) - len, "]\n");
	assert_true(len < SRV_MAX_CONFIG);
	t = now_s();
	assert_int_equal(srv_policy_parse(pol, buf, len, err, sizeof(err)), -1);
	t = now_s() - t;
	assert_string_equal(err, "line 1: unknown key 'x'");
	if (t > 1.0)
		fail_msg("anchors and aliases: %.2f s", t);
}

/* The node and anchor caps: at the cap the schema speaks, as before. */
static void test_node_caps(void **state)
{
	static char buf[SRV_MAX_CONFIG + 1];
	char err[512], want[128];
	size_t len, i, items;

	(void)state;
	/* root mapping, key, list: 3 nodes, then the items */
	items = SRV_MAX_NODES - 3;
	len = (size_t)snprintf(buf, sizeof(buf), "local_domains: [");
	for (i = 0; i < items; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "d, ");
	len += (size_t)snprintf(buf + len, sizeof(buf) - len, "]\n");
	assert_int_equal(srv_policy_parse(pol, buf, len, err, sizeof(err)), -1);
	snprintf(want, sizeof(want),
	         "line 1: local_domains: too many items (%zu, at most 64)",
	         items);
	assert_string_equal(err, want);
	memcpy(buf + len - 3, "d]\n", 3);
	assert_int_equal(srv_policy_parse(pol, buf, len, err, sizeof(err)), -1);
	assert_string_equal(err, "line 1: more than 16384 YAML nodes");

	/* SRV_MAX_ANCHORS anchors, then one more */
	len = (size_t)snprintf(buf, sizeof(buf), "local_domains:\n");
	for (i = 0; i < SRV_MAX_ANCHORS; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
		                        "  - &a%zu d\n", i);
	assert_int_equal(srv_policy_parse(pol, buf, len, err, sizeof(err)), -1);
	assert_string_equal(err,
	                    "line 2: local_domains: too many items (128, at "
	                    "most 64)");
	len += (size_t)snprintf(buf + len, sizeof(buf) - len, "  - &z d\n");
	assert_int_equal(srv_policy_parse(pol, buf, len, err, sizeof(err)), -1);
	assert_string_equal(err, "line 130: more than 128 anchors");

	/* anchors and aliases still work */
	assert_int_equal(parse("local_domains: &d [a.test, b.test]\n"
	                       "users:\n"
	                       "  - {name: a, password: p, allowed_domains: "
	                       "*d}\n",
	                       err, sizeof(err)),
	                 0);
	assert_int_equal(pol->users[0].nallowed, 2);
	assert_string_equal(pol->users[0].allowed[1], "b.test");
}

/* ---- connections_per_ip ------------------------------------------ */

static const struct pcase {
	const char *yaml; /* NULL: a preset, by name in want's place */
	unsigned want;
} pcases[] = {
        {"", 50}, /* max_connections' default, 100 */
        {"limits: {}", 50},
        {"limits: {connection_rate: 5}", 50},
        {"limits: {max_connections: 10}", 5},
        {"limits: {max_connections: 11}", 5},
        {"limits: {max_connections: 3}", 1},
        {"limits: {max_connections: 2}", 1},
        {"limits: {max_connections: 1}", 1},  /* at least 1 */
        {"limits: {max_connections: 0}", 50}, /* 0 is 100 */
        {"limits: {max_connections: 5000}", 2500},
        {"limits: {connections_per_ip: 0}", 0}, /* explicit: no limit */
        {"limits: {max_connections: 10, connections_per_ip: 0}", 0},
        {"limits: {connections_per_ip: 0, max_connections: 10}", 0},
        {"limits: {connections_per_ip: 7}", 7},
        {"limits: {max_connections: 4, connections_per_ip: 9}", 9},
        {"limits: &l {connections_per_ip: 3}", 3},
        {"hostname: a\nlimits:\n  max_connections: 20\n", 10},
};

static void test_conn_per_ip(void **state)
{
	char err[512];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(pcases); i++) {
		if (parse(pcases[i].yaml, err, sizeof(err)) != 0)
			fail_msg("case %zu: %s", i, err);
		if (pol->conn_per_ip != pcases[i].want)
			fail_msg(
			        "case %zu (%s): connections_per_ip %u, want %u",
			        i, pcases[i].yaml, pol->conn_per_ip,
			        pcases[i].want);
	}
	for (i = 0; srv_preset_names[i] != NULL; i++) {
		assert_int_equal(srv_policy_preset(pol, srv_preset_names[i],
		                                   err, sizeof(err)),
		                 0);
		assert_int_equal(pol->conn_per_ip, 50);
	}
}

/* ---- files and users_file ----------------------------------------- */

static char tmpdir[64];

static void write_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static int load(const char *name, char *err, size_t errsz)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return srv_policy_load(pol, path, err, errsz);
}

static const struct fcase {
	const char *users; /* users.txt */
	const char *err;   /* NULL: loads; else a substring of err */
} fcases[] = {
        {"nocolon\n", "users.txt: line 1: expected user:password"},
        {"# c\n\nalice:\n", "users.txt: line 3: expected user:password"},
        {":pw\n", "users.txt: line 1: expected user:password"},
        {"a::x@example.test\n", "users.txt: line 1: empty password"},
        {"yaml:dup\n", "users.txt: line 1: duplicate user 'yaml'"},
        {"a:b\na:c\n", "users.txt: line 2: duplicate user 'a'"},
        {"a:b:x@example.test,,y@example.test\n",
         "users.txt: line 1: bad address list"},
        {"a:b:x@e,x@e,x@e,x@e,x@e,x@e,x@e,x@e,x@e\n",
         "users.txt: line 1: more than 8 addresses"},
        {"a b:c\n", "users.txt: line 1: bad or too long user name"},
        {"a:b\x01\n", "users.txt: line 1: control character"},
        {"a:b\n", NULL},
};

static void test_files(void **state)
{
	char err[512], path[256], cwd[4096];
	size_t i;

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_config.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));

	write_file(
	        "users.txt",
	        "# users, one a line\n"
	        "\n"
	        "dave:dave-password\n"
	        "  erin:erin pass:erin@example.test, e@example.test  \r\n"
	        "frank:f:frank@example.org\n"
	        "gus:g:a@example.test,b@example.test,c@example.test,d@example."
	        "test,e@example.test,f@example.test,g@example.test,h@example."
	        "test\n"
	        "last:no-newline");
	write_file("policy.yaml", "hostname: files.example.test\n"
	                          "users:\n"
	                          "  - {name: yaml, password: y}\n"
	                          "users_file: users.txt\n");
	if (load("policy.yaml", err, sizeof(err)) != 0)
		fail_msg("%s", err);
	snprintf(path, sizeof(path), "%s/policy.yaml", tmpdir);
	assert_string_equal(pol->name, path);
	assert_string_equal(pol->hostname, "files.example.test");
	assert_int_equal(pol->nusers, 6);
	assert_string_equal(pol->users[0].name, "yaml");
	assert_string_equal(pol->users[1].name, "dave");
	assert_string_equal(pol->users[1].password, "dave-password");
	assert_int_equal(pol->users[1].nowns, 0);
	assert_string_equal(pol->users[2].name, "erin");
	assert_string_equal(pol->users[2].password, "erin pass");
	assert_int_equal(pol->users[2].nowns, 2);
	assert_string_equal(pol->users[2].owns[0], "erin@example.test");
	assert_string_equal(pol->users[2].owns[1], "e@example.test");
	assert_string_equal(pol->users[3].owns[0], "frank@example.org");
	assert_int_equal(pol->users[4].nowns, 8);
	assert_string_equal(pol->users[4].owns[7], "h@example.test");
	assert_string_equal(pol->users[5].name, "last");
	assert_string_equal(pol->users[5].password, "no-newline");

	/* relative to the YAML file, not to the working directory */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(tmpdir), 0);
	assert_int_equal(srv_policy_load(pol, "policy.yaml", err, sizeof(err)),
	                 0);
	assert_int_equal(pol->nusers, 6);
	assert_string_equal(pol->name, "policy.yaml");
	assert_int_equal(chdir("/"), 0);
	snprintf(path, sizeof(path), "%s/policy.yaml", tmpdir);
	assert_int_equal(srv_policy_load(pol, path, err, sizeof(err)), 0);
	assert_int_equal(chdir(cwd), 0);

	/* an absolute users_file */
	snprintf(path, sizeof(path), "users_file: %s/users.txt\n", tmpdir);
	write_file("abs.yaml", path);
	assert_int_equal(load("abs.yaml", err, sizeof(err)), 0);
	assert_int_equal(pol->nusers, 5);

	/* bad users files */
	for (i = 0; i < NELEM(fcases); i++) {
		write_file("users.txt", fcases[i].users);
		if (fcases[i].err == NULL) {
			if (load("policy.yaml", err, sizeof(err)) != 0)
				fail_msg("users case %zu: %s", i, err);
			continue;
		}
		if (load("policy.yaml", err, sizeof(err)) != -1)
			fail_msg("users case %zu accepted", i);
		if (strstr(err, fcases[i].err) == NULL)
			fail_msg("users case %zu: got \"%s\", expected \"%s\"",
			         i, err, fcases[i].err);
	}

	/* missing files, YAML errors name the file */
	write_file("missing.yaml", "users_file: nope.txt\n");
	assert_int_equal(load("missing.yaml", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "nope.txt: no such file"));
	assert_int_equal(load("absent.yaml", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "absent.yaml: no such file"));
	write_file("bad.yaml", "hostname: a\nfrob: 1\n");
	assert_int_equal(load("bad.yaml", err, sizeof(err)), -1);
	snprintf(path, sizeof(path), "%s/bad.yaml: line 2: unknown key 'frob'",
	         tmpdir);
	assert_string_equal(err, path);
	assert_int_equal(srv_policy_load(pol, tmpdir, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "is a directory"));

	/* a file larger than SRV_MAX_CONFIG */
	{
		char *big = malloc(SRV_MAX_CONFIG + 2);

		assert_non_null(big);
		memset(big, '#', SRV_MAX_CONFIG + 1);
		big[SRV_MAX_CONFIG + 1] = '\0';
		write_file("big.yaml", big);
		free(big);
	}
	assert_int_equal(load("big.yaml", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "larger than 1048576 bytes"));

	/* a preset name wins over a file of that name */
	assert_int_equal(chdir(tmpdir), 0);
	write_file("mx", "open_relay: true\n");
	assert_int_equal(srv_policy_load(pol, "mx", err, sizeof(err)), 0);
	assert_int_equal(pol->open_relay, 0);
	assert_int_equal(srv_policy_load(pol, "./mx", err, sizeof(err)), 0);
	assert_int_equal(pol->open_relay, 1);
	assert_int_equal(chdir(cwd), 0);

	{
		static const char *const names[] = {
		        "users.txt", "policy.yaml", "abs.yaml", "missing.yaml",
		        "bad.yaml",  "big.yaml",    "mx"};

		for (i = 0; i < NELEM(names); i++) {
			snprintf(path, sizeof(path), "%s/%s", tmpdir, names[i]);
			unlink(path);
		}
		rmdir(tmpdir);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_presets),
	        cmocka_unit_test(test_full_example),
	        cmocka_unit_test(test_defaults),
	        cmocka_unit_test(test_numbers),
	        cmocka_unit_test(test_errors),
	        cmocka_unit_test(test_caps),
	        cmocka_unit_test(test_depth),
	        cmocka_unit_test(test_bounded_time),
	        cmocka_unit_test(test_node_caps),
	        cmocka_unit_test(test_conn_per_ip),
	        cmocka_unit_test(test_files),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
