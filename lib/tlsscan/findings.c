/* findings.c - a listener's TLS posture (tlsposture.h) judged: one finding
 * per problem, with a stable id, a severity, the evidence in words and the
 * fix for the software that is running (lib/kb/advice.c).
 *
 * Severities follow the table: NULL, anonymous and EXPORT suites
 * critical; SSLv3, RC4, no STARTTLS, STARTTLS injection high; TLS 1.0/1.1,
 * 3DES, no forward secrecy, weak DH, weak keys, SHA-1 signatures, an
 * expiry within 30 days and compression medium. Trust and host-name
 * findings are high only where they count (smtprobe_tls_trust_counts:
 * 465, 587, AUTH offered, or --tls-verify) and info on a port-25 MX,
 * whose senders fall back to opportunistic TLS (RFC 7435) - a mail-aware
 * rule the web-oriented scanners do not have. An untested fact (tri-state
 * UNKNOWN, tested[p] == 0, have_cert == 0) gives no finding at all.
 * Pure: no I/O, no allocation; texts are cut to the fields' sizes. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "findings_int.h"
#include "smtprobe/tlsposture.h"
#include "banned.h"

#define NELEM(a)         (sizeof(a) / sizeof((a)[0]))
#define EXPIRES_SOON     30  /* days */
#define LIFETIME_MAX     398 /* days: the CA/Browser Forum's limit */
#define SUITES_IN_TEXT   4   /* suite names quoted in one finding */
#define RSA_MIN_BITS     2048
#define EC_MIN_BITS      224
#define DH_MIN_BITS      2048
#define DH_INSECURE_BITS 1024

const char *smtprobe_tls_proto_name(enum smtprobe_tls_proto p)
{
	static const char *const names[SMTPROBE_TP_LAST] = {
	        "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"};

	return (unsigned)p < SMTPROBE_TP_LAST ? names[p] : "?";
}

const char *smtprobe_suite_strength_name(enum smtprobe_suite_strength s)
{
	static const char *const names[SMTPROBE_STRENGTH_LAST] = {
	        "null", "anon", "export", "low", "medium", "high"};

	return (unsigned)s < SMTPROBE_STRENGTH_LAST ? names[s] : "?";
}

const char *smtprobe_tls_severity_name(enum smtprobe_tls_severity s)
{
	static const char *const names[SMTPROBE_SEV_LAST] = {
	        "ok", "info", "low", "medium", "high", "critical"};

	return (unsigned)s < SMTPROBE_SEV_LAST ? names[s] : "?";
}

int smtprobe_tls_trust_counts(const struct smtprobe_tls_posture *p)
{
	return p->verify_everywhere || p->auth_offered || p->implicit ||
	       p->port == 465 || p->port == 587;
}

/* ---- the list being built ------------------------------------------- */

struct smtprobe_tls_finding *tlss_add(struct tlss_list *l, const char *id,
                                      enum smtprobe_tls_severity sev,
                                      enum smtprobe_advice_topic topic,
                                      const char *fmt, ...)
{
	va_list ap;

	if (l->n >= l->max)
		return NULL;
	struct smtprobe_tls_finding *f = &l->f[l->n++];
	memset(f, 0, sizeof(*f));
	f->id = id;
	f->severity = sev;
	va_start(ap, fmt);
	vsnprintf(f->text, sizeof(f->text), fmt, ap);
	va_end(ap);
	if (topic != SMTPROBE_ADV_LAST)
		smtprobe_advice_text(topic, l->sw, f->fix, sizeof(f->fix));
	return f;
}

void tlss_sort(struct smtprobe_tls_finding *f, size_t n)
{
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && f[j - 1].severity < f[j].severity;
		     j--) {
			struct smtprobe_tls_finding t = f[j];
			f[j] = f[j - 1];
			f[j - 1] = t;
		}
}

