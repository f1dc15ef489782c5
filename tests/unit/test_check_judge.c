/* test_check_judge.c - the severity of each failure kind in check's
 * diagnosis: ck_judge_session() and ck_checklist() (lib/check) over
 * session results built by hand, as the session engine leaves them
 * (exchanges with their replies, the failure's values, the EHLO
 * capabilities, TLS and AUTH facts).
 *
 * Each row is one way a session ends (connection refused, a close, a
 * reset, a reply timeout, every protocol sub-kind, TLS alerts, a refused
 * certificate, STARTTLS or AUTH missing, refused commands) and the verdict
 * check must give: the status of every step, the step that diagnoses it
 * with the knowledge-base entry it used and its first cause, the
 * checklist, the exit code. The tcp step's time is always the session's
 * connect_ms.
 *
 * No I/O: no row ends in an AUTH 535 (that starts a second session), and
 * the relay test (ck_check_relay) is not part of the judging. A row with
 * .bug shows a library bug (a BUG: comment says which): it is skipped
 * with a message unless SMTPROBE_TEST_BUGS is set. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "check_int.h"
#include "smtprobe/ehlo.h"
#include "smtprobe/failure.h"
#include "smtprobe/kb.h"

#include "banned.h"

#define NELEM(a)   (sizeof(a) / sizeof((a)[0]))
#define MAX_EX     8
#define CONNECT_MS 7.25 /* the session's connect_ms in every row */

#define F(k)  SMTPROBE_FAIL_##k
#define S(s)  SMTPROBE_ST_##s
#define PE(e) SMTPROBE_PERR_##e
#define TE(e) SMTPROBE_TLSE_##e
#define CK(s) SMTPROBE_CK_##s

/* One exchange: the command (NULL for the connect, the banner, TLS) and
 * the reply (code 0: none came). */
struct xspec {
	enum smtprobe_stage stage; /* 0 (resolve) ends the list */
	const char *cmd;
	int code;
	const char *enh;
	const char *text;
};

#define X_CONNECT                                                              \
	{                                                                      \
		S(CONNECT), NULL, 0, NULL, NULL                                \
	}
#define X_BANNER                                                               \
	{                                                                      \
		S(BANNER), NULL, 220, "", "mx.example.test ESMTP"              \
	}
#define X_BANNER_NONE                                                          \
	{                                                                      \
		S(BANNER), NULL, 0, NULL, NULL                                 \
	}
#define X_EHLO                                                                 \
	{                                                                      \
		S(EHLO), "EHLO client.test", 250, "", "mx.example.test"        \
	}
#define X_EHLO_NONE                                                            \
	{                                                                      \
		S(EHLO), "EHLO client.test", 0, NULL, NULL                     \
	}
#define X_STARTTLS                                                             \
	{                                                                      \
		S(STARTTLS), "STARTTLS", 220, "2.0.0", "go ahead"              \
	}
#define X_TLS                                                                  \
	{                                                                      \
		S(TLS), NULL, 0, NULL, NULL                                    \
	}
#define X_MAIL                                                                 \
	{                                                                      \
		S(MAIL), "MAIL FROM:<a@example.test>", 250, "2.1.0", "ok"      \
	}
#define X_QUIT                                                                 \
	{                                                                      \
		S(QUIT), "QUIT", 221, "2.0.0", "bye"                           \
	}

struct jcase {
	const char *name;
	/* what the ladder asked for */
	enum smtprobe_tls_mode tls;
	int tls_required;
	int verify; /* tls_verify */
	int auth;
	int send; /* --send: the message too */
	/* what the session saw */
	struct xspec ex[MAX_EX];
	const char *ehlo[4]; /* the EHLO reply's capability lines (after the
	                        greeting); used when an EHLO exchange got 2xx */
	enum smtprobe_failure_kind kind;
	enum smtprobe_stage stage;
	int err;
	enum smtprobe_protocol_error perr;
	enum smtprobe_tls_error tlse;
	int alert; /* 0: none */
	int alert_from_peer;
	long x509;
	int reply_ex;   /* failure.reply: the reply of ex[reply_ex - 1] */
	int rcpt_ex;    /* the one recipient's reply: ex[rcpt_ex - 1] */
	int have_tls;   /* TLS came up; x509 != 0: its certificate failed */
	int auth_tried; /* auth_reply: the AUTH exchange's reply, if any */
	const char *error;
	/* the verdict: one letter a step, s(kip) p(ass) w(arn) f(ail), for
	 * dns tcp banner ehlo tls auth mail rcpt data relay */
	const char *steps;
	/* reachable port tls auth mail rcpt data no_relay_denial */
	const char *checklist;
	enum smtprobe_check_step at; /* the step that diagnoses */
	const char *kb;              /* its kb_id; NULL: none */
	const char *cause;           /* in its first cause (NULL: unchecked) */
	int causes_server;           /* every cause names the server */
	int exit;
	const char *bug;
};

