/* ehlo.c - EHLO/LHLO capability parsing (RFC 5321 4.1.1.1, RFC 4954 AUTH,
 * RFC 1870 SIZE and the other extension RFCs) and SASL mechanism names.
 *
 * Input is the text of the lines of a 250 reply, normally already escaped
 * by smtprobe_reply_build(). Keywords and mechanism names are compared
 * without regard to case; mechanism names are stored upper-cased and
 * deduplicated. Both the standard "AUTH MECH..." and the pre-standard
 * "AUTH=MECH..." line are understood; either sets SMTPROBE_CAP_AUTH, the
 * latter also SMTPROBE_CAP_AUTH_OLD.
 *
 * Bad input never fails the parse: an unknown or malformed keyword is
 * kept in `unknown`, a SIZE value that is not a number or overflows
 * 64 bits leaves `size` at 0 (the cap is still recorded). Bytes outside
 * printable ASCII that reach this module anyway are stored as \xNN, so the
 * stored strings are always safe to print.
 *
 * Limits: `host` (SMTPROBE_MAX_HOSTNAME), `auth` and `unknown`
 * (SMTPROBE_MAX_EHLO_UNKNOWN) are bounded; a word that does not fit is
 * left out whole (the host is cut at an escape boundary) and `truncated`
 * is set, so a full list is reported, never silently cut. */
#include <limits.h>
#include <string.h>

#include "smtprobe/ehlo.h"

#include "banned.h"

struct keyword {
	const char *name;
	unsigned cap;
};

static const struct keyword keywords[] = {
        {"STARTTLS", SMTPROBE_CAP_STARTTLS},
        {"AUTH", SMTPROBE_CAP_AUTH},
        {"SIZE", SMTPROBE_CAP_SIZE},
        {"PIPELINING", SMTPROBE_CAP_PIPELINING},
        {"8BITMIME", SMTPROBE_CAP_8BITMIME},
        {"SMTPUTF8", SMTPROBE_CAP_SMTPUTF8},
        {"CHUNKING", SMTPROBE_CAP_CHUNKING},
        {"DSN", SMTPROBE_CAP_DSN},
        {"ENHANCEDSTATUSCODES", SMTPROBE_CAP_ENHANCEDSTATUSCODES},
        {"REQUIRETLS", SMTPROBE_CAP_REQUIRETLS},
        {"BINARYMIME", SMTPROBE_CAP_BINARYMIME},
};

struct mech {
	const char *name;
	unsigned bit;
};

static const struct mech mechs[] = {
        {"PLAIN", SMTPROBE_MECH_PLAIN},
        {"LOGIN", SMTPROBE_MECH_LOGIN},
        {"CRAM-MD5", SMTPROBE_MECH_CRAM_MD5},
        {"DIGEST-MD5", SMTPROBE_MECH_DIGEST_MD5},
        {"SCRAM-SHA-1", SMTPROBE_MECH_SCRAM_SHA_1},
        {"SCRAM-SHA-256", SMTPROBE_MECH_SCRAM_SHA_256},
        {"NTLM", SMTPROBE_MECH_NTLM},
        {"XOAUTH2", SMTPROBE_MECH_XOAUTH2},
        {"OAUTHBEARER", SMTPROBE_MECH_OAUTHBEARER},
};

/* Strongest first; bearer-token mechanisms are deliberately absent. */
static const unsigned mech_order[] = {
        SMTPROBE_MECH_SCRAM_SHA_256, SMTPROBE_MECH_SCRAM_SHA_1,
        SMTPROBE_MECH_CRAM_MD5,      SMTPROBE_MECH_DIGEST_MD5,
        SMTPROBE_MECH_NTLM,          SMTPROBE_MECH_PLAIN,
        SMTPROBE_MECH_LOGIN,
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ASCII only: keywords are ASCII and the locale must not matter. */
static unsigned char upper(unsigned char c)
{
	return (c >= 'a' && c <= 'z') ? (unsigned char)(c - 'a' + 'A') : c;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t';
}

static int ieq(const char *a, size_t alen, const char *b)
{
	size_t i;

	for (i = 0; i < alen; i++) {
		if (b[i] == '\0' ||
		    upper((unsigned char)a[i]) != upper((unsigned char)b[i]))
			return 0;
	}
	return b[alen] == '\0';
}

static size_t skip_space(const char *s, size_t len, size_t pos)
{
	while (pos < len && is_space(s[pos]))
		pos++;
	return pos;
}

static size_t word_end(const char *s, size_t len, size_t pos)
{
	while (pos < len && !is_space(s[pos]))
		pos++;
	return pos;
}

/* Copy a word into dst (size dstsz, NUL-terminated), escaping bytes that
 * are not printable ASCII as \xNN and optionally upper-casing. Returns 1
 * when the whole word fit, 0 when it was cut (at an escape boundary). */
static int copy_word(char *dst, size_t dstsz, const char *src, size_t len,
                     int up)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, w = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)src[i];

		if (c > 0x20 && c < 0x7f) {
			if (w + 1 >= dstsz)
				break;
			dst[w++] = (char)(up ? upper(c) : c);
		} else {
			if (w + 4 >= dstsz)
				break;
			dst[w++] = '\\';
			dst[w++] = 'x';
			dst[w++] = hex[c >> 4];
			dst[w++] = hex[c & 0xf];
		}
	}
	dst[w] = '\0';
	return i == len;
}

