/* check.c - the collection half of `smtprobe dns` (dnscheck.h): every
 * lookup the checks need, asked at once on one loop through lib/dns's
 * resolver, each answer kept as text, follow-ups asked as answers come:
 * the MX hosts' addresses, CNAMEs and TLSA; each address's PTR and each
 * PTR name's forward lookup; the authorisation records of external DMARC
 * report domains; the organisational domain's DMARC record when the domain
 * has none; the address of mta-sts.DOMAIN and then the policy over HTTPS
 * (sts_fetch.c, in a worker thread). SPF is counted and evaluated by the
 * resumable evaluator (spf.h) with its queries going the same way
 * (check_spf.c). A deadline ends the whole. Then, when asked, SMTP to
 * every MX address within what is left of it (mx_connect.c). */
#include <libpsl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check_int.h"
#include "smtprobe/dnsrec.h"
#include "banned.h"

#define DEFAULT_TIMEOUT_MS 30000u

struct dc_slot {
	struct dc_run *run;
	struct smtprobe_dc_answer *ans;
	dc_then then;
	size_t i, j;
	struct dc_slot *next; /* every slot of the run, freed at the end */
};

/* ---- answers as text --------------------------------------------------- */

/* The record as text in out (room for 2 * len + 600 bytes: the hex of
 * a TLSA record, a name's escapes): its length, or -1 with out saying it
 * is malformed (the answer is then marked truncated). */
static long record_text(int type, const unsigned char *rd, int len, char *out,
                        size_t outsz)
{
	char name[1100];
	unsigned pref;

	out[0] = '\0';
	switch (type) {
	case SMTPROBE_RR_A:
	case SMTPROBE_RR_AAAA:
		if (smtprobe_dns_addr(type, rd, len, out, outsz) == 0)
			return (long)strlen(out);
		break;
	case SMTPROBE_RR_TXT: {
		/* a NUL inside stays (smtprobe_dc_answer_add makes it a
		 * control byte the parsers refuse) */
		long n = smtprobe_dns_txt(rd, len, out, outsz);
		if (n >= 0)
			return n;
		break;
	}
	case SMTPROBE_RR_MX:
		if (smtprobe_dns_mx(rd, len, &pref, name, sizeof(name)) == 0)
			return snprintf(out, outsz, "%u %s", pref, name);
		break;
	case SMTPROBE_RR_PTR:
	case SMTPROBE_RR_CNAME:
		if (smtprobe_dns_name(rd, len, 0, out, outsz) == len)
			return (long)strlen(out);
		break;
	case SMTPROBE_RR_TLSA:
		if (len > 3) {
			size_t o = (size_t)snprintf(out, outsz, "%u %u %u ",
			                            rd[0], rd[1], rd[2]);
			for (int k = 3; k < len && o + 3 < outsz; k++)
				o += (size_t)snprintf(out + o, outsz - o,
				                      "%02x", rd[k]);
			return (long)o;
		}
		break;
	default:
		break;
	}
	snprintf(out, outsz, "(malformed record, %d bytes)", len);
	return -1;
}

