/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_router.c - Match (wildcards) and Match_Regex for tags. The wildcard
 * matcher backtracks only to the last `*`, so it is linear for the
 * patterns users write and never recursive.
 */
#include "sl_router.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool sl_match_wildcard(const char *pattern, const char *tag, size_t tag_len)
{
	const char *p = pattern, *star = NULL;
	size_t t = 0, star_t = 0;

	while (t < tag_len) {
		if (*p == '*') {
			star = ++p;
			star_t = t;
		} else if (*p && *p == tag[t]) {
			p++;
			t++;
		} else if (star) {
			p = star;
			t = ++star_t;
		} else {
			return false;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

int sl_route_init(struct sl_route *r, const char *match, const char *match_regex,
		  char *errbuf, size_t errbuf_len)
{
	memset(r, 0, sizeof(*r));
	if (match) {
		r->match = strdup(match);
		if (!r->match)
			return -SL_ENOMEM;
	}
	if (match_regex) {
		int code;
		PCRE2_SIZE off;
		pcre2_code *re = pcre2_compile((PCRE2_SPTR)match_regex,
					       PCRE2_ZERO_TERMINATED, 0, &code,
					       &off, NULL);

		if (!re) {
			PCRE2_UCHAR msg[256];

			pcre2_get_error_message(code, msg, sizeof(msg));
			snprintf(errbuf, errbuf_len, "%s at offset %zu", msg,
				 (size_t)off);
			sl_route_destroy(r);
			return -SL_EINVAL;
		}
		pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* best effort */
		r->regex = re;
		r->match_data = pcre2_match_data_create_from_pattern(re, NULL);
		if (!r->match_data) {
			sl_route_destroy(r);
			return -SL_ENOMEM;
		}
	}
	return 0;
}

void sl_route_destroy(struct sl_route *r)
{
	free(r->match);
	pcre2_match_data_free(r->match_data);
	pcre2_code_free(r->regex);
	memset(r, 0, sizeof(*r));
}

bool sl_route_matches(const struct sl_route *r, const char *tag, size_t tag_len)
{
	if (r->regex) {
		/* Fluent Bit's Match_Regex is a search, not an anchored match. */
		return pcre2_match(r->regex, (PCRE2_SPTR)tag, tag_len, 0, 0,
				   r->match_data, NULL) >= 0;
	}
	if (r->match)
		return sl_match_wildcard(r->match, tag, tag_len);
	return false;
}
