/* judge_tls.c - how senders are made to use TLS with the domain's MX, for
 * `smtprobe dns` (dnscheck.h): mta_sts.record (one valid v=STSv1 record),
 * mta_sts.policy (fetched over HTTPS without redirects, 200, text/plain,
 * parsed; mode enforce pass, testing warn, none info; a record without a
 * policy or a policy without a record fail), mta_sts.mx_match,
 * tlsrpt.present and dane.tlsa (TLSA records trusted only when the TLSA,
 * MX and address answers are DNSSEC-secure; usages 0/1 ignored on port
 * 25, RFC 7672 §3.1.3).
 *
 * With connections (facts.connect), the chain each MX address sent is
 * judged against its usable records (the match is OpenSSL's, made during
 * the handshake, mx_connect.c): no match, or no TLS, is a fail, with the
 * record of the key in use as the fix.
 *
 * Pure: no I/O, no allocation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "judge_int.h"

#include "banned.h"

#define STS_MIN_AGE 86400UL /* RFC 8461 §3.2 expects weeks */

/* ---- MTA-STS and TLS-RPT ---- */

enum rec_state { REC_UNTRUSTED, REC_NONE, REC_BAD, REC_OK };

struct sts_view {
	enum rec_state record;
	int usable; /* the policy: fetched, 200, text/plain, parsed */
	struct smtprobe_mtasts_policy p;
};

