/* scan.c - `smtprobe tls`: the plan of docs/internals/tls-scan.md run on
 * the batch runner. Every probe is a session (session.h): connect, banner,
 * EHLO, STARTTLS (or implicit TLS), then either a hand-built hello whose
 * answer is kept raw (scan_hello.c reads it) or one real OpenSSL handshake
 * (the first probe: negotiated parameters, the chain, trust, the name).
 *
 * Rounds: probes that do not depend on each other run together (at most
 * max_connections at once); the suite lists grow one round at a time
 * (offer what is left, note the server's choice, take it out), every
 * protocol in the same round. A probe that ends before its hello was
 * answered - refused, reset, 421, a timeout before TLS - is not an answer:
 * it is run again (at most PROBE_TRIES times) with the concurrency
 * halved, and counted. Limits: SCAN_MAX_ROUNDS rounds, the accepted
 * suites of a protocol at SMTPROBE_SCAN_MAX_SUITES. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "findings_int.h"
#include "scan_int.h"
#include "smtprobe/batch.h"
#include "banned.h"

#define NELEM(a)        (sizeof(a) / sizeof((a)[0]))
#define PROBE_TRIES     3
#define SCAN_MAX_ROUNDS 400
#define DEFAULT_CONNS   8
#define DEFAULT_TIMEOUT 10000
#define MAX_PROBES      (SMTPROBE_TP_LAST + SMTPROBE_SCAN_MAX_GROUPS + 8)
#define ALERT_FALLBACK  86  /* inappropriate_fallback */
#define RETRY_PAUSE_MS  200 /* before a retry, doubled each time */
#define INJECTED        "XSMTPROBE-INJECTED" /* no server knows this verb */

enum probe_kind {
	PK_PROTO,
	PK_SUITES,
	PK_PREF,
	PK_GROUP,
	PK_DHE,
	PK_COMP,
	PK_SCSV
};

struct probe {
	enum probe_kind kind;
	enum smtprobe_tls_proto v;
	uint16_t group;
	uint8_t hello[SCAN_HELLO_MAX];
	long hello_len;
	struct smtprobe_params params;
	struct smtprobe_result res;
	struct scan_answer ans;
	int answered; /* ans is an answer to the hello (not a failure first) */
};

struct scan {
	const struct smtprobe_tls_scan_params *p;
	struct smtprobe_tls_scan *out;
	struct smtprobe_params base;
	unsigned conns; /* concurrency now (halved on trouble) */
	char sni[256];
	unsigned rounds;
	/* every suite of each protocol, and what is still to offer */
	uint16_t all[SMTPROBE_TP_LAST][SCAN_MAX_OFFER];
	size_t nall[SMTPROBE_TP_LAST];
	int done[SMTPROBE_TP_LAST]; /* the suite list is complete */
	/* the first handshake's session, to resume */
	unsigned char session[SMTPROBE_MAX_TLS_SESSION];
	size_t session_len;
	int session_ticket;
	uint64_t deadline; /* uv_hrtime() at which probing stops; 0: none */
};

/* The deadline (max_ms) passed: the scan stops where it is (truncated). */
static int out_of_time(struct scan *sc)
{
	if (!sc->deadline || uv_hrtime() < sc->deadline)
		return 0;
	sc->out->truncated = 1;
	return 1;
}

/* A session of its own (not on the batch runner) ends by the deadline. */
static void within_deadline(const struct scan *sc, struct smtprobe_params *q)
{
	if (!sc->deadline)
		return;
	uint64_t now = uv_hrtime();
	unsigned left =
	        now >= sc->deadline
	                ? 1
	                : (unsigned)((sc->deadline - now) / 1000000u) + 1;
	if (q->session_timeout_ms == 0 || q->session_timeout_ms > left)
		q->session_timeout_ms = left;
}

/* An IPv4 or IPv6 address (brackets allowed), not a name ("cafe.de" is a
 * name, though every letter of it is a hex digit). */
static int is_address(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];
	char bare[INET6_ADDRSTRLEN + 2];
	size_t n = strlen(host);

	if (n >= 2 && host[0] == '[' && host[n - 1] == ']' &&
	    n - 2 < sizeof(bare)) {
		memcpy(bare, host + 1, n - 2);
		bare[n - 2] = '\0';
		host = bare;
	}
	return inet_pton(AF_INET, host, buf) == 1 ||
	       inet_pton(AF_INET6, host, buf) == 1;
}

/* ---- running probes ---------------------------------------------------- */

