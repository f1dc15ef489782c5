/* tls.c - `smtprobe tls HOST[:PORT]`: the TLS posture scan of a mail
 * listener (lib/tlsscan), as a screen a person reads (worst findings
 * first) or one JSON document. Without a port, the listeners among 25,
 * 465 and 587 are found first (discover.h) and each one that speaks TLS
 * is scanned. Exit: 0 no finding high or critical, 1 one is, 2 the scan
 * could not run (or a usage error). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "common.h"
#include "nagios_out.h"
#include "smtprobe/assure.h"
#include "smtprobe/discover.h"
#include "smtprobe/tlsscan.h"
#include "banned.h"

#define MAX_LISTENERS 3
#define SUITES_SHOWN  6 /* per protocol, without -v */

enum {
	T_PORT = 1,
	T_STARTTLS,
	T_TLSC,
	T_QUICK,
	T_MAX_CONN,
	T_RATE,
	T_PROFILE,
	T_HELO,
	T_VERBOSE,
	T_FORMAT,
	T_WARN,
	T_CRIT,
	T_CERT_DAYS,
	T_HELP,
};

static const struct opt_def tls_defs[] = {
        {T_PORT, "p|port", OPT_REQ, "PORT",
         "scan this port (default: the listeners among 25, 465 and 587)"},
        {T_STARTTLS, "starttls", OPT_NONE, NULL,
         "STARTTLS on the port (default: 25 and 587 STARTTLS, 465 "
         "implicit, others found out)"},
        {T_TLSC, "tls-on-connect|tlsc", OPT_NONE, NULL,
         "implicit TLS on the port"},
        {T_QUICK, "quick", OPT_NONE, NULL,
         "a few handshakes: negotiated parameters, certificate, protocols"},
        CLI_OPT_TLS_VERIFY("trust and host-name findings are high on every "
                           "port (default: info on a port-25 MX without "
                           "AUTH)"),
        {CLI_O_TLS_CA, "tls-ca-path", OPT_REQ, "PATH",
         "CA file or directory (default: the system store)"},
        {CLI_O_TLS_SNI, "tls-sni", OPT_REQ, "NAME",
         "SNI name (default: the server name, none for an address)"},
        {CLI_O_TLS_VERIFY_HOST, "tls-verify-host", OPT_REQ, "NAME",
         "name the certificate must match (default: the server)"},
        {T_MAX_CONN, "max-connections", OPT_REQ, "N",
         "connections at once (default 8)"},
        {T_PROFILE, "profile", OPT_REQ, "NAME",
         "list deviations from a profile (mozilla-modern, "
         "mozilla-intermediate, mozilla-old, ncsc-nl-2025); exit 1 on a "
         "deviation beyond a 'phase out'"},
        {T_RATE, "rate", OPT_REQ, "N",
         "at most N new connections a second (default: no limit beyond "
         "--max-connections)"},
        CLI_OPT_TIMEOUT("longest wait for one reply or handshake (default "
                        "10s)"),
        {T_HELO, "helo|ehlo", OPT_REQ, "NAME", "name to greet with"},
        CLI_OPTS_FAMILY,
        CLI_OPT_JSON("one JSON document (the same as --format json)"),
        CLI_OPTS_FORMAT(T_FORMAT),
        CLI_OPT_CERT_DAYS(T_FORMAT),
        {T_VERBOSE, "v|verbose", OPT_NONE, NULL,
         "list every accepted suite (default: the first few per protocol)"},
        {T_HELP, "help", OPT_NONE, NULL, "this help"},
        {0, NULL, OPT_NONE, NULL, NULL},
};

struct tls_cfg {
	const char *target;
	long port;
	int starttls, tlsc, quick, help, verbose;
	int format;                 /* enum cli_format */
	struct smtprobe_outcome oc; /* prometheus, junit, tap */
	struct cli_nagios ng;
	long max_conn;
	long rate;
	const char *profile;
	const char *helo;
	struct cli_common common;
};

