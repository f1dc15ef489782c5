/* throttle.h - the protection a real relay has: connection concurrency and
 * rate per client IP with fair sharing of the server's slots, greylisting
 * of (client, sender, recipient) triples, message rate per user. Bounded
 * tables; the oldest entries give way. */
#ifndef SMTPROBE_SERVER_THROTTLE_H
#define SMTPROBE_SERVER_THROTTLE_H

#include <stddef.h>

struct srv_throttle;

struct srv_throttle *srv_throttle_new(void);
void srv_throttle_free(struct srv_throttle *l);

/* ---- fair sharing of connection slots (pure) -------------------------- */

enum srv_admit {
	SRV_ADMIT,         /* a slot is free */
	SRV_ADMIT_RECLAIM, /* full: take a slot from the biggest holder */
	SRV_REFUSE_PER_IP, /* the address already holds per_ip slots */
	SRV_REFUSE_FULL,   /* full, and nobody holds more than its share */
};

/* The rule, for a new connection from an address that holds `held` slots
 * while `active` of `max` are in use and the biggest holder (any address,
 * this one included) holds `top`; per_ip 0 = no per-address limit:
 * - held >= per_ip: refused (per-address limit);
 * - active < max: admitted;
 * - full, and top > held + 1: admitted by reclaiming one slot of the
 *   biggest holder (its least recently active idle session is closed), so
 *   when full the slots drift towards an equal share per address and a
 *   newcomer is never starved by an address holding more than it does;
 * - else refused (full, and no address holds more than one slot more than
 *   this one: nothing to reclaim fairly). */
enum srv_admit srv_fair_admit(unsigned active, unsigned max, unsigned held,
                              unsigned top, unsigned per_ip);

/* ---- connections per address ------------------------------------------ */

/* A session's place among its address's connections, embedded in the
 * session (caller-allocated, srv_peer_init first). The list of an address
 * runs from the least to the most recently active session. */
struct srv_peer {
	struct srv_peer *prev, *next;
	int slot;   /* the address's entry, -1 when not counted */
	int listed; /* in the address's list (candidates for a reclaim) */
};

void srv_peer_init(struct srv_peer *p);

/* How many connections ip holds now. */
unsigned srv_throttle_held(struct srv_throttle *l, const char *ip);
/* The most connections any one address holds, and that address's least
 * recently active session (NULL when none is listed). Bounded: one pass
 * over the fixed table. */
unsigned srv_throttle_top(struct srv_throttle *l, struct srv_peer **oldest);
/* A new connection from ip at time now (seconds): 1 when over
 * rate_per_min (the attempt is then not counted), else 0; rate 0 = off. */
int srv_throttle_rate(struct srv_throttle *l, const char *ip, double now,
                      unsigned rate_per_min);
/* Count the connection p from ip (listed as the most recently active).
 * -1 when the table has no room (every entry holds live connections). */
int srv_throttle_join(struct srv_throttle *l, const char *ip, double now,
                      struct srv_peer *p);
/* p was active: it becomes its address's most recently active session. */
void srv_throttle_touch(struct srv_throttle *l, struct srv_peer *p);
/* p is closing: no longer a candidate for a reclaim, still counted. */
void srv_throttle_unlist(struct srv_throttle *l, struct srv_peer *p);
/* p is gone: no longer counted (no-op when it was not). */
void srv_throttle_leave(struct srv_throttle *l, struct srv_peer *p);

/* ---- greylisting and message rates ------------------------------------ */

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
