/* judge_auth.c - the judgement of the domain's sender authentication for
 * `smtprobe dns` (dnscheck.h): the rows spf.*, dmarc.* and dkim.key, in
 * report order, from the TXT answers and the SPF walk and evaluation the
 * collection made. Records are read with the parsers of spf.h and
 * dnsrec.h; the fixes quote the record to publish, rewritten from the one
 * found where that is possible (the all term replaced, the sending IP
 * added, p= raised, pct= dropped, several SPF records merged).
 *
 * Pure: no I/O, no allocation. An answer that is DNSSEC-bogus is not
 * read (the rows skip and say so); one that failed makes the row a warn
 * that could not tell. The SPF walk's problem (spf_count_error) has no
 * code in the facts: it is put on spf.lookups or spf.void_lookups when
 * their count is over the limit, else on spf.syntax.
 *
 * Limits: a rewritten record longer than its buffer is not offered (the
 * fix says what to change instead); texts are cut as judge.c cuts them. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "judge_int.h"
#include "smtprobe/spf.h"

#include "banned.h"

#define REC_MAX 600 /* a record rewritten for a fix */

/* ---- SPF ---- */

struct spf_view {
	enum jd_kind kind;
	size_t ntxt, count, first;
	struct smtprobe_txt txt[SMTPROBE_DC_MAX_RECORDS];
	int parsed; /* exactly one record, and it parses */
	struct smtprobe_spf_record rec;
	struct smtprobe_spf_error err;
};

static void spf_view(const struct smtprobe_dc_facts *f, struct spf_view *v)
{
	memset(v, 0, sizeof(*v));
	v->kind = jd_kind(&f->txt);
	if (v->kind != JD_DATA)
		return;
	v->ntxt = jd_txts(&f->txt, v->txt);
	smtprobe_spf_select(v->txt, v->ntxt, &v->first, &v->count);
	if (v->count == 1)
		v->parsed = smtprobe_spf_parse(v->txt[v->first].data,
		                               v->txt[v->first].len, &v->rec,
		                               &v->err) == 0;
}

int jd_spf_authorises(const struct smtprobe_dc_facts *f)
{
	struct spf_view v;

	spf_view(f, &v);
	if (!v.parsed)
		return -1;
	if (v.rec.redirect >= 0)
		return 1;
	for (size_t i = 0; i < v.rec.nterms; i++)
		if (v.rec.terms[i].kind < SMTPROBE_SPF_REDIRECT &&
		    v.rec.terms[i].qual == SMTPROBE_SPF_PASS)
			return 1;
	return 0;
}

/* The record with bytes [off, off + del) replaced by ins; "" when it
 * does not fit. */
static const char *rewrite(char *out, size_t outsz, const struct smtprobe_txt *t,
                           size_t off, size_t del, const char *ins)
{
	int n = snprintf(out, outsz, "%.*s%s%.*s", (int)off, t->data, ins,
	                 (int)(t->len - off - del), t->data + off + del);

	if (n < 0 || (size_t)n >= outsz)
		out[0] = '\0';
	return out;
}

/* "ip4:192.0.2.1" or "ip6:2001:db8::1" for the address evaluated */
static void ip_term(const struct smtprobe_dc_facts *f, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s:%s", strchr(f->spf_ip, ':') ? "ip6" : "ip4",
	         f->spf_ip);
}

/* The single record with term added before its all (or redirect=), or
 * at the end. */
static const char *spf_add(char *out, size_t outsz, const struct spf_view *v,
                           const char *term)
{
	const struct smtprobe_txt *t = &v->txt[v->first];
	int at = v->rec.all >= 0 ? v->rec.all : v->rec.redirect;
	char ins[300];

	if (at >= 0) {
		snprintf(ins, sizeof(ins), "%s ", term);
		return rewrite(out, outsz, t, v->rec.terms[at].text.off, 0, ins);
	}
	snprintf(ins, sizeof(ins), " %s", term);
	return rewrite(out, outsz, t, t->len, 0, ins);
}

/* the record to start from, for a domain that has none */
static const char *spf_suggest(const struct smtprobe_dc_facts *f, char *out,
                               size_t outsz)
{
	char ip[80];

	if (jd_takes_no_mail(f)) {
		snprintf(out, outsz, "v=spf1 -all");
		return out;
	}
	ip_term(f, ip, sizeof(ip));
	snprintf(out, outsz, "v=spf1 mx %s%s-all",
	         f->spf_evaluated && f->spf_ip[0] ? ip : "",
	         f->spf_evaluated && f->spf_ip[0] ? " " : "");
	return out;
}

static void spf_present(const struct smtprobe_dc_facts *f,
                        struct smtprobe_dc_report *r, const struct spf_view *v)
{
	struct smtprobe_dc_check *c = jd_row(r, "spf.present");
	char what[300], q[JD_QUOTE], rec[REC_MAX];

