/* test_sasl_server.c - unit tests for lib/sasl/sasl_server.c.
 *
 * Two kinds of tables:
 *   1. round trips of OUR client (lib/sasl/sasl.c) against this server for
 *      every mechanism, with right and wrong passwords, unknown users,
 *      authorization identities and with/without initial response;
 *   2. scripts of raw client lines (bytes base64-encoded here, or literal
 *      text when the text itself is the point) with the rc and decoded
 *      challenge expected after each, for the malformed and hostile cases.
 * SCRAM's bad-proof case is built from a real client-final whose proof is
 * replaced, so only the proof is wrong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtprobe/ehlo.h"
#include "smtprobe/sasl.h"
#include "smtprobe/sasl_server.h"

#define B64_MAX (4 * ((SMTPROBE_MAX_SASL + 2) / 3) + 1)

/* ---- helpers ---- */

static const struct {
	const char *user, *password;
} users[] = {
        {"user", "pencil"},
        {"alice", "s3cr\xc3\xa9t"}, /* non-ASCII password */
        {"bob,=x", "tr1cky"},       /* SCRAM escapes ',' and '=' */
};

static unsigned lookups;

static const char *lookup(void *arg, const char *user)
{
	size_t i;

	assert_ptr_equal(arg, &lookups);
	lookups++;
	for (i = 0; i < sizeof(users) / sizeof(users[0]); i++)
		if (strcmp(users[i].user, user) == 0)
			return users[i].password;
	return NULL;
}

static struct smtprobe_sasl_server *server(unsigned mech)
{
	struct smtprobe_sasl_server *s = NULL;
	char err[256];
	int rc = smtprobe_sasl_server_new(&s, mech, "mx.example.org", lookup,
	                                  &lookups, err, sizeof(err));

	if (rc != SMTPROBE_SASL_OK)
		fail_msg("smtprobe_sasl_server_new: %d %s", rc, err);
	assert_non_null(s);
	return s;
}

static char *b64(const void *raw, size_t len)
{
	static char buf[4][B64_MAX + 64];
	static int which;
	char *out = buf[which++ % 4];

	assert_true(smtprobe_base64_encode(raw, len, out, B64_MAX + 64) >= 0);
	return out;
}

static size_t unb64(const char *in, unsigned char *out, size_t outsz)
{
	long n = smtprobe_base64_decode(in, strlen(in), out, outsz - 1);

	assert_true(n >= 0);
	out[n] = '\0';
	return (size_t)n;
}

static int sstep(struct smtprobe_sasl_server *s, const char *text,
                 const char **chal)
{
	return smtprobe_sasl_server_step(s, text, text ? strlen(text) : 0,
	                                 chal);
}

/* ---- round trips with our client ---- */

struct trip {
	const char *name;
	unsigned mech;
	const char *user, *password, *authzid;
	int withhold_ir; /* AUTH without initial response, data after 334 */
	int rc;          /* the server's final answer */
	const char *claimed;
};

