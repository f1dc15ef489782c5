/* opensmtpd.c - OpenSMTPD's log lines (logs_int.h): in the foreground
 * (smtpd -d, "SESSION smtp ..." without a time) and through syslog
 * ("smtpd[PID]: SESSION smtp ..."). SESSION is 16 hex digits; most lines
 * name nothing else, so the client's address (and its AUTH name) is kept
 * per session in the input's table from the lines that say it.
 *
 *   S smtp connected address=A host=H            connect (A kept; "local"
 *                                                 is a local submission:
 *                                                 kept, not a connection)
 *   S smtp tls ciphers=PROTO:CIPHER:BITS         TLS
 *   S smtp authentication user=U result=ok       AUTH success (U kept)
 *                     result=permfail|tempfail   AUTH failure
 *   S smtp failed-command command="C" result="NNN TEXT"
 *       C (as the client typed it: "rcpt TO:<x>") MAIL, RCPT, DATA, BDAT,
 *       HELO, EHLO: a rejection; "550 Invalid recipient" is relay denied
 *       (what OpenSMTPD says when no rule accepts the recipient), 524
 *       5.2.4 an unknown local user, the rest by smtprobe_log_classify.
 *       AUTH: 501 (bad base64, cancelled) is an AUTH failure with no
 *       authentication line of its own; its 535 and 421 follow one, its
 *       503 and 504 checked no credentials: nothing. Other commands:
 *       nothing (an unknown command is no policy decision)
 *   S smtp disconnected reason="io-error: ...SSL..."   TLS failure (the
 *       handshake's only trace), also reason=ca-failure and the client
 *       certificate checks (no-ca, no-client-cert, cert-invalid,
 *       cert-check-failed); the session is forgotten
 *   S mda|mta delivery ... result=Ok|TempFail|PermFail stat=TEXT
 *                                                 delivered, deferred,
 *                                                 bounced
 *   relay|delivery: Expire for EVPID: from=<S>, to=<R>, ...    bounced
 *
 * Every other line of smtpd's counts for nothing. Quoted values end at a
 * quote followed by " key=" or by the line's end: the command is the
 * client's text and may hold quotes, so a hostile one can shift what is
 * read - within the line, never past it. Pure; the sessions are a ring in
 * the input (a session older than SMTPROBE_LOG_SESSIONS others loses its
 * address). */
#include <string.h>

#include "logs_int.h"

#include "banned.h"

#define SESSION_ID_LEN 16

/* the first word of s, compared without case against an upper-case word */
static int verb_is(struct smtprobe_log_str s, const char *upper)
{
	size_t n = strlen(upper);

	if (s.n < n || (s.n > n && s.p[n] != ' ' && s.p[n] != ':'))
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s.p[i];
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (c != upper[i])
			return 0;
	}
	return 1;
}

/* the value of key=, without its quotes when quoted: a quoted value ends
 * at a quote followed by " word=" or by the end of the line */
static struct smtprobe_log_str value(struct smtprobe_log_str m, const char *key)
{
	struct smtprobe_log_str v = logs_value(m, key, " ");
	const char *end = m.p + m.n, *q;

	if (v.n == 0 || v.p[0] != '"')
		return v;
	v.p++;
	for (q = v.p; q < end; q++) {
		q = memchr(q, '"', (size_t)(end - q));
		if (q == NULL || q + 1 == end)
			break;
		if (q[1] != ' ')
			continue;
		const char *w = q + 2;
		while (w < end && ((*w >= 'a' && *w <= 'z') || *w == '-'))
			w++;
		if (w > q + 2 && w < end && *w == '=')
			break;
	}
	if (q == NULL)
		q = end;
	v.n = (size_t)(q - v.p);
	return v;
}

/* a disconnect reason that is a TLS failure */
static int tls_reason(struct smtprobe_log_str r)
{
	static const char *const cert[] = {"ca-failure", "no-ca",
	                                   "no-client-cert", "cert-invalid",
	                                   "cert-check-failed"};

	/* an OpenSSL error string ("error:0A00009C:SSL routines::...") or
	 * libtls' words; not strerror()'s */
	if (logs_starts(r, "io-error: "))
		return logs_starts(logs_after(r, r.p + 10), "error:") ||
		       logs_find(r, "SSL") || logs_find(r, "TLS") ||
		       logs_find(r, "handshake");
	for (size_t i = 0; i < sizeof(cert) / sizeof(cert[0]); i++)
		if (logs_eq(r, cert[i]))
			return 1;
	return 0;
}

static void failed_command(struct smtprobe_log_str r,
                           struct smtprobe_log_event *ev)
{
	struct smtprobe_log_str cmd = value(r, "command="), text;
	int code = logs_reply_code(value(r, "result="), &text);

	if (verb_is(cmd, "AUTH")) {
		if (code == 501) {
			ev->kind = SMTPROBE_LE_AUTH_FAIL;
			ev->code = code;
			ev->text = text;
		}
		return;
	}
	if (!verb_is(cmd, "MAIL") && !verb_is(cmd, "RCPT") &&
	    !verb_is(cmd, "DATA") && !verb_is(cmd, "BDAT") &&
	    !verb_is(cmd, "HELO") && !verb_is(cmd, "EHLO"))
		return;
	ev->kind = SMTPROBE_LE_REJECT;
	ev->code = code;
	ev->text = text;
	if (verb_is(cmd, "RCPT"))
		ev->rcpt = logs_cmd_address(cmd);
	else if (verb_is(cmd, "MAIL"))
		ev->sender = logs_cmd_address(cmd);
	if (code == 550 && logs_starts(text, "Invalid recipient"))
		ev->reject = SMTPROBE_LR_RELAY_DENIED;
	else if (code == 524 || logs_starts(text, "5.2.4 "))
		ev->reject = SMTPROBE_LR_RECIPIENT;
	else
		ev->reject = smtprobe_log_classify(code, text.n ? text.p : "",
		                                   text.n);
}

