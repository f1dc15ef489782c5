/* tls_cert.c - a throwaway CA and a server certificate for `smtprobe
 * serve` (the server context that uses them is in tls_server.c).
 *
 * Generation writes ca.pem, ca.key, server.pem (leaf then CA) and
 * server.key in a directory it creates (0700) when missing; keys are 0600,
 * certificates 0644. Every file is written to NAME.tmp and renamed, under
 * an flock on the directory, so a reader never sees half a file and two
 * generators do not mix their sets. Files are reused when server.pem's
 * leaf is signed by ca.pem, matches server.key, both certificates are
 * valid for at least one more day and the leaf's subjectAltName lists every
 * name asked for (DNS names without case, IP literals by address); anything
 * else regenerates all four files. So days = 1 regenerates on every call.
 *
 * Diagnostics: lower-case messages in the caller's buffer, with OpenSSL's
 * or the system's reason: "cannot create directory '/d': permission
 * denied", "cannot write '/d/ca.pem': no space left on device", "invalid
 * name for a certificate 'a b'". File and host names are escaped.
 *
 * Limits: at most TLS_SRV_MAX_NAMES names of at most 253 characters (DNS:
 * letters, digits, '-', '_', '.', a leading "*." wildcard; or an IPv4 /
 * IPv6 literal, IPv6 optionally in brackets); 1 to TLS_SRV_MAX_DAYS days. A
 * first name longer than a common name may be (64) leaves the CN "smtprobe
 * serve"; the SAN carries the names anyway. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "smtprobe/tls.h"
#include "tls_int.h"

#include "banned.h"

#define TLS_SRV_MAX_NAMES  64
#define TLS_SRV_MAX_NAME   253
#define TLS_SRV_MAX_DAYS   36500U
#define TLS_SRV_MAX_CN     64 /* ub_common_name, RFC 5280 */
#define TLS_SRV_SERIAL_LEN 16 /* 128 bits */
#define TLS_SRV_DAY        (24L * 60 * 60)

enum gen_file { GEN_CA_PEM, GEN_CA_KEY, GEN_SRV_PEM, GEN_SRV_KEY, GEN_LAST };

static const struct gen_file_info {
	const char *name;
	mode_t mode;
} gen_files[GEN_LAST] = {
        [GEN_CA_PEM] = {"ca.pem", 0644},
        [GEN_CA_KEY] = {"ca.key", 0600},
        [GEN_SRV_PEM] = {"server.pem", 0644},
        [GEN_SRV_KEY] = {"server.key", 0600},
};

/* A name to certify, checked and split into its SAN form. */
struct gen_name {
	char text[TLS_SRV_MAX_NAME + 1]; /* IPv6 without brackets */
	int is_ip;
};

struct gen {
	char path[GEN_LAST][PATH_MAX];
	char tmp[GEN_LAST][PATH_MAX];
	struct gen_name names[TLS_SRV_MAX_NAMES];
	size_t nnames;
	char *err;
	size_t errsz;
};

static void sys_err(struct gen *g, const char *what, const char *file, int e)
{
	char name[128];
	char reason[128];

	tls__escape_str(name, sizeof(name), file);
	tls__escape_str(reason, sizeof(reason), strerror(e));
	tls__lower_first(reason);
	tls__fmt(g->err, g->errsz, "%s '%s': %s", what, name, reason);
}

/* Letters, digits, '-' and '_' in labels separated by single dots, or a
 * leading "*." wildcard label. */
