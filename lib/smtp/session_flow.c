/* session_flow.c - the stages of a client session after the connection is
 * up: what each stage sends, and what each reply leads to.
 *
 * Every stage start goes through flow_quit_before(), the one rule behind
 * --quit-after; every reply handler either starts the next stage or ends
 * the session with a failure (session_fail_reply: the kind and the
 * refusing reply as values, the exit code follows). Every command goes out
 * through session_command(), which refuses to send while bytes nobody
 * asked for wait. Pipelined commands (RFC 2920) are sent together and
 * their replies handled one by one, in order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "result_int.h"
#include "session_int.h"
#include "banned.h"

static void start_mail(struct smtprobe_session *s);
static void send_probe(struct smtprobe_session *s);

int flow_quit_before(struct smtprobe_session *s, enum smtprobe_stage next)
{
	enum smtprobe_stage q = s->p->quit_after;

	if (q >= SMTPROBE_ST_LAST ||
	    session_stage_rank(next) <= session_stage_rank(q))
		return 0;
	session_quit(s);
	return 1;
}

void flow_start_tls(struct smtprobe_session *s)
{
	struct smtprobe_tls_opts o = s->p->tls_opts;

	session_set_stage(s, SMTPROBE_ST_TLS);
	if (s->p->raw_tls_hello) {
		s->raw_tls = 1;
		s->res->have_raw_tls = 1;
		s->t_cmd = uv_hrtime();
		if (conn_send(s->c, (const char *)s->p->raw_tls_hello,
		              s->p->raw_tls_hello_len) < 0) {
			session_fail(s, SMTPROBE_FAIL_INTERNAL, 0,
			             "cannot send the hello");
			return;
		}
		session_arm(s);
		return;
	}
	if (conn_start_tls(s->c, &o) < 0) {
		struct smtprobe_tls_failure tf = {.error = SMTPROBE_TLSE_LOCAL,
		                                  .alert = -1};
		struct fail_facts ff = {.tls = &tf};
		session_fail_with(s, SMTPROBE_FAIL_TLS, &ff, 0,
		                  "cannot start TLS: %s", s->c->err);
		return;
	}
	/* The handshake time starts with the ClientHello: setting up the
	 * context is our work, not the server's. */
	s->t_cmd = uv_hrtime();
	session_arm(s);
}

void flow_start_banner(struct smtprobe_session *s)
{
	if (flow_quit_before(s, SMTPROBE_ST_BANNER))
		return;
	session_set_stage(s, SMTPROBE_ST_BANNER);
	s->expecting = 1;
	s->t_cmd = uv_hrtime();
	result_add_exchange(s->res, SMTPROBE_ST_BANNER, NULL, 1);
	session_arm(s);
}

void flow_start_greeting(struct smtprobe_session *s, enum smtprobe_stage st)
{
	char line[SMTPROBE_MAX_HOSTNAME + 16];
	const char *verb = "EHLO";

	if (flow_quit_before(s, st))
		return;
	if (s->p->protocol == SMTPROBE_PROTO_LMTP)
		verb = "LHLO";
	else if (s->p->protocol == SMTPROBE_PROTO_SMTP || s->helo_fallback)
		verb = "HELO";
	s->res->greeting = verb[0] == 'L'   ? "lhlo"
	                   : verb[0] == 'H' ? "helo"
	                                    : "ehlo";
	session_set_stage(s, st);
	snprintf(line, sizeof(line), "%s %s", verb, s->p->helo);
	session_command(s, line, NULL, 1);
}

