/* assure_int.h - what the files of lib/assure share: a growing text for
 * details, the certificate date as a timestamp, the names of the
 * protocols. Internal to lib/assure. */
#ifndef SMTPROBE_ASSURE_INT_H
#define SMTPROBE_ASSURE_INT_H

#include <stddef.h>
#include <time.h>

/* A bounded text built by appending lines (truncated, never overrun). */
struct assure_text {
	char buf[4096];
	size_t len;
};
void assure_text_init(struct assure_text *t);
/* Append "prefix: value\n" (value escaped already; empty values skipped). */
void assure_text_line(struct assure_text *t, const char *prefix,
                      const char *value);

/* A suite "KIND HOST:PORT" that took ms and ended now; NULL when out of
 * memory. */
struct smtprobe_outcome;
struct smtprobe_suite;
struct smtprobe_suite *assure_suite(struct smtprobe_outcome *o,
                                    const char *kind, const char *host,
                                    unsigned port, double ms);
/* smtprobe_tls_cert_not_after_timestamp_seconds from lib/tls's
 * not_after ("" or unparsable: none). */
void assure_cert_expiry(struct smtprobe_outcome *o, const char *not_after);

/* Milliseconds as seconds rounded to the microsecond, so that metrics read
 * 0.00169, not 0.0016897009999999998. */
double assure_seconds(double ms);

/* "2027-01-31T12:00:00Z" (lib/tls's form) as seconds since the epoch; -1
 * when it does not parse. */
long long assure_iso_epoch(const char *iso);

/* What a target (or module) of a policy file turns into: the session
 * parameters every probe starts from, with the storage they point into. */
#include "smtprobe/policy.h"
#include "smtprobe/session.h"
struct assure_session {
	char host[256];
	unsigned port;
	char helo[256];
	char secret[1024];
	struct smtprobe_params p;
	enum smtprobe_tls_mode mode; /* as the target asks */
	unsigned timeout_ms;         /* per reply */
};
/* Fill s for target t at host:port (port 0: the target's, else the
 * default of its TLS mode); deadline_ms (0: none) bounds the timeouts.
 * 0, or -1 with err (a secret that cannot be read, a bad CA path). The
 * secret is only ever in s->secret: wipe it with assure_session_wipe. */
int assure_session_init(struct assure_session *s,
                        const struct smtprobe_pol_target *t, const char *host,
                        unsigned port, unsigned deadline_ms,
                        smtprobe_env_fn env, char *err, size_t errsz);
void assure_session_wipe(struct assure_session *s);

/* The parameters of the ladder, the relay audit (on s's port, with t's
 * names) and the TLS scan that s's target asks for; they point into s and
 * t. */
#include "smtprobe/check.h"
#include "smtprobe/relay.h"
#include "smtprobe/tlsscan.h"
void assure_check_params(const struct assure_session *s,
                         struct smtprobe_check_params *cp);
void assure_relay_params(const struct assure_session *s,
                         const struct smtprobe_pol_target *t,
                         struct smtprobe_relay_params *rp);
void assure_tls_params(const struct assure_session *s,
                       struct smtprobe_tls_scan_params *tp);

#endif
