/* logs_util.c - what every log parser needs (logs_int.h): timestamps
 * (syslog's "Mmm dd hh:mm:ss" without a year, RFC 3339 and Exim's
 * "YYYY-MM-DD hh:mm:ss", with or without a zone), slices of a line (find,
 * starts with, the value after "key=", the address in "name[addr]" or
 * "[addr]:port", a reply's code and text, a command's address), the TLS
 * failure causes and the session table of an input.
 *
 * Timestamps without a zone are local time, converted with mktime() once
 * per day (the day's start is cached in the input) and then by adding the
 * seconds: a DST change shifts the hours after it by the change until the
 * next day - the cost of not calling mktime() per line. Pure otherwise;
 * nothing here allocates. */
#include <string.h>
#include <time.h>

#include "logs_int.h"

#include "banned.h"

static int digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* days since 1970-01-01 of a civil date (Howard Hinnant's algorithm) */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* the UTC seconds of a local wall-clock time */
static int64_t local_time(struct smtprobe_log_input *in, int y, int mo, int d,
                          int h, int mi, int s)
{
	int64_t key = ((int64_t)y * 16 + mo) * 32 + d;

	if (in->day_key != key) {
		struct tm tm;
		memset(&tm, 0, sizeof(tm));
		tm.tm_year = y - 1900;
		tm.tm_mon = mo - 1;
		tm.tm_mday = d;
		tm.tm_isdst = -1;
		time_t t = mktime(&tm);
		if (t == (time_t)-1)
			t = (time_t)(days_from_civil(y, (unsigned)mo,
			                             (unsigned)d) *
			             86400);
		in->day_key = key;
		in->day_start = (int64_t)t;
	}
	return in->day_start + h * 3600 + mi * 60 + s;
}

static int valid(int mo, int d, int h, int mi, int s)
{
	return mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h >= 0 && h <= 23 &&
	       mi >= 0 && mi <= 59 && s >= 0 && s <= 60;
}

size_t logs_time_syslog(struct smtprobe_log_input *in, const char *p, size_t n,
                        int64_t *ts)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	int mo = 0, d, h, mi, s;

	/* "Dec  7 05:04:59" or "Dec 07 05:04:59" */
	if (n < 15 || p[3] != ' ' || p[6] != ' ' || p[9] != ':' || p[12] != ':')
		return 0;
	for (int i = 0; i < 12; i++)
		if (memcmp(p, months + 3 * i, 3) == 0)
			mo = i + 1;
	d = p[4] == ' ' ? digits(p + 5, 1) : digits(p + 4, 2);
	h = digits(p + 7, 2);
	mi = digits(p + 10, 2);
	s = digits(p + 13, 2);
	if (mo == 0 || !valid(mo, d, h, mi, s))
		return 0;
	/* the year: the reference time's, or the one before when that would
	 * put the line more than a day after the reference */
	time_t ref = (time_t)in->ref_time;
	struct tm tm;
	if (gmtime_r(&ref, &tm) == NULL)
		return 0;
	int y = tm.tm_year + 1900;
	int64_t t = local_time(in, y, mo, d, h, mi, s);
	if (t > in->ref_time + 86400)
		t = local_time(in, y - 1, mo, d, h, mi, s);
	*ts = t;
	return 15;
}

size_t logs_time_iso(struct smtprobe_log_input *in, const char *p, size_t n,
                     int64_t *ts)
{
	int y, mo, d, h, mi, s;
	size_t i = 19;

	/* "2026-12-07T05:04:59" or "2026-12-07 05:04:59" */
	if (n < 19 || p[4] != '-' || p[7] != '-' ||
	    (p[10] != 'T' && p[10] != ' ') || p[13] != ':' || p[16] != ':')
		return 0;
	y = digits(p, 4);
	mo = digits(p + 5, 2);
	d = digits(p + 8, 2);
	h = digits(p + 11, 2);
	mi = digits(p + 14, 2);
	s = digits(p + 17, 2);
	if (y < 1970 || !valid(mo, d, h, mi, s))
		return 0;
	if (i < n && (p[i] == '.' || p[i] == ',')) /* fractions */
		for (i++; i < n && p[i] >= '0' && p[i] <= '9'; i++)
			;
	int64_t utc = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
	              h * 3600 + mi * 60 + s;
	/* a zone: Z, +hh:mm, +hhmm (Exim's " +0000" after a space) */
	size_t z = i;
	if (z + 6 <= n && p[z] == ' ' && (p[z + 1] == '+' || p[z + 1] == '-') &&
	    digits(p + z + 2, 4) >= 0 && (z + 6 == n || p[z + 6] == ' '))
		z++;
	if (z < n && p[z] == 'Z') {
		*ts = utc;
		return z + 1;
	}
	if (z + 5 <= n && (p[z] == '+' || p[z] == '-')) {
		int oh = digits(p + z + 1, 2), om;
		size_t end;
		if (z + 6 <= n && p[z + 3] == ':') {
			om = digits(p + z + 4, 2);
			end = z + 6;
		} else {
			om = digits(p + z + 3, 2);
			end = z + 5;
		}
		if (oh >= 0 && om >= 0 && oh <= 23 && om <= 59) {
			int64_t off = oh * 3600 + om * 60;
			*ts = p[z] == '+' ? utc - off : utc + off;
			return end;
		}
	}
	*ts = local_time(in, y, mo, d, h, mi, s);
	return i;
}

