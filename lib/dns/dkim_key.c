/* dkim_key.c - the DKIM key record (RFC 6376 §3.6.1, ed25519 of RFC 8463)
 * at SELECTOR._domainkey.DOMAIN: its tags, the key in p= decoded to a type
 * and a size, and the classification issue 14 asks for.
 *
 * smtprobe_dkim_key_parse() reads the record with the tag-list rules of
 * taglist.c (names case-sensitive, no tag twice, folding whitespace
 * anywhere), then: v= optional but first and "DKIM1" if there (§3.6.1:
 * else the record is discarded); k= "rsa" (the default) or "ed25519"; h=,
 * s= and t= colon-separated words, unknown ones ignored as the RFC says;
 * p= required, base64 with whitespace allowed inside, empty for a revoked
 * key. An RSA p= is a SubjectPublicKeyInfo as every signer publishes it,
 * or the bare RSAPublicKey the RFC's text names (noted as
 * SMTPROBE_DKIM_F_PKCS1); an ed25519 p= is the raw 32-byte key (RFC 8463
 * §4.2), and a SubjectPublicKeyInfo there is an error that says so.
 * Unknown tags are ignored and noted.
 *
 * Bad input stops at the first error, which names the tag. The base64
 * and the key are decoded by lib/tls (tls_pubkey.c: OpenSSL stays there)
 * on at most SMTPROBE_DNSREC_MAX_RECORD * 3 / 4 bytes. Nothing is
 * allocated. */
#include <stdio.h>
#include <string.h>

#include "smtprobe/tls.h"
#include "taglist.h"

#include "banned.h"

#define DKIM        SMTPROBE_TAGLIST_DKIM
#define KEY_MAX     (SMTPROBE_DNSREC_MAX_RECORD / 4 * 3)
#define ED25519_LEN 32

static int bad(const char *buf, const struct smtprobe_tag *t,
               struct smtprobe_dkim_key *out, int code, const char *why)
{
	return taglist_bad_tag(&out->error, code, DKIM, buf, t, why);
}

static int tag_v(const struct smtprobe_taglist *tl, const char *buf,
                 struct smtprobe_dkim_key *out)
{
	const struct smtprobe_tag *t = smtprobe_taglist_find(tl, buf, "v");

	if (t == NULL)
		return 0;
	if (t != &tl->tag[0])
		return taglist_seterr(&out->error, SMTPROBE_DNSREC_E_VERSION,
		                      t->name, "dkim: v= is not the first tag");
	if (t->value.len != 5 || memcmp(buf + t->value.off, "DKIM1", 5) != 0)
		return bad(buf, t, out, SMTPROBE_DNSREC_E_VERSION,
		           "is not DKIM1");
	out->flags |= SMTPROBE_DKIM_F_VERSION;
	return 0;
}

static int tag_k(const struct smtprobe_taglist *tl, const char *buf,
                 struct smtprobe_dkim_key *out)
{
	const struct smtprobe_tag *t = smtprobe_taglist_find(tl, buf, "k");

	if (t == NULL || taglist_span_is(buf, t->value, "rsa"))
		out->ktype = SMTPROBE_DKIM_K_RSA;
	else if (taglist_span_is(buf, t->value, "ed25519"))
		out->ktype = SMTPROBE_DKIM_K_ED25519;
	else
		return bad(buf, t, out, SMTPROBE_DNSREC_E_KEY_TYPE,
		           "is not rsa or ed25519");
	return 0;
}

/* h=, s= and t=: words separated by ":"; each known word sets a flag. */
static const struct word_flag {
	const char *tag, *word;
	unsigned flag;
} word_flags[] = {
        {"h", "sha1", SMTPROBE_DKIM_F_H_SHA1},
        {"h", "sha256", SMTPROBE_DKIM_F_H_SHA256},
        {"s", "*", 0},
        {"s", "email", 0},
        {"t", "y", SMTPROBE_DKIM_F_TESTING},
        {"t", "s", SMTPROBE_DKIM_F_STRICT},
};

