/* exim.c - Exim's mainlog and rejectlog lines (logs_int.h), from its own
 * files ("YYYY-MM-DD hh:mm:ss [+zone] [[pid]] MSG": the dispatcher hands
 * over MSG) or through syslog (exim, exim4: MSG then starts with Exim's
 * own time, and a line syslog split is "[n\m] ..." parts).
 *
 *   SMTP connection from [ADDR]:PORT (TCP/IP connection count = N)
 *                          connect (only with +smtp_connection: Exim
 *                          logs no connection by default)
 *   ID <= SENDER H=... A=AUTHENTICATOR:USER ...   AUTH success: its only
 *                          trace (a session that sends nothing leaves
 *                          none); the next messages of the same session
 *                          (the same ADDR:PORT as the last one) count no
 *                          more
 *   NAME authenticator failed for (HELO) [ADDR]:PORT: 535 TEXT (set_id=U)
 *                          AUTH failure; also "501 Invalid base64 data",
 *                          "553 Initial data not expected", 435; not
 *                          "501 Authentication cancelled" (the client
 *                          gave up before a password: Postfix's
 *                          "authentication aborted", which counts nothing
 *                          either)
 *   TLS error on connection from ... (gnutls_handshake|SSL_accept|..): T
 *                          TLS failure; not "(recv)", "(send)",
 *                          "(uncork)": errors after a handshake that
 *                          worked (the smtps probe closing without
 *                          close_notify)
 *   [ID ]H=... [X=..] [F=<S>] [temporarily ]rejected RCPT <R> | MAIL <S>
 *       | DATA | after DATA | EHLO or HELO H | connection ..: [CODE ]TEXT
 *                          an ACL's rejection: CODE only when the ACL's
 *                          log message has it, else Exim's default (550,
 *                          451 "temporarily", 503 AUTH)
 *   Exim's own rejections (own[] below): unqualified sender/recipient,
 *       bad or refused HELO, MAIL without HELO, too many messages, too
 *       big, too many recipients, synchronization errors, sessions
 *       dropped for errors, refused connections
 *   ID => R <ORIG> ... | ID -> R ...   delivered (count: the address as
 *                          the client sent it, <ORIG> when logged)
 *   ID == R ... defer (N): TEXT        deferred
 *   ID ** R ...: TEXT                  bounced
 *
 * A TLS handshake that worked has no line (only X= on the lines of
 * messages and rejections, once per message): none is reported; X= gives
 * the protocol and cipher of the event it is on.
 *
 * Mainlog and rejectlog, counted once. Exim writes every rejection and
 * every "authenticator failed" line to both logs in the same words; the
 * samples (exim-mainlog.log, exim-rejectlog.log of one run) have nothing
 * in the rejectlog that the mainlog lacks. Lines gated by a log_selector
 * are gated in the mainlog alone: "unqualified ... rejected"
 * (smtp_syntax_error, off by default) is then only in the rejectlog. So a
 * both-logs line counts only in an input known to be a mainlog: one that
 * has shown a line Exim writes to the mainlog alone (a connection, a
 * message, a delivery, a TLS error, a queue run, the daemon's start ...).
 * In an input that has not (a rejectlog, or a mainlog before its first
 * such line) it is kind NONE - unless the caller says the input is a
 * rejectlog read without its mainlog (in->exim_rejectlog_alone: `smtprobe
 * logs` sets it for a file named *rejectlog* when no *mainlog* is given),
 * where it counts. "unqualified ... rejected" counts wherever
 * it is (twice when both logs are given and smtp_syntax_error is on). An
 * ACL's "logwrite = :reject:" text is unknown here and may make a
 * rejectlog look like a mainlog. Through syslog Exim writes a both-logs
 * line twice by default (syslog_duplication): the second of two equal
 * lines of one process in one second counts no more, nor do the parts
 * after the first of a split line.
 *
 * What an input carries over (mainlog or not, the last AUTH success's
 * session, the last both-logs line through syslog) is in two sessions of
 * the input, ids "exim" and "exim syslog". Pure otherwise; no allocation;
 * every field a slice of the line. */
