/* result_int.h - building a struct smtprobe_result (internal). */
#ifndef SMTPROBE_RESULT_INT_H
#define SMTPROBE_RESULT_INT_H

#include "smtprobe/session.h"

/* 0, or -1 when out of memory (then r holds nothing to release). */
int result_init(struct smtprobe_result *r, const struct smtprobe_params *p);
/* Record a command (NULL for the banner / TLS / connect); awaiting says
 * whether a reply belongs to it. The command is copied. */
struct smtprobe_exchange *result_add_exchange(struct smtprobe_result *r,
                                              enum smtprobe_stage st,
                                              const char *command,
                                              int awaiting);
/* Give a reply to the first exchange still waiting for one (replies come
 * in command order, pipelined or not); takes ownership of rep. */
void result_attach_reply(struct smtprobe_result *r, enum smtprobe_stage st,
                         struct smtprobe_reply *rep);

/* Forget the last exchange when it is of stage st and still waits for its
 * reply (a banner that will come inside TLS instead). */
void result_drop_waiting(struct smtprobe_result *r, enum smtprobe_stage st);
/* Record a stage change (at most SMTPROBE_MAX_TRANSITIONS; the rest are
 * counted in transitions_dropped). */
void result_add_transition(struct smtprobe_result *r, enum smtprobe_stage st,
                           double at_ms);
/* A session that could not even start: r is (re)initialised empty and
 * carries this failure. */
void result_fail_early(struct smtprobe_result *r,
                       const struct smtprobe_params *p,
                       enum smtprobe_failure_kind kind, const char *msg);

#endif
