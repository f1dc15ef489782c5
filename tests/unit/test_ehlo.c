/* test_ehlo.c - table-driven tests of EHLO capability parsing and the SASL
 * mechanism helpers. */
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "smtprobe/ehlo.h"

#include "banned.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define C_STARTTLS   SMTPROBE_CAP_STARTTLS
#define C_AUTH       SMTPROBE_CAP_AUTH
#define C_SIZE       SMTPROBE_CAP_SIZE
#define C_PIPELINING SMTPROBE_CAP_PIPELINING
#define C_8BITMIME   SMTPROBE_CAP_8BITMIME
#define C_SMTPUTF8   SMTPROBE_CAP_SMTPUTF8
#define C_CHUNKING   SMTPROBE_CAP_CHUNKING
#define C_DSN        SMTPROBE_CAP_DSN
#define C_ENH        SMTPROBE_CAP_ENHANCEDSTATUSCODES
#define C_REQUIRETLS SMTPROBE_CAP_REQUIRETLS
#define C_BINARYMIME SMTPROBE_CAP_BINARYMIME
#define C_AUTH_OLD   SMTPROBE_CAP_AUTH_OLD

#define M_PLAIN       SMTPROBE_MECH_PLAIN
#define M_LOGIN       SMTPROBE_MECH_LOGIN
#define M_CRAM        SMTPROBE_MECH_CRAM_MD5
#define M_DIGEST      SMTPROBE_MECH_DIGEST_MD5
#define M_SCRAM1      SMTPROBE_MECH_SCRAM_SHA_1
#define M_SCRAM256    SMTPROBE_MECH_SCRAM_SHA_256
#define M_NTLM        SMTPROBE_MECH_NTLM
#define M_XOAUTH2     SMTPROBE_MECH_XOAUTH2
#define M_OAUTHBEARER SMTPROBE_MECH_OAUTHBEARER

struct ecase {
	const char *name;
	const char *lines[20]; /* NULL-terminated */
	const char *host;
	unsigned caps;
	unsigned long long size;
	unsigned mechs;
	const char *auth;
	const char *unknown;
};