static const struct jcase cases[] = {
        /* ---- the connection ---- */
        {.name = "connection refused",
         .kind = F(REFUSED),
         .stage = S(CONNECT),
         .err = ECONNREFUSED,
         .error = "cannot connect to 192.0.2.25:25: connection refused",
         .steps = "sfssssssss",
         .checklist = "fsssssss",
         .at = CK(TCP),
         .kb = "local-econnrefused",
         .cause = "nothing listens on port 25 of 192.0.2.25",
         .exit = 1},
        {.name = "connect timeout",
         .kind = F(CONNECT_TIMEOUT),
         .stage = S(CONNECT),
         .err = ETIMEDOUT,
         .error = "timeout connecting to 192.0.2.25:25 after 30 s",
         .steps = "sfssssssss",
         .checklist = "fsssssss",
         .at = CK(TCP),
         .kb = "local-etimedout",
         .exit = 1},
        {.name = "host unreachable",
         .kind = F(UNREACHABLE),
         .stage = S(CONNECT),
         .err = EHOSTUNREACH,
         .error = "cannot connect to 192.0.2.25:25: no route to host",
         .steps = "sfssssssss",
         .checklist = "fsssssss",
         .at = CK(TCP),
         .kb = "local-ehostunreach",
         .exit = 1},
        {.name = "network unreachable",
         .kind = F(UNREACHABLE),
         .stage = S(CONNECT),
         .err = ENETUNREACH,
         .error = "cannot connect to 192.0.2.25:25: network is unreachable",
         .steps = "sfssssssss",
         .checklist = "fsssssss",
         .at = CK(TCP),
         .kb = "local-enetunreach",
         .exit = 1},
        {.name = "reset waiting for the EHLO reply",
         .ex = {X_CONNECT, X_BANNER, X_EHLO_NONE},
         .kind = F(RESET),
         .stage = S(EHLO),
         .err = ECONNRESET,
         .error = "connection reset by 192.0.2.25:25 waiting for the EHLO "
                  "reply (connection reset by peer)",
         .steps = "sppfssssss",
         .checklist = "ppssssss",
         .at = CK(EHLO),
         .kb = "local-econnreset",
         .exit = 1},
        {.name = "closed waiting for the banner",
         .ex = {X_CONNECT, X_BANNER_NONE},
         .kind = F(CLOSED),
         .stage = S(BANNER),
         .error = "connection closed by 192.0.2.25:25 waiting for the "
                  "banner",
         .steps = "spfsssssss",
         .checklist = "pfssssss",
         .at = CK(BANNER),
         .kb = "local-closed",
         .exit = 1},
        {.name = "closed waiting for the EHLO reply (not a reset)",
         .ex = {X_CONNECT, X_BANNER, X_EHLO_NONE},
         .kind = F(CLOSED),
         .stage = S(EHLO),
         .error = "connection closed by 192.0.2.25:25 waiting for the EHLO "
                  "reply",
         .steps = "sppfssssss",
         .checklist = "ppssssss",
         .at = CK(EHLO),
         .kb = "local-closed",
         .exit = 1},
        {.name = "reply timeout at the banner",
         .ex = {X_CONNECT, X_BANNER_NONE},
         .kind = F(TIMEOUT),
         .stage = S(BANNER),
         .error = "timeout waiting for the banner from 192.0.2.25:25 after "
                  "10 s",
         .steps = "spfsssssss",
         .checklist = "pfssssss",
         .at = CK(BANNER),
         .kb = "local-timeout",
         .exit = 1},
        /* ---- protocol errors ---- */
        {.name = "protocol: bad code in the banner",
         .ex = {X_CONNECT, X_BANNER_NONE},
         .kind = F(PROTOCOL),
         .stage = S(BANNER),
         .perr = PE(BAD_CODE),
         .error = "invalid reply waiting for the banner from 192.0.2.25:25: "
                  "bad reply code",
         .steps = "spfsssssss",
         .checklist = "pfssssss",
         .at = CK(BANNER),
         .kb = "protocol-bad-code",
         .exit = 1},
        {.name = "protocol: inconsistent EHLO reply",
         .ex = {X_CONNECT, X_BANNER, X_EHLO_NONE},
         .kind = F(PROTOCOL),
         .stage = S(EHLO),
         .perr = PE(INCONSISTENT),
         .error = "invalid reply waiting for the EHLO reply from "
                  "192.0.2.25:25: reply lines disagree on the code",
         .steps = "sppfssssss",
         .checklist = "ppssssss",
         .at = CK(EHLO),
         .kb = "protocol-inconsistent",
         .exit = 1},
        {.name = "protocol: banner line too long",
         .ex = {X_CONNECT, X_BANNER_NONE},
         .kind = F(PROTOCOL),
         .stage = S(BANNER),
         .perr = PE(LINE_TOO_LONG),
         .error = "invalid reply waiting for the banner from 192.0.2.25:25: "
                  "reply line too long",
         .steps = "spfsssssss",
         .checklist = "pfssssss",
         .at = CK(BANNER),
         .kb = "protocol-line-too-long",
         .exit = 1},
        {.name = "protocol: EHLO reply too big",
         .ex = {X_CONNECT, X_BANNER, X_EHLO_NONE},
         .kind = F(PROTOCOL),
         .stage = S(EHLO),
         .perr = PE(TOO_MANY_LINES),
         .error = "invalid reply waiting for the EHLO reply from "
                  "192.0.2.25:25: reply has too many lines",
         .steps = "sppfssssss",
         .checklist = "ppssssss",
         .at = CK(EHLO),
         .kb = "protocol-reply-too-big",
         .exit = 1},
        {.name = "protocol: TLS where the banner was due",
         .ex = {X_CONNECT, X_BANNER_NONE},
         .kind = F(PROTOCOL),
         .stage = S(BANNER),
         .perr = PE(NOT_SMTP),
         .error = "invalid reply waiting for the banner from 192.0.2.25:25: "
                  "the server speaks TLS, not SMTP (implicit TLS?)",
         .steps = "spfsssssss",
         .checklist = "pfssssss",
         .at = CK(BANNER),
         .kb = "protocol-not-smtp",
         .exit = 1},
        /* An unsolicited reply fails the session before EHLO is sent: no EHLO
         * exchange, yet the ehlo step fails with the failure's diagnosis
         * (a failure that left no exchange fails the step of its stage). */
        {.name = "protocol: unsolicited reply before EHLO",
         .ex = {X_CONNECT, X_BANNER},
         .kind = F(PROTOCOL),
         .stage = S(EHLO),
         .perr = PE(UNSOLICITED),
         .error = "unsolicited reply from 192.0.2.25:25 before EHLO was "
                  "sent: \"250 unsolicited\\r\\n\"",
         .steps = "sppfssssss",
         .checklist = "ppssssss",
         .at = CK(EHLO),
         .kb = "protocol-unsolicited",
         .exit = 1},
        /* As above, before MAIL: the mail step fails. */
        {.name = "protocol: unsolicited reply before MAIL",
         .ex = {X_CONNECT, X_BANNER, X_EHLO},
         .kind = F(PROTOCOL),
         .stage = S(MAIL),
         .perr = PE(UNSOLICITED),
         .error = "unsolicited reply from 192.0.2.25:25 before MAIL was "
                  "sent: \"250 again\r\n\"",
         .steps = "spppssfsss",
         .checklist = "ppssfsss",
         .at = CK(MAIL),
         .kb = "protocol-unsolicited",
         .exit = 1},
        {.name = "TLS optional, STARTTLS refused with 454: a warning",
         .tls = SMTPROBE_TLSMODE_OPTIONAL,
         .ex = {X_CONNECT,
                X_BANNER,
                X_EHLO,
                {S(STARTTLS), "STARTTLS", 454, "4.7.0",
                 "TLS not available due to local problem"},
                X_MAIL,
                X_QUIT},
         .ehlo = {"STARTTLS"},
         .kind = F(NONE),
         .stage = S(MAIL),
         .steps = "spppwspsss",
         .checklist = "ppwspsss",
         .at = CK(TLS),
         .kb = "postfix-tls-local-problem",
         .exit = 0},
        {.name = "an unsolicited 421 before EHLO",
         .ex = {X_CONNECT,
                X_BANNER,
                {S(EHLO), NULL, 421, "4.3.2", "shutting down"}},
         .kind = F(COMMAND),
         .stage = S(EHLO),
         .reply_ex = 3,
         .error = "the server closed the session: 421 4.3.2 shutting down",
         .steps = "sppfssssss",
         .checklist = "ppssssss",
         .at = CK(EHLO),
         .kb = "enh-x.3.2",
         .exit = 1},
        /* ---- TLS ---- */
        {.name = "STARTTLS: the server's internal_error alert",
         .tls = SMTPROBE_TLSMODE_OPTIONAL,
         .ex = {X_CONNECT, X_BANNER, X_EHLO, X_STARTTLS},
         .ehlo = {"STARTTLS"},
         .kind = F(TLS),
         .stage = S(TLS),
         .tlse = TE(ALERT),
         .alert = 80,
         .alert_from_peer = 1,
         .error = "error during the TLS handshake with 192.0.2.25:25: "
                  "tlsv1 alert internal error",
         .steps = "spppfsssss",
         .checklist = "ppfsssss",
         .at = CK(TLS),
         .kb = "tls-alert-internal-error",
         .causes_server = 1,
         .exit = 1},
        {.name = "implicit TLS: the server's internal_error alert",
         .tls = SMTPROBE_TLSMODE_IMPLICIT,
         .tls_required = 1,
         .ex = {X_CONNECT},
         .kind = F(TLS),
         .stage = S(TLS),
         .tlse = TE(ALERT),
         .alert = 80,
         .alert_from_peer = 1,
         .error = "error during the TLS handshake with 192.0.2.25:465: "
                  "tlsv1 alert internal error",
         .steps = "spssfsssss",
         .checklist = "psfsssss",
         .at = CK(TLS),
         .kb = "tls-alert-internal-error",
         .causes_server = 1,
         .exit = 1},
        {.name = "implicit TLS against plain SMTP: not_tls",
         .tls = SMTPROBE_TLSMODE_IMPLICIT,
         .tls_required = 1,
         .ex = {X_CONNECT},
         .kind = F(TLS),
         .stage = S(TLS),
         .tlse = TE(NOT_TLS),
         .error = "error during the TLS handshake with 192.0.2.25:465: "
                  "wrong version number",
         .steps = "spssfsssss",
         .checklist = "psfsssss",
         .at = CK(TLS),
         .kb = "tls-wrong-version",
         .cause = "implicit TLS against a port that speaks plain SMTP",
         .exit = 1},
        {.name = "STARTTLS: closed during the handshake",
         .tls = SMTPROBE_TLSMODE_OPTIONAL,
         .ex = {X_CONNECT, X_BANNER, X_EHLO, X_STARTTLS},
         .ehlo = {"STARTTLS"},
         .kind = F(CLOSED),
         .stage = S(TLS),
         .tlse = TE(CLOSED),
         .error = "connection closed by 192.0.2.25:25 during the TLS "
                  "handshake",
         .steps = "spppfsssss",
         .checklist = "ppfsssss",
         .at = CK(TLS),
         .kb = "tls-closed",
         .exit = 1},
        {.name = "STARTTLS: reset during the handshake",
         .tls = SMTPROBE_TLSMODE_OPTIONAL,
         .ex = {X_CONNECT, X_BANNER, X_EHLO, X_STARTTLS},
         .ehlo = {"STARTTLS"},
         .kind = F(RESET),
         .stage = S(TLS),
         .error = "connection reset by 192.0.2.25:25 during the TLS "
                  "handshake (connection reset by peer)",
         .steps = "spppfsssss",
         .checklist = "ppfsssss",
         .at = CK(TLS),
         .kb = "local-econnreset",
         .exit = 1},
        /* A failure at the EHLO after STARTTLS (SMTPROBE_ST_EHLO2) fails the
         * ehlo step, although the first EHLO passed. */
        {.name = "closed waiting for the EHLO reply after STARTTLS",
         .tls = SMTPROBE_TLSMODE_OPTIONAL,
         .ex = {X_CONNECT,
                X_BANNER,
                X_EHLO,
                X_STARTTLS,
                X_TLS,
                {S(EHLO2), "EHLO client.test", 0, NULL, NULL}},
         .ehlo = {"STARTTLS"},
         .kind = F(CLOSED),
         .stage = S(EHLO2),
         .have_tls = 1,
         .error = "connection closed by 192.0.2.25:25 waiting for the EHLO "
                  "reply after STARTTLS",
         .steps = "sppfpsssss",
         .checklist = "pppsssss",
         .at = CK(EHLO),
         .kb = "local-closed",
         .exit = 1},
        {.name = "expired certificate under tls_verify",
         .tls = SMTPROBE_TLSMODE_REQUIRED,
         .tls_required = 1,
         .verify = 1,
         .ex = {X_CONNECT, X_BANNER, X_EHLO, X_STARTTLS, X_TLS},
         .ehlo = {"STARTTLS"},
         .kind = F(CERTIFICATE),
         .stage = S(TLS),
         .x509 = 10,
         .have_tls = 1,
         .error = "certificate verification failed for 192.0.2.25:25: "
                  "certificate has expired",
         .steps = "spppfsssss",
         .checklist = "ppfsssss",
         .at = CK(TLS),
         .kb = "x509-10-expired",
         .exit = 1},
        {.name = "expired certificate without tls_verify: a warning",
         .tls = SMTPROBE_TLSMODE_OPTIONAL,
         .ex = {X_CONNECT,
                X_BANNER,
                X_EHLO,
                X_STARTTLS,
                X_TLS,
                {S(EHLO2), "EHLO client.test", 250, "", "mx.example.test"},
                X_MAIL,
                X_QUIT},
         .ehlo = {"STARTTLS"},
         .kind = F(NONE),
         .stage = S(MAIL),
         .x509 = 10,
         .have_tls = 1,
         .steps = "spppwspsss",
         .checklist = "ppwspsss",
         .at = CK(TLS),
         .kb = "x509-10-expired",
         .exit = 0},
        {.name = "TLS required, STARTTLS not offered",
         .tls = SMTPROBE_TLSMODE_REQUIRED,
         .tls_required = 1,
         .ex = {X_CONNECT, X_BANNER, X_EHLO, X_QUIT},
         .kind = F(TLS_UNAVAILABLE),
         .stage = S(EHLO),
         .error = "STARTTLS is not offered by 192.0.2.25:25",
         .steps = "spppfsssss",
         .checklist = "ppfsssss",
         .at = CK(TLS),
         .kb = NULL,
         .cause = "TLS is not configured on this port",
         .exit = 1},
        {.name = "TLS optional, STARTTLS not offered: a warning",
         .tls = SMTPROBE_TLSMODE_OPTIONAL,
         .ex = {X_CONNECT, X_BANNER, X_EHLO, X_MAIL, X_QUIT},
         .kind = F(NONE),
         .stage = S(MAIL),
         .steps = "spppwspsss",
         .checklist = "ppwspsss",
         .at = CK(TLS),
         .kb = NULL,
         .exit = 0},
        {.name = "TLS required, STARTTLS refused with 454",
         .tls = SMTPROBE_TLSMODE_REQUIRED,
         .tls_required = 1,
         .ex = {X_CONNECT,
                X_BANNER,
                X_EHLO,
                {S(STARTTLS), "STARTTLS", 454, "4.7.0",
                 "TLS not available due to local problem"},
                X_QUIT},
         .ehlo = {"STARTTLS"},
         .kind = F(TLS_UNAVAILABLE),
         .stage = S(STARTTLS),
         .reply_ex = 4,
         .error = "STARTTLS refused: 454 4.7.0 TLS not available due to "
                  "local problem",
         .steps = "spppfsssss",
         .checklist = "ppfsssss",
         .at = CK(TLS),
         .kb = "postfix-tls-local-problem",
         .exit = 1},
        /* ---- AUTH ---- */
        {.name = "AUTH kept off a clear channel",
         .auth = 1,
         .ex = {X_CONNECT, X_BANNER, X_EHLO, X_QUIT},
         .ehlo = {"AUTH PLAIN LOGIN"},
         .kind = F(AUTH_NEEDS_TLS),
         .stage = S(AUTH),
         .auth_tried = 1,
         .error = "refusing to send credentials to 192.0.2.25:25 without "
                  "TLS",
         .steps = "spppsfssss",
         .checklist = "ppffssss",
         .at = CK(AUTH),
         .kb = "auth-needs-tls",
         .exit = 1},
        {.name = "AUTH not offered",
         .auth = 1,
         .ex = {X_CONNECT, X_BANNER, X_EHLO, X_QUIT},
         .kind = F(AUTH_UNAVAILABLE),
         .stage = S(AUTH),
         .auth_tried = 1,
         .error = "192.0.2.25:25 does not offer AUTH",
         .steps = "spppsfssss",
         .checklist = "ppsfssss",
         .at = CK(AUTH),
         .kb = "auth-not-offered",
         .exit = 1},
        {.name = "AUTH refused with 454 (no second opinion)",
         .auth = 1,
         .ex = {X_CONNECT,
                X_BANNER,
                X_EHLO,
                {S(AUTH), "AUTH PLAIN", 454, "4.7.0",
                 "Temporary authentication failure"},
                X_QUIT},
         .ehlo = {"AUTH PLAIN"},
         .kind = F(AUTH_REFUSED),
         .stage = S(AUTH),
         .reply_ex = 4,
         .auth_tried = 1,
         .error = "AUTH PLAIN failed: 454 4.7.0 Temporary authentication "
                  "failure",
         .steps = "spppsfssss",
         .checklist = "ppffssss",
         .at = CK(AUTH),
         .kb = "enh-x.7.0",
         .exit = 1},
        /* ---- refused commands ---- */
        {.name = "MAIL refused with 550",
         .ex = {X_CONNECT,
                X_BANNER,
                X_EHLO,
                {S(MAIL), "MAIL FROM:<a@example.test>", 550, "5.7.1",
                 "Sender address rejected: Access denied"},
                X_QUIT},
         .kind = F(COMMAND),
         .stage = S(MAIL),
         .reply_ex = 4,
         .error = "MAIL FROM refused: 550 5.7.1 Sender address rejected: "
                  "Access denied",
         .steps = "spppssfsss",
         .checklist = "ppssfsss",
         .at = CK(MAIL),
         .kb = "enh-x.7.1",
         .exit = 1},
        {.name = "RCPT refused: 554 5.7.1 Relay access denied",
         .ex = {X_CONNECT,
                X_BANNER,
                X_EHLO,
                X_MAIL,
                {S(RCPT), "RCPT TO:<b@example.test>", 554, "5.7.1",
                 "<b@example.test>: Relay access denied"},
                X_QUIT},
         .ehlo = {"AUTH PLAIN LOGIN"},
         .kind = F(COMMAND),
         .stage = S(RCPT),
         .reply_ex = 5,
         .rcpt_ex = 5,
         .error = "no recipient accepted: 554 5.7.1 <b@example.test>: "
                  "Relay access denied",
         .steps = "spppsfpfss",
         .checklist = "ppfspfsf",
         .at = CK(RCPT),
         .kb = "postfix-relay-access-denied",
         .cause = "missing authentication",
         .exit = 1},
        {.name = "session deadline waiting for the RCPT reply",
         .ex = {X_CONNECT,
                X_BANNER,
                X_EHLO,
                X_MAIL,
                {S(RCPT), "RCPT TO:<b@example.test>", 0, NULL, NULL}},
         .kind = F(SESSION_TIMEOUT),
         .stage = S(RCPT),
         .error = "session timeout after 60 s, waiting for the RCPT TO "
                  "reply from 192.0.2.25:25",
         .steps = "spppsspfss",
         .checklist = "ppsspfsp",
         .at = CK(RCPT),
         .kb = "local-timeout",
         .exit = 1},
        /* Under --send a refused DATA fails the data step (after a 354 the
         * reply to the final dot decides). */
        {.name = "DATA refused with 554 under --send",
         .send = 1,
         .ex = {X_CONNECT,
                X_BANNER,
                X_EHLO,
                X_MAIL,
                {S(RCPT), "RCPT TO:<b@example.test>", 250, "2.1.5", "ok"},
                {S(DATA), "DATA", 554, "5.5.1", "No valid recipients"},
                X_QUIT},
         .kind = F(COMMAND),
         .stage = S(DATA),
         .reply_ex = 6,
         .rcpt_ex = 5,
         .error = "DATA refused (expected 354): 554 5.5.1 No valid "
                  "recipients",
         .steps = "spppssppfs",
         .checklist = "ppssppfp",
         .at = CK(DATA),
         .kb = "enh-x.5.1",
         .exit = 1},
        {.name = "message refused after the dot under --send",
         .send = 1,
         .ex = {X_CONNECT,
                X_BANNER,
                X_EHLO,
                X_MAIL,
                {S(RCPT), "RCPT TO:<b@example.test>", 250, "2.1.5", "ok"},
                {S(DATA), "DATA", 354, "", "go ahead"},
                {S(DOT), ".", 554, "5.7.1", "Message rejected as spam"},
                X_QUIT},
         .kind = F(COMMAND),
         .stage = S(DOT),
         .reply_ex = 7,
         .rcpt_ex = 5,
         .error = "message refused after the final dot: 554 5.7.1 Message "
                  "rejected as spam",
         .steps = "spppssppfs",
         .checklist = "ppssppfp",
         .at = CK(DATA),
         .kb = "enh-x.7.1",
         .exit = 1},
        {.name = "RCPT deferred: 450 greylisted is a warning",
         .ex = {X_CONNECT,
                X_BANNER,
                X_EHLO,
                X_MAIL,
                {S(RCPT), "RCPT TO:<b@example.test>", 450, "4.2.0",
                 "<b@example.test>: Recipient address rejected: "
                 "Greylisted"},
                X_QUIT},
         .kind = F(COMMAND),
         .stage = S(RCPT),
         .reply_ex = 5,
         .rcpt_ex = 5,
         .error = "no recipient accepted: 450 4.2.0 <b@example.test>: "
                  "Recipient address rejected: Greylisted",
         .steps = "spppsspwss",
         .checklist = "ppsspwsp",
         .at = CK(RCPT),
         .kb = "greylisted",
         .cause = "a temporary refusal (450)",
         .exit = 0},
};

