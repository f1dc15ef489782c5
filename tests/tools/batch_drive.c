/* batch_drive.c - a test tool (not installed): run N sessions through the
 * library's batch runner against HOST:PORT and print what happened as one
 * JSON document, for tests/e2e/test_batch.py.
 *
 *   batch_drive HOST PORT N CONCURRENCY [PER_HOST [PAUSE_MS [DEADLINE_MS]]]
 *
 * Each session greets, sends MAIL FROM:<batch@example.test> and RCPT
 * TO:<rcpt@example.test>, and QUITs (nothing is delivered). The document:
 * {"jobs", "ok", "failed", "not_started", "concurrency", "peak",
 *  "peak_per_host", "truncated", "ms", "kinds": {kind: count}}.
 * Exit 0 when it ran, 2 on a usage error. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtprobe/batch.h"
#include "banned.h"

static long arg_num(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	return end != s && *end == '\0' && v >= 0 ? v : -1;
}

int main(int argc, char **argv)
{
	static const char *const rcpt[] = {"<rcpt@example.test>"};
	long port, n, conc, per_host = 0, pause = 0, deadline = 0;

	if (argc < 5 || (port = arg_num(argv[2])) <= 0 ||
	    (n = arg_num(argv[3])) <= 0 || (conc = arg_num(argv[4])) <= 0 ||
	    (argc > 5 && (per_host = arg_num(argv[5])) < 0) ||
	    (argc > 6 && (pause = arg_num(argv[6])) < 0) ||
	    (argc > 7 && (deadline = arg_num(argv[7])) < 0)) {
		fprintf(stderr, "usage: batch_drive HOST PORT N CONCURRENCY "
		                "[PER_HOST [PAUSE_MS [DEADLINE_MS]]]\n");
		return 2;
	}
	struct smtprobe_params p;
	memset(&p, 0, sizeof(p));
	p.host = argv[1];
	p.port = (unsigned)port;
	p.helo = "batch.example.test";
	p.mail_from = "<batch@example.test>";
	p.rcpt = rcpt;
	p.nrcpt = 1;
	p.quit_after = SMTPROBE_ST_RCPT;
	p.stage_timeout_ms = 10000;
	p.session_timeout_ms = 30000;

	struct smtprobe_batch_job *jobs = calloc((size_t)n, sizeof(*jobs));
	struct smtprobe_result *res = calloc((size_t)n, sizeof(*res));
	if (!jobs || !res) {
		fprintf(stderr, "batch_drive: out of memory\n");
		return 1;
	}
	for (long i = 0; i < n; i++) {
		jobs[i].params = &p;
		jobs[i].res = &res[i];
		jobs[i].fd = -1;
	}
	struct smtprobe_batch_params bp = {
	        .concurrency = (unsigned)conc,
	        .per_host = (unsigned)per_host,
	        .pause_ms = (unsigned)pause,
	        .deadline_ms = (unsigned)deadline,
	};
	struct smtprobe_batch_stats st;
	smtprobe_batch_run(jobs, (size_t)n, &bp, &st);

	json_t *kinds = json_object();
	long ok = 0, failed = 0;
	for (long i = 0; i < n; i++) {
		if (!jobs[i].started)
			continue;
		if (res[i].failure.kind == SMTPROBE_FAIL_NONE) {
			ok++;
		} else {
			const char *k =
			        smtprobe_failure_kind_name(res[i].failure.kind);
			json_t *c = json_object_get(kinds, k);
			json_object_set_new(
			        kinds, k,
			        json_integer(c ? json_integer_value(c) + 1
			                       : 1));
			failed++;
		}
		smtprobe_result_release(&res[i]);
	}
	json_t *doc = json_pack(
	        "{s:I, s:I, s:I, s:I, s:i, s:i, s:i, s:b, s:f, s:o}", "jobs",
	        (json_int_t)n, "ok", (json_int_t)ok, "failed",
	        (json_int_t)failed, "not_started", (json_int_t)st.not_started,
	        "concurrency", (int)st.concurrency, "peak", (int)st.peak,
	        "peak_per_host", (int)st.peak_per_host, "truncated",
	        st.truncated, "ms", st.ms, "kinds", kinds);
	char *out = json_dumps(doc, JSON_COMPACT);
	puts(out ? out : "{}");
	free(out);
	json_decref(doc);
	free(jobs);
	free(res);
	return 0;
}
