/* hello.h - raw TLS hello probes (lib/tlsscan/hello.c, hello_names.c,
 * hello_dh.c): a ClientHello built byte by byte for any version from SSLv3
 * to TLS 1.3, and the server's first flight parsed. Pure: no I/O, no
 * allocation; what the parser reports points into the caller's buffer or
 * is copied into fixed arrays of the result.
 *
 * Internal to lib/tlsscan (docs/internals/tls-scan.md, "Raw hello
 * probes"). Alert names: smtprobe_tls_alert_name() (smtprobe/tls.h). */
#ifndef SMTPROBE_TLSSCAN_HELLO_H
#define SMTPROBE_TLSSCAN_HELLO_H

#include <stddef.h>
#include <stdint.h>

#include "suites.h" /* TLSS_SSL3 .. TLSS_TLS13 */

/* Caps. A built hello's record payload is at most TLSH_MAX_RECORD bytes
 * (the record layer's own limit, RFC 8446 5.1): anything bigger is -1,
 * never a second record. A server flight with more than
 * TLSH_MAX_FLIGHT bytes of handshake messages is MALFORMED ("too long"). */
#define TLSH_MAX_RECORD 16384
#define TLSH_MAX_HELLO  (5 + TLSH_MAX_RECORD)
#define TLSH_MAX_FLIGHT (64 * 1024)
#define TLSH_MAX_CERTS  10   /* certificates described; more are counted */
#define TLSH_MAX_EXTS   32   /* ServerHello extension types listed */
#define TLSH_MAX_DH     1024 /* DH p and g bytes copied (8192 bits) */
#define TLSH_MAX_SNI    253
#define TLSH_MAX_SUITES 1024 /* suites in one hello */
#define TLSH_MAX_GROUPS 64   /* supported_groups, key shares, sigalgs */
#define TLSH_RANDOM_LEN 32
#define TLSH_X25519_LEN 32
#define TLSH_X448_LEN   56

/* Named groups (IANA "TLS Supported Groups"; RFC 8422, 7919, 8446). */
enum tlsh_group {
	TLSH_GROUP_SECP256R1 = 23,
	TLSH_GROUP_SECP384R1 = 24,
	TLSH_GROUP_SECP521R1 = 25,
	TLSH_GROUP_X25519 = 29,
	TLSH_GROUP_X448 = 30,
	TLSH_GROUP_FFDHE2048 = 256,
	TLSH_GROUP_FFDHE3072 = 257,
	TLSH_GROUP_FFDHE4096 = 258,
	TLSH_GROUP_FFDHE6144 = 259,
	TLSH_GROUP_FFDHE8192 = 260,
};

/* Options of a ClientHello (enum tlsh_option bits). */
enum tlsh_option {
	TLSH_O_DEFLATE = 1u << 0,        /* compression methods DEFLATE, null */
	TLSH_O_FALLBACK_SCSV = 1u << 1,  /* TLS_FALLBACK_SCSV last in suites */
	TLSH_O_RENEG_SCSV = 1u << 2,     /* TLS_EMPTY_RENEGOTIATION_INFO_SCSV */
	TLSH_O_RENEG_INFO = 1u << 3,     /* empty renegotiation_info ext */
	TLSH_O_EMS = 1u << 4,            /* extended_master_secret */
	TLSH_O_SESSION_TICKET = 1u << 5, /* empty session_ticket */
	TLSH_O_STATUS_REQUEST = 1u << 6, /* status_request (OCSP) */
	TLSH_O_HEARTBEAT = 1u << 7,      /* heartbeat, peer_allowed_to_send */
	TLSH_O_ETM = 1u << 8,            /* encrypt_then_mac */
	TLSH_O_TLS12_TOO = 1u << 9,      /* TLS 1.3 hello: supported_versions
	                                    also lists TLS 1.2 */
	TLSH_O_PAD = 1u << 10,        /* RFC 7685 padding: a hello of 256..511
	                                 bytes grows to 512 (old F5 boxes hang) */
	TLSH_O_NO_SIGALGS = 1u << 11, /* no signature_algorithms in a
	                                 TLS 1.2 / 1.3 hello */
};

/* What to put in a ClientHello. Pointers the hello needs must be set:
 * the builder returns -1 rather than invent bytes. */
struct tlsh_client_hello {
	uint16_t version;      /* highest offered: TLSS_SSL3 .. TLSS_TLS13 */
	const uint8_t *random; /* TLSH_RANDOM_LEN bytes */
	const uint8_t *session_id; /* 32 bytes, or NULL: empty */
	const uint16_t *suites;    /* in preference order */
	size_t nsuites;
	const uint16_t *groups; /* supported_groups in order; none: no ext */
	size_t ngroups;
	/* TLS 1.3: the groups to send a key share for. NULL: one for each
	 * of groups; non-NULL with nshares 0: an empty key_share (the server
	 * answers with a HelloRetryRequest or an alert). X25519, X448,
	 * P-256/384/521 and ffdhe2048..8192 only. */
	const uint16_t *shares;
	size_t nshares;
	const uint8_t *x25519;   /* TLSH_X25519_LEN random bytes, for a share */
	const uint8_t *x448;     /* TLSH_X448_LEN random bytes, for a share */
	const uint16_t *sigalgs; /* NULL: a broad default (SHA-1 and PKCS#1
	                            included, so old servers answer) */
	size_t nsigalgs;
	const char *sni;  /* host name, NULL or "": no server_name */
	unsigned options; /* enum tlsh_option */
};