	snprintf(what, sizeof(what), "TXT at %s", f->domain);
	if (jd_unusable(c, &f->txt, what))
		return;
	if (v->kind == JD_NXDOMAIN) {
		jd_set(c, SMTPROBE_DC_SKIP, "%s does not exist (see mx.present)",
		       f->domain);
		return;
	}
	if (v->count > 0) {
		jd_set(c, SMTPROBE_DC_PASS, "%s",
		       jd_quote(q, sizeof(q), v->txt[v->first].data,
		                v->txt[v->first].len));
		return;
	}
	jd_set(c, SMTPROBE_DC_FAIL,
	       "no SPF record at %s: receivers cannot tell your servers from "
	       "forgers, and DMARC rests on DKIM alone",
	       f->domain);
	for (size_t i = 0; i < v->ntxt; i++)
		if (v->txt[i].len >= 5 &&
		    strncasecmp(v->txt[i].data, "v=spf", 5) == 0)
			jd_text(c, " ('%s' is not one: it must start with "
			           "'v=spf1 ')",
			        jd_quote(q, sizeof(q), v->txt[i].data,
			                 v->txt[i].len));
	jd_fix(c, "publish '%s. TXT \"%s\"'", f->domain,
	       spf_suggest(f, rec, sizeof(rec)));
	if (!jd_takes_no_mail(f))
		jd_fix(c, " (mx: the MX hosts may send; add ip4:/ip6: or "
		          "include: for every other sender)");
}

/* the space-separated list has the term (ASCII case ignored) */
static int has_term(const char *list, const char *term, size_t len)
{
	for (const char *p = list; *p;) {
		size_t n = strcspn(p, " ");

		if (n == len && strncasecmp(p, term, len) == 0)
			return 1;
		p += n;
		p += strspn(p, " ");
	}
	return 0;
}

static void spf_multiple(const struct smtprobe_dc_facts *f,
                         struct smtprobe_dc_report *r, const struct spf_view *v)
{
	struct smtprobe_dc_check *c = jd_row(r, "spf.multiple");
	struct smtprobe_spf_record rec;
	char out[REC_MAX] = "v=spf1", all[64] = "";
	size_t len = strlen(out);
	int merged = 1;

	if (v->count == 0) {
		jd_set(c, SMTPROBE_DC_SKIP, "no SPF record (see spf.present)");
		return;
	}
	if (v->count == 1) {
		jd_set(c, SMTPROBE_DC_PASS, "one SPF record");
		return;
	}
	jd_set(c, SMTPROBE_DC_FAIL,
	       "%zu SPF records at %s: every evaluation is a permerror (RFC "
	       "7208 §4.5), which DMARC counts as an SPF failure",
	       v->count, f->domain);
	/* merge: every mechanism once, in order, then the strictest all */
	for (size_t i = 0; i < v->ntxt && merged; i++) {
		const struct smtprobe_txt *t = &v->txt[i];

		if (!smtprobe_spf_is_record(t->data, t->len))
			continue;
		if (smtprobe_spf_parse(t->data, t->len, &rec, NULL) < 0) {
			merged = 0;
			break;
		}
		for (size_t k = 0; k < rec.nterms && merged; k++) {
			const struct smtprobe_spf_term *term = &rec.terms[k];
			const char *s = t->data + term->text.off;
			int tl = (int)term->text.len, n;

			if (term->kind == SMTPROBE_SPF_ALL) {
				if (!all[0] || term->qual == SMTPROBE_SPF_FAIL)
					snprintf(all, sizeof(all), "%.*s", tl,
					         s);
				continue;
			}
			if (term->kind >= SMTPROBE_SPF_REDIRECT)
				continue;
			if (has_term(out, s, (size_t)tl))
				continue;
			n = snprintf(out + len, sizeof(out) - len, " %.*s", tl,
			             s);
			if (n < 0 || (size_t)n >= sizeof(out) - len)
				merged = 0;
			else
				len += (size_t)n;
		}
	}
	if (merged && len + strlen(all) + 2 < sizeof(out))
		jd_fix(c, "publish one record: '%s. TXT \"%s %s\"'", f->domain,
		       out, all[0] ? all : "~all");
	else
		jd_fix(c, "merge them into one record at %s and delete the "
		          "others",
		       f->domain);
}

static int no_record(struct smtprobe_dc_check *c, const struct spf_view *v)
{
	if (v->count == 0)
		jd_set(c, SMTPROBE_DC_SKIP, "no SPF record (see spf.present)");
	else if (v->count > 1)
		jd_set(c, SMTPROBE_DC_SKIP, "no single SPF record (see "
		                            "spf.multiple)");
	return v->count != 1;
}

static void spf_syntax(const struct smtprobe_dc_facts *f,
                       struct smtprobe_dc_report *r, const struct spf_view *v)
{
	struct smtprobe_dc_check *c = jd_row(r, "spf.syntax");
	struct smtprobe_spf_record rec;
	struct smtprobe_spf_error err;
	size_t nr = 0, nbad = 0;

