/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_modify.c - the modify filter: each rule and condition with Fluent
 * Bit's semantics (exact output bodies), rule order, quoting, and the
 * configuration errors with their lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "sl_test.h"

extern const struct sl_filter_plugin sl_filter_modify;

/* Configures modify with `kv`, runs `in`, checks the kept body is `out`. */
static void check(const char *const *kv, const char *in, const char *out)
{
	char *diag = NULL;
	struct sl_test_filter *tf =
	    sl_test_filter_create(&sl_filter_modify, kv, NULL, &diag);

	if (!tf)
		fail_msg("modify config failed: %s", diag ? diag : "?");
	free(diag);
	assert_int_equal(sl_test_filter_run(tf, in), SL_FILTER_KEEP);
	assert_string_equal(tf->out, out);
	sl_test_filter_destroy(tf);
}

/* Configuration that must fail with `want` and "test.conf:<line>:". */
static void check_error(const char *const *kv, int line, const char *want)
{
	char *diag = NULL, where[32];
	struct sl_test_filter *tf =
	    sl_test_filter_create(&sl_filter_modify, kv, NULL, &diag);

	assert_null(tf);
	assert_non_null(diag);
	snprintf(where, sizeof(where), "test.conf:%d:", line);
	if (!strstr(diag, where) || !strstr(diag, want))
		fail_msg("expected '%s' and '%s' in: %s", where, want, diag);
	free(diag);
}

/* ---- rules ---- */

static void set_appends_new_key(void **state)
{
	static const char *const kv[] = {"Set", "test_key test_value", NULL};

	(void)state;
	check(kv, "{\"k\":\"sample\"}",
	      "{\"k\":\"sample\",\"test_key\":\"test_value\"}");
}

/* Fluent Bit drops the old pair and appends the new one at the end. */
static void set_replaces_existing_key(void **state)
{
	static const char *const kv[] = {"Set", "k new", NULL};

	(void)state;
	check(kv, "{\"k\":\"old\",\"o\":1}", "{\"o\":1,\"k\":\"new\"}");
}

static void set_writes_a_string(void **state)
{
	static const char *const kv[] = {"Set", "n 42", NULL};

	(void)state;
	check(kv, "{}", "{\"n\":\"42\"}");
}

static void add_when_absent(void **state)
{
	static const char *const kv[] = {"Add", "k2 v2", NULL};

	(void)state;
	check(kv, "{\"k1\":\"v1\"}", "{\"k1\":\"v1\",\"k2\":\"v2\"}");
}

static void add_keeps_existing(void **state)
{
	static const char *const kv[] = {"Add", "k1 other", NULL};

	(void)state;
	check(kv, "{\"k1\":\"v1\"}", "{\"k1\":\"v1\"}");
}

static void remove_key(void **state)
{
	static const char *const kv[] = {"Remove", "remove", NULL};

	(void)state;
	check(kv, "{\"k\":\"sample\",\"remove\":\"x\"}", "{\"k\":\"sample\"}");
}

static void remove_wildcard_prefix(void **state)
{
	static const char *const kv[] = {"Remove_wildcard", "k", NULL};

	(void)state;
	check(kv, "{\"k1\":\"s1\",\"k2\":\"s2\",\"a3\":\"s3\"}",
	      "{\"a3\":\"s3\"}");
}

/* Fluent Bit takes the wildcard literally: '*' is no glob. */
static void remove_wildcard_star_is_literal(void **state)
{
	static const char *const kv[] = {"Remove_wildcard", "Mem*", NULL};

	(void)state;
	check(kv, "{\"Mem.used\":1,\"Mem*x\":2}", "{\"Mem.used\":1}");
}

static void remove_regex(void **state)
{
	static const char *const kv[] = {"Remove_regex", "^[a-z][0-9]$", NULL};

	(void)state;
	check(kv, "{\"k1\":\"s1\",\"k2\":\"s2\",\"A3\":\"s3\"}",
	      "{\"A3\":\"s3\"}");
}

