/* spf_eval.c - check_host() (RFC 7208 sections 4 to 7) as a resumable
 * evaluator that does no DNS itself, and the static walk of a domain's
 * include/redirect tree that counts what section 4.6.4 counts.
 *
 * The evaluator asks for one query at a time (TXT, A, AAAA, MX, PTR) and
 * goes on with the caller's answer: NOERROR with records (possibly none),
 * NXDOMAIN, or a failure (servfail, timeout). It keeps what it needs from
 * an answer, so the caller's memory may go once answered.
 *
 * Counting, as 4.6.4 says: include, a, mx, ptr, exists and redirect count
 * one each when evaluated, the 11th is a permerror; a void lookup (NXDOMAIN
 * or no record of the type asked) of such a term's own query counts, the
 * 3rd is a permerror (the address lookups of MX and PTR names do not
 * count, nor does the exp= lookup, which happens after the result); an mx
 * term with more than 10 MX records is a permerror; of the PTR names only
 * the first 10 are considered. A DNS failure is a temperror, except in
 * ptr and %{p}, which skip it (5.5, 7.3). An IPv4-mapped IPv6 client is
 * taken as IPv4 (section 5), so it matches ip4 and A records only.
 * include maps pass to a match, fail/softfail/neutral to no match, and
 * passes temperror and permerror up; a target without an SPF record is a
 * permerror for include and redirect (5.2, 6.1). exp= of the top-level
 * record (after redirects) gives the explanation of a fail.
 *
 * Choices where the RFC leaves room: an expanded target that is not a
 * domain name (empty label, label over 63 bytes) does not match and asks
 * nothing; for include and redirect it is a permerror. ptr asks the
 * addresses of only the PTR names under its target (the result is the
 * same, the queries fewer). %{p} counts no term of its own.
 *
 * Bounds: SMTPROBE_SPF_MAX_DEPTH nested records; a macro expansion of at
 * most SMTPROBE_SPF_MAX_EXPAND bytes (a permerror of its term beyond); an
 * explanation of at most SMTPROBE_SPF_MAX_EXPLAIN bytes (ignored beyond,
 * and exp_problem says so). The static walk stops after
 * SMTPROBE_SPF_WALK_MAX_LOOKUPS terms and says so. Memory: one record
 * copy and its parse per nesting level, allocated as reached.
 *
 * Here: the records, the outcome and the API. The mechanisms and their
 * answers are in spf_match.c, names, addresses and macro expansion in
 * spf_macro.c; the state they share is in spf_int.h. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtprobe/spf.h"
#include "spf_int.h"

#include "banned.h"

static const char *const qtype_names[SMTPROBE_SPF_Q_LAST] = {"TXT", "A", "AAAA",
                                                             "MX", "PTR"};

const char *smtprobe_spf_qtype_name(int type)
{
	if (type < 0 || type >= SMTPROBE_SPF_Q_LAST)
		return "unknown";
	return qtype_names[type];
}

/* ---- outcome ---- */

struct spf_frame *spf_top(const struct smtprobe_spf_eval *ev)
{
	return ev->fr[ev->depth - 1];
}

const struct smtprobe_spf_term *spf_cur_term(const struct spf_frame *f)
{
	return f != NULL && f->cur >= 0 ? &f->rec.terms[f->cur] : NULL;
}

void spf_show_term(char *dst, const struct spf_frame *f,
                   const struct smtprobe_spf_term *t)
{
	dst[0] = '\0';
	if (f != NULL && t != NULL)
		spf_show(dst, SMTPROBE_SPF_MAX_SHOW, f->text + t->text.off,
		         t->text.len);
}

