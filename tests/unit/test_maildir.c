/* test_maildir.c - storing messages: files land in new/ (never left in
 * tmp/), their bytes are the prepended headers plus the message exactly,
 * the envelope JSON parses and says what was stored, names are unique
 * (also across threads), and a store that cannot be done fails with a
 * reason and leaves nothing behind. The tests run as root, where file
 * modes do not stop writes, so failures are made with a path whose parent
 * is a regular file and with directories removed under an open maildir. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include "maildir.h"
#include "smtprobe/message.h"

#include "banned.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define NSTORE   100
#define NTHREAD  4

static const char *const rcpts[] = {"r1@example.org", "r2@example.org"};

static const char msg_text[] = "From: a@example.com\r\n"
                               "Subject: test\r\n"
                               "\r\n"
                               "Hello.\r\n"
                               ".leading dot, unstuffed\r\n";

static void path_join(char *out, size_t outsz, const char *a, const char *b,
                      const char *c)
{
	int n = snprintf(out, outsz, "%s/%s%s%s", a, b, c[0] ? "/" : "", c);

	assert_true(n > 0 && (size_t)n < outsz);
}

/* Remove a tree we made (two levels are all a maildir has). */
static void rm_tree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;

	if (d == NULL) {
		unlink(path);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		char sub[1024];

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		path_join(sub, sizeof(sub), path, e->d_name, "");
		rm_tree(sub);
	}
	closedir(d);
	rmdir(path);
}

