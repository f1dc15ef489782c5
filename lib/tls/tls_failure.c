/* tls_failure.c - why TLS failed, as values: what ended a handshake (or a
 * later read or write), read from OpenSSL's error queue and from the alerts
 * seen on the wire, and the names of those values.
 *
 * Every connection (client or server) has an info callback that records
 * the first fatal alert it received and the first it sent, so a failure
 * says which side raised the alert ("tlsv1 alert internal error" is the
 * server's; "certificate verify failed" ours). OpenSSL's reasons are mapped
 * to a few kinds the diagnosis can use without reading words: the peer
 * does not speak TLS (a plain SMTP banner or HTTP where a ServerHello was
 * due), no protocol version in common, no cipher in common, an alert, a
 * close, a socket error. The reason words stay beside them for people. */
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "smtprobe/tls.h"
#include "tls_int.h"
#include "banned.h"

static const char *const tlse_names[] = {
        [SMTPROBE_TLSE_NONE] = "none",
        [SMTPROBE_TLSE_NOT_TLS] = "not_tls",
        [SMTPROBE_TLSE_VERSION] = "protocol_version",
        [SMTPROBE_TLSE_CIPHER] = "no_shared_cipher",
        [SMTPROBE_TLSE_ALERT] = "alert",
        [SMTPROBE_TLSE_CLOSED] = "closed",
        [SMTPROBE_TLSE_SYSCALL] = "socket_error",
        [SMTPROBE_TLSE_LOCAL] = "local_setup",
        [SMTPROBE_TLSE_OTHER] = "other",
};

/* RFC 8446 6 and RFC 5246 7.2 (the ones a server may still send). */
static const struct {
	int code;
	const char *name;
} alert_names[] = {
        {0, "close_notify"},
        {10, "unexpected_message"},
        {20, "bad_record_mac"},
        {21, "decryption_failed"},
        {22, "record_overflow"},
        {30, "decompression_failure"},
        {40, "handshake_failure"},
        {41, "no_certificate"},
        {42, "bad_certificate"},
        {43, "unsupported_certificate"},
        {44, "certificate_revoked"},
        {45, "certificate_expired"},
        {46, "certificate_unknown"},
        {47, "illegal_parameter"},
        {48, "unknown_ca"},
        {49, "access_denied"},
        {50, "decode_error"},
        {51, "decrypt_error"},
        {60, "export_restriction"},
        {70, "protocol_version"},
        {71, "insufficient_security"},
        {80, "internal_error"},
        {86, "inappropriate_fallback"},
        {90, "user_canceled"},
        {100, "no_renegotiation"},
        {109, "missing_extension"},
        {110, "unsupported_extension"},
        {112, "unrecognized_name"},
        {113, "bad_certificate_status_response"},
        {115, "unknown_psk_identity"},
        {116, "certificate_required"},
        {120, "no_application_protocol"},
};

const char *smtprobe_tls_error_name(enum smtprobe_tls_error e)
{
	return (unsigned)e < sizeof(tlse_names) / sizeof(tlse_names[0])
	               ? tlse_names[e]
	               : "?";
}

const char *smtprobe_tls_alert_name(int alert)
{
	for (size_t i = 0; i < sizeof(alert_names) / sizeof(alert_names[0]);
	     i++)
		if (alert_names[i].code == alert)
			return alert_names[i].name;
	return NULL;
}

/* SSL_CB_ALERT: ret is level << 8 | description. A warning-level
 * close_notify is the normal end of a connection, not a failure. */
void tls__info_cb(const SSL *ssl, int where, int ret)
{
	struct smtprobe_tls *t = SSL_get_app_data(ssl);
	int level = (ret >> 8) & 0xff, desc = ret & 0xff;

	if (t == NULL || !(where & SSL_CB_ALERT) || level != SSL3_AL_FATAL)
		return;
	if ((where & SSL_CB_READ) && t->alert_recv < 0)
		t->alert_recv = desc;
	else if ((where & SSL_CB_WRITE) && t->alert_sent < 0)
		t->alert_sent = desc;
}

static enum smtprobe_tls_error kind_of_reason(int lib, int reason)
{
	if (lib != ERR_LIB_SSL)
		return SMTPROBE_TLSE_OTHER;
	switch (reason) {
	case SSL_R_WRONG_VERSION_NUMBER:
	case SSL_R_PACKET_LENGTH_TOO_LONG:
	case SSL_R_HTTP_REQUEST:
	case SSL_R_HTTPS_PROXY_REQUEST:
		return SMTPROBE_TLSE_NOT_TLS;
	case SSL_R_UNSUPPORTED_PROTOCOL:
	case SSL_R_NO_PROTOCOLS_AVAILABLE:
	case SSL_R_VERSION_TOO_LOW:
	case SSL_R_VERSION_TOO_HIGH:
		return SMTPROBE_TLSE_VERSION;
	case SSL_R_NO_SHARED_CIPHER:
	case SSL_R_NO_CIPHERS_AVAILABLE:
	case SSL_R_NO_CIPHER_MATCH:
		return SMTPROBE_TLSE_CIPHER;
	case SSL_R_UNEXPECTED_EOF_WHILE_READING:
		return SMTPROBE_TLSE_CLOSED;
	default:
		return reason >= SSL_AD_REASON_OFFSET ? SMTPROBE_TLSE_ALERT
		                                      : SMTPROBE_TLSE_OTHER;
	}
}

void tls__classify(struct smtprobe_tls *t, enum smtprobe_tls_error fallback,
                   const unsigned long *q, size_t n, const char *reason)
{
	struct smtprobe_tls_failure *f = &t->fail;
	enum smtprobe_tls_error kind = SMTPROBE_TLSE_NONE;

	if (f->error != SMTPROBE_TLSE_NONE)
		return; /* the first failure is the one that matters */
	f->alert = -1;
	/* the innermost specific reason decides */
	for (size_t i = 0; i < n && kind == SMTPROBE_TLSE_NONE; i++) {
		int lib = ERR_GET_LIB(q[i]), code = ERR_GET_REASON(q[i]);
		enum smtprobe_tls_error k = kind_of_reason(lib, code);
		if (k == SMTPROBE_TLSE_OTHER && i + 1 < n)
			continue;
		kind = k;
		f->ossl_reason = code;
		if (k == SMTPROBE_TLSE_ALERT) {
			f->alert = code - SSL_AD_REASON_OFFSET;
			f->alert_from_peer = 1;
		}
	}
	if (kind == SMTPROBE_TLSE_NONE)
		kind = fallback;
	if (f->alert < 0 && t->alert_recv >= 0) {
		f->alert = t->alert_recv;
		f->alert_from_peer = 1;
	} else if (f->alert < 0 && t->alert_sent >= 0) {
		f->alert = t->alert_sent;
		f->alert_from_peer = 0;
	}
	/* an alert the peer sent says more than "other" */
	if (kind == SMTPROBE_TLSE_OTHER && f->alert >= 0 && f->alert_from_peer)
		kind = SMTPROBE_TLSE_ALERT;
	f->error = kind;
	tls__fmt(f->reason, sizeof(f->reason), "%s", reason ? reason : "");
}

void smtprobe_tls_get_failure(const struct smtprobe_tls *t,
                              struct smtprobe_tls_failure *out)
{
	memset(out, 0, sizeof(*out));
	out->alert = -1;
	if (t != NULL && t->fail.error != SMTPROBE_TLSE_NONE)
		*out = t->fail;
}
