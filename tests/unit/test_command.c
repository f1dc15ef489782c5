/* test_command.c - table-driven tests of the server's command line
 * parser and of srv_addr_domain(). Every line is parsed from a heap
 * buffer of exactly its length (so ASan sees a read past the end), every
 * span is checked to lie inside it, and every prefix of every line is
 * parsed too. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "command.h"

#include "banned.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define R_BAD      "500 5.5.2 Error: bad syntax"
#define R_TOO_LONG "500 5.5.2 Error: line too long"
#define R_SYN_MAIL "501 5.5.4 Syntax: MAIL FROM:<address>"
#define R_SYN_RCPT "501 5.5.4 Syntax: RCPT TO:<address>"
#define R_BAD_MAIL "501 5.1.7 Bad sender address syntax"
#define R_BAD_RCPT "501 5.1.3 Bad recipient address syntax"

struct ccase {
	const char *line;
	size_t len; /* 0: strlen(line) */
	enum srv_verb verb;
	const char *reply; /* NULL: the line parses */
	const char *arg;   /* expected spans, NULL: empty */
	const char *path;
	const char *params;
};

/* A line that parses. */
#define OK(l, v, a, p, q)                                                      \
	{                                                                      \
		.line = (l), .verb = (v), .arg = (a), .path = (p),             \
		.params = (q)                                                  \
	}
/* A line that is refused with reply r; v is the verb still reported. */
#define ERR(l, v, r)                                                           \
	{                                                                      \
		.line = (l), .verb = (v), .reply = (r)                         \
	}
#define ERRN(l, n, v, r)                                                       \
	{                                                                      \
		.line = (l), .len = (n), .verb = (v), .reply = (r)             \
	}

