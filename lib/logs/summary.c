/* summary.c - every event of every input in bounded memory (logs.h):
 * totals per format, kind, reject kind and TLS cause; counts per key in
 * Space-Saving tables (topn.c: exact while the keys fit in capacity, then
 * bounds); connections per hour (the last SMTPROBE_LOGS_HOURS hours);
 * spikes per minute (spike.c) for each reject kind and for AUTH failures;
 * brute force per address (bf_threshold failures within bf_window seconds:
 * a ring of the last threshold failure times per address, kept beside the
 * address's entry in its table) and per user (bf_user_ips distinct
 * addresses: a small set of address hashes per user).
 *
 * AUTH failures come from two kinds of line: the MTA's and the
 * authentication server's (Dovecot's auth process logs the same attempt).
 * Both are counted apart; what is reported is the MTA's when it logged
 * any, else the authentication server's - whichever tells, never both.
 *
 * Memory: tables * capacity * ~300 bytes, the rings capacity *
 * bf_threshold * 8 bytes per source, the spike series' windows - a few MB
 * at the defaults, fixed at creation whatever the input's size. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logs_int.h"

#include "banned.h"

#define SOURCES      2 /* 0 the MTA's AUTH failures, 1 the auth server's */
#define MAX_BRUTE    256
#define USER_IPS_MAX 64
#define NSERIES      (SMTPROBE_LR_LAST + 1) /* reject kinds, AUTH failures */
#define AUTH_SERIES  SMTPROBE_LR_LAST

/* the AUTH failures of one source */
struct auth_track {
	struct logs_topn *by_ip, *by_user;
	int64_t *ring;       /* capacity * threshold failure times */
	unsigned *ring_n;    /* per address: times kept */
	unsigned *ring_at;   /* per address: the next slot */
	uint64_t *best;      /* per address: the most within a window */
	int *flagged;        /* per address: an index into brute + 1 */
	uint32_t *user_ips;  /* per user: USER_IPS_MAX address hashes */
	unsigned *user_nips; /* per user: distinct addresses (capped) */
	int *user_flagged;   /* per user: an index into brute + 1 */
	uint64_t total;
	struct smtprobe_logs_brute brute[MAX_BRUTE];
	char brute_key[MAX_BRUTE][LOGS_KEY_MAX + 1];
	size_t nbrute;
	size_t alerted; /* brute rows handed out as alerts */
	struct logs_spike spike;
};

struct smtprobe_logs {
	struct smtprobe_logs_opts o;
	struct smtprobe_logs_totals t;
	struct logs_topn *table[SMTPROBE_LT_TABLES];
	struct auth_track auth[SOURCES];
	struct logs_spike series[SMTPROBE_LR_LAST];
	size_t spikes_alerted[NSERIES];
	int64_t hour[SMTPROBE_LOGS_HOURS];
	uint64_t hour_count[SMTPROBE_LOGS_HOURS];
	size_t nhours, hour_at; /* a ring of the last hours */
};

static void auth_free(struct auth_track *a)
{
	logs_topn_free(a->by_ip);
	logs_topn_free(a->by_user);
	free(a->ring);
	free(a->ring_n);
	free(a->ring_at);
	free(a->best);
	free(a->flagged);
	free(a->user_ips);
	free(a->user_nips);
	free(a->user_flagged);
}

static int auth_init(struct auth_track *a, const struct smtprobe_logs_opts *o,
                     const struct logs_spike_opts *so)
{
	size_t cap = o->capacity;

	a->by_ip = logs_topn_new(o->capacity);
	a->by_user = logs_topn_new(o->capacity);
	a->ring = calloc(cap * o->bf_threshold, sizeof(*a->ring));
	a->ring_n = calloc(cap, sizeof(*a->ring_n));
	a->ring_at = calloc(cap, sizeof(*a->ring_at));
	a->best = calloc(cap, sizeof(*a->best));
	a->flagged = calloc(cap, sizeof(*a->flagged));
	a->user_ips = calloc(cap * USER_IPS_MAX, sizeof(*a->user_ips));
	a->user_nips = calloc(cap, sizeof(*a->user_nips));
	a->user_flagged = calloc(cap, sizeof(*a->user_flagged));
	logs_spike_init(&a->spike, so);
	return a->by_ip && a->by_user && a->ring && a->ring_n && a->ring_at &&
	                       a->best && a->flagged && a->user_ips &&
	                       a->user_nips && a->user_flagged
	               ? 0
	               : -1;
}

