/* session_auth.c - the AUTH stage of a client session (RFC 4954).
 *
 * Picks the mechanism (the one asked for, or the strongest offered), keeps
 * credentials off connections without TLS unless the caller allowed it,
 * runs the SASL exchange through sasl.c and redacts every payload in the
 * transcript and the result unless show_secrets. A challenge the mechanism
 * cannot use is answered with "*" (cancel), as the RFC asks, then QUIT. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session_int.h"
#include "banned.h"

#define REDACTED "<redacted>"

void auth_begin(struct smtprobe_session *s)
{
	const struct smtprobe_params *p = s->p;
	const struct smtprobe_ehlo *e = &s->res->ehlo;
	char err[256];

	session_set_stage(s, SMTPROBE_ST_AUTH);
	s->res->auth_tried = 1;
	if (!s->in_tls && !p->auth_plaintext) {
		session_fail(s, SMTPROBE_FAIL_AUTH_NEEDS_TLS, 1,
		             "refusing to send credentials to %s without TLS: "
		             "use --tls (STARTTLS) or --tls-on-connect, or "
		             "--auth-plaintext to send them in clear anyway",
		             s->peer);
		return;
	}
	if (!s->res->have_ehlo || !(e->caps & SMTPROBE_CAP_AUTH)) {
		int later = !s->in_tls && s->res->have_ehlo &&
		            (e->caps & SMTPROBE_CAP_STARTTLS);
		session_fail(s, SMTPROBE_FAIL_AUTH_UNAVAILABLE, 1,
		             "%s does not offer AUTH%s", s->peer,
		             later ? " before STARTTLS (add --tls)" : "");
		return;
	}
	unsigned mech = p->auth_mech;
	if (mech && !(e->mechs & mech)) {
		snprintf(s->res->auth_mech, sizeof(s->res->auth_mech), "%s",
		         smtprobe_mech_name(mech));
		session_fail(s, SMTPROBE_FAIL_AUTH_UNAVAILABLE, 1,
		             "%s does not offer AUTH %s (it offers: %s)",
		             s->peer, smtprobe_mech_name(mech), e->auth);
		return;
	}
	if (!mech)
		mech = smtprobe_mech_strongest(e->mechs);
	if (!mech) {
		session_fail(s, SMTPROBE_FAIL_AUTH_UNAVAILABLE, 1,
		             "none of the mechanisms %s offers is supported "
		             "(offered: %s)",
		             s->peer, e->auth);
		return;
	}
	s->auth_mech = mech;
	snprintf(s->res->auth_mech, sizeof(s->res->auth_mech), "%s",
	         smtprobe_mech_name(mech));

	struct smtprobe_sasl_params sp = {
	        .mech = mech,
	        .user = p->auth_user ? p->auth_user : "",
	        .password = p->auth_password ? p->auth_password : "",
	        .authzid = p->auth_authzid,
	        .host = p->tls_opts.sni && p->tls_opts.sni[0] ? p->tls_opts.sni
	                                                      : p->host,
	        .port = p->port,
	};
	if (smtprobe_sasl_new(&s->sasl, &sp, err, sizeof(err)) < 0) {
		session_fail(s, SMTPROBE_FAIL_AUTH_UNAVAILABLE, 1,
		             "AUTH %s: %s", s->res->auth_mech, err);
		return;
	}
	const char *initial = NULL;
	if (smtprobe_sasl_start(s->sasl, &initial) < 0) {
		session_fail(s, SMTPROBE_FAIL_AUTH_UNAVAILABLE, 1,
		             "AUTH %s: %s", s->res->auth_mech,
		             smtprobe_sasl_error(s->sasl));
		return;
	}
	size_t n =
	        strlen(s->res->auth_mech) + (initial ? strlen(initial) : 0) + 8;
	char *line = malloc(n);
	char shown[64];
	if (!line) {
		session_fail(s, SMTPROBE_FAIL_INTERNAL, 0, "out of memory");
		return;
	}
	snprintf(line, n, "AUTH %s%s%s", s->res->auth_mech, initial ? " " : "",
	         initial ? initial : "");
	snprintf(shown, sizeof(shown), "AUTH %s%s", s->res->auth_mech,
	         initial ? " " REDACTED : "");
	session_command(s, line, p->show_secrets ? NULL : shown, 1);
	explicit_bzero(line, n);
	free(line);
}

void auth_on_reply(struct smtprobe_session *s, struct smtprobe_reply *r)
{
	const char *resp = NULL;

	if (s->auth_cancelled) {
		/* the answer to our "*": whatever it says, the failure is
		 * already recorded and the session ends */
		s->res->auth_reply = r;
		session_quit(s);
		return;
	}

	if (r->code == 235) {
		s->res->auth_ok = 1;
		s->res->auth_reply = r;
		s->res->auth_server_verified =
		        smtprobe_sasl_server_verified(s->sasl);
		auth_release(s);
		session_after_auth(s);
		return;
	}
	if (r->code != 334 || !s->sasl) {
		char what[64];
		s->res->auth_reply = r;
		snprintf(what, sizeof(what), "AUTH %s failed",
		         s->res->auth_mech);
		session_fail_reply(s, SMTPROBE_FAIL_AUTH_REFUSED, r, what);
		return;
	}
	const char *chal = r->nlines ? r->text[0] : "";
	int rc = smtprobe_sasl_step(s->sasl, chal, strlen(chal), &resp);
	if (rc < 0) {
		char why[300];
		snprintf(why, sizeof(why), "%s",
		         rc == SMTPROBE_SASL_E_DECODE
		                 ? "undecodable AUTH challenge"
		                 : smtprobe_sasl_error(s->sasl));
		auth_release(s);
		/* RFC 4954 4: "*" cancels the exchange and the server answers
		 * it (501); the failure is ours, recorded first, and the
		 * session ends politely after that answer. */
		session_record_failure(s, SMTPROBE_FAIL_AUTH_UNAVAILABLE, NULL,
		                       "AUTH %s failed: %s from %s",
		                       s->res->auth_mech, why, s->peer);
		s->auth_cancelled = 1;
		session_command(s, "*", NULL, 1);
		return;
	}
	session_command(s, resp, s->p->show_secrets ? NULL : REDACTED, 1);
}

void auth_release(struct smtprobe_session *s)
{
	if (s->sasl) {
		smtprobe_sasl_free(s->sasl);
		s->sasl = NULL;
	}
}
