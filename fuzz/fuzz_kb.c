/* fuzz_kb.c - libFuzzer target for the knowledge-base lookups. The input
 * is split at the first two '\n' into code, enhanced code and text (a
 * missing part is empty); every lookup runs on them and on the whole
 * input, and the target aborts when kb.h's promises break: no more
 * matches than asked, no duplicates, an invalid code gives none, and
 * every entry returned is one of the table's. The whole input is also a
 * pasted query (smtprobe_kb_query_parse / _match, explain's parser): its
 * text is printable ASCII, no longer than the input, and its matches obey
 * the same promises. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtprobe/kb.h"

#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                               \
	do {                                                                   \
		if (!(x))                                                      \
			abort();                                               \
	} while (0)

#define MAXM 8

static void check_entry(const struct smtprobe_kb_entry *e)
{
	const struct smtprobe_kb_entry *all;
	size_t n;

	if (e == NULL)
		return;
	all = smtprobe_kb_entries(&n);
	CHECK(e >= all && e < all + n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct smtprobe_kb_entry *m[MAXM];
	char *buf, *enh = NULL, *text = NULL, *nl, *end;
	size_t n, i, j, max;
	long code;

	buf = malloc(size + 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';

	/* the whole input as a text, a local error and a certificate reason */
	n = smtprobe_kb_lookup(0, "", buf, m, MAXM);
	CHECK(n <= MAXM);
	check_entry(smtprobe_kb_local(buf));
	check_entry(smtprobe_kb_x509(0, buf));

	nl = memchr(buf, '\n', size);
	if (nl != NULL) {
		*nl = '\0';
		enh = nl + 1;
		nl = strchr(enh, '\n');
		if (nl != NULL) {
			*nl = '\0';
			text = nl + 1;
		}
	}
	code = strtol(buf, &end, 10);
	if (code < -100000 || code > 100000)
		code = 100000;
	max = size % (MAXM + 1);
	n = smtprobe_kb_lookup((int)code, enh ? enh : "", text, m, max);
	CHECK(n <= max);
	if (code != 0 && (code < 200 || code > 599))
		CHECK(n == 0);
	for (i = 0; i < n; i++) {
		check_entry(m[i]);
		for (j = i + 1; j < n; j++)
			CHECK(m[i] != m[j]);
	}
	check_entry(smtprobe_kb_x509(code, text));
	check_entry(smtprobe_kb_local(text));
	free(buf);

	/* the whole input as a pasted query (explain) */
	struct smtprobe_kb_query q;
	if (smtprobe_kb_query_parse((const char *)data, size, &q) < 0) {
		CHECK(size > SMTPROBE_KB_QUERY_MAX);
		return 0;
	}
	CHECK(q.code == 0 || (q.code >= 200 && q.code <= 599));
	CHECK(strlen(q.text) <= size);
	for (const char *p = q.text; *p; p++)
		CHECK(*p >= 0x20 && *p < 0x7f);
	n = smtprobe_kb_query_match(&q, m, max);
	CHECK(n <= max);
	for (i = 0; i < n; i++) {
		check_entry(m[i]);
		for (j = i + 1; j < n; j++)
			CHECK(m[i] != m[j]);
	}
	return 0;
}
