/* tls.h - the OpenSSL 3 boundary: one client TLS connection on a socket,
 * and the facts about it. Only lib/tls*.c include OpenSSL headers.
 *
 * OpenSSL does the I/O on the (non-blocking) file descriptor itself; the
 * caller polls for whatever SMTPROBE_TLS_WANT_* says. Verification is always
 * performed and recorded, never fatal here: the session decides. */
#ifndef SMTPROBE_TLS_H
#define SMTPROBE_TLS_H

#include <stddef.h>

#define SMTPROBE_MAX_CHAIN 10
#define SMTPROBE_MAX_TLSA  16

/* One TLSA record (RFC 6698 §2.1) for DANE: certificate usage (0 PKIX-TA,
 * 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE), selector (0 the whole certificate, 1
 * its SubjectPublicKeyInfo), matching type (0 exact, 1 SHA-256, 2
 * SHA-512) and the association data (raw bytes, not hex). */
struct smtprobe_tlsa {
	unsigned char usage, selector, mtype;
	const unsigned char *data;
	size_t len;
};

struct smtprobe_tls_opts {
	const char *sni; /* server name to send; NULL or "" = none */
	const char
	        *verify_host;  /* name (or IP literal) to match; NULL = none */
	const char *ca_file;   /* NULL = the system store */
	const char *ca_path;   /* a directory of hashed CA certificates */
	const char *min_proto; /* "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3" or
	                          NULL */
	const char *max_proto;
	const char
	        *ciphers; /* TLS <= 1.2 cipher list and 1.3 suites, or NULL */
	const char *cert_file; /* client certificate (PEM), optional */
	const char *key_file;  /* its key; NULL = in cert_file */
	/* resume this session (smtprobe_tls_session_der of an earlier
	 * connection); NULL: a full handshake */
	const unsigned char *session;
	size_t session_len;
	int no_ticket; /* no session ticket: TLS <= 1.2 resumes by id */
	/* DANE (RFC 7671, RFC 7672 for SMTP): authenticate the server by
	 * these TLSA records instead of the CA store, with OpenSSL's DANE
	 * support. dane_base is the TLSA base domain (the name the records
	 * were found under, after CNAMEs) and with verify_host the reference
	 * names of a DANE-TA match; DANE-EE matches check no name (RFC 7672
	 * §3.1.1). The caller picks the records (SMTP ignores usages 0 and
	 * 1); records OpenSSL cannot use are counted, not errors. ntlsa 0:
	 * no DANE. */
	const struct smtprobe_tlsa *tlsa;
	size_t ntlsa;
	const char *dane_base;
};

enum smtprobe_tls_rc {
	SMTPROBE_TLS_OK = 0,
	SMTPROBE_TLS_WANT_READ = -1,
	SMTPROBE_TLS_WANT_WRITE = -2,
	SMTPROBE_TLS_CLOSED = -3, /* clean close_notify or EOF */
	SMTPROBE_TLS_ERR = -4,    /* see smtprobe_tls_error() */
};

/* What a failed TLS handshake (or a later TLS read/write) says. */
enum smtprobe_tls_error {
	SMTPROBE_TLSE_NONE,
	SMTPROBE_TLSE_NOT_TLS, /* the peer answered with something that is
	                          not TLS (plain SMTP, HTTP) */
	SMTPROBE_TLSE_VERSION, /* no protocol version in common */
	SMTPROBE_TLSE_CIPHER,  /* no cipher suite in common */
	SMTPROBE_TLSE_ALERT,   /* ended by an alert (.alert, .alert_from_peer)
	                        */
	SMTPROBE_TLSE_CLOSED,  /* the peer closed during the handshake */
	SMTPROBE_TLSE_SYSCALL, /* a socket error (.sys_errno) */
	SMTPROBE_TLSE_LOCAL,   /* our own setup: CA file, client certificate,
	                          cipher list, protocol names */
	SMTPROBE_TLSE_OTHER,
};

struct smtprobe_tls_failure {
	enum smtprobe_tls_error error;
	int alert;           /* TLS alert description (RFC 8446 6), -1: none */
	int alert_from_peer; /* 1: the server sent it; 0: we did */
	int ossl_reason;     /* OpenSSL's reason code, 0 when none */
	int sys_errno;       /* SMTPROBE_TLSE_SYSCALL: the socket's errno */
	char reason[128];    /* OpenSSL's words, e.g. "wrong version number" */
};

