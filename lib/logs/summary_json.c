/* summary_json.c - the summary of `smtprobe logs` as one JSON document
 * (logs.h, jansson): totals, the top rows of each table (a row's "err"
 * appears only when its count is a bound), connections per hour, AUTH
 * failures with brute force, TLS, rejections by kind, deliveries,
 * spikes. Times are ISO 8601 in UTC. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "logs_int.h"

#include "banned.h"

#define MAX_ROWS 1000

static json_t *iso(int64_t t)
{
	char buf[32];
	time_t tt = (time_t)t;
	struct tm tm;

	if (t < 0 || gmtime_r(&tt, &tm) == NULL)
		return json_null();
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

/* {key: count, ...} of the top rows, largest first */
static json_t *top(const struct smtprobe_logs *l, enum smtprobe_logs_table t,
                   unsigned max)
{
	struct smtprobe_logs_row *rows = calloc(max ? max : 1, sizeof(*rows));
	json_t *o = json_object();
	size_t n = rows ? smtprobe_logs_top(l, t, rows, max) : 0;

	for (size_t i = 0; i < n; i++)
		json_object_set_new(o, rows[i].key,
		                    json_integer((json_int_t)rows[i].count));
	free(rows);
	return o;
}

static json_t *by_name(const uint64_t *v, size_t n, const char *(*name)(int))
{
	json_t *o = json_object();

	for (size_t i = 0; i < n; i++)
		if (v[i])
			json_object_set_new(o, name((int)i),
			                    json_integer((json_int_t)v[i]));
	return o;
}

static const char *fmt_name(int i)
{
	return smtprobe_log_format_name((enum smtprobe_log_format)i);
}
static const char *rej_name(int i)
{
	return smtprobe_log_reject_name((enum smtprobe_log_reject)i);
}
static const char *cause_name(int i)
{
	return smtprobe_log_tls_cause_name((enum smtprobe_log_tls_cause)i);
}

static json_t *hours(const struct smtprobe_logs *l)
{
	static int64_t h[SMTPROBE_LOGS_HOURS];
	static uint64_t c[SMTPROBE_LOGS_HOURS];
	json_t *a = json_array();
	size_t n = smtprobe_logs_hours(l, h, c, SMTPROBE_LOGS_HOURS);

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a,
		                      json_pack("{s:o, s:I}", "hour", iso(h[i]),
		                                "count", (json_int_t)c[i]));
	return a;
}

static json_t *brute(const struct smtprobe_logs *l)
{
	struct smtprobe_logs_brute b[256];
	size_t n = smtprobe_logs_brute(l, b, 256);
	json_t *ips = json_array(), *users = json_array();

	for (size_t i = 0; i < n; i++) {
		if (b[i].by_user)
			json_array_append_new(
			        users,
			        json_pack("{s:s, s:I, s:i, s:o, s:o}", "user",
			                  b[i].key, "failures",
			                  (json_int_t)b[i].failures,
			                  "addresses", (int)b[i].addresses,
			                  "first", iso(b[i].first), "last",
			                  iso(b[i].last)));
		else
			json_array_append_new(
			        ips, json_pack("{s:s, s:I, s:I, s:o, s:o}",
			                       "address", b[i].key, "failures",
			                       (json_int_t)b[i].failures,
			                       "max_in_window",
			                       (json_int_t)b[i].in_window,
			                       "first", iso(b[i].first), "last",
			                       iso(b[i].last)));
	}
	return json_pack("{s:o, s:o}", "addresses", ips, "users", users);
}

static json_t *spikes(const struct smtprobe_logs *l)
{
	static struct smtprobe_logs_spike s[SMTPROBE_LR_LAST * 64 + 64];
	size_t n = smtprobe_logs_spikes(l, s, sizeof(s) / sizeof(s[0]));
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s, s:o, s:o, s:I, s:f}",
		                                   "kind", s[i].kind, "start",
		                                   iso(s[i].start), "end",
		                                   iso(s[i].end), "count",
		                                   (json_int_t)s[i].count,
		                                   "baseline", s[i].baseline));
	return a;
}

