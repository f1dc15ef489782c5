/* test_dnsrec.c - table-driven tests of the record parsers of lib/dns:
 * the tag list, DMARC (and the choice of the record, the §7.1 helpers),
 * DKIM keys (RSA 512/1024/2048 and ed25519 keys made with the openssl CLI
 * for these tests, RSA 3072 and ed25519 made here at run time), MTA-STS
 * records and policies, mx matching, TLS-RPT.
 *
 * A good case is checked against a one-line description of what the
 * parser found, so a table row reads as the facts it asserts. Every input
 * is also parsed in a buffer of exactly its size, and every prefix of it,
 * so that ASan catches a read past the end. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "smtprobe/dnsrec.h"

#include "banned.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* openssl genpkey ... | openssl pkey -pubout -outform DER | base64 */
#define RSA512                                                                 \
	"MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBANkZGObiHP+3uQIVricH78Oh52/W1NGc"     \
	"3vf5F27RnTpPvxfVRz+mFCSHmmZnJyXZ5rmGgR8xK5G+NGvDclYuUNsCAwEAAQ=="
#define RSA1024                                                                \
	"MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQClzJjYTMek/Ldn0ivA69FG+Nhr"     \
	"j0ToyRrDxIvTOtmZNXfBlPK8EvWP7qHoiFiocOmP6rj+DXHdwg76eHNYesvxkes+"     \
	"E7redmfSI2WXcaJ+Flkb7Jl8mSNr7FjTXGo+zK7V/ZxhQq0LZ3Ze7jJX/wt8iZby"     \
	"cqP5xU8YMfjfyRaW2wIDAQAB"
/* the same key as a bare RSAPublicKey (openssl rsa -RSAPublicKey_out) */
#define RSA1024_PKCS1                                                          \
	"MIGJAoGBAKXMmNhMx6T8t2fSK8Dr0Ub42GuPROjJGsPEi9M62Zk1d8GU8rwS9Y/u"     \
	"oeiIWKhw6Y/quP4Ncd3CDvp4c1h6y/GR6z4Tut52Z9IjZZdxon4WWRvsmXyZI2vs"     \
	"WNNcaj7MrtX9nGFCrQtndl7uMlf/C3yJlvJyo/nFTxgx+N/JFpbbAgMBAAE="
#define RSA2048                                                                \
	"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA3cEU11rxZUEeVffQSBN1"     \
	"H6BnAAXbxeF2GhOIP6pdJQRFS9CFrzF3D/L86LuzxuKWv1WkVpv6rEplHf1q78LS"     \
	"m0QzxFRGCSjCv1wH2vYaLyo0VHO5Ve2mIqrUU6S7J96YW48th8ut5kyE6ss0OMdn"     \
	"LBMr9w7UhpSY8NtWyL3ga2jPsQy92znQvM44jx1H8PQMgBIs8FInwOaITkBI/YSO"     \
	"0cNQG10/f3RW3UGDowz8opTUXNyrHBFvnC1ORqTdqtJJhKb0SuB1Td4DLlt2zjAu"     \
	"LY9fnuT5wZWvu0bwsn0ZF2Zri26cOudvrLCStfLY/+od3qh7k5/QLKqF+7QYVNMS"     \
	"8QIDAQAB"
/* the raw key of RFC 8463, and the same key as a SubjectPublicKeyInfo */
#define ED25519 "f6DlRVmZOt/fyuAQ/ToQcqMY9OcXDN0NFjFGYVatykc="
#define ED25519_SPKI                                                           \
	"MCowBQYDK2VwAyEAf6DlRVmZOt/fyuAQ/ToQcqMY9OcXDN0NFjFGYVatykc="
#define EC_P256                                                                \
	"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEq1WOdXyDWRn4hGOquHeD+xUYJa4Q"     \
	"SlP7QMr4PoWOYVr/9pKXPxC+o+bqunKEU6cYdFecLbTBPqBUEZDxzpd+iQ=="

/* ---- helpers ---- */

/* A copy in a buffer of exactly len bytes (no terminator). */
static char *exact(const char *s, size_t len)
{
	char *p = malloc(len > 0 ? len : 1);

	assert_non_null(p);
	memcpy(p, s, len);
	return p;
}

static size_t len_of(const char *s, size_t len)
{
	return len > 0 ? len : strlen(s);
}

typedef int (*parse_fn)(const char *buf, size_t len, void *out);

/* Every prefix of s, each in a buffer of its size: no crash, a result. */
static void prefixes(parse_fn fn, void *out, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i <= len; i++) {
		char *p = exact(s, i);

		assert_true(fn(p, i, out) <= 0);
		free(p);
	}
}

static void cat(char *d, size_t dsz, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void cat(char *d, size_t dsz, const char *fmt, ...)
{
	size_t used = strlen(d);
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(d + used, dsz - used, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < dsz - used);
}

static void uri_desc(char *d, size_t dsz, const char *tag, const char *buf,
                     const struct smtprobe_report_uri *u)
{
	cat(d, dsz, " %s=%.*s", tag, (int)u->uri.len, buf + u->uri.off);
	if (u->domain.len > 0)
		cat(d, dsz, "(%.*s)", (int)u->domain.len, buf + u->domain.off);
	if (u->scheme == SMTPROBE_URI_OTHER)
		cat(d, dsz, "(other)");
	if (u->max_size > 0)
		cat(d, dsz, "!%llu", (unsigned long long)u->max_size);
}

struct bad {
	const char *name;
	const char *in;
	size_t len; /* 0: strlen(in) */
	int code;
	const char *text;
	unsigned line; /* policy files */
};

static void check_error(const struct bad *c,
                        const struct smtprobe_dnsrec_error *e, int rc)
{
	if (rc != c->code || e->code != c->code ||
	    strcmp(e->text, c->text) != 0 || e->line != c->line)
		fail_msg("%s: got %d (%s) line %u '%s'", c->name, rc,
		         smtprobe_dnsrec_strerror(rc), e->line, e->text);
}

/* ---- the tag list ---- */

static int taglist_dkim(const char *b, size_t n, void *o)
{
	return smtprobe_taglist_parse(b, n, SMTPROBE_TAGLIST_DKIM, o);
}

static int taglist_dmarc(const char *b, size_t n, void *o)
{
	return smtprobe_taglist_parse(b, n, SMTPROBE_TAGLIST_DMARC, o);
}

static void taglist_desc(char *d, size_t dsz, const char *buf,
                         const struct smtprobe_taglist *tl)
{
	size_t i;

	d[0] = '\0';
	for (i = 0; i < tl->n; i++)
		cat(d, dsz, "%s[%.*s]=[%.*s]", i > 0 ? " " : "",
		    (int)tl->tag[i].name.len, buf + tl->tag[i].name.off,
		    (int)tl->tag[i].value.len, buf + tl->tag[i].value.off);
	if (tl->duplicates)
		cat(d, dsz, " dup");
}

static const struct tl_good {
	const char *name;
	enum smtprobe_taglist_dialect d;
	const char *in;
	const char *want;
} tl_good[] = {
        {"one", SMTPROBE_TAGLIST_DKIM, "a=1", "[a]=[1]"},
        {"trailing ;", SMTPROBE_TAGLIST_DKIM, "a=1;", "[a]=[1]"},
        {"trailing ; and space", SMTPROBE_TAGLIST_DKIM, "a=1; ", "[a]=[1]"},
        {"space everywhere", SMTPROBE_TAGLIST_DKIM,
         " a = 1 ; b\t=\t2 ;c= ", "[a]=[1] [b]=[2] [c]=[]"},
        {"folding", SMTPROBE_TAGLIST_DKIM, "a=1;\r\n\tb=x\r\n y",
         "[a]=[1] [b]=[x\r\n y]"},
        {"inner space kept", SMTPROBE_TAGLIST_DKIM, "n=hello world",
         "[n]=[hello world]"},
        {"= in value", SMTPROBE_TAGLIST_DKIM, "p=QQ==", "[p]=[QQ==]"},
        {"underscore name", SMTPROBE_TAGLIST_DKIM, "a_1=x", "[a_1]=[x]"},
        {"dmarc spaces", SMTPROBE_TAGLIST_DMARC, "v = DMARC1 ;p=none",
         "[v]=[DMARC1] [p]=[none]"},
        {"sts dup allowed", SMTPROBE_TAGLIST_MTASTS, "v=STSv1; id=1; id=2",
         "[v]=[STSv1] [id]=[1] [id]=[2] dup"},
        {"sts ext names", SMTPROBE_TAGLIST_MTASTS, "1a-b.c_d=x",
         "[1a-b.c_d]=[x]"},
        {"tlsrpt space around ;", SMTPROBE_TAGLIST_TLSRPT,
         "v=TLSRPTv1 ;\trua=x", "[v]=[TLSRPTv1] [rua]=[x]"},
};

static const struct tl_bad {
	struct bad b;
	enum smtprobe_taglist_dialect d;
} tl_bad[] = {
        {{"empty", "", 0, SMTPROBE_DNSREC_E_SYNTAX, "dkim: the record is empty",
          0},
         SMTPROBE_TAGLIST_DKIM},
        {{"blank", " \t ", 0, SMTPROBE_DNSREC_E_SYNTAX,
          "dkim: the record is empty", 0},
         SMTPROBE_TAGLIST_DKIM},
        {{"only ;", ";", 0, SMTPROBE_DNSREC_E_SYNTAX,
          "dmarc: an empty element (';;' or a leading ';')", 0},
         SMTPROBE_TAGLIST_DMARC},
        {{";;", "a=1;;b=2", 0, SMTPROBE_DNSREC_E_SYNTAX,
          "dkim: an empty element (';;' or a leading ';')", 0},
         SMTPROBE_TAGLIST_DKIM},
        {{"; ; at the end", "a=1; ;", 0, SMTPROBE_DNSREC_E_SYNTAX,
          "dkim: an empty element (';;' or a leading ';')", 0},
         SMTPROBE_TAGLIST_DKIM},
        {{"no =", "a=1; b", 0, SMTPROBE_DNSREC_E_SYNTAX,
          "dkim: 'b' is not tag=value", 0},
         SMTPROBE_TAGLIST_DKIM},
        {{"empty name", "=1", 0, SMTPROBE_DNSREC_E_SYNTAX,
          "dkim: '' is not a tag name", 0},
         SMTPROBE_TAGLIST_DKIM},
        {{"digit first (dkim)", "1a=1", 0, SMTPROBE_DNSREC_E_SYNTAX,
          "dkim: '1a' is not a tag name", 0},
         SMTPROBE_TAGLIST_DKIM},
        {{"space in name", "a b=1", 0, SMTPROBE_DNSREC_E_SYNTAX,
          "dkim: 'a b' is not a tag name", 0},
         SMTPROBE_TAGLIST_DKIM},
        {{"dash (dkim)", "a-b=1", 0, SMTPROBE_DNSREC_E_SYNTAX,
          "dkim: 'a-b' is not a tag name", 0},
         SMTPROBE_TAGLIST_DKIM},
        {{"long ext name", "a23456789012345678901234567890123=1", 0,
          SMTPROBE_DNSREC_E_SYNTAX,
          "mta-sts: 'a2345678901234567890123456789012...' is not a tag name",
          0},
         SMTPROBE_TAGLIST_MTASTS},
        {{"duplicate", "a=1; b=2; a=3", 0, SMTPROBE_DNSREC_E_DUPLICATE,
          "dkim: tag 'a' appears twice", 0},
         SMTPROBE_TAGLIST_DKIM},
        {{"duplicate, case (dmarc)", "v=DMARC1; p=none; P=reject", 0,
          SMTPROBE_DNSREC_E_DUPLICATE, "dmarc: tag 'P' appears twice", 0},
         SMTPROBE_TAGLIST_DMARC},
        {{"space before = (sts)", "v=STSv1; id =1", 0, SMTPROBE_DNSREC_E_SYNTAX,
          "mta-sts: space around '=' in 'id =1'", 0},
         SMTPROBE_TAGLIST_MTASTS},
        {{"space after = (tlsrpt)", "v= TLSRPTv1", 0, SMTPROBE_DNSREC_E_SYNTAX,
          "tls-rpt: space around '=' in 'v= TLSRPTv1'", 0},
         SMTPROBE_TAGLIST_TLSRPT},
        {{"CR is no space in dmarc", "v=DMARC1;\r\np=none", 0,
          SMTPROBE_DNSREC_E_SYNTAX, "dmarc: '\\r\\np' is not a tag name", 0},
         SMTPROBE_TAGLIST_DMARC},
        {{"NUL in value", "a=x\0y", 5, SMTPROBE_DNSREC_E_SYNTAX,
          "dkim: tag 'a' has a control or non-ASCII byte", 0},
         SMTPROBE_TAGLIST_DKIM},
        {{"8-bit in value", "a=caf\xc3\xa9", 0, SMTPROBE_DNSREC_E_SYNTAX,
          "dkim: tag 'a' has a control or non-ASCII byte", 0},
         SMTPROBE_TAGLIST_DKIM},
        {{"hostile bytes escaped", "\x1b[31m", 0, SMTPROBE_DNSREC_E_SYNTAX,
          "dkim: '\\x1b[31m' is not tag=value", 0},
         SMTPROBE_TAGLIST_DKIM},
};

static void test_taglist_good(void **state)
{
	struct smtprobe_taglist tl = {0};
	char got[512];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(tl_good); i++) {
		const struct tl_good *c = &tl_good[i];
		size_t n = strlen(c->in);
		char *p = exact(c->in, n);

		if (smtprobe_taglist_parse(p, n, c->d, &tl) != 0)
			fail_msg("%s: %s", c->name, tl.error.text);
		taglist_desc(got, sizeof(got), p, &tl);
		if (strcmp(got, c->want) != 0)
			fail_msg("%s: got '%s'", c->name, got);
		free(p);
	}
}

