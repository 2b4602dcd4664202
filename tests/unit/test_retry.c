/* SPDX-License-Identifier: Apache-2.0 */
/* test_retry.c - Retry_Limit values and full-jitter backoff bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "sl_retry.h"

static void retry_limit_values(void **state)
{
	int l = 99;

	(void)state;
	assert_int_equal(sl_retry_parse_limit("no_limits", &l), 0);
	assert_int_equal(l, SL_RETRY_FOREVER);
	assert_int_equal(sl_retry_parse_limit("False", &l), 0);
	assert_int_equal(l, SL_RETRY_FOREVER);
	assert_int_equal(sl_retry_parse_limit("no_retries", &l), 0);
	assert_int_equal(l, 0);
	assert_int_equal(sl_retry_parse_limit("3", &l), 0);
	assert_int_equal(l, 3);
	assert_int_equal(sl_retry_parse_limit("0", &l), 0);
	assert_int_equal(l, 0);
	assert_int_equal(sl_retry_parse_limit("00", &l), -SL_EINVAL);
	assert_int_equal(sl_retry_parse_limit("-1", &l), -SL_EINVAL);
	assert_int_equal(sl_retry_parse_limit("3x", &l), -SL_EINVAL);
	assert_int_equal(sl_retry_parse_limit("", &l), -SL_EINVAL);
}

static void backoff_ceiling_doubles_until_cap(void **state)
{
	(void)state;
	/* rnd just below 1 gives the ceiling of the jitter window */
	assert_true(sl_retry_backoff(1, 1, 300, 0.999999) <= 1.0);
	assert_true(sl_retry_backoff(1, 1, 300, 0.999999) > 0.99);
	assert_true(sl_retry_backoff(2, 1, 300, 0.999999) > 1.99);
	assert_true(sl_retry_backoff(4, 1, 300, 0.999999) > 7.99);
	assert_true(sl_retry_backoff(4, 1, 300, 0.999999) <= 8.0);
	/* capped, however many attempts */
	assert_true(sl_retry_backoff(20, 1, 300, 0.999999) <= 300.0);
	assert_true(sl_retry_backoff(10000, 1, 300, 0.999999) <= 300.0);
	assert_true(sl_retry_backoff(10000, 1, 300, 0.999999) > 299.0);
	/* full jitter: the window starts at zero */
	assert_true(sl_retry_backoff(5, 1, 300, 0.0) == 0.0);
	assert_true(sl_retry_backoff(3, 2, 300, 0.5) == 4.0);
}

static void random_is_in_unit_interval_and_varies(void **state)
{
	double first = sl_retry_random(), r;
	int differs = 0;

	(void)state;
	for (int i = 0; i < 1000; i++) {
		r = sl_retry_random();
		assert_true(r >= 0.0 && r < 1.0);
		if (r != first)
			differs = 1;
	}
	assert_true(differs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(retry_limit_values),
	    cmocka_unit_test(backoff_ceiling_doubles_until_cap),
	    cmocka_unit_test(random_is_in_unit_interval_and_varies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
