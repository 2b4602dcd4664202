/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_grep.c - the grep filter: Regex/Exclude on string fields, Fluent
 * Bit's legacy rule order, AND/OR, accessors, pattern options, and the
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

extern const struct sl_filter_plugin sl_filter_grep;

static struct sl_test_filter *grep(const char *const *kv)
{
	char *diag = NULL;
	struct sl_test_filter *tf =
	    sl_test_filter_create(&sl_filter_grep, kv, NULL, &diag);

	if (!tf)
		fail_msg("grep config failed: %s", diag ? diag : "?");
	free(diag);
	return tf;
}

/* Runs `json` and checks the verdict; a kept record must be unchanged. */
static void expect(struct sl_test_filter *tf, const char *json, bool keep)
{
	enum sl_filter_verdict v = sl_test_filter_run(tf, json);

	if (keep) {
		assert_int_equal(v, SL_FILTER_KEEP);
		assert_string_equal(tf->out, json);
	} else {
		assert_int_equal(v, SL_FILTER_DROP);
		assert_null(tf->out);
	}
}

/* Configuration that must fail; returns the diagnostics (caller frees). */
static char *grep_error(const char *const *kv)
{
	char *diag = NULL;
	struct sl_test_filter *tf =
	    sl_test_filter_create(&sl_filter_grep, kv, NULL, &diag);

	assert_null(tf);
	assert_non_null(diag);
	return diag;
}

static void regex_keeps_matching(void **state)
{
	static const char *const kv[] = {"Regex", "log ^aa", NULL};
	struct sl_test_filter *tf = grep(kv);

	(void)state;
	expect(tf, "{\"log\":\"aab\"}", true);
	sl_test_filter_destroy(tf);
}

static void regex_drops_non_matching(void **state)
{
	static const char *const kv[] = {"Regex", "log ^aa", NULL};
	struct sl_test_filter *tf = grep(kv);

	(void)state;
	expect(tf, "{\"log\":\"bbb\"}", false);
	sl_test_filter_destroy(tf);
}

static void regex_missing_key_drops(void **state)
{
	static const char *const kv[] = {"Regex", "log aa", NULL};
	struct sl_test_filter *tf = grep(kv);

	(void)state;
	expect(tf, "{\"msg\":\"aa\"}", false);
	sl_test_filter_destroy(tf);
}

/* Fluent Bit matches strings only: a number never matches. */
static void regex_number_never_matches(void **state)
{
	static const char *const kv[] = {"Regex", "status ^5", NULL};
	struct sl_test_filter *tf = grep(kv);

	(void)state;
	expect(tf, "{\"status\":500}", false);
	expect(tf, "{\"status\":\"500\"}", true);
	sl_test_filter_destroy(tf);
}

static void exclude_drops_matching(void **state)
{
	static const char *const kv[] = {"Exclude", "log debug", NULL};
	struct sl_test_filter *tf = grep(kv);

	(void)state;
	expect(tf, "{\"log\":\"a debug line\"}", false);
	sl_test_filter_destroy(tf);
}

static void exclude_keeps_non_matching(void **state)
{
	static const char *const kv[] = {"Exclude", "log debug", NULL};
	struct sl_test_filter *tf = grep(kv);

	(void)state;
	expect(tf, "{\"log\":\"an error line\"}", true);
	sl_test_filter_destroy(tf);
}

static void exclude_missing_key_keeps(void **state)
{
	static const char *const kv[] = {"Exclude", "log debug", NULL};
	struct sl_test_filter *tf = grep(kv);

	(void)state;
	expect(tf, "{\"msg\":\"debug\"}", true);
	sl_test_filter_destroy(tf);
}

/* Legacy: the first Regex decides; later rules are not looked at. */
static void legacy_first_regex_decides(void **state)
{
	static const char *const kv[] = {"Regex", "a ^x$", "Regex", "b ^y$",
					 NULL};
	struct sl_test_filter *tf = grep(kv);

	(void)state;
	expect(tf, "{\"a\":\"x\",\"b\":\"no\"}", true);
	expect(tf, "{\"a\":\"no\",\"b\":\"y\"}", false);
	sl_test_filter_destroy(tf);
}

/* Legacy: an Exclude written after a matching Regex is never reached. */
static void legacy_regex_match_skips_later_exclude(void **state)
{
	static const char *const kv[] = {"Regex", "a x", "Exclude", "b y",
					 NULL};
	struct sl_test_filter *tf = grep(kv);

	(void)state;
	expect(tf, "{\"a\":\"x\",\"b\":\"y\"}", true);
	sl_test_filter_destroy(tf);
}

