/* hello.c - a ClientHello built byte by byte, and the server's first
 * flight parsed (RFC 5246 7.4, RFC 8446 4.1; pure: no I/O, no
 * allocation).
 *
 * tlsh_build_client_hello() writes exactly one record and never more than
 * outsz bytes; on any invalid input or when the hello does not fit it
 * returns -1 (out may then hold a partial hello). No key is ever derived
 * from what it puts in a key share: X25519 and X448 shares are the
 * caller's random bytes, NIST curve shares the curve's generator (private
 * key 1), ffdhe shares the value 2. Nothing secret is in a hello.
 *
 * tlsh_parse_server_flight() is stateless and reads records one whole
 * record at a time, as a TLS stack does before it trusts a record: a
 * result depends only on whole records (and on the header bytes that show
 * the input is not TLS or a record header is broken), so a prefix of a
 * valid flight is never worse than INCOMPLETE and a longer buffer never
 * changes a decided result. Handshake messages may span records and
 * records may hold several messages; each message is checked to be whole
 * before it is parsed, so the facts reported on INCOMPLETE are those of
 * whole messages. It never reads before buf or at or past buf + len, and
 * every length in the input is checked against the bytes it claims
 * before it is used.
 *
 * Bad input: a first record header that is not TLS is NOT_TLS; a later
 * broken header, a length that overruns its container, messages in an
 * impossible order, or more than TLSH_MAX_FLIGHT bytes of handshake
 * messages is MALFORMED with a short constant reason. Certificates past
 * TLSH_MAX_CERTS are counted, not described; DH values over TLSH_MAX_DH
 * bytes are measured, not copied; extension types past TLSH_MAX_EXTS are
 * noted as such. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hello.h"
#include "suites.h"

#include "banned.h"

enum {
	REC_CCS = 20,
	REC_ALERT = 21,
	REC_HANDSHAKE = 22,
	REC_APPDATA = 23,
	REC_HEARTBEAT = 24,
};

enum {
	HS_HELLO_REQUEST = 0,
	HS_CLIENT_HELLO = 1,
	HS_SERVER_HELLO = 2,
	HS_CERTIFICATE = 11,
	HS_SERVER_KEY_EXCHANGE = 12,
	HS_CERTIFICATE_REQUEST = 13,
	HS_SERVER_HELLO_DONE = 14,
	HS_CERTIFICATE_STATUS = 22,
};

enum {
	EXT_SERVER_NAME = 0,
	EXT_STATUS_REQUEST = 5,
	EXT_SUPPORTED_GROUPS = 10,
	EXT_EC_POINT_FORMATS = 11,
	EXT_SIGNATURE_ALGORITHMS = 13,
	EXT_HEARTBEAT = 15,
	EXT_ALPN = 16,
	EXT_PADDING = 21,
	EXT_ETM = 22,
	EXT_EMS = 23,
	EXT_SESSION_TICKET = 35,
	EXT_SUPPORTED_VERSIONS = 43,
	EXT_COOKIE = 44,
	EXT_PSK_KEX_MODES = 45,
	EXT_KEY_SHARE = 51,
	EXT_RENEG_INFO = 0xff01,
};

/* ==== the builder ===================================================== */

/* signature_algorithms when the caller gives none: modern first, then the
 * SHA-1, SHA-224 and DSA ones old servers may need to sign with. */
static const uint16_t default_sigalgs[] = {
        0x0403, /* ecdsa_secp256r1_sha256 */
        0x0503, /* ecdsa_secp384r1_sha384 */
        0x0603, /* ecdsa_secp521r1_sha512 */
        0x0807, /* ed25519 */
        0x0808, /* ed448 */
        0x0804, /* rsa_pss_rsae_sha256 */
        0x0805, /* rsa_pss_rsae_sha384 */
        0x0806, /* rsa_pss_rsae_sha512 */
        0x0809, /* rsa_pss_pss_sha256 */
        0x080a, /* rsa_pss_pss_sha384 */
        0x080b, /* rsa_pss_pss_sha512 */
        0x0401, /* rsa_pkcs1_sha256 */
        0x0501, /* rsa_pkcs1_sha384 */
        0x0601, /* rsa_pkcs1_sha512 */
        0x0303, /* ecdsa_sha224 */
        0x0301, /* rsa_pkcs1_sha224 */
        0x0302, /* dsa_sha224 */
        0x0402, /* dsa_sha256 */
        0x0502, /* dsa_sha384 */
        0x0602, /* dsa_sha512 */
        0x0203, /* ecdsa_sha1 */
        0x0201, /* rsa_pkcs1_sha1 */
        0x0202, /* dsa_sha1 */
};

/* The generators of the NIST curves, uncompressed (SEC 2 2.4.2, 2.5.1,
 * 2.6.1; FIPS 186-4 D.1.2): valid points whose private key is 1. */