static const struct trip trips[] = {
        {"plain", SMTPROBE_MECH_PLAIN, "user", "pencil", NULL, 0,
         SMTPROBE_SASL_OK, "user"},
        {"plain no ir", SMTPROBE_MECH_PLAIN, "user", "pencil", NULL, 1,
         SMTPROBE_SASL_OK, "user"},
        {"plain wrong", SMTPROBE_MECH_PLAIN, "user", "pencil!", NULL, 0,
         SMTPROBE_SASL_E_AUTH, "user"},
        {"plain prefix", SMTPROBE_MECH_PLAIN, "user", "penci", NULL, 0,
         SMTPROBE_SASL_E_AUTH, "user"},
        {"plain unknown", SMTPROBE_MECH_PLAIN, "nobody", "pencil", NULL, 0,
         SMTPROBE_SASL_E_AUTH, "nobody"},
        {"plain utf-8", SMTPROBE_MECH_PLAIN, "alice", "s3cr\xc3\xa9t", NULL, 0,
         SMTPROBE_SASL_OK, "alice"},
        {"plain authz self", SMTPROBE_MECH_PLAIN, "user", "pencil", "user", 0,
         SMTPROBE_SASL_OK, "user"},
        {"plain authz other", SMTPROBE_MECH_PLAIN, "user", "pencil", "alice", 0,
         SMTPROBE_SASL_E_AUTH, "user"},
        {"login", SMTPROBE_MECH_LOGIN, "user", "pencil", NULL, 0,
         SMTPROBE_SASL_OK, "user"},
        {"login wrong", SMTPROBE_MECH_LOGIN, "user", "Pencil", NULL, 0,
         SMTPROBE_SASL_E_AUTH, "user"},
        {"login unknown", SMTPROBE_MECH_LOGIN, "nobody", "pencil", NULL, 0,
         SMTPROBE_SASL_E_AUTH, "nobody"},
        {"cram-md5", SMTPROBE_MECH_CRAM_MD5, "user", "pencil", NULL, 0,
         SMTPROBE_SASL_OK, "user"},
        {"cram-md5 utf-8", SMTPROBE_MECH_CRAM_MD5, "alice", "s3cr\xc3\xa9t",
         NULL, 0, SMTPROBE_SASL_OK, "alice"},
        {"cram-md5 wrong", SMTPROBE_MECH_CRAM_MD5, "user", "pencil2", NULL, 0,
         SMTPROBE_SASL_E_AUTH, "user"},
        {"cram-md5 unknown", SMTPROBE_MECH_CRAM_MD5, "nobody", "pencil", NULL,
         0, SMTPROBE_SASL_E_AUTH, "nobody"},
        {"scram-sha-1", SMTPROBE_MECH_SCRAM_SHA_1, "user", "pencil", NULL, 0,
         SMTPROBE_SASL_OK, "user"},
        {"scram-sha-1 wrong", SMTPROBE_MECH_SCRAM_SHA_1, "user", "pen", NULL, 0,
         SMTPROBE_SASL_E_AUTH, "user"},
        {"scram-sha-1 unknown", SMTPROBE_MECH_SCRAM_SHA_1, "nobody", "pencil",
         NULL, 0, SMTPROBE_SASL_E_AUTH, "nobody"},
        {"scram-sha-256", SMTPROBE_MECH_SCRAM_SHA_256, "user", "pencil", NULL,
         0, SMTPROBE_SASL_OK, "user"},
        {"scram-sha-256 no ir", SMTPROBE_MECH_SCRAM_SHA_256, "user", "pencil",
         NULL, 1, SMTPROBE_SASL_OK, "user"},
        {"scram-sha-256 escaped", SMTPROBE_MECH_SCRAM_SHA_256, "bob,=x",
         "tr1cky", NULL, 0, SMTPROBE_SASL_OK, "bob,=x"},
        {"scram-sha-256 utf-8", SMTPROBE_MECH_SCRAM_SHA_256, "alice",
         "s3cr\xc3\xa9t", NULL, 0, SMTPROBE_SASL_OK, "alice"},
        {"scram-sha-256 wrong", SMTPROBE_MECH_SCRAM_SHA_256, "user", "pencil ",
         NULL, 0, SMTPROBE_SASL_E_AUTH, "user"},
        {"scram-sha-256 unknown", SMTPROBE_MECH_SCRAM_SHA_256, "nobody",
         "pencil", NULL, 0, SMTPROBE_SASL_E_AUTH, "nobody"},
        {"scram-sha-256 authz self", SMTPROBE_MECH_SCRAM_SHA_256, "user",
         "pencil", "user", 0, SMTPROBE_SASL_OK, "user"},
        {"scram-sha-256 authz other", SMTPROBE_MECH_SCRAM_SHA_256, "user",
         "pencil", "alice", 0, SMTPROBE_SASL_E_AUTH, "user"},
};

/* Play one SMTP AUTH: returns the server's last rc; *verified gets our
 * client's mutual-auth flag. */
