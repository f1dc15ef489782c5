/* check.c - the diagnostic ladder of `smtprobe check`.
 *
 * One transaction (smtprobe_send, stopped before DATA unless asked to send)
 * gives the evidence for dns, tcp, banner, ehlo, tls, auth, mail and rcpt;
 * a second one without credentials is the relay test. Each step is judged
 * from the result tree and, when it failed or warned, diagnosed from the
 * knowledge base, with the causes re-ranked by what the ladder saw (a
 * relay refusal while the server offers AUTH and the client did not use it
 * is "missing authentication" first). Never prints; the result is data.
 * This file: the step names, dns, tcp, banner, ehlo, tls and the run;
 * check_steps.c the later steps, check_diag.c the shared helpers. */
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uv.h>

#include "check_int.h"
#include "smtprobe/ehlo.h"
#include "banned.h"

static const char *const step_names[SMTPROBE_CK_LAST] = {
        "dns",  "tcp",  "banner", "ehlo", "tls",
        "auth", "mail", "rcpt",   "data", "relay",
};
static const char *const status_names[] = {"skip", "pass", "warn", "fail",
                                           "info"};
static const char *const item_names[SMTPROBE_CL_LAST] = {
        "server_reachable", "correct_port",       "tls_policy",
        "auth_accepted",    "mail_from_accepted", "rcpt_to_accepted",
        "data_accepted",    "no_relay_denial",
};

const char *smtprobe_check_step_name(enum smtprobe_check_step st)
{
	return st < SMTPROBE_CK_LAST ? step_names[st] : "?";
}

const char *smtprobe_check_status_name(enum smtprobe_check_status st)
{
	return (unsigned)st < sizeof(status_names) / sizeof(status_names[0])
	               ? status_names[st]
	               : "?";
}

const char *smtprobe_check_item_name(enum smtprobe_check_item it)
{
	return it < SMTPROBE_CL_LAST ? item_names[it] : "?";
}

/* ---- dns ------------------------------------------------------------- */

static int check_dns(const struct smtprobe_check_params *p,
                     struct smtprobe_check_result *r)
{
	struct smtprobe_check_finding *f = &r->step[SMTPROBE_CK_DNS];
	struct addrinfo hints;
	uv_loop_t loop;
	uv_getaddrinfo_t req;
	uint64_t t0 = uv_hrtime();

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = p->session.family == 4   ? AF_INET
	                  : p->session.family == 6 ? AF_INET6
	                                           : AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	uv_loop_init(&loop);
	/* No callback: libuv resolves synchronously (the ladder waits). */
	int rc = uv_getaddrinfo(&loop, &req, NULL, p->session.host, NULL,
	                        &hints);
	uv_loop_close(&loop);
	f->ms = (double)(uv_hrtime() - t0) / 1e6;
	if (rc < 0) {
		const char *kind = rc == UV_EAI_NONAME       ? "NXDOMAIN"
		                   : rc == UV_EAI_NODATA     ? "NOANSWER"
		                   : rc == UV_EAI_ADDRFAMILY ? "NOANSWER"
		                                             : "SERVFAIL";
		f->status = SMTPROBE_CK_FAIL;
		ck_setf(f->detail, sizeof(f->detail), "cannot resolve %s: %s",
		        p->session.host, uv_strerror(rc));
		ck_diagnose(f, smtprobe_kb_local(kind));
		return -1;
	}
	size_t o = 0;
	for (struct addrinfo *a = req.addrinfo;
	     a && o + 48 < sizeof(r->addresses); a = a->ai_next) {
		char buf[64];
		if (a->ai_family == AF_INET)
			uv_ip4_name((struct sockaddr_in *)a->ai_addr, buf,
			            sizeof(buf));
		else
			uv_ip6_name((struct sockaddr_in6 *)a->ai_addr, buf,
			            sizeof(buf));
		if (strstr(r->addresses, buf))
			continue;
		o += (size_t)snprintf(r->addresses + o,
		                      sizeof(r->addresses) - o, "%s%s",
		                      o ? " " : "", buf);
	}
	uv_freeaddrinfo(req.addrinfo);
	f->status = SMTPROBE_CK_PASS;
	ck_setf(f->detail, sizeof(f->detail), "%s resolves to %s",
	        p->session.host, r->addresses);
	return 0;
}

