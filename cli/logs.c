/* logs.c - `smtprobe logs [FILE...]`: what the mail server's own logs say
 * (lib/logs): every input read once, in order (stdin when none, gzip read
 * directly), into one bounded summary, then a report - text, JSON or
 * Prometheus; -f follows the files instead (logs_follow.c). Exit 0, or 2
 * on a usage error or an input that cannot be read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "logs_cli.h"
#include "nagios_out.h"
#include "opts.h"
#include "smtprobe/assure.h"
#include "smtprobe/kb.h"
#include "smtprobe/outcome.h"
#include "banned.h"

enum {
	L_FOLLOW = 1,
	L_SINCE,
	L_UNTIL,
	L_TOP,
	L_CAPACITY,
	L_BF_THRESHOLD,
	L_BF_WINDOW,
	L_BF_USERS,
	L_SPIKE_WINDOW,
	L_SPIKE_K,
	L_SPIKE_MIN,
	L_METRICS_FILE,
	L_INTERVAL,
	L_JSON,
	L_FORMAT,
	L_HELP,
};

static const struct opt_def logs_defs[] = {
        {L_FOLLOW, "f|follow", OPT_NONE, NULL,
         "follow the files as tail -F does (surviving rotation): an alert "
         "line per spike or brute force as it happens"},
        {L_SINCE, "since", OPT_REQ, "TIME",
         "only lines from TIME on: 2026-12-07T05:00:00 (local time "
         "without a zone), or 2h / 30m / 7d ago"},
        {L_UNTIL, "until", OPT_REQ, "TIME", "only lines before TIME"},
        {L_TOP, "top", OPT_REQ, "N", "rows per top list (default 10)"},
        {L_CAPACITY, "capacity", OPT_REQ, "N",
         "keys counted per table (default 1024): the memory bound; past "
         "it the rare keys' counts are bounds"},
        {L_BF_THRESHOLD, "bf-threshold", OPT_REQ, "N",
         "brute force: N AUTH failures from one address ... (default 10)"},
        {L_BF_WINDOW, "bf-window", OPT_REQ, "SECS",
         "... within this window (default 600)"},
        {L_BF_USERS, "bf-users", OPT_REQ, "N",
         "brute force: a user failing from N addresses (default 5)"},
        {L_SPIKE_WINDOW, "spike-window", OPT_REQ, "MINUTES",
         "a spike: a minute over the trailing baseline of these minutes "
         "(default 60) ..."},
        {L_SPIKE_K, "spike-k", OPT_REQ, "K",
         "... above its median + K x spread (the largest of 1.48 x MAD, "
         "sqrt(median), 1; default 5) ..."},
        {L_SPIKE_MIN, "spike-min", OPT_REQ, "N",
         "... with at least N events (default 10)"},
        {L_METRICS_FILE, "metrics-file", OPT_REQ, "FILE",
         "-f --format prometheus: keep FILE up to date (for "
         "node_exporter's textfile collector)"},
        {L_INTERVAL, "interval", OPT_REQ, "SECS",
         "-f: how often to look for new lines (default 0.25)"},
        {L_JSON, "json", OPT_NONE, NULL,
         "one JSON document (with -f: one JSON object per alert)"},
        {L_FORMAT, "format", OPT_REQ, "FMT",
         "text (default), json or prometheus"},
        {L_HELP, "help", OPT_NONE, NULL, "this help"},
        {0, NULL, OPT_NONE, NULL, NULL},
};

/* "2026-12-07T05:00:00[Z|+01:00]", "2026-12-07 05:00", "2026-12-07", or
 * "2h" / "30m" / "90s" / "7d" (that long before now) */
