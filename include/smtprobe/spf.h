/* spf.h - SPF (RFC 7208): the record parser, record selection, the
 * check_host() evaluator and the static lookup count.
 *
 * Everything here is pure code: no I/O, no DNS library. The parser is a
 * function over (buf, len) that describes the record with spans into buf.
 * The evaluator never resolves anything itself: it says which query it
 * needs, the caller answers, and so on until it says "done". The same
 * object, created with SMTPROBE_SPF_STATIC, walks the include/redirect
 * tree without an IP and counts what RFC 7208 section 4.6.4 counts.
 *
 *	struct smtprobe_spf_eval *ev;
 *	const struct smtprobe_spf_query *q;
 *
 *	smtprobe_spf_eval_new(&ev, &params);
 *	while (smtprobe_spf_eval_step(ev, &q) == SMTPROBE_SPF_NEED) {
 *		... resolve q->name, q->type; fill an answer ...
 *		smtprobe_spf_eval_answer(ev, &answer);
 *	}
 *	out = smtprobe_spf_eval_outcome(ev);
 *	smtprobe_spf_eval_free(ev);
 *
 * docs/internals/spf.md says why we evaluate SPF ourselves and how the
 * limits map to the RFC. */
#ifndef SMTPROBE_SPF_H
#define SMTPROBE_SPF_H

#include <stddef.h>

#include "smtprobe/dnsrec.h" /* struct smtprobe_txt */
#include "smtprobe/reply.h"  /* struct smtprobe_span */

/* Caps. A record (its TXT strings joined by the caller) longer than
 * SMTPROBE_SPF_MAX_RECORD bytes or of more than SMTPROBE_SPF_MAX_TERMS terms
 * is refused with its own error code (a permerror when evaluated): the RFC
 * sets no such bound, real records stay under 512 bytes and ~50 terms.
 * SMTPROBE_SPF_MAX_EXPAND bounds one macro expansion; longer is a permerror
 * of the term. The other numbers are RFC 7208's. */
#define SMTPROBE_SPF_MAX_RECORD   4096
#define SMTPROBE_SPF_MAX_TERMS    128
#define SMTPROBE_SPF_MAX_NAME     253 /* a domain name, without final dot */
#define SMTPROBE_SPF_MAX_EXPAND   8192
#define SMTPROBE_SPF_MAX_LOOKUPS  10 /* DNS-querying terms, 4.6.4 */
#define SMTPROBE_SPF_MAX_VOID     2  /* void lookups, 4.6.4 */
#define SMTPROBE_SPF_MAX_MX_NAMES 10 /* MX records per mx term, 4.6.4 */
#define SMTPROBE_SPF_MAX_PTR      10 /* PTR names considered, 4.6.4 */
/* The evaluator's nesting (top record + includes): one more than the
 * lookup limit allows, so the limit is what stops a loop. */
#define SMTPROBE_SPF_MAX_DEPTH 12
/* The static walk goes on past the limit to report the full count, up to
 * this many DNS-querying terms; then it stops and says so. */
#define SMTPROBE_SPF_WALK_MAX_LOOKUPS 100
/* Caller-supplied identities (sender, HELO name, receiver). */
#define SMTPROBE_SPF_MAX_IDENTITY 512
#define SMTPROBE_SPF_MAX_SHOW     256 /* a term quoted in a message */
#define SMTPROBE_SPF_MAX_MSG      384
#define SMTPROBE_SPF_MAX_EXPLAIN  1024

/* check_host() results, RFC 7208 section 2.6. */
enum smtprobe_spf_result {
	SMTPROBE_SPF_NONE,
	SMTPROBE_SPF_NEUTRAL,
	SMTPROBE_SPF_PASS,
	SMTPROBE_SPF_FAIL,
	SMTPROBE_SPF_SOFTFAIL,
	SMTPROBE_SPF_TEMPERROR,
	SMTPROBE_SPF_PERMERROR,
	SMTPROBE_SPF_RESULT_LAST
};

/* "pass", "softfail", ...; never NULL. */
const char *smtprobe_spf_result_name(int result);

