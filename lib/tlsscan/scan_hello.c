/* scan_hello.c - the hello layer as the scan needs it (scan_int.h): hellos
 * by protocol with the extensions whose answers are facts, the server's
 * answer read into a few fields, suites and groups by number. On top of
 * hello.c (bytes) and suites.c (the table). Pure but for the random bytes
 * of each hello (getrandom). */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "hello.h"
#include "scan_int.h"
#include "suites.h"
#include "banned.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const uint16_t wire[SMTPROBE_TP_LAST] = {
        TLSS_SSL3, TLSS_TLS1, TLSS_TLS11, TLSS_TLS12, TLSS_TLS13};

static int proto_of(uint16_t w)
{
	for (int v = 0; v < SMTPROBE_TP_LAST; v++)
		if (wire[v] == w)
			return v;
	return -1;
}

/* The groups a hello offers when the caller names none: the common
 * curves first, then the finite-field groups (TLS 1.3 and RFC 7919). */
static const uint16_t groups13[] = {TLSH_GROUP_X25519,    TLSH_GROUP_SECP256R1,
                                    TLSH_GROUP_SECP384R1, TLSH_GROUP_SECP521R1,
                                    TLSH_GROUP_X448,      TLSH_GROUP_FFDHE2048,
                                    TLSH_GROUP_FFDHE3072, TLSH_GROUP_FFDHE4096,
                                    TLSH_GROUP_FFDHE6144, TLSH_GROUP_FFDHE8192};
static const uint16_t groups12[] = {TLSH_GROUP_X25519,
                                    TLSH_GROUP_SECP256R1,
                                    TLSH_GROUP_SECP384R1,
                                    TLSH_GROUP_SECP521R1,
                                    TLSH_GROUP_X448,
                                    26,
                                    27,
                                    28 /* brainpoolP256r1, P384r1, P512r1 */};

long scan_build_hello(enum smtprobe_tls_proto v, const uint16_t *suites,
                      size_t n, const uint16_t *groups, size_t ngroups,
                      const char *sni, unsigned flags, uint8_t *out,
                      size_t outsz)
{
	uint8_t rnd[TLSH_RANDOM_LEN], sid[32], x25519[TLSH_X25519_LEN],
	        x448[TLSH_X448_LEN];
	struct tlsh_client_hello h;

	if ((unsigned)v >= SMTPROBE_TP_LAST)
		return -1;
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd) ||
	    getrandom(sid, sizeof(sid), 0) != (ssize_t)sizeof(sid) ||
	    getrandom(x25519, sizeof(x25519), 0) != (ssize_t)sizeof(x25519) ||
	    getrandom(x448, sizeof(x448), 0) != (ssize_t)sizeof(x448))
		return -1;
	memset(&h, 0, sizeof(h));
	h.version = wire[v];
	h.random = rnd;
	h.suites = suites;
	h.nsuites = n;
	h.sni = sni;
	h.x25519 = x25519;
	h.x448 = x448;
	if (v == SMTPROBE_TP_TLS13) {
		h.session_id = sid; /* middlebox compatibility */
		h.groups = ngroups ? groups : groups13;
		h.ngroups = ngroups ? ngroups : NELEM(groups13);
		/* a share for the first group only: a server that prefers
		 * another asks for it (HelloRetryRequest), which still says
		 * "TLS 1.3, this suite" */
		h.shares = h.groups;
		h.nshares = 1;
	} else if (v != SMTPROBE_TP_SSL3) {
		h.groups = ngroups ? groups : groups12;
		h.ngroups = ngroups ? ngroups : NELEM(groups12);
		h.options = TLSH_O_RENEG_INFO | TLSH_O_EMS |
		            TLSH_O_SESSION_TICKET | TLSH_O_STATUS_REQUEST;
	} else {
		h.options = TLSH_O_RENEG_SCSV;
	}
	if (flags & SCAN_COMPRESSION)
		h.options |= TLSH_O_DEFLATE;
	if (flags & SCAN_FALLBACK_SCSV)
		h.options |= TLSH_O_FALLBACK_SCSV;
	return tlsh_build_client_hello(&h, out, outsz);
}

int scan_answer_whole(const unsigned char *buf, size_t len, void *arg)
{
	struct tlsh_server_flight f;
	size_t used = 0;
	(void)arg;

	return tlsh_parse_server_flight(buf, len, &f, &used) != TLSH_INCOMPLETE;
}

