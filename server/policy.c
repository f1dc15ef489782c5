/* policy.c - the decisions of `smtprobe serve`: may this client AUTH now,
 * may it use this sender, may it send to this recipient. Pure: a policy, a
 * client and an envelope in, a verdict out (no I/O, no allocation, no
 * state); the replies are Postfix's, with enhanced status codes.
 *
 * Addresses come from the network and are hostile. A recipient counts as
 * local only when it is plainly "local@domain": exactly one '@', both parts
 * non-empty, no '%', '!' or ':' routing, no control characters, blanks only
 * inside quotes, and a domain that is a local domain (case-insensitive,
 * exact: "example.test." is not "example.test"). Every other form (percent
 * hack, bang path, double '@', quoted "v@X", source route, trailing dot) is
 * a relay attempt and succeeds only where relaying is allowed anyway. A
 * sender never grants relaying. Addresses echoed in a reply are escaped
 * (\xNN for bytes outside printable ASCII) and elided with "..." beyond
 * ECHO_MAX bytes, so a reply always fits its field and the wire.
 *
 * Address comparison (sender ownership, known users): the local part is
 * compared exactly and the domain case-insensitively, so "alice@EXAMPLE.TEST"
 * is alice's address and "Alice@example.test" is not (RFC 5321 2.4: only
 * the receiving host may interpret the local part's case). "postmaster" is
 * matched case-insensitively, as RFC 5321 4.5.1 requires. */
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "policy.h"

#include "banned.h"

#define NELEM(a)  (sizeof(a) / sizeof((a)[0]))
#define ECHO_MAX  160 /* bytes of an address echoed in a reply */
#define ECHO_USER 64  /* bytes of a user name echoed in a reply */

/* The refusals: code, enhanced code, log reason (the text is built). */
enum refusal {
	R_AUTH_NOT_OFFERED,
	R_ENCRYPTION_REQUIRED,
	R_TLS_REQUIRED,
	R_AUTH_REQUIRED,
	R_SENDER_NOT_OWNED,
	R_TOO_MANY_RCPTS,
	R_RELAY_DENIED,
	R_UNKNOWN_USER,
	R_DOMAIN_NOT_ALLOWED,
	R_LAST
};

static const struct {
	int code;
	const char *enhanced;
	const char *reason;
} refusals[R_LAST] = {
        [R_AUTH_NOT_OFFERED] = {502, "5.5.1", "auth not offered"},
        [R_ENCRYPTION_REQUIRED] = {538, "5.7.11", "encryption required"},
        [R_TLS_REQUIRED] = {530, "5.7.0", "tls required"},
        [R_AUTH_REQUIRED] = {530, "5.7.0", "auth required"},
        [R_SENDER_NOT_OWNED] = {553, "5.7.1", "sender not owned"},
        [R_TOO_MANY_RCPTS] = {452, "4.5.3", "too many recipients"},
        [R_RELAY_DENIED] = {554, "5.7.1", "relay denied"},
        [R_UNKNOWN_USER] = {550, "5.1.1", "unknown user"},
        [R_DOMAIN_NOT_ALLOWED] = {550, "5.7.1", "recipient domain not allowed"},
};

static int accept_verdict(struct srv_verdict *v)
{
	v->code = 0;
	v->enhanced[0] = '\0';
	v->text[0] = '\0';
	v->reason = NULL;
	return 0;
}

static int refuse(struct srv_verdict *v, enum refusal r, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int refuse(struct srv_verdict *v, enum refusal r, const char *fmt, ...)
{
	va_list ap;
	int n;

	v->code = refusals[r].code;
	snprintf(v->enhanced, sizeof(v->enhanced), "%s", refusals[r].enhanced);
	v->reason = refusals[r].reason;
	va_start(ap, fmt);
	n = vsnprintf(v->text, sizeof(v->text), fmt, ap);
	va_end(ap);
	/* the echoes are capped so this can't happen; if it did, a reply
	 * without the echo beats a cut one */
	if (n < 0 || (size_t)n >= sizeof(v->text))
		snprintf(v->text, sizeof(v->text), "%s", v->reason);
	return v->code;
}

/* s escaped for a reply, at most max bytes of it. */
static const char *echo(char *out, size_t cap, const char *s, size_t max)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	for (i = 0; s[i] != '\0'; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (o + 8 >= cap || i >= max) {
			out[o++] = '.';
			out[o++] = '.';
			out[o++] = '.';
			break;
		}
		if (ch >= 0x20 && ch < 0x7f && ch != '\\') {
			out[o++] = (char)ch;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		}
	}
	out[o] = '\0';
	return out;
}

/* ---- addresses ---------------------------------------------------- */

struct addr {
	const char *local;
	size_t llen;
	const char *domain; /* NUL-terminated (the tail of the address) */
	int plain;          /* local@domain without routing or odd bytes */
};

