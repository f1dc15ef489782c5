/* policy.c - the files of `smtprobe run` (a policy: environments of
 * targets with expectations) and of `smtprobe exporter` (modules), walked
 * along the schema tables below (docs/smtprobe-run-policy.md) over the
 * document and with the value readers of policy_yaml.c; the result's
 * lookups and release.
 *
 * Diagnostics: a parse returns -1 with "PATH:LINE: key.path: what is
 * wrong" in err (policy_yaml.c), key.path relative to the target or
 * module ("expect.tls.min_version"), or to the file above them
 * ("environments.staging.targets[1]"). Besides what the readers refuse,
 * an unknown or repeated key, a key of the other kind of file, a missing
 * required key, an empty mapping, a duplicate name, credentials that are
 * missing or given twice, and any key that would hold a secret (password,
 * passwd, pass, secret) are errors. Values of password_env and
 * password_file are never quoted in a message: they may be a secret typed
 * in the wrong place. On error the result is freed and zeroed, so it is
 * always safe to free; a file's bytes are wiped once parsed.
 *
 * Limits: the caps of policy_int.h. The walk follows the schema's fixed
 * depth, so a cyclic document (aliases are shared nodes) cannot make it
 * loop, and what aliases can multiply is bounded by the caps on
 * environments and targets (64 x 256 targets). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy_int.h"

#include "banned.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define MAX_KEYS 16 /* keys in one of our mappings */

/* ---- the schema --------------------------------------------------- */

#define W_POL 1u /* the key belongs in a policy */
#define W_MOD 2u /* ... in a modules file */
#define W_ALL (W_POL | W_MOD)
#define F_REQ 4u /* required */
#define F_SET 8u /* set the int at .set to 1 when given */

struct field {
	const char *key;
	enum pol_vk kind;
	unsigned flags;
	size_t off; /* in the object the mapping fills */
	size_t set; /* F_SET */
	long min, max;
	const struct pol_enum_tab *e;
	const struct field *sub;
	size_t nsub;
	enum pol_note note;
};

static const char *const tls_names[] = {"starttls", "implicit", "none",
                                        "optional"};
static const int tls_values[] = {
        SMTPROBE_POL_TLS_STARTTLS, SMTPROBE_POL_TLS_IMPLICIT,
        SMTPROBE_POL_TLS_NONE, SMTPROBE_POL_TLS_OPTIONAL};
static const struct pol_enum_tab tls_tab = {tls_names, tls_values, 4};

static const char *const kind_names[] = {"check", "relay", "tls"};
static const int kind_values[] = {SMTPROBE_POL_CHECK, SMTPROBE_POL_RELAY,
                                  SMTPROBE_POL_TLS};
static const struct pol_enum_tab kind_tab = {kind_names, kind_values, 3};

static const char *const proto_names[] = {"TLSv1", "TLSv1.1", "TLSv1.2",
                                          "TLSv1.3"};
static const int proto_values[] = {SMTPROBE_TP_TLS10, SMTPROBE_TP_TLS11,
                                   SMTPROBE_TP_TLS12, SMTPROBE_TP_TLS13};
static const struct pol_enum_tab proto_tab = {proto_names, proto_values, 4};

static const char *const va_names[] = {"closed", "open"};
static const int va_values[] = {SMTPROBE_V_CLOSED, SMTPROBE_V_OPEN};
static const struct pol_enum_tab va_tab = {va_names, va_values, 2};

static const char *const vbc_names[] = {"holds", "violated"};
static const int vbc_values[] = {SMTPROBE_V_HOLDS, SMTPROBE_V_VIOLATED};
static const struct pol_enum_tab vbc_tab = {vbc_names, vbc_values, 2};

_Static_assert(sizeof(enum smtprobe_pol_tls) == sizeof(int) &&
                       sizeof(enum smtprobe_pol_kind) == sizeof(int) &&
                       sizeof(enum smtprobe_relay_verdict) == sizeof(int),
               "enums are stored through int pointers");

