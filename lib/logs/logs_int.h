/* logs_int.h - what the files of lib/logs share (internal): bounded
 * per-key counts (topn.c), per-minute spike detection (spike.c). */
#ifndef SMTPROBE_LOGS_INT_H
#define SMTPROBE_LOGS_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "smtprobe/logs.h"

/* ---- one line, as the dispatcher (parse.c) splits it ---- */

/* The parts every layout has: the time (-1 none), and for syslog the
 * host, the program ("postfix/mx/smtpd", "dovecot", "sendmail") and its
 * pid; msg is the rest (for Exim, what follows the time; for Dovecot's own
 * files, what follows it too: "auth: Info: ..."). */
struct logs_line {
	int64_t ts;
	struct smtprobe_log_str host, prog, msg;
	unsigned pid;
	int has_pid;
};

/* The parsers: fill ev (the dispatcher set kind NONE, count 1, ts and
 * format) and return the format, or SMTPROBE_LF_UNKNOWN when the line is
 * not theirs after all. */
enum smtprobe_log_format logs_postfix(struct smtprobe_log_input *in,
                                      const struct logs_line *l,
                                      struct smtprobe_log_event *ev);
enum smtprobe_log_format logs_dovecot(struct smtprobe_log_input *in,
                                      const struct logs_line *l,
                                      struct smtprobe_log_event *ev);
enum smtprobe_log_format logs_exim(struct smtprobe_log_input *in,
                                   const struct logs_line *l,
                                   struct smtprobe_log_event *ev);
enum smtprobe_log_format logs_sendmail(struct smtprobe_log_input *in,
                                       const struct logs_line *l,
                                       struct smtprobe_log_event *ev);
enum smtprobe_log_format logs_opensmtpd(struct smtprobe_log_input *in,
                                        const struct logs_line *l,
                                        struct smtprobe_log_event *ev);
/* Exchange: a whole line (a #header or a CSV row) */
enum smtprobe_log_format logs_exchange(struct smtprobe_log_input *in,
                                       const char *line, size_t len,
                                       struct smtprobe_log_event *ev);

/* ---- helpers (logs_util.c) ---- */

/* A timestamp at the start of p: the bytes it took (0: none there), *ts
 * in seconds since the epoch. syslog: "Mmm dd hh:mm:ss" (the year from
 * in->ref_time); iso: "YYYY-MM-DD[T ]hh:mm:ss[.frac][Z|+hh:mm|+hhmm| +hhmm]"
 * (no zone: local time). */
size_t logs_time_syslog(struct smtprobe_log_input *in, const char *p, size_t n,
                        int64_t *ts);
size_t logs_time_iso(struct smtprobe_log_input *in, const char *p, size_t n,
                     int64_t *ts);
/* needle in s, or NULL */
const char *logs_find(struct smtprobe_log_str s, const char *needle);
int logs_starts(struct smtprobe_log_str s, const char *prefix);
/* s from p (inside it) to its end */
struct smtprobe_log_str logs_after(struct smtprobe_log_str s, const char *p);
/* the value after key ("from=") where key starts a word, up to a byte of
 * stop; {NULL, 0} when absent */
struct smtprobe_log_str logs_value(struct smtprobe_log_str s, const char *key,
                                   const char *stop);
/* s is exactly word */
static inline int logs_eq(struct smtprobe_log_str s, const char *word)
{
	size_t n = strlen(word);

	return s.n == n && memcmp(s.p, word, n) == 0;
}
/* c in s, or NULL (s may be {NULL, 0}) */
static inline const char *logs_chr(struct smtprobe_log_str s, char c)
{
	return s.n ? memchr(s.p, c, s.n) : NULL;
}
/* s from its k-th byte (empty past its end; {NULL, 0} stays so) */
struct smtprobe_log_str logs_skip(struct smtprobe_log_str s, size_t k);
/* {NULL, 0}: absent */
struct smtprobe_log_str logs_none(void);
/* '0'-'9'; that or a letter; '0'-'9' or 'a'-'f' (lower case only) */
static inline int logs_is_digit(char c)
{
	return c >= '0' && c <= '9';
}
static inline int logs_is_alnum(char c)
{
	return logs_is_digit(c) || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z');
}
static inline int logs_is_hex(char c)
{
	return logs_is_digit(c) || (c >= 'a' && c <= 'f');
}
/* "550 5.7.1 text" -> ev->code 550, ev->text "5.7.1 text"; without a
 * code ("NNN " first) ev->text is r and ev->code stays as it was */
void logs_reply(struct smtprobe_log_str r, struct smtprobe_log_event *ev);
/* "250 text", "250-text" or "250": the code (0: none), *text what follows
 * it (all of r without a code) */
