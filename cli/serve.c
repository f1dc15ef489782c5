/* serve.c - `smtprobe serve`: the embedded, policy-aware test SMTP server.
 *
 * Parses the options (a bad value is refused with its option named, exit
 * 1), loads each listener's policy, prepares TLS (given files, or a CA and
 * server certificate generated into the state directory), opens the store
 * and the listeners, then runs the loop until SIGTERM/SIGINT (clean
 * shutdown, summary) with SIGHUP reloading the policies off the loop
 * (reload.c: all of them or, when one fails to load, none). The "ready"
 * event lists the listeners as objects; the summary's counters are
 * numbers, from a table. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "cli.h"
#include "throttle.h"
#include "log.h"
#include "opts.h"
#include "reload.h"
#include "server.h"
#include "banned.h"

#define SERVE_MAX_LISTENERS 16

enum {
	S_LISTEN = 1,
	S_POLICY,
	S_TLS_CERT,
	S_TLS_KEY,
	S_TLS_CHAIN,
	S_STATE_DIR,
	S_MAILDIR,
	S_SPOOL,
	S_NO_FSYNC,
	S_LOG,
	S_JSON,
	S_TIMEOUT,
	S_DATA_TIMEOUT,
	S_DATA_MAX_TIME,
	S_DATA_MIN_RATE,
	S_TLS_TIMEOUT,
	S_SESSION_TIMEOUT,
	S_HOSTNAME,
	S_HELP,
};

static const struct opt_def serve_defs[] = {
        {S_LISTEN, "l|listen", OPT_REQ, "ADDR:PORT[/MODE][,policy=P]",
         "listen here; MODE plain, starttls, starttls-required, implicit, "
         "lmtp; "
         "repeatable (default 127.0.0.1:2525)"},
        {S_POLICY, "policy", OPT_REQ, "PRESET|FILE",
         "policy for listeners without one: open, mx, submission, "
         "relay-by-ip, or a YAML file (default mx)"},
        {S_TLS_CERT, "tls-cert", OPT_REQ, "FILE", "server certificate (PEM)"},
        {S_TLS_KEY, "tls-key", OPT_REQ, "FILE", "its key (PEM)"},
        {S_TLS_CHAIN, "tls-chain", OPT_REQ, "FILE",
         "intermediate certificates"},
        {S_STATE_DIR, "state-dir", OPT_REQ, "DIR",
         "where a generated CA and certificate live (default "
         "/tmp/smtprobe-serve-UID)"},
        {S_MAILDIR, "maildir", OPT_REQ, "DIR",
         "store accepted messages in a Maildir here (default: accept and "
         "discard)"},
        {S_SPOOL, "spool", OPT_REQ, "DIR",
         "store them in an append-only spool here (DIR/messages.spool: "
         "each an envelope line, then the message): the fastest durable "
         "store"},
        {S_NO_FSYNC, "no-fsync", OPT_NONE, NULL,
         "do not sync the store (benchmarks only: loses mail on a crash)"},
        {S_LOG, "log", OPT_REQ, "FILE", "event log (default stderr)"},
        {S_JSON, "json", OPT_NONE, NULL, "log events as JSON lines"},
        {S_TIMEOUT, "timeout", OPT_REQ, "SECS",
         "idle deadline per command (default 300)"},
        {S_DATA_TIMEOUT, "data-timeout", OPT_REQ, "SECS",
         "deadline for each read inside DATA (default 300)"},
        {S_DATA_MAX_TIME, "data-max-time", OPT_REQ, "SECS",
         "deadline for a whole message, DATA or BDAT (default 600)"},
        {S_DATA_MIN_RATE, "data-min-rate", OPT_REQ, "BYTES",
         "slowest transfer inside a message, bytes/s after a grace "
         "(default 100; 0 = off)"},
        {S_TLS_TIMEOUT, "tls-timeout", OPT_REQ, "SECS",
         "deadline for a TLS handshake (default 10)"},
        {S_SESSION_TIMEOUT, "session-timeout", OPT_REQ, "SECS",
         "deadline for a whole session (default 3600)"},
        {S_HOSTNAME, "hostname", OPT_REQ, "NAME",
         "banner name (overrides the policies')"},
        {S_HELP, "help", OPT_NONE, NULL, "this help"},
        {0, NULL, OPT_NONE, NULL, NULL},
};

/* The deadlines: option, field of struct srv_options, default. */
static const struct deadline {
	int id;
	size_t off;
	unsigned def_ms;
} deadlines[] = {
        {S_TIMEOUT, offsetof(struct srv_options, timeout_ms), 300000},
        {S_DATA_TIMEOUT, offsetof(struct srv_options, data_timeout_ms), 300000},
        {S_DATA_MAX_TIME, offsetof(struct srv_options, data_max_ms), 600000},
        {S_TLS_TIMEOUT, offsetof(struct srv_options, tls_timeout_ms), 10000},
        {S_SESSION_TIMEOUT, offsetof(struct srv_options, session_max_ms),
         3600000},
};