static void set_where(struct smtprobe_spf_eval *ev)
{
	struct spf_frame *f0 = ev->depth > 0 ? ev->fr[0] : NULL;
	struct spf_frame *fl = ev->depth > 0 ? spf_top(ev) : NULL;

	spf_show_term(ev->out.mechanism, f0, spf_cur_term(f0));
	snprintf(ev->out.mech_domain, SPF_NAMESZ, "%s", f0 ? f0->domain : "");
	spf_show_term(ev->out.leaf, fl, spf_cur_term(fl));
	snprintf(ev->out.leaf_domain, SPF_NAMESZ, "%s", fl ? fl->domain : "");
}

__attribute__((format(printf, 2, 0))) static void
vreason(struct smtprobe_spf_eval *ev, const char *fmt, va_list ap)
{
	vsnprintf(ev->out.reason, sizeof(ev->out.reason), fmt, ap);
}

/* The reason line; a long one is cut (it quotes terms and names). */
__attribute__((format(printf, 2, 3))) static void
say(struct smtprobe_spf_eval *ev, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreason(ev, fmt, ap);
	va_end(ap);
}

/* End the evaluation with an error result. */
__attribute__((format(printf, 4, 5))) static void
stop(struct smtprobe_spf_eval *ev, int result, int code, const char *fmt, ...)
{
	va_list ap;

	ev->out.result = (enum smtprobe_spf_result)result;
	ev->out.error = code;
	set_where(ev);
	va_start(ap, fmt);
	vreason(ev, fmt, ap);
	va_end(ap);
	ev->wait = SPF_W_NONE;
	ev->done = 1;
}

__attribute__((format(printf, 4, 5))) int
spf_trouble(struct smtprobe_spf_eval *ev, int result, int code, const char *fmt,
            ...)
{
	va_list ap;

	/* the walk reports its first problem of the class that decides its
	 * result: a permerror outranks an earlier temperror */
	if (ev->is_static && ev->out.problems++ > 0 &&
	    (result != SMTPROBE_SPF_PERMERROR || ev->perm)) {
		ev->noted = 0;
		goto note;
	}
	ev->noted = 1;
	ev->out.result = (enum smtprobe_spf_result)result;
	ev->out.error = code;
	set_where(ev);
	va_start(ap, fmt);
	vreason(ev, fmt, ap);
	va_end(ap);
note:
	if (!ev->is_static) {
		ev->wait = SPF_W_NONE;
		ev->done = 1;
		return 1;
	}
	if (result == SMTPROBE_SPF_TEMPERROR)
		ev->temp = 1;
	else
		ev->perm = 1;
	return 0;
}

static void finish_static(struct smtprobe_spf_eval *ev)
{
	ev->done = 1;
	ev->wait = SPF_W_NONE;
	if (ev->perm || ev->temp) {
		ev->out.result = ev->perm ? SMTPROBE_SPF_PERMERROR
		                          : SMTPROBE_SPF_TEMPERROR;
		return;
	}
	ev->out.result = SMTPROBE_SPF_NEUTRAL;
	say(ev,
	    "neutral: %u DNS-querying terms and %u void lookups through "
	    "the includes and redirects of %s",
	    ev->out.lookups, ev->out.void_lookups, ev->domain);
}

/* ---- queries ---- */

void spf_ask(struct smtprobe_spf_eval *ev, enum spf_wait w,
             enum smtprobe_spf_qtype type, const char *name)
{
	ev->wait = w;
	ev->q.type = type;
	snprintf(ev->q.name, sizeof(ev->q.name), "%s", name);
	ev->out.queries++;
}

/* ---- the terms ---- */

void spf_term_nomatch(struct smtprobe_spf_eval *ev)
{
	struct spf_frame *f = spf_top(ev);

	f->next++;
	f->cur = -1;
}

static void frame_result(struct smtprobe_spf_eval *ev, int r);

void spf_term_match(struct smtprobe_spf_eval *ev)
{
	struct spf_frame *f = spf_top(ev);
	const struct smtprobe_spf_term *t = spf_cur_term(f);

	if (ev->is_static) {
		spf_term_nomatch(ev);
		return;
	}
	if (t->kind != SMTPROBE_SPF_INCLUDE) {
		spf_show_term(ev->out.leaf, f, t);
		snprintf(ev->out.leaf_domain, SPF_NAMESZ, "%s", f->domain);
	}
	frame_result(ev, t->qual);
}

