/* test_tls_hello.c - raw hello probes (lib/tlsscan/hello.c): the
 * ClientHello builder read back by a strict reader written apart from it
 * (tls_hello_reader.h), the server flight parser on real flights captured
 * from `openssl s_server` (tests/data/tls/, capture.py there) and on
 * synthetic ones for every error path, the group and DH group names
 * against OpenSSL's own constants.
 *
 * Every parser input is also fed cut at every byte, each prefix in a
 * buffer of exactly its size so that ASan catches a read past the end: a
 * prefix shorter than what decided the result is INCOMPLETE, a longer one
 * gives the same result and the same facts. Real flights are also
 * re-cut into records of other sizes (1 byte .. 16 KiB): the same facts. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include "hello.h"
#include "suites.h"
#include "tls_hello_reader.h"
#include "smtprobe/tls.h"

#include "banned.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define BIG      (256 * 1024)

/* ==== helpers ========================================================== */

static uint8_t *read_vector(const char *name, const char *ext, size_t *len)
{
	const char *dir = getenv("SMTPROBE_DATA");
	char path[1024];
	uint8_t *buf = malloc(BIG);
	FILE *fp;

	assert_non_null(dir);
	assert_non_null(buf);
	snprintf(path, sizeof(path), "%s/tls/%s%s", dir, name, ext);
	fp = fopen(path, "rb");
	if (fp == NULL)
		fail_msg("cannot read %s", path);
	*len = fread(buf, 1, BIG, fp);
	fclose(fp);
	return buf;
}

/* Parse buf and every prefix of it (each in a buffer of its own size);
 * the prefix rule of hello.h must hold. Returns the full result in out. */
static enum tlsh_result parse_all(const uint8_t *buf, size_t len,
                                  struct tlsh_server_flight *out,
                                  size_t *used_out)
{
	static struct tlsh_server_flight p;
	enum tlsh_result r, pr;
	size_t used, pused, k;

	r = tlsh_parse_server_flight(buf, len, out, &used);
	assert_true(r < TLSH_RESULT_LAST);
	assert_true(used <= len);
	if (r == TLSH_INCOMPLETE)
		assert_int_equal(used, 0);
	else
		assert_true(used > 0);
	if (r == TLSH_MALFORMED || r == TLSH_NOT_TLS)
		assert_non_null(out->reason);
	for (k = 0; k < len; k++) {
		uint8_t *cut;

		/* long inputs: near the ends and the deciding byte, and a
		 * sample between (a 64 KiB flight of tiny messages would
		 * take minutes byte by byte) */
		if (len > 20000 && k > 256 && k + 256 < len &&
		    (k + 256 < used || k > used + 256) && k % 251 != 0)
			continue;
		cut = malloc(k ? k : 1);

		assert_non_null(cut);
		memcpy(cut, buf, k);
		pr = tlsh_parse_server_flight(cut, k, &p, &pused);
		free(cut);
		if (r == TLSH_INCOMPLETE || k < used) {
			if (pr != TLSH_INCOMPLETE)
				fail_msg("prefix %zu of %zu (used %zu): %s, "
				         "not incomplete (%s)",
				         k, len, used, tlsh_result_name(pr),
				         p.reason ? p.reason : "");
			assert_int_equal(pused, 0);
		} else {
			if (pr != r)
				fail_msg("prefix %zu of %zu: %s, not %s", k,
				         len, tlsh_result_name(pr),
				         tlsh_result_name(r));
			assert_int_equal(pused, used);
			assert_memory_equal(&p, out, sizeof(p));
		}
	}
	if (used_out != NULL)
		*used_out = used;
	return r;
}

static void expect_malformed(const uint8_t *buf, size_t len, const char *reason)
{
	static struct tlsh_server_flight f;
	enum tlsh_result r = parse_all(buf, len, &f, NULL);

	if (r != TLSH_MALFORMED)
		fail_msg("%s: got %s", reason, tlsh_result_name(r));
	assert_string_equal(f.reason, reason);
}

/* Copy in to out with every run of handshake records re-cut into records
 * of size bytes (other records as they are). Returns out's length. */
static size_t recut(const uint8_t *in, size_t len, size_t size, uint8_t *out)
{
	static uint8_t stream[BIG];
	size_t p = 0, o = 0, s = 0, i;
	uint16_t ver = 0x0303;

	for (;;) {
		size_t rlen =
		        p + 5 <= len ? (size_t)in[p + 3] << 8 | in[p + 4] : 0;
		int hs = p + 5 <= len && in[p] == 22 && p + 5 + rlen <= len;

		if (!hs && s > 0) { /* flush the handshake stream */
			for (i = 0; i < s; i += size) {
				size_t n = s - i < size ? s - i : size;

				out[o++] = 22;
				out[o++] = (uint8_t)(ver >> 8);
				out[o++] = (uint8_t)ver;
				out[o++] = (uint8_t)(n >> 8);
				out[o++] = (uint8_t)n;
				memcpy(out + o, stream + i, n);
				o += n;
			}
			s = 0;
		}
		if (p >= len)
			break;
		if (hs) {
			ver = (uint16_t)(in[p + 1] << 8 | in[p + 2]);
			memcpy(stream + s, in + p + 5, rlen);
			s += rlen;
			p += 5 + rlen;
		} else { /* the rest as it is */
			memcpy(out + o, in + p, len - p);
			o += len - p;
			break;
		}
	}
	return o;
}

/* ==== real flights ===================================================== */

struct vec {
	const char *name;
	const char *args; /* tests/data/tls/capture.py's tls_hello words */
	enum tlsh_result result;
	uint16_t record_version, version, suite;
	unsigned exts;
	int reneg_len;
	int sid_len;
	enum tlsh_downgrade downgrade;
	size_t ncerts;
	enum tlsh_ske ske;
	uint16_t ec_curve;
	unsigned dh_bits;
	const char *dh_group;
	int sigalg;
	uint16_t ks_group, ks_len;
	uint8_t alert_desc;
};

#define E_RENEG TLSH_EXT_RENEG_INFO
#define E_ECPF  TLSH_EXT_EC_POINT_FORMATS
#define E_EMS   TLSH_EXT_EMS
#define E_TKT   TLSH_EXT_SESSION_TICKET
#define E_ETM   TLSH_EXT_ETM
#define E_SR    TLSH_EXT_STATUS_REQUEST
#define E_13    (TLSH_EXT_SUPPORTED_VERSIONS | TLSH_EXT_KEY_SHARE)
#define ALL13                                                                  \
	"suites=TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384,"                \
	"TLS_CHACHA20_POLY1305_SHA256"
#define SH TLSH_SERVER_HELLO
#define V12(name, args, suite, exts, reneg, sid, ncerts, ske, curve, bits,     \
            group, sigalg)                                                     \
	{                                                                      \
		name, args, SH, 0x0303, 0x0303, suite, exts, reneg, sid,       \
		        TLSH_DOWNGRADE_NONE, ncerts, ske, curve, bits, group,  \
		        sigalg, 0, 0, 0                                        \
	}
#define V13(name, args, sid, group, len)                                       \
	{                                                                      \
		name, args, SH, 0x0303, 0x0304, 0x1301, E_13, -1, sid,         \
		        TLSH_DOWNGRADE_NONE, 0, TLSH_SKE_NONE, 0, 0, NULL, -1, \
		        group, len, 0                                          \
	}
#define ALERT(name, args, desc)                                                \
	{                                                                      \
		name, args, TLSH_ALERT, 0, 0, 0, 0, -1, 0,                     \
		        TLSH_DOWNGRADE_NONE, 0, TLSH_SKE_NONE, 0, 0, NULL, -1, \
		        0, 0, desc                                             \
	}

