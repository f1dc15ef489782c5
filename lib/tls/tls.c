/* tls.c - the OpenSSL 3 boundary: one client TLS connection on a socket
 * the caller already connected, and the facts about it. The same object
 * carries a server connection made by tls_server.c (smtprobe_tls_accept):
 * handshake, read, write, pending, error and free do not care which side
 * they drive; smtprobe_tls_get_facts describes a server connection without
 * a chain (see server_facts). The helpers tls_server.c shares are declared
 * in tls_int.h; only lib/tls*.c include OpenSSL headers.
 *
 * The caller owns the (non-blocking) descriptor; OpenSSL reads and writes
 * it directly and every call that would block returns
 * SMTPROBE_TLS_WANT_READ / _WANT_WRITE so the caller can poll and call
 * again. Nothing here ever closes the descriptor. Peer closes are assumed
 * to be harmless: the caller ignores SIGPIPE (OpenSSL's socket BIO uses
 * write(2)).
 *
 * Verification always runs but is never fatal here: the verify callback
 * records the first chain problem and lets the handshake go on, so the
 * session can report "certificate has expired" and still decide what to
 * do. The host-name check is kept apart from the chain result: a
 * self-signed certificate with the right name reports verify_ok = 0,
 * "self-signed certificate" and host_match = 1. A name mismatch on an
 * otherwise good chain reports verify_ok = 0 and X509_V_ERR_HOSTNAME_MISMATCH
 * (or _IP_ADDRESS_MISMATCH).
 *
 * Diagnostics: lower-case text kept on the object (smtprobe_tls_error) or
 * written to the caller's buffer by smtprobe_tls_new, e.g.
 * "tls handshake failed: wrong version number". The OpenSSL error queue is
 * cleared before every SSL call, so one connection's errors never show up
 * in another's message.
 *
 * Limits: every string in the facts is bounded by its field and made
 * printable (control and non-ASCII bytes become \xNN; a field that does not
 * fit ends in "..."). At most SMTPROBE_MAX_CHAIN certificates are described;
 * certificate contents are hostile input like any other network bytes. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "smtprobe/tls.h"
#include "tls_int.h"

#include "banned.h"

#define TLS_MAX_NAME 4096 /* largest X509 name we render before capping */

/* Copy src into dst (size dstsz > 0) with every byte outside printable
 * ASCII written as \xNN. Returns 0, or -1 when it had to be cut (then dst
 * ends in "..."). */
static int escape_into(char *dst, size_t dstsz, const char *src, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	size_t i;

	if (dstsz == 0)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)src[i];
		size_t need = (c >= 0x20 && c < 0x7f) ? 1 : 4;

		if (o + need >= dstsz) {
			size_t cut = dstsz > 4 ? dstsz - 4 : 0;

			if (o > cut)
				o = cut;
			if (dstsz > 4) {
				memcpy(dst + o, "...", 3);
				o += 3;
			}
			dst[o] = '\0';
			return -1;
		}
		if (need == 1) {
			dst[o++] = (char)c;
		} else {
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		}
	}
	dst[o] = '\0';
	return 0;
}

void tls__escape_str(char *dst, size_t dstsz, const char *src)
{
	escape_into(dst, dstsz, src ? src : "", src ? strlen(src) : 0);
}

/* A string snprintf had to cut ends in "..." so the cut shows. */
static void mark_cut(char *dst, size_t dstsz)
{
	if (dstsz > 4)
		memcpy(dst + dstsz - 4, "...", 4);
}

/* snprintf that shows a cut: messages are capped by their buffers, and
 * a cut one ends in "..." instead of stopping mid-word silently. */
void tls__fmt(char *dst, size_t dstsz, const char *f, ...)
{
	va_list ap;
	int n;

	va_start(ap, f);
	n = vsnprintf(dst, dstsz, f, ap);
	va_end(ap);
	if (n < 0)
		dst[0] = '\0';
	else if ((size_t)n >= dstsz)
		mark_cut(dst, dstsz);
}

