/* test_store.c - the message store of `smtprobe serve` (server/store.h) in
 * both formats, on a real libuv loop and real files:
 * - what lands on disk: the Maildir's new/ID (Return-Path and Received
 *   prepended) and its envelopes.jsonl line; the spool's record (envelope
 *   line with size and CRC-32, then the message) - the same bytes whether
 *   durable or not, whether the message came in one piece or many, fitted
 *   its buffer or was streamed to a spill file;
 * - group commit: messages committed in one turn of the loop all get their
 *   callback, in order, in fewer batches than messages;
 * - an aborted message leaves nothing; a write that fails (RLIMIT_FSIZE
 *   makes write() fail with EFBIG) fails its commit with -errno and a
 *   reason naming the file, and leaves nothing in new/;
 * - recovery at open: Maildir tmp/ leftovers, envelopes without a message,
 *   garbage and a torn last line go; the spool is cut after its last
 *   intact record (torn, zero-filled or CRC-damaged tails);
 * - hostile envelope text: control bytes become '?' in the headers, bytes
 *   that are not UTF-8 are escaped in the JSON;
 * - opening fails with a reason naming the path.
 * The tests run as root, where file modes do not stop writes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>
#include <uv.h>
#include <zlib.h>

#include "store.h"
#include "store_index.h"
#include "smtprobe/message.h"

#include "banned.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *const rcpts[] = {"r1@example.org", "r2@example.org"};

static const char msg_text[] = "From: a@example.com\r\n"
                               "Subject: test\r\n"
                               "\r\n"
                               "Hello.\r\n"
                               ".leading dot, unstuffed\r\n";

struct fixture {
	char dir[256];
	uv_loop_t loop;
};

/* ---- helpers ------------------------------------------------------------ */

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
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		rm_tree(sub);
	}
	closedir(d);
	rmdir(path);
}

static size_t count_entries(const char *dir, const char *sub)
{
	char path[1024];
	struct dirent *e;
	size_t n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
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

	if (f == NULL)
		fail_msg("cannot read %s", path);
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

static void write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void append_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char tmpl[] = "/tmp/test_store.XXXXXX";

	if (f == NULL || mkdtemp(tmpl) == NULL || uv_loop_init(&f->loop) != 0)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s", tmpl);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	rm_tree(f->dir);
	free(f);
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

struct done {
	int calls;
	int rc;
	char id[STORE_ID_MAX];
	char err[256];
	int order; /* the order its callback ran in */
};

static int done_seq;

static void on_done(void *arg, int rc, const char *id, const char *err)
{
	struct done *d = arg;

	d->calls++;
	d->rc = rc;
	d->order = done_seq++;
	snprintf(d->id, sizeof(d->id), "%s", id);
	snprintf(d->err, sizeof(d->err), "%s", err ? err : "");
}

static struct srv_store *open_store(struct fixture *f, const char *sub,
                                    enum srv_store_format fmt, int durable,
                                    struct srv_store_recovery *rec)
{
	struct srv_store *st = NULL;
	char path[512], err[256];

	snprintf(path, sizeof(path), "%s/%s", f->dir, sub);
	if (srv_store_open(&st, &f->loop, fmt, path, durable, rec, err,
	                   sizeof(err)) != 0)
		fail_msg("open %s: %s", path, err);
	return st;
}

/* Store one message, written in pieces of `piece` bytes, and run the loop
 * until its callback. */
static void store_one(struct fixture *f, struct srv_store *st,
                      const struct srv_envelope *env, const char *msg,
                      size_t len, size_t piece, struct done *d)
{
	char err[256];
	struct srv_msg *m = srv_msg_begin(st, env, err, sizeof(err));

	if (m == NULL)
		fail_msg("begin: %s", err);
	int ok = 1;
	for (size_t o = 0; o < len && ok; o += piece) {
		size_t n = len - o < piece ? len - o : piece;
		ok = srv_msg_write(m, msg + o, n) == 0;
	}
	if (ok) /* a failed write is reported by the commit */
		assert_int_equal(srv_msg_size(m), len);
	memset(d, 0, sizeof(*d));
	srv_msg_commit(m, on_done, d);
	while (d->calls == 0)
		uv_run(&f->loop, UV_RUN_ONCE);
	assert_int_equal(d->calls, 1);
}

static const char *jget(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v))
		fail_msg("envelope: no string \"%s\"", key);
	return json_string_value(v);
}

