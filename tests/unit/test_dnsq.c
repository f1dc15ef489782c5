/* test_dnsq.c - the rdata decoders of lib/dns/rdata.c (dnsq.h): tables of
 * wire records, good and malformed, with the text each must give. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "smtprobe/dnsq.h"

#include "banned.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct wire {
	const char *rd; /* bytes, as a C string with escapes */
	int len;
	const char *want; /* NULL: must fail */
};

static const struct wire txts[] = {
        {"\x06v=spf1", 7, "v=spf1"},
        {"\x03"
         "abc\x03"
         "def",
         8, "abcdef"}, /* joined, no space */
        {"\x00", 1, ""},
        {"", 0, ""},
        {"\x05"
         "abc",
         4, NULL}, /* a string longer than the record */
};

static void test_txt(void **state)
{
	char out[64];
	(void)state;
	for (size_t i = 0; i < NELEM(txts); i++) {
		long n = smtprobe_dns_txt((const unsigned char *)txts[i].rd,
		                          txts[i].len, out, sizeof(out));
		if (txts[i].want == NULL) {
			assert_int_equal(n, -1);
			continue;
		}
		assert_int_equal(n, (long)strlen(txts[i].want));
		assert_string_equal(out, txts[i].want);
	}
	/* over the output buffer */
	assert_int_equal(smtprobe_dns_txt((const unsigned char *)"\x06v=spf1",
	                                  7, out, 6),
	                 -1);
}

static const struct wire names[] = {
        {"\x02mx\x04good\x04test\x00", 14, "mx.good.test"},
        {"\x00", 1, "."},
        {"\x02mx\x04good", 8, NULL}, /* no final label */
        {"\xc0\x0c", 2, NULL},       /* a compression pointer */
        {"\x03"
         "a.b\x00",
         5, "a?b"}, /* a dot inside a label */
        {"\x02"
         "a\x01\x00",
         4, "a?"}, /* a control byte */
};

static void test_name(void **state)
{
	char out[64];
	(void)state;
	for (size_t i = 0; i < NELEM(names); i++) {
		long end = smtprobe_dns_name((const unsigned char *)names[i].rd,
		                             names[i].len, 0, out, sizeof(out));
		if (names[i].want == NULL) {
			assert_int_equal(end, -1);
			continue;
		}
		assert_int_equal(end, names[i].len);
		assert_string_equal(out, names[i].want);
	}
}

static void test_mx_and_addr(void **state)
{
	char out[64];
	unsigned pref = 0;
	(void)state;

	assert_int_equal(smtprobe_dns_mx((const unsigned char *)"\x00\x0a\x02mx"
	                                                        "\x04good\x04"
	                                                        "test\x00",
	                                 16, &pref, out, sizeof(out)),
	                 0);
	assert_int_equal(pref, 10);
	assert_string_equal(out, "mx.good.test");
	/* null MX (RFC 7505): preference 0, the root */
	assert_int_equal(smtprobe_dns_mx((const unsigned char *)"\x00\x00\x00",
	                                 3, &pref, out, sizeof(out)),
	                 0);
	assert_int_equal(pref, 0);
	assert_string_equal(out, ".");
	/* trailing bytes after the exchange */
	assert_int_equal(smtprobe_dns_mx((const unsigned char *)"\x00\x01\x00z",
	                                 4, &pref, out, sizeof(out)),
	                 -1);
	assert_int_equal(smtprobe_dns_addr(SMTPROBE_RR_A,
	                                   (const unsigned char *)"\x7f\x00\x00"
	                                                          "\x02",
	                                   4, out, sizeof(out)),
	                 0);
	assert_string_equal(out, "127.0.0.2");
	assert_int_equal(smtprobe_dns_addr(SMTPROBE_RR_AAAA,
	                                   (const unsigned char *)"\x7f\x00", 2,
	                                   out, sizeof(out)),
	                 -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_txt),
	        cmocka_unit_test(test_name),
	        cmocka_unit_test(test_mx_and_addr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
