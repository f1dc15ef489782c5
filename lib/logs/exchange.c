/* exchange.c - Exchange's CSV logs (logs_int.h). STUB: to be written. */
#include "logs_int.h"

#include "banned.h"

enum smtprobe_log_format logs_exchange(struct smtprobe_log_input *in,
                                       const char *line, size_t len,
                                       struct smtprobe_log_event *ev)
{
	(void)in;
	(void)line;
	(void)len;
	(void)ev;
	return SMTPROBE_LF_UNKNOWN;
}