static void check_full_envelope(json_t *j, const char *id, size_t size)
{
	json_t *r, *tls;

	assert_string_equal(jget(j, "id"), id);
	assert_string_equal(jget(j, "listener"), "127.0.0.1:2525/starttls");
	assert_string_equal(jget(j, "client"), "127.0.0.1:40112");
	assert_string_equal(jget(j, "helo"), "client.example");
	assert_string_equal(jget(j, "auth_user"), "alice");
	assert_string_equal(jget(j, "mail_from"), "a@example.com");
	assert_string_equal(jget(j, "received"), "2026-11-22T19:00:00Z");
	assert_int_equal(json_integer_value(json_object_get(j, "size")), size);
	r = json_object_get(j, "rcpt");
	assert_int_equal(json_array_size(r), 2);
	assert_string_equal(json_string_value(json_array_get(r, 0)),
	                    "r1@example.org");
	assert_string_equal(json_string_value(json_array_get(r, 1)),
	                    "r2@example.org");
	tls = json_object_get(j, "tls");
	assert_string_equal(jget(tls, "protocol"), "TLSv1.3");
	assert_string_equal(jget(tls, "cipher"), "TLS_AES_256_GCM_SHA384");
}

/* The Maildir's envelopes.jsonl, one JSON object per line. */
static size_t maildir_envelopes(const char *md, json_t **out, size_t max)
{
	char path[512];
	size_t len, n = 0;

	snprintf(path, sizeof(path), "%s/envelopes.jsonl", md);
	char *all = read_file(path, &len);
	for (char *p = all; p < all + len;) {
		char *nl = memchr(p, '\n', (size_t)(all + len - p));
		json_error_t jerr;
		assert_non_null(nl);
		assert_true(n < max);
		out[n] = json_loadb(p, (size_t)(nl - p), 0, &jerr);
		if (out[n] == NULL)
			fail_msg("%s: %s", path, jerr.text);
		n++;
		p = nl + 1;
	}
	free(all);
	return n;
}

/* The spool's records: envelopes in out, messages' bytes in msgs. */
static size_t spool_records(const char *sp, json_t **out, char **msgs,
                            size_t max)
{
	char path[512];
	size_t len, n = 0;

	snprintf(path, sizeof(path), "%s/messages.spool", sp);
	char *all = read_file(path, &len);
	for (size_t o = 0; o < len;) {
		char *nl = memchr(all + o, '\n', len - o);
		json_error_t jerr;
		assert_non_null(nl);
		assert_true(n < max);
		out[n] = json_loadb(all + o, (size_t)(nl - all - o), 0, &jerr);
		if (out[n] == NULL)
			fail_msg("%s: %s", path, jerr.text);
		size_t size = (size_t)json_integer_value(
		        json_object_get(out[n], "size"));
		size_t body = (size_t)(nl - all) + 1;
		assert_true(body + size <= len);
		assert_int_equal(
		        crc32(crc32(0L, Z_NULL, 0), (const Bytef *)all + body,
		              (uInt)size),
		        json_integer_value(json_object_get(out[n], "crc32")));
		msgs[n] = malloc(size + 1);
		assert_non_null(msgs[n]);
		memcpy(msgs[n], all + body, size);
		msgs[n][size] = '\0';
		o = body + size;
		n++;
	}
	free(all);
	return n;
}

/* ---- what lands on disk ------------------------------------------------ */

static void maildir_one(void **state, int durable, size_t piece)
{
	struct fixture *f = *state;
	struct srv_envelope env = full_env();
	struct srv_store *st =
	        open_store(f, "md", SRV_STORE_MAILDIR, durable, NULL);
	char md[512], path[1024], hdr[1024], date[64];
	struct done d;
	json_t *envs[4];
	size_t n;

	store_one(f, st, &env, msg_text, sizeof(msg_text) - 1, piece, &d);
	srv_store_close(st);
	assert_int_equal(d.rc, 0);
	snprintf(md, sizeof(md), "%s/md", f->dir);
	smtprobe_rfc5322_date(env.received, date, sizeof(date));
	snprintf(hdr, sizeof(hdr),
	         "Return-Path: <a@example.com>\r\n"
	         "Received: from client.example (127.0.0.1:40112) by smtprobe "
	         "with ESMTPSA id %s for <r1@example.org>; %s\r\n",
	         d.id, date);
	snprintf(path, sizeof(path), "%s/new/%s", md, d.id);
	char *got = read_file(path, &n);
	assert_int_equal(n, strlen(hdr) + sizeof(msg_text) - 1);
	assert_memory_equal(got, hdr, strlen(hdr));
	assert_memory_equal(got + strlen(hdr), msg_text, sizeof(msg_text) - 1);
	free(got);
	assert_int_equal(count_entries(md, "new"), 1);
	assert_int_equal(count_entries(md, "tmp"), 0);
	assert_int_equal(count_entries(md, "cur"), 0);
	assert_int_equal(maildir_envelopes(md, envs, NELEM(envs)), 1);
	check_full_envelope(envs[0], d.id, sizeof(msg_text) - 1);
	json_decref(envs[0]);
}