long smtprobe_log_time(const char *s, size_t n, int64_t *ts)
{
	struct smtprobe_log_input in;

	memset(&in, 0, sizeof(in));
	return (long)logs_time_iso(&in, s, n, ts);
}

/* ---- slices ---- */

struct smtprobe_log_str logs_skip(struct smtprobe_log_str s, size_t k)
{
	if (s.p == NULL)
		return s;
	return k <= s.n ? (struct smtprobe_log_str){s.p + k, s.n - k}
	                : (struct smtprobe_log_str){s.p + s.n, 0};
}

struct smtprobe_log_str logs_none(void)
{
	return (struct smtprobe_log_str){NULL, 0};
}

const char *logs_find(struct smtprobe_log_str s, const char *needle)
{
	size_t k = strlen(needle);

	if (k == 0 || s.n < k)
		return NULL;
	for (const char *p = s.p, *end = s.p + s.n - k + 1; p < end; p++) {
		p = memchr(p, needle[0], (size_t)(end - p));
		if (p == NULL)
			return NULL;
		if (memcmp(p, needle, k) == 0)
			return p;
	}
	return NULL;
}

int logs_starts(struct smtprobe_log_str s, const char *prefix)
{
	size_t k = strlen(prefix);

	return s.n >= k && memcmp(s.p, prefix, k) == 0;
}

struct smtprobe_log_str logs_after(struct smtprobe_log_str s, const char *p)
{
	struct smtprobe_log_str r = {NULL, 0};

	if (p && p >= s.p && p <= s.p + s.n) {
		r.p = p;
		r.n = s.n - (size_t)(p - s.p);
	}
	return r;
}

struct smtprobe_log_str logs_value(struct smtprobe_log_str s, const char *key,
                                   const char *stop)
{
	struct smtprobe_log_str v = {NULL, 0};
	const char *p = logs_find(s, key);

	/* the key must start a word: "to=" is not inside "orig_to=" */
	while (p && p > s.p && p[-1] != ' ' && p[-1] != ',' && p[-1] != '(')
		p = logs_find(logs_after(s, p + 1), key);
	if (p == NULL)
		return v;
	v.p = p + strlen(key);
	size_t left = s.n - (size_t)(v.p - s.p);
	while (v.n < left && strchr(stop, v.p[v.n]) == NULL)
		v.n++;
	return v;
}

struct smtprobe_log_str logs_trim_angle(struct smtprobe_log_str v)
{
	if (v.n >= 2 && v.p[0] == '<' && v.p[v.n - 1] == '>') {
		v.p++;
		v.n -= 2;
	}
	return v;
}

