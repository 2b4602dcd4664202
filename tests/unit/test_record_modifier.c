/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_record_modifier.c - the record_modifier filter: Record, Remove_key,
 * Allowlist_key/Whitelist_key, Uuid_key, exact output bodies, and the
 * configuration errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "sl_test.h"

extern const struct sl_filter_plugin sl_filter_record_modifier;

static struct sl_test_filter *rm(const char *const *kv)
{
	char *diag = NULL;
	struct sl_test_filter *tf =
	    sl_test_filter_create(&sl_filter_record_modifier, kv, NULL, &diag);

	if (!tf)
		fail_msg("record_modifier config failed: %s",
			 diag ? diag : "?");
	free(diag);
	return tf;
}

static void check(const char *const *kv, const char *in, const char *out)
{
	struct sl_test_filter *tf = rm(kv);

	assert_int_equal(sl_test_filter_run(tf, in), SL_FILTER_KEEP);
	assert_string_equal(tf->out, out);
	sl_test_filter_destroy(tf);
}

static void check_error(const char *const *kv, const char *want)
{
	char *diag = NULL;
	struct sl_test_filter *tf =
	    sl_test_filter_create(&sl_filter_record_modifier, kv, NULL, &diag);

	assert_null(tf);
	assert_non_null(diag);
	if (!strstr(diag, want))
		fail_msg("expected '%s' in: %s", want, diag);
	free(diag);
}

static void record_appends_strings(void **state)
{
	static const char *const kv[] = {"Record", "hostname web-1", "Record",
					 "product Awesome_Tool", NULL};

	(void)state;
	check(kv, "{\"Mem.total\":1016024}",
	      "{\"Mem.total\":1016024,\"hostname\":\"web-1\","
	      "\"product\":\"Awesome_Tool\"}");
}

static void record_quoted_value(void **state)
{
	static const char *const kv[] = {"Record", "msg \"a \\\"b\\\" c\"",
					 NULL};

	(void)state;
	check(kv, "{}", "{\"msg\":\"a \\\"b\\\" c\"}");
}

/* An existing field of the same name is replaced, so keys stay unique. */
static void record_replaces_same_key(void **state)
{
	static const char *const kv[] = {"Record", "env prod", NULL};

	(void)state;
	check(kv, "{\"env\":\"dev\",\"a\":1}", "{\"a\":1,\"env\":\"prod\"}");
}

static void remove_key_exact(void **state)
{
	static const char *const kv[] = {"Remove_key", "Swap.used", NULL};

	(void)state;
	check(kv, "{\"Swap.used\":1,\"Swap.usedx\":2}", "{\"Swap.usedx\":2}");
}

static void remove_key_prefix(void **state)
{
	static const char *const kv[] = {"Remove_key", "Swap*", NULL};

	(void)state;
	check(kv, "{\"Mem.used\":1,\"Swap.used\":2,\"Swap.free\":3}",
	      "{\"Mem.used\":1}");
}

/* Fluent Bit compares these key names without case. */
static void remove_key_ignores_case(void **state)
{
	static const char *const kv[] = {"Remove_key", "level", NULL};

	(void)state;
	check(kv, "{\"LEVEL\":\"x\",\"m\":1}", "{\"m\":1}");
}

static void allowlist_keeps_listed(void **state)
{
	static const char *const kv[] = {"Allowlist_key", "Mem.total",
					 "Allowlist_key", "Swap*", NULL};

	(void)state;
	check(kv, "{\"Mem.total\":1,\"Mem.used\":2,\"Swap.used\":3}",
	      "{\"Mem.total\":1,\"Swap.used\":3}");
}

static void whitelist_is_allowlist(void **state)
{
	static const char *const kv[] = {"Whitelist_key", "a", NULL};

	(void)state;
	check(kv, "{\"a\":1,\"b\":2}", "{\"a\":1}");
}

static void allowlist_with_record(void **state)
{
	static const char *const kv[] = {"Allowlist_key", "a", "Record", "b 9",
					 NULL};

	(void)state;
	check(kv, "{\"a\":1,\"c\":2}", "{\"a\":1,\"b\":\"9\"}");
}

