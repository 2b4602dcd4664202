/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_health.c - the health rule over per-second snapshots of the output
 * error and failed-retry totals (see sl_health.h).
 */
#include "sl_health.h"

#include <stdlib.h>
#include <string.h>

int sl_health_init(struct sl_health *h, int64_t period_s, int64_t errors_limit,
		   int64_t failed_limit, uint64_t errors, uint64_t failed)
{
	memset(h, 0, sizeof(*h));
	if (period_s < 1)
		period_s = 1;
	/* snapshots at t-period .. t: period + 1 of them */
	h->cap = (size_t)period_s + 1;
	h->errors = calloc(h->cap, sizeof(*h->errors));
	h->failed = calloc(h->cap, sizeof(*h->failed));
	if (!h->errors || !h->failed) {
		sl_health_destroy(h);
		return -SL_ENOMEM;
	}
	h->errors_limit = errors_limit > 0 ? (uint64_t)errors_limit : 0;
	h->failed_limit = failed_limit > 0 ? (uint64_t)failed_limit : 0;
	sl_health_tick(h, errors, failed);
	return 0;
}

void sl_health_destroy(struct sl_health *h)
{
	free(h->errors);
	free(h->failed);
	memset(h, 0, sizeof(*h));
}

void sl_health_tick(struct sl_health *h, uint64_t errors, uint64_t failed)
{
	size_t at;

	if (!h->cap)
		return;
	if (h->n < h->cap) {
		at = (h->head + h->n++) % h->cap;
	} else {
		at = h->head; /* overwrite the oldest */
		h->head = (h->head + 1) % h->cap;
	}
	h->errors[at] = errors;
	h->failed[at] = failed;
}

void sl_health_counts(const struct sl_health *h, uint64_t errors,
		      uint64_t failed, uint64_t *period_errors,
		      uint64_t *period_failed)
{
	*period_errors = *period_failed = 0;
	if (!h->n)
		return;
	/* counters only grow; a smaller total (never expected) is no error */
	if (errors > h->errors[h->head])
		*period_errors = errors - h->errors[h->head];
	if (failed > h->failed[h->head])
		*period_failed = failed - h->failed[h->head];
}

bool sl_health_ok(const struct sl_health *h, uint64_t errors, uint64_t failed)
{
	uint64_t e, f;

	if (!h->n)
		return true;
	sl_health_counts(h, errors, failed, &e, &f);
	/* Fluent Bit's code and docs: strictly more than the limit fails */
	return e <= h->errors_limit && f <= h->failed_limit;
}
