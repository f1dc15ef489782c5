/* sasl.c - the client side of SMTP AUTH (RFC 4954) over GNU SASL.
 *
 * One exchange = one Gsasl context + one client session, created by
 * smtprobe_sasl_new() and torn down by smtprobe_sasl_free(). GNU SASL
 * drives PLAIN, LOGIN, CRAM-MD5, DIGEST-MD5, SCRAM-SHA-1, SCRAM-SHA-256 and
 * NTLM with pre-set properties (no callback is installed: the library asks
 * the callback only for properties that are not set, and "no callback"
 * reads as "not available"). XOAUTH2 and OAUTHBEARER (RFC 7628) are plain
 * string formats built here.
 *
 * Flow: start() yields the initial response for PLAIN, SCRAM-*, NTLM and
 * the OAuth mechanisms, NULL for LOGIN, CRAM-MD5 and DIGEST-MD5, which
 * take their first step on the server's first 334. start() returns MORE
 * while the mechanism expects challenges and OK when the client has said
 * everything (PLAIN, XOAUTH2, OAUTHBEARER). Every successful step() hands
 * back text to send, "" meaning an empty line (e.g. after a SCRAM
 * server-final or a DIGEST-MD5 rspauth).
 *
 * Bad input: a challenge is decoded here with a strict base64 decoder
 * (RFC 4648, padding required, no whitespace, zero pad bits) before GNU
 * SASL sees it; undecodable or larger than SMTPROBE_MAX_SASL decoded bytes
 * gives SMTPROBE_SASL_E_DECODE. A mechanism that rejects a challenge gives
 * E_PROTOCOL with GNU SASL's reason in lower case; a SCRAM server
 * signature that does not verify gives E_SERVER. A SCRAM iteration count
 * above SCRAM_MAX_ITER is refused before any hashing, so a hostile server
 * cannot make the client spin. After an error the exchange stays failed.
 * Responses longer than SMTPROBE_MAX_SASL base64 characters are refused,
 * never truncated. Error phrases are cut to fit their buffer; server text
 * in them is escaped to printable ASCII.
 *
 * Secrets: the password/token copy, GNU SASL's secret properties, its
 * output buffers and our response/challenge buffers are wiped with
 * explicit_bzero before they are freed. */
#include "smtprobe/sasl.h"
#include "smtprobe/ehlo.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsasl.h>

#include "sasl_int.h"

#include "banned.h"

/* SCRAM's PBKDF2 runs the server-chosen count; RFC 7677 asks for at least
 * 4096 and real servers stay far below this. */
#define SCRAM_MAX_ITER 1000000UL
#define SASL_MAX_ERROR 512
/* Base64 length of SMTPROBE_MAX_SASL bytes, the longest challenge we can
 * accept. */
#define SASL_MAX_CHALLENGE_B64 (4 * ((SMTPROBE_MAX_SASL + 2) / 3))

enum sasl_backend {
	BACKEND_GSASL,
	BACKEND_XOAUTH2,
	BACKEND_OAUTHBEARER,
};

static const struct mech_info {
	unsigned bit;
	const char *name;
	enum sasl_backend backend;
	int initial;    /* sends an initial response with AUTH */
	int needs_host; /* refuses to start without params->host */
	int scram;
} mech_table[] = {
        {SMTPROBE_MECH_PLAIN, "PLAIN", BACKEND_GSASL, 1, 0, 0},
        {SMTPROBE_MECH_LOGIN, "LOGIN", BACKEND_GSASL, 0, 0, 0},
        {SMTPROBE_MECH_CRAM_MD5, "CRAM-MD5", BACKEND_GSASL, 0, 0, 0},
        {SMTPROBE_MECH_DIGEST_MD5, "DIGEST-MD5", BACKEND_GSASL, 0, 1, 0},
        {SMTPROBE_MECH_SCRAM_SHA_1, "SCRAM-SHA-1", BACKEND_GSASL, 1, 0, 1},
        {SMTPROBE_MECH_SCRAM_SHA_256, "SCRAM-SHA-256", BACKEND_GSASL, 1, 0, 1},
        {SMTPROBE_MECH_NTLM, "NTLM", BACKEND_GSASL, 1, 0, 0},
        {SMTPROBE_MECH_XOAUTH2, "XOAUTH2", BACKEND_XOAUTH2, 1, 0, 0},
        {SMTPROBE_MECH_OAUTHBEARER, "OAUTHBEARER", BACKEND_OAUTHBEARER, 1, 0,
         0},
};

