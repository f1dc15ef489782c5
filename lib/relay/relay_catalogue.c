/* relay_catalogue.c - the relay tests of RELAY-TESTS.md as data, and their
 * expansion for one listener (pure: no I/O).
 *
 * A row is a template: %X the external domain, %Y it in upper case, %L
 * the local domain, %U it in upper case, %H the server's host name, %I its
 * address (no brackets), %O the user's own address, %P it with an
 * upper-case local part, %S another local sender, %T it in upper case, %A
 * the first allowed domain (or %X), %D the domain of a per-domain row, %R
 * a random number, %t our local part, %h our HELO name, %% a percent
 * sign; %I is written "IPv6:..." for an IPv6 address. A row whose
 * template needs a name we do not have, or whose conditions the listener
 * does not meet, is left out. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "smtprobe/relay.h"
#include "banned.h"

enum {
	NEED_AUTH = 1 << 0,     /* AUTH offered on the listener */
	NEED_USER = 1 << 1,     /* credentials given */
	NEED_STARTTLS = 1 << 2, /* STARTTLS offered (not implicit TLS) */
	NEED_KNOWN = 1 << 3,    /* a known user other than postmaster */
	PER_ALLOWED = 1 << 4,   /* one test per allowed domain (%D) */
	PER_DENIED = 1 << 5,    /* one test per denied domain (%D) */
	ROUTED = 1 << 6,        /* routed form at a name of the server's */
	CLEAR = 1 << 7,         /* no STARTTLS */
};

/* What to change when a row shows a hole: an advice topic, written out
 * for the software that answered once it is known (software.h). */
#define FIX_OPEN       SMTPROBE_ADV_OPEN_RELAY
#define FIX_SENDER     SMTPROBE_ADV_SENDER_DOMAIN
#define FIX_NULL       SMTPROBE_ADV_NULL_SENDER
#define FIX_HELO       SMTPROBE_ADV_HELO
#define FIX_ROUTED     SMTPROBE_ADV_ROUTED
#define FIX_ROUTE      SMTPROBE_ADV_SOURCE_ROUTE
#define FIX_SYNTAX     SMTPROBE_ADV_SYNTAX
#define FIX_AUTH_EDGE  SMTPROBE_ADV_AUTH_EDGE
#define FIX_CLEAR      SMTPROBE_ADV_RELAY_IN_CLEAR
#define FIX_B          SMTPROBE_ADV_IN_SCOPE_REFUSED
#define FIX_SPOOF      SMTPROBE_ADV_SPOOF
#define FIX_SPOOF_CASE SMTPROBE_ADV_SPOOF_CASE
#define FIX_NULL_AUTH  SMTPROBE_ADV_NULL_AFTER_AUTH
#define FIX_DENIED     SMTPROBE_ADV_DENIED_DOMAIN
#define FIX_NOAUTH_OWN SMTPROBE_ADV_NOAUTH_OWN
#define NOFIX          SMTPROBE_ADV_LAST

struct row {
	const char *id;
	enum smtprobe_relay_scenario scenario;
	enum smtprobe_relay_expect expect;
	enum smtprobe_relay_auth auth;
	unsigned flags;
	const char *helo; /* NULL: our HELO name */
	const char *mail;
	const char *rcpt;
	const char *title;
	enum smtprobe_advice_topic fix;
};

#define A   SMTPROBE_RELAY_A
#define B   SMTPROBE_RELAY_B
#define C   SMTPROBE_RELAY_C
#define REF SMTPROBE_EXPECT_REFUSED
#define CTL SMTPROBE_EXPECT_CONTROL
#define PRB SMTPROBE_EXPECT_PROBE
#define ACC SMTPROBE_EXPECT_ACCEPTED
#define SHD SMTPROBE_EXPECT_SHOULD_REFUSE
#define INF SMTPROBE_EXPECT_INFO
#define NO  SMTPROBE_RAUTH_NONE
#define USR SMTPROBE_RAUTH_USER

