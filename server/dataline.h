/* dataline.h - the text of DATA as it arrives (pure): lines found whatever
 * the TCP segmentation, dot-unstuffing, the end of the message. */
#ifndef SMTPROBE_SERVER_DATALINE_H
#define SMTPROBE_SERVER_DATALINE_H

#include <stddef.h>

struct data_scan {
	size_t line_len;  /* bytes of the current line so far */
	int mid_line;     /* inside a line: a '.' here is text */
	int line_too_big; /* a line longer than the cap was seen */
};

/* The message's bytes as they come out: dot-unstuffed, every line ending
 * CRLF (a bare LF is stored as CRLF). */
typedef void (*data_out_fn)(void *ctx, const char *p, size_t n);

/* Consume DATA's bytes in buf[0..n): message bytes go to out; *used says
 * how many were consumed (at most 2 are held back, undecided: ".", ".\r"
 * at a line's start, or a last '\r'). Returns 1 when the terminating
 * ".\r\n" (or ".\n") was consumed - nothing after it is - else 0. A line
 * longer than max_line sets st->line_too_big; its bytes still go to out.
 * The same input cut anywhere gives the same output (fuzz_data checks). */
int data_scan(struct data_scan *st, const char *buf, size_t n, size_t max_line,
              data_out_fn out, void *ctx, size_t *used);

#endif
