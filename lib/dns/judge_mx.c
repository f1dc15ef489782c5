/* judge_mx.c - the MX hosts of `smtprobe dns` (dnscheck.h): mx.present
 * (no MX: the implicit MX of RFC 5321 §5.1 is a warn when it has an
 * address, else a fail), mx.null (RFC 7505, with its conflicts), mx.cname,
 * mx.resolves, and the reverse DNS of every MX address: ptr.present,
 * ptr.fcrdns (a PTR name that resolves back to the address, IPv6
 * compared as addresses, not text).
 *
 * Pure: no I/O, no allocation. An MX answer that is bogus or failed
 * skips every per-MX row (mx.present says why); a PTR or forward lookup
 * that failed makes its row a warn that could not tell. Lists of hosts
 * and addresses are cut with the text ("..."). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "judge_int.h"

#include "banned.h"

static void mx_present(const struct smtprobe_dc_facts *f,
                       struct smtprobe_dc_report *r)
{
	struct smtprobe_dc_check *c = jd_row(r, "mx.present");
	const char *d = f->domain;
	size_t nnull, nreal;
	char what[300];

	snprintf(what, sizeof(what), "MX at %s", d);
	if (jd_unusable(c, &f->mx, what))
		return;
	jd_mx_shape(f, &nnull, &nreal);
	if (jd_kind(&f->mx) == JD_NXDOMAIN) {
		jd_set(c, SMTPROBE_DC_FAIL,
		       "%s does not exist (NXDOMAIN): mail to any address @%s "
		       "bounces",
		       d, d);
		jd_fix(c,
		       "create the zone and publish '%s. MX 10 mail.%s.' "
		       "(or '%s. MX 0 .' if it takes no mail)",
		       d, d, d);
	} else if (nnull + nreal == 0) {
		const struct smtprobe_dc_mx *m = &f->mxs[0];

		if (jd_nmx(f) > 0 && (jd_kind(&m->a) == JD_DATA ||
		                      jd_kind(&m->aaaa) == JD_DATA)) {
			jd_set(c, SMTPROBE_DC_WARN,
			       "no MX record: senders fall back to %s's own "
			       "address %s (implicit MX, RFC 5321 §5.1)",
			       d,
			       jd_kind(&m->a) == JD_DATA ? m->a.rec[0]
			                                 : m->aaaa.rec[0]);
			jd_fix(c,
			       "publish '%s. MX 10 %s.' to make it explicit, "
			       "or '%s. MX 0 .' (null MX, RFC 7505) if "
			       "that host takes no mail",
			       d, d, d);
		} else {
			jd_set(c, SMTPROBE_DC_FAIL,
			       "no MX record and no address: mail to @%s "
			       "cannot be delivered (RFC 5321 §5.1)",
			       d);
			jd_fix(c,
			       "publish '%s. MX 10 mail.%s.' naming your "
			       "mail server (with its A/AAAA record), or "
			       "'%s. MX 0 .' (null MX, RFC 7505) if the "
			       "domain takes no mail",
			       d, d, d);
		}
	} else if (nreal == 0) {
		jd_set(c, SMTPROBE_DC_PASS,
		       "a null MX (RFC 7505): the domain says it takes no mail "
		       "(see mx.null)");
	} else {
		jd_set(c, SMTPROBE_DC_PASS, "%zu MX record%s", f->mx.n,
		       f->mx.n == 1 ? "" : "s");
		if (f->mx.truncated)
			jd_text(c, " (more than %d: only those kept)",
			        SMTPROBE_DC_MAX_RECORDS);
		if (nreal > jd_nmx(f))
			jd_text(c,
			        "; the checks below look at the first %zu "
			        "hosts only",
			        jd_nmx(f));
		jd_text(c, ":");
		for (size_t i = 0; i < f->mx.n && i < SMTPROBE_DC_MAX_RECORDS;
		     i++)
			jd_text(c, "%s %s", i ? "," : "", f->mx.rec[i]);
	}
}

static void mx_null(const struct smtprobe_dc_facts *f,
                    struct smtprobe_dc_report *r)
{
	struct smtprobe_dc_check *c = jd_row(r, "mx.null");
	const char *d = f->domain;
	unsigned long pref = 0;
	size_t nnull, nreal;

	if (jd_kind(&f->mx) != JD_DATA) {
		jd_set(c, SMTPROBE_DC_SKIP, "no MX record (see mx.present)");
		return;
	}
	jd_mx_shape(f, &nnull, &nreal);
	if (nnull == 0) {
		jd_set(c, SMTPROBE_DC_PASS,
		       "no null MX: the domain takes mail");
		return;
	}
	if (nreal > 0) {
		jd_set(c, SMTPROBE_DC_FAIL,
		       "a null MX ('0 .') next to %zu other MX record%s: RFC "
		       "7505 §3 forbids mixing them; senders may bounce mail "
		       "at once or use the others",
		       nreal, nreal == 1 ? "" : "s");
		jd_fix(c,
		       "remove '%s. MX 0 .' if the domain takes mail, or "
		       "the other MX records if it does not",
		       d);
		return;
	}
	for (size_t i = 0; i < f->mx.n && i < SMTPROBE_DC_MAX_RECORDS; i++)
		if (jd_mx_name(f->mx.rec[i], &pref) && pref != 0)
			break;
	jd_set(c, SMTPROBE_DC_INFO,
	       "%s takes no mail (null MX, RFC 7505): senders bounce mail to "
	       "it at once instead of retrying for days",
	       d);
	if (pref != 0 || nnull > 1) {
		jd_worse(c, SMTPROBE_DC_WARN);
		jd_text(c, "; but RFC 7505 §3 wants exactly one, '0 .'");
		jd_fix(c, "publish the null MX once: '%s. MX 0 .'", d);
	}
	if (jd_spf_authorises(f) == 1) {
		jd_worse(c, SMTPROBE_DC_WARN);
		jd_text(c,
		        "; yet its SPF authorises senders: bounces to mail "
		        "from @%s cannot be delivered and receivers may "
		        "refuse it (RFC 7505 §4.2, 550 5.7.27)",
		        d);
		jd_fix(c,
		       "%sif %s sends no mail, publish '%s. TXT \"v=spf1 "
		       "-all\"'; if it does, replace the null MX with an MX "
		       "that receives its bounces",
		       c->fix[0] ? "; " : "", d, d);
	} else if (jd_spf_authorises(f) == 0) {
		jd_text(c, "; its SPF authorises no sender, as it should");
	}
}

static void mx_cname(const struct smtprobe_dc_facts *f,
                     struct smtprobe_dc_report *r)
{
	struct smtprobe_dc_check *c = jd_row(r, "mx.cname");
	size_t nbad = 0, nunk = 0;
	const char *bad = "";

	if (!jd_have_hosts(f, c))
		return;
	jd_set(c, SMTPROBE_DC_PASS, "no MX target is an alias (CNAME)");
	for (size_t i = 0; i < jd_nmx(f); i++) {
		const struct smtprobe_dc_mx *m = &f->mxs[i];
		const char *target = NULL;
		enum jd_kind k = jd_kind(&m->cname);

		if (k == JD_DATA)
			target = m->cname.rec[0];
		else if (m->a.canonname[0] &&
		         !jd_in_domain(m->a.canonname, m->host) &&
		         jd_kind(&m->a) != JD_BOGUS)
			target = m->a.canonname;
		if (target) {
			if (nbad++ == 0)
				jd_set(c, SMTPROBE_DC_FAIL, "alias:");
			bad = m->host;
			jd_text(c, " %s is a CNAME to %s;", m->host, target);
			jd_fix(c,
			       "%sreplace '%s. MX %u %s.' with '%s. MX %u "
			       "%s.'",
			       nbad > 1 ? "; " : "", f->domain, m->pref,
			       m->host, f->domain, m->pref, target);
		} else if (k == JD_FAILED || k == JD_BOGUS) {
			nunk++;
		}
	}
	if (nbad)
		jd_text(c, " an MX must name a host, not an alias (RFC 2181 "
		           "§10.3, RFC 5321 §5.1): some senders refuse it, and "
		           "MTA-STS and DANE name checks see two names");
	else if (nunk) {
		jd_set(c, SMTPROBE_DC_WARN,
		       "could not tell for %zu of %zu MX "
		       "hosts: their CNAME lookup failed "
		       "or is bogus",
		       nunk, jd_nmx(f));
	}
	jd_one_host(c, f, nbad, bad);
}

static int is_addr(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 ||
	       inet_pton(AF_INET6, s, buf) == 1;
}

static void mx_resolves(const struct smtprobe_dc_facts *f,
                        struct smtprobe_dc_report *r)
{
	struct smtprobe_dc_check *c = jd_row(r, "mx.resolves");
	size_t nbad = 0, nunk = 0, nv6 = 0;
	const char *bad = "";
	char why[JD_QUOTE + 32];

	if (!jd_have_hosts(f, c))
		return;
	/* no MX records and no address for the domain either: nothing to
	 * resolve, and mx.present has said so already */
	if (jd_kind(&f->mx) != JD_DATA && jd_kind(&f->mxs[0].a) != JD_DATA &&
	    jd_kind(&f->mxs[0].aaaa) != JD_DATA) {
		jd_set(c, SMTPROBE_DC_SKIP,
		       "no MX host: the domain has neither MX records nor an "
		       "address (see mx.present)");
		return;
	}
	jd_set(c, SMTPROBE_DC_PASS, "every MX host has addresses:");
	for (size_t i = 0; i < jd_nmx(f); i++) {
		const struct smtprobe_dc_mx *m = &f->mxs[i];
		enum jd_kind k4 = jd_kind(&m->a), k6 = jd_kind(&m->aaaa);

		if (k6 == JD_DATA)
			nv6++;
		if (k4 == JD_DATA || k6 == JD_DATA) {
			if (nbad + nunk == 0)
				jd_text(c, " %s %s%s;", m->host,
				        k4 == JD_DATA ? m->a.rec[0]
				                      : m->aaaa.rec[0],
				        m->a.n + m->aaaa.n > 1 ? " and more"
				                               : "");
			continue;
		}
		if (k4 == JD_FAILED || k4 == JD_BOGUS || k6 == JD_FAILED ||
		    k6 == JD_BOGUS) {
			nunk++;
			continue;
		}
		if (nbad++ == 0)
			jd_set(c, SMTPROBE_DC_FAIL, "no address:");
		bad = m->host;
		jd_text(c, " %s (A: %s)%s;", m->host,
		        jd_problem(why, sizeof(why), &m->a),
		        is_addr(m->host) ? ", an address where a host name "
		                           "belongs"
		                         : "");
		jd_fix(c,
		       "%spublish '%s. A <address>' or point the MX at a "
		       "host that has one",
		       nbad > 1 ? "; " : "", m->host);
	}
	if (nbad) {
		jd_text(c, " senders cannot deliver through %s",
		        nbad == jd_nmx(f) ? "any MX: mail bounces"
		        : nbad == 1       ? "it"
		                          : "them");
		if (nbad < jd_nmx(f))
			c->status = SMTPROBE_DC_WARN;
	} else if (nunk) {
		jd_set(c, SMTPROBE_DC_WARN,
		       "could not tell for %zu of %zu MX hosts: their address "
		       "lookups failed or are bogus",
		       nunk, jd_nmx(f));
	} else {
		jd_text(c, " IPv6: %zu of %zu host%s%s", nv6, jd_nmx(f),
		        jd_nmx(f) == 1 ? "" : "s",
		        nv6 ? "" : " (mail arrives over IPv4 only)");
	}
	jd_one_host(c, f, nbad, bad);
}