static const uint8_t p256_g[65] = {
        0x04, 0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc,
        0xe6, 0xe5, 0x63, 0xa4, 0x40, 0xf2, 0x77, 0x03, 0x7d, 0x81, 0x2d,
        0xeb, 0x33, 0xa0, 0xf4, 0xa1, 0x39, 0x45, 0xd8, 0x98, 0xc2, 0x96,
        0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a, 0x7f, 0x9b, 0x8e, 0xe7, 0xeb,
        0x4a, 0x7c, 0x0f, 0x9e, 0x16, 0x2b, 0xce, 0x33, 0x57, 0x6b, 0x31,
        0x5e, 0xce, 0xcb, 0xb6, 0x40, 0x68, 0x37, 0xbf, 0x51, 0xf5,
};
static const uint8_t p384_g[97] = {
        0x04, 0xaa, 0x87, 0xca, 0x22, 0xbe, 0x8b, 0x05, 0x37, 0x8e, 0xb1,
        0xc7, 0x1e, 0xf3, 0x20, 0xad, 0x74, 0x6e, 0x1d, 0x3b, 0x62, 0x8b,
        0xa7, 0x9b, 0x98, 0x59, 0xf7, 0x41, 0xe0, 0x82, 0x54, 0x2a, 0x38,
        0x55, 0x02, 0xf2, 0x5d, 0xbf, 0x55, 0x29, 0x6c, 0x3a, 0x54, 0x5e,
        0x38, 0x72, 0x76, 0x0a, 0xb7, 0x36, 0x17, 0xde, 0x4a, 0x96, 0x26,
        0x2c, 0x6f, 0x5d, 0x9e, 0x98, 0xbf, 0x92, 0x92, 0xdc, 0x29, 0xf8,
        0xf4, 0x1d, 0xbd, 0x28, 0x9a, 0x14, 0x7c, 0xe9, 0xda, 0x31, 0x13,
        0xb5, 0xf0, 0xb8, 0xc0, 0x0a, 0x60, 0xb1, 0xce, 0x1d, 0x7e, 0x81,
        0x9d, 0x7a, 0x43, 0x1d, 0x7c, 0x90, 0xea, 0x0e, 0x5f,
};
static const uint8_t p521_g[133] = {
        0x04, 0x00, 0xc6, 0x85, 0x8e, 0x06, 0xb7, 0x04, 0x04, 0xe9, 0xcd, 0x9e,
        0x3e, 0xcb, 0x66, 0x23, 0x95, 0xb4, 0x42, 0x9c, 0x64, 0x81, 0x39, 0x05,
        0x3f, 0xb5, 0x21, 0xf8, 0x28, 0xaf, 0x60, 0x6b, 0x4d, 0x3d, 0xba, 0xa1,
        0x4b, 0x5e, 0x77, 0xef, 0xe7, 0x59, 0x28, 0xfe, 0x1d, 0xc1, 0x27, 0xa2,
        0xff, 0xa8, 0xde, 0x33, 0x48, 0xb3, 0xc1, 0x85, 0x6a, 0x42, 0x9b, 0xf9,
        0x7e, 0x7e, 0x31, 0xc2, 0xe5, 0xbd, 0x66, 0x01, 0x18, 0x39, 0x29, 0x6a,
        0x78, 0x9a, 0x3b, 0xc0, 0x04, 0x5c, 0x8a, 0x5f, 0xb4, 0x2c, 0x7d, 0x1b,
        0xd9, 0x98, 0xf5, 0x44, 0x49, 0x57, 0x9b, 0x44, 0x68, 0x17, 0xaf, 0xbd,
        0x17, 0x27, 0x3e, 0x66, 0x2c, 0x97, 0xee, 0x72, 0x99, 0x5e, 0xf4, 0x26,
        0x40, 0xc5, 0x50, 0xb9, 0x01, 0x3f, 0xad, 0x07, 0x61, 0x35, 0x3c, 0x70,
        0x86, 0xa2, 0x72, 0xc2, 0x40, 0x88, 0xbe, 0x94, 0x76, 0x9f, 0xd1, 0x66,
        0x50,
};

/* A bounded writer: every put checks room, a failure sticks. */
struct wr {
	uint8_t *p;
	size_t cap, n;
	int bad;
};

static void put8(struct wr *w, unsigned v)
{
	if (w->bad || w->n >= w->cap) {
		w->bad = 1;
		return;
	}
	w->p[w->n++] = (uint8_t)v;
}

static void put16(struct wr *w, unsigned v)
{
	put8(w, v >> 8);
	put8(w, v & 0xff);
}

static void put_bytes(struct wr *w, const uint8_t *b, size_t n)
{
	if (w->bad || n > w->cap - w->n) {
		w->bad = 1;
		return;
	}
	memcpy(w->p + w->n, b, n);
	w->n += n;
}

static void put_fill(struct wr *w, uint8_t v, size_t n)
{
	if (w->bad || n > w->cap - w->n) {
		w->bad = 1;
		return;
	}
	memset(w->p + w->n, v, n);
	w->n += n;
}

/* Open a length field of width bytes; close_len() fills it in. */
static size_t open_len(struct wr *w, unsigned width)
{
	size_t at = w->n;

	put_fill(w, 0, width);
	return at;
}

static void close_len(struct wr *w, size_t at, unsigned width)
{
	size_t v, i;

	if (w->bad)
		return;
	v = w->n - at - width;
	if (width < sizeof(size_t) && v >> (8 * width) != 0) {
		w->bad = 1;
		return;
	}
	for (i = 0; i < width; i++)
		w->p[at + i] = (uint8_t)(v >> (8 * (width - 1 - i)));
}