#include <stdio.h>
#include <string.h>

#include "logs_int.h"

#include "banned.h"

typedef struct smtprobe_log_str str_t;

/* in which logs Exim writes a line */
enum where {
	W_MAIN, /* the mainlog alone: tells a mainlog */
	W_BOTH, /* the mainlog and the rejectlog: counts in a mainlog only */
	W_ANY   /* gated in the mainlog: counts wherever it is */
};

#define NO_KIND SMTPROBE_LR_LAST /* "let the classifier say" */

/* Exim's own rejections: the message starts with prefix (after a message
 * id), and holds needle when there is one */
static const struct own_reject {
	const char *prefix, *needle;
	int code;
	enum smtprobe_log_reject kind;
	char addr; /* 'S' sender, 'R' recipient: "<A>" right after prefix */
	enum where where;
} own[] = {
        {"unqualified sender rejected: ", NULL, 501, SMTPROBE_LR_SYNTAX, 'S',
         W_ANY},
        {"unqualified recipient rejected: ", NULL, 501, SMTPROBE_LR_SYNTAX, 'R',
         W_ANY},
        {"rejected EHLO from ", NULL, 501, SMTPROBE_LR_HELO, 0, W_BOTH},
        {"rejected HELO from ", NULL, 501, SMTPROBE_LR_HELO, 0, W_BOTH},
        {"rejected \"EHLO ", NULL, 550, SMTPROBE_LR_HELO, 0, W_BOTH},
        {"rejected \"HELO ", NULL, 550, SMTPROBE_LR_HELO, 0, W_BOTH},
        {"temporarily rejected \"EHLO ", NULL, 451, SMTPROBE_LR_HELO, 0,
         W_BOTH},
        {"temporarily rejected \"HELO ", NULL, 451, SMTPROBE_LR_HELO, 0,
         W_BOTH},
        {"rejected MAIL from ", NULL, 503, SMTPROBE_LR_SYNTAX, 0, W_BOTH},
        {"rejected MAIL command ", NULL, 421, SMTPROBE_LR_RATE, 0, W_BOTH},
        {"rejected MAIL FROM:", NULL, 552, SMTPROBE_LR_SIZE, 'S', W_BOTH},
        {"rejected from ", NULL, 550, NO_KIND, 'S', W_BOTH},
        {"too many recipients: ", NULL, 452, SMTPROBE_LR_RATE, 0, W_BOTH},
        {"SMTP protocol synchronization error ", NULL, 554, SMTPROBE_LR_SYNTAX,
         0, W_BOTH},
        {"SMTP call from ", " dropped: too many ", 421, SMTPROBE_LR_SYNTAX, 0,
         W_BOTH},
        {"refused connection from ", NULL, 554, SMTPROBE_LR_CLIENT, 0, W_BOTH},
        {"temporarily refused connection from ", NULL, 451, SMTPROBE_LR_CLIENT,
         0, W_BOTH},
        {"connection from ", " refused (IP options)", 554, SMTPROBE_LR_CLIENT,
         0, W_BOTH},
        {"rejected XCLIENT from ", NULL, 550, SMTPROBE_LR_OTHER, 0, W_BOTH},
        /* the daemon's, before a session: the mainlog's alone */
        {"Connection from ", " refused: ", 421, SMTPROBE_LR_RATE, 0, W_MAIN},
};

/* GnuTLS's words (gnutls_strerror, alert names) and Exim's own, in
 * order: the first in the text says why; OpenSSL's (Exim built with it)
 * are logs_tls_cause's */