static const struct ecase cases[] = {
        {"postfix",
         {"mail.example.org", "PIPELINING", "SIZE 10240000", "VRFY", "ETRN",
          "STARTTLS", "AUTH PLAIN LOGIN", "AUTH=PLAIN LOGIN",
          "ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING",
          NULL},
         "mail.example.org",
         C_PIPELINING | C_SIZE | C_STARTTLS | C_AUTH | C_AUTH_OLD | C_ENH |
                 C_8BITMIME | C_DSN | C_SMTPUTF8 | C_CHUNKING,
         10240000,
         M_PLAIN | M_LOGIN,
         "PLAIN LOGIN",
         "VRFY ETRN"},
        {"exchange",
         {"EXCH01.corp.example.com Hello [192.0.2.10]", "SIZE 37748736",
          "PIPELINING", "DSN", "ENHANCEDSTATUSCODES", "STARTTLS",
          "X-ANONYMOUSTLS", "AUTH GSSAPI NTLM", "AUTH=LOGIN",
          "X-EXPS GSSAPI NTLM", "8BITMIME", "BINARYMIME", "CHUNKING", "XRDST",
          NULL},
         "EXCH01.corp.example.com",
         C_SIZE | C_PIPELINING | C_DSN | C_ENH | C_STARTTLS | C_AUTH |
                 C_AUTH_OLD | C_8BITMIME | C_BINARYMIME | C_CHUNKING,
         37748736,
         M_NTLM | M_LOGIN,
         "GSSAPI NTLM LOGIN",
         "X-ANONYMOUSTLS X-EXPS XRDST"},
        {"exchange old auth only",
         {"mx Hello", "AUTH=LOGIN", NULL},
         "mx",
         C_AUTH | C_AUTH_OLD,
         0,
         M_LOGIN,
         "LOGIN",
         ""},
        {"gmail",
         {"smtp.gmail.com at your service, [192.0.2.1]", "SIZE 35882577",
          "8BITMIME",
          "AUTH LOGIN PLAIN XOAUTH2 PLAIN-CLIENTTOKEN OAUTHBEARER "
          "XOAUTH",
          "ENHANCEDSTATUSCODES", "PIPELINING", "CHUNKING", "SMTPUTF8", NULL},
         "smtp.gmail.com",
         C_SIZE | C_8BITMIME | C_AUTH | C_ENH | C_PIPELINING | C_CHUNKING |
                 C_SMTPUTF8,
         35882577,
         M_LOGIN | M_PLAIN | M_XOAUTH2 | M_OAUTHBEARER,
         "LOGIN PLAIN XOAUTH2 PLAIN-CLIENTTOKEN OAUTHBEARER XOAUTH",
         ""},
        {"lowercase keywords",
         {"mx.example.net", "starttls", "auth plain login scram-sha-256",
          "size 1000", "Pipelining", "8bitmime", "smtputf8", "requiretls",
          "auth=cram-md5", NULL},
         "mx.example.net",
         C_STARTTLS | C_AUTH | C_AUTH_OLD | C_SIZE | C_PIPELINING | C_8BITMIME |
                 C_SMTPUTF8 | C_REQUIRETLS,
         1000,
         M_PLAIN | M_LOGIN | M_SCRAM256 | M_CRAM,
         "PLAIN LOGIN SCRAM-SHA-256 CRAM-MD5",
         ""},
        {"size without value",
         {"mx", "SIZE", NULL},
         "mx",
         C_SIZE,
         0,
         0,
         "",
         ""},
        {"size zero", {"mx", "SIZE 0", NULL}, "mx", C_SIZE, 0, 0, "", ""},
        {"size max",
         {"mx", "SIZE 18446744073709551615", NULL},
         "mx",
         C_SIZE,
         ULLONG_MAX,
         0,
         "",
         ""},
        {"size overflow by one",
         {"mx", "SIZE 18446744073709551616", NULL},
         "mx",
         C_SIZE,
         0,
         0,
         "",
         ""},
        {"size overflow",
         {"mx", "SIZE 99999999999999999999999999999", NULL},
         "mx",
         C_SIZE,
         0,
         0,
         "",
         ""},
        {"size garbage", {"mx", "SIZE 12x", NULL}, "mx", C_SIZE, 0, 0, "", ""},
        {"size negative", {"mx", "SIZE -1", NULL}, "mx", C_SIZE, 0, 0, "", ""},
        {"size two values",
         {"mx", "SIZE 1 2", NULL},
         "mx",
         C_SIZE,
         0,
         0,
         "",
         ""},
        {"size extra spaces",
         {"mx", "SIZE   52428800  ", NULL},
         "mx",
         C_SIZE,
         52428800,
         0,
         "",
         ""},
        {"unknown keywords",
         {"mx", "XCLIENT NAME ADDR PROTO HELO", "XFORWARD NAME ADDR", "X-FOO",
          "XCLIENT again", "DELIVERBY 60", NULL},
         "mx",
         0,
         0,
         0,
         "",
         "XCLIENT XFORWARD X-FOO DELIVERBY"},
        {"keyword prefixes are not keywords",
         {"mx", "STARTTLSX", "SIZ 10", "AUTHX PLAIN", "DSNS", NULL},
         "mx",
         0,
         0,
         0,
         "",
         "STARTTLSX SIZ AUTHX DSNS"},
        {"duplicate auth lines",
         {"mx", "AUTH PLAIN LOGIN", "AUTH LOGIN CRAM-MD5", "AUTH=login plain",
          "auth Plain", NULL},
         "mx",
         C_AUTH | C_AUTH_OLD,
         0,
         M_PLAIN | M_LOGIN | M_CRAM,
         "PLAIN LOGIN CRAM-MD5",
         ""},
        {"auth without mechanisms",
         {"mx", "AUTH", NULL},
         "mx",
         C_AUTH,
         0,
         0,
         "",
         ""},
        {"auth unknown mechanisms",
         {"mx", "AUTH GSSAPI SCRAM-SHA-256-PLUS EXTERNAL", NULL},
         "mx",
         C_AUTH,
         0,
         0,
         "GSSAPI SCRAM-SHA-256-PLUS EXTERNAL",
         ""},
        {"every known keyword",
         {"mx", "STARTTLS", "AUTH DIGEST-MD5 SCRAM-SHA-1 NTLM", "SIZE 1",
          "PIPELINING", "8BITMIME", "SMTPUTF8", "CHUNKING", "DSN",
          "ENHANCEDSTATUSCODES", "REQUIRETLS", "BINARYMIME", NULL},
         "mx",
         C_STARTTLS | C_AUTH | C_SIZE | C_PIPELINING | C_8BITMIME | C_SMTPUTF8 |
                 C_CHUNKING | C_DSN | C_ENH | C_REQUIRETLS | C_BINARYMIME,
         1,
         M_DIGEST | M_SCRAM1 | M_NTLM,
         "DIGEST-MD5 SCRAM-SHA-1 NTLM",
         ""},
        {"blank and odd lines",
         {"  mx.example.com  hi", "", "   ", "\tPIPELINING", " SIZE\t42", "=",
          NULL},
         "mx.example.com",
         C_PIPELINING | C_SIZE,
         42,
         0,
         "",
         "="},
        {"greeting only",
         {"mx.example.com ESMTP", NULL},
         "mx.example.com",
         0,
         0,
         0,
         "",
         ""},
        {"empty greeting", {"", "DSN", NULL}, "", C_DSN, 0, 0, "", ""},
        {"raw control bytes are escaped",
         {"mx\x01host", "X\x1b[2J",
          "AUTH PL\x7f"
          "AIN",
          NULL},
         "mx\\x01host",
         C_AUTH,
         0,
         0,
         "PL\\x7fAIN",
         "X\\x1b[2J"},
};

