/* session.c - the client session's frame: the transport (resolve, connect
 * to each address in turn, read, TLS), the one setter of the stage, the
 * deadlines, commands and how a session ends. What each stage sends and
 * how each reply is judged is in session_flow.c; AUTH in session_auth.c;
 * the facts of each stage (name, phrase, deadline, exit code) in stage.c.
 *
 * Deadlines: the wait timer bounds one wait at a time - the connect, the
 * TLS handshake, or one reply. Every command sent starts it anew (swaks'
 * --timeout: the longest wait for one reply), every reply that leaves
 * another due (pipelining, LMTP) too. The session timer bounds the whole.
 *
 * Failures are values: session_fail_with() records the first failure's
 * kind, stage, errno, reply, protocol sub-kind or TLS facts in
 * res->failure, the exit code derived from them and a message for people.
 *
 * Promises: replies are parsed by reply.c with its caps, so a server that
 * never ends a line or a reply, sends garbage or NUL bytes, goes silent or
 * resets the connection ends the session with one failure naming the
 * stage and the cause, within one wait's deadline; bytes no command asked
 * for are an "unsolicited reply" protocol error that names them, never
 * the next command's reply. done() runs exactly once, after every libuv
 * handle is closed. */
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

#define DEFAULT_SESSION_MS 300000u
#define SHOWN_BYTES        120 /* unsolicited bytes named in a failure */

void session_event(struct smtprobe_session *s, enum smtprobe_event_kind kind,
                   const char *text)
{
	struct smtprobe_event ev = {
	        .kind = kind, .in_tls = s->in_tls, .text = text};

	if (s->p->on_event)
		s->p->on_event(&ev, s->p->event_arg);
}

void session_eventf(struct smtprobe_session *s, enum smtprobe_event_kind kind,
                    const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	session_event(s, kind, buf);
}

/* ---- stages and deadlines -------------------------------------------- */

static unsigned wait_ms(const struct smtprobe_session *s)
{
	unsigned ms = s->p->stage_timeout_ms;

	return ms ? ms : smtprobe_stage_default_deadline_ms(s->stage);
}

static void on_wait_timeout(uv_timer_t *t);

/* The only place the stage changes: the transition is recorded in the
 * result and told to the event callback. */
void session_set_stage(struct smtprobe_session *s, enum smtprobe_stage st)
{
	if (st == s->stage && s->res->ntransitions > 0)
		return;
	result_add_transition(s->res, st, ms_since(s->t0));
	session_eventf(s, SMTPROBE_EV_STAGE, "stage %s -> %s",
	               s->res->ntransitions > 1 ? smtprobe_stage_name(s->stage)
	                                        : "start",
	               smtprobe_stage_name(st));
	s->stage = st;
	if (st != SMTPROBE_ST_QUIT && st != SMTPROBE_ST_DONE)
		s->res->stage = st;
}

enum smtprobe_tls_mode session_tls_mode(const struct smtprobe_session *s)
{
	if (s->p->tls != SMTPROBE_TLSMODE_AUTO)
		return s->p->tls;
	return s->res->implicit_tls ? SMTPROBE_TLSMODE_IMPLICIT
	                            : SMTPROBE_TLSMODE_OPTIONAL;
}

/* TLSMODE_AUTO: how long a silent server has before it gets a
 * ClientHello - a few round trips, judged by the connect, and never less
 * than real servers on loopback take for their banner (Postfix, Exim and
 * OpenSMTPD under 1 ms, Sendmail 2 ms). A slower greeter costs nothing
 * but a second connection: the first still waits for its banner. */
#define AUTO_WAIT_MIN_MS 5
#define AUTO_WAIT_MAX_MS 1000

static unsigned auto_wait_ms(const struct smtprobe_session *s)
{
	double ms = 4 * s->res->connect_ms;

	return ms < AUTO_WAIT_MIN_MS   ? AUTO_WAIT_MIN_MS
	       : ms > AUTO_WAIT_MAX_MS ? AUTO_WAIT_MAX_MS
	                               : (unsigned)ms;
}

/* (Re)start the deadline of one wait in the current stage. */
void session_arm(struct smtprobe_session *s)
{
	unsigned ms = wait_ms(s);

	uv_timer_stop(&s->wait_timer);
	if (ms && !s->finished)
		uv_timer_start(&s->wait_timer, on_wait_timeout, ms, 0);
}

/* ---- ending ---------------------------------------------------------- */