/* OpenSSL's reasons are lower case already; system ones ("No such file or
 * directory") are not. Lower only a leading capital followed by a
 * lower-case letter so acronyms survive. */
void tls__lower_first(char *s)
{
	if (s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'a' && s[1] <= 'z')
		s[0] = (char)(s[0] - 'A' + 'a');
}

/* OpenSSL's words for a few common problems say what failed inside, not
 * what the user did wrong. Checked in this order over the whole queue. */
static const struct err_text {
	int lib;
	int reason;
	const char *text;
} err_texts[] = {
        {ERR_LIB_PEM, PEM_R_BAD_PASSWORD_READ,
         "the key is encrypted (no passphrase can be given)"},
        {ERR_LIB_OSSL_DECODER, ERR_R_UNSUPPORTED, "no private key found"},
        {ERR_LIB_PEM, PEM_R_NO_START_LINE, "no PEM data found"},
};

#define TLS_MAX_QUEUE 16

/* Reasons like "PEM lib" or "X509 lib" only say which layer passed the
 * error up. */
static int generic_reason(const char *r)
{
	size_t len = strlen(r);

	return len >= 4 && strcmp(r + len - 4, " lib") == 0;
}

/* Picks the most telling error of the queue: a known one from err_texts,
 * else errno's words for a failed open, else the innermost (first pushed)
 * specific reason, as outer layers only add wrappers such as "PEM lib". */
static const char *pick_reason(const unsigned long *q, size_t n)
{
	const char *r;
	size_t i;
	size_t k;

	for (k = 0; k < sizeof(err_texts) / sizeof(err_texts[0]); k++)
		for (i = 0; i < n; i++)
			if (ERR_GET_LIB(q[i]) == err_texts[k].lib &&
			    ERR_GET_REASON(q[i]) == err_texts[k].reason)
				return err_texts[k].text;
	for (i = 0; i < n; i++)
		if (ERR_SYSTEM_ERROR(q[i]))
			return strerror((int)ERR_GET_REASON(q[i]));
	for (i = 0; i < n; i++) {
		r = ERR_reason_error_string(q[i]);
		if (r != NULL && !generic_reason(r))
			return r;
	}
	for (i = 0; i < n; i++) {
		r = ERR_reason_error_string(q[i]);
		if (r != NULL)
			return r;
	}
	return NULL;
}

/* Empties OpenSSL's error queue into q (at most TLS_MAX_QUEUE, innermost
 * first); returns how many. */
static size_t drain_queue(unsigned long *q)
{
	unsigned long e;
	size_t n = 0;

	while ((e = ERR_get_error()) != 0)
		if (n < TLS_MAX_QUEUE)
			q[n++] = e;
	return n;
}

/* The most telling reason of q[0..n), escaped, into buf; NULL when there
 * is none. */
static const char *reason_of(const unsigned long *q, size_t n, char *buf,
                             size_t bufsz)
{
	const char *r = pick_reason(q, n);

	if (r == NULL)
		return NULL;
	tls__escape_str(buf, bufsz, r);
	tls__lower_first(buf);
	return buf;
}

/* "what: reason" into dst, the reason taken from the error queue, or
 * fallback when it is empty; empties the queue. */
void tls__format_err(char *dst, size_t dstsz, const char *what,
                     const char *fallback)
{
	unsigned long q[TLS_MAX_QUEUE];
	char reason[TLS_MAX_ERR];
	size_t n = drain_queue(q);
	const char *r = reason_of(q, n, reason, sizeof(reason));

	if (r == NULL)
		r = fallback;
	tls__fmt(dst, dstsz, "%s: %s", what, r);
}

int tls__is_ip_literal(const char *s)
{
	unsigned char addr[16];

	return inet_pton(AF_INET, s, addr) == 1 ||
	       inet_pton(AF_INET6, s, addr) == 1;
}

/* A host given as "[::1]" is the IPv6 literal inside the brackets. */
int tls__unbracket(char *dst, size_t dstsz, const char *src)
{
	size_t len = strlen(src);

	if (len >= 2 && src[0] == '[' && src[len - 1] == ']') {
		src++;
		len -= 2;
	}
	if (len == 0 || len >= dstsz || memchr(src, '\0', len) != NULL)
		return -1;
	memcpy(dst, src, len);
	dst[len] = '\0';
	return 0;
}

