/* check_int.h - what the files of the collection share (check.c,
 * check_spf.c, sts_fetch.c): the run, its lookups and follow-ups.
 * Internal to lib/dns. */
#ifndef SMTPROBE_DNS_CHECK_INT_H
#define SMTPROBE_DNS_CHECK_INT_H

#include <arpa/inet.h>
#include <libpsl.h>
#include <uv.h>

#include "smtprobe/dnscheck.h"

struct dc_slot;
struct dc_sts;
struct dc_spf;

struct dc_run {
	uv_loop_t loop;
	struct smtprobe_dns *dns;
	struct smtprobe_dc_facts *f;
	const struct smtprobe_dc_params *p;
	const psl_ctx_t *psl;
	unsigned pending;      /* lookups and work still to come */
	int stopping;          /* the deadline came: ask nothing more */
	struct dc_slot *slots; /* lookups asked (freed at the end) */
	struct dc_sts *sts;    /* the MTA-STS fetch, when started */
	struct dc_spf *spf;    /* the SPF walks, when started */
	uint64_t t0;           /* uv_now at the start */
};

/* What to do when an answer came: i, j are the caller's indexes. */
typedef void (*dc_then)(struct dc_run *run, size_t i, size_t j);

/* Ask name/type into ans (marked asked, TIMEOUT until answered), then
 * call then; 0 or -1 (not asked: ans says why). */
int dc_ask(struct dc_run *run, const char *name, int type,
           struct smtprobe_dc_answer *ans, dc_then then, size_t i, size_t j);
/* Work other than a lookup: one more to wait for, and its end. */
void dc_hold(struct dc_run *run);
void dc_done(struct dc_run *run);
/* a and b have the same organisational domain (the PSL) */
int dc_same_org(const struct dc_run *run, const char *a, const char *b);
/* ms left before the deadline */
unsigned dc_left_ms(const struct dc_run *run);

/* SPF (check_spf.c): after the domain's TXT came; at the end */
void dc_spf_start(struct dc_run *run, size_t i, size_t j);
void dc_spf_finish(struct dc_run *run);
/* MTA-STS (sts_fetch.c): after _mta-sts's TXT came; at the end */
void dc_sts_start(struct dc_run *run, size_t i, size_t j);
void dc_sts_join(struct dc_run *run);
/* SMTP to every MX address (mx_connect.c): after the lookups, on a loop
 * of its own (the batch runner), within left_ms */
void dc_connect_all(const struct smtprobe_dc_params *p,
                    struct smtprobe_dc_facts *f, unsigned left_ms);

#endif
