/* failure.c - the failure model's tables (pure): stable names of every
 * kind and sub-kind, the kind of a connection errno, the protocol sub-kind
 * of a reply parser error, and the exit code of a failure.
 *
 * Names are part of the JSON contract ("failure": {"kind": ...}): they
 * never change once published. Out-of-range values give "?". */
#include <errno.h>

#include "smtprobe/failure.h"
#include "banned.h"

static const char *const kind_names[SMTPROBE_FAIL_LAST] = {
        [SMTPROBE_FAIL_NONE] = "none",
        [SMTPROBE_FAIL_RESOLVE] = "resolve",
        [SMTPROBE_FAIL_REFUSED] = "connection_refused",
        [SMTPROBE_FAIL_CONNECT_TIMEOUT] = "connect_timeout",
        [SMTPROBE_FAIL_UNREACHABLE] = "unreachable",
        [SMTPROBE_FAIL_CONNECT] = "connect_error",
        [SMTPROBE_FAIL_RESET] = "reset",
        [SMTPROBE_FAIL_CLOSED] = "closed",
        [SMTPROBE_FAIL_TIMEOUT] = "reply_timeout",
        [SMTPROBE_FAIL_SESSION_TIMEOUT] = "session_timeout",
        [SMTPROBE_FAIL_PROTOCOL] = "protocol_error",
        [SMTPROBE_FAIL_TLS] = "tls",
        [SMTPROBE_FAIL_CERTIFICATE] = "certificate",
        [SMTPROBE_FAIL_TLS_UNAVAILABLE] = "tls_unavailable",
        [SMTPROBE_FAIL_AUTH_REFUSED] = "auth_refused",
        [SMTPROBE_FAIL_AUTH_UNAVAILABLE] = "auth_unavailable",
        [SMTPROBE_FAIL_AUTH_NEEDS_TLS] = "auth_needs_tls",
        [SMTPROBE_FAIL_COMMAND] = "command_refused",
        [SMTPROBE_FAIL_CANCELLED] = "cancelled",
        [SMTPROBE_FAIL_USAGE] = "usage",
        [SMTPROBE_FAIL_INTERNAL] = "internal",
};

static const char *const perr_names[SMTPROBE_PERR_LAST] = {
        [SMTPROBE_PERR_NONE] = "none",
        [SMTPROBE_PERR_BAD_CODE] = "bad_code",
        [SMTPROBE_PERR_INCONSISTENT] = "inconsistent_multiline",
        [SMTPROBE_PERR_LINE_TOO_LONG] = "line_too_long",
        [SMTPROBE_PERR_TOO_MANY_LINES] = "reply_too_big",
        [SMTPROBE_PERR_UNSOLICITED] = "unsolicited",
        [SMTPROBE_PERR_NOT_SMTP] = "not_smtp",
};

static const char *const res_names[] = {
        [SMTPROBE_RES_NONE] = "none",
        [SMTPROBE_RES_NXDOMAIN] = "nxdomain",
        [SMTPROBE_RES_NODATA] = "nodata",
        [SMTPROBE_RES_SERVFAIL] = "servfail",
};

#define NAME_OF(tab, i)                                                        \
	((unsigned)(i) < sizeof(tab) / sizeof(tab[0]) && tab[i] ? tab[i] : "?")

const char *smtprobe_failure_kind_name(enum smtprobe_failure_kind k)
{
	return NAME_OF(kind_names, k);
}

const char *smtprobe_protocol_error_name(enum smtprobe_protocol_error e)
{
	return NAME_OF(perr_names, e);
}

const char *smtprobe_resolve_error_name(enum smtprobe_resolve_error e)
{
	return NAME_OF(res_names, e);
}

enum smtprobe_failure_kind smtprobe_failure_of_errno(int err)
{
	switch (err) {
	case ECONNREFUSED:
		return SMTPROBE_FAIL_REFUSED;
	case ETIMEDOUT:
		return SMTPROBE_FAIL_CONNECT_TIMEOUT;
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EHOSTDOWN:
	case ENETDOWN:
		return SMTPROBE_FAIL_UNREACHABLE;
	case ECONNRESET:
	case EPIPE:
	case ECONNABORTED:
		return SMTPROBE_FAIL_RESET;
	default:
		return SMTPROBE_FAIL_CONNECT;
	}
}

enum smtprobe_protocol_error smtprobe_protocol_error_of_parse(long err)
{
	switch (err) {
	case SMTPROBE_REPLY_E_LINE_TOO_LONG:
		return SMTPROBE_PERR_LINE_TOO_LONG;
	case SMTPROBE_REPLY_E_TOO_MANY_LINES:
	case SMTPROBE_REPLY_E_TOO_BIG:
		return SMTPROBE_PERR_TOO_MANY_LINES;
	case SMTPROBE_REPLY_E_BAD_CODE:
		return SMTPROBE_PERR_BAD_CODE;
	case SMTPROBE_REPLY_E_CODE_MISMATCH:
	case SMTPROBE_REPLY_E_BAD_SEPARATOR:
		return SMTPROBE_PERR_INCONSISTENT;
	default:
		return SMTPROBE_PERR_NONE;
	}
}

int smtprobe_failure_exit_code(const struct smtprobe_failure *f)
{
	switch (f->kind) {
	case SMTPROBE_FAIL_NONE:
		return SMTPROBE_EXIT_OK;
	case SMTPROBE_FAIL_RESOLVE:
	case SMTPROBE_FAIL_REFUSED:
	case SMTPROBE_FAIL_CONNECT_TIMEOUT:
	case SMTPROBE_FAIL_UNREACHABLE:
	case SMTPROBE_FAIL_CONNECT:
		return SMTPROBE_EXIT_CONNECT;
	case SMTPROBE_FAIL_RESET:
	case SMTPROBE_FAIL_CLOSED:
		return f->stage == SMTPROBE_ST_TLS ? SMTPROBE_EXIT_TLS
		                                   : SMTPROBE_EXIT_CLOSED;
	case SMTPROBE_FAIL_TLS:
	case SMTPROBE_FAIL_CERTIFICATE:
	case SMTPROBE_FAIL_TLS_UNAVAILABLE:
		return SMTPROBE_EXIT_TLS;
	case SMTPROBE_FAIL_AUTH_REFUSED:
	case SMTPROBE_FAIL_AUTH_UNAVAILABLE:
	case SMTPROBE_FAIL_AUTH_NEEDS_TLS:
		return SMTPROBE_EXIT_AUTH;
	case SMTPROBE_FAIL_USAGE:
		return SMTPROBE_EXIT_USAGE;
	default:
		return smtprobe_stage_exit_code(f->stage);
	}
}
