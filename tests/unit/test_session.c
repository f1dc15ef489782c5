/* test_session.c - every failure kind of a client session from its source,
 * and the stage setter's record of every transition.
 *
 * A scripted peer plays the server: one end of a socketpair, a thread that
 * runs a small script (send bytes, expect a line, sleep, close cleanly,
 * close with unread data, stay silent until the client goes, answer a
 * TLS handshake with a certificate for "localhost" made at start) while
 * the session runs through smtprobe_send_fd() on the other end. Each row of
 * the table is one server behaviour and the failure it must give: kind,
 * stage, protocol or TLS sub-kind, errno, the refusing reply's code, a
 * detail substring, the exit code, and the transitions recorded. The peer
 * also checks what the client sent (and that it sent nothing where it must
 * not). Cases that need a real connect (refused, cancel) use 127.0.0.1.
 * Then the pure tables of failure.c: names, the errno and parser mappings
 * and the exit code of every kind.
 *
 * Bounds: every peer read has a deadline (IO_MS), the session has its own
 * reply and session deadlines, and the peer thread is always joined, so
 * no case can hang; a peer that goes off script closes at once. Timed
 * cases keep 150 ms or more of slack: they must hold on a loaded machine
 * and under valgrind.
 *
 * A row with .bug shows a library bug (a BUG: comment says which): it is
 * skipped with a message unless SMTPROBE_TEST_BUGS is set. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "smtprobe/ehlo.h"
#include "smtprobe/failure.h"
#include "smtprobe/session.h"
#include "smtprobe/tls.h"

#include "banned.h"

#define NELEM(a)   (sizeof(a) / sizeof((a)[0]))
#define IO_MS      5000 /* the longest the peer waits for the client */
#define LOG_MAX    16384
#define MAX_STEPS  40
#define MAX_TRANS  16
#define STAGE_MS   3000 /* reply deadline unless a case sets one */
#define SESSION_MS 10000

/* ---- the scripted peer ---------------------------------------------- */

enum pop {
	P_END,     /* drain until the client closes, then close */
	P_SEND,    /* n bytes of s */
	P_REPEAT,  /* s, n times, in one write */
	P_EXPECT,  /* one line that starts with s */
	P_MESSAGE, /* the message: lines up to a lone "." */
	P_HELLO,   /* a TLS ClientHello (a handshake record, 0x16) */
	P_SLEEP,   /* n ms */
	P_CLOSE,   /* a clean close (FIN), then drain, then close */
	P_RESET,   /* wait until the client's bytes are queued; close unread */
	P_SILENT,  /* nothing may arrive before the client's EOF */
	P_TLS,     /* the server side of a TLS handshake; TLS from then on */
};

struct pstep {
	enum pop op;
	const char *s;
	size_t n;
};

#define SEND(lit)                                                              \
	{                                                                      \
		P_SEND, (lit), sizeof(lit) - 1                                 \
	}
#define REPEAT(lit, k)                                                         \
	{                                                                      \
		P_REPEAT, (lit), (k)                                           \
	}
#define EXPECT(pfx)                                                            \
	{                                                                      \
		P_EXPECT, (pfx), 0                                             \
	}
#define MESSAGE                                                                \
	{                                                                      \
		P_MESSAGE, NULL, 0                                             \
	}
#define HELLO                                                                  \
	{                                                                      \
		P_HELLO, NULL, 0                                               \
	}
#define SLEEP(ms)                                                              \
	{                                                                      \
		P_SLEEP, NULL, (ms)                                            \
	}
#define CLOSE                                                                  \
	{                                                                      \
		P_CLOSE, NULL, 0                                               \
	}
#define RESET                                                                  \
	{                                                                      \
		P_RESET, NULL, 0                                               \
	}
#define SILENT                                                                 \
	{                                                                      \
		P_SILENT, NULL, 0                                              \
	}
#define TLS                                                                    \
	{                                                                      \
		P_TLS, NULL, 0                                                 \
	}

/* The peer's certificate for "localhost", made once (group setup). */
static char tls_dir[64];
static char ca_file[128];
static struct smtprobe_tls_server *tls_srv;

