/* relay_verdict.c - judging relay tests (pure: no I/O).
 *
 * A test's outcome is the first reply of the greeting (when refused),
 * MAIL, RCPT, DATA and the final dot that is not a yes, as
 * refusal.c (lib/kb) reads it; a refusal for greylisting or an unresolvable
 * domain never met the relay rule and is inconclusive. A listener's
 * verdicts follow the rules of the catalogue (RELAY-TESTS.md): OPEN when
 * any relay attempt was accepted (a routed form at the server's own names
 * accepted by a catch-all is inconclusive instead), CLOSED when all were
 * refused with the controls passing (or refused for want of AUTH/TLS on a
 * submission port), INCONCLUSIVE otherwise; B and C hold or are violated
 * test by test. */
#include <stdio.h>
#include <string.h>

#include "smtprobe/relay.h"
#include "banned.h"

static const struct smtprobe_reply *reply_at(const struct smtprobe_result *r,
                                             enum smtprobe_stage st)
{
	const struct smtprobe_reply *last = NULL;

	for (size_t i = 0; i < r->nex; i++)
		if (r->ex[i].stage == st && r->ex[i].reply)
			last = r->ex[i].reply;
	return last;
}

static int sent_at(const struct smtprobe_result *r, enum smtprobe_stage st)
{
	for (size_t i = 0; i < r->nex; i++)
		if (r->ex[i].stage == st && r->ex[i].command)
			return 1;
	return 0;
}

static void judge_test(struct smtprobe_relay_test *t);

void smtprobe_relay_judge_test(struct smtprobe_relay_test *t)
{
	const struct smtprobe_reply *r;
	const struct smtprobe_kb_entry *kb[1];

	judge_test(t);
	r = t->deciding;
	t->kb = r && r->code >= 400 &&
	                        smtprobe_kb_lookup(r->code, r->enhanced,
	                                           r->nlines ? r->text[0] : "",
	                                           kb, 1)
	                ? kb[0]
	                : NULL;
}

