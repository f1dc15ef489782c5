/* throttle.c - per-IP connection counts and rates, fair sharing of the
 * connection slots, greylisting triples and per-user message rates for
 * `smtprobe serve`.
 *
 * Each table is a fixed array (SRV_THROTTLE_SLOTS entries) searched
 * linearly, a hash of the key compared before the key itself: a test
 * server sees few distinct clients, and a fixed size means a flood of new
 * keys evicts the least recently used entry instead of growing memory. An
 * entry that holds live connections is never evicted: when every entry
 * does, a new address is refused (srv_throttle_join returns -1) rather
 * than corrupting the count of another.
 *
 * Each address's sessions are linked in a list, least recently active
 * first, so the fair-sharing rule (srv_fair_admit, pure) can reclaim the
 * idlest slot of the biggest holder: finding that holder is one pass over
 * the fixed table, done only when the server is full. */
#include <stdint.h>
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
	uint32_t hash;  /* of key, compared first */
	unsigned count; /* concurrent connections (conn table) */
	double first;   /* greylist: first seen; rate: window start */
	unsigned n;     /* rate: events in the window */
	double used;    /* last use, for eviction */
	struct srv_peer *head, *tail; /* conn table: its sessions */
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

/* FNV-1a: only a filter before strcmp, so any spread will do. */
static uint32_t key_hash(const char *key)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h;
}

/* Find key, or take the empty / least recently used free slot for it;
 * NULL when every slot holds live connections. */
static struct slot *lookup(struct slot *tab, const char *key, double now,
                           int *fresh)
{
	struct slot *empty = NULL, *lru = NULL;
	uint32_t h = key_hash(key);

	*fresh = 0;
	for (size_t i = 0; i < SRV_THROTTLE_SLOTS; i++) {
		struct slot *sl = &tab[i];
		if (!sl->key[0]) {
			if (!empty)
				empty = sl;
		} else if (sl->hash == h && strcmp(sl->key, key) == 0) {
			sl->used = now;
			return sl;
		} else if (sl->count == 0 && (!lru || sl->used < lru->used)) {
			lru = sl;
		}
	}
	struct slot *victim = empty ? empty : lru;
	if (!victim)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	size_t n = strlen(key);
	if (n >= SRV_THROTTLE_KEY)
		n = SRV_THROTTLE_KEY - 1;
	memcpy(victim->key, key, n);
	victim->hash = key_hash(victim->key);
	victim->used = now;
	victim->first = now;
	*fresh = 1;
	return victim;
}

/* Find key without creating it. */
static struct slot *find(struct slot *tab, const char *key)
{
	uint32_t h = key_hash(key);

	for (size_t i = 0; i < SRV_THROTTLE_SLOTS; i++)
		if (tab[i].key[0] && tab[i].hash == h &&
		    strcmp(tab[i].key, key) == 0)
			return &tab[i];
	return NULL;
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

enum srv_admit srv_fair_admit(unsigned active, unsigned max, unsigned held,
                              unsigned top, unsigned per_ip)
{
	if (per_ip && held >= per_ip)
		return SRV_REFUSE_PER_IP;
	if (active < max)
		return SRV_ADMIT;
	if (top > held + 1)
		return SRV_ADMIT_RECLAIM;
	return SRV_REFUSE_FULL;
}

void srv_peer_init(struct srv_peer *p)
{
	p->prev = p->next = NULL;
	p->slot = -1;
	p->listed = 0;
}

unsigned srv_throttle_held(struct srv_throttle *l, const char *ip)
{
	const struct slot *sl = find(l->conn, ip);

	return sl ? sl->count : 0;
}

unsigned srv_throttle_top(struct srv_throttle *l, struct srv_peer **oldest)
{
	const struct slot *top = NULL;

	for (size_t i = 0; i < SRV_THROTTLE_SLOTS; i++)
		if (l->conn[i].count && (!top || l->conn[i].count > top->count))
			top = &l->conn[i];
	*oldest = top ? top->head : NULL;
	return top ? top->count : 0;
}

int srv_throttle_rate(struct srv_throttle *l, const char *ip, double now,
                      unsigned rate_per_min)
{
	int fresh;
	struct slot *sl;

	if (!rate_per_min)
		return 0;
	sl = lookup(l->conn, ip, now, &fresh);
	return sl ? rate_hit(sl, now, rate_per_min) : 0;
}

static void peer_link(struct slot *sl, struct srv_peer *p)
{
	p->prev = sl->tail;
	p->next = NULL;
	if (sl->tail)
		sl->tail->next = p;
	else
		sl->head = p;
	sl->tail = p;
	p->listed = 1;
}

static void peer_unlink(struct slot *sl, struct srv_peer *p)
{
	if (!p->listed)
		return;
	if (p->prev)
		p->prev->next = p->next;
	else
		sl->head = p->next;
	if (p->next)
		p->next->prev = p->prev;
	else
		sl->tail = p->prev;
	p->prev = p->next = NULL;
	p->listed = 0;
}

int srv_throttle_join(struct srv_throttle *l, const char *ip, double now,
                      struct srv_peer *p)
{
	int fresh;
	struct slot *sl = lookup(l->conn, ip, now, &fresh);

	if (!sl)
		return -1;
	sl->count++;
	p->slot = (int)(sl - l->conn);
	peer_link(sl, p);
	return 0;
}

void srv_throttle_touch(struct srv_throttle *l, struct srv_peer *p)
{
	if (p->slot < 0 || !p->listed)
		return;
	struct slot *sl = &l->conn[p->slot];
	if (sl->tail == p)
		return;
	peer_unlink(sl, p);
	peer_link(sl, p);
}

void srv_throttle_unlist(struct srv_throttle *l, struct srv_peer *p)
{
	if (p->slot >= 0)
		peer_unlink(&l->conn[p->slot], p);
}

void srv_throttle_leave(struct srv_throttle *l, struct srv_peer *p)
{
	if (p->slot < 0)
		return;
	struct slot *sl = &l->conn[p->slot];
	peer_unlink(sl, p);
	if (sl->count)
		sl->count--;
	p->slot = -1;
}

int srv_throttle_greylist(struct srv_throttle *l, const char *ip,
                          const char *sender, const char *rcpt, double now,
                          unsigned secs)
{
	char key[SRV_THROTTLE_KEY];
	int fresh;

	snprintf(key, sizeof(key), "%s/%s/%s", ip, sender, rcpt);
	struct slot *sl = lookup(l->grey, key, now, &fresh);
	/* (this table holds no connections: a slot is always found) */
	return !sl || fresh || now - sl->first < (double)secs;
}

int srv_throttle_message(struct srv_throttle *l, const char *user, double now,
                         unsigned rate_per_min)
{
	int fresh;
	struct slot *sl = lookup(l->rate, user, now, &fresh);

	return sl ? rate_hit(sl, now, rate_per_min) : 0;
}
