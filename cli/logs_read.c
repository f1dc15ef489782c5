/* logs_read.c - an input of `smtprobe logs` read in 1 MiB chunks and cut
 * into lines in place (logs_cli.h): a file, a gzip file (read through
 * zlib, told by its magic bytes, not its name), or stdin. A line longer
 * than LOGS_MAX_LINE is counted as one unparsed line and skipped to its
 * newline: memory stays bounded whatever the input. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "logs_cli.h"

#include "banned.h"

int logs_reader_open(struct logs_reader *r, const char *name, char *err,
                     size_t errsz)
{
	struct stat st;
	unsigned char magic[2];

	memset(r, 0, sizeof(r[0]));
	r->name = name;
	r->fd = strcmp(name, "-") == 0 ? dup(0) : open(name, O_RDONLY);
	if (r->fd < 0) {
		snprintf(err, errsz, "%s: %s", name, strerror(errno));
		return -1;
	}
	r->buf = malloc(LOGS_CHUNK + LOGS_MAX_LINE);
	if (r->buf == NULL) {
		snprintf(err, errsz, "out of memory");
		close(r->fd);
		return -1;
	}
	r->in.ref_time = (int64_t)time(NULL);
	if (fstat(r->fd, &st) == 0) {
		r->dev = (unsigned long long)st.st_dev;
		r->ino = (unsigned long long)st.st_ino;
		if (S_ISREG(st.st_mode))
			r->in.ref_time = (int64_t)st.st_mtime;
		if (S_ISDIR(st.st_mode)) {
			snprintf(err, errsz, "%s: is a directory", name);
			logs_reader_close(r);
			return -1;
		}
	}
	/* gzip by its magic, on a file we can rewind */
	if (strcmp(name, "-") != 0 && pread(r->fd, magic, 2, 0) == 2 &&
	    magic[0] == 0x1f && magic[1] == 0x8b) {
		r->gz = gzdopen(r->fd, "rb");
		if (r->gz == NULL) {
			snprintf(err, errsz, "%s: cannot read gzip", name);
			logs_reader_close(r);
			return -1;
		}
		r->fd = -1; /* gzclose closes it */
		(void)gzbuffer(r->gz, 256 << 10);
	}
	return 0;
}

static void line(struct logs_reader *r, struct smtprobe_logs *l, const char *p,
                 size_t n)
{
	smtprobe_logs_line(l, &r->in, p, n);
}

long logs_reader_pump(struct logs_reader *r, struct smtprobe_logs *l, char *err,
                      size_t errsz)
{
	long got;

	if (r->gz) {
		got = gzread(r->gz, r->buf + r->have, LOGS_CHUNK);
		if (got < 0) {
			int e = 0;
			snprintf(err, errsz, "%s: %s", r->name,
			         gzerror(r->gz, &e));
			return -1;
		}
	} else {
		do
			got = (long)read(r->fd, r->buf + r->have, LOGS_CHUNK);
		while (got < 0 && errno == EINTR);
		if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0; /* follow: nothing new on a pipe */
		if (got < 0) {
			snprintf(err, errsz, "%s: %s", r->name,
			         strerror(errno));
			return -1;
		}
	}
	r->offset += got;
	size_t end = r->have + (size_t)got, start = 0;
	char *nl;
	while ((nl = memchr(r->buf + start, '\n', end - start)) != NULL) {
		size_t n = (size_t)(nl - (r->buf + start));
		if (r->skipping)
			r->skipping = 0; /* the rest of an over-long line */
		else
			line(r, l, r->buf + start, n);
		start += n + 1;
	}
	/* an unfinished line: keep it, unless it is already too long */
	size_t rest = end - start;
	if (r->skipping || rest > LOGS_MAX_LINE) {
		if (!r->skipping)
			line(r, l, "", 0); /* counted as one unparsed line */
		r->skipping = 1;
		rest = 0;
	}
	memmove(r->buf, r->buf + start, rest);
	r->have = rest;
	return got;
}

void logs_reader_flush(struct logs_reader *r, struct smtprobe_logs *l)
{
	if (r->have && !r->skipping)
		line(r, l, r->buf, r->have);
	r->have = 0;
	r->skipping = 0;
}

void logs_reader_close(struct logs_reader *r)
{
	if (r->gz)
		gzclose(r->gz);
	else if (r->fd >= 0)
		close(r->fd);
	r->gz = NULL;
	r->fd = -1;
	free(r->buf);
	r->buf = NULL;
}
