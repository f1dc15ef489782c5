/* classify.c - what a logged rejection is about (logs.h): the words logs
 * see that a client's audit does not distinguish - a DNS block list, the
 * HELO name, the size, a rate limit, a sender-login mismatch - first, then
 * the knowledge base's refusal classifier (refusal.h: relay, sender,
 * recipient, client, greylisting, AUTH or TLS first, syntax) on the same
 * reply, so `logs` and the audits agree on what a refusal means. The text
 * is copied (cut at 1 KiB) to hand it over as a reply. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "logs_int.h"
#include "smtprobe/refusal.h"

#include "banned.h"

#define TEXT_MAX 1024

static int has(const char *lower, const char *const *words)
{
	for (; *words; words++)
		if (strstr(lower, *words))
			return 1;
	return 0;
}

/* "5.7.1 text": the enhanced code at the start, if any */
static void split_enhanced(const char *t, char *enh, size_t enhsz,
                           const char **rest)
{
	size_t n = strspn(t, "0123456789.");

	enh[0] = '\0';
	*rest = t;
	if (n >= 5 && n < enhsz && (t[1] == '.') && (t[n] == ' ' || !t[n])) {
		memcpy(enh, t, n);
		enh[n] = '\0';
		*rest = t + n + (t[n] == ' ');
	}
}

enum smtprobe_log_reject smtprobe_log_classify(int code, const char *text,
                                               size_t len)
{
	static const char *const rbl[] = {
	        "blocked using", "listed at", "listed by", "blacklisted",
	        "blocklisted",   "dnsbl",     "spamhaus",  "spamcop",
	        "barracuda",     "sorbs",     NULL};
	static const char *const helo[] = {"helo command rejected",
	                                   "helo name",
	                                   "invalid helo",
	                                   "bad helo",
	                                   "helo/ehlo",
	                                   NULL};
	static const char *const size[] = {
	        "message size exceeds", "message too big", "too large",
	        "size limit",           "exceeds size",    NULL};
	static const char *const rate[] = {"rate limit",
	                                   "too many connections",
	                                   "too many messages",
	                                   "too many recipients",
	                                   "too many errors",
	                                   "ratelimit",
	                                   "try again later, too many",
	                                   NULL};
	static const char *const login[] = {"not owned by user",
	                                    "sender login mismatch", "send as",
	                                    "not allowed to send as", NULL};
	char lower[TEXT_MAX], enh[16];
	const char *rest;
	size_t n = len < TEXT_MAX - 1 ? len : TEXT_MAX - 1;

	for (size_t i = 0; i < n; i++)
		lower[i] = (char)tolower((unsigned char)text[i]);
	lower[n] = '\0';
	if (has(lower, rbl))
		return SMTPROBE_LR_RBL;
	if (has(lower, login))
		return SMTPROBE_LR_SENDER_LOGIN;
	if (has(lower, helo))
		return SMTPROBE_LR_HELO;
	if (has(lower, size) || code == 552 || strstr(lower, "5.3.4"))
		return SMTPROBE_LR_SIZE;
	if (has(lower, rate) || code == 421)
		return SMTPROBE_LR_RATE;

	char copy[TEXT_MAX];
	if (n)
		memcpy(copy, text, n);
	copy[n] = '\0';
	split_enhanced(copy, enh, sizeof(enh), &rest);
	char *lines[1] = {(char *)rest};
	struct smtprobe_reply r;
	memset(&r, 0, sizeof(r));
	r.code = code ? code : 550;
	snprintf(r.enhanced, sizeof(r.enhanced), "%s", enh);
	r.nlines = 1;
	r.text = lines;
	r.raw = (char *)rest;
	enum smtprobe_refusal_kind k = SMTPROBE_RK_NONE;
	char why[8];
	(void)smtprobe_refusal_classify(&r, &k, why, sizeof(why));
	switch (k) {
	case SMTPROBE_RK_RELAY:
		return SMTPROBE_LR_RELAY_DENIED;
	case SMTPROBE_RK_SENDER:
	case SMTPROBE_RK_DOMAIN:
		return SMTPROBE_LR_SENDER;
	case SMTPROBE_RK_RECIPIENT:
		return SMTPROBE_LR_RECIPIENT;
	case SMTPROBE_RK_CLIENT:
		return SMTPROBE_LR_CLIENT;
	case SMTPROBE_RK_GREYLIST:
		return SMTPROBE_LR_GREYLIST;
	case SMTPROBE_RK_AUTH:
	case SMTPROBE_RK_TLS:
		return SMTPROBE_LR_AUTH_REQUIRED;
	case SMTPROBE_RK_SYNTAX:
		return SMTPROBE_LR_SYNTAX;
	default:
		return SMTPROBE_LR_OTHER;
	}
}