struct peer {
	int fd;
	struct smtprobe_tls *tls; /* after P_TLS */
	const struct pstep *script;
	pthread_t thread;
	char in[8192]; /* received, not yet consumed by the script */
	size_t inlen;
	char log[LOG_MAX]; /* everything the client sent */
	size_t nlog;
	char err[512]; /* how the client went off script, "" when it did not */
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void peer_fail(struct peer *pe, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void peer_fail(struct peer *pe, const char *fmt, ...)
{
	va_list ap;

	if (pe->err[0])
		return;
	va_start(ap, fmt);
	vsnprintf(pe->err, sizeof(pe->err), fmt, ap);
	va_end(ap);
}

/* Wait until the socket can do what TLS wants (or IO_MS passes). */
static int peer_wait(struct peer *pe, long want, int64_t end)
{
	struct pollfd pfd = {
	        .fd = pe->fd,
	        .events = want == SMTPROBE_TLS_WANT_WRITE ? POLLOUT : POLLIN};
	int64_t left = end - now_ms();

	return left > 0 && poll(&pfd, 1, (int)left) > 0 ? 0 : -1;
}

/* One read, plain or TLS: > 0 bytes, 0 EOF, -1 timeout or error. */
static long peer_recv(struct peer *pe, char *buf, size_t len, int64_t end)
{
	if (!pe->tls) {
		if (peer_wait(pe, SMTPROBE_TLS_WANT_READ, end) < 0)
			return -1;
		ssize_t n = recv(pe->fd, buf, len, 0);
		return n < 0 ? -1 : (long)n;
	}
	for (;;) {
		long n = smtprobe_tls_read(pe->tls, buf, len);
		if (n > 0)
			return n;
		if (n == SMTPROBE_TLS_CLOSED)
			return 0;
		if (n == SMTPROBE_TLS_ERR || peer_wait(pe, n, end) < 0)
			return -1;
	}
}

/* Read what arrives within ms: 1 bytes, 0 EOF, -1 timeout or error. */
static int peer_fill(struct peer *pe, int64_t ms)
{
	if (pe->inlen == sizeof(pe->in) || ms <= 0)
		return -1;
	long n = peer_recv(pe, pe->in + pe->inlen, sizeof(pe->in) - pe->inlen,
	                   now_ms() + ms);
	if (n <= 0)
		return (int)n;
	size_t room = sizeof(pe->log) - pe->nlog;
	size_t keep = (size_t)n < room ? (size_t)n : room;
	memcpy(pe->log + pe->nlog, pe->in + pe->inlen, keep);
	pe->nlog += keep;
	pe->inlen += (size_t)n;
	return 1;
}

static void peer_consume(struct peer *pe, size_t n)
{
	memmove(pe->in, pe->in + n, pe->inlen - n);
	pe->inlen -= n;
}

/* One line without its CRLF; -1 on EOF or timeout. */
static int peer_line(struct peer *pe, char *line, size_t linesz)
{
	int64_t end = now_ms() + IO_MS;

	for (;;) {
		char *lf = memchr(pe->in, '\n', pe->inlen);
		if (lf) {
			size_t n = (size_t)(lf - pe->in);
			size_t len = n > 0 && pe->in[n - 1] == '\r' ? n - 1 : n;
			if (len >= linesz)
				len = linesz - 1;
			memcpy(line, pe->in, len);
			line[len] = '\0';
			peer_consume(pe, n + 1);
			return 0;
		}
		if (peer_fill(pe, end - now_ms()) <= 0)
			return -1;
	}
}

/* Until the client closes (or IO_MS passes). */
static void peer_drain(struct peer *pe)
{
	int64_t end = now_ms() + IO_MS;

	for (;;) {
		pe->inlen = 0;
		if (peer_fill(pe, end - now_ms()) <= 0)
			return;
	}
}

static void peer_send(struct peer *pe, const char *buf, size_t len)
{
	int64_t end = now_ms() + IO_MS;

	while (len > 0) {
		long n;
		if (pe->tls) {
			n = smtprobe_tls_write(pe->tls, buf, len);
			if ((n == SMTPROBE_TLS_WANT_READ ||
			     n == SMTPROBE_TLS_WANT_WRITE) &&
			    peer_wait(pe, n, end) == 0)
				continue;
		} else {
			n = send(pe->fd, buf, len, MSG_NOSIGNAL);
		}
		if (n <= 0) {
			peer_fail(pe, "send failed: %s", strerror(errno));
			return;
		}
		buf += n;
		len -= (size_t)n;
	}
}

/* The server side of a handshake on the (now non-blocking) socket. */
static void peer_tls(struct peer *pe)
{
	int64_t end = now_ms() + IO_MS;
	char err[256];
	int rc;

	if (fcntl(pe->fd, F_SETFL, fcntl(pe->fd, F_GETFL) | O_NONBLOCK) < 0 ||
	    smtprobe_tls_accept(&pe->tls, tls_srv, pe->fd, err, sizeof(err)) <
	            0) {
		peer_fail(pe, "cannot start TLS");
		return;
	}
	while ((rc = smtprobe_tls_handshake(pe->tls)) != SMTPROBE_TLS_OK) {
		if ((rc != SMTPROBE_TLS_WANT_READ &&
		     rc != SMTPROBE_TLS_WANT_WRITE) ||
		    peer_wait(pe, rc, end) < 0) {
			peer_fail(pe, "TLS handshake: %s",
			          smtprobe_tls_error(pe->tls));
			return;
		}
	}
}

static void peer_repeat(struct peer *pe, const char *s, size_t times)
{
	size_t n = strlen(s);
	char *buf = malloc(n * times);

	if (!buf) {
		peer_fail(pe, "out of memory");
		return;
	}
	for (size_t i = 0; i < times; i++)
		memcpy(buf + i * n, s, n);
	peer_send(pe, buf, n * times);
	free(buf);
}

/* Returns 1 when the step ended the connection. */
static int peer_step(struct peer *pe, const struct pstep *st)
{
	char line[1024];
	struct pollfd pfd = {.fd = pe->fd, .events = POLLIN};

	switch (st->op) {
	case P_SEND:
		peer_send(pe, st->s, st->n);
		return 0;
	case P_REPEAT:
		peer_repeat(pe, st->s, st->n);
		return 0;
	case P_EXPECT:
		if (peer_line(pe, line, sizeof(line)) < 0)
			peer_fail(pe, "expected \"%s...\", got nothing", st->s);
		else if (strncmp(line, st->s, strlen(st->s)) != 0)
			peer_fail(pe, "expected \"%s...\", got \"%s\"", st->s,
			          line);
		return 0;
	case P_MESSAGE:
		do {
			if (peer_line(pe, line, sizeof(line)) < 0) {
				peer_fail(pe, "the message did not end");
				return 0;
			}
		} while (strcmp(line, ".") != 0);
		return 0;
	case P_HELLO:
		if (pe->inlen == 0 && peer_fill(pe, IO_MS) <= 0)
			peer_fail(pe, "expected a ClientHello, got nothing");
		else if ((unsigned char)pe->in[0] != 0x16)
			peer_fail(pe, "expected a ClientHello, got 0x%02x",
			          (unsigned char)pe->in[0]);
		pe->inlen = 0;
		return 0;
	case P_SLEEP:
		sleep_ms((unsigned)st->n);
		return 0;
	case P_CLOSE:
		shutdown(pe->fd, SHUT_WR);
		peer_drain(pe);
		return 1;
	case P_RESET:
		/* AF_UNIX: closing with bytes unread gives the other end
		 * ECONNRESET (unix_release_sock), as a TCP RST would */
		if (poll(&pfd, 1, IO_MS) <= 0)
			peer_fail(pe, "nothing to leave unread for a reset");
		return 1;
	case P_SILENT:
		for (;;) {
			int rc = peer_fill(pe, IO_MS);
			if (pe->inlen > 0) {
				peer_fail(pe, "the client sent \"%.*s\"",
				          (int)pe->inlen, pe->in);
				return 1;
			}
			if (rc <= 0)
				return 1;
		}
	case P_TLS:
		peer_tls(pe);
		return 0;
	case P_END:
		break;
	}
	return 0;
}

static void *peer_main(void *arg)
{
	struct peer *pe = arg;
	int closed = 0;

	for (const struct pstep *st = pe->script;
	     st->op != P_END && !pe->err[0] && !closed; st++)
		closed = peer_step(pe, st);
	/* off script, hang up at once so that the client ends soon; else
	 * wait for the client to go */
	if (!closed && !pe->err[0])
		peer_drain(pe);
	if (pe->tls)
		smtprobe_tls_free(pe->tls);
	close(pe->fd);
	return NULL;
}

/* ---- the table ------------------------------------------------------ */

/* A case's changes to the base parameters (base_params). */
struct tweak {
	enum smtprobe_tls_mode tls;
	int auth;
	unsigned mech;
	int plaintext;
	int probe;                /* probe_cmds = {"NOOP"} */
	enum smtprobe_stage quit; /* quit_after; 0 (resolve): the whole way */
	unsigned stage_ms;        /* 0: STAGE_MS */
	unsigned session_ms;      /* 0: SESSION_MS */
	size_t nrcpt;             /* 0: one */
	int pipeline;
	int verify;       /* tls_verify */
	int ca;           /* trust the peer's CA (ca_file) */
	const char *host; /* tls_opts.verify_host and sni */
	int raw;          /* raw_tls_hello = raw_hello, whole at 7 bytes */
};

struct scase {
	const char *name;
	struct tweak t;
	struct pstep script[MAX_STEPS];
	enum smtprobe_failure_kind kind;
	/* failure.stage; for a success, the last stage reached (res.stage) */
	enum smtprobe_stage stage;
	int sub;  /* failure.protocol (PROTOCOL) or failure.tls.error (TLS) */
	int err;  /* failure.sys_errno */
	int code; /* failure.reply's code; 0: no reply */
	const char *detail;
	int exit;
	int alert; /* failure.tls.alert (sub == SMTPROBE_TLSE_ALERT) */
	int alert_from_peer;
	long x509; /* failure.x509 (CERTIFICATE) */
	/* every transition, in order; ends at the first 0 (the resolve
	 * stage, which a session on a given socket never enters) */
	enum smtprobe_stage trans[MAX_TRANS];
	double min_ms, max_ms; /* bounds on res.total_ms (0: none) */
	void (*more)(const struct smtprobe_result *r, const struct peer *pe);
	const char *bug; /* a library bug this case shows (skipped) */
};

#define F(k)  SMTPROBE_FAIL_##k
#define S(s)  SMTPROBE_ST_##s
#define PE(e) SMTPROBE_PERR_##e
#define TE(e) SMTPROBE_TLSE_##e

#define BANNER  SEND("220 peer.test ESMTP\r\n")
#define GREET   EXPECT("EHLO client.test"), SEND("250 peer.test\r\n")
#define MAIL_OK EXPECT("MAIL FROM:<a@example.test>"), SEND("250 2.1.0 ok\r\n")
#define RCPT_OK EXPECT("RCPT TO:<b@example.test>"), SEND("250 2.1.5 ok\r\n")
#define DATA_OK EXPECT("DATA"), SEND("354 go ahead\r\n")
#define DOT_OK  MESSAGE, SEND("250 2.0.0 queued as 1\r\n")
#define QUIT_OK EXPECT("QUIT"), SEND("221 2.0.0 bye\r\n")
#define EHLO_AUTH                                                              \
	EXPECT("EHLO client.test"),                                            \
	        SEND("250-peer.test\r\n250 AUTH PLAIN LOGIN\r\n")
#define EHLO_TLS                                                               \
	EXPECT("EHLO client.test"), SEND("250-peer.test\r\n250 STARTTLS\r\n")

static const char tls_alert_80[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x50};

static void more_unsolicited(const struct smtprobe_result *r,
                             const struct peer *pe);
static void more_probe(const struct smtprobe_result *r, const struct peer *pe);
static void more_slow_auth(const struct smtprobe_result *r,
                           const struct peer *pe);
static void more_success(const struct smtprobe_result *r,
                         const struct peer *pe);
static void more_rcpts_refused(const struct smtprobe_result *r,
                               const struct peer *pe);
static void more_tls(const struct smtprobe_result *r, const struct peer *pe);
static void more_raw_alert(const struct smtprobe_result *r,
                           const struct peer *pe);
static void more_raw_closed(const struct smtprobe_result *r,
                            const struct peer *pe);
static void more_injection(const struct smtprobe_result *r,
                           const struct peer *pe);

static const struct scase cases[] = {
        /* ---- the connection ends ---- */
        {.name = "clean close after the banner is closed, not reset",
         .script = {BANNER, CLOSE},
         .kind = F(CLOSED),
         .stage = S(EHLO),
         .exit = 6,
         .trans = {S(CONNECT), S(BANNER), S(EHLO)}},
        {.name = "close with EHLO unread is a reset (ECONNRESET)",
         .script = {BANNER, RESET},
         .kind = F(RESET),
         .stage = S(EHLO),
         .err = ECONNRESET,
         .exit = 6},
        {.name = "close before the banner",
         .script = {CLOSE},
         .kind = F(CLOSED),
         .stage = S(BANNER),
         .exit = 6,
         .trans = {S(CONNECT), S(BANNER)}},
        /* ---- not SMTP ---- */
        {.name = "banner without a code is bad_code",
         .script = {SEND("hello\r\n")},
         .kind = F(PROTOCOL),
         .stage = S(BANNER),
         .sub = PE(BAD_CODE),
         .detail = "hello",
         .exit = 21},
        {.name = "EHLO reply whose codes disagree is inconsistent",
         .script = {BANNER, EXPECT("EHLO"), SEND("250-a\r\n251 b\r\n")},
         .kind = F(PROTOCOL),
         .stage = S(EHLO),
         .sub = PE(INCONSISTENT),
         .detail = "250-a",
         .exit = 22},
        {.name = "banner line over 4096 bytes is line_too_long",
         /* no line end: the cap is hit before one would come */
         .script = {SEND("220 "), REPEAT("x", 5000)},
         .kind = F(PROTOCOL),
         .stage = S(BANNER),
         .sub = PE(LINE_TOO_LONG),
         .detail = "220 xxxx",
         .exit = 21},
        {.name = "EHLO reply of more than 128 lines is reply_too_big",
         .script = {BANNER, EXPECT("EHLO"), REPEAT("250-x\r\n", 200)},
         .kind = F(PROTOCOL),
         .stage = S(EHLO),
         .sub = PE(TOO_MANY_LINES),
         .exit = 22},
        {.name = "a TLS record where the banner is due is not_smtp",
         .script = {SEND("\x16\x03\x01\x00\x2a\x01\x00")},
         .kind = F(PROTOCOL),
         .stage = S(BANNER),
         .sub = PE(NOT_SMTP),
         .detail = "\\x16\\x03\\x01",
         .exit = 21},
        /* ---- bytes no command asked for ---- */
        {.name = "replies after the banner in one write are unsolicited",
         .script = {SEND("220 x\r\n250 unsolicited\r\n554 and another\r\n"),
                    SILENT},
         .kind = F(PROTOCOL),
         .stage = S(EHLO),
         .sub = PE(UNSOLICITED),
         .detail = "250 unsolicited",
         .exit = 22,
         .trans = {S(CONNECT), S(BANNER), S(EHLO)},
         .more = more_unsolicited},
        {.name = "an unsolicited 421 is the server closing",
         .script = {SEND("220 x\r\n421 4.3.2 shutting down\r\n"), SILENT},
         .kind = F(COMMAND),
         .stage = S(EHLO),
         .code = 421,
         .exit = 22},
        /* ---- deadlines ---- */
        {.name = "silence: the reply deadline at the banner",
         .t = {.stage_ms = 200},
         .kind = F(TIMEOUT),
         .stage = S(BANNER),
         .exit = 21,
         .min_ms = 190,
         .max_ms = 2000},
        /* replies at 400, 800 and 1200 ms, each 400 ms inside its
         * deadline; the session's ends at 1400, 200 ms before the RCPT
         * reply would come */
        {.name = "a reply just inside each deadline: the session deadline",
         .t = {.stage_ms = 800, .session_ms = 1400},
         .script = {SLEEP(400), BANNER, EXPECT("EHLO"), SLEEP(400),
                    SEND("250 ok\r\n"), EXPECT("MAIL"), SLEEP(400),
                    SEND("250 ok\r\n"), EXPECT("RCPT")},
         .kind = F(SESSION_TIMEOUT),
         .stage = S(RCPT),
         .exit = 24,
         .trans = {S(CONNECT), S(BANNER), S(EHLO), S(MAIL), S(RCPT)},
         .min_ms = 1390,
         .max_ms = 4000},
        /* the deadline is 400 ms, not 200: 50 ms of slack flaked on a
         * loaded 2-CPU machine; the AUTH stage still lasts 3 x 150 ms, more
         * than one deadline */
        {.name = "slow but steady: every reply 150 ms late, deadline 400",
         .t = {.auth = 1,
               .mech = SMTPROBE_MECH_LOGIN,
               .plaintext = 1,
               .stage_ms = 400},
         .script = {SLEEP(150),
                    BANNER,
                    EXPECT("EHLO"),
                    SLEEP(150),
                    SEND("250-peer.test\r\n250 AUTH LOGIN\r\n"),
                    EXPECT("AUTH LOGIN"),
                    SLEEP(150),
                    SEND("334 VXNlcm5hbWU6\r\n"),
                    EXPECT("dXNlcg=="),
                    SLEEP(150),
                    SEND("334 UGFzc3dvcmQ6\r\n"),
                    EXPECT("c2VjcmV0"),
                    SLEEP(150),
                    SEND("235 2.7.0 ok\r\n"),
                    EXPECT("MAIL"),
                    SLEEP(150),
                    SEND("250 ok\r\n"),
                    EXPECT("RCPT"),
                    SLEEP(150),
                    SEND("250 ok\r\n"),
                    EXPECT("DATA"),
                    SLEEP(150),
                    SEND("354 go\r\n"),
                    MESSAGE,
                    SLEEP(150),
                    SEND("250 ok\r\n"),
                    EXPECT("QUIT"),
                    SLEEP(150),
                    SEND("221 bye\r\n")},
         .kind = F(NONE),
         .stage = S(QUIT),
         .exit = 0,
         .trans = {S(CONNECT), S(BANNER), S(EHLO), S(AUTH), S(MAIL), S(RCPT),
                   S(DATA), S(DOT), S(QUIT)},
         .more = more_slow_auth},
        /* ---- refusals ---- */
        {.name = "banner 554",
         .script = {SEND("554 5.7.1 go away\r\n"), QUIT_OK},
         .kind = F(COMMAND),
         .stage = S(BANNER),
         .code = 554,
         .exit = 21,
         .trans = {S(CONNECT), S(BANNER), S(QUIT)}},
        {.name = "EHLO 550 then HELO 550",
         .script = {BANNER, EXPECT("EHLO client.test"), SEND("550 no EHLO\r\n"),
                    EXPECT("HELO client.test"), SEND("550 no HELO either\r\n"),
                    QUIT_OK},
         .kind = F(COMMAND),
         .stage = S(EHLO),
         .code = 550,
         .exit = 22},
        {.name = "MAIL 550",
         .script = {BANNER, GREET, EXPECT("MAIL FROM:<a@example.test>"),
                    SEND("550 5.1.0 sender rejected\r\n"), QUIT_OK},
         .kind = F(COMMAND),
         .stage = S(MAIL),
         .code = 550,
         .exit = 23},
        {.name = "every RCPT refused",
         .t = {.nrcpt = 2},
         .script = {BANNER, GREET, MAIL_OK, EXPECT("RCPT TO:<b@example.test>"),
                    SEND("550 5.1.1 no such user\r\n"),
                    EXPECT("RCPT TO:<c@example.test>"),
                    SEND("554 5.7.1 Relay access denied\r\n"), QUIT_OK},
         .kind = F(COMMAND),
         .stage = S(RCPT),
         .code = 554,
         .exit = 24,
         .more = more_rcpts_refused},
        {.name = "DATA 554",
         .script = {BANNER, GREET, MAIL_OK, RCPT_OK, EXPECT("DATA"),
                    SEND("554 5.5.1 no valid recipients\r\n"), QUIT_OK},
         .kind = F(COMMAND),
         .stage = S(DATA),
         .code = 554,
         .exit = 25},
        {.name = "554 after the dot",
         .script = {BANNER, GREET, MAIL_OK, RCPT_OK, DATA_OK, MESSAGE,
                    SEND("554 5.7.1 spam\r\n"), QUIT_OK},
         .kind = F(COMMAND),
         .stage = S(DOT),
         .code = 554,
         .exit = 26},
        /* ---- AUTH ---- */
        {.name = "AUTH in clear without auth_plaintext",
         .t = {.auth = 1},
         .script = {BANNER, EHLO_AUTH, QUIT_OK},
         .kind = F(AUTH_NEEDS_TLS),
         .stage = S(AUTH),
         .exit = 28,
         .trans = {S(CONNECT), S(BANNER), S(EHLO), S(AUTH), S(QUIT)}},
        {.name = "AUTH not in the EHLO reply",
         .t = {.auth = 1, .plaintext = 1},
         .script = {BANNER, GREET, QUIT_OK},
         .kind = F(AUTH_UNAVAILABLE),
         .stage = S(AUTH),
         .exit = 28},
        {.name = "AUTH PLAIN answered 535",
         .t = {.auth = 1, .mech = SMTPROBE_MECH_PLAIN, .plaintext = 1},
         .script = {BANNER, EHLO_AUTH, EXPECT("AUTH PLAIN "),
                    SEND("535 5.7.8 Authentication credentials invalid\r\n"),
                    QUIT_OK},
         .kind = F(AUTH_REFUSED),
         .stage = S(AUTH),
         .code = 535,
         .exit = 28},
        {.name = "undecodable AUTH challenge: cancelled with *",
         .t = {.auth = 1, .mech = SMTPROBE_MECH_LOGIN, .plaintext = 1},
         .script = {BANNER, EHLO_AUTH, EXPECT("AUTH LOGIN"),
                    SEND("334 !!!not base64\r\n"), EXPECT("*"),
                    SEND("501 5.7.0 cancelled\r\n"), QUIT_OK},
         .kind = F(AUTH_UNAVAILABLE),
         .stage = S(AUTH),
         .exit = 28},
        /* An undecodable challenge: AUTH_UNAVAILABLE is recorded, "*"
         * cancels, and whatever answers the "*" (even 235) the session
         * ends politely after it: no MAIL, no message. */
        {.name = "undecodable AUTH challenge, * answered 235: still ends",
         .t = {.auth = 1, .mech = SMTPROBE_MECH_LOGIN, .plaintext = 1},
         .script = {BANNER, EHLO_AUTH, EXPECT("AUTH LOGIN"),
                    SEND("334 !!!not base64\r\n"), EXPECT("*"),
                    SEND("235 2.7.0 ok anyway\r\n"), QUIT_OK},
         .kind = F(AUTH_UNAVAILABLE),
         .stage = S(AUTH),
         .exit = 28},
        /* ---- STARTTLS and TLS ---- */
        {.name = "TLS required, STARTTLS not offered",
         .t = {.tls = SMTPROBE_TLSMODE_REQUIRED},
         .script = {BANNER, GREET, QUIT_OK},
         .kind = F(TLS_UNAVAILABLE),
         .stage = S(EHLO),
         .exit = 29},
        {.name = "TLS required, STARTTLS answered 454",
         .t = {.tls = SMTPROBE_TLSMODE_REQUIRED},
         .script = {BANNER, EHLO_TLS, EXPECT("STARTTLS"),
                    SEND("454 4.7.0 TLS not available\r\n"), QUIT_OK},
         .kind = F(TLS_UNAVAILABLE),
         .stage = S(STARTTLS),
         .code = 454,
         .exit = 29},
        {.name = "TLS optional, STARTTLS 454: the probe commands still run",
         .t = {.tls = SMTPROBE_TLSMODE_OPTIONAL, .probe = 1},
         .script = {BANNER, EHLO_TLS, EXPECT("STARTTLS"),
                    SEND("454 4.7.0 TLS not available\r\n"), EXPECT("NOOP"),
                    SEND("250 2.0.0 ok\r\n"), MAIL_OK, RCPT_OK, DATA_OK, DOT_OK,
                    QUIT_OK},
         .kind = F(NONE),
         .stage = S(QUIT),
         .exit = 0,
         .trans = {S(CONNECT), S(BANNER), S(EHLO), S(STARTTLS), S(AUTH),
                   S(MAIL), S(RCPT), S(DATA), S(DOT), S(QUIT)},
         .more = more_probe},
        {.name = "TLS optional, STARTTLS 454: --quit-after auth still quits",
         .t = {.tls = SMTPROBE_TLSMODE_OPTIONAL, .quit = S(AUTH)},
         .script = {BANNER, EHLO_TLS, EXPECT("STARTTLS"),
                    SEND("454 4.7.0 TLS not available\r\n"), QUIT_OK},
         .kind = F(NONE),
         .stage = S(STARTTLS),
         .exit = 0,
         .trans = {S(CONNECT), S(BANNER), S(EHLO), S(STARTTLS), S(QUIT)}},
        {.name = "TLS optional, STARTTLS 454, AUTH, --quit-after auth",
         .t = {.tls = SMTPROBE_TLSMODE_OPTIONAL,
               .auth = 1,
               .plaintext = 1,
               .mech = SMTPROBE_MECH_PLAIN,
               .quit = S(AUTH)},
         .script = {BANNER, EXPECT("EHLO"),
                    SEND("250-peer.test\r\n250-STARTTLS\r\n250 AUTH "
                         "PLAIN\r\n"),
                    EXPECT("STARTTLS"), SEND("454 4.7.0 TLS not available\r\n"),
                    EXPECT("AUTH PLAIN "), SEND("235 2.7.0 ok\r\n"), QUIT_OK},
         .kind = F(NONE),
         .stage = S(AUTH),
         .exit = 0,
         .trans = {S(CONNECT), S(BANNER), S(EHLO), S(STARTTLS), S(AUTH),
                   S(QUIT)}},
        /* ---- raw hellos (tls scans) ---- */
        {.name = "raw hello after STARTTLS: the answer kept, no QUIT",
         .t = {.tls = SMTPROBE_TLSMODE_REQUIRED, .raw = 1},
         .script = {BANNER,
                    EHLO_TLS,
                    EXPECT("STARTTLS"),
                    SEND("220 2.0.0 go ahead\r\n"),
                    HELLO,
                    {P_SEND, tls_alert_80, sizeof(tls_alert_80)},
                    SILENT},
         .kind = F(NONE),
         .stage = S(TLS),
         .exit = 0,
         .trans = {S(CONNECT), S(BANNER), S(EHLO), S(STARTTLS), S(TLS)},
         .more = more_raw_alert},
        {.name = "raw hello with implicit TLS, answered in two writes",
         .t = {.tls = SMTPROBE_TLSMODE_IMPLICIT, .raw = 1},
         .script = {HELLO,
                    {P_SEND, tls_alert_80, 3},
                    SLEEP(50),
                    {P_SEND, tls_alert_80 + 3, 4},
                    SILENT},
         .kind = F(NONE),
         .stage = S(TLS),
         .exit = 0,
         .trans = {S(CONNECT), S(TLS)},
         .more = more_raw_alert},
        {.name = "raw hello answered by a close: recorded, not a failure",
         .t = {.tls = SMTPROBE_TLSMODE_IMPLICIT, .raw = 1},
         .script = {HELLO, {P_SEND, tls_alert_80, 2}, CLOSE},
         .kind = F(NONE),
         .stage = S(TLS),
         .exit = 0,
         .more = more_raw_closed},
        {.name = "implicit TLS answered with plain SMTP is not_tls",
         .t = {.tls = SMTPROBE_TLSMODE_IMPLICIT},
         .script = {HELLO, SEND("220 plain smtp\r\n")},
         .kind = F(TLS),
         .stage = S(TLS),
         .sub = TE(NOT_TLS),
         .exit = 29,
         .trans = {S(CONNECT), S(TLS)}},
        {.name = "implicit TLS answered with a fatal internal_error alert",
         .t = {.tls = SMTPROBE_TLSMODE_IMPLICIT},
         .script = {HELLO, {P_SEND, tls_alert_80, sizeof(tls_alert_80)}},
         .kind = F(TLS),
         .stage = S(TLS),
         .sub = TE(ALERT),
         .alert = 80,
         .alert_from_peer = 1,
         .exit = 29},
        {.name = "implicit TLS, silence after the ClientHello",
         .t = {.tls = SMTPROBE_TLSMODE_IMPLICIT, .stage_ms = 200},
         .script = {HELLO},
         .kind = F(TIMEOUT),
         .stage = S(TLS),
         .exit = 29,
         .max_ms = 2000},
        {.name = "implicit TLS, the peer closes after the ClientHello",
         .t = {.tls = SMTPROBE_TLSMODE_IMPLICIT},
         .script = {HELLO, CLOSE},
         .kind = F(CLOSED),
         .stage = S(TLS),
         .exit = 29},
        /* A socket error during the TLS handshake is a reset with its
         * errno (kind RESET at stage tls, exit 29), like one anywhere else;
         * a clean close in the same place is kind CLOSED. */
        {.name = "STARTTLS, the peer resets during the handshake",
         .t = {.tls = SMTPROBE_TLSMODE_REQUIRED},
         .script = {BANNER, EHLO_TLS, EXPECT("STARTTLS"),
                    SEND("220 2.0.0 go ahead\r\n"), RESET},
         .kind = F(RESET),
         .stage = S(TLS),
         .err = ECONNRESET,
         .exit = 29},
        {.name = "certificate for another name under tls_verify",
         .t = {.tls = SMTPROBE_TLSMODE_REQUIRED,
               .verify = 1,
               .ca = 1,
               .host = "other.example"},
         .script = {BANNER, EHLO_TLS, EXPECT("STARTTLS"),
                    SEND("220 2.0.0 go ahead\r\n"), TLS},
         .kind = F(CERTIFICATE),
         .stage = S(TLS),
         .x509 = 62, /* X509_V_ERR_HOSTNAME_MISMATCH */
         .exit = 29,
         .trans = {S(CONNECT), S(BANNER), S(EHLO), S(STARTTLS), S(TLS)}},
        /* ---- success and the transitions ---- */
        {.name = "the whole transaction",
         .script = {BANNER, GREET, MAIL_OK, RCPT_OK, DATA_OK, DOT_OK, QUIT_OK},
         .kind = F(NONE),
         .stage = S(QUIT),
         .exit = 0,
         .trans = {S(CONNECT), S(BANNER), S(EHLO), S(MAIL), S(RCPT), S(DATA),
                   S(DOT), S(QUIT)},
         .more = more_success},
        {.name = "the whole transaction with AUTH",
         .t = {.auth = 1, .mech = SMTPROBE_MECH_PLAIN, .plaintext = 1},
         .script = {BANNER, EHLO_AUTH, EXPECT("AUTH PLAIN "),
                    SEND("235 2.7.0 ok\r\n"), MAIL_OK, RCPT_OK, DATA_OK, DOT_OK,
                    QUIT_OK},
         .kind = F(NONE),
         .stage = S(QUIT),
         .exit = 0,
         .trans = {S(CONNECT), S(BANNER), S(EHLO), S(AUTH), S(MAIL), S(RCPT),
                   S(DATA), S(DOT), S(QUIT)}},
        {.name = "the whole transaction over STARTTLS",
         .t = {.tls = SMTPROBE_TLSMODE_REQUIRED,
               .verify = 1,
               .ca = 1,
               .host = "localhost"},
         .script = {BANNER, EHLO_TLS, EXPECT("STARTTLS"),
                    SEND("220 2.0.0 go ahead\r\n"), TLS, GREET, MAIL_OK,
                    RCPT_OK, DATA_OK, DOT_OK, QUIT_OK},
         .kind = F(NONE),
         .stage = S(QUIT),
         .exit = 0,
         .trans = {S(CONNECT), S(BANNER), S(EHLO), S(STARTTLS), S(TLS),
                   S(EHLO2), S(MAIL), S(RCPT), S(DATA), S(DOT), S(QUIT)},
         .more = more_tls},
        {.name = "the whole transaction over implicit TLS",
         .t = {.tls = SMTPROBE_TLSMODE_IMPLICIT,
               .verify = 1,
               .ca = 1,
               .host = "localhost"},
         .script = {TLS, BANNER, GREET, MAIL_OK, RCPT_OK, DATA_OK, DOT_OK,
                    QUIT_OK},
         .kind = F(NONE),
         .stage = S(QUIT),
         .exit = 0,
         .trans = {S(CONNECT), S(TLS), S(BANNER), S(EHLO), S(MAIL), S(RCPT),
                   S(DATA), S(DOT), S(QUIT)},
         .more = more_tls},
        {.name = "bytes after the 220 to STARTTLS are dropped, not read",
         .t = {.tls = SMTPROBE_TLSMODE_REQUIRED,
               .ca = 1,
               .host = "localhost",
               .quit = S(MAIL)},
         .script = {BANNER, EHLO_TLS, EXPECT("STARTTLS"),
                    SEND("220 2.0.0 go ahead\r\n250 injected\r\n"), TLS, GREET,
                    MAIL_OK, QUIT_OK},
         .kind = F(NONE),
         .stage = S(MAIL),
         .exit = 0,
         .more = more_injection},
        {.name = "PIPELINING: MAIL, RCPT and DATA answered together",
         .t = {.pipeline = 1},
         .script = {BANNER, EXPECT("EHLO"),
                    SEND("250-peer.test\r\n250 PIPELINING\r\n"),
                    EXPECT("MAIL FROM:<a@example.test>"),
                    EXPECT("RCPT TO:<b@example.test>"), EXPECT("DATA"),
                    SEND("250 ok\r\n250 ok\r\n354 go\r\n"), DOT_OK, QUIT_OK},
         .kind = F(NONE),
         .stage = S(QUIT),
         .exit = 0,
         .trans = {S(CONNECT), S(BANNER), S(EHLO), S(MAIL), S(RCPT), S(DATA),
                   S(DOT), S(QUIT)}},
        {.name = "PIPELINING: MAIL refused, the other replies skipped",
         .t = {.pipeline = 1},
         .script = {BANNER, EXPECT("EHLO"),
                    SEND("250-peer.test\r\n250 PIPELINING\r\n"),
                    EXPECT("MAIL FROM:<a@example.test>"),
                    EXPECT("RCPT TO:<b@example.test>"), EXPECT("DATA"),
                    SEND("550 5.1.0 no\r\n554 5.5.1 no\r\n554 5.5.1 "
                         "no\r\n"),
                    QUIT_OK},
         .kind = F(COMMAND),
         .stage = S(MAIL),
         .code = 550,
         .exit = 23,
         .trans = {S(CONNECT), S(BANNER), S(EHLO), S(MAIL), S(QUIT)}},
        {.name = "QUIT never answered: the transaction stands",
         .t = {.stage_ms = 200},
         .script = {BANNER, GREET, MAIL_OK, RCPT_OK, DATA_OK, DOT_OK,
                    EXPECT("QUIT")},
         .kind = F(NONE),
         .stage = S(DOT),
         .exit = 0,
         .trans = {S(CONNECT), S(BANNER), S(EHLO), S(MAIL), S(RCPT), S(DATA),
                   S(DOT), S(QUIT)}},
        /* A server silent after QUIT ends the session as a success,
         * whichever ends the wait: the reply deadline, a close, or the
         * session deadline. */
        {.name = "QUIT unanswered until the session deadline: it stands",
         .t = {.session_ms = 600},
         .script = {BANNER, GREET, MAIL_OK, RCPT_OK, DATA_OK, DOT_OK,
                    EXPECT("QUIT")},
         .kind = F(NONE),
         .stage = S(DOT),
         .exit = 0},
        {.name = "closed instead of a QUIT reply: the transaction stands",
         .script = {BANNER, GREET, MAIL_OK, RCPT_OK, DATA_OK, DOT_OK,
                    EXPECT("QUIT"), CLOSE},
         .kind = F(NONE),
         .stage = S(DOT),
         .exit = 0},
        {.name = "--quit-after mail",
         .t = {.quit = S(MAIL)},
         .script = {BANNER, GREET, MAIL_OK, QUIT_OK},
         .kind = F(NONE),
         .stage = S(MAIL),
         .exit = 0,
         .trans = {S(CONNECT), S(BANNER), S(EHLO), S(MAIL), S(QUIT)}},
};

#define NCASES NELEM(cases)

static const char *const rcpts[] = {"<b@example.test>", "<c@example.test>"};
static const char *const probes[] = {"NOOP"};
static const char message[] = "Subject: test\r\n\r\nhello\r\n";

struct events {
	size_t stage_events;
};

static void on_event(const struct smtprobe_event *ev, void *arg)
{
	struct events *e = arg;

	if (ev->kind == SMTPROBE_EV_STAGE)
		e->stage_events++;
}

/* A record the peer's HELLO step takes for a ClientHello (0x16). */
static const unsigned char raw_hello[] = {0x16, 0x03, 0x01, 0x00, 0x04,
                                          0x01, 0x00, 0x00, 0x00};

static int raw_whole(const unsigned char *buf, size_t len, void *arg)
{
	(void)buf;
	(void)arg;
	return len >= sizeof(tls_alert_80);
}

static void base_params(struct smtprobe_params *p, const struct tweak *t,
                        struct events *ev)
{
	memset(p, 0, sizeof(*p));
	p->host = "peer.test";
	p->port = 25;
	p->helo = "client.test";
	p->protocol = SMTPROBE_PROTO_ESMTP;
	p->tls = t->tls;
	p->auth = t->auth;
	p->auth_mech = t->mech;
	p->auth_user = "user";
	p->auth_password = "secret";
	p->auth_plaintext = t->plaintext;
	if (t->probe) {
		p->probe_cmds = probes;
		p->nprobe_cmds = NELEM(probes);
	}
	p->mail_from = "<a@example.test>";
	p->rcpt = rcpts;
	p->nrcpt = t->nrcpt ? t->nrcpt : 1;
	p->message = message;
	p->message_len = sizeof(message) - 1;
	p->quit_after = t->quit ? t->quit : SMTPROBE_ST_LAST;
	p->stage_timeout_ms = t->stage_ms ? t->stage_ms : STAGE_MS;
	p->session_timeout_ms = t->session_ms ? t->session_ms : SESSION_MS;
	p->on_event = on_event;
	p->event_arg = ev;
	p->pipeline = t->pipeline;
	p->tls_verify = t->verify;
	p->tls_opts.ca_file = t->ca ? ca_file : NULL;
	p->tls_opts.verify_host = t->host;
	p->tls_opts.sni = t->host;
	if (t->raw) {
		p->raw_tls_hello = raw_hello;
		p->raw_tls_hello_len = sizeof(raw_hello);
		p->raw_tls_whole = raw_whole;
	}
}

static void check_transitions(const struct scase *c,
                              const struct smtprobe_result *r,
                              const struct events *ev)
{
	assert_true(r->ntransitions >= 1);
	assert_int_equal(r->transitions_dropped, 0);
	/* the setter tells the event callback of every transition it
	 * records */
	assert_int_equal(ev->stage_events, r->ntransitions);
	for (size_t i = 1; i < r->ntransitions; i++) {
		assert_true(r->transitions[i].at_ms >=
		            r->transitions[i - 1].at_ms);
		assert_int_not_equal(r->transitions[i].stage,
		                     r->transitions[i - 1].stage);
	}
	if (c->trans[0] == SMTPROBE_ST_RESOLVE)
		return;
	size_t n = 0;
	while (n < MAX_TRANS && c->trans[n] != SMTPROBE_ST_RESOLVE)
		n++;
	char got[256] = "", want[256] = "";
	for (size_t i = 0; i < r->ntransitions; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), " %s",
		         smtprobe_stage_name(r->transitions[i].stage));
	for (size_t i = 0; i < n; i++)
		snprintf(want + strlen(want), sizeof(want) - strlen(want),
		         " %s", smtprobe_stage_name(c->trans[i]));
	assert_string_equal(got, want);
	/* the stage names are shared (ehlo and ehlo2): compare values too */
	for (size_t i = 0; i < n; i++)
		assert_int_equal(r->transitions[i].stage, c->trans[i]);
}

static void check_failure(const struct scase *c,
                          const struct smtprobe_result *r, int rc)
{
	const struct smtprobe_failure *f = &r->failure;

	if (f->kind != c->kind)
		fail_msg("kind %s, want %s (%s)",
		         smtprobe_failure_kind_name(f->kind),
		         smtprobe_failure_kind_name(c->kind), r->error);
	assert_int_equal(r->exit_code, c->exit);
	assert_int_equal(rc, c->exit);
	assert_int_equal(smtprobe_failure_exit_code(f), c->exit);
	if (c->kind == SMTPROBE_FAIL_NONE) {
		assert_string_equal(r->error, "");
		assert_int_equal(r->stage, c->stage);
		return;
	}
	assert_true(r->error[0] != '\0');
	if (f->stage != c->stage)
		fail_msg("stage %s, want %s (%s)",
		         smtprobe_stage_name(f->stage),
		         smtprobe_stage_name(c->stage), r->error);
	assert_int_equal(f->sys_errno, c->err);
	if (c->kind == SMTPROBE_FAIL_PROTOCOL) {
		if ((int)f->protocol != c->sub)
			fail_msg("protocol error %s, want %s (%s)",
			         smtprobe_protocol_error_name(f->protocol),
			         smtprobe_protocol_error_name(
			                 (enum smtprobe_protocol_error)c->sub),
			         r->error);
	} else {
		assert_int_equal(f->protocol, SMTPROBE_PERR_NONE);
	}
	if (c->kind == SMTPROBE_FAIL_TLS) {
		if ((int)f->tls.error != c->sub)
			fail_msg("tls error %s, want %s (%s)",
			         smtprobe_tls_error_name(f->tls.error),
			         smtprobe_tls_error_name(
			                 (enum smtprobe_tls_error)c->sub),
			         r->error);
		if (c->sub == SMTPROBE_TLSE_ALERT) {
			assert_int_equal(f->tls.alert, c->alert);
			assert_int_equal(f->tls.alert_from_peer,
			                 c->alert_from_peer);
		}
	} else {
		assert_int_equal(f->tls.error, SMTPROBE_TLSE_NONE);
	}
	assert_int_equal(f->x509, c->x509);
	if (c->code) {
		assert_non_null(f->reply);
		assert_int_equal(f->reply->code, c->code);
	} else {
		assert_null(f->reply);
	}
	if (c->detail && !strstr(f->detail, c->detail))
		fail_msg("detail \"%s\" lacks \"%s\"", f->detail, c->detail);
}

static void run_case(void **state)
{
	const struct scase *c = *state;
	struct smtprobe_params p;
	struct smtprobe_result res;
	struct events ev = {0};
	struct peer *pe;
	int sv[2];

	if (c->bug && !getenv("SMTPROBE_TEST_BUGS")) {
		print_message("BUG: %s (SMTPROBE_TEST_BUGS=1 runs it)\n",
		              c->bug);
		skip();
	}
	pe = calloc(1, sizeof(*pe));
	assert_non_null(pe);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pe->fd = sv[1];
	pe->script = c->script;
	assert_int_equal(pthread_create(&pe->thread, NULL, peer_main, pe), 0);
	base_params(&p, &c->t, &ev);
	int rc = smtprobe_send_fd(&p, sv[0], &res);
	assert_int_equal(pthread_join(pe->thread, NULL), 0);

	if (pe->err[0])
		fail_msg("peer: %s (session: %s)", pe->err, res.error);
	check_failure(c, &res, rc);
	check_transitions(c, &res, &ev);
	if (c->min_ms > 0)
		assert_true(res.total_ms >= c->min_ms);
	if (c->max_ms > 0)
		assert_true(res.total_ms <= c->max_ms);
	if (c->more)
		c->more(&res, pe);
	smtprobe_result_release(&res);
	free(pe);
}

/* ---- checks beyond the table ---------------------------------------- */

/* Nothing was sent: the only exchanges are the connect and the banner. */
static void more_unsolicited(const struct smtprobe_result *r,
                             const struct peer *pe)
{
	assert_int_equal(pe->nlog, 0);
	for (size_t i = 0; i < r->nex; i++)
		assert_null(r->ex[i].command);
	assert_string_equal(r->failure.detail,
	                    "250 unsolicited\\r\\n554 and another\\r\\n");
}

/* The probe command was sent in the AUTH stage after the refused
 * STARTTLS, and its reply recorded. */
static void more_probe(const struct smtprobe_result *r, const struct peer *pe)
{
	size_t found = 0;

	(void)pe;
	for (size_t i = 0; i < r->nex; i++) {
		const struct smtprobe_exchange *x = &r->ex[i];
		if (x->command && strcmp(x->command, "NOOP") == 0) {
			assert_int_equal(x->stage, SMTPROBE_ST_AUTH);
			assert_non_null(x->reply);
			assert_int_equal(x->reply->code, 250);
			found++;
		}
	}
	assert_int_equal(found, 1);
	assert_int_equal(r->have_tls, 0);
}

static double at_ms(const struct smtprobe_result *r, enum smtprobe_stage st)
{
	for (size_t i = 0; i < r->ntransitions; i++)
		if (r->transitions[i].stage == st)
			return r->transitions[i].at_ms;
	fail_msg("no transition to %s", smtprobe_stage_name(st));
	return 0;
}

/* Three replies of 150 ms each: the AUTH exchange takes longer than the
 * 400 ms deadline of one reply, and that is fine. */
static void more_slow_auth(const struct smtprobe_result *r,
                           const struct peer *pe)
{
	(void)pe;
	assert_int_equal(r->auth_ok, 1);
	assert_string_equal(r->auth_mech, "LOGIN");
	assert_true(at_ms(r, SMTPROBE_ST_MAIL) - at_ms(r, SMTPROBE_ST_AUTH) >
	            400);
}

static void more_success(const struct smtprobe_result *r, const struct peer *pe)
{
	assert_int_equal(r->nrcpt, 1);
	assert_int_equal(r->rcpt[0].accepted, 1);
	assert_non_null(r->message_reply);
	assert_int_equal(r->message_reply->code, 250);
	assert_int_equal(r->data_tried, 1);
	/* the message went out dot-terminated */
	assert_non_null(memmem(pe->log, pe->nlog, "hello\r\n.\r\nQUIT\r\n",
	                       strlen("hello\r\n.\r\nQUIT\r\n")));
}

static void more_rcpts_refused(const struct smtprobe_result *r,
                               const struct peer *pe)
{
	(void)pe;
	assert_int_equal(r->nrcpt, 2);
	assert_int_equal(r->rcpt[0].accepted, 0);
	assert_int_equal(r->rcpt[1].accepted, 0);
	assert_int_equal(r->rcpt[0].reply->code, 550);
	assert_int_equal(r->rcpt[1].reply->code, 554);
	assert_ptr_equal(r->failure.reply, r->rcpt[1].reply);
	assert_int_equal(r->data_tried, 0);
}

static void more_tls(const struct smtprobe_result *r, const struct peer *pe)
{
	(void)pe;
	assert_int_equal(r->have_tls, 1);
	assert_int_equal(r->tls.verify_ok, 1);
	assert_int_equal(r->tls.host_match, 1);
	assert_true(r->tls_ms > 0);
}

static void more_raw_alert(const struct smtprobe_result *r,
                           const struct peer *pe)
{
	(void)pe;
	assert_int_equal(r->have_raw_tls, 1);
	assert_int_equal(r->have_tls, 0);
	assert_int_equal(r->raw_tls_len, sizeof(tls_alert_80));
	assert_memory_equal(r->raw_tls, tls_alert_80, sizeof(tls_alert_80));
	assert_int_equal(r->raw_tls_closed, 0);
}

static void more_raw_closed(const struct smtprobe_result *r,
                            const struct peer *pe)
{
	(void)pe;
	assert_int_equal(r->have_raw_tls, 1);
	assert_int_equal(r->raw_tls_len, 2);
	assert_int_equal(r->raw_tls_closed, 1);
}

static void more_injection(const struct smtprobe_result *r,
                           const struct peer *pe)
{
	more_tls(r, pe);
	assert_int_equal(r->starttls_injection, 1);
	for (size_t i = 0; i < r->nex; i++)
		if (r->ex[i].reply)
			assert_null(strstr(r->ex[i].reply->raw, "injected"));
}

/* ---- sessions that connect themselves ------------------------------- */

/* A port on 127.0.0.1 where nothing listens (bound, read, closed). */
static unsigned free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

static void test_refused(void **state)
{
	struct smtprobe_params p;
	struct smtprobe_result res;
	struct events ev = {0};
	const struct tweak t = {0};

	(void)state;
	base_params(&p, &t, &ev);
	p.host = "127.0.0.1";
	p.port = free_port();
	int rc = smtprobe_send(&p, &res);
	assert_int_equal(rc, 2);
	assert_int_equal(res.failure.kind, SMTPROBE_FAIL_REFUSED);
	assert_int_equal(res.failure.stage, SMTPROBE_ST_CONNECT);
	assert_int_equal(res.failure.sys_errno, ECONNREFUSED);
	assert_int_equal(res.exit_code, 2);
	assert_null(res.failure.reply);
	assert_true(res.error[0] != '\0');
	/* resolve (an address literal), then connect */
	assert_int_equal(res.ntransitions, 2);
	assert_int_equal(res.transitions[0].stage, SMTPROBE_ST_RESOLVE);
	assert_int_equal(res.transitions[1].stage, SMTPROBE_ST_CONNECT);
	assert_int_equal(ev.stage_events, res.ntransitions);
	smtprobe_result_release(&res);
}

struct cancel_run {
	struct smtprobe_session *s;
	uv_timer_t timer;
	int done;
};

static void on_done(struct smtprobe_session *s, void *arg)
{
	struct cancel_run *cr = arg;

	(void)s;
	cr->done++;
}

static void on_cancel_timer(uv_timer_t *t)
{
	struct cancel_run *cr = t->data;

	smtprobe_session_cancel(cr->s);
	smtprobe_session_cancel(cr->s); /* a second cancel is a no-op */
	uv_close((uv_handle_t *)t, NULL);
}

/* A listening socket that never accepts: the kernel completes the
 * connect, the banner never comes, the caller cancels after 100 ms. */
static void test_cancel(void **state)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	struct smtprobe_params p;
	struct smtprobe_result res;
	struct events ev = {0};
	const struct tweak t = {0};
	struct cancel_run cr = {0};
	uv_loop_t loop;

