/* convert_tls.c - the scan of `smtprobe tls` as an outcome: a suite
 * "tls HOST:PORT" with a case "scan" (an error when the scan could not
 * run) and a case per finding (high and critical findings, and a
 * profile's deviations of medium or worse, fail - the same rule as the
 * exit code; the others pass with their text), and the metrics
 * smtprobe_probe_success, smtprobe_probe_duration_seconds,
 * smtprobe_tls_protocol_accepted{version}, smtprobe_tls_findings{severity},
 * smtprobe_tls_cert_not_after_timestamp_seconds and
 * smtprobe_tls_cert_verified. Pure. */
#include <stdio.h>
#include <string.h>

#include "assure_int.h"
#include "smtprobe/assure.h"
#include "banned.h"

static int finding_fails(const struct smtprobe_tls_finding *f)
{
	if (f->severity >= SMTPROBE_SEV_HIGH)
		return 1;
	return strncmp(f->id, "profile.", 8) == 0 &&
	       f->severity >= SMTPROBE_SEV_MEDIUM;
}

static void tls_cases(const struct smtprobe_tls_scan *s,
                      struct smtprobe_outcome *o, struct smtprobe_suite *su)
{
	if (!s->ran) {
		smtprobe_outcome_case(
		        o, su, "scan", "smtprobe.tls", SMTPROBE_CASE_ERROR,
		        s->ms / 1000.0,
		        s->error[0] ? s->error : "the scan did not run", NULL);
		return;
	}
	char facts[256];
	snprintf(facts, sizeof(facts), "%u connections, %zu findings",
	         s->connections, s->nfindings);
	smtprobe_outcome_case(
	        o, su, "scan", "smtprobe.tls",
	        s->truncated ? SMTPROBE_CASE_ERROR : SMTPROBE_CASE_PASS,
	        s->ms / 1000.0,
	        s->truncated ? "the deadline ended the scan: its lists may be "
	                       "incomplete"
	                     : NULL,
	        facts);
	for (size_t i = 0; i < s->nfindings; i++) {
		const struct smtprobe_tls_finding *f = &s->findings[i];
		struct assure_text d;
		assure_text_init(&d);
		assure_text_line(&d, "severity",
		                 smtprobe_tls_severity_name(f->severity));
		assure_text_line(&d, "finding", f->text);
		assure_text_line(&d, "fix", f->fix);
		smtprobe_outcome_case(o, su, f->id, "smtprobe.tls",
		                      finding_fails(f) ? SMTPROBE_CASE_FAIL
		                                       : SMTPROBE_CASE_PASS,
		                      -1, f->text, d.buf);
	}
}

static void tls_metrics(const struct smtprobe_tls_scan *s,
                        struct smtprobe_outcome *o)
{
	smtprobe_outcome_metric(
	        o, "smtprobe_probe_success", "gauge",
	        "1 when the scan ran (within its deadline) and found nothing "
	        "high or "
	        "critical",
	        smtprobe_tls_scan_exit(s) == 0 && !s->truncated ? 1 : 0,
	        SMTPROBE_LABELS_END);
	smtprobe_outcome_metric(o, "smtprobe_probe_duration_seconds", "gauge",
	                        "How long the probe took",
	                        assure_seconds(s->ms), SMTPROBE_LABELS_END);
	if (!s->ran)
		return;
	const struct smtprobe_tls_posture *p = &s->posture;
	for (int v = 0; v < SMTPROBE_TP_LAST; v++)
		if (p->tested[v])
			smtprobe_outcome_metric(
			        o, "smtprobe_tls_protocol_accepted", "gauge",
			        "1 when the listener accepts the protocol "
			        "version, "
			        "0 when it refuses it (untested versions "
			        "absent)",
			        p->offered[v] ? 1 : 0, "version",
			        smtprobe_tls_proto_name(v),
			        SMTPROBE_LABELS_END);
	size_t count[SMTPROBE_SEV_LAST] = {0};
	for (size_t i = 0; i < s->nfindings; i++)
		if ((unsigned)s->findings[i].severity < SMTPROBE_SEV_LAST)
			count[s->findings[i].severity]++;
	for (int v = SMTPROBE_SEV_INFO; v < SMTPROBE_SEV_LAST; v++)
		smtprobe_outcome_metric(o, "smtprobe_tls_findings", "gauge",
		                        "The scan's findings by severity",
		                        (double)count[v], "severity",
		                        smtprobe_tls_severity_name(v),
		                        SMTPROBE_LABELS_END);
	if (!p->have_cert)
		return;
	if (!p->trust_unknown)
		smtprobe_outcome_metric(
		        o, "smtprobe_tls_cert_verified", "gauge",
		        "1 when the certificate chain verified against the "
		        "trust "
		        "anchors and named the host",
		        p->trusted && (!p->host_checked || p->host_match) ? 1
		                                                          : 0,
		        SMTPROBE_LABELS_END);
	if (s->tls.nchain > 0)
		assure_cert_expiry(o, s->tls.chain[0].not_after);
}

void smtprobe_assure_tls(const struct smtprobe_tls_scan_params *p,
                         const struct smtprobe_tls_scan *s,
                         struct smtprobe_outcome *o)
{
	struct smtprobe_suite *su =
	        assure_suite(o, "tls", p->host, p->port, s->ms);
	if (su) {
		tls_cases(s, o, su);
	}
	tls_metrics(s, o);
}
