/* reply.h - SMTP reply parsing (RFC 5321 section 4.2, RFC 3463).
 *
 * smtprobe_reply_parse() is a pure function over (buf, len): no I/O, no
 * allocation. It recognises one complete reply at the start of buf and
 * describes it with spans into buf. smtprobe_reply_build() turns such a
 * description into an owned, escaped struct smtprobe_reply. */
#ifndef SMTPROBE_REPLY_H
#define SMTPROBE_REPLY_H

#include <stddef.h>

/* Caps on hostile input. A reply line longer than SMTPROBE_MAX_LINE bytes,
 * a reply of more than SMTPROBE_MAX_REPLY_LINES lines or of more than
 * SMTPROBE_MAX_REPLY_SIZE bytes is an error, never a truncation. */
#define SMTPROBE_MAX_LINE        4096
#define SMTPROBE_MAX_REPLY_LINES 128
#define SMTPROBE_MAX_REPLY_SIZE  (64 * 1024)
#define SMTPROBE_MAX_ENHANCED    16

/* Return values of smtprobe_reply_parse() other than a byte count. */
#define SMTPROBE_REPLY_INCOMPLETE 0
enum smtprobe_reply_err {
	SMTPROBE_REPLY_E_LINE_TOO_LONG = -1,
	SMTPROBE_REPLY_E_TOO_MANY_LINES = -2,
	SMTPROBE_REPLY_E_TOO_BIG = -3,
	SMTPROBE_REPLY_E_BAD_CODE = -4,      /* not three digits 2xx..5xx */
	SMTPROBE_REPLY_E_CODE_MISMATCH = -5, /* continuation lines disagree */
	SMTPROBE_REPLY_E_BAD_SEPARATOR =
	        -6, /* fourth byte not ' ', '-' or EOL */
};

/* Flags: facts about a reply that are worth reporting but not fatal. */
enum smtprobe_reply_flag {
	SMTPROBE_REPLY_F_BARE_LF = 1u << 0, /* a line ended in LF, not CRLF */
	SMTPROBE_REPLY_F_CTRL = 1u << 1,    /* NUL or other control bytes */
	SMTPROBE_REPLY_F_ENH_MISMATCH =
	        1u << 2, /* enhanced class != reply class */
	SMTPROBE_REPLY_F_ENH_PARTIAL =
	        1u << 3,                 /* some lines lack the enhanced code */
	SMTPROBE_REPLY_F_8BIT = 1u << 4, /* bytes >= 0x80 */
};

struct smtprobe_span {
	size_t off; /* offset into the parsed buffer */
	size_t len;
};

/* What smtprobe_reply_parse() found. text[i] is the text of line i after
 * the code and separator (and after the enhanced code when one is present),
 * without the line ending. */
struct smtprobe_reply_parse {
	int code;
	char enhanced[SMTPROBE_MAX_ENHANCED]; /* "5.7.1" or "" */
	unsigned flags;
	size_t nlines;
	struct smtprobe_span text[SMTPROBE_MAX_REPLY_LINES];
};

/* Returns the number of bytes the reply occupies (> 0), 0 when buf holds
 * only a prefix of a reply that is still within every cap, or a negative
 * enum smtprobe_reply_err. out is filled only on success. */
long smtprobe_reply_parse(const char *buf, size_t len,
                          struct smtprobe_reply_parse *out);

/* Validate an enhanced status code "c.s.d" (RFC 3463: class 2, 4 or 5,
 * subject and detail 0..999 without leading zeros beyond one digit).
 * Returns its length in buf (> 0) or 0 when buf does not start with one
 * followed by a space or the end. */
size_t smtprobe_enhanced_scan(const char *buf, size_t len);

/* An owned reply. Text lines are escaped: printable ASCII is kept, other
 * bytes appear as \xNN (\r \n \t as themselves escaped), so they are safe
 * for a terminal, a log or JSON. */
struct smtprobe_reply {
	int code;
	char enhanced[SMTPROBE_MAX_ENHANCED];
	unsigned flags;
	size_t nlines;
	char **text;       /* nlines escaped strings */
	char *raw;         /* the raw lines, escaped, joined by "\n" */
	double latency_ms; /* from the command (or connect) to the last line */
};

/* Build an owned reply from a parse of buf. Returns NULL only when out of
 * memory. */
struct smtprobe_reply *
smtprobe_reply_build(const char *buf, const struct smtprobe_reply_parse *p);
/* A local reply (a synthetic one, e.g. for errors): text is copied. */
struct smtprobe_reply *smtprobe_reply_new(int code, const char *enhanced,
                                          const char *text);
void smtprobe_reply_free(struct smtprobe_reply *r);

/* Human description of a negative parse result ("reply line too long"). */
const char *smtprobe_reply_strerror(long err);

/* Escape len bytes of src into dst (always NUL-terminated when dstsz > 0).
 * Returns the length the full escape needs (like snprintf). */
size_t smtprobe_escape(char *dst, size_t dstsz, const char *src, size_t len);

#endif