static int play(const struct trip *t, struct smtprobe_sasl_server *srv,
                int *verified)
{
	struct smtprobe_sasl_params p = {t->mech,    t->user, t->password,
	                                 t->authzid, NULL,    0};
	struct smtprobe_sasl *cl = NULL;
	const char *ir = NULL, *resp = NULL, *chal = NULL;
	char err[256];
	int crc, src, turns = 0;

	crc = smtprobe_sasl_new(&cl, &p, err, sizeof(err));
	if (crc != SMTPROBE_SASL_OK)
		fail_msg("%s: client new: %s", t->name, err);
	crc = smtprobe_sasl_start(cl, &ir);
	assert_true(crc >= 0);
	if (t->withhold_ir) {
		assert_non_null(ir);
		src = smtprobe_sasl_server_step(srv, NULL, 0, &chal);
		assert_int_equal(src, SMTPROBE_SASL_MORE);
		assert_string_equal(chal, ""); /* "334 " */
		src = sstep(srv, strcmp(ir, "=") == 0 ? "" : ir, &chal);
	} else {
		src = sstep(srv, ir, &chal);
	}
	while (src == SMTPROBE_SASL_MORE) {
		assert_non_null(chal);
		crc = smtprobe_sasl_step(cl, chal, strlen(chal), &resp);
		if (crc < 0)
			fail_msg("%s: client: %s", t->name,
			         smtprobe_sasl_error(cl));
		src = sstep(srv, resp, &chal);
		assert_true(++turns < 8);
	}
	if (src < 0)
		assert_null(chal);
	*verified = smtprobe_sasl_server_verified(cl);
	smtprobe_sasl_free(cl);
	return src;
}

static void test_round_trips(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(trips) / sizeof(trips[0]); i++) {
		const struct trip *t = &trips[i];
		struct smtprobe_sasl_server *srv = server(t->mech);
		const char *chal = NULL;
		int verified = 0, rc;

		lookups = 0;
		rc = play(t, srv, &verified);
		if (rc != t->rc)
			fail_msg("%s: server rc %d, want %d", t->name, rc,
			         t->rc);
		assert_string_equal(smtprobe_sasl_server_claimed(srv),
		                    t->claimed);
		assert_true(lookups >= 1);
		if (t->rc == SMTPROBE_SASL_OK) {
			assert_string_equal(smtprobe_sasl_server_user(srv),
			                    t->user);
			/* SCRAM's server signature verified on our side */
			if (t->mech == SMTPROBE_MECH_SCRAM_SHA_1 ||
			    t->mech == SMTPROBE_MECH_SCRAM_SHA_256)
				assert_true(verified);
		} else {
			assert_string_equal(smtprobe_sasl_server_user(srv), "");
		}
		/* the exchange is over either way */
		assert_int_equal(sstep(srv, "", &chal),
		                 SMTPROBE_SASL_E_PROTOCOL);
		assert_null(chal);
		smtprobe_sasl_server_free(srv);
	}
}

/* ---- scripted client lines ---- */

enum in_kind { IN_END, IN_NULL, IN_RAW, IN_TEXT };

struct line {
	enum in_kind kind;
	const char *data; /* IN_RAW: bytes, base64-encoded here */
	size_t len;
	int rc;
	const char *chal; /* decoded challenge after MORE; NULL: unchecked */
};

#define RAW(s, rc, chal)                                                       \
	{                                                                      \
		IN_RAW, s, sizeof(s) - 1, rc, chal                             \
	}
#define TEXT(s, rc)                                                            \
	{                                                                      \
		IN_TEXT, s, sizeof(s) - 1, rc, NULL                            \
	}
#define NOIR(rc, chal)                                                         \
	{                                                                      \
		IN_NULL, NULL, 0, rc, chal                                     \
	}

