/* log.c - structured event lines for `smtprobe serve`: "ts=... event=...
 * key=value ..." or, with json, one JSON object per line (jansson).
 *
 * Fields are typed (log.h): strings, numbers (JSON numbers; digits in text)
 * and lists of small objects (JSON arrays of objects; in text the objects
 * separated by spaces, each "key=value,key=value"). srv_log_event, the
 * string-only form every caller used first, goes through the same writer.
 * String values come from the network: they are escaped (text) or encoded
 * (JSON; bytes that are not UTF-8 are escaped first), never written raw.
 * A line is written with one fwrite and flushed before the caller goes on:
 * a client that sees a reply or a close finds its line in the log (lines
 * held for a loop turn saved a few microseconds a message and broke
 * that). Limits: a text line is at most SRV_LOG_MAX_LINE bytes (a longer
 * one ends in "..."), an escaped value at most ESC_MAX bytes, an event
 * SRV_LOG_MAX_FIELDS fields (more are counted in "dropped_fields"). */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "log.h"
#include "smtprobe/reply.h"
#include "banned.h"

#define ESC_MAX 1024 /* bytes of one escaped value */

struct srv_log {
	FILE *f;
	int own;
	int json;
};

struct srv_log *srv_log_open(const char *path, int json, char *err,
                             size_t errsz)
{
	struct srv_log *l = calloc(1, sizeof(*l));

	if (!l) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	l->json = json;
	l->f = stderr;
	if (path && strcmp(path, "-") != 0) {
		l->f = fopen(path, "a");
		if (!l->f) {
			snprintf(err, errsz, "cannot open log file %s: %s",
			         path, strerror(errno));
			free(l);
			return NULL;
		}
		l->own = 1;
	}
	return l;
}

void srv_log_close(struct srv_log *l)
{
	if (!l)
		return;
	fflush(l->f);
	if (l->own)
		fclose(l->f);
	free(l);
}

static void timestamp(char *out, size_t outsz)
{
	/* the date and time change once a second: made once a second (per
	 * thread: a reload logs from the pool) */
	static __thread time_t sec = -1;
	static __thread char base[24];
	struct timeval tv;

	gettimeofday(&tv, NULL);
	if (tv.tv_sec != sec) {
		struct tm tm;
		gmtime_r(&tv.tv_sec, &tm);
		strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
		sec = tv.tv_sec;
	}
	snprintf(out, outsz, "%.19s.%03dZ", base,
	         (int)(tv.tv_usec / 1000) % 1000);
}

/* ---- JSON --------------------------------------------------------- */

static json_t *json_value(const struct srv_log_field *f);

static json_t *json_str(const char *v)
{
	json_t *js = json_string(v);

	if (!js) { /* not UTF-8: escape it */
		char e[ESC_MAX];

		smtprobe_escape(e, sizeof(e), v, strlen(v));
		js = json_string(e);
	}
	return js;
}

static void json_fields(json_t *o, const struct srv_log_field *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_value(&f[i]);

		if (v)
			json_object_set_new(o, f[i].key, v);
	}
}

/* NULL: the field is left out. */
static json_t *json_value(const struct srv_log_field *f)
{
	switch (f->type) {
	case SRV_LOG_STR:
		return f->str ? json_str(f->str) : NULL;
	case SRV_LOG_NUM:
		return json_integer((json_int_t)f->num);
	case SRV_LOG_LIST: {
		json_t *a = json_array();

		for (size_t i = 0; a && i < f->nitems; i++) {
			json_t *o = json_object();

			if (o)
				json_fields(o, f->items + i * f->nfields,
				            f->nfields);
			json_array_append_new(a, o);
		}
		return a;
	}
	}
	return NULL;
}

static void write_json(struct srv_log *l, const char *ts, const char *event,
                       const struct srv_log_field *f, size_t n, size_t dropped)
{
	json_t *o = json_pack("{s:s, s:s}", "ts", ts, "event", event);
	char *s;

	if (!o)
		return;
	json_fields(o, f, n);
	if (dropped)
		json_object_set_new(o, "dropped_fields",
		                    json_integer((json_int_t)dropped));
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (s) {
		size_t len = strlen(s);

		s[len] = '\n'; /* over the NUL: fwrite takes a length */
		fwrite(s, 1, len + 1, l->f);
		free(s);
	}
}

/* ---- text --------------------------------------------------------- */

struct line {
	char buf[SRV_LOG_MAX_LINE];
	size_t len;
	int full;
};