#define NCASES NELEM(cases)

static const char *const rcpts[] = {"<b@example.test>"};

static struct smtprobe_reply *reply_of(const struct xspec *x)
{
	struct smtprobe_reply *r;

	if (!x->code)
		return NULL;
	r = smtprobe_reply_new(x->code, x->enh, x->text);
	assert_non_null(r);
	r->latency_ms = 3.5;
	return r;
}

/* The check parameters and the result the session would have left. */
static void build(const struct jcase *c, struct smtprobe_check_params *p,
                  struct smtprobe_check_result *r)
{
	struct smtprobe_result *s = &r->session;
	struct smtprobe_failure *f = &s->failure;
	size_t n = 0;

	memset(p, 0, sizeof(*p));
	memset(r, 0, sizeof(*r));
	p->session.host = "mx.example.test";
	p->session.port = c->tls == SMTPROBE_TLSMODE_IMPLICIT ? 465 : 25;
	p->session.helo = "client.test";
	p->session.tls = c->tls;
	p->session.tls_verify = c->verify;
	p->session.auth = c->auth;
	p->session.auth_user = "user";
	p->session.auth_password = "secret";
	p->session.mail_from = "<a@example.test>";
	p->session.rcpt = rcpts;
	p->session.nrcpt = NELEM(rcpts);
	p->tls_required = c->tls_required;
	p->send = c->send;
	p->no_relay_test = 1;
	r->ladder = p->session;
	r->ladder.quit_after = c->send ? SMTPROBE_ST_LAST : SMTPROBE_ST_RCPT;
	snprintf(r->host, sizeof(r->host), "%s", p->session.host);
	r->port = p->session.port;