/* Records the first chain problem and lets the handshake go on: whether a
 * bad certificate is fatal is the session's decision, not OpenSSL's. Name
 * mismatches are computed apart in smtprobe_tls_get_facts. */
static int verify_cb(int ok, X509_STORE_CTX *sctx)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(
	        sctx, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct smtprobe_tls *t = ssl ? SSL_get_app_data(ssl) : NULL;
	int e;

	if (ok || t == NULL)
		return 1;
	e = X509_STORE_CTX_get_error(sctx);
	if (e == X509_V_ERR_HOSTNAME_MISMATCH ||
	    e == X509_V_ERR_IP_ADDRESS_MISMATCH)
		return 1;
	if (t->chain_err == 0) {
		t->chain_err = e;
		t->chain_depth = X509_STORE_CTX_get_error_depth(sctx);
	}
	return 1;
}

static int setup_names(struct smtprobe_tls *t,
                       const struct smtprobe_tls_opts *o, char *err,
                       size_t errsz)
{
	X509_VERIFY_PARAM *param = SSL_get0_param(t->ssl);
	char name[128];
	char bare[TLS_MAX_HOST];
	int ok;

	/* RFC 6066: literal IPv4 and IPv6 addresses are not sent. */
	if (o->sni && o->sni[0] &&
	    !(tls__unbracket(bare, sizeof(bare), o->sni) == 0 &&
	      tls__is_ip_literal(bare))) {
		if (strlen(o->sni) >= sizeof(t->sni) ||
		    !SSL_set_tlsext_host_name(t->ssl, o->sni)) {
			char what[TLS_MAX_ERR];

			tls__escape_str(name, sizeof(name), o->sni);
			tls__fmt(what, sizeof(what),
			         "cannot use server name '%s'", name);
			tls__format_err(err, errsz, what, "name too long");
			return -1;
		}
		tls__escape_str(t->sni, sizeof(t->sni), o->sni);
	}
	if (o->verify_host == NULL || o->verify_host[0] == '\0')
		return 0;
	tls__escape_str(name, sizeof(name), o->verify_host);
	if (tls__unbracket(t->host, sizeof(t->host), o->verify_host) < 0) {
		tls__fmt(err, errsz, "invalid host name to verify '%s'", name);
		return -1;
	}
	t->host_checked = 1;
	t->host_is_ip = tls__is_ip_literal(t->host);
	if (t->host_is_ip)
		ok = X509_VERIFY_PARAM_set1_ip_asc(param, t->host);
	else
		ok = X509_VERIFY_PARAM_set1_host(param, t->host, 0);
	if (!ok) {
		ERR_clear_error();
		tls__fmt(err, errsz, "invalid host name to verify '%s'", name);
		return -1;
	}
	return 0;
}

int tls__no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

int smtprobe_tls_new(struct smtprobe_tls **out,
                     const struct smtprobe_tls_opts *opts, int fd, char *err,
                     size_t errsz)
{
	static const struct smtprobe_tls_opts none;
	const struct smtprobe_tls_opts *o = opts ? opts : &none;
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
	t->ctx = tls__client_ctx(o, err, errsz);
	if (t->ctx == NULL)
		goto fail;
	t->ssl = SSL_new(t->ctx);
	if (t->ssl == NULL) {
		tls__format_err(err, errsz, "cannot create tls connection",
		                "out of memory");
		goto fail;
	}
	SSL_set_app_data(t->ssl, t);
	SSL_set_info_callback(t->ssl, tls__info_cb);
	SSL_set_verify(t->ssl, SSL_VERIFY_PEER, verify_cb);
	/* ask for a stapled OCSP response: whether one comes is a fact */
	(void)SSL_set_tlsext_status_type(t->ssl, TLSEXT_STATUSTYPE_ocsp);
	if (o->no_ticket)
		SSL_set_options(t->ssl, SSL_OP_NO_TICKET);
	if (o->session && o->session_len > 0 &&
	    o->session_len <= (size_t)LONG_MAX) {
		const unsigned char *p = o->session;
		SSL_SESSION *sess =
		        d2i_SSL_SESSION(NULL, &p, (long)o->session_len);
		if (sess) {
			(void)SSL_set_session(t->ssl, sess);
			SSL_SESSION_free(sess);
		}
		ERR_clear_error();
	}
	if (setup_names(t, o, err, errsz) < 0 ||
	    tls__dane_setup(t, o, err, errsz) < 0)
		goto fail;
	if (!SSL_set_fd(t->ssl, fd)) {
		tls__format_err(err, errsz, "cannot attach tls to the socket",
		                "bad descriptor");
		goto fail;
	}
	SSL_set_connect_state(t->ssl);
	*out = t;
	return SMTPROBE_TLS_OK;
fail:
	ERR_clear_error();
	t->dead = 1;
	smtprobe_tls_free(t);
	return SMTPROBE_TLS_ERR;
}

