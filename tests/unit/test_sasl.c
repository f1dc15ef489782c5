/* test_sasl.c - unit tests for lib/sasl/sasl.c.
 *
 * Published vectors: RFC 4648 section 10 (base64), RFC 2195 (CRAM-MD5),
 * Google's XOAUTH2 example, RFC 7628 section 4.1/4.3 (OAUTHBEARER), and
 * RFC 5802 / RFC 7677 (SCRAM-SHA-1 / SCRAM-SHA-256).
 *
 * About the SCRAM vectors: GNU SASL 2.2 draws the client nonce from
 * gsasl_nonce() (18 random bytes, base64 = 24 characters) inside
 * scram_start(); it offers no property, environment variable or test hook
 * to pin it, and the RFC nonces are 24 (RFC 5802) and 20 (RFC 7677)
 * characters of a different value, so the RFC's exact client-final cannot
 * come out of our client. Instead:
 *   1. scram_reference() (OpenSSL EVP: PBKDF2, HMAC, digest) recomputes
 *      the RFC's ClientProof and ServerSignature from the RFC's exact
 *      messages and must produce the published p= and v=;
 *   2. our client then runs against a scripted server that answers with
 *      the RFC's salt, iteration count and server nonce part appended to
 *      our client's nonce; the p= it sends must equal scram_reference()
 *      over that AuthMessage, and the matching v= must verify while the
 *      RFC's literal v= (made for another nonce) must not;
 *   3. a full round trip through GNU SASL's own SCRAM server, fed the
 *      RFC 7677 salt and iteration count, must succeed.
 * Together these pin the arithmetic to the RFC and prove our client does
 * that arithmetic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsasl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "smtprobe/ehlo.h"
#include "smtprobe/sasl.h"

#define B64_MAX (4 * ((SMTPROBE_MAX_SASL + 2) / 3) + 1)

/* ---- helpers ---- */

static char *b64(const void *raw, size_t len)
{
	static char buf[4][B64_MAX + 64];
	static int which;
	char *out = buf[which++ % 4];

	assert_true(smtprobe_base64_encode(raw, len, out, B64_MAX + 64) >= 0);
	return out;
}

static char *b64s(const char *str)
{
	return b64(str, strlen(str));
}

/* Decode base64 text that must be valid, NUL-terminated. */
static size_t unb64(const char *in, unsigned char *out, size_t outsz)
{
	long n = smtprobe_base64_decode(in, strlen(in), out, outsz - 1);

	assert_true(n >= 0);
	out[n] = '\0';
	return (size_t)n;
}

static struct smtprobe_sasl *exchange(unsigned mech, const char *user,
                                      const char *password, const char *authzid,
                                      const char *host, unsigned port)
{
	struct smtprobe_sasl_params p = {mech,    user, password,
	                                 authzid, host, port};
	struct smtprobe_sasl *s = NULL;
	char err[256];
	int rc = smtprobe_sasl_new(&s, &p, err, sizeof(err));

	if (rc != SMTPROBE_SASL_OK)
		fail_msg("smtprobe_sasl_new: %d %s", rc, err);
	assert_non_null(s);
	return s;
}

static int step_str(struct smtprobe_sasl *s, const char *challenge,
                    const char **response)
{
	return smtprobe_sasl_step(s, challenge, strlen(challenge), response);
}

/* ---- base64 ---- */

static const struct {
	const char *in;
	const char *out; /* NULL: must be rejected */
} b64_cases[] = {
        /* RFC 4648 section 10 */
        {"", ""},
        {"Zg==", "f"},
        {"Zm8=", "fo"},
        {"Zm9v", "foo"},
        {"Zm9vYg==", "foob"},
        {"Zm9vYmE=", "fooba"},
        {"Zm9vYmFy", "foobar"},
        {"+/+/", "\xfb\xff\xbf"},
        {"VXNlcm5hbWU6", "Username:"},
        /* invalid */
        {"abc", NULL},
        {"ab=c", NULL},
        {"====", NULL},
        {"Zm9v\n", NULL},
        {"Zm9v ", NULL},
        {" Zm9v", NULL},
        {"Zm9\n", NULL},
        {"Zg=", NULL},
        {"Zg", NULL},
        {"Z===", NULL},
        {"=Zm9", NULL},
        {"Zm9v====", NULL},
        {"Zg==Zm9v", NULL},
        {"Zm$v", NULL},
        {"Zm-_", NULL}, /* base64url is not base64 */
        {"Zh==", NULL}, /* non-zero pad bits */
        {"Zm9=", NULL},
};

