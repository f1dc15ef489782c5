/* sendmail.c - Sendmail's log lines (logs_int.h): syslog only, programs
 * sm-mta (Debian's daemon), sendmail, sm-msp-queue; "QID: " before most
 * messages (a queue id, or NOQUEUE).
 *
 *   QID: [NAME ][ADDR] did not issue MAIL/EXPN/VRFY/ETRN during connection
 *       to D                           connect: the end of a session that
 *                                      sent no MAIL (LogLevel 9, the
 *                                      default, logs no connect)
 *   QID: from=<S>, ..., daemon=D, relay=[NAME ][ADDR]   connect: the first
 *                                      of a session that sent MAIL (a
 *                                      session is a process: its pid)
 *   AUTH=server, relay=[ADDR], authid=USER, mech=M, bits=N   AUTH success
 *   QID: AUTH failure (M): WHY, user=USER, relay=[ADDR]      AUTH failure
 *   STARTTLS=server, relay=[ADDR], version=V, verify=.., cipher=C, ..
 *                                      TLS
 *   STARTTLS=server, error: accept failed=-1, reason=R, SSL_error=N,
 *       errno=N, retry=N, relay=[ADDR] TLS failure (R: OpenSSL's words,
 *                                      read by logs_tls_cause; "unknown"
 *                                      with SSL_error=5: the client went)
 *   QID: ruleset=check_*, arg1=A, relay=[NAME ][ADDR], reject=CODE X.Y.Z
 *       TEXT                           rejection (check_rcpt: A the
 *                                      recipient; check_mail: the sender);
 *                                      "Relaying denied" - also with "IP
 *                                      name lookup failed [ADDR]" or
 *                                      "Relaying temporarily denied.
 *                                      Cannot resolve PTR record" - is
 *                                      relay denied, not the client's DNS
 *   QID: Milter: from=<S>|to=<R>|..., reject=CODE TEXT   rejection
 *   QID: <R>... User unknown           rejection (550; such lines are
 *                                      logged in SMTP sessions only)
 *   QID: to=<R>[,<R2>..], [ctladdr=<C> (uid/gid),] ..., stat=Sent ..
 *                                      delivered (count: the recipients;
 *                                      to a file or a program the
 *                                      recipient is ctladdr, the address
 *                                      the alias came from); stat=Deferred
 *                                      or dsn=4.x.x: deferred; any other
 *                                      stat but queued: bounced. Not the
 *                                      MSP's (sm-msp-queue): its "Sent" is
 *                                      the hand-over to the MTA
 *
 * Each line is one event. What ties lines together is a session per
 * process ("sm PID" in the input's sessions: tls_failed "its connect
 * counted", client the time of its last from= line), so a session with
 * several messages counts one connection; a pid seen again after an hour
 * is another session. Pure otherwise; no allocation; every field a slice
 * of the line. */
#include <stdio.h>
#include <string.h>

#include "logs_int.h"

#include "banned.h"

typedef struct smtprobe_log_str str_t;

/* "6B75TWEL018286: " or "NOQUEUE: ": its length, 0 none */
static size_t qid_len(str_t m)
{
	size_t i = 0;

	while (i < m.n && i <= 20 && logs_is_alnum(m.p[i]))
		i++;
	return i >= 7 && i <= 20 && i + 1 < m.n && m.p[i] == ':' &&
	                       m.p[i + 1] == ' '
	               ? i + 2
	               : 0;
}

/* the client of "relay=[NAME ][ADDR][ (may be forged)]" */
static str_t relay_addr(str_t m)
{
	str_t r = logs_value(m, "relay=", ",");

	return logs_bracket(r);
}

/* the value of key up to ", " (a value may hold a comma: to=<a>,<b>) */
static str_t field(str_t m, const char *key)
{
	str_t v = logs_value(m, key, "");
	const char *end = logs_find(v, ", ");

	if (end)
		v.n = (size_t)(end - v.p);
	return v;
}

/* a connection: once per session, a process: a pid's from= lines count
 * one, unless an hour passed since its last (the pid is another
 * session's then); the session's client holds that time */
#define SESSION_GAP 3600