static int sys_error(struct smtprobe_tls *t, const char *what, int err)
{
	char msg[TLS_MAX_ERR];

	tls__escape_str(msg, sizeof(msg), strerror(err));
	tls__lower_first(msg);
	tls__fmt(t->err, sizeof(t->err), "%s: %s", what, msg);
	tls__classify(t, SMTPROBE_TLSE_SYSCALL, NULL, 0, msg);
	if (t->fail.error == SMTPROBE_TLSE_SYSCALL)
		t->fail.sys_errno = err;
	return SMTPROBE_TLS_ERR;
}

static int peer_closed(struct smtprobe_tls *t, const char *what)
{
	t->dead = 1;
	tls__fmt(t->err, sizeof(t->err), "%s: connection closed by peer", what);
	if (!t->handshake_done)
		tls__classify(t, SMTPROBE_TLSE_CLOSED, NULL, 0,
		              "connection closed by peer");
	return SMTPROBE_TLS_CLOSED;
}

/* Turns an SSL call's result into our codes; what names the operation in
 * the message ("tls handshake failed"). */
static int map_result(struct smtprobe_tls *t, int ret, int saved_errno,
                      const char *what)
{
	int e = SSL_get_error(t->ssl, ret);
	unsigned long q[TLS_MAX_QUEUE];
	char reason[TLS_MAX_ERR];

	switch (e) {
	case SSL_ERROR_WANT_READ:
		return SMTPROBE_TLS_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return SMTPROBE_TLS_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		ERR_clear_error();
		return peer_closed(t, what);
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() == 0) {
			t->dead = 1;
			if (ret == 0 || saved_errno == 0)
				return peer_closed(t, what);
			return sys_error(t, what, saved_errno);
		}
		break;
	default:
		break;
	}
	t->dead = 1;
	size_t n = drain_queue(q);
	const char *r = reason_of(q, n, reason, sizeof(reason));
	tls__fmt(t->err, sizeof(t->err), "%s: %s", what,
	         r ? r : "protocol error");
	tls__classify(t, SMTPROBE_TLSE_OTHER, q, n, r ? r : "protocol error");
	return SMTPROBE_TLS_ERR;
}

int smtprobe_tls_handshake(struct smtprobe_tls *t)
{
	int ret;

	if (t->handshake_done)
		return SMTPROBE_TLS_OK;
	ERR_clear_error();
	errno = 0;
	ret = SSL_do_handshake(t->ssl);
	if (ret == 1) {
		t->handshake_done = 1;
		return SMTPROBE_TLS_OK;
	}
	return map_result(t, ret, errno, "tls handshake failed");
}

long smtprobe_tls_read(struct smtprobe_tls *t, void *buf, size_t len)
{
	int n = len > INT_MAX ? INT_MAX : (int)len;
	int ret;

	if (len == 0)
		return 0;
	ERR_clear_error();
	errno = 0;
	ret = SSL_read(t->ssl, buf, n);
	if (ret > 0)
		return ret;
	return map_result(t, ret, errno, "tls read failed");
}

