/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_uuid.c - UUIDv4 and UUIDv7 layout (version nibble, variant bits),
 * the v7 timestamp, and v7 monotonicity within one millisecond, across a
 * counter overflow and when the clock goes back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "sl_common.h"
#include "sl_uuid.h"

static uint64_t fixed_ms;

static uint64_t test_clock(void)
{
	return fixed_ms;
}

static uint64_t ts_of(const uint8_t u[SL_UUID_LEN])
{
	uint64_t ms = 0;

	for (int i = 0; i < 6; i++)
		ms = ms << 8 | u[i];
	return ms;
}

static void check_text(const uint8_t u[SL_UUID_LEN], char version)
{
	char s[SL_UUID_STR_LEN + 1];

	sl_uuid_format(u, s);
	assert_int_equal(strlen(s), SL_UUID_STR_LEN);
	for (int i = 0; i < SL_UUID_STR_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			assert_int_equal(s[i], '-');
		else
			assert_non_null(strchr("0123456789abcdef", s[i]));
	}
	assert_int_equal(s[14], version);
	assert_non_null(strchr("89ab", s[19]));
}

static void v4_layout(void **state)
{
	uint8_t a[SL_UUID_LEN], b[SL_UUID_LEN];

	(void)state;
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(sl_uuid_v4(a), 0);
		assert_int_equal(a[6] >> 4, 4);
		assert_int_equal(a[8] >> 6, 2);
		check_text(a, '4');
	}
	assert_int_equal(sl_uuid_v4(b), 0);
	assert_memory_not_equal(a, b, SL_UUID_LEN);
}

static void v7_layout_and_time(void **state)
{
	uint8_t u[SL_UUID_LEN];
	uint64_t before = (uint64_t)(sl_now_ns() / 1000000), after;

	(void)state;
	assert_int_equal(sl_uuid_v7(u), 0);
	after = (uint64_t)(sl_now_ns() / 1000000);
	assert_int_equal(u[6] >> 4, 7);
	assert_int_equal(u[8] >> 6, 2);
	check_text(u, '7');
	/* the timestamp is now (or, after an earlier burst, slightly ahead) */
	assert_true(ts_of(u) >= before);
	assert_true(ts_of(u) <= after + 1);
}

static void v7_monotonic_real_clock(void **state)
{
	uint8_t prev[SL_UUID_LEN], cur[SL_UUID_LEN];

	(void)state;
	assert_int_equal(sl_uuid_v7(prev), 0);
	for (int i = 0; i < 200000; i++) {
		assert_int_equal(sl_uuid_v7(cur), 0);
		assert_true(memcmp(prev, cur, SL_UUID_LEN) < 0);
		assert_int_equal(cur[6] >> 4, 7);
		assert_int_equal(cur[8] >> 6, 2);
		memcpy(prev, cur, SL_UUID_LEN);
	}
}

/* Many IDs in one millisecond: all carry it and sort in creation order. */
static void v7_monotonic_same_ms(void **state)
{
	uint8_t prev[SL_UUID_LEN], cur[SL_UUID_LEN];
	char a[SL_UUID_STR_LEN + 1], b[SL_UUID_STR_LEN + 1];

	(void)state;
	fixed_ms = UINT64_C(0xE00000000000); /* ahead of any real clock */
	sl_uuid_set_clock(test_clock);
	assert_int_equal(sl_uuid_v7(prev), 0);
	assert_true(ts_of(prev) == fixed_ms);
	for (int i = 0; i < 100000; i++) {
		assert_int_equal(sl_uuid_v7(cur), 0);
		assert_true(ts_of(cur) == fixed_ms);
		assert_true(memcmp(prev, cur, SL_UUID_LEN) < 0);
		/* the text form sorts the same way */
		sl_uuid_format(prev, a);
		sl_uuid_format(cur, b);
		assert_true(strcmp(a, b) < 0);
		memcpy(prev, cur, SL_UUID_LEN);
	}
	/* the clock goes back: IDs keep increasing */
	fixed_ms -= 5000;
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(sl_uuid_v7(cur), 0);
		assert_true(memcmp(prev, cur, SL_UUID_LEN) < 0);
		memcpy(prev, cur, SL_UUID_LEN);
	}
	/* a later millisecond starts a fresh counter, still larger */
	fixed_ms += 10000;
	assert_int_equal(sl_uuid_v7(cur), 0);
	assert_true(ts_of(cur) == fixed_ms);
	assert_true(memcmp(prev, cur, SL_UUID_LEN) < 0);
	sl_uuid_set_clock(NULL);
}

static void format_known_bytes(void **state)
{
	static const uint8_t u[SL_UUID_LEN] = {
	    0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0x7c, 0xde,
	    0x8f, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd,
	};
	char s[SL_UUID_STR_LEN + 1];

	(void)state;
	sl_uuid_format(u, s);
	assert_string_equal(s, "01234567-89ab-7cde-8f01-23456789abcd");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(v4_layout),
	    cmocka_unit_test(v7_layout_and_time),
	    cmocka_unit_test(v7_monotonic_real_clock),
	    cmocka_unit_test(v7_monotonic_same_ms),
	    cmocka_unit_test(format_known_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
