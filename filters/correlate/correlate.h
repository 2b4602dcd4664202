/* SPDX-License-Identifier: Apache-2.0 */
/*
 * correlate.h - the correlate filter's parsing helpers, exposed for unit
 * tests and the fuzz target. The filter itself is sl_filter_correlate.
 */
#ifndef SL_CORRELATE_H
#define SL_CORRELATE_H

#include <stddef.h>

/*
 * Parses a W3C traceparent ("00-<32 hex>-<16 hex>-<2 hex>", lower case,
 * trace-id and parent-id not all zero, version not "ff"). On success
 * returns 0 and points *trace_id at the 32 hex digits inside `s`
 * (borrowed); otherwise -SL_EPARSE.
 */
int sl_correlate_traceparent(const char *s, size_t len, const char **trace_id);

#endif
