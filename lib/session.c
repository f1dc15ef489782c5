/* session.c - the client SMTP / LMTP state machine.
 *
 * One table gives each stage its name, the phrase used in messages and the
 * exit code a failure there maps to; session_set_stage() is the only place
 * the stage changes, and it starts the stage's deadline. Sending lives in
 * session_send(), replies arrive in session_on_reply() and are dispatched by
 * stage. --quit-after is one rule: before a stage starts, a stage ranked
 * after the quit-after stage means "QUIT now".
 *
 * Promises: replies are parsed by reply.c with its caps, so a server that
 * never ends a line or a reply, sends garbage or NUL bytes, goes silent or
 * resets the connection ends the session with an error naming the stage and
 * the cause, within the stage deadline; credentials are never sent without
 * TLS unless allowed, and never shown unless asked. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "session_int.h"
#include "result_int.h"
#include "util.h"
#include "banned.h"

struct stage_info {
	const char *name;
	const char *phrase;
	int exit_code;
	int rank; /* order for --quit-after */
};

static const struct stage_info stage_tab[SMTPROBE_ST_LAST] = {
        [SMTPROBE_ST_RESOLVE] = {"resolve", "while resolving",
                                 SMTPROBE_EXIT_CONNECT, 0},
        [SMTPROBE_ST_CONNECT] = {"connect", "while connecting",
                                 SMTPROBE_EXIT_CONNECT, 1},
        [SMTPROBE_ST_BANNER] = {"banner", "waiting for the banner",
                                SMTPROBE_EXIT_BANNER, 2},
        [SMTPROBE_ST_EHLO] = {"ehlo", "waiting for the EHLO reply",
                              SMTPROBE_EXIT_EHLO, 3},
        [SMTPROBE_ST_STARTTLS] = {"starttls", "waiting for the STARTTLS reply",
                                  SMTPROBE_EXIT_TLS, 4},
        [SMTPROBE_ST_TLS] = {"tls", "during the TLS handshake",
                             SMTPROBE_EXIT_TLS, 4},
        [SMTPROBE_ST_EHLO2] = {"ehlo",
                               "waiting for the EHLO reply after STARTTLS",
                               SMTPROBE_EXIT_EHLO, 5},
        [SMTPROBE_ST_AUTH] = {"auth", "during AUTH", SMTPROBE_EXIT_AUTH, 6},
        [SMTPROBE_ST_MAIL] = {"mail", "waiting for the MAIL FROM reply",
                              SMTPROBE_EXIT_MAIL, 7},
        [SMTPROBE_ST_RCPT] = {"rcpt", "waiting for the RCPT TO reply",
                              SMTPROBE_EXIT_RCPT, 8},
        [SMTPROBE_ST_DATA] = {"data", "waiting for the DATA reply",
                              SMTPROBE_EXIT_DATA, 9},
        [SMTPROBE_ST_DOT] = {"dot", "waiting for the reply to the final dot",
                             SMTPROBE_EXIT_DOT, 10},
        [SMTPROBE_ST_QUIT] = {"quit", "waiting for the QUIT reply",
                              SMTPROBE_EXIT_QUIT, 11},
        [SMTPROBE_ST_DONE] = {"done", "after the session", SMTPROBE_EXIT_OK,
                              12},
};

static const struct {
	const char *word;
	enum smtprobe_stage stage;
} quit_words[] = {
        {"connect", SMTPROBE_ST_CONNECT}, {"banner", SMTPROBE_ST_BANNER},
        {"first-ehlo", SMTPROBE_ST_EHLO}, {"first-helo", SMTPROBE_ST_EHLO},
        {"ehlo", SMTPROBE_ST_EHLO2},      {"helo", SMTPROBE_ST_EHLO2},
        {"lhlo", SMTPROBE_ST_EHLO2},      {"greeting", SMTPROBE_ST_EHLO2},
        {"tls", SMTPROBE_ST_TLS},         {"starttls", SMTPROBE_ST_TLS},
        {"auth", SMTPROBE_ST_AUTH},       {"mail", SMTPROBE_ST_MAIL},
        {"from", SMTPROBE_ST_MAIL},       {"rcpt", SMTPROBE_ST_RCPT},
        {"to", SMTPROBE_ST_RCPT},         {"data", SMTPROBE_ST_DATA},
        {"dot", SMTPROBE_ST_DOT},         {"message", SMTPROBE_ST_DOT},
};

