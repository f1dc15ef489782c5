/* conn.c - a TCP connection on a libuv loop, plain or TLS.
 *
 * The socket is non-blocking and watched with uv_poll; OpenSSL does its own
 * I/O on the descriptor (lib/tls.c), and its WANT_READ / WANT_WRITE decide
 * the poll interest, so STARTTLS is simply "start TLS on this fd now".
 *
 * Promises: reads land in a bounded buffer (line.c) and stop while it is
 * full; every failure is reported once through the ops with -errno or a
 * message in c->err; nothing here blocks, prints or exits. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "util.h"
#include "smtprobe/message.h"
#include "smtprobe/reply.h"
#include "banned.h"

#define CONN_INBUF (SMTPROBE_MAX_REPLY_SIZE + SMTPROBE_MAX_LINE)

static void conn_on_poll(uv_poll_t *h, int status, int events);

int conn_init(struct conn *c, uv_loop_t *loop, const struct conn_ops *ops,
              void *arg)
{
	memset(c, 0, sizeof(*c));
	c->loop = loop;
	c->fd = -1;
	c->ops = ops;
	c->arg = arg;
	outq_init(&c->out, SMTPROBE_MAX_MESSAGE + 4096);
	return inbuf_init(&c->in, CONN_INBUF);
}

static void conn_update_poll(struct conn *c)
{
	int ev = 0;

	if (c->fd < 0 || !c->poll_active)
		return;
	if (c->connecting) {
		ev = UV_WRITABLE;
	} else {
		if (!c->eof && !c->read_done &&
		    (inbuf_space(&c->in) > 0 || c->tls_handshaking))
			ev |= UV_READABLE;
		if ((outq_pending(&c->out) > 0 && !c->corked) ||
		    c->tls_want_write)
			ev |= UV_WRITABLE;
	}
	/* libuv turns every change into epoll_ctl calls: skip non-changes. */
	if (ev == c->poll_events)
		return;
	c->poll_events = ev;
	if (ev)
		uv_poll_start(&c->poll, ev, conn_on_poll);
	else
		uv_poll_stop(&c->poll);
}

static int conn_watch(struct conn *c)
{
	int rc = uv_poll_init(c->loop, &c->poll, c->fd);

	if (rc < 0)
		return rc;
	c->poll.data = c;
	c->poll_active = 1;
	conn_update_poll(c);
	return 0;
}

/* Acknowledge what arrived at once. A server that writes a TLS 1.3 session
 * ticket and then, a moment later, its next reply has that reply held back
 * by Nagle until the ticket is acknowledged, and Linux's delayed ACK makes
 * that 40 ms. Setting TCP_QUICKACK sends a pending ACK now; the kernel
 * leaves quick-ACK mode by itself, so it is set after every readable event
 * that sent nothing back (an answer carries the ACK: no system call).
 * On a socket that is not TCP (a socketpair in tests) it fails: ignored. */
