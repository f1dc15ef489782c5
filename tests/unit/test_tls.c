/* test_tls.c - lib/tls/tls.c against a real OpenSSL server on a socketpair.
 *
 * At start a CA, a "localhost" server certificate it signs, an expired one,
 * a self-signed one and one with hostile names are made with OpenSSL's API
 * in a temporary directory. Each case then runs a small blocking TLS server
 * in a thread, on one end of a socketpair, and drives the client through
 * smtprobe_tls_* on the other, non-blocking, end with a poll() loop, as the
 * session does. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "smtprobe/tls.h"
#include "tls_int.h"

#include "banned.h"

#define TIMEOUT_MS 5000
#define DAY        (24L * 60 * 60)

enum srv_cert { CERT_GOOD, CERT_EXPIRED, CERT_SELF, CERT_EVIL, CERT_LAST };

enum srv_mode {
	SRV_DRAIN,     /* handshake, then read until the client goes */
	SRV_ECHO,      /* handshake, echo one line, then drain */
	SRV_CLOSE,     /* handshake, close_notify, EOF */
	SRV_HANGUP,    /* handshake, EOF without close_notify */
	SRV_GARBAGE,   /* no TLS: an SMTP greeting instead of ServerHello */
	SRV_EOF_EARLY, /* EOF before any handshake */
};

enum client_op { OP_NONE, OP_ECHO, OP_READ_CLOSED };

/* Paths filled at start; the table points at them. */
static char dir[64];
static char ca_file[128];
static char self_file[128]; /* self-signed cert + key in one file */
static char missing_file[128];
static char other_file[128]; /* the localhost cert + its RSA key */
static char junk_file[128];  /* not PEM at all */
static char enc_file[128];   /* the self-signed cert + its key, encrypted */

static struct server_cert {
	X509 *cert;
	EVP_PKEY *key;
	int with_ca; /* send the CA after the leaf */
} certs[CERT_LAST];
static X509 *ca_cert;
static EVP_PKEY *ca_key;

struct tcase {
	const char *name;
	enum srv_cert cert;
	enum srv_mode mode;
	struct smtprobe_tls_opts opts;
	const char *new_err; /* smtprobe_tls_new must fail with this */
	int want_hs;         /* handshake result */
	const char *hs_err1; /* handshake error is one of these */
	const char *hs_err2;
	enum client_op op;
	int verify_ok;
	long verify_code; /* -1 = any non-zero */
	const char *reason1;
	const char *reason2;
	int host_match;
	const char *protocol; /* NULL = any TLS 1.2 or 1.3 */
	const char *cipher;
	int check_facts; /* leaf and CA details */
	int self_signed;
	int days_negative;
	int hostile;
	int legacy;      /* the server also speaks TLS 1.0 */
	int need_cert;   /* the server demands a client certificate */
	const char *sni; /* expected in the facts */
};

