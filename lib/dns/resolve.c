/* resolve.c - DNS lookups (dnsq.h) with libunbound on a libuv loop:
 * libunbound resolves in a thread of its own (ub_ctx_async), its result
 * pipe (ub_fd) is watched by a uv_poll and ub_process() hands the answers
 * over on the loop; each query has a uv_timer for its deadline (a query
 * past it is cancelled and answered TIMEOUT). DNSSEC validation runs inside
 * libunbound from the trust anchor given (or Debian's root key). With a
 * resolver, every query is forwarded there, the loopback allowed, and the
 * zones libunbound would answer itself are made transparent. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unbound.h>
#include <unistd.h>

#include "smtprobe/dnsq.h"
#include "banned.h"

#define DEFAULT_TIMEOUT_MS 5000u
#define ROOT_KEY           "/usr/share/dns/root.key"

/* The zones libunbound answers locally by default (unbound.conf(5),
 * local-zone): with a resolver given they must reach it. */
static const char *const default_local[] = {
        "localhost.",
        "127.in-addr.arpa.",
        /* clang-format off */
        "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.",
        /* clang-format on */
        "test.",
        "invalid.",
        "onion.",
        "home.arpa.",
        "resolver.arpa.",
        "service.arpa.",
        "10.in-addr.arpa.",
        "168.192.in-addr.arpa.",
        "254.169.in-addr.arpa.",
        "0.in-addr.arpa.",
        "64.100.in-addr.arpa.",
};

struct query {
	struct smtprobe_dns *d;
	struct query *next, *prev;
	char *name;
	int type;
	int async_id;
	smtprobe_dns_cb cb;
	void *arg;
	uv_timer_t timer; /* data: the query */
	int answered;     /* the callback was called (or never will be) */
	int in_unbound;   /* libunbound may still call on_result */
	int finished;     /* unlinked, its timer closing */
};

struct smtprobe_dns {
	uv_loop_t *loop;
	struct ub_ctx *ctx;
	uv_poll_t poll;
	int poll_open;
	unsigned timeout_ms;
	struct query *pending;
	size_t npending;
	int closing;
	unsigned handles; /* uv handles still open (poll, timers) */
};

static const char *const status_names[] = {"ok",       "nodata",  "nxdomain",
                                           "servfail", "timeout", "error"};
static const char *const dnssec_names[] = {"insecure", "secure", "bogus"};

const char *smtprobe_dns_status_name(enum smtprobe_dns_status s)
{
	return (unsigned)s < sizeof(status_names) / sizeof(status_names[0])
	               ? status_names[s]
	               : "?";
}

const char *smtprobe_dnssec_name(enum smtprobe_dnssec s)
{
	return (unsigned)s < sizeof(dnssec_names) / sizeof(dnssec_names[0])
	               ? dnssec_names[s]
	               : "?";
}

static void maybe_free(struct smtprobe_dns *d)
{
	if (!d->closing || d->handles > 0)
		return;
	if (d->ctx)
		ub_ctx_delete(d->ctx);
	free(d);
}

static void on_handle_closed(uv_handle_t *h)
{
	struct smtprobe_dns *d;
	if (h->type == UV_TIMER) {
		struct query *q = h->data;
		d = q->d;
		free(q->name);
		free(q);
	} else {
		d = h->data;
	}
	d->handles--;
	maybe_free(d);
}

static void unlink_query(struct query *q)
{
	struct smtprobe_dns *d = q->d;
	if (q->prev)
		q->prev->next = q->next;
	else
		d->pending = q->next;
	if (q->next)
		q->next->prev = q->prev;
	q->next = q->prev = NULL;
	d->npending--;
}

/* The query is over: its timer closes, then it is freed. */
static void finish(struct query *q)
{
	/* once only, even when a callback closed the resolver */
	if (q->finished)
		return;
	q->finished = 1;
	unlink_query(q);
	uv_timer_stop(&q->timer);
	uv_close((uv_handle_t *)&q->timer, on_handle_closed);
}

