/* reload.c - the policies of `smtprobe serve`'s listeners, and their
 * reload on SIGHUP without holding the event loop.
 *
 * A reload parses every listener's policy (preset or file, users_file
 * included) in one uv_queue_work job on libuv's thread pool, so a slow
 * disk, a large file or a FIFO never stalls a session. The job touches
 * only what no one changes while it runs (each listener's policy_src, the
 * --hostname override, the listeners' current policies, read to spot an
 * unchanged one) and its own result. Back on the loop, the after-work
 * callback swaps the listeners' policy pointers all together, or changes
 * nothing when one of them failed: then one "reload-failed" event names
 * the listener and the loader's message. Otherwise each listener gets a
 * "reloaded" event, as before.
 *
 * Sessions keep a pointer to the policy they started with, so a replaced
 * policy is retired, not freed: every policy ever loaded is kept until
 * srv_reload_free at exit. A reload that yields a policy identical to the
 * current one keeps the current one, so repeated reloads of unchanged
 * files cost no memory; each reload that does change a policy keeps one
 * more (about 1 MB, struct srv_policy).
 *
 * One reload runs at a time; SIGHUPs while it runs coalesce into one more,
 * started when it ends (so the last signal always sees the files as they
 * were after it). No reload starts once the server is stopping; one in
 * flight keeps the loop (and so the shutdown) waiting until it ends. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "reload.h"
#include "server.h"

#include "banned.h"

struct srv_reload {
	struct server *srv;
	uv_work_t work;
	int running; /* a job is queued or running */
	int again;   /* a request came while it ran */
	/* the job's result: a policy per listener, NULL = unchanged */
	struct srv_policy **fresh;
	size_t failed; /* listener index, or nlisteners when none failed */
	char err[512];
	/* every policy ever loaded (sessions may still point at any) */
	struct srv_policy **all;
	size_t nall, capall;
};

struct srv_reload *srv_reload_new(struct server *srv)
{
	struct srv_reload *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->srv = srv;
	r->work.data = r;
	return r;
}

void srv_reload_free(struct srv_reload *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nall; i++)
		free(r->all[i]);
	free(r->all);
	free(r->fresh);
	free(r);
}

/* Room for n more in r->all, so that a swap can't fail half-way. */
static int reserve(struct srv_reload *r, size_t n)
{
	struct srv_policy **na;
	size_t cap;

	if (r->nall + n <= r->capall)
		return 0;
	cap = r->capall ? r->capall * 2 : 16;
	while (cap < r->nall + n)
		cap *= 2;
	na = realloc(r->all, cap * sizeof(*na));
	if (na == NULL)
		return -1;
	r->all = na;
	r->capall = cap;
	return 0;
}

/* Any thread: a new policy from src, or NULL with err set. */
static struct srv_policy *load(const char *src, const char *hostname, char *err,
                               size_t errsz)
{
	struct srv_policy *p = calloc(1, sizeof(*p));

	if (p == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	if (srv_policy_load(p, src, err, errsz) < 0) {
		free(p);
		return NULL;
	}
	if (hostname)
		snprintf(p->hostname, sizeof(p->hostname), "%s", hostname);
	return p;
}

int srv_reload_initial(struct srv_reload *r, struct srv_listener *l, char *err,
                       size_t errsz)
{
	struct srv_policy *p;

	if (reserve(r, 1) < 0) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	p = load(l->policy_src, r->srv->opt.hostname, err, errsz);
	if (p == NULL)
		return -1;
	r->all[r->nall++] = p;
	l->policy = p;
	return 0;
}

/* The thread pool. */
static void reload_work(uv_work_t *w)
{
	struct srv_reload *r = w->data;
	const struct server *srv = r->srv;

	r->failed = srv->nlisteners;
	for (size_t i = 0; i < srv->nlisteners; i++) {
		const struct srv_listener *l = &srv->listeners[i];
		struct srv_policy *p = load(l->policy_src, srv->opt.hostname,
		                            r->err, sizeof(r->err));

		if (p == NULL) {
			r->failed = i;
			return;
		}
		/* policies are zeroed before they are filled, so equal
		 * contents mean the same policy */
		if (memcmp(p, l->policy, sizeof(*p)) == 0) {
			free(p);
			p = NULL;
		}
		r->fresh[i] = p;
	}
}

static void drop_fresh(struct srv_reload *r)
{
	for (size_t i = 0; i < r->srv->nlisteners; i++) {
		free(r->fresh[i]);
		r->fresh[i] = NULL;
	}
}

static void start(struct srv_reload *r);

/* The loop: all or nothing. */
static void reload_done(uv_work_t *w, int status)
{
	struct srv_reload *r = w->data;
	struct server *srv = r->srv;
	size_t i, n = 0;

	r->running = 0;
	if (status < 0) { /* cancelled: the loop is closing */
		drop_fresh(r);
		return;
	}
	for (i = 0; i < srv->nlisteners; i++)
		n += r->fresh[i] != NULL;
	if (r->failed < srv->nlisteners) {
		drop_fresh(r);
		srv_log_event(srv->log, "reload-failed", "listener",
		              srv->listeners[r->failed].spec, "error", r->err,
		              NULL);
	} else if (reserve(r, n) < 0) {
		drop_fresh(r);
		srv_log_event(srv->log, "reload-failed", "error",
		              "out of memory", NULL);
	} else {
		for (i = 0; i < srv->nlisteners; i++) {
			struct srv_listener *l = &srv->listeners[i];

			if (r->fresh[i] != NULL) {
				r->all[r->nall++] = r->fresh[i];
				l->policy = r->fresh[i];
				r->fresh[i] = NULL;
			}
			srv_log_event(srv->log, "reloaded", "listener", l->spec,
			              "policy", l->policy->name, NULL);
		}
	}
	if (r->again && !srv->stopping) {
		r->again = 0;
		start(r);
	}
}

static void start(struct srv_reload *r)
{
	struct server *srv = r->srv;
	char ebuf[128];
	int rc;

	if (r->fresh == NULL) {
		r->fresh = calloc(srv->nlisteners ? srv->nlisteners : 1,
		                  sizeof(*r->fresh));
		if (r->fresh == NULL) {
			srv_log_event(srv->log, "reload-failed", "error",
			              "out of memory", NULL);
			return;
		}
	}
	rc = uv_queue_work(srv->loop, &r->work, reload_work, reload_done);
	if (rc < 0) {
		snprintf(ebuf, sizeof(ebuf), "cannot start: %s",
		         uv_strerror(rc));
		srv_log_event(srv->log, "reload-failed", "error", ebuf, NULL);
		return;
	}
	r->running = 1;
}

void srv_reload_request(struct srv_reload *r)
{
	if (r->srv->stopping)
		return;
	if (r->running) {
		r->again = 1;
		return;
	}
	start(r);
}