#define T     struct smtprobe_pol_target
#define AT(m) offsetof(T, m)
#define STR(k, vk, m, fl, nt)                                                  \
	{                                                                      \
		.key = k, .kind = vk, .flags = fl, .off = AT(m), .note = nt    \
	}
#define NUM(k, vk, m, lo, hi)                                                  \
	{                                                                      \
		.key = k, .kind = vk, .flags = W_ALL, .off = AT(m), .min = lo, \
		.max = hi                                                      \
	}
#define ENUM(k, m, tab, fl, s, nt)                                             \
	{                                                                      \
		.key = k, .kind = VK_ENUM, .flags = fl, .off = AT(m),          \
		.set = s, .e = &tab, .note = nt                                \
	}
#define MAP(k, tab, fl, nt)                                                    \
	{                                                                      \
		.key = k, .kind = VK_MAP, .flags = fl, .sub = tab,             \
		.nsub = NELEM(tab), .note = nt                                 \
	}

static const struct field auth_fields[] = {
        STR("user", VK_USER, auth_user, W_ALL | F_REQ, N_NONE),
        STR("password_env", VK_ENVVAR, password_env, W_ALL, N_NONE),
        STR("password_file", VK_PATH, password_file, W_ALL, N_PW_FILE),
};

static const struct field relay_fields[] = {
        ENUM("A", expect.relay[0], va_tab, W_POL | F_SET,
             AT(expect.relay_set[0]), N_NONE),
        ENUM("B", expect.relay[1], vbc_tab, W_POL | F_SET,
             AT(expect.relay_set[1]), N_RELAY_B),
        ENUM("C", expect.relay[2], vbc_tab, W_POL | F_SET,
             AT(expect.relay_set[2]), N_RELAY_C),
};

static const struct field etls_fields[] = {
        NUM("required", VK_BOOL, expect.tls_required, 0, 1),
        ENUM("min_version", expect.tls_min_version, proto_tab, W_POL, 0,
             N_NONE),
        NUM("verify", VK_BOOL, expect.tls_verify, 0, 1),
        NUM("cert_days_left_min", VK_LONG, expect.tls_cert_days_left_min, 0,
            36500),
};

static const struct field eauth_fields[] = {
        NUM("offered_in_clear", VK_BOOL, expect.auth_offered_in_clear, 0, 1),
        STR("mechanisms_include", VK_MECHS, expect.mechs_include, W_POL,
            N_NONE),
        STR("succeeds", VK_BOOL, expect.auth_succeeds, W_POL, N_SUCCEEDS),
};

static const struct field expect_fields[] = {
        MAP("relay", relay_fields, W_POL, N_NONE),
        MAP("tls", etls_fields, W_POL, N_NONE),
        MAP("auth", eauth_fields, W_POL, N_NONE),
        STR("banner", VK_REGEX, expect.banner, W_POL, N_NONE),
        NUM("max_ms", VK_LONG, expect.max_ms, 1, 3600000),
};

static const struct field target_fields[] = {
        STR("name", VK_NAME, name, W_POL | F_REQ, N_NAME),
        STR("host", VK_HOST, host, W_POL | F_REQ, N_NONE),
        ENUM("kind", kind, kind_tab, W_MOD | F_REQ, 0, N_NONE),
        NUM("port", VK_UINT, port, 1, 65535),
        ENUM("tls", tls, tls_tab, W_ALL | F_SET, AT(tls_set), N_NONE),
        STR("tls_ca_path", VK_PATH, tls_ca_path, W_ALL, N_NONE),
        STR("local_domain", VK_DOMAIN, local_domain, W_ALL, N_NONE),
        MAP("auth", auth_fields, W_ALL, N_AUTH),
        STR("other_sender", VK_ADDR, other_sender, W_ALL, N_NONE),
        STR("helo", VK_DOMAIN, helo, W_ALL, N_NONE),
        STR("external_domain", VK_DOMAIN, external_domain, W_ALL, N_NONE),
        NUM("timeout", VK_UINT, timeout_s, 1, 600),
        MAP("expect", expect_fields, W_POL, N_EXPECT),
};
#undef T

