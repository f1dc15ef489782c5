/* spf_macro.c - names, addresses and macro expansion (RFC 7208 sections
 * 5, 7.3 and 7.4) for the evaluator of spf_eval.c: pure functions of its
 * state (the client, the identities, the names %{p} validated); no DNS,
 * no allocation.
 *
 * On bad input and at the limits: an expansion stops at
 * SMTPROBE_SPF_MAX_EXPAND bytes and says so (SMTPROBE_SPF_E_EXPAND, a
 * permerror of its term); a macro the static walk cannot know (%{i} %{p}
 * %{v} %{c}, %{h} without a HELO name) makes it give up, never guess. An
 * expanded name loses its final dot and, over 253 bytes, labels on the
 * left; one with an empty label or a label over 63 bytes is refused, not
 * cut. Addresses match only when of the client's family; URL escapes are
 * upper case. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "smtprobe/spf.h"
#include "spf_int.h"

#include "banned.h"

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* ---- names and addresses ---- */

int spf_to_name(const char *s, size_t len, char out[SPF_NAMESZ])
{
	size_t i, label = 0;

	if (len > 0 && s[len - 1] == '.')
		len--;
	while (len > SMTPROBE_SPF_MAX_NAME) {
		const char *dot = memchr(s, '.', len);

		if (dot == NULL)
			return -1;
		len -= (size_t)(dot + 1 - s);
		s = dot + 1;
	}
	if (len == 0)
		return -1;
	for (i = 0; i <= len; i++) {
		if (i < len && s[i] != '.') {
			if (++label > 63)
				return -1;
			continue;
		}
		if (label == 0)
			return -1;
		label = 0;
	}
	memcpy(out, s, len);
	out[len] = '\0';
	return 0;
}

int spf_under(const char *a, const char *b)
{
	size_t al = strlen(a), bl = strlen(b), i;

	if (al > 0 && a[al - 1] == '.')
		al--;
	if (bl > 0 && b[bl - 1] == '.')
		bl--;
	if (bl == 0 || al < bl || (al > bl && a[al - bl - 1] != '.'))
		return 0;
	for (i = 0; i < bl; i++)
		if (lower((unsigned char)a[al - bl + i]) !=
		    lower((unsigned char)b[i]))
			return 0;
	return 1;
}

int spf_prefix_match(const unsigned char *a, const unsigned char *b, int bits)
{
	int full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, (size_t)full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((a[full] ^ b[full]) & (0xff00 >> rest) & 0xff) == 0;
}

int spf_addr_match(const struct smtprobe_spf_eval *ev,
                   const struct smtprobe_spf_answer *a, int bits, size_t *found)
{
	unsigned char fam = ev->v6 ? 6 : 4;
	size_t i, n = 0;
	int hit = 0;

	for (i = 0; a->addr != NULL && i < a->n; i++) {
		if (a->addr[i].family != fam)
			continue;
		n++;
		if (spf_prefix_match(a->addr[i].addr, ev->ip, bits))
			hit = 1;
	}
	if (found != NULL)
		*found = n;
	return hit;
}

size_t spf_count_family(const struct smtprobe_spf_answer *a, unsigned char fam)
{
	size_t i, n = 0;

	for (i = 0; a->addr != NULL && i < a->n; i++)
		n += a->addr[i].family == fam;
	return n;
}

/* %{i}: dotted quad, or 32 dotted nibbles */
static void fmt_ip_dotted(const struct smtprobe_spf_eval *ev, char *b,
                          size_t sz)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	if (!ev->v6) {
		snprintf(b, sz, "%u.%u.%u.%u", ev->ip[0], ev->ip[1], ev->ip[2],
		         ev->ip[3]);
		return;
	}
	for (i = 0; i < 32 && o + 2 < sz; i++) {
		unsigned nib = i % 2 ? ev->ip[i / 2] & 15u : ev->ip[i / 2] >> 4;

		if (i > 0)
			b[o++] = '.';
		b[o++] = hex[nib];
	}
	b[o] = '\0';
}

void spf_reverse_name(const struct smtprobe_spf_eval *ev, char *b, size_t sz)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	int i;

	if (!ev->v6) {
		snprintf(b, sz, "%u.%u.%u.%u.in-addr.arpa", ev->ip[3],
		         ev->ip[2], ev->ip[1], ev->ip[0]);
		return;
	}
	for (i = 31; i >= 0; i--) {
		unsigned nib = i % 2 ? ev->ip[i / 2] & 15u : ev->ip[i / 2] >> 4;

		b[o++] = hex[nib];
		b[o++] = '.';
	}
	snprintf(b + o, sz - o, "ip6.arpa");
}

/* ---- macro expansion (7.3, 7.4) ---- */

static const char *p_value(const struct smtprobe_spf_eval *ev,
                           const char *domain)
{
	size_t i;

	/* a validated name under <domain> SHOULD be preferred (7.3) */
	for (i = 0; i < ev->np; i++)
		if (ev->pvalid[i] && spf_under(ev->pnames[i], domain))
			return ev->pnames[i];
	for (i = 0; i < ev->np; i++)
		if (ev->pvalid[i])
			return ev->pnames[i];
	return "unknown";
}

/* %{s}: local "@" domain; both are bounded so that it fits */
static const char *join_sender(const struct smtprobe_spf_eval *ev, char *tmp,
                               size_t sz)
{
	size_t l = strlen(ev->local), d = strlen(ev->sdomain);

	if (l + 1 + d >= sz)
		return "";
	memcpy(tmp, ev->local, l);
	tmp[l] = '@';
	memcpy(tmp + l + 1, ev->sdomain, d + 1);
	return tmp;
}

