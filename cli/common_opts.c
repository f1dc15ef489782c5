/* common_opts.c - the option rows send, check and relay share (TLS, AUTH,
 * timeouts, -4/-6, --json): one handler fills a struct cli_common, one
 * function applies it to a struct smtprobe_params.
 *
 * Promises: every value is checked before any byte goes to the network
 * (a bad one is a usage error with the option named); the password is
 * copied out of argv (which opts_parse then overwrites), read from the
 * first line of --auth-password-file, taken from SMTPROBE_PASSWORD or
 * asked without echo, never printed, and wiped by cli_common_release. A
 * password given on the command line earns one warning line on stderr. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common.h"
#include "smtprobe/ehlo.h"
#include "smtprobe/message.h"
#include "smtprobe/sasl.h"
#include "banned.h"

/* A password file is read whole (a line, maybe a second one we ignore);
 * more than this is not a password file. */
#define PASSWORD_FILE_CAP (64 * 1024)

void cli_common_init(struct cli_common *c, long timeout_ms,
                     long session_timeout_ms)
{
	memset(c, 0, sizeof(*c));
	c->timeout_ms = timeout_ms;
	c->session_timeout_ms = session_timeout_ms;
}

int cli_common_accept(int id, const char *next)
{
	return id == CLI_O_AUTH &&
	       smtprobe_mech_from_name(next, strlen(next)) != 0;
}

int cli_common_opt(struct cli_common *c, int id, const char *v, char *err,
                   size_t errsz)
{
	long ms;

	switch (id) {
	case CLI_O_TLS_VERIFY:
		c->tls_verify = 1;
		break;
	case CLI_O_TLS_CA:
		c->tls_ca = v;
		break;
	case CLI_O_TLS_SNI:
		c->tls_sni = v;
		break;
	case CLI_O_TLS_VERIFY_HOST:
		c->tls_verify_host = v;
		break;
	case CLI_O_TLS_PROTOCOL:
		c->tls_protocol = v;
		break;
	case CLI_O_TLS_CIPHER:
		c->tls_cipher = v;
		break;
	case CLI_O_TLS_CERT:
		c->tls_cert = v;
		break;
	case CLI_O_TLS_KEY:
		c->tls_key = v;
		break;
	case CLI_O_AUTH:
		c->auth = 1;
		c->auth_mech = v;
		break;
	case CLI_O_AUTH_USER:
		c->auth = 1;
		c->auth_user = v;
		break;
	case CLI_O_AUTH_PASSWORD:
		c->auth = 1;
		cli_forget(c->password);
		c->password = strdup(v);
		c->password_argv = 1;
		if (!c->password) {
			snprintf(err, errsz, "out of memory");
			return -1;
		}
		break;
	case CLI_O_AUTH_PASSWORD_FILE:
		c->auth = 1;
		c->auth_password_file = v;
		break;
	case CLI_O_AUTH_PLAINTEXT:
		c->auth_plaintext = 1;
		break;
	case CLI_O_TIMEOUT:
	case CLI_O_SESSION_TIMEOUT:
		ms = opts_duration_ms(v);
		if (ms <= 0) {
			snprintf(err, errsz,
			         "bad --%s '%s' (e.g. 30, 2.5, 30s, 2m)",
			         id == CLI_O_TIMEOUT ? "timeout"
			                             : "session-timeout",
			         v);
			return -1;
		}
		if (id == CLI_O_TIMEOUT)
			c->timeout_ms = ms;
		else
			c->session_timeout_ms = ms;
		break;
	case CLI_O_4:
		c->family = 4;
		break;
	case CLI_O_6:
		c->family = 6;
		break;
	case CLI_O_JSON:
		c->json = 1;
		break;
	default:
		snprintf(err, errsz, "option %d not handled", id);
		return -1;
	}
	return 0;
}