static const struct script {
	const char *name;
	unsigned mech;
	struct line lines[8];
	const char *claimed;
	const char *user; /* after OK */
} scripts[] = {
        {"plain ir",
         SMTPROBE_MECH_PLAIN,
         {RAW("\0user\0pencil", SMTPROBE_SASL_OK, NULL)},
         "user",
         "user"},
        {"plain no ir",
         SMTPROBE_MECH_PLAIN,
         {NOIR(SMTPROBE_SASL_MORE, ""),
          RAW("\0user\0pencil", SMTPROBE_SASL_OK, NULL)},
         "user",
         "user"},
        {"plain empty ir",
         SMTPROBE_MECH_PLAIN,
         {TEXT("=", SMTPROBE_SASL_MORE),
          RAW("\0user\0pencil", SMTPROBE_SASL_OK, NULL)},
         "user",
         "user"},
        {"plain authzid = user",
         SMTPROBE_MECH_PLAIN,
         {RAW("user\0user\0pencil", SMTPROBE_SASL_OK, NULL)},
         "user",
         "user"},
        {"plain authzid other",
         SMTPROBE_MECH_PLAIN,
         {RAW("authz\0user\0pencil", SMTPROBE_SASL_E_AUTH, NULL)},
         "user",
         NULL},
        {"plain authzid other, wrong pass",
         SMTPROBE_MECH_PLAIN,
         {RAW("authz\0user\0pen", SMTPROBE_SASL_E_AUTH, NULL)},
         "user",
         NULL},
        {"plain two nuls only",
         SMTPROBE_MECH_PLAIN,
         {RAW("\0\0", SMTPROBE_SASL_E_AUTH, NULL)},
         "",
         NULL},
        {"plain one nul",
         SMTPROBE_MECH_PLAIN,
         {RAW("a\0b", SMTPROBE_SASL_E_PROTOCOL, NULL)},
         "",
         NULL},
        {"plain leading nul only",
         SMTPROBE_MECH_PLAIN,
         {RAW("\0userpencil", SMTPROBE_SASL_E_PROTOCOL, NULL)},
         "",
         NULL},
        {"plain no nul",
         SMTPROBE_MECH_PLAIN,
         {RAW("userpencil", SMTPROBE_SASL_E_PROTOCOL, NULL)},
         "",
         NULL},
        {"plain nul in password",
         SMTPROBE_MECH_PLAIN,
         {RAW("\0user\0pen\0cil", SMTPROBE_SASL_E_PROTOCOL, NULL)},
         "",
         NULL},
        {"plain single nul",
         SMTPROBE_MECH_PLAIN,
         {RAW("\0", SMTPROBE_SASL_E_PROTOCOL, NULL)},
         "",
         NULL},
        {"plain empty password",
         SMTPROBE_MECH_PLAIN,
         {RAW("\0user\0", SMTPROBE_SASL_E_AUTH, NULL)},
         "user",
         NULL},
        {"plain bad utf-8 user",
         SMTPROBE_MECH_PLAIN,
         {RAW("\0\xff\xfe\0pencil", SMTPROBE_SASL_E_PROTOCOL, NULL)},
         "",
         NULL},
        {"plain garbage base64",
         SMTPROBE_MECH_PLAIN,
         {TEXT("!!!!", SMTPROBE_SASL_E_DECODE)},
         "",
         NULL},
        {"plain literal base64",
         SMTPROBE_MECH_PLAIN,
         {TEXT("AHVzZXIAcGVuY2ls", SMTPROBE_SASL_OK),
          TEXT("", SMTPROBE_SASL_E_PROTOCOL)},
         "user",
         NULL},
        {"plain base64 with space",
         SMTPROBE_MECH_PLAIN,
         {TEXT("AHVzZXIA cGVuY2ls", SMTPROBE_SASL_E_DECODE)},
         "",
         NULL},
        {"plain base64 pad bits",
         SMTPROBE_MECH_PLAIN,
         {TEXT("Zh==", SMTPROBE_SASL_E_DECODE)},
         "",
         NULL},
        {"plain base64 missing pad",
         SMTPROBE_MECH_PLAIN,
         {NOIR(SMTPROBE_SASL_MORE, ""),
          TEXT("AHVzZXIAcGVuY2w", SMTPROBE_SASL_E_DECODE)},
         "",
         NULL},
        {"plain \"=\" after 334",
         SMTPROBE_MECH_PLAIN,
         {NOIR(SMTPROBE_SASL_MORE, ""), TEXT("=", SMTPROBE_SASL_E_DECODE)},
         "",
         NULL},
        {"plain empty lines forever",
         SMTPROBE_MECH_PLAIN,
         {NOIR(SMTPROBE_SASL_MORE, ""), TEXT("", SMTPROBE_SASL_MORE),
          TEXT("", SMTPROBE_SASL_MORE), TEXT("", SMTPROBE_SASL_MORE),
          TEXT("", SMTPROBE_SASL_MORE), TEXT("", SMTPROBE_SASL_MORE),
          TEXT("", SMTPROBE_SASL_E_PROTOCOL)},
         "",
         NULL},
        {"null input after 334",
         SMTPROBE_MECH_PLAIN,
         {NOIR(SMTPROBE_SASL_MORE, ""), NOIR(SMTPROBE_SASL_E_PROTOCOL, NULL)},
         "",
         NULL},
        {"login",
         SMTPROBE_MECH_LOGIN,
         {NOIR(SMTPROBE_SASL_MORE, "Username:"),
          RAW("user", SMTPROBE_SASL_MORE, "Password:"),
          RAW("pencil", SMTPROBE_SASL_OK, NULL)},
         "user",
         "user"},
        {"login user as ir",
         SMTPROBE_MECH_LOGIN,
         {RAW("user", SMTPROBE_SASL_MORE, "Password:"),
          RAW("pencil", SMTPROBE_SASL_OK, NULL)},
         "user",
         "user"},
        {"login user as ir, wrong pass",
         SMTPROBE_MECH_LOGIN,
         {RAW("user", SMTPROBE_SASL_MORE, "Password:"),
          RAW("pencil2", SMTPROBE_SASL_E_AUTH, NULL)},
         "user",
         NULL},
        {"login empty ir",
         SMTPROBE_MECH_LOGIN,
         {TEXT("=", SMTPROBE_SASL_MORE),
          RAW("user", SMTPROBE_SASL_MORE, "Password:"),
          RAW("pencil", SMTPROBE_SASL_OK, NULL)},
         "user",
         "user"},
        {"login nul in user",
         SMTPROBE_MECH_LOGIN,
         {NOIR(SMTPROBE_SASL_MORE, "Username:"),
          RAW("us\0er", SMTPROBE_SASL_E_PROTOCOL, NULL)},
         "",
         NULL},
        {"login empty password",
         SMTPROBE_MECH_LOGIN,
         {NOIR(SMTPROBE_SASL_MORE, "Username:"),
          RAW("user", SMTPROBE_SASL_MORE, "Password:"),
          TEXT("", SMTPROBE_SASL_E_PROTOCOL)},
         "",
         NULL},
        {"login garbage",
         SMTPROBE_MECH_LOGIN,
         {NOIR(SMTPROBE_SASL_MORE, "Username:"),
          TEXT("dXNlcg", SMTPROBE_SASL_E_DECODE)},
         "",
         NULL},
        {"cram-md5 ir refused",
         SMTPROBE_MECH_CRAM_MD5,
         {TEXT("dXNlcg==", SMTPROBE_SASL_E_PROTOCOL)},
         "",
         NULL},
        {"cram-md5 empty ir refused",
         SMTPROBE_MECH_CRAM_MD5,
         {TEXT("=", SMTPROBE_SASL_E_PROTOCOL)},
         "",
         NULL},
        {"cram-md5 short answer",
         SMTPROBE_MECH_CRAM_MD5,
         {NOIR(SMTPROBE_SASL_MORE, NULL),
          RAW("user nothex", SMTPROBE_SASL_E_PROTOCOL, NULL)},
         "",
         NULL},
        {"cram-md5 wrong digest",
         SMTPROBE_MECH_CRAM_MD5,
         {NOIR(SMTPROBE_SASL_MORE, NULL),
          RAW("user 0123456789abcdef0123456789abcdef", SMTPROBE_SASL_E_AUTH,
              NULL)},
         "user",
         NULL},
        {"scram garbage client-first",
         SMTPROBE_MECH_SCRAM_SHA_256,
         {RAW("xyz", SMTPROBE_SASL_E_PROTOCOL, NULL)},
         "",
         NULL},
        {"scram channel binding required",
         SMTPROBE_MECH_SCRAM_SHA_256,
         {RAW("p=tls-unique,,n=user,r=abcdefgh", SMTPROBE_SASL_E_PROTOCOL,
              NULL)},
         "",
         NULL},
        {"scram client-final garbage",
         SMTPROBE_MECH_SCRAM_SHA_1,
         {RAW("n,,n=user,r=abcdefghijkl", SMTPROBE_SASL_MORE, NULL),
          RAW("c=biws,r=x,p=", SMTPROBE_SASL_E_PROTOCOL, NULL)},
         "user",
         NULL},
        {"scram client-final wrong nonce",
         SMTPROBE_MECH_SCRAM_SHA_1,
         {RAW("n,,n=user,r=abcdefghijkl", SMTPROBE_SASL_MORE, NULL),
          RAW("c=biws,r=abcdefghijklXXXX,p=AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
              SMTPROBE_SASL_E_AUTH, NULL)},
         "user",
         NULL},
};