static const struct vec vecs[] = {
        V12("tls12_ecdhe_rsa",
            "tls1_2 groups=x25519,P-256,P-384 sni=mx.example.test "
            "reneg-info ems ticket etm",
            0xC02F, E_RENEG | E_ECPF | E_TKT | E_EMS, 0, 0, 1, TLSH_SKE_ECDHE,
            TLSH_GROUP_X25519, 0, NULL, 0x0804),
        V12("tls12_ecdhe_p384", "tls1_2 groups=P-384 reneg-info etm", 0xC028,
            E_RENEG | E_ECPF | E_ETM, 0, 32, 1, TLSH_SKE_ECDHE,
            TLSH_GROUP_SECP384R1, 0, NULL, 0x0804),
        V12("tls12_ecdhe_ecdsa", "tls1_2 groups=P-256 reneg-info ems", 0xC009,
            E_RENEG | E_ECPF | E_EMS, 0, 32, 1, TLSH_SKE_ECDHE,
            TLSH_GROUP_SECP256R1, 0, NULL, 0x0403),
        V12("tls12_dhe_ffdhe2048", "tls1_2 reneg-info ems ticket etm", 0x009F,
            E_RENEG | E_TKT | E_EMS, 0, 0, 1, TLSH_SKE_DHE, 0, 2048,
            "ffdhe2048", 0x0804),
        V12("tls12_dhe_custom1024", "tls1_2 reneg-info deflate", 0x0033,
            E_RENEG, 0, 32, 1, TLSH_SKE_DHE, 0, 1024, NULL, 0x0804),
        V12("tls12_rsa_certreq",
            "tls1_2 suites=AES128-SHA,AES256-SHA "
            "reneg-scsv",
            0x002F, E_RENEG, 0, 32, 1, TLSH_SKE_NONE, 0, 0, NULL, -1),
        V12("tls12_ocsp", "tls1_2 groups=x25519 status reneg-info", 0xC02F,
            E_RENEG | E_ECPF | E_SR, 0, 32, 1, TLSH_SKE_ECDHE,
            TLSH_GROUP_X25519, 0, NULL, 0x0804),
        V12("tls12_long_chain", "tls1_2 groups=x25519", 0xC02F, E_ECPF, -1, 32,
            13, TLSH_SKE_ECDHE, TLSH_GROUP_X25519, 0, NULL, 0x0804),
        {"tls10_downgrade", "tls1 groups=x25519,P-256 reneg-info", SH, 0x0301,
         0x0301, 0x002F, E_RENEG, 0, 32, TLSH_DOWNGRADE_TLS11, 1, TLSH_SKE_NONE,
         0, 0, NULL, -1, 0, 0, 0},
        {"tls12_downgrade", "tls1_2 groups=x25519 reneg-info ems", SH, 0x0303,
         0x0303, 0x002F, E_RENEG | E_EMS, 0, 32, TLSH_DOWNGRADE_TLS12, 1,
         TLSH_SKE_NONE, 0, 0, NULL, -1, 0, 0, 0},
        V13("tls13_x25519",
            "tls1_3 " ALL13 " groups=x25519,P-256 shares=x25519 session-id "
            "sni=mx.example.test",
            32, TLSH_GROUP_X25519, 32),
        V13("tls13_p256", "tls1_3 " ALL13 " groups=P-256 tls12-too", 0,
            TLSH_GROUP_SECP256R1, 65),
        V13("tls13_p384", "tls1_3 " ALL13 " groups=P-384", 0,
            TLSH_GROUP_SECP384R1, 97),
        V13("tls13_p521", "tls1_3 " ALL13 " groups=P-521", 0,
            TLSH_GROUP_SECP521R1, 133),
        V13("tls13_x448", "tls1_3 " ALL13 " groups=x448", 0, TLSH_GROUP_X448,
            56),
        V13("tls13_ffdhe2048", "tls1_3 " ALL13 " groups=ffdhe2048", 0,
            TLSH_GROUP_FFDHE2048, 256),
        V13("tls13_ffdhe8192", "tls1_3 " ALL13 " groups=ffdhe8192", 0,
            TLSH_GROUP_FFDHE8192, 1024),
        {"tls13_hrr",
         "tls1_3 " ALL13 " groups=x25519,P-256 shares=x25519 session-id",
         TLSH_HELLO_RETRY, 0x0303, 0x0304, 0x1301, E_13, -1, 32,
         TLSH_DOWNGRADE_NONE, 0, TLSH_SKE_NONE, 0, 0, NULL, -1,
         TLSH_GROUP_SECP256R1, 0, 0},
        ALERT("alert_handshake_failure",
              "tls1_2 suites=CAMELLIA128-SHA,SEED-SHA", 40),
        ALERT("alert_protocol_version", "tls1", 70),
        ALERT("alert_ssl3", "ssl3", 40),
        ALERT("alert_fallback", "tls1_2 groups=x25519 fallback", 86),
        {"220_text", NULL, TLSH_NOT_TLS, 0, 0, 0, 0, -1, 0, TLSH_DOWNGRADE_NONE,
         0, TLSH_SKE_NONE, 0, 0, NULL, -1, 0, 0, 0},
};

