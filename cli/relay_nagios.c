/* relay_nagios.c - `smtprobe relay --format nagios`: CRITICAL when a
 * scenario is open or violated or nothing answers, WARNING when the
 * policy holds with warnings (or a time threshold is crossed), UNKNOWN
 * when the audit could not decide; perfdata: the whole time, the tests
 * run, the holes, the undecided and the warnings; a long-output line per
 * listener and scenario. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "nagios_out.h"
#include "smtprobe/relay.h"
#include "banned.h"

int relay_render_nagios(const struct smtprobe_relay_report *r,
                        const struct cli_nagios *ng)
{
	static const char *const sc_names[3] = {"A", "B", "C"};
	enum cli_nagios_state st = CLI_NAGIOS_OK;
	size_t holes = 0, undecided = 0, warns = 0, ran = 0;
	static char text[SMTPROBE_RELAY_MAX_PORTS * 3][400];
	const char *lines[SMTPROBE_RELAY_MAX_PORTS * 3];
	size_t n = 0;
	char summary[700], perf[400], part[160];

	for (size_t i = 0; i < r->ntests; i++) {
		const struct smtprobe_relay_test *t = &r->tests[i];
		ran += t->ran != 0;
		holes += t->mark == SMTPROBE_MARK_HOLE;
		undecided += t->mark == SMTPROBE_MARK_UNDECIDED;
		warns += t->mark == SMTPROBE_MARK_WARN;
	}
	summary[0] = '\0';
	for (int sc = 0; sc < 3; sc++) {
		const struct smtprobe_relay_scenario_verdict *v =
		        &r->overall[sc];
		if (v->verdict == SMTPROBE_V_SKIPPED)
			continue;
		size_t len = strlen(summary);
		snprintf(summary + len, sizeof(summary) - len, "%s%s %s",
		         len ? ", " : "", sc_names[sc],
		         smtprobe_relay_verdict_name(v->verdict));
	}
	const char *down = NULL; /* why a listener did not answer */
	size_t open = 0;
	for (size_t l = 0; l < r->nlisteners; l++) {
		const struct smtprobe_relay_listener *li = &r->listener[l];
		open += li->open != 0;
		if (!li->open) {
			const char *why =
			        li->error[0] ? li->error : "no answer";
			down = down ? down : why;
			if (n < sizeof(lines) / sizeof(lines[0])) {
				snprintf(text[n], sizeof(text[n]),
				         "[down] port %u: %.300s", li->port,
				         why);
				lines[n] = text[n];
				n++;
			}
			continue;
		}
		for (int sc = 0; sc < 3 && n < sizeof(lines) / sizeof(lines[0]);
		     sc++) {
			const struct smtprobe_relay_scenario_verdict *v =
			        &li->v[sc];
			if (v->verdict == SMTPROBE_V_SKIPPED)
				continue;
			snprintf(text[n], sizeof(text[n]),
			         "[%s] port %u %s: %.300s",
			         smtprobe_relay_verdict_name(v->verdict),
			         li->port, sc_names[sc], v->why);
			lines[n] = text[n];
			n++;
		}
	}
	/* an unreachable server is CRITICAL (the monitoring-plugins' rule) */
	if (r->exit_code == 1 || r->nlisteners == 0 || !open)
		st = CLI_NAGIOS_CRITICAL;
	else if (r->exit_code != 0)
		st = CLI_NAGIOS_UNKNOWN;
	else if (warns)
		st = CLI_NAGIOS_WARNING;
	double secs = r->ms / 1000.0;
	if (st != CLI_NAGIOS_UNKNOWN)
		cli_nagios_time(ng, secs, &st);
	cli_nagios_time_perf(ng, secs, perf, sizeof(perf));
	snprintf(part, sizeof(part),
	         " tests=%zu;;;0 holes=%zu;;0;0 undecided=%zu;;;0 "
	         "warnings=%zu;;;0",
	         ran, holes, undecided, warns);
	size_t len = strlen(perf);
	snprintf(perf + len, sizeof(perf) - len, "%s", part);
	char head[900];
	snprintf(head, sizeof(head), "%s: %s", r->host,
	         r->nlisteners == 0
	                 ? (r->error[0] ? r->error : "no listener answered")
	         : !open      ? down
	         : summary[0] ? summary
	                      : "no scenario ran");
	return cli_nagios_print("RELAY", st, head, perf, lines, n);
}
