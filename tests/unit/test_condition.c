/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_condition.c - Fluent Bit conditions on records: every operator, and/or,
 * absent fields and contexts, type coercion (floats, bools, arrays, maps),
 * and the configuration errors of a rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
/* cmocka needs the headers above first */
#include <cmocka.h>

#include "sl_condition.h"

static const char DOC[] =
    "{\"level\":\"error\",\"code\":503,\"ratio\":1.5,\"ok\":true,"
    "\"nil\":null,\"tags\":[\"a\"],\"k8s\":{\"ns\":\"prod\"},"
    "\"msg\":\"disk full\"}";

static struct sl_record rec;

static int setup(void **state)
{
	(void)state;
	sl_record_init(&rec);
	return sl_record_reset_json(&rec, 1, DOC, sizeof(DOC) - 1);
}

static int teardown(void **state)
{
	(void)state;
	sl_record_destroy(&rec);
	return 0;
}

/* One rule, evaluated alone under `and`. */
static bool one(const char *field, const char *op, const char *value)
{
	char err[256];
	struct sl_condition *c = sl_condition_create(false);
	const char *v[] = {value};

	assert_non_null(c);
	assert_int_equal(
	    sl_condition_add_rule(c, field, op, v, 1, NULL, err, sizeof(err)),
	    0);
	bool r = sl_condition_eval(c, &rec);

	sl_condition_destroy(c);
	return r;
}

static void test_eq_neq_on_strings_and_nested_fields(void **state)
{
	(void)state;
	assert_true(one("$level", "eq", "error"));
	assert_false(one("$level", "eq", "warn"));
	assert_true(one("$level", "neq", "warn"));
	assert_true(one("$k8s['ns']", "eq", "prod"));
	assert_true(one("$['level']", "EQ", "error"));
}

static void test_absent_field_reads_as_empty_text(void **state)
{
	(void)state;
	/* Fluent Bit: a missing key translates to "" */
	assert_false(one("$nope", "eq", "x"));
	assert_true(one("$nope", "neq", "x"));
	assert_true(one("$k8s['missing']", "neq", "prod"));
	assert_true(one("$nope", "lt", "1")); /* atof("") is 0 */
}

static void test_numbers_and_coercion(void **state)
{
	(void)state;
	assert_true(one("$code", "gt", "500"));
	assert_false(one("$code", "lt", "500"));
	assert_true(one("$code", "gte", "503"));
	assert_true(one("$code", "lte", "503.0"));
	assert_true(one("$code", "eq", "503"));
	/* floats print as "%f", bools and null as their literal */
	assert_true(one("$ratio", "eq", "1.500000"));
	assert_false(one("$ratio", "eq", "1.5"));
	assert_true(one("$ok", "eq", "true"));
	assert_true(one("$nil", "eq", "null"));
	/* text that is no number compares as 0 */
	assert_true(one("$level", "lt", "1"));
}

static void test_arrays_make_a_rule_false_and_maps_are_json(void **state)
{
	(void)state;
	assert_false(one("$tags", "eq", "a"));
	assert_false(one("$tags", "neq", "a"));
	assert_true(one("$k8s", "eq", "{\"ns\":\"prod\"}"));
}

static void test_regex_and_not_regex(void **state)
{
	(void)state;
	assert_true(one("$msg", "regex", "^disk"));
	assert_false(one("$msg", "regex", "^full"));
	assert_true(one("$msg", "not_regex", "^full"));
	assert_true(one("$msg", "regex", "/DISK/i"));
}

static void test_in_and_not_in(void **state)
{
	char err[256];
	const char *v[] = {"warn", "error"};
	struct sl_condition *c = sl_condition_create(false);

	(void)state;
	assert_int_equal(
	    sl_condition_add_rule(c, "$level", "in", v, 2, NULL, err, 256), 0);
	assert_true(sl_condition_eval(c, &rec));
	sl_condition_destroy(c);
	c = sl_condition_create(false);
	assert_int_equal(
	    sl_condition_add_rule(c, "$level", "not_in", v, 2, NULL, err, 256),
	    0);
	assert_false(sl_condition_eval(c, &rec));
	sl_condition_destroy(c);
}