static int on_tls_opt(void *ctx, int id, const char *v, char *err, size_t errsz)
{
	struct tls_cfg *c = ctx;

	switch (id) {
	case 0:
		if (c->target) {
			snprintf(err, errsz, "unexpected argument '%s'", v);
			return -1;
		}
		c->target = v;
		break;
	case T_PORT:
		c->port = opts_number(v, 1, 65535);
		if (c->port < 0) {
			snprintf(err, errsz, "bad port '%s'", v);
			return -1;
		}
		break;
	case T_STARTTLS:
		c->starttls = 1;
		break;
	case T_TLSC:
		c->tlsc = 1;
		break;
	case T_QUICK:
		c->quick = 1;
		break;
	case T_MAX_CONN:
		c->max_conn = opts_number(v, 1, 64);
		if (c->max_conn < 0) {
			snprintf(err, errsz,
			         "bad --max-connections '%s' (1 to 64)", v);
			return -1;
		}
		break;
	case T_RATE:
		c->rate = opts_number(v, 1, 1000);
		if (c->rate < 0) {
			snprintf(err, errsz, "bad --rate '%s' (1 to 1000)", v);
			return -1;
		}
		break;
	case T_PROFILE:
		if (!smtprobe_tls_profile_known(v)) {
			snprintf(err, errsz, "unknown --profile '%s' (%s)", v,
			         smtprobe_tls_profile_names());
			return -1;
		}
		c->profile = v;
		break;
	case T_HELO:
		c->helo = v;
		break;
	case T_VERBOSE:
		c->verbose = 1;
		break;
	case T_FORMAT:
		return cli_format_opt(v, &c->common.json, &c->format, err,
		                      errsz);
	case T_WARN:
	case T_CRIT:
	case T_CERT_DAYS:
		return cli_nagios_opt(&c->ng, id - T_WARN, v, err, errsz);
	case T_HELP:
		c->help = 1;
		break;
	default:
		return cli_common_opt(&c->common, id, v, err, errsz);
	}
	return 0;
}

static void tls_help(FILE *f)
{
	fprintf(f, "usage: smtprobe tls HOST[:PORT] [OPTIONS]\n\n"
	           "The TLS posture of a mail listener: protocols, cipher "
	           "suites (in the server's\norder), key exchange groups, the "
	           "certificate chain, session properties, and\nfindings with "
	           "severities that know mail and fixes for the software "
	           "running.\n\n");
	opts_help(tls_defs, f);
	fprintf(f, "\nexit codes: 0 no finding high or critical (and no "
	           "--profile deviation), 1 one\n  is, 2 the scan could not "
	           "run or a usage error.\n"
	           "\nexample:\n  smtprobe tls mx.example.org:25\n");
}

/* ---- text ---------------------------------------------------------------- */

static enum cli_mark sev_mark(enum smtprobe_tls_severity s)
{
	if (s >= SMTPROBE_SEV_HIGH)
		return CLI_MARK_FAIL;
	if (s >= SMTPROBE_SEV_LOW)
		return CLI_MARK_WARN;
	return s == SMTPROBE_SEV_OK ? CLI_MARK_PASS : CLI_MARK_FACT;
}

static const char *yes_no(enum smtprobe_tri t)
{
	return t == SMTPROBE_YES ? "yes" : t == SMTPROBE_NO ? "no" : "?";
}

/* A newer protocol whose accepted list (as a set) equals v's, or -1. */
static int same_as(const struct smtprobe_tls_scan *s, int v)
{
	for (int w = v + 1; w < SMTPROBE_TP_LAST; w++) {
		if (s->nsuites[w] != s->nsuites[v])
			continue;
		size_t hit = 0;
		for (size_t i = 0; i < s->nsuites[v]; i++)
			for (size_t j = 0; j < s->nsuites[w]; j++)
				hit += s->suites[v][i].id == s->suites[w][j].id;
		if (hit == s->nsuites[v])
			return w;
	}
	return -1;
}