	if (v->count == 0) {
		jd_set(c, SMTPROBE_DC_SKIP, "no SPF record (see spf.present)");
		return;
	}
	jd_set(c, SMTPROBE_DC_FAIL, "%s", "");
	for (size_t i = 0; i < v->ntxt; i++) {
		const struct smtprobe_txt *t = &v->txt[i];

		if (!smtprobe_spf_is_record(t->data, t->len))
			continue;
		nr++;
		if (smtprobe_spf_parse(t->data, t->len, &rec, &err) == 0)
			continue;
		nbad++;
		jd_text(c, "%s%s%s", nbad > 1 ? "; " : "",
		        v->count > 1 ? "one record: " : "", err.msg);
		jd_fix(c, "%scorrect or remove that term (RFC 7208 §12 has "
		          "the grammar)",
		       nbad > 1 ? "; " : "");
	}
	if (nbad) {
		jd_text(c, ": receivers stop with permerror, which DMARC "
		           "counts as an SPF failure");
		return;
	}
	if (v->count == 1 && f->spf_counted && f->spf_count_error[0] &&
	    f->spf_lookups <= SMTPROBE_SPF_MAX_LOOKUPS &&
	    f->spf_voids <= SMTPROBE_SPF_MAX_VOID) {
		char q[JD_QUOTE];

		jd_set(c, SMTPROBE_DC_FAIL,
		       "the record parses, but its includes or redirect do "
		       "not: %s",
		       jd_quote(q, sizeof(q), f->spf_count_error,
		                strlen(f->spf_count_error)));
		jd_fix(c, "fix or remove the include:/redirect= it names (the "
		          "target must publish one valid SPF record)");
		return;
	}
	jd_set(c, SMTPROBE_DC_PASS, "%s %zu record%s parse%s", nr == 1 ? "the" : "all",
	       nr, nr == 1 ? "" : "s", nr == 1 ? "s" : "");
	if (v->count == 1 && f->spf_counted)
		jd_text(c, ", and so do those it includes");
}

/* spf.lookups, spf.void_lookups: a count of RFC 7208 §4.6.4 */
struct limit {
	const char *id, *what;
	unsigned max;
	const char *consequence, *fix;
};

static const struct limit limits[] = {
        {"spf.lookups", "DNS-querying terms (include a mx ptr exists redirect)",
         SMTPROBE_SPF_MAX_LOOKUPS,
         "receivers stop with permerror, which DMARC counts as an SPF "
         "failure for all mail",
         "flatten: replace include:s by the ip4:/ip6: ranges they publish, "
         "drop ptr and the a/mx terms that name hosts listed already, or "
         "give other senders their own subdomain"},
        {"spf.void_lookups", "void lookups (names with no record)",
         SMTPROBE_SPF_MAX_VOID,
         "receivers stop with permerror, which DMARC counts as an SPF "
         "failure for all mail",
         "remove the a:, mx:, exists: and include: terms whose names do "
         "not exist or have no record"},
};

static void spf_limit(const struct smtprobe_dc_facts *f,
                      struct smtprobe_dc_report *r, const struct spf_view *v,
                      const struct limit *l, unsigned n)
{
	struct smtprobe_dc_check *c = jd_row(r, l->id);
	char q[JD_QUOTE];

	if (no_record(c, v))
		return;
	if (!f->spf_counted) {
		jd_set(c, SMTPROBE_DC_WARN,
		       "could not count: %s",
		       f->spf_count_error[0]
		               ? jd_quote(q, sizeof(q), f->spf_count_error,
		                          strlen(f->spf_count_error))
		               : "the walk through includes and redirects did "
		                 "not finish");
		return;
	}
	if (n > l->max) {
		jd_set(c, SMTPROBE_DC_FAIL, "%u %s through includes and "
		                            "redirects, over the limit of %u "
		                            "(RFC 7208 §4.6.4): %s",
		       n, l->what, l->max, l->consequence);
		jd_fix(c, "%s", l->fix);
		return;
	}
	jd_set(c, SMTPROBE_DC_PASS, "%u %s of at most %u", n, l->what, l->max);
}

static void spf_all(const struct smtprobe_dc_facts *f,
                    struct smtprobe_dc_report *r, const struct spf_view *v)
{
	static const struct {
		enum smtprobe_spf_result qual;
		enum smtprobe_dc_status status;
		const char *text;
	} tab[] = {
	        {SMTPROBE_SPF_PASS, SMTPROBE_DC_FAIL,
	         "+all: every host in the world passes SPF for the domain"},
	        {SMTPROBE_SPF_NEUTRAL, SMTPROBE_DC_WARN,
	         "?all: hosts not listed get neutral, which receivers treat as "
	         "no SPF at all"},
	        {SMTPROBE_SPF_SOFTFAIL, SMTPROBE_DC_PASS,
	         "~all: hosts not listed softfail (receivers junk rather than "
	         "refuse; with DMARC quarantine or reject that is enough)"},
	        {SMTPROBE_SPF_FAIL, SMTPROBE_DC_PASS,
	         "-all: hosts not listed fail"},
	};
	struct smtprobe_dc_check *c = jd_row(r, "spf.all");
	const struct smtprobe_spf_record *rec = &v->rec;
	const struct smtprobe_txt *t = &v->txt[v->first];
	char out[REC_MAX];