/* ---- reverse DNS of the MX addresses ---- */

static int same_addr(const char *a, const char *b)
{
	unsigned char x[16], y[16];

	if (inet_pton(AF_INET, a, x) == 1 && inet_pton(AF_INET, b, y) == 1)
		return memcmp(x, y, 4) == 0;
	if (inet_pton(AF_INET6, a, x) == 1 && inet_pton(AF_INET6, b, y) == 1)
		return memcmp(x, y, 16) == 0;
	return 0;
}

/* 3.0.0.127.in-addr.arpa, or the ip6.arpa nibbles */
static const char *reverse_name(const char *addr, char *out, size_t outsz)
{
	unsigned char b[16];
	size_t o = 0;

	if (inet_pton(AF_INET, addr, b) == 1) {
		snprintf(out, outsz, "%u.%u.%u.%u.in-addr.arpa", b[3], b[2],
		         b[1], b[0]);
	} else if (inet_pton(AF_INET6, addr, b) == 1 && outsz >= 74) {
		for (int i = 15; i >= 0; i--) {
			o += (size_t)snprintf(out + o, outsz - o, "%x.%x.",
			                      b[i] & 15, b[i] >> 4);
		}
		snprintf(out + o, outsz - o, "ip6.arpa");
	} else {
		snprintf(out, outsz, "the reverse name of %s", addr);
	}
	return out;
}

