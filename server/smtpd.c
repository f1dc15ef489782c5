/* smtpd.c - one SMTP session of `smtprobe serve`: commands in, replies
 * out, the relay policy applied at every step, every wait bounded.
 *
 * Command lines are found in the connection's bounded buffer (lib/core/
 * line.c via lib/core/conn.c) whatever the TCP segmentation: RFC 5321
 * 4.5.3.1.4 allows 512 octets, SMTPD_MAX_CMDLINE (2048 octets of text, as
 * Postfix's line_length_limit) is taken, and a longer line - in one write
 * or many, ending or not - is answered 500 5.5.2 and the session ends: a
 * client sending one is broken or hostile, and reading on would let it
 * hold the session. The message after DATA is smtpd_data.c's. Pipelined
 * commands are answered in order; reading pauses while a message is being
 * stored, a reply is delayed, or SMTPD_OUT_HIGH bytes of replies wait for
 * a client that does not read them.
 *
 * Deadlines: one timer per session, armed at the earliest of the deadlines
 * that apply to what it waits for (smtpd_deadline, a pure function of the
 * session's clock, the table below): the TLS handshake, each command
 * (counted from the last complete one, not the last byte: a client
 * dripping bytes gains nothing), the message (between bytes, as a whole,
 * a bytes-per-second floor), the whole session. A timed-out session gets
 * 421 4.4.2 and is closed once that has gone out, at most SMTPD_FLUSH_MS
 * later; inside a TLS handshake nothing can be said in clear: it is closed
 * at once. Every timer stops when the session closes.
 *
 * Connection slots: the policy's connections_per_ip, connection_rate and
 * max_connections, with the fair-sharing rule of throttle.h: when the
 * server is full, a newcomer from an address holding fewer slots than the
 * biggest holder takes the least recently active idle slot of that holder
 * (which gets 421 4.7.0). Refusals are counted per reason (srv_stats).
 * A message gets its 250 only after the store has made it durable. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
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

/* A command line's text may be this long (RFC 5321: 512 octets with the
 * CRLF; Postfix takes 2048); longer gets 500 5.5.2. */
#define SMTPD_MAX_CMDLINE SRV_MAX_CMDLINE
/* A closing session's last replies get this long to go out. */
#define SMTPD_FLUSH_MS 2000
/* Commands are not read while this many bytes of replies wait. */
#define SMTPD_OUT_HIGH (64u * 1024)
/* The data rate floor is checked from this long after the 354. */
#define SMTPD_RATE_GRACE_MS 10000u
/* A reclaim looks at this many of the biggest holder's idlest sessions. */
#define SMTPD_RECLAIM_SCAN 16

/* ---- deadlines -------------------------------------------------------- */

/* Facts per deadline: its default (srv_options at 0), its name in the
 * log, and the text of its 421 after the host name (NULL: closed without
 * a word). */
static const struct {
	unsigned dflt_ms;
	const char *name;
	const char *text;
} deadline_tab[SMTPD_DL_LAST] = {
        [SMTPD_DL_FLUSH] = {SMTPD_FLUSH_MS, "flush-timeout", NULL},
        [SMTPD_DL_TLS] = {10000, "tls-timeout", NULL},
        [SMTPD_DL_SESSION] = {3600000, "session-timeout",
                              "Error: session time limit exceeded"},
        [SMTPD_DL_COMMAND] = {300000, "timeout", "Error: timeout exceeded"},
        [SMTPD_DL_DATA_IDLE] = {300000, "data-timeout",
                                "Error: timeout exceeded"},
        [SMTPD_DL_DATA_TOTAL] = {600000, "data-time-limit",
                                 "Error: message transfer time limit "
                                 "exceeded"},
        [SMTPD_DL_DATA_RATE] = {0, "data-rate-too-low",
                                "Error: message transfer too slow"},
};

static uint64_t ms_or_default(unsigned v, enum smtpd_deadline d)
{
	return v ? v : deadline_tab[d].dflt_ms;
}

const char *smtpd_deadline_name(enum smtpd_deadline d)
{
	return (unsigned)d < SMTPD_DL_LAST ? deadline_tab[d].name : "?";
}

