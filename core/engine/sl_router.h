/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_router.h - tag matching for filters and outputs: Fluent Bit's `Match`
 * wildcard patterns (`*` matches any run of characters, including dots and
 * nothing) and `Match_Regex` (PCRE2, searched in the tag as Fluent Bit does:
 * anchor it with ^...$ to match whole tags).
 */
#ifndef SL_ROUTER_H
#define SL_ROUTER_H

#include "sl_common.h"

#include <stdbool.h>

/* Wildcard match of a whole tag against `pattern` (case-sensitive). */
bool sl_match_wildcard(const char *pattern, const char *tag, size_t tag_len);

struct sl_route {
	char *match; /* owned; NULL when not set */
	void *regex; /* pcre2_code*, owned; NULL when not set */
	void *match_data;
};

/*
 * Prepares a route. Both NULL: the route matches nothing (Fluent Bit warns
 * and routes nothing). Returns 0, -SL_EINVAL (bad regex: *err set to a
 * message in `errbuf`), or -SL_ENOMEM.
 */
int sl_route_init(struct sl_route *r, const char *match,
		  const char *match_regex, char *errbuf, size_t errbuf_len);
void sl_route_destroy(struct sl_route *r);
bool sl_route_matches(const struct sl_route *r, const char *tag,
		      size_t tag_len);

#endif
