/* nagios.h - the monitoring-plugins threshold range syntax (-w/-c):
 * "10" (alert outside 0..10), "10:" (below 10), "~:10" (above 10),
 * "10:20" (outside 10..20), "@10:20" (inside 10..20, inclusive).
 * Pure (lib/report/nagios.c). */
#ifndef SMTPROBE_NAGIOS_H
#define SMTPROBE_NAGIOS_H

struct smtprobe_nagios_range {
	double start, end;
	int start_inf; /* "~": no lower bound */
	int end_inf;   /* "10:": no upper bound */
	int inside;    /* "@": alert inside the range */
};

/* Parse s; 0, or -1 (out untouched) when it is not a range: empty, not a
 * number, start above end, trailing text. */
int smtprobe_nagios_range_parse(const char *s,
                                struct smtprobe_nagios_range *out);
/* 1 when value calls for the alert the range stands for. */
int smtprobe_nagios_range_alert(const struct smtprobe_nagios_range *r,
                                double value);

#endif
