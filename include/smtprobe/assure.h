/* assure.h - continuous assurance above the audits: a check, relay or tls
 * result as an outcome (outcome.h: test cases for JUnit and TAP, metrics
 * for Prometheus), and one probe of the exporter (a module of
 * modules.yaml against one target). The metric names and help texts are
 * documented in smtprobe-exporter(1), METRICS. */
#ifndef SMTPROBE_ASSURE_H
#define SMTPROBE_ASSURE_H

#include <stddef.h>

#include "check.h"
#include "dnscheck.h"
#include "outcome.h"
#include "policy.h"
#include "relay.h"
#include "tlsscan.h"

/* Each adds one suite (a test case per step, per relay test and scenario
 * verdict, per finding) and its metrics to o. */
void smtprobe_assure_check(const struct smtprobe_check_result *r,
                           struct smtprobe_outcome *o);
void smtprobe_assure_relay(const struct smtprobe_relay_report *r,
                           struct smtprobe_outcome *o);
void smtprobe_assure_dns(const struct smtprobe_dc_facts *f,
                         const struct smtprobe_dc_report *r,
                         struct smtprobe_outcome *o);
/* The summary of `smtprobe logs` as Prometheus metrics (no suites); at
 * most top address label values. */
struct smtprobe_logs;
void smtprobe_assure_logs(const struct smtprobe_logs *l, unsigned top,
                          struct smtprobe_outcome *o);
void smtprobe_assure_tls(const struct smtprobe_tls_scan_params *p,
                         const struct smtprobe_tls_scan *s,
                         struct smtprobe_outcome *o);

/* Run module m against host (port: 0 for the module's) within deadline_ms
 * (0: the module's own timeouts only; secrets named by a variable read
 * through env), adding to o the kind's metrics and
 * smtprobe_probe_success and smtprobe_probe_duration_seconds. Returns 1
 * when the probe succeeded, 0 when it ran and failed, -1 when it could not
 * start (err: a secret missing, a bad target). Blocks; safe to call from
 * several threads at once. */
int smtprobe_assure_probe(const struct smtprobe_pol_target *m, const char *host,
                          unsigned port, unsigned deadline_ms,
                          smtprobe_env_fn env, struct smtprobe_outcome *o,
                          char *err, size_t errsz);

/* ---- smtprobe run (run.c, run_assert.c, run_drift.c, run_out.c) ---- */

/* What was measured of one target: the facts the expectations and the
 * drift report compare. -1 (or "") where it was not measured. */
struct smtprobe_run_facts {
	int reached;       /* a banner came */
	char banner[512];  /* its first line, "220 mx.example.test ESMTP" */
	char software[64]; /* what answered, as guessed from the banner */
	int tls;           /* the session was encrypted */
	char tls_version[16];
	int tls_verified; /* chain and host name */
	char tls_verify_reason[256];
	long cert_days_left;        /* LONG_MIN: no certificate */
	int lowest_version;         /* enum smtprobe_tls_proto accepted, -1 */
	char accepted_versions[64]; /* "TLSv1.2 TLSv1.3" */
	int auth_in_clear;          /* AUTH advertised before TLS */
	char mechanisms[256];       /* offered after TLS, as advertised */
	int auth_ok;                /* the credentials were taken; -1 */
	char auth_reply[256];
	double check_ms; /* the ladder's whole time */
	int relay_ran;   /* the audit ran */
	enum smtprobe_relay_verdict relay[3];
	char relay_why[3][256];
	char relay_fix[3][512]; /* the first hole's fix, for the software */
	char versions_fix[512]; /* the scan's fix for old protocols */
	char error[256];        /* why the ladder stopped early */
};

struct smtprobe_assertion {
	char name[48]; /* "reachable", "relay.C", "tls.min_version" ... */
	enum smtprobe_case_status status; /* PASS, FAIL, ERROR (undecided) */
	char expected[160];
	char actual[320];
	char detail[768]; /* the evidence, and the fix when it failed */
};

#define SMTPROBE_RUN_MAX_ASSERTIONS 24

struct smtprobe_run_target {
	const char *env;                     /* points into the policy */
	const struct smtprobe_pol_target *t; /* idem */
	unsigned port; /* the port probed (t->port, or its default) */
	struct smtprobe_run_facts facts;
	struct smtprobe_assertion a[SMTPROBE_RUN_MAX_ASSERTIONS];
	size_t na;
	double seconds;
	double started;  /* Unix time */
	char error[256]; /* it could not run at all (a secret unreadable) */
};

#define SMTPROBE_DRIFT_MAX_ENVS 8

/* One fact of one target name that differs between environments. */
struct smtprobe_drift {
	const char *target;
	char fact[32];
	size_t nvalues;
	const char *env[SMTPROBE_DRIFT_MAX_ENVS];
	char value[SMTPROBE_DRIFT_MAX_ENVS][96];
};

struct smtprobe_run_report {
	struct smtprobe_run_target *targets;
	size_t ntargets;
	struct smtprobe_drift *drift;
	size_t ndrift;
	size_t compared; /* target names found in 2+ environments */
	double seconds;
	int exit_code; /* 0 every assertion holds, 1 one failed, 2 undecided */
};

/* Run the targets of the environments named (all when nenvs is 0) with
 * at most concurrency targets at once (0: 4). Returns the exit code, or -1
 * with err (an environment the policy lacks). */
int smtprobe_run(const struct smtprobe_policy *p, const char *const *envs,
                 size_t nenvs, unsigned concurrency, smtprobe_env_fn env,
                 struct smtprobe_run_report *out, char *err, size_t errsz);
void smtprobe_run_free(struct smtprobe_run_report *r);

/* Judge the expectations of target rt from its facts (pure; run.c calls
 * it, unit tests too). */
void smtprobe_run_assert(struct smtprobe_run_target *rt);
/* Fill r->drift from r->targets (pure). */
void smtprobe_run_drift(struct smtprobe_run_report *r);

/* A suite per target ("ENV/NAME"), a case per assertion; metrics
 * smtprobe_assertion_success{env,target,assertion} and
 * smtprobe_run_target_success{env,target}. */
void smtprobe_assure_run(const struct smtprobe_run_report *r,
                         struct smtprobe_outcome *o);
/* The report as one JSON document (malloc'd). */
char *smtprobe_run_json(const struct smtprobe_run_report *r);

#endif
