/* spike.c - spikes in a per-minute count (logs_int.h): each minute's count
 * against the trailing baseline of the `window` minutes before it, a spike
 * minute being one over median + k * s of that baseline and with at least
 * `min` events. s, the baseline's spread, is the largest of 1.4826 * MAD
 * (the median absolute deviation scaled to a standard deviation: robust
 * to the spikes inside the baseline), sqrt(median) (the noise of a count
 * of independent events, Poisson: a busy but steady minute count wanders
 * by that much) and 1 (a quiet baseline of zeros still needs k events). On
 * a day of a steady 15 a minute, k = 5 puts the limit near 35: the noise
 * crosses it about once in 100 days. Consecutive spike
 * minutes make one spike (start, end, their count, the baseline median of
 * its first minute).
 *
 * Streaming: minutes come in order (a minute earlier than the current one
 * is counted in the current one); a gap of empty minutes is filled with
 * zeros (at most the window's worth: older ones fall out of the baseline
 * anyway). Memory: the window's ring of counts and the spikes found, at
 * most LOGS_MAX_SPIKES per series (later ones are counted, not kept). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "logs_int.h"

#include "banned.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double median(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return n % 2 ? (double)v[n / 2] : ((double)v[n / 2 - 1] + v[n / 2]) / 2;
}

void logs_spike_init(struct logs_spike *s, const struct logs_spike_opts *o)
{
	memset(s, 0, sizeof(*s));
	s->o = *o;
	if (s->o.window == 0 || s->o.window > LOGS_MAX_WINDOW)
		s->o.window = LOGS_MAX_WINDOW;
	s->minute = -1;
}

/* the baseline of the minutes before the current one: 0 when there are
 * fewer than a quarter of the window yet (too little to judge) */
static int baseline(const struct logs_spike *s, double *med, double *mad)
{
	uint64_t v[LOGS_MAX_WINDOW], d[LOGS_MAX_WINDOW];
	size_t n = s->filled < s->o.window ? s->filled : s->o.window;

	if (n == 0 || n * 4 < s->o.window)
		return 0;
	for (size_t i = 0; i < n; i++)
		v[i] = s->ring[i];
	*med = median(v, n);
	for (size_t i = 0; i < n; i++) {
		double x = (double)s->ring[i] - *med;
		d[i] = (uint64_t)(x < 0 ? -x : x);
	}
	*mad = median(d, n);
	return 1;
}

/* the current minute is over: judge it, then push it into the ring */
static void close_minute(struct logs_spike *s)
{
	double med = 0, mad = 0;
	uint64_t c = s->count;
	int spike = 0;

	double limit = 0;
	if (baseline(s, &med, &mad)) {
		double spread = 1.4826 * mad;
		if (spread < sqrt(med))
			spread = sqrt(med);
		if (spread < 1)
			spread = 1;
		limit = med + s->o.k * spread;
		spike = (double)c > limit && c >= s->o.min;
	}
	if (spike) {
		struct logs_spike_row *r =
		        s->open ? &s->rows[s->nrows - 1] : NULL;
		if (r == NULL && s->nrows < LOGS_MAX_SPIKES) {
			r = &s->rows[s->nrows++];
			r->start = s->minute * 60;
			r->count = 0;
			r->baseline = med;
			r->limit = limit;
			s->open = 1;
			s->fresh = 1; /* a new spike began: alert once */
		} else if (r == NULL) {
			s->dropped++;
		}
		if (r) {
			r->end = s->minute * 60 + 59;
			r->count += c;
		}
	} else {
		s->open = 0;
	}
	s->ring[s->pos] = c;
	s->pos = (s->pos + 1) % s->o.window;
	s->filled++;
	s->count = 0;
}

void logs_spike_tick(struct logs_spike *s, int64_t ts)
{
	int64_t m;

	if (ts < 0)
		return;
	m = ts / 60;
	if (s->minute < 0) {
		s->minute = m;
		return;
	}
	if (m <= s->minute)
		return;
	close_minute(s);
	/* empty minutes in between: zeros, a window's worth at most */
	int64_t from = s->minute;
	for (int64_t k = from + 1; k < m && k - from <= s->o.window; k++) {
		s->minute = k;
		close_minute(s);
	}
	s->minute = m;
}

void logs_spike_add(struct logs_spike *s, int64_t ts, uint64_t n)
{
	logs_spike_tick(s, ts);
	if (s->minute >= 0)
		s->count += n;
}

void logs_spike_finish(struct logs_spike *s)
{
	if (s->minute >= 0 && !s->finished) {
		close_minute(s);
		s->finished = 1;
	}
}