static void judge_test(struct smtprobe_relay_test *t)
{
	const struct smtprobe_result *res = &t->res;
	static const enum smtprobe_stage steps[] = {
	        SMTPROBE_ST_MAIL, SMTPROBE_ST_RCPT, SMTPROBE_ST_DATA,
	        SMTPROBE_ST_DOT};
	char why[160];

	t->deciding = NULL;
	t->delivered = 0;
	t->refused_at_data = 0;
	t->not_reached = 0;
	t->kind = SMTPROBE_RK_NONE;
	if (!t->ran) {
		t->outcome = SMTPROBE_OUT_SKIPPED;
		return;
	}
	if (res->failure.kind == SMTPROBE_FAIL_PROTOCOL) {
		/* replies out of step answer nothing we asked */
		t->outcome = SMTPROBE_OUT_INCONCLUSIVE;
		t->decided_at = res->failure.stage;
		snprintf(t->why, sizeof(t->why),
		         "the server is out of step (%s): %.200s",
		         smtprobe_protocol_error_name(res->failure.protocol),
		         res->error);
		return;
	}
	if (t->auth == SMTPROBE_RAUTH_USER && !res->auth_ok) {
		t->outcome = SMTPROBE_OUT_INCONCLUSIVE;
		t->kind = SMTPROBE_RK_AUTH;
		t->decided_at = SMTPROBE_ST_AUTH;
		t->deciding = res->auth_reply;
		snprintf(t->why, sizeof(t->why),
		         "could not authenticate: %.200s",
		         res->error[0] ? res->error : "no reply to AUTH");
		return;
	}
	if (t->auth != SMTPROBE_RAUTH_NONE && t->auth != SMTPROBE_RAUTH_USER) {
		/* bogus credentials must fail: a 235 is a hole by itself */
		for (size_t i = 0; i < res->nex; i++) {
			const struct smtprobe_reply *r = res->ex[i].reply;
			if (res->ex[i].stage != SMTPROBE_ST_AUTH || !r ||
			    r->code != 235)
				continue;
			t->outcome = SMTPROBE_OUT_ACCEPTED;
			t->decided_at = SMTPROBE_ST_AUTH;
			t->deciding = r;
			snprintf(t->why, sizeof(t->why),
			         "the server accepted bogus credentials (235)");
			return;
		}
	}
	if (!reply_at(res, SMTPROBE_ST_MAIL)) {
		/* refused at the greeting (a HELO rule): that is a refusal */
		const struct smtprobe_reply *g =
		        reply_at(res, SMTPROBE_ST_EHLO);
		if (!g || g->code < 400)
			g = reply_at(res, SMTPROBE_ST_EHLO2);
		if (g && g->code >= 400 && g->code != 421 && !res->have_ehlo) {
			enum smtprobe_refusal_kind k;
			t->outcome = smtprobe_refusal_classify(g, &k, why,
			                                       sizeof(why));
			t->kind =
			        k == SMTPROBE_RK_OTHER ? SMTPROBE_RK_CLIENT : k;
			if (t->outcome == SMTPROBE_OUT_INCONCLUSIVE &&
			    g->code >= 500)
				t->outcome = SMTPROBE_OUT_REFUSED;
			t->decided_at = SMTPROBE_ST_EHLO;
			t->deciding = g;
			snprintf(t->why, sizeof(t->why), "%s at the greeting",
			         why);
			return;
		}
	}
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		const struct smtprobe_reply *r =
		        steps[i] == SMTPROBE_ST_DOT ? res->message_reply
		        : steps[i] == SMTPROBE_ST_RCPT
		                ? (res->nrcpt ? res->rcpt[0].reply : NULL)
		                : reply_at(res, steps[i]);
		if (!r && res->failure.kind != SMTPROBE_FAIL_NONE &&
		    !sent_at(res, steps[i]) &&
		    (steps[i] <= SMTPROBE_ST_RCPT || res->data_tried ||
		     sent_at(res, SMTPROBE_ST_DATA))) {
			/* the session ended before this command went out */
			t->outcome = SMTPROBE_OUT_INCONCLUSIVE;
			t->decided_at = res->failure.stage;
			snprintf(t->why, sizeof(t->why),
			         "the session ended before %s was sent: %.200s",
			         steps[i] == SMTPROBE_ST_MAIL ? "MAIL" : "RCPT",
			         res->error);
			return;
		}
		if (!r) {
			const char *gap = NULL;
			if (steps[i] == SMTPROBE_ST_MAIL)
				gap = "no reply to MAIL";
			else if (steps[i] == SMTPROBE_ST_RCPT)
				gap = "no reply to RCPT";
			else if (steps[i] == SMTPROBE_ST_DATA &&
			         sent_at(res, SMTPROBE_ST_DATA))
				gap = "accepted at RCPT, then no reply to DATA";
			else if (steps[i] == SMTPROBE_ST_DOT && res->data_tried)
				gap = "accepted at RCPT and DATA, then no "
				      "reply "
				      "after the message";
			if (!gap)
				break; /* stopped before DATA, as asked */
			t->deciding = NULL;
			t->outcome = SMTPROBE_OUT_INCONCLUSIVE;
			t->decided_at = steps[i];
			snprintf(t->why, sizeof(t->why), "%s: %.180s", gap,
			         res->error[0] ? res->error
			                       : "the session ended");
			return;
		}
		enum smtprobe_refusal_kind k;
		enum smtprobe_reply_outcome o =
		        smtprobe_refusal_classify(r, &k, why, sizeof(why));
		t->deciding = r;
		t->decided_at = steps[i];
		if (k == SMTPROBE_RK_RECIPIENT && t->ext_rcpt &&
		    steps[i] == SMTPROBE_ST_RCPT) {
			/* a user "unknown" at a domain the server does not
			 * serve: relaying denied in other words (OpenSMTPD's
			 * "550 Invalid recipient") */
			k = SMTPROBE_RK_RELAY;
			snprintf(why, sizeof(why),
			         "%d%s%s: refused (relaying denied, worded as "
			         "an unknown recipient)",
			         r->code, r->enhanced[0] ? " " : "",
			         r->enhanced);
		}
		/* refused for the sender itself (its domain, its syntax, a
		 * reason not given), not for want of AUTH or TLS, not the
		 * client: the relay rule was never met */
		int about_sender =
		        k == SMTPROBE_RK_DOMAIN || k == SMTPROBE_RK_SENDER ||
		        k == SMTPROBE_RK_SYNTAX || k == SMTPROBE_RK_OTHER ||
		        k == SMTPROBE_RK_NONE;
		if (o != SMTPROBE_OUT_ACCEPTED &&
		    steps[i] == SMTPROBE_ST_MAIL && t->std_sender &&
		    about_sender) {
			/* the sender is not what this test is about: refused
			 * at MAIL, it never met the relay rule (the audit
			 * retries it with a sender the server accepts) */
			t->outcome = SMTPROBE_OUT_INCONCLUSIVE;
			t->kind = k;
			t->not_reached = 1;
			snprintf(
			        t->why, sizeof(t->why),
			        "did not reach RCPT: the sender was refused at "
			        "MAIL (%s)",
			        why);
			return;
		}
		if (o != SMTPROBE_OUT_ACCEPTED) {
			/* a domain that does not resolve or greylisting stop
			 * the transaction before any relay rule: no answer */
			/* a test about the sender (not the external one) has
			 * its answer when that sender is refused, even for an
			 * unresolvable domain; elsewhere such a refusal never
			 * met the relay rule */
			int moot = smtprobe_refusal_is_moot(k) &&
			           !(k == SMTPROBE_RK_DOMAIN &&
			             steps[i] == SMTPROBE_ST_MAIL &&
			             !t->std_sender);
			t->outcome = moot ? SMTPROBE_OUT_INCONCLUSIVE : o;
			t->kind = k;
			t->refused_at_data = steps[i] >= SMTPROBE_ST_DATA;
			snprintf(
			        t->why, sizeof(t->why), "%s at %s%s%s", why,
			        smtprobe_stage_name(steps[i]),
			        t->refused_at_data ? " (RCPT was accepted)"
			                           : "",
			        k == SMTPROBE_RK_DOMAIN && moot
			                ? "; says nothing about relaying: give "
			                  "--external-domain a domain that "
			                  "resolves"
			        : k == SMTPROBE_RK_GREYLIST
			                ? "; says nothing about relaying: "
			                  "exempt the auditing address from "
			                  "greylisting"
			                : "");
			return;
		}
		if (steps[i] == SMTPROBE_ST_DOT)
			t->delivered = 1;
	}
	t->outcome = SMTPROBE_OUT_ACCEPTED;
	snprintf(t->why, sizeof(t->why), "%s",
	         t->delivered ? "accepted for delivery (250 after the final "
	                        "dot)"
	                      : "accepted at RCPT (stopped before DATA: "
	                        "nothing was sent)");
}

