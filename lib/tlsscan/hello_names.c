/* hello_names.c - names for what raw hello probes see: protocol
 * versions, parse results and named groups (IANA "TLS Supported Groups",
 * with the aliases OpenSSL and NIST use). Data and lookups only. */
#include <stddef.h>
#include <stdint.h>
#include <strings.h>

#include "hello.h"

#include "banned.h"

struct group {
	uint16_t id;
	const char *name;   /* IANA */
	const char *alias1; /* NIST / OpenSSL, or NULL */
	const char *alias2;
	uint16_t share_len; /* key share bytes the builder makes, 0: none */
};

static const struct group groups[] = {
        {1, "sect163k1", "K-163", NULL, 0},
        {2, "sect163r1", NULL, NULL, 0},
        {3, "sect163r2", "B-163", NULL, 0},
        {4, "sect193r1", NULL, NULL, 0},
        {5, "sect193r2", NULL, NULL, 0},
        {6, "sect233k1", "K-233", NULL, 0},
        {7, "sect233r1", "B-233", NULL, 0},
        {8, "sect239k1", NULL, NULL, 0},
        {9, "sect283k1", "K-283", NULL, 0},
        {10, "sect283r1", "B-283", NULL, 0},
        {11, "sect409k1", "K-409", NULL, 0},
        {12, "sect409r1", "B-409", NULL, 0},
        {13, "sect571k1", "K-571", NULL, 0},
        {14, "sect571r1", "B-571", NULL, 0},
        {15, "secp160k1", NULL, NULL, 0},
        {16, "secp160r1", NULL, NULL, 0},
        {17, "secp160r2", NULL, NULL, 0},
        {18, "secp192k1", NULL, NULL, 0},
        {19, "secp192r1", "P-192", "prime192v1", 0},
        {20, "secp224k1", NULL, NULL, 0},
        {21, "secp224r1", "P-224", NULL, 0},
        {22, "secp256k1", NULL, NULL, 0},
        {TLSH_GROUP_SECP256R1, "secp256r1", "P-256", "prime256v1", 65},
        {TLSH_GROUP_SECP384R1, "secp384r1", "P-384", NULL, 97},
        {TLSH_GROUP_SECP521R1, "secp521r1", "P-521", NULL, 133},
        {26, "brainpoolP256r1", NULL, NULL, 0},
        {27, "brainpoolP384r1", NULL, NULL, 0},
        {28, "brainpoolP512r1", NULL, NULL, 0},
        {TLSH_GROUP_X25519, "x25519", NULL, NULL, TLSH_X25519_LEN},
        {TLSH_GROUP_X448, "x448", NULL, NULL, TLSH_X448_LEN},
        {31, "brainpoolP256r1tls13", NULL, NULL, 0},
        {32, "brainpoolP384r1tls13", NULL, NULL, 0},
        {33, "brainpoolP512r1tls13", NULL, NULL, 0},
        {34, "GC256A", NULL, NULL, 0},
        {35, "GC256B", NULL, NULL, 0},
        {36, "GC256C", NULL, NULL, 0},
        {37, "GC256D", NULL, NULL, 0},
        {38, "GC512A", NULL, NULL, 0},
        {39, "GC512B", NULL, NULL, 0},
        {40, "GC512C", NULL, NULL, 0},
        {41, "curveSM2", NULL, NULL, 0},
        {TLSH_GROUP_FFDHE2048, "ffdhe2048", NULL, NULL, 256},
        {TLSH_GROUP_FFDHE3072, "ffdhe3072", NULL, NULL, 384},
        {TLSH_GROUP_FFDHE4096, "ffdhe4096", NULL, NULL, 512},
        {TLSH_GROUP_FFDHE6144, "ffdhe6144", NULL, NULL, 768},
        {TLSH_GROUP_FFDHE8192, "ffdhe8192", NULL, NULL, 1024},
        {0x0200, "MLKEM512", NULL, NULL, 0},
        {0x0201, "MLKEM768", NULL, NULL, 0},
        {0x0202, "MLKEM1024", NULL, NULL, 0},
        {0x11EB, "SecP256r1MLKEM768", NULL, NULL, 0},
        {0x11EC, "X25519MLKEM768", NULL, NULL, 0},
        {0x11ED, "SecP384r1MLKEM1024", NULL, NULL, 0},
        {0x6399, "X25519Kyber768Draft00", NULL, NULL, 0},
        {0xFF01, "arbitrary_explicit_prime_curves", NULL, NULL, 0},
        {0xFF02, "arbitrary_explicit_char2_curves", NULL, NULL, 0},
};

#define NGROUPS (sizeof(groups) / sizeof(groups[0]))

static const struct group *group_by_id(uint16_t id)
{
	size_t i;

	for (i = 0; i < NGROUPS; i++)
		if (groups[i].id == id)
			return &groups[i];
	return NULL;
}

const char *tlsh_group_name(uint16_t group)
{
	const struct group *g = group_by_id(group);

	return g != NULL ? g->name : NULL;
}

int tlsh_group_by_name(const char *name)
{
	size_t i;

	if (name == NULL)
		return -1;
	for (i = 0; i < NGROUPS; i++) {
		const struct group *g = &groups[i];

		if (strcasecmp(g->name, name) == 0 ||
		    (g->alias1 != NULL && strcasecmp(g->alias1, name) == 0) ||
		    (g->alias2 != NULL && strcasecmp(g->alias2, name) == 0))
			return g->id;
	}
	return -1;
}

size_t tlsh_group_share_len(uint16_t group)
{
	const struct group *g = group_by_id(group);

	return g != NULL ? g->share_len : 0;
}

const char *tlsh_version_name(uint16_t version)
{
	switch (version) {
	case TLSS_SSL3:
		return "SSLv3";
	case TLSS_TLS1:
		return "TLSv1";
	case TLSS_TLS11:
		return "TLSv1.1";
	case TLSS_TLS12:
		return "TLSv1.2";
	case TLSS_TLS13:
		return "TLSv1.3";
	default:
		return NULL;
	}
}

static const char *const result_names[TLSH_RESULT_LAST] = {
        [TLSH_INCOMPLETE] = "incomplete",
        [TLSH_SERVER_HELLO] = "server_hello",
        [TLSH_HELLO_RETRY] = "hello_retry",
        [TLSH_ALERT] = "alert",
        [TLSH_NOT_TLS] = "not_tls",
        [TLSH_MALFORMED] = "malformed",
};

const char *tlsh_result_name(enum tlsh_result r)
{
	return (unsigned)r < TLSH_RESULT_LAST ? result_names[r] : "?";
}