static const struct tcase cases[] = {
        {.name = "trusted chain, matching host",
         .opts = {.sni = "localhost",
                  .verify_host = "localhost",
                  .ca_file = ca_file},
         .verify_ok = 1,
         .reason1 = "ok",
         .host_match = 1,
         .protocol = "TLSv1.3",
         .check_facts = 1,
         .sni = "localhost"},
        {.name = "system store does not know the test CA",
         .opts = {.sni = "localhost", .verify_host = "localhost"},
         .verify_code = -1,
         .reason1 = "self-signed certificate in certificate chain",
         .reason2 = "unable to get local issuer certificate",
         .host_match = 1,
         .sni = "localhost"},
        {.name = "wrong host name",
         .opts = {.sni = "mail.example.org",
                  .verify_host = "mail.example.org",
                  .ca_file = ca_file},
         .verify_code = X509_V_ERR_HOSTNAME_MISMATCH,
         .reason1 = "hostname mismatch",
         .host_match = 0,
         .sni = "mail.example.org"},
        {.name = "IP literal matches, no SNI sent",
         .opts = {.sni = "127.0.0.1",
                  .verify_host = "127.0.0.1",
                  .ca_file = ca_file},
         .verify_ok = 1,
         .reason1 = "ok",
         .host_match = 1,
         .sni = ""},
        {.name = "IP literal mismatch",
         .opts = {.sni = "[127.0.0.2]",
                  .verify_host = "[127.0.0.2]",
                  .ca_file = ca_file},
         .verify_code = X509_V_ERR_IP_ADDRESS_MISMATCH,
         .reason1 = "IP address mismatch",
         .host_match = 0,
         .sni = ""},
        {.name = "expired certificate",
         .cert = CERT_EXPIRED,
         .opts = {.sni = "localhost",
                  .verify_host = "localhost",
                  .ca_file = ca_file},
         .verify_code = X509_V_ERR_CERT_HAS_EXPIRED,
         .reason1 = "certificate has expired",
         .host_match = 1,
         .days_negative = 1,
         .sni = "localhost"},
        {.name = "expired certificate and wrong host",
         .cert = CERT_EXPIRED,
         .opts = {.verify_host = "other.example", .ca_file = ca_file},
         .verify_code = X509_V_ERR_CERT_HAS_EXPIRED,
         .reason1 = "certificate has expired",
         .host_match = 0,
         .days_negative = 1,
         .sni = ""},
        {.name = "self-signed leaf, matching host",
         .cert = CERT_SELF,
         .opts = {.sni = "localhost",
                  .verify_host = "localhost",
                  .ca_file = ca_file},
         .verify_code = X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT,
         .reason1 = "self-signed certificate",
         .host_match = 1,
         .self_signed = 1,
         .sni = "localhost"},
        {.name = "no host to check",
         .opts = {.ca_file = ca_file},
         .verify_ok = 1,
         .reason1 = "ok",
         .sni = ""},
        {.name = "max TLSv1.2",
         .opts = {.ca_file = ca_file, .max_proto = "TLSv1.2"},
         .verify_ok = 1,
         .reason1 = "ok",
         .protocol = "TLSv1.2",
         .sni = ""},
        {.name = "max TLSv1 against a legacy server",
         .opts = {.ca_file = ca_file, .max_proto = "TLSv1"},
         .legacy = 1,
         .verify_ok = 1,
         .reason1 = "ok",
         .protocol = "TLSv1",
         .sni = ""},
        {.name = "min tls1_3 spelling",
         .opts = {.ca_file = ca_file, .min_proto = "tls1_3"},
         .verify_ok = 1,
         .reason1 = "ok",
         .protocol = "TLSv1.3",
         .sni = ""},
        {.name = "cipher list for TLS 1.2",
         .opts = {.ca_file = ca_file,
                  .max_proto = "1.2",
                  .ciphers = "ECDHE-RSA-AES128-GCM-SHA256"},
         .verify_ok = 1,
         .reason1 = "ok",
         .protocol = "TLSv1.2",
         .cipher = "ECDHE-RSA-AES128-GCM-SHA256",
         .sni = ""},
        {.name = "cipher suite for TLS 1.3",
         .opts = {.ca_file = ca_file,
                  .ciphers = "TLS_CHACHA20_POLY1305_SHA256"},
         .verify_ok = 1,
         .reason1 = "ok",
         .protocol = "TLSv1.3",
         .cipher = "TLS_CHACHA20_POLY1305_SHA256",
         .sni = ""},
        {.name = "echo through TLS",
         .mode = SRV_ECHO,
         .op = OP_ECHO,
         .opts = {.ca_file = ca_file, .verify_host = "localhost"},
         .verify_ok = 1,
         .reason1 = "ok",
         .host_match = 1,
         .sni = ""},
        {.name = "server sends close_notify",
         .mode = SRV_CLOSE,
         .op = OP_READ_CLOSED,
         .opts = {.ca_file = ca_file},
         .verify_ok = 1,
         .reason1 = "ok",
         .sni = ""},
        {.name = "server hangs up without close_notify",
         .mode = SRV_HANGUP,
         .op = OP_READ_CLOSED,
         .opts = {.ca_file = ca_file},
         .verify_ok = 1,
         .reason1 = "ok",
         .sni = ""},
        {.name = "client certificate, key in the same file",
         .mode = SRV_ECHO,
         .op = OP_ECHO,
         .need_cert = 1,
         .opts = {.ca_file = ca_file, .cert_file = self_file},
         .verify_ok = 1,
         .reason1 = "ok",
         .sni = ""},
        {.name = "hostile names are escaped",
         .cert = CERT_EVIL,
         .opts = {.ca_file = ca_file, .verify_host = "localhost"},
         .verify_code = X509_V_ERR_HOSTNAME_MISMATCH,
         .reason1 = "hostname mismatch",
         .hostile = 1,
         .sni = ""},
        {.name = "garbage instead of ServerHello",
         .mode = SRV_GARBAGE,
         .opts = {.ca_file = ca_file},
         .want_hs = SMTPROBE_TLS_ERR,
         .hs_err1 = "tls handshake failed: wrong version number",
         .hs_err2 = "tls handshake failed: packet length too long"},
        {.name = "EOF during the handshake",
         .mode = SRV_EOF_EARLY,
         .opts = {.ca_file = ca_file},
         .want_hs = SMTPROBE_TLS_CLOSED,
         .hs_err1 = "tls handshake failed: connection closed by peer"},
        {.name = "bad CA file",
         .opts = {.ca_file = missing_file},
         .new_err = "missing.pem': no such file or directory"},
        {.name = "CA file without certificates",
         .opts = {.ca_file = junk_file},
         .new_err = "junk.pem': no certificate or crl found"},
        {.name = "bad CA directory",
         .opts = {.ca_path = missing_file},
         .new_err = "cannot use CA directory '"},
        {.name = "unknown protocol name",
         .opts = {.max_proto = "TLSv9"},
         .new_err = "unknown TLS protocol version 'TLSv9'"},
        {.name = "min above max",
         .opts = {.min_proto = "TLSv1.3", .max_proto = "TLSv1.2"},
         .new_err = "minimum TLS protocol version is above the maximum"},
        {.name = "no usable cipher",
         .opts = {.ciphers = "NOPE"},
         .new_err = "no usable cipher in 'NOPE'"},
        {.name = "client key file is junk",
         .opts = {.cert_file = self_file, .key_file = junk_file},
         .new_err = "cannot load client key '/tmp/smtprobe-tls-"},
        {.name = "client key file is junk: reason",
         .opts = {.cert_file = self_file, .key_file = junk_file},
         .new_err = "junk.pem': no private key found"},
        {.name = "encrypted client key",
         .opts = {.cert_file = enc_file},
         .new_err =
                 "enc.pem': the key is encrypted (no passphrase can be given)"},
        {.name = "missing client certificate",
         .opts = {.cert_file = missing_file},
         .new_err = "cannot load client certificate '"},
        {.name = "client key file without a key",
         .opts = {.cert_file = self_file, .key_file = ca_file},
         .new_err = "ca.pem': no private key found"},
        {.name = "client key does not match",
         .opts = {.cert_file = self_file, .key_file = other_file},
         .new_err = "does not match the certificate"},
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* ---- certificates ---- */

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	assert_non_null(ext);
	assert_int_equal(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
}

/* issuer NULL = self-signed. */
static X509 *make_cert(const char *cn, const char *san, EVP_PKEY *key,
                       X509 *issuer, EVP_PKEY *issuer_key, long from,
                       long until, int is_ca)
{
	static long serial = 1;
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();

	assert_non_null(x);
	assert_non_null(name);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), from);
	X509_gmtime_adj(X509_getm_notAfter(x), until);
	X509_set_pubkey(x, key);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
	                           (const unsigned char *)"smtprobe tests", -1,
	                           -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	                           (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
	X509_NAME_free(name);
	add_ext(x, issuer ? issuer : x, NID_basic_constraints,
	        is_ca ? "critical,CA:TRUE" : "CA:FALSE");
	if (is_ca)
		add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
	add_ext(x, issuer ? issuer : x, NID_subject_key_identifier, "hash");
	if (san)
		add_ext(x, issuer ? issuer : x, NID_subject_alt_name, san);
	assert_true(X509_sign(x, issuer ? issuer_key : key, EVP_sha256()) > 0);
	return x;
}

