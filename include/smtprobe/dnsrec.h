/* dnsrec.h - pure parsers of the mail domain's DNS records: the tag=value
 * lists of DMARC (RFC 7489, RFC 9091), DKIM keys (RFC 6376, RFC 8463),
 * MTA-STS (RFC 8461) and TLS-RPT (RFC 8460), the MTA-STS policy file and
 * its mx patterns.
 *
 * Every parser is a function over (buf, len): no I/O, no DNS, no
 * allocation kept. Results describe the record with spans into buf, so buf
 * must outlive them. A parser returns 0, or a negative enum
 * smtprobe_dnsrec_err and fills out->error: the code, the offending tag
 * (a span) and a lower-case message naming the record and the tag, with
 * the record's bytes escaped ("dmarc: p='block' is not none, quarantine or
 * reject"). The parsers report facts; judging them (is p=none a warning?)
 * is the checker's, with the helpers below where the issue fixed a rule. */
#ifndef SMTPROBE_DNSREC_H
#define SMTPROBE_DNSREC_H

#include <stddef.h>
#include <stdint.h>

#include "smtprobe/reply.h" /* struct smtprobe_span */

/* Caps on hostile input; each one is an error when hit, never a
 * truncation. A TXT record (its strings joined) of more than
 * SMTPROBE_DNSREC_MAX_RECORD bytes (room for an RSA key of 16384 bits);
 * more than SMTPROBE_TAGLIST_MAX_TAGS tags; more than
 * SMTPROBE_DNSREC_MAX_URIS URIs in one rua= or ruf=; an MTA-STS policy of
 * more than SMTPROBE_MTASTS_MAX_POLICY bytes (the bound of issue 14) or
 * more than SMTPROBE_MTASTS_MAX_MX mx patterns. */
#define SMTPROBE_DNSREC_MAX_RECORD 8192
#define SMTPROBE_TAGLIST_MAX_TAGS  32
#define SMTPROBE_DNSREC_MAX_URIS   8
#define SMTPROBE_MTASTS_MAX_POLICY (64 * 1024)
#define SMTPROBE_MTASTS_MAX_MX     128
#define SMTPROBE_DNSREC_ERRLEN     192
/* max_age's upper bound, RFC 8461 §3.2 (one year) */
#define SMTPROBE_MTASTS_MAX_AGE 31557600UL
/* a domain name as text, without the final dot */
#define SMTPROBE_DNSREC_MAX_NAME 253

enum smtprobe_dnsrec_err {
	SMTPROBE_DNSREC_OK = 0,
	SMTPROBE_DNSREC_E_TOO_LONG = -1,  /* over a byte cap */
	SMTPROBE_DNSREC_E_TOO_MANY = -2,  /* over a count cap */
	SMTPROBE_DNSREC_E_SYNTAX = -3,    /* not a tag list / policy lines */
	SMTPROBE_DNSREC_E_DUPLICATE = -4, /* a tag twice where the RFC
	                                   * forbids it (DKIM, DMARC) */
	SMTPROBE_DNSREC_E_VERSION = -5,   /* v= missing, not first or wrong */
	SMTPROBE_DNSREC_E_MISSING = -6,   /* a required tag or field absent */
	SMTPROBE_DNSREC_E_VALUE = -7,     /* a known tag's value is invalid */
	SMTPROBE_DNSREC_E_KEY = -8,       /* DKIM p= does not decode */
	SMTPROBE_DNSREC_E_KEY_TYPE = -9,  /* DKIM k= unknown, or p= of
	                                   * another type */
};

struct smtprobe_dnsrec_error {
	enum smtprobe_dnsrec_err code;
	struct smtprobe_span at; /* the offending tag (or line) in buf */
	unsigned line;           /* policy file: its line, from 1; else 0 */
	char text[SMTPROBE_DNSREC_ERRLEN]; /* "" when code is OK */
};

/* "value out of range", for a code; never NULL. */
const char *smtprobe_dnsrec_strerror(int code);

/* One TXT record as the resolver gave it, its strings joined. */
struct smtprobe_txt {
	const char *data;
	size_t len;
};

/* Domain names equal as DNS compares them: ASCII case ignored, one final
 * dot ignored on either side. */
int smtprobe_dnsrec_domain_eq(const char *a, size_t alen, const char *b,
                              size_t blen);

/* ---- the tag=value list (taglist.c) ---- */

