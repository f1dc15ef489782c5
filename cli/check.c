/* check.c - `smtprobe check HOST`: the diagnostic ladder, rendered as a
 * report (steps, diagnosis, the seed's checklist) or as JSON.
 * Exit 0 when no step failed, 1 when one did, 2 on a usage error.
 *
 * A mail domain (a name without :PORT that has MX records) is checked
 * through its MX hosts: each in preference order, on port 25 (or --port),
 * its report headed by which host it is and why; JSON then holds the route
 * and one check per MX. --no-mx checks the name itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"
#include "nagios_out.h"
#include "opts.h"
#include "route.h"
#include "smtprobe/assure.h"
#include "smtprobe/check.h"
#include "smtprobe/ehlo.h"
#include "smtprobe/message.h"
#include "banned.h"

#define CHECK_MAX_RCPT 16

enum {
	C_PORT = 1,
	C_TLS,
	C_TLSC,
	C_NO_TLS,
	C_FROM,
	C_TO,
	C_SEND,
	C_NO_RELAY,
	C_RELAY_TO,
	C_HELO,
	C_VERBOSE,
	C_STRICT,
	C_HELP,
	C_PORTS,
	C_FORMAT,
	C_WARN,
	C_CRIT,
	C_CERT_DAYS,
	C_RESOLVER,
	C_NO_MX,
};

static const struct opt_def check_defs[] = {
        {C_PORT, "p|port", OPT_REQ, "PORT",
         "check this port (default: discover among --ports)"},
        {C_PORTS, "ports", OPT_REQ, "LIST",
         "ports to discover (default 587,465,25,2525)"},
        {C_TLS, "tls", OPT_NONE, NULL,
         "TLS is required: no STARTTLS is a failure"},
        {C_TLSC, "tls-on-connect|tlsc", OPT_NONE, NULL,
         "implicit TLS (port 465)"},
        {C_NO_TLS, "no-tls", OPT_NONE, NULL, "do not try STARTTLS"},
        CLI_OPT_TLS_VERIFY("a certificate that does not verify is a "
                           "failure, not a warning"),
        CLI_OPTS_TLS_PEER,
        CLI_OPT_AUTH("authenticate (strongest offered by default)"),
        CLI_OPTS_AUTH_CREDENTIALS,
        {C_FROM, "f|from", OPT_REQ, "ADDR",
         "envelope sender for the MAIL step"},
        {C_TO, "t|to", OPT_REQ, "ADDR",
         "recipient for the RCPT step (repeatable)"},
        {C_SEND, "send", OPT_NONE, NULL,
         "go on to DATA and send a test message"},
        {C_NO_RELAY, "no-relay-test", OPT_NONE, NULL, "skip the relay test"},
        {C_RELAY_TO, "relay-to", OPT_REQ, "ADDR",
         "recipient of the relay test (default relay-test@relay-test.invalid)"},
        CLI_OPT_TIMEOUT("longest wait for one reply (and for the connect "
                        "and the TLS handshake; default 10s)"),
        CLI_OPT_SESSION_TIMEOUT("deadline for each session of the ladder "
                                "(default 8 x --timeout)"),
        {C_HELO, "helo|ehlo", OPT_REQ, "NAME", "name to greet with"},
        CLI_OPTS_FAMILY,
        CLI_OPT_JSON("one JSON document (the same as --format json)"),
        CLI_OPTS_FORMAT(C_FORMAT),
        CLI_OPT_CERT_DAYS(C_FORMAT),
        {C_RESOLVER, "resolver", OPT_REQ, "ADDR[:PORT]",
         "look the MX of a mail domain up there (default: the system's "
         "resolvers)"},
        {C_NO_MX, "no-mx", OPT_NONE, NULL,
         "check the name itself, even when it is a mail domain with MX "
         "records"},
        {C_STRICT, "strict", OPT_NONE, NULL, "warnings fail too (exit 1)"},
        {C_VERBOSE, "v|verbose", OPT_NONE, NULL,
         "show the transcript too, with every stage change"},
        {C_HELP, "help", OPT_NONE, NULL, "this help"},
        {0, NULL, OPT_NONE, NULL, NULL},
};

struct check_cfg {
	const char *target;
	long port;
	int tls, tlsc, no_tls;
	struct cli_common common; /* TLS peer, AUTH, timeouts, -4/-6, --json */
	const char *from;
	const char *to[CHECK_MAX_RCPT];
	size_t nto;
	int send, no_relay;
	const char *relay_to;
	const char *helo;
	int verbose, help, strict;
	unsigned ports[SMTPROBE_MAX_PORTS];
	size_t nports;
	int format; /* enum cli_format */
	struct cli_nagios ng;
	const char *resolver;
	int no_mx;
};

