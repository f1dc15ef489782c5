/* check.c - the diagnostic ladder of `smtprobe check`.
 *
 * One transaction (smtprobe_send, stopped before DATA unless asked to send)
 * gives the evidence for dns, tcp, banner, ehlo, tls, auth, mail and rcpt;
 * a second one without credentials is the relay test. Each step is judged
 * from the result tree and, when it failed or warned, diagnosed from the
 * knowledge base, with the causes re-ranked by what the ladder saw (a
 * relay refusal while the server offers AUTH and the client did not use it
 * is "missing authentication" first). Never prints; the result is data. */
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uv.h>

#include "smtprobe/check.h"
#include "smtprobe/ehlo.h"
#include "banned.h"

#define CK_EXPIRY_WARN_DAYS 30
#define CK_RELAY_FROM       "<relay-test@smtprobe.invalid>"
#define CK_RELAY_TO         "<relay-test@relay-test.invalid>"

static const char *const step_names[SMTPROBE_CK_LAST] = {
        "dns",  "tcp",  "banner", "ehlo", "tls",
        "auth", "mail", "rcpt",   "data", "relay",
};
static const char *const status_names[] = {"skip", "pass", "warn", "fail"};
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
	return status_names[st];
}

const char *smtprobe_check_item_name(enum smtprobe_check_item it)
{
	return it < SMTPROBE_CL_LAST ? item_names[it] : "?";
}

static void setf(char *dst, size_t dstsz, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void setf(char *dst, size_t dstsz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, dstsz, fmt, ap);
	va_end(ap);
}

static void reply_text(const struct smtprobe_reply *r, char *out, size_t outsz)
{
	if (!r) {
		setf(out, outsz, "no reply");
		return;
	}
	setf(out, outsz, "%d%s%s %s", r->code, r->enhanced[0] ? " " : "",
	     r->enhanced, r->nlines ? r->text[0] : "");
}

/* Fill the diagnosis of a step from the knowledge base. */
static void diagnose(struct smtprobe_check_finding *f,
                     const struct smtprobe_kb_entry *e)
{
	if (!e)
		return;
	f->kb_id = e->id;
	f->reference = e->reference;
	if (!f->summary[0])
		setf(f->summary, sizeof(f->summary), "%s: %s", e->title,
		     e->meaning);
	size_t n = 0;
	while (n < SMTPROBE_CK_MAX_ITEMS - 1 && f->causes[n])
		n++;
	for (size_t i = 0; i < SMTPROBE_KB_MAX_LIST && e->causes[i] &&
	                   n < SMTPROBE_CK_MAX_ITEMS - 1;
	     i++)
		f->causes[n++] = e->causes[i];
	f->causes[n] = NULL;
	for (size_t i = 0; i < SMTPROBE_CK_MAX_ITEMS - 1 && e->fixes[i]; i++)
		f->fixes[i] = e->fixes[i];
}

static void diagnose_reply(struct smtprobe_check_finding *f,
                           const struct smtprobe_reply *r)
{
	const struct smtprobe_kb_entry *m[4];

	if (!r)
		return;
	size_t n = smtprobe_kb_lookup(r->code, r->enhanced,
	                              r->nlines ? r->text[0] : "", m, 4);
	if (n)
		diagnose(f, m[0]);
}