static void write_pem(const char *path, X509 *x, X509 *x2, EVP_PKEY *key)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(PEM_write_X509(f, x), 1);
	if (x2)
		assert_int_equal(PEM_write_X509(f, x2), 1);
	if (key)
		assert_int_equal(
		        PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL),
		        1);
	assert_int_equal(fclose(f), 0);
}

static int group_setup(void **state)
{
	EVP_PKEY *rsa = EVP_RSA_gen(2048);
	const char *san = "DNS:localhost,IP:127.0.0.1";
	FILE *f;

	snprintf(dir, sizeof(dir), "/tmp/smtprobe-tls-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(ca_file, sizeof(ca_file), "%s/ca.pem", dir);
	snprintf(self_file, sizeof(self_file), "%s/self.pem", dir);
	snprintf(missing_file, sizeof(missing_file), "%s/missing.pem", dir);
	snprintf(other_file, sizeof(other_file), "%s/other.pem", dir);
	snprintf(junk_file, sizeof(junk_file), "%s/junk.pem", dir);
	snprintf(enc_file, sizeof(enc_file), "%s/enc.pem", dir);
	f = fopen(junk_file, "w");
	assert_non_null(f);
	fputs("220 not a certificate\n", f);
	assert_int_equal(fclose(f), 0);

	ca_key = EVP_EC_gen("P-256");
	assert_non_null(ca_key);
	assert_non_null(rsa);
	ca_cert = make_cert("smtprobe test CA", NULL, ca_key, NULL, NULL, -DAY,
	                    30 * DAY, 1);
	write_pem(ca_file, ca_cert, NULL, NULL);

	certs[CERT_GOOD].key = rsa;
	certs[CERT_GOOD].cert = make_cert("localhost", san, rsa, ca_cert,
	                                  ca_key, -DAY, 30 * DAY, 0);
	certs[CERT_GOOD].with_ca = 1;
	write_pem(other_file, certs[CERT_GOOD].cert, NULL, rsa);

	certs[CERT_EXPIRED].key = rsa;
	EVP_PKEY_up_ref(rsa);
	certs[CERT_EXPIRED].cert = make_cert("localhost", san, rsa, ca_cert,
	                                     ca_key, -30 * DAY, -2 * DAY, 0);

	certs[CERT_SELF].key = EVP_EC_gen("P-256");
	assert_non_null(certs[CERT_SELF].key);
	certs[CERT_SELF].cert =
	        make_cert("localhost", san, certs[CERT_SELF].key, NULL, NULL,
	                  -DAY, 30 * DAY, 0);
	write_pem(self_file, certs[CERT_SELF].cert, NULL, certs[CERT_SELF].key);
	f = fopen(enc_file, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_X509(f, certs[CERT_SELF].cert), 1);
	assert_int_equal(
	        PEM_write_PrivateKey(f, certs[CERT_SELF].key, EVP_aes_128_cbc(),
	                             (unsigned char *)"secret", 6, NULL, NULL),
	        1);
	assert_int_equal(fclose(f), 0);

	certs[CERT_EVIL].key = rsa;
	EVP_PKEY_up_ref(rsa);
	certs[CERT_EVIL].cert =
	        make_cert("evil\x1b[2J\x07name",
	                  "DNS:a\x01\x1b[31mb.example,DNS:ok.example", rsa,
	                  ca_cert, ca_key, -DAY, 30 * DAY, 0);
	*state = NULL;
	return 0;
}

static int group_teardown(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < CERT_LAST; i++) {
		X509_free(certs[i].cert);
		EVP_PKEY_free(certs[i].key);
	}
	X509_free(ca_cert);
	EVP_PKEY_free(ca_key);
	unlink(ca_file);
	unlink(self_file);
	unlink(other_file);
	unlink(junk_file);
	unlink(enc_file);
	rmdir(dir);
	return 0;
}

