/* nagios.c - `--format nagios`: the monitoring-plugins conventions shared
 * by the commands that have it (cli.h): the options -w/--warning and
 * -c/--critical (ranges on the total time, in seconds) and --cert-days
 * WARN[,CRIT]; one status line "SMTPROBE NAME STATE - summary | perfdata",
 * long output lines after it; exit 0 OK, 1 WARNING, 2 CRITICAL, 3
 * UNKNOWN. A state only ever gets worse as facts are added. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nagios_out.h"
#include "opts.h"
#include "banned.h"

static const char *const state_names[] = {"OK", "WARNING", "CRITICAL",
                                          "UNKNOWN"};

const char *cli_nagios_state_name(enum cli_nagios_state s)
{
	return (unsigned)s <= CLI_NAGIOS_UNKNOWN ? state_names[s] : "UNKNOWN";
}

void cli_nagios_init(struct cli_nagios *n)
{
	memset(n, 0, sizeof(*n));
	n->cert_warn = n->cert_crit = -1;
}

int cli_nagios_opt(struct cli_nagios *n, int which, const char *v, char *err,
                   size_t errsz)
{
	switch (which) {
	case CLI_NAGIOS_WARN:
	case CLI_NAGIOS_CRIT: {
		struct smtprobe_nagios_range r;
		if (smtprobe_nagios_range_parse(v, &r) < 0) {
			snprintf(err, errsz,
			         "bad %s range '%s' (e.g. 2, 1:5, @0:1, ~:3)",
			         which == CLI_NAGIOS_WARN ? "--warning"
			                                  : "--critical",
			         v);
			return -1;
		}
		if (which == CLI_NAGIOS_WARN) {
			n->warn = r;
			n->have_warn = 1;
			snprintf(n->warn_text, sizeof(n->warn_text), "%s", v);
		} else {
			n->crit = r;
			n->have_crit = 1;
			snprintf(n->crit_text, sizeof(n->crit_text), "%s", v);
		}
		return 0;
	}
	case CLI_NAGIOS_CERT_DAYS: {
		char a[16];
		const char *comma = strchr(v, ',');
		size_t len = comma ? (size_t)(comma - v) : strlen(v);
		long w = -1, c = -1;
		if (len > 0 && len < sizeof(a)) {
			memcpy(a, v, len);
			a[len] = '\0';
			w = opts_number(a, 0, 100000);
		}
		if (comma)
			c = opts_number(comma + 1, 0, 100000);
		if (w < 0 || (comma && (c < 0 || c > w))) {
			snprintf(err, errsz,
			         "bad --cert-days '%s' (WARN or WARN,CRIT in "
			         "days, CRIT at most WARN)",
			         v);
			return -1;
		}
		n->cert_warn = w;
		n->cert_crit = comma ? c : -1;
		return 0;
	}
	}
	snprintf(err, errsz, "internal: nagios option %d", which);
	return -1;
}

static void worse(enum cli_nagios_state *s, enum cli_nagios_state t)
{
	if (t > *s && *s != CLI_NAGIOS_UNKNOWN)
		*s = t;
}

void cli_nagios_time(const struct cli_nagios *n, double seconds,
                     enum cli_nagios_state *state)
{
	if (n->have_crit && smtprobe_nagios_range_alert(&n->crit, seconds))
		worse(state, CLI_NAGIOS_CRITICAL);
	else if (n->have_warn && smtprobe_nagios_range_alert(&n->warn, seconds))
		worse(state, CLI_NAGIOS_WARNING);
}

void cli_nagios_cert(const struct cli_nagios *n, long days_left,
                     enum cli_nagios_state *state)
{
	if (n->cert_crit >= 0 && days_left < n->cert_crit)
		worse(state, CLI_NAGIOS_CRITICAL);
	else if (n->cert_warn >= 0 && days_left < n->cert_warn)
		worse(state, CLI_NAGIOS_WARNING);
}

/* The perfdata thresholds of the time ("w;c"), as given. */
void cli_nagios_time_perf(const struct cli_nagios *n, double seconds, char *out,
                          size_t outsz)
{
	snprintf(out, outsz, "time=%.3fs;%s;%s;0", seconds,
	         n->have_warn ? n->warn_text : "",
	         n->have_crit ? n->crit_text : "");
}

void cli_nagios_cert_perf(const struct cli_nagios *n, long days_left, char *out,
                          size_t outsz)
{
	char w[24] = "", c[24] = "";

	/* a range that alerts below the limit: "N:" */
	if (n->cert_warn >= 0)
		snprintf(w, sizeof(w), "%ld:", n->cert_warn);
	if (n->cert_crit >= 0)
		snprintf(c, sizeof(c), "%ld:", n->cert_crit);
	snprintf(out, outsz, "cert_days=%ld;%s;%s;", days_left, w, c);
}

int cli_nagios_print(const char *name, enum cli_nagios_state state,
                     const char *summary, const char *perfdata,
                     const char *const *lines, size_t nlines)
{
	printf("SMTPROBE %s %s - %s%s%s\n", name, cli_nagios_state_name(state),
	       summary, perfdata && perfdata[0] ? " | " : "",
	       perfdata ? perfdata : "");
	for (size_t i = 0; i < nlines; i++)
		printf("%s\n", lines[i]);
	return (int)state;
}

int cli_nagios_wanted(int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--format=nagios") == 0)
			return 1;
		if (strcmp(argv[i], "--format") == 0 && i + 1 < argc &&
		    strcmp(argv[i + 1], "nagios") == 0)
			return 1;
	}
	return 0;
}
