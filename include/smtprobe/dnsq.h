/* dnsq.h - DNS lookups for `smtprobe dns` (and MX routing): libunbound on
 * the caller's libuv loop, every query asynchronous, DNSSEC validated
 * in-process (secure / insecure / bogus with the validator's reason), a
 * deadline per query. With a resolver given, every name goes to it - the
 * names libunbound answers itself by default (test., invalid., localhost.,
 * 127.in-addr.arpa. and the other private reverse zones) included - and
 * the loopback is a resolver like any other. */
#ifndef SMTPROBE_DNSQ_H
#define SMTPROBE_DNSQ_H

#include <stddef.h>
#include <uv.h>

/* the record types the checks ask for (IANA numbers) */
enum smtprobe_rrtype {
	SMTPROBE_RR_A = 1,
	SMTPROBE_RR_CNAME = 5,
	SMTPROBE_RR_PTR = 12,
	SMTPROBE_RR_MX = 15,
	SMTPROBE_RR_TXT = 16,
	SMTPROBE_RR_AAAA = 28,
	SMTPROBE_RR_DS = 43,
	SMTPROBE_RR_DNSKEY = 48,
	SMTPROBE_RR_TLSA = 52,
};

struct smtprobe_dns_opts {
	/* "ADDR", "ADDR:PORT" or "[IPv6]:PORT": send every query there
	 * (recursion desired); NULL: the system's resolvers (resolv.conf) */
	const char *resolver;
	/* DS or DNSKEY records in zone-file format; NULL: Debian's root
	 * anchor (dns-root-data, /usr/share/dns/root.key) when present */
	const char *trust_anchor;
	unsigned timeout_ms; /* per query; 0: 5000 */
	/* no trust anchor at all: every answer insecure (MX routing, which
	 * needs no proof and must work with a test resolver whose zones do
	 * not chain to the root) */
	int no_validation;
};

enum smtprobe_dns_status {
	SMTPROBE_DNS_OK,       /* records came (n > 0) */
	SMTPROBE_DNS_NODATA,   /* the name exists, not this type */
	SMTPROBE_DNS_NXDOMAIN, /* the name does not exist */
	SMTPROBE_DNS_SERVFAIL, /* the resolver failed (or DNSSEC: bogus) */
	SMTPROBE_DNS_TIMEOUT,  /* no answer within timeout_ms */
	SMTPROBE_DNS_ERROR,    /* another rcode, or a local error (why) */
};

enum smtprobe_dnssec {
	SMTPROBE_DNSSEC_INSECURE, /* no chain of trust covers the name */
	SMTPROBE_DNSSEC_SECURE,   /* validated (data or its absence) */
	SMTPROBE_DNSSEC_BOGUS,    /* validation failed: why says how */
};

struct smtprobe_dns_answer {
	const char *name; /* as asked */
	int type;
	enum smtprobe_dns_status status;
	int rcode;
	enum smtprobe_dnssec dnssec;
	const char *why;       /* bogus: the validator's reason; error: ours */
	const char *canonname; /* after CNAMEs, or NULL */
	size_t n;              /* records (wire rdata, uncompressed names) */
	const unsigned char *const *rdata;
	const int *rdlen;
};

/* Called once per query, on the loop; a is valid during the call. */
typedef void (*smtprobe_dns_cb)(const struct smtprobe_dns_answer *a, void *arg);

struct smtprobe_dns;

/* A resolver on loop; NULL with err (a bad resolver address, an
 * unreadable anchor). */
struct smtprobe_dns *smtprobe_dns_new(uv_loop_t *loop,
                                      const struct smtprobe_dns_opts *o,
                                      char *err, size_t errsz);
/* Ask; cb comes later (never from inside this call). 0, or -1 (out of
 * memory, the resolver closing). */
int smtprobe_dns_query(struct smtprobe_dns *d, const char *name, int type,
                       smtprobe_dns_cb cb, void *arg);
/* Queries still waiting for an answer. */
size_t smtprobe_dns_pending(const struct smtprobe_dns *d);
/* Cancel what is pending (their callbacks are not called) and free the
 * resolver once the loop has released its handles. */
void smtprobe_dns_close(struct smtprobe_dns *d);

/* ---- rdata, as the answers carry it (pure) ---- */

/* TXT: the character-strings joined (RFC 7208 §3.3); the length, or -1
 * (malformed, or over outsz - 1). */
long smtprobe_dns_txt(const unsigned char *rd, int len, char *out,
                      size_t outsz);
/* A domain name in rdata at off (uncompressed) as text without the final
 * dot ("." for the root); the offset after it, or -1. */
long smtprobe_dns_name(const unsigned char *rd, int len, size_t off, char *out,
                       size_t outsz);
/* A or AAAA as text; 0 or -1. */
int smtprobe_dns_addr(int type, const unsigned char *rd, int len, char *out,
                      size_t outsz);
/* MX: the preference and the exchange; 0 or -1. */
int smtprobe_dns_mx(const unsigned char *rd, int len, unsigned *pref, char *out,
                    size_t outsz);

const char *smtprobe_dns_status_name(enum smtprobe_dns_status s);
const char *smtprobe_dnssec_name(enum smtprobe_dnssec s);

#endif
