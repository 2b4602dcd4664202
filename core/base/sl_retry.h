/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_retry.h - retry policy: exponential backoff with full jitter and the
 * Retry_Limit option's values. Pure functions, so the math is unit tested
 * without clocks.
 */
#ifndef SL_RETRY_H
#define SL_RETRY_H

#include "sl_common.h"

/* Retry_Limit parsed: < 0 retries forever, 0 never retries, N > 0 N times. */
#define SL_RETRY_FOREVER (-1)
/*
 * Parses "no_limits", "false", "no_retries" or a positive integer.
 * Returns 0 or -SL_EINVAL.
 */
int sl_retry_parse_limit(const char *s, int *limit);

/*
 * Delay before retry number `attempt` (1 for the first retry), in seconds:
 * uniform in [0, min(cap, base * 2^(attempt-1))], using `rnd` in [0, 1).
 * Never more than cap; base and cap are seconds.
 */
double sl_retry_backoff(int attempt, double base, double cap, double rnd);

/* A thread-safe uniform random number in [0, 1). */
double sl_retry_random(void);

#endif