static const struct field env_fields[] = {
        {.key = "targets", .kind = VK_TARGETS, .flags = W_POL | F_REQ},
};

static const struct field root_fields[] = {
        {.key = "environments", .kind = VK_ENVS, .flags = W_POL | F_REQ},
        {.key = "modules", .kind = VK_MODS, .flags = W_MOD | F_REQ},
};

_Static_assert(NELEM(target_fields) <= MAX_KEYS, "a mapping over MAX_KEYS");

/* Keys that would put a secret in the file. */
static const char *const secret_keys[] = {"password", "passwd", "pass",
                                          "secret"};

/* SASL mechanism names (RFC 4422: 1-20 of A-Z 0-9 - _), upper-cased. */
static int get_mechs(struct pol_ctx *c, const yaml_node_t *n, const char *kp,
                     struct smtprobe_pol_expect *e)
{
	size_t count, i, j;

	if (pol_items(c, n, kp, SMTPROBE_POL_MAX_MECHS, &count) < 0)
		return -1;
	for (i = 0; i < count; i++) {
		const yaml_node_t *it =
		        pol_node(c, n->data.sequence.items.start[i]);
		const char *s;
		size_t len;
		char *m;

		if (pol_scalar(c, it, kp, &s, &len) < 0)
			return -1;
		if (len == 0 || len > POL_MAX_MECH || !pol_only(s, len, "-_"))
			return pol_fail(c, it, kp,
			                QFMT
			                " is not a SASL mechanism name (1 to "
			                "20 letters, digits, '-' and '_')",
			                QARG(s));
		m = strdup(s);
		if (m == NULL)
			return pol_fail(c, it, NULL, "out of memory");
		for (j = 0; j < len; j++) {
			if (m[j] >= 'a' && m[j] <= 'z')
				m[j] = (char)(m[j] - 'a' + 'A');
		}
		e->mechs_include[e->nmechs++] = m;
		for (j = 0; j + 1 < e->nmechs; j++) {
			if (strcmp(e->mechs_include[j], m) == 0)
				return pol_fail(c, it, kp, "%s is listed twice",
				                m);
		}
	}
	return 0;
}

/* ---- mappings ----------------------------------------------------- */

static int walk_map(struct pol_ctx *c, const yaml_node_t *n, const char *what,
                    const char *at, const struct field *fs, size_t nf,
                    void *base);
static int get_envs(struct pol_ctx *c, const yaml_node_t *n);
static int get_modules(struct pol_ctx *c, const yaml_node_t *n);
static int get_targets(struct pol_ctx *c, const yaml_node_t *n, const char *kp,
                       struct smtprobe_pol_env *e);

static int apply(struct pol_ctx *c, const struct field *f, const yaml_node_t *v,
                 const char *kp, void *base)
{
	void *at = (char *)base + f->off;
	long num = 0;

	switch (f->kind) {
	case VK_NAME:
	case VK_HOST:
	case VK_DOMAIN:
	case VK_ADDR:
	case VK_USER:
	case VK_ENVVAR:
	case VK_PATH:
	case VK_REGEX:
		return pol_text(c, v, kp, f->kind, at);
	case VK_UINT:
	case VK_LONG:
		if (pol_num(c, v, kp, f->min, f->max, &num) < 0)
			return -1;
		if (f->kind == VK_UINT)
			*(unsigned *)at = (unsigned)num;
		else
			*(long *)at = num;
		return 0;
	case VK_BOOL:
		return pol_bool(c, v, kp, at);
	case VK_ENUM:
		if (pol_enum(c, v, kp, f->e, at) < 0)
			return -1;
		if (f->flags & F_SET)
			*(int *)(void *)((char *)base + f->set) = 1;
		return 0;
	case VK_MECHS:
		return get_mechs(c, v, kp,
		                 &((struct smtprobe_pol_target *)base)->expect);
	case VK_MAP:
		return walk_map(c, v, kp, kp, f->sub, f->nsub, base);
	case VK_ENVS:
		return get_envs(c, v);
	case VK_MODS:
		return get_modules(c, v);
	case VK_TARGETS:
		return get_targets(c, v, kp, base);
	}
	return pol_fail(c, v, kp, "internal error");
}

