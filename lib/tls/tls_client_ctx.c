/* tls_client_ctx.c - the client SSL_CTX: protocol range, trust store,
 * ciphers and client certificate from struct smtprobe_tls_opts, built once
 * per distinct set of those options and shared by every connection of the
 * process (a reference each). Building a context costs OpenSSL 3.0 more
 * than a whole TLS 1.3 handshake on loopback (provider fetches, the CA
 * file parsed), and an audit opens dozens of connections with the same
 * options. The per-connection parts (SNI, the name to verify, the verify
 * callback) are set on the SSL object by tls.c. One cached context at a
 * time, guarded by a mutex: sessions may run on several loops/threads. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "smtprobe/tls.h"
#include "tls_int.h"
#include "banned.h"

struct proto_name {
	const char *name;
	int version;
};

/* Accepted spellings, compared without case. */
static const struct proto_name proto_names[] = {
        {"TLSv1", TLS1_VERSION},     {"TLSv1.0", TLS1_VERSION},
        {"TLSv1.1", TLS1_1_VERSION}, {"TLSv1.2", TLS1_2_VERSION},
        {"TLSv1.3", TLS1_3_VERSION}, {"tls1", TLS1_VERSION},
        {"tls1_0", TLS1_VERSION},    {"tls1_1", TLS1_1_VERSION},
        {"tls1_2", TLS1_2_VERSION},  {"tls1_3", TLS1_3_VERSION},
        {"1", TLS1_VERSION},         {"1.0", TLS1_VERSION},
        {"1.1", TLS1_1_VERSION},     {"1.2", TLS1_2_VERSION},
        {"1.3", TLS1_3_VERSION},
};

static int parse_proto(const char *name, int *out)
{
	size_t i;

	for (i = 0; i < sizeof(proto_names) / sizeof(proto_names[0]); i++) {
		if (strcasecmp(name, proto_names[i].name) == 0) {
			*out = proto_names[i].version;
			return 0;
		}
	}
	return -1;
}

static int setup_protocols(SSL_CTX *ctx, const struct smtprobe_tls_opts *o,
                           char *err, size_t errsz)
{
	int minv = 0;
	int maxv = 0;

	if (o->min_proto && o->min_proto[0] &&
	    parse_proto(o->min_proto, &minv) < 0) {
		char name[64];

		tls__escape_str(name, sizeof(name), o->min_proto);
		tls__fmt(err, errsz, "unknown TLS protocol version '%s'", name);
		return -1;
	}
	if (o->max_proto && o->max_proto[0] &&
	    parse_proto(o->max_proto, &maxv) < 0) {
		char name[64];

		tls__escape_str(name, sizeof(name), o->max_proto);
		tls__fmt(err, errsz, "unknown TLS protocol version '%s'", name);
		return -1;
	}
	if (minv != 0 && maxv != 0 && minv > maxv) {
		tls__fmt(err, errsz,
		         "minimum TLS protocol version is above the maximum");
		return -1;
	}
	if ((minv != 0 && !SSL_CTX_set_min_proto_version(ctx, minv)) ||
	    (maxv != 0 && !SSL_CTX_set_max_proto_version(ctx, maxv))) {
		tls__format_err(err, errsz, "cannot set TLS protocol version",
		                "not supported");
		return -1;
	}
	/* Asking for TLS 1.0/1.1 only is asking to probe a legacy server:
	 * OpenSSL 3 refuses those at the default security level. */
	if (maxv != 0 && maxv < TLS1_2_VERSION)
		SSL_CTX_set_security_level(ctx, 0);
	return 0;
}

static int setup_trust(SSL_CTX *ctx, const struct smtprobe_tls_opts *o,
                       char *err, size_t errsz)
{
	char what[TLS_MAX_ERR];
	char name[128];
	struct stat st;

	if ((o->ca_file == NULL || o->ca_file[0] == '\0') &&
	    (o->ca_path == NULL || o->ca_path[0] == '\0')) {
		/* The system store as OpenSSL's hashed directory: a chain's
		 * issuers are looked up by subject hash when needed, instead of
		 * parsing the whole bundle file (about 25 ms of CPU, most of a
		 * transaction's cost) on every connection. SSL_CERT_DIR is
		 * honoured by OpenSSL itself. */
		if (!SSL_CTX_set_default_verify_dir(ctx)) {
			tls__format_err(err, errsz,
			                "cannot load the system trust store",
			                "unknown error");
			return -1;
		}
		return 0;
	}
	if (o->ca_file && o->ca_file[0]) {
		tls__escape_str(name, sizeof(name), o->ca_file);
		tls__fmt(what, sizeof(what), "cannot load CA file '%s'", name);
		if (!SSL_CTX_load_verify_file(ctx, o->ca_file)) {
			tls__format_err(err, errsz, what,
			                "no certificate found");
			return -1;
		}
	}
	if (o->ca_path && o->ca_path[0]) {
		tls__escape_str(name, sizeof(name), o->ca_path);
		/* OpenSSL only looks into the directory when verifying, so a
		 * typo would surface as "unable to get local issuer". */
		if (stat(o->ca_path, &st) != 0) {
			char reason[128];

			tls__escape_str(reason, sizeof(reason),
			                strerror(errno));
			tls__lower_first(reason);
			tls__fmt(err, errsz, "cannot use CA directory '%s': %s",
			         name, reason);
			return -1;
		}
		if (!S_ISDIR(st.st_mode)) {
			tls__fmt(
			        err, errsz,
			        "cannot use CA directory '%s': not a directory",
			        name);
			return -1;
		}
		tls__fmt(what, sizeof(what), "cannot use CA directory '%s'",
		         name);
		if (!SSL_CTX_load_verify_dir(ctx, o->ca_path)) {
			tls__format_err(err, errsz, what, "unknown error");
			return -1;
		}
	}
	return 0;
}

