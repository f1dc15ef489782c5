/* logs_test.h - what the unit tests of the log parsers share
 * (tests/unit/test_logs_{postfix,dovecot,exim,sendmail,opensmtpd,
 * exchange}.c; header-only: static inline).
 *
 * Slices: an event's field against what a row wants. A line copied to
 * end at an unreadable page, so that a read past it crashes with or
 * without ASan. The samples of tests/data/logs (under $SMTPROBE_DATA)
 * line by line, and their totals per kind. Two shapes of expected rows:
 * struct logst_row, one line parsed on its own and NULL for an absent
 * field (Exim, Sendmail), and struct logst_want, lines parsed in order in
 * one input and NULL for a field not checked (Dovecot, OpenSMTPD,
 * Exchange). Hostile lines: every prefix, heads followed by every byte
 * and by 100 KB runs, random bytes after a real line's start - each
 * parsed at the edge of the page, its event held to struct logst_rules. */
#ifndef SMTPROBE_TESTS_LOGS_TEST_H
#define SMTPROBE_TESTS_LOGS_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "smtprobe/logs.h"

#define LOGST_BIG (100 * 1024) /* the long hostile lines */

/* ---- slices ---- */

/* s lies in [base, base + n) */
static inline int logst_within(struct smtprobe_log_str s, const void *base,
                               size_t n)
{
	const char *b = base;

	return s.p >= b && s.p + s.n <= b + n;
}

/* got against want: NULL not checked, "" absent, else exactly these
 * bytes; line and what name a failure */
static inline void logst_str_is(const char *line, const char *what,
                                struct smtprobe_log_str got, const char *want)
{
	if (want == NULL)
		return;
	if (got.n != strlen(want) || (got.n && memcmp(got.p, want, got.n)))
		fail_msg("%s\n  %s is \"%.*s\", want \"%s\"", line, what,
		         (int)got.n, got.p ? got.p : "", want);
}

/* got against want, NULL for absent */
static inline void logst_str_or_none(const char *line, const char *what,
                                     struct smtprobe_log_str got,
                                     const char *want)
{
	logst_str_is(line, what, got, want ? want : "");
}

/* logst_str_or_none, and a present field is a slice of [buf, buf + len),
 * never a copy */
static inline void logst_slice_is(const char *line, const char *what,
                                  struct smtprobe_log_str got, const char *want,
                                  const char *buf, size_t len)
{
	logst_str_or_none(line, what, got, want);
	if (want && (got.p == NULL || !logst_within(got, buf, len)))
		fail_msg("%s\n  %s is not a slice of the line", line, what);
}

/* ---- a line that ends at an unreadable page ---- */

struct logst_guarded {
	char *map;
	size_t maplen;
	char *line; /* the copy: its last byte is the page's last */
};

static inline void logst_guard(struct logst_guarded *g, const char *s, size_t n)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t pages = (n + page - 1) / page + 1;

	g->maplen = pages * page;
	g->map = mmap(NULL, g->maplen, PROT_READ | PROT_WRITE,
	              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(g->map != MAP_FAILED);
	assert_int_equal(mprotect(g->map + (pages - 1) * page, page, PROT_NONE),
	                 0);
	g->line = g->map + (pages - 1) * page - n;
	if (n)
		memcpy(g->line, s, n);
}

static inline void logst_unguard(struct logst_guarded *g)
{
	munmap(g->map, g->maplen);
}

/* ---- inputs ---- */

/* an input as new, with ref_time (the year of syslog's times) */
static inline void logst_fresh(struct smtprobe_log_input *in, int64_t ref_time)
{
	memset(in, 0, sizeof(*in));
	in->ref_time = ref_time;
}

/* s, a C string, parsed in place */
static inline enum smtprobe_log_format
logst_parse(struct smtprobe_log_input *in, const char *s,
            struct smtprobe_log_event *ev)
{
	return smtprobe_log_parse(in, s, strlen(s), ev);
}

/* ---- the samples ---- */

/* called for each line of a sample (len bytes, without its '\n') */
typedef void logst_line_fn(struct smtprobe_log_input *in, const char *line,
                           size_t len, void *ctx);

/* fn(in, line, len, ctx) for each line of tests/data/logs/NAME (under
 * $SMTPROBE_DATA; tests/data when unset: run by hand from the top of the
 * tree), all in one fresh input at ref_time */
static inline void logst_each_line(const char *name, int64_t ref_time,
                                   logst_line_fn *fn, void *ctx)
{
	static struct smtprobe_log_input in;
	const char *dir = getenv("SMTPROBE_DATA");
	char path[4096];
	FILE *fp;
	long n;

	if (dir == NULL)
		dir = "tests/data";
	assert_true((size_t)snprintf(path, sizeof(path), "%s/logs/%s", dir,
	                             name) < sizeof(path));
	fp = fopen(path, "rb");
	if (fp == NULL)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	assert_true(n > 0);
	rewind(fp);
	char *buf = malloc((size_t)n);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	logst_fresh(&in, ref_time);
	for (size_t i = 0, len = (size_t)n; i < len;) {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - buf) : len;
		fn(&in, buf + i, end - i, ctx);
		i = end + 1;
	}
	free(buf);
}