/* ---- the server thread ---- */

struct server {
	const struct tcase *tc;
	int fd;
	int got_client_cert;
	pthread_t thread;
};

static int accept_any(int ok, X509_STORE_CTX *ctx)
{
	(void)ok;
	(void)ctx;
	return 1;
}

static void drain(int fd)
{
	char buf[4096];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static void *server_main(void *arg)
{
	struct server *s = arg;
	const struct server_cert *sc = &certs[s->tc->cert];
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	char buf[256];
	int n;

	if (s->tc->mode == SRV_GARBAGE) {
		static const char greeting[] = "220 hello\r\n";

		(void)!write(s->fd, greeting, sizeof(greeting) - 1);
		shutdown(s->fd, SHUT_WR);
		drain(s->fd);
		goto out;
	}
	if (s->tc->mode == SRV_EOF_EARLY) {
		shutdown(s->fd, SHUT_WR);
		drain(s->fd);
		goto out;
	}
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL || SSL_CTX_use_certificate(ctx, sc->cert) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, sc->key) != 1 ||
	    (sc->with_ca && SSL_CTX_add1_chain_cert(ctx, ca_cert) != 1))
		goto out;
	if (s->tc->legacy) {
		SSL_CTX_set_security_level(ctx, 0);
		SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
	}
	if (s->tc->need_cert)
		SSL_CTX_set_verify(
		        ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
		        accept_any);
	ssl = SSL_new(ctx);
	if (ssl == NULL || SSL_set_fd(ssl, s->fd) != 1 || SSL_accept(ssl) != 1)
		goto out;
	s->got_client_cert = SSL_get0_peer_certificate(ssl) != NULL;
	switch (s->tc->mode) {
	case SRV_ECHO:
		n = SSL_read(ssl, buf, sizeof(buf));
		if (n > 0)
			SSL_write(ssl, buf, n);
		while (SSL_read(ssl, buf, sizeof(buf)) > 0)
			;
		break;
	case SRV_CLOSE:
		SSL_shutdown(ssl);
		shutdown(s->fd, SHUT_WR);
		drain(s->fd);
		break;
	case SRV_HANGUP:
		shutdown(s->fd, SHUT_WR);
		drain(s->fd);
		break;
	default:
		while (SSL_read(ssl, buf, sizeof(buf)) > 0)
			;
		break;
	}
