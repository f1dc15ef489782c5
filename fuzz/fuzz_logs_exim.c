/* fuzz_logs_exim.c - libFuzzer target for exim's log lines
 * (lib/logs/exim.c) through the dispatcher and the summary: each input
 * line after a exim line's start (fuzz_logs.h). */
#define PREFIX "2026-12-07 05:22:26 "
#include "fuzz_logs.h"