/* what a sample gave; each event counted count times */
struct logst_totals {
	uint64_t lines;   /* of the format counted */
	uint64_t unknown; /* no parser's (whatever the format counted) */
	uint64_t authd;   /* AUTH failures that came from an auth process */
	uint64_t kind[SMTPROBE_LE_LAST];
	uint64_t reject[SMTPROBE_LR_LAST];
	uint64_t cause[SMTPROBE_LT_LAST];
};

struct logst_count {
	enum smtprobe_log_format only;
	unsigned need_client;
	struct logst_totals *t;
};

static inline void logst_count_line(struct smtprobe_log_input *in,
                                    const char *line, size_t len, void *ctx)
{
	const struct logst_count *c = ctx;
	struct logst_totals *t = c->t;
	struct smtprobe_log_event ev;
	enum smtprobe_log_format fm = smtprobe_log_parse(in, line, len, &ev);

	if (fm == SMTPROBE_LF_UNKNOWN)
		t->unknown++;
	if (c->only != SMTPROBE_LF_LAST && fm != c->only)
		return;
	t->lines++;
	t->kind[ev.kind] += ev.count;
	if (ev.kind == SMTPROBE_LE_REJECT)
		t->reject[ev.reject] += ev.count;
	if (ev.kind == SMTPROBE_LE_TLS_FAIL)
		t->cause[ev.tls_cause] += ev.count;
	if (ev.kind == SMTPROBE_LE_AUTH_FAIL && ev.from_authd)
		t->authd++;
	if ((c->need_client & (1u << ev.kind)) && ev.client.n == 0)
		fail_msg("%.*s\n  %s without a client", (int)len, line,
		         smtprobe_log_kind_name(ev.kind));
}

/* Adds to *t what the sample name gives in a fresh input at ref_time:
 * the events of the lines of format only (SMTPROBE_LF_LAST: of every
 * line). Every event of a kind in the mask need_client (1u << kind) must
 * name its client. */
static inline void logst_totals(const char *name, int64_t ref_time,
                                enum smtprobe_log_format only,
                                unsigned need_client, struct logst_totals *t)
{
	struct logst_count c = {only, need_client, t};

	logst_each_line(name, ref_time, logst_count_line, &c);
}

/* ---- rows: one line on its own, NULL absent ---- */

struct logst_row {
	const char *line;
	int rejectlog; /* Exim: parsed in an input that showed no mainlog
	                  line */
	enum smtprobe_log_kind kind;
	unsigned count; /* 0: 1 */
	/* NULL: absent */
	const char *client, *user, *sender, *rcpt, *protocol, *cipher;
	const char *text; /* NULL: not checked */
	int code;
	enum smtprobe_log_reject reject;   /* checked on a rejection */
	enum smtprobe_log_tls_cause cause; /* checked on a TLS failure */
};

/* r->line, copied to end at an unreadable page, parsed in in (as the
 * caller made it): of format fmt, with r's event, every field a slice of
 * the line */
static inline void logst_check_row(struct smtprobe_log_input *in,
                                   const struct logst_row *r,
                                   enum smtprobe_log_format fmt)
{
	struct smtprobe_log_event ev;
	struct logst_guarded g;
	size_t n = strlen(r->line);
	const char *l = r->line;

	logst_guard(&g, l, n);
	assert_int_equal(smtprobe_log_parse(in, g.line, n, &ev), fmt);
	if (ev.kind != r->kind)
		fail_msg("%s: kind %s, want %s", l,
		         smtprobe_log_kind_name(ev.kind),
		         smtprobe_log_kind_name(r->kind));
	assert_int_equal(ev.format, fmt);
	assert_int_equal(ev.count, r->count ? r->count : 1);
	assert_true(ev.ts > 0);
	logst_slice_is(l, "client", ev.client, r->client, g.line, n);
	logst_slice_is(l, "user", ev.user, r->user, g.line, n);
	logst_slice_is(l, "sender", ev.sender, r->sender, g.line, n);
	logst_slice_is(l, "rcpt", ev.rcpt, r->rcpt, g.line, n);
	logst_slice_is(l, "protocol", ev.protocol, r->protocol, g.line, n);
	logst_slice_is(l, "cipher", ev.cipher, r->cipher, g.line, n);
	if (r->text)
		logst_slice_is(l, "text", ev.text, r->text, g.line, n);
	assert_int_equal(ev.code, r->code);
	if (ev.kind == SMTPROBE_LE_REJECT && ev.reject != r->reject)
		fail_msg("%s: reject %s, want %s", l,
		         smtprobe_log_reject_name(ev.reject),
		         smtprobe_log_reject_name(r->reject));
	if (ev.kind == SMTPROBE_LE_TLS_FAIL && ev.tls_cause != r->cause)
		fail_msg("%s: cause %s, want %s", l,
		         smtprobe_log_tls_cause_name(ev.tls_cause),
		         smtprobe_log_tls_cause_name(r->cause));
	logst_unguard(&g);
}