static void test_maildir_durable(void **state)
{
	maildir_one(state, 1, 1000);
}

static void test_maildir_not_durable_in_bytes(void **state)
{
	maildir_one(state, 0, 1);
}

static void spool_one(void **state, int durable, size_t piece)
{
	struct fixture *f = *state;
	struct srv_envelope env = full_env();
	struct srv_store *st =
	        open_store(f, "sp", SRV_STORE_SPOOL, durable, NULL);
	char sp[512];
	struct done d[2];
	json_t *envs[4];
	char *msgs[4];

	store_one(f, st, &env, msg_text, sizeof(msg_text) - 1, piece, &d[0]);
	store_one(f, st, &env, "", 0, piece, &d[1]);
	srv_store_close(st);
	assert_int_equal(d[0].rc, 0);
	assert_int_equal(d[1].rc, 0);
	assert_string_not_equal(d[0].id, d[1].id);
	snprintf(sp, sizeof(sp), "%s/sp", f->dir);
	assert_int_equal(spool_records(sp, envs, msgs, NELEM(envs)), 2);
	check_full_envelope(envs[0], d[0].id, sizeof(msg_text) - 1);
	assert_string_equal(msgs[0], msg_text);
	check_full_envelope(envs[1], d[1].id, 0);
	assert_string_equal(msgs[1], "");
	for (int i = 0; i < 2; i++) {
		json_decref(envs[i]);
		free(msgs[i]);
	}
}

static void test_spool_durable(void **state)
{
	spool_one(state, 1, 1000);
}

static void test_spool_not_durable_in_bytes(void **state)
{
	spool_one(state, 0, 1);
}

/* 300 KiB, in 7-byte pieces and in 64 KiB ones: streamed through the
 * spill file, stored exactly. */
static void test_large_messages(void **state)
{
	struct fixture *f = *state;
	struct srv_envelope env = full_env();
	size_t len = 300 * 1024 + 17;
	char *big = malloc(len);
	static const size_t pieces[] = {7, 65536};

	assert_non_null(big);
	for (size_t i = 0; i < len; i++)
		big[i] = (i % 80 == 78)   ? '\r'
		         : (i % 80 == 79) ? '\n'
		                          : (char)('a' + i % 26);
	for (int fmt = 0; fmt < 2; fmt++) {
		for (size_t p = 0; p < NELEM(pieces); p++) {
			char sub[32], path[700];
			struct done d;
			snprintf(sub, sizeof(sub), "big%d%zu", fmt, p);
			struct srv_store *st = open_store(
			        f, sub,
			        fmt ? SRV_STORE_SPOOL : SRV_STORE_MAILDIR,
			        (int)p, NULL);
			store_one(f, st, &env, big, len, pieces[p], &d);
			srv_store_close(st);
			assert_int_equal(d.rc, 0);
			snprintf(path, sizeof(path), "%s/%s", f->dir, sub);
			if (fmt) {
				json_t *envs[2];
				char *msgs[2];
				assert_int_equal(
				        spool_records(path, envs, msgs, 2), 1);
				assert_memory_equal(msgs[0], big, len);
				json_decref(envs[0]);
				free(msgs[0]);
				continue;
			}
			char file[1024];
			size_t n;
			snprintf(file, sizeof(file), "%s/new/%s", path, d.id);
			char *got = read_file(file, &n);
			assert_true(n > len);
			assert_memory_equal(got + n - len, big, len);
			free(got);
			assert_int_equal(count_entries(path, "tmp"), 0);
		}
	}
	free(big);
}

/* ---- group commit -------------------------------------------------------- */

