/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_format.c - exact bytes of every record rendering in sl_format.c:
 * date formats, the spliced date key, JSON batches, Fluent Bit's tag line
 * and its msgpack print style, and the top-level field split. The dates
 * are written without printf: they are compared with snprintf and
 * gmtime_r + strftime (what they replaced) over many timestamps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sl_format.h"

/* 2023-11-14T22:13:20.123456789Z */
#define TS INT64_C(1700000000123456789)

static struct sl_buf buf;

static int reset(void **state)
{
	(void)state;
	sl_buf_reset(&buf);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sl_buf_destroy(&buf);
	return 0;
}

static void expect(const char *want)
{
	assert_non_null(buf.data);
	assert_string_equal(buf.data, want);
	assert_int_equal(buf.len, strlen(want));
}

static const char *date(int64_t ts, enum sl_date_format f)
{
	sl_buf_reset(&buf);
	assert_int_equal(sl_format_date(&buf, ts, f), 0);
	return buf.data;
}

static void date_formats_match_fluent_bit(void **state)
{
	(void)state;
	assert_string_equal(date(TS, SL_DATE_DOUBLE), "1700000000.123457");
	assert_string_equal(
	    date(INT64_C(1700000000) * SL_NS_PER_SEC, SL_DATE_DOUBLE),
	    "1700000000.0");
	assert_string_equal(date(INT64_C(1500000000), SL_DATE_DOUBLE), "1.5");
	assert_string_equal(date(TS, SL_DATE_EPOCH), "1700000000");
	assert_string_equal(date(TS, SL_DATE_EPOCH_MS), "1700000000123");
	assert_string_equal(date(TS, SL_DATE_ISO8601),
			    "\"2023-11-14T22:13:20.123456Z\"");
	assert_string_equal(date(TS, SL_DATE_JAVA_SQL),
			    "\"2023-11-14 22:13:20.123456\"");
}

static void date_format_names(void **state)
{
	enum sl_date_format f;

	(void)state;
	assert_int_equal(sl_date_format_parse("ISO8601", &f), 0);
	assert_int_equal(f, SL_DATE_ISO8601);
	assert_int_equal(sl_date_format_parse("epoch_millis", &f), 0);
	assert_int_equal(f, SL_DATE_EPOCH_MS);
	assert_int_equal(sl_date_format_parse("java_sql_timestamp", &f), 0);
	assert_int_equal(f, SL_DATE_JAVA_SQL);
	assert_int_equal(sl_date_format_parse("rfc3339", &f), -SL_EINVAL);
	assert_int_equal(sl_date_format_parse(NULL, &f), -SL_EINVAL);
}

static void time_texts(void **state)
{
	(void)state;
	assert_int_equal(sl_format_time_nsec(&buf, TS), 0);
	expect("1700000000.123456789");
	sl_buf_reset(&buf);
	assert_int_equal(sl_format_time_nsec(&buf, INT64_C(5)), 0);
	expect("0.000000005");
	sl_buf_reset(&buf);
	assert_int_equal(sl_format_time_f(&buf, TS), 0);
	expect("1700000000.123457");
}

/* ---- dates against printf and strftime ---------------------------------- */

/* Deterministic pseudo-random timestamps (xorshift64*). */
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next_rand(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ull;
}

static void split(int64_t ts, int64_t *sec, int64_t *nsec)
{
	*sec = ts / SL_NS_PER_SEC;
	*nsec = ts % SL_NS_PER_SEC;
	if (*nsec < 0) {
		*nsec += SL_NS_PER_SEC;
		*sec -= 1;
	}
}

/* What sl_format_date wrote before: printf and strftime. */
static void reference(char *out, size_t cap, int64_t ts, enum sl_date_format f)
{
	int64_t sec, nsec;
	char tmp[64];
	struct tm tm;
	time_t t;
	double d;

	split(ts, &sec, &nsec);
	t = (time_t)sec;
	switch (f) {
	case SL_DATE_DOUBLE:
		d = (double)sec + (double)nsec / 1e9;
		if (d == (double)(long long)d)
			snprintf(out, cap, "%.1f", d);
		else
			snprintf(out, cap, "%.16g", d);
		return;
	case SL_DATE_EPOCH:
		snprintf(out, cap, "%" PRId64, sec);
		return;
	case SL_DATE_EPOCH_MS:
		snprintf(out, cap, "%" PRId64, sec * 1000 + nsec / 1000000);
		return;
	case SL_DATE_ISO8601:
	case SL_DATE_JAVA_SQL:
		assert_non_null(gmtime_r(&t, &tm));
		assert_true(strftime(tmp, sizeof(tmp),
				     f == SL_DATE_ISO8601 ? "%Y-%m-%dT%H:%M:%S"
							  : "%Y-%m-%d %H:%M:%S",
				     &tm) > 0);
		snprintf(out, cap, "\"%s.%06" PRId64 "%s\"", tmp, nsec / 1000,
			 f == SL_DATE_ISO8601 ? "Z" : "");
		return;
	}
	fail();
}