	s->port = p->session.port;
	snprintf(s->host, sizeof(s->host), "%s", p->session.host);
	snprintf(s->address, sizeof(s->address), "192.0.2.25");
	s->greeting = "ehlo";
	s->connect_ms = CONNECT_MS;
	s->stage = c->stage;

	while (n < MAX_EX && c->ex[n].stage != SMTPROBE_ST_RESOLVE)
		n++;
	s->ex = calloc(n ? n : 1, sizeof(*s->ex));
	assert_non_null(s->ex);
	s->nex = n;
	for (size_t i = 0; i < n; i++) {
		const struct xspec *x = &c->ex[i];
		struct smtprobe_exchange *e = &s->ex[i];
		e->stage = x->stage;
		e->command = x->cmd ? strdup(x->cmd) : NULL;
		e->reply = reply_of(x);
		e->ms = x->stage == SMTPROBE_ST_CONNECT ? CONNECT_MS
		        : e->reply                      ? e->reply->latency_ms
		        : x->stage == SMTPROBE_ST_TLS   ? 20.0
		                                        : -1;
		e->ok = e->reply ? e->reply->code / 100 <= 3 : e->ms >= 0;
		if ((x->stage == SMTPROBE_ST_EHLO ||
		     x->stage == SMTPROBE_ST_EHLO2) &&
		    e->reply && e->reply->code / 100 == 2) {
			const char *lines[NELEM(c->ehlo) + 1] = {x->text};
			size_t nl = 1;
			while (nl <= NELEM(c->ehlo) && c->ehlo[nl - 1]) {
				lines[nl] = c->ehlo[nl - 1];
				nl++;
			}
			memset(&s->ehlo, 0, sizeof(s->ehlo));
			smtprobe_ehlo_parse(&s->ehlo, lines, nl);
			s->have_ehlo = 1;
			if (!s->have_ehlo_first) {
				s->ehlo_first = s->ehlo;
				s->have_ehlo_first = 1;
			}
		}
	}

