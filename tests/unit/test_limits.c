/* test_limits.c - table-driven tests of the server's limits: the session
 * deadlines (smtpd_deadline: which one applies, when, defaults for 0),
 * the fair-sharing rule (srv_fair_admit), the per-address connection
 * lists and tables of throttle.c (counts, idlest first, the table full),
 * and line_scan (the command line cap), whose verdicts must not depend on
 * how the stream is cut: every stream is fed whole, in every two pieces
 * and byte by byte, each piece from a heap buffer of exactly its length
 * (so ASan sees a read past the end). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "smtpd_int.h"
#include "throttle.h"

#include "banned.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- deadlines -------------------------------------------------------- */

struct dcase {
	const char *what;
	struct smtpd_clock clk;
	struct srv_options opt;
	enum smtpd_deadline which;
	uint64_t at;
};

#define W_CMD   SMTPD_WAIT_COMMAND
#define W_TLS   SMTPD_WAIT_TLS
#define W_DATA  SMTPD_WAIT_DATA
#define W_FLUSH SMTPD_WAIT_FLUSH

static const struct dcase dcases[] = {
        {"command, every option 0: 300 s from the last command",
         {.wait = W_CMD, .start = 1000, .command = 5000},
         {0},
         SMTPD_DL_COMMAND,
         305000},
        {"command, --timeout 2",
         {.wait = W_CMD, .start = 1000, .command = 5000},
         {.timeout_ms = 2000},
         SMTPD_DL_COMMAND,
         7000},
        {"command counts from the command, not the connection",
         {.wait = W_CMD, .start = 0, .command = 90000},
         {.timeout_ms = 2000},
         SMTPD_DL_COMMAND,
         92000},
        {"the session's end comes first",
         {.wait = W_CMD, .start = 1000, .command = 3500},
         {.timeout_ms = 2000, .session_max_ms = 3000},
         SMTPD_DL_SESSION,
         4000},
        {"session default 3600 s",
         {.wait = W_CMD, .start = 1000, .command = 3599000},
         {.timeout_ms = 300000},
         SMTPD_DL_SESSION,
         3601000},
        {"a tie goes to the session",
         {.wait = W_CMD, .start = 1000, .command = 2000},
         {.timeout_ms = 2000, .session_max_ms = 3000},
         SMTPD_DL_SESSION,
         4000},
        {"tls handshake, default 10 s",
         {.wait = W_TLS, .start = 1000, .command = 1000, .tls = 2000},
         {.timeout_ms = 1000},
         SMTPD_DL_TLS,
         12000},
        {"tls handshake, 500 ms; the command deadline does not apply",
         {.wait = W_TLS, .start = 1000, .command = 0, .tls = 2000},
         {.timeout_ms = 1, .tls_timeout_ms = 500},
         SMTPD_DL_TLS,
         2500},
        {"data: between bytes",
         {.wait = W_DATA, .start = 0, .data = 10000, .data_last = 20000},
         {.timeout_ms = 1, .data_timeout_ms = 5000},
         SMTPD_DL_DATA_IDLE,
         25000},
        {"data: default 300 s between bytes",
         {.wait = W_DATA, .start = 0, .data = 10000, .data_last = 20000},
         {0},
         SMTPD_DL_DATA_IDLE,
         320000},
        {"data: as a whole",
         {.wait = W_DATA, .start = 0, .data = 10000, .data_last = 17000},
         {.data_timeout_ms = 5000, .data_max_ms = 8000},
         SMTPD_DL_DATA_TOTAL,
         18000},
        {"data: as a whole, default 600 s",
         {.wait = W_DATA, .start = 0, .data = 10000, .data_last = 605000},
         {.data_timeout_ms = 100000},
         SMTPD_DL_DATA_TOTAL,
         610000},
        {"data: rate floor, nothing yet: the grace (10 s)",
         {.wait = W_DATA, .start = 0, .data = 10000, .data_last = 19000},
         {.data_timeout_ms = 60000, .data_min_rate = 1000},
         SMTPD_DL_DATA_RATE,
         20000},
        {"data: rate floor, 50 kB at 1000 B/s: 50 s after the 354",
         {.wait = W_DATA,
          .data = 10000,
          .data_last = 50000,
          .data_bytes = 50000},
         {.data_timeout_ms = 60000, .data_min_rate = 1000},
         SMTPD_DL_DATA_RATE,
         60000},
        {"data: rate floor 0 is off",
         {.wait = W_DATA, .data = 10000, .data_last = 10000},
         {.data_timeout_ms = 60000},
         SMTPD_DL_DATA_IDLE,
         70000},
        {"data: 64 MiB at 1 B/s does not overflow",
         {.wait = W_DATA,
          .data = 10000,
          .data_last = 10000,
          .data_bytes = 64u * 1024 * 1024},
         {.data_timeout_ms = 60000, .data_min_rate = 1},
         SMTPD_DL_DATA_IDLE,
         70000},
        {"flush: 2 s, whatever else has passed",
         {.wait = W_FLUSH, .start = 0, .command = 0, .closing = 9000},
         {.timeout_ms = 1, .session_max_ms = 1},
         SMTPD_DL_FLUSH,
         11000},
};

