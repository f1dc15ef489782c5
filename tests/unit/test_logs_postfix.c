/* test_logs_postfix.c - postfix's log lines (lib/logs/postfix.c): real lines
 * from tests/data/logs/, each with the event it must give. STUB. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "smtprobe/logs.h"

static void test_nothing_yet(void **state)
{
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_nothing_yet),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
