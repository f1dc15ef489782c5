/* store.h - where `smtprobe serve` keeps accepted messages: a Maildir
 * (--maildir DIR) or an append-only spool (--spool DIR), durable or not.
 *
 * A message is streamed into the store as it arrives (srv_msg_write keeps
 * at most a bounded buffer in memory) and committed at its end; the commit
 * reports on the loop, through its callback, once the message is durable
 * (group commit: the messages completed in one turn of the loop share one
 * round of syncs), so the caller's 250 promises a message that survives a
 * crash. Without durability the callback runs at once. */
#ifndef SMTPROBE_SERVER_STORE_H
#define SMTPROBE_SERVER_STORE_H

#include <stddef.h>
#include <time.h>
#include <uv.h>

enum srv_store_format {
	SRV_STORE_MAILDIR, /* DIR/new/ID, envelopes in DIR/envelopes.jsonl */
	SRV_STORE_SPOOL,   /* DIR/messages.spool: envelope line + message */
};

struct srv_envelope {
	const char *listener; /* "127.0.0.1:2525/starttls" */
	const char *client;   /* "127.0.0.1:40112" */
	const char *helo;
	const char *auth_user; /* NULL when none */
	const char *mail_from; /* without brackets, "" = null sender */
	const char *const *rcpt;
	size_t nrcpt;
	const char *tls_protocol; /* NULL when in clear */
	const char *tls_cipher;
	time_t received;
	int smtputf8;     /* MAIL ... SMTPUTF8 (RFC 6531) */
	const char *body; /* MAIL's BODY=, NULL when not given */
	/* DSN (RFC 3461), NULL when not given: RET=, ENVID= (as sent), and
	 * per recipient NOTIFY= ("SUCCESS,FAILURE") and ORCPT= */
	const char *dsn_ret;
	const char *dsn_envid;
	const char *const *rcpt_notify; /* nrcpt entries (NULL: none) */
	const char *const *rcpt_orcpt;  /* nrcpt entries (NULL: none) */
};

/* What opening found and cleaned up after an earlier run that died. */
struct srv_store_recovery {
	unsigned long removed; /* partial messages and orphan envelopes */
	unsigned long bytes;   /* their size */
};

struct srv_store;
struct srv_msg;

/* Open (creating what is missing) and recover. durable = 0 skips every
 * sync (benchmarks only). 0, or -1 with a reason in err. */
int srv_store_open(struct srv_store **out, uv_loop_t *loop,
                   enum srv_store_format format, const char *dir, int durable,
                   struct srv_store_recovery *rec, char *err, size_t errsz);
/* Closes; the caller has run its loop to the end (no commit in flight). */
void srv_store_close(struct srv_store *st);
/* Messages committed so far and the batches (rounds of writes and syncs)
 * they took: with group commit, fewer batches than messages. */
void srv_store_stats(const struct srv_store *st, unsigned long *batches,
                     unsigned long *messages);
const char *srv_store_format_name(enum srv_store_format f);

/* Begin a message; the envelope is copied. NULL with a reason in err. */
struct srv_msg *srv_msg_begin(struct srv_store *st,
                              const struct srv_envelope *env, char *err,
                              size_t errsz);
/* Message bytes as received (dot-unstuffed, CRLF line ends). 0, or -1
 * with the reason kept for the commit (disk full: the commit fails). */
int srv_msg_write(struct srv_msg *m, const char *data, size_t len);
/* Bytes written so far. */
size_t srv_msg_size(const struct srv_msg *m);

/* rc 0: stored under id; -1: not stored, err says why. */
typedef void (*srv_msg_done_fn)(void *arg, int rc, const char *id,
                                const char *err);
/* End the message: done runs on the loop once it is durable (or failed);
 * m is freed by then. */
void srv_msg_commit(struct srv_msg *m, srv_msg_done_fn done, void *arg);
/* Drop a message that will not be stored (refused, session gone). */
void srv_msg_abort(struct srv_msg *m);

#endif
