/* relay.h - the relay-policy audit behind `smtprobe relay`.
 *
 * Three scenarios (RELAY-TESTS.md): A unauthenticated relay attempts, which
 * must all be refused; B an authenticated user sending within the scope it
 * is allowed, which must be accepted; C the same user stepping outside that
 * scope (another sender, a forbidden domain, no AUTH), which must be
 * refused. Every test is its own connection and stops before DATA unless
 * the caller asks to deliver a marked test message. The catalogue is data
 * (relay_catalogue.c); the verdicts are pure functions (relay_verdict.c,
 * with the reply classifier of refusal.h); the runner (relay.c) finds the
 * listeners (discover.h) and runs the tests as one batch (batch.h). */
#ifndef SMTPROBE_RELAY_H
#define SMTPROBE_RELAY_H

#include <stddef.h>

#include "kb.h"
#include "refusal.h"
#include "reply.h"
#include "session.h"
#include "software.h"

#define SMTPROBE_RELAY_MAX_PORTS        8
#define SMTPROBE_RELAY_MAX_DOMAINS      8
#define SMTPROBE_RELAY_DEFAULT_EXTERNAL "relay-test.invalid"
#define SMTPROBE_RELAY_DEFAULT_HELO     "relay-audit.smtprobe.invalid"
#define SMTPROBE_RELAY_LOCALPART        "smtprobe-relay-test"

enum smtprobe_relay_scenario {
	SMTPROBE_RELAY_A, /* unauthenticated */
	SMTPROBE_RELAY_B, /* authenticated, in scope */
	SMTPROBE_RELAY_C, /* authenticated, out of scope */
};

/* What a test is for. */
enum smtprobe_relay_expect {
	SMTPROBE_EXPECT_REFUSED, /* a relay attempt: refusal is the pass */
	SMTPROBE_EXPECT_CONTROL, /* must be accepted, or refusals mean little */
	SMTPROBE_EXPECT_PROBE,   /* a control whose answer is a fact (catch-all)
	                          */
	SMTPROBE_EXPECT_ACCEPTED,      /* scenario B: in scope, must pass */
	SMTPROBE_EXPECT_SHOULD_REFUSE, /* accepted = a warning, not a breach */
	SMTPROBE_EXPECT_INFO,          /* reported, not judged */
};

/* How the test authenticates (or pretends to). */
enum smtprobe_relay_auth {
	SMTPROBE_RAUTH_NONE,
	SMTPROBE_RAUTH_USER,    /* the real credentials (B, C) */
	SMTPROBE_RAUTH_FAILED,  /* bogus credentials, 535, then go on */
	SMTPROBE_RAUTH_GARBAGE, /* an undecodable AUTH exchange, then go on */
	SMTPROBE_RAUTH_ABORTED, /* AUTH cancelled with "*", then go on */
};

const char *smtprobe_relay_expect_name(enum smtprobe_relay_expect e);
const char *smtprobe_relay_auth_name(enum smtprobe_relay_auth a);

/* The names a test is built from (RELAY-TESTS.md's notation). */
struct smtprobe_relay_names {
	const char *local;    /* L: a domain the server takes mail for */
	const char *external; /* X: a domain it must not relay to */
	const char *host;     /* H: its own host name (banner / EHLO) */
	const char *ip;       /* the address connected to, as inside an
	                         address literal: "192.0.2.1", "IPv6:..." */
	const char *helo;     /* our HELO name */
	const char *own;      /* the authenticated user's address, or NULL */
	const char *other;    /* another local user's address */
	const char *const *allowed; /* B: domains the user may send to */
	size_t nallowed;
	const char *const *denied; /* C: domains the user must not reach */
	size_t ndenied;
	int auth_offered; /* AUTH tests make sense on this listener */
	int tls_offered;  /* STARTTLS (or implicit TLS) is available */
	int implicit_tls;
	int have_user; /* credentials given: scenarios B and C */
	int random;    /* a number for the random local part / sub-domain */
};

/* What one test's outcome means to the reader, judged once for every
 * renderer: as hoped, a hole, a warning, undecided, or just a fact (a
 * probe, a control a listener refuses like all unauthenticated mail, a
 * routed address a catch-all takes as local mail). */