/* The top frame's record decided r (with its cur term; -1: default). */
static void frame_result(struct smtprobe_spf_eval *ev, int r)
{
	struct spf_frame *f = spf_top(ev);
	const struct smtprobe_spf_term *t = spf_cur_term(f);
	char shown[SMTPROBE_SPF_MAX_SHOW];

	if (ev->depth > 1) {
		free(f->text);
		free(f);
		ev->fr[--ev->depth] = NULL;
		if (r == SMTPROBE_SPF_PASS)
			spf_term_match(ev);
		else
			spf_term_nomatch(ev);
		return;
	}
	if (ev->is_static) {
		finish_static(ev);
		return;
	}
	ev->out.result = (enum smtprobe_spf_result)r;
	spf_show_term(ev->out.mechanism, f, t);
	snprintf(ev->out.mech_domain, SPF_NAMESZ, "%s", f->domain);
	if (t == NULL) {
		ev->out.leaf[0] = ev->out.leaf_domain[0] = '\0';
		say(ev,
		    "%s: no term of the record of %s matched (the default "
		    "result)",
		    smtprobe_spf_result_name(r), f->domain);
	} else if (strcmp(ev->out.leaf, ev->out.mechanism) == 0 &&
	           strcmp(ev->out.leaf_domain, f->domain) == 0) {
		say(ev, "%s: '%s' matched in the record of %s",
		    smtprobe_spf_result_name(r), ev->out.mechanism, f->domain);
	} else {
		snprintf(shown, sizeof(shown), "%s", ev->out.leaf);
		say(ev, "%s: '%s' matched in the record of %s ('%s' in %s)",
		    smtprobe_spf_result_name(r), ev->out.mechanism, f->domain,
		    shown, ev->out.leaf_domain);
	}
	if (r == SMTPROBE_SPF_FAIL && f->rec.exp >= 0) {
		ev->phase = SPF_PH_EXP_DOMAIN;
		return;
	}
	ev->done = 1;
}

void spf_start_fetch(struct smtprobe_spf_eval *ev, enum spf_purpose p,
                     const char *name)
{
	ev->purpose = p;
	if (name != ev->target)
		snprintf(ev->target, SPF_NAMESZ, "%s", name);
	spf_ask(ev, SPF_W_RECORD, SMTPROBE_SPF_Q_TXT, name);
}

int spf_count_lookup(struct smtprobe_spf_eval *ev)
{
	struct spf_frame *f = spf_top(ev);
	char shown[SMTPROBE_SPF_MAX_SHOW];

	if (++ev->out.lookups <= SMTPROBE_SPF_MAX_LOOKUPS)
		return 1;
	spf_show_term(shown, f, spf_cur_term(f));
	if (ev->out.lookups == SMTPROBE_SPF_MAX_LOOKUPS + 1) {
		snprintf(ev->out.over, sizeof(ev->out.over), "%s", shown);
		snprintf(ev->out.over_domain, SPF_NAMESZ, "%s", f->domain);
		if (spf_trouble(
		            ev, SMTPROBE_SPF_PERMERROR, SMTPROBE_SPF_E_LOOKUPS,
		            "permerror: '%s' in %s is DNS-querying term number "
		            "%u, over the limit of %d (RFC 7208 4.6.4)",
		            shown, f->domain, ev->out.lookups,
		            SMTPROBE_SPF_MAX_LOOKUPS))
			return 0;
	}
	if (ev->out.lookups > SMTPROBE_SPF_WALK_MAX_LOOKUPS) {
		ev->out.truncated = 1;
		finish_static(ev);
		return 0;
	}
	return 1;
}