/* Why a record was refused or an evaluation ended in an error. */
enum smtprobe_spf_err {
	SMTPROBE_SPF_OK = 0,
	/* the record (parser) */
	SMTPROBE_SPF_E_TOO_LONG = -1,       /* over SMTPROBE_SPF_MAX_RECORD */
	SMTPROBE_SPF_E_TOO_MANY_TERMS = -2, /* over SMTPROBE_SPF_MAX_TERMS */
	SMTPROBE_SPF_E_VERSION = -3,        /* does not start "v=spf1" */
	SMTPROBE_SPF_E_CHAR = -4,           /* control, non-ASCII byte */
	SMTPROBE_SPF_E_UNKNOWN = -5,        /* neither mechanism nor modifier */
	SMTPROBE_SPF_E_SYNTAX = -6,     /* a mechanism's argument is wrong */
	SMTPROBE_SPF_E_DOMAIN = -7,     /* invalid domain-spec */
	SMTPROBE_SPF_E_MACRO = -8,      /* invalid macro */
	SMTPROBE_SPF_E_MACRO_EXP = -9,  /* %{c} %{r} %{t} outside exp */
	SMTPROBE_SPF_E_IP4 = -10,       /* not an IPv4 network */
	SMTPROBE_SPF_E_IP6 = -11,       /* not an IPv6 network */
	SMTPROBE_SPF_E_CIDR = -12,      /* invalid prefix length */
	SMTPROBE_SPF_E_MODIFIER = -13,  /* invalid modifier name or value */
	SMTPROBE_SPF_E_DUPLICATE = -14, /* redirect= or exp= twice */
	/* the evaluation */
	SMTPROBE_SPF_E_MULTIPLE = -20,   /* two or more SPF records, 4.5 */
	SMTPROBE_SPF_E_LOOKUPS = -21,    /* > 10 DNS-querying terms */
	SMTPROBE_SPF_E_VOID = -22,       /* > 2 void lookups */
	SMTPROBE_SPF_E_MX_LIMIT = -23,   /* > 10 MX records for one mx */
	SMTPROBE_SPF_E_NO_RECORD = -24,  /* include/redirect target lacks SPF */
	SMTPROBE_SPF_E_BAD_TARGET = -25, /* expanded target not a name */
	SMTPROBE_SPF_E_EXPAND = -26,     /* over SMTPROBE_SPF_MAX_EXPAND */
	SMTPROBE_SPF_E_DNS = -27,        /* servfail/timeout: temperror */
	SMTPROBE_SPF_E_LOOP = -28,       /* static walk: include loop */
	SMTPROBE_SPF_E_DEPTH = -29,      /* static walk: nested too deep */
	SMTPROBE_SPF_E_PARAM = -30,      /* eval_new: bad parameter */
	SMTPROBE_SPF_E_NOMEM = -31,
	SMTPROBE_SPF_E_STATE = -32, /* answer() without a pending query */
};

/* "not an IPv4 network", for a code; never NULL. */
const char *smtprobe_spf_strerror(int code);

/* ---- the record (spf.c) ---- */

enum smtprobe_spf_kind {
	SMTPROBE_SPF_ALL,
	SMTPROBE_SPF_INCLUDE,
	SMTPROBE_SPF_A,
	SMTPROBE_SPF_MX,
	SMTPROBE_SPF_PTR,
	SMTPROBE_SPF_IP4,
	SMTPROBE_SPF_IP6,
	SMTPROBE_SPF_EXISTS,
	SMTPROBE_SPF_REDIRECT, /* modifiers from here on */
	SMTPROBE_SPF_EXP,
	SMTPROBE_SPF_UNKNOWN_MOD, /* kept, ignored by the evaluation (6) */
	SMTPROBE_SPF_KIND_LAST
};

/* "include", ...; "modifier" for the unknown ones; never NULL. */
const char *smtprobe_spf_kind_name(int kind);
/* 1 for the terms 4.6.4 counts: include a mx ptr exists redirect. */
int smtprobe_spf_kind_counts(int kind);

/* Flags of a term's domain-spec (or modifier value). */
enum smtprobe_spf_term_flag {
	SMTPROBE_SPF_T_MACRO = 1u << 0, /* has a macro */
	/* needs the connecting IP or the HELO name: i p v h c */
	SMTPROBE_SPF_T_NEEDS_IP = 1u << 1,
	SMTPROBE_SPF_T_NEEDS_HELO = 1u << 2,
	SMTPROBE_SPF_T_NEEDS_PTR = 1u << 3, /* %{p}: costs PTR lookups */
};

struct smtprobe_spf_term {
	enum smtprobe_spf_kind kind;
	enum smtprobe_spf_result qual; /* pass (+, default) fail softfail
	                                  neutral; modifiers: pass */
	unsigned flags;
	struct smtprobe_span text; /* the whole term as written */
	struct smtprobe_span arg;  /* domain-spec, network or value; len 0:
	                              none */
	struct smtprobe_span name; /* a modifier's name */
	unsigned char net[16];     /* ip4 (first 4 bytes), ip6 */
	int cidr4, cidr6;          /* -1: not given */
};

