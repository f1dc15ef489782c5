/* fuzz_ehlo.c - libFuzzer target for EHLO capability parsing. The input
 * is split into lines (LF, optional CR) as the reply text lines would be;
 * the raw input is also fed to smtprobe_ehlo_parse_line() whole, NULs
 * and all. Aborts when a stored string is unterminated or unprintable or
 * the mechanism helpers disagree with each other. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtprobe/ehlo.h"

#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                               \
	do {                                                                   \
		if (!(x))                                                      \
			abort();                                               \
	} while (0)

#define MAX_LINES 512

static void check_str(const char *s, size_t cap)
{
	size_t i, len = strnlen(s, cap);

	CHECK(len < cap);
	for (i = 0; i < len; i++)
		CHECK((unsigned char)s[i] >= 0x20 &&
		      (unsigned char)s[i] < 0x7f);
}

static void check_ehlo(const struct smtprobe_ehlo *e)
{
	unsigned best;

	check_str(e->host, sizeof(e->host));
	check_str(e->auth, sizeof(e->auth));
	check_str(e->unknown, sizeof(e->unknown));
	CHECK(e->truncated == 0 || e->truncated == 1);
	CHECK(e->size == 0 || (e->caps & SMTPROBE_CAP_SIZE));
	CHECK(e->mechs == 0 || (e->caps & SMTPROBE_CAP_AUTH));
	CHECK(!(e->caps & SMTPROBE_CAP_AUTH_OLD) ||
	      (e->caps & SMTPROBE_CAP_AUTH));
	best = smtprobe_mech_strongest(e->mechs);
	if (best != 0) {
		const char *name = smtprobe_mech_name(best);

		CHECK((e->mechs & best) == best);
		CHECK(name != NULL);
		CHECK(smtprobe_mech_from_name(name, strlen(name)) == best);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *lines[MAX_LINES];
	struct smtprobe_ehlo e;
	size_t nlines = 0, i, start = 0;
	char *copy = malloc(size + 1);

	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	for (i = 0; i <= size && nlines < MAX_LINES; i++) {
		if (i < size && copy[i] != '\n')
			continue;
		copy[i] = '\0';
		if (i > start && copy[i - 1] == '\r')
			copy[i - 1] = '\0';
		lines[nlines++] = copy + start;
		start = i + 1;
	}
	smtprobe_ehlo_parse(&e, lines, nlines);
	check_ehlo(&e);
	free(copy);

	memset(&e, 0, sizeof(e));
	smtprobe_ehlo_parse_line(&e, (const char *)data, size);
	check_ehlo(&e);
	return 0;
}
