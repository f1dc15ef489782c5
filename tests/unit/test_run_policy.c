/* test_run_policy.c - table-driven tests of the files of `smtprobe run`
 * and `smtprobe exporter` (lib/assure/policy.c): good policies and
 * modules files checked field by field (defaults, paths made absolute,
 * aliases, upper-cased mechanisms), a table of bad texts each with the
 * line it must name and a piece of its message, the document's caps
 * (nesting, nodes, anchors, size, regex blow-up), loading from files,
 * and smtprobe_policy_secret from the environment and from files. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "smtprobe/policy.h"

#include "banned.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static char err[512];

static int pol(const char *text, struct smtprobe_policy *p)
{
	return smtprobe_policy_parse(text, strlen(text), "t.yaml", p, err,
	                             sizeof(err));
}

static int mods(const char *text, struct smtprobe_policy *p)
{
	return smtprobe_modules_parse(text, strlen(text), "m.yaml", p, err,
	                              sizeof(err));
}

static void expect_unset(const struct smtprobe_pol_expect *e)
{
	assert_int_equal(e->relay_set[0] + e->relay_set[1] + e->relay_set[2],
	                 0);
	assert_int_equal(e->tls_required, -1);
	assert_int_equal(e->tls_min_version, -1);
	assert_int_equal(e->tls_verify, -1);
	assert_int_equal(e->tls_cert_days_left_min, -1);
	assert_int_equal(e->auth_offered_in_clear, -1);
	assert_int_equal(e->auth_succeeds, -1);
	assert_int_equal(e->nmechs, 0);
	assert_null(e->banner);
	assert_int_equal(e->max_ms, -1);
	assert_int_equal(e->any, 0);
}

/* ---- good policies ------------------------------------------------ */

#define HEAD_FLOW "{environments: {s: {targets: [{name: a, host: h, "

static const char full[] =
        "# the issue's example, and a second environment\n"
        "environments:\n"
        "  staging:\n"
        "    targets:\n"
        "      - name: submission\n"
        "        host: 127.0.0.1\n"
        "        port: 2587\n"
        "        tls: starttls\n"
        "        tls_ca_path: ca.pem\n"
        "        local_domain: example.test\n"
        "        auth: {user: alice, password_env: STAGING_ALICE_PW}\n"
        "        other_sender: bob@example.test\n"
        "        helo: client.example.test\n"
        "        external_domain: relay-test.invalid\n"
        "        timeout: 10\n"
        "        expect:\n"
        "          relay: {A: closed, B: holds, C: violated}\n"
        "          tls: {required: true, min_version: TLSv1.2, verify: "
        "true, cert_days_left_min: 21}\n"
        "          auth: {offered_in_clear: false, mechanisms_include: "
        "[scram-sha-256, PLAIN], succeeds: true}\n"
        "          banner: \"^220 [a-z.]+ ESMTP\"\n"
        "          max_ms: 2000\n"
        "      - name: mx\n"
        "        host: mx.example.test\n"
        "        port: 25\n"
        "        tls: optional\n"
        "  production:\n"
        "    targets:\n"
        "      - name: submission\n"
        "        host: smtp.example.test\n"
        "        port: 465\n"
        "        auth:\n"
        "          user: alice\n"
        "          password_file: /run/secrets/alice\n"
        "        expect:\n"
        "          relay: {A: open}\n"
        "          tls:\n"
        "            verify: false\n";

