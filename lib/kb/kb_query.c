/* kb_query.c - what a user pasted, parsed for the knowledge base: "554
 * 5.7.1 Relay access denied" as one line or as words, "550-5.7.26 ...",
 * with a leading "smtprobe: ", "<** " or "** " ignored; then everything
 * the knowledge base knows of it (a text without a code is also tried as
 * a local error and as an OpenSSL certificate reason).
 *
 * Pure: (buf, len) in, a struct out, no allocation. Control bytes become
 * spaces (pasted CR/LF/TAB separate words) and other bytes outside ASCII
 * '?', so the text is safe to echo or put into JSON; a query longer than
 * SMTPROBE_KB_QUERY_MAX bytes is refused, never cut. */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "smtprobe/kb.h"
#include "banned.h"

static const char *const kind_names[] = {"basic", "enhanced", "text", "local",
                                         "x509"};

const char *smtprobe_kb_kind_name(enum smtprobe_kb_kind k)
{
	return (size_t)k < sizeof(kind_names) / sizeof(kind_names[0])
	               ? kind_names[k]
	               : "?";
}

static int skip_prefix(const char **p, const char *prefix)
{
	size_t n = strlen(prefix);

	if (strncasecmp(*p, prefix, n) != 0)
		return 0;
	*p += n;
	while (**p == ' ')
		(*p)++;
	return 1;
}

/* Length of an enhanced-code-looking token at p (digits and dots up to a
 * space or the end), 0 if there is none; the lookup validates it. */
static size_t enhanced_token(const char *p)
{
	size_t i = 0, dots = 0;

	if (!isdigit((unsigned char)p[0]))
		return 0;
	while (isdigit((unsigned char)p[i]) || p[i] == '.') {
		dots += p[i] == '.';
		i++;
	}
	if (dots != 2 || (p[i] != '\0' && p[i] != ' ') ||
	    i >= SMTPROBE_KB_ENHANCED_MAX)
		return 0;
	return i;
}

int smtprobe_kb_query_parse(const char *buf, size_t len,
                            struct smtprobe_kb_query *q)
{
	char clean[SMTPROBE_KB_QUERY_MAX + 1];
	const char *p;

	memset(q, 0, sizeof(*q));
	if (len > SMTPROBE_KB_QUERY_MAX)
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];
		clean[i] = c < 0x20 || c == 0x7f ? ' '
		           : c >= 0x80           ? '?'
		                                 : (char)c;
	}
	clean[len] = '\0';
	p = clean;
	while (*p == ' ')
		p++;
	while (skip_prefix(&p, "smtprobe:") || skip_prefix(&p, "<**") ||
	       skip_prefix(&p, "<~*") || skip_prefix(&p, "**"))
		;
	/* a reply code is 2xx..5xx; other digits are text */
	if (p[0] >= '2' && p[0] <= '5' && isdigit((unsigned char)p[1]) &&
	    isdigit((unsigned char)p[2]) &&
	    (p[3] == '\0' || p[3] == ' ' || p[3] == '-')) {
		q->code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
		p += 3;
		while (*p == ' ' || *p == '-')
			p++;
	}
	size_t n = enhanced_token(p);
	if (n > 0) {
		memcpy(q->enhanced, p, n);
		q->enhanced[n] = '\0';
		p += n;
	}
	while (*p == ' ')
		p++;
	n = strlen(p);
	while (n > 0 && p[n - 1] == ' ')
		n--;
	memcpy(q->text, p, n);
	q->text[n] = '\0';
	return 0;
}

static size_t add_match(const struct smtprobe_kb_entry **m, size_t n,
                        size_t max, const struct smtprobe_kb_entry *e)
{
	if (e == NULL || n >= max)
		return n;
	for (size_t i = 0; i < n; i++)
		if (m[i] == e)
			return n;
	m[n] = e;
	return n + 1;
}

size_t smtprobe_kb_query_match(const struct smtprobe_kb_query *q,
                               const struct smtprobe_kb_entry **out, size_t max)
{
	size_t n = smtprobe_kb_lookup(q->code, q->enhanced, q->text, out, max);

	if (q->code == 0 && q->enhanced[0] == '\0') {
		n = add_match(out, n, max, smtprobe_kb_local(q->text));
		n = add_match(out, n, max, smtprobe_kb_x509(0, q->text));
	}
	return n;
}