/* Legacy: rules run in written order, so an Exclude first can drop. */
static void legacy_exclude_first_drops(void **state)
{
	static const char *const kv[] = {"Exclude", "b y", "Regex", "a x",
					 NULL};
	struct sl_test_filter *tf = grep(kv);

	(void)state;
	expect(tf, "{\"a\":\"x\",\"b\":\"y\"}", false);
	expect(tf, "{\"a\":\"x\",\"b\":\"z\"}", true);
	sl_test_filter_destroy(tf);
}

static void legacy_excludes_all_checked(void **state)
{
	static const char *const kv[] = {"Exclude", "a x", "Exclude", "b y",
					 NULL};
	struct sl_test_filter *tf = grep(kv);

	(void)state;
	expect(tf, "{\"a\":\"no\",\"b\":\"y\"}", false);
	expect(tf, "{\"a\":\"no\",\"b\":\"no\"}", true);
	sl_test_filter_destroy(tf);
}

static void and_keeps_when_all_match(void **state)
{
	static const char *const kv[] = {"Logical_Op", "AND", "Regex", "a x",
					 "Regex",      "b y", NULL};
	struct sl_test_filter *tf = grep(kv);

	(void)state;
	expect(tf, "{\"a\":\"x\",\"b\":\"y\"}", true);
	expect(tf, "{\"a\":\"x\",\"b\":\"n\"}", false);
	sl_test_filter_destroy(tf);
}

static void or_keeps_when_one_matches(void **state)
{
	static const char *const kv[] = {"Logical_Op", "or",  "Regex", "a x",
					 "Regex",      "b y", NULL};
	struct sl_test_filter *tf = grep(kv);

	(void)state;
	expect(tf, "{\"a\":\"n\",\"b\":\"y\"}", true);
	expect(tf, "{\"a\":\"n\",\"b\":\"n\"}", false);
	sl_test_filter_destroy(tf);
}

static void and_exclude_drops_when_all_match(void **state)
{
	static const char *const kv[] = {"Logical_Op", "AND", "Exclude", "a x",
					 "Exclude",    "b y", NULL};
	struct sl_test_filter *tf = grep(kv);

	(void)state;
	expect(tf, "{\"a\":\"x\",\"b\":\"y\"}", false);
	expect(tf, "{\"a\":\"x\",\"b\":\"n\"}", true);
	sl_test_filter_destroy(tf);
}

static void or_exclude_drops_when_one_matches(void **state)
{
	static const char *const kv[] = {"Logical_Op", "OR",  "Exclude", "a x",
					 "Exclude",    "b y", NULL};
	struct sl_test_filter *tf = grep(kv);

	(void)state;
	expect(tf, "{\"a\":\"n\",\"b\":\"y\"}", false);
	expect(tf, "{\"a\":\"n\",\"b\":\"n\"}", true);
	sl_test_filter_destroy(tf);
}

static void and_with_regex_and_exclude_is_error(void **state)
{
	static const char *const kv[] = {"Logical_Op", "AND", "Regex", "a x",
					 "Exclude",    "b y", NULL};
	char *diag = grep_error(kv);

	(void)state;
	assert_non_null(strstr(diag, "test.conf:4:"));
	assert_non_null(strstr(diag, "cannot be mixed"));
	free(diag);
}

static void unknown_logical_op_is_error(void **state)
{
	static const char *const kv[] = {"Logical_Op", "XOR", "Regex", "a x",
					 NULL};
	char *diag = grep_error(kv);

	(void)state;
	assert_non_null(strstr(diag, "XOR"));
	free(diag);
}

static void bad_regex_is_error_with_line(void **state)
{
	static const char *const kv[] = {"Regex", "a x", "Regex", "log (open",
					 NULL};
	char *diag = grep_error(kv);

	(void)state;
	assert_non_null(strstr(diag, "test.conf:3:"));
	assert_non_null(strstr(diag, "(open"));
	free(diag);
}

static void rule_without_regex_is_error(void **state)
{
	static const char *const kv[] = {"Regex", "log", NULL};
	char *diag = grep_error(kv);

	(void)state;
	assert_non_null(strstr(diag, "test.conf:2:"));
	assert_non_null(strstr(diag, "KEY REGEX"));
	free(diag);
}

static void nested_accessor(void **state)
{
	static const char *const kv[] = {
	    "Regex", "$kubernetes['labels']['app'] ^web$", NULL};
	struct sl_test_filter *tf = grep(kv);

	(void)state;
	expect(tf, "{\"kubernetes\":{\"labels\":{\"app\":\"web\"}}}", true);
	expect(tf, "{\"kubernetes\":{\"labels\":{\"app\":\"db\"}}}", false);
	sl_test_filter_destroy(tf);
}

