/* dnscheck.h - `smtprobe dns DOMAIN`: the mail domain's DNS posture. Two
 * halves: the collection (lib/dns/check.c) asks every lookup at once on
 * the loop and keeps the answers as text (struct smtprobe_dc_facts); the
 * judgement (lib/dns/judge*.c) is pure: facts in, checks out, each a
 * stable id with a status, the text and the fix (docs/internals/dns.md). */
#ifndef SMTPROBE_DNSCHECK_H
#define SMTPROBE_DNSCHECK_H

#include <stddef.h>

#include "dnsq.h"

/* an answer keeps at most this many records, each whole (a record's
 * text is at most its rdata: under 64 KiB) */
#define SMTPROBE_DC_MAX_RECORDS   256
#define SMTPROBE_DC_MAX_MX        8
#define SMTPROBE_DC_MAX_ADDRS     6 /* per MX host */
#define SMTPROBE_DC_MAX_PTR_NAMES 4 /* per address */
#define SMTPROBE_DC_MAX_SELECTORS 8
#define SMTPROBE_DC_MAX_RUA       8
#define SMTPROBE_DC_MAX_CHECKS    64

/* One lookup's answer. Records as text: TXT joined, MX "PREF NAME", A and
 * AAAA as addresses, PTR and CNAME as names, TLSA "USAGE SELECTOR TYPE
 * HEX"; each malloc'd whole (smtprobe_dc_answer_add), freed with the
 * facts. */
struct smtprobe_dc_answer {
	int asked; /* 0: not asked (the check is skipped) */
	enum smtprobe_dns_status status;
	enum smtprobe_dnssec dnssec;
	char why[160];
	char canonname[256]; /* "" when no CNAME was followed */
	size_t n;
	int truncated; /* more records than SMTPROBE_DC_MAX_RECORDS, or one
	                  that could not be read */
	char **rec;    /* n records, NUL-terminated */
	size_t cap;
};

/* Append a record of len bytes (a NUL inside becomes \x01: it must not
 * hide what follows); 0, or -1 (the cap: truncated set; out of memory). */
int smtprobe_dc_answer_add(struct smtprobe_dc_answer *a, const char *text,
                           size_t len);
/* Free the records; the answer is as new (not asked). */
void smtprobe_dc_answer_clear(struct smtprobe_dc_answer *a);

/* One SMTP connection to an MX address (params.connect): the banner and
 * EHLO names, STARTTLS and, when the MX has usable TLSA records, DANE's
 * match of the chain it sent. Names and texts escaped. */
struct smtprobe_dc_smtp {
	int tried;             /* 0: not connected (see why) */
	char why[256];         /* not tried: why; tried: how it ended early */
	int banner_code;       /* 0: no banner */
	char banner[256];      /* the banner's first line, code and all */
	char banner_name[256]; /* its first word after the code */
	char ehlo_name[256];   /* the first word of the EHLO reply */
	int starttls;          /* offered in the EHLO reply */
	int tls;               /* the handshake completed */
	char tls_error[256];   /* ... or why not */
	char protocol[16];
	int verify_ok; /* PKIX (or DANE when records were given) */
	char verify_reason[256];
	int host_match;       /* the certificate names the MX host */
	char spki_sha256[65]; /* the leaf key's, for a TLSA 3 1 1 record */
	int software; /* enum smtprobe_software the session showed (banner,
	                 EHLO keywords, reply wording); 0 unknown */
	/* DANE: the records given (usable: usages 2/3 of a secure answer),
	 * and the match */
	size_t tlsa_given;
	int dane_checked, dane_match, dane_depth;
	int dane_usage, dane_selector, dane_mtype;
	double ms;
};

struct smtprobe_dc_addr {
	char addr[64];                 /* "127.0.0.2", "2001:db8::25" */
	struct smtprobe_dc_answer ptr; /* its PTR */
	/* the forward lookup of each PTR name (A for IPv4, AAAA for IPv6) */
	struct smtprobe_dc_answer fwd[SMTPROBE_DC_MAX_PTR_NAMES];
	struct smtprobe_dc_smtp smtp;
};

struct smtprobe_dc_mx {
	char host[256];
	unsigned pref;
	struct smtprobe_dc_answer a, aaaa;
	struct smtprobe_dc_answer cname; /* the host itself: a CNAME? */
	struct smtprobe_dc_answer tlsa;  /* _25._tcp.HOST */
	size_t naddr;
	struct smtprobe_dc_addr addr[SMTPROBE_DC_MAX_ADDRS];
};

