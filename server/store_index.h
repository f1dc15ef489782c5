/* store_index.h - the store's own formats, read back when it opens (pure):
 * one envelope line (the Maildir's envelopes.jsonl) and the spool's
 * records (DIR/messages.spool). Fuzzed (fuzz_store). */
#ifndef SMTPROBE_SERVER_STORE_INDEX_H
#define SMTPROBE_SERVER_STORE_INDEX_H

#include <stddef.h>
#include <stdint.h>

#define STORE_ID_MAX         160
#define STORE_INDEX_LINE_MAX (4u * 1024 * 1024) /* 1000 long recipients */

struct store_index_entry {
	char id[STORE_ID_MAX];
	uint64_t size; /* the message's bytes (with need_record) */
	uint32_t crc;  /* their CRC-32 (with need_record) */
};

/* One envelope line without its '\n': 0 and *e filled when it is a valid
 * entry - with "size" and "crc32" when need_record - else -1. */
int store_index_parse(const char *line, size_t len, int need_record,
                      struct store_index_entry *e);

/* Reads up to n bytes at off; returns how many (0 at the end), or -1. */
typedef long (*store_read_fn)(void *ctx, uint64_t off, void *buf, size_t n);

/* Walk a spool of size bytes from its start: each record is an envelope
 * line (with "size" and "crc32") and then that many bytes whose CRC-32
 * matches. *end is where the last intact record ends (what a crash left
 * after it is garbage), *count how many there are. 0, or -1 when a read
 * failed or memory ran out. */
int store_spool_scan(store_read_fn rd, void *ctx, uint64_t size, uint64_t *end,
                     unsigned long *count);

#endif
