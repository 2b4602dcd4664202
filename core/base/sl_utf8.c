/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_utf8.c - strict UTF-8 validation and repair (U+FFFD per maximal
 * invalid subpart), and the one-sequence checker the JSON escaper uses.
 */
#include "sl_utf8.h"

#include <string.h>

#define HIGH_BITS UINT64_C(0x8080808080808080)

/*
 * Checks the sequence starting at p (n > 0 bytes available). Returns its
 * length when valid; else 0 and *bad = length of the maximal invalid subpart
 * (the lead byte plus the continuation bytes that were still acceptable).
 */
size_t sl_utf8_seq(const unsigned char *p, size_t n, size_t *bad)
{
	unsigned c = p[0];
	unsigned lo = 0x80, hi = 0xBF;
	size_t need, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) {
		need = 1;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 2;
		if (c == 0xE0)
			lo = 0xA0; /* overlong */
		else if (c == 0xED)
			hi = 0x9F; /* surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 3;
		if (c == 0xF0)
			lo = 0x90; /* overlong */
		else if (c == 0xF4)
			hi = 0x8F; /* above U+10FFFF */
	} else {
		*bad = 1; /* 80..C1 and F5..FF never start a sequence */
		return 0;
	}
	for (i = 1; i <= need; i++) {
		if (i >= n || p[i] < lo || p[i] > hi) {
			*bad = i;
			return 0;
		}
		lo = 0x80;
		hi = 0xBF;
	}
	return need + 1;
}

/* Length of the leading ASCII run of p, scanning a word at a time. */
static size_t ascii_run(const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (i + 8 <= n) {
		uint64_t w;

		memcpy(&w, p + i, 8);
		if (w & HIGH_BITS)
			break;
		i += 8;
	}
	while (i < n && p[i] < 0x80)
		i++;
	return i;
}

bool sl_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, bad;

	while (i < len) {
		size_t k;

		i += ascii_run(p + i, len - i);
		if (i >= len)
			break;
		k = sl_utf8_seq(p + i, len - i, &bad);
		if (!k)
			return false;
		i += k;
	}
	return true;
}

long sl_utf8_repair(struct sl_buf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, start = 0, bad;
	long n = 0;

	if (sl_buf_reserve(out, len) < 0)
		return -SL_ENOMEM;
	while (i < len) {
		size_t k;

		i += ascii_run(p + i, len - i);
		if (i >= len)
			break;
		k = sl_utf8_seq(p + i, len - i, &bad);
		if (k) {
			i += k;
			continue;
		}
		if (sl_buf_append(out, s + start, i - start) < 0 ||
		    sl_buf_append(out, SL_UTF8_REPLACEMENT, 3) < 0)
			return -SL_ENOMEM;
		n++;
		i += bad;
		start = i;
	}
	if (sl_buf_append(out, s + start, len - start) < 0)
		return -SL_ENOMEM;
	return n;
}
