/* logs_cli.h - what cli/logs.c (options, the batch report) and
 * cli/logs_follow.c (-f) share: the configuration, reading an input in
 * chunks into lines, and the reports. */
#ifndef SMTPROBE_CLI_LOGS_H
#define SMTPROBE_CLI_LOGS_H

#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#include "smtprobe/logs.h"

#define LOGS_MAX_FILES 64
#define LOGS_CHUNK     (1 << 20)  /* bytes read at a time */
#define LOGS_MAX_LINE  (64 << 10) /* a longer line is counted, not read */

struct logs_cfg {
	const char *files[LOGS_MAX_FILES];
	size_t nfiles;
	struct smtprobe_logs_opts o;
	unsigned top; /* rows per table in the report (default 10) */
	int follow;
	int json, help;
	int format; /* enum cli_format: text, json, prometheus */
	const char *metrics_file;
	unsigned interval_ms; /* follow: how often to look (default 250) */
};

/* One input: a file (gzip read directly), stdin, and the bytes of a line
 * not ended yet. */
struct logs_reader {
	const char *name; /* "-" for stdin */
	int fd;           /* plain */
	gzFile gz;        /* gzip */
	char *buf;        /* LOGS_CHUNK + LOGS_MAX_LINE */
	size_t have;      /* bytes of an unfinished line at buf's start */
	int skipping;     /* inside a line over LOGS_MAX_LINE */
	struct smtprobe_log_input in;
	/* follow: what was opened, to see rotations */
	unsigned long long dev, ino;
	long long offset;
};

/* Open name ("-": stdin); 0, or -1 with err. */
int logs_reader_open(struct logs_reader *r, const char *name, char *err,
                     size_t errsz);
/* Read what is there and count its whole lines into l; bytes read, 0 at
 * the end (for now), -1 with err. */
long logs_reader_pump(struct logs_reader *r, struct smtprobe_logs *l, char *err,
                      size_t errsz);
/* The end of an input: its last line without a newline counts too. */
void logs_reader_flush(struct logs_reader *r, struct smtprobe_logs *l);
void logs_reader_close(struct logs_reader *r);

/* The reports on stdout: text, JSON, Prometheus; 0 or -1. */
int logs_print(const struct logs_cfg *c, const struct smtprobe_logs *l);
/* Prometheus exposition to path, atomically (a temporary file renamed
 * over it, as node_exporter's textfile collector wants); 0 or -1. */
int logs_metrics_file(const struct logs_cfg *c, const struct smtprobe_logs *l,
                      const char *path, char *err, size_t errsz);

/* -f: follow the files (logs_follow.c); the exit code. */
int logs_follow(struct logs_cfg *c, struct smtprobe_logs *l);

#endif