enum smtprobe_relay_mark {
	SMTPROBE_MARK_SKIPPED,   /* – */
	SMTPROBE_MARK_PASS,      /* ✔ */
	SMTPROBE_MARK_HOLE,      /* ✘ */
	SMTPROBE_MARK_WARN,      /* ! */
	SMTPROBE_MARK_UNDECIDED, /* ? */
	SMTPROBE_MARK_FACT,      /* · */
};

const char *smtprobe_relay_mark_name(enum smtprobe_relay_mark m);

#define SMTPROBE_RELAY_MAX_ID 256

struct smtprobe_relay_test {
	char id[SMTPROBE_RELAY_MAX_ID]; /* "A.rcpt.percent-ip" */
	enum smtprobe_relay_scenario scenario;
	enum smtprobe_relay_expect expect;
	enum smtprobe_relay_auth auth;
	int clear;        /* no STARTTLS even when offered */
	int routed_local; /* the recipient is a routed form at a name of the
	                     server's own (percent, quoted, bang, ...) */
	const char *title;
	/* what to change when this test shows a hole: the topic, and its text
	 * for the software that answered (filled after the run; "" when the
	 * test has none) */
	enum smtprobe_advice_topic topic;
	char fix[1024];
	unsigned port;
	char helo[256];
	char mail_from[640]; /* formatted: "<a@b>" */
	char rcpt_to[640];   /* formatted, may be odd on purpose */

	/* filled by the run */
	struct smtprobe_result res;
	int ran;
	enum smtprobe_reply_outcome outcome;
	enum smtprobe_refusal_kind kind;
	enum smtprobe_stage decided_at; /* the stage whose reply decided */
	const struct smtprobe_reply *deciding; /* points into res */
	/* what the knowledge base says of a deciding refusal, or NULL */
	const struct smtprobe_kb_entry *kb;
	enum smtprobe_relay_mark mark; /* set with the listener's verdicts */
	/* a relay attempt whose sender is not what it tests (the external
	 * sender): a refusal at MAIL means it never reached the relay rule */
	int std_sender;
	/* the recipient is a plain address at the external domain: "unknown
	 * recipient" there is how some servers (OpenSMTPD) deny relaying */
	int ext_rcpt;
	int not_reached; /* stopped at MAIL by sender checks, even retried */
	int retried;     /* run again with the retry sender */
	char first_try[400]; /* why the first run did not reach RCPT */
	int delivered;       /* --deliver: 250 after the final dot */
	int refused_at_data; /* accepted at RCPT, refused at DATA or the dot */
	char why[400];
};

/* Expand the catalogue for one listener into out (up to max tests);
 * returns how many. Pure. */
size_t smtprobe_relay_build(const struct smtprobe_relay_names *n, unsigned port,
                            struct smtprobe_relay_test *out, size_t max);

/* Judge one test from its result (sets outcome, kind, decided_at,
 * deciding, kb, delivered, refused_at_data, why). */
void smtprobe_relay_judge_test(struct smtprobe_relay_test *t);

/* Whether a judged test came out the way it hopes: a relay attempt
 * refused, a control or a scenario-B send accepted (probes and
 * information always do). */
int smtprobe_relay_as_expected(const struct smtprobe_relay_test *t);

enum smtprobe_relay_verdict {
	SMTPROBE_V_SKIPPED,
	SMTPROBE_V_CLOSED, /* A */
	SMTPROBE_V_OPEN,   /* A */
	SMTPROBE_V_HOLDS,  /* B, C */
	SMTPROBE_V_VIOLATED,
	SMTPROBE_V_INCONCLUSIVE,
};

const char *smtprobe_relay_verdict_name(enum smtprobe_relay_verdict v);

struct smtprobe_relay_scenario_verdict {
	enum smtprobe_relay_verdict verdict;
	const char *confidence; /* "high", "medium", "low" */
	char why[512];
	/* indexes into the tests array of what proves the verdict */
	size_t evidence[8];
	size_t nevidence;
	size_t warnings; /* SHOULD_REFUSE tests that were accepted */
	/* A: relay attempts that ran, and how many reached the relay rule
	 * (the others were stopped at MAIL by the server's sender checks) */
	size_t attempts, reached;
	int catch_all; /* A: the random local part was accepted */
};