/* the code of "NNN" at p (2xx to 5xx), 0 none */
static int code3(const char *p)
{
	if (p[0] < '2' || p[0] > '5' || !logs_is_digit(p[1]) ||
	    !logs_is_digit(p[2]))
		return 0;
	return (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
}

void logs_reply(struct smtprobe_log_str r, struct smtprobe_log_event *ev)
{
	int code = r.n >= 4 && r.p[3] == ' ' ? code3(r.p) : 0;

	if (code) {
		ev->code = code;
		r = logs_skip(r, 4);
	}
	ev->text = r;
}

int logs_reply_code(struct smtprobe_log_str r, struct smtprobe_log_str *text)
{
	int code = r.n >= 3 ? code3(r.p) : 0;

	*text = r;
	if (code == 0 || (r.n > 3 && r.p[3] != ' ' && r.p[3] != '-'))
		return 0;
	*text = logs_skip(r, 4); /* "250": empty, at its end */
	return code;
}

struct smtprobe_log_str logs_cmd_address(struct smtprobe_log_str c)
{
	const char *colon = logs_chr(c, ':');
	struct smtprobe_log_str a;

	if (colon == NULL)
		return logs_none();
	a = logs_after(c, colon + 1);
	while (a.n && a.p[0] == ' ') {
		a.p++;
		a.n--;
	}
	const char *sp = logs_chr(a, ' ');
	if (sp)
		a.n = (size_t)(sp - a.p);
	return logs_trim_angle(a);
}

void logs_tls_split(struct smtprobe_log_str v, struct smtprobe_log_event *ev)
{
	const char *c = logs_chr(v, ':');

	if (c == NULL)
		return;
	ev->protocol = (struct smtprobe_log_str){v.p, (size_t)(c - v.p)};
	ev->cipher = logs_after(v, c + 1);
	c = logs_chr(ev->cipher, ':');
	if (c)
		ev->cipher.n = (size_t)(c - ev->cipher.p);
}

struct smtprobe_log_str logs_bracket(struct smtprobe_log_str s)
{
	struct smtprobe_log_str v = {NULL, 0};
	const char *o = s.n ? memchr(s.p, '[', s.n) : NULL;

	if (o == NULL)
		return v;
	const char *c = memchr(o, ']', s.n - (size_t)(o - s.p));
	if (c == NULL || c - o - 1 > 63)
		return v;
	v.p = o + 1;
	v.n = (size_t)(c - o - 1);
	/* Postfix's "IPv6:" prefix of an address literal */
	if (v.n > 5 && memcmp(v.p, "IPv6:", 5) == 0) {
		v.p += 5;
		v.n -= 5;
	}
	return v;
}

/* ---- TLS failures ---- */

enum smtprobe_log_tls_cause logs_tls_cause(struct smtprobe_log_str t)
{
	static const struct {
		const char *words;
		enum smtprobe_log_tls_cause cause;
	} causes[] = {
	        /* the client spoke something else */
	        {"http request", SMTPROBE_LT_NOT_TLS},
	        {"wrong version number", SMTPROBE_LT_NOT_TLS},
	        {"unknown protocol", SMTPROBE_LT_NOT_TLS},
	        /* a record length no TLS client sends: plain text read as
	         * a TLS header */
	        {"packet length too long", SMTPROBE_LT_NOT_TLS},
	        /* nothing in common */
	        {"no shared cipher", SMTPROBE_LT_NO_SHARED},
	        {"unsupported protocol", SMTPROBE_LT_NO_SHARED},
	        {"no protocols available", SMTPROBE_LT_NO_SHARED},
	        {"version too low", SMTPROBE_LT_NO_SHARED},
	        {"inappropriate fallback", SMTPROBE_LT_NO_SHARED},
	        {"no suitable", SMTPROBE_LT_NO_SHARED},
	        /* the client's alert: most often our certificate */
	        {"alert", SMTPROBE_LT_CLIENT_ALERT},
	        /* the client went away */
	        {"unexpected eof", SMTPROBE_LT_CLOSED},
	        {"lost connection", SMTPROBE_LT_CLOSED},
	        {"Disconnected", SMTPROBE_LT_CLOSED},
	        {"Connection closed", SMTPROBE_LT_CLOSED},
	        {"timed out", SMTPROBE_LT_TIMEOUT},
	        {"Inactivity", SMTPROBE_LT_TIMEOUT},
	        /* our own side: OpenSMTPD 6.8 with OpenSSL 3 fails the key
	         * operation ("EVP lib") */
	        {"EVP lib", SMTPROBE_LT_CERT_PROBLEM},
	        {"ca-failure", SMTPROBE_LT_CERT_PROBLEM},
	        {"key values mismatch", SMTPROBE_LT_CERT_PROBLEM},
	        {"ee key too small", SMTPROBE_LT_CERT_PROBLEM},
	        {"ca md too weak", SMTPROBE_LT_CERT_PROBLEM},
	        {"no certificate", SMTPROBE_LT_CERT_PROBLEM},
	};

	for (size_t i = 0; i < sizeof(causes) / sizeof(causes[0]); i++)
		if (logs_find(t, causes[i].words))
			return causes[i].cause;
	return SMTPROBE_LT_OTHER;
}

/* ---- sessions ---- */

static int same(const char *id, struct smtprobe_log_str k)
{
	/* a NUL inside the key must not match a shorter stored id */
	return k.n < sizeof(((struct smtprobe_log_session *)0)->id) &&
	       strlen(id) == k.n && memcmp(id, k.p, k.n) == 0;
}

struct smtprobe_log_session *logs_session(struct smtprobe_log_input *in,
                                          struct smtprobe_log_str id,
                                          int create)
{
	struct smtprobe_log_session *s;

	if (id.n == 0 || id.n >= sizeof(s->id))
		return NULL;
	/* newest first: a busy server reuses old slots */
	for (unsigned k = 0; k < SMTPROBE_LOG_SESSIONS; k++) {
		unsigned i = (in->sess_next + SMTPROBE_LOG_SESSIONS - 1 - k) %
		             SMTPROBE_LOG_SESSIONS;
		if (in->sess[i].id[0] && same(in->sess[i].id, id))
			return &in->sess[i];
	}
	if (!create)
		return NULL;
	s = &in->sess[in->sess_next];
	in->sess_next = (in->sess_next + 1) % SMTPROBE_LOG_SESSIONS;
	memset(s, 0, sizeof(*s));
	memcpy(s->id, id.p, id.n);
	return s;
}

void logs_copy(char *dst, size_t dstsz, struct smtprobe_log_str v)
{
	size_t n = v.n < dstsz - 1 ? v.n : dstsz - 1;

	if (n)
		memcpy(dst, v.p, n);
	dst[n] = '\0';
}

struct smtprobe_log_str logs_str(const char *s)
{
	struct smtprobe_log_str v = {s, s ? strlen(s) : 0};

	return v;
}