static void test_base64_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(b64_cases) / sizeof(b64_cases[0]); i++) {
		unsigned char out[64];
		char enc[64];
		const char *in = b64_cases[i].in;
		long n = smtprobe_base64_decode(in, strlen(in), out,
		                                sizeof(out));

		if (b64_cases[i].out == NULL) {
			if (n != -1)
				fail_msg("case %zu \"%s\" decoded", i, in);
			continue;
		}
		if (n != (long)strlen(b64_cases[i].out))
			fail_msg("case %zu \"%s\": %ld", i, in, n);
		assert_memory_equal(out, b64_cases[i].out, (size_t)n);
		assert_int_equal(smtprobe_base64_encode(out, (size_t)n, enc,
		                                        sizeof(enc)),
		                 (long)strlen(in));
		assert_string_equal(enc, in);
	}
}

static void test_base64_limits(void **state)
{
	unsigned char out[8];
	char enc[16];
	unsigned char all[256];
	char big[400];
	unsigned char back[256];
	size_t i;

	(void)state;
	/* decode: exact fit works, one byte short fails */
	assert_int_equal(smtprobe_base64_decode("Zm9vYmFy", 8, out, 6), 6);
	assert_int_equal(smtprobe_base64_decode("Zm9vYmFy", 8, out, 5), -1);
	assert_int_equal(smtprobe_base64_decode("Zg==", 4, out, 1), 1);
	assert_int_equal(smtprobe_base64_decode("Zg==", 4, out, 0), -1);
	/* a NUL inside the input is just an invalid character */
	assert_int_equal(smtprobe_base64_decode("Zm\0v", 4, out, 8), -1);
	/* encode: needs room for the NUL */
	assert_int_equal(
	        smtprobe_base64_encode((const unsigned char *)"foo", 3, enc, 5),
	        4);
	assert_int_equal(
	        smtprobe_base64_encode((const unsigned char *)"foo", 3, enc, 4),
	        -1);
	assert_int_equal(smtprobe_base64_encode(NULL, 0, enc, 1), 0);
	assert_string_equal(enc, "");
	/* every byte value round-trips, at every length mod 3 */
	for (i = 0; i < sizeof(all); i++)
		all[i] = (unsigned char)i;
	for (i = 253; i <= 256; i++) {
		long n = smtprobe_base64_encode(all, i, big, sizeof(big));

		assert_true(n > 0);
		assert_int_equal(smtprobe_base64_decode(big, (size_t)n, back,
		                                        sizeof(back)),
		                 (long)i);
		assert_memory_equal(back, all, i);
	}
}

/* ---- mechanisms with fixed encodings ---- */

static void test_plain(void **state)
{
	static const struct {
		const char *authzid;
		const char *raw;
		size_t rawlen;
	} cases[] = {
	        {NULL, "\0tim\0tanstaaftanstaaf", 21},
	        {"admin", "admin\0tim\0tanstaaftanstaaf", 26},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct smtprobe_sasl *s =
		        exchange(SMTPROBE_MECH_PLAIN, "tim", "tanstaaftanstaaf",
		                 cases[i].authzid, NULL, 0);
		const char *ir = NULL, *resp = NULL;

		assert_int_equal(smtprobe_sasl_start(s, &ir), SMTPROBE_SASL_OK);
		assert_non_null(ir);
		assert_string_equal(ir, b64(cases[i].raw, cases[i].rawlen));
		/* PLAIN has said everything; a challenge is a protocol
		 * error, not a second copy of the password */
		assert_int_equal(step_str(s, "", &resp),
		                 SMTPROBE_SASL_E_PROTOCOL);
		assert_null(resp);
		assert_false(smtprobe_sasl_server_verified(s));
		smtprobe_sasl_free(s);
	}
}

static void test_login_two_steps(void **state)
{
	struct smtprobe_sasl *s = exchange(SMTPROBE_MECH_LOGIN, "tim",
	                                   "tanstaaftanstaaf", NULL, NULL, 0);
	const char *ir = "x", *resp = NULL;

	(void)state;
	assert_int_equal(smtprobe_sasl_start(s, &ir), SMTPROBE_SASL_MORE);
	assert_null(ir); /* waits for "334 VXNlcm5hbWU6" */
	assert_int_equal(step_str(s, "VXNlcm5hbWU6", &resp),
	                 SMTPROBE_SASL_MORE);
	assert_string_equal(resp, "dGlt"); /* "tim" */
	assert_int_equal(step_str(s, "UGFzc3dvcmQ6", &resp), SMTPROBE_SASL_OK);
	assert_string_equal(resp, b64s("tanstaaftanstaaf"));
	assert_int_equal(step_str(s, "UGFzc3dvcmQ6", &resp),
	                 SMTPROBE_SASL_E_PROTOCOL);
	smtprobe_sasl_free(s);
}