static void probe_init(struct scan *sc, struct probe *pr, enum probe_kind k,
                       enum smtprobe_tls_proto v, const uint16_t *suites,
                       size_t n, const uint16_t *groups, size_t ng,
                       unsigned flags)
{
	memset(pr, 0, sizeof(*pr));
	pr->kind = k;
	pr->v = v;
	pr->hello_len = scan_build_hello(v, suites, n, groups, ng,
	                                 sc->sni[0] ? sc->sni : NULL, flags,
	                                 pr->hello, sizeof(pr->hello));
	pr->params = sc->base;
	pr->params.raw_tls_hello = pr->hello;
	pr->params.raw_tls_hello_len =
	        pr->hello_len > 0 ? (size_t)pr->hello_len : 0;
	pr->params.raw_tls_whole = scan_answer_whole;
}

/* Run the probes; each gets its answer or, after PROBE_TRIES, none. */
static void run_probes(struct scan *sc, struct probe *pr, size_t n)
{
	struct smtprobe_batch_job jobs[MAX_PROBES];
	size_t idx[MAX_PROBES];

	for (int attempt = 0; attempt < PROBE_TRIES; attempt++) {
		size_t nj = 0;
		for (size_t i = 0; i < n; i++) {
			if (pr[i].answered || pr[i].hello_len <= 0)
				continue;
			smtprobe_result_release(&pr[i].res);
			jobs[nj] = (struct smtprobe_batch_job){
			        &pr[i].params, &pr[i].res, -1, 0};
			idx[nj++] = i;
		}
		if (nj == 0)
			return;
		unsigned left_ms = 0;
		if (sc->deadline) {
			uint64_t now = uv_hrtime();
			if (now >= sc->deadline) {
				sc->out->truncated = 1;
				return;
			}
			left_ms =
			        (unsigned)((sc->deadline - now) / 1000000u) + 1;
		}
		struct smtprobe_batch_params bp = {
		        .concurrency = sc->conns,
		        .per_host = sc->conns,
		        .pause_ms = sc->p->pause_ms,
		        .deadline_ms = left_ms,
		};
		struct smtprobe_batch_stats st;
		smtprobe_batch_run(jobs, nj, &bp, &st);
		sc->rounds++;
		if (st.truncated)
			sc->out->truncated = 1;
		int trouble = 0;
		for (size_t j = 0; j < nj; j++) {
			struct probe *x = &pr[idx[j]];
			if (jobs[j].started)
				sc->out->connections++;
			if (x->res.have_raw_tls &&
			    (x->res.raw_tls_len > 0 ||
			     x->res.failure.kind == SMTPROBE_FAIL_NONE)) {
				scan_read_answer(x->res.raw_tls,
				                 x->res.raw_tls_len, &x->ans);
				/* an implicit-TLS port at its limit says 421 in
				 * clear where the ServerHello was due */
				x->answered = !(
				        x->ans.kind == SCAN_A_NOT_TLS &&
				        x->res.raw_tls_len >= 3 &&
				        memcmp(x->res.raw_tls, "421", 3) == 0);
				if (!x->answered) {
					trouble = 1;
					if (attempt + 1 < PROBE_TRIES)
						sc->out->retries++;
				}
			} else {
				trouble = 1;
				if (attempt + 1 < PROBE_TRIES)
					sc->out->retries++;
			}
		}
		if (!trouble)
			return;
		if (sc->conns > 1)
			sc->conns /= 2;
		uv_sleep(RETRY_PAUSE_MS << attempt);
	}
}

static void release_probes(struct probe *pr, size_t n)
{
	for (size_t i = 0; i < n; i++)
		smtprobe_result_release(&pr[i].res);
}

/* The server chose protocol v (a ServerHello of that very version). */
static int hello_for(const struct probe *pr, enum smtprobe_tls_proto v)
{
	return pr->answered &&
	       (pr->ans.kind == SCAN_A_HELLO || pr->ans.kind == SCAN_A_RETRY) &&
	       pr->ans.version == (int)v;
}

/* ---- the first handshake ------------------------------------------------- */

/* The server turned the connection away for now (at its limit). */
static int busy(const struct smtprobe_result *r)
{
	const struct smtprobe_failure *f = &r->failure;

	if (f->kind == SMTPROBE_FAIL_REFUSED || f->kind == SMTPROBE_FAIL_RESET)
		return r->stage <= SMTPROBE_ST_BANNER;
	return f->kind == SMTPROBE_FAIL_COMMAND && f->reply &&
	       f->reply->code == 421;
}

