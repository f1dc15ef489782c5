/* tlsposture.h - what a TLS scan learned about one mail listener (the
 * posture), and the findings it leads to: stable ids, severities that
 * know mail (RFC 7435: a port-25 MX without AUTH is opportunistic), the
 * text and the fix for the software that is running. Pure: facts in,
 * findings out (lib/tlsscan/findings.c). */
#ifndef SMTPROBE_TLSPOSTURE_H
#define SMTPROBE_TLSPOSTURE_H

#include <stddef.h>

#include "software.h"

enum smtprobe_tls_proto {
	SMTPROBE_TP_SSL3,
	SMTPROBE_TP_TLS10,
	SMTPROBE_TP_TLS11,
	SMTPROBE_TP_TLS12,
	SMTPROBE_TP_TLS13,
	SMTPROBE_TP_LAST
};

/* "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3" (the JSON keys). */
const char *smtprobe_tls_proto_name(enum smtprobe_tls_proto p);

/* Tri-state facts: not tested (or could not be told), no, yes. */
enum smtprobe_tri { SMTPROBE_UNKNOWN = -1, SMTPROBE_NO = 0, SMTPROBE_YES = 1 };

enum smtprobe_suite_strength {
	SMTPROBE_STRENGTH_NULL,   /* no encryption */
	SMTPROBE_STRENGTH_ANON,   /* no authentication */
	SMTPROBE_STRENGTH_EXPORT, /* 40/56-bit export grade */
	SMTPROBE_STRENGTH_LOW,    /* DES, RC4, RC2 */
	SMTPROBE_STRENGTH_MEDIUM, /* 3DES, IDEA, SEED */
	SMTPROBE_STRENGTH_HIGH,
	SMTPROBE_STRENGTH_LAST
};

/* "null", "anon", "export", "low", "medium", "high". */
const char *smtprobe_suite_strength_name(enum smtprobe_suite_strength s);

/* One accepted suite, as the scan names and classes it. */
struct smtprobe_tls_suite_fact {
	const char *name; /* OpenSSL's name */
	enum smtprobe_suite_strength strength;
	int rc4, des3, cbc; /* the cipher */
	int pfs;            /* ephemeral key exchange (or TLS 1.3) */
};

#define SMTPROBE_POSTURE_MAX_SUITES 128

struct smtprobe_tls_posture {
	/* the listener */
	unsigned port;
	int implicit;          /* TLS from the first byte (465 style) */
	int starttls_offered;  /* STARTTLS in EHLO (implicit: 1) */
	int auth_offered;      /* AUTH offered, before or after TLS */
	int verify_everywhere; /* --tls-verify: trust counts on port 25 too */
	enum smtprobe_software software;

	/* protocols: tested[p] / offered[p] */
	int tested[SMTPROBE_TP_LAST];
	int offered[SMTPROBE_TP_LAST];
	/* the accepted suites of every protocol, merged (one entry each) */
	size_t nsuites;
	struct smtprobe_tls_suite_fact suites[SMTPROBE_POSTURE_MAX_SUITES];
	/* DHE: the prime's bits (0: no DHE) and its name (NULL: custom) */
	int dh_bits;
	const char *dh_group;

	/* the certificate (the leaf) and its chain */
	int have_cert;
	int trust_unknown;  /* the leaf came from a raw flight: its chain was
	                       not verified (no trust, chain or OCSP facts) */
	long days_left;     /* negative: expired */
	int not_yet_valid;  /* notBefore in the future */
	long lifetime_days; /* notAfter - notBefore */
	char key_type[16];  /* "RSA", "EC", ... */
	int key_bits;
	char sig_alg[64]; /* "sha1WithRSAEncryption" ... */
	int self_signed;  /* the leaf signs itself */
	int trusted;      /* the chain verifies against the trust store */
	char verify_reason[256];
	int chain_incomplete;     /* an intermediate is missing */
	char missing_issuer[512]; /* the subject of the first missing one */
	int host_checked, host_match;
	char host[256]; /* the name checked */
	enum smtprobe_tri ocsp_stapled;
	int must_staple;      /* the leaf demands a stapled OCSP response */
	int chain_misordered; /* a certificate not followed by its issuer */

	/* the session */
	int handshake_broken; /* a full handshake failed on the server's
	                         side (its alert, or it hung up) */
	enum smtprobe_tri compression;
	enum smtprobe_tri secure_renegotiation;
	enum smtprobe_tri fallback_scsv; /* inappropriate_fallback seen */
	enum smtprobe_tri starttls_injection;
	enum smtprobe_tri resume_ticket; /* a ticket resumed the session */
	enum smtprobe_tri resume_id;     /* TLS <= 1.2: a session id did */
	enum smtprobe_tri early_data;    /* TLS 1.3 0-RTT allowed */
	/* a renegotiation the client asked for completed (TLS <= 1.2) */
	enum smtprobe_tri client_renegotiation;
};

enum smtprobe_tls_severity {
	SMTPROBE_SEV_OK,
	SMTPROBE_SEV_INFO,
	SMTPROBE_SEV_LOW,
	SMTPROBE_SEV_MEDIUM,
	SMTPROBE_SEV_HIGH,
	SMTPROBE_SEV_CRITICAL,
	SMTPROBE_SEV_LAST
};

/* "ok", "info", "low", "medium", "high", "critical". */
const char *smtprobe_tls_severity_name(enum smtprobe_tls_severity s);

#define SMTPROBE_FINDING_TEXT 320
#define SMTPROBE_FINDING_FIX  768
#define SMTPROBE_MAX_FINDINGS 48

struct smtprobe_tls_finding {
	const char *id; /* "protocol.tls1_0", "cert.expired" ... */
	enum smtprobe_tls_severity severity;
	char text[SMTPROBE_FINDING_TEXT];
	char fix[SMTPROBE_FINDING_FIX]; /* "" when there is nothing to do */
};

/* Whether trust and host-name problems count on this listener: where
 * clients authenticate (465, 587, AUTH offered) or everywhere with
 * verify_everywhere; not on a port-25 MX without AUTH (opportunistic). */
int smtprobe_tls_trust_counts(const struct smtprobe_tls_posture *p);

/* The findings, worst first (equal severities in a fixed order). A
 * finding that does not hold is left out; an untested fact gives none.
 * Returns how many were written (at most max). */
size_t smtprobe_tls_findings(const struct smtprobe_tls_posture *p,
                             struct smtprobe_tls_finding *out, size_t max);

#endif
