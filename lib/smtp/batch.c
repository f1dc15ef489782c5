/* batch.c - many client sessions with a bound, on one libuv loop (see
 * batch.h). Also smtprobe_send / smtprobe_send_fd: a batch of one.
 *
 * Scheduling is O(1) per event: the jobs of each host wait in a FIFO (an
 * index list through the job array), and the hosts that could start a
 * job now (something waiting, under the per-host bound, not pausing) wait
 * in a ring. A free slot takes the next host of the ring, starts its next
 * job and puts the host back at the end if it can start another, so hosts
 * take turns. A host is found by a hash of its name, built once.
 *
 * Promises: never more than `concurrency` sessions at once, nor more than
 * `per_host` to one host; no connection to a host within pause_ms of the
 * previous one; after the deadline nothing new starts and running
 * sessions are cancelled; every job ends with a result, started or not;
 * nothing leaks whatever the sessions do (each one's own deadlines bound
 * it). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <unistd.h>

#include "session_int.h"
#include "result_int.h"
#include "smtprobe/batch.h"
#include "banned.h"

#define NONE       ((size_t)-1)
#define FD_RESERVE 32 /* descriptors left for everything else */

enum job_state { J_WAITING, J_RUNNING, J_DONE, J_DROPPED };

struct bjob {
	size_t next; /* next waiting job of the same host */
	size_t host;
	enum job_state state;
	struct smtprobe_session *s;
	struct smtprobe_batch *b;
};

struct bhost {
	const char *name;
	size_t head, tail; /* waiting jobs */
	unsigned running;
	int in_ring;
	int pausing;
	size_t ring_next;
	uv_timer_t pause; /* initialised only when pause_ms */
	struct smtprobe_batch *b;
};

struct smtprobe_batch {
	uv_loop_t loop;
	uv_timer_t deadline;
	const struct smtprobe_batch_params *bp;
	struct smtprobe_batch_job *jobs;
	struct bjob *bj;
	size_t n;
	struct bhost *hosts;
	size_t nhosts;
	size_t ring_head, ring_tail;
	unsigned running, concurrency, per_host;
	int stopped;
	struct smtprobe_batch_stats st;
};

/* ---- hosts ------------------------------------------------------------ */

static uint64_t hash_name(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a, case-blind */

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		h = (h ^ c) * 1099511628211ull;
	}
	return h;
}

/* Give every job its host (jobs over an adopted socket share ""). */
static int group_hosts(struct smtprobe_batch *b)
{
	size_t cap = 16;

	while (cap < 2 * b->n)
		cap *= 2;
	size_t *slot = malloc(cap * sizeof(*slot));
	b->hosts = calloc(b->n ? b->n : 1, sizeof(*b->hosts));
	if (!slot || !b->hosts) {
		free(slot);
		return -1;
	}
	for (size_t i = 0; i < cap; i++)
		slot[i] = NONE;
	for (size_t i = 0; i < b->n; i++) {
		const struct smtprobe_batch_job *j = &b->jobs[i];
		const char *name =
		        j->fd >= 0 || !j->params->host ? "" : j->params->host;
		size_t k = (size_t)(hash_name(name) & (cap - 1));
		while (slot[k] != NONE &&
		       strcasecmp(b->hosts[slot[k]].name, name) != 0)
			k = (k + 1) & (cap - 1);
		if (slot[k] == NONE) {
			struct bhost *h = &b->hosts[b->nhosts];
			h->name = name;
			h->head = h->tail = NONE;
			h->ring_next = NONE;
			h->b = b;
			slot[k] = b->nhosts++;
		}
		struct bhost *h = &b->hosts[slot[k]];
		b->bj[i].host = slot[k];
		b->bj[i].next = NONE;
		b->bj[i].b = b;
		if (h->tail == NONE)
			h->head = i;
		else
			b->bj[h->tail].next = i;
		h->tail = i;
	}
	free(slot);
	return 0;
}

static int host_ready(const struct smtprobe_batch *b, const struct bhost *h)
{
	return h->head != NONE && !h->pausing &&
	       (!b->per_host || h->running < b->per_host);
}

static void ring_push(struct smtprobe_batch *b, size_t hi)
{
	struct bhost *h = &b->hosts[hi];

	if (h->in_ring)
		return;
	h->in_ring = 1;
	h->ring_next = NONE;
	if (b->ring_tail == NONE)
		b->ring_head = hi;
	else
		b->hosts[b->ring_tail].ring_next = hi;
	b->ring_tail = hi;
}

