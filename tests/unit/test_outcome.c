/* test_outcome.c - the outcome model and its three renderers
 * (lib/report/outcome*.c): building suites, cases and metric families,
 * the cleaning of hostile strings on the way in, out of memory; JUnit XML
 * parsed back with libxml2 and validated against tests/data/junit.xsd
 * (also for hostile strings and hand-filled structs); TAP 14 and the
 * Prometheus text format compared byte for byte, and TAP's YAML blocks
 * read back with libyaml. The schema comes from SMTPROBE_DATA (meson test
 * sets it), else from tests/data under the current directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <locale.h>
#include <math.h>

#include <cmocka.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>
#include <yaml.h>

#include "smtprobe/outcome.h"

#include "banned.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define FFFD     "\xEF\xBF\xBD"
/* the end of a label list: a pointer, as a variadic argument must be */
#define END ((const char *)NULL)

/* --- the model ---------------------------------------------------------- */

static void test_model(void **state)
{
	struct smtprobe_outcome o;
	char name[] = "connect";
	(void)state;

	smtprobe_outcome_init(&o);
	struct smtprobe_suite *s = smtprobe_outcome_suite(&o, "check", "mx");
	assert_non_null(s);
	assert_float_equal(s->seconds, -1, 0);
	assert_null(s->timestamp);
	smtprobe_outcome_case(&o, s, name, "smtprobe.check", SMTPROBE_CASE_PASS,
	                      0.5, NULL, NULL);
	name[0] = 'X'; /* copied, not kept */
	assert_string_equal(name, "Xonnect");
	smtprobe_outcome_case(&o, s, NULL, NULL, SMTPROBE_CASE_FAIL, -1, "m",
	                      "d");
	smtprobe_outcome_case(&o, s, "c", NULL, SMTPROBE_CASE_SKIP, -1, NULL,
	                      NULL);
	/* more suites than the first allocation: earlier ones stay intact */
	for (int i = 0; i < 40; i++) {
		struct smtprobe_suite *t =
		        smtprobe_outcome_suite(&o, "more", NULL);
		smtprobe_outcome_case(&o, t, "e", NULL, SMTPROBE_CASE_ERROR, 1,
		                      NULL, NULL);
	}
	/* a status out of the enum: nobody decided, an error */
	smtprobe_outcome_case(&o, &o.suites[1], "odd", NULL,
	                      (enum smtprobe_case_status)42, 0, NULL, NULL);
	smtprobe_outcome_case(&o, &o.suites[1], "odd", NULL,
	                      (enum smtprobe_case_status) - 1, 0, NULL, NULL);
	assert_int_equal(o.suites[1].cases[1].status, SMTPROBE_CASE_ERROR);
	assert_int_equal(o.suites[1].cases[2].status, SMTPROBE_CASE_ERROR);
	assert_int_equal(o.nsuites, 41);
	s = &o.suites[0];
	assert_string_equal(s->name, "check");
	assert_string_equal(s->hostname, "mx");
	assert_null(o.suites[1].hostname);
	assert_int_equal(s->ncases, 3);
	assert_string_equal(s->cases[0].name, "connect");
	assert_string_equal(s->cases[0].classname, "smtprobe.check");
	assert_float_equal(s->cases[0].seconds, 0.5, 0);
	assert_null(s->cases[0].message);
	assert_string_equal(s->cases[1].name, ""); /* NULL name */
	assert_null(s->cases[1].classname);
	assert_string_equal(s->cases[1].message, "m");
	assert_string_equal(s->cases[1].detail, "d");
	assert_int_equal(smtprobe_outcome_count(&o, SMTPROBE_CASE_PASS), 1);
	assert_int_equal(smtprobe_outcome_count(&o, SMTPROBE_CASE_FAIL), 1);
	assert_int_equal(smtprobe_outcome_count(&o, SMTPROBE_CASE_SKIP), 1);
	assert_int_equal(smtprobe_outcome_count(&o, SMTPROBE_CASE_ERROR), 42);

	/* a suite that is not one of o's (a stale pointer): ignored */
	struct smtprobe_suite stranger;
	memset(&stranger, 0, sizeof(stranger));
	smtprobe_outcome_case(&o, &stranger, "x", NULL, SMTPROBE_CASE_PASS, 0,
	                      NULL, NULL);
	smtprobe_outcome_case(&o, NULL, "x", NULL, SMTPROBE_CASE_PASS, 0, NULL,
	                      NULL);
	assert_int_equal(stranger.ncases, 0);
	assert_int_equal(smtprobe_outcome_count(&o, SMTPROBE_CASE_PASS), 1);
	assert_int_equal(o.oom, 0);

	smtprobe_outcome_free(&o);
	assert_int_equal(o.nsuites, 0);
	assert_null(o.suites);
	smtprobe_outcome_free(&o); /* twice is harmless */
}

