/* exporter.c - `smtprobe exporter`: a Prometheus exporter in the style of
 * blackbox_exporter. GET /probe?target=HOST[:PORT]&module=NAME runs one
 * module of the modules file (policy.h) against the target
 * (smtprobe_assure_probe) and answers its metrics in the text exposition
 * format 0.0.4; GET /metrics answers the exporter's own counters; GET / a
 * small page; anything else 404, a method other than GET 405. The HTTP
 * layer is libmicrohttpd, one thread per connection.
 *
 * Promises: at most --max-concurrent probes run at once (a request waits
 * for a slot until its deadline, then gets 503); each probe is given a
 * deadline (X-Prometheus-Scrape-Timeout-Seconds minus the offset, capped
 * by the module's timeout and EXP_MAX_TIMEOUT_MS) for the library to keep;
 * connections, their idle time and the memory of a request (line and
 * headers) are capped, and a request beyond them is refused by
 * libmicrohttpd; query values are validated before use and escaped before
 * they reach a reply or a log line (printable ASCII only); a failed probe
 * is a 200 with smtprobe_probe_success 0, as blackbox does. Secrets are
 * never read here (the probe reads them) and never logged. SIGTERM/SIGINT
 * stop it once the running probes have answered (exit 0); SIGHUP reloads
 * the modules file (a bad file keeps the old one). Exit 2: it could not
 * start (a usage error, a bad modules file, the address cannot be bound). */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "opts.h"
#include "smtprobe/assure.h"
#include "smtprobe/outcome.h"
#include "smtprobe/policy.h"
#include "banned.h"

#define EXP_DEFAULT_LISTEN "127.0.0.1:9325"
#define EXP_MAX_CONCURRENT 64      /* --max-concurrent's upper bound */
#define EXP_CONN_PER_PROBE 4       /* connections = this x probes + 16 */
#define EXP_IDLE_TIMEOUT_S 30      /* a connection idle this long closes */
#define EXP_DRAIN_MS       2000    /* at a stop, for answers to go out */
#define EXP_REQUEST_MEMORY 16384   /* request line + headers, per conn */
#define EXP_MAX_TIMEOUT_MS 600000L /* a longer scrape timeout is cut */
#define EXP_MIN_PROBE_MS   20      /* less left after the wait: 503 */
#define EXP_MAX_MODULES    256     /* counters kept (over reloads too) */
#define EXP_MAX_HOST       256
#define EXP_MAX_SHOWN      80 /* a query value quoted in a reply or log */
#define EXP_LOG_LINE       1024
#define EXP_PROM_TYPE      "text/plain; version=0.0.4; charset=utf-8"

enum exp_path { P_INDEX, P_PROBE, P_METRICS, P_OTHER, P_LAST };
static const char *const path_names[P_LAST] = {"/", "/probe", "/metrics",
                                               "other"};
static const unsigned codes[] = {200, 400, 404, 405, 500, 503};
#define NCODES (sizeof(codes) / sizeof(codes[0]))
enum exp_result { R_SUCCESS, R_FAILURE, R_ERROR, R_LAST };
static const char *const result_names[R_LAST] = {"success", "failure", "error"};

/* A loaded modules file; probes hold a reference across a reload. */
struct exp_config {
	struct smtprobe_policy pol;
	unsigned refs; /* under exporter.mu */
};

struct exp_counter {
	char *module;
	unsigned long long n[R_LAST];
};

struct exporter {
	pthread_mutex_t mu;
	pthread_cond_t slot_free; /* CLOCK_MONOTONIC */
	struct exp_config *cfg;
	unsigned in_flight, max_concurrent;
	unsigned conns; /* open HTTP connections */
	int stopping;
	int listening;     /* before: libmicrohttpd's complaints go to ... */
	char mhd_err[256]; /* ... here, for the one error line */
	long offset_ms, default_ms;
	int json_log;
	const char *config_path;
	struct exp_counter mods[EXP_MAX_MODULES];
	size_t nmods;
	unsigned long long requests[P_LAST][NCODES];
	int reload_ok;
	double reload_time;
};

/* ---- logging: one line per event on stderr, text (logfmt) or JSON ---- */

struct kv {
	const char *k;
	const char *s; /* NULL: the value is n */
	double n;
};

/* s cut to outsz - 1 bytes ("..." when cut), every byte but printable
 * ASCII as '?': what a query or the network gave may be anything, and
 * unlike cli_printable's this output is always valid UTF-8 for JSON. */
