/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_engine_metrics.c - what the service API's metrics endpoints answer
 * (see sl_engine_metrics.h). The Fluent Bit names are a view built per
 * scrape (sl_metrics_fb.c) into a scratch registry freed at once, so the
 * counters the data path updates stay one set whatever the names.
 */
#include "sl_engine_metrics.h"
#include "sl_metrics_text.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef SLUICE_VERSION
#define SLUICE_VERSION "0.1.0"
#endif

#define RELOADS "sluice_reloads_total"

double sl_engine_uptime(const struct sl_engine *eng)
{
	return eng->start_mono_ns
		   ? (double)(sl_mono_ns() - eng->start_mono_ns) / 1e9
		   : 0;
}

uint64_t sl_engine_reloads(const struct sl_engine *eng)
{
	const struct sl_metric_family *f =
	    sl_metrics_find(&eng->metrics, RELOADS);

	return f && f->series ? (uint64_t)sl_metric_value(f->series) : 0;
}

void sl_engine_count_reload(struct sl_engine *eng)
{
	struct sl_metric_series *s = sl_engine_series1(
	    eng, RELOADS, "Configuration reloads (SIGHUP or /api/v2/reload)",
	    SL_METRIC_COUNTER, NULL, NULL);

	if (s)
		sl_metric_add(s, 1);
}

static void refresh_uptime(struct sl_engine *eng)
{
	if (eng->m_uptime)
		sl_metric_set(eng->m_uptime, sl_engine_uptime(eng));
}

/* The Fluent Bit view of eng's metrics into `view` (initialised). */
static int fluentbit_view(struct sl_engine *eng, struct sl_metrics *view)
{
	char host[256];
	double up = sl_engine_uptime(eng);
	struct sl_metrics_fb_process proc = {
	    .hostname = host,
	    .version = SLUICE_VERSION,
	    .uptime_s = up,
	    .start_time_s = (double)time(NULL) - up,
	    .reloads = (double)sl_engine_reloads(eng),
	};

	if (gethostname(host, sizeof(host)) < 0)
		strcpy(host, "unknown");
	host[sizeof(host) - 1] = 0;
	return sl_metrics_fb_view(&eng->metrics, &proc, view);
}

int sl_engine_metrics_prometheus(struct sl_engine *eng, struct sl_buf *out)
{
	struct sl_metrics_text_opts opts = {
	    .filter = eng->metrics_names == SL_METRICS_NAMES_FLUENTBIT
			  ? sl_metrics_fb_unmapped
			  : sl_metrics_filter_internal,
	};
	struct sl_metrics view;
	int rc;

	refresh_uptime(eng);
	if (sl_metrics_text_render(&eng->metrics, &opts, out) < 0)
		return -SL_ENOMEM;
	if (eng->metrics_names == SL_METRICS_NAMES_SLUICE)
		return 0;
	sl_metrics_init(&view);
	rc = fluentbit_view(eng, &view);
	if (rc == 0)
		rc = sl_metrics_text_render(&view, NULL, out);
	sl_metrics_destroy(&view);
	return rc < 0 ? -SL_ENOMEM : 0;
}

static int put(struct sl_buf *b, const char *s)
{
	return sl_buf_append(b, s, strlen(s));
}

/* One family as cmetrics' text encoder writes it: a line per sample. */
static int text_family(struct sl_buf *b, const struct sl_metric_family *f,
		       const char *stamp)
{
	char num[SL_METRICS_NUM_MAX];

	for (const struct sl_metric_series *s = f->series; s; s = s->next) {
		if (put(b, stamp) < 0 || put(b, " ") < 0 || put(b, f->name) < 0)
			return -SL_ENOMEM;
		for (size_t i = 0; i < f->n_labels; i++) {
			const char *v = s->label_values[i];

			if (put(b, i ? "," : "{") < 0 ||
			    put(b, f->label_names[i]) < 0 || put(b, "=") < 0 ||
			    sl_json_append_string(b, v, strlen(v)) < 0)
				return -SL_ENOMEM;
		}
		if (f->n_labels && put(b, "}") < 0)
			return -SL_ENOMEM;
		if (f->type == SL_METRIC_HISTOGRAM) {
			snprintf(
			    num, sizeof(num), "%" PRIu64,
			    __atomic_load_n(&s->count_bits, __ATOMIC_RELAXED));
			if (put(b, " = { count=") < 0 || put(b, num) < 0 ||
			    put(b, " }\n") < 0)
				return -SL_ENOMEM;
			continue;
		}
		sl_metrics_format_number(num, sl_metric_value(s));
		if (put(b, " = ") < 0 || put(b, num) < 0 || put(b, "\n") < 0)
			return -SL_ENOMEM;
	}
	return 0;
}

