/* fuzz_config.c - libFuzzer target for the YAML policy loader
 * (srv_policy_parse). The input is the YAML text, NULs and all. Aborts when
 * the parser succeeds with a policy that breaks its own invariants (counts
 * over their caps, unterminated or unprintable strings, a probability out
 * of 0..1, a network prefix too long, connections_per_ip other than half
 * of max_connections when the text never names it), or fails without a
 * "line N: " message (or a size message); ASan/UBSan catch the rest, and
 * libFuzzer's -timeout a document that loads slowly (the corpus has deep
 * nesting, at the cap and beyond, and many anchors). Accepted policies are
 * then run through the decisions once to reach policy.c. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "policy.h"

#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                               \
	do {                                                                   \
		if (!(x))                                                      \
			abort();                                               \
	} while (0)

static void check_str(const char *s, size_t cap, int may_be_empty)
{
	size_t i, len = strnlen(s, cap);

	CHECK(len < cap);
	CHECK(may_be_empty || len > 0);
	for (i = 0; i < len; i++)
		CHECK((unsigned char)s[i] >= 0x20 && s[i] != 0x7f);
}

static void check_policy(const struct srv_policy *p)
{
	size_t i, j;

	check_str(p->hostname, sizeof(p->hostname), 0);
	CHECK(p->nlocal <= SRV_MAX_DOMAINS);
	for (i = 0; i < p->nlocal; i++)
		check_str(p->local_domains[i], SRV_MAX_NAME, 0);
	CHECK(p->ntrusted <= SRV_MAX_NETS);
	for (i = 0; i < p->ntrusted; i++) {
		const struct srv_net *n = &p->trusted[i];

		CHECK(n->family == AF_INET || n->family == AF_INET6);
		CHECK(n->prefix <= (n->family == AF_INET ? 32u : 128u));
		/* a network contains its own address */
		CHECK(srv_net_contains(n, n->family, n->addr));
	}
	CHECK(p->nusers <= SRV_MAX_USERS);
	for (i = 0; i < p->nusers; i++) {
		const struct srv_user *u = &p->users[i];

		check_str(u->name, sizeof(u->name), 0);
		check_str(u->password, sizeof(u->password), 0);
		CHECK(u->nowns <= SRV_MAX_ADDRS);
		CHECK(u->nallowed <= SRV_MAX_USER_DOMAINS);
		for (j = 0; j < u->nowns; j++)
			check_str(u->owns[j], SRV_MAX_NAME, 0);
		for (j = 0; j < u->nallowed; j++)
			check_str(u->allowed[j], SRV_MAX_NAME, 0);
		CHECK(srv_policy_user(p, u->name) == u); /* no duplicates */
	}
	CHECK(!p->offer_auth || p->mechs != 0);
	CHECK(p->nfaults <= SRV_MAX_FAULTS);
	for (i = 0; i < p->nfaults; i++) {
		const struct srv_fault *f = &p->faults[i];

		CHECK(f->kind >= SRV_FAULT_REPLY &&
		      f->kind <= SRV_FAULT_BAD_STARTTLS);
		check_str(f->when, sizeof(f->when), 0);
		check_str(f->text, sizeof(f->text), 1);
		CHECK(f->probability >= 0.0 && f->probability <= 1.0);
		CHECK(f->kind != SRV_FAULT_REPLY ||
		      (f->code >= 200 && f->code <= 599));
	}
}

/* One pass through the decisions with what the policy itself names. */
static void decide(const struct srv_policy *p)
{
	struct srv_client c;
	struct srv_verdict v;
	char rcpt[SRV_MAX_NAME + 8];

	memset(&c, 0, sizeof(c));
	c.family = AF_INET;
	c.tls = 1;
	c.auth_user = p->nusers ? p->users[0].name : NULL;
	srv_check_auth(p, &c, &v);
	srv_check_mail(
	        p, &c,
	        p->nusers && p->users[0].nowns ? p->users[0].owns[0] : "", &v);
	snprintf(rcpt, sizeof(rcpt), "postmaster@%s",
	         p->nlocal ? p->local_domains[0] : "x");
	srv_check_rcpt(p, &c, "", rcpt, 0, &v);
	CHECK(v.code == 0 || v.reason != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct srv_policy *p = malloc(sizeof(*p));
	char err[512];

	if (p == NULL)
		return 0;
	if (srv_policy_parse(p, (const char *)data, size, err, sizeof(err)) ==
	    0) {
		static const char key[] = "connections_per_ip";

		check_policy(p);
		/* unset (no escape could spell it): the derived default */
		if (memmem(data, size, key, sizeof(key) - 1) == NULL &&
		    memchr(data, '\\', size) == NULL) {
			unsigned maxc =
			        p->max_connections ? p->max_connections : 100;

			CHECK(p->conn_per_ip == (maxc / 2 ? maxc / 2 : 1));
		}
		decide(p);
	} else {
		CHECK(strncmp(err, "line ", 5) == 0 ||
		      strncmp(err, "byte ", 5) == 0 ||
		      strncmp(err, "config too large", 16) == 0 ||
		      strncmp(err, "out of memory", 13) == 0);
	}
	free(p);
	return 0;
}