/* "not_tls", "alert" ... ("?" out of range). */
const char *smtprobe_tls_error_name(enum smtprobe_tls_error e);
/* "internal_error" for 80, "handshake_failure" for 40; NULL when the
 * number is not a known alert. */
const char *smtprobe_tls_alert_name(int alert);

struct smtprobe_cert_facts {
	char subject[512];
	char issuer[512];
	char sans[1024];     /* "DNS:a, DNS:b, IP:1.2.3.4" */
	char not_before[32]; /* ISO 8601 UTC */
	char not_after[32];
	long days_left;    /* negative when expired */
	char key_type[16]; /* "RSA", "EC", "ED25519", ... */
	int key_bits;
	char sig_alg[64];
	int self_signed;
	int not_yet_valid;  /* notBefore is in the future */
	long lifetime_days; /* notAfter - notBefore */
	int is_ca;          /* basicConstraints CA (an intermediate or root) */
	int must_staple;    /* RFC 7633 TLS Feature: status_request */
	/* SHA-256 of the SubjectPublicKeyInfo, lower-case hex: what a TLSA
	 * "3 1 1" record for this key holds ("" when unknown) */
	char spki_sha256[65];
};

struct smtprobe_tls_facts {
	char protocol[16]; /* "TLSv1.3" */
	char cipher[64];
	char group[32]; /* key exchange group, "" when unknown */
	char sni[256];
	int verify_ok;
	long verify_code; /* X509_V_* of the first problem, 0 when ok */
	char verify_reason[256];
	int host_checked; /* a verify_host was given */
	int host_match;
	/* the chain stops at a leaf whose issuer is nowhere: an intermediate
	 * is missing (missing_issuer: its subject, escaped) */
	int chain_incomplete;
	int chain_order_ok; /* each certificate sent issued by the next */
	char missing_issuer[512];
	int ocsp_stapled;           /* a stapled OCSP response came */
	int secure_renegotiation;   /* RFC 5746 (TLS <= 1.2) */
	int extended_master_secret; /* RFC 7627 (TLS <= 1.2) */
	int resumed;                /* the session given was resumed */
	/* DANE (tls_opts.ntlsa > 0): how many records OpenSSL could use, and
	 * whether the chain sent matched one - at which depth (0 the leaf)
	 * and which record. With DANE the verification above is DANE's:
	 * verify_ok means a usable record matched (X509_V_ERR_DANE_NO_MATCH
	 * when none did). */
	int dane_checked;
	size_t dane_usable;
	int dane_match;
	int dane_depth;
	int dane_usage, dane_selector, dane_mtype;
	size_t nchain; /* certificates the server sent, leaf first */
	struct smtprobe_cert_facts chain[SMTPROBE_MAX_CHAIN];
};

struct smtprobe_tls;

/* The session of a finished handshake, DER-encoded, for
 * smtprobe_tls_opts.session; its length, or -1 (none, or over outsz).
 * ticket: 1 when it holds a session ticket; max_early_data: the server's
 * 0-RTT allowance (TLS 1.3), 0 when none. Read it late: TLS 1.3 tickets
 * come after the handshake. */
long smtprobe_tls_session_der(const struct smtprobe_tls *t, unsigned char *out,
                              size_t outsz, int *ticket,
                              unsigned long *max_early_data);

/* Ask for a renegotiation (TLS <= 1.2, client side): it happens with the
 * next read or write. 0, or -1 when the connection cannot (TLS 1.3, no
 * handshake yet). smtprobe_tls_renegotiated: 1 once one completed. */
int smtprobe_tls_renegotiate(struct smtprobe_tls *t);
int smtprobe_tls_renegotiated(const struct smtprobe_tls *t);

/* The facts of one DER certificate (e.g. from a raw handshake flight);
 * 0, or -1 when it does not parse. */
int smtprobe_tls_cert_facts_der(const unsigned char *der, size_t len,
                                struct smtprobe_cert_facts *out);
/* Whether it is valid for host (a name or an address): 1, 0, -1 when the
 * DER does not parse. */
int smtprobe_tls_cert_matches_der(const unsigned char *der, size_t len,
                                  const char *host);

/* Prepare TLS on fd (connected, non-blocking). Returns 0 or
 * SMTPROBE_TLS_ERR with a lower-case reason in err (bad CA file, bad
 * protocol name, unreadable certificate ...). */