static const struct {
	const char *words;
	enum smtprobe_log_tls_cause cause;
} gnutls_causes[] = {
        {"unexpected TLS packet", SMTPROBE_LT_NOT_TLS},
        {"TLS packet with unexpected length", SMTPROBE_LT_NOT_TLS},
        {"Error decoding the received TLS packet", SMTPROBE_LT_NOT_TLS},
        {"illegal or unsupported version", SMTPROBE_LT_NOT_TLS},
        {"record packet with invalid length", SMTPROBE_LT_NOT_TLS},
        {"No supported cipher suites", SMTPROBE_LT_NO_SHARED},
        {"Could not negotiate a supported cipher suite", SMTPROBE_LT_NO_SHARED},
        {"No common key share", SMTPROBE_LT_NO_SHARED},
        {"Insufficient credentials", SMTPROBE_LT_NO_SHARED},
        {"nappropriate fallback", SMTPROBE_LT_NO_SHARED},
        {"Error in protocol version", SMTPROBE_LT_NO_SHARED},
        {"Insufficient security", SMTPROBE_LT_NO_SHARED},
        {"Handshake failed", SMTPROBE_LT_NO_SHARED},
        {"signature algorithm is not supported", SMTPROBE_LT_NO_SHARED},
        /* a Python (OpenSSL) client refusing our certificate over TLS
         * 1.3 reads so to GnuTLS (as found: exim-mainlog.log) */
        {"Decryption has failed", SMTPROBE_LT_CLIENT_ALERT},
        {"CA is unknown", SMTPROBE_LT_CLIENT_ALERT},
        {"Certificate is bad", SMTPROBE_LT_CLIENT_ALERT},
        {"Unknown certificate", SMTPROBE_LT_CLIENT_ALERT},
        {"Certificate is expired", SMTPROBE_LT_CLIENT_ALERT},
        {"Certificate was revoked", SMTPROBE_LT_CLIENT_ALERT},
        {"Certificate is not supported", SMTPROBE_LT_CLIENT_ALERT},
        {"Access was denied", SMTPROBE_LT_CLIENT_ALERT},
        {"Decrypt error", SMTPROBE_LT_CLIENT_ALERT},
        {"non-properly terminated", SMTPROBE_LT_CLOSED},
        {"Error in the pull function", SMTPROBE_LT_CLOSED},
        {"Error in the push function", SMTPROBE_LT_CLOSED},
        {"closed by peer", SMTPROBE_LT_CLOSED}, /* Exim's, with OpenSSL */
        {"cert/key", SMTPROBE_LT_CERT_PROBLEM},
};

/* ---- what an input carries over ---- */

static struct smtprobe_log_session *state(struct smtprobe_log_input *in,
                                          const char *id, int create)
{
	return logs_session(in, logs_str(id), create);
}

/* Through syslog: the second of two equal both-logs lines of a process in
 * one second (syslog_duplication) - the last one's hash is kept as hex in
 * the session "exim syslog" */
static int syslog_repeat(struct smtprobe_log_input *in,
                         const struct logs_line *l, str_t m)
{
	struct smtprobe_log_session *s = state(in, "exim syslog", 1);
	uint64_t h = 14695981039346656037ULL; /* FNV-1a */
	char hex[24];

	h = (h ^ (uint64_t)l->pid) * 1099511628211ULL;
	h = (h ^ (uint64_t)l->ts) * 1099511628211ULL;
	for (size_t i = 0; i < m.n; i++)
		h = (h ^ (unsigned char)m.p[i]) * 1099511628211ULL;
	snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)h);
	if (s == NULL)
		return 0;
	if (strcmp(s->client, hex) == 0) {
		s->client[0] = '\0'; /* a third equal line is another one */
		return 1;
	}
	snprintf(s->client, sizeof(s->client), "%s", hex);
	return 0;
}

/* ---- pieces of a line ---- */

/* "1xaRHt-0004cX-2G " (4.96) or "1xaRHt-000000004cX-2G3u " (4.97+): the
 * length of a message id and its space at the start of m, 0 none */
