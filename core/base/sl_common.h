/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_common.h - small helpers every core file uses: error codes (from the
 * public ABI header), branch hints, array length, clocks, hex digits.
 * Nothing with state.
 */
#ifndef SL_COMMON_H
#define SL_COMMON_H

/* the core implements the ABI: plain prototypes, not the table wrappers */
#ifndef SLUICE_HOST
#define SLUICE_HOST 1
#endif
#include "sluice_plugin.h"

#include <stddef.h>
#include <stdint.h>

#define SL_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define SL_LIKELY(x)	__builtin_expect(!!(x), 1)
#define SL_UNLIKELY(x)	__builtin_expect(!!(x), 0)
#define SL_UNUSED	__attribute__((unused))

#define SL_NS_PER_SEC INT64_C(1000000000)

/* Human-readable text for a negative -SL_E* code. */
const char *sl_strerror(int err);

/* CLOCK_REALTIME in nanoseconds since the epoch. */
int64_t sl_now_ns(void);
/* CLOCK_MONOTONIC in nanoseconds. */
int64_t sl_mono_ns(void);

/* The value of one hexadecimal digit (either case), or -1. */
static inline int sl_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif
