/* stage.c - the facts of each stage of a client session, in one table:
 * its name, the phrase messages use, the default deadline of one wait in
 * it, the exit code a failure there maps to (swaks' numbers) and its rank
 * for --quit-after. session.c's setter is the only place the stage of a
 * session changes; everything about a stage is looked up here.
 *
 * Default deadlines follow RFC 5321 4.5.3.2 (5 minutes for the banner,
 * MAIL and RCPT, 2 for DATA, 10 for the final dot) and apply only when
 * the caller sets no --timeout; the whole session has its own deadline.
 * Out-of-range stages give "none", exit code 1 and no deadline. */
#include <string.h>
#include <strings.h>

#include "session_int.h"
#include "banned.h"

#define MINUTE (60u * 1000u)

struct stage_info {
	const char *name;
	const char *phrase;
	unsigned deadline_ms;
	int exit_code;
	int rank; /* order for --quit-after */
};

static const struct stage_info stage_tab[SMTPROBE_ST_LAST] = {
        [SMTPROBE_ST_RESOLVE] = {"resolve", "while resolving", 0,
                                 SMTPROBE_EXIT_CONNECT, 0},
        [SMTPROBE_ST_CONNECT] = {"connect", "while connecting", 30000,
                                 SMTPROBE_EXIT_CONNECT, 1},
        [SMTPROBE_ST_BANNER] = {"banner", "waiting for the banner", 5 * MINUTE,
                                SMTPROBE_EXIT_BANNER, 2},
        [SMTPROBE_ST_EHLO] = {"ehlo", "waiting for the EHLO reply", 5 * MINUTE,
                              SMTPROBE_EXIT_EHLO, 3},
        [SMTPROBE_ST_STARTTLS] = {"starttls", "waiting for the STARTTLS reply",
                                  5 * MINUTE, SMTPROBE_EXIT_TLS, 4},
        [SMTPROBE_ST_TLS] = {"tls", "during the TLS handshake", 5 * MINUTE,
                             SMTPROBE_EXIT_TLS, 4},
        [SMTPROBE_ST_EHLO2] = {"ehlo",
                               "waiting for the EHLO reply after STARTTLS",
                               5 * MINUTE, SMTPROBE_EXIT_EHLO, 5},
        [SMTPROBE_ST_AUTH] = {"auth", "during AUTH", 5 * MINUTE,
                              SMTPROBE_EXIT_AUTH, 6},
        [SMTPROBE_ST_MAIL] = {"mail", "waiting for the MAIL FROM reply",
                              5 * MINUTE, SMTPROBE_EXIT_MAIL, 7},
        [SMTPROBE_ST_RCPT] = {"rcpt", "waiting for the RCPT TO reply",
                              5 * MINUTE, SMTPROBE_EXIT_RCPT, 8},
        [SMTPROBE_ST_DATA] = {"data", "waiting for the DATA reply", 2 * MINUTE,
                              SMTPROBE_EXIT_DATA, 9},
        [SMTPROBE_ST_DOT] = {"dot", "waiting for the reply to the final dot",
                             10 * MINUTE, SMTPROBE_EXIT_DOT, 10},
        [SMTPROBE_ST_QUIT] = {"quit", "waiting for the QUIT reply", 30000,
                              SMTPROBE_EXIT_QUIT, 11},
        [SMTPROBE_ST_DONE] = {"done", "after the session", 0, SMTPROBE_EXIT_OK,
                              12},
};

static const struct {
	const char *word;
	enum smtprobe_stage stage;
} quit_words[] = {
        {"connect", SMTPROBE_ST_CONNECT}, {"banner", SMTPROBE_ST_BANNER},
        {"first-ehlo", SMTPROBE_ST_EHLO}, {"first-helo", SMTPROBE_ST_EHLO},
        {"ehlo", SMTPROBE_ST_EHLO2},      {"helo", SMTPROBE_ST_EHLO2},
        {"lhlo", SMTPROBE_ST_EHLO2},      {"greeting", SMTPROBE_ST_EHLO2},
        {"tls", SMTPROBE_ST_TLS},         {"starttls", SMTPROBE_ST_TLS},
        {"auth", SMTPROBE_ST_AUTH},       {"mail", SMTPROBE_ST_MAIL},
        {"from", SMTPROBE_ST_MAIL},       {"rcpt", SMTPROBE_ST_RCPT},
        {"to", SMTPROBE_ST_RCPT},         {"data", SMTPROBE_ST_DATA},
        {"dot", SMTPROBE_ST_DOT},         {"message", SMTPROBE_ST_DOT},
};

static int valid(enum smtprobe_stage st)
{
	return (unsigned)st < SMTPROBE_ST_LAST;
}

const char *smtprobe_stage_name(enum smtprobe_stage st)
{
	return valid(st) ? stage_tab[st].name : "none";
}

const char *smtprobe_stage_phrase(enum smtprobe_stage st)
{
	return valid(st) ? stage_tab[st].phrase : "in an unknown stage";
}

int smtprobe_stage_exit_code(enum smtprobe_stage st)
{
	return valid(st) ? stage_tab[st].exit_code : SMTPROBE_EXIT_USAGE;
}

unsigned smtprobe_stage_default_deadline_ms(enum smtprobe_stage st)
{
	return valid(st) ? stage_tab[st].deadline_ms : 0;
}

int session_stage_rank(enum smtprobe_stage st)
{
	return valid(st) ? stage_tab[st].rank
	                 : stage_tab[SMTPROBE_ST_DONE].rank;
}

enum smtprobe_stage smtprobe_stage_from_quit_after(const char *word)
{
	for (size_t i = 0; i < sizeof(quit_words) / sizeof(quit_words[0]); i++)
		if (strcasecmp(word, quit_words[i].word) == 0)
			return quit_words[i].stage;
	return SMTPROBE_ST_LAST;
}