static void start_after_greeting(struct smtprobe_session *s)
{
	const struct smtprobe_params *p = s->p;
	int offered = s->res->have_ehlo &&
	              (s->res->ehlo.caps & SMTPROBE_CAP_STARTTLS);

	/* A refused STARTTLS (optional) comes back here and goes on in
	 * clear like a server that never offered it. */
	enum smtprobe_tls_mode mode = session_tls_mode(s);
	if (!s->in_tls && !s->starttls_refused &&
	    (mode == SMTPROBE_TLSMODE_REQUIRED ||
	     mode == SMTPROBE_TLSMODE_OPTIONAL)) {
		if (offered) {
			if (flow_quit_before(s, SMTPROBE_ST_STARTTLS))
				return;
			session_set_stage(s, SMTPROBE_ST_STARTTLS);
			session_command(s, "STARTTLS", NULL, 1);
			if (s->p->starttls_inject) {
				/* same write: the poll event is corked */
				char line[SMTPROBE_MAX_HOSTNAME + 16];
				int n = snprintf(line, sizeof(line), "%s\r\n",
				                 s->p->starttls_inject);
				if (n > 0 && (size_t)n < sizeof(line))
					(void)conn_send(s->c, line, (size_t)n);
				session_eventf(s, SMTPROBE_EV_SENT, "%s",
				               s->p->starttls_inject);
			}
			return;
		}
		if (mode == SMTPROBE_TLSMODE_REQUIRED) {
			session_fail(s, SMTPROBE_FAIL_TLS_UNAVAILABLE, 1,
			             "STARTTLS is not offered by %s (use "
			             "--tls-optional to go on without TLS, or "
			             "--tls-on-connect for implicit TLS)",
			             s->peer);
			return;
		}
		session_event(s, SMTPROBE_EV_INFO,
		              "STARTTLS not offered; going on without TLS");
	}
	if (p->nprobe_cmds) {
		if (flow_quit_before(s, SMTPROBE_ST_AUTH))
			return;
		session_set_stage(s, SMTPROBE_ST_AUTH);
		s->probing = 1;
		send_probe(s);
		return;
	}
	if (p->auth) {
		if (flow_quit_before(s, SMTPROBE_ST_AUTH))
			return;
		auth_begin(s);
		return;
	}
	session_after_auth(s);
}

/* The next of probe_cmds, or MAIL when they are all answered. */
static void send_probe(struct smtprobe_session *s)
{
	if (s->probe_done >= s->p->nprobe_cmds) {
		s->probing = 0;
		session_after_auth(s);
		return;
	}
	const char *cmd = s->p->probe_cmds[s->probe_done++];
	session_command(s, cmd, NULL, 1);
}

static void on_probe(struct smtprobe_session *s, struct smtprobe_reply *r)
{
	if (r->code == 421) {
		session_fail_reply(s, SMTPROBE_FAIL_COMMAND, r,
		                   "the server closed the session");
		return;
	}
	send_probe(s);
}

void session_after_auth(struct smtprobe_session *s)
{
	start_mail(s);
}

static void send_rcpts_from(struct smtprobe_session *s, size_t i)
{
	char line[SMTPROBE_MAX_ADDRESS * 2 + 16];
	const char *prm = s->p->rcpt_params;

	snprintf(line, sizeof(line), "RCPT TO:%s%s%s", s->p->rcpt[i],
	         prm ? " " : "", prm ? prm : "");
	session_command(s, line, NULL, 1);
}

static void start_mail(struct smtprobe_session *s)
{
	char line[SMTPROBE_MAX_ADDRESS * 2 + 16];
	const struct smtprobe_params *p = s->p;

	if (flow_quit_before(s, SMTPROBE_ST_MAIL))
		return;
	session_set_stage(s, SMTPROBE_ST_MAIL);
	snprintf(line, sizeof(line), "MAIL FROM:%s%s%s", p->mail_from,
	         p->mail_params ? " " : "",
	         p->mail_params ? p->mail_params : "");
	s->pipelined = p->pipeline && s->res->have_ehlo &&
	               (s->res->ehlo.caps & SMTPROBE_CAP_PIPELINING);
	if (p->pipeline && !s->pipelined)
		session_event(s, SMTPROBE_EV_INFO,
		              "PIPELINING not advertised; sending one command "
		              "at a time");
	session_command(s, line, NULL, 1);
	if (!s->pipelined || s->finished)
		return;
	/* RFC 2920: MAIL, every RCPT and DATA go out in one write; the
	 * replies come back in order and are handled one by one. */
	if (p->quit_after < SMTPROBE_ST_LAST &&
	    session_stage_rank(p->quit_after) <
	            session_stage_rank(SMTPROBE_ST_RCPT))
		return;
	for (size_t i = 0; i < p->nrcpt; i++)
		send_rcpts_from(s, i);
	int stop_before_data = p->quit_after < SMTPROBE_ST_LAST &&
	                       session_stage_rank(p->quit_after) <
	                               session_stage_rank(SMTPROBE_ST_DATA);
	if (!stop_before_data)
		session_command(s, "DATA", NULL, 1);
}