out:
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	close(s->fd);
	return NULL;
}

/* ---- the client side, as the session drives it ---- */

static int wait_fd(int fd, int rc)
{
	struct pollfd p = {.fd = fd,
	                   .events = rc == SMTPROBE_TLS_WANT_WRITE ? POLLOUT
	                                                           : POLLIN};

	return poll(&p, 1, TIMEOUT_MS) == 1 ? 0 : -1;
}

static int client_handshake(struct smtprobe_tls *t, int fd)
{
	int rc;

	while ((rc = smtprobe_tls_handshake(t)) == SMTPROBE_TLS_WANT_READ ||
	       rc == SMTPROBE_TLS_WANT_WRITE) {
		if (wait_fd(fd, rc) < 0)
			fail_msg("handshake timed out");
	}
	return rc;
}

static long client_read(struct smtprobe_tls *t, int fd, void *buf, size_t len)
{
	long rc;

	while ((rc = smtprobe_tls_read(t, buf, len)) ==
	               SMTPROBE_TLS_WANT_READ ||
	       rc == SMTPROBE_TLS_WANT_WRITE) {
		if (wait_fd(fd, (int)rc) < 0)
			fail_msg("read timed out");
	}
	return rc;
}

static void client_write_all(struct smtprobe_tls *t, int fd, const char *buf,
                             size_t len)
{
	while (len > 0) {
		long rc = smtprobe_tls_write(t, buf, len);

		if (rc == SMTPROBE_TLS_WANT_READ ||
		    rc == SMTPROBE_TLS_WANT_WRITE) {
			if (wait_fd(fd, (int)rc) < 0)
				fail_msg("write timed out");
			continue;
		}
		assert_true(rc > 0);
		buf += rc;
		len -= (size_t)rc;
	}
}

/* ---- checks ---- */

static void assert_contains(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL)
		fail_msg("'%s' does not contain '%s'", hay, needle);
}

static void assert_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			fail_msg("unescaped byte 0x%02x",
			         (unsigned)(unsigned char)*s);
}

static void assert_iso8601(const char *s)
{
	static const char pat[] = "dddd-dd-ddTdd:dd:ddZ";
	size_t i;

	assert_int_equal(strlen(s), sizeof(pat) - 1);
	for (i = 0; i < sizeof(pat) - 1; i++) {
		if (pat[i] == 'd')
			assert_true(s[i] >= '0' && s[i] <= '9');
		else
			assert_int_equal(s[i], pat[i]);
	}
}

