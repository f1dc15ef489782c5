/* run.c - `smtprobe run`: every target of the environments asked for,
 * at most `concurrency` at once (worker threads, each probe on its own
 * loop and batch runner). Per target: the diagnostic ladder (always:
 * banner, TLS, certificate, AUTH), the relay audit when relay verdicts are
 * expected (only the scenarios named), a TLS scan when a lowest protocol
 * version is; the facts they give are judged (run_assert.c) and compared
 * across environments (run_drift.c). */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "assure_int.h"
#include "smtprobe/assure.h"
#include "banned.h"

#define DEFAULT_CONCURRENCY 4u

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The first line of the banner's reply, "220 mx.example.test ESMTP". */
static void banner_line(const struct smtprobe_result *res, char *out,
                        size_t outsz)
{
	out[0] = '\0';
	for (size_t i = 0; i < res->nex; i++) {
		const struct smtprobe_exchange *e = &res->ex[i];
		if (e->stage != SMTPROBE_ST_BANNER || !e->reply ||
		    !e->reply->raw)
			continue;
		size_t n = strcspn(e->reply->raw, "\n");
		snprintf(out, outsz, "%.*s", (int)n, e->reply->raw);
		return;
	}
}

static void check_facts(const struct smtprobe_check_result *r,
                        struct smtprobe_run_facts *f)
{
	const struct smtprobe_result *s = &r->session;

	f->reached = r->step[SMTPROBE_CK_BANNER].status == SMTPROBE_CK_PASS ||
	             r->step[SMTPROBE_CK_BANNER].status == SMTPROBE_CK_WARN;
	banner_line(s, f->banner, sizeof(f->banner));
	snprintf(f->software, sizeof(f->software), "%s",
	         r->software.confidence && r->software.confidence[0]
	                 ? smtprobe_software_name(r->software.id)
	                 : "");
	f->check_ms = r->ms;
	if (!f->reached) {
		for (int i = 0; i < SMTPROBE_CK_LAST; i++)
			if (r->step[i].status == SMTPROBE_CK_FAIL) {
				snprintf(f->error, sizeof(f->error),
				         "%s: %.200s",
				         smtprobe_check_step_name(i),
				         r->step[i].detail);
				break;
			}
		return;
	}
	f->tls = s->have_tls;
	if (s->have_tls) {
		snprintf(f->tls_version, sizeof(f->tls_version), "%s",
		         s->tls.protocol);
		f->tls_verified = s->tls.verify_ok &&
		                  (!s->tls.host_checked || s->tls.host_match);
		if (!s->tls.verify_ok)
			snprintf(f->tls_verify_reason,
			         sizeof(f->tls_verify_reason), "%s",
			         s->tls.verify_reason);
		else if (s->tls.host_checked && !s->tls.host_match)
			snprintf(f->tls_verify_reason,
			         sizeof(f->tls_verify_reason),
			         "the certificate does not name %.200s",
			         r->host);
		if (s->tls.nchain > 0)
			f->cert_days_left = s->tls.chain[0].days_left;
	}
	if (s->implicit_tls)
		f->auth_in_clear = 0;
	else if (s->have_ehlo_first)
		f->auth_in_clear = s->ehlo_first.mechs != 0;
	else if (s->have_ehlo)
		f->auth_in_clear = !s->have_tls && s->ehlo.mechs != 0;
	if (s->have_ehlo)
		snprintf(f->mechanisms, sizeof(f->mechanisms), "%.255s",
		         s->ehlo.auth);
	if (s->auth_tried) {
		f->auth_ok = s->auth_ok;
		if (s->auth_reply && s->auth_reply->raw)
			snprintf(f->auth_reply, sizeof(f->auth_reply), "%.*s",
			         (int)strcspn(s->auth_reply->raw, "\n"),
			         s->auth_reply->raw);
	}
}

