/* logs_int.h - what the files of lib/logs share (internal): bounded
 * per-key counts (topn.c), per-minute spike detection (spike.c). */
#ifndef SMTPROBE_LOGS_INT_H
#define SMTPROBE_LOGS_INT_H

#include <stddef.h>
#include <stdint.h>

/* ---- counts per key, bounded (topn.c) ---- */

#define LOGS_KEY_MAX 255 /* longer keys are cut */

struct logs_topn;
struct logs_top_row {
	const char *key; /* inside the table: valid while it lives */
	uint64_t count;  /* never under the truth ... */
	uint64_t err;    /* ... and at most this over it (0: exact) */
};

/* A table of at most cap keys; NULL when out of memory (or cap 0). */
struct logs_topn *logs_topn_new(unsigned cap);
void logs_topn_free(struct logs_topn *t);
void logs_topn_add(struct logs_topn *t, const char *k, size_t n, uint64_t by);
/* everything added, kept or not */
uint64_t logs_topn_total(const struct logs_topn *t);
/* keys kept; 1 once a key was evicted (counts are then bounds) */
size_t logs_topn_size(const struct logs_topn *t);
int logs_topn_approximate(const struct logs_topn *t);
uint64_t logs_topn_get(const struct logs_topn *t, const char *k, size_t n);
/* the max largest, count descending (ties by key); how many */
size_t logs_topn_rows(const struct logs_topn *t, struct logs_top_row *rows,
                      size_t max);

/* ---- spikes in a per-minute count (spike.c) ---- */

#define LOGS_MAX_WINDOW 1440 /* minutes of baseline at most (a day) */
#define LOGS_MAX_SPIKES 64

struct logs_spike_opts {
	unsigned window; /* minutes of trailing baseline (0: the max) */
	double k;        /* over median + k * MAD */
	uint64_t min;    /* and at least this many in the minute */
};

struct logs_spike_row {
	int64_t start, end; /* seconds since the epoch: the first minute's
	                       start, the last minute's end */
	uint64_t count;
	double baseline; /* the median of the baseline at the start */
	double limit;    /* what the first minute had to exceed */
};

struct logs_spike {
	struct logs_spike_opts o;
	int64_t minute; /* the current minute (ts / 60), -1 before any */
	uint64_t count; /* in the current minute */
	uint64_t ring[LOGS_MAX_WINDOW];
	unsigned pos;
	uint64_t filled; /* minutes closed */
	int open;        /* the last closed minute was a spike */
	int fresh;       /* a spike began since the caller last cleared it */
	int finished;
	size_t nrows;
	struct logs_spike_row rows[LOGS_MAX_SPIKES];
	size_t dropped; /* spikes past LOGS_MAX_SPIKES */
};

void logs_spike_init(struct logs_spike *s, const struct logs_spike_opts *o);
/* time moves to ts (closing the minutes before it); ts < 0: nothing */
void logs_spike_tick(struct logs_spike *s, int64_t ts);
/* n events at ts */
void logs_spike_add(struct logs_spike *s, int64_t ts, uint64_t n);
/* the end of the input: close the current minute */
void logs_spike_finish(struct logs_spike *s);

#endif