static void on_answer(const struct smtprobe_dns_answer *a, void *arg)
{
	struct dc_slot *s = arg;
	struct smtprobe_dc_answer *x = s->ans;
	struct dc_run *run = s->run;

	x->status = a->status;
	x->dnssec = a->dnssec;
	snprintf(x->why, sizeof(x->why), "%s", a->why ? a->why : "");
	snprintf(x->canonname, sizeof(x->canonname), "%s",
	         a->canonname && strcasecmp(a->canonname, a->name) != 0
	                 ? a->canonname
	                 : "");
	for (size_t k = 0; k < a->n; k++) {
		size_t sz =
		        2 * (size_t)(a->rdlen[k] > 0 ? a->rdlen[k] : 0) + 600;
		char *text = malloc(sz);
		long len = text ? record_text(a->type, a->rdata[k], a->rdlen[k],
		                              text, sz)
		                : -1;
		int added = -1;
		if (len < 0)
			x->truncated = 1; /* kept, saying it is malformed */
		if (text)
			added = smtprobe_dc_answer_add(
			        x, text, len < 0 ? strlen(text) : (size_t)len);
		free(text);
		if (added < 0)
			break; /* the cap (truncated), or out of memory */
	}
	/* TXT records are read as a set (one SPF, one DMARC record among
	 * them): with one left out or unreadable, nothing can be told from
	 * the rest (RFC 7208 §4.5); MX, addresses and names stay as they
	 * are, marked truncated */
	if (x->truncated && a->type == SMTPROBE_RR_TXT) {
		x->status = SMTPROBE_DNS_ERROR;
		snprintf(x->why, sizeof(x->why),
		         "%zu TXT records, more than %d or one unreadable: "
		         "smtprobe cannot read them all",
		         a->n, SMTPROBE_DC_MAX_RECORDS);
	}
	if (s->then && !run->stopping)
		s->then(run, s->i, s->j);
	dc_done(run);
}

void dc_hold(struct dc_run *run)
{
	run->pending++;
}

void dc_done(struct dc_run *run)
{
	if (run->pending > 0)
		run->pending--;
}

unsigned dc_left_ms(const struct dc_run *run)
{
	uint64_t limit =
	        run->p->timeout_ms ? run->p->timeout_ms : DEFAULT_TIMEOUT_MS;
	uint64_t spent = uv_now((uv_loop_t *)&run->loop) - run->t0;
	return spent >= limit ? 1 : (unsigned)(limit - spent);
}

int dc_ask(struct dc_run *run, const char *name, int type,
           struct smtprobe_dc_answer *ans, dc_then then, size_t i, size_t j)
{
	struct dc_slot *s = calloc(1, sizeof(*s));

	smtprobe_dc_answer_clear(ans); /* a walk asks again into its own */
	ans->asked = 1;
	/* what stays when the deadline comes first */
	ans->status = SMTPROBE_DNS_TIMEOUT;
	snprintf(ans->why, sizeof(ans->why),
	         "no answer before the whole check's deadline");
	if (s == NULL || run->stopping) {
		free(s);
		ans->status = SMTPROBE_DNS_ERROR;
		snprintf(ans->why, sizeof(ans->why),
		         run->stopping ? "not asked: the deadline came"
		                       : "out of memory");
		return -1;
	}
	*s = (struct dc_slot){run, ans, then, i, j, run->slots};
	run->slots = s;
	if (smtprobe_dns_query(run->dns, name, type, on_answer, s) < 0) {
		ans->status = SMTPROBE_DNS_ERROR;
		snprintf(ans->why, sizeof(ans->why), "out of memory");
		return -1;
	}
	run->pending++;
	return 0;
}

/* ---- follow-ups -----------------------------------------------------------
 */

static void on_fwd(struct dc_run *run, size_t i, size_t j)
{
	(void)run;
	(void)i;
	(void)j;
}

/* an address's PTR came: look each name up forward (FCrDNS) */
static void on_ptr(struct dc_run *run, size_t i, size_t j)
{
	struct smtprobe_dc_addr *ad = &run->f->mxs[i].addr[j];
	int v6 = strchr(ad->addr, ':') != NULL;

	if (ad->ptr.dnssec == SMTPROBE_DNSSEC_BOGUS)
		return; /* not to be trusted, nor followed */

	for (size_t k = 0; k < ad->ptr.n && k < SMTPROBE_DC_MAX_PTR_NAMES; k++)
		dc_ask(run, ad->ptr.rec[k],
		       v6 ? SMTPROBE_RR_AAAA : SMTPROBE_RR_A, &ad->fwd[k],
		       on_fwd, i, j);
}

/* the reverse name of an address: 2.0.0.127.in-addr.arpa, or the nibbles
 * of an IPv6 address under ip6.arpa */
