/* sasl.h - the client side of SMTP AUTH (RFC 4954).
 *
 * Mechanisms come from GNU SASL (PLAIN, LOGIN, CRAM-MD5, DIGEST-MD5,
 * SCRAM-SHA-1, SCRAM-SHA-256, NTLM) plus the bearer-token ones built here
 * (XOAUTH2, OAUTHBEARER RFC 7628, the token given as the password). Only
 * lib/sasl/sasl.c includes GNU SASL's headers. Secrets are wiped on free. */
#ifndef SMTPROBE_SASL_H
#define SMTPROBE_SASL_H

#include <stddef.h>

/* Cap on a decoded challenge and on an encoded response. */
#define SMTPROBE_MAX_SASL 8192

enum smtprobe_sasl_rc {
	SMTPROBE_SASL_OK = 0,   /* the client has nothing more to say */
	SMTPROBE_SASL_MORE = 1, /* a response was produced; expect 334 or 235 */
	SMTPROBE_SASL_E_MECH = -1, /* mechanism unknown or unavailable */
	SMTPROBE_SASL_E_DECODE =
	        -2, /* the challenge is not valid base64 / too big */
	SMTPROBE_SASL_E_PROTOCOL =
	        -3, /* the mechanism rejected the challenge */
	SMTPROBE_SASL_E_SERVER =
	        -4, /* the server failed mutual authentication */
	SMTPROBE_SASL_E_NOMEM = -5,
};

struct smtprobe_sasl_params {
	unsigned mech;    /* one enum smtprobe_mech bit */
	const char *user; /* authentication identity */
	const char *
	        password; /* password, or the bearer token for the OAuth ones */
	const char *authzid; /* optional authorization identity */
	const char *host;    /* server host name (DIGEST-MD5, OAUTHBEARER) */
	unsigned port;       /* OAUTHBEARER */
};

struct smtprobe_sasl;

/* Create a client exchange. On error returns a negative rc and writes a
 * lower-case reason to err. */
int smtprobe_sasl_new(struct smtprobe_sasl **out,
                      const struct smtprobe_sasl_params *params, char *err,
                      size_t errsz);

/* The initial response (RFC 4954 "AUTH MECH initial-response"), already
 * base64-encoded ("=" for an empty one), or NULL when the mechanism waits
 * for the server's first challenge (CRAM-MD5, DIGEST-MD5, LOGIN). The
 * string is owned by the exchange and valid until the next call. */
int smtprobe_sasl_start(struct smtprobe_sasl *s, const char **initial);

/* Answer a 334 challenge (base64 text as the server sent it, may be empty).
 * *response is base64 text to send (owned by the exchange; may be "" for an
 * empty line). After an error reply from an OAuth server (a 334 carrying a
 * JSON error) this yields the empty / \x01 response the RFC requires. */
int smtprobe_sasl_step(struct smtprobe_sasl *s, const char *challenge,
                       size_t len, const char **response);

/* The last error as a lower-case phrase. */
const char *smtprobe_sasl_error(const struct smtprobe_sasl *s);

/* Whether the exchange completed mutual authentication (SCRAM's server
 * signature was checked), for reporting. */
int smtprobe_sasl_server_verified(const struct smtprobe_sasl *s);

void smtprobe_sasl_free(struct smtprobe_sasl *s);

/* Decode base64 strictly (RFC 4648, padding required, no whitespace) into
 * out. Returns the decoded length or -1 when invalid or larger than outsz.
 * Pure; used for showing challenges and by the fuzz target. */
long smtprobe_base64_decode(const char *in, size_t len, unsigned char *out,
                            size_t outsz);
/* Encode; returns the length written (NUL-terminated) or -1 if outsz is too
 * small. */
long smtprobe_base64_encode(const unsigned char *in, size_t len, char *out,
                            size_t outsz);

#endif
