/* logs.h - what a mail server's own logs say (`smtprobe logs`): a parser
 * per log format turning one line into at most one event (pure, no
 * allocation, no regular expressions: fixed prefixes and memchr), and a
 * streaming summary of the events in bounded memory - connections, AUTH
 * successes and failures (with brute force), TLS handshakes and failures,
 * rejections by kind with their top senders, recipients and clients,
 * deliveries, deferrals, bounces, and spikes per minute.
 *
 * Formats are told apart per line (a file may mix them: syslog carries
 * Postfix, Dovecot and Sendmail lines together); a line no parser knows is
 * counted, never fatal. Lines are hostile input: every field is a slice of
 * the line, bounded by it. */
#ifndef SMTPROBE_LOGS_H
#define SMTPROBE_LOGS_H

#include <stddef.h>
#include <stdint.h>

enum smtprobe_log_format {
	SMTPROBE_LF_UNKNOWN,
	SMTPROBE_LF_POSTFIX,
	SMTPROBE_LF_DOVECOT,
	SMTPROBE_LF_EXIM,
	SMTPROBE_LF_SENDMAIL,
	SMTPROBE_LF_OPENSMTPD,
	SMTPROBE_LF_EXCHANGE_TRACKING, /* message tracking CSV */
	SMTPROBE_LF_EXCHANGE_SMTP,     /* SMTP receive protocol log CSV */
	SMTPROBE_LF_LAST
};

enum smtprobe_log_kind {
	SMTPROBE_LE_NONE, /* a line of a known format that counts for nothing */
	SMTPROBE_LE_CONNECT,
	SMTPROBE_LE_AUTH_OK,
	SMTPROBE_LE_AUTH_FAIL,
	SMTPROBE_LE_TLS_OK,   /* protocol and cipher */
	SMTPROBE_LE_TLS_FAIL, /* tls_cause */
	SMTPROBE_LE_REJECT,   /* reject kind, code, text, sender, rcpt */
	SMTPROBE_LE_DELIVERED,
	SMTPROBE_LE_DEFERRED,
	SMTPROBE_LE_BOUNCED,
	SMTPROBE_LE_LAST
};

/* What a rejection is about (the words of the reply, its codes). */
enum smtprobe_log_reject {
	SMTPROBE_LR_OTHER,
	SMTPROBE_LR_RELAY_DENIED,
	SMTPROBE_LR_SENDER,    /* sender restrictions, sender domain */
	SMTPROBE_LR_RECIPIENT, /* unknown user, recipient restrictions */
	SMTPROBE_LR_CLIENT,    /* client host restrictions, reverse DNS */
	SMTPROBE_LR_HELO,
	SMTPROBE_LR_GREYLIST,
	SMTPROBE_LR_RBL, /* a DNS block list */
	SMTPROBE_LR_SIZE,
	SMTPROBE_LR_RATE,          /* rate and connection limits */
	SMTPROBE_LR_AUTH_REQUIRED, /* AUTH (or STARTTLS) first */
	SMTPROBE_LR_SENDER_LOGIN,  /* an authenticated user sends as another */
	SMTPROBE_LR_SYNTAX,
	SMTPROBE_LR_LAST
};

/* Why a TLS handshake failed, as far as the log says. */
enum smtprobe_log_tls_cause {
	SMTPROBE_LT_OTHER,
	SMTPROBE_LT_NOT_TLS,      /* the client spoke something else (HTTP) */
	SMTPROBE_LT_NO_SHARED,    /* no protocol version or cipher in common */
	SMTPROBE_LT_CLIENT_ALERT, /* the client refused our certificate */
	SMTPROBE_LT_CLOSED,       /* the client went away mid-handshake */
	SMTPROBE_LT_TIMEOUT,
	SMTPROBE_LT_CERT_PROBLEM, /* our certificate or key cannot be used */
	SMTPROBE_LT_LAST
};

/* Where a field of the event is in the line; p NULL (n 0) when absent. */
struct smtprobe_log_str {
	const char *p;
	size_t n;
};

struct smtprobe_log_event {
	enum smtprobe_log_kind kind;
	enum smtprobe_log_format format;
	unsigned count; /* how many it stands for (an Exchange line with
	                   several recipients ...): at least 1 */
	int64_t ts;     /* seconds since the epoch, -1 when the line has no
	                   time (OpenSMTPD in the foreground) */
	/* AUTH failures from the authentication server itself (Dovecot's
	 * auth process): the same attempt the MTA logs too, so the summary
	 * counts them only when no MTA line said so (see logs_add) */
	int from_authd;
	struct smtprobe_log_str client; /* address */
	struct smtprobe_log_str user;   /* AUTH name as sent */
	struct smtprobe_log_str sender, rcpt;
	struct smtprobe_log_str protocol, cipher; /* TLS */
	struct smtprobe_log_str text; /* a reply or an error, as logged */
	int code;                     /* the SMTP reply's, 0 when none */
	enum smtprobe_log_reject reject;
	enum smtprobe_log_tls_cause tls_cause;
};