static int parse_ports(struct check_cfg *c, const char *v, char *err,
                       size_t errsz)
{
	const char *q = v;

	c->nports = 0;
	while (*q) {
		char num[8];
		size_t n = strcspn(q, ",");
		long port = -1;
		if (n > 0 && n < sizeof(num)) {
			memcpy(num, q, n);
			num[n] = '\0';
			port = opts_number(num, 1, 65535);
		}
		if (port < 0 || c->nports >= SMTPROBE_MAX_PORTS) {
			snprintf(err, errsz,
			         "bad --ports '%s' (a comma list of at most %d "
			         "ports)",
			         v, SMTPROBE_MAX_PORTS);
			return -1;
		}
		c->ports[c->nports++] = (unsigned)port;
		q += n + (q[n] == ',');
	}
	return 0;
}

static int on_check_opt(void *ctx, int id, const char *v, char *err,
                        size_t errsz)
{
	struct check_cfg *c = ctx;

	switch (id) {
	case 0:
		if (c->target) {
			snprintf(err, errsz, "unexpected argument '%s'", v);
			return -1;
		}
		c->target = v;
		break;
	case C_PORT:
		c->port = opts_number(v, 1, 65535);
		if (c->port < 0) {
			snprintf(err, errsz, "bad port '%s'", v);
			return -1;
		}
		break;
	case C_TLS:
		c->tls = 1;
		break;
	case C_TLSC:
		c->tlsc = 1;
		break;
	case C_NO_TLS:
		c->no_tls = 1;
		break;
	case C_FROM:
		c->from = v;
		break;
	case C_TO:
		if (c->nto >= CHECK_MAX_RCPT) {
			snprintf(err, errsz, "too many --to");
			return -1;
		}
		c->to[c->nto++] = v;
		break;
	case C_SEND:
		c->send = 1;
		break;
	case C_NO_RELAY:
		c->no_relay = 1;
		break;
	case C_RELAY_TO:
		c->relay_to = v;
		break;
	case C_HELO:
		c->helo = v;
		break;
	case C_STRICT:
		c->strict = 1;
		break;
	case C_RESOLVER:
		c->resolver = v;
		break;
	case C_NO_MX:
		c->no_mx = 1;
		break;
	case C_VERBOSE:
		c->verbose = 1;
		break;
	case C_HELP:
		c->help = 1;
		break;
	case C_PORTS:
		return parse_ports(c, v, err, errsz);
	case C_FORMAT:
		return cli_format_opt(v, &c->common.json, &c->format, err,
		                      errsz);
	case C_WARN:
	case C_CRIT:
	case C_CERT_DAYS:
		return cli_nagios_opt(&c->ng, id - C_WARN, v, err, errsz);
	default:
		return cli_common_opt(&c->common, id, v, err, errsz);
	}
	return 0;
}

static void check_help(FILE *f)
{
	fprintf(f,
	        "usage: smtprobe check HOST[:PORT]|DOMAIN [OPTIONS]\n\n"
	        "The diagnostic ladder: DNS, TCP, banner, EHLO, TLS, AUTH, "
	        "MAIL, RCPT, DATA and\nthe relay test, each with its evidence; "
	        "what failed is explained (causes and\nfixes) and the relay "
	        "checklist is ticked. A mail DOMAIN (a name with MX\nrecords) "
	        "is checked through each of its MX hosts, on port 25.\n\n");
	opts_help(check_defs, f);
	cli_common_help_password(f);
	fprintf(f,
	        "\nexit codes: 0 no step failed (warnings allowed), 1 a step "
	        "failed (or\n  warned, with --strict), 2 usage "
	        "error.\n"
	        "\nexample:\n  smtprobe check smtp.example.org:587 --tls -au "
	        "alice -f alice@example.org \\\n      -t bob@example.net\n");
}

static const char *marker(enum smtprobe_check_status st, int colour)
{
	return cli_mark(st == SMTPROBE_CK_PASS   ? CLI_MARK_PASS
	                : st == SMTPROBE_CK_FAIL ? CLI_MARK_FAIL
	                : st == SMTPROBE_CK_WARN ? CLI_MARK_WARN
	                : st == SMTPROBE_CK_INFO ? CLI_MARK_FACT
	                                         : CLI_MARK_SKIP,
	                colour);
}

