/* fuzz_tls_hello.c - libFuzzer target for lib/tlsscan/hello.c.
 *
 * The input is parsed as a server flight, and the invariants of hello.h
 * are checked: *used within the input, facts within their caps and
 * within the input, and the prefix rule (a prefix shorter than *used is
 * INCOMPLETE, a longer one gives the same result and facts; every prefix
 * of a short input, a sample of a long one, each in a buffer of its own
 * size). The same bytes then choose the parameters of a ClientHello,
 * which, when the builder accepts them, the strict test-side reader
 * (tests/unit/tls_hello_reader.h) must read back to the same version,
 * suites and options. Aborts on any broken invariant. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hello.h"
#include "suites.h"
#include "tls_hello_reader.h"

#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                               \
	do {                                                                   \
		if (!(x))                                                      \
			abort();                                               \
	} while (0)

static void check_facts(const uint8_t *buf, size_t len, enum tlsh_result r,
                        size_t used, const struct tlsh_server_flight *f)
{
	size_t i;

	CHECK(r < TLSH_RESULT_LAST);
	CHECK(used <= len);
	CHECK((r == TLSH_INCOMPLETE) == (used == 0));
	if (r == TLSH_MALFORMED || r == TLSH_NOT_TLS)
		CHECK(f->reason != NULL);
	CHECK(!f->done || r == TLSH_SERVER_HELLO);
	CHECK(r != TLSH_HELLO_RETRY || f->hello_seen);
	CHECK(f->hs_bytes <= TLSH_MAX_FLIGHT + 4);
	CHECK(f->next_types <= TLSH_MAX_EXTS);
	CHECK(memchr(f->alpn, '\0', sizeof(f->alpn)) != NULL);
	CHECK(f->session_id_len <= 32);
	CHECK(f->certs_over == (f->ncerts > TLSH_MAX_CERTS));
	for (i = 0; i < f->ncerts && i < TLSH_MAX_CERTS; i++) {
		const struct tlsh_cert *c = &f->certs[i];
		static uint8_t der[TLSH_MAX_FLIGHT];

		CHECK(c->len > 0 && c->stream_off + c->len <= f->hs_bytes);
		CHECK(tlsh_flight_copy(buf, len, c->stream_off, der, c->len) ==
		      c->len);
		if (c->in_buf) {
			CHECK(c->off + c->len <= len);
			CHECK(memcmp(buf + c->off, der, c->len) == 0);
		}
	}
	if (f->dh_plen > 0 && f->dh_plen <= TLSH_MAX_DH) {
		CHECK(f->dh_bits <= f->dh_plen * 8);
		(void)tlsh_dh_group_name(f->dh_p, f->dh_plen);
	}
	CHECK(tlsh_result_name(r) != NULL);
}

static void check_prefix(const uint8_t *data, size_t k, enum tlsh_result r,
                         size_t used, const struct tlsh_server_flight *full)
{
	static struct tlsh_server_flight p;
	uint8_t *cut = malloc(k ? k : 1);
	enum tlsh_result pr;
	size_t pused;

	CHECK(cut != NULL);
	memcpy(cut, data, k);
	pr = tlsh_parse_server_flight(cut, k, &p, &pused);
	check_facts(cut, k, pr, pused, &p);
	if (r == TLSH_INCOMPLETE || k < used) {
		CHECK(pr == TLSH_INCOMPLETE);
	} else {
		CHECK(pr == r && pused == used);
		CHECK(memcmp(&p, full, sizeof(p)) == 0);
	}
	free(cut);
}

static void fuzz_parse(const uint8_t *data, size_t size)
{
	static struct tlsh_server_flight f;
	enum tlsh_result r;
	size_t used, k;

	r = tlsh_parse_server_flight(data, size, &f, &used);
	check_facts(data, size, r, used, &f);
	if (size <= 600) {
		for (k = 0; k < size; k++)
			check_prefix(data, k, r, used, &f);
		return;
	}
	for (k = 0; k < 16; k++)
		check_prefix(data, (size_t)data[k] * size / 256, r, used, &f);
	if (used > 0) {
		check_prefix(data, used - 1, r, used, &f);
		check_prefix(data, used, r, used, &f);
		if (used < size)
			check_prefix(data, used + 1, r, used, &f);
	}
}

/* A hello from the bytes: version, options, then suites, groups, shares
 * and a host name taken from what follows. */
