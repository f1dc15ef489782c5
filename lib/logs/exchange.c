/* exchange.c - Exchange's CSV logs (logs_int.h): the message tracking log
 * (MSGTRK*.log) and the SMTP protocol logs (RECV*.log, SEND*.log), each a
 * header of "#Name: value" lines, then CSV rows ("..." quoting where a
 * field holds a comma; "" inside stays doubled in the slices).
 *
 *   #Log-type: Message Tracking Log | SMTP Receive|Send Protocol Log
 *       which log (Microsoft writes "#Log-Type" too: either case)
 *   #Fields: date-time,...   the columns: the index of each field read is
 *       kept in in->col[], in->csv says the log (a header without
 *       date-time, or naming neither event-id nor session-id and event,
 *       is not Exchange's: the CSV ends there)
 *   other #Software/#Version/#Date/#Note lines   nothing
 *
 * Message tracking rows, by event-id:
 *   DELIVER, SEND        delivered      } rcpt = recipient-address (several
 *   DEFER                deferred       } separated by ';': count = how
 *   FAIL                 bounced        } many), sender, recipient-status
 *   anything else (RECEIVE, DSN, EXPAND ...), and a SEND over the
 *   "Intra-Organization SMTP Send Connector" (a hop between the
 *   organisation's own servers, the DELIVER follows)          nothing
 *
 * SMTP Receive protocol rows (one per protocol event of a session), by
 * event; the client is the remote-endpoint's address:
 *   +                    connect
 *   > 235                AUTH success (the name from the session's
 *                        "*,DOMAIN\name,authenticated" row, without DOMAIN\)
 *   > 535, > 454 ...authentication...   AUTH failure (no name: the log
 *                        shows "<authentication response>")
 *   > 4xx/5xx            rejection: code, text, the session's last MAIL
 *                        FROM and RCPT TO; 5.7.54 relay denied, 5.7.57
 *                        AUTH required, 5.7.60 send-as, 5.1.10 unknown
 *                        recipient, else smtprobe_log_classify; 421 4.4.x
 *                        (timeouts, lost connections) is none
 *   * TLS protocol P negotiation succeeded using bulk encryption
 *     algorithm C ...    TLS (P named as OpenSSL does: "TLSv1.2", a
 *                        static string; C the bulk algorithm, a slice)
 *   * TLS negotiation failed with error E    TLS failure (E: SocketError
 *                        closed, IllegalMessage not TLS, AlgorithmMismatch
 *                        no shared cipher, NoCredentials certificate ...)
 * Send protocol logs are our own outgoing sessions: nothing.
 *
 * Per session (the input's table, by session-id): the AUTH name from its
 * "authenticated" row to the 235; the last MAIL FROM address (in the
 * session's client field: a row names its client itself) and the last
 * RCPT TO address (in its user field, stored as "<addr>" to tell it from
 * an AUTH name). A row before any #Fields, or whose date-time is not a
 * time, counts for nothing; a field past the line's end is absent. Pure,
 * no allocation; a #Fields line of any length is read in one pass. */
#include <string.h>

#include "logs_int.h"

#include "banned.h"

/* the slots of in->col[]: the columns read, then what the header said */
enum col {
	COL_TIME,
	COL_SESSION, /* SMTP protocol log */
	COL_REMOTE,
	COL_EVENT,
	COL_DATA,
	COL_CONTEXT,
	COL_CLIENT_IP, /* message tracking */
	COL_EVENT_ID,
	COL_RCPT,
	COL_RCPT_STATUS,
	COL_SENDER,
	COL_CONNECTOR,
	COL_FIELDS, /* the number of columns above; not columns: */
	COL_SEND_LOG = COL_FIELDS, /* the last #Log-type said Send (our own
	                              outgoing sessions) */
	COL_ANNOUNCED, /* the log the header block announced (a format) */
	COL_LAST
};
_Static_assert(COL_LAST <= SMTPROBE_LOG_COLUMNS, "in->col[] too small");

