/* smtpd.c - one SMTP session of `smtprobe serve`: commands in, replies
 * out, the relay policy applied at every step.
 *
 * Lines are read from the connection's bounded buffer (lib/core/line.c via
 * lib/core/conn.c); a line longer than SRV_MAX_CMDLINE ends the session with
 * 500, a message longer than the policy's size limit is read to its end and
 * refused with 552, so no client can make the server allocate without
 * bound. Pipelined commands are answered in order; while a message is being
 * stored (on libuv's thread pool) or a reply is delayed, reading pauses.
 * Every session has an idle deadline. A message gets its 250 only after
 * srv_maildir_store() has made it durable. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "command.h"
#include "conn.h"
#include "faults.h"
#include "throttle.h"
#include "log.h"
#include "server.h"
#include "smtpd_int.h"
#include "smtprobe/ehlo.h"
#include "smtprobe/reply.h"
#include "smtprobe/sasl_server.h"
#include "banned.h"

/* ---- replies ---------------------------------------------------------- */

void smtpd_reply(struct smtpd *s, const char *fmt, ...)
{
	char line[SRV_MAX_CMDLINE];
	va_list ap;

	if (s->closing)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 3)
		n = (int)(sizeof(line) - 3);
	line[n++] = '\r';
	line[n++] = '\n';
	if (s->held) {
		if (s->heldlen + (size_t)n > SMTPD_HELD_MAX)
			return;
		char *nb = realloc(s->heldbuf, s->heldlen + (size_t)n);
		if (!nb)
			return;
		s->heldbuf = nb;
		memcpy(s->heldbuf + s->heldlen, line, (size_t)n);
		s->heldlen += (size_t)n;
		return;
	}
	if (conn_send(&s->conn, line, (size_t)n) < 0)
		smtpd_close(s, "output limit");
}

static void on_delay_done(uv_timer_t *t)
{
	struct smtpd *s = t->data;

	s->held = 0;
	s->busy = 0;
	if (s->closed)
		return;
	if (s->heldlen && conn_send(&s->conn, s->heldbuf, s->heldlen) < 0)
		smtpd_close(s, "output limit");
	s->heldlen = 0;
	if (s->closing && !s->closed && outq_pending(&s->conn.out) == 0)
		smtpd_close(s, s->close_reason ? s->close_reason : "closed");
	if (!s->closing) {
		smtpd_touch(s);
		smtpd_process(s);
	}
}

void smtpd_resume(struct smtpd *s)
{
	if (s->closing)
		return;
	smtpd_touch(s);
	smtpd_process(s);
}

void smtpd_delay(struct smtpd *s, unsigned ms)
{
	if (ms == 0 || s->closing)
		return;
	s->held = 1;
	s->busy = 1;
	uv_timer_start(&s->delay, on_delay_done, ms, 0);
}

/* ---- lifecycle -------------------------------------------------------- */