static void test_full(void **state)
{
	struct smtprobe_policy p;
	const struct smtprobe_pol_env *e;
	const struct smtprobe_pol_target *t;

	(void)state;
	assert_int_equal(smtprobe_policy_parse(full, strlen(full),
	                                       "/etc/smtprobe/policy.yaml", &p,
	                                       err, sizeof(err)),
	                 0);
	assert_string_equal(err, "");
	assert_string_equal(p.path, "/etc/smtprobe/policy.yaml");
	assert_int_equal(p.nenvs, 2);
	assert_int_equal(p.nmodules, 0);

	e = smtprobe_policy_env(&p, "staging");
	assert_ptr_equal(e, &p.envs[0]);
	assert_string_equal(e->name, "staging");
	assert_int_equal(e->line, 3);
	assert_int_equal(e->ntargets, 2);
	t = &e->targets[0];
	assert_string_equal(t->name, "submission");
	assert_string_equal(t->host, "127.0.0.1");
	assert_int_equal(t->port, 2587);
	assert_int_equal(t->kind, SMTPROBE_POL_CHECK);
	assert_int_equal(t->tls, SMTPROBE_POL_TLS_STARTTLS);
	assert_int_equal(t->tls_set, 1);
	assert_string_equal(t->tls_ca_path, "/etc/smtprobe/ca.pem");
	assert_string_equal(t->local_domain, "example.test");
	assert_string_equal(t->auth_user, "alice");
	assert_string_equal(t->password_env, "STAGING_ALICE_PW");
	assert_null(t->password_file);
	assert_string_equal(t->other_sender, "bob@example.test");
	assert_string_equal(t->helo, "client.example.test");
	assert_string_equal(t->external_domain, "relay-test.invalid");
	assert_int_equal(t->timeout_s, 10);
	assert_int_equal(t->line, 5);
	assert_int_equal(t->expect.any, 1);
	assert_int_equal(t->expect.relay_set[0], 1);
	assert_int_equal(t->expect.relay_set[1], 1);
	assert_int_equal(t->expect.relay_set[2], 1);
	assert_int_equal(t->expect.relay[0], SMTPROBE_V_CLOSED);
	assert_int_equal(t->expect.relay[1], SMTPROBE_V_HOLDS);
	assert_int_equal(t->expect.relay[2], SMTPROBE_V_VIOLATED);
	assert_int_equal(t->expect.tls_required, 1);
	assert_int_equal(t->expect.tls_min_version, SMTPROBE_TP_TLS12);
	assert_int_equal(t->expect.tls_verify, 1);
	assert_int_equal(t->expect.tls_cert_days_left_min, 21);
	assert_int_equal(t->expect.auth_offered_in_clear, 0);
	assert_int_equal(t->expect.auth_succeeds, 1);
	assert_int_equal(t->expect.nmechs, 2);
	assert_string_equal(t->expect.mechs_include[0], "SCRAM-SHA-256");
	assert_string_equal(t->expect.mechs_include[1], "PLAIN");
	assert_string_equal(t->expect.banner, "^220 [a-z.]+ ESMTP");
	assert_int_equal(t->expect.max_ms, 2000);

	t = &e->targets[1];
	assert_string_equal(t->name, "mx");
	assert_int_equal(t->port, 25);
	assert_int_equal(t->tls, SMTPROBE_POL_TLS_OPTIONAL);
	assert_null(t->auth_user);
	assert_null(t->tls_ca_path);
	assert_int_equal(t->timeout_s, 0);
	expect_unset(&t->expect);

	e = smtprobe_policy_env(&p, "production");
	assert_non_null(e);
	assert_int_equal(e->ntargets, 1);
	t = &e->targets[0];
	assert_int_equal(t->port, 465);
	assert_int_equal(t->tls, SMTPROBE_POL_TLS_IMPLICIT); /* from 465 */
	assert_int_equal(t->tls_set, 0);
	assert_null(t->password_env);
	assert_string_equal(t->password_file, "/run/secrets/alice");
	assert_int_equal(t->expect.any, 1);
	assert_int_equal(t->expect.relay_set[0], 1);
	assert_int_equal(t->expect.relay[0], SMTPROBE_V_OPEN);
	assert_int_equal(t->expect.relay_set[1], 0);
	assert_int_equal(t->expect.relay_set[2], 0);
	assert_int_equal(t->expect.tls_verify, 0);
	assert_int_equal(t->expect.tls_required, -1);
	assert_int_equal(t->expect.tls_min_version, -1);
	assert_int_equal(t->expect.max_ms, -1);
	assert_null(smtprobe_policy_env(&p, "prod"));
	assert_null(smtprobe_policy_env(&p, NULL));
	assert_null(smtprobe_policy_module(&p, "submission"));

	smtprobe_policy_free(&p);
	assert_null(p.envs);
	assert_int_equal(p.nenvs, 0);
	smtprobe_policy_free(&p); /* twice is harmless */
	smtprobe_policy_free(NULL);
}

static void test_defaults(void **state)
{
	struct smtprobe_policy p;
	const struct smtprobe_pol_target *t;

	(void)state;
	assert_int_equal(pol("environments:\n"
	                     "  a: {targets: [{name: x, host: h}]}\n"
	                     "  b: {targets: [{name: x, host: h, port: 465,"
	                     " tls: none, timeout: 600}]}\n"
	                     "---\n", /* an empty second document */
	                     &p),
	                 0);
	t = &p.envs[0].targets[0];
	assert_int_equal(t->port, 0);
	assert_int_equal(t->tls, SMTPROBE_POL_TLS_STARTTLS);
	assert_int_equal(t->tls_set, 0);
	assert_int_equal(t->kind, SMTPROBE_POL_CHECK);
	assert_int_equal(t->timeout_s, 0);
	assert_null(t->helo);
	assert_null(t->local_domain);
	assert_null(t->other_sender);
	assert_null(t->external_domain);
	assert_null(t->password_env);
	assert_null(t->password_file);
	expect_unset(&t->expect);
	t = &p.envs[1].targets[0];
	assert_int_equal(t->tls, SMTPROBE_POL_TLS_NONE); /* given beats 465 */
	assert_int_equal(t->tls_set, 1);
	assert_int_equal(t->timeout_s, 600);
	smtprobe_policy_free(&p);
}

static void test_aliases(void **state)
{
	struct smtprobe_policy p;
	const struct smtprobe_pol_env *e;

	(void)state;
	assert_int_equal(pol("environments:\n"
	                     "  staging:\n"
	                     "    targets:\n"
	                     "      - &sub\n"
	                     "        name: submission\n"
	                     "        host: 127.0.0.1\n"
	                     "        auth: &auth {user: alice, password_env: "
	                     "PW}\n"
	                     "        expect: &exp\n"
	                     "          tls: {required: true}\n"
	                     "          auth: {mechanisms_include: &m "
	                     "[plain]}\n"
	                     "  production:\n"
	                     "    targets:\n"
	                     "      - name: submission\n"
	                     "        host: mx.example.test\n"
	                     "        auth: *auth\n"
	                     "        expect: *exp\n"
	                     "  copy: {targets: [*sub]}\n",
	                     &p),
	                 0);
	assert_int_equal(p.nenvs, 3);
	e = smtprobe_policy_env(&p, "production");
	assert_string_equal(e->targets[0].password_env, "PW");
	assert_int_equal(e->targets[0].expect.tls_required, 1);
	assert_string_equal(e->targets[0].expect.mechs_include[0], "PLAIN");
	/* every target owns its strings */
	assert_ptr_not_equal(e->targets[0].auth_user,
	                     p.envs[0].targets[0].auth_user);
	e = smtprobe_policy_env(&p, "copy");
	assert_string_equal(e->targets[0].host, "127.0.0.1");
	assert_int_equal(e->targets[0].expect.any, 1);
	smtprobe_policy_free(&p);
}

