/* exporter_http.c - the requests of `smtprobe exporter` (exporter.h).
 * GET /probe?target=HOST[:PORT]&module=NAME runs one module of the modules
 * file against the target (smtprobe_assure_probe) and answers its metrics
 * in the text exposition format 0.0.4; GET /metrics answers the exporter's
 * own counters; GET / a small page; anything else 404, a method other than
 * GET 405. Every reply is counted by path and status code.
 *
 * Promises: query values are validated before use and escaped before they
 * reach a reply or a log line (exporter_clean; HTML-escaped in the page);
 * a bad target, module or X-Prometheus-Scrape-Timeout-Seconds is a 400.
 * Each probe is given a deadline (the scrape timeout minus the offset, at
 * least half of it, capped by the module's timeout and EXP_MAX_TIMEOUT_MS)
 * for the library to keep; a request that gets no probe slot in time, or
 * less than EXP_MIN_PROBE_MS of it, or comes while the exporter stops, is
 * a 503. A failed probe is a 200 with smtprobe_probe_success 0, as
 * blackbox does; out of memory is a 500. Secrets are never read here (the
 * probe reads them) and never logged. */
#include <errno.h>
#include <math.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "exporter.h"
#include "smtprobe/assure.h"
#include "smtprobe/outcome.h"
#include "smtprobe/policy.h"
#include "banned.h"

#define EXP_MIN_PROBE_MS 20 /* less left after the wait: 503 */
#define EXP_PROM_TYPE    "text/plain; version=0.0.4; charset=utf-8"

static const char *const path_names[P_LAST] = {"/", "/probe", "/metrics",
                                               "other"};
static const unsigned codes[EXP_NCODES] = {200, 400, 403, 404, 405, 500, 503};

/* One --allow-target pattern against the target: the host (case aside;
 * "*.example.org" takes every name below example.org) and, when the
 * pattern has one, the port. */
static int allow_match(const char *pat, const char *host, unsigned port)
{
	char ph[EXP_MAX_HOST];
	long pport = -1;

	if (cli_split_server(pat, ph, sizeof(ph), &pport) < 0)
		return 0;
	if (pport > 0 && (unsigned)pport != port)
		return 0;
	if (ph[0] == '*' && ph[1] == '.') {
		size_t hl = strlen(host), sl = strlen(ph + 1);
		return hl > sl && strcasecmp(host + hl - sl, ph + 1) == 0;
	}
	return strcasecmp(ph, host) == 0;
}

int exporter_target_allowed(const struct exporter *x, const char *host,
                            unsigned port)
{
	if (x->nallow == 0)
		return 1;
	for (size_t i = 0; i < x->nallow; i++)
		if (allow_match(x->allow[i], host, port))
			return 1;
	return 0;
}
static const char *const result_names[R_LAST] = {"success", "failure", "error"};

static enum MHD_Result reply(struct exporter *x, struct MHD_Connection *conn,
                             enum exp_path path, unsigned code,
                             const char *type, char *body, int owned)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
	        strlen(body), body,
	        owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	pthread_mutex_lock(&x->mu);
	for (size_t i = 0; i < EXP_NCODES; i++)
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
		                  exporter_clean(target, shown, sizeof(shown)));
	struct exp_config *cfg = exporter_config_get(x);
	const struct smtprobe_pol_target *m =
	        smtprobe_policy_module(&cfg->pol, module);
	long budget = m ? probe_budget(x, hdr, m) : 0;
	if (!m || budget < 0) {
		exporter_config_put(x, cfg);
		if (!m)
			return reply_text(
			        x, conn, P_PROBE, 400, "unknown module '%s'",
			        exporter_clean(module, shown, sizeof(shown)));
		return reply_text(x, conn, P_PROBE, 400,
		                  "bad X-Prometheus-Scrape-Timeout-Seconds "
		                  "'%s'",
		                  exporter_clean(hdr, shown, sizeof(shown)));
	}
	snprintf(where, sizeof(where), strchr(host, ':') ? "[%s]" : "%s", host);
	if (port > 0)
		snprintf(where + strlen(where), sizeof(where) - strlen(where),
		         ":%ld", port);
	/* the port the probe will use: the target's, else the module's */
	unsigned use_port = port > 0                        ? (unsigned)port
	                    : m->port                       ? m->port
	                    : m->kind == SMTPROBE_POL_RELAY ? 25
	                    : m->tls_set && m->tls == SMTPROBE_POL_TLS_IMPLICIT
	                            ? 465
	                            : 587;
	if (!exporter_target_allowed(x, host, use_port)) {
		struct kv kv[] = {{"module", m->name, 0}, {"target", where, 0}};
		exporter_log(x, "warn", "refused", kv, 2);
		exporter_config_put(x, cfg);
		return reply_text(x, conn, P_PROBE, 403,
		                  "target '%s' not allowed (--allow-target)",
		                  exporter_clean(where, shown, sizeof(shown)));
	}

	long long start = exporter_mono_ms(), deadline = start + budget;
	int got = exporter_slot_acquire(x, deadline);
	if (got == 0 && exporter_mono_ms() + EXP_MIN_PROBE_MS > deadline) {
		exporter_slot_release(x, R_LAST,
		                      NULL); /* came too late to use */
		got = -1;
	}
	if (got < 0) {
		struct kv kv[] = {{"module", m->name, 0},
		                  {"target", where, 0},
		                  {"max_concurrent", NULL, x->max_concurrent}};
		if (got == -1)
			exporter_log(x, "warn", "busy", kv, 3);
		exporter_config_put(x, cfg); /* m is no more to be used */
		if (got == -2)
			return reply_text(x, conn, P_PROBE, 503, "stopping");
		return reply_text(x, conn, P_PROBE, 503,
		                  "no probe slot before the deadline (%u "
		                  "probes at once, --max-concurrent)",
		                  x->max_concurrent);
	}
	struct smtprobe_outcome o;
	smtprobe_outcome_init(&o);
	int rc =
	        smtprobe_assure_probe(m, host, port > 0 ? (unsigned)port : 0,
	                              (unsigned)(deadline - exporter_mono_ms()),
	                              getenv, &o, err, sizeof(err));
	double secs = (double)(exporter_mono_ms() - start) / 1000.0;
	enum exp_result res = rc > 0    ? R_SUCCESS
	                      : rc == 0 ? R_FAILURE
	                                : R_ERROR;
	exporter_slot_release(x, res, m->name);
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
	exporter_log(x, res == R_SUCCESS ? "info" : "warn", "probe", kv,
	             rc < 0 ? 5 : 4);
	char *text = smtprobe_outcome_prometheus(&o);
	smtprobe_outcome_free(&o);
	exporter_config_put(x, cfg);
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
		for (size_t i = 0; i < EXP_NCODES; i++) {
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
	struct exp_config *cfg = exporter_config_get(x);
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
	exporter_config_put(x, cfg);
	return text;
}

void exporter_on_connection(void *cls, struct MHD_Connection *conn,
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

enum MHD_Result exporter_on_request(void *cls, struct MHD_Connection *conn,
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
