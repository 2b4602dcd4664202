/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_loki_error.c - arbitrary bytes as a Loki 400 body: the "total
 * ignored: N out of M" reader must stay inside the buffer (it gets an
 * exact-size copy, so ASan sees any overread), never count more than the
 * phrases it found, and give the same answer twice.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../outputs/loki/loki.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size ? size : 1);
	uint64_t n1, n2;
	int f1, f2;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	f1 = loki_error_ignored(copy, size, &n1);
	f2 = loki_error_ignored(copy, size, &n2);
	if (f1 < 0 || f1 != f2 || n1 != n2 || (f1 == 0 && n1 != 0))
		abort();
	/* the shortest phrase is "total ignored:0out of0" (22 bytes) */
	if ((size_t)f1 > size / 22)
		abort();
	free(copy);
	return 0;
}
