/* spf_eval.c - check_host() (RFC 7208 sections 4 to 7) as a resumable
 * evaluator that does no DNS itself, and the static walk of a domain's
 * include/redirect tree that counts what section 4.6.4 counts.
 *
 * The evaluator asks for one query at a time (TXT, A, AAAA, MX, PTR) and
 * goes on with the caller's answer: NOERROR with records (possibly none),
 * NXDOMAIN, or a failure (servfail, timeout). It keeps what it needs from
 * an answer, so the caller's memory may go once answered.
 *
 * Counting, as 4.6.4 says: include, a, mx, ptr, exists and redirect count
 * one each when evaluated, the 11th is a permerror; a void lookup (NXDOMAIN
 * or no record of the type asked) of such a term's own query counts, the
 * 3rd is a permerror (the address lookups of MX and PTR names do not
 * count, nor does the exp= lookup, which happens after the result); an mx
 * term with more than 10 MX records is a permerror; of the PTR names only
 * the first 10 are considered. A DNS failure is a temperror, except in
 * ptr and %{p}, which skip it (5.5, 7.3). An IPv4-mapped IPv6 client is
 * taken as IPv4 (section 5), so it matches ip4 and A records only.
 * include maps pass to a match, fail/softfail/neutral to no match, and
 * passes temperror and permerror up; a target without an SPF record is a
 * permerror for include and redirect (5.2, 6.1). exp= of the top-level
 * record (after redirects) gives the explanation of a fail.
 *
 * Choices where the RFC leaves room: an expanded target that is not a
 * domain name (empty label, label over 63 bytes) does not match and asks
 * nothing; for include and redirect it is a permerror. ptr asks the
 * addresses of only the PTR names under its target (the result is the
 * same, the queries fewer). %{p} counts no term of its own.
 *
 * Bounds: SMTPROBE_SPF_MAX_DEPTH nested records; a macro expansion of at
 * most SMTPROBE_SPF_MAX_EXPAND bytes (a permerror of its term beyond); an
 * explanation of at most SMTPROBE_SPF_MAX_EXPLAIN bytes (ignored beyond,
 * and exp_problem says so). The static walk stops after
 * SMTPROBE_SPF_WALK_MAX_LOOKUPS terms and says so. Memory: one record
 * copy and its parse per nesting level, allocated as reached. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtprobe/spf.h"
#include "spf_int.h"

#include "banned.h"

#define NAMESZ (SMTPROBE_SPF_MAX_NAME + 1)
#define IDSZ   (SMTPROBE_SPF_MAX_IDENTITY + 1)
#define VALSZ  (IDSZ + NAMESZ) /* the longest macro value, %{s} */

enum wait {
	W_NONE,
	W_RECORD,  /* TXT of a record to evaluate (purpose says which) */
	W_ADDR,    /* a: A/AAAA of the target */
	W_MX,      /* mx: MX of the target */
	W_MX_ADDR, /* mx: addresses of names[iname] */
	W_PTR,     /* ptr: PTR of the client */
	W_PTR_ADDR,
	W_EXISTS,
	W_P_PTR, /* %{p}: PTR of the client, then addresses */
	W_P_ADDR,
	W_EXP,     /* TXT of the exp= domain */
	W_PROBE_A, /* static walk, void probes */
	W_PROBE_AAAA,
	W_PROBE_MX,
};

enum purpose { FETCH_TOP, FETCH_INCLUDE, FETCH_REDIRECT };
enum phase { PH_TERMS, PH_EXP_DOMAIN, PH_EXP_TEXT };
enum pstate { P_NONE, P_RUNNING, P_DONE };

struct frame {
	char domain[NAMESZ];
	char *text; /* the record, NUL-terminated */
	size_t next;
	int cur; /* the term being evaluated, -1: none */
	struct smtprobe_spf_record rec;
};

struct smtprobe_spf_eval {
	int is_static, probe_void, v6;
	unsigned char ip[16];
	char local[IDSZ], sdomain[IDSZ], helo[IDSZ], receiver[IDSZ];
	long long now;
	struct frame *fr[SMTPROBE_SPF_MAX_DEPTH];
	size_t depth;
	enum wait wait;
	enum purpose purpose;
	enum phase phase;
	int done, probe_kind, perm, temp, void_flagged;
	int noted;           /* the last trouble() was recorded in out */
	char domain[NAMESZ]; /* check_host()'s, before any redirect */
	struct smtprobe_spf_query q;
	char target[NAMESZ];
	char names[SMTPROBE_SPF_MAX_PTR][NAMESZ]; /* MX or PTR names */
	size_t nnames, iname;
	enum pstate p;
	char pnames[SMTPROBE_SPF_MAX_PTR][NAMESZ];
	unsigned char pvalid[SMTPROBE_SPF_MAX_PTR];
	size_t np, ip_i;
	char *exp_text;
	struct smtprobe_spf_outcome out;
	size_t xlen; /* the last expansion, in xbuf */
	char xbuf[SMTPROBE_SPF_MAX_EXPAND + 1];
};

static const char *const qtype_names[SMTPROBE_SPF_Q_LAST] = {"TXT", "A", "AAAA",
                                                             "MX", "PTR"};