static void session_handle_closed(uv_handle_t *h)
{
	struct smtprobe_session *s = h->data;

	if (--s->handles == 0 && s->done)
		s->done(s, s->done_arg);
}

static void try_next_address(struct smtprobe_session *s);
static void race_drop(struct smtprobe_session *s);
static const struct conn_ops session_conn_ops;

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

/* Drop a failed connection attempt (kind and message kept for the end);
 * the next address follows. */
static void session_drop_attempt(struct smtprobe_session *s,
                                 enum smtprobe_failure_kind kind, int err,
                                 const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static void session_drop_attempt(struct smtprobe_session *s,
                                 enum smtprobe_failure_kind kind, int err,
                                 const char *fmt, ...)
{
	va_list ap;

	s->attempt_kind = kind;
	s->attempt_errno = err;
	va_start(ap, fmt);
	vsnprintf(s->attempt_msg, sizeof(s->attempt_msg), fmt, ap);
	va_end(ap);
	uv_timer_stop(&s->wait_timer);
	s->conn_live = 0;
	conn_close(s->c, session_conn_closed);
}

/* The TLS session as it ends (TLS 1.3 tickets arrive after the
 * handshake), for a later connection to resume. */
static void keep_tls_session(struct smtprobe_session *s)
{
	unsigned char buf[SMTPROBE_MAX_TLS_SESSION];
	long n = smtprobe_tls_session_der(s->c->tls, buf, sizeof(buf),
	                                  &s->res->tls_ticket,
	                                  &s->res->tls_max_early_data);

	if (n <= 0 || s->res->tls_session)
		return;
	s->res->tls_session = malloc((size_t)n);
	if (!s->res->tls_session)
		return;
	memcpy(s->res->tls_session, buf, (size_t)n);
	s->res->tls_session_len = (size_t)n;
}

/* Stop everything; `done` runs once the loop has released every handle. */
void session_finish(struct smtprobe_session *s)
{
	if (s->finished)
		return;
	s->finished = 1;
	s->res->total_ms = ms_since(s->t0);
	/* A lookup still queued is dropped (on_resolved sees UV_ECANCELED);
	 * one already running in the resolver is waited for. */
	if (s->stage == SMTPROBE_ST_RESOLVE && s->gai.data)
		uv_cancel((uv_req_t *)&s->gai);
	auth_release(s);
	race_drop(s);
	uv_timer_stop(&s->wait_timer);
	uv_timer_stop(&s->session_timer);
	uv_close((uv_handle_t *)&s->wait_timer, session_handle_closed);
	uv_close((uv_handle_t *)&s->session_timer, session_handle_closed);
	if (s->p->keep_tls_session && s->conn_live && s->c->tls && s->in_tls)
		keep_tls_session(s);
	if (s->p->tls_renegotiate && s->conn_live && s->c->tls)
		s->res->tls_renegotiated = smtprobe_tls_renegotiated(s->c->tls);
	if (s->conn_live) {
		s->conn_live = 0;
		session_event(s, SMTPROBE_EV_INFO,
		              "Connection closed with remote host.");
		conn_close(s->c, session_conn_closed);
	}
}

void session_quit(struct smtprobe_session *s)
{
	if (s->finishing)
		return;
	s->finishing = 1;
	/* Before the banner, and after a 354 (where QUIT would be message
	 * text), the polite way out is to close. */
	if (s->stage <= SMTPROBE_ST_CONNECT || s->in_data ||
	    s->stage == SMTPROBE_ST_TLS || !s->conn_live || s->c->eof) {
		session_finish(s);
		return;
	}
	session_set_stage(s, SMTPROBE_ST_QUIT);
	/* Replies still due to pipelined commands come first: skip them. */
	s->skip += s->expecting;
	s->expecting = 0;
	session_command(s, "QUIT", NULL, 1);
}

static void record_failure(struct smtprobe_session *s,
                           enum smtprobe_failure_kind kind,
                           const struct fail_facts *facts, const char *fmt,
                           va_list ap) __attribute__((format(printf, 4, 0)));

static void record_failure(struct smtprobe_session *s,
                           enum smtprobe_failure_kind kind,
                           const struct fail_facts *facts, const char *fmt,
                           va_list ap)
{
	struct smtprobe_failure *f = &s->res->failure;

	if (f->kind != SMTPROBE_FAIL_NONE)
		return; /* the first failure is the one that counts */
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->stage = s->stage;
	f->tls.alert = -1;
	if (facts) {
		f->sys_errno = facts->err;
		f->reply = facts->reply;
		f->protocol = facts->protocol;
		f->resolve = facts->resolve;
		f->x509 = facts->x509;
		if (facts->tls)
			f->tls = *facts->tls;
		if (facts->detail)
			snprintf(f->detail, sizeof(f->detail), "%s",
			         facts->detail);
	}
	vsnprintf(s->res->error, sizeof(s->res->error), fmt, ap);
	s->res->exit_code = smtprobe_failure_exit_code(f);
	/* each connection attempt already said why it failed */
	if (kind < SMTPROBE_FAIL_REFUSED || kind > SMTPROBE_FAIL_CONNECT ||
	    s->stage != SMTPROBE_ST_CONNECT)
		session_event(s, SMTPROBE_EV_ERROR, s->res->error);
}

void session_record_failure(struct smtprobe_session *s,
                            enum smtprobe_failure_kind kind,
                            const struct fail_facts *facts, const char *fmt,
                            ...)
{
	va_list ap;

	va_start(ap, fmt);
	record_failure(s, kind, facts, fmt, ap);
	va_end(ap);
}

void session_fail_with(struct smtprobe_session *s,
                       enum smtprobe_failure_kind kind,
                       const struct fail_facts *facts, int polite,
                       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	record_failure(s, kind, facts, fmt, ap);
	va_end(ap);
	if (polite)
		session_quit(s);
	else
		session_finish(s);
}

void session_fail_reply(struct smtprobe_session *s,
                        enum smtprobe_failure_kind kind,
                        const struct smtprobe_reply *r, const char *what)
{
	struct fail_facts ff = {.reply = r};

	/* a 421 says the server is closing: no QUIT after it */
	session_fail_with(s, kind, &ff, r->code != 421, "%s: %d %s%s%s", what,
	                  r->code, r->enhanced, r->enhanced[0] ? " " : "",
	                  r->nlines ? r->text[0] : "");
}

/* ---- sending --------------------------------------------------------- */

/* Bytes in the input buffer that no command asked for: name them. */
static void fail_unsolicited(struct smtprobe_session *s, const char *before)
{
	struct inbuf *in = &s->c->in;
	char esc[SHOWN_BYTES * 4 + 8];
	size_t n = in->len < SHOWN_BYTES ? in->len : SHOWN_BYTES;
	struct smtprobe_reply_parse rp;

	/* A server that gives up sends 421 on its own (RFC 5321 3.8): that
	 * is the server closing, judged like any 421. */
	long used = smtprobe_reply_parse(in->data, in->len, &rp);
	if (used > 0 && rp.code == 421) {
		struct smtprobe_reply *r = smtprobe_reply_build(in->data, &rp);
		inbuf_consume(in, (size_t)used);
		if (r) {
			r->latency_ms = ms_since(s->t_cmd);
			result_attach_reply(s->res, s->stage, r);
			session_fail_reply(s, SMTPROBE_FAIL_COMMAND, r,
			                   "the server closed the session");
			return;
		}
	}
	smtprobe_escape(esc, sizeof(esc), in->data, n);
	struct fail_facts ff = {.protocol = SMTPROBE_PERR_UNSOLICITED,
	                        .detail = esc};
	session_fail_with(s, SMTPROBE_FAIL_PROTOCOL, &ff, 0,
	                  "unsolicited reply from %s %s: \"%s\"%s", s->peer,
	                  before, esc, in->len > n ? "..." : "");
}

int session_unsolicited(struct smtprobe_session *s, const char *before)
{
	if (s->expecting > 0 || s->skip > 0 || s->c->in.len == 0)
		return 0;
	fail_unsolicited(s, before);
	return 1;
}

void session_command(struct smtprobe_session *s, const char *line,
                     const char *shown, int nreplies)
{
	size_t n = strlen(line);
	char before[80];

	snprintf(before, sizeof(before), "before %.*s was sent",
	         (int)strcspn(shown ? shown : line, " :"),
	         shown ? shown : line);
	if (session_unsolicited(s, before))
		return;
	char *wire = malloc(n + 2);
	if (!wire) {
		session_fail(s, SMTPROBE_FAIL_INTERNAL, 0, "out of memory");
		return;
	}
	memcpy(wire, line, n);
	memcpy(wire + n, "\r\n", 2);
	int rc = conn_send(s->c, wire, n + 2);
	explicit_bzero(wire, n + 2);
	free(wire);
	if (rc < 0) {
		session_fail(s, SMTPROBE_FAIL_INTERNAL, 0,
		             "cannot queue the command: output limit reached");
		return;
	}
	char esc[SMTPROBE_MAX_LINE];
	smtprobe_escape(esc, sizeof(esc), shown ? shown : line,
	                strlen(shown ? shown : line));
	session_event(s, SMTPROBE_EV_SENT, esc);
	result_add_exchange(s->res, s->stage, esc, nreplies > 0);
	s->t_cmd = uv_hrtime();
	s->expecting += nreplies;
	if (nreplies > 0)
		session_arm(s);
}

/* ---- TLSMODE_AUTO: implicit TLS tried beside a silent plain connect --- */

/* A server that has not spoken a moment after the connect may be waiting
 * for a ClientHello: a second connection tries TLS while the first keeps
 * waiting for a banner. The first to answer wins - a banner on the plain
 * one (the TLS attempt is dropped), or a completed handshake (the plain
 * one is dropped and the session goes on over TLS). A server that greets
 * in time never sees a ClientHello. */

static void race_closed(struct conn *c)
{
	struct smtprobe_session *s = c->arg;

	if (--s->handles == 0 && s->finished && s->done)
		s->done(s, s->done_arg);
}

static struct conn *race_conn(struct smtprobe_session *s)
{
	return s->c == &s->conns[0] ? &s->conns[1] : &s->conns[0];
}

/* End the TLS attempt (it lost, failed, or the session is over). */
static void race_drop(struct smtprobe_session *s)
{
	if (!s->race_live)
		return;
	s->race_live = 0;
	conn_close(race_conn(s), race_closed);
}

static void race_start(struct smtprobe_session *s)
{
	struct conn *t = &s->conns[1];

	if (s->adopt_fd >= 0 || !s->ai_cur) {
		/* a socket we were given: TLS on it, no second connect */
		session_event(s, SMTPROBE_EV_INFO,
		              "No banner yet: trying implicit TLS");
		result_drop_waiting(s->res, SMTPROBE_ST_BANNER);
		s->expecting = 0;
		s->res->implicit_tls = 1;
		flow_start_tls(s);
		return;
	}
	if (conn_init(t, s->loop, &session_conn_ops, s) < 0)
		return;
	s->race_live = 1;
	s->handles++;
	session_eventf(s, SMTPROBE_EV_INFO,
	               "No banner after %u ms: trying implicit TLS beside it",
	               auto_wait_ms(s));
	if (conn_connect(t, s->ai_cur->ai_addr, s->ai_cur->ai_addrlen,
	                 s->local_len ? (struct sockaddr *)&s->local : NULL,
	                 s->local_len) < 0)
		race_drop(s);
}

static void race_connected(struct smtprobe_session *s, struct conn *c, int err)
{
	struct smtprobe_tls_opts o = s->p->tls_opts;

	if (err < 0 || conn_start_tls(c, &o) < 0) {
		race_drop(s);
		return;
	}
	s->t_race = uv_hrtime();
}

static void on_tls_done(struct conn *c, int err);

static void race_tls_done(struct smtprobe_session *s, struct conn *c, int err)
{
	if (err < 0) {
		session_eventf(s, SMTPROBE_EV_INFO,
		               "No implicit TLS there (%s): waiting for the "
		               "banner",
		               c->err);
		race_drop(s);
		return;
	}
	/* TLS won: the plain connection is the one to drop now */
	struct conn *plain = s->c;
	s->c = c;
	conn_close(plain, race_closed);
	s->race_live = 0;
	result_drop_waiting(s->res, SMTPROBE_ST_BANNER);
	s->expecting = 0;
	s->res->implicit_tls = 1;
	session_set_stage(s, SMTPROBE_ST_TLS);
	s->t_cmd = s->t_race;
	on_tls_done(c, 0);
}

/* ---- transport callbacks --------------------------------------------- */

/* A raw hello's answer: kept as it comes, until it is whole. */
static void raw_collect(struct smtprobe_session *s, struct conn *c)
{
	struct smtprobe_result *r = s->res;
	size_t room = SMTPROBE_MAX_RAW_TLS - r->raw_tls_len;
	size_t n = c->in.len < room ? c->in.len : room;

	if (n > 0) {
		unsigned char *nb = realloc(r->raw_tls, r->raw_tls_len + n);
		if (!nb) {
			session_fail(s, SMTPROBE_FAIL_INTERNAL, 0,
			             "out of memory");
			return;
		}
		r->raw_tls = nb;
		memcpy(r->raw_tls + r->raw_tls_len, c->in.data, n);
		r->raw_tls_len += n;
	}
	inbuf_consume(&c->in, c->in.len);
	if (r->raw_tls_len == SMTPROBE_MAX_RAW_TLS ||
	    (s->p->raw_tls_whole &&
	     s->p->raw_tls_whole(r->raw_tls, r->raw_tls_len,
	                         s->p->raw_tls_arg))) {
		r->tls_ms = ms_since(s->t_cmd);
		session_finish(s);
	}
}

static void on_readable(struct conn *c)
{
	struct smtprobe_session *s = c->arg;

	if (c != s->c)
		return; /* the TLS attempt reads nothing before it wins */
	if (s->race_live)
		race_drop(s); /* the plain connection spoke: it wins */
	if (s->raw_tls) {
		raw_collect(s, c);
		return;
	}
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
			struct fail_facts ff = {
			        .protocol = smtprobe_protocol_error_of_parse(n),
			        .detail = esc};
			/* TLS bytes where the banner was due: not SMTP */
			if (s->stage == SMTPROBE_ST_BANNER &&
			    (unsigned char)c->in.data[0] == 0x16)
				ff.protocol = SMTPROBE_PERR_NOT_SMTP;
			session_fail_with(s, SMTPROBE_FAIL_PROTOCOL, &ff, 0,
			                  "invalid reply %s from %s: %s",
			                  smtprobe_stage_phrase(s->stage),
			                  s->peer,
			                  ff.protocol == SMTPROBE_PERR_NOT_SMTP
			                          ? "the server speaks TLS, "
			                            "not SMTP (implicit TLS?)"
			                          : smtprobe_reply_strerror(n));
			return;
		}
		struct smtprobe_reply *r = smtprobe_reply_build(c->in.data, &p);
		inbuf_consume(&c->in, (size_t)n);
		if (!r) {
			session_fail(s, SMTPROBE_FAIL_INTERNAL, 0,
			             "out of memory");
			return;
		}
		if (s->skip == 0 && s->expecting > 0)
			s->expecting--;
		/* a fresh deadline for the next reply due, if any (a skipped
		 * reply is counted off in flow_on_reply) */
		if (s->expecting + (s->skip > 0 ? s->skip - 1 : 0) > 0)
			session_arm(s);
		else
			uv_timer_stop(&s->wait_timer);
		flow_on_reply(s, r);
	}
	if (!s->finished && !s->c->tls_handshaking)
		(void)session_unsolicited(s, smtprobe_stage_phrase(s->stage));
}

