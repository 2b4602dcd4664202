/* SPDX-License-Identifier: Apache-2.0 */
/* test_metrics.c - families are shared by shape, series are capped and counted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "sl_metrics.h"

static void same_name_and_labels_share_a_family(void **state)
{
	struct sl_metrics reg;
	const char *labels[] = {"service"};
	const char *other[] = {"source"};
	const char *err;

	(void)state;
	sl_metrics_init(&reg);
	struct sl_metric_family *a =
	    sl_metrics_family(&reg, "security_auth_failures_total", "h",
			      SL_METRIC_COUNTER, labels, 1, NULL, 0, &err);
	struct sl_metric_family *b = sl_metrics_family(
	    &reg, "security_auth_failures_total", "other help",
	    SL_METRIC_COUNTER, labels, 1, NULL, 0, &err);
	assert_non_null(a);
	assert_ptr_equal(a, b);
	/* same name, other labels or type: refused */
	assert_null(sl_metrics_family(&reg, "security_auth_failures_total", "h",
				      SL_METRIC_COUNTER, other, 1, NULL, 0,
				      &err));
	assert_non_null(err);
	assert_null(sl_metrics_family(&reg, "security_auth_failures_total", "h",
				      SL_METRIC_GAUGE, labels, 1, NULL, 0,
				      &err));

	const char *v1[] = {"agent-backend"};
	struct sl_metric_series *s1 = sl_metric_series_get(&reg, a, v1);
	sl_metric_add(s1, 1);
	sl_metric_add(sl_metric_series_get(&reg, b, v1), 2);
	assert_true(sl_metric_value(s1) == 3.0);
	sl_metrics_destroy(&reg);
}

static void series_cap_counts_refusals(void **state)
{
	struct sl_metrics reg;
	const char *labels[] = {"id"};
	const char *err;
	char buf[16];

	(void)state;
	sl_metrics_init(&reg);
	struct sl_metric_family *f = sl_metrics_family(
	    &reg, "x_total", "h", SL_METRIC_COUNTER, labels, 1, NULL, 0, &err);
	f->max_series = 3;
	for (int i = 0; i < 5; i++) {
		const char *v[] = {buf};

		snprintf(buf, sizeof(buf), "%d", i);
		if (i < 3)
			assert_non_null(sl_metric_series_get(&reg, f, v));
		else
			assert_null(sl_metric_series_get(&reg, f, v));
	}
	/* an existing series is still found at the cap */
	const char *v0[] = {"0"};
	assert_non_null(sl_metric_series_get(&reg, f, v0));
	assert_int_equal(f->n_series, 3);
	struct sl_metric_family *d =
	    sl_metrics_find(&reg, "sluice_metrics_series_dropped_total");
	assert_non_null(d);
	assert_true(sl_metric_value(d->series) == 2.0);
	sl_metrics_destroy(&reg);
}

static void histogram_buckets_and_sum(void **state)
{
	struct sl_metrics reg;
	const double buckets[] = {0.1, 0.5, 1};
	const char *err;

	(void)state;
	sl_metrics_init(&reg);
	struct sl_metric_family *f =
	    sl_metrics_family(&reg, "latency_seconds", "h", SL_METRIC_HISTOGRAM,
			      NULL, 0, buckets, 3, &err);
	struct sl_metric_series *s = sl_metric_series_get(&reg, f, NULL);
	sl_metric_observe(f, s, 0.05);
	sl_metric_observe(f, s, 0.1); /* le is inclusive */
	sl_metric_observe(f, s, 0.7);
	sl_metric_observe(f, s, 5);
	assert_int_equal(s->bucket_counts[0], 2);
	assert_int_equal(s->bucket_counts[1], 0);
	assert_int_equal(s->bucket_counts[2], 1);
	assert_int_equal(s->bucket_counts[3], 1); /* +Inf */
	assert_int_equal(s->count_bits, 4);
	double sum;
	memcpy(&sum, &s->sum_bits, sizeof(sum));
	assert_true(sum > 5.849 && sum < 5.851);
	sl_metrics_destroy(&reg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(same_name_and_labels_share_a_family),
	    cmocka_unit_test(series_cap_counts_refusals),
	    cmocka_unit_test(histogram_buckets_and_sum),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
