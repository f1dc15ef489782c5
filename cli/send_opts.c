/* send_opts.c - the option table of `smtprobe send` (swaks' spellings) and
 * its parsing into a struct send_cfg. Validation that needs no network
 * happens here, so mistakes are usage errors (exit 1) with a clear reason. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "opts.h"
#include "send_opts.h"
#include "smtprobe/ehlo.h"
#include "banned.h"

enum {
	O_TO = 1,
	O_FROM,
	O_MAIL_PARAMS,
	O_RCPT_PARAMS,
	O_SERVER,
	O_RESOLVER,
	O_COPY_ROUTING,
	O_PORT,
	O_HELO,
	O_TLS,
	O_TLS_OPTIONAL,
	O_TLSC,
	O_QUIT_AFTER,
	O_LOCAL_IF,
	O_PROTOCOL,
	O_PIPELINE,
	O_HEADER,
	O_BODY,
	O_DATA,
	O_ATTACH,
	O_SUPPRESS_DATA,
	O_SILENT,
	O_SHOW_TIME,
	O_VERBOSE,
	O_SHOW_SECRETS,
	O_HELP,
};

static const struct opt_def send_defs[] = {
        {O_TO, "t|to", OPT_REQ, "ADDR[,ADDR]", "recipient(s); repeatable"},
        {O_FROM, "f|from", OPT_REQ, "ADDR",
         "envelope sender (<> = null sender)"},
        {O_MAIL_PARAMS, "mail-params", OPT_REQ, "'P=V ...'",
         "parameters for MAIL FROM, e.g. 'BODY=8BITMIME SIZE=1000'"},
        {O_RCPT_PARAMS, "rcpt-params", OPT_REQ, "'P=V ...'",
         "parameters for every RCPT TO, e.g. 'NOTIFY=NEVER'"},
        {O_SERVER, "s|server", OPT_REQ, "HOST[:PORT]",
         "server (default: the first recipient domain's MX, by "
         "preference, the next when one cannot be reached; localhost "
         "for a recipient without a domain)"},
        {O_COPY_ROUTING, "copy-routing", OPT_REQ, "DOMAIN",
         "route as mail for DOMAIN would go (its MX) instead of the "
         "recipient's"},
        {O_RESOLVER, "resolver", OPT_REQ, "ADDR[:PORT]",
         "look the MX up there (default: the system's resolvers)"},
        {O_PORT, "p|port", OPT_REQ, "PORT",
         "port (default 25, 465 with --tlsc)"},
        {O_HELO, "helo|ehlo|lhlo|h", OPT_REQ, "NAME",
         "name to greet with (default: this host's name)"},
        {O_TLS, "tls", OPT_NONE, NULL,
         "require STARTTLS (exit 29 if unavailable)"},
        {O_TLS_OPTIONAL, "tls-optional|tlso", OPT_NONE, NULL,
         "use STARTTLS when offered"},
        {O_TLSC, "tls-on-connect|tlsc", OPT_NONE, NULL,
         "implicit TLS from the first byte (port 465)"},
        CLI_OPT_TLS_VERIFY("make certificate verification failures fatal "
                           "(exit 29)"),
        CLI_OPTS_TLS_PEER,
        CLI_OPT_AUTH("authenticate (default: the strongest mechanism "
                     "offered)"),
        CLI_OPTS_AUTH_CREDENTIALS,
        {O_QUIT_AFTER, "q|quit-after|quit", OPT_REQ, "STAGE",
         "connect banner ehlo tls auth mail rcpt data dot"},
        CLI_OPT_TIMEOUT("longest wait for one reply (and for the connect "
                        "and the TLS handshake; default 30s)"),
        CLI_OPT_SESSION_TIMEOUT("deadline for the whole session (default "
                                "300s)"),
        CLI_OPTS_FAMILY,
        {O_LOCAL_IF, "li|local-interface", OPT_REQ, "ADDR[:PORT]",
         "local address to connect from"},
        {O_PROTOCOL, "protocol", OPT_REQ, "PROTO",
         "SMTP (HELO), ESMTP (default) or LMTP"},
        {O_PIPELINE, "pipeline|pipe", OPT_NONE, NULL,
         "pipeline MAIL/RCPT/DATA if PIPELINING is offered"},
        {O_HEADER, "header|add-header|ah", OPT_REQ, "'NAME: VALUE'",
         "add or replace a header; repeatable"},
        {O_BODY, "body", OPT_REQ, "TEXT|@FILE|-",
         "message body: text (\\n = line break), a file, or stdin"},
        {O_DATA, "data|d", OPT_REQ, "@FILE|-|TEXT",
         "the whole message (headers and body), sent as it is"},
        {O_ATTACH, "attach", OPT_REQ, "[@]FILE|-",
         "attach a file (or stdin) as a MIME part; repeatable"},
        {O_SUPPRESS_DATA, "suppress-data|n", OPT_NONE, NULL,
         "do not show the message in the transcript"},
        {O_SILENT, "silent|S", OPT_NONE, NULL,
         "no transcript; errors still go to stderr"},
        {O_SHOW_TIME, "show-time|st", OPT_NONE, NULL,
         "show the latency of each reply"},
        {O_VERBOSE, "v|verbose", OPT_NONE, NULL,
         "also show every stage change (\"  ~ stage ehlo -> mail\")"},
        {O_SHOW_SECRETS, "show-secrets", OPT_NONE, NULL,
         "show AUTH payloads instead of <redacted>"},
        CLI_OPT_JSON("print one JSON document instead of the transcript"),
        {O_HELP, "help", OPT_NONE, NULL, "this help"},
        {0, NULL, OPT_NONE, NULL, NULL},
};

void send_opts_help(void *stream)
{
	FILE *f = stream;

	fprintf(f,
	        "usage: smtprobe send [OPTIONS]\n"
	        "\n"
	        "Run one SMTP (or LMTP) transaction and show it. Options use "
	        "swaks' spellings.\n\n");
	opts_help(send_defs, f);
	cli_common_help_password(f);
	fprintf(f, "\n--data and --body: @FILE reads a file or a pipe "
	           "(@<(cmd)), - "
	           "reads stdin,\n  other text is sent with \\n as line breaks "
	           "(@@TEXT for a text starting\n  with @). A bare path to an "
	           "existing file is read too (swaks' old rule);\n  one that "
	           "names no file is an error, never sent as the message.\n");
	fprintf(f,
	        "\nexit codes: 0 ok, 1 usage, 2 connect error, 6 connection "
	        "closed,\n"
	        "  21 banner, 22 EHLO/HELO, 23 MAIL, 24 no RCPT accepted, 25 "
	        "DATA,\n"
	        "  26 message refused after the dot, 27 QUIT, 28 AUTH, 29 "
	        "TLS.\n"
	        "  A timeout exits with the code of the stage it happened in.\n"
	        "\nexample:\n"
	        "  smtprobe send --to user@example.com --from "
	        "admin@example.org "
	        "\\\n    --server smtp.example.org --port 587 --auth LOGIN "
	        "--auth-user USER --tls\n");
}

static int add_list(const char **list, size_t *n, const char *v, char *err,
                    size_t errsz, const char *what)
{
	if (*n >= SEND_MAX_LIST) {
		snprintf(err, errsz, "too many %s (at most %d)", what,
		         SEND_MAX_LIST);
		return -1;
	}
	list[(*n)++] = v;
	return 0;
}

static int add_recipients(struct send_cfg *c, const char *v, char *err,
                          size_t errsz)
{
	const char *p = v;

	while (*p) {
		const char *q = strchr(p, ',');
		size_t n = q ? (size_t)(q - p) : strlen(p);
		if (n > 0) {
			if (c->nto_owned >= SEND_MAX_LIST) {
				snprintf(err, errsz, "too many recipients");
				return -1;
			}
			char *a = strndup(p, n);
			if (!a) {
				snprintf(err, errsz, "out of memory");
				return -1;
			}
			c->to_owned[c->nto_owned++] = a;
			if (add_list(c->to, &c->nto, a, err, errsz,
			             "recipients") < 0)
				return -1;
		}
		if (!q)
			break;
		p = q + 1;
	}
	return 0;
}

static int on_opt(void *ctx, int id, const char *v, char *err, size_t errsz)
{
	struct send_cfg *c = ctx;

	switch (id) {
	case 0:
		snprintf(err, errsz, "unexpected argument '%s'", v);
		return -1;
	case O_TO:
		return add_recipients(c, v, err, errsz);
	case O_FROM:
		c->from = v;
		break;
	case O_MAIL_PARAMS:
		c->mail_params = v;
		break;
	case O_RCPT_PARAMS:
		c->rcpt_params = v;
		break;
	case O_SERVER:
		c->server = v;
		break;
	case O_RESOLVER:
		c->resolver = v;
		break;
	case O_COPY_ROUTING:
		c->copy_routing = v;
		break;
	case O_PORT:
		c->port = opts_number(v, 1, 65535);
		if (c->port < 0) {
			snprintf(err, errsz, "bad port '%s' (1-65535)", v);
			return -1;
		}
		break;
	case O_HELO:
		c->helo = v;
		break;
	case O_TLS:
		c->tls = SMTPROBE_TLSMODE_REQUIRED;
		break;
	case O_TLS_OPTIONAL:
		c->tls = SMTPROBE_TLSMODE_OPTIONAL;
		break;
	case O_TLSC:
		c->tls = SMTPROBE_TLSMODE_IMPLICIT;
		break;
	case O_QUIT_AFTER:
		c->quit_after = v;
		break;
	case O_LOCAL_IF:
		c->local_interface = v;
		break;
	case O_PROTOCOL:
		if (strcasecmp(v, "SMTP") == 0)
			c->protocol = SMTPROBE_PROTO_SMTP;
		else if (strcasecmp(v, "ESMTP") == 0)
			c->protocol = SMTPROBE_PROTO_ESMTP;
		else if (strcasecmp(v, "LMTP") == 0)
			c->protocol = SMTPROBE_PROTO_LMTP;
		else {
			snprintf(err, errsz,
			         "unknown protocol '%s' (SMTP, ESMTP or LMTP)",
			         v);
			return -1;
		}
		break;
	case O_PIPELINE:
		c->pipeline = 1;
		break;
	case O_HEADER:
		return add_list(c->headers, &c->nheaders, v, err, errsz,
		                "headers");
	case O_BODY:
		c->body = v;
		break;
	case O_DATA:
		c->data = v;
		break;
	case O_ATTACH:
		return add_list(c->attach, &c->nattach, v, err, errsz,
		                "attachments");
	case O_SUPPRESS_DATA:
		c->suppress_data = 1;
		break;
	case O_SILENT:
		c->silent = 1;
		c->common.quiet = 1;
		break;
	case O_VERBOSE:
		c->verbose = 1;
		break;
	case O_SHOW_TIME:
		c->show_time = 1;
		break;
	case O_SHOW_SECRETS:
		c->show_secrets = 1;
		break;
	case O_HELP:
		c->help = 1;
		break;
	default:
		return cli_common_opt(&c->common, id, v, err, errsz);
	}
	return 0;
}

int send_opts_parse(struct send_cfg *c, int argc, char **argv, char *err,
                    size_t errsz)
{
	memset(c, 0, sizeof(*c));
	c->port = -1;
	c->protocol = SMTPROBE_PROTO_ESMTP;
	cli_common_init(&c->common, 30000, 300000);
	return opts_parse(send_defs, argc, argv, on_opt, cli_common_accept, c,
	                  err, errsz);
}

void send_opts_release(struct send_cfg *c)
{
	for (size_t i = 0; i < c->nto_owned; i++)
		free(c->to_owned[i]);
	c->nto_owned = 0;
	cli_common_release(&c->common);
}