/* Write one TLS record holding the ClientHello to out: record version
 * 0x0300 for an SSLv3 hello, else 0x0301 as browsers send; client_version
 * the offered version, 0x0303 for TLS 1.3 (which goes in
 * supported_versions). SSLv3 hellos carry no extensions; TLS 1.0 / 1.1
 * ones no signature_algorithms. ec_point_formats goes with any suite of
 * TLSS_F_ECC. Returns the record's length, or -1 when the input is
 * invalid (version out of range, no suites, a share without its random
 * bytes or of an unsupported group, an SNI name over TLSH_MAX_SNI, lists over
 * TLSH_MAX_*) or the record does not fit outsz or TLSH_MAX_RECORD. */
long tlsh_build_client_hello(const struct tlsh_client_hello *h, uint8_t *out,
                             size_t outsz);

/* ---- the server's answer --------------------------------------------- */

enum tlsh_result {
	TLSH_INCOMPLETE,   /* need more bytes (facts so far are in out) */
	TLSH_SERVER_HELLO, /* ServerHello, and for TLS <= 1.2 the flight up to
	                      ServerHelloDone */
	TLSH_HELLO_RETRY,  /* a TLS 1.3 HelloRetryRequest */
	TLSH_ALERT,        /* an alert record */
	TLSH_NOT_TLS,      /* the first bytes are not a TLS record */
	TLSH_MALFORMED,    /* TLS, but broken: see out->reason */
	TLSH_RESULT_LAST
};

/* ServerHello extensions seen (out->exts). */
enum tlsh_ext_bit {
	TLSH_EXT_SERVER_NAME = 1u << 0,
	TLSH_EXT_STATUS_REQUEST = 1u << 1,
	TLSH_EXT_EC_POINT_FORMATS = 1u << 2,
	TLSH_EXT_HEARTBEAT = 1u << 3,
	TLSH_EXT_ALPN = 1u << 4,
	TLSH_EXT_ETM = 1u << 5,
	TLSH_EXT_EMS = 1u << 6,
	TLSH_EXT_SESSION_TICKET = 1u << 7,
	TLSH_EXT_SUPPORTED_VERSIONS = 1u << 8,
	TLSH_EXT_KEY_SHARE = 1u << 9,
	TLSH_EXT_COOKIE = 1u << 10,
	TLSH_EXT_RENEG_INFO = 1u << 11,
	TLSH_EXT_OTHER = 1u << 12, /* one this parser does not name */
};

/* The downgrade sentinel in the server random (RFC 8446 4.1.3). */
enum tlsh_downgrade {
	TLSH_DOWNGRADE_NONE,
	TLSH_DOWNGRADE_TLS12, /* "DOWNGRD\x01": the server does TLS 1.3 */
	TLSH_DOWNGRADE_TLS11, /* "DOWNGRD\x00": the server does TLS 1.2+ */
};

/* What the ServerKeyExchange carried. */
enum tlsh_ske {
	TLSH_SKE_NONE,  /* none came */
	TLSH_SKE_DHE,   /* dh_* */
	TLSH_SKE_ECDHE, /* ec_* */
	TLSH_SKE_OTHER, /* RSA export, PSK hint, SRP, unknown suite */
};

struct tlsh_cert {
	size_t len;        /* DER length */
	size_t stream_off; /* offset in the handshake stream: see
	                      tlsh_flight_copy() */
	size_t off;        /* offset in buf, when in_buf */
	int in_buf;        /* 1: the DER is contiguous in buf (one record) */
};