/* ---- wants: lines in order in one input, NULL not checked ---- */

/* a field: NULL not checked, "" absent, else the exact bytes */
struct logst_want {
	const char *line;
	enum smtprobe_log_format format;
	enum smtprobe_log_kind kind;
	unsigned count; /* 0: 1 */
	int64_t ts;     /* 0: not checked */
	const char *client, *user, *sender, *rcpt, *protocol, *cipher, *text;
	int code;
	enum smtprobe_log_reject reject;
	enum smtprobe_log_tls_cause cause;
	int authd; /* from_authd */
};

/* w->line, copied to end at an unreadable page, parsed in in: the event
 * w wants. *out (when not NULL) gets the event: its numbers, not its
 * slices (the copy is gone). */
static inline void logst_check(struct smtprobe_log_input *in,
                               const struct logst_want *w,
                               struct smtprobe_log_event *out)
{
	struct smtprobe_log_event ev;
	struct logst_guarded g;
	size_t len = strlen(w->line);
	unsigned count = w->count ? w->count : 1;

	logst_guard(&g, w->line, len);
	enum smtprobe_log_format f = smtprobe_log_parse(in, g.line, len, &ev);
	if (f != w->format || ev.kind != w->kind || ev.count != count)
		fail_msg("%s\n  format %s kind %s count %u, want %s %s %u",
		         w->line, smtprobe_log_format_name(f),
		         smtprobe_log_kind_name(ev.kind), ev.count,
		         smtprobe_log_format_name(w->format),
		         smtprobe_log_kind_name(w->kind), count);
	if (w->ts)
		assert_int_equal(ev.ts, w->ts);
	logst_str_is(w->line, "client", ev.client, w->client);
	logst_str_is(w->line, "user", ev.user, w->user);
	logst_str_is(w->line, "sender", ev.sender, w->sender);
	logst_str_is(w->line, "rcpt", ev.rcpt, w->rcpt);
	logst_str_is(w->line, "protocol", ev.protocol, w->protocol);
	logst_str_is(w->line, "cipher", ev.cipher, w->cipher);
	logst_str_is(w->line, "text", ev.text, w->text);
	if (ev.code != w->code || ev.reject != w->reject ||
	    ev.tls_cause != w->cause || ev.from_authd != w->authd)
		fail_msg("%s\n  code %d reject %s cause %s authd %d, want "
		         "%d %s %s %d",
		         w->line, ev.code, smtprobe_log_reject_name(ev.reject),
		         smtprobe_log_tls_cause_name(ev.tls_cause),
		         ev.from_authd, w->code,
		         smtprobe_log_reject_name(w->reject),
		         smtprobe_log_tls_cause_name(w->cause), w->authd);
	logst_unguard(&g);
	if (out)
		*out = ev;
}

/* the n lines of w in order, in one fresh input at ref_time */
static inline void logst_run(const struct logst_want *w, size_t n,
                             int64_t ref_time)
{
	static struct smtprobe_log_input in;

	logst_fresh(&in, ref_time);
	for (size_t i = 0; i < n; i++)
		logst_check(&in, &w[i], NULL);
}

/* ---- hostile lines ---- */

/* what the event of any line keeps to: a field of an event of format
 * only (SMTPROBE_LF_LAST: of any) lies in its line - or in the input (its
 * session table) when in_table; the protocol may be a parser's own name
 * (under 8 bytes) when named_protocol */
struct logst_rules {
	enum smtprobe_log_format only;
	int in_table, named_protocol;
};

/* s (n bytes) copied to end at an unreadable page, parsed in in, its
 * event held to ru; the format. *out (when not NULL) gets the event: its
 * slices into the input stay, those into the copy are gone. */
