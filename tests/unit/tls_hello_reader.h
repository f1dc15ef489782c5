/* tls_hello_reader.h - test-side helpers for lib/tlsscan/hello.c, shared
 * by tests/unit/test_tls_hello.c, fuzz/fuzz_tls_hello.c and
 * tests/tools/tls_hello.c (header-only: static inline).
 *
 * tlst_read_hello() is a strict ClientHello reader, written apart from
 * the builder so that one checks the other: every length must match what
 * it encloses exactly, nothing may trail, extension types may not repeat,
 * and the bodies of the extensions the builder writes are checked too.
 * tlst_build_args() builds a hello from the option words of
 * tests/data/tls/capture.py ("tls1_2 groups=x25519 ems ..."), with fixed
 * random bytes so that a hello is reproducible. */
#ifndef SMTPROBE_TESTS_TLS_HELLO_READER_H
#define SMTPROBE_TESTS_TLS_HELLO_READER_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hello.h"
#include "suites.h"

#define TLST_MAX_EXTS 64

struct tlst_ext {
	uint16_t type;
	size_t off, len; /* the body, in the record */
};

struct tlst_hello {
	uint16_t rec_version, version;
	size_t random_off, sid_len, hs_len; /* hs_len: with its header */
	size_t nsuites;
	uint16_t suites[TLSH_MAX_SUITES + 2];
	size_t ncomp;
	uint8_t comp[255];
	int has_exts;
	size_t nexts;
	struct tlst_ext exts[TLST_MAX_EXTS];
};

static inline unsigned tlst_u16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static inline const struct tlst_ext *tlst_find(const struct tlst_hello *h,
                                               uint16_t type)
{
	size_t i;

	for (i = 0; i < h->nexts; i++)
		if (h->exts[i].type == type)
			return &h->exts[i];
	return NULL;
}

/* The body of a known extension: -1 when it does not hold together. */
static inline int tlst_check_ext(const uint8_t *b, const struct tlst_ext *e)
{
	const uint8_t *p = b + e->off;
	size_t n = e->len, i;

	switch (e->type) {
	case 0: /* server_name: one host_name */
		return n >= 5 && tlst_u16(p) == n - 2 && p[2] == 0 &&
		                       tlst_u16(p + 3) == n - 5 && n > 5
		               ? 0
		               : -1;
	case 5: /* status_request: ocsp, no ids, no extensions */
		return n == 5 && p[0] == 1 && tlst_u16(p + 1) == 0 &&
		                       tlst_u16(p + 3) == 0
		               ? 0
		               : -1;
	case 10: /* supported_groups */
	case 13: /* signature_algorithms */
		return n >= 4 && tlst_u16(p) == n - 2 && n % 2 == 0 ? 0 : -1;
	case 11: /* ec_point_formats */
		return n >= 2 && p[0] == n - 1 ? 0 : -1;
	case 15: /* heartbeat */
		return n == 1 && p[0] == 1 ? 0 : -1;
	case 21: /* padding: zeros */
		for (i = 0; i < n; i++)
			if (p[i] != 0)
				return -1;
		return 0;
	case 22: /* encrypt_then_mac */
	case 23: /* extended_master_secret */
	case 35: /* session_ticket */
		return n == 0 ? 0 : -1;
	case 43: /* supported_versions */
		return n >= 3 && p[0] == n - 1 && n % 2 == 1 ? 0 : -1;
	case 45: /* psk_key_exchange_modes */
		return n >= 2 && p[0] == n - 1 ? 0 : -1;
	case 51: /* key_share: entries of group, length, key */
		if (n < 2 || tlst_u16(p) != n - 2)
			return -1;
		for (i = 2; i < n;) {
			size_t kl;

			if (n - i < 4)
				return -1;
			kl = tlst_u16(p + i + 2);
			if (kl == 0 || kl > n - i - 4)
				return -1;
			i += 4 + kl;
		}
		return 0;
	case 0xff01: /* renegotiation_info: empty on a first hello */
		return n == 1 && p[0] == 0 ? 0 : -1;
	default:
		return 0;
	}
}