static void test_cram_md5_rfc2195(void **state)
{
	struct smtprobe_sasl *s = exchange(SMTPROBE_MECH_CRAM_MD5, "tim",
	                                   "tanstaaftanstaaf", NULL, NULL, 0);
	const char *ir = "x", *resp = NULL;
	int rc;

	(void)state;
	assert_int_equal(smtprobe_sasl_start(s, &ir), SMTPROBE_SASL_MORE);
	assert_null(ir);
	/* RFC 2195 section 2, challenge as sent on the wire */
	assert_string_equal(
	        b64s("<1896.697170952@postoffice.reston.mci.net>"),
	        "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+");
	rc = step_str(
	        s, "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+",
	        &resp);
	assert_true(rc >= 0);
	assert_non_null(resp);
	assert_string_equal(resp, b64s("tim b913a602c7eda7a495b4e6e7334d3890"));
	assert_string_equal(resp, "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNG"
	                          "QzODkw");
	smtprobe_sasl_free(s);
}

static void test_xoauth2(void **state)
{
	/* Google's published XOAUTH2 example */
	struct smtprobe_sasl *s = exchange(
	        SMTPROBE_MECH_XOAUTH2, "someuser@example.com",
	        "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg", NULL, NULL, 0);
	const char *ir = NULL, *resp = NULL;
	const char *json = "{\"status\":\"401\",\"schemes\":\"bearer mac\","
	                   "\"scope\":\"https://mail.google.com/\"}";

	(void)state;
	assert_int_equal(smtprobe_sasl_start(s, &ir), SMTPROBE_SASL_OK);
	assert_string_equal(
	        ir, "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5Ln"
	            "ZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ"
	            "==");
	assert_string_equal(ir, b64s("user=someuser@example.com\x01"
	                             "auth=Bearer "
	                             "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGE"
	                             "uY29tCg\x01\x01"));
	/* error challenge: answer with an empty line, keep the JSON */
	assert_int_equal(step_str(s, b64s(json), &resp), SMTPROBE_SASL_OK);
	assert_string_equal(resp, "");
	assert_non_null(strstr(smtprobe_sasl_error(s), "rejected the token"));
	assert_non_null(strstr(smtprobe_sasl_error(s), "bearer mac"));
	assert_int_equal(step_str(s, b64s(json), &resp),
	                 SMTPROBE_SASL_E_PROTOCOL);
	smtprobe_sasl_free(s);
}

static void test_oauthbearer(void **state)
{
	/* RFC 7628 section 4.1 */
	struct smtprobe_sasl *s =
	        exchange(SMTPROBE_MECH_OAUTHBEARER, "user@example.com",
	                 "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==", NULL,
	                 "server.example.com", 143);
	const char *ir = NULL, *resp = NULL;

	(void)state;
	assert_int_equal(smtprobe_sasl_start(s, &ir), SMTPROBE_SASL_OK);
	assert_string_equal(ir, b64s("n,a=user@example.com,"
	                             "\x01host=server.example.com"
	                             "\x01port=143"
	                             "\x01"
	                             "auth=Bearer "
	                             "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29t"
	                             "Cg==\x01\x01"));
	/* RFC 7628 section 4.3: error challenge, client sends %x01 */
	assert_int_equal(step_str(s,
	                          "eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIiwic2NvcGUi"
	                          "OiJleGFtcGxl"
	                          "X3Njb3BlIiwib3BlbmlkLWNvbmZpZ3VyYXRpb24iOiJo"
	                          "dHRwczovL2V4"
	                          "YW1wbGUuY29tLy53ZWxsLWtub3duL29wZW5pZC1jb25m"
	                          "aWd1cmF0aW9u"
	                          "In0=",
	                          &resp),
	                 SMTPROBE_SASL_OK);
	assert_string_equal(resp, "AQ==");
	assert_non_null(strstr(smtprobe_sasl_error(s), "invalid_token"));
	assert_int_equal(step_str(s, "AQ==", &resp), SMTPROBE_SASL_E_PROTOCOL);
	smtprobe_sasl_free(s);

	/* ',' and '=' in the gs2 saslname are escaped (RFC 5801); no host
	 * or port means those pairs are left out */
	s = exchange(SMTPROBE_MECH_OAUTHBEARER, "a,b=c", "T", NULL, NULL, 0);
	assert_int_equal(smtprobe_sasl_start(s, &ir), SMTPROBE_SASL_OK);
	assert_string_equal(ir, b64s("n,a=a=2Cb=3Dc,\x01"
	                             "auth=Bearer T\x01\x01"));
	smtprobe_sasl_free(s);
}

