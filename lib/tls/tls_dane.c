/* tls_dane.c - DANE for a client connection (RFC 7671; RFC 7672 for
 * SMTP): the TLSA records the caller found go to OpenSSL's DANE support
 * (SSL_dane_enable, SSL_dane_tlsa_add), which then verifies the chain the
 * server sends against them instead of the CA store; after the handshake,
 * which record matched and at what depth.
 *
 * The caller picks the records (SMTP on port 25 ignores usages 0 and 1,
 * RFC 7672 §3.1.3); a record OpenSSL cannot use (unknown usage, selector
 * or matching type, a digest of the wrong length) is counted out, not an
 * error. DANE-EE matches check no name (RFC 7672 §3.1.1); DANE-TA
 * matches check the TLSA base domain and the verify host. */
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "tls_int.h"

#include "banned.h"

int tls__dane_setup(struct smtprobe_tls *t, const struct smtprobe_tls_opts *o,
                    char *err, size_t errsz)
{
	const char *base = o->dane_base;

	if (o->tlsa == NULL || o->ntlsa == 0)
		return 0;
	if (base == NULL || base[0] == '\0')
		base = o->verify_host;
	if (base == NULL || base[0] == '\0' ||
	    SSL_dane_enable(t->ssl, base) <= 0) {
		tls__format_err(err, errsz, "cannot enable dane",
		                "no tlsa base domain");
		return -1;
	}
	/* RFC 7672 §3.2.2: the MX host name is a reference name too */
	if (o->verify_host && o->verify_host[0] &&
	    strcmp(o->verify_host, base) != 0 &&
	    !tls__is_ip_literal(o->verify_host))
		(void)SSL_add1_host(t->ssl, o->verify_host);
	(void)SSL_dane_set_flags(t->ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
	t->dane = 1;
	for (size_t i = 0; i < o->ntlsa && i < SMTPROBE_MAX_TLSA; i++) {
		const struct smtprobe_tlsa *r = &o->tlsa[i];

		/* a digest longer than any OpenSSL knows, or a bad record:
		 * unusable (0) or an error (< 0) alike, counted out */
		if (r->data != NULL &&
		    SSL_dane_tlsa_add(t->ssl, r->usage, r->selector, r->mtype,
		                      r->data, r->len) > 0)
			t->dane_usable++;
	}
	ERR_clear_error();
	return 0;
}

void tls__dane_facts(const struct smtprobe_tls *t,
                     struct smtprobe_tls_facts *out)
{
	uint8_t usage = 0, selector = 0, mtype = 0;
	const unsigned char *data = NULL;
	size_t dlen = 0;
	int depth;

	if (!t->dane)
		return;
	out->dane_checked = 1;
	out->dane_usable = t->dane_usable;
	out->dane_depth = -1;
	depth = SSL_get0_dane_tlsa(t->ssl, &usage, &selector, &mtype, &data,
	                           &dlen);
	if (depth >= 0) {
		out->dane_match = 1;
		out->dane_depth = depth;
		out->dane_usage = usage;
		out->dane_selector = selector;
		out->dane_mtype = mtype;
	}
	ERR_clear_error();
}

void tls__spki_sha256(X509 *x, char *out, size_t outsz)
{
	unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	int len;

	if (outsz > 0)
		out[0] = '\0';
	len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
	if (len > 0 && outsz >= 65 &&
	    EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL) &&
	    mdlen == 32)
		for (unsigned i = 0; i < mdlen; i++)
			snprintf(out + 2 * i, outsz - 2 * i, "%02x", md[i]);
	OPENSSL_free(der);
	ERR_clear_error();
}