struct smtprobe_dc_facts {
	char domain[256];
	struct smtprobe_dc_answer mx;    /* MX at the domain */
	struct smtprobe_dc_answer txt;   /* TXT at the domain (SPF) */
	struct smtprobe_dc_answer dmarc; /* TXT at _dmarc.DOMAIN */
	char org_domain[256];            /* the PSL's organisational domain */
	struct smtprobe_dc_answer org_dmarc; /* _dmarc.ORG when it differs */
	struct smtprobe_dc_answer sts;       /* TXT at _mta-sts.DOMAIN */
	struct smtprobe_dc_answer tlsrpt;    /* TXT at _smtp._tls.DOMAIN */
	struct smtprobe_dc_answer dnskey;    /* DNSKEY at the domain */
	size_t nmx;
	struct smtprobe_dc_mx mxs[SMTPROBE_DC_MAX_MX];
	size_t nsel;
	char selector[SMTPROBE_DC_MAX_SELECTORS][64];
	struct smtprobe_dc_answer dkim[SMTPROBE_DC_MAX_SELECTORS];
	/* DMARC reports to other domains: their authorisation record,
	 * TXT at DOMAIN._report._dmarc.RUA_DOMAIN (RFC 7489 §7.1) */
	size_t nrua;
	char rua_domain[SMTPROBE_DC_MAX_RUA][256];
	struct smtprobe_dc_answer rua_auth[SMTPROBE_DC_MAX_RUA];
	/* SPF: DNS-querying terms and void lookups counted through includes
	 * and redirects (RFC 7208 §4.6.4); with --ip, check_host()'s result */
	int spf_counted;
	unsigned spf_lookups, spf_voids;
	char spf_count_error[256]; /* a permerror met on the walk */
	int spf_count_code;        /* ... as enum smtprobe_spf_err; 0 none */
	int spf_evaluated;
	char spf_ip[64];
	char spf_result[16];     /* "pass", "fail", ... */
	char spf_mechanism[256]; /* the term that decided */
	char spf_explanation[256];
	/* MTA-STS: the policy over HTTPS */
	int sts_fetched;
	long http_status;
	char content_type[128];
	char sts_error[256]; /* the fetch failed: why (TLS, redirect, size) */
	char *sts_policy;    /* malloc'd, at most 64 KiB; NULL when none (freed
	                        by smtprobe_dc_facts_free too) */
	size_t sts_policy_len;
	/* SMTP to the MX addresses was asked (params.connect): each address's
	 * smtp says what came of it */
	int connect;
	unsigned mx_port;
};

enum smtprobe_dc_status {
	SMTPROBE_DC_PASS,
	SMTPROBE_DC_WARN,
	SMTPROBE_DC_FAIL,
	SMTPROBE_DC_INFO,
	SMTPROBE_DC_SKIP,
};

struct smtprobe_dc_check {
	const char *id; /* "mx.present", "spf.lookups", "dkim.key" ... */
	enum smtprobe_dc_status status;
	char selector[64]; /* dkim.key: the selector */
	char host[256];    /* per-MX checks: the host, when one */
	char text[512];
	char fix[512]; /* "" when there is nothing to do */
};

struct smtprobe_dc_report {
	size_t n;
	struct smtprobe_dc_check check[SMTPROBE_DC_MAX_CHECKS];
	int exit_code; /* 0 no fail, 1 a fail */
};

/* Every check id, in report order (NULL-ended): each appears in every
 * report, skip where it does not apply (dkim.key once per selector). */
extern const char *const smtprobe_dc_check_ids[];
const char *smtprobe_dc_status_name(enum smtprobe_dc_status s);

/* ---- the collection (lib/dns/check.c) ---- */

struct smtprobe_dc_params {
	const char *domain;
	struct smtprobe_dns_opts dns; /* --resolver, --trust-anchor, timeout */
	const char *ip;               /* --ip: evaluate SPF for it, or NULL */
	const char *const *selectors; /* --dkim-selector */
	size_t nsel;
	unsigned mta_sts_port; /* 0: 443 */
	const char *ca_file;   /* the MTA-STS fetch's and the MX certificates'
	                          trust anchors (a file) */
	const char *ca_path;   /* ... or a directory; NULL both: the system's */
	unsigned timeout_ms;   /* the whole collection; 0: 30 s */
	/* SMTP to every MX address once the lookups are done (at most 8 at
	 * once): banner, EHLO, STARTTLS with DANE, QUIT; 0: none */
	int connect;
	unsigned mx_port; /* 0: 25 */
	const char *helo; /* the EHLO name; NULL: "localhost" */
};

/* Gather the facts (blocks; its own loop). 0, or -1 with err (a bad
 * domain, a resolver that cannot be set up); lookups that fail are facts,
 * not errors. Release with smtprobe_dc_facts_free (every answer's records
 * and the policy), also after -1. */
int smtprobe_dns_collect(const struct smtprobe_dc_params *p,
                         struct smtprobe_dc_facts *f, char *err, size_t errsz);
void smtprobe_dc_facts_free(struct smtprobe_dc_facts *f);

/* Judge the facts (pure). */
void smtprobe_dns_judge(const struct smtprobe_dc_facts *f,
                        struct smtprobe_dc_report *r);

#endif
