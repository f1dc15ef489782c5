/* test_logs_core.c - the bounded building blocks of `smtprobe logs`
 * (lib/logs/logs_int.h): Space-Saving counts per key (exact while the
 * keys fit, bounds past it, the heavy hitters kept), spikes over a
 * trailing median + k * MAD, merged across consecutive minutes, and the
 * slice helpers every parser shares (a reply's code and text, a command's
 * address, TLS causes), each on slices ending exactly where they end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "logs_int.h"

#include "banned.h"

static void add(struct logs_topn *t, const char *k, uint64_t by)
{
	(void)logs_topn_add(t, k, strlen(k), by, NULL);
}

static void test_topn_exact(void **state)
{
	struct logs_topn *t = logs_topn_new(8);
	struct logs_top_row rows[8];

	(void)state;
	assert_non_null(t);
	add(t, "127.0.0.1", 3);
	add(t, "127.0.0.2", 1);
	add(t, "127.0.0.1", 2);
	add(t, "::1", 4);
	assert_int_equal(logs_topn_get(t, "127.0.0.1", 9), 5);
	assert_int_equal(logs_topn_get(t, "nobody", 6), 0);
	assert_int_equal(logs_topn_total(t), 10);
	assert_int_equal(logs_topn_rows(t, rows, 8), 3);
	assert_string_equal(rows[0].key, "127.0.0.1");
	assert_int_equal(rows[0].count, 5);
	assert_string_equal(rows[1].key, "::1");
	assert_string_equal(rows[2].key, "127.0.0.2");
	assert_int_equal(rows[2].err, 0);
	assert_false(logs_topn_approximate(t));
	/* a key over LOGS_KEY_MAX is cut, and counted as its cut self */
	char longkey[400];
	memset(longkey, 'a', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	add(t, longkey, 1);
	add(t, longkey, 1);
	assert_int_equal(logs_topn_get(t, longkey, strlen(longkey)), 2);
	logs_topn_free(t);
}

/* many keys through a small table: the frequent ones stay, with counts
 * never under the truth and at most err over it */
static void test_topn_bounded(void **state)
{
	struct logs_topn *t = logs_topn_new(16);
	struct logs_top_row rows[16];
	char k[32];

	(void)state;
	for (int round = 0; round < 50; round++) {
		for (int i = 0; i < 4; i++) { /* 4 heavy keys, 10 each round */
			snprintf(k, sizeof(k), "heavy%d", i);
			add(t, k, 10);
		}
		for (int i = 0; i < 40; i++) { /* 2000 distinct light keys */
			snprintf(k, sizeof(k), "light%d-%d", round, i);
			add(t, k, 1);
		}
	}
	assert_true(logs_topn_approximate(t));
	assert_int_equal(logs_topn_size(t), 16);
	size_t n = logs_topn_rows(t, rows, 4);
	assert_int_equal(n, 4);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(strncmp(rows[i].key, "heavy", 5), 0);
		assert_true(rows[i].count >= 500);
		assert_true(rows[i].count - rows[i].err <= 500);
	}
	assert_int_equal(logs_topn_total(t), 50 * (40 + 40));
	logs_topn_free(t);
}

/* the hash survives evictions: every kept key is still found */
static void test_topn_lookup_after_evictions(void **state)
{
	struct logs_topn *t = logs_topn_new(32);
	struct logs_top_row rows[32];
	char k[32];

	(void)state;
	for (int i = 0; i < 5000; i++) {
		snprintf(k, sizeof(k), "k%d", (i * 7919) % 997);
		add(t, k, 1 + (uint64_t)(i % 3));
	}
	size_t n = logs_topn_rows(t, rows, 32);
	assert_int_equal(n, 32);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(
		        logs_topn_get(t, rows[i].key, strlen(rows[i].key)),
		        rows[i].count);
	logs_topn_free(t);
}

static const struct logs_spike_opts OPTS = {.window = 60, .k = 5, .min = 10};

