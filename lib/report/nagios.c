/* nagios.c - threshold ranges as the monitoring-plugins development
 * guidelines define them ("[@]start:end", start defaulting to 0, "~" for
 * minus infinity, an empty end for infinity; the alert fires outside the
 * range, or inside it with "@", both ends inclusive), for `--format
 * nagios -w/-c`. Numbers are C-locale decimals (strtod, then a check that
 * nothing but the separator follows); anything else is refused, never
 * half-read. Pure: no allocation. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "smtprobe/nagios.h"
#include "banned.h"

/* One number filling exactly [s, s+len); 0 or -1. */
static int number(const char *s, size_t len, double *out)
{
	char buf[64];
	char *end;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	/* strtod takes "inf", "nan", hex and leading spaces: none is a
	 * threshold */
	for (size_t i = 0; i < len; i++)
		if (!strchr("0123456789.+-eE", buf[i]))
			return -1;
	errno = 0;
	double v = strtod(buf, &end);
	if (end != buf + len || errno == ERANGE || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

int smtprobe_nagios_range_parse(const char *s,
                                struct smtprobe_nagios_range *out)
{
	struct smtprobe_nagios_range r = {0, 0, 0, 0, 0};

	if (!s)
		return -1;
	if (*s == '@') {
		r.inside = 1;
		s++;
	}
	if (*s == '\0')
		return -1;
	const char *colon = strchr(s, ':');
	if (!colon) {
		/* "10": 0..10 */
		if (number(s, strlen(s), &r.end) < 0)
			return -1;
	} else {
		size_t slen = (size_t)(colon - s);
		const char *e = colon + 1;
		if (slen == 1 && s[0] == '~')
			r.start_inf = 1;
		else if (slen > 0 && number(s, slen, &r.start) < 0)
			return -1;
		if (*e == '\0')
			r.end_inf = 1;
		else if (number(e, strlen(e), &r.end) < 0)
			return -1;
	}
	if (!r.start_inf && !r.end_inf && r.start > r.end)
		return -1;
	*out = r;
	return 0;
}

int smtprobe_nagios_range_alert(const struct smtprobe_nagios_range *r,
                                double value)
{
	int in = (r->start_inf || value >= r->start) &&
	         (r->end_inf || value <= r->end);

	return r->inside ? in : !in;
}