static const struct ccase cases[] = {
        /* HELO / EHLO / LHLO */
        OK("HELO mx.example.com", SRV_CMD_HELO, "mx.example.com", NULL, NULL),
        OK("helo x", SRV_CMD_HELO, "x", NULL, NULL),
        OK("EHLO client.example", SRV_CMD_EHLO, "client.example", NULL, NULL),
        OK("EhLo client.example", SRV_CMD_EHLO, "client.example", NULL, NULL),
        OK("ehlo localhost", SRV_CMD_EHLO, "localhost", NULL, NULL),
        OK("EHLO [192.0.2.1]", SRV_CMD_EHLO, "[192.0.2.1]", NULL, NULL),
        OK("EHLO [IPv6:2001:db8::1]", SRV_CMD_EHLO, "[IPv6:2001:db8::1]", NULL,
           NULL),
        OK("EHLO my_host", SRV_CMD_EHLO, "my_host", NULL, NULL),
        OK("EHLO    spaced.example", SRV_CMD_EHLO, "spaced.example", NULL,
           NULL),
        OK("EHLO trailing.example   ", SRV_CMD_EHLO, "trailing.example", NULL,
           NULL),
        OK("EHLO b\xc3\xbc"
           "cher.example",
           SRV_CMD_EHLO,
           "b\xc3\xbc"
           "cher.example",
           NULL, NULL),
        OK("LHLO lmtp.example", SRV_CMD_LHLO, "lmtp.example", NULL, NULL),
        OK("lhlo lmtp.example", SRV_CMD_LHLO, "lmtp.example", NULL, NULL),
        ERR("HELO", SRV_CMD_HELO, "501 5.5.4 Syntax: HELO hostname"),
        ERR("EHLO", SRV_CMD_EHLO, "501 5.5.4 Syntax: EHLO hostname"),
        ERR("EHLO ", SRV_CMD_EHLO, "501 5.5.4 Syntax: EHLO hostname"),
        ERR("EHLO    ", SRV_CMD_EHLO, "501 5.5.4 Syntax: EHLO hostname"),
        ERR("LHLO", SRV_CMD_LHLO, "501 5.5.4 Syntax: LHLO hostname"),
        ERR("EHLO two words", SRV_CMD_EHLO, "501 5.5.4 Syntax: EHLO hostname"),
        ERR("EHLO [192.0.2.1", SRV_CMD_EHLO, "501 5.5.4 Syntax: EHLO hostname"),
        ERR("EHLO []", SRV_CMD_EHLO, "501 5.5.4 Syntax: EHLO hostname"),
        ERR("EHLO [a]b]", SRV_CMD_EHLO, "501 5.5.4 Syntax: EHLO hostname"),
        ERR("EHLO <x.example>", SRV_CMD_EHLO,
            "501 5.5.4 Syntax: EHLO hostname"),
        ERR("HELO a@b.example", SRV_CMD_HELO,
            "501 5.5.4 Syntax: HELO hostname"),

        /* MAIL */
        OK("MAIL FROM:<a@b>", SRV_CMD_MAIL, "FROM:<a@b>", "a@b", NULL),
        OK("mail from:<a@b>", SRV_CMD_MAIL, "from:<a@b>", "a@b", NULL),
        OK("Mail From:<a@b>", SRV_CMD_MAIL, "From:<a@b>", "a@b", NULL),
        OK("MAIL FROM:<>", SRV_CMD_MAIL, "FROM:<>", NULL, NULL),
        OK("MAIL FROM:<> SIZE=0", SRV_CMD_MAIL, "FROM:<> SIZE=0", NULL,
           "SIZE=0"),
        OK("MAIL FROM: <a@b> SIZE=10 BODY=8BITMIME", SRV_CMD_MAIL,
           "FROM: <a@b> SIZE=10 BODY=8BITMIME", "a@b", "SIZE=10 BODY=8BITMIME"),
        OK("MAIL FROM:<a@b>   SIZE=10  ", SRV_CMD_MAIL, "FROM:<a@b>   SIZE=10",
           "a@b", "SIZE=10"),
        OK("MAIL  FROM:<a@b>", SRV_CMD_MAIL, "FROM:<a@b>", "a@b", NULL),
        OK("MAIL FROM:a@b", SRV_CMD_MAIL, "FROM:a@b", "a@b", NULL),
        OK("MAIL FROM:a@b SIZE=10", SRV_CMD_MAIL, "FROM:a@b SIZE=10", "a@b",
           "SIZE=10"),
        OK("MAIL FROM:<\"a b\"@x>", SRV_CMD_MAIL, "FROM:<\"a b\"@x>",
           "\"a b\"@x", NULL),
        OK("MAIL FROM:<\"a>b\"@x> BODY=7BIT", SRV_CMD_MAIL,
           "FROM:<\"a>b\"@x> BODY=7BIT", "\"a>b\"@x", "BODY=7BIT"),
        OK("MAIL FROM:<\"a<b\"@x>", SRV_CMD_MAIL, "FROM:<\"a<b\"@x>",
           "\"a<b\"@x", NULL),
        OK("MAIL FROM:<\"a\\\">\"@x>", SRV_CMD_MAIL, "FROM:<\"a\\\">\"@x>",
           "\"a\\\">\"@x", NULL),
        OK("MAIL FROM:\"ab\"@x", SRV_CMD_MAIL, "FROM:\"ab\"@x", "\"ab\"@x",
           NULL),
        OK("MAIL FROM:<u\xc3\xa9@x.example> SMTPUTF8", SRV_CMD_MAIL,
           "FROM:<u\xc3\xa9@x.example> SMTPUTF8", "u\xc3\xa9@x.example",
           "SMTPUTF8"),
        ERR("MAIL", SRV_CMD_MAIL, R_SYN_MAIL),
        ERR("MAIL FROM", SRV_CMD_MAIL, R_SYN_MAIL),
        ERR("MAIL FROM:", SRV_CMD_MAIL, R_SYN_MAIL),
        ERR("MAIL FROM:   ", SRV_CMD_MAIL, R_SYN_MAIL),
        ERR("MAIL FROM :<a@b>", SRV_CMD_MAIL, R_SYN_MAIL),
        ERR("MAIL TO:<a@b>", SRV_CMD_MAIL, R_SYN_MAIL),
        ERR("MAIL <a@b>", SRV_CMD_MAIL, R_SYN_MAIL),
        ERR("MAIL FROM:<a@b", SRV_CMD_MAIL, R_BAD_MAIL),
        ERR("MAIL FROM:<", SRV_CMD_MAIL, R_BAD_MAIL),
        ERR("MAIL FROM:a@b>", SRV_CMD_MAIL, R_BAD_MAIL),
        ERR("MAIL FROM:>", SRV_CMD_MAIL, R_BAD_MAIL),
        ERR("MAIL FROM:<<a@b>>", SRV_CMD_MAIL, R_BAD_MAIL),
        ERR("MAIL FROM:<a<b@c>", SRV_CMD_MAIL, R_BAD_MAIL),
        ERR("MAIL FROM:<a@b>x", SRV_CMD_MAIL, R_BAD_MAIL),
        ERR("MAIL FROM:<a@b><c@d>", SRV_CMD_MAIL, R_BAD_MAIL),
        ERR("MAIL FROM:<a b@x>", SRV_CMD_MAIL, R_BAD_MAIL),
        ERR("MAIL FROM:<\"a b@x>", SRV_CMD_MAIL, R_BAD_MAIL),
        ERR("MAIL FROM:<\"a\\\">", SRV_CMD_MAIL, R_BAD_MAIL),
        ERR("MAIL FROM:\"a b\"@x", SRV_CMD_MAIL, R_BAD_MAIL),
        ERR("MAIL FROM:a<b@x", SRV_CMD_MAIL, R_BAD_MAIL),

        /* RCPT */
        OK("RCPT TO:<a@b>", SRV_CMD_RCPT, "TO:<a@b>", "a@b", NULL),
        OK("rcpt to:<a@b>", SRV_CMD_RCPT, "to:<a@b>", "a@b", NULL),
        OK("RCPT TO: <a@b>", SRV_CMD_RCPT, "TO: <a@b>", "a@b", NULL),
        OK("RCPT TO:<\"a b\"@x> NOTIFY=NEVER", SRV_CMD_RCPT,
           "TO:<\"a b\"@x> NOTIFY=NEVER", "\"a b\"@x", "NOTIFY=NEVER"),
        OK("RCPT TO:<\"a>b\"@x>", SRV_CMD_RCPT, "TO:<\"a>b\"@x>", "\"a>b\"@x",
           NULL),
        OK("RCPT TO:<@a,@b:c@d>", SRV_CMD_RCPT, "TO:<@a,@b:c@d>", "@a,@b:c@d",
           NULL),
        OK("RCPT TO:<postmaster>", SRV_CMD_RCPT, "TO:<postmaster>",
           "postmaster", NULL),
        OK("RCPT TO:<a@b> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a@b",
           SRV_CMD_RCPT, "TO:<a@b> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a@b",
           "a@b", "NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a@b"),
        OK("RCPT TO:c@d", SRV_CMD_RCPT, "TO:c@d", "c@d", NULL),
        ERR("RCPT TO:<>", SRV_CMD_RCPT, R_BAD_RCPT),
        ERR("RCPT TO:<> NOTIFY=NEVER", SRV_CMD_RCPT, R_BAD_RCPT),
        ERR("RCPT", SRV_CMD_RCPT, R_SYN_RCPT),
        ERR("RCPT TO", SRV_CMD_RCPT, R_SYN_RCPT),
        ERR("RCPT TO:", SRV_CMD_RCPT, R_SYN_RCPT),
        ERR("RCPT FROM:<a@b>", SRV_CMD_RCPT, R_SYN_RCPT),
        ERR("RCPT TO:<a@b", SRV_CMD_RCPT, R_BAD_RCPT),
        ERR("RCPT TO:a@b>", SRV_CMD_RCPT, R_BAD_RCPT),
        ERR("RCPT TO:<a@b>junk", SRV_CMD_RCPT, R_BAD_RCPT),
        ERR("RCPT TO:<\"a b@x> NOTIFY=NEVER", SRV_CMD_RCPT, R_BAD_RCPT),

        /* verbs without an argument */
        OK("DATA", SRV_CMD_DATA, NULL, NULL, NULL),
        OK("data", SRV_CMD_DATA, NULL, NULL, NULL),
        OK("DATA  ", SRV_CMD_DATA, NULL, NULL, NULL),
        OK("RSET", SRV_CMD_RSET, NULL, NULL, NULL),
        OK("rset", SRV_CMD_RSET, NULL, NULL, NULL),
        OK("QUIT", SRV_CMD_QUIT, NULL, NULL, NULL),
        OK("Quit", SRV_CMD_QUIT, NULL, NULL, NULL),
        OK("STARTTLS", SRV_CMD_STARTTLS, NULL, NULL, NULL),
        OK("starttls", SRV_CMD_STARTTLS, NULL, NULL, NULL),
        ERR("DATA x", SRV_CMD_DATA, "501 5.5.4 Syntax: DATA"),
        ERR("RSET now", SRV_CMD_RSET, "501 5.5.4 Syntax: RSET"),
        ERR("QUIT please", SRV_CMD_QUIT, "501 5.5.4 Syntax: QUIT"),
        ERR("STARTTLS TLSv1.3", SRV_CMD_STARTTLS, "501 5.5.4 Syntax: STARTTLS"),

        /* optional argument */
        OK("NOOP", SRV_CMD_NOOP, NULL, NULL, NULL),
        OK("noop anything at all", SRV_CMD_NOOP, "anything at all", NULL, NULL),
        OK("HELP", SRV_CMD_HELP, NULL, NULL, NULL),
        OK("HELP MAIL", SRV_CMD_HELP, "MAIL", NULL, NULL),
        OK("VRFY", SRV_CMD_VRFY, NULL, NULL, NULL),
        OK("VRFY postmaster", SRV_CMD_VRFY, "postmaster", NULL, NULL),
        OK("vrfy <a@b>", SRV_CMD_VRFY, "<a@b>", NULL, NULL),
        OK("EXPN", SRV_CMD_EXPN, NULL, NULL, NULL),
        OK("EXPN staff", SRV_CMD_EXPN, "staff", NULL, NULL),

        /* required argument, left to the caller */
        OK("AUTH PLAIN", SRV_CMD_AUTH, "PLAIN", NULL, NULL),
        OK("auth login", SRV_CMD_AUTH, "login", NULL, NULL),
        OK("AUTH PLAIN AGEAYg==", SRV_CMD_AUTH, "PLAIN AGEAYg==", NULL, NULL),
        OK("AUTH PLAIN =", SRV_CMD_AUTH, "PLAIN =", NULL, NULL),
        ERR("AUTH", SRV_CMD_AUTH, "501 5.5.4 Syntax: AUTH mechanism"),
        ERR("AUTH   ", SRV_CMD_AUTH, "501 5.5.4 Syntax: AUTH mechanism"),
        OK("BDAT 100", SRV_CMD_BDAT, "100", NULL, NULL),
        OK("bdat 0 LAST", SRV_CMD_BDAT, "0 LAST", NULL, NULL),
        ERR("BDAT", SRV_CMD_BDAT, "501 5.5.4 Syntax: BDAT chunk-size [LAST]"),

        /* unknown verbs are not errors */
        OK("XYZZY", SRV_CMD_UNKNOWN, NULL, NULL, NULL),
        OK("XCLIENT NAME=spike.porcupine.org", SRV_CMD_UNKNOWN,
           "NAME=spike.porcupine.org", NULL, NULL),
        OK("MAILX FROM:<a@b>", SRV_CMD_UNKNOWN, "FROM:<a@b>", NULL, NULL),
        OK("MAILFROM:<a@b>", SRV_CMD_UNKNOWN, NULL, NULL, NULL),
        OK("STARTTLSX", SRV_CMD_UNKNOWN, NULL, NULL, NULL),
        OK("HEL", SRV_CMD_UNKNOWN, NULL, NULL, NULL),
        OK("GET / HTTP/1.1", SRV_CMD_UNKNOWN, "/ HTTP/1.1", NULL, NULL),
        OK("\xff\xfe", SRV_CMD_UNKNOWN, NULL, NULL, NULL),

        /* bytes no line may hold */
        ERR("", SRV_CMD_UNKNOWN, R_BAD),
        ERR(" ", SRV_CMD_UNKNOWN, R_BAD),
        ERR(" MAIL FROM:<a@b>", SRV_CMD_UNKNOWN, R_BAD),
        ERRN("NOOP\0x", 6, SRV_CMD_UNKNOWN, R_BAD),
        ERRN("\0", 1, SRV_CMD_UNKNOWN, R_BAD),
        ERRN("MAIL FROM:<a@b>\0", 16, SRV_CMD_UNKNOWN, R_BAD),
        ERRN("RCPT TO:<a\0@b>", 15, SRV_CMD_UNKNOWN, R_BAD),
        ERR("DATA\r", SRV_CMD_UNKNOWN, R_BAD),
        ERR("DA\nTA", SRV_CMD_UNKNOWN, R_BAD),
        ERR("RCPT TO:<a@b>\rRCPT TO:<c@d>", SRV_CMD_UNKNOWN, R_BAD),
        ERR("EHLO\tx", SRV_CMD_UNKNOWN, R_BAD),
        ERR("MAIL FROM:\t<a@b>", SRV_CMD_UNKNOWN, R_BAD),
        ERR("NOOP \x7f", SRV_CMD_UNKNOWN, R_BAD),
        ERR("QUIT\x1b[31m", SRV_CMD_UNKNOWN, R_BAD),
        ERR("HELP \x01", SRV_CMD_UNKNOWN, R_BAD),
};