static void test_metrics(void **state)
{
	struct smtprobe_outcome o;
	(void)state;

	smtprobe_outcome_init(&o);
	smtprobe_outcome_metric(&o, "a_total", "counter", "first", 1, "k", "v",
	                        END);
	smtprobe_outcome_metric(&o, "b", "gauge", "bee", 2, END);
	/* found by name; later help and type are ignored */
	smtprobe_outcome_metric(&o, "a_total", "gauge", "second", 3, "k", "w",
	                        "j", "x", END);
	/* too many labels: a programming error, the sample is dropped */
	smtprobe_outcome_metric(&o, "a_total", NULL, NULL, 4, "l1", "1", "l2",
	                        "2", "l3", "3", "l4", "4", "l5", "5", END);
	/* exactly the maximum is fine */
	smtprobe_outcome_metric(&o, "a_total", NULL, NULL, 5, "l1", "1", "l2",
	                        "2", "l3", "3", "l4", "4", END);
	/* a NULL value ends the list, its label gets "" */
	smtprobe_outcome_metric(&o, "a_total", NULL, NULL, 6, "k", END);

	assert_int_equal(o.nfamilies, 2);
	const struct smtprobe_family *a = &o.families[0];
	assert_string_equal(a->name, "a_total");
	assert_string_equal(a->help, "first");
	assert_string_equal(a->type, "counter");
	assert_int_equal(a->nsamples, 4);
	assert_int_equal(a->samples[0].nlabels, 1);
	assert_string_equal(a->samples[0].label[0][0], "k");
	assert_string_equal(a->samples[0].label[0][1], "v");
	assert_int_equal(a->samples[1].nlabels, 2);
	assert_string_equal(a->samples[1].label[1][1], "x");
	assert_float_equal(a->samples[2].value, 5, 0);
	assert_int_equal(a->samples[2].nlabels, 4);
	assert_int_equal(a->samples[3].nlabels, 1);
	assert_string_equal(a->samples[3].label[0][1], "");
	assert_int_equal(o.families[1].samples[0].nlabels, 0);
	assert_int_equal(o.oom, 0);
	smtprobe_outcome_free(&o);
	assert_int_equal(o.nfamilies, 0);
}

/* Strings are cleaned on the way in: what each hostile one is stored as. */
static const struct {
	const char *in, *stored;
} clean_tab[] = {
        {"plain <&> ]]> \"'", "plain <&> ]]> \"'"},
        {"tab\tand\nnewline", "tab\tand\nnewline"},
        {"nul-less \x01\x1b[31m", "nul-less " FFFD FFFD "[31m"},
        {"cr\r", "cr" FFFD},
        {"del\x7f", "del" FFFD},
        {"c1 \xc2\x85\xc2\x9b", "c1 " FFFD FFFD},     /* NEL, CSI */
        {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7", /* é € 📧 */
         "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7"},
        {"lone \xff\xfe", "lone " FFFD FFFD},
        {"overlong \xc0\xaf", "overlong " FFFD FFFD},
        {"surrogate \xed\xa0\x80", "surrogate " FFFD FFFD FFFD},
        {"truncated \xe2\x82", "truncated " FFFD FFFD},
        {"beyond \xf4\x90\x80\x80", "beyond " FFFD FFFD FFFD FFFD},
        {"nonchar \xef\xbf\xbe\xef\xbf\xbf", "nonchar " FFFD FFFD},
        {"cont \x80 x", "cont " FFFD " x"},
};

static void test_clean(void **state)
{
	struct smtprobe_outcome o;
	(void)state;

	smtprobe_outcome_init(&o);
	struct smtprobe_suite *s = smtprobe_outcome_suite(&o, "s", NULL);
	for (size_t i = 0; i < NELEM(clean_tab); i++)
		smtprobe_outcome_case(&o, s, clean_tab[i].in, clean_tab[i].in,
		                      SMTPROBE_CASE_FAIL, 0, clean_tab[i].in,
		                      clean_tab[i].in);
	smtprobe_outcome_metric(&o, "m", "gauge", "\x01", 1, "l", "\xff", END);
	s = &o.suites[0];
	for (size_t i = 0; i < NELEM(clean_tab); i++) {
		const struct smtprobe_case *c = &s->cases[i];
		assert_string_equal(c->name, clean_tab[i].stored);
		assert_string_equal(c->classname, clean_tab[i].stored);
		assert_string_equal(c->message, clean_tab[i].stored);
		assert_string_equal(c->detail, clean_tab[i].stored);
	}
	assert_string_equal(o.families[0].help, FFFD);
	assert_string_equal(o.families[0].samples[0].label[0][1], FFFD);
	smtprobe_outcome_free(&o);
}

static void test_oom(void **state)
{
	struct smtprobe_outcome o;
	(void)state;

	smtprobe_outcome_init(&o);
	struct smtprobe_suite *s = smtprobe_outcome_suite(&o, "s", NULL);
	smtprobe_outcome_case(&o, s, "a", NULL, SMTPROBE_CASE_PASS, 0, NULL,
	                      NULL);
	o.oom = 1; /* as if an allocation had failed */
	assert_null(smtprobe_outcome_suite(&o, "t", NULL));
	smtprobe_outcome_case(&o, &o.suites[0], "b", NULL, SMTPROBE_CASE_PASS,
	                      0, NULL, NULL);
	smtprobe_outcome_metric(&o, "m", "gauge", "h", 1, END);
	assert_int_equal(o.nsuites, 1);
	assert_int_equal(o.suites[0].ncases, 1);
	assert_int_equal(o.nfamilies, 0);
	assert_null(smtprobe_outcome_junit(&o, "x"));
	assert_null(smtprobe_outcome_tap(&o));
	assert_null(smtprobe_outcome_prometheus(&o));
	smtprobe_outcome_free(&o);
	assert_int_equal(o.oom, 0);
}