static void conn_quickack(struct conn *c)
{
	int one = 1;

	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

int conn_connect(struct conn *c, const struct sockaddr *sa, socklen_t salen,
                 const struct sockaddr *local, socklen_t locallen)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (set_nonblock(fd) < 0 || (local && bind(fd, local, locallen) < 0)) {
		int e = -errno;
		char ebuf[128];
		close(fd);
		snprintf(c->err, sizeof(c->err),
		         "cannot bind the local address: %s",
		         util_strerror(-e, ebuf, sizeof(ebuf)));
		return e;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fd = fd;
	if (connect(fd, sa, salen) < 0 && errno != EINPROGRESS) {
		int e = -errno;
		close(fd);
		c->fd = -1;
		return e;
	}
	c->connecting = 1;
	return conn_watch(c);
}

int conn_adopt(struct conn *c, int fd)
{
	int rc = set_nonblock(fd);

	if (rc < 0)
		return rc;
	c->fd = fd;
	return conn_watch(c);
}

/* Write what is queued, once, without waiting: most writes fit the socket
 * buffer, and this spares the poll round trip. Errors and partial writes
 * are left to the poll path, so no callback runs from here. */
static void conn_write_now(struct conn *c)
{
	long n;

	if (c->connecting || c->tls_handshaking || c->eof ||
	    outq_pending(&c->out) == 0)
		return;
	if (c->tls) {
		n = smtprobe_tls_write(c->tls, outq_head(&c->out),
		                       outq_pending(&c->out));
	} else {
		n = send(c->fd, outq_head(&c->out), outq_pending(&c->out),
		         MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	if (n > 0) {
		c->bytes_out += (unsigned long long)n;
		outq_advance(&c->out, (size_t)n);
	}
}

int conn_send(struct conn *c, const char *data, size_t len)
{
	int was_empty = outq_pending(&c->out) == 0;

	if (c->fd < 0)
		return -EPIPE;
	if (outq_append(&c->out, data, len) < 0)
		return -ENOBUFS;
	if (c->corked)
		return 0; /* conn_uncork writes it all at once */
	if (was_empty)
		conn_write_now(c);
	conn_update_poll(c);
	return 0;
}

void conn_cork(struct conn *c)
{
	c->corked++;
}

void conn_uncork(struct conn *c)
{
	if (c->corked > 0)
		c->corked--;
	if (c->corked > 0 || c->fd < 0 || c->eof)
		return; /* (after a failure nothing is watched any more) */
	int had = outq_pending(&c->out) > 0;
	conn_write_now(c);
	conn_update_poll(c);
	/* what waited for the queue to empty (STARTTLS's 220, a session
	 * paused on its output) learns it here, as from the poll path */
	if (had && outq_pending(&c->out) == 0 && c->ops->drained)
		c->ops->drained(c);
}

int conn_start_tls(struct conn *c, const struct smtprobe_tls_opts *opts)
{
	if (smtprobe_tls_new(&c->tls, opts, c->fd, c->err, sizeof(c->err)) < 0)
		return -1;
	c->tls_handshaking = 1;
	c->tls_want_write = 1; /* the ClientHello goes first */
	conn_update_poll(c);
	return 0;
}

int conn_start_tls_server(struct conn *c, struct smtprobe_tls_server *srv)
{
	if (smtprobe_tls_accept(&c->tls, srv, c->fd, c->err, sizeof(c->err)) <
	    0)
		return -1;
	c->tls_handshaking = 1;
	c->tls_want_write = 0; /* the ClientHello comes first */
	conn_update_poll(c);
	return 0;
}

/* Report a failure once and stop watching. */
static void conn_fail(struct conn *c, int err)
{
	if (c->fd < 0) /* a callback already closed the connection */
		return;
	c->eof = 1;
	if (c->poll_active)
		uv_poll_stop(&c->poll);
	c->poll_events = 0;
	c->ops->closed(c, err);
}

static void conn_do_handshake(struct conn *c)
{
	int rc = smtprobe_tls_handshake(c->tls);

	c->tls_want_write = rc == SMTPROBE_TLS_WANT_WRITE;
	if (rc == SMTPROBE_TLS_WANT_READ || rc == SMTPROBE_TLS_WANT_WRITE) {
		conn_update_poll(c);
		return;
	}
	c->tls_handshaking = 0;
	if (rc != SMTPROBE_TLS_OK) {
		snprintf(c->err, sizeof(c->err), "%s",
		         rc == SMTPROBE_TLS_CLOSED
		                 ? "connection closed during the TLS handshake"
		                 : smtprobe_tls_error(c->tls));
		c->eof = 1;
		uv_poll_stop(&c->poll);
		c->poll_events = 0;
		c->ops->tls_done(c, -1);
		return;
	}
	conn_update_poll(c);
	c->ops->tls_done(c, 0);
}

/* Returns 0 to go on, -1 when the connection failed (already reported). */
static int conn_do_write(struct conn *c)
{
	while (outq_pending(&c->out) > 0) {
		long n;
		if (c->tls) {
			n = smtprobe_tls_write(c->tls, outq_head(&c->out),
			                       outq_pending(&c->out));
			if (n == SMTPROBE_TLS_WANT_WRITE ||
			    n == SMTPROBE_TLS_WANT_READ)
				break;
			if (n < 0) {
				snprintf(c->err, sizeof(c->err), "%s",
				         smtprobe_tls_error(c->tls));
				conn_fail(c, -EPROTO);
				return -1;
			}
		} else {
			n = send(c->fd, outq_head(&c->out),
			         outq_pending(&c->out), MSG_NOSIGNAL);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				break;
			if (n < 0) {
				conn_fail(c, -errno);
				return -1;
			}
		}
		c->bytes_out += (unsigned long long)n;
		outq_advance(&c->out, (size_t)n);
	}
	if (outq_pending(&c->out) == 0 && c->ops->drained)
		c->ops->drained(c);
	return c->fd < 0 ? -1 : 0;
}

/* Returns 0 to go on, -1 when the connection ended (already reported). */
static int conn_do_read(struct conn *c)
{
	size_t got = 0;

	for (;;) {
		size_t space = inbuf_space(&c->in);
		long n;
		if (space == 0)
			break;
		if (c->tls) {
			n = smtprobe_tls_read(c->tls, inbuf_tail(&c->in),
			                      space);
			if (n == SMTPROBE_TLS_WANT_READ)
				break;
			if (n == SMTPROBE_TLS_WANT_WRITE) {
				c->tls_want_write = 1;
				break;
			}
			if (n == SMTPROBE_TLS_CLOSED)
				n = 0;
			else if (n < 0) {
				snprintf(c->err, sizeof(c->err), "%s",
				         smtprobe_tls_error(c->tls));
				if (got)
					c->ops->readable(c);
				conn_fail(c, -EPROTO);
				return -1;
			}
		} else {
			n = recv(c->fd, inbuf_tail(&c->in), space, 0);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				break;
			if (n < 0) {
				int e = -errno;
				if (got)
					c->ops->readable(c);
				conn_fail(c, e);
				return -1;
			}
		}
		if (n == 0 && c->ops->read_done) {
			c->read_done = 1;
			conn_update_poll(c);
			if (got)
				c->ops->readable(c);
			if (c->fd >= 0)
				c->ops->read_done(c);
			return c->fd < 0 ? -1 : 0;
		}
		if (n == 0) {
			if (got)
				c->ops->readable(c);
			conn_fail(c, 0);
			return -1;
		}
		inbuf_commit(&c->in, (size_t)n);
		c->bytes_in += (unsigned long long)n;
		got += (size_t)n;
		/* A short read took all the socket had: the next recv would
		 * only say EAGAIN (the poll is level-triggered, so anything
		 * arriving meanwhile is reported again). TLS reads go on to
		 * WANT_READ: OpenSSL may hold whole records. */
		if (!c->tls && (size_t)n < space)
			break;
	}
	if (got)
		c->ops->readable(c);
	return c->fd < 0 ? -1 : 0;
}

static void conn_poll_events(struct conn *c, int status, int events)
{
	if (c->connecting) {
		int err = 0;
		socklen_t len = sizeof(err);
		/* status is UV_EBADF for any EPOLLERR: the socket knows the
		 * real reason (ECONNREFUSED, ETIMEDOUT, ...). */
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		else if (err == 0 && status < 0)
			err = -status;
		c->connecting = 0;
		if (err) {
			uv_poll_stop(&c->poll);
			c->poll_events = 0;
			c->ops->connected(c, -err);
			return;
		}
		conn_update_poll(c);
		c->ops->connected(c, 0);
		return;
	}
	if (status < 0 && c->read_done) {
		/* nothing left to read that would say why: the peer is gone */
		conn_fail(c, -ECONNRESET);
		return;
	}
	if (status < 0) {
		/* libuv reports EPOLLERR as UV_EBADF and stops the handle: let
		 * the read path find the real error (ECONNRESET ...). */
		events = UV_READABLE;
		c->poll_events = 0;
	}
	if (c->tls_handshaking) {
		conn_do_handshake(c);
		return;
	}
	if ((events & UV_WRITABLE) || c->tls_want_write) {
		c->tls_want_write = 0;
		if (conn_do_write(c) < 0)
			return;
	}
	if ((events & UV_READABLE) && !c->read_done) {
		if (conn_do_read(c) < 0)
			return;
	}
	/* Decrypted bytes OpenSSL holds back are invisible to poll. */
	while (c->tls && !c->eof && !c->read_done &&
	       smtprobe_tls_pending(c->tls) > 0 && inbuf_space(&c->in) > 0) {
		if (conn_do_read(c) < 0)
			return;
	}
	if (!c->eof)
		conn_update_poll(c);
}

/* Everything the callbacks send while the event is handled goes out in
 * one write at the end (a multi-line reply, pipelined replies). */
static void conn_on_poll(uv_poll_t *h, int status, int events)
{
	struct conn *c = h->data;
	unsigned long long out_before = c->bytes_out;

	conn_cork(c);
	conn_poll_events(c, status, events);
	conn_uncork(c);
	/* what was read and answered has had its ACK ride on the answer */
	if ((events & UV_READABLE) && c->fd >= 0 && c->bytes_out == out_before)
		conn_quickack(c);
}

static void conn_on_closed(uv_handle_t *h)
{
	struct conn *c = h->data;

	if (c->closed_cb)
		c->closed_cb(c);
}

void conn_close(struct conn *c, void (*closed_cb)(struct conn *c))
{
	if (c->tls) {
		smtprobe_tls_free(c->tls);
		c->tls = NULL;
	}
	inbuf_release(&c->in);
	outq_release(&c->out);
	c->eof = 1;
	c->closed_cb = closed_cb;
	if (c->fd >= 0 && c->poll_active)
		uv_poll_stop(&c->poll);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	if (c->poll_active) {
		c->poll_active = 0;
		uv_close((uv_handle_t *)&c->poll, conn_on_closed);
	} else if (closed_cb) {
		closed_cb(c);
	}
}
