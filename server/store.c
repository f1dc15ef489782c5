/* store.c - the message store of `smtprobe serve` (store.h): messages
 * streamed in, committed in groups, in either format (maildir.c,
 * spool.c).
 *
 * A message's first bytes stay in its buffer (grown to STORE_BUF_MAX at
 * most); beyond that the format gives a file and the bytes go there as
 * they arrive, so a session's memory does not grow with its message.
 *
 * Group commit: when durable, a committed message joins the pending list;
 * one batch at a time goes to libuv's thread pool, where the format
 * writes every message of it and makes them all durable with one round of
 * syncs; the callbacks then run on the loop, in order. The messages
 * completed while a batch is in flight form the next one, so the syncs
 * per message fall as the load rises. Without durability a message is
 * written at once on the loop and its callback runs before
 * srv_msg_commit returns.
 *
 * Ids are "SECONDS.M<usec>P<pid>Q<counter>.<host>" (the Maildir spec's
 * unique names), made on the loop thread. The envelope is one JSON line:
 * network strings that are not UTF-8 are escaped (\xNN). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <zlib.h>

#include "store_int.h"
#include "smtprobe/reply.h"
#include "banned.h"

#define MSG_MAX_RCPT 1000
#define BUF_FIRST    4096

const char *srv_store_format_name(enum srv_store_format f)
{
	return f == SRV_STORE_SPOOL ? "spool" : "maildir";
}

/* ---- shared helpers ---------------------------------------------------- */

/* Thread-safe: the GNU strerror_r never uses a shared buffer. */
void store_set_err(struct srv_msg *m, int e, const char *what, const char *sub,
                   const char *name)
{
	char buf[128];

	m->rc = -e;
	/* the directory's last 120 bytes: the error line stays readable */
	size_t dl = strlen(m->st->dir);
	const char *dir = dl > 120 ? m->st->dir + dl - 120 : m->st->dir;
	snprintf(m->err, sizeof(m->err), "cannot %s %s%.120s%s%s%s%.60s: %s",
	         what, dl > 120 ? "..." : "", dir, sub[0] ? "/" : "", sub,
	         name[0] ? "/" : "", name, strerror_r(e, buf, sizeof(buf)));
}

int store_write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Make the entry of a directory we created durable: fsync its parent. */
static int sync_parent(const char *path)
{
	const char *slash = strrchr(path, '/'), *parent = ".";
	char buf[STORE_DIR_MAX];
	int fd, rc;

	if (slash == path) {
		parent = "/";
	} else if (slash != NULL) {
		memcpy(buf, path, (size_t)(slash - path));
		buf[slash - path] = '\0';
		parent = buf;
	}
	fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int store_make_dirs(const char *path, int durable, char *err, size_t errsz)
{
	char buf[STORE_DIR_MAX], eb[128];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(buf)) {
		snprintf(err, errsz, "store path %s", n ? "too long" : "empty");
		return -1;
	}
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0700) == 0) {
			if (durable && sync_parent(buf) != 0) {
				snprintf(err, errsz,
				         "cannot sync the parent of %s: %s",
				         buf,
				         strerror_r(errno, eb, sizeof(eb)));
				return -1;
			}
		} else if (errno != EEXIST) {
			snprintf(err, errsz, "cannot create %s: %s", buf,
			         strerror_r(errno, eb, sizeof(eb)));
			return -1;
		}
		buf[i] = path[i];
	}
	return 0;
}

static void sanitise_host(const char *in, char *out, size_t outsz)
{
	size_t w = 0;

	for (; *in != '\0'; in++) {
		unsigned char c = (unsigned char)*in;
		const char *rep = NULL;
		char one[2] = {(char)c, '\0'};

		if (c == '/')
			rep = "\\057";
		else if (c == ':')
			rep = "\\072";
		else if (c <= 0x20 || c >= 0x7f)
			one[0] = '_';
		if (rep == NULL)
			rep = one;
		if (w + strlen(rep) >= outsz)
			break;
		memcpy(out + w, rep, strlen(rep));
		w += strlen(rep);
	}
	if (w == 0 && outsz > 9) {
		memcpy(out, "localhost", 9);
		w = 9;
	}
	out[w] = '\0';
}

