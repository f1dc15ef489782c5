/* kb.c - lookups in the knowledge base (the data is in kb_data.c).
 *
 * smtprobe_kb_lookup matches, most specific first: vendor texts (longest
 * pattern first), the enhanced code (exact class, then the "x." generic,
 * then "x.S.0" of its subject, as RFC 3463 says for unknown details), then
 * the basic code. Each entry appears at most once.
 *
 * Bad input is not an error but "nothing known": a code other than 0 or
 * 200..599 gives no matches at all; an enhanced code that is not
 * c.s.d (class 2/4/5, 1-3 digits each) is ignored; only the first
 * KB_TEXT_MAX bytes of text are considered. Pure: no allocation, no
 * globals written, no I/O. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "smtprobe/kb.h"

#include "banned.h"

#define KB_TEXT_MAX 1024 /* bytes of a reply text or error considered */
#define KB_ENH_MAX  11   /* "5.999.999" and a NUL fit */

/* Everyday spellings of local errors (strerror, getaddrinfo, resolvers,
 * log lines) and the entry key they stand for. Checked in order, so the
 * more specific spelling comes first. */
static const struct {
	const char *alias;
	const char *key;
} local_aliases[] = {
        {"connection refused", "ECONNREFUSED"},
        {"timed out waiting", "TIMEOUT"},
        {"timeout waiting", "TIMEOUT"},
        {"read timeout", "TIMEOUT"},
        {"banner timeout", "TIMEOUT"},
        {"connection timed out", "ETIMEDOUT"},
        {"connect timeout", "ETIMEDOUT"},
        {"operation timed out", "ETIMEDOUT"},
        {"no route to host", "EHOSTUNREACH"},
        {"host is unreachable", "EHOSTUNREACH"},
        {"network is unreachable", "ENETUNREACH"},
        {"connection reset", "ECONNRESET"},
        {"broken pipe", "EPIPE"},
        {"name or service not known", "NXDOMAIN"},
        {"host not found", "NXDOMAIN"},
        {"non-existent domain", "NXDOMAIN"},
        {"no such host", "NXDOMAIN"},
        {"temporary failure in name resolution", "SERVFAIL"},
        {"server failure", "SERVFAIL"},
        {"resolver failure", "SERVFAIL"},
        {"no address associated with hostname", "NOANSWER"},
        {"no address record", "NOANSWER"},
        {"no answer", "NOANSWER"},
};

static size_t bounded_len(const char *s)
{
	const char *nul;

	if (s == NULL)
		return 0;
	nul = memchr(s, '\0', KB_TEXT_MAX);
	return nul != NULL ? (size_t)(nul - s) : KB_TEXT_MAX;
}

/* Characters equal for our matching: case-insensitive, and '-' equal to
 * ' ' ("self signed" of OpenSSL 1.1 and "self-signed" of 3.x). */
static int fold(unsigned char c)
{
	if (c == '-')
		return ' ';
	return tolower(c);
}

/* Does hay[0..hlen) contain needle (NUL-terminated)? */
static int contains(const char *hay, size_t hlen, const char *needle)
{
	size_t nlen = strlen(needle), i, j;

	if (nlen == 0 || nlen > hlen)
		return 0;
	for (i = 0; i + nlen <= hlen; i++) {
		for (j = 0; j < nlen; j++)
			if (fold((unsigned char)hay[i + j]) !=
			    fold((unsigned char)needle[j]))
				break;
		if (j == nlen)
			return 1;
	}
	return 0;
}

/* Copies a valid "c.s.d" into out (lower-case not needed: digits only);
 * returns 0 when enh is not one. */
static int enhanced_valid(const char *enh, char *out, size_t outsz)
{
	size_t i = 0, part = 0, digits = 0;

	if (enh == NULL || (enh[0] != '2' && enh[0] != '4' && enh[0] != '5'))
		return 0;
	for (i = 0; enh[i] != '\0'; i++) {
		if (i + 1 >= outsz)
			return 0;
		if (enh[i] == '.') {
			if (digits == 0 || ++part > 2)
				return 0;
			digits = 0;
		} else if (isdigit((unsigned char)enh[i])) {
			if (++digits > 3 || (part == 0 && digits > 1))
				return 0;
		} else {
			return 0;
		}
		out[i] = enh[i];
	}
	out[i] = '\0';
	return part == 2 && digits > 0;
}

static size_t add(const struct smtprobe_kb_entry **out, size_t n, size_t max,
                  const struct smtprobe_kb_entry *e)
{
	size_t i;

	if (e == NULL || n >= max)
		return n;
	for (i = 0; i < n; i++)
		if (out[i] == e)
			return n;
	out[n] = e;
	return n + 1;
}

static const struct smtprobe_kb_entry *find_key(enum smtprobe_kb_kind kind,
                                                const char *key)
{
	const struct smtprobe_kb_entry *all;
	size_t n, i;

	all = smtprobe_kb_entries(&n);
	for (i = 0; i < n; i++)
		if (all[i].kind == kind && strcasecmp(all[i].key, key) == 0)
			return &all[i];
	return NULL;
}

/* Text matches, longest pattern first: the longer the pattern, the more
 * specific the entry. */
