/* cli.h - shared pieces of the smtprobe command line. */
#ifndef SMTPROBE_CLI_H
#define SMTPROBE_CLI_H

#include <stdio.h>

#include "common.h"
#include "smtprobe/session.h"

#define SMTPROBE_VERSION "0.1.0"

int cmd_send(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_relay(int argc, char **argv);
int cmd_tls(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_dns(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_exporter(int argc, char **argv);

/* Transcript printer (an smtprobe_event_cb); arg is a struct text_out. */
struct text_out {
	FILE *f;
	int colour;
	int show_time;
	int show_stages; /* -v: every stage change as a "  ~ " line */
};
void text_out_init(struct text_out *t, FILE *f, int show_time);
void text_event(const struct smtprobe_event *ev, void *arg);

#endif
