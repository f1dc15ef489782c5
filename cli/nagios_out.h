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
/* --format: what the commands print (cli/formats.c) */
enum cli_format {
	CLI_FMT_TEXT,
	CLI_FMT_JSON,
	CLI_FMT_NAGIOS,
	CLI_FMT_PROMETHEUS,
	CLI_FMT_JUNIT,
	CLI_FMT_TAP,
};
/* --format NAME into *format (and *json for json); 0 or -1 with err. */
int cli_format_opt(const char *v, int *json, int *format, char *err,
                   size_t errsz);
/* "nagios" for CLI_FMT_NAGIOS ... ("?" out of range) */
const char *cli_format_name(int format);
/* Print an outcome in format prometheus, junit or tap (name: the JUnit
 * testsuites' name) to stdout; 0, or -1 (out of memory, said). */
struct smtprobe_outcome;
int cli_outcome_print(int format, const struct smtprobe_outcome *o,
                      const char *name);

/* The rows of --format, -w and -c, with the ids FIRST .. FIRST + 2, and
 * CLI_OPT_CERT_DAYS (id FIRST + 3) for the commands that read a
 * certificate (the last three in enum cli_nagios_opt's order: hand them to
 * cli_nagios_opt as id - FIRST - 1). */
/* clang-format off */
#define CLI_OPTS_FORMAT(FIRST) \
	{(FIRST), "format", OPT_REQ, "FMT", \
	 "text (default), json, nagios (a monitoring plugin: status line, " \
	 "perfdata, exit 0-3), prometheus (metrics), junit or tap (a " \
	 "test report for CI)"}, \
	{(FIRST) + 1, "w|warning", OPT_REQ, "RANGE", \
	 "nagios: WARNING when the run's seconds fall outside RANGE"}, \
	{(FIRST) + 2, "c|critical", OPT_REQ, "RANGE", \
	 "nagios: CRITICAL when they fall outside RANGE"}
#define CLI_OPT_CERT_DAYS(FIRST) \
	{(FIRST) + 3, "cert-days", OPT_REQ, "WARN[,CRIT]", \
	 "nagios: WARNING (CRITICAL) below this many days of certificate left"}
/* clang-format on */

/* relay --format nagios (cli/relay_nagios.c); the exit code */
struct smtprobe_relay_report;
int relay_render_nagios(const struct smtprobe_relay_report *r,
                        const struct cli_nagios *ng);

/* argv asks for --format nagios (a usage error is then UNKNOWN, 3). */
int cli_nagios_wanted(int argc, char **argv);

#endif
