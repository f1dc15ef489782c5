/* session_int.h - the session object, shared by session.c (stages and
 * transport) and session_auth.c (AUTH). Internal. */
#ifndef SMTPROBE_SESSION_INT_H
#define SMTPROBE_SESSION_INT_H

#include <netdb.h>
#include <uv.h>

#include "conn.h"
#include "smtprobe/sasl.h"
#include "smtprobe/session.h"

struct smtprobe_session {
	uv_loop_t *loop;
	const struct smtprobe_params *p;
	struct smtprobe_result *res;
	smtprobe_done_cb done;
	void *done_arg;

	uv_getaddrinfo_t gai;
	struct addrinfo *ai;      /* resolver answer */
	struct addrinfo *ai_next; /* next address to try */
	int adopt_fd;             /* socket given by the caller, or -1 */

	struct conn conn;
	int conn_live;
	uv_timer_t stage_timer;
	uv_timer_t session_timer;
	int handles; /* libuv handles not yet closed */

	enum smtprobe_stage stage;
	int expecting; /* replies awaited (pipelining may await several) */
	int skip;      /* replies to discard (after a pipelined failure) */
	uint64_t t0, t_cmd;
	int in_tls;
	int got_banner;
	int in_data; /* after 354, before the message went out */
	int pipelined;
	int helo_fallback;
	size_t rcpt_done; /* RCPT replies handled */
	size_t accepted;
	size_t lmtp_done;  /* LMTP per-recipient replies after the dot */
	size_t probe_done; /* probe_cmds sent */
	int probing;       /* the AUTH stage is running probe_cmds */
	struct smtprobe_sasl *sasl;
	unsigned auth_mech;
	int finishing; /* QUIT sent or closing */
	int finished;  /* done called */
	char peer[80]; /* "127.0.0.1:25" for messages */
};

static inline double ms_since(uint64_t t)
{
	return (double)(uv_hrtime() - t) / 1e6;
}

/* session.c: stage facts, events, ending, sending */
int session_stage_rank(enum smtprobe_stage st);
int session_stage_exit(enum smtprobe_stage st);
const char *session_stage_phrase(enum smtprobe_stage st);
void session_eventf(struct smtprobe_session *s, enum smtprobe_event_kind kind,
                    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void session_set_stage(struct smtprobe_session *s, enum smtprobe_stage st);
void session_quit(struct smtprobe_session *s);
/* Stop everything; `done` runs once the loop has released every handle. */
void session_finish(struct smtprobe_session *s);
void session_send(struct smtprobe_session *s, const char *line,
                  const char *shown);
void session_fail(struct smtprobe_session *s, int exit_code, int polite,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void session_after_auth(struct smtprobe_session *s);
void session_event(struct smtprobe_session *s, enum smtprobe_event_kind kind,
                   const char *text);

/* session_flow.c */
int flow_quit_before(struct smtprobe_session *s, enum smtprobe_stage next);
void flow_start_tls(struct smtprobe_session *s);
void flow_start_banner(struct smtprobe_session *s);
void flow_start_greeting(struct smtprobe_session *s, enum smtprobe_stage st);
void flow_on_reply(struct smtprobe_session *s, struct smtprobe_reply *r);

/* session_auth.c */
void auth_begin(struct smtprobe_session *s);
void auth_on_reply(struct smtprobe_session *s, struct smtprobe_reply *r);
void auth_release(struct smtprobe_session *s);

#endif
