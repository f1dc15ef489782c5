/* run.c - `smtprobe run POLICY.yaml`: the expectations of a policy file
 * (docs/smtprobe-run-policy.md) checked per environment, every target at
 * once up to --concurrency, one report: text (an assertion per line,
 * failures with expected and actual, the drift between environments),
 * json, junit, tap, prometheus or nagios. Exit 0 every assertion holds, 1
 * one failed, 2 one could not be decided (or a usage / policy error);
 * nagios: 0 / 2 / 3. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "nagios_out.h"
#include "opts.h"
#include "smtprobe/assure.h"
#include "smtprobe/policy.h"
#include "banned.h"

#define RUN_MAX_ENVS 16

enum {
	U_ENV = 1,
	U_CONCURRENCY,
	U_JUNIT,
	U_VALIDATE,
	U_JSON,
	U_VERBOSE,
	U_HELP,
	U_FORMAT, /* and the two after it: CLI_OPTS_FORMAT */
	U_WARN,
	U_CRIT,
	U_CERT_DAYS,
};

static const struct opt_def run_defs[] = {
        {U_ENV, "e|env", OPT_REQ, "NAME",
         "run this environment (repeatable; default: every one)"},
        {U_CONCURRENCY, "concurrency", OPT_REQ, "N",
         "targets probed at once (default 4, at most 32)"},
        {U_JUNIT, "junit", OPT_REQ, "FILE",
         "also write the report as JUnit XML to FILE (for CI test "
         "reports)"},
        {U_VALIDATE, "validate", OPT_NONE, NULL,
         "only check the file and list its environments and targets"},
        {U_JSON, "json", OPT_NONE, NULL,
         "one JSON document (the same as --format json)"},
        CLI_OPTS_FORMAT(U_FORMAT),
        /* refused with a reason, so not in --help */
        {U_CERT_DAYS, "cert-days", OPT_REQ, "WARN[,CRIT]", NULL},
        {U_VERBOSE, "v|verbose", OPT_NONE, NULL,
         "show the evidence of passing assertions too"},
        {U_HELP, "help", OPT_NONE, NULL, "this help"},
        {0, NULL, OPT_NONE, NULL, NULL},
};

struct run_cfg {
	const char *policy;
	const char *envs[RUN_MAX_ENVS];
	size_t nenvs;
	long concurrency;
	const char *junit;
	int validate, json, verbose, help;
	int format; /* enum cli_format */
	struct cli_nagios ng;
};

static int on_run_opt(void *ctx, int id, const char *v, char *err, size_t errsz)
{
	struct run_cfg *c = ctx;

	switch (id) {
	case 0:
		if (c->policy) {
			snprintf(err, errsz,
			         "unexpected argument '%s' (one "
			         "policy file)",
			         v);
			return -1;
		}
		c->policy = v;
		return 0;
	case U_ENV:
		if (c->nenvs >= RUN_MAX_ENVS) {
			snprintf(err, errsz, "at most %d --env", RUN_MAX_ENVS);
			return -1;
		}
		c->envs[c->nenvs++] = v;
		return 0;
	case U_CONCURRENCY:
		c->concurrency = opts_number(v, 1, 32);
		if (c->concurrency < 0) {
			snprintf(err, errsz, "bad --concurrency '%s' (1 to 32)",
			         v);
			return -1;
		}
		return 0;
	case U_JUNIT:
		c->junit = v;
		return 0;
	case U_VALIDATE:
		c->validate = 1;
		return 0;
	case U_JSON:
		c->json = 1;
		c->format = CLI_FMT_JSON;
		return 0;
	case U_VERBOSE:
		c->verbose = 1;
		return 0;
	case U_HELP:
		c->help = 1;
		return 0;
	case U_FORMAT:
		return cli_format_opt(v, &c->json, &c->format, err, errsz);
	case U_CERT_DAYS:
		snprintf(err, errsz,
		         "--cert-days: put the bound in the policy "
		         "(expect.tls.cert_days_left_min)");
		return -1;
	case U_WARN:
	case U_CRIT:
		return cli_nagios_opt(&c->ng, id - U_WARN, v, err, errsz);
	}
	snprintf(err, errsz, "internal: option %d", id);
	return -1;
}

static void run_help(FILE *f)
{
	fprintf(f, "usage: smtprobe run POLICY.yaml [--env NAME]... "
	           "[OPTIONS]\n\n"
	           "Check a policy file's expectations (relay verdicts, TLS, "
	           "AUTH, banner, time)\nagainst every target of its "
	           "environments, and compare the environments\n(drift). The "
	           "file format: docs/smtprobe-run-policy.md.\n\n");
	opts_help(run_defs, f);
	fprintf(f,
	        "\nsecrets: auth.password_env (an environment variable) or "
	        "auth.password_file;\n  never inline.\n"
	        "exit codes: 0 every assertion holds, 1 one failed, 2 one "
	        "could not be decided\n  or the file is wrong (nagios: 0 OK, "
	        "2 CRITICAL, 3 UNKNOWN).\n"
	        "\nexample:\n  STAGING_ALICE_PW=... smtprobe run relay.yaml "
	        "--env staging --junit report.xml\n");
}

