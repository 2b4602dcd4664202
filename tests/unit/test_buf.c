/* SPDX-License-Identifier: Apache-2.0 */
/* test_buf.c - the growable buffer keeps data, terminates, and resets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "sl_common.h"

static void append_grows_and_terminates(void **state)
{
	struct sl_buf b = {0};
	char big[5000];

	(void)state;
	memset(big, 'x', sizeof(big));
	assert_int_equal(sl_buf_append(&b, "ab", 2), 0);
	assert_int_equal(sl_buf_append(&b, big, sizeof(big)), 0);
	assert_int_equal(b.len, 5002);
	assert_memory_equal(b.data, "abxx", 4);
	assert_int_equal(b.data[b.len], '\0');
	sl_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_true(b.cap >= 5003);
	sl_buf_destroy(&b);
	assert_null(b.data);
	sl_buf_destroy(&b); /* idempotent */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(append_grows_and_terminates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
