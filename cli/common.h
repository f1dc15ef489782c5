/* common.h - what send, check and relay share: the HOST[:PORT] target,
 * bounded file reading, the AUTH password (option, file, environment,
 * prompt) and its wiping, the status markers and colour, and the option
 * rows every one of them has (TLS, AUTH, timeouts, -4/-6, --json): one
 * handler fills a struct cli_common, one function applies it to a struct
 * smtprobe_params.
 *
 * A command's option table lists the shared rows with the CLI_OPT_* /
 * CLI_OPTS_* macros below (in the order its --help should show them, with
 * its own wording where its defaults differ), hands every id from
 * CLI_O_FIRST on to cli_common_opt, and uses cli_common_accept for
 * --auth [MECH]. */
#ifndef SMTPROBE_CLI_COMMON_H
#define SMTPROBE_CLI_COMMON_H

#include <stdio.h>

#include "opts.h"
#include "smtprobe/session.h"

/* One error (or warning) line on stderr: "smtprobe: ..." */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- targets -------------------------------------------------------- */

/* Split HOST[:PORT], [V6]:PORT or a bare IPv6 address (port left as it
 * was when none is given); -1 when malformed or too long. */
int cli_split_server(const char *spec, char *host, size_t hostsz, long *port);
/* The HOST[:PORT] argument of check and relay (port -1 when none); -1
 * after an error line. */
int cli_target(const char *cmd, const char *target, char *host, size_t hostsz,
               long *port);
/* An IPv4 or IPv6 address rather than a name (no SNI for those). */
int cli_is_ip_literal(const char *host);

/* ---- files ---------------------------------------------------------- */

/* This machine's name for EHLO (gethostname), "localhost" when it has
 * none fit for a command line. */
const char *cli_local_name(void);
/* A copy of s fit for an error line: control bytes as '?', at most
 * outsz - 1 bytes ("..." when cut). Returns out. */
const char *cli_printable(const char *s, char *out, size_t outsz);
/* Read what fd gives until EOF, at most cap bytes (more is an error);
 * malloc'd, NUL-terminated, *len without the NUL. NULL with err, which
 * starts with what (e.g. "--data /path"). */
char *cli_read_fd(int fd, const char *what, size_t cap, size_t *len, char *err,
                  size_t errsz);
/* The same for a path: a regular file, a pipe or FIFO, or a character
 * device; a directory or anything else is an error. opt names the
 * option for the error ("--data /x: no such file or directory"). */
char *cli_read_file(const char *opt, const char *path, size_t cap, size_t *len,
                    char *err, size_t errsz);

/* --tls-ca-path: a CA file or a directory of them; -1 with err when it
 * cannot be read. */
int cli_tls_ca(const char *ca, struct smtprobe_tls_opts *o, char *err,
               size_t errsz);

/* ---- secrets -------------------------------------------------------- */

/* Ask on the terminal without echo (malloc'd; NULL without a terminal). */
char *cli_prompt_password(void);
/* Wipe and free a secret the CLI holds (NULL: nothing). */
void cli_forget(char *secret);

/* ---- status markers ------------------------------------------------- */

enum cli_mark {
	CLI_MARK_PASS,      /* ✔ green */
	CLI_MARK_FAIL,      /* ✘ red */
	CLI_MARK_WARN,      /* ! yellow */
	CLI_MARK_SKIP,      /* – */
	CLI_MARK_UNDECIDED, /* ? yellow */
	CLI_MARK_FACT,      /* · */
};
/* Colour for f: only on a terminal, never when NO_COLOR is set. */
int cli_colour(FILE *f);
const char *cli_mark(enum cli_mark m, int colour);

/* ---- the shared option rows ----------------------------------------- */

enum {
	CLI_O_FIRST = 0x100, /* commands number their own options below */
	CLI_O_TLS_VERIFY = CLI_O_FIRST,
	CLI_O_TLS_CA,
	CLI_O_TLS_SNI,
	CLI_O_TLS_VERIFY_HOST,
	CLI_O_TLS_PROTOCOL,
	CLI_O_TLS_CIPHER,
	CLI_O_TLS_CERT,
	CLI_O_TLS_KEY,
	CLI_O_AUTH,
	CLI_O_AUTH_USER,
	CLI_O_AUTH_PASSWORD,
	CLI_O_AUTH_PASSWORD_FILE,
	CLI_O_AUTH_PLAINTEXT,
	CLI_O_TIMEOUT,
	CLI_O_SESSION_TIMEOUT,
	CLI_O_4,
	CLI_O_6,
	CLI_O_JSON,
};

/* One row a line reads better than clang-format's layout of macros. */
/* clang-format off */

/* Rows whose wording is the command's. */
#define CLI_OPT_TLS_VERIFY(help) \
	{CLI_O_TLS_VERIFY, "tls-verify", OPT_NONE, NULL, help}
