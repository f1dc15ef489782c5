/* spf_match.c - the mechanisms of check_host() (RFC 7208 section 5) for
 * the evaluator of spf_eval.c: the query each DNS-querying term asks and
 * what its answer makes of it (a match, no match, an error), the static
 * walk's void probes, and the PTR and address lookups behind %{p}.
 *
 * Answers are network data: a name is used only when it is printable
 * ASCII and a valid name (a null MX is skipped), an address only when of
 * the client's family. The limits of 4.6.4 on a term's own answers are
 * here: the 3rd void lookup (NXDOMAIN or no record of the type asked) is
 * a permerror, so are more than 10 MX records; of the PTR names only the
 * first 10 are considered, and ptr asks the addresses of those under its
 * target only. A DNS failure is a temperror, except in ptr (no match,
 * 5.5) and %{p} ("unknown", 7.3). An include nests at most
 * SMTPROBE_SPF_MAX_DEPTH records; in the static walk an include of a
 * record being walked is a loop, reported and not followed. */
#include <string.h>

#include "smtprobe/spf.h"
#include "spf_int.h"

#include "banned.h"

/* ---- queries ---- */

static enum smtprobe_spf_qtype addr_type(const struct smtprobe_spf_eval *ev)
{
	return ev->v6 ? SMTPROBE_SPF_Q_AAAA : SMTPROBE_SPF_Q_A;
}

void spf_start_p(struct smtprobe_spf_eval *ev)
{
	char rev[80];

	spf_reverse_name(ev, rev, sizeof(rev));
	ev->p = SPF_P_RUNNING;
	ev->np = ev->ip_i = 0;
	spf_ask(ev, SPF_W_P_PTR, SMTPROBE_SPF_Q_PTR, rev);
}

static void next_p(struct smtprobe_spf_eval *ev)
{
	if (ev->ip_i < ev->np)
		spf_ask(ev, SPF_W_P_ADDR, addr_type(ev), ev->pnames[ev->ip_i]);
	else
		ev->p = SPF_P_DONE;
}

/* ---- the terms ---- */

/* A void lookup of the current term. Returns 0 when the evaluation ends. */
static int void_lookup(struct smtprobe_spf_eval *ev)
{
	struct spf_frame *f = spf_top(ev);
	char shown[SMTPROBE_SPF_MAX_SHOW];

	if (++ev->out.void_lookups <= SMTPROBE_SPF_MAX_VOID || ev->void_flagged)
		return 1;
	ev->void_flagged = 1;
	spf_show_term(shown, f, spf_cur_term(f));
	return !spf_trouble(
	        ev, SMTPROBE_SPF_PERMERROR, SMTPROBE_SPF_E_VOID,
	        "permerror: '%s' in %s is void lookup number %u, over "
	        "the limit of %d (RFC 7208 4.6.4)",
	        shown, f->domain, ev->out.void_lookups, SMTPROBE_SPF_MAX_VOID);
}

static int on_stack(const struct smtprobe_spf_eval *ev, const char *name)
{
	size_t i;

	for (i = 0; i < ev->depth; i++)
		if (spf_under(ev->fr[i]->domain, name) &&
		    spf_under(name, ev->fr[i]->domain))
			return 1;
	return 0;
}