/* ---- the transaction ---------------------------------------------- */

static void check_tcp(const struct smtprobe_check_params *p,
                      struct smtprobe_check_result *r)
{
	struct smtprobe_check_finding *f = &r->step[SMTPROBE_CK_TCP];
	const struct smtprobe_result *s = &r->session;
	const struct smtprobe_exchange *c =
	        ck_last_exchange(s, SMTPROBE_ST_CONNECT);

	if (c) {
		f->status = SMTPROBE_CK_PASS;
		f->ms = s->connect_ms;
		ck_setf(f->detail, sizeof(f->detail),
		        "connected to %s port %u (%.1f ms)", s->address,
		        r->ladder.port, s->connect_ms);
		return;
	}
	f->status = SMTPROBE_CK_FAIL;
	f->ms = s->connect_ms;
	ck_setf(f->detail, sizeof(f->detail), "%s", s->error);
	ck_diagnose(f, smtprobe_kb_failure(&s->failure));
	if (s->failure.kind == SMTPROBE_FAIL_REFUSED)
		ck_first_cause(f,
		               "nothing listens on port %u of %s: wrong port, "
		               "or the mail service is down",
		               r->ladder.port,
		               s->address[0] ? s->address : p->session.host);
}

static void check_banner_ehlo(struct smtprobe_check_result *r)
{
	const struct smtprobe_result *s = &r->session;
	struct smtprobe_check_finding *b = &r->step[SMTPROBE_CK_BANNER];
	struct smtprobe_check_finding *e = &r->step[SMTPROBE_CK_EHLO];

	if (!ck_judge_stage(b, s, SMTPROBE_ST_BANNER, "banner")) {
		/* no banner: implicit TLS failed first (the tls step says so),
		 * or the connection never came up */
	} else if (b->status == SMTPROBE_CK_PASS) {
		const struct smtprobe_exchange *x =
		        ck_last_exchange(s, SMTPROBE_ST_BANNER);
		ck_setf(b->detail, sizeof(b->detail), "%d %s (%.1f ms)",
		        x->reply->code,
		        x->reply->nlines ? x->reply->text[0] : "", x->ms);
	}
	if (!ck_judge_stage(e, s, SMTPROBE_ST_EHLO, "EHLO"))
		return;
	/* the EHLO after STARTTLS is the same step: its failure counts */
	const struct smtprobe_exchange *x2 =
	        ck_last_exchange(s, SMTPROBE_ST_EHLO2);
	if (e->status == SMTPROBE_CK_PASS && x2 &&
	    (!x2->reply || x2->reply->code / 100 != 2)) {
		memset(e, 0, sizeof(*e));
		ck_judge_stage(e, s, SMTPROBE_ST_EHLO2, "EHLO after STARTTLS");
		return;
	}
	if (e->status == SMTPROBE_CK_PASS && s->have_ehlo) {
		const struct smtprobe_ehlo *h = &s->ehlo;
		ck_setf(e->detail, sizeof(e->detail),
		        "%s greets as %s; AUTH: %s; STARTTLS: %s; SIZE %llu",
		        s->greeting[0] == 'h' ? "HELO (EHLO refused):"
		                              : "EHLO:",
		        h->host, h->auth[0] ? h->auth : "not offered",
		        (s->ehlo_first.caps & SMTPROBE_CAP_STARTTLS) ? "offered"
		        : ck_implicit(r) ? "not needed (implicit TLS)"
		                         : "not offered",
		        h->size);
		if (s->greeting[0] == 'h') {
			e->status = SMTPROBE_CK_WARN;
			ck_setf(e->summary, sizeof(e->summary),
			        "the server refused EHLO: no extensions (no "
			        "STARTTLS, no AUTH)");
		}
	}
}