static size_t count_entries(const char *dir, const char *sub)
{
	char path[1024];
	DIR *d;
	struct dirent *e;
	size_t n = 0;

	path_join(path, sizeof(path), dir, sub, "");
	d = opendir(path);
	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static int setup(void **state)
{
	char tmpl[] = "/tmp/test_maildir.XXXXXX";
	char *dir = mkdtemp(tmpl);

	if (dir == NULL)
		return -1;
	*state = strdup(dir);
	return *state == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	rm_tree(*state);
	free(*state);
	return 0;
}

static struct srv_envelope full_env(void)
{
	struct srv_envelope e = {
	        .listener = "127.0.0.1:2525/starttls",
	        .client = "127.0.0.1:40112",
	        .helo = "client.example",
	        .auth_user = "alice",
	        .mail_from = "a@example.com",
	        .rcpt = rcpts,
	        .nrcpt = 2,
	        .tls_protocol = "TLSv1.3",
	        .tls_cipher = "TLS_AES_256_GCM_SHA384",
	        .received = 1795374000, /* 2026-11-22 19:00:00 UTC */
	};

	return e;
}

static void check_message(const char *dir, const char *id, const char *want_hdr,
                          const char *msg, size_t len)
{
	char path[1024];
	size_t n, hl = strlen(want_hdr);
	char *got;

	path_join(path, sizeof(path), dir, "new", id);
	got = read_file(path, &n);
	assert_int_equal(n, hl + len);
	assert_memory_equal(got, want_hdr, hl);
	if (len > 0)
		assert_memory_equal(got + hl, msg, len);
	free(got);
	path_join(path, sizeof(path), dir, "tmp", id);
	assert_int_equal(access(path, F_OK), -1);
}

static json_t *load_envelope(const char *dir, const char *id)
{
	char path[1024], name[512];
	json_error_t jerr;
	json_t *j;

	snprintf(name, sizeof(name), "%s.json", id);
	path_join(path, sizeof(path), dir, "envelopes", name);
	j = json_load_file(path, 0, &jerr);
	if (j == NULL)
		fail_msg("envelope %s: %s", path, jerr.text);
	assert_true(json_is_object(j));
	return j;
}

static const char *jget(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	assert_non_null(v);
	assert_true(json_is_string(v));
	return json_string_value(v);
}

static void store_full(void **state, int durable)
{
	const char *dir = *state;
	struct srv_envelope env = full_env();
	struct srv_maildir *m;
	char id[256], err[256], hdr[1024], date[64];
	json_t *j, *r, *tls;

	assert_int_equal(srv_maildir_open(&m, dir, durable, err, sizeof(err)),
	                 0);
	assert_int_equal(srv_maildir_store(m, &env, msg_text,
	                                   sizeof(msg_text) - 1, id, sizeof(id),
	                                   err, sizeof(err)),
	                 0);
	srv_maildir_close(m);

	smtprobe_rfc5322_date(env.received, date, sizeof(date));
	snprintf(hdr, sizeof(hdr),
	         "Return-Path: <a@example.com>\r\n"
	         "Received: from client.example (127.0.0.1:40112) by smtprobe "
	         "with ESMTPSA id %s for <r1@example.org>; %s\r\n",
	         id, date);
	check_message(dir, id, hdr, msg_text, sizeof(msg_text) - 1);
	assert_int_equal(count_entries(dir, "new"), 1);
	assert_int_equal(count_entries(dir, "tmp"), 0);
	assert_int_equal(count_entries(dir, "cur"), 0);
	assert_int_equal(count_entries(dir, "envelopes"), 1);

	j = load_envelope(dir, id);
	assert_string_equal(jget(j, "listener"), "127.0.0.1:2525/starttls");
	assert_string_equal(jget(j, "client"), "127.0.0.1:40112");
	assert_string_equal(jget(j, "helo"), "client.example");
	assert_string_equal(jget(j, "auth_user"), "alice");
	assert_string_equal(jget(j, "mail_from"), "a@example.com");
	assert_string_equal(jget(j, "received"), "2026-11-22T19:00:00Z");
	assert_string_equal(jget(j, "id"), id);
	assert_int_equal(json_integer_value(json_object_get(j, "size")),
	                 sizeof(msg_text) - 1);
	r = json_object_get(j, "rcpt");
	assert_true(json_is_array(r));
	assert_int_equal(json_array_size(r), 2);
	assert_string_equal(json_string_value(json_array_get(r, 0)),
	                    "r1@example.org");
	assert_string_equal(json_string_value(json_array_get(r, 1)),
	                    "r2@example.org");
	tls = json_object_get(j, "tls");
	assert_true(json_is_object(tls));
	assert_string_equal(jget(tls, "protocol"), "TLSv1.3");
	assert_string_equal(jget(tls, "cipher"), "TLS_AES_256_GCM_SHA384");
	json_decref(j);
}

static void test_store_durable(void **state)
{
	store_full(state, 1);
}

static void test_store_not_durable(void **state)
{
	store_full(state, 0);
}

/* No TLS, no AUTH, the null sender, no recipient, an empty message. */
static void test_store_plain(void **state)
{
	const char *dir = *state;
	struct srv_envelope env = {
	        .listener = "[::1]:25",
	        .client = "[::1]:5555",
	        .helo = "[::1]",
	        .mail_from = "",
	        .received = 0,
	};
	struct srv_maildir *m;
	char id[256], err[256], hdr[1024], date[64];
	json_t *j;

	assert_int_equal(srv_maildir_open(&m, dir, 1, err, sizeof(err)), 0);
	assert_int_equal(srv_maildir_store(m, &env, "", 0, id, sizeof(id), err,
	                                   sizeof(err)),
	                 0);
	srv_maildir_close(m);
	smtprobe_rfc5322_date(0, date, sizeof(date));
	snprintf(hdr, sizeof(hdr),
	         "Return-Path: <>\r\n"
	         "Received: from [::1] ([::1]:5555) by smtprobe with ESMTP id "
	         "%s; %s\r\n",
	         id, date);
	check_message(dir, id, hdr, "", 0);
	j = load_envelope(dir, id);
	assert_true(json_is_null(json_object_get(j, "auth_user")));
	assert_true(json_is_null(json_object_get(j, "tls")));
	assert_string_equal(jget(j, "mail_from"), "");
	assert_string_equal(jget(j, "received"), "1970-01-01T00:00:00Z");
	assert_int_equal(json_array_size(json_object_get(j, "rcpt")), 0);
	assert_int_equal(json_integer_value(json_object_get(j, "size")), 0);
	json_decref(j);
}

/* CR LF in network text must not become a header of its own; bytes that
 * are not UTF-8 must not break the JSON. */
static void test_store_hostile(void **state)
{
	const char *dir = *state;
	static const char *const bad_rcpt[] = {"x@y\r\nBcc: z@w"};
	struct srv_envelope env = full_env();
	struct srv_maildir *m;
	char id[256], err[256], path[1024];
	size_t n;
	char *got;
	json_t *j;

	env.helo = "evil\r\nX-Injected: yes \xff\xfe";
	env.rcpt = bad_rcpt;
	env.nrcpt = 1;
	assert_int_equal(srv_maildir_open(&m, dir, 0, err, sizeof(err)), 0);
	assert_int_equal(srv_maildir_store(m, &env, "x\r\n", 3, id, sizeof(id),
	                                   err, sizeof(err)),
	                 0);
	srv_maildir_close(m);
	path_join(path, sizeof(path), dir, "new", id);
	got = read_file(path, &n);
	assert_null(strstr(got, "\r\nX-Injected"));
	assert_null(strstr(got, "\r\nBcc"));
	assert_non_null(strstr(got, "from evil??X-Injected: yes \xff\xfe ("));
	assert_non_null(strstr(got, "for <x@y??Bcc: z@w>;"));
	free(got);
	j = load_envelope(dir, id);
	assert_string_equal(jget(j, "helo"),
	                    "evil\\r\\nX-Injected: yes \\xff\\xfe");
	assert_string_equal(json_string_value(json_array_get(
	                            json_object_get(j, "rcpt"), 0)),
	                    "x@y\r\nBcc: z@w");
	json_decref(j);
}

static void test_store_large(void **state)
{
	const char *dir = *state;
	struct srv_envelope env = full_env();
	struct srv_maildir *m;
	char id[256], err[256], path[1024];
	size_t len = 3 * 1024 * 1024 + 7, n, i;
	char *msg = malloc(len), *got;

	assert_non_null(msg);
	for (i = 0; i < len; i++)
		msg[i] = (char)(i * 7 + 3);
	assert_int_equal(srv_maildir_open(&m, dir, 1, err, sizeof(err)), 0);
	assert_int_equal(srv_maildir_store(m, &env, msg, len, id, sizeof(id),
	                                   err, sizeof(err)),
	                 0);
	srv_maildir_close(m);
	path_join(path, sizeof(path), dir, "new", id);
	got = read_file(path, &n);
	assert_true(n > len);
	assert_memory_equal(got + (n - len), msg, len);
	free(got);
	free(msg);
}

static void test_unique_names(void **state)
{
	const char *dir = *state;
	struct srv_envelope env = full_env();
	struct srv_maildir *m;
	char(*ids)[256] = calloc(NSTORE, sizeof(*ids));
	char err[256];
	regex_t re;
	size_t i, k;

	assert_non_null(ids);
	assert_int_equal(regcomp(&re,
	                         "^[0-9]+\\.M[0-9]+P[0-9]+Q[0-9]+\\.[^/:]+$",
	                         REG_EXTENDED | REG_NOSUB),
	                 0);
	assert_int_equal(srv_maildir_open(&m, dir, 0, err, sizeof(err)), 0);
	for (i = 0; i < NSTORE; i++) {
		assert_int_equal(srv_maildir_store(m, &env, "x\r\n", 3, ids[i],
		                                   sizeof(ids[i]), err,
		                                   sizeof(err)),
		                 0);
		if (regexec(&re, ids[i], 0, NULL, 0) != 0)
			fail_msg("bad unique name %s", ids[i]);
		for (k = 0; k < i; k++)
			assert_string_not_equal(ids[i], ids[k]);
	}
	srv_maildir_close(m);
	regfree(&re);
	assert_int_equal(count_entries(dir, "new"), NSTORE);
	assert_int_equal(count_entries(dir, "envelopes"), NSTORE);
	assert_int_equal(count_entries(dir, "tmp"), 0);
	free(ids);
}

struct worker {
	struct srv_maildir *m;
	int failed;
};

static void *store_many(void *arg)
{
	struct worker *w = arg;
	struct srv_envelope env = full_env();
	char id[256], err[256];

	for (int i = 0; i < NSTORE / NTHREAD; i++)
		if (srv_maildir_store(w->m, &env, "x\r\n", 3, id, sizeof(id),
		                      err, sizeof(err)) != 0)
			w->failed++;
	return NULL;
}

static void test_threads(void **state)
{
	const char *dir = *state;
	struct worker w[NTHREAD];
	pthread_t t[NTHREAD];
	struct srv_maildir *m;
	char err[256];
	int i;

	assert_int_equal(srv_maildir_open(&m, dir, 1, err, sizeof(err)), 0);
	for (i = 0; i < NTHREAD; i++) {
		w[i].m = m;
		w[i].failed = 0;
		assert_int_equal(pthread_create(&t[i], NULL, store_many, &w[i]),
		                 0);
	}
	for (i = 0; i < NTHREAD; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].failed, 0);
	}
	srv_maildir_close(m);
	assert_int_equal(count_entries(dir, "new"),
	                 NTHREAD * (NSTORE / NTHREAD));
	assert_int_equal(count_entries(dir, "envelopes"),
	                 NTHREAD * (NSTORE / NTHREAD));
}

