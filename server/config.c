/* config.c - the relay policy of `smtprobe serve` from YAML (libyaml's
 * document API): srv_policy_parse() for text, srv_policy_preset() for the
 * compiled-in presets (YAML texts too, through the same parser) and
 * srv_policy_load() for a preset name or a file plus its users_file.
 *
 * The schema is a set of tables (key, kind, where it lands); every key is
 * known, typed and bounded. On bad input the function returns -1 with
 * "line N: what is wrong" in err (N from the YAML mark, 1-based; file
 * errors name the file instead) and the policy is left reset or partly
 * filled, never used. Unknown or duplicate keys, wrong types, numbers out
 * of range, bad CIDRs, too many items and values longer than their field
 * are all errors: nothing is truncated or guessed. Strings may not hold
 * control characters (a host name or a fault text reaches the wire).
 * Limits: SRV_MAX_CONFIG bytes of YAML (and of users_file), the item caps
 * of policy.h, one YAML document. Before libyaml builds its node tree,
 * the YAML guard (lib/core/yaml_guard.c) refuses a stream nested deeper
 * than SRV_MAX_DEPTH, with more than SRV_MAX_NODES nodes or
 * SRV_MAX_ANCHORS anchors ("line N: nesting deeper than 32 levels"), so
 * loading is linear in the input and the tree stays a few MB. Anchors and
 * aliases are resolved by libyaml; the walk follows the schema, whose
 * depth is fixed, so an aliased or self-referencing node can't make it
 * loop. Defaults that depend on other keys (connections_per_ip: half of
 * max_connections) are applied once the document is read. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <yaml.h>

#include "smtprobe/ehlo.h"
#include "policy.h"
#include "util.h"
#include "yaml_guard.h"

#include "banned.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
/* Not <limits.h>: server/limits.h shadows it on this include path. */
#define CFG_ULONG_MAX ((unsigned long)-1)
#define CFG_UINT_MAX  ((unsigned)-1)
#define CFG_MAX_PATH  4096 /* users_file path, after joining */

/* ---- presets ------------------------------------------------------ */

static const char preset_open[] =
        "# open: an open relay, the misconfiguration to demonstrate.\n"
        "# Anyone may relay to anywhere; AUTH is not offered.\n"
        "hostname: mx.example.test\n"
        "local_domains: [example.test]\n"
        "open_relay: true\n"
        "auth:\n"
        "  offer: false\n";

static const char preset_mx[] =
        "# mx: a receiving MX. Mail is accepted for the local domains\n"
        "# only; nobody may relay; AUTH is not offered.\n"
        "hostname: mx.example.test\n"
        "local_domains: [example.test]\n"
        "trusted_networks: []\n"
        "open_relay: false\n"
        "auth:\n"
        "  offer: false\n";

static const char preset_submission[] =
        "# submission: a submission server (port 587). STARTTLS, then\n"
        "# AUTH, then mail only from addresses the user owns. bob may\n"
        "# only send to example.test and example.net (least privilege).\n"
        "hostname: mx.example.test\n"
        "local_domains: [example.test]\n"
        "require_tls: true\n"
        "require_auth: true\n"
        "sender_login_match: true\n"
        "auth:\n"
        "  offer: true\n"
        "  without_tls: false\n"
        "  mechanisms: [PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-256]\n"
        "users:\n"
        "  - name: alice\n"
        "    password: alice-password\n"
        "    owns: [alice@example.test]\n"
        "  - name: bob\n"
        "    password: bob-password\n"
        "    owns: [bob@example.test]\n"
        "    allowed_domains: [example.test, example.net]\n";

static const char preset_relay_by_ip[] =
        "# relay-by-ip: clients from the trusted networks (loopback) may\n"
        "# relay, others may only send to the local domains; no AUTH.\n"
        "hostname: mx.example.test\n"
        "local_domains: [example.test]\n"
        "trusted_networks: [\"127.0.0.0/8\", \"::1/128\"]\n"
        "auth:\n"
        "  offer: false\n";

static const struct {
	const char *name;
	const char *yaml;
	size_t len;
} presets[] = {
        {"open", preset_open, sizeof(preset_open) - 1},
        {"mx", preset_mx, sizeof(preset_mx) - 1},
        {"submission", preset_submission, sizeof(preset_submission) - 1},
        {"relay-by-ip", preset_relay_by_ip, sizeof(preset_relay_by_ip) - 1},
};

const char *const srv_preset_names[] = {"open", "mx", "submission",
                                        "relay-by-ip", NULL};

/* ---- the schema --------------------------------------------------- */

enum kind {
	K_HOST,       /* char[]: non-empty, no space */
	K_TEXT,       /* char[]: anything printable, may be empty */
	K_SECRET,     /* char[]: printable, non-empty */
	K_BOOL,       /* int */
	K_UINT,       /* unsigned */
	K_SIZE,       /* unsigned long, K/M/G suffixes */
	K_MS,         /* unsigned, milliseconds; ms/s/m/h suffixes */
	K_SECS,       /* unsigned, seconds; s/m/h suffixes */
	K_DOMAINS,    /* char[max][SRV_MAX_NAME] + size_t count */
	K_ADDRS,      /* same, addresses */
	K_NETS,       /* trusted networks */
	K_MECHS,      /* SASL mechanism bits */
	K_MAP,        /* a nested mapping described by sub */
	K_USERS,      /* the users sequence */
	K_USERS_FILE, /* only through srv_policy_load */
	K_FAULTS      /* the faults sequence (keys depend on the action) */
};

struct field {
	const char *key;
	enum kind kind;
	size_t off;   /* in the object the mapping fills */
	size_t size;  /* of the field (strings) */
	size_t off_n; /* list counts */
	size_t max_n; /* list caps */
	const struct field *sub;
	size_t nsub;
	unsigned long max; /* numbers: the largest value, 0 = type's */
};

#define P(m) offsetof(struct srv_policy, m)
#define U(m) offsetof(struct srv_user, m)
#define STR(k, kind, obj, m)                                                   \
	{                                                                      \
		k, kind, obj(m), sizeof(((T *)0)->m), 0, 0, NULL, 0, 0         \
	}