static void check_cert_printable(const struct smtprobe_cert_facts *c)
{
	assert_printable(c->subject);
	assert_printable(c->issuer);
	assert_printable(c->sans);
	assert_printable(c->not_before);
	assert_printable(c->not_after);
	assert_printable(c->key_type);
	assert_printable(c->sig_alg);
}

static void check_facts(const struct tcase *tc,
                        const struct smtprobe_tls_facts *f)
{
	const struct smtprobe_cert_facts *leaf = &f->chain[0];
	size_t i;

	assert_true(f->nchain >= 1);
	for (i = 0; i < f->nchain; i++)
		check_cert_printable(&f->chain[i]);
	assert_printable(f->protocol);
	assert_printable(f->cipher);
	assert_printable(f->group);
	assert_printable(f->verify_reason);

	if (tc->protocol)
		assert_string_equal(f->protocol, tc->protocol);
	else
		assert_true(strcmp(f->protocol, "TLSv1.3") == 0 ||
		            strcmp(f->protocol, "TLSv1.2") == 0);
	assert_true(f->cipher[0] != '\0');
	if (tc->cipher)
		assert_string_equal(f->cipher, tc->cipher);
	if (tc->sni)
		assert_string_equal(f->sni, tc->sni);

	assert_int_equal(f->verify_ok, tc->verify_ok);
	if (tc->verify_code == -1)
		assert_true(f->verify_code != 0);
	else
		assert_int_equal(f->verify_code, tc->verify_code);
	if (tc->reason2 == NULL || strcmp(f->verify_reason, tc->reason1) == 0)
		assert_string_equal(f->verify_reason, tc->reason1);
	else
		assert_string_equal(f->verify_reason, tc->reason2);
	assert_int_equal(f->host_checked, tc->opts.verify_host != NULL);
	assert_int_equal(f->host_match, tc->host_match);
	assert_int_equal(leaf->self_signed, tc->self_signed);
	if (tc->days_negative)
		assert_true(leaf->days_left < 0);
	else
		assert_true(leaf->days_left >= 28 && leaf->days_left <= 30);

	assert_iso8601(leaf->not_before);
	assert_iso8601(leaf->not_after);
	assert_true(leaf->sig_alg[0] != '\0');
	assert_true(strcmp(leaf->key_type, "RSA") == 0 ||
	            strcmp(leaf->key_type, "EC") == 0);

	if (tc->hostile) {
		assert_contains(leaf->subject, "CN=evil");
		assert_contains(leaf->sans, "DNS:a\\x01");
		assert_contains(leaf->sans, "DNS:ok.example");
	}
	if (!tc->check_facts)
		return;
	assert_true(f->group[0] != '\0');
	assert_int_equal(f->nchain, 2);
	assert_contains(leaf->subject, "CN=localhost");
	assert_contains(leaf->issuer, "CN=smtprobe test CA");
	assert_string_equal(leaf->sans, "DNS:localhost, IP:127.0.0.1");
	assert_string_equal(leaf->key_type, "RSA");
	assert_int_equal(leaf->key_bits, 2048);
	assert_string_equal(leaf->sig_alg, "ecdsa-with-SHA256");
	assert_int_equal(leaf->self_signed, 0);
	assert_contains(f->chain[1].subject, "CN=smtprobe test CA");
	assert_string_equal(f->chain[1].key_type, "EC");
	assert_int_equal(f->chain[1].key_bits, 256);
	assert_int_equal(f->chain[1].self_signed, 1);
	assert_string_equal(f->chain[1].sans, "");
}