static void check_ts(int64_t ts)
{
	static const enum sl_date_format all[] = {
	    SL_DATE_DOUBLE,  SL_DATE_EPOCH,    SL_DATE_EPOCH_MS,
	    SL_DATE_ISO8601, SL_DATE_JAVA_SQL,
	};
	char want[96];
	int64_t sec, nsec;
	struct tm tm;
	time_t t;

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		reference(want, sizeof(want), ts, all[i]);
		sl_buf_reset(&buf);
		assert_int_equal(sl_format_date(&buf, ts, all[i]), 0);
		if (buf.len != strlen(want) || memcmp(buf.data, want, buf.len))
			fail_msg("ts %" PRId64 " format %d: '%.*s', printf "
				 "'%s'",
				 ts, (int)all[i], (int)buf.len, buf.data, want);
	}
	split(ts, &sec, &nsec);
	t = (time_t)sec;
	assert_non_null(gmtime_r(&t, &tm));
	{
		char day[40];

		assert_true(
		    strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm) > 0);
		snprintf(want, sizeof(want), "\"%s.%09" PRId64 "Z\"", day,
			 nsec);
	}
	sl_buf_reset(&buf);
	assert_int_equal(sl_format_iso8601_ns(&buf, ts), 0);
	expect(want);
	snprintf(want, sizeof(want), "%" PRId64 ".%09" PRId64, sec, nsec);
	sl_buf_reset(&buf);
	assert_int_equal(sl_format_time_nsec(&buf, ts), 0);
	expect(want);
}

