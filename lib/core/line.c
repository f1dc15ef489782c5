/* line.c - the line layer's buffers: a bounded input buffer that network
 * reads land in, an output queue for commands and message data, and
 * line_scan, which finds a line in what has arrived.
 *
 * Promises: the input buffer never grows past the capacity fixed at init
 * (hostile peers cannot make it allocate); when full, inbuf_space() is 0
 * and the caller must treat the reply as over its cap. The output queue
 * refuses appends beyond its cap instead of growing without bound.
 * line_scan is pure and reads nothing past len; its verdict on a line
 * does not depend on the TCP segmentation it arrived in. */
#include <stdlib.h>
#include <string.h>

#include "line.h"
#include "banned.h"

int inbuf_init(struct inbuf *b, size_t cap)
{
	b->data = malloc(cap);
	b->len = 0;
	b->cap = b->data ? cap : 0;
	return b->data ? 0 : -1;
}

void inbuf_release(struct inbuf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

size_t inbuf_space(const struct inbuf *b)
{
	return b->cap - b->len;
}

char *inbuf_tail(struct inbuf *b)
{
	return b->data + b->len;
}

void inbuf_commit(struct inbuf *b, size_t n)
{
	b->len += n;
}

void inbuf_consume(struct inbuf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

enum line_scan line_scan(const char *buf, size_t len, size_t max, size_t *text,
                         size_t *used)
{
	/* past max + 1 bytes nothing can change the verdict: look no
	 * further (a cap of 2048 does not scan 64 KiB of junk) */
	size_t look = max < len && len - max > 2 ? max + 2 : len;
	const char *nl = memchr(buf, '\n', look);
	size_t n = nl ? (size_t)(nl - buf) : look;

	/* a last CR ends the text when its LF is here, and may begin the
	 * line end when the LF has yet to arrive: not text either way */
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	*text = n;
	*used = nl ? (size_t)(nl - buf) + 1 : 0;
	if (n > max)
		return LINE_TOO_LONG;
	return nl ? LINE_OK : LINE_INCOMPLETE;
}

#define OUTQ_FIRST 1024 /* bytes first allocated */

void outq_init(struct outq *q, size_t cap)
{
	q->data = NULL;
	q->len = q->off = q->alloc = 0;
	q->cap = cap;
}

void outq_release(struct outq *q)
{
	/* The queue carried AUTH payloads: wipe before giving it back (all
	 * of it: written bytes stay behind in a buffer that is reused). */
	if (q->data)
		explicit_bzero(q->data, q->alloc);
	free(q->data);
	outq_init(q, q->cap);
}

int outq_append(struct outq *q, const char *data, size_t len)
{
	if (q->off == q->len)
		q->off = q->len = 0;
	if (len > q->cap - (q->len - q->off))
		return -1;
	if (q->off > 0) {
		memmove(q->data, q->data + q->off, q->len - q->off);
		q->len -= q->off;
		q->off = 0;
	}
	if (q->len + len > q->alloc) {
		/* doubling: a corked event appends many replies, and a
		 * realloc per reply was quadratic in bytes copied */
		size_t want = q->alloc ? q->alloc : OUTQ_FIRST;
		while (want < q->len + len)
			want *= 2;
		if (want > q->cap)
			want = q->cap;
		char *n = realloc(q->data, want);
		if (!n)
			return -1;
		q->data = n;
		q->alloc = want;
	}
	memcpy(q->data + q->len, data, len);
	q->len += len;
	return 0;
}

size_t outq_pending(const struct outq *q)
{
	return q->len - q->off;
}

const char *outq_head(const struct outq *q)
{
	return q->data + q->off;
}

void outq_advance(struct outq *q, size_t n)
{
	q->off += n;
	if (q->off >= q->len)
		q->off = q->len = 0;
}