static void render(const struct smtprobe_check_result *r)
{
	int tty = cli_colour(stdout);
	static const char *const cl_text[SMTPROBE_CL_LAST] = {
	        "Server reachable",     "Correct port",
	        "TLS policy satisfied", "Auth accepted",
	        "MAIL FROM accepted",   "RCPT TO accepted",
	        "DATA accepted",        "No relay denial"};

	if (r->scanned) {
		printf("smtprobe check %s: ports (%.0f ms)\n\n", r->host,
		       r->scan.ms);
		printf("   port  open  TLS          certificate        AUTH\n");
		for (size_t i = 0; i < r->scan.nports; i++) {
			const struct smtprobe_port_probe *pp = &r->scan.port[i];
			const char *mode =
			        pp->open ? smtprobe_tls_mode_label(pp->tls)
			                 : "-";
			printf(" %s %-5u %-5s %-12s %-18.18s %s%s\n",
			       marker(pp->open ? SMTPROBE_CK_PASS
			                       : SMTPROBE_CK_SKIP,
			              tty),
			       pp->port, pp->open ? "yes" : "no", mode,
			       !pp->tls_ok   ? "-"
			       : pp->cert_ok ? "ok"
			                     : pp->cert_problem,
			       pp->open ? (pp->auth[0] ? pp->auth : "none")
			                : pp->error,
			       pp->auth_in_clear ? " (also in clear!)" : "");
		}
		printf("\n recommended: %s\n\n", r->scan.recommendation);
	}
	if (r->port)
		printf("smtprobe check %s port %u", r->host, r->port);
	else
		printf("smtprobe check %s: no port to check", r->host);
	if (r->software.id != SMTPROBE_SW_UNKNOWN)
		printf(" (%s%s%s, %s confidence)",
		       smtprobe_software_name(r->software.id),
		       r->software.version[0] ? " " : "", r->software.version,
		       r->software.confidence);
	printf("\n\n");
	for (int i = 0; i < SMTPROBE_CK_LAST; i++) {
		const struct smtprobe_check_finding *f = &r->step[i];
		printf(" %s %-7s %s\n", marker(f->status, tty),
		       smtprobe_check_step_name(i),
		       f->status == SMTPROBE_CK_SKIP && !f->detail[0]
		               ? "(skipped)"
		               : f->detail);
		/* the one handshake the ladder made says little about the
		 * listener's whole TLS posture */
		if (i == SMTPROBE_CK_TLS && r->session.have_tls)
			printf("           (every protocol, suite and "
			       "certificate fact: smtprobe tls %s:%u)\n",
			       r->host, r->port);
	}
	int any = 0;
	for (int i = 0; i < SMTPROBE_CK_LAST; i++) {
		const struct smtprobe_check_finding *f = &r->step[i];
		if (f->status != SMTPROBE_CK_FAIL &&
		    f->status != SMTPROBE_CK_WARN)
			continue;
		if (!f->summary[0] && !f->causes[0])
			continue;
		if (!any++)
			printf("\nDiagnosis\n");
		printf("\n %s %s: %s\n", marker(f->status, tty),
		       smtprobe_check_step_name(i),
		       f->summary[0] ? f->summary : f->detail);
		if (f->causes[0]) {
			printf("   likely causes:\n");
			for (int k = 0;
			     k < SMTPROBE_CK_MAX_ITEMS && f->causes[k]; k++)
				printf("     %d. %s\n", k + 1, f->causes[k]);
		}
		if (f->fixes[0]) {
			printf("   fixes:\n");
			for (int k = 0;
			     k < SMTPROBE_CK_MAX_ITEMS && f->fixes[k]; k++)
				printf("     - %s\n", f->fixes[k]);
		}
		if (f->reference)
			printf("   reference: %s\n", f->reference);
	}
	printf("\nChecklist\n");
	for (int i = 0; i < SMTPROBE_CL_LAST; i++)
		printf(" %s %s\n", marker(r->checklist[i], tty), cl_text[i]);
	int warned = r->warnings > 0;
	printf("\n%s\n",
	       !r->exit_code
	               ? (warned ? "result: no step failed, with warnings "
	                           "(exit 0)"
	                         : "result: no step failed (exit 0)")
	       : r->strict && warned ? "result: a step failed or warned, "
	                               "--strict (exit 1)"
	                             : "result: a step failed (exit 1)");
}