static void test_paths(void **state)
{
	struct smtprobe_policy p;
	char cwd[4096], want[4200];
	const char *text = "environments:\n"
	                   "  s:\n"
	                   "    targets:\n"
	                   "      - name: a\n"
	                   "        host: h\n"
	                   "        tls_ca_path: ./certs/ca.pem\n"
	                   "        auth: {user: u, password_file: pw.txt}\n";

	(void)state;
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	/* anchored at the policy's own directory */
	assert_int_equal(smtprobe_policy_parse(text, strlen(text),
	                                       "/srv/p/policy.yaml", &p, err,
	                                       sizeof(err)),
	                 0);
	assert_string_equal(p.envs[0].targets[0].tls_ca_path,
	                    "/srv/p/certs/ca.pem");
	assert_string_equal(p.envs[0].targets[0].password_file,
	                    "/srv/p/pw.txt");
	smtprobe_policy_free(&p);
	assert_int_equal(smtprobe_policy_parse(text, strlen(text), "/p.yaml",
	                                       &p, err, sizeof(err)),
	                 0);
	assert_string_equal(p.envs[0].targets[0].password_file, "/pw.txt");
	smtprobe_policy_free(&p);
	/* a relative policy path: made absolute with the working directory */
	assert_int_equal(smtprobe_policy_parse(text, strlen(text),
	                                       "./conf/policy.yaml", &p, err,
	                                       sizeof(err)),
	                 0);
	snprintf(want, sizeof(want), "%s/conf/certs/ca.pem",
	         strcmp(cwd, "/") == 0 ? "" : cwd);
	assert_string_equal(p.envs[0].targets[0].tls_ca_path, want);
	smtprobe_policy_free(&p);
	/* no path: the working directory, and "-" in errors */
	assert_int_equal(smtprobe_policy_parse(text, strlen(text), NULL, &p,
	                                       err, sizeof(err)),
	                 0);
	assert_null(p.path);
	snprintf(want, sizeof(want), "%s/pw.txt",
	         strcmp(cwd, "/") == 0 ? "" : cwd);
	assert_string_equal(p.envs[0].targets[0].password_file, want);
	smtprobe_policy_free(&p);
	assert_int_equal(
	        smtprobe_policy_parse("x: 1", 4, NULL, &p, err, sizeof(err)),
	        -1);
	assert_true(strncmp(err, "-:1: x: unknown key", 19) == 0);
}

/* Regexes people write for banners pass the cost estimate. */
static void test_banners(void **state)
{
	static const char *const good[] = {
	        "^220 ",
	        "^220[ -]mx\\.example\\.test ESMTP",
	        "^220 ([a-z0-9-]+\\.){1,8}[a-z]{2,63} (E?SMTP|ESMTP Postfix)( "
	        ".*)?$",
	        "[[:alpha:]][[:alnum:].-]*",
	        "[]a]+[^]a]*",
	        "x{255}",
	        "(a|b|c){0,10}",
	        "\\{\\}\\(\\)",
	        "((a+)+)+",
	};
	char text[512];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(good); i++) {
		struct smtprobe_policy p;

		snprintf(text, sizeof(text),
		         HEAD_FLOW "expect: {banner: '%s'}}]}}}\n", good[i]);
		if (pol(text, &p) != 0)
			fail_msg("good[%zu] %s: %s", i, good[i], err);
		assert_string_equal(p.envs[0].targets[0].expect.banner,
		                    good[i]);
		smtprobe_policy_free(&p);
	}
}

/* ---- good modules files ------------------------------------------- */

static void test_modules(void **state)
{
	struct smtprobe_policy p;
	const struct smtprobe_pol_target *m;
	static const char text[] =
	        "modules:\n"
	        "  submission:\n"
	        "    kind: check\n"
	        "    port: 587\n"
	        "    tls: starttls\n"
	        "    tls_ca_path: /etc/ssl/ca.pem\n"
	        "    auth: {user: alice, password_env: ALICE_PW}\n"
	        "    timeout: 5\n"
	        "    local_domain: example.test\n"
	        "    other_sender: bob@example.test\n"
	        "    helo: probe.example.test\n"
	        "    external_domain: elsewhere.invalid\n"
	        "  mx_relay:\n"
	        "    kind: relay\n"
	        "    port: 25\n"
	        "    local_domain: example.test\n"
	        "  smtps-scan: {kind: TLS, port: 465}\n";

	(void)state;
	assert_int_equal(mods(text, &p), 0);
	assert_int_equal(p.nmodules, 3);
	assert_int_equal(p.nenvs, 0);
	m = smtprobe_policy_module(&p, "submission");
	assert_ptr_equal(m, &p.modules[0]);
	assert_string_equal(m->name, "submission");
	assert_null(m->host);
	assert_int_equal(m->kind, SMTPROBE_POL_CHECK);
	assert_int_equal(m->port, 587);
	assert_int_equal(m->tls, SMTPROBE_POL_TLS_STARTTLS);
	assert_int_equal(m->tls_set, 1);
	assert_string_equal(m->tls_ca_path, "/etc/ssl/ca.pem");
	assert_string_equal(m->auth_user, "alice");
	assert_string_equal(m->password_env, "ALICE_PW");
	assert_int_equal(m->timeout_s, 5);
	assert_string_equal(m->local_domain, "example.test");
	assert_string_equal(m->other_sender, "bob@example.test");
	assert_string_equal(m->helo, "probe.example.test");
	assert_string_equal(m->external_domain, "elsewhere.invalid");
	assert_int_equal(m->line, 2);
	expect_unset(&m->expect);
	m = smtprobe_policy_module(&p, "mx_relay");
	assert_int_equal(m->kind, SMTPROBE_POL_RELAY);
	assert_int_equal(m->port, 25);
	assert_int_equal(m->tls, SMTPROBE_POL_TLS_STARTTLS);
	assert_int_equal(m->tls_set, 0);
	assert_null(m->auth_user);
	m = smtprobe_policy_module(&p, "smtps-scan");
	assert_int_equal(m->kind, SMTPROBE_POL_TLS);
	assert_int_equal(m->tls, SMTPROBE_POL_TLS_IMPLICIT);
	assert_null(smtprobe_policy_module(&p, "nope"));
	assert_null(smtprobe_policy_env(&p, "submission"));
	smtprobe_policy_free(&p);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(smtprobe_pol_tls_name(SMTPROBE_POL_TLS_STARTTLS),
	                    "starttls");
	assert_string_equal(smtprobe_pol_tls_name(SMTPROBE_POL_TLS_IMPLICIT),
	                    "implicit");
	assert_string_equal(smtprobe_pol_tls_name(SMTPROBE_POL_TLS_NONE),
	                    "none");
	assert_string_equal(smtprobe_pol_tls_name(SMTPROBE_POL_TLS_OPTIONAL),
	                    "optional");
	assert_string_equal(smtprobe_pol_tls_name((enum smtprobe_pol_tls)9),
	                    "?");
	assert_string_equal(smtprobe_pol_kind_name(SMTPROBE_POL_CHECK),
	                    "check");
	assert_string_equal(smtprobe_pol_kind_name(SMTPROBE_POL_RELAY),
	                    "relay");
	assert_string_equal(smtprobe_pol_kind_name(SMTPROBE_POL_TLS), "tls");
	assert_string_equal(
	        smtprobe_pol_kind_name((enum smtprobe_pol_kind) - 1), "?");
}

