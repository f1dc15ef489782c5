/* nagios_out.h - `--format nagios` for the commands (cli/nagios.c). */
#ifndef SMTPROBE_CLI_NAGIOS_OUT_H
#define SMTPROBE_CLI_NAGIOS_OUT_H

#include <stddef.h>

#include "smtprobe/nagios.h"

/* the exit codes of the monitoring-plugins */
enum cli_nagios_state {
	CLI_NAGIOS_OK,
	CLI_NAGIOS_WARNING,
	CLI_NAGIOS_CRITICAL,
	CLI_NAGIOS_UNKNOWN,
};

enum cli_nagios_opt { CLI_NAGIOS_WARN, CLI_NAGIOS_CRIT, CLI_NAGIOS_CERT_DAYS };

struct cli_nagios {
	int have_warn, have_crit;
	struct smtprobe_nagios_range warn, crit; /* on the total time, s */
	char warn_text[32], crit_text[32];       /* as given, for perfdata */
	long cert_warn, cert_crit;               /* days; -1: none */
};

const char *cli_nagios_state_name(enum cli_nagios_state s);
void cli_nagios_init(struct cli_nagios *n);
/* -w / -c RANGE, --cert-days WARN[,CRIT]; 0 or -1 with err. */
int cli_nagios_opt(struct cli_nagios *n, int which, const char *v, char *err,
                   size_t errsz);
/* Make *state worse (never better) by the thresholds. */
void cli_nagios_time(const struct cli_nagios *n, double seconds,
                     enum cli_nagios_state *state);
void cli_nagios_cert(const struct cli_nagios *n, long days_left,
                     enum cli_nagios_state *state);
/* Perfdata items: "time=0.190s;W;C;0", "cert_days=80;30:;7:;". */
void cli_nagios_time_perf(const struct cli_nagios *n, double seconds, char *out,
                          size_t outsz);
void cli_nagios_cert_perf(const struct cli_nagios *n, long days_left, char *out,
                          size_t outsz);
/* "SMTPROBE NAME STATE - summary | perfdata", then the lines; returns the
 * exit code (the state). */
int cli_nagios_print(const char *name, enum cli_nagios_state state,
                     const char *summary, const char *perfdata,
                     const char *const *lines, size_t nlines);
/* --format text|json|nagios into *json / *nagios; 0 or -1 with err. */
int cli_format_opt(const char *v, int *json, int *nagios, char *err,
                   size_t errsz);

/* The rows of --format, -w, -c and --cert-days, with the ids FIRST .. FIRST
 * + 3 (the last three in enum cli_nagios_opt's order: hand them to
 * cli_nagios_opt as id - FIRST - 1). */
/* clang-format off */
#define CLI_OPTS_FORMAT(FIRST) \
	{(FIRST), "format", OPT_REQ, "FMT", \
	 "text (default), json, or nagios (a monitoring plugin: status line, " \
	 "perfdata, exit 0-3)"}, \
	{(FIRST) + 1, "w|warning", OPT_REQ, "RANGE", \
	 "nagios: WARNING when the run's seconds fall outside RANGE"}, \
	{(FIRST) + 2, "c|critical", OPT_REQ, "RANGE", \
	 "nagios: CRITICAL when they fall outside RANGE"}, \
	{(FIRST) + 3, "cert-days", OPT_REQ, "WARN[,CRIT]", \
	 "nagios: WARNING (CRITICAL) below this many days of certificate left"}
/* clang-format on */

/* argv asks for --format nagios (a usage error is then UNKNOWN, 3). */
int cli_nagios_wanted(int argc, char **argv);

#endif