void tlss_name_list(char *buf, size_t bufsz, const char *const *names, size_t n)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && i < SUITES_IN_TEXT && o < bufsz; i++) {
		int w = snprintf(buf + o, bufsz - o, "%s%s", i ? ", " : "",
		                 names[i]);
		o += w > 0 ? (size_t)w : 0;
	}
	if (n > SUITES_IN_TEXT && o < bufsz)
		snprintf(buf + o, bufsz - o, " (and %zu more)",
		         n - SUITES_IN_TEXT);
}

/* The judges' state: the posture and the list. */
struct out {
	const struct smtprobe_tls_posture *p;
	struct tlss_list l;
};

#define add(o, ...) tlss_add(&(o)->l, __VA_ARGS__)

/* ---- protocols ------------------------------------------------------ */

static void judge_protocols(struct out *o)
{
	const struct smtprobe_tls_posture *p = o->p;
	const int *t = p->tested, *on = p->offered;

	if (t[SMTPROBE_TP_SSL3] && on[SMTPROBE_TP_SSL3])
		add(o, "protocol.sslv3", SMTPROBE_SEV_HIGH,
		    SMTPROBE_ADV_TLS_PROTOCOLS,
		    "SSLv3 is offered: broken (POODLE), prohibited by RFC "
		    "7568");
	if (t[SMTPROBE_TP_TLS10] && on[SMTPROBE_TP_TLS10])
		add(o, "protocol.tls1_0", SMTPROBE_SEV_MEDIUM,
		    SMTPROBE_ADV_TLS_PROTOCOLS,
		    "TLS 1.0 is offered: deprecated (RFC 8996), insufficient "
		    "for NCSC-NL");
	if (t[SMTPROBE_TP_TLS11] && on[SMTPROBE_TP_TLS11])
		add(o, "protocol.tls1_1", SMTPROBE_SEV_MEDIUM,
		    SMTPROBE_ADV_TLS_PROTOCOLS,
		    "TLS 1.1 is offered: deprecated (RFC 8996), insufficient "
		    "for NCSC-NL");
	int modern = (t[SMTPROBE_TP_TLS12] && on[SMTPROBE_TP_TLS12]) ||
	             (t[SMTPROBE_TP_TLS13] && on[SMTPROBE_TP_TLS13]);
	if (t[SMTPROBE_TP_TLS12] && !on[SMTPROBE_TP_TLS12])
		add(o, "protocol.no_tls1_2",
		    modern ? SMTPROBE_SEV_INFO : SMTPROBE_SEV_HIGH,
		    modern ? SMTPROBE_ADV_LAST : SMTPROBE_ADV_TLS_PROTOCOLS,
		    modern ? "TLS 1.2 is not offered (TLS 1.3 is): senders "
		             "without TLS 1.3 deliver in clear"
		           : "TLS 1.2 is not offered, nor TLS 1.3: only broken "
		             "or deprecated protocols remain");
	if (t[SMTPROBE_TP_TLS13] && !on[SMTPROBE_TP_TLS13])
		add(o, "protocol.no_tls1_3", SMTPROBE_SEV_LOW,
		    SMTPROBE_ADV_TLS_PROTOCOLS, "TLS 1.3 is not offered");
}

/* ---- suites --------------------------------------------------------- */

/* The accepted suites for which pick() holds, as "A, B, C (and 2 more)";
 * returns how many there are. */
static size_t suites_where(const struct smtprobe_tls_posture *p,
                           int (*pick)(const struct smtprobe_tls_suite_fact *),
                           char *buf, size_t bufsz)
{
	const char *names[SMTPROBE_POSTURE_MAX_SUITES];
	size_t n = 0;

	for (size_t i = 0; i < p->nsuites && i < SMTPROBE_POSTURE_MAX_SUITES;
	     i++)
		if (pick(&p->suites[i]))
			names[n++] = p->suites[i].name;
	tlss_name_list(buf, bufsz, names, n);
	return n;
}

