/* dovecot.c - Dovecot's log lines (logs_int.h): its own log_path files
 * ("Mmm dd hh:mm:ss auth: Info: ...") and syslog ("dovecot: auth: ...",
 * without the level for Info). What follows "SERVICE: [Level: ]":
 *
 *   auth, auth-worker (Info)
 *     DRIVER(USER,IP[,<SESSION>]): Password mismatch | unknown user | ...
 *         AUTH failure with from_authd = 1: the MTA (or the login
 *         process) that asked logs the same attempt; the summary decides
 *         which to count. Text cut before "(given password: ...)"
 *   imap-login, pop3-login, submission-login, managesieve-login
 *     Login: user=<U>, method=M, rip=IP, ...            AUTH success
 *     ... (auth failed, N attempts in S secs) ...: user=<U>, ..., rip=IP
 *         AUTH failure, count N (nobody else logs these: from_authd 0);
 *         "(user disabled)", "(password expired)" one failure
 *     ... TLS handshaking: WHY | SSL_accept() failed: WHY   TLS failure
 *   lmtp, lda
 *     Connect from IP                                   connect ("local",
 *                                                       a UNIX socket: no)
 *     msgid=<...>: saved mail to BOX | sieve: ... stored mail into
 *         mailbox 'BOX'                                 delivered (to the
 *                                                       user in lmtp(U))
 *     msgid=<...>: save failed to BOX: WHY              deferred; bounced
 *         when WHY is "Quota exceeded" (LMTP's default answer is 552)
 *
 * Debug lines and everything else count for nothing; every line that
 * reaches here is Dovecot's. Pure; no state. */
#include <string.h>

#include "logs_int.h"

#include "banned.h"

static int ends(struct smtprobe_log_str s, const char *suffix)
{
	size_t n = strlen(suffix);

	return s.n >= n && memcmp(s.p + s.n - n, suffix, n) == 0;
}

/* s up to the first byte of stop (all of s when none) */
static struct smtprobe_log_str until(struct smtprobe_log_str s,
                                     const char *stop)
{
	size_t i = 0;

	while (i < s.n && memchr(stop, s.p[i], strlen(stop)) == NULL)
		i++;
	s.n = i;
	return s;
}

/* "passwd-file(alice,127.0.0.20[,<sess>]): Password mismatch" */
static void auth(struct smtprobe_log_str r, struct smtprobe_log_event *ev)
{
	static const char *const failed[] = {
	        "mismatch", "unknown user", "failed",
	        "Invalid",  "invalid",      "Disallowed",
	        "denied",   "expired",      "not allowed"};
	const char *open = logs_chr(r, '(');
	const char *close;

	if (open == NULL || open == r.p)
		return;
	for (const char *p = r.p; p < open; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      *p == '-' || *p == '_'))
			return; /* not a passdb/userdb name */
	close = logs_find(logs_after(r, open), "): ");
	if (close == NULL)
		return;
	struct smtprobe_log_str why = logs_after(r, close + 3);
	size_t k;
	for (k = 0; k < sizeof(failed) / sizeof(failed[0]); k++)
		if (logs_find(why, failed[k]))
			break;
	if (k == sizeof(failed) / sizeof(failed[0]))
		return;
	/* the fields from the right: a user name may hold a comma */
	struct smtprobe_log_str in = {open + 1, (size_t)(close - open - 1)};
	const char *c2 = NULL, *c1 = NULL;
	for (const char *p = in.p + in.n; p > in.p; p--)
		if (p[-1] == ',') {
			if (c2 == NULL)
				c2 = p - 1;
			else if (c1 == NULL)
				c1 = p - 1;
		}
	if (c2 && c2 + 1 < in.p + in.n && c2[1] == '<' && c1) {
		/* "user,ip,<session>" */
	} else {
		c1 = c2; /* "user,ip" */
		c2 = in.p + in.n;
	}
	ev->kind = SMTPROBE_LE_AUTH_FAIL;
	ev->from_authd = 1;
	if (c1) {
		ev->user = (struct smtprobe_log_str){in.p, (size_t)(c1 - in.p)};
		ev->client = (struct smtprobe_log_str){c1 + 1,
		                                       (size_t)(c2 - c1 - 1)};
	} else
		ev->user = in;
	const char *pw = logs_find(why, " (given password");
	ev->text = why;
	if (pw)
		ev->text.n = (size_t)(pw - why.p);
}