const char *smtprobe_spf_qtype_name(int type)
{
	if (type < 0 || type >= SMTPROBE_SPF_Q_LAST)
		return "unknown";
	return qtype_names[type];
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* ---- names and addresses ---- */

/* An expanded domain-spec as a name to query (7.3): the final dot
 * dropped, then labels dropped on the left while over 253 bytes. Returns
 * 0, or -1 when it is not a name (empty, empty label, label > 63). */
static int to_name(const char *s, size_t len, char out[NAMESZ])
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

/* a equals b or is a subdomain of b, ignoring case and final dots */
static int under(const char *a, const char *b)
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

static int prefix_match(const unsigned char *a, const unsigned char *b,
                        int bits)
{
	int full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, (size_t)full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((a[full] ^ b[full]) & (0xff00 >> rest) & 0xff) == 0;
}

/* Does any address of the client's family in the answer match? */
static int addr_match(const struct smtprobe_spf_eval *ev,
                      const struct smtprobe_spf_answer *a, int bits,
                      size_t *found)
{
	unsigned char fam = ev->v6 ? 6 : 4;
	size_t i, n = 0;
	int hit = 0;

	for (i = 0; a->addr != NULL && i < a->n; i++) {
		if (a->addr[i].family != fam)
			continue;
		n++;
		if (prefix_match(a->addr[i].addr, ev->ip, bits))
			hit = 1;
	}
	if (found != NULL)
		*found = n;
	return hit;
}

static size_t count_family(const struct smtprobe_spf_answer *a,
                           unsigned char fam)
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

static void reverse_name(const struct smtprobe_spf_eval *ev, char *b, size_t sz)
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
		if (ev->pvalid[i] && under(ev->pnames[i], domain))
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
	uint16_t start[VALSZ], end[VALSZ];
	size_t n = 0, i, len = strlen(v), keep, first;

	if (len >= VALSZ)
		len = VALSZ - 1; /* values are bounded by the parameters */
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

/* Expand s into xbuf/xlen. Returns 0, 1 when the static walk cannot (a
 * macro needs the IP), SMTPROBE_SPF_E_EXPAND over the cap or
 * SMTPROBE_SPF_E_MACRO (only if the caller skipped the syntax check). */
static int expand(struct smtprobe_spf_eval *ev, const char *s, size_t len,
                  int explain, const char *domain)
{
	char tmp[VALSZ];
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

/* ---- outcome ---- */

static struct frame *top(const struct smtprobe_spf_eval *ev)
{
	return ev->fr[ev->depth - 1];
}

static const struct smtprobe_spf_term *cur_term(const struct frame *f)
{
	return f != NULL && f->cur >= 0 ? &f->rec.terms[f->cur] : NULL;
}

static void show_term(char *dst, const struct frame *f,
                      const struct smtprobe_spf_term *t)
{
	dst[0] = '\0';
	if (f != NULL && t != NULL)
		spf_show(dst, SMTPROBE_SPF_MAX_SHOW, f->text + t->text.off,
		         t->text.len);
}

static void set_where(struct smtprobe_spf_eval *ev)
{
	struct frame *f0 = ev->depth > 0 ? ev->fr[0] : NULL;
	struct frame *fl = ev->depth > 0 ? top(ev) : NULL;

	show_term(ev->out.mechanism, f0, cur_term(f0));
	snprintf(ev->out.mech_domain, NAMESZ, "%s", f0 ? f0->domain : "");
	show_term(ev->out.leaf, fl, cur_term(fl));
	snprintf(ev->out.leaf_domain, NAMESZ, "%s", fl ? fl->domain : "");
}

__attribute__((format(printf, 2, 0))) static void
vreason(struct smtprobe_spf_eval *ev, const char *fmt, va_list ap)
{
	vsnprintf(ev->out.reason, sizeof(ev->out.reason), fmt, ap);
}

/* The reason line; a long one is cut (it quotes terms and names). */
__attribute__((format(printf, 2, 3))) static void
say(struct smtprobe_spf_eval *ev, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreason(ev, fmt, ap);
	va_end(ap);
}

/* End the evaluation with an error result. */
__attribute__((format(printf, 4, 5))) static void
stop(struct smtprobe_spf_eval *ev, int result, int code, const char *fmt, ...)
{
	va_list ap;

	ev->out.result = (enum smtprobe_spf_result)result;
	ev->out.error = code;
	set_where(ev);
	va_start(ap, fmt);
	vreason(ev, fmt, ap);
	va_end(ap);
	ev->wait = W_NONE;
	ev->done = 1;
}

/* An error: the end of check_host(), but only a noted problem for the
 * static walk, which goes on. Returns 1 when the caller must stop. */
__attribute__((format(printf, 4, 5))) static int
trouble(struct smtprobe_spf_eval *ev, int result, int code, const char *fmt,
        ...)
{
	va_list ap;

	/* the walk reports its first problem of the class that decides its
	 * result: a permerror outranks an earlier temperror */
	if (ev->is_static && ev->out.problems++ > 0 &&
	    (result != SMTPROBE_SPF_PERMERROR || ev->perm)) {
		ev->noted = 0;
		goto note;
	}
	ev->noted = 1;
	ev->out.result = (enum smtprobe_spf_result)result;
	ev->out.error = code;
	set_where(ev);
	va_start(ap, fmt);
	vreason(ev, fmt, ap);
	va_end(ap);
note:
	if (!ev->is_static) {
		ev->wait = W_NONE;
		ev->done = 1;
		return 1;
	}
	if (result == SMTPROBE_SPF_TEMPERROR)
		ev->temp = 1;
	else
		ev->perm = 1;
	return 0;
}

static void finish_static(struct smtprobe_spf_eval *ev)
{
	ev->done = 1;
	ev->wait = W_NONE;
	if (ev->perm || ev->temp) {
		ev->out.result = ev->perm ? SMTPROBE_SPF_PERMERROR
		                          : SMTPROBE_SPF_TEMPERROR;
		return;
	}
	ev->out.result = SMTPROBE_SPF_NEUTRAL;
	say(ev,
	    "neutral: %u DNS-querying terms and %u void lookups through "
	    "the includes and redirects of %s",
	    ev->out.lookups, ev->out.void_lookups, ev->domain);
}

/* ---- queries ---- */

static void ask(struct smtprobe_spf_eval *ev, enum wait w,
                enum smtprobe_spf_qtype type, const char *name)
{
	ev->wait = w;
	ev->q.type = type;
	snprintf(ev->q.name, sizeof(ev->q.name), "%s", name);
	ev->out.queries++;
}

static enum smtprobe_spf_qtype addr_type(const struct smtprobe_spf_eval *ev)
{
	return ev->v6 ? SMTPROBE_SPF_Q_AAAA : SMTPROBE_SPF_Q_A;
}

static void start_p(struct smtprobe_spf_eval *ev)
{
	char rev[80];

	reverse_name(ev, rev, sizeof(rev));
	ev->p = P_RUNNING;
	ev->np = ev->ip_i = 0;
	ask(ev, W_P_PTR, SMTPROBE_SPF_Q_PTR, rev);
}

static void next_p(struct smtprobe_spf_eval *ev)
{
	if (ev->ip_i < ev->np)
		ask(ev, W_P_ADDR, addr_type(ev), ev->pnames[ev->ip_i]);
	else
		ev->p = P_DONE;
}

/* ---- the terms ---- */

static void term_nomatch(struct smtprobe_spf_eval *ev)
{
	struct frame *f = top(ev);

	f->next++;
	f->cur = -1;
}

static void frame_result(struct smtprobe_spf_eval *ev, int r);

static void term_match(struct smtprobe_spf_eval *ev)
{
	struct frame *f = top(ev);
	const struct smtprobe_spf_term *t = cur_term(f);

	if (ev->is_static) {
		term_nomatch(ev);
		return;
	}
	if (t->kind != SMTPROBE_SPF_INCLUDE) {
		show_term(ev->out.leaf, f, t);
		snprintf(ev->out.leaf_domain, NAMESZ, "%s", f->domain);
	}
	frame_result(ev, t->qual);
}

static void exp_domain_step(struct smtprobe_spf_eval *ev);

/* The top frame's record decided r (with its cur term; -1: default). */
static void frame_result(struct smtprobe_spf_eval *ev, int r)
{
	struct frame *f = top(ev);
	const struct smtprobe_spf_term *t = cur_term(f);
	char shown[SMTPROBE_SPF_MAX_SHOW];

	if (ev->depth > 1) {
		free(f->text);
		free(f);
		ev->fr[--ev->depth] = NULL;
		if (r == SMTPROBE_SPF_PASS)
			term_match(ev);
		else
			term_nomatch(ev);
		return;
	}
	if (ev->is_static) {
		finish_static(ev);
		return;
	}
	ev->out.result = (enum smtprobe_spf_result)r;
	show_term(ev->out.mechanism, f, t);
	snprintf(ev->out.mech_domain, NAMESZ, "%s", f->domain);
	if (t == NULL) {
		ev->out.leaf[0] = ev->out.leaf_domain[0] = '\0';
		say(ev,
		    "%s: no term of the record of %s matched (the default "
		    "result)",
		    smtprobe_spf_result_name(r), f->domain);
	} else if (strcmp(ev->out.leaf, ev->out.mechanism) == 0 &&
	           strcmp(ev->out.leaf_domain, f->domain) == 0) {
		say(ev, "%s: '%s' matched in the record of %s",
		    smtprobe_spf_result_name(r), ev->out.mechanism, f->domain);
	} else {
		snprintf(shown, sizeof(shown), "%s", ev->out.leaf);
		say(ev, "%s: '%s' matched in the record of %s ('%s' in %s)",
		    smtprobe_spf_result_name(r), ev->out.mechanism, f->domain,
		    shown, ev->out.leaf_domain);
	}
	if (r == SMTPROBE_SPF_FAIL && f->rec.exp >= 0) {
		ev->phase = PH_EXP_DOMAIN;
		return;
	}
	ev->done = 1;
}

static void start_fetch(struct smtprobe_spf_eval *ev, enum purpose p,
                        const char *name)
{
	ev->purpose = p;
	if (name != ev->target)
		snprintf(ev->target, NAMESZ, "%s", name);
	ask(ev, W_RECORD, SMTPROBE_SPF_Q_TXT, name);
}

/* Count a DNS-querying term (4.6.4). Returns 0 when the evaluation ends. */
static int count_lookup(struct smtprobe_spf_eval *ev)
{
	struct frame *f = top(ev);
	char shown[SMTPROBE_SPF_MAX_SHOW];

	if (++ev->out.lookups <= SMTPROBE_SPF_MAX_LOOKUPS)
		return 1;
	show_term(shown, f, cur_term(f));
	if (ev->out.lookups == SMTPROBE_SPF_MAX_LOOKUPS + 1) {
		snprintf(ev->out.over, sizeof(ev->out.over), "%s", shown);
		snprintf(ev->out.over_domain, NAMESZ, "%s", f->domain);
		if (trouble(ev, SMTPROBE_SPF_PERMERROR, SMTPROBE_SPF_E_LOOKUPS,
		            "permerror: '%s' in %s is DNS-querying term number "
		            "%u, over the limit of %d (RFC 7208 4.6.4)",
		            shown, f->domain, ev->out.lookups,
		            SMTPROBE_SPF_MAX_LOOKUPS))
			return 0;
	}
	if (ev->out.lookups > SMTPROBE_SPF_WALK_MAX_LOOKUPS) {
		ev->out.truncated = 1;
		finish_static(ev);
		return 0;
	}
	return 1;
}

/* A void lookup of the current term. Returns 0 when the evaluation ends. */
static int void_lookup(struct smtprobe_spf_eval *ev)
{
	struct frame *f = top(ev);
	char shown[SMTPROBE_SPF_MAX_SHOW];

	if (++ev->out.void_lookups <= SMTPROBE_SPF_MAX_VOID || ev->void_flagged)
		return 1;
	ev->void_flagged = 1;
	show_term(shown, f, cur_term(f));
	return !trouble(ev, SMTPROBE_SPF_PERMERROR, SMTPROBE_SPF_E_VOID,
	                "permerror: '%s' in %s is void lookup number %u, over "
	                "the limit of %d (RFC 7208 4.6.4)",
	                shown, f->domain, ev->out.void_lookups,
	                SMTPROBE_SPF_MAX_VOID);
}

/* The target name of the current term (or of redirect). Returns 0, 1
 * (static walk: cannot be known) or an error code. */
static int target_of(struct smtprobe_spf_eval *ev, struct frame *f,
                     const struct smtprobe_spf_term *t)
{
	int rc;

	if (t->arg.len == 0 && t->kind != SMTPROBE_SPF_REDIRECT &&
	    t->kind != SMTPROBE_SPF_EXP) {
		snprintf(ev->target, NAMESZ, "%s", f->domain);
		return 0;
	}
	rc = expand(ev, f->text + t->arg.off, t->arg.len, 0, f->domain);
	if (rc != 0)
		return rc;
	return to_name(ev->xbuf, ev->xlen, ev->target) < 0
	               ? SMTPROBE_SPF_E_BAD_TARGET
	               : 0;
}

static int on_stack(const struct smtprobe_spf_eval *ev, const char *name)
{
	size_t i;

	for (i = 0; i < ev->depth; i++)
		if (under(ev->fr[i]->domain, name) &&
		    under(name, ev->fr[i]->domain))
			return 1;
	return 0;
}

static void query_term(struct smtprobe_spf_eval *ev, struct frame *f,
                       const struct smtprobe_spf_term *t)
{
	char shown[SMTPROBE_SPF_MAX_SHOW], rev[80];

	switch (t->kind) {
	case SMTPROBE_SPF_A:
	case SMTPROBE_SPF_EXISTS:
	case SMTPROBE_SPF_MX:
		if (ev->is_static) {
			ev->probe_kind = t->kind;
			if (!ev->probe_void)
				term_nomatch(ev);
			else if (t->kind == SMTPROBE_SPF_MX)
				ask(ev, W_PROBE_MX, SMTPROBE_SPF_Q_MX,
				    ev->target);
			else
				ask(ev, W_PROBE_A, SMTPROBE_SPF_Q_A,
				    ev->target);
		} else if (t->kind == SMTPROBE_SPF_MX) {
			ask(ev, W_MX, SMTPROBE_SPF_Q_MX, ev->target);
		} else {
			ask(ev, t->kind == SMTPROBE_SPF_A ? W_ADDR : W_EXISTS,
			    t->kind == SMTPROBE_SPF_A ? addr_type(ev)
			                              : SMTPROBE_SPF_Q_A,
			    ev->target);
		}
		return;
	case SMTPROBE_SPF_PTR:
		if (ev->is_static) {
			term_nomatch(ev);
			return;
		}
		reverse_name(ev, rev, sizeof(rev));
		ask(ev, W_PTR, SMTPROBE_SPF_Q_PTR, rev);
		return;
	default: /* include */
		show_term(shown, f, t);
		if (ev->is_static && on_stack(ev, ev->target)) {
			trouble(ev, SMTPROBE_SPF_PERMERROR, SMTPROBE_SPF_E_LOOP,
			        "permerror: '%s' in %s includes %s, which is "
			        "already being evaluated (an include loop)",
			        shown, f->domain, ev->target);
			term_nomatch(ev);
		} else if (ev->depth == SMTPROBE_SPF_MAX_DEPTH) {
			ev->out.truncated = 1;
			if (!trouble(ev, SMTPROBE_SPF_PERMERROR,
			             SMTPROBE_SPF_E_DEPTH,
			             "permerror: '%s' in %s nests records "
			             "deeper "
			             "than %d",
			             shown, f->domain, SMTPROBE_SPF_MAX_DEPTH))
				term_nomatch(ev);
		} else {
			start_fetch(ev, FETCH_INCLUDE, ev->target);
		}
	}
}

/* Evaluate the current term of the top frame: a result, or a query. */
static void eval_term(struct smtprobe_spf_eval *ev, struct frame *f,
                      const struct smtprobe_spf_term *t)
{
	char shown[SMTPROBE_SPF_MAX_SHOW];
	int rc;

	switch (t->kind) {
	case SMTPROBE_SPF_ALL:
		term_match(ev);
		return;
	case SMTPROBE_SPF_IP4:
	case SMTPROBE_SPF_IP6:
		if (!ev->is_static && ev->v6 == (t->kind == SMTPROBE_SPF_IP6) &&
		    prefix_match(t->net, ev->ip,
		                 ev->v6 ? (t->cidr6 < 0 ? 128 : t->cidr6)
		                        : (t->cidr4 < 0 ? 32 : t->cidr4)))
			term_match(ev);
		else
			term_nomatch(ev);
		return;
	default:
		break;
	}
	if (!ev->is_static && (t->flags & SMTPROBE_SPF_T_NEEDS_PTR) &&
	    ev->p != P_DONE) {
		start_p(ev); /* then this term again */
		return;
	}
	if (!count_lookup(ev))
		return;
	rc = target_of(ev, f, t);
	show_term(shown, f, t);
	if (rc == 1) {
		ev->out.unexpanded++;
		term_nomatch(ev);
	} else if (rc == SMTPROBE_SPF_E_BAD_TARGET &&
	           t->kind != SMTPROBE_SPF_INCLUDE) {
		term_nomatch(ev); /* no such name: no match (see the top) */
	} else if (rc < 0) {
		if (!trouble(ev, SMTPROBE_SPF_PERMERROR, rc,
		             "permerror: '%s' in %s: %s", shown, f->domain,
		             smtprobe_spf_strerror(rc)))
			term_nomatch(ev);
	} else {
		query_term(ev, f, t);
	}
}

/* No term matched: redirect= if there is one (6.1), else neutral. */
static void end_of_record(struct smtprobe_spf_eval *ev, struct frame *f)
{
	const struct smtprobe_spf_term *t;
	char shown[SMTPROBE_SPF_MAX_SHOW];
	int rc;

	/* the static walk reaches here past an "all", which makes a real
	 * evaluation ignore redirect= */
	if (f->rec.redirect < 0 || f->rec.all >= 0) {
		f->cur = -1;
		frame_result(ev, SMTPROBE_SPF_NEUTRAL);
		return;
	}
	f->cur = f->rec.redirect;
	t = cur_term(f);
	if (!count_lookup(ev))
		return;
	rc = target_of(ev, f, t);
	if (rc == 0) {
		start_fetch(ev, FETCH_REDIRECT, ev->target);
		return;
	}
	show_term(shown, f, t);
	if (rc == 1)
		ev->out.unexpanded++;
	else if (trouble(ev, SMTPROBE_SPF_PERMERROR, rc,
	                 "permerror: '%s' in %s: %s", shown, f->domain,
	                 smtprobe_spf_strerror(rc)))
		return;
	f->cur = -1;
	frame_result(ev, SMTPROBE_SPF_NEUTRAL);
}

/* ---- answers ---- */

static int is_void(const struct smtprobe_spf_answer *a, size_t found)
{
	return a->rcode == SMTPROBE_SPF_R_NXDOMAIN || found == 0;
}

static int dns_error(struct smtprobe_spf_eval *ev)
{
	struct frame *f = top(ev);
	char shown[SMTPROBE_SPF_MAX_SHOW];

	show_term(shown, f, cur_term(f));
	return trouble(ev, SMTPROBE_SPF_TEMPERROR, SMTPROBE_SPF_E_DNS,
	               "temperror: DNS error on %s %s for '%s' in %s",
	               smtprobe_spf_qtype_name(ev->q.type), ev->q.name, shown,
	               f->domain);
}

/* Keep names (MX exchanges, PTR targets) that are names; for ptr only
 * those under its target (5.5). */
/* A name from an answer is network data: printable ASCII only, and never
 * cut to fit (to_name() cuts expansions only). */
static int answer_name_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e ||
		    i > SMTPROBE_SPF_MAX_NAME)
			return 0;
	return 1;
}