/* The verdicts of one listener's tests (tests[0..n) all on one port), and
 * each test's mark (which depends on the listener: a catch-all). */
void smtprobe_relay_judge_port(struct smtprobe_relay_test *tests, size_t n,
                               struct smtprobe_relay_scenario_verdict v[3]);

struct smtprobe_relay_params {
	struct smtprobe_params session; /* host, TLS options, credentials,
	                                   timeouts; port, helo, envelope and
	                                   auth flag are set per test */
	unsigned ports[SMTPROBE_RELAY_MAX_PORTS];
	size_t nports; /* 0: every SMTP port of 25, 465, 587, 2525 that answers
	                */
	const char *local_domain;    /* NULL: guessed from the host name */
	const char *external_domain; /* NULL: relay-test.invalid */
	const char *own;             /* the user's own address; NULL: the
	                                AUTH user if it is an address, else
	                                user@local */
	const char *other_sender;    /* NULL: postmaster@local */
	const char *allowed[SMTPROBE_RELAY_MAX_DOMAINS];
	size_t nallowed;
	const char *denied[SMTPROBE_RELAY_MAX_DOMAINS];
	size_t ndenied;
	unsigned concurrency; /* connections at once; 0 = 4 */
	unsigned pause_ms;    /* wait before each new connection */
	int deliver;          /* go on to DATA with a marked test message */
	unsigned max_ms;      /* the whole audit's deadline; 0 = none */
	const char *only;     /* run only scenarios in this string ("A", "BC")
	                         or NULL for all */
	/* the sender for relay attempts the server stopped at MAIL (sender
	 * verification), in a domain that resolves; NULL: one at the local
	 * domain */
	const char *external_sender;
	int strict; /* warnings (advice accepted) count as violations */
};

struct smtprobe_relay_listener {
	unsigned port;
	enum smtprobe_tls_mode tls; /* IMPLICIT, REQUIRED (STARTTLS) or OFF */
	int open;
	char error[256];
	char host[256];       /* H: from the banner */
	char auth[256];       /* mechanisms offered */
	size_t first, ntests; /* its tests in the tests array */
	/* STARTTLS advertised but the handshake fails: the tests ran in
	 * clear (tls_problem says why) */
	int tls_broken;
	char tls_problem[256];
	struct smtprobe_software_guess software; /* what answered here */
	struct smtprobe_relay_scenario_verdict v[3];
};

struct smtprobe_relay_report {
	char host[256];
	char local_domain[256];
	char local_domain_source[128]; /* "given", "guessed from the banner
	                                  host name mx.example.test" */
	char external_domain[256];
	char own[330];
	char other[330];
	int truncated; /* --max-time ended the audit: tests left out */
	/* relay attempts stopped at MAIL were run again with this sender */
	size_t retried;
	char retry_sender[330];
	char retry_source[160]; /* "given (--external-sender)", "an address
	                           at the local domain" */
	/* ... or not, where the server relays for the local-domain sender
	 * itself (A.mail.local accepted): a retry with it proves nothing */
	size_t retry_withheld;
	struct smtprobe_relay_listener listener[SMTPROBE_RELAY_MAX_PORTS];
	size_t nlisteners;
	struct smtprobe_relay_test *tests;
	size_t ntests;
	struct smtprobe_relay_scenario_verdict overall[3];
	struct smtprobe_software_guess software; /* over every listener */
	int deliver;
	int exit_code;   /* 0 holds, 1 violated, 2 undecided */
	char error[256]; /* why nothing could be audited */
	double ms;
};

/* Run the audit. Returns the exit code (also in report->exit_code). */
int smtprobe_relay_run(const struct smtprobe_relay_params *p,
                       struct smtprobe_relay_report *report);
void smtprobe_relay_report_free(struct smtprobe_relay_report *report);

/* The report as one JSON document (malloc'd, caller frees). */
char *smtprobe_relay_json(const struct smtprobe_relay_report *r);

#endif