static void on_closed(struct conn *c, int err)
{
	struct smtprobe_session *s = c->arg;

	if (c != s->c) {
		race_drop(s);
		return;
	}
	if (s->finished)
		return;
	if (s->raw_tls) {
		/* the answer to a raw hello may be a close: the scan judges */
		s->res->raw_tls_closed = err == 0 ? 1 : 2;
		s->res->tls_ms = ms_since(s->t_cmd);
		session_finish(s);
		return;
	}
	if (s->stage == SMTPROBE_ST_QUIT) {
		/* Gone before answering QUIT: the transaction is over anyway.
		 */
		session_finish(s);
		return;
	}
	const char *phrase = smtprobe_stage_phrase(s->stage);
	if (err == 0) {
		session_fail(s, SMTPROBE_FAIL_CLOSED, 0,
		             "connection closed by %s %s", s->peer, phrase);
	} else if (err == -EPROTO) {
		struct smtprobe_tls_failure tf;
		smtprobe_tls_get_failure(c->tls, &tf);
		struct fail_facts ff = {.tls = &tf};
		session_fail_with(s, SMTPROBE_FAIL_TLS, &ff, 0,
		                  "tls error from %s %s: %s", s->peer, phrase,
		                  c->err);
	} else {
		/* mid-session, any socket error means the peer is gone */
		struct fail_facts ff = {.err = -err};
		char ebuf[128];
		session_fail_with(s, SMTPROBE_FAIL_RESET, &ff, 0,
		                  "connection %s by %s %s (%s)",
		                  err == -ECONNRESET || err == -EPIPE
		                          ? "reset"
		                          : "failed",
		                  s->peer, phrase,
		                  util_strerror(-err, ebuf, sizeof(ebuf)));
	}
}