static void test_and_or(void **state)
{
	char err[256];
	const char *yes[] = {"error"}, *no[] = {"503x"};
	struct sl_condition *c;

	(void)state;
	c = sl_condition_create(false);
	sl_condition_add_rule(c, "$level", "eq", yes, 1, NULL, err, 256);
	sl_condition_add_rule(c, "$code", "eq", no, 1, NULL, err, 256);
	assert_false(sl_condition_eval(c, &rec));
	sl_condition_destroy(c);
	c = sl_condition_create(true);
	sl_condition_add_rule(c, "$code", "eq", no, 1, NULL, err, 256);
	sl_condition_add_rule(c, "$level", "eq", yes, 1, NULL, err, 256);
	assert_true(sl_condition_eval(c, &rec));
	sl_condition_destroy(c);
	c = sl_condition_create(true);
	sl_condition_add_rule(c, "$code", "eq", no, 1, NULL, err, 256);
	assert_false(sl_condition_eval(c, &rec));
	sl_condition_destroy(c);
	/* no condition: every record */
	assert_true(sl_condition_eval(NULL, &rec));
}

static void test_contexts_sluice_lacks(void **state)
{
	char err[256];
	const char *meta[] = {"meta"}, *yes[] = {"error"};
	struct sl_condition *c;

	(void)state;
	/* and: a rule on group attributes has no value: false */
	c = sl_condition_create(false);
	sl_condition_add_rule(c, "$level", "eq", yes, 1, "body", err, 256);
	assert_int_equal(sl_condition_add_rule(c, "$['a']", "eq", meta, 1,
					       "group_attributes", err, 256),
			 0);
	assert_false(sl_condition_eval(c, &rec));
	sl_condition_destroy(c);
	/* or: it is skipped, the body rule decides */
	c = sl_condition_create(true);
	sl_condition_add_rule(c, "$['a']", "eq", meta, 1,
			      "otel_resource_attributes", err, 256);
	sl_condition_add_rule(c, "$level", "eq", yes, 1, NULL, err, 256);
	assert_true(sl_condition_eval(c, &rec));
	sl_condition_destroy(c);
	/* metadata is there but empty: eq false, neq true */
	c = sl_condition_create(false);
	sl_condition_add_rule(c, "$['meta_key']", "neq", meta, 1, "metadata",
			      err, 256);
	assert_true(sl_condition_eval(c, &rec));
	sl_condition_destroy(c);
}

static void test_rule_errors(void **state)
{
	char err[256];
	const char *one_v[] = {"x"}, *empty[] = {""}, *bad_re[] = {"("};
	struct sl_condition *c = sl_condition_create(false);

	(void)state;
	assert_int_equal(sl_condition_add_rule(c, "$a", "like", one_v, 1, NULL,
					       err, sizeof(err)),
			 -SL_EINVAL);
	assert_non_null(strstr(err, "like"));
	assert_int_equal(sl_condition_add_rule(c, "$a", "gt", one_v, 1, NULL,
					       err, sizeof(err)),
			 -SL_EINVAL);
	assert_non_null(strstr(err, "number"));
	assert_int_equal(sl_condition_add_rule(c, "$a", "eq", empty, 1, NULL,
					       err, sizeof(err)),
			 -SL_EINVAL);
	assert_int_equal(sl_condition_add_rule(c, "$a", "in", one_v, 0, NULL,
					       err, sizeof(err)),
			 -SL_EINVAL);
	assert_int_equal(sl_condition_add_rule(c, "$a", "regex", bad_re, 1,
					       NULL, err, sizeof(err)),
			 -SL_EINVAL);
	assert_int_equal(sl_condition_add_rule(c, "$a", "eq", one_v, 1,
					       "resource", err, sizeof(err)),
			 -SL_EINVAL);
	assert_non_null(strstr(err, "context"));
	assert_int_equal(sl_condition_rules(c), 0);
	sl_condition_destroy(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
		test_eq_neq_on_strings_and_nested_fields, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_absent_field_reads_as_empty_text, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_numbers_and_coercion, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(
		test_arrays_make_a_rule_false_and_maps_are_json, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_regex_and_not_regex, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_in_and_not_in, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_and_or, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_contexts_sluice_lacks, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_rule_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
