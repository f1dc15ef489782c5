/* fuzz_run_policy.c - libFuzzer target for the files of `smtprobe run`
 * and `smtprobe exporter` (lib/assure/policy.c): the input, NULs and all,
 * is parsed both as a policy and as a modules file. Aborts when a parse
 * succeeds with a result that breaks the parser's promises (counts of 0
 * or over their caps, a name that lookups don't find or finds twice,
 * strings empty or with control characters, ports, timeouts and
 * expectations out of range, relative paths, mechanisms not upper-case,
 * both or neither of password_env / password_file with a user, a banner
 * regcomp refuses), or fails without a "PATH:LINE: " message (or the
 * size and memory ones), or leaves the result not empty; freeing twice
 * must be harmless. ASan/UBSan catch the rest, and libFuzzer's -timeout
 * a document or a regex that costs too much (the corpus has anchors,
 * aliases and a banner). */
#include <regex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtprobe/policy.h"

#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                               \
	do {                                                                   \
		if (!(x))                                                      \
			abort();                                               \
	} while (0)

#define PATH "fuzz/policy.yaml"

static void check_str(const char *s, int may_be_null)
{
	const unsigned char *u = (const unsigned char *)s;

	if (s == NULL) {
		CHECK(may_be_null);
		return;
	}
	CHECK(*u != '\0');
	for (; *u != '\0'; u++)
		CHECK(*u >= 0x20 && *u != 0x7f);
}

static void check_tri(int v)
{
	CHECK(v == -1 || v == 0 || v == 1);
}