static void show_tls(struct smtprobe_session *s)
{
	const struct smtprobe_tls_facts *f = &s->res->tls;

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
}

static void on_tls_done(struct conn *c, int err)
{
	struct smtprobe_session *s = c->arg;
	struct smtprobe_tls_facts *f = &s->res->tls;

	if (c != s->c) {
		race_tls_done(s, c, err);
		return;
	}
	uv_timer_stop(&s->wait_timer);
	s->res->tls_ms = ms_since(s->t_cmd);
	if (err < 0) {
		struct smtprobe_tls_failure tf;
		const char *why = c->err;
		smtprobe_tls_get_failure(c->tls, &tf);
		if (strncmp(why, "tls handshake failed: ", 22) == 0)
			why += 22;
		struct fail_facts ff = {.tls = &tf};
		if (tf.error == SMTPROBE_TLSE_CLOSED) {
			session_fail(s, SMTPROBE_FAIL_CLOSED, 0,
			             "connection closed by %s during the TLS "
			             "handshake",
			             s->peer);
		} else if (tf.error == SMTPROBE_TLSE_SYSCALL) {
			/* the socket failed under TLS: a reset, with errno */
			char ebuf[128];
			ff.err = tf.sys_errno;
			ff.tls = NULL;
			session_fail_with(
			        s, SMTPROBE_FAIL_RESET, &ff, 0,
			        "connection reset by %s during the TLS "
			        "handshake (%s)",
			        s->peer,
			        util_strerror(tf.sys_errno, ebuf,
			                      sizeof(ebuf)));
		} else
			session_fail_with(s, SMTPROBE_FAIL_TLS, &ff, 0,
			                  "error during the TLS handshake with "
			                  "%s: %s",
			                  s->peer, why);
		return;
	}
	s->in_tls = 1;
	smtprobe_tls_get_facts(c->tls, f);
	s->res->have_tls = 1;
	struct smtprobe_exchange *ex =
	        result_add_exchange(s->res, SMTPROBE_ST_TLS, NULL, 0);
	if (ex)
		ex->ms = s->res->tls_ms;
	show_tls(s);
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
		struct fail_facts ff = {.x509 = f->verify_code};
		session_fail_with(s, SMTPROBE_FAIL_CERTIFICATE, &ff, 1,
		                  "certificate verification failed for %s: %s",
		                  s->peer, why);
		return;
	} else {
		session_eventf(s, SMTPROBE_EV_INFO,
		               "TLS peer certificate failed verification: %s "
		               "(not fatal without --tls-verify)",
		               why);
	}
	if (s->p->tls_renegotiate)
		(void)smtprobe_tls_renegotiate(c->tls); /* with the next I/O */
	if (!s->got_banner) { /* implicit TLS: the banner comes inside */
		flow_start_banner(s);
		return;
	}
	flow_start_greeting(s, SMTPROBE_ST_EHLO2);
}