/* The hello we sent is what the builder makes of the same words. */
static void check_sent_hello(const struct vec *v)
{
	uint8_t built[TLSH_MAX_HELLO];
	char words[512], *argv[32], *save = NULL, *w;
	int argc = 0;
	size_t len;
	long n;
	uint8_t *sent = read_vector(v->name, ".hello", &len);
	struct tlst_hello h;

	snprintf(words, sizeof(words), "%s", v->args);
	for (w = strtok_r(words, " ", &save); w != NULL && argc < 32;
	     w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	n = tlst_build_args(argc, argv, built, sizeof(built));
	assert_true(n > 0);
	assert_int_equal((size_t)n, len);
	assert_memory_equal(built, sent, len);
	assert_int_equal(tlst_read_hello(built, (size_t)n, &h), 0);
	free(sent);
}

/* The leaf is one DER SEQUENCE of the length the list gave. */
static void check_der(const uint8_t *der, size_t len)
{
	size_t hl, l;

	assert_true(len > 4);
	assert_int_equal(der[0], 0x30);
	if (der[1] == 0x82) {
		hl = 4;
		l = (size_t)der[2] << 8 | der[3];
	} else {
		assert_int_equal(der[1], 0x81);
		hl = 3;
		l = der[2];
	}
	assert_int_equal(hl + l, len);
}

static void check_vector(const struct vec *v, const uint8_t *buf, size_t len,
                         const struct tlsh_server_flight *f, enum tlsh_result r)
{
	size_t i;

	if (r != v->result)
		fail_msg("%s: %s (%s)", v->name, tlsh_result_name(r),
		         f->reason ? f->reason : "");
	if (r == TLSH_ALERT) {
		assert_int_equal(f->alert_level, 2);
		assert_int_equal(f->alert_desc, v->alert_desc);
		assert_non_null(smtprobe_tls_alert_name(f->alert_desc));
		assert_false(f->hello_seen);
		return;
	}
	if (r == TLSH_NOT_TLS) {
		assert_false(f->hello_seen);
		return;
	}
	assert_true(f->hello_seen);
	assert_int_equal(f->done, r == TLSH_SERVER_HELLO);
	assert_int_equal(f->record_version, v->record_version);
	assert_int_equal(f->version, v->version);
	assert_int_equal(f->legacy_version,
	                 v->version == 0x0304 ? 0x0303 : v->version);
	assert_int_equal(f->suite, v->suite);
	assert_non_null(tlss_suite_by_id(f->suite));
	assert_int_equal(f->compression, 0);
	assert_int_equal(f->exts, v->exts);
	assert_int_equal(f->reneg_len, v->reneg_len);
	assert_int_equal(f->session_id_len, v->sid_len);
	assert_int_equal(f->downgrade, v->downgrade);
	assert_int_equal(f->ncerts, v->ncerts);
	assert_int_equal(f->certs_over, v->ncerts > TLSH_MAX_CERTS);
	assert_int_equal(f->ske, v->ske);
	assert_int_equal(f->ec_curve, v->ec_curve);
	if (v->ske == TLSH_SKE_ECDHE) {
		assert_int_equal(f->ec_curve_type, 3);
		assert_int_equal(f->ec_point_len,
		                 v->ec_curve == TLSH_GROUP_X25519      ? 32
		                 : v->ec_curve == TLSH_GROUP_SECP256R1 ? 65
		                                                       : 97);
	}
	assert_int_equal(f->dh_bits, v->dh_bits);
	if (v->ske == TLSH_SKE_DHE) {
		const char *g = tlsh_dh_group_name(f->dh_p, f->dh_plen);

		if (v->dh_group == NULL)
			assert_null(g);
		else
			assert_string_equal(g, v->dh_group);
		assert_int_equal(f->dh_glen, 1);
		assert_int_equal(f->dh_g[0], 2);
		assert_int_equal(f->dh_ys_len, v->dh_bits / 8);
	}
	assert_int_equal(f->ske_sigalg, v->sigalg);
	assert_int_equal(f->key_share_group, v->ks_group);
	assert_int_equal(f->key_share_len, v->ks_len);
	assert_int_equal(f->cert_request,
	                 strcmp(v->name, "tls12_rsa_certreq") == 0);
	assert_int_equal(f->ocsp_stapled, strcmp(v->name, "tls12_ocsp") == 0);
	if (f->ocsp_stapled)
		assert_true(f->ocsp_len > 100);
	for (i = 0; i < f->ncerts && i < TLSH_MAX_CERTS; i++) {
		const struct tlsh_cert *c = &f->certs[i];
		uint8_t *der = malloc(c->len);

		assert_non_null(der);
		assert_int_equal(
		        tlsh_flight_copy(buf, len, c->stream_off, der, c->len),
		        c->len);
		check_der(der, c->len);
		if (c->in_buf) {
			assert_true(c->off + c->len <= len);
			assert_memory_equal(buf + c->off, der, c->len);
		}
		free(der);
	}
}

/* Facts that do not depend on how records cut the stream. */
static void without_positions(struct tlsh_server_flight *f)
{
	size_t i;

	for (i = 0; i < TLSH_MAX_CERTS; i++) {
		f->certs[i].off = 0;
		f->certs[i].in_buf = 0;
	}
}

static void test_real_flights(void **state)
{
	static const size_t sizes[] = {1, 2, 3, 5, 64, 1000, 16384};
	static struct tlsh_server_flight f, g;
	static uint8_t cut[BIG * 7];
	size_t i, k, len, used, clen;

	(void)state;
	for (i = 0; i < NELEM(vecs); i++) {
		const struct vec *v = &vecs[i];
		uint8_t *buf = read_vector(v->name, ".bin", &len);
		enum tlsh_result r;

		if (v->args != NULL)
			check_sent_hello(v);
		r = parse_all(buf, len, &f, &used);
		check_vector(v, buf, len, &f, r);
		if (r == TLSH_NOT_TLS) {
			free(buf);
			continue;
		}
		for (k = 0; k < NELEM(sizes); k++) {
			size_t j;

			clen = recut(buf, len, sizes[k], cut);
			r = tlsh_parse_server_flight(cut, clen, &g, NULL);
			check_vector(v, cut, clen, &g, r);
			for (j = 0; j < g.ncerts && j < TLSH_MAX_CERTS; j++)
				if (sizes[k] < 100)
					assert_false(g.certs[j].in_buf);
			without_positions(&g);
			memcpy(&f.certs, &g.certs, sizeof(f.certs));
			assert_memory_equal(&f, &g, sizeof(f));
			tlsh_parse_server_flight(buf, len, &f, NULL);
		}
		/* cut at every byte again, in small records */
		if (len < 2000) {
			clen = recut(buf, len, 7, cut);
			r = parse_all(cut, clen, &g, NULL);
			check_vector(v, cut, clen, &g, r);
		}
		free(buf);
	}
}

/* ==== synthetic flights ================================================ */

struct fl {
	uint8_t b[90000];
	size_t n;
};

static void put(struct fl *f, const void *p, size_t n)
{
	assert_true(f->n + n <= sizeof(f->b));
	memcpy(f->b + f->n, p, n);
	f->n += n;
}

static void record(struct fl *f, uint8_t type, uint16_t ver, const void *p,
                   size_t n)
{
	uint8_t h[5] = {type, (uint8_t)(ver >> 8), (uint8_t)ver,
	                (uint8_t)(n >> 8), (uint8_t)n};

	put(f, h, 5);
	put(f, p, n);
}

/* A handshake message: type, 24-bit length, body. */
static size_t msg(uint8_t *out, uint8_t type, const void *body, size_t n)
{
	out[0] = type;
	out[1] = (uint8_t)(n >> 16);
	out[2] = (uint8_t)(n >> 8);
	out[3] = (uint8_t)n;
	if (n > 0)
		memcpy(out + 4, body, n);
	return 4 + n;
}

/* A ServerHello body: version, random (0x11..), sid, suite, null
 * compression, then exts (with its 2-byte length, or none when
 * exts == NULL). */
static size_t sh_body(uint8_t *out, uint16_t ver, const uint8_t *random,
                      uint8_t sid, uint16_t suite, const uint8_t *exts,
                      size_t elen)
{
	size_t n = 0, i;

	out[n++] = (uint8_t)(ver >> 8);
	out[n++] = (uint8_t)ver;
	for (i = 0; i < 32; i++)
		out[n++] = random ? random[i] : (uint8_t)(0x11 + i);
	out[n++] = sid;
	for (i = 0; i < sid; i++)
		out[n++] = 0xEE;
	out[n++] = (uint8_t)(suite >> 8);
	out[n++] = (uint8_t)suite;
	out[n++] = 0;
	if (exts != NULL) {
		out[n++] = (uint8_t)(elen >> 8);
		out[n++] = (uint8_t)elen;
		memcpy(out + n, exts, elen);
		n += elen;
	}
	return n;
}

/* A whole TLS 1.2 hello record with these extensions (the ServerHello
 * alone), and one with ServerHelloDone after it. */
static void sh_record(struct fl *f, uint16_t suite, const uint8_t *exts,
                      size_t elen, int done)
{
	uint8_t body[2048], m[2100];
	size_t n = sh_body(body, 0x0303, NULL, 0, suite, exts, elen);
	size_t mn = msg(m, 2, body, n);

	if (done)
		mn += msg(m + mn, 14, NULL, 0);
	record(f, 22, 0x0303, m, mn);
}

static const uint8_t hrr_random[32] = {
        0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c,
        0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb,
        0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

static void test_not_tls(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		enum tlsh_result want;
		size_t used;
	} cases[] = {
	        {"220 mx.example.test ESMTP\r\n", 0, TLSH_NOT_TLS, 1},
	        {"500 5.5.1 command unrecognized\r\n", 0, TLSH_NOT_TLS, 1},
	        {"HTTP/1.1 400 Bad Request\r\n", 0, TLSH_NOT_TLS, 1},
	        {"\x80\x2e\x04\x00\x01", 5, TLSH_NOT_TLS, 1}, /* SSLv2 */
	        {"\x16\x02\x00\x00\x10", 5, TLSH_NOT_TLS, 2},
	        {"\x16\x03\x05\x00\x10", 5, TLSH_NOT_TLS, 3},
	        {"\x13\x03\x03\x00\x02", 5, TLSH_NOT_TLS, 1},
	        {"\x19\x03\x03\x00\x02", 5, TLSH_NOT_TLS, 1},
	        {"", 0, TLSH_INCOMPLETE, 0},
	        {"\x16", 1, TLSH_INCOMPLETE, 0},
	        {"\x16\x03\x03\x00", 4, TLSH_INCOMPLETE, 0},
	        {"\x15\x03\x01\x00\x02\x02", 6, TLSH_INCOMPLETE, 0},
	};
	static struct tlsh_server_flight f;
	size_t i, used;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].in);
		enum tlsh_result r =
		        parse_all((const uint8_t *)cases[i].in, len, &f, &used);

		assert_int_equal(r, cases[i].want);
		assert_int_equal(used, cases[i].used);
	}
	assert_int_equal(tlsh_parse_server_flight(NULL, 10, &f, &used),
	                 TLSH_INCOMPLETE);
	assert_int_equal(
	        tlsh_parse_server_flight((const uint8_t *)"x", 1, NULL, &used),
	        TLSH_MALFORMED);
	assert_int_equal(
	        tlsh_parse_server_flight((const uint8_t *)"220 ", 4, &f, NULL),
	        TLSH_NOT_TLS);
}

static void test_alerts(void **state)
{
	static struct fl f;
	static struct tlsh_server_flight o;
	uint8_t m[512];
	size_t n;

	(void)state;
	/* an SSLv3 alert record instead of a hello */
	f.n = 0;
	record(&f, 21, 0x0300, "\x02\x28", 2);
	assert_int_equal(parse_all(f.b, f.n, &o, NULL), TLSH_ALERT);
	assert_int_equal(o.record_version, 0x0300);
	assert_int_equal(o.alert_desc, 40);
	/* two alerts in one record: the first tells */
	f.n = 0;
	record(&f, 21, 0x0303, "\x02\x46\x01\x00", 4);
	assert_int_equal(parse_all(f.b, f.n, &o, NULL), TLSH_ALERT);
	assert_int_equal(o.alert_desc, 70);
	/* a warning close_notify ends it too */
	f.n = 0;
	record(&f, 21, 0x0303, "\x01\x00", 2);
	assert_int_equal(parse_all(f.b, f.n, &o, NULL), TLSH_ALERT);
	assert_int_equal(o.alert_level, 1);
	assert_int_equal(o.alert_desc, 0);
	/* a warning unrecognized_name is passed over */
	f.n = 0;
	record(&f, 21, 0x0303, "\x01\x70", 2);
	sh_record(&f, 0xC02F, NULL, 0, 1);
	assert_int_equal(parse_all(f.b, f.n, &o, NULL), TLSH_SERVER_HELLO);
	assert_true(o.warning_112 && o.done);
	/* a fatal alert after the ServerHello keeps what came */
	f.n = 0;
	sh_record(&f, 0xC02F, NULL, 0, 0);
	record(&f, 21, 0x0303, "\x02\x50", 2);
	assert_int_equal(parse_all(f.b, f.n, &o, NULL), TLSH_ALERT);
	assert_true(o.hello_seen);
	assert_int_equal(o.suite, 0xC02F);
	assert_int_equal(o.alert_desc, 80);
	/* an alert inside a message split over records */
	f.n = 0;
	sh_record(&f, 0xC02F, NULL, 0, 0);
	n = msg(m, 11, "\x00\x00\x05\x00\x00\x02\x30\x00", 8);
	record(&f, 22, 0x0303, m, 6);
	record(&f, 21, 0x0303, "\x02\x0a", 2);
	record(&f, 22, 0x0303, m + 6, n - 6);
	assert_int_equal(parse_all(f.b, f.n, &o, NULL), TLSH_ALERT);
	assert_int_equal(o.ncerts, 0); /* not a whole message */
	/* broken alerts */
	f.n = 0;
	record(&f, 21, 0x0303, "\x02", 1);
	expect_malformed(f.b, f.n, "short alert");
	f.n = 0;
	record(&f, 21, 0x0303, "\x03\x28", 2);
	expect_malformed(f.b, f.n, "bad alert level");
}