#define NUM(k, kind, obj, m, mx)                                               \
	{                                                                      \
		k, kind, obj(m), 0, 0, 0, NULL, 0, mx                          \
	}
#define LIST(k, kind, obj, m, n)                                               \
	{                                                                      \
		k, kind, obj(m), SRV_MAX_NAME, obj(n), NELEM(((T *)0)->m),     \
		        NULL, 0, 0                                             \
	}

#define T struct srv_policy
static const struct field auth_fields[] = {
        NUM("offer", K_BOOL, P, offer_auth, 0),
        NUM("without_tls", K_BOOL, P, auth_without_tls, 0),
        NUM("mechanisms", K_MECHS, P, mechs, 0),
};

static const struct field limit_fields[] = {
        NUM("max_connections", K_UINT, P, max_connections, 0),
        NUM("connections_per_ip", K_UINT, P, conn_per_ip, 0),
        NUM("connection_rate", K_UINT, P, conn_rate, 0),
        NUM("auth_failures", K_UINT, P, auth_fail_limit, 0),
        NUM("auth_failure_delay", K_MS, P, auth_fail_delay_ms, 0),
        NUM("greylist", K_SECS, P, greylist_secs, 0),
        NUM("message_rate", K_UINT, P, msg_rate, 0),
};

static const struct field top_fields[] = {
        STR("hostname", K_HOST, P, hostname),
        LIST("local_domains", K_DOMAINS, P, local_domains, nlocal),
        NUM("trusted_networks", K_NETS, P, trusted, 0),
        NUM("open_relay", K_BOOL, P, open_relay, 0),
        NUM("known_recipients", K_BOOL, P, known_recipients, 0),
        NUM("require_tls", K_BOOL, P, require_tls, 0),
        NUM("require_auth", K_BOOL, P, require_auth, 0),
        NUM("sender_login_match", K_BOOL, P, sender_login_match, 0),
        NUM("max_recipients", K_UINT, P, max_recipients, 0),
        NUM("max_message_size", K_SIZE, P, max_size, 0),
        NUM("smtputf8", K_BOOL, P, smtputf8, 0),
        NUM("dsn", K_BOOL, P, dsn, 0),
        NUM("chunking", K_BOOL, P, chunking, 0),
        {"auth", K_MAP, 0, 0, 0, 0, auth_fields, NELEM(auth_fields), 0},
        NUM("users", K_USERS, P, users, 0),
        NUM("users_file", K_USERS_FILE, P, users, 0),
        {"limits", K_MAP, 0, 0, 0, 0, limit_fields, NELEM(limit_fields), 0},
        NUM("faults", K_FAULTS, P, faults, 0),
};
#undef T

#define T struct srv_user
static const struct field user_fields[] = {
        STR("name", K_HOST, U, name),
        STR("password", K_SECRET, U, password),
        LIST("owns", K_ADDRS, U, owns, nowns),
        LIST("allowed_domains", K_DOMAINS, U, allowed, nallowed),
        NUM("message_rate", K_UINT, U, msg_rate, 0),
};
#undef T

/* Mechanisms a server may offer (sasl_server.c implements these). */
static const unsigned server_mechs =
        SMTPROBE_MECH_PLAIN | SMTPROBE_MECH_LOGIN | SMTPROBE_MECH_CRAM_MD5 |
        SMTPROBE_MECH_SCRAM_SHA_1 | SMTPROBE_MECH_SCRAM_SHA_256;

/* Fault actions and the parameter each one takes. */
enum fparam { FP_NONE, FP_CODE, FP_MS, FP_COUNT, FP_BYTES };

static const struct {
	const char *name;
	enum srv_fault_kind kind;
	enum fparam param; /* required */
} fault_actions[] = {
        {"reply", SRV_FAULT_REPLY, FP_CODE},
        {"delay", SRV_FAULT_DELAY, FP_MS},
        {"drop", SRV_FAULT_DROP, FP_NONE},
        {"421-after", SRV_FAULT_421_AFTER, FP_COUNT},
        {"silence", SRV_FAULT_SILENCE, FP_NONE},
        {"drip", SRV_FAULT_DRIP, FP_MS},
        {"endless", SRV_FAULT_ENDLESS, FP_NONE},
        {"long-line", SRV_FAULT_LONG_LINE, FP_BYTES},
        {"garbage", SRV_FAULT_GARBAGE, FP_NONE},
        {"reset-data", SRV_FAULT_RESET_DATA, FP_NONE},
        {"bad-starttls", SRV_FAULT_BAD_STARTTLS, FP_NONE},
};

/* Stored lower-case: the pseudo-commands. Upper-case: SMTP verbs. */
static const char *const fault_pseudo[] = {"connect", "dot", "any"};
static const char *const fault_verbs[] = {
        "HELO", "EHLO", "MAIL", "RCPT", "DATA", "BDAT", "STARTTLS",
        "AUTH", "RSET", "NOOP", "QUIT", "VRFY", "EXPN", "HELP"};

#define FAULT_MAX_MS    86400000UL /* a day */
#define FAULT_MAX_COUNT 1000000UL
#define FAULT_MAX_BYTES (64UL << 20) /* a 64 MiB reply line */
#define MAX_KEYS        32           /* keys in one of our mappings */

_Static_assert(NELEM(top_fields) <= MAX_KEYS &&
                       NELEM(auth_fields) <= MAX_KEYS &&
                       NELEM(limit_fields) <= MAX_KEYS &&
                       NELEM(user_fields) <= MAX_KEYS,
               "a mapping with more keys than MAX_KEYS");

/* ---- parsing context and errors ----------------------------------- */

struct cfg {
	yaml_document_t *doc;
	struct srv_policy *p;
	char *err;
	size_t errsz;
	int allow_users_file;
	char users_file[CFG_MAX_PATH]; /* "" = none */
};