uint64_t smtpd_deadline(const struct smtpd_clock *c,
                        const struct srv_options *o, enum smtpd_deadline *which)
{
	uint64_t at[SMTPD_DL_LAST];

	for (int d = 0; d < SMTPD_DL_LAST; d++)
		at[d] = UINT64_MAX;
	if (c->wait == SMTPD_WAIT_FLUSH) {
		at[SMTPD_DL_FLUSH] = c->closing + SMTPD_FLUSH_MS;
	} else {
		at[SMTPD_DL_SESSION] =
		        c->start +
		        ms_or_default(o->session_max_ms, SMTPD_DL_SESSION);
	}
	switch (c->wait) {
	case SMTPD_WAIT_TLS:
		at[SMTPD_DL_TLS] =
		        c->tls + ms_or_default(o->tls_timeout_ms, SMTPD_DL_TLS);
		break;
	case SMTPD_WAIT_COMMAND:
		at[SMTPD_DL_COMMAND] =
		        c->command +
		        ms_or_default(o->timeout_ms, SMTPD_DL_COMMAND);
		break;
	case SMTPD_WAIT_DATA:
		at[SMTPD_DL_DATA_IDLE] =
		        c->data_last +
		        ms_or_default(o->data_timeout_ms, SMTPD_DL_DATA_IDLE);
		at[SMTPD_DL_DATA_TOTAL] =
		        c->data +
		        ms_or_default(o->data_max_ms, SMTPD_DL_DATA_TOTAL);
		if (o->data_min_rate) {
			/* the moment the average since the 354 falls below
			 * the floor if nothing more arrives */
			uint64_t need = c->data_bytes * 1000 / o->data_min_rate;
			at[SMTPD_DL_DATA_RATE] =
			        c->data + (need > SMTPD_RATE_GRACE_MS
			                           ? need
			                           : SMTPD_RATE_GRACE_MS);
		}
		break;
	case SMTPD_WAIT_FLUSH:
	case SMTPD_WAIT_LAST:
		break;
	}
	enum smtpd_deadline best = SMTPD_DL_SESSION;
	for (int d = 0; d < SMTPD_DL_LAST; d++)
		if (at[d] < at[best])
			best = (enum smtpd_deadline)d;
	if (which)
		*which = best;
	return at[best];
}

static void on_deadline(uv_timer_t *t);

static enum smtpd_wait wait_now(const struct smtpd *s)
{
	if (s->closing && !s->held)
		return SMTPD_WAIT_FLUSH;
	if (s->tls_pending || s->conn.tls_handshaking)
		return SMTPD_WAIT_TLS;
	if (s->state == SMTPD_DATA)
		return SMTPD_WAIT_DATA;
	return SMTPD_WAIT_COMMAND;
}

/* The one place the wait changes: it records when the new one began. */
static void wait_update(struct smtpd *s)
{
	enum smtpd_wait w = wait_now(s);
	uint64_t now = uv_now(s->srv->loop);

	if (w == s->clk.wait)
		return;
	switch (w) {
	case SMTPD_WAIT_COMMAND:
		s->clk.command = now;
		break;
	case SMTPD_WAIT_TLS:
		s->clk.tls = now;
		break;
	case SMTPD_WAIT_DATA:
		s->clk.data = s->clk.data_last = now;
		s->clk.data_bytes = 0;
		break;
	case SMTPD_WAIT_FLUSH:
		s->clk.closing = now;
		break;
	case SMTPD_WAIT_LAST:
		break;
	}
	s->clk.wait = w;
}

/* Arm the timer for the earliest deadline. A later one leaves it alone:
 * on_deadline finds the deadline moved and re-arms, so the many calls
 * (every read inside DATA) cost no timer-heap work. */
static void smtpd_arm(struct smtpd *s)
{
	if (s->closed)
		return;
	wait_update(s);
	uint64_t now = uv_now(s->srv->loop);
	uint64_t at = smtpd_deadline(&s->clk, &s->srv->opt, NULL);
	if (uv_is_active((uv_handle_t *)&s->timer) && s->armed <= at)
		return;
	s->armed = at;
	uv_timer_start(&s->timer, on_deadline, at > now ? at - now : 0, 0);
}

/* The session is doing something: its deadlines start over (per command)
 * and it becomes its address's least likely slot to be reclaimed. */
static void mark_command(struct smtpd *s)
{
	s->clk.command = uv_now(s->srv->loop);
	srv_throttle_touch(s->srv->throttle, &s->peer);
}

void smtpd_touch(struct smtpd *s)
{
	if (s->closed)
		return;
	mark_command(s);
	smtpd_arm(s);
}

/* Message bytes were read (as sent, before dot-unstuffing). */
static void mark_data(struct smtpd *s, size_t n)
{
	if (n == 0 || s->clk.wait != SMTPD_WAIT_DATA)
		return;
	s->clk.data_bytes += n;
	s->clk.data_last = uv_now(s->srv->loop);
	srv_throttle_touch(s->srv->throttle, &s->peer);
}