static void check_line(const struct script *sc, size_t i,
                       struct smtprobe_sasl_server *srv)
{
	const struct line *l = &sc->lines[i];
	const char *chal = NULL, *text = NULL;
	int rc;

	if (l->kind == IN_RAW)
		text = b64(l->data, l->len);
	else if (l->kind == IN_TEXT)
		text = l->data;
	rc = sstep(srv, text, &chal);
	if (rc != l->rc)
		fail_msg("%s, line %zu: rc %d, want %d", sc->name, i, rc,
		         l->rc);
	if (rc < 0) {
		assert_null(chal);
		return;
	}
	assert_non_null(chal);
	if (rc == SMTPROBE_SASL_MORE && l->chal != NULL) {
		unsigned char dec[SMTPROBE_MAX_SASL + 1];

		unb64(chal, dec, sizeof(dec));
		if (strcmp((char *)dec, l->chal) != 0)
			fail_msg("%s, line %zu: challenge \"%s\", want \"%s\"",
			         sc->name, i, (char *)dec, l->chal);
	}
}

static void test_scripts(void **state)
{
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++) {
		const struct script *sc = &scripts[i];
		struct smtprobe_sasl_server *srv = server(sc->mech);
		int last = 0;

		for (k = 0; k < 8 && sc->lines[k].kind != IN_END; k++) {
			check_line(sc, k, srv);
			last = sc->lines[k].rc;
		}
		if (strcmp(smtprobe_sasl_server_claimed(srv), sc->claimed) != 0)
			fail_msg("%s: claimed \"%s\", want \"%s\"", sc->name,
			         smtprobe_sasl_server_claimed(srv),
			         sc->claimed);
		if (last == SMTPROBE_SASL_OK)
			assert_string_equal(smtprobe_sasl_server_user(srv),
			                    sc->user);
		else
			assert_string_equal(smtprobe_sasl_server_user(srv), "");
		smtprobe_sasl_server_free(srv);
	}
}