int smtprobe_relay_as_expected(const struct smtprobe_relay_test *t)
{
	int accepted = t->outcome == SMTPROBE_OUT_ACCEPTED;
	int refused = t->outcome == SMTPROBE_OUT_REFUSED ||
	              t->outcome == SMTPROBE_OUT_TEMPFAIL;

	switch (t->expect) {
	case SMTPROBE_EXPECT_REFUSED:
	case SMTPROBE_EXPECT_SHOULD_REFUSE:
		return refused;
	case SMTPROBE_EXPECT_CONTROL:
	case SMTPROBE_EXPECT_ACCEPTED:
		return accepted;
	default:
		return 1;
	}
}

static void add_evidence(struct smtprobe_relay_scenario_verdict *v, size_t i)
{
	if (v->nevidence < sizeof(v->evidence) / sizeof(v->evidence[0]))
		v->evidence[v->nevidence++] = i;
}

static int refused(enum smtprobe_reply_outcome o)
{
	return o == SMTPROBE_OUT_REFUSED || o == SMTPROBE_OUT_TEMPFAIL;
}

/* A control refused as if the local domain were not the server's (relay
 * refused, unknown recipient, domain not found): the guess of L is wrong,
 * so refusals of the relay attempts prove nothing. */
static int wrong_local(const struct smtprobe_relay_test *t)
{
	return t->kind == SMTPROBE_RK_RELAY ||
	       t->kind == SMTPROBE_RK_RECIPIENT ||
	       t->kind == SMTPROBE_RK_DOMAIN;
}

static void judge_a(const struct smtprobe_relay_test *t, size_t n,
                    struct smtprobe_relay_scenario_verdict *v)
{
	size_t controls = 0, ctl_ok = 0, ctl_wrong = 0, ctl_inc = 0;
	size_t tries = 0, open = 0, open_rcpt_only = 0, local = 0, inc = 0;
	size_t at_data = 0, temp = 0, unreached = 0;
	size_t first_refused = n, first_inc = n, first_ctl_bad = n;
	size_t first_local = n, first_unreached = n;