static void rename_in_place(void **state)
{
	static const char *const kv[] = {"Rename", "A3 a3", NULL};

	(void)state;
	check(kv, "{\"k1\":\"s1\",\"A3\":\"s3\",\"k2\":\"s2\"}",
	      "{\"k1\":\"s1\",\"a3\":\"s3\",\"k2\":\"s2\"}");
}

static void rename_skips_existing_target(void **state)
{
	static const char *const kv[] = {"Rename", "A3 k2", NULL};

	(void)state;
	check(kv, "{\"k2\":\"s2\",\"A3\":\"s3\"}",
	      "{\"k2\":\"s2\",\"A3\":\"s3\"}");
}

static void hard_rename_replaces_target(void **state)
{
	static const char *const kv[] = {"Hard_rename", "k2 k1", NULL};

	(void)state;
	check(kv, "{\"k1\":\"s1\",\"k2\":\"s2\"}", "{\"k1\":\"s2\"}");
}

static void hard_rename_without_target(void **state)
{
	static const char *const kv[] = {"Hard_rename", "k2 k3", NULL};

	(void)state;
	check(kv, "{\"k1\":\"s1\",\"k2\":\"s2\"}",
	      "{\"k1\":\"s1\",\"k3\":\"s2\"}");
}

/* The copy goes right after its source, with the value as it was. */
static void copy_after_source(void **state)
{
	static const char *const kv[] = {"Copy", "k1 k3", NULL};

	(void)state;
	check(kv, "{\"k1\":{\"a\":[1]},\"k2\":\"s2\"}",
	      "{\"k1\":{\"a\":[1]},\"k3\":{\"a\":[1]},\"k2\":\"s2\"}");
}

static void copy_skips_existing_target(void **state)
{
	static const char *const kv[] = {"Copy", "k1 k2", NULL};

	(void)state;
	check(kv, "{\"k1\":\"s1\",\"k2\":\"s2\"}",
	      "{\"k1\":\"s1\",\"k2\":\"s2\"}");
}

static void hard_copy_replaces_target(void **state)
{
	static const char *const kv[] = {"Hard_copy", "k2 k1", NULL};

	(void)state;
	check(kv, "{\"k1\":\"s1\",\"k2\":\"s2\"}",
	      "{\"k2\":\"s2\",\"k1\":\"s2\"}");
}

static void move_to_start(void **state)
{
	static const char *const kv[] = {"Move_to_start", "b", NULL};

	(void)state;
	check(kv, "{\"a\":1,\"b1\":2,\"c\":3,\"b2\":4}",
	      "{\"b1\":2,\"b2\":4,\"a\":1,\"c\":3}");
}

static void move_to_end(void **state)
{
	static const char *const kv[] = {"Move_to_end", "b", NULL};

	(void)state;
	check(kv, "{\"a\":1,\"b1\":2,\"c\":3,\"b2\":4}",
	      "{\"a\":1,\"c\":3,\"b1\":2,\"b2\":4}");
}

/* Rules of different kinds run in the order they were written. */
static void rules_run_in_written_order(void **state)
{
	static const char *const kv[] = {"Rename", "a b", "Set", "a x", NULL};

	(void)state;
	check(kv, "{\"a\":\"1\"}", "{\"b\":\"1\",\"a\":\"x\"}");
}

/* Fluent Bit issue 1225: quoted keys and values hold spaces. */
static void quoted_arguments(void **state)
{
	static const char *const kv[] = {
	    "Condition", "Key_value_matches \"key 1\" \".*with spaces.*\"",
	    "Add", "\"key 2\" \"second value with spaces\"", NULL};

	(void)state;
	check(kv, "{\"key 1\":\"first value with spaces\"}",
	      "{\"key 1\":\"first value with spaces\","
	      "\"key 2\":\"second value with spaces\"}");
}

