/* smtpd_data.c - the message of a `smtprobe serve` session: DATA's lines
 * (dot-unstuffed, size-capped) and the store, whose success alone earns
 * the 250.
 *
 * Promises: a message longer than the policy's size limit (or than
 * SMTPD_MAX_DATA) is read to its end and refused with 552, so no client
 * can make the server allocate without bound; the 250 goes out only after
 * srv_maildir_store() has returned (durably, unless --no-fsync). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "faults.h"
#include "log.h"
#include "smtpd_int.h"
#include "banned.h"

/* The message is stored (or could not be): log, reply, next transaction. */
static void store_done(struct smtpd *s, int failed)
{
	if (failed) {
		srv_log_event(s->srv->log, "store-failed", "client", s->client,
		              "error", s->store_err, NULL);
		smtpd_reply(s, "451 4.3.0 Error: queue file write error");
	} else {
		char size[32];
		snprintf(size, sizeof(size), "%zu", s->data_len);
		s->srv->stats.messages++;
		s->srv->stats.bytes += s->data_len;
		srv_log_event(s->srv->log, "stored", "client", s->client, "id",
		              s->store_id, "from", s->mail_from, "size", size,
		              "user", s->auth_user[0] ? s->auth_user : NULL,
		              NULL);
		if (!faults_apply(s, "dot"))
			smtpd_reply(s, "250 2.0.0 Ok: queued as %s",
			            s->store_id);
	}
	smtpd_reset_transaction(s);
}

static void on_stored(uv_work_t *w, int status)
{
	struct smtpd *s = w->data;

	s->busy = 0;
	if (s->closed) {
		smtpd_unref(s);
		return;
	}
	s->handles--;
	store_done(s, status < 0 || s->store_rc < 0);
	smtpd_touch(s);
	smtpd_process(s);
}

static void store_work(uv_work_t *w)
{
	struct smtpd *s = w->data;
	const char *rcpts[SMTPD_MAX_RCPT];
	char client[96];

	for (size_t i = 0; i < s->nrcpt; i++)
		rcpts[i] = s->rcpt[i];
	snprintf(client, sizeof(client), "%s", s->client);
	struct srv_envelope env = {
	        .listener = s->l->bound,
	        .client = client,
	        .helo = s->helo,
	        .auth_user = s->auth_user[0] ? s->auth_user : NULL,
	        .mail_from = s->mail_from,
	        .rcpt = rcpts,
	        .nrcpt = s->nrcpt,
	        .tls_protocol = s->cl.tls ? s->tls_protocol : NULL,
	        .tls_cipher = s->cl.tls ? s->tls_cipher : NULL,
	        .received = s->data_started,
	};
	s->store_rc = srv_maildir_store(
	        s->srv->maildir, &env, s->data, s->data_len, s->store_id,
	        sizeof(s->store_id), s->store_err, sizeof(s->store_err));
}

static void end_of_data(struct smtpd *s)
{
	s->state = SMTPD_CMD;
	if (s->data_too_big) {
		smtpd_reply(s, "552 5.3.4 Error: message file too big");
		smtpd_reset_transaction(s);
		return;
	}
	if (!s->srv->maildir) {
		char size[32];
		snprintf(size, sizeof(size), "%zu", s->data_len);
		snprintf(s->store_id, sizeof(s->store_id), "%lx.%lu",
		         (unsigned long)time(NULL), ++s->srv->next_id);
		s->srv->stats.messages++;
		srv_log_event(s->srv->log, "accepted", "client", s->client,
		              "id", s->store_id, "from", s->mail_from, "size",
		              size, "stored", "no", NULL);
		if (!faults_apply(s, "dot"))
			smtpd_reply(s, "250 2.0.0 Ok: queued as %s",
			            s->store_id);
		smtpd_reset_transaction(s);
		return;
	}
	s->work.data = s;
	if (!s->srv->opt.durable) {
		/* Without fsync a store is a few cheap system calls: doing it
		 * here saves the hand-off to the thread pool and back. */
		store_work(&s->work);
		store_done(s, s->store_rc < 0);
		return;
	}
	/* The 250 waits for the durable write, off the event loop. */
	s->busy = 1;
	s->handles++;
	s->work.data = s;
	if (uv_queue_work(s->srv->loop, &s->work, store_work, on_stored) < 0) {
		s->busy = 0;
		s->handles--;
		smtpd_reply(s, "451 4.3.0 Error: queue file write error");
		smtpd_reset_transaction(s);
	}
}

/* One line of the message (without its CRLF). */
static void data_line(struct smtpd *s, const char *line, size_t len)
{
	if (s->reset_in_data) {
		/* fault: a TCP reset while the message arrives */
		struct linger lg = {1, 0};
		setsockopt(s->conn.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		smtpd_close(s, "fault: reset in DATA");
		return;
	}
	if (len == 1 && line[0] == '.') {
		end_of_data(s);
		return;
	}
	if (len > 0 && line[0] == '.') { /* dot-stuffing */
		line++;
		len--;
	}
	unsigned long max = s->policy->max_size;
	size_t need = s->data_len + len + 2;
	if ((max && need > max) || need > SMTPD_MAX_DATA) {
		s->data_too_big = 1;
		return;
	}
	if (need > s->data_cap) {
		size_t cap = s->data_cap ? s->data_cap : 16384;
		while (cap < need)
			cap *= 2;
		char *n = realloc(s->data, cap);
		if (!n) {
			s->data_too_big = 1;
			return;
		}
		s->data = n;
		s->data_cap = cap;
	}
	memcpy(s->data + s->data_len, line, len);
	memcpy(s->data + s->data_len + len, "\r\n", 2);
	s->data_len += len + 2;
}

void smtpd_data_begin(struct smtpd *s)
{
	s->state = SMTPD_DATA;
	s->data_len = 0;
	s->data_too_big = 0;
	s->data_started = time(NULL);
}

int smtpd_data_input(struct smtpd *s)
{
	struct inbuf *in = &s->conn.in;
	char *nl = memchr(in->data, '\n', in->len);

	if (!nl) {
		if (inbuf_space(in) == 0 || in->len > SRV_MAX_CMDLINE) {
			/* a message line without end: keep the message
			 * honest, refuse it */
			s->data_too_big = 1;
			inbuf_consume(in, in->len);
			return 1;
		}
		return 0;
	}
	size_t len = (size_t)(nl - in->data);
	size_t used = len + 1;
	if (len > 0 && in->data[len - 1] == '\r')
		len--;
	data_line(s, in->data, len);
	if (!s->closed)
		inbuf_consume(in, used);
	return 1;
}

void smtpd_data_release(struct smtpd *s)
{
	free(s->data);
	s->data = NULL;
	s->data_cap = 0;
}