static void test_taglist_bad(void **state)
{
	struct smtprobe_taglist tl = {0};
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(tl_bad); i++) {
		const struct bad *c = &tl_bad[i].b;
		size_t n = len_of(c->in, c->len);
		char *p = exact(c->in, n);

		check_error(c, &tl.error,
		            smtprobe_taglist_parse(p, n, tl_bad[i].d, &tl));
		free(p);
	}
}

static void test_taglist_caps(void **state)
{
	static char big[SMTPROBE_DNSREC_MAX_RECORD + 2];
	struct smtprobe_taglist tl = {0};
	char many[512] = "";
	int i;

	(void)state;
	memset(big, 'x', sizeof(big));
	memcpy(big, "a=", 2);
	assert_int_equal(smtprobe_taglist_parse(big, SMTPROBE_DNSREC_MAX_RECORD,
	                                        SMTPROBE_TAGLIST_DKIM, &tl),
	                 0);
	assert_int_equal(smtprobe_taglist_parse(big,
	                                        SMTPROBE_DNSREC_MAX_RECORD + 1,
	                                        SMTPROBE_TAGLIST_DKIM, &tl),
	                 SMTPROBE_DNSREC_E_TOO_LONG);
	assert_string_equal(tl.error.text,
	                    "dkim: the record is longer than 8192 bytes");
	for (i = 0; i < SMTPROBE_TAGLIST_MAX_TAGS; i++)
		cat(many, sizeof(many), "t%d=%d;", i, i);
	assert_int_equal(smtprobe_taglist_parse(many, strlen(many),
	                                        SMTPROBE_TAGLIST_DKIM, &tl),
	                 0);
	assert_int_equal(tl.n, SMTPROBE_TAGLIST_MAX_TAGS);
	cat(many, sizeof(many), "x=1");
	assert_int_equal(smtprobe_taglist_parse(many, strlen(many),
	                                        SMTPROBE_TAGLIST_DKIM, &tl),
	                 SMTPROBE_DNSREC_E_TOO_MANY);
	assert_string_equal(tl.error.text, "dkim: more than 32 tags");
}

static void test_taglist_find(void **state)
{
	const char *rec = "v=DMARC1; P=reject; rua=x";
	const char *dk = "v=DKIM1; P=1; p=2";
	const struct smtprobe_tag *t;
	struct smtprobe_taglist tl = {0};

	(void)state;
	assert_int_equal(smtprobe_taglist_parse(rec, strlen(rec),
	                                        SMTPROBE_TAGLIST_DMARC, &tl),
	                 0);
	t = smtprobe_taglist_find(&tl, rec, "p");
	assert_non_null(t);
	assert_memory_equal(rec + t->value.off, "reject", 6);
	assert_null(smtprobe_taglist_find(&tl, rec, "ruf"));
	/* DKIM names are case-sensitive: P and p are two tags */
	assert_int_equal(smtprobe_taglist_parse(dk, strlen(dk),
	                                        SMTPROBE_TAGLIST_DKIM, &tl),
	                 0);
	t = smtprobe_taglist_find(&tl, dk, "p");
	assert_non_null(t);
	assert_memory_equal(dk + t->value.off, "2", 1);
}

static void test_taglist_prefixes(void **state)
{
	struct smtprobe_taglist tl = {0};
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(tl_good); i++)
		prefixes(tl_good[i].d == SMTPROBE_TAGLIST_DMARC ? taglist_dmarc
		                                                : taglist_dkim,
		         &tl, tl_good[i].in, strlen(tl_good[i].in));
}

static void test_misc(void **state)
{
	(void)state;
	assert_true(smtprobe_dnsrec_domain_eq("Example.COM", 11, "example.com.",
	                                      12));
	assert_true(smtprobe_dnsrec_domain_eq("a.", 2, "A", 1));
	assert_false(smtprobe_dnsrec_domain_eq("a.b", 3, "a.c", 3));
	assert_false(smtprobe_dnsrec_domain_eq("ab", 2, "a", 1));
	assert_string_equal(smtprobe_dnsrec_strerror(0), "ok");
	assert_string_equal(smtprobe_dnsrec_strerror(SMTPROBE_DNSREC_E_KEY),
	                    "undecodable key");
	assert_string_equal(smtprobe_dnsrec_strerror(-99), "unknown error");
	assert_string_equal(smtprobe_dnsrec_strerror(3), "unknown error");
}

/* ---- DMARC ---- */

static int dmarc_fn(const char *b, size_t n, void *o)
{
	return smtprobe_dmarc_parse(b, n, o);
}