static void fuzz_build(const uint8_t *data, size_t size)
{
	static const uint16_t group_pool[] = {TLSH_GROUP_X25519,
	                                      TLSH_GROUP_SECP256R1,
	                                      TLSH_GROUP_SECP384R1,
	                                      TLSH_GROUP_SECP521R1,
	                                      TLSH_GROUP_X448,
	                                      TLSH_GROUP_FFDHE2048,
	                                      TLSH_GROUP_FFDHE3072,
	                                      TLSH_GROUP_FFDHE8192,
	                                      21, /* no share */
	                                      26};
	static uint16_t suites[TLSH_MAX_SUITES + 1], groups[TLSH_MAX_GROUPS],
	        shares[TLSH_MAX_GROUPS];
	static uint8_t out[TLSH_MAX_HELLO];
	static uint8_t rnd[32], sid[32], x25519[32], x448[56];
	struct tlsh_client_hello h;
	struct tlst_hello r;
	char sni[TLSH_MAX_SNI + 2];
	size_t p = 6, i, n, extra = 0;
	long len;

	if (size < 6)
		return;
	tlst_fixed(rnd, sid, x25519, x448);
	memset(&h, 0, sizeof(h));
	h.version = (uint16_t)(0x0300 + data[0] % 6); /* 0x0305: invalid */
	h.options = (unsigned)data[1] | (unsigned)(data[2] & 0x0f) << 8;
	h.random = rnd;
	h.session_id = (data[2] & 0x80) ? sid : NULL;
	h.x25519 = (data[2] & 0x40) ? x25519 : NULL;
	h.x448 = (data[2] & 0x20) ? x448 : NULL;
	n = data[3] % 200;
	for (i = 0; i < n && p + 1 < size; i++, p += 2)
		suites[i] = (uint16_t)(data[p] << 8 | data[p + 1]);
	h.suites = suites;
	h.nsuites = i;
	n = data[4] % 12;
	for (i = 0; i < n && p < size; i++, p++)
		groups[i] = group_pool[data[p] % 10];
	h.groups = groups;
	h.ngroups = i;
	if (data[5] & 0x80) {
		n = data[5] % 4;
		for (i = 0; i < n && p < size; i++, p++)
			shares[i] = group_pool[data[p] % 10];
		h.shares = shares;
		h.nshares = i;
	}
	if ((data[5] & 0x40) && p < size) {
		n = data[p++];
		for (i = 0; i < n && i <= TLSH_MAX_SNI && p < size; i++, p++)
			sni[i] = (char)(data[p] % 26 + 'a');
		sni[i] = '\0';
		h.sni = sni;
	}

	len = tlsh_build_client_hello(&h, out, sizeof(out));
	CHECK(len == -1 || (len > 0 && len <= TLSH_MAX_HELLO));
	if (len < 0)
		return;
	CHECK(tlst_read_hello(out, (size_t)len, &r) == 0);
	CHECK(h.version >= TLSS_SSL3 && h.version <= TLSS_TLS13);
	CHECK(r.version == (h.version == TLSS_TLS13 ? TLSS_TLS12 : h.version));
	CHECK(r.rec_version == (h.version == TLSS_SSL3 ? 0x0300 : 0x0301));
	CHECK(memcmp(out + r.random_off, rnd, 32) == 0);
	CHECK(r.sid_len == (h.session_id ? 32u : 0u));
	if (h.options & TLSH_O_RENEG_SCSV)
		extra++;
	if (h.options & TLSH_O_FALLBACK_SCSV)
		extra++;
	CHECK(r.nsuites == h.nsuites + extra);
	for (i = 0; i < h.nsuites; i++)
		CHECK(r.suites[i] == h.suites[i]);
	CHECK(r.ncomp == ((h.options & TLSH_O_DEFLATE) ? 2u : 1u));
	if (h.version == TLSS_SSL3)
		CHECK(!r.has_exts);
	if (h.version == TLSS_TLS13)
		CHECK(tlst_find(&r, 43) != NULL && tlst_find(&r, 51) != NULL);
	else
		CHECK(tlst_find(&r, 51) == NULL);
	if (h.version >= TLSS_TLS1 && h.ngroups > 0)
		CHECK(tlst_find(&r, 10) != NULL);
	/* and a server flight of the hello's own bytes is no server hello */
	fuzz_parse(out, (size_t)len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_parse(data, size);
	fuzz_build(data, size);
	return 0;
}