static size_t ext_open(struct wr *w, unsigned type)
{
	put16(w, type);
	return open_len(w, 2);
}

static int offers_ecc(const struct tlsh_client_hello *h)
{
	size_t i;

	for (i = 0; i < h->nsuites; i++) {
		const struct tlss_suite *s = tlss_suite_by_id(h->suites[i]);

		if (s != NULL && (s->flags & TLSS_F_ECC))
			return 1;
	}
	return 0;
}

/* The key share of one group, or -1 when we cannot make one. */
static int put_share(struct wr *w, const struct tlsh_client_hello *h,
                     uint16_t group)
{
	size_t at, len = tlsh_group_share_len(group);

	if (len == 0)
		return -1;
	put16(w, group);
	put16(w, (unsigned)len);
	at = w->n;
	switch (group) {
	case TLSH_GROUP_X25519:
		if (h->x25519 == NULL)
			return -1;
		put_bytes(w, h->x25519, TLSH_X25519_LEN);
		break;
	case TLSH_GROUP_X448:
		if (h->x448 == NULL)
			return -1;
		put_bytes(w, h->x448, TLSH_X448_LEN);
		break;
	case TLSH_GROUP_SECP256R1:
		put_bytes(w, p256_g, sizeof(p256_g));
		break;
	case TLSH_GROUP_SECP384R1:
		put_bytes(w, p384_g, sizeof(p384_g));
		break;
	case TLSH_GROUP_SECP521R1:
		put_bytes(w, p521_g, sizeof(p521_g));
		break;
	default: /* ffdhe: 2, left-padded to the prime's length */
		put_fill(w, 0, len - 1);
		put8(w, 2);
		break;
	}
	return w->bad || w->n - at != len ? -1 : 0;
}

static int valid_input(const struct tlsh_client_hello *h)
{
	size_t i, extra = 0;

	if (h == NULL || h->random == NULL || h->version < TLSS_SSL3 ||
	    h->version > TLSS_TLS13)
		return 0;
	if (h->options & TLSH_O_FALLBACK_SCSV)
		extra++;
	if (h->options & TLSH_O_RENEG_SCSV)
		extra++;
	if (h->nsuites + extra == 0 || h->nsuites > TLSH_MAX_SUITES ||
	    (h->nsuites > 0 && h->suites == NULL))
		return 0;
	if (h->ngroups > TLSH_MAX_GROUPS || (h->ngroups && h->groups == NULL))
		return 0;
	if (h->nshares > TLSH_MAX_GROUPS || (h->nshares && h->shares == NULL))
		return 0;
	if (h->nsigalgs > TLSH_MAX_GROUPS ||
	    (h->nsigalgs && h->sigalgs == NULL))
		return 0;
	if (h->sni != NULL) {
		for (i = 0; h->sni[i] != '\0'; i++)
			if (i >= TLSH_MAX_SNI)
				return 0;
	}
	return 1;
}

static void put_extensions(struct wr *w, const struct tlsh_client_hello *h,
                           int *share_err)
{
	unsigned o = h->options;
	int tls13 = h->version == TLSS_TLS13;
	size_t at, inner, i;

	if (h->sni != NULL && h->sni[0] != '\0') {
		size_t n = strlen(h->sni);

		at = ext_open(w, EXT_SERVER_NAME);
		inner = open_len(w, 2);
		put8(w, 0); /* host_name */
		put16(w, (unsigned)n);
		put_bytes(w, (const uint8_t *)h->sni, n);
		close_len(w, inner, 2);
		close_len(w, at, 2);
	}
	if (o & TLSH_O_EMS)
		close_len(w, ext_open(w, EXT_EMS), 2);
	if (o & TLSH_O_RENEG_INFO) {
		at = ext_open(w, EXT_RENEG_INFO);
		put8(w, 0); /* renegotiated_connection: empty */
		close_len(w, at, 2);
	}
	if (h->ngroups > 0) {
		at = ext_open(w, EXT_SUPPORTED_GROUPS);
		inner = open_len(w, 2);
		for (i = 0; i < h->ngroups; i++)
			put16(w, h->groups[i]);
		close_len(w, inner, 2);
		close_len(w, at, 2);
	}
	if (offers_ecc(h)) {
		at = ext_open(w, EXT_EC_POINT_FORMATS);
		put8(w, 1);
		put8(w, 0); /* uncompressed */
		close_len(w, at, 2);
	}
	if (o & TLSH_O_SESSION_TICKET)
		close_len(w, ext_open(w, EXT_SESSION_TICKET), 2);
	if (o & TLSH_O_STATUS_REQUEST) {
		at = ext_open(w, EXT_STATUS_REQUEST);
		put8(w, 1);  /* ocsp */
		put16(w, 0); /* responder_id_list */
		put16(w, 0); /* request_extensions */
		close_len(w, at, 2);
	}
	if (h->version >= TLSS_TLS12 && !(o & TLSH_O_NO_SIGALGS)) {
		const uint16_t *sa = h->sigalgs ? h->sigalgs : default_sigalgs;
		size_t n = h->sigalgs ? h->nsigalgs
		                      : sizeof(default_sigalgs) /
		                                sizeof(default_sigalgs[0]);

		at = ext_open(w, EXT_SIGNATURE_ALGORITHMS);
		inner = open_len(w, 2);
		for (i = 0; i < n; i++)
			put16(w, sa[i]);
		close_len(w, inner, 2);
		close_len(w, at, 2);
	}
	if (o & TLSH_O_HEARTBEAT) {
		at = ext_open(w, EXT_HEARTBEAT);
		put8(w, 1); /* peer_allowed_to_send */
		close_len(w, at, 2);
	}
	if (o & TLSH_O_ETM)
		close_len(w, ext_open(w, EXT_ETM), 2);
	if (tls13) {
		const uint16_t *sh = h->shares ? h->shares : h->groups;
		size_t n = h->shares ? h->nshares : h->ngroups;

		at = ext_open(w, EXT_KEY_SHARE);
		inner = open_len(w, 2);
		for (i = 0; i < n; i++)
			if (put_share(w, h, sh[i]) < 0)
				*share_err = 1;
		close_len(w, inner, 2);
		close_len(w, at, 2);

		at = ext_open(w, EXT_PSK_KEX_MODES);
		put8(w, 1);
		put8(w, 1); /* psk_dhe_ke */
		close_len(w, at, 2);

		at = ext_open(w, EXT_SUPPORTED_VERSIONS);
		put8(w, (o & TLSH_O_TLS12_TOO) ? 4 : 2);
		put16(w, TLSS_TLS13);
		if (o & TLSH_O_TLS12_TOO)
			put16(w, TLSS_TLS12);
		close_len(w, at, 2);
	}
}

