/* parse.c - one log line to one event (logs.h): the layout is told by the
 * line's start, then the parser of its program does the rest.
 *
 *   #...                          Exchange header (#Fields: the columns)
 *   CSV row after such a header   Exchange (message tracking, SMTP receive)
 *   YYYY-MM-DDThh:mm:ss... HOST PROG[PID]: MSG    syslog, RFC 3339
 *   Mmm dd hh:mm:ss HOST PROG[PID]: MSG           syslog, traditional
 *   Mmm dd hh:mm:ss NAME: Level: MSG              Dovecot's own log_path
 *   YYYY-MM-DD hh:mm:ss [+zone] [[pid]] MSG       Exim mainlog / rejectlog
 *   HEX16 smtp ... / info: ... / warn: ...        OpenSMTPD in the
 *                                                 foreground (no time)
 *
 * Syslog programs: a name with a slash is Postfix's (postfix/smtpd, and
 * per-listener names as postlogd writes them: closed/smtpd); dovecot;
 * sendmail, sm-mta, sm-msp-queue; bare smtpd is OpenSMTPD's; exim, exim4.
 * Pure; no allocation. */
#include <string.h>

#include "logs_int.h"

#include "banned.h"

/* " HOST PROG[PID]: MSG" (or "PROG: MSG") after the time */
static int split_syslog(const char *p, size_t n, struct logs_line *l)
{
	const char *end = p + n, *sp, *colon;

	if (p >= end || *p != ' ')
		return -1;
	p++;
	sp = memchr(p, ' ', (size_t)(end - p));
	if (sp == NULL || sp == p)
		return -1;
	l->host = (struct smtprobe_log_str){p, (size_t)(sp - p)};
	p = sp + 1;
	colon = memchr(p, ':', (size_t)(end - p));
	if (colon == NULL || colon == p || colon + 1 >= end || colon[1] != ' ')
		return -1;
	const char *br = memchr(p, '[', (size_t)(colon - p));
	l->prog = (struct smtprobe_log_str){p, (size_t)((br ? br : colon) - p)};
	if (memchr(l->prog.p, ' ', l->prog.n))
		return -1;
	if (br) {
		unsigned pid = 0;
		for (const char *q = br + 1; q < colon && *q != ']'; q++) {
			if (*q < '0' || *q > '9' || pid > 100000000)
				return -1;
			pid = pid * 10 + (unsigned)(*q - '0');
		}
		l->pid = pid;
		l->has_pid = 1;
	}
	l->msg =
	        (struct smtprobe_log_str){colon + 2, (size_t)(end - colon - 2)};
	return 0;
}

/* Dovecot's own file: "NAME: Level: ..." right after the time */
static int dovecot_file(const char *p, size_t n)
{
	static const char *const levels[] = {"Info: ",  "Warning: ", "Error: ",
	                                     "Fatal: ", "Panic: ",   "Debug: "};
	const char *colon;

	if (n < 2 || *p != ' ')
		return 0;
	colon = memchr(p + 1, ':', n - 1);
	if (colon == NULL || memchr(p + 1, ' ', (size_t)(colon - p - 1)) ||
	    (size_t)(colon - p) + 2 > n)
		return 0;
	struct smtprobe_log_str rest = {colon + 2, n - (size_t)(colon - p) - 2};
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (logs_starts(rest, levels[i]))
			return 1;
	return 0;
}

static enum smtprobe_log_format by_program(struct smtprobe_log_input *in,
                                           const struct logs_line *l,
                                           struct smtprobe_log_event *ev)
{
	struct smtprobe_log_str g = l->prog;

	if (logs_chr(g, '/'))
		return logs_postfix(in, l, ev);
	if (logs_eq(g, "dovecot"))
		return logs_dovecot(in, l, ev);
	if (logs_eq(g, "sendmail") || logs_eq(g, "sm-mta") ||
	    logs_eq(g, "sm-msp-queue"))
		return logs_sendmail(in, l, ev);
	if (logs_eq(g, "smtpd"))
		return logs_opensmtpd(in, l, ev);
	if (logs_eq(g, "exim") || logs_eq(g, "exim4"))
		return logs_exim(in, l, ev);
	return SMTPROBE_LF_UNKNOWN;
}

static enum smtprobe_log_format dispatch(struct smtprobe_log_input *in,
                                         const char *line, size_t len,
                                         struct smtprobe_log_event *ev)
{
	struct logs_line l;
	size_t t;

