/* fuzz_command.c - libFuzzer target for the server's command parser and
 * srv_addr_domain(). The input is parsed whole, from a heap copy of
 * exactly its size (ASan catches a read past the end). Aborts when: the
 * result and the reply disagree; a reply is not a static 5xx line; a span
 * lies outside the input or, when empty, does not point at a NUL; the
 * path or the parameters lie outside the argument or overlap; an accepted
 * line holds a control byte or is too long; a path is over 254 bytes or
 * holds an unquoted space or angle bracket; RCPT got the null path; a
 * verb without arguments got one; the domain is not a suffix of the
 * address right after an '@'. The parser must also be deterministic.
 * The parameters of an accepted MAIL or RCPT, the argument of BDAT and
 * the whole input go through params.c too (MAIL/RCPT parameters with every
 * extension offered and with none, BDAT, the UTF-8 checks): a refusal must
 * be a 5xx line, a kept ENVID or ORCPT must fit and be printable ASCII. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "params.h"

#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                               \
	do {                                                                   \
		if (!(x))                                                      \
			abort();                                               \
	} while (0)

static int inside(const char *buf, size_t len, const char *p, size_t n)
{
	if (n == 0)
		return p != NULL && p[0] == '\0';
	return p >= buf && n <= len && p - buf <= (ptrdiff_t)(len - n);
}

static void check_domain(const char *addr, size_t len)
{
	size_t dlen = (size_t)-1;
	const char *d = srv_addr_domain(addr, len, &dlen);

	CHECK(d != NULL && dlen <= len);
	if (dlen == 0) {
		CHECK(d[0] == '\0');
		return;
	}
	CHECK(d + dlen == addr + len);
	CHECK(d > addr && d[-1] == '@');
}

/* No space, '<' or '>' outside a quoted string; quotes balance. */
static void check_path(const char *p, size_t n)
{
	int quoted = 0;

	CHECK(n + 2 <= 256);
	for (size_t i = 0; i < n; i++) {
		if (quoted) {
			if (p[i] == '\\')
				i++;
			else if (p[i] == '"')
				quoted = 0;
			continue;
		}
		CHECK(p[i] != ' ' && p[i] != '<' && p[i] != '>');
		if (p[i] == '"')
			quoted = 1;
	}
	CHECK(!quoted);
}

static void check_ok(const char *buf, size_t len, const struct srv_command *c)
{
	CHECK(len > 0 && len <= SRV_MAX_CMDLINE);
	for (size_t i = 0; i < len; i++)
		CHECK((unsigned char)buf[i] >= 0x20 &&
		      (unsigned char)buf[i] != 0x7f);
	CHECK(c->arglen == 0 ||
	      (c->arg[0] != ' ' && c->arg[c->arglen - 1] != ' '));
	if (c->pathlen > 0) {
		CHECK(c->path >= c->arg &&
		      c->path + c->pathlen <= c->arg + c->arglen);
		check_path(c->path, c->pathlen);
		check_domain(c->path, c->pathlen);
	}
	if (c->paramslen > 0)
		CHECK(c->params >= c->path + c->pathlen &&
		      c->params + c->paramslen <= c->arg + c->arglen);
	if (c->pathlen > 0 || c->paramslen > 0)
		CHECK(c->verb == SRV_CMD_MAIL || c->verb == SRV_CMD_RCPT);
	switch (c->verb) {
	case SRV_CMD_RCPT:
		CHECK(c->pathlen > 0);
		break;
	case SRV_CMD_DATA:
	case SRV_CMD_RSET:
	case SRV_CMD_QUIT:
	case SRV_CMD_STARTTLS:
		CHECK(c->arglen == 0);
		break;
	case SRV_CMD_HELO:
	case SRV_CMD_EHLO:
	case SRV_CMD_LHLO:
	case SRV_CMD_AUTH:
	case SRV_CMD_BDAT:
	case SRV_CMD_MAIL:
		CHECK(c->arglen > 0);
		break;
	default:
		break;
	}
}

static void check_printable(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	CHECK(n < cap);
	for (size_t i = 0; i < n; i++)
		CHECK(s[i] > 32 && s[i] < 127);
}

static void check_params(const char *buf, size_t size,
                         const struct srv_command *c, int rc)
{
	static const struct srv_offer offers[] = {{1, 1, 1, 1, 1},
	                                          {0, 0, 0, 0, 0}};
	char reply[128];

	for (size_t i = 0; rc == 0 && i < 2; i++) {
		if (c->verb == SRV_CMD_MAIL) {
			struct srv_mail_params mp;
			if (srv_mail_params_parse(c->params, c->paramslen,
			                          &offers[i], &mp, reply,
			                          sizeof(reply)) != 0)
				CHECK(reply[0] == '5' && strlen(reply) < 80);
			else
				check_printable(mp.envid, sizeof(mp.envid));
		} else if (c->verb == SRV_CMD_RCPT) {
			struct srv_rcpt_params rp;
			if (srv_rcpt_params_parse(c->params, c->paramslen,
			                          &offers[i], &rp, reply,
			                          sizeof(reply)) != 0)
				CHECK(reply[0] == '5' && strlen(reply) < 80);
			else
				check_printable(rp.orcpt, sizeof(rp.orcpt));
		} else if (c->verb == SRV_CMD_BDAT) {
			uint64_t n;
			int last;
			if (srv_bdat_parse(c->arg, c->arglen, &n, &last, reply,
			                   sizeof(reply)) != 0)
				CHECK(reply[0] == '5');
			else
				CHECK(last == 0 || last == 1);
		}
	}
	int valid = srv_utf8_valid(buf, size);
	CHECK(valid == 0 || valid == 1);
	if (!srv_has_8bit(buf, size))
		CHECK(valid == 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	struct srv_command c, again;
	const char *reply = "unset", *reply2;
	int rc;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	rc = srv_command_parse(buf, size, &c, &reply);
	CHECK(rc == 0 || rc == -1);
	CHECK(c.verb >= SRV_CMD_UNKNOWN && c.verb < SRV_CMD_LAST);
	CHECK(c.name != NULL &&
	      (c.name[0] == '\0') == (c.verb == SRV_CMD_UNKNOWN));
	CHECK(inside(buf, size, c.arg, c.arglen));
	CHECK(inside(buf, size, c.path, c.pathlen));
	CHECK(inside(buf, size, c.params, c.paramslen));
	if (rc == 0) {
		CHECK(reply == NULL);
		check_ok(buf, size, &c);
	} else {
		CHECK(reply != NULL && reply[0] == '5' && strlen(reply) < 80);
		CHECK(c.arglen == 0 && c.pathlen == 0 && c.paramslen == 0);
	}
	CHECK(srv_command_parse(buf, size, &again, &reply2) == rc);
	CHECK(reply2 == reply && again.verb == c.verb && again.arg == c.arg &&
	      again.arglen == c.arglen && again.path == c.path &&
	      again.pathlen == c.pathlen && again.params == c.params &&
	      again.paramslen == c.paramslen);
	check_domain(buf, size);
	check_params(buf, size, &c, rc);
	free(buf);
	return 0;
}