static size_t msgid_len(str_t m)
{
	size_t i = 0, part = 0, run = 0, lens[3] = {0, 0, 0};

	for (; i < m.n && i < 24; i++) {
		if (logs_is_alnum(m.p[i])) {
			run++;
			continue;
		}
		if (m.p[i] != '-' || part == 2)
			break;
		lens[part++] = run;
		run = 0;
	}
	lens[2] = run;
	if (part == 2 && i < m.n && m.p[i] == ' ' && lens[0] == 6 &&
	    (lens[1] == 6 || lens[1] == 11) && (lens[2] == 2 || lens[2] == 4))
		return i + 1;
	return 0;
}

/* The client's address in "name (helo) [ADDR]:port ...": the first
 * bracket outside parentheses holding an address (a HELO may be one);
 * *end (when not NULL) is what follows the bracket and its port. */
static str_t host_addr(str_t s, str_t *end)
{
	str_t none = {NULL, 0};
	int depth = 0;

	for (size_t i = 0; i < s.n; i++) {
		char c = s.p[i];
		if (c == '(')
			depth++;
		else if (c == ')' && depth > 0)
			depth--;
		else if (c == '[' && depth == 0) {
			str_t v = logs_bracket(logs_skip(s, i));
			if (v.n == 0 || (!logs_is_digit(v.p[0]) &&
			                 logs_chr(v, ':') == NULL))
				continue;
			if (end) {
				size_t k = (size_t)(v.p + v.n - s.p) + 1;
				if (k + 1 < s.n && s.p[k] == ':' &&
				    logs_is_digit(s.p[k + 1]))
					for (k++;
					     k < s.n && logs_is_digit(s.p[k]);
					     k++)
						;
				*end = logs_skip(s, k);
			}
			return v;
		}
	}
	if (end)
		*end = none;
	return none;
}

/* ADDR:PORT of the client: the key of an SMTP session ("" no port) */
static void session_key(str_t m, str_t addr, char *buf, size_t bufsz)
{
	size_t k, n;

	buf[0] = '\0';
	if (addr.p == NULL)
		return;
	k = (size_t)(addr.p + addr.n - m.p) + 1;
	if (k + 1 >= m.n || m.p[k] != ':' || !logs_is_digit(m.p[k + 1]))
		return;
	for (n = 1; k + n < m.n && logs_is_digit(m.p[k + n]); n++)
		;
	snprintf(buf, bufsz, "%.*s:%.*s", (int)addr.n, addr.p, (int)(n - 1),
	         m.p + k + 1);
}

/* "<addr>" at the start of s, without the angles */
static str_t angle_at(str_t s)
{
	const char *c = s.n && s.p[0] == '<' ? logs_chr(s, '>') : NULL;

	return c ? (str_t){s.p + 1, (size_t)(c - s.p - 1)} : (str_t){NULL, 0};
}

/* X=TLS1.3:CIPHER:256 -> the protocol and the cipher of the event */
static void tls_of(str_t m, struct smtprobe_log_event *ev)
{
	logs_tls_split(logs_value(m, "X=", " "), ev);
}

/* live: the event will count (it is not a both-logs line outside a
 * mainlog); the classifier, the costly part, runs only then */
static void reject(struct smtprobe_log_event *ev, int code,
                   enum smtprobe_log_reject kind, int live)
{
	ev->kind = SMTPROBE_LE_REJECT;
	if (ev->code == 0)
		ev->code = code;
	if (kind != NO_KIND)
		ev->reject = kind;
	else if (!live)
		ev->reject = SMTPROBE_LR_OTHER;
	else /* never NULL to the classifier (a rejection without text) */
		ev->reject = smtprobe_log_classify(
		        ev->code, ev->text.p ? ev->text.p : "", ev->text.n);
}

/* ---- the kinds of line ---- */

