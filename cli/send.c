/* send.c - `smtprobe send`: options -> params -> one session -> transcript
 * or JSON -> exit code (swaks' numbers).
 *
 * Reads the files the options name (bounded by SMTPROBE_MAX_MESSAGE), asks
 * for a password without echo on a TTY, and validates everything it can
 * before any byte goes to the network; usage mistakes exit 1. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "opts.h"
#include "send_opts.h"
#include "smtprobe/ehlo.h"
#include "smtprobe/message.h"
#include "banned.h"

/* Read a whole file (or stdin for "-"), bounded. */
static char *read_all(const char *path, size_t *len, char *err, size_t errsz)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;

	if (!f) {
		snprintf(err, errsz, "cannot open %s: %s", path,
		         strerror(errno));
		return NULL;
	}
	for (;;) {
		if (n == cap) {
			if (cap >= SMTPROBE_MAX_MESSAGE) {
				snprintf(err, errsz,
				         "%s is larger than %u bytes", path,
				         (unsigned)SMTPROBE_MAX_MESSAGE);
				free(buf);
				buf = NULL;
				break;
			}
			cap = cap ? cap * 2 : 65536;
			char *nb = realloc(buf, cap + 1);
			if (!nb) {
				snprintf(err, errsz, "out of memory reading %s",
				         path);
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0) {
			if (ferror(f)) {
				snprintf(err, errsz, "cannot read %s", path);
				free(buf);
				buf = NULL;
			}
			break;
		}
	}
	if (f != stdin)
		fclose(f);
	if (buf) {
		buf[n] = '\0';
		*len = n;
	}
	return buf;
}

static int is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Prompt on the terminal without echo. */
char *prompt_password(void)
{
	struct termios old, quiet;
	char buf[1024];
	FILE *tty = fopen("/dev/tty", "r+");

	if (!tty)
		return NULL;
	fputs("Password: ", tty);
	fflush(tty);
	int fd = fileno(tty);
	int restore = tcgetattr(fd, &old) == 0;
	if (restore) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	char *got = fgets(buf, sizeof(buf), tty);
	if (restore)
		tcsetattr(fd, TCSAFLUSH, &old);
	fseek(tty, 0, SEEK_CUR); /* switch from reading to writing */
	fputs("\n", tty);
	fclose(tty);
	if (!got)
		return NULL;
	buf[strcspn(buf, "\r\n")] = '\0';
	char *pw = strdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return pw;
}

void cli_forget(char *secret)
{
	if (!secret)
		return;
	explicit_bzero(secret, strlen(secret));
	free(secret);
}

int cli_tls_ca(const char *ca, struct smtprobe_tls_opts *o, char *err,
               size_t errsz)
{
	struct stat sb;

	if (stat(ca, &sb) < 0) {
		snprintf(err, errsz, "--tls-ca-path %s: %s", ca,
		         strerror(errno));
		return -1;
	}
	if (S_ISDIR(sb.st_mode))
		o->ca_path = ca;
	else
		o->ca_file = ca;
	return 0;
}

const char *cli_password(const char *given, char **prompted)
{
	const char *pw = given ? given : getenv("SMTPROBE_PASSWORD");

	*prompted = NULL;
	if (!pw && isatty(STDIN_FILENO))
		pw = *prompted = prompt_password();
	return pw;
}

int cli_target(const char *cmd, const char *target, char *host, size_t hostsz,
               long *port)
{
	if (!target) {
		cli_error("which server? smtprobe %s HOST[:PORT]", cmd);
		return -1;
	}
	if (split_server(target, host, hostsz, port) < 0 ||
	    !smtprobe_arg_safe(host, 0)) {
		cli_error("bad server '%s' (HOST[:PORT] or [IPv6]:PORT)",
		          target);
		return -1;
	}
	return 0;
}

int cli_auth_setup(struct smtprobe_params *q, const char *mech,
                   const char *user, const char *password, char **prompted)
{
	if (!user) {
		cli_error("--auth needs --auth-user USER");
		return -1;
	}
	if (!smtprobe_arg_safe(user, 1) || strlen(user) > 200) {
		cli_error("bad --auth-user: no control characters, at most 200 "
		          "bytes");
		return -1;
	}
	if (mech) {
		q->auth_mech = smtprobe_mech_from_name(mech, strlen(mech));
		if (!q->auth_mech) {
			cli_error("unknown AUTH mechanism '%s'", mech);
			return -1;
		}
	}
	const char *pw = cli_password(password, prompted);
	if (!pw) {
		cli_error("--auth needs a password: --auth-password or env "
		          "SMTPROBE_PASSWORD");
		return -1;
	}
	q->auth_user = user;
	q->auth_password = pw;
	return 0;
}