static void dmarc_desc(char *d, size_t dsz, const char *buf,
                       const struct smtprobe_dmarc *m)
{
	size_t i;

	snprintf(d, dsz,
	         "p=%s sp=%s np=%s pct=%u adkim=%c aspf=%c fo=%s%s%s%s "
	         "ri=%lu",
	         smtprobe_dmarc_policy_name(m->p),
	         smtprobe_dmarc_policy_name(m->sp),
	         smtprobe_dmarc_policy_name(m->np), m->pct, m->adkim, m->aspf,
	         m->fo & SMTPROBE_DMARC_FO_0 ? "0" : "",
	         m->fo & SMTPROBE_DMARC_FO_1 ? "1" : "",
	         m->fo & SMTPROBE_DMARC_FO_D ? "d" : "",
	         m->fo & SMTPROBE_DMARC_FO_S ? "s" : "", m->ri);
	for (i = 0; i < m->nrua; i++)
		uri_desc(d, dsz, "rua", buf, &m->rua[i]);
	for (i = 0; i < m->nruf; i++)
		uri_desc(d, dsz, "ruf", buf, &m->ruf[i]);
	if (m->rf_unknown)
		cat(d, dsz, " rf_unknown");
	if (m->has & SMTPROBE_DMARC_HAS_UNKNOWN)
		cat(d, dsz, " unknown");
}

#define DEF "pct=100 adkim=r aspf=r fo=0 ri=86400"

static const struct good {
	const char *name;
	const char *in;
	const char *want;
} dmarc_good[] = {
        {"minimal", "v=DMARC1; p=none", "p=none sp=none np=none " DEF},
        {"no spaces, trailing ;", "v=DMARC1;p=quarantine;",
         "p=quarantine sp=quarantine np=quarantine " DEF},
        {"spaces, keyword case", "v = DMARC1 ; p = Reject ; ",
         "p=reject sp=reject np=reject " DEF},
        {"name case", "V=DMARC1; P=none; SP=reject",
         "p=none sp=reject np=reject " DEF},
        {"np follows sp", "v=DMARC1; p=reject; sp=none",
         "p=reject sp=none np=none " DEF},
        {"everything",
         "v=DMARC1; p=reject; sp=quarantine; np=none; pct=50; adkim=s; "
         "aspf=S; fo=1:d; ri=3600; "
         "rua=mailto:dmarc@example.com,mailto:agg@reports.example.net!10m;"
         " ruf=mailto:f@example.com!500",
         "p=reject sp=quarantine np=none pct=50 adkim=s aspf=s fo=1d ri=3600"
         " rua=mailto:dmarc@example.com(example.com)"
         " rua=mailto:agg@reports.example.net(reports.example.net)!10485760"
         " ruf=mailto:f@example.com(example.com)!500"},
        {"pct 0", "v=DMARC1; p=none; pct=0",
         "p=none sp=none np=none pct=0 adkim=r aspf=r fo=0 ri=86400"},
        {"fo all, spaced", "v=DMARC1; p=none; fo=0 : 1:D:s",
         "p=none sp=none np=none pct=100 adkim=r aspf=r fo=01ds ri=86400"},
        {"uri list spacing",
         "v=DMARC1; p=none; rua=mailto:a@x.example , "
         "mailto:b@y.example!1g",
         "p=none sp=none np=none " DEF " rua=mailto:a@x.example(x.example)"
         " rua=mailto:b@y.example(y.example)!1073741824"},
        {"size in t", "v=DMARC1; p=none; rua=mailto:a@x.example!2T",
         "p=none sp=none np=none " DEF
         " rua=mailto:a@x.example(x.example)!2199023255552"},
        {"mailto with query", "v=DMARC1; p=none; rua=mailto:a@x.example?s=1",
         "p=none sp=none np=none " DEF
         " rua=mailto:a@x.example?s=1(x.example)"},
        {"https report uri",
         "v=DMARC1; p=none; rua=https://user@dmarc.example.com:8443/r",
         "p=none sp=none np=none " DEF
         " rua=https://user@dmarc.example.com:8443/r(dmarc.example.com)"},
        {"other scheme", "v=DMARC1; p=none; rua=urn:x-report:1",
         "p=none sp=none np=none " DEF " rua=urn:x-report:1(other)"},
        {"rf", "v=DMARC1; p=none; rf=afrf:iodef",
         "p=none sp=none np=none " DEF " rf_unknown"},
        {"rf afrf only", "v=DMARC1; p=none; rf=AFRF",
         "p=none sp=none np=none " DEF},
        {"unknown tags ignored", "v=DMARC1; p=none; psd=y; t=n",
         "p=none sp=none np=none " DEF " unknown"},
        {"ri max", "v=DMARC1; p=none; ri=4294967295",
         "p=none sp=none np=none pct=100 adkim=r aspf=r fo=0 ri=4294967295"},
};

static const struct bad dmarc_bad[] = {
        {"empty", "", 0, SMTPROBE_DNSREC_E_SYNTAX, "dmarc: the record is empty",
         0},
        {"bad p", "v=DMARC1; p=block", 0, SMTPROBE_DNSREC_E_VALUE,
         "dmarc: p='block' is not none, quarantine or reject", 0},
        {"empty p", "v=DMARC1; p=", 0, SMTPROBE_DNSREC_E_VALUE,
         "dmarc: p='' is not none, quarantine or reject", 0},
        {"bad sp", "v=DMARC1; p=none; sp=all", 0, SMTPROBE_DNSREC_E_VALUE,
         "dmarc: sp='all' is not none, quarantine or reject", 0},
        {"bad np", "v=DMARC1; p=none; np=x", 0, SMTPROBE_DNSREC_E_VALUE,
         "dmarc: np='x' is not none, quarantine or reject", 0},
        {"v not first", "p=none; v=DMARC1", 0, SMTPROBE_DNSREC_E_VERSION,
         "dmarc: the record does not start with v=DMARC1", 0},
        {"space first", " v=DMARC1; p=none", 0, SMTPROBE_DNSREC_E_VERSION,
         "dmarc: the record does not start with v=DMARC1", 0},
        {"wrong version", "v=DMARC2; p=none", 0, SMTPROBE_DNSREC_E_VERSION,
         "dmarc: v='DMARC2' is not DMARC1", 0},
        {"version case", "v=dmarc1; p=none", 0, SMTPROBE_DNSREC_E_VERSION,
         "dmarc: v='dmarc1' is not DMARC1", 0},
        {"spf record", "v=spf1 -all", 0, SMTPROBE_DNSREC_E_VERSION,
         "dmarc: v='spf1 -all' is not DMARC1", 0},
        {"no p", "v=DMARC1; rua=mailto:a@example.com", 0,
         SMTPROBE_DNSREC_E_MISSING,
         "dmarc: p= is missing (a policy record needs it)", 0},
        {"p twice", "v=DMARC1; p=none; p=reject", 0,
         SMTPROBE_DNSREC_E_DUPLICATE, "dmarc: tag 'p' appears twice", 0},
        {"pct 101", "v=DMARC1; p=none; pct=101", 0, SMTPROBE_DNSREC_E_VALUE,
         "dmarc: pct='101' is not a percentage from 0 to 100", 0},
        {"pct negative", "v=DMARC1; p=none; pct=-1", 0, SMTPROBE_DNSREC_E_VALUE,
         "dmarc: pct='-1' is not a percentage from 0 to 100", 0},
        {"pct fraction", "v=DMARC1; p=none; pct=50.5", 0,
         SMTPROBE_DNSREC_E_VALUE,
         "dmarc: pct='50.5' is not a percentage from 0 to 100", 0},
        {"adkim", "v=DMARC1; p=none; adkim=relaxed", 0, SMTPROBE_DNSREC_E_VALUE,
         "dmarc: adkim='relaxed' is not r or s", 0},
        {"aspf empty", "v=DMARC1; p=none; aspf=", 0, SMTPROBE_DNSREC_E_VALUE,
         "dmarc: aspf='' is not r or s", 0},
        {"fo 2", "v=DMARC1; p=none; fo=2", 0, SMTPROBE_DNSREC_E_VALUE,
         "dmarc: fo='2' is not a list of 0, 1, d and s", 0},
        {"fo empty item", "v=DMARC1; p=none; fo=1:", 0, SMTPROBE_DNSREC_E_VALUE,
         "dmarc: fo='1:' is not a list of 0, 1, d and s", 0},
        {"ri word", "v=DMARC1; p=none; ri=daily", 0, SMTPROBE_DNSREC_E_VALUE,
         "dmarc: ri='daily' is not a number of seconds", 0},
        {"ri too big", "v=DMARC1; p=none; ri=4294967296", 0,
         SMTPROBE_DNSREC_E_VALUE,
         "dmarc: ri='4294967296' is not a number of seconds", 0},
        {"rf bad", "v=DMARC1; p=none; rf=a f", 0, SMTPROBE_DNSREC_E_VALUE,
         "dmarc: rf='a f' is not a list of report formats", 0},
        {"rua not a uri", "v=DMARC1; p=none; rua=dmarc@example.com", 0,
         SMTPROBE_DNSREC_E_VALUE,
         "dmarc: rua value 'dmarc@example.com' is not a URI", 0},
        {"rua no domain", "v=DMARC1; p=none; rua=mailto:dmarc", 0,
         SMTPROBE_DNSREC_E_VALUE,
         "dmarc: rua URI 'mailto:dmarc' has no valid domain", 0},
        {"rua no local part", "v=DMARC1; p=none; ruf=mailto:@example.com", 0,
         SMTPROBE_DNSREC_E_VALUE,
         "dmarc: ruf URI 'mailto:@example.com' has no valid domain", 0},
        {"rua bad domain", "v=DMARC1; p=none; rua=mailto:a@-x.example", 0,
         SMTPROBE_DNSREC_E_VALUE,
         "dmarc: rua URI 'mailto:a@-x.example' has no valid domain", 0},
        {"rua bad unit", "v=DMARC1; p=none; rua=mailto:a@x.example!10x", 0,
         SMTPROBE_DNSREC_E_VALUE,
         "dmarc: rua URI 'mailto:a@x.example!10x' has a bad size limit", 0},
        {"rua bare !", "v=DMARC1; p=none; rua=mailto:a@x.example!", 0,
         SMTPROBE_DNSREC_E_VALUE,
         "dmarc: rua URI 'mailto:a@x.example!' has a bad size limit", 0},
        {"rua size 0", "v=DMARC1; p=none; rua=mailto:a@x.example!0", 0,
         SMTPROBE_DNSREC_E_VALUE,
         "dmarc: rua URI 'mailto:a@x.example!0' has a bad size limit", 0},
        {"rua size overflow",
         "v=DMARC1; p=none; rua=mailto:a@x.example!99999999t", 0,
         SMTPROBE_DNSREC_E_VALUE,
         "dmarc: rua URI 'mailto:a@x.example!99999999t' has a bad size "
         "limit",
         0},
        {"rua empty uri", "v=DMARC1; p=none; rua=mailto:a@x.example,,", 0,
         SMTPROBE_DNSREC_E_VALUE, "dmarc: rua has an empty URI", 0},
        {"rua space in uri", "v=DMARC1; p=none; rua=mailto:a b@x.example", 0,
         SMTPROBE_DNSREC_E_VALUE,
         "dmarc: rua value 'mailto:a b@x.example' is not a URI", 0},
        {"rua nine uris",
         "v=DMARC1; p=none; rua=mailto:a@x.example,mailto:a@x.example,"
         "mailto:a@x.example,mailto:a@x.example,mailto:a@x.example,"
         "mailto:a@x.example,mailto:a@x.example,mailto:a@x.example,"
         "mailto:a@x.example",
         0, SMTPROBE_DNSREC_E_TOO_MANY, "dmarc: rua has more than 8 URIs", 0},
        {"no =", "v=DMARC1; p=none; reject", 0, SMTPROBE_DNSREC_E_SYNTAX,
         "dmarc: 'reject' is not tag=value", 0},
        {"control byte", "v=DMARC1; p=no\x01ne", 0, SMTPROBE_DNSREC_E_SYNTAX,
         "dmarc: tag 'p' has a control or non-ASCII byte", 0},
        {"long value quoted short",
         "v=DMARC1; p=abcdefghijklmnopqrstuvwxyz0123456789ABCDEF", 0,
         SMTPROBE_DNSREC_E_VALUE,
         "dmarc: p='abcdefghijklmnopqrstuvwxyz012345...' is not none, "
         "quarantine or reject",
         0},
};