static void test_ntlm_initial(void **state)
{
	struct smtprobe_sasl *s = exchange(SMTPROBE_MECH_NTLM, "tim",
	                                   "tanstaaftanstaaf", NULL, NULL, 0);
	const char *ir = NULL, *resp = NULL;
	unsigned char raw[256], big[2048];

	(void)state;
	assert_int_equal(smtprobe_sasl_start(s, &ir), SMTPROBE_SASL_MORE);
	assert_non_null(ir);
	/* a type 1 message: "NTLMSSP\0" then little-endian 1 */
	assert_true(unb64(ir, raw, sizeof(raw)) >= 12);
	assert_memory_equal(raw, "NTLMSSP\0\x01\0\0\0", 12);
	/* libntlm takes any short blob as a type 2 message; one larger than
	 * its message structure is refused */
	memset(big, 'A', sizeof(big));
	assert_int_equal(step_str(s, b64(big, sizeof(big)), &resp),
	                 SMTPROBE_SASL_E_PROTOCOL);
	assert_null(resp);
	smtprobe_sasl_free(s);
}

/* ---- bad input ---- */

static void test_bad_challenges(void **state)
{
	static const char *const bad[] = {
	        "abc", "ab=c", "====", "Zm9v\n", "PDE4O TYu", "Zh=="};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct smtprobe_sasl *s = exchange(SMTPROBE_MECH_CRAM_MD5,
		                                   "tim", "pw", NULL, NULL, 0);
		const char *ir, *resp = "x";

		assert_int_equal(smtprobe_sasl_start(s, &ir),
		                 SMTPROBE_SASL_MORE);
		assert_int_equal(step_str(s, bad[i], &resp),
		                 SMTPROBE_SASL_E_DECODE);
		assert_null(resp);
		assert_non_null(strstr(smtprobe_sasl_error(s), "undecodable"));
		/* the exchange stays failed */
		assert_int_equal(step_str(s, "Zm9v", &resp),
		                 SMTPROBE_SASL_E_PROTOCOL);
		smtprobe_sasl_free(s);
	}
}

static void test_oversized_challenge(void **state)
{
	static unsigned char raw[SMTPROBE_MAX_SASL + 3];
	static char text[B64_MAX + 16];
	const size_t sizes[] = {SMTPROBE_MAX_SASL, SMTPROBE_MAX_SASL + 1,
	                        SMTPROBE_MAX_SASL + 3};
	size_t i;

	(void)state;
	memset(raw, 'A', sizeof(raw));
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct smtprobe_sasl *s = exchange(SMTPROBE_MECH_CRAM_MD5,
		                                   "tim", "pw", NULL, NULL, 0);
		const char *ir, *resp = NULL;
		long n = smtprobe_base64_encode(raw, sizes[i], text,
		                                sizeof(text));
		int rc;

		assert_true(n > 0);
		assert_int_equal(smtprobe_sasl_start(s, &ir),
		                 SMTPROBE_SASL_MORE);
		rc = smtprobe_sasl_step(s, text, (size_t)n, &resp);
		if (sizes[i] <= SMTPROBE_MAX_SASL) {
			assert_true(rc >= 0); /* exactly at the cap is fine */
			assert_non_null(resp);
		} else {
			assert_int_equal(rc, SMTPROBE_SASL_E_DECODE);
			assert_null(resp);
		}
		smtprobe_sasl_free(s);
	}
}

static void test_new_errors(void **state)
{
	static const struct {
		unsigned mech;
		const char *user, *password, *host;
		int rc;
	} cases[] = {
	        {0, "u", "p", NULL, SMTPROBE_SASL_E_MECH},
	        {1u << 20, "u", "p", NULL, SMTPROBE_SASL_E_MECH},
	        {SMTPROBE_MECH_PLAIN | SMTPROBE_MECH_LOGIN, "u", "p", NULL,
	         SMTPROBE_SASL_E_MECH},
	        {SMTPROBE_MECH_PLAIN, NULL, "p", NULL, SMTPROBE_SASL_E_MECH},
	        {SMTPROBE_MECH_PLAIN, "", "p", NULL, SMTPROBE_SASL_E_MECH},
	        {SMTPROBE_MECH_PLAIN, "u", NULL, NULL, SMTPROBE_SASL_E_MECH},
	        {SMTPROBE_MECH_DIGEST_MD5, "u", "p", NULL,
	         SMTPROBE_SASL_E_MECH},
	        {SMTPROBE_MECH_XOAUTH2, "u",
	         "tok\x01"
	         "auth=x",
	         NULL, SMTPROBE_SASL_E_MECH},
	        {SMTPROBE_MECH_OAUTHBEARER, "u\x01", "t", NULL,
	         SMTPROBE_SASL_E_MECH},
	        {SMTPROBE_MECH_OAUTHBEARER, "u", "t", "h\x01port=1",
	         SMTPROBE_SASL_E_MECH},
	        {SMTPROBE_MECH_PLAIN, "u", "", NULL, SMTPROBE_SASL_OK},
	        {SMTPROBE_MECH_DIGEST_MD5, "u", "p", "mx", SMTPROBE_SASL_OK},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct smtprobe_sasl_params p = {
		        cases[i].mech, cases[i].user, cases[i].password,
		        NULL,          cases[i].host, 0};
		struct smtprobe_sasl *s = (struct smtprobe_sasl *)&p;
		char err[128] = "unset";
		int rc = smtprobe_sasl_new(&s, &p, err, sizeof(err));

		if (rc != cases[i].rc)
			fail_msg("case %zu: rc %d (%s)", i, rc, err);
		if (rc < 0) {
			assert_null(s);
			assert_true(err[0] != '\0');
		} else {
			assert_string_equal(err, "");
		}
		smtprobe_sasl_free(s);
	}
	assert_int_equal(smtprobe_sasl_new(NULL, NULL, NULL, 0),
	                 SMTPROBE_SASL_E_MECH);
	smtprobe_sasl_free(NULL);
	assert_non_null(smtprobe_sasl_error(NULL));
	assert_false(smtprobe_sasl_server_verified(NULL));
}

