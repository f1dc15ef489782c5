/* maildir.c - the Maildir format of the store (store.h, store_int.h), as
 * in https://cr.yp.to/proto/maildir.html, with the envelopes appended to
 * one file: DIR/envelopes.jsonl, a JSON line per message.
 *
 * A message is written to DIR/tmp/ID (Return-Path and Received prepended
 * to the bytes as received; a message that outgrows its buffer is written
 * there as it arrives), then renamed to DIR/new/ID. A batch (group
 * commit) does, in this order:
 *   1. every message's file in tmp/ completed, the envelopes of the batch
 *      appended to envelopes.jsonl in one write;
 *   2. when durable, syncfs(): the files' data and the envelopes are on
 *      disk before any message is visible in new/;
 *   3. every message renamed to new/;
 *   4. when durable, new/ synced: then the 250s go out.
 * So a message in new/ always has its envelope, and a crash leaves at most
 * files in tmp/ and envelopes whose message never reached new/; opening
 * removes both (counted in the recovery). One syncfs covers the whole
 * batch: on this project's VMs it costs about what a single fsync does.
 *
 * Network text is hostile: in the prepended headers every control byte of
 * the HELO name, client and addresses becomes '?' (no header injection)
 * and the HELO name is cut at HELO_HDR_MAX bytes (the line stays below
 * RFC 5322's 998). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_int.h"
#include "smtprobe/message.h"
#include "banned.h"

#define HELO_HDR_MAX 255
#define ENVELOPES    "envelopes.jsonl"

static int open_sub(struct srv_store *st, const char *sub, char *err,
                    size_t errsz)
{
	char eb[128];
	int fd;

	if (mkdirat(st->dirfd, sub, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errsz, "cannot create %s/%s: %s", st->dir, sub,
		         strerror_r(errno, eb, sizeof(eb)));
		return -1;
	}
	fd = openat(st->dirfd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		snprintf(err, errsz, "cannot open %s/%s: %s", st->dir, sub,
		         strerror_r(errno, eb, sizeof(eb)));
	return fd;
}

/* Remove what a crash left in tmp/ (never acknowledged). */
static int clean_tmp(struct srv_store *st, struct srv_store_recovery *rec,
                     char *err, size_t errsz)
{
	int fd = dup(st->tmpfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	char eb[128];

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		snprintf(err, errsz, "cannot list %s/tmp: %s", st->dir,
		         strerror_r(errno, eb, sizeof(eb)));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat sb;
		if (de->d_name[0] == '.' &&
		    (de->d_name[1] == '\0' ||
		     (de->d_name[1] == '.' && de->d_name[2] == '\0')))
			continue;
		if (fstatat(st->tmpfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) ==
		            0 &&
		    S_ISREG(sb.st_mode) &&
		    unlinkat(st->tmpfd, de->d_name, 0) == 0) {
			rec->removed++;
			rec->bytes += (unsigned long)sb.st_size;
		}
	}
	closedir(d);
	return 0;
}