static int reverse_name(const char *addr, char *out, size_t outsz)
{
	unsigned char b[16];

	if (inet_pton(AF_INET, addr, b) == 1)
		return snprintf(out, outsz, "%u.%u.%u.%u.in-addr.arpa", b[3],
		                b[2], b[1], b[0]) < (int)outsz
		               ? 0
		               : -1;
	if (inet_pton(AF_INET6, addr, b) != 1 || outsz < 74)
		return -1;
	size_t o = 0;
	for (int k = 15; k >= 0; k--)
		o += (size_t)snprintf(out + o, outsz - o, "%x.%x.", b[k] & 15,
		                      b[k] >> 4);
	snprintf(out + o, outsz - o, "ip6.arpa");
	return 0;
}

/* an MX host's A or AAAA came: TLSA at the name the A answer ended at
 * (the CNAME-expanded one, RFC 7672 §2.2.2) for a real MX; each address
 * gets its PTR asked */
static void on_host_addr(struct dc_run *run, size_t i, size_t j)
{
	struct smtprobe_dc_mx *mx = &run->f->mxs[i];
	const struct smtprobe_dc_answer *a = j ? &mx->aaaa : &mx->a;
	char rev[96];

	if (a->dnssec == SMTPROBE_DNSSEC_BOGUS)
		return; /* not to be trusted, nor followed */
	if (j == 0 && run->f->mx.status == SMTPROBE_DNS_OK) {
		char name[300];
		snprintf(name, sizeof(name), "_25._tcp.%.255s",
		         a->canonname[0] ? a->canonname : mx->host);
		dc_ask(run, name, SMTPROBE_RR_TLSA, &mx->tlsa, NULL, i, 0);
	}
	for (size_t k = 0; k < a->n && mx->naddr < SMTPROBE_DC_MAX_ADDRS; k++) {
		struct smtprobe_dc_addr *ad = &mx->addr[mx->naddr];
		snprintf(ad->addr, sizeof(ad->addr), "%s", a->rec[k]);
		if (reverse_name(ad->addr, rev, sizeof(rev)) < 0)
			continue;
		dc_ask(run, rev, SMTPROBE_RR_PTR, &ad->ptr, on_ptr, i,
		       mx->naddr);
		mx->naddr++;
	}
}

/* the MX records came: ask about each host */
static void on_mx(struct dc_run *run, size_t i, size_t j)
{
	struct smtprobe_dc_facts *f = run->f;
	(void)i;
	(void)j;

	if (f->mx.dnssec == SMTPROBE_DNSSEC_BOGUS)
		return;
	for (size_t k = 0; k < f->mx.n && f->nmx < SMTPROBE_DC_MAX_MX; k++) {
		unsigned pref;
		char host[300];
		if (sscanf(f->mx.rec[k], "%u %299s", &pref, host) != 2 ||
		    strcmp(host, ".") == 0) /* the null MX (RFC 7505) */
			continue;
		/* in preference order, ties as the answer has them */
		size_t at = f->nmx;
		while (at > 0 && f->mxs[at - 1].pref > pref) {
			f->mxs[at] = f->mxs[at - 1];
			at--;
		}
		struct smtprobe_dc_mx *mx = &f->mxs[at];
		memset(mx, 0, sizeof(*mx));
		snprintf(mx->host, sizeof(mx->host), "%.255s", host);
		mx->pref = pref;
		f->nmx++;
	}
	for (size_t n = 0; n < f->nmx; n++) {
		struct smtprobe_dc_mx *mx = &f->mxs[n];
		/* TLSA is asked once the A answer tells the name (on_host_addr)
		 */
		dc_ask(run, mx->host, SMTPROBE_RR_A, &mx->a, on_host_addr, n,
		       0);
		dc_ask(run, mx->host, SMTPROBE_RR_AAAA, &mx->aaaa, on_host_addr,
		       n, 1);
		dc_ask(run, mx->host, SMTPROBE_RR_CNAME, &mx->cname, NULL, n,
		       0);
	}
	/* no MX at all: the domain is its own MX (RFC 5321 §5.1) */
	if (f->mx.status == SMTPROBE_DNS_NODATA && f->nmx == 0) {
		struct smtprobe_dc_mx *mx = &f->mxs[f->nmx++];
		snprintf(mx->host, sizeof(mx->host), "%s", f->domain);
		dc_ask(run, mx->host, SMTPROBE_RR_A, &mx->a, on_host_addr, 0,
		       0);
		dc_ask(run, mx->host, SMTPROBE_RR_AAAA, &mx->aaaa, on_host_addr,
		       0, 1);
	}
}