static int tag_words(const struct smtprobe_taglist *tl, const char *buf,
                     const char *name, struct smtprobe_dkim_key *out)
{
	const struct smtprobe_tag *t = smtprobe_taglist_find(tl, buf, name);
	size_t pos, end, k;
	struct smtprobe_span item;
	int email = 0;

	if (t == NULL)
		return 0;
	pos = t->value.off;
	end = t->value.off + t->value.len;
	while (taglist_next_item(buf, &pos, end, ':', &item)) {
		if (!taglist_word(buf, item) &&
		    !(name[0] == 's' && taglist_span_is(buf, item, "*")))
			return bad(buf, t, out, SMTPROBE_DNSREC_E_VALUE,
			           "is not a list of words separated by ':'");
		for (k = 0; k < sizeof(word_flags) / sizeof(word_flags[0]);
		     k++) {
			if (strcmp(word_flags[k].tag, name) != 0 ||
			    !taglist_span_is(buf, item, word_flags[k].word))
				continue;
			out->flags |= word_flags[k].flag;
			email |= name[0] == 's';
		}
	}
	if (name[0] == 'h')
		out->flags |= SMTPROBE_DKIM_F_H;
	if (name[0] == 's' && !email)
		out->flags |= SMTPROBE_DKIM_F_NOT_EMAIL;
	return 0;
}

/* The base64 of p= without its whitespace, decoded into der. */
static long base64(const char *buf, const struct smtprobe_tag *t,
                   unsigned char *der)
{
	char b64[SMTPROBE_DNSREC_MAX_RECORD];
	size_t n = 0;

	for (size_t i = 0; i < t->value.len; i++) {
		char c = buf[t->value.off + i];

		if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
			b64[n++] = c;
	}
	return smtprobe_tls_base64(b64, n, der, KEY_MAX);
}

static int rsa_key(const char *buf, const struct smtprobe_tag *t,
                   const unsigned char *der, long n,
                   struct smtprobe_dkim_key *out)
{
	struct smtprobe_pubkey k;
	char why[96];

	if (smtprobe_tls_pubkey(der, (size_t)n, 0, &k) < 0)
		return bad(buf, t, out, SMTPROBE_DNSREC_E_KEY,
		           "is not an RSA public key");
	if (k.form == SMTPROBE_PK_PKCS1)
		out->flags |= SMTPROBE_DKIM_F_PKCS1;
	if (k.trailing)
		return bad(buf, t, out, SMTPROBE_DNSREC_E_KEY,
		           "has bytes after the key");
	if (k.kind != SMTPROBE_PK_RSA) {
		snprintf(why, sizeof(why),
		         "holds a key of type %s, not RSA (k=)", k.type);
		return bad(buf, t, out, SMTPROBE_DNSREC_E_KEY_TYPE, why);
	}
	out->bits = k.bits;
	return 0;
}

static int ed25519_key(const char *buf, const struct smtprobe_tag *t,
                       const unsigned char *der, long n,
                       struct smtprobe_dkim_key *out)
{
	struct smtprobe_pubkey k;
	char why[96];

	if (n != ED25519_LEN) {
		if (smtprobe_tls_pubkey(der, (size_t)n, 0, &k) == 0)
			snprintf(why, sizeof(why),
			         "is a SubjectPublicKeyInfo, not the raw "
			         "32-byte key of RFC 8463");
		else
			snprintf(why, sizeof(why),
			         "holds %ld bytes, not a raw 32-byte ed25519 "
			         "key",
			         n);
		return bad(buf, t, out, SMTPROBE_DNSREC_E_KEY, why);
	}
	if (smtprobe_tls_pubkey(der, (size_t)n, 1, &k) < 0)
		return bad(buf, t, out, SMTPROBE_DNSREC_E_KEY,
		           "is not an ed25519 key");
	out->bits = k.bits;
	return 0;
}

static int tag_p(const struct smtprobe_taglist *tl, const char *buf,
                 struct smtprobe_dkim_key *out)
{
	const struct smtprobe_tag *t = smtprobe_taglist_find(tl, buf, "p");
	unsigned char der[KEY_MAX];
	long n;
	int rc;

	if (t == NULL)
		return taglist_seterr(&out->error, SMTPROBE_DNSREC_E_MISSING,
		                      tl->tag[0].name, "dkim: p= is missing");
	n = base64(buf, t, der);
	if (n < 0)
		return bad(buf, t, out, SMTPROBE_DNSREC_E_KEY, "is not base64");
	if (n == 0) {
		out->flags |= SMTPROBE_DKIM_F_REVOKED;
		return 0;
	}
	rc = out->ktype == SMTPROBE_DKIM_K_ED25519
	             ? ed25519_key(buf, t, der, n, out)
	             : rsa_key(buf, t, der, n, out);
	return rc;
}