static void keep_names(struct smtprobe_spf_eval *ev,
                       const struct smtprobe_spf_answer *a, char (*dst)[NAMESZ],
                       size_t *n, const char *filter)
{
	size_t i;

	*n = 0;
	for (i = 0; a->names != NULL && i < a->n && *n < SMTPROBE_SPF_MAX_PTR;
	     i++) {
		const char *s = a->names[i];

		/* only the first 10 PTR records count (4.6.4); an mx term
		 * has been refused over 10 already */
		if (i >= SMTPROBE_SPF_MAX_PTR)
			break;
		if (s == NULL || !answer_name_ok(s) ||
		    to_name(s, strlen(s), dst[*n]) < 0)
			continue; /* null MX ("."), or not a name */
		if (filter == NULL || under(dst[*n], filter))
			(*n)++;
	}
}

static void next_name(struct smtprobe_spf_eval *ev, enum wait w)
{
	if (ev->iname < ev->nnames)
		ask(ev, w, addr_type(ev), ev->names[ev->iname]);
	else
		term_nomatch(ev);
}

static void on_record(struct smtprobe_spf_eval *ev,
                      const struct smtprobe_spf_answer *a);

static void on_term_answer(struct smtprobe_spf_eval *ev, enum wait w,
                           const struct smtprobe_spf_answer *a)
{
	struct frame *f = top(ev);
	const struct smtprobe_spf_term *t = cur_term(f);
	int bits = ev->v6 ? (t->cidr6 < 0 ? 128 : t->cidr6)
	                  : (t->cidr4 < 0 ? 32 : t->cidr4);
	size_t found = a->n;
	int fail = a->rcode == SMTPROBE_SPF_R_SERVFAIL;
	char shown[SMTPROBE_SPF_MAX_SHOW];

	switch (w) {
	case W_ADDR:
	case W_MX_ADDR:
		if (fail && dns_error(ev))
			return;
		if (!fail && addr_match(ev, a, bits, &found)) {
			term_match(ev);
			return;
		}
		if (w == W_ADDR) {
			if ((fail || !is_void(a, found) || void_lookup(ev)))
				term_nomatch(ev);
			return;
		}
		ev->iname++;
		next_name(ev, W_MX_ADDR);
		return;
	case W_EXISTS:
		if (fail && dns_error(ev))
			return;
		found = count_family(a, 4);
		if (!fail && !is_void(a, found))
			term_match(ev);
		else if (fail || void_lookup(ev))
			term_nomatch(ev);
		return;
	case W_MX:
		if (fail && dns_error(ev))
			return;
		if (!fail && a->names == NULL)
			found = 0;
		if (fail || is_void(a, found)) {
			if (fail || void_lookup(ev))
				term_nomatch(ev);
			return;
		}
		if (a->n > SMTPROBE_SPF_MAX_MX_NAMES) {
			show_term(shown, f, t);
			trouble(ev, SMTPROBE_SPF_PERMERROR,
			        SMTPROBE_SPF_E_MX_LIMIT,
			        "permerror: '%s' in %s: %s has %zu MX records, "
			        "over the limit of %d (RFC 7208 4.6.4)",
			        shown, f->domain, ev->q.name, a->n,
			        SMTPROBE_SPF_MAX_MX_NAMES);
			return;
		}
		keep_names(ev, a, ev->names, &ev->nnames, NULL);
		ev->iname = 0;
		next_name(ev, W_MX_ADDR);
		return;
	case W_PTR:
		/* a DNS error makes ptr not match (5.5) */
		if (!fail && (a->names == NULL || is_void(a, a->n)) &&
		    !void_lookup(ev))
			return;
		if (fail || a->names == NULL) {
			term_nomatch(ev);
			return;
		}
		keep_names(ev, a, ev->names, &ev->nnames, ev->target);
		ev->iname = 0;
		next_name(ev, W_PTR_ADDR);
		return;
	case W_PTR_ADDR:
		/* skipped on a DNS error (5.5) */
		if (!fail && addr_match(ev, a, ev->v6 ? 128 : 32, NULL)) {
			term_match(ev);
			return;
		}
		ev->iname++;
		next_name(ev, W_PTR_ADDR);
		return;
	case W_PROBE_A:
	case W_PROBE_AAAA:
		found = count_family(a, w == W_PROBE_A ? 4 : 6);
		if (!fail && is_void(a, found) && w == W_PROBE_A &&
		    ev->probe_kind == SMTPROBE_SPF_A) {
			/* no IP, so a:name is void only without either */
			ask(ev, W_PROBE_AAAA, SMTPROBE_SPF_Q_AAAA, ev->target);
			return;
		}
		if (!fail && is_void(a, found))
			void_lookup(ev);
		term_nomatch(ev);
		return;
	default: /* W_PROBE_MX */
		if (!fail && (a->names == NULL || is_void(a, a->n)))
			void_lookup(ev);
		else if (!fail && a->n > SMTPROBE_SPF_MAX_MX_NAMES) {
			show_term(shown, f, t);
			trouble(ev, SMTPROBE_SPF_PERMERROR,
			        SMTPROBE_SPF_E_MX_LIMIT,
			        "permerror: '%s' in %s: %s has %zu MX records, "
			        "over the limit of %d (RFC 7208 4.6.4)",
			        shown, f->domain, ev->q.name, a->n,
			        SMTPROBE_SPF_MAX_MX_NAMES);
		}
		term_nomatch(ev);
		return;
	}
}

