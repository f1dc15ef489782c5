/* probe.c - one probe of `smtprobe exporter`: a module of modules.yaml
 * (a check, a relay audit or a TLS scan with its options) run against one
 * target, its result turned into metrics (convert_*.c); and the session
 * parameters every probe and every target of `smtprobe run` start from
 * (assure_session_init). Blocks; each run has its own loop, so probes may
 * run in several threads at once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "assure_int.h"
#include "smtprobe/assure.h"
#include "banned.h"

#define DEFAULT_TIMEOUT_MS 10000u

static enum smtprobe_tls_mode session_mode(const struct smtprobe_pol_target *t,
                                           unsigned port)
{
	enum smtprobe_pol_tls tls = t->tls;
	if (!t->tls_set)
		tls = port == 465 ? SMTPROBE_POL_TLS_IMPLICIT
		                  : SMTPROBE_POL_TLS_STARTTLS;
	switch (tls) {
	case SMTPROBE_POL_TLS_IMPLICIT:
		return SMTPROBE_TLSMODE_IMPLICIT;
	case SMTPROBE_POL_TLS_NONE:
		return SMTPROBE_TLSMODE_OFF;
	case SMTPROBE_POL_TLS_OPTIONAL:
		return SMTPROBE_TLSMODE_OPTIONAL;
	case SMTPROBE_POL_TLS_STARTTLS:
		break;
	}
	return SMTPROBE_TLSMODE_REQUIRED;
}

int assure_session_init(struct assure_session *s,
                        const struct smtprobe_pol_target *t, const char *host,
                        unsigned port, unsigned deadline_ms,
                        smtprobe_env_fn env, char *err, size_t errsz)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->host, sizeof(s->host), "%s", host);
	if (port == 0)
		port = t->port;
	if (port == 0)
		port = t->tls_set && t->tls == SMTPROBE_POL_TLS_IMPLICIT ? 465
		       : t->kind == SMTPROBE_POL_RELAY                   ? 25
		                                                         : 587;
	s->port = port;
	s->mode = session_mode(t, port);
	if (t->helo)
		snprintf(s->helo, sizeof(s->helo), "%s", t->helo);
	else if (gethostname(s->helo, sizeof(s->helo) - 1) < 0 ||
	         s->helo[0] == '\0' || strchr(s->helo, ' '))
		snprintf(s->helo, sizeof(s->helo), "localhost");
	s->timeout_ms =
	        t->timeout_s ? t->timeout_s * 1000u : DEFAULT_TIMEOUT_MS;
	if (deadline_ms && s->timeout_ms > deadline_ms)
		s->timeout_ms = deadline_ms;

	struct smtprobe_params *p = &s->p;
	p->host = s->host;
	p->port = port;
	p->helo = s->helo;
	p->protocol = SMTPROBE_PROTO_ESMTP;
	p->tls = s->mode;
	p->stage_timeout_ms = s->timeout_ms;
	p->session_timeout_ms = deadline_ms ? deadline_ms : s->timeout_ms * 8;
	/* names are checked, addresses are not sent as SNI (RFC 6066) */
	int literal = strchr(host, ':') != NULL ||
	              strspn(host, "0123456789.") == strlen(host);
	p->tls_opts.sni = literal ? NULL : s->host;
	p->tls_opts.verify_host = s->host;
	if (t->tls_ca_path) {
		struct stat st;
		if (stat(t->tls_ca_path, &st) < 0) {
			snprintf(err, errsz, "tls_ca_path %s: cannot be read",
			         t->tls_ca_path);
			return -1;
		}
		if (S_ISDIR(st.st_mode))
			p->tls_opts.ca_path = t->tls_ca_path;
		else
			p->tls_opts.ca_file = t->tls_ca_path;
	}
	if (t->auth_user && s->mode == SMTPROBE_TLSMODE_OFF) {
		snprintf(
		        err, errsz,
		        "auth with tls: none would send the password in clear; "
		        "use tls: starttls or implicit");
		return -1;
	}
	if (t->auth_user) {
		if (smtprobe_policy_secret(t, env, s->secret, sizeof(s->secret),
		                           err, errsz) < 0)
			return -1;
		p->auth = 1;
		p->auth_user = t->auth_user;
		p->auth_password = s->secret;
	}
	return 0;
}

