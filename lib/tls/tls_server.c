/* tls_server.c - the server side of the OpenSSL boundary: a server context
 * from PEM files and TLS on an accepted socket (the certificates `smtprobe
 * serve` generates for itself are made in tls_cert.c).
 *
 * Only the files of lib/tls/ include OpenSSL headers: this file and tls.c
 * share the connection object and the message helpers through tls_int.h.
 *
 * A server connection (smtprobe_tls_accept) is the same struct smtprobe_tls
 * a client uses, flagged as a server, and is driven by the same
 * smtprobe_tls_handshake / _read / _write / _pending / _free. It holds a
 * reference to the server context, so smtprobe_tls_server_free may come
 * before the connections' smtprobe_tls_free. No client certificate is asked
 * for: smtprobe_tls_get_facts gives protocol, cipher, group and the SNI the
 * client sent, verify_ok 0 with "no client certificate" and an empty chain.
 *
 * The context speaks TLS 1.2 and 1.3 only, never renegotiates, issues
 * session tickets, picks ECDHE groups automatically (OpenSSL's default
 * since 1.1.0) and treats a peer's EOF without close_notify as a close, as
 * SMTP clients often hang up after QUIT.
 *
 * Diagnostics: "cannot load server certificate '/x': no such file or
 * directory", "server key '/k' does not match the certificate". Limits: a
 * chain file of at most SMTPROBE_MAX_CHAIN certificates. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "smtprobe/tls.h"
#include "tls_int.h"

#include "banned.h"

struct smtprobe_tls_server {
	SSL_CTX *ctx;
};

/* ---- server context ------------------------------------------------ */

static int load_chain(SSL_CTX *ctx, const char *file, char *err, size_t errsz)
{
	char name[128];
	char what[TLS_MAX_ERR];
	unsigned long last;
	BIO *bio;
	X509 *x;
	size_t n = 0;

	tls__escape_str(name, sizeof(name), file);
	tls__fmt(what, sizeof(what),
	         "cannot load server certificate chain '%s'", name);
	bio = BIO_new_file(file, "r");
	if (bio == NULL) {
		tls__format_err(err, errsz, what, "cannot open");
		return -1;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, tls__no_passphrase, NULL)) !=
	       NULL) {
		if (n == SMTPROBE_MAX_CHAIN) {
			X509_free(x);
			BIO_free(bio);
			tls__fmt(err, errsz, "%s: more than %d certificates",
			         what, SMTPROBE_MAX_CHAIN);
			return -1;
		}
		if (!SSL_CTX_add0_chain_cert(ctx, x)) {
			X509_free(x);
			BIO_free(bio);
			tls__format_err(err, errsz, what,
			                "unusable certificate");
			return -1;
		}
		n++;
	}
	BIO_free(bio);
	/* The loop ends on an error: "no start line" is the end of the
	 * file, anything else a broken certificate. */
	last = ERR_peek_last_error();
	if (n > 0 && ERR_GET_LIB(last) == ERR_LIB_PEM &&
	    ERR_GET_REASON(last) == PEM_R_NO_START_LINE) {
		ERR_clear_error();
		return 0;
	}
	tls__format_err(err, errsz, what, "no certificate found");
	return -1;
}

/* The key is read here rather than by SSL_CTX_use_PrivateKey_file, which
 * reports a mismatch only as "key values mismatch". */
static int load_key(SSL_CTX *ctx, const char *file, char *err, size_t errsz)
{
	char name[128];
	char what[TLS_MAX_ERR];
	EVP_PKEY *key;
	BIO *bio;
	X509 *leaf = SSL_CTX_get0_certificate(ctx);

	tls__escape_str(name, sizeof(name), file);
	tls__fmt(what, sizeof(what), "cannot load server key '%s'", name);
	bio = BIO_new_file(file, "r");
	if (bio == NULL) {
		tls__format_err(err, errsz, what, "cannot open");
		return -1;
	}
	key = PEM_read_bio_PrivateKey(bio, NULL, tls__no_passphrase, NULL);
	BIO_free(bio);
	if (key == NULL) {
		tls__format_err(err, errsz, what, "no key found");
		return -1;
	}
	if (leaf == NULL || X509_check_private_key(leaf, key) != 1) {
		EVP_PKEY_free(key);
		ERR_clear_error();
		tls__fmt(err, errsz,
		         "server key '%s' does not match the certificate",
		         name);
		return -1;
	}
	if (SSL_CTX_use_PrivateKey(ctx, key) != 1) {
		EVP_PKEY_free(key);
		tls__format_err(err, errsz, what, "unusable key");
		return -1;
	}
	EVP_PKEY_free(key);
	return 0;
}