static void test_group_commit(void **state)
{
	struct fixture *f = *state;
	struct srv_envelope env = full_env();

	for (int fmt = 0; fmt < 2; fmt++) {
		struct srv_store *st = open_store(
		        f, fmt ? "gsp" : "gmd",
		        fmt ? SRV_STORE_SPOOL : SRV_STORE_MAILDIR, 1, NULL);
		struct done d[40];
		char err[256];
		unsigned long batches = 0, messages = 0;

		done_seq = 0;
		memset(d, 0, sizeof(d));
		for (size_t i = 0; i < NELEM(d); i++) {
			struct srv_msg *m =
			        srv_msg_begin(st, &env, err, sizeof(err));
			assert_non_null(m);
			assert_int_equal(srv_msg_write(m, msg_text, 10), 0);
			srv_msg_commit(m, on_done, &d[i]);
		}
		uv_run(&f->loop, UV_RUN_DEFAULT);
		for (size_t i = 0; i < NELEM(d); i++) {
			assert_int_equal(d[i].calls, 1);
			assert_int_equal(d[i].rc, 0);
			assert_int_equal(d[i].order, (int)i);
		}
		srv_store_stats(st, &batches, &messages);
		assert_int_equal(messages, NELEM(d));
		/* the first goes alone, the others wait for it together */
		assert_true(batches >= 1 && batches <= 3);
		srv_store_close(st);
	}
}

/* ---- abort and failures ------------------------------------------------- */

static void test_abort_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	struct srv_envelope env = full_env();
	char big[100000], err[256], path[512];

	memset(big, 'x', sizeof(big));
	for (int fmt = 0; fmt < 2; fmt++) {
		struct srv_store *st = open_store(
		        f, fmt ? "asp" : "amd",
		        fmt ? SRV_STORE_SPOOL : SRV_STORE_MAILDIR, 1, NULL);
		struct srv_msg *m = srv_msg_begin(st, &env, err, sizeof(err));
		assert_non_null(m);
		assert_int_equal(srv_msg_write(m, big, sizeof(big)), 0);
		srv_msg_abort(m);
		srv_store_close(st);
	}
	snprintf(path, sizeof(path), "%s/amd", f->dir);
	assert_int_equal(count_entries(path, "tmp"), 0);
	assert_int_equal(count_entries(path, "new"), 0);
	snprintf(path, sizeof(path), "%s/asp/messages.spool", f->dir);
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, 0);
	snprintf(path, sizeof(path), "%s/asp", f->dir);
	assert_int_equal(count_entries(path, ""), 1);
}

/* write() fails (EFBIG past RLIMIT_FSIZE): the commit fails with -EFBIG
 * and a reason naming the file; nothing reaches new/, the spool keeps
 * only intact records. */
static void test_write_fails(void **state)
{
	struct fixture *f = *state;
	struct srv_envelope env = full_env();
	struct rlimit old,
	        lim = {.rlim_cur = 200000, .rlim_max = RLIM_INFINITY};
	char big[300000], path[512];

	memset(big, 'y', sizeof(big));
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim.rlim_max = old.rlim_max;
	for (int fmt = 0; fmt < 2; fmt++) {
		struct srv_store *st = open_store(
		        f, fmt ? "fsp" : "fmd",
		        fmt ? SRV_STORE_SPOOL : SRV_STORE_MAILDIR, 1, NULL);
		struct done d;
		store_one(f, st, &env, msg_text, sizeof(msg_text) - 1, 99, &d);
		assert_int_equal(d.rc, 0);
		assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
		store_one(f, st, &env, big, sizeof(big), 65536, &d);
		assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
		assert_int_equal(d.rc, -EFBIG);
		if (strstr(d.err, "cannot write ") == NULL ||
		    strstr(d.err, "File too large") == NULL)
			fail_msg("reason: %s", d.err);
		store_one(f, st, &env, msg_text, sizeof(msg_text) - 1, 99, &d);
		assert_int_equal(d.rc, 0);
		srv_store_close(st);
	}
	snprintf(path, sizeof(path), "%s/fmd", f->dir);
	assert_int_equal(count_entries(path, "new"), 2);
	assert_int_equal(count_entries(path, "tmp"), 0);
	json_t *envs[4];
	char *msgs[4];
	snprintf(path, sizeof(path), "%s/fsp", f->dir);
	assert_int_equal(spool_records(path, envs, msgs, 4), 2);
	for (int i = 0; i < 2; i++) {
		assert_string_equal(msgs[i], msg_text);
		json_decref(envs[i]);
		free(msgs[i]);
	}
}