/* --format nagios: a failed step CRITICAL (an unreachable server too), a
 * warning WARNING; perfdata: the whole time, each step's, the days left. */
static int render_nagios(const struct smtprobe_check_result *r,
                         const struct cli_nagios *ng)
{
	enum cli_nagios_state st = CLI_NAGIOS_OK;
	char summary[1024], perf[640], item[96];
	static char text[SMTPROBE_CK_LAST][160];
	const char *lines[SMTPROBE_CK_LAST];
	const char *why = NULL;
	size_t n = 0;

	for (int i = 0; i < SMTPROBE_CK_LAST; i++) {
		const struct smtprobe_check_finding *f = &r->step[i];
		if (f->status == SMTPROBE_CK_FAIL) {
			st = CLI_NAGIOS_CRITICAL;
			why = why             ? why
			      : f->summary[0] ? f->summary
			                      : f->detail;
		} else if (f->status == SMTPROBE_CK_WARN &&
		           st < CLI_NAGIOS_WARNING)
			st = CLI_NAGIOS_WARNING;
		if (f->status != SMTPROBE_CK_SKIP) {
			snprintf(text[n], sizeof(text[n]), "[%s] %s: %.120s",
			         smtprobe_check_status_name(f->status),
			         smtprobe_check_step_name(i), f->detail);
			lines[n] = text[n];
			n++;
		}
	}
	if (!why)
		for (int i = 0; i < SMTPROBE_CK_LAST && !why; i++)
			if (r->step[i].status == SMTPROBE_CK_WARN)
				why = r->step[i].summary[0] ? r->step[i].summary
				                            : r->step[i].detail;
	double secs = r->ms / 1000.0; /* the whole ladder */
	cli_nagios_time(ng, secs, &st);
	cli_nagios_time_perf(ng, secs, perf, sizeof(perf));
	for (int i = 0; i < SMTPROBE_CK_LAST; i++) {
		if (r->step[i].status == SMTPROBE_CK_SKIP)
			continue;
		size_t o = strlen(perf);
		snprintf(perf + o, sizeof(perf) - o, " %s=%.3fs;;;0",
		         smtprobe_check_step_name(i), r->step[i].ms / 1000.0);
	}
	const struct smtprobe_tls_facts *t = &r->session.tls;
	if (r->session.have_tls && t->nchain > 0) {
		cli_nagios_cert(ng, t->chain[0].days_left, &st);
		cli_nagios_cert_perf(ng, t->chain[0].days_left, item,
		                     sizeof(item));
		size_t o = strlen(perf);
		snprintf(perf + o, sizeof(perf) - o, " %s", item);
	}
	snprintf(summary, sizeof(summary), "%s:%u: %.500s", r->host, r->port,
	         why                   ? why
	         : st == CLI_NAGIOS_OK ? "every step passed"
	                               : "a threshold was crossed");
	return cli_nagios_print("CHECK", st, summary, perf, lines, n);
}

/* Options -> the ladder against host -> report; the exit code. name: the
 * MX host name host (an address) stands for, for SNI and the certificate
 * (NULL: host itself). json: the JSON document goes there instead of
 * stdout. */
