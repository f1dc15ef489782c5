/* send.c - `smtprobe send`: options -> params -> one session -> transcript
 * or JSON -> exit code (swaks' numbers).
 *
 * Without --server, mail goes where it would go: the first recipient's
 * domain's MX (or --copy-routing's) in preference order, each address in
 * turn while none can be reached (a connection refused or timed out, a
 * banner that is not 2xx, a close before it) - never once a session got
 * further, so a message goes at most once; the transcript says which host
 * was chosen and why, the JSON has the route. A recipient without a
 * domain goes to localhost, as with swaks.
 *
 * Reads what the message options name (send_input.c, bounded by
 * SMTPROBE_MAX_MESSAGE), takes TLS, AUTH and timeouts from the shared
 * layer (common_opts.c), and validates everything it can before any byte
 * goes to the network; usage mistakes exit 1 and send nothing. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "opts.h"
#include "route.h"
#include "send_input.h"
#include "send_opts.h"
#include "smtprobe/ehlo.h"
#include "smtprobe/message.h"
#include "banned.h"

struct send_state {
	struct send_cfg cfg;
	char host[256];
	char from[SMTPROBE_MAX_ADDRESS];
	char rcpt_buf[SEND_MAX_LIST][SMTPROBE_MAX_ADDRESS];
	const char *rcpt[SEND_MAX_LIST];
	struct send_input in;
	char *body;
	char *message;
	size_t message_len;
	char *attach_data[SEND_MAX_LIST];
	struct smtprobe_attachment attach[SEND_MAX_LIST];
	char local_addr[64];
	int routed; /* no --server: route (MX) holds the hosts to try */
	struct smtprobe_route route;
};

static void send_state_release(struct send_state *st)
{
	send_input_release(&st->in);
	free(st->body);
	free(st->message);
	for (size_t i = 0; i < st->cfg.nattach; i++)
		free(st->attach_data[i]);
	send_opts_release(&st->cfg);
}

/* Build params and the message; 0, or -1 with err (a usage error), or -2
 * (no route to the recipient's domain). */
