/* dns.c - `smtprobe dns DOMAIN`: the mail domain's DNS posture (MX, PTR,
 * SPF, DMARC, DKIM, MTA-STS, TLS-RPT, DANE records, DNSSEC), collected by
 * lib/dns (every lookup at once, DNSSEC validated) and judged there; this
 * file parses the options and prints the report: text (a line per check,
 * its fix below a failure or a warning) or one JSON document. Exit 0 no
 * check fails, 1 one does, 2 it could not run (or a usage error). */
#include <arpa/inet.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "cli.h"
#include "nagios_out.h"
#include "opts.h"
#include "smtprobe/assure.h"
#include "smtprobe/dnscheck.h"
#include "smtprobe/message.h"
#include "smtprobe/tls.h"
#include "banned.h"

enum {
	D_RESOLVER = 1,
	D_ANCHOR,
	D_IP,
	D_SELECTOR,
	D_STS_PORT,
	D_MX_PORT,
	D_NO_CONNECT,
	D_HELO,
	D_CA,
	D_TIMEOUT,
	D_JSON,
	D_HELP,
	D_FORMAT, /* and the two after it: CLI_OPTS_FORMAT */
	D_WARN,
	D_CRIT,
};

static const struct opt_def dns_defs[] = {
        {D_RESOLVER, "resolver", OPT_REQ, "ADDR[:PORT]",
         "send every query there (default: the system's resolvers)"},
        {D_ANCHOR, "trust-anchor", OPT_REQ, "FILE",
         "DS or DNSKEY records (zone-file format) to validate from "
         "(default: the root's, Debian's dns-root-data)"},
        {D_IP, "ip", OPT_REQ, "ADDR",
         "evaluate SPF for mail sent from this address"},
        {D_SELECTOR, "dkim-selector", OPT_REQ, "SEL",
         "check the DKIM key of this selector (repeatable)"},
        {D_STS_PORT, "mta-sts-port", OPT_REQ, "PORT",
         "fetch the MTA-STS policy from this port (default 443; for "
         "tests)"},
        {D_MX_PORT, "mx-port", OPT_REQ, "PORT",
         "connect to the MXs on this port (default 25; for tests)"},
        {D_NO_CONNECT, "no-connect", OPT_NONE, NULL,
         "no SMTP connections to the MXs: DNS only (no banner or DANE "
         "match)"},
        {D_HELO, "helo", OPT_REQ, "NAME",
         "the EHLO name for the MX connections (default: this host's "
         "name)"},
        {D_CA, "tls-ca-path", OPT_REQ, "PATH",
         "trust these CAs (a file or a directory) for the MTA-STS fetch "
         "and the MX certificates (default: the system's)"},
        {D_TIMEOUT, "timeout", OPT_REQ, "SECS",
         "the whole check's deadline (default 30)"},
        {D_JSON, "json", OPT_NONE, NULL,
         "one JSON document (the same as --format json)"},
        CLI_OPTS_FORMAT(D_FORMAT),
        {D_HELP, "help", OPT_NONE, NULL, "this help"},
        {0, NULL, OPT_NONE, NULL, NULL},
};

struct dns_cfg {
	struct smtprobe_dc_params p;
	const char *selectors[SMTPROBE_DC_MAX_SELECTORS];
	int json, help;
	int format; /* enum cli_format */
	struct cli_nagios ng;
};