/* What one input (a file, stdin) carries over from line to line: the
 * reference time for timestamps without a year, the sessions of servers
 * that name the client on one line and the event on another (Postfix's
 * TLS errors per process, OpenSMTPD's per session id), Exchange's #Fields
 * columns. Zero it, then set ref_time. */
#define SMTPROBE_LOG_SESSIONS 256
#define SMTPROBE_LOG_COLUMNS  16
struct smtprobe_log_session {
	char id[24];     /* "pid 1234", a session id; "" unused */
	char client[64]; /* its address */
	char user[64];   /* its AUTH name, "" none */
	int tls_failed;  /* a TLS error is waiting for its cause line */
};
struct smtprobe_log_input {
	int64_t ref_time; /* the file's modification time, or now: a
	                     syslog date later than it by more than a day is
	                     last year's */
	struct smtprobe_log_session sess[SMTPROBE_LOG_SESSIONS]; /* a ring */
	unsigned sess_next;
	/* Exchange CSV: which log (0 none yet) and the column of each field
	 * we read (from #Fields), -1 when absent */
	enum smtprobe_log_format csv;
	int col[SMTPROBE_LOG_COLUMNS];
	/* an Exim rejectlog read without its mainlog: the lines Exim writes
	 * to both count here (else only in the mainlog, never twice) */
	int exim_rejectlog_alone;
	/* naive (local) timestamps: the start of the last day converted */
	int64_t day_key, day_start;
};

/* Parse one line (without its newline) into ev. Returns the format the
 * line is in (ev->kind SMTPROBE_LE_NONE for a known line that counts for
 * nothing), or SMTPROBE_LF_UNKNOWN when no parser knows it. */
enum smtprobe_log_format smtprobe_log_parse(struct smtprobe_log_input *in,
                                            const char *line, size_t len,
                                            struct smtprobe_log_event *ev);

/* An ISO 8601 time at the start of s ("2026-12-07T05:04:59", a space for
 * the T, fractions, Z or +hh:mm; no zone: local time): the bytes it took
 * (0: none there), *ts in seconds since the epoch. */
long smtprobe_log_time(const char *s, size_t n, int64_t *ts);

/* "postfix", "relay_denied", "no_shared_cipher" ... ("?" out of range) */
const char *smtprobe_log_format_name(enum smtprobe_log_format f);
const char *smtprobe_log_kind_name(enum smtprobe_log_kind k);
const char *smtprobe_log_reject_name(enum smtprobe_log_reject r);
const char *smtprobe_log_tls_cause_name(enum smtprobe_log_tls_cause c);

/* The kind of a rejection from its reply (code, enhanced code and text:
 * the knowledge base's refusal classifier, with what logs add: HELO, DNS
 * block lists, size, rate limits, sender-login mismatches). */
enum smtprobe_log_reject smtprobe_log_classify(int code, const char *text,
                                               size_t len);

/* ---- the summary (lib/logs/summary.c): every event of every input, in
 * bounded memory ---- */

struct smtprobe_logs_opts {
	unsigned capacity;     /* keys kept per table (0: 1024): past it the
	                          counts of the rare ones are bounds */
	unsigned bf_threshold; /* AUTH failures from one address ... (0: 10,
	                          at most 1000) */
	unsigned bf_window;    /* ... within these seconds: brute force
	                          (0: 600) */
	unsigned bf_user_ips;  /* a user failing from this many addresses
	                          (0: 5, at most 64) */
	unsigned spike_window; /* minutes of trailing baseline (0: 60) */
	double spike_k;       /* a spike minute: over median + k * MAD (0: 5) */
	unsigned spike_min;   /* ... and at least this many (0: 10) */
	int64_t since, until; /* only lines in [since, until) when set */
	int has_since, has_until;
};

/* the tables of counts per key */
enum smtprobe_logs_table {
	SMTPROBE_LT_CONN_CLIENT,      /* connections per client address */
	SMTPROBE_LT_AUTH_FAIL_CLIENT, /* AUTH failures per client address */
	SMTPROBE_LT_AUTH_FAIL_USER,   /* ... per user name as sent */
	SMTPROBE_LT_AUTH_OK_USER,     /* AUTH successes per user */
	SMTPROBE_LT_REJECT_CLIENT,
	SMTPROBE_LT_REJECT_SENDER,
	SMTPROBE_LT_REJECT_RCPT,
	SMTPROBE_LT_TLS_PROTOCOL,
	SMTPROBE_LT_TLS_CIPHER,
	SMTPROBE_LT_TABLES
};