/* The four grammars differ in details: DKIM allows folding whitespace
 * anywhere between tokens and names ALPHA *(ALPHA / DIGIT / "_"); DMARC
 * allows WSP around "=" and compares names ignoring case; MTA-STS and
 * TLS-RPT allow no space around "=", name (ALPHA / DIGIT) *31(ALPHA /
 * DIGIT / "_" / "-" / ".") and do not forbid a tag twice (the first
 * counts). All four allow WSP around ";" and one empty element at the end
 * ("a=1; "), not elsewhere (";;"). */
enum smtprobe_taglist_dialect {
	SMTPROBE_TAGLIST_DKIM,
	SMTPROBE_TAGLIST_DMARC,
	SMTPROBE_TAGLIST_MTASTS,
	SMTPROBE_TAGLIST_TLSRPT,
	SMTPROBE_TAGLIST_LAST
};

struct smtprobe_tag {
	struct smtprobe_span name;
	struct smtprobe_span value; /* without whitespace at either end */
};

struct smtprobe_taglist {
	enum smtprobe_taglist_dialect dialect;
	int duplicates; /* MTA-STS, TLS-RPT: some name came twice */
	size_t n;
	struct smtprobe_tag tag[SMTPROBE_TAGLIST_MAX_TAGS];
	struct smtprobe_dnsrec_error error;
};

/* Split buf into tags. Values hold printable ASCII and inner whitespace
 * only; their meaning is the record parser's. 0 or a negative error. */
int smtprobe_taglist_parse(const char *buf, size_t len,
                           enum smtprobe_taglist_dialect d,
                           struct smtprobe_taglist *out);
/* The first tag named name (the dialect's case rule), or NULL. */
const struct smtprobe_tag *
smtprobe_taglist_find(const struct smtprobe_taglist *tl, const char *buf,
                      const char *name);

/* A report URI of DMARC rua=/ruf= or TLS-RPT rua=. */
enum smtprobe_uri_scheme {
	SMTPROBE_URI_MAILTO,
	SMTPROBE_URI_HTTPS,
	SMTPROBE_URI_OTHER,
};

struct smtprobe_report_uri {
	struct smtprobe_span uri; /* without DMARC's "!size" */
	enum smtprobe_uri_scheme scheme;
	/* mailto: the address's domain (for RFC 7489 §7.1); https: the
	 * host; other: empty */
	struct smtprobe_span domain;
	uint64_t max_size; /* DMARC "!10m": bytes; 0 = no limit given */
};

/* ---- DMARC (dmarc.c) ---- */

enum smtprobe_dmarc_policy {
	SMTPROBE_DMARC_P_UNSET = 0,
	SMTPROBE_DMARC_P_NONE,
	SMTPROBE_DMARC_P_QUARANTINE,
	SMTPROBE_DMARC_P_REJECT,
};

/* which tags the record had (the defaults are filled in regardless) */
enum smtprobe_dmarc_has {
	SMTPROBE_DMARC_HAS_P = 1u << 0,
	SMTPROBE_DMARC_HAS_SP = 1u << 1,
	SMTPROBE_DMARC_HAS_NP = 1u << 2,
	SMTPROBE_DMARC_HAS_PCT = 1u << 3,
	SMTPROBE_DMARC_HAS_RUA = 1u << 4,
	SMTPROBE_DMARC_HAS_RUF = 1u << 5,
	SMTPROBE_DMARC_HAS_ADKIM = 1u << 6,
	SMTPROBE_DMARC_HAS_ASPF = 1u << 7,
	SMTPROBE_DMARC_HAS_FO = 1u << 8,
	SMTPROBE_DMARC_HAS_RF = 1u << 9,
	SMTPROBE_DMARC_HAS_RI = 1u << 10,
	SMTPROBE_DMARC_HAS_UNKNOWN = 1u << 11, /* a tag RFC 7489 lacks */
};

/* fo= options */
enum smtprobe_dmarc_fo {
	SMTPROBE_DMARC_FO_0 = 1u << 0,
	SMTPROBE_DMARC_FO_1 = 1u << 1,
	SMTPROBE_DMARC_FO_D = 1u << 2,
	SMTPROBE_DMARC_FO_S = 1u << 3,
};

struct smtprobe_dmarc {
	unsigned has;                  /* enum smtprobe_dmarc_has */
	enum smtprobe_dmarc_policy p;  /* UNSET only when p= is missing */
	enum smtprobe_dmarc_policy sp; /* default: p */
	enum smtprobe_dmarc_policy np; /* RFC 9091; default: sp */
	unsigned pct;                  /* 0..100; default 100 */
	char adkim, aspf;              /* 'r' (default) or 's' */
	unsigned fo;                   /* enum smtprobe_dmarc_fo; default 0 */
	int rf_unknown;                /* rf= names a format besides afrf */
	unsigned long ri;              /* seconds; default 86400 */
	size_t nrua, nruf;
	struct smtprobe_report_uri rua[SMTPROBE_DNSREC_MAX_URIS];
	struct smtprobe_report_uri ruf[SMTPROBE_DNSREC_MAX_URIS];
	struct smtprobe_dnsrec_error error; /* the first error */
};

