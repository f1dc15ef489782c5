/* test_refusals.c - the refusal classifier (lib/kb/refusal.c) against every
 * refusal real Exim, Sendmail and OpenSMTPD gave the relay audit
 * (tests/data/refusals/<server>.txt, collected by
 * tests/harness/collect_refusals.py). Each collected line must match a
 * row of the table below, which says what it must be classified as, and
 * each row must match a line: a new refusal text, or a table row whose text
 * a server no longer sends, fails the test until the table is updated.
 * The directory comes from SMTPROBE_DATA (meson sets it). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "smtprobe/refusal.h"
#include "smtprobe/reply.h"

#define REF SMTPROBE_OUT_REFUSED

struct row {
	const char *server;
	const char *text; /* a substring of the collected line */
	enum smtprobe_reply_outcome out;
	enum smtprobe_refusal_kind kind;
	int used;
};

static struct row rows[] = {
        /* Exim 4.96 */
        {"exim", "recipient address must contain a domain", REF,
         SMTPROBE_RK_SYNTAX, 0},
        {"exim", "sender address must contain a domain", REF,
         SMTPROBE_RK_SYNTAX, 0},
        {"exim", "domain literals not allowed", REF, SMTPROBE_RK_SYNTAX, 0},
        {"exim", "domain missing or malformed", REF, SMTPROBE_RK_SYNTAX, 0},
        {"exim", "malformed address", REF, SMTPROBE_RK_SYNTAX, 0},
        {"exim", "Restricted characters in address", REF, SMTPROBE_RK_SYNTAX,
         0},
        {"exim", "Authentication cancelled", REF, SMTPROBE_RK_AUTH, 0},
        {"exim", "Invalid base64 data", REF, SMTPROBE_RK_AUTH, 0},
        {"exim", "Incorrect authentication data", REF, SMTPROBE_RK_AUTH, 0},
        {"exim", "530 5.7.0 Authentication required", REF, SMTPROBE_RK_AUTH, 0},
        {"exim", "Must issue a STARTTLS command first", REF, SMTPROBE_RK_TLS,
         0},
        {"exim", "Unrouteable address", REF, SMTPROBE_RK_RECIPIENT, 0},
        {"exim", "relay not permitted", REF, SMTPROBE_RK_RELAY, 0},
        {"exim", "sender address not owned by user", REF, SMTPROBE_RK_SENDER,
         0},
        /* OpenSMTPD 7.x: "Invalid recipient" is an unknown user here; the
         * audit makes it a relay refusal for an external recipient */
        {"opensmtpd", "Recipient address syntax error", REF, SMTPROBE_RK_SYNTAX,
         0},
        {"opensmtpd", "Invalid recipient", REF, SMTPROBE_RK_RECIPIENT, 0},
        /* Sendmail 8.17 */
        {"sendmail", "Relaying denied", REF, SMTPROBE_RK_RELAY, 0},
        {"sendmail", "Domain of sender address", REF, SMTPROBE_RK_DOMAIN, 0},
        {"sendmail", "Domain name required for sender address", REF,
         SMTPROBE_RK_SYNTAX, 0},
        {"sendmail", "Real domain name required", REF, SMTPROBE_RK_SYNTAX, 0},
};

/* "550 5.7.1 text" or "550 - text" as the wire had it */
static struct smtprobe_reply *reply_of(const char *line)
{
	char wire[1200], enh[32];
	int code, n = 0;
	struct smtprobe_reply_parse p;

	assert_int_equal(sscanf(line, "%d %31s %n", &code, enh, &n), 2);
	if (strcmp(enh, "-") == 0)
		snprintf(wire, sizeof(wire), "%d %s\r\n", code, line + n);
	else
		snprintf(wire, sizeof(wire), "%d %s %s\r\n", code, enh,
		         line + n);
	assert_int_equal(smtprobe_reply_parse(wire, strlen(wire), &p),
	                 (long)strlen(wire));
	struct smtprobe_reply *r = smtprobe_reply_build(wire, &p);
	assert_non_null(r);
	return r;
}

static size_t check_file(const char *dir, const char *server)
{
	char path[1024], line[1024];
	size_t lines = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/refusals/%s.txt", dir, server);
	f = fopen(path, "r");
	if (f == NULL)
		fail_msg("cannot read %s", path);
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		struct row *row = NULL;
		for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
			if (strcmp(rows[i].server, server) == 0 &&
			    strstr(line, rows[i].text)) {
				row = &rows[i];
				break;
			}
		if (row == NULL)
			fail_msg("%s: no row of the table says what \"%s\" is",
			         server, line);
		row->used = 1;
		struct smtprobe_reply *r = reply_of(line);
		enum smtprobe_refusal_kind k;
		char why[200];
		enum smtprobe_reply_outcome o =
		        smtprobe_refusal_classify(r, &k, why, sizeof(why));
		if (o != row->out || k != row->kind)
			fail_msg("%s: \"%s\": got %s/%s, want %s/%s", server,
			         line, smtprobe_reply_outcome_name(o),
			         smtprobe_refusal_kind_name(k),
			         smtprobe_reply_outcome_name(row->out),
			         smtprobe_refusal_kind_name(row->kind));
		smtprobe_reply_free(r);
		lines++;
	}
	fclose(f);
	return lines;
}

static void test_real_refusals(void **state)
{
	const char *dir = getenv("SMTPROBE_DATA");
	static const char *const servers[] = {"exim", "opensmtpd", "sendmail"};

	(void)state;
	if (dir == NULL)
		fail_msg("SMTPROBE_DATA is not set (meson test sets it)");
	for (size_t i = 0; i < sizeof(servers) / sizeof(servers[0]); i++)
		assert_true(check_file(dir, servers[i]) > 0);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (!rows[i].used)
			fail_msg("%s: no collected refusal contains \"%s\"",
			         rows[i].server, rows[i].text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_real_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
