/* judge_auth.c - SPF in the judgement of `smtprobe dns` (dnscheck.h):
 * spf.present, spf.multiple, spf.syntax, spf.lookups, spf.void_lookups,
 * spf.all and spf.result, from the TXT answer at the domain and the walk
 * and evaluation the collection made. Records are read with spf.h; the
 * fixes quote the record to publish, rewritten from the one found where
 * that is possible (the all term replaced, the sending IP added, several
 * records merged).
 *
 * Pure: no I/O, no allocation. An answer that is DNSSEC-bogus is not
 * read (the rows skip and say so); one that failed makes the row a warn
 * that could not tell. The SPF walk's permerror goes by its code
 * (spf_count_code): over the lookup or void-lookup limit on spf.lookups or
 * spf.void_lookups, two records on spf.multiple, anything else met in an
 * include or redirect on spf.syntax.
 *
 * Limits: a rewritten record longer than JD_REC_MAX is not offered (the
 * fix says what to change instead); texts are cut as judge.c cuts them. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "judge_int.h"
#include "smtprobe/spf.h"

#include "banned.h"

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
static const char *rewrite(char *out, size_t outsz,
                           const struct smtprobe_txt *t, size_t off, size_t del,
                           const char *ins)
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
		return rewrite(out, outsz, t, v->rec.terms[at].text.off, 0,
		               ins);
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
	char what[300], q[JD_QUOTE], rec[JD_REC_MAX];

	snprintf(what, sizeof(what), "TXT at %s", f->domain);
	if (jd_unusable(c, &f->txt, what))
		return;
	if (v->kind == JD_NXDOMAIN) {
		jd_set(c, SMTPROBE_DC_SKIP,
		       "%s does not exist (see mx.present)", f->domain);
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
			jd_text(c,
			        " ('%s' is not one: it must start with "
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
	char out[JD_REC_MAX] = "v=spf1", all[64] = "";
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
		jd_fix(c,
		       "merge them into one record at %s and delete the "
		       "others",
		       f->domain);
}

static int no_record(struct smtprobe_dc_check *c, const struct spf_view *v)
{
	if (v->count == 0)
		jd_set(c, SMTPROBE_DC_SKIP, "no SPF record (see spf.present)");
	else if (v->count > 1)
		jd_set(c, SMTPROBE_DC_SKIP,
		       "no single SPF record (see "
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
		jd_fix(c,
		       "%scorrect or remove that term (RFC 7208 §12 has "
		       "the grammar)",
		       nbad > 1 ? "; " : "");
	}
	if (nbad) {
		jd_text(c, ": receivers stop with permerror, which DMARC "
		           "counts as an SPF failure");
		return;
	}
	if (v->count == 1 && f->spf_counted && f->spf_count_code != 0 &&
	    f->spf_count_code != SMTPROBE_SPF_E_LOOKUPS &&
	    f->spf_count_code != SMTPROBE_SPF_E_VOID &&
	    f->spf_count_code != SMTPROBE_SPF_E_MULTIPLE) {
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
	if (nr == 1)
		jd_set(c, SMTPROBE_DC_PASS, "the record parses");
	else
		jd_set(c, SMTPROBE_DC_PASS, "all %zu records parse", nr);
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
		jd_set(c, SMTPROBE_DC_WARN, "could not count: %s",
		       f->spf_count_error[0]
		               ? jd_quote(q, sizeof(q), f->spf_count_error,
		                          strlen(f->spf_count_error))
		               : "the walk through includes and redirects did "
		                 "not finish");
		return;
	}
	if (n > l->max) {
		jd_set(c, SMTPROBE_DC_FAIL,
		       "%u %s through includes and "
		       "redirects, over the limit of %u "
		       "(RFC 7208 §4.6.4): %s",
		       n, l->what, l->max, l->consequence);
		jd_fix(c, "%s", l->fix);
		return;
	}
	jd_set(c, SMTPROBE_DC_PASS, "%s: %u of at most %u", l->what, n, l->max);
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
	char out[JD_REC_MAX];

	if (no_record(c, v))
		return;
	if (!v->parsed) {
		jd_set(c, SMTPROBE_DC_SKIP,
		       "the record does not parse (see "
		       "spf.syntax)");
		return;
	}
	if (rec->all < 0) {
		if (rec->redirect >= 0) {
			const struct smtprobe_spf_term *rd =
			        &rec->terms[rec->redirect];

			jd_set(c, SMTPROBE_DC_PASS,
			       "no all: '%.*s' decides for "
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
		jd_fix(c,
		       "publish '%s. TXT \"%s\"' (~all while you are not "
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
		jd_text(c,
		        "; redirect= is ignored next to all (RFC 7208 §6.1)");
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
	char q[JD_QUOTE], ip[80], out[JD_REC_MAX];
	size_t i;

	if (!f->spf_evaluated && f->spf_ip[0]) {
		jd_set(c, SMTPROBE_DC_SKIP,
		       "not evaluated for %s: the domain's TXT answer gave no "
		       "SPF record to start from (see spf.present)",
		       f->spf_ip);
		return;
	}
	if (!f->spf_evaluated) {
		jd_set(c, SMTPROBE_DC_SKIP,
		       "no --ip given: SPF is not "
		       "evaluated for a sending address");
		return;
	}
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcmp(tab[i].word, word) == 0)
			break;
	if (i == sizeof(tab) / sizeof(tab[0])) {
		jd_set(c, SMTPROBE_DC_WARN,
		       "%s for %s: not a result of RFC "
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

void jd_spf(const struct smtprobe_dc_facts *f, struct smtprobe_dc_report *r)
{
	struct spf_view v;

	spf_view(f, &v);
	spf_present(f, r, &v);
	spf_multiple(f, r, &v);
	spf_syntax(f, r, &v);
	spf_limit(f, r, &v, &limits[0], f->spf_lookups);
	spf_limit(f, r, &v, &limits[1], f->spf_voids);
	spf_all(f, r, &v);
	spf_result(f, r, &v);
}