static void deliver(struct query *q, const struct ub_result *r, int err)
{
	struct smtprobe_dns_answer a;

	memset(&a, 0, sizeof(a));
	a.name = q->name;
	a.type = q->type;
	if (err != 0 || r == NULL) {
		a.status = SMTPROBE_DNS_ERROR;
		a.why = err ? ub_strerror(err) : "no result";
	} else {
		a.rcode = r->rcode;
		a.canonname = r->canonname;
		a.dnssec = r->secure  ? SMTPROBE_DNSSEC_SECURE
		           : r->bogus ? SMTPROBE_DNSSEC_BOGUS
		                      : SMTPROBE_DNSSEC_INSECURE;
		if (r->bogus)
			a.why = r->why_bogus ? r->why_bogus
			                     : "validation failed";
		if (r->havedata) {
			a.status = SMTPROBE_DNS_OK;
			size_t n = 0;
			while (r->data[n])
				n++;
			a.n = n;
			a.rdata = (const unsigned char *const *)r->data;
			a.rdlen = r->len;
		} else if (r->nxdomain || r->rcode == 3) {
			a.status = SMTPROBE_DNS_NXDOMAIN;
		} else if (r->rcode == 0) {
			a.status = SMTPROBE_DNS_NODATA;
		} else if (r->rcode == 2) {
			a.status = SMTPROBE_DNS_SERVFAIL;
		} else {
			a.status = SMTPROBE_DNS_ERROR;
			a.why = "the resolver refused or failed the query";
		}
	}
	q->answered = 1;
	q->cb(&a, q->arg);
}

static void on_result(void *arg, int err, struct ub_result *r)
{
	struct query *q = arg;

	q->in_unbound = 0;
	if (!q->answered)
		deliver(q, r, err);
	if (r)
		ub_resolve_free(r);
	finish(q);
}

static void on_timeout(uv_timer_t *t)
{
	struct query *q = t->data;

	if (q->answered)
		return;
	struct smtprobe_dns_answer a;
	memset(&a, 0, sizeof(a));
	a.name = q->name;
	a.type = q->type;
	a.status = SMTPROBE_DNS_TIMEOUT;
	a.why = "no answer in time";
	q->answered = 1;
	q->cb(&a, q->arg);
	/* libunbound drops an answer of a cancelled query (1.17: ub_cancel
	 * succeeds for every live query); should it not, on_result comes
	 * and frees the query then */
	if (ub_cancel(q->d->ctx, q->async_id) == 0) {
		q->in_unbound = 0;
		finish(q);
	}
}

static void on_poll(uv_poll_t *p, int status, int events)
{
	struct smtprobe_dns *d = p->data;
	(void)status;
	(void)events;
	ub_process(d->ctx);
}

/* "ADDR", "ADDR:PORT", "[IPv6]:PORT" or a bare IPv6 address as
 * libunbound's "ADDR@PORT"; 0 or -1. */
static int fwd_spec(const char *s, char *out, size_t outsz)
{
	unsigned char buf[16];
	char host[64];
	const char *port = NULL;
	size_t n;

	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (!end || (end[1] != '\0' && end[1] != ':'))
			return -1;
		n = (size_t)(end - s - 1);
		if (end[1] == ':')
			port = end + 2;
		s++;
	} else if (strchr(s, ':') && strchr(s, ':') == strrchr(s, ':')) {
		n = (size_t)(strchr(s, ':') - s);
		port = strchr(s, ':') + 1;
	} else {
		n = strlen(s);
	}
	if (n == 0 || n >= sizeof(host))
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	if (inet_pton(AF_INET, host, buf) != 1 &&
	    inet_pton(AF_INET6, host, buf) != 1)
		return -1;
	if (port) {
		char *end;
		unsigned long p = strtoul(port, &end, 10);
		if (!*port || *end || p == 0 || p > 65535)
			return -1;
		snprintf(out, outsz, "%s@%lu", host, p);
	} else {
		snprintf(out, outsz, "%s", host);
	}
	return 0;
}

