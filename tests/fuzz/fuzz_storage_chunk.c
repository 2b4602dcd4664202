/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_storage_chunk.c - arbitrary bytes as a chunk file found at start-up:
 * decoded strictly and leniently; whatever is accepted must be whole records
 * whose count matches, and a lenient decode may only keep more than a strict
 * one when it reports a cut.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sl_storage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sl_storage_decoded strict, lenient;
	int rs = sl_storage_decode(data, size, true, &strict);
	int rl = sl_storage_decode(data, size, false, &lenient);

	if (rs == 0)
		check(&strict);
	if (rl == 0)
		check(&lenient);
	if (rs == -SL_EPARSE && !strict.reason)
		abort();
	/* strict accepted: lenient must accept the same records */
	if (rs == 0 && (rl != 0 || lenient.n_records != strict.n_records ||
			lenient.records.len != strict.records.len ||
			memcmp(lenient.records.data, strict.records.data,
			       strict.records.len) != 0))
		abort();
	sl_storage_decoded_destroy(&strict);
	sl_storage_decoded_destroy(&lenient);
	return 0;
}
