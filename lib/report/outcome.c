/* outcome.c - the neutral outcome model (outcome.h): suites of test cases
 * and metric families, built by the audits' converters and read by the
 * renderers (outcome_junit.c, outcome_tap.c, outcome_prom.c).
 *
 * Every string given is copied, and cleaned on the way in: bytes that are
 * not valid UTF-8 (truncated, overlong, surrogates, beyond U+10FFFF) and
 * control characters other than tab and newline (C0, DEL, C1) become
 * U+FFFD, as do U+FFFE and U+FFFF. So every string an adder stored is
 * valid UTF-8 that XML 1.0 accepts and a terminal cannot act on; the
 * renderers only escape what their own format needs. A NULL name becomes
 * "", a NULL classname, hostname, message or detail stays NULL.
 *
 * Arrays grow by doubling up to a named cap per array; running out of
 * memory or hitting a cap sets o->oom (outcome.h has one failure flag), the
 * adders then do nothing and the renderers return NULL, so a report is
 * never silently short. A metric sample with a label list longer than
 * SMTPROBE_METRIC_MAX_LABELS is a programming error and is dropped; a NULL
 * label value ends the list (the dangling label gets ""). A case status
 * outside the enum is stored as SMTPROBE_CASE_ERROR. Suite pointers
 * move when a later suite is added: a case for a suite that is not one of
 * o's current suites is ignored. */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "smtprobe/outcome.h"
#include "banned.h"

/* Caps per array: far above any report, low enough that a runaway loop
 * ends as a reported failure rather than an exhausted machine. */
#define OUTCOME_MAX_SUITES   4096
#define OUTCOME_MAX_CASES    65536 /* per suite */
#define OUTCOME_MAX_FAMILIES 1024
#define OUTCOME_MAX_SAMPLES  65536 /* per family */
#define OUTCOME_FIRST_CAP    8

/* The replacement character, U+FFFD, in UTF-8. */
static const char replacement[] = "\xEF\xBF\xBD";

/* Length (1..4) of the well-formed UTF-8 sequence at s[0..n), its code
 * point in *cp; 0 when the bytes there are not one (RFC 3629). */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len;
	uint32_t c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		len = 2;
		c = s[0] & 0x1Fu;
		min = 0x80;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		len = 3;
		c = s[0] & 0x0Fu;
		min = 0x800;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		len = 4;
		c = s[0] & 0x07u;
		min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0u) != 0x80u)
			return 0;
		c = (c << 6) | (s[i] & 0x3Fu);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return len;
}

static int printable(uint32_t cp)
{
	if (cp == '\t' || cp == '\n')
		return 1;
	if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
		return 0;
	return cp != 0xFFFE && cp != 0xFFFF;
}

/* The cleaned copy of s written to out (when not NULL); its length. */
static size_t clean(const char *s, char *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), len = 0;

	while (n > 0) {
		uint32_t cp = 0;
		size_t k = utf8_seq(p, n, &cp);
		if (k > 0 && printable(cp)) {
			if (out)
				memcpy(out + len, p, k);
			len += k;
		} else {
			if (out)
				memcpy(out + len, replacement,
				       sizeof(replacement) - 1);
			len += sizeof(replacement) - 1;
			k = k > 0 ? k : 1; /* a bad byte at a time */
		}
		p += k;
		n -= k;
	}
	if (out)
		out[len] = '\0';
	return len;
}

/* A cleaned copy of s (NULL stays NULL); 0, or -1 out of memory. */
static int copy(struct smtprobe_outcome *o, const char *s, char **out)
{
	*out = NULL;
	if (!s)
		return 0;
	size_t len = clean(s, NULL);
	char *d = malloc(len + 1);
	if (!d) {
		o->oom = 1;
		return -1;
	}
	clean(s, d);
	*out = d;
	return 0;
}

/* arr (n used of *cap, at most max) with room for one more element, maybe
 * moved; NULL with o->oom set (arr is then untouched). */
static void *grow(struct smtprobe_outcome *o, void *arr, size_t *cap, size_t n,
                  size_t elem, size_t max)
{
	if (n < *cap)
		return arr;
	size_t ncap = *cap ? *cap * 2 : OUTCOME_FIRST_CAP;
	if (ncap > max)
		ncap = max;
	if (n >= ncap || ncap > SIZE_MAX / elem) {
		o->oom = 1;
		return NULL;
	}
	void *p = realloc(arr, ncap * elem);
	if (!p) {
		o->oom = 1;
		return NULL;
	}
	*cap = ncap;
	return p;
}

void smtprobe_outcome_init(struct smtprobe_outcome *o)
{
	memset(o, 0, sizeof(*o));
}

static void case_release(struct smtprobe_case *c)
{
	free(c->name);
	free(c->classname);
	free(c->message);
	free(c->detail);
}

static void suite_release(struct smtprobe_suite *s)
{
	for (size_t i = 0; i < s->ncases; i++)
		case_release(&s->cases[i]);
	free(s->cases);
	free(s->name);
	free(s->hostname);
	free(s->timestamp);
}

static void sample_release(struct smtprobe_sample *m)
{
	for (size_t i = 0; i < m->nlabels; i++) {
		free(m->label[i][0]);
		free(m->label[i][1]);
	}
}

static void family_release(struct smtprobe_family *f)
{
	for (size_t i = 0; i < f->nsamples; i++)
		sample_release(&f->samples[i]);
	free(f->samples);
	free(f->name);
	free(f->help);
	free(f->type);
}

void smtprobe_outcome_free(struct smtprobe_outcome *o)
{
	for (size_t i = 0; i < o->nsuites; i++)
		suite_release(&o->suites[i]);
	free(o->suites);
	for (size_t i = 0; i < o->nfamilies; i++)
		family_release(&o->families[i]);
	free(o->families);
	smtprobe_outcome_init(o);
}

