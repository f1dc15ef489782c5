/* fuzz_session.c - drive a whole client session with fuzzer bytes playing
 * the server. The first byte picks options (pipelining, LMTP, AUTH, TLS,
 * quit-after); the rest is written to one end of a socketpair followed by
 * EOF, and the session runs on the other end until it ends. Whatever the
 * bytes, the session must end (EOF at the latest) without a crash, a leak
 * or a sanitizer report. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "smtprobe/ehlo.h"
#include "smtprobe/session.h"

#define MAX_INPUT (48 * 1024) /* stays below the socket buffer */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const rcpts[] = {
	        "<a@example.test>", "<b@example.test>", "<c@example.test>"};
	static const enum smtprobe_stage quits[] = {
	        SMTPROBE_ST_LAST, SMTPROBE_ST_LAST, SMTPROBE_ST_EHLO2,
	        SMTPROBE_ST_AUTH, SMTPROBE_ST_RCPT, SMTPROBE_ST_DATA};
	int sv[2];

	if (size < 1 || size > MAX_INPUT)
		return 0;
	uint8_t opt = data[0];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return 0;
	size_t off = 1;
	while (off < size) {
		ssize_t n = write(sv[1], data + off, size - off);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	shutdown(sv[1], SHUT_WR);

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

	struct smtprobe_result res;
	smtprobe_send_fd(&p, sv[0], &res);
	char *json = smtprobe_result_json(&res);
	free(json);
	smtprobe_result_release(&res);
	close(sv[1]);
	return 0;
}