/* Parse a DMARC policy record (the one at _dmarc.DOMAIN). An error stops
 * at the tag list or at v=; past them the first error is kept and the
 * other tags are still read, so a caller can apply §6.6.3's rule (a bad
 * p= with a valid rua= reads as p=none). A missing p= is an error. */
int smtprobe_dmarc_parse(const char *buf, size_t len,
                         struct smtprobe_dmarc *out);

/* Of the TXT records at _dmarc.DOMAIN, how many start with v=DMARC1
 * (§6.6.3: none, or more than one, means no policy); *first is the index
 * of the first when there is one. */
size_t smtprobe_dmarc_select(const struct smtprobe_txt *txt, size_t n,
                             size_t *first);

/* RFC 7489 §7.1: the name a report destination in another organisation
 * publishes to accept reports for domain: "DOMAIN._report._dmarc.OTHER".
 * Final dots are dropped. 0, or -1 when the name is over
 * SMTPROBE_DNSREC_MAX_NAME or outsz. */
int smtprobe_dmarc_report_name(const char *domain, size_t dlen,
                               const char *rua_domain, size_t rlen, char *out,
                               size_t outsz);
/* §7.1: whether the TXT records found at that name authorise reports:
 * at least one starts with v=DMARC1. */
int smtprobe_dmarc_report_auth(const struct smtprobe_txt *txt, size_t n);

const char *smtprobe_dmarc_policy_name(enum smtprobe_dmarc_policy p);

/* ---- DKIM key records (dkim_key.c) ---- */

enum smtprobe_dkim_ktype {
	SMTPROBE_DKIM_K_RSA = 0, /* the default */
	SMTPROBE_DKIM_K_ED25519,
};

enum smtprobe_dkim_flag {
	SMTPROBE_DKIM_F_VERSION = 1u << 0,   /* v=DKIM1 given */
	SMTPROBE_DKIM_F_REVOKED = 1u << 1,   /* p= empty */
	SMTPROBE_DKIM_F_TESTING = 1u << 2,   /* t=y */
	SMTPROBE_DKIM_F_STRICT = 1u << 3,    /* t=s */
	SMTPROBE_DKIM_F_H = 1u << 4,         /* h= given ... */
	SMTPROBE_DKIM_F_H_SHA1 = 1u << 5,    /* ... and names sha1 */
	SMTPROBE_DKIM_F_H_SHA256 = 1u << 6,  /* ... and names sha256 */
	SMTPROBE_DKIM_F_NOT_EMAIL = 1u << 7, /* s= names neither * nor email */
	SMTPROBE_DKIM_F_PKCS1 = 1u << 8,     /* RSA p= is a bare RSAPublicKey,
	                                      * not a SubjectPublicKeyInfo */
	SMTPROBE_DKIM_F_UNKNOWN_TAG = 1u << 9,
};

struct smtprobe_dkim_key {
	unsigned flags; /* enum smtprobe_dkim_flag */
	enum smtprobe_dkim_ktype ktype;
	int bits;                   /* key size; 0 when revoked */
	struct smtprobe_span notes; /* n=, as published */
	struct smtprobe_dnsrec_error error;
};

/* Parse the key record at SELECTOR._domainkey.DOMAIN and decode p= (RSA:
 * SubjectPublicKeyInfo, or the bare RSAPublicKey RFC 6376 names; ed25519:
 * the raw 32-byte key of RFC 8463). 0 or a negative error. */
int smtprobe_dkim_key_parse(const char *buf, size_t len,
                            struct smtprobe_dkim_key *out);

/* The rule, most severe first: invalid (a parse error), revoked
 * (p= empty), unusable for mail (s= without email or *, or h= without
 * sha256: RFC 8301 forbids verifying with sha1), RSA under 1024 bits
 * (fail), under 2048 bits (warn; RFC 8301 §3.2 has the same two bounds),
 * testing (t=y), good. */
enum smtprobe_dkim_class {
	SMTPROBE_DKIM_C_INVALID,
	SMTPROBE_DKIM_C_REVOKED,
	SMTPROBE_DKIM_C_UNUSABLE,
	SMTPROBE_DKIM_C_TOO_WEAK,
	SMTPROBE_DKIM_C_WEAK,
	SMTPROBE_DKIM_C_TESTING,
	SMTPROBE_DKIM_C_GOOD,
};
#define SMTPROBE_DKIM_RSA_FAIL_BITS 1024
#define SMTPROBE_DKIM_RSA_WARN_BITS 2048

