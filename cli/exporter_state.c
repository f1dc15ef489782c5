/* exporter_state.c - what the threads of `smtprobe exporter` share
 * (exporter.h): the log, the modules file, the counters and the probe
 * slots.
 *
 * The log is one line per event on stderr, logfmt or JSON; every string
 * value is cut (to under 2 x EXP_MAX_SHOWN bytes) and has every byte but
 * printable ASCII replaced, so a line is always one line and valid UTF-8;
 * a text line longer than EXP_LOG_LINE is cut.
 * libmicrohttpd's complaints are kept aside until the server listens (for
 * the one error line of a failed start), then logged.
 *
 * The modules file is reference counted: a probe keeps the one it started
 * with across a reload, and the last holder frees it. A reload that fails
 * (a bad file, 0 or more than EXP_MAX_MODULES modules, more than
 * EXP_MAX_MODULES module names over all reloads) keeps the old file and is
 * logged. At most max_concurrent probes hold a slot; a request waits for
 * one until its deadline, or until the exporter stops. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exporter.h"
#include "smtprobe/policy.h"
#include "banned.h"

#define EXP_LOG_LINE 1024

/* ---- logging: one line per event on stderr, text (logfmt) or JSON ---- */

/* s cut to outsz - 1 bytes ("..." when cut), every byte but printable
 * ASCII as '?': what a query or the network gave may be anything, and
 * unlike cli_printable's this output is always valid UTF-8 for JSON. */