	for (size_t i = 0; i < n; i++)
		if (t[i].scenario == SMTPROBE_RELAY_A &&
		    t[i].expect == SMTPROBE_EXPECT_PROBE &&
		    t[i].outcome == SMTPROBE_OUT_ACCEPTED)
			v->catch_all = 1;
	for (size_t i = 0; i < n; i++) {
		if (t[i].scenario != SMTPROBE_RELAY_A || !t[i].ran)
			continue;
		if (t[i].expect == SMTPROBE_EXPECT_CONTROL) {
			if (t[i].not_reached)
				continue; /* says nothing about the domain */
			controls++;
			if (t[i].outcome == SMTPROBE_OUT_ACCEPTED) {
				ctl_ok++;
				continue;
			}
			if (!refused(t[i].outcome))
				ctl_inc++;
			else if (wrong_local(&t[i]))
				ctl_wrong++;
			if (first_ctl_bad == n)
				first_ctl_bad = i;
			continue;
		}
		if (t[i].expect != SMTPROBE_EXPECT_REFUSED)
			continue;
		tries++;
		if (t[i].not_reached) {
			unreached++;
			if (first_unreached == n)
				first_unreached = i;
			continue;
		}
		if (t[i].outcome == SMTPROBE_OUT_ACCEPTED) {
			/* RELAY-TESTS.md: with a catch-all, routed forms at
			 * the server's own names are inconclusive */
			if (t[i].routed_local && v->catch_all) {
				local++;
				if (first_local == n)
					first_local = i;
				continue;
			}
			open++;
			if (!t[i].delivered)
				open_rcpt_only++;
			add_evidence(v, i);
		} else if (refused(t[i].outcome)) {
			if (t[i].refused_at_data)
				at_data++;
			if (t[i].outcome == SMTPROBE_OUT_TEMPFAIL)
				temp++;
			if (first_refused == n)
				first_refused = i;
		} else {
			inc++;
			if (first_inc == n)
				first_inc = i;
		}
	}
	v->attempts = tries;
	v->reached = tries - unreached;
	if (!tries) {
		v->verdict = SMTPROBE_V_SKIPPED;
		snprintf(v->why, sizeof(v->why),
		         "no unauthenticated tests ran");
		return;
	}
	if (!open && unreached == tries) {
		v->verdict = SMTPROBE_V_INCONCLUSIVE;
		v->confidence = "low";
		add_evidence(v, first_unreached);
		snprintf(v->why, sizeof(v->why),
		         "none of the %zu relay attempts reached RCPT: the "
		         "server refused the sender at MAIL (%.200s); give "
		         "--external-sender ADDR in a domain that resolves",
		         tries, t[first_unreached].why);
		return;
	}
	if (open) {
		v->verdict = SMTPROBE_V_OPEN;
		v->confidence = open_rcpt_only == open ? "medium" : "high";
		int k = snprintf(
		        v->why, sizeof(v->why),
		        "%zu of %zu unauthenticated relay attempts were "
		        "accepted%s",
		        open, tries,
		        open_rcpt_only == open
		                ? " at RCPT; a server may still refuse at DATA "
		                  "(rerun with --deliver to tell)"
		                : ", and the server took a message for "
		                  "delivery");
		if (unreached && k > 0 && (size_t)k < sizeof(v->why))
			k += snprintf(v->why + k, sizeof(v->why) - (size_t)k,
			              "; %zu did not reach RCPT (stopped at "
			              "MAIL by the server's sender checks)",
			              unreached);
		if (local && k > 0 && (size_t)k < sizeof(v->why))
			snprintf(v->why + k, sizeof(v->why) - (size_t)k,
			         "; %zu routed address%s at the server's own "
			         "names %s accepted too (not counted: the "
			         "server takes any local part)",
			         local, local == 1 ? "" : "es",
			         local == 1 ? "was" : "were");
		return;
	}
	v->verdict = SMTPROBE_V_INCONCLUSIVE;
	v->confidence = "low";
	if (inc || ctl_inc) {
		size_t i = first_inc < n ? first_inc : first_ctl_bad;
		add_evidence(v, i);
		snprintf(v->why, sizeof(v->why),
		         "%zu test%s could not be judged (%.60s: %.250s); no "
		         "attempt was accepted",
		         inc + ctl_inc, inc + ctl_inc == 1 ? "" : "s", t[i].id,
		         t[i].why);
		return;
	}
	if (ctl_wrong) {
		add_evidence(v, first_ctl_bad);
		snprintf(v->why, sizeof(v->why),
		         "a control was refused as if %.60s were not a domain "
		         "of this server (%.200s): the refusals prove nothing; "
		         "give --local-domain",
		         t[first_ctl_bad].rcpt_to, t[first_ctl_bad].why);
		return;
	}
	if (local) {
		add_evidence(v, first_local);
		snprintf(v->why, sizeof(v->why),
		         "%zu routed address%s at the server's own names %s "
		         "accepted, and the server takes any local part "
		         "(catch-all): at RCPT this cannot tell relaying from "
		         "local mail that bounces later (first: %.60s); no "
		         "other attempt was accepted",
		         local, local == 1 ? "" : "es",
		         local == 1 ? "was" : "were", t[first_local].id);
		return;
	}
	v->verdict = SMTPROBE_V_CLOSED;
	if (first_refused < n)
		add_evidence(v, first_refused);
	if (controls && ctl_ok == 0) {
		v->confidence = "medium";
		add_evidence(v, first_ctl_bad);
		snprintf(v->why, sizeof(v->why),
		         "all %zu relay attempts were refused, but so was mail "
		         "to postmaster (%.200s): this listener takes no mail "
		         "from unauthenticated clients at all, as a submission "
		         "port should",
		         v->reached, t[first_ctl_bad].why);
		return;
	}
	int ctl_refused = controls - ctl_ok;
	v->confidence = (ctl_refused || at_data) ? "medium" : "high";
	int k = snprintf(v->why, sizeof(v->why),
	                 "all %zu relay attempts were refused%s, with the "
	                 "controls passing",
	                 v->reached, temp ? " (some only temporarily)" : "");
	if (ctl_refused && k > 0 && (size_t)k < sizeof(v->why))
		k += snprintf(v->why + k, sizeof(v->why) - (size_t)k,
		              " but %d (%.60s)", ctl_refused,
		              t[first_ctl_bad].id);
	if (at_data && k > 0 && (size_t)k < sizeof(v->why))
		k += snprintf(v->why + k, sizeof(v->why) - (size_t)k,
		              "; %zu attempt%s accepted at RCPT and refused "
		              "only at DATA",
		              at_data, at_data == 1 ? " was" : "s were");
	if (unreached) {
		/* what did not reach the relay rule was not tested */
		v->confidence = v->reached * 4 >= tries * 3 ? "medium" : "low";
		if (k > 0 && (size_t)k < sizeof(v->why))
			snprintf(
			        v->why + k, sizeof(v->why) - (size_t)k,
			        "; %zu of %zu relay attempts reached RCPT (the "
			        "rest were stopped at MAIL by the server's "
			        "sender checks)",
			        v->reached, tries);
	}
}