static int reach(struct scan *sc)
{
	struct smtprobe_tls_scan *o = sc->out;
	struct smtprobe_tls_posture *ps = &o->posture;
	struct smtprobe_params q = sc->base;
	struct smtprobe_result r = {0};

	q.quit_after = SMTPROBE_ST_EHLO2;
	q.keep_tls_session = 1;
	/* any protocol and suite, whatever the key: the chain is what this
	 * handshake is for (weak keys are findings, not obstacles) */
	q.tls_opts.ciphers = "ALL:@SECLEVEL=0";
	q.tls_opts.min_proto = "TLSv1";
	q.on_event = sc->p->on_event;
	q.event_arg = sc->p->event_arg;
	for (int attempt = 0;; attempt++) {
		within_deadline(sc, &q);
		smtprobe_send(&q, &r);
		o->connections++;
		if (attempt + 1 >= PROBE_TRIES || !busy(&r))
			break;
		/* a server at its connection limit (421, a refusal, a
		 * reset before the banner): wait a little, as for probes */
		smtprobe_result_release(&r);
		o->retries++;
		uv_sleep(RETRY_PAUSE_MS << attempt);
	}
	smtprobe_software_learn(&o->software, &r);
	ps->software = o->software.id;
	for (size_t i = 0; i < r.nex; i++)
		if (r.ex[i].stage == SMTPROBE_ST_BANNER && r.ex[i].reply) {
			snprintf(o->banner, sizeof(o->banner), "%s",
			         r.ex[i].reply->raw);
			break;
		}
	ps->port = sc->p->port;
	/* what the first connection found (AUTO) is what every probe uses */
	ps->implicit =
	        r.implicit_tls || sc->p->tls == SMTPROBE_TLSMODE_IMPLICIT;
	o->mode = ps->implicit ? SMTPROBE_TLSMODE_IMPLICIT
	                       : SMTPROBE_TLSMODE_REQUIRED;
	sc->base.tls = o->mode;
	ps->starttls_offered =
	        ps->implicit ||
	        (r.have_ehlo_first &&
	         (r.ehlo_first.caps & SMTPROBE_CAP_STARTTLS)) ||
	        (r.have_ehlo && (r.ehlo.caps & SMTPROBE_CAP_STARTTLS));
	ps->auth_offered = (r.have_ehlo_first &&
	                    (r.ehlo_first.caps & SMTPROBE_CAP_AUTH)) ||
	                   (r.have_ehlo && r.have_tls &&
	                    (r.ehlo.caps & SMTPROBE_CAP_AUTH));
	ps->verify_everywhere = sc->p->verify_everywhere;
	if (!r.have_tls) {
		int reached_ehlo = r.have_ehlo || r.have_ehlo_first;
		if (reached_ehlo && !ps->starttls_offered) {
			/* a finding, not a failure: nothing more to scan */
			smtprobe_result_release(&r);
			return 1;
		}
		/* the handshake began and did not finish: the server's
		 * alert or hang-up, or this OpenSSL refusing what the server
		 * chose (a server that offers only what Debian's OpenSSL
		 * lacks: 3DES, RC4, SSLv3 ...) - the raw hellos still can */
		const struct smtprobe_tls_failure *tf = &r.failure.tls;
		int hung_up = r.failure.stage == SMTPROBE_ST_TLS &&
		              (r.failure.kind == SMTPROBE_FAIL_CLOSED ||
		               r.failure.kind == SMTPROBE_FAIL_RESET);
		if (hung_up || (r.failure.kind == SMTPROBE_FAIL_TLS &&
		                tf->error != SMTPROBE_TLSE_NOT_TLS)) {
			snprintf(o->handshake_error, sizeof(o->handshake_error),
			         "%s", r.error);
			ps->handshake_broken =
			        hung_up ||
			        (tf->alert >= 0 && tf->alert_from_peer) ||
			        tf->error == SMTPROBE_TLSE_CLOSED ||
			        tf->error == SMTPROBE_TLSE_SYSCALL;
			smtprobe_result_release(&r);
			return 0;
		}
		snprintf(o->error, sizeof(o->error), "%s",
		         r.error[0] ? r.error : "no TLS handshake");
		smtprobe_result_release(&r);
		return -1;
	}
	o->tls = r.tls;
	if (r.tls_session && r.tls_session_len <= sizeof(sc->session)) {
		memcpy(sc->session, r.tls_session, r.tls_session_len);
		sc->session_len = r.tls_session_len;
		sc->session_ticket = r.tls_ticket;
		ps->early_data =
		        r.tls_max_early_data > 0 ? SMTPROBE_YES : SMTPROBE_NO;
		if (strcmp(r.tls.protocol, "TLSv1.3") != 0)
			ps->early_data = SMTPROBE_UNKNOWN;
	}
	smtprobe_result_release(&r);
	return 0;
}

