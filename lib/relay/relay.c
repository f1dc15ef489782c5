/* relay.c - running the relay audit: find the listeners (port discovery,
 * lib/smtp/discover.c), expand the catalogue for each, run every test in
 * its own session as one batch (lib/smtp/batch.c: at most `concurrency`
 * connections at once, an optional pause between connections, the audit's
 * deadline), then judge each test, each listener and the whole. Nothing
 * goes past RCPT unless the caller asked to deliver; controls never do. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "smtprobe/batch.h"
#include "smtprobe/discover.h"
#include "smtprobe/message.h"
#include "smtprobe/relay.h"
#include "banned.h"

#define MAX_TESTS_PER_PORT  128
#define DEFAULT_CONCURRENCY 4

/* AUTH exchanges that must fail; the credentials are not anyone's. */
static const char *const auth_failed_plain[] = {
        "AUTH PLAIN AHNtdHByb2JlLXJlbGF5LXRlc3QAbm90LXRoZS1wYXNzd29yZA=="};
static const char *const auth_failed_login[] = {
        "AUTH LOGIN",
        "c210cHJvYmUtcmVsYXktdGVzdA==", "bm90LXRoZS1wYXNzd29yZA=="};
static const char *const auth_garbage_plain[] = {"AUTH PLAIN %%%not-base64%%%"};
static const char *const auth_garbage_login[] = {"AUTH LOGIN",
                                                 "%%%not-base64%%%"};
static const char *const auth_aborted_plain[] = {"AUTH PLAIN", "*"};
static const char *const auth_aborted_login[] = {"AUTH LOGIN", "*"};

/* One test's session: its parameters and what they point to. */
struct slot {
	struct smtprobe_params params;
	const char *rcpt[1];
	char *message;
	struct smtprobe_relay_test *test;
	size_t job; /* its index among the batch's jobs */
};

/* The marked test message for --deliver. */
static char *test_message(const struct smtprobe_relay_test *t, const char *host,
                          size_t *len)
{
	char subject[400], mark[1000], body[1500];
	const char *to[1] = {t->rcpt_to};
	const char *headers[2] = {subject, mark};
	char *out = NULL, err[128];

	snprintf(subject, sizeof(subject),
	         "Subject: smtprobe relay test %s - a relay audit, not spam",
	         t->id);
	snprintf(mark, sizeof(mark),
	         "X-Smtprobe-Relay-Test: %s; sent by smtprobe relay as %.250s "
	         "to "
	         "%.100s port %u",
	         t->id, t->helo, host, t->port);
	snprintf(body, sizeof(body),
	         "This message is a relay test sent by smtprobe relay (test "
	         "%s) to the server %.100s, port %u, from a client that "
	         "greeted as %s.\r\n\r\nIf it reached you, that server relayed "
	         "it; the server's administrator asked for this audit.\r\n",
	         t->id, host, t->port, t->helo);
	struct smtprobe_msg_params mp = {
	        .from = t->mail_from,
	        .to = to,
	        .nto = 1,
	        .headers = headers,
	        .nheaders = 2,
	        .body = body,
	        .helo = t->helo,
	        .mailer = "smtprobe relay",
	        .now = time(NULL),
	        .nonce = (unsigned long)uv_hrtime(),
	};
	if (smtprobe_message_build(&mp, &out, len, err, sizeof(err)) < 0)
		return NULL;
	return out;
}