/* "[ID ]H=HOST [X=..] [F=<S>] [temporarily ]rejected WHAT: TEXT" */
static int acl_reject(str_t m, struct smtprobe_log_event *ev, int live)
{
	str_t rest, what;
	const char *r;

	ev->client = host_addr(logs_after(m, m.p + 2), &rest);
	/* inbound only: an outbound "H=mx [ADDR]: SMTP error ..." has ':' */
	if (ev->client.p == NULL || rest.n == 0 || rest.p[0] != ' ' ||
	    (r = logs_find(rest, " rejected ")) == NULL)
		return 0;
	int temp = r - rest.p >= 12 && memcmp(r - 12, " temporarily", 12) == 0;
	what = logs_after(m, r + 10);
	ev->sender = logs_trim_angle(
	        logs_value((str_t){rest.p, (size_t)(r - rest.p)}, "F=", " "));
	tls_of((str_t){rest.p, (size_t)(r - rest.p)}, ev);

	/* the text follows the address (an address may hold ": ") */
	str_t tail = what;
	if (logs_starts(what, "RCPT <") || logs_starts(what, "MAIL <")) {
		str_t a = angle_at(logs_skip(what, 5));
		if (what.p[0] == 'R')
			ev->rcpt = a;
		else if (a.p)
			ev->sender = a;
		if (a.p)
			tail = logs_after(what, a.p + a.n);
	}
	const char *colon = logs_find(tail, ": ");
	if (colon)
		logs_reply(logs_after(m, colon + 2), ev);

	enum smtprobe_log_reject kind = NO_KIND;
	int code = temp ? 451 : 550;
	if (logs_starts(what, "EHLO or HELO"))
		kind = SMTPROBE_LR_HELO;
	else if (logs_starts(what, "AUTH"))
		code = temp ? 451 : 503;
	reject(ev, code, kind, live);
	if (ev->reject == SMTPROBE_LR_OTHER && logs_starts(what, "connection"))
		ev->reject = SMTPROBE_LR_CLIENT;
	return 1;
}

/* Exim's own; the table's where, or -1 when m is none of them */
static int own_reject(str_t m, struct smtprobe_log_event *ev, int mainlog)
{
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
		const struct own_reject *o = &own[i];
		if (!logs_starts(m, o->prefix) ||
		    (o->needle && !logs_find(m, o->needle)))
			continue;
		str_t rest = logs_skip(m, strlen(o->prefix));
		str_t a = o->addr ? angle_at(rest) : (str_t){NULL, 0};
		if (o->addr == 'S')
			ev->sender = a;
		else if (o->addr == 'R')
			ev->rcpt = a;
		if (ev->sender.p == NULL)
			ev->sender =
			        logs_trim_angle(logs_value(m, "sender=", " "));
		/* the client: after H= when there is one (the command before
		 * it may hold brackets), else after the address */
		const char *h = logs_find(m, " H=");
		ev->client = host_addr(
		        h ? logs_after(m, h + 3)
		          : logs_after(rest, a.p ? a.p + a.n : rest.p),
		        NULL);
		ev->text = m;
		reject(ev, o->code, o->kind, mainlog || o->where != W_BOTH);
		return (int)o->where;
	}
	return -1;
}

/* "NAME authenticator failed for HOST: CODE TEXT[ (set_id=USER)[: ..]]" */
static void auth_failed(str_t m, struct smtprobe_log_event *ev)
{
	str_t rest;
	const char *set;

	ev->client = host_addr(m, &rest);
	if (!logs_starts(rest, ": "))
		return;
	logs_reply(logs_skip(rest, 2), ev);
	if (ev->code == 501 &&
	    logs_starts(ev->text, "Authentication cancelled"))
		return; /* the client gave up: no attempt */
	ev->kind = SMTPROBE_LE_AUTH_FAIL;
	if ((set = logs_find(ev->text, " (set_id=")) != NULL) {
		str_t u = logs_after(ev->text, set + 9);
		const char *close = logs_find(u, "): ");
		if (close)
			u.n = (size_t)(close - u.p);
		else if (u.n && u.p[u.n - 1] == ')')
			u.n--;
		ev->user = u;
		ev->text.n = (size_t)(set - ev->text.p);
	}
}

