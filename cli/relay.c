/* relay.c - `smtprobe relay HOST`: the relay-policy audit (scenarios A, B
 * and C of RELAY-TESTS.md), rendered as a table of tests and verdicts or
 * as JSON. Exit 0 the policy holds, 1 it is violated (open relay, spoofing
 * allowed, scope not enforced, an in-scope send refused), 2 undecided or a
 * usage error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "nagios_out.h"
#include "opts.h"
#include "smtprobe/assure.h"
#include "smtprobe/message.h"
#include "smtprobe/discover.h"
#include "smtprobe/relay.h"
#include "banned.h"

enum {
	R_PORT = 1,
	R_LOCAL,
	R_EXTERNAL,
	R_ALLOWED,
	R_DENIED,
	R_OTHER,
	R_EXT_SENDER,
	R_STRICT,
	R_FROM,
	R_SCENARIO,
	R_CONCURRENCY,
	R_PAUSE,
	R_DELIVER,
	R_MAX_TIME,
	R_HELO,
	R_VERBOSE,
	R_HELP,
	R_FORMAT, /* and the two after it: CLI_OPTS_FORMAT */
	R_WARN,
	R_CRIT,
	R_CERT_DAYS,
};

static const struct opt_def relay_defs[] = {
        {R_PORT, "p|port", OPT_REQ, "PORT",
         "audit this listener (repeatable; default: those of 25, 465, 587 "
         "and 2525 that answer)"},
        {R_LOCAL, "local-domain", OPT_REQ, "DOMAIN",
         "a domain the server takes mail for (default: guessed from the "
         "banner)"},
        {R_EXTERNAL, "external-domain", OPT_REQ, "DOMAIN",
         "a domain it must not relay to "
         "(default " SMTPROBE_RELAY_DEFAULT_EXTERNAL ")"},
        CLI_OPT_AUTH("authenticate for scenarios B and C (strongest "
                     "offered by default)"),
        CLI_OPTS_AUTH_CREDENTIALS,
        {R_FROM, "f|from", OPT_REQ, "ADDR",
         "the user's own address (default: the AUTH user if it is an "
         "address, else USER@local-domain)"},
        {R_ALLOWED, "allowed-to", OPT_REQ, "DOMAIN",
         "B: a domain the user may send to (repeatable; default the "
         "external domain)"},
        {R_DENIED, "denied-to", OPT_REQ, "DOMAIN",
         "C: a domain the user must not reach (repeatable)"},
        {R_OTHER, "other-sender", OPT_REQ, "ADDR",
         "another local user's address, for the spoofing tests (default "
         "postmaster@local-domain)"},
        {R_EXT_SENDER, "external-sender", OPT_REQ, "ADDR",
         "a sender in a domain of yours that resolves, for relay attempts "
         "the server stops at MAIL by checking sender domains (default: an "
         "address at the local domain)"},
        {R_STRICT, "strict", OPT_NONE, NULL,
         "warnings count as violations (exit 1)"},
        {R_SCENARIO, "scenario", OPT_REQ, "LIST",
         "run only these scenarios, e.g. A or BC (default ABC)"},
        {R_CONCURRENCY, "concurrency", OPT_REQ, "N",
         "connections at once (default 4, at most 32)"},
        {R_PAUSE, "pause", OPT_REQ, "SECS",
         "wait this long before each new connection (e.g. 0.2)"},
        {R_MAX_TIME, "max-time", OPT_REQ, "SECS",
         "end the whole audit after this long (default 300); what did not "
         "run makes the verdict inconclusive"},
        {R_DELIVER, "deliver", OPT_NONE, NULL,
         "tests past RCPT send a marked test message (default: stop before "
         "DATA)"},
        CLI_OPT_TLS_VERIFY("a certificate that does not verify ends a "
                           "test"),
        CLI_OPTS_TLS_PEER,
        CLI_OPT_TIMEOUT("longest wait for one reply (and for the connect "
                        "and the TLS handshake; default 10s)"),
        CLI_OPT_SESSION_TIMEOUT("deadline for each test's session (default "
                                "8 x --timeout)"),
        {R_HELO, "helo|ehlo", OPT_REQ, "NAME",
         "our HELO name (default " SMTPROBE_RELAY_DEFAULT_HELO ")"},
        CLI_OPTS_FAMILY,
        CLI_OPT_JSON("one JSON document (the same as --format json)"),
        CLI_OPTS_FORMAT(R_FORMAT),
        /* refused with a reason, so not in --help */
        {R_CERT_DAYS, "cert-days", OPT_REQ, "WARN[,CRIT]", NULL},
        {R_VERBOSE, "v|verbose", OPT_NONE, NULL,
         "show each test's envelope and reasoning in the table"},
        {R_HELP, "help", OPT_NONE, NULL, "this help"},
        {0, NULL, OPT_NONE, NULL, NULL},
};

