/* policy_int.h - what the files of the policy parser share: the caps, the
 * parse context, and the generic readers of policy_yaml.c (errors with
 * file:line, strict values, the guarded YAML loading, file reading) and
 * policy_regex.c that the schema walk of policy.c and the secrets of
 * policy_secret.c are built on. Internal to lib/assure. */
#ifndef SMTPROBE_POLICY_INT_H
#define SMTPROBE_POLICY_INT_H

#include <stddef.h>
#include <sys/types.h>
#include <yaml.h>

#include "smtprobe/policy.h"

#define POL_MAX_TEXT       (1024 * 1024) /* bytes of YAML */
#define POL_MAX_DEPTH      16            /* nested mappings and lists */
#define POL_MAX_NODES      65536         /* values, mappings, lists, aliases */
#define POL_MAX_ANCHORS    256
#define POL_MAX_ENVS       64
#define POL_MAX_TARGETS    256 /* per environment */
#define POL_MAX_MODULES    256
#define POL_MAX_NAME       64   /* environment, target, module names */
#define POL_MAX_HOST       255  /* hosts, domains, addresses, users */
#define POL_MAX_ENVVAR     128  /* password_env */
#define POL_MAX_PATH       4096 /* after joining with the directory */
#define POL_MAX_REGEX      1024
#define POL_MAX_REGEX_COST 2000 /* estimated compiled size */
#define POL_MAX_MECH       20   /* RFC 4422 */
#define POL_MAX_KEYPATH    256
#define POL_MAX_MSG        512

/* What a schema key holds: the text kinds are read by pol_text, the
 * others by policy.c. */
enum pol_vk {
	VK_NAME,   /* letters, digits, '.', '_', '-' */
	VK_HOST,   /* no space */
	VK_DOMAIN, /* no space, no '@' */
	VK_ADDR,   /* local@domain */
	VK_USER,   /* printable */
	VK_ENVVAR, /* an environment variable's name (never quoted) */
	VK_PATH,   /* made absolute (never quoted) */
	VK_REGEX,  /* POSIX extended, compiled once here */
	VK_UINT,   /* unsigned, min..max */
	VK_LONG,   /* long, min..max */
	VK_BOOL,   /* int: true or false */
	VK_ENUM,   /* int, one of a names table */
	VK_MECHS,  /* the mechanisms list */
	VK_MAP,    /* a nested mapping filling the same object */
	VK_ENVS,   /* the environments mapping */
	VK_MODS,   /* the modules mapping */
	VK_TARGETS /* an environment's targets list */
};

/* value nodes remembered for checks across keys */
enum pol_note {
	N_NONE,
	N_NAME,
	N_AUTH,
	N_PW_FILE,
	N_EXPECT,
	N_RELAY_B,
	N_RELAY_C,
	N_SUCCEEDS,
	N_LAST
};

struct pol_enum_tab {
	const char *const *names;
	const int *values;
	size_t n;
};

struct pol_ctx {
	yaml_document_t *doc; /* the one being read */
	struct smtprobe_policy *p;
	const char *file;   /* in messages */
	const char *anchor; /* its directory anchors relative paths; NULL:
	                       the working directory */
	unsigned mode;      /* W_POL or W_MOD (policy.c) */
	const char *env;    /* the environment being read */
	const yaml_node_t *note[N_LAST];
	char *err;
	size_t errsz;
};

/* Quoting a value: at most 64 bytes of it. */
#define QFMT    "'%.64s%s'"
#define QARG(s) (s), (strlen(s) > 64 ? "..." : "")

/* ---- errors ---------------------------------------------------------- */

/* err from fmt, C0 and C1 controls made '?'. */
void pol_set_err(char *err, size_t errsz, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* "WHATPATH: strerror(errno)" */
void pol_sys_err(char *err, size_t errsz, const char *what, const char *path);
/* "FILE:LINE: KP: message" in c->err (LINE of n, 1 without a node);
 * always -1. */
int pol_fail(struct pol_ctx *c, const yaml_node_t *n, const char *kp,
             const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The 1-based line of n, 1 for NULL. */
unsigned long pol_line(const yaml_node_t *n);
/* "at.key" (the key shortened) in out, POL_MAX_KEYPATH bytes. */
void pol_keypath(char *out, const char *at, const char *key);

/* ---- nodes and values ------------------------------------------------ */

const yaml_node_t *pol_node(const struct pol_ctx *c, int i);
/* A plain empty scalar, "~" or "null": the YAML null. */
int pol_is_null(const yaml_node_t *n);
/* "a value", "a list"...: what n is, for messages. */
const char *pol_node_type(const yaml_node_t *n);
/* Whether s is only ASCII letters, digits and bytes of extra. */
int pol_only(const char *s, size_t len, const char *extra);

/* The readers: 0 with the value, or -1 with the error in c->err. */
/* A scalar as a C string (no embedded NUL). */
int pol_scalar(struct pol_ctx *c, const yaml_node_t *n, const char *kp,
               const char **s, size_t *len);
/* A non-empty text of kind (VK_NAME ... VK_REGEX), checked and capped,
 * paths made absolute; *out is allocated. */
int pol_text(struct pol_ctx *c, const yaml_node_t *n, const char *kp,
             enum pol_vk kind, char **out);
/* A plain decimal number from min to max. */
int pol_num(struct pol_ctx *c, const yaml_node_t *n, const char *kp, long min,
            long max, long *out);
/* true or false. */
int pol_bool(struct pol_ctx *c, const yaml_node_t *n, const char *kp, int *out);
/* One of e's names, any case, as its value. */
int pol_enum(struct pol_ctx *c, const yaml_node_t *n, const char *kp,
             const struct pol_enum_tab *e, int *out);
/* A list of 1..max items. */
int pol_items(struct pol_ctx *c, const yaml_node_t *n, const char *kp,
              size_t max, size_t *count);
/* A mapping of names (environments, modules): 1..max pairs. */
int pol_named(struct pol_ctx *c, const yaml_node_t *n, const char *kp,
              size_t max, size_t *count);

/* A banner regex that is cheap to compile and match and that regcomp
 * accepts (policy_regex.c). */
int pol_check_regex(struct pol_ctx *c, const yaml_node_t *n, const char *kp,
                    const char *s);

/* ---- the document and files ----------------------------------------- */

/* Loads the one YAML document of text (capped, see policy_yaml.c) and
 * hands its root (NULL when there is none) to walk; refuses a second
 * document. 0, or -1 with the error in c->err. */
int pol_doc(struct pol_ctx *c, const char *text, size_t len,
            int (*walk)(struct pol_ctx *c, const yaml_node_t *root));

/* A regular file opened for reading without blocking on a FIFO, or -1
 * with "WHATPATH: why" in err. */
int pol_open_regular(const char *path, const char *what, char *err,
                     size_t errsz);
/* Reads until buf is full or the file ends; bytes read, or -1. */
ssize_t pol_read_full(int fd, char *buf, size_t cap);
/* The file at path, up to POL_MAX_TEXT bytes, allocated (the caller
 * wipes and frees it), its length in *len; NULL with err. */
char *pol_read_file(const char *path, size_t *len, char *err, size_t errsz);

#endif
