/* session_int.h - the session object, shared by session.c (transport,
 * deadlines, failures), session_flow.c (the stages) and session_auth.c
 * (AUTH). Internal to lib/smtp. */
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

	/* the connection the session talks on (c: conns[0], or conns[1] when
	 * TLSMODE_AUTO's implicit-TLS attempt won the race) */
	struct conn conns[2];
	struct conn *c;
	int conn_live; /* c is open */
	int race_live; /* TLSMODE_AUTO: the TLS attempt on conns[1] */
	/* the deadline of the current wait: the connect, the TLS handshake or
	 * one reply (re-armed for every command sent and every reply that
	 * leaves another due) */
	uv_timer_t wait_timer;
	uv_timer_t session_timer;
	int handles; /* libuv handles not yet closed */

	enum smtprobe_stage stage;
	int expecting; /* replies awaited (pipelining may await several) */
	int skip;      /* replies to discard (after a pipelined failure) */
	uint64_t t0, t_cmd, t_connect;
	int in_tls;
	int got_banner;
	int in_data; /* after 354, before the message went out */
	int pipelined;
	int helo_fallback;
	int starttls_refused; /* STARTTLS answered with something else */
	int auto_decided;     /* TLSMODE_AUTO: the server spoke, or TLS began */
	struct addrinfo *ai_cur;       /* the address being tried */
	struct sockaddr_storage local; /* bind address of ai_cur's family */
	socklen_t local_len;
	uint64_t t_race;  /* TLSMODE_AUTO: when the TLS attempt started */
	size_t rcpt_done; /* RCPT replies handled */
	size_t accepted;
	size_t lmtp_done;  /* LMTP per-recipient replies after the dot */
	size_t probe_done; /* probe_cmds sent */
	int probing;       /* the AUTH stage is running probe_cmds */
	struct smtprobe_sasl *sasl;
	unsigned auth_mech;
	int auth_cancelled; /* "*" sent: the next AUTH reply ends the session */
	int finishing;      /* QUIT sent or closing */
	int raw_tls;        /* a raw hello was sent: collecting the answer */
	int finished;       /* done called */
	char peer[80];      /* "127.0.0.1:25" for messages */

	/* the last connection attempt's failure, reported when no address
	 * is left to try */
	enum smtprobe_failure_kind attempt_kind;
	int attempt_errno;
	char attempt_msg[SMTPROBE_MAX_ERROR];
};

/* What a failure knows besides its kind (all optional). */
struct fail_facts {
	int err; /* errno */
	const struct smtprobe_reply *reply;
	enum smtprobe_protocol_error protocol;
	enum smtprobe_resolve_error resolve;
	const struct smtprobe_tls_failure *tls;
	long x509;
	const char *detail;
};

static inline double ms_since(uint64_t t)
{
	return (double)(uv_hrtime() - t) / 1e6;
}

/* session.c: start a session on loop, over fd when >= 0 (it is the
 * session's then, closed on failure too); 0 or -ENOMEM. */
int session_start(struct smtprobe_session **out, uv_loop_t *loop,
                  const struct smtprobe_params *p, struct smtprobe_result *res,
                  smtprobe_done_cb done, void *done_arg, int fd);

/* stage.c */
int session_stage_rank(enum smtprobe_stage st);

/* session.c: the one way to change stage (records the transition, tells
 * the event callback); the deadline of one wait; commands; failures */
void session_set_stage(struct smtprobe_session *s, enum smtprobe_stage st);
void session_arm(struct smtprobe_session *s);
/* Send one command line that nreplies replies will answer; `shown`
 * replaces it in the transcript and the result (secrets), NULL = the line.
 * Bytes that arrived before the command and answer nothing asked are an
 * unsolicited reply: the session fails instead of sending. */
void session_command(struct smtprobe_session *s, const char *line,
                     const char *shown, int nreplies);
/* 1 (and the session failed) when bytes no command asked for wait in the
 * input buffer; `before` says when ("before EHLO was sent"). */
int session_unsolicited(struct smtprobe_session *s, const char *before);
void session_quit(struct smtprobe_session *s);
/* Stop everything; `done` runs once the loop has released every handle. */
void session_finish(struct smtprobe_session *s);
/* End the session with a failure (the first one sticks): kind, the facts
 * known, QUIT first when polite, and a message for people. */
void session_fail_with(struct smtprobe_session *s,
                       enum smtprobe_failure_kind kind,
                       const struct fail_facts *facts, int polite,
                       const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));
/* Record a failure (the first one sticks) and go on; the session ends
 * later by itself. */
void session_record_failure(struct smtprobe_session *s,
                            enum smtprobe_failure_kind kind,
                            const struct fail_facts *facts, const char *fmt,
                            ...) __attribute__((format(printf, 4, 5)));
#define session_fail(s, kind, polite, ...)                                     \
	session_fail_with((s), (kind), NULL, (polite), __VA_ARGS__)
/* A refusing reply: kind with the reply as evidence, "what: 554 5.7.1 text". */
void session_fail_reply(struct smtprobe_session *s,
                        enum smtprobe_failure_kind kind,
                        const struct smtprobe_reply *r, const char *what);
void session_after_auth(struct smtprobe_session *s);
void session_event(struct smtprobe_session *s, enum smtprobe_event_kind kind,
                   const char *text);
void session_eventf(struct smtprobe_session *s, enum smtprobe_event_kind kind,
                    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* TLS as the session actually speaks it: TLSMODE_AUTO becomes OPTIONAL
 * (STARTTLS when offered) once the server spoke in clear. */
enum smtprobe_tls_mode session_tls_mode(const struct smtprobe_session *s);

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