static int fail(struct cfg *c, const yaml_node_t *n, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Messages quote the input: no control bytes reach a terminal. */
static void printable(char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
	}
}

static int fail(struct cfg *c, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printable(msg);
	if (c->errsz > 0)
		snprintf(c->err, c->errsz, "line %lu: %s",
		         (unsigned long)(n ? n->start_mark.line + 1 : 1), msg);
	return -1;
}

static void set_err(char *err, size_t errsz, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	if (errsz == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
	printable(err);
}

static const char *node_type(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return "a value";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

static const yaml_node_t *node(struct cfg *c, int i)
{
	return yaml_document_get_node(c->doc, i);
}

/* A scalar as a C string: no embedded NUL (a "\0" escape). */
static int scalar(struct cfg *c, const yaml_node_t *n, const char *what,
                  const char **out, size_t *len)
{
	if (n == NULL || n->type != YAML_SCALAR_NODE)
		return fail(c, n, "%s: expected a value, got %s", what,
		            n ? node_type(n) : "nothing");
	*out = (const char *)n->data.scalar.value;
	*len = n->data.scalar.length;
	if (memchr(*out, '\0', *len) != NULL)
		return fail(c, n, "%s: NUL character in value", what);
	return 0;
}

/* A plain empty scalar, "~" or "null": the YAML null. */
static int is_null(const yaml_node_t *n)
{
	const char *s = (const char *)n->data.scalar.value;

	if (n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	return n->data.scalar.length == 0 || strcmp(s, "~") == 0 ||
	       strcasecmp(s, "null") == 0;
}

/* ---- scalar kinds ------------------------------------------------- */

static int get_str(struct cfg *c, const yaml_node_t *n, const char *what,
                   enum kind kind, char *out, size_t cap)
{
	const char *s;
	size_t len, i;

	if (scalar(c, n, what, &s, &len) < 0)
		return -1;
	if (kind != K_TEXT && (len == 0 || is_null(n)))
		return fail(c, n, "%s: empty value", what);
	if (is_null(n))
		len = 0; /* text: ~ */
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch < 0x20 || ch == 0x7f)
			return fail(c, n, "%s: control character in value",
			            what);
		if (ch == ' ' && kind != K_TEXT && kind != K_SECRET)
			return fail(c, n, "%s: space in '%s'", what, s);
		if (ch == '@' && kind == K_DOMAINS)
			return fail(c, n, "%s: '%s' is not a domain", what, s);
	}
	if (len >= cap)
		return fail(c, n, "%s: value longer than %zu bytes", what,
		            cap - 1);
	memcpy(out, s, len);
	out[len] = '\0';
	return 0;
}

static int get_bool(struct cfg *c, const yaml_node_t *n, const char *what,
                    int *out)
{
	static const char *const yes[] = {"true", "yes", "on"};
	static const char *const no[] = {"false", "no", "off"};
	const char *s;
	size_t len, i;

	if (scalar(c, n, what, &s, &len) < 0)
		return -1;
	for (i = 0; i < NELEM(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return fail(c, n, "%s: expected true or false, got '%s'", what, s);
}

/* Decimal digits, then a unit from units; a plain number is in units of
 * plain. The result is divided by div (exactly) and at most max. */
struct unit {
	const char *name;
	unsigned long mult;
};

static int get_number(struct cfg *c, const yaml_node_t *n, const char *what,
                      const struct unit *units, size_t nunits,
                      unsigned long plain, unsigned long div, unsigned long max,
                      unsigned long *out)
{
	const char *s;
	size_t len, i = 0, u;
	unsigned long v = 0, mult = plain;

	if (scalar(c, n, what, &s, &len) < 0)
		return -1;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (v > (CFG_ULONG_MAX - d) / 10)
			return fail(c, n, "%s: '%s' is too large", what, s);
		v = v * 10 + d;
	}
	if (i == 0)
		return fail(c, n, "%s: expected a number, got '%s'", what, s);
	if (i < len) {
		for (u = 0; u < nunits; u++) {
			if (strcasecmp(s + i, units[u].name) == 0)
				break;
		}
		if (u == nunits)
			return fail(c, n, "%s: bad number or unit '%s'", what,
			            s);
		mult = units[u].mult;
	}
	if (v > CFG_ULONG_MAX / mult)
		return fail(c, n, "%s: '%s' is too large", what, s);
	v *= mult;
	if (v % div != 0)
		return fail(c, n, "%s: '%s' is not a whole number of seconds",
		            what, s);
	v /= div;
	if (v > max)
		return fail(c, n, "%s: '%s' is too large (at most %lu)", what,
		            s, max);
	*out = v;
	return 0;
}

static const struct unit size_units[] = {
        {"K", 1024UL}, {"M", 1024UL * 1024}, {"G", 1024UL * 1024 * 1024}};
static const struct unit time_units[] = {
        {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};

static int get_scalar_kind(struct cfg *c, const yaml_node_t *n,
                           const char *what, enum kind kind, unsigned long max,
                           unsigned long *out)
{
	switch (kind) {
	case K_UINT:
		return get_number(c, n, what, NULL, 0, 1, 1,
		                  max ? max : CFG_UINT_MAX, out);
	case K_SIZE:
		return get_number(c, n, what, size_units, NELEM(size_units), 1,
		                  1, max ? max : CFG_ULONG_MAX, out);
	case K_MS:
		return get_number(c, n, what, time_units, NELEM(time_units), 1,
		                  1, max ? max : CFG_UINT_MAX, out);
	case K_SECS:
		return get_number(c, n, what, time_units, NELEM(time_units),
		                  1000, 1000, max ? max : CFG_UINT_MAX, out);
	default:
		return fail(c, n, "%s: internal error", what);
	}
}

static int get_probability(struct cfg *c, const yaml_node_t *n, double *out)
{
	const char *s;
	char *end;
	size_t len;
	double v;

	if (scalar(c, n, "probability", &s, &len) < 0)
		return -1;
	/* strtod alone would take "nan", "inf", hex and leading blanks */
	if (len == 0 || strspn(s, "0123456789.") != len)
		return fail(c, n, "probability: expected 0..1, got '%s'", s);
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end != s + len || !(v >= 0.0 && v <= 1.0))
		return fail(c, n, "probability: expected 0..1, got '%s'", s);
	*out = v;
	return 0;
}

/* "10.0.0.0/8", "::1/128", or an address alone (a host). Host bits set
 * below the prefix are an error: "10.0.0.1/8" is probably a typo. */
static int get_net(struct cfg *c, const yaml_node_t *n, struct srv_net *net)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *s, *slash;
	size_t len, alen, i;
	unsigned long prefix, maxp;

	if (scalar(c, n, "trusted_networks", &s, &len) < 0)
		return -1;
	slash = memchr(s, '/', len);
	alen = slash ? (size_t)(slash - s) : len;
	if (alen == 0 || alen >= INET6_ADDRSTRLEN)
		return fail(c, n, "trusted_networks: bad network '%s'", s);
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	memset(net, 0, sizeof(*net));
	if (inet_pton(AF_INET, buf, net->addr) == 1) {
		net->family = AF_INET;
		maxp = 32;
	} else if (inet_pton(AF_INET6, buf, net->addr) == 1) {
		net->family = AF_INET6;
		maxp = 128;
	} else {
		return fail(c, n, "trusted_networks: bad address in '%s'", s);
	}
	prefix = maxp;
	if (slash) {
		const char *ps = slash + 1;
		size_t plen = len - alen - 1;

		if (plen == 0 || plen > 3 || strspn(ps, "0123456789") != plen)
			return fail(c, n,
			            "trusted_networks: bad prefix in '%s'", s);
		prefix = strtoul(ps, NULL, 10);
		if (prefix > maxp)
			return fail(
			        c, n,
			        "trusted_networks: prefix of '%s' is longer "
			        "than %lu",
			        s, maxp);
	}
	net->prefix = (unsigned)prefix;
	for (i = 0; i < 16; i++) {
		unsigned bits = i * 8 >= prefix ? 0
		                : prefix - i * 8 >= 8
		                        ? 8
		                        : (unsigned)(prefix - i * 8);
		unsigned char mask = (unsigned char)(0xff00u >> bits);

		if (net->addr[i] & ~mask)
			return fail(c, n,
			            "trusted_networks: '%s' has host bits set "
			            "below the /%lu prefix",
			            s, prefix);
	}
	return 0;
}

static int get_mech(struct cfg *c, const yaml_node_t *n, unsigned *mechs)
{
	const char *s;
	size_t len;
	unsigned bit;

	if (scalar(c, n, "auth.mechanisms", &s, &len) < 0)
		return -1;
	bit = smtprobe_mech_from_name(s, len);
	if (bit == 0)
		return fail(c, n, "auth.mechanisms: unknown mechanism '%s'", s);
	if (!(bit & server_mechs))
		return fail(
		        c, n,
		        "auth.mechanisms: '%s' is not available server-side "
		        "(PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-1, "
		        "SCRAM-SHA-256)",
		        s);
	*mechs |= bit;
	return 0;
}

/* ---- lists -------------------------------------------------------- */

static int sequence(struct cfg *c, const yaml_node_t *n, const char *what,
                    size_t max)
{
	size_t count;

	if (n->type != YAML_SEQUENCE_NODE)
		return fail(c, n, "%s: expected a list, got %s", what,
		            node_type(n));
	count = (size_t)(n->data.sequence.items.top -
	                 n->data.sequence.items.start);
	if (count > max)
		return fail(c, n, "%s: too many items (%zu, at most %zu)", what,
		            count, max);
	return (int)count;
}

static int get_list(struct cfg *c, const yaml_node_t *n, const struct field *f,
                    void *base)
{
	char(*arr)[SRV_MAX_NAME] =
	        (char(*)[SRV_MAX_NAME])((char *)base + f->off);
	size_t *count = (size_t *)(void *)((char *)base + f->off_n);
	int i, nitems = sequence(c, n, f->key, f->max_n);

	if (nitems < 0)
		return -1;
	*count = 0;
	for (i = 0; i < nitems; i++) {
		const yaml_node_t *it =
		        node(c, n->data.sequence.items.start[i]);

		if (get_str(c, it, f->key, f->kind, arr[i], SRV_MAX_NAME) < 0)
			return -1;
		*count = (size_t)i + 1;
	}
	return 0;
}

static int get_nets(struct cfg *c, const yaml_node_t *n)
{
	int i, nitems = sequence(c, n, "trusted_networks", SRV_MAX_NETS);

	if (nitems < 0)
		return -1;
	c->p->ntrusted = 0;
	for (i = 0; i < nitems; i++) {
		if (get_net(c, node(c, n->data.sequence.items.start[i]),
		            &c->p->trusted[i]) < 0)
			return -1;
		c->p->ntrusted = (size_t)i + 1;
	}
	return 0;
}

static int get_mechs(struct cfg *c, const yaml_node_t *n, unsigned *mechs)
{
	int i, nitems = sequence(c, n, "auth.mechanisms", 64);

	if (nitems < 0)
		return -1;
	*mechs = 0;
	for (i = 0; i < nitems; i++) {
		if (get_mech(c, node(c, n->data.sequence.items.start[i]),
		             mechs) < 0)
			return -1;
	}
	return 0;
}

/* ---- mappings ----------------------------------------------------- */

static int parse_map(struct cfg *c, const yaml_node_t *n, const char *what,
                     const struct field *fields, size_t nfields, void *base,
                     const yaml_node_t **seen);
static int parse_users(struct cfg *c, const yaml_node_t *n);
static int parse_faults(struct cfg *c, const yaml_node_t *n);

static int apply(struct cfg *c, const struct field *f, const yaml_node_t *v,
                 void *base)
{
	void *at = (char *)base + f->off;
	unsigned long num;

	switch (f->kind) {
	case K_HOST:
	case K_TEXT:
	case K_SECRET:
		return get_str(c, v, f->key, f->kind, at, f->size);
	case K_BOOL:
		return get_bool(c, v, f->key, at);
	case K_UINT:
	case K_MS:
	case K_SECS:
		if (get_scalar_kind(c, v, f->key, f->kind, f->max, &num) < 0)
			return -1;
		*(unsigned *)at = (unsigned)num;
		return 0;
	case K_SIZE:
		return get_scalar_kind(c, v, f->key, f->kind, f->max, at);
	case K_DOMAINS:
	case K_ADDRS:
		return get_list(c, v, f, base);
	case K_NETS:
		return get_nets(c, v);
	case K_MECHS:
		return get_mechs(c, v, at);
	case K_MAP: {
		const yaml_node_t *seen[MAX_KEYS];

		return parse_map(c, v, f->key, f->sub, f->nsub, base, seen);
	}
	case K_USERS:
		return parse_users(c, v);
	case K_FAULTS:
		return parse_faults(c, v);
	case K_USERS_FILE:
		if (!c->allow_users_file)
			return fail(c, v,
			            "users_file is only allowed in a file "
			            "(not in a preset or text)");
		return get_str(c, v, f->key, K_SECRET, c->users_file,
		               sizeof(c->users_file));
	}
	return fail(c, v, "%s: internal error", f->key);
}

/* Walks a mapping: every key known, none twice; seen[i] = the value node
 * of fields[i] (NULL when absent), for checks across keys. */
static int parse_map(struct cfg *c, const yaml_node_t *n, const char *what,
                     const struct field *fields, size_t nfields, void *base,
                     const yaml_node_t **seen)
{
	yaml_node_pair_t *pair;
	size_t i;

	for (i = 0; i < nfields; i++)
		seen[i] = NULL;
	if (n->type != YAML_MAPPING_NODE)
		return fail(c, n, "%s: expected a mapping, got %s", what,
		            node_type(n));
	for (pair = n->data.mapping.pairs.start;
	     pair < n->data.mapping.pairs.top; pair++) {
		const yaml_node_t *k = node(c, pair->key);
		const yaml_node_t *v = node(c, pair->value);
		const char *key;
		size_t klen;

		if (scalar(c, k, "key", &key, &klen) < 0)
			return -1;
		for (i = 0; i < nfields; i++) {
			if (strcmp(key, fields[i].key) == 0)
				break;
		}
		if (i == nfields)
			return fail(c, k, "unknown key '%.64s%s'", key,
			            klen > 64 ? "..." : "");
		if (seen[i] != NULL)
			return fail(c, k, "duplicate key '%s'", key);
		seen[i] = v;
		if (v == NULL)
			return fail(c, k, "%s: no value", key);
		if (apply(c, &fields[i], v, base) < 0)
			return -1;
	}
	return 0;
}

static int parse_users(struct cfg *c, const yaml_node_t *n)
{
	struct srv_policy *p = c->p;
	int i, nitems = sequence(c, n, "users", SRV_MAX_USERS);

	if (nitems < 0)
		return -1;
	p->nusers = 0;
	for (i = 0; i < nitems; i++) {
		const yaml_node_t *it =
		        node(c, n->data.sequence.items.start[i]);
		const yaml_node_t *seen[NELEM(user_fields)];
		struct srv_user *u = &p->users[i];
		size_t j;

		memset(u, 0, sizeof(*u));
		if (parse_map(c, it, "users", user_fields, NELEM(user_fields),
		              u, seen) < 0)
			return -1;
		if (seen[0] == NULL)
			return fail(c, it, "users: a user without a name");
		if (seen[1] == NULL)
			return fail(c, it, "users: user '%s' has no password",
			            u->name);
		for (j = 0; j < (size_t)i; j++) {
			if (strcmp(p->users[j].name, u->name) == 0)
				return fail(c, seen[0],
				            "users: duplicate user '%s'",
				            u->name);
		}
		p->nusers = (size_t)i + 1;
	}
	return 0;
}

/* command: stored lower-case for connect/dot/any, upper-case for verbs. */
static int get_when(struct cfg *c, const yaml_node_t *n, char *when, size_t cap)
{
	const char *s;
	size_t len, i;

	if (scalar(c, n, "command", &s, &len) < 0)
		return -1;
	for (i = 0; i < NELEM(fault_pseudo); i++) {
		if (strcasecmp(s, fault_pseudo[i]) == 0) {
			snprintf(when, cap, "%s", fault_pseudo[i]);
			return 0;
		}
	}
	for (i = 0; i < NELEM(fault_verbs); i++) {
		if (strcasecmp(s, fault_verbs[i]) == 0) {
			snprintf(when, cap, "%s", fault_verbs[i]);
			return 0;
		}
	}
	return fail(c, n,
	            "command: unknown command '%s' (connect, dot, any or an "
	            "SMTP verb such as MAIL)",
	            s);
}

enum {
	FK_COMMAND,
	FK_ACTION,
	FK_CODE,
	FK_TEXT,
	FK_MS,
	FK_COUNT,
	FK_BYTES,
	FK_PROB,
	FK_LAST
};

static const char *const fault_keys[FK_LAST] = {
        "command", "action", "code",  "text",
        "ms",      "count",  "bytes", "probability"};

static int parse_fault(struct cfg *c, const yaml_node_t *n, struct srv_fault *f)
{
	const yaml_node_t *seen[FK_LAST] = {NULL};
	yaml_node_pair_t *pair;
	const char *s;
	size_t len, i, a;
	unsigned long num;

	if (n->type != YAML_MAPPING_NODE)
		return fail(c, n, "faults: expected a mapping, got %s",
		            node_type(n));
	for (pair = n->data.mapping.pairs.start;
	     pair < n->data.mapping.pairs.top; pair++) {
		const yaml_node_t *k = node(c, pair->key);
		const char *key;
		size_t klen;

		if (scalar(c, k, "key", &key, &klen) < 0)
			return -1;
		for (i = 0; i < FK_LAST; i++) {
			if (strcmp(key, fault_keys[i]) == 0)
				break;
		}
		if (i == FK_LAST)
			return fail(c, k, "unknown key '%.64s%s'", key,
			            klen > 64 ? "..." : "");
		if (seen[i] != NULL)
			return fail(c, k, "duplicate key '%s'", key);
		seen[i] = node(c, pair->value);
		if (seen[i] == NULL)
			return fail(c, k, "%s: no value", key);
	}
	if (seen[FK_COMMAND] == NULL)
		return fail(c, n, "faults: a fault without a command");
	if (seen[FK_ACTION] == NULL)
		return fail(c, n, "faults: a fault without an action");
	memset(f, 0, sizeof(*f));
	f->probability = 1.0;
	if (get_when(c, seen[FK_COMMAND], f->when, sizeof(f->when)) < 0)
		return -1;
	if (scalar(c, seen[FK_ACTION], "action", &s, &len) < 0)
		return -1;
	for (a = 0; a < NELEM(fault_actions); a++) {
		if (strcasecmp(s, fault_actions[a].name) == 0)
			break;
	}
	if (a == NELEM(fault_actions))
		return fail(c, seen[FK_ACTION], "action: unknown action '%s'",
		            s);
	f->kind = fault_actions[a].kind;

	/* each action takes its own parameter and no other one */
	for (i = FK_CODE; i <= FK_BYTES; i++) {
		enum fparam want = fault_actions[a].param;
		int ok = (i == FK_CODE && want == FP_CODE) ||
		         (i == FK_TEXT && want == FP_CODE) ||
		         (i == FK_MS && want == FP_MS) ||
		         (i == FK_COUNT && want == FP_COUNT) ||
		         (i == FK_BYTES && want == FP_BYTES);
		if (seen[i] != NULL && !ok)
			return fail(c, seen[i],
			            "%s: does not apply to action '%s'",
			            fault_keys[i], fault_actions[a].name);
		if (seen[i] == NULL && ok && i != FK_TEXT)
			return fail(c, n, "faults: action '%s' needs '%s'",
			            fault_actions[a].name, fault_keys[i]);
	}
	switch (fault_actions[a].param) {
	case FP_CODE:
		if (get_number(c, seen[FK_CODE], "code", NULL, 0, 1, 1, 599,
		               &num) < 0)
			return -1;
		if (num < 200)
			return fail(c, seen[FK_CODE],
			            "code: expected 200..599, got %lu", num);
		f->code = (unsigned)num;
		if (seen[FK_TEXT] != NULL &&
		    get_str(c, seen[FK_TEXT], "text", K_TEXT, f->text,
		            sizeof(f->text)) < 0)
			return -1;
		break;
	case FP_MS:
		if (get_scalar_kind(c, seen[FK_MS], "ms", K_MS, FAULT_MAX_MS,
		                    &f->n) < 0)
			return -1;
		break;
	case FP_COUNT:
		if (get_number(c, seen[FK_COUNT], "count", NULL, 0, 1, 1,
		               FAULT_MAX_COUNT, &f->n) < 0)
			return -1;
		break;
	case FP_BYTES:
		if (get_scalar_kind(c, seen[FK_BYTES], "bytes", K_SIZE,
		                    FAULT_MAX_BYTES, &f->n) < 0)
			return -1;
		break;
	case FP_NONE:
		break;
	}
	if (seen[FK_PROB] != NULL &&
	    get_probability(c, seen[FK_PROB], &f->probability) < 0)
		return -1;
	return 0;
}

static int parse_faults(struct cfg *c, const yaml_node_t *n)
{
	int i, nitems = sequence(c, n, "faults", SRV_MAX_FAULTS);

	if (nitems < 0)
		return -1;
	c->p->nfaults = 0;
	for (i = 0; i < nitems; i++) {
		if (parse_fault(c, node(c, n->data.sequence.items.start[i]),
		                &c->p->faults[i]) < 0)
			return -1;
		c->p->nfaults = (size_t)i + 1;
	}
	return 0;
}

/* ---- the document ------------------------------------------------- */

static void policy_reset(struct srv_policy *p)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->hostname, sizeof(p->hostname), "mx.example.test");
	snprintf(p->local_domains[0], sizeof(p->local_domains[0]),
	         "example.test");
	p->nlocal = 1;
	p->offer_auth = 1;
	p->mechs = SMTPROBE_MECH_PLAIN | SMTPROBE_MECH_LOGIN |
	           SMTPROBE_MECH_CRAM_MD5 | SMTPROBE_MECH_SCRAM_SHA_256;
	p->max_recipients = 100;
	p->max_size = 10UL * 1024 * 1024;
	p->max_connections = 100;
	p->smtputf8 = 1;
	p->dsn = 1;
	p->chunking = 1;
}