static int is_null(const struct smtprobe_tls_suite_fact *s)
{
	return s->strength == SMTPROBE_STRENGTH_NULL;
}
static int is_anon(const struct smtprobe_tls_suite_fact *s)
{
	return s->strength == SMTPROBE_STRENGTH_ANON;
}
static int is_export(const struct smtprobe_tls_suite_fact *s)
{
	return s->strength == SMTPROBE_STRENGTH_EXPORT;
}
static int is_rc4(const struct smtprobe_tls_suite_fact *s)
{
	return s->rc4;
}
static int is_3des(const struct smtprobe_tls_suite_fact *s)
{
	return s->des3;
}
static int is_no_pfs(const struct smtprobe_tls_suite_fact *s)
{
	return !s->pfs && s->strength != SMTPROBE_STRENGTH_NULL &&
	       s->strength != SMTPROBE_STRENGTH_ANON;
}
static int is_cbc(const struct smtprobe_tls_suite_fact *s)
{
	return s->cbc;
}

static void judge_suites(struct out *o)
{
	static const struct {
		const char *id;
		int (*pick)(const struct smtprobe_tls_suite_fact *);
		enum smtprobe_tls_severity sev;
		const char *what;
	} rules[] = {
	        {"cipher.null", is_null, SMTPROBE_SEV_CRITICAL,
	         "suites without encryption are accepted"},
	        {"cipher.anon", is_anon, SMTPROBE_SEV_CRITICAL,
	         "anonymous suites (no server authentication) are accepted"},
	        {"cipher.export", is_export, SMTPROBE_SEV_CRITICAL,
	         "export-grade suites are accepted (FREAK, Logjam)"},
	        {"cipher.rc4", is_rc4, SMTPROBE_SEV_HIGH,
	         "RC4 suites are accepted (RFC 7465 prohibits them)"},
	        {"cipher.3des", is_3des, SMTPROBE_SEV_MEDIUM,
	         "3DES suites are accepted (64-bit blocks: Sweet32)"},
	        {"cipher.no_pfs", is_no_pfs, SMTPROBE_SEV_MEDIUM,
	         "suites without forward secrecy are accepted (RSA key "
	         "exchange: a stolen key decrypts recorded mail)"},
	        {"cipher.cbc", is_cbc, SMTPROBE_SEV_LOW,
	         "CBC-mode suites are accepted (Lucky13-style attacks; prefer "
	         "AEAD)"},
	};
	char names[256];

	for (size_t i = 0; i < NELEM(rules); i++) {
		size_t n =
		        suites_where(o->p, rules[i].pick, names, sizeof(names));
		enum smtprobe_tls_severity sev = rules[i].sev;
		/* Anonymous suites on a port-25 MX without AUTH add nothing
		 * to what opportunistic TLS already allows (Postfix offers
		 * them there by default): high, not critical. */
		if (rules[i].pick == is_anon &&
		    !smtprobe_tls_trust_counts(o->p))
			sev = SMTPROBE_SEV_HIGH;
		if (n)
			add(o, rules[i].id, sev, SMTPROBE_ADV_TLS_CIPHERS,
			    "%s: %s", rules[i].what, names);
	}
}

static void judge_dh(struct out *o)
{
	const struct smtprobe_tls_posture *p = o->p;

	if (p->dh_bits <= 0)
		return;
	if (p->dh_bits < DH_MIN_BITS)
		add(o, "dh.weak",
		    p->dh_bits <= DH_INSECURE_BITS ? SMTPROBE_SEV_HIGH
		                                   : SMTPROBE_SEV_MEDIUM,
		    SMTPROBE_ADV_TLS_DH,
		    "DHE uses a %d-bit group%s%s (at least 2048 bits needed)",
		    p->dh_bits, p->dh_group ? ", " : "",
		    p->dh_group ? p->dh_group : " of its own");
	else if (!p->dh_group)
		add(o, "dh.custom", SMTPROBE_SEV_LOW, SMTPROBE_ADV_TLS_DH,
		    "DHE uses a %d-bit group of its own (NCSC-NL: use a named "
		    "group such as ffdhe3072)",
		    p->dh_bits);
	else if (strcmp(p->dh_group, "ffdhe2048") == 0)
		add(o, "dh.phase_out", SMTPROBE_SEV_INFO, SMTPROBE_ADV_TLS_DH,
		    "DHE uses ffdhe2048 (NCSC-NL: phase out)");
}

