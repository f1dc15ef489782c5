/* failure.h - why a session failed, as values.
 *
 * A failed session carries one struct smtprobe_failure, set once, where the
 * failure happens: its kind, the stage it happened in, the errno where
 * there is one, the sub-kind of a protocol error, the TLS facts of a failed
 * handshake (OpenSSL's reason, the alert and which side sent it), the X509
 * code of a certificate that was refused, and the reply that refused a
 * command. Diagnosis (check), the relay classifier, the knowledge base and
 * every renderer read these values; the human message (result.error) is
 * for people only, and nothing may search it to recover a fact. */
#ifndef SMTPROBE_FAILURE_H
#define SMTPROBE_FAILURE_H

#include "reply.h"
#include "stage.h"
#include "tls.h"

enum smtprobe_failure_kind {
	SMTPROBE_FAIL_NONE,
	SMTPROBE_FAIL_RESOLVE,         /* the name did not resolve (.resolve) */
	SMTPROBE_FAIL_REFUSED,         /* connection refused (RST to the SYN) */
	SMTPROBE_FAIL_CONNECT_TIMEOUT, /* no answer to the SYN in time */
	SMTPROBE_FAIL_UNREACHABLE,     /* no route: host or network */
	SMTPROBE_FAIL_CONNECT,         /* another connect error (.sys_errno) */
	SMTPROBE_FAIL_RESET,           /* reset by the peer (or EPIPE) */
	SMTPROBE_FAIL_CLOSED,          /* a clean close by the server */
	SMTPROBE_FAIL_TIMEOUT,         /* no reply within the reply deadline */
	SMTPROBE_FAIL_SESSION_TIMEOUT, /* the whole session's deadline */
	SMTPROBE_FAIL_PROTOCOL,        /* not a valid SMTP reply (.protocol) */
	SMTPROBE_FAIL_TLS,             /* TLS failed (.tls) */
	SMTPROBE_FAIL_CERTIFICATE,     /* the certificate did not verify and
	                                  verification was made fatal (.x509) */
	SMTPROBE_FAIL_TLS_UNAVAILABLE, /* TLS required, STARTTLS not offered or
	                                  refused (.reply) */
	SMTPROBE_FAIL_AUTH_REFUSED,    /* the server refused AUTH (.reply) */
	SMTPROBE_FAIL_AUTH_UNAVAILABLE, /* no AUTH, not the mechanism asked for,
	                                   or the exchange could not go on */
	SMTPROBE_FAIL_AUTH_NEEDS_TLS, /* credentials kept off a clear channel */
	SMTPROBE_FAIL_COMMAND,        /* the server refused a command (.reply):
	                                 banner, greeting, MAIL, RCPT, DATA, dot */
	SMTPROBE_FAIL_CANCELLED,      /* the caller ended the session */
	SMTPROBE_FAIL_USAGE,          /* bad parameters */
	SMTPROBE_FAIL_INTERNAL,       /* out of memory, a bug */
	SMTPROBE_FAIL_LAST
};

/* Sub-kinds of SMTPROBE_FAIL_PROTOCOL. */
enum smtprobe_protocol_error {
	SMTPROBE_PERR_NONE,
	SMTPROBE_PERR_BAD_CODE,       /* not three digits 2xx..5xx */
	SMTPROBE_PERR_INCONSISTENT,   /* multi-line reply whose codes disagree
	                                 (or a bad separator) */
	SMTPROBE_PERR_LINE_TOO_LONG,  /* over SMTPROBE_MAX_LINE */
	SMTPROBE_PERR_TOO_MANY_LINES, /* over the line or size cap of a reply */
	SMTPROBE_PERR_UNSOLICITED,    /* bytes no command asked for (.detail) */
	SMTPROBE_PERR_NOT_SMTP,       /* the peer speaks something else (TLS,
	                                 HTTP, binary) where SMTP was due */
	SMTPROBE_PERR_LAST
};

/* Why a name did not resolve. */
enum smtprobe_resolve_error {
	SMTPROBE_RES_NONE,
	SMTPROBE_RES_NXDOMAIN, /* no such name */
	SMTPROBE_RES_NODATA,   /* the name exists, no address of the family */
	SMTPROBE_RES_SERVFAIL, /* the resolver failed (temporary) */
};

#define SMTPROBE_FAILURE_DETAIL 256

struct smtprobe_failure {
	enum smtprobe_failure_kind kind;
	enum smtprobe_stage stage; /* where it happened */
	int sys_errno;             /* 0 when there is none */
	enum smtprobe_protocol_error protocol;
	enum smtprobe_resolve_error resolve;
	struct smtprobe_tls_failure tls; /* SMTPROBE_FAIL_TLS */
	long x509; /* X509_V_ERR_* (SMTPROBE_FAIL_CERTIFICATE) */
	/* the refusing reply (COMMAND, AUTH_REFUSED, TLS_UNAVAILABLE); it
	 * belongs to the result's exchanges */
	const struct smtprobe_reply *reply;
	/* a short fact, escaped: the unsolicited bytes, the resolver's words */
	char detail[SMTPROBE_FAILURE_DETAIL];
};

/* Stable names for JSON and tests: "connection_refused", "protocol_error",
 * "unsolicited", "nxdomain", "not_tls" ... ("?" when out of range). */
const char *smtprobe_failure_kind_name(enum smtprobe_failure_kind k);
const char *smtprobe_protocol_error_name(enum smtprobe_protocol_error e);
const char *smtprobe_resolve_error_name(enum smtprobe_resolve_error e);

/* The kind of a connection error from its errno (ECONNREFUSED, ETIMEDOUT,
 * EHOSTUNREACH, ENETUNREACH, ECONNRESET, EPIPE, ...). */
enum smtprobe_failure_kind smtprobe_failure_of_errno(int err);
/* A reply parser error (enum smtprobe_reply_err) as a protocol sub-kind. */
enum smtprobe_protocol_error smtprobe_protocol_error_of_parse(long err);

/* The exit code (swaks' numbers, enum smtprobe_exit) of a failure: a
 * connection that never came up is 2, a close or reset 6 (29 during the
 * TLS handshake), TLS and certificates 29, AUTH 28, anything else the
 * exit code of the stage it happened in. 0 for SMTPROBE_FAIL_NONE. */
int smtprobe_failure_exit_code(const struct smtprobe_failure *f);

#endif
