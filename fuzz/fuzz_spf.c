/* fuzz_spf.c - libFuzzer target for the SPF parser, record selection and
 * the evaluator (check_host() and the static walk), with no real DNS.
 *
 * The input is a tape. Byte 0 picks the mode (check_host(), the static
 * walk, the walk with void probes), the client address (IPv4, IPv6,
 * IPv4-mapped), the sender, the domain and whether there is a HELO name.
 * Every query the evaluator asks, the first one being the TXT of the
 * domain, is answered from the rest: one control byte (NOERROR, NXDOMAIN
 * or SERVFAIL, and how many records), then per record a line (TXT, MX and
 * PTR names) or an address (often the client's own, slightly changed, so
 * that mechanisms match). An exhausted tape answers NXDOMAIN. Every TXT
 * line is also parsed as a record on its own.
 *
 * It aborts when a promise of spf.h is broken: parse results stay within
 * the record, queries ask valid names, the counts stay within the RFC's
 * limits (the walk's within its own), and every string of the outcome is
 * terminated, printable, and its reason starts with the result word. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtprobe/spf.h"

#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                               \
	do {                                                                   \
		if (!(x))                                                      \
			abort();                                               \
	} while (0)

#define MAX_QUERIES 400 /* well above the worst case of either mode */
#define MAX_RECORDS 16

struct tape {
	const uint8_t *p;
	size_t n, off;
};

static int next_byte(struct tape *t)
{
	return t->off < t->n ? t->p[t->off++] : -1;
}

/* The next line (without its '\n'), or NULL at the end. */
static const char *next_line(struct tape *t, size_t *len)
{
	const uint8_t *nl;
	size_t start = t->off;

	if (t->off >= t->n)
		return NULL;
	nl = memchr(t->p + t->off, '\n', t->n - t->off);
	*len = nl ? (size_t)(nl - (t->p + start)) : t->n - start;
	t->off = start + *len + (nl != NULL);
	return (const char *)t->p + start;
}

static void check_string(const char *s, size_t cap)
{
	size_t i;

	CHECK(memchr(s, '\0', cap) != NULL);
	for (i = 0; s[i] != '\0'; i++)
		CHECK((unsigned char)s[i] >= 0x20 &&
		      (unsigned char)s[i] < 0x7f);
}

static void check_parse(const char *buf, size_t len)
{
	static struct smtprobe_spf_record rec;
	struct smtprobe_spf_error err;
	int rc = smtprobe_spf_parse(buf, len, &rec, &err);
	size_t i;

	CHECK(rc <= 0);
	if (rc < 0) {
		CHECK(err.code == rc);
		CHECK(err.off <= len && err.len <= len - err.off);
		check_string(err.msg, sizeof(err.msg));
		CHECK(strncmp(err.msg, "permerror: ", 11) == 0);
		return;
	}
	CHECK(rec.nterms <= SMTPROBE_SPF_MAX_TERMS);
	for (i = 0; i < rec.nterms; i++) {
		const struct smtprobe_spf_term *t = &rec.terms[i];

		CHECK(t->kind < SMTPROBE_SPF_KIND_LAST);
		CHECK(t->text.len > 0 && t->text.off + t->text.len <= len);
		CHECK(t->arg.off >= t->text.off &&
		      t->arg.off + t->arg.len <= t->text.off + t->text.len);
		CHECK(t->cidr4 <= 32 && t->cidr6 <= 128);
	}
}

/* A query name: 1..253 bytes of non-empty labels of at most 63. */
static void check_name(const char *name)
{
	size_t len = strlen(name), label = 0, i;

	CHECK(len > 0 && len <= SMTPROBE_SPF_MAX_NAME);
	for (i = 0; i <= len; i++) {
		if (i < len && name[i] != '.') {
			CHECK(++label <= 63);
			continue;
		}
		CHECK(label > 0);
		label = 0;
	}
}

static void answer(struct tape *t, const struct smtprobe_spf_query *q,
                   const unsigned char *client, int client_v6,
                   struct smtprobe_spf_answer *a,
                   struct smtprobe_txt txt[MAX_RECORDS],
                   struct smtprobe_spf_ip addr[MAX_RECORDS],
                   char names[MAX_RECORDS][300],
                   const char *nameptr[MAX_RECORDS])
{
	int c = next_byte(t);
	size_t i, n, len;

	memset(a, 0, sizeof(*a));
	a->txt = txt;
	a->addr = addr;
	a->names = nameptr;
	if (c < 0 || c % 4 == 2) {
		a->rcode = SMTPROBE_SPF_R_NXDOMAIN;
		return;
	}
	if (c % 4 == 3) {
		a->rcode = SMTPROBE_SPF_R_SERVFAIL;
		return;
	}
	n = (size_t)(c >> 2) % MAX_RECORDS;
	for (i = 0; i < n; i++) {
		const char *line;
		int b;

		switch (q->type) {
		case SMTPROBE_SPF_Q_A:
		case SMTPROBE_SPF_Q_AAAA:
			b = next_byte(t);
			addr[i].family = q->type == SMTPROBE_SPF_Q_A ? 4 : 6;
			if (b >= 0 && (b & 1) &&
			    client_v6 == (addr[i].family == 6)) {
				memcpy(addr[i].addr, client, 16);
				addr[i].addr[b % 16] ^= (uint8_t)(b >> 4);
			} else {
				size_t k;

				for (k = 0; k < 16; k++) {
					int x = next_byte(t);

					addr[i].addr[k] =
					        (uint8_t)(x < 0 ? 0 : x);
				}
			}
			break;
		default:
			line = next_line(t, &len);
			if (line == NULL)
				line = "", len = 0;
			if (q->type == SMTPROBE_SPF_Q_TXT) {
				txt[i].data = line;
				txt[i].len = len;
				check_parse(line, len);
			} else {
				if (len >= sizeof(names[i]))
					len = sizeof(names[i]) - 1;
				memcpy(names[i], line, len);
				names[i][len] = '\0';
				nameptr[i] = names[i];
			}
		}
	}
	a->n = n;
}

