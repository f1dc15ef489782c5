/* run_assert.c - the expectations of one target of `smtprobe run` judged
 * against what was measured (struct smtprobe_run_facts): one assertion per
 * expectation given, in a fixed order, each with the expected and the
 * actual value, PASS, FAIL, or ERROR when the facts cannot tell (the
 * server could not be reached, no TLS session to verify). "reachable" is
 * always asserted. Pure. */
#include <limits.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "smtprobe/assure.h"
#include "banned.h"

static const char *const scenario_names[3] = {"A", "B", "C"};

static struct smtprobe_assertion *add(struct smtprobe_run_target *rt,
                                      const char *name,
                                      enum smtprobe_case_status st)
{
	if (rt->na >= SMTPROBE_RUN_MAX_ASSERTIONS)
		return NULL;
	struct smtprobe_assertion *a = &rt->a[rt->na++];
	memset(a, 0, sizeof(*a));
	snprintf(a->name, sizeof(a->name), "%s", name);
	a->status = st;
	return a;
}

__attribute__((format(printf, 3, 4))) static void put(char *dst, size_t dstsz,
                                                      const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(dst, dstsz, fmt, ap);
	va_end(ap);
}

static const char *yes_no(int v)
{
	return v ? "true" : "false";
}

/* A boolean expectation: ERROR with why when the fact is unknown (< 0). */
static void boolean(struct smtprobe_run_target *rt, const char *name,
                    int expected, int actual, const char *why_unknown,
                    const char *detail)
{
	if (expected < 0)
		return;
	struct smtprobe_assertion *a =
	        add(rt, name,
	            actual < 0                         ? SMTPROBE_CASE_ERROR
	            : (actual != 0) == (expected != 0) ? SMTPROBE_CASE_PASS
	                                               : SMTPROBE_CASE_FAIL);
	if (a == NULL)
		return;
	put(a->expected, sizeof(a->expected), "%s", yes_no(expected));
	put(a->actual, sizeof(a->actual), "%s",
	    actual < 0 ? why_unknown : yes_no(actual));
	if (detail)
		put(a->detail, sizeof(a->detail), "%s", detail);
}

/* the word w (case aside) in the space-separated list */
static int has_word(const char *list, const char *w)
{
	size_t n = strlen(w);
	for (const char *p = list; *p;) {
		p += strspn(p, " ");
		size_t k = strcspn(p, " ");
		if (k == n && strncasecmp(p, w, n) == 0)
			return 1;
		p += k;
	}
	return 0;
}

static void relay_assertions(struct smtprobe_run_target *rt)
{
	const struct smtprobe_pol_expect *e = &rt->t->expect;
	const struct smtprobe_run_facts *f = &rt->facts;

	for (int i = 0; i < 3; i++) {
		if (!e->relay_set[i])
			continue;
		char name[16];
		put(name, sizeof(name), "relay.%s", scenario_names[i]);
		enum smtprobe_relay_verdict v = f->relay[i];
		enum smtprobe_case_status st =
		        !f->relay_ran || v == SMTPROBE_V_INCONCLUSIVE ||
		                        v == SMTPROBE_V_SKIPPED
		                ? SMTPROBE_CASE_ERROR
		        : v == e->relay[i] ? SMTPROBE_CASE_PASS
		                           : SMTPROBE_CASE_FAIL;
		struct smtprobe_assertion *a = add(rt, name, st);
		if (a == NULL)
			return;
		put(a->expected, sizeof(a->expected), "%s",
		    smtprobe_relay_verdict_name(e->relay[i]));
		put(a->actual, sizeof(a->actual), "%s",
		    f->relay_ran ? smtprobe_relay_verdict_name(v)
		                 : "not audited (the server was not reached)");
		if (st == SMTPROBE_CASE_FAIL && f->relay_fix[i][0])
			put(a->detail, sizeof(a->detail), "%.300s\nfix: %.440s",
			    f->relay_why[i], f->relay_fix[i]);
		else
			put(a->detail, sizeof(a->detail), "%s",
			    f->relay_why[i]);
	}
}

static void tls_assertions(struct smtprobe_run_target *rt)
{
	const struct smtprobe_pol_expect *e = &rt->t->expect;
	const struct smtprobe_run_facts *f = &rt->facts;
	char detail[512];

	put(detail, sizeof(detail), "TLS %s", f->tls ? f->tls_version : "none");
	boolean(rt, "tls.required", e->tls_required, f->tls, "", detail);
	if (e->tls_min_version >= 0) {
		struct smtprobe_assertion *a =
		        add(rt, "tls.min_version",
		            f->lowest_version < 0 ? SMTPROBE_CASE_ERROR
		            : f->lowest_version >= e->tls_min_version
		                    ? SMTPROBE_CASE_PASS
		                    : SMTPROBE_CASE_FAIL);
		if (a) {
			put(a->expected, sizeof(a->expected), "lowest >= %s",
			    smtprobe_tls_proto_name(e->tls_min_version));
			if (f->lowest_version < 0)
				put(a->actual, sizeof(a->actual),
				    "no protocol version accepted");
			else
				put(a->actual, sizeof(a->actual), "lowest %s",
				    smtprobe_tls_proto_name(f->lowest_version));
			if (a->status == SMTPROBE_CASE_FAIL &&
			    f->versions_fix[0])
				put(a->detail, sizeof(a->detail),
				    "accepted: %s\nfix: %.600s",
				    f->accepted_versions, f->versions_fix);
			else
				put(a->detail, sizeof(a->detail),
				    "accepted: %s", f->accepted_versions);
		}
	}
	boolean(rt, "tls.verify", e->tls_verify, f->tls ? f->tls_verified : -1,
	        "no TLS session to verify",
	        f->tls_verify_reason[0] ? f->tls_verify_reason : NULL);
	if (e->tls_cert_days_left_min >= 0) {
		int known = f->cert_days_left != LONG_MIN;
		struct smtprobe_assertion *a =
		        add(rt, "tls.cert_days_left_min",
		            !known ? SMTPROBE_CASE_ERROR
		            : f->cert_days_left >= e->tls_cert_days_left_min
		                    ? SMTPROBE_CASE_PASS
		                    : SMTPROBE_CASE_FAIL);
		if (a) {
			put(a->expected, sizeof(a->expected), ">= %ld days",
			    e->tls_cert_days_left_min);
			if (known)
				put(a->actual, sizeof(a->actual), "%ld days",
				    f->cert_days_left);
			else
				put(a->actual, sizeof(a->actual),
				    "no certificate seen");
		}
	}
}