static void test_deadlines(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(dcases); i++) {
		const struct dcase *c = &dcases[i];
		enum smtpd_deadline which = SMTPD_DL_LAST;
		uint64_t at = smtpd_deadline(&c->clk, &c->opt, &which);
		if (which != c->which || at != c->at)
			fail_msg("%s: got %s at %llu, want %s at %llu", c->what,
			         smtpd_deadline_name(which),
			         (unsigned long long)at,
			         smtpd_deadline_name(c->which),
			         (unsigned long long)c->at);
	}
}

static void test_deadline_names(void **state)
{
	(void)state;
	for (int d = 0; d < SMTPD_DL_LAST; d++) {
		const char *n = smtpd_deadline_name((enum smtpd_deadline)d);
		assert_non_null(n);
		assert_true(n[0] && strcmp(n, "?") != 0);
	}
	assert_string_equal(smtpd_deadline_name(SMTPD_DL_TLS), "tls-timeout");
	assert_string_equal(smtpd_deadline_name(SMTPD_DL_COMMAND), "timeout");
	assert_string_equal(smtpd_deadline_name(SMTPD_DL_LAST), "?");
}

/* A deadline never lies before the moment its wait began (a late
 * timer cannot make it fire twice for one event). */
static void test_deadline_monotonic_in_data_bytes(void **state)
{
	struct smtpd_clock c = {
	        .wait = W_DATA, .data = 1000, .data_last = 1000};
	struct srv_options o = {.data_timeout_ms = 1000000,
	                        .data_max_ms = 1000000,
	                        .data_min_rate = 100};
	uint64_t prev = 0;

	(void)state;
	for (uint64_t b = 0; b < 100000; b += 777) {
		c.data_bytes = b;
		uint64_t at = smtpd_deadline(&c, &o, NULL);
		assert_true(at >= prev);
		assert_true(at >= c.data + 10000);
		prev = at;
	}
}

/* ---- the fair-sharing rule -------------------------------------------- */

struct fcase {
	unsigned active, max, held, top, per_ip;
	enum srv_admit want;
};

static const struct fcase fcases[] = {
        /* room: admitted, whoever asks */
        {0, 100, 0, 0, 0, SRV_ADMIT},
        {99, 100, 99, 99, 0, SRV_ADMIT},
        {50, 100, 49, 49, 50, SRV_ADMIT},
        /* the per-address limit comes first, room or not */
        {50, 100, 50, 50, 50, SRV_REFUSE_PER_IP},
        {100, 100, 60, 60, 50, SRV_REFUSE_PER_IP},
        {0, 100, 1, 1, 1, SRV_REFUSE_PER_IP},
        /* full: a newcomer takes a slot from a bigger holder */
        {100, 100, 0, 100, 0, SRV_ADMIT_RECLAIM},
        {100, 100, 0, 2, 0, SRV_ADMIT_RECLAIM},
        {100, 100, 3, 5, 0, SRV_ADMIT_RECLAIM},
        {100, 100, 0, 50, 50, SRV_ADMIT_RECLAIM},
        /* full and fair already: refused */
        {100, 100, 0, 1, 0, SRV_REFUSE_FULL},
        {100, 100, 4, 5, 0, SRV_REFUSE_FULL},
        {100, 100, 5, 5, 0, SRV_REFUSE_FULL},
        {100, 100, 100, 100, 0, SRV_REFUSE_FULL},
        /* over full (reclaimed slots still closing) */
        {103, 100, 0, 40, 0, SRV_ADMIT_RECLAIM},
        {103, 100, 39, 40, 0, SRV_REFUSE_FULL},
};

