/* kb_failure.c - the knowledge-base entry of a failure, chosen from its
 * values (kind, sub-kind, errno, TLS alert, X509 code, the refusing reply),
 * never from its message. Also the lookup of an entry by its stable id.
 * Pure. */
#include <errno.h>
#include <string.h>

#include "smtprobe/failure.h"
#include "smtprobe/kb.h"
#include "banned.h"

const struct smtprobe_kb_entry *smtprobe_kb_by_id(const char *id)
{
	size_t n;
	const struct smtprobe_kb_entry *all = smtprobe_kb_entries(&n);

	for (size_t i = 0; id && i < n; i++)
		if (strcmp(all[i].id, id) == 0)
			return &all[i];
	return NULL;
}

static const struct smtprobe_kb_entry *of_reply(const struct smtprobe_reply *r)
{
	const struct smtprobe_kb_entry *m[1];

	if (!r)
		return NULL;
	return smtprobe_kb_lookup(r->code, r->enhanced,
	                          r->nlines ? r->text[0] : "", m, 1)
	               ? m[0]
	               : NULL;
}

static const char *tls_id(const struct smtprobe_tls_failure *t)
{
	switch (t->error) {
	case SMTPROBE_TLSE_NOT_TLS:
		return "tls-wrong-version";
	case SMTPROBE_TLSE_VERSION:
		return "tls-unsupported-protocol";
	case SMTPROBE_TLSE_CIPHER:
		return "tls-no-shared-cipher";
	case SMTPROBE_TLSE_CLOSED:
		return "tls-closed";
	case SMTPROBE_TLSE_LOCAL:
		return "tls-local-setup";
	case SMTPROBE_TLSE_SYSCALL:
		return t->sys_errno == EPIPE ? "local-epipe"
		                             : "local-econnreset";
	default:
		break;
	}
	if (t->alert >= 0 && t->alert_from_peer)
		return t->alert == 80   ? "tls-alert-internal-error"
		       : t->alert == 40 ? "tls-handshake-failure"
		       : t->alert == 70 ? "tls-unsupported-protocol"
		                        : "tls-peer-alert";
	return "tls-handshake-failure";
}

static const char *protocol_id(enum smtprobe_protocol_error e)
{
	switch (e) {
	case SMTPROBE_PERR_BAD_CODE:
		return "protocol-bad-code";
	case SMTPROBE_PERR_INCONSISTENT:
		return "protocol-inconsistent";
	case SMTPROBE_PERR_LINE_TOO_LONG:
		return "protocol-line-too-long";
	case SMTPROBE_PERR_TOO_MANY_LINES:
		return "protocol-reply-too-big";
	case SMTPROBE_PERR_UNSOLICITED:
		return "protocol-unsolicited";
	case SMTPROBE_PERR_NOT_SMTP:
		return "protocol-not-smtp";
	default:
		return NULL;
	}
}

const struct smtprobe_kb_entry *
smtprobe_kb_failure(const struct smtprobe_failure *f)
{
	const char *id = NULL;

	switch (f->kind) {
	case SMTPROBE_FAIL_RESOLVE:
		id = f->resolve == SMTPROBE_RES_NXDOMAIN ? "local-nxdomain"
		     : f->resolve == SMTPROBE_RES_NODATA ? "local-noanswer"
		                                         : "local-servfail";
		break;
	case SMTPROBE_FAIL_REFUSED:
		id = "local-econnrefused";
		break;
	case SMTPROBE_FAIL_CONNECT_TIMEOUT:
		id = "local-etimedout";
		break;
	case SMTPROBE_FAIL_UNREACHABLE:
		id = f->sys_errno == ENETUNREACH || f->sys_errno == ENETDOWN
		             ? "local-enetunreach"
		             : "local-ehostunreach";
		break;
	case SMTPROBE_FAIL_RESET:
		id = f->sys_errno == EPIPE ? "local-epipe" : "local-econnreset";
		break;
	case SMTPROBE_FAIL_CLOSED:
		id = f->stage == SMTPROBE_ST_TLS ? "tls-closed"
		                                 : "local-closed";
		break;
	case SMTPROBE_FAIL_TIMEOUT:
	case SMTPROBE_FAIL_SESSION_TIMEOUT:
		id = "local-timeout";
		break;
	case SMTPROBE_FAIL_PROTOCOL:
		id = protocol_id(f->protocol);
		break;
	case SMTPROBE_FAIL_TLS:
		id = tls_id(&f->tls);
		break;
	case SMTPROBE_FAIL_CERTIFICATE:
		return smtprobe_kb_x509(f->x509, NULL);
	case SMTPROBE_FAIL_TLS_UNAVAILABLE:
		if (f->reply)
			return of_reply(f->reply);
		id = "tls-not-offered";
		break;
	case SMTPROBE_FAIL_AUTH_UNAVAILABLE:
		id = "auth-not-offered";
		break;
	case SMTPROBE_FAIL_AUTH_NEEDS_TLS:
		id = "auth-needs-tls";
		break;
	case SMTPROBE_FAIL_AUTH_REFUSED:
	case SMTPROBE_FAIL_COMMAND:
		return of_reply(f->reply);
	default:
		return NULL;
	}
	return smtprobe_kb_by_id(id);
}