static void connect_once(struct smtprobe_log_input *in,
                         const struct logs_line *l, str_t client,
                         struct smtprobe_log_event *ev)
{
	char key[24];
	struct smtprobe_log_session *s = NULL;

	if (l->has_pid) {
		snprintf(key, sizeof(key), "sm %u", l->pid);
		s = logs_session(in, logs_str(key), 1);
	}
	if (s) {
		int64_t last = 0;
		for (const char *c = s->client; logs_is_digit(*c); c++)
			last = last * 10 + (*c - '0');
		int same = s->tls_failed && l->ts >= 0 && l->ts >= last &&
		           l->ts - last <= SESSION_GAP;
		s->tls_failed = 1;
		snprintf(s->client, sizeof(s->client), "%lld",
		         (long long)(l->ts > 0 ? l->ts : 0));
		if (same)
			return;
	}
	ev->kind = SMTPROBE_LE_CONNECT;
	ev->client = client;
}

/* "ruleset=..., reject=..." and "Milter: ..., reject=..." */
static void reject(str_t m, str_t rej, struct smtprobe_log_event *ev)
{
	str_t ruleset = logs_value(m, "ruleset=", ",");
	str_t arg1 = logs_trim_angle(logs_value(m, "arg1=", ","));

	ev->kind = SMTPROBE_LE_REJECT;
	logs_reply(rej, ev);
	ev->client = relay_addr(m);
	if (ev->client.n == 0 && logs_eq(ruleset, "check_relay"))
		ev->client = logs_value(m, "arg2=", ",");
	if (logs_eq(ruleset, "check_rcpt"))
		ev->rcpt = arg1;
	else if (logs_eq(ruleset, "check_mail"))
		ev->sender = arg1;
	else if (logs_find(m, "Milter: ")) {
		ev->sender = logs_trim_angle(logs_value(m, "from=", ","));
		ev->rcpt = logs_trim_angle(logs_value(m, "to=", ","));
	}
	if (logs_find(ev->text, "Relaying denied") ||
	    logs_find(ev->text, "Relaying temporarily denied")) {
		ev->reject = SMTPROBE_LR_RELAY_DENIED;
		return;
	}
	/* never NULL to the classifier (an empty reject= has no text) */
	ev->reject = smtprobe_log_classify(
	        ev->code, ev->text.p ? ev->text.p : "", ev->text.n);
	if (ev->reject == SMTPROBE_LR_OTHER && logs_eq(ruleset, "check_relay"))
		ev->reject = SMTPROBE_LR_CLIENT;
}

/* "to=<R>[,<R2>], ..., stat=S" */
static void delivery(const struct logs_line *l, str_t m,
                     struct smtprobe_log_event *ev)
{
	str_t to = field(m, "to="), stat = logs_value(m, "stat=", "");
	str_t dsn = logs_value(m, "dsn=", ",");

	if (stat.n == 0 || to.n == 0 || logs_eq(l->prog, "sm-msp-queue"))
		return;
	if (logs_starts(stat, "Sent"))
		ev->kind = SMTPROBE_LE_DELIVERED;
	else if (logs_starts(stat, "Deferred") || (dsn.n && dsn.p[0] == '4'))
		ev->kind = SMTPROBE_LE_DEFERRED;
	else if (logs_starts(stat, "queued") ||
	         logs_starts(stat, "quarantined"))
		return;
	else
		ev->kind = SMTPROBE_LE_BOUNCED;
	ev->text = stat;
	/* recipients: commas outside <...> */
	unsigned n = 1;
	int in_angle = 0;
	for (size_t i = 0; i < to.n; i++) {
		if (to.p[i] == '<')
			in_angle = 1;
		else if (to.p[i] == '>')
			in_angle = 0;
		else if (to.p[i] == ',' && !in_angle && n < 1000000)
			n++;
	}
	ev->count = n;
	const char *comma = logs_chr(to, ',');
	ev->rcpt = to;
	if (comma && to.p[0] != '<')
		ev->rcpt.n = (size_t)(comma - to.p);
	else if (to.p[0] == '<') {
		const char *gt = logs_chr(to, '>');
		if (gt)
			ev->rcpt.n = (size_t)(gt - to.p) + 1;
	}
	ev->rcpt = logs_trim_angle(ev->rcpt);
	/* to a file or a program: the address the alias came from */
	str_t ctl = logs_value(m, "ctladdr=", " ,");
	if (to.p[0] != '<' && ctl.n)
		ev->rcpt = logs_trim_angle(ctl);
}