static int on_dns_opt(void *ctx, int id, const char *v, char *err, size_t errsz)
{
	struct dns_cfg *c = ctx;
	long n;

	switch (id) {
	case 0:
		if (c->p.domain) {
			snprintf(err, errsz, "unexpected argument '%s'", v);
			return -1;
		}
		c->p.domain = v;
		return 0;
	case D_RESOLVER:
		c->p.dns.resolver = v;
		return 0;
	case D_ANCHOR:
		c->p.dns.trust_anchor = v;
		return 0;
	case D_IP: {
		unsigned char b[16];
		if (inet_pton(AF_INET, v, b) != 1 &&
		    inet_pton(AF_INET6, v, b) != 1) {
			snprintf(err, errsz,
			         "bad --ip '%s' (an IPv4 or IPv6 "
			         "address)",
			         v);
			return -1;
		}
		c->p.ip = v;
		return 0;
	}
	case D_SELECTOR:
		if (c->p.nsel >= SMTPROBE_DC_MAX_SELECTORS) {
			snprintf(err, errsz, "at most %d --dkim-selector",
			         SMTPROBE_DC_MAX_SELECTORS);
			return -1;
		}
		if (!v[0] || strlen(v) > 63 || strchr(v, ' ')) {
			snprintf(err, errsz, "bad --dkim-selector '%s'", v);
			return -1;
		}
		c->selectors[c->p.nsel++] = v;
		return 0;
	case D_STS_PORT:
		n = opts_number(v, 1, 65535);
		if (n < 0) {
			snprintf(err, errsz, "bad --mta-sts-port '%s'", v);
			return -1;
		}
		c->p.mta_sts_port = (unsigned)n;
		return 0;
	case D_MX_PORT:
		n = opts_number(v, 1, 65535);
		if (n < 0) {
			snprintf(err, errsz, "bad --mx-port '%s'", v);
			return -1;
		}
		c->p.mx_port = (unsigned)n;
		return 0;
	case D_NO_CONNECT:
		c->p.connect = 0;
		return 0;
	case D_HELO:
		if (!smtprobe_arg_safe(v, 0) || strlen(v) >= 250) {
			snprintf(err, errsz,
			         "bad --helo '%s': no spaces or control "
			         "characters, under 250 bytes",
			         v);
			return -1;
		}
		c->p.helo = v;
		return 0;
	case D_CA: {
		struct smtprobe_tls_opts o;
		memset(&o, 0, sizeof(o));
		if (cli_tls_ca(v, &o, err, errsz) < 0)
			return -1;
		c->p.ca_file = o.ca_file;
		c->p.ca_path = o.ca_path;
		return 0;
	}
	case D_TIMEOUT:
		n = opts_duration_ms(v);
		if (n < 100 || n > 600000) {
			snprintf(err, errsz,
			         "bad --timeout '%s' (0.1 to 600 "
			         "seconds)",
			         v);
			return -1;
		}
		c->p.timeout_ms = (unsigned)n;
		c->p.dns.timeout_ms = (unsigned)(n < 5000 ? n : 5000);
		return 0;
	case D_JSON:
		c->json = 1;
		c->format = CLI_FMT_JSON;
		return 0;
	case D_FORMAT:
		return cli_format_opt(v, &c->json, &c->format, err, errsz);
	case D_WARN:
	case D_CRIT:
		return cli_nagios_opt(&c->ng, id - D_WARN, v, err, errsz);
	case D_HELP:
		c->help = 1;
		return 0;
	}
	snprintf(err, errsz, "internal: option %d", id);
	return -1;
}

static void dns_help(FILE *f)
{
	fprintf(f,
	        "usage: smtprobe dns DOMAIN [OPTIONS]\n\n"
	        "The mail domain's DNS posture: MX, reverse DNS, SPF, DMARC, "
	        "DKIM keys,\nMTA-STS, TLS-RPT, DANE records and DNSSEC, "
	        "each check with its fix.\n\n");
	opts_help(dns_defs, f);
	fprintf(f, "\nexit codes: 0 no check fails, 1 one does, 2 it could "
	           "not run or a usage error.\n"
	           "\nexample:\n  smtprobe dns example.org --dkim-selector "
	           "s1 --ip 192.0.2.25\n");
}