static void query_term(struct smtprobe_spf_eval *ev, struct spf_frame *f,
                       const struct smtprobe_spf_term *t)
{
	char shown[SMTPROBE_SPF_MAX_SHOW], rev[80];

	switch (t->kind) {
	case SMTPROBE_SPF_A:
	case SMTPROBE_SPF_EXISTS:
	case SMTPROBE_SPF_MX:
		if (ev->is_static) {
			ev->probe_kind = t->kind;
			if (!ev->probe_void)
				spf_term_nomatch(ev);
			else if (t->kind == SMTPROBE_SPF_MX)
				spf_ask(ev, SPF_W_PROBE_MX, SMTPROBE_SPF_Q_MX,
				        ev->target);
			else
				spf_ask(ev, SPF_W_PROBE_A, SMTPROBE_SPF_Q_A,
				        ev->target);
		} else if (t->kind == SMTPROBE_SPF_MX) {
			spf_ask(ev, SPF_W_MX, SMTPROBE_SPF_Q_MX, ev->target);
		} else {
			spf_ask(ev,
			        t->kind == SMTPROBE_SPF_A ? SPF_W_ADDR
			                                  : SPF_W_EXISTS,
			        t->kind == SMTPROBE_SPF_A ? addr_type(ev)
			                                  : SMTPROBE_SPF_Q_A,
			        ev->target);
		}
		return;
	case SMTPROBE_SPF_PTR:
		if (ev->is_static) {
			spf_term_nomatch(ev);
			return;
		}
		spf_reverse_name(ev, rev, sizeof(rev));
		spf_ask(ev, SPF_W_PTR, SMTPROBE_SPF_Q_PTR, rev);
		return;
	default: /* include */
		spf_show_term(shown, f, t);
		if (ev->is_static && on_stack(ev, ev->target)) {
			spf_trouble(
			        ev, SMTPROBE_SPF_PERMERROR, SMTPROBE_SPF_E_LOOP,
			        "permerror: '%s' in %s includes %s, which is "
			        "already being evaluated (an include loop)",
			        shown, f->domain, ev->target);
			spf_term_nomatch(ev);
		} else if (ev->depth == SMTPROBE_SPF_MAX_DEPTH) {
			ev->out.truncated = 1;
			if (!spf_trouble(ev, SMTPROBE_SPF_PERMERROR,
			                 SMTPROBE_SPF_E_DEPTH,
			                 "permerror: '%s' in %s nests records "
			                 "deeper than %d",
			                 shown, f->domain,
			                 SMTPROBE_SPF_MAX_DEPTH))
				spf_term_nomatch(ev);
		} else {
			spf_start_fetch(ev, SPF_FETCH_INCLUDE, ev->target);
		}
	}
}

void spf_eval_term(struct smtprobe_spf_eval *ev, struct spf_frame *f,
                   const struct smtprobe_spf_term *t)
{
	char shown[SMTPROBE_SPF_MAX_SHOW];
	int rc;

	switch (t->kind) {
	case SMTPROBE_SPF_ALL:
		spf_term_match(ev);
		return;
	case SMTPROBE_SPF_IP4:
	case SMTPROBE_SPF_IP6:
		if (!ev->is_static && ev->v6 == (t->kind == SMTPROBE_SPF_IP6) &&
		    spf_prefix_match(t->net, ev->ip,
		                     ev->v6 ? (t->cidr6 < 0 ? 128 : t->cidr6)
		                            : (t->cidr4 < 0 ? 32 : t->cidr4)))
			spf_term_match(ev);
		else
			spf_term_nomatch(ev);
		return;
	default:
		break;
	}
	if (!ev->is_static && (t->flags & SMTPROBE_SPF_T_NEEDS_PTR) &&
	    ev->p != SPF_P_DONE) {
		spf_start_p(ev); /* then this term again */
		return;
	}
	if (!spf_count_lookup(ev))
		return;
	rc = spf_target_of(ev, f, t);
	spf_show_term(shown, f, t);
	if (rc == 1) {
		ev->out.unexpanded++;
		spf_term_nomatch(ev);
	} else if (rc == SMTPROBE_SPF_E_BAD_TARGET &&
	           t->kind != SMTPROBE_SPF_INCLUDE) {
		spf_term_nomatch(ev); /* no such name: no match (see the top) */
	} else if (rc < 0) {
		if (!spf_trouble(ev, SMTPROBE_SPF_PERMERROR, rc,
		                 "permerror: '%s' in %s: %s", shown, f->domain,
		                 smtprobe_spf_strerror(rc)))
			spf_term_nomatch(ev);
	} else {
		query_term(ev, f, t);
	}
}