static size_t count_lines(const char *const *lines)
{
	size_t n = 0;

	while (lines[n] != NULL)
		n++;
	return n;
}

static void test_cases(void **state)
{
	struct smtprobe_ehlo e;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		const struct ecase *c = &cases[i];

		print_message("case: %s\n", c->name);
		memset(&e, 0xa5, sizeof(e));
		smtprobe_ehlo_parse(&e, c->lines, count_lines(c->lines));
		assert_string_equal(e.host, c->host);
		assert_int_equal(e.caps, c->caps);
		assert_true(e.size == c->size);
		assert_int_equal(e.mechs, c->mechs);
		assert_string_equal(e.auth, c->auth);
		assert_string_equal(e.unknown, c->unknown);
		assert_int_equal(e.truncated, 0);
	}
}

static void test_no_lines(void **state)
{
	struct smtprobe_ehlo e;

	(void)state;
	memset(&e, 0xa5, sizeof(e));
	smtprobe_ehlo_parse(&e, NULL, 0);
	assert_string_equal(e.host, "");
	assert_int_equal(e.caps, 0);
	assert_string_equal(e.unknown, "");
	assert_int_equal(e.truncated, 0);
}

static void test_parse_line_accumulates(void **state)
{
	struct smtprobe_ehlo e;
	static const char line[] = "AUTH LOGIN\0PLAIN";

	(void)state;
	memset(&e, 0, sizeof(e));
	smtprobe_ehlo_parse_line(&e, "STARTTLS", 8);
	smtprobe_ehlo_parse_line(&e, "SIZE 100 trailing", 8);
	assert_int_equal(e.caps, C_STARTTLS | C_SIZE);
	assert_true(e.size == 100);
	/* the length, not a NUL, ends the line; a NUL is part of a word */
	smtprobe_ehlo_parse_line(&e, line, sizeof(line) - 1);
	assert_int_equal(e.caps, C_STARTTLS | C_SIZE | C_AUTH);
	assert_int_equal(e.mechs, 0);
	assert_string_equal(e.auth, "LOGIN\\x00PLAIN");
}

/* Too many unknown keywords: whole words are kept, the flag says more
 * were left out. */
static void test_unknown_truncated(void **state)
{
	char buf[300][16];
	const char *lines[301];
	struct smtprobe_ehlo e;
	size_t i, len;

	(void)state;
	lines[0] = "mx";
	for (i = 0; i < 300; i++) {
		snprintf(buf[i], sizeof(buf[i]), "X-KEYWORD%zu", i);
		lines[i + 1] = buf[i];
	}
	smtprobe_ehlo_parse(&e, lines, 301);
	assert_int_equal(e.truncated, 1);
	len = strlen(e.unknown);
	assert_true(len > SMTPROBE_MAX_EHLO_UNKNOWN - 16);
	assert_true(len < SMTPROBE_MAX_EHLO_UNKNOWN);
	assert_true(e.unknown[len - 1] != ' ');
	assert_true(strncmp(e.unknown, "X-KEYWORD0 X-KEYWORD1 ", 22) == 0);
}