long tlsh_build_client_hello(const struct tlsh_client_hello *h, uint8_t *out,
                             size_t outsz)
{
	struct wr w = {out, outsz < TLSH_MAX_HELLO ? outsz : TLSH_MAX_HELLO, 0,
	               0};
	size_t rec, hs, exts, list, k;
	int share_err = 0;

	if (out == NULL || !valid_input(h))
		return -1;
	put8(&w, REC_HANDSHAKE);
	put16(&w, h->version == TLSS_SSL3 ? TLSS_SSL3 : TLSS_TLS1);
	rec = open_len(&w, 2);
	put8(&w, HS_CLIENT_HELLO);
	hs = open_len(&w, 3);
	put16(&w, h->version == TLSS_TLS13 ? TLSS_TLS12 : h->version);
	put_bytes(&w, h->random, TLSH_RANDOM_LEN);
	if (h->session_id != NULL) {
		put8(&w, 32);
		put_bytes(&w, h->session_id, 32);
	} else {
		put8(&w, 0);
	}
	list = open_len(&w, 2);
	for (k = 0; k < h->nsuites; k++)
		put16(&w, h->suites[k]);
	if (h->options & TLSH_O_RENEG_SCSV)
		put16(&w, TLSS_EMPTY_RENEGOTIATION_INFO_SCSV);
	if (h->options & TLSH_O_FALLBACK_SCSV)
		put16(&w, TLSS_FALLBACK_SCSV);
	close_len(&w, list, 2);
	if (h->options & TLSH_O_DEFLATE) {
		put8(&w, 2);
		put8(&w, 1); /* DEFLATE */
		put8(&w, 0);
	} else {
		put8(&w, 1);
		put8(&w, 0);
	}
	if (h->version > TLSS_SSL3) {
		exts = open_len(&w, 2);
		put_extensions(&w, h, &share_err);
		if (share_err)
			return -1;
		if ((h->options & TLSH_O_PAD) && !w.bad) {
			/* the handshake message so far, with the 4-byte
			 * header of a padding extension to come */
			size_t msg = w.n - hs + 1;

			if (msg >= 256 && msg < 512) {
				size_t pad = 512 - msg;

				pad = pad >= 5 ? pad - 4 : 1;
				put16(&w, EXT_PADDING);
				put16(&w, (unsigned)pad);
				put_fill(&w, 0, pad);
			}
		}
		if (w.n - exts == 2)
			w.n -= 2; /* no extensions: no block */
		else
			close_len(&w, exts, 2);
	}
	close_len(&w, hs, 3);
	close_len(&w, rec, 2);
	if (w.bad || w.n - 5 > TLSH_MAX_RECORD)
		return -1;
	return (long)w.n;
}

/* ==== the parser ====================================================== */

#define GO TLSH_RESULT_LAST /* internal: carry on */

/* SHA-256("HelloRetryRequest"): the random of a HelloRetryRequest (RFC
 * 8446 4.1.3). */
static const uint8_t hrr_random[TLSH_RANDOM_LEN] = {
        0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c,
        0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb,
        0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};
static const uint8_t downgrade_sentinel[7] = {'D', 'O', 'W', 'N',
                                              'G', 'R', 'D'};

/* A cursor over the handshake stream: the payloads of the handshake
 * records in buf, joined. */
struct rd {
	const uint8_t *buf;
	size_t len;
	size_t pos;     /* next byte in buf */
	size_t rec_end; /* end of the current handshake record's payload */
	size_t used;    /* the prefix the result depends on so far */
	size_t stream;  /* offset of pos in the handshake stream */
	int nrec;       /* records read */
	struct tlsh_server_flight *out;
};

