/* fuzz_session.c - drive a whole client session with fuzzer bytes playing
 * the server. The first byte picks options (pipelining, LMTP, AUTH, TLS,
 * quit-after); the rest is the server's side, cut into turns at each 0xFE
 * byte. The first turn (the banner) goes out at once; each later turn goes
 * out when the client has written something (a command) or after 2 ms of
 * quiet, so replies can arrive in step, early (unsolicited) or split
 * anywhere. After the last turn the server side shuts down (EOF). Whatever
 * the bytes, the session must end without a crash, a leak or a sanitizer
 * report, its failure must be one of the kinds, and a failed session must
 * have a message. */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "smtprobe/ehlo.h"
#include "smtprobe/session.h"

#define FUZZ_MAX_INPUT (48 * 1024) /* stays below the socket buffer */
#define TURN           0xFE
#define QUIET_MS       2

#define CHECK(x)                                                               \
	do {                                                                   \
		if (!(x))                                                      \
			abort();                                               \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct peer {
	int fd;
	const uint8_t *p, *end; /* what is left to send */
	uv_poll_t poll;
	uv_timer_t quiet;
	int shut;
};

/* Send the next turn (up to the next 0xFE), or shut down after the last. */
static void next_turn(struct peer *pr)
{
	if (pr->shut)
		return;
	if (pr->p >= pr->end) {
		shutdown(pr->fd, SHUT_WR);
		pr->shut = 1;
		return;
	}
	const uint8_t *t = memchr(pr->p, TURN, (size_t)(pr->end - pr->p));
	size_t n = t ? (size_t)(t - pr->p) : (size_t)(pr->end - pr->p);
	if (n > 0 && write(pr->fd, pr->p, n) < 0) {
		shutdown(pr->fd, SHUT_WR);
		pr->shut = 1;
		return;
	}
	pr->p += n + (t != NULL);
}

static void arm_quiet(struct peer *pr);

static void on_quiet(uv_timer_t *t)
{
	next_turn(t->data);
	arm_quiet(t->data);
}

static void arm_quiet(struct peer *pr)
{
	if (!pr->shut)
		uv_timer_start(&pr->quiet, on_quiet, QUIET_MS, 0);
}

static void on_client_bytes(uv_poll_t *h, int status, int events)
{
	struct peer *pr = h->data;
	char buf[4096];
	ssize_t n;
	int got = 0;

	(void)events;
	while ((n = read(pr->fd, buf, sizeof(buf))) > 0)
		got = 1;
	if (status < 0 || n == 0) {
		uv_poll_stop(h);
		uv_timer_stop(&pr->quiet);
		return;
	}
	if (got) {
		next_turn(pr);
		arm_quiet(pr);
	}
}

static void on_done(struct smtprobe_session *s, void *arg)
{
	struct peer *pr = arg;

	(void)s;
	uv_poll_stop(&pr->poll);
	uv_timer_stop(&pr->quiet);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const rcpts[] = {
	        "<a@example.test>", "<b@example.test>", "<c@example.test>"};
	static const enum smtprobe_stage quits[] = {
	        SMTPROBE_ST_LAST, SMTPROBE_ST_LAST, SMTPROBE_ST_EHLO2,
	        SMTPROBE_ST_AUTH, SMTPROBE_ST_RCPT, SMTPROBE_ST_DATA};
	int sv[2];

	if (size < 1 || size > FUZZ_MAX_INPUT)
		return 0;
	uint8_t opt = data[0];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return 0;
	fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL) | O_NONBLOCK);

	struct smtprobe_params p;
	memset(&p, 0, sizeof(p));
	p.host = "fuzz.example.test";
	p.port = 25;
	p.helo = "client.example.test";
	p.protocol = (opt & 0x03) == 3   ? SMTPROBE_PROTO_LMTP
	             : (opt & 0x03) == 2 ? SMTPROBE_PROTO_SMTP
	                                 : SMTPROBE_PROTO_ESMTP;
	p.pipeline = (opt >> 2) & 1;
	p.auth = (opt >> 3) & 1;
	p.auth_mech = (opt >> 4) & 1 ? SMTPROBE_MECH_CRAM_MD5 : 0;
	p.auth_user = "user";
	p.auth_password = "secret";
	p.auth_plaintext = 1;
	p.tls = (opt >> 5) & 1 ? SMTPROBE_TLSMODE_OPTIONAL
	                       : SMTPROBE_TLSMODE_OFF;
	p.quit_after = quits[(opt >> 6) % (sizeof(quits) / sizeof(quits[0]))];
	p.mail_from = "<s@example.test>";
	p.rcpt = rcpts;
	p.nrcpt = 3;
	p.message = "Subject: fuzz\r\n\r\n.leading dot\r\nbody\r\n";
	p.message_len = strlen(p.message);
	p.stage_timeout_ms = 2000;
	p.session_timeout_ms = 5000;

	uv_loop_t loop;
	struct peer pr = {.fd = sv[1], .p = data + 1, .end = data + size};
	struct smtprobe_result res;
	struct smtprobe_session *s = NULL;
	uv_loop_init(&loop);
	uv_poll_init(&loop, &pr.poll, sv[1]);
	uv_timer_init(&loop, &pr.quiet);
	pr.poll.data = pr.quiet.data = &pr;
	next_turn(&pr); /* the banner */
	arm_quiet(&pr);
	uv_poll_start(&pr.poll, UV_READABLE, on_client_bytes);
	if (smtprobe_session_start_fd(&s, &loop, &p, &res, on_done, &pr,
	                              sv[0]) == 0) {
		uv_run(&loop, UV_RUN_DEFAULT);
		CHECK(res.failure.kind < SMTPROBE_FAIL_LAST);
		CHECK(res.failure.kind == SMTPROBE_FAIL_NONE || res.error[0]);
		CHECK((res.failure.kind == SMTPROBE_FAIL_NONE) ==
		      (res.exit_code == 0));
		char *json = smtprobe_result_json(&res);
		free(json);
		smtprobe_result_release(&res);
		smtprobe_session_free(s);
	}
	uv_close((uv_handle_t *)&pr.poll, NULL);
	uv_close((uv_handle_t *)&pr.quiet, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	close(sv[1]);
	return 0;
}