/* A span is either empty (then it points at a NUL) or inside the line. */
static void check_span(const char *buf, size_t len, const char *p, size_t n)
{
	assert_non_null(p);
	if (n == 0) {
		assert_int_equal(p[0], '\0');
		return;
	}
	assert_true(p >= buf && p + n <= buf + len);
}

static void check_spans(const char *buf, size_t len,
                        const struct srv_command *c)
{
	check_span(buf, len, c->arg, c->arglen);
	check_span(buf, len, c->path, c->pathlen);
	check_span(buf, len, c->params, c->paramslen);
	if (c->pathlen > 0)
		assert_true(c->path >= c->arg &&
		            c->path + c->pathlen <= c->arg + c->arglen);
	if (c->paramslen > 0)
		assert_true(c->params >= c->path + c->pathlen &&
		            c->params + c->paramslen <= c->arg + c->arglen);
	assert_non_null(c->name);
	assert_true(c->verb >= SRV_CMD_UNKNOWN && c->verb < SRV_CMD_LAST);
}

static int span_is(const char *p, size_t n, const char *want)
{
	if (want == NULL)
		want = "";
	return n == strlen(want) && memcmp(p, want, n) == 0;
}

static void assert_span(const char *p, size_t n, const char *want)
{
	if (!span_is(p, n, want))
		fail_msg("span \"%.*s\", want \"%s\"", (int)n, p,
		         want ? want : "");
}