long smtprobe_tls_write(struct smtprobe_tls *t, const void *buf, size_t len)
{
	int n = len > INT_MAX ? INT_MAX : (int)len;
	int ret;

	if (len == 0)
		return 0;
	ERR_clear_error();
	errno = 0;
	ret = SSL_write(t->ssl, buf, n);
	if (ret > 0)
		return ret;
	return map_result(t, ret, errno, "tls write failed");
}

size_t smtprobe_tls_pending(const struct smtprobe_tls *t)
{
	int n = SSL_pending(t->ssl);

	return n > 0 ? (size_t)n : 0;
}

const char *smtprobe_tls_error(const struct smtprobe_tls *t)
{
	return t->err;
}

/* An X509 name in RFC 2253 form. OpenSSL already escapes non-ASCII and
 * control characters with that flag; escape_into is the second fence. */
static void name_string(char *dst, size_t dstsz, const X509_NAME *name)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p = NULL;

	dst[0] = '\0';
	if (bio == NULL)
		return;
	if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) >= 0) {
		long len = BIO_get_mem_data(bio, &p);

		if (len > 0 && p != NULL)
			escape_into(dst, dstsz, p,
			            len > TLS_MAX_NAME ? TLS_MAX_NAME
			                               : (size_t)len);
	}
	BIO_free(bio);
}

/* Appends "sep prefix value" to dst at *off; stops (ending the string in
 * "...") once dst is full. */
static void append_item(char *dst, size_t dstsz, size_t *off,
                        const char *prefix, const char *val, size_t vlen)
{
	char esc[512];
	int n;

	if (*off >= dstsz - 1)
		return;
	escape_into(esc, sizeof(esc), val, vlen);
	n = snprintf(dst + *off, dstsz - *off, "%s%s%s", *off ? ", " : "",
	             prefix, esc);
	if (n < 0 || (size_t)n >= dstsz - *off) {
		mark_cut(dst, dstsz);
		*off = dstsz - 1;
		return;
	}
	*off += (size_t)n;
}

static void sans_string(char *dst, size_t dstsz, X509 *x)
{
	GENERAL_NAMES *gens =
	        X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	size_t off = 0;
	int i;

	dst[0] = '\0';
	if (gens == NULL)
		return;
	for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const ASN1_STRING *s;
		char ip[INET6_ADDRSTRLEN];

		switch (g->type) {
		case GEN_DNS:
		case GEN_EMAIL:
		case GEN_URI:
			s = g->d.ia5;
			append_item(dst, dstsz, &off,
			            g->type == GEN_DNS     ? "DNS:"
			            : g->type == GEN_EMAIL ? "email:"
			                                   : "URI:",
			            (const char *)ASN1_STRING_get0_data(s),
			            (size_t)ASN1_STRING_length(s));
			break;
		case GEN_IPADD:
			s = g->d.iPAddress;
			if ((ASN1_STRING_length(s) == 4 &&
			     inet_ntop(AF_INET, ASN1_STRING_get0_data(s), ip,
			               sizeof(ip))) ||
			    (ASN1_STRING_length(s) == 16 &&
			     inet_ntop(AF_INET6, ASN1_STRING_get0_data(s), ip,
			               sizeof(ip))))
				append_item(dst, dstsz, &off, "IP:", ip,
				            strlen(ip));
			else
				append_item(dst, dstsz, &off, "IP:", "invalid",
				            7);
			break;
		default:
			break;
		}
	}
	GENERAL_NAMES_free(gens);
}