/* Splits at the last '@' (a domain can't hold one) and judges the form. */
static void addr_split(const char *a, struct addr *out)
{
	const char *at = strrchr(a, '@');
	int quoted = 0, escaped = 0, ats = 0;
	size_t i;

	out->plain = 0;
	out->local = a;
	out->llen = at ? (size_t)(at - a) : strlen(a);
	out->domain = at ? at + 1 : "";
	for (i = 0; a[i] != '\0'; i++) {
		unsigned char ch = (unsigned char)a[i];

		if (ch < 0x20 || ch == 0x7f)
			return;
		if (escaped) {
			escaped = 0;
			continue;
		}
		if (quoted && ch == '\\') {
			escaped = 1;
			continue;
		}
		if (ch == '"')
			quoted = !quoted;
		else if (ch == '@')
			ats++;
		else if (ch == '%' || ch == '!' || ch == ':')
			return;
		else if (ch == ' ' && !quoted)
			return;
	}
	out->plain = ats == 1 && !quoted && out->llen > 0 && *out->domain;
}

/* Local part exact, domain case-insensitive; without '@', exact. */
static int addr_eq(const char *a, const char *b)
{
	const char *aa = strrchr(a, '@'), *ba = strrchr(b, '@');

	if (aa == NULL || ba == NULL)
		return aa == ba && strcmp(a, b) == 0;
	return aa - a == ba - b && memcmp(a, b, (size_t)(aa - a)) == 0 &&
	       strcasecmp(aa + 1, ba + 1) == 0;
}

static int is_postmaster(const struct srv_policy *p, const char *rcpt)
{
	struct addr a;

	if (strcasecmp(rcpt, "postmaster") == 0)
		return 1;
	addr_split(rcpt, &a);
	return a.plain && a.llen == 10 &&
	       strncasecmp(a.local, "postmaster", 10) == 0 &&
	       srv_is_local_domain(p, a.domain);
}

/* ".example.org" matches sub-domains only; "example.org" exactly. */
static int domain_allowed(const struct srv_user *u, const char *domain)
{
	size_t i, dlen = strlen(domain);

	if (u == NULL || u->nallowed == 0)
		return 1;
	for (i = 0; i < u->nallowed && i < SRV_MAX_USER_DOMAINS; i++) {
		const char *d = u->allowed[i];
		size_t len = strnlen(d, SRV_MAX_NAME);

		if (d[0] == '.') {
			if (dlen > len && domain[dlen - len - 1] != '.' &&
			    strcasecmp(domain + dlen - len, d) == 0)
				return 1;
		} else if (strcasecmp(domain, d) == 0) {
			return 1;
		}
	}
	return 0;
}

/* ---- lookups ------------------------------------------------------ */

const struct srv_user *srv_policy_user(const struct srv_policy *p,
                                       const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < p->nusers && i < SRV_MAX_USERS; i++) {
		if (strcmp(p->users[i].name, name) == 0)
			return &p->users[i];
	}
	return NULL;
}