/* --tls-protocol: "tlsv1_2", "TLSv1.3", "tlsv1_2,tlsv1_3",
 * "no_tlsv1,no_tlsv1_1". The allowed set becomes a min/max pair. */
static int tls_protocol_range(const char *spec, const char **min,
                              const char **max, char *err, size_t errsz)
{
	static const char *const names[] = {"TLSv1", "TLSv1.1", "TLSv1.2",
	                                    "TLSv1.3"};
	static const char *const spell[][3] = {{"tlsv1", "tlsv1_0", "tlsv1.0"},
	                                       {"tlsv1_1", "tlsv1.1", NULL},
	                                       {"tlsv1_2", "tlsv1.2", NULL},
	                                       {"tlsv1_3", "tlsv1.3", NULL}};
	int allow[4] = {0, 0, 0, 0}, deny[4] = {0, 0, 0, 0}, any_allow = 0;
	const char *p = spec;
	char shown[64];

	while (*p) {
		const char *q = strchr(p, ',');
		size_t n = q ? (size_t)(q - p) : strlen(p);
		int neg = n > 3 && strncasecmp(p, "no_", 3) == 0;
		const char *w = neg ? p + 3 : p;
		size_t wn = neg ? n - 3 : n;
		int found = -1;
		for (int v = 0; v < 4 && found < 0; v++)
			for (int k = 0; k < 3 && spell[v][k]; k++)
				if (strlen(spell[v][k]) == wn &&
				    strncasecmp(spell[v][k], w, wn) == 0)
					found = v;
		if (found < 0 &&
		    !(neg && wn >= 5 && strncasecmp(w, "sslv", 4) == 0)) {
			snprintf(
			        err, errsz,
			        "unknown TLS protocol '%.*s' in --tls-protocol "
			        "(use tlsv1, tlsv1_1, tlsv1_2, tlsv1_3, or no_ "
			        "forms)",
			        (int)(n < 40 ? n : 40), p);
			return -1;
		}
		/* no_sslv2 / no_sslv3: never offered anyway */
		if (found >= 0 && neg)
			deny[found] = 1;
		else if (found >= 0)
			allow[found] = any_allow = 1;
		if (!q)
			break;
		p = q + 1;
	}
	int lo = -1, hi = -1;
	for (int v = 0; v < 4; v++) {
		if ((any_allow && !allow[v]) || deny[v])
			continue;
		if (lo < 0)
			lo = v;
		hi = v;
	}
	if (lo < 0) {
		snprintf(err, errsz, "--tls-protocol %s leaves no TLS version",
		         cli_printable(spec, shown, sizeof(shown)));
		return -1;
	}
	*min = names[lo];
	*max = names[hi];
	return 0;
}

/* The first line of --auth-password-file, CR/LF stripped, as the owned
 * password. Nothing of the file's content reaches an error message. */
static int password_from_file(struct cli_common *c, char *err, size_t errsz)
{
	char shown[256];
	size_t len;
	char *buf = cli_read_file("--auth-password-file", c->auth_password_file,
	                          PASSWORD_FILE_CAP, &len, err, errsz);

	if (!buf)
		return -1;
	/* strcspn stops at a NUL too: one before the end is inside the line */
	size_t line = strcspn(buf, "\r\n");
	const char *why = line < len && buf[line] == '\0'
	                          ? "the first line holds a NUL byte"
	                  : line == 0 ? "the first line is empty"
	                  : line > SMTPROBE_MAX_SASL
	                          ? "the first line is too long for AUTH"
	                          : NULL;
	if (why) {
		snprintf(err, errsz, "--auth-password-file %s: %s",
		         cli_printable(c->auth_password_file, shown,
		                       sizeof(shown)),
		         why);
		explicit_bzero(buf, len);
		free(buf);
		return -1;
	}
	buf[line] = '\0';
	c->password = strdup(buf);
	explicit_bzero(buf, len);
	free(buf);
	if (!c->password) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	return 0;
}

