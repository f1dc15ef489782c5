/* stage.h - the stages of a client session and swaks' exit codes. One
 * table in lib/smtp/session.c gives each stage its name, its phrase, its
 * default reply deadline and the exit code a failure there maps to. */
#ifndef SMTPROBE_STAGE_H
#define SMTPROBE_STAGE_H

/* Stages, in order. */
enum smtprobe_stage {
	SMTPROBE_ST_RESOLVE,
	SMTPROBE_ST_CONNECT,
	SMTPROBE_ST_BANNER,
	SMTPROBE_ST_EHLO,
	SMTPROBE_ST_STARTTLS,
	SMTPROBE_ST_TLS,
	SMTPROBE_ST_EHLO2,
	SMTPROBE_ST_AUTH,
	SMTPROBE_ST_MAIL,
	SMTPROBE_ST_RCPT,
	SMTPROBE_ST_DATA,
	SMTPROBE_ST_DOT,
	SMTPROBE_ST_QUIT,
	SMTPROBE_ST_DONE,
	SMTPROBE_ST_LAST
};

/* Exit codes (swaks' numbers). */
enum smtprobe_exit {
	SMTPROBE_EXIT_OK = 0,
	SMTPROBE_EXIT_USAGE = 1,
	SMTPROBE_EXIT_CONNECT = 2,
	SMTPROBE_EXIT_CLOSED = 6,
	SMTPROBE_EXIT_BANNER = 21,
	SMTPROBE_EXIT_EHLO = 22,
	SMTPROBE_EXIT_MAIL = 23,
	SMTPROBE_EXIT_RCPT = 24,
	SMTPROBE_EXIT_DATA = 25,
	SMTPROBE_EXIT_DOT = 26,
	SMTPROBE_EXIT_QUIT = 27,
	SMTPROBE_EXIT_AUTH = 28,
	SMTPROBE_EXIT_TLS = 29,
};

/* "banner", "ehlo", ... ("none" out of range). */
const char *smtprobe_stage_name(enum smtprobe_stage st);
/* "waiting for the banner", "during the TLS handshake" ... */
const char *smtprobe_stage_phrase(enum smtprobe_stage st);
/* The exit code of a failure in this stage. */
int smtprobe_stage_exit_code(enum smtprobe_stage st);
/* The deadline of one wait in this stage when the caller sets none (RFC
 * 5321 4.5.3.2 where it gives one); 0: none of its own (resolve). */
unsigned smtprobe_stage_default_deadline_ms(enum smtprobe_stage st);
/* The stage a --quit-after word names, or SMTPROBE_ST_LAST when unknown. */
enum smtprobe_stage smtprobe_stage_from_quit_after(const char *word);

#endif
