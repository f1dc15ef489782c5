/* outcome_junit.c - an outcome's suites as JUnit XML, the dialect Jenkins,
 * GitLab and GitHub test reporters read (tests/data/junit.xsd describes
 * it): <testsuites> of <testsuite> of <testcase>, a failed case with
 * <failure type="fail">, an undecided one with <error type="error">, a
 * skipped one with <skipped>, each carrying the case's message as the
 * message attribute and its detail as text; the detail of a passed or
 * skipped case goes to <system-out>. Times are seconds with three
 * decimals, written without the locale; an unknown time (negative, NaN,
 * infinite) is left out, and so is the testsuites total unless every
 * suite's time is known. A timestamp that is not an xs:dateTime
 * (YYYY-MM-DDThh:mm:ss[.s][Z|+hh:mm]) is left out. A case without a
 * classname gets its suite's name.
 *
 * Written with libxml2's xmlTextWriter, which escapes markup. The model's
 * adders store clean UTF-8 already, but the structs are public, so every
 * string is checked again against XML 1.0's Char production here and what
 * does not fit becomes U+FFFD (a NULL name an empty one): the document is
 * well-formed whatever strings the structs hold. NULL when o->oom or out
 * of memory. */
#include <libxml/chvalid.h>
#include <libxml/xmlstring.h>
#include <libxml/xmlwriter.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtprobe/outcome.h"
#include "banned.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Longer than any report's run: beyond, a time is not believed. */
#define JUNIT_MAX_SECONDS 1e9

/* Per status: the child element of <testcase> and its type attribute. */
static const struct {
	const char *element; /* NULL: none */
	const char *type;    /* NULL: no type attribute */
} status_tab[] = {
        [SMTPROBE_CASE_PASS] = {NULL, NULL},
        [SMTPROBE_CASE_FAIL] = {"failure", "fail"},
        [SMTPROBE_CASE_ERROR] = {"error", "error"},
        [SMTPROBE_CASE_SKIP] = {"skipped", NULL},
};

/* A status out of the enum is a fault nobody decided: an error. */
static enum smtprobe_case_status status_of(const struct smtprobe_case *c)
{
	return (size_t)c->status < NELEM(status_tab) ? c->status
	                                             : SMTPROBE_CASE_ERROR;
}

/* The next character of s[0..n): its length in *len (1 for a byte that
 * starts no UTF-8 character); whether it is an XML 1.0 Char. */
static int xml_char(const unsigned char *s, size_t n, size_t *len)
{
	int k = n < 4 ? (int)n : 4;
	int c = xmlGetUTF8Char(s, &k);

	if (c < 0 || k <= 0) {
		*len = 1;
		return 0;
	}
	*len = (size_t)k;
	return xmlIsCharQ((unsigned)c) != 0;
}

/* s as XML may hold it: s itself when clean, else a malloc'd copy with
 * U+FFFD for each character that is not (left in *tmp, freed by the
 * caller); NULL when out of memory. */
static const char *xml_safe(const char *s, char **tmp)
{
	static const char fffd[] = "\xEF\xBF\xBD";
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, k;

	*tmp = NULL;
	while (i < n && xml_char(p + i, n - i, &k))
		i += k;
	if (i == n)
		return s;
	if (n > (SIZE_MAX - 1) / 3)
		return NULL;
	char *d = malloc(3 * n + 1), *q = d;
	if (!d)
		return NULL;
	for (i = 0; i < n; i += k) {
		if (xml_char(p + i, n - i, &k)) {
			memcpy(q, p + i, k);
			q += k;
		} else {
			memcpy(q, fffd, sizeof(fffd) - 1);
			q += sizeof(fffd) - 1;
		}
	}
	*q = '\0';
	*tmp = d;
	return d;
}

/* name="value" (NULL: an empty value) */
static int attr(xmlTextWriterPtr w, const char *name, const char *value)
{
	char *tmp;
	const char *v = xml_safe(value ? value : "", &tmp);

	if (!v)
		return -1;
	int rc = xmlTextWriterWriteAttribute(w, BAD_CAST name, BAD_CAST v);
	free(tmp);
	return rc < 0 ? -1 : 0;
}

static int attr_count(xmlTextWriterPtr w, const char *name, size_t n)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%zu", n);
	return attr(w, name, buf);
}

/* Seconds as "12.345", without the locale's decimal point; 0, or -1 when
 * not known. */
static int seconds_text(double s, char *buf, size_t sz)
{
	if (!(s >= 0 && s <= JUNIT_MAX_SECONDS))
		return -1;
	long long ms = llround(s * 1000.0);
	snprintf(buf, sz, "%lld.%03lld", ms / 1000, ms % 1000);
	return 0;
}

static int attr_time(xmlTextWriterPtr w, double s)
{
	char buf[48];

	return seconds_text(s, buf, sizeof(buf)) < 0 ? 0 : attr(w, "time", buf);
}

static int text(xmlTextWriterPtr w, const char *s)
{
	char *tmp;
	const char *v = xml_safe(s, &tmp);

	if (!v)
		return -1;
	int rc = xmlTextWriterWriteString(w, BAD_CAST v);
	free(tmp);
	return rc < 0 ? -1 : 0;
}

