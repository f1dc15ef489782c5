/* message.c - the default test message, attachments, address forms and
 * dot-stuffing.
 *
 * Promises: everything is bounded by SMTPROBE_MAX_MESSAGE; addresses and
 * header lines with CR, LF or other control bytes are refused, so user
 * input cannot inject SMTP commands or headers. Output uses CRLF only. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "smtprobe/message.h"
#include "smtprobe/reply.h"
#include "smtprobe/sasl.h"
#include "banned.h"

struct sbuf {
	char *p;
	size_t len, cap;
	int err;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->err)
		return;
	if (n > SMTPROBE_MAX_MESSAGE - b->len) {
		b->err = 1;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *np = realloc(b->p, cap);
		if (!np) {
			b->err = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_str(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static void sb_fmt(struct sbuf *b, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
static void sb_fmt(struct sbuf *b, const char *fmt, ...)
{
	char tmp[2048];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		b->err = 1;
		return;
	}
	sb_add(b, tmp, (size_t)n);
}

int smtprobe_arg_safe(const char *s, int allow_space)
{
	size_t n = 0;

	for (; *s; s++, n++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f || (!allow_space && c == ' '))
			return 0;
	}
	return n > 0 && n < SMTPROBE_MAX_ADDRESS;
}

int smtprobe_addr_format(const char *in, char *out, size_t outsz, char *err,
                         size_t errsz)
{
	while (*in == ' ' || *in == '\t')
		in++;
	size_t n = strlen(in);
	while (n > 0 && (in[n - 1] == ' ' || in[n - 1] == '\t'))
		n--;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c < 0x20 || c == 0x7f) {
			snprintf(err, errsz,
			         "address contains a control character "
			         "(CR, LF or similar): refused");
			return -1;
		}
	}
	if (n + 3 > outsz || n + 3 > SMTPROBE_MAX_ADDRESS) {
		snprintf(err, errsz, "address is too long (%zu bytes)", n);
		return -1;
	}
	if (n == 0) {
		snprintf(err, errsz,
		         "empty address (use <> for the null sender)");
		return -1;
	}
	if (in[0] == '<' && in[n - 1] == '>') {
		memcpy(out, in, n);
		out[n] = '\0';
		return 0;
	}
	if (in[0] == '<' || in[n - 1] == '>') {
		snprintf(err, errsz, "unbalanced angle brackets in address");
		return -1;
	}
	out[0] = '<';
	memcpy(out + 1, in, n);
	out[n + 1] = '>';
	out[n + 2] = '\0';
	return 0;
}

void smtprobe_rfc5322_date(time_t t, char *out, size_t outsz)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, outsz, "%a, %d %b %Y %H:%M:%S +0000", &tm);
}

static int has_header(const struct smtprobe_msg_params *p, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < p->nheaders; i++)
		if (strncasecmp(p->headers[i], name, n) == 0 &&
		    p->headers[i][n] == ':')
			return 1;
	return 0;
}

/* Addresses without angle brackets, for header fields. */
static void sb_bare_addr(struct sbuf *b, const char *a)
{
	size_t n = strlen(a);

	if (n >= 2 && a[0] == '<' && a[n - 1] == '>')
		sb_add(b, a + 1, n - 2);
	else
		sb_add(b, a, n);
}

static void sb_base64(struct sbuf *b, const char *data, size_t len)
{
	char line[80];

	/* 57 input bytes make one 76-character line (RFC 2045). */
	for (size_t off = 0; off < len && !b->err; off += 57) {
		size_t n = len - off < 57 ? len - off : 57;
		long w = smtprobe_base64_encode((const unsigned char *)data +
		                                        off,
		                                n, line, sizeof(line));
		if (w < 0) {
			b->err = 1;
			return;
		}
		sb_add(b, line, (size_t)w);
		sb_str(b, "\r\n");
	}
}

/* Append text with every line end made CRLF. */
static void sb_text_crlf(struct sbuf *b, const char *s)
{
	for (; *s && !b->err; s++) {
		if (*s == '\r' && s[1] == '\n')
			continue;
		if (*s == '\n' || *s == '\r')
			sb_str(b, "\r\n");
		else
			sb_add(b, s, 1);
	}
}