static enum cli_mark mark_of(enum smtprobe_dc_status s)
{
	switch (s) {
	case SMTPROBE_DC_PASS:
		return CLI_MARK_PASS;
	case SMTPROBE_DC_WARN:
		return CLI_MARK_WARN;
	case SMTPROBE_DC_FAIL:
		return CLI_MARK_FAIL;
	case SMTPROBE_DC_SKIP:
		return CLI_MARK_SKIP;
	case SMTPROBE_DC_INFO:
		break;
	}
	return CLI_MARK_FACT;
}

/* what the SMTP session to one MX address showed, one line */
static void smtp_line(const struct smtprobe_dc_addr *ad)
{
	const struct smtprobe_dc_smtp *s = &ad->smtp;

	printf("      %s: ", ad->addr);
	if (!s->tried || s->banner_code == 0) {
		printf("%s\n", s->why[0] ? s->why : "no session");
		return;
	}
	printf("%s", s->banner);
	if (s->banner_code != 220 || !s->ehlo_name[0]) {
		printf("%s%s\n", s->why[0] ? "; " : "", s->why);
		return;
	}
	if (!s->starttls)
		printf("; no STARTTLS");
	else if (!s->tls)
		printf("; STARTTLS fails: %s", s->tls_error);
	else if (s->dane_checked)
		printf("; %s, DANE %s", s->protocol,
		       s->dane_match ? "match" : "no match");
	else
		printf("; %s, certificate %s", s->protocol,
		       s->verify_ok ? "trusted" : s->verify_reason);
	printf("\n");
}

static void render_text(const struct smtprobe_dc_facts *f,
                        const struct smtprobe_dc_report *r)
{
	int colour = cli_colour(stdout);
	size_t fails = 0, warns = 0;

	printf("%s", f->domain);
	if (f->org_domain[0] && strcmp(f->org_domain, f->domain) != 0)
		printf(" (organisational domain %s)", f->org_domain);
	printf("\n");
	for (size_t i = 0; i < f->nmx; i++) {
		const struct smtprobe_dc_mx *m = &f->mxs[i];
		printf("  MX %-3u %s", m->pref, m->host);
		for (size_t k = 0; k < m->naddr; k++)
			printf("%s%s", k ? ", " : "  ", m->addr[k].addr);
		printf("\n");
		for (size_t k = 0; f->connect && k < m->naddr; k++)
			smtp_line(&m->addr[k]);
	}
	printf("\n");
	for (size_t i = 0; i < r->n; i++) {
		const struct smtprobe_dc_check *c = &r->check[i];
		char id[128];
		snprintf(id, sizeof(id), "%s%s%s", c->id,
		         c->selector[0] ? " " : "", c->selector);
		printf("  %s %-24s %s\n", cli_mark(mark_of(c->status), colour),
		       id, c->text);
		if ((c->status == SMTPROBE_DC_FAIL ||
		     c->status == SMTPROBE_DC_WARN) &&
		    c->fix[0])
			printf("      fix: %s\n", c->fix);
		fails += c->status == SMTPROBE_DC_FAIL;
		warns += c->status == SMTPROBE_DC_WARN;
	}
	printf("\nresult: %zu check%s failed, %zu warned (exit %d)\n", fails,
	       fails == 1 ? "" : "s", warns, r->exit_code);
}

/* the SMTP session's facts; null when none was made */
static json_t *smtp_json(const struct smtprobe_dc_smtp *s, int connect)
{
	if (!connect)
		return json_null();
	json_t *o = json_pack("{s:b, s:s, s:i, s:s, s:s, s:b, s:b, s:s, s:f}",
	                      "tried", s->tried, "error", s->why, "banner_code",
	                      s->banner_code, "banner", s->banner, "ehlo_name",
	                      s->ehlo_name, "starttls", s->starttls, "tls",
	                      s->tls, "tls_error", s->tls_error, "ms", s->ms);
	if (o && s->tls) {
		json_object_set_new(o, "protocol", json_string(s->protocol));
		json_object_set_new(o, "verify_ok", json_boolean(s->verify_ok));
		json_object_set_new(o, "verify_reason",
		                    json_string(s->verify_reason));
		json_object_set_new(o, "host_match",
		                    json_boolean(s->host_match));
		json_object_set_new(o, "spki_sha256",
		                    json_string(s->spki_sha256));
	}
	if (o && s->tls && s->dane_checked)
		json_object_set_new(
		        o, "dane",
		        json_pack("{s:i, s:b, s:i, s:i, s:i, s:i}", "records",
		                  (int)s->tlsa_given, "match", s->dane_match,
		                  "depth", s->dane_depth, "usage",
		                  s->dane_usage, "selector", s->dane_selector,
		                  "mtype", s->dane_mtype));
	return o ? o : json_null();
}