static size_t ring_pop(struct smtprobe_batch *b)
{
	size_t hi = b->ring_head;

	if (hi == NONE)
		return NONE;
	b->ring_head = b->hosts[hi].ring_next;
	if (b->ring_head == NONE)
		b->ring_tail = NONE;
	b->hosts[hi].in_ring = 0;
	return hi;
}

/* The next waiting job of a host (dropped ones are skipped). */
static size_t host_pop(struct smtprobe_batch *b, struct bhost *h)
{
	while (h->head != NONE) {
		size_t i = h->head;
		h->head = b->bj[i].next;
		if (h->head == NONE)
			h->tail = NONE;
		if (b->bj[i].state == J_WAITING)
			return i;
	}
	return NONE;
}

/* ---- running ---------------------------------------------------------- */

static void launch(struct smtprobe_batch *b);

static void job_ended(struct smtprobe_batch *b, size_t i)
{
	struct bhost *h = &b->hosts[b->bj[i].host];

	b->bj[i].state = J_DONE;
	h->running--;
	b->running--;
	if (!b->stopped && host_ready(b, h))
		ring_push(b, b->bj[i].host);
	if (b->bp->on_done)
		b->bp->on_done(b, i, b->bp->arg);
}

static void on_session_done(struct smtprobe_session *s, void *arg)
{
	struct bjob *j = arg;
	struct smtprobe_batch *b = j->b;
	size_t i = (size_t)(j - b->bj);

	smtprobe_session_free(s);
	j->s = NULL;
	job_ended(b, i);
	launch(b);
}

static void on_pause_over(uv_timer_t *t)
{
	struct bhost *h = t->data;
	struct smtprobe_batch *b = h->b;

	h->pausing = 0;
	if (!b->stopped && host_ready(b, h))
		ring_push(b, (size_t)(h - b->hosts));
	launch(b);
}

static void start_job(struct smtprobe_batch *b, size_t i)
{
	struct smtprobe_batch_job *j = &b->jobs[i];
	struct bjob *bj = &b->bj[i];
	struct bhost *h = &b->hosts[bj->host];

	bj->state = J_RUNNING;
	j->started = 1;
	b->st.started++;
	h->running++;
	b->running++;
	if (b->running > b->st.peak)
		b->st.peak = b->running;
	if (h->running > b->st.peak_per_host)
		b->st.peak_per_host = h->running;
	if (b->bp->pause_ms) {
		h->pausing = 1;
		uv_timer_start(&h->pause, on_pause_over, b->bp->pause_ms, 0);
	}
	if (session_start(&bj->s, &b->loop, j->params, j->res, on_session_done,
	                  bj, j->fd) < 0) {
		result_fail_early(j->res, j->params, SMTPROBE_FAIL_INTERNAL,
		                  "cannot start the session: out of memory");
		job_ended(b, i);
	}
}

static void launch(struct smtprobe_batch *b)
{
	while (!b->stopped && b->running < b->concurrency) {
		size_t hi = ring_pop(b);
		if (hi == NONE)
			return;
		struct bhost *h = &b->hosts[hi];
		if (!host_ready(b, h))
			continue;
		size_t i = host_pop(b, h);
		if (i == NONE)
			continue;
		start_job(b, i);
		if (host_ready(b, h))
			ring_push(b, hi);
	}
}

static void on_deadline(uv_timer_t *t)
{
	struct smtprobe_batch *b = t->data;

	b->stopped = 1;
	b->st.truncated = 1;
	for (size_t i = 0; i < b->n; i++)
		if (b->bj[i].state == J_RUNNING && b->bj[i].s)
			smtprobe_session_cancel(b->bj[i].s);
	for (size_t k = 0; b->bp->pause_ms && k < b->nhosts; k++)
		uv_timer_stop(&b->hosts[k].pause);
}

void smtprobe_batch_cancel(struct smtprobe_batch *b, size_t i)
{
	if (!b || i >= b->n)
		return;
	if (b->bj[i].state == J_WAITING)
		b->bj[i].state = J_DROPPED;
	else if (b->bj[i].state == J_RUNNING && b->bj[i].s)
		smtprobe_session_cancel(b->bj[i].s);
}