static void slot_params(struct slot *sl, const struct smtprobe_relay_params *p,
                        const struct smtprobe_relay_listener *l,
                        const char *host)
{
	struct smtprobe_relay_test *t = sl->test;
	struct smtprobe_params *q = &sl->params;
	int plain = strstr(l->auth, "PLAIN") != NULL;

	*q = p->session;
	q->port = t->port;
	q->helo = t->helo;
	q->mail_from = t->mail_from;
	sl->rcpt[0] = t->rcpt_to;
	q->rcpt = sl->rcpt;
	q->nrcpt = 1;
	q->on_event = NULL;
	q->pipeline = 0;
	q->mail_params = NULL;
	q->rcpt_params = NULL;
	if (l->tls == SMTPROBE_TLSMODE_IMPLICIT)
		q->tls = SMTPROBE_TLSMODE_IMPLICIT;
	else if (t->clear || l->tls == SMTPROBE_TLSMODE_OFF || l->tls_broken)
		q->tls = SMTPROBE_TLSMODE_OFF; /* broken STARTTLS: in clear */
	else
		q->tls = SMTPROBE_TLSMODE_OPTIONAL;
	q->auth = t->auth == SMTPROBE_RAUTH_USER;
	q->probe_cmds = NULL;
	q->nprobe_cmds = 0;
#define PROBE(a, b)                                                            \
	do {                                                                   \
		q->probe_cmds = plain ? a : b;                                 \
		q->nprobe_cmds = plain ? sizeof(a) / sizeof(a[0])              \
		                       : sizeof(b) / sizeof(b[0]);             \
	} while (0)
	switch (t->auth) {
	case SMTPROBE_RAUTH_FAILED:
		PROBE(auth_failed_plain, auth_failed_login);
		break;
	case SMTPROBE_RAUTH_GARBAGE:
		PROBE(auth_garbage_plain, auth_garbage_login);
		break;
	case SMTPROBE_RAUTH_ABORTED:
		PROBE(auth_aborted_plain, auth_aborted_login);
		break;
	default:
		break;
	}
#undef PROBE
	int deliver = p->deliver && t->expect != SMTPROBE_EXPECT_CONTROL &&
	              t->expect != SMTPROBE_EXPECT_PROBE;
	q->quit_after = deliver ? SMTPROBE_ST_LAST : SMTPROBE_ST_RCPT;
	q->message = NULL;
	q->message_len = 0;
	if (deliver) {
		size_t len = 0;
		sl->message = test_message(t, host, &len);
		q->message = sl->message;
		q->message_len = len;
		if (!sl->message)
			q->quit_after = SMTPROBE_ST_RCPT;
	}
}

static int wants(const struct smtprobe_relay_params *p, char scenario)
{
	return !p->only || strchr(p->only, scenario) != NULL;
}

/* Fill the names of one listener; buffers live in nb. */
struct name_bufs {
	char ip[80];
};

static void listener_names(const struct smtprobe_relay_params *p,
                           const struct smtprobe_relay_report *rep,
                           const struct smtprobe_port_probe *pp,
                           struct name_bufs *nb, struct smtprobe_relay_names *n)
{
	memset(n, 0, sizeof(*n));
	snprintf(nb->ip, sizeof(nb->ip), "%s%s",
	         strchr(pp->address, ':') ? "IPv6:" : "", pp->address);
	n->local = rep->local_domain;
	n->external = rep->external_domain;
	n->host = pp->host[0] ? pp->host : NULL;
	n->ip = nb->ip[0] ? nb->ip : NULL;
	n->helo = p->session.helo && p->session.helo[0]
	                  ? p->session.helo
	                  : SMTPROBE_RELAY_DEFAULT_HELO;
	n->own = rep->own[0] ? rep->own : NULL;
	n->other = rep->other;
	n->allowed = p->allowed;
	n->nallowed = p->nallowed;
	n->denied = p->denied;
	n->ndenied = p->ndenied;
	/* the AUTH edge cases speak PLAIN or LOGIN */
	n->auth_offered =
	        strstr(pp->auth, "PLAIN") || strstr(pp->auth, "LOGIN");
	n->tls_offered = pp->tls != SMTPROBE_TLSMODE_OFF;
	n->implicit_tls = pp->tls == SMTPROBE_TLSMODE_IMPLICIT;
	n->have_user = p->session.auth_user && p->session.auth_password &&
	               pp->auth[0] != '\0';
	n->random = (int)(uv_hrtime() % 900000u) + 100000;
}

/* Keep the tests of the scenarios asked for. */
static size_t filter(const struct smtprobe_relay_params *p,
                     struct smtprobe_relay_test *t, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (!wants(p, (char)('A' + (int)t[i].scenario)))
			continue;
		if (k != i)
			t[k] = t[i];
		k++;
	}
	return k;
}