/* A JSON string of network text: as is when UTF-8, else escaped. */
static json_t *jstr(const char *s)
{
	json_t *j;
	char *esc;
	size_t need;

	if (s == NULL)
		return json_null();
	j = json_string(s);
	if (j != NULL)
		return j;
	need = smtprobe_escape(NULL, 0, s, strlen(s));
	esc = malloc(need + 1);
	if (esc == NULL)
		return NULL;
	smtprobe_escape(esc, need + 1, s, strlen(s));
	j = json_string(esc);
	free(esc);
	return j;
}

char *store_envelope_json(const struct srv_msg *m, int with_crc)
{
	const struct srv_envelope *env = &m->env;
	json_t *rcpt = json_array(), *tls, *doc;
	char when[32];
	struct tm tm;

	if (rcpt == NULL)
		return NULL;
	for (size_t i = 0; i < env->nrcpt; i++)
		if (json_array_append_new(rcpt, jstr(env->rcpt[i])) != 0) {
			json_decref(rcpt);
			return NULL;
		}
	if (env->tls_protocol != NULL)
		tls = json_pack("{s:o, s:o}", "protocol",
		                jstr(env->tls_protocol), "cipher",
		                jstr(env->tls_cipher));
	else
		tls = json_null();
	gmtime_r(&env->received, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	doc = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:I}",
	                "id", m->id, "listener", jstr(env->listener), "client",
	                jstr(env->client), "helo", jstr(env->helo), "auth_user",
	                jstr(env->auth_user), "mail_from",
	                jstr(env->mail_from ? env->mail_from : ""), "rcpt",
	                rcpt, "tls", tls, "received", when, "size",
	                (json_int_t)m->size);
	if (doc == NULL)
		return NULL;
	int dsn = env->dsn_ret || env->dsn_envid;
	for (size_t i = 0; i < env->nrcpt && !dsn; i++)
		dsn = (env->rcpt_notify && env->rcpt_notify[i]) ||
		      (env->rcpt_orcpt && env->rcpt_orcpt[i]);
	json_t *d = json_null();
	if (dsn) {
		json_t *notify = json_array(), *orcpt = json_array();
		for (size_t i = 0; notify && orcpt && i < env->nrcpt; i++) {
			json_array_append_new(notify,
			                      jstr(env->rcpt_notify
			                                   ? env->rcpt_notify[i]
			                                   : NULL));
			json_array_append_new(
			        orcpt, jstr(env->rcpt_orcpt ? env->rcpt_orcpt[i]
			                                    : NULL));
		}
		d = json_pack("{s:o, s:o, s:o*, s:o*}", "ret",
		              jstr(env->dsn_ret), "envid", jstr(env->dsn_envid),
		              "notify", notify, "orcpt", orcpt);
	}
	if (d == NULL ||
	    json_object_set_new(doc, "smtputf8", json_boolean(env->smtputf8)) !=
	            0 ||
	    json_object_set_new(doc, "body", jstr(env->body)) != 0 ||
	    json_object_set_new(doc, "dsn", d) != 0) {
		json_decref(doc);
		return NULL;
	}
	if (with_crc &&
	    json_object_set_new(doc, "crc32",
	                        json_integer((json_int_t)m->crc)) != 0) {
		json_decref(doc);
		return NULL;
	}
	char *s = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (s == NULL)
		return NULL;
	size_t n = strlen(s);
	char *line = realloc(s, n + 2);
	if (line == NULL) {
		free(s);
		return NULL;
	}
	line[n] = '\n';
	line[n + 1] = '\0';
	return line;
}

/* ---- the envelope index, read back at open ------------------------------ */

struct recover {
	int in, out; /* the index, and its rewrite (or -1 until needed) */
	char *line;
	size_t len;
	int too_long;
	int dropped;
};

static int recover_line(struct recover *r, int need_offset,
                        int (*keep)(void *ctx,
                                    const struct store_index_entry *),
                        void *ctx, struct srv_store_recovery *rec)
{
	struct store_index_entry e;
	int ok = !r->too_long &&
	         store_index_parse(r->line, r->len, need_offset, &e) == 0 &&
	         keep(ctx, &e);

	if (!ok) {
		r->dropped = 1;
		rec->removed++;
		rec->bytes += r->len + 1;
	} else {
		r->line[r->len] = '\n';
		if (store_write_all(r->out, r->line, r->len + 1) != 0)
			return -1;
	}
	r->len = 0;
	r->too_long = 0;
	return 0;
}