static void render_text(const struct smtprobe_tls_scan *s, const char *host,
                        unsigned port, enum smtprobe_tls_mode mode, int verbose)
{
	const struct smtprobe_tls_posture *p = &s->posture;
	int colour = cli_colour(stdout);
	char esc[600];

	printf("%s:%u (%s)%s%s, %u connections, %.2f s\n", host, port,
	       smtprobe_tls_mode_label(mode),
	       s->software.id != SMTPROBE_SW_UNKNOWN ? ", " : "",
	       s->software.id != SMTPROBE_SW_UNKNOWN
	               ? smtprobe_software_name(s->software.id)
	               : "",
	       s->connections, s->ms / 1000.0);
	if (s->tls.protocol[0])
		printf("  negotiated  %s, %s%s%s\n", s->tls.protocol,
		       s->tls.cipher, s->tls.group[0] ? ", " : "",
		       s->tls.group);
	if (s->handshake_error[0])
		printf("  handshake   this OpenSSL could not complete one "
		       "(%s): "
		       "no certificate facts\n",
		       cli_printable(s->handshake_error, esc, sizeof(esc)));
	printf("  protocols  ");
	for (int v = 0; v < SMTPROBE_TP_LAST; v++)
		printf(" %s %s%s", smtprobe_tls_proto_name(v),
		       !p->tested[v]   ? "?"
		       : p->offered[v] ? "yes"
		                       : "no",
		       v + 1 < SMTPROBE_TP_LAST ? " ·" : "\n");
	for (int v = SMTPROBE_TP_LAST - 1; v >= 0; v--) {
		size_t n = s->nsuites[v];
		if (n == 0)
			continue;
		printf("  %-10s  %zu suite%s%s%s\n", smtprobe_tls_proto_name(v),
		       n, n == 1 ? "" : "s",
		       s->server_preference[v] == 1   ? ", the server's order"
		       : s->server_preference[v] == 0 ? ", the client's order"
		                                      : "",
		       s->suites_incomplete[v]
		               ? " (or more: the server refused some probes)"
		               : "");
		int same = same_as(s, v);
		if (same >= 0) {
			printf("    the same as %s\n",
			       smtprobe_tls_proto_name(same));
			continue;
		}
		size_t show =
		        verbose || n <= SUITES_SHOWN + 1 ? n : SUITES_SHOWN;
		for (size_t i = 0; i < show; i++) {
			const struct smtprobe_tls_scan_suite *x =
			        &s->suites[v][i];
			printf("    %-34s %-6s %-6s %-22s %4d  %s\n", x->name,
			       x->kx ? x->kx : "", x->au ? x->au : "",
			       x->enc ? x->enc : "", x->bits,
			       smtprobe_suite_strength_name(x->strength));
		}
		if (show < n)
			printf("    ... and %zu more (-v lists them all)\n",
			       n - show);
	}
	if (s->ngroups || p->dh_bits) {
		printf("  groups     ");
		for (size_t i = 0; i < s->ngroups; i++)
			printf(" %s%s", s->groups[i],
			       i + 1 < s->ngroups ? "," : "");
		if (p->dh_bits)
			printf("%sDHE %d bits (%s)", s->ngroups ? "; " : " ",
			       p->dh_bits,
			       p->dh_group ? p->dh_group : "custom");
		printf("\n");
	}
	if (s->tls.nchain > 0) {
		const struct smtprobe_cert_facts *c = &s->tls.chain[0];
		printf("  certificate %s, %s-%d, %s, %ld days left\n",
		       cli_printable(c->subject, esc, sizeof(esc)), c->key_type,
		       c->key_bits, c->sig_alg, c->days_left);
		printf("              %zu sent, %s%s%s\n", s->tls.nchain,
		       s->cert_from_flight ? "the leaf from a raw handshake, "
		                             "not verified"
		       : s->tls.verify_ok  ? "trusted"
		                           : "not trusted: ",
		       s->cert_from_flight || s->tls.verify_ok
		               ? ""
		               : s->tls.verify_reason,
		       s->tls.host_checked
		               ? (s->tls.host_match ? ", the name matches"
		                                    : ", the name does not "
		                                      "match")
		               : "");
	}
	printf("  session     compression %s · secure renegotiation %s · "
	       "fallback SCSV %s · OCSP stapled %s%s%s\n",
	       yes_no(p->compression), yes_no(p->secure_renegotiation),
	       yes_no(p->fallback_scsv), yes_no(p->ocsp_stapled),
	       p->implicit ? "" : " · STARTTLS injection ",
	       p->implicit ? "" : yes_no(p->starttls_injection));
	printf("  resumption  by ticket %s · by session id %s · 0-RTT %s · "
	       "client renegotiation %s\n",
	       yes_no(p->resume_ticket), yes_no(p->resume_id),
	       yes_no(p->early_data), yes_no(p->client_renegotiation));
	if (s->retries)
		printf("  (%u probes run again after a refusal, a reset or a "
		       "timeout)\n",
		       s->retries);
	printf("\n");
	if (s->nfindings == 0)
		printf("  %s no findings\n", cli_mark(CLI_MARK_PASS, colour));
	for (size_t i = 0; i < s->nfindings; i++) {
		const struct smtprobe_tls_finding *f = &s->findings[i];
		printf("  %s %-8s %-24s %s\n",
		       cli_mark(sev_mark(f->severity), colour),
		       smtprobe_tls_severity_name(f->severity), f->id, f->text);
		if (f->fix[0])
			printf("    fix: %s\n", f->fix);
	}
}