/* The certificate facts of the first handshake, into the posture. */
static void cert_posture(struct scan *sc)
{
	struct smtprobe_tls_scan *o = sc->out;
	struct smtprobe_tls_posture *ps = &o->posture;
	const struct smtprobe_tls_facts *f = &o->tls;

	if (f->nchain == 0)
		return;
	const struct smtprobe_cert_facts *c = &f->chain[0];
	ps->have_cert = 1;
	ps->days_left = c->days_left;
	ps->not_yet_valid = c->not_yet_valid;
	ps->lifetime_days = c->lifetime_days;
	snprintf(ps->key_type, sizeof(ps->key_type), "%s", c->key_type);
	ps->key_bits = c->key_bits;
	snprintf(ps->sig_alg, sizeof(ps->sig_alg), "%s", c->sig_alg);
	ps->self_signed = c->self_signed;
	ps->trusted = f->verify_ok;
	snprintf(ps->verify_reason, sizeof(ps->verify_reason), "%s",
	         f->verify_reason);
	ps->chain_incomplete = f->chain_incomplete;
	snprintf(ps->missing_issuer, sizeof(ps->missing_issuer), "%s",
	         f->missing_issuer);
	ps->host_checked = f->host_checked;
	ps->host_match = f->host_match;
	snprintf(ps->host, sizeof(ps->host), "%s",
	         sc->base.tls_opts.verify_host ? sc->base.tls_opts.verify_host
	                                       : "");
	ps->ocsp_stapled = f->ocsp_stapled ? SMTPROBE_YES : SMTPROBE_NO;
	ps->must_staple = c->must_staple;
	ps->chain_misordered = f->nchain > 1 && !f->chain_order_ok;
}

/* The handshake failed, but a raw TLS <= 1.2 flight carried the leaf: its
 * own facts (expiry, key, signature, names), no verified chain. */
static void cert_from_flight(struct scan *sc, const struct scan_answer *a)
{
	struct smtprobe_tls_scan *o = sc->out;
	struct smtprobe_tls_posture *ps = &o->posture;
	const char *host = sc->base.tls_opts.verify_host;

	if (smtprobe_tls_cert_facts_der(a->leaf, a->leaf_len,
	                                &o->tls.chain[0]) < 0)
		return;
	o->tls.nchain = 1;
	o->tls.host_checked = host != NULL;
	o->tls.host_match = host && smtprobe_tls_cert_matches_der(
	                                    a->leaf, a->leaf_len, host) == 1;
	snprintf(o->tls.verify_reason, sizeof(o->tls.verify_reason),
	         "not verified: no handshake completed");
	o->cert_from_flight = 1;
	cert_posture(sc);
	ps->trust_unknown = 1;
	ps->ocsp_stapled = SMTPROBE_UNKNOWN;
}

/* ---- protocols and suites ------------------------------------------------ */

static void accept_suite(struct scan *sc, enum smtprobe_tls_proto v,
                         uint16_t id)
{
	struct smtprobe_tls_scan *o = sc->out;

	for (size_t i = 0; i < o->nsuites[v]; i++)
		if (o->suites[v][i].id == id) {
			sc->done[v] = 1; /* chosen again: the list is done */
			return;
		}
	if (o->nsuites[v] >= SMTPROBE_SCAN_MAX_SUITES) {
		sc->done[v] = 1;
		return;
	}
	scan_suite_info(id, &o->suites[v][o->nsuites[v]++]);
	/* what is left to offer */
	for (size_t i = 0; i < sc->nall[v]; i++)
		if (sc->all[v][i] == id) {
			sc->all[v][i] = sc->all[v][--sc->nall[v]];
			break;
		}
	if (sc->nall[v] == 0)
		sc->done[v] = 1;
}

static void scan_protocols(struct scan *sc, struct probe *pr)
{
	struct smtprobe_tls_posture *ps = &sc->out->posture;
	size_t n = 0;

	for (int v = 0; v < SMTPROBE_TP_LAST; v++) {
		sc->nall[v] = scan_suites_of((enum smtprobe_tls_proto)v,
		                             sc->all[v], SCAN_MAX_OFFER);
		probe_init(sc, &pr[n++], PK_PROTO, (enum smtprobe_tls_proto)v,
		           sc->all[v], sc->nall[v], NULL, 0, 0);
	}
	run_probes(sc, pr, n);
	for (size_t i = 0; i < n; i++)
		if (!ps->have_cert && pr[i].answered && pr[i].ans.leaf_len > 0)
			cert_from_flight(sc, &pr[i].ans);
	for (size_t i = 0; i < n; i++) {
		enum smtprobe_tls_proto v = pr[i].v;
		ps->tested[v] = pr[i].answered;
		ps->offered[v] = hello_for(&pr[i], v);
		if (ps->offered[v]) {
			accept_suite(sc, v, pr[i].ans.suite);
			if (v <= SMTPROBE_TP_TLS12)
				ps->secure_renegotiation =
				        pr[i].ans.reneg_info ? SMTPROBE_YES
				                             : SMTPROBE_NO;
		} else {
			sc->done[v] = 1;
		}
	}
	release_probes(pr, n);
}

