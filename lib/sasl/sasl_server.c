/* sasl_server.c - the server side of SMTP AUTH (RFC 4954) over GNU SASL,
 * for `smtprobe serve`.
 *
 * One exchange = one Gsasl context + one server session, created by
 * smtprobe_sasl_server_new() for PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-1 or
 * SCRAM-SHA-256 and torn down by smtprobe_sasl_server_free(). Any other
 * mechanism bit gives SMTPROBE_SASL_E_MECH. GSASL_SERVICE is "smtp",
 * GSASL_HOSTNAME the given host name ("localhost" when NULL), though GNU
 * SASL 2.2 ignores it for CRAM-MD5, whose challenge is always
 * "<digits.0@localhost>" (changing that would mean our own CRAM-MD5).
 * SCRAM gets a fixed iteration count (4096, RFC 7677's minimum) and a
 * fresh random 16-byte salt per exchange, set before the first step so
 * GNU SASL never asks for them.
 *
 * What GNU SASL 2.2 asks the callback (installed on the context, the
 * exchange found through the session hook):
 *   PLAIN, LOGIN      GSASL_VALIDATE_SIMPLE with GSASL_AUTHID/PASSWORD set
 *                     from the client; answered by looking the user up and
 *                     comparing in constant time (both sides SASLprep'ed
 *                     when that succeeds, byte-exact otherwise);
 *   CRAM-MD5, SCRAM   GSASL_PASSWORD for GSASL_AUTHID; answered from the
 *                     lookup, or left unset for an unknown user, which GNU
 *                     SASL reports as GSASL_NO_PASSWORD.
 * GNU SASL itself does not police the authorization identity (PLAIN's
 * first field, SCRAM's a=): when the mechanism succeeds we accept only an
 * absent or empty authzid or one equal to the authentication identity;
 * anything else is an authentication failure, as we grant no proxy
 * rights.
 *
 * Input: the client's text is decoded with the strict base64 decoder
 * (RFC 4648, padding required, no whitespace) into at most
 * SMTPROBE_MAX_SASL bytes before GNU SASL sees it; "=" as the initial
 * response means empty, NULL means AUTH came without one. Then:
 *   PLAIN     no data: MORE with "" (the client sends the blob after 334)
 *   LOGIN     the conventional prompts "Username:" / "Password:" replace
 *             GNU SASL's "User Name" / "Password"; an initial response is
 *             taken as the user name (some clients send AUTH LOGIN
 *             <user>)
 *   CRAM-MD5  takes no initial response (RFC 4954: 501); answers with the
 *             challenge
 *   SCRAM-*   the client-first must come as initial response or after an
 *             empty 334; GNU SASL's success carries the server-final,
 *             which goes out as a 334 and must be answered with an empty
 *             line before we say OK (SMTP has no data in 235). A
 *             client-first with gs2 flag "p" is refused (RFC 5802
 *             section 6: we offer no -PLUS), which GNU SASL 2.2 would
 *             let through when it has no channel binding data.
 * Results: MORE with base64 text for 334; OK; SMTPROBE_SASL_E_AUTH for
 * wrong credentials, an unknown user, an empty user name or a refused
 * authzid; E_DECODE for text that is not strict base64 or decodes to
 * more than SMTPROBE_MAX_SASL bytes; E_PROTOCOL when the mechanism cannot
 * parse the data (SASLprep and base64 failures inside it included),
 * for gs2 flag "p", for an initial response CRAM-MD5 does not take, for
 * data where an empty line was due, past SERVER_MAX_STEPS steps, or when
 * called after the end; E_NOMEM. After an error the exchange stays
 * failed. The user the client claimed (raw client bytes: escape before
 * logging) is kept even on failure.
 *
 * Secrets: decoded client data is wiped after each step; GNU SASL's
 * password-derived properties, its output buffers and our copies are
 * wiped with explicit_bzero before they are freed. GNU SASL's LOGIN keeps
 * its own copy of the password in mechanism state we cannot reach. */
#include "smtprobe/sasl_server.h"
#include "smtprobe/ehlo.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsasl.h>

#include "sasl_int.h"

#include "banned.h"