static int prepare(struct send_state *st, struct smtprobe_params *p, char *err,
                   size_t errsz)
{
	struct send_cfg *c = &st->cfg;
	long port = -1;
	char shown[128];

	memset(p, 0, sizeof(*p));
	/* A recipient is needed only when the session gets as far as RCPT. */
	enum smtprobe_stage qa =
	        c->quit_after ? smtprobe_stage_from_quit_after(c->quit_after)
	                      : SMTPROBE_ST_LAST;
	if (c->nto == 0 && qa >= SMTPROBE_ST_RCPT) {
		snprintf(err, errsz, "no recipient: give one with --to ADDR");
		return -1;
	}
	if (c->server && (c->copy_routing || c->resolver)) {
		snprintf(err, errsz,
		         "--%s is for MX routing: leave --server out",
		         c->copy_routing ? "copy-routing" : "resolver");
		return -1;
	}
	/* routed: the lookup comes last, once everything is valid */
	if (c->server == NULL &&
	    (c->copy_routing ||
	     (c->nto > 0 &&
	      cli_route_domain(c->to[0], st->host, sizeof(st->host)) == 0))) {
		st->routed = 1;
		if (c->copy_routing)
			snprintf(st->host, sizeof(st->host), "%s",
			         c->copy_routing);
	} else if (cli_split_server(c->server ? c->server : "localhost",
	                            st->host, sizeof(st->host), &port) < 0 ||
	           !smtprobe_arg_safe(st->host, 0)) {
		snprintf(err, errsz,
		         "bad --server '%s' (HOST[:PORT] or [IPv6]:PORT)",
		         cli_printable(c->server, shown, sizeof(shown)));
		return -1;
	}
	if (c->port > 0)
		port = c->port;
	if (port < 0)
		port = c->tls == SMTPROBE_TLSMODE_IMPLICIT ? 465 : 25;
	p->host = st->host;
	p->port = (unsigned)port;
	if (c->local_interface) {
		long lport = 0;
		if (cli_split_server(c->local_interface, st->local_addr,
		                     sizeof(st->local_addr), &lport) < 0) {
			snprintf(err, errsz, "bad --local-interface '%s'",
			         cli_printable(c->local_interface, shown,
			                       sizeof(shown)));
			return -1;
		}
		p->local_addr = st->local_addr;
		p->local_port = lport > 0 ? (unsigned)lport : 0;
	}
	p->helo = c->helo ? c->helo : cli_local_name();
	if (!smtprobe_arg_safe(p->helo, 0) || strlen(p->helo) >= 250) {
		snprintf(err, errsz,
		         "bad --helo name: no spaces or control characters");
		return -1;
	}
	p->protocol = c->protocol;

	char defaddr[300];
	snprintf(defaddr, sizeof(defaddr), "smtprobe@%s", cli_local_name());
	if (smtprobe_addr_format(c->from ? c->from : defaddr, st->from,
	                         sizeof(st->from), err, errsz) < 0)
		return -1;
	p->mail_from = st->from;
	if ((c->mail_params && !smtprobe_arg_safe(c->mail_params, 1)) ||
	    (c->rcpt_params && !smtprobe_arg_safe(c->rcpt_params, 1))) {
		snprintf(err, errsz,
		         "bad --mail-params / --rcpt-params: no control "
		         "characters, "
		         "at most %d bytes",
		         SMTPROBE_MAX_ADDRESS - 1);
		return -1;
	}
	p->mail_params = c->mail_params;
	p->rcpt_params = c->rcpt_params;
	for (size_t i = 0; i < c->nto; i++) {
		if (smtprobe_addr_format(c->to[i], st->rcpt_buf[i],
		                         sizeof(st->rcpt_buf[i]), err,
		                         errsz) < 0)
			return -1;
		st->rcpt[i] = st->rcpt_buf[i];
	}
	p->rcpt = st->rcpt;
	p->nrcpt = c->nto;

	p->tls = c->tls;
	if (c->common.tls_verify && c->tls == SMTPROBE_TLSMODE_OFF) {
		snprintf(err, errsz,
		         "--tls-verify needs TLS: add --tls, --tls-optional or "
		         "--tls-on-connect");
		return -1;
	}
	if (c->quit_after) {
		p->quit_after = smtprobe_stage_from_quit_after(c->quit_after);
		if (p->quit_after == SMTPROBE_ST_LAST) {
			snprintf(err, errsz,
			         "unknown --quit-after stage '%s' (connect, "
			         "banner, ehlo, tls, auth, mail, rcpt, data, "
			         "dot)",
			         cli_printable(c->quit_after, shown,
			                       sizeof(shown)));
			return -1;
		}
	} else {
		p->quit_after = SMTPROBE_ST_LAST;
	}
	p->pipeline = c->pipeline;
	p->show_secrets = c->show_secrets;
	p->suppress_data = c->suppress_data;

	/* The message. */
	if (c->data) {
		if (c->body || c->nattach || c->nheaders) {
			snprintf(
			        err, errsz,
			        "--data is the whole message: --body, --attach "
			        "and --header cannot be added to it");
			return -1;
		}
		if (send_input_load(&st->in, SEND_INPUT_DATA, c->data,
		                    &st->message, &st->message_len, NULL, err,
		                    errsz) < 0)
			return -1;
	} else {
		size_t blen;
		if (c->body &&
		    send_input_load(&st->in, SEND_INPUT_BODY, c->body,
		                    &st->body, &blen, NULL, err, errsz) < 0)
			return -1;
		for (size_t i = 0; i < c->nattach; i++) {
			if (send_input_load(
			            &st->in, SEND_INPUT_ATTACH, c->attach[i],
			            &st->attach_data[i], &st->attach[i].len,
			            &st->attach[i].name, err, errsz) < 0)
				return -1;
			st->attach[i].data = st->attach_data[i];
		}
		struct smtprobe_msg_params mp = {
		        .from = st->from,
		        .to = st->rcpt,
		        .nto = c->nto,
		        .headers = c->headers,
		        .nheaders = c->nheaders,
		        .body = st->body,
		        .attach = st->attach,
		        .nattach = c->nattach,
		        .helo = p->helo,
		        .mailer = "smtprobe " SMTPROBE_VERSION,
		        .now = time(NULL),
		        .nonce = (unsigned long)getpid(),
		};
		if (smtprobe_message_build(&mp, &st->message, &st->message_len,
		                           err, errsz) < 0)
			return -1;
	}
	p->message = st->message;
	p->message_len = st->message_len;
	/* last: it may ask for the password */
	if (cli_common_apply(&c->common, st->host, p, err, errsz) < 0)
		return -1;
	p->auth = c->common.auth;
	if (st->routed) {
		struct smtprobe_dns_opts dopts = {.resolver = c->resolver};
		if (smtprobe_mx_route(st->host, &dopts, c->common.family,
		                      (unsigned)c->common.timeout_ms,
		                      &st->route, err, errsz) < 0)
			return -2; /* no route: as a connection that failed */
	}
	return 0;
}

__attribute__((format(printf, 3, 4))) static void
say(struct text_out *out, enum smtprobe_event_kind kind, const char *fmt, ...)
{
	char line[700];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	struct smtprobe_event ev = {.kind = kind, .text = line};
	text_event(&ev, out);
}

