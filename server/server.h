/* server.h - `smtprobe serve`: listeners, sessions, shared state. */
#ifndef SMTPROBE_SERVER_H
#define SMTPROBE_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "store.h"
#include "policy.h"
#include "smtprobe/tls.h"

enum srv_mode {
	SRV_MODE_PLAIN,             /* no TLS */
	SRV_MODE_STARTTLS,          /* STARTTLS offered */
	SRV_MODE_STARTTLS_REQUIRED, /* offered, and MAIL refused before it */
	SRV_MODE_IMPLICIT,          /* TLS from the first byte */
	SRV_MODE_LMTP,              /* LMTP (RFC 2033): LHLO, a reply per
	                               recipient after the message */
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
	uv_timer_t pause; /* accepting paused after EMFILE and the like */
	int pause_init;   /* pause is initialised (closed with the poll) */
	unsigned long accept_failures; /* since the last accept-failed line */
	uint64_t accept_logged;        /* when that line was written (ms) */
};

/* Deadlines (smtpd.c applies them; 0 = the default in parentheses). */
struct srv_options {
	unsigned timeout_ms;      /* per command, from the last complete one
	                             (300 s) */
	unsigned data_timeout_ms; /* the longest wait for bytes inside DATA
	                             (300 s) */
	unsigned data_max_ms;     /* DATA (or BDAT) as a whole (600 s) */
	unsigned data_min_rate;   /* bytes/s inside DATA, averaged from its
	                             start, checked after a grace of 10 s
	                             (0 = no floor) */
	unsigned tls_timeout_ms;  /* a TLS handshake (10 s) */
	unsigned session_max_ms;  /* a whole session (3600 s) */
	int durable;              /* sync the store */
	const char *hostname;     /* overrides the policies' */
};

struct srv_stats {
	unsigned long connections, refused_connections, messages, bytes;
	unsigned long rcpt_ok, rcpt_refused, auth_ok, auth_failed, tls;
	unsigned long errors;
	/* refused connections by reason; they add up to refused_connections */
	unsigned long refused_per_ip; /* the policy's connections_per_ip */
	unsigned long refused_rate;   /* its connection_rate */
	unsigned long refused_max;    /* max_connections, nothing to reclaim */
	unsigned long refused_shutdown; /* arrived while stopping */
	/* sessions closed to give their slot to a less represented address
	 * when the server was full (they were accepted, so not refused) */
	unsigned long reclaimed;
	/* sessions ended by a deadline */
	unsigned long timeout_tls;     /* TLS handshake */
	unsigned long timeout_command; /* waiting for a command */
	unsigned long timeout_data;    /* DATA: idle, total or rate floor */
	unsigned long timeout_session; /* the whole session */
	unsigned long accept_errors;   /* accept() failed (EMFILE ...) */
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
	unsigned nsessions;     /* every session object, refused ones too */
	unsigned nadmitted;     /* sessions holding a connection slot */
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