#define SERVE_DATA_MIN_RATE 100        /* bytes/s, the default */
#define SERVE_MAX_RATE      (1L << 30) /* bytes/s */

struct serve_cfg {
	const char *listen[SERVE_MAX_LISTENERS];
	size_t nlisten;
	const char *policy;
	const char *cert, *key, *chain, *state_dir, *maildir, *spool, *log,
	        *hostname;
	int no_fsync, json, help;
	struct srv_options opt; /* the deadlines and the rate */
};

static const char *opt_name(int id)
{
	size_t i;

	for (i = 0; serve_defs[i].names && serve_defs[i].id != id; i++)
		;
	return serve_defs[i].names ? serve_defs[i].names : "?";
}

/* Seconds as "10", "2.5", "30s", "2m", "1h": above 0, at most a day.
 * Checked here first, as strtod alone takes "nan", "inf" and hex. */
static int deadline_opt(struct serve_cfg *c, const struct deadline *d,
                        const char *v, char *err, size_t errsz)
{
	size_t n = strspn(v, "0123456789.");
	long ms = -1;

	if (n > 0 && v[0] != '.' && strchr(v, '.') == strrchr(v, '.') &&
	    (v[n] == '\0' || (strchr("smh", v[n]) && v[n + 1] == '\0')))
		ms = opts_duration_ms(v);
	if (ms <= 0) {
		snprintf(err, errsz,
		         "bad timeout '%s' for --%s (seconds: 10, 2.5, 30s, "
		         "2m; above 0, at most 24h)",
		         v, opt_name(d->id));
		return -1;
	}
	*(unsigned *)(void *)((char *)&c->opt + d->off) = (unsigned)ms;
	return 0;
}

static int rate_opt(struct serve_cfg *c, const char *v, char *err, size_t errsz)
{
	size_t n = strspn(v, "0123456789");
	long rate = -1;

	if (n > 0 && v[n] == '\0' && n <= 10)
		rate = opts_number(v, 0, SERVE_MAX_RATE);
	if (rate < 0) {
		snprintf(err, errsz,
		         "bad rate '%s' for --data-min-rate (bytes per "
		         "second, 0 = off, at most %ld)",
		         v, SERVE_MAX_RATE);
		return -1;
	}
	c->opt.data_min_rate = (unsigned)rate;
	return 0;
}

static int on_serve_opt(void *ctx, int id, const char *v, char *err,
                        size_t errsz)
{
	struct serve_cfg *c = ctx;
	size_t i;

	for (i = 0; i < sizeof(deadlines) / sizeof(deadlines[0]); i++) {
		if (deadlines[i].id == id)
			return deadline_opt(c, &deadlines[i], v, err, errsz);
	}
	switch (id) {
	case 0:
		snprintf(err, errsz, "unexpected argument '%s'", v);
		return -1;
	case S_LISTEN:
		if (c->nlisten >= SERVE_MAX_LISTENERS) {
			snprintf(err, errsz, "at most %d listeners",
			         SERVE_MAX_LISTENERS);
			return -1;
		}
		c->listen[c->nlisten++] = v;
		break;
	case S_POLICY:
		c->policy = v;
		break;
	case S_TLS_CERT:
		c->cert = v;
		break;
	case S_TLS_KEY:
		c->key = v;
		break;
	case S_TLS_CHAIN:
		c->chain = v;
		break;
	case S_STATE_DIR:
		c->state_dir = v;
		break;
	case S_MAILDIR:
		c->maildir = v;
		break;
	case S_SPOOL:
		c->spool = v;
		break;
	case S_NO_FSYNC:
		c->no_fsync = 1;
		break;
	case S_LOG:
		c->log = v;
		break;
	case S_JSON:
		c->json = 1;
		break;
	case S_DATA_MIN_RATE:
		return rate_opt(c, v, err, errsz);
	case S_HOSTNAME:
		c->hostname = v;
		break;
	case S_HELP:
		c->help = 1;
		break;
	default:
		break;
	}
	return 0;
}