static int configure(struct smtprobe_dns *d, const struct smtprobe_dns_opts *o,
                     char *err, size_t errsz)
{
	int rc;

	if (o && o->resolver) {
		char spec[96];
		if (fwd_spec(o->resolver, spec, sizeof(spec)) < 0) {
			snprintf(err, errsz,
			         "bad resolver '%s' (ADDR, ADDR:PORT or "
			         "[IPv6]:PORT, a numeric address)",
			         o->resolver);
			return -1;
		}
		if ((rc = ub_ctx_set_option(
		             d->ctx, "do-not-query-localhost:", "no")) != 0 ||
		    (rc = ub_ctx_set_fwd(d->ctx, spec)) != 0) {
			snprintf(err, errsz, "resolver %s: %s", o->resolver,
			         ub_strerror(rc));
			return -1;
		}
		for (size_t i = 0;
		     i < sizeof(default_local) / sizeof(default_local[0]);
		     i++) {
			char z[160];
			snprintf(z, sizeof(z), "%s transparent",
			         default_local[i]);
			if ((rc = ub_ctx_set_option(d->ctx,
			                            "local-zone:", z)) != 0) {
				snprintf(err, errsz, "local-zone %s: %s", z,
				         ub_strerror(rc));
				return -1;
			}
		}
	} else if ((rc = ub_ctx_resolvconf(d->ctx, NULL)) != 0) {
		snprintf(err, errsz, "resolv.conf: %s", ub_strerror(rc));
		return -1;
	}
	const char *ta = o && o->trust_anchor ? o->trust_anchor : NULL;
	if (o && o->no_validation)
		ta = NULL; /* every answer insecure: routing needs no proof */
	else if (ta == NULL && access(ROOT_KEY, R_OK) == 0)
		ta = ROOT_KEY;
	if (ta && (rc = ub_ctx_add_ta_file(d->ctx, ta)) != 0) {
		snprintf(err, errsz, "trust anchor %s: %s", ta,
		         ub_strerror(rc));
		return -1;
	}
	if ((rc = ub_ctx_async(d->ctx, 1)) != 0) {
		snprintf(err, errsz, "libunbound: %s", ub_strerror(rc));
		return -1;
	}
	return 0;
}

struct smtprobe_dns *smtprobe_dns_new(uv_loop_t *loop,
                                      const struct smtprobe_dns_opts *o,
                                      char *err, size_t errsz)
{
	struct smtprobe_dns *d = calloc(1, sizeof(*d));

	if (d == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	d->loop = loop;
	d->timeout_ms = o && o->timeout_ms ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
	d->ctx = ub_ctx_create();
	if (d->ctx == NULL) {
		snprintf(err, errsz, "libunbound: cannot create a context");
		free(d);
		return NULL;
	}
	if (configure(d, o, err, errsz) < 0 ||
	    uv_poll_init(loop, &d->poll, ub_fd(d->ctx)) != 0) {
		if (err[0] == '\0')
			snprintf(err, errsz, "cannot watch libunbound's fd");
		ub_ctx_delete(d->ctx);
		free(d);
		return NULL;
	}
	d->poll.data = d;
	d->poll_open = 1;
	d->handles = 1;
	uv_poll_start(&d->poll, UV_READABLE, on_poll);
	return d;
}

int smtprobe_dns_query(struct smtprobe_dns *d, const char *name, int type,
                       smtprobe_dns_cb cb, void *arg)
{
	if (d->closing)
		return -1;
	struct query *q = calloc(1, sizeof(*q));
	if (q == NULL || (q->name = strdup(name)) == NULL) {
		free(q);
		return -1;
	}
	q->d = d;
	q->type = type;
	q->cb = cb;
	q->arg = arg;
	uv_timer_init(d->loop, &q->timer);
	q->timer.data = q;
	d->handles++;
	q->next = d->pending;
	if (d->pending)
		d->pending->prev = q;
	d->pending = q;
	d->npending++;
	int rc = ub_resolve_async(d->ctx, q->name, type, 1, q, on_result,
	                          &q->async_id);
	if (rc != 0) {
		unlink_query(q);
		uv_close((uv_handle_t *)&q->timer, on_handle_closed);
		return -1;
	}
	q->in_unbound = 1;
	uv_timer_start(&q->timer, on_timeout, d->timeout_ms, 0);
	return 0;
}

size_t smtprobe_dns_pending(const struct smtprobe_dns *d)
{
	return d->npending;
}

void smtprobe_dns_close(struct smtprobe_dns *d)
{
	if (d == NULL || d->closing)
		return;
	d->closing = 1;
	/* the poll stops below: libunbound calls no callback any more */
	while (d->pending) {
		struct query *q = d->pending;
		if (q->in_unbound)
			ub_cancel(d->ctx, q->async_id);
		q->answered = 1;
		finish(q);
	}
	if (d->poll_open) {
		d->poll_open = 0;
		uv_poll_stop(&d->poll);
		uv_close((uv_handle_t *)&d->poll, on_handle_closed);
	}
}