static const char *clean(const char *s, char *out, size_t outsz)
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

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static long long mono_ms(void)
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
		        kv[i].s ? json_string(clean(kv[i].s, v, sizeof(v)))
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

	clean(s, c, sizeof(c));
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

static void log_event(const struct exporter *x, const char *level,
                      const char *event, const struct kv *kv, size_t n)
{
	char stamp[40], line[EXP_LOG_LINE], v[EXP_MAX_SHOWN * 4 + 3];
	double now = wall_now();
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
static void mhd_log(void *cls, const char *fmt, va_list ap)
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
		log_event(x, "warn", "http", kv, 1);
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

static struct exp_config *config_get(struct exporter *x)
{
	pthread_mutex_lock(&x->mu);
	struct exp_config *c = x->cfg;
	c->refs++;
	pthread_mutex_unlock(&x->mu);
	return c;
}

static void config_put(struct exporter *x, struct exp_config *c)
{
	pthread_mutex_lock(&x->mu);
	int last = --c->refs == 0;
	pthread_mutex_unlock(&x->mu);
	if (last) {
		smtprobe_policy_free(&c->pol);
		free(c);
	}
}

static void config_reload(struct exporter *x)
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
		x->reload_time = wall_now();
	}
	x->reload_ok = old != NULL;
	pthread_mutex_unlock(&x->mu);
	if (old) {
		struct kv kv[] = {{"modules", NULL, (double)c->pol.nmodules}};
		log_event(x, "info", "reload", kv, 1);
		config_put(x, old);
		return;
	}
	if (c) {
		smtprobe_policy_free(&c->pol);
		free(c);
	}
	struct kv kv[] = {{"error", err, 0}};
	log_event(x, "error", "reload", kv, 1);
}

/* ---- probe slots ------------------------------------------------------ */

/* A slot before the monotonic deadline: 0, -1 when none came, -2 when the
 * exporter is stopping. */
