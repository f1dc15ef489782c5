/* smtpd_int.h - the server session object, shared by smtpd.c (I/O and
 * lifecycle), smtpd_cmd.c (commands) and faults.c. Internal. */
#ifndef SMTPROBE_SMTPD_INT_H
#define SMTPROBE_SMTPD_INT_H

#include <stdint.h>
#include <time.h>
#include <uv.h>

#include "command.h"
#include "params.h"
#include "conn.h"
#include "policy.h"
#include "server.h"
#include "store.h"
#include "throttle.h"

#define SMTPD_MAX_RCPT   1000
#define SMTPD_MAX_DATA   (64u * 1024 * 1024) /* even without a policy limit */
#define SMTPD_MAX_ERRORS 20                  /* bad commands before 421 */
#define SMTPD_HELD_MAX   65536
/* A message line may be this long (Postfix takes long lines too and
 * splits them); a longer one gets 554 5.6.0 at the end of the message. */
#define SMTPD_MAX_DATA_LINE (1024u * 1024)

enum smtpd_state { SMTPD_CMD, SMTPD_AUTH, SMTPD_DATA };

/* What a session waits for, which decides the deadlines that apply. */
enum smtpd_wait {
	SMTPD_WAIT_COMMAND, /* a command line (or an AUTH continuation) */
	SMTPD_WAIT_TLS,     /* a TLS handshake (implicit TLS or STARTTLS) */
	SMTPD_WAIT_DATA,    /* the message after 354 */
	SMTPD_WAIT_FLUSH,   /* closing: the last replies going out */
	SMTPD_WAIT_LAST
};

/* The deadlines; on a tie the first in this order wins. */
enum smtpd_deadline {
	SMTPD_DL_FLUSH,      /* closing takes at most SMTPD_FLUSH_MS */
	SMTPD_DL_TLS,        /* tls_timeout_ms from the handshake's start */
	SMTPD_DL_SESSION,    /* session_max_ms from the connection */
	SMTPD_DL_COMMAND,    /* timeout_ms from the last complete command */
	SMTPD_DL_DATA_IDLE,  /* data_timeout_ms from the last message byte */
	SMTPD_DL_DATA_TOTAL, /* data_max_ms from the 354 */
	SMTPD_DL_DATA_RATE,  /* below data_min_rate bytes/s since the 354 */
	SMTPD_DL_LAST
};

/* The moments the deadlines count from (loop time, ms). */
struct smtpd_clock {
	enum smtpd_wait wait;
	uint64_t start;      /* the connection was accepted */
	uint64_t command;    /* the last complete command, or the server
	                        became ready for the next one */
	uint64_t tls;        /* the TLS handshake began */
	uint64_t data;       /* the 354 */
	uint64_t data_last;  /* the last bytes of the message */
	uint64_t data_bytes; /* bytes of the message so far, as sent */
	uint64_t closing;    /* the close began */
};

/* The earliest deadline of a session in state c (pure): its time, and in
 * *which the deadline it is. Options at 0 take their defaults. */
uint64_t smtpd_deadline(const struct smtpd_clock *c,
                        const struct srv_options *o,
                        enum smtpd_deadline *which);
/* The deadline's name, as logged ("tls-timeout", "timeout", ...). */
const char *smtpd_deadline_name(enum smtpd_deadline d);

struct smtpd {
	struct smtpd *next;
	struct server *srv;
	struct srv_listener *l;
	const struct srv_policy *policy; /* the listener's, at connect time */
	struct conn conn;
	uv_timer_t timer; /* the earliest deadline (smtpd_deadline) */
	uv_timer_t delay; /* delayed replies (faults, AUTH failures) */
	uv_work_t work;   /* storing a message */
	int handles;

	enum smtpd_state state;
	int greeted;
	int busy;        /* storing or delaying: do not read commands */
	int tls_pending; /* STARTTLS answered; TLS starts once it is sent */
	int closing, closed;
	const char *close_reason;
	struct srv_peer peer; /* counted among its address's connections */
	struct smtpd_clock clk;
	uint64_t armed; /* when the timer fires (loop time, ms) */

	char ip[64];
	char client[96];
	struct srv_client cl;
	char helo[SRV_MAX_NAME];
	char auth_user[SRV_MAX_NAME];
	char tls_protocol[16], tls_cipher[64];