static SSL_CTX *new_server_ctx(char *err, size_t errsz)
{
	static const unsigned char sid_ctx[] = "smtprobe";
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL) {
		tls__format_err(err, errsz, "cannot create tls context",
		                "out of memory");
		return NULL;
	}
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_set_session_id_context(ctx, sid_ctx,
	                                    sizeof(sid_ctx) - 1)) {
		tls__format_err(err, errsz, "cannot set up tls context",
		                "unknown error");
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	                                 SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	                              SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	/* Never prompt on the terminal for a key passphrase. */
	SSL_CTX_set_default_passwd_cb(ctx, tls__no_passphrase);
	return ctx;
}

int smtprobe_tls_server_new(struct smtprobe_tls_server **out,
                            const char *cert_file, const char *key_file,
                            const char *chain_file, char *err, size_t errsz)
{
	struct smtprobe_tls_server *srv;
	char dummy[8];
	char name[128];
	char what[TLS_MAX_ERR];

	if (err == NULL || errsz == 0) {
		err = dummy;
		errsz = sizeof(dummy);
	}
	err[0] = '\0';
	*out = NULL;
	if (cert_file == NULL || cert_file[0] == '\0') {
		tls__fmt(err, errsz, "no server certificate given");
		return SMTPROBE_TLS_ERR;
	}
	ERR_clear_error();
	srv = calloc(1, sizeof(*srv));
	if (srv == NULL) {
		tls__fmt(err, errsz, "out of memory");
		return SMTPROBE_TLS_ERR;
	}
	srv->ctx = new_server_ctx(err, errsz);
	if (srv->ctx == NULL)
		goto fail;
	tls__escape_str(name, sizeof(name), cert_file);
	tls__fmt(what, sizeof(what), "cannot load server certificate '%s'",
	         name);
	if (SSL_CTX_use_certificate_chain_file(srv->ctx, cert_file) != 1) {
		tls__format_err(err, errsz, what, "no certificate found");
		goto fail;
	}
	if (chain_file != NULL && chain_file[0] != '\0' &&
	    load_chain(srv->ctx, chain_file, err, errsz) < 0)
		goto fail;
	if (load_key(srv->ctx, key_file && key_file[0] ? key_file : cert_file,
	             err, errsz) < 0)
		goto fail;
	*out = srv;
	return SMTPROBE_TLS_OK;
fail:
	ERR_clear_error();
	smtprobe_tls_server_free(srv);
	return SMTPROBE_TLS_ERR;
}

void smtprobe_tls_server_free(struct smtprobe_tls_server *srv)
{
	if (srv == NULL)
		return;
	SSL_CTX_free(srv->ctx);
	free(srv);
}

int smtprobe_tls_accept(struct smtprobe_tls **out,
                        struct smtprobe_tls_server *srv, int fd, char *err,
                        size_t errsz)
{
	struct smtprobe_tls *t;
	char dummy[8];

	if (err == NULL || errsz == 0) {
		err = dummy;
		errsz = sizeof(dummy);
	}
	err[0] = '\0';
	*out = NULL;
	ERR_clear_error();
	t = calloc(1, sizeof(*t));
	if (t == NULL) {
		tls__fmt(err, errsz, "out of memory");
		return SMTPROBE_TLS_ERR;
	}
	t->fd = fd;
	t->alert_recv = t->alert_sent = -1;
	t->server = 1;
	if (!SSL_CTX_up_ref(srv->ctx)) {
		tls__format_err(err, errsz, "cannot create tls connection",
		                "out of memory");
		goto fail;
	}
	t->ctx = srv->ctx;
	t->ssl = SSL_new(t->ctx);
	if (t->ssl == NULL) {
		tls__format_err(err, errsz, "cannot create tls connection",
		                "out of memory");
		goto fail;
	}
	SSL_set_app_data(t->ssl, t);
	SSL_set_info_callback(t->ssl, tls__info_cb);
	if (!SSL_set_fd(t->ssl, fd)) {
		tls__format_err(err, errsz, "cannot attach tls to the socket",
		                "bad descriptor");
		goto fail;
	}
	SSL_set_accept_state(t->ssl);
	*out = t;
	return SMTPROBE_TLS_OK;
fail:
	ERR_clear_error();
	t->dead = 1;
	smtprobe_tls_free(t);
	return SMTPROBE_TLS_ERR;
}