char *smtprobe_logs_json(const struct smtprobe_logs *l, unsigned ntop)
{
	struct smtprobe_logs_totals t;
	uint64_t rejects = 0, tlsf = 0;
	unsigned max = ntop > MAX_ROWS ? MAX_ROWS : ntop;

	smtprobe_logs_totals(l, &t);
	for (int i = 0; i < SMTPROBE_LR_LAST; i++)
		rejects += t.rejects[i];
	for (int i = 0; i < SMTPROBE_LT_LAST; i++)
		tlsf += t.tls_failures[i];
	json_t *doc = json_object();
	json_object_set_new(doc, "lines", json_integer((json_int_t)t.lines));
	json_object_set_new(doc, "unparsed_lines",
	                    json_integer((json_int_t)t.unparsed));
	json_object_set_new(doc, "formats",
	                    by_name(t.by_format, SMTPROBE_LF_LAST, fmt_name));
	json_object_set_new(doc, "first", iso(t.first));
	json_object_set_new(doc, "last", iso(t.last));
	json_object_set_new(
	        doc, "connections",
	        json_integer((json_int_t)t.events[SMTPROBE_LE_CONNECT]));
	json_object_set_new(doc, "connections_by_ip",
	                    top(l, SMTPROBE_LT_CONN_CLIENT, max));
	json_object_set_new(doc, "connections_per_hour", hours(l));
	json_object_set_new(
	        doc, "auth_success",
	        json_integer((json_int_t)t.events[SMTPROBE_LE_AUTH_OK]));
	json_object_set_new(doc, "auth_success_by_user",
	                    top(l, SMTPROBE_LT_AUTH_OK_USER, max));
	json_object_set_new(
	        doc, "auth_failures",
	        json_pack("{s:I, s:o, s:o, s:s}", "total",
	                  (json_int_t)t.events[SMTPROBE_LE_AUTH_FAIL], "by_ip",
	                  top(l, SMTPROBE_LT_AUTH_FAIL_CLIENT, max), "by_user",
	                  top(l, SMTPROBE_LT_AUTH_FAIL_USER, max), "source",
	                  t.auth_from_authd ? "auth_server" : "mta"));
	json_object_set_new(doc, "brute_force", brute(l));
	json_object_set_new(
	        doc, "tls",
	        json_pack("{s:I, s:o, s:o}", "handshakes",
	                  (json_int_t)t.events[SMTPROBE_LE_TLS_OK],
	                  "by_protocol", top(l, SMTPROBE_LT_TLS_PROTOCOL, max),
	                  "by_cipher", top(l, SMTPROBE_LT_TLS_CIPHER, max)));
	json_object_set_new(doc, "tls_failures",
	                    json_integer((json_int_t)tlsf));
	json_object_set_new(
	        doc, "tls_failures_by_cause",
	        by_name(t.tls_failures, SMTPROBE_LT_LAST, cause_name));
	json_object_set_new(
	        doc, "rejections",
	        json_pack("{s:I, s:o, s:o, s:o, s:o}", "total",
	                  (json_int_t)rejects, "by_kind",
	                  by_name(t.rejects, SMTPROBE_LR_LAST, rej_name),
	                  "top_clients", top(l, SMTPROBE_LT_REJECT_CLIENT, max),
	                  "top_senders", top(l, SMTPROBE_LT_REJECT_SENDER, max),
	                  "top_recipients",
	                  top(l, SMTPROBE_LT_REJECT_RCPT, max)));
	json_object_set_new(
	        doc, "deliveries",
	        json_integer((json_int_t)t.events[SMTPROBE_LE_DELIVERED]));
	json_object_set_new(
	        doc, "deferrals",
	        json_integer((json_int_t)t.events[SMTPROBE_LE_DEFERRED]));
	json_object_set_new(
	        doc, "bounces",
	        json_integer((json_int_t)t.events[SMTPROBE_LE_BOUNCED]));
	json_object_set_new(doc, "spikes", spikes(l));
	json_object_set_new(doc, "lines_outside_period",
	                    json_integer((json_int_t)t.outside));
	char *out = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(doc);
	return out;
}