static const struct row rows[] = {
        /* controls: they decide whether a refusal means anything */
        {"A.control.postmaster", A, CTL, NO, 0, NULL, "<%t@%X>",
         "<postmaster@%L>", "postmaster at the local domain (RFC 5321)", NOFIX},
        {"A.control.local-user", A, CTL, NO, NEED_KNOWN, NULL, "<%t@%X>",
         "<%S>", "a known local user", NOFIX},
        {"A.control.random-local", A, PRB, NO, 0, NULL, "<%t@%X>", "<%t-%R@%L>",
         "a random local part (accepted = catch-all)", NOFIX},
        {"A.control.null-sender", A, CTL, NO, 0, NULL, "<>", "<postmaster@%L>",
         "the null sender to a local user (bounces)", NOFIX},
        /* sender variants, recipient outside */
        {"A.mail.external", A, REF, NO, 0, NULL, "<%t@%X>", "<%t@%X>",
         "external sender to external recipient", FIX_OPEN},
        {"A.mail.null", A, REF, NO, 0, NULL, "<>", "<%t@%X>", "null sender",
         FIX_NULL},
        {"A.mail.local", A, REF, NO, 0, NULL, "<%t@%L>", "<%t@%X>",
         "sender in the local domain (spoofed)", FIX_SENDER},
        {"A.mail.postmaster", A, REF, NO, 0, NULL, "<postmaster@%L>", "<%t@%X>",
         "postmaster of the local domain as sender", FIX_SENDER},
        {"A.mail.local-user", A, REF, NO, NEED_KNOWN, NULL, "<%S>", "<%t@%X>",
         "a known local user as sender", FIX_SENDER},
        {"A.mail.host", A, REF, NO, 0, NULL, "<%t@%H>", "<%t@%X>",
         "sender at the server's host name", FIX_SENDER},
        {"A.mail.ip", A, REF, NO, 0, NULL, "<%t@[%I]>", "<%t@%X>",
         "sender at the server's address literal", FIX_SENDER},
        {"A.mail.bare", A, REF, NO, 0, NULL, "<%t>", "<%t@%X>",
         "sender without a domain", FIX_SENDER},
        {"A.mail.localhost", A, REF, NO, 0, NULL, "<%t@localhost>", "<%t@%X>",
         "sender at localhost", FIX_SENDER},
        {"A.mail.subdomain", A, REF, NO, 0, NULL, "<%t@r%R.%L>", "<%t@%X>",
         "sender at a random sub-domain of the local domain", FIX_SENDER},
        {"A.mail.upper", A, REF, NO, 0, NULL, "<%t@%U>", "<%t@%X>",
         "sender in the local domain, upper case", FIX_SENDER},
        {"A.mail.bang", A, REF, NO, 0, NULL, "<%L!%t>", "<%t@%X>",
         "bang-path sender via the local domain", FIX_SENDER},
        /* recipient address tricks */
        {"A.rcpt.percent-ip", A, REF, NO, ROUTED, NULL, "<%t@%X>",
         "<%t%%%X@[%I]>", "percent hack via the address literal", FIX_ROUTED},
        {"A.rcpt.percent-host", A, REF, NO, ROUTED, NULL, "<%t@%X>",
         "<%t%%%X@%H>", "percent hack via the host name", FIX_ROUTED},
        {"A.rcpt.percent-local", A, REF, NO, ROUTED, NULL, "<%t@%X>",
         "<%t%%%X@%L>", "percent hack via the local domain", FIX_ROUTED},
        {"A.rcpt.percent-localhost", A, REF, NO, ROUTED, NULL, "<%t@%X>",
         "<%t%%%X@localhost>", "percent hack via localhost", FIX_ROUTED},
        {"A.rcpt.quoted", A, REF, NO, ROUTED, NULL, "<%t@%X>", "<\"%t@%X\">",
         "quoted local part holding the address", FIX_ROUTED},
        {"A.rcpt.quoted-percent", A, REF, NO, ROUTED, NULL, "<%t@%X>",
         "<\"%t%%%X\">", "quoted percent-hack local part", FIX_ROUTED},
        {"A.rcpt.quoted-ip", A, REF, NO, ROUTED, NULL, "<%t@%X>",
         "<\"%t@%X\"@[%I]>", "quoted address at the address literal",
         FIX_ROUTED},
        {"A.rcpt.quoted-local", A, REF, NO, ROUTED, NULL, "<%t@%X>",
         "<\"%t@%X\"@%L>", "quoted address at the local domain", FIX_ROUTED},
        {"A.rcpt.double-at-ip", A, REF, NO, ROUTED, NULL, "<%t@%X>",
         "<%t@%X@[%I]>", "double @ via the address literal", FIX_ROUTED},
        {"A.rcpt.double-at-host", A, REF, NO, ROUTED, NULL, "<%t@%X>",
         "<%t@%X@%H>", "double @ via the host name", FIX_ROUTED},
        {"A.rcpt.double-at-local", A, REF, NO, ROUTED, NULL, "<%t@%X>",
         "<%t@%X@%L>", "double @ via the local domain", FIX_ROUTED},
        {"A.rcpt.route-ip", A, REF, NO, 0, NULL, "<%t@%X>", "<@[%I]:%t@%X>",
         "source route via the address literal", FIX_ROUTE},
        {"A.rcpt.route-host", A, REF, NO, 0, NULL, "<%t@%X>", "<@%H:%t@%X>",
         "source route via the host name", FIX_ROUTE},
        {"A.rcpt.bang", A, REF, NO, ROUTED, NULL, "<%t@%X>", "<%X!%t>",
         "bang path", FIX_ROUTED},
        {"A.rcpt.bang-ip", A, REF, NO, ROUTED, NULL, "<%t@%X>", "<%X!%t@[%I]>",
         "bang path at the address literal", FIX_ROUTED},
        {"A.rcpt.bang-host", A, REF, NO, ROUTED, NULL, "<%t@%X>", "<%X!%t@%H>",
         "bang path at the host name", FIX_ROUTED},
        {"A.rcpt.trailing-dot", A, REF, NO, 0, NULL, "<%t@%X>", "<%t@%X.>",
         "external domain with a trailing dot", FIX_SYNTAX},
        {"A.rcpt.upper", A, REF, NO, 0, NULL, "<%t@%X>", "<%t@%Y>",
         "external domain in upper case", FIX_SYNTAX},
        {"A.rcpt.no-brackets", A, REF, NO, 0, NULL, "<%t@%X>", " %t@%X",
         "recipient without angle brackets", FIX_SYNTAX},
        /* HELO / client identity */
        {"A.helo.localhost", A, REF, NO, 0, "localhost", "<%t@%X>", "<%t@%X>",
         "HELO localhost", FIX_HELO},
        {"A.helo.localhost-localdomain", A, REF, NO, 0, "localhost.localdomain",
         "<%t@%X>", "<%t@%X>", "HELO localhost.localdomain", FIX_HELO},
        {"A.helo.host", A, REF, NO, 0, "%H", "<%t@%X>", "<%t@%X>",
         "HELO with the server's own host name", FIX_HELO},
        {"A.helo.ip", A, REF, NO, 0, "[%I]", "<%t@%X>", "<%t@%X>",
         "HELO with the server's address literal", FIX_HELO},
        {"A.helo.local", A, REF, NO, 0, "%L", "<%t@%X>", "<%t@%X>",
         "HELO with the local domain", FIX_HELO},
        /* AUTH and transport edges */
        {"A.auth.failed", A, REF, SMTPROBE_RAUTH_FAILED, NEED_AUTH, NULL,
         "<%t@%X>", "<%t@%X>", "relay after a failed AUTH (535)",
         FIX_AUTH_EDGE},
        {"A.auth.garbage", A, REF, SMTPROBE_RAUTH_GARBAGE, NEED_AUTH, NULL,
         "<%t@%X>", "<%t@%X>", "relay after an undecodable AUTH",
         FIX_AUTH_EDGE},
        {"A.auth.aborted", A, REF, SMTPROBE_RAUTH_ABORTED, NEED_AUTH, NULL,
         "<%t@%X>", "<%t@%X>", "relay after an AUTH cancelled with *",
         FIX_AUTH_EDGE},
        {"A.tls.skipped", A, REF, NO, NEED_STARTTLS | CLEAR, NULL, "<%t@%X>",
         "<%t@%X>", "relay in clear, STARTTLS skipped", FIX_CLEAR},
        /* B: authenticated, in scope */
        {"B.own.%D", B, ACC, USR, NEED_USER | PER_ALLOWED, NULL, "<%O>",
         "<%t@%D>", "own address to an allowed domain", FIX_B},
        /* C: authenticated, out of scope */
        {"C.other-sender", C, REF, USR, NEED_USER, NULL, "<%S>", "<%t@%A>",
         "another local user's address as sender", FIX_SPOOF},
        {"C.other-sender-case", C, REF, USR, NEED_USER, NULL, "<%T>", "<%t@%A>",
         "another local user's address in upper case", FIX_SPOOF_CASE},
        {"C.foreign-sender", C, REF, USR, NEED_USER, NULL, "<%t@%X>", "<%t@%A>",
         "a foreign-domain sender", FIX_SPOOF},
        {"C.null-sender", C, SHD, USR, NEED_USER, NULL, "<>", "<%t@%A>",
         "the null sender after AUTH", FIX_NULL_AUTH},
        {"C.own-case", C, INF, USR, NEED_USER, NULL, "<%P>", "<%t@%A>",
         "own address with an upper-case local part (the same mailbox "
         "to every real server: reported, not judged)",
         NOFIX},
        {"C.denied.%D", C, REF, USR, NEED_USER | PER_DENIED, NULL, "<%O>",
         "<%t@%D>", "own address to a forbidden domain", FIX_DENIED},
        {"C.no-auth-own", C, REF, NO, NEED_USER, NULL, "<%O>", "<%t@%A>",
         "the user's own address without AUTH", FIX_NOAUTH_OWN},
};

