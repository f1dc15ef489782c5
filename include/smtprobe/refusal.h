/* refusal.h - what one server reply says about a policy question (part of
 * the knowledge base): accepted, refused, refused for now, or no answer,
 * and what a refusal is about (relaying, AUTH, TLS, the sender, the
 * recipient, an unresolvable domain, greylisting, the client ...). Pure;
 * shared by `check`'s relay step and `relay`'s audit, so both judge a
 * refusal the same way. */
#ifndef SMTPROBE_REFUSAL_H
#define SMTPROBE_REFUSAL_H

#include <stddef.h>

#include "reply.h"

enum smtprobe_reply_outcome {
	SMTPROBE_OUT_ACCEPTED,
	SMTPROBE_OUT_REFUSED,  /* permanent refusal */
	SMTPROBE_OUT_TEMPFAIL, /* temporary refusal by policy (454 4.7.1) */
	SMTPROBE_OUT_INCONCLUSIVE,
	SMTPROBE_OUT_SKIPPED, /* not applicable on this listener */
};

/* What a refusal says it is about (from code, enhanced code and text). */
enum smtprobe_refusal_kind {
	SMTPROBE_RK_NONE,
	SMTPROBE_RK_RELAY,     /* relay access denied, unable to relay */
	SMTPROBE_RK_AUTH,      /* authentication required */
	SMTPROBE_RK_TLS,       /* STARTTLS first */
	SMTPROBE_RK_SENDER,    /* sender rejected / not owned */
	SMTPROBE_RK_RECIPIENT, /* unknown user, invalid recipient */
	SMTPROBE_RK_DOMAIN,    /* the domain does not resolve */
	SMTPROBE_RK_SYNTAX,    /* bad address or command syntax */
	SMTPROBE_RK_GREYLIST,
	SMTPROBE_RK_CLIENT, /* client host / HELO rejected */
	SMTPROBE_RK_OTHER,
};

/* Classify one reply. why gets a short reason ("5xx: permanent refusal,
 * relay policy"). A NULL reply is inconclusive. */
enum smtprobe_reply_outcome
smtprobe_refusal_classify(const struct smtprobe_reply *r,
                          enum smtprobe_refusal_kind *kind, char *why,
                          size_t whysz);

/* A refusal that stopped the transaction before any relay rule ran
 * (greylisting, a domain that does not resolve): no answer to the relay
 * question. */
int smtprobe_refusal_is_moot(enum smtprobe_refusal_kind k);

const char *smtprobe_reply_outcome_name(enum smtprobe_reply_outcome o);
const char *smtprobe_refusal_kind_name(enum smtprobe_refusal_kind k);

#endif
