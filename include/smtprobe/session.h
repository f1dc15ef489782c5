/* session.h - one client SMTP/LMTP transaction on a libuv loop.
 *
 * The session resolves, connects, reads the banner, greets, does STARTTLS
 * or implicit TLS, AUTH, MAIL, RCPT (several), DATA and QUIT, with a
 * deadline for every wait (the connect, the handshake, each reply) and one
 * for the whole. It never prints or exits: transcript lines (and every
 * stage change) go to an event callback, and the outcome is a struct
 * smtprobe_result whose failure (failure.h) says, as values, why it ended
 * early. Many sessions at once: batch.h. */
#ifndef SMTPROBE_SESSION_H
#define SMTPROBE_SESSION_H

#include <stddef.h>

#include "ehlo.h"
#include "failure.h"
#include "message.h"
#include "reply.h"
#include "stage.h"
#include "tls.h"

struct uv_loop_s;

enum smtprobe_tls_mode {
	SMTPROBE_TLSMODE_OFF,
	SMTPROBE_TLSMODE_OPTIONAL, /* STARTTLS when offered */
	SMTPROBE_TLSMODE_REQUIRED, /* STARTTLS or fail */
	SMTPROBE_TLSMODE_IMPLICIT, /* TLS from the first byte */
	/* Find out: a server that speaks first (a banner) gets plain SMTP with
	 * STARTTLS when offered; one that stays silent for a moment after the
	 * connect (4 x the connect time, 5 ms to 1 s) gets a ClientHello
	 * (implicit TLS). If that server then answers in clear after all (a
	 * slow banner) or hangs up, the session reconnects once for plain
	 * SMTP. Used for ports whose number says nothing (not 25, 465, 587,
	 * 2525). */
	SMTPROBE_TLSMODE_AUTO,
};

enum smtprobe_protocol {
	SMTPROBE_PROTO_ESMTP, /* EHLO, HELO when EHLO is refused */
	SMTPROBE_PROTO_SMTP,  /* HELO only */
	SMTPROBE_PROTO_LMTP,  /* LHLO, one reply per recipient after the dot */
};

/* Transcript events, in swaks' vocabulary. */
enum smtprobe_event_kind {
	SMTPROBE_EV_INFO,     /* === */
	SMTPROBE_EV_ERROR,    /* *** */
	SMTPROBE_EV_SENT,     /*  -> or  ~> */
	SMTPROBE_EV_RECV,     /* <-  or <~  */
	SMTPROBE_EV_RECV_ERR, /* <** */
	SMTPROBE_EV_STAGE,    /* a stage change ("stage banner -> ehlo");
	                         renderers show it only when asked (-v) */
};

struct smtprobe_event {
	enum smtprobe_event_kind kind;
	int in_tls;
	const char *text; /* one line, escaped, secrets already redacted */
	double ms;        /* reply latency (RECV), else 0 */
	int is_data;      /* a line of the message itself */
};

typedef void (*smtprobe_event_cb)(const struct smtprobe_event *ev, void *arg);

struct smtprobe_params {
	const char *host; /* name or address literal */
	unsigned port;
	int family;             /* 0, 4 or 6 */
	const char *local_addr; /* bind address, optional */
	unsigned local_port;
	const char *helo;
	enum smtprobe_protocol protocol;

	enum smtprobe_tls_mode tls;
	int tls_verify; /* a verification failure is fatal (exit 29) */
	struct smtprobe_tls_opts tls_opts;

	int auth;           /* authenticate */
	unsigned auth_mech; /* one enum smtprobe_mech bit; 0 = strongest offered
	                     */
	const char *auth_user;
	const char *auth_password;
	const char *auth_authzid;
	int auth_plaintext; /* allow AUTH without TLS */
	/* Relay audits: raw command lines sent where AUTH would go (after the
	 * greeting and TLS), one reply awaited for each, recorded under the
	 * AUTH stage and not judged; then MAIL as usual. */
	const char *const *probe_cmds;
	size_t nprobe_cmds;

	const char *mail_from;   /* already formatted: "<a@b>" or "<>" */
	const char *mail_params; /* "BODY=8BITMIME SIZE=1000" or NULL */
	const char *rcpt_params; /* "NOTIFY=NEVER" or NULL, for every RCPT */
	const char *const *rcpt; /* formatted, nrcpt of them */
	size_t nrcpt;
	const char *message; /* not yet dot-stuffed */
	size_t message_len;

	int pipeline;
	enum smtprobe_stage quit_after; /* SMTPROBE_ST_LAST: the whole way */
	/* The longest wait for one reply (and for the connect and the TLS
	 * handshake), as swaks' --timeout; every command sent starts it anew.
	 * 0: the stage's default (stage.h). */
	unsigned stage_timeout_ms;
	unsigned session_timeout_ms; /* the whole session; 0: 300 s */
	/* TLS scans: where the TLS handshake would begin (after STARTTLS's
	 * 220, or at the connect with implicit TLS), send these bytes
	 * instead - a hand-built ClientHello - and keep what the server
	 * answers in the result (raw_tls) until raw_tls_whole says it is
	 * whole, the server closes, or SMTPROBE_MAX_RAW_TLS bytes came; the
	 * session then ends there, without QUIT and without a failure (a
	 * close or a reset is recorded in raw_tls_closed). The deadline is
	 * the reply deadline. NULL: a real handshake. */
	/* TLS scans: a command line sent in the same write as STARTTLS (the
	 * CVE-2011-0411 test: a server must discard it, not answer it once
	 * TLS is up); NULL: none. */
	const char *starttls_inject;
	/* keep the TLS session at the end in the result (tls_session) */
	int keep_tls_session;
	/* TLS scans: renegotiate right after the handshake (TLS <= 1.2);
	 * result.tls_renegotiated says whether it completed */
	int tls_renegotiate;
	const unsigned char *raw_tls_hello;
	size_t raw_tls_hello_len;
	int (*raw_tls_whole)(const unsigned char *buf, size_t len, void *arg);
	void *raw_tls_arg;
	int show_secrets;
	int suppress_data; /* no DATA lines in the transcript events */

