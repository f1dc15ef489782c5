/* test_reply.c - table-driven tests of the reply parser, builder and
 * escaper. Every valid case is also fed to the parser cut at every byte
 * position, each prefix in a buffer of exactly that size so that ASan
 * catches a read past the end. */
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "smtprobe/reply.h"

#include "banned.h"

#define FULL     LONG_MAX /* expected result: the whole input */
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
/* A case that stops at the parse: an error or incomplete input. */
#define BAD(n, i, l, w)                                                        \
	{                                                                      \
		.name = (n), .in = (i), .len = (l), .want = (w)                \
	}

#define F_BARE_LF      SMTPROBE_REPLY_F_BARE_LF
#define F_CTRL         SMTPROBE_REPLY_F_CTRL
#define F_ENH_MISMATCH SMTPROBE_REPLY_F_ENH_MISMATCH
#define F_ENH_PARTIAL  SMTPROBE_REPLY_F_ENH_PARTIAL
#define F_8BIT         SMTPROBE_REPLY_F_8BIT

struct rcase {
	const char *name;
	const char *in;
	size_t len; /* 0: strlen(in) */
	long want;  /* FULL, a byte count, 0 or an error */
	int code;
	const char *enhanced;
	unsigned flags;
	size_t nlines;
	const char *first; /* escaped text of the first line */
	const char *last;  /* escaped text of the last line, NULL: skip */
	const char *raw;   /* NULL: skip */
};