struct smtprobe_logs_row {
	const char *key; /* valid while the summary lives */
	uint64_t count;  /* never under the truth ... */
	uint64_t err;    /* ... and at most this over it (0: exact) */
};

/* a spike: a run of minutes over the baseline */
struct smtprobe_logs_spike {
	const char *kind; /* "relay_denied", ..., "auth_failure" */
	int64_t start, end;
	uint64_t count;
	double baseline; /* the baseline's median, per minute */
};

/* brute force: an address over the threshold in the window, or a user
 * failing from many addresses */
struct smtprobe_logs_brute {
	int by_user; /* 0: key is an address; 1: a user name */
	const char *key;
	uint64_t failures;   /* all of its failures in the input */
	uint64_t in_window;  /* the most within one window */
	unsigned addresses;  /* by_user: distinct addresses (capped) */
	int64_t first, last; /* when it crossed, the last failure */
};

struct smtprobe_logs;

/* NULL when out of memory. */
struct smtprobe_logs *smtprobe_logs_new(const struct smtprobe_logs_opts *o);
void smtprobe_logs_free(struct smtprobe_logs *l);
/* One line of an input: parsed (smtprobe_log_parse) and counted. */
void smtprobe_logs_line(struct smtprobe_logs *l, struct smtprobe_log_input *in,
                        const char *line, size_t len);
/* The end of the input: close the last minute. Counting may go on
 * (follow mode calls it for each report). */
void smtprobe_logs_finish(struct smtprobe_logs *l);
/* Follow mode: time is now now, whether lines came or not (the minutes
 * before it close, and are judged). */
void smtprobe_logs_clock(struct smtprobe_logs *l, int64_t now);

struct smtprobe_logs_totals {
	uint64_t lines, unparsed;
	uint64_t by_format[SMTPROBE_LF_LAST];
	uint64_t events[SMTPROBE_LE_LAST]; /* each weighted by its count */
	uint64_t rejects[SMTPROBE_LR_LAST];
	uint64_t tls_failures[SMTPROBE_LT_LAST];
	uint64_t outside;    /* lines outside --since / --until */
	uint64_t untimed;    /* events without a time (not in the series) */
	int64_t first, last; /* the times seen, -1 none */
	/* AUTH failures: the MTA's lines when there are any, else the
	 * authentication server's (Dovecot logs the same attempts) */
	int auth_from_authd;
};
void smtprobe_logs_totals(const struct smtprobe_logs *l,
                          struct smtprobe_logs_totals *t);
/* the max largest of a table, count descending; how many */
size_t smtprobe_logs_top(const struct smtprobe_logs *l,
                         enum smtprobe_logs_table t,
                         struct smtprobe_logs_row *rows, size_t max);
/* every key of a table kept (exact while it was not full): how many */
size_t smtprobe_logs_table_size(const struct smtprobe_logs *l,
                                enum smtprobe_logs_table t);
/* connections per hour: (hour start, count), oldest first, the last
 * SMTPROBE_LOGS_HOURS hours seen */
#define SMTPROBE_LOGS_HOURS 744
size_t smtprobe_logs_hours(const struct smtprobe_logs *l, int64_t *hour,
                           uint64_t *count, size_t max);
size_t smtprobe_logs_spikes(const struct smtprobe_logs *l,
                            struct smtprobe_logs_spike *out, size_t max);
size_t smtprobe_logs_brute(const struct smtprobe_logs *l,
                           struct smtprobe_logs_brute *out, size_t max);
/* follow mode: what crossed a threshold since the last call, each once */
struct smtprobe_logs_alert {
	const char *type; /* "spike", "brute_force_address",
	                     "brute_force_user" */
	const char *what; /* the series ("relay_denied", "auth_failure"),
	                     the address or the user; valid until the next
	                     line */
	int64_t start, end;
	uint64_t count;
	double baseline; /* spikes */
};
size_t smtprobe_logs_alerts(struct smtprobe_logs *l,
                            struct smtprobe_logs_alert *out, size_t max);
/* The report as one JSON document (malloc'd; NULL out of memory): top
 * rows per table, totals, spikes, brute force. */
char *smtprobe_logs_json(const struct smtprobe_logs *l, unsigned top);

#endif