static void serve_help(FILE *f)
{
	fprintf(f,
	        "usage: smtprobe serve [OPTIONS]\n\n"
	        "A test SMTP server that behaves like your relay: presets or "
	        "a YAML policy,\nTLS, AUTH, limits, fault injection, Maildir "
	        "storage, one log line per event.\n\n");
	opts_help(serve_defs, f);
	fprintf(f, "\nexamples:\n"
	           "  smtprobe serve --listen 127.0.0.1:2525,policy=open \\\n"
	           "      --listen 127.0.0.1:2587/starttls-required,policy="
	           "submission --maildir /tmp/mail\n"
	           "  smtprobe serve --listen [::1]:2465/implicit --policy "
	           "my-relay.yaml --json\n");
}

static struct server srv;
/* Every policy ever loaded, and SIGHUP's reloads. */
static struct srv_reload *reload;
static uv_signal_t sig_term, sig_int, sig_hup;

static void on_stop_signal(uv_signal_t *h, int signum)
{
	if (srv.stopping)
		return;
	srv.stopping = 1;
	srv_log_event(srv.log, "shutdown", "signal",
	              signum == SIGTERM ? "TERM" : "INT", NULL);
	for (size_t i = 0; i < srv.nlisteners; i++)
		srv_listener_close(&srv.listeners[i]);
	smtpd_shutdown_all(&srv);
	/* Keep catching signals (a second TERM must not kill us half-way),
	 * but let the loop end once the sessions are gone. */
	uv_unref((uv_handle_t *)&sig_term);
	uv_unref((uv_handle_t *)&sig_int);
	uv_unref((uv_handle_t *)&sig_hup);
}

static void on_hup(uv_signal_t *h, int signum)
{
	srv_reload_request(reload);
}

static int prepare_tls(const struct serve_cfg *c, char *ca_out, size_t casz,
                       char *err, size_t errsz)
{
	char dir[512], cert[600], key[600];
	const char *names[SERVE_MAX_LISTENERS + 2];
	size_t n = 0;

	if (c->cert) {
		ca_out[0] = '\0';
		return smtprobe_tls_server_new(&srv.tls, c->cert, c->key,
		                               c->chain, err, errsz);
	}
	if (c->state_dir)
		snprintf(dir, sizeof(dir), "%s", c->state_dir);
	else
		snprintf(dir, sizeof(dir), "/tmp/smtprobe-serve-%u",
		         (unsigned)getuid());
	names[n++] = srv.listeners[0].policy->hostname;
	names[n++] = "localhost";
	for (size_t i = 0; i < srv.nlisteners && n < SERVE_MAX_LISTENERS + 2;
	     i++) {
		/* the listener's address, without port or brackets */
		static char ips[SERVE_MAX_LISTENERS][80];
		const char *a = srv.listeners[i].addr;
		const char *colon = strrchr(a, ':');
		size_t len = colon ? (size_t)(colon - a) : strlen(a);
		if (a[0] == '[') {
			a++;
			len -= 2;
		}
		snprintf(ips[i], sizeof(ips[i]), "%.*s", (int)len, a);
		int dup = 0;
		for (size_t j = 0; j < n; j++)
			dup |= strcmp(names[j], ips[i]) == 0;
		if (!dup)
			names[n++] = ips[i];
	}
	if (smtprobe_tls_generate(dir, names, n, 365, err, errsz) < 0)
		return -1;
	snprintf(cert, sizeof(cert), "%s/server.pem", dir);
	snprintf(key, sizeof(key), "%s/server.key", dir);
	snprintf(ca_out, casz, "%s/ca.pem", dir);
	return smtprobe_tls_server_new(&srv.tls, cert, key, NULL, err, errsz);
}

