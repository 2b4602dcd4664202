/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_metrics_fb.c - the Fluent Bit view of the internal metrics (see
 * sl_metrics_fb.h). One table says which sluice family is which Fluent
 * Bit family and which of its labels Fluent Bit has; names, help and
 * labels follow Fluent Bit's cmetrics definitions (flb_input.c,
 * flb_filter.c, flb_output.c, flb_metrics.c).
 */
#include "sl_metrics_fb.h"

#include <string.h>
#include <strings.h>

struct fb_name {
	const char *sluice, *fluentbit, *help;
	const char *labels[2]; /* Fluent Bit's label names (a subset) */
};

static const struct fb_name fb_names[] = {
    {"sluice_input_records_total",
     "fluentbit_input_records_total",
     "Number of input records.",
     {"name"}},
    {"sluice_input_bytes_total",
     "fluentbit_input_bytes_total",
     "Number of input bytes.",
     {"name"}},
    {"sluice_input_paused",
     "fluentbit_input_ingestion_paused",
     "Is the input paused or not?",
     {"name"}},
    {"sluice_input_logs_tag_records_total",
     "fluentbit_input_logs_tag_records_total",
     "Number of input log records by tag.",
     {"name", "tag"}},
    {"sluice_input_logs_tag_records_untracked_total",
     "fluentbit_input_logs_tag_records_untracked_total",
     "Number of input log records not tracked by tag.",
     {"name", "reason"}},
    {"sluice_filter_records_total",
     "fluentbit_filter_records_total",
     "Total number of new records processed.",
     {"name"}},
    {"sluice_filter_drop_records_total",
     "fluentbit_filter_drop_records_total",
     "Total number of dropped records.",
     {"name"}},
    {"sluice_output_proc_records_total",
     "fluentbit_output_proc_records_total",
     "Number of processed output records.",
     {"name"}},
    {"sluice_output_proc_bytes_total",
     "fluentbit_output_proc_bytes_total",
     "Number of processed output bytes.",
     {"name"}},
    {"sluice_output_errors_total",
     "fluentbit_output_errors_total",
     "Number of output errors.",
     {"name"}},
    {"sluice_output_retries_total",
     "fluentbit_output_retries_total",
     "Number of output retries.",
     {"name"}},
    {"sluice_output_retries_failed_total",
     "fluentbit_output_retries_failed_total",
     "Number of abandoned batches because the maximum number of re-tries "
     "was reached.",
     {"name"}},
    {"sluice_output_dropped_records_total",
     "fluentbit_output_dropped_records_total",
     "Number of dropped records.",
     {"name"}},
};

int sl_metrics_names_parse(const char *s, enum sl_metrics_names *out)
{
	static const char *const names[] = {"sluice", "fluentbit", "both"};

	for (size_t i = 0; s && i < SL_ARRAY_LEN(names); i++)
		if (strcasecmp(s, names[i]) == 0) {
			*out = (enum sl_metrics_names)i;
			return 0;
		}
	return -SL_EINVAL;
}

static const struct fb_name *mapping(const char *sluice_name)
{
	for (size_t i = 0; i < SL_ARRAY_LEN(fb_names); i++)
		if (strcmp(fb_names[i].sluice, sluice_name) == 0)
			return &fb_names[i];
	return NULL;
}

bool sl_metrics_fb_unmapped(const struct sl_metric_family *fam, void *arg)
{
	(void)arg;
	return !fam->scope && !mapping(fam->name);
}

/* The index of label `name` in `f`, or -1. */
static int label_index(const struct sl_metric_family *f, const char *name)
{
	for (size_t i = 0; i < f->n_labels; i++)
		if (strcmp(f->label_names[i], name) == 0)
			return (int)i;
	return -1;
}

/* One Fluent Bit family from its sluice family: labels projected,
 * series that become equal summed. */
static int copy_family(const struct sl_metric_family *f,
		       const struct fb_name *m, struct sl_metrics *dst)
{
	const char *values[2];
	int idx[2];
	size_t n = 0;
	const char *err;
	struct sl_metric_family *d;

	if (f->type == SL_METRIC_HISTOGRAM)
		return 0; /* none is mapped; a histogram is not summable so */
	for (; n < SL_ARRAY_LEN(m->labels) && m->labels[n]; n++) {
		idx[n] = label_index(f, m->labels[n]);
		if (idx[n] < 0)
			return 0; /* not the family the table means */
	}
	d = sl_metrics_family(dst, m->fluentbit, m->help, f->type, m->labels, n,
			      NULL, 0, &err);
	if (!d)
		return -SL_ENOMEM;
	d->max_series = 0;
	for (const struct sl_metric_series *s = f->series; s; s = s->next) {
		struct sl_metric_series *ds;

		for (size_t i = 0; i < n; i++)
			values[i] = s->label_values[idx[i]];
		ds = sl_metric_series_get(dst, d, values);
		if (!ds)
			return -SL_ENOMEM;
		sl_metric_add(ds, sl_metric_value(s));
	}
	return 0;
}

static int process_family(struct sl_metrics *dst, const char *name,
			  const char *help, enum sl_metric_type type,
			  const char *const *labels, const char *const *values,
			  size_t n, double v)
{
	const char *err;
	struct sl_metric_family *f =
	    sl_metrics_family(dst, name, help, type, labels, n, NULL, 0, &err);
	struct sl_metric_series *s =
	    f ? sl_metric_series_get(dst, f, values) : NULL;

	if (!s)
		return -SL_ENOMEM;
	sl_metric_set(s, v);
	return 0;
}

int sl_metrics_fb_view(const struct sl_metrics *src,
		       const struct sl_metrics_fb_process *proc,
		       struct sl_metrics *dst)
{
	static const char *const host[] = {"hostname"};
	static const char *const build[] = {"hostname", "version", "os"};
	const char *host_v[] = {proc->hostname};
	const char *build_v[] = {proc->hostname, proc->version, "linux"};
	double start = (double)(int64_t)proc->start_time_s;

	for (const struct sl_metric_family *f = src->families; f; f = f->next) {
		const struct fb_name *m = f->scope ? NULL : mapping(f->name);

		if (m && copy_family(f, m, dst) < 0)
			return -SL_ENOMEM;
	}
	/*
	 * Whole seconds and the start time as build_info's value, as Fluent
	 * Bit's flb_metrics.c has them. Fluent Bit types uptime and
	 * hot_reloaded_times as counters without _total, which promtool
	 * refuses; as gauges the names queries use stay Fluent Bit's.
	 */
	if (process_family(dst, "fluentbit_uptime",
			   "Number of seconds that Fluent Bit has been "
			   "running.",
			   SL_METRIC_GAUGE, host, host_v, 1,
			   (double)(int64_t)proc->uptime_s) < 0 ||
	    process_family(dst, "fluentbit_process_start_time_seconds",
			   "Start time of the process since unix epoch in "
			   "seconds.",
			   SL_METRIC_GAUGE, host, host_v, 1, start) < 0 ||
	    process_family(dst, "fluentbit_build_info",
			   "Build version information.", SL_METRIC_GAUGE, build,
			   build_v, 3, start) < 0 ||
	    process_family(dst, "fluentbit_hot_reloaded_times",
			   "Collect the count of hot reloaded times.",
			   SL_METRIC_GAUGE, host, host_v, 1, proc->reloads) < 0)
		return -SL_ENOMEM;
	return 0;
}
