/* answer.c - the records of a lookup as `smtprobe dns` keeps them
 * (dnscheck.h): each a malloc'd text, the array grown as records come, at
 * most SMTPROBE_DC_MAX_RECORDS; and the release of every answer of the
 * facts. */
#include <stdlib.h>
#include <string.h>

#include "smtprobe/dnscheck.h"
#include "banned.h"

int smtprobe_dc_answer_add(struct smtprobe_dc_answer *a, const char *text,
                           size_t len)
{
	char *copy;

	if (a->n == SMTPROBE_DC_MAX_RECORDS) {
		a->truncated = 1;
		return -1;
	}
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 4;
		char **grown = realloc(a->rec, cap * sizeof(*grown));
		if (grown == NULL) {
			a->truncated = 1;
			return -1;
		}
		a->rec = grown;
		a->cap = cap;
	}
	copy = malloc(len + 1);
	if (copy == NULL) {
		a->truncated = 1;
		return -1;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	for (size_t k = 0; k < len; k++)
		if (copy[k] == '\0')
			copy[k] = '\x01';
	a->rec[a->n++] = copy;
	return 0;
}

void smtprobe_dc_answer_clear(struct smtprobe_dc_answer *a)
{
	for (size_t k = 0; k < a->n; k++)
		free(a->rec[k]);
	free(a->rec);
	memset(a, 0, sizeof(*a));
}

void smtprobe_dc_facts_free(struct smtprobe_dc_facts *f)
{
	struct smtprobe_dc_answer *top[] = {&f->mx,        &f->txt, &f->dmarc,
	                                    &f->org_dmarc, &f->sts, &f->tlsrpt,
	                                    &f->dnskey};

	for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++)
		smtprobe_dc_answer_clear(top[i]);
	for (size_t i = 0; i < SMTPROBE_DC_MAX_MX; i++) {
		struct smtprobe_dc_mx *m = &f->mxs[i];
		smtprobe_dc_answer_clear(&m->a);
		smtprobe_dc_answer_clear(&m->aaaa);
		smtprobe_dc_answer_clear(&m->cname);
		smtprobe_dc_answer_clear(&m->tlsa);
		for (size_t j = 0; j < SMTPROBE_DC_MAX_ADDRS; j++) {
			smtprobe_dc_answer_clear(&m->addr[j].ptr);
			for (size_t k = 0; k < SMTPROBE_DC_MAX_PTR_NAMES; k++)
				smtprobe_dc_answer_clear(&m->addr[j].fwd[k]);
		}
	}
	for (size_t i = 0; i < SMTPROBE_DC_MAX_SELECTORS; i++)
		smtprobe_dc_answer_clear(&f->dkim[i]);
	for (size_t i = 0; i < SMTPROBE_DC_MAX_RUA; i++)
		smtprobe_dc_answer_clear(&f->rua_auth[i]);
	free(f->sts_policy);
	f->sts_policy = NULL;
	f->sts_policy_len = 0;
}