static long opts_number_port(const char *s)
{
	long v = opts_number(s, 1, 65535);

	return v < 0 ? -2 : v;
}

/* Split HOST[:PORT], [V6]:PORT or a bare IPv6 address. */
int split_server(const char *spec, char *host, size_t hostsz, long *port)
{
	const char *colon = strrchr(spec, ':');
	size_t n;

	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');
		if (!close)
			return -1;
		n = (size_t)(close - spec - 1);
		if (close[1] == ':')
			*port = opts_number_port(close + 2);
		else if (close[1] != '\0')
			return -1;
		if (n == 0 || n >= hostsz)
			return -1;
		memcpy(host, spec + 1, n);
		host[n] = '\0';
		return *port == -2 ? -1 : 0;
	}
	if (colon && strchr(spec, ':') == colon) {
		n = (size_t)(colon - spec);
		*port = opts_number_port(colon + 1);
		if (*port == -2)
			return -1;
	} else {
		n = strlen(spec); /* a name, or an IPv6 address without port */
	}
	if (n == 0 || n >= hostsz)
		return -1;
	memcpy(host, spec, n);
	host[n] = '\0';
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
		if (found < 0) {
			if (wn >= 5 && strncasecmp(w, "sslv", 4) == 0 && neg)
				goto next; /* no_sslv2 / no_sslv3: never offered
				            */
			snprintf(
			        err, errsz,
			        "unknown TLS protocol '%.*s' in --tls-protocol "
			        "(use tlsv1, tlsv1_1, tlsv1_2, tlsv1_3, or no_ "
			        "forms)",
			        (int)n, p);
			return -1;
		}
		if (neg)
			deny[found] = 1;
		else
			allow[found] = any_allow = 1;
	next:
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
		         spec);
		return -1;
	}
	*min = names[lo];
	*max = names[hi];
	return 0;
}

static char default_name[256];

static const char *local_name(void)
{
	if (!default_name[0] &&
	    gethostname(default_name, sizeof(default_name) - 1) < 0)
		snprintf(default_name, sizeof(default_name), "localhost");
	if (!default_name[0] || !smtprobe_arg_safe(default_name, 0))
		snprintf(default_name, sizeof(default_name), "localhost");
	return default_name;
}

static int is_ip_literal(const char *h)
{
	return strchr(h, ':') != NULL || strspn(h, "0123456789.") == strlen(h);
}

struct send_state {
	struct send_cfg cfg;
	char host[256];
	char from[SMTPROBE_MAX_ADDRESS];
	char rcpt_buf[SEND_MAX_LIST][SMTPROBE_MAX_ADDRESS];
	const char *rcpt[SEND_MAX_LIST];
	char *password; /* owned copy from the prompt */
	char *body;
	char *message;
	size_t message_len;
	char *attach_data[SEND_MAX_LIST];
	struct smtprobe_attachment attach[SEND_MAX_LIST];
	char local_addr[64];
};

static void send_state_release(struct send_state *st)
{
	cli_forget(st->password);
	free(st->body);
	free(st->message);
	for (size_t i = 0; i < st->cfg.nattach; i++)
		free(st->attach_data[i]);
	send_opts_release(&st->cfg);
}

