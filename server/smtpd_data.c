/* smtpd_data.c - the message of a `smtprobe serve` session: DATA's lines,
 * dot-unstuffed and streamed into the store as they arrive, and the
 * commit whose success alone earns the 250.
 *
 * Promises:
 * - Lines are found whatever the TCP segmentation: a line is read in
 *   pieces when it does not fit the input buffer, so its length, not the
 *   way it arrived, decides; a line up to SMTPD_MAX_DATA_LINE is taken as
 *   is (bare LF ends a line too and is stored as CRLF), a longer one makes
 *   the message refused with 554 5.6.0 at its end.
 * - Memory per session does not grow with the message: bytes go to the
 *   store (store.h buffers a bounded amount); a message over the policy's
 *   size limit (or SMTPD_MAX_DATA) is read to its end and refused with
 *   552 5.3.4, never stored.
 * - The 250 goes out only once the store says the message is durable; a
 *   store that fails (a full disk) gets 452 4.3.1, any other failure
 *   451 4.3.0, never 250. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "faults.h"
#include "dataline.h"
#include "log.h"
#include "smtpd_int.h"
#include "banned.h"

/* The transaction is over (stored, refused or failed): the next one. */
static void data_end(struct smtpd *s)
{
	if (s->msg) {
		srv_msg_abort(s->msg);
		s->msg = NULL;
	}
	s->data_line_len = 0;
	s->data_mid_line = 0;
	s->data_line_too_big = 0;
	s->data_failed = 0;
	smtpd_reset_transaction(s);
}

static void log_stored(struct smtpd *s, const char *id, int stored)
{
	s->srv->stats.messages++;
	s->srv->stats.bytes += s->data_len;
	const struct srv_log_field f[] = {
	        SRV_LOG_S("client", s->client),
	        SRV_LOG_S("id", id),
	        SRV_LOG_S("from", s->mail_from),
	        SRV_LOG_N("size", s->data_len),
	        SRV_LOG_S("user", s->auth_user[0] ? s->auth_user : NULL),
	        SRV_LOG_S("stored", stored ? NULL : "no"),
	};
	srv_log_fields(s->srv->log, stored ? "stored" : "accepted", f,
	               sizeof(f) / sizeof(f[0]));
}

int smtpd_lmtp(const struct smtpd *s)
{
	return s->l->mode == SRV_MODE_LMTP;
}

/* The reply at the end of a message: one in SMTP; in LMTP one per
 * recipient, in order, each naming it (RFC 2033 4.2). */
