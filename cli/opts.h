/* opts.h - a small table-driven option parser that accepts the spellings
 * swaks users type: --long, -long (single dash), -s short, --opt=value,
 * options whose value is optional (--auth [MECH]) and secret values that
 * are wiped from argv once read (--auth-password). */
#ifndef SMTPROBE_OPTS_H
#define SMTPROBE_OPTS_H

#include <stddef.h>

/* OPT_SECRET: a required value the callback must copy; argv's copy is
 * overwritten after the callback returns, so ps and /proc/PID/cmdline no
 * longer show it. */
enum opt_arg { OPT_NONE, OPT_REQ, OPT_OPT, OPT_SECRET };

struct opt_def {
	int id;
	const char
	        *names; /* "t|to": every spelling, '|'-separated, no dashes */
	enum opt_arg arg;
	const char *metavar;
	const char *help;
};

/* Called per option (id, value or NULL) and per positional argument
 * (id 0); the value points into argv. Returns 0 to go on, -1 to stop (cb wrote
 * err). An OPT_OPT value is taken from the next argument only when
 * accept_opt(id, next) says so. */
typedef int (*opt_cb)(void *ctx, int id, const char *val, char *err,
                      size_t errsz);
typedef int (*opt_accept)(int id, const char *next);

int opts_parse(const struct opt_def *defs, int argc, char **argv, opt_cb cb,
               opt_accept accept_opt, void *ctx, char *err, size_t errsz);

/* Print the option table as help text. */
void opts_help(const struct opt_def *defs, void *stream);

/* Parse a duration "30", "2.5", "30s", "2m" into milliseconds; -1 = bad. */
long opts_duration_ms(const char *s);
/* Parse an unsigned number in [min, max]; -1 = bad. */
long opts_number(const char *s, long min, long max);

#endif