int logs_reply_code(struct smtprobe_log_str r, struct smtprobe_log_str *text);
/* "MAIL FROM: <a> SIZE=1", "rcpt TO:<b>": the address after the colon,
 * without its angles; {NULL, 0} without a colon */
struct smtprobe_log_str logs_cmd_address(struct smtprobe_log_str c);
/* "TLSv1.3:CIPHER[:BITS]" -> ev->protocol "TLSv1.3", ev->cipher "CIPHER";
 * both left as they were without a ':' */
void logs_tls_split(struct smtprobe_log_str v, struct smtprobe_log_event *ev);
/* "<a@b>" -> "a@b" */
struct smtprobe_log_str logs_trim_angle(struct smtprobe_log_str v);
/* the first "[...]" in s (an address: "unknown[192.0.2.1]",
 * "[IPv6:2001:db8::1]", "[127.0.0.1]:4321"), without the brackets */
struct smtprobe_log_str logs_bracket(struct smtprobe_log_str s);
/* the session with this id (a pid as "pid 1234", an OpenSMTPD session
 * id), created (the oldest replaced) when create; NULL when absent or
 * the id is too long */
struct smtprobe_log_session *logs_session(struct smtprobe_log_input *in,
                                          struct smtprobe_log_str id,
                                          int create);
/* why a TLS handshake failed, from OpenSSL's reason words (and the
 * servers' own: "Disconnected", "Inactivity", "EVP lib") */
enum smtprobe_log_tls_cause logs_tls_cause(struct smtprobe_log_str t);
/* v into dst (cut, NUL-terminated) */
void logs_copy(char *dst, size_t dstsz, struct smtprobe_log_str v);
struct smtprobe_log_str logs_str(const char *s);

/* ---- counts per key, bounded (topn.c) ---- */

#define LOGS_KEY_MAX 255 /* longer keys are cut */

struct logs_topn;
struct logs_top_row {
	const char *key; /* inside the table: valid while it lives */
	uint64_t count;  /* never under the truth ... */
	uint64_t err;    /* ... and at most this over it (0: exact) */
};

/* A table of at most cap keys; NULL when out of memory (or cap 0). */
struct logs_topn *logs_topn_new(unsigned cap);
void logs_topn_free(struct logs_topn *t);
/* add by to key k; the key's entry index (stable while it is kept: side
 * data may be kept per index, 0 .. cap - 1), and *fresh = 1 when the
 * entry was just given to this key (a new one, or one evicted for it);
 * -1 when by is 0 */
long logs_topn_add(struct logs_topn *t, const char *k, size_t n, uint64_t by,
                   int *fresh);
const char *logs_topn_key(const struct logs_topn *t, long i);
/* everything added, kept or not */
uint64_t logs_topn_total(const struct logs_topn *t);
/* keys kept; 1 once a key was evicted (counts are then bounds) */
size_t logs_topn_size(const struct logs_topn *t);
int logs_topn_approximate(const struct logs_topn *t);
uint64_t logs_topn_get(const struct logs_topn *t, const char *k, size_t n);
/* the max largest, count descending (ties by key); how many */
size_t logs_topn_rows(const struct logs_topn *t, struct logs_top_row *rows,
                      size_t max);

/* ---- spikes in a per-minute count (spike.c) ---- */

#define LOGS_MAX_WINDOW 1440 /* minutes of baseline at most (a day) */
#define LOGS_MAX_SPIKES 64

struct logs_spike_opts {
	unsigned window; /* minutes of trailing baseline (0: the max) */
	double k;        /* over median + k * MAD */
	uint64_t min;    /* and at least this many in the minute */
};

struct logs_spike_row {
	int64_t start, end; /* seconds since the epoch: the first minute's
	                       start, the last minute's end */
	uint64_t count;
	double baseline; /* the median of the baseline at the start */
	double limit;    /* what the first minute had to exceed */
};

struct logs_spike {
	struct logs_spike_opts o;
	int64_t minute; /* the current minute (ts / 60), -1 before any */
	uint64_t count; /* in the current minute */
	uint64_t ring[LOGS_MAX_WINDOW];
	unsigned pos;
	uint64_t filled; /* minutes closed */
	int open;        /* the last closed minute was a spike */
	int fresh;       /* a spike began since the caller last cleared it */
	int finished;
	size_t nrows;
	struct logs_spike_row rows[LOGS_MAX_SPIKES];
	size_t dropped; /* spikes past LOGS_MAX_SPIKES */
};

void logs_spike_init(struct logs_spike *s, const struct logs_spike_opts *o);
/* time moves to ts (closing the minutes before it); ts < 0: nothing */
void logs_spike_tick(struct logs_spike *s, int64_t ts);
/* n events at ts */
void logs_spike_add(struct logs_spike *s, int64_t ts, uint64_t n);
/* the end of the input: close the current minute */
void logs_spike_finish(struct logs_spike *s);

#endif
