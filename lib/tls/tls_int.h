/* tls_int.h - what lib/tls.c (the connection, client side) and
 * lib/tls_server.c (server contexts, accept, certificate generation) share.
 * Private to lib/tls*.c: it brings in OpenSSL's headers, and nothing else
 * in the project may see them.
 *
 * The tls__ helpers live in tls.c. Messages they build are lower case,
 * escaped (control and non-ASCII bytes as \xNN) and capped by the caller's
 * buffer, a cut one ending in "...". */
#ifndef SMTPROBE_TLS_INT_H
#define SMTPROBE_TLS_INT_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "smtprobe/tls.h"

#define TLS_MAX_ERR  256
#define TLS_MAX_HOST 256

/* One TLS connection, either side. The SSL_CTX is always counted: a client
 * holds a reference to the shared client context (tls_client_ctx.c), a
 * server connection one to the server's
 * (SSL_CTX_up_ref), so smtprobe_tls_free frees both alike and a server
 * context may go before its connections. */
struct smtprobe_tls {
	SSL_CTX *ctx;
	SSL *ssl;
	int fd;
	int server; /* made by smtprobe_tls_accept */
	int handshake_done;
	int reneg_asked; /* smtprobe_tls_renegotiate was called */
	int dead;        /* CLOSED or ERR seen: no close_notify on free */
	long chain_err;
	int chain_depth;
	int host_checked;
	int host_is_ip;
	char host[TLS_MAX_HOST];
	char sni[TLS_MAX_HOST];
	char err[TLS_MAX_ERR];
	int alert_recv;     /* first fatal alert received, -1 none */
	int alert_sent;     /* first fatal alert sent, -1 none */
	int dane;           /* TLSA records were given */
	size_t dane_usable; /* ... and OpenSSL took this many */
	struct smtprobe_tls_failure fail;
};

/* snprintf into dst that ends a cut message in "...". */
void tls__fmt(char *dst, size_t dstsz, const char *f, ...)
        __attribute__((format(printf, 3, 4)));
/* src with non-printable bytes as \xNN, capped by dstsz; NULL = "". */
void tls__escape_str(char *dst, size_t dstsz, const char *src);
/* Lowers a leading capital of a system message ("No such file"). */
void tls__lower_first(char *s);
/* "what: reason" with the most telling reason of OpenSSL's error queue, or
 * fallback when it is empty; empties the queue. */
void tls__format_err(char *dst, size_t dstsz, const char *what,
                     const char *fallback);
/* 1 when s is an IPv4 or IPv6 literal (no brackets). */
int tls__is_ip_literal(const char *s);
/* "[::1]" -> "::1"; other names unchanged. -1 when empty or too long. */
int tls__unbracket(char *dst, size_t dstsz, const char *src);
/* A pem_password_cb that never gives a passphrase (never prompts). */
int tls__no_passphrase(char *buf, int size, int rwflag, void *u);
/* tls_failure.c: the info callback that records alerts (set on every
 * connection), and the failure of t from OpenSSL's error queue q[0..n)
 * (innermost first), the reason words already picked, or fallback when
 * the queue says nothing (a close, a socket error). First call wins. */
void tls__info_cb(const SSL *ssl, int where, int ret);
void tls__classify(struct smtprobe_tls *t, enum smtprobe_tls_error fallback,
                   const unsigned long *q, size_t n, const char *reason);
/* tls_client_ctx.c: a client context for these options (a new reference,
 * shared with other connections of the same options), or NULL with err. */
SSL_CTX *tls__client_ctx(const struct smtprobe_tls_opts *o, char *err,
                         size_t errsz);
/* tls_dane.c: enable DANE on t's connection with o's TLSA records (after
 * the names are set up; nothing when o has none); 0 or -1 with err. The
 * DANE facts after the handshake. */
int tls__dane_setup(struct smtprobe_tls *t, const struct smtprobe_tls_opts *o,
                    char *err, size_t errsz);
void tls__dane_facts(const struct smtprobe_tls *t,
                     struct smtprobe_tls_facts *out);
/* The SHA-256 of x's SubjectPublicKeyInfo as lower-case hex ("" when it
 * cannot be had); out has room for 65 bytes. */
void tls__spki_sha256(X509 *x, char *out, size_t outsz);

#endif