	if (no_record(c, v))
		return;
	if (!v->parsed) {
		jd_set(c, SMTPROBE_DC_SKIP, "the record does not parse (see "
		                            "spf.syntax)");
		return;
	}
	if (rec->all < 0) {
		if (rec->redirect >= 0) {
			const struct smtprobe_spf_term *rd =
			        &rec->terms[rec->redirect];

			jd_set(c, SMTPROBE_DC_PASS, "no all: '%.*s' decides for "
			                            "hosts not listed",
			       (int)rd->text.len, t->data + rd->text.off);
			return;
		}
		jd_set(c, SMTPROBE_DC_WARN,
		       "no all and no redirect=: hosts not listed get neutral "
		       "(RFC 7208 §4.7), as if there were no SPF");
		jd_fix(c, "publish '%s. TXT \"%s\"'", f->domain,
		       spf_add(out, sizeof(out), v, "-all"));
		return;
	}
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (tab[i].qual == rec->terms[rec->all].qual)
			jd_set(c, tab[i].status, "%s", tab[i].text);
	if (c->status == SMTPROBE_DC_FAIL || c->status == SMTPROBE_DC_WARN)
		jd_fix(c, "publish '%s. TXT \"%s\"' (~all while you are not "
		          "sure every sender is listed)",
		       f->domain,
		       rewrite(out, sizeof(out), t,
		               rec->terms[rec->all].text.off,
		               rec->terms[rec->all].text.len, "-all"));
	for (size_t i = (size_t)rec->all + 1; i < rec->nterms; i++)
		if (rec->terms[i].kind < SMTPROBE_SPF_REDIRECT) {
			jd_worse(c, SMTPROBE_DC_WARN);
			jd_text(c, "; the terms after all are never reached");
			break;
		}
	if (rec->redirect >= 0) {
		jd_worse(c, SMTPROBE_DC_WARN);
		jd_text(c, "; redirect= is ignored next to all (RFC 7208 §6.1)");
	}
}

/* what spf.result's fix says */
enum result_fix { RF_NONE, RF_ADD_IP, RF_SEE_ABOVE, RF_DNS };

static void spf_result(const struct smtprobe_dc_facts *f,
                       struct smtprobe_dc_report *r, const struct spf_view *v)
{
	static const struct {
		const char *word;
		enum smtprobe_dc_status status;
		enum result_fix fix;
		const char *meaning;
	} tab[] = {
	        {"pass", SMTPROBE_DC_PASS, RF_NONE, "the address may send for"},
	        {"fail", SMTPROBE_DC_FAIL, RF_ADD_IP,
	         "receivers refuse mail from it for"},
	        {"softfail", SMTPROBE_DC_WARN, RF_ADD_IP,
	         "receivers junk mail from it for"},
	        {"neutral", SMTPROBE_DC_WARN, RF_ADD_IP,
	         "the record says nothing of it for"},
	        {"none", SMTPROBE_DC_WARN, RF_ADD_IP,
	         "no SPF record to judge it by for"},
	        {"permerror", SMTPROBE_DC_FAIL, RF_SEE_ABOVE,
	         "the record is broken (see the checks above) for"},
	        {"temperror", SMTPROBE_DC_WARN, RF_DNS,
	         "could not tell: a lookup failed for"},
	};
	struct smtprobe_dc_check *c = jd_row(r, "spf.result");
	const char *word = f->spf_result;
	char q[JD_QUOTE], ip[80], out[REC_MAX];
	size_t i;

	if (!f->spf_evaluated) {
		jd_set(c, SMTPROBE_DC_SKIP, "no --ip given: SPF is not "
		                            "evaluated for a sending address");
		return;
	}
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcmp(tab[i].word, word) == 0)
			break;
	if (i == sizeof(tab) / sizeof(tab[0])) {
		jd_set(c, SMTPROBE_DC_WARN, "%s for %s: not a result of RFC "
		                            "7208 §2.6",
		       jd_quote(q, sizeof(q), word, strlen(word)), f->spf_ip);
		return;
	}
	if (v->kind == JD_BOGUS) {
		jd_set(c, SMTPROBE_DC_SKIP,
		       "%s for %s (not judged: the SPF record's answer is "
		       "DNSSEC-bogus, validating receivers get temperror)",
		       word, f->spf_ip);
		return;
	}
	jd_set(c, tab[i].status, "%s for %s: %s %s", word, f->spf_ip,
	       tab[i].meaning, f->domain);
	if (f->spf_mechanism[0])
		jd_text(c, " (decided by '%s')",
		        jd_quote(q, sizeof(q), f->spf_mechanism,
		                 strlen(f->spf_mechanism)));
	else if (strcmp(word, "neutral") == 0)
		jd_text(c, " (no term matched: the default)");
	if (f->spf_explanation[0])
		jd_text(c, "; explanation: '%s'",
		        jd_quote(q, sizeof(q), f->spf_explanation,
		                 strlen(f->spf_explanation)));
	if (strcmp(word, "fail") == 0 && jd_takes_no_mail(f) &&
	    jd_spf_authorises(f) == 0) {
		c->status = SMTPROBE_DC_INFO;
		jd_text(c, ": as intended, the domain takes no mail and sends "
		           "none");
		return;
	}
	switch (tab[i].fix) {
	case RF_ADD_IP:
		ip_term(f, ip, sizeof(ip));
		jd_fix(c, "if %s sends mail for %s, publish '%s. TXT \"%s\"'",
		       f->spf_ip, f->domain, f->domain,
		       v->parsed ? spf_add(out, sizeof(out), v, ip)
		                 : spf_suggest(f, out, sizeof(out)));
		break;
	case RF_SEE_ABOVE:
		jd_fix(c, "see spf.syntax, spf.multiple, spf.lookups and "
		          "spf.void_lookups");
		break;
	case RF_DNS:
		jd_fix(c, "check that the name servers of the domains the "
		          "record names answer, then run again");
		break;
	default:
		break;
	}
}

