/* outcome_prom.c - an outcome's metric families in the Prometheus text
 * exposition format 0.0.4, in the order they were added:
 *
 *     # HELP smtprobe_step_success Whether the step succeeded.
 *     # TYPE smtprobe_step_success gauge
 *     smtprobe_step_success{step="tls",target="mx:25"} 1
 *
 * HELP text escapes '\' and newline; label values escape '\', '"' and
 * newline; a sample without labels has no braces; a family without help
 * (NULL or "") has no HELP line, one without a type is "untyped". Values are
 * written without the locale: integers as integers ("1733500000"), others in
 * the shortest form that reads back to the same double (at most 17 significant
 * digits), NaN as "NaN", infinities as "+Inf" and "-Inf".
 *
 * A metric name not matching [a-zA-Z_:][a-zA-Z0-9_:]* or a type that is not
 * counter, gauge, histogram, summary or untyped is a programming error:
 * that family is left out. A label name not matching [a-zA-Z_][a-zA-Z0-9_]*,
 * or given twice in one sample, leaves that sample out. Duplicate samples
 * are written as given (the caller's to avoid). NULL when o->oom or out of
 * memory. */
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtprobe/outcome.h"
#include "banned.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Below 2^53 every integer is exact in a double: written in full. */
#define PROM_EXACT_INT 9007199254740992.0

static const char *const types[] = {"counter", "gauge", "histogram", "summary",
                                    "untyped"};

static int name_char(char c, int first, int colon)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
		return 1;
	if (colon && c == ':')
		return 1;
	return !first && c >= '0' && c <= '9';
}

/* Whether s is a metric name (colon 1) or a label name (colon 0). */
static int valid_name(const char *s, int colon)
{
	if (!s || !*s)
		return 0;
	for (size_t i = 0; s[i]; i++)
		if (!name_char(s[i], i == 0, colon))
			return 0;
	return 1;
}

static const char *valid_type(const char *t)
{
	if (!t)
		return "untyped";
	for (size_t i = 0; i < NELEM(types); i++)
		if (strcmp(t, types[i]) == 0)
			return types[i];
	return NULL;
}

static int valid_labels(const struct smtprobe_sample *m)
{
	if (m->nlabels > SMTPROBE_METRIC_MAX_LABELS)
		return 0;
	for (size_t i = 0; i < m->nlabels; i++) {
		if (!valid_name(m->label[i][0], 0))
			return 0;
		for (size_t k = 0; k < i; k++)
			if (strcmp(m->label[i][0], m->label[k][0]) == 0)
				return 0;
	}
	return 1;
}

/* s with '\' and newline escaped, and '"' too when quote. */
static void escaped(FILE *f, const char *s, int quote)
{
	for (; s && *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else if (quote && *s == '"')
			fputs("\\\"", f);
		else
			putc(*s, f);
	}
}

/* v as the exposition format writes it (the C locale is in use). */
static void value_text(double v, char *buf, size_t sz)
{
	if (isnan(v)) {
		snprintf(buf, sz, "NaN");
	} else if (isinf(v)) {
		snprintf(buf, sz, "%s", v > 0 ? "+Inf" : "-Inf");
	} else if (v == 0) {
		snprintf(buf, sz, "0"); /* -0 too */
	} else if (v == trunc(v) && fabs(v) < PROM_EXACT_INT) {
		snprintf(buf, sz, "%.0f", v);
	} else {
		for (int p = 1; p <= 17; p++) {
			snprintf(buf, sz, "%.*g", p, v);
			if (strtod(buf, NULL) == v)
				break;
		}
	}
}

static void write_sample(FILE *f, const struct smtprobe_family *fam,
                         const struct smtprobe_sample *m)
{
	char value[64];

	fputs(fam->name, f);
	if (m->nlabels > 0) {
		putc('{', f);
		for (size_t i = 0; i < m->nlabels; i++) {
			fprintf(f, "%s%s=\"", i ? "," : "", m->label[i][0]);
			escaped(f, m->label[i][1], 1);
			putc('"', f);
		}
		putc('}', f);
	}
	value_text(m->value, value, sizeof(value));
	fprintf(f, " %s\n", value);
}

static void write_family(FILE *f, const struct smtprobe_family *fam)
{
	const char *type = valid_type(fam->type);

	if (!valid_name(fam->name, 1) || !type)
		return;
	if (fam->help && *fam->help) {
		fprintf(f, "# HELP %s ", fam->name);
		escaped(f, fam->help, 0);
		putc('\n', f);
	}
	fprintf(f, "# TYPE %s %s\n", fam->name, type);
	for (size_t i = 0; i < fam->nsamples; i++)
		if (valid_labels(&fam->samples[i]))
			write_sample(f, fam, &fam->samples[i]);
}

char *smtprobe_outcome_prometheus(const struct smtprobe_outcome *o)
{
	char *buf = NULL;
	size_t len = 0;

	if (o->oom)
		return NULL;
	/* numbers in the C locale whatever the program set, this thread
	 * only */
	locale_t c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	if (c == (locale_t)0)
		return NULL;
	locale_t old = uselocale(c);
	FILE *f = open_memstream(&buf, &len);
	int rc = f ? 0 : -1;
	if (f) {
		for (size_t i = 0; i < o->nfamilies; i++)
			write_family(f, &o->families[i]);
		if (ferror(f))
			rc = -1;
		if (fclose(f) != 0)
			rc = -1;
	}
	uselocale(old);
	freelocale(c);
	if (rc < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
