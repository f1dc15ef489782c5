/* test_spf.c - table-driven tests of the SPF parser, record selection,
 * the check_host() evaluator and the static lookup walk. The evaluator is
 * driven by a small in-test zone: rows of (name, type, data); a name with
 * no row at all is NXDOMAIN, a name with rows of other types only is an
 * empty answer, and a row whose data is "SERVFAIL" fails that query. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "smtprobe/spf.h"

#include "banned.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define E(x) SMTPROBE_SPF_E_##x
#define R(x) SMTPROBE_SPF_##x

/* ---- parsing ---- */

struct pcase {
	const char *in;
	size_t len;      /* 0: strlen(in) */
	int want;        /* 0 or an error code */
	size_t nterms;   /* good records; bad ones: the offending term */
	const char *msg; /* NULL: not checked */
};

static const struct pcase pcases[] = {
        /* good */
        {"v=spf1", 0, 0, 0, NULL},
        {"v=spf1 -all", 0, 0, 1, NULL},
        {"V=SpF1 +MX -ALL", 0, 0, 2, NULL},
        {"v=spf1  a   -all  ", 0, 0, 2, NULL},
        {"v=spf1 a:foo:bar/baz.example.com", 0, 0, 1, NULL},
        {"v=spf1 a:foo.example.xn--zckzah -all", 0, 0, 2, NULL},
        {"v=spf1 a:foo.example.1-2", 0, 0, 1, NULL},
        {"v=spf1 exists:%{l2r+-}.user.%{d2}", 0, 0, 1, NULL},
        {"v=spf1 exists:%{ir}.%{v}._spf.%{D2}", 0, 0, 1, NULL},
        {"v=spf1 a:macro%%percent%_%_space%-url-space.example.com", 0, 0, 1,
         NULL},
        {"v=spf1 redirect=%{d}.d.spf.example.com.", 0, 0, 1, NULL},
        {"v=spf1 ip4:0.0.0.0/0 ip6:::/0 ip6:::ffff:1.2.3.4", 0, 0, 3, NULL},
        {"v=spf1 ip4:255.255.255.255/32 ip6:2001:db8::/128", 0, 0, 2, NULL},
        {"v=spf1 moo.cow-far_out=man:dog/cat ip4:1.2.3.4 -all", 0, 0, 3, NULL},
        {"v=spf1 empty= -all", 0, 0, 2, NULL},
        {"v=spf1 default=pass", 0, 0, 1, NULL},
        {"v=spf1 -all exp=explain.%{d}", 0, 0, 2, NULL},
        {"v=spf1 ptr ptr:example.org ?exists:%{p}.ok.example.com", 0, 0, 3,
         NULL},
        /* bad: the brief's example, then one per rule */
        {"v=spf1 ip4:300.1.1.1", 0, E(IP4), 1,
         "permerror: 'ip4:300.1.1.1' is not an IPv4 network"},
        {"v=spf1 mx ip4:192.0.2.1/33 -all", 0, E(CIDR), 2,
         "permerror: 'ip4:192.0.2.1/33' has an invalid prefix length"},
        {"v=spf1 ip4:192.0.2.1/032", 0, E(CIDR), 1, NULL},
        {"v=spf1 ip4:1.2.3", 0, E(IP4), 1, NULL},
        {"v=spf1 ip4:01.2.3.4", 0, E(IP4), 1, NULL},
        {"v=spf1 ip4:1.2.3.4:8080", 0, E(IP4), 1, NULL},
        {"v=spf1 ip4:1.2.3.4//32", 0, E(CIDR), 1, NULL},
        {"v=spf1 ip4", 0, E(SYNTAX), 1, NULL},
        {"v=spf1 -all ip6", 0, E(SYNTAX), 2, NULL},
        {"v=spf1 ip6:::1/129", 0, E(CIDR), 1, NULL},
        {"v=spf1 ip6:::1.1.1.1//33", 0, E(CIDR), 1, NULL},
        {"v=spf1 ip6::CAFE::BABE", 0, E(IP6), 1, NULL},
        {"v=spf1 a/33", 0, E(CIDR), 1, NULL},
        {"v=spf1 mx//129", 0, E(CIDR), 1, NULL},
        {"v=spf1 a/24/64", 0, E(CIDR), 1, NULL},
        {"v=spf1 a/", 0, E(SYNTAX), 1, NULL},
        {"v=spf1 a:", 0, E(DOMAIN), 1, NULL},
        {"v=spf1 a:museum", 0, E(DOMAIN), 1, NULL},
        {"v=spf1 a:museum.", 0, E(DOMAIN), 1, NULL},
        {"v=spf1 a:abc.123", 0, E(DOMAIN), 1, NULL},
        {"v=spf1 a:192.0.2.1", 0, E(DOMAIN), 1,
         "permerror: 'a:192.0.2.1' has an invalid domain-spec"},
        {"v=spf1 a:example.-com", 0, E(DOMAIN), 1, NULL},
        {"v=spf1 mx:example.com:8080", 0, E(DOMAIN), 1, NULL},
        {"v=spf1 include", 0, E(SYNTAX), 1, NULL},
        {"v=spf1 include: -all", 0, E(DOMAIN), 1, NULL},
        {"v=spf1 include:ip5.example.com/24", 0, E(DOMAIN), 1, NULL},
        {"v=spf1 exists", 0, E(SYNTAX), 1, NULL},
        {"v=spf1 exists:mail.example.com/24", 0, E(DOMAIN), 1, NULL},
        {"v=spf1 ptr/0 -all", 0, E(SYNTAX), 1, NULL},
        {"v=spf1 ptr:", 0, E(DOMAIN), 1, NULL},
        {"v=spf1 -all.", 0, E(SYNTAX), 1, NULL},
        {"v=spf1 -all:foobar", 0, E(SYNTAX), 1, NULL},
        {"v=spf1 -all/8", 0, E(SYNTAX), 1, NULL},
        {"v=spf1 ip4:1.2.3.4 -all moo", 0, E(UNKNOWN), 3,
         "permerror: 'moo' is neither a mechanism nor a modifier"},
        {"v=spf1 ip4:1.2.3.4 redirect:t2.example.com", 0, E(UNKNOWN), 2, NULL},
        {"v=spf1 moo.cow/far_out=man:dog/cat", 0, E(UNKNOWN), 1, NULL},
        {"v=spf1 =all", 0, E(MODIFIER), 1, NULL},
        {"v=spf1 1up=foo", 0, E(UNKNOWN), 1, NULL},
        {"v=spf1 -all foo=%abc", 0, E(MACRO), 2, NULL},
        {"v=spf1 -exists:%(ir).sbl.example.com", 0, E(MACRO), 1, NULL},
        {"v=spf1 exists:foo%.sbl.example.com", 0, E(MACRO), 1, NULL},
        {"v=spf1 exists:%{d0}.example.com", 0, E(MACRO), 1, NULL},
        {"v=spf1 exists:%{x}.example.com", 0, E(MACRO), 1, NULL},
        {"v=spf1 exists:%{d", 0, E(MACRO), 1, NULL},
        {"v=spf1 exists:%{c}.example.com", 0, E(MACRO_EXP), 1, NULL},
        {"v=spf1 -all exp=%{r}.example.com", 0, E(MACRO_EXP), 2, NULL},
        {"v=spf1 redirect=a.example.com -all redirect=b.example.com", 0,
         E(DUPLICATE), 3,
         "permerror: 'redirect=b.example.com' repeats a modifier allowed "
         "once"},
        {"v=spf1 exp=a.example.com -all EXP=b.example.com", 0, E(DUPLICATE), 3,
         NULL},
        {"v=spf1 exp= -all", 0, E(DOMAIN), 1, NULL},
        {"v=spf1 exp=-all", 0, E(DOMAIN), 1, NULL},
        {"v=spf1 ?all redirect=", 0, E(DOMAIN), 2, NULL},
        {"v=spf1 a:ctrl.example.com\rptr -all", 0, E(CHAR), 1,
         "permerror: 'a:ctrl.example.com\\rptr' contains a control or "
         "non-ASCII byte"},
        {"v=spf1 \x80"
         "a:example.net -all",
         0, E(CHAR), 1, NULL},
        {"v=spf1 a:foo.example.com\0", 26, E(CHAR), 1, NULL},
        {"v=spf10 -all", 0, E(VERSION), 0, NULL},
        {" v=spf1 -all", 0, E(VERSION), 0, NULL},
        {"v=spf1\t-all", 0, E(VERSION), 0, NULL},
        {"", 0, E(VERSION), 0, NULL},
};