/* ---- DMARC ---- */

enum dm_state { DM_UNTRUSTED, DM_NONE, DM_MULTIPLE, DM_ONE };

struct dmarc_view {
	enum dm_state state;
	size_t count;
	const char *owner; /* the record's domain */
	int from_org;      /* the organisational domain's record applies */
	struct smtprobe_txt rec;
	int rc;
	struct smtprobe_dmarc d;
};

static size_t dmarc_count(const struct smtprobe_dc_answer *a,
                          struct smtprobe_txt *rec)
{
	struct smtprobe_txt txt[SMTPROBE_DC_MAX_RECORDS];
	size_t n, first = 0, count;

	if (jd_kind(a) != JD_DATA)
		return 0;
	n = jd_txts(a, txt);
	count = smtprobe_dmarc_select(txt, n, &first);
	if (count)
		*rec = txt[first];
	return count;
}

/* _dmarc.ORG TXT "v=DMARC1; p=quarantine; rua=mailto:dmarc@ORG" */
static void dmarc_example(const struct smtprobe_dc_facts *f,
                          struct smtprobe_dc_check *c)
{
	if (jd_takes_no_mail(f))
		jd_fix(c, "publish '_dmarc.%s TXT \"v=DMARC1; p=reject\"'",
		       f->domain);
	else
		jd_fix(c, "publish '_dmarc.%s TXT \"v=DMARC1; p=quarantine; "
		          "rua=mailto:dmarc@%s\"' (p=none for a few weeks "
		          "first if you are not sure every sender signs)",
		       f->domain, f->domain);
}

static void dmarc_present(const struct smtprobe_dc_facts *f,
                          struct smtprobe_dc_report *r, struct dmarc_view *v)
{
	struct smtprobe_dc_check *c = jd_row(r, "dmarc.present");
	const char *org = f->org_domain;
	char what[300], q[JD_QUOTE];

	memset(v, 0, sizeof(*v));
	v->owner = f->domain;
	snprintf(what, sizeof(what), "TXT at _dmarc.%s", f->domain);
	if (jd_unusable(c, &f->dmarc, what))
		return;
	v->count = dmarc_count(&f->dmarc, &v->rec);
	if (v->count == 0 && org[0] && !jd_in_domain(org, f->domain) &&
	    f->org_dmarc.asked) {
		snprintf(what, sizeof(what),
		         "TXT at _dmarc.%s (the organisational domain)", org);
		if (jd_unusable(c, &f->org_dmarc, what))
			return;
		v->count = dmarc_count(&f->org_dmarc, &v->rec);
		v->from_org = v->count > 0;
		v->owner = v->from_org ? org : f->domain;
	}
	v->state = v->count == 0 ? DM_NONE : v->count > 1 ? DM_MULTIPLE : DM_ONE;
	if (v->count == 0) {
		jd_set(c, SMTPROBE_DC_FAIL,
		       "no DMARC record at _dmarc.%s: receivers apply no "
		       "policy to mail that fails SPF and DKIM, anyone can "
		       "send as @%s, and you get no reports",
		       f->domain, f->domain);
		dmarc_example(f, c);
		return;
	}
	v->rc = smtprobe_dmarc_parse(v->rec.data, v->rec.len, &v->d);
	if (v->from_org)
		jd_set(c, SMTPROBE_DC_PASS, "no record at _dmarc.%s; the "
		                            "organisational domain's applies: ",
		       f->domain);
	else
		jd_set(c, SMTPROBE_DC_PASS, "%s", "");
	jd_text(c, "%s", jd_quote(q, sizeof(q), v->rec.data, v->rec.len));
}

static void dmarc_multiple(struct smtprobe_dc_report *r,
                           const struct dmarc_view *v)
{
	struct smtprobe_dc_check *c = jd_row(r, "dmarc.multiple");

	if (v->state == DM_ONE)
		jd_set(c, SMTPROBE_DC_PASS, "one DMARC record");
	else if (v->state == DM_MULTIPLE) {
		jd_set(c, SMTPROBE_DC_FAIL,
		       "%zu DMARC records at _dmarc.%s: receivers apply none "
		       "(RFC 7489 §6.6.3)",
		       v->count, v->owner);
		jd_fix(c, "keep one '_dmarc.%s TXT \"v=DMARC1; ...\"' and "
		          "delete the others",
		       v->owner);
	} else
		jd_set(c, SMTPROBE_DC_SKIP, "no DMARC record (see dmarc.present)");
}

/* The record with p= set to p, and pct=, sp=none, np=none dropped as
 * asked; "" when it does not fit. */
