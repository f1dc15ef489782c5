/* opts.c - table-driven command-line parsing with swaks' spellings.
 * Unknown options, missing values and bad numbers are reported as one
 * lower-case message in err; nothing is printed here. A secret value
 * (OPT_SECRET) is overwritten in argv once the callback has copied it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"
#include "banned.h"

static int name_matches(const char *names, const char *name, size_t len)
{
	const char *p = names;

	while (*p) {
		const char *q = strchr(p, '|');
		size_t n = q ? (size_t)(q - p) : strlen(p);
		if (n == len && strncmp(p, name, len) == 0)
			return 1;
		if (!q)
			break;
		p = q + 1;
	}
	return 0;
}

static const struct opt_def *find_opt(const struct opt_def *defs,
                                      const char *name, size_t len)
{
	for (; defs->names; defs++)
		if (name_matches(defs->names, name, len))
			return defs;
	return NULL;
}

int opts_parse(const struct opt_def *defs, int argc, char **argv, opt_cb cb,
               opt_accept accept_opt, void *ctx, char *err, size_t errsz)
{
	int only_positional = 0;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (only_positional || a[0] != '-' || a[1] == '\0') {
			if (cb(ctx, 0, a, err, errsz) < 0)
				return -1;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_positional = 1;
			continue;
		}
		const char *name = a + (a[1] == '-' ? 2 : 1);
		const char *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		const struct opt_def *d = find_opt(defs, name, len);
		if (!d) {
			snprintf(err, errsz, "unknown option '%.*s'",
			         (int)(len + (size_t)(name - a)), a);
			return -1;
		}
		char *val = NULL;
		if (eq) {
			if (d->arg == OPT_NONE) {
				snprintf(err, errsz,
				         "option '%.*s' takes no value",
				         (int)(eq - a), a);
				return -1;
			}
			val = argv[i] + (eq - a) + 1;
		} else if (d->arg == OPT_REQ || d->arg == OPT_SECRET) {
			if (i + 1 >= argc) {
				snprintf(err, errsz,
				         "option '%s' needs a value%s%s", a,
				         d->metavar ? " " : "",
				         d->metavar ? d->metavar : "");
				return -1;
			}
			val = argv[++i];
		} else if (d->arg == OPT_OPT && i + 1 < argc &&
		           argv[i + 1][0] != '-' && accept_opt &&
		           accept_opt(d->id, argv[i + 1])) {
			val = argv[++i];
		}
		int rc = cb(ctx, d->id, val, err, errsz);
		if (d->arg == OPT_SECRET && val)
			memset(val, 'x', strlen(val));
		if (rc < 0)
			return -1;
	}
	return 0;
}

void opts_help(const struct opt_def *defs, void *stream)
{
	FILE *f = stream;

	for (; defs->names; defs++) {
		char spell[160];
		size_t o = 0;
		const char *p = defs->names;
		if (!defs->help)
			continue;
		while (*p && o + 8 < sizeof(spell)) {
			const char *q = strchr(p, '|');
			size_t n = q ? (size_t)(q - p) : strlen(p);
			int w = snprintf(spell + o, sizeof(spell) - o,
			                 "%s%s%.*s", o ? ", " : "",
			                 n == 1 ? "-" : "--", (int)n, p);
			if (w < 0 || (size_t)w >= sizeof(spell) - o)
				break;
			o += (size_t)w;
			if (!q)
				break;
			p = q + 1;
		}
		if (defs->metavar)
			snprintf(spell + o, sizeof(spell) - o,
			         defs->arg == OPT_OPT ? " [%s]" : " %s",
			         defs->metavar);
		if (strlen(spell) <= 28)
			fprintf(f, "  %-28s %s\n", spell, defs->help);
		else
			fprintf(f, "  %s\n  %-28s %s\n", spell, "", defs->help);
	}
}

long opts_duration_ms(const char *s)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	double mult = 1000;

	if (end == s || errno || v < 0)
		return -1;
	if (*end == 's')
		end++;
	else if (*end == 'm') {
		mult = 60000;
		end++;
	} else if (*end == 'h') {
		mult = 3600000;
		end++;
	}
	if (*end != '\0' || v * mult > 86400000.0)
		return -1;
	return (long)(v * mult);
}

long opts_number(const char *s, long min, long max)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);

	if (end == s || *end != '\0' || errno || v < min || v > max)
		return -1;
	return v;
}