static void test_dmarc_good(void **state)
{
	struct smtprobe_dmarc m = {0};
	char got[1024];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(dmarc_good); i++) {
		const struct good *c = &dmarc_good[i];
		size_t n = strlen(c->in);
		char *p = exact(c->in, n);

		if (smtprobe_dmarc_parse(p, n, &m) != 0)
			fail_msg("%s: %s", c->name, m.error.text);
		assert_string_equal(m.error.text, "");
		dmarc_desc(got, sizeof(got), p, &m);
		if (strcmp(got, c->want) != 0)
			fail_msg("%s: got '%s'", c->name, got);
		prefixes(dmarc_fn, &m, p, n);
		free(p);
	}
}

static void test_dmarc_bad(void **state)
{
	struct smtprobe_dmarc m = {0};
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(dmarc_bad); i++) {
		const struct bad *c = &dmarc_bad[i];
		size_t n = len_of(c->in, c->len);
		char *p = exact(c->in, n);

		check_error(c, &m.error, smtprobe_dmarc_parse(p, n, &m));
		prefixes(dmarc_fn, &m, p, n);
		free(p);
	}
}

/* §6.6.3 step 6: a bad p= next to a valid rua= still shows the rua=, and
 * the error is the first one. */
static void test_dmarc_keeps_going(void **state)
{
	const char *rec = "v=DMARC1; p=block; pct=200; rua=mailto:d@x.example";
	struct smtprobe_dmarc m = {0};

	(void)state;
	assert_int_equal(smtprobe_dmarc_parse(rec, strlen(rec), &m),
	                 SMTPROBE_DNSREC_E_VALUE);
	assert_string_equal(
	        m.error.text,
	        "dmarc: p='block' is not none, quarantine or reject");
	assert_memory_equal(rec + m.error.at.off, "p", 1);
	assert_int_equal(m.p, SMTPROBE_DMARC_P_UNSET);
	assert_int_equal(m.pct, 100);
	assert_int_equal(m.nrua, 1);
	assert_true(m.has & SMTPROBE_DMARC_HAS_RUA);
	assert_int_equal(m.rua[0].scheme, SMTPROBE_URI_MAILTO);
}

static const struct select_case {
	const char *name;
	const char *txt[3];
	size_t count;
	size_t first;
} dmarc_select[] = {
        {"one", {"v=DMARC1; p=none"}, 1, 0},
        {"among others", {"v=spf1 -all", "v=DMARC1; p=none", "x"}, 1, 1},
        {"two", {"v=DMARC1; p=none", "v=DMARC1; p=reject"}, 2, 0},
        {"none", {"v=spf1 -all"}, 0, 0},
        {"DMARC10", {"v=DMARC10; p=none"}, 0, 0},
        {"leading space", {" v=DMARC1; p=none"}, 0, 0},
        {"spaces around =", {"v = DMARC1;p=none"}, 1, 0},
        {"bare", {"v=DMARC1"}, 1, 0},
        {"version case", {"v=dmarc1; p=none"}, 0, 0},
        {"V", {"V=DMARC1; p=none"}, 1, 0},
        {"prefix", {"xv=DMARC1"}, 0, 0},
        {"no ;", {"v=DMARC1 p=none"}, 0, 0},
};

static const struct select_case sts_select[] = {
        {"one", {"v=STSv1; id=1"}, 1, 0},
        {"two", {"v=STSv1;id=1", "v=STSv1; id=2"}, 2, 0},
        {"among others", {"v=spf1", "v=STSv1; id=1"}, 1, 1},
        {"STSv10", {"v=STSv10; id=1"}, 0, 0},
        {"bare", {"v=STSv1"}, 1, 0},
        {"space before ;", {"v=STSv1 ; id=1"}, 1, 0},
        {"space around =", {"v = STSv1; id=1"}, 0, 0},
        {"V", {"V=STSv1; id=1"}, 0, 0},
};

static const struct select_case tlsrpt_select[] = {
        {"one", {"v=TLSRPTv1; rua=mailto:a@x.example"}, 1, 0},
        {"two", {"v=TLSRPTv1;rua=x", "v=TLSRPTv1; rua=y"}, 2, 0},
        {"among others", {"v=STSv1; id=1", "v=TLSRPTv1;rua=x"}, 1, 1},
        {"v2", {"v=TLSRPTv2; rua=x"}, 0, 0},
};

static void run_select(const struct select_case *cases, size_t ncases,
                       size_t (*fn)(const struct smtprobe_txt *, size_t,
                                    size_t *))
{
	size_t i, k;

	for (i = 0; i < ncases; i++) {
		struct smtprobe_txt txt[3];
		size_t n = 0, first = 99, count;

		for (k = 0; k < 3 && cases[i].txt[k] != NULL; k++) {
			txt[n].data = cases[i].txt[k];
			txt[n++].len = strlen(cases[i].txt[k]);
		}
		count = fn(txt, n, &first);
		if (count != cases[i].count ||
		    (count > 0 && first != cases[i].first))
			fail_msg("%s: %zu records, first %zu", cases[i].name,
			         count, first);
	}
	assert_int_equal(fn(NULL, 0, NULL), 0);
}

static void test_select(void **state)
{
	(void)state;
	run_select(dmarc_select, NELEM(dmarc_select), smtprobe_dmarc_select);
	run_select(sts_select, NELEM(sts_select), smtprobe_mtasts_select);
	run_select(tlsrpt_select, NELEM(tlsrpt_select), smtprobe_tlsrpt_select);
}