static size_t match_text(const char *text, size_t len,
                         const struct smtprobe_kb_entry **out, size_t n,
                         size_t max)
{
	const struct smtprobe_kb_entry *all;
	size_t total, i, best_len, prev_len = (size_t)-1;

	all = smtprobe_kb_entries(&total);
	for (;;) {
		const struct smtprobe_kb_entry *best = NULL;

		best_len = 0;
		for (i = 0; i < total; i++) {
			size_t kl;

			if (all[i].kind != SMTPROBE_KB_TEXT)
				continue;
			kl = strlen(all[i].key);
			/* next round: strictly shorter, or equal and later */
			if (kl > prev_len || kl <= best_len)
				continue;
			if (!contains(text, len, all[i].key))
				continue;
			{
				size_t k;
				int seen = 0;

				for (k = 0; k < n; k++)
					if (out[k] == &all[i])
						seen = 1;
				if (seen)
					continue;
			}
			best = &all[i];
			best_len = kl;
		}
		if (best == NULL || n >= max)
			return n;
		out[n++] = best;
		prev_len = best_len;
	}
}

static size_t match_enhanced(const char *enh,
                             const struct smtprobe_kb_entry **out, size_t n,
                             size_t max)
{
	char key[KB_ENH_MAX + 2], generic[KB_ENH_MAX + 2];
	const char *dot;

	if (!enhanced_valid(enh, key + 0, KB_ENH_MAX))
		return n;
	n = add(out, n, max, find_key(SMTPROBE_KB_ENHANCED, key));
	generic[0] = 'x';
	memcpy(generic + 1, key + 1, strlen(key + 1) + 1);
	n = add(out, n, max, find_key(SMTPROBE_KB_ENHANCED, generic));
	if (n > 0 && out[n - 1]->kind == SMTPROBE_KB_ENHANCED)
		return n;
	/* unknown detail: fall back to x.S.0 */
	dot = strchr(generic + 2, '.');
	if (dot != NULL && (size_t)(dot - generic) + 3 <= sizeof(generic)) {
		size_t at = (size_t)(dot - generic) + 1;

		generic[at] = '0';
		generic[at + 1] = '\0';
		n = add(out, n, max, find_key(SMTPROBE_KB_ENHANCED, generic));
	}
	return n;
}

size_t smtprobe_kb_lookup(int code, const char *enhanced, const char *text,
                          const struct smtprobe_kb_entry **out, size_t max)
{
	size_t n = 0;

	if (out == NULL || max == 0)
		return 0;
	if (code != 0 && (code < 200 || code > 599))
		return 0;
	if (text != NULL)
		n = match_text(text, bounded_len(text), out, n, max);
	if (enhanced != NULL && enhanced[0] != '\0')
		n = match_enhanced(enhanced, out, n, max);
	if (code != 0) {
		char key[4];

		key[0] = (char)('0' + code / 100);
		key[1] = (char)('0' + code / 10 % 10);
		key[2] = (char)('0' + code % 10);
		key[3] = '\0';
		n = add(out, n, max, find_key(SMTPROBE_KB_BASIC, key));
	}
	return n;
}

/* The LOCAL or X509 entry with the longest key contained in s. */
static const struct smtprobe_kb_entry *
longest_contained(enum smtprobe_kb_kind kind, const char *s, size_t len)
{
	const struct smtprobe_kb_entry *all, *best = NULL;
	size_t n, i, best_len = 0;

	all = smtprobe_kb_entries(&n);
	for (i = 0; i < n; i++) {
		size_t kl = strlen(all[i].key);

		if (all[i].kind == kind && kl > best_len &&
		    contains(s, len, all[i].key)) {
			best = &all[i];
			best_len = kl;
		}
	}
	return best;
}

/* Whole words only for the short upper-case names, so "EPIPE" does not
 * match inside another word: the name must be all of s, or be found in s
 * delimited by non-alphanumerics. */
static int has_word(const char *s, size_t len, const char *word)
{
	size_t wl = strlen(word), i;

	for (i = 0; i + wl <= len; i++) {
		if (strncasecmp(s + i, word, wl) != 0)
			continue;
		if ((i == 0 || !isalnum((unsigned char)s[i - 1])) &&
		    (i + wl == len || !isalnum((unsigned char)s[i + wl])))
			return 1;
	}
	return 0;
}

const struct smtprobe_kb_entry *smtprobe_kb_local(const char *name)
{
	const struct smtprobe_kb_entry *all;
	size_t len, n, i;

	len = bounded_len(name);
	if (len == 0)
		return NULL;
	all = smtprobe_kb_entries(&n);
	for (i = 0; i < sizeof(local_aliases) / sizeof(local_aliases[0]); i++)
		if (contains(name, len, local_aliases[i].alias))
			return find_key(SMTPROBE_KB_LOCAL,
			                local_aliases[i].key);
	/* an error name (ECONNREFUSED, NXDOMAIN) as a word */
	for (i = 0; i < n; i++) {
		const char *k = all[i].key;

		if (all[i].kind == SMTPROBE_KB_LOCAL &&
		    strchr(k, ' ') == NULL && has_word(name, len, k))
			return &all[i];
	}
	return longest_contained(SMTPROBE_KB_LOCAL, name, len);
}

/* The X509_V_ERR number is the part of the id after "x509-". */
static long x509_code_of(const struct smtprobe_kb_entry *e)
{
	char *end;
	long v;

	if (strncmp(e->id, "x509-", 5) != 0)
		return -1;
	v = strtol(e->id + 5, &end, 10);
	return (end != e->id + 5 && *end == '-') ? v : -1;
}

const struct smtprobe_kb_entry *smtprobe_kb_x509(long code, const char *reason)
{
	const struct smtprobe_kb_entry *all;
	size_t n, i, len;

	if (code > 0) {
		all = smtprobe_kb_entries(&n);
		for (i = 0; i < n; i++)
			if (all[i].kind == SMTPROBE_KB_X509 &&
			    x509_code_of(&all[i]) == code)
				return &all[i];
	}
	len = bounded_len(reason);
	if (len == 0)
		return NULL;
	return longest_contained(SMTPROBE_KB_X509, reason, len);
}