static void check_tls(const struct smtprobe_check_params *p,
                      struct smtprobe_check_result *r)
{
	struct smtprobe_check_finding *f = &r->step[SMTPROBE_CK_TLS];
	const struct smtprobe_result *s = &r->session;
	const struct smtprobe_tls_facts *t = &s->tls;

	if (r->ladder.tls == SMTPROBE_TLSMODE_OFF)
		return;
	if (!s->have_tls) {
		int offered = s->have_ehlo_first &&
		              (s->ehlo_first.caps & SMTPROBE_CAP_STARTTLS);
		const struct smtprobe_exchange *st =
		        ck_last_exchange(s, SMTPROBE_ST_STARTTLS);
		if (st && st->reply && st->reply->code != 220 &&
		    s->failure.kind == SMTPROBE_FAIL_NONE) {
			/* offered, refused, and the session went on in clear */
			char rt[600];
			ck_reply_text(st->reply, rt, sizeof(rt));
			f->status = p->tls_required || r->submission
			                    ? SMTPROBE_CK_FAIL
			                    : SMTPROBE_CK_WARN;
			ck_setf(f->detail, sizeof(f->detail),
			        "STARTTLS is offered but refused (%s): mail "
			        "and "
			        "any credentials travel in clear",
			        rt);
			ck_diagnose_reply(f, st->reply);
			return;
		}
		if (offered || ck_implicit(r)) {
			enum smtprobe_failure_kind k = s->failure.kind;
			if (k != SMTPROBE_FAIL_TLS &&
			    k != SMTPROBE_FAIL_TLS_UNAVAILABLE &&
			    s->failure.stage != SMTPROBE_ST_TLS &&
			    s->failure.stage != SMTPROBE_ST_STARTTLS)
				return; /* never got as far as TLS */
			f->status = SMTPROBE_CK_FAIL;
			f->ms = s->tls_ms;
			ck_setf(f->detail, sizeof(f->detail), "%s", s->error);
			ck_diagnose(f, smtprobe_kb_failure(&s->failure));
			if (!f->summary[0])
				ck_setf(f->summary, sizeof(f->summary),
				        "the TLS handshake failed: %s",
				        s->error);
			/* the server's side broke it (its alert, or it hung
			 * up): advice for the server, not the client */
			const struct smtprobe_tls_failure *tf = &s->failure.tls;
			if ((s->failure.kind == SMTPROBE_FAIL_TLS &&
			     tf->alert >= 0 && tf->alert_from_peer) ||
			    s->failure.kind == SMTPROBE_FAIL_CLOSED ||
			    s->failure.kind == SMTPROBE_FAIL_RESET)
				ck_advise(f, SMTPROBE_ADV_TLS_BROKEN);
			if (ck_implicit(r) &&
			    s->failure.kind == SMTPROBE_FAIL_TLS &&
			    s->failure.tls.error == SMTPROBE_TLSE_NOT_TLS)
				ck_first_cause(
				        f, "implicit TLS against a port that "
				           "speaks plain SMTP / STARTTLS: use "
				           "--tls (STARTTLS) here, or port 465 "
				           "for implicit TLS");
			return;
		}
		if (!s->have_ehlo_first)
			return;
		f->status = p->tls_required || r->submission ? SMTPROBE_CK_FAIL
		                                             : SMTPROBE_CK_WARN;
		ck_setf(f->detail, sizeof(f->detail),
		        "STARTTLS is not offered: mail and any credentials "
		        "travel "
		        "in clear");
		ck_setf(f->summary, sizeof(f->summary),
		        "no TLS: anyone on the path can read the mail");
		f->causes[0] = "TLS is not configured on this port";
		f->causes[1] =
		        "a middlebox strips STARTTLS from the EHLO reply";
		f->causes[2] = NULL;
		ck_advise(f, SMTPROBE_ADV_NO_TLS);
		return;
	}
	f->ms = s->tls_ms;
	const struct smtprobe_cert_facts *leaf =
	        t->nchain ? &t->chain[0] : NULL;
	size_t o = (size_t)snprintf(f->detail, sizeof(f->detail), "%s %s",
	                            t->protocol, t->cipher);
	if (leaf && o < sizeof(f->detail))
		o += (size_t)snprintf(
		        f->detail + o, sizeof(f->detail) - o,
		        "; certificate %s, issuer %s, expires %s (%ld "
		        "days), %s %d",
		        leaf->subject, leaf->issuer, leaf->not_after,
		        leaf->days_left, leaf->key_type, leaf->key_bits);
	f->status = SMTPROBE_CK_PASS;
	if (!t->verify_ok || (t->host_checked && !t->host_match)) {
		/* clients that submit or authenticate cannot work with it; a
		 * sending MTA (port 25, opportunistic TLS) delivers anyway */
		f->status = p->session.tls_verify || r->submission
		                    ? SMTPROBE_CK_FAIL
		                    : SMTPROBE_CK_WARN;
		const char *why =
		        t->verify_ok ? "hostname mismatch" : t->verify_reason;
		if (o < sizeof(f->detail))
			snprintf(f->detail + o, sizeof(f->detail) - o,
			         "; verification failed: %s", why);
		ck_diagnose(f,
		            smtprobe_kb_x509(t->verify_ok ? 62 : t->verify_code,
		                             why));
		ck_advise(f, SMTPROBE_ADV_CERTIFICATE);
		if (f->status == SMTPROBE_CK_WARN)
			ck_first_cause(
			        f,
			        "a receiving MX without AUTH: senders use "
			        "TLS opportunistically (RFC 7435) and deliver "
			        "anyway, but DANE or MTA-STS senders will "
			        "refuse it: %s",
			        why);
		return;
	}
	if (leaf && leaf->days_left < CK_EXPIRY_WARN_DAYS) {
		f->status = SMTPROBE_CK_WARN;
		ck_setf(f->summary, sizeof(f->summary),
		        "the certificate expires in %ld days", leaf->days_left);
		f->causes[0] = "automatic renewal is not set up or failing";
		f->causes[1] = NULL;
		ck_advise(f, SMTPROBE_ADV_CERT_RENEW);
		return;
	}
	if (leaf &&
	    ((strcmp(leaf->key_type, "RSA") == 0 && leaf->key_bits < 2048) ||
	     strstr(leaf->sig_alg, "sha1") || strstr(leaf->sig_alg, "md5"))) {
		f->status = SMTPROBE_CK_WARN;
		ck_setf(f->summary, sizeof(f->summary),
		        "weak certificate: %s %d, %s", leaf->key_type,
		        leaf->key_bits, leaf->sig_alg);
		f->causes[0] =
		        "an old certificate (RSA < 2048 bits or a SHA-1/MD5 "
		        "signature)";
		f->causes[1] = NULL;
		f->fixes[0] =
		        "issue a new certificate (RSA 2048+ or ECDSA P-256, "
		        "SHA-256)";
		f->fixes[1] = NULL;
	}
}