struct smtprobe_logs *smtprobe_logs_new(const struct smtprobe_logs_opts *o)
{
	struct smtprobe_logs *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	if (o)
		l->o = *o;
	if (l->o.capacity == 0)
		l->o.capacity = 1024;
	if (l->o.bf_threshold == 0)
		l->o.bf_threshold = 10;
	if (l->o.bf_threshold > 1000)
		l->o.bf_threshold = 1000;
	if (l->o.bf_window == 0)
		l->o.bf_window = 600;
	if (l->o.bf_user_ips == 0)
		l->o.bf_user_ips = 5;
	if (l->o.bf_user_ips > USER_IPS_MAX)
		l->o.bf_user_ips = USER_IPS_MAX;
	if (l->o.spike_window == 0)
		l->o.spike_window = 60;
	if (l->o.spike_k <= 0)
		l->o.spike_k = 5;
	if (l->o.spike_min == 0)
		l->o.spike_min = 10;
	struct logs_spike_opts so = {l->o.spike_window, l->o.spike_k,
	                             l->o.spike_min};
	l->t.first = l->t.last = -1;
	int ok = 1;
	for (int i = 0; i < SMTPROBE_LT_TABLES; i++)
		ok &= (l->table[i] = logs_topn_new(l->o.capacity)) != NULL;
	for (int i = 0; i < SOURCES; i++)
		ok &= auth_init(&l->auth[i], &l->o, &so) == 0;
	for (int i = 0; i < SMTPROBE_LR_LAST; i++)
		logs_spike_init(&l->series[i], &so);
	if (!ok) {
		smtprobe_logs_free(l);
		return NULL;
	}
	return l;
}

void smtprobe_logs_free(struct smtprobe_logs *l)
{
	if (l == NULL)
		return;
	for (int i = 0; i < SMTPROBE_LT_TABLES; i++)
		logs_topn_free(l->table[i]);
	for (int i = 0; i < SOURCES; i++)
		auth_free(&l->auth[i]);
	free(l);
}

static void count(struct smtprobe_logs *l, enum smtprobe_logs_table t,
                  struct smtprobe_log_str k, uint64_t by)
{
	if (k.n)
		(void)logs_topn_add(l->table[t], k.p, k.n, by, NULL);
}

static void hourly(struct smtprobe_logs *l, int64_t ts, uint64_t by)
{
	int64_t h = ts - ts % 3600;
	size_t last =
	        (l->hour_at + SMTPROBE_LOGS_HOURS - 1) % SMTPROBE_LOGS_HOURS;

	if (ts < 0)
		return;
	if (l->nhours && l->hour[last] == h) {
		l->hour_count[last] += by;
		return;
	}
	/* an hour seen before (lines out of order): find it */
	for (size_t k = 0; k < l->nhours; k++)
		if (l->hour[k] == h) {
			l->hour_count[k] += by;
			return;
		}
	l->hour[l->hour_at] = h;
	l->hour_count[l->hour_at] = by;
	l->hour_at = (l->hour_at + 1) % SMTPROBE_LOGS_HOURS;
	if (l->nhours < SMTPROBE_LOGS_HOURS)
		l->nhours++;
}

static uint32_t hash32(struct smtprobe_log_str s)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < s.n; i++)
		h = (h ^ (unsigned char)s.p[i]) * 16777619u;
	return h | 1; /* 0 is "empty" */
}

static void brute_row(struct auth_track *a, int by_user, const char *key,
                      int *flag)
{
	if (a->nbrute == MAX_BRUTE)
		return;
	struct smtprobe_logs_brute *b = &a->brute[a->nbrute];
	snprintf(a->brute_key[a->nbrute], sizeof(a->brute_key[0]), "%s", key);
	memset(b, 0, sizeof(*b));
	b->by_user = by_user;
	b->key = a->brute_key[a->nbrute];
	*flag = (int)++a->nbrute;
}

