/* server.h - `smtprobe serve`: listeners, sessions, shared state. */
#ifndef SMTPROBE_SERVER_H
#define SMTPROBE_SERVER_H

#include <stddef.h>
#include <uv.h>

#include "store.h"
#include "policy.h"
#include "smtprobe/tls.h"

enum srv_mode {
	SRV_MODE_PLAIN,             /* no TLS */
	SRV_MODE_STARTTLS,          /* STARTTLS offered */
	SRV_MODE_STARTTLS_REQUIRED, /* offered, and MAIL refused before it */
	SRV_MODE_IMPLICIT,          /* TLS from the first byte */
};

struct server;
struct srv_log;
struct srv_throttle;

struct srv_listener {
	struct server *srv;
	int fd;
	uv_poll_t poll;
	int polling;
	enum srv_mode mode;
	char spec[300];  /* as given: "127.0.0.1:2525/starttls" */
	char addr[80];   /* bound address "127.0.0.1:2525" */
	char bound[120]; /* "127.0.0.1:2525/starttls", for logs and envelopes */
	char policy_src[SRV_MAX_NAME]; /* preset name or file */
	struct srv_policy *policy;     /* current; replaced on SIGHUP */
};

struct srv_options {
	unsigned timeout_ms;      /* per command / idle */
	unsigned data_timeout_ms; /* the longest wait for bytes inside DATA */
	unsigned data_max_ms;     /* DATA (or BDAT) as a whole */
	unsigned data_min_rate;   /* bytes/s inside DATA, after a grace */
	unsigned tls_timeout_ms;  /* a TLS handshake */
	unsigned session_max_ms;  /* a whole session */
	int durable;              /* sync the store */
	const char *hostname;     /* overrides the policies' */
};

struct srv_stats {
	unsigned long connections, refused_connections, messages, bytes;
	unsigned long rcpt_ok, rcpt_refused, auth_ok, auth_failed, tls;
	unsigned long errors;
};

struct server {
	uv_loop_t *loop;
	struct srv_listener *listeners;
	size_t nlisteners;
	struct smtprobe_tls_server *tls; /* NULL when no listener needs TLS */
	struct srv_store *store;         /* NULL: accept and discard */
	struct srv_log *log;
	struct srv_throttle *throttle;
	struct srv_options opt;
	struct srv_stats stats;
	unsigned nsessions;
	struct smtpd *sessions; /* list, for shutdown */
	int stopping;
	unsigned long next_id;
};

/* smtpd.c: one SMTP session on an accepted socket. */
void smtpd_start(struct srv_listener *l, int fd, const struct sockaddr *peer);
/* Ask every session to end (421 and close), for shutdown. */
void smtpd_shutdown_all(struct server *srv);

/* listener.c */
int srv_listener_parse(struct srv_listener *l, const char *spec,
                       const char *default_policy, char *err, size_t errsz);
int srv_listener_open(struct srv_listener *l, struct server *srv, char *err,
                      size_t errsz);
void srv_listener_close(struct srv_listener *l);
const char *srv_mode_name(enum srv_mode m);

#endif
