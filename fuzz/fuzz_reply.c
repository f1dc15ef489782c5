/* fuzz_reply.c - libFuzzer target for the reply parser, builder and
 * escaper. Parses replies back to back as a client reading a pipelined
 * stream would, and aborts when an invariant of reply.h is broken: the
 * consumed count stays within the input, spans stay within the reply,
 * and built strings hold printable ASCII only. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtprobe/reply.h"

#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                               \
	do {                                                                   \
		if (!(x))                                                      \
			abort();                                               \
	} while (0)

static void check_printable(const char *s)
{
	for (; *s != '\0'; s++)
		CHECK((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f);
}

static void check_reply(const char *buf, size_t n,
                        const struct smtprobe_reply_parse *p)
{
	struct smtprobe_reply *r;
	size_t i;

	CHECK(p->code >= 200 && p->code <= 599);
	CHECK(p->nlines >= 1 && p->nlines <= SMTPROBE_MAX_REPLY_LINES);
	CHECK(n <= SMTPROBE_MAX_REPLY_SIZE);
	CHECK(memchr(p->enhanced, '\0', sizeof(p->enhanced)) != NULL);
	if (p->enhanced[0] != '\0')
		CHECK(smtprobe_enhanced_scan(p->enhanced,
		                             strlen(p->enhanced)) ==
		      strlen(p->enhanced));
	for (i = 0; i < p->nlines; i++) {
		CHECK(p->text[i].off <= n);
		CHECK(p->text[i].len <= n - p->text[i].off);
		CHECK(p->text[i].len <= SMTPROBE_MAX_LINE);
		if (i > 0)
			CHECK(p->text[i].off >
			      p->text[i - 1].off + p->text[i - 1].len);
	}

	r = smtprobe_reply_build(buf, p);
	if (r == NULL)
		return;
	CHECK(r->code == p->code && r->nlines == p->nlines);
	CHECK(strcmp(r->enhanced, p->enhanced) == 0);
	for (i = 0; i < r->nlines; i++) {
		check_printable(r->text[i]);
		CHECK(strlen(r->text[i]) ==
		      smtprobe_escape(NULL, 0, buf + p->text[i].off,
		                      p->text[i].len));
	}
	/* raw is the only string with newlines: the line separators */
	for (i = 0; r->raw[i] != '\0'; i++)
		CHECK(r->raw[i] == '\n' || ((unsigned char)r->raw[i] >= 0x20 &&
		                            (unsigned char)r->raw[i] < 0x7f));
	CHECK(strncmp(r->raw, buf, 3) == 0);
	smtprobe_reply_free(r);
}

/* Truncated escapes are still terminated and are prefixes of the full
 * one. */
static void check_escape(const char *buf, size_t len)
{
	char full[256], part[17];
	size_t need, sz;

	if (len > 60)
		len = 60;
	need = smtprobe_escape(full, sizeof(full), buf, len);
	CHECK(need < sizeof(full) && strlen(full) == need);
	check_printable(full);
	for (sz = 1; sz <= sizeof(part); sz++) {
		CHECK(smtprobe_escape(part, sz, buf, len) == need);
		CHECK(strlen(part) < sz);
		CHECK(strncmp(part, full, strlen(part)) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct smtprobe_reply_parse p;
	size_t off = 0;

	check_escape(buf, size);
	while (off < size) {
		long n = smtprobe_reply_parse(buf + off, size - off, &p);

		CHECK(smtprobe_reply_strerror(n) != NULL);
		if (n <= 0)
			break;
		CHECK((size_t)n <= size - off);
		check_reply(buf + off, (size_t)n, &p);
		off += (size_t)n;
	}
	return 0;
}