/* The value of n digits at s, or -1 when they are not all digits. */
static int digits(const char *s, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Whether s is an xs:dateTime: YYYY-MM-DDThh:mm:ss, a fraction, a zone. */
static int is_datetime(const char *s)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30,
	                            31, 31, 30, 31, 30, 31};

	if (strlen(s) < 19 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':')
		return 0;
	int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
	int h = digits(s + 11, 2), mi = digits(s + 14, 2),
	    sec = digits(s + 17, 2);
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h < 0 ||
	    h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59)
		return 0;
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo == 2 && d == 29 && !leap)
		return 0;
	s += 19;
	if (*s == '.') {
		s++;
		if (digits(s, 1) < 0)
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'Z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		if (strlen(s) < 6 || s[3] != ':')
			return 0;
		int zh = digits(s + 1, 2), zm = digits(s + 4, 2);
		if (zh < 0 || zm < 0 || zm > 59 || zh > 14 ||
		    (zh == 14 && zm > 0))
			return 0;
		s += 6;
	}
	return *s == '\0';
}

struct counts {
	size_t tests, failures, errors, skipped;
};

static void count_suite(const struct smtprobe_suite *s, struct counts *n)
{
	for (size_t i = 0; i < s->ncases; i++) {
		n->tests++;
		switch (status_of(&s->cases[i])) {
		case SMTPROBE_CASE_FAIL:
			n->failures++;
			break;
		case SMTPROBE_CASE_ERROR:
			n->errors++;
			break;
		case SMTPROBE_CASE_SKIP:
			n->skipped++;
			break;
		default:
			break;
		}
	}
}

static int attr_counts(xmlTextWriterPtr w, const struct counts *n)
{
	if (attr_count(w, "tests", n->tests) < 0 ||
	    attr_count(w, "failures", n->failures) < 0 ||
	    attr_count(w, "errors", n->errors) < 0 ||
	    attr_count(w, "skipped", n->skipped) < 0)
		return -1;
	return 0;
}

static int start(xmlTextWriterPtr w, const char *element)
{
	return xmlTextWriterStartElement(w, BAD_CAST element) < 0 ? -1 : 0;
}

static int end(xmlTextWriterPtr w)
{
	return xmlTextWriterEndElement(w) < 0 ? -1 : 0;
}

static int write_case(xmlTextWriterPtr w, const struct smtprobe_suite *s,
                      const struct smtprobe_case *c)
{
	enum smtprobe_case_status st = status_of(c);

	if (start(w, "testcase") < 0 || attr(w, "name", c->name) < 0 ||
	    attr(w, "classname", c->classname ? c->classname : s->name) < 0 ||
	    attr_time(w, c->seconds) < 0)
		return -1;
	if (status_tab[st].element) {
		if (start(w, status_tab[st].element) < 0 ||
		    (c->message && attr(w, "message", c->message) < 0) ||
		    (status_tab[st].type &&
		     attr(w, "type", status_tab[st].type) < 0))
			return -1;
		if (st != SMTPROBE_CASE_SKIP && c->detail &&
		    text(w, c->detail) < 0)
			return -1;
		if (end(w) < 0)
			return -1;
	}
	if ((st == SMTPROBE_CASE_PASS || st == SMTPROBE_CASE_SKIP) &&
	    c->detail) {
		if (start(w, "system-out") < 0 || text(w, c->detail) < 0 ||
		    end(w) < 0)
			return -1;
	}
	return end(w);
}

static int write_suite(xmlTextWriterPtr w, const struct smtprobe_suite *s)
{
	struct counts n = {0, 0, 0, 0};

	count_suite(s, &n);
	if (start(w, "testsuite") < 0 || attr(w, "name", s->name) < 0 ||
	    attr_counts(w, &n) < 0 || attr_time(w, s->seconds) < 0 ||
	    (s->timestamp && is_datetime(s->timestamp) &&
	     attr(w, "timestamp", s->timestamp) < 0) ||
	    (s->hostname && attr(w, "hostname", s->hostname) < 0))
		return -1;
	for (size_t i = 0; i < s->ncases; i++)
		if (write_case(w, s, &s->cases[i]) < 0)
			return -1;
	return end(w);
}

static int write_doc(xmlTextWriterPtr w, const struct smtprobe_outcome *o,
                     const char *name)
{
	struct counts n = {0, 0, 0, 0};
	double total = 0;
	int total_known = o->nsuites > 0;

	for (size_t i = 0; i < o->nsuites; i++) {
		count_suite(&o->suites[i], &n);
		if (o->suites[i].seconds >= 0)
			total += o->suites[i].seconds;
		else
			total_known = 0;
	}
	if (xmlTextWriterSetIndent(w, 1) < 0 ||
	    xmlTextWriterSetIndentString(w, BAD_CAST "  ") < 0 ||
	    xmlTextWriterStartDocument(w, NULL, "UTF-8", NULL) < 0 ||
	    start(w, "testsuites") < 0 || (name && attr(w, "name", name) < 0) ||
	    attr_counts(w, &n) < 0 || (total_known && attr_time(w, total) < 0))
		return -1;
	for (size_t i = 0; i < o->nsuites; i++)
		if (write_suite(w, &o->suites[i]) < 0)
			return -1;
	if (end(w) < 0 || xmlTextWriterEndDocument(w) < 0)
		return -1;
	return 0;
}

char *smtprobe_outcome_junit(const struct smtprobe_outcome *o, const char *name)
{
	if (o->oom)
		return NULL;
	xmlBufferPtr buf = xmlBufferCreate();
	if (!buf)
		return NULL;
	xmlTextWriterPtr w = xmlNewTextWriterMemory(buf, 0);
	if (!w) {
		xmlBufferFree(buf);
		return NULL;
	}
	int rc = write_doc(w, o, name);
	xmlFreeTextWriter(w); /* flushes into buf */
	char *out = NULL;
	if (rc == 0) {
		/* the caller frees with free(), not xmlFree() */
		size_t len = (size_t)xmlBufferLength(buf);
		out = malloc(len + 1);
		if (out) {
			memcpy(out, xmlBufferContent(buf), len);
			out[len] = '\0';
		}
	}
	xmlBufferFree(buf);
	return out;
}