enum smtprobe_dkim_class
smtprobe_dkim_key_class(const struct smtprobe_dkim_key *k);
const char *smtprobe_dkim_class_name(enum smtprobe_dkim_class c);
const char *smtprobe_dkim_ktype_name(enum smtprobe_dkim_ktype t);

/* ---- MTA-STS and TLS-RPT (mtasts.c) ---- */

struct smtprobe_mtasts_record {
	struct smtprobe_span id;
	int duplicates; /* a tag came twice (the first counts) */
	struct smtprobe_dnsrec_error error;
};

/* The TXT record at _mta-sts.DOMAIN (RFC 8461 §3.1): v=STSv1 first, id=
 * of 1 to 32 letters and digits, extensions well-formed. */
int smtprobe_mtasts_record_parse(const char *buf, size_t len,
                                 struct smtprobe_mtasts_record *out);
/* How many start with v=STSv1 (then ";", whitespace or the end); anything
 * but one means no policy. *first as for smtprobe_dmarc_select(). */
size_t smtprobe_mtasts_select(const struct smtprobe_txt *txt, size_t n,
                              size_t *first);

enum smtprobe_mtasts_mode {
	SMTPROBE_MTASTS_UNSET = 0,
	SMTPROBE_MTASTS_ENFORCE,
	SMTPROBE_MTASTS_TESTING,
	SMTPROBE_MTASTS_NONE,
};

enum smtprobe_mtasts_flag {
	SMTPROBE_MTASTS_F_CRLF = 1u << 0,    /* some line ends in CRLF */
	SMTPROBE_MTASTS_F_LF = 1u << 1,      /* some line ends in a bare LF */
	SMTPROBE_MTASTS_F_BLANK = 1u << 2,   /* a blank line between fields */
	SMTPROBE_MTASTS_F_DUP = 1u << 3,     /* a field besides mx came twice
	                                      * (the first counts, §3.2) */
	SMTPROBE_MTASTS_F_UNKNOWN = 1u << 4, /* a field RFC 8461 lacks */
};

struct smtprobe_mtasts_policy {
	unsigned flags; /* enum smtprobe_mtasts_flag */
	enum smtprobe_mtasts_mode mode;
	unsigned long max_age; /* seconds, 0..SMTPROBE_MTASTS_MAX_AGE */
	size_t nmx;
	struct smtprobe_span mx[SMTPROBE_MTASTS_MAX_MX];
	struct smtprobe_dnsrec_error error; /* error.line: where */
};

/* The policy file (RFC 8461 §3.2): "key: value" lines ended by CRLF or
 * LF, version: STSv1 first, mode, max_age and (unless mode is none) at
 * least one mx, each ["*."] Domain. Unknown fields are ignored. */
int smtprobe_mtasts_policy_parse(const char *buf, size_t len,
                                 struct smtprobe_mtasts_policy *out);

/* §4.1: whether an MX host name matches a pattern. ASCII case ignored, a
 * final dot on either ignored; "*." matches exactly one whole leftmost
 * label ("*.example.com" matches "mx.example.com", not "example.com" nor
 * "a.b.example.com"). */
int smtprobe_mtasts_mx_match(const char *pattern, size_t plen, const char *host,
                             size_t hlen);
/* The index of the first pattern of policy p (parsed from buf) that host
 * matches, or -1. */
long smtprobe_mtasts_policy_match(const struct smtprobe_mtasts_policy *p,
                                  const char *buf, const char *host,
                                  size_t hlen);
const char *smtprobe_mtasts_mode_name(enum smtprobe_mtasts_mode m);

struct smtprobe_tlsrpt {
	size_t nrua;
	struct smtprobe_report_uri rua[SMTPROBE_DNSREC_MAX_URIS];
	int duplicates;
	struct smtprobe_dnsrec_error error;
};

/* The TXT record at _smtp._tls.DOMAIN (RFC 8460 §3): v=TLSRPTv1 first,
 * rua= one or more mailto: or https: URIs. */
int smtprobe_tlsrpt_parse(const char *buf, size_t len,
                          struct smtprobe_tlsrpt *out);
/* How many start with v=TLSRPTv1; anything but one means no TLS-RPT. */
size_t smtprobe_tlsrpt_select(const struct smtprobe_txt *txt, size_t n,
                              size_t *first);

#endif