static int valid_dns_name(const char *s)
{
	size_t label = 0;
	size_t i;

	if (s[0] == '*' && s[1] == '.')
		s += 2;
	for (i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0;
}

static int check_names(struct gen *g, const char *const *names, size_t nnames)
{
	size_t i;

	if (names == NULL || nnames == 0) {
		tls__fmt(g->err, g->errsz, "no name to certify");
		return -1;
	}
	if (nnames > TLS_SRV_MAX_NAMES) {
		tls__fmt(g->err, g->errsz,
		         "too many names to certify (%zu, at most %d)", nnames,
		         TLS_SRV_MAX_NAMES);
		return -1;
	}
	for (i = 0; i < nnames; i++) {
		struct gen_name *n = &g->names[i];
		const char *s = names[i] ? names[i] : "";
		int ok = strlen(s) <= TLS_SRV_MAX_NAME &&
		         tls__unbracket(n->text, sizeof(n->text), s) == 0;

		n->is_ip = ok && tls__is_ip_literal(n->text);
		/* Brackets only around an IPv6 literal. */
		if (!ok ||
		    (!n->is_ip && (s[0] == '[' || !valid_dns_name(n->text)))) {
			char name[128];

			tls__escape_str(name, sizeof(name), s);
			tls__fmt(g->err, g->errsz,
			         "invalid name for a certificate '%s'", name);
			return -1;
		}
	}
	g->nnames = nnames;
	return 0;
}

static int set_paths(struct gen *g, const char *dir)
{
	size_t len = strlen(dir);
	int i;

	/* Messages show "d/ca.pem", not "d//ca.pem". */
	while (len > 1 && dir[len - 1] == '/')
		len--;
	for (i = 0; i < GEN_LAST; i++) {
		int n = snprintf(g->path[i], sizeof(g->path[i]), "%.*s/%s",
		                 (int)len, dir, gen_files[i].name);
		int m = snprintf(g->tmp[i], sizeof(g->tmp[i]), "%s.tmp",
		                 g->path[i]);

		if (n < 0 || m < 0 || (size_t)m >= sizeof(g->tmp[i])) {
			sys_err(g, "cannot use directory", dir, ENAMETOOLONG);
			return -1;
		}
	}
	return 0;
}

/* mkdir -p: parents as the umask says, the directory itself 0700 since it
 * holds private keys. An existing directory is left as it is. */
static int make_dir(struct gen *g, const char *dir)
{
	char buf[PATH_MAX];
	struct stat st;
	size_t len = strlen(dir);
	size_t i;

	if (len == 0 || len >= sizeof(buf)) {
		sys_err(g, "cannot create directory", dir,
		        len ? ENAMETOOLONG : ENOENT);
		return -1;
	}
	if (stat(dir, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return 0;
		sys_err(g, "cannot create directory", dir, ENOTDIR);
		return -1;
	}
	memcpy(buf, dir, len + 1);
	for (i = 1; i < len; i++) {
		if (buf[i] != '/' || buf[i - 1] == '/')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
			sys_err(g, "cannot create directory", dir, errno);
			return -1;
		}
		buf[i] = '/';
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		sys_err(g, "cannot create directory", dir, errno);
		return -1;
	}
	return 0;
}

static X509 *read_cert(const char *path)
{
	BIO *bio = BIO_new_file(path, "r");
	X509 *x = NULL;

	if (bio != NULL)
		x = PEM_read_bio_X509(bio, NULL, tls__no_passphrase, NULL);
	BIO_free(bio);
	return x;
}

static EVP_PKEY *read_key(const char *path)
{
	BIO *bio = BIO_new_file(path, "r");
	EVP_PKEY *k = NULL;

	if (bio != NULL)
		k = PEM_read_bio_PrivateKey(bio, NULL, tls__no_passphrase,
		                            NULL);
	BIO_free(bio);
	return k;
}

/* Valid now and still for at least a day. */
static int valid_for_a_day(const X509 *x)
{
	time_t now = time(NULL);
	time_t later = now + TLS_SRV_DAY;

	return X509_cmp_time(X509_get0_notBefore(x), &now) < 0 &&
	       X509_cmp_time(X509_get0_notAfter(x), &later) > 0;
}

static int san_has(const GENERAL_NAMES *gens, const struct gen_name *n)
{
	unsigned char ip[16];
	size_t iplen = 0;
	size_t len = strlen(n->text);
	int i;

	if (n->is_ip && inet_pton(AF_INET, n->text, ip) == 1)
		iplen = 4;
	else if (n->is_ip && inet_pton(AF_INET6, n->text, ip) == 1)
		iplen = 16;
	else if (n->is_ip)
		return 0;
	for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(gens, i);
		const ASN1_STRING *s;

		if (n->is_ip && gn->type == GEN_IPADD) {
			s = gn->d.iPAddress;
			if ((size_t)ASN1_STRING_length(s) == iplen &&
			    memcmp(ASN1_STRING_get0_data(s), ip, iplen) == 0)
				return 1;
		} else if (!n->is_ip && gn->type == GEN_DNS) {
			s = gn->d.dNSName;
			if ((size_t)ASN1_STRING_length(s) == len &&
			    strncasecmp((const char *)ASN1_STRING_get0_data(s),
			                n->text, len) == 0)
				return 1;
		}
	}
	return 0;
}

