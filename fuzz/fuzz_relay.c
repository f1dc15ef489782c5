/* fuzz_relay.c - libFuzzer target for the relay audit's pure parts: the
 * reply classifier, the catalogue expansion, the local domain guess and
 * the verdicts.
 *
 * Input: one flags byte, then the server's replies, then "\0\0", then the
 * name fields separated by single NULs in the order local, external,
 * host, ip, own, other, one allowed domain, one denied domain, our HELO
 * name; a field that is not there is NULL, an empty one is "". Flags:
 * 0x01 AUTH offered, 0x02 STARTTLS offered, 0x04 implicit TLS, 0x08
 * credentials given, 0x10 a small max for the expansion; the byte also
 * seeds the random number.
 *
 * The target aborts when relay.h's promises break: every reply is judged
 * by its class (2xx/3xx accepted without a kind, 421 inconclusive, 5xx
 * refused, other 4xx a temporary refusal or inconclusive), why is always
 * terminated; judging a test whose every stage got that reply agrees with
 * the classifier; the expansion never returns more than max tests, writes
 * none past them, and leaves every id, HELO, MAIL FROM and RCPT TO
 * terminated within its buffer, bracketed, and free of line breaks that
 * the names did not bring; the guessed domain is terminated within its
 * buffer and is a prefix of the host name or of its part after the first
 * dot; the verdicts cite only tests that exist. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtprobe/discover.h"
#include "smtprobe/relay.h"

#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                               \
	do {                                                                   \
		if (!(x))                                                      \
			abort();                                               \
	} while (0)

#define MAXTESTS 128
#define NFIELDS  9

static int terminated(const char *s, size_t sz)
{
	return memchr(s, '\0', sz) != NULL;
}

static int has_break(const char *s)
{
	return s != NULL && strpbrk(s, "\r\n") != NULL;
}

/* The classifier and judge_test on one reply. */
static void check_reply(struct smtprobe_reply *r, unsigned flags)
{
	static struct smtprobe_relay_test *t;
	struct smtprobe_exchange ex[2];
	struct smtprobe_rcpt_result rcpt;
	enum smtprobe_refusal_kind kind = SMTPROBE_RK_OTHER;
	enum smtprobe_reply_outcome o;
	char why[256], small[9];
	size_t sz = 1 + flags % sizeof(small);

	o = smtprobe_refusal_classify(r, &kind, why, sizeof(why));
	CHECK(terminated(why, sizeof(why)) && why[0] != '\0');
	CHECK((unsigned)o <= SMTPROBE_OUT_INCONCLUSIVE);
	CHECK((unsigned)kind <= SMTPROBE_RK_OTHER);
	CHECK(strcmp(smtprobe_reply_outcome_name(o), "?") != 0);
	CHECK(strcmp(smtprobe_refusal_kind_name(kind), "?") != 0);
	if (r->code < 400) {
		CHECK(o == SMTPROBE_OUT_ACCEPTED && kind == SMTPROBE_RK_NONE);
	} else if (r->code == 421) {
		CHECK(o == SMTPROBE_OUT_INCONCLUSIVE);
	} else if (r->code >= 500) {
		/* refused, unless it names a session limit ("too many") */
		CHECK((o == SMTPROBE_OUT_REFUSED ||
		       o == SMTPROBE_OUT_INCONCLUSIVE) &&
		      kind != SMTPROBE_RK_NONE);
	} else {
		CHECK(o == SMTPROBE_OUT_TEMPFAIL ||
		      o == SMTPROBE_OUT_INCONCLUSIVE);
		CHECK(kind != SMTPROBE_RK_NONE);
	}
	memset(small, 'x', sizeof(small));
	CHECK(smtprobe_refusal_classify(r, NULL, small, sz) == o);
	CHECK(terminated(small, sz) && strlen(small) < sz);
	if (sz < sizeof(small))
		CHECK(small[sz] == 'x');

	/* a test whose MAIL and RCPT both got this reply (kept between
	 * runs: it is large) */
	if (t == NULL && (t = malloc(sizeof(*t))) == NULL)
		return;
	memset(t, 0, sizeof(*t));
	memset(ex, 0, sizeof(ex));
	memset(&rcpt, 0, sizeof(rcpt));
	ex[0].stage = SMTPROBE_ST_MAIL;
	ex[0].reply = r;
	ex[1].stage = SMTPROBE_ST_RCPT;
	ex[1].reply = r;
	rcpt.reply = r;
	t->res.ex = ex;
	t->res.nex = 2;
	t->res.rcpt = &rcpt;
	t->res.nrcpt = 1;
	t->ran = 1;
	smtprobe_relay_judge_test(t);
	/* a refusal for greylisting or an unresolvable domain never met the
	 * relay rule: judge_test calls it inconclusive */
	if (smtprobe_refusal_is_moot(kind))
		CHECK(t->outcome == (o == SMTPROBE_OUT_ACCEPTED
		                             ? o
		                             : SMTPROBE_OUT_INCONCLUSIVE));
	else
		CHECK(t->outcome == o);
	CHECK(t->kind == kind);
	CHECK(t->deciding == r);
	CHECK(terminated(t->why, sizeof(t->why)) && t->why[0] != '\0');
	CHECK(!t->delivered && !t->refused_at_data);
}