	s->nrcpt = NELEM(rcpts);
	s->rcpt = calloc(s->nrcpt, sizeof(*s->rcpt));
	assert_non_null(s->rcpt);
	s->rcpt[0].address = strdup("b@example.test");
	if (c->rcpt_ex) {
		s->rcpt[0].reply = s->ex[c->rcpt_ex - 1].reply;
		s->rcpt[0].accepted = s->rcpt[0].reply->code / 100 == 2;
	}

	if (c->have_tls) {
		struct smtprobe_tls_facts *t = &s->tls;
		s->have_tls = 1;
		s->tls_ms = 20.0;
		snprintf(t->protocol, sizeof(t->protocol), "TLSv1.3");
		snprintf(t->cipher, sizeof(t->cipher),
		         "TLS_AES_256_GCM_SHA384");
		t->verify_ok = c->x509 == 0;
		t->verify_code = c->x509;
		snprintf(t->verify_reason, sizeof(t->verify_reason), "%s",
		         c->x509 ? "certificate has expired" : "ok");
		t->host_checked = 1;
		t->host_match = 1;
		t->nchain = 1;
		snprintf(t->chain[0].subject, sizeof(t->chain[0].subject),
		         "CN=mx.example.test");
		snprintf(t->chain[0].issuer, sizeof(t->chain[0].issuer),
		         "CN=Example CA");
		t->chain[0].days_left = c->x509 ? -3 : 200;
		snprintf(t->chain[0].key_type, sizeof(t->chain[0].key_type),
		         "EC");
		t->chain[0].key_bits = 256;
		snprintf(t->chain[0].sig_alg, sizeof(t->chain[0].sig_alg),
		         "ecdsa-with-SHA256");
	}
	if (c->auth_tried) {
		s->auth_tried = 1;
		for (size_t i = 0; i < n; i++)
			if (s->ex[i].stage == SMTPROBE_ST_AUTH &&
			    s->ex[i].reply) {
				s->auth_reply = s->ex[i].reply;
				snprintf(s->auth_mech, sizeof(s->auth_mech),
				         "%s", s->ex[i].command + 5);
			}
	}