static void dates_match_printf_everywhere(void **state)
{
	static const int64_t edges[] = {
	    0,
	    1,
	    -1,
	    999,
	    100000,
	    99999,
	    -99999,
	    -100000,
	    999999999,
	    -999999999,
	    SL_NS_PER_SEC,
	    -SL_NS_PER_SEC,
	    INT64_C(1500000000),
	    INT64_C(1700000000123456789),
	    INT64_C(1700000000000000100),
	    INT64_C(1700000000000000200),
	    INT64_C(8999999999999999999),
	    INT64_MAX,
	    INT64_MIN,
	    INT64_MAX - 1,
	    INT64_MIN + 1,
	    INT64_C(951782400) * SL_NS_PER_SEC,	  /* 2000-02-29 */
	    INT64_C(4107542400) * SL_NS_PER_SEC,  /* 2100-03-01 */
	    INT64_C(-2203891200) * SL_NS_PER_SEC, /* 1900-02-28 */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		check_ts(edges[i]);
	/* every fraction digit pattern on a busy second, and ties: sec +
	 * an odd multiple of 1/128 (7812500 ns) is exactly half way at the
	 * 16th digit */
	for (int64_t ns = 0; ns < SL_NS_PER_SEC; ns += 7812500)
		check_ts(INT64_C(1700000000) * SL_NS_PER_SEC + ns);
	for (int64_t ns = 0; ns < 2000000; ns += 37)
		check_ts(INT64_C(1700000000) * SL_NS_PER_SEC + ns);
	for (int i = 0; i < 20000; i++) {
		uint64_t r = next_rand();

		check_ts((int64_t)r);			      /* anywhere */
		check_ts((int64_t)(r % (4 * SL_NS_PER_SEC)) - /* near 0 */
			 2 * SL_NS_PER_SEC);
		check_ts((int64_t)(r % 200000) - 100000); /* e-style */
		check_ts(INT64_C(1600000000000000000) +	  /* now-ish */
			 (int64_t)(r % (INT64_C(300000000) * SL_NS_PER_SEC)));
		/* whole seconds and whole microseconds */
		check_ts((int64_t)(r >> 34) * SL_NS_PER_SEC);
		check_ts((int64_t)(r >> 2) / 1000 * 1000);
	}
}

static void dates_pinned(void **state)
{
	(void)state;
	/* exact ties round to even, as glibc does */
	assert_string_equal(date(INT64_C(1700000000007812500), SL_DATE_DOUBLE),
			    "1700000000.007812");
	assert_string_equal(date(INT64_C(1700000000023437500), SL_DATE_DOUBLE),
			    "1700000000.023438");
	/* integral after rounding: no ".0", as %.16g */
	assert_string_equal(date(INT64_C(1700000000000000200), SL_DATE_DOUBLE),
			    "1700000000");
	assert_string_equal(date(0, SL_DATE_DOUBLE), "0.0");
	assert_string_equal(date(-SL_NS_PER_SEC, SL_DATE_DOUBLE), "-1.0");
	assert_string_equal(date(5, SL_DATE_DOUBLE), "5e-09");
	assert_string_equal(date(-1500000000, SL_DATE_DOUBLE), "-1.5");
	assert_string_equal(date(-1, SL_DATE_DOUBLE), "-9.999999717180685e-10");
	assert_string_equal(date(123456, SL_DATE_DOUBLE), "0.000123456");
	assert_string_equal(date(INT64_MAX, SL_DATE_DOUBLE),
			    "9223372036.854776");
	assert_string_equal(date(INT64_MIN, SL_DATE_DOUBLE),
			    "-9223372036.854776");
	assert_string_equal(date(INT64_MIN, SL_DATE_ISO8601),
			    "\"1677-09-21T00:12:43.145224Z\"");
	assert_string_equal(date(INT64_MAX, SL_DATE_JAVA_SQL),
			    "\"2262-04-11 23:47:16.854775\"");
	assert_string_equal(date(-1, SL_DATE_EPOCH_MS), "-1");
	sl_buf_reset(&buf);
	assert_int_equal(sl_format_iso8601_ns(&buf, -1), 0);
	expect("\"1969-12-31T23:59:59.999999999Z\"");
}

static void json_object_splices_date_first(void **state)
{
	struct sl_json_opts o;

	(void)state;
	assert_int_equal(sl_json_opts_init(&o, SL_JSON_LINES, NULL, NULL, NULL),
			 0);
	assert_int_equal(sl_format_json_object(&buf, &o, TS, "{\"a\":1}", 7),
			 0);
	expect("{\"date\":1700000000.123457,\"a\":1}");

	sl_buf_reset(&buf);
	assert_int_equal(sl_format_json_object(&buf, &o, TS, "{}", 2), 0);
	expect("{\"date\":1700000000.123457}");

	sl_buf_reset(&buf);
	assert_int_equal(sl_format_json_object(&buf, &o, TS, " { } ", 5), 0);
	expect("{\"date\":1700000000.123457} ");
}

static void json_object_key_and_format_options(void **state)
{
	struct sl_json_opts o;
	const char *what = NULL;

	(void)state;
	assert_int_equal(
	    sl_json_opts_init(&o, SL_JSON_LINES, "@t\"s", "iso8601", &what), 0);
	assert_int_equal(sl_format_json_object(&buf, &o, TS, "{\"a\":1}", 7),
			 0);
	expect("{\"@t\\\"s\":\"2023-11-14T22:13:20.123456Z\",\"a\":1}");

	assert_int_equal(
	    sl_json_opts_init(&o, SL_JSON_LINES, "Off", NULL, NULL), 0);
	assert_null(o.date_key);
	sl_buf_reset(&buf);
	assert_int_equal(sl_format_json_object(&buf, &o, TS, "{\"a\":1}", 7),
			 0);
	expect("{\"a\":1}");

	assert_int_equal(
	    sl_json_opts_init(&o, SL_JSON_LINES, NULL, "bogus", &what),
	    -SL_EINVAL);
	assert_string_equal(what, "json_date_format");
}

static void batch(enum sl_json_format f)
{
	struct sl_json_opts o;

	assert_int_equal(sl_json_opts_init(&o, f, NULL, "epoch", NULL), 0);
	sl_buf_reset(&buf);
	assert_int_equal(sl_format_json_begin(&buf, &o), 0);
	assert_int_equal(sl_format_json_record(&buf, &o, 0, TS, "{\"a\":1}", 7),
			 0);
	assert_int_equal(sl_format_json_record(&buf, &o, 1, TS, "{\"b\":2}", 7),
			 0);
	assert_int_equal(sl_format_json_end(&buf, &o), 0);
}

static void json_batches(void **state)
{
	enum sl_json_format f;

	(void)state;
	batch(SL_JSON_ARRAY);
	expect("[{\"date\":1700000000,\"a\":1},{\"date\":1700000000,\"b\":2}]");
	batch(SL_JSON_LINES);
	expect(
	    "{\"date\":1700000000,\"a\":1}\n{\"date\":1700000000,\"b\":2}\n");
	batch(SL_JSON_STREAM);
	expect("{\"date\":1700000000,\"a\":1}{\"date\":1700000000,\"b\":2}");
	assert_int_equal(sl_json_format_parse("JSON_LINES", &f), 0);
	assert_int_equal(f, SL_JSON_LINES);
	assert_int_equal(sl_json_format_parse("msgpack", &f), -SL_EINVAL);
}

static void tag_line(void **state)
{
	(void)state;
	assert_int_equal(
	    sl_format_tag_line(&buf, "app.log", 7, TS, "{\"a\":\"x\"}", 9), 0);
	expect("app.log: [1700000000.123456789, {\"a\":\"x\"}]\n");
}

static void print_style(void **state)
{
	const char *in = "{\"s\":\"x\\\"y\\\\\",\"n\":-3,"
			 "\"u\":18446744073709551615,\"f\":1.5,\"e\":1e2,"
			 "\"b\":true,\"c\":false,\"z\":null,"
			 "\"a\":[1,{\"k\":[]}],\"o\":{}}";

	(void)state;
	assert_int_equal(sl_format_print_value(&buf, in, strlen(in)), 0);
	expect("{\"s\"=>\"x\\\"y\\\", \"n\"=>-3, \"u\"=>18446744073709551615, "
	       "\"f\"=>1.500000, \"e\"=>100.000000, \"b\"=>true, "
	       "\"c\"=>false, \"z\"=>nil, \"a\"=>[1, {\"k\"=>[]}], \"o\"=>{}}");
}

static void print_style_escapes_bytes(void **state)
{
	const char *in = "{\"k\\u0000\":\"\xc3\xa9\\n\\u0001~\"}";

	(void)state;
	assert_int_equal(sl_format_print_value(&buf, in, strlen(in)), 0);
	expect("{\"k\\x00\"=>\"\\xc3\\xa9\\x0a\\x01~\"}");
}

static void print_style_rejects_bad_json(void **state)
{
	(void)state;
	assert_int_equal(sl_buf_append(&buf, "keep", 4), 0);
	assert_int_equal(sl_format_print_value(&buf, "{\"a\":", 5), -SL_EPARSE);
	expect("keep");
	assert_int_equal(sl_format_print_value(&buf, "[1,2]", 5), 0);
	expect("keep[1, 2]");
}

static void print_line(void **state)
{
	(void)state;
	assert_int_equal(
	    sl_format_print_line(&buf, 3, "t", 1, TS, "{\"a\":1}", 7), 0);
	expect("[3] t: [[1700000000.123456789, {}], {\"a\"=>1}]\n");
}

static void fields_split(void **state)
{
	struct sl_fields f = {0};
	const char *in = "{\"msg\":\"a \\\"b\\\"\",\"n\":2,\"o\":{\"x\":[1]},"
			 "\"msg\":\"second\"}";
	const struct sl_field *v;

	(void)state;
	assert_int_equal(sl_fields_split(&f, in, strlen(in)), 0);
	assert_int_equal(f.n, 4);
	v = f.v;
	assert_memory_equal(f.text.data + v[0].key_off, "msg", 3);
	assert_int_equal(v[0].print_len, strlen("\"a \\\"b\\\"\""));
	assert_memory_equal(f.text.data + v[0].print_off, "\"a \\\"b\\\"\"",
			    v[0].print_len);
	assert_int_equal(v[0].raw_len, strlen("a \"b\""));
	assert_memory_equal(f.text.data + v[0].raw_off, "a \"b\"",
			    v[0].raw_len);
	assert_memory_equal(f.text.data + v[1].print_off, "2", 1);
	assert_int_equal(v[1].raw_len, 1);
	assert_int_equal(v[2].print_len, strlen("{\"x\"=>[1]}"));
	assert_memory_equal(f.text.data + v[2].print_off, "{\"x\"=>[1]}",
			    v[2].print_len);
	/* The first of repeated keys, as Fluent Bit's template lookup. */
	assert_int_equal(sl_fields_find(&f, "msg", 3), 0);
	assert_int_equal(sl_fields_find(&f, "o", 1), 2);
	assert_int_equal(sl_fields_find(&f, "none", 4), -1);

	assert_int_equal(sl_fields_split(&f, "{}", 2), 0);
	assert_int_equal(f.n, 0);
	assert_int_equal(sl_fields_split(&f, "[1]", 3), -SL_EPARSE);
	assert_int_equal(sl_fields_split(&f, "\"s\"", 3), -SL_EPARSE);
	assert_int_equal(f.n, 0);
	sl_fields_destroy(&f);
	sl_fields_destroy(&f); /* idempotent */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(date_formats_match_fluent_bit, reset),
	    cmocka_unit_test_setup(date_format_names, reset),
	    cmocka_unit_test_setup(time_texts, reset),
	    cmocka_unit_test_setup(dates_match_printf_everywhere, reset),
	    cmocka_unit_test_setup(dates_pinned, reset),
	    cmocka_unit_test_setup(json_object_splices_date_first, reset),
	    cmocka_unit_test_setup(json_object_key_and_format_options, reset),
	    cmocka_unit_test_setup(json_batches, reset),
	    cmocka_unit_test_setup(tag_line, reset),
	    cmocka_unit_test_setup(print_style, reset),
	    cmocka_unit_test_setup(print_style_escapes_bytes, reset),
	    cmocka_unit_test_setup(print_style_rejects_bad_json, reset),
	    cmocka_unit_test_setup(print_line, reset),
	    cmocka_unit_test_setup(fields_split, reset),
	};
	return cmocka_run_group_tests(tests, NULL, teardown);
}
