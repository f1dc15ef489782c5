/* send_input.c - the arguments of --data, --body and --attach, read the
 * way swaks documents them:
 *
 *   -          standard input (read once, shared by every option naming it)
 *   @FILE      a file: regular, a pipe or FIFO (--data @<(cmd)), a device
 *   @@TEXT     the text "@TEXT"
 *   TEXT       text; the two characters \n become a line break
 *
 * and, for the command lines written before swaks wanted the @, a bare
 * argument without a line break that names an existing path is read as a
 * file. A bare argument that can only mean a file is an error when it
 * names none, rather than text sent as the message: for --data and
 * --body, one that looks like a path (starts with /, ./, ../ or ~/, no
 * blank); for --data also any single word (a whole message is never one
 * word). --attach always names a file (the @ is optional).
 *
 * Promises: every read is bounded by SMTPROBE_MAX_MESSAGE; a missing,
 * unreadable or directory path is an error naming the option and the
 * path, and nothing is sent; a body with a NUL byte is refused (the body
 * is text, binary goes in --attach). Line ends are left as they are:
 * the message layer turns bare LF into CRLF. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "send_input.h"
#include "smtprobe/message.h"
#include "banned.h"

static const char *const opt_name[] = {"--data", "--body", "--attach"};

static int has_line_break(const char *s)
{
	return strchr(s, '\n') || strstr(s, "\\n");
}

static int looks_like_path(const char *s)
{
	return (s[0] == '/' || strncmp(s, "./", 2) == 0 ||
	        strncmp(s, "../", 3) == 0 || strncmp(s, "~/", 2) == 0) &&
	       !strpbrk(s, " \t\r\n");
}

/* Whether a bare argument (no @, not -) names a file. */
static int bare_is_file(enum send_input_kind kind, const char *arg)
{
	struct stat st;

	if (kind == SEND_INPUT_ATTACH)
		return 1;
	if (has_line_break(arg))
		return 0;
	if (stat(arg, &st) == 0 || looks_like_path(arg))
		return 1;
	return kind == SEND_INPUT_DATA && !strpbrk(arg, " \t\r");
}

/* Text with "\n" made a line break. */
static char *expand_text(const char *arg, size_t *len)
{
	size_t n = strlen(arg), o = 0;
	char *out = malloc(n + 1);

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (arg[i] == '\\' && arg[i + 1] == 'n') {
			out[o++] = '\n';
			i++;
		} else {
			out[o++] = arg[i];
		}
	}
	out[o] = '\0';
	*len = o;
	return out;
}

static char *from_stdin(struct send_input *in, const char *opt, size_t *len,
                        char *err, size_t errsz)
{
	char what[32];

	if (!in->stdin_read) {
		snprintf(what, sizeof(what), "%s - (stdin)", opt);
		in->stdin_buf =
		        cli_read_fd(STDIN_FILENO, what, SMTPROBE_MAX_MESSAGE,
		                    &in->stdin_len, err, errsz);
		if (!in->stdin_buf)
			return NULL;
		in->stdin_read = 1;
	}
	char *copy = malloc(in->stdin_len + 1);
	if (!copy) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	memcpy(copy, in->stdin_buf, in->stdin_len + 1);
	*len = in->stdin_len;
	return copy;
}

int send_input_load(struct send_input *in, enum send_input_kind kind,
                    const char *arg, char **out, size_t *len, const char **name,
                    char *err, size_t errsz)
{
	const char *opt = opt_name[kind];
	const char *path = NULL;
	char *buf;

	if (name)
		*name = NULL;
	if (strcmp(arg, "-") == 0) {
		buf = from_stdin(in, opt, len, err, errsz);
		if (name)
			*name = "stdin";
	} else {
		if (arg[0] == '@' &&
		    (kind == SEND_INPUT_ATTACH || arg[1] != '@'))
			path = arg + 1;
		else if (arg[0] != '@' && bare_is_file(kind, arg))
			path = arg;
		if (path) {
			buf = cli_read_file(opt, path, SMTPROBE_MAX_MESSAGE,
			                    len, err, errsz);
			const char *slash = strrchr(path, '/');
			if (name)
				*name = slash ? slash + 1 : path;
		} else {
			/* text; "@@x" is the text "@x" */
			buf = expand_text(arg[0] == '@' ? arg + 1 : arg, len);
			if (!buf)
				snprintf(err, errsz, "out of memory");
		}
	}
	if (!buf)
		return -1;
	if (kind == SEND_INPUT_BODY && strlen(buf) != *len) {
		char shown[256];
		snprintf(
		        err, errsz,
		        "--body %s: holds a NUL byte (binary content goes in "
		        "--attach)",
		        cli_printable(path ? path : arg, shown, sizeof(shown)));
		free(buf);
		return -1;
	}
	*out = buf;
	return 0;
}

void send_input_release(struct send_input *in)
{
	free(in->stdin_buf);
	in->stdin_buf = NULL;
	in->stdin_read = 0;
}
