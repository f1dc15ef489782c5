/* dataline.c - DATA's text as it arrives (dataline.h). Pure: no I/O, no
 * allocation; fuzzed (fuzz_data), which checks that the output does not
 * depend on where the input is cut.
 *
 * RFC 5321 4.5.2: a line that starts with '.' loses it; the line "." ends
 * the message. A line ends at LF; a CR right before it is part of the line
 * end; both kinds end up as CRLF in the message (Postfix does the same).
 * A CR elsewhere is text. */
#include <string.h>

#include "dataline.h"

#include "banned.h"

static void text(struct data_scan *st, const char *p, size_t n, size_t max_line,
                 data_out_fn out, void *ctx)
{
	if (n == 0)
		return;
	st->mid_line = 1;
	st->line_len += n;
	if (st->line_len > max_line)
		st->line_too_big = 1;
	out(ctx, p, n);
}

int data_scan(struct data_scan *st, const char *buf, size_t n, size_t max_line,
              data_out_fn out, void *ctx, size_t *used)
{
	size_t i = 0;

	*used = 0;
	while (i < n) {
		const char *d = buf + i;
		size_t left = n - i;
		if (!st->mid_line && d[0] == '.') {
			/* ".\r\n" ends the message, "." starts a stuffed line
			 */
			if (left < 2 || (d[1] == '\r' && left < 3))
				break; /* not decided yet */
			if (d[1] == '\n' || (d[1] == '\r' && d[2] == '\n')) {
				i += d[1] == '\n' ? 2 : 3;
				*used = i;
				st->line_len = 0;
				return 1;
			}
			i++;
			st->mid_line = 1;
			continue;
		}
		const char *nl = memchr(d, '\n', left);
		if (nl) {
			size_t len = (size_t)(nl - d);
			size_t t =
			        len > 0 && d[len - 1] == '\r' ? len - 1 : len;
			text(st, d, t, max_line, out, ctx);
			out(ctx, "\r\n", 2);
			st->line_len = 0;
			st->mid_line = 0;
			i += len + 1;
			continue;
		}
		/* no line end yet: all but a last '\r', which may start it */
		size_t take = d[left - 1] == '\r' ? left - 1 : left;
		text(st, d, take, max_line, out, ctx);
		i += take;
		break;
	}
	*used = i;
	return 0;
}