static void on_p_answer(struct smtprobe_spf_eval *ev, enum wait w,
                        const struct smtprobe_spf_answer *a)
{
	size_t i;

	if (a->rcode != SMTPROBE_SPF_R_OK) {
		if (w == W_P_PTR) {
			ev->p = P_DONE; /* "unknown" (7.3) */
			return;
		}
	} else if (w == W_P_PTR) {
		keep_names(ev, a, ev->pnames, &ev->np, NULL);
		for (i = 0; i < SMTPROBE_SPF_MAX_PTR; i++)
			ev->pvalid[i] = 0;
		ev->ip_i = 0;
		next_p(ev);
		return;
	} else if (addr_match(ev, a, ev->v6 ? 128 : 32, NULL)) {
		ev->pvalid[ev->ip_i] = 1;
	}
	ev->ip_i++;
	next_p(ev);
}

/* ---- explanation (6.2) ---- */

static void exp_text_step(struct smtprobe_spf_eval *ev)
{
	unsigned fl = 0;
	int rc;

	spf_check_macro_string(ev->exp_text, strlen(ev->exp_text),
	                       SPF_MS_EXPLAIN, &fl);
	if ((fl & SMTPROBE_SPF_T_NEEDS_PTR) && ev->p != P_DONE) {
		start_p(ev);
		return;
	}
	rc = expand(ev, ev->exp_text, strlen(ev->exp_text), 1,
	            ev->fr[0]->domain);
	if (rc != 0 || ev->xlen >= sizeof(ev->out.explanation))
		ev->out.exp_problem = "the explanation is longer than "
		                      "smtprobe's limit";
	else
		memcpy(ev->out.explanation, ev->xbuf, ev->xlen + 1);
	ev->done = 1;
}

