/* store_index.c - reading back the store's own formats (store_index.h):
 * an envelope line and the spool's records. Pure but for the reads it is
 * given; fuzzed (fuzz_store).
 *
 * A valid envelope line is one JSON object with a string "id" that is a
 * safe file name (no '/', no leading '.', no control bytes, shorter than
 * STORE_ID_MAX) and, for a spool record, an integer "size" and an integer
 * "crc32" (0 to 2^32-1). A spool record is such a line, its '\n', then
 * "size" bytes whose CRC-32 (zlib's) is "crc32". Anything else - a torn
 * line, garbage, zeros a crash left, a huge line - is invalid, and a scan
 * stops at the first invalid record. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <zlib.h>

#include "store_index.h"
#include "banned.h"

#define CHUNK 65536

static int safe_id(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n >= STORE_ID_MAX || id[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)id[i];
		if (c < 0x20 || c == 0x7f || c == '/')
			return 0;
	}
	return 1;
}

int store_index_parse(const char *line, size_t len, int need_record,
                      struct store_index_entry *e)
{
	json_error_t jerr;
	json_t *doc;
	int ok = 0;

	memset(e, 0, sizeof(*e));
	if (len == 0 || len > STORE_INDEX_LINE_MAX)
		return -1;
	doc = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (doc == NULL)
		return -1;
	if (json_is_object(doc)) {
		json_t *id = json_object_get(doc, "id");
		json_t *size = json_object_get(doc, "size");
		json_t *crc = json_object_get(doc, "crc32");
		ok = json_is_string(id) && safe_id(json_string_value(id));
		if (ok && need_record) {
			ok = json_is_integer(size) && json_is_integer(crc) &&
			     json_integer_value(size) >= 0 &&
			     json_integer_value(crc) >= 0 &&
			     json_integer_value(crc) <= 0xffffffffLL;
			if (ok) {
				e->size = (uint64_t)json_integer_value(size);
				e->crc = (uint32_t)json_integer_value(crc);
			}
		}
		if (ok) {
			const char *s = json_string_value(id);
			memcpy(e->id, s, strlen(s) + 1);
		}
	}
	json_decref(doc);
	return ok ? 0 : -1;
}

/* The record's line at off: its length (without '\n') in *len, or 1 when
 * there is no valid line there, -1 on a read error. */
static int read_line(store_read_fn rd, void *ctx, uint64_t off, uint64_t size,
                     char *buf, size_t *len)
{
	size_t have = 0;

	while (have < STORE_INDEX_LINE_MAX + 1 && off + have < size) {
		size_t want = STORE_INDEX_LINE_MAX + 1 - have;
		if (want > CHUNK)
			want = CHUNK;
		if (want > size - off - have)
			want = (size_t)(size - off - have);
		long got = rd(ctx, off + have, buf + have, want);
		if (got < 0)
			return -1;
		if (got == 0)
			break;
		char *nl = memchr(buf + have, '\n', (size_t)got);
		if (nl) {
			*len = (size_t)(nl - buf);
			return 0;
		}
		have += (size_t)got;
	}
	return 1;
}

/* The CRC-32 of n bytes at off, or -1 (a read error) / -2 (short). */
static int crc_at(store_read_fn rd, void *ctx, uint64_t off, uint64_t n,
                  char *buf, uint32_t *out)
{
	uLong crc = crc32(0L, Z_NULL, 0);

	while (n > 0) {
		size_t want = n < CHUNK ? (size_t)n : CHUNK;
		long got = rd(ctx, off, buf, want);
		if (got < 0)
			return -1;
		if (got == 0)
			return -2;
		crc = crc32(crc, (const Bytef *)buf, (uInt)got);
		off += (uint64_t)got;
		n -= (uint64_t)got;
	}
	*out = (uint32_t)crc;
	return 0;
}

int store_spool_scan(store_read_fn rd, void *ctx, uint64_t size, uint64_t *end,
                     unsigned long *count)
{
	char *buf = malloc(STORE_INDEX_LINE_MAX + 1);
	uint64_t off = 0;
	int rc = 0;

	*end = 0;
	*count = 0;
	if (buf == NULL)
		return -1;
	while (off < size) {
		struct store_index_entry e;
		size_t len;
		uint32_t crc;
		int r = read_line(rd, ctx, off, size, buf, &len);
		if (r < 0)
			rc = -1;
		if (r != 0 || store_index_parse(buf, len, 1, &e) != 0)
			break;
		uint64_t body = off + len + 1;
		if (e.size > size - body)
			break; /* torn: the bytes never all arrived */
		r = crc_at(rd, ctx, body, e.size, buf, &crc);
		if (r == -1)
			rc = -1;
		if (r != 0 || crc != e.crc)
			break;
		off = body + e.size;
		*end = off;
		(*count)++;
	}
	free(buf);
	return rc;
}