/* n failures of address entry i at ts: into its ring of the last
 * threshold times (n above the threshold fills it: the ring holds no
 * more), then the most of them within the window, and the brute-force row
 * once it crossed. O(threshold) per event, whatever n says. */
static void address_window(struct smtprobe_logs *l, struct auth_track *a,
                           long i, int64_t ts, unsigned n)
{
	unsigned th = l->o.bf_threshold;
	int64_t *ring = a->ring + (size_t)i * th, from = ts - l->o.bf_window;
	uint64_t in = 0;
	int64_t first = ts;

	for (unsigned c = 0; c < n && c < th; c++) {
		ring[a->ring_at[i]] = ts;
		a->ring_at[i] = (a->ring_at[i] + 1) % th;
		if (a->ring_n[i] < th)
			a->ring_n[i]++;
	}
	for (unsigned k = 0; k < a->ring_n[i]; k++)
		if (ring[k] > from) {
			in++;
			if (ring[k] < first)
				first = ring[k];
		}
	if (in > a->best[i])
		a->best[i] = in;
	if (in >= th && a->flagged[i] == 0)
		brute_row(a, 0, logs_topn_key(a->by_ip, i), &a->flagged[i]);
	if (a->flagged[i] && a->flagged[i] <= MAX_BRUTE) {
		struct smtprobe_logs_brute *b = &a->brute[a->flagged[i] - 1];
		/* from the first failure of the window that crossed */
		if (b->first == 0)
			b->first = first;
		b->last = ts;
		b->in_window = a->best[i];
	}
}

static void auth_failure(struct smtprobe_logs *l, struct auth_track *a,
                         const struct smtprobe_log_event *ev)
{
	int fresh;
	long i;

	a->total += ev->count;
	logs_spike_add(&a->spike, ev->ts, ev->count);
	if (ev->client.n) {
		i = logs_topn_add(a->by_ip, ev->client.p, ev->client.n,
		                  ev->count, &fresh);
		if (i >= 0 && fresh) {
			a->ring_n[i] = a->ring_at[i] = 0;
			a->best[i] = 0;
			a->flagged[i] = 0;
		}
		if (i >= 0 && ev->ts >= 0)
			address_window(l, a, i, ev->ts, ev->count);
	}
	if (ev->user.n) {
		i = logs_topn_add(a->by_user, ev->user.p, ev->user.n, ev->count,
		                  &fresh);
		if (i >= 0 && fresh) {
			a->user_nips[i] = 0;
			a->user_flagged[i] = 0;
			memset(a->user_ips + (size_t)i * USER_IPS_MAX, 0,
			       USER_IPS_MAX * sizeof(*a->user_ips));
		}
		if (i >= 0 && ev->client.n) {
			uint32_t h = hash32(ev->client),
			         *set = a->user_ips + (size_t)i * USER_IPS_MAX;
			int seen = 0;
			for (unsigned k = 0; k < a->user_nips[i]; k++)
				seen |= set[k] == h;
			if (!seen && a->user_nips[i] < USER_IPS_MAX)
				set[a->user_nips[i]++] = h;
			if (a->user_nips[i] >= l->o.bf_user_ips &&
			    a->user_flagged[i] == 0)
				brute_row(a, 1, logs_topn_key(a->by_user, i),
				          &a->user_flagged[i]);
			if (a->user_flagged[i]) {
				struct smtprobe_logs_brute *b =
				        &a->brute[a->user_flagged[i] - 1];
				if (b->first == 0)
					b->first = ev->ts;
				b->last = ev->ts;
				b->addresses = a->user_nips[i];
			}
		}
	}
}

