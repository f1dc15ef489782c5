/* mx_route.c - where mail for a domain goes (mxroute.h, RFC 5321 §5.1):
 * the MX records through lib/dns's resolver (no validation: routing needs
 * no proof, and a test resolver's zones need not chain to the root), then
 * every MX host's A and AAAA at once; hosts in preference order, ties in
 * the order of the answer, addresses IPv4 first. No MX records: the
 * domain itself (the implicit MX). A null MX ("0 .", RFC 7505), a domain
 * that does not exist, an MX lookup that failed and hosts without an
 * address are errors, each said in words. An address literal needs no
 * lookup. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "smtprobe/mxroute.h"
#include "banned.h"

#define DEFAULT_TIMEOUT_MS 10000u

struct rt_query {
	struct rt_run *run;
	size_t host;
	int type;
};

struct rt_run {
	struct smtprobe_route *r;
	struct smtprobe_dns *dns;
	int family;
	unsigned pending;
	/* the MX answer */
	enum smtprobe_dns_status mx_status;
	char mx_why[160];
	int null_mx;
	/* per host: its addresses by type (A first) */
	char v4[SMTPROBE_ROUTE_MAX_HOSTS][SMTPROBE_ROUTE_MAX_ADDRS][64];
	size_t n4[SMTPROBE_ROUTE_MAX_HOSTS];
	struct rt_query q[SMTPROBE_ROUTE_MAX_HOSTS * 2];
	size_t nq;
};

static void on_addr(const struct smtprobe_dns_answer *a, void *arg)
{
	struct rt_query *q = arg;
	struct rt_run *run = q->run;
	struct smtprobe_route_host *h = &run->r->host[q->host];

	run->pending--;
	if (a->status != SMTPROBE_DNS_OK) {
		if (h->why[0] == '\0' || a->type == SMTPROBE_RR_A)
			snprintf(h->why, sizeof(h->why), "%s: %s", a->name,
			         a->status == SMTPROBE_DNS_NODATA
			                 ? "no address"
			                 : smtprobe_dns_status_name(a->status));
		return;
	}
	for (size_t k = 0; k < a->n; k++) {
		char text[64];
		if (smtprobe_dns_addr(a->type, a->rdata[k], a->rdlen[k], text,
		                      sizeof(text)) < 0)
			continue;
		if (a->type == SMTPROBE_RR_A &&
		    run->n4[q->host] < SMTPROBE_ROUTE_MAX_ADDRS)
			snprintf(run->v4[q->host][run->n4[q->host]++], 64, "%s",
			         text);
		else if (a->type == SMTPROBE_RR_AAAA &&
		         h->naddr < SMTPROBE_ROUTE_MAX_ADDRS)
			snprintf(h->addr[h->naddr++], sizeof(h->addr[0]), "%s",
			         text);
	}
}

static void ask_addrs(struct rt_run *run, size_t i)
{
	static const int types[] = {SMTPROBE_RR_A, SMTPROBE_RR_AAAA};

	for (size_t t = 0; t < 2; t++) {
		if ((run->family == 4 && types[t] != SMTPROBE_RR_A) ||
		    (run->family == 6 && types[t] != SMTPROBE_RR_AAAA))
			continue;
		struct rt_query *q = &run->q[run->nq];
		*q = (struct rt_query){run, i, types[t]};
		if (smtprobe_dns_query(run->dns, run->r->host[i].host, types[t],
		                       on_addr, q) == 0) {
			run->nq++;
			run->pending++;
		}
	}
}

