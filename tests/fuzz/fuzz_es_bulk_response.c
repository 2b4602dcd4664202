/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_es_bulk_response.c - arbitrary bytes as the body of a _bulk response
 * to a fixed request of N items (N from the first byte), read whole and
 * fed as a stream in two pieces (split point from the same byte). Checks the
 * reader's invariants: bounded text, offsets inside it, verdicts defined for
 * every item, and that a failed read trusts nothing.
 */
#include <stdbool.h>
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
	rc = es_response_read(&r, (const char *)data, size, n);
	check(&r, rc, n);
	{
		/* the same bytes in two pieces give the same result */
		size_t at = size ? (size_t)data[0] * size / 256 : 0;
		bool whole_ok = rc == 0;
		uint32_t whole_items = r.n_items;

		rc = es_response_begin(&r, n, 0);
		if (rc == 0)
			rc = es_response_feed(&r, (const char *)data, at);
		if (rc == 0)
			rc = es_response_feed(&r, (const char *)data + at,
					      size - at);
		if (rc == 0)
			rc = es_response_end(&r);
		check(&r, rc, n);
		if (rc != -SL_ENOMEM &&
		    (whole_ok != (rc == 0) || whole_items != r.n_items))
			abort();
	}
	return 0;
}
