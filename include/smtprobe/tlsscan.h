/* tlsscan.h - `smtprobe tls`: the TLS posture of one mail listener, found
 * with hand-built hellos and OpenSSL handshakes, each a session on the
 * batch runner (docs/internals/tls-scan.md). It never prints or exits. */
#ifndef SMTPROBE_TLSSCAN_H
#define SMTPROBE_TLSSCAN_H

#include <stddef.h>
#include <stdint.h>

#include "session.h"
#include "software.h"
#include "tlsposture.h"

#define SMTPROBE_SCAN_MAX_SUITES 96 /* accepted suites of one protocol */
#define SMTPROBE_SCAN_MAX_GROUPS 16

struct smtprobe_tls_scan_params {
	const char *host;
	unsigned port;
	/* SMTPROBE_TLSMODE_REQUIRED (STARTTLS), SMTPROBE_TLSMODE_IMPLICIT,
	 * or SMTPROBE_TLSMODE_AUTO: found out by the first connection */
	enum smtprobe_tls_mode tls;
	const char *helo;
	int family;              /* 0, 4 or 6 */
	const char *sni;         /* NULL: the host when it is a name */
	const char *verify_host; /* NULL: the host */
	const char *ca_file, *ca_path;
	unsigned max_connections; /* at once; 0: 8 */
	unsigned pause_ms;        /* between two connections; 0: none */
	unsigned timeout_ms;      /* per reply; 0: 10 s */
	int quick;                /* a few handshakes: see tls-scan.md */
	int verify_everywhere;    /* --tls-verify */
	/* the whole scan's deadline (0: none): the probes it leaves out are
	 * unanswered, the lists incomplete, and truncated set */
	unsigned max_ms;
	const char *profile; /* NULL, or a name smtprobe_tls_profile_known */
	smtprobe_event_cb on_event; /* the first session's transcript */
	void *event_arg;
};

struct smtprobe_tls_scan_suite {
	uint16_t id;
	const char *name; /* OpenSSL's */
	const char *kx, *au, *enc;
	int bits;
	enum smtprobe_suite_strength strength;
	int dhe, ecdhe; /* the key exchange is ephemeral DH / ECDH */
	char idname[8]; /* "0x1234": the name of a suite the table lacks */
};

struct smtprobe_tls_scan {
	/* facts and findings */
	struct smtprobe_tls_posture posture;
	size_t nfindings;
	struct smtprobe_tls_finding findings[SMTPROBE_MAX_FINDINGS];
	/* per protocol: the accepted suites, in the server's order when it
	 * has one; server_preference 1 server, 0 client, -1 not known */
	size_t nsuites[SMTPROBE_TP_LAST];
	struct smtprobe_tls_scan_suite suites[SMTPROBE_TP_LAST]
	                                     [SMTPROBE_SCAN_MAX_SUITES];
	int server_preference[SMTPROBE_TP_LAST];
	/* a probe of the list went unanswered (refused, reset, 421, timeout
	 * even after its retries): the list may lack suites */
	int suites_incomplete[SMTPROBE_TP_LAST];
	size_t ngroups;
	const char *groups[SMTPROBE_SCAN_MAX_GROUPS];
	/* the first (OpenSSL) handshake: negotiated protocol, suite, chain;
	 * when it failed (and the raw hellos went on), why */
	struct smtprobe_tls_facts tls;
	char handshake_error[512];
	int cert_from_flight; /* tls.chain[0] came from a raw flight: the
	                         leaf's facts, no verification */
	struct smtprobe_software_guess software;
	enum smtprobe_tls_mode mode; /* IMPLICIT or REQUIRED (STARTTLS) */
	char banner[512];
	/* the scan itself */
	int ran;                /* 0: it could not run (error says why) */
	int profile_deviations; /* the profile's findings, medium or worse */
	char error[512];
	unsigned connections; /* TCP connections opened */
	unsigned retries;     /* probes run again after a 421, refusal, reset */
	int truncated;        /* max_ms ended the scan early */
	double ms;
};

/* Run the scan (blocks; its own loop). Returns 0 when it ran (even with
 * findings), -1 when it could not (out->error). */
int smtprobe_tls_scan(const struct smtprobe_tls_scan_params *p,
                      struct smtprobe_tls_scan *out);

/* 0 when no finding is high or critical (and, with a profile, nothing
 * deviates from it beyond a "phase out"), 1 otherwise, 2 when the scan did
 * not run. */
int smtprobe_tls_scan_exit(const struct smtprobe_tls_scan *s);

/* ---- profiles (profile.c) ---- */
int smtprobe_tls_profile_known(const char *name);
/* "mozilla-modern, mozilla-intermediate, ..." for help and errors */
const char *smtprobe_tls_profile_names(void);
/* The deviations of scan s from profile `name`, as findings with ids
 * "profile.protocol", "profile.suite", "profile.key", "profile.dh",
 * "profile.signature"; returns how many were written (at most max). */
size_t smtprobe_tls_profile_check(const char *name,
                                  const struct smtprobe_tls_scan *s,
                                  struct smtprobe_tls_finding *out, size_t max);

#endif
