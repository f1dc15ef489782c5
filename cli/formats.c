/* formats.c - `--format` of the commands: the names, and the printing of
 * an outcome (smtprobe/outcome.h) as Prometheus metrics, JUnit XML or TAP;
 * text, json and nagios are each command's own. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "nagios_out.h"
#include "smtprobe/outcome.h"
#include "banned.h"

static const char *const format_names[] = {
        [CLI_FMT_TEXT] = "text",     [CLI_FMT_JSON] = "json",
        [CLI_FMT_NAGIOS] = "nagios", [CLI_FMT_PROMETHEUS] = "prometheus",
        [CLI_FMT_JUNIT] = "junit",   [CLI_FMT_TAP] = "tap",
};

int cli_format_opt(const char *v, int *json, int *format, char *err,
                   size_t errsz)
{
	for (size_t i = 0; i < sizeof(format_names) / sizeof(format_names[0]);
	     i++)
		if (strcmp(v, format_names[i]) == 0) {
			*format = (int)i;
			*json = i == CLI_FMT_JSON;
			return 0;
		}
	snprintf(err, errsz,
	         "unknown --format '%s' (text, json, nagios, prometheus, "
	         "junit, tap)",
	         v);
	return -1;
}

const char *cli_format_name(int format)
{
	return format >= 0 && (size_t)format < sizeof(format_names) /
	                                               sizeof(format_names[0])
	               ? format_names[format]
	               : "?";
}

int cli_outcome_print(int format, const struct smtprobe_outcome *o,
                      const char *name)
{
	char *text = format == CLI_FMT_PROMETHEUS
	                     ? smtprobe_outcome_prometheus(o)
	             : format == CLI_FMT_JUNIT ? smtprobe_outcome_junit(o, name)
	                                       : smtprobe_outcome_tap(o);
	if (text == NULL) {
		cli_error("out of memory");
		return -1;
	}
	fputs(text, stdout);
	free(text);
	fflush(stdout);
	return 0;
}