static void on_connected(struct conn *c, int err)
{
	struct smtprobe_session *s = c->arg;
	char ebuf[128];

	if (c != s->c) {
		race_connected(s, c, err);
		return;
	}
	s->res->connect_ms = ms_since(s->t_connect);
	if (err < 0) {
		session_eventf(s, SMTPROBE_EV_ERROR,
		               "connection to %s failed: %s", s->peer,
		               util_strerror(-err, ebuf, sizeof(ebuf)));
		session_drop_attempt(s, smtprobe_failure_of_errno(-err), -err,
		                     "cannot connect to %s: %s", s->peer,
		                     util_strerror(-err, ebuf, sizeof(ebuf)));
		return;
	}
	uv_timer_stop(&s->wait_timer);
	struct smtprobe_exchange *ex =
	        result_add_exchange(s->res, SMTPROBE_ST_CONNECT, NULL, 0);
	if (ex)
		ex->ms = s->res->connect_ms;
	session_eventf(s, SMTPROBE_EV_INFO, "Connected to %s.", s->peer);
	if (flow_quit_before(s, SMTPROBE_ST_BANNER))
		return;
	if (s->p->tls == SMTPROBE_TLSMODE_IMPLICIT) {
		s->res->implicit_tls = 1;
		flow_start_tls(s);
		return;
	}
	flow_start_banner(s);
	if (s->p->tls == SMTPROBE_TLSMODE_AUTO && !s->finished) {
		/* a short wait for the server to speak first */
		uv_timer_stop(&s->wait_timer);
		uv_timer_start(&s->wait_timer, on_wait_timeout, auto_wait_ms(s),
		               0);
	}
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

	if (!ai) {
		struct fail_facts ff = {.err = s->attempt_errno};
		if (s->attempt_kind == SMTPROBE_FAIL_NONE) {
			s->attempt_kind = SMTPROBE_FAIL_CONNECT;
			snprintf(s->attempt_msg, sizeof(s->attempt_msg),
			         "no usable address for %s", s->p->host);
		}
		session_fail_with(s, s->attempt_kind, &ff, 0, "%s",
		                  s->attempt_msg);
		return;
	}
	s->ai_next = ai->ai_next;
	s->ai_cur = ai;
	s->c = &s->conns[0];
	s->local_len = 0;
	util_format_peer(s->peer, sizeof(s->peer), ai->ai_addr);
	util_format_addr(s->res->address, sizeof(s->res->address), ai->ai_addr);
	session_set_stage(s, SMTPROBE_ST_CONNECT);
	if (s->p->local_addr &&
	    util_parse_addr(s->p->local_addr, s->p->local_port, ai->ai_family,
	                    &s->local, &s->local_len) < 0) {
		s->attempt_kind = SMTPROBE_FAIL_CONNECT;
		snprintf(s->attempt_msg, sizeof(s->attempt_msg),
		         "local interface %s is not an address of the right "
		         "family for %s",
		         s->p->local_addr, s->peer);
		try_next_address(s);
		return;
	}
	session_eventf(s, SMTPROBE_EV_INFO, "Trying %s...", s->peer);
	if (conn_init(s->c, s->loop, &session_conn_ops, s) < 0) {
		session_fail(s, SMTPROBE_FAIL_INTERNAL, 0, "out of memory");
		return;
	}
	s->conn_live = 1;
	s->handles++;
	s->t_connect = uv_hrtime();
	session_arm(s);
	int rc =
	        conn_connect(s->c, ai->ai_addr, ai->ai_addrlen,
	                     s->local_len ? (struct sockaddr *)&s->local : NULL,
	                     s->local_len);
	if (rc < 0) {
		char why[256], ebuf[128];
		snprintf(why, sizeof(why), "%s",
		         s->c->err[0] ? s->c->err
		                      : util_strerror(-rc, ebuf, sizeof(ebuf)));
		session_eventf(s, SMTPROBE_EV_ERROR,
		               "connection to %s failed: %s", s->peer, why);
		session_drop_attempt(s, smtprobe_failure_of_errno(-rc), -rc,
		                     "cannot connect to %s: %s", s->peer, why);
	}
}