static int slot_acquire(struct exporter *x, long long deadline_ms)
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
static void slot_release(struct exporter *x, enum exp_result r,
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

/* ---- HTTP -------------------------------------------------------------- */

static enum MHD_Result reply(struct exporter *x, struct MHD_Connection *conn,
                             enum exp_path path, unsigned code,
                             const char *type, char *body, int owned)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
	        strlen(body), body,
	        owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	pthread_mutex_lock(&x->mu);
	for (size_t i = 0; i < NCODES; i++)
		if (codes[i] == code)
			x->requests[path][i]++;
	pthread_mutex_unlock(&x->mu);
	if (!r) {
		if (owned)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET");
	ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
reply_text(struct exporter *x, struct MHD_Connection *conn, enum exp_path path,
           unsigned code, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));

static enum MHD_Result reply_text(struct exporter *x,
                                  struct MHD_Connection *conn,
                                  enum exp_path path, unsigned code,
                                  const char *fmt, ...)
{
	char body[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(body, sizeof(body) - 1, fmt, ap);
	va_end(ap);
	size_t n = strlen(body);
	body[n] = '\n';
	body[n + 1] = '\0';
	return reply(x, conn, path, code, "text/plain; charset=utf-8", body, 0);
}

/* X-Prometheus-Scrape-Timeout-Seconds minus the offset (at least half of
 * it), or --default-timeout without the header; capped by the module's
 * timeout. -1 when the header is not a positive number of seconds. */
static long probe_budget(const struct exporter *x, const char *hdr,
                         const struct smtprobe_pol_target *m)
{
	long ms = x->default_ms;

	if (hdr) {
		char *end;
		errno = 0;
		double v = strtod(hdr, &end);
		if (end == hdr || *end != '\0' || errno || !isfinite(v) ||
		    v <= 0)
			return -1;
		long scrape = v * 1000 > EXP_MAX_TIMEOUT_MS ? EXP_MAX_TIMEOUT_MS
		                                            : (long)(v * 1000);
		ms = scrape - x->offset_ms;
		if (ms < scrape / 2)
			ms = scrape / 2;
	}
	if (m->timeout_s && (long)m->timeout_s * 1000 < ms)
		ms = (long)m->timeout_s * 1000;
	return ms;
}

/* Does o have family name (the probe may leave it out when it could not
 * start)? */
static int has_family(const struct smtprobe_outcome *o, const char *name)
{
	for (size_t i = 0; i < o->nfamilies; i++)
		if (strcmp(o->families[i].name, name) == 0)
			return 1;
	return 0;
}

static enum MHD_Result serve_probe(struct exporter *x,
                                   struct MHD_Connection *conn)
{
	const char *target = MHD_lookup_connection_value(
	        conn, MHD_GET_ARGUMENT_KIND, "target");
	const char *module = MHD_lookup_connection_value(
	        conn, MHD_GET_ARGUMENT_KIND, "module");
	const char *hdr = MHD_lookup_connection_value(
	        conn, MHD_HEADER_KIND, "X-Prometheus-Scrape-Timeout-Seconds");
	char host[EXP_MAX_HOST], shown[EXP_MAX_SHOWN], where[EXP_MAX_HOST + 8];
	char err[512] = "";
	long port = -1;

	if (!target || !target[0])
		return reply_text(x, conn, P_PROBE, 400,
		                  "missing parameter 'target'");
	if (!module || !module[0])
		return reply_text(x, conn, P_PROBE, 400,
		                  "missing parameter 'module'");
	if (cli_split_server(target, host, sizeof(host), &port) < 0 ||
	    strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                 "0123456789.-_:") != strlen(host))
		return reply_text(x, conn, P_PROBE, 400,
		                  "bad target '%s' (HOST, HOST:PORT or "
		                  "[IPv6]:PORT)",
		                  clean(target, shown, sizeof(shown)));
	struct exp_config *cfg = config_get(x);
	const struct smtprobe_pol_target *m =
	        smtprobe_policy_module(&cfg->pol, module);
	long budget = m ? probe_budget(x, hdr, m) : 0;
	if (!m || budget < 0) {
		config_put(x, cfg);
		if (!m)
			return reply_text(x, conn, P_PROBE, 400,
			                  "unknown module '%s'",
			                  clean(module, shown, sizeof(shown)));
		return reply_text(x, conn, P_PROBE, 400,
		                  "bad X-Prometheus-Scrape-Timeout-Seconds "
		                  "'%s'",
		                  clean(hdr, shown, sizeof(shown)));
	}
	snprintf(where, sizeof(where), strchr(host, ':') ? "[%s]" : "%s", host);
	if (port > 0)
		snprintf(where + strlen(where), sizeof(where) - strlen(where),
		         ":%ld", port);

	long long start = mono_ms(), deadline = start + budget;
	int got = slot_acquire(x, deadline);
	if (got == 0 && mono_ms() + EXP_MIN_PROBE_MS > deadline) {
		slot_release(x, R_LAST, NULL); /* came too late to use */
		got = -1;
	}
	if (got < 0) {
		struct kv kv[] = {{"module", m->name, 0},
		                  {"target", where, 0},
		                  {"max_concurrent", NULL, x->max_concurrent}};
		if (got == -1)
			log_event(x, "warn", "busy", kv, 3);
		config_put(x, cfg); /* m is no more to be used */
		if (got == -2)
			return reply_text(x, conn, P_PROBE, 503, "stopping");
		return reply_text(x, conn, P_PROBE, 503,
		                  "no probe slot before the deadline (%u "
		                  "probes at once, --max-concurrent)",
		                  x->max_concurrent);
	}
	struct smtprobe_outcome o;
	smtprobe_outcome_init(&o);
	int rc = smtprobe_assure_probe(m, host, port > 0 ? (unsigned)port : 0,
	                               (unsigned)(deadline - mono_ms()), getenv,
	                               &o, err, sizeof(err));
	double secs = (double)(mono_ms() - start) / 1000.0;
	enum exp_result res = rc > 0    ? R_SUCCESS
	                      : rc == 0 ? R_FAILURE
	                                : R_ERROR;
	slot_release(x, res, m->name);
	if (!has_family(&o, "smtprobe_probe_success"))
		smtprobe_outcome_metric(&o, "smtprobe_probe_success", "gauge",
		                        "1 when the probe succeeded", 0.0,
		                        SMTPROBE_LABELS_END);
	if (!has_family(&o, "smtprobe_probe_duration_seconds"))
		smtprobe_outcome_metric(&o, "smtprobe_probe_duration_seconds",
		                        "gauge", "how long the probe took",
		                        secs, SMTPROBE_LABELS_END);
	struct kv kv[] = {{"module", m->name, 0},
	                  {"target", where, 0},
	                  {"result", result_names[res], 0},
	                  {"seconds", NULL, secs},
	                  {"error", err, 0}};
	log_event(x, res == R_SUCCESS ? "info" : "warn", "probe", kv,
	          rc < 0 ? 5 : 4);
	char *text = smtprobe_outcome_prometheus(&o);
	smtprobe_outcome_free(&o);
	config_put(x, cfg);
	if (!text)
		return reply_text(x, conn, P_PROBE, 500, "out of memory");
	return reply(x, conn, P_PROBE, 200, EXP_PROM_TYPE, text, 1);
}

static char *own_metrics(struct exporter *x)
{
	struct smtprobe_outcome o;
	char code[8];

	smtprobe_outcome_init(&o);
	pthread_mutex_lock(&x->mu);
	smtprobe_outcome_metric(&o, "smtprobe_exporter_build_info", "gauge",
	                        "the exporter's version (always 1)", 1.0,
	                        "version", SMTPROBE_VERSION,
	                        SMTPROBE_LABELS_END);
	smtprobe_outcome_metric(&o, "smtprobe_exporter_probes_in_flight",
	                        "gauge", "probes running now",
	                        (double)x->in_flight, SMTPROBE_LABELS_END);
	smtprobe_outcome_metric(&o, "smtprobe_exporter_max_concurrent", "gauge",
	                        "probes allowed at once",
	                        (double)x->max_concurrent, SMTPROBE_LABELS_END);
	for (size_t i = 0; i < x->nmods; i++)
		for (int r = 0; r < R_LAST; r++)
			smtprobe_outcome_metric(
			        &o, "smtprobe_exporter_probes_total", "counter",
			        "probes run, by module and result",
			        (double)x->mods[i].n[r], "module",
			        x->mods[i].module, "result", result_names[r],
			        SMTPROBE_LABELS_END);
	for (int p = 0; p < P_LAST; p++)
		for (size_t i = 0; i < NCODES; i++) {
			if (!x->requests[p][i])
				continue;
			snprintf(code, sizeof(code), "%u", codes[i]);
			smtprobe_outcome_metric(
			        &o, "smtprobe_exporter_requests_total",
			        "counter", "HTTP requests, by path and status",
			        (double)x->requests[p][i], "path",
			        path_names[p], "code", code,
			        SMTPROBE_LABELS_END);
		}
	smtprobe_outcome_metric(
	        &o, "smtprobe_exporter_config_last_reload_successful", "gauge",
	        "1 when the last load of the modules file succeeded",
	        (double)x->reload_ok, SMTPROBE_LABELS_END);
	smtprobe_outcome_metric(
	        &o,
	        "smtprobe_exporter_config_last_reload_success_timestamp_"
	        "seconds",
	        "gauge", "when the modules file was last loaded",
	        x->reload_time, SMTPROBE_LABELS_END);
	pthread_mutex_unlock(&x->mu);
	char *text = smtprobe_outcome_prometheus(&o);
	smtprobe_outcome_free(&o);
	return text;
}

/* s for HTML text (href: also percent-encoded as a query value) */
static void html_put(FILE *f, const char *s, int href)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (href && !strchr("-._~", ch) && !(ch >= '0' && ch <= '9') &&
		    !((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z'))
			fprintf(f, "%%%02X", ch);
		else if (ch == '<' || ch == '>' || ch == '&' || ch == '"' ||
		         ch == '\'' || ch < 0x20 || ch == 0x7f)
			fprintf(f, "&#%u;", ch);
		else
			fputc(ch, f);
	}
}

static char *index_page(struct exporter *x)
{
	struct exp_config *cfg = config_get(x);
	const struct smtprobe_pol_target *m = cfg->pol.modules;
	char *text = NULL;
	size_t len;
	FILE *f = open_memstream(&text, &len);

	if (f) {
		fprintf(f,
		        "<!DOCTYPE html>\n<html><head><title>smtprobe "
		        "exporter</title></head><body>\n<h1>smtprobe "
		        "exporter %s</h1>\n<p><a href=\"/metrics\">"
		        "/metrics</a>: the exporter's own metrics</p>\n"
		        "<p>probe: <a href=\"/probe?target=127.0.0.1:25&amp;"
		        "module=",
		        SMTPROBE_VERSION);
		html_put(f, m[0].name, 1);
		fputs("\">/probe?target=127.0.0.1:25&amp;module=", f);
		html_put(f, m[0].name, 0);
		fputs("</a></p>\n<p>modules:</p>\n<ul>\n", f);
		for (size_t i = 0; i < cfg->pol.nmodules; i++) {
			fputs("<li>", f);
			html_put(f, m[i].name, 0);
			fprintf(f, " (%s)</li>\n",
			        smtprobe_pol_kind_name(m[i].kind));
		}
		fputs("</ul>\n</body></html>\n", f);
		if (fclose(f) != 0) {
			free(text);
			text = NULL;
		}
	}
	config_put(x, cfg);
	return text;
}

static void on_connection(void *cls, struct MHD_Connection *conn,
                          void **socket_ctx,
                          enum MHD_ConnectionNotificationCode what)
{
	struct exporter *x = cls;

	pthread_mutex_lock(&x->mu);
	if (what == MHD_CONNECTION_NOTIFY_STARTED)
		x->conns++;
	else if (x->conns > 0)
		x->conns--;
	pthread_mutex_unlock(&x->mu);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **req)
{
	static int answered; /* its address marks a request already answered */
	struct exporter *x = cls;
	enum exp_path path = P_OTHER;
	char *text;

	/* called again when the answer could not be queued (the client left) */
	if (*req == &answered)
		return MHD_NO;
	*req = &answered;
	for (int i = 0; i < P_OTHER; i++)
		if (strcmp(url, path_names[i]) == 0)
			path = (enum exp_path)i;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0)
		return reply_text(x, conn, path, 405, "method not allowed");
	switch (path) {
	case P_PROBE:
		return serve_probe(x, conn);
	case P_METRICS:
		text = own_metrics(x);
		return text ? reply(x, conn, path, 200, EXP_PROM_TYPE, text, 1)
		            : reply_text(x, conn, path, 500, "out of memory");
	case P_INDEX:
		text = index_page(x);
		return text ? reply(x, conn, path, 200,
		                    "text/html; charset=utf-8", text, 1)
		            : reply_text(x, conn, path, 500, "out of memory");
	default:
		return reply_text(x, conn, path, 404, "not found");
	}
}

/* ---- the command ------------------------------------------------------- */

enum {
	E_LISTEN = 1,
	E_CONFIG,
	E_MAX_CONCURRENT,
	E_TIMEOUT_OFFSET,
	E_DEFAULT_TIMEOUT,
	E_LOG_FORMAT,
	E_HELP,
};

static const struct opt_def exporter_defs[] = {
        {E_LISTEN, "listen", OPT_REQ, "ADDR:PORT",
         "where to listen, a numeric address (default " EXP_DEFAULT_LISTEN ")"},
        {E_CONFIG, "config", OPT_REQ, "FILE", "the modules file (required)"},
        {E_MAX_CONCURRENT, "max-concurrent", OPT_REQ, "N",
         "probes at once (default 4, at most 64); more wait for a slot "
         "until their deadline, then get 503"},
        {E_TIMEOUT_OFFSET, "timeout-offset", OPT_REQ, "SECS",
         "taken off the scrape timeout of Prometheus (default 0.5)"},
        {E_DEFAULT_TIMEOUT, "default-timeout", OPT_REQ, "SECS",
         "a probe's deadline when the request gives none (default 10)"},
        {E_LOG_FORMAT, "log-format", OPT_REQ, "FMT",
         "the log on stderr: text (logfmt, the default) or json"},
        {E_HELP, "help", OPT_NONE, NULL, "this help"},
        {0, NULL, OPT_NONE, NULL, NULL},
};

struct exp_opts {
	const char *listen, *config;
	long max_concurrent, offset_ms, default_ms;
	int json_log, help;
};

static int on_exporter_opt(void *ctx, int id, const char *v, char *err,
                           size_t errsz)
{
	struct exp_opts *c = ctx;

	switch (id) {
	case 0:
		snprintf(err, errsz, "unexpected argument '%s'", v);
		return -1;
	case E_LISTEN:
		c->listen = v;
		break;
	case E_CONFIG:
		c->config = v;
		break;
	case E_MAX_CONCURRENT:
		c->max_concurrent = opts_number(v, 1, EXP_MAX_CONCURRENT);
		if (c->max_concurrent < 0) {
			snprintf(err, errsz,
			         "bad --max-concurrent '%s' (1 to %d)", v,
			         EXP_MAX_CONCURRENT);
			return -1;
		}
		break;
	case E_TIMEOUT_OFFSET:
		c->offset_ms = opts_duration_ms(v);
		if (c->offset_ms < 0 || c->offset_ms > 60000) {
			snprintf(err, errsz,
			         "bad --timeout-offset '%s' (0 to 60 seconds)",
			         v);
			return -1;
		}
		break;
	case E_DEFAULT_TIMEOUT:
		c->default_ms = opts_duration_ms(v);
		if (c->default_ms < 100 || c->default_ms > EXP_MAX_TIMEOUT_MS) {
			snprintf(err, errsz,
			         "bad --default-timeout '%s' (0.1 to %ld "
			         "seconds)",
			         v, EXP_MAX_TIMEOUT_MS / 1000);
			return -1;
		}
		break;
	case E_LOG_FORMAT:
		if (strcmp(v, "text") && strcmp(v, "json")) {
			snprintf(err, errsz,
			         "bad --log-format '%s' (text or json)", v);
			return -1;
		}
		c->json_log = strcmp(v, "json") == 0;
		break;
	case E_HELP:
		c->help = 1;
		break;
	}
	return 0;
}

static void exporter_help(FILE *f)
{
	fprintf(f, "usage: smtprobe exporter --config FILE [--listen "
	           "ADDR:PORT] [OPTIONS]\n\n"
	           "A Prometheus exporter in the blackbox_exporter style: "
	           "GET /probe?target=HOST[:PORT]&module=NAME\nruns a module "
	           "of the modules file against the target and answers its "
	           "metrics;\nGET /metrics answers the exporter's own. SIGHUP "
	           "reloads the modules file.\n\n");
	opts_help(exporter_defs, f);
	fprintf(f, "\nexit codes: 0 stopped by SIGTERM or SIGINT, 2 could not "
	           "start (a usage error,\n  a bad modules file, the address "
	           "cannot be bound).\n"
	           "\nexample:\n  smtprobe exporter --config modules.yaml "
	           "--listen 127.0.0.1:9325\n");
}

/* ADDR:PORT or [IPv6]:PORT, a numeric address, port 0 for any free one */
static int parse_listen(const char *spec, struct sockaddr_storage *ss,
                        socklen_t *sslen)
{
	struct addrinfo hints, *ai = NULL;
	char host[EXP_MAX_HOST];
	const char *start = spec, *colon;
	size_t n;

	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');
		if (!close || close[1] != ':')
			return -1;
		start = spec + 1;
		n = (size_t)(close - start);
		colon = close + 1;
	} else {
		colon = strrchr(spec, ':');
		if (!colon || strchr(spec, ':') != colon)
			return -1;
		n = (size_t)(colon - spec);
	}
	if (n == 0 || n >= sizeof(host) || opts_number(colon + 1, 0, 65535) < 0)
		return -1;
	memcpy(host, start, n);
	host[n] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, colon + 1, &hints, &ai) != 0 || !ai)
		return -1;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*sslen = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