/* Build params and the message; 0, or -1 with err (a usage error). */
static int prepare(struct send_state *st, struct smtprobe_params *p, char *err,
                   size_t errsz)
{
	struct send_cfg *c = &st->cfg;
	long port = -1;

	memset(p, 0, sizeof(*p));
	/* A recipient is needed only when the session gets as far as RCPT. */
	enum smtprobe_stage qa =
	        c->quit_after ? smtprobe_stage_from_quit_after(c->quit_after)
	                      : SMTPROBE_ST_LAST;
	if (c->nto == 0 && qa >= SMTPROBE_ST_RCPT) {
		snprintf(err, errsz, "no recipient: give one with --to ADDR");
		return -1;
	}
	if (split_server(c->server ? c->server : "localhost", st->host,
	                 sizeof(st->host), &port) < 0 ||
	    !smtprobe_arg_safe(st->host, 0)) {
		snprintf(err, errsz,
		         "bad --server '%s' (HOST[:PORT] or [IPv6]:PORT)",
		         c->server);
		return -1;
	}
	if (c->port > 0)
		port = c->port;
	if (port < 0)
		port = c->tls == SMTPROBE_TLSMODE_IMPLICIT ? 465 : 25;
	p->host = st->host;
	p->port = (unsigned)port;
	p->family = c->family;
	if (c->local_interface) {
		long lport = 0;
		if (split_server(c->local_interface, st->local_addr,
		                 sizeof(st->local_addr), &lport) < 0) {
			snprintf(err, errsz, "bad --local-interface '%s'",
			         c->local_interface);
			return -1;
		}
		p->local_addr = st->local_addr;
		p->local_port = lport > 0 ? (unsigned)lport : 0;
	}
	p->helo = c->helo ? c->helo : local_name();
	if (!smtprobe_arg_safe(p->helo, 0) || strlen(p->helo) >= 250) {
		snprintf(err, errsz,
		         "bad --helo name: no spaces or control characters");
		return -1;
	}
	p->protocol = c->protocol;

	char defaddr[300];
	snprintf(defaddr, sizeof(defaddr), "smtprobe@%s", local_name());
	if (smtprobe_addr_format(c->from ? c->from : defaddr, st->from,
	                         sizeof(st->from), err, errsz) < 0)
		return -1;
	p->mail_from = st->from;
	if ((c->mail_params && !smtprobe_arg_safe(c->mail_params, 1)) ||
	    (c->rcpt_params && !smtprobe_arg_safe(c->rcpt_params, 1))) {
		snprintf(err, errsz,
		         "bad --mail-params / --rcpt-params: no control "
		         "characters, "
		         "at most %d bytes",
		         SMTPROBE_MAX_ADDRESS - 1);
		return -1;
	}
	p->mail_params = c->mail_params;
	p->rcpt_params = c->rcpt_params;
	for (size_t i = 0; i < c->nto; i++) {
		if (smtprobe_addr_format(c->to[i], st->rcpt_buf[i],
		                         sizeof(st->rcpt_buf[i]), err,
		                         errsz) < 0)
			return -1;
		st->rcpt[i] = st->rcpt_buf[i];
	}
	p->rcpt = st->rcpt;
	p->nrcpt = c->nto;

	p->tls = c->tls;
	p->tls_verify = c->tls_verify;
	if (c->tls_verify && c->tls == SMTPROBE_TLSMODE_OFF) {
		snprintf(err, errsz,
		         "--tls-verify needs TLS: add --tls, --tls-optional or "
		         "--tls-on-connect");
		return -1;
	}
	p->tls_opts.sni = c->tls_sni
	                          ? c->tls_sni
	                          : (is_ip_literal(st->host) ? NULL : st->host);
	p->tls_opts.verify_host =
	        c->tls_verify_host ? c->tls_verify_host : st->host;
	if (c->tls_ca && cli_tls_ca(c->tls_ca, &p->tls_opts, err, errsz) < 0)
		return -1;
	if (c->tls_protocol &&
	    tls_protocol_range(c->tls_protocol, &p->tls_opts.min_proto,
	                       &p->tls_opts.max_proto, err, errsz) < 0)
		return -1;
	p->tls_opts.ciphers = c->tls_cipher;
	p->tls_opts.cert_file = c->tls_cert;
	p->tls_opts.key_file = c->tls_key;

	if (c->auth_user || c->auth_password)
		c->auth = 1;
	p->auth = c->auth;
	if (c->auth) {
		if (c->auth_mech) {
			p->auth_mech = smtprobe_mech_from_name(
			        c->auth_mech, strlen(c->auth_mech));
			if (!p->auth_mech) {
				snprintf(err, errsz,
				         "unknown AUTH mechanism '%s' (PLAIN, "
				         "LOGIN, CRAM-MD5, DIGEST-MD5, "
				         "SCRAM-SHA-1, "
				         "SCRAM-SHA-256, NTLM, XOAUTH2, "
				         "OAUTHBEARER)",
				         c->auth_mech);
				return -1;
			}
		}
		if (!c->auth_user) {
			snprintf(err, errsz, "--auth needs --auth-user USER");
			return -1;
		}
		const char *pw = cli_password(c->auth_password, &st->password);
		if (!pw) {
			snprintf(
			        err, errsz,
			        "--auth needs a password: --auth-password, env "
			        "SMTPROBE_PASSWORD, or run on a terminal to be "
			        "asked");
			return -1;
		}
		p->auth_user = c->auth_user;
		p->auth_password = pw;
		p->auth_plaintext = c->auth_plaintext;
	}

	if (c->quit_after) {
		p->quit_after = smtprobe_stage_from_quit_after(c->quit_after);
		if (p->quit_after == SMTPROBE_ST_LAST) {
			snprintf(err, errsz,
			         "unknown --quit-after stage '%s' (connect, "
			         "banner, ehlo, tls, auth, mail, rcpt, data, "
			         "dot)",
			         c->quit_after);
			return -1;
		}
	} else {
		p->quit_after = SMTPROBE_ST_LAST;
	}
	p->stage_timeout_ms = (unsigned)c->timeout_ms;
	p->session_timeout_ms = (unsigned)c->session_timeout_ms;
	p->pipeline = c->pipeline;
	p->show_secrets = c->show_secrets;
	p->suppress_data = c->suppress_data;

	/* The message. */
	if (c->data) {
		if (strcmp(c->data, "-") == 0 || is_file(c->data)) {
			st->message =
			        read_all(c->data, &st->message_len, err, errsz);
			if (!st->message)
				return -1;
		} else {
			st->message = strdup(c->data);
			st->message_len = st->message ? strlen(st->message) : 0;
		}
	} else {
		const char *body = NULL;
		if (c->body) {
			size_t blen;
			if (strcmp(c->body, "-") == 0 || is_file(c->body)) {
				st->body = read_all(c->body, &blen, err, errsz);
				if (!st->body)
					return -1;
				body = st->body;
			} else {
				body = c->body;
			}
		}
		for (size_t i = 0; i < c->nattach; i++) {
			size_t alen;
			st->attach_data[i] =
			        read_all(c->attach[i], &alen, err, errsz);
			if (!st->attach_data[i])
				return -1;
			const char *slash = strrchr(c->attach[i], '/');
			st->attach[i].name = slash ? slash + 1 : c->attach[i];
			st->attach[i].data = st->attach_data[i];
			st->attach[i].len = alen;
		}
		struct smtprobe_msg_params mp = {
		        .from = st->from,
		        .to = st->rcpt,
		        .nto = c->nto,
		        .headers = c->headers,
		        .nheaders = c->nheaders,
		        .body = body,
		        .attach = st->attach,
		        .nattach = c->nattach,
		        .helo = p->helo,
		        .mailer = "smtprobe " SMTPROBE_VERSION,
		        .now = time(NULL),
		        .nonce = (unsigned long)getpid(),
		};
		if (smtprobe_message_build(&mp, &st->message, &st->message_len,
		                           err, errsz) < 0)
			return -1;
	}
	p->message = st->message;
	p->message_len = st->message_len;
	return 0;
}