static void test_parse_table(void **state)
{
	static struct smtprobe_spf_record rec;
	struct smtprobe_spf_error err;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(pcases); i++) {
		const struct pcase *c = &pcases[i];
		size_t len = c->len ? c->len : strlen(c->in);
		char *copy = malloc(len ? len : 1); /* ASan sees overreads */
		int rc;

		assert_non_null(copy);
		memcpy(copy, c->in, len);
		rc = smtprobe_spf_parse(copy, len, &rec, &err);
		if (rc != c->want)
			fail_msg("case %zu '%s': got %d (%s), want %d", i,
			         c->in, rc, err.msg, c->want);
		if (rc == 0)
			assert_int_equal(rec.nterms, c->nterms);
		else if (c->nterms > 0)
			assert_int_equal(err.term, c->nterms);
		if (c->msg != NULL)
			assert_string_equal(err.msg, c->msg);
		free(copy);
	}
}

/* What a good record's terms say. */
static void test_parse_terms(void **state)
{
	static const char rec_text[] =
	        "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -a:mail.example.com"
	        "/24//64 ~mx//64 ?ptr:example.org exists:%{i}.bl.example "
	        "include:_spf.example.net redirect=_spf.example.com "
	        "exp=explain.%{d} foo.bar=x:y/z +all";
	static const struct {
		int kind, qual, cidr4, cidr6;
		const char *arg;
	} want[] = {
	        {R(IP4), R(PASS), 24, -1, "192.0.2.0"},
	        {R(IP6), R(PASS), -1, 32, "2001:db8::"},
	        {R(A), R(FAIL), 24, 64, "mail.example.com"},
	        {R(MX), R(SOFTFAIL), -1, 64, ""},
	        {R(PTR), R(NEUTRAL), -1, -1, "example.org"},
	        {R(EXISTS), R(PASS), -1, -1, "%{i}.bl.example"},
	        {R(INCLUDE), R(PASS), -1, -1, "_spf.example.net"},
	        {R(REDIRECT), R(PASS), -1, -1, "_spf.example.com"},
	        {R(EXP), R(PASS), -1, -1, "explain.%{d}"},
	        {R(UNKNOWN_MOD), R(PASS), -1, -1, "x:y/z"},
	        {R(ALL), R(PASS), -1, -1, ""},
	};
	static struct smtprobe_spf_record rec;
	size_t i;

	(void)state;
	assert_int_equal(
	        smtprobe_spf_parse(rec_text, strlen(rec_text), &rec, NULL), 0);
	assert_int_equal(rec.nterms, NELEM(want));
	assert_int_equal(rec.redirect, 7);
	assert_int_equal(rec.exp, 8);
	assert_int_equal(rec.all, 10);
	assert_int_equal(rec.counted, 6); /* a mx ptr exists include redirect */
	for (i = 0; i < NELEM(want); i++) {
		const struct smtprobe_spf_term *t = &rec.terms[i];

		assert_int_equal(t->kind, want[i].kind);
		assert_int_equal(t->qual, want[i].qual);
		assert_int_equal(t->cidr4, want[i].cidr4);
		assert_int_equal(t->cidr6, want[i].cidr6);
		assert_int_equal(t->arg.len, strlen(want[i].arg));
		assert_memory_equal(rec_text + t->arg.off, want[i].arg,
		                    t->arg.len);
	}
	assert_memory_equal(rec.terms[9].name.len == 7 ? "foo.bar" : "?",
	                    rec_text + rec.terms[9].name.off, 7);
	assert_true(rec.terms[5].flags & SMTPROBE_SPF_T_NEEDS_IP);
	assert_memory_equal(rec.terms[0].net, "\xc0\x00\x02\x00", 4);
}

/* The caps: the longest record and the most terms are fine, one more is
 * an error of its own. */
static void test_parse_limits(void **state)
{
	static struct smtprobe_spf_record rec;
	static char buf[SMTPROBE_SPF_MAX_RECORD + 2];
	struct smtprobe_spf_error err;
	size_t len, i;

	(void)state;
	len = (size_t)snprintf(buf, sizeof(buf), "v=spf1");
	for (i = 0; i < SMTPROBE_SPF_MAX_TERMS; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, " a");
	assert_int_equal(smtprobe_spf_parse(buf, len, &rec, &err), 0);
	assert_int_equal(rec.nterms, SMTPROBE_SPF_MAX_TERMS);
	len += (size_t)snprintf(buf + len, sizeof(buf) - len, " a");
	assert_int_equal(smtprobe_spf_parse(buf, len, &rec, &err),
	                 E(TOO_MANY_TERMS));

	memset(buf, ' ', sizeof(buf));
	memcpy(buf, "v=spf1", 6);
	assert_int_equal(
	        smtprobe_spf_parse(buf, SMTPROBE_SPF_MAX_RECORD, &rec, &err),
	        0);
	assert_int_equal(smtprobe_spf_parse(buf, SMTPROBE_SPF_MAX_RECORD + 1,
	                                    &rec, &err),
	                 E(TOO_LONG));
	assert_string_equal(err.msg, "permerror: the record is 4097 bytes, "
	                             "more than smtprobe's limit of 4096");
}

/* ---- selection ---- */

