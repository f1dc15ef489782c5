/* command.h - parsing one SMTP command line on the server side (pure).
 * Input is a line without its CRLF; output points into it. */
#ifndef SMTPROBE_SERVER_COMMAND_H
#define SMTPROBE_SERVER_COMMAND_H

#include <stddef.h>

#define SRV_MAX_CMDLINE 2048 /* longer lines get 500 5.5.2 */

enum srv_verb {
	SRV_CMD_UNKNOWN,
	SRV_CMD_HELO,
	SRV_CMD_EHLO,
	SRV_CMD_LHLO,
	SRV_CMD_MAIL,
	SRV_CMD_RCPT,
	SRV_CMD_DATA,
	SRV_CMD_BDAT,
	SRV_CMD_RSET,
	SRV_CMD_NOOP,
	SRV_CMD_QUIT,
	SRV_CMD_VRFY,
	SRV_CMD_EXPN,
	SRV_CMD_HELP,
	SRV_CMD_STARTTLS,
	SRV_CMD_AUTH,
	SRV_CMD_LAST
};

struct srv_command {
	enum srv_verb verb;
	const char *name; /* the verb as upper-case text, "" when unknown */
	const char *arg;  /* everything after the verb and one space */
	size_t arglen;
	/* MAIL / RCPT: the path between the angle brackets ("" for <>),
	 * and the parameters after it. Source routes (@a,@b:) are kept in
	 * the path as sent; the caller decides what to make of them. */
	const char *path;
	size_t pathlen;
	const char *params;
	size_t paramslen;
};

/* 0 when the line is a well-formed command (unknown verbs included:
 * verb SRV_CMD_UNKNOWN), else -1 and *reply is the full reply line to send
 * ("501 5.5.4 Syntax: MAIL FROM:<address>"). Rejects NUL and other control
 * bytes in the line, missing or unbalanced angle brackets, missing
 * arguments where one is required, and arguments where none is allowed
 * (DATA, RSET, QUIT, STARTTLS). */
int srv_command_parse(const char *line, size_t len, struct srv_command *out,
                      const char **reply);

/* The domain part of an address ("" when none), pointing into addr. */
const char *srv_addr_domain(const char *addr, size_t len, size_t *dlen);

#endif