/* Read the one record at b. 0, or -1 when anything is off. */
static inline int tlst_read_hello(const uint8_t *b, size_t n,
                                  struct tlst_hello *h)
{
	size_t p, end, l, i;

	memset(h, 0, sizeof(*h));
	if (n < 5 + 4 + 2 + 32 + 1 + 2 + 2 + 1 || b[0] != 22 || b[1] != 3)
		return -1;
	h->rec_version = (uint16_t)tlst_u16(b + 1);
	if (tlst_u16(b + 3) != n - 5 || n - 5 > TLSH_MAX_RECORD)
		return -1;
	if (b[5] != 1 || ((size_t)b[6] << 16 | tlst_u16(b + 7)) != n - 9)
		return -1;
	h->hs_len = n - 5;
	h->version = (uint16_t)tlst_u16(b + 9);
	h->random_off = 11;
	p = 43;
	h->sid_len = b[p++];
	if (h->sid_len > 32 || n - p < h->sid_len + 2)
		return -1;
	p += h->sid_len;
	l = tlst_u16(b + p);
	p += 2;
	if (l == 0 || l % 2 || n - p < l + 1 || l / 2 > TLSH_MAX_SUITES + 2)
		return -1;
	for (i = 0; i < l / 2; i++)
		h->suites[h->nsuites++] = (uint16_t)tlst_u16(b + p + 2 * i);
	p += l;
	h->ncomp = b[p++];
	if (h->ncomp == 0 || n - p < h->ncomp)
		return -1;
	memcpy(h->comp, b + p, h->ncomp);
	p += h->ncomp;
	if (p == n)
		return 0;
	if (n - p < 2 || tlst_u16(b + p) != n - p - 2)
		return -1;
	h->has_exts = 1;
	end = n;
	for (p += 2; p < end;) {
		struct tlst_ext e;

		if (end - p < 4)
			return -1;
		e.type = (uint16_t)tlst_u16(b + p);
		e.len = tlst_u16(b + p + 2);
		e.off = p + 4;
		if (e.len > end - p - 4 || tlst_find(h, e.type) != NULL ||
		    h->nexts >= TLST_MAX_EXTS || tlst_check_ext(b, &e) < 0)
			return -1;
		h->exts[h->nexts++] = e;
		p += 4 + e.len;
	}
	return 0;
}

/* The fixed bytes of reproducible hellos. */
static inline void tlst_fixed(uint8_t random[32], uint8_t sid[32],
                              uint8_t x25519[32], uint8_t x448[56])
{
	int i;

	for (i = 0; i < 32; i++) {
		random[i] = (uint8_t)i;
		sid[i] = (uint8_t)(0x20 + i);
		x25519[i] = (uint8_t)(0x40 + i);
	}
	for (i = 0; i < 56; i++)
		x448[i] = (uint8_t)(0x60 + i);
}

static inline long tlst_suite_code(const char *s)
{
	const struct tlss_suite *st;

	if (s[0] == '0' && s[1] == 'x') {
		char *end;
		long v = strtol(s, &end, 16);

		return *end == '\0' && v >= 0 && v <= 0xffff ? v : -1;
	}
	st = tlss_suite_by_name(s);
	return st != NULL ? st->id : -1;
}

static inline long tlst_group_code(const char *s)
{
	return tlsh_group_by_name(s);
}

/* A comma list through conv into out (cap entries): count or -1. */
static inline long tlst_list(const char *s, uint16_t *out, size_t cap,
                             long (*conv)(const char *))
{
	char item[64];
	long n = 0;

	while (*s != '\0') {
		size_t k = strcspn(s, ",");
		long v;

		if (k == 0 || k >= sizeof(item) || (size_t)n >= cap)
			return -1;
		memcpy(item, s, k);
		item[k] = '\0';
		if ((v = conv(item)) < 0)
			return -1;
		out[n++] = (uint16_t)v;
		s += k;
		if (*s == ',')
			s++;
	}
	return n;
}