static void quoted_value_escapes(void **state)
{
	static const char *const kv[] = {"Set", "msg 'it\\'s \"x\"'", NULL};

	(void)state;
	check(kv, "{}", "{\"msg\":\"it's \\\"x\\\"\"}");
}

/* ---- conditions ---- */

static void key_exists_applies(void **state)
{
	static const char *const kv[] = {"Condition", "Key_exists k1", "Copy",
					 "k1 k3", NULL};

	(void)state;
	check(kv, "{\"k1\":\"s1\"}", "{\"k1\":\"s1\",\"k3\":\"s1\"}");
}

static void key_exists_blocks(void **state)
{
	static const char *const kv[] = {"Condition", "Key_exists k9", "Set",
					 "x y", NULL};

	(void)state;
	check(kv, "{\"k1\":\"s1\"}", "{\"k1\":\"s1\"}");
}

static void key_exists_nested(void **state)
{
	static const char *const kv[] = {"Condition", "Key_exists $a['b']",
					 "Set", "x y", NULL};

	(void)state;
	check(kv, "{\"a\":{\"b\":1}}", "{\"a\":{\"b\":1},\"x\":\"y\"}");
	check(kv, "{\"a\":{\"c\":1}}", "{\"a\":{\"c\":1}}");
}

static void key_does_not_exist(void **state)
{
	static const char *const kv[] = {"Condition", "Key_does_not_exist k2",
					 "Add", "k2 v", NULL};

	(void)state;
	check(kv, "{\"k1\":\"s1\"}", "{\"k1\":\"s1\",\"k2\":\"v\"}");
}

static void a_key_matches(void **state)
{
	static const char *const kv[] = {"Condition", "A_key_matches ^k[0-9]$",
					 "Set", "m y", NULL};

	(void)state;
	check(kv, "{\"k1\":1}", "{\"k1\":1,\"m\":\"y\"}");
	check(kv, "{\"kk\":1}", "{\"kk\":1}");
}

static void no_key_matches(void **state)
{
	static const char *const kv[] = {"Condition", "No_key_matches ^[0-9]$",
					 "Set", "m y", NULL};

	(void)state;
	check(kv, "{\"k1\":1}", "{\"k1\":1,\"m\":\"y\"}");
	check(kv, "{\"7\":1}", "{\"7\":1}");
}

static void key_value_equals(void **state)
{
	static const char *const kv[] = {
	    "Condition", "Key_value_equals lang en", "Set", "m y", NULL};

	(void)state;
	check(kv, "{\"lang\":\"en\"}", "{\"lang\":\"en\",\"m\":\"y\"}");
	check(kv, "{\"lang\":\"eng\"}", "{\"lang\":\"eng\"}");
}

/* Fluent Bit compares strings only: the number 200 is not "200". */
static void key_value_equals_ignores_numbers(void **state)
{
	static const char *const kv[] = {
	    "Condition", "Key_value_equals code 200", "Set", "m y", NULL};

	(void)state;
	check(kv, "{\"code\":200}", "{\"code\":200}");
}

/* Fluent Bit issue 4319: a missing key is not "not equal". */
static void key_value_does_not_equal(void **state)
{
	static const char *const kv[] = {"Condition",
					 "Key_value_does_not_equal k sample",
					 "Set", "m y", NULL};

	(void)state;
	check(kv, "{\"k\":\"other\"}", "{\"k\":\"other\",\"m\":\"y\"}");
	check(kv, "{\"k\":\"sample\"}", "{\"k\":\"sample\"}");
	check(kv, "{\"x\":\"other\"}", "{\"x\":\"other\"}");
}

/* Fluent Bit issue 7075: a boolean matches as "true"/"false". */
static void key_value_matches_bool(void **state)
{
	static const char *const kv[] = {"Condition",
					 "Key_value_matches ok true", "Rename",
					 "ok matched", NULL};

	(void)state;
	check(kv, "{\"ok\":true}", "{\"matched\":true}");
}