/* Drop replies held back by a fault or a delay, and its timer. */
static void cancel_holds(struct smtpd *s)
{
	uv_timer_stop(&s->delay);
	s->held = 0;
	s->heldlen = 0;
	free(s->drip);
	s->drip = NULL;
	s->drip_len = s->drip_pos = 0;
}

static void count_timeout(struct server *srv, enum smtpd_deadline d)
{
	switch (d) {
	case SMTPD_DL_TLS:
		srv->stats.timeout_tls++;
		break;
	case SMTPD_DL_SESSION:
		srv->stats.timeout_session++;
		break;
	case SMTPD_DL_COMMAND:
		srv->stats.timeout_command++;
		break;
	case SMTPD_DL_DATA_IDLE:
	case SMTPD_DL_DATA_TOTAL:
	case SMTPD_DL_DATA_RATE:
		srv->stats.timeout_data++;
		break;
	case SMTPD_DL_FLUSH:
	case SMTPD_DL_LAST:
		break;
	}
}

/* Say 421 where it can be said, then close (at most SMTPD_FLUSH_MS on). */
static void smtpd_end(struct smtpd *s, const char *code, const char *text,
                      const char *why)
{
	if (s->closing || s->conn.tls_handshaking || s->tls_pending) {
		/* nothing can be said in clear inside a TLS handshake */
		smtpd_close(s, why);
		return;
	}
	cancel_holds(s);
	smtpd_reply(s, "%s %s %s", code, s->policy->hostname, text);
	smtpd_close_after_flush(s, why);
}

static void on_deadline(uv_timer_t *t)
{
	struct smtpd *s = t->data;
	enum smtpd_deadline d;
	uint64_t now = uv_now(s->srv->loop);
	uint64_t at = smtpd_deadline(&s->clk, &s->srv->opt, &d);

	if (s->closed)
		return;
	if (at > now) { /* it moved on since the timer was armed */
		s->armed = at;
		uv_timer_start(t, on_deadline, at - now, 0);
		return;
	}
	if (d == SMTPD_DL_FLUSH) {
		smtpd_close(s, s->close_reason ? s->close_reason : "closed");
		return;
	}
	count_timeout(s->srv, d);
	smtpd_end(s, "421 4.4.2",
	          deadline_tab[d].text ? deadline_tab[d].text : "",
	          deadline_tab[d].name);
}

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
	if (s->closing) {
		if (s->closed)
			return;
		if (outq_pending(&s->conn.out) == 0)
			smtpd_close(s, s->close_reason ? s->close_reason
			                               : "closed");
		else
			smtpd_arm(s); /* the flush deadline starts now */
		return;
	}
	smtpd_touch(s);
	smtpd_process(s);
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
	smtpd_arm(s);
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
	srv_throttle_leave(srv->throttle, &s->peer); /* (already, normally) */
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
	/* its descriptor goes now: so does its slot */
	if (s->peer.slot >= 0) {
		srv_throttle_leave(s->srv->throttle, &s->peer);
		s->srv->nadmitted--;
	}
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

void smtpd_close_after_flush(struct smtpd *s, const char *why)
{
	if (s->closed)
		return;
	s->closing = 1;
	s->close_reason = why;
	/* no longer a slot worth reclaiming: it is going */
	srv_throttle_unlist(s->srv->throttle, &s->peer);
	if (s->conn.tls_handshaking) {
		smtpd_close(s, why); /* nothing can go out in clear */
		return;
	}
	/* Held replies (a delay) go out first: on_delay_done closes then. */
	if (outq_pending(&s->conn.out) == 0 && !s->held) {
		smtpd_close(s, why);
		return;
	}
	smtpd_arm(s); /* SMTPD_FLUSH_MS from now at most */
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
	if (c->read_done) {
		smtpd_close(s, "client closed"); /* no handshake can come */
		return;
	}
	if (conn_start_tls_server(c, s->srv->tls) < 0) {
		smtpd_close(s, "tls setup failed");
		return;
	}
	smtpd_arm(s);
}

static void on_drained(struct conn *c)
{
	struct smtpd *s = c->arg;

	if (s->closing) {
		if (!s->closed && !s->held)
			smtpd_close(s, s->close_reason ? s->close_reason
			                               : "closed");
		return;
	}
	if (s->tls_pending) {
		smtpd_begin_tls(s);
		return;
	}
	smtpd_process(s); /* commands waiting for the replies to drain */
}

/* ---- the transaction ------------------------------------------------ */

