/* render_json.c - the result tree as one JSON document (jansson).
 *
 * Field names are snake_case, times are milliseconds, every reply is
 * {"code", "enhanced", "text": [...]}. Strings in the tree are already
 * escaped, so the document is safe to print; jansson encodes the rest. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "smtprobe/session.h"
#include "smtprobe/software.h"
#include "banned.h"

static const struct {
	unsigned bit;
	const char *name;
} cap_names[] = {
        {SMTPROBE_CAP_STARTTLS, "STARTTLS"},
        {SMTPROBE_CAP_AUTH, "AUTH"},
        {SMTPROBE_CAP_SIZE, "SIZE"},
        {SMTPROBE_CAP_PIPELINING, "PIPELINING"},
        {SMTPROBE_CAP_8BITMIME, "8BITMIME"},
        {SMTPROBE_CAP_SMTPUTF8, "SMTPUTF8"},
        {SMTPROBE_CAP_CHUNKING, "CHUNKING"},
        {SMTPROBE_CAP_DSN, "DSN"},
        {SMTPROBE_CAP_ENHANCEDSTATUSCODES, "ENHANCEDSTATUSCODES"},
        {SMTPROBE_CAP_REQUIRETLS, "REQUIRETLS"},
        {SMTPROBE_CAP_BINARYMIME, "BINARYMIME"},
};

static json_t *json_str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *report_json_reply(const struct smtprobe_reply *r)
{
	if (!r)
		return json_null();
	json_t *text = json_array();
	for (size_t i = 0; i < r->nlines; i++)
		json_array_append_new(text, json_string(r->text[i]));
	return json_pack("{s:i, s:s, s:o, s:f}", "code", r->code, "enhanced",
	                 r->enhanced, "text", text, "ms", r->latency_ms);
}

static json_t *json_words(const char *list)
{
	json_t *a = json_array();
	const char *p = list;

	while (*p) {
		while (*p == ' ')
			p++;
		const char *q = p;
		while (*q && *q != ' ')
			q++;
		if (q > p)
			json_array_append_new(a,
			                      json_stringn(p, (size_t)(q - p)));
		p = q;
	}
	return a;
}

static json_t *json_ehlo(const struct smtprobe_result *r)
{
	if (!r->have_ehlo)
		return json_null();
	json_t *caps = json_array();
	for (size_t i = 0; i < sizeof(cap_names) / sizeof(cap_names[0]); i++)
		if (r->ehlo.caps & cap_names[i].bit)
			json_array_append_new(caps,
			                      json_string(cap_names[i].name));
	return json_pack("{s:s, s:o, s:o, s:I, s:o}", "host", r->ehlo.host,
	                 "capabilities", caps, "auth_mechanisms",
	                 json_words(r->ehlo.auth), "size",
	                 (json_int_t)r->ehlo.size, "unknown",
	                 json_words(r->ehlo.unknown));
}

/* "DNS:a, DNS:b" -> ["DNS:a", "DNS:b"] */
static json_t *json_sans(const char *s)
{
	json_t *a = json_array();

	while (*s) {
		const char *e = strstr(s, ", ");
		size_t n = e ? (size_t)(e - s) : strlen(s);
		if (n)
			json_array_append_new(a, json_stringn(s, n));
		if (!e)
			break;
		s = e + 2;
	}
	return a;
}

static json_t *json_tls(const struct smtprobe_result *r)
{
	const struct smtprobe_tls_facts *f = &r->tls;

	if (!r->have_tls)
		return json_null();
	json_t *chain = json_array();
	for (size_t i = 0; i < f->nchain; i++) {
		const struct smtprobe_cert_facts *c = &f->chain[i];
		json_array_append_new(
		        chain,
		        json_pack("{s:s, s:s, s:o, s:s, s:s, s:I, s:s, s:i, "
		                  "s:s, s:b}",
		                  "subject", c->subject, "issuer", c->issuer,
		                  "sans", json_sans(c->sans), "not_before",
		                  c->not_before, "not_after", c->not_after,
		                  "days_left", (json_int_t)c->days_left,
		                  "key_type", c->key_type, "key_bits",
		                  c->key_bits, "sig_alg", c->sig_alg,
		                  "self_signed", c->self_signed));
	}
	json_t *o = json_pack(
	        "{s:s, s:s, s:s, s:s, s:{s:b, s:I, s:s}, s:b, s:b, "
	        "s:o, s:f, s:b}",
	        "protocol", f->protocol, "cipher", f->cipher, "group", f->group,
	        "sni", f->sni, "verify", "ok", f->verify_ok, "code",
	        (json_int_t)f->verify_code, "reason", f->verify_reason,
	        "host_checked", f->host_checked, "host_match", f->host_match,
	        "chain", chain, "handshake_ms", r->tls_ms, "starttls_injection",
	        r->starttls_injection);
	json_object_set_new(o, "implicit", json_boolean(r->implicit_tls));
	return o;
}

json_t *report_json_software(const struct smtprobe_software_guess *g)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s}", "name",
	                 smtprobe_software_name(g->id), "key",
	                 smtprobe_software_key(g->id), "confidence",
	                 g->confidence ? g->confidence : "", "version",
	                 g->version, "evidence", g->evidence);
}