static int parse_time(const char *v, int64_t *out)
{
	char buf[40];
	size_t n = strlen(v);

	if (n > 1 && n < 12 && strspn(v, "0123456789") == n - 1 &&
	    strchr("smhd", v[n - 1])) {
		snprintf(buf, sizeof(buf), "%.*s", (int)(n - 1), v);
		long k = opts_number(buf, 0, 100000000);
		long unit = v[n - 1] == 's'   ? 1
		            : v[n - 1] == 'm' ? 60
		            : v[n - 1] == 'h' ? 3600
		                              : 86400;
		if (k < 0)
			return -1;
		*out = (int64_t)time(NULL) - (int64_t)k * unit;
		return 0;
	}
	if (n == 10 || n == 16) { /* a date, or without the seconds */
		snprintf(buf, sizeof(buf), "%s%s", v,
		         n == 10 ? "T00:00:00" : ":00");
		v = buf;
		n = strlen(buf);
	}
	return smtprobe_log_time(v, n, out) == (long)n ? 0 : -1;
}

static int on_logs_opt(void *ctx, int id, const char *v, char *err,
                       size_t errsz)
{
	struct logs_cfg *c = ctx;
	long n;

	switch (id) {
	case 0:
		if (c->nfiles == LOGS_MAX_FILES) {
			snprintf(err, errsz, "at most %d files",
			         LOGS_MAX_FILES);
			return -1;
		}
		c->files[c->nfiles++] = v;
		return 0;
	case L_FOLLOW:
		c->follow = 1;
		return 0;
	case L_SINCE:
	case L_UNTIL:
		if (parse_time(v, id == L_SINCE ? &c->o.since : &c->o.until) <
		    0) {
			snprintf(err, errsz,
			         "bad --%s '%s' (2026-12-07T05:00:00, "
			         "2026-12-07, or 2h / 30m / 7d ago)",
			         id == L_SINCE ? "since" : "until", v);
			return -1;
		}
		*(id == L_SINCE ? &c->o.has_since : &c->o.has_until) = 1;
		return 0;
	case L_TOP:
	case L_CAPACITY:
	case L_BF_THRESHOLD:
	case L_BF_WINDOW:
	case L_BF_USERS:
	case L_SPIKE_WINDOW:
	case L_SPIKE_MIN: {
		static const struct {
			int id;
			const char *name;
			long min, max;
		} lim[] = {{L_TOP, "top", 1, 1000},
		           {L_CAPACITY, "capacity", 16, 1000000},
		           {L_BF_THRESHOLD, "bf-threshold", 2, 1000},
		           {L_BF_WINDOW, "bf-window", 1, 86400 * 7},
		           {L_BF_USERS, "bf-users", 2, 64},
		           {L_SPIKE_WINDOW, "spike-window", 4, 1440},
		           {L_SPIKE_MIN, "spike-min", 1, 1000000000}};
		size_t i = 0;
		while (lim[i].id != id)
			i++;
		n = opts_number(v, lim[i].min, lim[i].max);
		if (n < 0) {
			snprintf(err, errsz, "bad --%s '%s' (%ld to %ld)",
			         lim[i].name, v, lim[i].min, lim[i].max);
			return -1;
		}
		unsigned *dst[] = {
		        &c->top,         &c->o.capacity,    &c->o.bf_threshold,
		        &c->o.bf_window, &c->o.bf_user_ips, &c->o.spike_window,
		        &c->o.spike_min};
		*dst[i] = (unsigned)n;
		return 0;
	}
	case L_SPIKE_K: {
		char *end;
		double k = strtod(v, &end);
		if (end == v || *end || !(k > 0 && k <= 1000)) {
			snprintf(err, errsz, "bad --spike-k '%s' (0 to 1000)",
			         v);
			return -1;
		}
		c->o.spike_k = k;
		return 0;
	}
	case L_METRICS_FILE:
		c->metrics_file = v;
		return 0;
	case L_INTERVAL:
		n = opts_duration_ms(v);
		if (n < 10 || n > 60000) {
			snprintf(err, errsz,
			         "bad --interval '%s' (0.01 to 60 s)", v);
			return -1;
		}
		c->interval_ms = (unsigned)n;
		return 0;
	case L_JSON:
		c->json = 1;
		c->format = CLI_FMT_JSON;
		return 0;
	case L_FORMAT:
		if (cli_format_opt(v, &c->json, &c->format, err, errsz) < 0)
			return -1;
		if (c->format != CLI_FMT_TEXT && c->format != CLI_FMT_JSON &&
		    c->format != CLI_FMT_PROMETHEUS) {
			snprintf(err, errsz,
			         "--format %s: logs has text, json and "
			         "prometheus",
			         v);
			return -1;
		}
		return 0;
	case L_HELP:
		c->help = 1;
		return 0;
	}
	snprintf(err, errsz, "internal: option %d", id);
	return -1;
}

