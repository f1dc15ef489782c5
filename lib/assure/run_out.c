/* run_out.c - the report of `smtprobe run` for machines: one JSON document
 * (jansson) with every target's assertions and facts and the drift; and
 * the outcome (a suite per target "ENV/NAME", a case per assertion, the
 * metrics smtprobe_assertion_success{env,target,assertion} and
 * smtprobe_run_target_success{env,target}) that --format junit, tap and
 * prometheus render. Pure. */
#include <jansson.h>
#include <limits.h>
#include <stdio.h>

#include "report.h"
#include "smtprobe/assure.h"
#include "banned.h"

static const char *status_name(enum smtprobe_case_status st)
{
	switch (st) {
	case SMTPROBE_CASE_PASS:
		return "pass";
	case SMTPROBE_CASE_FAIL:
		return "fail";
	case SMTPROBE_CASE_ERROR:
		return "undecided";
	case SMTPROBE_CASE_SKIP:
		break;
	}
	return "skip";
}

static json_t *tri(int v)
{
	return v < 0 ? json_null() : json_boolean(v);
}

static json_t *str_or_null(const char *s)
{
	return s && s[0] ? json_string(s) : json_null();
}

static json_t *facts_json(const struct smtprobe_run_facts *f)
{
	json_t *relay = json_null();
	if (f->relay_ran) {
		relay = json_object();
		for (int i = 0; i < 3; i++)
			if (f->relay[i] != SMTPROBE_V_SKIPPED) {
				char k[2] = {(char)('A' + i), '\0'};
				json_object_set_new(
				        relay, k,
				        json_string(smtprobe_relay_verdict_name(
				                f->relay[i])));
			}
	}
	return json_pack(
	        "{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:f, "
	        "s:o}",
	        "reachable", json_boolean(f->reached), "banner",
	        str_or_null(f->banner), "software", str_or_null(f->software),
	        "tls", f->tls ? json_string(f->tls_version) : json_null(),
	        "tls_verified", f->tls ? tri(f->tls_verified) : json_null(),
	        "cert_days_left",
	        f->cert_days_left == LONG_MIN
	                ? json_null()
	                : json_integer((json_int_t)f->cert_days_left),
	        "tls_versions", str_or_null(f->accepted_versions),
	        "auth_offered_in_clear", tri(f->auth_in_clear),
	        "auth_mechanisms", str_or_null(f->mechanisms), "auth_succeeds",
	        tri(f->auth_ok), "relay", relay, "check_ms", f->check_ms,
	        "error", str_or_null(f->error));
}

static json_t *target_json(const struct smtprobe_run_target *rt)
{
	json_t *as = json_array();
	int ok = 1;
	for (size_t i = 0; i < rt->na; i++) {
		const struct smtprobe_assertion *a = &rt->a[i];
		ok &= a->status == SMTPROBE_CASE_PASS;
		json_array_append_new(
		        as,
		        json_pack("{s:s, s:s, s:s, s:s, s:o}", "name", a->name,
		                  "status", status_name(a->status), "expected",
		                  a->expected, "actual", a->actual, "detail",
		                  str_or_null(a->detail)));
	}
	return json_pack("{s:s, s:s, s:s, s:i, s:b, s:f, s:o, s:o, s:o}", "env",
	                 rt->env, "name", rt->t->name, "host", rt->t->host,
	                 "port", (int)rt->port, "ok", ok, "seconds",
	                 rt->seconds, "error", str_or_null(rt->error),
	                 "assertions", as, "facts", facts_json(&rt->facts));
}

char *smtprobe_run_json(const struct smtprobe_run_report *r)
{
	json_t *targets = json_array(), *drift = json_array();
	for (size_t i = 0; i < r->ntargets; i++)
		json_array_append_new(targets, target_json(&r->targets[i]));
	for (size_t i = 0; i < r->ndrift; i++) {
		const struct smtprobe_drift *d = &r->drift[i];
		json_t *vals = json_object();
		for (size_t k = 0; k < d->nvalues; k++)
			json_object_set_new(vals, d->env[k],
			                    json_string(d->value[k]));
		json_array_append_new(
		        drift, json_pack("{s:s, s:s, s:o}", "target", d->target,
		                         "fact", d->fact, "values", vals));
	}
	return report_dump(json_pack(
	        "{s:i, s:f, s:o, s:{s:i, s:o}}", "exit_code", r->exit_code,
	        "seconds", r->seconds, "targets", targets, "drift", "compared",
	        (int)r->compared, "differences", drift));
}

void smtprobe_assure_run(const struct smtprobe_run_report *r,
                         struct smtprobe_outcome *o)
{
	for (size_t i = 0; i < r->ntargets; i++) {
		const struct smtprobe_run_target *rt = &r->targets[i];
		char name[300], cls[300], msg[600];
		int ok = 1;

		snprintf(name, sizeof(name), "%s/%s", rt->env, rt->t->name);
		snprintf(cls, sizeof(cls), "smtprobe.run.%s.%s", rt->env,
		         rt->t->name);
		struct smtprobe_suite *s =
		        smtprobe_outcome_suite(o, name, rt->t->host);
		smtprobe_outcome_suite_time(o, s, rt->seconds, rt->started);
		for (size_t k = 0; k < rt->na; k++) {
			const struct smtprobe_assertion *a = &rt->a[k];
			char detail[1400];
			ok &= a->status == SMTPROBE_CASE_PASS;
			snprintf(msg, sizeof(msg), "expected %s, got %s",
			         a->expected, a->actual);
			snprintf(detail, sizeof(detail),
			         "expected: %s\nactual: %s\n%s%s", a->expected,
			         a->actual, a->detail[0] ? "evidence: " : "",
			         a->detail);
			if (s)
				smtprobe_outcome_case(
				        o, s, a->name, cls, a->status, -1,
				        a->status == SMTPROBE_CASE_PASS ? NULL
				                                        : msg,
				        detail);
			smtprobe_outcome_metric(
			        o, "smtprobe_assertion_success", "gauge",
			        "1 when the expectation of the policy holds, 0 "
			        "when it fails or could not be decided",
			        a->status == SMTPROBE_CASE_PASS ? 1 : 0, "env",
			        rt->env, "target", rt->t->name, "assertion",
			        a->name, SMTPROBE_LABELS_END);
		}
		smtprobe_outcome_metric(
		        o, "smtprobe_run_target_success", "gauge",
		        "1 when every expectation of the target "
		        "holds",
		        ok ? 1 : 0, "env", rt->env, "target", rt->t->name,
		        SMTPROBE_LABELS_END);
	}
	smtprobe_outcome_metric(o, "smtprobe_run_drift_differences", "gauge",
	                        "Facts that differ between environments for "
	                        "the same target name",
	                        (double)r->ndrift, SMTPROBE_LABELS_END);
}