static const struct rcase cases[] = {
        {"single line", "250 OK\r\n", 0, FULL, 250, "", 0, 1, "OK", NULL,
         "250 OK"},
        {"postfix banner", "220 mx.example.org ESMTP Postfix (Debian)\r\n", 0,
         FULL, 220, "", 0, 1, "mx.example.org ESMTP Postfix (Debian)", NULL,
         NULL},
        {"multi-line",
         "250-mx.example.com\r\n250-PIPELINING\r\n250 8BITMIME\r\n", 0, FULL,
         250, "", 0, 3, "mx.example.com", "8BITMIME",
         "250-mx.example.com\n250-PIPELINING\n250 8BITMIME"},
        {"bare code", "250\r\n", 0, FULL, 250, "", 0, 1, "", NULL, "250"},
        {"bare code bare lf", "354\n", 0, FULL, 354, "", F_BARE_LF, 1, "", NULL,
         "354"},
        {"empty continuation", "250-\r\n250 \r\n", 0, FULL, 250, "", 0, 2, "",
         "", "250-\n250 "},
        {"bare code last line", "221-bye\r\n221\r\n", 0, FULL, 221, "", 0, 2,
         "bye", "", "221-bye\n221"},
        {"554 refusal", "554 5.7.1 Service unavailable\r\n", 0, FULL, 554,
         "5.7.1", 0, 1, "Service unavailable", NULL,
         "554 5.7.1 Service unavailable"},
        {"pipelined: only the first", "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n", 0, 14,
         250, "2.1.0", 0, 1, "Ok", NULL, NULL},
        {"pipelined multi-line first", "250-a\r\n250 b\r\n354 go\r\n", 0, 14,
         250, "", 0, 2, "a", "b", NULL},

        /* enhanced status codes */
        {"enhanced ok", "250 2.0.0 Ok: queued as 4Xyz\r\n", 0, FULL, 250,
         "2.0.0", 0, 1, "Ok: queued as 4Xyz", NULL,
         "250 2.0.0 Ok: queued as 4Xyz"},
        {"enhanced alone", "250 2.0.0\r\n", 0, FULL, 250, "2.0.0", 0, 1, "",
         NULL, NULL},
        {"enhanced 3 digits", "452 4.123.999 x\r\n", 0, FULL, 452, "4.123.999",
         0, 1, "x", NULL, NULL},
        {"enhanced zero", "250 2.0.0 x\r\n", 0, FULL, 250, "2.0.0", 0, 1, "x",
         NULL, NULL},
        {"enhanced class mismatch", "550 2.1.0 x\r\n", 0, FULL, 550, "2.1.0",
         F_ENH_MISMATCH, 1, "x", NULL, NULL},
        {"enhanced gmail multi-line",
         "550-5.7.1 [192.0.2.1] Our system has detected\r\n"
         "550-5.7.1 an unusual rate of unsolicited mail.\r\n"
         "550 5.7.1 https://support.google.com/mail/ - gsmtp\r\n",
         0, FULL, 550, "5.7.1", 0, 3, "[192.0.2.1] Our system has detected",
         "https://support.google.com/mail/ - gsmtp", NULL},
        {"enhanced partial", "550-5.7.1 a\r\n550 b\r\n", 0, FULL, 550, "5.7.1",
         F_ENH_PARTIAL, 2, "a", "b", "550-5.7.1 a\n550 b"},
        {"enhanced partial, first lacks", "450-a\r\n450 4.2.0 b\r\n", 0, FULL,
         450, "4.2.0", F_ENH_PARTIAL, 2, "a", "b", NULL},
        {"enhanced mismatch on a later line", "550-5.7.1 a\r\n550 4.7.1 b\r\n",
         0, FULL, 550, "5.7.1", F_ENH_MISMATCH, 2, "a", "b", NULL},
        {"not enhanced: two parts", "550 5.7 nope\r\n", 0, FULL, 550, "", 0, 1,
         "5.7 nope", NULL, NULL},
        {"not enhanced: 4 digits", "550 5.7.1000 nope\r\n", 0, FULL, 550, "", 0,
         1, "5.7.1000 nope", NULL, NULL},
        {"not enhanced: leading zero", "550 5.07.1 nope\r\n", 0, FULL, 550, "",
         0, 1, "5.07.1 nope", NULL, NULL},
        {"not enhanced: class 3", "550 3.1.1 nope\r\n", 0, FULL, 550, "", 0, 1,
         "3.1.1 nope", NULL, NULL},
        {"not enhanced: glued", "550 5.7.1nope\r\n", 0, FULL, 550, "", 0, 1,
         "5.7.1nope", NULL, NULL},
        {"not enhanced: trailing dot", "550 5.7.1. x\r\n", 0, FULL, 550, "", 0,
         1, "5.7.1. x", NULL, NULL},
        {"not enhanced: empty part", "550 5..1 x\r\n", 0, FULL, 550, "", 0, 1,
         "5..1 x", NULL, NULL},

        /* odd bytes: accepted, flagged, escaped */
        {"bare lf", "250 ok\n", 0, FULL, 250, "", F_BARE_LF, 1, "ok", NULL,
         "250 ok"},
        {"mixed line ends", "250-a\r\n250 b\n", 0, FULL, 250, "", F_BARE_LF, 2,
         "a", "b", NULL},
        {"nul byte", "250 a\0b\r\n", 9, FULL, 250, "", F_CTRL, 1, "a\\x00b",
         NULL, "250 a\\x00b"},
        {"lone cr", "250 a\rb\r\n", 0, FULL, 250, "", F_CTRL, 1, "a\\rb", NULL,
         NULL},
        {"cr cr lf", "250 a\r\r\n", 0, FULL, 250, "", F_CTRL, 1, "a\\r", NULL,
         NULL},
        {"escape sequence", "250 \x1b[31mred\r\n", 0, FULL, 250, "", F_CTRL, 1,
         "\\x1b[31mred", NULL, NULL},
        {"del", "250 a\x7f\r\n", 0, FULL, 250, "", F_CTRL, 1, "a\\x7f", NULL,
         NULL},
        {"tab is text", "250 a\tb\r\n", 0, FULL, 250, "", 0, 1, "a\\tb", NULL,
         NULL},
        {"backslash", "250 a\\b\r\n", 0, FULL, 250, "", 0, 1, "a\\\\b", NULL,
         NULL},
        {"8bit", "250 caf\xc3\xa9\r\n", 0, FULL, 250, "", F_8BIT, 1,
         "caf\\xc3\\xa9", NULL, NULL},

        /* errors */
        BAD("code mismatch", "250-a\r\n251 b\r\n", 0,
            SMTPROBE_REPLY_E_CODE_MISMATCH),
        BAD("code mismatch, class", "250-a\r\n550 b\r\n", 0,
            SMTPROBE_REPLY_E_CODE_MISMATCH),
        BAD("code mismatch, incomplete", "250-a\r\n251", 0,
            SMTPROBE_REPLY_E_CODE_MISMATCH),
        BAD("1xx", "150 go\r\n", 0, SMTPROBE_REPLY_E_BAD_CODE),
        BAD("6xx", "650 no\r\n", 0, SMTPROBE_REPLY_E_BAD_CODE),
        BAD("0xx", "050 no\r\n", 0, SMTPROBE_REPLY_E_BAD_CODE),
        BAD("letters", "abc def\r\n", 0, SMTPROBE_REPLY_E_BAD_CODE),
        BAD("letter in code", "2x0 ok\r\n", 0, SMTPROBE_REPLY_E_BAD_CODE),
        BAD("two digits", "25 ok\r\n", 0, SMTPROBE_REPLY_E_BAD_CODE),
        BAD("two digits crlf", "25\r\n", 0, SMTPROBE_REPLY_E_BAD_CODE),
        BAD("empty line", "\r\n", 0, SMTPROBE_REPLY_E_BAD_CODE),
        BAD("leading space", " 250 ok\r\n", 0, SMTPROBE_REPLY_E_BAD_CODE),
        BAD("bad code early", "x", 0, SMTPROBE_REPLY_E_BAD_CODE),
        BAD("bad code on line 2", "250-a\r\nxyz\r\n", 0,
            SMTPROBE_REPLY_E_BAD_CODE),
        BAD("four digits", "2500 ok\r\n", 0, SMTPROBE_REPLY_E_BAD_SEPARATOR),
        BAD("letter separator", "250x\r\n", 0, SMTPROBE_REPLY_E_BAD_SEPARATOR),
        BAD("tab separator", "250\tok\r\n", 0, SMTPROBE_REPLY_E_BAD_SEPARATOR),
        BAD("cr not lf", "250\rok\r\n", 0, SMTPROBE_REPLY_E_BAD_SEPARATOR),
        BAD("nul separator", "250\0ok\r\n", 8, SMTPROBE_REPLY_E_BAD_SEPARATOR),

        /* incomplete */
        BAD("empty", "", 0, 0),
        BAD("code only", "250", 0, 0),
        BAD("no terminator", "250 ok", 0, 0),
        BAD("cr pending", "250 ok\r", 0, 0),
        BAD("continuation pending", "250-a\r\n", 0, 0),
        BAD("continuation pending, next code", "250-a\r\n25", 0, 0),
};