/* Every name asked for is in the leaf's subjectAltName, literally: a
 * wildcard in the certificate does not stand for a name asked for. */
static int covers(const struct gen *g, X509 *leaf)
{
	GENERAL_NAMES *gens =
	        X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
	size_t i;
	int ok = gens != NULL;

	for (i = 0; ok && i < g->nnames; i++)
		ok = san_has(gens, &g->names[i]);
	GENERAL_NAMES_free(gens);
	return ok;
}

static int reusable(const struct gen *g)
{
	X509 *ca = read_cert(g->path[GEN_CA_PEM]);
	X509 *leaf = read_cert(g->path[GEN_SRV_PEM]);
	EVP_PKEY *key = read_key(g->path[GEN_SRV_KEY]);
	int ok;

	ok = ca != NULL && leaf != NULL && key != NULL &&
	     X509_check_issued(ca, leaf) == X509_V_OK &&
	     X509_verify(leaf, X509_get0_pubkey(ca)) == 1 &&
	     X509_check_private_key(leaf, key) == 1 && valid_for_a_day(ca) &&
	     valid_for_a_day(leaf) && covers(g, leaf);
	X509_free(ca);
	X509_free(leaf);
	EVP_PKEY_free(key);
	ERR_clear_error();
	return ok;
}

static int set_serial(X509 *x)
{
	unsigned char b[TLS_SRV_SERIAL_LEN];
	BIGNUM *bn;
	int ok;

	if (RAND_bytes(b, sizeof(b)) != 1)
		return 0;
	/* Positive, and a full 16 bytes long. */
	b[0] = (unsigned char)((b[0] & 0x7f) | 0x40);
	bn = BN_bin2bn(b, sizeof(b), NULL);
	ok = bn != NULL &&
	     BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	return ok;
}

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (ext == NULL)
		return 0;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

/* A certificate with the common fields; issuer NULL = self-signed. */
static X509 *new_cert(EVP_PKEY *key, const char *cn, X509 *issuer,
                      unsigned days)
{
	X509 *x = X509_new();
	X509_NAME *subj;

	if (x == NULL)
		return NULL;
	subj = X509_get_subject_name(x);
	/* A day's margin before now would be too kind to a wrong clock; an
	 * hour is enough for the usual skew between two machines. */
	if (!X509_set_version(x, X509_VERSION_3) || !set_serial(x) ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), (int)days, 0, NULL) ==
	            NULL ||
	    !X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_ASC,
	                                (const unsigned char *)cn, -1, -1, 0) ||
	    !X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer)
	                                    : subj) ||
	    !X509_set_pubkey(x, key)) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* "smtprobe serve CA <hostname> <date>", the host name cut to fit a
 * common name and kept to printable ASCII. */
static void ca_name(char *dst, size_t dstsz)
{
	char host[256];
	char date[16];
	struct tm tm;
	time_t now = time(NULL);
	size_t i;
	int room;

	if (gethostname(host, sizeof(host)) != 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	for (i = 0; host[i] != '\0'; i++)
		if (host[i] <= ' ' || host[i] >= 0x7f)
			host[i] = '?';
	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(date, sizeof(date), "%Y-%m-%d", &tm) == 0)
		date[0] = '\0';
	room = TLS_SRV_MAX_CN - (int)(sizeof("smtprobe serve CA  ") - 1) -
	       (int)strlen(date);
	snprintf(dst, dstsz, "smtprobe serve CA %.*s %s", room, host, date);
}