static int check_target(struct check_cfg *c, const char *host, long port,
                        const char *name, char **json)
{
	char err[512];
	char from[SMTPROBE_MAX_ADDRESS],
	        rcpt[CHECK_MAX_RCPT][SMTPROBE_MAX_ADDRESS];
	const char *rcpts[CHECK_MAX_RCPT];
	char relay_to[SMTPROBE_MAX_ADDRESS];

	if (c->port > 0)
		port = c->port;
	/* No port: discover the SMTP ports first and check the best one. */
	int discover = port < 0 && !c->tlsc;
	if (port < 0)
		port = c->tlsc ? 465 : 25;

	struct smtprobe_check_params p;
	memset(&p, 0, sizeof(p));
	struct smtprobe_params *q = &p.session;
	q->host = host;
	q->port = (unsigned)port;
	q->helo = c->helo ? c->helo : cli_local_name();
	if (!smtprobe_arg_safe(q->helo, 0) || strlen(q->helo) >= 250) {
		cli_error("bad --helo name: no spaces or control characters, "
		          "under 250 bytes");
		return 2;
	}
	q->protocol = SMTPROBE_PROTO_ESMTP;
	q->tls = c->tlsc     ? SMTPROBE_TLSMODE_IMPLICIT
	         : c->no_tls ? SMTPROBE_TLSMODE_OFF
	         : c->tls    ? SMTPROBE_TLSMODE_REQUIRED
	                     : SMTPROBE_TLSMODE_OPTIONAL;
	if (port == 465 && !c->no_tls && !c->tls)
		q->tls = SMTPROBE_TLSMODE_IMPLICIT;
	else if (!c->tlsc && !c->no_tls && !c->tls && port != 25 &&
	         port != 587 && port != 2525)
		q->tls =
		        SMTPROBE_TLSMODE_AUTO; /* find out, as discovery does */
	p.tls_required = c->tls || c->tlsc;
	if (c->from) {
		if (smtprobe_addr_format(c->from, from, sizeof(from), err,
		                         sizeof(err)) < 0) {
			cli_error("--from: %s", err);
			return 2;
		}
		q->mail_from = from;
	}
	for (size_t i = 0; i < c->nto; i++) {
		if (smtprobe_addr_format(c->to[i], rcpt[i], sizeof(rcpt[i]),
		                         err, sizeof(err)) < 0) {
			cli_error("--to: %s", err);
			return 2;
		}
		rcpts[i] = rcpt[i];
	}
	if (c->nto && !c->from) {
		cli_error("--to needs --from (the envelope sender)");
		return 2;
	}
	q->rcpt = rcpts;
	q->nrcpt = c->nto;
	if (c->relay_to) {
		if (smtprobe_addr_format(c->relay_to, relay_to,
		                         sizeof(relay_to), err,
		                         sizeof(err)) < 0) {
			cli_error("--relay-to: %s", err);
			return 2;
		}
		p.relay_to = relay_to;
	}
	/* last: it may ask for the password */
	if (cli_common_apply(&c->common, name ? name : host, q, err,
	                     sizeof(err)) < 0) {
		cli_error("%s", err);
		return 2;
	}
	q->auth = c->common.auth;
	p.send = c->send;
	p.no_relay_test = c->no_relay;
	p.strict = c->strict;
	p.discover = discover;
	p.ports = c->nports ? c->ports : NULL;
	p.nports = c->nports;
	const char *msg =
	        "Subject: smtprobe check\r\n\r\nA test message sent by "
	        "smtprobe check.\r\n";
	q->message = msg;
	q->message_len = strlen(msg);
	struct text_out out;
	text_out_init(&out, stdout, 1);
	out.show_stages = 1;
	if (c->verbose && c->format == CLI_FMT_TEXT) {
		q->on_event = text_event;
		q->event_arg = &out;
	}

	struct smtprobe_check_result *r = calloc(1, sizeof(*r));
	if (!r) {
		cli_error("out of memory");
		return 2;
	}
	smtprobe_check_run(&p, r);
	if (c->verbose && c->format == CLI_FMT_TEXT)
		printf("\n");
	if (c->format == CLI_FMT_NAGIOS) {
		int nrc = render_nagios(r, &c->ng);
		smtprobe_check_release(r);
		free(r);
		return nrc;
	}
	if (c->format >= CLI_FMT_PROMETHEUS) {
		struct smtprobe_outcome o;
		smtprobe_outcome_init(&o);
		smtprobe_assure_check(r, &o);
		int rc = cli_outcome_print(c->format, &o, "smtprobe check") < 0
		                 ? 2
		                 : r->exit_code;
		smtprobe_outcome_free(&o);
		smtprobe_check_release(r);
		free(r);
		return rc;
	}
	if (c->common.json) {
		char *doc = smtprobe_check_json(r);
		if (json) {
			*json = doc;
		} else if (doc) {
			puts(doc);
			free(doc);
		}
	} else {
		render(r);
	}
	int rc = r->exit_code;
	smtprobe_check_release(r);
	free(r);
	return rc;
}

/* Each MX host of route in preference order (its first address); the
 * worst exit code. */