static void start_rcpt(struct smtprobe_session *s)
{
	if (flow_quit_before(s, SMTPROBE_ST_RCPT))
		return;
	session_set_stage(s, SMTPROBE_ST_RCPT);
	if (s->pipelined)
		return; /* already sent */
	send_rcpts_from(s, s->rcpt_done);
}

static void start_data(struct smtprobe_session *s)
{
	if (flow_quit_before(s, SMTPROBE_ST_DATA))
		return;
	session_set_stage(s, SMTPROBE_ST_DATA);
	if (s->pipelined)
		return;
	session_command(s, "DATA", NULL, 1);
}

/* Send the message after 354. */
static void send_message(struct smtprobe_session *s)
{
	size_t len;

	s->in_data = 0;
	char *dotted =
	        smtprobe_dotstuff(s->p->message ? s->p->message : "",
	                          s->p->message ? s->p->message_len : 0, &len);

	if (!dotted) {
		session_fail(s, SMTPROBE_FAIL_USAGE, 0,
		             "the message is too large (limit %u bytes)",
		             (unsigned)SMTPROBE_MAX_MESSAGE);
		return;
	}
	if (session_unsolicited(s, "before the message was sent")) {
		free(dotted);
		return;
	}
	session_set_stage(s, SMTPROBE_ST_DOT);
	if (conn_send(s->c, dotted, len) < 0) {
		free(dotted);
		session_fail(s, SMTPROBE_FAIL_INTERNAL, 0,
		             "cannot queue the message: output limit reached");
		return;
	}
	s->res->message_size = len;
	s->res->data_tried = 1;
	if (!s->p->suppress_data) {
		/* Show the message line by line, as swaks does. */
		size_t start = 0;
		for (size_t i = 0; i + 1 < len; i++) {
			if (dotted[i] != '\r' || dotted[i + 1] != '\n')
				continue;
			char esc[SMTPROBE_MAX_LINE];
			smtprobe_escape(esc, sizeof(esc), dotted + start,
			                i - start);
			struct smtprobe_event ev = {SMTPROBE_EV_SENT, s->in_tls,
			                            esc, 0, 1};
			if (s->p->on_event)
				s->p->on_event(&ev, s->p->event_arg);
			start = i + 2;
		}
	} else {
		session_eventf(s, SMTPROBE_EV_SENT,
		               "<message of %zu bytes suppressed>", len);
	}
	free(dotted);
	result_add_exchange(s->res, SMTPROBE_ST_DOT, ".", 1);
	s->t_cmd = uv_hrtime();
	s->expecting =
	        s->p->protocol == SMTPROBE_PROTO_LMTP ? (int)s->accepted : 1;
	session_arm(s);
}

/* ---- reply handling -------------------------------------------------- */

static void on_banner(struct smtprobe_session *s, struct smtprobe_reply *r)
{
	s->got_banner = 1;
	s->auto_decided = 1; /* TLSMODE_AUTO: it spoke first */
	if (r->code / 100 != 2) {
		session_fail_reply(s, SMTPROBE_FAIL_COMMAND, r,
		                   "the server refused the connection in its "
		                   "banner");
		return;
	}
	flow_start_greeting(s, SMTPROBE_ST_EHLO);
}

