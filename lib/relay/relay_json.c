/* relay_json.c - the relay audit as one JSON document (jansson): the
 * names used, every listener with its verdicts, every test with its
 * envelope, the replies it got and its outcome, the overall verdicts and
 * the exit code. The commands in the replies are the session's own, so
 * credentials are already redacted. */
#include <jansson.h>
#include <stdlib.h>

#include "report.h"
#include "smtprobe/discover.h"
#include "smtprobe/relay.h"
#include "banned.h"

static const char *const scenario_key[3] = {"A", "B", "C"};

static json_t *verdict_json(const struct smtprobe_relay_scenario_verdict *v,
                            const struct smtprobe_relay_test *tests)
{
	json_t *ev = json_array();

	for (size_t i = 0; i < v->nevidence; i++)
		json_array_append_new(ev,
		                      json_string(tests[v->evidence[i]].id));
	json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:i, s:b}", "verdict",
	                      smtprobe_relay_verdict_name(v->verdict),
	                      "confidence", v->confidence ? v->confidence : "",
	                      "why", v->why, "evidence", ev, "warnings",
	                      (int)v->warnings, "catch_all", v->catch_all);
	if (v->attempts)
		json_object_set_new(o, "coverage",
		                    json_pack("{s:i, s:i}", "attempts",
		                              (int)v->attempts, "reached",
		                              (int)v->reached));
	return o;
}

static json_t *diagnosis(const struct smtprobe_relay_test *t,
                         enum smtprobe_software sw)
{
	const char *fixes[SMTPROBE_KB_MAX_LIST];

	if (!t->kb)
		return json_null();
	size_t n = smtprobe_kb_fixes(t->kb, sw, fixes, SMTPROBE_KB_MAX_LIST);
	json_t *fl = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(fl, json_string(fixes[i]));
	return json_pack("{s:s, s:s, s:s, s:o}", "kb", t->kb->id, "title",
	                 t->kb->title, "meaning", t->kb->meaning, "fixes", fl);
}

static json_t *test_json(const struct smtprobe_relay_test *t,
                         enum smtprobe_software sw)
{
	const struct smtprobe_result *r = &t->res;
	json_t *replies = json_array();

	for (size_t i = 0; i < r->nex; i++) {
		const struct smtprobe_exchange *e = &r->ex[i];
		json_array_append_new(
		        replies,
		        json_pack("{s:s, s:o, s:o}", "stage",
		                  smtprobe_stage_name(e->stage), "command",
		                  e->command ? json_string(e->command)
		                             : json_null(),
		                  "reply", report_json_reply(e->reply)));
	}
	int ok = smtprobe_relay_as_expected(t);
	json_t *o = json_pack(
	        "{s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:o, s:s, "
	        "s:s, s:s, s:s, s:b, s:b, s:b, s:o, s:o, s:o}",
	        "id", t->id, "scenario", scenario_key[t->scenario], "port",
	        (int)t->port, "title", t->title ? t->title : "", "expect",
	        smtprobe_relay_expect_name(t->expect), "helo", t->helo,
	        "mail_from", t->mail_from, "rcpt_to", t->rcpt_to, "auth",
	        smtprobe_relay_auth_name(t->auth), "tls", r->have_tls,
	        "replies", replies, "outcome",
	        smtprobe_reply_outcome_name(t->outcome), "refusal",
	        smtprobe_refusal_kind_name(t->kind), "decided_at",
	        t->outcome == SMTPROBE_OUT_SKIPPED
	                ? ""
	                : smtprobe_stage_name(t->decided_at),
	        "why", t->why, "delivered", t->delivered, "refused_at_data",
	        t->refused_at_data, "as_expected", ok, "error",
	        r->error[0] ? json_string(r->error) : json_null(), "fix",
	        !ok && t->fix[0] ? json_string(t->fix) : json_null(),
	        "diagnosis", ok ? json_null() : diagnosis(t, sw));
	json_object_set_new(o, "reached", json_boolean(!t->not_reached));
	json_object_set_new(o, "retried",
	                    t->retried ? json_string(t->first_try)
	                               : json_null());
	json_object_set_new(o, "mark",
	                    json_string(smtprobe_relay_mark_name(t->mark)));
	json_object_set_new(o, "failure", report_json_failure(&r->failure));
	return o;
}

static json_t *verdicts(const struct smtprobe_relay_scenario_verdict v[3],
                        const struct smtprobe_relay_test *tests,
                        json_t **details)
{
	json_t *o = json_object();

	*details = json_object();
	for (int i = 0; i < 3; i++) {
		json_object_set_new(
		        o, scenario_key[i],
		        json_string(smtprobe_relay_verdict_name(v[i].verdict)));
		json_object_set_new(*details, scenario_key[i],
		                    verdict_json(&v[i], tests));
	}
	return o;
}

char *smtprobe_relay_json(const struct smtprobe_relay_report *rep)
{
	json_t *listeners = json_array(), *tests = json_array(), *details;

	for (size_t i = 0; i < rep->nlisteners; i++) {
		const struct smtprobe_relay_listener *l = &rep->listener[i];
		json_t *ld = NULL;
		json_t *lv =
		        l->open ? verdicts(l->v, rep->tests + l->first, &ld)
		                : json_null();
		json_array_append_new(
		        listeners,
		        json_pack("{s:i, s:b, s:s, s:s, s:s, s:s, s:i, s:o, "
		                  "s:o, s:o}",
		                  "port", (int)l->port, "open", l->open, "tls",
		                  smtprobe_tls_mode_name(l->tls), "host",
		                  l->host, "auth", l->auth, "error", l->error,
		                  "tests", (int)l->ntests, "verdicts", lv,
		                  "details", ld ? ld : json_null(), "software",
		                  report_json_software(&l->software)));
		if (l->tls_broken)
			json_object_set_new(
			        json_array_get(listeners,
			                       json_array_size(listeners) - 1),
			        "tls_broken", json_string(l->tls_problem));
		for (size_t k = 0; k < l->ntests; k++)
			json_array_append_new(
			        tests, test_json(&rep->tests[l->first + k],
			                         l->software.id));
	}
	json_t *v = verdicts(rep->overall, rep->tests, &details);
	json_t *doc = json_pack(
	        "{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:o, s:o, s:o, s:o, "
	        "s:i, s:o, s:f}",
	        "host", rep->host, "local_domain", rep->local_domain,
	        "local_domain_source", rep->local_domain_source,
	        "external_domain", rep->external_domain, "own", rep->own,
	        "other_sender", rep->other, "deliver", rep->deliver,
	        "truncated", rep->truncated, "listeners", listeners, "tests",
	        tests, "verdicts", v, "verdict_details", details, "exit_code",
	        rep->exit_code, "error",
	        rep->error[0] ? json_string(rep->error) : json_null(), "ms",
	        rep->ms);
	json_object_set_new(doc, "software",
	                    report_json_software(&rep->software));
	json_object_set_new(doc, "retry",
	                    rep->retried || rep->retry_withheld
	                            ? json_pack("{s:i, s:s, s:s, s:i}", "tests",
	                                        (int)rep->retried, "sender",
	                                        rep->retry_sender, "source",
	                                        rep->retry_source, "withheld",
	                                        (int)rep->retry_withheld)
	                            : json_null());
	return report_dump(doc);
}
