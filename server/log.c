/* log.c - structured event lines for `smtprobe serve`: "ts=... event=...
 * key=value ..." or, with json, one JSON object per line (jansson). Values
 * come from the network: they are escaped (text) or encoded (JSON), never
 * written raw. A line is written with one fwrite and flushed. */
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "log.h"
#include "smtprobe/reply.h"
#include "banned.h"

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
			snprintf(err, errsz, "cannot open log file %s", path);
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
	if (l->own)
		fclose(l->f);
	free(l);
}

static void timestamp(char *out, size_t outsz)
{
	struct timeval tv;
	struct tm tm;
	char base[24];

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, outsz, "%.19s.%03dZ", base,
	         (int)(tv.tv_usec / 1000) % 1000);
}

void srv_log_event(struct srv_log *l, const char *event, ...)
{
	char ts[40];
	va_list ap;

	if (!l)
		return;
	timestamp(ts, sizeof(ts));
	if (l->json) {
		json_t *o = json_pack("{s:s, s:s}", "ts", ts, "event", event);
		va_start(ap, event);
		for (;;) {
			const char *k = va_arg(ap, const char *);
			if (!k)
				break;
			const char *v = va_arg(ap, const char *);
			if (!v)
				continue;
			json_t *js = json_string(v);
			if (!js) { /* not UTF-8: escape it */
				char e[1024];
				smtprobe_escape(e, sizeof(e), v, strlen(v));
				js = json_string(e);
			}
			json_object_set_new(o, k, js);
		}
		va_end(ap);
		char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(o);
		if (s) {
			size_t n = strlen(s);
			s[n] = '\n';
			fwrite(s, 1, n + 1, l->f);
			free(s);
		}
		fflush(l->f);
		return;
	}
	char line[4096];
	size_t o =
	        (size_t)snprintf(line, sizeof(line), "%s event=%s", ts, event);
	va_start(ap, event);
	for (;;) {
		const char *k = va_arg(ap, const char *);
		if (!k)
			break;
		const char *v = va_arg(ap, const char *);
		if (!v || o + 8 >= sizeof(line))
			continue;
		char e[1024];
		smtprobe_escape(e, sizeof(e), v, strlen(v));
		int quote = strchr(e, ' ') != NULL || e[0] == '\0';
		int w = snprintf(line + o, sizeof(line) - o,
		                 quote ? " %s=\"%s\"" : " %s=%s", k, e);
		if (w > 0)
			o += (size_t)w < sizeof(line) - o
			             ? (size_t)w
			             : sizeof(line) - o - 1;
	}
	va_end(ap);
	if (o + 1 < sizeof(line)) {
		line[o++] = '\n';
	} else {
		line[sizeof(line) - 2] = '\n';
		o = sizeof(line) - 1;
	}
	fwrite(line, 1, o, l->f);
	fflush(l->f);
}