static void key_value_matches_unescaped(void **state)
{
	static const char *const kv[] = {"Condition",
					 "Key_value_matches $a['m'] ^x\"y$",
					 "Set", "m y", NULL};

	(void)state;
	check(kv, "{\"a\":{\"m\":\"x\\\"y\"}}",
	      "{\"a\":{\"m\":\"x\\\"y\"},\"m\":\"y\"}");
}

static void key_value_does_not_match(void **state)
{
	static const char *const kv[] = {
	    "Condition", "Key_value_does_not_match k ^a", "Set", "m y", NULL};

	(void)state;
	check(kv, "{\"k\":\"bc\"}", "{\"k\":\"bc\",\"m\":\"y\"}");
	check(kv, "{\"k\":\"ab\"}", "{\"k\":\"ab\"}");
	check(kv, "{\"x\":\"bc\"}", "{\"x\":\"bc\"}");
}

static void matching_keys_have_matching_values(void **state)
{
	static const char *const kv[] = {
	    "Condition",
	    "Matching_keys_have_matching_values ^[a-z][0-9]$ ^[a-z][0-9]$",
	    "Copy", "k1 matches", NULL};

	(void)state;
	check(kv, "{\"k1\":\"n1\",\"k2\":\"n3\"}",
	      "{\"k1\":\"n1\",\"matches\":\"n1\",\"k2\":\"n3\"}");
	check(kv, "{\"k1\":\"n1\",\"k2\":\"nn\"}",
	      "{\"k1\":\"n1\",\"k2\":\"nn\"}");
}

static void matching_keys_do_not_have_matching_values(void **state)
{
	static const char *const kv[] = {
	    "Condition",
	    "Matching_keys_do_not_have_matching_values ^[a-z][0-9]$ "
	    "^[a-z][0-9]$",
	    "Copy", "k1 no_matches", NULL};

	(void)state;
	check(kv, "{\"k1\":\"aa\",\"k2\":\"bb\"}",
	      "{\"k1\":\"aa\",\"no_matches\":\"aa\",\"k2\":\"bb\"}");
}

static void conditions_are_anded(void **state)
{
	static const char *const kv[] = {
	    "Condition", "Key_exists a", "Condition", "Key_exists b",
	    "Set",	 "m y",		 NULL};

	(void)state;
	check(kv, "{\"a\":1,\"b\":2}", "{\"a\":1,\"b\":2,\"m\":\"y\"}");
	check(kv, "{\"a\":1}", "{\"a\":1}");
}

/* Conditions look at the record as it came in, not as rules change it. */
static void conditions_checked_before_rules(void **state)
{
	static const char *const kv[] = {
	    "Condition", "Key_does_not_exist x", "Set", "x 1", "Set", "y 2",
	    NULL};

	(void)state;
	check(kv, "{}", "{\"x\":\"1\",\"y\":\"2\"}");
}

/* ---- configuration errors ---- */

/* The shape of Fluent Bit's issue_5880.conf: "ADD" without a value. */
static void add_without_value_is_error(void **state)
{
	static const char *const kv[] = {"Add", "foo bar", "Add", "foo", NULL};

	(void)state;
	check_error(kv, 3,
		    "'foo' for option 'Add' of modify: expected KEY VALUE");
}

static void empty_rule_is_error(void **state)
{
	static const char *const kv[] = {"Add", "", NULL};

	(void)state;
	check_error(kv, 2, "expected KEY VALUE");
}

static void set_with_three_words_is_error(void **state)
{
	static const char *const kv[] = {"Set", "msg hello world", NULL};

	(void)state;
	check_error(kv, 2, "quote a value");
}

static void remove_with_two_words_is_error(void **state)
{
	static const char *const kv[] = {"Remove", "a b", NULL};

	(void)state;
	check_error(kv, 2, "expected KEY");
}

/* Fluent Bit issue 7368: a rule key that is no regex refuses to start. */
static void remove_wildcard_bad_regex_is_error(void **state)
{
	static const char *const kv[] = {"Remove_wildcard", "*s3", NULL};

	(void)state;
	check_error(kv, 2, "not a valid regular expression");
}