static void judge_b(const struct smtprobe_relay_test *t, size_t n,
                    struct smtprobe_relay_scenario_verdict *v)
{
	size_t tries = 0, ok = 0, bad = 0, inc = 0, first_bad = n;

	for (size_t i = 0; i < n; i++) {
		if (t[i].scenario != SMTPROBE_RELAY_B || !t[i].ran)
			continue;
		tries++;
		if (t[i].outcome == SMTPROBE_OUT_ACCEPTED) {
			ok++;
			continue;
		}
		if (refused(t[i].outcome))
			bad++;
		else
			inc++;
		if (first_bad == n)
			first_bad = i;
		add_evidence(v, i);
	}
	if (!tries) {
		v->verdict = SMTPROBE_V_SKIPPED;
		snprintf(v->why, sizeof(v->why),
		         "no credentials, or the listener offers no AUTH");
		return;
	}
	if (bad) {
		v->verdict = SMTPROBE_V_VIOLATED;
		v->confidence = "high";
		snprintf(v->why, sizeof(v->why),
		         "%zu of %zu sends within the allowed scope were "
		         "refused "
		         "(%.60s: %.250s)",
		         bad, tries, t[first_bad].id, t[first_bad].why);
	} else if (inc) {
		v->verdict = SMTPROBE_V_INCONCLUSIVE;
		v->confidence = "low";
		snprintf(v->why, sizeof(v->why), "%.60s: %.250s",
		         t[first_bad].id, t[first_bad].why);
	} else {
		v->verdict = SMTPROBE_V_HOLDS;
		v->confidence = "high";
		for (size_t i = 0; i < n && v->nevidence < 2; i++)
			if (t[i].scenario == SMTPROBE_RELAY_B && t[i].ran)
				add_evidence(v, i);
		if (ok == 1)
			snprintf(v->why, sizeof(v->why),
			         "the one send within the allowed scope was "
			         "accepted");
		else
			snprintf(v->why, sizeof(v->why),
			         "all %zu sends within the allowed scope were "
			         "accepted",
			         ok);
	}
}