static void on_exp(struct smtprobe_spf_eval *ev,
                   const struct smtprobe_spf_answer *a)
{
	const struct smtprobe_txt *txt = a->txt;

	if (a->rcode == SMTPROBE_SPF_R_SERVFAIL)
		ev->out.exp_problem = "DNS error on the exp= domain";
	else if (a->rcode != SMTPROBE_SPF_R_OK || a->n == 0 || txt == NULL)
		ev->out.exp_problem = "the exp= domain has no TXT record";
	else if (a->n > 1)
		ev->out.exp_problem = "the exp= domain has several TXT records";
	else if (txt->len > SMTPROBE_SPF_MAX_RECORD)
		ev->out.exp_problem = "the explanation is longer than "
		                      "smtprobe's limit";
	else if (spf_check_macro_string(txt->data, txt->len, SPF_MS_EXPLAIN,
	                                NULL) < 0)
		ev->out.exp_problem = "the explanation has a syntax error";
	else if ((ev->exp_text = malloc(txt->len + 1)) == NULL)
		ev->out.exp_problem = "out of memory";
	if (ev->out.exp_problem != NULL) {
		ev->done = 1;
		return;
	}
	memcpy(ev->exp_text, txt->data, txt->len);
	ev->exp_text[txt->len] = '\0';
	ev->phase = PH_EXP_TEXT;
}

