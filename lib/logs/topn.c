/* topn.c - counts per key in bounded memory (logs_int.h): the Space-Saving
 * algorithm (Metwally, Agrawal, El Abbadi 2005). A table tracks at most
 * `cap` keys; while fewer distinct keys than that have come, every count is
 * exact; past it, a new key takes the place of the key with the smallest
 * count and inherits that count as its possible overcount (err), so a
 * count is never under the truth and at most err over it, and every key
 * more frequent than total / cap is in the table.
 *
 * Keys are copied (cut at LOGS_KEY_MAX bytes); lookup is an open-addressing
 * hash (FNV-1a, twice the capacity, tombstone-free: an evicted key's slot
 * is reused by the key that replaces it); the smallest count is found with
 * a binary min-heap over the entries. Each add is O(1) expected plus
 * O(log cap) heap work. Memory: cap * (LOGS_KEY_MAX + 40) bytes and the
 * slots, fixed at creation. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logs_int.h"

#include "banned.h"

struct topn_entry {
	char key[LOGS_KEY_MAX + 1];
	uint32_t len;
	uint32_t heap; /* its index in the heap */
	uint64_t count, err;
	uint32_t slot; /* its index in the hash slots */
};

struct logs_topn {
	uint32_t cap, n;
	uint32_t nslots; /* a power of two, >= 2 * cap */
	uint32_t *slots; /* entry index + 1, 0 empty */
	uint32_t *heap;  /* entry indexes, min-heap on count */
	struct topn_entry *e;
	uint64_t total;
	int approximate; /* a key was evicted */
};

static uint32_t hash(const char *k, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)k[i]) * 16777619u;
	return h;
}

struct logs_topn *logs_topn_new(unsigned cap)
{
	struct logs_topn *t = calloc(1, sizeof(*t));
	uint32_t ns = 16;

	if (t == NULL || cap == 0)
		goto fail;
	while (ns < 2 * (uint32_t)cap)
		ns *= 2;
	t->cap = cap;
	t->nslots = ns;
	t->slots = calloc(ns, sizeof(*t->slots));
	t->heap = calloc(cap, sizeof(*t->heap));
	t->e = calloc(cap, sizeof(*t->e));
	if (t->slots && t->heap && t->e)
		return t;
fail:
	logs_topn_free(t);
	return NULL;
}

void logs_topn_free(struct logs_topn *t)
{
	if (t == NULL)
		return;
	free(t->slots);
	free(t->heap);
	free(t->e);
	free(t);
}

static void heap_swap(struct logs_topn *t, uint32_t a, uint32_t b)
{
	uint32_t x = t->heap[a];

	t->heap[a] = t->heap[b];
	t->heap[b] = x;
	t->e[t->heap[a]].heap = a;
	t->e[t->heap[b]].heap = b;
}

/* the entry at heap index i grew: move it down */
static void sift_down(struct logs_topn *t, uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < t->n && t->e[t->heap[l]].count < t->e[t->heap[m]].count)
			m = l;
		if (r < t->n && t->e[t->heap[r]].count < t->e[t->heap[m]].count)
			m = r;
		if (m == i)
			return;
		heap_swap(t, i, m);
		i = m;
	}
}

static void sift_up(struct logs_topn *t, uint32_t i)
{
	while (i > 0) {
		uint32_t p = (i - 1) / 2;
		if (t->e[t->heap[p]].count <= t->e[t->heap[i]].count)
			return;
		heap_swap(t, i, p);
		i = p;
	}
}

/* the slot of key, or of the empty slot where it would go */
static uint32_t find(const struct logs_topn *t, const char *k, size_t n)
{
	uint32_t s = hash(k, n) & (t->nslots - 1);

	while (t->slots[s]) {
		const struct topn_entry *e = &t->e[t->slots[s] - 1];
		if (e->len == n && memcmp(e->key, k, n) == 0)
			return s;
		s = (s + 1) & (t->nslots - 1);
	}
	return s;
}