static void test_select(void **state)
{
	static const struct {
		const char *txt[4];
		int want;
		size_t first, count;
	} cases[] = {
	        {{NULL}, SMTPROBE_SPF_SEL_NONE, 0, 0},
	        {{"google-site-verification=x", NULL},
	         SMTPROBE_SPF_SEL_NONE,
	         0,
	         0},
	        {{"v=spf10 -all", "v=spf1x", NULL},
	         SMTPROBE_SPF_SEL_NONE,
	         0,
	         0},
	        {{"x", "v=spf1 -all", NULL}, SMTPROBE_SPF_SEL_ONE, 1, 1},
	        {{"v=spf1", NULL}, SMTPROBE_SPF_SEL_ONE, 0, 1},
	        {{"spf2.0/pra -all", "V=SPF1 mx", NULL},
	         SMTPROBE_SPF_SEL_ONE,
	         1,
	         1},
	        {{"v=spf1 -all", "v=spf1 -all", NULL},
	         SMTPROBE_SPF_SEL_MULTIPLE,
	         0,
	         2},
	        {{"a", "v=spf1 -all", "b", "v=SPF1 +all"},
	         SMTPROBE_SPF_SEL_MULTIPLE,
	         1,
	         2},
	};
	size_t i, j;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		struct smtprobe_txt txt[4];
		size_t n = 0, first = 99, count = 99;

		for (j = 0; j < 4 && cases[i].txt[j] != NULL; j++, n++) {
			txt[j].data = cases[i].txt[j];
			txt[j].len = strlen(cases[i].txt[j]);
		}
		assert_int_equal(smtprobe_spf_select(txt, n, &first, &count),
		                 cases[i].want);
		assert_int_equal(count, cases[i].count);
		if (count > 0)
			assert_int_equal(first, cases[i].first);
	}
}

/* ---- the fake DNS ---- */

struct rr {
	const char *name;
	int type;
	const char *data;
};

#define TXT(n, d)                                                              \
	{                                                                      \
		n, SMTPROBE_SPF_Q_TXT, d                                       \
	}
#define A(n, d)                                                                \
	{                                                                      \
		n, SMTPROBE_SPF_Q_A, d                                         \
	}
#define AAAA(n, d)                                                             \
	{                                                                      \
		n, SMTPROBE_SPF_Q_AAAA, d                                      \
	}
#define MX(n, d)                                                               \
	{                                                                      \
		n, SMTPROBE_SPF_Q_MX, d                                        \
	}
#define PTR(n, d)                                                              \
	{                                                                      \
		n, SMTPROBE_SPF_Q_PTR, d                                       \
	}

static const struct rr zone[] = {
        /* results */
        TXT("basic.example", "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all"),
        TXT("basic.example", "not spf"),
        TXT("soft.example", "v=spf1 ip4:192.0.2.1 ~all"),
        TXT("neutral.example", "v=spf1 ?all"),
        TXT("default.example", "v=spf1 ip4:192.0.2.1"),
        TXT("nospf.example", "google-site-verification=abc"),
        TXT("two.example", "v=spf1 -all"),
        TXT("two.example", "V=SPF1 +all"),
        TXT("v10.example", "v=spf10 +all"),
        TXT("v10.example", "v=spf1 -all"),
        TXT("servfail.example", "SERVFAIL"),
        A("servfail.example", "SERVFAIL"),
        TXT("syntax.example", "v=spf1 ip4:300.1.1.1 -all"),
        TXT("late.example", "v=spf1 +all moo"),
        /* include */
        TXT("inc.example",
            "v=spf1 include:inc1.example include:inc2.example -all"),
        TXT("inc1.example", "v=spf1 ip4:192.0.2.10 -all"),
        TXT("inc2.example", "v=spf1 include:inc3.example ?all"),
        TXT("inc3.example", "v=spf1 ip4:192.0.2.30"),
        TXT("incbad.example", "v=spf1 ip4:192.0.2.1 include:broken.example "
                              "-all"),
        TXT("broken.example", "v=spf1 a ip4:192.0.2.1/33 -all"),
        TXT("incnone.example", "v=spf1 include:nospf.example -all"),
        TXT("incnx.example", "v=spf1 include:nothere.example -all"),
        TXT("inctemp.example", "v=spf1 include:servfail.example -all"),
        TXT("incsoft.example", "v=spf1 include:soft.example -all"),
        TXT("incexp.example",
            "v=spf1 include:expinner.example -all exp=outer.%{d}"),
        TXT("expinner.example", "v=spf1 -all exp=inner.%{d}"),
        TXT("outer.incexp.example", "outer says no"),
        TXT("inner.expinner.example", "inner says no"),
        /* redirect */
        TXT("redir.example", "v=spf1 ip4:192.0.2.50 redirect=basic.example"),
        TXT("redirall.example", "v=spf1 redirect=nothere.example ~all"),
        TXT("redirnone.example", "v=spf1 redirect=nospf.example"),
        TXT("redirmacro.example", "v=spf1 redirect=_spf.%{d}"),
        TXT("_spf.redirmacro.example", "v=spf1 a -all"),
        A("_spf.redirmacro.example", "192.0.2.60"),
        TXT("redirexp.example",
            "v=spf1 exp=gone.example redirect=plain.example"),
        TXT("plain.example", "v=spf1 -all"),
        TXT("gone.example", "this must not be used"),
        /* the lookup limit: ten.example has an A and an MX, so no term
         * is a void lookup */
        TXT("ten.example", "v=spf1 a mx a mx a mx a mx a mx ip4:192.0.2.77 "
                           "-all"),
        A("ten.example", "192.0.2.200"),
        MX("ten.example", "mx.ten.example"),
        A("mx.ten.example", "192.0.2.201"),
        TXT("eleven.example", "v=spf1 a:ten.example mx:ten.example "
                              "a:ten.example mx:ten.example a:ten.example "
                              "mx:ten.example a:ten.example mx:ten.example "
                              "a:ten.example mx:ten.example a:ten.example "
                              "ip4:192.0.2.77 -all"),
        TXT("incten.example", "v=spf1 include:five.example "
                              "include:five.example ip4:192.0.2.77 -all"),
        TXT("inceleven.example", "v=spf1 include:five.example "
                                 "include:five.example a:ten.example "
                                 "ip4:192.0.2.77 -all"),
        TXT("five.example", "v=spf1 a:ten.example a:ten.example "
                            "a:ten.example a:ten.example"),
        TXT("redirten.example", "v=spf1 a:ten.example a:ten.example "
                                "a:ten.example a:ten.example a:ten.example "
                                "a:ten.example a:ten.example a:ten.example "
                                "a:ten.example redirect=ip77.example"),
        TXT("redireleven.example", "v=spf1 a:ten.example a:ten.example "
                                   "a:ten.example a:ten.example "
                                   "a:ten.example a:ten.example "
                                   "a:ten.example a:ten.example "
                                   "a:ten.example a:ten.example "
                                   "redirect=ip77.example"),
        TXT("ip77.example", "v=spf1 ip4:192.0.2.77 -all"),
        TXT("loop.example", "v=spf1 include:loop.example"),
        TXT("redirloop.example", "v=spf1 redirect=redirloop.example"),
        TXT("bigtree.example", "v=spf1 include:incten.example "
                               "include:incten.example -all"),
        /* void lookups */
        TXT("void2.example", "v=spf1 a:nx1.example a:nodata.example "
                             "ip4:192.0.2.88 -all"),
        TXT("void3.example", "v=spf1 a:nx1.example a:nodata.example "
                             "mx:nx3.example ip4:192.0.2.88 -all"),
        TXT("nodata.example", "v=spf1 -all"),
        /* mx */
        TXT("mx.example", "v=spf1 mx -all"),
        MX("mx.example", "mx1.mx.example"),
        MX("mx.example", "mx2.mx.example"),
        A("mx1.mx.example", "192.0.2.101"),
        A("mx2.mx.example", "192.0.2.102"),
        AAAA("mx2.mx.example", "2001:db8::102"),
        TXT("cidrmx.example", "v=spf1 mx:mx.example/30//126 -all"),
        TXT("cidra.example", "v=spf1 a/24//64 -all"),
        A("cidra.example", "192.0.2.130"),
        AAAA("cidra.example", "2001:db8:1:2::1"),
        TXT("mxnull.example", "v=spf1 mx"),
        MX("mxnull.example", "."),
        TXT("mxtemp.example", "v=spf1 mx:mxsf.example -all"),
        MX("mxsf.example", "servfail.example"),
        TXT("mxten.example", "v=spf1 mx -all"),
        MX("mxten.example", "m1.mx.example"),
        MX("mxten.example", "m2.mx.example"),
        MX("mxten.example", "m3.mx.example"),
        MX("mxten.example", "m4.mx.example"),
        MX("mxten.example", "m5.mx.example"),
        MX("mxten.example", "m6.mx.example"),
        MX("mxten.example", "m7.mx.example"),
        MX("mxten.example", "m8.mx.example"),
        MX("mxten.example", "m9.mx.example"),
        MX("mxten.example", "mx1.mx.example"),
        TXT("mxmany.example", "v=spf1 mx -all"),
        MX("mxmany.example", "m1.mx.example"),
        MX("mxmany.example", "m2.mx.example"),
        MX("mxmany.example", "m3.mx.example"),
        MX("mxmany.example", "m4.mx.example"),
        MX("mxmany.example", "m5.mx.example"),
        MX("mxmany.example", "m6.mx.example"),
        MX("mxmany.example", "m7.mx.example"),
        MX("mxmany.example", "m8.mx.example"),
        MX("mxmany.example", "m9.mx.example"),
        MX("mxmany.example", "m10.mx.example"),
        MX("mxmany.example", "mx1.mx.example"),
        /* ptr */
        TXT("ptr.example", "v=spf1 ptr -all"),
        TXT("ptrt.example", "v=spf1 ptr:example.net -all"),
        PTR("140.2.0.192.in-addr.arpa", "Host.PTR.example."),
        PTR("140.2.0.192.in-addr.arpa", "other.example.net"),
        A("host.ptr.example", "192.0.2.140"),
        A("other.example.net", "192.0.2.140"),
        PTR("141.2.0.192.in-addr.arpa", "fake.ptr.example"),
        A("fake.ptr.example", "192.0.2.99"),
        PTR("142.2.0.192.in-addr.arpa", "p1.example.org"),
        PTR("142.2.0.192.in-addr.arpa", "p2.example.org"),
        PTR("142.2.0.192.in-addr.arpa", "p3.example.org"),
        PTR("142.2.0.192.in-addr.arpa", "p4.example.org"),
        PTR("142.2.0.192.in-addr.arpa", "p5.example.org"),
        PTR("142.2.0.192.in-addr.arpa", "p6.example.org"),
        PTR("142.2.0.192.in-addr.arpa", "p7.example.org"),
        PTR("142.2.0.192.in-addr.arpa", "p8.example.org"),
        PTR("142.2.0.192.in-addr.arpa", "p9.example.org"),
        PTR("142.2.0.192.in-addr.arpa", "p10.example.org"),
        PTR("142.2.0.192.in-addr.arpa", "eleventh.ptr.example"),
        A("eleventh.ptr.example", "192.0.2.142"),
        PTR("143.2.0.192.in-addr.arpa", "SERVFAIL"),
        PTR("1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2."
            "ip6.arpa",
            "mx.ptr.example"),
        AAAA("mx.ptr.example", "2001:db8::cb01"),
        /* exists and macros */
        TXT("exists.example", "v=spf1 exists:%{i}._spf.%{d} -all"),
        A("192.0.2.150._spf.exists.example", "127.0.0.2"),
        TXT("exists6.example", "v=spf1 exists:%{ir}.%{v}.list.example -all"),
        A("1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2."
          "ip6.list.example",
          "127.0.0.2"),
        TXT("existsp.example", "v=spf1 exists:%{p}.ok.example -all"),
        A("host.ptr.example.ok.example", "127.0.0.2"),
        /* %{p} prefers a validated name under <domain> (7.3) */
        TXT("example.net", "v=spf1 exists:%{p}.pref.example -all"),
        A("other.example.net.pref.example", "127.0.0.2"),
        TXT("atemp.example", "v=spf1 a:servfail.example -all"),
        TXT("extemp.example", "v=spf1 exists:servfail.example -all"),
        /* explanations */
        TXT("expl.example", "v=spf1 -all exp=explain.%{d}"),
        TXT("explain.expl.example",
            "%{i} is not one of %{d}'s designated mail servers (%{l})"),
        TXT("expl2.example", "v=spf1 -all exp=e2.expl.example"),
        TXT("e2.expl.example", "%{c} %{r} %{t} %{h} %{p} %{S}"),
        TXT("expl3.example", "v=spf1 -all exp=e3.expl.example"),
        TXT("e3.expl.example", "one"),
        TXT("e3.expl.example", "two"),
        TXT("expl4.example", "v=spf1 -all exp=e4.expl.example"),
        TXT("e4.expl.example", "The %{x}-files"),
};

