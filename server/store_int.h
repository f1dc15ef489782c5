/* store_int.h - what store.c shares with its two formats, maildir.c and
 * spool.c. Internal to server/. */
#ifndef SMTPROBE_SERVER_STORE_INT_H
#define SMTPROBE_SERVER_STORE_INT_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "store.h"
#include "store_index.h"

#define STORE_HOST_MAX 100   /* the sanitised host name in ids */
#define STORE_BUF_MAX  65536 /* message bytes held in memory at most */
#define STORE_DIR_MAX  4096  /* the store's path */
#define STORE_HDR_MAX  2048  /* Maildir: the prepended header block */

struct srv_msg {
	struct srv_store *st;
	struct srv_msg *next; /* in the store's pending list or batch */
	char id[STORE_ID_MAX];
	char *envelope; /* the JSON line, built by the commit */
	struct srv_envelope env;
	char **strings; /* owned copies of the envelope's strings */
	size_t nstrings;
	/* the message: the first bytes in buf, the rest (when it outgrew
	 * buf) in a file written as it arrives */
	char *buf;
	size_t len, cap;
	int fd;         /* the spill file, or -1 */
	size_t spilled; /* bytes already in it */
	size_t size;    /* bytes of the message as received */
	size_t prefix;  /* bytes of our own before them (Maildir headers) */
	uint32_t crc;   /* spool: the CRC-32 of the bytes as received */
	int err_no;     /* a write failed: the commit fails with it */
	char err[256];
	/* the commit */
	int rc; /* 0, or -errno */
	srv_msg_done_fn done;
	void *arg;
};

struct srv_store {
	uv_loop_t *loop;
	enum srv_store_format format;
	int durable;
	char dir[STORE_DIR_MAX];
	char host[STORE_HOST_MAX + 1];
	unsigned long counter; /* ids; only the loop thread bumps it */
	long pid;              /* for the ids: getpid() is a system call */
	int dirfd;
	/* maildir: DIR/tmp, DIR/new, DIR/envelopes.jsonl */
	int tmpfd, newfd, envfd;
	uint64_t env_end; /* envelopes.jsonl's size: a failed append is cut */
	/* spool: DIR/messages.spool */
	int spoolfd;
	uint64_t spool_end; /* where the next record goes */
	/* group commit: one batch in flight on the thread pool; messages
	 * completed meanwhile wait in pending and form the next one */
	struct srv_msg *pending, **pending_tail;
	struct srv_msg *batch;
	int in_flight;
	uv_work_t work;
	unsigned long nbatches, nmessages;
};

/* store.c */
void store_set_err(struct srv_msg *m, int e, const char *what, const char *sub,
                   const char *name);
int store_write_all(int fd, const char *p, size_t n);
/* The envelope as one JSON line (with its newline), with the message's
 * "crc32" for a spool record; NULL when out of memory. */
char *store_envelope_json(const struct srv_msg *m, int with_crc);
/* Read back DIR/name (an envelope index) at open: keep the lines that
 * parse and that keep() accepts, drop the rest (a torn last line, an
 * envelope whose message is missing), rewriting the file only when
 * something went; rec counts what went. A missing file is fine. */
int store_recover_index(struct srv_store *st, const char *name, int need_offset,
                        int (*keep)(void *ctx,
                                    const struct store_index_entry *),
                        void *ctx, struct srv_store_recovery *rec, char *err,
                        size_t errsz);
/* Make DIR and its missing parents (0700). */
int store_make_dirs(const char *path, int durable, char *err, size_t errsz);

/* maildir.c: DIR/tmp, DIR/new, DIR/cur, DIR/envelopes.jsonl */
int maildir_open(struct srv_store *st, struct srv_store_recovery *rec,
                 char *err, size_t errsz);
void maildir_close(struct srv_store *st);
/* The bytes a message starts with (Return-Path, Received). */
int maildir_begin(struct srv_store *st, struct srv_msg *m);
/* A file for a message that outgrew its buffer. */
int maildir_spill(struct srv_store *st, struct srv_msg *m);
/* Store a batch (the thread pool's side when durable): each message's rc
 * and err are set. */
void maildir_commit(struct srv_store *st, struct srv_msg *batch);

/* spool.c: DIR/messages.spool */
int spool_open(struct srv_store *st, struct srv_store_recovery *rec, char *err,
               size_t errsz);
void spool_close(struct srv_store *st);
int spool_spill(struct srv_store *st, struct srv_msg *m);
void spool_commit(struct srv_store *st, struct srv_msg *batch);

#endif
