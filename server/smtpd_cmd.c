/* smtpd_cmd.c - the commands of a `smtprobe serve` session: syntax through
 * command.c, decisions through policy.c, replies as Postfix words them.
 *
 * Promises: every command gets exactly one reply (or a fault's stand-in);
 * a client that keeps sending bad commands gets 421 after SMTPD_MAX_ERRORS;
 * AUTH failures count towards the policy's limit, and each is answered
 * after the policy's delay. What a client sent is handed to the log raw
 * (log.c escapes every value, once); what is echoed in a reply is escaped
 * here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "faults.h"
#include "throttle.h"
#include "log.h"
#include "smtpd_int.h"
#include "smtprobe/ehlo.h"
#include "smtprobe/reply.h"
#include "smtprobe/sasl_server.h"
#include "banned.h"

static const char *esc(const char *in, size_t len, char *buf, size_t bufsz)
{
	smtprobe_escape(buf, bufsz, in, len);
	return buf;
}

/* A refusal from the policy: "CODE ENH TEXT". */
static void reply_verdict_line(struct smtpd *s, const struct srv_verdict *v)
{
	smtpd_reply(s, "%d %s %s", v->code, v->enhanced, v->text);
}

static int count_error(struct smtpd *s)
{
	s->srv->stats.errors++;
	if (++s->errors < SMTPD_MAX_ERRORS)
		return 0;
	smtpd_reply(s, "421 4.7.0 %s Error: too many errors",
	            s->policy->hostname);
	smtpd_close_after_flush(s, "too many errors");
	return 1;
}

static int auth_offered_now(const struct smtpd *s)
{
	const struct srv_policy *p = s->policy;

	return p->offer_auth && p->mechs && (s->cl.tls || p->auth_without_tls);
}

static int starttls_offered_now(const struct smtpd *s)
{
	return !s->cl.tls && s->srv->tls &&
	       (s->l->mode == SRV_MODE_STARTTLS ||
	        s->l->mode == SRV_MODE_STARTTLS_REQUIRED);
}

/* HELO (ehlo 0), EHLO (1) or LHLO (2): an LMTP listener takes LHLO only,
 * an SMTP one HELO and EHLO. The extensions offered are remembered: MAIL
 * and RCPT parameters are checked against them. */
static void do_ehlo(struct smtpd *s, const struct srv_command *c, int ehlo)
{
	const struct srv_policy *p = s->policy;

	if ((ehlo == 2) != smtpd_lmtp(s)) {
		smtpd_reply(s, smtpd_lmtp(s) ? "500 5.5.1 Error: this is LMTP: "
		                               "say LHLO"
		                             : "502 5.5.2 Error: command not "
		                               "recognized");
		count_error(s);
		return;
	}
	if (c->arglen >= sizeof(s->helo)) {
		smtpd_reply(s, "501 5.5.2 Error: name too long");
		return;
	}
	memcpy(s->helo, c->arg, c->arglen);
	s->helo[c->arglen] = '\0';
	smtpd_reset_transaction(s);
	memset(&s->offer, 0, sizeof(s->offer));
	if (!ehlo) {
		smtpd_reply(s, "250 %s", p->hostname);
		return;
	}
	s->offer.size = 1;
	s->offer.body8 = 1;
	s->offer.smtputf8 = p->smtputf8;
	s->offer.dsn = p->dsn;
	s->offer.auth = auth_offered_now(s);
	smtpd_reply(s, "250-%s", p->hostname);
	smtpd_reply(s, "250-PIPELINING");
	if (p->max_size)
		smtpd_reply(s, "250-SIZE %lu", p->max_size);
	else
		smtpd_reply(s, "250-SIZE");
	if (starttls_offered_now(s))
		smtpd_reply(s, "250-STARTTLS");
	if (auth_offered_now(s)) {
		char list[256] = "";
		size_t o = 0;
		for (unsigned bit = 1; bit && bit <= SMTPROBE_MECH_OAUTHBEARER;
		     bit <<= 1) {
			const char *n = (p->mechs & bit)
			                        ? smtprobe_mech_name(bit)
			                        : NULL;
			if (n)
				o += (size_t)snprintf(list + o,
				                      sizeof(list) - o, "%s%s",
				                      o ? " " : "", n);
		}
		smtpd_reply(s, "250-AUTH %s", list);
	}
	smtpd_reply(s, "250-ENHANCEDSTATUSCODES");
	/* Postfix's order; the last line is whichever comes last */
	const char *tail[4];
	size_t n = 0;
	tail[n++] = "8BITMIME";
	if (p->dsn)
		tail[n++] = "DSN";
	if (p->smtputf8)
		tail[n++] = "SMTPUTF8";
	if (p->chunking)
		tail[n++] = "CHUNKING";
	for (size_t i = 0; i < n; i++)
		smtpd_reply(s, "250%c%s", i + 1 < n ? '-' : ' ', tail[i]);
}