struct fake {
	const struct rr *zone;
	size_t nzone;
	struct smtprobe_txt txt[32];
	struct smtprobe_spf_ip addr[32];
	const char *names[32];
	char first_a[SMTPROBE_SPF_MAX_NAME + 1]; /* the first A/AAAA asked */
	unsigned nq;
};

static void resolve(struct fake *fk, const struct smtprobe_spf_query *q,
                    struct smtprobe_spf_answer *a)
{
	size_t i, n = 0;
	int exists = 0;

	memset(a, 0, sizeof(*a));
	a->txt = fk->txt;
	a->addr = fk->addr;
	a->names = fk->names;
	if ((q->type == SMTPROBE_SPF_Q_A || q->type == SMTPROBE_SPF_Q_AAAA) &&
	    fk->first_a[0] == '\0')
		snprintf(fk->first_a, sizeof(fk->first_a), "%s", q->name);
	for (i = 0; i < fk->nzone; i++) {
		const struct rr *r = &fk->zone[i];
		size_t len = strlen(r->name);

		if (r->name[len - 1] == '.')
			len--;
		if (strlen(q->name) != len ||
		    strncasecmp(r->name, q->name, len))
			continue;
		exists = 1;
		if (r->type != (int)q->type)
			continue;
		if (strcmp(r->data, "SERVFAIL") == 0) {
			a->rcode = SMTPROBE_SPF_R_SERVFAIL;
			return;
		}
		assert_true(n < 32);
		switch (r->type) {
		case SMTPROBE_SPF_Q_TXT:
			fk->txt[n].data = r->data;
			fk->txt[n].len = strlen(r->data);
			break;
		case SMTPROBE_SPF_Q_A:
			fk->addr[n].family = 4;
			assert_int_equal(
			        inet_pton(AF_INET, r->data, fk->addr[n].addr),
			        1);
			break;
		case SMTPROBE_SPF_Q_AAAA:
			fk->addr[n].family = 6;
			assert_int_equal(
			        inet_pton(AF_INET6, r->data, fk->addr[n].addr),
			        1);
			break;
		default:
			fk->names[n] = r->data;
		}
		n++;
	}
	a->rcode = exists ? SMTPROBE_SPF_R_OK : SMTPROBE_SPF_R_NXDOMAIN;
	a->n = n;
}