int smtprobe_message_build(const struct smtprobe_msg_params *p, char **out,
                           size_t *outlen, char *err, size_t errsz)
{
	struct sbuf b = {0};
	char date[64];
	char boundary[64];

	for (size_t i = 0; i < p->nheaders; i++) {
		const char *h = p->headers[i];
		const char *colon = strchr(h, ':');
		if (!colon || colon == h || !smtprobe_arg_safe(h, 1)) {
			char shown[256];
			smtprobe_escape(shown, sizeof(shown), h,
			                strnlen(h, 60));
			snprintf(err, errsz,
			         "bad header \"%s\": expected \"Name: value\" "
			         "without control characters",
			         shown);
			return -1;
		}
	}
	smtprobe_rfc5322_date(p->now, date, sizeof(date));
	if (!has_header(p, "Date"))
		sb_fmt(&b, "Date: %s\r\n", date);
	if (!has_header(p, "To")) {
		sb_str(&b, "To: ");
		for (size_t i = 0; i < p->nto; i++) {
			if (i)
				sb_str(&b, ", ");
			sb_bare_addr(&b, p->to[i]);
		}
		sb_str(&b, "\r\n");
	}
	if (!has_header(p, "From")) {
		sb_str(&b, "From: ");
		if (p->from && strcmp(p->from, "<>") != 0)
			sb_bare_addr(&b, p->from);
		else
			sb_str(&b, "MAILER-DAEMON");
		sb_str(&b, "\r\n");
	}
	if (!has_header(p, "Subject"))
		sb_fmt(&b, "Subject: test %s\r\n", date);
	if (!has_header(p, "Message-Id"))
		sb_fmt(&b, "Message-Id: <%lld.%lu@%s>\r\n", (long long)p->now,
		       p->nonce,
		       p->helo && p->helo[0] ? p->helo : "smtprobe.invalid");
	if (!has_header(p, "X-Mailer"))
		sb_fmt(&b, "X-Mailer: %s\r\n",
		       p->mailer ? p->mailer : "smtprobe");
	for (size_t i = 0; i < p->nheaders; i++) {
		sb_str(&b, p->headers[i]);
		sb_str(&b, "\r\n");
	}
	const char *body =
	        p->body ? p->body
	                : "This is a test mailing sent by smtprobe.\n";
	if (p->nattach == 0) {
		sb_str(&b, "\r\n");
		sb_text_crlf(&b, body);
	} else {
		snprintf(boundary, sizeof(boundary), "----=_smtprobe_%lld_%lu",
		         (long long)p->now, p->nonce);
		sb_fmt(&b,
		       "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; "
		       "boundary=\"%s\"\r\n\r\nThis is a multi-part message in "
		       "MIME format.\r\n\r\n--%s\r\nContent-Type: text/plain; "
		       "charset=utf-8\r\n\r\n",
		       boundary, boundary);
		sb_text_crlf(&b, body);
		for (size_t i = 0; i < p->nattach; i++) {
			const struct smtprobe_attachment *a = &p->attach[i];
			if (!smtprobe_arg_safe(a->name, 1) ||
			    strchr(a->name, '"')) {
				snprintf(err, errsz, "bad attachment name");
				free(b.p);
				return -1;
			}
			sb_fmt(&b,
			       "\r\n--%s\r\nContent-Type: "
			       "application/octet-stream; "
			       "name=\"%s\"\r\nContent-Disposition: "
			       "attachment; "
			       "filename=\"%s\"\r\nContent-Transfer-Encoding: "
			       "base64\r\n\r\n",
			       boundary, a->name, a->name);
			sb_base64(&b, a->data, a->len);
		}
		sb_fmt(&b, "\r\n--%s--\r\n", boundary);
	}
	if (b.len >= 2 && memcmp(b.p + b.len - 2, "\r\n", 2) != 0)
		sb_str(&b, "\r\n");
	if (b.err) {
		free(b.p);
		snprintf(err, errsz, "message too large (limit %u bytes)",
		         (unsigned)SMTPROBE_MAX_MESSAGE);
		return -1;
	}
	*out = b.p;
	*outlen = b.len;
	return 0;
}

char *smtprobe_dotstuff(const char *in, size_t len, size_t *outlen)
{
	/* Worst case: every byte a line of its own (x3: ".\r\n") + the end. */
	if (len > SMTPROBE_MAX_MESSAGE)
		return NULL;
	char *out = malloc(len * 3 + 8);
	size_t o = 0;
	int bol = 1;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		if (bol && c == '.')
			out[o++] = '.';
		if (c == '\r' && i + 1 < len && in[i + 1] == '\n') {
			out[o++] = '\r';
			out[o++] = '\n';
			i++;
			bol = 1;
			continue;
		}
		if (c == '\r' || c == '\n') {
			out[o++] = '\r';
			out[o++] = '\n';
			bol = 1;
			continue;
		}
		out[o++] = c;
		bol = 0;
	}
	if (!bol) {
		out[o++] = '\r';
		out[o++] = '\n';
	}
	memcpy(out + o, ".\r\n", 3);
	o += 3;
	*outlen = o;
	return out;
}