	/* the transaction */
	int has_mail;
	char mail_from[SRV_MAX_NAME];
	char *rcpt[SMTPD_MAX_RCPT];
	size_t nrcpt;
	struct srv_msg *msg; /* the message going into the store, or NULL */
	size_t data_len;     /* its bytes so far (also without a store) */
	int data_too_big;
	int data_failed;       /* the store could not take a write */
	size_t data_line_len;  /* bytes of the current message line so far */
	int data_mid_line;     /* inside a line (a '.' there is text) */
	int data_line_too_big; /* a line longer than SMTPD_MAX_DATA_LINE */
	time_t data_started;
	struct srv_mail_params mailp;         /* MAIL's parameters */
	unsigned rcpt_notify[SMTPD_MAX_RCPT]; /* RCPT's DSN NOTIFY bits */
	char *rcpt_orcpt[SMTPD_MAX_RCPT];     /* and ORCPT, or NULL */
	/* BDAT (RFC 3030): the message comes in chunks */
	int bdat;             /* this transaction's message does */
	int bdat_reading;     /* a chunk's bytes are being read */
	uint64_t bdat_left;   /* bytes of the chunk still to read */
	uint64_t bdat_size;   /* the chunk's size */
	int bdat_last;        /* it is the LAST */
	char bdat_reply[128]; /* a chunk read only to be refused: the reply */
	/* the extensions of the last EHLO/LHLO reply (HELO: none) */
	struct srv_offer offer;

	/* AUTH */
	struct smtprobe_sasl_server *sasl;
	unsigned auth_mech;
	unsigned auth_failures;

	/* counters */
	unsigned ncommands, errors;
	unsigned counts[SRV_CMD_LAST];
	char ncmd_text[256];

	/* replies held back by a delay */
	int held;
	char *heldbuf;
	size_t heldlen;

	/* faults */
	int reset_in_data;
	int bad_starttls; /* fault: garbage answers the ClientHello */
	char *drip;
	size_t drip_len, drip_pos;
	unsigned long endless_n;

	/* storing: the commit in flight holds a reference */
	int storing;
	int committing; /* inside srv_msg_commit (its callback may run) */
};

/* smtpd.c */
void smtpd_reply(struct smtpd *s, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
/* Close now (no flush); the session is freed once its handles are. */
void smtpd_close(struct smtpd *s, const char *why);
/* Drop one reference (a handle or a pending store); the last frees. */
void smtpd_unref(struct smtpd *s);
/* Read and act on what is in the input buffer. */
void smtpd_process(struct smtpd *s);
/* Close once the replies queued have gone out (at most SMTPD_FLUSH_MS). */
void smtpd_close_after_flush(struct smtpd *s, const char *why);
void smtpd_reset_transaction(struct smtpd *s);
/* The server is ready for the client's next command: its deadline starts
 * now (a complete command, the end of a pause, TLS up, DATA begun). */
void smtpd_touch(struct smtpd *s);
/* Start TLS once the 220 to STARTTLS has gone out. */
void smtpd_begin_tls(struct smtpd *s);
/* Go on reading commands after a pause (a fault that held the session). */
void smtpd_resume(struct smtpd *s);
/* Hold every reply for ms, then send them and go on reading. */
void smtpd_delay(struct smtpd *s, unsigned ms);

/* smtpd_cmd.c */
void smtpd_command(struct smtpd *s, const char *line, size_t len);

/* smtpd_data.c */
/* Is this an LMTP session (a reply per recipient after the message)? */
int smtpd_lmtp(const struct smtpd *s);
/* BDAT SIZE [LAST] was read: read the chunk's bytes (state SMTPD_DATA),
 * into the message, or only to discard them when refusal is not NULL
 * (the reply to send once they are read). */
void smtpd_bdat_chunk(struct smtpd *s, uint64_t size, int last,
                      const char *refusal);
/* DATA was answered 354: the message begins. */
void smtpd_data_begin(struct smtpd *s);
/* Consume message bytes from the input buffer: 1 when something was done
 * (call again), 0 when more input is needed. */
int smtpd_data_input(struct smtpd *s);
/* Free the message's resources (the session ends). */
void smtpd_data_release(struct smtpd *s);

#endif
