/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_metrics_text.h - renders the metrics registry in the Prometheus text
 * exposition format 0.0.4, and validates metric and label names for the
 * code that creates families. It reads the registry; it never changes it.
 */
#ifndef SL_METRICS_TEXT_H
#define SL_METRICS_TEXT_H

#include "sl_metrics.h"

#include <stdbool.h>

/* The Content-Type of what sl_metrics_text_render() produces. */
#define SL_METRICS_TEXT_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* [a-zA-Z_:][a-zA-Z0-9_:]* */
bool sl_metrics_valid_name(const char *name);
/*
 * [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" (reserved by Prometheus).
 * Callers also refuse "le" on histograms.
 */
bool sl_metrics_valid_label_name(const char *name);

/* Chooses the families to render (by their scope, usually). */
typedef bool (*sl_metrics_filter_fn)(const struct sl_metric_family *fam,
				     void *arg);

struct sl_metrics_label {
	const char *name;  /* borrowed; a valid label name */
	const char *value; /* borrowed; any bytes (repaired to UTF-8) */
};

struct sl_metrics_text_opts {
	sl_metrics_filter_fn filter; /* NULL: every family */
	void *filter_arg;
	/*
	 * Constant labels added to every sample (Add_Label). A family's own
	 * label of the same name wins, so no sample carries a name twice.
	 */
	const struct sl_metrics_label *labels;
	size_t n_labels;
	int64_t timestamp_ms; /* appended to every sample when > 0 */
};

/*
 * Appends the families chosen by `opts` (NULL: all, no extra labels) to
 * `out`: one # HELP and # TYPE per family that has series, then its
 * samples. Families whose name or label names are invalid are skipped.
 * Engine thread (families and series are created there); values are read
 * atomically. Returns 0 or -SL_ENOMEM (out may hold a partial render).
 */
int sl_metrics_text_render(const struct sl_metrics *reg,
			   const struct sl_metrics_text_opts *opts,
			   struct sl_buf *out);

/*
 * Formats a sample value as Prometheus reads it: "NaN", "+Inf", "-Inf",
 * integers without exponent or fraction ("15"), other values in the
 * shortest form that reads back to the same double. `buf` gets a
 * NUL-terminated string; returns its length.
 */
#define SL_METRICS_NUM_MAX 32
size_t sl_metrics_format_number(char buf[SL_METRICS_NUM_MAX], double v);

/* A filter that keeps internal metrics only (scope NULL). */
bool sl_metrics_filter_internal(const struct sl_metric_family *fam, void *arg);

#endif