/* ---- JSON ---------------------------------------------------------------- */

static json_t *tri_json(enum smtprobe_tri t)
{
	return t == SMTPROBE_UNKNOWN ? json_null() : json_boolean(t);
}

static json_t *scan_json(const struct smtprobe_tls_scan *s, const char *host,
                         unsigned port, enum smtprobe_tls_mode mode)
{
	const struct smtprobe_tls_posture *p = &s->posture;
	json_t *o = json_object();
	json_t *complete = json_object();
	json_t *protos = json_object(), *ciphers = json_object(),
	       *pref = json_object(), *groups = json_array(),
	       *findings = json_array();

	json_object_set_new(o, "host", json_string(host));
	json_object_set_new(o, "port", json_integer(port));
	json_object_set_new(o, "tls_mode",
	                    json_string(smtprobe_tls_mode_name(mode)));
	json_object_set_new(
	        o, "software",
	        json_string(smtprobe_software_name(s->software.id)));
	for (int v = 0; v < SMTPROBE_TP_LAST; v++) {
		const char *name = smtprobe_tls_proto_name(v);
		json_object_set_new(protos, name,
		                    p->tested[v] ? json_boolean(p->offered[v])
		                                 : json_null());
		if (!p->offered[v])
			continue;
		json_t *list = json_array();
		for (size_t i = 0; i < s->nsuites[v]; i++) {
			const struct smtprobe_tls_scan_suite *x =
			        &s->suites[v][i];
			json_array_append_new(
			        list,
			        json_pack("{s:s, s:s?, s:s?, s:s?, s:i, s:s}",
			                  "name", x->name, "kx", x->kx, "au",
			                  x->au, "enc", x->enc, "bits", x->bits,
			                  "strength",
			                  smtprobe_suite_strength_name(
			                          x->strength)));
		}
		json_object_set_new(ciphers, name, list);
		json_object_set_new(complete, name,
		                    json_boolean(!s->suites_incomplete[v]));
		json_object_set_new(
		        pref, name,
		        s->server_preference[v] < 0
		                ? json_null()
		                : json_string(s->server_preference[v]
		                                      ? "server"
		                                      : "client"));
	}
	json_object_set_new(o, "protocols", protos);
	json_object_set_new(o, "ciphers", ciphers);
	json_object_set_new(o, "ciphers_complete", complete);
	json_object_set_new(o, "server_preference", pref);
	for (size_t i = 0; i < s->ngroups; i++)
		json_array_append_new(groups, json_string(s->groups[i]));
	json_object_set_new(o, "groups", groups);
	json_object_set_new(o, "dh_bits",
	                    p->dh_bits ? json_integer(p->dh_bits)
	                               : json_null());
	json_t *cert = json_null();
	if (s->tls.nchain > 0) {
		const struct smtprobe_cert_facts *c = &s->tls.chain[0];
		json_t *chain = json_array();
		for (size_t i = 0; i < s->tls.nchain; i++)
			json_array_append_new(
			        chain,
			        json_pack("{s:s, s:s}", "subject",
			                  s->tls.chain[i].subject, "issuer",
			                  s->tls.chain[i].issuer));
		cert = json_pack(
		        "{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:i, s:s, "
		        "s:b, s:b, s:s, s:b, s:b, s:b, s:b, s:o}",
		        "subject", c->subject, "issuer", c->issuer, "sans",
		        c->sans, "not_before", c->not_before, "not_after",
		        c->not_after, "days_left", (json_int_t)c->days_left,
		        "lifetime_days", (json_int_t)c->lifetime_days,
		        "key_type", c->key_type, "key_bits", c->key_bits,
		        "sig_alg", c->sig_alg, "trusted", s->tls.verify_ok,
		        "self_signed", c->self_signed, "verify_reason",
		        s->tls.verify_reason, "host_match", s->tls.host_match,
		        "chain_incomplete", s->tls.chain_incomplete,
		        "ocsp_stapled", s->tls.ocsp_stapled,
		        "extended_master_secret", s->tls.extended_master_secret,
		        "chain", chain);
		if (!cert)
			cert = json_null(); /* (json_pack took chain with it) */
		else {
			json_object_set_new(cert, "must_staple",
			                    json_boolean(c->must_staple));
			json_object_set_new(
			        cert, "chain_order_ok",
			        json_boolean(s->tls.nchain < 2 ||
			                     s->tls.chain_order_ok));
		}
		if (cert && !json_is_null(cert) &&
		    strcmp(s->tls.protocol, "TLSv1.3") == 0)
			/* a TLS <= 1.2 notion: TLS 1.3 always binds it */
			json_object_set_new(cert, "extended_master_secret",
			                    json_null());
	}
	if (s->cert_from_flight && json_is_object(cert)) {
		/* the leaf of a raw flight: its own facts, nothing verified */
		json_object_set_new(cert, "trusted", json_null());
		json_object_set_new(cert, "chain_incomplete", json_null());
		json_object_set_new(cert, "ocsp_stapled", json_null());
		json_object_set_new(cert, "verified", json_false());
	} else if (json_is_object(cert)) {
		json_object_set_new(cert, "verified", json_true());
	}
	json_object_set_new(o, "certificate", cert);
	json_object_set_new(
	        o, "session",
	        json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
	                  "compression", tri_json(p->compression),
	                  "secure_renegotiation",
	                  tri_json(p->secure_renegotiation), "fallback_scsv",
	                  tri_json(p->fallback_scsv), "ocsp_stapled",
	                  tri_json(p->ocsp_stapled), "starttls_injection",
	                  tri_json(p->starttls_injection), "resume_ticket",
	                  tri_json(p->resume_ticket), "resume_id",
	                  tri_json(p->resume_id), "early_data",
	                  tri_json(p->early_data), "client_renegotiation",
	                  tri_json(p->client_renegotiation)));
	for (size_t i = 0; i < s->nfindings; i++) {
		const struct smtprobe_tls_finding *f = &s->findings[i];
		json_array_append_new(
		        findings,
		        json_pack("{s:s, s:s, s:s, s:s}", "id", f->id,
		                  "severity",
		                  smtprobe_tls_severity_name(f->severity),
		                  "text", f->text, "fix", f->fix));
	}
	json_object_set_new(o, "findings", findings);
	json_object_set_new(o, "handshake_error",
	                    s->handshake_error[0]
	                            ? json_string(s->handshake_error)
	                            : json_null());
	json_object_set_new(o, "connections", json_integer(s->connections));
	json_object_set_new(o, "retries", json_integer(s->retries));
	json_object_set_new(o, "ms", json_real(s->ms));
	json_object_set_new(o, "exit", json_integer(smtprobe_tls_scan_exit(s)));
	return o;
}