/* ---- the certificate ------------------------------------------------- */

static void judge_cert(struct out *o)
{
	const struct smtprobe_tls_posture *p = o->p;
	int counts = smtprobe_tls_trust_counts(p);
	enum smtprobe_tls_severity trust =
	        counts ? SMTPROBE_SEV_HIGH : SMTPROBE_SEV_INFO;
	const char *why = counts ? ""
	                         : " (a port-25 MX without AUTH: senders fall "
	                           "back to opportunistic TLS, RFC 7435)";

	if (!p->have_cert)
		return;
	if (p->days_left < 0)
		add(o, "cert.expired", trust, SMTPROBE_ADV_CERT_RENEW,
		    "the certificate expired %ld day%s ago%s", -p->days_left,
		    p->days_left == -1 ? "" : "s", why);
	else if (p->days_left < EXPIRES_SOON)
		add(o, "cert.expires_soon",
		    counts ? SMTPROBE_SEV_MEDIUM : SMTPROBE_SEV_LOW,
		    SMTPROBE_ADV_CERT_RENEW,
		    "the certificate expires in %ld day%s", p->days_left,
		    p->days_left == 1 ? "" : "s");
	if (p->not_yet_valid)
		add(o, "cert.not_yet_valid", trust, SMTPROBE_ADV_CERTIFICATE,
		    "the certificate is not valid yet (notBefore is in the "
		    "future: a clock or an early deployment)%s",
		    why);
	if (p->self_signed)
		add(o, "cert.self_signed", trust, SMTPROBE_ADV_CERTIFICATE,
		    "the certificate is self-signed%s", why);
	else if (p->trust_unknown)
		; /* no chain was verified: nothing to say of trust */
	else if (p->chain_incomplete)
		add(o, "cert.chain_incomplete", trust, SMTPROBE_ADV_CERTIFICATE,
		    "the chain is incomplete: the server does not send %s%s",
		    p->missing_issuer[0] ? p->missing_issuer
		                         : "an intermediate certificate",
		    why);
	else if (!p->trusted)
		add(o, "cert.untrusted", trust, SMTPROBE_ADV_CERTIFICATE,
		    "the chain does not verify: %s%s",
		    p->verify_reason[0] ? p->verify_reason : "untrusted", why);
	if (p->host_checked && !p->host_match)
		add(o, "cert.hostname_mismatch", trust,
		    SMTPROBE_ADV_CERTIFICATE,
		    "the certificate is not valid for %s%s", p->host, why);
	if ((strcmp(p->key_type, "RSA") == 0 && p->key_bits > 0 &&
	     p->key_bits < RSA_MIN_BITS) ||
	    (strcmp(p->key_type, "EC") == 0 && p->key_bits > 0 &&
	     p->key_bits < EC_MIN_BITS))
		add(o, "cert.key_weak", SMTPROBE_SEV_MEDIUM,
		    SMTPROBE_ADV_TLS_CERT_KEY,
		    "the certificate's key is %s-%d (at least RSA-2048 or "
		    "EC-256 needed)",
		    p->key_type, p->key_bits);
	if (strstr(p->sig_alg, "sha1") || strstr(p->sig_alg, "SHA1") ||
	    strstr(p->sig_alg, "md5") || strstr(p->sig_alg, "MD5"))
		add(o, "cert.sig_sha1",
		    strstr(p->sig_alg, "md5") || strstr(p->sig_alg, "MD5")
		            ? SMTPROBE_SEV_HIGH
		            : SMTPROBE_SEV_MEDIUM,
		    SMTPROBE_ADV_TLS_CERT_KEY,
		    "the certificate is signed with %s (collisions are "
		    "practical)",
		    p->sig_alg);
	if (p->lifetime_days > LIFETIME_MAX && !p->self_signed)
		add(o, "cert.lifetime_long", SMTPROBE_SEV_LOW,
		    SMTPROBE_ADV_LAST,
		    "the certificate is valid for %ld days (public CAs issue "
		    "at most %d: a shorter life limits what a stolen key can "
		    "do; automate the renewal)",
		    p->lifetime_days, LIFETIME_MAX);
	if (p->must_staple && p->ocsp_stapled == SMTPROBE_NO)
		add(o, "cert.must_staple_unstapled", trust,
		    SMTPROBE_ADV_TLS_OCSP,
		    "the certificate demands a stapled OCSP response "
		    "(must-staple, "
		    "RFC 7633) and none comes: clients that honour it refuse "
		    "the "
		    "connection%s",
		    why);
	if (p->chain_misordered)
		add(o, "cert.chain_order", SMTPROBE_SEV_LOW,
		    SMTPROBE_ADV_CERTIFICATE,
		    "the chain is sent out of order (a certificate not "
		    "followed "
		    "by its issuer): strict clients fail to build it");
	if (p->ocsp_stapled == SMTPROBE_NO && !p->must_staple)
		add(o, "ocsp.not_stapled", SMTPROBE_SEV_INFO,
		    SMTPROBE_ADV_TLS_OCSP, "no OCSP response is stapled");
}