const char *smtprobe_stage_name(enum smtprobe_stage st)
{
	return st < SMTPROBE_ST_LAST ? stage_tab[st].name : "none";
}

enum smtprobe_stage smtprobe_stage_from_quit_after(const char *word)
{
	for (size_t i = 0; i < sizeof(quit_words) / sizeof(quit_words[0]); i++)
		if (strcasecmp(word, quit_words[i].word) == 0)
			return quit_words[i].stage;
	return SMTPROBE_ST_LAST;
}

static double ms_since(uint64_t t)
{
	return (double)(uv_hrtime() - t) / 1e6;
}

void session_event(struct smtprobe_session *s, enum smtprobe_event_kind kind,
                   const char *text)
{
	struct smtprobe_event ev = {
	        .kind = kind, .in_tls = s->in_tls, .text = text};

	if (s->p->on_event)
		s->p->on_event(&ev, s->p->event_arg);
}

static void session_eventf(struct smtprobe_session *s,
                           enum smtprobe_event_kind kind, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void session_eventf(struct smtprobe_session *s,
                           enum smtprobe_event_kind kind, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	session_event(s, kind, buf);
}

/* ---- ending ---------------------------------------------------------- */

static void session_handle_closed(uv_handle_t *h)
{
	struct smtprobe_session *s = h->data;

	if (--s->handles == 0 && s->done)
		s->done(s, s->done_arg);
}

static void try_next_address(struct smtprobe_session *s);

/* The connection's handle is released: either the session is over, or a
 * connection attempt failed and the next address is due. */
static void session_conn_closed(struct conn *c)
{
	struct smtprobe_session *s = c->arg;

	s->handles--;
	if (!s->finished) {
		try_next_address(s);
		return;
	}
	if (s->handles == 0 && s->done)
		s->done(s, s->done_arg);
}

/* Drop a failed connection attempt; the next address follows. */
static void session_drop_attempt(struct smtprobe_session *s)
{
	s->conn_live = 0;
	conn_close(&s->conn, session_conn_closed);
}

/* Stop everything; `done` runs once the loop has released every handle. */
static void session_finish(struct smtprobe_session *s)
{
	if (s->finished)
		return;
	s->finished = 1;
	s->res->total_ms = ms_since(s->t0);
	auth_release(s);
	uv_timer_stop(&s->stage_timer);
	uv_timer_stop(&s->session_timer);
	uv_close((uv_handle_t *)&s->stage_timer, session_handle_closed);
	uv_close((uv_handle_t *)&s->session_timer, session_handle_closed);
	if (s->conn_live) {
		s->conn_live = 0;
		session_event(s, SMTPROBE_EV_INFO,
		              "Connection closed with remote host.");
		conn_close(&s->conn, session_conn_closed);
	}
}

static void on_stage_timeout(uv_timer_t *t);

static void session_set_stage(struct smtprobe_session *s,
                              enum smtprobe_stage st)
{
	unsigned ms = s->p->stage_timeout_ms ? s->p->stage_timeout_ms : 30000;

	s->stage = st;
	if (st != SMTPROBE_ST_QUIT && st != SMTPROBE_ST_DONE)
		s->res->stage = st;
	uv_timer_stop(&s->stage_timer);
	if (st != SMTPROBE_ST_DONE)
		uv_timer_start(&s->stage_timer, on_stage_timeout, ms, 0);
}

static void session_quit(struct smtprobe_session *s)
{
	if (s->finishing)
		return;
	s->finishing = 1;
	/* Before the banner, and inside DATA, QUIT would be out of place:
	 * there the polite way out is to close. */
	if (s->stage <= SMTPROBE_ST_CONNECT || s->stage == SMTPROBE_ST_DATA ||
	    s->stage == SMTPROBE_ST_TLS || !s->conn_live || s->conn.eof) {
		session_finish(s);
		return;
	}
	session_set_stage(s, SMTPROBE_ST_QUIT);
	s->expecting = 1;
	session_send(s, "QUIT", NULL);
}

void session_fail(struct smtprobe_session *s, int exit_code, int polite,
                  const char *fmt, ...)
{
	va_list ap;

	if (s->res->error[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(s->res->error, sizeof(s->res->error), fmt, ap);
		va_end(ap);
		s->res->exit_code = exit_code;
		session_event(s, SMTPROBE_EV_ERROR, s->res->error);
	}
	if (polite)
		session_quit(s);
	else
		session_finish(s);
}

/* ---- sending --------------------------------------------------------- */

/* Send one command line; `shown` replaces it in the transcript and the
 * result (for secrets), NULL = show the line itself. */
void session_send(struct smtprobe_session *s, const char *line,
                  const char *shown)
{
	size_t n = strlen(line);
	char *wire = malloc(n + 2);

	if (!wire) {
		session_fail(s, stage_tab[s->stage].exit_code, 0,
		             "out of memory");
		return;
	}
	memcpy(wire, line, n);
	memcpy(wire + n, "\r\n", 2);
	int rc = conn_send(&s->conn, wire, n + 2);
	explicit_bzero(wire, n + 2);
	free(wire);
	if (rc < 0) {
		session_fail(s, stage_tab[s->stage].exit_code, 0,
		             "cannot queue the command: output limit reached");
		return;
	}
	char esc[SMTPROBE_MAX_LINE];
	smtprobe_escape(esc, sizeof(esc), shown ? shown : line,
	                strlen(shown ? shown : line));
	session_event(s, SMTPROBE_EV_SENT, esc);
	struct smtprobe_exchange *ex =
	        result_add_exchange(s->res, s->stage, esc, 1);
	if (!ex)
		return;
	s->t_cmd = uv_hrtime();
}

/* ---- stage starts ---------------------------------------------------- */

static void start_greeting(struct smtprobe_session *s, enum smtprobe_stage st);
static void start_mail(struct smtprobe_session *s);

static int quit_before(struct smtprobe_session *s, enum smtprobe_stage next)
{
	enum smtprobe_stage q = s->p->quit_after;

	if (q >= SMTPROBE_ST_LAST || stage_tab[next].rank <= stage_tab[q].rank)
		return 0;
	session_quit(s);
	return 1;
}

static void start_tls(struct smtprobe_session *s)
{
	struct smtprobe_tls_opts o = s->p->tls_opts;

	session_set_stage(s, SMTPROBE_ST_TLS);
	s->t_cmd = uv_hrtime();
	if (conn_start_tls(&s->conn, &o) < 0)
		session_fail(s, SMTPROBE_EXIT_TLS, 0, "cannot start TLS: %s",
		             s->conn.err);
}

static void start_banner(struct smtprobe_session *s)
{
	if (quit_before(s, SMTPROBE_ST_BANNER))
		return;
	session_set_stage(s, SMTPROBE_ST_BANNER);
	s->expecting = 1;
	s->t_cmd = uv_hrtime();
	result_add_exchange(s->res, SMTPROBE_ST_BANNER, NULL, 1);
}

static void start_greeting(struct smtprobe_session *s, enum smtprobe_stage st)
{
	char line[SMTPROBE_MAX_HOSTNAME + 16];
	const char *verb = "EHLO";

	if (quit_before(s, st))
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
	s->expecting = 1;
	session_send(s, line, NULL);
}

static void start_after_greeting(struct smtprobe_session *s)
{
	const struct smtprobe_params *p = s->p;
	int offered = s->res->have_ehlo &&
	              (s->res->ehlo.caps & SMTPROBE_CAP_STARTTLS);

	if (!s->in_tls && (p->tls == SMTPROBE_TLSMODE_REQUIRED ||
	                   p->tls == SMTPROBE_TLSMODE_OPTIONAL)) {
		if (offered) {
			if (quit_before(s, SMTPROBE_ST_STARTTLS))
				return;
			session_set_stage(s, SMTPROBE_ST_STARTTLS);
			s->expecting = 1;
			session_send(s, "STARTTLS", NULL);
			return;
		}
		if (p->tls == SMTPROBE_TLSMODE_REQUIRED) {
			session_fail(s, SMTPROBE_EXIT_TLS, 1,
			             "STARTTLS is not offered by %s (use "
			             "--tls-optional to go on without TLS, or "
			             "--tls-on-connect for implicit TLS)",
			             s->peer);
			return;
		}
		session_event(s, SMTPROBE_EV_INFO,
		              "STARTTLS not offered; going on without TLS");
	}
	if (p->auth) {
		if (quit_before(s, SMTPROBE_ST_AUTH))
			return;
		auth_begin(s);
		return;
	}
	session_after_auth(s);
}

void session_after_auth(struct smtprobe_session *s)
{
	start_mail(s);
}

static void send_rcpts_from(struct smtprobe_session *s, size_t i)
{
	char line[SMTPROBE_MAX_ADDRESS + 16];

	snprintf(line, sizeof(line), "RCPT TO:%s", s->p->rcpt[i]);
	session_send(s, line, NULL);
}

static void start_mail(struct smtprobe_session *s)
{
	char line[SMTPROBE_MAX_ADDRESS + 16];
	const struct smtprobe_params *p = s->p;

	if (quit_before(s, SMTPROBE_ST_MAIL))
		return;
	session_set_stage(s, SMTPROBE_ST_MAIL);
	snprintf(line, sizeof(line), "MAIL FROM:%s", p->mail_from);
	s->pipelined = p->pipeline && s->res->have_ehlo &&
	               (s->res->ehlo.caps & SMTPROBE_CAP_PIPELINING);
	if (p->pipeline && !s->pipelined)
		session_event(s, SMTPROBE_EV_INFO,
		              "PIPELINING not advertised; sending one command "
		              "at a time");
	s->expecting = 1;
	session_send(s, line, NULL);
	if (!s->pipelined)
		return;
	/* RFC 2920: MAIL, every RCPT and DATA go out in one write; the
	 * replies come back in order and are handled one by one. */
	for (size_t i = 0; i < p->nrcpt; i++) {
		send_rcpts_from(s, i);
		s->expecting++;
	}
	int stop_before_data = p->quit_after < SMTPROBE_ST_LAST &&
	                       stage_tab[p->quit_after].rank <
	                               stage_tab[SMTPROBE_ST_DATA].rank;
	if (!stop_before_data) {
		session_send(s, "DATA", NULL);
		s->expecting++;
	}
}

static void start_rcpt(struct smtprobe_session *s)
{
	if (quit_before(s, SMTPROBE_ST_RCPT))
		return;
	session_set_stage(s, SMTPROBE_ST_RCPT);
	if (s->pipelined)
		return; /* already sent */
	s->expecting = 1;
	send_rcpts_from(s, s->rcpt_done);
}

static void start_data(struct smtprobe_session *s)
{
	if (quit_before(s, SMTPROBE_ST_DATA))
		return;
	session_set_stage(s, SMTPROBE_ST_DATA);
	if (s->pipelined)
		return;
	s->expecting = 1;
	session_send(s, "DATA", NULL);
}

/* Send the message after 354. */
static void send_message(struct smtprobe_session *s)
{
	size_t len;
	char *dotted =
	        smtprobe_dotstuff(s->p->message ? s->p->message : "",
	                          s->p->message ? s->p->message_len : 0, &len);

	if (!dotted) {
		session_fail(s, SMTPROBE_EXIT_DATA, 0,
		             "the message is too large (limit %u bytes)",
		             (unsigned)SMTPROBE_MAX_MESSAGE);
		return;
	}
	session_set_stage(s, SMTPROBE_ST_DOT);
	if (conn_send(&s->conn, dotted, len) < 0) {
		free(dotted);
		session_fail(s, SMTPROBE_EXIT_DATA, 0,
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
}

/* ---- reply handling -------------------------------------------------- */

static void on_banner(struct smtprobe_session *s, struct smtprobe_reply *r)
{
	s->got_banner = 1;
	if (r->code / 100 != 2) {
		session_fail(s, SMTPROBE_EXIT_BANNER, r->code != 421,
		             "the server refused the connection in its banner: "
		             "%d %s%s%s",
		             r->code, r->enhanced, r->enhanced[0] ? " " : "",
		             r->nlines ? r->text[0] : "");
		return;
	}
	start_greeting(s, SMTPROBE_ST_EHLO);
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
			start_greeting(s, SMTPROBE_ST_EHLO);
			return;
		}
		session_fail(s, SMTPROBE_EXIT_EHLO, r->code != 421,
		             "%s refused: %d %s%s%s",
		             s->res->greeting[0] == 'l'   ? "LHLO"
		             : s->res->greeting[0] == 'h' ? "HELO"
		                                          : "EHLO",
		             r->code, r->enhanced, r->enhanced[0] ? " " : "",
		             r->nlines ? r->text[0] : "");
		return;
	}
	if (!s->helo_fallback && s->p->protocol != SMTPROBE_PROTO_SMTP) {
		memset(&s->res->ehlo, 0, sizeof(s->res->ehlo));
		smtprobe_ehlo_parse(&s->res->ehlo, (const char *const *)r->text,
		                    r->nlines);
		s->res->have_ehlo = 1;
	}
	start_after_greeting(s);
}

static void on_starttls(struct smtprobe_session *s, struct smtprobe_reply *r)
{
	if (r->code != 220) {
		if (s->p->tls == SMTPROBE_TLSMODE_REQUIRED) {
			session_fail(s, SMTPROBE_EXIT_TLS, 1,
			             "STARTTLS refused: %d %s%s%s", r->code,
			             r->enhanced, r->enhanced[0] ? " " : "",
			             r->nlines ? r->text[0] : "");
			return;
		}
		session_event(s, SMTPROBE_EV_INFO,
		              "STARTTLS refused; going on without TLS");
		if (s->p->auth) {
			auth_begin(s);
			return;
		}
		start_mail(s);
		return;
	}
	if (s->conn.in.len > 0) {
		/* CVE-2011-0411 style injection: bytes after the 220 were
		 * sent in clear and must not be read as if inside TLS. */
		s->res->starttls_injection = 1;
		session_eventf(
		        s, SMTPROBE_EV_ERROR,
		        "%zu bytes followed the 220 to STARTTLS in clear "
		        "text; discarded (possible command injection)",
		        s->conn.in.len);
		inbuf_consume(&s->conn.in, s->conn.in.len);
	}
	if (quit_before(s, SMTPROBE_ST_TLS))
		return;
	start_tls(s);
}

static void on_mail(struct smtprobe_session *s, struct smtprobe_reply *r)
{
	if (r->code / 100 != 2) {
		s->skip = s->expecting; /* pipelined RCPT/DATA replies */
		s->expecting = 0;
		session_fail(s, SMTPROBE_EXIT_MAIL, r->code != 421,
		             "MAIL FROM refused: %d %s%s%s", r->code,
		             r->enhanced, r->enhanced[0] ? " " : "",
		             r->nlines ? r->text[0] : "");
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
		int data_pending = s->expecting > 0;
		s->skip = s->expecting;
		s->expecting = 0;
		session_fail(s, SMTPROBE_EXIT_RCPT, r->code != 421,
		             "no recipient accepted: %d %s%s%s", r->code,
		             r->enhanced, r->enhanced[0] ? " " : "",
		             r->nlines ? r->text[0] : "");
		(void)data_pending;
		return;
	}
	start_data(s);
}

static void on_data(struct smtprobe_session *s, struct smtprobe_reply *r)
{
	if (r->code != 354) {
		session_fail(s, SMTPROBE_EXIT_DATA, r->code != 421,
		             "DATA refused (expected 354): %d %s%s%s", r->code,
		             r->enhanced, r->enhanced[0] ? " " : "",
		             r->nlines ? r->text[0] : "");
		return;
	}
	if (quit_before(s, SMTPROBE_ST_DOT))
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
			session_fail(s, SMTPROBE_EXIT_DOT, 1,
			             "message refused for every recipient: %d "
			             "%s%s%s",
			             r->code, r->enhanced,
			             r->enhanced[0] ? " " : "",
			             r->nlines ? r->text[0] : "");
			return;
		}
		session_quit(s);
		return;
	}
	s->res->message_reply = r;
	if (r->code / 100 != 2) {
		session_fail(s, SMTPROBE_EXIT_DOT, r->code != 421,
		             "message refused after the final dot: %d %s%s%s",
		             r->code, r->enhanced, r->enhanced[0] ? " " : "",
		             r->nlines ? r->text[0] : "");
		return;
	}
	session_quit(s);
}

