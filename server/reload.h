/* reload.h - the listeners' policies of `smtprobe serve`: loaded at start,
 * reloaded on SIGHUP off the event loop and swapped all at once. */
#ifndef SMTPROBE_SERVER_RELOAD_H
#define SMTPROBE_SERVER_RELOAD_H

#include <stddef.h>

struct server;
struct srv_listener;
struct srv_reload;

struct srv_reload *srv_reload_new(struct server *srv);
/* Frees every policy ever loaded: call once the loop has ended. */
void srv_reload_free(struct srv_reload *r);

/* At start, on the loop's thread: l's policy from l->policy_src (with the
 * server's --hostname). Returns 0 or -1 with the loader's message. */
int srv_reload_initial(struct srv_reload *r, struct srv_listener *l, char *err,
                       size_t errsz);

/* SIGHUP: parse every listener's policy on libuv's thread pool, then
 * swap them all on the loop, or none when one fails ("reload-failed").
 * A request while one is in flight queues one more (requests coalesce);
 * none starts once the server is stopping. */
void srv_reload_request(struct srv_reload *r);

#endif