int cli_auth_setup(struct cli_common *c, struct smtprobe_params *p, char *err,
                   size_t errsz)
{
	const char *u = c->auth_user;
	const char *pw;

	if (!u) {
		snprintf(err, errsz, "--auth needs --auth-user USER");
		return -1;
	}
	if (!smtprobe_arg_safe(u, 1) || strlen(u) > 200) {
		snprintf(err, errsz,
		         "bad --auth-user: no control characters, at most 200 "
		         "bytes");
		return -1;
	}
	if (c->auth_mech) {
		p->auth_mech = smtprobe_mech_from_name(c->auth_mech,
		                                       strlen(c->auth_mech));
		if (!p->auth_mech) {
			char shown[64];
			snprintf(err, errsz,
			         "unknown AUTH mechanism '%s' (PLAIN, LOGIN, "
			         "CRAM-MD5, DIGEST-MD5, SCRAM-SHA-1, "
			         "SCRAM-SHA-256, NTLM, XOAUTH2, OAUTHBEARER)",
			         cli_printable(c->auth_mech, shown,
			                       sizeof(shown)));
			return -1;
		}
	}
	if (c->password_argv && c->auth_password_file) {
		snprintf(err, errsz,
		         "--auth-password and --auth-password-file exclude "
		         "each other");
		return -1;
	}
	if (c->auth_password_file && password_from_file(c, err, errsz) < 0)
		return -1;
	pw = c->password ? c->password : getenv("SMTPROBE_PASSWORD");
	if (!pw && isatty(STDIN_FILENO))
		pw = c->password = cli_prompt_password();
	if (!pw) {
		snprintf(err, errsz,
		         "--auth needs a password: --auth-password-file FILE, "
		         "env SMTPROBE_PASSWORD, a terminal to be asked on, or "
		         "--auth-password");
		return -1;
	}
	if (c->password_argv && !c->quiet)
		cli_error("warning: --auth-password on the command line can be "
		          "read by other local users (ps, /proc); prefer "
		          "--auth-password-file, env SMTPROBE_PASSWORD or the "
		          "prompt");
	p->auth_user = u;
	p->auth_password = pw;
	p->auth_plaintext = c->auth_plaintext;
	return 0;
}

int cli_common_apply(struct cli_common *c, const char *host,
                     struct smtprobe_params *p, char *err, size_t errsz)
{
	struct smtprobe_tls_opts *o = &p->tls_opts;

	p->family = c->family;
	p->tls_verify = c->tls_verify;
	o->sni = c->tls_sni ? c->tls_sni
	                    : (cli_is_ip_literal(host) ? NULL : host);
	o->verify_host = c->tls_verify_host ? c->tls_verify_host : host;
	if (c->tls_ca && cli_tls_ca(c->tls_ca, o, err, errsz) < 0)
		return -1;
	if (c->tls_protocol &&
	    tls_protocol_range(c->tls_protocol, &o->min_proto, &o->max_proto,
	                       err, errsz) < 0)
		return -1;
	o->ciphers = c->tls_cipher;
	o->cert_file = c->tls_cert;
	o->key_file = c->tls_key;
	p->stage_timeout_ms = (unsigned)c->timeout_ms;
	p->session_timeout_ms =
	        (unsigned)(c->session_timeout_ms ? c->session_timeout_ms
	                                         : c->timeout_ms * 8);
	if (c->auth && cli_auth_setup(c, p, err, errsz) < 0)
		return -1;
	return 0;
}

void cli_common_help_password(FILE *f)
{
	fprintf(f, "\nthe AUTH password: --auth-password-file FILE (its first "
	           "line), or\n  --auth-password PASS (other local users can "
	           "read a command line:\n  smtprobe warns), else env "
	           "SMTPROBE_PASSWORD, else asked without echo\n  on a "
	           "terminal.\n");
}

void cli_common_release(struct cli_common *c)
{
	cli_forget(c->password);
	c->password = NULL;
}
