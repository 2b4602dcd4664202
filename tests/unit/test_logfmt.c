/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_logfmt.c - the logfmt tokenizer and Format logfmt parsers: pairs,
 * quoted values and escapes, bare keys, logfmt_no_bare_keys, bad lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_parser_int.h"

/* Collects pairs as "k=v;" (bare keys as "k;"). */
static int collect(void *arg, const char *key, size_t klen, const char *val,
		   size_t vlen)
{
	struct sl_buf *out = arg;

	sl_buf_append(out, key, klen);
	if (val) {
		sl_buf_append(out, "=", 1);
		sl_buf_append(out, val, vlen);
	}
	return sl_buf_append(out, ";", 1);
}

static int scan(const char *line, bool no_bare, char **out)
{
	struct sl_buf got = {0}, tmp = {0};
	int rc = sl_parser_logfmt_scan(line, strlen(line), no_bare, &tmp,
				       collect, &got);

	*out = strdup(got.data ? got.data : "");
	sl_buf_destroy(&got);
	sl_buf_destroy(&tmp);
	return rc;
}

static void expect(const char *line, const char *pairs)
{
	char *got;

	assert_int_equal(scan(line, false, &got), 0);
	assert_string_equal(got, pairs);
	free(got);
}

static void expect_fail(const char *line, bool no_bare)
{
	char *got;

	assert_int_equal(scan(line, no_bare, &got), -SL_EPARSE);
	free(got);
}

static void plain_pairs(void **state)
{
	expect("level=info msg=started port=8080",
	       "level=info;msg=started;port=8080;");
}

static void quoted_values_keep_spaces(void **state)
{
	expect("msg=\"request done\" status=200",
	       "msg=request done;status=200;");
}

static void escapes_in_quotes(void **state)
{
	expect("msg=\"say \\\"hi\\\" \\\\ now\\n\"",
	       "msg=say \"hi\" \\ now\n;");
	/* an unknown escape is kept as written */
	expect("path=\"C:\\dir\"", "path=C:\\dir;");
}

static void bare_key_is_reported(void **state)
{
	expect("key1=val1 key2=val2 key3", "key1=val1;key2=val2;key3;");
}

static void no_bare_keys_fails_the_line(void **state)
{
	expect_fail("key1=val1 key3", true);
}

static void empty_value(void **state)
{
	expect("a= b=\"\"", "a=;b=;");
}

static void extra_white_space(void **state)
{
	expect("  a=1 \t b=2  \n", "a=1;b=2;");
}

static void bad_lines(void **state)
{
	expect_fail("", false);
	expect_fail("   ", false);
	expect_fail("=value", false);
	expect_fail("msg=\"unterminated", false);
	expect_fail("a=b=c", false);
	expect_fail("msg=\"x\"y", false);
}

static void time_and_url_values(void **state)
{
	expect("ts=2026-11-21T08:00:00.123Z url=/api/v1?x",
	       "ts=2026-11-21T08:00:00.123Z;url=/api/v1?x;");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(plain_pairs),
	    cmocka_unit_test(quoted_values_keep_spaces),
	    cmocka_unit_test(escapes_in_quotes),
	    cmocka_unit_test(bare_key_is_reported),
	    cmocka_unit_test(no_bare_keys_fails_the_line),
	    cmocka_unit_test(empty_value),
	    cmocka_unit_test(extra_white_space),
	    cmocka_unit_test(bad_lines),
	    cmocka_unit_test(time_and_url_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