/* ---- bad texts ---------------------------------------------------- */

/* a target at lines 4-5; keys added below it start at line 6 */
#define HEAD                                                                   \
	"environments:\n"                                                      \
	"  s:\n"                                                               \
	"    targets:\n"                                                       \
	"      - name: a\n"                                                    \
	"        host: h\n"

#define MOD "modules:\n  m:\n    kind: check\n"

static const struct bad {
	int modules; /* a modules file, else a policy */
	const char *text;
	int line;
	const char *msg;
} bad[] = {
        /* the document */
        {0, "", 1, "environments: required key missing (the file is empty)"},
        {0, "# only a comment\n", 1, "environments: required key missing"},
        {0, "- a\n- b\n", 1,
         "expected a mapping with the key environments, got a list"},
        {0, "environments: []\n", 1,
         "environments: expected a mapping of names, got a list"},
        {0, "environments:\n", 1,
         "environments: expected a mapping of names, got an empty value"},
        {0, "environments: {}\n", 1, "environments: empty mapping"},
        {0, HEAD "extra: 1\n", 6, "extra: unknown key (expected environments)"},
        {0, HEAD "modules: {}\n", 6,
         "modules: belongs in a modules file, not in a policy"},
        {0, "environments:\n  s:\n    targets: [\n", 4, "invalid YAML: "},
        {0, "environments:\n  s: *nowhere\n", 2,
         "invalid YAML: found undefined alias"},
        {0, HEAD "---\nenvironments: {}\n", 7, "more than one YAML document"},
        {0, "environments:\n  ? [a]\n  : b\n", 2,
         "environments: expected a value, got a list"},
        {0, "environments:\n  bad name: {targets: []}\n", 2,
         "environments: 'bad name' is not a valid name"},
        {0, "environments: {\"s\\u0000\": {}}\n", 1,
         "environments: NUL character in the value"},
        {0, HEAD "  s:\n    targets: [{name: b, host: h}]\n", 6,
         "environments.s: duplicate environment (first at line 2)"},
        {0, "environments:\n  s: ~\n", 2,
         "environments.s: expected a mapping, got an empty value"},
        /* an environment */
        {0, "environments:\n  s:\n    foo: 1\n", 3,
         "environments.s.foo: unknown key (expected targets)"},
        {0, "environments:\n  s: {}\n", 2,
         "environments.s.targets: required key missing"},
        {0, "environments:\n  s:\n    targets: []\n", 3,
         "environments.s.targets: empty list"},
        {0, "environments:\n  s:\n    targets: {name: a}\n", 3,
         "environments.s.targets: expected a list, got a mapping"},
        {0, "environments:\n  s:\n    targets:\n      - just-a-name\n", 4,
         "environments.s.targets[0]: expected a mapping, got a value"},
        {0, "environments:\n  s:\n    targets:\n      - {}\n", 4,
         "name: required key missing"},
        {0, "environments:\n  s:\n    targets:\n      - name: a\n", 4,
         "host: required key missing"},
        {0, HEAD "      - name: a\n        host: h2\n", 6,
         "name: duplicate target 'a' in environment 's' (first at line 4)"},
        /* a target's keys */
        {0, HEAD "        host: h2\n", 6,
         "host: duplicate key (first at line 5)"},
        {0, HEAD "        hots: x\n", 6,
         "hots: unknown key (expected name, host, port, tls, "},
        {0, HEAD "        kind: check\n", 6,
         "kind: belongs in a modules file, not in a policy"},
        {0, HEAD "        <<: {port: 25}\n", 6,
         "environments.s.targets[0]: merge keys (<<) are not supported"},
        {0, HEAD "        port: 0\n", 6,
         "port: '0' is out of range (1 to 65535)"},
        {0, HEAD "        port: 65536\n", 6, "port: '65536' is out of range"},
        {0, HEAD "        port: 99999999999999999999999\n", 6,
         "port: '99999999999999999999999' is out of range"},
        {0, HEAD "        port: 0x10\n", 6,
         "port: expected a whole number from 1 to 65535, got '0x10'"},
        {0, HEAD "        port: 1e3\n", 6, "got '1e3'"},
        {0, HEAD "        port: -25\n", 6, "got '-25'"},
        {0, HEAD "        port: 025\n", 6, "got '025'"},
        {0, HEAD "        port: 25.0\n", 6, "got '25.0'"},
        {0, HEAD "        port: {a: 1}\n", 6,
         "port: expected a value, got a mapping"},
        {0, HEAD "        port: [25]\n", 6,
         "port: expected a value, got a list"},
        {0, HEAD "        tls: tls13\n", 6,
         "tls: 'tls13' is not one of starttls, implicit, none, optional"},
        {0, HEAD "        timeout: 601\n", 6,
         "timeout: '601' is out of range (1 to 600)"},
        {0, HEAD "        timeout: 0\n", 6, "timeout: '0' is out of range"},
        {0, "environments:\n  s:\n    targets:\n      - name: my target\n", 4,
         "name: 'my target' is not a valid name"},
        {0, HEAD "        host: ~\n", 6, "host: duplicate key"},
        {0, "environments:\n  s:\n    targets:\n      - {name: a, host: ~}\n",
         4, "host: empty value"},
        {0, "environments:\n  s:\n    targets:\n      - {name: a, host: m x}\n",
         4, "host: space in 'm x'"},
        {0,
         "environments:\n  s:\n    targets:\n      - {name: a, host: "
         "\"a\\tb\"}\n",
         4, "host: control character in the value"},
        {0,
         "environments:\n  s:\n    targets:\n      - {name: a, host: "
         "\"a\\u0085b\"}\n",
         4, "host: control character in the value"},
        {0,
         "environments:\n  s:\n    targets:\n      - {name: a, host: "
         "\"a\\0b\"}\n",
         4, "host: NUL character in the value"},
        {0, HEAD "        helo: \"\"\n", 6, "helo: empty value"},
        {0, HEAD "        local_domain: a@b\n", 6,
         "local_domain: 'a@b' is not a domain"},
        {0, HEAD "        other_sender: bob\n", 6,
         "other_sender: 'bob' is not an address"},
        {0, HEAD "        other_sender: <bob@x>\n", 6, "is not an address"},
        {0, HEAD "        tls_ca_path: [a, b]\n", 6,
         "tls_ca_path: expected a value, got a list"},
        {0, HEAD "        tls_ca_path: \"\"\n", 6, "tls_ca_path: empty value"},
        /* secrets */
        {0, HEAD "        auth: {user: alice, password: hunter2}\n", 6,
         "auth.password: inline secrets are refused; use password_env (an "
         "environment variable) or password_file"},
        {0, HEAD "        secret: hunter2\n", 6,
         "secret: inline secrets are refused"},
        {0,
         HEAD "        auth:\n          user: alice\n          Pass: "
              "hunter2\n",
         8, "auth.Pass: inline secrets are refused"},
        {0, HEAD "        auth: {user: alice}\n", 6,
         "auth: password_env or password_file is required"},
        {0,
         HEAD "        tls: none\n        auth: {user: alice, "
              "password_env: PW}\n",
         7, "auth: tls: none would send the password in clear"},
        {1, MOD "    auth: {user: alice, password_file: pw}\n    tls: none\n",
         4, "auth: tls: none would send the password in clear"},
        {0,
         HEAD "        auth:\n          user: alice\n          "
              "password_env: PW\n          password_file: pw\n",
         9, "auth: give password_env or password_file, not both"},
        {0, HEAD "        auth: {password_env: PW}\n", 6,
         "auth.user: required key missing"},
        {0, HEAD "        auth: {user: u, password_env: \"hunter2!\"}\n", 6,
         "auth.password_env: not an environment variable's name"},
        {0, HEAD "        auth: {user: u, password_env: 2PW}\n", 6,
         "auth.password_env: not an environment variable's name"},
        {0, HEAD "        auth: {user: u, password_file: [x]}\n", 6,
         "auth.password_file: expected a value, got a list"},
        {0, HEAD "        auth: {}\n", 6, "auth.user: required key missing"},
        /* expectations */
        {0, HEAD "        expect: {}\n", 6, "expect: empty mapping"},
        {0, HEAD "        expect:\n", 6,
         "expect: expected a mapping, got an empty value"},
        {0, HEAD "        expect: {tsl: {}}\n", 6,
         "expect.tsl: unknown key (expected relay, tls, auth, banner, "
         "max_ms)"},
        {0, HEAD "        expect:\n          tls: {min_version: TLSv1.5}\n", 7,
         "expect.tls.min_version: 'TLSv1.5' is not one of TLSv1, TLSv1.1, "
         "TLSv1.2, TLSv1.3"},
        {0, HEAD "        expect:\n          tls: {required: yes}\n", 7,
         "expect.tls.required: expected true or false, got 'yes' (only true "
         "and false are accepted)"},
        {0, HEAD "        expect:\n          tls: {verify: 1}\n", 7,
         "expect.tls.verify: expected true or false, got '1'"},
        {0,
         HEAD "        expect:\n          tls:\n            "
              "cert_days_left_min: -1\n",
         8, "expect.tls.cert_days_left_min: expected a whole number from 0"},
        {0,
         HEAD "        expect:\n          tls: {required: true, required: "
              "false}\n",
         7, "expect.tls.required: duplicate key (first at line 7)"},
        {0, HEAD "        expect:\n          relay: {A: holds}\n", 7,
         "expect.relay.A: 'holds' is not one of closed, open"},
        {0, HEAD "        expect:\n          relay: {D: holds}\n", 7,
         "expect.relay.D: unknown key (expected A, B, C)"},
        {0,
         HEAD "        auth: {user: u, password_env: P}\n        expect:\n"
              "          relay: {B: open}\n",
         8, "expect.relay.B: 'open' is not one of holds, violated"},
        {0, HEAD "        expect:\n          relay:\n            B: holds\n", 8,
         "expect.relay.B: scenario B needs auth credentials"},
        {0, HEAD "        expect:\n          relay: {A: closed, C: holds}\n", 7,
         "expect.relay.C: scenario C needs auth credentials"},
        {0, HEAD "        expect:\n          auth: {succeeds: true}\n", 7,
         "expect.auth.succeeds: needs auth credentials"},
        {0, HEAD "        expect:\n          auth: {mechanisms_include: []}\n",
         7, "expect.auth.mechanisms_include: empty list"},
        {0,
         HEAD "        expect:\n          auth: {mechanisms_include: "
              "PLAIN}\n",
         7, "expect.auth.mechanisms_include: expected a list, got a value"},
        {0,
         HEAD "        expect:\n          auth:\n            "
              "mechanisms_include: [A, B, C, D, E, F, G, H, I]\n",
         8, "expect.auth.mechanisms_include: too many items (9, at most 8)"},
        {0,
         HEAD "        expect:\n          auth:\n            "
              "mechanisms_include:\n              - PLAIN\n              "
              "- plain\n",
         10, "expect.auth.mechanisms_include: PLAIN is listed twice"},
        {0,
         HEAD "        expect:\n          auth: {mechanisms_include: "
              "[\"SCRAM SHA\"]}\n",
         7, "'SCRAM SHA' is not a SASL mechanism name"},
        {0,
         HEAD "        expect:\n          auth: {mechanisms_include: "
              "[[PLAIN]]}\n",
         7, "expect.auth.mechanisms_include: expected a value, got a list"},
        {0, HEAD "        expect: {banner: \"([a-z\"}\n", 6,
         "expect.banner: '([a-z' is not a POSIX extended regular expression"},
        {0, HEAD "        expect: {banner: \"(a{200}){200}\"}\n", 6,
         "expect.banner: too many repetitions"},
        {0, HEAD "        expect: {banner: \"((((a{20}){20}){20}){20})\"}\n", 6,
         "too many repetitions"},
        {0, HEAD "        expect: {banner: \"(a)\\\\1\"}\n", 6,
         "expect.banner: back-references are not supported"},
        {0, HEAD "        expect: {banner: \"a??????++++++\"}\n", 6,
         "expect.banner: stacked quantifiers (such as a+* or a{2}?) are not "
         "supported in 'a??????++++++'"},
        {0, HEAD "        expect: {banner: \"a{2}{3}\"}\n", 6,
         "stacked quantifiers"},
        {0, HEAD "        expect: {banner: \"a{1,256}\"}\n", 6,
         "expect.banner: repetition counts above 255 are not supported"},
        {0,
         HEAD "        expect: {banner: "
              "\"((((((((((((a+)+)+)+)+)+)+)+)+)+)+)+)\"}\n",
         6, "too many repetitions"},
        {0, HEAD "        expect: {max_ms: 0}\n", 6,
         "expect.max_ms: '0' is out of range (1 to 3600000)"},
        {0, HEAD "        expect: {max_ms: 2s}\n", 6,
         "expect.max_ms: expected a whole number from 1 to 3600000, got "
         "'2s'"},
        /* modules files */
        {1, "", 1, "modules: required key missing"},
        {1, "modules: {}\n", 1, "modules: empty mapping"},
        {1, "modules: [a]\n", 1, "modules: expected a mapping of names"},
        {1, "modules:\n  m:\n", 2,
         "modules.m: expected a mapping, got an empty "
         "value"},
        {1, "modules:\n  m:\n    port: 25\n", 3, "kind: required key missing"},
        {1, MOD "    kind: relay\n", 4,
         "kind: duplicate key (first at line 3)"},
        {1, "modules:\n  m: {kind: scan}\n", 2,
         "kind: 'scan' is not one of check, relay, tls"},
        {1, MOD "    host: mx.example.test\n", 4,
         "host: belongs in a policy, not in a modules file"},
        {1, MOD "    name: m\n", 4, "name: belongs in a policy"},
        {1, MOD "    expect: {max_ms: 10}\n", 4, "expect: belongs in a policy"},
        {1, MOD "    auth: {user: u, password: x}\n", 4,
         "auth.password: inline secrets are refused"},
        {1, MOD "    port: 70000\n", 4, "port: '70000' is out of range"},
        {1, MOD "  m: {kind: tls}\n", 4,
         "modules.m: duplicate module (first at line 2)"},
        {1, MOD "  n/a: {kind: tls}\n", 4,
         "modules: 'n/a' is not a valid name"},
        {1, "environments: {}\n", 1,
         "environments: belongs in a policy, not in a modules file"},
};