/* ---- putting it together -------------------------------------------- */

static enum smtprobe_check_status worst(enum smtprobe_check_status a,
                                        enum smtprobe_check_status b)
{
	static const int rank[] = {[SMTPROBE_CK_SKIP] = 0,
	                           [SMTPROBE_CK_INFO] = 1,
	                           [SMTPROBE_CK_PASS] = 2,
	                           [SMTPROBE_CK_WARN] = 3,
	                           [SMTPROBE_CK_FAIL] = 4};
	return rank[a] >= rank[b] ? a : b;
}

/* Discovery found no port that speaks SMTP: that is the finding; no port
 * is checked in its place. */
static void no_port_answers(struct smtprobe_check_result *r)
{
	struct smtprobe_check_finding *f = &r->step[SMTPROBE_CK_TCP];
	const struct smtprobe_port_scan *sc = &r->scan;
	char ports[64] = "";
	size_t o = 0;

	for (size_t i = 0; i < sc->nports && o + 8 < sizeof(ports); i++)
		o += (size_t)snprintf(ports + o, sizeof(ports) - o, "%s%u",
		                      i ? ", " : "", sc->port[i].port);
	f->status = SMTPROBE_CK_FAIL;
	r->port = 0;
	ck_setf(f->detail, sizeof(f->detail),
	        "no SMTP service answers on %s (port%s %s); first: %s", r->host,
	        sc->nports == 1 ? "" : "s", ports,
	        sc->nports ? sc->port[0].error : "none tried");
	if (sc->nports)
		ck_diagnose(f, smtprobe_kb_failure(&sc->port[0].failure));
}

