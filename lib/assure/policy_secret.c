/* policy_secret.c - smtprobe_policy_secret: the secret of a target read
 * when a probe runs, from an environment variable (through the caller's
 * smtprobe_env_fn: the library reads no environment) or from the first
 * line of a regular file (a trailing CR dropped): 0 with it in buf, 1
 * when the target has no credentials.
 *
 * Diagnostics: -1 with an error that names the variable or the file,
 * never the value: not set, empty, unreadable, not a regular file, a NUL
 * byte, a secret longer than the caller's buffer. What followed the
 * first line of the file is wiped, and so is buf when the file is
 * refused. */
#include <string.h>
#include <unistd.h>

#include "policy_int.h"

#include "banned.h"

static int secret_file(const char *path, char *buf, size_t bufsz, char *err,
                       size_t errsz)
{
	char extra;
	const char *nl;
	ssize_t n;
	size_t len;
	int fd = pol_open_regular(path, "password_file ", err, errsz);

	if (fd < 0)
		return -1;
	n = pol_read_full(fd, buf, bufsz - 1);
	if (n < 0) {
		pol_sys_err(err, errsz, "password_file ", path);
		close(fd);
		return -1;
	}
	nl = memchr(buf, '\n', (size_t)n);
	len = nl ? (size_t)(nl - buf) : (size_t)n;
	/* a full buffer is fine only when the line ends right there */
	if (nl == NULL && (size_t)n == bufsz - 1 &&
	    pol_read_full(fd, &extra, 1) == 1 && extra != '\n' &&
	    extra != '\r') {
		close(fd);
		pol_set_err(
		        err, errsz,
		        "password_file %s: the secret is longer than %zu bytes",
		        path, bufsz - 1);
		return -1;
	}
	close(fd);
	/* only the first line is the secret: wipe what followed it */
	explicit_bzero(buf + len, (size_t)n - len);
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	if (memchr(buf, '\0', len) != NULL) {
		pol_set_err(err, errsz,
		            "password_file %s: NUL byte in the secret", path);
		return -1;
	}
	if (len == 0) {
		pol_set_err(err, errsz,
		            "password_file %s: the first line is empty", path);
		return -1;
	}
	return 0;
}

int smtprobe_policy_secret(const struct smtprobe_pol_target *t,
                           smtprobe_env_fn env, char *buf, size_t bufsz,
                           char *err, size_t errsz)
{
	const char *v;
	size_t len;

	if (errsz > 0)
		err[0] = '\0';
	if (bufsz > 0)
		buf[0] = '\0';
	if (t->password_env == NULL && t->password_file == NULL)
		return 1;
	if (bufsz < 2) {
		pol_set_err(err, errsz, "no room for the secret");
		return -1;
	}
	if (t->password_file != NULL && t->password_env == NULL) {
		int rc = secret_file(t->password_file, buf, bufsz, err, errsz);
		if (rc < 0)
			explicit_bzero(buf, bufsz);
		return rc;
	}
	v = env ? env(t->password_env) : NULL;
	if (v == NULL) {
		pol_set_err(err, errsz,
		            "password_env %s: the variable is not set",
		            t->password_env);
		return -1;
	}
	len = strlen(v);
	if (len == 0) {
		pol_set_err(err, errsz,
		            "password_env %s: the variable is empty",
		            t->password_env);
		return -1;
	}
	if (len >= bufsz) {
		pol_set_err(
		        err, errsz,
		        "password_env %s: the secret is longer than %zu bytes",
		        t->password_env, bufsz - 1);
		return -1;
	}
	memcpy(buf, v, len + 1);
	return 0;
}
