/* fuzz_logs_dovecot.c - libFuzzer target for dovecot's log lines
 * (lib/logs/dovecot.c) through the dispatcher and the summary: each input
 * line after a dovecot line's start (fuzz_logs.h). */
#define PREFIX "Dec 07 05:21:00 auth: Info: "
#include "fuzz_logs.h"