enum ptr_state { PTR_SKIP, PTR_OK, PTR_NONE, PTR_UNKNOWN };

static enum ptr_state ptr_of(const struct smtprobe_dc_addr *ad)
{
	switch (jd_kind(&ad->ptr)) {
	case JD_UNASKED:
		return PTR_SKIP;
	case JD_DATA:
		return PTR_OK;
	case JD_NXDOMAIN:
	case JD_EMPTY:
		return PTR_NONE;
	default:
		return PTR_UNKNOWN;
	}
}

/* Forward-confirmed: one of the PTR names resolves back to the address.
 * 1 yes, 0 no, -1 could not tell. */
static int fcrdns(const struct smtprobe_dc_addr *ad, const char **name,
                  const char **got)
{
	int unknown = 0;
	size_t n = ad->ptr.n < SMTPROBE_DC_MAX_PTR_NAMES
	                   ? ad->ptr.n
	                   : SMTPROBE_DC_MAX_PTR_NAMES;

	*name = ad->ptr.n ? ad->ptr.rec[0] : "";
	*got = "no address";
	for (size_t k = 0; k < n; k++) {
		const struct smtprobe_dc_answer *fw = &ad->fwd[k];
		enum jd_kind kind = jd_kind(fw);

		if (kind == JD_FAILED || kind == JD_BOGUS ||
		    kind == JD_UNASKED) {
			unknown = 1;
			continue;
		}
		for (size_t j = 0; j < fw->n && j < SMTPROBE_DC_MAX_RECORDS;
		     j++)
			if (same_addr(fw->rec[j], ad->addr)) {
				*name = ad->ptr.rec[k];
				return 1;
			}
		if (k == 0)
			*got = kind == JD_DATA
			               ? fw->rec[0]
			               : smtprobe_dns_status_name(fw->status);
	}
	return unknown ? -1 : 0;
}