static const struct {
	const char *name;
	enum col col;
} columns[] = {
        {"date-time", COL_TIME},
        {"session-id", COL_SESSION},
        {"remote-endpoint", COL_REMOTE},
        {"event", COL_EVENT},
        {"data", COL_DATA},
        {"context", COL_CONTEXT},
        {"client-ip", COL_CLIENT_IP},
        {"event-id", COL_EVENT_ID},
        {"recipient-address", COL_RCPT},
        {"recipient-status", COL_RCPT_STATUS},
        {"sender-address", COL_SENDER},
        {"connector-id", COL_CONNECTOR},
};

/* Exchange's enhanced codes whose kind is known */
static const struct {
	const char *enhanced;
	enum smtprobe_log_reject kind;
} ex_codes[] = {
        {"5.7.54 ", SMTPROBE_LR_RELAY_DENIED},
        {"5.7.57 ", SMTPROBE_LR_AUTH_REQUIRED},
        {"5.7.60 ", SMTPROBE_LR_SENDER_LOGIN},
        {"5.1.10 ", SMTPROBE_LR_RECIPIENT},
};

/* SChannel's names of the protocol, as OpenSSL's servers log them */
static const struct {
	const char *schannel, *name;
} protocols[] = {
        {"SP_PROT_TLS1_3", "TLSv1.3"}, {"SP_PROT_TLS1_2", "TLSv1.2"},
        {"SP_PROT_TLS1_1", "TLSv1.1"}, {"SP_PROT_TLS1_0", "TLSv1"},
        {"SP_PROT_TLS1_", "TLSv1"},    {"SP_PROT_SSL3", "SSLv3"},
};