static int yaml_failed(char *err, size_t errsz, const yaml_parser_t *y)
{
	const yaml_mark_t *m = &y->problem_mark;

	if (y->error == YAML_MEMORY_ERROR) {
		set_err(err, errsz, "out of memory parsing YAML");
		return -1;
	}
	if (y->error == YAML_READER_ERROR)
		m = NULL;
	if (y->context != NULL)
		set_err(err, errsz, "line %lu: %s %s",
		        (unsigned long)(m ? m->line + 1
		                          : y->context_mark.line + 1),
		        y->problem ? y->problem : "malformed YAML", y->context);
	else if (m != NULL)
		set_err(err, errsz, "line %lu: %s", (unsigned long)m->line + 1,
		        y->problem ? y->problem : "malformed YAML");
	else
		set_err(err, errsz, "byte %zu: %s", y->problem_offset,
		        y->problem ? y->problem : "malformed YAML");
	return -1;
}

/* What stopped the guard (lib/core/yaml_guard.c), in this file's words. */
static int guard_failed(char *err, size_t errsz, const struct yaml_guard *g)
{
	switch (g->stop) {
	case YAML_GUARD_YAML:
		return yaml_failed(err, errsz, &g->parser);
	case YAML_GUARD_DEPTH:
		set_err(err, errsz, "line %lu: nesting deeper than %u levels",
		        g->line, g->limit);
		break;
	case YAML_GUARD_NODES:
		set_err(err, errsz, "line %lu: more than %u YAML nodes",
		        g->line, g->limit);
		break;
	case YAML_GUARD_ANCHORS:
		set_err(err, errsz, "line %lu: more than %u anchors", g->line,
		        g->limit);
		break;
	case YAML_GUARD_MORE:
		set_err(err, errsz, "line %lu: more than one YAML document",
		        g->line);
		break;
	default:
		set_err(err, errsz, "out of memory");
		break;
	}
	return -1;
}