static void on_mx(const struct smtprobe_dns_answer *a, void *arg)
{
	struct rt_run *run = arg;
	struct smtprobe_route *r = run->r;

	run->pending--;
	run->mx_status = a->status;
	snprintf(run->mx_why, sizeof(run->mx_why), "%s", a->why ? a->why : "");
	if (a->status == SMTPROBE_DNS_NODATA) {
		r->kind = SMTPROBE_ROUTE_IMPLICIT;
		r->n = 1;
		snprintf(r->host[0].host, sizeof(r->host[0].host), "%s",
		         r->domain);
		ask_addrs(run, 0);
		return;
	}
	if (a->status != SMTPROBE_DNS_OK)
		return;
	for (size_t k = 0; k < a->n; k++) {
		unsigned pref;
		char name[256];
		if (smtprobe_dns_mx(a->rdata[k], a->rdlen[k], &pref, name,
		                    sizeof(name)) < 0)
			continue;
		if (strcmp(name, ".") == 0 || name[0] == '\0') {
			run->null_mx = 1;
			continue;
		}
		if (r->n == SMTPROBE_ROUTE_MAX_HOSTS) {
			r->truncated = 1;
			continue;
		}
		/* insert by preference, after the equal ones (stable) */
		size_t at = r->n;
		while (at > 0 && r->host[at - 1].pref > pref)
			at--;
		memmove(&r->host[at + 1], &r->host[at],
		        (r->n - at) * sizeof(r->host[0]));
		memset(&r->host[at], 0, sizeof(r->host[0]));
		snprintf(r->host[at].host, sizeof(r->host[at].host), "%s",
		         name);
		r->host[at].pref = pref;
		r->n++;
	}
	if (run->null_mx && r->n > 0)
		run->null_mx = 0; /* RFC 7505 §3: other MX records win */
	for (size_t i = 0; i < r->n; i++)
		ask_addrs(run, i);
}

static void on_deadline(uv_timer_t *t)
{
	uv_stop(t->loop);
}

/* "[192.0.2.1]" or "[IPv6:2001:db8::1]": the address, 1; else 0 */
static int literal(const char *d, char *out, size_t outsz)
{
	size_t n = strlen(d);
	unsigned char b[16];
	char inner[64];

	if (n < 3 || d[0] != '[' || d[n - 1] != ']' || n - 2 >= sizeof(inner))
		return 0;
	memcpy(inner, d + 1, n - 2);
	inner[n - 2] = '\0';
	const char *a = strncasecmp(inner, "IPv6:", 5) == 0 ? inner + 5 : inner;
	if (inet_pton(a == inner ? AF_INET : AF_INET6, a, b) != 1)
		return 0;
	snprintf(out, outsz, "%s", a);
	return 1;
}

static int finish(struct rt_run *run, char *err, size_t errsz)
{
	struct smtprobe_route *r = run->r;
	const char *d = r->domain;

	if (run->null_mx) {
		snprintf(err, errsz,
		         "%s takes no mail: its MX record is the null MX '0 .' "
		         "(RFC 7505)",
		         d);
		return -1;
	}
	switch (run->mx_status) {
	case SMTPROBE_DNS_OK:
	case SMTPROBE_DNS_NODATA:
		break;
	case SMTPROBE_DNS_NXDOMAIN:
		snprintf(err, errsz, "%s does not exist (NXDOMAIN)", d);
		return -1;
	default:
		snprintf(err, errsz, "the MX lookup for %s failed: %s%s%s", d,
		         smtprobe_dns_status_name(run->mx_status),
		         run->mx_why[0] ? ": " : "", run->mx_why);
		return -1;
	}
	size_t usable = 0;
	for (size_t i = 0; i < r->n; i++) {
		struct smtprobe_route_host *h = &r->host[i];
		size_t n4 = run->n4[i], n6 = h->naddr;
		/* IPv4 first: move the IPv6 ones up */
		if (n4 + n6 > SMTPROBE_ROUTE_MAX_ADDRS)
			n6 = SMTPROBE_ROUTE_MAX_ADDRS - n4;
		memmove(h->addr[n4], h->addr[0], n6 * sizeof(h->addr[0]));
		for (size_t k = 0; k < n4; k++)
			snprintf(h->addr[k], sizeof(h->addr[k]), "%s",
			         run->v4[i][k]);
		h->naddr = n4 + n6;
		if (h->naddr > 0)
			h->why[0] = '\0';
		else if (h->why[0] == '\0')
			snprintf(h->why, sizeof(h->why),
			         "%s: no answer in time", h->host);
		usable += h->naddr > 0;
	}
	if (usable == 0 && r->kind == SMTPROBE_ROUTE_IMPLICIT) {
		snprintf(err, errsz,
		         "%s has no MX record and no address of its own (%s)",
		         d, r->host[0].why);
		return -1;
	}
	if (usable == 0) {
		snprintf(err, errsz, "no MX host of %s has an address%s%s", d,
		         r->n ? ": " : "", r->n ? r->host[0].why : "");
		return -1;
	}
	return 0;
}