static void do_starttls(struct smtpd *s)
{
	if (s->cl.tls) {
		smtpd_reply(s, "554 5.5.1 Error: TLS already active");
		return;
	}
	if (!starttls_offered_now(s)) {
		smtpd_reply(s, "502 5.5.1 Error: command not implemented");
		return;
	}
	smtpd_reply(s, "220 2.0.0 Ready to start TLS");
	s->tls_pending = 1; /* TLS begins when the 220 has gone out */
	smtpd_begin_tls(s);
}

/* ---- AUTH ------------------------------------------------------------- */

static const char *lookup_password(void *arg, const char *user)
{
	const struct srv_user *u = srv_policy_user(arg, user);

	return u ? u->password : NULL;
}

static void auth_failed(struct smtpd *s, const char *why)
{
	const struct srv_policy *p = s->policy;
	const char *claimed =
	        s->sasl ? smtprobe_sasl_server_claimed(s->sasl) : "";

	s->srv->stats.auth_failed++;
	s->auth_failures++;
	/* log.c escapes every value: raw bytes go in, once */
	srv_log_event(s->srv->log, "auth-failed", "client", s->client, "user",
	              claimed, "reason", why, NULL);
	if (s->sasl) {
		smtprobe_sasl_server_free(s->sasl);
		s->sasl = NULL;
	}
	s->state = SMTPD_CMD;
	smtpd_delay(s, p->auth_fail_delay_ms);
	smtpd_reply(s, "535 5.7.8 Error: authentication failed: %s", why);
}

static void auth_step(struct smtpd *s, const char *in, size_t len)
{
	const char *chal = NULL;
	int rc = smtprobe_sasl_server_step(s->sasl, in, len, &chal);

	if (rc == SMTPROBE_SASL_MORE) {
		s->state = SMTPD_AUTH;
		smtpd_reply(s, "334 %s", chal ? chal : "");
		return;
	}
	if (rc == SMTPROBE_SASL_OK) {
		const char *u = smtprobe_sasl_server_user(s->sasl);
		snprintf(s->auth_user, sizeof(s->auth_user), "%s", u);
		s->cl.auth_user = s->auth_user;
		s->state = SMTPD_CMD;
		s->srv->stats.auth_ok++;
		srv_log_event(s->srv->log, "auth", "client", s->client, "user",
		              s->auth_user, "mechanism",
		              smtprobe_mech_name(s->auth_mech), NULL);
		smtprobe_sasl_server_free(s->sasl);
		s->sasl = NULL;
		smtpd_reply(s, "235 2.7.0 Authentication successful");
		return;
	}
	if (rc == SMTPROBE_SASL_E_AUTH) {
		auth_failed(s, "authentication failure");
		return;
	}
	smtprobe_sasl_server_free(s->sasl);
	s->sasl = NULL;
	s->state = SMTPD_CMD;
	smtpd_reply(s, "501 5.5.2 Error: malformed authentication data");
	count_error(s);
}