int store_recover_index(struct srv_store *st, const char *name, int need_offset,
                        int (*keep)(void *ctx,
                                    const struct store_index_entry *),
                        void *ctx, struct srv_store_recovery *rec, char *err,
                        size_t errsz)
{
	char tmpname[64], eb[128], chunk[65536];
	struct recover r = {.in = -1, .out = -1};
	int rc = -1;

	snprintf(tmpname, sizeof(tmpname), ".%s.rewrite", name);
	r.in = openat(st->dirfd, name, O_RDONLY | O_CLOEXEC);
	if (r.in < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errsz, "cannot read %s/%s: %s", st->dir, name,
		         strerror_r(errno, eb, sizeof(eb)));
		return -1;
	}
	r.out = openat(st->dirfd, tmpname,
	               O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	               0600);
	r.line = malloc(STORE_INDEX_LINE_MAX + 1);
	if (r.out < 0 || r.line == NULL) {
		snprintf(err, errsz, "cannot write %s/%s: %s", st->dir, tmpname,
		         r.line ? strerror_r(errno, eb, sizeof(eb))
		                : "out of memory");
		goto out;
	}
	for (;;) {
		ssize_t n = read(r.in, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errsz, "cannot read %s/%s: %s", st->dir,
			         name, strerror_r(errno, eb, sizeof(eb)));
			goto out;
		}
		if (n == 0)
			break;
		for (ssize_t i = 0; i < n; i++) {
			if (chunk[i] == '\n') {
				if (recover_line(&r, need_offset, keep, ctx,
				                 rec) != 0)
					goto write_failed;
				continue;
			}
			if (r.len < STORE_INDEX_LINE_MAX)
				r.line[r.len++] = chunk[i];
			else
				r.too_long = 1;
		}
	}
	if (r.len > 0 || r.too_long) { /* a torn last line */
		r.dropped = 1;
		rec->removed++;
		rec->bytes += r.len;
	}
	if (!r.dropped) {
		unlinkat(st->dirfd, tmpname, 0);
		rc = 0;
		goto out;
	}
	if ((st->durable && fsync(r.out) != 0) ||
	    renameat(st->dirfd, tmpname, st->dirfd, name) != 0 ||
	    (st->durable && fsync(st->dirfd) != 0))
		goto write_failed;
	rc = 0;
	goto out;
write_failed:
	snprintf(err, errsz, "cannot rewrite %s/%s: %s", st->dir, name,
	         strerror_r(errno, eb, sizeof(eb)));
	unlinkat(st->dirfd, tmpname, 0);
out:
	if (r.in >= 0)
		close(r.in);
	if (r.out >= 0)
		close(r.out);
	free(r.line);
	return rc;
}

/* ---- open and close ---------------------------------------------------- */

int srv_store_open(struct srv_store **out, uv_loop_t *loop,
                   enum srv_store_format format, const char *dir, int durable,
                   struct srv_store_recovery *rec, char *err, size_t errsz)
{
	struct srv_store_recovery none;
	struct srv_store *st;
	char host[256];