static void test_server_hello_extensions(void **state)
{
	static struct fl f;
	static struct tlsh_server_flight o;
	uint8_t e[2048];
	size_t n = 0, i;

	(void)state;
	/* ALPN "smtp", heartbeat, empty server_name, an unknown one,
	 * renegotiation_info with 24 bytes (a renegotiation), ETM */
	memcpy(e + n, "\x00\x10\x00\x07\x00\x05\x04smtp", 11);
	n += 11;
	memcpy(e + n, "\x00\x0f\x00\x01\x01", 5);
	n += 5;
	memcpy(e + n, "\x00\x00\x00\x00", 4);
	n += 4;
	memcpy(e + n, "\x12\x34\x00\x02\xab\xcd", 6);
	n += 6;
	memcpy(e + n, "\xff\x01\x00\x19\x18", 5);
	n += 5;
	memset(e + n, 0x55, 24);
	n += 24;
	memcpy(e + n, "\x00\x16\x00\x00", 4);
	n += 4;
	f.n = 0;
	sh_record(&f, 0xC02F, e, n, 1);
	assert_int_equal(parse_all(f.b, f.n, &o, NULL), TLSH_SERVER_HELLO);
	assert_string_equal(o.alpn, "smtp");
	assert_int_equal(o.heartbeat_mode, 1);
	assert_int_equal(o.reneg_len, 24);
	assert_int_equal(o.exts, TLSH_EXT_ALPN | TLSH_EXT_HEARTBEAT |
	                                 TLSH_EXT_SERVER_NAME | TLSH_EXT_OTHER |
	                                 TLSH_EXT_RENEG_INFO | TLSH_EXT_ETM);
	assert_int_equal(o.next_types, 6);
	assert_int_equal(o.ext_types[3], 0x1234);
	assert_false(o.ext_types_over);
	/* more extension types than are listed */
	n = 0;
	for (i = 0; i < TLSH_MAX_EXTS + 5; i++) {
		e[n++] = 0x40;
		e[n++] = (uint8_t)i;
		e[n++] = 0;
		e[n++] = 0;
	}
	f.n = 0;
	sh_record(&f, 0xC02F, e, n, 1);
	assert_int_equal(parse_all(f.b, f.n, &o, NULL), TLSH_SERVER_HELLO);
	assert_int_equal(o.next_types, TLSH_MAX_EXTS);
	assert_true(o.ext_types_over);
	/* no extensions at all, SSLv3: a record of version 0x0300 */
	f.n = 0;
	{
		uint8_t body[128], m[256];
		size_t bn = sh_body(body, 0x0300, NULL, 32, 0x000A, NULL, 0);
		size_t mn = msg(m, 2, body, bn);

		mn += msg(m + mn, 14, NULL, 0);
		record(&f, 22, 0x0300, m, mn);
	}
	assert_int_equal(parse_all(f.b, f.n, &o, NULL), TLSH_SERVER_HELLO);
	assert_int_equal(o.version, 0x0300);
	assert_int_equal(o.record_version, 0x0300);
	assert_int_equal(o.exts, 0);
	assert_int_equal(o.reneg_len, -1);
	assert_int_equal(o.session_id_len, 32);
	/* TLS 1.3: done at the ServerHello, whatever follows */
	f.n = 0;
	{
		uint8_t body[256], m[300];
		static const uint8_t ext13[] = {
		        0x00, 0x2b, 0x00, 0x02, 0x03, 0x04, 0x00, 0x33,
		        0x00, 0x06, 0x00, 0x1d, 0x00, 0x02, 0xaa, 0xbb};
		size_t bn = sh_body(body, 0x0303, NULL, 0, 0x1302, ext13,
		                    sizeof(ext13));
		size_t mn = msg(m, 2, body, bn);

		record(&f, 22, 0x0303, m, mn);
		record(&f, 23, 0x0303, "garbage", 7);
	}
	assert_int_equal(parse_all(f.b, f.n, &o, NULL), TLSH_SERVER_HELLO);
	assert_int_equal(o.version, 0x0304);
	assert_int_equal(o.key_share_group, 29);
	assert_int_equal(o.key_share_len, 2);
	/* a HelloRetryRequest with a cookie */
	f.n = 0;
	{
		uint8_t body[256], m[300];
		static const uint8_t exth[] = {0x00, 0x2b, 0x00, 0x02, 0x03,
		                               0x04, 0x00, 0x33, 0x00, 0x02,
		                               0x00, 0x18, 0x00, 0x2c, 0x00,
		                               0x04, 0x00, 0x02, 0xc0, 0x0c};
		size_t bn = sh_body(body, 0x0303, hrr_random, 0, 0x1301, exth,
		                    sizeof(exth));
		size_t mn = msg(m, 2, body, bn);

		record(&f, 22, 0x0303, m, mn);
	}
	assert_int_equal(parse_all(f.b, f.n, &o, NULL), TLSH_HELLO_RETRY);
	assert_int_equal(o.key_share_group, 24);
	assert_true(o.exts & TLSH_EXT_COOKIE);
	assert_int_equal(o.downgrade, TLSH_DOWNGRADE_NONE);
	assert_false(o.done);
}

/* A flight: ServerHello (suite), then the given messages, in one record
 * or one record per message. */
static void flight(struct fl *f, uint16_t suite, const uint8_t *msgs, size_t n)
{
	f->n = 0;
	sh_record(f, suite, NULL, 0, 0);
	if (n > 0)
		record(f, 22, 0x0303, msgs, n);
}

static void test_flight_messages(void **state)
{
	static struct fl f;
	static struct tlsh_server_flight o;
	static uint8_t m[40000], bb[20000];
	size_t n, i;

	(void)state;
	/* ChangeCipherSpec after the ServerHello: an abbreviated handshake */
	flight(&f, 0xC02F, NULL, 0);
	record(&f, 20, 0x0303, "\x01", 1);
	assert_int_equal(parse_all(f.b, f.n, &o, NULL), TLSH_SERVER_HELLO);
	assert_true(o.ccs && o.done);
	/* HelloRequest before the ServerHello is passed over */
	f.n = 0;
	record(&f, 22, 0x0303, "\x00\x00\x00\x00", 4);
	sh_record(&f, 0xC02F, NULL, 0, 1);
	assert_int_equal(parse_all(f.b, f.n, &o, NULL), TLSH_SERVER_HELLO);
	/* the 4-byte header of a message split over two records */
	{
		uint8_t b2[256], mm[300];
		size_t bn = sh_body(b2, 0x0303, NULL, 0, 0x002F, NULL, 0);
		size_t mn = msg(mm, 2, b2, bn);

		mn += msg(mm + mn, 14, NULL, 0);
		f.n = 0;
		record(&f, 22, 0x0303, mm, 2);
		record(&f, 22, 0x0303, mm + 2, 1);
		record(&f, 22, 0x0303, mm + 3, mn - 3);
		assert_int_equal(parse_all(f.b, f.n, &o, NULL),
		                 TLSH_SERVER_HELLO);
		assert_int_equal(o.suite, 0x002F);
	}
	/* CertificateStatus, CertificateRequest */
	n = msg(m, 22, "\x01\x00\x00\x03\xaa\xbb\xcc", 7);
	n += msg(m + n, 13, "\x01\x01\x00\x00", 4);
	n += msg(m + n, 14, NULL, 0);
	flight(&f, 0x002F, m, n);
	assert_int_equal(parse_all(f.b, f.n, &o, NULL), TLSH_SERVER_HELLO);
	assert_true(o.ocsp_stapled && o.cert_request);
	assert_int_equal(o.ocsp_len, 3);
	/* DHE with a prime over TLSH_MAX_DH bytes: measured, not copied */
	{
		size_t k = 0;

		bb[k++] = 0x04;
		bb[k++] = 0x4c; /* p: 1100 bytes */
		memset(bb + k, 0xC5, 1100);
		k += 1100;
		memcpy(bb + k, "\x00\x01\x02\x00\x02\x12\x34", 7);
		k += 7;
		n = msg(m, 12, bb, k);
	}
	n += msg(m + n, 14, NULL, 0);
	flight(&f, 0x0033, m, n);
	assert_int_equal(parse_all(f.b, f.n, &o, NULL), TLSH_SERVER_HELLO);
	assert_int_equal(o.ske, TLSH_SKE_DHE);
	assert_int_equal(o.dh_plen, 1100);
	assert_int_equal(o.dh_bits, 8800);
	assert_int_equal(o.dh_ys_len, 2);
	assert_int_equal(o.ske_sigalg, -1); /* no signature left */
	/* DHE with a leading zero byte on a well-known prime */
	{
		size_t k = 0;
		uint8_t *p = bb;
		BIGNUM *bn = BN_get_rfc3526_prime_2048(NULL);

		p[k++] = 0x01;
		p[k++] = 0x01; /* 257 bytes */
		p[k++] = 0;
		BN_bn2bin(bn, p + k);
		BN_free(bn);
		k += 256;
		memcpy(p + k, "\x00\x01\x05\x00\x01\x07\x04\x01\x00\x00", 10);
		k += 10;
		n = msg(m, 12, p, k);
		n += msg(m + n, 14, NULL, 0);
	}
	flight(&f, 0x009E, m, n);
	assert_int_equal(parse_all(f.b, f.n, &o, NULL), TLSH_SERVER_HELLO);
	assert_int_equal(o.dh_bits, 2048);
	assert_int_equal(o.dh_g[0], 5);
	assert_string_equal(tlsh_dh_group_name(o.dh_p, o.dh_plen), "modp_2048");
	assert_int_equal(o.ske_sigalg, 0x0401);
	/* DHE-PSK: an identity hint first, no signature */
	n = msg(m, 12,
	        "\x00\x03hin"
	        "\x00\x01\x17\x00\x01\x02\x00\x01\x09",
	        14);
	n += msg(m + n, 14, NULL, 0);
	flight(&f, 0x0090, m, n);
	assert_int_equal(parse_all(f.b, f.n, &o, NULL), TLSH_SERVER_HELLO);
	assert_int_equal(o.ske, TLSH_SKE_DHE);
	assert_int_equal(o.dh_bits, 5);
	assert_int_equal(o.ske_sigalg, -1);
	/* ECDHE with an explicit curve: noted, not parsed */
	n = msg(m, 12, "\x01\x00\x00\x00", 4);
	n += msg(m + n, 14, NULL, 0);
	flight(&f, 0xC02F, m, n);
	assert_int_equal(parse_all(f.b, f.n, &o, NULL), TLSH_SERVER_HELLO);
	assert_int_equal(o.ske, TLSH_SKE_ECDHE);
	assert_int_equal(o.ec_curve_type, 1);
	assert_int_equal(o.ec_curve, 0);
	/* RSA export and unknown suites: a ServerKeyExchange, not parsed */
	n = msg(m, 12, "\x00\x01\x05\x00\x01\x03", 6);
	n += msg(m + n, 14, NULL, 0);
	flight(&f, 0x0003, m, n);
	assert_int_equal(parse_all(f.b, f.n, &o, NULL), TLSH_SERVER_HELLO);
	assert_int_equal(o.ske, TLSH_SKE_OTHER);
	flight(&f, 0x0A0A, m, n);
	assert_int_equal(parse_all(f.b, f.n, &o, NULL), TLSH_SERVER_HELLO);
	assert_int_equal(o.ske, TLSH_SKE_OTHER);
	/* certificates past the cap are counted */
	{
		uint8_t *p = bb;
		size_t k = 3;

		for (i = 0; i < 40; i++) {
			memcpy(p + k, "\x00\x00\x04\x30\x02\x05\x00", 7);
			k += 7;
		}
		p[0] = 0;
		p[1] = (uint8_t)((k - 3) >> 8);
		p[2] = (uint8_t)(k - 3);
		n = msg(m, 11, p, k);
		n += msg(m + n, 14, NULL, 0);
	}
	flight(&f, 0x002F, m, n);
	assert_int_equal(parse_all(f.b, f.n, &o, NULL), TLSH_SERVER_HELLO);
	assert_int_equal(o.ncerts, 40);
	assert_true(o.certs_over);
	assert_int_equal(o.certs[TLSH_MAX_CERTS - 1].len, 4);
	/* an empty certificate list (anonymous servers send none at all) */
	n = msg(m, 11, "\x00\x00\x00", 3);
	n += msg(m + n, 14, NULL, 0);
	flight(&f, 0x002F, m, n);
	assert_int_equal(parse_all(f.b, f.n, &o, NULL), TLSH_SERVER_HELLO);
	assert_int_equal(o.ncerts, 0);
}