/* ---- nagios ----------------------------------------------------------------
 */

static int render_nagios(const struct smtprobe_tls_scan *s, const char *host,
                         unsigned port, const struct cli_nagios *ng)
{
	enum cli_nagios_state st = CLI_NAGIOS_OK;
	char summary[1024], perf[256], item[96];
	const char *lines[SMTPROBE_MAX_FINDINGS];
	static char text[SMTPROBE_MAX_FINDINGS][SMTPROBE_FINDING_TEXT + 64];
	size_t n = 0, worst = 0;

	if (!s->ran) {
		snprintf(summary, sizeof(summary), "%s:%u: %s", host, port,
		         s->error);
		return cli_nagios_print("TLS", CLI_NAGIOS_CRITICAL, summary, "",
		                        NULL, 0);
	}
	for (size_t i = 0; i < s->nfindings; i++) {
		const struct smtprobe_tls_finding *f = &s->findings[i];
		if (f->severity >= SMTPROBE_SEV_HIGH) {
			st = CLI_NAGIOS_CRITICAL;
			worst++;
		} else if (f->severity == SMTPROBE_SEV_MEDIUM &&
		           st < CLI_NAGIOS_WARNING)
			st = CLI_NAGIOS_WARNING;
		if (f->severity >= SMTPROBE_SEV_LOW) {
			snprintf(text[n], sizeof(text[n]), "[%s] %s: %s",
			         smtprobe_tls_severity_name(f->severity), f->id,
			         f->text);
			lines[n] = text[n];
			n++;
		}
	}
	if (s->profile_deviations && st < CLI_NAGIOS_WARNING)
		st = CLI_NAGIOS_WARNING;
	double secs = s->ms / 1000.0;
	cli_nagios_time(ng, secs, &st);
	cli_nagios_time_perf(ng, secs, perf, sizeof(perf));
	size_t o = strlen(perf);
	snprintf(item, sizeof(item), " connections=%u;;;0", s->connections);
	snprintf(perf + o, sizeof(perf) - o, "%s", item);
	int have_cert = s->tls.nchain > 0;
	if (have_cert) {
		long days = s->tls.chain[0].days_left;
		cli_nagios_cert(ng, days, &st);
		cli_nagios_cert_perf(ng, days, item, sizeof(item));
		o = strlen(perf);
		snprintf(perf + o, sizeof(perf) - o, " %s", item);
	}
	o = (size_t)snprintf(summary, sizeof(summary), "%s:%u %s", host, port,
	                     s->tls.protocol[0] ? s->tls.protocol : "TLS");
	if (have_cert && o < sizeof(summary))
		o += (size_t)snprintf(summary + o, sizeof(summary) - o,
		                      ", certificate %ld days left",
		                      s->tls.chain[0].days_left);
	if (o < sizeof(summary) && worst)
		snprintf(summary + o, sizeof(summary) - o,
		         ", %zu high or critical finding%s (first: %s)", worst,
		         worst == 1 ? "" : "s", s->findings[0].id);
	else if (o < sizeof(summary))
		snprintf(summary + o, sizeof(summary) - o, ", no high finding");
	return cli_nagios_print("TLS", st, summary, perf, lines, n);
}

