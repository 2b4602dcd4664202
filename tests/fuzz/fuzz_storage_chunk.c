/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_storage_chunk.c - arbitrary bytes as a chunk file found at start-up:
 * decoded strictly and leniently, as they are and with every CRC made right
 * (so that mutations reach the block, LZ4 and record-framing code behind the
 * checksums). Whatever is accepted must be whole records whose count
 * matches, and anything strict accepts, lenient accepts identically.
 */
#include <lz4.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "sl_storage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void put_crc(uint8_t *at, const uint8_t *p, size_t n)
{
	uint32_t c = (uint32_t)crc32(0, p, (uInt)n);

	for (int i = 0; i < 4; i++)
		at[i] = (uint8_t)(c >> (8 * i));
}

/* Rewrites the header, block and body CRCs of a file in place. */
static void fix_crcs(uint8_t *p, size_t size)
{
	size_t hlen, off;

	if (size < 24)
		return;
	hlen = 20 + (size_t)(p[16] | p[17] << 8) + (size_t)(p[18] | p[19] << 8);
	if (size < hlen + 4)
		return;
	put_crc(p + hlen, p, hlen);
	off = hlen + 4;
	if (p[5] == 2) {
		uint32_t ulen, clen;
		char *out;
		int got;

		if (size - off < 24)
			return;
		ulen = le32(p + off + 4);
		clen = le32(p + off + 8);
		if (ulen <= (1u << 20) && clen <= size - off - 24 &&
		    (out = malloc(ulen + 1))) {
			got = LZ4_decompress_safe((const char *)p + off + 24,
						  out, (int)clen, (int)ulen);
			if (got >= 0)
				put_crc(p + off + 16, (const uint8_t *)out,
					(size_t)got);
			free(out);
		}
		put_crc(p + off + 20, p + off, 20);
		return;
	}
	while (size - off >= 20) {
		uint32_t len = le32(p + off + 4);

		if (len > size - off - 20)
			len = (uint32_t)(size - off - 20);
		put_crc(p + off + 12, p + off + 20, len);
		put_crc(p + off + 16, p + off, 16);
		off += 20 + (size_t)len;
	}
}

static void check(const struct sl_storage_decoded *d)
{
	uint32_t n;

	if (d->records.len > SL_STORAGE_CHUNK_MAX || !d->tag || !d->stream ||
	    strlen(d->tag) > d->tag_len || strlen(d->stream) > 255)
		abort();
	if (sl_storage_records_count(d->records.data, d->records.len, &n) !=
		0 ||
	    n != d->n_records)
		abort();
	if (d->sealed && d->cut)
		abort();
}

static void run(const uint8_t *data, size_t size)
{
	struct sl_storage_decoded strict, lenient;
	int rs = sl_storage_decode(data, size, true, &strict);
	int rl = sl_storage_decode(data, size, false, &lenient);

	if (rs == 0)
		check(&strict);
	if (rl == 0)
		check(&lenient);
	if ((rs == -SL_EPARSE && !strict.reason) ||
	    (rl == -SL_EPARSE && !lenient.reason))
		abort();
	if (rs == 0 && (rl != 0 || lenient.n_records != strict.n_records ||
			lenient.records.len != strict.records.len ||
			memcmp(lenient.records.data, strict.records.data,
			       strict.records.len) != 0))
		abort();
	sl_storage_decoded_destroy(&strict);
	sl_storage_decoded_destroy(&lenient);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	run(data, size);
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	if (size)
		memcpy(copy, data, size);
	fix_crcs(copy, size);
	run(copy, size);
	free(copy);
	return 0;
}