/* the DMARC record came: reports to other organisational domains need
 * their authorisation (RFC 7489 §7.1); no record: the organisational
 * domain's */
static void on_dmarc(struct dc_run *run, size_t i, size_t j)
{
	struct smtprobe_dc_facts *f = run->f;
	/* i: 0 the domain's record, 1 the organisational domain's */
	const struct smtprobe_dc_answer *x = i ? &f->org_dmarc : &f->dmarc;
	struct smtprobe_txt txt[SMTPROBE_DC_MAX_RECORDS];
	struct smtprobe_dmarc d;
	size_t first = 0;
	(void)j;

	if (x->dnssec == SMTPROBE_DNSSEC_BOGUS)
		return;
	for (size_t k = 0; k < x->n; k++)
		txt[k] = (struct smtprobe_txt){x->rec[k], strlen(x->rec[k])};
	if (smtprobe_dmarc_select(txt, x->n, &first) == 0) {
		if (i == 0 && f->org_domain[0] &&
		    strcasecmp(f->org_domain, f->domain) != 0) {
			char name[300];
			snprintf(name, sizeof(name), "_dmarc.%s",
			         f->org_domain);
			dc_ask(run, name, SMTPROBE_RR_TXT, &f->org_dmarc,
			       on_dmarc, 1, 0);
		}
		return;
	}
	const char *rec = x->rec[first];
	if (smtprobe_dmarc_parse(rec, strlen(rec), &d) != 0)
		return;
	for (size_t k = 0; k < d.nrua && f->nrua < SMTPROBE_DC_MAX_RUA; k++) {
		const struct smtprobe_report_uri *u = &d.rua[k];
		char dom[256], name[600];
		if (u->scheme != SMTPROBE_URI_MAILTO || u->domain.len == 0 ||
		    u->domain.len >= sizeof(dom))
			continue;
		memcpy(dom, rec + u->domain.off, u->domain.len);
		dom[u->domain.len] = '\0';
		if (dc_same_org(run, dom, f->domain))
			continue;
		int dup = 0;
		for (size_t m = 0; m < f->nrua; m++)
			dup |= strcasecmp(f->rua_domain[m], dom) == 0;
		if (dup || smtprobe_dmarc_report_name(
		                   f->domain, strlen(f->domain), dom,
		                   strlen(dom), name, sizeof(name)) != 0)
			continue;
		snprintf(f->rua_domain[f->nrua], sizeof(f->rua_domain[0]), "%s",
		         dom);
		dc_ask(run, name, SMTPROBE_RR_TXT, &f->rua_auth[f->nrua], NULL,
		       0, 0);
		f->nrua++;
	}
}

/* ---- the run --------------------------------------------------------------
 */

int dc_same_org(const struct dc_run *run, const char *a, const char *b)
{
	const char *oa = run->psl ? psl_registrable_domain(run->psl, a) : a;
	const char *ob = run->psl ? psl_registrable_domain(run->psl, b) : b;
	if (oa == NULL)
		oa = a;
	if (ob == NULL)
		ob = b;
	return strcasecmp(oa, ob) == 0;
}

static void on_deadline(uv_timer_t *t)
{
	struct dc_run *run = t->data;
	run->stopping = 1;
	uv_stop(t->loop);
}

static int valid_domain(const char *d)
{
	size_t n = strlen(d), label = 0;

	if (n == 0 || n > 253)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = d[i];
		if (c == '.') {
			if (label == 0 || label > 63)
				return 0;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
		label++;
	}
	return label > 0 && label <= 63;
}

