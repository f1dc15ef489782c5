/* suites.h - the TLS cipher suites a scanner must recognise, as data
 * (lib/tlsscan/suites.c): the IANA code, OpenSSL's name, the IANA name,
 * key exchange, authentication, encryption and MAC in the words of
 * `openssl ciphers -v`, the effective key bits, the lowest protocol the
 * suite can be used with and a strength class.
 *
 * Internal to lib/tlsscan: the CLI gets these facts through the scan's
 * results, whose strings point into this table (static storage). */
#ifndef SMTPROBE_TLSSCAN_SUITES_H
#define SMTPROBE_TLSSCAN_SUITES_H

#include <stddef.h>
#include <stdint.h>

/* Protocol versions as they appear on the wire. */
#define TLSS_SSL3  0x0300
#define TLSS_TLS1  0x0301
#define TLSS_TLS11 0x0302
#define TLSS_TLS12 0x0303
#define TLSS_TLS13 0x0304

/* The signalling values that travel in the cipher suite list but are not
 * suites (RFC 5746 3.3, RFC 7507). */
#define TLSS_EMPTY_RENEGOTIATION_INFO_SCSV 0x00FF
#define TLSS_FALLBACK_SCSV                 0x5600

/* Worst first: a suite is in the first class that applies to it. */
enum tlss_strength {
	TLSS_STRENGTH_NONE,   /* an SCSV: not a suite */
	TLSS_STRENGTH_NULL,   /* no encryption */
	TLSS_STRENGTH_EXPORT, /* 40/56-bit export grade */
	TLSS_STRENGTH_ANON,   /* no authentication: anyone in the middle */
	TLSS_STRENGTH_LOW,    /* DES, RC4, RC2 */
	TLSS_STRENGTH_MEDIUM, /* 3DES, IDEA, SEED (64-bit blocks, Sweet32) */
	TLSS_STRENGTH_HIGH,
	TLSS_STRENGTH_LAST
};

/* The key exchange, as the code needs it (the ServerKeyExchange's shape,
 * forward secrecy). Anonymous DH and ECDH are ephemeral: TLSS_KX_DHE and
 * TLSS_KX_ECDHE with TLSS_F_ANON. */
enum tlss_kx {
	TLSS_KX_NONE, /* SCSV */
	TLSS_KX_RSA,  /* RSA key transport (export: temporary RSA key) */
	TLSS_KX_DHE,
	TLSS_KX_ECDHE,
	TLSS_KX_DH,   /* static DH, from the certificate */
	TLSS_KX_ECDH, /* static ECDH, from the certificate */
	TLSS_KX_PSK,
	TLSS_KX_DHE_PSK,
	TLSS_KX_ECDHE_PSK,
	TLSS_KX_RSA_PSK,
	TLSS_KX_SRP,
	TLSS_KX_KRB5,
	TLSS_KX_GOST,
	TLSS_KX_ECCPWD,
	TLSS_KX_ANY, /* TLS 1.3: negotiated apart from the suite */
	TLSS_KX_LAST
};

enum tlss_flag {
	TLSS_F_FS = 1u << 0,     /* forward secrecy: (EC)DHE or TLS 1.3 */
	TLSS_F_CBC = 1u << 1,    /* a block cipher in CBC mode */
	TLSS_F_AEAD = 1u << 2,   /* GCM, CCM, ChaCha20-Poly1305 */
	TLSS_F_ANON = 1u << 3,   /* no server authentication */
	TLSS_F_EXPORT = 1u << 4, /* export grade */
	TLSS_F_SCSV = 1u << 5,   /* a signalling value, not a suite */
	TLSS_F_ECC = 1u << 6,    /* uses elliptic curves (kx or au) */
	TLSS_F_PSK = 1u << 7,    /* needs a pre-shared key */
	TLSS_F_SRP = 1u << 8,    /* needs an SRP password */
	/* No OpenSSL release has implemented this suite: its name is made
	 * after OpenSSL's conventions (its headers' where they name it), so
	 * `openssl ciphers` will not know it. */
	TLSS_F_NOT_OPENSSL = 1u << 9,
	/* A code from an expired draft, not in the IANA registry (the
	 * EXPORT1024 and GOST 2001 suites, ChaCha20's pre-RFC codes). */
	TLSS_F_DRAFT = 1u << 10,
};

struct tlss_suite {
	uint16_t id;
	const char *name; /* OpenSSL's: "ECDHE-RSA-AES128-GCM-SHA256" */
	const char *iana; /* "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" */
	enum tlss_kx kx_kind;
	const char *kx;  /* OpenSSL's Kx= word: "ECDH", "DH", "RSA(512)" */
	const char *au;  /* Au=: "RSA", "ECDSA", "None", "any" */
	const char *enc; /* Enc=: "AESGCM(128)", "3DES(168)", "None" */
	const char *mac; /* Mac=: "SHA1", "AEAD" */
	uint16_t bits;   /* effective symmetric bits: 40 export, 112 3DES */
	uint16_t min_version; /* TLSS_SSL3, TLSS_TLS1, TLSS_TLS12, TLSS_TLS13 */
	enum tlss_strength strength;
	unsigned flags; /* enum tlss_flag */
};

/* The suite with this code, NULL when the table does not know it. */
const struct tlss_suite *tlss_suite_by_id(uint16_t id);
/* By OpenSSL's name (exact, case-sensitive); NULL when unknown. */
const struct tlss_suite *tlss_suite_by_name(const char *openssl_name);
/* By IANA name (exact); NULL when unknown. */
const struct tlss_suite *tlss_suite_by_iana(const char *iana_name);

/* The whole table, sorted by id (SCSVs included): *n entries. */
const struct tlss_suite *tlss_suites(size_t *n);

/* The codes of every suite to offer in a hello of this version, in
 * table order, SCSVs left out: for TLS 1.3 the TLS 1.3 suites; below it
 * every suite for TLS <= 1.2 whose lowest version is at most the given
 * one, where the suites OpenSSL lists from "TLSv1" (the ECC ones, RFC
 * 4492, and the SHA-2 PSK ones) also count for SSLv3 because old stacks
 * negotiate them there. EXPORT, DES and IDEA suites are offered at every
 * version up to TLS 1.2 although TLS 1.1 and 1.2 forbid them: a server
 * that picks one is worth knowing about. Writes up to cap codes to ids and
 * returns how many there are (more than cap: the list was cut). */
size_t tlss_suites_for_version(uint16_t version, uint16_t *ids, size_t cap);

/* "NULL", "EXPORT", "ANON", "LOW", "MEDIUM", "HIGH", "NONE"; "?" out of
 * range. */
const char *tlss_strength_name(enum tlss_strength s);
/* "RSA", "DHE", "ECDHE", ... ("?" out of range). */
const char *tlss_kx_name(enum tlss_kx kx);

#endif
