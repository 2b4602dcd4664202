/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_es_bulk_response.c - arbitrary bytes as the body of a _bulk response
 * to a fixed request of N items (N from the first byte), read as complete
 * and as cut by the client. Checks the reader's invariants: bounded text,
 * offsets inside it, verdicts defined for every item, and that a failed
 * read trusts nothing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../outputs/es/es.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct es_response *r, int rc, uint32_t n)
{
	if (rc == -SL_ENOMEM)
		return;
	if (rc != 0 && rc != -SL_EPARSE)
		abort();
	if (rc == -SL_EPARSE && (r->has_errors || r->n_items))
		abort();
	if (r->text.len > ES_RESP_TEXT_MAX)
		abort();
	for (uint32_t i = 0; i < n && i < r->n_items; i++) {
		const struct es_resp_item *it = &r->items[i];

		if (it->status < 0 || it->status >= 1000 ||
		    it->reason_len > ES_RESP_STR_MAX ||
		    it->type_len > ES_RESP_STR_MAX ||
		    (it->reason_len &&
		     (size_t)it->reason_off + it->reason_len > r->text.len) ||
		    (it->type_len &&
		     (size_t)it->type_off + it->type_len > r->text.len) ||
		    (it->index_len &&
		     (size_t)it->index_off + it->index_len > r->text.len))
			abort();
	}
	for (uint32_t i = 0; i < n + 2; i++) {
		for (int op = ES_OP_CREATE; op <= ES_OP_UPSERT; op++) {
			enum es_verdict v = es_response_verdict(
			    r, i, (enum es_op)op, i % 2 == 0);

			if (v != ES_DELIVERED && v != ES_RETRY &&
			    v != ES_REJECTED)
				abort();
			/* nothing is delivered by a response that did not read
			 */
			if (rc != 0 && v != ES_RETRY)
				abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct es_response r;
	uint32_t n;
	int rc;

	if (size == 0)
		return 0;
	n = data[0] % 16; /* items in the fake request */
	data++;
	size--;
	rc = es_response_read(&r, (const char *)data, size, false, n);
	check(&r, rc, n);
	rc = es_response_read(&r, (const char *)data, size, true, n);
	check(&r, rc, n);
	return 0;
}
