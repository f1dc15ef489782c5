/* maildir.h - storing accepted messages without loss.
 *
 * Each message is written to DIR/tmp/, fsync'd, then renamed to DIR/new/
 * and the directory fsync'd, before the caller sends its 250: a message
 * that got a 250 survives a crash or kill -9. Its envelope (client, HELO,
 * AUTH user, MAIL FROM, RCPT TO, TLS facts) is stored the same way as JSON
 * in DIR/envelopes/ID.json, written before the message. Thread-safe:
 * called from libuv's thread pool. */
#ifndef SMTPROBE_SERVER_MAILDIR_H
#define SMTPROBE_SERVER_MAILDIR_H

#include <stddef.h>
#include <time.h>

#include "store.h"

struct srv_maildir;

/* Create (when needed) DIR, DIR/tmp, DIR/new, DIR/cur, DIR/envelopes.
 * durable = 0 skips every fsync (benchmarks only). */
int srv_maildir_open(struct srv_maildir **out, const char *dir, int durable,
                     char *err, size_t errsz);
/* Store one message (as received, dot-unstuffed, CRLF line ends); a
 * Return-Path and a Received header are prepended. Writes the Maildir
 * unique name to id. 0 or -1 with a reason in err. */
int srv_maildir_store(struct srv_maildir *m, const struct srv_envelope *env,
                      const char *msg, size_t len, char *id, size_t idsz,
                      char *err, size_t errsz);
void srv_maildir_close(struct srv_maildir *m);

#endif