static void scan_suites(struct scan *sc, struct probe *pr)
{
	while (sc->rounds < SCAN_MAX_ROUNDS) {
		size_t n = 0;
		for (int v = 0; v < SMTPROBE_TP_LAST; v++)
			if (!sc->done[v])
				probe_init(sc, &pr[n++], PK_SUITES,
				           (enum smtprobe_tls_proto)v,
				           sc->all[v], sc->nall[v], NULL, 0, 0);
		if (n == 0)
			return;
		run_probes(sc, pr, n);
		for (size_t i = 0; i < n; i++) {
			if (hello_for(&pr[i], pr[i].v)) {
				accept_suite(sc, pr[i].v, pr[i].ans.suite);
				continue;
			}
			sc->done[pr[i].v] = 1;
			if (!pr[i].answered)
				sc->out->suites_incomplete[pr[i].v] = 1;
		}
		release_probes(pr, n);
	}
}

/* Offer the accepted list reversed: the server's order when it still
 * picks the first of its list. */
static void scan_preference(struct scan *sc, struct probe *pr)
{
	struct smtprobe_tls_scan *o = sc->out;
	size_t n = 0;
	uint16_t rev[SMTPROBE_SCAN_MAX_SUITES];

	for (int v = 0; v < SMTPROBE_TP_LAST; v++) {
		o->server_preference[v] = -1;
		if (o->nsuites[v] < 2)
			continue;
		for (size_t i = 0; i < o->nsuites[v]; i++)
			rev[i] = o->suites[v][o->nsuites[v] - 1 - i].id;
		probe_init(sc, &pr[n++], PK_PREF, (enum smtprobe_tls_proto)v,
		           rev, o->nsuites[v], NULL, 0, 0);
	}
	run_probes(sc, pr, n);
	for (size_t i = 0; i < n; i++)
		if (hello_for(&pr[i], pr[i].v))
			o->server_preference[pr[i].v] =
			        pr[i].ans.suite == o->suites[pr[i].v][0].id;
	release_probes(pr, n);
}

/* ---- groups, DHE, the session -------------------------------------------- */

static void add_group(struct smtprobe_tls_scan *o, const char *name)
{
	if (!name)
		return;
	for (size_t i = 0; i < o->ngroups; i++)
		if (strcmp(o->groups[i], name) == 0)
			return;
	if (o->ngroups < SMTPROBE_SCAN_MAX_GROUPS)
		o->groups[o->ngroups++] = name;
}

static int newest(const struct smtprobe_tls_posture *ps, int upto)
{
	for (int v = upto; v >= 0; v--)
		if (ps->offered[v])
			return v;
	return -1;
}

/* The groups: TLS 1.3 hellos with one group each (and its share); below
 * it, the accepted ECDHE suites with one curve each. DHE's group: the
 * accepted DHE suites, whose ServerKeyExchange carries the prime. */