static X509 *make_ca(EVP_PKEY *key, unsigned days)
{
	char cn[TLS_SRV_MAX_CN + 1];
	X509 *x;

	ca_name(cn, sizeof(cn));
	x = new_cert(key, cn, NULL, days);
	if (x == NULL)
		return NULL;
	if (!add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE") ||
	    !add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") ||
	    !add_ext(x, x, NID_subject_key_identifier, "hash") ||
	    !X509_sign(x, key, EVP_sha256())) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static GENERAL_NAME *san_entry(const struct gen_name *n)
{
	GENERAL_NAME *gn = GENERAL_NAME_new();

	if (gn == NULL)
		return NULL;
	if (n->is_ip) {
		ASN1_OCTET_STRING *ip = a2i_IPADDRESS(n->text);

		if (ip == NULL) {
			GENERAL_NAME_free(gn);
			return NULL;
		}
		GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
	} else {
		ASN1_IA5STRING *s = ASN1_IA5STRING_new();

		if (s == NULL || !ASN1_STRING_set(s, n->text, -1)) {
			ASN1_IA5STRING_free(s);
			GENERAL_NAME_free(gn);
			return NULL;
		}
		GENERAL_NAME_set0_value(gn, GEN_DNS, s);
	}
	return gn;
}

/* Built as a GENERAL_NAMES rather than an "DNS:a,IP:b" string so no name
 * is ever parsed as configuration. */
static int add_sans(X509 *x, const struct gen *g)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	size_t i;
	int ok = gens != NULL;

	for (i = 0; ok && i < g->nnames; i++) {
		GENERAL_NAME *gn = san_entry(&g->names[i]);

		ok = gn != NULL && sk_GENERAL_NAME_push(gens, gn) > 0;
		if (!ok)
			GENERAL_NAME_free(gn);
	}
	ok = ok && X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0,
	                             X509V3_ADD_DEFAULT) == 1;
	GENERAL_NAMES_free(gens);
	return ok;
}