static void test_dmarc_report(void **state)
{
	const struct smtprobe_txt yes[] = {{"v=spf1", 6}, {"v=DMARC1", 8}};
	const struct smtprobe_txt with_rua[] = {
	        {"v=DMARC1; rua=mailto:x@y.example", 32}};
	const struct smtprobe_txt no[] = {{"hello", 5}, {"v=DMARC2", 8}};
	char name[SMTPROBE_DNSREC_MAX_NAME + 1], longd[200];

	(void)state;
	assert_int_equal(smtprobe_dmarc_report_name("example.com", 11,
	                                            "reports.example.net.", 20,
	                                            name, sizeof(name)),
	                 0);
	assert_string_equal(name,
	                    "example.com._report._dmarc.reports.example.net");
	assert_int_equal(smtprobe_dmarc_report_name("example.com.", 12, "x.y",
	                                            3, name, sizeof(name)),
	                 0);
	assert_string_equal(name, "example.com._report._dmarc.x.y");
	/* over 253 characters, and a buffer too small: refused */
	memset(longd, 'a', sizeof(longd));
	assert_int_equal(smtprobe_dmarc_report_name(longd, 120, longd, 120,
	                                            name, sizeof(name)),
	                 -1);
	assert_string_equal(name, "");
	assert_int_equal(smtprobe_dmarc_report_name("a.example", 9, "b.example",
	                                            9, name, 10),
	                 -1);
	assert_int_equal(
	        smtprobe_dmarc_report_name("", 0, "b", 1, name, sizeof(name)),
	        -1);
	assert_true(smtprobe_dmarc_report_auth(yes, 2));
	assert_true(smtprobe_dmarc_report_auth(with_rua, 1));
	assert_false(smtprobe_dmarc_report_auth(no, 2));
	assert_false(smtprobe_dmarc_report_auth(NULL, 0));
}

/* ---- DKIM ---- */

static int dkim_fn(const char *b, size_t n, void *o)
{
	return smtprobe_dkim_key_parse(b, n, o);
}

static void dkim_desc(char *d, size_t dsz, const char *buf,
                      const struct smtprobe_dkim_key *k)
{
	static const char *const flags[] = {
	        "version", "revoked", "testing",   "strict", "h",
	        "sha1",    "sha256",  "not_email", "pkcs1",  "unknown",
	};
	size_t i;

	snprintf(d, dsz, "%s %d %s", smtprobe_dkim_ktype_name(k->ktype),
	         k->bits, smtprobe_dkim_class_name(smtprobe_dkim_key_class(k)));
	for (i = 0; i < NELEM(flags); i++)
		if (k->flags & (1u << i))
			cat(d, dsz, " %s", flags[i]);
	if (k->notes.len > 0)
		cat(d, dsz, " n=%.*s", (int)k->notes.len, buf + k->notes.off);
}

static const struct good dkim_good[] = {
        {"rsa 2048", "v=DKIM1; k=rsa; p=" RSA2048, "rsa 2048 good version"},
        {"no v=, no k=", "p=" RSA2048, "rsa 2048 good"},
        {"rsa 1024: warn", "v=DKIM1; p=" RSA1024, "rsa 1024 weak version"},
        {"rsa 512: fail", "v=DKIM1; p=" RSA512, "rsa 512 too_weak version"},
        {"bare RSAPublicKey", "v=DKIM1; k=rsa; p=" RSA1024_PKCS1,
         "rsa 1024 weak version pkcs1"},
        {"ed25519", "v=DKIM1; k=ed25519; p=" ED25519,
         "ed25519 256 good version"},
        {"k case", "v=DKIM1; k=ED25519; p=" ED25519,
         "ed25519 256 good version"},
        {"revoked", "v=DKIM1; p=", "rsa 0 revoked version revoked"},
        {"revoked with space", "v=DKIM1; k=rsa; p= ; t=y",
         "rsa 0 revoked version revoked testing"},
        {"revoked ed25519",
         "v=DKIM1; k=ed25519; p=", "ed25519 0 revoked version revoked"},
        {"testing", "v=DKIM1; t=y; p=" RSA2048,
         "rsa 2048 testing version testing"},
        {"testing and strict, unknown flag", "v=DKIM1; t=y:s:x; p=" RSA2048,
         "rsa 2048 testing version testing strict"},
        {"strict only", "v=DKIM1; t=s; p=" RSA2048,
         "rsa 2048 good version strict"},
        {"h sha256", "v=DKIM1; h=sha256; p=" RSA2048,
         "rsa 2048 good version h sha256"},
        {"h both, spaced", "v=DKIM1; h=sha1 : sha256; p=" RSA2048,
         "rsa 2048 good version h sha1 sha256"},
        {"h sha1 only", "v=DKIM1; h=sha1; p=" RSA2048,
         "rsa 2048 unusable version h sha1"},
        {"h unknown only", "v=DKIM1; h=sha512; p=" RSA2048,
         "rsa 2048 unusable version h"},
        {"s email", "v=DKIM1; s=email; p=" RSA2048, "rsa 2048 good version"},
        {"s *", "v=DKIM1; s=*; p=" RSA2048, "rsa 2048 good version"},
        {"s other", "v=DKIM1; s=tlsrpt; p=" RSA2048,
         "rsa 2048 unusable version not_email"},
        {"notes and unknown tag", "v=DKIM1; n=hello world; xk=1; p=" RSA2048,
         "rsa 2048 good version unknown n=hello world"},
        {"folded key",
         "v=DKIM1; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQClzJjYTMek/Ldn0ivA6"
         "9FG+Nhr \r\n\tj0ToyRrDxIvTOtmZNXfBlPK8EvWP7qHoiFiocOmP6rj+DXHdwg76e"
         "HNYesvxkes+ E7redmfSI2WXcaJ+Flkb7Jl8mSNr7FjTXGo+zK7V/ZxhQq0LZ3Ze7jJ"
         "X/wt8iZby cqP5xU8YMfjfyRaW2wIDAQAB",
         "rsa 1024 weak version"},
};

static const struct bad dkim_bad[] = {
        {"wrong version", "v=DKIM2; p=" RSA2048, 0, SMTPROBE_DNSREC_E_VERSION,
         "dkim: v='DKIM2' is not DKIM1", 0},
        {"v not first", "k=rsa; v=DKIM1; p=" RSA2048, 0,
         SMTPROBE_DNSREC_E_VERSION, "dkim: v= is not the first tag", 0},
        {"k dsa", "v=DKIM1; k=dsa; p=" RSA2048, 0, SMTPROBE_DNSREC_E_KEY_TYPE,
         "dkim: k='dsa' is not rsa or ed25519", 0},
        {"no p", "v=DKIM1; k=rsa", 0, SMTPROBE_DNSREC_E_MISSING,
         "dkim: p= is missing", 0},
        {"P is not p", "v=DKIM1; P=" RSA2048, 0, SMTPROBE_DNSREC_E_MISSING,
         "dkim: p= is missing", 0},
        {"not base64 (length)", "v=DKIM1; p=abc", 0, SMTPROBE_DNSREC_E_KEY,
         "dkim: p='abc' is not base64", 0},
        {"not base64 (padding)", "v=DKIM1; p=Q===", 0, SMTPROBE_DNSREC_E_KEY,
         "dkim: p='Q===' is not base64", 0},
        {"not base64 (= inside)", "v=DKIM1; p=QQ=AQUJD", 0,
         SMTPROBE_DNSREC_E_KEY, "dkim: p='QQ=AQUJD' is not base64", 0},
        {"not base64 (alphabet)", "v=DKIM1; p=QU-D", 0, SMTPROBE_DNSREC_E_KEY,
         "dkim: p='QU-D' is not base64", 0},
        {"not a key", "v=DKIM1; p=QUJD", 0, SMTPROBE_DNSREC_E_KEY,
         "dkim: p='QUJD' is not an RSA public key", 0},
        {"bytes after the key", "v=DKIM1; p=" RSA1024 "AAAA", 0,
         SMTPROBE_DNSREC_E_KEY,
         "dkim: p='MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCB...' has bytes after the "
         "key",
         0},
        {"EC key", "v=DKIM1; p=" EC_P256, 0, SMTPROBE_DNSREC_E_KEY_TYPE,
         "dkim: p='MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcD...' holds a key of type "
         "EC, not RSA (k=)",
         0},
        {"ed25519 key without k=", "v=DKIM1; p=" ED25519_SPKI, 0,
         SMTPROBE_DNSREC_E_KEY_TYPE,
         "dkim: p='MCowBQYDK2VwAyEAf6DlRVmZOt/fyuAQ...' holds a key of type "
         "ED25519, not RSA (k=)",
         0},
        {"ed25519 as SPKI", "v=DKIM1; k=ed25519; p=" ED25519_SPKI, 0,
         SMTPROBE_DNSREC_E_KEY,
         "dkim: p='MCowBQYDK2VwAyEAf6DlRVmZOt/fyuAQ...' is a "
         "SubjectPublicKeyInfo, not the raw 32-byte key of RFC 8463",
         0},
        {"ed25519 short", "v=DKIM1; k=ed25519; p=QUJD", 0,
         SMTPROBE_DNSREC_E_KEY,
         "dkim: p='QUJD' holds 3 bytes, not a raw 32-byte ed25519 key", 0},
        {"p twice", "v=DKIM1; p=; p=" RSA2048, 0, SMTPROBE_DNSREC_E_DUPLICATE,
         "dkim: tag 'p' appears twice", 0},
        {"h empty item", "v=DKIM1; h=sha256:; p=" RSA2048, 0,
         SMTPROBE_DNSREC_E_VALUE,
         "dkim: h='sha256:' is not a list of words separated by ':'", 0},
        {"t bad word", "v=DKIM1; t=y-; p=" RSA2048, 0, SMTPROBE_DNSREC_E_VALUE,
         "dkim: t='y-' is not a list of words separated by ':'", 0},
        {"bad tag name", "v=DKIM1; _x=1; p=", 0, SMTPROBE_DNSREC_E_SYNTAX,
         "dkim: '_x' is not a tag name", 0},
        {"empty element", "v=DKIM1;; p=", 0, SMTPROBE_DNSREC_E_SYNTAX,
         "dkim: an empty element (';;' or a leading ';')", 0},
};

