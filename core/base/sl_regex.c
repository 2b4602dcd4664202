/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_regex.c - Fluent Bit style patterns compiled with PCRE2 (see
 * sl_regex.h), and struct sl_regex, the handle the plugin ABI gives filters:
 * a pattern with its own match data, matched on the engine thread.
 */
#include "sl_regex.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sl_regex {
	pcre2_code *code;     /* owned */
	pcre2_match_data *md; /* owned; one per pattern: engine thread only */
};

pcre2_code *sl_regex_compile_opts(const char *pat, size_t len, unsigned flags,
				  uint32_t pcre_opts,
				  pcre2_compile_context *cctx, char *err,
				  size_t err_len)
{
	uint32_t opts = pcre_opts;
	size_t start = 0, end = len;
	const char *last = NULL;
	PCRE2_SIZE off;
	pcre2_code *re;
	int rc;

	if (!(flags & SL_REGEX_BYTES))
		opts |= PCRE2_UTF;
	if (!(flags & SL_REGEX_RAW)) {
		opts |= PCRE2_MULTILINE;
		if (len > 1 && pat[0] == '/')
			last = memrchr(pat, '/', len);
	}
	if (last && last != pat && last + 1 < pat + len) {
		uint32_t ruby = 0;
		const char *c;

		for (c = last + 1; c < pat + len; c++) {
			if (*c == 'i')
				ruby |= PCRE2_CASELESS;
			else if (*c == 'm')
				ruby |= PCRE2_DOTALL;
			else if (*c == 'x')
				ruby |= PCRE2_EXTENDED;
			else if (*c != 'o')
				break;
		}
		if (c == pat + len && ruby) {
			opts |= ruby;
			start = 1;
			end = (size_t)(last - pat);
		}
	}
	if (!(flags & SL_REGEX_RAW) && start == 0 && len > 1 && pat[0] == '/' &&
	    pat[len - 1] == '/') {
		start = 1;
		end = len - 1;
	}
	re = pcre2_compile((PCRE2_SPTR)(pat + start), end - start, opts, &rc,
			   &off, cctx);
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

pcre2_code *sl_regex_compile(const char *pat, char *err, size_t err_len)
{
	return sl_regex_compile_opts(pat, strlen(pat), 0, 0, NULL, err,
				     err_len);
}

struct sl_regex *sl_regex_create(const char *pattern, char *err, size_t err_len)
{
	struct sl_regex *re = calloc(1, sizeof(*re));

	if (!re) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	re->code = sl_regex_compile(pattern, err, err_len);
	if (re->code)
		re->md = pcre2_match_data_create(1, NULL);
	if (re->code && !re->md)
		snprintf(err, err_len, "out of memory");
	if (!re->md) {
		sl_regex_destroy(re);
		return NULL;
	}
	return re;
}

void sl_regex_destroy(struct sl_regex *re)
{
	if (!re)
		return;
	pcre2_match_data_free(re->md);
	pcre2_code_free(re->code);
	free(re);
}

const pcre2_code *sl_regex_code(const struct sl_regex *re)
{
	return re->code;
}

bool sl_regex_match(const struct sl_regex *re, const char *s, size_t len)
{
	return pcre2_match(re->code, (PCRE2_SPTR)s, len, 0, 0, re->md, NULL) >=
	       0;
}

bool sl_regex_match_field(struct sl_record *rec, const struct sl_accessor *acc,
			  const struct sl_regex *re, struct sl_text *scratch)
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
	return sl_regex_match(re, text, len);
}