static void test_call_order(void **state)
{
	struct smtprobe_sasl *s =
	        exchange(SMTPROBE_MECH_LOGIN, "tim", "pw", NULL, NULL, 0);
	const char *ir, *resp;

	(void)state;
	assert_int_equal(step_str(s, "VXNlcm5hbWU6", &resp),
	                 SMTPROBE_SASL_E_PROTOCOL); /* step before start */
	smtprobe_sasl_free(s);
	s = exchange(SMTPROBE_MECH_LOGIN, "tim", "pw", NULL, NULL, 0);
	assert_int_equal(smtprobe_sasl_start(s, &ir), SMTPROBE_SASL_MORE);
	assert_int_equal(smtprobe_sasl_start(s, &ir), SMTPROBE_SASL_E_PROTOCOL);
	smtprobe_sasl_free(s);
}

/* ---- SCRAM ---- */

/* ClientProof and ServerSignature (base64) per RFC 5802 section 3,
 * computed independently with OpenSSL. */
static void scram_reference(const EVP_MD *md, const char *password,
                            const char *salt_b64, int iter, const char *authmsg,
                            char *proof, char *sig)
{
	unsigned char salt[64], salted[EVP_MAX_MD_SIZE];
	unsigned char ckey[EVP_MAX_MD_SIZE], skey[EVP_MAX_MD_SIZE];
	unsigned char stored[EVP_MAX_MD_SIZE], csig[EVP_MAX_MD_SIZE];
	unsigned char ssig[EVP_MAX_MD_SIZE];
	unsigned int hl = (unsigned)EVP_MD_get_size(md), l;
	size_t saltlen = unb64(salt_b64, salt, sizeof(salt)), i;

	assert_int_equal(PKCS5_PBKDF2_HMAC(password, (int)strlen(password),
	                                   salt, (int)saltlen, iter, md,
	                                   (int)hl, salted),
	                 1);
	assert_non_null(HMAC(md, salted, (int)hl,
	                     (const unsigned char *)"Client Key", 10, ckey,
	                     &l));
	assert_int_equal(EVP_Digest(ckey, hl, stored, &l, md, NULL), 1);
	assert_non_null(HMAC(md, stored, (int)hl,
	                     (const unsigned char *)authmsg, strlen(authmsg),
	                     csig, &l));
	for (i = 0; i < hl; i++)
		csig[i] ^= ckey[i];
	assert_non_null(HMAC(md, salted, (int)hl,
	                     (const unsigned char *)"Server Key", 10, skey,
	                     &l));
	assert_non_null(HMAC(md, skey, (int)hl, (const unsigned char *)authmsg,
	                     strlen(authmsg), ssig, &l));
	assert_true(smtprobe_base64_encode(csig, hl, proof, 128) > 0);
	assert_true(smtprobe_base64_encode(ssig, hl, sig, 128) > 0);
}

static const struct scram_vector {
	const char *rfc;
	unsigned mech;
	const char *cnonce; /* the RFC's client nonce */
	const char *snonce; /* the server's part of the nonce */
	const char *salt;
	int iter;
	const char *proof; /* published p= */
	const char *sig;   /* published v= */
} scram_vectors[] = {
        {"RFC 5802", SMTPROBE_MECH_SCRAM_SHA_1, "fyko+d2lbbFgONRv9qkxdawL",
         "3rfcNHYJY1ZVvWVs7j", "QSXCR+Q6sek8bf92", 4096,
         "v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=", "rmF9pqV8S7suAoZWja4dJRkFsKQ="},
        {"RFC 7677", SMTPROBE_MECH_SCRAM_SHA_256, "rOprNGfwEbeRWgbNEkqO",
         "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0", "W22ZaJ0SNY7soEsUEjb6gQ==", 4096,
         "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
         "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="},
};