static void smtp(struct smtprobe_log_input *in, struct smtprobe_log_str id,
                 struct smtprobe_log_str r, struct smtprobe_log_event *ev)
{
	struct smtprobe_log_session *s;

	if (logs_starts(r, "connected ")) {
		struct smtprobe_log_str a = logs_value(r, "address=", " ");
		if (a.n >= 2 && a.p[0] == '[' && a.p[a.n - 1] == ']') {
			a.p++; /* IPv6: "[2001:db8::1]" */
			a.n -= 2;
		}
		s = logs_session(in, id, 1);
		if (s) {
			logs_copy(s->client, sizeof(s->client), a);
			s->user[0] = '\0';
			s->tls_failed = 0;
		}
		if (a.n && !logs_eq(a, "local")) {
			ev->kind = SMTPROBE_LE_CONNECT;
			ev->client = a;
		}
		return;
	}
	s = logs_session(in, id, 0);
	if (s)
		ev->client = logs_str(s->client);
	if (logs_starts(r, "tls ")) {
		struct smtprobe_log_str c = logs_value(r, "ciphers=", " ");
		ev->kind = SMTPROBE_LE_TLS_OK;
		ev->protocol = c; /* all of it without a ':' */
		logs_tls_split(c, ev);
	} else if (logs_starts(r, "authentication ")) {
		struct smtprobe_log_str res = logs_value(r, "result=", " ");
		ev->user = logs_value(r, "user=", " ");
		if (logs_eq(res, "ok")) {
			ev->kind = SMTPROBE_LE_AUTH_OK;
			if (s)
				logs_copy(s->user, sizeof(s->user), ev->user);
		} else if (res.n) {
			ev->kind = SMTPROBE_LE_AUTH_FAIL;
			ev->text = res;
		}
	} else if (logs_starts(r, "failed-command ")) {
		failed_command(r, ev);
		if (s && s->user[0] && ev->kind == SMTPROBE_LE_AUTH_FAIL)
			ev->user = logs_str(s->user);
	} else if (logs_starts(r, "disconnected ")) {
		struct smtprobe_log_str why = value(r, "reason=");
		if (tls_reason(why)) {
			ev->kind = SMTPROBE_LE_TLS_FAIL;
			ev->tls_cause = logs_tls_cause(why);
			ev->text = why;
			if (logs_starts(why, "io-error: "))
				ev->text = logs_after(why, why.p + 10);
		}
		/* the session is over: free its slot */
		if (s)
			s->id[0] = '\0';
	}
	if (ev->kind == SMTPROBE_LE_NONE)
		ev->client = ev->user = (struct smtprobe_log_str){NULL, 0};
}

static void delivery(struct smtprobe_log_str r, struct smtprobe_log_event *ev)
{
	struct smtprobe_log_str res = value(r, "result=");

	if (logs_eq(res, "Ok"))
		ev->kind = SMTPROBE_LE_DELIVERED;
	else if (logs_eq(res, "TempFail"))
		ev->kind = SMTPROBE_LE_DEFERRED;
	else if (logs_eq(res, "PermFail"))
		ev->kind = SMTPROBE_LE_BOUNCED;
	else
		return;
	ev->sender = logs_trim_angle(logs_value(r, "from=", " "));
	ev->rcpt = logs_trim_angle(logs_value(r, "to=", " "));
	/* the last field: a bare one may hold spaces ("Error (...)") */
	ev->text = logs_value(r, "stat=", "");
	if (ev->text.n >= 2 && ev->text.p[0] == '"' &&
	    ev->text.p[ev->text.n - 1] == '"') {
		ev->text.p++;
		ev->text.n -= 2;
	}
}

enum smtprobe_log_format logs_opensmtpd(struct smtprobe_log_input *in,
                                        const struct logs_line *l,
                                        struct smtprobe_log_event *ev)
{
	struct smtprobe_log_str m = l->msg, id, r;
	int hex = m.n > SESSION_ID_LEN && m.p[SESSION_ID_LEN] == ' ';

	for (size_t i = 0; hex && i < SESSION_ID_LEN; i++)
		hex = logs_is_hex(m.p[i]);
	if (!hex) {
		/* the queue's expiry of an envelope (syslog only) */
		if (logs_starts(m, "relay: Expire for ") ||
		    logs_starts(m, "delivery: Expire for ")) {
			ev->kind = SMTPROBE_LE_BOUNCED;
			ev->sender =
			        logs_trim_angle(logs_value(m, "from=", ","));
			ev->rcpt = logs_trim_angle(logs_value(m, "to=", ","));
			ev->text = logs_value(m, "stat=", "");
		}
		return SMTPROBE_LF_OPENSMTPD;
	}
	id = (struct smtprobe_log_str){m.p, SESSION_ID_LEN};
	r = logs_after(m, m.p + SESSION_ID_LEN + 1);
	if (logs_starts(r, "smtp "))
		smtp(in, id, logs_after(r, r.p + 5), ev);
	else if (logs_starts(r, "mda delivery ") ||
	         logs_starts(r, "mta delivery "))
		delivery(logs_after(r, r.p + 13), ev);
	return SMTPROBE_LF_OPENSMTPD;
}