/* Fail naming the table entry, which cmocka alone would not. */
#define EXPECT(i, cond)                                                        \
	do {                                                                   \
		if (!(cond))                                                   \
			fail_msg("case %zu \"%s\": %s", (i), cases[i].line,    \
			         #cond);                                       \
	} while (0)

static const char *verb_name(enum srv_verb v)
{
	static const char *const names[SRV_CMD_LAST] = {
	        "",     "HELO", "EHLO",     "LHLO", "MAIL", "RCPT",
	        "DATA", "BDAT", "RSET",     "NOOP", "QUIT", "VRFY",
	        "EXPN", "HELP", "STARTTLS", "AUTH",
	};

	return names[v];
}

/* Parse from an exact-size heap copy. */
static int parse_copy(const char *line, size_t len, struct srv_command *c,
                      const char **reply, char **copy)
{
	*copy = malloc(len ? len : 1);
	assert_non_null(*copy);
	memcpy(*copy, line, len);
	return srv_command_parse(*copy, len, c, reply);
}

static void test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		const struct ccase *t = &cases[i];
		size_t len = t->len ? t->len : strlen(t->line);
		struct srv_command c;
		const char *reply = "unset";
		char *buf;
		int rc = parse_copy(t->line, len, &c, &reply, &buf);

		check_spans(buf, len, &c);
		EXPECT(i, c.verb == t->verb);
		EXPECT(i, strcmp(c.name, verb_name(t->verb)) == 0);
		if (t->reply != NULL) {
			EXPECT(i, rc == -1);
			EXPECT(i,
			       reply != NULL && strcmp(reply, t->reply) == 0);
			EXPECT(i, c.arglen == 0 && c.pathlen == 0 &&
			                  c.paramslen == 0);
		} else {
			EXPECT(i, rc == 0);
			EXPECT(i, reply == NULL);
			EXPECT(i, span_is(c.arg, c.arglen, t->arg));
			EXPECT(i, span_is(c.path, c.pathlen, t->path));
			EXPECT(i, span_is(c.params, c.paramslen, t->params));
		}
		free(buf);
	}
}