int srv_net_contains(const struct srv_net *n, int family,
                     const unsigned char *addr)
{
	static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0,    0,
	                                           0, 0, 0, 0, 0xff, 0xff};
	unsigned full, rest, max = n->family == AF_INET ? 32 : 128;

	if (n->family != AF_INET && n->family != AF_INET6)
		return 0;
	if (n->prefix > max)
		return 0;
	/* A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d: they
	 * are IPv4 clients, matched by IPv4 networks only (so "::/0" does not
	 * quietly trust every IPv4 client). */
	if (family == AF_INET6 && memcmp(addr, v4mapped, 12) == 0) {
		family = AF_INET;
		addr += 12;
	}
	if (family != n->family)
		return 0;
	full = n->prefix / 8;
	rest = n->prefix % 8;
	if (memcmp(addr, n->addr, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((addr[full] ^ n->addr[full]) & (0xff00u >> rest) & 0xff) == 0;
}

int srv_is_local_domain(const struct srv_policy *p, const char *domain)
{
	size_t i;

	if (domain == NULL || *domain == '\0')
		return 0;
	for (i = 0; i < p->nlocal && i < SRV_MAX_DOMAINS; i++) {
		if (strcasecmp(domain, p->local_domains[i]) == 0)
			return 1;
	}
	return 0;
}

/* ---- decisions ---------------------------------------------------- */

/* NULL or "": not authenticated (an empty name never grants anything). */
static const char *auth_user(const struct srv_client *c)
{
	return c->auth_user != NULL && c->auth_user[0] != '\0' ? c->auth_user
	                                                       : NULL;
}

static int trusted(const struct srv_policy *p, const struct srv_client *c)
{
	size_t i;

	for (i = 0; i < p->ntrusted && i < SRV_MAX_NETS; i++) {
		if (srv_net_contains(&p->trusted[i], c->family, c->addr))
			return 1;
	}
	return 0;
}

/* Owned: in the user's owns list, or with none, name@local-domain for
 * every local domain and the name itself when it is an address. */
static int owns(const struct srv_policy *p, const char *name,
                const char *sender)
{
	const struct srv_user *u = srv_policy_user(p, name);
	struct addr a;
	size_t i, nlen = strlen(name);

	if (*sender == '\0')
		return 0;
	if (u != NULL && u->nowns > 0) {
		for (i = 0; i < u->nowns && i < SRV_MAX_ADDRS; i++) {
			if (addr_eq(u->owns[i], sender))
				return 1;
		}
		return 0;
	}
	if (strchr(name, '@') != NULL)
		return addr_eq(name, sender);
	addr_split(sender, &a);
	return a.llen == nlen && memcmp(a.local, name, nlen) == 0 &&
	       srv_is_local_domain(p, a.domain);
}

int srv_check_auth(const struct srv_policy *p, const struct srv_client *c,
                   struct srv_verdict *v)
{
	if (!p->offer_auth)
		return refuse(v, R_AUTH_NOT_OFFERED,
		              "Error: authentication not enabled");
	if (!c->tls && !p->auth_without_tls)
		return refuse(v, R_ENCRYPTION_REQUIRED,
		              "Encryption required for requested "
		              "authentication mechanism");
	return accept_verdict(v);
}

int srv_check_mail(const struct srv_policy *p, const struct srv_client *c,
                   const char *sender, struct srv_verdict *v)
{
	const char *user = auth_user(c);
	char es[ECHO_MAX + 8], eu[ECHO_USER + 8];

	if (sender == NULL)
		sender = "";
	if (p->require_tls && !c->tls)
		return refuse(v, R_TLS_REQUIRED,
		              "Must issue a STARTTLS command first");
	if (p->require_auth && user == NULL)
		return refuse(v, R_AUTH_REQUIRED, "Authentication required");
	if (p->sender_login_match && user != NULL && !owns(p, user, sender))
		return refuse(v, R_SENDER_NOT_OWNED,
		              "<%s>: Sender address rejected: not owned by "
		              "user %s",
		              echo(es, sizeof(es), sender, ECHO_MAX),
		              echo(eu, sizeof(eu), user, ECHO_USER));
	return accept_verdict(v);
}

int srv_check_rcpt(const struct srv_policy *p, const struct srv_client *c,
                   const char *sender, const char *rcpt, size_t nrcpt,
                   struct srv_verdict *v)
{
	const char *user = auth_user(c);
	const struct srv_user *u = srv_policy_user(p, user);
	char er[ECHO_MAX + 8], eu[ECHO_USER + 8], ed[ECHO_MAX + 8];
	struct addr a;

	if (rcpt == NULL)
		rcpt = "";
	if (p->max_recipients != 0 && nrcpt >= p->max_recipients)
		return refuse(v, R_TOO_MANY_RCPTS,
		              "Error: too many recipients");
	/* the MAIL checks again: a caller that skipped them can't relay */
	if (srv_check_mail(p, c, sender, v) != 0)
		return v->code;
	if (is_postmaster(p, rcpt))
		return accept_verdict(v);
	echo(er, sizeof(er), rcpt, ECHO_MAX);
	addr_split(rcpt, &a);

	/* least privilege first: it binds however the client may relay,
	 * and a routed address has no domain one could trust */
	if (user != NULL && u != NULL && u->nallowed > 0 &&
	    (!a.plain || !domain_allowed(u, a.domain)))
		return refuse(v, R_DOMAIN_NOT_ALLOWED,
		              "<%s>: Recipient address rejected: user %s may "
		              "not send to %s",
		              er, echo(eu, sizeof(eu), user, ECHO_USER),
		              a.plain ? echo(ed, sizeof(ed), a.domain, ECHO_MAX)
		                      : er);

	if (a.plain && srv_is_local_domain(p, a.domain)) {
		char local[SRV_MAX_NAME];

		if (!p->known_recipients)
			return accept_verdict(v);
		if (a.llen < sizeof(local)) {
			size_t i;

			memcpy(local, a.local, a.llen);
			local[a.llen] = '\0';
			if (srv_policy_user(p, local) != NULL)
				return accept_verdict(v);
			for (i = 0; i < p->nusers && i < SRV_MAX_USERS; i++) {
				if (addr_eq(p->users[i].name, rcpt))
					return accept_verdict(v);
			}
		}
		return refuse(v, R_UNKNOWN_USER,
		              "<%s>: Recipient address rejected: User unknown "
		              "in local recipient table",
		              er);
	}
	if (p->open_relay || trusted(p, c) || user != NULL)
		return accept_verdict(v);
	return refuse(v, R_RELAY_DENIED, "<%s>: Relay access denied", er);
}