	memset(ev, 0, sizeof(*ev));
	memset(&l, 0, sizeof(l));
	ev->count = 1;
	ev->ts = -1;
	l.ts = -1;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0)
		return SMTPROBE_LF_UNKNOWN;
	if (line[0] == '#' || in->csv != SMTPROBE_LF_UNKNOWN) {
		enum smtprobe_log_format f = logs_exchange(in, line, len, ev);
		if (f != SMTPROBE_LF_UNKNOWN || line[0] == '#')
			return f;
		/* not a row of that CSV: a log appended to it (cat x y) */
		memset(ev, 0, sizeof(*ev));
		ev->count = 1;
		ev->ts = -1;
	}
	if (line[0] >= '0' && line[0] <= '9') {
		t = logs_time_iso(in, line, len, &l.ts);
		if (t == 0)
			goto bare;
		ev->ts = l.ts;
		if (line[10] == 'T' && split_syslog(line + t, len - t, &l) == 0)
			return by_program(in, &l, ev);
		if (line[10] == ' ' && t < len && line[t] == ' ') {
			/* Exim: an optional "[pid] " after the time */
			size_t k = t + 1;
			if (k < len && line[k] == '[') {
				const char *c = memchr(line + k, ']', len - k);
				if (c && (size_t)(c - line) + 2 <= len)
					k = (size_t)(c - line) + 2;
			}
			l.msg = (struct smtprobe_log_str){line + k, len - k};
			return logs_exim(in, &l, ev);
		}
		return SMTPROBE_LF_UNKNOWN;
	}
	t = logs_time_syslog(in, line, len, &l.ts);
	if (t) {
		ev->ts = l.ts;
		if (dovecot_file(line + t, len - t)) {
			l.msg = (struct smtprobe_log_str){line + t + 1,
			                                  len - t - 1};
			return logs_dovecot(in, &l, ev);
		}
		if (split_syslog(line + t, len - t, &l) == 0)
			return by_program(in, &l, ev);
		return SMTPROBE_LF_UNKNOWN;
	}
bare:
	/* OpenSMTPD in the foreground: "1a2b3c4d5e6f7a8b smtp ...",
	 * "info: ...", "warn: ..." */
	if ((len > 17 && line[16] == ' ' && logs_is_hex(line[0]) &&
	     logs_is_hex(line[15])) ||
	    (len > 6 && (memcmp(line, "info: ", 6) == 0 ||
	                 memcmp(line, "warn: ", 6) == 0))) {
		l.msg = (struct smtprobe_log_str){line, len};
		return logs_opensmtpd(in, &l, ev);
	}
	return SMTPROBE_LF_UNKNOWN;
}

enum smtprobe_log_format smtprobe_log_parse(struct smtprobe_log_input *in,
                                            const char *line, size_t len,
                                            struct smtprobe_log_event *ev)
{
	enum smtprobe_log_format f = dispatch(in, line, len, ev);

	if (f == SMTPROBE_LF_UNKNOWN)
		ev->kind = SMTPROBE_LE_NONE;
	ev->format = f;
	if (ev->count == 0)
		ev->count = 1;
	return f;
}

/* ---- names ---- */

const char *smtprobe_log_format_name(enum smtprobe_log_format f)
{
	static const char *const names[] = {
	        "unknown",  "postfix",   "dovecot",           "exim",
	        "sendmail", "opensmtpd", "exchange_tracking", "exchange_smtp"};

	return (unsigned)f < SMTPROBE_LF_LAST ? names[f] : "?";
}

const char *smtprobe_log_kind_name(enum smtprobe_log_kind k)
{
	static const char *const names[] = {
	        "none",     "connect",     "auth_success", "auth_failure",
	        "tls",      "tls_failure", "reject",       "delivered",
	        "deferred", "bounced"};

	return (unsigned)k < SMTPROBE_LE_LAST ? names[k] : "?";
}

const char *smtprobe_log_reject_name(enum smtprobe_log_reject r)
{
	static const char *const names[] = {
	        "other",       "relay_denied",  "sender",
	        "recipient",   "client",        "helo",
	        "greylisting", "rbl",           "size",
	        "rate_limit",  "auth_required", "sender_login_mismatch",
	        "syntax"};

	return (unsigned)r < SMTPROBE_LR_LAST ? names[r] : "?";
}

const char *smtprobe_log_tls_cause_name(enum smtprobe_log_tls_cause c)
{
	static const char *const names[] = {
	        "other",  "not_tls", "no_shared_cipher", "client_alert",
	        "closed", "timeout", "certificate"};

	return (unsigned)c < SMTPROBE_LT_LAST ? names[c] : "?";
}