/* Every prefix of every case, each in a buffer of exactly its size. */
static void test_prefixes(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		size_t len =
		        cases[i].len ? cases[i].len : strlen(cases[i].line);

		for (size_t n = 0; n <= len; n++) {
			struct srv_command c;
			const char *reply;
			char *buf;
			int rc = parse_copy(cases[i].line, n, &c, &reply, &buf);

			assert_true(rc == 0 || rc == -1);
			assert_true((rc == 0) == (reply == NULL));
			check_spans(buf, n, &c);
			free(buf);
		}
	}
}

static char *filled(size_t len, const char *prefix, const char *suffix)
{
	char *s = malloc(len + 1);
	size_t p = strlen(prefix), q = strlen(suffix);

	assert_non_null(s);
	assert_true(p + q <= len);
	memset(s, 'a', len);
	memcpy(s, prefix, p);
	memcpy(s + len - q, suffix, q);
	s[len] = '\0';
	return s;
}

static void test_long_line(void **state)
{
	struct srv_command c;
	const char *reply;
	char *s;

	(void)state;
	s = filled(SRV_MAX_CMDLINE, "NOOP ", "");
	assert_int_equal(srv_command_parse(s, SRV_MAX_CMDLINE, &c, &reply), 0);
	assert_int_equal(c.verb, SRV_CMD_NOOP);
	assert_int_equal(c.arglen, SRV_MAX_CMDLINE - 5);
	free(s);

	s = filled(SRV_MAX_CMDLINE + 1, "NOOP ", "");
	assert_int_equal(srv_command_parse(s, SRV_MAX_CMDLINE + 1, &c, &reply),
	                 -1);
	assert_string_equal(reply, R_TOO_LONG);
	free(s);

	/* too long wins over every other complaint */
	s = filled(100000, "", "");
	s[10] = '\0';
	assert_int_equal(srv_command_parse(s, 100000, &c, &reply), -1);
	assert_string_equal(reply, R_TOO_LONG);
	free(s);
}