static void remove_regex_bad_regex_is_error(void **state)
{
	static const char *const kv[] = {"Set", "a b", "Remove_regex", "^(x",
					 NULL};

	(void)state;
	check_error(kv, 3, "^(x");
}

static void unknown_condition_is_error(void **state)
{
	static const char *const kv[] = {"Condition", "Key_is_cool k", NULL};

	(void)state;
	check_error(kv, 2, "unknown condition 'Key_is_cool'");
}

static void condition_missing_value_is_error(void **state)
{
	static const char *const kv[] = {"Condition", "Key_value_equals k",
					 NULL};

	(void)state;
	check_error(kv, 2, "expected KEY VALUE");
}

static void condition_bad_regex_is_error(void **state)
{
	static const char *const kv[] = {"Condition", "Key_value_matches k [a-",
					 NULL};

	(void)state;
	check_error(kv, 2, "bad regex '[a-'");
}

static void unterminated_quote_is_error(void **state)
{
	static const char *const kv[] = {"Set", "k \"open", NULL};

	(void)state;
	check_error(kv, 2, "unterminated quote");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(set_appends_new_key),
	    cmocka_unit_test(set_replaces_existing_key),
	    cmocka_unit_test(set_writes_a_string),
	    cmocka_unit_test(add_when_absent),
	    cmocka_unit_test(add_keeps_existing),
	    cmocka_unit_test(remove_key),
	    cmocka_unit_test(remove_wildcard_prefix),
	    cmocka_unit_test(remove_wildcard_star_is_literal),
	    cmocka_unit_test(remove_regex),
	    cmocka_unit_test(rename_in_place),
	    cmocka_unit_test(rename_skips_existing_target),
	    cmocka_unit_test(hard_rename_replaces_target),
	    cmocka_unit_test(hard_rename_without_target),
	    cmocka_unit_test(copy_after_source),
	    cmocka_unit_test(copy_skips_existing_target),
	    cmocka_unit_test(hard_copy_replaces_target),
	    cmocka_unit_test(move_to_start),
	    cmocka_unit_test(move_to_end),
	    cmocka_unit_test(rules_run_in_written_order),
	    cmocka_unit_test(quoted_arguments),
	    cmocka_unit_test(quoted_value_escapes),
	    cmocka_unit_test(key_exists_applies),
	    cmocka_unit_test(key_exists_blocks),
	    cmocka_unit_test(key_exists_nested),
	    cmocka_unit_test(key_does_not_exist),
	    cmocka_unit_test(a_key_matches),
	    cmocka_unit_test(no_key_matches),
	    cmocka_unit_test(key_value_equals),
	    cmocka_unit_test(key_value_equals_ignores_numbers),
	    cmocka_unit_test(key_value_does_not_equal),
	    cmocka_unit_test(key_value_matches_bool),
	    cmocka_unit_test(key_value_matches_unescaped),
	    cmocka_unit_test(key_value_does_not_match),
	    cmocka_unit_test(matching_keys_have_matching_values),
	    cmocka_unit_test(matching_keys_do_not_have_matching_values),
	    cmocka_unit_test(conditions_are_anded),
	    cmocka_unit_test(conditions_checked_before_rules),
	    cmocka_unit_test(add_without_value_is_error),
	    cmocka_unit_test(empty_rule_is_error),
	    cmocka_unit_test(set_with_three_words_is_error),
	    cmocka_unit_test(remove_with_two_words_is_error),
	    cmocka_unit_test(remove_wildcard_bad_regex_is_error),
	    cmocka_unit_test(remove_regex_bad_regex_is_error),
	    cmocka_unit_test(unknown_condition_is_error),
	    cmocka_unit_test(condition_missing_value_is_error),
	    cmocka_unit_test(condition_bad_regex_is_error),
	    cmocka_unit_test(unterminated_quote_is_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