static void test_dkim_good(void **state)
{
	struct smtprobe_dkim_key k = {0};
	char got[512];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(dkim_good); i++) {
		const struct good *c = &dkim_good[i];
		size_t n = strlen(c->in);
		char *p = exact(c->in, n);

		if (smtprobe_dkim_key_parse(p, n, &k) != 0)
			fail_msg("%s: %s", c->name, k.error.text);
		dkim_desc(got, sizeof(got), p, &k);
		if (strcmp(got, c->want) != 0)
			fail_msg("%s: got '%s'", c->name, got);
		prefixes(dkim_fn, &k, p, n);
		free(p);
	}
}

static void test_dkim_bad(void **state)
{
	struct smtprobe_dkim_key k = {0};
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(dkim_bad); i++) {
		const struct bad *c = &dkim_bad[i];
		size_t n = len_of(c->in, c->len);
		char *p = exact(c->in, n);

		check_error(c, &k.error, smtprobe_dkim_key_parse(p, n, &k));
		assert_int_equal(smtprobe_dkim_key_class(&k),
		                 SMTPROBE_DKIM_C_INVALID);
		prefixes(dkim_fn, &k, p, n);
		free(p);
	}
}

/* "v=DKIM1; p=" and the key's base64, folded every 60 characters. */
static char *key_record(const unsigned char *der, int len, const char *k)
{
	size_t b64sz = (size_t)(len + 2) / 3 * 4 + 1, i, o;
	char *b64 = malloc(b64sz), *rec;

	assert_non_null(b64);
	assert_int_equal(EVP_EncodeBlock((unsigned char *)b64, der, len),
	                 (int)b64sz - 1);
	rec = malloc(b64sz * 2 + 64);
	assert_non_null(rec);
	o = (size_t)snprintf(rec, 64, "v=DKIM1; k=%s; p=", k);
	for (i = 0; b64[i] != '\0'; i++) {
		if (i > 0 && i % 60 == 0) {
			memcpy(rec + o, "\r\n\t", 3);
			o += 3;
		}
		rec[o++] = b64[i];
	}
	rec[o] = '\0';
	free(b64);
	return rec;
}

/* Keys made now: RSA 3072 (a SubjectPublicKeyInfo) and ed25519 (raw). */
static void test_dkim_generated(void **state)
{
	struct smtprobe_dkim_key k = {0};
	unsigned char *der = NULL, raw[32];
	size_t rawlen = sizeof(raw);
	EVP_PKEY *rsa, *ed;
	char *rec;
	int len;

	(void)state;
	rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
	assert_non_null(rsa);
	len = i2d_PUBKEY(rsa, &der);
	assert_true(len > 0);
	rec = key_record(der, len, "rsa");
	assert_int_equal(smtprobe_dkim_key_parse(rec, strlen(rec), &k), 0);
	assert_int_equal(k.ktype, SMTPROBE_DKIM_K_RSA);
	assert_int_equal(k.bits, 3072);
	assert_int_equal(smtprobe_dkim_key_class(&k), SMTPROBE_DKIM_C_GOOD);
	free(rec);
	OPENSSL_free(der);
	EVP_PKEY_free(rsa);

	ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	assert_non_null(ed);
	assert_int_equal(EVP_PKEY_get_raw_public_key(ed, raw, &rawlen), 1);
	rec = key_record(raw, (int)rawlen, "ed25519");
	assert_int_equal(smtprobe_dkim_key_parse(rec, strlen(rec), &k), 0);
	assert_int_equal(k.ktype, SMTPROBE_DKIM_K_ED25519);
	assert_int_equal(k.bits, 256);
	assert_int_equal(smtprobe_dkim_key_class(&k), SMTPROBE_DKIM_C_GOOD);
	free(rec);
	EVP_PKEY_free(ed);
}

/* ---- MTA-STS record ---- */

static int sts_fn(const char *b, size_t n, void *o)
{
	return smtprobe_mtasts_record_parse(b, n, o);
}

static const struct good sts_good[] = {
        {"rfc example", "v=STSv1; id=20160831085700Z", "id=20160831085700Z"},
        {"tight, trailing ;", "v=STSv1;id=abc;", "id=abc"},
        {"extension", "v=STSv1; id=abc; ext=va.lue", "id=abc"},
        {"id twice: the first", "v=STSv1; id=a; id=b", "id=a dup"},
        {"space before ;", "v=STSv1 ; id=abc", "id=abc"},
        {"32 characters", "v=STSv1; id=abcdefghijklmnopqrstuvwxyz012345",
         "id=abcdefghijklmnopqrstuvwxyz012345"},
};

static const struct bad sts_bad[] = {
        {"no id", "v=STSv1", 0, SMTPROBE_DNSREC_E_MISSING,
         "mta-sts: id= is missing", 0},
        {"empty id", "v=STSv1; id=", 0, SMTPROBE_DNSREC_E_VALUE,
         "mta-sts: id='' is not 1 to 32 letters and digits", 0},
        {"33 characters", "v=STSv1; id=abcdefghijklmnopqrstuvwxyz0123456", 0,
         SMTPROBE_DNSREC_E_VALUE,
         "mta-sts: id='abcdefghijklmnopqrstuvwxyz012345...' is not 1 to 32 "
         "letters and digits",
         0},
        {"id with -", "v=STSv1; id=2024-01-01", 0, SMTPROBE_DNSREC_E_VALUE,
         "mta-sts: id='2024-01-01' is not 1 to 32 letters and digits", 0},
        {"v not first", "id=abc; v=STSv1", 0, SMTPROBE_DNSREC_E_VERSION,
         "mta-sts: the record does not start with v=STSv1", 0},
        {"wrong version", "v=STSv2; id=abc", 0, SMTPROBE_DNSREC_E_VERSION,
         "mta-sts: v='STSv2' is not STSv1", 0},
        {"space first", " v=STSv1; id=abc", 0, SMTPROBE_DNSREC_E_VERSION,
         "mta-sts: the record does not start with v=STSv1", 0},
        {"V", "V=STSv1; id=abc", 0, SMTPROBE_DNSREC_E_VERSION,
         "mta-sts: the record does not start with v=STSv1", 0},
        {"space around =", "v=STSv1; id= abc", 0, SMTPROBE_DNSREC_E_SYNTAX,
         "mta-sts: space around '=' in 'id= abc'", 0},
        {"extension with =", "v=STSv1; id=abc; ext=a=b", 0,
         SMTPROBE_DNSREC_E_VALUE,
         "mta-sts: ext='a=b' is not a valid extension value", 0},
        {"extension with space", "v=STSv1; id=abc; ext=a b", 0,
         SMTPROBE_DNSREC_E_VALUE,
         "mta-sts: ext='a b' is not a valid extension value", 0},
        {"empty extension", "v=STSv1; id=abc; ext=", 0, SMTPROBE_DNSREC_E_VALUE,
         "mta-sts: ext='' is not a valid extension value", 0},
};

static void test_sts_record(void **state)
{
	struct smtprobe_mtasts_record r = {0};
	char got[128];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(sts_good); i++) {
		const struct good *c = &sts_good[i];
		size_t n = strlen(c->in);
		char *p = exact(c->in, n);

		if (smtprobe_mtasts_record_parse(p, n, &r) != 0)
			fail_msg("%s: %s", c->name, r.error.text);
		snprintf(got, sizeof(got), "id=%.*s%s", (int)r.id.len,
		         p + r.id.off, r.duplicates ? " dup" : "");
		if (strcmp(got, c->want) != 0)
			fail_msg("%s: got '%s'", c->name, got);
		prefixes(sts_fn, &r, p, n);
		free(p);
	}
	for (i = 0; i < NELEM(sts_bad); i++) {
		const struct bad *c = &sts_bad[i];
		size_t n = len_of(c->in, c->len);
		char *p = exact(c->in, n);

		check_error(c, &r.error,
		            smtprobe_mtasts_record_parse(p, n, &r));
		prefixes(sts_fn, &r, p, n);
		free(p);
	}
}

/* ---- MTA-STS policy ---- */

static int policy_fn(const char *b, size_t n, void *o)
{
	return smtprobe_mtasts_policy_parse(b, n, o);
}

static void policy_desc(char *d, size_t dsz, const char *buf,
                        const struct smtprobe_mtasts_policy *p)
{
	static const char *const flags[] = {"crlf", "lf", "blank", "dup",
	                                    "unknown"};
	size_t i;

	snprintf(d, dsz, "%s %lu mx=", smtprobe_mtasts_mode_name(p->mode),
	         p->max_age);
	for (i = 0; i < p->nmx; i++)
		cat(d, dsz, "%s%.*s", i > 0 ? "," : "", (int)p->mx[i].len,
		    buf + p->mx[i].off);
	for (i = 0; i < NELEM(flags); i++)
		if (p->flags & (1u << i))
			cat(d, dsz, " %s", flags[i]);
}

#define HEAD "version: STSv1\n"

