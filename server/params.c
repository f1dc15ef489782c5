/* params.c - the ESMTP parameters of MAIL and RCPT (RFC 5321 4.1.2 and
 * 4.1.1.11, SIZE RFC 1870, BODY RFC 6152, SMTPUTF8 RFC 6531, DSN RFC 3461,
 * AUTH RFC 4954 5), BDAT's argument (RFC 3030) and UTF-8 checks. Pure: no
 * I/O, no allocation; fuzzed with the command parser (fuzz_command).
 *
 * A parameter is keyword[=value], separated by spaces; keywords are
 * case-insensitive. Each is checked against what the server advertised:
 * one it does not know, or of an extension it did not offer, gets
 * "555 5.5.4 Unsupported option: KEYWORD" (RFC 5321 4.1.1.11, Postfix's
 * words); a bad value or a repeated parameter gets 501 5.5.4. The values
 * kept (ENVID, ORCPT) are kept as sent, xtext-encoded. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "params.h"

#include "banned.h"

#define KEY_MAX 32

struct param {
	char key[KEY_MAX + 1]; /* upper case */
	const char *val;       /* NULL when there is no '=' */
	size_t vlen;
};

/* The next parameter from *p; 1 when one was read, 0 at the end, -1 when
 * malformed (reply written). */
static int next_param(const char **p, const char *end, struct param *out,
                      char *reply, size_t replysz)
{
	const char *s = *p, *k;
	size_t kn = 0;

	while (s < end && *s == ' ')
		s++;
	if (s == end) {
		*p = s;
		return 0;
	}
	k = s;
	while (s < end && *s != ' ' && *s != '=')
		s++;
	kn = (size_t)(s - k);
	int ok = kn > 0 && kn <= KEY_MAX;
	for (size_t i = 0; ok && i < kn; i++) {
		unsigned char c = (unsigned char)k[i];
		ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		     (c >= '0' && c <= '9') || (c == '-' && i > 0);
	}
	if (!ok) {
		snprintf(reply, replysz, "501 5.5.4 Bad parameter syntax");
		return -1;
	}
	for (size_t i = 0; i < kn; i++) {
		char c = k[i];
		out->key[i] = (c >= 'a' && c <= 'z') ? (char)(c - 32) : c;
	}
	out->key[kn] = '\0';
	out->val = NULL;
	out->vlen = 0;
	if (s < end && *s == '=') {
		out->val = ++s;
		while (s < end && *s != ' ') {
			unsigned char c = (unsigned char)*s;
			/* esmtp-value: %d33-60 / %d62-126 (and UTF-8 with
			 * SMTPUTF8, RFC 6531 3.3) */
			if (c < 33 || c == '=' || c == 127) {
				snprintf(reply, replysz,
				         "501 5.5.4 Bad %s parameter syntax",
				         out->key);
				return -1;
			}
			s++;
		}
		out->vlen = (size_t)(s - out->val);
		if (out->vlen == 0) {
			snprintf(reply, replysz,
			         "501 5.5.4 Bad %s parameter syntax", out->key);
			return -1;
		}
	}
	*p = s;
	return 1;
}

static int is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') ||
	       (c >= 'a' && c <= 'f');
}

/* RFC 3461 4: xtext = *( xchar / "+" 2HEXDIG ), xchar = 33-126 but '+'
 * and '='. */
static int xtext_ok(const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c == '+') {
			if (i + 2 >= n || !is_hex((unsigned char)v[i + 1]) ||
			    !is_hex((unsigned char)v[i + 2]))
				return 0;
			i += 2;
			continue;
		}
		if (c < 33 || c > 126 || c == '=')
			return 0;
	}
	return 1;
}

static int value_is(const struct param *p, const char *word)
{
	return p->val && p->vlen == strlen(word) &&
	       strncasecmp(p->val, word, p->vlen) == 0;
}

static int unsupported(const struct param *p, char *reply, size_t replysz)
{
	snprintf(reply, replysz, "555 5.5.4 Unsupported option: %s", p->key);
	return -1;
}

static int bad(const struct param *p, char *reply, size_t replysz)
{
	snprintf(reply, replysz, "501 5.5.4 Bad %s parameter syntax", p->key);
	return -1;
}

