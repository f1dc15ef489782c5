/* throttle.h - the protection a real relay has: connection concurrency and
 * rate per client IP, greylisting of (client, sender, recipient) triples,
 * message rate per user. Bounded tables; the oldest entries give way. */
#ifndef SMTPROBE_SERVER_THROTTLE_H
#define SMTPROBE_SERVER_THROTTLE_H

#include <stddef.h>

struct srv_throttle;

struct srv_throttle *srv_throttle_new(void);
void srv_throttle_free(struct srv_throttle *l);

/* A connection from ip (text form) at time now (seconds): returns 0 to
 * accept, 1 when over conn_per_ip (concurrent), 2 when over the rate.
 * A connection accepted must be released with srv_throttle_disconnect. */
int srv_throttle_connect(struct srv_throttle *l, const char *ip, double now,
                         unsigned per_ip, unsigned rate_per_min);
void srv_throttle_disconnect(struct srv_throttle *l, const char *ip);

/* Greylisting: 1 when the triple must be deferred now (first seen, or
 * seen less than secs ago), 0 when it may pass. */
int srv_throttle_greylist(struct srv_throttle *l, const char *ip,
                          const char *sender, const char *rcpt, double now,
                          unsigned secs);

/* Message rate: 1 when user already sent rate_per_min messages in the last
 * minute (the message is then refused and not counted), else counts it. */
int srv_throttle_message(struct srv_throttle *l, const char *user, double now,
                         unsigned rate_per_min);

#endif
