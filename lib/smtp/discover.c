/* discover.c - port discovery: the usual SMTP ports probed at once
 * (banner, EHLO, TLS the way the port speaks it, EHLO again) as one batch
 * (batch.c), each in the TLS mode its number implies (see mode_for_port), then
 * a recommendation of the settings an application should use. Each probe has
 * the caller's deadlines, so the scan takes as long as the slowest port, not
 * their sum. Used by check and relay.
 */
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "smtprobe/batch.h"
#include "smtprobe/discover.h"
#include "banned.h"

static const unsigned default_ports[] = {587, 465, 25, 2525};

const char *smtprobe_tls_mode_name(enum smtprobe_tls_mode m)
{
	return m == SMTPROBE_TLSMODE_IMPLICIT ? "implicit"
	       : m == SMTPROBE_TLSMODE_OFF    ? "none"
	                                      : "starttls";
}

const char *smtprobe_tls_mode_label(enum smtprobe_tls_mode m)
{
	return m == SMTPROBE_TLSMODE_IMPLICIT ? "implicit TLS"
	       : m == SMTPROBE_TLSMODE_OFF    ? "no TLS"
	                                      : "STARTTLS";
}

/* One probe per port, in the TLS mode its number implies: 465 implicit
 * TLS; 25, 587 and 2525 plain SMTP with STARTTLS when offered (servers
 * there may delay their banner on purpose, and a ClientHello to them is a
 * protocol error in their log); any other port TLSMODE_AUTO: a server
 * that speaks first gets plain SMTP, one that stays silent a ClientHello.
 * So no port that answered like SMTP ever gets a ClientHello. */
struct probe_run {
	struct smtprobe_params params;
	struct smtprobe_result res;
};

static enum smtprobe_tls_mode mode_for_port(unsigned port)
{
	switch (port) {
	case 465:
		return SMTPROBE_TLSMODE_IMPLICIT;
	case 25:
	case 587:
	case 2525:
		return SMTPROBE_TLSMODE_OPTIONAL;
	default:
		return SMTPROBE_TLSMODE_AUTO;
	}
}

static const struct smtprobe_reply *banner_of(const struct smtprobe_result *r)
{
	const struct smtprobe_reply *b = NULL;

	for (size_t i = 0; i < r->nex; i++)
		if (r->ex[i].stage == SMTPROBE_ST_BANNER && r->ex[i].reply)
			b = r->ex[i].reply;
	return b;
}

static void judge(const struct probe_run *pr, struct smtprobe_port_probe *o)
{
	const struct smtprobe_result *r = &pr->res;

	o->port = pr->params.port;
	o->ms = r->total_ms;
	snprintf(o->address, sizeof(o->address), "%s", r->address);
	if (r->have_ehlo_first)
		snprintf(o->ehlo_host, sizeof(o->ehlo_host), "%s",
		         r->ehlo_first.host);
	const struct smtprobe_reply *b = banner_of(r);
	if (b && b->nlines) {
		size_t len = strcspn(b->text[0], " \t");
		if (len >= sizeof(o->host))
			len = sizeof(o->host) - 1;
		memcpy(o->host, b->text[0], len);
		o->host[len] = '\0';
	}
	o->open = r->have_ehlo || (b && b->code / 100 == 2);
	if (!o->open) {
		snprintf(o->error, sizeof(o->error), "%.250s",
		         r->error[0] ? r->error : "no SMTP banner");
		o->failure = r->failure;
		o->failure.reply = NULL; /* it dies with the probe's result */
	}
	o->tls = SMTPROBE_TLSMODE_OFF;
	if (r->implicit_tls && r->have_tls)
		o->tls = SMTPROBE_TLSMODE_IMPLICIT;
	else if (r->have_ehlo_first &&
	         (r->ehlo_first.caps & SMTPROBE_CAP_STARTTLS))
		o->tls = SMTPROBE_TLSMODE_REQUIRED;
	/* STARTTLS offered, but the handshake failed: the port works only in
	 * clear */
	o->tls_broken = o->open && o->tls == SMTPROBE_TLSMODE_REQUIRED &&
	                !r->have_tls &&
	                (r->failure.kind == SMTPROBE_FAIL_TLS ||
	                 r->failure.stage == SMTPROBE_ST_TLS);
	if (o->tls_broken)
		snprintf(o->tls_problem, sizeof(o->tls_problem), "%.250s",
		         r->error);
	o->tls_ok = r->have_tls;
	o->cert_ok = r->have_tls && r->tls.verify_ok &&
	             (!r->tls.host_checked || r->tls.host_match);
	if (r->have_tls && !o->cert_ok)
		snprintf(o->cert_problem, sizeof(o->cert_problem), "%.120s",
		         r->tls.verify_ok ? "hostname mismatch"
		                          : r->tls.verify_reason);
	if (r->have_ehlo)
		snprintf(o->auth, sizeof(o->auth), "%.250s", r->ehlo.auth);
	o->auth_in_clear = !r->implicit_tls && r->have_ehlo_first &&
	                   (r->ehlo_first.caps & SMTPROBE_CAP_AUTH);
}