void scan_read_answer(const uint8_t *buf, size_t len, struct scan_answer *a)
{
	struct tlsh_server_flight f;
	size_t used = 0;
	enum tlsh_result r = tlsh_parse_server_flight(buf, len, &f, &used);

	memset(a, 0, sizeof(*a));
	a->version = -1;
	a->alert = -1;
	if (len == 0)
		return; /* SCAN_A_NONE: a close, a reset, a timeout */
	switch (r) {
	case TLSH_INCOMPLETE:
		/* the flight never ended (a close, the cap): what came of
		 * the ServerHello still counts */
		if (!f.hello_seen)
			return;
		/* fall through */
	case TLSH_SERVER_HELLO:
	case TLSH_HELLO_RETRY:
		a->kind = r == TLSH_HELLO_RETRY ? SCAN_A_RETRY : SCAN_A_HELLO;
		a->version = proto_of(f.version);
		a->suite = f.suite;
		a->compression = f.compression;
		a->reneg_info =
		        f.reneg_len >= 0 && (f.exts & TLSH_EXT_RENEG_INFO) != 0;
		a->group = f.key_share_group
		                   ? f.key_share_group
		                   : (f.ske == TLSH_SKE_ECDHE ? f.ec_curve : 0);
		a->ncerts = f.ncerts;
		if (f.ncerts > 0 && f.certs[0].len <= sizeof(a->leaf) &&
		    tlsh_flight_copy(buf, len, f.certs[0].stream_off, a->leaf,
		                     f.certs[0].len) == f.certs[0].len)
			a->leaf_len = f.certs[0].len;
		if (f.ske == TLSH_SKE_DHE) {
			a->dh_bits = (int)f.dh_bits;
			if (f.dh_plen > 0 && f.dh_plen <= TLSH_MAX_DH)
				a->dh_group =
				        tlsh_dh_group_name(f.dh_p, f.dh_plen);
		}
		return;
	case TLSH_ALERT:
		a->kind = SCAN_A_ALERT;
		a->alert = f.alert_desc;
		return;
	case TLSH_NOT_TLS:
		a->kind = SCAN_A_NOT_TLS;
		return;
	default:
		a->kind = SCAN_A_MALFORMED;
		return;
	}
}

size_t scan_suites_of(enum smtprobe_tls_proto v, uint16_t *out, size_t max)
{
	if ((unsigned)v >= SMTPROBE_TP_LAST)
		return 0;
	size_t n = tlss_suites_for_version(wire[v], out, max);
	return n < max ? n : max;
}

static enum smtprobe_suite_strength strength_of(enum tlss_strength s)
{
	switch (s) {
	case TLSS_STRENGTH_NULL:
		return SMTPROBE_STRENGTH_NULL;
	case TLSS_STRENGTH_EXPORT:
		return SMTPROBE_STRENGTH_EXPORT;
	case TLSS_STRENGTH_ANON:
		return SMTPROBE_STRENGTH_ANON;
	case TLSS_STRENGTH_LOW:
		return SMTPROBE_STRENGTH_LOW;
	case TLSS_STRENGTH_MEDIUM:
		return SMTPROBE_STRENGTH_MEDIUM;
	default:
		return SMTPROBE_STRENGTH_HIGH;
	}
}

int scan_suite_info(uint16_t id, struct smtprobe_tls_scan_suite *out)
{
	const struct tlss_suite *t = tlss_suite_by_id(id);

	memset(out, 0, sizeof(*out));
	out->id = id;
	if (!t) {
		snprintf(out->idname, sizeof(out->idname), "0x%04X", id);
		out->name = out->idname;
		out->strength = SMTPROBE_STRENGTH_HIGH;
		return -1;
	}
	out->name = t->name;
	out->kx = t->kx;
	out->au = t->au;
	out->enc = t->enc;
	out->bits = t->bits;
	out->strength = strength_of(t->strength);
	out->dhe = t->kx_kind == TLSS_KX_DHE;
	out->ecdhe = t->kx_kind == TLSS_KX_ECDHE;
	return 0;
}

void scan_suite_fact(uint16_t id, struct smtprobe_tls_suite_fact *out)
{
	const struct tlss_suite *t = tlss_suite_by_id(id);

	memset(out, 0, sizeof(*out));
	out->strength = SMTPROBE_STRENGTH_HIGH;
	if (!t)
		return;
	out->name = t->name;
	out->strength = strength_of(t->strength);
	out->rc4 = strncmp(t->enc, "RC4", 3) == 0;
	out->des3 = strncmp(t->enc, "3DES", 4) == 0;
	out->cbc = (t->flags & TLSS_F_CBC) != 0;
	out->pfs = (t->flags & TLSS_F_FS) != 0;
}

size_t scan_groups_of(enum smtprobe_tls_proto v, uint16_t *out, size_t max)
{
	const uint16_t *g = v == SMTPROBE_TP_TLS13 ? groups13 : groups12;
	size_t n = v == SMTPROBE_TP_TLS13 ? NELEM(groups13) : NELEM(groups12);

	if (n > max)
		n = max;
	memcpy(out, g, n * sizeof(*g));
	return n;
}

const char *scan_group_name(uint16_t group)
{
	return tlsh_group_name(group);
}
