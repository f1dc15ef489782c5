/* line.h - bounded input buffer and output queue (internal). */
#ifndef SMTPROBE_LINE_H
#define SMTPROBE_LINE_H

#include <stddef.h>

/* Input: at most SMTPROBE_MAX_REPLY_SIZE + one read's worth of bytes. */
struct inbuf {
	char *data;
	size_t len;
	size_t cap;
};

int inbuf_init(struct inbuf *b, size_t cap);
void inbuf_release(struct inbuf *b);
/* Free space at the end; 0 when full (the reply parser then reports the
 * cap it hit). */
size_t inbuf_space(const struct inbuf *b);
char *inbuf_tail(struct inbuf *b);
void inbuf_commit(struct inbuf *b, size_t n);
void inbuf_consume(struct inbuf *b, size_t n);

/* Finding lines (pure). */
enum line_scan {
	LINE_INCOMPLETE, /* no line end yet, and not over the cap so far */
	LINE_OK,         /* a whole line within the cap */
	LINE_TOO_LONG,   /* its text is over the cap (ended or not) */
};

/* The first line of buf[0..len): ended by LF (CRLF or bare LF). On
 * LINE_OK, *text is the length of its text (without the line end) and
 * *used the bytes it takes with its end. The verdict depends on the line
 * alone, never on how much of what follows has arrived: LINE_TOO_LONG
 * comes as soon as more than max bytes of text are known (a last CR is not
 * counted while its LF may follow), so feeding a stream in any pieces
 * gives the same verdicts. */
enum line_scan line_scan(const char *buf, size_t len, size_t max, size_t *text,
                         size_t *used);

/* Output: grows up to cap bytes; appending beyond it fails. */
struct outq {
	char *data;
	size_t len; /* bytes queued */
	size_t off; /* bytes already written */
	size_t cap;
	size_t alloc; /* bytes allocated (grows by doubling, up to cap) */
};

void outq_init(struct outq *q, size_t cap);
void outq_release(struct outq *q);
int outq_append(struct outq *q, const char *data, size_t len);
size_t outq_pending(const struct outq *q);
const char *outq_head(const struct outq *q);
void outq_advance(struct outq *q, size_t n);

#endif
