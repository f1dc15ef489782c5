/* reply.c - SMTP reply parsing (RFC 5321 4.2), enhanced status codes
 * (RFC 3463) and escaping of server text.
 *
 * smtprobe_reply_parse() recognises one reply at the start of (buf, len)
 * and describes it with spans into buf. It never allocates, never reads
 * past buf + len and never writes to out unless it succeeds.
 *
 * Bad input: a code that is not three digits 2xx..5xx, a fourth byte that
 * is not ' ', '-' or the line end, or a line whose code differs from the
 * first line's is an error, reported as soon as the offending bytes are in
 * the buffer. Oddities that do not prevent understanding the reply (bare
 * LF line ends, control or 8-bit bytes in the text, enhanced codes that
 * contradict the reply class or appear on only some lines) are accepted
 * and reported as flags.
 *
 * Limits: SMTPROBE_MAX_LINE bytes per line (without its terminator),
 * SMTPROBE_MAX_REPLY_LINES lines and SMTPROBE_MAX_REPLY_SIZE bytes per
 * reply. Each cap is an error, and it is reported as soon as the buffer
 * proves the cap will be exceeded, even when the reply is not complete
 * yet: a peer sending an endless line or an endless multi-line reply
 * gets an error, not an ever-growing "incomplete". A result is decided by
 * the bytes seen so far only, so once a prefix gives an error every longer
 * buffer gives the same error.
 *
 * smtprobe_reply_build() and smtprobe_reply_new() produce owned replies
 * whose strings contain printable ASCII only (see smtprobe_escape()); they
 * fail only when out of memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtprobe/reply.h"

#include "banned.h"

/* Result of looking at one line. */
enum line_state {
	LINE_INCOMPLETE = 0,
	LINE_MORE = 1, /* a continuation line, the reply goes on */
	LINE_LAST = 2,
};

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* RFC 5321 textstring allows HT and SP..~; everything else below 0x80 is
 * a control byte worth reporting. */
static unsigned text_flags(const char *s, size_t len)
{
	unsigned flags = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x80)
			flags |= SMTPROBE_REPLY_F_8BIT;
		else if ((c < 0x20 && c != '\t') || c == 0x7f)
			flags |= SMTPROBE_REPLY_F_CTRL;
	}
	return flags;
}

/* Subject or detail of an enhanced code: "0" or 1-3 digits without a
 * leading zero. Returns its length or 0. */
static size_t enhanced_number(const char *s, size_t len)
{
	size_t n = 0;

	while (n < len && n < 4 && is_digit((unsigned char)s[n]))
		n++;
	if (n == 0 || n > 3)
		return 0;
	if (n > 1 && s[0] == '0')
		return 0;
	return n;
}

size_t smtprobe_enhanced_scan(const char *buf, size_t len)
{
	size_t pos = 0, n;

	if (len < 5 || (buf[0] != '2' && buf[0] != '4' && buf[0] != '5') ||
	    buf[1] != '.')
		return 0;
	pos = 2;
	n = enhanced_number(buf + pos, len - pos);
	if (n == 0)
		return 0;
	pos += n;
	if (pos >= len || buf[pos] != '.')
		return 0;
	pos++;
	n = enhanced_number(buf + pos, len - pos);
	if (n == 0)
		return 0;
	pos += n;
	if (pos < len && buf[pos] != ' ')
		return 0;
	return pos;
}

/* Look at the line starting at s; end is the end of the bytes we may look
 * at. On a complete line, record it in p and set *next to the start of
 * the following line. */