/* The summary's counters, in this order: key, field of struct srv_stats
 * (an unsigned long, checked at compile time). A new counter is one line,
 * e.g. STAT("refused_per_ip", refused_per_ip). */
#define STAT(k, m)                                                             \
	{                                                                      \
		k, offsetof(struct srv_stats, m) +                             \
		           0 * _Generic(((struct srv_stats *)0)->m,            \
		                        unsigned long : 1)                     \
	}
static const struct {
	const char *key;
	size_t off;
} summary_tab[] = {
        STAT("connections", connections),
        STAT("refused_connections", refused_connections),
        STAT("messages", messages),
        STAT("bytes", bytes),
        STAT("rcpt_accepted", rcpt_ok),
        STAT("rcpt_refused", rcpt_refused),
        STAT("auth_ok", auth_ok),
        STAT("auth_failed", auth_failed),
        STAT("tls", tls),
        STAT("errors", errors),
        STAT("refused_per_ip", refused_per_ip),
        STAT("refused_rate", refused_rate),
        STAT("refused_max", refused_max),
        STAT("refused_shutdown", refused_shutdown),
        STAT("reclaimed", reclaimed),
        STAT("timeout_tls", timeout_tls),
        STAT("timeout_command", timeout_command),
        STAT("timeout_data", timeout_data),
        STAT("timeout_session", timeout_session),
        STAT("accept_errors", accept_errors),
};
#define NSUMMARY (sizeof(summary_tab) / sizeof(summary_tab[0]))

static void log_summary(void)
{
	struct srv_log_field f[NSUMMARY + 1];
	size_t n = NSUMMARY;

	for (size_t i = 0; i < NSUMMARY; i++) {
		const char *at = (const char *)&srv.stats + summary_tab[i].off;

		f[i] = SRV_LOG_N(summary_tab[i].key,
		                 *(const unsigned long *)(const void *)at);
	}
	if (srv.store) {
		/* group commit: rounds of writes and syncs for the messages */
		unsigned long batches, stored;
		srv_store_stats(srv.store, &batches, &stored);
		f[n++] = SRV_LOG_N("store_batches", batches);
	}
	srv_log_fields(srv.log, "summary", f, n);
}

/* "ready": the listeners as a list of {address, mode, policy}. */
static void log_ready(const char *ca, const char *maildir, const char *spool)
{
	struct srv_log_field items[SERVE_MAX_LISTENERS * 3];
	size_t n = 0;

	for (size_t i = 0; i < srv.nlisteners && i < SERVE_MAX_LISTENERS; i++) {
		const struct srv_listener *l = &srv.listeners[i];

		items[n++] = SRV_LOG_S("address", l->addr);
		items[n++] = SRV_LOG_S("mode", srv_mode_name(l->mode));
		items[n++] = SRV_LOG_S("policy", l->policy->name);
	}
	const struct srv_log_field f[] = {
	        SRV_LOG_L("listeners", items, n / 3, 3),
	        SRV_LOG_S("ca", ca),
	        SRV_LOG_S("maildir", maildir),
	        SRV_LOG_S("spool", spool),
	};
	srv_log_fields(srv.log, "ready", f, sizeof(f) / sizeof(f[0]));
}