/* "TLS error on connection from HOST [I=..] (PREFIX): TEXT" */
static void tls_error(str_t m, struct smtprobe_log_event *ev)
{
	str_t rest;

	ev->client = host_addr(logs_skip(m, 29), &rest);
	const char *o = logs_chr(rest, '(');
	if (o) {
		str_t p = logs_after(rest, o + 1);
		if (logs_starts(p, "recv)") || logs_starts(p, "send)") ||
		    logs_starts(p, "uncork)"))
			return; /* after the handshake */
		const char *c = logs_find(p, "): ");
		ev->text = c ? logs_after(p, c + 3) : p;
	} else
		ev->text =
		        rest.n && rest.p[0] == ' ' ? logs_skip(rest, 1) : rest;
	ev->kind = SMTPROBE_LE_TLS_FAIL;
	for (size_t i = 0; i < sizeof(gnutls_causes) / sizeof(gnutls_causes[0]);
	     i++)
		if (logs_find(ev->text, gnutls_causes[i].words)) {
			ev->tls_cause = gnutls_causes[i].cause;
			return;
		}
	ev->tls_cause = logs_tls_cause(ev->text); /* OpenSSL's words */
}

/* "=> R <ORIG> R=.." "== R .. defer (N): TEXT" "** R ..: TEXT" */
static void delivery(str_t r, enum smtprobe_log_kind kind,
                     struct smtprobe_log_event *ev)
{
	str_t a = logs_skip(r, 3);
	const char *sp = logs_chr(a, ' ');

	ev->kind = kind;
	ev->rcpt = (str_t){a.p, sp ? (size_t)(sp - a.p) : a.n};
	if (sp) {
		str_t orig = angle_at(logs_after(a, sp + 1));
		if (orig.n)
			ev->rcpt = orig;
		const char *d = logs_find(a, " defer (");
		const char *c = logs_find(d ? logs_after(a, d) : a, ": ");
		if (c)
			ev->text = logs_after(a, c + 2);
	}
}

/* one line; the logs it is in. st: the input's session "exim" (NULL when
 * the table had no room), mainlog: the input is known to be a mainlog */
static enum where line(struct smtprobe_log_session *st, int mainlog, str_t m,
                       struct smtprobe_log_event *ev)
{
	size_t id = msgid_len(m);
	str_t r = logs_skip(m, id);
	int w;

