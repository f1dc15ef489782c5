/* dovecot.c - dovecot's log lines (logs_int.h). STUB: to be written. */
#include "logs_int.h"

#include "banned.h"

enum smtprobe_log_format logs_dovecot(struct smtprobe_log_input *in,
                                      const struct logs_line *l,
                                      struct smtprobe_log_event *ev)
{
	(void)in;
	(void)l;
	(void)ev;
	return SMTPROBE_LF_UNKNOWN;
}