/* No term matched: redirect= if there is one (6.1), else neutral. */
static void end_of_record(struct smtprobe_spf_eval *ev, struct spf_frame *f)
{
	const struct smtprobe_spf_term *t;
	char shown[SMTPROBE_SPF_MAX_SHOW];
	int rc;

	/* the static walk reaches here past an "all", which makes a real
	 * evaluation ignore redirect= */
	if (f->rec.redirect < 0 || f->rec.all >= 0) {
		f->cur = -1;
		frame_result(ev, SMTPROBE_SPF_NEUTRAL);
		return;
	}
	f->cur = f->rec.redirect;
	t = spf_cur_term(f);
	if (!spf_count_lookup(ev))
		return;
	rc = spf_target_of(ev, f, t);
	if (rc == 0) {
		spf_start_fetch(ev, SPF_FETCH_REDIRECT, ev->target);
		return;
	}
	spf_show_term(shown, f, t);
	if (rc == 1)
		ev->out.unexpanded++;
	else if (spf_trouble(ev, SMTPROBE_SPF_PERMERROR, rc,
	                     "permerror: '%s' in %s: %s", shown, f->domain,
	                     smtprobe_spf_strerror(rc)))
		return;
	f->cur = -1;
	frame_result(ev, SMTPROBE_SPF_NEUTRAL);
}

/* ---- explanation (6.2) ---- */

static void exp_text_step(struct smtprobe_spf_eval *ev)
{
	unsigned fl = 0;
	int rc;

	spf_check_macro_string(ev->exp_text, strlen(ev->exp_text),
	                       SPF_MS_EXPLAIN, &fl);
	if ((fl & SMTPROBE_SPF_T_NEEDS_PTR) && ev->p != SPF_P_DONE) {
		spf_start_p(ev);
		return;
	}
	rc = spf_expand(ev, ev->exp_text, strlen(ev->exp_text), 1,
	                ev->fr[0]->domain);
	if (rc != 0 || ev->xlen >= sizeof(ev->out.explanation))
		ev->out.exp_problem = "the explanation is longer than "
		                      "smtprobe's limit";
	else
		memcpy(ev->out.explanation, ev->xbuf, ev->xlen + 1);
	ev->done = 1;
}

static void on_exp(struct smtprobe_spf_eval *ev,
                   const struct smtprobe_spf_answer *a)
{
	const struct smtprobe_txt *txt = a->txt;

	if (a->rcode == SMTPROBE_SPF_R_SERVFAIL)
		ev->out.exp_problem = "DNS error on the exp= domain";
	else if (a->rcode != SMTPROBE_SPF_R_OK || a->n == 0 || txt == NULL)
		ev->out.exp_problem = "the exp= domain has no TXT record";
	else if (a->n > 1)
		ev->out.exp_problem = "the exp= domain has several TXT records";
	else if (txt->len > SMTPROBE_SPF_MAX_RECORD)
		ev->out.exp_problem = "the explanation is longer than "
		                      "smtprobe's limit";
	else if (spf_check_macro_string(txt->data, txt->len, SPF_MS_EXPLAIN,
	                                NULL) < 0)
		ev->out.exp_problem = "the explanation has a syntax error";
	else if ((ev->exp_text = malloc(txt->len + 1)) == NULL)
		ev->out.exp_problem = "out of memory";
	if (ev->out.exp_problem != NULL) {
		ev->done = 1;
		return;
	}
	memcpy(ev->exp_text, txt->data, txt->len);
	ev->exp_text[txt->len] = '\0';
	ev->phase = SPF_PH_EXP_TEXT;
}

static void exp_domain_step(struct smtprobe_spf_eval *ev)
{
	struct spf_frame *f = ev->fr[0];
	const struct smtprobe_spf_term *t = &f->rec.terms[f->rec.exp];

	if ((t->flags & SMTPROBE_SPF_T_NEEDS_PTR) && ev->p != SPF_P_DONE) {
		spf_start_p(ev);
		return;
	}
	if (spf_target_of(ev, f, t) != 0) {
		ev->out.exp_problem = "the exp= domain does not expand to a "
		                      "domain name";
		ev->done = 1;
		return;
	}
	snprintf(ev->out.exp_domain, SPF_NAMESZ, "%s", ev->target);
	spf_ask(ev, SPF_W_EXP, SMTPROBE_SPF_Q_TXT, ev->target);
}