static void names_of_report(const struct smtprobe_relay_params *p,
                            const struct smtprobe_port_scan *scan,
                            struct smtprobe_relay_report *rep)
{
	const char *user = p->session.auth_user;

	if (p->local_domain && p->local_domain[0]) {
		snprintf(rep->local_domain, sizeof(rep->local_domain), "%s",
		         p->local_domain);
		snprintf(rep->local_domain_source,
		         sizeof(rep->local_domain_source), "given");
	} else {
		/* the banner's host name first, then the EHLO greeting's */
		for (int src = 0; src < 2 && !rep->local_domain[0]; src++)
			for (size_t i = 0; i < scan->nports; i++) {
				const struct smtprobe_port_probe *pp =
				        &scan->port[i];
				const char *h = src ? pp->ehlo_host : pp->host;
				if (!pp->open)
					continue;
				smtprobe_guess_domain(
				        h, rep->local_domain,
				        sizeof(rep->local_domain));
				if (!rep->local_domain[0])
					continue;
				snprintf(rep->local_domain_source,
				         sizeof(rep->local_domain_source),
				         "guessed from the %s host name %.80s",
				         src ? "EHLO" : "banner", h);
				break;
			}
	}
	snprintf(rep->external_domain, sizeof(rep->external_domain), "%s",
	         p->external_domain && p->external_domain[0]
	                 ? p->external_domain
	                 : SMTPROBE_RELAY_DEFAULT_EXTERNAL);
	if (p->own && p->own[0])
		snprintf(rep->own, sizeof(rep->own), "%s", p->own);
	else if (user && strchr(user, '@'))
		snprintf(rep->own, sizeof(rep->own), "%s", user);
	else if (user && user[0] && rep->local_domain[0])
		snprintf(rep->own, sizeof(rep->own), "%.64s@%.254s", user,
		         rep->local_domain);
	if (p->other_sender && p->other_sender[0])
		snprintf(rep->other, sizeof(rep->other), "%s", p->other_sender);
	else if (rep->local_domain[0])
		snprintf(rep->other, sizeof(rep->other), "postmaster@%.250s",
		         rep->local_domain);
}

/* Worst first: what one listener says decides the whole. */
static int rank(enum smtprobe_relay_verdict v)
{
	switch (v) {
	case SMTPROBE_V_OPEN:
	case SMTPROBE_V_VIOLATED:
		return 4;
	case SMTPROBE_V_INCONCLUSIVE:
		return 3;
	case SMTPROBE_V_CLOSED:
	case SMTPROBE_V_HOLDS:
		return 2;
	case SMTPROBE_V_SKIPPED:
		return 1;
	}
	return 0;
}