static void ptr_checks(const struct smtprobe_dc_facts *f,
                       struct smtprobe_dc_report *r)
{
	struct smtprobe_dc_check *p = jd_row(r, "ptr.present");
	struct smtprobe_dc_check *fc = jd_row(r, "ptr.fcrdns");
	size_t naddr = 0, pbad = 0, punk = 0, fbad = 0, funk = 0;
	const char *pbad_host = "", *fbad_host = "";
	char rev[80];

	int hp = jd_have_hosts(f, p), hf = jd_have_hosts(f, fc);

	if (!hp || !hf)
		return;
	jd_set(p, SMTPROBE_DC_PASS, "every MX address has a PTR:");
	jd_set(fc, SMTPROBE_DC_PASS,
	       "every PTR name resolves back to its "
	       "address (FCrDNS):");
	for (size_t i = 0; i < jd_nmx(f); i++) {
		const struct smtprobe_dc_mx *m = &f->mxs[i];

		for (size_t j = 0; j < m->naddr && j < SMTPROBE_DC_MAX_ADDRS;
		     j++) {
			const struct smtprobe_dc_addr *ad = &m->addr[j];
			enum ptr_state st = ptr_of(ad);
			const char *name, *got;
			int ok;

			if (st == PTR_SKIP)
				continue;
			naddr++;
			if (st == PTR_UNKNOWN) {
				punk++;
				funk++;
				continue;
			}
			if (st == PTR_NONE) {
				if (pbad++ == 0)
					jd_set(p, SMTPROBE_DC_FAIL,
					       "no PTR for:");
				if (fbad++ == 0)
					jd_set(fc, SMTPROBE_DC_FAIL,
					       "not forward-confirmed:");
				pbad_host = fbad_host = m->host;
				jd_text(p, " %s (%s);", ad->addr, m->host);
				jd_text(fc, " %s has no PTR;", ad->addr);
				jd_fix(fc,
				       "%spublish the PTR of %s (see "
				       "ptr.present) naming a host whose "
				       "address it is",
				       fbad > 1 ? "; " : "", ad->addr);
				jd_fix(p,
				       "%sthe owner of %s (your provider) "
				       "publishes '%s. PTR %s.'",
				       pbad > 1 ? "; " : "", ad->addr,
				       reverse_name(ad->addr, rev, sizeof(rev)),
				       m->host);
				continue;
			}
			if (pbad == 0)
				jd_text(p, " %s -> %s%s;", ad->addr,
				        ad->ptr.rec[0],
				        ad->ptr.n > 1 ? " (and more: some "
				                        "receivers read only "
				                        "the first)"
				                      : "");
			ok = fcrdns(ad, &name, &got);
			if (ok < 0) {
				funk++;
			} else if (ok == 0) {
				if (fbad++ == 0)
					jd_set(fc, SMTPROBE_DC_FAIL,
					       "not forward-confirmed:");
				fbad_host = m->host;
				jd_text(fc, " %s -> %s -> %s, not back;",
				        ad->addr, name, got);
				jd_fix(fc,
				       "%sset the PTR of %s to a name that "
				       "resolves to it (e.g. %s), or publish "
				       "'%s. %s %s'",
				       fbad > 1 ? "; " : "", ad->addr, m->host,
				       name,
				       strchr(ad->addr, ':') ? "AAAA" : "A",
				       ad->addr);
			} else if (fbad == 0) {
				jd_text(fc, " %s <-> %s;", ad->addr, name);
			}
		}
	}
	if (naddr == 0) {
		jd_set(p, SMTPROBE_DC_SKIP, "no MX address to look up");
		jd_set(fc, SMTPROBE_DC_SKIP, "no MX address to look up");
		return;
	}
	if (pbad) {
		jd_text(p, " receivers that check reverse DNS (Postfix's "
		           "reject_unknown_client_hostname, the large "
		           "providers' sender rules) refuse or junk mail these "
		           "hosts send");
		jd_fix(p, "; give the server that name (Postfix: myhostname, "
		          "smtp_helo_name; Exim: primary_hostname, helo_data)");
	} else if (punk) {
		jd_set(p, SMTPROBE_DC_WARN,
		       "could not tell for %zu of %zu "
		       "addresses: the PTR lookup failed",
		       punk, naddr);
	}
	if (fbad)
		jd_text(fc,
		        " receivers see the host as 'unknown' (Postfix: "
		        "unknown[ADDR] and reject_unknown_client_hostname)");
	else if (funk)
		jd_set(fc, SMTPROBE_DC_WARN,
		       "could not tell for %zu of %zu "
		       "addresses: a lookup failed",
		       funk, naddr);
	jd_one_host(p, f, pbad, pbad_host);
	jd_one_host(fc, f, fbad, fbad_host);
}

void jd_mx(const struct smtprobe_dc_facts *f, struct smtprobe_dc_report *r)
{
	mx_present(f, r);
	mx_null(f, r);
	mx_cname(f, r);
	mx_resolves(f, r);
	ptr_checks(f, r);
}