static int check_ladder(const struct smtprobe_check_params *p,
                        struct smtprobe_check_result *r)
{
	struct smtprobe_params q = p->session;

	smtprobe_software_init(&r->software);
	ck_setf(r->host, sizeof(r->host), "%s", p->session.host);
	r->port = p->session.port;
	if (check_dns(p, r) == 0) {
		if (p->discover) {
			r->scanned = 1;
			smtprobe_discover(&p->session, p->ports, p->nports,
			                  &r->scan);
			if (r->scan.best < 0) {
				no_port_answers(r);
				ck_checklist(p, r);
				return r->exit_code;
			}
			const struct smtprobe_port_probe *b =
			        &r->scan.port[r->scan.best];
			q.port = b->port;
			r->port = b->port;
			if (b->tls == SMTPROBE_TLSMODE_IMPLICIT)
				q.tls = SMTPROBE_TLSMODE_IMPLICIT;
			else if (q.tls == SMTPROBE_TLSMODE_IMPLICIT ||
			         q.tls == SMTPROBE_TLSMODE_AUTO)
				q.tls = SMTPROBE_TLSMODE_OPTIONAL;
		}
		q.quit_after = SMTPROBE_ST_LAST;
		if (!q.mail_from || q.nrcpt == 0)
			q.quit_after = q.mail_from ? SMTPROBE_ST_MAIL
			                           : SMTPROBE_ST_AUTH;
		else if (!p->send)
			q.quit_after = SMTPROBE_ST_RCPT;
		if (!q.mail_from)
			q.mail_from = "<>";
		q.tls_verify = p->session.tls_verify;
		r->ladder = q;
		smtprobe_send(&q, &r->session);
		ck_judge_session(p, r);
		ck_check_relay(p, r);
		smtprobe_software_learn(&r->software, &r->session);
		if (r->relay_ran)
			smtprobe_software_learn(&r->software, &r->relay);
		ck_fixes_for_software(r);
	}
	ck_checklist(p, r);
	return r->exit_code;
}

int smtprobe_check_run(const struct smtprobe_check_params *p,
                       struct smtprobe_check_result *r)
{
	memset(r, 0, sizeof(*r));
	uint64_t t0 = uv_hrtime();
	check_ladder(p, r);
	r->ms = (double)(uv_hrtime() - t0) / 1e6;
	return r->exit_code;
}

/* The step a failure in this stage belongs to (CK_LAST: none). */
static enum smtprobe_check_step step_of_stage(enum smtprobe_stage st)
{
	switch (st) {
	case SMTPROBE_ST_RESOLVE:
		return SMTPROBE_CK_DNS;
	case SMTPROBE_ST_CONNECT:
		return SMTPROBE_CK_TCP;
	case SMTPROBE_ST_BANNER:
		return SMTPROBE_CK_BANNER;
	case SMTPROBE_ST_EHLO:
	case SMTPROBE_ST_EHLO2:
		return SMTPROBE_CK_EHLO;
	case SMTPROBE_ST_STARTTLS:
	case SMTPROBE_ST_TLS:
		return SMTPROBE_CK_TLS;
	case SMTPROBE_ST_AUTH:
		return SMTPROBE_CK_AUTH;
	case SMTPROBE_ST_MAIL:
		return SMTPROBE_CK_MAIL;
	case SMTPROBE_ST_RCPT:
		return SMTPROBE_CK_RCPT;
	case SMTPROBE_ST_DATA:
	case SMTPROBE_ST_DOT:
		return SMTPROBE_CK_DATA;
	default:
		return SMTPROBE_CK_LAST; /* QUIT: the transaction was over */
	}
}

void ck_judge_session(const struct smtprobe_check_params *p,
                      struct smtprobe_check_result *r)
{
	const struct smtprobe_result *s = &r->session;