/* Was key set in the mapping n (NULL: no mapping)? */
static int map_has(struct cfg *c, const yaml_node_t *n, const char *key)
{
	const yaml_node_pair_t *pair;

	if (n == NULL || n->type != YAML_MAPPING_NODE)
		return 0;
	for (pair = n->data.mapping.pairs.start;
	     pair < n->data.mapping.pairs.top; pair++) {
		const yaml_node_t *k = node(c, pair->key);

		if (k != NULL && k->type == YAML_SCALAR_NODE &&
		    strcmp((const char *)k->data.scalar.value, key) == 0)
			return 1;
	}
	return 0;
}

static size_t top_index(const char *key)
{
	size_t i;

	for (i = 0; strcmp(top_fields[i].key, key) != 0; i++)
		;
	return i;
}

/* Defaults that depend on other keys, once the document is read. */
static void derived_defaults(struct cfg *c, const yaml_node_t **seen)
{
	struct srv_policy *p = c->p;

	if (!map_has(c, seen[top_index("limits")], "connections_per_ip")) {
		unsigned maxc = p->max_connections ? p->max_connections : 100;

		p->conn_per_ip = maxc / 2 > 0 ? maxc / 2 : 1;
	}
}

static int parse_doc(struct cfg *c, const char *yaml, size_t len)
{
	static const struct yaml_guard_caps caps = {
	        SRV_MAX_DEPTH, SRV_MAX_NODES, SRV_MAX_ANCHORS};
	const yaml_node_t *seen[NELEM(top_fields)] = {NULL};
	struct yaml_guard g;
	const yaml_node_t *root;
	int rc = -1;

	policy_reset(c->p);
	if (len > SRV_MAX_CONFIG) {
		set_err(c->err, c->errsz,
		        "config too large: %zu bytes (at most %d)", len,
		        SRV_MAX_CONFIG);
		return -1;
	}
	if (yaml_guard_init(&g, yaml, len, &caps) < 0) {
		guard_failed(c->err, c->errsz, &g);
		yaml_guard_release(&g);
		return -1;
	}
	c->doc = &g.doc;
	root = yaml_document_get_root_node(&g.doc);
	if (root == NULL || is_null(root)) {
		rc = 0; /* an empty document: the defaults */
	} else if (root->type != YAML_MAPPING_NODE) {
		fail(c, root, "expected a mapping of keys, got %s",
		     node_type(root));
	} else {
		rc = parse_map(c, root, "top level", top_fields,
		               NELEM(top_fields), c->p, seen);
	}
	/* a second document would be silently ignored: refuse it (empty
	 * ones, as after a trailing "---", are harmless) */
	if (rc == 0 && yaml_guard_rest(&g, is_null) < 0)
		rc = guard_failed(c->err, c->errsz, &g);
	if (rc == 0 && c->p->offer_auth && c->p->mechs == 0) {
		size_t i = top_index("auth");

		rc = fail(c, seen[i] ? seen[i] : root,
		          "auth.offer is true but auth.mechanisms is empty");
	}
	if (rc == 0)
		derived_defaults(c, seen);
	c->doc = NULL;
	yaml_guard_release(&g);
	return rc;
}

