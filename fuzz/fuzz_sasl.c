/* fuzz_sasl.c - libFuzzer target for lib/sasl/sasl.c.
 *
 * The first byte picks a mechanism; the rest, split at '\n', is the run of
 * 334 challenges (base64 text) a hostile server could send. Each is fed to
 * smtprobe_sasl_step() until an error or the end. Separately the whole
 * input goes through the strict base64 decoder, and whatever decodes must
 * encode back to exactly the input (the decoder is one-to-one). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtprobe/ehlo.h"
#include "smtprobe/sasl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const unsigned mechs[] = {
        SMTPROBE_MECH_PLAIN,       SMTPROBE_MECH_LOGIN,
        SMTPROBE_MECH_CRAM_MD5,    SMTPROBE_MECH_DIGEST_MD5,
        SMTPROBE_MECH_SCRAM_SHA_1, SMTPROBE_MECH_SCRAM_SHA_256,
        SMTPROBE_MECH_NTLM,        SMTPROBE_MECH_XOAUTH2,
        SMTPROBE_MECH_OAUTHBEARER,
};

static void check_base64(const uint8_t *data, size_t size)
{
	static unsigned char dec[SMTPROBE_MAX_SASL * 2];
	static char enc[SMTPROBE_MAX_SASL * 3];
	long n, m;

	n = smtprobe_base64_decode((const char *)data, size, dec, sizeof(dec));
	if (n < 0)
		return;
	if ((size_t)n > size)
		abort();
	m = smtprobe_base64_encode(dec, (size_t)n, enc, sizeof(enc));
	if (m < 0 || (size_t)m != size || memcmp(enc, data, size) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtprobe_sasl_params p = {0,    "user",           "pencil",
	                                 NULL, "mx.example.org", 587};
	struct smtprobe_sasl *s = NULL;
	const char *ir = NULL, *resp;
	const char *line, *end;
	char err[256];
	int rc;

	check_base64(data, size);
	if (size == 0)
		return 0;
	p.mech = mechs[data[0] % (sizeof(mechs) / sizeof(mechs[0]))];
	if (data[0] & 0x80)
		p.authzid = "admin";
	if (smtprobe_sasl_new(&s, &p, err, sizeof(err)) < 0)
		abort(); /* fixed, valid credentials must always work */
	rc = smtprobe_sasl_start(s, &ir);
	line = (const char *)data + 1;
	end = (const char *)data + size;
	while (rc >= 0 && line <= end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		size_t len = (size_t)((nl != NULL ? nl : end) - line);

		resp = NULL;
		rc = smtprobe_sasl_step(s, line, len, &resp);
		if (rc >= 0 && resp == NULL)
			abort();
		if (rc < 0 && smtprobe_sasl_error(s)[0] == '\0')
			abort();
		if (nl == NULL)
			break;
		line = nl + 1;
	}
	smtprobe_sasl_free(s);
	return 0;
}