/* ---- text ---------------------------------------------------------------- */

static enum cli_mark assertion_mark(enum smtprobe_case_status st)
{
	return st == SMTPROBE_CASE_PASS   ? CLI_MARK_PASS
	       : st == SMTPROBE_CASE_FAIL ? CLI_MARK_FAIL
	                                  : CLI_MARK_UNDECIDED;
}

/* the evidence (and fix) lines, indented */
static void print_detail(const char *d)
{
	while (*d) {
		size_t n = strcspn(d, "\n");
		printf("      %.*s\n", (int)n, d);
		d += n + (d[n] == '\n');
	}
}

static void render_target(const struct smtprobe_run_target *rt, int colour,
                          int verbose)
{
	const struct smtprobe_run_facts *f = &rt->facts;

	printf("%s/%s  %s:%u", rt->env, rt->t->name, rt->t->host, rt->port);
	if (f->software[0])
		printf("  (%s)", f->software);
	printf("  %.2f s\n", rt->seconds);
	for (size_t i = 0; i < rt->na; i++) {
		const struct smtprobe_assertion *a = &rt->a[i];
		const char *mark = cli_mark(assertion_mark(a->status), colour);
		if (a->status == SMTPROBE_CASE_PASS) {
			printf("  %s %-24s %s\n", mark, a->name, a->actual);
			if (verbose)
				print_detail(a->detail);
			continue;
		}
		printf("  %s %-24s expected %s, got %s\n", mark, a->name,
		       a->expected, a->actual);
		print_detail(a->detail);
	}
}

static void render_drift(const struct smtprobe_run_report *r)
{
	if (r->compared == 0)
		return;
	printf("\ndrift: %zu target%s in several environments, %zu "
	       "difference%s\n",
	       r->compared, r->compared == 1 ? "" : "s", r->ndrift,
	       r->ndrift == 1 ? "" : "s");
	for (size_t i = 0; i < r->ndrift; i++) {
		const struct smtprobe_drift *d = &r->drift[i];
		printf("  %-14s %-22s", d->target, d->fact);
		for (size_t k = 0; k < d->nvalues; k++)
			printf("%s%s: %s", k ? "   " : "", d->env[k],
			       d->value[k]);
		printf("\n");
	}
}

static void render_text(const struct run_cfg *c,
                        const struct smtprobe_run_report *r)
{
	int colour = cli_colour(stdout);
	size_t total = 0, failed = 0, undecided = 0;

	for (size_t i = 0; i < r->ntargets; i++) {
		if (i)
			printf("\n");
		render_target(&r->targets[i], colour, c->verbose);
		for (size_t k = 0; k < r->targets[i].na; k++) {
			total++;
			failed +=
			        r->targets[i].a[k].status == SMTPROBE_CASE_FAIL;
			undecided += r->targets[i].a[k].status ==
			             SMTPROBE_CASE_ERROR;
		}
	}
	render_drift(r);
	printf("\nresult: %zu assertion%s, %zu failed, %zu undecided, in "
	       "%.2f s (exit %d)\n",
	       total, total == 1 ? "" : "s", failed, undecided, r->seconds,
	       r->exit_code);
}

/* ---- nagios -------------------------------------------------------------- */

static int render_nagios(const struct run_cfg *c,
                         const struct smtprobe_run_report *r)
{
	enum cli_nagios_state st = r->exit_code == 0   ? CLI_NAGIOS_OK
	                           : r->exit_code == 1 ? CLI_NAGIOS_CRITICAL
	                                               : CLI_NAGIOS_UNKNOWN;
	size_t total = 0, failed = 0, undecided = 0, n = 0;
	int have_fail = 0;
	static char text[64][400];
	const char *lines[64];
	char perf[300], summary[600] = "", part[160];

	for (size_t i = 0; i < r->ntargets; i++)
		for (size_t k = 0; k < r->targets[i].na; k++) {
			const struct smtprobe_assertion *a =
			        &r->targets[i].a[k];
			total++;
			if (a->status == SMTPROBE_CASE_PASS)
				continue;
			failed += a->status == SMTPROBE_CASE_FAIL;
			undecided += a->status == SMTPROBE_CASE_ERROR;
			/* the status line names what made the state: a
			 * failure before an undecided one */
			if (summary[0] == '\0' ||
			    (a->status == SMTPROBE_CASE_FAIL && !have_fail))
				snprintf(
				        summary, sizeof(summary),
				        "%s/%s %s: expected %.120s, got %.200s",
				        r->targets[i].env,
				        r->targets[i].t->name, a->name,
				        a->expected, a->actual);
			have_fail |= a->status == SMTPROBE_CASE_FAIL;
			if (n < sizeof(lines) / sizeof(lines[0])) {
				snprintf(text[n], sizeof(text[n]),
				         "[%s] %s/%s %s: expected %.120s, got "
				         "%.200s",
				         a->status == SMTPROBE_CASE_FAIL
				                 ? "fail"
				                 : "undecided",
				         r->targets[i].env,
				         r->targets[i].t->name, a->name,
				         a->expected, a->actual);
				lines[n] = text[n];
				n++;
			}
		}
	if (st == CLI_NAGIOS_OK)
		cli_nagios_time(&c->ng, r->seconds, &st);
	cli_nagios_time_perf(&c->ng, r->seconds, perf, sizeof(perf));
	snprintf(part, sizeof(part),
	         " assertions=%zu;;;0 failed=%zu;;0;0 undecided=%zu;;;0 "
	         "drift=%zu;;;0",
	         total, failed, undecided, r->ndrift);
	size_t len = strlen(perf);
	snprintf(perf + len, sizeof(perf) - len, "%s", part);
	if (summary[0] == '\0')
		snprintf(summary, sizeof(summary),
		         "%zu assertions hold on %zu targets", total,
		         r->ntargets);
	return cli_nagios_print("RUN", st, summary, perf, lines, n);
}