static void run_case(void **state)
{
	const struct tcase *tc = *state;
	struct smtprobe_tls *t = NULL;
	struct smtprobe_tls_facts facts;
	struct server srv = {.tc = tc};
	char err[256];
	char buf[64];
	int sv[2];
	int rc;
	long n;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);

	rc = smtprobe_tls_new(&t, &tc->opts, sv[0], err, sizeof(err));
	if (tc->new_err) {
		assert_int_equal(rc, SMTPROBE_TLS_ERR);
		assert_null(t);
		assert_contains(err, tc->new_err);
		assert_printable(err);
		close(sv[0]);
		close(sv[1]);
		return;
	}
	if (rc != SMTPROBE_TLS_OK)
		fail_msg("smtprobe_tls_new: %s", err);

	srv.fd = sv[1];
	assert_int_equal(pthread_create(&srv.thread, NULL, server_main, &srv),
	                 0);
	rc = client_handshake(t, sv[0]);
	if (rc != tc->want_hs)
		fail_msg("handshake returned %d: %s", rc,
		         smtprobe_tls_error(t));
	if (rc != SMTPROBE_TLS_OK) {
		if (tc->hs_err2 == NULL ||
		    strcmp(smtprobe_tls_error(t), tc->hs_err1) == 0)
			assert_string_equal(smtprobe_tls_error(t), tc->hs_err1);
		else
			assert_string_equal(smtprobe_tls_error(t), tc->hs_err2);
		goto done;
	}
	smtprobe_tls_get_facts(t, &facts);
	check_facts(tc, &facts);

	if (tc->op == OP_ECHO) {
		static const char line[] = "EHLO probe.example\r\n";
		size_t got = 0;

		client_write_all(t, sv[0], line, sizeof(line) - 1);
		while (got < sizeof(line) - 1) {
			n = client_read(t, sv[0], buf + got, sizeof(buf) - got);
			assert_true(n > 0);
			got += (size_t)n;
		}
		assert_int_equal(got, sizeof(line) - 1);
		assert_memory_equal(buf, line, got);
		assert_int_equal(smtprobe_tls_pending(t), 0);
	} else if (tc->op == OP_READ_CLOSED) {
		n = client_read(t, sv[0], buf, sizeof(buf));
		assert_int_equal(n, SMTPROBE_TLS_CLOSED);
		assert_string_equal(
		        smtprobe_tls_error(t),
		        "tls read failed: connection closed by peer");
	}
done:
	smtprobe_tls_free(t);
	close(sv[0]);
	assert_int_equal(pthread_join(srv.thread, NULL), 0);
	if (tc->need_cert)
		assert_int_equal(srv.got_client_cert, 1);
}

/* Connections with the same options share one client context (built
 * once per process: it costs more than a handshake); other options get
 * their own; a context that cannot be built is not cached. */
static void test_client_ctx_shared(void **state)
{
	struct smtprobe_tls_opts a = {.ca_file = ca_file};
	struct smtprobe_tls_opts a2 = {.ca_file = ca_file,
	                               .verify_host = "other.example",
	                               .sni = "other.example"};
	struct smtprobe_tls_opts b = {.ca_file = ca_file,
	                              .max_proto = "TLSv1.2"};
	struct smtprobe_tls_opts bad = {.ca_file = "/nonexistent/ca.pem"};
	char err[256];

	(void)state;
	SSL_CTX *x = tls__client_ctx(&a, err, sizeof(err));
	SSL_CTX *y = tls__client_ctx(&a2, err, sizeof(err));
	assert_non_null(x);
	assert_ptr_equal(x, y); /* names are per connection, not per context */
	SSL_CTX *z = tls__client_ctx(&b, err, sizeof(err));
	assert_non_null(z);
	assert_ptr_not_equal(x, z);
	SSL_CTX *w = tls__client_ctx(&bad, err, sizeof(err));
	assert_null(w);
	assert_non_null(strstr(err, "cannot load CA file"));
	SSL_CTX *v = tls__client_ctx(&b, err, sizeof(err));
	assert_ptr_equal(v, z); /* the failure did not replace the cache */
	SSL_CTX_free(x);
	SSL_CTX_free(y);
	SSL_CTX_free(z);
	SSL_CTX_free(v);
}

int main(void)
{
	static struct CMUnitTest tests[NCASES + 1];
	size_t i;

	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < NCASES; i++) {
		tests[i].name = cases[i].name;
		tests[i].test_func = run_case;
		tests[i].initial_state = (void *)&cases[i];
	}
	tests[NCASES] =
	        (struct CMUnitTest)cmocka_unit_test(test_client_ctx_shared);
	return cmocka_run_group_tests_name("tls", tests, group_setup,
	                                   group_teardown);
}
