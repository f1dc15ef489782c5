/* check_diag.c - the helpers of the diagnostic ladder: formatting a
 * reply, filling a step's diagnosis from the knowledge base (with one
 * cause composed for the situation ranked first), finding an exchange and
 * judging a stage from its reply. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "check_int.h"
#include "banned.h"

void ck_setf(char *dst, size_t dstsz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, dstsz, fmt, ap);
	va_end(ap);
}

void ck_reply_text(const struct smtprobe_reply *r, char *out, size_t outsz)
{
	if (!r) {
		ck_setf(out, outsz, "no reply");
		return;
	}
	ck_setf(out, outsz, "%d%s%s %s", r->code, r->enhanced[0] ? " " : "",
	        r->enhanced, r->nlines ? r->text[0] : "");
}

/* Fill the diagnosis of a step from the knowledge base. */
void ck_diagnose(struct smtprobe_check_finding *f,
                 const struct smtprobe_kb_entry *e)
{
	if (!e)
		return;
	f->kb_id = e->id;
	f->reference = e->reference;
	if (!f->summary[0])
		ck_setf(f->summary, sizeof(f->summary), "%s: %s", e->title,
		        e->meaning);
	size_t n = 0;
	while (n < SMTPROBE_CK_MAX_ITEMS - 1 && f->causes[n])
		n++;
	for (size_t i = 0; i < SMTPROBE_KB_MAX_LIST && e->causes[i] &&
	                   n < SMTPROBE_CK_MAX_ITEMS - 1;
	     i++)
		f->causes[n++] = e->causes[i];
	f->causes[n] = NULL;
	for (size_t i = 0; i < SMTPROBE_CK_MAX_ITEMS - 1 && e->fixes[i]; i++)
		f->fixes[i] = e->fixes[i];
}

void ck_diagnose_reply(struct smtprobe_check_finding *f,
                       const struct smtprobe_reply *r)
{
	const struct smtprobe_kb_entry *m[4];

	if (!r)
		return;
	size_t n = smtprobe_kb_lookup(r->code, r->enhanced,
	                              r->nlines ? r->text[0] : "", m, 4);
	if (n)
		ck_diagnose(f, m[0]);
}

void ck_advise(struct smtprobe_check_finding *f,
               enum smtprobe_advice_topic topic)
{
	if (f->nadvice < (int)(sizeof(f->advice) / sizeof(f->advice[0])))
		f->advice[f->nadvice++] = topic;
}

/* Every fix list for the software that answered: the knowledge base's
 * vendor-neutral fixes and the software's own, then the advice topic's
 * line for it (every vendor's when the software is unknown). */
void ck_fixes_for_software(struct smtprobe_check_result *r)
{
	enum smtprobe_software sw = r->software.id;

	for (int i = 0; i < SMTPROBE_CK_LAST; i++) {
		struct smtprobe_check_finding *f = &r->step[i];
		const struct smtprobe_kb_entry *e = smtprobe_kb_by_id(f->kb_id);
		size_t n = 0;
		if (!e && !f->nadvice)
			continue;
		if (e)
			n = smtprobe_kb_fixes(e, sw, f->fixes,
			                      SMTPROBE_CK_MAX_ITEMS - 1);
		for (int a = 0; a < f->nadvice; a++)
			n += smtprobe_advice(f->advice[a], sw, NULL,
			                     f->fixes + n,
			                     SMTPROBE_CK_MAX_ITEMS - 1 - n);
		f->fixes[n] = NULL;
	}
}

/* A cause written for this situation, ranked first. */
void ck_first_cause(struct smtprobe_check_finding *f, const char *fmt, ...)
{
	va_list ap;

	if (f->causes[0] == f->cause0) /* one composed cause per step */
		return;
	va_start(ap, fmt);
	vsnprintf(f->cause0, sizeof(f->cause0), fmt, ap);
	va_end(ap);
	memmove(&f->causes[1], &f->causes[0],
	        (SMTPROBE_CK_MAX_ITEMS - 2) * sizeof(f->causes[0]));
	f->causes[0] = f->cause0;
	f->causes[SMTPROBE_CK_MAX_ITEMS - 1] = NULL;
	/* a general cause this one already says ("the client did not
	 * authenticate (SMTP AUTH)") goes: it would read twice */
	size_t k = 1;
	for (size_t i = 1; i < SMTPROBE_CK_MAX_ITEMS && f->causes[i]; i++) {
		size_t n = strcspn(f->causes[i], "(");
		while (n && f->causes[i][n - 1] == ' ')
			n--;
		if (n && memmem(f->cause0, strlen(f->cause0), f->causes[i], n))
			continue;
		f->causes[k++] = f->causes[i];
	}
	while (k < SMTPROBE_CK_MAX_ITEMS)
		f->causes[k++] = NULL;
}

const struct smtprobe_exchange *
ck_last_exchange(const struct smtprobe_result *r, enum smtprobe_stage st)
{
	for (size_t i = r->nex; i-- > 0;)
		if (r->ex[i].stage == st)
			return &r->ex[i];
	return NULL;
}

/* A stage's reply judged: pass on 2xx/3xx, fail otherwise. Returns 1 when
 * the step has a verdict (ran), 0 when it never ran. */
int ck_judge_stage(struct smtprobe_check_finding *f,
                   const struct smtprobe_result *s, enum smtprobe_stage st,
                   const char *what)
{
	const struct smtprobe_exchange *x = ck_last_exchange(s, st);
	char rt[600];

	if (!x)
		return 0;
	f->ms = x->ms > 0 ? x->ms : 0;
	if (!x->reply) {
		f->status = SMTPROBE_CK_FAIL;
		ck_setf(f->detail, sizeof(f->detail), "%s: %s", what,
		        s->error[0] ? s->error : "no reply");
		ck_diagnose(f, smtprobe_kb_failure(&s->failure));
		return 1;
	}
	ck_reply_text(x->reply, rt, sizeof(rt));
	int ok = x->reply->code / 100 == 2 || x->reply->code / 100 == 3;
	f->status = ok ? SMTPROBE_CK_PASS : SMTPROBE_CK_FAIL;
	ck_setf(f->detail, sizeof(f->detail), "%s%s%s",
	        x->command ? x->command : "", x->command ? ": " : "", rt);
	if (!ok)
		ck_diagnose_reply(f, x->reply);
	return 1;
}