/* ---- running ---------------------------------------------------------------
 */

static int scan_one(struct tls_cfg *c, const char *host, unsigned port,
                    enum smtprobe_tls_mode mode, json_t *listeners)
{
	struct smtprobe_tls_scan *s = calloc(1, sizeof(*s));
	struct smtprobe_params q;

	if (!s) {
		cli_error("out of memory");
		return 2;
	}
	char err[512];
	memset(&q, 0, sizeof(q));
	if (cli_common_apply(&c->common, host, &q, err, sizeof(err)) < 0) {
		cli_error("%s", err);
		free(s);
		return 2;
	}
	struct smtprobe_tls_scan_params sp = {
	        .host = host,
	        .port = port,
	        .tls = mode,
	        .helo = c->helo,
	        .family = q.family,
	        .sni = c->common.tls_sni,
	        .verify_host = c->common.tls_verify_host,
	        .ca_file = q.tls_opts.ca_file,
	        .ca_path = q.tls_opts.ca_path,
	        .max_connections = (unsigned)c->max_conn,
	        .pause_ms = c->rate > 0 ? (unsigned)(1000 / c->rate) : 0,
	        .timeout_ms = (unsigned)c->common.timeout_ms,
	        .quick = c->quick,
	        .verify_everywhere = c->common.tls_verify,
	        .profile = c->profile,
	};
	if (smtprobe_tls_scan(&sp, s) < 0 && c->format == CLI_FMT_TEXT)
		cli_error("%s:%u: %s", host, port, s->error);
	int rc = smtprobe_tls_scan_exit(s);
	if (s->ran)
		mode = s->mode;
	if (c->format == CLI_FMT_NAGIOS) {
		rc = render_nagios(s, host, port, &c->ng);
		free(s);
		return rc;
	}
	if (c->format >= CLI_FMT_PROMETHEUS) {
		smtprobe_assure_tls(&sp, s, &c->oc);
		free(s);
		return rc;
	}
	if (c->common.json) {
		json_t *o = scan_json(s, host, port, mode);
		if (!s->ran)
			json_object_set_new(o, "error", json_string(s->error));
		json_array_append_new(listeners, o);
	} else if (s->ran) {
		render_text(s, host, port, mode, c->verbose);
	}
	free(s);
	return rc;
}

static enum smtprobe_tls_mode mode_for(const struct tls_cfg *c, unsigned port)
{
	if (c->tlsc)
		return SMTPROBE_TLSMODE_IMPLICIT;
	if (c->starttls)
		return SMTPROBE_TLSMODE_REQUIRED;
	if (port == 465)
		return SMTPROBE_TLSMODE_IMPLICIT;
	if (port == 25 || port == 587)
		return SMTPROBE_TLSMODE_REQUIRED;
	return SMTPROBE_TLSMODE_AUTO; /* the first connection finds out */
}