static size_t case_len(const struct rcase *c)
{
	return c->len != 0 ? c->len : strlen(c->in);
}

/* Parse a copy of the first len bytes held in a buffer of exactly that
 * size. */
static long parse_exact(const char *in, size_t len,
                        struct smtprobe_reply_parse *p)
{
	char *copy = malloc(len > 0 ? len : 1);
	long rc;

	assert_non_null(copy);
	memcpy(copy, in, len);
	rc = smtprobe_reply_parse(copy, len, p);
	free(copy);
	return rc;
}

static void check_case(const struct rcase *c)
{
	struct smtprobe_reply_parse p;
	struct smtprobe_reply *r;
	size_t len = case_len(c);
	long want = c->want == FULL ? (long)len : c->want;
	long rc;

	print_message("case: %s\n", c->name);
	memset(&p, 0xa5, sizeof(p));
	rc = parse_exact(c->in, len, &p);
	assert_int_equal(rc, want);
	if (rc <= 0)
		return;

	assert_int_equal(p.code, c->code);
	assert_string_equal(p.enhanced, c->enhanced);
	assert_int_equal(p.flags, c->flags);
	assert_int_equal(p.nlines, c->nlines);

	r = smtprobe_reply_build(c->in, &p);
	assert_non_null(r);
	assert_int_equal(r->code, c->code);
	assert_string_equal(r->enhanced, c->enhanced);
	assert_int_equal(r->flags, c->flags);
	assert_int_equal(r->nlines, c->nlines);
	assert_true(r->latency_ms == 0);
	assert_string_equal(r->text[0], c->first);
	if (c->last != NULL)
		assert_string_equal(r->text[r->nlines - 1], c->last);
	if (c->raw != NULL)
		assert_string_equal(r->raw, c->raw);
	smtprobe_reply_free(r);
}

static void test_cases(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++)
		check_case(&cases[i]);
}

/* Every proper prefix of a valid reply is incomplete; every prefix of an
 * invalid one is incomplete or already the final error. */
