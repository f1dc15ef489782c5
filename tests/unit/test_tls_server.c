/* test_tls_server.c - lib/tls/tls_server.c and lib/tls/tls_cert.c: certificate
 * generation into a temporary directory (files, modes, reuse, regeneration,
 * errors), server contexts from the generated files (and their error messages),
 * and whole handshakes between smtprobe_tls_accept and smtprobe_tls_new over a
 * socketpair. Both ends are non-blocking and driven from one poll() loop,
 * so no thread is needed; every wait is bounded by TIMEOUT_MS. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "smtprobe/tls.h"

#include "banned.h"

#define TIMEOUT_MS 5000
#define PATHSZ     512

static char top[64];       /* the temporary directory */
static char dir_a[PATHSZ]; /* localhost, 127.0.0.1, ::1 */
static char dir_b[PATHSZ]; /* the same names, other keys */

static const char *const names_a[] = {"localhost", "127.0.0.1", "[::1]"};

static void path_in(char *dst, const char *dir, const char *file)
{
	int n = snprintf(dst, PATHSZ, "%s/%s", dir, file);

	assert_true(n > 0 && n < PATHSZ);
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int group_setup(void **state)
{
	char err[256];

	(void)state;
	if (snprintf(top, sizeof(top), "%s",
	             "/tmp/smtprobe-tls-server-XXXXXX") < 0 ||
	    mkdtemp(top) == NULL)
		return -1;
	/* A nested directory that does not exist yet: generate makes it. */
	path_in(dir_a, top, "sub/a");
	path_in(dir_b, top, "b");
	if (smtprobe_tls_generate(dir_a, names_a, 3, 30, err, sizeof(err)) !=
	    0) {
		fprintf(stderr, "generate: %s\n", err);
		return -1;
	}
	if (smtprobe_tls_generate(dir_b, names_a, 3, 30, err, sizeof(err)) !=
	    0) {
		fprintf(stderr, "generate: %s\n", err);
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (top[0] != '\0')
		nftw(top, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* ---- helpers ------------------------------------------------------- */

static X509 *read_cert_at(const char *path, int index)
{
	BIO *bio = BIO_new_file(path, "r");
	X509 *x = NULL;
	int i;

	assert_non_null(bio);
	for (i = 0; i <= index; i++) {
		X509_free(x);
		x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		assert_non_null(x);
	}
	BIO_free(bio);
	return x;
}

/* The serial of the first certificate in path, in hex, into dst. */
static void serial_of(char *dst, size_t dstsz, const char *dir,
                      const char *file)
{
	char path[PATHSZ];
	X509 *x;
	BIGNUM *bn;
	char *hex;

	path_in(path, dir, file);
	x = read_cert_at(path, 0);
	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	assert_non_null(bn);
	hex = BN_bn2hex(bn);
	assert_non_null(hex);
	assert_true(strlen(hex) < dstsz);
	snprintf(dst, dstsz, "%s", hex);
	OPENSSL_free(hex);
	BN_free(bn);
	X509_free(x);
}

static void stat_in(struct stat *st, const char *dir, const char *file)
{
	char path[PATHSZ];

	path_in(path, dir, file);
	assert_int_equal(stat(path, st), 0);
}

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	assert_true(fl >= 0);
	assert_int_equal(fcntl(fd, F_SETFL, fl | O_NONBLOCK), 0);
}

/* ---- generation ---------------------------------------------------- */

static void test_generate_files(void **state)
{
	static const struct {
		const char *name;
		mode_t mode;
	} files[] = {
	        {"ca.pem", 0644},
	        {"ca.key", 0600},
	        {"server.pem", 0644},
	        {"server.key", 0600},
	};
	struct stat st;
	char path[PATHSZ];
	X509 *leaf;
	X509 *ca;
	X509 *ca2;
	size_t i;

	(void)state;
	assert_int_equal(stat(dir_a, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		stat_in(&st, dir_a, files[i].name);
		assert_true(S_ISREG(st.st_mode));
		assert_int_equal(st.st_mode & 07777, files[i].mode);
	}
	path_in(path, dir_a, "ca.pem.tmp");
	assert_int_not_equal(access(path, F_OK), 0);

	/* server.pem is the leaf, then the CA of ca.pem; the leaf is signed
	 * by it and names what it was asked to. */
	path_in(path, dir_a, "server.pem");
	leaf = read_cert_at(path, 0);
	ca2 = read_cert_at(path, 1);
	path_in(path, dir_a, "ca.pem");
	ca = read_cert_at(path, 0);
	assert_int_equal(X509_cmp(ca, ca2), 0);
	assert_int_equal(X509_verify(leaf, X509_get0_pubkey(ca)), 1);
	assert_int_equal(X509_check_host(leaf, "localhost", 0, 0, NULL), 1);
	assert_int_equal(X509_check_ip_asc(leaf, "127.0.0.1", 0), 1);
	assert_int_equal(X509_check_ip_asc(leaf, "::1", 0), 1);
	assert_int_equal(X509_check_ca(ca), 1);
	assert_int_equal(X509_check_ca(leaf), 0);
	assert_int_equal(X509_check_purpose(leaf, X509_PURPOSE_SSL_SERVER, 0),
	                 1);
	X509_free(leaf);
	X509_free(ca);
	X509_free(ca2);
}

static void test_generate_reuse(void **state)
{
	static const char *const subset[] = {"LOCALHOST", "::1"};
	char before[64];
	char after[64];
	char err[256];
	struct stat st1[2];
	struct stat st2[2];

	(void)state;
	serial_of(before, sizeof(before), dir_a, "server.pem");
	stat_in(&st1[0], dir_a, "server.pem");
	stat_in(&st1[1], dir_a, "ca.key");
	assert_int_equal(
	        smtprobe_tls_generate(dir_a, names_a, 3, 30, err, sizeof(err)),
	        0);
	/* Fewer names, other case, no brackets: still covered. */
	assert_int_equal(
	        smtprobe_tls_generate(dir_a, subset, 2, 30, err, sizeof(err)),
	        0);
	serial_of(after, sizeof(after), dir_a, "server.pem");
	stat_in(&st2[0], dir_a, "server.pem");
	stat_in(&st2[1], dir_a, "ca.key");
	assert_string_equal(before, after);
	assert_true(same_file(&st1[0], &st2[0]));
	assert_true(same_file(&st1[1], &st2[1]));
}

static void test_generate_regenerate(void **state)
{
	static const char *const one[] = {"mail.test"};
	static const char *const two[] = {"mail.test", "mx.test"};
	char dir[PATHSZ];
	char path[PATHSZ];
	char s1[64];
	char s2[64];
	char c1[64];
	char c2[64];
	char err[256];
	FILE *f;

	(void)state;
	path_in(dir, top, "regen");
	assert_int_equal(
	        smtprobe_tls_generate(dir, one, 1, 30, err, sizeof(err)), 0);
	serial_of(s1, sizeof(s1), dir, "server.pem");
	serial_of(c1, sizeof(c1), dir, "ca.pem");

	/* A name more: everything is made anew. */
	assert_int_equal(
	        smtprobe_tls_generate(dir, two, 2, 30, err, sizeof(err)), 0);
	serial_of(s2, sizeof(s2), dir, "server.pem");
	serial_of(c2, sizeof(c2), dir, "ca.pem");
	assert_string_not_equal(s1, s2);
	assert_string_not_equal(c1, c2);

	/* A broken server.pem. */
	path_in(path, dir, "server.pem");
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("-----BEGIN CERTIFICATE-----\nnot base64\n", f);
	fclose(f);
	assert_int_equal(
	        smtprobe_tls_generate(dir, two, 2, 30, err, sizeof(err)), 0);
	serial_of(s1, sizeof(s1), dir, "server.pem");
	assert_string_not_equal(s1, s2);

	/* A server.key of another set. */
	path_in(path, dir, "server.key");
	{
		char other[PATHSZ];
		BIO *in;
		BIO *out;
		EVP_PKEY *k;

		path_in(other, dir_b, "server.key");
		in = BIO_new_file(other, "r");
		assert_non_null(in);
		k = PEM_read_bio_PrivateKey(in, NULL, NULL, NULL);
		assert_non_null(k);
		BIO_free(in);
		out = BIO_new_file(path, "w");
		assert_non_null(out);
		assert_int_equal(PEM_write_bio_PrivateKey(out, k, NULL, NULL, 0,
		                                          NULL, NULL),
		                 1);
		BIO_free(out);
		EVP_PKEY_free(k);
	}
	assert_int_equal(
	        smtprobe_tls_generate(dir, two, 2, 30, err, sizeof(err)), 0);
	serial_of(s2, sizeof(s2), dir, "server.pem");
	assert_string_not_equal(s1, s2);

	/* Other days alone do not matter while a day is left... */
	assert_int_equal(
	        smtprobe_tls_generate(dir, two, 2, 1, err, sizeof(err)), 0);
	serial_of(s1, sizeof(s1), dir, "server.pem");
	assert_string_equal(s1, s2);

	/* ...and one day of validity is never a day left: made anew on
	 * every call. */
	path_in(dir, top, "oneday");
	assert_int_equal(
	        smtprobe_tls_generate(dir, two, 2, 1, err, sizeof(err)), 0);
	serial_of(s1, sizeof(s1), dir, "server.pem");
	assert_int_equal(
	        smtprobe_tls_generate(dir, two, 2, 1, err, sizeof(err)), 0);
	serial_of(s2, sizeof(s2), dir, "server.pem");
	assert_string_not_equal(s1, s2);
}

static void test_generate_errors(void **state)
{
	static const char *const bad[] = {"localhost", "a b"};
	static const char *const brk[] = {"[localhost]"};
	char dir[PATHSZ];
	char path[PATHSZ];
	char want[PATHSZ + 128];
	char err[256];
	FILE *f;

	(void)state;
	/* A file where the directory should be. */
	path_in(path, top, "plainfile");
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(
	        smtprobe_tls_generate(path, names_a, 1, 30, err, sizeof(err)),
	        -1);
	snprintf(want, sizeof(want),
	         "cannot create directory '%s': not a directory", path);
	assert_string_equal(err, want);

	path_in(dir, path, "below");
	assert_int_equal(
	        smtprobe_tls_generate(dir, names_a, 1, 30, err, sizeof(err)),
	        -1);
	snprintf(want, sizeof(want),
	         "cannot create directory '%s': not a directory", dir);
	assert_string_equal(err, want);

	assert_int_equal(
	        smtprobe_tls_generate(top, bad, 2, 30, err, sizeof(err)), -1);
	assert_string_equal(err, "invalid name for a certificate 'a b'");
	assert_int_equal(
	        smtprobe_tls_generate(top, brk, 1, 30, err, sizeof(err)), -1);
	assert_string_equal(err,
	                    "invalid name for a certificate '[localhost]'");
	assert_int_equal(
	        smtprobe_tls_generate(top, names_a, 0, 30, err, sizeof(err)),
	        -1);
	assert_string_equal(err, "no name to certify");
	assert_int_equal(
	        smtprobe_tls_generate(top, names_a, 1, 0, err, sizeof(err)),
	        -1);
	assert_string_equal(err, "certificate validity must be 1 to 36500 "
	                         "days");

	/* A directory in the way of a temporary file: nothing is left. */
	path_in(dir, top, "blocked");
	assert_int_equal(mkdir(dir, 0700), 0);
	path_in(path, dir, "ca.pem.tmp");
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(
	        smtprobe_tls_generate(dir, names_a, 1, 30, err, sizeof(err)),
	        -1);
	snprintf(want, sizeof(want), "cannot write '%s': file exists", path);
	assert_string_equal(err, want);
	path_in(path, dir, "ca.pem");
	assert_int_not_equal(access(path, F_OK), 0);
	path_in(path, dir, "ca.key.tmp");
	assert_int_not_equal(access(path, F_OK), 0);
}

/* ---- server contexts ----------------------------------------------- */

static void expect_server_err(const char *cert, const char *key,
                              const char *chain, const char *want)
{
	struct smtprobe_tls_server *srv = (void *)1;
	char err[512];

	assert_int_equal(smtprobe_tls_server_new(&srv, cert, key, chain, err,
	                                         sizeof(err)),
	                 SMTPROBE_TLS_ERR);
	assert_null(srv);
	assert_string_equal(err, want);
}

static void test_server_errors(void **state)
{
	char cert[PATHSZ];
	char key[PATHSZ];
	char other_key[PATHSZ];
	char missing[PATHSZ];
	char want[2 * PATHSZ];

	(void)state;
	path_in(cert, dir_a, "server.pem");
	path_in(key, dir_a, "server.key");
	path_in(other_key, dir_b, "server.key");
	path_in(missing, top, "missing.pem");

	snprintf(want, sizeof(want),
	         "cannot load server certificate '%s': no such file or "
	         "directory",
	         missing);
	expect_server_err(missing, key, NULL, want);

	snprintf(want, sizeof(want),
	         "server key '%s' does not match the certificate", other_key);
	expect_server_err(cert, other_key, NULL, want);

	snprintf(want, sizeof(want),
	         "cannot load server key '%s': no such file or directory",
	         missing);
	expect_server_err(cert, missing, NULL, want);

	/* No key given: it is looked for in the certificate file. */
	snprintf(want, sizeof(want),
	         "cannot load server key '%s': no private key found", cert);
	expect_server_err(cert, NULL, NULL, want);

	snprintf(want, sizeof(want),
	         "cannot load server certificate chain '%s': no such file or "
	         "directory",
	         missing);
	expect_server_err(cert, key, missing, want);

	snprintf(want, sizeof(want),
	         "cannot load server certificate chain '%s': no PEM data "
	         "found",
	         key);
	expect_server_err(cert, key, key, want);

	expect_server_err(NULL, key, NULL, "no server certificate given");

	/* An encrypted key: never a prompt, a message. */
	{
		char enc[PATHSZ];
		BIO *in = BIO_new_file(key, "r");
		BIO *out;
		EVP_PKEY *k;

		assert_non_null(in);
		k = PEM_read_bio_PrivateKey(in, NULL, NULL, NULL);
		assert_non_null(k);
		BIO_free(in);
		path_in(enc, top, "enc.key");
		out = BIO_new_file(enc, "w");
		assert_non_null(out);
		assert_int_equal(PEM_write_bio_PrivateKey(
		                         out, k, EVP_aes_128_cbc(),
		                         (const unsigned char *)"secret", 6,
		                         NULL, NULL),
		                 1);
		BIO_free(out);
		EVP_PKEY_free(k);
		snprintf(
		        want, sizeof(want),
		        "cannot load server key '%s': the key is encrypted (no "
		        "passphrase can be given)",
		        enc);
		expect_server_err(cert, enc, NULL, want);
	}
}

/* ---- handshakes ---------------------------------------------------- */

struct pair {
	int fd[2]; /* client, server */
	struct smtprobe_tls *t[2];
	int rc[2];
};

static void pair_open(struct pair *p, struct smtprobe_tls_server *srv,
                      const struct smtprobe_tls_opts *opts)
{
	char err[256];

	memset(p, 0, sizeof(*p));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, p->fd), 0);
	set_nonblock(p->fd[0]);
	set_nonblock(p->fd[1]);
	assert_int_equal(
	        smtprobe_tls_new(&p->t[0], opts, p->fd[0], err, sizeof(err)),
	        SMTPROBE_TLS_OK);
	assert_int_equal(
	        smtprobe_tls_accept(&p->t[1], srv, p->fd[1], err, sizeof(err)),
	        SMTPROBE_TLS_OK);
}

static void pair_close(struct pair *p)
{
	smtprobe_tls_free(p->t[0]);
	smtprobe_tls_free(p->t[1]);
	close(p->fd[0]);
	close(p->fd[1]);
}

static short want_events(int rc)
{
	return rc == SMTPROBE_TLS_WANT_WRITE ? POLLOUT : POLLIN;
}

/* Both handshakes to their end. A side that fails shuts its socket down
 * so the other sees EOF even when no alert was sent. */
static void pair_handshake(struct pair *p)
{
	int done[2] = {0, 0};
	int i;

	for (;;) {
		struct pollfd pf[2];
		nfds_t n = 0;

		for (i = 0; i < 2; i++) {
			if (done[i])
				continue;
			p->rc[i] = smtprobe_tls_handshake(p->t[i]);
			if (p->rc[i] == SMTPROBE_TLS_WANT_READ ||
			    p->rc[i] == SMTPROBE_TLS_WANT_WRITE)
				continue;
			done[i] = 1;
			if (p->rc[i] != SMTPROBE_TLS_OK)
				shutdown(p->fd[i], SHUT_RDWR);
		}
		if (done[0] && done[1])
			return;
		for (i = 0; i < 2; i++) {
			if (done[i])
				continue;
			pf[n].fd = p->fd[i];
			pf[n].events = want_events(p->rc[i]);
			pf[n].revents = 0;
			n++;
		}
		assert_true(poll(pf, n, TIMEOUT_MS) > 0);
	}
}

static void wait_fd(int fd, short events)
{
	struct pollfd pf = {.fd = fd, .events = events};

	assert_true(poll(&pf, 1, TIMEOUT_MS) > 0);
}

/* msg from side `from` to the other side, read back whole. */
static void pair_send(struct pair *p, int from, const char *msg)
{
	int to = !from;
	size_t len = strlen(msg);
	size_t off = 0;
	char buf[256];
	long n;

	assert_true(len < sizeof(buf));
	while (off < len) {
		n = smtprobe_tls_write(p->t[from], msg + off, len - off);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		assert_true(n == SMTPROBE_TLS_WANT_READ ||
		            n == SMTPROBE_TLS_WANT_WRITE);
		wait_fd(p->fd[from], want_events((int)n));
	}
	off = 0;
	while (off < len) {
		n = smtprobe_tls_read(p->t[to], buf + off, len - off);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		assert_true(n == SMTPROBE_TLS_WANT_READ ||
		            n == SMTPROBE_TLS_WANT_WRITE);
		wait_fd(p->fd[to], want_events((int)n));
	}
	buf[off] = '\0';
	assert_string_equal(buf, msg);
}

static struct smtprobe_tls_server *server_a(const char *chain_file,
                                            const char *cert_file)
{
	struct smtprobe_tls_server *srv = NULL;
	char cert[PATHSZ];
	char key[PATHSZ];
	char err[512];

	path_in(cert, dir_a, "server.pem");
	path_in(key, dir_a, "server.key");
	if (smtprobe_tls_server_new(&srv, cert_file ? cert_file : cert, key,
	                            chain_file, err,
	                            sizeof(err)) != SMTPROBE_TLS_OK)
		fail_msg("server_new: %s", err);
	return srv;
}

enum srv_files {
	FILES_PLAIN,    /* server.pem (leaf + CA) and server.key */
	FILES_CHAIN,    /* the leaf alone, ca.pem as chain_file */
	FILES_COMBINED, /* leaf, CA and key in one file, no key_file */
};

struct hs_case {
	const char *host; /* verify_host */
	const char *sni;
	const char *server_sni; /* what the server saw */
	enum srv_files files;
	const char *max_proto;
	const char *protocol;
};

/* Copies the PEM blocks of src (certificates, or a key) onto out. */
static void copy_pem(BIO *out, const char *src, int key)
{
	BIO *in = BIO_new_file(src, "r");
	X509 *x;

	assert_non_null(in);
	if (key) {
		EVP_PKEY *k = PEM_read_bio_PrivateKey(in, NULL, NULL, NULL);

		assert_non_null(k);
		assert_int_equal(PEM_write_bio_PrivateKey(out, k, NULL, NULL, 0,
		                                          NULL, NULL),
		                 1);
		EVP_PKEY_free(k);
	} else {
		while ((x = PEM_read_bio_X509(in, NULL, NULL, NULL)) != NULL) {
			assert_int_equal(PEM_write_bio_X509(out, x), 1);
			X509_free(x);
		}
	}
	BIO_free(in);
}

static struct smtprobe_tls_server *server_for(enum srv_files files)
{
	struct smtprobe_tls_server *srv = NULL;
	char full[PATHSZ];
	char key[PATHSZ];
	char ca[PATHSZ];
	char file[PATHSZ];
	char err[512];
	X509 *leaf;
	BIO *out;

	path_in(full, dir_a, "server.pem");
	path_in(key, dir_a, "server.key");
	path_in(ca, dir_a, "ca.pem");
	switch (files) {
	case FILES_PLAIN:
		return server_a(NULL, NULL);
	case FILES_CHAIN:
		path_in(file, top, "leaf.pem");
		leaf = read_cert_at(full, 0);
		out = BIO_new_file(file, "w");
		assert_non_null(out);
		assert_int_equal(PEM_write_bio_X509(out, leaf), 1);
		BIO_free(out);
		X509_free(leaf);
		return server_a(ca, file);
	case FILES_COMBINED:
		path_in(file, top, "combined.pem");
		out = BIO_new_file(file, "w");
		assert_non_null(out);
		copy_pem(out, full, 0);
		copy_pem(out, key, 1);
		BIO_free(out);
		if (smtprobe_tls_server_new(&srv, file, NULL, NULL, err,
		                            sizeof(err)) != SMTPROBE_TLS_OK)
			fail_msg("server_new: %s", err);
		return srv;
	}
	return NULL;
}

static void check_handshake(const struct hs_case *c)
{
	struct smtprobe_tls_server *srv;
	struct smtprobe_tls_opts o;
	struct smtprobe_tls_facts cf;
	struct smtprobe_tls_facts sf;
	struct pair p;
	char ca[PATHSZ];

	path_in(ca, dir_a, "ca.pem");
	srv = server_for(c->files);
	memset(&o, 0, sizeof(o));
	o.sni = c->sni;
	o.verify_host = c->host;
	o.ca_file = ca;
	o.max_proto = c->max_proto;
	pair_open(&p, srv, &o);
	/* Connections hold the context: the server may go first. */
	smtprobe_tls_server_free(srv);
	pair_handshake(&p);
	if (p.rc[0] != SMTPROBE_TLS_OK || p.rc[1] != SMTPROBE_TLS_OK)
		fail_msg("handshake: client %d '%s', server %d '%s'", p.rc[0],
		         smtprobe_tls_error(p.t[0]), p.rc[1],
		         smtprobe_tls_error(p.t[1]));

	pair_send(&p, 1, "220 localhost ESMTP\r\n");
	pair_send(&p, 0, "EHLO client.test\r\n");
	pair_send(&p, 1, "250 ok\r\n");
	assert_int_equal(smtprobe_tls_pending(p.t[0]), 0);
	assert_int_equal(smtprobe_tls_pending(p.t[1]), 0);

	smtprobe_tls_get_facts(p.t[0], &cf);
	assert_string_equal(cf.protocol, c->protocol);
	assert_true(cf.cipher[0] != '\0');
	assert_true(cf.group[0] != '\0');
	assert_int_equal(cf.verify_ok, 1);
	assert_int_equal(cf.verify_code, 0);
	assert_int_equal(cf.host_checked, 1);
	assert_int_equal(cf.host_match, 1);
	assert_int_equal(cf.nchain, 2);
	assert_string_equal(cf.chain[0].subject, "CN=localhost");
	assert_string_equal(cf.chain[0].sans,
	                    "DNS:localhost, IP:127.0.0.1, IP:::1");
	assert_string_equal(cf.chain[0].key_type, "EC");
	assert_int_equal(cf.chain[0].key_bits, 256);
	assert_int_equal(cf.chain[0].self_signed, 0);
	assert_true(cf.chain[0].days_left >= 29 && cf.chain[0].days_left <= 30);
	assert_string_equal(cf.chain[0].issuer, cf.chain[1].subject);
	assert_memory_equal(cf.chain[1].subject, "CN=smtprobe serve CA ", 21);
	assert_int_equal(cf.chain[1].self_signed, 1);

	smtprobe_tls_get_facts(p.t[1], &sf);
	assert_string_equal(sf.protocol, c->protocol);
	assert_string_equal(sf.cipher, cf.cipher);
	assert_string_equal(sf.group, cf.group);
	assert_string_equal(sf.sni, c->server_sni);
	assert_int_equal(sf.verify_ok, 0);
	assert_string_equal(sf.verify_reason, "no client certificate");
	assert_int_equal(sf.nchain, 0);
	assert_int_equal(sf.host_checked, 0);
	pair_close(&p);
}

static void test_handshake_localhost(void **state)
{
	static const struct hs_case c = {"localhost", "localhost", "localhost",
	                                 FILES_PLAIN, NULL,        "TLSv1.3"};

	(void)state;
	check_handshake(&c);
}

static void test_handshake_ipv4(void **state)
{
	/* An IP literal is never sent as SNI. */
	static const struct hs_case c = {"127.0.0.1", "127.0.0.1", "",
	                                 FILES_PLAIN, NULL,        "TLSv1.3"};

	(void)state;
	check_handshake(&c);
}

static void test_handshake_ipv6_chain_file(void **state)
{
	static const struct hs_case c = {"[::1]",     NULL, "",
	                                 FILES_CHAIN, NULL, "TLSv1.3"};

	(void)state;
	check_handshake(&c);
}

static void test_handshake_tls12_combined(void **state)
{
	static const struct hs_case c = {"localhost", "localhost",
	                                 "localhost", FILES_COMBINED,
	                                 "TLSv1.2",   "TLSv1.2"};

	(void)state;
	check_handshake(&c);
}

static void test_handshake_old_client(void **state)
{
	struct smtprobe_tls_server *srv;
	struct smtprobe_tls_opts o;
	struct smtprobe_tls_facts sf;
	struct pair p;
	char ca[PATHSZ];

	(void)state;
	path_in(ca, dir_a, "ca.pem");
	srv = server_a(NULL, NULL);
	memset(&o, 0, sizeof(o));
	o.verify_host = "localhost";
	o.ca_file = ca;
	o.max_proto = "TLSv1.1";
	pair_open(&p, srv, &o);
	pair_handshake(&p);
	assert_int_equal(p.rc[0], SMTPROBE_TLS_ERR);
	assert_int_equal(p.rc[1], SMTPROBE_TLS_ERR);
	assert_string_equal(smtprobe_tls_error(p.t[0]),
	                    "tls handshake failed: tlsv1 alert protocol "
	                    "version");
	assert_string_equal(smtprobe_tls_error(p.t[1]),
	                    "tls handshake failed: unsupported protocol");
	smtprobe_tls_get_facts(p.t[1], &sf);
	assert_string_equal(sf.protocol, "");
	assert_int_equal(sf.verify_ok, 0);
	pair_close(&p);
	smtprobe_tls_server_free(srv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_generate_files),
	        cmocka_unit_test(test_generate_reuse),
	        cmocka_unit_test(test_generate_regenerate),
	        cmocka_unit_test(test_generate_errors),
	        cmocka_unit_test(test_server_errors),
	        cmocka_unit_test(test_handshake_localhost),
	        cmocka_unit_test(test_handshake_ipv4),
	        cmocka_unit_test(test_handshake_ipv6_chain_file),
	        cmocka_unit_test(test_handshake_tls12_combined),
	        cmocka_unit_test(test_handshake_old_client),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("tls_server", tests, group_setup,
	                                   group_teardown);
}