static const char *dmarc_rewrite(char *out, size_t outsz,
                                 const struct dmarc_view *v, const char *p,
                                 int drop_pct, int drop_sub)
{
	struct smtprobe_taglist tl;
	const char *b = v->rec.data;
	size_t o = 0;

	out[0] = '\0';
	if (smtprobe_taglist_parse(b, v->rec.len, SMTPROBE_TAGLIST_DMARC, &tl) <
	    0)
		return out;
	for (size_t i = 0; i < tl.n; i++) {
		const struct smtprobe_tag *t = &tl.tag[i];
		const char *name = b + t->name.off;
		int nl = (int)t->name.len, n;

		if ((drop_pct && nl == 3 && strncasecmp(name, "pct", 3) == 0) ||
		    (drop_sub && nl == 2 &&
		     (strncasecmp(name, "sp", 2) == 0 ||
		      strncasecmp(name, "np", 2) == 0) &&
		     t->value.len == 4 &&
		     strncasecmp(b + t->value.off, "none", 4) == 0))
			continue;
		if (p && nl == 1 && (name[0] == 'p' || name[0] == 'P'))
			n = snprintf(out + o, outsz - o, "%sp=%s", i ? "; " : "",
			             p);
		else
			n = snprintf(out + o, outsz - o, "%s%.*s=%.*s",
			             i ? "; " : "", nl, name, (int)t->value.len,
			             b + t->value.off);
		if (n < 0 || (size_t)n >= outsz - o) {
			out[0] = '\0';
			return out;
		}
		o += (size_t)n;
	}
	return out;
}

static void dmarc_syntax(const struct smtprobe_dc_facts *f,
                         struct smtprobe_dc_report *r,
                         const struct dmarc_view *v)
{
	struct smtprobe_dc_check *c = jd_row(r, "dmarc.syntax");
	const struct smtprobe_dnsrec_error *e = &v->d.error;
	char out[REC_MAX];

	if (v->state != DM_ONE) {
		jd_set(c, SMTPROBE_DC_SKIP, "no single DMARC record (see "
		                            "dmarc.present, dmarc.multiple)");
		return;
	}
	if (v->rc == 0) {
		jd_set(c, SMTPROBE_DC_PASS, "the record is valid");
		if (v->d.has & SMTPROBE_DMARC_HAS_UNKNOWN)
			jd_text(c, " (tags RFC 7489 lacks are ignored)");
		return;
	}
	jd_set(c, SMTPROBE_DC_FAIL, "%s", e->text);
	if (e->at.len == 1 && v->rec.data[e->at.off] == 'p' && v->d.nrua) {
		jd_text(c, ": with a valid rua= receivers read it as p=none "
		           "(RFC 7489 §6.6.3)");
		dmarc_rewrite(out, sizeof(out), v, "quarantine", 0, 0);
		if (out[0]) {
			jd_fix(c, "publish '_dmarc.%s TXT \"%s\"' (p= is none, "
			          "quarantine or reject)",
			       v->owner, out);
			return;
		}
	} else {
		jd_text(c, ": receivers apply no policy");
	}
	dmarc_example(f, c);
}

static void dmarc_policy(struct smtprobe_dc_report *r,
                         const struct dmarc_view *v)
{
	struct smtprobe_dc_check *c = jd_row(r, "dmarc.policy");
	const struct smtprobe_dmarc *d = &v->d;
	enum smtprobe_dmarc_policy p = v->from_org ? d->sp : d->p;
	int weak_sub = 0;
	char out[REC_MAX];

	if (v->state != DM_ONE || v->rc != 0) {
		jd_set(c, SMTPROBE_DC_SKIP, "no valid DMARC record (see "
		                            "dmarc.syntax)");
		return;
	}
	jd_set(c, p == SMTPROBE_DMARC_P_NONE ? SMTPROBE_DC_WARN
	                                     : SMTPROBE_DC_PASS,
	       "%s=%s", v->from_org ? "sp" : "p", smtprobe_dmarc_policy_name(p));
	jd_text(c, " (sp=%s, np=%s, pct=%u)", smtprobe_dmarc_policy_name(d->sp),
	        smtprobe_dmarc_policy_name(d->np), d->pct);
	if (p == SMTPROBE_DMARC_P_NONE)
		jd_text(c, ": monitoring only, receivers deliver mail that "
		           "fails DMARC as if there were no policy");
	if (d->pct < 100) {
		jd_worse(c, SMTPROBE_DC_WARN);
		jd_text(c, "; pct=%u: only that share of failing mail gets the "
		           "policy",
		        d->pct);
	}
	if (!v->from_org && p != SMTPROBE_DMARC_P_NONE &&
	    (((d->has & SMTPROBE_DMARC_HAS_SP) &&
	      d->sp == SMTPROBE_DMARC_P_NONE) ||
	     ((d->has & SMTPROBE_DMARC_HAS_NP) &&
	      d->np == SMTPROBE_DMARC_P_NONE))) {
		weak_sub = 1;
		jd_worse(c, SMTPROBE_DC_WARN);
		jd_text(c, "; sp/np=none: anyone can send as a subdomain");
	}
	if (c->status == SMTPROBE_DC_PASS || v->from_org)
		return;
	dmarc_rewrite(out, sizeof(out), v,
	              p == SMTPROBE_DMARC_P_NONE ? "quarantine" : NULL,
	              d->pct < 100, weak_sub);
	if (out[0])
		jd_fix(c, "publish '_dmarc.%s TXT \"%s\"' once the reports "
		          "show every sender passing SPF or DKIM aligned",
		       v->owner, out);
}

