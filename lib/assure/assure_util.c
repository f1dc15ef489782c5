/* assure_util.c - small pieces the converters of lib/assure share
 * (assure_int.h): bounded detail texts, a suite named after its target,
 * the certificate's expiry as a metric, dates and durations. No I/O. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "assure_int.h"
#include "smtprobe/outcome.h"
#include "banned.h"

void assure_text_init(struct assure_text *t)
{
	t->buf[0] = '\0';
	t->len = 0;
}

void assure_text_line(struct assure_text *t, const char *prefix,
                      const char *value)
{
	if (value == NULL || value[0] == '\0' || t->len >= sizeof(t->buf) - 1)
		return;
	int n = snprintf(t->buf + t->len, sizeof(t->buf) - t->len, "%s%s%s\n",
	                 prefix ? prefix : "", prefix ? ": " : "", value);
	if (n < 0)
		return;
	t->len += (size_t)n;
	if (t->len >= sizeof(t->buf))
		t->len = sizeof(t->buf) - 1;
}

struct smtprobe_suite *assure_suite(struct smtprobe_outcome *o,
                                    const char *kind, const char *host,
                                    unsigned port, double ms)
{
	char name[320];

	snprintf(name, sizeof(name), "%s %s:%u", kind, host, port);
	struct smtprobe_suite *s = smtprobe_outcome_suite(o, name, host);
	if (s)
		smtprobe_outcome_suite_time(o, s, ms / 1000.0,
		                            (double)time(NULL) - ms / 1000.0);
	return s;
}

void assure_cert_expiry(struct smtprobe_outcome *o, const char *not_after)
{
	long long na = assure_iso_epoch(not_after);
	if (na >= 0)
		smtprobe_outcome_metric(
		        o, "smtprobe_tls_cert_not_after_timestamp_seconds",
		        "gauge",
		        "When the server's certificate expires (Unix time)",
		        (double)na, SMTPROBE_LABELS_END);
}

double assure_seconds(double ms)
{
	return round(ms * 1000.0) / 1e6;
}

long long assure_iso_epoch(const char *iso)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (iso == NULL || iso[0] == '\0')
		return -1;
	const char *end = strptime(iso, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0')
		return -1;
	return (long long)timegm(&tm);
}