static enum smtprobe_resolve_error resolve_error(int status)
{
	switch (status) {
	case UV_EAI_NONAME:
		return SMTPROBE_RES_NXDOMAIN;
	case UV_EAI_NODATA:
	case UV_EAI_ADDRFAMILY:
		return SMTPROBE_RES_NODATA;
	default:
		return SMTPROBE_RES_SERVFAIL;
	}
}

static void fail_resolve(struct smtprobe_session *s, int status)
{
	struct fail_facts ff = {.resolve = resolve_error(status),
	                        .detail = uv_strerror(status)};

	session_fail_with(s, SMTPROBE_FAIL_RESOLVE, &ff, 0,
	                  "cannot resolve %s: %s", s->p->host,
	                  uv_strerror(status));
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *ai)
{
	struct smtprobe_session *s = req->data;

	/* The lookup counted as a handle: a session that ended while it was
	 * pending (its deadline, a cancel) is done only now. */
	s->handles--;
	if (s->finished) {
		if (ai)
			uv_freeaddrinfo(ai);
		if (s->handles == 0 && s->done)
			s->done(s, s->done_arg);
		return;
	}
	if (status < 0) {
		fail_resolve(s, status);
		return;
	}
	s->ai = ai;
	s->ai_next = ai;
	try_next_address(s);
}

