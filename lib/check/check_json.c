/* check_json.c - the result of `smtprobe check` as one JSON document
 * (jansson): steps with status, detail and diagnosis, the checklist, the
 * exit code and the main session's own document. */
#include <jansson.h>
#include <stdlib.h>

#include "report.h"
#include "smtprobe/check.h"
#include "banned.h"

static json_t *str_list(const char *const *v)
{
	json_t *a = json_array();

	for (size_t i = 0; i < SMTPROBE_CK_MAX_ITEMS && v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *opt_str(const char *s)
{
	return s ? json_string(s) : json_null();
}

char *smtprobe_check_json(const struct smtprobe_check_result *r)
{
	json_t *steps = json_array();

	for (int i = 0; i < SMTPROBE_CK_LAST; i++) {
		const struct smtprobe_check_finding *f = &r->step[i];
		json_t *diag = json_null();
		if ((f->status == SMTPROBE_CK_FAIL ||
		     f->status == SMTPROBE_CK_WARN) &&
		    (f->summary[0] || f->causes[0])) {
			diag = json_pack("{s:s, s:o, s:o, s:o, s:o}", "summary",
			                 f->summary, "causes",
			                 str_list(f->causes), "fixes",
			                 str_list(f->fixes), "kb",
			                 opt_str(f->kb_id), "reference",
			                 opt_str(f->reference));
		}
		json_array_append_new(
		        steps, json_pack("{s:s, s:s, s:s, s:f, s:o}", "name",
		                         smtprobe_check_step_name(i), "status",
		                         smtprobe_check_status_name(f->status),
		                         "detail", f->detail, "ms", f->ms,
		                         "diagnosis", diag));
	}
	json_t *cl = json_object();
	for (int i = 0; i < SMTPROBE_CL_LAST; i++)
		json_object_set_new(cl, smtprobe_check_item_name(i),
		                    json_string(smtprobe_check_status_name(
		                            r->checklist[i])));
	json_t *session = r->step[SMTPROBE_CK_DNS].status == SMTPROBE_CK_PASS
	                          ? report_json_session(&r->session)
	                          : json_null();
	json_t *ports = json_null();
	if (r->scanned) {
		json_t *list = json_array();
		for (size_t i = 0; i < r->scan.nports; i++) {
			const struct smtprobe_port_probe *pp = &r->scan.port[i];
			const char *mode =
			        pp->open ? smtprobe_tls_mode_name(pp->tls)
			                 : "none";
			json_array_append_new(
			        list,
			        json_pack("{s:i, s:b, s:s, s:b, s:b, s:s, s:s, "
			                  "s:b, "
			                  "s:s, s:f}",
			                  "port", (int)pp->port, "open",
			                  pp->open, "tls", mode, "tls_ok",
			                  pp->tls_ok, "cert_ok", pp->cert_ok,
			                  "cert_problem", pp->cert_problem,
			                  "auth", pp->auth, "auth_in_clear",
			                  pp->auth_in_clear, "error", pp->error,
			                  "ms", pp->ms));
		}
		json_t *best =
		        r->scan.best >= 0
		                ? json_integer(r->scan.port[r->scan.best].port)
		                : json_null();
		ports = json_pack("{s:o, s:o, s:s, s:f}", "probes", list,
		                  "best", best, "recommendation",
		                  r->scan.recommendation, "ms", r->scan.ms);
	}
	json_t *doc = json_pack(
	        "{s:s, s:i, s:s, s:i, s:b, s:i, s:b, s:o, s:o, s:o, s:o}",
	        "host", r->host, "port", (int)r->port, "addresses",
	        r->addresses, "exit_code", r->exit_code, "strict", r->strict,
	        "warnings", r->warnings, "submission", r->submission, "ports",
	        ports, "steps", steps, "checklist", cl, "session", session);
	json_object_set_new(doc, "software",
	                    report_json_software(&r->software));
	/* the relay step's own test: its sender and, when a first sender
	 * was refused at MAIL, what that one got */
	json_object_set_new(
	        doc, "relay_test",
	        r->relay_ran
	                ? json_pack("{s:s, s:o}", "sender", r->relay_sender,
	                            "first_try",
	                            r->relay_first_try[0]
	                                    ? json_string(r->relay_first_try)
	                                    : json_null())
	                : json_null());
	return report_dump(doc);
}
