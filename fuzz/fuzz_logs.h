/* fuzz_logs.h - the body of the `smtprobe logs` fuzz targets (one per
 * format: fuzz_logs_postfix.c ... each defines PREFIX, the start of a line
 * of its format, and may define HEADER, lines fed once first; then it
 * includes this file). The input is split at newlines;
 * each line, with the prefix before it, goes through smtprobe_log_parse
 * on one input state (the sessions, Exchange's header carry over) and
 * into a summary; then the JSON report is made.
 *
 * It aborts when a promise of logs.h is broken: every field of an event
 * lies inside its line, the format is the prefix's or unknown, counts are
 * at least 1, the kinds and reasons are in range. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtprobe/logs.h"

#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                               \
	do {                                                                   \
		if (!(x))                                                      \
			abort();                                               \
	} while (0)

static void inside(struct smtprobe_log_str s, const char *line, size_t len)
{
	if (s.n == 0)
		return;
	/* the session table may hold a copy (OpenSMTPD, Postfix's TLS) */
	if (s.p >= line && s.p + s.n <= line + len)
		return;
	CHECK(s.n < 64);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct smtprobe_log_input in;
	struct smtprobe_logs_opts o = {.capacity = 16, .bf_threshold = 3};
	struct smtprobe_logs *l = smtprobe_logs_new(&o);
	size_t plen = strlen(PREFIX), off = 0;
	char *line = malloc(plen + size + 1);

	if (l == NULL || line == NULL)
		abort();
	memset(&in, 0, sizeof(in));
	in.ref_time = 1796601600;
#ifdef HEADER
	/* lines that set the input up first (Exchange's #Fields) */
	for (const char *h = HEADER; *h;) {
		size_t hn = strcspn(h, "\n");
		smtprobe_logs_line(l, &in, h, hn);
		h += hn + (h[hn] == '\n');
	}
#endif
	memcpy(line, PREFIX, plen);
	while (off <= size) {
		const uint8_t *nl = memchr(data + off, '\n', size - off);
		size_t n = nl ? (size_t)(nl - (data + off)) : size - off;
		struct smtprobe_log_event ev;
		memcpy(line + plen, data + off, n);
		/* exactly the line's bytes: ASan sees a read past it */
		char *exact = malloc(plen + n ? plen + n : 1);
		if (exact == NULL)
			abort();
		memcpy(exact, line, plen + n);
		enum smtprobe_log_format f =
		        smtprobe_log_parse(&in, exact, plen + n, &ev);
		CHECK((unsigned)f < SMTPROBE_LF_LAST);
		CHECK((unsigned)ev.kind < SMTPROBE_LE_LAST);
		CHECK((unsigned)ev.reject < SMTPROBE_LR_LAST);
		CHECK((unsigned)ev.tls_cause < SMTPROBE_LT_LAST);
		CHECK(ev.count >= 1);
		inside(ev.client, exact, plen + n);
		inside(ev.user, exact, plen + n);
		inside(ev.sender, exact, plen + n);
		inside(ev.rcpt, exact, plen + n);
		inside(ev.protocol, exact, plen + n);
		inside(ev.cipher, exact, plen + n);
		inside(ev.text, exact, plen + n);
		smtprobe_logs_line(l, &in, exact, plen + n);
		free(exact);
		if (nl == NULL)
			break;
		off += n + 1;
	}
	smtprobe_logs_finish(l);
	char *json = smtprobe_logs_json(l, 5);
	CHECK(json != NULL);
	free(json);
	smtprobe_logs_free(l);
	free(line);
	return 0;
}
