/* listener.c - the listening sockets of `smtprobe serve`:
 * "ADDR:PORT[/MODE][,policy=NAME]" parsed, bound (port 0 = any free port,
 * the bound one is reported back), watched on the loop, and accepted
 * connections handed to smtpd.c (which decides whether they may stay).
 *
 * Accepting never blocks and never spins: a batch of at most
 * SRV_ACCEPT_BATCH per wake-up keeps one busy listener from starving the
 * others; errors a retry cures (a connection reset while queued) are
 * skipped; any other failure - EMFILE, ENFILE, ENOBUFS, ENOMEM, ... -
 * pauses the listener for SRV_ACCEPT_PAUSE_MS (the poll is level-triggered:
 * going on would busy-loop at 100 % CPU while the cause lasts), with one
 * "accept-failed" log line per SRV_ACCEPT_LOG_MS at most (counting the
 * failures since the last one). Connections wait in the kernel's backlog
 * meanwhile. The descriptor limit is raised to its hard limit at the first
 * open, so max_connections is not cut short by a low soft limit. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "server.h"
#include "banned.h"

#define SRV_ACCEPT_BATCH    64
#define SRV_ACCEPT_PAUSE_MS 100
#define SRV_ACCEPT_LOG_MS   1000

static const char *const mode_names[] = {
        [SRV_MODE_PLAIN] = "plain",
        [SRV_MODE_STARTTLS] = "starttls",
        [SRV_MODE_STARTTLS_REQUIRED] = "starttls-required",
        [SRV_MODE_IMPLICIT] = "implicit",
        [SRV_MODE_LMTP] = "lmtp",
};

const char *srv_mode_name(enum srv_mode m)
{
	return mode_names[m];
}

int srv_listener_parse(struct srv_listener *l, const char *spec,
                       const char *default_policy, char *err, size_t errsz)
{
	char buf[300];
	char *mode, *opts;

	memset(l, 0, sizeof(*l));
	l->fd = -1;
	if (snprintf(buf, sizeof(buf), "%s", spec) >= (int)sizeof(buf)) {
		snprintf(err, errsz, "--listen value too long");
		return -1;
	}
	snprintf(l->spec, sizeof(l->spec), "%s", spec);
	snprintf(l->policy_src, sizeof(l->policy_src), "%s", default_policy);
	opts = strchr(buf, ',');
	if (opts) {
		*opts++ = '\0';
		if (strncmp(opts, "policy=", 7) != 0 || !opts[7]) {
			snprintf(err, errsz,
			         "--listen %s: unknown option '%s' "
			         "(policy=NAME)",
			         spec, opts);
			return -1;
		}
		snprintf(l->policy_src, sizeof(l->policy_src), "%s", opts + 7);
	}
	mode = strrchr(buf, '/');
	l->mode = SRV_MODE_PLAIN;
	if (mode) {
		*mode++ = '\0';
		int found = 0;
		for (int m = 0;
		     m < (int)(sizeof(mode_names) / sizeof(mode_names[0])); m++)
			if (strcmp(mode, mode_names[m]) == 0) {
				l->mode = (enum srv_mode)m;
				found = 1;
			}
		if (!found) {
			snprintf(err, errsz,
			         "--listen %s: unknown mode '%s' (plain, "
			         "starttls, starttls-required, implicit, lmtp)",
			         spec, mode);
			return -1;
		}
	}
	if (snprintf(l->addr, sizeof(l->addr), "%s", buf) >=
	    (int)sizeof(l->addr)) {
		snprintf(err, errsz, "--listen %s: address too long", spec);
		return -1;
	}
	return 0;
}

static int parse_hostport(const char *s, struct sockaddr_storage *ss,
                          socklen_t *len)
{
	char host[128];
	const char *colon = strrchr(s, ':');
	size_t n;

	if (!colon)
		return -1;
	n = (size_t)(colon - s);
	if (s[0] == '[' && n >= 2 && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof(host))
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end || end == colon + 1 || port < 0 || port > 65535)
		return -1;
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((unsigned short)port);
		*len = sizeof(*in);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((unsigned short)port);
		*len = sizeof(*in6);
		return 0;
	}
	return -1;
}

static void on_accept(uv_poll_t *h, int status, int events);

static void on_pause_done(uv_timer_t *t)
{
	struct srv_listener *l = t->data;

	if (l->polling)
		uv_poll_start(&l->poll, UV_READABLE, on_accept);
}

/* Errors that concern one queued connection only (accept(2): retry). */
static int accept_retry(int e)
{
	return e == EINTR || e == ECONNABORTED || e == EPROTO ||
	       e == ENETDOWN || e == ENOPROTOOPT || e == EHOSTDOWN ||
	       e == ENONET || e == EHOSTUNREACH || e == EOPNOTSUPP ||
	       e == ENETUNREACH || e == EPERM;
}

