/* exporter.c - `smtprobe exporter`: a Prometheus exporter in the style of
 * blackbox_exporter (smtprobe-exporter(1)). This file is the command: its
 * options, the address to listen on, the libmicrohttpd server (one thread
 * per connection) and the signals; the requests are exporter_http.c's, the
 * state the threads share (log, modules file, counters, probe slots)
 * exporter_state.c's.
 *
 * Promises: an option out of its range is a usage error; connections
 * (EXP_CONN_PER_PROBE per probe slot, plus 16), their idle time and the
 * memory of a request (line and headers) are capped, and a request beyond
 * them is refused by libmicrohttpd. SIGTERM/SIGINT stop it once the
 * running probes have answered (exit 0); SIGHUP reloads the modules file
 * (a bad file keeps the old one). Exit 2: it could not start (a usage
 * error, a bad modules file, the address cannot be bound). */
#include <ctype.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "exporter.h"
#include "opts.h"
#include "banned.h"

#define EXP_DEFAULT_LISTEN "127.0.0.1:9325"
#define EXP_MAX_CONCURRENT 64    /* --max-concurrent's upper bound */
#define EXP_CONN_PER_PROBE 4     /* connections = this x probes + 16 */
#define EXP_IDLE_TIMEOUT_S 30    /* a connection idle this long closes */
#define EXP_DRAIN_MS       2000  /* at a stop, for answers to go out */
#define EXP_REQUEST_MEMORY 16384 /* request line + headers, per conn */

enum {
	E_LISTEN = 1,
	E_CONFIG,
	E_MAX_CONCURRENT,
	E_TIMEOUT_OFFSET,
	E_DEFAULT_TIMEOUT,
	E_LOG_FORMAT,
	E_ALLOW,
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
        {E_ALLOW, "allow-target", OPT_REQ, "PATTERN",
         "probe only targets that match: HOST, HOST:PORT, *.DOMAIN or "
         "*.DOMAIN:PORT (repeatable; default any - a module with "
         "credentials then logs in wherever a request points it)"},
        {E_HELP, "help", OPT_NONE, NULL, "this help"},
        {0, NULL, OPT_NONE, NULL, NULL},
};

struct exp_opts {
	const char *listen, *config;
	long max_concurrent, offset_ms, default_ms;
	int json_log, help;
	const char *allow[EXP_MAX_ALLOW];
	size_t nallow;
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
	case E_ALLOW: {
		char h[EXP_MAX_HOST];
		long p = -1;
		if (c->nallow >= EXP_MAX_ALLOW) {
			snprintf(err, errsz, "at most %d --allow-target",
			         EXP_MAX_ALLOW);
			return -1;
		}
		if (cli_split_server(v, h, sizeof(h), &p) < 0 || !h[0]) {
			snprintf(err, errsz,
			         "bad --allow-target '%s' (HOST, HOST:PORT, "
			         "*.DOMAIN[:PORT])",
			         v);
			return -1;
		}
		c->allow[c->nallow++] = v;
		break;
	}
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
	long long quiet = exporter_mono_ms();
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
			quiet = exporter_mono_ms();
		if (!conns ||
		    (!probes && exporter_mono_ms() - quiet > EXP_DRAIN_MS))
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
		          exporter_clean(c->listen, err, sizeof(err)));
		return 2;
	}
	if (exporter_config_start(x, err, sizeof(err)) < 0) {
		cli_error("%s", err);
		return 2;
	}
	/* a module with credentials logs in wherever a request points it */
	for (size_t i = 0; x->nallow == 0 && i < x->cfg->pol.nmodules; i++)
		if (x->cfg->pol.modules[i].auth_user) {
			struct kv kv[] = {
			        {"module", x->cfg->pol.modules[i].name, 0},
			        {"hint",
			         "--allow-target limits the hosts a "
			         "module with credentials logs in to",
			         0}};
			exporter_log(x, "warn", "credentials_any_target", kv,
			             2);
			break;
		}
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
	        0, NULL, NULL, exporter_on_request, x,
	        MHD_OPTION_EXTERNAL_LOGGER, exporter_mhd_log, x,
	        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	        MHD_OPTION_CONNECTION_LIMIT, conns,
	        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)EXP_IDLE_TIMEOUT_S,
	        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)EXP_REQUEST_MEMORY,
	        MHD_OPTION_NOTIFY_CONNECTION, exporter_on_connection, x,
	        MHD_OPTION_END);
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
		          exporter_clean(c->listen, err, sizeof(err)), why);
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
	exporter_log(x, "info", "listening", kv, 3);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig != SIGHUP)
			break;
		exporter_config_reload(x);
	}
	struct kv why[] = {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM", 0}};
	exporter_log(x, "info", "stopping", why, 1);
	drain(x, d, &set);
	MHD_stop_daemon(d);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return 0;
}

int cmd_exporter(int argc, char **argv)
{
	struct exp_opts c = {.listen = EXP_DEFAULT_LISTEN,
	                     .max_concurrent = 4,
	                     .offset_ms = 500,
	                     .default_ms = 10000};
	struct exporter x;
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
	exporter_init(&x);
	x.max_concurrent = (unsigned)c.max_concurrent;
	x.offset_ms = c.offset_ms;
	x.default_ms = c.default_ms;
	x.json_log = c.json_log;
	x.config_path = c.config;
	for (size_t i = 0; i < c.nallow; i++)
		x.allow[i] = c.allow[i];
	x.nallow = c.nallow;
	rc = exporter_run(&c, &x);
	exporter_release(&x);
	return rc;
}
