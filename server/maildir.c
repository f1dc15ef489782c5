/* maildir.c - storing accepted messages without loss (Maildir, as in
 * https://cr.yp.to/proto/maildir.html, plus an envelopes/ directory).
 *
 * srv_maildir_store() writes, in this order:
 *   1. DIR/envelopes/.ID.tmp, fsync, rename to DIR/envelopes/ID.json,
 *      fsync DIR/envelopes;
 *   2. DIR/tmp/ID (Return-Path and Received prepended to the message as
 *      received), fsync, rename to DIR/new/ID, fsync DIR/new.
 * Only when all of it succeeded does it return 0, so the caller's 250
 * promises a message that survives a crash. An envelope without a
 * message is possible after a crash between 1 and 2 (the message was
 * never acknowledged); a message without its envelope is not.
 * srv_maildir_open() creates missing levels of DIR (mkdir -p, 0700) and
 * syncs each new entry in its parent. With durable = 0 every fsync is
 * skipped.
 *
 * Errors: -1 and a lower-case reason naming the file ("cannot write
 * DIR/tmp/ID: No space left on device"); the files this call created are
 * unlinked, so a failed store leaves nothing behind.
 *
 * Unique names are "SECONDS.M<usec>P<pid>Q<counter>.<host>": the counter
 * is the only shared mutable state, bumped atomically, so stores may run
 * in parallel on libuv's thread pool. The host name has '/' and ':'
 * written as \057 and \072 (Maildir spec), other unsafe bytes as '_', and
 * is cut at HOST_MAX bytes so that a name stays far below NAME_MAX.
 *
 * Network text is hostile: in the prepended headers every control byte of
 * the HELO name, client and addresses becomes '?' (no header injection)
 * and the HELO name is cut at HELO_HDR_MAX bytes (the line stays below
 * RFC 5322's 998). In the envelope JSON, strings that are not UTF-8 are
 * stored escaped (\xNN); the envelope "size" is the message as received,
 * without the prepended headers. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "maildir.h"
#include "smtprobe/message.h"
#include "smtprobe/reply.h"

#include "banned.h"

#define HOST_MAX     100  /* sanitised host name in unique names */
#define ID_MAX       256  /* unique name, with room to spare */
#define HELO_HDR_MAX 255  /* HELO name as shown in Received: */
#define HDR_MAX      2048 /* the prepended header block */
#define DIR_MAX      4096 /* the maildir path */

struct srv_maildir {
	char dir[DIR_MAX];
	int durable;
	char host[HOST_MAX + 1];
	unsigned long counter; /* only ever touched with __atomic builtins */
	int dirfd;             /* DIR, DIR/tmp, DIR/new, DIR/envelopes */
	int tmpfd;
	int newfd;
	int envfd;
};

/* Thread-safe: the GNU strerror_r never uses a shared buffer. */
static const char *errtext(int e, char *buf, size_t sz)
{
	return strerror_r(e, buf, sz);
}

static void set_err(char *err, size_t errsz, const char *what, const char *dir,
                    const char *sub, const char *name, int e)
{
	char buf[128];

	snprintf(err, errsz, "cannot %s %s%s%s%s%s: %s", what, dir,
	         sub[0] ? "/" : "", sub, name[0] ? "/" : "", name,
	         errtext(e, buf, sizeof(buf)));
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

/* Make the entry of a directory we created durable: fsync its parent. */
static int sync_parent(const char *path)
{
	const char *slash = strrchr(path, '/'), *parent = ".";
	char buf[DIR_MAX];
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

/* mkdir -p, 0700 for what it creates (and, when durable, its entry in
 * the parent directory synced). */
static int make_dirs(const char *path, int durable, char *err, size_t errsz)
{
	char buf[DIR_MAX];
	size_t n = strlen(path), i;

	if (n == 0 || n >= sizeof(buf)) {
		snprintf(err, errsz, "maildir path %s",
		         n ? "too long" : "empty");
		return -1;
	}
	memcpy(buf, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0700) == 0) {
			if (durable && sync_parent(buf) != 0) {
				set_err(err, errsz, "sync the parent of", buf,
				        "", "", errno);
				return -1;
			}
		} else if (errno != EEXIST) {
			set_err(err, errsz, "create", buf, "", "", errno);
			return -1;
		}
		buf[i] = path[i];
	}
	return 0;
}

