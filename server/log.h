/* log.h - one structured line per server event: key=value text or JSON. */
#ifndef SMTPROBE_SERVER_LOG_H
#define SMTPROBE_SERVER_LOG_H

#include <stdio.h>

struct srv_log;

/* path NULL = stderr. json: one JSON object per line. */
struct srv_log *srv_log_open(const char *path, int json, char *err,
                             size_t errsz);
void srv_log_close(struct srv_log *l);

/* An event with string fields: name, then key, value pairs ending with
 * NULL. Values are escaped; NULL values are skipped. */
void srv_log_event(struct srv_log *l, const char *event, ...)
        __attribute__((sentinel));

#endif