	smtprobe_event_cb on_event;
	void *event_arg;
};

/* One exchange: the command sent (redacted) and the reply to it. */
struct smtprobe_exchange {
	enum smtprobe_stage stage;
	char *command; /* NULL when nothing was sent (banner, TLS) */
	struct smtprobe_reply *reply; /* NULL when none came */
	double ms;
	int ok;
};

struct smtprobe_rcpt_result {
	char *address;
	struct smtprobe_reply *reply;
	int accepted;
	struct smtprobe_reply
	        *delivery; /* LMTP: the per-recipient reply after the dot */
};

#define SMTPROBE_MAX_ERROR       512
#define SMTPROBE_MAX_TRANSITIONS 48
#define SMTPROBE_MAX_TLS_SESSION 8192
#define SMTPROBE_MAX_RAW_TLS     (80 * 1024)

/* A stage change, and when it happened (ms from the session's start). */
struct smtprobe_transition {
	enum smtprobe_stage stage;
	double at_ms;
};

struct smtprobe_result {
	int exit_code;
	enum smtprobe_stage stage; /* the last stage reached */
	/* why it failed, as values (kind NONE when it did not); the message
	 * below says the same for people */
	struct smtprobe_failure failure;
	char error[SMTPROBE_MAX_ERROR]; /* empty when none */
	char host[256];
	unsigned port;
	char address[64];     /* the address connected to */
	const char *greeting; /* "ehlo", "helo" or "lhlo" */

	struct smtprobe_exchange *ex;
	size_t nex;

	int have_ehlo;
	struct smtprobe_ehlo ehlo; /* the last greeting's capabilities */
	int have_ehlo_first;
	struct smtprobe_ehlo ehlo_first; /* before STARTTLS (what a client in
	                                    clear is offered) */

	double connect_ms; /* connect() to established, the last attempt */

	int have_tls;
	int implicit_tls; /* TLS started before the banner */
	struct smtprobe_tls_facts tls;
	double tls_ms; /* the handshake, ClientHello to Finished */
	/* raw_tls_hello sessions: what the server answered (malloc'ed, at
	 * most SMTPROBE_MAX_RAW_TLS bytes) and how the answer ended: 0 whole
	 * (raw_tls_whole) or the cap, 1 the server closed, 2 it reset */
	int have_raw_tls; /* the hello was sent */
	unsigned char *raw_tls;
	size_t raw_tls_len;
	int raw_tls_closed;
	/* the TLS session at the end (for tls_opts.session), malloc'ed, and
	 * what it holds: a ticket, the server's 0-RTT allowance */
	unsigned char *tls_session;
	size_t tls_session_len;
	int tls_ticket;
	unsigned long tls_max_early_data;
	int tls_renegotiated;
	int starttls_injection; /* plaintext bytes followed the 220 to STARTTLS
	                         */

	int auth_tried;
	char auth_mech[32];
	int auth_ok;
	int auth_server_verified;
	struct smtprobe_reply *auth_reply;

	struct smtprobe_rcpt_result *rcpt;
	size_t nrcpt;

	int data_tried;
	size_t message_size; /* bytes sent after DATA, dot-stuffed */
	struct smtprobe_reply *message_reply;

	double total_ms;

	/* every stage change, in order (the first ones when more happen) */
	struct smtprobe_transition transitions[SMTPROBE_MAX_TRANSITIONS];
	size_t ntransitions;
	size_t transitions_dropped;
};

void smtprobe_result_release(struct smtprobe_result *r);

struct smtprobe_session;
typedef void (*smtprobe_done_cb)(struct smtprobe_session *s, void *arg);

/* Start a session on loop; params (and what it points to) must stay valid
 * until done is called. res is filled as the session goes. */
int smtprobe_session_start(struct smtprobe_session **out,
                           struct uv_loop_s *loop,
                           const struct smtprobe_params *params,
                           struct smtprobe_result *res, smtprobe_done_cb done,
                           void *done_arg);
/* The same over an already connected socket (one end of a socketpair in
 * tests and fuzzing) instead of resolving and connecting; the session owns
 * fd from here on, also when this fails (-ENOMEM). */
int smtprobe_session_start_fd(struct smtprobe_session **out,
                              struct uv_loop_s *loop,
                              const struct smtprobe_params *params,
                              struct smtprobe_result *res,
                              smtprobe_done_cb done, void *done_arg, int fd);
/* Free a finished session (after done was called). */
void smtprobe_session_free(struct smtprobe_session *s);
/* End a running session now (its error says "cancelled"); done is still
 * called, once, when its handles are closed. No-op when it has finished. */
void smtprobe_session_cancel(struct smtprobe_session *s);

/* Run one session on a fresh loop to the end; returns res->exit_code. */
int smtprobe_send(const struct smtprobe_params *params,
                  struct smtprobe_result *res);

/* Session-level transport for tests and fuzzing: run over an already
 * connected socket fd (e.g. one end of a socketpair) instead of resolving
 * and connecting. The session takes ownership of fd. */
int smtprobe_send_fd(const struct smtprobe_params *params, int fd,
                     struct smtprobe_result *res);

/* The result as one JSON document (malloc'd string, caller frees). */
char *smtprobe_result_json(const struct smtprobe_result *r);

#endif
