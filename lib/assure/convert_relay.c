/* convert_relay.c - the report of `smtprobe relay` as an outcome: a suite
 * per listener ("relay HOST:PORT") with a case per scenario verdict
 * ("scenario A": closed / holds pass, open / violated fail, inconclusive an
 * error) and a case per test (a hole fails, an undecided test is an error,
 * a warning passes - the scenario fails instead when the audit is strict
 * - and skipped tests are skipped), each with
 * its evidence and its fix; metrics smtprobe_probe_success,
 * smtprobe_probe_duration_seconds, smtprobe_relay_verdict{scenario,verdict}
 * (one sample per possible verdict, 1 for the one found) and
 * smtprobe_relay_tests{scenario,outcome}. Pure. */
#include <stdio.h>
#include <string.h>

#include "assure_int.h"
#include "smtprobe/assure.h"
#include "banned.h"

static const char *const scenario_names[3] = {"A", "B", "C"};

static enum smtprobe_case_status verdict_status(enum smtprobe_relay_verdict v)
{
	switch (v) {
	case SMTPROBE_V_CLOSED:
	case SMTPROBE_V_HOLDS:
		return SMTPROBE_CASE_PASS;
	case SMTPROBE_V_OPEN:
	case SMTPROBE_V_VIOLATED:
		return SMTPROBE_CASE_FAIL;
	case SMTPROBE_V_INCONCLUSIVE:
		return SMTPROBE_CASE_ERROR;
	case SMTPROBE_V_SKIPPED:
		break;
	}
	return SMTPROBE_CASE_SKIP;
}

static void test_case(const struct smtprobe_relay_test *t,
                      struct smtprobe_outcome *o, struct smtprobe_suite *s)
{
	enum smtprobe_case_status st = SMTPROBE_CASE_PASS;
	struct assure_text d;
	char line[1300];
	const char *msg = t->why[0] ? t->why : NULL;

	switch (t->mark) {
	case SMTPROBE_MARK_SKIPPED:
		st = SMTPROBE_CASE_SKIP;
		msg = msg ? msg : "not applicable on this listener";
		break;
	case SMTPROBE_MARK_HOLE:
		st = SMTPROBE_CASE_FAIL;
		break;
	case SMTPROBE_MARK_UNDECIDED:
		st = SMTPROBE_CASE_ERROR;
		break;
	case SMTPROBE_MARK_WARN: /* the scenario's case fails when strict */
	case SMTPROBE_MARK_PASS:
	case SMTPROBE_MARK_FACT:
		break;
	}
	assure_text_init(&d);
	assure_text_line(&d, "test", t->title);
	snprintf(line, sizeof(line), "%s %s", t->mail_from, t->rcpt_to);
	assure_text_line(&d, "envelope", line);
	assure_text_line(&d, "helo", t->helo);
	if (t->deciding && t->deciding->raw)
		assure_text_line(&d, "reply", t->deciding->raw);
	else if (t->res.error[0])
		assure_text_line(&d, "error", t->res.error);
	assure_text_line(&d, "outcome",
	                 smtprobe_reply_outcome_name(t->outcome));
	if (t->mark == SMTPROBE_MARK_HOLE || t->mark == SMTPROBE_MARK_WARN)
		assure_text_line(&d, "fix", t->fix);
	smtprobe_outcome_case(o, s, t->id, "smtprobe.relay", st,
	                      t->ran ? t->res.total_ms / 1000.0 : -1, msg,
	                      d.len ? d.buf : NULL);
}

static void listener_suite(const struct smtprobe_relay_report *r,
                           const struct smtprobe_relay_listener *l,
                           struct smtprobe_outcome *o)
{
	char name[320];

	snprintf(name, sizeof(name), "relay %s:%u", r->host, l->port);
	struct smtprobe_suite *s = smtprobe_outcome_suite(o, name, r->host);
	if (s == NULL)
		return;
	if (!l->open) {
		smtprobe_outcome_case(
		        o, s, "listener", "smtprobe.relay", SMTPROBE_CASE_ERROR,
		        -1, l->error[0] ? l->error : "not reachable", NULL);
		return;
	}
	for (int sc = 0; sc < 3; sc++) {
		const struct smtprobe_relay_scenario_verdict *v = &l->v[sc];
		char cname[32], verdict[160];
		struct assure_text d;

		snprintf(cname, sizeof(cname), "scenario %s",
		         scenario_names[sc]);
		snprintf(verdict, sizeof(verdict), "%s%s%s%s",
		         smtprobe_relay_verdict_name(v->verdict),
		         v->confidence && v->confidence[0] ? " (confidence "
		                                           : "",
		         v->confidence && v->confidence[0] ? v->confidence : "",
		         v->confidence && v->confidence[0] ? ")" : "");
		assure_text_init(&d);
		assure_text_line(&d, "verdict", verdict);
		assure_text_line(&d, "why", v->why);
		for (size_t i = 0; i < v->nevidence; i++) {
			size_t k = l->first + v->evidence[i];
			if (k < r->ntests)
				assure_text_line(&d, "evidence",
				                 r->tests[k].id);
		}
		smtprobe_outcome_case(
		        o, s, cname, "smtprobe.relay",
		        verdict_status(v->verdict), -1,
		        v->verdict == SMTPROBE_V_SKIPPED
		                ? (v->why[0] ? v->why : "not run")
		                : smtprobe_relay_verdict_name(v->verdict),
		        d.buf);
	}
	for (size_t i = 0; i < l->ntests && l->first + i < r->ntests; i++)
		test_case(&r->tests[l->first + i], o, s);
}