static json_t *answer_addrs(const struct smtprobe_dc_facts *f,
                            const struct smtprobe_dc_mx *m)
{
	json_t *a = json_array();
	for (size_t k = 0; k < m->naddr; k++) {
		const struct smtprobe_dc_addr *ad = &m->addr[k];
		json_t *ptr = json_array();
		for (size_t j = 0; j < ad->ptr.n; j++)
			json_array_append_new(ptr, json_string(ad->ptr.rec[j]));
		json_array_append_new(
		        a, json_pack("{s:s, s:o, s:o}", "address", ad->addr,
		                     "ptr", ptr, "smtp",
		                     smtp_json(&ad->smtp, f->connect)));
	}
	return a;
}

static int render_json(const struct smtprobe_dc_facts *f,
                       const struct smtprobe_dc_report *r)
{
	json_t *checks = json_array(), *mx = json_array();

	for (size_t i = 0; i < r->n; i++) {
		const struct smtprobe_dc_check *c = &r->check[i];
		json_t *o =
		        json_pack("{s:s, s:s, s:s, s:s}", "id", c->id, "status",
		                  smtprobe_dc_status_name(c->status), "text",
		                  c->text, "fix", c->fix);
		/* json_pack fails on text that is not UTF-8: never left out
		 * quietly */
		if (o == NULL) {
			cli_error("%s: a text is not UTF-8", c->id);
			json_decref(checks);
			json_decref(mx);
			return -1;
		}
		if (c->selector[0])
			json_object_set_new(o, "selector",
			                    json_string(c->selector));
		if (c->host[0])
			json_object_set_new(o, "host", json_string(c->host));
		json_array_append_new(checks, o);
	}
	for (size_t i = 0; i < f->nmx; i++)
		json_array_append_new(
		        mx,
		        json_pack("{s:s, s:i, s:s, s:o}", "host",
		                  f->mxs[i].host, "preference",
		                  (int)f->mxs[i].pref, "dnssec",
		                  smtprobe_dnssec_name(f->mxs[i].a.dnssec),
		                  "addresses", answer_addrs(f, &f->mxs[i])));
	json_t *doc =
	        json_pack("{s:s, s:s, s:o, s:o, s:i}", "domain", f->domain,
	                  "organisational_domain", f->org_domain, "checks",
	                  checks, "mx", mx, "exit_code", r->exit_code);
	char *txt = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER)
	                : NULL;
	if (txt)
		printf("%s\n", txt);
	free(txt);
	json_decref(doc);
	return txt ? 0 : -1;
}

/* --format nagios: CRITICAL when a check fails, WARNING when one warns;
 * perfdata: the seconds, the checks, the failed and the warned */
