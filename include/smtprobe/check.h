/* check.h - the diagnostic ladder of `smtprobe check`: name resolution,
 * TCP, banner, EHLO, TLS, AUTH, MAIL, RCPT, DATA and the relay test, each
 * step with a status, its evidence and, when it failed or warned, a
 * diagnosis from the knowledge base ranked by what the ladder saw. */
#ifndef SMTPROBE_CHECK_H
#define SMTPROBE_CHECK_H

#include <stddef.h>

#include "discover.h"
#include "kb.h"
#include "session.h"
#include "software.h"

enum smtprobe_check_step {
	SMTPROBE_CK_DNS,
	SMTPROBE_CK_TCP,
	SMTPROBE_CK_BANNER,
	SMTPROBE_CK_EHLO,
	SMTPROBE_CK_TLS,
	SMTPROBE_CK_AUTH,
	SMTPROBE_CK_MAIL,
	SMTPROBE_CK_RCPT,
	SMTPROBE_CK_DATA,
	SMTPROBE_CK_RELAY,
	SMTPROBE_CK_LAST
};

/* One status for every step, finding and checklist item; the text, the
 * JSON and the exit code all follow from them: a FAIL anywhere is exit 1
 * (and a WARN too with strict). */
enum smtprobe_check_status {
	SMTPROBE_CK_SKIP,
	SMTPROBE_CK_PASS,
	SMTPROBE_CK_WARN,
	SMTPROBE_CK_FAIL,
	SMTPROBE_CK_INFO, /* a fact worth showing, neither good nor bad */
};

#define SMTPROBE_CK_MAX_ITEMS 8

struct smtprobe_check_finding {
	enum smtprobe_check_status status;
	char detail[1024]; /* evidence: the reply, the address, the timing */
	double ms;
	/* diagnosis (failed or warned steps) */
	char summary[512];
	const char *causes[SMTPROBE_CK_MAX_ITEMS]; /* ranked, NULL-ended */
	char cause0[256]; /* a cause composed for this situation (causes[0]) */
	const char *fixes[SMTPROBE_CK_MAX_ITEMS];
	const char *kb_id; /* the knowledge-base entry used, or NULL */
	const char *reference;
	/* advice for the software running (software.h), when the step has
	 * topics (the likelier first); the fixes above are then chosen for
	 * that software */
	int nadvice;
	enum smtprobe_advice_topic advice[2];
};

enum smtprobe_check_item {
	SMTPROBE_CL_REACHABLE,
	SMTPROBE_CL_PORT,
	SMTPROBE_CL_TLS,
	SMTPROBE_CL_AUTH,
	SMTPROBE_CL_MAIL,
	SMTPROBE_CL_RCPT,
	SMTPROBE_CL_DATA,
	SMTPROBE_CL_NO_RELAY_DENIAL,
	SMTPROBE_CL_LAST
};

struct smtprobe_check_params {
	struct smtprobe_params session; /* host, port, TLS and AUTH options;
	                                   mail_from / rcpt optional */
	int tls_required;       /* --tls: no TLS is a failure, not a warning */
	int send;               /* go on to DATA and the message (--send) */
	const char *relay_from; /* default: -f's sender, else
	                           <relay-test@smtprobe.invalid> */
	const char *relay_to;   /* default <relay-test@relay-test.invalid> */
	int no_relay_test;
	int strict;            /* warnings fail too */
	int discover;          /* probe the ports first, check the best */
	const unsigned *ports; /* ports to probe (NULL: 587 465 25 2525) */
	size_t nports;
};

struct smtprobe_check_result {
	char host[256];
	unsigned port;
	struct smtprobe_check_finding step[SMTPROBE_CK_LAST];
	enum smtprobe_check_status checklist[SMTPROBE_CL_LAST];
	char addresses[512]; /* what the name resolved to */
	struct smtprobe_result session;
	struct smtprobe_result relay;
	int relay_ran;
	char relay_sender[330];    /* the relay test's sender */
	char relay_first_try[400]; /* a first sender refused at MAIL */
	int scanned;
	struct smtprobe_port_scan scan;
	struct smtprobe_params ladder; /* the parameters the ladder used */
	int rcpt_relay_denied;         /* a recipient refused as relaying */
	/* where clients authenticate or submit (AUTH offered or asked for,
	 * port 465 or 587): a TLS fault there is a failure, on a port-25 MX
	 * without AUTH a warning (opportunistic TLS, RFC 7435) */
	int submission;
	enum smtprobe_check_status auth_in_clear; /* SKIP, or FAIL */
	int strict; /* warnings counted as failures */
	struct smtprobe_software_guess software; /* what answered */
	int warnings;  /* steps or checklist items that warn */
	int exit_code; /* 0 all passed (warnings allowed), 1 a step failed */
	double ms;     /* the whole ladder, wall time */
};

const char *smtprobe_check_step_name(enum smtprobe_check_step st);
const char *smtprobe_check_status_name(enum smtprobe_check_status st);
const char *smtprobe_check_item_name(enum smtprobe_check_item it);

/* Run the ladder; always fills r (release it after). */
int smtprobe_check_run(const struct smtprobe_check_params *p,
                       struct smtprobe_check_result *r);
void smtprobe_check_release(struct smtprobe_check_result *r);

/* The result as one JSON document (malloc'd). */
char *smtprobe_check_json(const struct smtprobe_check_result *r);

#endif