static int is_secret_key(const char *key)
{
	size_t i;

	for (i = 0; i < NELEM(secret_keys); i++) {
		if (strcasecmp(key, secret_keys[i]) == 0)
			return 1;
	}
	return 0;
}

static int unknown_key(struct pol_ctx *c, const yaml_node_t *k,
                       const char *what, const char *kp, const char *key,
                       const struct field *fs, size_t nf)
{
	char list[256];
	size_t i, used = 0;

	if (is_secret_key(key))
		return pol_fail(
		        c, k, kp,
		        "inline secrets are refused; use password_env (an "
		        "environment variable) or password_file");
	if (strcmp(key, "<<") == 0)
		return pol_fail(
		        c, k, what,
		        "merge keys (<<) are not supported; alias a whole "
		        "value instead");
	list[0] = '\0';
	for (i = 0; i < nf && used < sizeof(list); i++) {
		int n;

		if (!(fs[i].flags & c->mode))
			continue;
		n = snprintf(list + used, sizeof(list) - used, "%s%s",
		             used ? ", " : "", fs[i].key);
		used += n > 0 ? (size_t)n : 0;
	}
	return pol_fail(c, k, kp, "unknown key (expected %s)", list);
}

/* Walks a mapping filling base: every key known and in this kind of
 * file, none twice, the required ones there. what names the mapping in
 * errors, at prefixes its keys. */
static int walk_map(struct pol_ctx *c, const yaml_node_t *n, const char *what,
                    const char *at, const struct field *fs, size_t nf,
                    void *base)
{
	const yaml_node_t *seen[MAX_KEYS] = {NULL};
	const yaml_node_t *keys[MAX_KEYS] = {NULL};
	char kp[POL_MAX_KEYPATH];
	yaml_node_pair_t *pair;
	size_t i;

	if (n->type != YAML_MAPPING_NODE)
		return pol_fail(c, n, what, "expected a mapping, got %s",
		                pol_node_type(n));
	for (pair = n->data.mapping.pairs.start;
	     pair < n->data.mapping.pairs.top; pair++) {
		const yaml_node_t *k = pol_node(c, pair->key);
		const yaml_node_t *v = pol_node(c, pair->value);
		const char *key;
		size_t klen;

		if (k->type != YAML_SCALAR_NODE)
			return pol_fail(c, k, what,
			                "a key must be a value, got %s",
			                pol_node_type(k));
		if (pol_scalar(c, k, what, &key, &klen) < 0)
			return -1;
		pol_keypath(kp, at, key);
		for (i = 0; i < nf; i++) {
			if (strcmp(key, fs[i].key) == 0)
				break;
		}
		if (i == nf)
			return unknown_key(c, k, what, kp, key, fs, nf);
		if (!(fs[i].flags & c->mode))
			return pol_fail(
			        c, k, kp,
			        c->mode == W_POL
			                ? "belongs in a modules file, not "
			                  "in a policy"
			                : "belongs in a policy, not in a "
			                  "modules file");
		if (seen[i] != NULL)
			return pol_fail(c, k, kp,
			                "duplicate key (first at line %lu)",
			                pol_line(keys[i]));
		seen[i] = v;
		keys[i] = k;
		if (fs[i].note != N_NONE)
			c->note[fs[i].note] = v;
		if (apply(c, &fs[i], v, kp, base) < 0)
			return -1;
	}
	for (i = 0; i < nf; i++) {
		if ((fs[i].flags & c->mode) && (fs[i].flags & F_REQ) &&
		    seen[i] == NULL) {
			pol_keypath(kp, at, fs[i].key);
			return pol_fail(c, n, kp, "required key missing");
		}
	}
	if (n->data.mapping.pairs.top == n->data.mapping.pairs.start)
		return pol_fail(c, n, what,
		                "empty mapping (leave the key out)");
	return 0;
}

