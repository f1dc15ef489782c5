/* serve.c - `smtprobe serve`: the embedded, policy-aware test SMTP server.
 *
 * Parses the options, loads each listener's policy, prepares TLS (given
 * files, or a CA and server certificate generated into the state
 * directory), opens the Maildir and the listeners, then runs the loop
 * until SIGTERM/SIGINT (clean shutdown, summary) with SIGHUP reloading the
 * policies (a policy that fails to load leaves the old one in place). */
#include <errno.h>
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
	S_HOSTNAME,
	S_HELP,
};

static const struct opt_def serve_defs[] = {
        {S_LISTEN, "l|listen", OPT_REQ, "ADDR:PORT[/MODE][,policy=P]",
         "listen here; MODE plain, starttls, starttls-required, implicit; "
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
         "store them in an append-only spool here (DIR/messages.mbox and "
         "DIR/index.jsonl): the fastest durable store"},
        {S_NO_FSYNC, "no-fsync", OPT_NONE, NULL,
         "do not sync the store (benchmarks only: loses mail on a crash)"},
        {S_LOG, "log", OPT_REQ, "FILE", "event log (default stderr)"},
        {S_JSON, "json", OPT_NONE, NULL, "log events as JSON lines"},
        {S_TIMEOUT, "timeout", OPT_REQ, "SECS",
         "idle deadline per command (default 300)"},
        {S_DATA_TIMEOUT, "data-timeout", OPT_REQ, "SECS",
         "deadline for each read inside DATA (default 300)"},
        {S_HOSTNAME, "hostname", OPT_REQ, "NAME",
         "banner name (overrides the policies')"},
        {S_HELP, "help", OPT_NONE, NULL, "this help"},
        {0, NULL, OPT_NONE, NULL, NULL},
};

struct serve_cfg {
	const char *listen[SERVE_MAX_LISTENERS];
	size_t nlisten;
	const char *policy;
	const char *cert, *key, *chain, *state_dir, *maildir, *spool, *log,
	        *hostname;
	int no_fsync, json, help;
	long timeout_ms, data_timeout_ms;
};