static void check_expect(const struct smtprobe_pol_expect *e, int policy)
{
	size_t i;
	int any = 0;

	for (i = 0; i < 3; i++) {
		CHECK(e->relay_set[i] == 0 || e->relay_set[i] == 1);
		any |= e->relay_set[i];
	}
	CHECK(!e->relay_set[0] || e->relay[0] == SMTPROBE_V_CLOSED ||
	      e->relay[0] == SMTPROBE_V_OPEN);
	for (i = 1; i < 3; i++)
		CHECK(!e->relay_set[i] || e->relay[i] == SMTPROBE_V_HOLDS ||
		      e->relay[i] == SMTPROBE_V_VIOLATED);
	check_tri(e->tls_required);
	check_tri(e->tls_verify);
	check_tri(e->auth_offered_in_clear);
	check_tri(e->auth_succeeds);
	CHECK(e->tls_min_version == -1 ||
	      (e->tls_min_version >= SMTPROBE_TP_TLS10 &&
	       e->tls_min_version <= SMTPROBE_TP_TLS13));
	CHECK(e->tls_cert_days_left_min >= -1 &&
	      e->tls_cert_days_left_min <= 36500);
	CHECK(e->max_ms == -1 || (e->max_ms >= 1 && e->max_ms <= 3600000));
	CHECK(e->nmechs <= SMTPROBE_POL_MAX_MECHS);
	for (i = 0; i < e->nmechs; i++) {
		const char *m = e->mechs_include[i];

		check_str(m, 0);
		CHECK(strlen(m) <= 20);
		CHECK(strspn(m, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") ==
		      strlen(m));
	}
	check_str(e->banner, 1);
	if (e->banner != NULL) {
		regex_t re;

		CHECK(regcomp(&re, e->banner, REG_EXTENDED | REG_NOSUB) == 0);
		regfree(&re);
	}
	any |= e->tls_required != -1 || e->tls_verify != -1 ||
	       e->auth_offered_in_clear != -1 || e->auth_succeeds != -1 ||
	       e->tls_min_version != -1 || e->tls_cert_days_left_min != -1 ||
	       e->max_ms != -1 || e->nmechs > 0 || e->banner != NULL;
	CHECK(e->any == 0 || e->any == 1);
	/* expect: {} is refused, so any is exactly "some field is set" */
	CHECK(e->any == any);
	CHECK(policy || !e->any);
}

static void check_target(const struct smtprobe_pol_target *t, int policy)
{
	check_str(t->name, 0);
	if (policy) {
		check_str(t->host, 0);
		CHECK(t->kind == SMTPROBE_POL_CHECK);
	} else {
		CHECK(t->host == NULL);
		CHECK(t->kind >= SMTPROBE_POL_CHECK &&
		      t->kind <= SMTPROBE_POL_TLS);
	}
	CHECK(t->port <= 65535);
	CHECK(t->tls >= SMTPROBE_POL_TLS_STARTTLS &&
	      t->tls <= SMTPROBE_POL_TLS_OPTIONAL);
	CHECK(t->tls_set ||
	      t->tls == (t->port == 465 ? SMTPROBE_POL_TLS_IMPLICIT
	                                : SMTPROBE_POL_TLS_STARTTLS));
	check_str(t->tls_ca_path, 1);
	CHECK(t->tls_ca_path == NULL || t->tls_ca_path[0] == '/');
	check_str(t->local_domain, 1);
	check_str(t->helo, 1);
	check_str(t->auth_user, 1);
	check_str(t->password_env, 1);
	check_str(t->password_file, 1);
	CHECK(t->password_file == NULL || t->password_file[0] == '/');
	CHECK((t->auth_user != NULL) ==
	      ((t->password_env != NULL) + (t->password_file != NULL) == 1));
	CHECK(t->password_env == NULL || t->password_file == NULL);
	check_str(t->other_sender, 1);
	CHECK(t->other_sender == NULL || strchr(t->other_sender, '@'));
	check_str(t->external_domain, 1);
	CHECK(t->timeout_s <= 600);
	CHECK(t->line >= 1);
	check_expect(&t->expect, policy);
	CHECK(!t->expect.relay_set[1] || t->auth_user != NULL);
	CHECK(t->expect.auth_succeeds == -1 || t->auth_user != NULL);
}

static void check_policy(const struct smtprobe_policy *p, int policy)
{
	size_t i, j;

	CHECK(p->path != NULL && strcmp(p->path, PATH) == 0);
	if (!policy) {
		CHECK(p->nenvs == 0 && p->envs == NULL);
		CHECK(p->nmodules >= 1 && p->nmodules <= 256);
		for (i = 0; i < p->nmodules; i++) {
			check_target(&p->modules[i], 0);
			CHECK(smtprobe_policy_module(p, p->modules[i].name) ==
			      &p->modules[i]);
		}
		return;
	}
	CHECK(p->nmodules == 0 && p->modules == NULL);
	CHECK(p->nenvs >= 1 && p->nenvs <= 64);
	for (i = 0; i < p->nenvs; i++) {
		const struct smtprobe_pol_env *e = &p->envs[i];

		check_str(e->name, 0);
		CHECK(smtprobe_policy_env(p, e->name) == e);
		CHECK(e->ntargets >= 1 && e->ntargets <= 256);
		for (j = 0; j < e->ntargets; j++) {
			size_t k;

			check_target(&e->targets[j], 1);
			for (k = 0; k < j; k++)
				CHECK(strcmp(e->targets[k].name,
				             e->targets[j].name) != 0);
		}
	}
}

/* "PATH:LINE: ..." or "PATH: larger than" / "PATH: out of memory" */
static void check_err(const char *err)
{
	size_t n = strlen(PATH), d;

	CHECK(strncmp(err, PATH, n) == 0);
	if (err[n] == ':' && err[n + 1] == ' ') {
		CHECK(strncmp(err + n + 2, "larger than", 11) == 0 ||
		      strncmp(err + n + 2, "out of memory", 13) == 0);
		return;
	}
	CHECK(err[n] == ':');
	d = strspn(err + n + 1, "0123456789");
	CHECK(d > 0 && err[n + 1] != '0');
	CHECK(err[n + 1 + d] == ':' && err[n + 2 + d] == ' ');
	CHECK(err[n + 3 + d] != '\0');
	for (; *err != '\0'; err++)
		CHECK((unsigned char)*err >= 0x20 && *err != 0x7f);
}

static void one(const uint8_t *data, size_t size, int policy)
{
	struct smtprobe_policy p;
	char err[512];
	int rc = policy ? smtprobe_policy_parse((const char *)data, size, PATH,
	                                        &p, err, sizeof(err))
	                : smtprobe_modules_parse((const char *)data, size, PATH,
	                                         &p, err, sizeof(err));

	if (rc == 0) {
		check_policy(&p, policy);
	} else {
		CHECK(rc == -1);
		check_err(err);
		CHECK(p.envs == NULL && p.nenvs == 0 && p.modules == NULL &&
		      p.nmodules == 0 && p.path == NULL);
	}
	smtprobe_policy_free(&p);
	smtprobe_policy_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one(data, size, 1);
	one(data, size, 0);
	return 0;
}
