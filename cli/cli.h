/* cli.h - shared pieces of the smtprobe command line. */
#ifndef SMTPROBE_CLI_H
#define SMTPROBE_CLI_H

#include <stdio.h>

#include "smtprobe/session.h"

#define SMTPROBE_VERSION "0.1.0"

int cmd_send(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_relay(int argc, char **argv);

/* send.c helpers shared with check: HOST[:PORT] / [V6]:PORT (port -2 when
 * bad), and a no-echo password prompt on the terminal (malloc'd). */
int split_server(const char *spec, char *host, size_t hostsz, long *port);
char *prompt_password(void);
/* --tls-ca-path: a CA file or a directory of them (-1 and err when it
 * does not exist). */
int cli_tls_ca(const char *ca, struct smtprobe_tls_opts *o, char *err,
               size_t errsz);
/* The AUTH password: the option's, else env SMTPROBE_PASSWORD, else a
 * prompt on a terminal (then *prompted is the malloc'd copy to wipe). */
const char *cli_password(const char *given, char **prompted);
/* Wipe and free a secret the CLI holds (NULL: nothing). */
void cli_forget(char *secret);
/* The HOST[:PORT] argument of check and relay (port -1 when none); -1
 * after an error line. */
int cli_target(const char *cmd, const char *target, char *host, size_t hostsz,
               long *port);
/* --auth-user/--auth-password/--auth [MECH] of check and relay into q
 * (user, password, mechanism; not q->auth). -1 after an error line. */
int cli_auth_setup(struct smtprobe_params *q, const char *mech,
                   const char *user, const char *password, char **prompted);

/* Transcript printer (an smtprobe_event_cb); arg is a struct text_out. */
struct text_out {
	FILE *f;
	int colour;
	int show_time;
};
void text_out_init(struct text_out *t, FILE *f, int show_time);
void text_event(const struct smtprobe_event *ev, void *arg);

/* One error line on stderr: "smtprobe: ..." */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