static void exp_domain_step(struct smtprobe_spf_eval *ev)
{
	struct frame *f = ev->fr[0];
	const struct smtprobe_spf_term *t = &f->rec.terms[f->rec.exp];

	if ((t->flags & SMTPROBE_SPF_T_NEEDS_PTR) && ev->p != P_DONE) {
		start_p(ev);
		return;
	}
	if (target_of(ev, f, t) != 0) {
		ev->out.exp_problem = "the exp= domain does not expand to a "
		                      "domain name";
		ev->done = 1;
		return;
	}
	snprintf(ev->out.exp_domain, NAMESZ, "%s", ev->target);
	ask(ev, W_EXP, SMTPROBE_SPF_Q_TXT, ev->target);
}

/* ---- records ---- */

static void on_record(struct smtprobe_spf_eval *ev,
                      const struct smtprobe_spf_answer *a)
{
	struct smtprobe_spf_error perr;
	struct frame *f, *parent = ev->depth > 0 ? top(ev) : NULL;
	const struct smtprobe_txt *txt;
	char shown[SMTPROBE_SPF_MAX_SHOW];
	size_t first = 0, count = 0;
	int top_level = ev->purpose == FETCH_TOP;
	enum smtprobe_spf_sel sel = SMTPROBE_SPF_SEL_NONE;

	show_term(shown, parent, cur_term(parent));
	if (a->rcode == SMTPROBE_SPF_R_SERVFAIL) {
		if (top_level) {
			stop(ev, SMTPROBE_SPF_TEMPERROR, SMTPROBE_SPF_E_DNS,
			     "temperror: DNS error on TXT %s", ev->target);
		} else if (!trouble(ev, SMTPROBE_SPF_TEMPERROR,
		                    SMTPROBE_SPF_E_DNS,
		                    "temperror: DNS error on TXT %s for '%s' "
		                    "in %s",
		                    ev->target, shown, parent->domain)) {
			goto skip;
		}
		return;
	}
	if (a->rcode == SMTPROBE_SPF_R_OK && a->txt != NULL)
		sel = smtprobe_spf_select(a->txt, a->n, &first, &count);
	if (!top_level && (a->rcode == SMTPROBE_SPF_R_NXDOMAIN || a->n == 0))
		ev->out.void_lookups++; /* the no-record error outranks it */
	if (sel == SMTPROBE_SPF_SEL_NONE && top_level) {
		stop(ev, SMTPROBE_SPF_NONE, SMTPROBE_SPF_E_NO_RECORD,
		     "none: no SPF record at %s", ev->target);
		return;
	}
	if (sel == SMTPROBE_SPF_SEL_NONE) {
		if (trouble(ev, SMTPROBE_SPF_PERMERROR,
		            SMTPROBE_SPF_E_NO_RECORD,
		            "permerror: '%s' in %s: %s has no SPF record (RFC "
		            "7208 %s)",
		            shown, parent->domain, ev->target,
		            ev->purpose == FETCH_INCLUDE ? "5.2" : "6.1"))
			return;
		goto skip;
	}
	if (sel == SMTPROBE_SPF_SEL_MULTIPLE) {
		if (top_level)
			stop(ev, SMTPROBE_SPF_PERMERROR,
			     SMTPROBE_SPF_E_MULTIPLE,
			     "permerror: %s has %zu SPF records (RFC 7208 4.5)",
			     ev->target, count);
		else if (!trouble(ev, SMTPROBE_SPF_PERMERROR,
		                  SMTPROBE_SPF_E_MULTIPLE,
		                  "permerror: '%s' in %s: %s has %zu SPF "
		                  "records (RFC 7208 4.5)",
		                  shown, parent->domain, ev->target, count))
			goto skip;
		return;
	}
	txt = &a->txt[first];
	f = calloc(1, sizeof(*f));
	if (f == NULL || (f->text = malloc(txt->len + 1)) == NULL) {
		free(f);
		stop(ev, SMTPROBE_SPF_TEMPERROR, SMTPROBE_SPF_E_NOMEM,
		     "temperror: out of memory");
		return;
	}
	memcpy(f->text, txt->data, txt->len);
	f->text[txt->len] = '\0';
	snprintf(f->domain, NAMESZ, "%s", ev->target);
	f->cur = -1;
	if (smtprobe_spf_parse(f->text, txt->len, &f->rec, &perr) < 0) {
		int stopped = top_level;

		if (top_level)
			stop(ev, SMTPROBE_SPF_PERMERROR, perr.code, "%s",
			     perr.msg);
		else
			stopped = trouble(
			        ev, SMTPROBE_SPF_PERMERROR, perr.code,
			        "%s (in the record of %s, for '%s' in "
			        "%s)",
			        perr.msg, f->domain, shown, parent->domain);
		if (ev->noted || top_level) {
			spf_show(ev->out.leaf, SMTPROBE_SPF_MAX_SHOW,
			         f->text + perr.off, perr.len);
			snprintf(ev->out.leaf_domain, NAMESZ, "%s", f->domain);
			if (top_level)
				snprintf(ev->out.mechanism,
				         sizeof(ev->out.mechanism), "%s",
				         ev->out.leaf);
		}
		free(f->text);
		free(f);
		if (stopped)
			return;
		goto skip;
	}
	ev->out.records++;
	if (ev->purpose == FETCH_REDIRECT) {
		/* the redirect target replaces the record (6.1) */
		free(parent->text);
		free(parent);
		ev->depth--;
	}
	ev->fr[ev->depth++] = f;
	return;
skip:
	/* static walk: go on past the term that could not be followed */
	if (ev->purpose == FETCH_INCLUDE) {
		term_nomatch(ev);
	} else {
		parent->cur = -1;
		frame_result(ev, SMTPROBE_SPF_NEUTRAL);
	}
}

