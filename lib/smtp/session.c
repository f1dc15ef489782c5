/* session.c - the client session's frame: the stage table, the transport
 * (resolve, connect to each address in turn, read, TLS), deadlines, and how
 * a session ends. What each stage sends and how each reply is judged is in
 * session_flow.c; AUTH in session_auth.c.
 *
 * One table gives each stage its name, the phrase used in messages, the exit
 * code a failure there maps to and its rank for --quit-after;
 * session_set_stage() is the only place the stage changes, and it starts the
 * stage's deadline.
 *
 * Promises: replies are parsed by reply.c with its caps, so a server that
 * never ends a line or a reply, sends garbage or NUL bytes, goes silent or
 * resets the connection ends the session with one error naming the stage and
 * the cause, within the stage deadline; the session deadline bounds the
 * whole. done() runs exactly once, after every libuv handle is closed. */
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

int session_stage_rank(enum smtprobe_stage st)
{
	return stage_tab[st].rank;
}

int session_stage_exit(enum smtprobe_stage st)
{
	return stage_tab[st].exit_code;
}

const char *session_stage_phrase(enum smtprobe_stage st)
{
	return stage_tab[st].phrase;
}

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

void session_set_stage(struct smtprobe_session *s, enum smtprobe_stage st)
{
	unsigned ms = s->p->stage_timeout_ms ? s->p->stage_timeout_ms : 30000;

	s->stage = st;
	if (st != SMTPROBE_ST_QUIT && st != SMTPROBE_ST_DONE)
		s->res->stage = st;
	uv_timer_stop(&s->stage_timer);
	if (st != SMTPROBE_ST_DONE)
		uv_timer_start(&s->stage_timer, on_stage_timeout, ms, 0);
}

void session_quit(struct smtprobe_session *s)
{
	if (s->finishing)
		return;
	s->finishing = 1;
	/* Before the banner, and after a 354 (where QUIT would be message
	 * text), the polite way out is to close. */
	if (s->stage <= SMTPROBE_ST_CONNECT || s->in_data ||
	    s->stage == SMTPROBE_ST_TLS || !s->conn_live || s->conn.eof) {
		session_finish(s);
		return;
	}
	session_set_stage(s, SMTPROBE_ST_QUIT);
	/* Replies still due to pipelined commands come first: skip them. */
	s->skip += s->expecting;
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
		flow_on_reply(s, r);
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
		flow_start_banner(s);
		return;
	}
	flow_start_greeting(s, SMTPROBE_ST_EHLO2);
}

static void try_next_address(struct smtprobe_session *s);

static void on_connected(struct conn *c, int err)
{
	struct smtprobe_session *s = c->arg;
	char ebuf[128];

	if (err < 0) {
		session_eventf(s, SMTPROBE_EV_ERROR,
		               "connection to %s failed: %s", s->peer,
		               util_strerror(-err, ebuf, sizeof(ebuf)));
		snprintf(s->res->error, sizeof(s->res->error),
		         "cannot connect to %s: %s", s->peer,
		         util_strerror(-err, ebuf, sizeof(ebuf)));
		session_drop_attempt(s);
		return;
	}
	s->res->error[0] = '\0';
	result_add_exchange(s->res, SMTPROBE_ST_CONNECT, NULL, 0);
	session_eventf(s, SMTPROBE_EV_INFO, "Connected to %s.", s->peer);
	if (flow_quit_before(s, SMTPROBE_ST_BANNER))
		return;
	if (s->p->tls == SMTPROBE_TLSMODE_IMPLICIT) {
		flow_start_tls(s);
		return;
	}
	flow_start_banner(s);
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
		char why[256], ebuf[128];
		snprintf(why, sizeof(why), "%s",
		         s->conn.err[0]
		                 ? s->conn.err
		                 : util_strerror(-rc, ebuf, sizeof(ebuf)));
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
		return 0;
	}
	s->gai.data = s;
	s->handles++;
	int rc = uv_getaddrinfo(loop, &s->gai, on_resolved, p->host, port,
	                        &hints);
	if (rc < 0) {
		s->handles--;
		session_fail(s, SMTPROBE_EXIT_CONNECT, 0,
		             "cannot resolve %s: %s", p->host, uv_strerror(rc));
	}
	return 0;
}

int smtprobe_session_start(struct smtprobe_session **out, uv_loop_t *loop,
                           const struct smtprobe_params *params,
                           struct smtprobe_result *res, smtprobe_done_cb done,
                           void *done_arg)
{
	return session_start_fd(out, loop, params, res, done, done_arg, -1);
}

void smtprobe_session_cancel(struct smtprobe_session *s)
{
	if (!s || s->finished)
		return;
	session_fail(s, session_stage_exit(s->stage), 0, "cancelled %s",
	             session_stage_phrase(s->stage));
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
