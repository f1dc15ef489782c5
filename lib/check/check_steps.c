/* check_steps.c - the later rungs of the diagnostic ladder: AUTH (with a
 * second opinion from another mechanism after a 535, to tell the
 * mechanism from the credentials), MAIL FROM and RCPT TO (refusals ranked
 * by what the ladder saw: a relay refusal while AUTH is offered and unused
 * is "missing authentication"), and the relay test, a second session
 * without credentials stopped before DATA. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check_int.h"
#include "smtprobe/ehlo.h"
#include "smtprobe/refusal.h"
#include "banned.h"

/* A 535 with one mechanism: try another the server offers. If that one
 * works, the credentials are right and the mechanism is to blame (a backend
 * that cannot do CRAM-MD5 or SCRAM with hashed passwords, say); if it fails
 * too, the credentials are. */
static void auth_second_opinion(const struct smtprobe_check_params *p,
                                struct smtprobe_check_result *r,
                                struct smtprobe_check_finding *f)
{
	const struct smtprobe_result *s = &r->session;
	unsigned used =
	        smtprobe_mech_from_name(s->auth_mech, strlen(s->auth_mech));
	unsigned other = smtprobe_mech_strongest(s->ehlo.mechs & ~used);
	struct smtprobe_params q = r->ladder;
	struct smtprobe_result alt;

	if (!other) {
		ck_first_cause(f,
		               "wrong user name or password for AUTH %s (the "
		               "only mechanism offered)",
		               s->auth_mech);
		return;
	}
	q.auth_mech = other;
	q.quit_after = SMTPROBE_ST_AUTH;
	if (ck_implicit(r))
		q.tls = SMTPROBE_TLSMODE_IMPLICIT;
	q.on_event = NULL;
	memset(&alt, 0, sizeof(alt));
	smtprobe_send(&q, &alt);
	if (alt.auth_ok)
		ck_first_cause(
		        f,
		        "the mechanism: AUTH %s fails but AUTH %s with the "
		        "same credentials works (a server-side problem "
		        "with %s, e.g. a password backend that cannot "
		        "serve it)",
		        s->auth_mech, smtprobe_mech_name(other), s->auth_mech);
	else
		ck_first_cause(
		        f,
		        "wrong user name or password: AUTH %s and AUTH %s "
		        "both fail",
		        s->auth_mech, smtprobe_mech_name(other));
	smtprobe_result_release(&alt);
}

void ck_check_auth(const struct smtprobe_check_params *p,
                   struct smtprobe_check_result *r)
{
	struct smtprobe_check_finding *f = &r->step[SMTPROBE_CK_AUTH];
	const struct smtprobe_result *s = &r->session;
	const struct smtprobe_ehlo *clear = &s->ehlo_first;