static void put(struct line *ln, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void put(struct line *ln, const char *fmt, ...)
{
	size_t room = sizeof(ln->buf) - ln->len;
	va_list ap;
	int w;

	if (ln->full)
		return;
	va_start(ap, fmt);
	w = vsnprintf(ln->buf + ln->len, room, fmt, ap);
	va_end(ap);
	if (w < 0 || (size_t)w >= room) {
		ln->len = sizeof(ln->buf) - 1;
		ln->full = 1;
	} else {
		ln->len += (size_t)w;
	}
}

/* One value as text into out (escaped): a string, digits, or a list. */
static void text_value(const struct srv_log_field *f, char *out, size_t outsz)
{
	size_t o = 0;

	out[0] = '\0';
	switch (f->type) {
	case SRV_LOG_STR:
		smtprobe_escape(out, outsz, f->str, strlen(f->str));
		return;
	case SRV_LOG_NUM:
		snprintf(out, outsz, "%llu", f->num);
		return;
	case SRV_LOG_LIST:
		for (size_t i = 0; i < f->nitems; i++) {
			const struct srv_log_field *it =
			        f->items + i * f->nfields;
			int sep = 0;

			for (size_t j = 0; j < f->nfields && o + 1 < outsz;
			     j++) {
				char e[ESC_MAX];

				if (it[j].type == SRV_LOG_LIST ||
				    (it[j].type == SRV_LOG_STR && !it[j].str))
					continue;
				text_value(&it[j], e, sizeof(e));
				int w = snprintf(out + o, outsz - o, "%s%s=%s",
				                 sep ? "," : (i ? " " : ""),
				                 it[j].key, e);
				if (w < 0 || (size_t)w >= outsz - o) {
					/* cut: say so */
					if (outsz >= 4)
						memcpy(out + outsz - 4, "...",
						       4);
					return;
				}
				o += (size_t)w;
				sep = 1;
			}
		}
		return;
	}
}

static void write_text(struct srv_log *l, const char *ts, const char *event,
                       const struct srv_log_field *f, size_t n, size_t dropped)
{
	struct line ln;
	char e[SRV_LOG_MAX_LINE];

	ln.len = 0;
	ln.full = 0;
	put(&ln, "%s event=%s", ts, event);
	for (size_t i = 0; i < n && !ln.full; i++) {
		if (f[i].type == SRV_LOG_STR && !f[i].str)
			continue;
		text_value(&f[i], e, sizeof(e));
		int quote = strchr(e, ' ') != NULL || e[0] == '\0';
		put(&ln, quote ? " %s=\"%s\"" : " %s=%s", f[i].key, e);
	}
	if (dropped)
		put(&ln, " dropped_fields=%zu", dropped);
	if (ln.full) {
		ln.len = sizeof(ln.buf) - 5;
		memcpy(ln.buf + ln.len, "...", 3);
		ln.len += 3;
	}
	ln.buf[ln.len++] = '\n';
	fwrite(ln.buf, 1, ln.len, l->f);
}

/* ---- events ------------------------------------------------------- */

static void log_write(struct srv_log *l, const char *event,
                      const struct srv_log_field *f, size_t n, size_t dropped)
{
	char ts[40];

	if (!l)
		return;
	if (n > SRV_LOG_MAX_FIELDS) {
		dropped += n - SRV_LOG_MAX_FIELDS;
		n = SRV_LOG_MAX_FIELDS;
	}
	timestamp(ts, sizeof(ts));
	if (l->json)
		write_json(l, ts, event, f, n, dropped);
	else
		write_text(l, ts, event, f, n, dropped);
	fflush(l->f);
}

void srv_log_fields(struct srv_log *l, const char *event,
                    const struct srv_log_field *f, size_t n)
{
	log_write(l, event, f, n, 0);
}

void srv_log_event(struct srv_log *l, const char *event, ...)
{
	struct srv_log_field f[SRV_LOG_MAX_FIELDS];
	size_t n = 0, dropped = 0;
	va_list ap;

	if (!l)
		return;
	va_start(ap, event);
	for (;;) {
		const char *k = va_arg(ap, const char *);
		const char *v;

		if (!k)
			break;
		v = va_arg(ap, const char *);
		if (!v)
			continue;
		if (n < SRV_LOG_MAX_FIELDS)
			f[n++] = SRV_LOG_S(k, v);
		else
			dropped++;
	}
	va_end(ap);
	log_write(l, event, f, n, dropped);
}
