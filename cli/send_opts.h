/* send_opts.h - the options of `smtprobe send`, parsed into a config. */
#ifndef SMTPROBE_SEND_OPTS_H
#define SMTPROBE_SEND_OPTS_H

#include <stddef.h>

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
	long port; /* -1 = from --server or 25 (465 with --tlsc) */
	const char *helo;
	enum smtprobe_tls_mode tls;
	int tls_verify;
	const char *tls_ca;
	const char *tls_sni;
	const char *tls_verify_host;
	const char *tls_protocol;
	const char *tls_cipher;
	const char *tls_cert;
	const char *tls_key;
	int auth;
	const char *auth_mech;
	const char *auth_user;
	const char *auth_password;
	int auth_plaintext;
	const char *quit_after;
	long timeout_ms;
	long session_timeout_ms;
	int family;
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
	int show_secrets;
	int json;
	int help;
};

/* Parse argv into cfg; 0, or -1 with a message in err. */
int send_opts_parse(struct send_cfg *cfg, int argc, char **argv, char *err,
                    size_t errsz);
void send_opts_release(struct send_cfg *cfg);
void send_opts_help(void *stream);

#endif
