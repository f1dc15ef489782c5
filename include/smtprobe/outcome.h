/* outcome.h - one neutral shape for what CI and monitoring read of any
 * command: test suites of test cases (rendered as JUnit XML and TAP 14)
 * and metric families (rendered as the Prometheus text exposition format
 * 0.0.4). The audits are turned into this shape in lib/assure; the
 * renderers here (lib/report/outcome*.c) know nothing of SMTP.
 *
 * Every string given is copied. Out of memory is remembered (oom) and makes
 * the renderers return NULL; the adders never fail loudly, so callers do
 * not check each call. */
#ifndef SMTPROBE_OUTCOME_H
#define SMTPROBE_OUTCOME_H

#include <stddef.h>

enum smtprobe_case_status {
	SMTPROBE_CASE_PASS,
	SMTPROBE_CASE_FAIL,  /* a test that ran and found a fault */
	SMTPROBE_CASE_ERROR, /* could not decide (JUnit <error>, TAP not ok) */
	SMTPROBE_CASE_SKIP,
};

struct smtprobe_case {
	char *name;      /* "tls", "A.rcpt.percent-ip", "expect.relay.C" */
	char *classname; /* "smtprobe.check" ... */
	enum smtprobe_case_status status;
	double seconds; /* < 0: not known */
	char *message;  /* one line: what failed, why it was skipped; or NULL */
	char *detail;   /* the evidence and the fix, several lines; or NULL */
};

struct smtprobe_suite {
	char *name;      /* "check 127.0.0.1:587", "staging/submission" */
	char *hostname;  /* the target, or NULL */
	double seconds;  /* < 0: not known */
	char *timestamp; /* ISO 8601 (UTC) of the start, or NULL */
	struct smtprobe_case *cases;
	size_t ncases, cap;
};

#define SMTPROBE_METRIC_MAX_LABELS 4

struct smtprobe_sample {
	char *label[SMTPROBE_METRIC_MAX_LABELS][2]; /* name, value */
	size_t nlabels;
	double value;
};

struct smtprobe_family {
	char *name; /* "smtprobe_step_success" */
	char *help;
	char *type; /* "gauge", "counter" */
	struct smtprobe_sample *samples;
	size_t nsamples, cap;
};

struct smtprobe_outcome {
	struct smtprobe_suite *suites;
	size_t nsuites, cap;
	struct smtprobe_family *families;
	size_t nfamilies, fcap;
	int oom;
};

void smtprobe_outcome_init(struct smtprobe_outcome *o);
void smtprobe_outcome_free(struct smtprobe_outcome *o);

/* A new suite (its index is o->nsuites - 1); NULL when out of memory. */
struct smtprobe_suite *smtprobe_outcome_suite(struct smtprobe_outcome *o,
                                              const char *name,
                                              const char *hostname);
/* The suite's duration and start (Unix time; < 0: none) - JUnit's time
 * and timestamp. */
void smtprobe_outcome_suite_time(struct smtprobe_outcome *o,
                                 struct smtprobe_suite *s, double seconds,
                                 double start);
/* A case in suite s; message and detail may be NULL. */
void smtprobe_outcome_case(struct smtprobe_outcome *o, struct smtprobe_suite *s,
                           const char *name, const char *classname,
                           enum smtprobe_case_status st, double seconds,
                           const char *message, const char *detail);

/* One sample of the family `name` (created with help and type on first use;
 * later help/type are ignored). The labels are name, value pairs ending with
 * NULL: smtprobe_outcome_metric(o, "smtprobe_step_success", "gauge", "...",
 * 1, "step", "tls", SMTPROBE_LABELS_END). At most SMTPROBE_METRIC_MAX_LABELS
 * pairs. */
void smtprobe_outcome_metric(struct smtprobe_outcome *o, const char *name,
                             const char *type, const char *help, double value,
                             ...) __attribute__((sentinel));
/* The end of the label pairs (a NULL that varargs may pass portably). */
#define SMTPROBE_LABELS_END ((const char *)0)

/* Counts over every suite. */
size_t smtprobe_outcome_count(const struct smtprobe_outcome *o,
                              enum smtprobe_case_status st);

/* The renderers: malloc'd text (caller frees), NULL when out of memory. */
char *smtprobe_outcome_junit(const struct smtprobe_outcome *o,
                             const char *name);
char *smtprobe_outcome_tap(const struct smtprobe_outcome *o);
char *smtprobe_outcome_prometheus(const struct smtprobe_outcome *o);

#endif