/* ---- recovery ------------------------------------------------------------ */

static void test_maildir_recovery(void **state)
{
	struct fixture *f = *state;
	struct srv_envelope env = full_env();
	struct srv_store_recovery rec;
	char md[512], path[1024], line[600];
	struct done kept, moved;

	struct srv_store *st = open_store(f, "rmd", SRV_STORE_MAILDIR, 1, &rec);
	assert_int_equal(rec.removed, 0);
	store_one(f, st, &env, msg_text, sizeof(msg_text) - 1, 50, &kept);
	store_one(f, st, &env, msg_text, sizeof(msg_text) - 1, 50, &moved);
	srv_store_close(st);
	snprintf(md, sizeof(md), "%s/rmd", f->dir);
	/* a reader moved one message to cur/ with flags: it stays */
	char from[1024], to[1024];
	snprintf(from, sizeof(from), "%s/new/%s", md, moved.id);
	snprintf(to, sizeof(to), "%s/cur/%s:2,S", md, moved.id);
	assert_int_equal(rename(from, to), 0);
	/* what a crash leaves: a partial file in tmp/, an envelope whose
	 * message never reached new/, and a torn line; plus garbage */
	snprintf(path, sizeof(path), "%s/tmp/1.M1P1Q1.host", md);
	write_file(path, "partial", 7);
	snprintf(path, sizeof(path), "%s/envelopes.jsonl", md);
	snprintf(line, sizeof(line), "{\"id\":\"1.M2P2Q2.host\",\"size\":3}\n");
	append_file(path, line, strlen(line));
	append_file(path, "not json\n", 9);
	append_file(path, "{\"id\":\"../../etc/passwd\"}\n", 26);
	append_file(path, "{\"id\":\"torn", 11);

	st = open_store(f, "rmd", SRV_STORE_MAILDIR, 1, &rec);
	assert_int_equal(rec.removed, 5);
	assert_true(rec.bytes >= 7 + 9 + 11);
	srv_store_close(st);
	assert_int_equal(count_entries(md, "tmp"), 0);
	json_t *envs[8];
	assert_int_equal(maildir_envelopes(md, envs, NELEM(envs)), 2);
	assert_string_equal(jget(envs[0], "id"), kept.id);
	assert_string_equal(jget(envs[1], "id"), moved.id);
	json_decref(envs[0]);
	json_decref(envs[1]);
	/* a clean store opens with nothing to recover */
	st = open_store(f, "rmd", SRV_STORE_MAILDIR, 1, &rec);
	assert_int_equal(rec.removed, 0);
	srv_store_close(st);
}

static void test_spool_recovery(void **state)
{
	struct fixture *f = *state;
	struct srv_envelope env = full_env();
	struct srv_store_recovery rec;
	char sp[512], path[700], zeros[4096];
	struct done d[3];
	struct stat sb;
	/* what a crash can leave after the last synced record */
	static const char *const tails[] = {"torn", "zeros", "crc", "line"};

	memset(zeros, 0, sizeof(zeros));
	for (size_t t = 0; t < NELEM(tails); t++) {
		char sub[32];
		snprintf(sub, sizeof(sub), "rsp%zu", t);
		snprintf(sp, sizeof(sp), "%s/%s", f->dir, sub);
		snprintf(path, sizeof(path), "%s/messages.spool", sp);
		struct srv_store *st =
		        open_store(f, sub, SRV_STORE_SPOOL, 1, &rec);
		for (int i = 0; i < 2; i++)
			store_one(f, st, &env, msg_text, sizeof(msg_text) - 1,
			          8, &d[i]);
		assert_int_equal(stat(path, &sb), 0);
		off_t third = sb.st_size;
		store_one(f, st, &env, msg_text, sizeof(msg_text) - 1, 8,
		          &d[2]);
		srv_store_close(st);
		assert_int_equal(stat(path, &sb), 0);
		off_t good = sb.st_size;
		size_t len;
		char *all = read_file(path, &len);
		if (t == 0) /* a record whose bytes never all arrived */
			assert_int_equal(truncate(path, good - 5), 0);
		else if (t == 1) /* blocks never written: zeros */
			append_file(path, zeros, sizeof(zeros));
		else if (t == 2) { /* the third message damaged */
			all[len - 3] ^= 0x20;
			write_file(path, all, len);
		} else /* a line that is no envelope */
			append_file(path, "garbage\n", 8);
		free(all);
		st = open_store(f, sub, SRV_STORE_SPOOL, 1, &rec);
		assert_int_equal(rec.removed, 1);
		srv_store_close(st);
		size_t keep = (t == 1 || t == 3) ? 3 : 2;
		assert_int_equal(stat(path, &sb), 0);
		assert_int_equal(sb.st_size, keep == 3 ? good : third);
		json_t *envs[4];
		char *msgs[4];
		assert_int_equal(spool_records(sp, envs, msgs, 4), keep);
		for (size_t i = 0; i < keep; i++) {
			assert_string_equal(jget(envs[i], "id"), d[i].id);
			assert_string_equal(msgs[i], msg_text);
			json_decref(envs[i]);
			free(msgs[i]);
		}
	}
}

