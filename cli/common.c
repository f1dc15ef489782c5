/* common.c - helpers send, check and relay share: the error line, the
 * HOST[:PORT] target, bounded reading of a file or a pipe, the no-echo
 * password prompt and the wiping of secrets, and the status markers.
 *
 * Promises: a read never takes more than its cap (more is an error naming
 * the option and the path), a directory or a socket is refused before a
 * byte is read, a path echoed in an error has its control bytes replaced,
 * and a prompted password is wiped from the stack once copied. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "common.h"
#include "smtprobe/message.h"
#include "banned.h"

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("smtprobe: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static long port_number(const char *s)
{
	long v = opts_number(s, 1, 65535);

	return v < 0 ? -2 : v;
}

int cli_split_server(const char *spec, char *host, size_t hostsz, long *port)
{
	const char *colon = strrchr(spec, ':');
	size_t n;

	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');
		if (!close)
			return -1;
		n = (size_t)(close - spec - 1);
		if (close[1] == ':')
			*port = port_number(close + 2);
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
		*port = port_number(colon + 1);
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

int cli_target(const char *cmd, const char *target, char *host, size_t hostsz,
               long *port)
{
	char shown[128];

	if (!target) {
		cli_error("which server? smtprobe %s HOST[:PORT]", cmd);
		return -1;
	}
	if (cli_split_server(target, host, hostsz, port) < 0 ||
	    !smtprobe_arg_safe(host, 0)) {
		cli_error("bad server '%s' (HOST[:PORT] or [IPv6]:PORT)",
		          cli_printable(target, shown, sizeof(shown)));
		return -1;
	}
	return 0;
}

int cli_is_ip_literal(const char *h)
{
	return strchr(h, ':') != NULL || strspn(h, "0123456789.") == strlen(h);
}

const char *cli_local_name(void)
{
	static char name[256];

	if (!name[0] && gethostname(name, sizeof(name) - 1) < 0)
		name[0] = '\0';
	if (!name[0] || !smtprobe_arg_safe(name, 0))
		snprintf(name, sizeof(name), "localhost");
	return name;
}

const char *cli_printable(const char *s, char *out, size_t outsz)
{
	size_t n = strlen(s), o = 0;
	int cut = n >= outsz;

	if (cut)
		n = outsz > 4 ? outsz - 4 : 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		out[o++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	if (cut && outsz > 4) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

/* strerror, lower-case as our messages are. */
static const char *reason(int e, char *buf, size_t bufsz)
{
	snprintf(buf, bufsz, "%s", strerror(e));
	if (buf[0] >= 'A' && buf[0] <= 'Z' && (buf[1] < 'A' || buf[1] > 'Z'))
		buf[0] = (char)(buf[0] - 'A' + 'a');
	return buf;
}

char *cli_read_fd(int fd, const char *what, size_t cap, size_t *len, char *err,
                  size_t errsz)
{
	char *buf = NULL, why[128];
	size_t n = 0, size = 0;

	for (;;) {
		if (n == size) {
			if (size > cap) {
				snprintf(err, errsz,
				         "%s: larger than %zu bytes", what,
				         cap);
				break;
			}
			/* one byte past the cap tells "exactly cap" from
			 * "more" */
			size_t want = size ? size * 2 : 65536;
			if (want > cap + 1)
				want = cap + 1;
			char *nb = realloc(buf, want + 1);
			if (!nb) {
				snprintf(err, errsz, "%s: out of memory", what);
				break;
			}
			buf = nb;
			size = want;
		}
		ssize_t got = read(fd, buf + n, size - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			snprintf(err, errsz, "%s: %s", what,
			         reason(errno, why, sizeof(why)));
			break;
		}
		if (got == 0) {
			buf[n] = '\0';
			*len = n;
			return buf;
		}
		n += (size_t)got;
	}
	if (buf)
		explicit_bzero(buf, n);
	free(buf);
	return NULL;
}

char *cli_read_file(const char *opt, const char *path, size_t cap, size_t *len,
                    char *err, size_t errsz)
{
	char what[300], shown[256], why[128];
	struct stat st;

	snprintf(what, sizeof(what), "%s %s", opt,
	         cli_printable(path, shown, sizeof(shown)));
	if (!path[0]) {
		snprintf(err, errsz, "%s: no file name", opt);
		return NULL;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(err, errsz, "%s: %s", what,
		         reason(errno, why, sizeof(why)));
		return NULL;
	}
	const char *bad = NULL;
	if (fstat(fd, &st) < 0)
		bad = reason(errno, why, sizeof(why));
	else if (S_ISDIR(st.st_mode))
		bad = "is a directory";
	else if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode) &&
	         !S_ISCHR(st.st_mode))
		bad = "not a file or a pipe";
	if (bad) {
		snprintf(err, errsz, "%s: %s", what, bad);
		close(fd);
		return NULL;
	}
	char *buf = cli_read_fd(fd, what, cap, len, err, errsz);
	close(fd);
	return buf;
}

int cli_tls_ca(const char *ca, struct smtprobe_tls_opts *o, char *err,
               size_t errsz)
{
	char shown[256], why[128];
	struct stat sb;

	if (stat(ca, &sb) < 0) {
		snprintf(err, errsz, "--tls-ca-path %s: %s",
		         cli_printable(ca, shown, sizeof(shown)),
		         reason(errno, why, sizeof(why)));
		return -1;
	}
	if (S_ISDIR(sb.st_mode))
		o->ca_path = ca;
	else
		o->ca_file = ca;
	return 0;
}

char *cli_prompt_password(void)
{
	struct termios old, quiet;
	char buf[1024];
	FILE *tty = fopen("/dev/tty", "r+");

	if (!tty)
		return NULL;
	/* Echo off first, then the prompt: what is typed after the prompt
	 * appears must never be flushed away or echoed (TCSAFLUSH drops
	 * only what was typed before). */
	int fd = fileno(tty);
	int restore = tcgetattr(fd, &old) == 0;
	if (restore) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	fputs("Password: ", tty);
	fflush(tty);
	char *got = fgets(buf, sizeof(buf), tty);
	if (restore)
		tcsetattr(fd, TCSANOW, &old);
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

int cli_colour(FILE *f)
{
	const char *nc = getenv("NO_COLOR");

	return isatty(fileno(f)) && !(nc && nc[0]);
}

const char *cli_mark(enum cli_mark m, int colour)
{
	switch (m) {
	case CLI_MARK_PASS:
		return colour ? "\033[32m✔\033[0m" : "✔";
	case CLI_MARK_FAIL:
		return colour ? "\033[31m✘\033[0m" : "✘";
	case CLI_MARK_WARN:
		return colour ? "\033[33m!\033[0m" : "!";
	case CLI_MARK_UNDECIDED:
		return colour ? "\033[33m?\033[0m" : "?";
	case CLI_MARK_FACT:
		return "·";
	case CLI_MARK_SKIP:
	default:
		return "–";
	}
}