/* remove slot s from the probe sequence (backward-shift deletion) */
static void unslot(struct logs_topn *t, uint32_t s)
{
	uint32_t mask = t->nslots - 1;

	t->slots[s] = 0;
	for (uint32_t j = (s + 1) & mask; t->slots[j]; j = (j + 1) & mask) {
		struct topn_entry *e = &t->e[t->slots[j] - 1];
		uint32_t home = hash(e->key, e->len) & mask;
		/* move it back when its home is not in (s, j] */
		int move = s <= j ? (home <= s || home > j)
		                  : (home <= s && home > j);
		if (move) {
			t->slots[s] = t->slots[j];
			e->slot = s;
			t->slots[j] = 0;
			s = j;
		}
	}
}

long logs_topn_add(struct logs_topn *t, const char *k, size_t n, uint64_t by,
                   int *fresh)
{
	struct topn_entry *e;
	uint32_t s;

	if (fresh)
		*fresh = 0;
	if (t == NULL || by == 0)
		return -1;
	if (n > LOGS_KEY_MAX)
		n = LOGS_KEY_MAX;
	t->total += by;
	s = find(t, k, n);
	if (t->slots[s]) {
		e = &t->e[t->slots[s] - 1];
		e->count += by;
		sift_down(t, e->heap);
		return (long)(e - t->e);
	}
	if (fresh)
		*fresh = 1; /* a new key in this entry: its side data anew */
	if (t->n < t->cap) {
		uint32_t i = t->n++;
		e = &t->e[i];
		e->heap = i;
		t->heap[i] = i;
		e->count = by;
		e->err = 0;
	} else {
		/* Space-Saving: the smallest gives its place and its count */
		e = &t->e[t->heap[0]];
		t->approximate = 1;
		unslot(t, e->slot);
		s = find(t, k, n);
		e->err = e->count;
		e->count += by;
	}
	memcpy(e->key, k, n);
	e->key[n] = '\0';
	e->len = (uint32_t)n;
	e->slot = s;
	t->slots[s] = (uint32_t)(e - t->e) + 1;
	if (e->heap == 0 && t->n == t->cap)
		sift_down(t, 0);
	else
		sift_up(t, e->heap);
	return (long)(e - t->e);
}

const char *logs_topn_key(const struct logs_topn *t, long i)
{
	return t && i >= 0 && (uint32_t)i < t->n ? t->e[i].key : "";
}

uint64_t logs_topn_total(const struct logs_topn *t)
{
	return t ? t->total : 0;
}

size_t logs_topn_size(const struct logs_topn *t)
{
	return t ? t->n : 0;
}

int logs_topn_approximate(const struct logs_topn *t)
{
	return t ? t->approximate : 0;
}

uint64_t logs_topn_get(const struct logs_topn *t, const char *k, size_t n)
{
	uint32_t s;

	if (t == NULL)
		return 0;
	if (n > LOGS_KEY_MAX)
		n = LOGS_KEY_MAX;
	s = find(t, k, n);
	return t->slots[s] ? t->e[t->slots[s] - 1].count : 0;
}

static int by_count(const void *a, const void *b)
{
	const struct logs_top_row *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->key, y->key);
}

size_t logs_topn_rows(const struct logs_topn *t, struct logs_top_row *rows,
                      size_t max)
{
	struct logs_top_row *all;
	size_t n;

	if (t == NULL || t->n == 0 || max == 0)
		return 0;
	all = malloc(t->n * sizeof(*all));
	if (all == NULL)
		return 0;
	for (uint32_t i = 0; i < t->n; i++)
		all[i] = (struct logs_top_row){t->e[i].key, t->e[i].count,
		                               t->e[i].err};
	qsort(all, t->n, sizeof(*all), by_count);
	n = t->n < max ? t->n : max;
	memcpy(rows, all, n * sizeof(*rows));
	free(all);
	return n;
}
