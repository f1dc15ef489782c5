/* throttle.c - per-IP connection counts and rates, fair sharing of the
 * connection slots, greylisting triples and per-user message rates for
 * `smtprobe serve`.
 *
 * Each table is a fixed array of SRV_THROTTLE_SLOTS entries with a hash
 * index (chains through the entries), so a lookup costs a few string
 * compares whatever the number of clients, and a fixed size means a flood
 * of new keys evicts the least recently used entry instead of growing
 * memory. Entries are on one of two lists: idle (no live connection;
 * least recently used first: the next to be evicted) or, in the
 * connection table, active. An entry that holds live connections is never
 * evicted: when every entry does, a new address is refused
 * (srv_throttle_join returns -1) rather than corrupting another's count.
 *
 * Each address's sessions are linked in a list, least recently active
 * first, so the fair-sharing rule (srv_fair_admit, pure) can reclaim the
 * idlest slot of the biggest holder; finding that holder walks the active
 * list (the addresses with connections now), and only when the server is
 * full. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "throttle.h"
#include "banned.h"

#define SRV_THROTTLE_SLOTS   4096
#define SRV_THROTTLE_BUCKETS 8192 /* a power of two */
#define SRV_THROTTLE_KEY     512
#define SRV_RATE_WINDOW      60.0
#define NIL                  (-1)

struct slot {
	char key[SRV_THROTTLE_KEY];
	uint32_t hash;
	int hnext;        /* next entry in its hash chain */
	int lprev, lnext; /* neighbours on the idle or the active list */
	unsigned count;   /* concurrent connections (conn table) */
	double first;     /* greylist: first seen; rate: window start */
	unsigned n;       /* rate: events in the window */
	struct srv_peer *head, *tail; /* conn table: its sessions */
};

struct list {
	int head, tail;
};

struct table {
	struct slot s[SRV_THROTTLE_SLOTS];
	int bucket[SRV_THROTTLE_BUCKETS]; /* first entry of each chain */
	int nfresh;                       /* entries never used: s[nfresh..] */
	struct list idle;   /* no connection: least recently used first */
	struct list active; /* holding connections */
};

struct srv_throttle {
	struct table conn, grey, rate;
};

static void table_init(struct table *t)
{
	for (size_t i = 0; i < SRV_THROTTLE_BUCKETS; i++)
		t->bucket[i] = NIL;
	t->nfresh = 0;
	t->idle.head = t->idle.tail = NIL;
	t->active.head = t->active.tail = NIL;
}

struct srv_throttle *srv_throttle_new(void)
{
	struct srv_throttle *l = calloc(1, sizeof(*l));

	if (l) {
		table_init(&l->conn);
		table_init(&l->grey);
		table_init(&l->rate);
	}
	return l;
}

void srv_throttle_free(struct srv_throttle *l)
{
	free(l);
}

/* FNV-1a of the key as stored (at most SRV_THROTTLE_KEY - 1 bytes). */
static uint32_t key_hash(const char *key, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)key[i]) * 16777619u;
	return h;
}

static size_t key_len(const char *key)
{
	size_t n = strlen(key);

	return n < SRV_THROTTLE_KEY ? n : SRV_THROTTLE_KEY - 1;
}

static void list_unlink(struct table *t, struct list *li, int i)
{
	struct slot *sl = &t->s[i];

	if (sl->lprev != NIL)
		t->s[sl->lprev].lnext = sl->lnext;
	else
		li->head = sl->lnext;
	if (sl->lnext != NIL)
		t->s[sl->lnext].lprev = sl->lprev;
	else
		li->tail = sl->lprev;
	sl->lprev = sl->lnext = NIL;
}

static void list_append(struct table *t, struct list *li, int i)
{
	struct slot *sl = &t->s[i];

	sl->lprev = li->tail;
	sl->lnext = NIL;
	if (li->tail != NIL)
		t->s[li->tail].lnext = i;
	else
		li->head = i;
	li->tail = i;
}

/* Find key without creating it: its index, or NIL. */
static int find(struct table *t, const char *key)
{
	size_t n = key_len(key);
	uint32_t h = key_hash(key, n);

	for (int i = t->bucket[h & (SRV_THROTTLE_BUCKETS - 1)]; i != NIL;
	     i = t->s[i].hnext)
		if (t->s[i].hash == h && strncmp(t->s[i].key, key, n) == 0 &&
		    t->s[i].key[n] == '\0')
			return i;
	return NIL;
}