/* ---- the run ------------------------------------------------------------- */

static int write_junit(const char *path, const struct smtprobe_run_report *r)
{
	struct smtprobe_outcome o;
	smtprobe_outcome_init(&o);
	smtprobe_assure_run(r, &o);
	char *xml = smtprobe_outcome_junit(&o, "smtprobe run");
	smtprobe_outcome_free(&o);
	FILE *f = xml ? fopen(path, "w") : NULL;
	int ok = f && fputs(xml, f) >= 0;
	if (f && fclose(f) != 0)
		ok = 0;
	free(xml);
	if (!ok)
		cli_error("--junit %s: cannot be written", path);
	return ok ? 0 : -1;
}

static void list_policy(const struct smtprobe_policy *p)
{
	printf("%s: valid; %zu environment%s\n", p->path, p->nenvs,
	       p->nenvs == 1 ? "" : "s");
	for (size_t e = 0; e < p->nenvs; e++) {
		printf("  %s\n", p->envs[e].name);
		for (size_t k = 0; k < p->envs[e].ntargets; k++) {
			const struct smtprobe_pol_target *t =
			        &p->envs[e].targets[k];
			char port[16] = "(default)";
			if (t->port)
				snprintf(port, sizeof(port), "%u", t->port);
			printf("    %-16s %s:%s  tls %s%s\n", t->name, t->host,
			       port,
			       t->tls_set ? smtprobe_pol_tls_name(t->tls)
			                  : "(from the port)",
			       t->expect.any ? "" : "  (no expectations)");
		}
	}
}

static int run_policy(struct run_cfg *c, int usage)
{
	struct smtprobe_policy p;
	struct smtprobe_run_report r;
	char err[768];

	if (smtprobe_policy_load(c->policy, &p, err, sizeof(err)) < 0) {
		cli_error("%s", err);
		smtprobe_policy_free(&p);
		return usage;
	}
	for (size_t i = 0; i < c->nenvs; i++)
		if (smtprobe_policy_env(&p, c->envs[i]) == NULL) {
			cli_error("%s: no environment '%s'", c->policy,
			          c->envs[i]);
			smtprobe_policy_free(&p);
			return usage;
		}
	if (c->validate) {
		list_policy(&p);
		smtprobe_policy_free(&p);
		return 0;
	}
	int rc = smtprobe_run(
	        &p, c->envs, c->nenvs,
	        (unsigned)(c->concurrency > 0 ? c->concurrency : 0), getenv, &r,
	        err, sizeof(err));
	if (rc < 0) {
		cli_error("%s", err);
		smtprobe_policy_free(&p);
		return usage;
	}
	if (c->junit && write_junit(c->junit, &r) < 0 && rc == 0)
		rc = 2;
	if (c->format == CLI_FMT_NAGIOS) {
		rc = render_nagios(c, &r);
	} else if (c->format == CLI_FMT_JSON) {
		char *doc = smtprobe_run_json(&r);
		if (doc)
			puts(doc);
		free(doc);
	} else if (c->format >= CLI_FMT_PROMETHEUS) {
		struct smtprobe_outcome o;
		smtprobe_outcome_init(&o);
		smtprobe_assure_run(&r, &o);
		if (cli_outcome_print(c->format, &o, "smtprobe run") < 0)
			rc = 2;
		smtprobe_outcome_free(&o);
	} else {
		render_text(c, &r);
	}
	smtprobe_run_free(&r);
	smtprobe_policy_free(&p);
	return rc;
}

int cmd_run(int argc, char **argv)
{
	struct run_cfg c;
	char err[512];

	memset(&c, 0, sizeof(c));
	cli_nagios_init(&c.ng);
	/* a monitoring system reads a usage error as UNKNOWN (3) */
	int usage = cli_nagios_wanted(argc, argv) ? CLI_NAGIOS_UNKNOWN : 2;
	if (opts_parse(run_defs, argc, argv, on_run_opt, NULL, &c, err,
	               sizeof(err)) < 0) {
		cli_error("%s (try 'smtprobe run --help')", err);
		return usage;
	}
	if (c.help) {
		run_help(stdout);
		return 0;
	}
	if (c.policy == NULL) {
		run_help(stderr);
		return usage;
	}
	return run_policy(&c, usage);
}