static void run_check(struct assure_session *s, struct smtprobe_run_target *rt)
{
	struct smtprobe_check_params cp;
	struct smtprobe_check_result *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		snprintf(rt->error, sizeof(rt->error), "out of memory");
		return;
	}
	assure_check_params(s, &cp);
	/* the relay audit, when expected, is the relay test */
	cp.no_relay_test = 1;
	smtprobe_check_run(&cp, r);
	check_facts(r, &rt->facts);
	smtprobe_check_release(r);
	free(r);
}

static void run_relay(struct assure_session *s, struct smtprobe_run_target *rt)
{
	const struct smtprobe_pol_target *t = rt->t;
	struct smtprobe_relay_params rp;
	char only[4];
	size_t n = 0;

	for (int i = 0; i < 3; i++)
		if (t->expect.relay_set[i])
			only[n++] = (char)('A' + i);
	only[n] = '\0';
	struct smtprobe_relay_report *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return;
	assure_relay_params(s, t, &rp);
	rp.only = only;
	smtprobe_relay_run(&rp, r);
	rt->facts.relay_ran = 1;
	for (int i = 0; i < 3; i++) {
		rt->facts.relay[i] = r->overall[i].verdict;
		snprintf(rt->facts.relay_why[i], sizeof(rt->facts.relay_why[i]),
		         "%.255s",
		         r->overall[i].why[0] ? r->overall[i].why : r->error);
	}
	for (size_t k = r->ntests; k-- > 0;) {
		const struct smtprobe_relay_test *x = &r->tests[k];
		if (x->mark == SMTPROBE_MARK_HOLE && x->fix[0] &&
		    (unsigned)x->scenario < 3)
			snprintf(rt->facts.relay_fix[x->scenario],
			         sizeof(rt->facts.relay_fix[0]), "%.511s",
			         x->fix);
	}
	smtprobe_relay_report_free(r);
	free(r);
}

static void run_tls(struct assure_session *s, struct smtprobe_run_target *rt)
{
	struct smtprobe_tls_scan_params tp;
	struct smtprobe_tls_scan *sc = calloc(1, sizeof(*sc));
	if (sc == NULL)
		return;
	assure_tls_params(s, &tp);
	if (smtprobe_tls_scan(&tp, sc) == 0) {
		struct smtprobe_run_facts *f = &rt->facts;
		for (size_t i = 0; i < sc->nfindings && !f->versions_fix[0];
		     i++)
			if (strncmp(sc->findings[i].id, "protocol.", 9) == 0)
				snprintf(f->versions_fix,
				         sizeof(f->versions_fix), "%.511s",
				         sc->findings[i].fix);
		size_t len = 0;
		for (int v = 0; v < SMTPROBE_TP_LAST; v++) {
			if (!sc->posture.offered[v])
				continue;
			if (f->lowest_version < 0)
				f->lowest_version = v;
			int k = snprintf(f->accepted_versions + len,
			                 sizeof(f->accepted_versions) - len,
			                 "%s%s", len ? " " : "",
			                 smtprobe_tls_proto_name(v));
			if (k > 0 &&
			    (size_t)k < sizeof(f->accepted_versions) - len)
				len += (size_t)k;
		}
	}
	free(sc);
}

static void facts_init(struct smtprobe_run_facts *f)
{
	memset(f, 0, sizeof(*f));
	f->tls_verified = -1;
	f->cert_days_left = LONG_MIN;
	f->lowest_version = -1;
	f->auth_in_clear = -1;
	f->auth_ok = -1;
	for (int i = 0; i < 3; i++)
		f->relay[i] = SMTPROBE_V_SKIPPED;
}

