/* software.h - which mail server software answers, recognised from what
 * it says (banner, EHLO keywords, the wording of its replies), and advice
 * written for that software (part of the knowledge base).
 *
 * Recognition is additive: every session's result adds its evidence
 * (smtprobe_software_learn), and the guess is the software with the most;
 * a name in the banner is near certain, a vendor's refusal wording or an
 * EHLO keyword only its own is good evidence, several together better.
 * Advice is one table of topics (an open relay, AUTH in clear, a broken
 * STARTTLS ...) with a general statement and each vendor's fix: when the
 * software is known, its fix comes alone; when it is not, every vendor's. */
#ifndef SMTPROBE_SOFTWARE_H
#define SMTPROBE_SOFTWARE_H

#include <stddef.h>

#include "kb.h"
#include "session.h"

enum smtprobe_software {
	SMTPROBE_SW_UNKNOWN,
	SMTPROBE_SW_POSTFIX,
	SMTPROBE_SW_EXIM,
	SMTPROBE_SW_SENDMAIL,
	SMTPROBE_SW_OPENSMTPD,
	SMTPROBE_SW_EXCHANGE, /* Exchange and Microsoft 365 */
	SMTPROBE_SW_IIS,      /* the IIS SMTP service */
	SMTPROBE_SW_QMAIL,
	SMTPROBE_SW_HARAKA,
	SMTPROBE_SW_HMAILSERVER,
	SMTPROBE_SW_MDAEMON,
	SMTPROBE_SW_GMAIL,
	SMTPROBE_SW_DOVECOT,  /* LMTP, submission */
	SMTPROBE_SW_SMTPROBE, /* smtprobe serve */
	SMTPROBE_SW_LAST
};

struct smtprobe_software_guess {
	enum smtprobe_software id;
	const char *confidence; /* "high", "medium", "low", or "" (unknown) */
	char version[32];       /* when the banner says, else "" */
	char evidence[200];     /* what gave it away, escaped */
	int score[SMTPROBE_SW_LAST];
	unsigned long long seen; /* clues already counted (each counts once) */
};

/* "Postfix", "Exim" ... ("unknown"); and "postfix", "exim" for JSON. */
const char *smtprobe_software_name(enum smtprobe_software sw);
const char *smtprobe_software_key(enum smtprobe_software sw);

void smtprobe_software_init(struct smtprobe_software_guess *g);
/* Add what one session showed: its banners, its EHLO keywords and the
 * text of every reply. */
void smtprobe_software_learn(struct smtprobe_software_guess *g,
                             const struct smtprobe_result *r);
/* The same from bare texts (a banner line, an EHLO line, a reply line). */
void smtprobe_software_learn_text(struct smtprobe_software_guess *g,
                                  const char *text, int is_banner);

/* ---- advice ------------------------------------------------------------ */

enum smtprobe_advice_topic {
	SMTPROBE_ADV_OPEN_RELAY,     /* relays for anyone */
	SMTPROBE_ADV_SENDER_DOMAIN,  /* relays because of the envelope sender */
	SMTPROBE_ADV_NULL_SENDER,    /* relays for the null sender */
	SMTPROBE_ADV_HELO,           /* relays because of the HELO name */
	SMTPROBE_ADV_ROUTED,         /* percent hack, bang path, quoted, @@ */
	SMTPROBE_ADV_SOURCE_ROUTE,   /* @hop:user@domain */
	SMTPROBE_ADV_SYNTAX,         /* trailing dot, case, no brackets */
	SMTPROBE_ADV_AUTH_EDGE,      /* relays after a failed or aborted AUTH */
	SMTPROBE_ADV_RELAY_IN_CLEAR, /* relays for a client that skipped TLS */
	SMTPROBE_ADV_IN_SCOPE_REFUSED, /* an authenticated send refused */
	SMTPROBE_ADV_SPOOF,      /* an authenticated user sends as another */
	SMTPROBE_ADV_SPOOF_CASE, /* ... in other letter case */
	SMTPROBE_ADV_NULL_AFTER_AUTH, /* the null sender after AUTH */
	SMTPROBE_ADV_DENIED_DOMAIN,   /* the user reaches forbidden domains */
	SMTPROBE_ADV_NOAUTH_OWN, /* relays for a local address without AUTH */
	SMTPROBE_ADV_AUTH_IN_CLEAR, /* AUTH offered before TLS */
	SMTPROBE_ADV_NO_TLS,        /* STARTTLS not offered */
	SMTPROBE_ADV_TLS_BROKEN,    /* STARTTLS offered, handshakes fail */
	SMTPROBE_ADV_CERTIFICATE,   /* expired, untrusted, wrong name */
	SMTPROBE_ADV_CERT_RENEW,    /* expires soon */
	SMTPROBE_ADV_TLS_PROTOCOLS, /* SSLv3, TLS 1.0/1.1 on; 1.2/1.3 off */
	SMTPROBE_ADV_TLS_CIPHERS,   /* NULL, anon, EXPORT, RC4, 3DES, no PFS */
	SMTPROBE_ADV_TLS_DH,        /* DHE with a weak or custom group */
	SMTPROBE_ADV_TLS_CERT_KEY,  /* small key, SHA-1 signature */
	SMTPROBE_ADV_TLS_SESSION,   /* compression, insecure renegotiation */
	SMTPROBE_ADV_TLS_OCSP,      /* no OCSP stapling */
	SMTPROBE_ADV_BANNER_NAME,   /* banner / EHLO name is not the PTR's */
	SMTPROBE_ADV_LAST
};

#define SMTPROBE_ADVICE_MAX 8

/* The fix lines of a topic for this software: its own line (none when it
 * has none: another product's setting would mislead), or every vendor's
 * when the software is unknown; each vendor line starts with the vendor's
 * name ("Exim: ..."). The
 * general statement of the topic is *what (may be NULL). Returns how many
 * lines were written to out (at most max). */
size_t smtprobe_advice(enum smtprobe_advice_topic t, enum smtprobe_software sw,
                       const char **what, const char **out, size_t max);
/* The same joined into one line ("what: Exim: ...; ..."), cut to outsz. */
void smtprobe_advice_text(enum smtprobe_advice_topic t,
                          enum smtprobe_software sw, char *out, size_t outsz);

/* A knowledge-base entry's fixes for this software: the vendor-neutral
 * ones and the software's own ("Postfix: ..."); every vendor's when the
 * software is unknown. Returns how many were written (at most max). */
size_t smtprobe_kb_fixes(const struct smtprobe_kb_entry *e,
                         enum smtprobe_software sw, const char **out,
                         size_t max);

#endif
