/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_time.c - Time_Format parsing: the fixture styles (python asctime with
 * comma, ISO 8601 with Z or offsets, epoch-ms numbers), %z variants, leap
 * years, fractions, zones, and texts that must be refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "sl_time.h"

#define NS SL_NS_PER_SEC
/* 2026-11-21T08:00:00Z */
#define T0 INT64_C(1795248000)
/* 2026-06-15T12:00:00Z, used as "now" for year-less formats */
#define NOW (INT64_C(1781524800) * NS)

static int parse(const char *fmt, const char *text, int64_t *out)
{
	struct sl_time_fmt tf;
	const char *err;
	int rc = sl_time_fmt_init(&tf, fmt, &err);

	if (rc == 0)
		rc = sl_time_parse(&tf, text, strlen(text), NOW, out);
	sl_time_fmt_destroy(&tf);
	return rc;
}

static int64_t ok(const char *fmt, const char *text)
{
	int64_t ns = 0;

	assert_int_equal(parse(fmt, text, &ns), 0);
	return ns;
}

static void python_asctime_with_comma(void **state)
{
	assert_int_equal(ok("%Y-%m-%d %H:%M:%S,%L", "2026-11-21 08:00:00,123"),
			 T0 * NS + 123000000);
}

static void iso_with_literal_z(void **state)
{
	assert_int_equal(
	    ok("%Y-%m-%dT%H:%M:%S.%LZ", "2026-11-21T08:00:00.000Z"), T0 * NS);
}

static void iso_with_z_conversion(void **state)
{
	assert_int_equal(ok("%Y-%m-%dT%H:%M:%S.%L%z", "2026-11-21T08:00:00.5Z"),
			 T0 * NS + 500000000);
}

static void offset_variants(void **state)
{
	const char *f = "%Y-%m-%dT%H:%M:%S%z";

	assert_int_equal(ok(f, "2026-11-21T09:00:00+0100"), T0 * NS);
	assert_int_equal(ok(f, "2026-11-21T09:30:00+01:30"), T0 * NS);
	assert_int_equal(ok(f, "2026-11-21T03:00:00-05:00"), T0 * NS);
	assert_int_equal(ok(f, "2026-11-21T10:00:00+02"), T0 * NS);
}

static void apache_format_with_month_name(void **state)
{
	assert_int_equal(
	    ok("%d/%b/%Y:%H:%M:%S %z", "21/Nov/2026:10:00:00 +0200"), T0 * NS);
	assert_int_equal(
	    ok("%d/%B/%Y:%H:%M:%S %z", "21/november/2026:08:00:00 +0000"),
	    T0 * NS);
}

static void day_names_are_skipped(void **state)
{
	assert_int_equal(
	    ok("%a %b %d %H:%M:%S.%L %Y", "Sat Nov 21 08:00:00.250 2026"),
	    T0 * NS + 250000000);
	assert_int_equal(
	    ok("%A, %e %h %Y %T", "Saturday, 21 Nov 2026 08:00:00"), T0 * NS);
}

static void fraction_any_digits_ns_precision(void **state)
{
	const char *f = "%Y-%m-%dT%H:%M:%S.%LZ";

	assert_int_equal(ok(f, "2026-11-21T08:00:00.1Z"), T0 * NS + 100000000);
	assert_int_equal(ok(f, "2026-11-21T08:00:00.123456789Z"),
			 T0 * NS + 123456789);
	/* beyond ns: digits consumed, precision kept at ns */
	assert_int_equal(ok(f, "2026-11-21T08:00:00.123456789999Z"),
			 T0 * NS + 123456789);
}

static void leap_years(void **state)
{
	const char *f = "%Y-%m-%d %H:%M:%S";
	int64_t ns;

	assert_int_equal(ok(f, "2024-02-29 00:00:00"),
			 INT64_C(1709164800) * NS);
	assert_int_equal(ok(f, "2000-02-29 00:00:00"), INT64_C(951782400) * NS);
	assert_int_equal(parse(f, "2026-02-29 00:00:00", &ns), -SL_EPARSE);
	assert_int_equal(parse(f, "1900-02-29 00:00:00", &ns), -SL_EPARSE);
	assert_int_equal(ok(f, "1970-01-01 00:00:00"), 0);
}