static void check_outcome(const struct smtprobe_spf_outcome *o, int is_static)
{
	const char *word = smtprobe_spf_result_name(o->result);

	CHECK(o->result < SMTPROBE_SPF_RESULT_LAST);
	check_string(o->mechanism, sizeof(o->mechanism));
	check_string(o->mech_domain, sizeof(o->mech_domain));
	check_string(o->leaf, sizeof(o->leaf));
	check_string(o->leaf_domain, sizeof(o->leaf_domain));
	check_string(o->reason, sizeof(o->reason));
	check_string(o->exp_domain, sizeof(o->exp_domain));
	check_string(o->explanation, sizeof(o->explanation));
	check_string(o->over, sizeof(o->over));
	CHECK(strncmp(o->reason, word, strlen(word)) == 0);
	CHECK(o->queries <= MAX_QUERIES);
	if (is_static) {
		CHECK(o->lookups <= SMTPROBE_SPF_WALK_MAX_LOOKUPS + 1);
		return;
	}
	CHECK(o->lookups <= SMTPROBE_SPF_MAX_LOOKUPS + 1);
	CHECK(o->void_lookups <= o->lookups); /* one per counted term */
	if (o->result == SMTPROBE_SPF_PASS || o->result == SMTPROBE_SPF_FAIL ||
	    o->result == SMTPROBE_SPF_SOFTFAIL) {
		CHECK(o->lookups <= SMTPROBE_SPF_MAX_LOOKUPS);
		CHECK(o->void_lookups <= SMTPROBE_SPF_MAX_VOID);
		CHECK(o->mechanism[0] != '\0');
	}
	if (o->explanation[0] != '\0')
		CHECK(o->result == SMTPROBE_SPF_FAIL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const ips[] = {"192.0.2.3", "2001:db8::cb01",
	                                  "::ffff:192.0.2.3", "0.0.0.0"};
	static const unsigned char client4[16] = {192, 0, 2, 3};
	static const unsigned char client6[16] = {
	        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xcb, 1};
	static const char *const senders[] = {"strong-bad@email.example.com",
	                                      NULL, "@example.org",
	                                      "a b%c@x.example"};
	static struct smtprobe_txt txt[MAX_RECORDS];
	static struct smtprobe_spf_ip addr[MAX_RECORDS];
	static char names[MAX_RECORDS][300];
	static const char *nameptr[MAX_RECORDS];
	struct tape t = {data, size, 0};
	struct smtprobe_spf_params p = {0};
	struct smtprobe_spf_eval *ev;
	const struct smtprobe_spf_query *q;
	int cfg = next_byte(&t), v6;
	unsigned nq = 0;

	if (cfg < 0)
		return 0;
	v6 = (cfg & 3) == 1;
	p.mode = (cfg & 0x30) == 0x30 ? SMTPROBE_SPF_STATIC
	         : (cfg & 0x30) == 0x20
	                 ? SMTPROBE_SPF_STATIC | SMTPROBE_SPF_PROBE_VOID
	                 : SMTPROBE_SPF_EVAL;
	p.ip = ips[cfg & 3];
	p.sender = senders[(cfg >> 2) & 3];
	p.domain = cfg & 0x40 ? "email.example.com" : "example.org";
	p.helo = cfg & 0x80 ? "mx.example.org" : NULL;
	p.receiver = "receiver.example";
	p.now = 1400000000;
	CHECK(smtprobe_spf_eval_new(&ev, &p) == 0);
	while (smtprobe_spf_eval_step(ev, &q) == SMTPROBE_SPF_NEED) {
		struct smtprobe_spf_answer a;

		CHECK(q != NULL && q->type < SMTPROBE_SPF_Q_LAST);
		check_name(q->name);
		CHECK(++nq <= MAX_QUERIES);
		answer(&t, q, v6 ? client6 : client4, v6, &a, txt, addr, names,
		       nameptr);
		if (a.rcode == SMTPROBE_SPF_R_OK &&
		    q->type == SMTPROBE_SPF_Q_TXT)
			smtprobe_spf_select(a.txt, a.n, NULL, NULL);
		CHECK(smtprobe_spf_eval_answer(ev, &a) == 0);
	}
	CHECK(smtprobe_spf_eval_outcome(ev)->queries == nq);
	check_outcome(smtprobe_spf_eval_outcome(ev),
	              (p.mode & 0xff) == SMTPROBE_SPF_STATIC);
	smtprobe_spf_eval_free(ev);
	return 0;
}