enum rec_mode {
	BETWEEN, /* between handshake messages */
	INSIDE,  /* inside one: only more handshake bytes (or an alert) */
};

static enum tlsh_result bad(struct rd *r, const char *why)
{
	r->out->reason = why;
	return TLSH_MALFORMED;
}

static void need(struct rd *r, size_t end)
{
	if (end > r->used)
		r->used = end;
}

/* Move to the next handshake record (the current one is exhausted). A
 * warning unrecognized_name alert is passed over; another alert, a
 * ChangeCipherSpec (between messages after the ServerHello) or a broken
 * header ends the parse. Returns GO with pos < rec_end, or the result. */
static enum tlsh_result next_record(struct rd *r, enum rec_mode mode)
{
	for (;;) {
		size_t p = r->rec_end, avail = r->len - p, rlen;
		const uint8_t *h;
		int first = r->nrec == 0;

		if (avail < 1)
			return TLSH_INCOMPLETE;
		h = r->buf + p;
		if (h[0] < REC_CCS || h[0] > REC_HEARTBEAT) {
			need(r, p + 1);
			r->out->reason = "not a tls record";
			return first ? TLSH_NOT_TLS : bad(r, "bad record type");
		}
		if (avail < 2)
			return TLSH_INCOMPLETE;
		if (h[1] != 3) {
			need(r, p + 2);
			r->out->reason = "not a tls record";
			return first ? TLSH_NOT_TLS
			             : bad(r, "bad record version");
		}
		if (avail < 3)
			return TLSH_INCOMPLETE;
		if (h[2] > 4) {
			need(r, p + 3);
			r->out->reason = "not a tls record";
			return first ? TLSH_NOT_TLS
			             : bad(r, "bad record version");
		}
		if (avail < 5)
			return TLSH_INCOMPLETE;
		rlen = (size_t)h[3] << 8 | h[4];
		if (rlen == 0 || rlen > TLSH_MAX_RECORD) {
			need(r, p + 5);
			return bad(r,
			           rlen ? "record too long" : "empty record");
		}
		if (h[0] == REC_APPDATA || h[0] == REC_HEARTBEAT ||
		    (h[0] == REC_CCS &&
		     (mode == INSIDE || !r->out->hello_seen))) {
			need(r, p + 5);
			return bad(r, "unexpected record type");
		}
		if (avail - 5 < rlen)
			return TLSH_INCOMPLETE;
		need(r, p + 5 + rlen);
		if (first)
			r->out->record_version = (uint16_t)(h[1] << 8 | h[2]);
		r->nrec++;
		r->pos = p + 5;
		r->rec_end = p + 5 + rlen;
		if (h[0] == REC_HANDSHAKE)
			return GO;
		if (h[0] == REC_CCS) {
			r->out->ccs = 1;
			r->out->done = 1;
			return TLSH_SERVER_HELLO;
		}
		/* an alert: level, description (more alerts may follow in
		 * the record; the first one tells) */
		if (rlen < 2)
			return bad(r, "short alert");
		if (h[5] != 1 && h[5] != 2)
			return bad(r, "bad alert level");
		if (h[5] == 1 && h[6] == 112) {
			r->out->warning_112 = 1;
			r->pos = r->rec_end;
			continue;
		}
		r->out->alert_level = h[5];
		r->out->alert_desc = h[6];
		return TLSH_ALERT;
	}
}

static enum tlsh_result ensure(struct rd *r)
{
	return r->pos < r->rec_end ? GO : next_record(r, INSIDE);
}

/* Message-level reads: *left is what remains of the enclosing length,
 * checked first so that a length overrun is MALFORMED, not a read into
 * the next message. */
static enum tlsh_result get_bytes(struct rd *r, size_t *left, uint8_t *dst,
                                  size_t n, const char *what)
{
	enum tlsh_result res;

	if (n > *left)
		return bad(r, what);
	*left -= n;
	while (n > 0) {
		size_t take;

		if ((res = ensure(r)) != GO)
			return res;
		take = r->rec_end - r->pos;
		if (take > n)
			take = n;
		if (dst != NULL) {
			memcpy(dst, r->buf + r->pos, take);
			dst += take;
		}
		r->pos += take;
		r->stream += take;
		n -= take;
	}
	return GO;
}

static enum tlsh_result get_num(struct rd *r, size_t *left, unsigned width,
                                size_t *v, const char *what)
{
	uint8_t b[3];
	enum tlsh_result res;
	unsigned i;

	if ((res = get_bytes(r, left, b, width, what)) != GO)
		return res;
	*v = 0;
	for (i = 0; i < width; i++)
		*v = *v << 8 | b[i];
	return GO;
}

#define SKIP(r, left, n, what) get_bytes(r, left, NULL, n, what)
#define TRY(x)                                                                 \
	do {                                                                   \
		enum tlsh_result res_ = (x);                                   \
		if (res_ != GO)                                                \
			return res_;                                           \
	} while (0)

/* ---- ServerHello ---- */

