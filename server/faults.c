/* faults.c - fault injection for `smtprobe serve`: replace, delay or drop
 * a reply, 421 after N commands, and the named misbehaviours client tests
 * need (silence, slow drip, endless multi-line reply, oversized line,
 * garbage, reset during DATA, broken STARTTLS), each with a probability.
 *
 * Promises: every fault is bounded by the session's own limits: output
 * goes through the capped queue (an endless reply only refills it when it
 * has drained below a threshold), the session's deadlines still run (a
 * timed-out session's fault timer is stopped and its held replies
 * dropped), timers stop when the session closes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "faults.h"
#include "log.h"
#include "smtpd_int.h"
#include "banned.h"

#define FAULT_ENDLESS_BATCH 64
#define FAULT_ENDLESS_LOW   (16 * 1024)
#define FAULT_MAX_LONG_LINE (32u * 1024 * 1024)

static int fault_matches(const struct srv_fault *f, const char *when)
{
	if (strcasecmp(f->when, when) == 0)
		return 1;
	/* "any" is every command and the end of data, not the banner. */
	return strcasecmp(f->when, "any") == 0 && strcmp(when, "connect") != 0;
}

static int fault_fires(const struct srv_fault *f)
{
	if (f->probability >= 1.0)
		return 1;
	return drand48() < f->probability;
}

static void on_drip(uv_timer_t *t)
{
	struct smtpd *s = t->data;

	if (!s->drip && s->held) {
		s->drip = s->heldbuf;
		s->drip_len = s->heldlen;
		s->drip_pos = 0;
		s->heldbuf = NULL;
		s->heldlen = 0;
		s->held = 0;
	}
	if (s->drip_pos >= s->drip_len) {
		uv_timer_stop(t);
		free(s->drip);
		s->drip = NULL;
		s->drip_len = s->drip_pos = 0;
		s->busy = 0;
		if (s->closing) /* the reply dripped was the last (QUIT) */
			smtpd_close_after_flush(s, s->close_reason
			                                   ? s->close_reason
			                                   : "closed");
		else
			smtpd_resume(s);
		return;
	}
	conn_send(&s->conn, s->drip + s->drip_pos++, 1);
}

static void on_endless(uv_timer_t *t)
{
	struct smtpd *s = t->data;
	char line[80];

	if (s->closing) {
		uv_timer_stop(t);
		return;
	}
	if (outq_pending(&s->conn.out) > FAULT_ENDLESS_LOW)
		return;
	for (int i = 0; i < FAULT_ENDLESS_BATCH; i++) {
		int n = snprintf(line, sizeof(line), "250-endless line %lu\r\n",
		                 s->endless_n++);
		if (conn_send(&s->conn, line, (size_t)n) < 0)
			return;
	}
}

static void send_garbage(struct smtpd *s, unsigned long n)
{
	char buf[256];

	if (n == 0 || n > sizeof(buf) - 2)
		n = 64;
	for (unsigned long i = 0; i < n; i++) {
		char c = (char)(lrand48() & 0xff);
		buf[i] = c == '\n' || c == '\r' ? '?' : c;
	}
	buf[n] = '\r';
	buf[n + 1] = '\n';
	conn_send(&s->conn, buf, n + 2);
}

int faults_apply(struct smtpd *s, const char *when)
{
	const struct srv_policy *p = s->policy;

	for (size_t i = 0; i < p->nfaults; i++) {
		const struct srv_fault *f = &p->faults[i];
		if (!fault_matches(f, when) || !fault_fires(f))
			continue;
		srv_log_event(s->srv->log, "fault", "client", s->client, "when",
		              when, "action", srv_fault_name(f->kind), NULL);
		switch (f->kind) {
		case SRV_FAULT_REPLY:
			smtpd_reply(s, "%u %s", f->code, f->text);
			return 1;
		case SRV_FAULT_DELAY:
			smtpd_delay(s, (unsigned)f->n);
			break; /* the normal reply follows, held back */
		case SRV_FAULT_DROP:
			smtpd_close_after_flush(s, "fault: drop");
			return 1;
		case SRV_FAULT_421_AFTER:
			if (s->ncommands <= f->n)
				break; /* N commands are answered first */
			smtpd_reply(s,
			            "421 4.3.2 %s Service not available, "
			            "closing transmission channel",
			            p->hostname);
			smtpd_close_after_flush(s, "fault: 421");
			return 1;
		case SRV_FAULT_SILENCE:
			s->busy = 1; /* read nothing more, answer nothing */
			return 1;
		case SRV_FAULT_DRIP:
			/* The reply that follows is held, then dripped out one
			 * byte every n ms (on_drip takes it from the held
			 * buffer at its first tick). */
			free(s->drip);
			s->drip = NULL;
			s->drip_len = s->drip_pos = 0;
			s->held = 1;
			s->busy = 1;
			uv_timer_start(&s->delay, on_drip, f->n ? f->n : 500,
			               f->n ? f->n : 500);
			break;
		case SRV_FAULT_ENDLESS:
			s->busy = 1;
			uv_timer_start(&s->delay, on_endless, 0, 1);
			return 1;
		case SRV_FAULT_LONG_LINE: {
			size_t n = f->n && f->n < FAULT_MAX_LONG_LINE ? f->n
			                                              : 100000;
			char *buf = malloc(n + 6);
			if (!buf)
				return 1;
			memcpy(buf, "250 ", 4);
			memset(buf + 4, 'x', n);
			memcpy(buf + 4 + n, "\r\n", 2);
			conn_send(&s->conn, buf, n + 6);
			free(buf);
			return 1;
		}
		case SRV_FAULT_GARBAGE:
			send_garbage(s, f->n);
			return 1;
		case SRV_FAULT_RESET_DATA:
			s->reset_in_data = 1;
			break; /* 354 as usual; the reset comes with the data */
		case SRV_FAULT_BAD_STARTTLS:
			/* The garbage answers the ClientHello, so it reaches
			 * the client's handshake (see faults_input). */
			smtpd_reply(s, "220 2.0.0 Ready to start TLS");
			s->bad_starttls = 1;
			return 1;
		}
	}
	return 0;
}

int faults_input(struct smtpd *s)
{
	if (!s->bad_starttls || s->conn.in.len == 0)
		return 0;
	inbuf_consume(&s->conn.in, s->conn.in.len);
	s->bad_starttls = 0;
	send_garbage(s, 200);
	s->busy = 1; /* nothing more: the client's TLS fails */
	return 1;
}

const char *srv_fault_name(enum srv_fault_kind k)
{
	static const char *const names[] = {
	        [SRV_FAULT_REPLY] = "reply",
	        [SRV_FAULT_DELAY] = "delay",
	        [SRV_FAULT_DROP] = "drop",
	        [SRV_FAULT_421_AFTER] = "421-after",
	        [SRV_FAULT_SILENCE] = "silence",
	        [SRV_FAULT_DRIP] = "drip",
	        [SRV_FAULT_ENDLESS] = "endless",
	        [SRV_FAULT_LONG_LINE] = "long-line",
	        [SRV_FAULT_GARBAGE] = "garbage",
	        [SRV_FAULT_RESET_DATA] = "reset-data",
	        [SRV_FAULT_BAD_STARTTLS] = "bad-starttls",
	};
	return (unsigned)k < sizeof(names) / sizeof(names[0]) && names[k]
	               ? names[k]
	               : "?";
}
