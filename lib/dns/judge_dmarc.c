/* judge_dmarc.c - DMARC and DKIM in the judgement of `smtprobe dns`
 * (dnscheck.h): dmarc.present (the organisational domain's record when
 * the domain has none), dmarc.multiple, dmarc.syntax, dmarc.policy (p=none
 * and pct<100 warn, sp/np=none warn), dmarc.rua_external_auth (RFC 7489
 * §7.1: reports to another organisation need its _report._dmarc record),
 * and dkim.key once per selector (RSA under 1024 bits fail, under 2048
 * warn, t=y warn, revoked warn: a retired selector is revoked on purpose).
 *
 * Pure: no I/O, no allocation. Records are read with dnsrec.h; a fix
 * quotes the record to publish, rewritten from the one found (p= raised,
 * pct= and sp/np=none dropped) when it fits JD_REC_MAX. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "judge_int.h"

#include "banned.h"

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
		jd_fix(c,
		       "publish '_dmarc.%s TXT \"v=DMARC1; p=quarantine; "
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
	v->state = v->count == 0  ? DM_NONE
	           : v->count > 1 ? DM_MULTIPLE
	                          : DM_ONE;
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
		jd_set(c, SMTPROBE_DC_PASS,
		       "no record at _dmarc.%s; the "
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
		jd_fix(c,
		       "keep one '_dmarc.%s TXT \"v=DMARC1; ...\"' and "
		       "delete the others",
		       v->owner);
	} else
		jd_set(c, SMTPROBE_DC_SKIP,
		       "no DMARC record (see dmarc.present)");
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
			n = snprintf(out + o, outsz - o, "%sp=%s",
			             i ? "; " : "", p);
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
	char out[JD_REC_MAX];

	if (v->state != DM_ONE) {
		jd_set(c, SMTPROBE_DC_SKIP,
		       "no single DMARC record (see "
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
			jd_fix(c,
			       "publish '_dmarc.%s TXT \"%s\"' (p= is none, "
			       "quarantine or reject)",
			       v->owner, out);
			return;
		}
	} else {
		jd_text(c, ": receivers apply no policy");
	}
	dmarc_example(f, c);
}

static void dmarc_policy(const struct smtprobe_dc_facts *f,
                         struct smtprobe_dc_report *r,
                         const struct dmarc_view *v)
{
	struct smtprobe_dc_check *c = jd_row(r, "dmarc.policy");
	const struct smtprobe_dmarc *d = &v->d;
	enum smtprobe_dmarc_policy p = v->from_org ? d->sp : d->p;
	int weak_sub = 0;
	char out[JD_REC_MAX];

	if (v->state != DM_ONE || v->rc != 0) {
		jd_set(c, SMTPROBE_DC_SKIP,
		       "no valid DMARC record (see "
		       "dmarc.syntax)");
		return;
	}
	jd_set(c,
	       p == SMTPROBE_DMARC_P_NONE ? SMTPROBE_DC_WARN : SMTPROBE_DC_PASS,
	       "%s=%s", v->from_org ? "sp" : "p",
	       smtprobe_dmarc_policy_name(p));
	jd_text(c, " (sp=%s, np=%s, pct=%u)", smtprobe_dmarc_policy_name(d->sp),
	        smtprobe_dmarc_policy_name(d->np), d->pct);
	if (p == SMTPROBE_DMARC_P_NONE)
		jd_text(c, ": monitoring only, receivers deliver mail that "
		           "fails DMARC as if there were no policy");
	if (d->pct < 100) {
		jd_worse(c, SMTPROBE_DC_WARN);
		jd_text(c,
		        "; pct=%u: only that share of failing mail gets the "
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
	if (c->status == SMTPROBE_DC_PASS)
		return;
	if (v->from_org) {
		jd_fix(c,
		       "publish a record of its own, '_dmarc.%s TXT "
		       "\"v=DMARC1; p=quarantine\"', or raise sp= in "
		       "_dmarc.%s",
		       f->domain, v->owner);
		return;
	}
	dmarc_rewrite(out, sizeof(out), v,
	              p == SMTPROBE_DMARC_P_NONE ? "quarantine" : NULL,
	              d->pct < 100, weak_sub);
	if (out[0])
		jd_fix(c,
		       "publish '_dmarc.%s TXT \"%s\"' once the reports "
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
			jd_fix(c,
			       "add 'rua=mailto:dmarc@%s' to the record to "
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
		    smtprobe_dmarc_report_auth(txt,
		                               jd_txts(&f->rua_auth[k], txt)))
			continue;
		if (kind == JD_FAILED || kind == JD_BOGUS ||
		    kind == JD_UNASKED) {
			nunk++;
			continue;
		}
		if (nbad++ == 0)
			jd_set(c, SMTPROBE_DC_FAIL, "not authorised:");
		jd_text(c,
		        " %s does not accept reports for %s (no TXT "
		        "\"v=DMARC1\" at %s._report._dmarc.%s, RFC 7489 "
		        "§7.1);",
		        dom, v->owner, v->owner, dom);
		jd_fix(c,
		       "%s%s's owner publishes '%s._report._dmarc.%s TXT "
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
		jd_set(c, SMTPROBE_DC_PASS,
		       "the %zu external report domain%s "
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
	jd_fix(c,
	       "make a 2048-bit key under a new selector (opendkim-genkey "
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
		jd_fix(c,
		       "publish the signer's public key: '%s._domainkey.%s "
		       "TXT \"v=DKIM1; k=rsa; p=<base64>\"' (opendkim-genkey "
		       "-b 2048 -d %s -s %s writes it to %s.txt)",
		       sel, d, d, sel, sel);
		return;
	}
	smtprobe_dkim_key_parse(a->rec[0], strlen(a->rec[0]), &k);
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
		jd_text(c,
		        "; %zu TXT records at the selector: verifiers may "
		        "read any (RFC 6376 §3.6.2.2)",
		        a->n);
	}
	switch (cls) {
	case SMTPROBE_DKIM_C_REVOKED:
		jd_fix(c,
		       "if mail is still signed with %s, switch the signer "
		       "to a live selector (OpenDKIM: KeyTable; Exim: "
		       "dkim_selector); else nothing to do",
		       sel);
		break;
	case SMTPROBE_DKIM_C_TESTING:
		jd_fix(c, "remove t=y from %s._domainkey.%s", sel, d);
		break;
	case SMTPROBE_DKIM_C_UNUSABLE:
		jd_fix(c,
		       "remove s= and h= from %s._domainkey.%s (or s=email, "
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

void jd_dmarc_dkim(const struct smtprobe_dc_facts *f,
                   struct smtprobe_dc_report *r)
{
	struct dmarc_view dm;

	dmarc_present(f, r, &dm);
	dmarc_multiple(r, &dm);
	dmarc_syntax(f, r, &dm);
	dmarc_policy(f, r, &dm);
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