static void test_split_everywhere(void **state)
{
	struct smtprobe_reply_parse p;
	size_t i, k;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		const struct rcase *c = &cases[i];
		size_t len = case_len(c);
		long want = c->want == FULL ? (long)len : c->want;

		if (want > 0 && (size_t)want != len)
			continue; /* pipelined: checked below */
		print_message("split: %s\n", c->name);
		for (k = 0; k < len; k++) {
			long rc = parse_exact(c->in, k, &p);

			if (want > 0)
				assert_int_equal(rc, 0);
			else
				assert_true(rc == 0 || rc == want);
		}
		assert_int_equal(parse_exact(c->in, len, &p), want);
	}
}

static void test_pipelined(void **state)
{
	static const char in[] = "250-a\r\n250 b\r\n354 go\r\n221 bye\r\n";
	static const long want[] = {14, 8, 9};
	struct smtprobe_reply_parse p;
	size_t off = 0, i;

	(void)state;
	for (i = 0; i < NELEM(want); i++) {
		long rc = smtprobe_reply_parse(in + off, strlen(in) - off, &p);

		assert_int_equal(rc, want[i]);
		off += (size_t)rc;
	}
	assert_int_equal(off, strlen(in));
	assert_int_equal(smtprobe_reply_parse(in + off, 0, &p), 0);
}

/* Generated inputs for the caps. */
struct gcase {
	const char *name;
	size_t nlines;    /* lines of "250-" text, the last one "250 " */
	size_t textlen;   /* bytes of text per line */
	const char *tail; /* terminator of the last line */
	long want;
};

static const struct gcase gcases[] = {
        {"line at the cap", 1, SMTPROBE_MAX_LINE - 4, "\r\n", FULL},
        {"line at the cap, bare lf", 1, SMTPROBE_MAX_LINE - 4, "\n", FULL},
        {"line over the cap", 1, SMTPROBE_MAX_LINE - 3, "\r\n",
         SMTPROBE_REPLY_E_LINE_TOO_LONG},
        {"line over the cap, bare lf", 1, SMTPROBE_MAX_LINE - 3, "\n",
         SMTPROBE_REPLY_E_LINE_TOO_LONG},
        {"line at the cap, unterminated", 1, SMTPROBE_MAX_LINE - 4, "", 0},
        {"line at the cap, cr pending", 1, SMTPROBE_MAX_LINE - 4, "\r", 0},
        {"line over the cap, unterminated", 1, SMTPROBE_MAX_LINE - 3, "",
         SMTPROBE_REPLY_E_LINE_TOO_LONG},
        {"endless line", 1, 100000, "", SMTPROBE_REPLY_E_LINE_TOO_LONG},
        {"lines over the cap, unterminated", 2, SMTPROBE_MAX_LINE, "",
         SMTPROBE_REPLY_E_LINE_TOO_LONG},
        {"lines at the cap", SMTPROBE_MAX_REPLY_LINES, 10, "\r\n", FULL},
        {"one line too many", SMTPROBE_MAX_REPLY_LINES + 1, 10, "\r\n",
         SMTPROBE_REPLY_E_TOO_MANY_LINES},
        {"size at the cap", 16, SMTPROBE_MAX_REPLY_SIZE / 16 - 6, "\r\n", FULL},
        {"size over the cap", 16, SMTPROBE_MAX_REPLY_SIZE / 16 - 5, "\r\n",
         SMTPROBE_REPLY_E_TOO_BIG},
        {"size over the cap, unterminated", 17, 4000, "",
         SMTPROBE_REPLY_E_TOO_BIG},
        {"size over the cap by the cr", 16, SMTPROBE_MAX_REPLY_SIZE / 16 - 6,
         "\r\r\n", SMTPROBE_REPLY_E_TOO_BIG},
};

static char *gen_reply(size_t nlines, size_t textlen, const char *tail,
                       size_t *lenp)
{
	size_t cap = nlines * (textlen + 6) + 8, len = 0, i;
	char *buf = malloc(cap);

	assert_non_null(buf);
	for (i = 0; i < nlines; i++) {
		memcpy(buf + len, i + 1 < nlines ? "250-" : "250 ", 4);
		len += 4;
		memset(buf + len, 'a' + (char)(i % 26), textlen);
		len += textlen;
		if (i + 1 < nlines) {
			memcpy(buf + len, "\r\n", 2);
			len += 2;
		}
	}
	memcpy(buf + len, tail, strlen(tail));
	len += strlen(tail);
	*lenp = len;
	return buf;
}

