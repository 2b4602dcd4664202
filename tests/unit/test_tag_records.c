/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_tag_records.c - per-tag record counters: every record counted once,
 * by tag while within max_series and max_tag_length, else untracked with
 * Fluent Bit's reason; limits <= 0 are no limits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "sl_tag_records.h"

static double value(const struct sl_metric_family *f, const char *a,
		    const char *b)
{
	for (const struct sl_metric_series *s = f->series; s; s = s->next)
		if (strcmp(s->label_values[0], a) == 0 &&
		    strcmp(s->label_values[1], b) == 0)
			return sl_metric_value(s);
	return -1;
}

static void counts_by_input_and_tag(void **state)
{
	struct sl_metrics reg;
	struct sl_tag_records tr;
	struct sl_tag_records_input a = {.name = "tail.0"},
				    b = {.name = "http.0"};

	(void)state;
	sl_metrics_init(&reg);
	assert_int_equal(sl_tag_records_init(&tr, &reg, 500, 128), 0);
	sl_tag_records_count(&tr, &reg, &a, "app.one", 7, 1);
	sl_tag_records_count(&tr, &reg, &a, "app.one", 7, 2); /* cached */
	sl_tag_records_count(&tr, &reg, &a, "app.two", 7, 1);
	sl_tag_records_count(&tr, &reg, &b, "app.one", 7, 4);
	sl_tag_records_count(&tr, &reg, &a, "app.one", 7, 1);
	assert_true(value(tr.tracked, "tail.0", "app.one") == 4);
	assert_true(value(tr.tracked, "tail.0", "app.two") == 1);
	assert_true(value(tr.tracked, "http.0", "app.one") == 4);
	assert_int_equal(tr.untracked->n_series, 0);
	assert_non_null(
	    sl_metrics_find(&reg, "sluice_input_logs_tag_records_total"));
	sl_tag_records_input_destroy(&a);
	sl_tag_records_input_destroy(&b);
	sl_metrics_destroy(&reg);
}

static void limits_count_untracked_by_reason(void **state)
{
	struct sl_metrics reg;
	struct sl_tag_records tr;
	struct sl_tag_records_input in = {.name = "dummy.0"};

	(void)state;
	sl_metrics_init(&reg);
	assert_int_equal(sl_tag_records_init(&tr, &reg, 1, 4), 0);
	sl_tag_records_count(&tr, &reg, &in, "abcde", 5, 3); /* too long */
	sl_tag_records_count(&tr, &reg, &in, "abcd", 4, 1);  /* the 1 series */
	sl_tag_records_count(&tr, &reg, &in, "wxyz", 4, 2);  /* over the cap */
	sl_tag_records_count(&tr, &reg, &in, "abcd", 4, 1);  /* still known */
	sl_tag_records_count(&tr, &reg, &in, "a\0b", 3, 1);  /* NUL */
	assert_true(value(tr.tracked, "dummy.0", "abcd") == 2);
	assert_int_equal(tr.tracked->n_series, 1);
	assert_true(value(tr.untracked, "dummy.0", "tag_length_limit") == 3);
	assert_true(value(tr.untracked, "dummy.0", "max_series") == 2);
	assert_true(value(tr.untracked, "dummy.0", "error") == 1);
	sl_tag_records_input_destroy(&in);
	sl_metrics_destroy(&reg);
}

static void zero_limits_are_no_limits(void **state)
{
	struct sl_metrics reg;
	struct sl_tag_records tr;
	struct sl_tag_records_input in = {.name = "dummy.0"};
	char tag[300];

	(void)state;
	memset(tag, 'x', sizeof(tag));
	sl_metrics_init(&reg);
	assert_int_equal(sl_tag_records_init(&tr, &reg, 0, -1), 0);
	for (size_t n = 1; n <= sizeof(tag); n += 37)
		sl_tag_records_count(&tr, &reg, &in, tag, n, 1);
	assert_int_equal(tr.tracked->n_series, 9);
	assert_int_equal(tr.untracked->n_series, 0);
	sl_tag_records_input_destroy(&in);
	sl_metrics_destroy(&reg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(counts_by_input_and_tag),
	    cmocka_unit_test(limits_count_untracked_by_reason),
	    cmocka_unit_test(zero_limits_are_no_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