/* imap-login and its kind: logins, failures, TLS handshakes */
static void login(struct smtprobe_log_str r, struct smtprobe_log_event *ev)
{
	const char *p;

	ev->client = logs_value(r, "rip=", ", ");
	ev->user = logs_trim_angle(logs_value(r, "user=", ", "));
	if (ev->user.n == 0)
		ev->user = logs_none();
	if (logs_starts(r, "Login: ")) {
		ev->kind = SMTPROBE_LE_AUTH_OK;
		return;
	}
	if ((p = logs_find(r, "(auth failed, ")) != NULL) {
		unsigned n = 0;
		struct smtprobe_log_str a = logs_after(r, p + 14);
		for (size_t i = 0;
		     i < a.n && a.p[i] >= '0' && a.p[i] <= '9' && n < 1000000;
		     i++)
			n = n * 10 + (unsigned)(a.p[i] - '0');
		ev->kind = SMTPROBE_LE_AUTH_FAIL;
		ev->count = n ? n : 1;
		ev->text = until(logs_after(r, p + 1), ")");
		return;
	}
	if ((p = logs_find(r, "(user disabled)")) != NULL ||
	    (p = logs_find(r, "(password expired)")) != NULL) {
		ev->kind = SMTPROBE_LE_AUTH_FAIL;
		ev->text = until(logs_after(r, p + 1), ")");
		return;
	}
	if ((p = logs_find(r, "TLS handshaking: ")) != NULL ||
	    (p = logs_find(r, "SSL_accept() failed: ")) != NULL) {
		ev->kind = SMTPROBE_LE_TLS_FAIL;
		/* both needles end in the first ": " from p */
		ev->text = logs_after(r, logs_find(logs_after(r, p), ": ") + 2);
		const char *sess = logs_find(ev->text, ", session=");
		if (sess)
			ev->text.n = (size_t)(sess - ev->text.p);
		ev->tls_cause = logs_tls_cause(ev->text);
		return;
	}
	ev->client = ev->user = logs_none();
}

/* lmtp and lda: connections and deliveries to mailboxes */
static void local(struct smtprobe_log_str svc, struct smtprobe_log_str r,
                  struct smtprobe_log_event *ev)
{
	const char *p;

	if (logs_starts(r, "Connect from ")) {
		struct smtprobe_log_str a = until(logs_after(r, r.p + 13), " ");
		if (logs_chr(a, '.') || logs_chr(a, ':')) {
			ev->kind = SMTPROBE_LE_CONNECT;
			ev->client = a;
		}
		return;
	}
	if ((p = logs_find(r, "saved mail to ")) != NULL ||
	    (p = logs_find(r, "stored mail into mailbox ")) != NULL)
		ev->kind = SMTPROBE_LE_DELIVERED;
	else if ((p = logs_find(r, "save failed to ")) != NULL)
		ev->kind = logs_find(r, "Quota exceeded")
		                   ? SMTPROBE_LE_BOUNCED
		                   : SMTPROBE_LE_DEFERRED;
	else
		return;
	ev->text = logs_after(r, p);
	/* "lmtp(alice)<pid><session>": the user, unless a pid "lmtp(123)" */
	const char *o = logs_chr(svc, '(');
	if (o) {
		struct smtprobe_log_str u = until(logs_after(svc, o + 1), ")");
		size_t i = 0;
		while (i < u.n && u.p[i] >= '0' && u.p[i] <= '9')
			i++;
		if (u.n && i < u.n)
			ev->rcpt = u;
	}
}

enum smtprobe_log_format logs_dovecot(struct smtprobe_log_input *in,
                                      const struct logs_line *l,
                                      struct smtprobe_log_event *ev)
{
	static const char *const levels[] = {
	        "Info: ", "Warning: ", "Error: ", "Fatal: ", "Panic: "};
	struct smtprobe_log_str m = l->msg, svc, base, r;
	const char *colon = logs_find(m, ": ");
	int info = 1;

	(void)in;
	if (colon == NULL)
		return SMTPROBE_LF_DOVECOT;
	svc = (struct smtprobe_log_str){m.p, (size_t)(colon - m.p)};
	base = until(svc, "(<");
	r = logs_after(m, colon + 2);
	if (logs_starts(r, "Debug: "))
		return SMTPROBE_LF_DOVECOT;
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (logs_starts(r, levels[i])) {
			info = i == 0;
			r = logs_after(r, r.p + strlen(levels[i]));
			break;
		}
	if (logs_eq(base, "auth") || logs_eq(base, "auth-worker")) {
		if (info)
			auth(r, ev);
	} else if (ends(base, "-login"))
		login(r, ev);
	else if (logs_eq(base, "lmtp") || logs_eq(base, "lda"))
		local(svc, r, ev);
	return SMTPROBE_LF_DOVECOT;
}
