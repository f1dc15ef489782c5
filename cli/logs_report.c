/* logs_report.c - the reports of `smtprobe logs` (logs_cli.h): text (one
 * screen: totals, top lists, brute force, TLS failures each explained by
 * the knowledge base, rejections by kind, spikes), JSON (the library's
 * document) and Prometheus (lib/assure's metrics), and the metrics file of
 * follow mode written atomically. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "logs_cli.h"
#include "nagios_out.h"
#include "smtprobe/assure.h"
#include "smtprobe/kb.h"
#include "smtprobe/outcome.h"
#include "banned.h"

static const char *when(int64_t t, char *buf, size_t sz)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t < 0 || gmtime_r(&tt, &tm) == NULL)
		snprintf(buf, sz, "-");
	else
		strftime(buf, sz, "%Y-%m-%d %H:%M:%S", &tm);
	return buf;
}

/* "  label  a 3, b 2, ..." of a table's top rows; nothing when empty */
static void top_line(const struct smtprobe_logs *l, enum smtprobe_logs_table t,
                     const char *label, unsigned max)
{
	struct smtprobe_logs_row rows[32];
	size_t n = smtprobe_logs_top(l, t, rows, max < 32 ? max : 32);

	if (n == 0)
		return;
	printf("    %-18s", label);
	for (size_t i = 0; i < n; i++)
		printf("%s%s %llu%s", i ? ", " : "", rows[i].key,
		       (unsigned long long)rows[i].count,
		       rows[i].err ? "*" : "");
	size_t all = smtprobe_logs_table_size(l, t);
	if (all > n)
		printf(" (%zu more)", all - n);
	printf("\n");
}

/* the knowledge base's entry for a TLS failure cause */
static const struct smtprobe_kb_entry *cause_entry(int cause)
{
	static const char *const ids[SMTPROBE_LT_LAST] = {
	        "log-tls-other",        "log-tls-not-tls", "log-tls-no-shared",
	        "log-tls-client-alert", "log-tls-closed",  "log-tls-timeout",
	        "log-tls-certificate"};

	return (unsigned)cause < SMTPROBE_LT_LAST
	               ? smtprobe_kb_by_id(ids[cause])
	               : NULL;
}

