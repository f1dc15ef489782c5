/* judge_smtp.c - what the SMTP connections to the MX addresses showed,
 * for `smtprobe dns` (dnscheck.h, facts.connect): mx.smtp (every address
 * answers 220 and EHLO: pass; some do not: warn, senders go on to the
 * next; none does: fail), mx.starttls (every answering address offers
 * STARTTLS and completes a handshake: pass; not offered: warn, or fail
 * where MTA-STS or usable TLSA records make senders insist on TLS; a
 * handshake that fails: fail; with MTA-STS, a certificate that does not
 * verify or name the MX host: fail), ptr.banner (the banner's host name is a
 * PTR name of the address: pass, else warn; the EHLO name is reported
 * when it differs). The fixes are written for the software the sessions
 * showed (software.h: banner, EHLO keywords, reply wording).
 *
 * Pure: no I/O, no allocation. Without connections (--no-connect) every
 * row is a skip saying so. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "judge_int.h"
#include "smtprobe/software.h"

#include "banned.h"

/* the software the sessions showed (the first one known) */
static enum smtprobe_software software_of(const struct smtprobe_dc_facts *f)
{
	for (size_t i = 0; i < jd_nmx(f); i++)
		for (size_t j = 0; j < f->mxs[i].naddr; j++) {
			int sw = f->mxs[i].addr[j].smtp.software;
			if (sw > SMTPROBE_SW_UNKNOWN && sw < SMTPROBE_SW_LAST)
				return (enum smtprobe_software)sw;
		}
	return SMTPROBE_SW_UNKNOWN;
}

/* connections were made and there is an address to judge; else the row
 * is a skip saying why */
static int have_sessions(const struct smtprobe_dc_facts *f,
                         struct smtprobe_dc_check *c)
{
	size_t n = 0;

	if (!jd_have_hosts(f, c))
		return 0;
	for (size_t i = 0; i < jd_nmx(f); i++)
		n += f->mxs[i].naddr;
	if (!f->connect)
		jd_set(c, SMTPROBE_DC_SKIP,
		       "no SMTP connection (--no-connect)");
	else if (n == 0)
		jd_set(c, SMTPROBE_DC_SKIP,
		       "no MX address to connect to (see mx.resolves)");
	else
		return 1;
	return 0;
}

static int answered(const struct smtprobe_dc_smtp *s)
{
	return s->tried && s->banner_code == 220 && s->ehlo_name[0];
}

static void mx_smtp(const struct smtprobe_dc_facts *f,
                    struct smtprobe_dc_report *r)
{
	struct smtprobe_dc_check *c = jd_row(r, "mx.smtp");
	size_t good = 0, bad = 0;
	const char *badhost = "";

	if (!have_sessions(f, c))
		return;
	jd_set(c, SMTPROBE_DC_SKIP, "port %u:", f->mx_port);
	for (size_t i = 0; i < jd_nmx(f); i++) {
		const struct smtprobe_dc_mx *m = &f->mxs[i];
		for (size_t j = 0; j < m->naddr; j++) {
			const struct smtprobe_dc_smtp *s = &m->addr[j].smtp;
			if (answered(s)) {
				good++;
				jd_text(c, " %s (%s) answers '%s';", m->host,
				        m->addr[j].addr, s->banner);
				continue;
			}
			bad++;
			badhost = m->host;
			if (s->banner_code && s->banner_code != 220)
				jd_text(c, " %s (%s) refuses: '%s';", m->host,
				        m->addr[j].addr, s->banner);
			else
				jd_text(c, " %s (%s): %s;", m->host,
				        m->addr[j].addr,
				        s->why[0] ? s->why : "no EHLO reply");
		}
	}
	if (bad == 0) {
		c->status = SMTPROBE_DC_PASS;
	} else if (good == 0) {
		c->status = SMTPROBE_DC_FAIL;
		jd_text(c, " no MX takes a session: senders queue the mail and "
		           "bounce it after days");
		jd_fix(c,
		       "start the SMTP service on port %u of every MX and "
		       "open the firewall to it (a 554 banner: this "
		       "address is refused, try from another)",
		       f->mx_port);
	} else {
		c->status = SMTPROBE_DC_WARN;
		jd_text(c, " senders go on to another MX, and mail is "
		           "delayed");
		jd_fix(c,
		       "start the SMTP service on port %u of every MX address, "
		       "or remove the addresses that take no mail",
		       f->mx_port);
	}
	jd_one_host(c, f, bad, badhost);
}