/* The challenges a bare AUTH gets, as a real SMTP server sends them. */
static void test_first_challenges(void **state)
{
	struct smtprobe_sasl_server *srv;
	const char *chal = NULL;
	unsigned char dec[SMTPROBE_MAX_SASL + 1];
	size_t n;

	(void)state;
	srv = server(SMTPROBE_MECH_PLAIN);
	assert_int_equal(sstep(srv, NULL, &chal), SMTPROBE_SASL_MORE);
	assert_string_equal(chal, "");
	smtprobe_sasl_server_free(srv);

	srv = server(SMTPROBE_MECH_LOGIN);
	assert_int_equal(sstep(srv, NULL, &chal), SMTPROBE_SASL_MORE);
	assert_string_equal(chal, "VXNlcm5hbWU6");
	assert_int_equal(sstep(srv, "dXNlcg==", &chal), SMTPROBE_SASL_MORE);
	assert_string_equal(chal, "UGFzc3dvcmQ6");
	smtprobe_sasl_server_free(srv);

	/* RFC 2195: <digits.digits@host>; GNU SASL 2.2 makes it and always
	 * says @localhost, whatever GSASL_HOSTNAME is */
	srv = server(SMTPROBE_MECH_CRAM_MD5);
	assert_int_equal(sstep(srv, NULL, &chal), SMTPROBE_SASL_MORE);
	n = unb64(chal, dec, sizeof(dec));
	assert_true(n > 2);
	assert_int_equal(dec[0], '<');
	assert_int_equal(dec[n - 1], '>');
	assert_non_null(memchr(dec, '@', n));
	smtprobe_sasl_server_free(srv);

	srv = server(SMTPROBE_MECH_SCRAM_SHA_256);
	assert_int_equal(sstep(srv, NULL, &chal), SMTPROBE_SASL_MORE);
	assert_string_equal(chal, "");
	smtprobe_sasl_server_free(srv);
}

