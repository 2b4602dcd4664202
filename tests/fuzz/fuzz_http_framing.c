/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_http_framing.c - arbitrary bytes as a chunked request body. The
 * first two bytes choose the body limit and the piece size; the rest is
 * decoded once whole and once piece by piece, and both runs must agree on
 * the verdict, the bytes consumed and the decoded body, which never exceeds
 * the limit. Then the same bytes go through the head scanner and parser as
 * a head followed by a body, the way the server frames a request.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sl_http_body.h"
#include "sl_http_head.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run(const char *in, size_t len, size_t step, size_t max,
	       struct sl_buf *out, size_t *used_total)
{
	struct sl_http_chunked d;
	size_t off = 0;
	int rc = 0;

	sl_http_chunked_init(&d, max, 256);
	while (off < len) {
		size_t n = len - off < step ? len - off : step, used = 0;

		rc = sl_http_chunked_feed(&d, in + off, n, &used, out);
		if (used > n)
			abort();
		off += used;
		if (rc != 0)
			break;
		if (used != n)
			abort(); /* 0 means every byte was taken */
	}
	*used_total = off;
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sl_buf a = {0}, b = {0};
	size_t max, step, used_a, used_b, from = 0;
	const char *in;
	int rc_a, rc_b;
	ssize_t end;

	if (size < 2)
		return 0;
	max = (size_t)data[0] * 4;
	step = (size_t)data[1] % 16 + 1;
	in = (const char *)data + 2;
	size -= 2;
	rc_a = run(in, size, size ? size : 1, max, &a, &used_a);
	rc_b = run(in, size, step, max, &b, &used_b);
	if (rc_a == -SL_ENOMEM || rc_b == -SL_ENOMEM)
		goto out;
	if (rc_a != rc_b || used_a != used_b || a.len != b.len ||
	    (a.len && memcmp(a.data, b.data, a.len) != 0) || a.len > max)
		abort();
	if (rc_a != 0 && rc_a != 1 && rc_a != -SL_EPARSE && rc_a != -SL_ETOOBIG)
		abort();
	/* head + body, as the server frames them */
	end = sl_http_head_end(in, size, &from);
	if (end > 0) {
		char *head = malloc((size_t)end);
		struct sl_http_head h;
		const char *msg;
		size_t used;

		if (!head)
			goto out;
		memcpy(head, in, (size_t)end);
		if (sl_http_head_parse(head, (size_t)end, &h, &msg) == 0 &&
		    h.chunked) {
			sl_buf_reset(&a);
			run(in + end, size - (size_t)end, step, max, &a, &used);
		}
		free(head);
	}
out:
	sl_buf_destroy(&a);
	sl_buf_destroy(&b);
	return 0;
}