	f->kind = c->kind;
	f->tls.alert = -1;
	if (c->kind != SMTPROBE_FAIL_NONE) {
		f->stage = c->stage;
		f->sys_errno = c->err;
		f->protocol = c->perr;
		f->tls.error = c->tlse;
		if (c->alert) {
			f->tls.alert = c->alert;
			f->tls.alert_from_peer = c->alert_from_peer;
		}
		f->x509 = c->kind == SMTPROBE_FAIL_CERTIFICATE ? c->x509 : 0;
		f->reply = c->reply_ex ? s->ex[c->reply_ex - 1].reply : NULL;
		snprintf(s->error, sizeof(s->error), "%s", c->error);
	}
	s->exit_code = smtprobe_failure_exit_code(f);
}

static char letter_of(enum smtprobe_check_status st)
{
	return "spwf"[st];
}

static void run_case(void **state)
{
	const struct jcase *c = *state;
	struct smtprobe_check_params p;
	struct smtprobe_check_result r;
	char steps[SMTPROBE_CK_LAST + 1], items[SMTPROBE_CL_LAST + 1];

	if (c->bug && !getenv("SMTPROBE_TEST_BUGS")) {
		print_message("BUG: %s (SMTPROBE_TEST_BUGS=1 runs it)\n",
		              c->bug);
		skip();
	}
	assert_int_equal(strlen(c->steps), SMTPROBE_CK_LAST);
	assert_int_equal(strlen(c->checklist), SMTPROBE_CL_LAST);
	build(c, &p, &r);
	ck_judge_session(&p, &r);
	ck_checklist(&p, &r);
	/* the entry the failure names (static data), then the session can go:
	 * what is checked below (steps, checklist, exit code) is not part of
	 * it, and a failed assertion leaks nothing */
	const struct smtprobe_kb_entry *named =
	        smtprobe_kb_failure(&r.session.failure);
	smtprobe_check_release(&r);

	for (int i = 0; i < SMTPROBE_CK_LAST; i++)
		steps[i] = letter_of(r.step[i].status);
	steps[SMTPROBE_CK_LAST] = '\0';
	for (int i = 0; i < SMTPROBE_CL_LAST; i++)
		items[i] = letter_of(r.checklist[i]);
	items[SMTPROBE_CL_LAST] = '\0';
	assert_string_equal(steps, c->steps);
	assert_string_equal(items, c->checklist);
	assert_int_equal(r.exit_code, c->exit);
	/* the tcp step's time is the connect's, whatever happened after */
	assert_true(r.step[SMTPROBE_CK_TCP].ms == CONNECT_MS);

	const struct smtprobe_check_finding *f = &r.step[c->at];
	assert_int_not_equal(f->status, SMTPROBE_CK_SKIP);
	assert_int_not_equal(f->status, SMTPROBE_CK_PASS);
	if (c->kb && !f->kb_id)
		fail_msg("step %s: no kb entry, want \"%s\"",
		         smtprobe_check_step_name(c->at), c->kb);
	if (c->kb) {
		assert_string_equal(f->kb_id, c->kb);
	} else if (f->kb_id) {
		fail_msg("step %s: kb entry \"%s\", want none",
		         smtprobe_check_step_name(c->at), f->kb_id);
	}
	assert_true(f->detail[0] != '\0');
	if (f->status == SMTPROBE_CK_FAIL || f->kb_id)
		assert_non_null(f->causes[0]);
	if (c->cause && (!f->causes[0] || !strstr(f->causes[0], c->cause)))
		fail_msg("first cause \"%s\" lacks \"%s\"",
		         f->causes[0] ? f->causes[0] : "(none)", c->cause);
	for (size_t i = 0; c->causes_server && f->causes[i]; i++)
		if (!strstr(f->causes[i], "server"))
			fail_msg("cause \"%s\" is not server-side",
			         f->causes[i]);
	/* the entry the step used is the one the failure names */
	if (c->kind != SMTPROBE_FAIL_NONE && c->kb && named)
		assert_string_equal(named->id, f->kb_id);
}