static void chain_unlink(struct table *t, int i)
{
	int *pp = &t->bucket[t->s[i].hash & (SRV_THROTTLE_BUCKETS - 1)];

	while (*pp != NIL && *pp != i)
		pp = &t->s[*pp].hnext;
	if (*pp == i)
		*pp = t->s[i].hnext;
}

/* Find key (it becomes the most recently used), or take a never used or
 * the least recently used idle entry for it; NULL when every entry holds
 * live connections. */
static struct slot *lookup(struct table *t, const char *key, double now,
                           int *fresh)
{
	int i = find(t, key);

	*fresh = 0;
	if (i != NIL) {
		struct slot *sl = &t->s[i];
		if (!sl->count) { /* used now: the last to be evicted */
			list_unlink(t, &t->idle, i);
			list_append(t, &t->idle, i);
		}
		return sl;
	}
	if (t->nfresh < SRV_THROTTLE_SLOTS) {
		i = t->nfresh++;
	} else if (t->idle.head != NIL) {
		i = t->idle.head;
		list_unlink(t, &t->idle, i);
		chain_unlink(t, i);
	} else {
		return NULL;
	}
	struct slot *sl = &t->s[i];
	size_t n = key_len(key);
	memset(sl, 0, sizeof(*sl));
	memcpy(sl->key, key, n);
	sl->hash = key_hash(key, n);
	sl->first = now;
	sl->lprev = sl->lnext = NIL;
	int *b = &t->bucket[sl->hash & (SRV_THROTTLE_BUCKETS - 1)];
	sl->hnext = *b;
	*b = i;
	list_append(t, &t->idle, i);
	*fresh = 1;
	return sl;
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
	int i = find(&l->conn, ip);

	return i != NIL ? l->conn.s[i].count : 0;
}

unsigned srv_throttle_top(struct srv_throttle *l, struct srv_peer **oldest)
{
	const struct slot *top = NULL;

	for (int i = l->conn.active.head; i != NIL; i = l->conn.s[i].lnext)
		if (!top || l->conn.s[i].count > top->count)
			top = &l->conn.s[i];
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
	sl = lookup(&l->conn, ip, now, &fresh);
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
	struct slot *sl = lookup(&l->conn, ip, now, &fresh);

	if (!sl)
		return -1;
	int i = (int)(sl - l->conn.s);
	if (sl->count++ == 0) {
		list_unlink(&l->conn, &l->conn.idle, i);
		list_append(&l->conn, &l->conn.active, i);
	}
	p->slot = i;
	peer_link(sl, p);
	return 0;
}

void srv_throttle_touch(struct srv_throttle *l, struct srv_peer *p)
{
	if (p->slot < 0 || !p->listed)
		return;
	struct slot *sl = &l->conn.s[p->slot];
	if (sl->tail == p)
		return;
	peer_unlink(sl, p);
	peer_link(sl, p);
}

void srv_throttle_unlist(struct srv_throttle *l, struct srv_peer *p)
{
	if (p->slot >= 0)
		peer_unlink(&l->conn.s[p->slot], p);
}

void srv_throttle_leave(struct srv_throttle *l, struct srv_peer *p)
{
	if (p->slot < 0)
		return;
	struct slot *sl = &l->conn.s[p->slot];
	peer_unlink(sl, p);
	if (sl->count && --sl->count == 0) { /* idle: may be evicted now */
		list_unlink(&l->conn, &l->conn.active, p->slot);
		list_append(&l->conn, &l->conn.idle, p->slot);
	}
	p->slot = -1;
}

int srv_throttle_greylist(struct srv_throttle *l, const char *ip,
                          const char *sender, const char *rcpt, double now,
                          unsigned secs)
{
	char key[SRV_THROTTLE_KEY];
	int fresh;

	snprintf(key, sizeof(key), "%s/%s/%s", ip, sender, rcpt);
	struct slot *sl = lookup(&l->grey, key, now, &fresh);
	/* (this table holds no connections: a slot is always found) */
	return !sl || fresh || now - sl->first < (double)secs;
}

int srv_throttle_message(struct srv_throttle *l, const char *user, double now,
                         unsigned rate_per_min)
{
	int fresh;
	struct slot *sl = lookup(&l->rate, user, now, &fresh);

	return sl ? rate_hit(sl, now, rate_per_min) : 0;
}