	/* The first EHLO is the one in clear, unless TLS came first. */
	if (s->have_ehlo_first && (clear->caps & SMTPROBE_CAP_AUTH) &&
	    !ck_implicit(r)) {
		/* credentials in clear: a failure of the TLS policy */
		f->status = SMTPROBE_CK_FAIL;
		r->auth_in_clear = SMTPROBE_CK_FAIL;
		ck_setf(f->detail, sizeof(f->detail),
		        "AUTH (%s) is offered before TLS: credentials would "
		        "travel "
		        "in clear",
		        clear->auth);
		ck_setf(f->summary, sizeof(f->summary),
		        "AUTH offered in clear text");
		f->causes[0] =
		        "the server offers AUTH on connections without TLS";
		f->causes[1] = NULL;
		ck_advise(f, SMTPROBE_ADV_AUTH_IN_CLEAR);
	}
	if (!p->session.auth)
		return;
	/* the AUTH exchange: every round trip of its stage */
	for (size_t i = 0; i < s->nex; i++)
		if (s->ex[i].stage == SMTPROBE_ST_AUTH)
			f->ms += s->ex[i].ms > 0  ? s->ex[i].ms
			         : s->ex[i].reply ? s->ex[i].reply->latency_ms
			                          : 0;
	if (!s->auth_tried) {
		if (f->status == SMTPROBE_CK_SKIP &&
		    s->stage > SMTPROBE_ST_EHLO2) {
			f->status = SMTPROBE_CK_FAIL;
			ck_setf(f->detail, sizeof(f->detail),
			        "AUTH was not tried");
		}
		return;
	}
	if (s->auth_ok) {
		if (f->status == SMTPROBE_CK_SKIP)
			f->status = SMTPROBE_CK_PASS;
		char d[300];
		ck_setf(d, sizeof(d), "AUTH %s accepted%s", s->auth_mech,
		        s->auth_server_verified ? " (server signature verified)"
		                                : "");
		if (f->status == SMTPROBE_CK_PASS)
			ck_setf(f->detail, sizeof(f->detail), "%s", d);
		return;
	}
	f->status = SMTPROBE_CK_FAIL;
	f->summary[0] = '\0';
	memset(f->causes, 0, sizeof(f->causes));
	memset(f->fixes, 0, sizeof(f->fixes));
	char rt[600];
	ck_reply_text(s->auth_reply, rt, sizeof(rt));
	ck_setf(f->detail, sizeof(f->detail), "AUTH%s%s: %s",
	        s->auth_mech[0] ? " " : "", s->auth_mech,
	        s->auth_reply ? rt : s->error);
	if (s->auth_reply) {
		ck_diagnose_reply(f, s->auth_reply);
	} else {
		ck_setf(f->summary, sizeof(f->summary), "%s", s->error);
		ck_diagnose(f, smtprobe_kb_failure(&s->failure));
	}
	if (s->auth_reply && s->auth_reply->code == 535)
		auth_second_opinion(p, r, f);
}

void ck_check_envelope(const struct smtprobe_check_params *p,
                       struct smtprobe_check_result *r)
{
	const struct smtprobe_result *s = &r->session;
	struct smtprobe_check_finding *m = &r->step[SMTPROBE_CK_MAIL];
	struct smtprobe_check_finding *rc = &r->step[SMTPROBE_CK_RCPT];
	struct smtprobe_check_finding *d = &r->step[SMTPROBE_CK_DATA];