static void test_bad(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(bad); i++) {
		struct smtprobe_policy p;
		const char *file = bad[i].modules ? "m.yaml" : "t.yaml";
		char prefix[64];
		int rc;

		memset(&p, 0x5a, sizeof(p)); /* not read: reset first */
		rc = bad[i].modules ? mods(bad[i].text, &p)
		                    : pol(bad[i].text, &p);
		snprintf(prefix, sizeof(prefix), "%s:%d: ", file, bad[i].line);
		if (rc != -1 || strncmp(err, prefix, strlen(prefix)) != 0 ||
		    strstr(err, bad[i].msg) == NULL)
			fail_msg("bad[%zu]: rc %d, err \"%s\", wanted "
			         "\"%s...%s\"",
			         i, rc, err, prefix, bad[i].msg);
		/* refused secrets are never quoted */
		assert_null(strstr(err, "hunter2"));
		/* left safe to free, and empty */
		assert_null(p.envs);
		assert_null(p.modules);
		assert_null(p.path);
		smtprobe_policy_free(&p);
	}
}

/* ---- the document's caps ------------------------------------------ */

static char *repeat(const char *head, const char *unit, size_t n,
                    const char *tail)
{
	size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail), i;
	char *s = malloc(hl + ul * n + tl + 1), *at;

	assert_non_null(s);
	memcpy(s, head, hl);
	at = s + hl;
	for (i = 0; i < n; i++, at += ul)
		memcpy(at, unit, ul);
	memcpy(at, tail, tl + 1);
	return s;
}