/* a quiet hour, then a burst of 3 minutes, then quiet */
static void test_spike_after_quiet(void **state)
{
	struct logs_spike s;
	int64_t t0 = 1796601600; /* a minute boundary */

	(void)state;
	logs_spike_init(&s, &OPTS);
	for (int m = 0; m < 60; m++)
		logs_spike_add(&s, t0 + m * 60 + 5, (uint64_t)(m % 3));
	for (int m = 60; m < 63; m++)
		for (int i = 0; i < 40; i++)
			logs_spike_add(&s, t0 + m * 60 + i, 1);
	for (int m = 63; m < 70; m++)
		logs_spike_add(&s, t0 + m * 60, 1);
	logs_spike_finish(&s);
	assert_int_equal(s.nrows, 1);
	assert_int_equal(s.rows[0].start, t0 + 60 * 60);
	assert_int_equal(s.rows[0].end, t0 + 63 * 60 - 1);
	assert_int_equal(s.rows[0].count, 120);
	assert_true(s.rows[0].baseline >= 0 && s.rows[0].baseline <= 2);
}

/* no baseline yet (less than a quarter of the window), or under min: no
 * spike; a gap of empty minutes counts as zeros */
static void test_spike_needs_a_baseline(void **state)
{
	struct logs_spike s;
	int64_t t0 = 1796601600;

	(void)state;
	logs_spike_init(&s, &OPTS);
	for (int i = 0; i < 100; i++)
		logs_spike_add(&s, t0 + 1, 1); /* the very first minute */
	logs_spike_finish(&s);
	assert_int_equal(s.nrows, 0);

	logs_spike_init(&s, &OPTS);
	logs_spike_add(&s, t0, 1);
	/* 30 empty minutes, then 9 events: over the limit but under min */
	logs_spike_add(&s, t0 + 31 * 60, 9);
	logs_spike_tick(&s, t0 + 32 * 60);
	assert_int_equal(s.nrows, 0);
	/* then 30 in a minute: a spike over a baseline of zeros */
	logs_spike_add(&s, t0 + 40 * 60, 30);
	logs_spike_finish(&s);
	assert_int_equal(s.nrows, 1);
	assert_int_equal(s.rows[0].count, 30);
	assert_true(s.rows[0].baseline == 0);
	assert_true(s.fresh);
}

/* a busy steady baseline (100-118 a minute: median 109, MAD 6, spread
 * sqrt(109) = 10.4, limit 161): 130 is not a spike, 1000 is;
 * lines out of order are counted in the current minute */
static void test_spike_busy_baseline(void **state)
{
	struct logs_spike s;
	int64_t t0 = 1796601600;

	(void)state;
	logs_spike_init(&s, &OPTS);
	for (int m = 0; m < 60; m++)
		logs_spike_add(&s, t0 + m * 60, 100 + (uint64_t)(m % 7) * 3);
	logs_spike_add(&s, t0 + 60 * 60, 130);
	logs_spike_add(&s, t0 + 10, 5); /* out of order */
	logs_spike_tick(&s, t0 + 61 * 60);
	assert_int_equal(s.nrows, 0);
	logs_spike_add(&s, t0 + 61 * 60, 1000);
	logs_spike_finish(&s);
	assert_int_equal(s.nrows, 1);
	assert_int_equal(s.rows[0].count, 1000);
	assert_true(s.rows[0].limit > 155 && s.rows[0].limit < 170);
}

/* a slice of a copy of s without its NUL (ASan sees a read past it) */
static struct smtprobe_log_str slice(const char *s)
{
	size_t n = strlen(s);
	char *p = malloc(n ? n : 1);

	assert_non_null(p);
	memcpy(p, s, n);
	return (struct smtprobe_log_str){p, n};
}

static void slice_free(struct smtprobe_log_str s)
{
	free((char *)s.p);
}

static void is(struct smtprobe_log_str got, const char *want)
{
	if (want == NULL) {
		assert_null(got.p);
		assert_int_equal(got.n, 0);
		return;
	}
	assert_non_null(got.p);
	assert_int_equal(got.n, strlen(want));
	assert_memory_equal(got.p, want, got.n);
}

static void test_slices(void **state)
{
	struct smtprobe_log_str s = slice("rcpt TO:<a@b> SIZE=1"), none = {0};

	(void)state;
	assert_true(logs_eq(s, "rcpt TO:<a@b> SIZE=1"));
	assert_false(logs_eq(s, "rcpt TO:<a@b> SIZE="));
	assert_false(logs_eq(none, "x"));
	assert_ptr_equal(logs_chr(s, '<'), s.p + 8);
	assert_null(logs_chr(s, '#'));
	assert_null(logs_chr(none, 'x'));
	is(logs_skip(s, 5), "TO:<a@b> SIZE=1");
	is(logs_skip(s, s.n), "");
	assert_ptr_equal(logs_skip(s, s.n + 1).p, s.p + s.n);
	is(logs_skip(none, 3), NULL);
	is(logs_none(), NULL);
	is(logs_cmd_address(s), "a@b");
	slice_free(s);
	s = slice("MAIL FROM:   <> BODY=8BITMIME");
	is(logs_cmd_address(s), "");
	slice_free(s);
	s = slice("DATA");
	is(logs_cmd_address(s), NULL);
	slice_free(s);
	assert_true(logs_is_digit('7') && !logs_is_digit('a'));
	assert_true(logs_is_alnum('Z') && !logs_is_alnum('-'));
	assert_true(logs_is_hex('f') && !logs_is_hex('F'));
}