/* An envelope stays when its message is in new/ or cur/ ("ID:2,S"). */
struct present {
	struct srv_store *st;
	int curfd;
	char **cur; /* the ids in cur/, sorted */
	size_t ncur;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int load_cur(struct present *p)
{
	int fd = dup(p->curfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	size_t cap = 0;

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (p->ncur == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			char **n = realloc(p->cur, ncap * sizeof(*n));
			if (n == NULL)
				break;
			p->cur = n;
			cap = ncap;
		}
		char *id = strdup(de->d_name);
		if (id == NULL)
			break;
		id[strcspn(id, ":")] = '\0';
		p->cur[p->ncur++] = id;
	}
	closedir(d);
	if (p->ncur)
		qsort(p->cur, p->ncur, sizeof(*p->cur), cmp_str);
	return 0;
}

static int keep_present(void *ctx, const struct store_index_entry *e)
{
	struct present *p = ctx;
	struct stat sb;
	const char *id = e->id;

	if (fstatat(p->st->newfd, e->id, &sb, AT_SYMLINK_NOFOLLOW) == 0)
		return 1;
	return p->ncur &&
	       bsearch(&id, p->cur, p->ncur, sizeof(*p->cur), cmp_str) != NULL;
}

int maildir_open(struct srv_store *st, struct srv_store_recovery *rec,
                 char *err, size_t errsz)
{
	struct present p = {.st = st, .curfd = -1};
	char eb[128];
	int rc = -1;

	if (store_make_dirs(st->dir, st->durable, err, errsz) != 0)
		return -1;
	st->dirfd = open(st->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st->dirfd < 0) {
		snprintf(err, errsz, "cannot open %s: %s", st->dir,
		         strerror_r(errno, eb, sizeof(eb)));
		return -1;
	}
	st->tmpfd = open_sub(st, "tmp", err, errsz);
	st->newfd = st->tmpfd >= 0 ? open_sub(st, "new", err, errsz) : -1;
	p.curfd = st->newfd >= 0 ? open_sub(st, "cur", err, errsz) : -1;
	if (p.curfd < 0)
		goto out;
	if (clean_tmp(st, rec, err, errsz) != 0)
		goto out;
	if (load_cur(&p) != 0) {
		snprintf(err, errsz, "cannot list %s/cur: %s", st->dir,
		         strerror_r(errno, eb, sizeof(eb)));
		goto out;
	}
	if (store_recover_index(st, ENVELOPES, 0, keep_present, &p, rec, err,
	                        errsz) != 0)
		goto out;
	st->envfd = openat(
	        st->dirfd, ENVELOPES,
	        O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (st->envfd < 0) {
		snprintf(err, errsz, "cannot open %s/%s: %s", st->dir,
		         ENVELOPES, strerror_r(errno, eb, sizeof(eb)));
		goto out;
	}
	struct stat sb;
	if (fstat(st->envfd, &sb) != 0) {
		snprintf(err, errsz, "cannot open %s/%s: %s", st->dir,
		         ENVELOPES, strerror_r(errno, eb, sizeof(eb)));
		goto out;
	}
	st->env_end = (uint64_t)sb.st_size;
	if (st->durable && (fsync(st->envfd) != 0 || fsync(st->dirfd) != 0)) {
		snprintf(err, errsz, "cannot sync %s: %s", st->dir,
		         strerror_r(errno, eb, sizeof(eb)));
		goto out;
	}
	rc = 0;
out:
	for (size_t i = 0; i < p.ncur; i++)
		free(p.cur[i]);
	free(p.cur);
	if (p.curfd >= 0)
		close(p.curfd);
	return rc;
}

void maildir_close(struct srv_store *st)
{
	if (st->tmpfd >= 0)
		close(st->tmpfd);
	if (st->newfd >= 0)
		close(st->newfd);
	if (st->envfd >= 0)
		close(st->envfd);
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

int maildir_begin(struct srv_store *st, struct srv_msg *m)
{
	const struct srv_envelope *env = &m->env;
	char helo[HELO_HDR_MAX + 1], client[128], from[SMTPROBE_MAX_ADDRESS],
	        rcpt[SMTPROBE_MAX_ADDRESS + 8], date[64];

	(void)st;
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
	m->buf = malloc(STORE_HDR_MAX);
	if (m->buf == NULL) {
		snprintf(m->err, sizeof(m->err), "out of memory");
		return -1;
	}
	m->cap = STORE_HDR_MAX;
	int n = snprintf(m->buf, m->cap,
	                 "Return-Path: <%s>\r\n"
	                 "Received: from %s (%s) by smtprobe with ESMTP%s%s "
	                 "id %s%s; %s\r\n",
	                 from, helo, client, env->tls_protocol ? "S" : "",
	                 env->auth_user ? "A" : "", m->id, rcpt, date);
	if (n < 0 || (size_t)n >= m->cap) {
		snprintf(m->err, sizeof(m->err), "headers too long");
		return -1;
	}
	m->len = (size_t)n;
	m->prefix = (size_t)n;
	return 0;
}

int maildir_spill(struct srv_store *st, struct srv_msg *m)
{
	m->fd = openat(st->tmpfd, m->id,
	               O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	               0600);
	if (m->fd < 0) {
		store_set_err(m, errno, "create", "tmp", m->id);
		return -1;
	}
	return 0;
}

/* Step 1 for one message: its file in tmp/ complete and closed. */
static void finish_file(struct srv_store *st, struct srv_msg *m)
{
	if (m->fd < 0 && maildir_spill(st, m) != 0)
		return;
	if (m->len && store_write_all(m->fd, m->buf, m->len) != 0) {
		store_set_err(m, errno, "write", "tmp", m->id);
		return;
	}
	int fd = m->fd;
	m->fd = -1;
	if (close(fd) != 0)
		store_set_err(m, errno, "write", "tmp", m->id);
}

static void fail_all(struct srv_msg *batch, int e, const char *what,
                     const char *sub, const char *name)
{
	for (struct srv_msg *m = batch; m; m = m->next)
		if (m->rc == 0)
			store_set_err(m, e, what, sub, name);
}

void maildir_commit(struct srv_store *st, struct srv_msg *batch)
{
	size_t total = 0;

	for (struct srv_msg *m = batch; m; m = m->next) {
		finish_file(st, m);
		if (m->rc == 0) {
			m->envelope = store_envelope_json(m, 0);
			if (m->envelope == NULL)
				store_set_err(m, ENOMEM, "write", "",
				              ENVELOPES);
			else
				total += strlen(m->envelope);
		}
	}
	/* the batch's envelopes in one write */
	char *all = total ? malloc(total) : NULL;
	if (total && all == NULL)
		fail_all(batch, ENOMEM, "write", "", ENVELOPES);
	if (all) {
		size_t o = 0;
		for (struct srv_msg *m = batch; m; m = m->next)
			if (m->rc == 0) {
				size_t n = strlen(m->envelope);
				memcpy(all + o, m->envelope, n);
				o += n;
			}
		if (store_write_all(st->envfd, all, o) != 0) {
			/* no torn line: the file ends with whole envelopes */
			int e = errno;
			if (ftruncate(st->envfd, (off_t)st->env_end) != 0)
				e = errno;
			fail_all(batch, e, "write", "", ENVELOPES);
		} else {
			st->env_end += o;
		}
		free(all);
	}
	if (st->durable && syncfs(st->dirfd) != 0)
		fail_all(batch, errno, "sync", "", "");
	int moved = 0;
	for (struct srv_msg *m = batch; m; m = m->next) {
		if (m->rc != 0) {
			unlinkat(st->tmpfd, m->id, 0);
			continue;
		}
		if (renameat(st->tmpfd, m->id, st->newfd, m->id) != 0) {
			store_set_err(m, errno, "rename", "tmp", m->id);
			unlinkat(st->tmpfd, m->id, 0);
			continue;
		}
		moved++;
	}
	if (moved && st->durable && fsync(st->newfd) != 0)
		fail_all(batch, errno, "sync", "new", "");
}