static void starttls(str_t m, struct smtprobe_log_event *ev)
{
	str_t e;

	if (logs_starts(m, "STARTTLS=server, error: ")) {
		e = logs_skip(m, 24);
		ev->kind = SMTPROBE_LE_TLS_FAIL;
		ev->client = relay_addr(m);
		ev->text = field(m, "reason=");
		if (ev->text.n == 0 || logs_eq(ev->text, "unknown")) {
			/* no reason: an EOF (SSL_ERROR_SYSCALL, errno 0 or
			 * a reset) or what the line says */
			ev->text = e;
			str_t se = logs_value(m, "SSL_error=", ",");
			ev->tls_cause = logs_eq(se, "5") ? SMTPROBE_LT_CLOSED
			                                 : logs_tls_cause(e);
			return;
		}
		ev->tls_cause = logs_tls_cause(ev->text);
		return;
	}
	if (logs_starts(m, "STARTTLS=server, relay=") &&
	    logs_find(m, ", version=")) {
		ev->kind = SMTPROBE_LE_TLS_OK;
		ev->client = relay_addr(m);
		ev->protocol = logs_value(m, "version=", ",");
		ev->cipher = logs_value(m, "cipher=", ",");
	}
}

enum smtprobe_log_format logs_sendmail(struct smtprobe_log_input *in,
                                       const struct logs_line *l,
                                       struct smtprobe_log_event *ev)
{
	str_t m = l->msg;
	size_t q = qid_len(m);
	str_t r = logs_skip(m, q);
	const char *p;

	if (logs_starts(r, "STARTTLS=server")) {
		starttls(r, ev);
		return SMTPROBE_LF_SENDMAIL;
	}
	if (logs_starts(r, "AUTH=server, ")) {
		ev->kind = SMTPROBE_LE_AUTH_OK;
		ev->client = relay_addr(r);
		ev->user = logs_value(r, "authid=", ",");
		return SMTPROBE_LF_SENDMAIL;
	}
	if (logs_starts(r, "AUTH failure (")) {
		const char *c = logs_find(r, "): ");
		ev->kind = SMTPROBE_LE_AUTH_FAIL;
		ev->code = 535; /* Sendmail's one reply to a failed AUTH */
		ev->client = relay_addr(r);
		ev->user = logs_value(r, "user=", ",");
		if (c) {
			ev->text = logs_after(r, c + 3);
			const char *u = logs_find(ev->text, ", user=");
			if (u)
				ev->text.n = (size_t)(u - ev->text.p);
		}
		return SMTPROBE_LF_SENDMAIL;
	}
	str_t rej = logs_value(r, "reject=", "");
	if (rej.p) {
		reject(r, rej, ev);
		return SMTPROBE_LF_SENDMAIL;
	}
	if (q && logs_find(r, " did not issue MAIL/EXPN/VRFY/ETRN")) {
		ev->kind = SMTPROBE_LE_CONNECT;
		ev->client = logs_bracket(r);
		return SMTPROBE_LF_SENDMAIL;
	}
	if (q && logs_starts(r, "from=")) {
		if (logs_find(r, ", daemon="))
			connect_once(in, l, relay_addr(r), ev);
		return SMTPROBE_LF_SENDMAIL;
	}
	if (q && logs_starts(r, "to=")) {
		delivery(l, r, ev);
		return SMTPROBE_LF_SENDMAIL;
	}
	if (q && r.n > 1 && r.p[0] == '<' &&
	    (p = logs_find(r, ">... User unknown")) != NULL &&
	    p + 17 == r.p + r.n) {
		ev->kind = SMTPROBE_LE_REJECT;
		ev->code = 550;
		ev->rcpt = (str_t){r.p + 1, (size_t)(p - r.p - 1)};
		ev->text = logs_after(r, p + 5);
		ev->reject = SMTPROBE_LR_RECIPIENT;
	}
	return SMTPROBE_LF_SENDMAIL;
}