struct smtprobe_spf_record {
	size_t nterms;
	int redirect, exp, all; /* index of the term, or -1 */
	unsigned counted;       /* its own DNS-querying terms */
	struct smtprobe_spf_term terms[SMTPROBE_SPF_MAX_TERMS];
};

struct smtprobe_spf_error {
	int code;        /* 0 or a negative enum smtprobe_spf_err */
	size_t term;     /* 1-based index of the offending term; 0: none */
	size_t off, len; /* its bytes in the record */
	/* "permerror: 'ip4:300.1.1.1' is not an IPv4 network" */
	char msg[SMTPROBE_SPF_MAX_MSG];
};

/* Parse one record (RFC 7208 section 12). Returns 0, or a negative enum
 * smtprobe_spf_err with err filled (err may be NULL). Syntax errors
 * anywhere are found, also after an "all"; a second redirect= or exp= is
 * one. rec describes buf with spans, so buf must outlive it. */
int smtprobe_spf_parse(const char *buf, size_t len,
                       struct smtprobe_spf_record *rec,
                       struct smtprobe_spf_error *err);

/* 1 when (p, len) begins with the version section "v=spf1" (any case)
 * ended by a space or the end of the record, else 0 (section 4.5). */
int smtprobe_spf_is_record(const char *p, size_t len);

enum smtprobe_spf_sel {
	SMTPROBE_SPF_SEL_NONE,
	SMTPROBE_SPF_SEL_ONE,
	SMTPROBE_SPF_SEL_MULTIPLE, /* a permerror, section 4.5 */
};

/* Pick the SPF record among the TXT records of a name. *first (may be
 * NULL) gets the index of the first SPF record, *count (may be NULL) how
 * many there are. */
enum smtprobe_spf_sel smtprobe_spf_select(const struct smtprobe_txt *txt,
                                          size_t n, size_t *first,
                                          size_t *count);

/* ---- the evaluator (spf_eval.c) ---- */

enum smtprobe_spf_qtype {
	SMTPROBE_SPF_Q_TXT,
	SMTPROBE_SPF_Q_A,
	SMTPROBE_SPF_Q_AAAA,
	SMTPROBE_SPF_Q_MX,
	SMTPROBE_SPF_Q_PTR,
	SMTPROBE_SPF_Q_LAST
};

/* "TXT", "A", ...; never NULL. */
const char *smtprobe_spf_qtype_name(int type);

/* A query the evaluator needs. name is the text of a domain name without
 * the final dot (a reverse name for PTR); every byte but '.' is a label
 * byte, it may hold any printable ASCII (macros put spaces and '%' there),
 * so a resolver that parses presentation format must escape it. */
struct smtprobe_spf_query {
	enum smtprobe_spf_qtype type;
	char name[SMTPROBE_SPF_MAX_NAME + 1];
};

enum smtprobe_spf_rcode {
	SMTPROBE_SPF_R_OK,       /* NOERROR, with n records (may be 0) */
	SMTPROBE_SPF_R_NXDOMAIN, /* name error */
	SMTPROBE_SPF_R_SERVFAIL, /* any other failure, timeouts included */
};

struct smtprobe_spf_ip {
	unsigned char family; /* 4 or 6 */
	unsigned char addr[16];
};

/* The answer to the pending query. Only the array of the query's type is
 * read: txt for TXT (one element per record, strings joined), addr for A
 * and AAAA (entries of the other family are ignored), names for MX (the
 * exchanges; "" or "." is a null MX) and PTR. The evaluator copies what it
 * keeps: the arrays may go when smtprobe_spf_eval_answer() returns. */
struct smtprobe_spf_answer {
	enum smtprobe_spf_rcode rcode;
	size_t n;
	const struct smtprobe_txt *txt;
	const struct smtprobe_spf_ip *addr;
	const char *const *names;
};

enum smtprobe_spf_mode {
	/* check_host() for ip; the default */
	SMTPROBE_SPF_EVAL = 0,
	/* no IP: walk the include and redirect tree, count the DNS-querying
	 * terms and the void lookups as 4.6.4 does, every mechanism taken
	 * as "no match" so that every term is reached. Only TXT queries,
	 * and with SMTPROBE_SPF_PROBE_VOID also A/AAAA/MX of the a, mx and
	 * exists targets whose names need no IP (to count void lookups). */
	SMTPROBE_SPF_STATIC = 1,
};
#define SMTPROBE_SPF_PROBE_VOID 0x100u