/* ---- hostile text, ids, opening ----------------------------------------- */

static void test_hostile_envelope(void **state)
{
	struct fixture *f = *state;
	struct srv_envelope env = full_env();
	char md[512], path[1024];
	struct done d;
	size_t n;

	env.helo = "evil\r\nX-Injected: yes";
	env.mail_from = "a\x01@example.com";
	env.client = "\xff\xfe";
	struct srv_store *st = open_store(f, "hmd", SRV_STORE_MAILDIR, 0, NULL);
	store_one(f, st, &env, "x\r\n", 3, 3, &d);
	srv_store_close(st);
	assert_int_equal(d.rc, 0);
	snprintf(md, sizeof(md), "%s/hmd", f->dir);
	snprintf(path, sizeof(path), "%s/new/%s", md, d.id);
	char *got = read_file(path, &n);
	assert_non_null(strstr(got, "Received: from evil??X-Injected: yes "));
	assert_non_null(strstr(got, "Return-Path: <a?@example.com>"));
	assert_null(strstr(got, "\r\nX-Injected"));
	free(got);
	json_t *envs[2];
	assert_int_equal(maildir_envelopes(md, envs, 2), 1);
	assert_string_equal(jget(envs[0], "client"), "\\xff\\xfe");
	assert_string_equal(jget(envs[0], "mail_from"), "a\x01@example.com");
	json_decref(envs[0]);
}

static void test_unique_ids(void **state)
{
	struct fixture *f = *state;
	struct srv_envelope env = full_env();
	struct srv_store *st = open_store(f, "umd", SRV_STORE_MAILDIR, 0, NULL);
	static char ids[200][STORE_ID_MAX];

	for (size_t i = 0; i < NELEM(ids); i++) {
		struct done d;
		store_one(f, st, &env, "x\r\n", 3, 3, &d);
		assert_int_equal(d.rc, 0);
		memcpy(ids[i], d.id, sizeof(ids[i]));
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(ids[i], ids[j]);
	}
	srv_store_close(st);
}

static void test_open_fails(void **state)
{
	struct fixture *f = *state;
	struct srv_store *st = (struct srv_store *)&st;
	char file[512], path[600], err[256], want[800];

	snprintf(file, sizeof(file), "%s/file", f->dir);
	write_file(file, "", 0);
	snprintf(path, sizeof(path), "%s/md", file);
	for (int fmt = 0; fmt < 2; fmt++) {
		assert_int_equal(srv_store_open(&st, &f->loop,
		                                fmt ? SRV_STORE_SPOOL
		                                    : SRV_STORE_MAILDIR,
		                                path, 1, NULL, err,
		                                sizeof(err)),
		                 -1);
		assert_null(st);
		snprintf(want, sizeof(want),
		         "cannot create %s: Not a directory", path);
		assert_string_equal(err, want);
		assert_int_equal(srv_store_open(&st, &f->loop,
		                                fmt ? SRV_STORE_SPOOL
		                                    : SRV_STORE_MAILDIR,
		                                "", 1, NULL, err, sizeof(err)),
		                 -1);
		assert_string_equal(err, "store path empty");
	}
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	        T(test_maildir_durable),
	        T(test_maildir_not_durable_in_bytes),
	        T(test_spool_durable),
	        T(test_spool_not_durable_in_bytes),
	        T(test_large_messages),
	        T(test_group_commit),
	        T(test_abort_leaves_nothing),
	        T(test_write_fails),
	        T(test_maildir_recovery),
	        T(test_spool_recovery),
	        T(test_hostile_envelope),
	        T(test_unique_ids),
	        T(test_open_fails),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