/* ---- STARTTLS and the session ------------------------------------------ */

static void judge_session(struct out *o)
{
	const struct smtprobe_tls_posture *p = o->p;

	if (!p->implicit && !p->starttls_offered)
		add(o, "starttls.not_offered", SMTPROBE_SEV_HIGH,
		    SMTPROBE_ADV_NO_TLS,
		    "STARTTLS is not offered: mail%s travels in clear",
		    p->auth_offered ? " and credentials" : "");
	if (p->handshake_broken)
		add(o, "tls.handshake_failed", SMTPROBE_SEV_HIGH,
		    SMTPROBE_ADV_TLS_BROKEN,
		    "no TLS handshake completes: the server %s and then fails "
		    "(an alert or a hang-up); clients that require TLS cannot "
		    "deliver, the others fall back to clear text",
		    p->implicit ? "accepts the connection"
		                : "advertises STARTTLS");
	if (p->starttls_injection == SMTPROBE_YES)
		add(o, "starttls.injection", SMTPROBE_SEV_HIGH,
		    SMTPROBE_ADV_LAST,
		    "a command sent in clear right after STARTTLS was answered "
		    "inside TLS (CVE-2011-0411 class): an attacker on the path "
		    "can inject commands; upgrade the server");
	if (p->compression == SMTPROBE_YES)
		add(o, "compression.enabled", SMTPROBE_SEV_MEDIUM,
		    SMTPROBE_ADV_TLS_SESSION,
		    "TLS compression is accepted (CRIME)");
	if (p->secure_renegotiation == SMTPROBE_NO)
		add(o, "renegotiation.insecure", SMTPROBE_SEV_MEDIUM,
		    SMTPROBE_ADV_TLS_SESSION,
		    "secure renegotiation (RFC 5746) is not supported");
	if (p->client_renegotiation == SMTPROBE_YES)
		add(o, "renegotiation.client_initiated", SMTPROBE_SEV_LOW,
		    SMTPROBE_ADV_TLS_SESSION,
		    "the server carries out renegotiations the client starts "
		    "(each costs it a handshake: a cheap way to load it)");
	int versions = 0;
	for (int i = 0; i < SMTPROBE_TP_LAST; i++)
		versions += p->tested[i] && p->offered[i];
	if (p->fallback_scsv == SMTPROBE_NO && versions > 1)
		add(o, "fallback_scsv.missing", SMTPROBE_SEV_LOW,
		    SMTPROBE_ADV_TLS_PROTOCOLS,
		    "TLS_FALLBACK_SCSV is ignored: a man in the middle can "
		    "force a lower protocol version");
}

size_t smtprobe_tls_findings(const struct smtprobe_tls_posture *p,
                             struct smtprobe_tls_finding *out, size_t max)
{
	struct out o = {p, {out, 0, max, p->software}};

	judge_session(&o);
	judge_protocols(&o);
	judge_suites(&o);
	judge_dh(&o);
	judge_cert(&o);
	tlss_sort(out, o.l.n);
	return o.l.n;
}
