/* assure.h - continuous assurance above the audits: a check, relay or tls
 * result as an outcome (outcome.h: test cases for JUnit and TAP, metrics
 * for Prometheus), and one probe of the exporter (a module of
 * modules.yaml against one target). The metric names and help texts are
 * documented in smtprobe-exporter(1), METRICS. */
#ifndef SMTPROBE_ASSURE_H
#define SMTPROBE_ASSURE_H

#include <stddef.h>

#include "check.h"
#include "outcome.h"
#include "policy.h"
#include "relay.h"
#include "tlsscan.h"

/* Each adds one suite (a test case per step, per relay test and scenario
 * verdict, per finding) and its metrics to o. */
void smtprobe_assure_check(const struct smtprobe_check_result *r,
                           struct smtprobe_outcome *o);
void smtprobe_assure_relay(const struct smtprobe_relay_report *r,
                           struct smtprobe_outcome *o);
void smtprobe_assure_tls(const struct smtprobe_tls_scan_params *p,
                         const struct smtprobe_tls_scan *s,
                         struct smtprobe_outcome *o);

/* Run module m against host (port: 0 for the module's) within deadline_ms
 * (0: the module's own timeouts only), adding to o the kind's metrics and
 * smtprobe_probe_success and smtprobe_probe_duration_seconds. Returns 1
 * when the probe succeeded, 0 when it ran and failed, -1 when it could not
 * start (err: a secret missing, a bad target). Blocks; safe to call from
 * several threads at once. */
int smtprobe_assure_probe(const struct smtprobe_pol_target *m,
                          const char *host, unsigned port,
                          unsigned deadline_ms, struct smtprobe_outcome *o,
                          char *err, size_t errsz);

#endif
