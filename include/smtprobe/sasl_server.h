/* sasl_server.h - the server side of SMTP AUTH, for `smtprobe serve`:
 * PLAIN, LOGIN, CRAM-MD5 and SCRAM-SHA-256 (and SCRAM-SHA-1) through GNU
 * SASL. Only lib/sasl*.c include GNU SASL's headers. */
#ifndef SMTPROBE_SASL_SERVER_H
#define SMTPROBE_SASL_SERVER_H

#include <stddef.h>

#include "sasl.h"

/* The plain password of user, or NULL when there is no such user. */
typedef const char *(*smtprobe_sasl_lookup)(void *arg, const char *user);

enum {
	SMTPROBE_SASL_E_AUTH = -10, /* wrong credentials or unknown user */
};

struct smtprobe_sasl_server;

/* One exchange for mechanism mech (one enum smtprobe_mech bit). */
int smtprobe_sasl_server_new(struct smtprobe_sasl_server **out, unsigned mech,
                             const char *hostname, smtprobe_sasl_lookup lookup,
                             void *arg, char *err, size_t errsz);

/* Feed what the client sent: the initial response of "AUTH MECH IR" (base64
 * text, "=" for empty) or a line answering a 334 (base64 text); input NULL
 * when AUTH came without an initial response. Returns:
 *   SMTPROBE_SASL_MORE  *challenge is base64 text for "334 <challenge>"
 *                       (may be "" for "334 ")
 *   SMTPROBE_SASL_OK    authenticated; smtprobe_sasl_server_user() says who
 *   SMTPROBE_SASL_E_AUTH wrong credentials / unknown user (535 5.7.8)
 *   SMTPROBE_SASL_E_DECODE / E_PROTOCOL malformed input (501 5.5.2)
 * A line "*" from the client cancels: the caller answers 501 itself. */
int smtprobe_sasl_server_step(struct smtprobe_sasl_server *s, const char *input,
                              size_t len, const char **challenge);

/* The authenticated user (authentication identity), after OK. */
const char *smtprobe_sasl_server_user(const struct smtprobe_sasl_server *s);
/* The user name the client claimed, known or not (for logs), or "". */
const char *smtprobe_sasl_server_claimed(const struct smtprobe_sasl_server *s);
void smtprobe_sasl_server_free(struct smtprobe_sasl_server *s);

#endif
