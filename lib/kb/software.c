/* software.c - recognising the mail server software from what it says.
 *
 * The evidence is a table of phrases: where each is looked for (the
 * banner, or any line: EHLO keywords and reply texts), which software it
 * points to and how much it weighs. A product's name in the banner weighs
 * 100; wording only one vendor uses in its refusals ("Relaying denied" is
 * Sendmail's, "relay not permitted" Exim's) 40 to 60; phrases several
 * products share are left out. Scores add up over every session of a
 * run; the guess is the highest, "high" from 100, "medium" from 60, "low"
 * from 30, and nothing below that. smtprobe serve words its refusals like
 * Postfix on purpose, so its banner outweighs them.
 *
 * Pure apart from the guess it fills; texts are the escaped lines of the
 * result tree and are only compared, never copied whole (the evidence
 * field is bounded). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "smtprobe/software.h"
#include "banned.h"

static const struct {
	const char *name, *key;
} names[SMTPROBE_SW_LAST] = {
        [SMTPROBE_SW_UNKNOWN] = {"unknown", "unknown"},
        [SMTPROBE_SW_POSTFIX] = {"Postfix", "postfix"},
        [SMTPROBE_SW_EXIM] = {"Exim", "exim"},
        [SMTPROBE_SW_SENDMAIL] = {"Sendmail", "sendmail"},
        [SMTPROBE_SW_OPENSMTPD] = {"OpenSMTPD", "opensmtpd"},
        [SMTPROBE_SW_EXCHANGE] = {"Microsoft Exchange", "exchange"},
        [SMTPROBE_SW_IIS] = {"IIS SMTP", "iis"},
        [SMTPROBE_SW_QMAIL] = {"qmail", "qmail"},
        [SMTPROBE_SW_HARAKA] = {"Haraka", "haraka"},
        [SMTPROBE_SW_HMAILSERVER] = {"hMailServer", "hmailserver"},
        [SMTPROBE_SW_MDAEMON] = {"MDaemon", "mdaemon"},
        [SMTPROBE_SW_GMAIL] = {"Gmail", "gmail"},
        [SMTPROBE_SW_DOVECOT] = {"Dovecot", "dovecot"},
        [SMTPROBE_SW_SMTPROBE] = {"smtprobe serve", "smtprobe"},
};

/* BANNER: in the banner; ANY: in any line; LINE: a whole line (an EHLO
 * keyword, a bare reply text like "Ok"), without case. A phrase never
 * matches inside a longer word ("ESMTP smtprobe" is not "smtprobe-test"). */
enum where { BANNER, ANY, LINE };