static long parse_line(const char *buf, size_t end, size_t s,
                       struct smtprobe_reply_parse *p, size_t *nenh,
                       size_t *next)
{
	size_t avail = end - s, lim, e, cend, toff, tlen, n;
	const char *lf;
	int code = 0, i;
	char sep;
	long state;

	for (i = 0; i < 3; i++) {
		unsigned char c;

		if ((size_t)i >= avail)
			return LINE_INCOMPLETE;
		c = (unsigned char)buf[s + i];
		if (!is_digit(c) || (i == 0 && (c < '2' || c > '5')))
			return SMTPROBE_REPLY_E_BAD_CODE;
		code = code * 10 + (c - '0');
	}
	if (p->nlines > 0 && code != p->code)
		return SMTPROBE_REPLY_E_CODE_MISMATCH;
	if (avail < 4)
		return LINE_INCOMPLETE;

	sep = buf[s + 3];
	if (sep == '-') {
		/* This line promises another one: if that would be one too
		 * many, say so now rather than wait for it. */
		if (p->nlines + 1 >= SMTPROBE_MAX_REPLY_LINES)
			return SMTPROBE_REPLY_E_TOO_MANY_LINES;
		state = LINE_MORE;
	} else if (sep == ' ' || sep == '\n') {
		state = LINE_LAST;
	} else if (sep == '\r') {
		if (avail < 5)
			return LINE_INCOMPLETE;
		if (buf[s + 4] != '\n')
			return SMTPROBE_REPLY_E_BAD_SEPARATOR;
		state = LINE_LAST;
	} else {
		return SMTPROBE_REPLY_E_BAD_SEPARATOR;
	}

	/* The terminator of a line within the cap is at most at
	 * s + MAX_LINE + 1 (after a CR at s + MAX_LINE). */
	lim = avail < SMTPROBE_MAX_LINE + 2 ? end : s + SMTPROBE_MAX_LINE + 2;
	lf = memchr(buf + s + 3, '\n', lim - (s + 3));
	if (lf == NULL) {
		if (avail > SMTPROBE_MAX_LINE + 1 ||
		    (avail == SMTPROBE_MAX_LINE + 1 && buf[end - 1] != '\r'))
			return SMTPROBE_REPLY_E_LINE_TOO_LONG;
		return LINE_INCOMPLETE;
	}
	e = (size_t)(lf - buf);
	cend = e;
	if (buf[cend - 1] == '\r')
		cend--;
	else
		p->flags |= SMTPROBE_REPLY_F_BARE_LF;
	if (cend - s > SMTPROBE_MAX_LINE)
		return SMTPROBE_REPLY_E_LINE_TOO_LONG;

	toff = (sep == ' ' || sep == '-') ? s + 4 : s + 3;
	tlen = cend - toff;
	p->flags |= text_flags(buf + toff, tlen);

	n = smtprobe_enhanced_scan(buf + toff, tlen);
	if (n > 0) {
		if (buf[toff] != '0' + code / 100)
			p->flags |= SMTPROBE_REPLY_F_ENH_MISMATCH;
		if (*nenh == 0) {
			memcpy(p->enhanced, buf + toff, n);
			p->enhanced[n] = '\0';
		}
		(*nenh)++;
		if (n < tlen)
			n++; /* the space after the code */
		toff += n;
		tlen -= n;
	}

	p->code = code;
	p->text[p->nlines].off = toff;
	p->text[p->nlines].len = tlen;
	p->nlines++;
	*next = e + 1;
	return state;
}

long smtprobe_reply_parse(const char *buf, size_t len,
                          struct smtprobe_reply_parse *out)
{
	struct smtprobe_reply_parse p;
	size_t end, pos = 0, nenh = 0, next = 0;
	long rc;

	/* Nothing past the size cap can belong to a valid reply. */
	end = len < SMTPROBE_MAX_REPLY_SIZE ? len : SMTPROBE_MAX_REPLY_SIZE;
	p.code = 0;
	p.enhanced[0] = '\0';
	p.flags = 0;
	p.nlines = 0;
	for (;;) {
		rc = parse_line(buf, end, pos, &p, &nenh, &next);
		if (rc < 0)
			return rc;
		if (rc == LINE_INCOMPLETE)
			return len > end ? SMTPROBE_REPLY_E_TOO_BIG
			                 : SMTPROBE_REPLY_INCOMPLETE;
		pos = next;
		if (rc == LINE_LAST)
			break;
	}
	if (nenh > 0 && nenh < p.nlines)
		p.flags |= SMTPROBE_REPLY_F_ENH_PARTIAL;
	*out = p;
	return (long)pos;
}

static int escape_one(unsigned char c, char tmp[4])
{
	static const char hex[] = "0123456789abcdef";

	switch (c) {
	case '\\':
		tmp[0] = '\\';
		tmp[1] = '\\';
		return 2;
	case '\r':
		tmp[0] = '\\';
		tmp[1] = 'r';
		return 2;
	case '\n':
		tmp[0] = '\\';
		tmp[1] = 'n';
		return 2;
	case '\t':
		tmp[0] = '\\';
		tmp[1] = 't';
		return 2;
	default:
		break;
	}
	if (c >= 0x20 && c < 0x7f) {
		tmp[0] = (char)c;
		return 1;
	}
	tmp[0] = '\\';
	tmp[1] = 'x';
	tmp[2] = hex[c >> 4];
	tmp[3] = hex[c & 0xf];
	return 4;
}

size_t smtprobe_escape(char *dst, size_t dstsz, const char *src, size_t len)
{
	size_t need = 0, w = 0, i;
	int full = 0;
	char tmp[4];

	for (i = 0; i < len; i++) {
		size_t n = (size_t)escape_one((unsigned char)src[i], tmp);

		/* Never write half an escape sequence. */
		if (!full && dstsz > 0 && w + n < dstsz) {
			memcpy(dst + w, tmp, n);
			w += n;
		} else {
			full = 1;
		}
		need += n;
	}
	if (dstsz > 0)
		dst[w] = '\0';
	return need;
}

static char *escape_dup(const char *src, size_t len)
{
	size_t need = smtprobe_escape(NULL, 0, src, len);
	char *s = malloc(need + 1);

	if (s != NULL)
		smtprobe_escape(s, need + 1, src, len);
	return s;
}

