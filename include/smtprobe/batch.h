/* batch.h - many client sessions with a bound: the one runner behind
 * `send` (a batch of one), port discovery, `relay`, and the coming `tls`,
 * `scan` and `load`. A list of session parameters in, a result per
 * session out.
 *
 * Sessions start in the order of the jobs, at most `concurrency` at once
 * and at most `per_host` at once to one host, with an optional pause
 * between two connections to the same host; hosts take turns, so one slow
 * host does not hold the others back. A shared deadline ends the whole:
 * running sessions are cancelled, waiting ones never start. Everything
 * runs on one libuv loop in the calling thread; each event costs O(1)
 * (a FIFO per host, a ring of hosts ready to start), so thousands of jobs
 * cost no more per job than a handful. Concurrency is also kept below the
 * process's open-files limit. */
#ifndef SMTPROBE_BATCH_H
#define SMTPROBE_BATCH_H

#include <stddef.h>

#include "session.h"

#define SMTPROBE_BATCH_DEFAULT_CONCURRENCY 4

struct smtprobe_batch_job {
	const struct smtprobe_params *params; /* in; valid until the run ends */
	struct smtprobe_result *res;          /* out: the caller's storage */
	int fd;      /* in: an already connected socket to use instead of
	                resolving and connecting (tests), else -1 */
	int started; /* out: the session ran (or tried to) */
};

struct smtprobe_batch;

/* Called as each session ends, with its result complete; b may be used
 * to cancel other jobs (smtprobe_batch_cancel). */
typedef void (*smtprobe_batch_done_cb)(struct smtprobe_batch *b, size_t job,
                                       void *arg);

struct smtprobe_batch_params {
	unsigned concurrency; /* sessions at once; 0 = the default (4) */
	unsigned per_host;    /* sessions at once to one host; 0 = no extra
	                         bound */
	unsigned pause_ms;    /* between two connection starts to one host */
	unsigned deadline_ms; /* the whole batch; 0 = none */
	smtprobe_batch_done_cb on_done; /* optional */
	void *arg;
};

struct smtprobe_batch_stats {
	size_t started;       /* sessions that ran */
	size_t not_started;   /* left out by the deadline or a cancel */
	unsigned concurrency; /* the bound actually applied */
	unsigned peak;        /* most sessions running at once */
	unsigned peak_per_host;
	size_t hosts;  /* distinct hosts */
	int truncated; /* the deadline ended the batch */
	double ms;
};

/* Run the jobs to the end (blocks). Jobs that never start get a result
 * with failure kind SMTPROBE_FAIL_CANCELLED ("not started ..."). Every
 * job's result must be released by the caller (smtprobe_result_release).
 * Returns 0, or -1 when the batch could not start (out of memory, no
 * event loop) - then no job ran and every result says why. stats may be
 * NULL. */
int smtprobe_batch_run(struct smtprobe_batch_job *jobs, size_t n,
                       const struct smtprobe_batch_params *bp,
                       struct smtprobe_batch_stats *stats);

/* From an on_done callback: end job i now (cancelled, when it runs) or
 * make sure it never starts (when it waits). No-op when it has ended. */
void smtprobe_batch_cancel(struct smtprobe_batch *b, size_t i);

#endif