	ck_judge_stage(m, s, SMTPROBE_ST_MAIL, "MAIL");
	if (m->status == SMTPROBE_CK_FAIL) {
		const struct smtprobe_exchange *x =
		        ck_last_exchange(s, SMTPROBE_ST_MAIL);
		if (x && x->reply && x->reply->code == 530 && !s->have_tls)
			ck_first_cause(m,
			               "the server requires TLS first and the "
			               "client sent MAIL in clear");
		else if (x && x->reply && x->reply->code == 530 && !s->auth_ok)
			ck_first_cause(m,
			               "the server requires authentication and "
			               "the client did not authenticate");
	}
	if (s->nrcpt) {
		size_t acc = 0;
		const struct smtprobe_rcpt_result *bad = NULL;
		for (size_t i = 0; i < s->nrcpt; i++) {
			if (s->rcpt[i].accepted)
				acc++;
			else if (s->rcpt[i].reply && !bad)
				bad = &s->rcpt[i];
		}
		if (acc || bad) {
			char rt[600];
			rc->status = bad ? SMTPROBE_CK_FAIL : SMTPROBE_CK_PASS;
			if (bad) {
				ck_reply_text(bad->reply, rt, sizeof(rt));
				ck_setf(rc->detail, sizeof(rc->detail),
				        "RCPT TO:<%s>: %s", bad->address, rt);
				if (bad->reply->code / 100 == 4)
					rc->status = SMTPROBE_CK_WARN;
				ck_diagnose_reply(rc, bad->reply);
				enum smtprobe_refusal_kind kind;
				(void)smtprobe_refusal_classify(bad->reply,
				                                &kind, NULL, 0);
				int relay = kind == SMTPROBE_RK_RELAY;
				r->rcpt_relay_denied = relay;
				int offered =
				        s->have_ehlo &&
				        (s->ehlo.caps & SMTPROBE_CAP_AUTH);
				if (relay && offered && !s->auth_ok)
					ck_first_cause(
					        rc,
					        "missing authentication: "
					        "the server offers AUTH "
					        "(%s) but "
					        "the client did not "
					        "authenticate",
					        s->ehlo.auth);
				else if (relay && !s->auth_ok)
					ck_first_cause(
					        rc,
					        "the client's address is not "
					        "trusted to relay and the "
					        "server "
					        "offers no AUTH on this "
					        "connection");
				else if (relay)
					ck_first_cause(
					        rc,
					        "the relay policy does not "
					        "allow this recipient even for "
					        "the authenticated user");
				if (!relay && bad->reply->code / 100 == 4)
					ck_first_cause(
					        rc,
					        "a temporary refusal (%d): the "
					        "server defers, try again "
					        "later "
					        "or fix the policy it names",
					        bad->reply->code);
			} else {
				ck_setf(rc->detail, sizeof(rc->detail),
				        "%zu recipient(s) accepted", acc);
			}
		} else if (s->stage >= SMTPROBE_ST_RCPT && s->error[0]) {
			ck_judge_stage(rc, s, SMTPROBE_ST_RCPT, "RCPT");
		}
	}
	if (p->send) {
		/* a refused DATA is the data step's failure; after a 354 the
		 * reply to the final dot decides */
		const struct smtprobe_exchange *x =
		        ck_last_exchange(s, SMTPROBE_ST_DATA);
		if (x && (!x->reply || x->reply->code != 354))
			ck_judge_stage(d, s, SMTPROBE_ST_DATA, "DATA");
		else
			ck_judge_stage(d, s, SMTPROBE_ST_DOT, "message");
	}
}

/* ---- the relay test ------------------------------------------------- */

/* Was the relay test's sender refused at MAIL for something about the
 * sender (its domain, its syntax, no reason given), so that RCPT never met
 * the relay rule? A refusal for want of AUTH or TLS is the relay answer. */
static int mail_refused(const struct smtprobe_result *s)
{
	const struct smtprobe_exchange *m =
	        ck_last_exchange(s, SMTPROBE_ST_MAIL);
	enum smtprobe_refusal_kind k;

	if (!m || !m->reply || m->reply->code < 400 ||
	    ck_last_exchange(s, SMTPROBE_ST_RCPT))
		return 0;
	(void)smtprobe_refusal_classify(m->reply, &k, NULL, 0);
	return k == SMTPROBE_RK_DOMAIN || k == SMTPROBE_RK_SENDER ||
	       k == SMTPROBE_RK_SYNTAX || k == SMTPROBE_RK_OTHER ||
	       k == SMTPROBE_RK_NONE;
}

/* A sender at the server's own domain, guessed from its banner or EHLO
 * name, for a relay test whose first sender was refused at MAIL. */
static int local_sender(const struct smtprobe_result *s, char *out,
                        size_t outsz)
{
	char dom[256] = "";
	const struct smtprobe_exchange *b =
	        ck_last_exchange(s, SMTPROBE_ST_BANNER);

	if (b && b->reply && b->reply->nlines) {
		char host[256];
		snprintf(host, sizeof(host), "%.*s",
		         (int)strcspn(b->reply->text[0], " \t"),
		         b->reply->text[0]);
		smtprobe_guess_domain(host, dom, sizeof(dom));
	}
	if (!dom[0] && s->have_ehlo_first)
		smtprobe_guess_domain(s->ehlo_first.host, dom, sizeof(dom));
	if (!dom[0])
		return -1;
	snprintf(out, outsz, "<relay-test@%.240s>", dom);
	return 0;
}