int srv_policy_parse(struct srv_policy *p, const char *yaml, size_t len,
                     char *err, size_t errsz)
{
	struct cfg c;

	memset(&c, 0, sizeof(c));
	c.p = p;
	c.err = err;
	c.errsz = errsz;
	if (errsz > 0)
		err[0] = '\0';
	return parse_doc(&c, yaml, len);
}

int srv_policy_preset(struct srv_policy *p, const char *name, char *err,
                      size_t errsz)
{
	size_t i;

	for (i = 0; i < NELEM(presets); i++) {
		if (strcmp(name, presets[i].name) != 0)
			continue;
		if (srv_policy_parse(p, presets[i].yaml, presets[i].len, err,
		                     errsz) < 0)
			return -1;
		snprintf(p->name, sizeof(p->name), "%s", presets[i].name);
		return 0;
	}
	set_err(err, errsz,
	        "unknown preset '%.64s' (open, mx, submission, relay-by-ip)",
	        name);
	return -1;
}

/* ---- files -------------------------------------------------------- */

/* The whole file in a NUL-terminated heap buffer, at most SRV_MAX_CONFIG
 * bytes. */
static char *read_file(const char *path, size_t *len, char *err, size_t errsz)
{
	char ebuf[128];
	struct stat st;
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (f == NULL) {
		set_err(err, errsz, "%s: %s", path,
		        util_strerror(errno, ebuf, sizeof(ebuf)));
		return NULL;
	}
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		set_err(err, errsz, "%s: is a directory", path);
		fclose(f);
		return NULL;
	}
	buf = malloc(SRV_MAX_CONFIG + 2);
	if (buf == NULL) {
		set_err(err, errsz, "%s: out of memory", path);
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, SRV_MAX_CONFIG + 1, f);
	if (ferror(f)) {
		set_err(err, errsz, "%s: read error", path);
		goto bad;
	}
	if (n > SRV_MAX_CONFIG) {
		set_err(err, errsz, "%s: larger than %d bytes", path,
		        SRV_MAX_CONFIG);
		goto bad;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
bad:
	fclose(f);
	free(buf);
	return NULL;
}