/* Prefer a port with TLS and AUTH: 587 with STARTTLS, then 465 implicit,
 * then anything with TLS, then anything open. */
static void recommend(struct smtprobe_port_scan *scan, const char *host)
{
	int best = -1, best_score = -1;

	for (size_t i = 0; i < scan->nports; i++) {
		const struct smtprobe_port_probe *p = &scan->port[i];
		if (!p->open)
			continue;
		int score = 1 + (p->tls_ok ? 4 : 0) + (p->auth[0] ? 2 : 0) +
		            (p->cert_ok ? 1 : 0) + (p->port == 587 ? 1 : 0);
		if (score > best_score) {
			best = (int)i;
			best_score = score;
		}
	}
	scan->best = best;
	if (best < 0) {
		snprintf(scan->recommendation, sizeof(scan->recommendation),
		         "no SMTP service answers on %s", host);
		return;
	}
	const struct smtprobe_port_probe *p = &scan->port[best];
	char mech[64] = "none offered";
	if (p->auth[0]) {
		/* the first of the strong ones the server lists */
		const char *pick = strstr(p->auth, "SCRAM-SHA-256")
		                           ? "SCRAM-SHA-256"
		                   : strstr(p->auth, "PLAIN") ? "PLAIN"
		                   : strstr(p->auth, "LOGIN") ? "LOGIN"
		                                              : p->auth;
		snprintf(mech, sizeof(mech), "%s", pick);
	}
	snprintf(scan->recommendation, sizeof(scan->recommendation),
	         "host %s, port %u, encryption %s, authentication %s%s", host,
	         p->port,
	         p->tls == SMTPROBE_TLSMODE_IMPLICIT ? "SSL/TLS (implicit)"
	         : p->tls_ok                         ? "STARTTLS"
	                                             : "none (no TLS offered)",
	         mech,
	         p->tls_ok && !p->cert_ok
	                 ? " (the certificate does not verify: "
	                   "fix it or trust its CA)"
	                 : "");
}

int smtprobe_discover(const struct smtprobe_params *base, const unsigned *ports,
                      size_t nports, struct smtprobe_port_scan *scan)
{
	struct probe_run runs[SMTPROBE_MAX_PORTS];
	struct smtprobe_batch_job jobs[SMTPROBE_MAX_PORTS];
	uint64_t t0 = uv_hrtime();

	memset(scan, 0, sizeof(*scan));
	scan->best = -1;
	if (!ports) {
		ports = default_ports;
		nports = sizeof(default_ports) / sizeof(default_ports[0]);
	}
	if (nports > SMTPROBE_MAX_PORTS)
		nports = SMTPROBE_MAX_PORTS;
	memset(runs, 0, sizeof(runs));
	for (size_t i = 0; i < nports; i++) {
		struct smtprobe_params *q = &runs[i].params;
		*q = *base;
		q->port = ports[i];
		q->tls = mode_for_port(ports[i]);
		q->tls_verify = 0;
		q->auth = 0;
		q->quit_after = SMTPROBE_ST_EHLO2;
		q->on_event = NULL;
		jobs[i].params = q;
		jobs[i].res = &runs[i].res;
		jobs[i].fd = -1;
	}
	struct smtprobe_batch_params bp = {.concurrency = (unsigned)nports};
	int rc = smtprobe_batch_run(jobs, nports, &bp, NULL);
	for (size_t i = 0; i < nports; i++) {
		if (rc == 0)
			judge(&runs[i], &scan->port[i]);
		smtprobe_result_release(&runs[i].res);
	}
	if (rc < 0)
		return -1;
	scan->nports = nports;
	scan->ms = (double)(uv_hrtime() - t0) / 1e6;
	recommend(scan, base->host);
	return 0;
}

void smtprobe_guess_domain(const char *host, char *out, size_t outsz)
{
	if (!outsz)
		return;
	out[0] = '\0';
	if (!host || !host[0] || strlen(host) >= 254)
		return;
	/* a host name: letters, digits, '-' and '.', with a dot, and not an
	 * IPv4 address (an IPv6 one or a literal fails the first test) */
	if (strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                 "0123456789-.") != strlen(host) ||
	    !strchr(host, '.') || strspn(host, "0123456789.") == strlen(host) ||
	    host[0] == '.' || host[0] == '-')
		return;
	const char *dot = strchr(host, '.');
	/* strip the first label when two or more remain after it */
	if (strchr(dot + 1, '.'))
		snprintf(out, outsz, "%s", dot + 1);
	else
		snprintf(out, outsz, "%s", host);
}
