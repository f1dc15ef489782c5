/* discover.c - port discovery: the usual SMTP ports probed at once
 * (banner, EHLO, TLS the way the port speaks it, EHLO again) as one batch
 * (batch.c), then a recommendation of the settings an application should
 * use. Each probe has the caller's deadlines, so the scan takes as long as
 * the slowest port, not their sum. Used by check and relay.
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

/* Each port gets a plain probe (STARTTLS when offered) and, unless it is
 * 465, an implicit-TLS probe beside it: whichever learns how the port
 * speaks ends the other, so an implicit-TLS port on an unusual number does
 * not cost a banner timeout. Jobs 2k and 2k+1 are the pair of port k. */
struct probe_run {
	struct smtprobe_params params;
	struct smtprobe_result res;
	int twin; /* index of the sibling job, -1 when none */
};

static int got_banner(const struct smtprobe_result *r)
{
	for (size_t i = 0; i < r->nex; i++)
		if (r->ex[i].stage == SMTPROBE_ST_BANNER && r->ex[i].reply)
			return 1;
	return 0;
}

static void on_probe_done(struct smtprobe_batch *b, size_t job, void *arg)
{
	struct probe_run *runs = arg;
	const struct probe_run *pr = &runs[job];

	if (pr->twin < 0)
		return;
	int implicit = pr->params.tls == SMTPROBE_TLSMODE_IMPLICIT;
	if (implicit ? pr->res.have_tls : got_banner(&pr->res))
		smtprobe_batch_cancel(b, (size_t)pr->twin);
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
	for (size_t i = 0; i < r->nex; i++) {
		const struct smtprobe_reply *b = r->ex[i].reply;
		if (r->ex[i].stage != SMTPROBE_ST_BANNER || !b || !b->nlines)
			continue;
		size_t len = strcspn(b->text[0], " \t");
		if (len >= sizeof(o->host))
			len = sizeof(o->host) - 1;
		memcpy(o->host, b->text[0], len);
		o->host[len] = '\0';
		break;
	}
	o->open = r->have_ehlo || (r->nex > 1 && r->ex[1].reply &&
	                           r->ex[1].reply->code / 100 == 2);
	if (!o->open)
		snprintf(o->error, sizeof(o->error), "%.250s",
		         r->error[0] ? r->error : "no SMTP banner");
	o->tls = SMTPROBE_TLSMODE_OFF;
	if (pr->params.tls == SMTPROBE_TLSMODE_IMPLICIT && r->have_tls)
		o->tls = SMTPROBE_TLSMODE_IMPLICIT;
	else if (r->have_ehlo_first &&
	         (r->ehlo_first.caps & SMTPROBE_CAP_STARTTLS))
		o->tls = SMTPROBE_TLSMODE_REQUIRED;
	o->tls_ok = r->have_tls;
	o->cert_ok = r->have_tls && r->tls.verify_ok &&
	             (!r->tls.host_checked || r->tls.host_match);
	if (r->have_tls && !o->cert_ok)
		snprintf(o->cert_problem, sizeof(o->cert_problem), "%.120s",
		         r->tls.verify_ok ? "hostname mismatch"
		                          : r->tls.verify_reason);
	if (r->have_ehlo)
		snprintf(o->auth, sizeof(o->auth), "%.250s", r->ehlo.auth);
	o->auth_in_clear = pr->params.tls != SMTPROBE_TLSMODE_IMPLICIT &&
	                   r->have_ehlo_first &&
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
	struct probe_run runs[SMTPROBE_MAX_PORTS * 2];
	struct smtprobe_batch_job jobs[SMTPROBE_MAX_PORTS * 2];
	int plain[SMTPROBE_MAX_PORTS], implicit[SMTPROBE_MAX_PORTS];
	size_t n = 0;
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
		struct probe_run *a = &runs[n];
		a->params = *base;
		a->params.port = ports[i];
		a->params.tls = ports[i] == 465 ? SMTPROBE_TLSMODE_IMPLICIT
		                                : SMTPROBE_TLSMODE_OPTIONAL;
		a->params.tls_verify = 0;
		a->params.auth = 0;
		a->params.quit_after = SMTPROBE_ST_EHLO2;
		a->params.on_event = NULL;
		a->twin = -1;
		plain[i] = (int)n++;
		implicit[i] = -1;
		if (ports[i] == 465)
			continue;
		struct probe_run *b = &runs[n];
		b->params = a->params;
		b->params.tls = SMTPROBE_TLSMODE_IMPLICIT;
		implicit[i] = (int)n++;
		a->twin = implicit[i];
		b->twin = plain[i];
	}
	for (size_t k = 0; k < n; k++) {
		jobs[k].params = &runs[k].params;
		jobs[k].res = &runs[k].res;
		jobs[k].fd = -1;
	}
	struct smtprobe_batch_params bp = {
	        .concurrency = (unsigned)n,
	        .on_done = on_probe_done,
	        .arg = runs,
	};
	if (smtprobe_batch_run(jobs, n, &bp, NULL) < 0) {
		for (size_t k = 0; k < n; k++)
			smtprobe_result_release(&runs[k].res);
		return -1;
	}
	for (size_t i = 0; i < nports; i++) {
		int b = implicit[i];
		int use_b = b >= 0 && jobs[b].started && runs[b].res.have_tls;
		judge(&runs[use_b ? b : plain[i]], &scan->port[i]);
	}
	for (size_t k = 0; k < n; k++)
		smtprobe_result_release(&runs[k].res);
	scan->nports = nports;
	scan->ms = (double)(uv_hrtime() - t0) / 1e6;
	recommend(scan, base->host);
	return 0;
}