/* ---- answers ---- */

static int is_void(const struct smtprobe_spf_answer *a, size_t found)
{
	return a->rcode == SMTPROBE_SPF_R_NXDOMAIN || found == 0;
}

static int dns_error(struct smtprobe_spf_eval *ev)
{
	struct spf_frame *f = spf_top(ev);
	char shown[SMTPROBE_SPF_MAX_SHOW];

	spf_show_term(shown, f, spf_cur_term(f));
	return spf_trouble(ev, SMTPROBE_SPF_TEMPERROR, SMTPROBE_SPF_E_DNS,
	                   "temperror: DNS error on %s %s for '%s' in %s",
	                   smtprobe_spf_qtype_name(ev->q.type), ev->q.name,
	                   shown, f->domain);
}

/* A name from an answer is network data: printable ASCII only, and never
 * cut to fit (spf_to_name() cuts expansions only). */
static int answer_name_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e ||
		    i > SMTPROBE_SPF_MAX_NAME)
			return 0;
	return 1;
}

/* Keep names (MX exchanges, PTR targets) that are names; for ptr only
 * those under its target (5.5). */
static void keep_names(struct smtprobe_spf_eval *ev,
                       const struct smtprobe_spf_answer *a,
                       char (*dst)[SPF_NAMESZ], size_t *n, const char *filter)
{
	size_t i;

	*n = 0;
	for (i = 0; a->names != NULL && i < a->n && *n < SMTPROBE_SPF_MAX_PTR;
	     i++) {
		const char *s = a->names[i];

		/* only the first 10 PTR records count (4.6.4); an mx term
		 * has been refused over 10 already */
		if (i >= SMTPROBE_SPF_MAX_PTR)
			break;
		if (s == NULL || !answer_name_ok(s) ||
		    spf_to_name(s, strlen(s), dst[*n]) < 0)
			continue; /* null MX ("."), or not a name */
		if (filter == NULL || spf_under(dst[*n], filter))
			(*n)++;
	}
}

static void next_name(struct smtprobe_spf_eval *ev, enum spf_wait w)
{
	if (ev->iname < ev->nnames)
		spf_ask(ev, w, addr_type(ev), ev->names[ev->iname]);
	else
		spf_term_nomatch(ev);
}

/* An mx term whose target has more than 10 MX records (4.6.4). */
static void mx_limit(struct smtprobe_spf_eval *ev, struct spf_frame *f,
                     const struct smtprobe_spf_term *t, size_t n)
{
	char shown[SMTPROBE_SPF_MAX_SHOW];

	spf_show_term(shown, f, t);
	spf_trouble(ev, SMTPROBE_SPF_PERMERROR, SMTPROBE_SPF_E_MX_LIMIT,
	            "permerror: '%s' in %s: %s has %zu MX records, over the "
	            "limit of %d (RFC 7208 4.6.4)",
	            shown, f->domain, ev->q.name, n, SMTPROBE_SPF_MAX_MX_NAMES);
}