struct smtprobe_suite *smtprobe_outcome_suite(struct smtprobe_outcome *o,
                                              const char *name,
                                              const char *hostname)
{
	struct smtprobe_suite s;

	if (o->oom)
		return NULL;
	memset(&s, 0, sizeof(s));
	s.seconds = -1;
	struct smtprobe_suite *a = NULL;
	if (copy(o, name ? name : "", &s.name) < 0 ||
	    copy(o, hostname, &s.hostname) < 0 ||
	    !(a = grow(o, o->suites, &o->cap, o->nsuites, sizeof(s),
	               OUTCOME_MAX_SUITES))) {
		suite_release(&s);
		return NULL;
	}
	o->suites = a;
	o->suites[o->nsuites] = s;
	return &o->suites[o->nsuites++];
}

static int is_suite_of(const struct smtprobe_outcome *o,
                       const struct smtprobe_suite *s)
{
	/* equality, not ordering: s may point anywhere */
	for (size_t i = 0; i < o->nsuites; i++)
		if (&o->suites[i] == s)
			return 1;
	return 0;
}

void smtprobe_outcome_suite_time(struct smtprobe_outcome *o,
                                 struct smtprobe_suite *s, double seconds,
                                 double start)
{
	char iso[32];
	struct tm tm;
	time_t t = (time_t)start;

	if (o->oom || s == NULL || !is_suite_of(o, s))
		return;
	s->seconds = seconds;
	if (start < 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return;
	free(s->timestamp);
	s->timestamp = NULL;
	copy(o, iso, &s->timestamp);
}

void smtprobe_outcome_case(struct smtprobe_outcome *o, struct smtprobe_suite *s,
                           const char *name, const char *classname,
                           enum smtprobe_case_status st, double seconds,
                           const char *message, const char *detail)
{
	struct smtprobe_case c;

	if (o->oom || !s || !is_suite_of(o, s))
		return;
	memset(&c, 0, sizeof(c));
	/* a status out of the enum is a fault nobody decided: an error */
	c.status = (size_t)st <= (size_t)SMTPROBE_CASE_SKIP
	                   ? st
	                   : SMTPROBE_CASE_ERROR;
	c.seconds = seconds;
	struct smtprobe_case *a = NULL;
	if (copy(o, name ? name : "", &c.name) < 0 ||
	    copy(o, classname, &c.classname) < 0 ||
	    copy(o, message, &c.message) < 0 ||
	    copy(o, detail, &c.detail) < 0 ||
	    !(a = grow(o, s->cases, &s->cap, s->ncases, sizeof(c),
	               OUTCOME_MAX_CASES))) {
		case_release(&c);
		return;
	}
	s->cases = a;
	s->cases[s->ncases++] = c;
}

static struct smtprobe_family *family(struct smtprobe_outcome *o,
                                      const char *name, const char *type,
                                      const char *help)
{
	struct smtprobe_family f;

	/* a name that needed cleaning matches no stored one, and is no valid
	 * metric name either: its family is never rendered */
	for (size_t i = 0; i < o->nfamilies; i++)
		if (strcmp(o->families[i].name, name) == 0)
			return &o->families[i];
	memset(&f, 0, sizeof(f));
	struct smtprobe_family *a = NULL;
	if (copy(o, name, &f.name) < 0 || copy(o, help, &f.help) < 0 ||
	    copy(o, type, &f.type) < 0 ||
	    !(a = grow(o, o->families, &o->fcap, o->nfamilies, sizeof(f),
	               OUTCOME_MAX_FAMILIES))) {
		family_release(&f);
		return NULL;
	}
	o->families = a;
	o->families[o->nfamilies] = f;
	return &o->families[o->nfamilies++];
}

void smtprobe_outcome_metric(struct smtprobe_outcome *o, const char *name,
                             const char *type, const char *help, double value,
                             ...)
{
	const char *pair[SMTPROBE_METRIC_MAX_LABELS][2];
	size_t n = 0;
	int too_many = 0;
	va_list ap;

	if (o->oom || !name)
		return;
	va_start(ap, value);
	for (;;) {
		const char *k = va_arg(ap, const char *);
		if (!k)
			break;
		if (n == SMTPROBE_METRIC_MAX_LABELS) {
			too_many = 1;
			break;
		}
		const char *v = va_arg(ap, const char *);
		pair[n][0] = k;
		pair[n][1] = v ? v : "";
		n++;
		if (!v)
			break;
	}
	va_end(ap);
	if (too_many)
		return;

	struct smtprobe_family *f = family(o, name, type, help);
	if (!f)
		return;
	struct smtprobe_sample m;
	memset(&m, 0, sizeof(m));
	m.value = value;
	for (size_t i = 0; i < n; i++) {
		if (copy(o, pair[i][0], &m.label[i][0]) < 0 ||
		    copy(o, pair[i][1], &m.label[i][1]) < 0) {
			m.nlabels = i + 1; /* release what was copied */
			sample_release(&m);
			return;
		}
	}
	m.nlabels = n;
	struct smtprobe_sample *a = grow(o, f->samples, &f->cap, f->nsamples,
	                                 sizeof(m), OUTCOME_MAX_SAMPLES);
	if (!a) {
		sample_release(&m);
		return;
	}
	f->samples = a;
	f->samples[f->nsamples++] = m;
}

size_t smtprobe_outcome_count(const struct smtprobe_outcome *o,
                              enum smtprobe_case_status st)
{
	size_t n = 0;

	for (size_t i = 0; i < o->nsuites; i++)
		for (size_t k = 0; k < o->suites[i].ncases; k++)
			if (o->suites[i].cases[k].status == st)
				n++;
	return n;
}