static void on_quit(struct smtprobe_session *s, struct smtprobe_reply *r)
{
	if (r->code != 221 && s->res->error[0] == '\0') {
		snprintf(s->res->error, sizeof(s->res->error),
		         "unexpected reply to QUIT: %d", r->code);
		s->res->exit_code = SMTPROBE_EXIT_QUIT;
	}
	if (s->res->error[0] == '\0' && s->p->quit_after >= SMTPROBE_ST_LAST)
		s->res->stage = SMTPROBE_ST_QUIT;
	session_finish(s);
}

static void session_on_reply(struct smtprobe_session *s,
                             struct smtprobe_reply *r)
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
		break;
	}
}

/* ---- transport callbacks --------------------------------------------- */

static void on_readable(struct conn *c)
{
	struct smtprobe_session *s = c->arg;

	while (!s->finished && (s->expecting > 0 || s->skip > 0) &&
	       c->in.len > 0) {
		struct smtprobe_reply_parse p;
		long n = smtprobe_reply_parse(c->in.data, c->in.len, &p);
		if (n == SMTPROBE_REPLY_INCOMPLETE) {
			if (inbuf_space(&c->in) == 0)
				n = SMTPROBE_REPLY_E_TOO_BIG;
			else
				return;
		}
		if (n < 0) {
			char esc[120];
			smtprobe_escape(esc, sizeof(esc), c->in.data,
			                c->in.len < 60 ? c->in.len : 60);
			session_eventf(s, SMTPROBE_EV_ERROR,
			               "unparsable data: %s%s", esc,
			               c->in.len > 60 ? "..." : "");
			session_fail(s, stage_tab[s->stage].exit_code, 0,
			             "invalid reply %s from %s: %s",
			             stage_tab[s->stage].phrase, s->peer,
			             smtprobe_reply_strerror(n));
			return;
		}
		struct smtprobe_reply *r = smtprobe_reply_build(c->in.data, &p);
		inbuf_consume(&c->in, (size_t)n);
		if (!r) {
			session_fail(s, stage_tab[s->stage].exit_code, 0,
			             "out of memory");
			return;
		}
		if (s->skip == 0 && s->expecting > 0)
			s->expecting--;
		session_on_reply(s, r);
	}
}