static int text_plain(const char *ct)
{
	size_t n = strlen("text/plain");

	return strncasecmp(ct, "text/plain", n) == 0 &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static void mta_sts_record(const struct smtprobe_dc_facts *f,
                           struct smtprobe_dc_report *r, struct sts_view *v)
{
	struct smtprobe_dc_check *c = jd_row(r, "mta_sts.record");
	struct smtprobe_txt txt[SMTPROBE_DC_MAX_RECORDS];
	struct smtprobe_mtasts_record rec;
	size_t n, first = 0, count;
	const char *d = f->domain;
	char what[300], q[JD_QUOTE];

	snprintf(what, sizeof(what), "TXT at _mta-sts.%s", d);
	v->record = REC_UNTRUSTED;
	if (jd_unusable(c, &f->sts, what))
		return;
	n = jd_txts(&f->sts, txt);
	count = smtprobe_mtasts_select(txt, n, &first);
	v->record = count == 0 ? REC_NONE : count > 1 ? REC_BAD : REC_OK;
	if (count == 0 && jd_takes_no_mail(f)) {
		jd_set(c, SMTPROBE_DC_SKIP,
		       "no MTA-STS record: a domain that "
		       "takes no mail needs none");
	} else if (count == 0) {
		jd_set(c, SMTPROBE_DC_INFO,
		       "no MTA-STS record at _mta-sts.%s: senders use TLS "
		       "only if offered, and an attacker on the path can "
		       "strip STARTTLS",
		       d);
		jd_fix(c,
		       "publish '_mta-sts.%s TXT \"v=STSv1; "
		       "id=20260101T000000\"' and serve https://mta-sts.%s"
		       "/.well-known/mta-sts.txt as text/plain: 'version: "
		       "STSv1', 'mode: testing', one 'mx: HOST' per MX, "
		       "'max_age: 604800' (mode: enforce once TLS-RPT reports "
		       "are clean)",
		       d, d);
	} else if (count > 1) {
		jd_set(c, SMTPROBE_DC_FAIL,
		       "%zu MTA-STS records: senders apply no policy (RFC "
		       "8461 §3.1)",
		       count);
		jd_fix(c, "keep one '_mta-sts.%s TXT \"v=STSv1; id=...\"'", d);
	} else if (smtprobe_mtasts_record_parse(txt[first].data, txt[first].len,
	                                        &rec) < 0) {
		v->record = REC_BAD;
		jd_set(c, SMTPROBE_DC_FAIL, "%s; senders ignore the record",
		       rec.error.text);
		jd_fix(c,
		       "publish '_mta-sts.%s TXT \"v=STSv1; "
		       "id=20260101T000000\"' (id: 1 to 32 letters and "
		       "digits, changed with every policy change)",
		       d);
	} else {
		jd_set(c, SMTPROBE_DC_PASS, "%s",
		       jd_quote(q, sizeof(q), txt[first].data, txt[first].len));
		if (rec.duplicates)
			jd_text(c, " (a tag twice: the first counts)");
	}
}

static void mta_sts_policy(const struct smtprobe_dc_facts *f,
                           struct smtprobe_dc_report *r, struct sts_view *v)
{
	struct smtprobe_dc_check *c = jd_row(r, "mta_sts.policy");
	const char *d = f->domain;
	char url[300], q[JD_QUOTE];

	v->usable = 0;
	snprintf(url, sizeof(url), "https://mta-sts.%s/.well-known/mta-sts.txt",
	         d);
	if (v->record == REC_UNTRUSTED) {
		jd_set(c, SMTPROBE_DC_SKIP,
		       "no trusted MTA-STS record (see "
		       "mta_sts.record)");
		return;
	}
	if (!f->sts_fetched) {
		jd_set(c, SMTPROBE_DC_SKIP, "%s",
		       v->record == REC_NONE ? "no MTA-STS record"
		                             : "the policy was not fetched");
		return;
	}
	if (f->sts_error[0] || f->http_status != 200) {
		if (v->record == REC_NONE) {
			jd_set(c, SMTPROBE_DC_SKIP,
			       "no MTA-STS record and no "
			       "policy");
			return;
		}
		if (f->sts_error[0])
			jd_set(c, SMTPROBE_DC_FAIL, "%s: %s", url,
			       jd_quote(q, sizeof(q), f->sts_error,
			                strlen(f->sts_error)));
		else
			jd_set(c, SMTPROBE_DC_FAIL, "%s answered HTTP %ld", url,
			       f->http_status);
		if (f->http_status >= 300 && f->http_status < 400)
			jd_text(c, " (a redirect: senders must not follow "
			           "it, RFC 8461 §3.3)");
		jd_text(c, "; a record without a policy: senders apply none");
		jd_fix(c,
		       "serve the policy at %s itself (HTTPS with a "
		       "certificate valid for mta-sts.%s, status 200, "
		       "Content-Type: text/plain), or remove the "
		       "_mta-sts.%s record",
		       url, d, d);
		return;
	}
	if (!text_plain(f->content_type)) {
		jd_set(c, SMTPROBE_DC_FAIL,
		       "%s is served as '%s', not text/plain: senders discard "
		       "it (RFC 8461 §3.2)",
		       url,
		       jd_quote(q, sizeof(q), f->content_type,
		                strlen(f->content_type)));
		jd_fix(c, "nginx: 'location = /.well-known/mta-sts.txt { "
		          "default_type text/plain; }'; Apache: 'AddType "
		          "text/plain .txt'");
		return;
	}
	if (!f->sts_policy ||
	    smtprobe_mtasts_policy_parse(f->sts_policy, f->sts_policy_len,
	                                 &v->p) < 0) {
		jd_set(c, SMTPROBE_DC_FAIL, "%s: %s", url,
		       f->sts_policy ? v->p.error.text : "empty");
		if (f->sts_policy && v->p.error.line)
			jd_text(c, " (line %u)", v->p.error.line);
		jd_fix(c, "serve lines 'version: STSv1', 'mode: enforce', "
		          "'mx: HOST' per MX, 'max_age: 604800' (RFC 8461 "
		          "§3.2)");
		return;
	}
	v->usable = 1;
	if (v->record == REC_NONE) {
		jd_set(c, SMTPROBE_DC_FAIL,
		       "a policy (mode %s) is served but no _mta-sts "
		       "record announces it: new senders never fetch it, "
		       "those that cached it keep it until max_age",
		       smtprobe_mtasts_mode_name(v->p.mode));
		jd_fix(c,
		       "publish '_mta-sts.%s TXT \"v=STSv1; "
		       "id=20260101T000000\"', or to withdraw MTA-STS serve "
		       "'mode: none' for max_age, then remove both (RFC "
		       "8461 §8.3)",
		       d);
		return;
	}
	switch (v->p.mode) {
	case SMTPROBE_MTASTS_ENFORCE:
		jd_set(c, SMTPROBE_DC_PASS,
		       "mode enforce, max_age %lu s, %zu mx "
		       "pattern%s",
		       v->p.max_age, v->p.nmx, v->p.nmx == 1 ? "" : "s");
		break;
	case SMTPROBE_MTASTS_TESTING:
		jd_set(c, SMTPROBE_DC_WARN,
		       "mode testing: senders report TLS failures (TLS-RPT) "
		       "but "
		       "still deliver without TLS");
		jd_fix(c,
		       "once the TLS-RPT reports are clean, serve 'mode: "
		       "enforce' and change the id= of _mta-sts.%s",
		       d);
		break;
	default:
		jd_set(c, SMTPROBE_DC_INFO,
		       "mode none: MTA-STS is being "
		       "withdrawn; senders apply nothing");
		break;
	}
	if (v->record == REC_BAD)
		jd_text(c, "; but senders find no valid record to announce it "
		           "(see mta_sts.record)");
	if (v->p.max_age < STS_MIN_AGE) {
		jd_worse(c, SMTPROBE_DC_WARN);
		jd_text(c,
		        "; max_age %lu s is under a day: a policy that "
		        "expires fast leaves senders unprotected (RFC 8461 "
		        "§3.2 expects weeks)",
		        v->p.max_age);
		jd_fix(c, "%sserve 'max_age: 604800' or more",
		       c->fix[0] ? "; " : "");
	}
}

static void mta_sts_mx_match(const struct smtprobe_dc_facts *f,
                             struct smtprobe_dc_report *r,
                             const struct sts_view *v)
{
	struct smtprobe_dc_check *c = jd_row(r, "mta_sts.mx_match");
	int enforce = v->p.mode == SMTPROBE_MTASTS_ENFORCE;
	size_t nbad = 0;
	const char *bad = "";

	if (!v->usable) {
		jd_set(c, SMTPROBE_DC_SKIP,
		       "no usable MTA-STS policy (see "
		       "mta_sts.policy)");
		return;
	}
	if (v->p.mode == SMTPROBE_MTASTS_NONE) {
		jd_set(c, SMTPROBE_DC_SKIP, "mode none: senders match nothing");
		return;
	}
	if (!jd_have_hosts(f, c))
		return;
	jd_set(c, SMTPROBE_DC_PASS,
	       "every MX matches an mx: pattern of the "
	       "policy");
	for (size_t i = 0; i < jd_nmx(f); i++) {
		const char *h = f->mxs[i].host;

		if (smtprobe_mtasts_policy_match(&v->p, f->sts_policy, h,
		                                 strlen(h)) >= 0)
			continue;
		if (nbad++ == 0)
			jd_set(c, enforce ? SMTPROBE_DC_FAIL : SMTPROBE_DC_WARN,
			       "no mx: pattern matches:");
		bad = h;
		jd_text(c, " %s;", h);
		jd_fix(c, "%s'mx: %s'", nbad > 1 ? ", " : "add to the policy ",
		       h);
	}
	if (nbad) {
		jd_text(c, " %s (RFC 8461 §4.1)",
		        enforce ? "senders that enforce the policy refuse to "
		                  "deliver to them"
		                : "in mode testing senders only report it; "
		                  "enforce would stop the mail");
		jd_fix(c,
		       ", then change the id= of _mta-sts.%s so that "
		       "senders fetch it again",
		       f->domain);
	}
	jd_one_host(c, f, nbad, bad);
}

/* MTA-STS announced, or a secure TLSA record: TLS-RPT is worth more */
static int tls_policy_in_use(const struct smtprobe_dc_facts *f,
                             const struct sts_view *v)
{
	if (v->record == REC_OK)
		return 1;
	for (size_t i = 0; i < jd_nmx(f); i++)
		if (jd_kind(&f->mxs[i].tlsa) == JD_DATA &&
		    f->mxs[i].tlsa.dnssec == SMTPROBE_DNSSEC_SECURE)
			return 1;
	return 0;
}

static void tlsrpt_present(const struct smtprobe_dc_facts *f,
                           struct smtprobe_dc_report *r,
                           const struct sts_view *v)
{
	struct smtprobe_dc_check *c = jd_row(r, "tlsrpt.present");
	struct smtprobe_txt txt[SMTPROBE_DC_MAX_RECORDS];
	struct smtprobe_tlsrpt t;
	size_t n, first = 0, count;
	const char *d = f->domain;
	char what[300], q[JD_QUOTE];

	snprintf(what, sizeof(what), "TXT at _smtp._tls.%s", d);
	if (jd_unusable(c, &f->tlsrpt, what))
		return;
	n = jd_txts(&f->tlsrpt, txt);
	count = smtprobe_tlsrpt_select(txt, n, &first);
	if (count == 0 && jd_takes_no_mail(f)) {
		jd_set(c, SMTPROBE_DC_SKIP,
		       "no TLS-RPT record: a domain that "
		       "takes no mail needs none");
	} else if (count == 0) {
		jd_set(c,
		       tls_policy_in_use(f, v) ? SMTPROBE_DC_WARN
		                               : SMTPROBE_DC_INFO,
		       "no TLS-RPT record at _smtp._tls.%s: you do not hear "
		       "of senders failing TLS to your MX (RFC 8460)%s",
		       d,
		       tls_policy_in_use(f, v) ? ", which MTA-STS or DANE "
		                                 "makes them refuse"
		                               : "");
		jd_fix(c,
		       "publish '_smtp._tls.%s TXT \"v=TLSRPTv1; "
		       "rua=mailto:tlsrpt@%s\"'",
		       d, d);
	} else if (count > 1) {
		jd_set(c, SMTPROBE_DC_FAIL,
		       "%zu TLS-RPT records: senders send "
		       "no reports (RFC 8460 §3)",
		       count);
		jd_fix(c,
		       "keep one '_smtp._tls.%s TXT \"v=TLSRPTv1; "
		       "rua=...\"'",
		       d);
	} else if (smtprobe_tlsrpt_parse(txt[first].data, txt[first].len, &t) <
	           0) {
		jd_set(c, SMTPROBE_DC_FAIL, "%s; senders send no reports",
		       t.error.text);
		jd_fix(c,
		       "publish '_smtp._tls.%s TXT \"v=TLSRPTv1; "
		       "rua=mailto:tlsrpt@%s\"'",
		       d, d);
	} else {
		jd_set(c, SMTPROBE_DC_PASS, "%s",
		       jd_quote(q, sizeof(q), txt[first].data, txt[first].len));
	}
}

/* ---- DANE ---- */

/* "USAGE SELECTOR TYPE HEX": usable on port 25 (RFC 7672 §3.1.3: usages
 * 2 and 3 only; a known selector and matching type, a digest of the
 * right length) */
static int tlsa_usable(const char *rec, unsigned long *usage)
{
	unsigned long sel, mt;
	char *e1, *e2, *e3;
	size_t hex;

	*usage = strtoul(rec, &e1, 10);
	sel = strtoul(e1, &e2, 10);
	mt = strtoul(e2, &e3, 10);
	if (e1 == rec || e2 == e1 || e3 == e2 || *e3 != ' ')
		return 0;
	hex = strspn(e3 + 1, "0123456789abcdefABCDEF");
	if (e3[1 + hex] != '\0' || hex == 0 || sel > 1 || mt > 2 ||
	    (mt == 1 && hex != 64) || (mt == 2 && hex != 128))
		return 0;
	return *usage == 2 || *usage == 3;
}

/* The chain each address of m sent (facts.connect) against the records
 * OpenSSL could use: a mismatch or no TLS is a fail (RFC 7672 §2.2: DANE
 * senders defer); how many addresses were compared goes to *compared. */
static void dane_live(const struct smtprobe_dc_mx *m,
                      struct smtprobe_dc_check *c, size_t *compared)
{
	for (size_t j = 0; j < m->naddr; j++) {
		const struct smtprobe_dc_smtp *s = &m->addr[j].smtp;
		const char *a = m->addr[j].addr;
		if (!s->tried || s->banner_code != 220)
			continue;
		(*compared)++;
		if (!s->starttls || !s->tls) {
			jd_worse(c, SMTPROBE_DC_FAIL);
			jd_text(c,
			        " %s (%s): %s, and DANE senders defer mail "
			        "without TLS;",
			        m->host, a,
			        s->starttls ? "the TLS handshake fails"
			                    : "no STARTTLS");
			jd_fix(c,
			       "make STARTTLS work on %s (see mx.starttls); ",
			       m->host);
		} else if (s->dane_checked && s->dane_match) {
			jd_text(c, " %s (%s): the %s matches TLSA %d %d %d;",
			        m->host, a,
			        s->dane_depth == 0 ? "certificate" : "chain",
			        s->dane_usage, s->dane_selector, s->dane_mtype);
		} else {
			jd_worse(c, SMTPROBE_DC_FAIL);
			jd_text(c,
			        " %s (%s): the certificate it sends matches no "
			        "TLSA record: DANE senders defer mail to it;",
			        m->host, a);
			if (s->spki_sha256[0])
				jd_fix(c,
				       "publish '_25._tcp.%s. TLSA 3 1 1 %s' "
				       "(the key it uses now) beside the "
				       "records there, or go back to the key "
				       "they name; ",
				       m->host, s->spki_sha256);
			else
				jd_fix(c,
				       "publish '_25._tcp.%s. TLSA 3 1 1 "
				       "<SHA-256 "
				       "of the key it uses now>'; ",
				       m->host);
		}
	}
}

static void dane_host(const struct smtprobe_dc_facts *f,
                      const struct smtprobe_dc_mx *m,
                      struct smtprobe_dc_check *c, size_t *compared)
{
	const struct smtprobe_dc_answer *t = &m->tlsa;
	size_t usable = 0, pkix = 0, n;
	unsigned long usage;
	char why[JD_QUOTE + 32];

	switch (jd_kind(t)) {
	case JD_UNASKED:
		return;
	case JD_BOGUS:
		jd_worse(c, SMTPROBE_DC_FAIL);
		jd_text(c,
		        " %s: the TLSA answer is bogus (%s): DANE senders "
		        "defer mail to it (RFC 7672 §2.2);",
		        m->host, jd_problem(why, sizeof(why), t));
		jd_fix(c,
		       "fix the signatures of _25._tcp.%s (see "
		       "dnssec.status); ",
		       m->host);
		return;
	case JD_FAILED:
		jd_worse(c, SMTPROBE_DC_WARN);
		jd_text(c, " %s: could not tell, TLSA lookup %s;", m->host,
		        jd_problem(why, sizeof(why), t));
		return;
	case JD_NXDOMAIN:
	case JD_EMPTY:
		jd_worse(c, SMTPROBE_DC_INFO);
		jd_text(c, " %s: no TLSA, DANE not used%s;", m->host,
		        t->dnssec == SMTPROBE_DNSSEC_SECURE ? ""
		                                            : " (zone not "
		                                              "signed)");
		return;
	default:
		break;
	}
	if (t->dnssec != SMTPROBE_DNSSEC_SECURE ||
	    f->mx.dnssec != SMTPROBE_DNSSEC_SECURE ||
	    (m->a.dnssec != SMTPROBE_DNSSEC_SECURE &&
	     m->aaaa.dnssec != SMTPROBE_DNSSEC_SECURE)) {
		jd_worse(c, SMTPROBE_DC_WARN);
		jd_text(c,
		        " %s: TLSA not used: %s not signed, and DANE needs "
		        "DNSSEC (RFC 7672 §2.2);",
		        m->host,
		        t->dnssec != SMTPROBE_DNSSEC_SECURE ? "the zone is"
		        : f->mx.dnssec != SMTPROBE_DNSSEC_SECURE
		                ? "the MX record set is"
		                : "the host's addresses are");
		jd_fix(c,
		       "sign the zone of %s and publish its DS (or remove "
		       "the TLSA records); ",
		       t->dnssec != SMTPROBE_DNSSEC_SECURE ? m->host
		                                           : f->domain);
		return;
	}
	n = t->n < SMTPROBE_DC_MAX_RECORDS ? t->n : SMTPROBE_DC_MAX_RECORDS;
	for (size_t i = 0; i < n; i++) {
		if (tlsa_usable(t->rec[i], &usage))
			usable++;
		else if (usage <= 1)
			pkix++;
	}
	if (usable == 0) {
		jd_worse(c, SMTPROBE_DC_WARN);
		jd_text(c,
		        " %s: no usable TLSA record%s: DANE senders insist "
		        "on TLS but authenticate nothing (RFC 7672 §2.2);",
		        m->host,
		        pkix ? " (usages 0/1 are ignored on port 25, RFC 7672 "
		               "§3.1.3)"
		             : "");
		jd_fix(c,
		       "publish '_25._tcp.%s. TLSA 3 1 1 <SHA-256 of the "
		       "server key's SPKI>'; ",
		       m->host);
		return;
	}
	jd_worse(c, SMTPROBE_DC_PASS);
	jd_text(c, " %s: %zu usable TLSA record%s%s%s;", m->host, usable,
	        usable == 1 ? "" : "s",
	        n > usable ? " (others ignored: usages 0/1 or malformed)" : "",
	        usable == 1 ? ", publish the next key's ahead of a rollover "
	                      "(RFC 7671 §8.1)"
	                    : "");
	if (f->connect)
		dane_live(m, c, compared);
}

static void dane_tlsa(const struct smtprobe_dc_facts *f,
                      struct smtprobe_dc_report *r)
{
	struct smtprobe_dc_check *c = jd_row(r, "dane.tlsa");
	size_t compared = 0;

	if (!jd_have_hosts(f, c))
		return;
	jd_set(c, SMTPROBE_DC_SKIP, "TLSA at _25._tcp.MX:");
	for (size_t i = 0; i < jd_nmx(f); i++)
		dane_host(f, &f->mxs[i], c, &compared);
	if (c->status == SMTPROBE_DC_SKIP)
		jd_text(c, " not looked up");
	else if (c->status == SMTPROBE_DC_PASS && compared == 0)
		jd_text(c, " not compared with the live certificate%s",
		        f->connect ? " (no MX took a session)"
		                   : " (--no-connect)");
	if (c->status == SMTPROBE_DC_INFO)
		jd_fix(c, "to use DANE: sign the zones, publish '_25._tcp.MX. "
		          "TLSA 3 1 1 <SHA-256 of the key's SPKI>' per MX, and "
		          "the next key's before each rollover");
	if (jd_nmx(f) == 1)
		snprintf(c->host, sizeof(c->host), "%s", f->mxs[0].host);
}

void jd_tls(const struct smtprobe_dc_facts *f, struct smtprobe_dc_report *r)
{
	struct sts_view sts;

	memset(&sts, 0, sizeof(sts));
	mta_sts_record(f, r, &sts);
	mta_sts_policy(f, r, &sts);
	mta_sts_mx_match(f, r, &sts);
	tlsrpt_present(f, r, &sts);
	dane_tlsa(f, r);
}