static void test_malformed(void **state)
{
	static struct fl f;
	static uint8_t m[70000];
	uint8_t body[512], e[64];
	size_t n, i;

	(void)state;
	memset(body, 0, sizeof(body));
	/* record layer */
	f.n = 0;
	record(&f, 22, 0x0303, "", 0);
	expect_malformed(f.b, f.n, "empty record");
	f.n = 0;
	put(&f, "\x16\x03\x03\x40\x01", 5);
	expect_malformed(f.b, f.n, "record too long");
	f.n = 0;
	record(&f, 23, 0x0303, "abc", 3);
	expect_malformed(f.b, f.n, "unexpected record type");
	f.n = 0;
	record(&f, 20, 0x0303, "\x01", 1);
	expect_malformed(f.b, f.n, "unexpected record type");
	f.n = 0;
	sh_record(&f, 0x002F, NULL, 0, 0);
	record(&f, 24, 0x0303, "\x01", 1);
	expect_malformed(f.b, f.n, "unexpected record type");
	f.n = 0;
	sh_record(&f, 0x002F, NULL, 0, 0);
	record(&f, 22, 0x0203, "\x0e\x00\x00\x00", 4);
	expect_malformed(f.b, f.n, "bad record version");
	f.n = 0;
	sh_record(&f, 0x002F, NULL, 0, 0);
	record(&f, 22, 0x0309, "\x0e\x00\x00\x00", 4);
	expect_malformed(f.b, f.n, "bad record version");
	f.n = 0;
	sh_record(&f, 0x002F, NULL, 0, 0);
	record(&f, 99, 0x0303, "\x0e\x00\x00\x00", 4);
	expect_malformed(f.b, f.n, "bad record type");
	/* a ChangeCipherSpec inside a message */
	f.n = 0;
	sh_record(&f, 0x002F, NULL, 0, 0);
	record(&f, 22, 0x0303, "\x0b\x00\x00\x09\x00", 5);
	record(&f, 20, 0x0303, "\x01", 1);
	expect_malformed(f.b, f.n, "unexpected record type");

	/* order */
	f.n = 0;
	record(&f, 22, 0x0303, "\x0e\x00\x00\x00", 4);
	expect_malformed(f.b, f.n, "expected server_hello");
	f.n = 0;
	record(&f, 22, 0x0303, "\x01\x00\x00\x00", 4);
	expect_malformed(f.b, f.n, "expected server_hello");
	f.n = 0;
	sh_record(&f, 0x002F, NULL, 0, 0);
	sh_record(&f, 0x002F, NULL, 0, 0);
	expect_malformed(f.b, f.n, "repeated handshake message");
	flight(&f, 0x002F, (const uint8_t *)"\x04\x00\x00\x00", 4);
	expect_malformed(f.b, f.n, "unexpected handshake message");
	flight(&f, 0x002F, (const uint8_t *)"\x63\x00\x00\x00", 4);
	expect_malformed(f.b, f.n, "unexpected handshake message");
	flight(&f, 0x002F, (const uint8_t *)"\x0e\x00\x00\x01\x00", 5);
	expect_malformed(f.b, f.n, "bad server_hello_done");
	f.n = 0;
	record(&f, 22, 0x0303, "\x00\x00\x00\x01\x00", 5);
	expect_malformed(f.b, f.n, "bad hello_request");

	/* sizes */
	f.n = 0;
	record(&f, 22, 0x0303, "\x02\x01\x00\x00", 4);
	expect_malformed(f.b, f.n, "too long");
	f.n = 0; /* 64 KiB of empty HelloRequests */
	memset(m, 0, 16384);
	for (i = 0; i < 5; i++)
		record(&f, 22, 0x0303, m, 16384);
	expect_malformed(f.b, f.n, "too long");

	/* ServerHello */
	n = sh_body(body, 0x0303, NULL, 0, 0x002F, NULL, 0);
	f.n = 0;
	record(&f, 22, 0x0303, m, msg(m, 2, body, 20));
	expect_malformed(f.b, f.n, "short server_hello");
	body[34] = 33;
	f.n = 0;
	record(&f, 22, 0x0303, m, msg(m, 2, body, n + 33));
	expect_malformed(f.b, f.n, "session id too long");
	f.n = 0;
	n = sh_body(body, 0x0303, NULL, 0, 0x002F, (const uint8_t *)"", 0);
	body[n - 1] = 4; /* extensions say 4 bytes, none follow */
	record(&f, 22, 0x0303, m, msg(m, 2, body, n));
	expect_malformed(f.b, f.n, "bad extensions length");
	{
		static const struct {
			const char *ext;
			size_t len;
			const char *reason;
		} bad_exts[] = {
		        {"\x00\x17\x00\x05\x00", 5, "bad extension length"},
		        {"\x00\x17\x00\x00\x00\x17\x00\x00", 8,
		         "duplicate extension"},
		        {"\x00\x2b\x00\x03\x03\x04\x00", 7,
		         "bad supported_versions"},
		        {"\x00\x33\x00\x04\x00\x1d\x00\x00", 8,
		         "bad key_share"},
		        {"\x00\x33\x00\x05\x00\x1d\x00\x02\x01", 9,
		         "bad key_share"},
		        {"\xff\x01\x00\x02\x05\x00", 6,
		         "bad renegotiation_info"},
		        {"\x00\x0b\x00\x03\x03\x00\x01", 7,
		         "bad ec_point_formats"},
		        {"\x00\x0b\x00\x01\x00", 5, "bad ec_point_formats"},
		        {"\x00\x10\x00\x05\x00\x04\x02"
		         "ab",
		         9, "bad alpn"},
		        {"\x00\x10\x00\x04\x00\x02\x00\x00", 8, "bad alpn"},
		        {"\x00\x0f\x00\x02\x01\x01", 6, "bad heartbeat"},
		        {"\x00\x10\x00\x01\x00", 5, "bad alpn"},
		};

		for (i = 0; i < NELEM(bad_exts); i++) {
			memcpy(e, bad_exts[i].ext, bad_exts[i].len);
			f.n = 0;
			sh_record(&f, 0x002F, e, bad_exts[i].len, 1);
			expect_malformed(f.b, f.n, bad_exts[i].reason);
		}
	}
	/* an HRR's key_share holds the group only */
	f.n = 0;
	n = sh_body(body, 0x0303, hrr_random, 0, 0x1301,
	            (const uint8_t *)"\x00\x33\x00\x04\x00\x17\x00\x00", 8);
	record(&f, 22, 0x0303, m, msg(m, 2, body, n));
	expect_malformed(f.b, f.n, "bad key_share");

	/* Certificate */
	flight(&f, 0x002F, (const uint8_t *)"\x0b\x00\x00\x04\x00\x00\x05\x00",
	       8);
	expect_malformed(f.b, f.n, "bad certificate list");
	flight(&f, 0x002F,
	       (const uint8_t *)"\x0b\x00\x00\x06\x00\x00\x03\x00\x00\x00", 10);
	expect_malformed(f.b, f.n, "bad certificate length");
	flight(&f, 0x002F,
	       (const uint8_t *)"\x0b\x00\x00\x07\x00\x00\x04\x00\x00\x05\x30",
	       11);
	expect_malformed(f.b, f.n, "bad certificate length");
	flight(&f, 0x002F, (const uint8_t *)"\x0b\x00\x00\x02\x00\x00", 6);
	expect_malformed(f.b, f.n, "bad certificate list");
	flight(&f, 0x002F,
	       (const uint8_t *)"\x16\x00\x00\x05\x01\x00\x00\x02\xaa", 9);
	expect_malformed(f.b, f.n, "bad certificate_status");

	/* ServerKeyExchange */
	{
		static const struct {
			uint16_t suite;
			const char *ske;
			size_t len;
		} bad_ske[] = {
		        {0x0033, "\x00\x00\x00\x01\x02\x00\x01\x05",
		         8},                                 /* p 0 */
		        {0x0033, "\x00\x09\xff", 3},         /* p overrun */
		        {0x0033, "\x00\x01\xff\x00\x05", 5}, /* g overrun */
		        {0x0033, "\x00\x01\xff\x00\x01\x02\x00\x09\x01", 9},
		        {0xC02F, "\x03\x00\x1d\x00", 4},     /* empty point */
		        {0xC02F, "\x03\x00\x1d\x20\x01", 5}, /* point overrun */
		        {0xC02F, "\x03\x00", 2},
		        {0x0090, "\x00\x05hi", 4}, /* hint overrun */
		};

		for (i = 0; i < NELEM(bad_ske); i++) {
			n = msg(m, 12, bad_ske[i].ske, bad_ske[i].len);
			flight(&f, bad_ske[i].suite, m, n);
			expect_malformed(f.b, f.n, "bad server_key_exchange");
		}
	}
}

