/* refusal.c - what one server reply says to a policy question (pure).
 *
 * A reply is classified by its class, its enhanced code and its text
 * together (RELAY-TESTS.md, "Judging"): 2xx accepted; 421 inconclusive
 * (the server is going away); a session limit ("too many ...")
 * inconclusive; 5xx a permanent refusal; 4xx a temporary refusal when it
 * says why in policy terms (4.7.x, relay, greylisting, AUTH or TLS
 * required, sender or client rejected), otherwise inconclusive (a local
 * problem proves nothing). Each refusal also gets a kind from its words
 * (outside the echoed <address>) and enhanced code. Used by `relay`'s
 * audit and `check`'s relay step alike. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "smtprobe/refusal.h"
#include "banned.h"

/* Whether c joins two parts of one address or name ("smtprobe-relay-test",
 * "relay-test.invalid"): a word after it is no word of the reply's. */
static int in_word(char c)
{
	return isalnum((unsigned char)c) || (c && strchr("-.@%!_+=/", c));
}

/* Does hay hold needle (lower case) at the start of a word, ignoring what
 * is inside <...>? Servers echo the address in their replies, bracketed
 * or not, and ours contain words like "relay"
 * (smtprobe-relay-test@relay-test.invalid). */
static int has(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	int in_addr = 0;

	for (const char *start = hay; *hay; hay++) {
		if (*hay == '<')
			in_addr = 1;
		else if (*hay == '>')
			in_addr = 0;
		if (in_addr || (hay > start && in_word(hay[-1])))
			continue;
		size_t i = 0;
		while (i < n && hay[i] && hay[i] != '<' &&
		       tolower((unsigned char)hay[i]) == needle[i])
			i++;
		if (i == n)
			return 1;
	}
	return 0;
}

static int text_has(const struct smtprobe_reply *r, const char *needle)
{
	for (size_t i = 0; i < r->nlines; i++)
		if (r->text[i] && has(r->text[i], needle))
			return 1;
	return 0;
}

/* enhanced code "C.S.D": is its subject.detail sd (or, when sd ends with
 * '.', does it start with it)? */
static int enh_is(const struct smtprobe_reply *r, const char *sd)
{
	size_t n = strlen(sd);

	if (!r->enhanced[0] || r->enhanced[1] != '.' ||
	    strncmp(r->enhanced + 2, sd, n) != 0)
		return 0;
	return sd[n - 1] == '.' || r->enhanced[2 + n] == '\0';
}

static int any(const struct smtprobe_reply *r, const char *const *words)
{
	for (; *words; words++)
		if (text_has(r, *words))
			return 1;
	return 0;
}

/* The order matters: the more specific reason first ("User unknown in
 * relay recipient table" is about the user, "Helo command rejected: Host
 * not found" about the client). */
static enum smtprobe_refusal_kind kind_of(const struct smtprobe_reply *r)
{
	static const char *const greylist[] = {"greylist", "graylist", NULL};
	static const char *const client[] = {
	        "client host",     "helo command rejected",
	        "blocked using",   "listed at",
	        "listed by",       "blacklisted",
	        "blocklisted",     "not authorized to send email directly",
	        "ip you're using", NULL};
	static const char *const domain[] = {
	        "domain not found", "unknown domain", "domain does not exist",
	        "domain not resolvable", NULL};
	static const char *const recipient[] = {
	        "user unknown", "unknown user", "no such user",
	        "invalid recipient", "mailbox unavailable",
	        "recipient not found", "does not exist",
	        /* OpenSMTPD's words for an unknown user (524 5.2.4), Exim's
	         * for one no router takes */
	        "mailing list expansion problem", "unrouteable address", NULL};
	/* the sender's domain does not resolve (Sendmail's 553 5.1.8
	 * "Domain of sender address x does not exist", Exim's "sender
	 * verify failed" for an unroutable domain) */
	static const char *const sender_domain[] = {"domain of sender address",
	                                            "sender domain",
	                                            "unresolvable",
	                                            "does not resolve",
	                                            "unroutable",
	                                            "unrouteable",
	                                            NULL};
	static const char *const relay[] = {
	        "relay", "unable to deliver to non-local", NULL};
	static const char *const tls[] = {"starttls", "tls required",
	                                  "encryption required", NULL};
	static const char *const auth_failed[] = {
	        "authentication failed", "authentication unsuccessful",
	        "incorrect authentication", "invalid credentials",
	        "username and password not accepted",
	        /* Exim's replies to a cancelled or undecodable exchange */
	        "authentication cancelled", "invalid base64", NULL};
	static const char *const auth[] = {
	        "authentication required", "not authenticated",
	        "authentication is required", "must authenticate", NULL};
	static const char *const sender[] = {"sender address rejected",
	                                     "not owned",
	                                     "sender rejected",
	                                     "send as",
	                                     "send mail as",
	                                     NULL};

