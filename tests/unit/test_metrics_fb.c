/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_metrics_fb.c - the Fluent Bit view of the internal metrics: names,
 * help and label names of Fluent Bit, labels it lacks summed away, scoped
 * (log_to_metrics) families left out, the process families added, and
 * the names option parsed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "sl_metrics_fb.h"
#include "sl_metrics_text.h"

static struct sl_metric_series *series(struct sl_metrics *reg, const char *name,
				       const char *l1, const char *l2,
				       const char *v1, const char *v2)
{
	const char *labels[] = {l1, l2}, *values[] = {v1, v2};
	const char *err;
	struct sl_metric_family *f =
	    sl_metrics_family(reg, name, "h", SL_METRIC_COUNTER, labels,
			      l2 ? 2 : 1, NULL, 0, &err);

	assert_non_null(f);
	return sl_metric_series_get(reg, f, values);
}

static void view_renames_and_sums(void **state)
{
	struct sl_metrics reg, view;
	struct sl_buf out = {0};
	const struct sl_metrics_fb_process proc = {
	    .hostname = "node-1",
	    .version = "9.9.9",
	    .uptime_s = 12.7,
	    .start_time_s = 1700000000.5,
	    .reloads = 2,
	};

	(void)state;
	sl_metrics_init(&reg);
	sl_metrics_init(&view);
	sl_metric_add(series(&reg, "sluice_input_records_total", "name", NULL,
			     "tail.0", NULL),
		      5);
	sl_metric_add(series(&reg, "sluice_output_dropped_records_total",
			     "name", "reason", "es.0", "rejected"),
		      2);
	sl_metric_add(series(&reg, "sluice_output_dropped_records_total",
			     "name", "reason", "es.0", "retry_limit"),
		      3);
	sl_metric_add(series(&reg, "sluice_http_connections", "name", NULL,
			     "http_server", NULL),
		      1);
	assert_int_equal(sl_metrics_fb_view(&reg, &proc, &view), 0);
	assert_int_equal(sl_metrics_text_render(&view, NULL, &out), 0);
	assert_int_equal(sl_buf_append(&out, "", 1), 0);
	assert_non_null(strstr(out.data, "# HELP fluentbit_input_records_total "
					 "Number of input records.\n"));
	assert_non_null(strstr(out.data, "fluentbit_input_records_total{name="
					 "\"tail.0\"} 5\n"));
	/* Fluent Bit has no reason label: the reasons add up */
	assert_non_null(strstr(out.data, "fluentbit_output_dropped_records_"
					 "total{name=\"es.0\"} 5\n"));
	assert_null(strstr(out.data, "reason"));
	assert_null(strstr(out.data, "http_connections"));
	assert_non_null(
	    strstr(out.data, "fluentbit_uptime{hostname=\"node-1\"} 12\n"));
	assert_non_null(strstr(out.data, "fluentbit_build_info{hostname=\"node-"
					 "1\",version=\"9.9.9\",os=\"linux\"} "
					 "1700000000\n"));
	assert_non_null(strstr(
	    out.data, "fluentbit_hot_reloaded_times{hostname=\"node-1\"} 2\n"));
	assert_true(sl_metrics_fb_unmapped(
	    sl_metrics_find(&reg, "sluice_http_connections"), NULL));
	assert_false(sl_metrics_fb_unmapped(
	    sl_metrics_find(&reg, "sluice_input_records_total"), NULL));
	sl_buf_destroy(&out);
	sl_metrics_destroy(&view);
	sl_metrics_destroy(&reg);
}

static void scoped_families_are_not_internal(void **state)
{
	struct sl_metrics reg, view;
	const struct sl_metrics_fb_process proc = {.hostname = "h",
						   .version = "1"};
	struct sl_metric_family *f;

	(void)state;
	sl_metrics_init(&reg);
	sl_metrics_init(&view);
	sl_metric_add(
	    series(&reg, "sluice_input_records_total", "name", NULL, "x", NULL),
	    1);
	/* a log_to_metrics family that happens to have the same name */
	f = sl_metrics_find(&reg, "sluice_input_records_total");
	f->scope = strdup("metrics");
	assert_int_equal(sl_metrics_fb_view(&reg, &proc, &view), 0);
	assert_null(sl_metrics_find(&view, "fluentbit_input_records_total"));
	assert_false(sl_metrics_fb_unmapped(f, NULL));
	sl_metrics_destroy(&view);
	sl_metrics_destroy(&reg);
}

static void names_option(void **state)
{
	enum sl_metrics_names n;

	(void)state;
	assert_int_equal(sl_metrics_names_parse("FluentBit", &n), 0);
	assert_int_equal(n, SL_METRICS_NAMES_FLUENTBIT);
	assert_int_equal(sl_metrics_names_parse("both", &n), 0);
	assert_int_equal(n, SL_METRICS_NAMES_BOTH);
	assert_int_equal(sl_metrics_names_parse("sluice", &n), 0);
	assert_int_equal(n, SL_METRICS_NAMES_SLUICE);
	assert_int_equal(sl_metrics_names_parse("prometheus", &n), -SL_EINVAL);
	assert_int_equal(sl_metrics_names_parse(NULL, &n), -SL_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(view_renames_and_sums),
	    cmocka_unit_test(scoped_families_are_not_internal),
	    cmocka_unit_test(names_option),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