/* The bound that fits the open-files limit (one descriptor per session). */
static unsigned fit_fd_limit(unsigned want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return want;
	rlim_t room =
	        rl.rlim_cur > FD_RESERVE + 1 ? rl.rlim_cur - FD_RESERVE : 1;
	return (rlim_t)want > room ? (unsigned)room : want;
}

static void fail_all(struct smtprobe_batch_job *jobs, size_t n, const char *m)
{
	for (size_t i = 0; i < n; i++) {
		if (jobs[i].fd >= 0)
			close(jobs[i].fd);
		result_fail_early(jobs[i].res, jobs[i].params,
		                  SMTPROBE_FAIL_INTERNAL, m);
		jobs[i].started = 0;
	}
}

int smtprobe_batch_run(struct smtprobe_batch_job *jobs, size_t n,
                       const struct smtprobe_batch_params *bp,
                       struct smtprobe_batch_stats *stats)
{
	static const struct smtprobe_batch_params defaults;
	struct smtprobe_batch *b = calloc(1, sizeof(*b));
	uint64_t t0 = uv_hrtime();

	if (!bp)
		bp = &defaults;
	if (!b || !(b->bj = calloc(n ? n : 1, sizeof(*b->bj)))) {
		free(b);
		fail_all(jobs, n, "out of memory");
		return -1;
	}
	b->bp = bp;
	b->jobs = jobs;
	b->n = n;
	b->ring_head = b->ring_tail = NONE;
	b->per_host = bp->per_host;
	b->concurrency = fit_fd_limit(
	        bp->concurrency ? bp->concurrency
	                        : SMTPROBE_BATCH_DEFAULT_CONCURRENCY);
	b->st.concurrency = b->concurrency;
	for (size_t i = 0; i < n; i++)
		jobs[i].started = 0;
	if (group_hosts(b) < 0 || uv_loop_init(&b->loop) < 0) {
		free(b->hosts);
		free(b->bj);
		free(b);
		fail_all(jobs, n, "cannot start the batch: out of memory");
		return -1;
	}
	b->st.hosts = b->nhosts;
	uv_timer_init(&b->loop, &b->deadline);
	b->deadline.data = b;
	if (bp->deadline_ms)
		uv_timer_start(&b->deadline, on_deadline, bp->deadline_ms, 0);
	uv_unref((uv_handle_t *)&b->deadline); /* it bounds; it keeps nothing */
	for (size_t k = 0; k < b->nhosts; k++) {
		if (bp->pause_ms) {
			uv_timer_init(&b->loop, &b->hosts[k].pause);
			b->hosts[k].pause.data = &b->hosts[k];
		}
		ring_push(b, k);
	}
	launch(b);
	uv_run(&b->loop, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&b->deadline, NULL);
	for (size_t k = 0; bp->pause_ms && k < b->nhosts; k++)
		uv_close((uv_handle_t *)&b->hosts[k].pause, NULL);
	uv_run(&b->loop, UV_RUN_DEFAULT);
	uv_loop_close(&b->loop);
	for (size_t i = 0; i < n; i++) {
		if (jobs[i].started)
			continue;
		if (jobs[i].fd >= 0)
			close(jobs[i].fd);
		result_fail_early(
		        jobs[i].res, jobs[i].params, SMTPROBE_FAIL_CANCELLED,
		        b->st.truncated ? "not started: the batch's deadline "
		                          "passed"
		                        : "not started: cancelled");
		b->st.not_started++;
	}
	b->st.ms = (double)(uv_hrtime() - t0) / 1e6;
	if (stats)
		*stats = b->st;
	free(b->hosts);
	free(b->bj);
	free(b);
	return 0;
}

/* ---- one session ---------------------------------------------------- */

static int run_one(const struct smtprobe_params *p, struct smtprobe_result *res,
                   int fd)
{
	struct smtprobe_batch_job job = {p, res, fd, 0};
	struct smtprobe_batch_params bp = {.concurrency = 1};

	smtprobe_batch_run(&job, 1, &bp, NULL);
	return res->exit_code;
}

int smtprobe_send(const struct smtprobe_params *params,
                  struct smtprobe_result *res)
{
	return run_one(params, res, -1);
}

int smtprobe_send_fd(const struct smtprobe_params *params, int fd,
                     struct smtprobe_result *res)
{
	return run_one(params, res, fd);
}
