/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_suggest.c - "did you mean": the edit distance (case-insensitive),
 * which candidates are close enough to suggest, and the Fluent Bit plugin
 * names that tell a plugin sluice lacks from a typo.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "sl_suggest.h"

static void distance_counts_edits_ignoring_case(void **state)
{
	(void)state;
	assert_int_equal(sl_suggest_distance("", ""), 0);
	assert_int_equal(sl_suggest_distance("loki", "LOKI"), 0);
	assert_int_equal(sl_suggest_distance("lokki", "loki"), 1); /* delete */
	assert_int_equal(sl_suggest_distance("modfy", "modify"),
			 1);					  /* insert */
	assert_int_equal(sl_suggest_distance("tial", "tail"), 1); /* swap */
	assert_int_equal(sl_suggest_distance("Nmae", "name"), 1);
	assert_int_equal(sl_suggest_distance("ab", "ba"), 1);
	assert_int_equal(sl_suggest_distance("abc", "ca"), 3);
	assert_int_equal(sl_suggest_distance("kitten", "sitting"), 3);
	assert_int_equal(sl_suggest_distance("", "abc"), 3);
	assert_int_equal(sl_suggest_distance("abc", ""), 3);
}

static void distance_of_overlong_names_is_never_close(void **state)
{
	char longer[SL_SUGGEST_MAX_LEN + 2];

	(void)state;
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	assert_int_equal(sl_suggest_distance(longer, "a"), SIZE_MAX);
	assert_null(sl_suggest_best(longer, (const char *const[]){"a", NULL}));
}

static void best_is_the_closest_close_enough_candidate(void **state)
{
	static const char *const outputs[] = {"es",   "file",	"http",	 "loki",
					      "null", "stdout", "kafka", NULL};
	static const char *const opts[] = {"path", "read_from_head",
					   "refresh_interval", NULL};

	(void)state;
	assert_string_equal(sl_suggest_best("lokki", outputs), "loki");
	assert_string_equal(sl_suggest_best("STDOUTT", outputs), "stdout");
	assert_string_equal(sl_suggest_best("Read_From_Hed", opts),
			    "read_from_head");
	/* nothing close: no suggestion rather than a wild guess */
	assert_null(sl_suggest_best("zzqqy", outputs));
	assert_null(sl_suggest_best("s3", outputs));
	/* the word itself (any case) is not a suggestion */
	assert_null(
	    sl_suggest_best("LOKI", (const char *const[]){"loki", NULL}));
	assert_null(sl_suggest_best("x", NULL));
}

static void allowed_distance_grows_with_the_length(void **state)
{
	(void)state;
	/* up to 4 characters: 1 edit */
	assert_null(
	    sl_suggest_best("abxy", (const char *const[]){"abcd", NULL}));
	assert_non_null(
	    sl_suggest_best("abxd", (const char *const[]){"abcd", NULL}));
	/* up to 8: 2 edits */
	assert_non_null(
	    sl_suggest_best("samplxx", (const char *const[]){"samples", NULL}));
	assert_null(
	    sl_suggest_best("sampxxx", (const char *const[]){"samples", NULL}));
	/* a short candidate is not suggested by removing all of it */
	assert_null(sl_suggest_best("abc", (const char *const[]){"a", NULL}));
}

static void first_of_equally_close_candidates_wins(void **state)
{
	struct sl_suggest s;

	(void)state;
	sl_suggest_start(&s, "tax");
	sl_suggest_offer(&s, "tag");
	sl_suggest_offer(&s, "tab");
	sl_suggest_offer(&s, NULL);
	sl_suggest_offer(&s, "");
	assert_string_equal(s.best, "tag");
	assert_int_equal(s.dist, 1);
}

static void fluentbit_plugins_are_known_by_kind(void **state)
{
	(void)state;
	assert_true(sl_suggest_fluentbit_plugin(SL_KIND_OUTPUT, "s3"));
	assert_true(
	    sl_suggest_fluentbit_plugin(SL_KIND_OUTPUT, "Cloudwatch_Logs"));
	assert_true(sl_suggest_fluentbit_plugin(SL_KIND_OUTPUT, "kafka-rest"));
	assert_true(sl_suggest_fluentbit_plugin(SL_KIND_FILTER, "lua"));
	assert_true(sl_suggest_fluentbit_plugin(SL_KIND_FILTER, "stdout"));
	assert_true(sl_suggest_fluentbit_plugin(SL_KIND_INPUT, "systemd"));
	assert_true(
	    sl_suggest_fluentbit_plugin(SL_KIND_PROCESSOR, "content_modifier"));
	assert_true(sl_suggest_fluentbit_plugin(SL_KIND_CUSTOM, "calyptia"));
	/* a kind's names only */
	assert_false(sl_suggest_fluentbit_plugin(SL_KIND_INPUT, "s3"));
	assert_false(sl_suggest_fluentbit_plugin(SL_KIND_FILTER, "loki"));
	assert_false(sl_suggest_fluentbit_plugin(SL_KIND_OUTPUT, "lokki"));
	assert_false(sl_suggest_fluentbit_plugin(SL_KIND_OUTPUT, NULL));
	assert_string_equal(sl_suggest_kind_name(SL_KIND_FILTER), "filter");
	assert_string_equal(sl_suggest_kind_name(SL_KIND_CUSTOM), "custom");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(distance_counts_edits_ignoring_case),
	    cmocka_unit_test(distance_of_overlong_names_is_never_close),
	    cmocka_unit_test(best_is_the_closest_close_enough_candidate),
	    cmocka_unit_test(allowed_distance_grows_with_the_length),
	    cmocka_unit_test(first_of_equally_close_candidates_wins),
	    cmocka_unit_test(fluentbit_plugins_are_known_by_kind),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