static void start(struct dc_run *run)
{
	struct smtprobe_dc_facts *f = run->f;
	const struct smtprobe_dc_params *p = run->p;
	char name[600];

	dc_ask(run, f->domain, SMTPROBE_RR_MX, &f->mx, on_mx, 0, 0);
	dc_ask(run, f->domain, SMTPROBE_RR_TXT, &f->txt, dc_spf_start, 0, 0);
	snprintf(name, sizeof(name), "_dmarc.%s", f->domain);
	dc_ask(run, name, SMTPROBE_RR_TXT, &f->dmarc, on_dmarc, 0, 0);
	snprintf(name, sizeof(name), "_mta-sts.%s", f->domain);
	dc_ask(run, name, SMTPROBE_RR_TXT, &f->sts, dc_sts_start, 0, 0);
	snprintf(name, sizeof(name), "_smtp._tls.%s", f->domain);
	dc_ask(run, name, SMTPROBE_RR_TXT, &f->tlsrpt, NULL, 0, 0);
	dc_ask(run, f->domain, SMTPROBE_RR_DNSKEY, &f->dnskey, NULL, 0, 0);
	for (size_t k = 0; k < p->nsel && k < SMTPROBE_DC_MAX_SELECTORS; k++) {
		snprintf(f->selector[k], sizeof(f->selector[0]), "%s",
		         p->selectors[k]);
		snprintf(name, sizeof(name), "%s._domainkey.%s",
		         p->selectors[k], f->domain);
		dc_ask(run, name, SMTPROBE_RR_TXT, &f->dkim[k], NULL, 0, 0);
		f->nsel++;
	}
}

int smtprobe_dns_collect(const struct smtprobe_dc_params *p,
                         struct smtprobe_dc_facts *f, char *err, size_t errsz)
{
	struct dc_run run;
	uv_timer_t deadline;

	memset(f, 0, sizeof(*f));
	memset(&run, 0, sizeof(run));
	snprintf(f->domain, sizeof(f->domain), "%s",
	         p->domain ? p->domain : "");
	size_t n = strlen(f->domain);
	if (n > 1 && f->domain[n - 1] == '.')
		f->domain[n - 1] = '\0'; /* the root's dot: example.org. */
	if (!valid_domain(f->domain)) {
		snprintf(err, errsz, "'%s' is not a domain name",
		         p->domain ? p->domain : "");
		return -1;
	}
	run.f = f;
	run.p = p;
	run.psl = psl_builtin();
	const char *org =
	        run.psl ? psl_registrable_domain(run.psl, f->domain) : NULL;
	snprintf(f->org_domain, sizeof(f->org_domain), "%s",
	         org ? org : f->domain);
	if (p->ip)
		snprintf(f->spf_ip, sizeof(f->spf_ip), "%s", p->ip);
	uv_loop_init(&run.loop);
	run.dns = smtprobe_dns_new(&run.loop, &p->dns, err, errsz);
	if (run.dns == NULL) {
		uv_loop_close(&run.loop);
		return -1;
	}
	run.t0 = uv_now(&run.loop);
	uv_timer_init(&run.loop, &deadline);
	deadline.data = &run;
	uv_timer_start(&deadline, on_deadline,
	               p->timeout_ms ? p->timeout_ms : DEFAULT_TIMEOUT_MS, 0);
	start(&run);
	while (run.pending > 0 && !run.stopping &&
	       uv_run(&run.loop, UV_RUN_ONCE))
		;
	int in_time = !run.stopping;
	unsigned left = dc_left_ms(&run);
	run.stopping = 1;
	dc_spf_finish(&run);
	smtprobe_dns_close(run.dns);
	uv_close((uv_handle_t *)&deadline, NULL);
	dc_sts_join(&run); /* a fetch still running is waited for */
	uv_run(&run.loop, UV_RUN_DEFAULT);
	uv_loop_close(&run.loop);
	while (run.slots) {
		struct dc_slot *s = run.slots;
		run.slots = s->next;
		free(s);
	}
	if (p->connect)
		dc_connect_all(p, f, in_time ? left : 0);
	return 0;
}