/* Run an evaluation (or a walk) to its end against fk. */
static const struct smtprobe_spf_outcome *run(struct smtprobe_spf_eval *ev,
                                              struct fake *fk)
{
	const struct smtprobe_spf_query *q;
	struct smtprobe_spf_answer a;

	while (smtprobe_spf_eval_step(ev, &q) == SMTPROBE_SPF_NEED) {
		assert_true(++fk->nq < 300);
		resolve(fk, q, &a);
		assert_int_equal(smtprobe_spf_eval_answer(ev, &a), 0);
	}
	assert_null(q);
	/* done stays done */
	assert_int_equal(smtprobe_spf_eval_step(ev, &q), SMTPROBE_SPF_DONE);
	assert_int_equal(smtprobe_spf_eval_answer(ev, &a), E(STATE));
	return smtprobe_spf_eval_outcome(ev);
}

/* ---- evaluation ---- */

struct ecase {
	const char *domain, *ip, *sender;
	int result;
	const char *mech; /* NULL: not checked */
	const char *leaf; /* NULL: not checked */
	int error;        /* checked when not 0 */
	int lookups;      /* -1: not checked */
	int voids;        /* -1: not checked */
	const char *expl; /* NULL: not checked; "": none */
	const char *mdom; /* mech_domain; NULL: not checked */
};

#define EV(d, ip, res, mech, leaf)                                             \
	{                                                                      \
		d, ip, NULL, R(res), mech, leaf, 0, -1, -1, NULL, NULL         \
	}
#define EVE(d, ip, res, err, mech, leaf)                                       \
	{                                                                      \
		d, ip, NULL, R(res), mech, leaf, E(err), -1, -1, NULL, NULL    \
	}

static const struct ecase ecases[] = {
        /* the results */
        EV("basic.example", "192.0.2.7", PASS, "ip4:192.0.2.0/24", NULL),
        EV("basic.example", "198.51.100.1", FAIL, "-all", "-all"),
        EV("basic.example", "2001:db8::1", PASS, "ip6:2001:db8::/32", NULL),
        /* IPv4-mapped is IPv4: it matches ip4, not ip6 */
        EV("basic.example", "::ffff:192.0.2.7", PASS, "ip4:192.0.2.0/24", NULL),
        EV("basic.example", "::ffff:198.51.100.1", FAIL, "-all", NULL),
        EV("soft.example", "198.51.100.1", SOFTFAIL, "~all", NULL),
        EV("neutral.example", "198.51.100.1", NEUTRAL, "?all", NULL),
        EV("default.example", "198.51.100.1", NEUTRAL, "", ""),
        EVE("nospf.example", "192.0.2.1", NONE, NO_RECORD, "", NULL),
        EVE("nothere.example", "192.0.2.1", NONE, NO_RECORD, "", NULL),
        EVE("a..example", "192.0.2.1", NONE, BAD_TARGET, "", NULL),
        EVE("localhost", "192.0.2.1", NONE, BAD_TARGET, "", NULL),
        EVE("two.example", "192.0.2.1", PERMERROR, MULTIPLE, "", NULL),
        EV("v10.example", "192.0.2.1", FAIL, "-all", NULL),
        EVE("servfail.example", "192.0.2.1", TEMPERROR, DNS, "", NULL),
        EVE("syntax.example", "192.0.2.1", PERMERROR, IP4, "ip4:300.1.1.1",
            "ip4:300.1.1.1"),
        /* an error after "all" still counts (4.6) */
        EVE("late.example", "192.0.2.1", PERMERROR, UNKNOWN, "moo", "moo"),
        /* include */
        EV("inc.example", "192.0.2.10", PASS, "include:inc1.example",
           "ip4:192.0.2.10"),
        EV("inc.example", "192.0.2.30", PASS, "include:inc2.example",
           "ip4:192.0.2.30"),
        EV("inc.example", "192.0.2.99", FAIL, "-all", "-all"),
        EVE("incbad.example", "192.0.2.99", PERMERROR, CIDR,
            "include:broken.example", "ip4:192.0.2.1/33"),
        /* the first match wins before the broken include is reached */
        EV("incbad.example", "192.0.2.1", PASS, "ip4:192.0.2.1", NULL),
        EVE("incnone.example", "192.0.2.1", PERMERROR, NO_RECORD,
            "include:nospf.example", NULL),
        EVE("incnx.example", "192.0.2.1", PERMERROR, NO_RECORD,
            "include:nothere.example", NULL),
        EVE("inctemp.example", "192.0.2.1", TEMPERROR, DNS,
            "include:servfail.example", NULL),
        EV("incsoft.example", "198.51.100.1", FAIL, "-all", NULL),
        /* redirect */
        {"redir.example", "192.0.2.7", NULL, R(PASS), "ip4:192.0.2.0/24", NULL,
         0, 1, 0, NULL, "basic.example"},
        {"redir.example", "198.51.100.1", NULL, R(FAIL), "-all", NULL, 0, 1, 0,
         "", "basic.example"},
        EV("redir.example", "192.0.2.50", PASS, "ip4:192.0.2.50", NULL),
        EV("redirall.example", "192.0.2.1", SOFTFAIL, "~all", NULL),
        EVE("redirnone.example", "192.0.2.1", PERMERROR, NO_RECORD,
            "redirect=nospf.example", NULL),
        {"redirmacro.example", "192.0.2.60", NULL, R(PASS), "a", "a", 0, 2, 0,
         NULL, "_spf.redirmacro.example"},
        /* redirect drops the first record's exp= (6.2) */
        {"redirexp.example", "192.0.2.1", NULL, R(FAIL), "-all", NULL, 0, 1, 0,
         "", "plain.example"},
        /* the lookup limit: 10 is fine, the 11th a permerror */
        {"ten.example", "192.0.2.77", NULL, R(PASS), "ip4:192.0.2.77", NULL, 0,
         10, 0, NULL, NULL},
        {"eleven.example", "192.0.2.77", NULL, R(PERMERROR), "a:ten.example",
         "a:ten.example", E(LOOKUPS), 11, 0, NULL, NULL},
        {"incten.example", "192.0.2.77", NULL, R(PASS), "ip4:192.0.2.77", NULL,
         0, 10, 0, NULL, NULL},
        {"inceleven.example", "192.0.2.77", NULL, R(PERMERROR), "a:ten.example",
         NULL, E(LOOKUPS), 11, 0, NULL, NULL},
        {"redirten.example", "192.0.2.77", NULL, R(PASS), "ip4:192.0.2.77",
         NULL, 0, 10, 0, NULL, "ip77.example"},
        {"redireleven.example", "192.0.2.77", NULL, R(PERMERROR),
         "redirect=ip77.example", NULL, E(LOOKUPS), 11, 0, NULL, NULL},
        EVE("loop.example", "192.0.2.1", PERMERROR, LOOKUPS,
            "include:loop.example", "include:loop.example"),
        EVE("redirloop.example", "192.0.2.1", PERMERROR, LOOKUPS,
            "redirect=redirloop.example", NULL),
        /* void lookups: 2 are fine, the 3rd a permerror */
        {"void2.example", "192.0.2.88", NULL, R(PASS), "ip4:192.0.2.88", NULL,
         0, 2, 2, NULL, NULL},
        {"void3.example", "192.0.2.88", NULL, R(PERMERROR), "mx:nx3.example",
         NULL, E(VOID), 3, 3, NULL, NULL},
        /* mx, with dual CIDR lengths */
        EV("mx.example", "192.0.2.102", PASS, "mx", "mx"),
        EV("mx.example", "2001:db8::102", PASS, "mx", NULL),
        EV("mx.example", "192.0.2.103", FAIL, "-all", NULL),
        EV("cidrmx.example", "192.0.2.100", PASS, "mx:mx.example/30//126",
           NULL),
        EV("cidrmx.example", "2001:db8::103", PASS, "mx:mx.example/30//126",
           NULL),
        EV("cidrmx.example", "192.0.2.104", FAIL, "-all", NULL),
        EV("cidrmx.example", "2001:db8::104", FAIL, "-all", NULL),
        EV("cidra.example", "192.0.2.200", PASS, "a/24//64", NULL),
        EV("cidra.example", "2001:db8:1:2:ffff::1", PASS, "a/24//64", NULL),
        EV("cidra.example", "2001:db8:1:3::1", FAIL, "-all", NULL),
        EV("cidra.example", "192.0.3.1", FAIL, "-all", NULL),
        EV("mxnull.example", "192.0.2.1", NEUTRAL, "", NULL),
        EVE("mxtemp.example", "192.0.2.1", TEMPERROR, DNS, "mx:mxsf.example",
            NULL),
        EV("mxten.example", "192.0.2.101", PASS, "mx", NULL),
        EVE("mxmany.example", "192.0.2.101", PERMERROR, MX_LIMIT, "mx", NULL),
        /* ptr: validated names only, the first 10 PTR records only, and a
         * DNS error is no match rather than temperror (5.5) */
        EV("ptr.example", "192.0.2.140", PASS, "ptr", NULL),
        EV("ptrt.example", "192.0.2.140", PASS, "ptr:example.net", NULL),
        EV("ptr.example", "192.0.2.141", FAIL, "-all", NULL),
        EV("ptr.example", "192.0.2.142", FAIL, "-all", NULL),
        EV("ptr.example", "192.0.2.143", FAIL, "-all", NULL),
        {"ptr.example", "192.0.2.144", NULL, R(FAIL), "-all", NULL, 0, 1, 1,
         NULL, NULL},
        EV("ptr.example", "2001:db8::cb01", PASS, "ptr", NULL),
        EV("ptrt.example", "2001:db8::cb01", FAIL, "-all", NULL),
        /* exists with macros; IPv6 clients still ask A (5.7) */
        EV("exists.example", "192.0.2.150", PASS, "exists:%{i}._spf.%{d}",
           NULL),
        {"exists.example", "192.0.2.151", NULL, R(FAIL), "-all", NULL, 0, 1, 1,
         NULL, NULL},
        EV("exists6.example", "2001:db8::cb01", PASS,
           "exists:%{ir}.%{v}.list.example", NULL),
        EV("existsp.example", "192.0.2.140", PASS, "exists:%{p}.ok.example",
           NULL),
        EV("existsp.example", "192.0.2.141", FAIL, "-all", NULL),
        EV("example.net", "192.0.2.140", PASS, "exists:%{p}.pref.example",
           NULL),
        EVE("atemp.example", "192.0.2.1", TEMPERROR, DNS, "a:servfail.example",
            NULL),
        EVE("extemp.example", "192.0.2.1", TEMPERROR, DNS,
            "exists:servfail.example", NULL),
        /* explanations: the top-level record's exp= only */
        {"incexp.example", "192.0.2.1", NULL, R(FAIL), "-all", "-all", 0, 1, 0,
         "outer says no", NULL},
        {"expl.example", "192.0.2.3", "strong-bad@expl.example", R(FAIL),
         "-all", NULL, 0, 0, 0,
         "192.0.2.3 is not one of expl.example's designated mail servers "
         "(strong-bad)",
         NULL},
        {"expl2.example", "192.0.2.140", "a@b.example", R(FAIL), "-all", NULL,
         0, 0, 0,
         "192.0.2.140 mx.receiver.example 1400000000 helo.example "
         "Host.PTR.example a%40b.example",
         NULL},
        {"expl2.example", "2001:db8::cb01", NULL, R(FAIL), "-all", NULL, 0, 0,
         0,
         "2001:db8::cb01 mx.receiver.example 1400000000 helo.example "
         "mx.ptr.example postmaster%40expl2.example",
         NULL},
        {"expl3.example", "192.0.2.1", NULL, R(FAIL), "-all", NULL, 0, 0, 0, "",
         NULL},
        {"expl4.example", "192.0.2.1", NULL, R(FAIL), "-all", NULL, 0, 0, 0, "",
         NULL},
};