/* One "user:password[:addr1,addr2]" line of a users_file. */
static int users_line(struct srv_policy *p, const char *line, size_t len,
                      const char *path, size_t lineno, char *err, size_t errsz)
{
	struct srv_user *u;
	const char *c1, *c2, *end = line + len;
	size_t i;

	for (i = 0; i < len; i++) {
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f) {
			set_err(err, errsz, "%s: line %zu: control character",
			        path, lineno);
			return -1;
		}
	}
	c1 = memchr(line, ':', len);
	if (c1 == NULL || c1 == line || c1 + 1 == end) {
		set_err(err, errsz,
		        "%s: line %zu: expected user:password[:addresses]",
		        path, lineno);
		return -1;
	}
	c2 = memchr(c1 + 1, ':', (size_t)(end - c1 - 1));
	if (c2 == c1 + 1) {
		set_err(err, errsz, "%s: line %zu: empty password", path,
		        lineno);
		return -1;
	}
	if (p->nusers >= SRV_MAX_USERS) {
		set_err(err, errsz, "%s: line %zu: too many users (at most %d)",
		        path, lineno, SRV_MAX_USERS);
		return -1;
	}
	u = &p->users[p->nusers];
	memset(u, 0, sizeof(*u));
	if (memchr(line, ' ', (size_t)(c1 - line)) != NULL ||
	    (size_t)(c1 - line) >= sizeof(u->name) ||
	    (size_t)((c2 ? c2 : end) - c1 - 1) >= sizeof(u->password)) {
		set_err(err, errsz,
		        "%s: line %zu: bad or too long user name "
		        "or password",
		        path, lineno);
		return -1;
	}
	memcpy(u->name, line, (size_t)(c1 - line));
	memcpy(u->password, c1 + 1, (size_t)((c2 ? c2 : end) - c1 - 1));
	for (i = 0; i < p->nusers; i++) {
		if (strcmp(p->users[i].name, u->name) == 0) {
			set_err(err, errsz, "%s: line %zu: duplicate user '%s'",
			        path, lineno, u->name);
			return -1;
		}
	}
	if (c2 != NULL) {
		const char *a = c2 + 1;

		while (a <= end) {
			const char *comma = memchr(a, ',', (size_t)(end - a));
			const char *ae = comma ? comma : end;

			while (a < ae && *a == ' ')
				a++;
			while (ae > a && ae[-1] == ' ')
				ae--;
			if (ae == a || memchr(a, ' ', (size_t)(ae - a)) ||
			    (size_t)(ae - a) >= SRV_MAX_NAME) {
				set_err(err, errsz,
				        "%s: line %zu: bad address list", path,
				        lineno);
				return -1;
			}
			if (u->nowns >= SRV_MAX_ADDRS) {
				set_err(err, errsz,
				        "%s: line %zu: more than %d addresses",
				        path, lineno, SRV_MAX_ADDRS);
				return -1;
			}
			memcpy(u->owns[u->nowns], a, (size_t)(ae - a));
			u->owns[u->nowns][ae - a] = '\0';
			u->nowns++;
			if (comma == NULL)
				break;
			a = comma + 1;
		}
	}
	p->nusers++;
	return 0;
}