struct out {
	char *p;
	size_t left;
	int overflow;
};

static void put(struct out *o, const char *s, int upper, int upper_local)
{
	int in_local = 1;

	for (; s && *s; s++) {
		if (o->left <= 1) {
			o->overflow = 1;
			return;
		}
		char c = *s;
		if (c == '@')
			in_local = 0;
		if (upper || (upper_local && in_local))
			c = (char)toupper((unsigned char)c);
		*o->p++ = c;
		o->left--;
	}
	*o->p = '\0';
}

/* Expand tmpl into buf; 0 when a name it needs is missing or it does not
 * fit. */
static int expand(const char *tmpl, const struct smtprobe_relay_names *n,
                  const char *dom, char *buf, size_t bufsz)
{
	struct out o = {buf, bufsz, 0};
	char num[24];
	const char *first = n->nallowed ? n->allowed[0] : n->external;

	if (bufsz == 0)
		return 0;
	buf[0] = '\0';
	for (const char *s = tmpl; *s; s++) {
		if (*s != '%' || !s[1]) {
			char c[2] = {*s, '\0'};
			put(&o, c, 0, 0);
			continue;
		}
		const char *v = NULL;
		int up = 0, up_local = 0;
		switch (*++s) {
		case 'X':
			v = n->external;
			break;
		case 'Y':
			v = n->external;
			up = 1;
			break;
		case 'L':
			v = n->local;
			break;
		case 'U':
			v = n->local;
			up = 1;
			break;
		case 'H':
			v = n->host;
			break;
		case 'I':
			v = n->ip;
			break;
		case 'h':
			v = n->helo;
			break;
		case 'O':
			v = n->own;
			break;
		case 'P':
			v = n->own;
			up_local = 1;
			break;
		case 'S':
			v = n->other;
			break;
		case 'T':
			v = n->other;
			up = 1;
			break;
		case 'A':
			v = first;
			break;
		case 'D':
			v = dom;
			break;
		case 't':
			v = SMTPROBE_RELAY_LOCALPART;
			break;
		case 'R':
			snprintf(num, sizeof(num), "%d", n->random);
			v = num;
			break;
		case '%':
			v = "%";
			break;
		default:
			return 0;
		}
		if (!v || !v[0])
			return 0;
		put(&o, v, up, up_local);
	}
	return !o.overflow;
}