static void relay_metrics(const struct smtprobe_relay_report *r,
                          struct smtprobe_outcome *o)
{
	static const enum smtprobe_relay_verdict all[] = {
	        SMTPROBE_V_SKIPPED,  SMTPROBE_V_CLOSED,
	        SMTPROBE_V_OPEN,     SMTPROBE_V_HOLDS,
	        SMTPROBE_V_VIOLATED, SMTPROBE_V_INCONCLUSIVE,
	};
	static const enum smtprobe_relay_mark marks[] = {
	        SMTPROBE_MARK_SKIPPED,   SMTPROBE_MARK_PASS,
	        SMTPROBE_MARK_HOLE,      SMTPROBE_MARK_WARN,
	        SMTPROBE_MARK_UNDECIDED, SMTPROBE_MARK_FACT,
	};

	smtprobe_outcome_metric(o, "smtprobe_probe_success", "gauge",
	                        "1 when the relay policy holds: every scenario "
	                        "closed or holds",
	                        r->exit_code == 0 ? 1 : 0, SMTPROBE_LABELS_END);
	smtprobe_outcome_metric(o, "smtprobe_probe_duration_seconds", "gauge",
	                        "How long the probe took",
	                        assure_seconds(r->ms), SMTPROBE_LABELS_END);
	for (int sc = 0; sc < 3; sc++) {
		for (size_t k = 0; k < sizeof(all) / sizeof(all[0]); k++) {
			/* A is closed or open, B and C hold or are violated */
			if ((sc == 0 && (all[k] == SMTPROBE_V_HOLDS ||
			                 all[k] == SMTPROBE_V_VIOLATED)) ||
			    (sc != 0 && (all[k] == SMTPROBE_V_CLOSED ||
			                 all[k] == SMTPROBE_V_OPEN)))
				continue;
			smtprobe_outcome_metric(
			        o, "smtprobe_relay_verdict", "gauge",
			        "1 for the verdict of the scenario (A "
			        "unauthenticated relay, B authenticated in "
			        "scope, "
			        "C authenticated out of scope), 0 for the "
			        "others",
			        r->overall[sc].verdict == all[k] ? 1 : 0,
			        "scenario", scenario_names[sc], "verdict",
			        smtprobe_relay_verdict_name(all[k]),
			        SMTPROBE_LABELS_END);
		}
		size_t count[sizeof(marks) / sizeof(marks[0])] = {0};
		for (size_t i = 0; i < r->ntests; i++)
			if ((int)r->tests[i].scenario == sc &&
			    (size_t)r->tests[i].mark <
			            sizeof(count) / sizeof(count[0]))
				count[r->tests[i].mark]++;
		for (size_t k = 0; k < sizeof(marks) / sizeof(marks[0]); k++)
			smtprobe_outcome_metric(
			        o, "smtprobe_relay_tests", "gauge",
			        "The relay tests of a scenario by outcome "
			        "(pass, "
			        "hole, warn, undecided, fact, skipped)",
			        (double)count[marks[k]], "scenario",
			        scenario_names[sc], "outcome",
			        smtprobe_relay_mark_name(marks[k]),
			        SMTPROBE_LABELS_END);
	}
}

void smtprobe_assure_relay(const struct smtprobe_relay_report *r,
                           struct smtprobe_outcome *o)
{
	if (r->nlisteners == 0) {
		char name[320];
		snprintf(name, sizeof(name), "relay %s", r->host);
		struct smtprobe_suite *s =
		        smtprobe_outcome_suite(o, name, r->host);
		if (s)
			smtprobe_outcome_case(
			        o, s, "listeners", "smtprobe.relay",
			        SMTPROBE_CASE_ERROR, -1,
			        r->error[0] ? r->error : "no listener answered",
			        NULL);
	}
	for (size_t i = 0; i < r->nlisteners; i++)
		listener_suite(r, &r->listener[i], o);
	relay_metrics(r, o);
}