int cmd_serve(int argc, char **argv)
{
	struct serve_cfg c = {0};
	char err[512], ca[600];
	int rc = 1;

	for (size_t i = 0; i < sizeof(deadlines) / sizeof(deadlines[0]); i++)
		*(unsigned *)(void *)((char *)&c.opt + deadlines[i].off) =
		        deadlines[i].def_ms;
	c.opt.data_min_rate = SERVE_DATA_MIN_RATE;
	if (opts_parse(serve_defs, argc, argv, on_serve_opt, NULL, &c, err,
	               sizeof(err)) < 0) {
		cli_error("%s (try 'smtprobe serve --help')", err);
		return 1;
	}
	if (c.help) {
		serve_help(stdout);
		return 0;
	}
	if (c.key && !c.cert) {
		cli_error("--tls-key needs --tls-cert");
		return 1;
	}
	if (c.maildir && c.spool) {
		cli_error("--maildir and --spool exclude each other");
		return 1;
	}
	if (c.nlisten == 0)
		c.listen[c.nlisten++] = "127.0.0.1:2525";

	memset(&srv, 0, sizeof(srv));
	uv_loop_t *loop = uv_default_loop();
	srv.loop = loop;
	srv.opt = c.opt;
	srv.opt.durable = !c.no_fsync;
	srv.opt.hostname = c.hostname;
	srv.listeners = calloc(c.nlisten, sizeof(*srv.listeners));
	srv.throttle = srv_throttle_new();
	reload = srv_reload_new(&srv);
	srv.log = srv_log_open(c.log, c.json, err, sizeof(err));
	if (!srv.listeners || !srv.throttle || !reload || !srv.log) {
		cli_error("%s", srv.log ? "out of memory" : err);
		return 1;
	}
	int need_tls = 0;
	for (size_t i = 0; i < c.nlisten; i++) {
		struct srv_listener *l = &srv.listeners[i];
		if (srv_listener_parse(l, c.listen[i],
		                       c.policy ? c.policy : "mx", err,
		                       sizeof(err)) < 0 ||
		    srv_reload_initial(reload, l, err, sizeof(err)) < 0) {
			cli_error("%s", err);
			goto out;
		}
		srv.nlisteners++;
		need_tls |=
		        l->mode != SRV_MODE_PLAIN && l->mode != SRV_MODE_LMTP;
	}
	for (size_t i = 0; i < srv.nlisteners; i++)
		if (srv_listener_open(&srv.listeners[i], &srv, err,
		                      sizeof(err)) < 0) {
			cli_error("%s", err);
			goto out;
		}
	ca[0] = '\0';
	if ((need_tls || c.cert) &&
	    prepare_tls(&c, ca, sizeof(ca), err, sizeof(err)) < 0) {
		cli_error("%s", err);
		goto out;
	}
	const char *store_dir = c.maildir ? c.maildir : c.spool;
	struct srv_store_recovery rec;
	if (store_dir &&
	    srv_store_open(&srv.store, loop,
	                   c.maildir ? SRV_STORE_MAILDIR : SRV_STORE_SPOOL,
	                   store_dir, !c.no_fsync, &rec, err,
	                   sizeof(err)) < 0) {
		cli_error("%s", err);
		goto out;
	}
	if (store_dir && rec.removed) {
		const struct srv_log_field f[] = {
		        SRV_LOG_S("store", store_dir),
		        SRV_LOG_N("removed", rec.removed),
		        SRV_LOG_N("bytes", rec.bytes),
		};
		srv_log_fields(srv.log, "recovered", f,
		               sizeof(f) / sizeof(f[0]));
	}
	uv_signal_init(loop, &sig_term);
	uv_signal_init(loop, &sig_int);
	uv_signal_init(loop, &sig_hup);
	uv_signal_start(&sig_term, on_stop_signal, SIGTERM);
	uv_signal_start(&sig_int, on_stop_signal, SIGINT);
	uv_signal_start(&sig_hup, on_hup, SIGHUP);

	log_ready(ca[0] ? ca : NULL, c.maildir, c.spool);
	uv_run(loop, UV_RUN_DEFAULT);
	log_summary();
	uv_close((uv_handle_t *)&sig_term, NULL);
	uv_close((uv_handle_t *)&sig_int, NULL);
	uv_close((uv_handle_t *)&sig_hup, NULL);
	rc = 0;
out:
	for (size_t i = 0; i < srv.nlisteners; i++)
		srv_listener_close(&srv.listeners[i]);
	uv_run(loop, UV_RUN_NOWAIT);
	if (srv.store)
		srv_store_close(srv.store);
	if (srv.tls)
		smtprobe_tls_server_free(srv.tls);
	srv_throttle_free(srv.throttle);
	srv_log_close(srv.log);
	srv_reload_free(reload);
	free(srv.listeners);
	uv_loop_close(loop);
	return rc;
}