/* the domain announces MTA-STS: senders that know it verify the MX
 * certificate (RFC 8461 §4.2) */
static int sts_in_use(const struct smtprobe_dc_facts *f)
{
	struct smtprobe_txt txt[SMTPROBE_DC_MAX_RECORDS];
	size_t first = 0;

	return jd_kind(&f->sts) == JD_DATA &&
	       smtprobe_mtasts_select(txt, jd_txts(&f->sts, txt), &first) == 1;
}

/* senders must use TLS: an MTA-STS record, or a usable TLSA record */
static int tls_required(const struct smtprobe_dc_facts *f)
{
	if (sts_in_use(f))
		return 1;
	for (size_t i = 0; i < jd_nmx(f); i++)
		for (size_t j = 0; j < f->mxs[i].naddr; j++)
			if (f->mxs[i].addr[j].smtp.tlsa_given)
				return 1;
	return 0;
}

static void mx_starttls(const struct smtprobe_dc_facts *f,
                        struct smtprobe_dc_report *r)
{
	struct smtprobe_dc_check *c = jd_row(r, "mx.starttls");
	size_t seen = 0, none = 0, broken = 0, untrusted = 0, nbad = 0;
	const char *badhost = "";
	int must = tls_required(f), sts = sts_in_use(f);
	char advice[400];

	if (!have_sessions(f, c))
		return;
	for (size_t i = 0; i < jd_nmx(f); i++) {
		const struct smtprobe_dc_mx *m = &f->mxs[i];
		for (size_t j = 0; j < m->naddr; j++) {
			const struct smtprobe_dc_smtp *s = &m->addr[j].smtp;
			const char *a = m->addr[j].addr;
			if (!answered(s))
				continue;
			seen++;
			if (!s->starttls) {
				none++;
				nbad++;
				badhost = m->host;
				jd_text(c, " %s (%s): no STARTTLS;", m->host,
				        a);
			} else if (!s->tls) {
				broken++;
				nbad++;
				badhost = m->host;
				jd_text(c, " %s (%s): STARTTLS fails: %s;",
				        m->host, a,
				        s->tls_error[0] ? s->tls_error
				                        : "no handshake");
			} else {
				/* PKIX matters to MTA-STS senders; DANE
				 * senders go by dane.tlsa */
				if (sts && !s->dane_checked &&
				    (!s->verify_ok || !s->host_match)) {
					untrusted++;
					nbad++;
					badhost = m->host;
				}
				jd_text(c, " %s (%s): %s, certificate %s%s;",
				        m->host, a, s->protocol,
				        s->dane_checked
				                ? "(DANE, see dane.tlsa)"
				        : s->verify_ok ? "trusted"
				                       : s->verify_reason,
				        s->dane_checked || !s->verify_ok ||
				                        s->host_match
				                ? ""
				                : ", not for this name");
			}
		}
	}
	if (seen == 0) {
		jd_set(c, SMTPROBE_DC_SKIP,
		       "no MX took a session (see mx.smtp)");
		return;
	}
	if (broken) {
		c->status = SMTPROBE_DC_FAIL;
		jd_text(c, " senders that insist on TLS cannot deliver, the "
		           "others fall back to clear text");
		smtprobe_advice_text(SMTPROBE_ADV_TLS_BROKEN, software_of(f),
		                     advice, sizeof(advice));
		jd_fix(c, "%s", advice);
	} else if (untrusted) {
		c->status = SMTPROBE_DC_FAIL;
		jd_text(c, " MTA-STS senders verify the certificate and do not "
		           "deliver (RFC 8461 §4.2)");
		smtprobe_advice_text(SMTPROBE_ADV_CERTIFICATE, software_of(f),
		                     advice, sizeof(advice));
		jd_fix(c,
		       "a certificate from a public CA naming the MX host: "
		       "%s",
		       advice);
	} else if (none) {
		c->status = must ? SMTPROBE_DC_FAIL : SMTPROBE_DC_WARN;
		jd_text(c, must ? " MTA-STS or DANE senders will not deliver "
		                  "without TLS"
		                : " mail to it travels in clear text");
		smtprobe_advice_text(SMTPROBE_ADV_NO_TLS, software_of(f),
		                     advice, sizeof(advice));
		jd_fix(c, "%s", advice);
	} else {
		c->status = SMTPROBE_DC_PASS;
	}
	jd_one_host(c, f, nbad, badhost);
}