static void overall(const struct smtprobe_relay_params *p,
                    struct smtprobe_relay_report *rep)
{
	for (int sc = 0; sc < 3; sc++) {
		struct smtprobe_relay_scenario_verdict *o = &rep->overall[sc];
		size_t who = rep->nlisteners;
		o->verdict = SMTPROBE_V_SKIPPED;
		o->confidence = "";
		for (size_t i = 0; i < rep->nlisteners; i++) {
			const struct smtprobe_relay_scenario_verdict *v =
			        &rep->listener[i].v[sc];
			if (!rep->listener[i].open)
				continue;
			if (rank(v->verdict) > rank(o->verdict)) {
				o->verdict = v->verdict;
				o->confidence = v->confidence;
				who = i;
			}
			o->warnings += v->warnings;
		}
		if (who < rep->nlisteners) {
			const struct smtprobe_relay_listener *l =
			        &rep->listener[who];
			snprintf(o->why, sizeof(o->why), "port %u: %.490s",
			         l->port, l->v[sc].why);
			/* evidence as indexes into the whole tests array */
			for (size_t e = 0; e < l->v[sc].nevidence; e++)
				o->evidence[o->nevidence++] =
				        l->first + l->v[sc].evidence[e];
			o->catch_all = l->v[sc].catch_all;
		}
	}
	int user = p->session.auth_user && p->session.auth_password;
	for (int sc = 1; sc < 3; sc++) {
		struct smtprobe_relay_scenario_verdict *o = &rep->overall[sc];
		if (user && o->verdict == SMTPROBE_V_SKIPPED &&
		    wants(p, (char)('A' + sc))) {
			o->verdict = SMTPROBE_V_INCONCLUSIVE;
			o->confidence = "low";
			snprintf(o->why, sizeof(o->why),
			         "credentials were given, but no listener "
			         "offers AUTH");
		}
	}
	for (int sc = 0; rep->truncated && sc < 3; sc++) {
		struct smtprobe_relay_scenario_verdict *o = &rep->overall[sc];
		if (o->verdict != SMTPROBE_V_CLOSED &&
		    o->verdict != SMTPROBE_V_HOLDS)
			continue;
		o->verdict = SMTPROBE_V_INCONCLUSIVE;
		o->confidence = "low";
		snprintf(o->why, sizeof(o->why),
		         "the audit reached --max-time before every test "
		         "ran: what ran holds, the rest is unknown");
	}
	int violated = 0, undecided = 0;
	for (int sc = 0; sc < 3; sc++) {
		enum smtprobe_relay_verdict v = rep->overall[sc].verdict;
		violated |= v == SMTPROBE_V_OPEN || v == SMTPROBE_V_VIOLATED;
		undecided |= v == SMTPROBE_V_INCONCLUSIVE;
		/* --strict: an accepted "should refuse" is a violation */
		violated |= p->strict && rep->overall[sc].warnings > 0;
	}
	if (rep->overall[0].verdict == SMTPROBE_V_SKIPPED &&
	    rep->overall[1].verdict == SMTPROBE_V_SKIPPED &&
	    rep->overall[2].verdict == SMTPROBE_V_SKIPPED)
		undecided = 1;
	rep->exit_code = violated ? 1 : undecided ? 2 : 0;
}

/* The listener a test belongs to. */
static const struct smtprobe_relay_listener *
listener_of(const struct smtprobe_relay_report *rep, size_t i)
{
	for (size_t li = 0; li < rep->nlisteners; li++) {
		const struct smtprobe_relay_listener *l = &rep->listener[li];
		if (i >= l->first && i < l->first + l->ntests)
			return l;
	}
	return &rep->listener[0];
}

/* Run the tests (all, or only the retried ones) as one batch and judge
 * them; -1 when out of memory (rep->error says so). */