#define SERVER_MAX_ERROR 256
/* The longest legitimate exchange is SCRAM after AUTH without initial
 * response: empty, client-first, client-final, empty = 4 inputs. */
#define SERVER_MAX_STEPS 6
#define SCRAM_SALT_BYTES 16
#define SCRAM_ITER       "4096"
/* Base64 length of SMTPROBE_MAX_SASL bytes, the longest input we accept
 * and the longest challenge we may produce. */
#define SERVER_MAX_B64 (4 * ((SMTPROBE_MAX_SASL + 2) / 3))

static const struct server_mech {
	unsigned bit;
	const char *name;
	int initial; /* the client may send an initial response */
	int login;   /* LOGIN: rewrite the prompts, IR is the user name */
	int scram;
} mech_table[] = {
        {SMTPROBE_MECH_PLAIN, "PLAIN", 1, 0, 0},
        {SMTPROBE_MECH_LOGIN, "LOGIN", 1, 1, 0},
        {SMTPROBE_MECH_CRAM_MD5, "CRAM-MD5", 0, 0, 0},
        {SMTPROBE_MECH_SCRAM_SHA_1, "SCRAM-SHA-1", 1, 0, 1},
        {SMTPROBE_MECH_SCRAM_SHA_256, "SCRAM-SHA-256", 1, 0, 1},
};

/* GNU SASL's LOGIN prompts and the ones clients have seen since the
 * draft (draft-murchison-sasl-login). */
static const struct {
	const char *gsasl;
	const char *sent;
} login_prompts[] = {
        {"User Name", "Username:"},
        {"Password", "Password:"},
};

enum server_state {
	SERVER_NEW,     /* created, nothing fed yet */
	SERVER_WAITING, /* a 334 went out, the client's line is due */
	SERVER_FINAL,   /* success data went out, an empty line is due */
	SERVER_DONE,    /* authenticated */
	SERVER_FAILED,  /* an error was returned; no further steps */
	SERVER_STATE_LAST
};

static const char *const state_names[SERVER_STATE_LAST] = {
        [SERVER_NEW] = "new",       [SERVER_WAITING] = "waiting",
        [SERVER_FINAL] = "final",   [SERVER_DONE] = "done",
        [SERVER_FAILED] = "failed",
};

struct smtprobe_sasl_server {
	const struct server_mech *mech;
	enum server_state state;
	Gsasl *ctx;
	Gsasl_session *sess;
	smtprobe_sasl_lookup lookup;
	void *arg;
	unsigned steps;             /* inputs fed so far */
	unsigned data_steps;        /* of which non-empty */
	char *claimed;              /* GSASL_AUTHID as the client sent it */
	char *user;                 /* the authenticated identity, after OK */
	char err[SERVER_MAX_ERROR]; /* why it failed, for a debugger/log */
	unsigned char raw[SMTPROBE_MAX_SASL + 1]; /* decoded client data */
	char out[SERVER_MAX_B64 + 1];             /* encoded challenge */
};

static const struct server_mech *mech_find(unsigned bit)
{
	size_t i;

	for (i = 0; i < sizeof(mech_table) / sizeof(mech_table[0]); i++)
		if (mech_table[i].bit == bit)
			return &mech_table[i];
	return NULL;
}

static void vformat(char *dst, size_t dstsz, const char *fmt, va_list ap)
        __attribute__((format(printf, 3, 0)));

static void vformat(char *dst, size_t dstsz, const char *fmt, va_list ap)
{
	if (dst == NULL || dstsz == 0)
		return;
	/* a phrase cut short is still the right phrase */
	if (vsnprintf(dst, dstsz, fmt, ap) < 0)
		dst[0] = '\0';
}