static void check_replies(const char *buf, size_t len, unsigned flags)
{
	struct smtprobe_reply_parse p;
	size_t off = 0;

	while (off < len) {
		long n = smtprobe_reply_parse(buf + off, len - off, &p);
		struct smtprobe_reply *r;

		if (n <= 0)
			break;
		r = smtprobe_reply_build(buf + off, &p);
		if (r != NULL) {
			check_reply(r, flags);
			smtprobe_reply_free(r);
		}
		off += (size_t)n;
	}
}

static void check_guess(const char *host, unsigned flags)
{
	char out[300];
	size_t sz = 1 + flags % 40, len;
	const char *dot;

	memset(out, 'x', sizeof(out));
	smtprobe_guess_domain(host, out, 0);
	CHECK(out[0] == 'x');
	for (int pass = 0; pass < 2; pass++, sz = 256) {
		memset(out, 'x', sizeof(out));
		smtprobe_guess_domain(host, out, sz);
		CHECK(terminated(out, sz));
		CHECK(out[sz] == 'x');
		len = strlen(out);
		if (host == NULL) {
			CHECK(len == 0);
			continue;
		}
		dot = strchr(host, '.');
		CHECK(strncmp(out, host, len) == 0 ||
		      (dot != NULL && strncmp(out, dot + 1, len) == 0));
	}
}

static void check_tests(const struct smtprobe_relay_test *t, size_t k,
                        const struct smtprobe_relay_names *n, int clean)
{
	for (size_t i = 0; i < k; i++) {
		const struct smtprobe_relay_test *x = &t[i];
		size_t ml, rl;

		CHECK(terminated(x->id, sizeof(x->id)));
		CHECK(terminated(x->helo, sizeof(x->helo)));
		CHECK(terminated(x->mail_from, sizeof(x->mail_from)));
		CHECK(terminated(x->rcpt_to, sizeof(x->rcpt_to)));
		CHECK((unsigned)x->scenario <= SMTPROBE_RELAY_C);
		CHECK(x->id[0] == "ABC"[x->scenario] && x->id[1] == '.');
		CHECK(x->port == 25 && x->title != NULL && x->helo[0] != '\0');
		ml = strlen(x->mail_from);
		rl = strlen(x->rcpt_to);
		CHECK(ml >= 2 && x->mail_from[0] == '<' &&
		      x->mail_from[ml - 1] == '>');
		CHECK(rl >= 2);
		if (strcmp(x->id, "A.rcpt.no-brackets") != 0)
			CHECK(x->rcpt_to[0] == '<' &&
			      x->rcpt_to[rl - 1] == '>');
		if (clean)
			CHECK(!has_break(x->id) && !has_break(x->helo) &&
			      !has_break(x->mail_from) &&
			      !has_break(x->rcpt_to));
		if (x->scenario != SMTPROBE_RELAY_A)
			CHECK(n->have_user);
		if (x->clear)
			CHECK(n->tls_offered && !n->implicit_tls);
	}
}