static void do_auth(struct smtpd *s, const struct srv_command *c)
{
	const struct srv_policy *p = s->policy;
	struct srv_verdict v;
	char err[256];

	if (!s->helo[0]) {
		smtpd_reply(s, "503 5.5.1 Error: send HELO/EHLO first");
		return;
	}
	if (s->auth_user[0]) {
		smtpd_reply(s, "503 5.5.1 Error: already authenticated");
		return;
	}
	/* N failures are answered 535; the attempt after them ends it. */
	if (p->auth_fail_limit && s->auth_failures >= p->auth_fail_limit) {
		smtpd_reply(s,
		            "421 4.7.0 %s Error: too many failed "
		            "authentication attempts",
		            p->hostname);
		smtpd_close_after_flush(s, "auth failure limit");
		return;
	}
	if (s->has_mail) {
		smtpd_reply(s, "503 5.5.1 Error: MAIL transaction in progress");
		return;
	}
	if (srv_check_auth(p, &s->cl, &v) != 0) {
		reply_verdict_line(s, &v);
		return;
	}
	const char *sp = memchr(c->arg, ' ', c->arglen);
	size_t mlen = sp ? (size_t)(sp - c->arg) : c->arglen;
	unsigned mech = smtprobe_mech_from_name(c->arg, mlen);
	if (!mech || !(p->mechs & mech)) {
		smtpd_reply(s,
		            "504 5.5.4 Unsupported authentication mechanism");
		return;
	}
	if (smtprobe_sasl_server_new(&s->sasl, mech, p->hostname,
	                             lookup_password, (void *)p, err,
	                             sizeof(err)) < 0) {
		smtpd_reply(s, "454 4.7.0 Temporary authentication failure");
		return;
	}
	s->auth_mech = mech;
	if (sp)
		auth_step(s, sp + 1, c->arglen - mlen - 1);
	else
		auth_step(s, NULL, 0);
}

/* ---- the envelope ------------------------------------------------------ */

static void do_mail(struct smtpd *s, const struct srv_command *c)
{
	const struct srv_policy *p = s->policy;
	struct srv_verdict v;
	char sender[SRV_MAX_NAME];

	if (!s->helo[0]) {
		smtpd_reply(s, "503 5.5.1 Error: send HELO/EHLO first");
		return;
	}
	if (s->has_mail) {
		smtpd_reply(s, "503 5.5.1 Error: nested MAIL command");
		return;
	}
	if (c->pathlen >= sizeof(sender)) {
		smtpd_reply(s, "501 5.1.7 Bad sender address syntax");
		return;
	}
	memcpy(sender, c->path, c->pathlen);
	sender[c->pathlen] = '\0';
	if (s->l->mode == SRV_MODE_STARTTLS_REQUIRED && !s->cl.tls) {
		smtpd_reply(s, "530 5.7.0 Must issue a STARTTLS command first");
		return;
	}
	struct srv_mail_params mp;
	char why[128];
	if (srv_mail_params_parse(c->params, c->paramslen, &s->offer, &mp, why,
	                          sizeof(why)) != 0) {
		smtpd_reply(s, "%s", why);
		count_error(s);
		return;
	}
	if (p->max_size && mp.has_size && mp.size > p->max_size) {
		smtpd_reply(s, "552 5.3.4 Message size exceeds fixed limit");
		return;
	}
	/* RFC 6531 3.4: an address beyond ASCII only with SMTPUTF8, and
	 * then only as UTF-8 */
	if (srv_has_8bit(sender, strlen(sender)) &&
	    (!mp.smtputf8 || !srv_utf8_valid(sender, strlen(sender)))) {
		smtpd_reply(s,
		            mp.smtputf8
		                    ? "553 5.6.7 Malformed UTF-8 in the sender "
		                      "address"
		                    : "553 5.6.7 Must declare SMTPUTF8 to send "
		                      "unicode address");
		return;
	}
	if (srv_check_mail(p, &s->cl, sender, &v) != 0) {
		srv_log_event(s->srv->log, "mail-refused", "client", s->client,
		              "from", sender, "reason", v.reason, NULL);
		reply_verdict_line(s, &v);
		return;
	}
	if (s->auth_user[0]) {
		const struct srv_user *u = srv_policy_user(p, s->auth_user);
		unsigned rate = u && u->msg_rate ? u->msg_rate : p->msg_rate;
		if (rate &&
		    srv_throttle_message(s->srv->throttle, s->auth_user,
		                         uv_now(s->srv->loop) / 1000.0, rate)) {
			smtpd_reply(s, "450 4.7.1 Error: too much mail from %s",
			            s->auth_user);
			return;
		}
	}
	memcpy(s->mail_from, sender, strlen(sender) + 1);
	s->mailp = mp;
	s->has_mail = 1;
	smtpd_reply(s, "250 2.1.0 Ok");
}