static void format_err(char *dst, size_t dstsz, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void format_err(char *dst, size_t dstsz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vformat(dst, dstsz, fmt, ap);
	va_end(ap);
}

/* The single place where the exchange changes state. */
static void server_set_state(struct smtprobe_sasl_server *s,
                             enum server_state next)
{
	s->state = next;
}

/* Record why, move to FAILED and return rc, for `return fail(...)`. */
static int fail(struct smtprobe_sasl_server *s, int rc, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int fail(struct smtprobe_sasl_server *s, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vformat(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
	server_set_state(s, SERVER_FAILED);
	return rc;
}

static void wipe_gsasl_free(char *p, size_t len)
{
	if (p != NULL) {
		explicit_bzero(p, len);
		gsasl_free(p);
	}
}

/* Keep the identity the client claimed, for logs; a later step may
 * overwrite it (LOGIN sets it only when the password arrives). */
static void note_claimed(struct smtprobe_sasl_server *s)
{
	const char *authid = gsasl_property_fast(s->sess, GSASL_AUTHID);
	char *copy;

	if (authid == NULL ||
	    (s->claimed != NULL && strcmp(s->claimed, authid) == 0))
		return;
	copy = strdup(authid);
	if (copy == NULL)
		return; /* only the log line loses the name */
	free(s->claimed);
	s->claimed = copy;
}

/* Equality whose time depends on the length of the client's string, not
 * on where the strings differ. */
static int ct_equal(const char *given, const char *secret)
{
	size_t glen = strlen(given), slen = strlen(secret), i;
	unsigned char d = glen != slen;

	for (i = 0; i < glen; i++)
		d |= (unsigned char)given[i] ^
		     (unsigned char)(slen > 0 ? secret[i % slen] : 0);
	return d == 0;
}

/* SASLprep both sides the way GNU SASL's own fallback would; when either
 * cannot be prepared (invalid UTF-8, or a build without libidn for
 * non-ASCII) compare the bytes as they are. */
static int password_matches(const char *given, const char *secret)
{
	char *pg = NULL, *ps = NULL;
	int eq;

	if (gsasl_saslprep(given, GSASL_ALLOW_UNASSIGNED, &pg, NULL) ==
	            GSASL_OK &&
	    gsasl_saslprep(secret, GSASL_ALLOW_UNASSIGNED, &ps, NULL) ==
	            GSASL_OK)
		eq = ct_equal(pg, ps);
	else
		eq = ct_equal(given, secret);
	if (pg != NULL)
		wipe_gsasl_free(pg, strlen(pg));
	if (ps != NULL)
		wipe_gsasl_free(ps, strlen(ps));
	return eq;
}

static int validate_simple(struct smtprobe_sasl_server *s, Gsasl_session *sess)
{
	/* An unknown user costs a comparison too, so timing does not tell
	 * unknown users from wrong passwords. */
	static const char dummy[] = "smtprobe-no-such-user-password";
	const char *authid = gsasl_property_fast(sess, GSASL_AUTHID);
	const char *given = gsasl_property_fast(sess, GSASL_PASSWORD);
	const char *secret = NULL;
	int eq;

	if (authid == NULL || given == NULL)
		return GSASL_AUTHENTICATION_ERROR;
	if (authid[0] != '\0')
		secret = s->lookup(s->arg, authid);
	eq = password_matches(given, secret != NULL ? secret : dummy);
	if (secret == NULL) {
		format_err(s->err, sizeof(s->err), "unknown user");
		return GSASL_AUTHENTICATION_ERROR;
	}
	return eq ? GSASL_OK : GSASL_AUTHENTICATION_ERROR;
}

static int supply_password(struct smtprobe_sasl_server *s, Gsasl_session *sess)
{
	const char *authid = gsasl_property_fast(sess, GSASL_AUTHID);
	const char *secret;

	if (authid == NULL || authid[0] == '\0')
		return GSASL_NO_AUTHID;
	secret = s->lookup(s->arg, authid);
	if (secret == NULL) {
		format_err(s->err, sizeof(s->err), "unknown user");
		return GSASL_NO_PASSWORD;
	}
	return gsasl_property_set(sess, GSASL_PASSWORD, secret);
}

static int server_cb(Gsasl *ctx, Gsasl_session *sess, Gsasl_property prop)
{
	struct smtprobe_sasl_server *s = gsasl_session_hook_get(sess);

	(void)ctx;
	if (s == NULL)
		return GSASL_NO_CALLBACK;
	note_claimed(s);
	switch (prop) {
	case GSASL_VALIDATE_SIMPLE:
		return validate_simple(s, sess);
	case GSASL_PASSWORD:
		return supply_password(s, sess);
	default:
		/* SCRAM salt and count are preset; nothing else is served */
		return GSASL_NO_CALLBACK;
	}
}

static int scram_props(Gsasl_session *sess)
{
	char salt[SCRAM_SALT_BYTES];
	char b64[4 * ((SCRAM_SALT_BYTES + 2) / 3) + 1];
	int rc;

	rc = gsasl_random(salt, sizeof(salt));
	if (rc != GSASL_OK)
		return rc;
	if (smtprobe_base64_encode((const unsigned char *)salt, sizeof(salt),
	                           b64, sizeof(b64)) < 0)
		return GSASL_MALLOC_ERROR; /* cannot happen: sized above */
	rc = gsasl_property_set(sess, GSASL_SCRAM_SALT, b64);
	if (rc == GSASL_OK)
		rc = gsasl_property_set(sess, GSASL_SCRAM_ITER, SCRAM_ITER);
	return rc;
}

static int start_gsasl(struct smtprobe_sasl_server *s, const char *hostname,
                       char *err, size_t errsz)
{
	int rc;

	rc = gsasl_init(&s->ctx);
	if (rc != GSASL_OK) {
		s->ctx = NULL;
		format_err(err, errsz, "gnu sasl init failed: %s",
		           gsasl_strerror_name(rc));
		return rc == GSASL_MALLOC_ERROR ? SMTPROBE_SASL_E_NOMEM
		                                : SMTPROBE_SASL_E_MECH;
	}
	gsasl_callback_set(s->ctx, server_cb);
	if (!gsasl_server_support_p(s->ctx, s->mech->name)) {
		format_err(err, errsz,
		           "mechanism %s is not available in gnu sasl",
		           s->mech->name);
		return SMTPROBE_SASL_E_MECH;
	}
	rc = gsasl_server_start(s->ctx, s->mech->name, &s->sess);
	if (rc != GSASL_OK) {
		s->sess = NULL;
		format_err(err, errsz, "cannot start %s server: %s",
		           s->mech->name, gsasl_strerror_name(rc));
		return rc == GSASL_MALLOC_ERROR ? SMTPROBE_SASL_E_NOMEM
		                                : SMTPROBE_SASL_E_MECH;
	}
	gsasl_session_hook_set(s->sess, s);
	rc = gsasl_property_set(s->sess, GSASL_SERVICE, "smtp");
	if (rc == GSASL_OK)
		rc = gsasl_property_set(s->sess, GSASL_HOSTNAME,
		                        hostname != NULL && hostname[0]
		                                ? hostname
		                                : "localhost");
	if (rc == GSASL_OK && s->mech->scram)
		rc = scram_props(s->sess);
	if (rc != GSASL_OK) {
		format_err(err, errsz, "cannot set up %s server: %s",
		           s->mech->name, gsasl_strerror_name(rc));
		return rc == GSASL_MALLOC_ERROR ? SMTPROBE_SASL_E_NOMEM
		                                : SMTPROBE_SASL_E_MECH;
	}
	return 0;
}

int smtprobe_sasl_server_new(struct smtprobe_sasl_server **out, unsigned mech,
                             const char *hostname, smtprobe_sasl_lookup lookup,
                             void *arg, char *err, size_t errsz)
{
	const struct server_mech *m;
	struct smtprobe_sasl_server *s;
	int rc;

	if (err != NULL && errsz > 0)
		err[0] = '\0';
	if (out == NULL || lookup == NULL) {
		format_err(err, errsz, "no exchange or no user lookup");
		return SMTPROBE_SASL_E_MECH;
	}
	*out = NULL;
	m = mech_find(mech);
	if (m == NULL) {
		format_err(err, errsz, "unsupported server mechanism 0x%x",
		           mech);
		return SMTPROBE_SASL_E_MECH;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		format_err(err, errsz, "out of memory");
		return SMTPROBE_SASL_E_NOMEM;
	}
	s->mech = m;
	s->lookup = lookup;
	s->arg = arg;
	server_set_state(s, SERVER_NEW);
	rc = start_gsasl(s, hostname, err, errsz);
	if (rc < 0) {
		smtprobe_sasl_server_free(s);
		return rc;
	}
	*out = s;
	return SMTPROBE_SASL_OK;
}

static int map_gsasl_rc(int rc)
{
	switch (rc) {
	case GSASL_AUTHENTICATION_ERROR:
	case GSASL_NO_PASSWORD: /* the lookup found no such user */
	case GSASL_NO_AUTHID:   /* empty user name */
	case GSASL_NO_CALLBACK:
		return SMTPROBE_SASL_E_AUTH;
	case GSASL_MALLOC_ERROR:
		return SMTPROBE_SASL_E_NOMEM;
	default: /* parse, base64, SASLprep, too many steps, ... */
		return SMTPROBE_SASL_E_PROTOCOL;
	}
}

/* GNU SASL leaves the authorization identity to the application: allow
 * none, an empty one or the user's own. */
static int authz_ok(struct smtprobe_sasl_server *s)
{
	const char *authid = gsasl_property_fast(s->sess, GSASL_AUTHID);
	const char *authzid = gsasl_property_fast(s->sess, GSASL_AUTHZID);

	if (authid == NULL || authid[0] == '\0')
		return 0;
	return authzid == NULL || authzid[0] == '\0' ||
	       strcmp(authzid, authid) == 0;
}

/* LOGIN's conventional prompt for GNU SASL's, or o itself. */
static const char *login_prompt(const char *o, size_t *olen)
{
	size_t i;

	for (i = 0; i < sizeof(login_prompts) / sizeof(login_prompts[0]); i++)
		if (*olen == strlen(login_prompts[i].gsasl) &&
		    memcmp(o, login_prompts[i].gsasl, *olen) == 0) {
			*olen = strlen(login_prompts[i].sent);
			return login_prompts[i].sent;
		}
	return o;
}

/* The text of a challenge GNU SASL produced, LOGIN's prompts rewritten. */
static int encode_challenge(struct smtprobe_sasl_server *s, const char *o,
                            size_t olen)
{
	if (s->mech->login)
		o = login_prompt(o, &olen);
	if (olen == 0) {
		s->out[0] = '\0';
		return 0;
	}
	if (smtprobe_base64_encode((const unsigned char *)o, olen, s->out,
	                           sizeof(s->out)) < 0)
		return fail(s, SMTPROBE_SASL_E_PROTOCOL,
		            "%s challenge would exceed %d bytes", s->mech->name,
		            SMTPROBE_MAX_SASL);
	return 0;
}

/* One gsasl_step over n bytes of s->raw, which it wipes. */
static int server_turn(struct smtprobe_sasl_server *s, size_t n)
{
	char *o = NULL;
	size_t olen = 0;
	int rc, enc;

	if (++s->steps > SERVER_MAX_STEPS) {
		explicit_bzero(s->raw, n);
		return fail(s, SMTPROBE_SASL_E_PROTOCOL,
		            "%s exchange longer than %d steps", s->mech->name,
		            SERVER_MAX_STEPS);
	}
	rc = gsasl_step(s->sess, (const char *)s->raw, n, &o, &olen);
	explicit_bzero(s->raw, n);
	note_claimed(s);
	if (rc != GSASL_OK && rc != GSASL_NEEDS_MORE) {
		wipe_gsasl_free(o, olen);
		return fail(s, map_gsasl_rc(rc), "%s: %s", s->mech->name,
		            gsasl_strerror_name(rc));
	}
	if (rc == GSASL_OK && !authz_ok(s)) {
		wipe_gsasl_free(o, olen);
		return fail(s, SMTPROBE_SASL_E_AUTH,
		            "authorization identity refused");
	}
	enc = encode_challenge(s, o != NULL ? o : "", o != NULL ? olen : 0);
	wipe_gsasl_free(o, olen);
	if (enc < 0)
		return enc;
	if (rc == GSASL_NEEDS_MORE) {
		server_set_state(s, SERVER_WAITING);
		return SMTPROBE_SASL_MORE;
	}
	s->user = strdup(gsasl_property_fast(s->sess, GSASL_AUTHID));
	if (s->user == NULL)
		return fail(s, SMTPROBE_SASL_E_NOMEM, "out of memory");
	if (s->out[0] != '\0') {
		/* SCRAM's server-final: 334 it, then 235 on the empty line */
		server_set_state(s, SERVER_FINAL);
		return SMTPROBE_SASL_MORE;
	}
	server_set_state(s, SERVER_DONE);
	return SMTPROBE_SASL_OK;
}

/* Decode the client's text into s->raw; returns the length or an rc. */
static long decode_input(struct smtprobe_sasl_server *s, const char *input,
                         size_t len, int first)
{
	long n;

	if (input == NULL)
		return 0;
	if (first && len == 1 && input[0] == '=')
		return 0;
	if (len > SERVER_MAX_B64)
		return fail(s, SMTPROBE_SASL_E_DECODE,
		            "auth data larger than %d bytes",
		            SMTPROBE_MAX_SASL);
	n = smtprobe_base64_decode(input, len, s->raw, SMTPROBE_MAX_SASL);
	if (n < 0)
		return fail(s, SMTPROBE_SASL_E_DECODE, "undecodable auth data");
	return n;
}

int smtprobe_sasl_server_step(struct smtprobe_sasl_server *s, const char *input,
                              size_t len, const char **challenge)
{
	int first;
	long n;
	int rc;

	if (challenge != NULL)
		*challenge = NULL;
	if (s == NULL || challenge == NULL)
		return SMTPROBE_SASL_E_PROTOCOL;
	if (s->state == SERVER_DONE || s->state == SERVER_FAILED)
		return fail(s, SMTPROBE_SASL_E_PROTOCOL,
		            "auth data in state %s", state_names[s->state]);
	first = s->state == SERVER_NEW;
	if (input == NULL && (len > 0 || !first))
		return fail(s, SMTPROBE_SASL_E_PROTOCOL,
		            "missing auth data in state %s",
		            state_names[s->state]);
	if (first && input != NULL && !s->mech->initial)
		return fail(s, SMTPROBE_SASL_E_PROTOCOL,
		            "%s takes no initial response", s->mech->name);
	n = decode_input(s, input, len, first);
	if (n < 0)
		return (int)n;
	if (s->state == SERVER_FINAL) {
		explicit_bzero(s->raw, (size_t)n);
		if (n != 0)
			return fail(s, SMTPROBE_SASL_E_PROTOCOL,
			            "expected an empty line after %s success",
			            s->mech->name);
		server_set_state(s, SERVER_DONE);
		return SMTPROBE_SASL_OK;
	}
	if (first && s->mech->login && n > 0) {
		/* AUTH LOGIN <user>: GNU SASL's first step only prompts for
		 * the user name, which the client has already sent; an empty
		 * step leaves s->raw alone. */
		rc = server_turn(s, 0);
		if (rc < 0) {
			explicit_bzero(s->raw, (size_t)n);
			return rc;
		}
	}
	/* RFC 5802 section 6: gs2 flag "p" on a mechanism without -PLUS
	 * must fail; GNU SASL 2.2 lets it through with empty binding data
	 * when it has none (we never offer -PLUS). */
	if (s->mech->scram && s->data_steps == 0 && n > 0 && s->raw[0] == 'p') {
		explicit_bzero(s->raw, (size_t)n);
		return fail(s, SMTPROBE_SASL_E_PROTOCOL,
		            "channel binding asked for on %s", s->mech->name);
	}
	if (n > 0)
		s->data_steps++;
	rc = server_turn(s, (size_t)n);
	if (rc >= 0)
		*challenge = s->out;
	return rc;
}

const char *smtprobe_sasl_server_user(const struct smtprobe_sasl_server *s)
{
	if (s == NULL || s->state != SERVER_DONE || s->user == NULL)
		return "";
	return s->user;
}

const char *smtprobe_sasl_server_claimed(const struct smtprobe_sasl_server *s)
{
	if (s == NULL || s->claimed == NULL)
		return "";
	return s->claimed;
}

void smtprobe_sasl_server_free(struct smtprobe_sasl_server *s)
{
	if (s == NULL)
		return;
	if (s->sess != NULL) {
		sasl__wipe_secrets(s->sess);
		gsasl_finish(s->sess);
	}
	if (s->ctx != NULL)
		gsasl_done(s->ctx);
	free(s->claimed);
	free(s->user);
	explicit_bzero(s, sizeof(*s));
	free(s);
}
