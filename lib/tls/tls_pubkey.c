/* tls_pubkey.c - public keys and base64 as DNS records publish them (a
 * DKIM key's p=, RFC 6376 §3.6.1, RFC 8463): what the key is and its size,
 * with OpenSSL, for lib/dns, which keeps OpenSSL out of its own files.
 * Pure; the OpenSSL error queue is left empty. */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "smtprobe/tls.h"
#include "banned.h"

#define ED25519_LEN 32

long smtprobe_tls_base64(const char *in, size_t n, unsigned char *out,
                         size_t outsz)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                               "abcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t pad = 0;

	if (n % 4 != 0 || n / 4 * 3 > outsz || n > (size_t)1 << 30)
		return -1;
	while (pad < 2 && pad < n && in[n - 1 - pad] == '=')
		pad++;
	for (size_t i = 0; i < n - pad; i++)
		if (in[i] == '\0' || strchr(alphabet, in[i]) == NULL)
			return -1;
	if (n == 0)
		return 0;
	/* checked above: EVP_DecodeBlock itself lets "Q===" through */
	int len = EVP_DecodeBlock(out, (const unsigned char *)in, (int)n);
	return len < 0 ? -1 : (long)((size_t)len - pad);
}

static void describe(EVP_PKEY *pkey, struct smtprobe_pubkey *out)
{
	const char *type = EVP_PKEY_get0_type_name(pkey);
	int id = EVP_PKEY_get_base_id(pkey);

	out->kind = id == EVP_PKEY_RSA       ? SMTPROBE_PK_RSA
	            : id == EVP_PKEY_ED25519 ? SMTPROBE_PK_ED25519
	                                     : SMTPROBE_PK_OTHER;
	snprintf(out->type, sizeof(out->type), "%s", type ? type : "unknown");
	out->bits = EVP_PKEY_get_bits(pkey);
}

int smtprobe_tls_pubkey(const unsigned char *der, size_t len, int raw_ed25519,
                        struct smtprobe_pubkey *out)
{
	const unsigned char *p = der;
	EVP_PKEY *pkey = NULL;

	memset(out, 0, sizeof(*out));
	if (len == 0 || len > (1u << 20))
		return -1;
	if (raw_ed25519 && len == ED25519_LEN) {
		pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, der,
		                                   ED25519_LEN);
		out->form = SMTPROBE_PK_RAW;
	} else {
		pkey = d2i_PUBKEY(NULL, &p, (long)len);
		out->form = SMTPROBE_PK_SPKI;
		if (pkey == NULL) {
			p = der;
			pkey = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)len);
			out->form = SMTPROBE_PK_PKCS1;
		}
		out->trailing = pkey != NULL && p != der + len;
	}
	ERR_clear_error();
	if (pkey == NULL)
		return -1;
	describe(pkey, out);
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return 0;
}