static struct smtprobe_spf_eval *new_eval(const char *domain, const char *ip,
                                          const char *sender, unsigned mode)
{
	struct smtprobe_spf_params p = {mode,           ip,
	                                domain,         sender,
	                                "helo.example", "mx.receiver.example",
	                                1400000000};
	struct smtprobe_spf_eval *ev;

	assert_int_equal(smtprobe_spf_eval_new(&ev, &p), 0);
	assert_non_null(ev);
	return ev;
}

static void test_eval_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(ecases); i++) {
		const struct ecase *c = &ecases[i];
		struct fake fk = {zone, NELEM(zone), {{0}}, {{0}}, {0}, "", 0};
		struct smtprobe_spf_eval *ev = new_eval(
		        c->domain, c->ip, c->sender, SMTPROBE_SPF_EVAL);
		const struct smtprobe_spf_outcome *o = run(ev, &fk);

		if ((int)o->result != c->result ||
		    (c->mech != NULL && strcmp(o->mechanism, c->mech) != 0) ||
		    (c->leaf != NULL && strcmp(o->leaf, c->leaf) != 0) ||
		    (c->error != 0 && o->error != c->error) ||
		    (c->lookups >= 0 && o->lookups != (unsigned)c->lookups) ||
		    (c->voids >= 0 && o->void_lookups != (unsigned)c->voids) ||
		    (c->expl != NULL && strcmp(o->explanation, c->expl) != 0) ||
		    (c->mdom != NULL && strcmp(o->mech_domain, c->mdom) != 0))
			fail_msg("case %zu %s %s: got %s mech '%s' in %s leaf "
			         "'%s' in %s error %d lookups %u void %u expl "
			         "'%s' (%s); reason: %s",
			         i, c->domain, c->ip,
			         smtprobe_spf_result_name(o->result),
			         o->mechanism, o->mech_domain, o->leaf,
			         o->leaf_domain, o->error, o->lookups,
			         o->void_lookups, o->explanation,
			         o->exp_problem ? o->exp_problem : "-",
			         o->reason);
		/* the reason line starts with the result word */
		assert_memory_equal(
		        o->reason, smtprobe_spf_result_name(o->result),
		        strlen(smtprobe_spf_result_name(o->result)));
		smtprobe_spf_eval_free(ev);
	}
}