static const EVP_MD *vector_md(const struct scram_vector *v)
{
	return v->mech == SMTPROBE_MECH_SCRAM_SHA_1 ? EVP_sha1() : EVP_sha256();
}

static void test_scram_reference_matches_rfc(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(scram_vectors) / sizeof(scram_vectors[0]); i++) {
		const struct scram_vector *v = &scram_vectors[i];
		char authmsg[512], proof[128], sig[128];

		snprintf(authmsg, sizeof(authmsg),
		         "n=user,r=%s,r=%s%s,s=%s,i=%d,c=biws,r=%s%s",
		         v->cnonce, v->cnonce, v->snonce, v->salt, v->iter,
		         v->cnonce, v->snonce);
		scram_reference(vector_md(v), "pencil", v->salt, v->iter,
		                authmsg, proof, sig);
		if (strcmp(proof, v->proof) != 0 || strcmp(sig, v->sig) != 0)
			fail_msg("%s: p=%s v=%s", v->rfc, proof, sig);
	}
}

/* Run our client through one SCRAM exchange against a scripted server
 * using the vector's salt, count and server nonce; final is the v= to
 * send, NULL for the correct one. Returns the last step's rc. */
static int scram_scripted(const struct scram_vector *v, const char *final,
                          struct smtprobe_sasl **out)
{
	struct smtprobe_sasl *s =
	        exchange(v->mech, "user", "pencil", NULL, NULL, 0);
	const char *ir = NULL, *resp = NULL;
	char first[256], cfinal[512], expect[512], authmsg[1024];
	char sfirst[256], proof[128], sig[128], msg[256];
	const char *cnonce;

	assert_int_equal(smtprobe_sasl_start(s, &ir), SMTPROBE_SASL_MORE);
	unb64(ir, (unsigned char *)first, sizeof(first));
	assert_int_equal(strncmp(first, "n,,n=user,r=", 12), 0);
	cnonce = first + 12;
	assert_int_equal(strlen(cnonce), 24); /* gsasl: 18 random bytes */

	snprintf(sfirst, sizeof(sfirst), "r=%s%s,s=%s,i=%d", cnonce, v->snonce,
	         v->salt, v->iter);
	assert_int_equal(step_str(s, b64s(sfirst), &resp), SMTPROBE_SASL_MORE);
	unb64(resp, (unsigned char *)cfinal, sizeof(cfinal));

	snprintf(authmsg, sizeof(authmsg), "%s,%s,c=biws,r=%s%s", first + 3,
	         sfirst, cnonce, v->snonce);
	scram_reference(vector_md(v), "pencil", v->salt, v->iter, authmsg,
	                proof, sig);
	snprintf(expect, sizeof(expect), "c=biws,r=%s%s,p=%s", cnonce,
	         v->snonce, proof);
	assert_string_equal(cfinal, expect);
	assert_false(smtprobe_sasl_server_verified(s));

	snprintf(msg, sizeof(msg), "v=%s", final != NULL ? final : sig);
	*out = s;
	return step_str(s, b64s(msg), &resp);
}

static void test_scram_vectors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(scram_vectors) / sizeof(scram_vectors[0]); i++) {
		struct smtprobe_sasl *s = NULL;
		const char *resp = NULL;

		/* the right server signature verifies, an empty line follows */
		assert_int_equal(scram_scripted(&scram_vectors[i], NULL, &s),
		                 SMTPROBE_SASL_OK);
		assert_true(smtprobe_sasl_server_verified(s));
		assert_int_equal(step_str(s, "", &resp),
		                 SMTPROBE_SASL_E_PROTOCOL);
		smtprobe_sasl_free(s);

		/* the RFC's literal v= belongs to another nonce */
		assert_int_equal(scram_scripted(&scram_vectors[i],
		                                scram_vectors[i].sig, &s),
		                 SMTPROBE_SASL_E_SERVER);
		assert_string_equal(smtprobe_sasl_error(s),
		                    "server signature did not verify");
		assert_false(smtprobe_sasl_server_verified(s));
		smtprobe_sasl_free(s);
	}
}

/* Copy tmpl into dst with "@" replaced by nonce. */
static void fill_nonce(char *dst, size_t dstsz, const char *tmpl,
                       const char *nonce)
{
	const char *at = strchr(tmpl, '@');
	int n = at == NULL ? snprintf(dst, dstsz, "%s", tmpl)
	                   : snprintf(dst, dstsz, "%.*s%s%s", (int)(at - tmpl),
	                              tmpl, nonce, at + 1);

	assert_true(n > 0 && (size_t)n < dstsz);
}

