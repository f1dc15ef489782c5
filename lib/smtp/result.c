/* result.c - the result tree of a session: exchanges (command + reply),
 * recipients, TLS and AUTH facts, the stage transitions and the failure.
 * Plain data that every renderer reads.
 *
 * Ownership: replies belong to the exchanges; the recipient, AUTH and
 * message fields only borrow them. smtprobe_result_release() frees all. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "result_int.h"
#include "banned.h"

/* Bound on exchanges kept: a hostile server cannot make the list grow past
 * the commands we send, but a cap keeps that a fact and not a hope. */
#define RESULT_MAX_EXCHANGES 4096

int result_init(struct smtprobe_result *r, const struct smtprobe_params *p)
{
	memset(r, 0, sizeof(*r));
	r->stage = SMTPROBE_ST_RESOLVE;
	r->greeting = "ehlo";
	r->port = p->port;
	if (p->host) {
		size_t n = strlen(p->host);
		if (n >= sizeof(r->host))
			n = sizeof(r->host) - 1;
		memcpy(r->host, p->host, n);
		r->host[n] = '\0';
	}
	r->failure.tls.alert = -1;
	if (p->nrcpt) {
		r->rcpt = calloc(p->nrcpt, sizeof(*r->rcpt));
		if (!r->rcpt)
			return -1;
		r->nrcpt = p->nrcpt;
		for (size_t i = 0; i < p->nrcpt; i++) {
			/* Shown without the angle brackets of the command. */
			const char *a = p->rcpt[i];
			size_t n = strlen(a);
			if (n >= 2 && a[0] == '<' && a[n - 1] == '>')
				r->rcpt[i].address = strndup(a + 1, n - 2);
			else
				r->rcpt[i].address = strdup(a);
			if (!r->rcpt[i].address) {
				smtprobe_result_release(r);
				return -1;
			}
		}
	}
	return 0;
}

struct smtprobe_exchange *result_add_exchange(struct smtprobe_result *r,
                                              enum smtprobe_stage st,
                                              const char *command, int awaiting)
{
	if (r->nex >= RESULT_MAX_EXCHANGES)
		return NULL;
	struct smtprobe_exchange *n =
	        realloc(r->ex, (r->nex + 1) * sizeof(*r->ex));
	if (!n)
		return NULL;
	r->ex = n;
	struct smtprobe_exchange *e = &r->ex[r->nex++];
	memset(e, 0, sizeof(*e));
	e->stage = st;
	e->command = command ? strdup(command) : NULL;
	e->ok = awaiting ? 0 : 1;
	/* An exchange with nothing to wait for counts as answered. */
	e->ms = awaiting ? -1 : 0;
	return e;
}

void result_attach_reply(struct smtprobe_result *r, enum smtprobe_stage st,
                         struct smtprobe_reply *rep)
{
	for (size_t i = 0; i < r->nex; i++) {
		struct smtprobe_exchange *e = &r->ex[i];
		if (e->reply || e->ms >= 0)
			continue;
		e->reply = rep;
		e->ms = rep->latency_ms;
		e->ok = rep->code / 100 == 2 || rep->code / 100 == 3;
		return;
	}
	/* Unsolicited, or one of several replies (LMTP after the dot). */
	struct smtprobe_exchange *e = result_add_exchange(r, st, NULL, 1);
	if (!e) {
		smtprobe_reply_free(rep);
		return;
	}
	e->reply = rep;
	e->ms = rep->latency_ms;
	e->ok = rep->code / 100 == 2 || rep->code / 100 == 3;
}

void result_drop_waiting(struct smtprobe_result *r, enum smtprobe_stage st)
{
	struct smtprobe_exchange *e = r->nex ? &r->ex[r->nex - 1] : NULL;

	if (!e || e->stage != st || e->reply || e->ms >= 0)
		return;
	free(e->command);
	r->nex--;
}

void result_add_transition(struct smtprobe_result *r, enum smtprobe_stage st,
                           double at_ms)
{
	if (r->ntransitions >= SMTPROBE_MAX_TRANSITIONS) {
		r->transitions_dropped++;
		return;
	}
	r->transitions[r->ntransitions].stage = st;
	r->transitions[r->ntransitions].at_ms = at_ms;
	r->ntransitions++;
}

void result_fail_early(struct smtprobe_result *r,
                       const struct smtprobe_params *p,
                       enum smtprobe_failure_kind kind, const char *msg)
{
	memset(r, 0, sizeof(*r));
	r->stage = SMTPROBE_ST_RESOLVE;
	r->greeting = "ehlo";
	if (p) {
		r->port = p->port;
		snprintf(r->host, sizeof(r->host), "%s",
		         p->host ? p->host : "");
	}
	r->failure.kind = kind;
	r->failure.stage = SMTPROBE_ST_RESOLVE;
	r->failure.tls.alert = -1;
	r->exit_code = smtprobe_failure_exit_code(&r->failure);
	snprintf(r->error, sizeof(r->error), "%s", msg);
}

void smtprobe_result_release(struct smtprobe_result *r)
{
	for (size_t i = 0; i < r->nex; i++) {
		free(r->ex[i].command);
		smtprobe_reply_free(r->ex[i].reply);
	}
	free(r->ex);
	for (size_t i = 0; i < r->nrcpt; i++)
		free(r->rcpt[i].address);
	free(r->rcpt);
	free(r->raw_tls);
	free(r->tls_session);
	memset(r, 0, sizeof(*r));
}