void smtpd_reset_transaction(struct smtpd *s)
{
	for (size_t i = 0; i < s->nrcpt; i++) {
		free(s->rcpt[i]);
		free(s->rcpt_orcpt[i]);
		s->rcpt_orcpt[i] = NULL;
		s->rcpt_notify[i] = 0;
	}
	s->nrcpt = 0;
	s->has_mail = 0;
	s->mail_from[0] = '\0';
	memset(&s->mailp, 0, sizeof(s->mailp));
	s->bdat = 0;
	smtpd_data_release(s); /* a message begun by BDAT goes too */
	s->data_len = 0;
	s->data_too_big = 0;
}

static void greet(struct smtpd *s)
{
	if (faults_apply(s, "connect"))
		return;
	smtpd_reply(s, "220 %s %s smtprobe", s->policy->hostname,
	            s->l->mode == SRV_MODE_LMTP ? "LMTP" : "ESMTP");
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

/* The client half-closed (shutdown after QUIT, as Exim does): what it sent
 * before is still answered; smtpd_process ends the session once nothing
 * more can happen. */
static void on_read_done(struct conn *c)
{
	smtpd_process(c->arg);
}

/* Bytes arrived. They do not move the command deadline (only a complete
 * command does): a client dripping a byte at a time still times out. */
static void on_readable(struct conn *c)
{
	smtpd_process(c->arg);
}

static const struct conn_ops smtpd_ops = {
        .connected = NULL,
        .readable = on_readable,
        .closed = on_closed,
        .tls_done = on_tls_done,
        .drained = on_drained,
        .read_done = on_read_done,
};

/* ---- the input loop --------------------------------------------------- */

/* One command line from the input buffer: 1 when one was handled, 0 when
 * it is not complete yet, -1 when it was too long (the session ends). */
static int take_command(struct smtpd *s)
{
	struct inbuf *in = &s->conn.in;
	size_t text, used;
	enum line_scan r =
	        line_scan(in->data, in->len, SMTPD_MAX_CMDLINE, &text, &used);

	/* (a full buffer without a line end is over the cap: it holds far
	 * more than a line) */
	if (r == LINE_TOO_LONG ||
	    (r == LINE_INCOMPLETE && inbuf_space(in) == 0)) {
		smtpd_reply(s, "500 5.5.2 Error: line too long");
		smtpd_close_after_flush(s, "line too long");
		return -1;
	}
	if (r == LINE_INCOMPLETE)
		return 0;
	/* The command is copied: handlers may consume the buffer (STARTTLS
	 * discards what follows). */
	char cmd[SMTPD_MAX_CMDLINE + 1];
	memcpy(cmd, in->data, text);
	cmd[text] = '\0';
	inbuf_consume(in, used);
	mark_command(s);
	smtpd_command(s, cmd, text);
	return 1;
}

void smtpd_process(struct smtpd *s)
{
	struct inbuf *in = &s->conn.in;

	if (s->closed)
		return;
	if (faults_input(s)) {
		smtpd_arm(s);
		return;
	}
	while (!s->closing && !s->busy && !s->tls_pending &&
	       !s->conn.tls_handshaking && in->len > 0 &&
	       outq_pending(&s->conn.out) < SMTPD_OUT_HIGH) {
		if (s->state == SMTPD_DATA) {
			size_t before = in->len;
			int more = smtpd_data_input(s);
			if (s->closed)
				return;
			mark_data(s, before - in->len);
			wait_update(s); /* the message may have ended */
			if (!more)
				break; /* a line still incomplete */
			continue;
		}
		if (take_command(s) <= 0)
			break;
		if (s->closed)
			return;
		wait_update(s); /* DATA may have begun */
	}
	if (s->conn.read_done && !s->closing && !s->busy && !s->tls_pending &&
	    !s->conn.tls_handshaking &&
	    outq_pending(&s->conn.out) < SMTPD_OUT_HIGH) {
		/* whatever is left in the input is an unfinished line or
		 * message that can never end */
		smtpd_close_after_flush(s, "client closed");
		return;
	}
	smtpd_arm(s);
}

/* Could this session give its slot to a newcomer? Only one waiting for
 * its client between commands (or in a TLS handshake): not one in DATA,
 * storing, held by a fault, or already closing. */
static int reclaimable(const struct smtpd *s)
{
	return !s->closing && !s->storing && !s->busy && !s->held &&
	       s->state != SMTPD_DATA;
}

static struct smtpd *reclaim_victim(struct srv_peer *oldest)
{
	struct srv_peer *p = oldest;

	for (int i = 0; p && i < SMTPD_RECLAIM_SCAN; i++, p = p->next) {
		struct smtpd *v =
		        (struct smtpd *)(void *)((char *)p -
		                                 offsetof(struct smtpd, peer));
		if (reclaimable(v))
			return v;
	}
	return NULL;
}

enum refusal { REF_NONE, REF_SHUTDOWN, REF_PER_IP, REF_RATE, REF_FULL };

/* Facts per refusal: the 421's enhanced code and text (the client's
 * address follows when with_ip), and the reason logged. */
static const struct {
	const char *code, *text, *reason;
	int with_ip;
} refusal_tab[] = {
        [REF_NONE] = {"", "", "", 0},
        [REF_SHUTDOWN] = {"4.3.2", "Service shutting down", "shutting down", 0},
        [REF_PER_IP] = {"4.7.0", "Error: too many connections from",
                        "too many connections from", 1},
        [REF_RATE] = {"4.7.0", "Error: too many connections per minute from",
                      "too many connections per minute from", 1},
        [REF_FULL] = {"4.7.0", "Error: too many connections, sorry",
                      "too many connections, sorry", 0},
};

/* Decide whether s may have a slot: REF_NONE when it has one, else why
 * not (the refusal is counted). */
static enum refusal admit(struct smtpd *s)
{
	struct server *srv = s->srv;
	const struct srv_policy *p = s->policy;
	unsigned maxc = p->max_connections ? p->max_connections : 100;
	double now = uv_now(srv->loop) / 1000.0;
	struct srv_peer *oldest = NULL;
	struct smtpd *victim = NULL;
	unsigned held, top = 0;

	if (srv->stopping) {
		srv->stats.refused_shutdown++;
		return REF_SHUTDOWN;
	}
	held = srv_throttle_held(srv->throttle, s->ip);
	if (srv->nadmitted >= maxc)
		top = srv_throttle_top(srv->throttle, &oldest);
	switch (srv_fair_admit(srv->nadmitted, maxc, held, top,
	                       p->conn_per_ip)) {
	case SRV_REFUSE_PER_IP:
		srv->stats.refused_per_ip++;
		return REF_PER_IP;
	case SRV_REFUSE_FULL:
		srv->stats.refused_max++;
		return REF_FULL;
	case SRV_ADMIT_RECLAIM:
		victim = reclaim_victim(oldest);
		if (!victim) {
			srv->stats.refused_max++;
			return REF_FULL;
		}
		break;
	case SRV_ADMIT:
		break;
	}
	if (srv_throttle_rate(srv->throttle, s->ip, now, p->conn_rate)) {
		srv->stats.refused_rate++;
		return REF_RATE;
	}
	if (srv_throttle_join(srv->throttle, s->ip, now, &s->peer) < 0) {
		srv->stats.refused_max++; /* the address table is full */
		return REF_FULL;
	}
	srv->nadmitted++;
	if (victim) {
		srv->stats.reclaimed++;
		srv_log_event(srv->log, "reclaimed", "client", victim->client,
		              "for", s->client, NULL);
		char text[128];
		snprintf(text, sizeof(text),
		         "Error: too many connections from %s", victim->ip);
		smtpd_end(victim, "421 4.7.0", text, "reclaimed");
	}
	return REF_NONE;
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
	srv_peer_init(&s->peer);
	s->clk.wait = SMTPD_WAIT_LAST; /* the first smtpd_arm sets it */
	s->clk.start = s->clk.command = uv_now(srv->loop);
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

	enum refusal r = admit(s);
	if (r != REF_NONE) {
		srv->stats.refused_connections++;
		smtpd_reply(s, "421 %s %s %s%s%s", refusal_tab[r].code,
		            s->policy->hostname, refusal_tab[r].text,
		            refusal_tab[r].with_ip ? " " : "",
		            refusal_tab[r].with_ip ? s->ip : "");
		srv_log_event(srv->log, "refused", "client", s->client,
		              "reason", refusal_tab[r].reason, NULL);
		smtpd_close_after_flush(s, "connection limit");
		return;
	}
	if (l->mode == SRV_MODE_IMPLICIT) {
		if (conn_start_tls_server(&s->conn, srv->tls) < 0) {
			smtpd_close(s, "tls setup failed");
			return;
		}
		smtpd_arm(s);
		return;
	}
	s->greeted = 1;
	greet(s);
	smtpd_arm(s);
}

void smtpd_shutdown_all(struct server *srv)
{
	for (struct smtpd *s = srv->sessions; s; s = s->next) {
		if (s->closing)
			continue;
		smtpd_end(s, "421 4.3.2", "Service shutting down", "shutdown");
	}
}
