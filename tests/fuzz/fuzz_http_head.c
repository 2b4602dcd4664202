/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_http_head.c - arbitrary bytes as an HTTP request head. The end
 * scanner is fed the bytes in two pieces (as a socket would deliver them)
 * and must agree with one call over all of them; the parser must not crash,
 * must answer 0 or a refusal status with a reason, and when it accepts,
 * the scanner must have found the same end (one grammar, two functions)
 * and every field must be a token name with a control-free value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sl_http_head.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* kind 0: a field value (no controls but HTAB); 1: a request target
 * (visible ASCII); 2: a token (method, field name) */
static bool clean(const char *s, int kind)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
		if (kind >= 1 && (c <= 0x20 || c >= 0x7f))
			return false;
		if (kind == 2 && strchr("\"(),/:;<=>?@[\\]{}", c))
			return false;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct sl_http_head h;
	const char *msg = NULL;
	size_t from = 0, from2 = 0, cut = size ? data[0] % (size + 1) : 0;
	ssize_t end, end2;
	char *copy;
	int rc;

	end = sl_http_head_end(text, cut, &from);
	if (end == 0)
		end = sl_http_head_end(text, size, &from);
	end2 = sl_http_head_end(text, size, &from2);
	/* scanning in two pieces gives what one scan gives */
	if (end != end2)
		abort();
	if (end > 0 && memcmp(text + end - 4, "\r\n\r\n", 4) != 0)
		abort();
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	rc = sl_http_head_parse(copy, size, &h, &msg);
	if (rc != 0 && rc != 400 && rc != 431 && rc != 501)
		abort();
	if (rc != 0 && !msg)
		abort();
	if (rc == 0) {
		size_t f = 0;

		if (sl_http_head_end(text, size, &f) != (ssize_t)size)
			abort();
		if (!*h.method || h.path[0] != '/' || !clean(h.path, 1) ||
		    !clean(h.query, 1) || !clean(h.method, 2))
			abort();
		if (h.chunked && h.content_length)
			abort();
		for (size_t i = 0; i < h.n_fields; i++)
			if (!*h.fields[i].name || !clean(h.fields[i].name, 2) ||
			    !clean(h.fields[i].value, 0))
				abort();
	}
	free(copy);
	return 0;
}