static void test_fair_admit(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(fcases); i++) {
		const struct fcase *c = &fcases[i];
		enum srv_admit got = srv_fair_admit(c->active, c->max, c->held,
		                                    c->top, c->per_ip);
		if (got != c->want)
			fail_msg("case %zu (active %u max %u held %u top %u "
			         "per_ip %u): got %d, want %d",
			         i, c->active, c->max, c->held, c->top,
			         c->per_ip, (int)got, (int)c->want);
	}
}

/* Repeated newcomers against one big holder end at an equal share. */
static void test_fair_admit_converges(void **state)
{
	unsigned big = 100, small = 0;

	(void)state;
	for (int i = 0; i < 1000; i++) {
		enum srv_admit a =
		        srv_fair_admit(big + small, 100, small, big, 0);
		if (a == SRV_ADMIT_RECLAIM) {
			big--;
			small++;
		} else {
			assert_int_equal(a, SRV_REFUSE_FULL);
		}
	}
	assert_int_equal(big, 50);
	assert_int_equal(small, 50);
}

/* ---- per-address lists ------------------------------------------------ */

static void test_peers(void **state)
{
	struct srv_throttle *t = srv_throttle_new();
	struct srv_peer a[3], b;
	struct srv_peer *oldest = NULL;

	(void)state;
	assert_non_null(t);
	for (int i = 0; i < 3; i++) {
		srv_peer_init(&a[i]);
		assert_int_equal(srv_throttle_join(t, "192.0.2.1", 1.0, &a[i]),
		                 0);
	}
	srv_peer_init(&b);
	assert_int_equal(srv_throttle_join(t, "192.0.2.2", 1.0, &b), 0);
	assert_int_equal(srv_throttle_held(t, "192.0.2.1"), 3);
	assert_int_equal(srv_throttle_held(t, "192.0.2.2"), 1);
	assert_int_equal(srv_throttle_held(t, "192.0.2.3"), 0);

	assert_int_equal(srv_throttle_top(t, &oldest), 3);
	assert_ptr_equal(oldest, &a[0]);
	/* a[0] active: a[1] is the idlest now */
	srv_throttle_touch(t, &a[0]);
	srv_throttle_top(t, &oldest);
	assert_ptr_equal(oldest, &a[1]);
	assert_ptr_equal(oldest->next, &a[2]);
	assert_ptr_equal(oldest->next->next, &a[0]);
	/* a[1] closing: still counted, no longer listed */
	srv_throttle_unlist(t, &a[1]);
	assert_int_equal(srv_throttle_top(t, &oldest), 3);
	assert_ptr_equal(oldest, &a[2]);
	srv_throttle_touch(t, &a[1]); /* a closing one stays out */
	srv_throttle_top(t, &oldest);
	assert_ptr_equal(oldest, &a[2]);
	srv_throttle_leave(t, &a[1]);
	srv_throttle_leave(t, &a[1]); /* twice: no-op */
	assert_int_equal(srv_throttle_held(t, "192.0.2.1"), 2);
	srv_throttle_leave(t, &a[2]);
	srv_throttle_leave(t, &a[0]);
	assert_int_equal(srv_throttle_held(t, "192.0.2.1"), 0);
	assert_int_equal(srv_throttle_top(t, &oldest), 1);
	assert_ptr_equal(oldest, &b);
	srv_throttle_leave(t, &b);
	assert_int_equal(srv_throttle_top(t, &oldest), 0);
	assert_null(oldest);
	srv_throttle_free(t);
}

/* Every entry holding a live connection: a new address is refused, no
 * count is overwritten; once one leaves, its entry is reused. */
static void test_table_full(void **state)
{
	enum { N = 4096 };
	struct srv_throttle *t = srv_throttle_new();
	struct srv_peer *p = calloc(N + 1, sizeof(*p));
	char ip[64];

	(void)state;
	assert_non_null(t);
	assert_non_null(p);
	for (int i = 0; i <= N; i++)
		srv_peer_init(&p[i]);
	for (int i = 0; i < N; i++) {
		snprintf(ip, sizeof(ip), "10.0.%d.%d", i / 256, i % 256);
		assert_int_equal(srv_throttle_join(t, ip, i, &p[i]), 0);
	}
	assert_int_equal(srv_throttle_join(t, "10.99.0.1", N, &p[N]), -1);
	assert_int_equal(p[N].slot, -1);
	assert_int_equal(srv_throttle_held(t, "10.0.0.0"), 1);
	srv_throttle_leave(t, &p[7]);
	assert_int_equal(srv_throttle_join(t, "10.99.0.1", N, &p[N]), 0);
	assert_int_equal(srv_throttle_held(t, "10.99.0.1"), 1);
	assert_int_equal(srv_throttle_held(t, "10.0.0.7"), 0);
	for (int i = 0; i <= N; i++)
		srv_throttle_leave(t, &p[i]);
	free(p);
	srv_throttle_free(t);
}