/* Every byte of a real flight flipped: never a crash, and the prefix rule
 * still holds for a sample. */
static void test_flipped_bytes(void **state)
{
	static struct tlsh_server_flight o;
	size_t len, i;
	uint8_t *buf = read_vector("tls12_dhe_custom1024", ".bin", &len);

	(void)state;
	for (i = 0; i < len; i++) {
		uint8_t *copy = malloc(len);
		size_t used;

		assert_non_null(copy);
		memcpy(copy, buf, len);
		copy[i] ^= 0xff;
		if (i % 97 == 0)
			parse_all(copy, len, &o, &used);
		else
			tlsh_parse_server_flight(copy, len, &o, &used);
		assert_true(used <= len);
		free(copy);
	}
	free(buf);
}

/* ==== the builder ===================================================== */

static uint8_t rnd[32], sid[32], x25519[32], x448[56];

static struct tlsh_client_hello base(uint16_t version)
{
	static const uint16_t suites[] = {0xC02F, 0x1301, 0x002F};
	struct tlsh_client_hello h;

	memset(&h, 0, sizeof(h));
	tlst_fixed(rnd, sid, x25519, x448);
	h.version = version;
	h.random = rnd;
	h.suites = suites;
	h.nsuites = NELEM(suites);
	h.x25519 = x25519;
	h.x448 = x448;
	return h;
}

static long build_read(const struct tlsh_client_hello *h, uint8_t *out,
                       struct tlst_hello *r)
{
	long n = tlsh_build_client_hello(h, out, TLSH_MAX_HELLO);

	assert_true(n > 0);
	assert_true(n <= TLSH_MAX_HELLO);
	if (tlst_read_hello(out, (size_t)n, r) != 0)
		fail_msg("the reader refuses a hello of %ld bytes", n);
	return n;
}

static const uint8_t *ext_body(const uint8_t *b, const struct tlst_hello *r,
                               uint16_t type, size_t *len)
{
	const struct tlst_ext *e = tlst_find(r, type);

	if (e == NULL)
		return NULL;
	*len = e->len;
	return b + e->off;
}

static void test_build_versions(void **state)
{
	static const uint16_t versions[] = {TLSS_SSL3, TLSS_TLS1, TLSS_TLS11,
	                                    TLSS_TLS12, TLSS_TLS13};
	static const uint16_t groups[] = {TLSH_GROUP_X25519,
	                                  TLSH_GROUP_SECP256R1};
	static uint8_t out[TLSH_MAX_HELLO];
	struct tlst_hello r;
	size_t i, k, len = 0;
	const uint8_t *b;

	(void)state;
	for (i = 0; i < NELEM(versions); i++) {
		uint16_t v = versions[i];
		int all;

		for (all = 0; all < 2; all++) {
			struct tlsh_client_hello h = base(v);

			h.groups = groups;
			h.ngroups = NELEM(groups);
			h.sni = "mx.example.test";
			if (all) {
				h.options =
				        TLSH_O_DEFLATE | TLSH_O_FALLBACK_SCSV |
				        TLSH_O_RENEG_SCSV | TLSH_O_RENEG_INFO |
				        TLSH_O_EMS | TLSH_O_SESSION_TICKET |
				        TLSH_O_STATUS_REQUEST |
				        TLSH_O_HEARTBEAT | TLSH_O_ETM |
				        TLSH_O_TLS12_TOO;
				h.session_id = sid;
			}
			build_read(&h, out, &r);
			assert_int_equal(r.rec_version,
			                 v == TLSS_SSL3 ? 0x0300 : 0x0301);
			assert_int_equal(r.version,
			                 v == TLSS_TLS13 ? 0x0303 : v);
			assert_memory_equal(out + r.random_off, rnd, 32);
			assert_int_equal(r.sid_len, all ? 32 : 0);
			assert_int_equal(r.nsuites, 3 + (all ? 2 : 0));
			for (k = 0; k < 3; k++)
				assert_int_equal(r.suites[k], h.suites[k]);
			if (all) {
				assert_int_equal(r.suites[3], 0x00FF);
				assert_int_equal(r.suites[4], 0x5600);
				assert_int_equal(r.ncomp, 2);
				assert_int_equal(r.comp[0], 1);
				assert_int_equal(r.comp[1], 0);
			} else {
				assert_int_equal(r.ncomp, 1);
				assert_int_equal(r.comp[0], 0);
			}
			if (v == TLSS_SSL3) {
				assert_false(r.has_exts);
				continue;
			}
			b = ext_body(out, &r, 0, &len);
			assert_non_null(b);
			assert_int_equal(len, 5 + 15);
			assert_memory_equal(b + 5, "mx.example.test", 15);
			assert_non_null(tlst_find(&r, 10));
			assert_non_null(tlst_find(&r, 11)); /* ECDHE offered */
			assert_int_equal(tlst_find(&r, 13) != NULL,
			                 v >= TLSS_TLS12);
			assert_int_equal(tlst_find(&r, 43) != NULL,
			                 v == TLSS_TLS13);
			assert_int_equal(tlst_find(&r, 51) != NULL,
			                 v == TLSS_TLS13);
			assert_int_equal(tlst_find(&r, 45) != NULL,
			                 v == TLSS_TLS13);
			assert_int_equal(tlst_find(&r, 0xff01) != NULL, all);
			assert_int_equal(tlst_find(&r, 23) != NULL, all);
			assert_int_equal(tlst_find(&r, 35) != NULL, all);
			assert_int_equal(tlst_find(&r, 5) != NULL, all);
			assert_int_equal(tlst_find(&r, 15) != NULL, all);
			assert_int_equal(tlst_find(&r, 22) != NULL, all);
			assert_null(tlst_find(&r, 21)); /* no padding asked */
			if (v == TLSS_TLS13) {
				b = ext_body(out, &r, 43, &len);
				assert_int_equal(len, all ? 5 : 3);
				assert_memory_equal(b,
				                    all ? "\x04\x03\x04\x03\x03"
				                        : "\x02\x03\x04",
				                    len);
			}
		}
	}
}

static int has_u16(const uint8_t *b, size_t len, unsigned v)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		if (tlst_u16(b + i) == v)
			return 1;
	return 0;
}