static const char *const known_tags[] = {"v", "h", "k", "n", "p", "s", "t"};

int smtprobe_dkim_key_parse(const char *buf, size_t len,
                            struct smtprobe_dkim_key *out)
{
	struct smtprobe_taglist tl;
	const struct smtprobe_tag *n;
	size_t i, k;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = smtprobe_taglist_parse(buf, len, DKIM, &tl);
	if (rc < 0) {
		out->error = tl.error;
		return rc;
	}
	for (i = 0; i < tl.n; i++) {
		for (k = 0; k < sizeof(known_tags) / sizeof(known_tags[0]); k++)
			if (tl.tag[i].name.len == 1 &&
			    buf[tl.tag[i].name.off] == known_tags[k][0])
				break;
		if (k == sizeof(known_tags) / sizeof(known_tags[0]))
			out->flags |= SMTPROBE_DKIM_F_UNKNOWN_TAG;
	}
	n = smtprobe_taglist_find(&tl, buf, "n");
	if (n != NULL)
		out->notes = n->value;
	/* k= before p=: the key type says how to read the key */
	rc = tag_v(&tl, buf, out);
	if (rc == 0)
		rc = tag_k(&tl, buf, out);
	if (rc == 0)
		rc = tag_words(&tl, buf, "h", out);
	if (rc == 0)
		rc = tag_words(&tl, buf, "s", out);
	if (rc == 0)
		rc = tag_words(&tl, buf, "t", out);
	if (rc == 0)
		rc = tag_p(&tl, buf, out);
	return rc;
}

enum smtprobe_dkim_class
smtprobe_dkim_key_class(const struct smtprobe_dkim_key *k)
{
	if (k->error.code != SMTPROBE_DNSREC_OK)
		return SMTPROBE_DKIM_C_INVALID;
	if (k->flags & SMTPROBE_DKIM_F_REVOKED)
		return SMTPROBE_DKIM_C_REVOKED;
	/* RFC 8301 §3.1: sha1 must not be used to verify */
	if ((k->flags & SMTPROBE_DKIM_F_NOT_EMAIL) ||
	    ((k->flags & SMTPROBE_DKIM_F_H) &&
	     !(k->flags & SMTPROBE_DKIM_F_H_SHA256)))
		return SMTPROBE_DKIM_C_UNUSABLE;
	if (k->ktype == SMTPROBE_DKIM_K_RSA &&
	    k->bits < SMTPROBE_DKIM_RSA_FAIL_BITS)
		return SMTPROBE_DKIM_C_TOO_WEAK;
	if (k->ktype == SMTPROBE_DKIM_K_RSA &&
	    k->bits < SMTPROBE_DKIM_RSA_WARN_BITS)
		return SMTPROBE_DKIM_C_WEAK;
	if (k->flags & SMTPROBE_DKIM_F_TESTING)
		return SMTPROBE_DKIM_C_TESTING;
	return SMTPROBE_DKIM_C_GOOD;
}

const char *smtprobe_dkim_class_name(enum smtprobe_dkim_class c)
{
	static const char *const names[] = {
	        [SMTPROBE_DKIM_C_INVALID] = "invalid",
	        [SMTPROBE_DKIM_C_REVOKED] = "revoked",
	        [SMTPROBE_DKIM_C_UNUSABLE] = "unusable",
	        [SMTPROBE_DKIM_C_TOO_WEAK] = "too_weak",
	        [SMTPROBE_DKIM_C_WEAK] = "weak",
	        [SMTPROBE_DKIM_C_TESTING] = "testing",
	        [SMTPROBE_DKIM_C_GOOD] = "good",
	};

	return (unsigned)c <= SMTPROBE_DKIM_C_GOOD ? names[c] : "?";
}

const char *smtprobe_dkim_ktype_name(enum smtprobe_dkim_ktype t)
{
	return t == SMTPROBE_DKIM_K_ED25519 ? "ed25519" : "rsa";
}
