/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_splunk_answer.c - arbitrary bytes as a HEC answer body: the reader
 * must stay inside the buffer (an exact-size copy, so ASan sees any
 * overread), give the same answer twice, point its text inside the body,
 * and the verdict must never name an event outside the request.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../outputs/splunk/splunk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size ? size : 1);
	struct splunk_answer a, b;
	static const long statuses[] = {200, 400, 401, 403, 413, 429, 503};

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	splunk_answer_parse(copy, size, &a);
	splunk_answer_parse(copy, size, &b);
	if (a.parsed != b.parsed || a.code != b.code ||
	    a.bad_event != b.bad_event || a.text != b.text ||
	    a.text_len != b.text_len)
		abort();
	if (a.text && (a.text < copy || a.text + a.text_len > copy + size))
		abort();
	if (!a.parsed && (a.code != -1 || a.bad_event != -1 || a.text))
		abort();
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		for (size_t n = 1; n <= 8; n *= 2)
			if (splunk_verdict(statuses[i], &a, n) ==
				SPLUNK_DROP_ONE &&
			    (a.bad_event < 0 || (size_t)a.bad_event >= n))
				abort();
	free(copy);
	return 0;
}