static int tls_run(struct tls_cfg *c)
{
	/* the machine's name, as check greets (a name the server can log) */
	if (!c->helo)
		c->helo = cli_local_name();
	char host[256];
	long port = c->port;
	json_t *listeners = json_array();
	int rc = 0;

	if (cli_target("tls", c->target, host, sizeof(host), &port) < 0)
		return c->format == CLI_FMT_NAGIOS ? CLI_NAGIOS_UNKNOWN : 2;
	if (c->port > 0)
		port = c->port;
	if ((c->format == CLI_FMT_NAGIOS || c->format == CLI_FMT_PROMETHEUS) &&
	    port <= 0) {
		cli_error("--format %s needs a port (HOST:PORT or -p)",
		          c->format == CLI_FMT_NAGIOS ? "nagios"
		                                      : "prometheus");
		json_decref(listeners);
		return c->format == CLI_FMT_NAGIOS ? CLI_NAGIOS_UNKNOWN : 2;
	}
	if (port > 0) {
		rc = scan_one(c, host, (unsigned)port,
		              mode_for(c, (unsigned)port), listeners);
	} else {
		static const unsigned ports[MAX_LISTENERS] = {25, 465, 587};
		struct smtprobe_params base;
		struct smtprobe_port_scan ps;
		char err[512];
		memset(&base, 0, sizeof(base));
		if (cli_common_apply(&c->common, host, &base, err,
		                     sizeof(err)) < 0) {
			cli_error("%s", err);
			json_decref(listeners);
			return 2;
		}
		base.host = host;
		base.helo = c->helo;
		smtprobe_discover(&base, ports, MAX_LISTENERS, &ps);
		int scanned = 0;
		for (size_t i = 0; i < ps.nports; i++) {
			const struct smtprobe_port_probe *pp = &ps.port[i];
			if (!pp->open)
				continue;
			if (scanned++ && c->format == CLI_FMT_TEXT)
				printf("\n");
			int r = scan_one(c, host, pp->port,
			                 pp->tls == SMTPROBE_TLSMODE_IMPLICIT
			                         ? SMTPROBE_TLSMODE_IMPLICIT
			                         : SMTPROBE_TLSMODE_REQUIRED,
			                 listeners);
			rc = r > rc ? r : rc;
		}
		if (!scanned) {
			cli_error("%s: no SMTP listener on 25, 465 or 587",
			          host);
			rc = 2;
		}
	}
	if (c->format >= CLI_FMT_PROMETHEUS &&
	    cli_outcome_print(c->format, &c->oc, "smtprobe tls") < 0)
		rc = 2;
	if (c->common.json) {
		json_t *doc =
		        port > 0 && json_array_size(listeners) == 1
		                ? json_incref(json_array_get(listeners, 0))
		                : json_pack("{s:s, s:O}", "host", host,
		                            "listeners", listeners);
		char *txt =
		        json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (txt)
			printf("%s\n", txt);
		free(txt);
		json_decref(doc);
	}
	json_decref(listeners);
	return rc;
}

int cmd_tls(int argc, char **argv)
{
	struct tls_cfg c;
	char err[512];

	memset(&c, 0, sizeof(c));
	c.port = -1;
	cli_nagios_init(&c.ng);
	cli_common_init(&c.common, 10000, 0);
	/* a monitoring system reads a usage error as UNKNOWN (3) */
	int usage = cli_nagios_wanted(argc, argv) ? CLI_NAGIOS_UNKNOWN : 2;
	if (opts_parse(tls_defs, argc, argv, on_tls_opt, cli_common_accept, &c,
	               err, sizeof(err)) < 0) {
		cli_error("%s", err);
		cli_common_release(&c.common);
		return usage;
	}
	if (c.help) {
		tls_help(stdout);
		cli_common_release(&c.common);
		return 0;
	}
	if (!c.target) {
		tls_help(stderr);
		cli_common_release(&c.common);
		return usage;
	}
	if (c.starttls && c.tlsc) {
		cli_error("--starttls and --tls-on-connect exclude each other");
		cli_common_release(&c.common);
		return usage;
	}
	smtprobe_outcome_init(&c.oc);
	int rc = tls_run(&c);
	smtprobe_outcome_free(&c.oc);
	cli_common_release(&c.common);
	return rc;
}