static void test_auth_truncated(void **state)
{
	char line[3000];
	const char *lines[2] = {"mx", line};
	struct smtprobe_ehlo e;
	size_t i, pos = 0;
	int n;

	(void)state;
	pos = (size_t)snprintf(line, sizeof(line), "AUTH PLAIN");
	for (i = 0; i < 200; i++) {
		n = snprintf(line + pos, sizeof(line) - pos, " MECH-%zu", i);
		assert_true(n > 0 && (size_t)n < sizeof(line) - pos);
		pos += (size_t)n;
	}
	snprintf(line + pos, sizeof(line) - pos, " LOGIN");
	smtprobe_ehlo_parse(&e, lines, 2);
	assert_int_equal(e.truncated, 1);
	/* mechanisms are known even when their names no longer fit */
	assert_int_equal(e.mechs, M_PLAIN | M_LOGIN);
	assert_true(strlen(e.auth) < SMTPROBE_MAX_EHLO_UNKNOWN);
	assert_true(strncmp(e.auth, "PLAIN MECH-0 ", 13) == 0);
}

static void test_host_truncated(void **state)
{
	char host[400];
	const char *lines[1] = {host};
	struct smtprobe_ehlo e;

	(void)state;
	memset(host, 'h', sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	smtprobe_ehlo_parse(&e, lines, 1);
	assert_int_equal(e.truncated, 1);
	assert_int_equal(strlen(e.host), SMTPROBE_MAX_HOSTNAME - 1);
}

struct mcase {
	const char *name;
	unsigned bit;
};

static const struct mcase mcases[] = {
        {"PLAIN", M_PLAIN},
        {"LOGIN", M_LOGIN},
        {"CRAM-MD5", M_CRAM},
        {"DIGEST-MD5", M_DIGEST},
        {"SCRAM-SHA-1", M_SCRAM1},
        {"SCRAM-SHA-256", M_SCRAM256},
        {"NTLM", M_NTLM},
        {"XOAUTH2", M_XOAUTH2},
        {"OAUTHBEARER", M_OAUTHBEARER},
};

static const struct mcase unknown_mechs[] = {
        {"", 0},
        {"GSSAPI", 0},
        {"SCRAM-SHA-256-PLUS", 0},
        {"SCRAM-SHA", 0},
        {"PLAINX", 0},
        {"PLAI", 0},
        {"scram-sha-1", M_SCRAM1},
        {"Login", M_LOGIN},
};

static void test_mech_names(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(mcases); i++) {
		assert_int_equal(
		        smtprobe_mech_from_name(mcases[i].name,
		                                strlen(mcases[i].name)),
		        mcases[i].bit);
		assert_string_equal(smtprobe_mech_name(mcases[i].bit),
		                    mcases[i].name);
	}
	for (i = 0; i < NELEM(unknown_mechs); i++)
		assert_int_equal(
		        smtprobe_mech_from_name(unknown_mechs[i].name,
		                                strlen(unknown_mechs[i].name)),
		        unknown_mechs[i].bit);
	/* the length bounds the name */
	assert_int_equal(smtprobe_mech_from_name("PLAIN LOGIN", 5), M_PLAIN);
	assert_null(smtprobe_mech_name(0));
	assert_null(smtprobe_mech_name(M_PLAIN | M_LOGIN));
	assert_null(smtprobe_mech_name(1u << 20));
}

struct scase {
	unsigned offered;
	unsigned want;
};

static const struct scase scases[] = {
        {0, 0},
        {M_LOGIN, M_LOGIN},
        {M_PLAIN | M_LOGIN, M_PLAIN},
        {M_NTLM | M_PLAIN | M_LOGIN, M_NTLM},
        {M_DIGEST | M_NTLM, M_DIGEST},
        {M_CRAM | M_DIGEST | M_PLAIN, M_CRAM},
        {M_SCRAM1 | M_CRAM, M_SCRAM1},
        {M_SCRAM256 | M_SCRAM1 | M_CRAM | M_PLAIN | M_LOGIN, M_SCRAM256},
        {M_XOAUTH2 | M_OAUTHBEARER, 0},
        {M_XOAUTH2 | M_LOGIN, M_LOGIN},
        {1u << 20, 0},
};

static void test_strongest(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(scases); i++)
		assert_int_equal(smtprobe_mech_strongest(scases[i].offered),
		                 scases[i].want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_cases),
	        cmocka_unit_test(test_no_lines),
	        cmocka_unit_test(test_parse_line_accumulates),
	        cmocka_unit_test(test_unknown_truncated),
	        cmocka_unit_test(test_auth_truncated),
	        cmocka_unit_test(test_host_truncated),
	        cmocka_unit_test(test_mech_names),
	        cmocka_unit_test(test_strongest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