/* Server-first carries our fixed count and a 16-byte salt, fresh each
 * exchange. */
static void test_scram_server_first(void **state)
{
	char salts[2][64];
	int i;

	(void)state;
	for (i = 0; i < 2; i++) {
		struct smtprobe_sasl_server *srv =
		        server(SMTPROBE_MECH_SCRAM_SHA_256);
		const char *chal = NULL, *s, *e;
		unsigned char dec[SMTPROBE_MAX_SASL + 1], salt[64];
		static const char cf[] = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";

		assert_int_equal(sstep(srv, b64(cf, sizeof(cf) - 1), &chal),
		                 SMTPROBE_SASL_MORE);
		unb64(chal, dec, sizeof(dec));
		assert_non_null(strstr((char *)dec, ",i=4096"));
		s = strstr((char *)dec, ",s=");
		assert_non_null(s);
		s += 3;
		e = strchr(s, ',');
		assert_non_null(e);
		assert_true((size_t)(e - s) < sizeof(salts[i]));
		memcpy(salts[i], s, (size_t)(e - s));
		salts[i][e - s] = '\0';
		assert_int_equal(smtprobe_base64_decode(salts[i],
		                                        strlen(salts[i]), salt,
		                                        sizeof(salt)),
		                 16);
		smtprobe_sasl_server_free(srv);
	}
	assert_string_not_equal(salts[0], salts[1]);
}

/* Play SCRAM with our client up to its client-final; tamper with it as
 * `how` says before the server sees it. */
enum tamper { TAMPER_PROOF, TAMPER_NONE_THEN_DATA };

static void scram_tampered(unsigned mech, enum tamper how)
{
	struct smtprobe_sasl_params p = {mech, "user", "pencil", NULL, NULL, 0};
	struct smtprobe_sasl *cl = NULL;
	struct smtprobe_sasl_server *srv = server(mech);
	const char *ir = NULL, *chal = NULL, *resp = NULL;
	unsigned char dec[SMTPROBE_MAX_SASL + 1];
	char err[256];
	size_t n;

	assert_int_equal(smtprobe_sasl_new(&cl, &p, err, sizeof(err)),
	                 SMTPROBE_SASL_OK);
	assert_int_equal(smtprobe_sasl_start(cl, &ir), SMTPROBE_SASL_MORE);
	assert_int_equal(sstep(srv, ir, &chal), SMTPROBE_SASL_MORE);
	assert_true(smtprobe_sasl_step(cl, chal, strlen(chal), &resp) >= 0);
	n = unb64(resp, dec, sizeof(dec));
	if (how == TAMPER_PROOF) {
		char *proof;

		/* flip one bit of the proof's first byte: still valid
		 * base64 of the right length */
		proof = strstr((char *)dec, ",p=");
		assert_non_null(proof);
		proof += 3;
		*proof = *proof == 'A' ? 'B' : 'A';
		assert_int_equal(sstep(srv, b64(dec, n), &chal),
		                 SMTPROBE_SASL_E_AUTH);
		assert_null(chal);
		assert_string_equal(smtprobe_sasl_server_claimed(srv), "user");
		assert_string_equal(smtprobe_sasl_server_user(srv), "");
	} else {
		/* right proof, but data where the empty line is due */
		assert_int_equal(sstep(srv, resp, &chal), SMTPROBE_SASL_MORE);
		assert_int_equal(sstep(srv, "dg==", &chal),
		                 SMTPROBE_SASL_E_PROTOCOL);
		assert_string_equal(smtprobe_sasl_server_user(srv), "");
	}
	smtprobe_sasl_free(cl);
	smtprobe_sasl_server_free(srv);
}

static void test_scram_tampered(void **state)
{
	(void)state;
	scram_tampered(SMTPROBE_MECH_SCRAM_SHA_1, TAMPER_PROOF);
	scram_tampered(SMTPROBE_MECH_SCRAM_SHA_256, TAMPER_PROOF);
	scram_tampered(SMTPROBE_MECH_SCRAM_SHA_256, TAMPER_NONE_THEN_DATA);
}

