/* ehlo.h - EHLO/LHLO capability parsing (RFC 5321 4.1.1.1 and the
 * extension RFCs). Pure: input is the text lines of a 250 reply. */
#ifndef SMTPROBE_EHLO_H
#define SMTPROBE_EHLO_H

#include <stddef.h>

#define SMTPROBE_MAX_HOSTNAME     256
#define SMTPROBE_MAX_EHLO_UNKNOWN 1024

enum smtprobe_cap {
	SMTPROBE_CAP_STARTTLS = 1u << 0,
	SMTPROBE_CAP_AUTH = 1u << 1,
	SMTPROBE_CAP_SIZE = 1u << 2,
	SMTPROBE_CAP_PIPELINING = 1u << 3,
	SMTPROBE_CAP_8BITMIME = 1u << 4,
	SMTPROBE_CAP_SMTPUTF8 = 1u << 5,
	SMTPROBE_CAP_CHUNKING = 1u << 6,
	SMTPROBE_CAP_DSN = 1u << 7,
	SMTPROBE_CAP_ENHANCEDSTATUSCODES = 1u << 8,
	SMTPROBE_CAP_REQUIRETLS = 1u << 9,
	SMTPROBE_CAP_BINARYMIME = 1u << 10,
	SMTPROBE_CAP_AUTH_OLD = 1u << 11, /* the pre-standard "AUTH=" form */
};

/* SASL mechanisms the client knows, as bits (unknown ones are kept in the
 * auth string only). */
enum smtprobe_mech {
	SMTPROBE_MECH_PLAIN = 1u << 0,
	SMTPROBE_MECH_LOGIN = 1u << 1,
	SMTPROBE_MECH_CRAM_MD5 = 1u << 2,
	SMTPROBE_MECH_DIGEST_MD5 = 1u << 3,
	SMTPROBE_MECH_SCRAM_SHA_1 = 1u << 4,
	SMTPROBE_MECH_SCRAM_SHA_256 = 1u << 5,
	SMTPROBE_MECH_NTLM = 1u << 6,
	SMTPROBE_MECH_XOAUTH2 = 1u << 7,
	SMTPROBE_MECH_OAUTHBEARER = 1u << 8,
};

struct smtprobe_ehlo {
	char host[SMTPROBE_MAX_HOSTNAME]; /* first word of the first line,
	                                     escaped */
	unsigned caps;                    /* enum smtprobe_cap */
	unsigned long long size;          /* SIZE value, 0 = none given */
	unsigned mechs; /* enum smtprobe_mech, union of both AUTH forms */
	char auth[SMTPROBE_MAX_EHLO_UNKNOWN];    /* mechanisms as advertised,
	                                            space-separated */
	char unknown[SMTPROBE_MAX_EHLO_UNKNOWN]; /* unknown keywords,
	                                            space-separated */
	int truncated; /* auth/unknown lists hit their cap */
};

/* Parse the escaped text lines of an EHLO/LHLO 250 reply (the first line
 * is the greeting). Never fails: odd lines are kept as unknown. */
void smtprobe_ehlo_parse(struct smtprobe_ehlo *out, const char *const *lines,
                         size_t nlines);

/* One capability line (not the greeting); used by the above and fuzzing. */
void smtprobe_ehlo_parse_line(struct smtprobe_ehlo *out, const char *line,
                              size_t len);

/* Mechanism name <-> bit. Names are upper case, e.g. "SCRAM-SHA-256". */
unsigned smtprobe_mech_from_name(const char *name, size_t len);
const char *smtprobe_mech_name(unsigned mech);

/* The strongest of the offered mechanisms the client supports, or 0.
 * Order: SCRAM-SHA-256, SCRAM-SHA-1, CRAM-MD5, DIGEST-MD5, NTLM, PLAIN, LOGIN
 * (bearer-token mechanisms are only used when asked for by name). */
unsigned smtprobe_mech_strongest(unsigned offered);

#endif
