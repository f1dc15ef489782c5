/* fuzz_store.c - libFuzzer target for reading back the store's formats
 * (server/store_index.c): the input is taken as a whole spool
 * (store_spool_scan, through a reader that also returns short reads) and,
 * line by line, as envelope lines (store_index_parse, with and without the
 * spool's fields). Aborts when a scan ends past the input or counts more
 * records than could fit, or when a parsed id is empty, too long, starts
 * with '.', or holds '/' or a control byte; ASan/UBSan catch the rest. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store_index.h"

#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                               \
	do {                                                                   \
		if (!(x))                                                      \
			abort();                                               \
	} while (0)

struct mem {
	const uint8_t *data;
	size_t size;
};

static long read_mem(void *ctx, uint64_t off, void *buf, size_t n)
{
	const struct mem *m = ctx;

	if (off >= m->size)
		return 0;
	if (n > m->size - off)
		n = (size_t)(m->size - off);
	/* short reads too: the scanner must ask again */
	if (n > 1 && (off % 7) == 3)
		n /= 2;
	memcpy(buf, m->data + off, n);
	return (long)n;
}

static void check_id(const char *id)
{
	size_t n = strnlen(id, STORE_ID_MAX);

	CHECK(n > 0 && n < STORE_ID_MAX && id[0] != '.');
	for (size_t i = 0; i < n; i++)
		CHECK((unsigned char)id[i] >= 0x20 && id[i] != 0x7f &&
		      id[i] != '/');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mem m = {data, size};
	uint64_t end;
	unsigned long count;

	CHECK(store_spool_scan(read_mem, &m, size, &end, &count) == 0);
	CHECK(end <= size);
	CHECK(count <= size / 10 + 1); /* {"id":"x","size":0,"crc32":0}\n */
	for (size_t o = 0; o < size;) {
		const uint8_t *nl = memchr(data + o, '\n', size - o);
		size_t len = nl ? (size_t)(nl - data - o) : size - o;
		struct store_index_entry e;
		for (int rec = 0; rec < 2; rec++)
			if (store_index_parse((const char *)data + o, len, rec,
			                      &e) == 0)
				check_id(e.id);
		o += len + 1;
	}
	return 0;
}
