/* exporter.h - the pieces of `smtprobe exporter` shared by its files:
 * exporter.c (the command), exporter_state.c (the log, the modules file,
 * the counters, the probe slots) and exporter_http.c (the requests). An
 * internal header of those three; every field of struct exporter that can
 * change while the server runs is read and written under its mu. */
#ifndef SMTPROBE_CLI_EXPORTER_H
#define SMTPROBE_CLI_EXPORTER_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>

#include "smtprobe/policy.h"

#define EXP_MAX_TIMEOUT_MS 600000L /* a longer scrape timeout is cut */
#define EXP_MAX_MODULES    256     /* counters kept (over reloads too) */
#define EXP_MAX_HOST       256
#define EXP_MAX_SHOWN      80 /* a query value quoted in a reply or log */

enum exp_path { P_INDEX, P_PROBE, P_METRICS, P_OTHER, P_LAST };
#define EXP_NCODES    7  /* the HTTP status codes counted (exporter_http.c) */
#define EXP_MAX_ALLOW 32 /* --allow-target patterns */
enum exp_result { R_SUCCESS, R_FAILURE, R_ERROR, R_LAST };

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
	/* --allow-target: HOST, HOST:PORT or *.DOMAIN[:PORT]; none: any */
	const char *allow[EXP_MAX_ALLOW];
	size_t nallow;
	struct exp_counter mods[EXP_MAX_MODULES];
	size_t nmods;
	unsigned long long requests[P_LAST][EXP_NCODES];
	int reload_ok;
	double reload_time;
};

/* One key of a log line: a string, or a number when s is NULL. */
struct kv {
	const char *k;
	const char *s; /* NULL: the value is n */
	double n;
};

/* ---- exporter_state.c ---- */

/* s cut to outsz - 1 bytes ("..." when cut), every byte but printable
 * ASCII as '?': safe for a reply, a log line and JSON. Returns out. */
const char *exporter_clean(const char *s, char *out, size_t outsz);
double exporter_wall_now(void);   /* seconds since the epoch */
long long exporter_mono_ms(void); /* CLOCK_MONOTONIC, in ms */
/* One line on stderr, logfmt or JSON (--log-format); level "info", "warn"
 * or "error". */
void exporter_log(const struct exporter *x, const char *level,
                  const char *event, const struct kv *kv, size_t n);
/* libmicrohttpd's MHD_OPTION_EXTERNAL_LOGGER; cls is the exporter. */
void exporter_mhd_log(void *cls, const char *fmt, va_list ap)
        __attribute__((format(printf, 2, 0)));

/* x zeroed, its lock and its condition (on CLOCK_MONOTONIC) made; the
 * caller sets the options. exporter_release frees what it holds. */
void exporter_init(struct exporter *x);
void exporter_release(struct exporter *x);
/* The first load of x->config_path, before the server starts; -1 with
 * err when the file is bad or has 0 or more than EXP_MAX_MODULES modules. */
int exporter_config_start(struct exporter *x, char *err, size_t errsz);
/* The current modules file, held until exporter_config_put. */
struct exp_config *exporter_config_get(struct exporter *x);
void exporter_config_put(struct exporter *x, struct exp_config *c);
/* SIGHUP: load the file again; a bad one keeps the old (and is logged). */
void exporter_config_reload(struct exporter *x);

/* A probe slot before the monotonic deadline: 0, -1 when none came, -2
 * when the exporter is stopping. */
int exporter_slot_acquire(struct exporter *x, long long deadline_ms);
/* Give the slot back, counting the probe's result r (R_LAST: unused). */
void exporter_slot_release(struct exporter *x, enum exp_result r,
                           const char *module);

/* ---- exporter_http.c: libmicrohttpd's callbacks, cls the exporter ---- */

/* Whether --allow-target lets a probe go to host:port (the port the probe
 * will use); 1 when no pattern was given. */
int exporter_target_allowed(const struct exporter *x, const char *host,
                            unsigned port);

enum MHD_Result exporter_on_request(void *cls, struct MHD_Connection *conn,
                                    const char *url, const char *method,
                                    const char *version, const char *upload,
                                    size_t *upload_size, void **req);
void exporter_on_connection(void *cls, struct MHD_Connection *conn,
                            void **socket_ctx,
                            enum MHD_ConnectionNotificationCode what);

#endif