static void on_greeting(struct smtprobe_session *s, struct smtprobe_reply *r)
{
	if (r->code / 100 != 2) {
		if (s->p->protocol == SMTPROBE_PROTO_ESMTP &&
		    !s->helo_fallback && r->code / 100 == 5 &&
		    s->stage == SMTPROBE_ST_EHLO) {
			s->helo_fallback = 1;
			session_event(s, SMTPROBE_EV_INFO,
			              "EHLO refused; falling back to HELO");
			flow_start_greeting(s, SMTPROBE_ST_EHLO);
			return;
		}
		session_fail_reply(s, SMTPROBE_FAIL_COMMAND, r,
		                   s->res->greeting[0] == 'l' ? "LHLO refused"
		                   : s->res->greeting[0] == 'h'
		                           ? "HELO refused"
		                           : "EHLO refused");
		return;
	}
	if (!s->helo_fallback && s->p->protocol != SMTPROBE_PROTO_SMTP) {
		memset(&s->res->ehlo, 0, sizeof(s->res->ehlo));
		smtprobe_ehlo_parse(&s->res->ehlo, (const char *const *)r->text,
		                    r->nlines);
		s->res->have_ehlo = 1;
		if (!s->res->have_ehlo_first) {
			s->res->ehlo_first = s->res->ehlo;
			s->res->have_ehlo_first = 1;
		}
	}
	start_after_greeting(s);
}

static void on_starttls(struct smtprobe_session *s, struct smtprobe_reply *r)
{
	if (r->code != 220) {
		if (s->p->tls == SMTPROBE_TLSMODE_REQUIRED) {
			session_fail_reply(s, SMTPROBE_FAIL_TLS_UNAVAILABLE, r,
			                   "STARTTLS refused");
			return;
		}
		session_event(s, SMTPROBE_EV_INFO,
		              "STARTTLS refused; going on without TLS");
		s->starttls_refused = 1;
		start_after_greeting(s);
		return;
	}
	if (s->c->in.len > 0) {
		/* CVE-2011-0411 style injection: bytes after the 220 were
		 * sent in clear and must not be read as if inside TLS. */
		s->res->starttls_injection = 1;
		session_eventf(
		        s, SMTPROBE_EV_ERROR,
		        "%zu bytes followed the 220 to STARTTLS in clear "
		        "text; discarded (possible command injection)",
		        s->c->in.len);
		inbuf_consume(&s->c->in, s->c->in.len);
	}
	if (flow_quit_before(s, SMTPROBE_ST_TLS))
		return;
	flow_start_tls(s);
}

static void on_mail(struct smtprobe_session *s, struct smtprobe_reply *r)
{
	if (r->code / 100 != 2) {
		s->skip = s->expecting; /* pipelined RCPT/DATA replies */
		s->expecting = 0;
		session_fail_reply(s, SMTPROBE_FAIL_COMMAND, r,
		                   "MAIL FROM refused");
		return;
	}
	start_rcpt(s);
}

static void on_rcpt(struct smtprobe_session *s, struct smtprobe_reply *r)
{
	struct smtprobe_rcpt_result *rr = &s->res->rcpt[s->rcpt_done];

	rr->reply = r;
	rr->accepted = r->code / 100 == 2;
	if (rr->accepted)
		s->accepted++;
	s->rcpt_done++;
	if (s->rcpt_done < s->p->nrcpt) {
		if (!s->pipelined)
			start_rcpt(s);
		return;
	}
	if (s->accepted == 0) {
		s->skip = s->expecting; /* a pipelined DATA's reply */
		s->expecting = 0;
		session_fail_reply(s, SMTPROBE_FAIL_COMMAND, r,
		                   "no recipient accepted");
		return;
	}
	start_data(s);
}

static void on_data(struct smtprobe_session *s, struct smtprobe_reply *r)
{
	if (r->code != 354) {
		session_fail_reply(s, SMTPROBE_FAIL_COMMAND, r,
		                   "DATA refused (expected 354)");
		return;
	}
	s->in_data = 1;
	if (flow_quit_before(s, SMTPROBE_ST_DOT))
		return;
	send_message(s);
}