static inline enum smtprobe_log_format
logst_parse_guarded(struct smtprobe_log_input *in, const struct logst_rules *ru,
                    const char *s, size_t n, struct smtprobe_log_event *out)
{
	struct smtprobe_log_event ev;
	struct logst_guarded g;

	logst_guard(&g, s, n);
	enum smtprobe_log_format f = smtprobe_log_parse(in, g.line, n, &ev);
	assert_true(f < SMTPROBE_LF_LAST);
	assert_true(ev.kind < SMTPROBE_LE_LAST);
	const struct smtprobe_log_str *fields[] = {
	        &ev.client,   &ev.user,   &ev.sender, &ev.rcpt,
	        &ev.protocol, &ev.cipher, &ev.text};
	int held = ru->only == SMTPROBE_LF_LAST || f == ru->only;
	for (size_t i = 0; held && i < sizeof(fields) / sizeof(fields[0]);
	     i++) {
		const struct smtprobe_log_str *v = fields[i];
		int ok = v->p == NULL || logst_within(*v, g.line, n);
		if (v == &ev.protocol && ru->named_protocol)
			ok = ok || v->n < 8;
		else if (ru->in_table)
			ok = ok || logst_within(*v, in, sizeof(*in));
		if (!ok)
			fail_msg("%.*s\n  a field outside the line", (int)n, s);
	}
	logst_unguard(&g);
	if (out)
		*out = ev;
	return f;
}

/* Each head (in one input), then: each byte value alone; all 256; 100 KB
 * of all byte values over and over, of fill cycled (fill[(i * 7) %
 * strlen(fill)]), of each byte of reps; and the head alone, cut at every
 * length. */
static inline void logst_heads(struct smtprobe_log_input *in,
                               const struct logst_rules *ru,
                               const char *const *heads, size_t nheads,
                               const char *fill, const char *reps)
{
	size_t nfill = strlen(fill);

	for (size_t h = 0; h < nheads; h++) {
		size_t k = strlen(heads[h]);
		char *b = malloc(k + LOGST_BIG);
		assert_non_null(b);
		memcpy(b, heads[h], k);
		for (int c = 0; c < 256; c++) {
			b[k] = (char)c;
			logst_parse_guarded(in, ru, b, k + 1, NULL);
		}
		for (int c = 0; c < 256; c++)
			b[k + (size_t)c] = (char)c;
		logst_parse_guarded(in, ru, b, k + 256, NULL);
		for (size_t i = 0; i < LOGST_BIG; i++)
			b[k + i] = (char)(i & 0xff);
		logst_parse_guarded(in, ru, b, k + LOGST_BIG, NULL);
		for (size_t i = 0; i < LOGST_BIG; i++)
			b[k + i] = fill[(i * 7) % nfill];
		logst_parse_guarded(in, ru, b, k + LOGST_BIG, NULL);
		for (const char *r = reps; *r; r++) {
			memset(b + k, *r, LOGST_BIG);
			logst_parse_guarded(in, ru, b, k + LOGST_BIG, NULL);
		}
		for (size_t i = 0; i <= k; i++)
			logst_parse_guarded(in, ru, b, i, NULL);
		free(b);
	}
}

/* every prefix of the line of each of the n rows (in one input) */
static inline void logst_row_prefixes(struct smtprobe_log_input *in,
                                      const struct logst_rules *ru,
                                      const struct logst_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0, len = strlen(rows[i].line); k <= len; k++)
			logst_parse_guarded(in, ru, rows[i].line, k, NULL);
}

static inline void logst_prefixes_line(struct smtprobe_log_input *in,
                                       const char *line, size_t len, void *ctx)
{
	const struct logst_rules *ru = ctx;
	struct smtprobe_log_event ev;

	if (ru->only != SMTPROBE_LF_LAST &&
	    smtprobe_log_parse(in, line, len, &ev) != ru->only)
		return; /* another parser's */
	for (size_t k = 0; k <= len; k++)
		logst_parse_guarded(in, ru, line, k, NULL);
	smtprobe_log_parse(in, line, len, &ev);
}

/* Every prefix of every line of the sample name, in a fresh input at
 * ref_time, then the whole line (a header's columns stay the real ones).
 * With ru->only, only the lines of that format. */
static inline void logst_file_prefixes(const char *name, int64_t ref_time,
                                       const struct logst_rules *ru)
{
	logst_each_line(name, ref_time, logst_prefixes_line, (void *)ru);
}

/* rounds lines: the line of a row (each in turn) with random bytes after
 * a random point (a fixed seed), in one input */
static inline void logst_row_mutations(struct smtprobe_log_input *in,
                                       const struct logst_rules *ru,
                                       const struct logst_row *rows, size_t n,
                                       int rounds)
{
	srand(15);
	for (int round = 0; round < rounds; round++) {
		const char *base = rows[(size_t)round % n].line;
		size_t len = strlen(base), cut = (size_t)rand() % (len + 1);
		char *b = malloc(len ? len : 1);
		assert_non_null(b);
		memcpy(b, base, len);
		for (size_t i = cut; i < len; i++)
			if (rand() % 4 == 0)
				b[i] = (char)(rand() % 256);
		logst_parse_guarded(in, ru, b, len, NULL);
		free(b);
	}
}

#endif
