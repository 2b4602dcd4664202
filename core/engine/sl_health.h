/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_health.h - Fluent Bit's health rule ([SERVICE] Health_Check): the
 * service is unhealthy when, over the last HC_Period seconds, output
 * errors exceed HC_Errors_Count or failed retries exceed
 * HC_Retry_Failure_Count. Totals are snapshotted once a second
 * (sl_health_tick); the period's counts are the live totals minus the
 * oldest snapshot still inside the period. Pure state, no clock: testable.
 */
#ifndef SL_HEALTH_H
#define SL_HEALTH_H

#include "sl_common.h"

#include <stdbool.h>

struct sl_health {
	uint64_t *errors, *failed; /* ring of snapshots, owned */
	size_t cap, n, head;	   /* head: index of the oldest */
	uint64_t errors_limit, failed_limit;
};

/* period_s >= 1. Takes the first snapshot from the totals at start. */
int sl_health_init(struct sl_health *h, int64_t period_s, int64_t errors_limit,
		   int64_t failed_limit, uint64_t errors, uint64_t failed);
void sl_health_destroy(struct sl_health *h);
/* One snapshot of the totals; called every second. */
void sl_health_tick(struct sl_health *h, uint64_t errors, uint64_t failed);
/*
 * The errors and failed retries inside the period, given the current
 * totals (what /api/v2/health reports beside its verdict).
 */
void sl_health_counts(const struct sl_health *h, uint64_t errors,
		      uint64_t failed, uint64_t *period_errors,
		      uint64_t *period_failed);
/* True while healthy, given the current totals. */
bool sl_health_ok(const struct sl_health *h, uint64_t errors, uint64_t failed);

#endif