static void do_rcpt(struct smtpd *s, const struct srv_command *c)
{
	const struct srv_policy *p = s->policy;
	struct srv_verdict v;
	char rcpt[SRV_MAX_NAME], shown[SRV_MAX_NAME * 2];

	if (!s->has_mail) {
		smtpd_reply(s, "503 5.5.1 Error: need MAIL command");
		return;
	}
	if (c->pathlen >= sizeof(rcpt)) {
		smtpd_reply(s, "501 5.1.3 Bad recipient address syntax");
		return;
	}
	memcpy(rcpt, c->path, c->pathlen);
	rcpt[c->pathlen] = '\0';
	struct srv_rcpt_params rp;
	char why[128];
	if (srv_rcpt_params_parse(c->params, c->paramslen, &s->offer, &rp, why,
	                          sizeof(why)) != 0) {
		smtpd_reply(s, "%s", why);
		count_error(s);
		return;
	}
	if (srv_has_8bit(rcpt, strlen(rcpt)) &&
	    (!s->mailp.smtputf8 || !srv_utf8_valid(rcpt, strlen(rcpt)))) {
		smtpd_reply(s,
		            s->mailp.smtputf8
		                    ? "553 5.6.7 Malformed UTF-8 in the "
		                      "recipient address"
		                    : "553 5.6.7 Must declare SMTPUTF8 to send "
		                      "unicode address");
		return;
	}
	if (s->nrcpt >= SMTPD_MAX_RCPT) {
		smtpd_reply(s, "452 4.5.3 Error: too many recipients");
		return;
	}
	if (srv_check_rcpt(p, &s->cl, s->mail_from, rcpt, s->nrcpt, &v) != 0) {
		s->srv->stats.rcpt_refused++;
		srv_log_event(s->srv->log, "rcpt-refused", "client", s->client,
		              "from", s->mail_from, "to", rcpt, "reason",
		              v.reason, "user",
		              s->auth_user[0] ? s->auth_user : NULL, NULL);
		reply_verdict_line(s, &v);
		return;
	}
	if (p->greylist_secs &&
	    srv_throttle_greylist(s->srv->throttle, s->ip, s->mail_from, rcpt,
	                          uv_now(s->srv->loop) / 1000.0,
	                          p->greylist_secs)) {
		s->srv->stats.rcpt_refused++;
		srv_log_event(s->srv->log, "rcpt-refused", "client", s->client,
		              "to", rcpt, "reason", "greylisted", NULL);
		/* the reply goes to the client: escaped (log.c does not see
		 * it) */
		esc(rcpt, strlen(rcpt), shown, sizeof(shown));
		smtpd_reply(s,
		            "451 4.7.1 <%s>: Recipient address rejected: "
		            "Greylisted, try again later",
		            shown);
		return;
	}
	s->rcpt[s->nrcpt] = strdup(rcpt);
	s->rcpt_orcpt[s->nrcpt] = rp.orcpt[0] ? strdup(rp.orcpt) : NULL;
	if (!s->rcpt[s->nrcpt] || (rp.orcpt[0] && !s->rcpt_orcpt[s->nrcpt])) {
		free(s->rcpt[s->nrcpt]);
		free(s->rcpt_orcpt[s->nrcpt]);
		s->rcpt_orcpt[s->nrcpt] = NULL;
		smtpd_reply(s, "452 4.3.1 Insufficient system storage");
		return;
	}
	s->rcpt_notify[s->nrcpt] = rp.notify;
	s->nrcpt++;
	s->srv->stats.rcpt_ok++;
	srv_log_event(s->srv->log, "rcpt", "client", s->client, "from",
	              s->mail_from, "to", rcpt, "user",
	              s->auth_user[0] ? s->auth_user : NULL, NULL);
	smtpd_reply(s, "250 2.1.5 Ok");
}