struct tlsh_server_flight {
	int hello_seen; /* a ServerHello or HelloRetryRequest was parsed */
	int done;       /* SERVER_HELLO: the flight is complete */
	uint16_t record_version; /* of the first record */
	/* ServerHello */
	uint16_t legacy_version; /* server_version */
	uint16_t version;        /* negotiated: supported_versions or the
	                            legacy one */
	uint16_t suite;
	uint8_t compression;
	uint8_t session_id_len;
	uint8_t random[TLSH_RANDOM_LEN];
	enum tlsh_downgrade downgrade;
	unsigned exts;                     /* enum tlsh_ext_bit */
	uint16_t ext_types[TLSH_MAX_EXTS]; /* in the order received */
	size_t next_types;                 /* entries in ext_types */
	int ext_types_over;                /* more than TLSH_MAX_EXTS came */
	int reneg_len; /* renegotiation_info's renegotiated_connection
	                  length (0 on a first handshake); -1: no ext */
	uint16_t key_share_group; /* TLS 1.3 key_share / HRR selected group */
	uint16_t key_share_len;   /* its key_exchange length (0 in an HRR) */
	uint8_t ec_point_formats; /* bit n: format n was listed */
	uint8_t heartbeat_mode;   /* 1 peer_allowed, 2 not allowed, 0 none */
	char alpn[256];           /* the protocol, raw bytes, NUL-ended */
	/* TLS <= 1.2 flight */
	size_t ncerts; /* all certificates in the list */
	struct tlsh_cert certs[TLSH_MAX_CERTS]; /* the first ones, leaf [0] */
	int certs_over;                         /* ncerts > TLSH_MAX_CERTS */
	int ocsp_stapled; /* a CertificateStatus (OCSP) came */
	size_t ocsp_len;
	enum tlsh_ske ske;
	uint8_t ec_curve_type;     /* 3 named_curve; 1/2 explicit curves */
	uint16_t ec_curve;         /* the named curve */
	size_t ec_point_len;       /* the server's public point */
	unsigned dh_bits;          /* the prime's size in bits */
	size_t dh_plen, dh_glen;   /* bytes as sent (p may carry a leading 0) */
	uint8_t dh_p[TLSH_MAX_DH]; /* copies when <= TLSH_MAX_DH, else only */
	uint8_t dh_g[TLSH_MAX_DH]; /* lengths and dh_bits                  */
	size_t dh_ys_len;
	int ske_sigalg;   /* TLS 1.2 signature algorithm, -1 when none */
	int cert_request; /* a CertificateRequest came */
	int ccs;          /* ChangeCipherSpec ended the flight (resumption) */
	/* alerts */
	uint8_t alert_level, alert_desc; /* ALERT */
	int warning_112; /* a warning unrecognized_name came and was passed */
	const char *reason; /* MALFORMED / NOT_TLS: a short constant */
	size_t hs_bytes;    /* handshake bytes parsed */
};

/* Parse the server's answer at the start of buf. Stateless: call it
 * again with the longer buffer when it says INCOMPLETE. The result is
 * decided by whole records: *used is the length of the prefix that
 * decided it (the records read, or the header bytes that showed a
 * NOT_TLS / MALFORMED); any shorter prefix gives INCOMPLETE, any longer
 * buffer the same result. Returns:
 *   SERVER_HELLO  a ServerHello saying TLS 1.3 (all after it is
 *                 encrypted), or for TLS <= 1.2 ServerHelloDone or a
 *                 ChangeCipherSpec after the ServerHello (out->done);
 *   HELLO_RETRY   the TLS 1.3 HelloRetryRequest (key_share_group: the
 *                 group the server wants);
 *   ALERT         an alert record (before or within the flight; a
 *                 warning unrecognized_name is passed over);
 *   NOT_TLS       the first record header is not TLS ("220 ...", HTTP,
 *                 an SSLv2 record);
 *   MALFORMED     a broken length, order or field (out->reason);
 *   INCOMPLETE    everything so far is a valid prefix.
 * out is cleared on entry and holds the facts parsed so far, also on
 * INCOMPLETE (e.g. the ServerHello of a flight that never finishes). */
enum tlsh_result tlsh_parse_server_flight(const uint8_t *buf, size_t len,
                                          struct tlsh_server_flight *out,
                                          size_t *used);

/* Copy n bytes starting at stream_off of the handshake stream (the
 * payloads of the handshake records in buf, joined) to dst: for a
 * certificate split over records. Returns n, or 0 when buf does not hold
 * them as a well-formed record sequence. */
size_t tlsh_flight_copy(const uint8_t *buf, size_t len, size_t stream_off,
                        uint8_t *dst, size_t n);

/* ---- names ----------------------------------------------------------- */

/* "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"; NULL for others. */
const char *tlsh_version_name(uint16_t version);
/* "incomplete", "server_hello", "hello_retry", "alert", "not_tls",
 * "malformed" ("?" out of range). */
const char *tlsh_result_name(enum tlsh_result r);
/* IANA names: "x25519", "secp256r1", "ffdhe2048", "sect163k1",
 * "brainpoolP256r1", "X25519MLKEM768"...; NULL when unknown. */
const char *tlsh_group_name(uint16_t group);
/* The group for an IANA name or a common alias ("P-256", "prime256v1",
 * "X25519", case-insensitive); -1 when unknown. */
int tlsh_group_by_name(const char *name);
/* The bytes of a key share this builder can make for the group
 * (X25519 32, P-256 65, ffdhe2048 256 ...); 0 when it cannot. */
size_t tlsh_group_share_len(uint16_t group);

/* The well-known DH group whose prime is p (big-endian, leading zero
 * bytes ignored): "ffdhe2048".."ffdhe8192" (RFC 7919), "modp_768",
 * "modp_1024" (RFC 2409), "modp_1536".."modp_8192" (RFC 3526),
 * "dh_1024_160", "dh_2048_224", "dh_2048_256" (RFC 5114); NULL for a
 * custom prime. */
const char *tlsh_dh_group_name(const uint8_t *p, size_t plen);

#endif