static void time_string(char *dst, size_t dstsz, const ASN1_TIME *tm_asn1)
{
	struct tm tm;

	dst[0] = '\0';
	if (tm_asn1 == NULL || ASN1_TIME_to_tm(tm_asn1, &tm) != 1)
		return;
	if (strftime(dst, dstsz, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		dst[0] = '\0';
}

/* Whole days from now to not_after, rounded down, so any expired
 * certificate is negative and one expiring today is 0. */
static long days_until(const ASN1_TIME *not_after)
{
	int day = 0;
	int sec = 0;
	long total;

	if (not_after == NULL || !ASN1_TIME_diff(&day, &sec, NULL, not_after))
		return 0;
	total = (long)day * 86400L + sec;
	if (total >= 0)
		return total / 86400L;
	return -((-total + 86399L) / 86400L);
}

static void key_facts(struct smtprobe_cert_facts *c, X509 *x)
{
	EVP_PKEY *pk = X509_get0_pubkey(x);
	const char *name;

	if (pk == NULL) {
		tls__escape_str(c->key_type, sizeof(c->key_type), "unknown");
		return;
	}
	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_RSA:
		name = "RSA";
		break;
	case EVP_PKEY_RSA_PSS:
		name = "RSA-PSS";
		break;
	case EVP_PKEY_EC:
		name = "EC";
		break;
	case EVP_PKEY_ED25519:
		name = "ED25519";
		break;
	case EVP_PKEY_ED448:
		name = "ED448";
		break;
	case EVP_PKEY_DSA:
		name = "DSA";
		break;
	default:
		name = EVP_PKEY_get0_type_name(pk);
		break;
	}
	tls__escape_str(c->key_type, sizeof(c->key_type),
	                name ? name : "unknown");
	c->key_bits = EVP_PKEY_get_bits(pk);
	ERR_clear_error();
}

/* RFC 7633: a TLS Feature extension listing status_request (5). */
static int must_staple(X509 *x)
{
	TLS_FEATURE *tf = X509_get_ext_d2i(x, NID_tlsfeature, NULL, NULL);
	int yes = 0;

	if (tf == NULL) {
		ERR_clear_error();
		return 0;
	}
	for (int i = 0; i < sk_ASN1_INTEGER_num(tf); i++)
		yes |= ASN1_INTEGER_get(sk_ASN1_INTEGER_value(tf, i)) ==
		       TLSEXT_TYPE_status_request;
	TLS_FEATURE_free(tf);
	return yes;
}

static void cert_facts(struct smtprobe_cert_facts *c, X509 *x)
{
	int nid = X509_get_signature_nid(x);
	const char *sig = nid != NID_undef ? OBJ_nid2ln(nid) : NULL;

	name_string(c->subject, sizeof(c->subject), X509_get_subject_name(x));
	name_string(c->issuer, sizeof(c->issuer), X509_get_issuer_name(x));
	sans_string(c->sans, sizeof(c->sans), x);
	time_string(c->not_before, sizeof(c->not_before),
	            X509_get0_notBefore(x));
	time_string(c->not_after, sizeof(c->not_after), X509_get0_notAfter(x));
	c->days_left = days_until(X509_get0_notAfter(x));
	c->not_yet_valid = X509_cmp_current_time(X509_get0_notBefore(x)) > 0;
	int days = 0, secs = 0;
	if (ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x),
	                   X509_get0_notAfter(x)))
		c->lifetime_days = days;
	c->is_ca = X509_check_ca(x) > 0;
	c->must_staple = must_staple(x);
	key_facts(c, x);
	tls__spki_sha256(x, c->spki_sha256, sizeof(c->spki_sha256));
	tls__escape_str(c->sig_alg, sizeof(c->sig_alg), sig ? sig : "unknown");
	/* Name match alone is not enough: the key must sign the cert. */
	c->self_signed = X509_self_signed(x, 1) == 1;
	ERR_clear_error();
}

int smtprobe_tls_renegotiate(struct smtprobe_tls *t)
{
	if (t == NULL || !t->handshake_done || t->server ||
	    SSL_version(t->ssl) >= TLS1_3_VERSION)
		return -1;
	int ok = SSL_renegotiate(t->ssl) == 1;
	ERR_clear_error();
	if (ok)
		t->reneg_asked = 1;
	return ok ? 0 : -1;
}

int smtprobe_tls_renegotiated(const struct smtprobe_tls *t)
{
	return t && t->reneg_asked && !SSL_renegotiate_pending(t->ssl);
}

