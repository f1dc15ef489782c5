/* conn.h - one TCP connection on the loop, with TLS that can be started
 * at any point (internal). */
#ifndef SMTPROBE_CONN_H
#define SMTPROBE_CONN_H

#include <sys/socket.h>
#include <uv.h>

#include "line.h"
#include "smtprobe/tls.h"

struct conn;

struct conn_ops {
	void (*connected)(struct conn *c, int err); /* err: 0 or -errno */
	void (*readable)(struct conn *c);           /* new bytes in c->in */
	void (*closed)(struct conn *c,
	               int err); /* EOF (0) or -errno / -EPROTO for TLS */
	void (*tls_done)(struct conn *c, int err); /* 0 or -1 (see c->err) */
	void (*drained)(struct conn *c); /* the output queue is empty */
	/* Optional. The peer ended its side (clean EOF or TLS close_notify)
	 * after the bytes already in c->in: with it, the connection stays
	 * open for writing (a half-close, as `shutdown(SHUT_WR)` after QUIT);
	 * without it, such an EOF is reported to closed(c, 0). */
	void (*read_done)(struct conn *c);
};

struct conn {
	uv_loop_t *loop;
	uv_poll_t poll;
	int fd;
	int poll_active;
	int poll_events; /* what uv_poll is watching now */
	int connecting;
	int eof;
	int read_done; /* the peer half-closed; writing goes on */
	int corked;    /* conn_send queues only, until conn_uncork */
	int tls_handshaking;
	int tls_want_write;
	struct smtprobe_tls *tls;
	struct inbuf in;
	struct outq out;
	const struct conn_ops *ops;
	void *arg;
	char err[256];
	unsigned long long bytes_in, bytes_out;
	void (*closed_cb)(struct conn *c);
};

int conn_init(struct conn *c, uv_loop_t *loop, const struct conn_ops *ops,
              void *arg);
/* Start a non-blocking connect; ops->connected reports the outcome. */
int conn_connect(struct conn *c, const struct sockaddr *sa, socklen_t salen,
                 const struct sockaddr *local, socklen_t locallen);
/* Use an already connected socket. */
int conn_adopt(struct conn *c, int fd);
/* Queue bytes; they go out as the socket allows. */
int conn_send(struct conn *c, const char *data, size_t len);
/* Hold what conn_send queues until the matching conn_uncork, which writes
 * it at once (nested pairs count). Every poll event is handled corked: the
 * replies a callback sends leave in one write. */
void conn_cork(struct conn *c);
void conn_uncork(struct conn *c);
/* Begin TLS on the connection; ops->tls_done reports the outcome. Any
 * plaintext bytes still in c->in must be dealt with by the caller first. */
int conn_start_tls(struct conn *c, const struct smtprobe_tls_opts *opts);
/* Server side: begin TLS (accept) with a shared server context. */
int conn_start_tls_server(struct conn *c, struct smtprobe_tls_server *srv);
/* Stop all I/O and release everything; closed_cb (may be NULL) runs once
 * the loop has let go of the handle. */
void conn_close(struct conn *c, void (*closed_cb)(struct conn *c));

#endif