static void on_dot(struct smtprobe_session *s, struct smtprobe_reply *r)
{
	if (s->p->protocol == SMTPROBE_PROTO_LMTP) {
		/* One reply per accepted recipient, in RCPT order. */
		while (s->lmtp_done < s->res->nrcpt &&
		       !s->res->rcpt[s->lmtp_done].accepted)
			s->lmtp_done++;
		if (s->lmtp_done < s->res->nrcpt)
			s->res->rcpt[s->lmtp_done++].delivery = r;
		if (r->code / 100 == 2)
			s->res->message_reply = r;
		else if (!s->res->message_reply)
			s->res->message_reply = r;
		if (s->expecting > 0)
			return;
		int delivered = 0;
		for (size_t i = 0; i < s->res->nrcpt; i++)
			if (s->res->rcpt[i].delivery &&
			    s->res->rcpt[i].delivery->code / 100 == 2)
				delivered++;
		if (!delivered) {
			session_fail_reply(
			        s, SMTPROBE_FAIL_COMMAND, r,
			        "message refused for every recipient");
			return;
		}
		session_quit(s);
		return;
	}
	s->res->message_reply = r;
	if (r->code / 100 != 2) {
		session_fail_reply(s, SMTPROBE_FAIL_COMMAND, r,
		                   "message refused after the final dot");
		return;
	}
	session_quit(s);
}

static void on_quit(struct smtprobe_session *s, struct smtprobe_reply *r)
{
	if (s->res->failure.kind == SMTPROBE_FAIL_NONE &&
	    s->p->quit_after >= SMTPROBE_ST_LAST)
		s->res->stage = SMTPROBE_ST_QUIT;
	if (r->code != 221 && s->res->failure.kind == SMTPROBE_FAIL_NONE) {
		struct fail_facts ff = {.reply = r};
		session_fail_with(s, SMTPROBE_FAIL_COMMAND, &ff, 0,
		                  "unexpected reply to QUIT: %d", r->code);
		return;
	}
	session_finish(s);
}

void flow_on_reply(struct smtprobe_session *s, struct smtprobe_reply *r)
{
	r->latency_ms = ms_since(s->t_cmd);
	for (size_t i = 0; i < r->nlines; i++) {
		char line[SMTPROBE_MAX_LINE + 32];
		const char *raw_line = r->raw;
		(void)raw_line;
		snprintf(line, sizeof(line), "%d%s%s%s%s", r->code,
		         i + 1 < r->nlines ? "-" : " ", r->enhanced,
		         r->enhanced[0] ? " " : "", r->text[i]);
		struct smtprobe_event ev = {
		        r->code >= 400 ? SMTPROBE_EV_RECV_ERR
		                       : SMTPROBE_EV_RECV,
		        s->in_tls, line, i + 1 == r->nlines ? r->latency_ms : 0,
		        0};
		if (s->p->on_event)
			s->p->on_event(&ev, s->p->event_arg);
	}
	result_attach_reply(s->res, s->stage, r);
	if (s->skip > 0) {
		s->skip--;
		return;
	}
	switch (s->stage) {
	case SMTPROBE_ST_BANNER:
		on_banner(s, r);
		break;
	case SMTPROBE_ST_EHLO:
	case SMTPROBE_ST_EHLO2:
		on_greeting(s, r);
		break;
	case SMTPROBE_ST_STARTTLS:
		on_starttls(s, r);
		break;
	case SMTPROBE_ST_AUTH:
		if (s->probing)
			on_probe(s, r);
		else
			auth_on_reply(s, r);
		break;
	case SMTPROBE_ST_MAIL:
		on_mail(s, r);
		break;
	case SMTPROBE_ST_RCPT:
		on_rcpt(s, r);
		break;
	case SMTPROBE_ST_DATA:
		on_data(s, r);
		break;
	case SMTPROBE_ST_DOT:
		on_dot(s, r);
		break;
	case SMTPROBE_ST_QUIT:
		on_quit(s, r);
		break;
	default:
		session_fail(s, SMTPROBE_FAIL_INTERNAL, 0,
		             "internal error: a reply in stage %s, where none "
		             "is awaited",
		             smtprobe_stage_name(s->stage));
		break;
	}
}