static void target_init(struct smtprobe_pol_target *t)
{
	struct smtprobe_pol_expect *e = &t->expect;

	memset(t, 0, sizeof(*t));
	t->kind = SMTPROBE_POL_CHECK;
	e->tls_required = e->tls_min_version = e->tls_verify = -1;
	e->auth_offered_in_clear = e->auth_succeeds = -1;
	e->tls_cert_days_left_min = e->max_ms = -1;
}

/* What a target or module needs across its keys, and its defaults. */
static int target_finish(struct pol_ctx *c, struct smtprobe_pol_target *t)
{
	static const char need_auth[] =
	        "needs auth credentials (auth: user and password_env or "
	        "password_file)";

	if (c->note[N_AUTH] != NULL) {
		if (t->password_env != NULL && t->password_file != NULL)
			return pol_fail(
			        c, c->note[N_PW_FILE], "auth",
			        "give password_env or password_file, not "
			        "both");
		if (t->password_env == NULL && t->password_file == NULL)
			return pol_fail(
			        c, c->note[N_AUTH], "auth",
			        "password_env or password_file is "
			        "required (secrets are never written in "
			        "the file)");
	}
	if (t->auth_user == NULL) {
		if (c->note[N_SUCCEEDS] != NULL)
			return pol_fail(c, c->note[N_SUCCEEDS],
			                "expect.auth.succeeds", "%s",
			                need_auth);
		if (c->note[N_RELAY_B] != NULL)
			return pol_fail(c, c->note[N_RELAY_B], "expect.relay.B",
			                "scenario B %s", need_auth);
		if (c->note[N_RELAY_C] != NULL)
			return pol_fail(c, c->note[N_RELAY_C], "expect.relay.C",
			                "scenario C %s", need_auth);
	}
	if (c->note[N_AUTH] != NULL && t->tls_set &&
	    t->tls == SMTPROBE_POL_TLS_NONE)
		return pol_fail(c, c->note[N_AUTH], "auth",
		                "tls: none would send the password in clear; "
		                "use tls: starttls or implicit");
	if (!t->tls_set)
		t->tls = t->port == 465 ? SMTPROBE_POL_TLS_IMPLICIT
		                        : SMTPROBE_POL_TLS_STARTTLS;
	t->expect.any = c->note[N_EXPECT] != NULL;
	return 0;
}

static int get_targets(struct pol_ctx *c, const yaml_node_t *n, const char *kp,
                       struct smtprobe_pol_env *e)
{
	char ip[POL_MAX_KEYPATH + 24];
	size_t count, i, j;

	if (pol_items(c, n, kp, POL_MAX_TARGETS, &count) < 0)
		return -1;
	e->targets = calloc(count, sizeof(*e->targets));
	if (e->targets == NULL)
		return pol_fail(c, n, NULL, "out of memory");
	for (i = 0; i < count; i++) {
		const yaml_node_t *it =
		        pol_node(c, n->data.sequence.items.start[i]);
		struct smtprobe_pol_target *t = &e->targets[i];

		snprintf(ip, sizeof(ip), "%s[%zu]", kp, i);
		target_init(t);
		e->ntargets = i + 1;
		t->line = (int)pol_line(it);
		memset(c->note, 0, sizeof(c->note));
		if (walk_map(c, it, ip, "", target_fields, NELEM(target_fields),
		             t) < 0)
			return -1;
		for (j = 0; j < i; j++) {
			if (strcmp(e->targets[j].name, t->name) == 0)
				return pol_fail(
				        c, c->note[N_NAME], "name",
				        "duplicate target '%s' in "
				        "environment '%s' (first at line %d)",
				        t->name, c->env, e->targets[j].line);
		}
		if (target_finish(c, t) < 0)
			return -1;
	}
	return 0;
}