/* Missing levels are created, and an existing maildir opens again. */
static void test_open_nested(void **state)
{
	const char *dir = *state;
	struct srv_maildir *m;
	char path[1024], err[256], sub[1100];
	struct stat st;

	path_join(path, sizeof(path), dir, "a/b", "c");
	for (int round = 0; round < 2; round++) {
		assert_int_equal(
		        srv_maildir_open(&m, path, 1, err, sizeof(err)), 0);
		srv_maildir_close(m);
	}
	for (size_t i = 0; i < 4; i++) {
		static const char *const subs[] = {"tmp", "new", "cur",
		                                   "envelopes"};

		path_join(sub, sizeof(sub), path, subs[i], "");
		assert_int_equal(stat(sub, &st), 0);
		assert_true(S_ISDIR(st.st_mode));
		assert_int_equal(st.st_mode & 0777, 0700);
	}
}

static void make_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	close(fd);
}

/* A maildir whose parent, or which itself, is a regular file. */
static void test_open_fails(void **state)
{
	const char *dir = *state;
	struct srv_maildir *m = (struct srv_maildir *)&m;
	char file[1024], path[1100], err[256], want[1200];

	path_join(file, sizeof(file), dir, "file", "");
	make_file(file);
	path_join(path, sizeof(path), file, "md", "");
	assert_int_equal(srv_maildir_open(&m, path, 1, err, sizeof(err)), -1);
	assert_null(m);
	snprintf(want, sizeof(want), "cannot create %s: Not a directory", path);
	assert_string_equal(err, want);

	assert_int_equal(srv_maildir_open(&m, file, 1, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "cannot open %s: Not a directory", file);
	assert_string_equal(err, want);

	assert_int_equal(srv_maildir_open(&m, "", 1, err, sizeof(err)), -1);
	assert_string_equal(err, "maildir path empty");
	assert_int_equal(count_entries(dir, ""), 1);
}

/* Directories removed under an open maildir: the store fails at the
 * envelope or at the message, and nothing is left anywhere. */
static void test_store_fails(void **state)
{
	static const char *const gone[] = {"envelopes", "tmp", "new"};
	static const char *const what[] = {"create", "create", "rename"};
	static const char *const where[] = {"envelopes/.", "tmp/", "tmp/"};
	const char *dir = *state;
	struct srv_envelope env = full_env();

	for (size_t i = 0; i < NELEM(gone); i++) {
		struct srv_maildir *m;
		char md[1024], sub[1100], id[256] = "unchanged", err[256];
		char w[1400];

		snprintf(md, sizeof(md), "%s/md%zu", dir, i);
		assert_int_equal(srv_maildir_open(&m, md, 1, err, sizeof(err)),
		                 0);
		path_join(sub, sizeof(sub), md, gone[i], "");
		assert_int_equal(rmdir(sub), 0);
		assert_int_equal(srv_maildir_store(m, &env, msg_text,
		                                   sizeof(msg_text) - 1, id,
		                                   sizeof(id), err,
		                                   sizeof(err)),
		                 -1);
		assert_string_equal(id, "unchanged");
		/* the reason names the file (its name is the unique id) */
		snprintf(w, sizeof(w), "cannot %s %s/%s", what[i], md,
		         where[i]);
		if (strncmp(err, w, strlen(w)) != 0)
			fail_msg("%s, want %s...", err, w);
		assert_non_null(strstr(err, ": No such file or directory"));
		srv_maildir_close(m);
		assert_int_equal(count_entries(md, "envelopes"), 0);
		assert_int_equal(count_entries(md, "tmp"), 0);
		assert_int_equal(count_entries(md, "new"), 0);
	}
}

static void test_small_id_buffer(void **state)
{
	const char *dir = *state;
	struct srv_envelope env = full_env();
	struct srv_maildir *m;
	char id[8], err[256];

	assert_int_equal(srv_maildir_open(&m, dir, 0, err, sizeof(err)), 0);
	assert_int_equal(srv_maildir_store(m, &env, "x", 1, id, sizeof(id), err,
	                                   sizeof(err)),
	                 -1);
	assert_string_equal(err, "id buffer too small");
	srv_maildir_close(m);
	assert_int_equal(count_entries(dir, "new"), 0);
	assert_int_equal(count_entries(dir, "envelopes"), 0);
	assert_int_equal(count_entries(dir, "tmp"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_store_durable, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_store_not_durable, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_store_plain, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_store_hostile, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_store_large, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_unique_names, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_open_nested, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_open_fails, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_store_fails, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_small_id_buffer, setup,
	                                        teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
