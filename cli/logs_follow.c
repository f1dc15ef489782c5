/* logs_follow.c - `smtprobe logs -f` (logs_cli.h): the files followed as
 * `tail -F` does, from their end: a libuv timer looks every --interval for
 * new lines; a file whose inode changed or that shrank was rotated or
 * truncated - the rest of the old one is read, then the new one from its
 * start; a file that is not there (between the move and the new file) is
 * looked for again at the next tick. After each look the series' clocks
 * move to now (a minute with no line closes too), and what crossed a
 * threshold is printed once: an alert line, or an NDJSON object with
 * --json; with --format prometheus --metrics-file the file is rewritten.
 * SIGINT / SIGTERM end it (exit 0). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <fcntl.h>
#include <jansson.h>
#include <unistd.h>
#include <uv.h>

#include "cli.h"
#include "logs_cli.h"
#include "nagios_out.h"
#include "banned.h"

struct follow {
	struct logs_cfg *c;
	int stdin_flags; /* stdin's flags before -f made it non-blocking,
	                    -1 when untouched */
	struct smtprobe_logs *l;
	struct logs_reader r[LOGS_MAX_FILES];
	int open[LOGS_MAX_FILES];
	uv_timer_t timer;
	uv_signal_t sigint, sigterm;
	int rc;
};

static void stop(struct follow *f)
{
	uv_timer_stop(&f->timer);
	uv_signal_stop(&f->sigint);
	uv_signal_stop(&f->sigterm);
	uv_close((uv_handle_t *)&f->timer, NULL);
	uv_close((uv_handle_t *)&f->sigint, NULL);
	uv_close((uv_handle_t *)&f->sigterm, NULL);
}

static void on_signal(uv_signal_t *s, int signum)
{
	(void)signum;
	stop(s->data);
}

