/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_utf8.c - strict UTF-8 validation (overlongs, surrogates, range,
 * truncation) and repair with one U+FFFD per maximal invalid subpart.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
/* cmocka needs the headers above first */
#include <cmocka.h>

#include "sl_json.h"

#define S(lit) (lit), (sizeof(lit) - 1)
#define FFFD   "\xEF\xBF\xBD"

static void ascii_and_multibyte_are_valid(void **state)
{
	(void)state;
	assert_true(sl_utf8_valid(S("")));
	assert_true(
	    sl_utf8_valid(S("plain ascii text, long enough for words")));
	assert_true(
	    sl_utf8_valid(S("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80")));
	assert_true(sl_utf8_valid(S("\xED\x9F\xBF")));	   /* U+D7FF */
	assert_true(sl_utf8_valid(S("\xEE\x80\x80")));	   /* U+E000 */
	assert_true(sl_utf8_valid(S("\xF4\x8F\xBF\xBF"))); /* U+10FFFF */
}

static void overlongs_are_invalid(void **state)
{
	(void)state;
	assert_false(sl_utf8_valid(S("\xC0\xAF"))); /* '/' */
	assert_false(sl_utf8_valid(S("\xC1\xBF")));
	assert_false(sl_utf8_valid(S("\xE0\x80\xAF")));
	assert_false(sl_utf8_valid(S("\xE0\x9F\xBF")));
	assert_false(sl_utf8_valid(S("\xF0\x80\x80\xAF")));
	assert_false(sl_utf8_valid(S("\xF0\x8F\xBF\xBF")));
}

static void surrogates_are_invalid(void **state)
{
	(void)state;
	assert_false(sl_utf8_valid(S("\xED\xA0\x80")));
	assert_false(sl_utf8_valid(S("\xED\xBF\xBF")));
	assert_false(sl_utf8_valid(S("ok \xED\xA0\x80\xED\xB0\x80 pair")));
}

static void above_max_and_bad_leads_are_invalid(void **state)
{
	(void)state;
	assert_false(sl_utf8_valid(S("\xF4\x90\x80\x80")));
	assert_false(sl_utf8_valid(S("\xF5\x80\x80\x80")));
	assert_false(sl_utf8_valid(S("\xFF")));
	assert_false(sl_utf8_valid(S("\x80")));
	assert_false(sl_utf8_valid(S("abcdefghijklmnop\xBF")));
}

static void truncated_sequences_are_invalid(void **state)
{
	(void)state;
	assert_false(sl_utf8_valid(S("\xE2\x82")));
	assert_false(sl_utf8_valid(S("\xF0\x9F\x98")));
	assert_false(sl_utf8_valid(S("\xC3")));
	assert_false(sl_utf8_valid(S("\xE2\x82x")));
	/* the invalid byte sits after a run checked a word at a time */
	assert_false(sl_utf8_valid(S("0123456789abcdef0123456789\xC3")));
}

static void check_repair(const char *in, size_t in_len, const char *want,
			 size_t want_len, long want_n)
{
	struct sl_buf b = {0};

	assert_int_equal(sl_utf8_repair(&b, in, in_len), want_n);
	assert_int_equal(b.len, want_len);
	assert_memory_equal(b.data, want, want_len);
	assert_true(sl_utf8_valid(b.data, b.len));
	sl_buf_destroy(&b);
}

static void repair_keeps_valid_text(void **state)
{
	(void)state;
	check_repair(S("caf\xC3\xA9 ok"), S("caf\xC3\xA9 ok"), 0);
}

static void repair_replaces_each_overlong_byte(void **state)
{
	(void)state;
	/* C0 never starts a sequence: C0 and AF are one subpart each */
	check_repair(S("a\xC0\xAF"
		       "b"),
		     S("a" FFFD FFFD "b"), 2);
}

static void repair_replaces_each_surrogate_byte(void **state)
{
	(void)state;
	/* ED A0: A0 is outside ED's range, so ED alone is the subpart */
	check_repair(S("\xED\xA0\x80"), S(FFFD FFFD FFFD), 3);
}

static void repair_replaces_truncated_sequence_once(void **state)
{
	(void)state;
	check_repair(S("x\xF0\x9F\x98y"), S("x" FFFD "y"), 1);
	check_repair(S("\xE2\x82"), S(FFFD), 1);
	check_repair(S("\xF4\x90\x80\x80"), S(FFFD FFFD FFFD FFFD), 4);
}

static void repair_appends_to_existing_content(void **state)
{
	struct sl_buf b = {0};

	(void)state;
	assert_int_equal(sl_buf_append(&b, "pre:", 4), 0);
	assert_int_equal(sl_utf8_repair(&b, S("\xFF")), 1);
	assert_int_equal(b.len, 7);
	assert_memory_equal(b.data, "pre:" FFFD, 7);
	sl_buf_destroy(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(ascii_and_multibyte_are_valid),
	    cmocka_unit_test(overlongs_are_invalid),
	    cmocka_unit_test(surrogates_are_invalid),
	    cmocka_unit_test(above_max_and_bad_leads_are_invalid),
	    cmocka_unit_test(truncated_sequences_are_invalid),
	    cmocka_unit_test(repair_keeps_valid_text),
	    cmocka_unit_test(repair_replaces_each_overlong_byte),
	    cmocka_unit_test(repair_replaces_each_surrogate_byte),
	    cmocka_unit_test(repair_replaces_truncated_sequence_once),
	    cmocka_unit_test(repair_appends_to_existing_content),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