static int twice(const struct param *p, char *reply, size_t replysz)
{
	snprintf(reply, replysz, "501 5.5.4 Duplicate %s parameter", p->key);
	return -1;
}

int srv_mail_params_parse(const char *s, size_t n, const struct srv_offer *o,
                          struct srv_mail_params *out, char *reply,
                          size_t replysz)
{
	const char *p = s, *end = s + n;
	struct param prm;
	unsigned seen = 0;
	int r;

	memset(out, 0, sizeof(*out));
	while ((r = next_param(&p, end, &prm, reply, replysz)) == 1) {
		unsigned bit;
		if (strcmp(prm.key, "SIZE") == 0 && o->size) {
			bit = 1;
			if (!prm.val || prm.vlen > 20)
				return bad(&prm, reply, replysz);
			uint64_t v = 0;
			for (size_t i = 0; i < prm.vlen; i++) {
				unsigned char c = (unsigned char)prm.val[i];
				if (c < '0' || c > '9' ||
				    v > (UINT64_MAX - (uint64_t)(c - '0')) / 10)
					return bad(&prm, reply, replysz);
				v = v * 10 + (uint64_t)(c - '0');
			}
			out->has_size = 1;
			out->size = v;
		} else if (strcmp(prm.key, "BODY") == 0 && o->body8) {
			bit = 2;
			if (value_is(&prm, "7BIT"))
				out->body = SRV_BODY_7BIT;
			else if (value_is(&prm, "8BITMIME"))
				out->body = SRV_BODY_8BITMIME;
			else
				return bad(&prm, reply, replysz);
		} else if (strcmp(prm.key, "SMTPUTF8") == 0 && o->smtputf8) {
			bit = 4;
			if (prm.val)
				return bad(&prm, reply, replysz);
			out->smtputf8 = 1;
		} else if (strcmp(prm.key, "RET") == 0 && o->dsn) {
			bit = 8;
			if (value_is(&prm, "FULL"))
				out->ret = SRV_RET_FULL;
			else if (value_is(&prm, "HDRS"))
				out->ret = SRV_RET_HDRS;
			else
				return bad(&prm, reply, replysz);
		} else if (strcmp(prm.key, "ENVID") == 0 && o->dsn) {
			bit = 16;
			if (!prm.val || prm.vlen > SRV_ENVID_MAX ||
			    !xtext_ok(prm.val, prm.vlen))
				return bad(&prm, reply, replysz);
			memcpy(out->envid, prm.val, prm.vlen);
			out->envid[prm.vlen] = '\0';
		} else if (strcmp(prm.key, "AUTH") == 0 && o->auth) {
			bit = 32; /* RFC 4954 5: "<>" or an xtext mailbox */
			if (!prm.val || (!value_is(&prm, "<>") &&
			                 !xtext_ok(prm.val, prm.vlen)))
				return bad(&prm, reply, replysz);
		} else {
			return unsupported(&prm, reply, replysz);
		}
		if (seen & bit)
			return twice(&prm, reply, replysz);
		seen |= bit;
	}
	return r < 0 ? -1 : 0;
}

/* NOTIFY=NEVER or NOTIFY=SUCCESS,FAILURE,DELAY in any order, once each. */
static int parse_notify(const struct param *p, unsigned *out)
{
	static const struct {
		const char *word;
		unsigned bit;
	} words[] = {{"NEVER", SRV_NOTIFY_NEVER},
	             {"SUCCESS", SRV_NOTIFY_SUCCESS},
	             {"FAILURE", SRV_NOTIFY_FAILURE},
	             {"DELAY", SRV_NOTIFY_DELAY}};
	const char *s = p->val, *end = p->val + p->vlen;
	unsigned v = 0;

	if (!p->val)
		return -1;
	while (s <= end) {
		const char *c = memchr(s, ',', (size_t)(end - s));
		size_t len = (size_t)((c ? c : end) - s);
		unsigned bit = 0;
		for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
			if (len == strlen(words[i].word) &&
			    strncasecmp(s, words[i].word, len) == 0)
				bit = words[i].bit;
		if (!bit || (v & bit))
			return -1;
		v |= bit;
		if (!c)
			break;
		s = c + 1;
	}
	if ((v & SRV_NOTIFY_NEVER) && v != SRV_NOTIFY_NEVER)
		return -1;
	*out = v;
	return 0;
}