	(void)state;
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &len), 0);
	assert_int_equal(listen(lfd, 4), 0);
	base_params(&p, &t, &ev);
	p.host = "127.0.0.1";
	p.port = ntohs(sa.sin_port);

	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(
	        smtprobe_session_start(&cr.s, &loop, &p, &res, on_done, &cr),
	        0);
	uv_timer_init(&loop, &cr.timer);
	cr.timer.data = &cr;
	uv_timer_start(&cr.timer, on_cancel_timer, 100, 0);
	int64_t t0 = now_ms();
	uv_run(&loop, UV_RUN_DEFAULT);
	int64_t took = now_ms() - t0;
	smtprobe_session_free(cr.s);
	assert_int_equal(uv_loop_close(&loop), 0);
	close(lfd);

	assert_int_equal(cr.done, 1);
	assert_true(took < 2000);
	assert_int_equal(res.failure.kind, SMTPROBE_FAIL_CANCELLED);
	assert_int_equal(res.failure.stage, SMTPROBE_ST_BANNER);
	assert_int_equal(res.exit_code, 21);
	assert_true(res.error[0] != '\0');
	smtprobe_result_release(&res);
}

/* ---- failure.c's tables --------------------------------------------- */

static void test_kind_names(void **state)
{
	(void)state;
	for (int k = 0; k < SMTPROBE_FAIL_LAST; k++) {
		const char *n = smtprobe_failure_kind_name(k);
		assert_non_null(n);
		if (strcmp(n, "?") == 0)
			fail_msg("kind %d has no name", k);
		for (int j = 0; j < k; j++)
			if (strcmp(n, smtprobe_failure_kind_name(j)) == 0)
				fail_msg("kinds %d and %d share \"%s\"", j, k,
				         n);
	}
	assert_string_equal(smtprobe_failure_kind_name(SMTPROBE_FAIL_LAST),
	                    "?");
	assert_string_equal(smtprobe_failure_kind_name(-1), "?");
	assert_string_equal(smtprobe_failure_kind_name(SMTPROBE_FAIL_REFUSED),
	                    "connection_refused");
	assert_string_equal(smtprobe_failure_kind_name(SMTPROBE_FAIL_PROTOCOL),
	                    "protocol_error");
}