/* ---- the API ---- */

static int copy_id(char *dst, const char *src, const char *dflt)
{
	size_t i, len;

	if (src == NULL || src[0] == '\0')
		src = dflt;
	len = strlen(src);
	if (len >= IDSZ)
		return -1;
	for (i = 0; i < len; i++)
		if ((unsigned char)src[i] < 0x20 ||
		    (unsigned char)src[i] > 0x7e)
			return -1;
	memcpy(dst, src, len + 1);
	return 0;
}

static int set_ip(struct smtprobe_spf_eval *ev, const char *ip)
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0,    0,
	                                         0, 0, 0, 0, 0xff, 0xff};
	unsigned char a[16];

	if (inet_pton(AF_INET, ip, a) == 1) {
		memcpy(ev->ip, a, 4);
		return 0;
	}
	if (inet_pton(AF_INET6, ip, a) != 1)
		return -1;
	if (memcmp(a, mapped, 12) == 0) { /* IPv4-mapped: IPv4 (5) */
		memcpy(ev->ip, a + 12, 4);
		return 0;
	}
	memcpy(ev->ip, a, 16);
	ev->v6 = 1;
	return 0;
}

int smtprobe_spf_eval_new(struct smtprobe_spf_eval **out,
                          const struct smtprobe_spf_params *p)
{
	struct smtprobe_spf_eval *ev;
	const char *at;
	char name[NAMESZ];

	*out = NULL;
	if (p == NULL || p->domain == NULL)
		return SMTPROBE_SPF_E_PARAM;
	ev = calloc(1, sizeof(*ev));
	if (ev == NULL)
		return SMTPROBE_SPF_E_NOMEM;
	ev->is_static = (p->mode & 0xff) == SMTPROBE_SPF_STATIC;
	ev->probe_void = (p->mode & SMTPROBE_SPF_PROBE_VOID) != 0;
	ev->now = p->now;
	at = p->sender != NULL ? strrchr(p->sender, '@') : NULL;
	if ((!ev->is_static && (p->ip == NULL || set_ip(ev, p->ip) < 0)) ||
	    copy_id(ev->helo, p->helo, "") < 0 ||
	    copy_id(ev->receiver, p->receiver, "") < 0 ||
	    copy_id(ev->sdomain, at ? at + 1 : p->sender, p->domain) < 0 ||
	    copy_id(ev->local, "postmaster", "") < 0 ||
	    copy_id(ev->xbuf, p->sender, "") < 0 ||
	    strlen(p->domain) > SMTPROBE_SPF_MAX_NAME + 1) {
		free(ev);
		return SMTPROBE_SPF_E_PARAM;
	}
	/* a sender without a local-part has "postmaster" (4.3) */
	if (at != NULL && at != p->sender) {
		memcpy(ev->local, p->sender, (size_t)(at - p->sender));
		ev->local[at - p->sender] = '\0';
	}
	*out = ev;
	/* not a fully qualified name: none (4.3) */
	if (to_name(p->domain, strlen(p->domain), name) < 0 ||
	    strchr(name, '.') == NULL || p->domain[0] == '[') {
		snprintf(ev->target, NAMESZ, "%.200s", p->domain);
		stop(ev, SMTPROBE_SPF_NONE, SMTPROBE_SPF_E_BAD_TARGET,
		     "none: '%s' is not a fully qualified domain name",
		     ev->target);
		return 0;
	}
	snprintf(ev->domain, NAMESZ, "%s", name);
	start_fetch(ev, FETCH_TOP, name);
	return 0;
}