static const struct good policy_good[] = {
        {"rfc example",
         "version: STSv1\nmode: enforce\nmx: mail.example.com\n"
         "mx: *.example.net\nmx: backupmx.example.com\nmax_age: 604800\n",
         "enforce 604800 mx=mail.example.com,*.example.net,"
         "backupmx.example.com lf"},
        {"crlf, no final newline",
         "version: STSv1\r\nmode: testing\r\nmx: mx.example.com\r\n"
         "max_age: 86400",
         "testing 86400 mx=mx.example.com crlf"},
        {"mode none without mx",
         "version: STSv1\r\nmode: none\r\nmax_age: 0\r\n", "none 0 mx= crlf"},
        {"no space after colon, trailing space",
         "version:STSv1\nmode:enforce \t\nmx:mx.example.com\nmax_age:31557600",
         "enforce 31557600 mx=mx.example.com lf"},
        {"unknown field",
         HEAD "mode: enforce\nfoo: bar baz\nmx: m.example\n"
              "max_age: 1\n",
         "enforce 1 mx=m.example lf unknown"},
        {"mode twice: the first",
         HEAD "mode: testing\nmode: enforce\n"
              "mx: m.example\nmax_age: 1\n",
         "testing 1 mx=m.example lf dup"},
        {"blank line inside",
         HEAD "mode: enforce\n\nmx: m.example\n"
              "max_age: 1\n\n\n",
         "enforce 1 mx=m.example lf blank"},
        {"mixed line ends",
         "version: STSv1\r\nmode: enforce\nmx: m.example\r\n"
         "max_age: 1\n",
         "enforce 1 mx=m.example crlf lf"},
        {"utf-8 in an unknown field",
         HEAD "mode: none\nmax_age: 5\n"
              "note: caf\xc3\xa9\n",
         "none 5 mx= lf unknown"},
};

static const struct bad policy_bad[] = {
        {"empty", "", 0, SMTPROBE_DNSREC_E_VERSION,
         "mta-sts: the policy is empty", 0},
        {"blank lines only", "\n\r\n  \n", 0, SMTPROBE_DNSREC_E_VERSION,
         "mta-sts: the policy is empty", 0},
        {"version not first",
         "mode: enforce\nversion: STSv1\nmx: m.example\nmax_age: 1\n", 0,
         SMTPROBE_DNSREC_E_VERSION,
         "mta-sts: the policy does not start with version: STSv1", 1},
        {"wrong version", "version: STSv2\nmode: none\nmax_age: 1\n", 0,
         SMTPROBE_DNSREC_E_VERSION,
         "mta-sts: line 1: version: 'STSv2' is not STSv1", 1},
        {"bad mode", HEAD "mode: block\nmx: m.example\nmax_age: 1\n", 0,
         SMTPROBE_DNSREC_E_VALUE,
         "mta-sts: line 2: mode: 'block' is not enforce, testing or none", 2},
        {"mode case", HEAD "mode: Enforce\nmx: m.example\nmax_age: 1\n", 0,
         SMTPROBE_DNSREC_E_VALUE,
         "mta-sts: line 2: mode: 'Enforce' is not enforce, testing or none", 2},
        {"max_age too big", HEAD "mode: none\nmax_age: 31557601\n", 0,
         SMTPROBE_DNSREC_E_VALUE,
         "mta-sts: line 3: max_age: '31557601' is not a number of seconds "
         "from 0 to 31557600",
         3},
        {"max_age 11 digits", HEAD "mode: none\nmax_age: 00000000001\n", 0,
         SMTPROBE_DNSREC_E_VALUE,
         "mta-sts: line 3: max_age: '00000000001' is not a number of seconds "
         "from 0 to 31557600",
         3},
        {"max_age negative", HEAD "mode: none\nmax_age: -1\n", 0,
         SMTPROBE_DNSREC_E_VALUE,
         "mta-sts: line 3: max_age: '-1' is not a number of seconds from 0 "
         "to 31557600",
         3},
        {"max_age empty", HEAD "mode: none\nmax_age:\n", 0,
         SMTPROBE_DNSREC_E_VALUE,
         "mta-sts: line 3: max_age: '' is not a number of seconds from 0 to "
         "31557600",
         3},
        {"wildcard inside", HEAD "mode: enforce\nmx: mail.*.example.com\n", 0,
         SMTPROBE_DNSREC_E_VALUE,
         "mta-sts: line 3: mx: 'mail.*.example.com' is not a host name or "
         "*.domain pattern",
         3},
        {"lone *", HEAD "mode: enforce\nmx: *\n", 0, SMTPROBE_DNSREC_E_VALUE,
         "mta-sts: line 3: mx: '*' is not a host name or *.domain pattern", 3},
        {"partial label *", HEAD "mode: enforce\nmx: *mx.example.com\n", 0,
         SMTPROBE_DNSREC_E_VALUE,
         "mta-sts: line 3: mx: '*mx.example.com' is not a host name or "
         "*.domain pattern",
         3},
        {"trailing dot", HEAD "mode: enforce\nmx: mx.example.com.\n", 0,
         SMTPROBE_DNSREC_E_VALUE,
         "mta-sts: line 3: mx: 'mx.example.com.' is not a host name or "
         "*.domain pattern",
         3},
        {"empty label", HEAD "mode: enforce\nmx: mx..example\n", 0,
         SMTPROBE_DNSREC_E_VALUE,
         "mta-sts: line 3: mx: 'mx..example' is not a host name or *.domain "
         "pattern",
         3},
        {"no mx", HEAD "mode: enforce\nmax_age: 86400\n", 0,
         SMTPROBE_DNSREC_E_MISSING,
         "mta-sts: no mx: field (one is needed unless mode is none)", 0},
        {"no mode", HEAD "mx: m.example\nmax_age: 86400\n", 0,
         SMTPROBE_DNSREC_E_MISSING, "mta-sts: no mode: field", 0},
        {"no max_age", HEAD "mode: enforce\nmx: m.example\n", 0,
         SMTPROBE_DNSREC_E_MISSING, "mta-sts: no max_age: field", 0},
        {"no colon", "version STSv1\n", 0, SMTPROBE_DNSREC_E_SYNTAX,
         "mta-sts: line 1: 'version STSv1' is not 'key: value'", 1},
        {"space before colon", "version : STSv1\n", 0, SMTPROBE_DNSREC_E_SYNTAX,
         "mta-sts: line 1: 'version ' is not a field name", 1},
        {"NUL", HEAD "mode: en\0force\n", 30, SMTPROBE_DNSREC_E_SYNTAX,
         "mta-sts: line 2: 'mode: en\\x00force' has a control byte", 2},
        {"lone CR", HEAD "mode: enforce\rmx: m.example\n", 0,
         SMTPROBE_DNSREC_E_SYNTAX,
         "mta-sts: line 2: 'mode: enforce\\rmx: m.example' has a control "
         "byte",
         2},
        {"html", "<html><body>404</body></html>\n", 0, SMTPROBE_DNSREC_E_SYNTAX,
         "mta-sts: line 1: '<html><body>404</body></html>' is not 'key: "
         "value'",
         1},
};

static void test_policy_good(void **state)
{
	struct smtprobe_mtasts_policy pol = {0};
	char got[512];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(policy_good); i++) {
		const struct good *c = &policy_good[i];
		size_t n = strlen(c->in);
		char *p = exact(c->in, n);

		if (smtprobe_mtasts_policy_parse(p, n, &pol) != 0)
			fail_msg("%s: %s", c->name, pol.error.text);
		policy_desc(got, sizeof(got), p, &pol);
		if (strcmp(got, c->want) != 0)
			fail_msg("%s: got '%s'", c->name, got);
		prefixes(policy_fn, &pol, p, n);
		free(p);
	}
}

static void test_policy_bad(void **state)
{
	struct smtprobe_mtasts_policy pol = {0};
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(policy_bad); i++) {
		const struct bad *c = &policy_bad[i];
		size_t n = len_of(c->in, c->len);
		char *p = exact(c->in, n);

		check_error(c, &pol.error,
		            smtprobe_mtasts_policy_parse(p, n, &pol));
		prefixes(policy_fn, &pol, p, n);
		free(p);
	}
}

static void test_policy_caps(void **state)
{
	static char big[SMTPROBE_MTASTS_MAX_POLICY + 64];
	struct smtprobe_mtasts_policy pol = {0};
	size_t n = 0;
	int i;

	(void)state;
	n = (size_t)snprintf(big, sizeof(big), HEAD "mode: enforce\n");
	for (i = 0; i < SMTPROBE_MTASTS_MAX_MX; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n,
		                      "mx: mx%d.example.com\n", i);
	n += (size_t)snprintf(big + n, sizeof(big) - n, "max_age: 60\n");
	assert_int_equal(smtprobe_mtasts_policy_parse(big, n, &pol), 0);
	assert_int_equal(pol.nmx, SMTPROBE_MTASTS_MAX_MX);
	n += (size_t)snprintf(big + n, sizeof(big) - n, "mx: one.more\n");
	assert_int_equal(smtprobe_mtasts_policy_parse(big, n, &pol),
	                 SMTPROBE_DNSREC_E_TOO_MANY);
	assert_string_equal(pol.error.text, "mta-sts: more than 128 mx: lines");

	/* 64 KiB of padding in an unknown field: the limit is exact */
	n = (size_t)snprintf(big, sizeof(big),
	                     HEAD "mode: none\nmax_age: 1\npad: ");
	memset(big + n, 'x', SMTPROBE_MTASTS_MAX_POLICY - n);
	assert_int_equal(smtprobe_mtasts_policy_parse(
	                         big, SMTPROBE_MTASTS_MAX_POLICY, &pol),
	                 0);
	big[SMTPROBE_MTASTS_MAX_POLICY] = 'x';
	assert_int_equal(smtprobe_mtasts_policy_parse(
	                         big, SMTPROBE_MTASTS_MAX_POLICY + 1, &pol),
	                 SMTPROBE_DNSREC_E_TOO_LONG);
	assert_string_equal(pol.error.text,
	                    "mta-sts: the policy is longer than 65536 bytes");
}