static void smtpd_free(struct smtpd *s)
{
	struct server *srv = s->srv;

	for (struct smtpd **pp = &srv->sessions; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	srv->nsessions--;
	if (s->throttle_held)
		srv_throttle_disconnect(srv->throttle, s->ip);
	smtpd_reset_transaction(s);
	smtpd_data_release(s);
	free(s->heldbuf);
	free(s->drip);
	if (s->sasl)
		smtprobe_sasl_server_free(s->sasl);
	free(s);
}

void smtpd_unref(struct smtpd *s)
{
	if (--s->handles == 0)
		smtpd_free(s);
}

static void on_handle_closed(uv_handle_t *h)
{
	smtpd_unref(h->data);
}

static void on_conn_closed(struct conn *c)
{
	smtpd_unref(c->arg);
}

void smtpd_close(struct smtpd *s, const char *why)
{
	if (s->closed)
		return;
	s->closed = 1;
	s->closing = 1;
	/* Postfix-style command counts: "ehlo=1 mail=1 rcpt=1/2 quit=1". */
	size_t o = 0;
	for (int v = 1; v < SRV_CMD_LAST && o + 24 < sizeof(s->ncmd_text);
	     v++) {
		static const char *const names[SRV_CMD_LAST] = {
		        "unknown", "helo", "ehlo",     "lhlo", "mail", "rcpt",
		        "data",    "bdat", "rset",     "noop", "quit", "vrfy",
		        "expn",    "help", "starttls", "auth"};
		if (s->counts[v])
			o += (size_t)snprintf(s->ncmd_text + o,
			                      sizeof(s->ncmd_text) - o,
			                      "%s%s=%u", o ? " " : "", names[v],
			                      s->counts[v]);
	}
	srv_log_event(s->srv->log, "disconnect", "client", s->client, "reason",
	              why, "commands", s->ncmd_text, NULL);
	uv_timer_stop(&s->timer);
	uv_timer_stop(&s->delay);
	uv_close((uv_handle_t *)&s->timer, on_handle_closed);
	uv_close((uv_handle_t *)&s->delay, on_handle_closed);
	conn_close(&s->conn, on_conn_closed);
}

/* Close once what is queued has gone out. */
void smtpd_close_after_flush(struct smtpd *s, const char *why)
{
	s->closing = 1;
	s->close_reason = why;
	/* Held replies (a delay) go out first: on_delay_done closes then. */
	if (outq_pending(&s->conn.out) == 0 && !s->held)
		smtpd_close(s, why);
}

void smtpd_begin_tls(struct smtpd *s)
{
	struct conn *c = &s->conn;

	if (!s->tls_pending || outq_pending(&c->out) > 0)
		return; /* on_drained calls again once the 220 is out */
	s->tls_pending = 0;
	/* RFC 3207: anything the client pipelined after STARTTLS was sent in
	 * clear and must not be used. */
	inbuf_consume(&c->in, c->in.len);
	if (conn_start_tls_server(c, s->srv->tls) < 0)
		smtpd_close(s, "tls setup failed");
}

static void on_drained(struct conn *c)
{
	struct smtpd *s = c->arg;

	if (s->tls_pending) {
		smtpd_begin_tls(s);
		return;
	}
	if (s->closing && !s->closed)
		smtpd_close(s, s->close_reason ? s->close_reason : "closed");
}

static void on_timeout(uv_timer_t *t)
{
	struct smtpd *s = t->data;

	smtpd_reply(s, "421 4.4.2 %s Error: timeout exceeded",
	            s->policy->hostname);
	smtpd_close_after_flush(s, "timeout");
}

void smtpd_touch(struct smtpd *s)
{
	unsigned ms = s->state == SMTPD_DATA ? s->srv->opt.data_timeout_ms
	                                     : s->srv->opt.timeout_ms;
	uv_timer_start(&s->timer, on_timeout, ms ? ms : 300000, 0);
}

/* ---- the transaction ------------------------------------------------ */

void smtpd_reset_transaction(struct smtpd *s)
{
	for (size_t i = 0; i < s->nrcpt; i++)
		free(s->rcpt[i]);
	s->nrcpt = 0;
	s->has_mail = 0;
	s->mail_from[0] = '\0';
	s->data_len = 0;
	s->data_too_big = 0;
}

static void greet(struct smtpd *s)
{
	if (faults_apply(s, "connect"))
		return;
	smtpd_reply(s, "220 %s ESMTP smtprobe", s->policy->hostname);
}

static void on_tls_done(struct conn *c, int err)
{
	struct smtpd *s = c->arg;
	struct smtprobe_tls_facts f;

	if (err < 0) {
		srv_log_event(s->srv->log, "tls-failed", "client", s->client,
		              "error", c->err, NULL);
		smtpd_close(s, "tls handshake failed");
		return;
	}
	smtprobe_tls_get_facts(c->tls, &f);
	snprintf(s->tls_protocol, sizeof(s->tls_protocol), "%s", f.protocol);
	snprintf(s->tls_cipher, sizeof(s->tls_cipher), "%s", f.cipher);
	s->cl.tls = 1;
	s->srv->stats.tls++;
	srv_log_event(s->srv->log, "tls", "client", s->client, "protocol",
	              f.protocol, "cipher", f.cipher, NULL);
	/* RFC 3207: forget what was said before TLS. */
	s->helo[0] = '\0';
	smtpd_reset_transaction(s);
	if (s->l->mode == SRV_MODE_IMPLICIT && !s->greeted) {
		s->greeted = 1;
		greet(s);
	}
	smtpd_touch(s);
	smtpd_process(s);
}

static void on_closed(struct conn *c, int err)
{
	struct smtpd *s = c->arg;

	smtpd_close(s, err == 0 ? "client closed" : "connection error");
}

static void on_readable(struct conn *c)
{
	struct smtpd *s = c->arg;

	smtpd_touch(s);
	smtpd_process(s);
}

static const struct conn_ops smtpd_ops = {
        .connected = NULL,
        .readable = on_readable,
        .closed = on_closed,
        .tls_done = on_tls_done,
        .drained = on_drained,
};

/* ---- the input loop --------------------------------------------------- */

void smtpd_process(struct smtpd *s)
{
	struct inbuf *in = &s->conn.in;

	if (faults_input(s))
		return;

	while (!s->closing && !s->busy && !s->tls_pending &&
	       !s->conn.tls_handshaking && in->len > 0) {
		if (s->state == SMTPD_DATA) {
			if (!smtpd_data_input(s))
				return; /* a line still incomplete */
			continue;
		}
		char *nl = memchr(in->data, '\n', in->len);
		if (!nl) {
			if (inbuf_space(in) == 0 || in->len > SRV_MAX_CMDLINE) {
				smtpd_reply(s,
				            "500 5.5.2 Error: line too long");
				smtpd_close_after_flush(s, "line too long");
			}
			return;
		}
		size_t len = (size_t)(nl - in->data);
		size_t used = len + 1;
		if (len > 0 && in->data[len - 1] == '\r')
			len--;
		char *line = in->data;
		if (len > SRV_MAX_CMDLINE) {
			smtpd_reply(s, "500 5.5.2 Error: line too long");
			smtpd_close_after_flush(s, "line too long");
		} else {
			/* The command is copied: handlers may consume the
			 * buffer (STARTTLS discards what follows). */
			char cmd[SRV_MAX_CMDLINE + 1];
			memcpy(cmd, line, len);
			cmd[len] = '\0';
			inbuf_consume(in, used);
			smtpd_command(s, cmd, len);
			continue;
		}
		inbuf_consume(in, used);
	}
}

void smtpd_start(struct srv_listener *l, int fd, const struct sockaddr *peer)
{
	struct server *srv = l->srv;
	struct smtpd *s = calloc(1, sizeof(*s));

	if (!s) {
		close(fd);
		return;
	}
	s->srv = srv;
	s->l = l;
	s->policy = l->policy;
	s->state = SMTPD_CMD;
	s->cl.family = peer->sa_family;
	if (peer->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)peer;
		memcpy(s->cl.addr, &in->sin_addr, 4);
		inet_ntop(AF_INET, &in->sin_addr, s->ip, sizeof(s->ip));
		snprintf(s->client, sizeof(s->client), "%s:%u", s->ip,
		         ntohs(in->sin_port));
	} else {
		const struct sockaddr_in6 *in6 =
		        (const struct sockaddr_in6 *)peer;
		memcpy(s->cl.addr, &in6->sin6_addr, 16);
		inet_ntop(AF_INET6, &in6->sin6_addr, s->ip, sizeof(s->ip));
		snprintf(s->client, sizeof(s->client), "[%s]:%u", s->ip,
		         ntohs(in6->sin6_port));
	}
	s->next = srv->sessions;
	srv->sessions = s;
	srv->nsessions++;
	srv->stats.connections++;
	uv_timer_init(srv->loop, &s->timer);
	uv_timer_init(srv->loop, &s->delay);
	s->timer.data = s;
	s->delay.data = s;
	s->handles = 3;
	if (conn_init(&s->conn, srv->loop, &smtpd_ops, s) < 0 ||
	    conn_adopt(&s->conn, fd) < 0) {
		close(fd);
		s->conn.fd = -1;
		smtpd_close(s, "out of resources");
		return;
	}
	srv_log_event(srv->log, "connect", "client", s->client, "listener",
	              l->bound, "policy", s->policy->name, NULL);

	const struct srv_policy *p = s->policy;
	unsigned maxc = p->max_connections ? p->max_connections : 100;
	double now = uv_now(srv->loop) / 1000.0;
	int lim = 0;
	if (srv->nsessions > maxc || srv->stopping)
		lim = 3;
	else
		lim = srv_throttle_connect(srv->throttle, s->ip, now,
		                           p->conn_per_ip, p->conn_rate);
	if (lim == 0 && srv->nsessions <= maxc && !srv->stopping)
		s->throttle_held = 1;
	if (lim) {
		srv->stats.refused_connections++;
		const char *why =
		        lim == 1   ? "too many connections from"
		        : lim == 2 ? "too many connections per minute from"
		                   : "too many connections, sorry";
		smtpd_reply(s, "421 4.7.0 %s Error: %s%s%s", p->hostname, why,
		            lim < 3 ? " " : "", lim < 3 ? s->ip : "");
		srv_log_event(srv->log, "refused", "client", s->client,
		              "reason", why, NULL);
		smtpd_close_after_flush(s, "connection limit");
		return;
	}
	smtpd_touch(s);
	if (l->mode == SRV_MODE_IMPLICIT) {
		if (conn_start_tls_server(&s->conn, srv->tls) < 0)
			smtpd_close(s, "tls setup failed");
		return;
	}
	s->greeted = 1;
	greet(s);
}

void smtpd_shutdown_all(struct server *srv)
{
	for (struct smtpd *s = srv->sessions; s; s = s->next) {
		if (s->closing)
			continue;
		smtpd_reply(s, "421 4.3.2 %s Service shutting down",
		            s->policy->hostname);
		smtpd_close_after_flush(s, "shutdown");
	}
}