	*out = NULL;
	if (rec == NULL)
		rec = &none;
	memset(rec, 0, sizeof(*rec));
	if (strlen(dir) >= STORE_DIR_MAX) {
		snprintf(err, errsz, "store path too long");
		return -1;
	}
	st = calloc(1, sizeof(*st));
	if (st == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	st->loop = loop;
	st->format = format;
	st->durable = durable;
	st->dirfd = st->tmpfd = st->newfd = st->envfd = -1;
	st->spoolfd = -1;
	st->pending_tail = &st->pending;
	memcpy(st->dir, dir, strlen(dir) + 1);
	if (gethostname(host, sizeof(host)) != 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	sanitise_host(host, st->host, sizeof(st->host));
	st->pid = (long)getpid();
	/* jansson seeds its hash function once: do it here, not racing in a
	 * worker thread */
	json_object_seed(0);
	int rc = format == SRV_STORE_SPOOL ? spool_open(st, rec, err, errsz)
	                                   : maildir_open(st, rec, err, errsz);
	if (rc != 0) {
		srv_store_close(st);
		return -1;
	}
	*out = st;
	return 0;
}

void srv_store_close(struct srv_store *st)
{
	if (st == NULL)
		return;
	/* a batch in flight keeps the loop alive: the caller's loop has run
	 * to its end before closing, so none is left */
	if (st->format == SRV_STORE_SPOOL)
		spool_close(st);
	else
		maildir_close(st);
	if (st->dirfd >= 0)
		close(st->dirfd);
	free(st);
}

/* ---- a message --------------------------------------------------------- */

static void msg_free(struct srv_msg *m)
{
	for (size_t i = 0; i < m->nstrings; i++)
		free(m->strings[i]);
	free(m->strings);
	free(m->envelope);
	free(m->buf);
	if (m->fd >= 0)
		close(m->fd);
	free(m);
}

/* A copy of s kept with the message (NULL stays NULL). */
static int keep(struct srv_msg *m, const char *s, const char **out)
{
	if (s == NULL) {
		*out = NULL;
		return 0;
	}
	char *c = strdup(s);
	if (c == NULL)
		return -1;
	m->strings[m->nstrings++] = c;
	*out = c;
	return 0;
}

static int make_id(struct srv_store *st, char *id, size_t idsz)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	int n = snprintf(id, idsz, "%lld.M%ldP%ldQ%lu.%s", (long long)tv.tv_sec,
	                 (long)tv.tv_usec, st->pid, ++st->counter, st->host);
	return n < 0 || (size_t)n >= idsz ? -1 : 0;
}

struct srv_msg *srv_msg_begin(struct srv_store *st,
                              const struct srv_envelope *env, char *err,
                              size_t errsz)
{
	struct srv_msg *m;
	const char **rcpt = NULL;
	int bad;

	if (env->nrcpt > MSG_MAX_RCPT) {
		snprintf(err, errsz, "too many recipients");
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	m->st = st;
	m->fd = -1;
	m->crc = (uint32_t)crc32(0L, Z_NULL, 0);
	/* every string, and the three per-recipient arrays, are freed
	 * with m->strings */
	m->strings = calloc(3 * env->nrcpt + 16, sizeof(*m->strings));
	rcpt = calloc(env->nrcpt + 1, sizeof(*rcpt));
	const char **notify = calloc(env->nrcpt + 1, sizeof(*notify));
	const char **orcpt = calloc(env->nrcpt + 1, sizeof(*orcpt));
	bad = m->strings == NULL || rcpt == NULL || notify == NULL ||
	      orcpt == NULL;
	if (!bad) {
		m->strings[m->nstrings++] = (char *)rcpt;
		m->strings[m->nstrings++] = (char *)notify;
		m->strings[m->nstrings++] = (char *)orcpt;
	} else {
		free(rcpt);
		free(notify);
		free(orcpt);
	}
	m->env = *env;
	bad = bad || keep(m, env->listener, &m->env.listener) ||
	      keep(m, env->client, &m->env.client) ||
	      keep(m, env->helo, &m->env.helo) ||
	      keep(m, env->auth_user, &m->env.auth_user) ||
	      keep(m, env->mail_from, &m->env.mail_from) ||
	      keep(m, env->tls_protocol, &m->env.tls_protocol) ||
	      keep(m, env->tls_cipher, &m->env.tls_cipher) ||
	      keep(m, env->body, &m->env.body) ||
	      keep(m, env->dsn_ret, &m->env.dsn_ret) ||
	      keep(m, env->dsn_envid, &m->env.dsn_envid);
	for (size_t i = 0; !bad && i < env->nrcpt; i++)
		bad = keep(m, env->rcpt[i], &rcpt[i]) ||
		      keep(m, env->rcpt_notify ? env->rcpt_notify[i] : NULL,
		           &notify[i]) ||
		      keep(m, env->rcpt_orcpt ? env->rcpt_orcpt[i] : NULL,
		           &orcpt[i]);
	if (bad) {
		msg_free(m);
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	m->env.rcpt = rcpt;
	m->env.rcpt_notify = notify;
	m->env.rcpt_orcpt = orcpt;
	if (make_id(st, m->id, sizeof(m->id)) != 0 ||
	    (st->format == SRV_STORE_MAILDIR && maildir_begin(st, m) != 0)) {
		snprintf(err, errsz, "%s", m->err[0] ? m->err : "id too long");
		msg_free(m);
		return NULL;
	}
	return m;
}

/* The buffer is full: move its bytes to the message's file. */
static int spill(struct srv_msg *m)
{
	if (m->fd < 0) {
		int rc = m->st->format == SRV_STORE_SPOOL
		                 ? spool_spill(m->st, m)
		                 : maildir_spill(m->st, m);
		if (rc != 0)
			return -1;
	}
	if (store_write_all(m->fd, m->buf, m->len) != 0) {
		store_set_err(m, errno, "write", "", "the message");
		return -1;
	}
	m->spilled += m->len;
	m->len = 0;
	return 0;
}

int srv_msg_write(struct srv_msg *m, const char *data, size_t len)
{
	if (m->rc != 0)
		return -1;
	m->size += len;
	if (m->st->format == SRV_STORE_SPOOL)
		m->crc =
		        (uint32_t)crc32(m->crc, (const Bytef *)data, (uInt)len);
	while (len > 0) {
		if (m->len == m->cap && m->cap < STORE_BUF_MAX) {
			size_t cap = m->cap ? m->cap * 2 : BUF_FIRST;
			while (cap < m->len + len && cap < STORE_BUF_MAX)
				cap *= 2;
			if (cap > STORE_BUF_MAX)
				cap = STORE_BUF_MAX;
			char *n = realloc(m->buf, cap);
			if (n == NULL) {
				store_set_err(m, ENOMEM, "buffer", "",
				              "the message");
				return -1;
			}
			m->buf = n;
			m->cap = cap;
		}
		if (m->len == m->cap && spill(m) != 0)
			return -1;
		size_t take = m->cap - m->len < len ? m->cap - m->len : len;
		memcpy(m->buf + m->len, data, take);
		m->len += take;
		data += take;
		len -= take;
	}
	return 0;
}

size_t srv_msg_size(const struct srv_msg *m)
{
	return m->size;
}

void srv_msg_abort(struct srv_msg *m)
{
	if (m == NULL)
		return;
	if (m->fd >= 0 && m->st->format == SRV_STORE_MAILDIR)
		unlinkat(m->st->tmpfd, m->id, 0);
	msg_free(m);
}

/* ---- group commit ------------------------------------------------------ */

void srv_store_stats(const struct srv_store *st, unsigned long *batches,
                     unsigned long *messages)
{
	*batches = st->nbatches;
	*messages = st->nmessages;
}

static void write_batch(struct srv_store *st, struct srv_msg *batch)
{
	st->nbatches++;
	for (struct srv_msg *m = batch; m; m = m->next)
		st->nmessages++;
	if (st->format == SRV_STORE_SPOOL)
		spool_commit(st, batch);
	else
		maildir_commit(st, batch);
}

static void on_batch_work(uv_work_t *w)
{
	struct srv_store *st = w->data;

	write_batch(st, st->batch);
}

static void start_batch(struct srv_store *st);

static void on_batch_done(uv_work_t *w, int status)
{
	struct srv_store *st = w->data;
	struct srv_msg *m = st->batch;

	st->batch = NULL;
	st->in_flight = 0;
	/* the next batch starts before the callbacks run: their sessions'
	 * next messages join the pending list meanwhile */
	start_batch(st);
	while (m) {
		struct srv_msg *next = m->next;
		if (status < 0 && m->rc == 0) {
			m->rc = -EIO;
			snprintf(m->err, sizeof(m->err), "%s",
			         uv_strerror(status));
		}
		m->done(m->arg, m->rc, m->id, m->err);
		msg_free(m);
		m = next;
	}
}

/* One batch at a time: more in flight (measured with 2 and 4) only adds
 * syncs that contend for the same journal and slows every 250. */
static void start_batch(struct srv_store *st)
{
	if (st->in_flight || st->pending == NULL)
		return;
	st->batch = st->pending;
	st->pending = NULL;
	st->pending_tail = &st->pending;
	st->in_flight = 1;
	st->work.data = st;
	if (uv_queue_work(st->loop, &st->work, on_batch_work, on_batch_done) <
	    0) {
		/* the pool refused: do it here rather than lose it */
		write_batch(st, st->batch);
		on_batch_done(&st->work, 0);
	}
}

void srv_msg_commit(struct srv_msg *m, srv_msg_done_fn done, void *arg)
{
	struct srv_store *st = m->st;

	m->done = done;
	m->arg = arg;
	m->next = NULL;
	if (m->rc != 0) {
		if (m->fd >= 0 && st->format == SRV_STORE_MAILDIR)
			unlinkat(st->tmpfd, m->id, 0);
		done(arg, m->rc, m->id, m->err);
		msg_free(m);
		return;
	}
	if (!st->durable) {
		/* a few cheap system calls: no hand-off to the pool */
		write_batch(st, m);
		done(arg, m->rc, m->id, m->err);
		msg_free(m);
		return;
	}
	*st->pending_tail = m;
	st->pending_tail = &m->next;
	start_batch(st);
}
