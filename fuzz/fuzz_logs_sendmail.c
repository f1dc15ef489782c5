/* fuzz_logs_sendmail.c - libFuzzer target for sendmail's log lines
 * (lib/logs/sendmail.c) through the dispatcher and the summary: each input
 * line after a sendmail line's start (fuzz_logs.h). */
#define PREFIX "Dec  7 05:22:37 mx sendmail[2340]: "
#include "fuzz_logs.h"
