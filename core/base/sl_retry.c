/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_retry.c - Retry_Limit values and exponential backoff with full jitter:
 * the delay is uniform in [0, min(cap, base * 2^(n-1))], which spreads
 * retries of many chunks instead of sending them in waves.
 */
#include "sl_retry.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

int sl_retry_parse_limit(const char *s, int *limit)
{
	char *end;
	long v;

	if (strcasecmp(s, "no_limits") == 0 || strcasecmp(s, "false") == 0 ||
	    strcasecmp(s, "off") == 0) {
		*limit = SL_RETRY_FOREVER;
		return 0;
	}
	/* "0" is read as it reads: no retries (Fluent Bit warns, then uses 1)
	 */
	if (strcasecmp(s, "no_retries") == 0 || strcmp(s, "0") == 0) {
		*limit = 0;
		return 0;
	}
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end != '\0' || v < 1 || v > 1000000)
		return -SL_EINVAL;
	*limit = (int)v;
	return 0;
}

double sl_retry_backoff(int attempt, double base, double cap, double rnd)
{
	double ceiling;

	if (attempt < 1)
		attempt = 1;
	/* 2^62 overflows nothing in a double; clamp the exponent anyway. */
	ceiling = base * ldexp(1.0, attempt > 62 ? 62 : attempt - 1);
	if (ceiling > cap)
		ceiling = cap;
	if (rnd < 0)
		rnd = 0;
	if (rnd >= 1)
		rnd = 0.999999999;
	return ceiling * rnd;
}

double sl_retry_random(void)
{
	static _Thread_local unsigned short seed[3];
	static _Thread_local int seeded;

	if (!seeded) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		seed[0] = (unsigned short)ts.tv_nsec;
		seed[1] = (unsigned short)(ts.tv_nsec >> 16);
		seed[2] = (unsigned short)((uintptr_t)&seeded >> 4);
		seeded = 1;
	}
	return erand48(seed);
}