#define CLI_OPT_AUTH(help) {CLI_O_AUTH, "a|auth", OPT_OPT, "MECH", help}
#define CLI_OPT_TIMEOUT(help) {CLI_O_TIMEOUT, "timeout", OPT_REQ, "SECS", help}
#define CLI_OPT_SESSION_TIMEOUT(help) \
	{CLI_O_SESSION_TIMEOUT, "session-timeout", OPT_REQ, "SECS", help}
#define CLI_OPT_JSON(help) {CLI_O_JSON, "json", OPT_NONE, NULL, help}

/* Rows that read the same everywhere. */
#define CLI_OPTS_TLS_PEER \
	{CLI_O_TLS_CA, "tls-ca-path", OPT_REQ, "PATH", \
	 "CA file or directory (default: the system store)"}, \
	{CLI_O_TLS_SNI, "tls-sni", OPT_REQ, "NAME", \
	 "SNI name (default: the server name, none for an address)"}, \
	{CLI_O_TLS_VERIFY_HOST, "tls-verify-host", OPT_REQ, "NAME", \
	 "name the certificate must match (default: the server)"}, \
	{CLI_O_TLS_PROTOCOL, "tls-protocol", OPT_REQ, "SPEC", \
	 "allowed versions, e.g. tlsv1_2,tlsv1_3 or no_tlsv1_1"}, \
	{CLI_O_TLS_CIPHER, "tls-cipher", OPT_REQ, "LIST", "OpenSSL cipher list"}, \
	{CLI_O_TLS_CERT, "tls-cert", OPT_REQ, "FILE", "client certificate (PEM)"}, \
	{CLI_O_TLS_KEY, "tls-key", OPT_REQ, "FILE", "client certificate key (PEM)"}
#define CLI_OPTS_AUTH_CREDENTIALS \
	{CLI_O_AUTH_USER, "au|auth-user", OPT_REQ, "USER", "AUTH user"}, \
	{CLI_O_AUTH_PASSWORD_FILE, "auth-password-file", OPT_REQ, "FILE", \
	 "AUTH password or token: the first line of FILE"}, \
	{CLI_O_AUTH_PASSWORD, "ap|auth-password", OPT_SECRET, "PASS", \
	 "the same on the command line (other local users can read it)"}, \
	{CLI_O_AUTH_PLAINTEXT, "auth-plaintext", OPT_NONE, NULL, \
	 "allow AUTH over a connection without TLS"}
#define CLI_OPTS_FAMILY \
	{CLI_O_4, "4", OPT_NONE, NULL, "IPv4 only"}, \
	{CLI_O_6, "6", OPT_NONE, NULL, "IPv6 only"}

/* clang-format on */

struct cli_common {
	int tls_verify;
	const char *tls_ca, *tls_sni, *tls_verify_host;
	const char *tls_protocol, *tls_cipher, *tls_cert, *tls_key;
	int auth; /* --auth, or a credential option given */
	const char *auth_mech, *auth_user, *auth_password_file;
	int auth_plaintext;
	char *password;    /* owned: argv's copy, the file's line, the prompt */
	int password_argv; /* it came from the command line */
	long timeout_ms, session_timeout_ms;
	int family; /* 0, 4 or 6 */
	int json;
	int quiet; /* no warning on stderr (send --silent) */
};

/* Defaults of the command; session_timeout_ms 0 = 8 x the --timeout. */
void cli_common_init(struct cli_common *c, long timeout_ms,
                     long session_timeout_ms);
/* The handler of every CLI_O_* id; 0, or -1 with err. */
int cli_common_opt(struct cli_common *c, int id, const char *v, char *err,
                   size_t errsz);
/* opts_parse's accept_opt: --auth takes the next argument only when it
 * names a mechanism. */
int cli_common_accept(int id, const char *next);
/* TLS, AUTH credentials, timeouts and address family into p, for a
 * session to host (the default SNI and certificate name). p->auth is the
 * command's to set. 0, or -1 with err (a usage error). */
int cli_common_apply(struct cli_common *c, const char *host,
                     struct smtprobe_params *p, char *err, size_t errsz);
/* The AUTH part of cli_common_apply: user, mechanism, and the password
 * from --auth-password, --auth-password-file, env SMTPROBE_PASSWORD or a
 * no-echo prompt, in that order; warns once on stderr (unless quiet) when
 * it came from the command line. */
int cli_auth_setup(struct cli_common *c, struct smtprobe_params *p, char *err,
                   size_t errsz);
/* The closing note of --help on the four ways to give a password. */
void cli_common_help_password(FILE *f);
/* Wipe the password copies. */
void cli_common_release(struct cli_common *c);

#endif