static void scan_groups(struct scan *sc, struct probe *pr)
{
	struct smtprobe_tls_scan *o = sc->out;
	struct smtprobe_tls_posture *ps = &o->posture;
	uint16_t g[SMTPROBE_SCAN_MAX_GROUPS], ids[SCAN_MAX_OFFER];
	size_t n = 0, ns = 0;
	int v = ps->offered[SMTPROBE_TP_TLS13] ? SMTPROBE_TP_TLS13
	                                       : newest(ps, SMTPROBE_TP_TLS12);
	int v12 = newest(ps, SMTPROBE_TP_TLS12);

	if (v == SMTPROBE_TP_TLS13)
		ns = scan_suites_of(SMTPROBE_TP_TLS13, ids, SCAN_MAX_OFFER);
	else if (v >= 0)
		for (size_t i = 0; i < o->nsuites[v]; i++)
			if (o->suites[v][i].ecdhe)
				ids[ns++] = o->suites[v][i].id;
	size_t ng = ns ? scan_groups_of((enum smtprobe_tls_proto)v, g, NELEM(g))
	               : 0;
	for (size_t i = 0; i < ng && n + 1 < MAX_PROBES; i++) {
		probe_init(sc, &pr[n], PK_GROUP, (enum smtprobe_tls_proto)v,
		           ids, ns, &g[i], 1, 0);
		pr[n++].group = g[i];
	}
	uint16_t dhe[SMTPROBE_SCAN_MAX_SUITES];
	size_t nd = 0;
	if (v12 >= 0)
		for (size_t i = 0; i < o->nsuites[v12]; i++)
			if (o->suites[v12][i].dhe)
				dhe[nd++] = o->suites[v12][i].id;
	if (nd)
		probe_init(sc, &pr[n++], PK_DHE, (enum smtprobe_tls_proto)v12,
		           dhe, nd, NULL, 0, 0);
	run_probes(sc, pr, n);
	for (size_t i = 0; i < n; i++) {
		if (pr[i].kind == PK_GROUP && pr[i].answered &&
		    pr[i].ans.kind == SCAN_A_HELLO &&
		    pr[i].ans.group == pr[i].group)
			add_group(o, scan_group_name(pr[i].group));
		if (pr[i].kind == PK_DHE && pr[i].answered &&
		    pr[i].ans.dh_bits > 0) {
			ps->dh_bits = pr[i].ans.dh_bits;
			ps->dh_group = pr[i].ans.dh_group;
		}
	}
	release_probes(pr, n);
}

/* Compression and TLS_FALLBACK_SCSV, each one hello below TLS 1.3. */
static void scan_session(struct scan *sc, struct probe *pr)
{
	struct smtprobe_tls_scan *o = sc->out;
	struct smtprobe_tls_posture *ps = &o->posture;
	int best12 = newest(ps, SMTPROBE_TP_TLS12);
	int best = newest(ps, SMTPROBE_TP_TLS13);
	size_t n = 0;

	if (best12 >= 0) {
		uint16_t ids[SCAN_MAX_OFFER];
		size_t k = scan_suites_of((enum smtprobe_tls_proto)best12, ids,
		                          SCAN_MAX_OFFER);
		probe_init(sc, &pr[n++], PK_COMP,
		           (enum smtprobe_tls_proto)best12, ids, k, NULL, 0,
		           SCAN_COMPRESSION);
		int lower = newest(ps, best - 1);
		if (lower >= 0 && lower <= SMTPROBE_TP_TLS12) {
			k = scan_suites_of((enum smtprobe_tls_proto)lower, ids,
			                   SCAN_MAX_OFFER);
			probe_init(sc, &pr[n++], PK_SCSV,
			           (enum smtprobe_tls_proto)lower, ids, k, NULL,
			           0, SCAN_FALLBACK_SCSV);
		}
	}
	run_probes(sc, pr, n);
	for (size_t i = 0; i < n; i++) {
		if (!pr[i].answered)
			continue;
		if (pr[i].kind == PK_COMP)
			ps->compression =
			        pr[i].ans.kind == SCAN_A_HELLO &&
			                        pr[i].ans.compression != 0
			                ? SMTPROBE_YES
			                : SMTPROBE_NO;
		if (pr[i].kind == PK_SCSV)
			ps->fallback_scsv =
			        pr[i].ans.kind == SCAN_A_ALERT &&
			                        pr[i].ans.alert ==
			                                ALERT_FALLBACK
			                ? SMTPROBE_YES
			                : SMTPROBE_NO;
	}
	release_probes(pr, n);
}

/* CVE-2011-0411: a command pipelined after STARTTLS, in the same segment,
 * must be thrown away with the clear text. A server that answers it once
 * TLS is up answers it where the EHLO reply was due: a 5xx to the unknown
 * verb. A 250 there is the EHLO reply: not vulnerable. */
static void scan_injection(struct scan *sc)
{
	struct smtprobe_tls_posture *ps = &sc->out->posture;
	struct smtprobe_params q = sc->base;
	struct smtprobe_result r = {0};

	if (ps->implicit || !ps->starttls_offered)
		return;
	q.quit_after = SMTPROBE_ST_EHLO2;
	q.tls_opts.ciphers = "ALL:@SECLEVEL=0";
	q.tls_opts.min_proto = "TLSv1";
	q.starttls_inject = INJECTED;
	within_deadline(sc, &q);
	smtprobe_send(&q, &r);
	sc->out->connections++;
	for (size_t i = 0; i < r.nex; i++) {
		const struct smtprobe_exchange *x = &r.ex[i];
		if (x->stage != SMTPROBE_ST_EHLO2 || !x->reply)
			continue;
		ps->starttls_injection = x->reply->code >= 500 ? SMTPROBE_YES
		                         : x->reply->code == 250
		                                 ? SMTPROBE_NO
		                                 : SMTPROBE_UNKNOWN;
		break;
	}
	smtprobe_result_release(&r);
}