/* ---- records ---- */

static void on_record(struct smtprobe_spf_eval *ev,
                      const struct smtprobe_spf_answer *a)
{
	struct smtprobe_spf_error perr;
	struct spf_frame *f, *parent = ev->depth > 0 ? spf_top(ev) : NULL;
	const struct smtprobe_txt *txt;
	char shown[SMTPROBE_SPF_MAX_SHOW];
	size_t first = 0, count = 0;
	int top_level = ev->purpose == SPF_FETCH_TOP;
	enum smtprobe_spf_sel sel = SMTPROBE_SPF_SEL_NONE;

	spf_show_term(shown, parent, spf_cur_term(parent));
	if (a->rcode == SMTPROBE_SPF_R_SERVFAIL) {
		if (top_level) {
			stop(ev, SMTPROBE_SPF_TEMPERROR, SMTPROBE_SPF_E_DNS,
			     "temperror: DNS error on TXT %s", ev->target);
		} else if (!spf_trouble(
		                   ev, SMTPROBE_SPF_TEMPERROR,
		                   SMTPROBE_SPF_E_DNS,
		                   "temperror: DNS error on TXT %s for '%s' "
		                   "in %s",
		                   ev->target, shown, parent->domain)) {
			goto skip;
		}
		return;
	}
	if (a->rcode == SMTPROBE_SPF_R_OK && a->txt != NULL)
		sel = smtprobe_spf_select(a->txt, a->n, &first, &count);
	if (!top_level && (a->rcode == SMTPROBE_SPF_R_NXDOMAIN || a->n == 0))
		ev->out.void_lookups++; /* the no-record error outranks it */
	if (sel == SMTPROBE_SPF_SEL_NONE && top_level) {
		stop(ev, SMTPROBE_SPF_NONE, SMTPROBE_SPF_E_NO_RECORD,
		     "none: no SPF record at %s", ev->target);
		return;
	}
	if (sel == SMTPROBE_SPF_SEL_NONE) {
		if (spf_trouble(
		            ev, SMTPROBE_SPF_PERMERROR,
		            SMTPROBE_SPF_E_NO_RECORD,
		            "permerror: '%s' in %s: %s has no SPF record (RFC "
		            "7208 %s)",
		            shown, parent->domain, ev->target,
		            ev->purpose == SPF_FETCH_INCLUDE ? "5.2" : "6.1"))
			return;
		goto skip;
	}
	if (sel == SMTPROBE_SPF_SEL_MULTIPLE) {
		if (top_level)
			stop(ev, SMTPROBE_SPF_PERMERROR,
			     SMTPROBE_SPF_E_MULTIPLE,
			     "permerror: %s has %zu SPF records (RFC 7208 4.5)",
			     ev->target, count);
		else if (!spf_trouble(ev, SMTPROBE_SPF_PERMERROR,
		                      SMTPROBE_SPF_E_MULTIPLE,
		                      "permerror: '%s' in %s: %s has %zu SPF "
		                      "records (RFC 7208 4.5)",
		                      shown, parent->domain, ev->target, count))
			goto skip;
		return;
	}
	txt = &a->txt[first];
	f = calloc(1, sizeof(*f));
	if (f == NULL || (f->text = malloc(txt->len + 1)) == NULL) {
		free(f);
		stop(ev, SMTPROBE_SPF_TEMPERROR, SMTPROBE_SPF_E_NOMEM,
		     "temperror: out of memory");
		return;
	}
	memcpy(f->text, txt->data, txt->len);
	f->text[txt->len] = '\0';
	snprintf(f->domain, SPF_NAMESZ, "%s", ev->target);
	f->cur = -1;
	if (smtprobe_spf_parse(f->text, txt->len, &f->rec, &perr) < 0) {
		int stopped = top_level;

		if (top_level)
			stop(ev, SMTPROBE_SPF_PERMERROR, perr.code, "%s",
			     perr.msg);
		else
			stopped = spf_trouble(
			        ev, SMTPROBE_SPF_PERMERROR, perr.code,
			        "%s (in the record of %s, for '%s' in "
			        "%s)",
			        perr.msg, f->domain, shown, parent->domain);
		if (ev->noted || top_level) {
			spf_show(ev->out.leaf, SMTPROBE_SPF_MAX_SHOW,
			         f->text + perr.off, perr.len);
			snprintf(ev->out.leaf_domain, SPF_NAMESZ, "%s",
			         f->domain);
			if (top_level)
				snprintf(ev->out.mechanism,
				         sizeof(ev->out.mechanism), "%s",
				         ev->out.leaf);
		}
		free(f->text);
		free(f);
		if (stopped)
			return;
		goto skip;
	}
	ev->out.records++;
	if (ev->purpose == SPF_FETCH_REDIRECT) {
		/* the redirect target replaces the record (6.1) */
		free(parent->text);
		free(parent);
		ev->depth--;
	}
	ev->fr[ev->depth++] = f;
	return;
skip:
	/* static walk: go on past the term that could not be followed */
	if (ev->purpose == SPF_FETCH_INCLUDE) {
		spf_term_nomatch(ev);
	} else {
		parent->cur = -1;
		frame_result(ev, SMTPROBE_SPF_NEUTRAL);
	}
}