/* As in Fluent Bit, a record left with no field at all is not emitted. */
static void allowlist_removing_everything_drops(void **state)
{
	static const char *const kv[] = {"Allowlist_key", "a", NULL};
	struct sl_test_filter *tf = rm(kv);

	(void)state;
	assert_int_equal(sl_test_filter_run(tf, "{\"b\":1}"), SL_FILTER_DROP);
	sl_test_filter_destroy(tf);
}

static void untouched_record_is_unchanged(void **state)
{
	static const char *const kv[] = {"Remove_key", "zz", NULL};

	(void)state;
	check(kv, "{ \"a\" : 1 }", "{ \"a\" : 1 }");
}

static void nested_values_are_kept(void **state)
{
	static const char *const kv[] = {"Remove_key", "b", NULL};

	(void)state;
	check(kv, "{\"a\":{\"x\":[1,{\"y\":null}]},\"b\":2,\"c\":\"\\u00e9\"}",
	      "{\"a\":{\"x\":[1,{\"y\":null}]},\"c\":\"\\u00e9\"}");
}

static bool is_uuid4(const char *s)
{
	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !strchr("0123456789abcdef", s[i]))
			return false;
	}
	return s[14] == '4' && strchr("89ab", s[19]) != NULL;
}

static void uuid_key_adds_v4(void **state)
{
	static const char *const kv[] = {"Uuid_key", "id", NULL};
	struct sl_test_filter *tf = rm(kv);
	const char *prefix = "{\"a\":1,\"id\":\"";
	char first[37];

	(void)state;
	assert_int_equal(sl_test_filter_run(tf, "{\"a\":1}"), SL_FILTER_KEEP);
	assert_int_equal(strlen(tf->out), strlen(prefix) + 36 + 2);
	assert_memory_equal(tf->out, prefix, strlen(prefix));
	assert_true(is_uuid4(tf->out + strlen(prefix)));
	assert_string_equal(tf->out + strlen(prefix) + 36, "\"}");
	memcpy(first, tf->out + strlen(prefix), 36);
	first[36] = '\0';
	/* the next record gets another one */
	assert_int_equal(sl_test_filter_run(tf, "{\"a\":1}"), SL_FILTER_KEEP);
	assert_memory_not_equal(tf->out + strlen(prefix), first, 36);
	sl_test_filter_destroy(tf);
}

static void uuid_comes_after_records(void **state)
{
	static const char *const kv[] = {"Uuid_key", "id", "Record", "r v",
					 NULL};
	struct sl_test_filter *tf = rm(kv);
	const char *prefix = "{\"r\":\"v\",\"id\":\"";

	(void)state;
	assert_int_equal(sl_test_filter_run(tf, "{}"), SL_FILTER_KEEP);
	assert_memory_equal(tf->out, prefix, strlen(prefix));
	assert_true(is_uuid4(tf->out + strlen(prefix)));
	sl_test_filter_destroy(tf);
}

static void remove_and_allowlist_is_error(void **state)
{
	static const char *const kv[] = {"Remove_key", "a", "Allowlist_key",
					 "b", NULL};

	(void)state;
	check_error(kv, "cannot be used together");
}

static void record_without_value_is_error(void **state)
{
	static const char *const kv[] = {"Record", "a 1", "Record", "lonely",
					 NULL};

	(void)state;
	check_error(kv, "test.conf:3:");
}

static void record_with_three_words_is_error(void **state)
{
	static const char *const kv[] = {"Record", "msg hello world", NULL};

	(void)state;
	check_error(kv, "quote a value");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(record_appends_strings),
	    cmocka_unit_test(record_quoted_value),
	    cmocka_unit_test(record_replaces_same_key),
	    cmocka_unit_test(remove_key_exact),
	    cmocka_unit_test(remove_key_prefix),
	    cmocka_unit_test(remove_key_ignores_case),
	    cmocka_unit_test(allowlist_keeps_listed),
	    cmocka_unit_test(whitelist_is_allowlist),
	    cmocka_unit_test(allowlist_with_record),
	    cmocka_unit_test(allowlist_removing_everything_drops),
	    cmocka_unit_test(untouched_record_is_unchanged),
	    cmocka_unit_test(nested_values_are_kept),
	    cmocka_unit_test(uuid_key_adds_v4),
	    cmocka_unit_test(uuid_comes_after_records),
	    cmocka_unit_test(remove_and_allowlist_is_error),
	    cmocka_unit_test(record_without_value_is_error),
	    cmocka_unit_test(record_with_three_words_is_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