static int open_sub(int parent, const char *dir, const char *sub, char *err,
                    size_t errsz)
{
	int fd;

	if (sub[0] != '\0' && mkdirat(parent, sub, 0700) != 0 &&
	    errno != EEXIST) {
		set_err(err, errsz, "create", dir, sub, "", errno);
		return -1;
	}
	fd = sub[0] != '\0'
	             ? openat(parent, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
	             : open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		set_err(err, errsz, "open", dir, sub, "", errno);
	return fd;
}

int srv_maildir_open(struct srv_maildir **out, const char *dir, int durable,
                     char *err, size_t errsz)
{
	struct srv_maildir *m;
	char host[256];

	*out = NULL;
	if (make_dirs(dir, durable, err, errsz) != 0)
		return -1;
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	memcpy(m->dir, dir, strlen(dir) + 1);
	m->durable = durable;
	m->tmpfd = m->newfd = m->envfd = -1;
	if (gethostname(host, sizeof(host)) != 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	sanitise_host(host, m->host, sizeof(m->host));
	m->dirfd = open_sub(-1, dir, "", err, errsz);
	if (m->dirfd < 0)
		goto fail;
	m->tmpfd = open_sub(m->dirfd, dir, "tmp", err, errsz);
	if (m->tmpfd < 0)
		goto fail;
	m->newfd = open_sub(m->dirfd, dir, "new", err, errsz);
	if (m->newfd < 0)
		goto fail;
	{
		int cur = open_sub(m->dirfd, dir, "cur", err, errsz);

		if (cur < 0)
			goto fail;
		close(cur);
	}
	m->envfd = open_sub(m->dirfd, dir, "envelopes", err, errsz);
	if (m->envfd < 0)
		goto fail;
	if (durable && fsync(m->dirfd) != 0) {
		set_err(err, errsz, "sync", dir, "", "", errno);
		goto fail;
	}
	*out = m;
	return 0;
fail:
	srv_maildir_close(m);
	return -1;
}

void srv_maildir_close(struct srv_maildir *m)
{
	if (m == NULL)
		return;
	if (m->dirfd >= 0)
		close(m->dirfd);
	if (m->tmpfd >= 0)
		close(m->tmpfd);
	if (m->newfd >= 0)
		close(m->newfd);
	if (m->envfd >= 0)
		close(m->envfd);
	free(m);
}

static int write_all(int fd, const char *p, size_t n)
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

/* Write the blocks into dirfd/tmpname, sync, rename to dirfd/final, sync
 * the directory. The temporary file never outlives a failure. */
static int commit_file(const struct srv_maildir *m, int fd_from,
                       const char *sub_from, const char *tmpname, int fd_to,
                       const char *sub_to, const char *final,
                       const char *const *blk, const size_t *blen, size_t nblk,
                       char *err, size_t errsz)
{
	int fd, e;
	size_t i;

	fd = openat(fd_from, tmpname,
	            O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		set_err(err, errsz, "create", m->dir, sub_from, tmpname, errno);
		return -1;
	}
	for (i = 0; i < nblk; i++)
		if (write_all(fd, blk[i], blen[i]) != 0) {
			set_err(err, errsz, "write", m->dir, sub_from, tmpname,
			        errno);
			goto fail;
		}
	if (m->durable && fsync(fd) != 0) {
		set_err(err, errsz, "sync", m->dir, sub_from, tmpname, errno);
		goto fail;
	}
	if (close(fd) != 0) {
		fd = -1;
		set_err(err, errsz, "write", m->dir, sub_from, tmpname, errno);
		goto fail;
	}
	fd = -1;
	if (renameat(fd_from, tmpname, fd_to, final) != 0) {
		set_err(err, errsz, "rename", m->dir, sub_from, tmpname, errno);
		goto fail;
	}
	if (m->durable && fsync(fd_to) != 0) {
		e = errno;
		unlinkat(fd_to, final, 0);
		set_err(err, errsz, "sync", m->dir, sub_to, "", e);
		return -1;
	}
	return 0;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	unlinkat(fd_from, tmpname, 0);
	errno = e;
	return -1;
}

/* Network text for a header: control bytes become '?', at most max. */
static size_t hdr_text(char *dst, size_t dstsz, const char *s, size_t max)
{
	size_t i, n = 0;

	if (s == NULL)
		s = "";
	for (i = 0; i < max && s[i] != '\0' && n + 1 < dstsz; i++) {
		unsigned char c = (unsigned char)s[i];

		dst[n++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	dst[n] = '\0';
	return n;
}

static int build_headers(const struct srv_envelope *env, const char *id,
                         char *out, size_t outsz)
{
	char helo[HELO_HDR_MAX + 1], client[128], from[SMTPROBE_MAX_ADDRESS],
	        rcpt[SMTPROBE_MAX_ADDRESS + 8], date[64];
	int n;

	hdr_text(helo, sizeof(helo), env->helo, HELO_HDR_MAX);
	hdr_text(client, sizeof(client), env->client, sizeof(client) - 1);
	hdr_text(from, sizeof(from), env->mail_from, sizeof(from) - 1);
	rcpt[0] = '\0';
	if (env->nrcpt > 0) {
		char a[SMTPROBE_MAX_ADDRESS];

		hdr_text(a, sizeof(a), env->rcpt[0], sizeof(a) - 1);
		snprintf(rcpt, sizeof(rcpt), " for <%s>", a);
	}
	smtprobe_rfc5322_date(env->received, date, sizeof(date));
	n = snprintf(out, outsz,
	             "Return-Path: <%s>\r\n"
	             "Received: from %s (%s) by smtprobe with ESMTP%s%s id "
	             "%s%s; %s\r\n",
	             from, helo, client, env->tls_protocol ? "S" : "",
	             env->auth_user ? "A" : "", id, rcpt, date);
	if (n < 0 || (size_t)n >= outsz)
		return -1;
	return n;
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

static char *build_envelope(const struct srv_envelope *env, const char *id,
                            size_t size)
{
	json_t *rcpt = json_array(), *tls, *doc;
	char when[32];
	struct tm tm;
	char *s;
	size_t i;

	if (rcpt == NULL)
		return NULL;
	for (i = 0; i < env->nrcpt; i++)
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
	doc = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:s, s:I}",
	                "listener", jstr(env->listener), "client",
	                jstr(env->client), "helo", jstr(env->helo), "auth_user",
	                jstr(env->auth_user), "mail_from",
	                jstr(env->mail_from ? env->mail_from : ""), "rcpt",
	                rcpt, "tls", tls, "received", when, "id", id, "size",
	                (json_int_t)size);
	if (doc == NULL)
		return NULL;
	s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(doc);
	return s;
}

static int make_id(struct srv_maildir *m, char *id, size_t idsz)
{
	unsigned long q = __atomic_fetch_add(&m->counter, 1, __ATOMIC_RELAXED);
	struct timeval tv;
	int n;

	gettimeofday(&tv, NULL);
	n = snprintf(id, idsz, "%lld.M%ldP%ldQ%lu.%s", (long long)tv.tv_sec,
	             (long)tv.tv_usec, (long)getpid(), q, m->host);
	return n < 0 || (size_t)n >= idsz ? -1 : 0;
}

int srv_maildir_store(struct srv_maildir *m, const struct srv_envelope *env,
                      const char *msg, size_t len, char *id, size_t idsz,
                      char *err, size_t errsz)
{
	char uid[ID_MAX], tmpname[ID_MAX + 8], jname[ID_MAX + 8], hdr[HDR_MAX];
	const char *blk[2];
	size_t blen[2];
	char *json;
	int hlen, rc;

	if (make_id(m, uid, sizeof(uid)) != 0 || strlen(uid) >= idsz) {
		snprintf(err, errsz, "id buffer too small");
		return -1;
	}
	snprintf(tmpname, sizeof(tmpname), ".%s.tmp", uid);
	snprintf(jname, sizeof(jname), "%s.json", uid);
	hlen = build_headers(env, uid, hdr, sizeof(hdr));
	json = build_envelope(env, uid, len);
	if (hlen < 0 || json == NULL) {
		free(json);
		snprintf(err, errsz, "cannot build the envelope of %s: %s", uid,
		         hlen < 0 ? "headers too long" : "out of memory");
		return -1;
	}
	blk[0] = json;
	blen[0] = strlen(json);
	blk[1] = "\n";
	blen[1] = 1;
	rc = commit_file(m, m->envfd, "envelopes", tmpname, m->envfd,
	                 "envelopes", jname, blk, blen, 2, err, errsz);
	free(json);
	if (rc != 0)
		return -1;
	blk[0] = hdr;
	blen[0] = (size_t)hlen;
	blk[1] = msg;
	blen[1] = len;
	if (commit_file(m, m->tmpfd, "tmp", uid, m->newfd, "new", uid, blk,
	                blen, 2, err, errsz) != 0) {
		unlinkat(m->envfd, jname, 0);
		return -1;
	}
	memcpy(id, uid, strlen(uid) + 1);
	return 0;
}