static void expect_err(const char *text, const char *msg)
{
	struct smtprobe_policy p;

	assert_int_equal(pol(text, &p), -1);
	if (strstr(err, msg) == NULL)
		fail_msg("err \"%s\", wanted \"%s\"", err, msg);
}

static void test_caps(void **state)
{
	struct smtprobe_policy p;
	char *s, *deep;
	size_t i;

	(void)state;
	/* nesting: 16 levels pass the scan (and fail the schema), 17 not */
	s = repeat("environments: ", "[", 15, "");
	deep = repeat(s, "]", 15, "\n");
	expect_err(deep, "t.yaml:1: environments: expected a mapping");
	free(s);
	free(deep);
	s = repeat("environments: ", "[", 16, "");
	deep = repeat(s, "]", 16, "\n");
	expect_err(deep, "t.yaml:1: nesting deeper than 16");
	free(s);
	free(deep);
	/* nodes */
	s = repeat("environments: [", "1,", 70000, "1]\n");
	expect_err(s, "t.yaml:1: more YAML nodes than 65536");
	free(s);
	/* anchors: each on a line of its own */
	s = malloc(300 * 40 + 64);
	assert_non_null(s);
	i = (size_t)snprintf(s, 64, "environments:\n  s:\n    targets:\n");
	for (int k = 0; k < 300; k++)
		i += (size_t)snprintf(s + i, 40, "      - &a%d {name: n%d}\n",
		                      k, k);
	expect_err(s, "t.yaml:260: more anchors than 256");
	free(s);
	/* size */
	s = repeat("# ", "x", 1024 * 1024, "\n");
	expect_err(s, "t.yaml: larger than 1048576 bytes (1 MiB)");
	free(s);
	/* too many targets */
	s = repeat("environments:\n  s:\n    targets:\n", "      - {name: a}\n",
	           257, "");
	expect_err(s, "t.yaml:4: environments.s.targets: too many items (257, "
	              "at most 256)");
	free(s);
	/* alias fan-out stays cheap: 8 x 8 x 8 references, one target */
	assert_int_equal(pol("environments:\n"
	                     "  a: &a {targets: [&t {name: x, host: h}]}\n"
	                     "  b: *a\n  c: *a\n  d: *a\n  e: *a\n",
	                     &p),
	                 0);
	assert_int_equal(p.nenvs, 5);
	assert_string_equal(p.envs[4].targets[0].name, "x");
	smtprobe_policy_free(&p);
	/* a cycle through an alias ends at the schema */
	expect_err("environments: &e\n  s: *e\n",
	           "environments.s.s: unknown key (expected targets)");
	/* a long value is quoted cut short, and the message ends */
	s = repeat(HEAD "        tls: ", "x", 5000, "\n");
	expect_err(s, "tls: 'xxxxxxxx");
	assert_non_null(strstr(err, "...' is not one of"));
	free(s);
}

