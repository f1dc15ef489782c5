/* check_spf.c - SPF in the collection of `smtprobe dns`: once the domain's
 * TXT records came, the resumable evaluator (spf.h) walks the include and
 * redirect tree without an IP, counting DNS-querying terms and void
 * lookups as RFC 7208 §4.6.4 does (spf.lookups, spf.void_lookups), and,
 * with --ip, runs check_host() (spf.result). Each evaluator's queries go
 * through the run's resolver one at a time; answers are converted from the
 * collection's text form. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_int.h"
#include "smtprobe/spf.h"
#include "banned.h"

enum { W_STATIC, W_EVAL, W_LAST };

struct walk {
	struct dc_run *run;
	struct smtprobe_spf_eval *ev;
	int kind;
	int qtype; /* enum smtprobe_spf_qtype of the query being answered */
	struct smtprobe_dc_answer ans; /* the query being answered */
	int done;
};

struct dc_spf {
	struct walk w[W_LAST];
};

static void record(struct walk *w)
{
	struct smtprobe_dc_facts *f = w->run->f;
	const struct smtprobe_spf_outcome *o = smtprobe_spf_eval_outcome(w->ev);

	w->done = 1;
	if (o == NULL)
		return;
	if (w->kind == W_STATIC) {
		/* a walk cut by a DNS failure counted only part of the tree */
		f->spf_counted = o->result != SMTPROBE_SPF_TEMPERROR;
		f->spf_lookups = o->lookups;
		f->spf_voids = o->void_lookups;
		if (o->error && o->result == SMTPROBE_SPF_PERMERROR) {
			f->spf_count_code = o->error;
			snprintf(f->spf_count_error, sizeof(f->spf_count_error),
			         "%.255s", o->reason);
		}
		return;
	}
	f->spf_evaluated = 1;
	snprintf(f->spf_result, sizeof(f->spf_result), "%s",
	         smtprobe_spf_result_name(o->result));
	snprintf(f->spf_mechanism, sizeof(f->spf_mechanism), "%.255s",
	         o->mechanism);
	snprintf(f->spf_explanation, sizeof(f->spf_explanation), "%.255s",
	         o->explanation);
}

static void next(struct walk *w);

/* the collection's text answer as the evaluator's */
static void on_spf_answer(struct dc_run *run, size_t i, size_t j)
{
	struct walk *w = &run->spf->w[i];
	const struct smtprobe_dc_answer *x = &w->ans;
	struct smtprobe_txt txt[SMTPROBE_DC_MAX_RECORDS];
	struct smtprobe_spf_ip ip[SMTPROBE_DC_MAX_RECORDS];
	const char *names[SMTPROBE_DC_MAX_RECORDS];
	struct smtprobe_spf_answer a;
	size_t n = 0;
	(void)j;

	memset(&a, 0, sizeof(a));
	a.rcode =
	        x->status == SMTPROBE_DNS_OK || x->status == SMTPROBE_DNS_NODATA
	                ? SMTPROBE_SPF_R_OK
	        : x->status == SMTPROBE_DNS_NXDOMAIN ? SMTPROBE_SPF_R_NXDOMAIN
	                                             : SMTPROBE_SPF_R_SERVFAIL;
	/* bogus data is not to be used (RFC 4035 §5.5): a temperror */
	if (x->dnssec == SMTPROBE_DNSSEC_BOGUS)
		a.rcode = SMTPROBE_SPF_R_SERVFAIL;
	/* records left out (more than the collection keeps): a match could
	 * be among them, so no answer is given (temperror), never a guess */
	if (x->truncated)
		a.rcode = SMTPROBE_SPF_R_SERVFAIL;
	for (size_t k = 0; a.rcode == SMTPROBE_SPF_R_OK && k < x->n; k++) {
		const char *r = x->rec[k];
		switch (w->qtype) {
		case SMTPROBE_SPF_Q_A:
		case SMTPROBE_SPF_Q_AAAA:
			if (inet_pton(AF_INET, r, ip[n].addr) == 1)
				ip[n++].family = 4;
			else if (inet_pton(AF_INET6, r, ip[n].addr) == 1)
				ip[n++].family = 6;
			break;
		case SMTPROBE_SPF_Q_MX: { /* "PREF NAME": the name */
			const char *sp = strchr(r, ' ');
			names[n++] = sp ? sp + 1 : r;
			break;
		}
		case SMTPROBE_SPF_Q_PTR:
			names[n++] = r;
			break;
		default: /* TXT */
			txt[n++] = (struct smtprobe_txt){r, strlen(r)};
			break;
		}
	}
	a.n = n;
	a.txt = txt;
	a.addr = ip;
	a.names = names;
	if (smtprobe_spf_eval_answer(w->ev, &a) < 0) {
		record(w);
		return;
	}
	next(w);
}