static void on_wait_timeout(uv_timer_t *t)
{
	struct smtprobe_session *s = t->data;
	double secs = wait_ms(s) / 1000.0;

	if (s->stage == SMTPROBE_ST_BANNER &&
	    s->p->tls == SMTPROBE_TLSMODE_AUTO && !s->auto_decided) {
		s->auto_decided = 1;
		if (s->c->in.len == 0)
			race_start(s); /* silent so far: try TLS beside it */
		session_arm(s);        /* the banner keeps its own deadline */
		return;
	}
	switch (s->stage) {
	case SMTPROBE_ST_CONNECT:
		session_eventf(s, SMTPROBE_EV_ERROR, "timeout connecting to %s",
		               s->peer);
		session_drop_attempt(
		        s, SMTPROBE_FAIL_CONNECT_TIMEOUT, ETIMEDOUT,
		        "timeout connecting to %s after %g s", s->peer, secs);
		return;
	case SMTPROBE_ST_QUIT:
		session_finish(s);
		return;
	default:
		session_fail(s, SMTPROBE_FAIL_TIMEOUT, 0,
		             "timeout %s from %s after %g s",
		             smtprobe_stage_phrase(s->stage), s->peer, secs);
	}
}

static void on_session_timeout(uv_timer_t *t)
{
	struct smtprobe_session *s = t->data;
	unsigned ms = s->p->session_timeout_ms ? s->p->session_timeout_ms
	                                       : DEFAULT_SESSION_MS;

	if (s->stage == SMTPROBE_ST_QUIT) {
		/* the transaction is over; an unanswered QUIT ends it as the
		 * reply deadline does */
		session_finish(s);
		return;
	}
	session_fail(s, SMTPROBE_FAIL_SESSION_TIMEOUT, 0,
	             "session timeout after %g s, %s from %s", ms / 1000.0,
	             smtprobe_stage_phrase(s->stage), s->peer);
}