int srv_rcpt_params_parse(const char *s, size_t n, const struct srv_offer *o,
                          struct srv_rcpt_params *out, char *reply,
                          size_t replysz)
{
	const char *p = s, *end = s + n;
	struct param prm;
	unsigned seen = 0;
	int r;

	memset(out, 0, sizeof(*out));
	while ((r = next_param(&p, end, &prm, reply, replysz)) == 1) {
		unsigned bit;
		if (strcmp(prm.key, "NOTIFY") == 0 && o->dsn) {
			bit = 1;
			if (parse_notify(&prm, &out->notify) != 0)
				return bad(&prm, reply, replysz);
		} else if (strcmp(prm.key, "ORCPT") == 0 && o->dsn) {
			bit = 2;
			/* addr-type ";" xtext, e.g. rfc822;a+40b.example */
			const char *semi =
			        prm.val ? memchr(prm.val, ';', prm.vlen) : NULL;
			if (!semi || semi == prm.val ||
			    prm.vlen > SRV_ORCPT_MAX ||
			    (size_t)(semi - prm.val) + 1 >= prm.vlen ||
			    !xtext_ok(semi + 1,
			              prm.vlen - (size_t)(semi - prm.val) - 1))
				return bad(&prm, reply, replysz);
			for (const char *t = prm.val; t < semi; t++) {
				unsigned char c = (unsigned char)*t;
				if (!((c >= 'A' && c <= 'Z') ||
				      (c >= 'a' && c <= 'z') ||
				      (c >= '0' && c <= '9') || c == '-'))
					return bad(&prm, reply, replysz);
			}
			memcpy(out->orcpt, prm.val, prm.vlen);
			out->orcpt[prm.vlen] = '\0';
		} else {
			return unsupported(&prm, reply, replysz);
		}
		if (seen & bit)
			return twice(&prm, reply, replysz);
		seen |= bit;
	}
	return r < 0 ? -1 : 0;
}

int srv_bdat_parse(const char *arg, size_t n, uint64_t *size, int *last,
                   char *reply, size_t replysz)
{
	size_t i = 0;
	uint64_t v = 0;

	*size = 0;
	*last = 0;
	while (i < n && arg[i] >= '0' && arg[i] <= '9' && i < 20) {
		if (v > (UINT64_MAX - (uint64_t)(arg[i] - '0')) / 10)
			break;
		v = v * 10 + (uint64_t)(arg[i] - '0');
		i++;
	}
	int ok = i > 0 && (i == n || arg[i] == ' ');
	if (ok && i < n) {
		while (i < n && arg[i] == ' ')
			i++;
		ok = n - i == 4 && strncasecmp(arg + i, "LAST", 4) == 0;
		*last = ok;
	}
	if (!ok) {
		snprintf(reply, replysz,
		         "501 5.5.4 Syntax: BDAT chunk-size [LAST]");
		return -1;
	}
	*size = v;
	return 0;
}

const char *srv_notify_text(unsigned bits)
{
	static const char *const text[16] = {
	        NULL,
	        "NEVER",
	        "SUCCESS",
	        NULL,
	        "FAILURE",
	        NULL,
	        "SUCCESS,FAILURE",
	        NULL,
	        "DELAY",
	        NULL,
	        "SUCCESS,DELAY",
	        NULL,
	        "FAILURE,DELAY",
	        NULL,
	        "SUCCESS,FAILURE,DELAY",
	        NULL,
	};
	return bits < 16 ? text[bits] : NULL;
}

int srv_has_8bit(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] > 0x7f)
			return 1;
	return 0;
}

int srv_utf8_valid(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		unsigned char c = u[i];
		size_t len;
		unsigned long cp;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			cp = c & 0x07;
		} else {
			return 0; /* continuation byte, overlong lead, > F4 */
		}
		if (n - i < len)
			return 0;
		for (size_t k = 1; k < len; k++) {
			if ((u[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (u[i + k] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}