static int check_mx(struct check_cfg *c, const struct smtprobe_route *route)
{
	json_t *checks = json_array();
	char why[400];
	int worst = 0, send = c->send, sent = 0;

	for (size_t i = 0; i < route->n; i++) {
		const struct smtprobe_route_host *h = &route->host[i];
		char *doc = NULL;
		int rc;

		smtprobe_route_why(route, i, why, sizeof(why));
		if (!c->common.json)
			printf("%s== %s, address %s\n\n", i ? "\n" : "", why,
			       h->naddr ? h->addr[0] : h->why);
		if (h->naddr == 0) {
			worst = worst > 1 ? worst : 1;
			json_array_append_new(
			        checks,
			        json_pack("{s:s, s:i, s:s}", "host", h->host,
			                  "preference", (int)h->pref, "error",
			                  h->why));
			continue;
		}
		/* --send: one test message for the domain, to the first MX
		 * that takes it, not one per MX */
		c->send = send && !sent;
		rc = check_target(c, h->addr[0], 25, h->host,
		                  c->common.json ? &doc : NULL);
		c->send = send;
		sent |= send && rc == 0;
		if (rc == 2) {
			free(doc);
			json_decref(checks);
			return 2;
		}
		worst = rc > worst ? rc : worst;
		json_t *one = doc ? json_loads(doc, 0, NULL) : NULL;
		free(doc);
		json_array_append_new(
		        checks, json_pack("{s:s, s:i, s:s, s:s, s:o}", "host",
		                          h->host, "preference", (int)h->pref,
		                          "address", h->addr[0], "why", why,
		                          "check", one ? one : json_null()));
	}
	if (c->common.json) {
		json_t *doc =
		        json_pack("{s:s, s:o, s:o, s:i}", "domain",
		                  route->domain, "route", cli_route_json(route),
		                  "mx", checks, "exit_code", worst);
		char *txt = doc ? json_dumps(doc, JSON_INDENT(2) |
		                                          JSON_PRESERVE_ORDER)
		                : NULL;
		if (txt)
			puts(txt);
		free(txt);
		json_decref(doc);
	} else {
		json_decref(checks);
	}
	return worst;
}

/* The target: a server, or a mail domain checked through its MX hosts. */
static int check_run(struct check_cfg *c)
{
	char host[256], err[512];
	long port = -1;

	if (c->tls + c->tlsc + c->no_tls > 1) {
		cli_error("--tls, --tls-on-connect and --no-tls exclude each "
		          "other");
		return 2;
	}
	if (cli_target("check", c->target, host, sizeof(host), &port) < 0)
		return 2;
	if (c->no_mx || port >= 0 || cli_is_ip_literal(host) ||
	    strcasecmp(host, "localhost") == 0)
		return check_target(c, host, port, NULL, NULL);
	/* a mail domain? (MX records; no MX: the name is a server) */
	struct smtprobe_route *route = calloc(1, sizeof(*route));
	struct smtprobe_dns_opts dopts = {.resolver = c->resolver,
	                                  .timeout_ms = 5000};
	if (route == NULL) {
		cli_error("out of memory");
		return 2;
	}
	int rc;
	if (smtprobe_mx_route(host, &dopts, c->common.family, 5000, route, err,
	                      sizeof(err)) == 0 &&
	    route->kind == SMTPROBE_ROUTE_MX) {
		if (c->format != CLI_FMT_TEXT && c->format != CLI_FMT_JSON) {
			cli_error("%s is a mail domain (MX records): --format "
			          "%s checks one server; give an MX host, or "
			          "--no-mx",
			          host, cli_format_name(c->format));
			rc = 2;
		} else {
			rc = check_mx(c, route);
		}
	} else if (c->resolver && route->n == 0) {
		cli_error("%s", err); /* asked to route, and cannot */
		rc = 2;
	} else {
		rc = check_target(c, host, port, NULL, NULL);
	}
	free(route);
	return rc;
}

int cmd_check(int argc, char **argv)
{
	struct check_cfg c;
	char err[512];
	int rc = 0;

	memset(&c, 0, sizeof(c));
	c.port = -1;
	cli_nagios_init(&c.ng);
	cli_common_init(&c.common, 10000, 0);
	if (opts_parse(check_defs, argc, argv, on_check_opt, cli_common_accept,
	               &c, err, sizeof(err)) < 0) {
		cli_error("%s (try 'smtprobe check --help')", err);
		/* a monitoring system reads a usage error as UNKNOWN (3) */
		rc = cli_nagios_wanted(argc, argv) ? CLI_NAGIOS_UNKNOWN : 2;
	} else if (c.help) {
		check_help(stdout);
	} else {
		rc = check_run(&c);
	}
	cli_common_release(&c.common);
	return rc;
}