static void on_closed(struct conn *c, int err)
{
	struct smtprobe_session *s = c->arg;

	if (s->finished)
		return;
	if (s->stage == SMTPROBE_ST_QUIT) {
		/* Gone before answering QUIT: the transaction is over anyway.
		 */
		session_finish(s);
		return;
	}
	int code = s->stage == SMTPROBE_ST_TLS ? SMTPROBE_EXIT_TLS
	                                       : SMTPROBE_EXIT_CLOSED;
	if (err == 0)
		session_fail(s, code, 0, "connection closed by %s %s", s->peer,
		             stage_tab[s->stage].phrase);
	else if (err == -EPROTO)
		session_fail(s, code, 0, "tls error from %s %s: %s", s->peer,
		             stage_tab[s->stage].phrase, c->err);
	else
		session_fail(s, code, 0, "connection %s by %s %s",
		             err == -ECONNRESET || err == -EPIPE ? "reset"
		                                                 : "failed",
		             s->peer, stage_tab[s->stage].phrase);
}

static void on_tls_done(struct conn *c, int err)
{
	struct smtprobe_session *s = c->arg;
	struct smtprobe_tls_facts *f = &s->res->tls;

	s->res->tls_ms = ms_since(s->t_cmd);
	if (err < 0) {
		const char *why = c->err;
		if (strncmp(why, "tls handshake failed: ", 22) == 0)
			why += 22;
		session_fail(s, SMTPROBE_EXIT_TLS, 0,
		             "error during the TLS handshake with %s: %s",
		             s->peer, why);
		return;
	}
	s->in_tls = 1;
	smtprobe_tls_get_facts(c->tls, f);
	s->res->have_tls = 1;
	result_add_exchange(s->res, SMTPROBE_ST_TLS, NULL, 0);
	session_eventf(s, SMTPROBE_EV_INFO,
	               "TLS started with %s, cipher %s%s%s", f->protocol,
	               f->cipher, f->group[0] ? ", group " : "", f->group);
	for (size_t i = 0; i < f->nchain; i++) {
		const struct smtprobe_cert_facts *cf = &f->chain[i];
		session_eventf(s, SMTPROBE_EV_INFO,
		               "TLS peer[%zu] subject=[%s]", i, cf->subject);
		session_eventf(s, SMTPROBE_EV_INFO,
		               "          issuer=[%s] notAfter=[%s] (%ld days "
		               "left) %s %d, %s%s%s",
		               cf->issuer, cf->not_after, cf->days_left,
		               cf->key_type, cf->key_bits, cf->sig_alg,
		               cf->sans[0] ? " SAN=" : "", cf->sans);
	}
	int bad = !f->verify_ok || (f->host_checked && !f->host_match);
	const char *why = !f->verify_ok ? f->verify_reason
	                                : "the certificate does not match the "
	                                  "host name";
	if (!bad) {
		session_eventf(s, SMTPROBE_EV_INFO,
		               "TLS peer certificate passed verification%s",
		               f->host_checked ? " and matches the host name"
		                               : "");
	} else if (s->p->tls_verify) {
		session_fail(s, SMTPROBE_EXIT_TLS, 1,
		             "certificate verification failed for %s: %s",
		             s->peer, why);
		return;
	} else {
		session_eventf(s, SMTPROBE_EV_INFO,
		               "TLS peer certificate failed verification: %s "
		               "(not fatal without --tls-verify)",
		               why);
	}
	if (!s->got_banner) { /* implicit TLS: the banner comes inside */
		start_banner(s);
		return;
	}
	start_greeting(s, SMTPROBE_ST_EHLO2);
}