/* Resumption: the first handshake's session offered again (by ticket when
 * it holds one), and for TLS <= 1.2 a session made without tickets and
 * offered again (by id). Each a real handshake; "resumed" is OpenSSL's. */
static int resumes(struct scan *sc, const unsigned char *sess, size_t len,
                   int no_ticket, const char *max_proto)
{
	struct smtprobe_params q = sc->base;
	struct smtprobe_result r = {0};

	/* to QUIT, so that the server ends the session properly (a server
	 * whose connection breaks off drops the session from its cache) */
	q.quit_after = SMTPROBE_ST_EHLO2;
	q.tls_opts.ciphers = "ALL:@SECLEVEL=0";
	q.tls_opts.min_proto = "TLSv1";
	q.tls_opts.max_proto = max_proto;
	q.tls_opts.session = sess;
	q.tls_opts.session_len = len;
	q.tls_opts.no_ticket = no_ticket;
	q.keep_tls_session = sess == NULL;
	within_deadline(sc, &q);
	smtprobe_send(&q, &r);
	sc->out->connections++;
	int rc = !r.have_tls ? -1 : sess ? r.tls.resumed : 0;
	if (!sess && r.tls_session &&
	    r.tls_session_len <= sizeof(sc->session)) {
		/* a fresh id-only session, kept for the next call */
		memcpy(sc->session, r.tls_session, r.tls_session_len);
		sc->session_len = r.tls_session_len;
		rc = 1;
	}
	smtprobe_result_release(&r);
	return rc;
}

/* Client-initiated renegotiation (TLS <= 1.2): asked right after the
 * handshake, done with the EHLO that follows - or refused (an alert, a
 * hang-up, or the request left pending). */
static void scan_renegotiation(struct scan *sc)
{
	struct smtprobe_tls_posture *ps = &sc->out->posture;
	struct smtprobe_params q = sc->base;
	struct smtprobe_result r = {0};
	int v = newest(ps, SMTPROBE_TP_TLS12);

	if (v < SMTPROBE_TP_TLS10)
		return;
	q.quit_after = SMTPROBE_ST_EHLO2;
	q.tls_opts.ciphers = "ALL:@SECLEVEL=0";
	q.tls_opts.min_proto = "TLSv1";
	q.tls_opts.max_proto = "TLSv1.2";
	q.tls_renegotiate = 1;
	within_deadline(sc, &q);
	smtprobe_send(&q, &r);
	sc->out->connections++;
	if (r.have_tls)
		ps->client_renegotiation =
		        r.tls_renegotiated ? SMTPROBE_YES : SMTPROBE_NO;
	smtprobe_result_release(&r);
}

static void scan_resumption(struct scan *sc)
{
	struct smtprobe_tls_posture *ps = &sc->out->posture;
	int rc;

	if (sc->session_len > 0 && sc->session_ticket) {
		rc = resumes(sc, sc->session, sc->session_len, 0, NULL);
		ps->resume_ticket = rc < 0 ? SMTPROBE_UNKNOWN : rc;
	} else if (sc->session_len > 0) {
		ps->resume_ticket = SMTPROBE_NO; /* the server sent none */
	}
	if (!ps->offered[SMTPROBE_TP_TLS12])
		return;
	sc->session_len = 0;
	if (resumes(sc, NULL, 0, 1, "TLSv1.2") == 1 && sc->session_len > 0) {
		rc = resumes(sc, sc->session, sc->session_len, 1, "TLSv1.2");
		ps->resume_id = rc < 0 ? SMTPROBE_UNKNOWN : rc;
	}
}

/* ---- the whole --------------------------------------------------------- */

static void merge_suites(struct smtprobe_tls_scan *o)
{
	struct smtprobe_tls_posture *ps = &o->posture;

	for (int v = 0; v < SMTPROBE_TP_LAST; v++)
		for (size_t i = 0; i < o->nsuites[v]; i++) {
			size_t k = 0;
			while (k < ps->nsuites &&
			       strcmp(ps->suites[k].name,
			              o->suites[v][i].name) != 0)
				k++;
			if (k < ps->nsuites ||
			    ps->nsuites >= SMTPROBE_POSTURE_MAX_SUITES)
				continue;
			scan_suite_fact(o->suites[v][i].id,
			                &ps->suites[ps->nsuites]);
			/* (a suite the table lacks is named by number) */
			ps->suites[ps->nsuites++].name = o->suites[v][i].name;
		}
}