static void test_build_details(void **state)
{
	static uint8_t out[TLSH_MAX_HELLO];
	static const uint16_t rsa_only[] = {0x002F, 0x0035};
	static const uint16_t sigalgs[] = {0x0804, 0x0401};
	struct tlsh_client_hello h;
	struct tlst_hello r;
	const uint8_t *b;
	size_t len = 0;

	(void)state;
	/* no ECC suite: no ec_point_formats; no extensions: no block */
	h = base(TLSS_TLS1);
	h.suites = rsa_only;
	h.nsuites = NELEM(rsa_only);
	build_read(&h, out, &r);
	assert_false(r.has_exts);
	/* the default signature algorithms: broad, SHA-1 included */
	h = base(TLSS_TLS12);
	build_read(&h, out, &r);
	b = ext_body(out, &r, 13, &len);
	assert_non_null(b);
	assert_true(len > 30);
	assert_true(has_u16(b + 2, len - 2, 0x0201)); /* rsa_pkcs1_sha1 */
	assert_true(has_u16(b + 2, len - 2, 0x0401)); /* rsa_pkcs1_sha256 */
	assert_true(has_u16(b + 2, len - 2, 0x0403)); /* ecdsa_p256_sha256 */
	assert_true(has_u16(b + 2, len - 2, 0x0804)); /* rsa_pss_rsae */
	/* the caller's */
	h.sigalgs = sigalgs;
	h.nsigalgs = NELEM(sigalgs);
	build_read(&h, out, &r);
	b = ext_body(out, &r, 13, &len);
	assert_int_equal(len, 6);
	assert_memory_equal(b, "\x00\x04\x08\x04\x04\x01", 6);
	/* none */
	h.options = TLSH_O_NO_SIGALGS;
	build_read(&h, out, &r);
	assert_null(tlst_find(&r, 13));
	/* extension bodies */
	h = base(TLSS_TLS12);
	h.options =
	        TLSH_O_STATUS_REQUEST | TLSH_O_RENEG_INFO | TLSH_O_HEARTBEAT;
	build_read(&h, out, &r);
	b = ext_body(out, &r, 5, &len);
	assert_int_equal(len, 5);
	assert_memory_equal(b, "\x01\x00\x00\x00\x00", 5);
	b = ext_body(out, &r, 0xff01, &len);
	assert_int_equal(len, 1);
	b = ext_body(out, &r, 15, &len);
	assert_int_equal(len, 1);
	assert_int_equal(b[0], 1);
	b = ext_body(out, &r, 11, &len);
	assert_int_equal(len, 2);
	assert_memory_equal(b, "\x01\x00", 2);
	/* only an SCSV in the list is allowed, no suite at all is not */
	h = base(TLSS_TLS12);
	h.nsuites = 0;
	assert_int_equal(tlsh_build_client_hello(&h, out, sizeof(out)), -1);
	h.options = TLSH_O_FALLBACK_SCSV;
	build_read(&h, out, &r);
	assert_int_equal(r.nsuites, 1);
	assert_int_equal(r.suites[0], 0x5600);
	/* an SNI name at the cap and over it */
	{
		char name[TLSH_MAX_SNI + 2];

		memset(name, 'a', sizeof(name));
		name[TLSH_MAX_SNI] = '\0';
		h = base(TLSS_TLS12);
		h.sni = name;
		build_read(&h, out, &r);
		name[TLSH_MAX_SNI] = 'a';
		name[TLSH_MAX_SNI + 1] = '\0';
		assert_int_equal(tlsh_build_client_hello(&h, out, sizeof(out)),
		                 -1);
		h.sni = "";
		build_read(&h, out, &r);
		assert_null(tlst_find(&r, 0));
	}
	/* padding: a hello of 256..511 bytes grows to 512 */
	{
		static uint16_t many[300];
		size_t k, unpadded;

		for (k = 0; k < NELEM(many); k++)
			many[k] = (uint16_t)(0x0100 + k);
		for (k = 1; k < 250; k++) {
			h = base(TLSS_TLS12);
			h.suites = many;
			h.nsuites = k;
			build_read(&h, out, &r);
			unpadded = r.hs_len;
			h.options = TLSH_O_PAD;
			build_read(&h, out, &r);
			if (unpadded < 256 || unpadded >= 512) {
				assert_int_equal(r.hs_len, unpadded);
				assert_null(tlst_find(&r, 21));
			} else if (unpadded <= 507) {
				assert_int_equal(r.hs_len, 512);
			} else {
				assert_int_equal(r.hs_len, unpadded + 5);
			}
		}
	}
}

static void check_point(int nid, const uint8_t *share, size_t len)
{
	EC_GROUP *g = EC_GROUP_new_by_curve_name(nid);
	uint8_t gen[200];
	size_t gl;

	assert_non_null(g);
	gl = EC_POINT_point2oct(g, EC_GROUP_get0_generator(g),
	                        POINT_CONVERSION_UNCOMPRESSED, gen, sizeof(gen),
	                        NULL);
	assert_int_equal(gl, len);
	assert_memory_equal(gen, share, len);
	EC_GROUP_free(g);
}

static void test_build_key_shares(void **state)
{
	static const uint16_t groups[] = {
	        TLSH_GROUP_X25519,    TLSH_GROUP_SECP256R1,
	        TLSH_GROUP_SECP384R1, TLSH_GROUP_SECP521R1,
	        TLSH_GROUP_X448,      TLSH_GROUP_FFDHE2048,
	        TLSH_GROUP_FFDHE3072, TLSH_GROUP_FFDHE4096,
	        TLSH_GROUP_FFDHE6144, TLSH_GROUP_FFDHE8192};
	static const uint16_t p384[] = {TLSH_GROUP_SECP384R1};
	static uint8_t out[TLSH_MAX_HELLO];
	struct tlsh_client_hello h;
	struct tlst_hello r;
	const uint8_t *b;
	size_t len = 0, p, i, k;

	(void)state;
	/* one share per group, in order */
	h = base(TLSS_TLS13);
	h.groups = groups;
	h.ngroups = NELEM(groups);
	build_read(&h, out, &r);
	b = ext_body(out, &r, 51, &len);
	assert_non_null(b);
	for (i = 0, p = 2; i < NELEM(groups); i++) {
		size_t kl = tlst_u16(b + p + 2);

		assert_int_equal(tlst_u16(b + p), groups[i]);
		assert_int_equal(kl, tlsh_group_share_len(groups[i]));
		switch (groups[i]) {
		case TLSH_GROUP_X25519:
			assert_memory_equal(b + p + 4, x25519, 32);
			break;
		case TLSH_GROUP_X448:
			assert_memory_equal(b + p + 4, x448, 56);
			break;
		case TLSH_GROUP_SECP256R1:
			check_point(NID_X9_62_prime256v1, b + p + 4, kl);
			break;
		case TLSH_GROUP_SECP384R1:
			check_point(NID_secp384r1, b + p + 4, kl);
			break;
		case TLSH_GROUP_SECP521R1:
			check_point(NID_secp521r1, b + p + 4, kl);
			break;
		default: /* ffdhe: 2, padded */
			for (k = 0; k < kl - 1; k++)
				assert_int_equal(b[p + 4 + k], 0);
			assert_int_equal(b[p + 4 + kl - 1], 2);
			break;
		}
		p += 4 + kl;
	}
	assert_int_equal(p, len);
	/* a share for some groups only, or none */
	h.shares = p384;
	h.nshares = 1;
	build_read(&h, out, &r);
	b = ext_body(out, &r, 51, &len);
	assert_int_equal(len, 2 + 4 + 97);
	h.nshares = 0;
	build_read(&h, out, &r);
	b = ext_body(out, &r, 51, &len);
	assert_int_equal(len, 2);
	/* shares we cannot make */
	{
		static const uint16_t bad[][1] = {{21}, {0x9999}, {26}};

		for (i = 0; i < NELEM(bad); i++) {
			h.shares = bad[i];
			h.nshares = 1;
			assert_int_equal(
			        tlsh_build_client_hello(&h, out, sizeof(out)),
			        -1);
		}
	}
	h = base(TLSS_TLS13);
	h.groups = groups;
	h.ngroups = 1;
	h.x25519 = NULL;
	assert_int_equal(tlsh_build_client_hello(&h, out, sizeof(out)), -1);
	h = base(TLSS_TLS13);
	h.groups = groups + 4;
	h.ngroups = 1;
	h.x448 = NULL;
	assert_int_equal(tlsh_build_client_hello(&h, out, sizeof(out)), -1);
	/* below TLS 1.3 no key_share, whatever the shares say */
	h = base(TLSS_TLS12);
	h.groups = groups;
	h.ngroups = 1;
	h.shares = p384;
	h.nshares = 1;
	build_read(&h, out, &r);
	assert_null(tlst_find(&r, 51));
}