static void try_next_address(struct smtprobe_session *s);

static void on_connected(struct conn *c, int err)
{
	struct smtprobe_session *s = c->arg;

	if (err < 0) {
		session_eventf(s, SMTPROBE_EV_ERROR,
		               "connection to %s failed: %s", s->peer,
		               strerror(-err));
		snprintf(s->res->error, sizeof(s->res->error),
		         "cannot connect to %s: %s", s->peer, strerror(-err));
		session_drop_attempt(s);
		return;
	}
	s->res->error[0] = '\0';
	result_add_exchange(s->res, SMTPROBE_ST_CONNECT, NULL, 0);
	session_eventf(s, SMTPROBE_EV_INFO, "Connected to %s.", s->peer);
	if (quit_before(s, SMTPROBE_ST_BANNER))
		return;
	if (s->p->tls == SMTPROBE_TLSMODE_IMPLICIT) {
		start_tls(s);
		return;
	}
	start_banner(s);
}

static const struct conn_ops session_conn_ops = {
        .connected = on_connected,
        .readable = on_readable,
        .closed = on_closed,
        .tls_done = on_tls_done,
        .drained = NULL,
};

static void try_next_address(struct smtprobe_session *s)
{
	struct addrinfo *ai = s->ai_next;
	struct sockaddr_storage local;
	socklen_t local_len = 0;

	if (!ai) {
		if (s->res->error[0] == '\0')
			snprintf(s->res->error, sizeof(s->res->error),
			         "no usable address for %s", s->p->host);
		s->res->exit_code = SMTPROBE_EXIT_CONNECT;
		session_finish(s);
		return;
	}
	s->ai_next = ai->ai_next;
	util_format_peer(s->peer, sizeof(s->peer), ai->ai_addr);
	util_format_addr(s->res->address, sizeof(s->res->address), ai->ai_addr);
	session_set_stage(s, SMTPROBE_ST_CONNECT);
	if (s->p->local_addr &&
	    util_parse_addr(s->p->local_addr, s->p->local_port, ai->ai_family,
	                    &local, &local_len) < 0) {
		snprintf(s->res->error, sizeof(s->res->error),
		         "local interface %s is not an address of the right "
		         "family for %s",
		         s->p->local_addr, s->peer);
		try_next_address(s);
		return;
	}
	session_eventf(s, SMTPROBE_EV_INFO, "Trying %s...", s->peer);
	if (conn_init(&s->conn, s->loop, &session_conn_ops, s) < 0) {
		session_fail(s, SMTPROBE_EXIT_CONNECT, 0, "out of memory");
		return;
	}
	s->conn_live = 1;
	s->handles++;
	int rc = conn_connect(&s->conn, ai->ai_addr, ai->ai_addrlen,
	                      local_len ? (struct sockaddr *)&local : NULL,
	                      local_len);
	if (rc < 0) {
		char why[256];
		snprintf(why, sizeof(why), "%s",
		         s->conn.err[0] ? s->conn.err : strerror(-rc));
		session_eventf(s, SMTPROBE_EV_ERROR,
		               "connection to %s failed: %s", s->peer, why);
		snprintf(s->res->error, sizeof(s->res->error),
		         "cannot connect to %s: %s", s->peer, why);
		session_drop_attempt(s);
	}
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *ai)
{
	struct smtprobe_session *s = req->data;

	if (status < 0) {
		session_fail(s, SMTPROBE_EXIT_CONNECT, 0,
		             "cannot resolve %s: %s", s->p->host,
		             uv_strerror(status));
		return;
	}
	s->ai = ai;
	s->ai_next = ai;
	try_next_address(s);
}

