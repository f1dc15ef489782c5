/* store.c - the message store of `smtprobe serve` (store.h) over the
 * Maildir writer (maildir.c): a message is gathered, then stored; a
 * durable store runs on libuv's thread pool and reports on the loop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maildir.h"
#include "store.h"
#include "banned.h"

#define MSG_MAX_RCPT 1000

struct srv_store {
	uv_loop_t *loop;
	enum srv_store_format format;
	struct srv_maildir *md;
	int durable;
};

struct srv_msg {
	struct srv_store *st;
	uv_work_t work;
	char *data;
	size_t len, cap;
	int failed;
	char *rcpt[MSG_MAX_RCPT];
	struct srv_envelope env;
	char *listener, *client, *helo, *auth_user, *mail_from, *tls_protocol,
	        *tls_cipher;
	srv_msg_done_fn done;
	void *arg;
	int rc;
	char id[128];
	char err[256];
};

const char *srv_store_format_name(enum srv_store_format f)
{
	return f == SRV_STORE_SPOOL ? "spool" : "maildir";
}

int srv_store_open(struct srv_store **out, uv_loop_t *loop,
                   enum srv_store_format format, const char *dir, int durable,
                   struct srv_store_recovery *rec, char *err, size_t errsz)
{
	struct srv_store *st = calloc(1, sizeof(*st));

	*out = NULL;
	if (rec)
		memset(rec, 0, sizeof(*rec));
	if (!st) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	if (format != SRV_STORE_MAILDIR) {
		snprintf(err, errsz, "the spool store is not built yet");
		free(st);
		return -1;
	}
	st->loop = loop;
	st->format = format;
	st->durable = durable;
	if (srv_maildir_open(&st->md, dir, durable, err, errsz) < 0) {
		free(st);
		return -1;
	}
	*out = st;
	return 0;
}

void srv_store_close(struct srv_store *st)
{
	if (!st)
		return;
	srv_maildir_close(st->md);
	free(st);
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void msg_free(struct srv_msg *m)
{
	for (size_t i = 0; i < m->env.nrcpt; i++)
		free(m->rcpt[i]);
	free(m->listener);
	free(m->client);
	free(m->helo);
	free(m->auth_user);
	free(m->mail_from);
	free(m->tls_protocol);
	free(m->tls_cipher);
	free(m->data);
	free(m);
}

struct srv_msg *srv_msg_begin(struct srv_store *st,
                              const struct srv_envelope *env, char *err,
                              size_t errsz)
{
	struct srv_msg *m = calloc(1, sizeof(*m));
	int bad = m == NULL || env->nrcpt > MSG_MAX_RCPT;

	if (!bad) {
		m->st = st;
		m->listener = dup_or_null(env->listener);
		m->client = dup_or_null(env->client);
		m->helo = dup_or_null(env->helo);
		m->auth_user = dup_or_null(env->auth_user);
		m->mail_from = dup_or_null(env->mail_from);
		m->tls_protocol = dup_or_null(env->tls_protocol);
		m->tls_cipher = dup_or_null(env->tls_cipher);
		for (size_t i = 0; i < env->nrcpt && !bad; i++) {
			m->rcpt[i] = strdup(env->rcpt[i]);
			bad = m->rcpt[i] == NULL;
			m->env.nrcpt = i + (bad ? 0 : 1);
		}
		bad |= (env->listener && !m->listener) ||
		       (env->client && !m->client) || (env->helo && !m->helo) ||
		       (env->auth_user && !m->auth_user) ||
		       (env->mail_from && !m->mail_from) ||
		       (env->tls_protocol && !m->tls_protocol) ||
		       (env->tls_cipher && !m->tls_cipher);
	}
	if (bad) {
		if (m)
			msg_free(m);
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	m->env.listener = m->listener;
	m->env.client = m->client;
	m->env.helo = m->helo;
	m->env.auth_user = m->auth_user;
	m->env.mail_from = m->mail_from;
	m->env.rcpt = (const char *const *)m->rcpt;
	m->env.tls_protocol = m->tls_protocol;
	m->env.tls_cipher = m->tls_cipher;
	m->env.received = env->received;
	return m;
}

int srv_msg_write(struct srv_msg *m, const char *data, size_t len)
{
	if (m->failed)
		return -1;
	if (m->len + len > m->cap) {
		size_t cap = m->cap ? m->cap : 16384;
		while (cap < m->len + len)
			cap *= 2;
		char *n = realloc(m->data, cap);
		if (!n) {
			m->failed = 1;
			snprintf(m->err, sizeof(m->err), "out of memory");
			return -1;
		}
		m->data = n;
		m->cap = cap;
	}
	memcpy(m->data + m->len, data, len);
	m->len += len;
	return 0;
}

size_t srv_msg_size(const struct srv_msg *m)
{
	return m->len;
}

static void store_work(uv_work_t *w)
{
	struct srv_msg *m = w->data;

	m->rc = srv_maildir_store(m->st->md, &m->env, m->data, m->len, m->id,
	                          sizeof(m->id), m->err, sizeof(m->err));
}

static void finish(struct srv_msg *m)
{
	m->done(m->arg, m->rc, m->id, m->err);
	msg_free(m);
}

static void on_stored(uv_work_t *w, int status)
{
	struct srv_msg *m = w->data;

	if (status < 0 && m->rc == 0) {
		m->rc = -1;
		snprintf(m->err, sizeof(m->err), "%s", uv_strerror(status));
	}
	finish(m);
}

void srv_msg_commit(struct srv_msg *m, srv_msg_done_fn done, void *arg)
{
	m->done = done;
	m->arg = arg;
	m->work.data = m;
	if (m->failed) {
		m->rc = -1;
		finish(m);
		return;
	}
	if (!m->st->durable) {
		/* a few cheap system calls: no hand-off to the pool */
		store_work(&m->work);
		finish(m);
		return;
	}
	if (uv_queue_work(m->st->loop, &m->work, store_work, on_stored) < 0) {
		m->rc = -1;
		snprintf(m->err, sizeof(m->err), "cannot queue the store");
		finish(m);
	}
}

void srv_msg_abort(struct srv_msg *m)
{
	if (m)
		msg_free(m);
}