static void test_build_limits(void **state)
{
	static uint8_t out[TLSH_MAX_HELLO + 64];
	static uint16_t many[TLSH_MAX_SUITES + 1], g8192[TLSH_MAX_GROUPS + 1];
	struct tlsh_client_hello h;
	struct tlst_hello r;
	size_t i, k;
	long n;

	(void)state;
	/* bad input */
	h = base(TLSS_TLS12);
	assert_int_equal(tlsh_build_client_hello(NULL, out, sizeof(out)), -1);
	assert_int_equal(tlsh_build_client_hello(&h, NULL, 100), -1);
	h.random = NULL;
	assert_int_equal(tlsh_build_client_hello(&h, out, sizeof(out)), -1);
	h = base(0x0200);
	assert_int_equal(tlsh_build_client_hello(&h, out, sizeof(out)), -1);
	h = base(0x0305);
	assert_int_equal(tlsh_build_client_hello(&h, out, sizeof(out)), -1);
	h = base(TLSS_TLS12);
	h.suites = NULL;
	assert_int_equal(tlsh_build_client_hello(&h, out, sizeof(out)), -1);
	h = base(TLSS_TLS12);
	h.suites = many;
	h.nsuites = TLSH_MAX_SUITES + 1;
	assert_int_equal(tlsh_build_client_hello(&h, out, sizeof(out)), -1);
	h.nsuites = TLSH_MAX_SUITES; /* the most suites a hello may hold */
	build_read(&h, out, &r);
	assert_int_equal(r.nsuites, TLSH_MAX_SUITES);
	h = base(TLSS_TLS12);
	h.groups = g8192;
	h.ngroups = TLSH_MAX_GROUPS + 1;
	assert_int_equal(tlsh_build_client_hello(&h, out, sizeof(out)), -1);
	h.ngroups = 2;
	h.groups = NULL;
	assert_int_equal(tlsh_build_client_hello(&h, out, sizeof(out)), -1);

	/* at every buffer size: -1 until it fits, never a byte past outsz */
	h = base(TLSS_TLS13);
	h.sni = "mx.example.test";
	h.options = TLSH_O_EMS | TLSH_O_RENEG_INFO | TLSH_O_TLS12_TOO;
	{
		static const uint16_t gr[] = {TLSH_GROUP_X25519,
		                              TLSH_GROUP_SECP256R1};

		h.groups = gr;
		h.ngroups = NELEM(gr);
		n = tlsh_build_client_hello(&h, out, sizeof(out));
		assert_true(n > 0);
		for (k = 0; k < (size_t)n; k++) {
			memset(out, 0xA5, sizeof(out));
			assert_int_equal(tlsh_build_client_hello(&h, out, k),
			                 -1);
			for (i = k; i < sizeof(out); i++)
				assert_int_equal(out[i], 0xA5);
		}
		assert_int_equal(tlsh_build_client_hello(&h, out, (size_t)n),
		                 n);
	}

	/* one record: 16 KiB of payload at most */
	for (i = 0; i < NELEM(g8192); i++)
		g8192[i] = TLSH_GROUP_FFDHE8192;
	h = base(TLSS_TLS13);
	h.groups = g8192;
	h.ngroups = 15;
	n = build_read(&h, out, &r);
	assert_true(n <= TLSH_MAX_HELLO);
	h.ngroups = 16;
	assert_int_equal(tlsh_build_client_hello(&h, out, sizeof(out)), -1);
}

/* ==== names and DH groups ============================================= */

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(tlsh_version_name(0x0300), "SSLv3");
	assert_string_equal(tlsh_version_name(0x0301), "TLSv1");
	assert_string_equal(tlsh_version_name(0x0302), "TLSv1.1");
	assert_string_equal(tlsh_version_name(0x0303), "TLSv1.2");
	assert_string_equal(tlsh_version_name(0x0304), "TLSv1.3");
	assert_null(tlsh_version_name(0x0200));
	assert_null(tlsh_version_name(0x7f1c));
	assert_string_equal(tlsh_result_name(TLSH_HELLO_RETRY), "hello_retry");
	assert_string_equal(tlsh_result_name(TLSH_RESULT_LAST), "?");
	assert_string_equal(tlsh_group_name(29), "x25519");
	assert_string_equal(tlsh_group_name(23), "secp256r1");
	assert_string_equal(tlsh_group_name(256), "ffdhe2048");
	assert_string_equal(tlsh_group_name(1), "sect163k1");
	assert_string_equal(tlsh_group_name(0x11EC), "X25519MLKEM768");
	assert_null(tlsh_group_name(0));
	assert_null(tlsh_group_name(0x9999));
	assert_int_equal(tlsh_group_by_name("P-256"), 23);
	assert_int_equal(tlsh_group_by_name("prime256v1"), 23);
	assert_int_equal(tlsh_group_by_name("secp384r1"), 24);
	assert_int_equal(tlsh_group_by_name("X25519"), 29);
	assert_int_equal(tlsh_group_by_name("FFDHE8192"), 260);
	assert_int_equal(tlsh_group_by_name("P-999"), -1);
	assert_int_equal(tlsh_group_by_name(NULL), -1);
	assert_int_equal(tlsh_group_share_len(TLSH_GROUP_SECP521R1), 133);
	assert_int_equal(tlsh_group_share_len(TLSH_GROUP_FFDHE6144), 768);
	assert_int_equal(tlsh_group_share_len(21), 0);
	assert_int_equal(tlsh_group_share_len(0x9999), 0);
}

static uint8_t *named_prime(const char *group, size_t *len)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL);
	EVP_PKEY *pk = NULL;
	BIGNUM *p = NULL;
	OSSL_PARAM pr[2] = {
	        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
	                                         (char *)group, 0),
	        OSSL_PARAM_END};
	uint8_t *out;

	assert_non_null(c);
	assert_int_equal(EVP_PKEY_paramgen_init(c), 1);
	assert_int_equal(EVP_PKEY_CTX_set_params(c, pr), 1);
	assert_int_equal(EVP_PKEY_paramgen(c, &pk), 1);
	assert_int_equal(EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_FFC_P, &p),
	                 1);
	*len = (size_t)BN_num_bytes(p);
	out = malloc(*len + 1);
	assert_non_null(out);
	BN_bn2bin(p, out);
	BN_free(p);
	EVP_PKEY_free(pk);
	EVP_PKEY_CTX_free(c);
	return out;
}

static uint8_t *bn_prime(BIGNUM *(*get)(BIGNUM *), size_t *len)
{
	BIGNUM *p = get(NULL);
	uint8_t *out;

	*len = (size_t)BN_num_bytes(p);
	out = malloc(*len + 1);
	assert_non_null(out);
	BN_bn2bin(p, out);
	BN_free(p);
	return out;
}

static void test_dh_groups(void **state)
{
	static const char *const named[] = {
	        "ffdhe2048", "ffdhe3072",   "ffdhe4096",   "ffdhe6144",
	        "ffdhe8192", "dh_1024_160", "dh_2048_224", "dh_2048_256",
	        "modp_1536", "modp_2048",   "modp_3072",   "modp_4096",
	        "modp_6144", "modp_8192"};
	static const struct {
		const char *name;
		BIGNUM *(*get)(BIGNUM *);
	} bn[] = {
	        {"modp_768", BN_get_rfc2409_prime_768},
	        {"modp_1024", BN_get_rfc2409_prime_1024},
	        {"modp_1536", BN_get_rfc3526_prime_1536},
	        {"modp_2048", BN_get_rfc3526_prime_2048},
	        {"modp_3072", BN_get_rfc3526_prime_3072},
	        {"modp_4096", BN_get_rfc3526_prime_4096},
	        {"modp_6144", BN_get_rfc3526_prime_6144},
	        {"modp_8192", BN_get_rfc3526_prime_8192},
	};
	size_t i, len, j;

	(void)state;
	for (i = 0; i < NELEM(named) + NELEM(bn); i++) {
		const char *name =
		        i < NELEM(named) ? named[i] : bn[i - NELEM(named)].name;
		uint8_t *p = i < NELEM(named)
		                     ? named_prime(name, &len)
		                     : bn_prime(bn[i - NELEM(named)].get, &len);
		uint8_t *z = malloc(len + 1);

		assert_non_null(z);
		if (tlsh_dh_group_name(p, len) == NULL)
			fail_msg("%s not recognised", name);
		assert_string_equal(tlsh_dh_group_name(p, len), name);
		z[0] = 0; /* a leading zero byte changes nothing */
		memcpy(z + 1, p, len);
		assert_string_equal(tlsh_dh_group_name(z, len + 1), name);
		assert_null(tlsh_dh_group_name(p, len - 1));
		for (j = 0; j < len; j += len / 7 + 1) {
			p[j] ^= 0x01; /* any other prime is custom */
			assert_null(tlsh_dh_group_name(p, len));
			p[j] ^= 0x01;
		}
		p[len - 9] ^= 0x80;
		assert_null(tlsh_dh_group_name(p, len));
		free(p);
		free(z);
	}
	assert_null(tlsh_dh_group_name(NULL, 256));
	assert_null(tlsh_dh_group_name((const uint8_t *)"", 0));
	assert_null(tlsh_dh_group_name((const uint8_t *)"\0\0\0", 3));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_real_flights),
	        cmocka_unit_test(test_not_tls),
	        cmocka_unit_test(test_alerts),
	        cmocka_unit_test(test_server_hello_extensions),
	        cmocka_unit_test(test_flight_messages),
	        cmocka_unit_test(test_malformed),
	        cmocka_unit_test(test_flipped_bytes),
	        cmocka_unit_test(test_build_versions),
	        cmocka_unit_test(test_build_details),
	        cmocka_unit_test(test_build_key_shares),
	        cmocka_unit_test(test_build_limits),
	        cmocka_unit_test(test_names),
	        cmocka_unit_test(test_dh_groups),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