int smtprobe_tls_new(struct smtprobe_tls **out,
                     const struct smtprobe_tls_opts *opts, int fd, char *err,
                     size_t errsz);

/* Drive the handshake: SMTPROBE_TLS_OK when done, WANT_* to be called
 * again when the socket is ready, CLOSED or ERR. */
int smtprobe_tls_handshake(struct smtprobe_tls *t);

/* Read / write: > 0 bytes, or a negative enum smtprobe_tls_rc. */
long smtprobe_tls_read(struct smtprobe_tls *t, void *buf, size_t len);
long smtprobe_tls_write(struct smtprobe_tls *t, const void *buf, size_t len);
/* Bytes already decrypted and waiting (poll will not report them). */
size_t smtprobe_tls_pending(const struct smtprobe_tls *t);

/* Fill the facts after a successful handshake. */
void smtprobe_tls_get_facts(const struct smtprobe_tls *t,
                            struct smtprobe_tls_facts *out);

/* The last error, lower case, with OpenSSL's reason when there is one. */
const char *smtprobe_tls_error(const struct smtprobe_tls *t);
/* The same as values: what ended the handshake (or a later read or
 * write), the alert and who sent it, OpenSSL's reason. */
void smtprobe_tls_get_failure(const struct smtprobe_tls *t,
                              struct smtprobe_tls_failure *out);

/* Send close_notify (best effort, never blocks) and free. */
void smtprobe_tls_free(struct smtprobe_tls *t);

/* ---- server side (lib/tls/tls_server.c, tls_cert.c) -------------- */

struct smtprobe_tls_server;

/* A server context from PEM files (chain_file may be NULL; key_file NULL
 * = in cert_file). Returns 0 or SMTPROBE_TLS_ERR with a reason. */
int smtprobe_tls_server_new(struct smtprobe_tls_server **out,
                            const char *cert_file, const char *key_file,
                            const char *chain_file, char *err, size_t errsz);
void smtprobe_tls_server_free(struct smtprobe_tls_server *srv);

/* TLS on an accepted, non-blocking fd, server side; then drive it with
 * smtprobe_tls_handshake / _read / _write / _free as for a client.
 * smtprobe_tls_get_facts gives protocol, cipher and group (no chain). */
int smtprobe_tls_accept(struct smtprobe_tls **out,
                        struct smtprobe_tls_server *srv, int fd, char *err,
                        size_t errsz);

/* Make a throwaway CA and a server certificate for names (host names and
 * IP literals, the first also the CN) in dir: ca.pem, ca.key, server.pem
 * (leaf then CA), server.key, mode 0600 for keys. Files already there and
 * still valid for a day and for these names are reused. Returns 0 or -1. */
int smtprobe_tls_generate(const char *dir, const char *const *names,
                          size_t nnames, unsigned days, char *err,
                          size_t errsz);

/* ---- keys and base64 as DNS records publish them (tls_pubkey.c) ---- */

enum smtprobe_pubkey_kind {
	SMTPROBE_PK_RSA,
	SMTPROBE_PK_ED25519,
	SMTPROBE_PK_OTHER,
};
enum smtprobe_pubkey_form {
	SMTPROBE_PK_SPKI,  /* a SubjectPublicKeyInfo */
	SMTPROBE_PK_PKCS1, /* a bare RSAPublicKey */
	SMTPROBE_PK_RAW,   /* the raw 32 bytes of an ed25519 key */
};
struct smtprobe_pubkey {
	enum smtprobe_pubkey_kind kind;
	enum smtprobe_pubkey_form form;
	char type[32]; /* OpenSSL's name: "RSA", "ED25519", "EC" ... */
	int bits;
	int trailing; /* bytes after the key */
};
/* The key in der: a SubjectPublicKeyInfo, else a bare PKCS#1 RSA key, or
 * with raw_ed25519 the 32 raw bytes of RFC 8463. 0, or -1 (not a key). */
int smtprobe_tls_pubkey(const unsigned char *der, size_t len, int raw_ed25519,
                        struct smtprobe_pubkey *out);
/* Base64 (no whitespace, padding checked) into out; the bytes, or -1. */
long smtprobe_tls_base64(const char *in, size_t n, unsigned char *out,
                         size_t outsz);

#endif
