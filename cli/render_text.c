/* render_text.c - the human transcript, in swaks' vocabulary:
 * "=== " info, "*** " error, " -> " sent, "<-  " received, " ~> " / "<~  "
 * inside TLS, "<** " an error reply, and with -v "  ~ " for every stage
 * change. Colour only on a TTY and never when
 * NO_COLOR is set. Event text is already escaped by the library. */
#include "cli.h"
#include "banned.h"

void text_out_init(struct text_out *t, FILE *f, int show_time)
{
	t->f = f;
	t->show_time = show_time;
	t->show_stages = 0;
	t->colour = cli_colour(f);
}

void text_event(const struct smtprobe_event *ev, void *arg)
{
	struct text_out *t = arg;
	const char *prefix = "=== ";
	const char *on = "", *off = "";

	switch (ev->kind) {
	case SMTPROBE_EV_INFO:
		prefix = "=== ";
		break;
	case SMTPROBE_EV_ERROR:
		prefix = "*** ";
		on = "\033[31m";
		break;
	case SMTPROBE_EV_SENT:
		prefix = ev->in_tls ? " ~> " : " -> ";
		on = "\033[36m";
		break;
	case SMTPROBE_EV_RECV:
		prefix = ev->in_tls ? "<~  " : "<-  ";
		break;
	case SMTPROBE_EV_RECV_ERR:
		prefix = ev->in_tls ? "<~* " : "<** ";
		on = "\033[31m";
		break;
	case SMTPROBE_EV_STAGE:
		if (!t->show_stages)
			return;
		prefix = "  ~ ";
		on = "\033[2m";
		break;
	}
	if (!t->colour || ev->is_data)
		on = "";
	if (on[0])
		off = "\033[0m";
	if (t->show_time && ev->ms > 0)
		fprintf(t->f, "%s%s%s%s  [%.3f ms]\n", on, prefix, ev->text,
		        off, ev->ms);
	else
		fprintf(t->f, "%s%s%s%s\n", on, prefix, ev->text, off);
}