/* "TLS negotiation failed with error E" */
static const struct {
	const char *error;
	enum smtprobe_log_tls_cause cause;
} tls_errors[] = {
        {"SocketError", SMTPROBE_LT_CLOSED},
        {"IllegalMessage", SMTPROBE_LT_NOT_TLS},
        {"AlgorithmMismatch", SMTPROBE_LT_NO_SHARED},
        {"NoCredentials", SMTPROBE_LT_CERT_PROBLEM},
        {"CertExpired", SMTPROBE_LT_CERT_PROBLEM},
        {"UntrustedRoot", SMTPROBE_LT_CLIENT_ALERT},
        {"CertUnknown", SMTPROBE_LT_CLIENT_ALERT},
        {"Timeout", SMTPROBE_LT_TIMEOUT},
        {"TimedOut", SMTPROBE_LT_TIMEOUT},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* s starts with prefix (lower case), whatever the case of s */
static int starts_ci(struct smtprobe_log_str s, const char *prefix)
{
	size_t n = strlen(prefix);

	if (s.n < n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (lower(s.p[i]) != prefix[i])
			return 0;
	return 1;
}

/* ---- the header ---- */

static enum smtprobe_log_format header(struct smtprobe_log_input *in,
                                       struct smtprobe_log_str h)
{
	/* #Software comes first, before the log is named: until #Log-type
	 * says which, the block is counted as message tracking's */
	if (logs_starts(h, "#Software: Microsoft Exchange"))
		in->col[COL_ANNOUNCED] = SMTPROBE_LF_EXCHANGE_TRACKING;
	if (starts_ci(h, "#log-type:")) {
		in->col[COL_SEND_LOG] = logs_find(h, "Send") != NULL;
		if (logs_find(h, "Tracking"))
			in->col[COL_ANNOUNCED] = SMTPROBE_LF_EXCHANGE_TRACKING;
		else if (logs_find(h, "Protocol"))
			in->col[COL_ANNOUNCED] = SMTPROBE_LF_EXCHANGE_SMTP;
	}
	if (!starts_ci(h, "#fields:"))
		return in->col[COL_ANNOUNCED] != SMTPROBE_LF_UNKNOWN
		               ? (enum smtprobe_log_format)
		                         in->col[COL_ANNOUNCED]
		               : in->csv;
	for (int k = 0; k < COL_FIELDS; k++)
		in->col[k] = -1;
	struct smtprobe_log_str f = logs_after(h, h.p + 8);
	int idx = 0;
	while (f.n) {
		const char *c = logs_chr(f, ',');
		struct smtprobe_log_str name = {f.p,
		                                c ? (size_t)(c - f.p) : f.n};
		while (name.n && name.p[0] == ' ') {
			name.p++;
			name.n--;
		}
		while (name.n && name.p[name.n - 1] == ' ')
			name.n--;
		for (size_t i = 0; i < N(columns); i++)
			if (in->col[columns[i].col] < 0 &&
			    logs_eq(name, columns[i].name))
				in->col[columns[i].col] = idx;
		if (c == NULL || idx == 1000000)
			break;
		f = logs_after(f, c + 1);
		idx++;
	}
	if (in->col[COL_TIME] >= 0 && in->col[COL_EVENT_ID] >= 0)
		in->csv = SMTPROBE_LF_EXCHANGE_TRACKING;
	else if (in->col[COL_TIME] >= 0 && in->col[COL_SESSION] >= 0 &&
	         in->col[COL_EVENT] >= 0)
		in->csv = SMTPROBE_LF_EXCHANGE_SMTP;
	else
		in->csv = SMTPROBE_LF_UNKNOWN;
	return in->csv;
}

/* ---- a row ---- */

/* the fields at the columns of in->col[] (absent: {NULL, 0}), in one
 * pass that stops after the last column wanted */
static void split(const struct smtprobe_log_input *in, const char *line,
                  size_t len, struct smtprobe_log_str *out)
{
	int last = -1, idx = 0;
	size_t i = 0;

	for (int k = 0; k < COL_FIELDS; k++) {
		out[k] = logs_none();
		if (in->col[k] > last)
			last = in->col[k];
	}
	while (idx <= last) {
		struct smtprobe_log_str f = {line + i, 0};
		const char *c;
		if (i < len && line[i] == '"') {
			/* up to the quote not doubled ("" is one inside) */
			size_t j = i + 1;
			for (;;) {
				const char *q =
				        j < len ? memchr(line + j, '"', len - j)
				                : NULL;
				if (q == NULL) {
					j = len; /* unterminated: to the end */
					break;
				}
				j = (size_t)(q - line);
				if (j + 1 >= len || line[j + 1] != '"')
					break;
				j += 2;
			}
			f = (struct smtprobe_log_str){line + i + 1, j - i - 1};
			i = j < len ? j + 1 : len;
			c = i < len ? memchr(line + i, ',', len - i) : NULL;
		} else {
			c = i < len ? memchr(line + i, ',', len - i) : NULL;
			f.n = (c ? (size_t)(c - line) : len) - i;
		}
		if (f.n == 0)
			f = logs_none();
		for (int k = 0; k < COL_FIELDS; k++)
			if (in->col[k] == idx)
				out[k] = f;
		if (c == NULL)
			break;
		i = (size_t)(c - line) + 1;
		idx++;
	}
}

static void tracking(struct smtprobe_log_str *f, struct smtprobe_log_event *ev)
{
	struct smtprobe_log_str id = f[COL_EVENT_ID], r = f[COL_RCPT];

	/* a SEND over the implicit connector between the organisation's
	 * own servers is a hop on the way to a DELIVER, not a delivery */
	if (logs_eq(id, "DELIVER") ||
	    (logs_eq(id, "SEND") &&
	     !logs_find(f[COL_CONNECTOR], "Intra-Organization")))
		ev->kind = SMTPROBE_LE_DELIVERED;
	else if (logs_eq(id, "DEFER"))
		ev->kind = SMTPROBE_LE_DEFERRED;
	else if (logs_eq(id, "FAIL"))
		ev->kind = SMTPROBE_LE_BOUNCED;
	else
		return;
	ev->rcpt = r;
	ev->count = 0;
	for (size_t i = 0; i < r.n; i++) {
		const char *semi = memchr(r.p + i, ';', r.n - i);
		size_t end = semi ? (size_t)(semi - r.p) : r.n;
		if (end > i)
			ev->count++;
		i = end;
	}
	if (ev->count == 0)
		ev->count = 1;
	ev->sender = f[COL_SENDER];
	ev->client = f[COL_CLIENT_IP];
	if (ev->kind != SMTPROBE_LE_DELIVERED)
		ev->code = logs_reply_code(f[COL_RCPT_STATUS], &ev->text);
}

/* "127.0.0.1:25", "[2001:db8::1]:25": the address */
static struct smtprobe_log_str address(struct smtprobe_log_str e)
{
	const char *colon;

	if (e.n && e.p[0] == '[') {
		const char *close = logs_chr(e, ']');
		if (close)
			return (struct smtprobe_log_str){
			        e.p + 1, (size_t)(close - e.p - 1)};
		return e;
	}
	colon = logs_chr(e, ':');
	if (colon && memchr(colon + 1, ':', e.n - (size_t)(colon + 1 - e.p)))
		return e; /* a bare IPv6 address */
	if (colon)
		e.n = (size_t)(colon - e.p);
	return e;
}

/* a client's command: what the session remembers of it */
static void command(struct smtprobe_log_session *s, struct smtprobe_log_str d)
{
	if (starts_ci(d, "mail from:")) {
		logs_copy(s->client, sizeof(s->client), logs_cmd_address(d));
		s->user[0] = '\0';
	} else if (starts_ci(d, "rcpt to:")) {
		s->user[0] = '<';
		logs_copy(s->user + 1, sizeof(s->user) - 1,
		          logs_cmd_address(d));
	} else if (starts_ci(d, "auth") || starts_ci(d, "ehlo") ||
	           starts_ci(d, "helo") || starts_ci(d, "rset")) {
		s->client[0] = '\0';
		s->user[0] = '\0';
	}
}

static void server_reply(struct smtprobe_log_session *s,
                         struct smtprobe_log_str d,
                         struct smtprobe_log_event *ev)
{
	struct smtprobe_log_str text;
	int code = logs_reply_code(d, &text);

	/* 421 4.4.x: a timeout, a lost connection - no refusal */
	if ((code < 400 && code != 235) ||
	    (code == 421 && logs_starts(text, "4.4.")))
		return;
	ev->code = code;
	ev->text = text;
	if (code == 235) {
		ev->kind = SMTPROBE_LE_AUTH_OK;
		if (s && s->user[0] && s->user[0] != '<')
			ev->user = logs_str(s->user);
		return;
	}
	if (code == 535 ||
	    (code == 454 && (logs_find(text, "authentication") ||
	                     logs_find(text, "Authentication")))) {
		ev->kind = SMTPROBE_LE_AUTH_FAIL;
		return;
	}
	ev->kind = SMTPROBE_LE_REJECT;
	if (s && s->client[0])
		ev->sender = logs_str(s->client);
	if (s && s->user[0] == '<')
		ev->rcpt = logs_after(logs_str(s->user), s->user + 1);
	ev->reject = SMTPROBE_LR_LAST;
	for (size_t i = 0; i < N(ex_codes); i++)
		if (logs_starts(text, ex_codes[i].enhanced))
			ev->reject = ex_codes[i].kind;
	if (ev->reject == SMTPROBE_LR_LAST)
		ev->reject = smtprobe_log_classify(code, text.n ? text.p : "",
		                                   text.n);
}

/* a "*" row: the AUTH name, TLS */
static void information(struct smtprobe_log_session *s,
                        struct smtprobe_log_str d, struct smtprobe_log_str ctx,
                        struct smtprobe_log_event *ev)
{
	if (logs_eq(ctx, "authenticated")) {
		if (s) {
			const char *bs = NULL;
			for (size_t i = 0; i < d.n; i++)
				if (d.p[i] == '\\')
					bs = d.p + i;
			logs_copy(s->user, sizeof(s->user),
			          bs ? logs_after(d, bs + 1) : d);
			if (s->user[0] == '<')
				s->user[0] = '\0';
		}
		return;
	}
	if (logs_starts(ctx, "TLS protocol ") &&
	    logs_find(ctx, " negotiation succeeded")) {
		ev->kind = SMTPROBE_LE_TLS_OK;
		ev->protocol = logs_after(ctx, ctx.p + 13);
		const char *sp = logs_chr(ev->protocol, ' ');
		if (sp)
			ev->protocol.n = (size_t)(sp - ev->protocol.p);
		for (size_t i = 0; i < N(protocols); i++)
			if (logs_starts(ev->protocol, protocols[i].schannel)) {
				ev->protocol = logs_str(protocols[i].name);
				break;
			}
		ev->cipher =
		        logs_value(ctx, "bulk encryption algorithm ", " ,");
		return;
	}
	if (logs_starts(ctx, "TLS negotiation failed with error ")) {
		struct smtprobe_log_str e = logs_after(ctx, ctx.p + 34);
		ev->kind = SMTPROBE_LE_TLS_FAIL;
		ev->text = ctx;
		for (size_t i = 0; i < N(tls_errors); i++)
			if (logs_starts(e, tls_errors[i].error))
				ev->tls_cause = tls_errors[i].cause;
	}
}

static void protocol(struct smtprobe_log_input *in, struct smtprobe_log_str *f,
                     struct smtprobe_log_event *ev)
{
	struct smtprobe_log_str e = f[COL_EVENT];
	struct smtprobe_log_session *s;

	if (in->col[COL_SEND_LOG] || e.n != 1)
		return;
	/* a session is remembered from the rows that tell something */
	s = logs_session(in, f[COL_SESSION],
	                 e.p[0] == '+' || e.p[0] == '<' || e.p[0] == '*');
	ev->client = address(f[COL_REMOTE]);
	switch (e.p[0]) {
	case '+':
		if (s)
			s->client[0] = s->user[0] = '\0';
		ev->kind = SMTPROBE_LE_CONNECT;
		break;
	case '-':
		if (s)
			s->id[0] = '\0'; /* over: free its slot */
		break;
	case '<':
		if (s)
			command(s, f[COL_DATA]);
		break;
	case '>':
		server_reply(s, f[COL_DATA], ev);
		break;
	case '*':
		information(s, f[COL_DATA], f[COL_CONTEXT], ev);
		break;
	default:
		break;
	}
	if (ev->kind == SMTPROBE_LE_NONE)
		ev->client = logs_none();
}

enum smtprobe_log_format logs_exchange(struct smtprobe_log_input *in,
                                       const char *line, size_t len,
                                       struct smtprobe_log_event *ev)
{
	struct smtprobe_log_str f[COL_FIELDS];

	if (len && line[0] == '#')
		return header(in, (struct smtprobe_log_str){line, len});
	if (in->csv == SMTPROBE_LF_UNKNOWN)
		return SMTPROBE_LF_UNKNOWN;
	if (in->col[COL_TIME] < 0)
		return in->csv; /* a row before its #Fields */
	split(in, line, len, f);
	if (f[COL_TIME].n == 0 ||
	    logs_time_iso(in, f[COL_TIME].p, f[COL_TIME].n, &ev->ts) == 0)
		return SMTPROBE_LF_UNKNOWN;
	if (in->csv == SMTPROBE_LF_EXCHANGE_TRACKING)
		tracking(f, ev);
	else
		protocol(in, f, ev);
	return in->csv;
}