/* Every step after the protocols, each only while time is left. */
static void full_scan(struct scan *sc, struct probe *pr)
{
	if (out_of_time(sc))
		return;
	scan_suites(sc, pr);
	if (out_of_time(sc))
		return;
	scan_preference(sc, pr);
	if (out_of_time(sc))
		return;
	scan_groups(sc, pr);
	if (out_of_time(sc))
		return;
	scan_session(sc, pr);
	if (out_of_time(sc))
		return;
	scan_injection(sc);
	if (out_of_time(sc))
		return;
	scan_resumption(sc);
	if (out_of_time(sc))
		return;
	scan_renegotiation(sc);
}

static void base_params(struct scan *sc)
{
	const struct smtprobe_tls_scan_params *p = sc->p;
	struct smtprobe_params *q = &sc->base;
	static const char *const no_rcpt[] = {"<postmaster>"};

	memset(q, 0, sizeof(*q));
	q->host = p->host;
	q->port = p->port;
	q->helo = p->helo;
	q->protocol = SMTPROBE_PROTO_ESMTP;
	q->tls = p->tls;
	q->tls_opts.sni = sc->sni[0] ? sc->sni : NULL;
	q->family = p->family;
	q->tls_opts.verify_host = p->verify_host ? p->verify_host : p->host;
	q->tls_opts.ca_file = p->ca_file;
	q->tls_opts.ca_path = p->ca_path;
	q->mail_from = "<>";
	q->rcpt = no_rcpt;
	q->nrcpt = 1;
	q->quit_after = SMTPROBE_ST_TLS;
	q->stage_timeout_ms = p->timeout_ms ? p->timeout_ms : DEFAULT_TIMEOUT;
	q->session_timeout_ms = 4 * q->stage_timeout_ms + 1000;
	q->suppress_data = 1;
}

int smtprobe_tls_scan(const struct smtprobe_tls_scan_params *p,
                      struct smtprobe_tls_scan *out)
{
	struct scan sc = {.p = p, .out = out};
	uint64_t t0 = uv_hrtime();
	struct probe *pr = calloc(MAX_PROBES, sizeof(*pr));

	memset(out, 0, sizeof(*out));
	if (!pr) {
		snprintf(out->error, sizeof(out->error), "out of memory");
		return -1;
	}
	sc.conns = p->max_connections ? p->max_connections : DEFAULT_CONNS;
	if (p->max_ms)
		sc.deadline = t0 + (uint64_t)p->max_ms * 1000000u;
	/* SNI: a name, never an address literal (RFC 6066 3) */
	if (p->sni)
		snprintf(sc.sni, sizeof(sc.sni), "%s", p->sni);
	else if (p->host && !is_address(p->host))
		snprintf(sc.sni, sizeof(sc.sni), "%s", p->host);
	base_params(&sc);
	struct smtprobe_tls_posture *ps = &out->posture;
	ps->ocsp_stapled = ps->compression = ps->secure_renegotiation =
	        ps->fallback_scsv = ps->starttls_injection = SMTPROBE_UNKNOWN;
	ps->resume_ticket = ps->resume_id = ps->early_data =
	        ps->client_renegotiation = SMTPROBE_UNKNOWN;
	int rc = reach(&sc);
	if (rc < 0) {
		free(pr);
		out->ms = (double)(uv_hrtime() - t0) / 1e6;
		return -1;
	}
	out->ran = 1;
	if (rc == 0) {
		cert_posture(&sc);
		scan_protocols(&sc, pr);
		if (!p->quick)
			full_scan(&sc, pr);
		merge_suites(out);
	}
	free(pr);
	out->nfindings =
	        smtprobe_tls_findings(ps, out->findings, SMTPROBE_MAX_FINDINGS);
	if (p->profile && out->ran) {
		size_t k = smtprobe_tls_profile_check(
		        p->profile, out, out->findings + out->nfindings,
		        SMTPROBE_MAX_FINDINGS - out->nfindings);
		for (size_t i = 0; i < k; i++)
			out->profile_deviations +=
			        out->findings[out->nfindings + i].severity >=
			        SMTPROBE_SEV_MEDIUM;
		out->nfindings += k;
		tlss_sort(out->findings, out->nfindings); /* worst first */
	}
	out->ms = (double)(uv_hrtime() - t0) / 1e6;
	return 0;
}

int smtprobe_tls_scan_exit(const struct smtprobe_tls_scan *s)
{
	if (!s->ran)
		return 2;
	if (s->profile_deviations > 0)
		return 1;
	for (size_t i = 0; i < s->nfindings; i++)
		if (s->findings[i].severity >= SMTPROBE_SEV_HIGH)
			return 1;
	return 0;
}