static void run_target(struct smtprobe_run_target *rt, smtprobe_env_fn env)
{
	const struct smtprobe_pol_target *t = rt->t;
	double t0 = now_s();
	struct assure_session *s = calloc(1, sizeof(*s));

	facts_init(&rt->facts);
	rt->started = (double)time(NULL);
	if (s == NULL) {
		snprintf(rt->error, sizeof(rt->error), "out of memory");
	} else if (assure_session_init(s, t, t->host, 0, 0, env, rt->error,
	                               sizeof(rt->error)) == 0) {
		rt->port = s->port;
		run_check(s, rt);
		if (rt->facts.reached) {
			if (t->expect.relay_set[0] || t->expect.relay_set[1] ||
			    t->expect.relay_set[2])
				run_relay(s, rt);
			if (t->expect.tls_min_version >= 0)
				run_tls(s, rt);
		}
	}
	if (s) {
		rt->port = s->port;
		assure_session_wipe(s);
		free(s);
	}
	rt->seconds = now_s() - t0;
	smtprobe_run_assert(rt);
}

struct pool {
	struct smtprobe_run_report *r;
	smtprobe_env_fn env;
	size_t next;
	pthread_mutex_t lock;
};

static void *worker(void *arg)
{
	struct pool *p = arg;
	for (;;) {
		pthread_mutex_lock(&p->lock);
		size_t i = p->next++;
		pthread_mutex_unlock(&p->lock);
		if (i >= p->r->ntargets)
			return NULL;
		run_target(&p->r->targets[i], p->env);
	}
}

static int env_wanted(const char *name, const char *const *envs, size_t n)
{
	if (n == 0)
		return 1;
	for (size_t i = 0; i < n; i++)
		if (strcmp(envs[i], name) == 0)
			return 1;
	return 0;
}

int smtprobe_run(const struct smtprobe_policy *p, const char *const *envs,
                 size_t nenvs, unsigned concurrency, smtprobe_env_fn env,
                 struct smtprobe_run_report *out, char *err, size_t errsz)
{
	size_t n = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < nenvs; i++)
		if (smtprobe_policy_env(p, envs[i]) == NULL) {
			snprintf(err, errsz,
			         "%s: no environment '%s' (the file has %zu)",
			         p->path ? p->path : "policy", envs[i],
			         p->nenvs);
			return -1;
		}
	for (size_t e = 0; e < p->nenvs; e++)
		if (env_wanted(p->envs[e].name, envs, nenvs))
			n += p->envs[e].ntargets;
	out->targets = calloc(n ? n : 1, sizeof(*out->targets));
	if (out->targets == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	for (size_t e = 0; e < p->nenvs; e++) {
		if (!env_wanted(p->envs[e].name, envs, nenvs))
			continue;
		for (size_t k = 0; k < p->envs[e].ntargets; k++) {
			struct smtprobe_run_target *rt =
			        &out->targets[out->ntargets++];
			rt->env = p->envs[e].name;
			rt->t = &p->envs[e].targets[k];
		}
	}
	double t0 = now_s();
	struct pool pool = {.r = out, .env = env, .next = 0};
	pthread_mutex_init(&pool.lock, NULL);
	unsigned nthreads = concurrency ? concurrency : DEFAULT_CONCURRENCY;
	if (nthreads > n)
		nthreads = (unsigned)(n ? n : 1);
	pthread_t th[64];
	if (nthreads > sizeof(th) / sizeof(th[0]))
		nthreads = sizeof(th) / sizeof(th[0]);
	unsigned started = 0;
	for (unsigned i = 0; i < nthreads; i++)
		if (pthread_create(&th[started], NULL, worker, &pool) == 0)
			started++;
	if (started == 0)
		worker(&pool);
	for (unsigned i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&pool.lock);
	out->seconds = now_s() - t0;
	smtprobe_run_drift(out);

	int fail = 0, undecided = 0;
	for (size_t i = 0; i < out->ntargets; i++)
		for (size_t k = 0; k < out->targets[i].na; k++) {
			fail |= out->targets[i].a[k].status ==
			        SMTPROBE_CASE_FAIL;
			undecided |= out->targets[i].a[k].status ==
			             SMTPROBE_CASE_ERROR;
		}
	out->exit_code = fail ? 1 : undecided ? 2 : 0;
	return out->exit_code;
}

void smtprobe_run_free(struct smtprobe_run_report *r)
{
	free(r->targets);
	free(r->drift);
	memset(r, 0, sizeof(*r));
}