static void logs_help(FILE *f)
{
	fprintf(f, "usage: smtprobe logs [FILE...] [OPTIONS]\n\n"
	           "What the mail server's own logs say: connections, AUTH "
	           "successes and failures\n(brute force), TLS handshakes "
	           "and failures, rejections by kind, deliveries,\nand "
	           "spikes. Postfix, Dovecot, Exim (mainlog, rejectlog), "
	           "Sendmail, OpenSMTPD,\nExchange (message tracking, SMTP "
	           "protocol logs); .gz read directly; stdin when\nno FILE "
	           "is given.\n\n");
	opts_help(logs_defs, f);
	fprintf(f, "\nexit codes: 0 read, 2 a usage error or an input that "
	           "cannot be read.\n"
	           "\nexamples:\n  smtprobe logs /var/log/mail.log.1 "
	           "/var/log/mail.log --json\n"
	           "  smtprobe logs -f /var/log/mail.log --format prometheus "
	           "--metrics-file \\\n      /var/lib/node_exporter/"
	           "smtprobe.prom\n");
}

/* an Exim rejectlog given without a mainlog: its rejections are counted
 * there (with its mainlog, they are the mainlog's) */
static int rejectlog_alone(const struct logs_cfg *c, const char *name)
{
	const char *base = strrchr(name, '/');

	if (strstr(base ? base + 1 : name, "rejectlog") == NULL)
		return 0;
	for (size_t i = 0; i < c->nfiles; i++) {
		const char *b = strrchr(c->files[i], '/');
		if (strstr(b ? b + 1 : c->files[i], "mainlog"))
			return 0;
	}
	return 1;
}

int cmd_logs(int argc, char **argv)
{
	struct logs_cfg c;
	char err[512] = "";
	int rc = 0;

	memset(&c, 0, sizeof(c));
	c.top = 10;
	c.interval_ms = 250;
	if (opts_parse(logs_defs, argc, argv, on_logs_opt, NULL, &c, err,
	               sizeof(err)) < 0) {
		cli_error("%s (try 'smtprobe logs --help')", err);
		return 2;
	}
	if (c.help) {
		logs_help(stdout);
		return 0;
	}
	if (c.metrics_file && (!c.follow || c.format != CLI_FMT_PROMETHEUS)) {
		cli_error("--metrics-file goes with -f --format prometheus");
		return 2;
	}
	if (c.o.has_since && c.o.has_until && c.o.until <= c.o.since) {
		cli_error("--until is not after --since");
		return 2;
	}
	if (c.nfiles == 0)
		c.files[c.nfiles++] = "-";
	struct smtprobe_logs *l = smtprobe_logs_new(&c.o);
	if (l == NULL) {
		cli_error("out of memory");
		return 2;
	}
	if (c.follow) {
		rc = logs_follow(&c, l);
		smtprobe_logs_free(l);
		return rc;
	}
	for (size_t i = 0; i < c.nfiles && rc == 0; i++) {
		struct logs_reader r;
		long got;
		if (logs_reader_open(&r, c.files[i], err, sizeof(err)) < 0) {
			cli_error("%s", err);
			rc = 2;
			break;
		}
		r.in.exim_rejectlog_alone = rejectlog_alone(&c, c.files[i]);
		while ((got = logs_reader_pump(&r, l, err, sizeof(err))) > 0)
			;
		if (got < 0) {
			cli_error("%s", err);
			rc = 2;
		}
		logs_reader_flush(&r, l);
		logs_reader_close(&r);
	}
	smtprobe_logs_finish(l);
	if (rc == 0 && logs_print(&c, l) < 0)
		rc = 2;
	smtprobe_logs_free(l);
	return rc;
}