int cmd_send(int argc, char **argv)
{
	struct send_state *st = calloc(1, sizeof(*st));
	struct smtprobe_params params;
	struct smtprobe_result res;
	struct text_out out;
	char err[512];
	int rc;

	if (!st) {
		cli_error("out of memory");
		return SMTPROBE_EXIT_USAGE;
	}
	if (send_opts_parse(&st->cfg, argc, argv, err, sizeof(err)) < 0) {
		cli_error("%s (try 'smtprobe send --help')", err);
		send_state_release(st);
		free(st);
		return SMTPROBE_EXIT_USAGE;
	}
	if (st->cfg.help) {
		send_opts_help(stdout);
		send_state_release(st);
		free(st);
		return 0;
	}
	if (prepare(st, &params, err, sizeof(err)) < 0) {
		cli_error("%s", err);
		send_state_release(st);
		free(st);
		return SMTPROBE_EXIT_USAGE;
	}
	text_out_init(&out, stdout, st->cfg.show_time);
	if (!st->cfg.silent && !st->cfg.json) {
		params.on_event = text_event;
		params.event_arg = &out;
	}
	rc = smtprobe_send(&params, &res);
	if (st->cfg.json) {
		char *doc = smtprobe_result_json(&res);
		if (doc) {
			puts(doc);
			free(doc);
		}
	}
	fflush(stdout);
	if (res.error[0] && rc != 0)
		cli_error("%s", res.error);
	smtprobe_result_release(&res);
	send_state_release(st);
	free(st);
	return rc;
}