/* Fluent Bit reads a plain KEY as "$KEY", so brackets work without '$'. */
static void plain_key_with_brackets_is_accessor(void **state)
{
	static const char *const kv[] = {"Regex", "k8s['pod'] ^api", NULL};
	struct sl_test_filter *tf = grep(kv);

	(void)state;
	expect(tf, "{\"k8s\":{\"pod\":\"api-1\"}}", true);
	sl_test_filter_destroy(tf);
}

static void escaped_string_is_unescaped(void **state)
{
	static const char *const kv[] = {"Regex", "log ^say \"hi\"$", NULL};
	struct sl_test_filter *tf = grep(kv);

	(void)state;
	expect(tf, "{\"log\":\"say \\\"hi\\\"\"}", true);
	sl_test_filter_destroy(tf);
}

static void slash_pattern_with_ignorecase(void **state)
{
	static const char *const kv[] = {"Regex", "log /^error/i", NULL};
	struct sl_test_filter *tf = grep(kv);

	(void)state;
	expect(tf, "{\"log\":\"ERROR: disk\"}", true);
	sl_test_filter_destroy(tf);
}

/* Ruby (Fluent Bit's regex syntax): ^ also matches after a newline. */
static void caret_matches_at_line_start(void **state)
{
	static const char *const kv[] = {"Regex", "log ^panic", NULL};
	struct sl_test_filter *tf = grep(kv);

	(void)state;
	expect(tf, "{\"log\":\"first\\npanic: x\"}", true);
	sl_test_filter_destroy(tf);
}

static void line_record_log_key(void **state)
{
	static const char *const kv[] = {"Regex", "log ^hello", NULL};
	struct sl_test_filter *tf = grep(kv);

	(void)state;
	assert_int_equal(sl_test_filter_run(tf, "hello world"), SL_FILTER_KEEP);
	assert_int_equal(sl_test_filter_run(tf, "bye world"), SL_FILTER_DROP);
	sl_test_filter_destroy(tf);
}

/*
 * KEY REGEX is split as every KEY VALUE option is: the REGEX starts after
 * the blanks that follow KEY (Fluent Bit's grep would keep " aa").
 */
/* Fluent Bit's split: the REGEX is every byte after the one blank that ends
 * KEY, so further blanks and quotes are part of the pattern. */
static void regex_keeps_extra_blanks_and_quotes(void **state)
{
	static const char *const blanks[] = {"Regex", "log  aa", NULL};
	static const char *const quotes[] = {"Regex", "msg 'q'", NULL};
	struct sl_test_filter *tf = grep(blanks);

	(void)state;
	expect(tf, "{\"log\":\"x aa\"}", true);
	expect(tf, "{\"log\":\"aa\"}", false);
	sl_test_filter_destroy(tf);
	tf = grep(quotes);
	expect(tf, "{\"msg\":\"'q'\"}", true);
	expect(tf, "{\"msg\":\"q\"}", false);
	sl_test_filter_destroy(tf);
}

static void no_rules_keeps_everything(void **state)
{
	static const char *const kv[] = {NULL};
	struct sl_test_filter *tf = grep(kv);

	(void)state;
	expect(tf, "{\"a\":1}", true);
	sl_test_filter_destroy(tf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(regex_keeps_matching),
	    cmocka_unit_test(regex_drops_non_matching),
	    cmocka_unit_test(regex_missing_key_drops),
	    cmocka_unit_test(regex_number_never_matches),
	    cmocka_unit_test(exclude_drops_matching),
	    cmocka_unit_test(exclude_keeps_non_matching),
	    cmocka_unit_test(exclude_missing_key_keeps),
	    cmocka_unit_test(legacy_first_regex_decides),
	    cmocka_unit_test(legacy_regex_match_skips_later_exclude),
	    cmocka_unit_test(legacy_exclude_first_drops),
	    cmocka_unit_test(legacy_excludes_all_checked),
	    cmocka_unit_test(and_keeps_when_all_match),
	    cmocka_unit_test(or_keeps_when_one_matches),
	    cmocka_unit_test(and_exclude_drops_when_all_match),
	    cmocka_unit_test(or_exclude_drops_when_one_matches),
	    cmocka_unit_test(and_with_regex_and_exclude_is_error),
	    cmocka_unit_test(unknown_logical_op_is_error),
	    cmocka_unit_test(bad_regex_is_error_with_line),
	    cmocka_unit_test(rule_without_regex_is_error),
	    cmocka_unit_test(nested_accessor),
	    cmocka_unit_test(plain_key_with_brackets_is_accessor),
	    cmocka_unit_test(escaped_string_is_unescaped),
	    cmocka_unit_test(slash_pattern_with_ignorecase),
	    cmocka_unit_test(caret_matches_at_line_start),
	    cmocka_unit_test(line_record_log_key),
	    cmocka_unit_test(regex_keeps_extra_blanks_and_quotes),
	    cmocka_unit_test(no_rules_keeps_everything),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