static void on_stage_timeout(uv_timer_t *t)
{
	struct smtprobe_session *s = t->data;
	unsigned ms = s->p->stage_timeout_ms ? s->p->stage_timeout_ms : 30000;

	if (s->stage == SMTPROBE_ST_CONNECT) {
		session_eventf(s, SMTPROBE_EV_ERROR, "timeout connecting to %s",
		               s->peer);
		snprintf(s->res->error, sizeof(s->res->error),
		         "timeout connecting to %s after %g s", s->peer,
		         ms / 1000.0);
		session_drop_attempt(s);
		return;
	}
	if (s->stage == SMTPROBE_ST_QUIT) {
		session_finish(s);
		return;
	}
	session_fail(s, stage_tab[s->stage].exit_code, 0,
	             "timeout %s from %s after %g s",
	             stage_tab[s->stage].phrase, s->peer, ms / 1000.0);
}

static void on_session_timeout(uv_timer_t *t)
{
	struct smtprobe_session *s = t->data;

	session_fail(s, stage_tab[s->stage].exit_code, 0,
	             "session timeout after %g s, %s from %s",
	             s->p->session_timeout_ms / 1000.0,
	             stage_tab[s->stage].phrase, s->peer);
}

static int session_start_fd(struct smtprobe_session **out, uv_loop_t *loop,
                            const struct smtprobe_params *p,
                            struct smtprobe_result *res, smtprobe_done_cb done,
                            void *done_arg, int fd)
{
	struct smtprobe_session *s = calloc(1, sizeof(*s));

	*out = s;
	if (!s || result_init(res, p) < 0) {
		free(s);
		*out = NULL;
		if (fd >= 0)
			close(fd);
		return -ENOMEM;
	}
	s->loop = loop;
	s->p = p;
	s->res = res;
	s->done = done;
	s->done_arg = done_arg;
	s->adopt_fd = fd;
	s->t0 = uv_hrtime();
	uv_timer_init(loop, &s->stage_timer);
	uv_timer_init(loop, &s->session_timer);
	s->stage_timer.data = s;
	s->session_timer.data = s;
	s->handles = 2;
	uv_timer_start(&s->session_timer, on_session_timeout,
	               p->session_timeout_ms ? p->session_timeout_ms : 300000,
	               0);
	if (fd >= 0) {
		snprintf(s->peer, sizeof(s->peer), "%s", "the peer");
		session_set_stage(s, SMTPROBE_ST_CONNECT);
		conn_init(&s->conn, loop, &session_conn_ops, s);
		s->conn_live = 1;
		s->handles++;
		if (conn_adopt(&s->conn, fd) < 0) {
			close(fd);
			session_fail(s, SMTPROBE_EXIT_CONNECT, 0,
			             "cannot use the given socket");
			return 0;
		}
		on_connected(&s->conn, 0);
		return 0;
	}
	char port[8];
	struct addrinfo hints;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = p->family == 4   ? AF_INET
	                  : p->family == 6 ? AF_INET6
	                                   : AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%u", p->port);
	session_set_stage(s, SMTPROBE_ST_RESOLVE);
	s->gai.data = s;
	int rc = uv_getaddrinfo(loop, &s->gai, on_resolved, p->host, port,
	                        &hints);
	if (rc < 0)
		session_fail(s, SMTPROBE_EXIT_CONNECT, 0,
		             "cannot resolve %s: %s", p->host, uv_strerror(rc));
	return 0;
}