void assure_session_wipe(struct assure_session *s)
{
	volatile char *v = s->secret;
	for (size_t i = 0; i < sizeof(s->secret); i++)
		v[i] = 0;
}

void assure_check_params(const struct assure_session *s,
                         struct smtprobe_check_params *cp)
{
	memset(cp, 0, sizeof(*cp));
	cp->session = s->p;
	cp->tls_required = s->mode == SMTPROBE_TLSMODE_REQUIRED ||
	                   s->mode == SMTPROBE_TLSMODE_IMPLICIT;
}

void assure_relay_params(const struct assure_session *s,
                         const struct smtprobe_pol_target *t,
                         struct smtprobe_relay_params *rp)
{
	memset(rp, 0, sizeof(*rp));
	rp->session = s->p;
	rp->ports[0] = s->port;
	rp->nports = 1;
	rp->local_domain = t->local_domain;
	rp->external_domain = t->external_domain;
	rp->other_sender = t->other_sender;
}

void assure_tls_params(const struct assure_session *s,
                       struct smtprobe_tls_scan_params *tp)
{
	memset(tp, 0, sizeof(*tp));
	tp->host = s->host;
	tp->port = s->port;
	tp->tls = s->mode == SMTPROBE_TLSMODE_IMPLICIT
	                  ? SMTPROBE_TLSMODE_IMPLICIT
	                  : SMTPROBE_TLSMODE_REQUIRED;
	tp->helo = s->helo;
	tp->sni = s->p.tls_opts.sni;
	tp->ca_file = s->p.tls_opts.ca_file;
	tp->ca_path = s->p.tls_opts.ca_path;
	tp->timeout_ms = s->timeout_ms;
}

static int probe_check(struct assure_session *s, unsigned deadline_ms,
                       struct smtprobe_outcome *o)
{
	struct smtprobe_check_params cp;
	struct smtprobe_check_result *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return -1;
	assure_check_params(s, &cp);
	/* the relay test is a second session: both within the deadline */
	if (deadline_ms)
		cp.session.session_timeout_ms = deadline_ms / 2;
	smtprobe_check_run(&cp, r);
	smtprobe_assure_check(r, o);
	int ok = r->exit_code == 0;
	smtprobe_check_release(r);
	free(r);
	return ok;
}

static int probe_relay(struct assure_session *s,
                       const struct smtprobe_pol_target *m,
                       unsigned deadline_ms, struct smtprobe_outcome *o)
{
	struct smtprobe_relay_params rp;
	struct smtprobe_relay_report *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return -1;
	assure_relay_params(s, m, &rp);
	rp.max_ms = deadline_ms;
	smtprobe_relay_run(&rp, r);
	smtprobe_assure_relay(r, o);
	int ok = r->exit_code == 0;
	smtprobe_relay_report_free(r);
	free(r);
	return ok;
}

static int probe_tls(struct assure_session *s, unsigned deadline_ms,
                     struct smtprobe_outcome *o)
{
	struct smtprobe_tls_scan_params tp;
	struct smtprobe_tls_scan *sc = calloc(1, sizeof(*sc));
	if (sc == NULL)
		return -1;
	assure_tls_params(s, &tp);
	tp.max_ms = deadline_ms;
	smtprobe_tls_scan(&tp, sc);
	smtprobe_assure_tls(&tp, sc, o);
	int ok = smtprobe_tls_scan_exit(sc) == 0 && !sc->truncated;
	free(sc);
	return ok;
}

int smtprobe_assure_probe(const struct smtprobe_pol_target *m, const char *host,
                          unsigned port, unsigned deadline_ms,
                          smtprobe_env_fn env, struct smtprobe_outcome *o,
                          char *err, size_t errsz)
{
	struct assure_session *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	if (assure_session_init(s, m, host, port, deadline_ms, env, err,
	                        errsz) < 0) {
		assure_session_wipe(s);
		free(s);
		return -1;
	}
	int ok = -1;
	switch (m->kind) {
	case SMTPROBE_POL_CHECK:
		ok = probe_check(s, deadline_ms, o);
		break;
	case SMTPROBE_POL_RELAY:
		ok = probe_relay(s, m, deadline_ms, o);
		break;
	case SMTPROBE_POL_TLS:
		ok = probe_tls(s, deadline_ms, o);
		break;
	}
	assure_session_wipe(s);
	free(s);
	if (ok < 0)
		snprintf(err, errsz, "out of memory");
	return ok;
}