static void test_caps(void **state)
{
	struct smtprobe_reply_parse p;
	size_t i, len;

	(void)state;
	for (i = 0; i < NELEM(gcases); i++) {
		const struct gcase *g = &gcases[i];
		char *buf = gen_reply(g->nlines, g->textlen, g->tail, &len);
		long want = g->want == FULL ? (long)len : g->want;
		char *exact = malloc(len);

		print_message("cap: %s (%zu bytes)\n", g->name, len);
		assert_non_null(exact);
		memcpy(exact, buf, len);
		assert_int_equal(smtprobe_reply_parse(exact, len, &p), want);
		if (want > 0)
			assert_int_equal(p.nlines, g->nlines);
		free(exact);
		free(buf);
	}
}

/* An endless multi-line reply is an error as soon as the last allowed
 * line turns out to be a continuation, without waiting for more. */
static void test_endless_multiline(void **state)
{
	struct smtprobe_reply_parse p;
	char *buf = malloc(SMTPROBE_MAX_REPLY_LINES * 8 + 8);
	size_t len = 0, i;

	(void)state;
	assert_non_null(buf);
	for (i = 0; i + 1 < SMTPROBE_MAX_REPLY_LINES; i++) {
		memcpy(buf + len, "250-x\r\n", 7);
		len += 7;
		assert_int_equal(smtprobe_reply_parse(buf, len, &p), 0);
	}
	memcpy(buf + len, "250", 3);
	assert_int_equal(smtprobe_reply_parse(buf, len + 3, &p), 0);
	memcpy(buf + len, "250-", 4);
	assert_int_equal(smtprobe_reply_parse(buf, len + 4, &p),
	                 SMTPROBE_REPLY_E_TOO_MANY_LINES);
	memcpy(buf + len, "250 x\r\n", 7);
	assert_int_equal(smtprobe_reply_parse(buf, len + 7, &p),
	                 (long)(len + 7));
	assert_int_equal(p.nlines, SMTPROBE_MAX_REPLY_LINES);
	free(buf);
}

/* The long-line cases, split everywhere. */
static void test_split_long_line(void **state)
{
	struct smtprobe_reply_parse p;
	size_t len, k;
	char *buf = gen_reply(1, SMTPROBE_MAX_LINE - 4, "\r\n", &len);

	(void)state;
	for (k = 0; k < len; k++)
		assert_int_equal(smtprobe_reply_parse(buf, k, &p), 0);
	assert_int_equal(smtprobe_reply_parse(buf, len, &p), (long)len);
	free(buf);
}

struct ecase {
	const char *in;
	size_t want; /* length of the enhanced code, 0: none */
};

static const struct ecase ecases[] = {
        {"2.0.0", 5},  {"5.7.1 x", 5}, {"4.4.7", 5},    {"5.999.999 x", 9},
        {"2.10.0", 6}, {"5.0.0 ", 5},  {"3.0.0", 0},    {"1.0.0", 0},
        {"5.7", 0},    {"5.7.", 0},    {"5.7.1000", 0}, {"5.1000.1", 0},
        {"5.01.1", 0}, {"5.1.01", 0},  {"5.7.1x", 0},   {"5.7.1\tx", 0},
        {".5.7.1", 0}, {"5-7-1", 0},   {"", 0},         {"55.7.1", 0},
        {"5..1", 0},
};

static void test_enhanced_scan(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(ecases); i++) {
		print_message("enhanced: '%s'\n", ecases[i].in);
		assert_int_equal(smtprobe_enhanced_scan(ecases[i].in,
		                                        strlen(ecases[i].in)),
		                 ecases[i].want);
	}
	/* the length bounds the scan */
	assert_int_equal(smtprobe_enhanced_scan("5.7.1", 4), 0);
	assert_int_equal(smtprobe_enhanced_scan("5.7.12", 5), 5);
}

struct esc_case {
	const char *in;
	size_t len;
	const char *out;
};