static const struct clue {
	enum smtprobe_software sw;
	enum where where;
	const char *phrase; /* compared without case */
	int weight;
	int version_follows; /* the next word is the version */
} clues[] = {
        /* names in the banner */
        {SMTPROBE_SW_POSTFIX, BANNER, "ESMTP Postfix", 100, 0},
        {SMTPROBE_SW_EXIM, BANNER, "Exim ", 100, 1},
        {SMTPROBE_SW_SENDMAIL, BANNER, "Sendmail ", 100, 1},
        {SMTPROBE_SW_OPENSMTPD, BANNER, "OpenSMTPD", 100, 0},
        {SMTPROBE_SW_IIS, BANNER, "Microsoft ESMTP MAIL Service, Version:", 120,
         1},
        {SMTPROBE_SW_EXCHANGE, BANNER, "Microsoft ESMTP MAIL Service ready",
         100, 0},
        {SMTPROBE_SW_EXCHANGE, BANNER, "Microsoft Exchange", 100, 0},
        {SMTPROBE_SW_EXCHANGE, BANNER, ".outlook.com", 60, 0},
        {SMTPROBE_SW_QMAIL, BANNER, "qmail", 100, 0},
        {SMTPROBE_SW_HARAKA, BANNER, "Haraka", 100, 0},
        {SMTPROBE_SW_HMAILSERVER, BANNER, "hMailServer", 100, 0},
        {SMTPROBE_SW_MDAEMON, BANNER, "MDaemon ", 100, 1},
        {SMTPROBE_SW_GMAIL, BANNER, " gsmtp", 100, 0},
        {SMTPROBE_SW_DOVECOT, BANNER, "Dovecot", 100, 0},
        {SMTPROBE_SW_SMTPROBE, BANNER, "ESMTP smtprobe", 200, 0},
        /* a vendor's own wording, EHLO keywords only one product has */
        {SMTPROBE_SW_POSTFIX, ANY, "Relay access denied", 40, 0},
        {SMTPROBE_SW_POSTFIX, ANY, "Recipient address rejected:", 30, 0},
        {SMTPROBE_SW_POSTFIX, ANY, "Sender address rejected:", 30, 0},
        {SMTPROBE_SW_POSTFIX, ANY, "Helo command rejected:", 30, 0},
        {SMTPROBE_SW_POSTFIX, ANY, "Client host rejected:", 30, 0},
        {SMTPROBE_SW_POSTFIX, ANY, "Data command rejected:", 30, 0},
        {SMTPROBE_SW_EXIM, ANY, "relay not permitted", 50, 0},
        {SMTPROBE_SW_EXIM, ANY, "Restricted characters in address", 50, 0},
        {SMTPROBE_SW_EXIM, ANY, "domain literals not allowed", 50, 0},
        {SMTPROBE_SW_EXIM, ANY, "sender address must contain a domain", 50, 0},
        {SMTPROBE_SW_EXIM, ANY, "recipient address must contain a domain", 50,
         0},
        {SMTPROBE_SW_EXIM, ANY, "domain missing or malformed", 50, 0},
        {SMTPROBE_SW_EXIM, ANY, "Unrouteable address", 40, 0},
        {SMTPROBE_SW_EXIM, ANY, "Too many syntax or protocol errors", 40, 0},
        {SMTPROBE_SW_EXIM, ANY, "Too many nonmail commands", 40, 0},
        {SMTPROBE_SW_EXIM, ANY, "PIPE_CONNECT", 40, 0},
        {SMTPROBE_SW_SENDMAIL, ANY, "Relaying denied", 40, 0},
        {SMTPROBE_SW_SENDMAIL, ANY, "... Sender ok", 50, 0},
        {SMTPROBE_SW_SENDMAIL, ANY, "... Recipient ok", 50, 0},
        {SMTPROBE_SW_SENDMAIL, ANY, "Domain of sender address", 50, 0},
        {SMTPROBE_SW_SENDMAIL, ANY, "Domain name required for sender", 50, 0},
        {SMTPROBE_SW_SENDMAIL, ANY, "Invalid route address", 50, 0},
        {SMTPROBE_SW_SENDMAIL, ANY, "DELIVERBY", 40, 0},
        {SMTPROBE_SW_OPENSMTPD, ANY, "Mailing list expansion problem", 50, 0},
        {SMTPROBE_SW_OPENSMTPD, ANY, "Delivery not authorized", 50, 0},
        {SMTPROBE_SW_OPENSMTPD, ANY, "Invalid recipient", 30, 0},
        {SMTPROBE_SW_EXCHANGE, ANY, "X-ANONYMOUSTLS", 60, 0},
        {SMTPROBE_SW_EXCHANGE, ANY, "XEXCH50", 60, 0},
        {SMTPROBE_SW_EXCHANGE, ANY, "XRDST", 60, 0},
        {SMTPROBE_SW_EXCHANGE, ANY,
         "Unable to relay recipient in non-accepted domain", 50, 0},
        {SMTPROBE_SW_EXCHANGE, ANY, "Client was not authenticated", 50, 0},
        {SMTPROBE_SW_QMAIL, ANY, "allowed rcpthosts", 80, 0},
        {SMTPROBE_SW_GMAIL, ANY, "gsmtp", 40, 0},
        /* a hidden banner still leaves the product's everyday words:
         * Postfix's EHLO lists VRFY and no HELP, its replies say "Ok" */
        {SMTPROBE_SW_POSTFIX, LINE, "VRFY", 20, 0},
        {SMTPROBE_SW_POSTFIX, LINE, "Ok", 20, 0},
        {SMTPROBE_SW_POSTFIX, ANY, "End data with <CR><LF>.<CR><LF>", 30, 0},
        {SMTPROBE_SW_POSTFIX, LINE, "Bye", 10, 0},
        {SMTPROBE_SW_SENDMAIL, LINE, "VERB", 20, 0},
        {SMTPROBE_SW_SENDMAIL, ANY, "closing connection", 20, 0},
        {SMTPROBE_SW_EXIM, ANY, "Enter message, ending with", 40, 0},
        {SMTPROBE_SW_EXIM, LINE, "PRDR", 20, 0},
};