/* ---- mx matching ---- */

static const struct mx_case {
	const char *pattern, *host;
	int match;
} mx_cases[] = {
        {"mail.example.com", "mail.example.com", 1},
        {"mail.example.com", "MAIL.Example.COM", 1},
        {"mail.example.com", "mail.example.com.", 1},
        {"MAIL.example.com.", "mail.example.com", 1},
        {"*.example.com", "mail.example.com", 1},
        {"*.example.com", "MX1.EXAMPLE.COM.", 1},
        {"*.Example.Com", "mx-1.example.com", 1},
        {"*.com", "example.com", 1},
        {"*.example.com", "example.com", 0},
        {"*.example.com", "a.b.example.com", 0},
        {"*.example.com", ".example.com", 0},
        {"*.example.com", "mailexample.com", 0},
        {"*.example.com", "mail.example.com.evil", 0},
        {"*.example.com", "mail.example.co", 0},
        {"mail.example.com", "mail.example.co", 0},
        {"mail.example.com", "mail.example.com.evil", 0},
        {"mail.example.com", "xmail.example.com", 0},
        {"mail.example.com", "", 0},
        {"mail.example.com", ".", 0},
        {"", "mail.example.com", 0},
        {"*.", "a.", 0},
        {"mail.*.com", "mail.x.com", 0},
        {"*mail.example.com", "xmail.example.com", 0},
        {"*.example.com", "mail.example.com..", 0},
};

static void test_mx_match(void **state)
{
	const char *pol = HEAD "mode: enforce\nmx: a.example\nmx: *.b.example\n"
	                       "max_age: 60\n";
	struct smtprobe_mtasts_policy p = {0};
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(mx_cases); i++) {
		const struct mx_case *c = &mx_cases[i];
		size_t pl = strlen(c->pattern), hl = strlen(c->host);
		char *pp = exact(c->pattern, pl), *hp = exact(c->host, hl);

		if (smtprobe_mtasts_mx_match(pp, pl, hp, hl) != c->match)
			fail_msg("'%s' vs '%s': want %d", c->pattern, c->host,
			         c->match);
		free(pp);
		free(hp);
	}
	assert_int_equal(smtprobe_mtasts_policy_parse(pol, strlen(pol), &p), 0);
	assert_int_equal(
	        smtprobe_mtasts_policy_match(&p, pol, "A.example.", 10), 0);
	assert_int_equal(
	        smtprobe_mtasts_policy_match(&p, pol, "mx.b.example", 12), 1);
	assert_int_equal(smtprobe_mtasts_policy_match(&p, pol, "b.example", 9),
	                 -1);
	assert_int_equal(smtprobe_mtasts_policy_match(&p, pol, "c.example", 9),
	                 -1);
}

/* ---- TLS-RPT ---- */

static int tlsrpt_fn(const char *b, size_t n, void *o)
{
	return smtprobe_tlsrpt_parse(b, n, o);
}

static const struct good tlsrpt_good[] = {
        {"mailto", "v=TLSRPTv1; rua=mailto:tlsrpt@example.com",
         " rua=mailto:tlsrpt@example.com(example.com)"},
        {"https", "v=TLSRPTv1;rua=https://reporting.example.com/v1/tlsrpt",
         " rua=https://reporting.example.com/v1/tlsrpt(reporting.example.com)"},
        {"two, port, ext",
         "v=TLSRPTv1; rua=mailto:a@example.com, https://r.example.net:8443/x; "
         "ext=1;",
         " rua=mailto:a@example.com(example.com)"
         " rua=https://r.example.net:8443/x(r.example.net)"},
        {"ipv6 host", "v=TLSRPTv1; rua=https://[2001:db8::1]:443/r",
         " rua=https://[2001:db8::1]:443/r([2001:db8::1])"},
        {"rua twice: the first", "v=TLSRPTv1; rua=mailto:a@x.example; rua=y",
         " rua=mailto:a@x.example(x.example) dup"},
};

static const struct bad tlsrpt_bad[] = {
        {"no rua", "v=TLSRPTv1", 0, SMTPROBE_DNSREC_E_MISSING,
         "tls-rpt: rua= is missing", 0},
        {"RUA is an extension", "v=TLSRPTv1; RUA=mailto:a@x.example", 0,
         SMTPROBE_DNSREC_E_MISSING, "tls-rpt: rua= is missing", 0},
        {"extension with =", "v=TLSRPTv1; rua=mailto:a@x.example; e=a=b", 0,
         SMTPROBE_DNSREC_E_VALUE,
         "tls-rpt: e='a=b' is not a valid extension value", 0},
        {"ftp", "v=TLSRPTv1; rua=ftp://x.example.com/", 0,
         SMTPROBE_DNSREC_E_VALUE,
         "tls-rpt: rua URI 'ftp://x.example.com/' is not mailto: or https:", 0},
        {"size suffix", "v=TLSRPTv1; rua=mailto:a@x.example!10m", 0,
         SMTPROBE_DNSREC_E_VALUE,
         "tls-rpt: rua value 'mailto:a@x.example!10m' is not a URI", 0},
        {"https without //", "v=TLSRPTv1; rua=https:r.example/x", 0,
         SMTPROBE_DNSREC_E_VALUE,
         "tls-rpt: rua value 'https:r.example/x' is not a URI", 0},
        {"https userinfo only", "v=TLSRPTv1; rua=https://u@", 0,
         SMTPROBE_DNSREC_E_VALUE,
         "tls-rpt: rua value 'https://u@' is not a URI", 0},
        {"https without host", "v=TLSRPTv1; rua=https:///x", 0,
         SMTPROBE_DNSREC_E_VALUE,
         "tls-rpt: rua value 'https:///x' is not a URI", 0},
        {"wrong version", "v=TLSRPTv2; rua=mailto:a@x.example", 0,
         SMTPROBE_DNSREC_E_VERSION, "tls-rpt: v='TLSRPTv2' is not TLSRPTv1", 0},
        {"space around =", "v=TLSRPTv1; rua =mailto:a@x.example", 0,
         SMTPROBE_DNSREC_E_SYNTAX,
         "tls-rpt: space around '=' in 'rua =mailto:a@x.example'", 0},
        {"empty rua", "v=TLSRPTv1; rua=", 0, SMTPROBE_DNSREC_E_VALUE,
         "tls-rpt: rua has an empty URI", 0},
};

static void test_tlsrpt(void **state)
{
	struct smtprobe_tlsrpt r = {0};
	char got[512];
	size_t i, k;

	(void)state;
	for (i = 0; i < NELEM(tlsrpt_good); i++) {
		const struct good *c = &tlsrpt_good[i];
		size_t n = strlen(c->in);
		char *p = exact(c->in, n);

		if (smtprobe_tlsrpt_parse(p, n, &r) != 0)
			fail_msg("%s: %s", c->name, r.error.text);
		got[0] = '\0';
		for (k = 0; k < r.nrua; k++)
			uri_desc(got, sizeof(got), "rua", p, &r.rua[k]);
		if (r.duplicates)
			cat(got, sizeof(got), " dup");
		if (strcmp(got, c->want) != 0)
			fail_msg("%s: got '%s'", c->name, got);
		prefixes(tlsrpt_fn, &r, p, n);
		free(p);
	}
	for (i = 0; i < NELEM(tlsrpt_bad); i++) {
		const struct bad *c = &tlsrpt_bad[i];
		size_t n = len_of(c->in, c->len);
		char *p = exact(c->in, n);

		check_error(c, &r.error, smtprobe_tlsrpt_parse(p, n, &r));
		prefixes(tlsrpt_fn, &r, p, n);
		free(p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_taglist_good),
	        cmocka_unit_test(test_taglist_bad),
	        cmocka_unit_test(test_taglist_caps),
	        cmocka_unit_test(test_taglist_find),
	        cmocka_unit_test(test_taglist_prefixes),
	        cmocka_unit_test(test_misc),
	        cmocka_unit_test(test_dmarc_good),
	        cmocka_unit_test(test_dmarc_bad),
	        cmocka_unit_test(test_dmarc_keeps_going),
	        cmocka_unit_test(test_select),
	        cmocka_unit_test(test_dmarc_report),
	        cmocka_unit_test(test_dkim_good),
	        cmocka_unit_test(test_dkim_bad),
	        cmocka_unit_test(test_dkim_generated),
	        cmocka_unit_test(test_sts_record),
	        cmocka_unit_test(test_policy_good),
	        cmocka_unit_test(test_policy_bad),
	        cmocka_unit_test(test_policy_caps),
	        cmocka_unit_test(test_mx_match),
	        cmocka_unit_test(test_tlsrpt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