static const struct esc_case esc_cases[] = {
        {"plain text", 0, "plain text"},
        {"a\\b", 0, "a\\\\b"},
        {"\r\n\t", 0, "\\r\\n\\t"},
        {"\0\x01\x7f\x80\xff", 5, "\\x00\\x01\\x7f\\x80\\xff"},
        {"", 0, ""},
};

static void test_escape(void **state)
{
	char dst[64];
	size_t i, n;

	(void)state;
	for (i = 0; i < NELEM(esc_cases); i++) {
		const struct esc_case *c = &esc_cases[i];
		size_t len = c->len != 0 ? c->len : strlen(c->in);

		n = smtprobe_escape(dst, sizeof(dst), c->in, len);
		assert_int_equal(n, strlen(c->out));
		assert_string_equal(dst, c->out);
		assert_int_equal(smtprobe_escape(NULL, 0, c->in, len), n);
	}
	/* truncation never splits an escape and always terminates */
	n = smtprobe_escape(dst, 4, "ab\x01", 3);
	assert_int_equal(n, 6);
	assert_string_equal(dst, "ab");
	n = smtprobe_escape(dst, 3, "abc", 3);
	assert_int_equal(n, 3);
	assert_string_equal(dst, "ab");
	n = smtprobe_escape(dst, 1, "abc", 3);
	assert_string_equal(dst, "");
	/* after a skipped escape, shorter ones are not written either */
	n = smtprobe_escape(dst, 4,
	                    "a\x01"
	                    "b",
	                    3);
	assert_string_equal(dst, "a");
}

static void test_reply_new(void **state)
{
	struct smtprobe_reply *r;

	(void)state;
	r = smtprobe_reply_new(421, "4.4.2", "connection timed out");
	assert_non_null(r);
	assert_int_equal(r->code, 421);
	assert_string_equal(r->enhanced, "4.4.2");
	assert_int_equal(r->nlines, 1);
	assert_string_equal(r->text[0], "connection timed out");
	assert_string_equal(r->raw, "421 4.4.2 connection timed out");
	assert_int_equal(r->flags, 0);
	smtprobe_reply_free(r);

	r = smtprobe_reply_new(451, NULL, "bad\nbyte");
	assert_non_null(r);
	assert_string_equal(r->enhanced, "");
	assert_string_equal(r->text[0], "bad\\nbyte");
	assert_string_equal(r->raw, "451 bad\\nbyte");
	smtprobe_reply_free(r);

	r = smtprobe_reply_new(554, "not.an.enhanced.code.at.all", NULL);
	assert_non_null(r);
	assert_string_equal(r->enhanced, "");
	assert_string_equal(r->text[0], "");
	assert_string_equal(r->raw, "554 ");
	smtprobe_reply_free(r);

	smtprobe_reply_free(NULL);
}

static void test_strerror(void **state)
{
	static const long errs[] = {
	        SMTPROBE_REPLY_E_LINE_TOO_LONG, SMTPROBE_REPLY_E_TOO_MANY_LINES,
	        SMTPROBE_REPLY_E_TOO_BIG,       SMTPROBE_REPLY_E_BAD_CODE,
	        SMTPROBE_REPLY_E_CODE_MISMATCH, SMTPROBE_REPLY_E_BAD_SEPARATOR,
	};
	size_t i, j;

	(void)state;
	for (i = 0; i < NELEM(errs); i++) {
		const char *s = smtprobe_reply_strerror(errs[i]);

		assert_non_null(s);
		assert_string_not_equal(s, "unknown reply error");
		for (j = 0; j < i; j++)
			assert_string_not_equal(
			        s, smtprobe_reply_strerror(errs[j]));
	}
	assert_string_equal(smtprobe_reply_strerror(-1000),
	                    "unknown reply error");
	assert_string_equal(smtprobe_reply_strerror(LONG_MIN),
	                    "unknown reply error");
	assert_non_null(smtprobe_reply_strerror(0));
	assert_non_null(smtprobe_reply_strerror(12));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_cases),
	        cmocka_unit_test(test_split_everywhere),
	        cmocka_unit_test(test_pipelined),
	        cmocka_unit_test(test_caps),
	        cmocka_unit_test(test_endless_multiline),
	        cmocka_unit_test(test_split_long_line),
	        cmocka_unit_test(test_enhanced_scan),
	        cmocka_unit_test(test_escape),
	        cmocka_unit_test(test_reply_new),
	        cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