/* ---- files -------------------------------------------------------- */

static char tmpdir[] = "/tmp/test_run_policy.XXXXXX";

static void write_file(const char *name, const char *content, size_t len,
                       char *path, size_t pathsz)
{
	FILE *f;

	snprintf(path, pathsz, "%s/%s", tmpdir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(content, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void test_load(void **state)
{
	struct smtprobe_policy p;
	char path[256], want[256], *big;
	static const char text[] =
	        "environments:\n  s:\n    targets:\n      - {name: a, host: h, "
	        "tls_ca_path: ca.pem}\n";
	static const char mtext[] = "modules:\n  m: {kind: relay}\n";

	(void)state;
	write_file("policy.yaml", text, strlen(text), path, sizeof(path));
	assert_int_equal(smtprobe_policy_load(path, &p, err, sizeof(err)), 0);
	assert_string_equal(p.path, path);
	snprintf(want, sizeof(want), "%s/ca.pem", tmpdir);
	assert_string_equal(p.envs[0].targets[0].tls_ca_path, want);
	smtprobe_policy_free(&p);

	write_file("modules.yaml", mtext, strlen(mtext), path, sizeof(path));
	assert_int_equal(smtprobe_modules_load(path, &p, err, sizeof(err)), 0);
	assert_int_equal(p.modules[0].kind, SMTPROBE_POL_RELAY);
	smtprobe_policy_free(&p);
	/* the wrong kind of file */
	assert_int_equal(smtprobe_policy_load(path, &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "modules.yaml:1: modules: belongs in a "
	                            "modules file, not in a policy"));

	snprintf(path, sizeof(path), "%s/none.yaml", tmpdir);
	assert_int_equal(smtprobe_policy_load(path, &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "none.yaml: no such file or directory"));
	assert_int_equal(smtprobe_policy_load(tmpdir, &p, err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, ": not a regular file"));

	big = malloc(1024 * 1024 + 1);
	assert_non_null(big);
	memset(big, '#', 1024 * 1024 + 1);
	write_file("big.yaml", big, 1024 * 1024 + 1, path, sizeof(path));
	assert_int_equal(smtprobe_policy_load(path, &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "big.yaml: larger than 1048576 bytes"));
	/* exactly 1 MiB of comment: read, then refused for its content */
	write_file("big.yaml", big, 1024 * 1024, path, sizeof(path));
	assert_int_equal(smtprobe_policy_load(path, &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "big.yaml:1: environments: required key"));
	free(big);
}

/* ---- secrets ------------------------------------------------------ */

static void test_secret(void **state)
{
	struct smtprobe_pol_target t;
	char buf[16], path[256];

	(void)state;
	memset(&t, 0, sizeof(t));
	assert_int_equal(smtprobe_policy_secret(&t, getenv, buf, sizeof(buf),
	                                        err, sizeof(err)),
	                 1);
	assert_string_equal(buf, "");

	t.password_env = "SMTPROBE_TEST_PW";
	unsetenv("SMTPROBE_TEST_PW");
	assert_int_equal(smtprobe_policy_secret(&t, getenv, buf, sizeof(buf),
	                                        err, sizeof(err)),
	                 -1);
	assert_string_equal(err,
	                    "password_env SMTPROBE_TEST_PW: the variable is "
	                    "not set");
	setenv("SMTPROBE_TEST_PW", "", 1);
	assert_int_equal(smtprobe_policy_secret(&t, getenv, buf, sizeof(buf),
	                                        err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "the variable is empty"));
	setenv("SMTPROBE_TEST_PW", "s3cret pass", 1);
	assert_int_equal(smtprobe_policy_secret(&t, getenv, buf, sizeof(buf),
	                                        err, sizeof(err)),
	                 0);
	assert_string_equal(buf, "s3cret pass");
	assert_string_equal(err, "");
	setenv("SMTPROBE_TEST_PW", "a-secret-of-16-b", 1);
	assert_int_equal(smtprobe_policy_secret(&t, getenv, buf, sizeof(buf),
	                                        err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "longer than 15 bytes"));
	assert_null(strstr(err, "a-secret"));
	assert_string_equal(buf, "");
	unsetenv("SMTPROBE_TEST_PW");

	t.password_env = NULL;
	t.password_file = path;
	memset(buf, 'x', sizeof(buf));
	write_file("pw", "hunter2\nsecond line\n", 20, path, sizeof(path));
	assert_int_equal(smtprobe_policy_secret(&t, getenv, buf, sizeof(buf),
	                                        err, sizeof(err)),
	                 0);
	assert_string_equal(buf, "hunter2");
	/* what followed the first line is not left in buf */
	assert_null(memmem(buf, sizeof(buf), "second", 6));
	write_file("pw", "hunter2\r\n", 9, path, sizeof(path));
	assert_int_equal(smtprobe_policy_secret(&t, getenv, buf, sizeof(buf),
	                                        err, sizeof(err)),
	                 0);
	assert_string_equal(buf, "hunter2");
	write_file("pw", "no-newline", 10, path, sizeof(path));
	assert_int_equal(smtprobe_policy_secret(&t, getenv, buf, sizeof(buf),
	                                        err, sizeof(err)),
	                 0);
	assert_string_equal(buf, "no-newline");
	/* exactly 15 bytes fit, with or without the newline */
	write_file("pw", "fifteen-bytes-x\n", 16, path, sizeof(path));
	assert_int_equal(smtprobe_policy_secret(&t, getenv, buf, sizeof(buf),
	                                        err, sizeof(err)),
	                 0);
	assert_string_equal(buf, "fifteen-bytes-x");
	write_file("pw", "fifteen-bytes-x", 15, path, sizeof(path));
	assert_int_equal(smtprobe_policy_secret(&t, getenv, buf, sizeof(buf),
	                                        err, sizeof(err)),
	                 0);
	write_file("pw", "sixteen-bytes-xx\n", 17, path, sizeof(path));
	assert_int_equal(smtprobe_policy_secret(&t, getenv, buf, sizeof(buf),
	                                        err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "the secret is longer than 15 bytes"));
	assert_null(strstr(err, "sixteen"));
	assert_string_equal(buf, "");
	write_file("pw", "\nhunter2\n", 9, path, sizeof(path));
	assert_int_equal(smtprobe_policy_secret(&t, getenv, buf, sizeof(buf),
	                                        err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, ": the first line is empty"));
	assert_null(strstr(err, "hunter2"));
	write_file("pw", "", 0, path, sizeof(path));
	assert_int_equal(smtprobe_policy_secret(&t, getenv, buf, sizeof(buf),
	                                        err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, ": the first line is empty"));
	write_file("pw", "a\0b\n", 4, path, sizeof(path));
	assert_int_equal(smtprobe_policy_secret(&t, getenv, buf, sizeof(buf),
	                                        err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "NUL byte"));
	chmod(path, 0);
	if (access(path, R_OK) != 0) { /* root reads anyway */
		assert_int_equal(smtprobe_policy_secret(&t, getenv, buf,
		                                        sizeof(buf), err,
		                                        sizeof(err)),
		                 -1);
		assert_non_null(strstr(err, "permission denied"));
	}
	snprintf(path, sizeof(path), "%s/missing", tmpdir);
	assert_int_equal(smtprobe_policy_secret(&t, getenv, buf, sizeof(buf),
	                                        err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "password_file "));
	assert_non_null(strstr(err, "/missing: no such file or directory"));
	t.password_file = tmpdir;
	assert_int_equal(smtprobe_policy_secret(&t, getenv, buf, sizeof(buf),
	                                        err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, ": not a regular file"));
	/* no room at all */
	assert_int_equal(
	        smtprobe_policy_secret(&t, getenv, buf, 1, err, sizeof(err)),
	        -1);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	static const char *const names[] = {"policy.yaml", "modules.yaml",
	                                    "big.yaml", "pw"};
	char path[256];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(names); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, names[i]);
		unlink(path);
	}
	return rmdir(tmpdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_full),    cmocka_unit_test(test_defaults),
	        cmocka_unit_test(test_aliases), cmocka_unit_test(test_paths),
	        cmocka_unit_test(test_banners), cmocka_unit_test(test_modules),
	        cmocka_unit_test(test_names),   cmocka_unit_test(test_bad),
	        cmocka_unit_test(test_caps),    cmocka_unit_test(test_load),
	        cmocka_unit_test(test_secret),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
