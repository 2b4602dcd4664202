/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_suggest.h - help for a misspelt name in a config: the closest known
 * name by edit distance ("did you mean 'X'?"), and the names of Fluent
 * Bit's plugins, so that a plugin sluice lacks is told apart from a typo.
 * Pure functions over strings; nothing here logs or allocates.
 */
#ifndef SL_SUGGEST_H
#define SL_SUGGEST_H

#include <stdbool.h>
#include <stddef.h>

/* Plugin kinds as Fluent Bit names its folders (in_, filter_, out_, ...). */
enum sl_plugin_kind {
	SL_KIND_INPUT,
	SL_KIND_FILTER,
	SL_KIND_OUTPUT,
	SL_KIND_PROCESSOR,
	SL_KIND_CUSTOM,
};

/*
 * Edit distance of a and b (insert, delete, replace, swap of adjacent
 * letters), ASCII case-insensitive. Names longer
 * than SL_SUGGEST_MAX_LEN are never close: the result is then SIZE_MAX.
 */
#define SL_SUGGEST_MAX_LEN 64
size_t sl_suggest_distance(const char *a, const char *b);

/*
 * The candidate closest to `word` when it is close enough to be a likely
 * typo (at most 1 edit for names up to 4 characters, 2 up to 8, 3 beyond),
 * and not `word` itself (case-insensitively); the first one on a tie.
 * NULL when none is. `cands` is a NULL-terminated array, borrowed.
 */
const char *sl_suggest_best(const char *word, const char *const *cands);

/*
 * Incremental form for candidates that are not in one array: keep a
 * struct sl_suggest zeroed, offer each candidate, read .best at the end.
 */
struct sl_suggest {
	const char *word;
	const char *best; /* borrowed from the offered candidates */
	size_t dist;
};
void sl_suggest_start(struct sl_suggest *s, const char *word);
void sl_suggest_offer(struct sl_suggest *s, const char *cand);

/* Is `name` (case-insensitive) a plugin of Fluent Bit 5.1 of this kind? */
bool sl_suggest_fluentbit_plugin(enum sl_plugin_kind kind, const char *name);
/* "input", "filter", "output", "processor" or "custom". */
const char *sl_suggest_kind_name(enum sl_plugin_kind kind);

#endif
