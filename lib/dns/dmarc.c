/* dmarc.c - the DMARC record (RFC 7489 §6.3-6.4, np= of RFC 9091), the
 * choice of the record among the TXT records at _dmarc.DOMAIN (§6.6.3)
 * and the authorisation of reports to another domain (§7.1).
 *
 * smtprobe_dmarc_parse() reads a record with the tag-list rules of
 * taglist.c (names ignoring case, no tag twice), requires v=DMARC1 first
 * (the value exactly so, §6.3) and p=, and checks each tag RFC 7489 and
 * RFC 9091 define with the table below; other tags are ignored, as §6.3
 * requires, and noted (SMTPROBE_DMARC_HAS_UNKNOWN). Keywords (none, r,
 * afrf...) are ABNF strings and so compared ignoring case.
 *
 * Bad input: a broken tag list or v= stops the parse; past them the
 * first bad tag is the error, and the other tags are still read, so the
 * caller sees a valid rua= next to a bad p= (§6.6.3 step 6). Every error
 * names the tag and quotes its value escaped.
 *
 * Limits: those of the tag list, and SMTPROBE_DNSREC_MAX_URIS URIs in each
 * of rua= and ruf= (more is an error). Nothing is allocated. */
#include <stdio.h>
#include <string.h>

#include "taglist.h"

#include "banned.h"

#define DMARC   SMTPROBE_TAGLIST_DMARC
#define RI_MAX  4294967295UL /* 32 bits: any more is no interval */
#define RI_DEF  86400UL
#define PCT_DEF 100

typedef int (*tag_fn)(const char *buf, const struct smtprobe_tag *t,
                      struct smtprobe_dmarc *out);

static const char *const policy_names[] = {
        [SMTPROBE_DMARC_P_UNSET] = "unset",
        [SMTPROBE_DMARC_P_NONE] = "none",
        [SMTPROBE_DMARC_P_QUARANTINE] = "quarantine",
        [SMTPROBE_DMARC_P_REJECT] = "reject",
};

const char *smtprobe_dmarc_policy_name(enum smtprobe_dmarc_policy p)
{
	return (unsigned)p <= SMTPROBE_DMARC_P_REJECT ? policy_names[p] : "?";
}

static int bad(const char *buf, const struct smtprobe_tag *t,
               struct smtprobe_dmarc *out, int code, const char *why)
{
	return taglist_bad_tag(&out->error, code, DMARC, buf, t, why);
}

static int policy(const char *buf, const struct smtprobe_tag *t,
                  struct smtprobe_dmarc *out, enum smtprobe_dmarc_policy *p)
{
	unsigned i;

	for (i = SMTPROBE_DMARC_P_NONE; i <= SMTPROBE_DMARC_P_REJECT; i++)
		if (taglist_span_is(buf, t->value, policy_names[i])) {
			*p = (enum smtprobe_dmarc_policy)i;
			return 0;
		}
	return bad(buf, t, out, SMTPROBE_DNSREC_E_VALUE,
	           "is not none, quarantine or reject");
}

static int tag_p(const char *buf, const struct smtprobe_tag *t,
                 struct smtprobe_dmarc *out)
{
	return policy(buf, t, out, &out->p);
}

static int tag_sp(const char *buf, const struct smtprobe_tag *t,
                  struct smtprobe_dmarc *out)
{
	return policy(buf, t, out, &out->sp);
}

static int tag_np(const char *buf, const struct smtprobe_tag *t,
                  struct smtprobe_dmarc *out)
{
	return policy(buf, t, out, &out->np);
}

static int tag_pct(const char *buf, const struct smtprobe_tag *t,
                   struct smtprobe_dmarc *out)
{
	unsigned long v;

	if (taglist_number(buf, t->value, 3, 100, &v) < 0)
		return bad(buf, t, out, SMTPROBE_DNSREC_E_VALUE,
		           "is not a percentage from 0 to 100");
	out->pct = (unsigned)v;
	return 0;
}

static int tag_ri(const char *buf, const struct smtprobe_tag *t,
                  struct smtprobe_dmarc *out)
{
	if (taglist_number(buf, t->value, 10, RI_MAX, &out->ri) < 0) {
		out->ri = RI_DEF;
		return bad(buf, t, out, SMTPROBE_DNSREC_E_VALUE,
		           "is not a number of seconds");
	}
	return 0;
}

static int tag_rua(const char *buf, const struct smtprobe_tag *t,
                   struct smtprobe_dmarc *out)
{
	return taglist_uris(buf, t, DMARC, out->rua, &out->nrua, &out->error);
}

static int tag_ruf(const char *buf, const struct smtprobe_tag *t,
                   struct smtprobe_dmarc *out)
{
	return taglist_uris(buf, t, DMARC, out->ruf, &out->nruf, &out->error);
}

static int align(const char *buf, const struct smtprobe_tag *t,
                 struct smtprobe_dmarc *out, char *mode)
{
	if (taglist_span_is(buf, t->value, "r") ||
	    taglist_span_is(buf, t->value, "s")) {
		*mode = (char)(buf[t->value.off] | 0x20);
		return 0;
	}
	return bad(buf, t, out, SMTPROBE_DNSREC_E_VALUE, "is not r or s");
}

static int tag_adkim(const char *buf, const struct smtprobe_tag *t,
                     struct smtprobe_dmarc *out)
{
	return align(buf, t, out, &out->adkim);
}

static int tag_aspf(const char *buf, const struct smtprobe_tag *t,
                    struct smtprobe_dmarc *out)
{
	return align(buf, t, out, &out->aspf);
}

static int tag_fo(const char *buf, const struct smtprobe_tag *t,
                  struct smtprobe_dmarc *out)
{
	static const char opts[] = "01ds";
	size_t pos = t->value.off, end = t->value.off + t->value.len;
	struct smtprobe_span item;
	unsigned fo = 0;

	while (taglist_next_item(buf, &pos, end, ':', &item)) {
		char c = item.len == 1 ? buf[item.off] : 'x';
		const char *o =
		        memchr(opts, c >= 'A' && c <= 'Z' ? c + 32 : c, 4);

		if (o == NULL)
			return bad(buf, t, out, SMTPROBE_DNSREC_E_VALUE,
			           "is not a list of 0, 1, d and s");
		fo |= 1u << (o - opts);
	}
	out->fo = fo;
	return 0;
}

static int tag_rf(const char *buf, const struct smtprobe_tag *t,
                  struct smtprobe_dmarc *out)
{
	size_t pos = t->value.off, end = t->value.off + t->value.len;
	struct smtprobe_span item;

	while (taglist_next_item(buf, &pos, end, ':', &item)) {
		if (!taglist_word(buf, item))
			return bad(buf, t, out, SMTPROBE_DNSREC_E_VALUE,
			           "is not a list of report formats");
		if (!taglist_span_is(buf, item, "afrf"))
			out->rf_unknown = 1;
	}
	return 0;
}

/* The tags of RFC 7489 §6.3 and RFC 9091 §4.1, as data. */
static const struct dmarc_tag {
	const char *name;
	unsigned has;
	tag_fn fn;
} dmarc_tags[] = {
        {"p", SMTPROBE_DMARC_HAS_P, tag_p},
        {"sp", SMTPROBE_DMARC_HAS_SP, tag_sp},
        {"np", SMTPROBE_DMARC_HAS_NP, tag_np},
        {"pct", SMTPROBE_DMARC_HAS_PCT, tag_pct},
        {"rua", SMTPROBE_DMARC_HAS_RUA, tag_rua},
        {"ruf", SMTPROBE_DMARC_HAS_RUF, tag_ruf},
        {"adkim", SMTPROBE_DMARC_HAS_ADKIM, tag_adkim},
        {"aspf", SMTPROBE_DMARC_HAS_ASPF, tag_aspf},
        {"fo", SMTPROBE_DMARC_HAS_FO, tag_fo},
        {"rf", SMTPROBE_DMARC_HAS_RF, tag_rf},
        {"ri", SMTPROBE_DMARC_HAS_RI, tag_ri},
};

int smtprobe_dmarc_parse(const char *buf, size_t len,
                         struct smtprobe_dmarc *out)
{
	struct smtprobe_taglist tl;
	size_t i, k;
	int rc;

	memset(out, 0, sizeof(*out));
	out->pct = PCT_DEF;
	out->adkim = out->aspf = 'r';
	out->fo = SMTPROBE_DMARC_FO_0;
	out->ri = RI_DEF;
	rc = smtprobe_taglist_parse(buf, len, DMARC, &tl);
	if (rc < 0) {
		out->error = tl.error;
		return rc;
	}
	rc = taglist_version(&tl, buf, &out->error);
	if (rc < 0)
		return rc;
	for (i = 1; i < tl.n; i++) {
		const struct smtprobe_tag *t = &tl.tag[i];

		for (k = 0; k < sizeof(dmarc_tags) / sizeof(dmarc_tags[0]); k++)
			if (taglist_span_is(buf, t->name, dmarc_tags[k].name))
				break;
		if (k == sizeof(dmarc_tags) / sizeof(dmarc_tags[0])) {
			out->has |= SMTPROBE_DMARC_HAS_UNKNOWN;
			continue;
		}
		out->has |= dmarc_tags[k].has;
		(void)dmarc_tags[k].fn(buf, t, out); /* the first error stays */
	}
	if (!(out->has & SMTPROBE_DMARC_HAS_P))
		taglist_seterr(
		        &out->error, SMTPROBE_DNSREC_E_MISSING, tl.tag[0].name,
		        "dmarc: p= is missing (a policy record needs it)");
	if (!(out->has & SMTPROBE_DMARC_HAS_SP))
		out->sp = out->p;
	if (!(out->has & SMTPROBE_DMARC_HAS_NP))
		out->np = out->sp;
	return out->error.code;
}

size_t smtprobe_dmarc_select(const struct smtprobe_txt *txt, size_t n,
                             size_t *first)
{
	return taglist_select(txt, n, DMARC, first);
}

int smtprobe_dmarc_report_auth(const struct smtprobe_txt *txt, size_t n)
{
	return taglist_select(txt, n, DMARC, NULL) > 0;
}

int smtprobe_dmarc_report_name(const char *domain, size_t dlen,
                               const char *rua_domain, size_t rlen, char *out,
                               size_t outsz)
{
	int n;

	if (dlen > 0 && domain[dlen - 1] == '.')
		dlen--;
	if (rlen > 0 && rua_domain[rlen - 1] == '.')
		rlen--;
	if (dlen == 0 || rlen == 0 || dlen > SMTPROBE_DNSREC_MAX_NAME ||
	    rlen > SMTPROBE_DNSREC_MAX_NAME)
		return -1;
	n = snprintf(out, outsz, "%.*s._report._dmarc.%.*s", (int)dlen, domain,
	             (int)rlen, rua_domain);
	if (n < 0 || (size_t)n >= outsz || n > SMTPROBE_DNSREC_MAX_NAME) {
		if (outsz > 0)
			out[0] = '\0';
		return -1;
	}
	return 0;
}
