/* fuzz_dkim.c - libFuzzer target for the DKIM key record parser. The input
 * is parsed as a record, and its bytes are also published as the key
 * itself ("v=DKIM1; p=" and their base64, as rsa and as ed25519) so that
 * OpenSSL's decoders see arbitrary DER. Aborts when an invariant of
 * dnsrec.h is broken: the return value and error.code disagree, the
 * classification contradicts the facts, a size is missing or invented, an
 * error message is not printable, or the OpenSSL error queue is left
 * non-empty. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "smtprobe/dnsrec.h"

#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                               \
	do {                                                                   \
		if (!(x))                                                      \
			abort();                                               \
	} while (0)

/* the DER bytes a record can carry */
#define KEY_MAX (SMTPROBE_DNSREC_MAX_RECORD / 4 * 3 - 64)

static void check_key(const char *buf, size_t n)
{
	struct smtprobe_dkim_key k;
	int rc = smtprobe_dkim_key_parse(buf, n, &k);
	enum smtprobe_dkim_class c = smtprobe_dkim_key_class(&k);
	size_t i, len = strnlen(k.error.text, sizeof(k.error.text));

	CHECK(ERR_peek_error() == 0);
	CHECK(rc <= 0 && (int)k.error.code == rc);
	CHECK((rc == 0) == (len == 0) && len < sizeof(k.error.text));
	for (i = 0; i < len; i++)
		CHECK((unsigned char)k.error.text[i] >= 0x20 &&
		      (unsigned char)k.error.text[i] < 0x7f);
	CHECK(k.notes.off <= n && k.notes.len <= n - k.notes.off);
	CHECK(k.error.at.off <= n && k.error.at.len <= n - k.error.at.off);
	CHECK(strcmp(smtprobe_dkim_class_name(c), "?") != 0);
	if (rc < 0) {
		CHECK(c == SMTPROBE_DKIM_C_INVALID);
		return;
	}
	if (k.flags & SMTPROBE_DKIM_F_REVOKED) {
		CHECK(k.bits == 0 && c == SMTPROBE_DKIM_C_REVOKED);
		return;
	}
	CHECK(k.bits > 0);
	if (k.ktype == SMTPROBE_DKIM_K_ED25519)
		CHECK(k.bits == 256 && !(k.flags & SMTPROBE_DKIM_F_PKCS1));
	if (k.ktype == SMTPROBE_DKIM_K_RSA && k.bits < 1024)
		CHECK(c <= SMTPROBE_DKIM_C_TOO_WEAK);
	if (k.flags & SMTPROBE_DKIM_F_TESTING)
		CHECK(c <= SMTPROBE_DKIM_C_TESTING);
	if (c == SMTPROBE_DKIM_C_GOOD)
		CHECK(k.ktype == SMTPROBE_DKIM_K_ED25519 || k.bits >= 2048);
}

/* The input's bytes as the published key. */
static void check_as_key(const uint8_t *data, size_t size, const char *k)
{
	static char rec[SMTPROBE_DNSREC_MAX_RECORD + 1];
	int n;

	if (size > KEY_MAX)
		size = KEY_MAX;
	n = snprintf(rec, sizeof(rec), "v=DKIM1; k=%s; p=", k);
	CHECK(n > 0 && (size_t)n + (size + 2) / 3 * 4 < sizeof(rec));
	n += EVP_EncodeBlock((unsigned char *)rec + n, data, (int)size);
	check_key(rec, (size_t)n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_key((const char *)data, size);
	check_as_key(data, size, "rsa");
	check_as_key(data, size < 40 ? size : 32, "ed25519");
	return 0;
}