const char *exporter_clean(const char *s, char *out, size_t outsz)
{
	size_t o = 0;

	for (; *s && o + 4 < outsz; s++) {
		unsigned char ch = (unsigned char)*s;
		out[o++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	if (*s && outsz > 4) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

double exporter_wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

long long exporter_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void log_json(const char *stamp, const char *level, const char *event,
                     const struct kv *kv, size_t n)
{
	json_t *o = json_object();
	char v[EXP_MAX_SHOWN * 2];
	char *s;

	json_object_set_new(o, "time", json_string(stamp));
	json_object_set_new(o, "level", json_string(level));
	json_object_set_new(o, "event", json_string(event));
	for (size_t i = 0; i < n; i++)
		json_object_set_new(
		        o, kv[i].k,
		        kv[i].s ? json_string(
		                          exporter_clean(kv[i].s, v, sizeof(v)))
		        : kv[i].n == floor(kv[i].n) && fabs(kv[i].n) < 1e15
		                ? json_integer((json_int_t)kv[i].n)
		                : json_real(kv[i].n));
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER |
	                          JSON_REAL_PRECISION(6));
	if (s)
		fprintf(stderr, "%s\n", s);
	free(s);
	json_decref(o);
}

/* s as a logfmt value: as it is, or quoted when it has a space, '"', '='
 * or '\\' (or is empty) */
static const char *logfmt(const char *s, char *out, size_t outsz)
{
	char c[EXP_MAX_SHOWN * 2];
	size_t o = 0;

	exporter_clean(s, c, sizeof(c));
	if (c[0] && !strpbrk(c, " \"=\\")) {
		snprintf(out, outsz, "%s", c);
		return out;
	}
	out[o++] = '"';
	for (const char *p = c; *p && o + 3 < outsz; p++) {
		if (*p == '"' || *p == '\\')
			out[o++] = '\\';
		out[o++] = *p;
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

void exporter_log(const struct exporter *x, const char *level,
                  const char *event, const struct kv *kv, size_t n)
{
	char stamp[40], line[EXP_LOG_LINE], v[EXP_MAX_SHOWN * 4 + 3];
	double now = exporter_wall_now();
	time_t t = (time_t)now;
	struct tm tm;
	size_t o;

	gmtime_r(&t, &tm);
	o = strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(stamp + o, sizeof(stamp) - o, ".%03dZ",
	         (int)((now - (double)t) * 1000) % 1000);
	if (x->json_log) {
		log_json(stamp, level, event, kv, n);
		return;
	}
	o = (size_t)snprintf(line, sizeof(line), "time=%s level=%s event=%s",
	                     stamp, level, event);
	for (size_t i = 0; i < n && o < sizeof(line); i++) {
		int w;
		if (kv[i].s)
			w = snprintf(line + o, sizeof(line) - o, " %s=%s",
			             kv[i].k, logfmt(kv[i].s, v, sizeof(v)));
		else
			w = snprintf(line + o, sizeof(line) - o, " %s=%.6g",
			             kv[i].k, kv[i].n);
		if (w < 0)
			break;
		o += (size_t)w;
	}
	fprintf(stderr, "%s\n", line);
}

/* libmicrohttpd's own complaints (a bind that failed, a bad request) */
void exporter_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	struct exporter *x = cls;
	pthread_mutex_lock(&x->mu);
	int listening = x->listening;
	if (!listening)
		snprintf(x->mhd_err, sizeof(x->mhd_err), "%s", msg);
	pthread_mutex_unlock(&x->mu);
	struct kv kv[] = {{"message", msg, 0}};
	if (listening)
		exporter_log(x, "warn", "http", kv, 1);
}

/* ---- the modules file, its reloads and the counters ----------------- */

static struct exp_config *config_load(const char *path, char *err, size_t errsz)
{
	struct exp_config *c = calloc(1, sizeof(*c));

	if (!c) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	if (smtprobe_modules_load(path, &c->pol, err, errsz) < 0) {
		smtprobe_policy_free(&c->pol);
		free(c);
		return NULL;
	}
	if (c->pol.nmodules == 0 || c->pol.nmodules > EXP_MAX_MODULES) {
		snprintf(err, errsz, "%s: %zu modules (1 to %d)", path,
		         c->pol.nmodules, EXP_MAX_MODULES);
		smtprobe_policy_free(&c->pol);
		free(c);
		return NULL;
	}
	c->refs = 1; /* the exporter's */
	return c;
}

/* Under mu. The counter of module name, or NULL. */
static struct exp_counter *counter(struct exporter *x, const char *name)
{
	for (size_t i = 0; i < x->nmods; i++)
		if (strcmp(x->mods[i].module, name) == 0)
			return &x->mods[i];
	return NULL;
}

/* Under mu. A counter for every module of c (zeros show from the start);
 * -1 when they would be more than EXP_MAX_MODULES. */
static int counters_add(struct exporter *x, const struct exp_config *c)
{
	size_t need = x->nmods;

	for (size_t i = 0; i < c->pol.nmodules; i++)
		need += counter(x, c->pol.modules[i].name) == NULL;
	if (need > EXP_MAX_MODULES)
		return -1;
	for (size_t i = 0; i < c->pol.nmodules; i++) {
		const char *name = c->pol.modules[i].name;
		char *copy;
		if (counter(x, name) || !(copy = strdup(name)))
			continue;
		x->mods[x->nmods++].module = copy;
	}
	return 0;
}

void exporter_init(struct exporter *x)
{
	pthread_condattr_t ca;

	memset(x, 0, sizeof(*x));
	pthread_mutex_init(&x->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&x->slot_free, &ca);
	pthread_condattr_destroy(&ca);
}

void exporter_release(struct exporter *x)
{
	if (x->cfg)
		exporter_config_put(x, x->cfg);
	for (size_t i = 0; i < x->nmods; i++)
		free(x->mods[i].module);
	pthread_cond_destroy(&x->slot_free);
	pthread_mutex_destroy(&x->mu);
}

/* Before the server starts, so no lock yet: the first load of the modules
 * file, its counters (the first can not be over EXP_MAX_MODULES). */
int exporter_config_start(struct exporter *x, char *err, size_t errsz)
{
	x->cfg = config_load(x->config_path, err, errsz);
	if (!x->cfg)
		return -1;
	counters_add(x, x->cfg);
	x->reload_ok = 1;
	x->reload_time = exporter_wall_now();
	return 0;
}

struct exp_config *exporter_config_get(struct exporter *x)
{
	pthread_mutex_lock(&x->mu);
	struct exp_config *c = x->cfg;
	c->refs++;
	pthread_mutex_unlock(&x->mu);
	return c;
}

void exporter_config_put(struct exporter *x, struct exp_config *c)
{
	pthread_mutex_lock(&x->mu);
	int last = --c->refs == 0;
	pthread_mutex_unlock(&x->mu);
	if (last) {
		smtprobe_policy_free(&c->pol);
		free(c);
	}
}

void exporter_config_reload(struct exporter *x)
{
	char err[512];
	struct exp_config *c = config_load(x->config_path, err, sizeof(err));
	struct exp_config *old = NULL;

	pthread_mutex_lock(&x->mu);
	if (c && counters_add(x, c) < 0)
		snprintf(err, sizeof(err), "more than %d module names in all",
		         EXP_MAX_MODULES);
	else if (c) {
		old = x->cfg;
		x->cfg = c;
		x->reload_time = exporter_wall_now();
	}
	x->reload_ok = old != NULL;
	pthread_mutex_unlock(&x->mu);
	if (old) {
		struct kv kv[] = {{"modules", NULL, (double)c->pol.nmodules}};
		exporter_log(x, "info", "reload", kv, 1);
		exporter_config_put(x, old);
		return;
	}
	if (c) {
		smtprobe_policy_free(&c->pol);
		free(c);
	}
	struct kv kv[] = {{"error", err, 0}};
	exporter_log(x, "error", "reload", kv, 1);
}

/* ---- probe slots ------------------------------------------------------ */

/* A slot before the monotonic deadline: 0, -1 when none came, -2 when the
 * exporter is stopping. */
int exporter_slot_acquire(struct exporter *x, long long deadline_ms)
{
	struct timespec ts = {(time_t)(deadline_ms / 1000),
	                      (long)(deadline_ms % 1000) * 1000000};
	int rc = -1;

	pthread_mutex_lock(&x->mu);
	while (!x->stopping && x->in_flight >= x->max_concurrent)
		if (pthread_cond_timedwait(&x->slot_free, &x->mu, &ts) ==
		    ETIMEDOUT)
			break;
	if (x->stopping)
		rc = -2;
	else if (x->in_flight < x->max_concurrent) {
		x->in_flight++;
		rc = 0;
	}
	pthread_mutex_unlock(&x->mu);
	return rc;
}

/* Give the slot back, counting the probe's result r (R_LAST: unused). */
void exporter_slot_release(struct exporter *x, enum exp_result r,
                           const char *module)
{
	pthread_mutex_lock(&x->mu);
	x->in_flight--;
	struct exp_counter *k = r < R_LAST ? counter(x, module) : NULL;
	if (k)
		k->n[r]++;
	pthread_cond_signal(&x->slot_free);
	pthread_mutex_unlock(&x->mu);
}
