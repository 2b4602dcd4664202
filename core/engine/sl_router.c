/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_router.c - Match (wildcards) and Match_Regex for tags. The wildcard
 * matcher backtracks only to the last `*`, so it is linear for the
 * patterns users write and never recursive.
 */
#include "sl_router.h"
#include "sl_regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
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

int sl_route_init(struct sl_route *r, const char *match,
		  const char *match_regex, char *errbuf, size_t errbuf_len)
{
	memset(r, 0, sizeof(*r));
	if (match) {
		r->match = strdup(match);
		if (!r->match)
			return -SL_ENOMEM;
	}
	if (match_regex) {
		/* bytes (a tag is not text), raw (no /re/i syntax), JIT: the
		 * one PCRE2 wrapper */
		pcre2_code *re = sl_regex_compile_opts(
		    match_regex, strlen(match_regex),
		    SL_REGEX_BYTES | SL_REGEX_RAW, 0, NULL, errbuf, errbuf_len);

		if (!re) {
			sl_route_destroy(r);
			return -SL_EINVAL;
		}
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
		/* Fluent Bit's Match_Regex is a search, not an anchored match.
		 */
		return pcre2_match(r->regex, (PCRE2_SPTR)tag, tag_len, 0, 0,
				   r->match_data, NULL) >= 0;
	}
	if (r->match)
		return sl_match_wildcard(r->match, tag, tag_len);
	return false;
}