static int ext_bit(unsigned type)
{
	switch (type) {
	case EXT_SERVER_NAME:
		return TLSH_EXT_SERVER_NAME;
	case EXT_STATUS_REQUEST:
		return TLSH_EXT_STATUS_REQUEST;
	case EXT_EC_POINT_FORMATS:
		return TLSH_EXT_EC_POINT_FORMATS;
	case EXT_HEARTBEAT:
		return TLSH_EXT_HEARTBEAT;
	case EXT_ALPN:
		return TLSH_EXT_ALPN;
	case EXT_ETM:
		return TLSH_EXT_ETM;
	case EXT_EMS:
		return TLSH_EXT_EMS;
	case EXT_SESSION_TICKET:
		return TLSH_EXT_SESSION_TICKET;
	case EXT_SUPPORTED_VERSIONS:
		return TLSH_EXT_SUPPORTED_VERSIONS;
	case EXT_KEY_SHARE:
		return TLSH_EXT_KEY_SHARE;
	case EXT_COOKIE:
		return TLSH_EXT_COOKIE;
	case EXT_RENEG_INFO:
		return TLSH_EXT_RENEG_INFO;
	default:
		return TLSH_EXT_OTHER;
	}
}

static enum tlsh_result parse_extension(struct rd *r, unsigned type,
                                        size_t elen, int hrr)
{
	struct tlsh_server_flight *o = r->out;
	size_t left = elen, v, n;
	unsigned bit = (unsigned)ext_bit(type);

	if (bit != TLSH_EXT_OTHER && (o->exts & bit))
		return bad(r, "duplicate extension");
	o->exts |= bit;
	if (o->next_types < TLSH_MAX_EXTS)
		o->ext_types[o->next_types++] = (uint16_t)type;
	else
		o->ext_types_over = 1;

	switch (type) {
	case EXT_EC_POINT_FORMATS:
		TRY(get_num(r, &left, 1, &n, "bad ec_point_formats"));
		if (n != left || n == 0)
			return bad(r, "bad ec_point_formats");
		while (left > 0) {
			TRY(get_num(r, &left, 1, &v, "bad ec_point_formats"));
			if (v < 8)
				o->ec_point_formats |= (uint8_t)(1u << v);
		}
		break;
	case EXT_HEARTBEAT:
		if (elen != 1)
			return bad(r, "bad heartbeat");
		TRY(get_num(r, &left, 1, &v, "bad heartbeat"));
		o->heartbeat_mode = (uint8_t)v;
		break;
	case EXT_ALPN:
		TRY(get_num(r, &left, 2, &n, "bad alpn"));
		if (n != left)
			return bad(r, "bad alpn");
		TRY(get_num(r, &left, 1, &n, "bad alpn"));
		if (n != left || n == 0)
			return bad(r, "bad alpn");
		TRY(get_bytes(r, &left, (uint8_t *)o->alpn, n, "bad alpn"));
		o->alpn[n] = '\0';
		break;
	case EXT_SUPPORTED_VERSIONS:
		if (elen != 2)
			return bad(r, "bad supported_versions");
		TRY(get_num(r, &left, 2, &v, "bad supported_versions"));
		o->version = (uint16_t)v;
		break;
	case EXT_KEY_SHARE:
		TRY(get_num(r, &left, 2, &v, "bad key_share"));
		o->key_share_group = (uint16_t)v;
		if (hrr) {
			if (left != 0)
				return bad(r, "bad key_share");
			break;
		}
		TRY(get_num(r, &left, 2, &n, "bad key_share"));
		if (n != left || n == 0)
			return bad(r, "bad key_share");
		o->key_share_len = (uint16_t)n;
		break;
	case EXT_RENEG_INFO:
		TRY(get_num(r, &left, 1, &n, "bad renegotiation_info"));
		if (n != left)
			return bad(r, "bad renegotiation_info");
		o->reneg_len = (int)n;
		break;
	default: /* only their presence matters */
		break;
	}
	return SKIP(r, &left, left, "bad extension");
}

static enum tlsh_result parse_server_hello(struct rd *r, size_t left)
{
	struct tlsh_server_flight *o = r->out;
	size_t v, n, total;
	int hrr;

	TRY(get_num(r, &left, 2, &v, "short server_hello"));
	o->legacy_version = o->version = (uint16_t)v;
	TRY(get_bytes(r, &left, o->random, TLSH_RANDOM_LEN,
	              "short server_hello"));
	hrr = memcmp(o->random, hrr_random, TLSH_RANDOM_LEN) == 0;
	if (!hrr && memcmp(o->random + 24, downgrade_sentinel, 7) == 0) {
		if (o->random[31] == 1)
			o->downgrade = TLSH_DOWNGRADE_TLS12;
		else if (o->random[31] == 0)
			o->downgrade = TLSH_DOWNGRADE_TLS11;
	}
	TRY(get_num(r, &left, 1, &n, "short server_hello"));
	if (n > 32)
		return bad(r, "session id too long");
	o->session_id_len = (uint8_t)n;
	TRY(SKIP(r, &left, n, "short server_hello"));
	TRY(get_num(r, &left, 2, &v, "short server_hello"));
	o->suite = (uint16_t)v;
	TRY(get_num(r, &left, 1, &v, "short server_hello"));
	o->compression = (uint8_t)v;
	if (left == 0)
		return GO; /* no extensions (SSLv3, old TLS) */
	TRY(get_num(r, &left, 2, &total, "bad extensions length"));
	if (total != left)
		return bad(r, "bad extensions length");
	while (left > 0) {
		size_t type, elen;

		TRY(get_num(r, &left, 2, &type, "bad extension"));
		TRY(get_num(r, &left, 2, &elen, "bad extension"));
		if (elen > left)
			return bad(r, "bad extension length");
		left -= elen;
		TRY(parse_extension(r, (unsigned)type, elen, hrr));
	}
	return GO;
}

