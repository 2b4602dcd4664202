/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_tag_records.h - Fluent Bit's per-tag record counters
 * (service.telemetry.metrics.logs.tag_records, YAML): every record an
 * input emits is counted under {name, tag} in
 * sluice_input_logs_tag_records_total, or, when the tag is longer than
 * max_tag_length or max_series (name, tag) pairs exist already, under
 * {name, reason} in sluice_input_logs_tag_records_untracked_total, so no
 * record goes uncounted. An input's own telemetry block overrides the
 * service's `enabled`. Engine thread only.
 */
#ifndef SL_TAG_RECORDS_H
#define SL_TAG_RECORDS_H

#include "sl_metrics.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One per engine: the two families and the limits (<= 0: no limit). */
struct sl_tag_records {
	struct sl_metric_family *tracked, *untracked; /* borrowed */
	int64_t max_series, max_tag_length;
};

/*
 * One per input that counts: a direct-mapped cache of tags to their
 * series, so that an input alternating between files' tags does not scan
 * the family for every record.
 */
#define SL_TAG_RECORDS_CACHE 64

struct sl_tag_records_slot {
	char *tag; /* owned copy, NUL-terminated */
	size_t len;
	struct sl_metric_series *series; /* borrowed: lives with the registry */
};

struct sl_tag_records_input {
	const char *name; /* borrowed: the input's instance name */
	struct sl_tag_records_slot cache[SL_TAG_RECORDS_CACHE];
};

/*
 * Creates both families in `reg` (they exist only when some input
 * counts, as in Fluent Bit). 0 or -SL_ENOMEM.
 */
int sl_tag_records_init(struct sl_tag_records *tr, struct sl_metrics *reg,
			int64_t max_series, int64_t max_tag_length);
/* Counts `n` records of `tag` (any bytes, `len` of them) for `in`. */
void sl_tag_records_count(struct sl_tag_records *tr, struct sl_metrics *reg,
			  struct sl_tag_records_input *in, const char *tag,
			  size_t len, uint64_t n);
void sl_tag_records_input_destroy(struct sl_tag_records_input *in);

#endif
