/* throttle.c - per-IP connection counts and rates, greylisting triples and
 * per-user message rates for `smtprobe serve`.
 *
 * Each table is a fixed array (SRV_THROTTLE_SLOTS entries) searched linearly:
 * a test server sees few distinct clients, and a fixed size means a flood
 * of new keys evicts the oldest entry instead of growing memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "throttle.h"
#include "banned.h"

#define SRV_THROTTLE_SLOTS 4096
#define SRV_THROTTLE_KEY   512
#define SRV_RATE_WINDOW    60.0

struct slot {
	char key[SRV_THROTTLE_KEY];
	unsigned count; /* concurrent connections (conn table) */
	double first;   /* greylist: first seen; rate: window start */
	unsigned n;     /* rate: events in the window */
	double used;    /* last use, for eviction */
};

struct srv_throttle {
	struct slot conn[SRV_THROTTLE_SLOTS];
	struct slot grey[SRV_THROTTLE_SLOTS];
	struct slot rate[SRV_THROTTLE_SLOTS];
};

struct srv_throttle *srv_throttle_new(void)
{
	return calloc(1, sizeof(struct srv_throttle));
}

void srv_throttle_free(struct srv_throttle *l)
{
	free(l);
}

/* Find key, or take the empty / least recently used slot for it. */
static struct slot *lookup(struct slot *tab, const char *key, double now,
                           int *fresh)
{
	struct slot *empty = NULL, *lru = NULL;

	*fresh = 0;
	for (size_t i = 0; i < SRV_THROTTLE_SLOTS; i++) {
		struct slot *sl = &tab[i];
		if (!sl->key[0]) {
			if (!empty)
				empty = sl;
		} else if (strcmp(sl->key, key) == 0) {
			sl->used = now;
			return sl;
		} else if (sl->count == 0 && (!lru || sl->used < lru->used)) {
			lru = sl;
		}
	}
	struct slot *victim = empty ? empty : lru ? lru : &tab[0];
	memset(victim, 0, sizeof(*victim));
	size_t n = strlen(key);
	if (n >= SRV_THROTTLE_KEY)
		n = SRV_THROTTLE_KEY - 1;
	memcpy(victim->key, key, n);
	victim->used = now;
	victim->first = now;
	*fresh = 1;
	return victim;
}

/* Count an event in a one-minute window; 1 when over the rate. */
static int rate_hit(struct slot *sl, double now, unsigned rate)
{
	if (now - sl->first >= SRV_RATE_WINDOW) {
		sl->first = now;
		sl->n = 0;
	}
	if (sl->n >= rate)
		return 1;
	sl->n++;
	return 0;
}

int srv_throttle_connect(struct srv_throttle *l, const char *ip, double now,
                         unsigned per_ip, unsigned rate_per_min)
{
	int fresh;
	struct slot *sl = lookup(l->conn, ip, now, &fresh);

	if (per_ip && sl->count >= per_ip)
		return 1;
	if (rate_per_min && rate_hit(sl, now, rate_per_min))
		return 2;
	sl->count++;
	return 0;
}

void srv_throttle_disconnect(struct srv_throttle *l, const char *ip)
{
	for (size_t i = 0; i < SRV_THROTTLE_SLOTS; i++)
		if (l->conn[i].key[0] && strcmp(l->conn[i].key, ip) == 0) {
			if (l->conn[i].count)
				l->conn[i].count--;
			return;
		}
}

int srv_throttle_greylist(struct srv_throttle *l, const char *ip,
                          const char *sender, const char *rcpt, double now,
                          unsigned secs)
{
	char key[SRV_THROTTLE_KEY];
	int fresh;

	snprintf(key, sizeof(key), "%s/%s/%s", ip, sender, rcpt);
	struct slot *sl = lookup(l->grey, key, now, &fresh);
	return fresh || now - sl->first < (double)secs;
}

int srv_throttle_message(struct srv_throttle *l, const char *user, double now,
                         unsigned rate_per_min)
{
	int fresh;
	struct slot *sl = lookup(l->rate, user, now, &fresh);

	return rate_hit(sl, now, rate_per_min);
}