/* ---- the API ---- */

static int copy_id(char *dst, const char *src, const char *dflt)
{
	size_t i, len;

	if (src == NULL || src[0] == '\0')
		src = dflt;
	len = strlen(src);
	if (len >= SPF_IDSZ)
		return -1;
	for (i = 0; i < len; i++)
		if ((unsigned char)src[i] < 0x20 ||
		    (unsigned char)src[i] > 0x7e)
			return -1;
	memcpy(dst, src, len + 1);
	return 0;
}

static int set_ip(struct smtprobe_spf_eval *ev, const char *ip)
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0,    0,
	                                         0, 0, 0, 0, 0xff, 0xff};
	unsigned char a[16];

	if (inet_pton(AF_INET, ip, a) == 1) {
		memcpy(ev->ip, a, 4);
		return 0;
	}
	if (inet_pton(AF_INET6, ip, a) != 1)
		return -1;
	if (memcmp(a, mapped, 12) == 0) { /* IPv4-mapped: IPv4 (5) */
		memcpy(ev->ip, a + 12, 4);
		return 0;
	}
	memcpy(ev->ip, a, 16);
	ev->v6 = 1;
	return 0;
}

int smtprobe_spf_eval_new(struct smtprobe_spf_eval **out,
                          const struct smtprobe_spf_params *p)
{
	struct smtprobe_spf_eval *ev;
	const char *at;
	char name[SPF_NAMESZ];

	*out = NULL;
	if (p == NULL || p->domain == NULL)
		return SMTPROBE_SPF_E_PARAM;
	ev = calloc(1, sizeof(*ev));
	if (ev == NULL)
		return SMTPROBE_SPF_E_NOMEM;
	ev->is_static = (p->mode & 0xff) == SMTPROBE_SPF_STATIC;
	ev->probe_void = (p->mode & SMTPROBE_SPF_PROBE_VOID) != 0;
	ev->now = p->now;
	at = p->sender != NULL ? strrchr(p->sender, '@') : NULL;
	if ((!ev->is_static && (p->ip == NULL || set_ip(ev, p->ip) < 0)) ||
	    copy_id(ev->helo, p->helo, "") < 0 ||
	    copy_id(ev->receiver, p->receiver, "") < 0 ||
	    copy_id(ev->sdomain, at ? at + 1 : p->sender, p->domain) < 0 ||
	    copy_id(ev->local, "postmaster", "") < 0 ||
	    copy_id(ev->xbuf, p->sender, "") < 0 ||
	    strlen(p->domain) > SMTPROBE_SPF_MAX_NAME + 1) {
		free(ev);
		return SMTPROBE_SPF_E_PARAM;
	}
	/* a sender without a local-part has "postmaster" (4.3) */
	if (at != NULL && at != p->sender) {
		memcpy(ev->local, p->sender, (size_t)(at - p->sender));
		ev->local[at - p->sender] = '\0';
	}
	*out = ev;
	/* not a fully qualified name: none (4.3) */
	if (spf_to_name(p->domain, strlen(p->domain), name) < 0 ||
	    strchr(name, '.') == NULL || p->domain[0] == '[') {
		snprintf(ev->target, SPF_NAMESZ, "%.200s", p->domain);
		stop(ev, SMTPROBE_SPF_NONE, SMTPROBE_SPF_E_BAD_TARGET,
		     "none: '%s' is not a fully qualified domain name",
		     ev->target);
		return 0;
	}
	snprintf(ev->domain, SPF_NAMESZ, "%s", name);
	spf_start_fetch(ev, SPF_FETCH_TOP, name);
	return 0;
}