static void test_sub_kind_names(void **state)
{
	static const struct {
		int v;
		const char *name;
	} perr[] = {{SMTPROBE_PERR_NONE, "none"},
	            {SMTPROBE_PERR_BAD_CODE, "bad_code"},
	            {SMTPROBE_PERR_INCONSISTENT, "inconsistent_multiline"},
	            {SMTPROBE_PERR_LINE_TOO_LONG, "line_too_long"},
	            {SMTPROBE_PERR_TOO_MANY_LINES, "reply_too_big"},
	            {SMTPROBE_PERR_UNSOLICITED, "unsolicited"},
	            {SMTPROBE_PERR_NOT_SMTP, "not_smtp"},
	            {SMTPROBE_PERR_LAST, "?"}},
	  res[] = {{SMTPROBE_RES_NONE, "none"},
	           {SMTPROBE_RES_NXDOMAIN, "nxdomain"},
	           {SMTPROBE_RES_NODATA, "nodata"},
	           {SMTPROBE_RES_SERVFAIL, "servfail"},
	           {SMTPROBE_RES_SERVFAIL + 1, "?"}},
	  tlse[] = {{SMTPROBE_TLSE_NONE, "none"},
	            {SMTPROBE_TLSE_NOT_TLS, "not_tls"},
	            {SMTPROBE_TLSE_VERSION, "protocol_version"},
	            {SMTPROBE_TLSE_CIPHER, "no_shared_cipher"},
	            {SMTPROBE_TLSE_ALERT, "alert"},
	            {SMTPROBE_TLSE_CLOSED, "closed"},
	            {SMTPROBE_TLSE_SYSCALL, "socket_error"},
	            {SMTPROBE_TLSE_LOCAL, "local_setup"},
	            {SMTPROBE_TLSE_OTHER, "other"},
	            {SMTPROBE_TLSE_OTHER + 1, "?"}};

	(void)state;
	/* the table above is complete: every protocol sub-kind is in it */
	assert_int_equal(NELEM(perr), SMTPROBE_PERR_LAST + 1);
	for (size_t i = 0; i < NELEM(perr); i++)
		assert_string_equal(smtprobe_protocol_error_name(perr[i].v),
		                    perr[i].name);
	for (size_t i = 0; i < NELEM(res); i++)
		assert_string_equal(smtprobe_resolve_error_name(res[i].v),
		                    res[i].name);
	for (size_t i = 0; i < NELEM(tlse); i++)
		assert_string_equal(smtprobe_tls_error_name(tlse[i].v),
		                    tlse[i].name);
	assert_string_equal(smtprobe_tls_alert_name(80), "internal_error");
	assert_string_equal(smtprobe_tls_alert_name(40), "handshake_failure");
	assert_string_equal(smtprobe_tls_alert_name(70), "protocol_version");
	assert_null(smtprobe_tls_alert_name(255));
	assert_null(smtprobe_tls_alert_name(-1));
}