_Static_assert(sizeof(clues) / sizeof(clues[0]) <= 64,
               "one bit per clue in the guess's seen mask");

const char *smtprobe_software_name(enum smtprobe_software sw)
{
	return (unsigned)sw < SMTPROBE_SW_LAST ? names[sw].name : "unknown";
}

const char *smtprobe_software_key(enum smtprobe_software sw)
{
	return (unsigned)sw < SMTPROBE_SW_LAST ? names[sw].key : "unknown";
}

void smtprobe_software_init(struct smtprobe_software_guess *g)
{
	memset(g, 0, sizeof(*g));
	g->confidence = "";
}

static int word_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '_';
}

/* Case-blind search of a phrase that does not continue into a longer
 * word; LINE: the whole text is the phrase. */
static const char *find(const char *hay, const char *needle, enum where w)
{
	size_t n = strlen(needle);

	if (w == LINE)
		return strcasecmp(hay, needle) == 0 ? hay : NULL;
	for (const char *p = hay; *p; p++)
		if (strncasecmp(p, needle, n) == 0 &&
		    !(word_char(needle[n - 1]) && word_char(p[n])))
			return p;
	return NULL;
}

static void decide(struct smtprobe_software_guess *g)
{
	enum smtprobe_software best = SMTPROBE_SW_UNKNOWN;

	for (int i = 1; i < SMTPROBE_SW_LAST; i++)
		if (g->score[i] > g->score[best])
			best = (enum smtprobe_software)i;
	int s = g->score[best];
	g->id = s >= 30 ? best : SMTPROBE_SW_UNKNOWN;
	g->confidence = s >= 100  ? "high"
	                : s >= 60 ? "medium"
	                : s >= 30 ? "low"
	                          : "";
}

void smtprobe_software_learn_text(struct smtprobe_software_guess *g,
                                  const char *text, int is_banner)
{
	if (!text)
		return;
	for (size_t i = 0; i < sizeof(clues) / sizeof(clues[0]); i++) {
		const struct clue *c = &clues[i];
		if (c->where == BANNER && !is_banner)
			continue;
		const char *at = find(text, c->phrase, c->where);
		if (!at)
			continue;
		/* each clue counts once per run, however often it shows */
		if (g->seen & (1ull << i))
			continue;
		g->seen |= 1ull << i;
		g->score[c->sw] += c->weight;
		if (c->version_follows && !g->version[0]) {
			const char *v = at + strlen(c->phrase);
			while (*v == ' ')
				v++;
			size_t n = 0;
			while (n + 1 < sizeof(g->version) &&
			       (isalnum((unsigned char)v[n]) || v[n] == '.' ||
			        v[n] == '-' || v[n] == '_'))
				n++;
			if (n && isdigit((unsigned char)v[0])) {
				memcpy(g->version, v, n);
				g->version[n] = '\0';
			}
		}
		if (!g->evidence[0] || c->weight >= 100)
			snprintf(g->evidence, sizeof(g->evidence), "%s: %.150s",
			         is_banner ? "banner" : "reply", text);
	}
	decide(g);
}

void smtprobe_software_learn(struct smtprobe_software_guess *g,
                             const struct smtprobe_result *r)
{
	for (size_t i = 0; i < r->nex; i++) {
		const struct smtprobe_reply *rep = r->ex[i].reply;
		if (!rep)
			continue;
		int banner = r->ex[i].stage == SMTPROBE_ST_BANNER;
		for (size_t k = 0; k < rep->nlines; k++)
			smtprobe_software_learn_text(g, rep->text[k],
			                             banner && k == 0);
	}
}