/* "NNN text" to a code and a text, as the MTAs log them */
static void test_replies(void **state)
{
	static const struct {
		const char *r;
		int code;     /* logs_reply's (0: none) */
		int any_code; /* logs_reply_code's */
		const char *text, *any_text;
	} t[] = {
	        {"550 5.7.1 relay denied", 550, 550, "5.7.1 relay denied",
	         "5.7.1 relay denied"},
	        {"250-PIPELINING", 0, 250, "250-PIPELINING", "PIPELINING"},
	        {"250", 0, 250, "250", ""},
	        {"250 ", 250, 250, "", ""},
	        {"150 x", 0, 0, "150 x", "150 x"},
	        {"5x0 x", 0, 0, "5x0 x", "5x0 x"},
	        {"5500 x", 0, 0, "5500 x", "5500 x"},
	        {"55", 0, 0, "55", "55"},
	        {"", 0, 0, "", ""},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct smtprobe_log_str r = slice(t[i].r), text;
		struct smtprobe_log_event ev;
		memset(&ev, 0, sizeof(ev));
		ev.code = -1; /* kept without a code */
		logs_reply(r, &ev);
		assert_int_equal(ev.code, t[i].code ? t[i].code : -1);
		is(ev.text, t[i].text);
		assert_int_equal(logs_reply_code(r, &text), t[i].any_code);
		is(text, t[i].any_text);
		slice_free(r);
	}
}

/* "PROTO:CIPHER[:BITS]"; why a handshake failed, from OpenSSL's words */
static void test_tls(void **state)
{
	static const struct {
		const char *words;
		enum smtprobe_log_tls_cause cause;
	} causes[] = {
	        {"error:0A00009C:SSL routines::http request",
	         SMTPROBE_LT_NOT_TLS},
	        {"error:0A0000C6:SSL routines::packet length too long",
	         SMTPROBE_LT_NOT_TLS},
	        {"error:0A000418:SSL routines::tlsv1 alert unknown ca",
	         SMTPROBE_LT_CLIENT_ALERT},
	        {"unexpected eof while reading", SMTPROBE_LT_CLOSED},
	        {"something else", SMTPROBE_LT_OTHER},
	};
	struct smtprobe_log_event ev;
	struct smtprobe_log_str s = slice("TLSv1.3:TLS_AES_256_GCM_SHA384:256");

	(void)state;
	memset(&ev, 0, sizeof(ev));
	logs_tls_split(s, &ev);
	is(ev.protocol, "TLSv1.3");
	is(ev.cipher, "TLS_AES_256_GCM_SHA384");
	slice_free(s);
	s = slice("TLS1.2:AES:");
	logs_tls_split(s, &ev);
	is(ev.protocol, "TLS1.2");
	is(ev.cipher, "AES");
	slice_free(s);
	s = slice("TLSv1.3");
	memset(&ev, 0, sizeof(ev));
	logs_tls_split(s, &ev);
	is(ev.protocol, NULL);
	is(ev.cipher, NULL);
	slice_free(s);
	for (size_t i = 0; i < sizeof(causes) / sizeof(causes[0]); i++) {
		s = slice(causes[i].words);
		assert_int_equal(logs_tls_cause(s), causes[i].cause);
		slice_free(s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_topn_exact),
	        cmocka_unit_test(test_topn_bounded),
	        cmocka_unit_test(test_topn_lookup_after_evictions),
	        cmocka_unit_test(test_spike_after_quiet),
	        cmocka_unit_test(test_spike_needs_a_baseline),
	        cmocka_unit_test(test_spike_busy_baseline),
	        cmocka_unit_test(test_slices),
	        cmocka_unit_test(test_replies),
	        cmocka_unit_test(test_tls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