void smtprobe_spf_eval_free(struct smtprobe_spf_eval *ev)
{
	size_t i;

	if (ev == NULL)
		return;
	for (i = 0; i < ev->depth; i++) {
		free(ev->fr[i]->text);
		free(ev->fr[i]);
	}
	free(ev->exp_text);
	free(ev);
}

int smtprobe_spf_eval_step(struct smtprobe_spf_eval *ev,
                           const struct smtprobe_spf_query **q)
{
	while (!ev->done && ev->wait == SPF_W_NONE) {
		struct spf_frame *f;

		if (ev->phase == SPF_PH_EXP_DOMAIN) {
			exp_domain_step(ev);
			continue;
		}
		if (ev->phase == SPF_PH_EXP_TEXT) {
			exp_text_step(ev);
			continue;
		}
		f = spf_top(ev);
		while (f->next < f->rec.nterms &&
		       f->rec.terms[f->next].kind >= SMTPROBE_SPF_REDIRECT)
			f->next++; /* modifiers act at the end, if at all */
		if (f->next < f->rec.nterms) {
			f->cur = (int)f->next;
			spf_eval_term(ev, f, spf_cur_term(f));
		} else {
			end_of_record(ev, f);
		}
	}
	*q = ev->wait != SPF_W_NONE ? &ev->q : NULL;
	return ev->wait != SPF_W_NONE ? SMTPROBE_SPF_NEED : SMTPROBE_SPF_DONE;
}

int smtprobe_spf_eval_answer(struct smtprobe_spf_eval *ev,
                             const struct smtprobe_spf_answer *a)
{
	static const struct smtprobe_spf_answer servfail = {
	        SMTPROBE_SPF_R_SERVFAIL, 0, NULL, NULL, NULL};
	enum spf_wait w = ev->wait;

	if (w == SPF_W_NONE || ev->done)
		return SMTPROBE_SPF_E_STATE;
	if (a == NULL)
		a = &servfail;
	ev->wait = SPF_W_NONE;
	if (w == SPF_W_RECORD)
		on_record(ev, a);
	else if (w == SPF_W_P_PTR || w == SPF_W_P_ADDR)
		spf_on_p_answer(ev, w, a);
	else if (w == SPF_W_EXP)
		on_exp(ev, a);
	else
		spf_on_term_answer(ev, w, a);
	return 0;
}

const struct smtprobe_spf_outcome *
smtprobe_spf_eval_outcome(const struct smtprobe_spf_eval *ev)
{
	return &ev->out;
}