static void do_data(struct smtpd *s)
{
	if (!s->has_mail) {
		smtpd_reply(s, "503 5.5.1 Error: need MAIL command");
		return;
	}
	if (s->nrcpt == 0) {
		smtpd_reply(s, "554 5.5.1 Error: no valid recipients");
		return;
	}
	if (s->bdat) { /* RFC 3030 2: not both in one transaction */
		smtpd_reply(s, "503 5.5.1 Error: BDAT in progress, no DATA");
		return;
	}
	smtpd_data_begin(s);
	smtpd_touch(s);
	smtpd_reply(s, "354 End data with <CR><LF>.<CR><LF>");
}

/* BDAT SIZE [LAST] (RFC 3030): the chunk's bytes follow the command at
 * once, so they are read even when the command is refused - else they
 * would be taken for commands. */
static void do_bdat(struct smtpd *s, const struct srv_command *c)
{
	uint64_t size;
	int last;
	char why[128];

	if (!s->policy->chunking) {
		smtpd_reply(s, "502 5.5.2 Error: command not recognized");
		count_error(s);
		return;
	}
	if (srv_bdat_parse(c->arg, c->arglen, &size, &last, why, sizeof(why)) !=
	    0) {
		/* no size to skip: the session cannot go on reliably */
		smtpd_reply(s, "%s", why);
		smtpd_close_after_flush(s, "bad BDAT");
		return;
	}
	const char *refusal = NULL;
	if (!s->has_mail)
		refusal = "503 5.5.1 Error: need MAIL command";
	else if (s->nrcpt == 0)
		refusal = "554 5.5.1 Error: no valid recipients";
	smtpd_bdat_chunk(s, size, last, refusal);
}

/* ---- dispatch ----------------------------------------------------------- */

void smtpd_command(struct smtpd *s, const char *line, size_t len)
{
	struct srv_command c;
	const char *bad = NULL;

	if (s->state == SMTPD_AUTH) {
		if (len == 1 && line[0] == '*') {
			smtprobe_sasl_server_free(s->sasl);
			s->sasl = NULL;
			s->state = SMTPD_CMD;
			smtpd_reply(s, "501 5.7.0 Authentication aborted");
			return;
		}
		auth_step(s, line, len);
		return;
	}
	s->ncommands++;
	if (srv_command_parse(line, len, &c, &bad) < 0) {
		smtpd_reply(s, "%s", bad);
		count_error(s);
		return;
	}
	s->counts[c.verb]++;
	if (faults_apply(s, c.name[0] ? c.name : "UNKNOWN"))
		return;
	switch (c.verb) {
	case SRV_CMD_EHLO:
		do_ehlo(s, &c, 1);
		break;
	case SRV_CMD_HELO:
		do_ehlo(s, &c, 0);
		break;
	case SRV_CMD_LHLO:
		do_ehlo(s, &c, 2);
		break;
	case SRV_CMD_BDAT:
		do_bdat(s, &c);
		break;
	case SRV_CMD_STARTTLS:
		do_starttls(s);
		break;
	case SRV_CMD_AUTH:
		do_auth(s, &c);
		break;
	case SRV_CMD_MAIL:
		do_mail(s, &c);
		break;
	case SRV_CMD_RCPT:
		do_rcpt(s, &c);
		break;
	case SRV_CMD_DATA:
		do_data(s);
		break;
	case SRV_CMD_RSET:
		smtpd_reset_transaction(s);
		smtpd_reply(s, "250 2.0.0 Ok");
		break;
	case SRV_CMD_NOOP:
		smtpd_reply(s, "250 2.0.0 Ok");
		break;
	case SRV_CMD_QUIT:
		smtpd_reply(s, "221 2.0.0 Bye");
		smtpd_close_after_flush(s, "quit");
		break;
	case SRV_CMD_VRFY:
	case SRV_CMD_EXPN:
		smtpd_reply(s, "502 5.5.1 %s command is disabled", c.name);
		break;
	case SRV_CMD_HELP:
		smtpd_reply(s, "214 2.0.0 See RFC 5321");
		break;
	case SRV_CMD_UNKNOWN:
	default:
		smtpd_reply(s, "502 5.5.2 Error: command not recognized");
		count_error(s);
		break;
	}
}
