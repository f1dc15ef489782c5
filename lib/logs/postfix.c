/* postfix.c - Postfix's log lines (logs_int.h), whatever the syslog name
 * (postfix/smtpd, or per listener as postlogd writes them: closed/smtpd).
 *
 *   smtpd    connect from NAME[ADDR]                         connect
 *            disconnect from NAME[ADDR] ... auth=N[/M] ...   AUTH successes
 *                (N; the failures come from the warnings: they name
 *                the user)
 *            warning: NAME[ADDR]: SASL M authentication failed: WHY[,
 *                sasl_username=U]                             AUTH failure
 *            XXX TLS connection established from NAME[ADDR]: PROTO with
 *                cipher C ...                                 TLS
 *            SSL_accept error from NAME[ADDR]: lost connection | timed
 *                out | -1, the cause then on "warning: TLS library
 *                problem: ..." from the same process (or, without one,
 *                "lost connection after STARTTLS")            TLS failure
 *            timeout after STARTTLS from ...                  TLS failure
 *            NOQUEUE: reject: RCPT from NAME[ADDR]: 554 5.7.1 TEXT;
 *                from=<S> to=<R> proto=... helo=<H>           rejection
 *                (also QID: reject:, milter-reject:, postscreen's;
 *                reject_warning: is not one)
 *            warning: Connection rate limit exceeded ... / concurrency
 *                                                             rejection
 *   smtp, lmtp, local, virtual, pipe, discard, error, retry
 *            QID: to=<R>, ... status=sent | deferred | bounced | expired
 *   cleanup  QID: reject: header|body ... ; from=<S> to=<R>: 5.7.1 TEXT
 *
 * Pure; the per-process TLS state lives in the input's sessions. */
#include <stdio.h>
#include <string.h>

#include "logs_int.h"

#include "banned.h"

/* "postfix/mx/smtpd" -> "smtpd" */
static struct smtprobe_log_str service(struct smtprobe_log_str prog)
{
	const char *slash = NULL;

	for (size_t i = 0; i < prog.n; i++)
		if (prog.p[i] == '/')
			slash = prog.p + i;
	return logs_after(prog, slash ? slash + 1 : prog.p);
}

static struct smtprobe_log_str pid_key(const struct logs_line *l, char *buf,
                                       size_t bufsz)
{
	int n = snprintf(buf, bufsz, "pid %u", l->pid);

	return (struct smtprobe_log_str){buf, n > 0 ? (size_t)n : 0};
}

/* "554 5.7.1 <x>: Relay access denied; from=<...> ...": code and text
 * (the text ends before the envelope) */
static void reply_part(struct smtprobe_log_str r, struct smtprobe_log_event *ev)
{
	const char *semi = logs_find(r, "; from=");

	if (semi)
		r.n = (size_t)(semi - r.p);
	logs_reply(r, ev);
}

static void reject(struct smtprobe_log_str m, const char *at,
                   struct smtprobe_log_event *ev)
{
	struct smtprobe_log_str r = logs_after(m, at);
	const char *colon;

	ev->kind = SMTPROBE_LE_REJECT;
	ev->client = logs_bracket(r);
	/* "RCPT from NAME[ADDR]: 554 ..." */
	colon = ev->client.p ? logs_find(logs_after(r, ev->client.p), "]: ")
	                     : NULL;
	if (colon && !logs_starts(r, "header ") && !logs_starts(r, "body "))
		reply_part(logs_after(r, colon + 3), ev);
	else {
		/* cleanup: "header Subject: x from h[a]; from=<> to=<>: 5.7.1
		 * text" - the text after the last ": " of the envelope */
		const char *to = logs_find(r, " to=<");
		const char *c = to ? logs_find(logs_after(r, to), ">: ") : NULL;
		if (c)
			reply_part(logs_after(r, c + 3), ev);
	}
	ev->sender = logs_trim_angle(logs_value(r, "from=", " ;,"));
	ev->rcpt = logs_trim_angle(logs_value(r, "to=", " ;,"));
	ev->reject = smtprobe_log_classify(ev->code, ev->text.p, ev->text.n);
}

static void smtpd(struct smtprobe_log_input *in, const struct logs_line *l,
                  struct smtprobe_log_event *ev)
{
	struct smtprobe_log_str m = l->msg;
	struct smtprobe_log_session *s;
	const char *p;
	char key[24];