static int list_has(const char *list, const char *word, size_t wlen)
{
	const char *p = list;

	while (*p != '\0') {
		const char *sp = strchr(p, ' ');
		size_t n = sp != NULL ? (size_t)(sp - p) : strlen(p);

		if (n == wlen && memcmp(p, word, n) == 0)
			return 1;
		if (sp == NULL)
			break;
		p = sp + 1;
	}
	return 0;
}

/* Append a word to a space-separated list of capacity
 * SMTPROBE_MAX_EHLO_UNKNOWN, unless it is already there. */
static void list_add(struct smtprobe_ehlo *out, char *list, const char *src,
                     size_t len, int up)
{
	char word[SMTPROBE_MAX_EHLO_UNKNOWN];
	size_t used, wlen;

	if (len == 0)
		return;
	if (!copy_word(word, sizeof(word), src, len, up)) {
		out->truncated = 1;
		return;
	}
	wlen = strlen(word);
	if (list_has(list, word, wlen))
		return;
	used = strlen(list);
	if (used + (used > 0) + wlen + 1 > SMTPROBE_MAX_EHLO_UNKNOWN) {
		out->truncated = 1;
		return;
	}
	if (used > 0)
		list[used++] = ' ';
	memcpy(list + used, word, wlen + 1);
}

static void parse_mechs(struct smtprobe_ehlo *out, const char *s, size_t len,
                        size_t pos)
{
	for (;;) {
		size_t end;

		pos = skip_space(s, len, pos);
		if (pos >= len)
			break;
		end = word_end(s, len, pos);
		out->mechs |= smtprobe_mech_from_name(s + pos, end - pos);
		list_add(out, out->auth, s + pos, end - pos, 1);
		pos = end;
	}
}

/* RFC 1870: "SIZE" [SP number]. Anything that is not a plain decimal
 * number fitting 64 bits leaves size at 0. */
static void parse_size(struct smtprobe_ehlo *out, const char *s, size_t len,
                       size_t pos)
{
	unsigned long long v = 0;
	size_t end;

	pos = skip_space(s, len, pos);
	end = word_end(s, len, pos);
	if (pos == end || skip_space(s, len, end) != len)
		return;
	for (; pos < end; pos++) {
		unsigned d;

		if (s[pos] < '0' || s[pos] > '9')
			return;
		d = (unsigned)(s[pos] - '0');
		if (v > (ULLONG_MAX - d) / 10)
			return;
		v = v * 10 + d;
	}
	out->size = v;
}

void smtprobe_ehlo_parse_line(struct smtprobe_ehlo *out, const char *line,
                              size_t len)
{
	size_t pos, end, i;

	pos = skip_space(line, len, 0);
	if (pos >= len)
		return;
	end = word_end(line, len, pos);

	if (end - pos >= 5 && ieq(line + pos, 5, "AUTH=")) {
		out->caps |= SMTPROBE_CAP_AUTH | SMTPROBE_CAP_AUTH_OLD;
		parse_mechs(out, line, len, pos + 5);
		return;
	}
	for (i = 0; i < NELEM(keywords); i++) {
		if (ieq(line + pos, end - pos, keywords[i].name))
			break;
	}
	if (i == NELEM(keywords)) {
		list_add(out, out->unknown, line + pos, end - pos, 0);
		return;
	}
	out->caps |= keywords[i].cap;
	if (keywords[i].cap == SMTPROBE_CAP_AUTH)
		parse_mechs(out, line, len, end);
	else if (keywords[i].cap == SMTPROBE_CAP_SIZE)
		parse_size(out, line, len, end);
}

void smtprobe_ehlo_parse(struct smtprobe_ehlo *out, const char *const *lines,
                         size_t nlines)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	if (nlines == 0 || lines == NULL)
		return;
	if (lines[0] != NULL) {
		size_t len = strlen(lines[0]);
		size_t pos = skip_space(lines[0], len, 0);
		size_t end = word_end(lines[0], len, pos);

		if (!copy_word(out->host, sizeof(out->host), lines[0] + pos,
		               end - pos, 0))
			out->truncated = 1;
	}
	for (i = 1; i < nlines; i++) {
		if (lines[i] != NULL)
			smtprobe_ehlo_parse_line(out, lines[i],
			                         strlen(lines[i]));
	}
}

unsigned smtprobe_mech_from_name(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < NELEM(mechs); i++) {
		if (ieq(name, len, mechs[i].name))
			return mechs[i].bit;
	}
	return 0;
}

const char *smtprobe_mech_name(unsigned mech)
{
	size_t i;

	for (i = 0; i < NELEM(mechs); i++) {
		if (mechs[i].bit == mech)
			return mechs[i].name;
	}
	return NULL;
}

unsigned smtprobe_mech_strongest(unsigned offered)
{
	size_t i;

	for (i = 0; i < NELEM(mech_order); i++) {
		if (offered & mech_order[i])
			return mech_order[i];
	}
	return 0;
}
