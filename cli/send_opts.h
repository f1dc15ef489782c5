/* send_opts.h - the options of `smtprobe send`, parsed into a config. */
#ifndef SMTPROBE_SEND_OPTS_H
#define SMTPROBE_SEND_OPTS_H

#include <stddef.h>

#include "common.h"
#include "smtprobe/session.h"

#define SEND_MAX_LIST 64

struct send_cfg {
	const char *to[SEND_MAX_LIST];
	size_t nto;
	char *to_owned[SEND_MAX_LIST]; /* split comma lists */
	size_t nto_owned;
	const char *from;
	const char *mail_params;
	const char *rcpt_params;
	const char *server;
	const char *resolver;     /* MX routing: where to ask */
	const char *copy_routing; /* route as mail for this domain */
	long port; /* -1 = from --server or 25 (465 with --tlsc) */
	const char *helo;
	enum smtprobe_tls_mode tls;
	struct cli_common common; /* TLS peer, AUTH, timeouts, -4/-6, --json */
	const char *quit_after;
	const char *local_interface;
	enum smtprobe_protocol protocol;
	int pipeline;
	const char *headers[SEND_MAX_LIST];
	size_t nheaders;
	const char *body;
	const char *data;
	const char *attach[SEND_MAX_LIST];
	size_t nattach;
	int suppress_data;
	int silent;
	int show_time;
	int verbose;
	int show_secrets;
	int help;
};

/* Parse argv into cfg; 0, or -1 with a message in err. */
int send_opts_parse(struct send_cfg *cfg, int argc, char **argv, char *err,
                    size_t errsz);
void send_opts_release(struct send_cfg *cfg);
void send_opts_help(void *stream);

#endif