void ck_check_relay(const struct smtprobe_check_params *p,
                    struct smtprobe_check_result *r)
{
	struct smtprobe_check_finding *f = &r->step[SMTPROBE_CK_RELAY];
	struct smtprobe_params q = r->ladder;
	const char *to[1] = {p->relay_to ? p->relay_to : CK_RELAY_TO};
	char retry[300];

	if (p->no_relay_test ||
	    r->step[SMTPROBE_CK_EHLO].status == SMTPROBE_CK_FAIL ||
	    r->step[SMTPROBE_CK_EHLO].status == SMTPROBE_CK_SKIP)
		return;
	q.auth = 0;
	/* the sender the user gave (-f) when there is one */
	q.mail_from = p->relay_from          ? p->relay_from
	              : p->session.mail_from ? p->session.mail_from
	                                     : CK_RELAY_FROM;
	q.rcpt = to;
	q.nrcpt = 1;
	q.quit_after = SMTPROBE_ST_RCPT;
	q.on_event = NULL;
	q.tls_verify = 0;
	/* the mode the ladder found (TLSMODE_AUTO) or was given; a STARTTLS
	 * that the server breaks: the relay test goes on in clear */
	int tls_broken = r->step[SMTPROBE_CK_TLS].status == SMTPROBE_CK_FAIL &&
	                 !r->session.have_tls && !ck_implicit(r);
	if (ck_implicit(r))
		q.tls = SMTPROBE_TLSMODE_IMPLICIT;
	else if (tls_broken)
		q.tls = SMTPROBE_TLSMODE_OFF;
	else if (q.tls == SMTPROBE_TLSMODE_REQUIRED ||
	         q.tls == SMTPROBE_TLSMODE_AUTO)
		q.tls = SMTPROBE_TLSMODE_OPTIONAL;
	smtprobe_send(&q, &r->relay);
	r->relay_ran = 1;
	double relay_ms = r->relay.total_ms;
	ck_setf(r->relay_sender, sizeof(r->relay_sender), "%s", q.mail_from);
	/* refused at MAIL (sender checks): the relay rule was not reached;
	 * once more with a sender at the server's own domain */
	if (mail_refused(&r->relay) &&
	    local_sender(&r->session, retry, sizeof(retry)) == 0 &&
	    strcmp(retry, q.mail_from) != 0) {
		const struct smtprobe_exchange *m =
		        ck_last_exchange(&r->relay, SMTPROBE_ST_MAIL);
		char rt[300];
		ck_reply_text(m->reply, rt, sizeof(rt));
		ck_setf(r->relay_first_try, sizeof(r->relay_first_try),
		        "MAIL FROM:%s got %s", q.mail_from, rt);
		smtprobe_result_release(&r->relay);
		q.mail_from = retry;
		smtprobe_send(&q, &r->relay);
		relay_ms += r->relay.total_ms;
		ck_setf(r->relay_sender, sizeof(r->relay_sender), "%s", retry);
	}
	f->ms = relay_ms; /* the relay test's own session(s) */
	const struct smtprobe_result *s = &r->relay;
	char rt[600];
	char note[600] = "";
	if (r->relay_first_try[0])
		ck_setf(note, sizeof(note),
		        " (a sender at the server's own domain: %s, so the "
		        "relay rule was not reached)",
		        r->relay_first_try);
	else if (tls_broken)
		ck_setf(note, sizeof(note), " (in clear: STARTTLS fails)");
	if (s->nrcpt && s->rcpt[0].accepted) {
		f->status = SMTPROBE_CK_FAIL;
		ck_reply_text(s->rcpt[0].reply, rt, sizeof(rt));
		ck_setf(f->detail, sizeof(f->detail),
		        "OPEN RELAY: without authentication, MAIL FROM:%s RCPT "
		        "TO:%s was accepted (%s)%s",
		        r->relay_sender, to[0], rt, note);
		f->reference = "RFC 2505; RFC 5321 3.6";
		if (r->relay_first_try[0]) {
			/* only the retry with a sender at the server's own
			 * domain got through: a rule that trusts the sender,
			 * which anyone forges (the stranger's sender never
			 * reached the relay rule) */
			ck_setf(f->summary, sizeof(f->summary),
			        "open relay for any client that gives a sender "
			        "at the server's own domain, which anyone can "
			        "forge (`smtprobe relay` runs the whole "
			        "audit)");
			f->causes[0] = "a relay rule that trusts the envelope "
			               "sender's domain instead of AUTH or the "
			               "client's network";
			f->causes[1] = "the networks trusted to relay cover "
			               "everyone (the stranger's sender was "
			               "refused before the relay rule, so this "
			               "cannot be told apart)";
			f->causes[2] = NULL;
			ck_advise(f, SMTPROBE_ADV_SENDER_DOMAIN);
			ck_advise(f, SMTPROBE_ADV_OPEN_RELAY);
			f->reference = "RFC 2505 2.13; RFC 5321 3.6";
			return;
		}
		ck_setf(f->summary, sizeof(f->summary),
		        "open relay: the server accepts mail from anyone to "
		        "anyone (`smtprobe relay` runs the whole audit)");
		f->causes[0] = "the networks trusted to relay cover everyone "
		               "(e.g. 0.0.0.0/0, or every host)";
		f->causes[1] =
		        "a permissive relay rule: one that accepts before "
		        "the check of the recipient's domain, or trusts "
		        "the sender, the HELO name or the null sender";
		f->causes[2] =
		        "an anonymous relay connector or access entry for "
		        "all addresses";
		f->causes[3] = NULL;
		ck_advise(f, SMTPROBE_ADV_OPEN_RELAY);
		return;
	}
	if (mail_refused(s)) {
		const struct smtprobe_exchange *m =
		        ck_last_exchange(s, SMTPROBE_ST_MAIL);
		ck_reply_text(m->reply, rt, sizeof(rt));
		f->status = SMTPROBE_CK_WARN;
		ck_setf(f->detail, sizeof(f->detail),
		        "relay test inconclusive: the sender %s was refused at "
		        "MAIL (%s), so the relay rule was never reached; give "
		        "-f with an address the server accepts, or run "
		        "`smtprobe relay`",
		        r->relay_sender, rt);
		return;
	}
	const struct smtprobe_exchange *x =
	        ck_last_exchange(s, SMTPROBE_ST_RCPT);
	if (!x)
		x = ck_last_exchange(s, SMTPROBE_ST_MAIL); /* AUTH/TLS first */
	if (x && x->reply && x->reply->code >= 400) {
		/* judged as `smtprobe relay` judges it: a 421, greylisting or
		 * an unresolvable domain is no answer to the relay question */
		char why[160];
		enum smtprobe_refusal_kind kind;
		enum smtprobe_reply_outcome o = smtprobe_refusal_classify(
		        x->reply, &kind, why, sizeof(why));
		int moot = smtprobe_refusal_is_moot(kind);
		ck_reply_text(x->reply, rt, sizeof(rt));
		if (o == SMTPROBE_OUT_INCONCLUSIVE || moot) {
			f->status = SMTPROBE_CK_WARN;
			ck_setf(f->detail, sizeof(f->detail),
			        "relay test inconclusive: %s (%s)%s; `smtprobe "
			        "relay` runs the whole audit",
			        rt, why, note);
			return;
		}
		f->status = SMTPROBE_CK_PASS;
		ck_setf(f->detail, sizeof(f->detail),
		        "relaying without authentication is refused: %s%s", rt,
		        note);
		return;
	}
	ck_setf(f->detail, sizeof(f->detail), "relay test inconclusive: %s",
	        s->error[0] ? s->error : "no answer");
	f->status = SMTPROBE_CK_WARN;
}