long smtprobe_tls_session_der(const struct smtprobe_tls *t, unsigned char *out,
                              size_t outsz, int *ticket,
                              unsigned long *max_early_data)
{
	SSL_SESSION *sess;
	int n;

	*ticket = 0;
	*max_early_data = 0;
	if (t == NULL || !t->handshake_done)
		return -1;
	sess = SSL_get_session(t->ssl);
	if (sess == NULL || !SSL_SESSION_is_resumable(sess))
		return -1;
	*ticket = SSL_SESSION_has_ticket(sess) == 1;
	*max_early_data = SSL_SESSION_get_max_early_data(sess);
	n = i2d_SSL_SESSION(sess, NULL);
	if (n <= 0 || (size_t)n > outsz) {
		ERR_clear_error();
		return -1;
	}
	unsigned char *p = out;
	n = i2d_SSL_SESSION(sess, &p);
	ERR_clear_error();
	return n > 0 ? n : -1;
}

int smtprobe_tls_cert_facts_der(const unsigned char *der, size_t len,
                                struct smtprobe_cert_facts *out)
{
	const unsigned char *p = der;
	X509 *x;

	memset(out, 0, sizeof(*out));
	if (len == 0 || len > (size_t)LONG_MAX)
		return -1;
	x = d2i_X509(NULL, &p, (long)len);
	if (x == NULL) {
		ERR_clear_error();
		return -1;
	}
	cert_facts(out, x);
	X509_free(x);
	return 0;
}

int smtprobe_tls_cert_matches_der(const unsigned char *der, size_t len,
                                  const char *host)
{
	const unsigned char *p = der;
	X509 *x;
	int ok;

	if (len == 0 || len > (size_t)LONG_MAX || !host)
		return -1;
	x = d2i_X509(NULL, &p, (long)len);
	if (x == NULL) {
		ERR_clear_error();
		return -1;
	}
	ok = X509_check_host(x, host, 0, 0, NULL) == 1 ||
	     X509_check_ip_asc(x, host, 0) == 1;
	X509_free(x);
	ERR_clear_error();
	return ok;
}

static int host_matches(const struct smtprobe_tls *t, X509 *leaf)
{
	if (leaf == NULL)
		return 0;
	if (t->host_is_ip)
		return X509_check_ip_asc(leaf, t->host, 0) == 1;
	return X509_check_host(leaf, t->host, 0, 0, NULL) == 1;
}

static void group_name(const struct smtprobe_tls *t, char *dst, size_t dstsz)
{
	const char *name = NULL;

#if OPENSSL_VERSION_NUMBER >= 0x30200000L
	name = SSL_get0_group_name(t->ssl);
#else
	long nid = SSL_get_negotiated_group(t->ssl);

	if (nid > 0)
		name = SSL_group_to_name(t->ssl, (int)nid);
	if (name == NULL && nid > 0 && !(nid & TLSEXT_nid_unknown))
		name = OBJ_nid2sn((int)nid);
#endif
	tls__escape_str(dst, dstsz, name ? name : "");
}

/* A server does not ask for a client certificate, so there is no chain to
 * describe: verify_ok stays 0 with "no client certificate", and sni is the
 * name the client asked for (empty when it sent none). */
static void server_facts(const struct smtprobe_tls *t,
                         struct smtprobe_tls_facts *out)
{
	if (!t->handshake_done)
		return;
	ERR_clear_error();
	tls__escape_str(out->protocol, sizeof(out->protocol),
	                SSL_get_version(t->ssl));
	tls__escape_str(out->cipher, sizeof(out->cipher),
	                SSL_get_cipher_name(t->ssl));
	group_name(t, out->group, sizeof(out->group));
	tls__escape_str(out->sni, sizeof(out->sni),
	                SSL_get_servername(t->ssl, TLSEXT_NAMETYPE_host_name));
	out->verify_code = X509_V_ERR_UNSPECIFIED;
	tls__escape_str(out->verify_reason, sizeof(out->verify_reason),
	                "no client certificate");
	ERR_clear_error();
}

void smtprobe_tls_get_facts(const struct smtprobe_tls *t,
                            struct smtprobe_tls_facts *out)
{
	STACK_OF(X509) * chain;
	X509 *leaf;
	long code;
	int i;
	int n;