	r->submission = p->session.auth || r->ladder.port == 465 ||
	                r->ladder.port == 587 || ck_implicit(r) ||
	                (s->have_ehlo && (s->ehlo.caps & SMTPROBE_CAP_AUTH)) ||
	                (s->have_ehlo_first &&
	                 (s->ehlo_first.caps & SMTPROBE_CAP_AUTH));
	check_tcp(p, r);
	check_banner_ehlo(r);
	check_tls(p, r);
	ck_check_auth(p, r);
	ck_check_envelope(p, r);
	/* A failure that left no exchange to judge (the session ended before
	 * the command went out: an unsolicited reply, a local refusal)
	 * still fails the step of its stage. */
	enum smtprobe_check_step st = step_of_stage(s->failure.stage);
	if (s->failure.kind != SMTPROBE_FAIL_NONE &&
	    s->failure.kind != SMTPROBE_FAIL_CANCELLED &&
	    st < SMTPROBE_CK_LAST && r->step[st].status == SMTPROBE_CK_SKIP) {
		struct smtprobe_check_finding *f = &r->step[st];
		f->status = SMTPROBE_CK_FAIL;
		ck_setf(f->detail, sizeof(f->detail), "%s", s->error);
		ck_diagnose(f, smtprobe_kb_failure(&s->failure));
	}
}

void ck_checklist(const struct smtprobe_check_params *p,
                  struct smtprobe_check_result *r)
{
	const struct smtprobe_check_finding *st = r->step;
	enum smtprobe_check_status *cl = r->checklist;

	/* every item is the status of the steps it sums up, so a ✘ in the
	 * checklist is always a failed step as well */
	cl[SMTPROBE_CL_REACHABLE] = st[SMTPROBE_CK_TCP].status;
	cl[SMTPROBE_CL_PORT] = st[SMTPROBE_CK_BANNER].status;
	cl[SMTPROBE_CL_TLS] =
	        st[SMTPROBE_CK_TLS].status == SMTPROBE_CK_SKIP &&
	                        r->auth_in_clear == SMTPROBE_CK_SKIP
	                ? SMTPROBE_CK_SKIP
	                : worst(st[SMTPROBE_CK_TLS].status, r->auth_in_clear);
	cl[SMTPROBE_CL_AUTH] = p->session.auth
	                               ? (r->session.auth_ok ? SMTPROBE_CK_PASS
	                                                     : SMTPROBE_CK_FAIL)
	                               : SMTPROBE_CK_SKIP;
	cl[SMTPROBE_CL_MAIL] = st[SMTPROBE_CK_MAIL].status;
	cl[SMTPROBE_CL_RCPT] = st[SMTPROBE_CK_RCPT].status;
	cl[SMTPROBE_CL_DATA] = st[SMTPROBE_CK_DATA].status;
	cl[SMTPROBE_CL_NO_RELAY_DENIAL] =
	        st[SMTPROBE_CK_RCPT].status == SMTPROBE_CK_SKIP
	                ? SMTPROBE_CK_SKIP
	        : r->rcpt_relay_denied ? st[SMTPROBE_CK_RCPT].status
	                               : SMTPROBE_CK_PASS;
	r->exit_code = 0;
	r->strict = p->strict;
	r->warnings = 0;
	for (int i = 0; i < SMTPROBE_CK_LAST; i++) {
		r->warnings += st[i].status == SMTPROBE_CK_WARN;
		if (st[i].status == SMTPROBE_CK_FAIL ||
		    (p->strict && st[i].status == SMTPROBE_CK_WARN))
			r->exit_code = 1;
	}
	for (int i = 0; i < SMTPROBE_CL_LAST; i++) {
		r->warnings += cl[i] == SMTPROBE_CK_WARN;
		if (cl[i] == SMTPROBE_CK_FAIL ||
		    (p->strict && cl[i] == SMTPROBE_CK_WARN))
			r->exit_code = 1;
	}
}

void smtprobe_check_release(struct smtprobe_check_result *r)
{
	smtprobe_result_release(&r->session);
	if (r->relay_ran)
		smtprobe_result_release(&r->relay);
}