static void dmarc_rua(const struct smtprobe_dc_facts *f,
                      struct smtprobe_dc_report *r, const struct dmarc_view *v)
{
	struct smtprobe_dc_check *c = jd_row(r, "dmarc.rua_external_auth");
	const char *org = f->org_domain[0] ? f->org_domain : f->domain;
	size_t nbad = 0, nunk = 0, next = 0;

	if (v->state != DM_ONE || v->d.nrua == 0) {
		jd_set(c, SMTPROBE_DC_SKIP, "%s",
		       v->state != DM_ONE ? "no single DMARC record"
		                          : "no rua=: no aggregate reports are "
		                            "asked for");
		if (v->state == DM_ONE && !jd_takes_no_mail(f))
			jd_fix(c, "add 'rua=mailto:dmarc@%s' to the record to "
			          "learn who sends as %s",
			       v->owner, v->owner);
		return;
	}
	jd_set(c, SMTPROBE_DC_PASS, "every report address is inside %s", org);
	for (size_t i = 0; i < v->d.nrua; i++) {
		const struct smtprobe_report_uri *u = &v->d.rua[i];
		char dom[SMTPROBE_DNSREC_MAX_NAME + 1];
		size_t k;

		if (u->scheme != SMTPROBE_URI_MAILTO || u->domain.len == 0 ||
		    u->domain.len > SMTPROBE_DNSREC_MAX_NAME)
			continue;
		snprintf(dom, sizeof(dom), "%.*s", (int)u->domain.len,
		         v->rec.data + u->domain.off);
		if (jd_in_domain(dom, org) || jd_in_domain(dom, v->owner))
			continue;
		next++;
		for (k = 0; k < f->nrua && k < SMTPROBE_DC_MAX_RUA; k++)
			if (smtprobe_dnsrec_domain_eq(f->rua_domain[k],
			                              strlen(f->rua_domain[k]),
			                              dom, strlen(dom)))
				break;
		if (k == f->nrua || k == SMTPROBE_DC_MAX_RUA) {
			nunk++;
			continue;
		}
		struct smtprobe_txt txt[SMTPROBE_DC_MAX_RECORDS];
		enum jd_kind kind = jd_kind(&f->rua_auth[k]);

		if (kind == JD_DATA &&
		    smtprobe_dmarc_report_auth(txt, jd_txts(&f->rua_auth[k], txt)))
			continue;
		if (kind == JD_FAILED || kind == JD_BOGUS ||
		    kind == JD_UNASKED) {
			nunk++;
			continue;
		}
		if (nbad++ == 0)
			jd_set(c, SMTPROBE_DC_FAIL, "not authorised:");
		jd_text(c, " %s does not accept reports for %s (no TXT "
		           "\"v=DMARC1\" at %s._report._dmarc.%s, RFC 7489 "
		           "§7.1);",
		        dom, v->owner, v->owner, dom);
		jd_fix(c, "%s%s's owner publishes '%s._report._dmarc.%s TXT "
		          "\"v=DMARC1\"' (or '*._report._dmarc.%s' for every "
		          "domain)",
		       nbad > 1 ? "; " : "", dom, v->owner, dom, dom);
	}
	if (nbad) {
		jd_text(c, " receivers drop these reports");
		jd_fix(c, ", or send the reports to an address @%s", v->owner);
	} else if (nunk) {
		jd_set(c, SMTPROBE_DC_WARN,
		       "could not tell for %zu of %zu external report "
		       "domains: their _report._dmarc lookup failed or was "
		       "not made",
		       nunk, next);
	} else if (next) {
		jd_set(c, SMTPROBE_DC_PASS, "the %zu external report domain%s "
		                            "authorise%s reports for %s",
		       next, next == 1 ? "" : "s", next == 1 ? "s" : "",
		       v->owner);
	}
}

/* ---- DKIM ---- */

static const struct {
	enum smtprobe_dc_status status;
	const char *text;
} dkim_tab[] = {
        [SMTPROBE_DKIM_C_INVALID] = {SMTPROBE_DC_FAIL,
                                     "verifiers cannot use the key"},
        [SMTPROBE_DKIM_C_REVOKED] =
                {SMTPROBE_DC_WARN,
                 "revoked (empty p=): signatures with this selector fail "
                 "(RFC 6376 §3.6.1); right for a retired selector, wrong "
                 "if your server still signs with it"},
        [SMTPROBE_DKIM_C_UNUSABLE] = {SMTPROBE_DC_FAIL,
                                      "not usable for mail: s= without "
                                      "email, or h= without sha256 (RFC "
                                      "8301 forbids sha1)"},
        [SMTPROBE_DKIM_C_TOO_WEAK] = {SMTPROBE_DC_FAIL,
                                      "under 1024 bits: verifiers must "
                                      "refuse it (RFC 8301 §3.2)"},
        [SMTPROBE_DKIM_C_WEAK] = {SMTPROBE_DC_WARN,
                                  "under 2048 bits: RFC 8301 asks for "
                                  "2048, and some verifiers refuse less"},
        [SMTPROBE_DKIM_C_TESTING] = {SMTPROBE_DC_WARN,
                                     "t=y (testing): verifiers may treat "
                                     "the signatures as absent"},
        [SMTPROBE_DKIM_C_GOOD] = {SMTPROBE_DC_PASS, "good"},
};