	memset(out, 0, sizeof(*out));
	if (t->server) {
		server_facts(t, out);
		return;
	}
	tls__escape_str(out->sni, sizeof(out->sni), t->sni);
	out->host_checked = t->host_checked;
	if (!t->handshake_done)
		return;
	ERR_clear_error();
	tls__escape_str(out->protocol, sizeof(out->protocol),
	                SSL_get_version(t->ssl));
	tls__escape_str(out->cipher, sizeof(out->cipher),
	                SSL_get_cipher_name(t->ssl));
	group_name(t, out->group, sizeof(out->group));

	chain = SSL_get_peer_cert_chain(t->ssl);
	n = chain ? sk_X509_num(chain) : 0;
	for (i = 0; i < n && (size_t)i < SMTPROBE_MAX_CHAIN; i++)
		cert_facts(&out->chain[i], sk_X509_value(chain, i));
	out->nchain = (size_t)i;
	/* each certificate sent issued by the next one (RFC 8446 4.4.2 lets
	 * TLS 1.3 servers be sloppy; older clients are not) */
	out->chain_order_ok = 1;
	for (int k = 0; k + 1 < n; k++)
		if (X509_check_issued(sk_X509_value(chain, k + 1),
		                      sk_X509_value(chain, k)) != X509_V_OK)
			out->chain_order_ok = 0;
	ERR_clear_error();

	leaf = SSL_get0_peer_certificate(t->ssl);
	if (t->host_checked)
		out->host_match = host_matches(t, leaf);
	code = t->chain_err;
	if (code == 0) {
		long r = SSL_get_verify_result(t->ssl);

		if (r != X509_V_ERR_HOSTNAME_MISMATCH &&
		    r != X509_V_ERR_IP_ADDRESS_MISMATCH)
			code = r;
	}
	if (leaf == NULL && code == 0)
		code = X509_V_ERR_UNSPECIFIED;
	if (code == 0 && t->host_checked && !out->host_match)
		code = t->host_is_ip ? X509_V_ERR_IP_ADDRESS_MISMATCH
		                     : X509_V_ERR_HOSTNAME_MISMATCH;
	out->verify_code = code;
	out->verify_ok = code == 0;
	/* The issuer of the last certificate sent is nowhere: when that one
	 * is not a CA itself (the leaf alone), an intermediate is missing;
	 * a chain that ends in an intermediate is complete as far as the
	 * server goes (its root is just not trusted here). */
	if ((code == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
	     code == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT) &&
	    out->nchain > 0 && !out->chain[out->nchain - 1].is_ca &&
	    !out->chain[out->nchain - 1].self_signed) {
		out->chain_incomplete = 1;
		snprintf(out->missing_issuer, sizeof(out->missing_issuer), "%s",
		         out->chain[out->nchain - 1].issuer);
	}
	const unsigned char *ocsp = NULL;
	out->ocsp_stapled =
	        SSL_get_tlsext_status_ocsp_resp(t->ssl, &ocsp) > 0 &&
	        ocsp != NULL;
	out->secure_renegotiation =
	        SSL_get_secure_renegotiation_support(t->ssl) == 1;
	out->extended_master_secret = SSL_get_extms_support(t->ssl) == 1;
	out->resumed = SSL_session_reused(t->ssl) == 1;
	tls__dane_facts(t, out);
	tls__escape_str(out->verify_reason, sizeof(out->verify_reason),
	                leaf == NULL ? "no peer certificate"
	                             : X509_verify_cert_error_string(code));
	ERR_clear_error();
}

void smtprobe_tls_free(struct smtprobe_tls *t)
{
	if (t == NULL)
		return;
	if (t->ssl != NULL) {
		if (t->handshake_done && !t->dead) {
			ERR_clear_error();
			(void)SSL_shutdown(t->ssl);
		}
		SSL_free(t->ssl);
	}
	SSL_CTX_free(t->ctx);
	ERR_clear_error();
	free(t);
}