	if (logs_starts(m, "connect from ")) {
		ev->kind = SMTPROBE_LE_CONNECT;
		ev->client = logs_bracket(m);
		return;
	}
	if (logs_starts(m, "disconnect from ")) {
		struct smtprobe_log_str a = logs_value(m, "auth=", " /");
		unsigned ok = 0;
		size_t i = 0;
		/* "auth=N" or "auth=N/M": N successes; anything else none */
		for (; i < a.n && i < 6 && logs_is_digit(a.p[i]); i++)
			ok = ok * 10 + (unsigned)(a.p[i] - '0');
		if (a.n && i == a.n && ok > 0) {
			ev->kind = SMTPROBE_LE_AUTH_OK;
			ev->count = ok;
			ev->client = logs_bracket(m);
		}
		return;
	}
	if (logs_starts(m, "warning: ") &&
	    (p = logs_find(m, " authentication failed")) != NULL &&
	    logs_find(m, ": SASL ")) {
		ev->kind = SMTPROBE_LE_AUTH_FAIL;
		ev->client = logs_bracket(m);
		ev->user = logs_value(m, "sasl_username=", " ,");
		if (logs_eq(ev->user, "(unavailable)"))
			ev->user = (struct smtprobe_log_str){NULL, 0};
		ev->text = logs_after(m, p + 1);
		return;
	}
	if ((p = logs_find(m, "TLS connection established from ")) != NULL) {
		struct smtprobe_log_str r = logs_after(m, p);
		const char *c = logs_find(r, "]: ");
		ev->kind = SMTPROBE_LE_TLS_OK;
		ev->client = logs_bracket(r);
		if (c) {
			r = logs_after(r, c + 3);
			const char *sp = logs_chr(r, ' ');
			ev->protocol = (struct smtprobe_log_str){
			        r.p, sp ? (size_t)(sp - r.p) : r.n};
			ev->cipher = logs_value(r, "cipher ", " ");
		}
		return;
	}
	if (logs_starts(m, "SSL_accept error from ")) {
		const char *c = logs_find(m, "]: ");
		struct smtprobe_log_str why =
		        c ? logs_after(m, c + 3) : (struct smtprobe_log_str){0};
		ev->client = logs_bracket(m);
		if (logs_eq(why, "-1")) {
			/* the cause is on the next line of this process */
			s = logs_session(in, pid_key(l, key, sizeof(key)), 1);
			if (s) {
				logs_copy(s->client, sizeof(s->client),
				          ev->client);
				s->tls_failed = 1;
				ev->client = (struct smtprobe_log_str){0};
				return;
			}
		}
		ev->kind = SMTPROBE_LE_TLS_FAIL;
		ev->text = why;
		ev->tls_cause = logs_tls_cause(why);
		return;
	}
	if (logs_starts(m, "warning: TLS library problem: ") ||
	    logs_starts(m, "lost connection after STARTTLS from ") ||
	    logs_starts(m, "timeout after STARTTLS from ")) {
		s = logs_session(in, pid_key(l, key, sizeof(key)), 0);
		int timeout = logs_starts(m, "timeout after");
		if (!timeout && (s == NULL || !s->tls_failed))
			return; /* said already, or not about a handshake */
		ev->kind = SMTPROBE_LE_TLS_FAIL;
		ev->text = m;
		ev->tls_cause =
		        timeout ? SMTPROBE_LT_TIMEOUT : logs_tls_cause(m);
		ev->client = logs_bracket(m);
		if (s && s->tls_failed) {
			if (ev->client.n == 0 || logs_starts(m, "warning"))
				ev->client = logs_str(s->client);
			s->tls_failed = 0;
		}
		return;
	}
	if ((p = logs_find(m, ": reject: ")) != NULL ||
	    (p = logs_find(m, ": milter-reject: ")) != NULL) {
		const char *sp =
		        memchr(p + 2, ' ', m.n - (size_t)(p + 2 - m.p));
		reject(m, sp + 1, ev); /* the needle has the space */
		return;
	}
	if (logs_starts(m, "warning: Connection rate limit exceeded") ||
	    logs_starts(m, "warning: Connection concurrency limit exceeded") ||
	    logs_starts(m, "warning: Message delivery request rate limit") ||
	    logs_starts(m, "warning: Recipient address rate limit")) {
		ev->kind = SMTPROBE_LE_REJECT;
		ev->reject = SMTPROBE_LR_RATE;
		ev->client = logs_bracket(m);
		ev->text = logs_after(m, m.p + 9);
	}
}

static void delivery(struct smtprobe_log_str m, struct smtprobe_log_event *ev)
{
	struct smtprobe_log_str st = logs_value(m, "status=", " ");

	if (st.n == 0 || !logs_find(m, " to=<"))
		return;
	if (logs_eq(st, "sent"))
		ev->kind = SMTPROBE_LE_DELIVERED;
	else if (logs_eq(st, "deferred"))
		ev->kind = SMTPROBE_LE_DEFERRED;
	else if (logs_eq(st, "bounced") || logs_eq(st, "expired"))
		ev->kind = SMTPROBE_LE_BOUNCED;
	else
		return;
	ev->rcpt = logs_trim_angle(logs_value(m, "to=", ","));
	const char *paren = logs_find(logs_after(m, st.p), "(");
	if (paren) {
		ev->text = logs_after(m, paren + 1);
		if (ev->text.n && ev->text.p[ev->text.n - 1] == ')')
			ev->text.n--;
	}
}

enum smtprobe_log_format logs_postfix(struct smtprobe_log_input *in,
                                      const struct logs_line *l,
                                      struct smtprobe_log_event *ev)
{
	struct smtprobe_log_str svc = service(l->prog);

	if (logs_eq(svc, "smtpd"))
		smtpd(in, l, ev);
	else if (logs_eq(svc, "postscreen")) {
		const char *p = logs_find(l->msg, ": reject: ");
		if (p)
			reject(l->msg, p + 10, ev);
	} else if (logs_eq(svc, "smtp") || logs_eq(svc, "lmtp") ||
	           logs_eq(svc, "local") || logs_eq(svc, "virtual") ||
	           logs_eq(svc, "pipe") || logs_eq(svc, "discard") ||
	           logs_eq(svc, "error") || logs_eq(svc, "retry") ||
	           logs_eq(svc, "relay"))
		delivery(l->msg, ev);
	else if (logs_eq(svc, "cleanup")) {
		const char *p = logs_find(l->msg, ": reject: ");
		if (p == NULL)
			p = logs_find(l->msg, ": milter-reject: ");
		if (p) /* ": reject: " has its space: the reason follows it */
			reject(l->msg,
			       (const char *)memchr(
			               p + 2, ' ',
			               l->msg.n - (size_t)(p + 2 - l->msg.p)) +
			               1,
			       ev);
	}
	return SMTPROBE_LF_POSTFIX;
}