/* Stop accepting for a moment, and say so at most once a second. */
static void accept_pause(struct srv_listener *l, int e)
{
	struct server *srv = l->srv;
	uint64_t now = uv_now(srv->loop);

	srv->stats.accept_errors++;
	l->accept_failures++;
	if (!l->accept_logged || now - l->accept_logged >= SRV_ACCEPT_LOG_MS) {
		char n[32];
		snprintf(n, sizeof(n), "%lu", l->accept_failures);
		srv_log_event(srv->log, "accept-failed", "listener", l->spec,
		              "error", strerror(e), "failures", n, NULL);
		l->accept_logged = now;
		l->accept_failures = 0;
	}
	uv_poll_stop(&l->poll);
	uv_timer_start(&l->pause, on_pause_done, SRV_ACCEPT_PAUSE_MS, 0);
}

static void on_accept(uv_poll_t *h, int status, int events)
{
	struct srv_listener *l = h->data;

	if (status < 0)
		return;
	for (int i = 0; i < SRV_ACCEPT_BATCH; i++) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		int fd = accept4(l->fd, (struct sockaddr *)&peer, &plen,
		                 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			int e = errno;
			if (e == EAGAIN || e == EWOULDBLOCK)
				return;
			if (accept_retry(e))
				continue;
			accept_pause(l, e);
			return;
		}
		smtpd_start(l, fd, (struct sockaddr *)&peer);
	}
}

/* Use every descriptor we may: sessions are bounded by max_connections,
 * not by a soft limit someone left low. Once per process. */
static void raise_fd_limit(void)
{
	static int done;
	struct rlimit rl;

	if (done)
		return;
	done = 1;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int srv_listener_open(struct srv_listener *l, struct server *srv, char *err,
                      size_t errsz)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1;

	l->srv = srv;
	raise_fd_limit();
	if (parse_hostport(l->addr, &ss, &len) < 0) {
		snprintf(err, errsz,
		         "--listen %s: expected ADDR:PORT with an IP address "
		         "([::1]:PORT for IPv6)",
		         l->spec);
		return -1;
	}
	l->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	               0);
	if (l->fd < 0 ||
	    setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) <
	            0 ||
	    bind(l->fd, (struct sockaddr *)&ss, len) < 0 ||
	    listen(l->fd, 511) < 0) {
		snprintf(err, errsz, "cannot listen on %s: %s", l->addr,
		         strerror(errno));
		if (l->fd >= 0)
			close(l->fd);
		l->fd = -1;
		return -1;
	}
	/* Report the port actually bound (port 0 picks a free one). */
	len = sizeof(ss);
	getsockname(l->fd, (struct sockaddr *)&ss, &len);
	char host[INET6_ADDRSTRLEN];
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(l->addr, sizeof(l->addr), "%s:%u", host,
		         ntohs(in->sin_port));
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(l->addr, sizeof(l->addr), "[%s]:%u", host,
		         ntohs(in6->sin6_port));
	}
	if (uv_poll_init(srv->loop, &l->poll, l->fd) < 0) {
		snprintf(err, errsz, "cannot watch %s", l->addr);
		close(l->fd);
		l->fd = -1;
		return -1;
	}
	snprintf(l->bound, sizeof(l->bound), "%s/%s", l->addr,
	         mode_names[l->mode]);
	l->poll.data = l;
	l->polling = 1;
	uv_timer_init(srv->loop, &l->pause);
	l->pause.data = l;
	l->pause_init = 1;
	uv_poll_start(&l->poll, UV_READABLE, on_accept);
	return 0;
}

void srv_listener_close(struct srv_listener *l)
{
	if (l->polling) {
		uv_poll_stop(&l->poll);
		uv_close((uv_handle_t *)&l->poll, NULL);
		l->polling = 0;
	}
	if (l->pause_init) {
		uv_timer_stop(&l->pause);
		uv_close((uv_handle_t *)&l->pause, NULL);
		l->pause_init = 0;
	}
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}
