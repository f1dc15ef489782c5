/* policy.h - the files of `smtprobe run` (POLICY.yaml: environments of
 * targets with expectations, docs/smtprobe-run-policy.md) and of
 * `smtprobe exporter` (modules.yaml: named probe settings,
 * smtprobe-exporter(1)). Both are parsed with libyaml and validated
 * strictly: an unknown key, a wrong type, an out-of-range value or an
 * inline secret is an error naming the file and line ("policy.yaml:12:
 * expect.tls.min_version: 'TLSv1.5' is not one of TLSv1, TLSv1.1, TLSv1.2,
 * TLSv1.3"). Secrets are only ever named (password_env, password_file),
 * and read when a probe runs (smtprobe_policy_secret). */
#ifndef SMTPROBE_POLICY_H
#define SMTPROBE_POLICY_H

#include <stddef.h>

#include "relay.h"
#include "tlsposture.h"

enum smtprobe_pol_tls {
	SMTPROBE_POL_TLS_STARTTLS, /* default on ports other than 465 */
	SMTPROBE_POL_TLS_IMPLICIT, /* default on port 465 */
	SMTPROBE_POL_TLS_NONE,
	SMTPROBE_POL_TLS_OPTIONAL, /* STARTTLS when offered */
};

enum smtprobe_pol_kind {
	SMTPROBE_POL_CHECK, /* the diagnostic ladder (smtprobe check) */
	SMTPROBE_POL_RELAY, /* the relay audit (smtprobe relay) */
	SMTPROBE_POL_TLS,   /* the TLS posture scan (smtprobe tls) */
};

#define SMTPROBE_POL_MAX_MECHS 8

/* -1 in an int / long field: the expectation was left out (not checked). */
struct smtprobe_pol_expect {
	/* relay: {A: closed|open, B: holds|violated, C: holds|violated} */
	int relay_set[3];
	enum smtprobe_relay_verdict relay[3];
	/* tls */
	int tls_required;            /* -1, 0, 1 */
	int tls_min_version;         /* -1 or an enum smtprobe_tls_proto */
	int tls_verify;              /* -1, 0, 1 */
	long tls_cert_days_left_min; /* -1 or days */
	/* auth */
	int auth_offered_in_clear; /* -1, 0, 1 */
	int auth_succeeds;         /* -1, 0, 1: the credentials are taken */
	char *mechs_include[SMTPROBE_POL_MAX_MECHS]; /* upper case */
	size_t nmechs;
	char *banner; /* a POSIX extended regex on the banner's first line
	                 ("220 mx.example.test ESMTP"); checked at parse time */
	long max_ms;  /* -1 or the check's total time bound */
	int any;      /* at least one expectation given */
};

/* A target of a policy, or a module of the exporter (then name is the
 * module's, host is NULL and kind matters). */
struct smtprobe_pol_target {
	char *name;
	char *host;
	unsigned port; /* 0: the default: 465 for implicit TLS, 25 for a relay
	                  module, else 587 */
	enum smtprobe_pol_kind kind;
	enum smtprobe_pol_tls tls;
	int tls_set;       /* tls was given (else from the port) */
	char *tls_ca_path; /* a file or directory, made absolute against the
	                      file's own directory; NULL: the system's */
	char *local_domain;
	char *helo;
	char *auth_user;     /* NULL: no AUTH (scenarios B and C skipped) */
	char *password_env;  /* the secret's environment variable, or */
	char *password_file; /* a file whose first line is the secret
	                        (absolute, like tls_ca_path) */
	char *other_sender;
	char *external_domain;
	unsigned timeout_s; /* per reply; 0: the default (10 s) */
	int line;           /* where it starts in the file */
	struct smtprobe_pol_expect expect;
};

struct smtprobe_pol_env {
	char *name;
	int line;
	struct smtprobe_pol_target *targets;
	size_t ntargets;
};

struct smtprobe_policy {
	char *path; /* as given */
	struct smtprobe_pol_env *envs;
	size_t nenvs;
	/* modules.yaml */
	struct smtprobe_pol_target *modules;
	size_t nmodules;
};

/* Parse a policy (text of len bytes; path names it in errors and its
 * directory anchors relative paths). 0, or -1 with err ("path:LINE: ...").
 * out is always left safe to free. */
int smtprobe_policy_parse(const char *text, size_t len, const char *path,
                          struct smtprobe_policy *out, char *err, size_t errsz);
/* The same for a modules file (fills out->modules). */
int smtprobe_modules_parse(const char *text, size_t len, const char *path,
                           struct smtprobe_policy *out, char *err,
                           size_t errsz);
/* Read path and parse it (files over 1 MiB refused). */
int smtprobe_policy_load(const char *path, struct smtprobe_policy *out,
                         char *err, size_t errsz);
int smtprobe_modules_load(const char *path, struct smtprobe_policy *out,
                          char *err, size_t errsz);
void smtprobe_policy_free(struct smtprobe_policy *p);

const struct smtprobe_pol_env *
smtprobe_policy_env(const struct smtprobe_policy *p, const char *name);
const struct smtprobe_pol_target *
smtprobe_policy_module(const struct smtprobe_policy *p, const char *name);

/* How the library reads an environment variable: the caller's (the CLI
 * passes getenv; the library itself never reads the environment). */
typedef char *(*smtprobe_env_fn)(const char *name);

/* The target's secret (its environment variable, through env, or its
 * file's first line) into buf; 0, 1 when the target has none, -1 with err
 * (variable unset or empty, file unreadable or not a regular file, empty,
 * a NUL byte, too long; buf is wiped then). The caller wipes buf after
 * use. */
int smtprobe_policy_secret(const struct smtprobe_pol_target *t,
                           smtprobe_env_fn env, char *buf, size_t bufsz,
                           char *err, size_t errsz);

const char *smtprobe_pol_tls_name(enum smtprobe_pol_tls t);
const char *smtprobe_pol_kind_name(enum smtprobe_pol_kind k);

#endif
