/* spool.c - the spool format of the store (store.h, store_int.h): one
 * append-only file, DIR/messages.spool, of records. A record is the
 * message's envelope as one JSON line - with "size", the message's length,
 * and "crc32", zlib's CRC-32 of it - then the message itself, exactly as
 * received (dot-unstuffed, CRLF line ends, nothing added). A reader takes
 * a line, then "size" bytes, and so on:
 *
 *     while (line = readline()) { env = json(line); msg = read(env.size); }
 *
 * Why: a message costs one append instead of files created and renamed
 * (the Maildir's inode allocations are most of its cost), so the store
 * keeps up with a server that stores nothing; durable, a batch (group
 * commit) costs one fdatasync whatever its size:
 *   1. the batch's records written at the spool's end, in order (a message
 *      that outgrew its buffer was streamed to an unnamed file and is
 *      copied in by the kernel: copy_file_range);
 *   2. when durable, fdatasync(spool): then the 250s go out.
 * A crash can leave a torn record, or garbage (zeros) where data never
 * reached the disk, after the last synced one; the CRC tells them apart.
 * Opening walks the records (store_spool_scan) and truncates the file
 * after the last intact one (counted in the recovery): every record that
 * got its 250 is intact, since the sync came first. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_int.h"
#include "banned.h"

#define SPOOL "messages.spool"

static long read_fd(void *ctx, uint64_t off, void *buf, size_t n)
{
	int fd = *(int *)ctx;

	for (;;) {
		ssize_t r = pread(fd, buf, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		return (long)r;
	}
}

int spool_open(struct srv_store *st, struct srv_store_recovery *rec, char *err,
               size_t errsz)
{
	struct stat sb;
	uint64_t end;
	unsigned long count;
	char eb[128];

	if (store_make_dirs(st->dir, st->durable, err, errsz) != 0)
		return -1;
	st->dirfd = open(st->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st->dirfd < 0) {
		snprintf(err, errsz, "cannot open %s: %s", st->dir,
		         strerror_r(errno, eb, sizeof(eb)));
		return -1;
	}
	st->spoolfd = openat(st->dirfd, SPOOL,
	                     O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (st->spoolfd < 0 || fstat(st->spoolfd, &sb) != 0) {
		snprintf(err, errsz, "cannot open %s/%s: %s", st->dir, SPOOL,
		         strerror_r(errno, eb, sizeof(eb)));
		return -1;
	}
	if (store_spool_scan(read_fd, &st->spoolfd, (uint64_t)sb.st_size, &end,
	                     &count) != 0) {
		snprintf(err, errsz, "cannot read %s/%s: %s", st->dir, SPOOL,
		         strerror_r(errno ? errno : ENOMEM, eb, sizeof(eb)));
		return -1;
	}
	if ((uint64_t)sb.st_size > end) {
		/* what a crash left after the last intact record */
		if (ftruncate(st->spoolfd, (off_t)end) != 0) {
			snprintf(err, errsz, "cannot truncate %s/%s: %s",
			         st->dir, SPOOL,
			         strerror_r(errno, eb, sizeof(eb)));
			return -1;
		}
		rec->removed++;
		rec->bytes += (unsigned long)((uint64_t)sb.st_size - end);
	}
	st->spool_end = end;
	if (st->durable && (fsync(st->spoolfd) != 0 || fsync(st->dirfd) != 0)) {
		snprintf(err, errsz, "cannot sync %s: %s", st->dir,
		         strerror_r(errno, eb, sizeof(eb)));
		return -1;
	}
	return 0;
}

void spool_close(struct srv_store *st)
{
	if (st->spoolfd >= 0)
		close(st->spoolfd);
}

int spool_spill(struct srv_store *st, struct srv_msg *m)
{
	/* an unnamed file: nothing is left behind by a crash */
	m->fd = openat(st->dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (m->fd < 0 &&
	    (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		char name[STORE_ID_MAX + 16];
		snprintf(name, sizeof(name), ".spill.%s", m->id);
		m->fd = openat(st->dirfd, name,
		               O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC |
		                       O_NOFOLLOW,
		               0600);
		if (m->fd >= 0)
			unlinkat(st->dirfd, name, 0);
	}
	if (m->fd < 0) {
		store_set_err(m, errno, "create", "", "a spill file");
		return -1;
	}
	return 0;
}

static int pwrite_all(int fd, const char *p, size_t n, uint64_t off)
{
	while (n > 0) {
		ssize_t w = pwrite(fd, p, n, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		p += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

/* The spill file's first n bytes to the spool at off. */
static int copy_spill(int from, int to, size_t n, uint64_t off)
{
	loff_t in = 0, out = (loff_t)off;
	char buf[65536];

	while (n > 0) {
		ssize_t c = copy_file_range(from, &in, to, &out, n, 0);
		if (c > 0) {
			n -= (size_t)c;
			continue;
		}
		if (c < 0 && errno == EINTR)
			continue;
		if (c < 0 && errno != EXDEV && errno != ENOSYS &&
		    errno != EINVAL && errno != EOPNOTSUPP)
			return -1;
		break; /* not supported here: copy by hand */
	}
	while (n > 0) {
		ssize_t r =
		        pread(from, buf, n < sizeof(buf) ? n : sizeof(buf), in);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO;
			return -1;
		}
		if (pwrite_all(to, buf, (size_t)r, (uint64_t)out) != 0)
			return -1;
		in += r;
		out += r;
		n -= (size_t)r;
	}
	return 0;
}

void spool_commit(struct srv_store *st, struct srv_msg *batch)
{
	int written = 0;

	for (struct srv_msg *m = batch; m; m = m->next) {
		if (m->rc != 0)
			continue;
		m->envelope = store_envelope_json(m, 1);
		if (m->envelope == NULL) {
			store_set_err(m, ENOMEM, "write", "", SPOOL);
			continue;
		}
		size_t hl = strlen(m->envelope);
		uint64_t at = st->spool_end;
		if (pwrite_all(st->spoolfd, m->envelope, hl, at) != 0 ||
		    (m->spilled && copy_spill(m->fd, st->spoolfd, m->spilled,
		                              at + hl) != 0) ||
		    (m->len && pwrite_all(st->spoolfd, m->buf, m->len,
		                          at + hl + m->spilled) != 0)) {
			/* cut what was written: the spool ends with whole
			 * records (a crash here leaves a torn one, which the
			 * next open cuts) */
			int e = errno;
			if (ftruncate(st->spoolfd, (off_t)at) != 0)
				e = errno;
			store_set_err(m, e, "write", "", SPOOL);
			continue;
		}
		st->spool_end = at + hl + m->size;
		written++;
	}
	if (written && st->durable && fdatasync(st->spoolfd) != 0)
		for (struct srv_msg *m = batch; m; m = m->next)
			if (m->rc == 0)
				store_set_err(m, errno, "sync", "", SPOOL);
}
