/* fuzz_logs_postfix.c - libFuzzer target for postfix's log lines
 * (lib/logs/postfix.c) through the dispatcher and the summary: each input
 * line after a postfix line's start (fuzz_logs.h). */
#define PREFIX "Dec  7 05:20:59 mx postfix/mx/smtpd[30672]: "
#include "fuzz_logs.h"
