/* convert_check.c - the result of `smtprobe check` as an outcome: one suite
 * "check HOST:PORT" with a case per step of the ladder (pass, fail, skip; a
 * warning passes, with its diagnosis as output, unless the run is strict),
 * and the metrics smtprobe_probe_success, smtprobe_probe_duration_seconds,
 * smtprobe_step_success{step}, smtprobe_step_duration_seconds{step},
 * smtprobe_tls_version_info{version},
 * smtprobe_tls_cert_not_after_timestamp_seconds and
 * smtprobe_tls_cert_verified. Pure. */
#include <stdio.h>

#include "assure_int.h"
#include "smtprobe/assure.h"
#include "banned.h"

/* The evidence, the diagnosis and the fixes of one step. */
static void step_detail(const struct smtprobe_check_finding *f,
                        struct assure_text *t)
{
	assure_text_init(t);
	assure_text_line(t, "evidence", f->detail);
	assure_text_line(t, "diagnosis", f->summary);
	for (int i = 0; i < SMTPROBE_CK_MAX_ITEMS && f->causes[i]; i++)
		assure_text_line(t, "cause", f->causes[i]);
	for (int i = 0; i < SMTPROBE_CK_MAX_ITEMS && f->fixes[i]; i++)
		assure_text_line(t, "fix", f->fixes[i]);
	assure_text_line(t, "see", f->reference);
}

static void check_cases(const struct smtprobe_check_result *r,
                        struct smtprobe_outcome *o, struct smtprobe_suite *s)
{
	for (int i = 0; i < SMTPROBE_CK_LAST; i++) {
		const struct smtprobe_check_finding *f = &r->step[i];
		const char *name = smtprobe_check_step_name(i);
		struct assure_text t;
		enum smtprobe_case_status st = SMTPROBE_CASE_PASS;
		const char *msg = NULL;

		step_detail(f, &t);
		switch (f->status) {
		case SMTPROBE_CK_SKIP:
			st = SMTPROBE_CASE_SKIP;
			msg = f->detail[0] ? f->detail : "not run";
			break;
		case SMTPROBE_CK_FAIL:
			st = SMTPROBE_CASE_FAIL;
			msg = f->summary[0] ? f->summary : f->detail;
			break;
		case SMTPROBE_CK_WARN:
			st = r->strict ? SMTPROBE_CASE_FAIL
			               : SMTPROBE_CASE_PASS;
			msg = f->summary[0] ? f->summary : f->detail;
			break;
		case SMTPROBE_CK_PASS:
		case SMTPROBE_CK_INFO:
			break;
		}
		smtprobe_outcome_case(
		        o, s, name, "smtprobe.check", st,
		        f->status == SMTPROBE_CK_SKIP ? -1 : f->ms / 1000.0,
		        msg, t.len ? t.buf : NULL);
	}
}

static void check_metrics(const struct smtprobe_check_result *r,
                          struct smtprobe_outcome *o)
{
	for (int i = 0; i < SMTPROBE_CK_LAST; i++) {
		const struct smtprobe_check_finding *f = &r->step[i];
		const char *name = smtprobe_check_step_name(i);
		if (f->status == SMTPROBE_CK_SKIP)
			continue;
		smtprobe_outcome_metric(
		        o, "smtprobe_step_success", "gauge",
		        "1 when the step of the ladder passed (or only "
		        "warned), "
		        "0 when it failed; skipped steps are absent",
		        f->status == SMTPROBE_CK_FAIL ? 0 : 1, "step", name,
		        SMTPROBE_LABELS_END);
		smtprobe_outcome_metric(o, "smtprobe_step_duration_seconds",
		                        "gauge", "How long the step took",
		                        assure_seconds(f->ms), "step", name,
		                        SMTPROBE_LABELS_END);
	}
	smtprobe_outcome_metric(o, "smtprobe_probe_success", "gauge",
	                        "1 when every step passed (warnings allowed)",
	                        r->exit_code == 0 ? 1 : 0, SMTPROBE_LABELS_END);
	smtprobe_outcome_metric(o, "smtprobe_probe_duration_seconds", "gauge",
	                        "How long the probe took",
	                        assure_seconds(r->ms), SMTPROBE_LABELS_END);
	const struct smtprobe_result *ses = &r->session;
	if (!ses->have_tls)
		return;
	smtprobe_outcome_metric(o, "smtprobe_tls_version_info", "gauge",
	                        "The TLS protocol version negotiated", 1,
	                        "version", ses->tls.protocol,
	                        SMTPROBE_LABELS_END);
	smtprobe_outcome_metric(o, "smtprobe_tls_cert_verified", "gauge",
	                        "1 when the certificate chain verified against "
	                        "the trust anchors and named the host",
	                        ses->tls.verify_ok && (!ses->tls.host_checked ||
	                                               ses->tls.host_match)
	                                ? 1
	                                : 0,
	                        SMTPROBE_LABELS_END);
	if (ses->tls.nchain > 0)
		assure_cert_expiry(o, ses->tls.chain[0].not_after);
}

void smtprobe_assure_check(const struct smtprobe_check_result *r,
                           struct smtprobe_outcome *o)
{
	struct smtprobe_suite *s =
	        assure_suite(o, "check", r->host, r->port, r->ms);
	if (s) {
		check_cases(r, o, s);
	}
	check_metrics(r, o);
}