/* A full table gives way to the least recently used key: one just looked
 * up stays, the oldest untouched one goes. */
static void test_lru_eviction(void **state)
{
	struct srv_throttle *t = srv_throttle_new();
	char rcpt[64];

	(void)state;
	assert_int_equal(srv_throttle_greylist(t, "ip", "s", "r0", 0, 10), 1);
	for (int i = 1; i < 4096; i++) {
		snprintf(rcpt, sizeof(rcpt), "r%d", i);
		assert_int_equal(
		        srv_throttle_greylist(t, "ip", "s", rcpt, 1, 10), 1);
	}
	assert_int_equal(srv_throttle_greylist(t, "ip", "s", "r0", 20, 10), 0);
	assert_int_equal(srv_throttle_greylist(t, "ip", "s", "new", 21, 10), 1);
	assert_int_equal(srv_throttle_greylist(t, "ip", "s", "r0", 22, 10), 0);
	assert_int_equal(srv_throttle_greylist(t, "ip", "s", "r2", 23, 10), 0);
	assert_int_equal(srv_throttle_greylist(t, "ip", "s", "r1", 24, 10),
	                 1); /* evicted: seen afresh */
	srv_throttle_free(t);
}

static void test_rate(void **state)
{
	struct srv_throttle *t = srv_throttle_new();

	(void)state;
	assert_int_equal(srv_throttle_rate(t, "192.0.2.1", 1.0, 0), 0);
	assert_int_equal(srv_throttle_rate(t, "192.0.2.1", 1.0, 2), 0);
	assert_int_equal(srv_throttle_rate(t, "192.0.2.1", 2.0, 2), 0);
	assert_int_equal(srv_throttle_rate(t, "192.0.2.1", 3.0, 2), 1);
	assert_int_equal(srv_throttle_rate(t, "192.0.2.2", 3.0, 2), 0);
	assert_int_equal(srv_throttle_rate(t, "192.0.2.1", 62.0, 2), 0);
	srv_throttle_free(t);
}

/* ---- line_scan -------------------------------------------------------- */

#define CAP 16 /* a small cap, so the cases are short */

struct lcase {
	const char *in;
	enum line_scan r;
	size_t text, used; /* on LINE_OK */
};

static const struct lcase lcases[] = {
        {"", LINE_INCOMPLETE, 0, 0},
        {"NOOP", LINE_INCOMPLETE, 0, 0},
        {"NOOP\r", LINE_INCOMPLETE, 0, 0},
        {"NOOP\r\n", LINE_OK, 4, 6},
        {"NOOP\n", LINE_OK, 4, 5},
        {"\r\n", LINE_OK, 0, 2},
        {"\n", LINE_OK, 0, 1},
        {"NOOP\r\nQUIT\r\n", LINE_OK, 4, 6},
        {"a\rb\r\n", LINE_OK, 3, 5}, /* a CR inside is text */
        /* the cap: 16 bytes of text taken, 17 not */
        {"0123456789abcdef\r\n", LINE_OK, 16, 18},
        {"0123456789abcdef\n", LINE_OK, 16, 17},
        {"0123456789abcdef\r", LINE_INCOMPLETE, 0, 0},
        {"0123456789abcdef", LINE_INCOMPLETE, 0, 0},
        {"0123456789abcdefg", LINE_TOO_LONG, 0, 0},
        {"0123456789abcdefg\r\n", LINE_TOO_LONG, 0, 0},
        {"0123456789abcdef\r\r", LINE_TOO_LONG, 0, 0},
        {"0123456789abcdef\r\r\n", LINE_TOO_LONG, 0, 0},
        {"0123456789abcdefghijklmnopqrstuvwxyz\r\n", LINE_TOO_LONG, 0, 0},
};