static int text_registry(struct sl_buf *b, const struct sl_metrics *reg,
			 sl_metrics_filter_fn keep, const char *stamp)
{
	for (const struct sl_metric_family *f = reg->families; f; f = f->next)
		if ((!keep || keep(f, NULL)) && text_family(b, f, stamp) < 0)
			return -SL_ENOMEM;
	return 0;
}

int sl_engine_metrics_text(struct sl_engine *eng, struct sl_buf *out)
{
	struct timespec now;
	struct tm tm;
	char stamp[64];
	size_t n;
	struct sl_metrics view;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	n = strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(stamp + n, sizeof(stamp) - n, ".%09ldZ", now.tv_nsec);
	refresh_uptime(eng);
	if (text_registry(out, &eng->metrics,
			  eng->metrics_names == SL_METRICS_NAMES_FLUENTBIT
			      ? sl_metrics_fb_unmapped
			      : sl_metrics_filter_internal,
			  stamp) < 0)
		return -SL_ENOMEM;
	if (eng->metrics_names == SL_METRICS_NAMES_SLUICE)
		return 0;
	sl_metrics_init(&view);
	rc = fluentbit_view(eng, &view);
	if (rc == 0)
		rc = text_registry(out, &view, NULL, stamp);
	sl_metrics_destroy(&view);
	return rc < 0 ? -SL_ENOMEM : 0;
}

struct json_field {
	const char *key;
	const struct sl_metric_series *s; /* NULL: 0 */
	uint64_t extra;			  /* added (sums over reasons) */
};

static int json_object(struct sl_buf *b, const char *name,
		       const struct json_field *fields, size_t n, bool first)
{
	char num[32];

	if ((!first && put(b, ",") < 0) ||
	    sl_json_append_string(b, name, strlen(name)) < 0 ||
	    put(b, ":{") < 0)
		return -SL_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		uint64_t v =
		    fields[i].extra +
		    (fields[i].s ? (uint64_t)sl_metric_value(fields[i].s) : 0);

		snprintf(num, sizeof(num), "%" PRIu64, v);
		if ((i && put(b, ",") < 0) ||
		    sl_json_append_string(b, fields[i].key,
					  strlen(fields[i].key)) < 0 ||
		    put(b, ":") < 0 || put(b, num) < 0)
			return -SL_ENOMEM;
	}
	return put(b, "}");
}

/* Fluent Bit's v1 JSON keys; what sluice does not count is 0. */
int sl_engine_metrics_json(struct sl_engine *eng, struct sl_buf *out)
{
	if (put(out, "{\"input\":{") < 0)
		return -SL_ENOMEM;
	for (size_t i = 0; i < eng->n_inputs; i++) {
		const struct sl_input *in = eng->inputs[i];
		const struct json_field f[] = {{"records", in->m_records, 0},
					       {"bytes", in->m_bytes, 0}};

		if (json_object(out, in->ins.name, f, SL_ARRAY_LEN(f), i == 0) <
		    0)
			return -SL_ENOMEM;
	}
	if (put(out, "},\"filter\":{") < 0)
		return -SL_ENOMEM;
	for (size_t i = 0; i < eng->n_filters; i++) {
		const struct sl_filter_inst *fl = eng->filters[i];
		const struct json_field f[] = {
		    {"drop_records", fl->m_drop, 0}, {"add_records", NULL, 0},
		    {"records", fl->m_records, 0},   {"bytes", NULL, 0},
		    {"drop_bytes", NULL, 0},
		};

		if (json_object(out, fl->ins.name, f, SL_ARRAY_LEN(f), i == 0) <
		    0)
			return -SL_ENOMEM;
	}
	if (put(out, "},\"output\":{") < 0)
		return -SL_ENOMEM;
	for (size_t i = 0; i < eng->n_outputs; i++) {
		const struct sl_output *o = eng->outputs[i];
		uint64_t dropped = 0;

		for (int r = 0; r < SL_DROP_REASONS; r++)
			if (o->m_dropped[r])
				dropped +=
				    (uint64_t)sl_metric_value(o->m_dropped[r]);
		const struct json_field f[] = {
		    {"proc_records", o->m_proc_records, 0},
		    {"proc_bytes", o->m_proc_bytes, 0},
		    {"errors", o->m_errors, 0},
		    {"retries", o->m_retries, 0},
		    {"retries_failed", o->m_retries_failed, 0},
		    {"dropped_records", NULL, dropped},
		    {"retried_records", NULL, 0},
		};

		if (json_object(out, o->ins.name, f, SL_ARRAY_LEN(f), i == 0) <
		    0)
			return -SL_ENOMEM;
	}
	return put(out, "}}\n");
}