int smtprobe_session_start(struct smtprobe_session **out, uv_loop_t *loop,
                           const struct smtprobe_params *params,
                           struct smtprobe_result *res, smtprobe_done_cb done,
                           void *done_arg)
{
	return session_start_fd(out, loop, params, res, done, done_arg, -1);
}

void smtprobe_session_free(struct smtprobe_session *s)
{
	if (!s)
		return;
	if (s->ai)
		uv_freeaddrinfo(s->ai);
	auth_release(s);
	free(s);
}

static int run_one(const struct smtprobe_params *p, struct smtprobe_result *res,
                   int fd)
{
	uv_loop_t loop;
	struct smtprobe_session *s;

	if (uv_loop_init(&loop) < 0) {
		memset(res, 0, sizeof(*res));
		res->exit_code = SMTPROBE_EXIT_CONNECT;
		snprintf(res->error, sizeof(res->error),
		         "cannot start the event loop");
		return res->exit_code;
	}
	if (session_start_fd(&s, &loop, p, res, NULL, NULL, fd) < 0) {
		uv_loop_close(&loop);
		res->exit_code = SMTPROBE_EXIT_CONNECT;
		snprintf(res->error, sizeof(res->error), "out of memory");
		return res->exit_code;
	}
	uv_run(&loop, UV_RUN_DEFAULT);
	smtprobe_session_free(s);
	uv_loop_close(&loop);
	return res->exit_code;
}

int smtprobe_send(const struct smtprobe_params *params,
                  struct smtprobe_result *res)
{
	return run_one(params, res, -1);
}

int smtprobe_send_fd(const struct smtprobe_params *params, int fd,
                     struct smtprobe_result *res)
{
	return run_one(params, res, fd);
}
