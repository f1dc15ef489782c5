/* fuzz_mtasts.c - libFuzzer target for MTA-STS: the TXT record, the
 * policy file and mx matching; and the TLS-RPT record, which shares the
 * record grammar. The whole input is tried as each; its last line is the
 * host name matched against every pattern of a policy that parses, and
 * the lines are the TXT records the selections choose among. Aborts when
 * an invariant of dnsrec.h is broken: the return value and error.code
 * disagree, a span leaves the input, a value is out of its range, a valid
 * pattern does not match itself, matching depends on case or a final
 * dot, or a selection disagrees with the parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtprobe/dnsrec.h"

#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                               \
	do {                                                                   \
		if (!(x))                                                      \
			abort();                                               \
	} while (0)

#define MAX_TXT  8
#define HOST_MAX 300

static void check_span(struct smtprobe_span s, size_t n)
{
	CHECK(s.off <= n && s.len <= n - s.off);
}

static void check_error(const struct smtprobe_dnsrec_error *e, int rc, size_t n)
{
	size_t i, len = strnlen(e->text, sizeof(e->text));

	CHECK(rc <= 0 && (int)e->code == rc);
	CHECK(len < sizeof(e->text) && (rc == 0) == (len == 0));
	for (i = 0; i < len; i++)
		CHECK((unsigned char)e->text[i] >= 0x20 &&
		      (unsigned char)e->text[i] < 0x7f);
	check_span(e->at, n);
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

/* match(p, h) must not change with case or with a final dot on h. */
static int check_match(const char *p, size_t pl, const char *h, size_t hl)
{
	char lh[HOST_MAX + 1];
	int m = smtprobe_mtasts_mx_match(p, pl, h, hl);
	size_t i;

	CHECK(m == 0 || m == 1);
	if (hl >= HOST_MAX)
		return m;
	for (i = 0; i < hl; i++)
		lh[i] = lower(h[i]);
	CHECK(smtprobe_mtasts_mx_match(p, pl, lh, hl) == m);
	if (hl > 0 && h[hl - 1] != '.') {
		lh[hl] = '.';
		CHECK(smtprobe_mtasts_mx_match(p, pl, lh, hl + 1) == m);
	}
	return m;
}

static void check_policy(const char *buf, size_t n, const char *host, size_t hl)
{
	struct smtprobe_mtasts_policy p;
	int rc = smtprobe_mtasts_policy_parse(buf, n, &p);
	long hit;
	size_t i;

	check_error(&p.error, rc, n);
	CHECK(p.nmx <= SMTPROBE_MTASTS_MAX_MX);
	CHECK(p.max_age <= SMTPROBE_MTASTS_MAX_AGE);
	CHECK(strcmp(smtprobe_mtasts_mode_name(p.mode), "?") != 0);
	if (rc < 0)
		return;
	CHECK(p.mode != SMTPROBE_MTASTS_UNSET);
	CHECK(p.nmx > 0 || p.mode == SMTPROBE_MTASTS_NONE);
	for (i = 0; i < p.nmx; i++) {
		const char *pat = buf + p.mx[i].off;

		check_span(p.mx[i], n);
		CHECK(p.mx[i].len > 0 && pat[p.mx[i].len - 1] != '.');
		CHECK(check_match(pat, p.mx[i].len, pat, p.mx[i].len) == 1);
		check_match(pat, p.mx[i].len, host, hl);
	}
	hit = smtprobe_mtasts_policy_match(&p, buf, host, hl);
	CHECK(hit >= -1 && hit < (long)p.nmx);
	if (hit >= 0)
		CHECK(smtprobe_mtasts_mx_match(buf + p.mx[hit].off,
		                               p.mx[hit].len, host, hl));
}

static void check_records(const char *buf, size_t n)
{
	struct smtprobe_mtasts_record r;
	struct smtprobe_tlsrpt t;
	int rc;
	size_t i;

	rc = smtprobe_mtasts_record_parse(buf, n, &r);
	check_error(&r.error, rc, n);
	check_span(r.id, n);
	if (rc == 0) {
		CHECK(r.id.len >= 1 && r.id.len <= 32);
		CHECK(smtprobe_mtasts_select(&(struct smtprobe_txt){buf, n}, 1,
		                             NULL) == 1);
	}
	rc = smtprobe_tlsrpt_parse(buf, n, &t);
	check_error(&t.error, rc, n);
	CHECK(t.nrua <= SMTPROBE_DNSREC_MAX_URIS);
	for (i = 0; i < t.nrua; i++) {
		check_span(t.rua[i].uri, n);
		check_span(t.rua[i].domain, n);
		CHECK(t.rua[i].scheme != SMTPROBE_URI_OTHER &&
		      t.rua[i].domain.len > 0 && t.rua[i].max_size == 0);
	}
	if (rc == 0)
		CHECK(t.nrua > 0 &&
		      smtprobe_tlsrpt_select(&(struct smtprobe_txt){buf, n}, 1,
		                             NULL) == 1);
}

static void check_select(const char *buf, size_t n)
{
	struct smtprobe_txt txt[MAX_TXT];
	size_t k = 0, pos = 0, first = MAX_TXT, count;

	while (pos <= n && k < MAX_TXT) {
		const char *nl = memchr(buf + pos, '\n', n - pos);
		size_t end = nl != NULL ? (size_t)(nl - buf) : n;

		txt[k].data = buf + pos;
		txt[k++].len = end - pos;
		pos = end + 1;
	}
	count = smtprobe_mtasts_select(txt, k, &first);
	CHECK(count <= k && (count == 0 || first < k));
	if (count > 0) {
		struct smtprobe_mtasts_record r;

		CHECK(smtprobe_mtasts_record_parse(txt[first].data,
		                                   txt[first].len, &r) !=
		      SMTPROBE_DNSREC_E_VERSION);
	}
	first = MAX_TXT;
	count = smtprobe_tlsrpt_select(txt, k, &first);
	CHECK(count <= k && (count == 0 || first < k));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	const char *host = buf;
	size_t i;

	for (i = size; i > 0; i--)
		if (buf[i - 1] == '\n') {
			host = buf + i;
			break;
		}
	check_policy(buf, size, host, size - (size_t)(host - buf));
	check_records(buf, size);
	check_select(buf, size);
	return 0;
}