static int render_nagios(const struct dns_cfg *c,
                         const struct smtprobe_dc_facts *f,
                         const struct smtprobe_dc_report *r, double secs)
{
	enum cli_nagios_state st = CLI_NAGIOS_OK;
	static char text[SMTPROBE_DC_MAX_CHECKS][700];
	const char *lines[SMTPROBE_DC_MAX_CHECKS];
	size_t n = 0, fails = 0, warns = 0;
	char summary[800] = "", perf[300], part[128];

	for (size_t i = 0; i < r->n; i++) {
		const struct smtprobe_dc_check *k = &r->check[i];
		if (k->status != SMTPROBE_DC_FAIL &&
		    k->status != SMTPROBE_DC_WARN)
			continue;
		fails += k->status == SMTPROBE_DC_FAIL;
		warns += k->status == SMTPROBE_DC_WARN;
		snprintf(text[n], sizeof(text[n]), "[%s] %s%s%s: %.500s",
		         smtprobe_dc_status_name(k->status), k->id,
		         k->selector[0] ? " " : "", k->selector, k->text);
		lines[n] = text[n];
		if (summary[0] == '\0' || (k->status == SMTPROBE_DC_FAIL &&
		                           st != CLI_NAGIOS_CRITICAL))
			snprintf(summary, sizeof(summary), "%s: %s %.500s",
			         f->domain, k->id, k->text);
		if (k->status == SMTPROBE_DC_FAIL)
			st = CLI_NAGIOS_CRITICAL;
		else if (st == CLI_NAGIOS_OK)
			st = CLI_NAGIOS_WARNING;
		n++;
	}
	if (summary[0] == '\0')
		snprintf(summary, sizeof(summary), "%s: %zu checks, none fails",
		         f->domain, r->n);
	cli_nagios_time(&c->ng, secs, &st);
	cli_nagios_time_perf(&c->ng, secs, perf, sizeof(perf));
	snprintf(part, sizeof(part),
	         " checks=%zu;;;0 failed=%zu;;0;0 warned=%zu;;;0", r->n, fails,
	         warns);
	size_t len = strlen(perf);
	snprintf(perf + len, sizeof(perf) - len, "%s", part);
	return cli_nagios_print("DNS", st, summary, perf, lines, n);
}

int cmd_dns(int argc, char **argv)
{
	struct dns_cfg c;
	char err[512] = "";

	memset(&c, 0, sizeof(c));
	c.p.connect = 1;
	cli_nagios_init(&c.ng);
	/* a monitoring system reads a usage error as UNKNOWN (3) */
	int usage = cli_nagios_wanted(argc, argv) ? CLI_NAGIOS_UNKNOWN : 2;
	if (opts_parse(dns_defs, argc, argv, on_dns_opt, NULL, &c, err,
	               sizeof(err)) < 0) {
		cli_error("%s (try 'smtprobe dns --help')", err);
		return usage;
	}
	if (c.help) {
		dns_help(stdout);
		return 0;
	}
	if (c.p.domain == NULL) {
		dns_help(stderr);
		return usage;
	}
	c.p.selectors = c.selectors;
	if (c.p.helo == NULL)
		c.p.helo = cli_local_name();
	struct smtprobe_dc_facts *f = calloc(1, sizeof(*f));
	struct smtprobe_dc_report *r = calloc(1, sizeof(*r));
	if (f == NULL || r == NULL) {
		cli_error("out of memory");
		free(f);
		free(r);
		return 2;
	}
	int rc = usage;
	uint64_t t0 = uv_hrtime();
	if (smtprobe_dns_collect(&c.p, f, err, sizeof(err)) < 0) {
		cli_error("%s", err);
	} else {
		smtprobe_dns_judge(f, r);
		rc = r->exit_code;
		if (c.format == CLI_FMT_NAGIOS) {
			rc = render_nagios(&c, f, r,
			                   (double)(uv_hrtime() - t0) / 1e9);
		} else if (c.format >= CLI_FMT_PROMETHEUS) {
			struct smtprobe_outcome o;
			smtprobe_outcome_init(&o);
			smtprobe_assure_dns(f, r, &o);
			if (cli_outcome_print(c.format, &o, "smtprobe dns") < 0)
				rc = 2;
			smtprobe_outcome_free(&o);
		} else if (c.json) {
			if (render_json(f, r) < 0)
				rc = 2;
		} else {
			render_text(f, r);
		}
	}
	smtprobe_dc_facts_free(f);
	free(f);
	free(r);
	return rc;
}