static void test_exit_codes(void **state)
{
	static const struct {
		enum smtprobe_failure_kind kind;
		enum smtprobe_stage stage;
		int exit;
	} tab[] = {
	        {F(NONE), S(RESOLVE), 0},
	        {F(NONE), S(DOT), 0},
	        {F(RESOLVE), S(RESOLVE), 2},
	        {F(REFUSED), S(CONNECT), 2},
	        {F(CONNECT_TIMEOUT), S(CONNECT), 2},
	        {F(UNREACHABLE), S(CONNECT), 2},
	        {F(CONNECT), S(CONNECT), 2},
	        {F(CONNECT), S(RESOLVE), 2},
	        {F(RESET), S(BANNER), 6},
	        {F(RESET), S(EHLO), 6},
	        {F(RESET), S(RCPT), 6},
	        {F(RESET), S(TLS), 29},
	        {F(CLOSED), S(BANNER), 6},
	        {F(CLOSED), S(DOT), 6},
	        {F(CLOSED), S(TLS), 29},
	        {F(TIMEOUT), S(BANNER), 21},
	        {F(TIMEOUT), S(EHLO2), 22},
	        {F(TIMEOUT), S(DATA), 25},
	        {F(TIMEOUT), S(QUIT), 27},
	        {F(SESSION_TIMEOUT), S(RCPT), 24},
	        {F(PROTOCOL), S(BANNER), 21},
	        {F(PROTOCOL), S(EHLO), 22},
	        {F(PROTOCOL), S(STARTTLS), 29},
	        {F(TLS), S(TLS), 29},
	        {F(TLS), S(MAIL), 29},
	        {F(CERTIFICATE), S(TLS), 29},
	        {F(TLS_UNAVAILABLE), S(EHLO), 29},
	        {F(TLS_UNAVAILABLE), S(STARTTLS), 29},
	        {F(AUTH_REFUSED), S(AUTH), 28},
	        {F(AUTH_UNAVAILABLE), S(AUTH), 28},
	        {F(AUTH_NEEDS_TLS), S(AUTH), 28},
	        {F(COMMAND), S(BANNER), 21},
	        {F(COMMAND), S(EHLO), 22},
	        {F(COMMAND), S(EHLO2), 22},
	        {F(COMMAND), S(MAIL), 23},
	        {F(COMMAND), S(RCPT), 24},
	        {F(COMMAND), S(DATA), 25},
	        {F(COMMAND), S(DOT), 26},
	        {F(COMMAND), S(QUIT), 27},
	        {F(CANCELLED), S(BANNER), 21},
	        {F(USAGE), S(RESOLVE), 1},
	        {F(USAGE), S(DOT), 1},
	        {F(INTERNAL), S(MAIL), 23},
	};
	int seen[SMTPROBE_FAIL_LAST] = {0};

	(void)state;
	for (size_t i = 0; i < NELEM(tab); i++) {
		struct smtprobe_failure f = {.kind = tab[i].kind,
		                             .stage = tab[i].stage};
		int got = smtprobe_failure_exit_code(&f);
		if (got != tab[i].exit)
			fail_msg("%s at %s: exit %d, want %d",
			         smtprobe_failure_kind_name(tab[i].kind),
			         smtprobe_stage_name(tab[i].stage), got,
			         tab[i].exit);
		seen[tab[i].kind] = 1;
	}
	for (int k = 0; k < SMTPROBE_FAIL_LAST; k++)
		if (!seen[k])
			fail_msg("kind %s has no exit code row",
			         smtprobe_failure_kind_name(k));
}