/* Stop taking connections and let the probes running finish (each within
 * its deadline) and their answers go out; a request waiting for a slot
 * gets 503. Connections still open EXP_DRAIN_MS after the last probe (idle
 * ones), or a second SIGTERM/SIGINT, end the wait. */
static void drain(struct exporter *x, struct MHD_Daemon *d, const sigset_t *set)
{
	struct timespec tick = {0, 50 * 1000000};
	long long quiet = mono_ms();
	int fd = MHD_quiesce_daemon(d);

	if (fd >= 0)
		close(fd);
	pthread_mutex_lock(&x->mu);
	x->stopping = 1;
	pthread_cond_broadcast(&x->slot_free);
	pthread_mutex_unlock(&x->mu);
	for (;;) {
		pthread_mutex_lock(&x->mu);
		unsigned probes = x->in_flight, conns = x->conns;
		pthread_mutex_unlock(&x->mu);
		if (probes)
			quiet = mono_ms();
		if (!conns || (!probes && mono_ms() - quiet > EXP_DRAIN_MS))
			break;
		int sig = sigtimedwait(set, NULL, &tick);
		if (sig == SIGTERM || sig == SIGINT)
			break;
	}
}

static int exporter_run(const struct exp_opts *c, struct exporter *x)
{
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	char err[512], addr[NI_MAXHOST], bound[NI_MAXHOST + 16];
	sigset_t set, old;
	int sig;

	if (parse_listen(c->listen, &ss, &sslen) < 0) {
		cli_error("bad --listen '%s' (ADDR:PORT or [IPv6]:PORT, a "
		          "numeric address)",
		          clean(c->listen, err, sizeof(err)));
		return 2;
	}
	x->cfg = config_load(c->config, err, sizeof(err));
	if (!x->cfg) {
		cli_error("%s", err);
		return 2;
	}
	counters_add(x, x->cfg);
	x->reload_ok = 1;
	x->reload_time = wall_now();
	/* the HTTP threads inherit the mask: the signals come to sigwait */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	unsigned conns = (unsigned)c->max_concurrent * EXP_CONN_PER_PROBE + 16;
	struct MHD_Daemon *d = MHD_start_daemon(
	        MHD_USE_INTERNAL_POLLING_THREAD |
	                MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL |
	                MHD_USE_ERROR_LOG | MHD_USE_ITC |
	                (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
	        0, NULL, NULL, on_request, x, MHD_OPTION_EXTERNAL_LOGGER,
	        mhd_log, x, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	        MHD_OPTION_CONNECTION_LIMIT, conns,
	        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)EXP_IDLE_TIMEOUT_S,
	        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)EXP_REQUEST_MEMORY,
	        MHD_OPTION_NOTIFY_CONNECTION, on_connection, x, MHD_OPTION_END);
	if (!d) {
		/* "Failed to bind to port 0: Address already in use" */
		const char *colon = strrchr(x->mhd_err, ':');
		char why[300] = "";
		if (colon && colon[1] == ' ' && colon[2]) {
			snprintf(why, sizeof(why), ": %s", colon + 2);
			why[2] = (char)tolower((unsigned char)why[2]);
		}
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		cli_error("cannot listen on %s%s",
		          clean(c->listen, err, sizeof(err)), why);
		return 2;
	}
	pthread_mutex_lock(&x->mu);
	x->listening = 1;
	pthread_mutex_unlock(&x->mu);
	const union MHD_DaemonInfo *info =
	        MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	if (getnameinfo((struct sockaddr *)&ss, sslen, addr, sizeof(addr), NULL,
	                0, NI_NUMERICHOST) != 0)
		snprintf(addr, sizeof(addr), "?");
	snprintf(bound, sizeof(bound),
	         ss.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", addr,
	         info ? (unsigned)info->port : 0);
	struct kv kv[] = {{"address", bound, 0},
	                  {"modules", NULL, (double)x->cfg->pol.nmodules},
	                  {"max_concurrent", NULL, (double)c->max_concurrent}};
	log_event(x, "info", "listening", kv, 3);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig != SIGHUP)
			break;
		config_reload(x);
	}
	struct kv why[] = {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM", 0}};
	log_event(x, "info", "stopping", why, 1);
	drain(x, d, &set);
	MHD_stop_daemon(d);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return 0;
}

