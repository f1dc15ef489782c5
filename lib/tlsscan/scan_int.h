/* scan_int.h - what scan.c needs from the hello layer (scan_hello.c, on top
 * of hello.c and suites.c): hellos by protocol, answers as facts, suites and
 * groups by number (internal). */
#ifndef SMTPROBE_SCAN_INT_H
#define SMTPROBE_SCAN_INT_H

#include <stddef.h>
#include <stdint.h>

#include "smtprobe/tlsscan.h"

#define SCAN_HELLO_MAX 8192
#define SCAN_MAX_OFFER 512   /* suite ids in one hello */
#define SCAN_LEAF_MAX  16384 /* bytes of a leaf certificate kept */

enum scan_flag {
	SCAN_COMPRESSION = 1,   /* offer DEFLATE besides null */
	SCAN_FALLBACK_SCSV = 2, /* add TLS_FALLBACK_SCSV */
};

/* A ClientHello record for protocol v offering suites and groups (TLS 1.3:
 * key shares for them). Returns its length, or -1. */
long scan_build_hello(enum smtprobe_tls_proto v, const uint16_t *suites,
                      size_t n, const uint16_t *groups, size_t ngroups,
                      const char *sni, unsigned flags, uint8_t *out,
                      size_t outsz);

enum scan_answer_kind {
	SCAN_A_NONE,      /* nothing (a close, a reset, a timeout) */
	SCAN_A_HELLO,     /* a ServerHello */
	SCAN_A_RETRY,     /* a TLS 1.3 HelloRetryRequest */
	SCAN_A_ALERT,     /* an alert */
	SCAN_A_NOT_TLS,   /* not TLS at all */
	SCAN_A_MALFORMED, /* TLS, but broken */
};

struct scan_answer {
	enum scan_answer_kind kind;
	int version; /* enum smtprobe_tls_proto, -1 when none */
	uint16_t suite;
	int compression;      /* the method chosen */
	int alert;            /* the description, -1 when none */
	int reneg_info;       /* the renegotiation_info extension came back */
	uint16_t group;       /* TLS 1.3 key share, HRR or ECDHE curve; 0 */
	int dh_bits;          /* DHE: the prime's size; 0 */
	const char *dh_group; /* its name when it is a known one */
	/* TLS <= 1.2: the certificates the flight carried, and the leaf */
	size_t ncerts;
	size_t leaf_len; /* 0: none (or over SCAN_LEAF_MAX) */
	uint8_t leaf[SCAN_LEAF_MAX];
};

/* raw_tls_whole for the sessions: 1 when buf holds a whole answer. */
int scan_answer_whole(const unsigned char *buf, size_t len, void *arg);
void scan_read_answer(const uint8_t *buf, size_t len, struct scan_answer *a);

/* Every suite usable with protocol v (no signalling values), in the
 * table's order; returns how many (at most max). */
size_t scan_suites_of(enum smtprobe_tls_proto v, uint16_t *out, size_t max);
/* The facts of suite id; 0, or -1 when the table does not know it (out
 * then names it by number). */
int scan_suite_info(uint16_t id, struct smtprobe_tls_scan_suite *out);
/* Fills the posture's class flags (rc4, 3des, cbc, pfs) for a suite. */
void scan_suite_fact(uint16_t id, struct smtprobe_tls_suite_fact *out);
/* The groups worth testing (TLS 1.3: with a key share we can make). */
size_t scan_groups_of(enum smtprobe_tls_proto v, uint16_t *out, size_t max);
const char *scan_group_name(uint16_t group);

#endif