static int applies(const struct row *r, const struct smtprobe_relay_names *n)
{
	if ((r->flags & NEED_AUTH) && !n->auth_offered)
		return 0;
	if ((r->flags & NEED_USER) && !n->have_user)
		return 0;
	if ((r->flags & NEED_STARTTLS) && (!n->tls_offered || n->implicit_tls))
		return 0;
	if (r->flags & NEED_KNOWN) {
		/* the default other sender is postmaster: no second control */
		if (!n->other || !strncasecmp(n->other, "postmaster@", 11))
			return 0;
	}
	return 1;
}

static int build_one(const struct row *r, const struct smtprobe_relay_names *n,
                     const char *dom, unsigned port,
                     struct smtprobe_relay_test *t)
{
	memset(t, 0, sizeof(*t));
	if (!expand(r->id, n, dom, t->id, sizeof(t->id)) ||
	    !expand(r->helo ? r->helo : "%h", n, dom, t->helo,
	            sizeof(t->helo)) ||
	    !expand(r->mail, n, dom, t->mail_from, sizeof(t->mail_from)) ||
	    !expand(r->rcpt, n, dom, t->rcpt_to, sizeof(t->rcpt_to)))
		return 0;
	t->scenario = r->scenario;
	t->expect = r->expect;
	t->auth = r->auth;
	t->clear = (r->flags & CLEAR) != 0;
	t->routed_local = (r->flags & ROUTED) != 0;
	t->std_sender = r->scenario == SMTPROBE_RELAY_A &&
	                strcmp(r->mail, "<%t@%X>") == 0;
	t->ext_rcpt = strcmp(r->rcpt, "<%t@%X>") == 0 ||
	              strcmp(r->rcpt, "<%t@%Y>") == 0 ||
	              strcmp(r->rcpt, "<%t@%X.>") == 0;
	t->title = r->title;
	t->topic = r->fix;
	t->fix[0] = '\0'; /* written for the software, once known */
	t->port = port;
	t->outcome = SMTPROBE_OUT_SKIPPED;
	return 1;
}

size_t smtprobe_relay_build(const struct smtprobe_relay_names *n, unsigned port,
                            struct smtprobe_relay_test *out, size_t max)
{
	size_t k = 0;
	struct smtprobe_relay_names nn = *n;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		if (!applies(r, &nn))
			continue;
		const char *const *doms = NULL;
		size_t ndoms = 1;
		const char *ext[1] = {nn.external};
		if (r->flags & PER_ALLOWED) {
			doms = nn.nallowed ? nn.allowed : ext;
			ndoms = nn.nallowed ? nn.nallowed : 1;
		} else if (r->flags & PER_DENIED) {
			doms = nn.denied;
			ndoms = nn.ndenied;
		}
		for (size_t d = 0; d < ndoms && k < max; d++) {
			const char *dom = doms ? doms[d] : NULL;
			if (build_one(r, &nn, dom, port, &out[k]))
				k++;
		}
	}
	return k;
}
