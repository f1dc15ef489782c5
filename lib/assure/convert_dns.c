/* convert_dns.c - the report of `smtprobe dns` as an outcome: a suite
 * "dns DOMAIN" with a case per check (a failed check fails, a warning
 * passes with its text as the message, a skipped check is skipped), and
 * the metrics smtprobe_probe_success, smtprobe_dns_check_status{check,
 * status} (one sample per status, 1 for the check's; a dkim.key check per
 * selector as check="dkim.key:SEL"), smtprobe_dnssec_secure. Pure. */
#include <stdio.h>
#include <string.h>

#include "assure_int.h"
#include "smtprobe/assure.h"
#include "banned.h"

void smtprobe_assure_dns(const struct smtprobe_dc_facts *f,
                         const struct smtprobe_dc_report *r,
                         struct smtprobe_outcome *o)
{
	char name[300];
	static const enum smtprobe_dc_status all[] = {
	        SMTPROBE_DC_PASS, SMTPROBE_DC_WARN, SMTPROBE_DC_FAIL,
	        SMTPROBE_DC_INFO, SMTPROBE_DC_SKIP};

	snprintf(name, sizeof(name), "dns %s", f->domain);
	struct smtprobe_suite *s = smtprobe_outcome_suite(o, name, f->domain);
	for (size_t i = 0; i < r->n; i++) {
		const struct smtprobe_dc_check *c = &r->check[i];
		char id[128], detail[1100];
		snprintf(id, sizeof(id), "%s%s%s", c->id,
		         c->selector[0] ? ":" : "", c->selector);
		snprintf(detail, sizeof(detail), "%s%s%s", c->text,
		         c->fix[0] ? "\nfix: " : "", c->fix);
		enum smtprobe_case_status st =
		        c->status == SMTPROBE_DC_FAIL   ? SMTPROBE_CASE_FAIL
		        : c->status == SMTPROBE_DC_SKIP ? SMTPROBE_CASE_SKIP
		                                        : SMTPROBE_CASE_PASS;
		if (s)
			smtprobe_outcome_case(
			        o, s, id, "smtprobe.dns", st, -1,
			        c->status == SMTPROBE_DC_PASS ? NULL : c->text,
			        detail);
		for (size_t k = 0; k < sizeof(all) / sizeof(all[0]); k++)
			smtprobe_outcome_metric(
			        o, "smtprobe_dns_check_status", "gauge",
			        "1 for the status of the check (pass, warn, "
			        "fail, "
			        "info, skip), 0 for the others",
			        c->status == all[k] ? 1 : 0, "check", id,
			        "status", smtprobe_dc_status_name(all[k]),
			        SMTPROBE_LABELS_END);
	}
	smtprobe_outcome_metric(o, "smtprobe_probe_success", "gauge",
	                        "1 when no check of the domain fails",
	                        r->exit_code == 0 ? 1 : 0, SMTPROBE_LABELS_END);
	if (f->dnskey.asked)
		smtprobe_outcome_metric(
		        o, "smtprobe_dnssec_secure", "gauge",
		        "1 when the domain's DNSKEY answer validated (secure)",
		        f->dnskey.dnssec == SMTPROBE_DNSSEC_SECURE ? 1 : 0,
		        SMTPROBE_LABELS_END);
}