	if (id) {
		if (logs_starts(r, "<= ")) {
			str_t a = logs_value(r, "A=", " ");
			const char *h = logs_find(r, " H=");
			if (a.n == 0 || h == NULL)
				return W_MAIN;
			str_t rest = logs_after(r, h + 3);
			ev->client = host_addr(rest, NULL);
			const char *colon = logs_chr(a, ':');
			if (colon)
				ev->user = logs_after(a, colon + 1);
			tls_of(r, ev);
			ev->kind = SMTPROBE_LE_AUTH_OK;
			/* the same session's next message: said already */
			char key[64];
			session_key(rest, ev->client, key, sizeof(key));
			if (st && key[0] && strcmp(st->client, key) == 0)
				ev->kind = SMTPROBE_LE_NONE;
			else if (st)
				snprintf(st->client, sizeof(st->client), "%s",
				         key);
			return W_MAIN;
		}
		if (logs_starts(r, "=> ") || logs_starts(r, "-> ")) {
			delivery(r, SMTPROBE_LE_DELIVERED, ev);
			return W_MAIN;
		}
		if (logs_starts(r, "== ")) {
			delivery(r, SMTPROBE_LE_DEFERRED, ev);
			return W_MAIN;
		}
		if (logs_starts(r, "** ")) {
			delivery(r, SMTPROBE_LE_BOUNCED, ev);
			return W_MAIN;
		}
	}
	if (logs_starts(r, "SMTP connection from ")) {
		if (logs_find(r, " (TCP/IP connection count = ")) {
			ev->kind = SMTPROBE_LE_CONNECT;
			ev->client = host_addr(logs_skip(r, 21), NULL);
		}
		return W_MAIN;
	}
	if (logs_starts(r, "TLS error on connection from ")) {
		tls_error(r, ev);
		return W_MAIN;
	}
	if (logs_starts(r, "H=") || logs_starts(r, " DS H=")) {
		str_t h = logs_starts(r, " DS") ? logs_skip(r, 4) : r;
		if (acl_reject(h, ev, mainlog))
			return W_BOTH;
		ev->client = (str_t){NULL, 0};
		if (logs_find(h, " sender verify ") ||
		    logs_find(h, ": discarded by "))
			return W_BOTH; /* said by the rejection's own line */
		return W_MAIN;
	}
	if ((w = own_reject(r, ev, mainlog)) >= 0)
		return (enum where)w;
	const char *sp = logs_chr(r, ' ');
	if (sp &&
	    logs_starts(logs_after(r, sp), " authenticator failed for ")) {
		auth_failed(logs_after(r, sp + 26), ev);
		return W_BOTH;
	}
	if (sp && logs_starts(logs_after(r, sp), " authenticator (")) {
		/* Cyrus SASL's and GNU SASL's details: rejectlog only */
		return W_BOTH;
	}
	if (logs_find(r, "rejected by local_scan(): ")) {
		ev->client = host_addr(r, NULL);
		ev->text = r;
		reject(ev, 550, SMTPROBE_LR_OTHER, mainlog);
		return W_BOTH;
	}
	if (logs_starts(r, "local_scan() function ") ||
	    logs_starts(r, "Error or EOF on input from "))
		return W_BOTH;
	return W_MAIN;
}

enum smtprobe_log_format logs_exim(struct smtprobe_log_input *in,
                                   const struct logs_line *l,
                                   struct smtprobe_log_event *ev)
{
	str_t m = l->msg;
	int via_syslog = l->prog.n > 0;

	if (via_syslog) {
		/* "[2\3] ...": a line syslog split (the first part is it) */
		if (m.n > 5 && m.p[0] == '[' && logs_is_digit(m.p[1])) {
			size_t k = 1, part = 0;
			for (; k < m.n && logs_is_digit(m.p[k]) && part < 1000;
			     k++)
				part = part * 10 + (size_t)(m.p[k] - '0');
			const char *close = logs_chr(m, ']');
			if (k < m.n && (m.p[k] == '\\' || m.p[k] == '/') &&
			    close && close - m.p < 16) {
				if (part != 1)
					return SMTPROBE_LF_EXIM;
				m = logs_after(m, close + 1);
				if (m.n && m.p[0] == ' ')
					m = logs_skip(m, 1);
			}
		}
		/* Exim's own time (syslog_timestamp), its pid */
		int64_t ts;
		size_t t = logs_time_iso(in, m.p, m.n, &ts);
		if (t && t < m.n && m.p[t] == ' ')
			m = logs_skip(m, t + 1);
		if (m.n > 2 && m.p[0] == '[' && logs_is_digit(m.p[1])) {
			const char *c = logs_chr(m, ']');
			if (c && c + 1 < m.p + m.n && c[1] == ' ')
				m = logs_after(m, c + 2);
		}
	}
	if (m.n == 0)
		return SMTPROBE_LF_UNKNOWN;

	/* the session exists from the first line: found at once after */
	struct smtprobe_log_session *st = state(in, "exim", 1);
	/* tls_failed holds "a mainlog"; a rejectlog alone counts as one */
	int mainlog = (st && st->tls_failed) || in->exim_rejectlog_alone;
	enum where w = line(st, mainlog, m, ev);
	if (w == W_MAIN && st)
		st->tls_failed = 1;
	else if (w == W_BOTH && ev->kind != SMTPROBE_LE_NONE &&
	         (!mainlog || (via_syslog && syslog_repeat(in, l, m))))
		ev->kind = SMTPROBE_LE_NONE;
	return SMTPROBE_LF_EXIM;
}
