/* judge_int.h - what the judge_*.c files of `smtprobe dns` share
 * (internal): the rows of the report, how a lookup's answer reads,
 * quoting, the MX hosts. */
#ifndef SMTPROBE_JUDGE_INT_H
#define SMTPROBE_JUDGE_INT_H

#include <stddef.h>

#include "smtprobe/dnscheck.h"
#include "smtprobe/dnsrec.h"

/* Room for one quoted record or name in a message (escaped, cut), and
 * for a record rewritten for a fix. */
#define JD_QUOTE   200
#define JD_REC_MAX 600

/* What an answer is good for, most doubtful first. */
enum jd_kind {
	JD_UNASKED, /* not asked: the check is skipped */
	JD_BOGUS,   /* DNSSEC bogus: the data must not be used */
	JD_FAILED,  /* servfail, timeout, error: could not tell */
	JD_NXDOMAIN,
	JD_EMPTY, /* the name exists, no record of the type */
	JD_DATA,
};

enum jd_kind jd_kind(const struct smtprobe_dc_answer *a);

/* The next row of the report: id, skip, no text. */
struct smtprobe_dc_check *jd_row(struct smtprobe_dc_report *r, const char *id);
/* Set the status and the text (replaced). */
void jd_set(struct smtprobe_dc_check *c, enum smtprobe_dc_status s,
            const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Append to the text / the fix; a cut one ends in "...". */
void jd_text(struct smtprobe_dc_check *c, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
void jd_fix(struct smtprobe_dc_check *c, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
/* Raise the status to s when s is more severe (fail > warn > info >
 * pass > skip). */
void jd_worse(struct smtprobe_dc_check *c, enum smtprobe_dc_status s);

/* When answer a (described by what: "TXT at _dmarc.example.org") cannot
 * be judged - not asked, bogus, failed - set c (skip, skip, warn) with
 * the reason and return 1; else 0. */
int jd_unusable(struct smtprobe_dc_check *c, const struct smtprobe_dc_answer *a,
                const char *what);
/* "timeout (no answer in time)": why a lookup gave nothing usable. */
const char *jd_problem(char *out, size_t outsz,
                       const struct smtprobe_dc_answer *a);

/* len bytes of s escaped, cut after JD_QUOTE - 8 bytes with "...".
 * Returns out. */
const char *jd_quote(char *out, size_t outsz, const char *s, size_t len);
/* The records of a TXT answer as smtprobe_txt (at most
 * SMTPROBE_DC_MAX_RECORDS); how many. */
size_t jd_txts(const struct smtprobe_dc_answer *a, struct smtprobe_txt *txt);
/* a ends with "." + b, or equals b (DNS case rules) */
int jd_in_domain(const char *a, const char *b);

/* The MX answer's shape: null MX records ("0 .", any preference) and
 * the others. */
void jd_mx_shape(const struct smtprobe_dc_facts *f, size_t *nnull,
                 size_t *nreal);
/* 1 when the domain takes no mail: its MX answer is trusted data and
 * holds null MX records only. */
int jd_takes_no_mail(const struct smtprobe_dc_facts *f);

/* "PREF NAME": the name (NULL for a malformed record), *pref */
const char *jd_mx_name(const char *rec, unsigned long *pref);
/* The MX hosts the per-MX checks look at (at most SMTPROBE_DC_MAX_MX). */
size_t jd_nmx(const struct smtprobe_dc_facts *f);
/* A trusted MX answer with real hosts, or the implicit MX: 1. Else the
 * row is a skip saying why, and 0. */
int jd_have_hosts(const struct smtprobe_dc_facts *f,
                  struct smtprobe_dc_check *c);
/* The row names the one host concerned: the only MX, or the only bad
 * one (nbad == 1). */
void jd_one_host(struct smtprobe_dc_check *c, const struct smtprobe_dc_facts *f,
                 size_t nbad, const char *bad);

/* judge_auth.c: the SPF record authorises a sender (a mechanism that
 * can give pass): 1; it authorises none ("v=spf1 -all"): 0; no single
 * parsable record: -1. */
int jd_spf_authorises(const struct smtprobe_dc_facts *f);
/* The rows, in report order: judge_mx.c mx.* and ptr.*; judge_smtp.c
 * mx.smtp, mx.starttls, ptr.banner; judge_auth.c
 * spf.*; judge_dmarc.c dmarc.* and dkim.key; judge_tls.c mta_sts.*,
 * tlsrpt.present and dane.tlsa. */
void jd_mx(const struct smtprobe_dc_facts *f, struct smtprobe_dc_report *r);
void jd_smtp(const struct smtprobe_dc_facts *f, struct smtprobe_dc_report *r);
void jd_spf(const struct smtprobe_dc_facts *f, struct smtprobe_dc_report *r);
void jd_dmarc_dkim(const struct smtprobe_dc_facts *f,
                   struct smtprobe_dc_report *r);
void jd_tls(const struct smtprobe_dc_facts *f, struct smtprobe_dc_report *r);

#endif