static void test_scram_hostile_server(void **state)
{
	static const struct {
		const char *server_first; /* "@": our client nonce */
		const char *server_final; /* NULL: stop after server-first */
		int rc;
		const char *err;
	} cases[] = {
	        {"r=@X,s=QSXCR+Q6sek8bf92,i=99999999999999999999", NULL,
	         SMTPROBE_SASL_E_PROTOCOL, "iteration count"},
	        {"r=@X,s=QSXCR+Q6sek8bf92,i=1000001", NULL,
	         SMTPROBE_SASL_E_PROTOCOL, "iteration count"},
	        {"r=someone-else,s=QSXCR+Q6sek8bf92,i=4096", NULL,
	         SMTPROBE_SASL_E_PROTOCOL, "error authenticating user"},
	        {"r=@X,s=QSXCR+Q6sek8bf92", NULL, SMTPROBE_SASL_E_PROTOCOL,
	         "sasl mechanism could not parse input"},
	        {"e=unknown-user", NULL, SMTPROBE_SASL_E_PROTOCOL,
	         "scram error: unknown-user"},
	        {"r=@X,s=QSXCR+Q6sek8bf92,i=1", "e=invalid-proof",
	         SMTPROBE_SASL_E_PROTOCOL, "scram error: invalid-proof"},
	        {"r=@X,s=QSXCR+Q6sek8bf92,i=1", "v=AAAA",
	         SMTPROBE_SASL_E_SERVER, "did not verify"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct smtprobe_sasl *s =
		        exchange(SMTPROBE_MECH_SCRAM_SHA_1, "user", "pencil",
		                 NULL, NULL, 0);
		const char *ir = NULL, *resp = NULL;
		char first[128], sfirst[256];
		int rc;

		assert_int_equal(smtprobe_sasl_start(s, &ir),
		                 SMTPROBE_SASL_MORE);
		unb64(ir, (unsigned char *)first, sizeof(first));
		fill_nonce(sfirst, sizeof(sfirst), cases[i].server_first,
		           first + 12);
		rc = step_str(s, b64s(sfirst), &resp);
		if (cases[i].server_final != NULL) {
			assert_int_equal(rc, SMTPROBE_SASL_MORE);
			rc = step_str(s, b64s(cases[i].server_final), &resp);
		}
		if (rc != cases[i].rc)
			fail_msg("case %zu: rc %d (%s)", i, rc,
			         smtprobe_sasl_error(s));
		assert_null(resp);
		assert_non_null(strstr(smtprobe_sasl_error(s), cases[i].err));
		assert_false(smtprobe_sasl_server_verified(s));
		smtprobe_sasl_free(s);
	}
}

/* ---- round trips against GNU SASL's server side ---- */

struct server_creds {
	const char *password;
	const char *salt; /* SCRAM, NULL: let GNU SASL choose */
	const char *iter;
};

static int server_cb(Gsasl *ctx, Gsasl_session *sess, Gsasl_property prop)
{
	const struct server_creds *c = gsasl_callback_hook_get(ctx);
	const char *authid = gsasl_property_fast(sess, GSASL_AUTHID);
	const char *pw;

	switch (prop) {
	case GSASL_PASSWORD:
		if (authid == NULL || strcmp(authid, "user") != 0)
			return GSASL_NO_CALLBACK;
		return gsasl_property_set(sess, GSASL_PASSWORD, c->password);
	case GSASL_SCRAM_SALT:
		if (c->salt == NULL)
			return GSASL_NO_CALLBACK;
		return gsasl_property_set(sess, GSASL_SCRAM_SALT, c->salt);
	case GSASL_SCRAM_ITER:
		if (c->iter == NULL)
			return GSASL_NO_CALLBACK;
		return gsasl_property_set(sess, GSASL_SCRAM_ITER, c->iter);
	case GSASL_VALIDATE_SIMPLE:
		pw = gsasl_property_fast(sess, GSASL_PASSWORD);
		return authid != NULL && pw != NULL &&
		                       strcmp(authid, "user") == 0 &&
		                       strcmp(pw, c->password) == 0
		               ? GSASL_OK
		               : GSASL_AUTHENTICATION_ERROR;
	default:
		return GSASL_NO_CALLBACK;
	}
}

/* Play SMTP AUTH between our client (password pw) and GNU SASL's server.
 * Returns the server's final rc; *verified gets our mutual-auth flag. */
static int round_trip(unsigned mech, const char *gsasl_name, const char *pw,
                      const struct server_creds *creds, int *verified)
{
	struct smtprobe_sasl *s =
	        exchange(mech, "user", pw, NULL, "mx.example.org", 25);
	Gsasl *ctx;
	Gsasl_session *srv;
	const char *ir = NULL, *resp = NULL;
	unsigned char in[SMTPROBE_MAX_SASL + 1];
	size_t inlen = 0;
	char *sout = NULL;
	size_t soutlen = 0;
	int src, crc, turns = 0;

	assert_int_equal(gsasl_init(&ctx), GSASL_OK);
	gsasl_callback_hook_set(ctx, (void *)creds);
	gsasl_callback_set(ctx, server_cb);
	assert_int_equal(gsasl_server_start(ctx, gsasl_name, &srv), GSASL_OK);
	gsasl_property_set(srv, GSASL_SERVICE, "smtp");
	gsasl_property_set(srv, GSASL_HOSTNAME, "mx.example.org");

	crc = smtprobe_sasl_start(s, &ir);
	assert_true(crc >= 0);
	if (ir != NULL && strcmp(ir, "=") != 0)
		inlen = unb64(ir, in, sizeof(in));
	for (;;) {
		src = gsasl_step(srv, (const char *)in, inlen, &sout, &soutlen);
		if (src != GSASL_OK && src != GSASL_NEEDS_MORE)
			break; /* 535 */
		if (src == GSASL_OK && soutlen == 0)
			break; /* 235 */
		/* 334 with the server's data, even on success (SCRAM's
		 * server-final, DIGEST-MD5's rspauth) */
		crc = step_str(s, b64(sout, soutlen), &resp);
		gsasl_free(sout);
		sout = NULL;
		if (crc < 0)
			fail_msg("%s client: %s", gsasl_name,
			         smtprobe_sasl_error(s));
		if (src == GSASL_OK) {
			assert_string_equal(resp, ""); /* then 235 */
			break;
		}
		inlen = unb64(resp, in, sizeof(in));
		assert_true(++turns < 10);
	}
	gsasl_free(sout);
	*verified = smtprobe_sasl_server_verified(s);
	gsasl_finish(srv);
	gsasl_done(ctx);
	smtprobe_sasl_free(s);
	return src;
}

static void test_round_trips(void **state)
{
	static const struct server_creds plain = {"pencil", NULL, NULL};
	/* RFC 7677's salt and iteration count for the SCRAM-SHA-256 run */
	static const struct server_creds rfc7677 = {
	        "pencil", "W22ZaJ0SNY7soEsUEjb6gQ==", "4096"};
	static const struct {
		unsigned mech;
		const char *name;
		const struct server_creds *creds;
		int mutual;
	} cases[] = {
	        {SMTPROBE_MECH_SCRAM_SHA_1, "SCRAM-SHA-1", &plain, 1},
	        {SMTPROBE_MECH_SCRAM_SHA_256, "SCRAM-SHA-256", &rfc7677, 1},
	        {SMTPROBE_MECH_CRAM_MD5, "CRAM-MD5", &plain, 0},
	        {SMTPROBE_MECH_DIGEST_MD5, "DIGEST-MD5", &plain, 0},
	        {SMTPROBE_MECH_PLAIN, "PLAIN", &plain, 0},
	        {SMTPROBE_MECH_LOGIN, "LOGIN", &plain, 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int verified = -1, rc;

		rc = round_trip(cases[i].mech, cases[i].name, "pencil",
		                cases[i].creds, &verified);
		if (rc != GSASL_OK)
			fail_msg("%s: server says %s", cases[i].name,
			         gsasl_strerror(rc));
		assert_int_equal(verified, cases[i].mutual);

		/* and the server does check: a wrong password fails */
		rc = round_trip(cases[i].mech, cases[i].name, "wrong",
		                cases[i].creds, &verified);
		if (rc == GSASL_OK)
			fail_msg("%s: wrong password accepted", cases[i].name);
		assert_false(verified);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_base64_table),
	        cmocka_unit_test(test_base64_limits),
	        cmocka_unit_test(test_plain),
	        cmocka_unit_test(test_login_two_steps),
	        cmocka_unit_test(test_cram_md5_rfc2195),
	        cmocka_unit_test(test_xoauth2),
	        cmocka_unit_test(test_oauthbearer),
	        cmocka_unit_test(test_ntlm_initial),
	        cmocka_unit_test(test_bad_challenges),
	        cmocka_unit_test(test_oversized_challenge),
	        cmocka_unit_test(test_new_errors),
	        cmocka_unit_test(test_call_order),
	        cmocka_unit_test(test_scram_reference_matches_rfc),
	        cmocka_unit_test(test_scram_vectors),
	        cmocka_unit_test(test_scram_hostile_server),
	        cmocka_unit_test(test_round_trips),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
