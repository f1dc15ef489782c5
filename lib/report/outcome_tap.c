/* outcome_tap.c - an outcome's suites as TAP version 14: a plan of one
 * test per suite, each suite a subtest ("# Subtest: NAME", then its own
 * plan and test points indented four spaces) closed by the parent's
 * "ok n - NAME", which is "not ok" when a case in it failed or erred.
 * A skipped case is "ok k - name # SKIP message"; a failed or undecided
 * one is "not ok k - name" followed by a YAML diagnostic block (message,
 * severity fail or error, data: the detail), indented two more spaces:
 *
 *     not ok 2 - tls
 *       ---
 *       message: "STARTTLS refused"
 *       severity: fail
 *       data: "line one\nline two"
 *       ...
 *
 * Names and messages on a test point are kept to one line (tab, CR and
 * newline become spaces, other controls '?'), and '#' and '\' in
 * descriptions are escaped as TAP 14 says ("\#", "\\"). YAML scalars are
 * JSON strings (jansson), which YAML reads as double-quoted scalars, so no
 * text can break out of the block (U+2028 and U+2029 escaped besides, as
 * YAML 1.1 takes them for line breaks). The model stores clean UTF-8
 * (outcome.c); a string that is not (structs filled by hand) makes jansson
 * refuse it, and the renderer returns NULL, as when o->oom or out of memory. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "smtprobe/outcome.h"
#include "banned.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Per status: whether the test point is "ok", the YAML severity. */
static const struct {
	int ok;
	const char *severity; /* NULL: no diagnostic block */
} status_tab[] = {
        [SMTPROBE_CASE_PASS] = {1, NULL},
        [SMTPROBE_CASE_FAIL] = {0, "fail"},
        [SMTPROBE_CASE_ERROR] = {0, "error"},
        [SMTPROBE_CASE_SKIP] = {1, NULL},
};

/* A status out of the enum is a fault nobody decided: an error. */
static enum smtprobe_case_status status_of(const struct smtprobe_case *c)
{
	return (size_t)c->status < NELEM(status_tab) ? c->status
	                                             : SMTPROBE_CASE_ERROR;
}

/* s on one line; with escape, '#' and '\' escaped as in a description. */
static void one_line(FILE *f, const char *s, int escape)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '\n' || *p == '\r' || *p == '\t')
			putc(' ', f);
		else if (*p < 0x20 || *p == 0x7F)
			putc('?', f);
		else if (escape && (*p == '#' || *p == '\\'))
			fprintf(f, "\\%c", *p);
		else
			putc(*p, f);
	}
}

/* "ok 3 - name" (without the newline); the name left out when empty. */
static void test_point(FILE *f, const char *indent, int ok, size_t n,
                       const char *name)
{
	fprintf(f, "%s%s %zu", indent, ok ? "ok" : "not ok", n);
	if (name && *name) {
		fputs(" - ", f);
		one_line(f, name, 1);
	}
}

/* key: "s", as a YAML double-quoted scalar; 0 or -1. */
static int yaml_pair(FILE *f, const char *indent, const char *key,
                     const char *s)
{
	json_t *j = json_string(s);
	char *q = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;

	json_decref(j);
	if (!q)
		return -1;
	fprintf(f, "%s%s: ", indent, key);
	/* JSON leaves U+2028 and U+2029 raw, YAML 1.1 reads them as line
	 * breaks and folds them: escaped, the text reads back the same */
	for (const char *p = q; *p; p++) {
		if (p[0] == '\xE2' && p[1] == '\x80' &&
		    (p[2] == '\xA8' || p[2] == '\xA9')) {
			fputs(p[2] == '\xA8' ? "\\u2028" : "\\u2029", f);
			p += 2;
		} else {
			putc(*p, f);
		}
	}
	putc('\n', f);
	free(q);
	return 0;
}

static int write_case(FILE *f, const struct smtprobe_case *c, size_t n)
{
	enum smtprobe_case_status st = status_of(c);

	test_point(f, "    ", status_tab[st].ok, n, c->name);
	if (st == SMTPROBE_CASE_SKIP) {
		fputs(" # SKIP", f);
		if (c->message && *c->message) {
			putc(' ', f);
			one_line(f, c->message, 0);
		}
	}
	putc('\n', f);
	if (!status_tab[st].severity)
		return 0;
	fputs("      ---\n", f);
	if (c->message && yaml_pair(f, "      ", "message", c->message) < 0)
		return -1;
	fprintf(f, "      severity: %s\n", status_tab[st].severity);
	if (c->detail && yaml_pair(f, "      ", "data", c->detail) < 0)
		return -1;
	fputs("      ...\n", f);
	return 0;
}

static int write_suite(FILE *f, const struct smtprobe_suite *s, size_t n)
{
	int ok = 1;

	fputs("# Subtest: ", f);
	one_line(f, s->name ? s->name : "", 0);
	fprintf(f, "\n    1..%zu\n", s->ncases);
	for (size_t i = 0; i < s->ncases; i++) {
		if (write_case(f, &s->cases[i], i + 1) < 0)
			return -1;
		if (!status_tab[status_of(&s->cases[i])].ok)
			ok = 0;
	}
	test_point(f, "", ok, n, s->name);
	putc('\n', f);
	return 0;
}

char *smtprobe_outcome_tap(const struct smtprobe_outcome *o)
{
	char *buf = NULL;
	size_t len = 0;

	if (o->oom)
		return NULL;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	int rc = 0;
	fprintf(f, "TAP version 14\n1..%zu\n", o->nsuites);
	for (size_t i = 0; i < o->nsuites && rc == 0; i++)
		rc = write_suite(f, &o->suites[i], i + 1);
	if (ferror(f))
		rc = -1;
	if (fclose(f) != 0)
		rc = -1;
	if (rc < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