static void check_verdicts(struct smtprobe_relay_test *t, size_t k,
                           const uint8_t *data, size_t size)
{
	struct smtprobe_relay_scenario_verdict v[3];

	for (size_t i = 0; i < k; i++) {
		uint8_t b = size ? data[i % size] : 0;

		t[i].ran = (b & 0x80) == 0;
		t[i].outcome = (enum smtprobe_reply_outcome)(b % 5);
		t[i].delivered = (b & 0x20) != 0;
		t[i].refused_at_data = (b & 0x40) != 0;
		snprintf(t[i].why, sizeof(t[i].why), "%s",
		         smtprobe_reply_outcome_name(t[i].outcome));
	}
	smtprobe_relay_judge_port(t, k, v);
	for (int s = 0; s < 3; s++) {
		CHECK((unsigned)v[s].verdict <= SMTPROBE_V_INCONCLUSIVE);
		CHECK(v[s].confidence != NULL);
		CHECK(terminated(v[s].why, sizeof(v[s].why)));
		CHECK(v[s].why[0] != '\0');
		CHECK(v[s].nevidence <=
		      sizeof(v[s].evidence) / sizeof(v[s].evidence[0]));
		for (size_t e = 0; e < v[s].nevidence; e++)
			CHECK(v[s].evidence[e] < k);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct smtprobe_relay_test *tests;
	struct smtprobe_relay_names n;
	const char *field[NFIELDS] = {NULL};
	const char *allowed[1], *denied[1];
	unsigned flags;
	size_t split, nf = 0, max, k;
	char *names;
	int clean = 1;

	if (size < 1)
		return 0;
	if (tests == NULL) {
		tests = calloc(MAXTESTS, sizeof(*tests));
		if (tests == NULL)
			return 0;
	}
	flags = data[0];
	data++;
	size--;

	for (split = 0; split + 1 < size; split++)
		if (data[split] == 0 && data[split + 1] == 0)
			break;
	if (split + 1 >= size)
		split = size;
	check_replies((const char *)data, split, flags);

	/* the names: a terminated copy of what follows "\0\0" */
	size_t nlen = split + 2 <= size ? size - split - 2 : 0;
	names = malloc(nlen + 1);
	if (names == NULL)
		return 0;
	if (nlen)
		memcpy(names, data + split + 2, nlen);
	names[nlen] = '\0';
	if (split < size) {
		for (size_t off = 0; nf < NFIELDS && off <= nlen; nf++) {
			field[nf] = names + off;
			off += strlen(names + off) + 1;
		}
	}
	for (size_t i = 0; i < nf; i++)
		if (has_break(field[i]))
			clean = 0;

	memset(&n, 0, sizeof(n));
	n.local = field[0];
	n.external = field[1];
	n.host = field[2];
	n.ip = field[3];
	n.own = field[4];
	n.other = field[5];
	if (field[6] != NULL) {
		allowed[0] = field[6];
		n.allowed = allowed;
		n.nallowed = 1;
	}
	if (field[7] != NULL) {
		denied[0] = field[7];
		n.denied = denied;
		n.ndenied = 1;
	}
	n.helo = field[8] != NULL ? field[8] : SMTPROBE_RELAY_DEFAULT_HELO;
	n.auth_offered = (flags & 0x01) != 0;
	n.tls_offered = (flags & 0x02) != 0;
	n.implicit_tls = (flags & 0x04) != 0;
	n.have_user = (flags & 0x08) != 0;
	n.random = (int)(flags * 2654435761u);

	max = (flags & 0x10) ? (size_t)flags % 17 : MAXTESTS;
	if (max < MAXTESTS)
		memset(tests[max].id, 0x7f, sizeof(tests[max].id));
	k = smtprobe_relay_build(&n, 25, tests, max);
	CHECK(k <= max);
	if (max < MAXTESTS)
		for (size_t i = 0; i < sizeof(tests[max].id); i++)
			CHECK((unsigned char)tests[max].id[i] == 0x7f);
	check_tests(tests, k, &n, clean);
	check_verdicts(tests, k, data, size);

	check_guess(n.host, flags);
	check_guess(n.local, flags);
	free(names);
	return 0;
}