static int setup_client_cert(SSL_CTX *ctx, const struct smtprobe_tls_opts *o,
                             char *err, size_t errsz)
{
	const char *key;
	char what[TLS_MAX_ERR];
	char name[128];

	if (o->cert_file == NULL || o->cert_file[0] == '\0')
		return 0;
	key = (o->key_file && o->key_file[0]) ? o->key_file : o->cert_file;
	tls__escape_str(name, sizeof(name), o->cert_file);
	tls__fmt(what, sizeof(what), "cannot load client certificate '%s'",
	         name);
	if (SSL_CTX_use_certificate_chain_file(ctx, o->cert_file) != 1) {
		tls__format_err(err, errsz, what, "no certificate found");
		return -1;
	}
	tls__escape_str(name, sizeof(name), key);
	tls__fmt(what, sizeof(what), "cannot load client key '%s'", name);
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		tls__format_err(err, errsz, what, "no key found");
		return -1;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		ERR_clear_error();
		tls__fmt(err, errsz,
		         "client key '%s' does not match the certificate",
		         name);
		return -1;
	}
	return 0;
}

static int setup_ciphers(SSL_CTX *ctx, const char *ciphers, char *err,
                         size_t errsz)
{
	int ok12;
	int ok13;

	if (ciphers == NULL || ciphers[0] == '\0')
		return 0;
	/* One option for both: a TLS 1.2 list leaves the 1.3 suites at their
	 * defaults and the other way round. */
	ok12 = SSL_CTX_set_cipher_list(ctx, ciphers);
	ok13 = SSL_CTX_set_ciphersuites(ctx, ciphers);
	ERR_clear_error();
	if (!ok12 && !ok13) {
		char name[128];

		tls__escape_str(name, sizeof(name), ciphers);
		tls__fmt(err, errsz, "no usable cipher in '%s'", name);
		return -1;
	}
	return 0;
}

/* Per-connection SSL options: the name to send and the name to match. */

/* The options that shape a context, as one byte string of *len bytes:
 * per field a '+' (or '-' for NULL), its text and a NUL. NULL when out of
 * memory: no caching then. */
static char *ctx_key(const struct smtprobe_tls_opts *o, size_t *len)
{
	const char *f[] = {o->ca_file, o->ca_path,   o->min_proto, o->max_proto,
	                   o->ciphers, o->cert_file, o->key_file};
	size_t n = 0;

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		n += (f[i] ? strlen(f[i]) : 0) + 2;
	char *k = malloc(n), *p = k;
	if (!k)
		return NULL;
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		size_t fl = f[i] ? strlen(f[i]) : 0;
		*p++ = f[i] ? '+' : '-';
		if (fl)
			memcpy(p, f[i], fl);
		p += fl;
		*p++ = '\0';
	}
	*len = n;
	return k;
}

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static SSL_CTX *cached_ctx;
static char *cached_key;
static size_t cached_len;

static SSL_CTX *build_ctx(const struct smtprobe_tls_opts *o, char *err,
                          size_t errsz)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL) {
		tls__format_err(err, errsz, "cannot create tls context",
		                "out of memory");
		return NULL;
	}
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	                              SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* SMTP has its own end (QUIT / 221), and many servers hang up
	 * without close_notify: treat EOF as a close, not an attack. */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	/* Never prompt on the terminal for a key passphrase. */
	SSL_CTX_set_default_passwd_cb(ctx, tls__no_passphrase);
	/* DANE is per connection (tls_dane.c); the context only needs the
	 * digests for it */
	if (SSL_CTX_dane_enable(ctx) <= 0) {
		tls__format_err(err, errsz, "cannot enable dane",
		                "out of memory");
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (setup_protocols(ctx, o, err, errsz) < 0 ||
	    setup_trust(ctx, o, err, errsz) < 0 ||
	    setup_ciphers(ctx, o->ciphers, err, errsz) < 0 ||
	    setup_client_cert(ctx, o, err, errsz) < 0) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

SSL_CTX *tls__client_ctx(const struct smtprobe_tls_opts *o, char *err,
                         size_t errsz)
{
	size_t len = 0;
	char *key = ctx_key(o, &len);
	SSL_CTX *ctx = NULL;

	pthread_mutex_lock(&cache_lock);
	if (key && cached_key && len == cached_len &&
	    memcmp(key, cached_key, len) == 0 && SSL_CTX_up_ref(cached_ctx))
		ctx = cached_ctx;
	pthread_mutex_unlock(&cache_lock);
	if (ctx) {
		free(key);
		return ctx;
	}
	ctx = build_ctx(o, err, errsz);
	if (!ctx || !key) {
		free(key);
		return ctx;
	}
	pthread_mutex_lock(&cache_lock);
	if (SSL_CTX_up_ref(ctx)) {
		SSL_CTX_free(cached_ctx); /* its users keep their references */
		free(cached_key);
		cached_ctx = ctx;
		cached_key = key;
		cached_len = len;
		key = NULL;
	}
	pthread_mutex_unlock(&cache_lock);
	free(key);
	return ctx;
}