int smtprobe_mx_route(const char *domain, const struct smtprobe_dns_opts *o,
                      int family, unsigned timeout_ms, struct smtprobe_route *r,
                      char *err, size_t errsz)
{
	struct smtprobe_dns_opts opts = o ? *o : (struct smtprobe_dns_opts){0};
	struct rt_run *run;
	uv_loop_t loop;
	uv_timer_t deadline;
	char addr[64];
	int rc;

	memset(r, 0, sizeof(*r));
	snprintf(r->domain, sizeof(r->domain), "%s", domain ? domain : "");
	size_t n = strlen(r->domain);
	if (n > 1 && r->domain[n - 1] == '.')
		r->domain[n - 1] = '\0';
	if (literal(r->domain, addr, sizeof(addr))) {
		r->kind = SMTPROBE_ROUTE_LITERAL;
		r->n = 1;
		snprintf(r->host[0].host, sizeof(r->host[0].host), "%s", addr);
		snprintf(r->host[0].addr[0], sizeof(r->host[0].addr[0]), "%s",
		         addr);
		r->host[0].naddr = 1;
		return 0;
	}
	if (r->domain[0] == '\0' ||
	    strspn(r->domain, "abcdefghijklmnopqrstuvwxyz"
	                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                      "0123456789-._") != n) {
		snprintf(err, errsz, "'%s' is not a domain name",
		         domain ? domain : "");
		return -1;
	}
	run = calloc(1, sizeof(*run));
	if (run == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	run->r = r;
	run->family = family;
	run->mx_status = SMTPROBE_DNS_TIMEOUT;
	opts.no_validation = 1;
	uv_loop_init(&loop);
	run->dns = smtprobe_dns_new(&loop, &opts, err, errsz);
	if (run->dns == NULL) {
		uv_loop_close(&loop);
		free(run);
		return -1;
	}
	uv_timer_init(&loop, &deadline);
	uv_timer_start(&deadline, on_deadline,
	               timeout_ms ? timeout_ms : DEFAULT_TIMEOUT_MS, 0);
	if (smtprobe_dns_query(run->dns, r->domain, SMTPROBE_RR_MX, on_mx,
	                       run) == 0)
		run->pending++;
	while (run->pending > 0 && uv_run(&loop, UV_RUN_ONCE))
		if (!uv_is_active((uv_handle_t *)&deadline))
			break;
	smtprobe_dns_close(run->dns);
	uv_close((uv_handle_t *)&deadline, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	rc = finish(run, err, errsz);
	free(run);
	return rc;
}

void smtprobe_route_why(const struct smtprobe_route *r, size_t i, char *out,
                        size_t outsz)
{
	const struct smtprobe_route_host *h = &r->host[i];

	switch (r->kind) {
	case SMTPROBE_ROUTE_LITERAL:
		snprintf(out, outsz, "the address literal [%s]", h->host);
		return;
	case SMTPROBE_ROUTE_IMPLICIT:
		snprintf(out, outsz,
		         "%s has no MX record: the domain itself (RFC 5321 "
		         "§5.1)",
		         r->domain);
		return;
	case SMTPROBE_ROUTE_MX:
		break;
	}
	snprintf(out, outsz, "MX %u %s for %s, %zu of %zu by preference",
	         h->pref, h->host, r->domain, i + 1, r->n);
}
