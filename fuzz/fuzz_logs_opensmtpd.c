/* fuzz_logs_opensmtpd.c - libFuzzer target for opensmtpd's log lines
 * (lib/logs/opensmtpd.c) through the dispatcher and the summary: each input
 * line after a opensmtpd line's start (fuzz_logs.h). */
#define PREFIX ""
#include "fuzz_logs.h"