/* A cause written for this situation, ranked first. */
static void first_cause(struct smtprobe_check_finding *f, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
static void first_cause(struct smtprobe_check_finding *f, const char *fmt, ...)
{
	va_list ap;

	if (f->causes[0] == f->cause0) /* one composed cause per step */
		return;
	va_start(ap, fmt);
	vsnprintf(f->cause0, sizeof(f->cause0), fmt, ap);
	va_end(ap);
	memmove(&f->causes[1], &f->causes[0],
	        (SMTPROBE_CK_MAX_ITEMS - 2) * sizeof(f->causes[0]));
	f->causes[0] = f->cause0;
	f->causes[SMTPROBE_CK_MAX_ITEMS - 1] = NULL;
}

static const struct smtprobe_exchange *
last_exchange(const struct smtprobe_result *r, enum smtprobe_stage st)
{
	for (size_t i = r->nex; i-- > 0;)
		if (r->ex[i].stage == st)
			return &r->ex[i];
	return NULL;
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
		setf(f->detail, sizeof(f->detail), "cannot resolve %s: %s",
		     p->session.host, uv_strerror(rc));
		diagnose(f, smtprobe_kb_local(kind));
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
	setf(f->detail, sizeof(f->detail), "%s resolves to %s", p->session.host,
	     r->addresses);
	return 0;
}

/* ---- the transaction ---------------------------------------------- */

static void check_tcp(const struct smtprobe_check_params *p,
                      struct smtprobe_check_result *r)
{
	struct smtprobe_check_finding *f = &r->step[SMTPROBE_CK_TCP];
	const struct smtprobe_result *s = &r->session;
	const struct smtprobe_exchange *c =
	        last_exchange(s, SMTPROBE_ST_CONNECT);

	if (c) {
		f->status = SMTPROBE_CK_PASS;
		setf(f->detail, sizeof(f->detail), "connected to %s port %u",
		     s->address, r->ladder.port);
		return;
	}
	f->status = SMTPROBE_CK_FAIL;
	setf(f->detail, sizeof(f->detail), "%s", s->error);
	const char *e = s->error;
	const char *name = strstr(e, "refused")       ? "ECONNREFUSED"
	                   : strstr(e, "timeout")     ? "ETIMEDOUT"
	                   : strstr(e, "no route")    ? "EHOSTUNREACH"
	                   : strstr(e, "unreachable") ? "ENETUNREACH"
	                   : strstr(e, "reset")       ? "ECONNRESET"
	                                              : "ECONNREFUSED";
	diagnose(f, smtprobe_kb_local(name));
	if (strstr(e, "refused"))
		first_cause(f,
		            "nothing listens on port %u of %s: wrong port, "
		            "or the mail service is down",
		            r->ladder.port,
		            s->address[0] ? s->address : p->session.host);
}

/* A stage's reply judged: pass on 2xx/3xx, fail otherwise. Returns 1 when
 * the step has a verdict (ran), 0 when it never ran. */
static int judge_stage(struct smtprobe_check_finding *f,
                       const struct smtprobe_result *s, enum smtprobe_stage st,
                       const char *what)
{
	const struct smtprobe_exchange *x = last_exchange(s, st);
	char rt[600];

	if (!x)
		return 0;
	f->ms = x->ms > 0 ? x->ms : 0;
	if (!x->reply) {
		f->status = SMTPROBE_CK_FAIL;
		setf(f->detail, sizeof(f->detail), "%s: %s", what,
		     s->error[0] ? s->error : "no reply");
		const struct smtprobe_kb_entry *e = smtprobe_kb_local(
		        strstr(s->error, "timeout") ? "TIMEOUT" : "ECONNRESET");
		diagnose(f, e);
		return 1;
	}
	reply_text(x->reply, rt, sizeof(rt));
	int ok = x->reply->code / 100 == 2 || x->reply->code / 100 == 3;
	f->status = ok ? SMTPROBE_CK_PASS : SMTPROBE_CK_FAIL;
	setf(f->detail, sizeof(f->detail), "%s%s%s",
	     x->command ? x->command : "", x->command ? ": " : "", rt);
	if (!ok)
		diagnose_reply(f, x->reply);
	return 1;
}

static void check_banner_ehlo(struct smtprobe_check_result *r)
{
	const struct smtprobe_result *s = &r->session;
	struct smtprobe_check_finding *b = &r->step[SMTPROBE_CK_BANNER];
	struct smtprobe_check_finding *e = &r->step[SMTPROBE_CK_EHLO];

	if (!judge_stage(b, s, SMTPROBE_ST_BANNER, "banner")) {
		/* no banner: implicit TLS failed first (the tls step says so),
		 * or the connection never came up */
	} else if (b->status == SMTPROBE_CK_PASS) {
		const struct smtprobe_exchange *x =
		        last_exchange(s, SMTPROBE_ST_BANNER);
		setf(b->detail, sizeof(b->detail), "%d %s (%.1f ms)",
		     x->reply->code, x->reply->nlines ? x->reply->text[0] : "",
		     x->ms);
	}
	if (!judge_stage(e, s, SMTPROBE_ST_EHLO, "EHLO"))
		return;
	if (e->status == SMTPROBE_CK_PASS && s->have_ehlo) {
		const struct smtprobe_ehlo *h = &s->ehlo;
		setf(e->detail, sizeof(e->detail),
		     "%s greets as %s; AUTH: %s; STARTTLS: %s; SIZE %llu",
		     s->greeting[0] == 'h' ? "HELO (EHLO refused):" : "EHLO:",
		     h->host, h->auth[0] ? h->auth : "not offered",
		     (s->ehlo_first.caps & SMTPROBE_CAP_STARTTLS)
		             ? "offered"
		             : "not offered",
		     h->size);
		if (s->greeting[0] == 'h') {
			e->status = SMTPROBE_CK_WARN;
			setf(e->summary, sizeof(e->summary),
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
		if (offered || r->ladder.tls == SMTPROBE_TLSMODE_IMPLICIT) {
			if (s->exit_code != SMTPROBE_EXIT_TLS)
				return; /* never got as far as TLS */
			f->status = SMTPROBE_CK_FAIL;
			setf(f->detail, sizeof(f->detail), "%s", s->error);
			const char *m =
			        strstr(s->error, "version")
			                ? "wrong version number"
			        : strstr(s->error, "protocol")
			                ? "unsupported protocol"
			        : strstr(s->error, "cipher")
			                ? "no shared cipher"
			                : "sslv3 alert handshake failure";
			diagnose(f, smtprobe_kb_local(m));
			if (!f->summary[0])
				setf(f->summary, sizeof(f->summary),
				     "the TLS handshake failed: %s", s->error);
			if (r->ladder.tls == SMTPROBE_TLSMODE_IMPLICIT &&
			    strstr(s->error, "version"))
				first_cause(
				        f, "implicit TLS against a port that "
				           "speaks plain SMTP / STARTTLS: use "
				           "--tls (STARTTLS) here, or port 465 "
				           "for implicit TLS");
			return;
		}
		if (!s->have_ehlo_first)
			return;
		f->status =
		        p->tls_required ? SMTPROBE_CK_FAIL : SMTPROBE_CK_WARN;
		setf(f->detail, sizeof(f->detail),
		     "STARTTLS is not offered: mail and any credentials travel "
		     "in clear");
		setf(f->summary, sizeof(f->summary),
		     "no TLS: anyone on the path can read the mail");
		f->causes[0] = "TLS is not configured on this port";
		f->causes[1] =
		        "a middlebox strips STARTTLS from the EHLO reply";
		f->causes[2] = NULL;
		f->fixes[0] =
		        "Postfix: smtpd_tls_cert_file, smtpd_tls_key_file "
		        "and smtpd_tls_security_level = may (or encrypt on "
		        "submission)";
		f->fixes[1] =
		        "use port 465 (implicit TLS) or 587 with STARTTLS";
		f->fixes[2] = NULL;
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
		f->status = SMTPROBE_CK_WARN;
		const char *why =
		        t->verify_ok ? "hostname mismatch" : t->verify_reason;
		if (o < sizeof(f->detail))
			snprintf(f->detail + o, sizeof(f->detail) - o,
			         "; verification failed: %s", why);
		diagnose(f, smtprobe_kb_x509(t->verify_ok ? 62 : t->verify_code,
		                             why));
		if (p->session.tls_verify)
			f->status = SMTPROBE_CK_FAIL;
		return;
	}
	if (leaf && leaf->days_left < CK_EXPIRY_WARN_DAYS) {
		f->status = SMTPROBE_CK_WARN;
		setf(f->summary, sizeof(f->summary),
		     "the certificate expires in %ld days", leaf->days_left);
		f->causes[0] = "automatic renewal is not set up or failing";
		f->causes[1] = NULL;
		f->fixes[0] =
		        "renew the certificate and reload the mail server";
		f->fixes[1] = NULL;
		return;
	}
	if (leaf &&
	    ((strcmp(leaf->key_type, "RSA") == 0 && leaf->key_bits < 2048) ||
	     strstr(leaf->sig_alg, "sha1") || strstr(leaf->sig_alg, "md5"))) {
		f->status = SMTPROBE_CK_WARN;
		setf(f->summary, sizeof(f->summary),
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
		first_cause(f,
		            "wrong user name or password for AUTH %s (the "
		            "only mechanism offered)",
		            s->auth_mech);
		return;
	}
	q.auth_mech = other;
	q.quit_after = SMTPROBE_ST_AUTH;
	q.on_event = NULL;
	memset(&alt, 0, sizeof(alt));
	smtprobe_send(&q, &alt);
	if (alt.auth_ok)
		first_cause(f,
		            "the mechanism: AUTH %s fails but AUTH %s with the "
		            "same credentials works (a server-side problem "
		            "with %s, e.g. a password backend that cannot "
		            "serve it)",
		            s->auth_mech, smtprobe_mech_name(other),
		            s->auth_mech);
	else
		first_cause(f,
		            "wrong user name or password: AUTH %s and AUTH %s "
		            "both fail",
		            s->auth_mech, smtprobe_mech_name(other));
	smtprobe_result_release(&alt);
}

static void check_auth(const struct smtprobe_check_params *p,
                       struct smtprobe_check_result *r)
{
	struct smtprobe_check_finding *f = &r->step[SMTPROBE_CK_AUTH];
	const struct smtprobe_result *s = &r->session;
	const struct smtprobe_ehlo *clear = &s->ehlo_first;

	/* The first EHLO is the one in clear, unless TLS came first. */
	if (s->have_ehlo_first && (clear->caps & SMTPROBE_CAP_AUTH) &&
	    r->ladder.tls != SMTPROBE_TLSMODE_IMPLICIT) {
		f->status = SMTPROBE_CK_WARN;
		setf(f->detail, sizeof(f->detail),
		     "AUTH (%s) is offered before TLS: credentials would "
		     "travel "
		     "in clear",
		     clear->auth);
		setf(f->summary, sizeof(f->summary),
		     "AUTH offered in clear text");
		f->causes[0] =
		        "the server offers AUTH on connections without TLS";
		f->causes[1] = NULL;
		f->fixes[0] = "Postfix: smtpd_tls_auth_only = yes";
		f->fixes[1] =
		        "Exchange: require TLS on the receive connector "
		        "(RequireTLS) / disable Basic auth over plain text";
		f->fixes[2] = NULL;
	}
	if (!p->session.auth)
		return;
	if (!s->auth_tried) {
		if (f->status == SMTPROBE_CK_SKIP &&
		    s->stage > SMTPROBE_ST_EHLO2) {
			f->status = SMTPROBE_CK_FAIL;
			setf(f->detail, sizeof(f->detail),
			     "AUTH was not tried");
		}
		return;
	}
	if (s->auth_ok) {
		if (f->status == SMTPROBE_CK_SKIP)
			f->status = SMTPROBE_CK_PASS;
		char d[300];
		setf(d, sizeof(d), "AUTH %s accepted%s", s->auth_mech,
		     s->auth_server_verified ? " (server signature verified)"
		                             : "");
		if (f->status == SMTPROBE_CK_PASS)
			setf(f->detail, sizeof(f->detail), "%s", d);
		return;
	}
	f->status = SMTPROBE_CK_FAIL;
	f->summary[0] = '\0';
	memset(f->causes, 0, sizeof(f->causes));
	memset(f->fixes, 0, sizeof(f->fixes));
	char rt[600];
	reply_text(s->auth_reply, rt, sizeof(rt));
	setf(f->detail, sizeof(f->detail), "AUTH %s: %s", s->auth_mech,
	     s->auth_reply ? rt : s->error);
	if (s->auth_reply) {
		diagnose_reply(f, s->auth_reply);
	} else {
		setf(f->summary, sizeof(f->summary), "%s", s->error);
		if (!s->have_tls && strstr(s->error, "without TLS")) {
			f->causes[0] = "the client refused to send credentials "
			               "without TLS";
			f->fixes[0] =
			        "use --tls (STARTTLS) or --tls-on-connect";
		} else if (strstr(s->error, "does not offer AUTH")) {
			f->causes[0] = "AUTH is disabled on this port, or only "
			               "offered after STARTTLS";
			f->fixes[0] =
			        "use the submission port (587) with STARTTLS";
		}
	}
	if (s->auth_reply && s->auth_reply->code == 535)
		auth_second_opinion(p, r, f);
}

static void check_envelope(const struct smtprobe_check_params *p,
                           struct smtprobe_check_result *r)
{
	const struct smtprobe_result *s = &r->session;
	struct smtprobe_check_finding *m = &r->step[SMTPROBE_CK_MAIL];
	struct smtprobe_check_finding *rc = &r->step[SMTPROBE_CK_RCPT];
	struct smtprobe_check_finding *d = &r->step[SMTPROBE_CK_DATA];

	judge_stage(m, s, SMTPROBE_ST_MAIL, "MAIL");
	if (m->status == SMTPROBE_CK_FAIL) {
		const struct smtprobe_exchange *x =
		        last_exchange(s, SMTPROBE_ST_MAIL);
		if (x && x->reply && x->reply->code == 530 && !s->have_tls)
			first_cause(m, "the server requires TLS first and the "
			               "client sent MAIL in clear");
		else if (x && x->reply && x->reply->code == 530 && !s->auth_ok)
			first_cause(m, "the server requires authentication and "
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
				reply_text(bad->reply, rt, sizeof(rt));
				setf(rc->detail, sizeof(rc->detail),
				     "RCPT TO:<%s>: %s", bad->address, rt);
				if (bad->reply->code / 100 == 4)
					rc->status = SMTPROBE_CK_WARN;
				diagnose_reply(rc, bad->reply);
				int relay = strcasestr(rt, "relay") != NULL;
				int offered =
				        s->have_ehlo &&
				        (s->ehlo.caps & SMTPROBE_CAP_AUTH);
				if (relay && offered && !s->auth_ok)
					first_cause(rc,
					            "missing authentication: "
					            "the server offers AUTH "
					            "(%s) but "
					            "the client did not "
					            "authenticate",
					            s->ehlo.auth);
				else if (relay && !s->auth_ok)
					first_cause(
					        rc,
					        "the client's address is not "
					        "trusted to relay and the "
					        "server "
					        "offers no AUTH on this "
					        "connection");
				else if (relay)
					first_cause(
					        rc,
					        "the relay policy does not "
					        "allow this recipient even for "
					        "the authenticated user");
				if (!relay && bad->reply->code / 100 == 4)
					first_cause(
					        rc,
					        "a temporary refusal (%d): the "
					        "server defers, try again "
					        "later "
					        "or fix the policy it names",
					        bad->reply->code);
			} else {
				setf(rc->detail, sizeof(rc->detail),
				     "%zu recipient(s) accepted", acc);
			}
		} else if (s->stage >= SMTPROBE_ST_RCPT && s->error[0]) {
			judge_stage(rc, s, SMTPROBE_ST_RCPT, "RCPT");
		}
	}
	if (p->send)
		judge_stage(d, s, SMTPROBE_ST_DOT, "message");
}

/* ---- the relay test ------------------------------------------------- */

static void check_relay(const struct smtprobe_check_params *p,
                        struct smtprobe_check_result *r)
{
	struct smtprobe_check_finding *f = &r->step[SMTPROBE_CK_RELAY];
	struct smtprobe_params q = r->ladder;
	const char *to[1] = {p->relay_to ? p->relay_to : CK_RELAY_TO};

	if (p->no_relay_test ||
	    r->step[SMTPROBE_CK_EHLO].status == SMTPROBE_CK_FAIL ||
	    r->step[SMTPROBE_CK_EHLO].status == SMTPROBE_CK_SKIP)
		return;
	q.auth = 0;
	q.mail_from = p->relay_from ? p->relay_from : CK_RELAY_FROM;
	q.rcpt = to;
	q.nrcpt = 1;
	q.quit_after = SMTPROBE_ST_RCPT;
	q.on_event = NULL;
	q.tls_verify = 0;
	if (q.tls == SMTPROBE_TLSMODE_REQUIRED)
		q.tls = SMTPROBE_TLSMODE_OPTIONAL;
	smtprobe_send(&q, &r->relay);
	r->relay_ran = 1;
	const struct smtprobe_result *s = &r->relay;
	char rt[600];
	if (s->nrcpt && s->rcpt[0].accepted) {
		f->status = SMTPROBE_CK_FAIL;
		reply_text(s->rcpt[0].reply, rt, sizeof(rt));
		setf(f->detail, sizeof(f->detail),
		     "OPEN RELAY: without authentication, MAIL FROM:%s RCPT "
		     "TO:%s "
		     "was accepted (%s)",
		     q.mail_from, to[0], rt);
		setf(f->summary, sizeof(f->summary),
		     "open relay: the server accepts mail from anyone to "
		     "anyone");
		f->causes[0] = "trusted networks too broad (Postfix mynetworks "
		               "covering everyone, e.g. 0.0.0.0/0)";
		f->causes[1] =
		        "a permissive relay rule (smtpd_relay_restrictions "
		        "permitting before reject_unauth_destination, an "
		        "'OK' sender or HELO access rule)";
		f->causes[2] = "an Exchange receive connector with anonymous "
		               "relay permission for all addresses";
		f->causes[3] = NULL;
		f->fixes[0] =
		        "Postfix: mynetworks = 127.0.0.0/8 [::1]/128 plus "
		        "only the hosts that must relay";
		f->fixes[1] = "Postfix: smtpd_relay_restrictions = "
		              "permit_mynetworks, permit_sasl_authenticated, "
		              "reject_unauth_destination";
		f->fixes[2] =
		        "Exchange: remove Ms-Exch-SMTP-Accept-Any-Recipient "
		        "for anonymous users on the connector";
		f->fixes[3] = NULL;
		f->reference = "RFC 2505; RFC 5321 3.6";
		return;
	}
	const struct smtprobe_exchange *x = last_exchange(s, SMTPROBE_ST_RCPT);
	if (!x)
		x = last_exchange(s, SMTPROBE_ST_MAIL);
	if (x && x->reply && x->reply->code >= 400) {
		f->status = SMTPROBE_CK_PASS;
		reply_text(x->reply, rt, sizeof(rt));
		setf(f->detail, sizeof(f->detail),
		     "relaying without authentication is refused: %s", rt);
		return;
	}
	setf(f->detail, sizeof(f->detail), "relay test inconclusive: %s",
	     s->error[0] ? s->error : "no answer");
	f->status = SMTPROBE_CK_WARN;
}

/* ---- putting it together -------------------------------------------- */

static enum smtprobe_check_status item(enum smtprobe_check_status st)
{
	return st == SMTPROBE_CK_WARN ? SMTPROBE_CK_PASS : st;
}

int smtprobe_check_run(const struct smtprobe_check_params *p,
                       struct smtprobe_check_result *r)
{
	struct smtprobe_params q = p->session;

	memset(r, 0, sizeof(*r));
	setf(r->host, sizeof(r->host), "%s", p->session.host);
	r->port = p->session.port;
	if (check_dns(p, r) == 0) {
		if (p->discover) {
			r->scanned = 1;
			smtprobe_check_ports(&p->session, p->ports, p->nports,
			                     &r->scan);
			if (r->scan.best >= 0) {
				const struct smtprobe_port_probe *b =
				        &r->scan.port[r->scan.best];
				q.port = b->port;
				r->port = b->port;
				if (b->tls == SMTPROBE_TLSMODE_IMPLICIT)
					q.tls = SMTPROBE_TLSMODE_IMPLICIT;
				else if (q.tls == SMTPROBE_TLSMODE_IMPLICIT)
					q.tls = SMTPROBE_TLSMODE_OPTIONAL;
			}
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
		check_tcp(p, r);
		check_banner_ehlo(r);
		check_tls(p, r);
		check_auth(p, r);
		check_envelope(p, r);
		check_relay(p, r);
	}
	r->checklist[SMTPROBE_CL_REACHABLE] =
	        item(r->step[SMTPROBE_CK_TCP].status);
	r->checklist[SMTPROBE_CL_PORT] =
	        item(r->step[SMTPROBE_CK_BANNER].status);
	/* TLS negotiated counts, even with a certificate warning (that is
	 * in the tls step); no TLS where it was expected does not. */
	r->checklist[SMTPROBE_CL_TLS] =
	        r->step[SMTPROBE_CK_TLS].status == SMTPROBE_CK_SKIP
	                ? SMTPROBE_CK_SKIP
	        : r->session.have_tls && r->step[SMTPROBE_CK_TLS].status !=
	                                         SMTPROBE_CK_FAIL
	                ? SMTPROBE_CK_PASS
	                : SMTPROBE_CK_FAIL;
	r->checklist[SMTPROBE_CL_AUTH] =
	        p->session.auth ? (r->session.auth_ok ? SMTPROBE_CK_PASS
	                                              : SMTPROBE_CK_FAIL)
	                        : SMTPROBE_CK_SKIP;
	r->checklist[SMTPROBE_CL_MAIL] = item(r->step[SMTPROBE_CK_MAIL].status);
	r->checklist[SMTPROBE_CL_RCPT] = item(r->step[SMTPROBE_CK_RCPT].status);
	r->checklist[SMTPROBE_CL_DATA] = item(r->step[SMTPROBE_CK_DATA].status);
	const char *rd = r->step[SMTPROBE_CK_RCPT].kb_id;
	r->checklist[SMTPROBE_CL_NO_RELAY_DENIAL] =
	        r->step[SMTPROBE_CK_RCPT].status == SMTPROBE_CK_SKIP
	                ? SMTPROBE_CK_SKIP
	        : (strcasestr(r->step[SMTPROBE_CK_RCPT].detail, "relay") ||
	           (rd && strstr(rd, "relay")))
	                ? SMTPROBE_CK_FAIL
	                : SMTPROBE_CK_PASS;
	r->exit_code = 0;
	for (int i = 0; i < SMTPROBE_CK_LAST; i++)
		if (r->step[i].status == SMTPROBE_CK_FAIL)
			r->exit_code = 1;
	return r->exit_code;
}

void smtprobe_check_release(struct smtprobe_check_result *r)
{
	smtprobe_result_release(&r->session);
	if (r->relay_ran)
		smtprobe_result_release(&r->relay);
}