static int on_serve_opt(void *ctx, int id, const char *v, char *err,
                        size_t errsz)
{
	struct serve_cfg *c = ctx;
	long ms;

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
	case S_TIMEOUT:
	case S_DATA_TIMEOUT:
		ms = opts_duration_ms(v);
		if (ms <= 0) {
			snprintf(err, errsz, "bad timeout '%s'", v);
			return -1;
		}
		if (id == S_TIMEOUT)
			c->timeout_ms = ms;
		else
			c->data_timeout_ms = ms;
		break;
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
/* Every policy ever loaded: sessions keep pointers to the one they started
 * with, so a reload retires the old one and exit frees them all. */
static struct srv_policy **policies;
static size_t npolicies;
static uv_signal_t sig_term, sig_int, sig_hup;

static int load_policy(struct srv_listener *l, const char *hostname, char *err,
                       size_t errsz)
{
	struct srv_policy *p = calloc(1, sizeof(*p));

	if (!p) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	if (srv_policy_load(p, l->policy_src, err, errsz) < 0) {
		free(p);
		return -1;
	}
	if (hostname)
		snprintf(p->hostname, sizeof(p->hostname), "%s", hostname);
	struct srv_policy **np =
	        realloc(policies, (npolicies + 1) * sizeof(*policies));
	if (!np) {
		free(p);
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	policies = np;
	policies[npolicies++] = p;
	l->policy = p;
	return 0;
}

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
	char err[512];

	for (size_t i = 0; i < srv.nlisteners; i++) {
		struct srv_listener *l = &srv.listeners[i];
		if (load_policy(l, srv.opt.hostname, err, sizeof(err)) < 0)
			srv_log_event(srv.log, "reload-failed", "listener",
			              l->spec, "error", err, NULL);
		else
			srv_log_event(srv.log, "reloaded", "listener", l->spec,
			              "policy", l->policy->name, NULL);
	}
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

static void log_summary(void)
{
	char v[10][32];
	const struct srv_stats *s = &srv.stats;

	snprintf(v[0], 32, "%lu", s->connections);
	snprintf(v[1], 32, "%lu", s->refused_connections);
	snprintf(v[2], 32, "%lu", s->messages);
	snprintf(v[3], 32, "%lu", s->bytes);
	snprintf(v[4], 32, "%lu", s->rcpt_ok);
	snprintf(v[5], 32, "%lu", s->rcpt_refused);
	snprintf(v[6], 32, "%lu", s->auth_ok);
	snprintf(v[7], 32, "%lu", s->auth_failed);
	snprintf(v[8], 32, "%lu", s->tls);
	snprintf(v[9], 32, "%lu", s->errors);
	srv_log_event(srv.log, "summary", "connections", v[0],
	              "refused_connections", v[1], "messages", v[2], "bytes",
	              v[3], "rcpt_accepted", v[4], "rcpt_refused", v[5],
	              "auth_ok", v[6], "auth_failed", v[7], "tls", v[8],
	              "errors", v[9], NULL);
}

int cmd_serve(int argc, char **argv)
{
	struct serve_cfg c = {0};
	char err[512], ca[600];
	int rc = 1;

	c.timeout_ms = 300000;
	c.data_timeout_ms = 300000;
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
	srv.opt.timeout_ms = (unsigned)c.timeout_ms;
	srv.opt.data_timeout_ms = (unsigned)c.data_timeout_ms;
	srv.opt.data_max_ms = 600000;
	srv.opt.data_min_rate = 0;
	srv.opt.tls_timeout_ms = 10000;
	srv.opt.session_max_ms = 3600000;
	srv.opt.durable = !c.no_fsync;
	srv.opt.hostname = c.hostname;
	srv.listeners = calloc(c.nlisten, sizeof(*srv.listeners));
	srv.throttle = srv_throttle_new();
	srv.log = srv_log_open(c.log, c.json, err, sizeof(err));
	if (!srv.listeners || !srv.throttle || !srv.log) {
		cli_error("%s", srv.log ? "out of memory" : err);
		return 1;
	}
	int need_tls = 0;
	for (size_t i = 0; i < c.nlisten; i++) {
		struct srv_listener *l = &srv.listeners[i];
		if (srv_listener_parse(l, c.listen[i],
		                       c.policy ? c.policy : "mx", err,
		                       sizeof(err)) < 0 ||
		    load_policy(l, c.hostname, err, sizeof(err)) < 0) {
			cli_error("%s", err);
			goto out;
		}
		srv.nlisteners++;
		need_tls |= l->mode != SRV_MODE_PLAIN;
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
		char n[32], b[32];
		snprintf(n, sizeof(n), "%lu", rec.removed);
		snprintf(b, sizeof(b), "%lu", rec.bytes);
		srv_log_event(srv.log, "recovered", "store", store_dir,
		              "removed", n, "bytes", b, NULL);
	}
	uv_signal_init(loop, &sig_term);
	uv_signal_init(loop, &sig_int);
	uv_signal_init(loop, &sig_hup);
	uv_signal_start(&sig_term, on_stop_signal, SIGTERM);
	uv_signal_start(&sig_int, on_stop_signal, SIGINT);
	uv_signal_start(&sig_hup, on_hup, SIGHUP);

	char desc[2048];
	size_t o = 0;
	for (size_t i = 0; i < srv.nlisteners && o < sizeof(desc) - 1; i++) {
		const struct srv_listener *l = &srv.listeners[i];
		int w = snprintf(desc + o, sizeof(desc) - o,
		                 "%s%s/%s,policy=%s", i ? " " : "", l->addr,
		                 srv_mode_name(l->mode), l->policy->name);
		if (w < 0)
			break;
		o += (size_t)w < sizeof(desc) - o ? (size_t)w
		                                  : sizeof(desc) - o - 1;
	}
	srv_log_event(srv.log, "ready", "listeners", desc, "ca",
	              ca[0] ? ca : NULL, "maildir", c.maildir, "spool", c.spool,
	              NULL);
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
	for (size_t i = 0; i < npolicies; i++)
		free(policies[i]);
	free(policies);
	free(srv.listeners);
	uv_loop_close(loop);
	return rc;
}