/* Line i starts right after the terminator of line i - 1, and each text
 * span ends where its line's terminator begins. */
static size_t line_start(const char *buf, const struct smtprobe_reply_parse *p,
                         size_t i)
{
	size_t cend;

	if (i == 0)
		return 0;
	cend = p->text[i - 1].off + p->text[i - 1].len;
	return buf[cend] == '\n' ? cend + 1 : cend + 2;
}

struct smtprobe_reply *
smtprobe_reply_build(const char *buf, const struct smtprobe_reply_parse *p)
{
	struct smtprobe_reply *r;
	size_t i, rawlen = 0, w = 0;

	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	r->code = p->code;
	memcpy(r->enhanced, p->enhanced, sizeof(r->enhanced));
	r->enhanced[sizeof(r->enhanced) - 1] = '\0';
	r->flags = p->flags;
	r->latency_ms = 0;
	r->text = calloc(p->nlines > 0 ? p->nlines : 1, sizeof(*r->text));
	if (r->text == NULL)
		goto fail;
	r->nlines = p->nlines;

	for (i = 0; i < p->nlines; i++) {
		size_t s = line_start(buf, p, i);
		size_t cend = p->text[i].off + p->text[i].len;

		r->text[i] = escape_dup(buf + p->text[i].off, p->text[i].len);
		if (r->text[i] == NULL)
			goto fail;
		rawlen += smtprobe_escape(NULL, 0, buf + s, cend - s) + 1;
	}
	r->raw = malloc(rawlen + 1);
	if (r->raw == NULL)
		goto fail;
	r->raw[0] = '\0';
	for (i = 0; i < p->nlines; i++) {
		size_t s = line_start(buf, p, i);
		size_t cend = p->text[i].off + p->text[i].len;

		if (i > 0)
			r->raw[w++] = '\n';
		w += smtprobe_escape(r->raw + w, rawlen + 1 - w, buf + s,
		                     cend - s);
	}
	return r;

fail:
	smtprobe_reply_free(r);
	return NULL;
}

struct smtprobe_reply *smtprobe_reply_new(int code, const char *enhanced,
                                          const char *text)
{
	struct smtprobe_reply *r;
	size_t elen = 0, rawlen;
	int n;

	if (text == NULL)
		text = "";
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	r->code = code;
	/* A local enhanced code is kept only when it is a valid one, so
	 * that every reply's enhanced field means the same thing. */
	if (enhanced != NULL) {
		elen = strlen(enhanced);
		if (elen > 0 && elen < sizeof(r->enhanced) &&
		    smtprobe_enhanced_scan(enhanced, elen) == elen)
			memcpy(r->enhanced, enhanced, elen + 1);
		else
			elen = 0;
	}
	r->text = calloc(1, sizeof(*r->text));
	if (r->text == NULL)
		goto fail;
	r->nlines = 1;
	r->text[0] = escape_dup(text, strlen(text));
	if (r->text[0] == NULL)
		goto fail;

	rawlen = 16 + elen + 1 + strlen(r->text[0]) + 1;
	r->raw = malloc(rawlen);
	if (r->raw == NULL)
		goto fail;
	if (elen > 0)
		n = snprintf(r->raw, rawlen, "%d %s %s", code, r->enhanced,
		             r->text[0]);
	else
		n = snprintf(r->raw, rawlen, "%d %s", code, r->text[0]);
	if (n < 0 || (size_t)n >= rawlen)
		goto fail;
	return r;

fail:
	smtprobe_reply_free(r);
	return NULL;
}

void smtprobe_reply_free(struct smtprobe_reply *r)
{
	size_t i;

	if (r == NULL)
		return;
	if (r->text != NULL) {
		for (i = 0; i < r->nlines; i++)
			free(r->text[i]);
		free(r->text);
	}
	free(r->raw);
	free(r);
}

static const char *const reply_errors[] = {
        [-SMTPROBE_REPLY_E_LINE_TOO_LONG] = "reply line too long",
        [-SMTPROBE_REPLY_E_TOO_MANY_LINES] = "reply has too many lines",
        [-SMTPROBE_REPLY_E_TOO_BIG] = "reply too big",
        [-SMTPROBE_REPLY_E_BAD_CODE] = "bad reply code",
        [-SMTPROBE_REPLY_E_CODE_MISMATCH] = "reply lines disagree on the code",
        [-SMTPROBE_REPLY_E_BAD_SEPARATOR] = "bad separator after reply code",
};

const char *smtprobe_reply_strerror(long err)
{
	if (err == SMTPROBE_REPLY_INCOMPLETE)
		return "incomplete reply";
	if (err > 0)
		return "no error";
	if (err < -(long)(sizeof(reply_errors) / sizeof(reply_errors[0]) - 1) ||
	    reply_errors[-err] == NULL)
		return "unknown reply error";
	return reply_errors[-err];
}