static void test_of_errno_and_parse(void **state)
{
	static const struct {
		int err;
		enum smtprobe_failure_kind kind;
	} errs[] = {
	        {ECONNREFUSED, F(REFUSED)},     {ETIMEDOUT, F(CONNECT_TIMEOUT)},
	        {EHOSTUNREACH, F(UNREACHABLE)}, {ENETUNREACH, F(UNREACHABLE)},
	        {ECONNRESET, F(RESET)},         {EPIPE, F(RESET)},
	        {EACCES, F(CONNECT)},           {0, F(CONNECT)},
	};
	static const struct {
		long err;
		enum smtprobe_protocol_error perr;
	} parse[] = {
	        {SMTPROBE_REPLY_E_LINE_TOO_LONG, PE(LINE_TOO_LONG)},
	        {SMTPROBE_REPLY_E_TOO_MANY_LINES, PE(TOO_MANY_LINES)},
	        {SMTPROBE_REPLY_E_TOO_BIG, PE(TOO_MANY_LINES)},
	        {SMTPROBE_REPLY_E_BAD_CODE, PE(BAD_CODE)},
	        {SMTPROBE_REPLY_E_CODE_MISMATCH, PE(INCONSISTENT)},
	        {SMTPROBE_REPLY_E_BAD_SEPARATOR, PE(INCONSISTENT)},
	        {0, PE(NONE)},
	        {-99, PE(NONE)},
	};

	(void)state;
	for (size_t i = 0; i < NELEM(errs); i++)
		assert_int_equal(smtprobe_failure_of_errno(errs[i].err),
		                 errs[i].kind);
	for (size_t i = 0; i < NELEM(parse); i++)
		assert_int_equal(smtprobe_protocol_error_of_parse(parse[i].err),
		                 parse[i].perr);
}