/* Reasons people read, for a few cases. */
static void test_eval_reasons(void **state)
{
	static const struct {
		const char *domain, *ip, *reason;
	} cases[] = {
	        {"inc.example", "192.0.2.30",
	         "pass: 'include:inc2.example' matched in the record of "
	         "inc.example ('ip4:192.0.2.30' in inc3.example)"},
	        {"default.example", "198.51.100.1",
	         "neutral: no term of the record of default.example matched "
	         "(the default result)"},
	        {"eleven.example", "192.0.2.77",
	         "permerror: 'a:ten.example' in eleven.example is DNS-querying "
	         "term number 11, over the limit of 10 (RFC 7208 4.6.4)"},
	        {"incbad.example", "192.0.2.99",
	         "permerror: 'ip4:192.0.2.1/33' has an invalid prefix length "
	         "(in "
	         "the record of broken.example, for 'include:broken.example' "
	         "in "
	         "incbad.example)"},
	        {"incnone.example", "192.0.2.1",
	         "permerror: 'include:nospf.example' in incnone.example: "
	         "nospf.example has no SPF record (RFC 7208 5.2)"},
	        {"mxmany.example", "192.0.2.1",
	         "permerror: 'mx' in mxmany.example: mxmany.example has 11 MX "
	         "records, over the limit of 10 (RFC 7208 4.6.4)"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		struct fake fk = {zone, NELEM(zone), {{0}}, {{0}}, {0}, "", 0};
		struct smtprobe_spf_eval *ev = new_eval(
		        cases[i].domain, cases[i].ip, NULL, SMTPROBE_SPF_EVAL);

		assert_string_equal(run(ev, &fk)->reason, cases[i].reason);
		smtprobe_spf_eval_free(ev);
	}
}

/* RFC 7208 section 7.4: the examples, each as the target of exists:, so
 * the expansion is the name the evaluator asks for. */
static void test_macro_examples(void **state)
{
	static const struct {
		const char *ip, *macro, *want;
	} cases[] = {
	        {"192.0.2.3", "%{s}", "strong-bad@email.example.com"},
	        {"192.0.2.3", "%{o}", "email.example.com"},
	        {"192.0.2.3", "%{d}", "email.example.com"},
	        {"192.0.2.3", "%{d4}", "email.example.com"},
	        {"192.0.2.3", "%{d3}", "email.example.com"},
	        {"192.0.2.3", "%{d2}", "example.com"},
	        {"192.0.2.3", "%{d1}", "com"},
	        {"192.0.2.3", "%{dr}", "com.example.email"},
	        {"192.0.2.3", "%{d2r}", "example.email"},
	        {"192.0.2.3", "%{l}", "strong-bad"},
	        {"192.0.2.3", "%{l-}", "strong.bad"},
	        {"192.0.2.3", "%{lr}", "strong-bad"},
	        {"192.0.2.3", "%{lr-}", "bad.strong"},
	        {"192.0.2.3", "%{l1r-}", "strong"},
	        {"192.0.2.3", "%{ir}.%{v}._spf.%{d2}",
	         "3.2.0.192.in-addr._spf.example.com"},
	        {"192.0.2.3", "%{lr-}.lp._spf.%{d2}",
	         "bad.strong.lp._spf.example.com"},
	        {"192.0.2.3", "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}",
	         "bad.strong.lp.3.2.0.192.in-addr._spf.example.com"},
	        {"192.0.2.3", "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}",
	         "3.2.0.192.in-addr.strong.lp._spf.example.com"},
	        {"192.0.2.3", "%{d2}.trusted-domains.example.net",
	         "example.com.trusted-domains.example.net"},
	        {"2001:db8::cb01", "%{ir}.%{v}._spf.%{d2}",
	         "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0."
	         "0.2."
	         "ip6._spf.example.com"},
	        /* beyond the RFC's table */
	        {"192.0.2.3", "%{S}", "strong-bad%40email.example.com"},
	        {"192.0.2.3", "%{i}.%{h}", "192.0.2.3.helo.example"},
	        {"192.0.2.3", "%{d99}.%{D}",
	         "email.example.com.email.example.com"},
	        {"192.0.2.3", "%{l2r-+.}", "bad.strong"},
	        {"192.0.2.3", "x%%y%_z%-.example.com", "x%y z%20.example.com"},
	        {"192.0.2.3", "%{p}.x.example", "unknown.x.example"},
	        {"2001:db8::cb01", "%{i}.x.example",
	         "2.0.0.1.0.d.b.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.c.b."
	         "0.1"
	         ".x.example"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		char record[256];
		struct rr z[1] = {TXT("email.example.com", record)};
		struct fake fk = {z, 1, {{0}}, {{0}}, {0}, "", 0};
		struct smtprobe_spf_eval *ev;

		snprintf(record, sizeof(record), "v=spf1 exists:%s -all",
		         cases[i].macro);
		ev = new_eval("email.example.com", cases[i].ip,
		              "strong-bad@email.example.com",
		              SMTPROBE_SPF_EVAL);
		run(ev, &fk);
		if (strcmp(fk.first_a, cases[i].want) != 0)
			fail_msg("%s: got '%s', want '%s'", cases[i].macro,
			         fk.first_a, cases[i].want);
		smtprobe_spf_eval_free(ev);
	}
}

/* A long expansion loses labels on the left to fit 253 bytes (7.3); an
 * empty sender is postmaster@domain; a sender without local-part gets
 * postmaster (4.3). */
static void test_macro_edges(void **state)
{
	static const struct {
		const char *sender, *macro, *want;
	} cases[] = {
	        {NULL, "%{l}.%{o}", "postmaster.email.example.com"},
	        {"", "%{s}", "postmaster@email.example.com"},
	        {"@other.example", "%{l}.%{o}", "postmaster.other.example"},
	        {"a.b.c@other.example", "%{l2}.x", "b.c.x"},
	};
	char record[256], want[256];
	struct rr z[1] = {TXT("email.example.com", record)};
	struct smtprobe_spf_eval *ev;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		struct fake fk = {z, 1, {{0}}, {{0}}, {0}, "", 0};

		snprintf(record, sizeof(record), "v=spf1 exists:%s",
		         cases[i].macro);
		ev = new_eval("email.example.com", "192.0.2.3", cases[i].sender,
		              SMTPROBE_SPF_EVAL);
		run(ev, &fk);
		assert_string_equal(fk.first_a, cases[i].want);
		smtprobe_spf_eval_free(ev);
	}
	{
		/* 16 x "%{d}." + "example.com" is 299 bytes: "email.",
		 * "example.", "com.", "email.", "example.", "com.", "email.",
		 * "example." go (46 bytes) for 253 or less */
		struct fake fk = {z, 1, {{0}}, {{0}}, {0}, "", 0};
		size_t len = 0, k;

		len = (size_t)snprintf(record, sizeof(record),
		                       "v=spf1 exists:");
		for (k = 0; k < 16; k++)
			len += (size_t)snprintf(record + len,
			                        sizeof(record) - len, "%%{d}.");
		snprintf(record + len, sizeof(record) - len, "example.com");
		len = (size_t)snprintf(want, sizeof(want), "com.");
		for (k = 0; k < 13; k++)
			len += (size_t)snprintf(want + len, sizeof(want) - len,
			                        "email.example.com.");
		snprintf(want + len, sizeof(want) - len, "example.com");
		ev = new_eval("email.example.com", "192.0.2.3", NULL,
		              SMTPROBE_SPF_EVAL);
		run(ev, &fk);
		assert_int_equal(strlen(want), 249);
		assert_string_equal(fk.first_a, want);
		smtprobe_spf_eval_free(ev);
	}
}

static void test_eval_params(void **state)
{
	struct smtprobe_spf_params p = {SMTPROBE_SPF_EVAL,
	                                "192.0.2.1",
	                                "example.com",
	                                NULL,
	                                NULL,
	                                NULL,
	                                0};
	struct smtprobe_spf_eval *ev = (void *)&p;
	char big[SMTPROBE_SPF_MAX_IDENTITY + 2];

	(void)state;
	p.ip = "192.0.2.256";
	assert_int_equal(smtprobe_spf_eval_new(&ev, &p), E(PARAM));
	assert_null(ev);
	p.ip = NULL;
	assert_int_equal(smtprobe_spf_eval_new(&ev, &p), E(PARAM));
	p.ip = "192.0.2.1";
	p.sender = "a\nb@example.com";
	assert_int_equal(smtprobe_spf_eval_new(&ev, &p), E(PARAM));
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	p.sender = big;
	assert_int_equal(smtprobe_spf_eval_new(&ev, &p), E(PARAM));
	p.sender = NULL;
	p.domain = NULL;
	assert_int_equal(smtprobe_spf_eval_new(&ev, &p), E(PARAM));
	assert_string_equal(smtprobe_spf_strerror(E(IP4)),
	                    "is not an IPv4 network");
	assert_string_equal(smtprobe_spf_strerror(-999), "unknown error");
	assert_string_equal(smtprobe_spf_result_name(R(SOFTFAIL)), "softfail");
	assert_string_equal(smtprobe_spf_qtype_name(SMTPROBE_SPF_Q_AAAA),
	                    "AAAA");
}

/* ---- the static walk ---- */

struct wcase {
	const char *domain;
	unsigned mode;
	int result, error;
	unsigned lookups, voids, records, unexpanded;
	const char *over; /* NULL: none */
	int truncated;
};

#define WALK  SMTPROBE_SPF_STATIC
#define WALKV (SMTPROBE_SPF_STATIC | SMTPROBE_SPF_PROBE_VOID)

static const struct wcase wcases[] = {
        {"inc.example", WALK, R(NEUTRAL), 0, 3, 0, 4, 0, NULL, 0},
        {"basic.example", WALK, R(NEUTRAL), 0, 0, 0, 1, 0, NULL, 0},
        {"ten.example", WALK, R(NEUTRAL), 0, 10, 0, 1, 0, NULL, 0},
        {"eleven.example", WALK, R(PERMERROR), E(LOOKUPS), 11, 0, 1, 0,
         "a:ten.example", 0},
        {"incten.example", WALK, R(NEUTRAL), 0, 10, 0, 3, 0, NULL, 0},
        /* the full count, past the limit */
        {"bigtree.example", WALK, R(PERMERROR), E(LOOKUPS), 22, 0, 7, 0,
         "a:ten.example", 0},
        {"redirten.example", WALK, R(NEUTRAL), 0, 10, 0, 2, 0, NULL, 0},
        {"redireleven.example", WALK, R(PERMERROR), E(LOOKUPS), 11, 0, 2, 0,
         "redirect=ip77.example", 0},
        /* redirect= next to "all" is never used: not counted */
        {"redirall.example", WALK, R(NEUTRAL), 0, 0, 0, 1, 0, NULL, 0},
        {"loop.example", WALK, R(PERMERROR), E(LOOP), 1, 0, 1, 0, NULL, 0},
        {"redirloop.example", WALK, R(PERMERROR), E(LOOKUPS),
         SMTPROBE_SPF_WALK_MAX_LOOKUPS + 1, 0,
         SMTPROBE_SPF_WALK_MAX_LOOKUPS + 1, 0, "redirect=redirloop.example", 1},
        {"incbad.example", WALK, R(PERMERROR), E(CIDR), 1, 0, 1, 0, NULL, 0},
        {"incnone.example", WALK, R(PERMERROR), E(NO_RECORD), 1, 0, 1, 0, NULL,
         0},
        {"inctemp.example", WALK, R(TEMPERROR), E(DNS), 1, 0, 1, 0, NULL, 0},
        {"nospf.example", WALK, R(NONE), E(NO_RECORD), 0, 0, 0, 0, NULL, 0},
        {"two.example", WALK, R(PERMERROR), E(MULTIPLE), 0, 0, 0, 0, NULL, 0},
        /* a target that needs the IP is counted, not followed */
        {"exists.example", WALKV, R(NEUTRAL), 0, 1, 0, 1, 1, NULL, 0},
        {"redirmacro.example", WALK, R(NEUTRAL), 0, 2, 0, 2, 0, NULL, 0},
        /* void lookups, probed */
        {"void2.example", WALKV, R(NEUTRAL), 0, 2, 2, 1, 0, NULL, 0},
        {"void3.example", WALKV, R(PERMERROR), E(VOID), 3, 3, 1, 0, NULL, 0},
        {"void3.example", WALK, R(NEUTRAL), 0, 3, 0, 1, 0, NULL, 0},
        {"mxmany.example", WALKV, R(PERMERROR), E(MX_LIMIT), 1, 0, 1, 0, NULL,
         0},
        {"ten.example", WALKV, R(NEUTRAL), 0, 10, 0, 1, 0, NULL, 0},
};

static void test_walk_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(wcases); i++) {
		const struct wcase *c = &wcases[i];
		struct fake fk = {zone, NELEM(zone), {{0}}, {{0}}, {0}, "", 0};
		struct smtprobe_spf_eval *ev =
		        new_eval(c->domain, NULL, NULL, c->mode);
		const struct smtprobe_spf_outcome *o = run(ev, &fk);

		if ((int)o->result != c->result || o->error != c->error ||
		    o->lookups != c->lookups || o->void_lookups != c->voids ||
		    o->records != c->records ||
		    o->unexpanded != c->unexpanded ||
		    o->truncated != c->truncated ||
		    strcmp(o->over, c->over ? c->over : "") != 0)
			fail_msg("walk %zu %s: got %s error %d lookups %u void "
			         "%u "
			         "records %u unexpanded %u truncated %d over "
			         "'%s'; reason: %s",
			         i, c->domain,
			         smtprobe_spf_result_name(o->result), o->error,
			         o->lookups, o->void_lookups, o->records,
			         o->unexpanded, o->truncated, o->over,
			         o->reason);
		smtprobe_spf_eval_free(ev);
	}
}

int main(void)
{
	const struct CMUnitTest t[] = {
	        cmocka_unit_test(test_parse_table),
	        cmocka_unit_test(test_parse_terms),
	        cmocka_unit_test(test_parse_limits),
	        cmocka_unit_test(test_select),
	        cmocka_unit_test(test_eval_table),
	        cmocka_unit_test(test_eval_reasons),
	        cmocka_unit_test(test_macro_examples),
	        cmocka_unit_test(test_macro_edges),
	        cmocka_unit_test(test_eval_params),
	        cmocka_unit_test(test_walk_table),
	};
	return cmocka_run_group_tests(t, NULL, NULL);
}