static void iso(int64_t t, char *buf, size_t sz)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t < 0 || gmtime_r(&tt, &tm) == NULL)
		snprintf(buf, sz, "-");
	else
		strftime(buf, sz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void alerts(struct follow *f)
{
	struct smtprobe_logs_alert a[32];
	size_t n;

	while ((n = smtprobe_logs_alerts(f->l, a, 32)) > 0) {
		for (size_t i = 0; i < n; i++) {
			char s[32], e[32];
			iso(a[i].start, s, sizeof(s));
			iso(a[i].end, e, sizeof(e));
			if (f->c->format == CLI_FMT_JSON) {
				json_t *o = json_pack(
				        "{s:s, s:s, s:s, s:s, s:I, s:f}",
				        "alert", a[i].type, "what", a[i].what,
				        "start", s, "end", e, "count",
				        (json_int_t)a[i].count, "baseline",
				        a[i].baseline);
				char *txt =
				        o ? json_dumps(o, JSON_COMPACT) : NULL;
				if (txt)
					printf("%s\n", txt);
				free(txt);
				json_decref(o);
			} else if (strcmp(a[i].type, "spike") == 0) {
				printf("ALERT spike %s: %llu in the minute "
				       "from "
				       "%s (baseline %.1f a minute)\n",
				       a[i].what,
				       (unsigned long long)a[i].count, s,
				       a[i].baseline);
			} else {
				printf("ALERT %s %s: %llu %s since %s\n",
				       a[i].type, a[i].what,
				       (unsigned long long)a[i].count,
				       strcmp(a[i].type, "brute_force_user") ==
				                       0
				               ? "addresses"
				               : "failures in the window",
				       s);
			}
		}
		fflush(stdout);
	}
}

/* the file at its path now is not the one open (rotated), or shrank */
static int rotated(struct logs_reader *r)
{
	struct stat st;

	if (strcmp(r->name, "-") == 0 || stat(r->name, &st) < 0)
		return 0; /* not there (yet): keep reading the old one */
	return (unsigned long long)st.st_ino != r->ino ||
	       (unsigned long long)st.st_dev != r->dev ||
	       (long long)st.st_size < r->offset;
}

static void look(struct follow *f)
{
	char err[512];

	for (size_t i = 0; i < f->c->nfiles; i++) {
		struct logs_reader *r = &f->r[i];
		if (!f->open[i]) {
			if (logs_reader_open(r, f->c->files[i], err,
			                     sizeof(err)) == 0)
				f->open[i] = 1; /* a new file: from its start */
			continue;
		}
		long got;
		while ((got = logs_reader_pump(r, f->l, err, sizeof(err))) > 0)
			;
		if (got < 0) {
			cli_error("%s", err);
			f->rc = 2;
			stop(f);
			return;
		}
		if (rotated(r)) {
			logs_reader_flush(r, f->l);
			logs_reader_close(r);
			f->open[i] = 0;
			if (logs_reader_open(r, f->c->files[i], err,
			                     sizeof(err)) == 0) {
				f->open[i] = 1;
				while (logs_reader_pump(r, f->l, err,
				                        sizeof(err)) > 0)
					;
			}
		}
	}
}

static void on_tick(uv_timer_t *t)
{
	struct follow *f = t->data;
	char err[512];

	/* syslog dates have no year: they are this year's (the last's when
	 * more than a day ahead), whatever the file's age at the start */
	for (size_t i = 0; i < f->c->nfiles; i++)
		f->r[i].in.ref_time = (int64_t)time(NULL);
	look(f);
	smtprobe_logs_clock(f->l, (int64_t)time(NULL));
	alerts(f);
	if (f->c->metrics_file &&
	    logs_metrics_file(f->c, f->l, f->c->metrics_file, err,
	                      sizeof(err)) < 0)
		cli_error("%s", err);
}

int logs_follow(struct logs_cfg *c, struct smtprobe_logs *l)
{
	struct follow *f = calloc(1, sizeof(*f));
	uv_loop_t loop;
	char err[512];
	int rc;

	if (f == NULL) {
		cli_error("out of memory");
		return 2;
	}
	f->c = c;
	f->l = l;
	f->stdin_flags = -1;
	for (size_t i = 0; i < c->nfiles; i++) {
		if (strcmp(c->files[i], "-") == 0 && c->nfiles > 1) {
			cli_error("-f: stdin with files cannot be followed");
			free(f);
			return 2;
		}
		if (logs_reader_open(&f->r[i], c->files[i], err, sizeof(err)) <
		    0) {
			cli_error("%s", err);
			for (size_t k = 0; k < i; k++)
				logs_reader_close(&f->r[k]);
			free(f);
			return 2;
		}
		f->open[i] = 1;
		if (f->r[i].gz) {
			cli_error("-f: %s is gzip-compressed: it does not grow "
			          "(read it without -f)",
			          c->files[i]);
			for (size_t k = 0; k <= i; k++)
				logs_reader_close(&f->r[k]);
			free(f);
			return 2;
		}
		if (strcmp(c->files[i], "-") == 0) { /* never block the loop */
			f->stdin_flags = fcntl(f->r[i].fd, F_GETFL);
			(void)fcntl(f->r[i].fd, F_SETFL,
			            f->stdin_flags | O_NONBLOCK);
		}
		/* from the end, as tail -F: only what is written from now */
		if (strcmp(c->files[i], "-") != 0 && f->r[i].gz == NULL) {
			off_t end = lseek(f->r[i].fd, 0, SEEK_END);
			f->r[i].offset = end > 0 ? (long long)end : 0;
		}
	}
	uv_loop_init(&loop);
	uv_timer_init(&loop, &f->timer);
	uv_signal_init(&loop, &f->sigint);
	uv_signal_init(&loop, &f->sigterm);
	f->timer.data = f->sigint.data = f->sigterm.data = f;
	uv_signal_start(&f->sigint, on_signal, SIGINT);
	uv_signal_start(&f->sigterm, on_signal, SIGTERM);
	uv_timer_start(&f->timer, on_tick, 0, c->interval_ms);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	/* stdin shares its description with the shell: give it back as it
	 * was */
	if (f->stdin_flags >= 0)
		(void)fcntl(0, F_SETFL, f->stdin_flags);
	for (size_t i = 0; i < c->nfiles; i++)
		if (f->open[i])
			logs_reader_close(&f->r[i]);
	rc = f->rc;
	free(f);
	return rc;
}