struct smtprobe_spf_params {
	unsigned mode;      /* enum smtprobe_spf_mode | SMTPROBE_SPF_PROBE_* */
	const char *ip;     /* "192.0.2.3", "2001:db8::cb01"; NULL in STATIC.
	                       An IPv4-mapped IPv6 address is taken as IPv4 */
	const char *domain; /* the <domain> of check_host() */
	const char *sender; /* MAIL FROM; NULL or "": postmaster@domain */
	const char *helo;   /* %{h}; NULL: "unknown" */
	/* for explanations only: %{r} (NULL: "unknown"), %{t} */
	const char *receiver;
	long long now;
};

struct smtprobe_spf_eval;

/* Returns 0, SMTPROBE_SPF_E_PARAM (ip not an address, an identity over
 * SMTPROBE_SPF_MAX_IDENTITY or with a byte outside printable ASCII) or
 * SMTPROBE_SPF_E_NOMEM. A domain that is not a valid name is not an error
 * here: the evaluation ends with "none" (section 4.3). */
int smtprobe_spf_eval_new(struct smtprobe_spf_eval **out,
                          const struct smtprobe_spf_params *p);
void smtprobe_spf_eval_free(struct smtprobe_spf_eval *ev);

#define SMTPROBE_SPF_DONE 0
#define SMTPROBE_SPF_NEED 1
/* Run until a query is needed (returns SMTPROBE_SPF_NEED, *q points into
 * ev and stays valid until the answer) or the result is known
 * (SMTPROBE_SPF_DONE). */
int smtprobe_spf_eval_step(struct smtprobe_spf_eval *ev,
                           const struct smtprobe_spf_query **q);
/* Answer the pending query: 0, or SMTPROBE_SPF_E_STATE when none is. */
int smtprobe_spf_eval_answer(struct smtprobe_spf_eval *ev,
                             const struct smtprobe_spf_answer *a);

struct smtprobe_spf_outcome {
	enum smtprobe_spf_result result;
	int error; /* why a permerror/temperror/none; 0 otherwise */
	/* The term of the top-level record (after redirects) that decided,
	 * as written, and that record's domain; "" when no term matched
	 * (default neutral) or the record could not be had. */
	char mechanism[SMTPROBE_SPF_MAX_SHOW];
	char mech_domain[SMTPROBE_SPF_MAX_NAME + 1];
	/* The innermost term: the one that matched, or the one where the
	 * error happened, inside includes; equal to mechanism without
	 * includes. */
	char leaf[SMTPROBE_SPF_MAX_SHOW];
	char leaf_domain[SMTPROBE_SPF_MAX_NAME + 1];
	/* one line for people, beginning with the result word */
	char reason[SMTPROBE_SPF_MAX_MSG];
	/* fail only: the expanded exp= domain and, when its TXT record gave
	 * one, the expanded explanation; exp_problem says why not ("" when
	 * there is one or there is no exp=) */
	char exp_domain[SMTPROBE_SPF_MAX_NAME + 1];
	char explanation[SMTPROBE_SPF_MAX_EXPLAIN];
	const char *exp_problem;
	unsigned lookups;      /* DNS-querying terms reached, 4.6.4 */
	unsigned void_lookups; /* NXDOMAIN or empty answers, 4.6.4 */
	unsigned queries;      /* queries asked of the caller */
	/* STATIC: records walked; terms whose target needs the IP or the
	 * HELO name (counted, not followed); the first term over the
	 * lookup limit and its record; 1 when the walk stopped at
	 * SMTPROBE_SPF_WALK_MAX_LOOKUPS or SMTPROBE_SPF_MAX_DEPTH; problems
	 * found (the first one is error/reason/leaf) */
	unsigned records, unexpanded, problems;
	int truncated;
	char over[SMTPROBE_SPF_MAX_SHOW];
	char over_domain[SMTPROBE_SPF_MAX_NAME + 1];
};

/* Valid once step() returned SMTPROBE_SPF_DONE. In STATIC mode result is
 * none (no record), temperror (a TXT lookup failed: counts incomplete),
 * permerror (a problem that makes every evaluation reaching it fail:
 * syntax, target without SPF, over a limit, a loop) or neutral (no
 * problem found). */
const struct smtprobe_spf_outcome *
smtprobe_spf_eval_outcome(const struct smtprobe_spf_eval *ev);

#endif