/* The value of a macro letter, or NULL when the static walk cannot know
 * it (it has no IP, maybe no HELO name). */
static const char *macro_value(const struct smtprobe_spf_eval *ev, char l,
                               const char *domain, char *tmp, size_t sz)
{
	if (ev->is_static &&
	    (strchr("ipvc", l) != NULL || (l == 'h' && ev->helo[0] == '\0')))
		return NULL;
	switch (l) {
	case 's':
		return join_sender(ev, tmp, sz);
	case 'l':
		return ev->local;
	case 'o':
		return ev->sdomain;
	case 'd':
		return domain;
	case 'i':
		fmt_ip_dotted(ev, tmp, sz);
		return tmp;
	case 'p':
		return p_value(ev, domain);
	case 'v':
		return ev->v6 ? "ip6" : "in-addr";
	case 'h':
		return ev->helo[0] != '\0' ? ev->helo : "unknown";
	case 'c':
		if (!ev->v6)
			fmt_ip_dotted(ev, tmp, sz);
		else if (inet_ntop(AF_INET6, ev->ip, tmp, (socklen_t)sz) ==
		         NULL)
			tmp[0] = '\0';
		return tmp;
	case 'r':
		return ev->receiver[0] != '\0' ? ev->receiver : "unknown";
	case 't':
		snprintf(tmp, sz, "%lld", ev->now);
		return tmp;
	default:
		return "";
	}
}

static int put(struct smtprobe_spf_eval *ev, const char *s, size_t n)
{
	if (n > SMTPROBE_SPF_MAX_EXPAND - ev->xlen)
		return -1;
	memcpy(ev->xbuf + ev->xlen, s, n);
	ev->xlen += n;
	return 0;
}

static int put_escaped(struct smtprobe_spf_eval *ev, const char *s, size_t n,
                       int url)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	if (!url)
		return put(ev, s, n);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char e[3] = {'%', hex[c >> 4], hex[c & 15]};

		if (((c | 32) >= 'a' && (c | 32) <= 'z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c) != NULL) {
			if (put(ev, s + i, 1) < 0)
				return -1;
		} else if (put(ev, e, 3) < 0) {
			return -1;
		}
	}
	return 0;
}

/* Split on the delimiters, reverse, keep the right-hand parts, join with
 * dots (7.3). */
static int put_transformed(struct smtprobe_spf_eval *ev, const char *v,
                           const struct spf_tok *t)
{
	const char *delims = t->delims[0] != '\0' ? t->delims : ".";
	uint16_t start[SPF_VALSZ], end[SPF_VALSZ];
	size_t n = 0, i, len = strlen(v), keep, first;

	if (len >= SPF_VALSZ)
		len = SPF_VALSZ - 1; /* values are bounded by the parameters */
	start[0] = 0;
	for (i = 0; i < len; i++)
		if (v[i] != '\0' && strchr(delims, v[i]) != NULL) {
			end[n++] = (uint16_t)i;
			start[n] = (uint16_t)(i + 1);
		}
	end[n++] = (uint16_t)len;
	keep = t->digits == 0 || t->digits > n ? n : t->digits;
	first = n - keep;
	for (i = 0; i < keep; i++) {
		/* reversed, the right-hand parts are the first ones */
		size_t k = t->reverse ? keep - 1 - i : first + i;

		if ((i > 0 && put(ev, ".", 1) < 0) ||
		    put_escaped(ev, v + start[k], (size_t)(end[k] - start[k]),
		                t->upper) < 0)
			return -1;
	}
	return 0;
}

int spf_expand(struct smtprobe_spf_eval *ev, const char *s, size_t len,
               int explain, const char *domain)
{
	char tmp[SPF_VALSZ];
	size_t pos = 0;
	struct spf_tok t;

	ev->xlen = 0;
	while (pos < len) {
		const char *v;
		int rc = 0;

		if (spf_tok_next(s, len, &pos, explain, &t) < 0)
			return SMTPROBE_SPF_E_MACRO;
		if (t.kind == SPF_TOK_LITERAL) {
			rc = put(ev, s + t.off, t.len);
		} else if (t.kind == SPF_TOK_ESCAPE) {
			rc = t.letter == '%'   ? put(ev, "%", 1)
			     : t.letter == '_' ? put(ev, " ", 1)
			                       : put(ev, "%20", 3);
		} else {
			v = macro_value(ev, t.letter, domain, tmp, sizeof(tmp));
			if (v == NULL)
				return 1;
			rc = put_transformed(ev, v, &t);
		}
		if (rc < 0)
			return SMTPROBE_SPF_E_EXPAND;
	}
	ev->xbuf[ev->xlen] = '\0';
	return 0;
}

int spf_target_of(struct smtprobe_spf_eval *ev, struct spf_frame *f,
                  const struct smtprobe_spf_term *t)
{
	int rc;

	if (t->arg.len == 0 && t->kind != SMTPROBE_SPF_REDIRECT &&
	    t->kind != SMTPROBE_SPF_EXP) {
		snprintf(ev->target, SPF_NAMESZ, "%s", f->domain);
		return 0;
	}
	rc = spf_expand(ev, f->text + t->arg.off, t->arg.len, 0, f->domain);
	if (rc != 0)
		return rc;
	return spf_to_name(ev->xbuf, ev->xlen, ev->target) < 0
	               ? SMTPROBE_SPF_E_BAD_TARGET
	               : 0;
}
