/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_metrics.h - the metrics registry: families (name, help, type, label
 * names, histogram buckets), each holding series keyed by label values.
 *
 * Families and series are created on the engine thread only; a series, once
 * created, is never freed before the registry and its value may be updated
 * from any thread (atomics). Rendering to the Prometheus text format lives in
 * sl_metrics_text.c.
 */
#ifndef SL_METRICS_H
#define SL_METRICS_H

#include "sl_common.h"

#include <stdbool.h>

/* enum sl_metric_type is part of the plugin ABI (sluice_plugin.h) */

#define SL_METRICS_MAX_LABELS	      16
#define SL_METRICS_DEFAULT_MAX_SERIES 1000

struct sl_metric_series {
	char **label_values; /* owned, one per family label */
	/*
	 * The value is int_part + value_bits (a double): whole increments,
	 * nearly all of them, take one atomic add; fractions and sets use the
	 * double. Read it with sl_metric_value().
	 */
	uint64_t int_part;
	uint64_t value_bits;
	uint64_t *bucket_counts; /* histogram: one per bucket (not cumulative) +
				    +Inf */
	uint64_t count_bits,
	    sum_bits; /* histogram count (integer) and sum (double) */
	struct sl_metric_series *next;
};

struct sl_metric_family {
	char *name, *help; /* owned */
	enum sl_metric_type type;
	size_t n_labels;
	char **label_names; /* owned */
	double *buckets;    /* owned, ascending, without +Inf */
	size_t n_buckets;
	size_t max_series; /* 0: unlimited */
	size_t n_series;
	struct sl_metric_series *series; /* in creation order */
	struct sl_metric_series *series_tail;
	char *scope; /* owned tag the family is emitted under, or NULL
		      * for internal metrics (see sl_metrics_text) */
	struct sl_metric_family *next;
};

struct sl_metrics {
	struct sl_metric_family *families; /* in creation order */
	struct sl_metric_family *tail;
	/* counts series refused by a family's cap */
	struct sl_metric_series *series_dropped;
};

void sl_metrics_init(struct sl_metrics *reg);
void sl_metrics_destroy(struct sl_metrics *reg);

/*
 * Returns the family `name`, creating it when absent. An existing family is
 * returned only when type, label names and buckets are the same (help may
 * differ: the first wins); otherwise NULL with *err set to a static message.
 * `buckets` is for histograms only. NULL and *err = "out of memory" on ENOMEM.
 */
struct sl_metric_family *
sl_metrics_family(struct sl_metrics *reg, const char *name, const char *help,
		  enum sl_metric_type type, const char *const *label_names,
		  size_t n_labels, const double *buckets, size_t n_buckets,
		  const char **err);
struct sl_metric_family *sl_metrics_find(const struct sl_metrics *reg,
					 const char *name);

/*
 * Returns the series for `label_values` (n_labels of them), creating it.
 * NULL when the family is at max_series (the refusal is counted in
 * sluice_metrics_series_dropped_total) or on ENOMEM. Engine thread only.
 */
struct sl_metric_series *sl_metric_series_get(struct sl_metrics *reg,
					      struct sl_metric_family *fam,
					      const char *const *label_values);

/* Value updates; thread-safe. */
void sl_metric_add(struct sl_metric_series *s, double v);
void sl_metric_set(struct sl_metric_series *s, double v);
void sl_metric_observe(const struct sl_metric_family *fam,
		       struct sl_metric_series *s, double v);
double sl_metric_value(const struct sl_metric_series *s);

/*
 * A SIGHUP reload: adds the counters and histograms of `src` into the
 * families of `dst` with the same name, type, label names and buckets,
 * creating series as needed (within dst's caps), so that the new
 * pipeline's counters continue the old ones. Gauges are state and are not
 * carried. Engine thread only; nothing may update either registry meanwhile.
 */
void sl_metrics_carry(struct sl_metrics *dst, const struct sl_metrics *src);

#endif