static void two_digit_year_and_12h_clock(void **state)
{
	assert_int_equal(ok("%D %I:%M:%S %p", "11/21/26 08:00:00 AM"), T0 * NS);
	assert_int_equal(ok("%y-%m-%d %I:%M %p", "26-11-21 12:00 pm"),
			 (T0 + 4 * 3600) * NS);
	assert_int_equal(ok("%y-%m-%d %I:%M %p", "26-11-21 12:00 am"),
			 (T0 - 8 * 3600) * NS);
}

static void epoch_seconds_conversion(void **state)
{
	assert_int_equal(ok("%s", "1795248000"), T0 * NS);
	assert_int_equal(ok("%s.%L", "1795248000.25"), T0 * NS + 250000000);
}

static void day_of_year(void **state)
{
	assert_int_equal(ok("%Y %j %T", "2026 325 08:00:00"), T0 * NS);
}

static void year_less_syslog_uses_current_year(void **state)
{
	assert_int_equal(ok("%b %d %H:%M:%S", "Nov 21 08:00:00"), T0 * NS);
	/* two spaces before a one-digit day, as syslog writes it */
	assert_int_equal(ok("%b %d %H:%M:%S", "Nov  1 08:00:00"),
			 (T0 - 20 * 86400) * NS);
}

static void epoch_formats(void **state)
{
	assert_int_equal(ok("epoch_ms", "1795248000000"), T0 * NS);
	assert_int_equal(ok("epoch_ms", "1795248000123.5"),
			 T0 * NS + 123500000);
	assert_int_equal(ok("epoch", "1795248000.5"), T0 * NS + 500000000);
	assert_int_equal(ok("epoch_us", "1795248000000001"), T0 * NS + 1000);
	assert_int_equal(ok("EPOCH_NS", "1795248000000000001"), T0 * NS + 1);
}

static void epoch_rejects_junk_and_overflow(void **state)
{
	int64_t ns;

	assert_int_equal(parse("epoch_ms", "17952x", &ns), -SL_EPARSE);
	assert_int_equal(parse("epoch_ms", "", &ns), -SL_EPARSE);
	assert_int_equal(parse("epoch", "99999999999999999999", &ns),
			 -SL_EPARSE);
	assert_int_equal(parse("epoch", "9999999999999", &ns), -SL_EPARSE);
}

static void invalid_texts_rejected(void **state)
{
	const char *f = "%Y-%m-%d %H:%M:%S";
	int64_t ns;

	assert_int_equal(parse(f, "2026-13-01 00:00:00", &ns), -SL_EPARSE);
	assert_int_equal(parse(f, "2026-04-31 00:00:00", &ns), -SL_EPARSE);
	assert_int_equal(parse(f, "2026-11-21 24:00:00", &ns), -SL_EPARSE);
	assert_int_equal(parse(f, "not a time", &ns), -SL_EPARSE);
	assert_int_equal(parse(f, "2026-11-21", &ns), -SL_EPARSE);
	assert_int_equal(parse("%d/%b/%Y", "21/Nox/2026", &ns), -SL_EPARSE);
	assert_int_equal(parse("%H:%M:%S%z", "08:00:00+9", &ns), -SL_EPARSE);
	assert_int_equal(parse("%S.%L", "00.", &ns), -SL_EPARSE);
}

static void unsupported_conversion_refused(void **state)
{
	struct sl_time_fmt tf;
	const char *err = NULL;

	assert_int_equal(sl_time_fmt_init(&tf, "%Y-%Q", &err), -SL_EINVAL);
	assert_non_null(err);
	assert_int_equal(sl_time_fmt_init(&tf, "%Y %", &err), -SL_EINVAL);
}

