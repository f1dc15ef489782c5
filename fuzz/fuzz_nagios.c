/* fuzz_nagios.c - libFuzzer target for the Nagios threshold range parser
 * (lib/report/nagios.c): any bytes (cut at the first NUL) are parsed;
 * a parsed range must be ordered and its alert must be the same for a
 * value and the value seen again, and "@" must invert it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtprobe/nagios.h"

#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                               \
	do {                                                                   \
		if (!(x))                                                      \
			abort();                                               \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[256];
	struct smtprobe_nagios_range r;

	if (size >= sizeof(buf))
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	if (smtprobe_nagios_range_parse(buf, &r) != 0)
		return 0;
	CHECK(r.start_inf || r.end_inf || r.start <= r.end);
	static const double probes[] = {-1e12, -1, 0, 0.5, 1, 10, 1e12};
	struct smtprobe_nagios_range flipped = r;
	flipped.inside = !r.inside;
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		int a = smtprobe_nagios_range_alert(&r, probes[i]);
		CHECK(a == smtprobe_nagios_range_alert(&r, probes[i]));
		CHECK(a != smtprobe_nagios_range_alert(&flipped, probes[i]));
	}
	return 0;
}
