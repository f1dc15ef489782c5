/* fuzz_data.c - libFuzzer target for DATA's text (server/dataline.c) and
 * the command-line scanner (lib/core/line.c's line_scan): the input is fed
 * whole, then cut at points drawn from its first bytes, then byte by byte,
 * the way TCP may deliver it. Aborts when the cuts change anything: the
 * message bytes out, where the message ends, whether a line was too long;
 * or when a scan consumes more than it was given, holds back more than the
 * two undecided bytes, or writes more than twice the input (each bare LF
 * becomes CRLF). ASan/UBSan catch the rest. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dataline.h"
#include "line.h"

#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                               \
	do {                                                                   \
		if (!(x))                                                      \
			abort();                                               \
	} while (0)

#define MAX_LINE 64

struct sink {
	char *buf;
	size_t len, cap;
};

static void out(void *ctx, const char *p, size_t n)
{
	struct sink *s = ctx;

	CHECK(s->len + n <= s->cap);
	memcpy(s->buf + s->len, p, n);
	s->len += n;
}

struct result {
	size_t end; /* input bytes up to the end of the message, or 0 */
	int too_big;
};

/* Feed data in pieces ending at the cut points; what a scan leaves
 * undecided is fed again with the next piece, as the session's buffer
 * keeps it. */
static struct result feed(const uint8_t *data, size_t size, const size_t *cuts,
                          size_t ncuts, struct sink *s)
{
	struct data_scan st = {0, 0, 0};
	struct result r = {0, 0};
	size_t start = 0; /* the first byte not yet consumed */

	for (size_t c = 0; c <= ncuts; c++) {
		size_t stop = c < ncuts ? cuts[c] : size;
		if (stop < start)
			continue;
		size_t used;
		int end = data_scan(&st, (const char *)data + start,
		                    stop - start, MAX_LINE, out, s, &used);
		CHECK(used <= stop - start);
		start += used;
		if (end) {
			r.end = start;
			break;
		}
		CHECK(stop - start <= 2); /* only the undecided stay */
	}
	r.too_big = st.line_too_big;
	return r;
}

/* A command line's verdict does not depend on how much has arrived: every
 * prefix says "incomplete" or what the whole says. */
static void check_line_scan(const char *d, size_t size)
{
	size_t text, used;
	enum line_scan whole = line_scan(d, size, MAX_LINE, &text, &used);

	CHECK(whole != LINE_OK || (used <= size && text < used));
	for (size_t p = 0; p < size && p < 300; p++) {
		size_t t2, u2;
		enum line_scan v = line_scan(d, p, MAX_LINE, &t2, &u2);
		CHECK(v == LINE_INCOMPLETE || v == whole);
		CHECK(v != LINE_OK || (t2 == text && u2 == used));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sink whole = {malloc(2 * size + 2), 0, 2 * size + 2};
	struct sink cut = {malloc(2 * size + 2), 0, 2 * size + 2};
	size_t cuts[16], ncuts = 0;

	CHECK(whole.buf && cut.buf);
	struct result a = feed(data, size, NULL, 0, &whole);
	/* cut points from the first bytes, in order */
	for (size_t i = 0; i < size && ncuts < 16; i++) {
		size_t at = size ? (data[i] * 7919u + i) % (size + 1) : 0;
		if (ncuts == 0 || at > cuts[ncuts - 1])
			cuts[ncuts++] = at;
	}
	struct result b = feed(data, size, cuts, ncuts, &cut);
	CHECK(a.end == b.end && a.too_big == b.too_big);
	CHECK(whole.len == cut.len &&
	      memcmp(whole.buf, cut.buf, whole.len) == 0);
	/* byte by byte (small inputs: the cuts array is the input's size) */
	if (size <= 512) {
		size_t *each = malloc((size + 1) * sizeof(*each));
		CHECK(each);
		for (size_t i = 0; i < size; i++)
			each[i] = i + 1;
		cut.len = 0;
		struct result c = feed(data, size, each, size, &cut);
		CHECK(a.end == c.end && a.too_big == c.too_big);
		CHECK(whole.len == cut.len &&
		      memcmp(whole.buf, cut.buf, whole.len) == 0);
		free(each);
	}
	free(whole.buf);
	free(cut.buf);
	check_line_scan((const char *)data, size);
	return 0;
}