/* name is one of the address's PTR names (DNS case rules, a final dot
 * ignored) */
static int is_ptr_name(const struct smtprobe_dc_addr *ad, const char *name)
{
	size_t n = strlen(name);

	if (n > 0 && name[n - 1] == '.')
		n--;
	for (size_t k = 0; k < ad->ptr.n && k < SMTPROBE_DC_MAX_RECORDS; k++) {
		const char *p = ad->ptr.rec[k];
		size_t pn = strlen(p);
		if (pn > 0 && p[pn - 1] == '.')
			pn--;
		if (n > 0 && pn == n && strncasecmp(p, name, n) == 0)
			return 1;
	}
	return 0;
}

static void ptr_banner(const struct smtprobe_dc_facts *f,
                       struct smtprobe_dc_report *r)
{
	struct smtprobe_dc_check *c = jd_row(r, "ptr.banner");
	size_t nbad = 0;
	const char *badhost = "";
	const struct smtprobe_dc_addr *bad = NULL;

	if (!have_sessions(f, c))
		return;
	for (size_t i = 0; i < jd_nmx(f); i++) {
		const struct smtprobe_dc_mx *m = &f->mxs[i];
		for (size_t j = 0; j < m->naddr; j++) {
			const struct smtprobe_dc_addr *ad = &m->addr[j];
			const struct smtprobe_dc_smtp *s = &ad->smtp;
			if (!answered(s) || jd_kind(&ad->ptr) != JD_DATA)
				continue;
			int ok = is_ptr_name(ad, s->banner_name);
			int ehlo_ok = is_ptr_name(ad, s->ehlo_name);
			jd_worse(c, ok ? SMTPROBE_DC_PASS : SMTPROBE_DC_WARN);
			jd_text(c, " %s: banner '%s'%s PTR %s", ad->addr,
			        s->banner_name, ok ? " =" : " is not the",
			        ad->ptr.rec[0]);
			if (strcasecmp(s->ehlo_name, s->banner_name) != 0)
				jd_text(c, ", EHLO '%s'%s", s->ehlo_name,
				        ehlo_ok ? "" : " (not the PTR either)");
			jd_text(c, ";");
			if (!ok && nbad++ == 0) {
				badhost = m->host;
				bad = ad;
			}
		}
	}
	if (c->status == SMTPROBE_DC_SKIP) {
		jd_set(c, SMTPROBE_DC_SKIP,
		       "no MX address with a PTR took a session (see "
		       "ptr.present and mx.smtp)");
		return;
	}
	if (bad) {
		const char *lines[SMTPROBE_ADVICE_MAX], *what = NULL;
		size_t n = smtprobe_advice(SMTPROBE_ADV_BANNER_NAME,
		                           software_of(f), &what, lines,
		                           SMTPROBE_ADVICE_MAX);
		jd_text(c, " some receivers' filters score a banner that is "
		           "not the PTR name");
		/* the name it announces is the MX host's (it resolves to the
		 * address): the PTR is the better thing to change */
		if (strcasecmp(bad->smtp.banner_name, badhost) == 0)
			jd_fix(c,
			       "set the PTR of %s to %s (the MX name it "
			       "announces, which resolves to it), or ",
			       bad->addr, badhost);
		jd_fix(c, "make it announce NAME = %s: ", bad->ptr.rec[0]);
		for (size_t k = 0; k < n; k++)
			jd_fix(c, "%s%s", k ? "; " : "", lines[k]);
	}
	jd_one_host(c, f, nbad, badhost);
}

void jd_smtp(const struct smtprobe_dc_facts *f, struct smtprobe_dc_report *r)
{
	mx_smtp(f, r);
	mx_starttls(f, r);
	ptr_banner(f, r);
}