/* --- JUnit --------------------------------------------------------------- */

static void quiet(void *ctx, xmlErrorPtr e)
{
	(void)ctx;
	(void)e;
}

static xmlSchemaPtr load_schema(void)
{
	char path[4096];
	const char *dir = getenv("SMTPROBE_DATA");

	snprintf(path, sizeof(path), "%s/junit.xsd", dir ? dir : "tests/data");
	FILE *f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s (set SMTPROBE_DATA, or run from the "
		         "source tree)",
		         path);
	fclose(f);
	xmlSchemaParserCtxtPtr pc = xmlSchemaNewParserCtxt(path);
	assert_non_null(pc);
	xmlSchemaPtr sc = xmlSchemaParse(pc);
	xmlSchemaFreeParserCtxt(pc);
	assert_non_null(sc);
	return sc;
}

/* 0 when doc is valid against the schema (errors printed unless quietly) */
static int validate(xmlDocPtr doc, int quietly)
{
	xmlSchemaPtr sc = load_schema();
	xmlSchemaValidCtxtPtr vc = xmlSchemaNewValidCtxt(sc);
	assert_non_null(vc);
	if (quietly)
		xmlSchemaSetValidStructuredErrors(vc, quiet, NULL);
	int rc = xmlSchemaValidateDoc(vc, doc);
	xmlSchemaFreeValidCtxt(vc);
	xmlSchemaFree(sc);
	return rc;
}

/* The document parsed back; a test failure when it is not well-formed. */
static xmlDocPtr parse(const char *xml)
{
	assert_non_null(xml);
	xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "junit.xml", NULL,
	                              XML_PARSE_NONET);
	if (!doc)
		fail_msg("not well-formed:\n%s", xml);
	return doc;
}

static xmlNodePtr find_at(xmlNodePtr n, const char *name, size_t *nth)
{
	for (; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (xmlStrcmp(n->name, BAD_CAST name) == 0 && (*nth)-- == 0)
			return n;
		xmlNodePtr c = find_at(n->children, name, nth);
		if (c)
			return c;
	}
	return NULL;
}

/* The nth (from 0) element named `name` among n, its siblings and their
 * descendants, in document order. */
static xmlNodePtr find(xmlNodePtr n, const char *name, size_t nth)
{
	return find_at(n, name, &nth);
}

static void assert_prop(xmlNodePtr n, const char *attr, const char *want)
{
	assert_non_null(n);
	xmlChar *v = xmlGetProp(n, BAD_CAST attr);
	if (!want) {
		if (v)
			fail_msg("%s: unexpected %s=\"%s\"",
			         (const char *)n->name, attr, (const char *)v);
		return;
	}
	if (!v)
		fail_msg("%s: no %s", (const char *)n->name, attr);
	assert_string_equal((const char *)v, want);
	xmlFree(v);
}

static void assert_content(xmlNodePtr n, const char *want)
{
	assert_non_null(n);
	xmlChar *v = xmlNodeGetContent(n);
	assert_non_null(v);
	assert_string_equal((const char *)v, want);
	xmlFree(v);
}

static void sample_outcome(struct smtprobe_outcome *o)
{
	smtprobe_outcome_init(o);
	struct smtprobe_suite *s =
	        smtprobe_outcome_suite(o, "check 127.0.0.1:587", "127.0.0.1");
	s->seconds = 1.2345;
	s->timestamp = strdup("2026-12-06T10:00:00Z");
	smtprobe_outcome_case(o, s, "connect", "smtprobe.check",
	                      SMTPROBE_CASE_PASS, 0.012, NULL, "220 mx ESMTP");
	smtprobe_outcome_case(o, s, "tls #1", "smtprobe.check",
	                      SMTPROBE_CASE_FAIL, 0.5, "STARTTLS refused",
	                      "454 4.7.0 TLS not available\nfix: enable it");
	smtprobe_outcome_case(o, s, "auth", NULL, SMTPROBE_CASE_SKIP, -1,
	                      "no credentials", NULL);
	smtprobe_outcome_case(o, s, "relay", NULL, SMTPROBE_CASE_ERROR, -1,
	                      "timeout", NULL);
	smtprobe_outcome_suite(o, "empty", NULL);
}

