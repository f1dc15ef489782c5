/* log.h - one structured line per server event: key=value text or JSON. */
#ifndef SMTPROBE_SERVER_LOG_H
#define SMTPROBE_SERVER_LOG_H

#include <stdio.h>

#define SRV_LOG_MAX_FIELDS 64   /* fields of one event */
#define SRV_LOG_MAX_LINE   4096 /* bytes of one text line */

struct srv_log;

/* path NULL = stderr. json: one JSON object per line. */
struct srv_log *srv_log_open(const char *path, int json, char *err,
                             size_t errsz);
void srv_log_close(struct srv_log *l);

/* An event with string fields: name, then key, value pairs ending with
 * NULL. Values are escaped; NULL values are skipped. */
void srv_log_event(struct srv_log *l, const char *event, ...)
        __attribute__((sentinel));

/* Typed fields, for counters and lists: a number is a JSON number (text:
 * digits), a list is a JSON array of objects (text: the objects separated
 * by spaces, each "key=value,key=value"). */
enum srv_log_type { SRV_LOG_STR, SRV_LOG_NUM, SRV_LOG_LIST };

struct srv_log_field {
	const char *key;
	enum srv_log_type type;
	const char *str;        /* SRV_LOG_STR; NULL: the field is left out */
	unsigned long long num; /* SRV_LOG_NUM */
	const struct srv_log_field *items; /* SRV_LOG_LIST: nitems objects, */
	size_t nitems, nfields; /* nfields STR or NUM fields each, in a row */
};

#define SRV_LOG_S(k, v)                                                        \
	((struct srv_log_field){(k), SRV_LOG_STR, (v), 0, NULL, 0, 0})
#define SRV_LOG_N(k, v)                                                        \
	((struct srv_log_field){(k), SRV_LOG_NUM, NULL, (v), NULL, 0, 0})
#define SRV_LOG_L(k, it, n, nf)                                                \
	((struct srv_log_field){(k), SRV_LOG_LIST, NULL, 0, (it), (n), (nf)})

/* An event with n typed fields (at most SRV_LOG_MAX_FIELDS are written;
 * more are counted in a "dropped_fields" field). */
void srv_log_fields(struct srv_log *l, const char *event,
                    const struct srv_log_field *f, size_t n);

#endif