static void next(struct walk *w)
{
	static const int qtype[SMTPROBE_SPF_Q_LAST] = {
	        [SMTPROBE_SPF_Q_TXT] = SMTPROBE_RR_TXT,
	        [SMTPROBE_SPF_Q_A] = SMTPROBE_RR_A,
	        [SMTPROBE_SPF_Q_AAAA] = SMTPROBE_RR_AAAA,
	        [SMTPROBE_SPF_Q_MX] = SMTPROBE_RR_MX,
	        [SMTPROBE_SPF_Q_PTR] = SMTPROBE_RR_PTR,
	};
	const struct smtprobe_spf_query *q = NULL;

	if (w->run->stopping) {
		w->done = 1;
		return;
	}
	if (smtprobe_spf_eval_step(w->ev, &q) != SMTPROBE_SPF_NEED || !q ||
	    (unsigned)q->type >= SMTPROBE_SPF_Q_LAST) {
		record(w);
		return;
	}
	w->qtype = q->type;
	if (dc_ask(w->run, q->name, qtype[q->type], &w->ans, on_spf_answer,
	           (size_t)w->kind, 0) < 0)
		record(w);
}

static void begin(struct dc_run *run, int kind, unsigned mode, const char *ip)
{
	struct walk *w = &run->spf->w[kind];
	struct smtprobe_spf_params p;

	memset(&p, 0, sizeof(p));
	p.mode = mode;
	p.ip = ip;
	p.domain = run->f->domain;
	w->run = run;
	w->kind = kind;
	if (smtprobe_spf_eval_new(&w->ev, &p) != 0) {
		w->ev = NULL;
		w->done = 1;
		return;
	}
	next(w);
}

void dc_spf_start(struct dc_run *run, size_t i, size_t j)
{
	const struct smtprobe_dc_answer *t = &run->f->txt;
	(void)i;
	(void)j;

	/* without TXT records there is nothing to walk: spf.present says
	 * so; the evaluator asks for the TXT again itself (one cached
	 * lookup) so that its counting starts where the RFC's does */
	if (t->status != SMTPROBE_DNS_OK || run->spf != NULL)
		return;
	run->spf = calloc(1, sizeof(*run->spf));
	if (run->spf == NULL)
		return;
	begin(run, W_STATIC, SMTPROBE_SPF_STATIC | SMTPROBE_SPF_PROBE_VOID,
	      NULL);
	if (run->p->ip) /* f->spf_ip is set at the start (check.c) */
		begin(run, W_EVAL, SMTPROBE_SPF_EVAL, run->p->ip);
}

void dc_spf_finish(struct dc_run *run)
{
	if (run->spf == NULL)
		return;
	for (int k = 0; k < W_LAST; k++) {
		struct walk *w = &run->spf->w[k];
		if (w->ev && !w->done)
			record(w); /* cut short by the deadline */
		smtprobe_spf_eval_free(w->ev);
		smtprobe_dc_answer_clear(&w->ans);
	}
	free(run->spf);
	run->spf = NULL;
}
