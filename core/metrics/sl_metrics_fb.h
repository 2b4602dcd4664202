/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_metrics_fb.h - the internal metrics under Fluent Bit's names
 * ([SERVICE] metrics.names fluentbit|both), so that dashboards and alert
 * rules written for Fluent Bit work unchanged: sluice_output_errors_total
 * {name} is also fluentbit_output_errors_total{name}, and so on, with
 * Fluent Bit's label names (a sluice label Fluent Bit lacks, such as the
 * reason of dropped records, is summed away), plus the process families
 * Fluent Bit adds (fluentbit_uptime, fluentbit_process_start_time_seconds,
 * fluentbit_build_info, fluentbit_hot_reloaded_times, by hostname).
 * The view is built at scrape time into a scratch registry: the hot path
 * updates one series per event whatever the names.
 */
#ifndef SL_METRICS_FB_H
#define SL_METRICS_FB_H

#include "sl_metrics.h"

#include <stdbool.h>

enum sl_metrics_names {
	SL_METRICS_NAMES_SLUICE,    /* sluice_* only (the default) */
	SL_METRICS_NAMES_FLUENTBIT, /* fluentbit_* where Fluent Bit has one */
	SL_METRICS_NAMES_BOTH,
};

/* "sluice", "fluentbit" or "both" (any case). 0 or -SL_EINVAL. */
int sl_metrics_names_parse(const char *s, enum sl_metrics_names *out);

/* What the process families say; strings borrowed for the call. */
struct sl_metrics_fb_process {
	const char *hostname;
	const char *version;
	double uptime_s;     /* seconds running */
	double start_time_s; /* Unix time of the start */
	double reloads;	     /* hot reloads so far */
};

/*
 * Adds to `dst` (an initialised registry, normally empty) the Fluent Bit
 * families of the internal families of `src` that have one, and the
 * process families. 0 or -SL_ENOMEM. Engine thread.
 */
int sl_metrics_fb_view(const struct sl_metrics *src,
		       const struct sl_metrics_fb_process *proc,
		       struct sl_metrics *dst);

/*
 * A render filter: internal families without a Fluent Bit name (they are
 * rendered under their own names in fluentbit mode). `arg` unused.
 */
bool sl_metrics_fb_unmapped(const struct sl_metric_family *fam, void *arg);

#endif
