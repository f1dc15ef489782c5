/* message.h - the test message, addresses and dot-stuffing (RFC 5321,
 * RFC 5322, RFC 2045/2046 for attachments). Pure functions; the CLI reads
 * files and hands their contents in. */
#ifndef SMTPROBE_MESSAGE_H
#define SMTPROBE_MESSAGE_H

#include <stddef.h>
#include <time.h>

/* Cap on a message we build or send, attachments included. */
#define SMTPROBE_MAX_MESSAGE (64u * 1024 * 1024)
#define SMTPROBE_MAX_ADDRESS 512

struct smtprobe_attachment {
	const char *name; /* file name shown to the recipient */
	const char *data;
	size_t len;
};

struct smtprobe_msg_params {
	const char *from;
	const char *const *to;
	size_t nto;
	const char *const *headers; /* extra "Name: value" lines */
	size_t nheaders;
	const char *body; /* NULL = the default test body */
	const struct smtprobe_attachment *attach;
	size_t nattach;
	const char *helo;   /* used in the Message-ID */
	const char *mailer; /* X-Mailer value */
	time_t now;
	unsigned long nonce; /* makes the Message-ID unique */
};

/* Build the message (CRLF line ends, not dot-stuffed). Returns 0 and a
 * malloc'd *out, or -1 with a reason in err. A custom header replaces a
 * default one of the same name. */
int smtprobe_message_build(const struct smtprobe_msg_params *p, char **out,
                           size_t *outlen, char *err, size_t errsz);

/* Dot-stuff a message for DATA: bare LF and bare CR become CRLF, a line
 * starting with '.' gets another '.', a final CRLF is added when missing,
 * and the terminating ".\r\n" is appended. Returns a malloc'd buffer and
 * its length in *outlen, or NULL when out of memory or over the cap. */
char *smtprobe_dotstuff(const char *in, size_t len, size_t *outlen);

/* Normalise an envelope address as typed by a user into the form used in
 * MAIL FROM / RCPT TO: surrounding blanks removed, angle brackets added when
 * missing ("<>" stays the null sender). Rejects CR, LF, NUL and other
 * control bytes (command injection) and over-long input. Returns 0 or -1
 * with a reason in err. */
int smtprobe_addr_format(const char *in, char *out, size_t outsz, char *err,
                         size_t errsz);

/* Whether a HELO name or other command argument is safe to send: no
 * control bytes, no spaces where not allowed, bounded. */
int smtprobe_arg_safe(const char *s, int allow_space);

/* RFC 5322 date ("Sun, 22 Nov 2026 19:00:00 +0000") of t in UTC. */
void smtprobe_rfc5322_date(time_t t, char *out, size_t outsz);

#endif