void spf_on_term_answer(struct smtprobe_spf_eval *ev, enum spf_wait w,
                        const struct smtprobe_spf_answer *a)
{
	struct spf_frame *f = spf_top(ev);
	const struct smtprobe_spf_term *t = spf_cur_term(f);
	int bits = ev->v6 ? (t->cidr6 < 0 ? 128 : t->cidr6)
	                  : (t->cidr4 < 0 ? 32 : t->cidr4);
	size_t found = a->n;
	int fail = a->rcode == SMTPROBE_SPF_R_SERVFAIL;

	switch (w) {
	case SPF_W_ADDR:
	case SPF_W_MX_ADDR:
		if (fail && dns_error(ev))
			return;
		if (!fail && spf_addr_match(ev, a, bits, &found)) {
			spf_term_match(ev);
			return;
		}
		if (w == SPF_W_ADDR) {
			if ((fail || !is_void(a, found) || void_lookup(ev)))
				spf_term_nomatch(ev);
			return;
		}
		ev->iname++;
		next_name(ev, SPF_W_MX_ADDR);
		return;
	case SPF_W_EXISTS:
		if (fail && dns_error(ev))
			return;
		found = spf_count_family(a, 4);
		if (!fail && !is_void(a, found))
			spf_term_match(ev);
		else if (fail || void_lookup(ev))
			spf_term_nomatch(ev);
		return;
	case SPF_W_MX:
		if (fail && dns_error(ev))
			return;
		if (!fail && a->names == NULL)
			found = 0;
		if (fail || is_void(a, found)) {
			if (fail || void_lookup(ev))
				spf_term_nomatch(ev);
			return;
		}
		if (a->n > SMTPROBE_SPF_MAX_MX_NAMES) {
			mx_limit(ev, f, t, a->n);
			return;
		}
		keep_names(ev, a, ev->names, &ev->nnames, NULL);
		ev->iname = 0;
		next_name(ev, SPF_W_MX_ADDR);
		return;
	case SPF_W_PTR:
		/* a DNS error makes ptr not match (5.5) */
		if (!fail && (a->names == NULL || is_void(a, a->n)) &&
		    !void_lookup(ev))
			return;
		if (fail || a->names == NULL) {
			spf_term_nomatch(ev);
			return;
		}
		keep_names(ev, a, ev->names, &ev->nnames, ev->target);
		ev->iname = 0;
		next_name(ev, SPF_W_PTR_ADDR);
		return;
	case SPF_W_PTR_ADDR:
		/* skipped on a DNS error (5.5) */
		if (!fail && spf_addr_match(ev, a, ev->v6 ? 128 : 32, NULL)) {
			spf_term_match(ev);
			return;
		}
		ev->iname++;
		next_name(ev, SPF_W_PTR_ADDR);
		return;
	case SPF_W_PROBE_A:
	case SPF_W_PROBE_AAAA:
		found = spf_count_family(a, w == SPF_W_PROBE_A ? 4 : 6);
		if (!fail && is_void(a, found) && w == SPF_W_PROBE_A &&
		    ev->probe_kind == SMTPROBE_SPF_A) {
			/* no IP, so a:name is void only without either */
			spf_ask(ev, SPF_W_PROBE_AAAA, SMTPROBE_SPF_Q_AAAA,
			        ev->target);
			return;
		}
		if (!fail && is_void(a, found))
			void_lookup(ev);
		spf_term_nomatch(ev);
		return;
	default: /* SPF_W_PROBE_MX */
		if (!fail && (a->names == NULL || is_void(a, a->n)))
			void_lookup(ev);
		else if (!fail && a->n > SMTPROBE_SPF_MAX_MX_NAMES)
			mx_limit(ev, f, t, a->n);
		spf_term_nomatch(ev);
		return;
	}
}

void spf_on_p_answer(struct smtprobe_spf_eval *ev, enum spf_wait w,
                     const struct smtprobe_spf_answer *a)
{
	size_t i;

	if (a->rcode != SMTPROBE_SPF_R_OK) {
		if (w == SPF_W_P_PTR) {
			ev->p = SPF_P_DONE; /* "unknown" (7.3) */
			return;
		}
	} else if (w == SPF_W_P_PTR) {
		keep_names(ev, a, ev->pnames, &ev->np, NULL);
		for (i = 0; i < SMTPROBE_SPF_MAX_PTR; i++)
			ev->pvalid[i] = 0;
		ev->ip_i = 0;
		next_p(ev);
		return;
	} else if (spf_addr_match(ev, a, ev->v6 ? 128 : 32, NULL)) {
		ev->pvalid[ev->ip_i] = 1;
	}
	ev->ip_i++;
	next_p(ev);
}
