/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_regex.c - Fluent Bit style patterns compiled with PCRE2 (see
 * sl_regex.h). Matching stays with the callers: each owns its match data.
 */
#include "sl_regex.h"
#include "sluice_plugin.h"

#include <stdio.h>
#include <string.h>

pcre2_code *sl_regex_compile(const char *pat, char *err, size_t err_len)
{
	uint32_t opts = PCRE2_UTF | PCRE2_MULTILINE;
	size_t len = strlen(pat), start = 0, end = len;
	const char *last = len > 1 && pat[0] == '/' ? strrchr(pat, '/') : NULL;
	PCRE2_SIZE off;
	pcre2_code *re;
	int rc;

	if (last && last != pat && last[1] != '\0') {
		uint32_t flags = 0;
		const char *c;

		for (c = last + 1; *c; c++) {
			if (*c == 'i')
				flags |= PCRE2_CASELESS;
			else if (*c == 'm')
				flags |= PCRE2_DOTALL;
			else if (*c == 'x')
				flags |= PCRE2_EXTENDED;
			else if (*c != 'o')
				break;
		}
		if (*c == '\0' && flags) {
			opts |= flags;
			start = 1;
			end = (size_t)(last - pat);
		}
	}
	if (start == 0 && len > 1 && pat[0] == '/' && pat[len - 1] == '/') {
		start = 1;
		end = len - 1;
	}
	re = pcre2_compile((PCRE2_SPTR)(pat + start), end - start, opts, &rc,
			   &off, NULL);
	if (!re) {
		PCRE2_UCHAR msg[160];

		pcre2_get_error_message(rc, msg, sizeof(msg));
		snprintf(err, err_len, "%s at offset %zu", (const char *)msg,
			 (size_t)off);
		return NULL;
	}
	/* Without JIT the interpreter still works, only slower. */
	pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	return re;
}

bool sl_regex_match_field(struct sl_record *rec, const struct sl_accessor *acc,
			  const pcre2_code *re, pcre2_match_data *md,
			  struct sl_text *scratch)
{
	struct sl_value v;
	const char *text;
	size_t len;

	if (sl_record_get(rec, acc, &v) < 0 || v.type != SL_VAL_STRING)
		return false;
	if (v.raw_len >= 2 && !memchr(v.raw, '\\', v.raw_len)) {
		text = v.raw + 1; /* no escapes: the inside of the quotes */
		len = v.raw_len - 2;
	} else if (sl_record_get_text(rec, acc, scratch, &text, &len) < 0) {
		return false;
	}
	return pcre2_match(re, (PCRE2_SPTR)text, len, 0, 0, md, NULL) >= 0;
}