static void auth_assertions(struct smtprobe_run_target *rt)
{
	const struct smtprobe_pol_expect *e = &rt->t->expect;
	const struct smtprobe_run_facts *f = &rt->facts;

	boolean(rt, "auth.offered_in_clear", e->auth_offered_in_clear,
	        f->auth_in_clear, "no EHLO reply", NULL);
	if (e->nmechs) {
		char missing[160] = "";
		size_t len = 0;
		for (size_t i = 0; i < e->nmechs; i++)
			if (!has_word(f->mechanisms, e->mechs_include[i])) {
				int k = snprintf(missing + len,
				                 sizeof(missing) - len, "%s%s",
				                 len ? " " : "",
				                 e->mechs_include[i]);
				if (k > 0 && (size_t)k < sizeof(missing) - len)
					len += (size_t)k;
			}
		struct smtprobe_assertion *a =
		        add(rt, "auth.mechanisms_include",
		            len ? SMTPROBE_CASE_FAIL : SMTPROBE_CASE_PASS);
		if (a) {
			char want[160] = "";
			size_t wl = 0;
			for (size_t i = 0; i < e->nmechs; i++) {
				int k = snprintf(want + wl, sizeof(want) - wl,
				                 "%s%s", wl ? " " : "",
				                 e->mechs_include[i]);
				if (k > 0 && (size_t)k < sizeof(want) - wl)
					wl += (size_t)k;
			}
			put(a->expected, sizeof(a->expected), "%s", want);
			put(a->actual, sizeof(a->actual), "%s",
			    f->mechanisms[0] ? f->mechanisms
			                     : "no AUTH offered");
			if (len)
				put(a->detail, sizeof(a->detail), "missing: %s",
				    missing);
		}
	}
	boolean(rt, "auth.succeeds", e->auth_succeeds, f->auth_ok,
	        rt->t->auth_user ? "AUTH not tried"
	                         : "no credentials (auth.user)",
	        f->auth_reply[0] ? f->auth_reply : NULL);
}

static void banner_assertion(struct smtprobe_run_target *rt)
{
	const char *want = rt->t->expect.banner;
	regex_t re;

	if (want == NULL)
		return;
	int ok = regcomp(&re, want, REG_EXTENDED | REG_NOSUB) == 0;
	int match = ok && regexec(&re, rt->facts.banner, 0, NULL, 0) == 0;
	if (ok)
		regfree(&re);
	struct smtprobe_assertion *a = add(rt, "banner",
	                                   !ok     ? SMTPROBE_CASE_ERROR
	                                   : match ? SMTPROBE_CASE_PASS
	                                           : SMTPROBE_CASE_FAIL);
	if (a == NULL)
		return;
	put(a->expected, sizeof(a->expected), "matches /%s/", want);
	put(a->actual, sizeof(a->actual), "%s", rt->facts.banner);
}

static void time_assertion(struct smtprobe_run_target *rt)
{
	long max = rt->t->expect.max_ms;
	if (max < 0)
		return;
	struct smtprobe_assertion *a =
	        add(rt, "max_ms",
	            rt->facts.check_ms <= (double)max ? SMTPROBE_CASE_PASS
	                                              : SMTPROBE_CASE_FAIL);
	if (a == NULL)
		return;
	put(a->expected, sizeof(a->expected), "<= %ld ms", max);
	put(a->actual, sizeof(a->actual), "%.1f ms", rt->facts.check_ms);
}

void smtprobe_run_assert(struct smtprobe_run_target *rt)
{
	const struct smtprobe_run_facts *f = &rt->facts;

	rt->na = 0;
	struct smtprobe_assertion *a = add(rt, "reachable",
	                                   rt->error[0] ? SMTPROBE_CASE_ERROR
	                                   : f->reached ? SMTPROBE_CASE_PASS
	                                                : SMTPROBE_CASE_FAIL);
	if (a == NULL)
		return;
	put(a->expected, sizeof(a->expected), "a banner from %s:%u",
	    rt->t->host, rt->port ? rt->port : rt->t->port);
	put(a->actual, sizeof(a->actual), "%s%s",
	    rt->error[0] ? "not tried: " : "",
	    rt->error[0] ? rt->error
	    : f->reached ? f->banner
	                 : (f->error[0] ? f->error : "no banner"));
	banner_assertion(rt);
	relay_assertions(rt);
	tls_assertions(rt);
	auth_assertions(rt);
	time_assertion(rt);
	if (f->reached)
		return;
	/* nothing else could be measured: each expectation says so */
	for (size_t i = 1; i < rt->na; i++) {
		rt->a[i].status = SMTPROBE_CASE_ERROR;
		rt->a[i].detail[0] = '\0';
		if (rt->error[0])
			put(rt->a[i].actual, sizeof(rt->a[i].actual),
			    "not measured: %.280s", rt->error);
		else
			put(rt->a[i].actual, sizeof(rt->a[i].actual),
			    "not measured: the server was not reached");
	}
}