static void add(struct smtprobe_logs *l, const struct smtprobe_log_event *ev)
{
	uint64_t n = ev->count ? ev->count : 1;

	l->t.events[ev->kind] += n;
	if (ev->ts < 0)
		l->t.untimed += n;
	else {
		if (l->t.first < 0 || ev->ts < l->t.first)
			l->t.first = ev->ts;
		if (ev->ts > l->t.last)
			l->t.last = ev->ts;
		/* time moves on for every series */
		for (int i = 0; i < SMTPROBE_LR_LAST; i++)
			logs_spike_tick(&l->series[i], ev->ts);
		for (int i = 0; i < SOURCES; i++)
			logs_spike_tick(&l->auth[i].spike, ev->ts);
	}
	switch (ev->kind) {
	case SMTPROBE_LE_CONNECT:
		count(l, SMTPROBE_LT_CONN_CLIENT, ev->client, n);
		hourly(l, ev->ts, n);
		break;
	case SMTPROBE_LE_AUTH_OK:
		count(l, SMTPROBE_LT_AUTH_OK_USER, ev->user, n);
		break;
	case SMTPROBE_LE_AUTH_FAIL:
		auth_failure(l, &l->auth[ev->from_authd ? 1 : 0], ev);
		break;
	case SMTPROBE_LE_TLS_OK:
		count(l, SMTPROBE_LT_TLS_PROTOCOL, ev->protocol, n);
		count(l, SMTPROBE_LT_TLS_CIPHER, ev->cipher, n);
		break;
	case SMTPROBE_LE_TLS_FAIL:
		if ((unsigned)ev->tls_cause < SMTPROBE_LT_LAST)
			l->t.tls_failures[ev->tls_cause] += n;
		break;
	case SMTPROBE_LE_REJECT:
		if ((unsigned)ev->reject < SMTPROBE_LR_LAST) {
			l->t.rejects[ev->reject] += n;
			logs_spike_add(&l->series[ev->reject], ev->ts, n);
		}
		count(l, SMTPROBE_LT_REJECT_CLIENT, ev->client, n);
		count(l, SMTPROBE_LT_REJECT_SENDER, ev->sender, n);
		count(l, SMTPROBE_LT_REJECT_RCPT, ev->rcpt, n);
		break;
	default:
		break;
	}
}

void smtprobe_logs_line(struct smtprobe_logs *l, struct smtprobe_log_input *in,
                        const char *line, size_t len)
{
	struct smtprobe_log_event ev;
	enum smtprobe_log_format f = smtprobe_log_parse(in, line, len, &ev);

	l->t.lines++;
	l->t.by_format[f]++;
	if (f == SMTPROBE_LF_UNKNOWN) {
		l->t.unparsed++;
		return;
	}
	if (ev.ts >= 0 && ((l->o.has_since && ev.ts < l->o.since) ||
	                   (l->o.has_until && ev.ts >= l->o.until))) {
		l->t.outside++;
		return;
	}
	if (ev.kind != SMTPROBE_LE_NONE)
		add(l, &ev);
}

void smtprobe_logs_finish(struct smtprobe_logs *l)
{
	for (int i = 0; i < SMTPROBE_LR_LAST; i++)
		logs_spike_finish(&l->series[i]);
	for (int i = 0; i < SOURCES; i++)
		logs_spike_finish(&l->auth[i].spike);
}

void smtprobe_logs_clock(struct smtprobe_logs *l, int64_t now)
{
	for (int i = 0; i < SMTPROBE_LR_LAST; i++)
		logs_spike_tick(&l->series[i], now);
	for (int i = 0; i < SOURCES; i++)
		logs_spike_tick(&l->auth[i].spike, now);
}

/* the AUTH failures reported: the MTA's when it logged any */
static const struct auth_track *auth_of(const struct smtprobe_logs *l)
{
	return l->auth[0].total || !l->auth[1].total ? &l->auth[0]
	                                             : &l->auth[1];
}

void smtprobe_logs_totals(const struct smtprobe_logs *l,
                          struct smtprobe_logs_totals *t)
{
	const struct auth_track *a = auth_of(l);

	*t = l->t;
	t->auth_from_authd = a == &l->auth[1];
	t->events[SMTPROBE_LE_AUTH_FAIL] = a->total;
}

