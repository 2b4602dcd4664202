/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_condition.h - Fluent Bit's record conditions (a processor's
 * `condition`, a route's `condition`): rules joined by `and` or `or`, each
 * comparing one field of a record, read with a record accessor and turned
 * into text as Fluent Bit's record accessor does, with eq, neq, gt, lt,
 * gte, lte, regex, not_regex, in or not_in.
 *
 * Fluent Bit's semantics, kept on purpose: a field that is absent reads as
 * the empty text (so `neq` and `not_in` are true for it, `eq` false); an
 * array field makes its rule false whatever the operator; a float reads as
 * printf's "%f" ("1.500000"); the numeric operators compare atof() of the
 * text. A rule on a context sluice records do not have (group or OTel
 * attributes) has no value at all: it is false under `and` and skipped
 * under `or`. `metadata` exists but is empty (sluice records carry none).
 * Not thread-safe: a condition owns its regex match data (engine thread).
 */
#ifndef SL_CONDITION_H
#define SL_CONDITION_H

#include "sl_record.h"

#include <stdbool.h>
#include <stddef.h>

struct sl_condition;

/* An empty condition joined by `or` or `and`; with no rules it is true
 * for `and`, false for `or` (as Fluent Bit). NULL on ENOMEM. */
struct sl_condition *sl_condition_create(bool op_or);
void sl_condition_destroy(struct sl_condition *cond);

/*
 * Adds a rule. `op` is one of the operator names (any case); `values` are
 * `n` texts (copied): exactly one for every operator but in/not_in, which
 * take one or more. `context` is NULL or "body", "metadata",
 * "group_metadata", "group_attributes", "otel_resource_attributes",
 * "otel_scope_attributes", "otel_scope_metadata". Returns 0, -SL_ENOMEM,
 * or -SL_EINVAL with a message in `err` (which option is wrong and why).
 */
int sl_condition_add_rule(struct sl_condition *cond, const char *field,
			  const char *op, const char *const *values, size_t n,
			  const char *context, char *err, size_t err_len);

/* Rules added so far. */
size_t sl_condition_rules(const struct sl_condition *cond);

/*
 * Whether `rec` satisfies the condition (NULL: always). Reads fields
 * through the record's view (built on demand); a record whose body cannot
 * be read satisfies no rule.
 */
bool sl_condition_eval(const struct sl_condition *cond, struct sl_record *rec);

#endif