/* the server greeted with a 2xx banner: it served this session */
static int greeted(const struct smtprobe_result *r)
{
	for (size_t k = 0; k < r->nex; k++)
		if (r->ex[k].stage == SMTPROBE_ST_BANNER && r->ex[k].reply)
			return r->ex[k].reply->code / 100 == 2;
	return 0;
}

/* The route's hosts in turn, each address in turn, while the session
 * ends before the server greeted (connect, banner): each attempt goes to
 * *attempts ({"host", "address", "why", "error"}). The last session's
 * result is res; its exit code is returned. */
static int send_routed(struct send_state *st, struct smtprobe_params *p,
                       struct smtprobe_result *res, struct text_out *out,
                       json_t **attempts)
{
	const struct send_cfg *c = &st->cfg;
	const struct smtprobe_route *r = &st->route;
	int text = p->on_event != NULL;
	int rc = SMTPROBE_EXIT_CONNECT;
	char why[400];
	size_t left = 0;

	*attempts = json_array();
	for (size_t i = 0; i < r->n; i++)
		left += r->host[i].naddr;
	for (size_t i = 0; i < r->n; i++) {
		const struct smtprobe_route_host *h = &r->host[i];
		smtprobe_route_why(r, i, why, sizeof(why));
		if (h->naddr == 0 && text)
			say(out, SMTPROBE_EV_ERROR, "%s: %s", why, h->why);
		for (size_t k = 0; k < h->naddr; k++) {
			p->host = h->addr[k];
			if (!c->common.tls_sni)
				p->tls_opts.sni =
				        r->kind == SMTPROBE_ROUTE_LITERAL
				                ? NULL
				                : h->host;
			if (!c->common.tls_verify_host)
				p->tls_opts.verify_host = h->host;
			if (text)
				say(out, SMTPROBE_EV_INFO,
				    "Routing: %s, address %s", why, h->addr[k]);
			rc = smtprobe_send(p, res);
			left--;
			json_t *a =
			        json_pack("{s:s, s:s, s:s}", "host", h->host,
			                  "address", h->addr[k], "why", why);
			if (a && res->error[0])
				json_object_set_new(a, "error",
				                    json_string(res->error));
			if (a)
				json_array_append_new(*attempts, a);
			/* greeted: this one is it (RFC 5321 §5.1: the next MX
			 * only when this one could not be reached or would
			 * not serve - no banner, or one that is not 2xx; an
			 * implicit-TLS handshake that failed had none) */
			if (rc == 0 || left == 0 || greeted(res))
				return rc;
			if (text)
				say(out, SMTPROBE_EV_INFO,
				    "%s did not serve: trying the next address",
				    h->addr[k]);
			smtprobe_result_release(res);
		}
	}
	return rc;
}

int cmd_send(int argc, char **argv)
{
	struct send_state *st = calloc(1, sizeof(*st));
	struct smtprobe_params params;
	struct smtprobe_result res;
	struct text_out out;
	char err[512];
	int rc;

	if (!st) {
		cli_error("out of memory");
		return SMTPROBE_EXIT_USAGE;
	}
	if (send_opts_parse(&st->cfg, argc, argv, err, sizeof(err)) < 0) {
		cli_error("%s (try 'smtprobe send --help')", err);
		send_state_release(st);
		free(st);
		return SMTPROBE_EXIT_USAGE;
	}
	if (st->cfg.help) {
		send_opts_help(stdout);
		send_state_release(st);
		free(st);
		return 0;
	}
	if ((rc = prepare(st, &params, err, sizeof(err))) < 0) {
		if (rc == -2)
			cli_error("cannot route the mail: %s", err);
		else
			cli_error("%s", err);
		send_state_release(st);
		free(st);
		return rc == -2 ? SMTPROBE_EXIT_CONNECT : SMTPROBE_EXIT_USAGE;
	}
	text_out_init(&out, stdout, st->cfg.show_time);
	out.show_stages = st->cfg.verbose;
	if (!st->cfg.silent && !st->cfg.common.json) {
		params.on_event = text_event;
		params.event_arg = &out;
	}
	json_t *attempts = NULL;
	if (st->routed)
		rc = send_routed(st, &params, &res, &out, &attempts);
	else
		rc = smtprobe_send(&params, &res);
	if (st->cfg.common.json) {
		char *doc = smtprobe_result_json(&res);
		if (doc && st->routed) {
			json_t *route = cli_route_json(&st->route);
			if (route)
				json_object_set_new(route, "attempts",
				                    json_incref(attempts));
			doc = cli_json_add(doc, "route", route);
		}
		if (doc) {
			puts(doc);
			free(doc);
		}
	}
	json_decref(attempts);
	fflush(stdout);
	if (res.error[0] && rc != 0)
		cli_error("%s", res.error);
	smtprobe_result_release(&res);
	send_state_release(st);
	free(st);
	return rc;
}