static int get_envs(struct pol_ctx *c, const yaml_node_t *n)
{
	struct smtprobe_policy *p = c->p;
	char kp[POL_MAX_KEYPATH];
	size_t count, i, j;

	if (pol_named(c, n, "environments", POL_MAX_ENVS, &count) < 0)
		return -1;
	p->envs = calloc(count, sizeof(*p->envs));
	if (p->envs == NULL)
		return pol_fail(c, n, NULL, "out of memory");
	for (i = 0; i < count; i++) {
		const yaml_node_pair_t *pair = &n->data.mapping.pairs.start[i];
		const yaml_node_t *k = pol_node(c, pair->key);
		struct smtprobe_pol_env *e = &p->envs[i];

		p->nenvs = i + 1;
		if (pol_text(c, k, "environments", VK_NAME, &e->name) < 0)
			return -1;
		e->line = (int)pol_line(k);
		snprintf(kp, sizeof(kp), "environments.%s", e->name);
		for (j = 0; j < i; j++) {
			if (strcmp(p->envs[j].name, e->name) == 0)
				return pol_fail(
				        c, k, kp,
				        "duplicate environment (first at "
				        "line %d)",
				        p->envs[j].line);
		}
		c->env = e->name;
		if (walk_map(c, pol_node(c, pair->value), kp, kp, env_fields,
		             NELEM(env_fields), e) < 0)
			return -1;
	}
	return 0;
}

static int get_modules(struct pol_ctx *c, const yaml_node_t *n)
{
	struct smtprobe_policy *p = c->p;
	char kp[POL_MAX_KEYPATH];
	size_t count, i, j;

	if (pol_named(c, n, "modules", POL_MAX_MODULES, &count) < 0)
		return -1;
	p->modules = calloc(count, sizeof(*p->modules));
	if (p->modules == NULL)
		return pol_fail(c, n, NULL, "out of memory");
	for (i = 0; i < count; i++) {
		const yaml_node_pair_t *pair = &n->data.mapping.pairs.start[i];
		const yaml_node_t *k = pol_node(c, pair->key);
		struct smtprobe_pol_target *t = &p->modules[i];

		target_init(t);
		p->nmodules = i + 1;
		if (pol_text(c, k, "modules", VK_NAME, &t->name) < 0)
			return -1;
		t->line = (int)pol_line(k);
		snprintf(kp, sizeof(kp), "modules.%s", t->name);
		for (j = 0; j < i; j++) {
			if (strcmp(p->modules[j].name, t->name) == 0)
				return pol_fail(
				        c, k, kp,
				        "duplicate module (first at line %d)",
				        p->modules[j].line);
		}
		memset(c->note, 0, sizeof(c->note));
		if (walk_map(c, pol_node(c, pair->value), kp, "", target_fields,
		             NELEM(target_fields), t) < 0 ||
		    target_finish(c, t) < 0)
			return -1;
	}
	return 0;
}

/* ---- the document and files ------------------------------------- */

/* The root of the document: the one mapping this kind of file has. */
static int walk_root(struct pol_ctx *c, const yaml_node_t *root)
{
	const char *top = c->mode == W_POL ? "environments" : "modules";

	if (root == NULL || pol_is_null(root))
		return pol_fail(c, root, top,
		                "required key missing (the file is empty)");
	if (root->type != YAML_MAPPING_NODE)
		return pol_fail(c, root, NULL,
		                "expected a mapping with the key %s, got %s",
		                top, pol_node_type(root));
	return walk_map(c, root, "top level", "", root_fields,
	                NELEM(root_fields), c->p);
}