static const char junit_sample[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<testsuites name=\"smtprobe run\" tests=\"4\" failures=\"1\" "
        "errors=\"1\" skipped=\"1\">\n"
        "  <testsuite name=\"check 127.0.0.1:587\" tests=\"4\" "
        "failures=\"1\" errors=\"1\" skipped=\"1\" time=\"1.235\" "
        "timestamp=\"2026-12-06T10:00:00Z\" hostname=\"127.0.0.1\">\n"
        "    <testcase name=\"connect\" classname=\"smtprobe.check\" "
        "time=\"0.012\">\n"
        "      <system-out>220 mx ESMTP</system-out>\n"
        "    </testcase>\n"
        "    <testcase name=\"tls #1\" classname=\"smtprobe.check\" "
        "time=\"0.500\">\n"
        "      <failure message=\"STARTTLS refused\" type=\"fail\">454 "
        "4.7.0 TLS not available\nfix: enable it</failure>\n"
        "    </testcase>\n"
        "    <testcase name=\"auth\" classname=\"check 127.0.0.1:587\">\n"
        "      <skipped message=\"no credentials\"/>\n"
        "    </testcase>\n"
        "    <testcase name=\"relay\" classname=\"check 127.0.0.1:587\">\n"
        "      <error message=\"timeout\" type=\"error\"/>\n"
        "    </testcase>\n"
        "  </testsuite>\n"
        "  <testsuite name=\"empty\" tests=\"0\" failures=\"0\" "
        "errors=\"0\" skipped=\"0\"/>\n"
        "</testsuites>\n";

static void test_junit_sample(void **state)
{
	struct smtprobe_outcome o;
	(void)state;

	sample_outcome(&o);
	char *xml = smtprobe_outcome_junit(&o, "smtprobe run");
	assert_non_null(xml);
	assert_string_equal(xml, junit_sample);
	xmlDocPtr doc = parse(xml);
	assert_int_equal(validate(doc, 0), 0);
	xmlFreeDoc(doc);
	free(xml);

	/* every suite timed: the total is written; no name: no attribute */
	o.suites[1].seconds = 0.25;
	xml = smtprobe_outcome_junit(&o, NULL);
	doc = parse(xml);
	xmlNodePtr root = xmlDocGetRootElement(doc);
	assert_prop(root, "time", "1.485");
	assert_prop(root, "name", NULL);
	assert_int_equal(validate(doc, 0), 0);
	xmlFreeDoc(doc);
	free(xml);
	smtprobe_outcome_free(&o);

	/* nothing at all is still a valid document */
	smtprobe_outcome_init(&o);
	xml = smtprobe_outcome_junit(&o, "none");
	doc = parse(xml);
	assert_prop(xmlDocGetRootElement(doc), "tests", "0");
	assert_int_equal(validate(doc, 0), 0);
	xmlFreeDoc(doc);
	free(xml);
}

/* Strings the network may send, through every string of the document. */
static const char *const hostile[] = {
        "<script>&amp;</script>",
        "]]><![CDATA[x]]>",
        "quote \" apostrophe ' <!-- -->",
        "\x01\x02\x03\x08\x0b\x0c\x0e\x1f\x7f",
        "\r\n\r\n trailing \r",
        "\xff\xfe\xc0\x80\xed\xa0\x80\xf8\x88\x80\x80\x80",
        "\xef\xbf\xbe\xef\xbf\xbf",
        "<?xml version=\"1.0\"?><testsuites/>",
        "&#0; &#x1; &bogus; &",
        "",
};

static void test_junit_hostile(void **state)
{
	struct smtprobe_outcome o;
	(void)state;

	smtprobe_outcome_init(&o);
	for (size_t i = 0; i < NELEM(hostile); i++) {
		const char *h = hostile[i];
		struct smtprobe_suite *s = smtprobe_outcome_suite(&o, h, h);
		for (int st = SMTPROBE_CASE_PASS; st <= SMTPROBE_CASE_SKIP;
		     st++)
			smtprobe_outcome_case(&o, s, h, h,
			                      (enum smtprobe_case_status)st, 1,
			                      h, h);
	}
	char *xml = smtprobe_outcome_junit(&o, hostile[0]);
	xmlDocPtr doc = parse(xml);
	assert_int_equal(validate(doc, 0), 0);
	/* what was stored is what a reader gets back */
	xmlNodePtr root = xmlDocGetRootElement(doc);
	for (size_t i = 0; i < NELEM(hostile); i++) {
		const struct smtprobe_case *c = &o.suites[i].cases[1];
		xmlNodePtr tc = find(root, "testcase", 4 * i + 1);
		assert_prop(tc, "name", c->name);
		assert_prop(find(tc->children, "failure", 0), "message",
		            c->message);
		assert_content(find(tc->children, "failure", 0), c->detail);
		assert_prop(find(root, "testsuite", i), "hostname",
		            o.suites[i].hostname);
	}
	xmlFreeDoc(doc);
	free(xml);
	smtprobe_outcome_free(&o);
}

/* The structs are public: what a caller writes into them by hand is not
 * cleaned by the model, the renderer still writes a well-formed document
 * and leaves out what the schema would refuse. */
static void test_junit_by_hand(void **state)
{
	static const struct {
		const char *timestamp;
		int kept;
	} stamps[] = {
	        {"2026-12-06T10:00:00Z", 1},
	        {"2026-12-06T10:00:00.123+01:00", 1},
	        {"2024-02-29T23:59:59", 1},
	        {"2026-12-06 10:00:00", 0},
	        {"2023-02-29T00:00:00Z", 0},
	        {"2026-13-01T00:00:00Z", 0},
	        {"2026-12-06T10:00:00Zjunk", 0},
	        {"2026-12-06T10:00:00+1:00", 0},
	        {"yesterday\x01", 0},
	        {"", 0},
	};
	struct smtprobe_outcome o;
	(void)state;

	smtprobe_outcome_init(&o);
	for (size_t i = 0; i < NELEM(stamps); i++) {
		struct smtprobe_suite *s =
		        smtprobe_outcome_suite(&o, "s", NULL);
		s->timestamp = strdup(stamps[i].timestamp);
		s->seconds = NAN;
	}
	struct smtprobe_suite *s = &o.suites[0];
	smtprobe_outcome_case(&o, s, "a", NULL, SMTPROBE_CASE_FAIL, INFINITY,
	                      "m", "d");
	struct smtprobe_case *c = &s->cases[0];
	free(c->message);
	c->message = strdup("bad\x01\xff<");
	free(c->detail);
	c->detail = strdup("\x1b[2J\xc3");
	c->status = (enum smtprobe_case_status)42; /* undecided: an error */

	/* the report's name is not the model's: cleaned by the renderer */
	char *xml = smtprobe_outcome_junit(&o, "run\x01\xff\n<");
	xmlDocPtr doc = parse(xml);
	assert_int_equal(validate(doc, 0), 0);
	xmlNodePtr root = xmlDocGetRootElement(doc);
	assert_prop(root, "name", "run" FFFD FFFD "\n<");
	assert_prop(root, "time", NULL);
	assert_prop(root, "errors", "1");
	for (size_t i = 0; i < NELEM(stamps); i++) {
		xmlNodePtr ts = find(root, "testsuite", i);
		assert_prop(ts, "timestamp",
		            stamps[i].kept ? stamps[i].timestamp : NULL);
		assert_prop(ts, "time", NULL);
	}
	xmlNodePtr tc = find(root, "testcase", 0);
	assert_prop(tc, "time", NULL);
	xmlNodePtr err = find(tc->children, "error", 0);
	assert_prop(err, "message", "bad" FFFD FFFD "<");
	assert_prop(err, "type", "error");
	assert_content(err, FFFD "[2J" FFFD);
	xmlFreeDoc(doc);
	free(xml);
	smtprobe_outcome_free(&o);
}

/* NULLs where the adders never leave one: no renderer trips on them. */
static void test_null_by_hand(void **state)
{
	struct smtprobe_outcome o;
	(void)state;

	smtprobe_outcome_init(&o);
	struct smtprobe_suite *s = smtprobe_outcome_suite(&o, "s", NULL);
	smtprobe_outcome_case(&o, s, "c", NULL, SMTPROBE_CASE_FAIL, 0, NULL,
	                      NULL);
	smtprobe_outcome_metric(&o, "m", "gauge", "h", 1, "l", "v", END);
	free(s->name);
	s->name = NULL;
	free(s->cases[0].name);
	s->cases[0].name = NULL;
	free(o.families[0].samples[0].label[0][1]);
	o.families[0].samples[0].label[0][1] = NULL;

	char *xml = smtprobe_outcome_junit(&o, NULL);
	xmlDocPtr doc = parse(xml);
	assert_int_equal(validate(doc, 0), 0);
	assert_prop(find(xmlDocGetRootElement(doc), "testcase", 0), "name", "");
	xmlFreeDoc(doc);
	free(xml);
	char *tap = smtprobe_outcome_tap(&o);
	assert_string_equal(tap, "TAP version 14\n1..1\n# Subtest: \n"
	                         "    1..1\n    not ok 1\n      ---\n"
	                         "      severity: fail\n      ...\n"
	                         "not ok 1\n");
	free(tap);
	char *prom = smtprobe_outcome_prometheus(&o);
	assert_string_equal(prom, "# HELP m h\n# TYPE m gauge\nm{l=\"\"} 1\n");
	free(prom);
	smtprobe_outcome_free(&o);
}

/* The schema itself: it takes what the reporters take and refuses the
 * rest (each document here differs from the first in one point). */
static void test_junit_schema(void **state)
{
	static const struct {
		const char *xml;
		int valid;
	} docs[] = {
	        {"<testsuites><testsuite name='s'><testcase name='c' "
	         "classname='k' time='0.5'><failure message='m' "
	         "type='fail'>d</failure><error/><system-out>o</system-out>"
	         "<system-err>e</system-err></testcase></testsuite>"
	         "</testsuites>",
	         1},
	        {"<testsuite name='s' tests='1'><properties><property "
	         "name='p' value='v'/></properties><testcase name='c'/>"
	         "</testsuite>",
	         1},
	        {"<testsuites><testsuite name='s'><testcase classname='k'/>"
	         "</testsuite></testsuites>",
	         0}, /* a testcase without a name */
	        {"<testsuites><testsuite><testcase name='c'/></testsuite>"
	         "</testsuites>",
	         0}, /* a testsuite without a name */
	        {"<testsuites><testsuite name='s'><testcase name='c'>"
	         "<skipped/><failure/></testcase></testsuite></testsuites>",
	         0}, /* skipped and failed */
	        {"<testsuites><testsuite name='s'><testcase name='c' "
	         "time='-1'/></testsuite></testsuites>",
	         0}, /* a negative time */
	        {"<testsuites><testsuite name='s' tests='x'/></testsuites>",
	         0}, /* a count that is not one */
	        {"<testsuites><testsuite name='s' timestamp='today'/>"
	         "</testsuites>",
	         0},
	        {"<testsuites><testcase name='c'/></testsuites>", 0},
	        {"<testsuites><testsuite name='s'><testcase name='c'>"
	         "<system-out/><failure/></testcase></testsuite></testsuites>",
	         0}, /* out of order */
	        {"<testsuites><testsuite name='s' color='red'/></testsuites>",
	         0}, /* an unknown attribute */
	};
	(void)state;

	for (size_t i = 0; i < NELEM(docs); i++) {
		xmlDocPtr doc = parse(docs[i].xml);
		int rc = validate(doc, 1);
		xmlFreeDoc(doc);
		if ((rc == 0) != docs[i].valid)
			fail_msg("schema %s: %s",
			         docs[i].valid ? "refused" : "took",
			         docs[i].xml);
	}
}

/* --- TAP ----------------------------------------------------------------- */

static const char tap_sample[] =
        "TAP version 14\n"
        "1..2\n"
        "# Subtest: check 127.0.0.1:587\n"
        "    1..4\n"
        "    ok 1 - connect\n"
        "    not ok 2 - tls \\#1\n"
        "      ---\n"
        "      message: \"STARTTLS refused\"\n"
        "      severity: fail\n"
        "      data: \"454 4.7.0 TLS not available\\nfix: enable it\"\n"
        "      ...\n"
        "    ok 3 - auth # SKIP no credentials\n"
        "    not ok 4 - relay\n"
        "      ---\n"
        "      message: \"timeout\"\n"
        "      severity: error\n"
        "      ...\n"
        "not ok 1 - check 127.0.0.1:587\n"
        "# Subtest: empty\n"
        "    1..0\n"
        "ok 2 - empty\n";

static void test_tap_sample(void **state)
{
	struct smtprobe_outcome o;
	(void)state;

	smtprobe_outcome_init(&o);
	char *tap = smtprobe_outcome_tap(&o);
	assert_string_equal(tap, "TAP version 14\n1..0\n");
	free(tap);

	sample_outcome(&o);
	tap = smtprobe_outcome_tap(&o);
	assert_string_equal(tap, tap_sample);
	free(tap);
	smtprobe_outcome_free(&o);
}

/* Descriptions stay on one line with '#' and '\' escaped; a skip reason
 * on one line; a suite of passes and skips is ok. */
static void test_tap_names(void **state)
{
	struct smtprobe_outcome o;
	(void)state;

	smtprobe_outcome_init(&o);
	struct smtprobe_suite *s =
	        smtprobe_outcome_suite(&o, "a#b\\c\nd", NULL);
	smtprobe_outcome_case(&o, s, "x\ty\nz # TODO not", NULL,
	                      SMTPROBE_CASE_PASS, 0, NULL, "ignored");
	smtprobe_outcome_case(&o, s, "", NULL, SMTPROBE_CASE_SKIP, 0,
	                      "why\nnot #", NULL);
	smtprobe_outcome_case(&o, s, "s", NULL, SMTPROBE_CASE_SKIP, 0, NULL,
	                      NULL);
	char *tap = smtprobe_outcome_tap(&o);
	assert_string_equal(tap, "TAP version 14\n"
	                         "1..1\n"
	                         "# Subtest: a#b\\c d\n"
	                         "    1..3\n"
	                         "    ok 1 - x y z \\# TODO not\n"
	                         "    ok 2 # SKIP why not #\n"
	                         "    ok 3 - s # SKIP\n"
	                         "ok 1 - a\\#b\\\\c d\n");
	free(tap);
	smtprobe_outcome_free(&o);
}

/* The value of key in the YAML mapping of text, malloc'd; NULL if none. */
static char *yaml_value(const char *text, const char *key)
{
	yaml_parser_t p;
	yaml_document_t d;
	char *out = NULL;

	assert_true(yaml_parser_initialize(&p));
	yaml_parser_set_input_string(&p, (const unsigned char *)text,
	                             strlen(text));
	if (!yaml_parser_load(&p, &d))
		fail_msg("not YAML (%s):\n%s", p.problem ? p.problem : "?",
		         text);
	yaml_node_t *root = yaml_document_get_root_node(&d);
	assert_non_null(root);
	assert_int_equal(root->type, YAML_MAPPING_NODE);
	for (yaml_node_pair_t *pr = root->data.mapping.pairs.start;
	     pr < root->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yaml_document_get_node(&d, pr->key);
		yaml_node_t *v = yaml_document_get_node(&d, pr->value);
		assert_int_equal(k->type, YAML_SCALAR_NODE);
		assert_int_equal(v->type, YAML_SCALAR_NODE);
		if (strcmp((const char *)k->data.scalar.value, key) == 0)
			out = strndup((const char *)v->data.scalar.value,
			              v->data.scalar.length);
	}
	yaml_document_delete(&d);
	yaml_parser_delete(&p);
	return out;
}

/* The first YAML block of a TAP text, its indentation taken off. */
static char *yaml_block(const char *tap)
{
	const char *start = strstr(tap, "      ---\n");
	assert_non_null(start);
	const char *end = strstr(start, "      ...\n");
	assert_non_null(end);
	end += strlen("      ...\n");
	char *out = calloc(1, (size_t)(end - start) + 1), *q = out;
	assert_non_null(out);
	for (const char *l = start; l < end;) {
		const char *nl = strchr(l, '\n');
		assert_non_null(nl);
		assert_memory_equal(l, "      ", 6); /* every line indented */
		memcpy(q, l + 6, (size_t)(nl + 1 - (l + 6)));
		q += nl + 1 - (l + 6);
		l = nl + 1;
	}
	return out;
}

/* Hostile messages and details cannot break out of the YAML block: a YAML
 * parser reads back exactly what the model stored. */
static void test_tap_yaml(void **state)
{
	static const char *const nasty[] = {
	        "message: injected\n...\nok 99 - fake",
	        "\"quoted\" 'single' \\back\\slash",
	        "  leading and trailing  ",
	        "# comment? - [list] {map}: *alias &anchor !tag %dir @ `",
	        "---\n...",
	        "null",
	        "tab\there\r\x01\xff",
	        "caf\xc3\xa9 \xe2\x80\xa8 \xe2\x80\xa9 \xef\xbb\xbf",
	        "",
	};
	(void)state;

	for (size_t i = 0; i < NELEM(nasty); i++) {
		struct smtprobe_outcome o;
		smtprobe_outcome_init(&o);
		struct smtprobe_suite *s =
		        smtprobe_outcome_suite(&o, "s", NULL);
		smtprobe_outcome_case(&o, s, nasty[i], NULL,
		                      SMTPROBE_CASE_ERROR, 0, nasty[i],
		                      nasty[i]);
		const struct smtprobe_case *c = &s->cases[0];
		char *tap = smtprobe_outcome_tap(&o);
		assert_non_null(tap);
		/* exactly the lines expected: 6 of TAP, 5 of YAML */
		size_t lines = 0;
		for (const char *p = tap; *p; p++)
			lines += *p == '\n';
		assert_int_equal(lines, 11);
		char *block = yaml_block(tap);
		char *m = yaml_value(block, "message");
		char *d = yaml_value(block, "data");
		char *sev = yaml_value(block, "severity");
		assert_non_null(m);
		assert_string_equal(m, c->message);
		assert_string_equal(d, c->detail);
		assert_string_equal(sev, "error");
		free(m);
		free(d);
		free(sev);
		free(block);
		free(tap);
		smtprobe_outcome_free(&o);
	}
}

/* --- Prometheus ---------------------------------------------------------- */

static const char prom_sample[] =
        "# HELP smtprobe_step_success Whether the step succeeded.\\nSee "
        "C:\\\\docs.\n"
        "# TYPE smtprobe_step_success gauge\n"
        "smtprobe_step_success{step=\"tls\",target=\"a\\\"b\\\\c\\nd\"} 1\n"
        "smtprobe_step_success{step=\"auth\"} 0\n"
        "# TYPE smtprobe_up untyped\n"
        "smtprobe_up 1733500000\n"
        "# HELP smtprobe_probe_duration_seconds How long the probe took.\n"
        "# TYPE smtprobe_probe_duration_seconds gauge\n"
        "smtprobe_probe_duration_seconds{module=\"submission\"} 0.1\n"
        "smtprobe_probe_duration_seconds{module=\"x:y\"} NaN\n"
        "# HELP ns:rule_total Colons are fine in metric names.\n"
        "# TYPE ns:rule_total counter\n"
        "ns:rule_total -Inf\n"
        "ns:rule_total 0.3333333333333333\n";

static void test_prom_sample(void **state)
{
	struct smtprobe_outcome o;
	(void)state;

	smtprobe_outcome_init(&o);
	char *text = smtprobe_outcome_prometheus(&o);
	assert_string_equal(text, ""); /* nothing: an empty exposition */
	free(text);

	smtprobe_outcome_metric(&o, "smtprobe_step_success", "gauge",
	                        "Whether the step succeeded.\nSee C:\\docs.", 1,
	                        "step", "tls", "target", "a\"b\\c\nd", END);
	smtprobe_outcome_metric(&o, "smtprobe_step_success", "counter",
	                        "ignored", 0, "step", "auth", END);
	smtprobe_outcome_metric(&o, "smtprobe_up", NULL, NULL, 1733500000, END);
	/* a bad metric name, a bad type: the family is left out */
	smtprobe_outcome_metric(&o, "2bad", "gauge", "h", 1, END);
	smtprobe_outcome_metric(&o, "bad-name", "gauge", "h", 1, END);
	smtprobe_outcome_metric(&o, "", "gauge", "h", 1, END);
	smtprobe_outcome_metric(&o, "bad_type", "gauge\nevil 1", "h", 1, END);
	smtprobe_outcome_metric(&o, "bad_type2", "Gauge", "h", 1, END);
	smtprobe_outcome_metric(&o, "smtprobe_probe_duration_seconds", "gauge",
	                        "How long the probe took.", 0.1, "module",
	                        "submission", END);
	/* a bad label name, or one given twice: the sample is left out */
	smtprobe_outcome_metric(&o, "smtprobe_probe_duration_seconds", "gauge",
	                        "", 7, "1module", "x", END);
	smtprobe_outcome_metric(&o, "smtprobe_probe_duration_seconds", "gauge",
	                        "", 7, "mod:ule", "x", END);
	smtprobe_outcome_metric(&o, "smtprobe_probe_duration_seconds", "gauge",
	                        "", 7, "a", "x", "a", "y", END);
	smtprobe_outcome_metric(&o, "smtprobe_probe_duration_seconds", "gauge",
	                        "", NAN, "module", "x:y", END);
	smtprobe_outcome_metric(&o, "ns:rule_total", "counter",
	                        "Colons are fine in metric names.", -INFINITY,
	                        END);
	smtprobe_outcome_metric(&o, "ns:rule_total", "counter", NULL, 1.0 / 3,
	                        END);
	text = smtprobe_outcome_prometheus(&o);
	assert_string_equal(text, prom_sample);
	free(text);
	smtprobe_outcome_free(&o);
}

static const struct {
	double v;
	const char *text;
} values[] = {
        {0, "0"},
        {-0.0, "0"},
        {1, "1"},
        {-1, "-1"},
        {1733500000, "1733500000"},
        {9007199254740991.0, "9007199254740991"},
        {0.1, "0.1"},
        {1.5, "1.5"},
        {-2.25, "-2.25"},
        {0.1 + 0.2, "0.30000000000000004"},
        {1e-7, "1e-07"},
        {123456.789, "123456.789"},
        {1e21, "1e+21"},
        {1.7976931348623157e308, "1.7976931348623157e+308"},
        {5e-324, "5e-324"},
        {INFINITY, "+Inf"},
        {-INFINITY, "-Inf"},
        {NAN, "NaN"},
};

static void test_prom_values(void **state)
{
	(void)state;

	for (size_t i = 0; i < NELEM(values); i++) {
		struct smtprobe_outcome o;
		char want[128];
		smtprobe_outcome_init(&o);
		smtprobe_outcome_metric(&o, "v", "gauge", NULL, values[i].v,
		                        END);
		char *text = smtprobe_outcome_prometheus(&o);
		snprintf(want, sizeof(want), "# TYPE v gauge\nv %s\n",
		         values[i].text);
		assert_string_equal(text, want);
		/* and it reads back to the same double */
		if (!isnan(values[i].v) && !isinf(values[i].v))
			assert_true(strtod(values[i].text, NULL) ==
			            values[i].v);
		free(text);
		smtprobe_outcome_free(&o);
	}
}

/* A program that set a locale with a decimal comma still gets '.'. */
static void test_prom_locale(void **state)
{
	static const char *const comma[] = {"de_DE.UTF-8", "de_DE.utf8",
	                                    "fr_FR.UTF-8", "fr_FR.utf8"};
	struct smtprobe_outcome o;
	const char *set = NULL;
	(void)state;

	for (size_t i = 0; i < NELEM(comma) && !set; i++)
		set = setlocale(LC_NUMERIC, comma[i]);
	if (!set)
		skip(); /* no such locale installed here */
	smtprobe_outcome_init(&o);
	smtprobe_outcome_metric(&o, "v", "gauge", NULL, 0.5, END);
	smtprobe_outcome_suite(&o, "s", NULL)->seconds = 1.5;
	char *text = smtprobe_outcome_prometheus(&o);
	char *xml = smtprobe_outcome_junit(&o, NULL);
	setlocale(LC_NUMERIC, "C");
	assert_string_equal(text, "# TYPE v gauge\nv 0.5\n");
	assert_non_null(strstr(xml, "time=\"1.500\""));
	free(text);
	free(xml);
	smtprobe_outcome_free(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_model),
	        cmocka_unit_test(test_metrics),
	        cmocka_unit_test(test_clean),
	        cmocka_unit_test(test_oom),
	        cmocka_unit_test(test_junit_sample),
	        cmocka_unit_test(test_junit_hostile),
	        cmocka_unit_test(test_junit_by_hand),
	        cmocka_unit_test(test_null_by_hand),
	        cmocka_unit_test(test_junit_schema),
	        cmocka_unit_test(test_tap_sample),
	        cmocka_unit_test(test_tap_names),
	        cmocka_unit_test(test_tap_yaml),
	        cmocka_unit_test(test_prom_sample),
	        cmocka_unit_test(test_prom_values),
	        cmocka_unit_test(test_prom_locale),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	xmlCleanupParser();
	return rc;
}
