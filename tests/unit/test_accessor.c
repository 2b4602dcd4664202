/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_accessor.c - compiling record accessors (plain keys, $key, nested
 * quoted keys, array indexes, errors) and reading fields with them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
/* cmocka needs the headers above first */
#include <cmocka.h>

#include "sl_record.h"

static const char DOC[] =
    "{\"log\":\"l\",\"kubernetes\":{\"labels\":{\"app\":\"web\",\"a.b\":"
    "\"dots\"},"
    "\"ids\":[10,{\"x\":\"deep\"},[true]]},\"esc\":\"a\\\"b\\u00e9\","
    "\"n\":-1.5,\"nil\":null,\"a.b\":\"flat\",\"sp ace\":1}";

static struct sl_record rec;
static struct sl_text scratch;

static int setup(void **state)
{
	(void)state;
	sl_record_init(&rec);
	memset(&scratch, 0, sizeof(scratch));
	return sl_record_reset_json(&rec, 1, DOC, sizeof(DOC) - 1);
}

static int teardown(void **state)
{
	(void)state;
	sl_record_destroy(&rec);
	free(scratch.buf);
	return 0;
}

static int get_text(const char *spec, const char **t, size_t *len)
{
	const char *err = NULL;
	struct sl_accessor *acc = sl_accessor_create(spec, &err);
	int rc;

	assert_non_null(acc);
	rc = sl_record_get_text(&rec, acc, &scratch, t, len);
	sl_accessor_destroy(acc);
	return rc;
}

static void assert_text(const char *spec, const char *want)
{
	const char *t;
	size_t len;

	assert_int_equal(get_text(spec, &t, &len), 0);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(t, want, len);
}

static void assert_absent(const char *spec)
{
	const char *t;
	size_t len;

	assert_int_equal(get_text(spec, &t, &len), -SL_ENOENT);
}

static void compile_error(const char *spec)
{
	const char *err = NULL;

	assert_null(sl_accessor_create(spec, &err));
	assert_non_null(err);
	assert_true(strlen(err) > 0);
}

static void plain_and_dollar_keys_read_top_level(void **state)
{
	(void)state;
	assert_text("log", "l");
	assert_text("$log", "l");
	assert_text("a.b", "flat");
	assert_text("$a.b", "flat");
	assert_text("sp ace", "1");
}

static void nested_quoted_keys(void **state)
{
	(void)state;
	assert_text("$kubernetes['labels']['app']", "web");
	assert_text("$kubernetes[\"labels\"][\"app\"]", "web");
	assert_text("$kubernetes['labels']['a.b']", "dots");
}

static void array_indexes(void **state)
{
	(void)state;
	assert_text("$kubernetes['ids'][0]", "10");
	assert_text("$kubernetes['ids'][1]['x']", "deep");
	assert_text("$kubernetes['ids'][2][0]", "true");
	assert_absent("$kubernetes['ids'][3]");
}

static void values_as_text(void **state)
{
	(void)state;
	assert_text("esc", "a\"b\xC3\xA9");
	assert_text("n", "-1.5");
	assert_text("nil", "null");
	assert_text("$kubernetes['ids'][2]", "[true]");
	assert_text("$kubernetes['labels']",
		    "{\"app\":\"web\",\"a.b\":\"dots\"}");
}

static void value_types_and_raw_json(void **state)
{
	const char *err;
	struct sl_accessor *acc = sl_accessor_create("$esc", &err);
	struct sl_value v;

	(void)state;
	assert_int_equal(sl_record_get(&rec, acc, &v), 0);
	assert_int_equal(v.type, SL_VAL_STRING);
	assert_int_equal(v.raw_len, strlen("\"a\\\"b\\u00e9\""));
	assert_memory_equal(v.raw, "\"a\\\"b\\u00e9\"", v.raw_len);
	sl_accessor_destroy(acc);
	acc = sl_accessor_create("$kubernetes['ids']", &err);
	assert_int_equal(sl_record_get(&rec, acc, &v), 0);
	assert_int_equal(v.type, SL_VAL_ARRAY);
	sl_accessor_destroy(acc);
}

static void missing_paths_are_absent(void **state)
{
	(void)state;
	assert_absent("nope");
	assert_absent("$kubernetes['nope']");
	assert_absent("$log['sub']");		  /* into a string */
	assert_absent("$kubernetes[0]");	  /* index into an object */
	assert_absent("$kubernetes['ids']['x']"); /* key into an array */
	assert_absent("$kubernetes['labels']['app']['more']");
}

static void depth_and_last_key(void **state)
{
	const char *err;
	struct sl_accessor *a = sl_accessor_create("$a['b'][3]", &err);
	struct sl_accessor *b = sl_accessor_create("$a[\"b\"]", &err);
	struct sl_accessor *c = sl_accessor_create("plain", &err);

	(void)state;
	assert_int_equal(sl_accessor_depth(a), 3);
	assert_null(sl_accessor_last_key(a));
	assert_int_equal(sl_accessor_depth(b), 2);
	assert_string_equal(sl_accessor_last_key(b), "b");
	assert_int_equal(sl_accessor_depth(c), 1);
	assert_string_equal(sl_accessor_last_key(c), "plain");
	sl_accessor_destroy(a);
	sl_accessor_destroy(b);
	sl_accessor_destroy(c);
	sl_accessor_destroy(NULL);
}

static void malformed_accessors_are_rejected(void **state)
{
	(void)state;
	compile_error("");
	compile_error("$");
	compile_error("$['a']");
	compile_error("$a[");
	compile_error("$a['b'");
	compile_error("$a['b]");
	compile_error("$a[b]");
	compile_error("$a[1");
	compile_error("$a['']");
	compile_error("$a['b']x");
	compile_error("$a[99999999999]");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	    T(plain_and_dollar_keys_read_top_level),
	    T(nested_quoted_keys),
	    T(array_indexes),
	    T(values_as_text),
	    T(value_types_and_raw_json),
	    T(missing_paths_are_absent),
	    T(depth_and_last_key),
	    T(malformed_accessors_are_rejected),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