struct relay_cfg {
	const char *target;
	struct smtprobe_relay_params p;
	struct cli_common common; /* TLS peer, AUTH, timeouts, -4/-6, --json */
	const char *helo, *own, *other, *ext_sender;
	char scenario[4];
	int verbose, help;
	int format; /* enum cli_format */
	struct cli_nagios ng;
	int ran; /* the audit ran: a 2 before it is a usage error */
};

static int add_port(struct relay_cfg *c, long port, char *err, size_t errsz)
{
	if (c->p.nports >= SMTPROBE_RELAY_MAX_PORTS) {
		snprintf(err, errsz, "at most %d ports",
		         SMTPROBE_RELAY_MAX_PORTS);
		return -1;
	}
	for (size_t i = 0; i < c->p.nports; i++)
		if (c->p.ports[i] == (unsigned)port)
			return 0;
	c->p.ports[c->p.nports++] = (unsigned)port;
	return 0;
}

/* A host name as the catalogue puts it into addresses and HELO: labels
 * of letters, digits and '-' (at most 63 bytes, not starting or ending
 * with '-'), dot-separated, at most 200 bytes in all. */
static int valid_domain(const char *v)
{
	size_t len = strlen(v), label = 0;

	if (!len || len > 200 || v[0] == '.' || v[len - 1] == '.')
		return 0;
	for (size_t i = 0; i <= len; i++) {
		char ch = v[i];
		if (ch == '.' || ch == '\0') {
			if (!label || v[i - 1] == '-' || v[i - label] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-') ||
		    ++label > 63)
			return 0;
	}
	return 1;
}

/* local@domain: a dot-atom local part (RFC 5322 atext) and a domain. */
static int valid_address(const char *v)
{
	const char *at = strrchr(v, '@');
	static const char atext[] = "abcdefghijklmnopqrstuvwxyz"
	                            "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                            "0123456789!#$%&'*+-/=?^_`{|}~.";

	if (!at || at == v || at - v > 64 || strlen(v) > 254 ||
	    strspn(v, atext) != (size_t)(at - v) || v[0] == '.' ||
	    at[-1] == '.')
		return 0;
	return valid_domain(at + 1);
}

/* A domain option's value: v itself, or NULL with the error in err. */
static const char *domain_opt(const char *opt, const char *v, char *err,
                              size_t errsz)
{
	if (valid_domain(v))
		return v;
	snprintf(err, errsz,
	         "bad --%s (a domain name: letters, digits, '-' and '.', "
	         "labels of at most 63 and 200 bytes in all)",
	         opt);
	return NULL;
}

static int add_domain(const char **list, size_t *n, const char *opt,
                      const char *v, char *err, size_t errsz)
{
	if (!domain_opt(opt, v, err, errsz))
		return -1;
	if (*n >= SMTPROBE_RELAY_MAX_DOMAINS) {
		snprintf(err, errsz, "at most %d --%s",
		         SMTPROBE_RELAY_MAX_DOMAINS, opt);
		return -1;
	}
	list[(*n)++] = v;
	return 0;
}

static int on_relay_opt(void *ctx, int id, const char *v, char *err,
                        size_t errsz)
{
	struct relay_cfg *c = ctx;
	long n;

	switch (id) {
	case 0:
		if (c->target) {
			snprintf(err, errsz, "unexpected argument '%s'", v);
			return -1;
		}
		c->target = v;
		return 0;
	case R_PORT:
		n = opts_number(v, 1, 65535);
		if (n < 0) {
			snprintf(err, errsz, "bad port '%s'", v);
			return -1;
		}
		return add_port(c, n, err, errsz);
	case R_LOCAL:
		c->p.local_domain = domain_opt("local-domain", v, err, errsz);
		return c->p.local_domain ? 0 : -1;
	case R_EXTERNAL:
		c->p.external_domain =
		        domain_opt("external-domain", v, err, errsz);
		return c->p.external_domain ? 0 : -1;
	case R_ALLOWED:
		return add_domain(c->p.allowed, &c->p.nallowed, "allowed-to", v,
		                  err, errsz);
	case R_DENIED:
		return add_domain(c->p.denied, &c->p.ndenied, "denied-to", v,
		                  err, errsz);
	case R_OTHER:
		c->other = v;
		return 0;
	case R_EXT_SENDER:
		c->ext_sender = v;
		return 0;
	case R_STRICT:
		c->p.strict = 1;
		return 0;
	case R_FROM:
		c->own = v;
		return 0;
	case R_SCENARIO:
		if (!v[0] || strspn(v, "ABCabc") != strlen(v) ||
		    strlen(v) > 3) {
			snprintf(err, errsz,
			         "bad --scenario '%s' (letters A, B and C)", v);
			return -1;
		}
		for (const char *q = v; *q; q++)
			c->scenario[q - v] = (char)(*q & ~0x20); /* upper */
		c->p.only = c->scenario;
		return 0;
	case R_CONCURRENCY:
		n = opts_number(v, 1, 32);
		if (n < 0) {
			snprintf(err, errsz, "bad --concurrency '%s' (1 to 32)",
			         v);
			return -1;
		}
		c->p.concurrency = (unsigned)n;
		return 0;
	case R_PAUSE:
		n = opts_duration_ms(v);
		if (n < 0 || n > 60000) {
			snprintf(err, errsz, "bad --pause '%s' (0 to 60 s)", v);
			return -1;
		}
		c->p.pause_ms = (unsigned)n;
		return 0;
	case R_DELIVER:
		c->p.deliver = 1;
		return 0;
	case R_MAX_TIME:
		n = opts_duration_ms(v);
		if (n <= 0 || n > 24L * 3600 * 1000) {
			snprintf(err, errsz, "bad --max-time '%s'", v);
			return -1;
		}
		c->p.max_ms = (unsigned)n;
		return 0;
	case R_HELO:
		c->helo = v;
		return 0;
	case R_VERBOSE:
		c->verbose = 1;
		return 0;
	case R_HELP:
		c->help = 1;
		return 0;
	case R_FORMAT:
		return cli_format_opt(v, &c->common.json, &c->format, err,
		                      errsz);
	case R_CERT_DAYS:
		snprintf(err, errsz,
		         "--cert-days: a relay audit reads no "
		         "certificate (smtprobe check or tls do)");
		return -1;
	case R_WARN:
	case R_CRIT:
		return cli_nagios_opt(&c->ng, id - R_WARN, v, err, errsz);
	default:
		return cli_common_opt(&c->common, id, v, err, errsz);
	}
}

static void relay_help(FILE *f)
{
	fprintf(f,
	        "usage: smtprobe relay HOST[:PORT] [OPTIONS]\n\n"
	        "The relay-policy audit. A: unauthenticated relay attempts "
	        "(controls, sender\nvariants, address tricks, HELO variants, "
	        "AUTH edge cases) must be refused.\nWith credentials, B: the "
	        "user's own address to the allowed domains must be\naccepted; "
	        "C: other senders, forbidden domains and the user's address "
	        "without\nAUTH must be refused. One connection per test; "
	        "nothing is delivered without\n--deliver. Audit only servers "
	        "you are responsible for.\n\n");
	opts_help(relay_defs, f);
	cli_common_help_password(f);
	fprintf(f, "\nexit codes: 0 the policy holds, 1 it is violated (open "
	           "relay, spoofing,\nscope not enforced, an in-scope send "
	           "refused), 2 undecided or usage error.\n"
	           "\nexamples:\n  smtprobe relay mx.example.org\n"
	           "  smtprobe relay mail.example.org -p 587 -au alice "
	           "--allowed-to example.net \\\n      --denied-to example.com "
	           "--other-sender bob@example.org\n");
}

/* The library judged each test's mark (relay_verdict.c); this is how it
 * looks. */
static enum cli_mark mark(enum smtprobe_relay_mark m)
{
	switch (m) {
	case SMTPROBE_MARK_PASS:
		return CLI_MARK_PASS;
	case SMTPROBE_MARK_HOLE:
		return CLI_MARK_FAIL;
	case SMTPROBE_MARK_WARN:
		return CLI_MARK_WARN;
	case SMTPROBE_MARK_UNDECIDED:
		return CLI_MARK_UNDECIDED;
	case SMTPROBE_MARK_FACT:
		return CLI_MARK_FACT;
	case SMTPROBE_MARK_SKIPPED:
		break;
	}
	return CLI_MARK_SKIP;
}

static void reply_text(const struct smtprobe_relay_test *t, char *out,
                       size_t outsz)
{
	const struct smtprobe_reply *r = t->deciding;

	if (r)
		snprintf(out, outsz, "%d%s%s %.200s", r->code,
		         r->enhanced[0] ? " " : "", r->enhanced,
		         r->nlines ? r->text[0] : "");
	else
		snprintf(out, outsz, "%.200s",
		         t->res.error[0] ? t->res.error : t->why);
}

static void print_evidence(const struct smtprobe_relay_test *t)
{
	char rt[256];

	reply_text(t, rt, sizeof(rt));
	printf("     %s: HELO %s, MAIL FROM:%s, RCPT TO:%s%s -> %s\n", t->id,
	       t->helo, t->mail_from, t->rcpt_to,
	       t->auth == SMTPROBE_RAUTH_NONE   ? ""
	       : t->auth == SMTPROBE_RAUTH_USER ? " (authenticated)"
	                                        : " (after a bad AUTH)",
	       rt);
	/* a refusal where acceptance was due: what the knowledge base says */
	if (t->kb)
		printf("       meaning: %s: %s\n", t->kb->title,
		       t->kb->meaning);
}

static const char *const scenario_title[3] = {"A unauthenticated relay",
                                              "B authenticated, in scope",
                                              "C authenticated, out of scope"};

static void print_verdicts(const struct smtprobe_relay_listener *l,
                           const struct smtprobe_relay_test *tests, int tty)
{
	for (int sc = 0; sc < 3; sc++) {
		const struct smtprobe_relay_scenario_verdict *v = &l->v[sc];
		const char *name = smtprobe_relay_verdict_name(v->verdict);
		int bad = v->verdict == SMTPROBE_V_OPEN ||
		          v->verdict == SMTPROBE_V_VIOLATED;
		int good = v->verdict == SMTPROBE_V_CLOSED ||
		           v->verdict == SMTPROBE_V_HOLDS;
		printf(" %s %-31s %s%s%s%s\n",
		       cli_mark(bad    ? CLI_MARK_FAIL
		                : good ? CLI_MARK_PASS
		                : v->verdict == SMTPROBE_V_SKIPPED
		                        ? CLI_MARK_SKIP
		                        : CLI_MARK_UNDECIDED,
		                tty),
		       scenario_title[sc], name,
		       v->confidence && v->confidence[0] ? " (confidence " : "",
		       v->confidence && v->confidence[0] ? v->confidence : "",
		       v->confidence && v->confidence[0] ? ")" : "");
		printf("     %s\n", v->why);
		if (!bad)
			continue;
		const char *fix = NULL;
		for (size_t i = 0; i < v->nevidence; i++) {
			if (i < 3)
				print_evidence(&tests[v->evidence[i]]);
			if (!fix && tests[v->evidence[i]].fix[0])
				fix = tests[v->evidence[i]].fix;
		}
		if (v->nevidence > 3)
			printf("     (and more: every test is in the table, "
			       "its "
			       "envelope with -v)\n");
		if (fix)
			printf("     fix: %s\n", fix);
	}
	for (size_t i = 0; i < l->ntests; i++) {
		const struct smtprobe_relay_test *t = &tests[i];
		if (t->expect != SMTPROBE_EXPECT_SHOULD_REFUSE ||
		    t->outcome != SMTPROBE_OUT_ACCEPTED)
			continue;
		printf(" %s warning: %s was accepted\n",
		       cli_mark(CLI_MARK_WARN, tty), t->title);
		print_evidence(t);
		if (t->fix[0])
			printf("     advice: %s\n", t->fix);
	}
}

static void render(const struct relay_cfg *c,
                   const struct smtprobe_relay_report *r)
{
	int tty = cli_colour(stdout);

	printf("smtprobe relay %s: local domain %s (%s), external domain "
	       "%s\n",
	       r->host, r->local_domain[0] ? r->local_domain : "?",
	       r->local_domain_source[0] ? r->local_domain_source : "unknown",
	       r->external_domain);
	printf("%s\n",
	       r->deliver ? "--deliver: tests past RCPT sent a marked test "
	                    "message"
	                  : "nothing was delivered: every test stopped "
	                    "before DATA");
	if (r->retried)
		printf("%zu relay attempt%s stopped at MAIL by the server's "
		       "sender checks %s run again with the sender %s, %s\n",
		       r->retried, r->retried == 1 ? "" : "s",
		       r->retried == 1 ? "was" : "were", r->retry_sender,
		       r->retry_source);
	if (r->retry_withheld)
		printf("%zu relay attempt%s stopped at MAIL by the server's "
		       "sender checks %s not run again: the server relays for "
		       "a sender at the local domain (A.mail.local), so a "
		       "retry with one proves nothing\n",
		       r->retry_withheld, r->retry_withheld == 1 ? "" : "s",
		       r->retry_withheld == 1 ? "was" : "were");
	if ((r->retried || r->retry_withheld) &&
	    strcmp(r->retry_source, "an address at the local domain") == 0)
		printf("  (--external-sender ADDRESS, in a domain of yours "
		       "that resolves, tests them as a stranger would)\n");
	for (size_t li = 0; li < r->nlisteners; li++) {
		const struct smtprobe_relay_listener *l = &r->listener[li];
		const struct smtprobe_relay_test *tests = r->tests + l->first;
		if (!l->open) {
			if (c->p.nports)
				printf("\nport %u: not open (%s)\n", l->port,
				       l->error);
			continue;
		}
		printf("\nport %u (%s, %s, AUTH %s%s%s%s%s): %zu tests\n",
		       l->port, l->host[0] ? l->host : "?",
		       smtprobe_tls_mode_label(l->tls),
		       l->auth[0] ? l->auth : "none",
		       l->software.id != SMTPROBE_SW_UNKNOWN ? "; " : "",
		       l->software.id != SMTPROBE_SW_UNKNOWN
		               ? smtprobe_software_name(l->software.id)
		               : "",
		       l->software.version[0] ? " " : "", l->software.version,
		       l->ntests);
		if (l->tls_broken)
			printf(" STARTTLS is advertised but fails (%s): the "
			       "tests ran in clear\n",
			       l->tls_problem);
		for (size_t i = 0; i < l->ntests; i++) {
			const struct smtprobe_relay_test *t = &tests[i];
			char rt[256];
			reply_text(t, rt, sizeof(rt));
			printf(" %s %-30s %-12s %.70s\n",
			       cli_mark(mark(t->mark), tty), t->id,
			       smtprobe_reply_outcome_name(t->outcome), rt);
			if (c->verbose)
				printf("     HELO %s, MAIL FROM:%s, RCPT "
				       "TO:%s; "
				       "%s\n",
				       t->helo, t->mail_from, t->rcpt_to,
				       t->why);
		}
		printf("\n");
		print_verdicts(l, tests, tty);
	}
	printf("\nverdicts: A %s, B %s, C %s (%.0f ms)\n",
	       smtprobe_relay_verdict_name(r->overall[0].verdict),
	       smtprobe_relay_verdict_name(r->overall[1].verdict),
	       smtprobe_relay_verdict_name(r->overall[2].verdict), r->ms);
	printf("result: %s (exit %d)\n",
	       r->exit_code == 0   ? "the relay policy holds"
	       : r->exit_code == 1 ? "the relay policy is violated"
	                           : "could not decide",
	       r->exit_code);
}

/* An address option (user@domain, angle brackets allowed), stored bare. */
static int bare_address(const char *opt, const char *v, char *out, size_t outsz)
{
	size_t len = strlen(v);

	if (len >= 2 && v[0] == '<' && v[len - 1] == '>') {
		v++;
		len -= 2;
	}
	if (len >= outsz) {
		cli_error("bad --%s (user@domain, at most 254 bytes)", opt);
		return -1;
	}
	memcpy(out, v, len);
	out[len] = '\0';
	if (!valid_address(out)) {
		cli_error("bad --%s (user@domain: no spaces, quotes or angle "
		          "brackets inside, at most 254 bytes)",
		          opt);
		return -1;
	}
	return 0;
}

/* Options -> the audit -> report; the exit code. */
static int relay_run(struct relay_cfg *c)
{
	char err[512], host[256], own[SMTPROBE_MAX_ADDRESS],
	        other[SMTPROBE_MAX_ADDRESS], ext_sender[SMTPROBE_MAX_ADDRESS];
	long port = -1;

	if (cli_target("relay", c->target, host, sizeof(host), &port) < 0)
		return 2;
	if (port > 0 && add_port(c, port, err, sizeof(err)) < 0) {
		cli_error("%s", err);
		return 2;
	}
	struct smtprobe_params *q = &c->p.session;
	q->host = host;
	q->helo = c->helo ? c->helo : SMTPROBE_RELAY_DEFAULT_HELO;
	if (!smtprobe_arg_safe(q->helo, 0) || strlen(q->helo) >= 250) {
		cli_error("bad --helo name: no spaces or control characters, "
		          "under 250 bytes");
		return 2;
	}
	q->protocol = SMTPROBE_PROTO_ESMTP;
	if (c->own) {
		if (bare_address("from", c->own, own, sizeof(own)) < 0)
			return 2;
		c->p.own = own;
	}
	if (c->other) {
		if (bare_address("other-sender", c->other, other,
		                 sizeof(other)) < 0)
			return 2;
		c->p.other_sender = other;
	}
	if (c->ext_sender) {
		if (bare_address("external-sender", c->ext_sender, ext_sender,
		                 sizeof(ext_sender)) < 0)
			return 2;
		c->p.external_sender = ext_sender;
	}
	if (!c->common.auth && (c->p.nallowed || c->p.ndenied)) {
		cli_error("--allowed-to and --denied-to need credentials "
		          "(--auth-user) for scenarios B and C");
		return 2;
	}
	if (!c->common.auth && c->p.only && !strchr(c->p.only, 'A')) {
		cli_error("scenarios B and C need credentials (--auth-user)");
		return 2;
	}
	/* last: it may ask for the password. q->auth stays 0: the runner
	 * sets it for the B and C tests. */
	if (cli_common_apply(&c->common, host, q, err, sizeof(err)) < 0) {
		cli_error("%s", err);
		return 2;
	}

	/* the reminder goes to stderr, so JSON on stdout stays one document */
	fprintf(stderr, "smtprobe relay: audit only servers you are "
	                "responsible for.\n");
	struct smtprobe_relay_report *r = calloc(1, sizeof(*r));
	if (!r) {
		cli_error("out of memory");
		return 2;
	}
	c->ran = 1;
	smtprobe_relay_run(&c->p, r);
	if (c->format == CLI_FMT_NAGIOS) {
		int nrc = relay_render_nagios(r, &c->ng);
		smtprobe_relay_report_free(r);
		free(r);
		return nrc;
	}
	if (c->format >= CLI_FMT_PROMETHEUS) {
		struct smtprobe_outcome o;
		smtprobe_outcome_init(&o);
		smtprobe_assure_relay(r, &o);
		int rc = cli_outcome_print(c->format, &o, "smtprobe relay") < 0
		                 ? 2
		                 : r->exit_code;
		smtprobe_outcome_free(&o);
		smtprobe_relay_report_free(r);
		free(r);
		return rc;
	}
	if (c->common.json) {
		char *doc = smtprobe_relay_json(r);
		if (doc) {
			puts(doc);
			free(doc);
		}
	} else {
		render(c, r);
	}
	int rc = r->exit_code;
	if (r->error[0] && c->format == CLI_FMT_TEXT)
		cli_error("%s", r->error);
	smtprobe_relay_report_free(r);
	free(r);
	return rc;
}

int cmd_relay(int argc, char **argv)
{
	struct relay_cfg c;
	char err[512];
	int rc = 0;

	memset(&c, 0, sizeof(c));
	cli_common_init(&c.common, 10000, 0);
	cli_nagios_init(&c.ng);
	c.p.max_ms = 300000;
	if (opts_parse(relay_defs, argc, argv, on_relay_opt, cli_common_accept,
	               &c, err, sizeof(err)) < 0) {
		cli_error("%s (try 'smtprobe relay --help')", err);
		/* a monitoring system reads a usage error as UNKNOWN (3) */
		rc = cli_nagios_wanted(argc, argv) ? CLI_NAGIOS_UNKNOWN : 2;
	} else if (c.help) {
		relay_help(stdout);
	} else {
		rc = relay_run(&c);
		if (c.format == CLI_FMT_NAGIOS && !c.ran && rc == 2)
			rc = CLI_NAGIOS_UNKNOWN;
	}
	cli_common_release(&c.common);
	return rc;
}