static void judge_c(const struct smtprobe_relay_test *t, size_t n,
                    struct smtprobe_relay_scenario_verdict *v)
{
	size_t tries = 0, bad = 0, inc = 0, first_bad = n, first_inc = n;

	for (size_t i = 0; i < n; i++) {
		if (t[i].scenario != SMTPROBE_RELAY_C || !t[i].ran)
			continue;
		if (t[i].expect == SMTPROBE_EXPECT_SHOULD_REFUSE) {
			if (t[i].outcome == SMTPROBE_OUT_ACCEPTED)
				v->warnings++;
			continue;
		}
		if (t[i].expect != SMTPROBE_EXPECT_REFUSED)
			continue;
		tries++;
		if (t[i].outcome == SMTPROBE_OUT_ACCEPTED) {
			bad++;
			if (first_bad == n)
				first_bad = i;
			add_evidence(v, i);
		} else if (!refused(t[i].outcome)) {
			inc++;
			if (first_inc == n)
				first_inc = i;
		}
	}
	if (!tries) {
		v->verdict = SMTPROBE_V_SKIPPED;
		snprintf(v->why, sizeof(v->why),
		         "no credentials, or the listener offers no AUTH");
		return;
	}
	if (bad) {
		v->verdict = SMTPROBE_V_VIOLATED;
		v->confidence = "high";
		snprintf(v->why, sizeof(v->why),
		         "%zu of %zu out-of-scope sends were accepted (%s)",
		         bad, tries, t[first_bad].title);
	} else if (inc) {
		v->verdict = SMTPROBE_V_INCONCLUSIVE;
		v->confidence = "low";
		add_evidence(v, first_inc);
		snprintf(v->why, sizeof(v->why), "%.60s: %.250s",
		         t[first_inc].id, t[first_inc].why);
	} else {
		v->verdict = SMTPROBE_V_HOLDS;
		v->confidence = v->warnings ? "medium" : "high";
		snprintf(v->why, sizeof(v->why),
		         "all %zu out-of-scope sends were refused%s", tries,
		         v->warnings ? " (see the warnings)" : "");
	}
}

/* ✔ as hoped, ✘ a hole, ! a warning, ? undecided, · a fact (a probe, a
 * control the listener refuses like all unauthenticated mail, a routed
 * address a catch-all takes as local mail). */
static enum smtprobe_relay_mark mark_of(const struct smtprobe_relay_test *t,
                                        int catch_all)
{
	if (t->outcome == SMTPROBE_OUT_SKIPPED)
		return SMTPROBE_MARK_SKIPPED;
	if (t->outcome == SMTPROBE_OUT_INCONCLUSIVE)
		return SMTPROBE_MARK_UNDECIDED;
	if (t->expect == SMTPROBE_EXPECT_PROBE ||
	    t->expect == SMTPROBE_EXPECT_INFO ||
	    t->expect == SMTPROBE_EXPECT_CONTROL)
		return smtprobe_relay_as_expected(t) ? SMTPROBE_MARK_PASS
		                                     : SMTPROBE_MARK_FACT;
	if (t->routed_local && catch_all && t->outcome == SMTPROBE_OUT_ACCEPTED)
		return SMTPROBE_MARK_UNDECIDED;
	if (smtprobe_relay_as_expected(t))
		return SMTPROBE_MARK_PASS;
	if (t->expect == SMTPROBE_EXPECT_SHOULD_REFUSE)
		return SMTPROBE_MARK_WARN;
	return SMTPROBE_MARK_HOLE;
}

void smtprobe_relay_judge_port(struct smtprobe_relay_test *tests, size_t n,
                               struct smtprobe_relay_scenario_verdict v[3])
{
	memset(v, 0, 3 * sizeof(v[0]));
	v[0].confidence = v[1].confidence = v[2].confidence = "";
	judge_a(tests, n, &v[SMTPROBE_RELAY_A]);
	judge_b(tests, n, &v[SMTPROBE_RELAY_B]);
	judge_c(tests, n, &v[SMTPROBE_RELAY_C]);
	for (size_t i = 0; i < n; i++)
		tests[i].mark =
		        mark_of(&tests[i], v[SMTPROBE_RELAY_A].catch_all);
}