	if (any(r, greylist))
		return SMTPROBE_RK_GREYLIST;
	if (any(r, client) || enh_is(r, "7.25") || enh_is(r, "7.26"))
		return SMTPROBE_RK_CLIENT;
	if (any(r, domain) || ((enh_is(r, "1.8") || text_has(r, "sender")) &&
	                       any(r, sender_domain)))
		return SMTPROBE_RK_DOMAIN;
	if (any(r, recipient) || enh_is(r, "1.1") || enh_is(r, "1.10"))
		return SMTPROBE_RK_RECIPIENT;
	if (any(r, relay) || enh_is(r, "7.54"))
		return SMTPROBE_RK_RELAY;
	if (any(r, tls) || enh_is(r, "7.11"))
		return SMTPROBE_RK_TLS;
	if (any(r, auth_failed) || any(r, auth) || enh_is(r, "7.8") ||
	    enh_is(r, "7.57") || enh_is(r, "7.139") || r->code == 535)
		return SMTPROBE_RK_AUTH;
	if (any(r, sender) || enh_is(r, "7.60") || enh_is(r, "1.7") ||
	    enh_is(r, "1.8"))
		return SMTPROBE_RK_SENDER;
	if (r->code == 530) /* RFC 4954: authentication required */
		return SMTPROBE_RK_AUTH;
	if (text_has(r, "syntax") || text_has(r, "restricted characters") ||
	    enh_is(r, "5.2") || enh_is(r, "5.4") || enh_is(r, "1.3") ||
	    r->code == 500 || r->code == 501)
		return SMTPROBE_RK_SYNTAX;
	return SMTPROBE_RK_OTHER;
}

static const char *const kind_names[] = {
        [SMTPROBE_RK_NONE] = "none",
        [SMTPROBE_RK_RELAY] = "relay policy",
        [SMTPROBE_RK_AUTH] = "authentication required",
        [SMTPROBE_RK_TLS] = "TLS required",
        [SMTPROBE_RK_SENDER] = "sender policy",
        [SMTPROBE_RK_RECIPIENT] = "unknown recipient",
        [SMTPROBE_RK_DOMAIN] = "domain not found",
        [SMTPROBE_RK_SYNTAX] = "address or command syntax",
        [SMTPROBE_RK_GREYLIST] = "greylisting",
        [SMTPROBE_RK_CLIENT] = "client or HELO rejected",
        [SMTPROBE_RK_OTHER] = "other",
};

int smtprobe_refusal_is_moot(enum smtprobe_refusal_kind k)
{
	return k == SMTPROBE_RK_GREYLIST || k == SMTPROBE_RK_DOMAIN;
}

const char *smtprobe_refusal_kind_name(enum smtprobe_refusal_kind k)
{
	return (unsigned)k < sizeof(kind_names) / sizeof(kind_names[0])
	               ? kind_names[k]
	               : "?";
}

const char *smtprobe_reply_outcome_name(enum smtprobe_reply_outcome o)
{
	switch (o) {
	case SMTPROBE_OUT_ACCEPTED:
		return "accepted";
	case SMTPROBE_OUT_REFUSED:
		return "refused";
	case SMTPROBE_OUT_TEMPFAIL:
		return "tempfail";
	case SMTPROBE_OUT_INCONCLUSIVE:
		return "inconclusive";
	case SMTPROBE_OUT_SKIPPED:
		return "skipped";
	}
	return "?";
}

enum smtprobe_reply_outcome
smtprobe_refusal_classify(const struct smtprobe_reply *r,
                          enum smtprobe_refusal_kind *kind, char *why,
                          size_t whysz)
{
	enum smtprobe_refusal_kind k = SMTPROBE_RK_NONE;
	enum smtprobe_reply_outcome o;
	const char *what;

	if (!r || r->code < 200 || r->code > 599) {
		if (kind)
			*kind = k;
		if (why && whysz)
			snprintf(why, whysz, "no valid reply");
		return SMTPROBE_OUT_INCONCLUSIVE;
	}
	if (r->code < 400) {
		o = SMTPROBE_OUT_ACCEPTED;
		what = "accepted";
	} else if (r->code == 421) {
		k = kind_of(r);
		o = SMTPROBE_OUT_INCONCLUSIVE;
		what = "the server closed the session (421)";
	} else if (text_has(r, "too many")) {
		/* a session or rate limit (Exim's "554 Too many nonmail
		 * commands", "452 4.5.3 Too many recipients"): says nothing
		 * about relaying */
		k = SMTPROBE_RK_OTHER;
		o = SMTPROBE_OUT_INCONCLUSIVE;
		what = "a session or rate limit, not a policy decision";
	} else if (r->code >= 500) {
		k = kind_of(r);
		o = SMTPROBE_OUT_REFUSED;
		what = "permanent refusal";
	} else {
		k = kind_of(r);
		int policy = k != SMTPROBE_RK_OTHER || enh_is(r, "7.");
		o = policy ? SMTPROBE_OUT_TEMPFAIL : SMTPROBE_OUT_INCONCLUSIVE;
		what = policy ? "temporary refusal by policy"
		              : "temporary failure that names no policy";
	}
	if (kind)
		*kind = k;
	if (why && whysz) {
		if (k == SMTPROBE_RK_NONE || k == SMTPROBE_RK_OTHER)
			snprintf(why, whysz, "%d%s%s: %s", r->code,
			         r->enhanced[0] ? " " : "", r->enhanced, what);
		else
			snprintf(why, whysz, "%d%s%s: %s (%s)", r->code,
			         r->enhanced[0] ? " " : "", r->enhanced, what,
			         smtprobe_refusal_kind_name(k));
	}
	return o;
}