static int load_users(struct srv_policy *p, const char *path, char *err,
                      size_t errsz)
{
	size_t len, lineno = 0;
	char *buf = read_file(path, &len, err, errsz);
	const char *s, *end;
	int rc = 0;

	if (buf == NULL)
		return -1;
	if (memchr(buf, '\0', len) != NULL) {
		set_err(err, errsz, "%s: NUL byte in file", path);
		free(buf);
		return -1;
	}
	for (s = buf, end = buf + len; s < end && rc == 0;) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *le = nl ? nl : end;
		const char *ls = s;

		lineno++;
		s = nl ? nl + 1 : end;
		while (ls < le && (*ls == ' ' || *ls == '\t'))
			ls++;
		while (le > ls &&
		       (le[-1] == '\r' || le[-1] == ' ' || le[-1] == '\t'))
			le--;
		if (ls == le || *ls == '#')
			continue;
		rc = users_line(p, ls, (size_t)(le - ls), path, lineno, err,
		                errsz);
	}
	explicit_bzero(buf, len);
	free(buf);
	return rc;
}

int srv_policy_load(struct srv_policy *p, const char *preset_or_path, char *err,
                    size_t errsz)
{
	struct cfg c;
	char msg[512], upath[CFG_MAX_PATH];
	const char *slash;
	size_t i, len;
	char *buf;
	int rc, n;

	for (i = 0; srv_preset_names[i] != NULL; i++) {
		if (strcmp(preset_or_path, srv_preset_names[i]) == 0)
			return srv_policy_preset(p, preset_or_path, err, errsz);
	}
	memset(p, 0, sizeof(*p));
	if (strlen(preset_or_path) >= sizeof(p->name)) {
		set_err(err, errsz, "config path longer than %zu bytes",
		        sizeof(p->name) - 1);
		return -1;
	}
	buf = read_file(preset_or_path, &len, err, errsz);
	if (buf == NULL)
		return -1;
	memset(&c, 0, sizeof(c));
	c.p = p;
	c.err = msg;
	c.errsz = sizeof(msg);
	c.allow_users_file = 1;
	msg[0] = '\0';
	rc = parse_doc(&c, buf, len);
	explicit_bzero(buf, len); /* passwords */
	free(buf);
	if (rc < 0) {
		set_err(err, errsz, "%s: %s", preset_or_path, msg);
		return -1;
	}
	snprintf(p->name, sizeof(p->name), "%s", preset_or_path);
	if (c.users_file[0] == '\0')
		return 0;

	/* relative to the directory of the YAML file */
	slash = strrchr(preset_or_path, '/');
	if (c.users_file[0] == '/' || slash == NULL)
		n = snprintf(upath, sizeof(upath), "%s", c.users_file);
	else
		n = snprintf(upath, sizeof(upath), "%.*s/%s",
		             (int)(slash - preset_or_path), preset_or_path,
		             c.users_file);
	if (n < 0 || (size_t)n >= sizeof(upath)) {
		set_err(err, errsz, "%s: users_file path too long",
		        preset_or_path);
		return -1;
	}
	return load_users(p, upath, err, errsz);
}