/* ---- the TLS <= 1.2 flight ---- */

static enum tlsh_result parse_certificate(struct rd *r, size_t left)
{
	struct tlsh_server_flight *o = r->out;
	size_t total, clen;

	TRY(get_num(r, &left, 3, &total, "bad certificate list"));
	if (total != left)
		return bad(r, "bad certificate list");
	while (left > 0) {
		TRY(get_num(r, &left, 3, &clen, "bad certificate length"));
		if (clen == 0 || clen > left)
			return bad(r, "bad certificate length");
		if (o->ncerts < TLSH_MAX_CERTS) {
			struct tlsh_cert *c = &o->certs[o->ncerts];

			TRY(ensure(r));
			c->len = clen;
			c->stream_off = r->stream;
			c->off = r->pos;
			c->in_buf = r->rec_end - r->pos >= clen;
		} else {
			o->certs_over = 1;
		}
		o->ncerts++;
		TRY(SKIP(r, &left, clen, "bad certificate length"));
	}
	return GO;
}

static enum tlsh_result parse_certificate_status(struct rd *r, size_t left)
{
	size_t type, n;

	TRY(get_num(r, &left, 1, &type, "bad certificate_status"));
	TRY(get_num(r, &left, 3, &n, "bad certificate_status"));
	if (n != left)
		return bad(r, "bad certificate_status");
	r->out->ocsp_stapled = 1;
	r->out->ocsp_len = n;
	return SKIP(r, &left, left, "bad certificate_status");
}

/* A DH value with a 2-byte length: copied when it fits, else measured. */
static enum tlsh_result get_dh_value(struct rd *r, size_t *left, uint8_t *dst,
                                     size_t *len)
{
	TRY(get_num(r, left, 2, len, "bad server_key_exchange"));
	if (*len == 0)
		return bad(r, "bad server_key_exchange");
	return get_bytes(r, left, *len <= TLSH_MAX_DH ? dst : NULL, *len,
	                 "bad server_key_exchange");
}

static unsigned bits_of(const uint8_t *p, size_t len)
{
	size_t i = 0;
	unsigned b;

	while (i < len && p[i] == 0)
		i++;
	if (i == len)
		return 0;
	for (b = 8; b > 0 && !(p[i] & (1u << (b - 1))); b--)
		;
	return (unsigned)((len - i - 1) * 8 + b);
}

static enum tlsh_result parse_ske(struct rd *r, size_t left)
{
	struct tlsh_server_flight *o = r->out;
	const struct tlss_suite *s = tlss_suite_by_id(o->suite);
	size_t n, v;
	enum tlss_kx kx = s ? s->kx_kind : TLSS_KX_NONE;

	o->ske = TLSH_SKE_OTHER;
	if (kx == TLSS_KX_DHE_PSK || kx == TLSS_KX_ECDHE_PSK) {
		TRY(get_num(r, &left, 2, &n, "bad server_key_exchange"));
		TRY(SKIP(r, &left, n, "bad server_key_exchange"));
	}
	if (kx == TLSS_KX_DHE || kx == TLSS_KX_DHE_PSK) {
		o->ske = TLSH_SKE_DHE;
		TRY(get_dh_value(r, &left, o->dh_p, &o->dh_plen));
		TRY(get_dh_value(r, &left, o->dh_g, &o->dh_glen));
		TRY(get_num(r, &left, 2, &o->dh_ys_len,
		            "bad server_key_exchange"));
		TRY(SKIP(r, &left, o->dh_ys_len, "bad server_key_exchange"));
		if (o->dh_plen <= TLSH_MAX_DH) {
			o->dh_bits = bits_of(o->dh_p, o->dh_plen);
		} else {
			/* not copied: the leading zero bytes are not known
			 * here, count the length (a prime > 8192 bits) */
			o->dh_bits = (unsigned)(o->dh_plen * 8);
		}
	} else if (kx == TLSS_KX_ECDHE || kx == TLSS_KX_ECDHE_PSK) {
		o->ske = TLSH_SKE_ECDHE;
		TRY(get_num(r, &left, 1, &v, "bad server_key_exchange"));
		o->ec_curve_type = (uint8_t)v;
		if (v != 3) /* explicit curve parameters: not parsed */
			return SKIP(r, &left, left, "bad server_key_exchange");
		TRY(get_num(r, &left, 2, &v, "bad server_key_exchange"));
		o->ec_curve = (uint16_t)v;
		TRY(get_num(r, &left, 1, &o->ec_point_len,
		            "bad server_key_exchange"));
		if (o->ec_point_len == 0)
			return bad(r, "bad server_key_exchange");
		TRY(SKIP(r, &left, o->ec_point_len, "bad server_key_exchange"));
	} else {
		return SKIP(r, &left, left, "bad server_key_exchange");
	}
	/* TLS 1.2 names the signature's algorithm, unless anonymous or PSK */
	if (s != NULL && !(s->flags & (TLSS_F_ANON | TLSS_F_PSK)) &&
	    o->version >= TLSS_TLS12 && left >= 2) {
		TRY(get_num(r, &left, 2, &v, "bad server_key_exchange"));
		o->ske_sigalg = (int)v;
	}
	return SKIP(r, &left, left, "bad server_key_exchange");
}

