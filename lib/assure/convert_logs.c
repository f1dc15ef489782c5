/* convert_logs.c - the summary of `smtprobe logs` as Prometheus metrics
 * (an outcome with metric families, no suites): counters of lines, events,
 * rejections by kind, TLS handshakes by protocol and failures by cause,
 * AUTH failures for the top addresses (at most `top` label values: a
 * bounded cardinality), and gauges of the spikes and brute-force findings
 * so far. For node_exporter's textfile collector in follow mode. Pure. */
#include <stdio.h>
#include <string.h>

#include "assure_int.h"
#include "smtprobe/assure.h"
#include "smtprobe/logs.h"
#include "banned.h"

#define MAX_TOP 100

static void counter(struct smtprobe_outcome *o, const char *name,
                    const char *help, uint64_t v)
{
	smtprobe_outcome_metric(o, name, "counter", help, (double)v,
	                        SMTPROBE_LABELS_END);
}

void smtprobe_assure_logs(const struct smtprobe_logs *l, unsigned top,
                          struct smtprobe_outcome *o)
{
	struct smtprobe_logs_totals t;
	struct smtprobe_logs_row rows[MAX_TOP];
	struct smtprobe_logs_spike sp[64];
	struct smtprobe_logs_brute bf[256];
	size_t n;

	smtprobe_logs_totals(l, &t);
	if (top > MAX_TOP)
		top = MAX_TOP;
	counter(o, "smtprobe_logs_lines_total", "log lines read", t.lines);
	counter(o, "smtprobe_logs_unparsed_lines_total",
	        "log lines no parser knows", t.unparsed);
	counter(o, "smtprobe_logs_connections_total", "client connections",
	        t.events[SMTPROBE_LE_CONNECT]);
	counter(o, "smtprobe_logs_auth_success_total", "AUTH successes",
	        t.events[SMTPROBE_LE_AUTH_OK]);
	counter(o, "smtprobe_logs_auth_failures_total", "AUTH failures",
	        t.events[SMTPROBE_LE_AUTH_FAIL]);
	counter(o, "smtprobe_logs_deliveries_total", "deliveries",
	        t.events[SMTPROBE_LE_DELIVERED]);
	counter(o, "smtprobe_logs_deferrals_total", "deferrals",
	        t.events[SMTPROBE_LE_DEFERRED]);
	counter(o, "smtprobe_logs_bounces_total", "bounces",
	        t.events[SMTPROBE_LE_BOUNCED]);
	for (int i = 0; i < SMTPROBE_LR_LAST; i++)
		smtprobe_outcome_metric(
		        o, "smtprobe_logs_rejections_total", "counter",
		        "rejections by kind", (double)t.rejects[i], "kind",
		        smtprobe_log_reject_name((enum smtprobe_log_reject)i),
		        SMTPROBE_LABELS_END);
	for (int i = 0; i < SMTPROBE_LT_LAST; i++)
		smtprobe_outcome_metric(o, "smtprobe_logs_tls_failures_total",
		                        "counter",
		                        "TLS handshake failures by cause",
		                        (double)t.tls_failures[i], "cause",
		                        smtprobe_log_tls_cause_name(
		                                (enum smtprobe_log_tls_cause)i),
		                        SMTPROBE_LABELS_END);
	n = smtprobe_logs_top(l, SMTPROBE_LT_TLS_PROTOCOL, rows, MAX_TOP);
	for (size_t i = 0; i < n; i++)
		smtprobe_outcome_metric(o, "smtprobe_logs_tls_handshakes_total",
		                        "counter", "TLS handshakes by protocol",
		                        (double)rows[i].count, "protocol",
		                        rows[i].key, SMTPROBE_LABELS_END);
	n = smtprobe_logs_top(l, SMTPROBE_LT_AUTH_FAIL_CLIENT, rows, top);
	for (size_t i = 0; i < n; i++)
		smtprobe_outcome_metric(
		        o, "smtprobe_logs_auth_failures_by_address", "gauge",
		        "AUTH failures of the addresses that fail most",
		        (double)rows[i].count, "address", rows[i].key,
		        SMTPROBE_LABELS_END);
	n = smtprobe_logs_spikes(l, sp, 64);
	smtprobe_outcome_metric(o, "smtprobe_logs_spikes", "gauge",
	                        "spikes found so far", (double)n,
	                        SMTPROBE_LABELS_END);
	n = smtprobe_logs_brute(l, bf, 256);
	size_t users = 0;
	for (size_t i = 0; i < n; i++)
		users += bf[i].by_user != 0;
	smtprobe_outcome_metric(o, "smtprobe_logs_brute_force", "gauge",
	                        "brute-force findings so far",
	                        (double)(n - users), "by", "address",
	                        SMTPROBE_LABELS_END);
	smtprobe_outcome_metric(o, "smtprobe_logs_brute_force", "gauge",
	                        "brute-force findings so far", (double)users,
	                        "by", "user", SMTPROBE_LABELS_END);
	if (t.last >= 0)
		smtprobe_outcome_metric(o, "smtprobe_logs_last_line_timestamp",
		                        "gauge",
		                        "the time of the newest line read",
		                        (double)t.last, SMTPROBE_LABELS_END);
}