/* A CA and a certificate for "localhost" for the peer's TLS. */
static int group_setup(void **state)
{
	static const char *const names[] = {"localhost"};
	char err[256], cert[128], key[128];

	(void)state;
	snprintf(tls_dir, sizeof(tls_dir), "/tmp/test_session.XXXXXX");
	if (!mkdtemp(tls_dir))
		return -1;
	snprintf(ca_file, sizeof(ca_file), "%s/ca.pem", tls_dir);
	snprintf(cert, sizeof(cert), "%s/server.pem", tls_dir);
	snprintf(key, sizeof(key), "%s/server.key", tls_dir);
	if (smtprobe_tls_generate(tls_dir, names, 1, 2, err, sizeof(err)) < 0 ||
	    smtprobe_tls_server_new(&tls_srv, cert, key, NULL, err,
	                            sizeof(err)) < 0) {
		print_error("tls setup: %s\n", err);
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	static const char *const files[] = {"ca.pem", "ca.key", "server.pem",
	                                    "server.key"};
	char path[128];

	(void)state;
	smtprobe_tls_server_free(tls_srv);
	for (size_t i = 0; i < NELEM(files); i++) {
		snprintf(path, sizeof(path), "%s/%s", tls_dir, files[i]);
		unlink(path);
	}
	rmdir(tls_dir);
	return 0;
}

int main(void)
{
	static const struct CMUnitTest extra[] = {
	        cmocka_unit_test(test_refused),
	        cmocka_unit_test(test_cancel),
	        cmocka_unit_test(test_kind_names),
	        cmocka_unit_test(test_sub_kind_names),
	        cmocka_unit_test(test_exit_codes),
	        cmocka_unit_test(test_of_errno_and_parse),
	};
	static struct CMUnitTest tests[NCASES + NELEM(extra)];

	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < NCASES; i++) {
		tests[i].name = cases[i].name;
		tests[i].test_func = run_case;
		tests[i].initial_state = (void *)&cases[i];
	}
	for (size_t i = 0; i < NELEM(extra); i++)
		tests[NCASES + i] = extra[i];
	return cmocka_run_group_tests_name("session", tests, group_setup,
	                                   group_teardown);
}
