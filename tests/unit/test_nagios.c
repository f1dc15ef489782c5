/* test_nagios.c - the Nagios threshold range syntax (lib/report/nagios.c):
 * a table of ranges, each with values that must and must not alert, and
 * strings that are not ranges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "smtprobe/nagios.h"

#include "banned.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct rcase {
	const char *range;
	double alert[4]; /* values that alert */
	size_t nalert;
	double quiet[4]; /* values that do not */
	size_t nquiet;
};

static const struct rcase cases[] = {
        /* the guidelines' own table */
        {"10", {-1, 10.5, 11, 1e9}, 4, {0, 5, 10}, 3},
        {"10:", {9.99, 0, -5}, 3, {10, 11, 1e9}, 3},
        {"~:10", {10.01, 11}, 2, {-1e9, 0, 10}, 3},
        {"10:20", {9, 21}, 2, {10, 15, 20}, 3},
        {"@10:20", {10, 15, 20}, 3, {9.9, 20.1}, 2},
        /* decimals, negatives, an open start with "@" */
        {"0.5", {0.6, -0.1}, 2, {0, 0.5}, 2},
        {"-5:-1", {0, -6}, 2, {-5, -3, -1}, 3},
        {"@~:0", {-3, 0}, 2, {0.001}, 1},
        {":10", {11}, 1, {0, 10}, 2}, /* empty start: 0 */
};

static void test_ranges(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct smtprobe_nagios_range r;
		const struct rcase *c = &cases[i];
		if (smtprobe_nagios_range_parse(c->range, &r) != 0)
			fail_msg("'%s' should parse", c->range);
		for (size_t k = 0; k < c->nalert; k++)
			if (!smtprobe_nagios_range_alert(&r, c->alert[k]))
				fail_msg("'%s': %g should alert", c->range,
				         c->alert[k]);
		for (size_t k = 0; k < c->nquiet; k++)
			if (smtprobe_nagios_range_alert(&r, c->quiet[k]))
				fail_msg("'%s': %g should not alert", c->range,
				         c->quiet[k]);
	}
}

static void test_not_ranges(void **state)
{
	static const char *const bad[] = {
	        "",    "@",    "abc", "10:5",  "1:2:3", "10s", " 10", "inf",
	        "nan", "0x10", "~",   "1e999", "10:x",  "--1", "@@1"};
	(void)state;
	for (size_t i = 0; i < NELEM(bad); i++) {
		struct smtprobe_nagios_range r = {1, 2, 0, 0, 0};
		if (smtprobe_nagios_range_parse(bad[i], &r) == 0)
			fail_msg("'%s' should not parse", bad[i]);
		assert_true(r.start == 1 && r.end == 2); /* untouched */
	}
	assert_int_equal(smtprobe_nagios_range_parse(NULL, NULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_ranges),
	        cmocka_unit_test(test_not_ranges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