static void dkim_rotate(struct smtprobe_dc_check *c, const char *d,
                        const char *sel)
{
	jd_fix(c, "make a 2048-bit key under a new selector (opendkim-genkey "
	          "-b 2048 -d %s -s s2; Exim: openssl genrsa 2048), publish "
	          "'s2._domainkey.%s TXT \"v=DKIM1; k=rsa; p=<public key>\"', "
	          "switch the signer (OpenDKIM for Postfix: KeyTable; Exim: "
	          "dkim_selector, dkim_private_key), then publish "
	          "'%s._domainkey.%s TXT \"v=DKIM1; p=\"'",
	       d, d, sel, d);
}

static void dkim_key(const struct smtprobe_dc_facts *f, size_t i,
                     struct smtprobe_dc_report *r)
{
	struct smtprobe_dc_check *c = jd_row(r, "dkim.key");
	const char *sel = f->selector[i], *d = f->domain;
	const struct smtprobe_dc_answer *a = &f->dkim[i];
	struct smtprobe_dkim_key k;
	enum smtprobe_dkim_class cls;
	char what[400];

	snprintf(c->selector, sizeof(c->selector), "%s", sel);
	snprintf(what, sizeof(what), "TXT at %s._domainkey.%s", sel, d);
	if (jd_unusable(c, a, what))
		return;
	if (jd_kind(a) != JD_DATA) {
		jd_set(c, SMTPROBE_DC_FAIL,
		       "no key at %s._domainkey.%s: mail signed with s=%s "
		       "fails DKIM (key not found)",
		       sel, d, sel);
		jd_fix(c, "publish the signer's public key: '%s._domainkey.%s "
		          "TXT \"v=DKIM1; k=rsa; p=<base64>\"' (opendkim-genkey "
		          "-b 2048 -d %s -s %s writes it to %s.txt)",
		       sel, d, d, sel, sel);
		return;
	}
	smtprobe_dkim_key_parse(a->rec[0], strnlen(a->rec[0], sizeof(a->rec[0])),
	                        &k);
	cls = smtprobe_dkim_key_class(&k);
	if (cls == SMTPROBE_DKIM_C_INVALID)
		jd_set(c, dkim_tab[cls].status, "%s: %s", k.error.text,
		       dkim_tab[cls].text);
	else if (cls == SMTPROBE_DKIM_C_REVOKED)
		jd_set(c, dkim_tab[cls].status, "%s", dkim_tab[cls].text);
	else
		jd_set(c, dkim_tab[cls].status, "%s %d bits: %s",
		       smtprobe_dkim_ktype_name(k.ktype), k.bits,
		       dkim_tab[cls].text);
	if (cls == SMTPROBE_DKIM_C_GOOD && k.ktype == SMTPROBE_DKIM_K_ED25519)
		jd_text(c, " (verifiers without RFC 8463 ignore ed25519: sign "
		           "with an RSA key too)");
	if (a->n > 1) {
		jd_worse(c, SMTPROBE_DC_WARN);
		jd_text(c, "; %zu TXT records at the selector: verifiers may "
		           "read any (RFC 6376 §3.6.2.2)",
		        a->n);
	}
	switch (cls) {
	case SMTPROBE_DKIM_C_REVOKED:
		jd_fix(c, "if mail is still signed with %s, switch the signer "
		          "to a live selector (OpenDKIM: KeyTable; Exim: "
		          "dkim_selector); else nothing to do",
		       sel);
		break;
	case SMTPROBE_DKIM_C_TESTING:
		jd_fix(c, "remove t=y from %s._domainkey.%s", sel, d);
		break;
	case SMTPROBE_DKIM_C_UNUSABLE:
		jd_fix(c, "remove s= and h= from %s._domainkey.%s (or s=email, "
		          "h=sha256)",
		       sel, d);
		break;
	case SMTPROBE_DKIM_C_GOOD:
		break;
	default:
		dkim_rotate(c, d, sel);
		break;
	}
}

void jd_auth(const struct smtprobe_dc_facts *f, struct smtprobe_dc_report *r)
{
	struct spf_view v;
	struct dmarc_view dm;

	spf_view(f, &v);
	spf_present(f, r, &v);
	spf_multiple(f, r, &v);
	spf_syntax(f, r, &v);
	spf_limit(f, r, &v, &limits[0], f->spf_lookups);
	spf_limit(f, r, &v, &limits[1], f->spf_voids);
	spf_all(f, r, &v);
	spf_result(f, r, &v);
	dmarc_present(f, r, &dm);
	dmarc_multiple(r, &dm);
	dmarc_syntax(f, r, &dm);
	dmarc_policy(r, &dm);
	dmarc_rua(f, r, &dm);
	if (f->nsel == 0) {
		jd_set(jd_row(r, "dkim.key"), SMTPROBE_DC_SKIP,
		       "no --dkim-selector given: selectors cannot be listed "
		       "from DNS");
		return;
	}
	for (size_t i = 0; i < f->nsel && i < SMTPROBE_DC_MAX_SELECTORS; i++)
		dkim_key(f, i, r);
}