static X509 *make_leaf(const struct gen *g, EVP_PKEY *key, X509 *ca,
                       EVP_PKEY *ca_key, unsigned days)
{
	const char *cn = g->names[0].text;
	X509 *x;

	if (strlen(cn) > TLS_SRV_MAX_CN)
		cn = "smtprobe serve";
	x = new_cert(key, cn, ca, days);
	if (x == NULL)
		return NULL;
	if (!add_ext(x, ca, NID_basic_constraints, "critical,CA:FALSE") ||
	    !add_ext(x, ca, NID_key_usage, "critical,digitalSignature") ||
	    !add_ext(x, ca, NID_ext_key_usage, "serverAuth") ||
	    !add_ext(x, ca, NID_subject_key_identifier, "hash") ||
	    !add_ext(x, ca, NID_authority_key_identifier, "keyid:always") ||
	    !add_sans(x, g) || !X509_sign(x, ca_key, EVP_sha256())) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* Writes the memory BIO's bytes to path, created anew with mode. */
static int write_bio(struct gen *g, const char *path, BIO *bio, mode_t mode)
{
	char *p = NULL;
	long len = BIO_get_mem_data(bio, &p);
	size_t off = 0;
	int fd;
	int e;

	(void)unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	          mode);
	if (fd < 0) {
		sys_err(g, "cannot write", path, errno);
		return -1;
	}
	/* Certificates are public whatever the umask says. */
	if (fchmod(fd, mode) != 0)
		goto fail;
	while (len > 0 && off < (size_t)len) {
		ssize_t n = write(fd, p + off, (size_t)len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		off += (size_t)n;
	}
	if (fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:
	e = errno ? errno : EIO;
	if (fd >= 0)
		close(fd);
	(void)unlink(path);
	sys_err(g, "cannot write", path, e);
	return -1;
}

/* PEM of the four files into bios[]; keys in secure memory, wiped when
 * freed. */
static int pem_all(BIO *bios[GEN_LAST], X509 *ca, EVP_PKEY *ca_key, X509 *leaf,
                   EVP_PKEY *key)
{
	int i;

	for (i = 0; i < GEN_LAST; i++) {
		bios[i] = BIO_new(gen_files[i].mode == 0600 ? BIO_s_secmem()
		                                            : BIO_s_mem());
		if (bios[i] == NULL)
			return 0;
	}
	return PEM_write_bio_X509(bios[GEN_CA_PEM], ca) &&
	       PEM_write_bio_PrivateKey(bios[GEN_CA_KEY], ca_key, NULL, NULL, 0,
	                                NULL, NULL) &&
	       PEM_write_bio_X509(bios[GEN_SRV_PEM], leaf) &&
	       PEM_write_bio_X509(bios[GEN_SRV_PEM], ca) &&
	       PEM_write_bio_PrivateKey(bios[GEN_SRV_KEY], key, NULL, NULL, 0,
	                                NULL, NULL);
}

/* Writes every NAME.tmp, then renames them, keys before their
 * certificates: a crash between two renames leaves a set that reusable()
 * rejects (key and certificate, or leaf and CA, do not match). */
static int write_all(struct gen *g, BIO *bios[GEN_LAST])
{
	static const enum gen_file order[GEN_LAST] = {GEN_CA_KEY, GEN_CA_PEM,
	                                              GEN_SRV_KEY, GEN_SRV_PEM};
	int i;

	for (i = 0; i < GEN_LAST; i++) {
		if (write_bio(g, g->tmp[i], bios[i], gen_files[i].mode) < 0) {
			while (i-- > 0)
				(void)unlink(g->tmp[i]);
			return -1;
		}
	}
	for (i = 0; i < GEN_LAST; i++) {
		enum gen_file f = order[i];

		if (rename(g->tmp[f], g->path[f]) != 0) {
			sys_err(g, "cannot write", g->path[f], errno);
			for (; i < GEN_LAST; i++)
				(void)unlink(g->tmp[order[i]]);
			return -1;
		}
	}
	return 0;
}

static int generate(struct gen *g, unsigned days)
{
	EVP_PKEY *ca_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *ca = NULL;
	X509 *leaf = NULL;
	BIO *bios[GEN_LAST] = {NULL};
	int rc = -1;
	int i;

	if (ca_key == NULL || key == NULL) {
		tls__format_err(g->err, g->errsz, "cannot generate a key",
		                "unknown error");
		goto out;
	}
	ca = make_ca(ca_key, days);
	leaf = ca ? make_leaf(g, key, ca, ca_key, days) : NULL;
	if (leaf == NULL) {
		tls__format_err(g->err, g->errsz,
		                "cannot make the certificates",
		                "unknown error");
		goto out;
	}
	if (!pem_all(bios, ca, ca_key, leaf, key)) {
		tls__format_err(g->err, g->errsz,
		                "cannot encode the certificates",
		                "out of memory");
		goto out;
	}
	rc = write_all(g, bios);
out:
	for (i = 0; i < GEN_LAST; i++)
		BIO_free(bios[i]);
	X509_free(leaf);
	X509_free(ca);
	EVP_PKEY_free(key);
	EVP_PKEY_free(ca_key);
	ERR_clear_error();
	return rc;
}

int smtprobe_tls_generate(const char *dir, const char *const *names,
                          size_t nnames, unsigned days, char *err, size_t errsz)
{
	struct gen *g;
	char dummy[8];
	int dfd;
	int rc = -1;

	if (err == NULL || errsz == 0) {
		err = dummy;
		errsz = sizeof(dummy);
	}
	err[0] = '\0';
	if (days < 1 || days > TLS_SRV_MAX_DAYS) {
		tls__fmt(err, errsz,
		         "certificate validity must be 1 to %u days",
		         TLS_SRV_MAX_DAYS);
		return -1;
	}
	/* PATH_MAX-sized paths do not belong on the stack. */
	g = calloc(1, sizeof(*g));
	if (g == NULL) {
		tls__fmt(err, errsz, "out of memory");
		return -1;
	}
	g->err = err;
	g->errsz = errsz;
	if (dir == NULL)
		dir = "";
	if (check_names(g, names, nnames) < 0 || make_dir(g, dir) < 0 ||
	    set_paths(g, dir) < 0)
		goto out;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		sys_err(g, "cannot use directory", dir, errno);
		goto out;
	}
	/* Two generators at once would otherwise mix their files. */
	while (flock(dfd, LOCK_EX) != 0 && errno == EINTR)
		;
	ERR_clear_error();
	rc = 0;
	if (!reusable(g)) {
		rc = generate(g, days);
		if (rc == 0)
			(void)fsync(dfd);
	}
	close(dfd); /* drops the lock */
out:
	free(g);
	return rc;
}
