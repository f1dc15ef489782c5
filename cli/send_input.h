/* send_input.h - what the message options of `smtprobe send` (--data,
 * --body, --attach) name: a file, standard input, or text. */
#ifndef SMTPROBE_SEND_INPUT_H
#define SMTPROBE_SEND_INPUT_H

#include <stddef.h>

enum send_input_kind {
	SEND_INPUT_DATA,   /* --data: the whole message */
	SEND_INPUT_BODY,   /* --body */
	SEND_INPUT_ATTACH, /* --attach: always a file (or stdin) */
};

/* Standard input is read once, however many options name it. */
struct send_input {
	char *stdin_buf;
	size_t stdin_len;
	int stdin_read;
};

/* Load the content arg stands for (see send_input.c for the rules):
 * malloc'd, NUL-terminated, length in *len; *name (may be NULL) gets the
 * file's base name, "stdin", or NULL for text. -1 with err naming the
 * option, the path and why. */
int send_input_load(struct send_input *in, enum send_input_kind kind,
                    const char *arg, char **out, size_t *len, const char **name,
                    char *err, size_t errsz);
void send_input_release(struct send_input *in);

#endif