json_t *report_json_failure(const struct smtprobe_failure *f)
{
	if (f->kind == SMTPROBE_FAIL_NONE)
		return json_null();
	json_t *o = json_pack("{s:s, s:s, s:o, s:s}", "kind",
	                      smtprobe_failure_kind_name(f->kind), "stage",
	                      smtprobe_stage_name(f->stage), "errno",
	                      f->sys_errno ? json_integer(f->sys_errno)
	                                   : json_null(),
	                      "detail", f->detail);
	if (f->kind == SMTPROBE_FAIL_PROTOCOL)
		json_object_set_new(
		        o, "protocol_error",
		        json_string(smtprobe_protocol_error_name(f->protocol)));
	if (f->kind == SMTPROBE_FAIL_RESOLVE)
		json_object_set_new(
		        o, "resolve_error",
		        json_string(smtprobe_resolve_error_name(f->resolve)));
	if (f->kind == SMTPROBE_FAIL_TLS) {
		const char *an = smtprobe_tls_alert_name(f->tls.alert);
		json_object_set_new(
		        o, "tls",
		        json_pack("{s:s, s:s, s:o, s:o, s:o}", "error",
		                  smtprobe_tls_error_name(f->tls.error),
		                  "reason", f->tls.reason, "alert",
		                  f->tls.alert >= 0 ? json_integer(f->tls.alert)
		                                    : json_null(),
		                  "alert_name",
		                  an ? json_string(an) : json_null(),
		                  "alert_from",
		                  f->tls.alert < 0 ? json_null()
		                  : f->tls.alert_from_peer
		                          ? json_string("server")
		                          : json_string("client")));
	}
	if (f->kind == SMTPROBE_FAIL_CERTIFICATE)
		json_object_set_new(o, "x509", json_integer(f->x509));
	if (f->reply)
		json_object_set_new(o, "reply", report_json_reply(f->reply));
	return o;
}

json_t *report_json_session(const struct smtprobe_result *r)
{
	json_t *stages = json_array();
	for (size_t i = 0; i < r->nex; i++) {
		const struct smtprobe_exchange *e = &r->ex[i];
		const char *name = smtprobe_stage_name(e->stage);
		if (e->stage == SMTPROBE_ST_EHLO ||
		    e->stage == SMTPROBE_ST_EHLO2)
			name = r->greeting;
		json_array_append_new(
		        stages,
		        json_pack("{s:s, s:b, s:f, s:o, s:o}", "name", name,
		                  "ok", e->ok, "ms", e->ms < 0 ? 0.0 : e->ms,
		                  "command", json_str_or_null(e->command),
		                  "reply", report_json_reply(e->reply)));
	}
	json_t *rcpts = json_array();
	for (size_t i = 0; i < r->nrcpt; i++) {
		const struct smtprobe_rcpt_result *rr = &r->rcpt[i];
		json_t *o = json_pack("{s:s, s:b, s:o}", "address", rr->address,
		                      "accepted", rr->accepted, "reply",
		                      report_json_reply(rr->reply));
		if (rr->delivery)
			json_object_set_new(o, "delivery",
			                    report_json_reply(rr->delivery));
		json_array_append_new(rcpts, o);
	}
	json_t *auth = json_null();
	if (r->auth_tried)
		auth = json_pack("{s:s, s:b, s:o, s:b}", "mechanism",
		                 r->auth_mech, "ok", r->auth_ok, "reply",
		                 report_json_reply(r->auth_reply),
		                 "server_verified", r->auth_server_verified);
	json_t *msg = json_null();
	if (r->data_tried)
		msg = json_pack("{s:I, s:o}", "size",
		                (json_int_t)r->message_size, "reply",
		                report_json_reply(r->message_reply));
	json_t *trans = json_array();
	for (size_t i = 0; i < r->ntransitions; i++)
		json_array_append_new(
		        trans,
		        json_pack("{s:s, s:f}", "stage",
		                  smtprobe_stage_name(r->transitions[i].stage),
		                  "at_ms", r->transitions[i].at_ms));
	json_t *doc = json_pack(
	        "{s:i, s:s, s:o, s:o, s:{s:s, s:i, s:s}, s:f, s:o, s:o, s:o, "
	        "s:o, s:o, s:o, s:f, s:o}",
	        "exit_code", r->exit_code, "stage",
	        smtprobe_stage_name(r->stage), "error",
	        r->error[0] ? json_string(r->error) : json_null(), "failure",
	        report_json_failure(&r->failure), "server", "host", r->host,
	        "port", (int)r->port, "address", r->address, "connect_ms",
	        r->connect_ms, "stages", stages, "ehlo", json_ehlo(r), "tls",
	        json_tls(r), "auth", auth, "recipients", rcpts, "message", msg,
	        "total_ms", r->total_ms, "transitions", trans);
	return doc;
}

char *report_dump(json_t *doc)
{
	if (!doc)
		return NULL;
	char *s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
	                                  JSON_REAL_PRECISION(6));
	json_decref(doc);
	return s;
}

char *smtprobe_result_json(const struct smtprobe_result *r)
{
	return report_dump(report_json_session(r));
}