static struct logs_topn *table_of(const struct smtprobe_logs *l,
                                  enum smtprobe_logs_table t)
{
	if (t == SMTPROBE_LT_AUTH_FAIL_CLIENT)
		return auth_of(l)->by_ip;
	if (t == SMTPROBE_LT_AUTH_FAIL_USER) {
		/* the MTA may not name the user (Postfix before 3.7,
		 * Exim): the authentication server does */
		const struct auth_track *a = auth_of(l);
		if (logs_topn_total(a->by_user) == 0)
			a = &l->auth[1];
		return a->by_user;
	}
	return (unsigned)t < SMTPROBE_LT_TABLES ? l->table[t] : NULL;
}

size_t smtprobe_logs_top(const struct smtprobe_logs *l,
                         enum smtprobe_logs_table t,
                         struct smtprobe_logs_row *rows, size_t max)
{
	struct logs_top_row *r = malloc((max ? max : 1) * sizeof(*r));
	size_t n;

	if (r == NULL)
		return 0;
	n = logs_topn_rows(table_of(l, t), r, max);
	for (size_t i = 0; i < n; i++)
		rows[i] = (struct smtprobe_logs_row){r[i].key, r[i].count,
		                                     r[i].err};
	free(r);
	return n;
}

size_t smtprobe_logs_table_size(const struct smtprobe_logs *l,
                                enum smtprobe_logs_table t)
{
	return logs_topn_size(table_of(l, t));
}

size_t smtprobe_logs_hours(const struct smtprobe_logs *l, int64_t *hour,
                           uint64_t *cnt, size_t max)
{
	size_t n = 0;
	size_t start = l->nhours < SMTPROBE_LOGS_HOURS ? 0 : l->hour_at;

	for (size_t k = 0; k < l->nhours && n < max; k++) {
		size_t i = (start + k) % SMTPROBE_LOGS_HOURS;
		hour[n] = l->hour[i];
		cnt[n++] = l->hour_count[i];
	}
	return n;
}

static const char *series_name(size_t i)
{
	return i == AUTH_SERIES
	               ? "auth_failure"
	               : smtprobe_log_reject_name((enum smtprobe_log_reject)i);
}

static const struct logs_spike *series(const struct smtprobe_logs *l, size_t i)
{
	return i == AUTH_SERIES ? &auth_of(l)->spike : &l->series[i];
}

size_t smtprobe_logs_spikes(const struct smtprobe_logs *l,
                            struct smtprobe_logs_spike *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < NSERIES; i++) {
		const struct logs_spike *s = series(l, i);
		for (size_t k = 0; k < s->nrows && n < max; k++)
			out[n++] = (struct smtprobe_logs_spike){
			        series_name(i), s->rows[k].start,
			        s->rows[k].end, s->rows[k].count,
			        s->rows[k].baseline};
	}
	return n;
}

size_t smtprobe_logs_brute(const struct smtprobe_logs *l,
                           struct smtprobe_logs_brute *out, size_t max)
{
	const struct auth_track *a = auth_of(l);
	size_t n = 0;

	for (size_t k = 0; k < a->nbrute && n < max; k++) {
		out[n] = a->brute[k];
		const struct logs_topn *t =
		        a->brute[k].by_user ? a->by_user : a->by_ip;
		out[n].failures = logs_topn_get(t, a->brute[k].key,
		                                strlen(a->brute[k].key));
		n++;
	}
	return n;
}

size_t smtprobe_logs_alerts(struct smtprobe_logs *l,
                            struct smtprobe_logs_alert *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < NSERIES && n < max; i++) {
		const struct logs_spike *s = series(l, i);
		/* a spike is told once it began; later minutes extend it */
		while (l->spikes_alerted[i] < s->nrows && n < max) {
			const struct logs_spike_row *r =
			        &s->rows[l->spikes_alerted[i]++];
			out[n++] = (struct smtprobe_logs_alert){
			        "spike", series_name(i), r->start,
			        r->end,  r->count,       r->baseline};
		}
	}
	struct auth_track *a = (struct auth_track *)auth_of(l);
	while (a->alerted < a->nbrute && n < max) {
		const struct smtprobe_logs_brute *b = &a->brute[a->alerted++];
		out[n++] = (struct smtprobe_logs_alert){
		        b->by_user ? "brute_force_user" : "brute_force_address",
		        b->key,
		        b->first,
		        b->last,
		        b->by_user ? b->addresses : b->in_window,
		        0};
	}
	return n;
}