static void test_oversized(void **state)
{
	static char text[B64_MAX + 16];
	static unsigned char raw[SMTPROBE_MAX_SASL + 8];
	struct smtprobe_sasl_server *srv;
	const char *chal = NULL;
	size_t i;

	(void)state;
	/* more base64 text than SMTPROBE_MAX_SASL bytes could take */
	for (i = 0; i < sizeof(text) - 1; i++)
		text[i] = 'A';
	text[(sizeof(text) - 1) / 4 * 4] = '\0';
	srv = server(SMTPROBE_MECH_PLAIN);
	assert_int_equal(sstep(srv, text, &chal), SMTPROBE_SASL_E_DECODE);
	assert_null(chal);
	smtprobe_sasl_server_free(srv);

	/* valid base64 of one byte more than the cap */
	memset(raw, 'a', sizeof(raw));
	raw[0] = '\0';
	raw[5] = '\0';
	srv = server(SMTPROBE_MECH_PLAIN);
	assert_int_equal(sstep(srv, b64(raw, SMTPROBE_MAX_SASL + 1), &chal),
	                 SMTPROBE_SASL_E_DECODE);
	smtprobe_sasl_server_free(srv);

	/* exactly the cap decodes and reaches the mechanism */
	srv = server(SMTPROBE_MECH_PLAIN);
	lookups = 0;
	assert_int_equal(sstep(srv, b64(raw, SMTPROBE_MAX_SASL), &chal),
	                 SMTPROBE_SASL_E_AUTH);
	assert_int_equal(lookups, 1); /* "aaaa" is nobody we know */
	assert_string_equal(smtprobe_sasl_server_claimed(srv), "aaaa");
	smtprobe_sasl_server_free(srv);
}

static void test_new_errors(void **state)
{
	static const unsigned bad[] = {
	        0,
	        SMTPROBE_MECH_DIGEST_MD5,
	        SMTPROBE_MECH_NTLM,
	        SMTPROBE_MECH_XOAUTH2,
	        SMTPROBE_MECH_OAUTHBEARER,
	        SMTPROBE_MECH_PLAIN | SMTPROBE_MECH_LOGIN,
	        1u << 20,
	};
	struct smtprobe_sasl_server *srv = (void *)&lookups;
	char err[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(smtprobe_sasl_server_new(&srv, bad[i], "h",
		                                          lookup, &lookups, err,
		                                          sizeof(err)),
		                 SMTPROBE_SASL_E_MECH);
		assert_null(srv);
		assert_true(err[0] != '\0');
	}
	assert_int_equal(smtprobe_sasl_server_new(&srv, SMTPROBE_MECH_PLAIN,
	                                          "h", NULL, NULL, err,
	                                          sizeof(err)),
	                 SMTPROBE_SASL_E_MECH);
	assert_int_equal(smtprobe_sasl_server_new(NULL, SMTPROBE_MECH_PLAIN,
	                                          "h", lookup, NULL, NULL, 0),
	                 SMTPROBE_SASL_E_MECH);
	/* a NULL host name is fine: CRAM-MD5 then says localhost */
	assert_int_equal(smtprobe_sasl_server_new(&srv, SMTPROBE_MECH_CRAM_MD5,
	                                          NULL, lookup, &lookups, err,
	                                          sizeof(err)),
	                 SMTPROBE_SASL_OK);
	smtprobe_sasl_server_free(srv);

	/* NULL everywhere else is refused or harmless */
	assert_int_equal(smtprobe_sasl_server_step(NULL, "", 0, NULL),
	                 SMTPROBE_SASL_E_PROTOCOL);
	assert_string_equal(smtprobe_sasl_server_user(NULL), "");
	assert_string_equal(smtprobe_sasl_server_claimed(NULL), "");
	smtprobe_sasl_server_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_round_trips),
	        cmocka_unit_test(test_scripts),
	        cmocka_unit_test(test_first_challenges),
	        cmocka_unit_test(test_scram_server_first),
	        cmocka_unit_test(test_scram_tampered),
	        cmocka_unit_test(test_oversized),
	        cmocka_unit_test(test_new_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