/* Check that the message at the cursor (body length left) is all in buf
 * as whole records, walking a copy of the cursor: the real parse then
 * never stops half-way through a message. */
static enum tlsh_result message_whole(struct rd *r, size_t left)
{
	struct rd probe = *r;
	enum tlsh_result res = SKIP(&probe, &left, left, "");

	need(r, probe.used);
	return res;
}

enum tlsh_result tlsh_parse_server_flight(const uint8_t *buf, size_t len,
                                          struct tlsh_server_flight *out,
                                          size_t *used)
{
	struct rd r;
	enum tlsh_result res = GO;
	unsigned seen = 0; /* message types seen, as bits (all < 32) */

	if (out == NULL)
		return TLSH_MALFORMED;
	memset(out, 0, sizeof(*out));
	out->reneg_len = -1;
	out->ske_sigalg = -1;
	memset(&r, 0, sizeof(r));
	r.buf = buf;
	r.len = buf != NULL ? len : 0;
	r.out = out;

	while (res == GO) {
		size_t type, mlen, left = 4;

		if (r.pos == r.rec_end &&
		    (res = next_record(&r, BETWEEN)) != GO)
			break;
		/* the 4-byte header may itself span records */
		if ((res = get_num(&r, &left, 1, &type, "")) != GO ||
		    (res = get_num(&r, &left, 3, &mlen, "")) != GO)
			break;
		if (r.stream > TLSH_MAX_FLIGHT ||
		    mlen > TLSH_MAX_FLIGHT - r.stream) {
			res = bad(&r, "too long");
			break;
		}
		if ((res = message_whole(&r, mlen)) != GO)
			break;
		if (type != HS_HELLO_REQUEST && type < 32) {
			if (seen & (1u << type)) {
				res = bad(&r, "repeated handshake message");
				break;
			}
			seen |= 1u << type;
		}
		if (type != HS_HELLO_REQUEST && type != HS_SERVER_HELLO &&
		    !out->hello_seen) {
			res = bad(&r, "expected server_hello");
			break;
		}
		switch (type) {
		case HS_HELLO_REQUEST:
			res = mlen == 0 ? GO : bad(&r, "bad hello_request");
			break;
		case HS_SERVER_HELLO:
			res = parse_server_hello(&r, mlen);
			if (res != GO)
				break;
			out->hello_seen = 1;
			if (memcmp(out->random, hrr_random, TLSH_RANDOM_LEN) ==
			    0) {
				res = TLSH_HELLO_RETRY;
			} else if (out->version >= TLSS_TLS13 &&
			           out->version < 0x0400) {
				out->done = 1;
				res = TLSH_SERVER_HELLO;
			}
			break;
		case HS_CERTIFICATE:
			res = parse_certificate(&r, mlen);
			break;
		case HS_CERTIFICATE_STATUS:
			res = parse_certificate_status(&r, mlen);
			break;
		case HS_SERVER_KEY_EXCHANGE:
			res = parse_ske(&r, mlen);
			break;
		case HS_CERTIFICATE_REQUEST:
			out->cert_request = 1;
			res = SKIP(&r, &mlen, mlen, "");
			break;
		case HS_SERVER_HELLO_DONE:
			if (mlen != 0) {
				res = bad(&r, "bad server_hello_done");
				break;
			}
			out->done = 1;
			res = TLSH_SERVER_HELLO;
			break;
		default:
			res = bad(&r, "unexpected handshake message");
			break;
		}
	}
	out->hs_bytes = r.stream;
	if (used != NULL)
		*used = res == TLSH_INCOMPLETE ? 0 : r.used;
	return res;
}

size_t tlsh_flight_copy(const uint8_t *buf, size_t len, size_t stream_off,
                        uint8_t *dst, size_t n)
{
	size_t p = 0, s = 0, done = 0;

	if (buf == NULL || (dst == NULL && n > 0))
		return 0;
	while (done < n && len - p >= 5) {
		size_t rlen = (size_t)buf[p + 3] << 8 | buf[p + 4];
		size_t a, b;

		if (buf[p + 1] != 3 || rlen > len - p - 5)
			return 0;
		if (buf[p] == REC_HANDSHAKE) {
			/* the part of [stream_off, stream_off + n) here */
			a = stream_off + done;
			if (a < s + rlen && a >= s) {
				b = s + rlen - a;
				if (b > n - done)
					b = n - done;
				memcpy(dst + done, buf + p + 5 + (a - s), b);
				done += b;
			}
			s += rlen;
		}
		p += 5 + rlen;
	}
	return done == n ? n : 0;
}