int cmd_exporter(int argc, char **argv)
{
	struct exp_opts c = {EXP_DEFAULT_LISTEN, NULL, 4, 500, 10000, 0, 0};
	struct exporter x;
	pthread_condattr_t ca;
	char err[512];
	int rc;

	if (opts_parse(exporter_defs, argc, argv, on_exporter_opt, NULL, &c,
	               err, sizeof(err)) < 0) {
		cli_error("%s (try 'smtprobe exporter --help')", err);
		return 2;
	}
	if (c.help) {
		exporter_help(stdout);
		return 0;
	}
	if (!c.config) {
		cli_error("missing --config FILE (try 'smtprobe exporter "
		          "--help')");
		return 2;
	}
	memset(&x, 0, sizeof(x));
	pthread_mutex_init(&x.mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&x.slot_free, &ca);
	pthread_condattr_destroy(&ca);
	x.max_concurrent = (unsigned)c.max_concurrent;
	x.offset_ms = c.offset_ms;
	x.default_ms = c.default_ms;
	x.json_log = c.json_log;
	x.config_path = c.config;
	rc = exporter_run(&c, &x);
	if (x.cfg)
		config_put(&x, x.cfg);
	for (size_t i = 0; i < x.nmods; i++)
		free(x.mods[i].module);
	pthread_cond_destroy(&x.slot_free);
	pthread_mutex_destroy(&x.mu);
	return rc;
}