static void final_reply(struct smtpd *s, const char *code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void final_reply(struct smtpd *s, const char *code, const char *fmt, ...)
{
	char text[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (!smtpd_lmtp(s)) {
		smtpd_reply(s, "%s %s", code, text);
		return;
	}
	for (size_t i = 0; i < s->nrcpt; i++)
		smtpd_reply(s, "%s <%.300s> %s", code, s->rcpt[i], text);
}

/* The store's answer, on the loop (at once when it does not sync). */
static void on_committed(void *arg, int rc, const char *id, const char *err)
{
	struct smtpd *s = arg;

	s->storing = 0;
	s->busy = 0;
	if (s->closed) {
		smtpd_unref(s); /* the client left: the message is kept */
		return;
	}
	s->handles--;
	if (rc < 0) {
		s->srv->stats.errors++;
		srv_log_event(s->srv->log, "store-failed", "client", s->client,
		              "error", err, NULL);
		if (rc == -ENOSPC || rc == -EDQUOT)
			final_reply(s, "452 4.3.1",
			            "Insufficient system storage");
		else
			final_reply(s, "451 4.3.0",
			            "Error: queue file write error");
	} else {
		log_stored(s, id, 1);
		if (!faults_apply(s, "dot"))
			final_reply(s, "250 2.0.0", "Ok: queued as %s", id);
	}
	data_end(s);
	if (!s->committing) {
		smtpd_touch(s);
		smtpd_process(s);
	}
}

/* The message ended (DATA's dot, BDAT's LAST chunk). */
static void end_of_message(struct smtpd *s)
{
	s->state = SMTPD_CMD;
	if (s->data_too_big) {
		final_reply(s, "552 5.3.4", "Error: message file too big");
		data_end(s);
		return;
	}
	if (s->data_line_too_big) {
		final_reply(s, "554 5.6.0",
		            "Error: message line longer than %u bytes",
		            SMTPD_MAX_DATA_LINE);
		data_end(s);
		return;
	}
	if (!s->msg) {
		if (s->data_failed) { /* the store refused the message */
			final_reply(s, "451 4.3.0",
			            "Error: queue file write error");
			data_end(s);
			return;
		}
		char id[64];
		snprintf(id, sizeof(id), "%lx.%lu", (unsigned long)time(NULL),
		         ++s->srv->next_id);
		log_stored(s, id, 0);
		if (!faults_apply(s, "dot"))
			final_reply(s, "250 2.0.0", "Ok: queued as %s", id);
		data_end(s);
		return;
	}
	/* the 250 waits for the store; reading pauses meanwhile */
	struct srv_msg *m = s->msg;
	s->msg = NULL;
	s->busy = 1;
	s->storing = 1;
	s->handles++;
	s->committing = 1;
	srv_msg_commit(m, on_committed, s);
	s->committing = 0;
}

/* Bytes of the message (dot-unstuffed, line end included). */
static void data_bytes(struct smtpd *s, const char *p, size_t n)
{
	unsigned long max = s->policy->max_size;

	if (s->data_too_big || s->data_line_too_big)
		return;
	if ((max && s->data_len + n > max) ||
	    s->data_len + n > SMTPD_MAX_DATA) {
		s->data_too_big = 1;
		if (s->msg) {
			srv_msg_abort(s->msg);
			s->msg = NULL;
		}
		return;
	}
	s->data_len += n;
	if (s->msg && srv_msg_write(s->msg, p, n) < 0) {
		/* keep reading to the end; the commit reports the failure */
		s->data_failed = 1;
	}
}

/* data_scan's output: the message's bytes. */
static void out_bytes(void *ctx, const char *p, size_t n)
{
	data_bytes(ctx, p, n);
}

/* The message begins (DATA, or the first BDAT): into the store. */
static void msg_begin(struct smtpd *s)
{
	static const char *const body[] = {
	        [SRV_BODY_NONE] = NULL,
	        [SRV_BODY_7BIT] = "7BIT",
	        [SRV_BODY_8BITMIME] = "8BITMIME",
	};
	static const char *const ret[] = {
	        [SRV_RET_NONE] = NULL,
	        [SRV_RET_FULL] = "FULL",
	        [SRV_RET_HDRS] = "HDRS",
	};
	char err[256];

	s->data_len = 0;
	s->data_too_big = 0;
	s->data_failed = 0;
	s->data_line_len = 0;
	s->data_mid_line = 0;
	s->data_line_too_big = 0;
	s->data_started = time(NULL);
	if (!s->srv->store)
		return;
	const char *rcpts[SMTPD_MAX_RCPT], *notify[SMTPD_MAX_RCPT];
	for (size_t i = 0; i < s->nrcpt; i++) {
		rcpts[i] = s->rcpt[i];
		notify[i] = srv_notify_text(s->rcpt_notify[i]);
	}
	struct srv_envelope env = {
	        .listener = s->l->bound,
	        .client = s->client,
	        .helo = s->helo,
	        .auth_user = s->auth_user[0] ? s->auth_user : NULL,
	        .mail_from = s->mail_from,
	        .rcpt = rcpts,
	        .nrcpt = s->nrcpt,
	        .tls_protocol = s->cl.tls ? s->tls_protocol : NULL,
	        .tls_cipher = s->cl.tls ? s->tls_cipher : NULL,
	        .received = s->data_started,
	        .smtputf8 = s->mailp.smtputf8,
	        .body = body[s->mailp.body],
	        .dsn_ret = ret[s->mailp.ret],
	        .dsn_envid = s->mailp.envid[0] ? s->mailp.envid : NULL,
	        .rcpt_notify = notify,
	        .rcpt_orcpt = (const char *const *)s->rcpt_orcpt,
	};
	s->msg = srv_msg_begin(s->srv->store, &env, err, sizeof(err));
	if (!s->msg) {
		s->data_failed = 1;
		srv_log_event(s->srv->log, "store-failed", "client", s->client,
		              "error", err, NULL);
	}
}

void smtpd_data_begin(struct smtpd *s)
{
	s->state = SMTPD_DATA;
	msg_begin(s);
}

/* A chunk's bytes are all read: its reply, or the end of the message. */
static void chunk_done(struct smtpd *s)
{
	s->bdat_reading = 0;
	s->state = SMTPD_CMD;
	if (s->bdat_reply[0]) {
		smtpd_reply(s, "%s", s->bdat_reply);
		return;
	}
	if (s->data_too_big && !s->bdat_last) {
		/* RFC 3030 4.2: the transaction is over; later chunks find
		 * no MAIL and are refused */
		smtpd_reply(s, "552 5.3.4 Error: message file too big");
		data_end(s);
		return;
	}
	if (s->bdat_last) {
		end_of_message(s);
		return;
	}
	smtpd_reply(s, "250 2.0.0 Ok: %llu bytes",
	            (unsigned long long)s->bdat_size);
}

void smtpd_bdat_chunk(struct smtpd *s, uint64_t size, int last,
                      const char *refusal)
{
	s->bdat_reply[0] = '\0';
	if (refusal)
		snprintf(s->bdat_reply, sizeof(s->bdat_reply), "%s", refusal);
	else if (!s->bdat) {
		s->bdat = 1;
		msg_begin(s);
	}
	s->bdat_reading = 1;
	s->bdat_left = size;
	s->bdat_size = size;
	s->bdat_last = last;
	s->state = SMTPD_DATA;
	if (size == 0)
		chunk_done(s);
}

/* BDAT: the chunk's bytes as they are, no line or dot rules. */
static int bdat_input(struct smtpd *s)
{
	struct inbuf *in = &s->conn.in;
	size_t take = in->len < s->bdat_left ? in->len : (size_t)s->bdat_left;

	if (!s->bdat_reply[0])
		data_bytes(s, in->data, take);
	inbuf_consume(in, take);
	s->bdat_left -= take;
	if (s->bdat_left > 0)
		return 0;
	chunk_done(s);
	return 1;
}

int smtpd_data_input(struct smtpd *s)
{
	struct inbuf *in = &s->conn.in;
	const char *d = in->data;
	size_t n = in->len;

	if (s->reset_in_data && n > 0) {
		/* fault: a TCP reset while the message arrives */
		struct linger lg = {1, 0};
		setsockopt(s->conn.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		smtpd_close(s, "fault: reset in DATA");
		return 0;
	}
	if (s->bdat_reading)
		return bdat_input(s);
	struct data_scan st = {s->data_line_len, s->data_mid_line,
	                       s->data_line_too_big};
	size_t used;
	int end =
	        data_scan(&st, d, n, SMTPD_MAX_DATA_LINE, out_bytes, s, &used);
	if (st.line_too_big && !s->data_line_too_big && s->msg) {
		srv_msg_abort(s->msg);
		s->msg = NULL;
	}
	s->data_line_len = st.line_len;
	s->data_mid_line = st.mid_line;
	s->data_line_too_big = st.line_too_big;
	inbuf_consume(in, used);
	if (end) {
		end_of_message(s);
		return 1;
	}
	/* all but the few undecided bytes were taken: more input is needed */
	return 0;
}

void smtpd_data_release(struct smtpd *s)
{
	if (s->msg) {
		srv_msg_abort(s->msg);
		s->msg = NULL;
	}
}
