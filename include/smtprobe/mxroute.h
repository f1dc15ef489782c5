/* mxroute.h - where mail for a domain goes (RFC 5321 §5.1), for `send`
 * without --server and `check DOMAIN`: the MX hosts in preference order
 * with their addresses, looked up through lib/dns's resolver (so
 * --resolver reaches test zones too); no MX at all: the domain itself (the
 * implicit MX); a null MX (RFC 7505): no route. */
#ifndef SMTPROBE_MXROUTE_H
#define SMTPROBE_MXROUTE_H

#include <stddef.h>

#include "dnsq.h"

#define SMTPROBE_ROUTE_MAX_HOSTS 8
#define SMTPROBE_ROUTE_MAX_ADDRS 6

enum smtprobe_route_kind {
	SMTPROBE_ROUTE_MX,       /* the domain's MX records */
	SMTPROBE_ROUTE_IMPLICIT, /* no MX: the domain's own addresses */
	SMTPROBE_ROUTE_LITERAL,  /* an address literal, [192.0.2.1] */
};

struct smtprobe_route_host {
	char host[256];
	unsigned pref;
	size_t naddr; /* IPv4 first, then IPv6 (as the family allows) */
	char addr[SMTPROBE_ROUTE_MAX_ADDRS][64];
	char why[160]; /* no address: why (NXDOMAIN, a timeout ...) */
};

struct smtprobe_route {
	char domain[256];
	enum smtprobe_route_kind kind;
	size_t n; /* hosts, by preference (ties in the answer's order) */
	struct smtprobe_route_host host[SMTPROBE_ROUTE_MAX_HOSTS];
	int truncated; /* more MX hosts than SMTPROBE_ROUTE_MAX_HOSTS */
};

/* Route mail for domain ("example.org", or a literal "[192.0.2.1]",
 * "[IPv6:2001:db8::1]"); family 0, 4 or 6 limits the addresses. Blocks
 * (its own loop), at most timeout_ms in all (0: 10 s). 0 with at least
 * one host that has an address, or -1 with err: the domain does not exist,
 * takes no mail (null MX), its MX lookup failed, or no host has an
 * address. */
int smtprobe_mx_route(const char *domain, const struct smtprobe_dns_opts *o,
                      int family, unsigned timeout_ms, struct smtprobe_route *r,
                      char *err, size_t errsz);

/* "MX 10 mx.example.org" / "no MX: example.org itself" / "the address
 * literal [192.0.2.1]": why host i was chosen, for people. */
void smtprobe_route_why(const struct smtprobe_route *r, size_t i, char *out,
                        size_t outsz);

#endif