static int parse(const char *text, size_t len, const char *path, unsigned mode,
                 struct smtprobe_policy *out, char *err, size_t errsz)
{
	struct pol_ctx c;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	c.p = out;
	c.file = path ? path : "-";
	c.anchor = path;
	c.mode = mode;
	c.err = err;
	c.errsz = errsz;
	if (errsz > 0)
		err[0] = '\0';
	if (path != NULL && (out->path = strdup(path)) == NULL) {
		pol_set_err(err, errsz, "%s: out of memory", c.file);
		return -1;
	}
	if (pol_doc(&c, text ? text : "", text ? len : 0, walk_root) < 0) {
		smtprobe_policy_free(out);
		return -1;
	}
	return 0;
}

int smtprobe_policy_parse(const char *text, size_t len, const char *path,
                          struct smtprobe_policy *out, char *err, size_t errsz)
{
	return parse(text, len, path, W_POL, out, err, errsz);
}

int smtprobe_modules_parse(const char *text, size_t len, const char *path,
                           struct smtprobe_policy *out, char *err, size_t errsz)
{
	return parse(text, len, path, W_MOD, out, err, errsz);
}

static int load(const char *path, unsigned mode, struct smtprobe_policy *out,
                char *err, size_t errsz)
{
	size_t len;
	char *buf;
	int rc;

	memset(out, 0, sizeof(*out));
	buf = pol_read_file(path, &len, err, errsz);
	if (buf == NULL)
		return -1;
	rc = parse(buf, len, path, mode, out, err, errsz);
	/* an inline secret, refused, may still be in there */
	explicit_bzero(buf, len);
	free(buf);
	return rc;
}

int smtprobe_policy_load(const char *path, struct smtprobe_policy *out,
                         char *err, size_t errsz)
{
	return load(path, W_POL, out, err, errsz);
}

int smtprobe_modules_load(const char *path, struct smtprobe_policy *out,
                          char *err, size_t errsz)
{
	return load(path, W_MOD, out, err, errsz);
}

/* ---- the result --------------------------------------------------- */

static void target_release(struct smtprobe_pol_target *t)
{
	size_t i;

	free(t->name);
	free(t->host);
	free(t->tls_ca_path);
	free(t->local_domain);
	free(t->helo);
	free(t->auth_user);
	free(t->password_env);
	free(t->password_file);
	free(t->other_sender);
	free(t->external_domain);
	for (i = 0; i < t->expect.nmechs; i++)
		free(t->expect.mechs_include[i]);
	free(t->expect.banner);
}

void smtprobe_policy_free(struct smtprobe_policy *p)
{
	size_t i, j;

	if (p == NULL)
		return;
	for (i = 0; i < p->nenvs; i++) {
		for (j = 0; j < p->envs[i].ntargets; j++)
			target_release(&p->envs[i].targets[j]);
		free(p->envs[i].targets);
		free(p->envs[i].name);
	}
	free(p->envs);
	for (i = 0; i < p->nmodules; i++)
		target_release(&p->modules[i]);
	free(p->modules);
	free(p->path);
	memset(p, 0, sizeof(*p));
}

const struct smtprobe_pol_env *
smtprobe_policy_env(const struct smtprobe_policy *p, const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < p->nenvs; i++) {
		if (strcmp(p->envs[i].name, name) == 0)
			return &p->envs[i];
	}
	return NULL;
}

const struct smtprobe_pol_target *
smtprobe_policy_module(const struct smtprobe_policy *p, const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < p->nmodules; i++) {
		if (strcmp(p->modules[i].name, name) == 0)
			return &p->modules[i];
	}
	return NULL;
}

const char *smtprobe_pol_tls_name(enum smtprobe_pol_tls t)
{
	return (unsigned)t < NELEM(tls_names) ? tls_names[t] : "?";
}

const char *smtprobe_pol_kind_name(enum smtprobe_pol_kind k)
{
	return (unsigned)k < NELEM(kind_names) ? kind_names[k] : "?";
}