/* Names of the steps, statuses and checklist items: stable, no "?". */
static void test_names(void **state)
{
	(void)state;
	for (int i = 0; i < SMTPROBE_CK_LAST; i++)
		assert_string_not_equal(smtprobe_check_step_name(i), "?");
	for (int i = 0; i < SMTPROBE_CL_LAST; i++)
		assert_string_not_equal(smtprobe_check_item_name(i), "?");
	assert_string_equal(smtprobe_check_step_name(SMTPROBE_CK_LAST), "?");
	assert_string_equal(smtprobe_check_status_name(SMTPROBE_CK_WARN),
	                    "warn");
}

/* A cause composed for the situation goes first, and a general one it
 * already says goes (it would read twice). */
static void test_first_cause(void **state)
{
	struct smtprobe_check_finding f;

	(void)state;
	memset(&f, 0, sizeof(f));
	f.causes[0] = "the client did not authenticate (SMTP AUTH)";
	f.causes[1] = "AUTH offered only after STARTTLS";
	ck_first_cause(&f,
	               "the server requires %s and the client did not "
	               "authenticate",
	               "authentication");
	assert_string_equal(f.causes[0], "the server requires authentication "
	                                 "and the client did not "
	                                 "authenticate");
	assert_string_equal(f.causes[1], "AUTH offered only after STARTTLS");
	assert_null(f.causes[2]);
	/* one composed cause per step: a second call changes nothing */
	ck_first_cause(&f, "another");
	assert_ptr_equal(f.causes[0], f.cause0);
	assert_null(f.causes[2]);
}

int main(void)
{
	static struct CMUnitTest tests[NCASES + 2];

	for (size_t i = 0; i < NCASES; i++) {
		tests[i].name = cases[i].name;
		tests[i].test_func = run_case;
		tests[i].initial_state = (void *)&cases[i];
	}
	tests[NCASES] = (struct CMUnitTest)cmocka_unit_test(test_names);
	tests[NCASES + 1] =
	        (struct CMUnitTest)cmocka_unit_test(test_first_cause);
	return cmocka_run_group_tests_name("check_judge", tests, NULL, NULL);
}