enum sasl_state {
	SASL_NEW,     /* created, start() not called yet */
	SASL_WAITING, /* the mechanism expects (more) challenges */
	SASL_DONE,    /* the client has said everything */
	SASL_FAILED,  /* an error was returned; no further steps */
	SASL_STATE_LAST
};

static const char *const state_names[SASL_STATE_LAST] = {
        [SASL_NEW] = "new",
        [SASL_WAITING] = "waiting",
        [SASL_DONE] = "done",
        [SASL_FAILED] = "failed",
};

struct smtprobe_sasl {
	const struct mech_info *mech;
	enum sasl_state state;
	Gsasl *ctx;
	Gsasl_session *sess;
	unsigned steps; /* gsasl_step calls so far, the start one included */
	int verified;
	int oauth_error_seen;
	char *user;
	char *secret; /* password or bearer token */
	char *host;
	unsigned port;
	char err[SASL_MAX_ERROR];
	unsigned char raw[SMTPROBE_MAX_SASL + 1]; /* decoded challenge */
	char out[SMTPROBE_MAX_SASL + 1];          /* encoded response */
};

static const char b64_alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long smtprobe_base64_decode(const char *in, size_t len, unsigned char *out,
                            size_t outsz)
{
	size_t pad = 0, need, i, o = 0;

	if (len % 4 != 0)
		return -1;
	if (len == 0)
		return 0;
	if (in[len - 1] == '=')
		pad = in[len - 2] == '=' ? 2 : 1;
	need = len / 4 * 3 - pad;
	if (need > outsz || need > (size_t)0x7fffffff)
		return -1;
	for (i = 0; i < len; i += 4) {
		int v[4];
		size_t k, quad_pad = i + 4 == len ? pad : 0;

		for (k = 0; k < 4; k++) {
			if (k >= 4 - quad_pad) {
				v[k] = 0; /* checked to be '=' above */
				continue;
			}
			v[k] = b64_value((unsigned char)in[i + k]);
			if (v[k] < 0)
				return -1;
		}
		/* Non-zero bits under the padding would make two inputs
		 * decode alike; refuse them so decoding is one-to-one. */
		if (quad_pad == 1 && (v[2] & 0x03) != 0)
			return -1;
		if (quad_pad == 2 && (v[1] & 0x0f) != 0)
			return -1;
		out[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		if (quad_pad < 2)
			out[o++] =
			        (unsigned char)((v[1] & 0x0f) << 4 | v[2] >> 2);
		if (quad_pad < 1)
			out[o++] = (unsigned char)((v[2] & 0x03) << 6 | v[3]);
	}
	return (long)o;
}

long smtprobe_base64_encode(const unsigned char *in, size_t len, char *out,
                            size_t outsz)
{
	size_t i, o = 0, need;

	if (len > ((size_t)0x7fffffff - 1) / 4 * 3)
		return -1;
	need = (len + 2) / 3 * 4;
	if (out == NULL || outsz < need + 1)
		return -1;
	for (i = 0; i + 2 < len; i += 3) {
		unsigned long v = (unsigned long)in[i] << 16 |
		                  (unsigned long)in[i + 1] << 8 | in[i + 2];

		out[o++] = b64_alphabet[v >> 18 & 0x3f];
		out[o++] = b64_alphabet[v >> 12 & 0x3f];
		out[o++] = b64_alphabet[v >> 6 & 0x3f];
		out[o++] = b64_alphabet[v & 0x3f];
	}
	if (i < len) {
		unsigned long v = (unsigned long)in[i] << 16;

		if (i + 1 < len)
			v |= (unsigned long)in[i + 1] << 8;
		out[o++] = b64_alphabet[v >> 18 & 0x3f];
		out[o++] = b64_alphabet[v >> 12 & 0x3f];
		out[o++] = i + 1 < len ? b64_alphabet[v >> 6 & 0x3f] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return (long)o;
}

static const struct mech_info *mech_find(unsigned bit)
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
	int n;

	if (dst == NULL || dstsz == 0)
		return;
	n = vsnprintf(dst, dstsz, fmt, ap);
	if (n < 0)
		dst[0] = '\0';
	/* n >= dstsz: an error phrase cut short is still the right phrase */
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
static void sasl_set_state(struct smtprobe_sasl *s, enum sasl_state next)
{
	s->state = next;
}

/* Record an error, move to FAILED and return rc, for `return fail(...)`. */
static int fail(struct smtprobe_sasl *s, int rc, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int fail(struct smtprobe_sasl *s, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vformat(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
	sasl_set_state(s, SASL_FAILED);
	return rc;
}

/* GNU SASL's message for rc, lower case, no full stop. */
static void gsasl_phrase(int rc, char *dst, size_t dstsz)
{
	const char *msg = gsasl_strerror(rc);
	size_t i, n;

	if (msg == NULL)
		msg = "unknown gnu sasl error";
	format_err(dst, dstsz, "%s", msg);
	n = strlen(dst);
	for (i = 0; i < n; i++)
		dst[i] = (char)tolower((unsigned char)dst[i]);
	while (n > 0 && (dst[n - 1] == '.' || dst[n - 1] == ' '))
		dst[--n] = '\0';
}

static int map_gsasl_rc(int rc)
{
	if (rc == GSASL_MALLOC_ERROR)
		return SMTPROBE_SASL_E_NOMEM;
	return SMTPROBE_SASL_E_PROTOCOL;
}

/* Server text made safe for an error phrase: printable ASCII, the rest
 * (and the backslash) as \xNN; stops before dst would overflow. */
static void escape_text(const unsigned char *in, size_t len, char *dst,
                        size_t dstsz)
{
	size_t i, o = 0;

	if (dstsz == 0)
		return;
	for (i = 0; i < len; i++) {
		unsigned char c = in[i];

		if (c >= 0x20 && c < 0x7f && c != '\\') {
			if (o + 1 >= dstsz)
				break;
			dst[o++] = (char)c;
		} else {
			if (o + 4 >= dstsz)
				break;
			format_err(dst + o, dstsz - o, "\\x%02x", c);
			o += 4;
		}
	}
	dst[o] = '\0';
}

static int has_ctl(const char *p)
{
	for (; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			return 1;
	return 0;
}

static void wipe_free(char *p)
{
	if (p != NULL) {
		explicit_bzero(p, strlen(p));
		free(p);
	}
}

void sasl__wipe_secrets(Gsasl_session *sess)
{
	static const Gsasl_property secret[] = {
	        GSASL_PASSWORD,
	        GSASL_SCRAM_SALTED_PASSWORD,
	        GSASL_SCRAM_SERVERKEY,
	        GSASL_SCRAM_STOREDKEY,
	        GSASL_DIGEST_MD5_HASHED_PASSWORD,
	};
	size_t i;

	for (i = 0; i < sizeof(secret) / sizeof(secret[0]); i++) {
		char *v = (char *)gsasl_property_fast(sess, secret[i]);

		if (v != NULL)
			explicit_bzero(v, strlen(v));
	}
}

static int set_prop(Gsasl_session *sess, Gsasl_property prop, const char *v)
{
	if (v == NULL)
		return GSASL_OK;
	return gsasl_property_set(sess, prop, v);
}

static int start_gsasl(struct smtprobe_sasl *s,
                       const struct smtprobe_sasl_params *p, char *err,
                       size_t errsz)
{
	char phrase[SASL_MAX_ERROR];
	int rc;

	rc = gsasl_init(&s->ctx);
	if (rc != GSASL_OK) {
		s->ctx = NULL;
		gsasl_phrase(rc, phrase, sizeof(phrase));
		format_err(err, errsz, "gnu sasl init failed: %s", phrase);
		return rc == GSASL_MALLOC_ERROR ? SMTPROBE_SASL_E_NOMEM
		                                : SMTPROBE_SASL_E_MECH;
	}
	if (!gsasl_client_support_p(s->ctx, s->mech->name)) {
		format_err(err, errsz,
		           "mechanism %s is not available in gnu sasl",
		           s->mech->name);
		return SMTPROBE_SASL_E_MECH;
	}
	rc = gsasl_client_start(s->ctx, s->mech->name, &s->sess);
	if (rc != GSASL_OK) {
		s->sess = NULL;
		gsasl_phrase(rc, phrase, sizeof(phrase));
		format_err(err, errsz, "cannot start %s: %s", s->mech->name,
		           phrase);
		return rc == GSASL_MALLOC_ERROR ? SMTPROBE_SASL_E_NOMEM
		                                : SMTPROBE_SASL_E_MECH;
	}
	if ((rc = set_prop(s->sess, GSASL_AUTHID, p->user)) != GSASL_OK ||
	    (rc = set_prop(s->sess, GSASL_PASSWORD, p->password)) != GSASL_OK ||
	    (rc = set_prop(s->sess, GSASL_AUTHZID, p->authzid)) != GSASL_OK ||
	    (rc = set_prop(s->sess, GSASL_SERVICE, "smtp")) != GSASL_OK ||
	    (rc = set_prop(s->sess, GSASL_HOSTNAME, p->host)) != GSASL_OK) {
		format_err(err, errsz, "out of memory");
		return SMTPROBE_SASL_E_NOMEM;
	}
	return 0;
}

static char *dup_or_null(const char *v, int *nomem)
{
	char *c;

	if (v == NULL)
		return NULL;
	c = strdup(v);
	if (c == NULL)
		*nomem = 1;
	return c;
}

int smtprobe_sasl_new(struct smtprobe_sasl **out,
                      const struct smtprobe_sasl_params *params, char *err,
                      size_t errsz)
{
	const struct mech_info *mech;
	struct smtprobe_sasl *s;
	int rc, nomem = 0;

	if (err != NULL && errsz > 0)
		err[0] = '\0';
	if (out == NULL || params == NULL) {
		format_err(err, errsz, "no exchange parameters");
		return SMTPROBE_SASL_E_MECH;
	}
	*out = NULL;
	mech = mech_find(params->mech);
	if (mech == NULL) {
		format_err(err, errsz, "unknown sasl mechanism 0x%x",
		           params->mech);
		return SMTPROBE_SASL_E_MECH;
	}
	if (params->user == NULL || params->user[0] == '\0' ||
	    params->password == NULL) {
		format_err(
		        err, errsz, "%s needs a user name and a %s", mech->name,
		        mech->backend == BACKEND_GSASL ? "password" : "token");
		return SMTPROBE_SASL_E_MECH;
	}
	if (mech->needs_host && (params->host == NULL || !params->host[0])) {
		format_err(err, errsz, "%s needs the server host name",
		           mech->name);
		return SMTPROBE_SASL_E_MECH;
	}
	/* The OAuth formats separate fields with \x01 and carry no
	 * escaping for it; a control byte would forge a field. */
	if (mech->backend != BACKEND_GSASL &&
	    (has_ctl(params->user) || has_ctl(params->password) ||
	     (params->host != NULL && has_ctl(params->host)))) {
		format_err(err, errsz,
		           "%s user, token and host must not contain control "
		           "characters",
		           mech->name);
		return SMTPROBE_SASL_E_MECH;
	}

	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		format_err(err, errsz, "out of memory");
		return SMTPROBE_SASL_E_NOMEM;
	}
	s->mech = mech;
	sasl_set_state(s, SASL_NEW);
	s->port = params->port;
	if (mech->backend != BACKEND_GSASL) {
		s->user = dup_or_null(params->user, &nomem);
		s->secret = dup_or_null(params->password, &nomem);
		s->host = dup_or_null(params->host, &nomem);
		if (nomem) {
			smtprobe_sasl_free(s);
			format_err(err, errsz, "out of memory");
			return SMTPROBE_SASL_E_NOMEM;
		}
	} else {
		rc = start_gsasl(s, params, err, errsz);
		if (rc < 0) {
			smtprobe_sasl_free(s);
			return rc;
		}
	}
	*out = s;
	return SMTPROBE_SASL_OK;
}

/* A bounded byte builder for the OAuth initial responses. */
struct obuf {
	unsigned char *p;
	size_t len, cap;
	int overflow;
};

static void obuf_add(struct obuf *b, const void *data, size_t n)
{
	if (b->overflow || n > b->cap - b->len) {
		b->overflow = 1;
		return;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void obuf_str(struct obuf *b, const char *str)
{
	obuf_add(b, str, strlen(str));
}

/* RFC 5801 saslname: ',' and '=' are escaped in the gs2 header. */
static void obuf_saslname(struct obuf *b, const char *name)
{
	for (; *name != '\0'; name++) {
		if (*name == ',')
			obuf_str(b, "=2C");
		else if (*name == '=')
			obuf_str(b, "=3D");
		else
			obuf_add(b, name, 1);
	}
}

static size_t build_oauth(struct smtprobe_sasl *s)
{
	struct obuf b = {s->raw, 0, SMTPROBE_MAX_SASL, 0};
	char port[16];

	if (s->mech->backend == BACKEND_XOAUTH2) {
		obuf_str(&b, "user=");
		obuf_str(&b, s->user);
		obuf_str(&b, "\x01"
		             "auth=Bearer ");
		obuf_str(&b, s->secret);
		obuf_str(&b, "\x01\x01");
	} else {
		obuf_str(&b, "n,a=");
		obuf_saslname(&b, s->user);
		obuf_str(&b, ",");
		if (s->host != NULL && s->host[0] != '\0') {
			obuf_str(&b, "\x01host=");
			obuf_str(&b, s->host);
		}
		if (s->port != 0) {
			int n = snprintf(port, sizeof(port), "%u", s->port);

			if (n < 0 || (size_t)n >= sizeof(port))
				b.overflow = 1;
			obuf_str(&b, "\x01port=");
			obuf_str(&b, port);
		}
		obuf_str(&b, "\x01"
		             "auth=Bearer ");
		obuf_str(&b, s->secret);
		obuf_str(&b, "\x01\x01");
	}
	if (b.overflow)
		return (size_t)-1;
	return b.len;
}

/* Encode raw bytes into s->out; empty gives `empty` ("=" or ""). */
static int encode_out(struct smtprobe_sasl *s, const void *raw, size_t len,
                      const char *empty)
{
	if (len == 0) {
		format_err(s->out, sizeof(s->out), "%s", empty);
		return 0;
	}
	if (smtprobe_base64_encode(raw, len, s->out, sizeof(s->out)) < 0)
		return fail(s, SMTPROBE_SASL_E_PROTOCOL,
		            "%s response would exceed %d bytes", s->mech->name,
		            SMTPROBE_MAX_SASL);
	return 0;
}

/* One gsasl_step over input; the output is encoded into s->out. */
static int gsasl_turn(struct smtprobe_sasl *s, const char *input, size_t len,
                      const char *empty)
{
	char phrase[SASL_MAX_ERROR];
	char *o = NULL;
	size_t olen = 0;
	int rc, enc;

	rc = gsasl_step(s->sess, input, len, &o, &olen);
	s->steps++;
	if (rc != GSASL_OK && rc != GSASL_NEEDS_MORE) {
		if (o != NULL) {
			explicit_bzero(o, olen);
			gsasl_free(o);
		}
		/* The third SCRAM step checks the server signature; the
		 * only way it fails authentication is a signature mismatch. */
		if (s->mech->scram && s->steps == 3 &&
		    rc == GSASL_AUTHENTICATION_ERROR)
			return fail(s, SMTPROBE_SASL_E_SERVER,
			            "server signature did not verify");
		gsasl_phrase(rc, phrase, sizeof(phrase));
		return fail(s, map_gsasl_rc(rc), "%s", phrase);
	}
	enc = encode_out(s, o, o != NULL ? olen : 0, empty);
	if (o != NULL) {
		explicit_bzero(o, olen);
		gsasl_free(o);
	}
	if (enc < 0)
		return enc;
	if (rc == GSASL_OK) {
		sasl_set_state(s, SASL_DONE);
		if (s->mech->scram)
			s->verified = 1;
		return SMTPROBE_SASL_OK;
	}
	sasl_set_state(s, SASL_WAITING);
	return SMTPROBE_SASL_MORE;
}

int smtprobe_sasl_start(struct smtprobe_sasl *s, const char **initial)
{
	size_t len;
	int rc;

	if (initial != NULL)
		*initial = NULL;
	if (s == NULL || initial == NULL)
		return SMTPROBE_SASL_E_PROTOCOL;
	if (s->state != SASL_NEW)
		return fail(s, SMTPROBE_SASL_E_PROTOCOL,
		            "exchange already started (state %s)",
		            state_names[s->state]);
	if (!s->mech->initial) {
		sasl_set_state(s, SASL_WAITING);
		return SMTPROBE_SASL_MORE;
	}
	if (s->mech->backend == BACKEND_GSASL) {
		rc = gsasl_turn(s, "", 0, "=");
		if (rc < 0)
			return rc;
		*initial = s->out;
		return rc;
	}
	len = build_oauth(s);
	if (len == (size_t)-1)
		return fail(s, SMTPROBE_SASL_E_PROTOCOL,
		            "%s response would exceed %d bytes", s->mech->name,
		            SMTPROBE_MAX_SASL);
	rc = encode_out(s, s->raw, len, "=");
	explicit_bzero(s->raw, len);
	if (rc < 0)
		return rc;
	sasl_set_state(s, SASL_DONE);
	*initial = s->out;
	return SMTPROBE_SASL_OK;
}

/* The i= of a SCRAM server-first message, or 0 when absent/unparsable
 * (GNU SASL then rejects the message itself). */
static unsigned long scram_iter(const unsigned char *m, size_t len)
{
	size_t i = 0;

	while (i < len) {
		if (i + 1 < len && m[i] == 'i' && m[i + 1] == '=') {
			unsigned long v = 0;

			for (i += 2; i < len && m[i] >= '0' && m[i] <= '9';
			     i++) {
				if (v > SCRAM_MAX_ITER)
					return SCRAM_MAX_ITER + 1;
				v = v * 10 + (unsigned long)(m[i] - '0');
			}
			return v;
		}
		while (i < len && m[i] != ',')
			i++;
		i++;
	}
	return 0;
}

static int step_oauth(struct smtprobe_sasl *s, size_t n)
{
	char shown[SASL_MAX_ERROR / 2];

	if (s->oauth_error_seen)
		return fail(s, SMTPROBE_SASL_E_PROTOCOL,
		            "unexpected second %s challenge", s->mech->name);
	s->oauth_error_seen = 1;
	/* RFC 7628 3.2.3 / Google's XOAUTH2: the 334 carries a JSON error
	 * and the client must answer so the server can send its 535.
	 * Keep the error for the report; the step itself succeeds. */
	escape_text(s->raw, n, shown, sizeof(shown));
	format_err(s->err, sizeof(s->err), "server rejected the token: %s",
	           shown);
	if (s->mech->backend == BACKEND_OAUTHBEARER)
		format_err(s->out, sizeof(s->out), "AQ==");
	else
		s->out[0] = '\0';
	return SMTPROBE_SASL_OK;
}

int smtprobe_sasl_step(struct smtprobe_sasl *s, const char *challenge,
                       size_t len, const char **response)
{
	long n;
	int rc;

	if (response != NULL)
		*response = NULL;
	if (s == NULL || response == NULL || (challenge == NULL && len > 0))
		return SMTPROBE_SASL_E_PROTOCOL;
	if (s->state == SASL_NEW || s->state == SASL_FAILED)
		return fail(s, SMTPROBE_SASL_E_PROTOCOL,
		            "auth challenge in state %s",
		            state_names[s->state]);
	if (len > SASL_MAX_CHALLENGE_B64)
		return fail(s, SMTPROBE_SASL_E_DECODE,
		            "auth challenge larger than %d bytes",
		            SMTPROBE_MAX_SASL);
	n = len == 0 ? 0
	             : smtprobe_base64_decode(challenge, len, s->raw,
	                                      SMTPROBE_MAX_SASL);
	if (n < 0)
		return fail(s, SMTPROBE_SASL_E_DECODE,
		            "undecodable auth challenge");
	s->raw[n] = '\0';

	if (s->mech->backend != BACKEND_GSASL) {
		rc = step_oauth(s, (size_t)n);

		explicit_bzero(s->raw, (size_t)n);
		if (rc >= 0)
			*response = s->out;
		return rc;
	}
	if (s->state == SASL_DONE)
		return fail(s, SMTPROBE_SASL_E_PROTOCOL,
		            "unexpected auth challenge after %s finished",
		            s->mech->name);
	if (s->mech->scram && n >= 2 && s->raw[0] == 'e' && s->raw[1] == '=') {
		char shown[SASL_MAX_ERROR / 2];

		escape_text(s->raw + 2, (size_t)n - 2, shown, sizeof(shown));
		return fail(s, SMTPROBE_SASL_E_PROTOCOL,
		            "server reported scram error: %s", shown);
	}
	if (s->mech->scram && s->steps == 1 &&
	    scram_iter(s->raw, (size_t)n) > SCRAM_MAX_ITER)
		return fail(s, SMTPROBE_SASL_E_PROTOCOL,
		            "scram iteration count above %lu", SCRAM_MAX_ITER);
	rc = gsasl_turn(s, (const char *)s->raw, (size_t)n, "");
	explicit_bzero(s->raw, (size_t)n);
	if (rc >= 0)
		*response = s->out;
	return rc;
}

const char *smtprobe_sasl_error(const struct smtprobe_sasl *s)
{
	if (s == NULL)
		return "no sasl exchange";
	return s->err;
}

int smtprobe_sasl_server_verified(const struct smtprobe_sasl *s)
{
	return s != NULL && s->verified;
}

void smtprobe_sasl_free(struct smtprobe_sasl *s)
{
	if (s == NULL)
		return;
	if (s->sess != NULL) {
		sasl__wipe_secrets(s->sess);
		gsasl_finish(s->sess);
	}
	if (s->ctx != NULL)
		gsasl_done(s->ctx);
	free(s->user);
	wipe_free(s->secret);
	free(s->host);
	explicit_bzero(s, sizeof(*s));
	free(s);
}