void smtprobe_spf_eval_free(struct smtprobe_spf_eval *ev)
{
	size_t i;

	if (ev == NULL)
		return;
	for (i = 0; i < ev->depth; i++) {
		free(ev->fr[i]->text);
		free(ev->fr[i]);
	}
	free(ev->exp_text);
	free(ev);
}

int smtprobe_spf_eval_step(struct smtprobe_spf_eval *ev,
                           const struct smtprobe_spf_query **q)
{
	while (!ev->done && ev->wait == W_NONE) {
		struct frame *f;

		if (ev->phase == PH_EXP_DOMAIN) {
			exp_domain_step(ev);
			continue;
		}
		if (ev->phase == PH_EXP_TEXT) {
			exp_text_step(ev);
			continue;
		}
		f = top(ev);
		while (f->next < f->rec.nterms &&
		       f->rec.terms[f->next].kind >= SMTPROBE_SPF_REDIRECT)
			f->next++; /* modifiers act at the end, if at all */
		if (f->next < f->rec.nterms) {
			f->cur = (int)f->next;
			eval_term(ev, f, cur_term(f));
		} else {
			end_of_record(ev, f);
		}
	}
	*q = ev->wait != W_NONE ? &ev->q : NULL;
	return ev->wait != W_NONE ? SMTPROBE_SPF_NEED : SMTPROBE_SPF_DONE;
}

int smtprobe_spf_eval_answer(struct smtprobe_spf_eval *ev,
                             const struct smtprobe_spf_answer *a)
{
	static const struct smtprobe_spf_answer servfail = {
	        SMTPROBE_SPF_R_SERVFAIL, 0, NULL, NULL, NULL};
	enum wait w = ev->wait;

	if (w == W_NONE || ev->done)
		return SMTPROBE_SPF_E_STATE;
	if (a == NULL)
		a = &servfail;
	ev->wait = W_NONE;
	if (w == W_RECORD)
		on_record(ev, a);
	else if (w == W_P_PTR || w == W_P_ADDR)
		on_p_answer(ev, w, a);
	else if (w == W_EXP)
		on_exp(ev, a);
	else
		on_term_answer(ev, w, a);
	return 0;
}

const struct smtprobe_spf_outcome *
smtprobe_spf_eval_outcome(const struct smtprobe_spf_eval *ev)
{
	return &ev->out;
}