/* RFC 5321 4.5.3.1.3: 256 octets, brackets included. */
static void test_long_path(void **state)
{
	static const struct {
		const char *prefix;
		size_t pathlen;
		int rc;
		const char *reply;
	} t[] = {
	        {"MAIL FROM:<", 254, 0, NULL},
	        {"MAIL FROM:<", 255, -1, R_BAD_MAIL},
	        {"MAIL FROM:<", 1500, -1, R_BAD_MAIL},
	        {"RCPT TO:<", 254, 0, NULL},
	        {"RCPT TO:<", 255, -1, R_BAD_RCPT},
	        {"RCPT TO:<", 2000, -1, R_BAD_RCPT},
	};

	(void)state;
	for (size_t i = 0; i < NELEM(t); i++) {
		size_t len = strlen(t[i].prefix) + t[i].pathlen + 1;
		char *s = filled(len, t[i].prefix, ">");
		struct srv_command c;
		const char *reply;

		s[len - 3] = '@';
		assert_int_equal(srv_command_parse(s, len, &c, &reply),
		                 t[i].rc);
		if (t[i].rc == 0)
			assert_int_equal(c.pathlen, t[i].pathlen);
		else
			assert_string_equal(reply, t[i].reply);
		free(s);
	}
}

static void test_addr_domain(void **state)
{
	static const struct {
		const char *addr;
		const char *domain;
	} t[] = {
	        {"a@b", "b"},
	        {"user@example.com", "example.com"},
	        {"a@b@c", "c"},
	        {"\"a@b\"@c", "c"},
	        {"\"a@b\"", ""},
	        {"\"a\\\"@b\"@x", "x"},
	        {"\"a\\\"@b", ""},
	        {"\"a\\", ""},
	        {"@a,@b:c@d", "d"},
	        {"a@[192.0.2.1]", "[192.0.2.1]"},
	        {"a@[IPv6:2001:db8::1]", "[IPv6:2001:db8::1]"},
	        {"postmaster", ""},
	        {"a@", ""},
	        {"@", ""},
	        {"", ""},
	        {"u\xc3\xa9@\xc3\xa9x.example", "\xc3\xa9x.example"},
	};

	(void)state;
	for (size_t i = 0; i < NELEM(t); i++) {
		size_t len = strlen(t[i].addr), dlen = 99;
		char *buf = malloc(len ? len : 1);
		const char *d;

		assert_non_null(buf);
		memcpy(buf, t[i].addr, len);
		d = srv_addr_domain(buf, len, &dlen);
		assert_non_null(d);
		if (!span_is(d, dlen, t[i].domain))
			fail_msg("addr \"%s\": domain \"%.*s\"", t[i].addr,
			         (int)dlen, d);
		if (dlen > 0)
			assert_true(d >= buf && d + dlen == buf + len);
		free(buf);
	}
	/* bytes after len are not looked at */
	{
		size_t dlen;
		const char *d = srv_addr_domain("a@b.example@evil", 11, &dlen);

		assert_span(d, dlen, "b.example");
	}
}

/* The domain of a parsed path, the way the caller will use it. */
static void test_path_domain(void **state)
{
	static const char *const lines[] = {
	        "RCPT TO:<@a,@b:c@d.example> NOTIFY=NEVER",
	        "RCPT TO:<\"x@y\"@d.example>",
	        "MAIL FROM:d.example@d.example SIZE=1",
	};

	(void)state;
	for (size_t i = 0; i < NELEM(lines); i++) {
		struct srv_command c;
		const char *reply, *d;
		size_t dlen;

		assert_int_equal(srv_command_parse(lines[i], strlen(lines[i]),
		                                   &c, &reply),
		                 0);
		d = srv_addr_domain(c.path, c.pathlen, &dlen);
		assert_span(d, dlen, "d.example");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_cases),
	        cmocka_unit_test(test_prefixes),
	        cmocka_unit_test(test_long_line),
	        cmocka_unit_test(test_long_path),
	        cmocka_unit_test(test_addr_domain),
	        cmocka_unit_test(test_path_domain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
