/* params.h - the ESMTP parameters of MAIL and RCPT, BDAT's argument, and
 * the address checks of SMTPUTF8, on the server side (pure). */
#ifndef SMTPROBE_SERVER_PARAMS_H
#define SMTPROBE_SERVER_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#define SRV_ENVID_MAX 100 /* RFC 3461 4.4 */
#define SRV_ORCPT_MAX 500 /* RFC 3461 4.2: addr-type ";" xtext */

/* What the server advertised in its EHLO/LHLO reply: a parameter of an
 * extension that was not offered is refused like an unknown one. */
struct srv_offer {
	int size;     /* SIZE */
	int body8;    /* 8BITMIME: BODY=7BIT|8BITMIME */
	int smtputf8; /* SMTPUTF8 */
	int dsn;      /* DSN: RET, ENVID, NOTIFY, ORCPT */
	int auth;     /* AUTH: MAIL's AUTH= */
};

enum srv_body { SRV_BODY_NONE, SRV_BODY_7BIT, SRV_BODY_8BITMIME };
enum srv_ret { SRV_RET_NONE, SRV_RET_FULL, SRV_RET_HDRS };

struct srv_mail_params {
	int has_size;
	uint64_t size;
	enum srv_body body;
	int smtputf8;
	enum srv_ret ret;
	char envid[SRV_ENVID_MAX + 1]; /* as sent (xtext), "" when none */
};

/* NOTIFY values (RFC 3461 4.1); NEVER stands alone */
enum {
	SRV_NOTIFY_NEVER = 1,
	SRV_NOTIFY_SUCCESS = 2,
	SRV_NOTIFY_FAILURE = 4,
	SRV_NOTIFY_DELAY = 8,
};

struct srv_rcpt_params {
	unsigned notify;               /* SRV_NOTIFY_* bits, 0 when none */
	char orcpt[SRV_ORCPT_MAX + 1]; /* as sent, "" when none */
};

/* The parameters after MAIL FROM:<path> (p, n: as srv_command_parse gives
 * them). 0, or -1 with the whole reply to send in reply (555 5.5.4 for a
 * parameter that is unknown or whose extension was not offered, 501 5.5.4
 * for a bad value or a repeated parameter). */
int srv_mail_params_parse(const char *p, size_t n, const struct srv_offer *o,
                          struct srv_mail_params *out, char *reply,
                          size_t replysz);
/* The same for RCPT TO:<path>. */
int srv_rcpt_params_parse(const char *p, size_t n, const struct srv_offer *o,
                          struct srv_rcpt_params *out, char *reply,
                          size_t replysz);

/* BDAT's argument: "SIZE" or "SIZE LAST" (RFC 3030). 0, or -1 with a 501
 * reply. */
int srv_bdat_parse(const char *arg, size_t n, uint64_t *size, int *last,
                   char *reply, size_t replysz);

/* NOTIFY bits as text ("SUCCESS,FAILURE", "NEVER"), NULL for 0. */
const char *srv_notify_text(unsigned bits);

/* Whether s holds a byte over 0x7f. */
int srv_has_8bit(const char *s, size_t n);
/* Whether s is well-formed UTF-8 (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF). */
int srv_utf8_valid(const char *s, size_t n);

#endif