static void start_resolve(struct smtprobe_session *s)
{
	const struct smtprobe_params *p = s->p;
	char port[8];
	struct addrinfo hints;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = p->family == 4   ? AF_INET
	                  : p->family == 6 ? AF_INET6
	                                   : AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%u", p->port);
	/* Until an address is known, messages name the host. */
	snprintf(s->peer, sizeof(s->peer), "%.60s:%u", p->host, p->port);
	session_set_stage(s, SMTPROBE_ST_RESOLVE);
	/* An address literal needs no resolver: skip the thread pool (its
	 * start-up is a measurable part of a one-transaction run). */
	struct addrinfo numeric = hints, *ai = NULL;
	numeric.ai_flags |= AI_NUMERICHOST;
	if (getaddrinfo(p->host, port, &numeric, &ai) == 0) {
		s->ai = ai;
		s->ai_next = ai;
		try_next_address(s);
		return;
	}
	s->gai.data = s;
	s->handles++;
	session_arm(s); /* only with --timeout: the stage has no default */
	int rc = uv_getaddrinfo(s->loop, &s->gai, on_resolved, p->host, port,
	                        &hints);
	if (rc < 0) {
		s->handles--;
		fail_resolve(s, rc);
	}
}

int session_start(struct smtprobe_session **out, uv_loop_t *loop,
                  const struct smtprobe_params *p, struct smtprobe_result *res,
                  smtprobe_done_cb done, void *done_arg, int fd)
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
	s->stage = SMTPROBE_ST_RESOLVE;
	s->c = &s->conns[0];
	uv_timer_init(loop, &s->wait_timer);
	uv_timer_init(loop, &s->session_timer);
	s->wait_timer.data = s;
	s->session_timer.data = s;
	s->handles = 2;
	uv_timer_start(&s->session_timer, on_session_timeout,
	               p->session_timeout_ms ? p->session_timeout_ms
	                                     : DEFAULT_SESSION_MS,
	               0);
	if (fd < 0) {
		start_resolve(s);
		return 0;
	}
	snprintf(s->peer, sizeof(s->peer), "%s", "the peer");
	session_set_stage(s, SMTPROBE_ST_CONNECT);
	conn_init(s->c, loop, &session_conn_ops, s);
	s->conn_live = 1;
	s->handles++;
	s->t_connect = uv_hrtime();
	if (conn_adopt(s->c, fd) < 0) {
		close(fd);
		session_fail(s, SMTPROBE_FAIL_CONNECT, 0,
		             "cannot use the given socket");
		return 0;
	}
	on_connected(s->c, 0);
	return 0;
}

int smtprobe_session_start(struct smtprobe_session **out, uv_loop_t *loop,
                           const struct smtprobe_params *params,
                           struct smtprobe_result *res, smtprobe_done_cb done,
                           void *done_arg)
{
	return session_start(out, loop, params, res, done, done_arg, -1);
}

int smtprobe_session_start_fd(struct smtprobe_session **out, uv_loop_t *loop,
                              const struct smtprobe_params *params,
                              struct smtprobe_result *res,
                              smtprobe_done_cb done, void *done_arg, int fd)
{
	return session_start(out, loop, params, res, done, done_arg, fd);
}

void smtprobe_session_cancel(struct smtprobe_session *s)
{
	if (!s || s->finished)
		return;
	session_fail(s, SMTPROBE_FAIL_CANCELLED, 0, "cancelled %s",
	             smtprobe_stage_phrase(s->stage));
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