static enum line_scan scan_heap(const char *in, size_t len, size_t *text,
                                size_t *used)
{
	char *b = malloc(len ? len : 1);
	assert_non_null(b);
	memcpy(b, in, len);
	enum line_scan r = line_scan(b, len, CAP, text, used);
	free(b);
	return r;
}

static void test_line_scan(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(lcases); i++) {
		const struct lcase *c = &lcases[i];
		size_t text = 99, used = 99;
		enum line_scan r =
		        scan_heap(c->in, strlen(c->in), &text, &used);
		if (r != c->r)
			fail_msg("case %zu: got %d, want %d", i, (int)r,
			         (int)c->r);
		if (r == LINE_OK && (text != c->text || used != c->used))
			fail_msg("case %zu: text %zu used %zu, want %zu %zu", i,
			         text, used, c->text, c->used);
	}
	/* a huge cap does not overflow */
	size_t text, used;
	assert_int_equal(line_scan("abc", 3, (size_t)-1, &text, &used),
	                 LINE_INCOMPLETE);
	assert_int_equal(line_scan("abc\n", 4, (size_t)-2, &text, &used),
	                 LINE_OK);
}

/* What a reader makes of a stream arriving in pieces: the texts of the
 * lines taken, "!" for a line too long (the end), "?" for a stream that
 * ends inside a line. */
static void feed(const char *stream, const size_t *cuts, size_t ncuts,
                 char *out, size_t outsz)
{
	char buf[256];
	size_t len = 0, o = 0, from = 0;

	out[0] = '\0';
	for (size_t k = 0; k <= ncuts; k++) {
		size_t to = k < ncuts ? cuts[k] : strlen(stream);
		memcpy(buf + len, stream + from, to - from);
		len += to - from;
		from = to;
		for (;;) {
			size_t text, used;
			enum line_scan r = scan_heap(buf, len, &text, &used);
			if (r == LINE_TOO_LONG) {
				snprintf(out + o, outsz - o, "!");
				return;
			}
			if (r == LINE_INCOMPLETE)
				break;
			o += (size_t)snprintf(out + o, outsz - o, "[%.*s]",
			                      (int)text, buf);
			memmove(buf, buf + used, len - used);
			len -= used;
		}
	}
	if (len)
		snprintf(out + o, outsz - o, "?");
}

static void test_line_scan_any_segmentation(void **state)
{
	static const struct {
		const char *stream, *want;
	} streams[] = {
	        {"NOOP\r\nQUIT\r\n", "[NOOP][QUIT]"},
	        {"EHLO x\r\n0123456789abcdef\r\nNOOP\r\n",
	         "[EHLO x][0123456789abcdef][NOOP]"},
	        {"EHLO x\r\n0123456789abcdefg\r\nNOOP\r\n", "[EHLO x]!"},
	        {"0123456789abcdef\r\r\n", "!"},
	        {"a\nb\n\n0123456789abcdef\n0123456789abcdef",
	         "[a][b][][0123456789abcdef]?"},
	        {"NOOP\r\n0123456789abcdef0123456789abcdef", "[NOOP]!"},
	};
	char want[512], got[512];

	(void)state;
	for (size_t i = 0; i < NELEM(streams); i++) {
		const char *st = streams[i].stream;
		size_t n = strlen(st);
		feed(st, NULL, 0, want, sizeof(want));
		assert_string_equal(want, streams[i].want);
		for (size_t c = 0; c <= n; c++) {
			feed(st, &c, 1, got, sizeof(got));
			if (strcmp(got, want) != 0)
				fail_msg("stream %zu cut at %zu: %s, whole: %s",
				         i, c, got, want);
		}
		size_t cuts[128];
		for (size_t c = 0; c < n; c++)
			cuts[c] = c;
		feed(st, cuts, n, got, sizeof(got));
		if (strcmp(got, want) != 0)
			fail_msg("stream %zu byte by byte: %s, whole: %s", i,
			         got, want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_deadlines),
	        cmocka_unit_test(test_deadline_names),
	        cmocka_unit_test(test_deadline_monotonic_in_data_bytes),
	        cmocka_unit_test(test_fair_admit),
	        cmocka_unit_test(test_fair_admit_converges),
	        cmocka_unit_test(test_peers),
	        cmocka_unit_test(test_table_full),
	        cmocka_unit_test(test_rate),
	        cmocka_unit_test(test_lru_eviction),
	        cmocka_unit_test(test_line_scan),
	        cmocka_unit_test(test_line_scan_any_segmentation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
