/* kb.h - the knowledge base: what an SMTP reply, an enhanced status code,
 * a server's refusal text, a local network error or a certificate
 * verification error means, its likely causes and the fixes. The entries
 * are data compiled into the library (lib/kb/kb_data.c), not code. */
#ifndef SMTPROBE_KB_H
#define SMTPROBE_KB_H

#include <stddef.h>

#define SMTPROBE_KB_MAX_LIST 8

enum smtprobe_kb_kind {
	SMTPROBE_KB_BASIC,    /* a basic reply code of RFC 5321 (e.g. 554) */
	SMTPROBE_KB_ENHANCED, /* an enhanced status code (RFC 3463 & updates) */
	SMTPROBE_KB_TEXT,     /* a vendor's refusal text (Postfix, Exim, ...) */
	SMTPROBE_KB_LOCAL,    /* a local error: DNS, ECONNREFUSED, resets ... */
	SMTPROBE_KB_X509,     /* an OpenSSL certificate verification error */
};

struct smtprobe_kb_entry {
	const char *id; /* stable, e.g. "postfix-relay-access-denied" */
	enum smtprobe_kb_kind kind;
	const char *key; /* "554", "5.7.1", a text pattern, "ECONNREFUSED" */
	const char *title;
	const char *meaning;
	const char *causes[SMTPROBE_KB_MAX_LIST]; /* most likely first,
	                                             NULL-ended */
	const char *fixes[SMTPROBE_KB_MAX_LIST];
	const char *reference; /* "RFC 5321 4.2.3", "Postfix postconf(5) ..." */
};

/* Everything the knowledge base knows about a reply or error a user
 * pasted: code (0 = none), enhanced ("" = none), text (may be ""). The
 * matches come most specific first: vendor text, enhanced code, basic
 * code. Returns the number written to out (at most max). */
size_t smtprobe_kb_lookup(int code, const char *enhanced, const char *text,
                          const struct smtprobe_kb_entry **out, size_t max);

/* A local error by name ("ECONNREFUSED", "NXDOMAIN") or an X509 error by
 * OpenSSL's reason text ("certificate has expired") or number. */
const struct smtprobe_kb_entry *smtprobe_kb_local(const char *name);
const struct smtprobe_kb_entry *smtprobe_kb_x509(long code, const char *reason);

/* The entry with this stable id, or NULL. */
const struct smtprobe_kb_entry *smtprobe_kb_by_id(const char *id);

/* The entry that explains a session's failure, chosen from its values
 * (kind, sub-kind, errno, TLS alert and side, X509 code, the refusing
 * reply); NULL when the knowledge base has nothing for it. */
struct smtprobe_failure;
const struct smtprobe_kb_entry *
smtprobe_kb_failure(const struct smtprobe_failure *f);

/* ---- queries (kb_query.c) ------------------------------------------ */

#define SMTPROBE_KB_QUERY_MAX    1024 /* bytes of a pasted query */
#define SMTPROBE_KB_ENHANCED_MAX 16

/* What a user pasted: "554 5.7.1 Relay access denied", "550-5.7.26 ...",
 * "smtprobe: ...", "ECONNREFUSED", "certificate has expired". */
struct smtprobe_kb_query {
	int code;                                /* 0 = none */
	char enhanced[SMTPROBE_KB_ENHANCED_MAX]; /* "" = none */
	char text[SMTPROBE_KB_QUERY_MAX + 1];    /* the rest, printable ASCII */
};

/* Parse len bytes of buf (pure). Returns 0, or -1 when len is over
 * SMTPROBE_KB_QUERY_MAX. Control bytes become spaces, other non-ASCII
 * bytes '?'. */
int smtprobe_kb_query_parse(const char *buf, size_t len,
                            struct smtprobe_kb_query *q);
/* Everything known of a parsed query, most specific first (a text without
 * a code is also tried as a local error and a certificate reason); at
 * most max, no duplicates. */
size_t smtprobe_kb_query_match(const struct smtprobe_kb_query *q,
                               const struct smtprobe_kb_entry **out,
                               size_t max);
/* "basic", "enhanced", "text", "local", "x509". */
const char *smtprobe_kb_kind_name(enum smtprobe_kb_kind k);

/* All entries (for listing and tests). */
const struct smtprobe_kb_entry *smtprobe_kb_entries(size_t *n);

#endif
