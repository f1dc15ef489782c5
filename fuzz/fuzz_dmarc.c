/* fuzz_dmarc.c - libFuzzer target for the DMARC record parser, the tag
 * list under every dialect, the choice of the record among TXT records and
 * the §7.1 helpers. Aborts when an invariant of dnsrec.h is broken: the
 * return value and error.code disagree, a span leaves the input, a value
 * is out of its range, an error message is unterminated, empty or holds a
 * byte that is not printable ASCII, or the choice of the record disagrees
 * with the parser. */
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

#define MAX_TXT 8

static void check_span(struct smtprobe_span s, size_t n)
{
	CHECK(s.off <= n && s.len <= n - s.off);
}

static void check_error(const struct smtprobe_dnsrec_error *e, int rc, size_t n)
{
	size_t i, len = strnlen(e->text, sizeof(e->text));

	CHECK(rc <= 0 && (int)e->code == rc);
	CHECK(len < sizeof(e->text));
	CHECK((rc == 0) == (len == 0));
	for (i = 0; i < len; i++)
		CHECK((unsigned char)e->text[i] >= 0x20 &&
		      (unsigned char)e->text[i] < 0x7f);
	check_span(e->at, n);
	CHECK(strcmp(smtprobe_dnsrec_strerror(rc), "unknown error") != 0);
}

static void check_taglist(const char *buf, size_t n,
                          enum smtprobe_taglist_dialect d)
{
	struct smtprobe_taglist tl;
	int rc = smtprobe_taglist_parse(buf, n, d, &tl);
	size_t i;

	check_error(&tl.error, rc, n);
	if (rc < 0)
		return;
	CHECK(tl.n >= 1 && tl.n <= SMTPROBE_TAGLIST_MAX_TAGS);
	for (i = 0; i < tl.n; i++) {
		const struct smtprobe_tag *t = &tl.tag[i];

		check_span(t->name, n);
		check_span(t->value, n);
		CHECK(t->name.len > 0);
		CHECK(t->value.off > t->name.off + t->name.len);
		if (i > 0)
			CHECK(t->name.off > tl.tag[i - 1].value.off +
			                            tl.tag[i - 1].value.len);
		if (t->value.len > 0) {
			CHECK(buf[t->value.off] != ' ');
			CHECK(buf[t->value.off + t->value.len - 1] != ' ');
		}
	}
}

static void check_uris(const char *buf, size_t n,
                       const struct smtprobe_report_uri *u, size_t count)
{
	size_t i;

	CHECK(count <= SMTPROBE_DNSREC_MAX_URIS);
	for (i = 0; i < count; i++) {
		check_span(u[i].uri, n);
		check_span(u[i].domain, n);
		if (u[i].scheme == SMTPROBE_URI_OTHER)
			CHECK(u[i].domain.len == 0);
		else
			CHECK(u[i].domain.len > 0 &&
			      u[i].domain.off >= u[i].uri.off &&
			      u[i].domain.off + u[i].domain.len <=
			              u[i].uri.off + u[i].uri.len);
		if (u[i].scheme == SMTPROBE_URI_MAILTO)
			CHECK(buf[u[i].domain.off - 1] == '@');
	}
}

static void check_dmarc(const char *buf, size_t n)
{
	struct smtprobe_dmarc m;
	int rc = smtprobe_dmarc_parse(buf, n, &m);

	check_error(&m.error, rc, n);
	CHECK(m.p <= SMTPROBE_DMARC_P_REJECT &&
	      m.sp <= SMTPROBE_DMARC_P_REJECT &&
	      m.np <= SMTPROBE_DMARC_P_REJECT);
	CHECK(m.pct <= 100);
	CHECK(m.adkim == 'r' || m.adkim == 's');
	CHECK(m.aspf == 'r' || m.aspf == 's');
	CHECK(m.fo != 0 && m.fo < 16);
	CHECK(m.ri <= 4294967295UL);
	CHECK(smtprobe_dmarc_policy_name(m.p) != NULL);
	check_uris(buf, n, m.rua, m.nrua);
	check_uris(buf, n, m.ruf, m.nruf);
	if (rc == 0) {
		CHECK(m.has & SMTPROBE_DMARC_HAS_P);
		CHECK(m.p != SMTPROBE_DMARC_P_UNSET &&
		      m.sp != SMTPROBE_DMARC_P_UNSET &&
		      m.np != SMTPROBE_DMARC_P_UNSET);
	}
}

/* The input as TXT records, one a line; whoever the selection picks must
 * not fail the parse on v=. */
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
	count = smtprobe_dmarc_select(txt, k, &first);
	CHECK(count <= k);
	CHECK(smtprobe_dmarc_report_auth(txt, k) == (count > 0));
	if (count > 0) {
		struct smtprobe_dmarc m;
		int rc;

		CHECK(first < k);
		rc = smtprobe_dmarc_parse(txt[first].data, txt[first].len, &m);
		CHECK(rc != SMTPROBE_DNSREC_E_VERSION);
	}
}

static void check_report_name(const char *buf, size_t n)
{
	char out[SMTPROBE_DNSREC_MAX_NAME + 8];
	size_t half = n / 2;

	if (smtprobe_dmarc_report_name(buf, half, buf + half, n - half, out,
	                               sizeof(out)) == 0)
		CHECK(strlen(out) <= SMTPROBE_DNSREC_MAX_NAME &&
		      strstr(out, "._report._dmarc.") != NULL);
	(void)smtprobe_dnsrec_domain_eq(buf, half, buf + half, n - half);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	int d;

	check_dmarc(buf, size);
	for (d = 0; d < SMTPROBE_TAGLIST_LAST; d++)
		check_taglist(buf, size, (enum smtprobe_taglist_dialect)d);
	check_select(buf, size);
	check_report_name(buf, size);
	return 0;
}