/* Build the hello of argv (VERSION [OPTION...], see tests/tools/
 * tls_hello.c) into out: its length, -1 when it cannot be built, -2 on a
 * bad word. */
static inline long tlst_build_args(int argc, char **argv, uint8_t *out,
                                   size_t outsz)
{
	static const struct {
		const char *name;
		long v;
	} versions[] = {{"ssl3", TLSS_SSL3},
	                {"tls1", TLSS_TLS1},
	                {"tls1_1", TLSS_TLS11},
	                {"tls1_2", TLSS_TLS12},
	                {"tls1_3", TLSS_TLS13}};
	static const struct {
		const char *name;
		unsigned bit;
	} flags[] = {{"deflate", TLSH_O_DEFLATE},
	             {"fallback", TLSH_O_FALLBACK_SCSV},
	             {"reneg-scsv", TLSH_O_RENEG_SCSV},
	             {"reneg-info", TLSH_O_RENEG_INFO},
	             {"ems", TLSH_O_EMS},
	             {"ticket", TLSH_O_SESSION_TICKET},
	             {"status", TLSH_O_STATUS_REQUEST},
	             {"heartbeat", TLSH_O_HEARTBEAT},
	             {"etm", TLSH_O_ETM},
	             {"tls12-too", TLSH_O_TLS12_TOO},
	             {"pad", TLSH_O_PAD},
	             {"no-sigalgs", TLSH_O_NO_SIGALGS}};
	static uint16_t suites[TLSH_MAX_SUITES], groups[TLSH_MAX_GROUPS],
	        shares[TLSH_MAX_GROUPS];
	static uint8_t random[32], sid[32], x25519[32], x448[56];
	struct tlsh_client_hello h;
	long n;
	int i;
	size_t k;

	memset(&h, 0, sizeof(h));
	tlst_fixed(random, sid, x25519, x448);
	if (argc < 1)
		return -2;
	for (k = 0; k < sizeof(versions) / sizeof(versions[0]); k++)
		if (strcmp(versions[k].name, argv[0]) == 0)
			h.version = (uint16_t)versions[k].v;
	if (h.version == 0)
		return -2;
	h.random = random;
	h.x25519 = x25519;
	h.x448 = x448;
	h.suites = suites;
	h.nsuites = tlss_suites_for_version(h.version, suites, TLSH_MAX_SUITES);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strncmp(a, "suites=", 7) == 0) {
			if (strcmp(a + 7, "all") == 0)
				continue;
			n = tlst_list(a + 7, suites, TLSH_MAX_SUITES,
			              tlst_suite_code);
			if (n < 0)
				return -2;
			h.nsuites = (size_t)n;
		} else if (strncmp(a, "groups=", 7) == 0) {
			n = tlst_list(a + 7, groups, TLSH_MAX_GROUPS,
			              tlst_group_code);
			if (n < 0)
				return -2;
			h.groups = groups;
			h.ngroups = (size_t)n;
		} else if (strncmp(a, "shares=", 7) == 0) {
			n = strcmp(a + 7, "none") == 0
			            ? 0
			            : tlst_list(a + 7, shares, TLSH_MAX_GROUPS,
			                        tlst_group_code);
			if (n < 0)
				return -2;
			h.shares = shares;
			h.nshares = (size_t)n;
		} else if (strncmp(a, "sni=", 4) == 0) {
			h.sni = a + 4;
		} else if (strcmp(a, "session-id") == 0) {
			h.session_id = sid;
		} else {
			for (k = 0; k < sizeof(flags) / sizeof(flags[0]); k++)
				if (strcmp(flags[k].name, a) == 0)
					break;
			if (k == sizeof(flags) / sizeof(flags[0]))
				return -2;
			h.options |= flags[k].bit;
		}
	}
	return tlsh_build_client_hello(&h, out, outsz);
}

#endif