static int run_tests(const struct smtprobe_relay_params *p,
                     struct smtprobe_relay_report *rep, int retries,
                     uint64_t t0)
{
	size_t n = rep->ntests, k = 0;
	struct slot *slots = calloc(n + 1, sizeof(*slots));
	struct smtprobe_batch_job *jobs = calloc(n + 1, sizeof(*jobs));

	if (!slots || !jobs) {
		free(slots);
		free(jobs);
		snprintf(rep->error, sizeof(rep->error), "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		slots[i].test = &rep->tests[i];
		slots[i].job = n; /* not run this time */
		if (!retries || rep->tests[i].retried)
			slot_params(&slots[i], p, listener_of(rep, i),
			            rep->host);
	}
	/* A failed AUTH makes some servers slow down every later AUTH from
	 * the same address (Dovecot's auth penalty): those tests go last.
	 * Jobs start in their order. */
	for (int late = 0; late < 2; late++)
		for (size_t i = 0; i < n; i++) {
			enum smtprobe_relay_auth a = rep->tests[i].auth;
			int bad = a != SMTPROBE_RAUTH_NONE &&
			          a != SMTPROBE_RAUTH_USER;
			if (bad != late || (retries && !rep->tests[i].retried))
				continue;
			jobs[k].params = &slots[i].params;
			jobs[k].res = &rep->tests[i].res;
			jobs[k].fd = -1;
			slots[i].job = k++;
		}
	struct smtprobe_batch_params bp = {
	        .concurrency =
	                p->concurrency ? p->concurrency : DEFAULT_CONCURRENCY,
	        .pause_ms = p->pause_ms,
	};
	if (p->max_ms) {
		/* what discovery and earlier runs used counts too */
		uint64_t spent = (uv_hrtime() - t0) / 1000000u;
		bp.deadline_ms =
		        spent < p->max_ms ? (unsigned)(p->max_ms - spent) : 1;
	}
	struct smtprobe_batch_stats stats;
	smtprobe_batch_run(jobs, k, &bp, &stats);
	rep->truncated |= stats.truncated;
	for (size_t i = 0; i < n; i++) {
		free(slots[i].message);
		if (slots[i].job >= n)
			continue;
		rep->tests[i].ran = jobs[slots[i].job].started;
		smtprobe_relay_judge_test(&rep->tests[i]);
	}
	free(slots);
	free(jobs);
	return 0;
}

/* Whether the port of test i relays for the local-domain sender itself
 * (its A.mail.local was accepted). */
static int local_sender_relayed(const struct smtprobe_relay_report *rep,
                                size_t i)
{
	for (size_t j = 0; j < rep->ntests; j++) {
		const struct smtprobe_relay_test *t = &rep->tests[j];
		if (t->port == rep->tests[i].port &&
		    strcmp(t->id, "A.mail.local") == 0)
			return t->outcome == SMTPROBE_OUT_ACCEPTED;
	}
	return 0;
}

/* Relay attempts whose external sender the server refused at MAIL (it
 * verifies sender domains) never met the relay rule: run them again with
 * a sender it accepts - the one given (--external-sender), else one at
 * the local domain, unless the server relays for that sender anyway -
 * and say which. */
static void retry_unreached(const struct smtprobe_relay_params *p,
                            struct smtprobe_relay_report *rep, uint64_t t0)
{
	int given = p->external_sender && p->external_sender[0];

	if (rep->truncated)
		return;
	if (given) {
		snprintf(rep->retry_sender, sizeof(rep->retry_sender), "%s",
		         p->external_sender);
		snprintf(rep->retry_source, sizeof(rep->retry_source),
		         "given (--external-sender)");
	} else {
		snprintf(rep->retry_sender, sizeof(rep->retry_sender),
		         "%s@%.250s", SMTPROBE_RELAY_LOCALPART,
		         rep->local_domain);
		snprintf(rep->retry_source, sizeof(rep->retry_source),
		         "an address at the local domain");
	}
	for (size_t i = 0; i < rep->ntests; i++) {
		struct smtprobe_relay_test *t = &rep->tests[i];
		if (!t->not_reached)
			continue;
		if (!given && local_sender_relayed(rep, i)) {
			rep->retry_withheld++;
			continue;
		}
		snprintf(t->first_try, sizeof(t->first_try),
		         "MAIL FROM:%.200s: %.90s", t->mail_from, t->why);
		snprintf(t->mail_from, sizeof(t->mail_from), "<%s>",
		         rep->retry_sender);
		smtprobe_result_release(&t->res);
		t->retried = 1;
		rep->retried++;
	}
	if (rep->retried)
		(void)run_tests(p, rep, 1, t0);
}

int smtprobe_relay_run(const struct smtprobe_relay_params *p,
                       struct smtprobe_relay_report *rep)
{
	struct smtprobe_port_scan scan;
	uint64_t t0 = uv_hrtime();

	memset(rep, 0, sizeof(*rep));
	smtprobe_software_init(&rep->software);
	rep->deliver = p->deliver;
	rep->exit_code = 2;
	snprintf(rep->host, sizeof(rep->host), "%s",
	         p->session.host ? p->session.host : "");
	if (smtprobe_discover(&p->session, p->nports ? p->ports : NULL,
	                      p->nports, &scan) < 0) {
		snprintf(rep->error, sizeof(rep->error),
		         "could not start the event loop");
		return rep->exit_code;
	}
	names_of_report(p, &scan, rep);
	rep->tests = calloc(scan.nports * MAX_TESTS_PER_PORT + 1,
	                    sizeof(*rep->tests));
	if (!rep->tests) {
		snprintf(rep->error, sizeof(rep->error), "out of memory");
		return rep->exit_code;
	}
	size_t open = 0;
	for (size_t i = 0; i < scan.nports && i < SMTPROBE_RELAY_MAX_PORTS;
	     i++) {
		const struct smtprobe_port_probe *pp = &scan.port[i];
		struct smtprobe_relay_listener *l =
		        &rep->listener[rep->nlisteners++];
		l->port = pp->port;
		l->tls = pp->tls;
		l->open = pp->open;
		snprintf(l->error, sizeof(l->error), "%s", pp->error);
		snprintf(l->host, sizeof(l->host), "%s", pp->host);
		snprintf(l->auth, sizeof(l->auth), "%s", pp->auth);
		l->tls_broken = pp->tls_broken;
		snprintf(l->tls_problem, sizeof(l->tls_problem), "%s",
		         pp->tls_problem);
		l->first = rep->ntests;
		smtprobe_software_init(&l->software);
		if (!pp->open)
			continue;
		open++;
		if (!rep->local_domain[0])
			continue;
		struct name_bufs nb = {{0}};
		struct smtprobe_relay_names n;
		listener_names(p, rep, pp, &nb, &n);
		size_t k = smtprobe_relay_build(&n, pp->port,
		                                rep->tests + rep->ntests,
		                                MAX_TESTS_PER_PORT);
		k = filter(p, rep->tests + rep->ntests, k);
		l->ntests = k;
		rep->ntests += k;
	}
	if (!open) {
		char tried[64] = "";
		size_t k = 0;
		for (size_t i = 0; i < rep->nlisteners && k + 8 < sizeof(tried);
		     i++)
			k += (size_t)snprintf(tried + k, sizeof(tried) - k,
			                      "%s%u", i ? ", " : "",
			                      rep->listener[i].port);
		snprintf(rep->error, sizeof(rep->error),
		         "no SMTP service answers on %.80s (port%s %s; first: "
		         "%.100s)",
		         rep->host, rep->nlisteners == 1 ? "" : "s", tried,
		         rep->nlisteners ? rep->listener[0].error : "none");
		rep->ms = (double)(uv_hrtime() - t0) / 1e6;
		return rep->exit_code;
	}
	if (!rep->local_domain[0]) {
		snprintf(
		        rep->error, sizeof(rep->error),
		        "neither the banner nor the EHLO reply names a host to "
		        "guess the local domain from: give --local-domain");
		rep->ms = (double)(uv_hrtime() - t0) / 1e6;
		return rep->exit_code;
	}

	if (run_tests(p, rep, 0, t0) < 0)
		return rep->exit_code;
	retry_unreached(p, rep, t0);

	for (size_t li = 0; li < rep->nlisteners; li++) {
		struct smtprobe_relay_listener *l = &rep->listener[li];
		if (!l->open)
			continue;
		/* what answered, from every test's banner and replies; each
		 * test's fix is written for it */
		for (size_t i = 0; i < l->ntests; i++) {
			struct smtprobe_relay_test *t =
			        &rep->tests[l->first + i];
			smtprobe_software_learn(&l->software, &t->res);
			smtprobe_software_learn(&rep->software, &t->res);
		}
		for (size_t i = 0; i < l->ntests; i++) {
			struct smtprobe_relay_test *t =
			        &rep->tests[l->first + i];
			if (t->topic != SMTPROBE_ADV_LAST)
				smtprobe_advice_text(t->topic, l->software.id,
				                     t->fix, sizeof(t->fix));
		}
		smtprobe_relay_judge_port(rep->tests + l->first, l->ntests,
		                          l->v);
		for (int sc = 1; sc < 3; sc++)
			if (l->v[sc].verdict == SMTPROBE_V_SKIPPED)
				snprintf(
				        l->v[sc].why, sizeof(l->v[sc].why),
				        "%s",
				        !wants(p, (char)('A' + sc))
				                ? "not asked for (--scenario)"
				        : !(p->session.auth_user &&
				            p->session.auth_password)
				                ? "no credentials (--auth-user)"
				                : "this listener offers no "
				                  "AUTH");
	}
	overall(p, rep);
	rep->ms = (double)(uv_hrtime() - t0) / 1e6;
	return rep->exit_code;
}

void smtprobe_relay_report_free(struct smtprobe_relay_report *rep)
{
	if (!rep->tests)
		return;
	for (size_t i = 0; i < rep->ntests; i++)
		smtprobe_result_release(&rep->tests[i].res);
	free(rep->tests);
	rep->tests = NULL;
	rep->ntests = 0;
}