static void text(const struct logs_cfg *c, const struct smtprobe_logs *l)
{
	struct smtprobe_logs_totals t;
	char a[32], b[32];
	uint64_t sum = 0;
	int colour = cli_colour(stdout);

	smtprobe_logs_totals(l, &t);
	printf("smtprobe logs: %llu lines", (unsigned long long)t.lines);
	for (int f = 1; f < SMTPROBE_LF_LAST; f++)
		if (t.by_format[f])
			printf(", %s %llu",
			       smtprobe_log_format_name(
			               (enum smtprobe_log_format)f),
			       (unsigned long long)t.by_format[f]);
	printf(", not understood %llu\n", (unsigned long long)t.unparsed);
	if (t.first >= 0)
		printf("  from %s to %s UTC\n", when(t.first, a, sizeof(a)),
		       when(t.last, b, sizeof(b)));
	if (t.outside)
		printf("  %llu lines outside --since/--until\n",
		       (unsigned long long)t.outside);

	printf("\nConnections   %llu\n",
	       (unsigned long long)t.events[SMTPROBE_LE_CONNECT]);
	top_line(l, SMTPROBE_LT_CONN_CLIENT, "by address", c->top);

	printf("\nAUTH          %llu succeeded, %llu failed%s\n",
	       (unsigned long long)t.events[SMTPROBE_LE_AUTH_OK],
	       (unsigned long long)t.events[SMTPROBE_LE_AUTH_FAIL],
	       t.auth_from_authd ? " (the authentication server's lines)" : "");
	if (t.by_format[SMTPROBE_LF_EXIM])
		printf("    (Exim logs a successful AUTH only on the line of a "
		       "message it accepts)\n");
	top_line(l, SMTPROBE_LT_AUTH_FAIL_CLIENT, "failed by address", c->top);
	top_line(l, SMTPROBE_LT_AUTH_FAIL_USER, "failed by user", c->top);
	struct smtprobe_logs_brute bf[64];
	size_t nbf = smtprobe_logs_brute(l, bf, 64);
	for (size_t i = 0; i < nbf; i++) {
		if (bf[i].by_user)
			printf("  %s brute force: user %s failed from %u "
			       "addresses (%llu failures, %s to %s)\n",
			       cli_mark(CLI_MARK_FAIL, colour), bf[i].key,
			       bf[i].addresses,
			       (unsigned long long)bf[i].failures,
			       when(bf[i].first, a, sizeof(a)),
			       when(bf[i].last, b, sizeof(b)));
		else
			printf("  %s brute force: %s, %llu failures, %llu "
			       "within %u s (from %s, the last at %s)\n",
			       cli_mark(CLI_MARK_FAIL, colour), bf[i].key,
			       (unsigned long long)bf[i].failures,
			       (unsigned long long)bf[i].in_window,
			       c->o.bf_window ? c->o.bf_window : 600,
			       when(bf[i].first, a, sizeof(a)),
			       when(bf[i].last, b, sizeof(b)));
	}

	printf("\nTLS           %llu handshakes",
	       (unsigned long long)t.events[SMTPROBE_LE_TLS_OK]);
	for (int k = 0; k < SMTPROBE_LT_LAST; k++)
		sum += t.tls_failures[k];
	printf(", %llu failed\n", (unsigned long long)sum);
	if (t.by_format[SMTPROBE_LF_EXIM])
		printf("    (Exim logs no line for a handshake that worked: X= "
		       "on message lines only)\n");
	top_line(l, SMTPROBE_LT_TLS_PROTOCOL, "by protocol", c->top);
	top_line(l, SMTPROBE_LT_TLS_CIPHER, "by cipher", c->top);
	for (int k = 0; k < SMTPROBE_LT_LAST; k++) {
		const struct smtprobe_kb_entry *e = cause_entry(k);
		if (t.tls_failures[k] == 0)
			continue;
		printf("    %-18s%llu: %s\n",
		       smtprobe_log_tls_cause_name(
		               (enum smtprobe_log_tls_cause)k),
		       (unsigned long long)t.tls_failures[k],
		       e ? e->meaning : "");
		if (e && e->fixes[0])
			printf("%24sfix: %s\n", "", e->fixes[0]);
	}

	sum = 0;
	for (int k = 0; k < SMTPROBE_LR_LAST; k++)
		sum += t.rejects[k];
	printf("\nRejections    %llu", (unsigned long long)sum);
	for (int k = 0, first = 1; k < SMTPROBE_LR_LAST; k++)
		if (t.rejects[k]) {
			printf("%s%s %llu", first ? ": " : ", ",
			       smtprobe_log_reject_name(
			               (enum smtprobe_log_reject)k),
			       (unsigned long long)t.rejects[k]);
			first = 0;
		}
	printf("\n");
	top_line(l, SMTPROBE_LT_REJECT_CLIENT, "clients", c->top);
	top_line(l, SMTPROBE_LT_REJECT_SENDER, "senders", c->top);
	top_line(l, SMTPROBE_LT_REJECT_RCPT, "recipients", c->top);

	printf("\nDelivered %llu, deferred %llu, bounced %llu\n",
	       (unsigned long long)t.events[SMTPROBE_LE_DELIVERED],
	       (unsigned long long)t.events[SMTPROBE_LE_DEFERRED],
	       (unsigned long long)t.events[SMTPROBE_LE_BOUNCED]);

	struct smtprobe_logs_spike sp[64];
	size_t nsp = smtprobe_logs_spikes(l, sp, 64);
	printf("\nSpikes        %zu", nsp);
	if (t.untimed && t.first < 0)
		printf(" (the lines carry no time: counts only)");
	printf("\n");
	for (size_t i = 0; i < nsp; i++)
		printf("  %s %s: %llu from %s to %s (baseline %.1f a "
		       "minute)\n",
		       cli_mark(CLI_MARK_WARN, colour), sp[i].kind,
		       (unsigned long long)sp[i].count,
		       when(sp[i].start, a, sizeof(a)),
		       when(sp[i].end, b, sizeof(b)), sp[i].baseline);
	if (smtprobe_logs_table_size(l, SMTPROBE_LT_CONN_CLIENT) >=
	    (c->o.capacity ? c->o.capacity : 1024))
		printf("\n(* a count that is a bound: more distinct keys than "
		       "--capacity)\n");
}

static char *prometheus(const struct logs_cfg *c, const struct smtprobe_logs *l)
{
	struct smtprobe_outcome o;
	char *s;

	smtprobe_outcome_init(&o);
	smtprobe_assure_logs(l, c->top, &o);
	s = smtprobe_outcome_prometheus(&o);
	smtprobe_outcome_free(&o);
	return s;
}

int logs_print(const struct logs_cfg *c, const struct smtprobe_logs *l)
{
	char *s = NULL;

	if (c->format == CLI_FMT_TEXT) {
		text(c, l);
		return fflush(stdout) == 0 ? 0 : -1;
	}
	s = c->format == CLI_FMT_JSON ? smtprobe_logs_json(l, c->top)
	                              : prometheus(c, l);
	if (s == NULL) {
		cli_error("out of memory");
		return -1;
	}
	fputs(s, stdout);
	if (c->format == CLI_FMT_JSON)
		fputc('\n', stdout);
	free(s);
	return fflush(stdout) == 0 ? 0 : -1;
}

int logs_metrics_file(const struct logs_cfg *c, const struct smtprobe_logs *l,
                      const char *path, char *err, size_t errsz)
{
	char tmp[4200];
	char *s = prometheus(c, l);
	int fd, rc = -1;

	if (s == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0) {
		size_t n = strlen(s), off = 0;
		while (off < n) {
			ssize_t w = write(fd, s + off, n - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			off += (size_t)w;
		}
		if (close(fd) == 0 && off == n && rename(tmp, path) == 0)
			rc = 0;
	}
	if (rc < 0) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		unlink(tmp);
	}
	free(s);
	return rc;
}