static void time_offset_applies_without_zone(void **state)
{
	struct sl_time_fmt tf;
	const char *err;
	int64_t ns;
	const char *t = "2026-11-21 10:00:00";

	assert_int_equal(sl_time_fmt_init(&tf, "%Y-%m-%d %H:%M:%S", &err), 0);
	assert_int_equal(sl_time_parse_offset("+02:00", 6, &tf.offset), 0);
	assert_int_equal(sl_time_parse(&tf, t, strlen(t), NOW, &ns), 0);
	assert_int_equal(ns, T0 * NS);
	sl_time_fmt_destroy(&tf);
}

static void offset_strings(void **state)
{
	int32_t s;

	assert_int_equal(sl_time_parse_offset("Z", 1, &s), 0);
	assert_int_equal(s, 0);
	assert_int_equal(sl_time_parse_offset("-0930", 5, &s), 0);
	assert_int_equal(s, -(9 * 3600 + 30 * 60));
	assert_int_equal(sl_time_parse_offset("+9", 2, &s), -SL_EINVAL);
	assert_int_equal(sl_time_parse_offset("+25:00", 6, &s), -SL_EINVAL);
}

static void iana_zone_follows_dst(void **state)
{
	struct sl_time_fmt tf;
	const char *err, *winter = "11/21/2026 03:00:00",
			 *summer = "06/15/2026 08:00:00";
	int64_t ns;

	assert_int_equal(sl_time_fmt_init(&tf, "%m/%d/%Y %H:%M:%S", &err), 0);
	if (sl_time_fmt_set_zone(&tf, "America/New_York") != 0) {
		sl_time_fmt_destroy(&tf);
		skip(); /* no tzdata on this machine */
	}
	assert_int_equal(sl_time_parse(&tf, winter, strlen(winter), NOW, &ns),
			 0);
	assert_int_equal(ns, T0 * NS); /* EST, UTC-5 */
	assert_int_equal(sl_time_parse(&tf, summer, strlen(summer), NOW, &ns),
			 0);
	assert_int_equal(ns, NOW); /* EDT, UTC-4 */
	sl_time_fmt_destroy(&tf);
	assert_int_equal(sl_time_fmt_set_zone(&tf, "No/Such_Zone"), -SL_ENOENT);
	assert_int_equal(sl_time_fmt_set_zone(&tf, "../../etc/passwd"),
			 -SL_ENOENT);
}

static void civil_days(void **state)
{
	assert_int_equal(sl_time_days_from_civil(1970, 1, 1), 0);
	assert_int_equal(sl_time_days_from_civil(1969, 12, 31), -1);
	assert_int_equal(sl_time_days_from_civil(2026, 11, 21), T0 / 86400);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(python_asctime_with_comma),
	    cmocka_unit_test(iso_with_literal_z),
	    cmocka_unit_test(iso_with_z_conversion),
	    cmocka_unit_test(offset_variants),
	    cmocka_unit_test(apache_format_with_month_name),
	    cmocka_unit_test(day_names_are_skipped),
	    cmocka_unit_test(fraction_any_digits_ns_precision),
	    cmocka_unit_test(leap_years),
	    cmocka_unit_test(two_digit_year_and_12h_clock),
	    cmocka_unit_test(epoch_seconds_conversion),
	    cmocka_unit_test(day_of_year),
	    cmocka_unit_test(year_less_syslog_uses_current_year),
	    cmocka_unit_test(epoch_formats),
	    cmocka_unit_test(epoch_rejects_junk_and_overflow),
	    cmocka_unit_test(invalid_texts_rejected),
	    cmocka_unit_test(unsupported_conversion_refused),
	    cmocka_unit_test(time_offset_applies_without_zone),
	    cmocka_unit_test(offset_strings),
	    cmocka_unit_test(iana_zone_follows_dst),
	    cmocka_unit_test(civil_days),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
