/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_out_http.c - the http output's request bodies (json, json_lines,
 * json_stream, date key and format, settled records left out) and its
 * header list (Header lines, allow_duplicated_headers). The exchange with a
 * server is covered by tests/e2e/test_out_http.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "../../outputs/http/http.h"
#include "sl_http_client.h"

#define TS INT64_C(1700000000500000000) /* 2023-11-14T22:13:20.5Z */

static struct sl_chunk *chunk3(void)
{
	struct sl_chunk *c = sl_chunk_create(NULL, "app", 3);

	assert_non_null(c);
	assert_int_equal(sl_chunk_append(c, TS, "{\"a\":1}", 7), 0);
	assert_int_equal(
	    sl_chunk_append(c, TS + 1000000000, "{\"b\":\"x\"}", 9), 0);
	assert_int_equal(sl_chunk_append(c, TS, "{}", 2), 0);
	return c;
}

static char *body_of(enum sl_json_format f, const char *key, const char *fmt,
		     out_http_skip_fn skip, long expect_n)
{
	struct sl_chunk *c = chunk3();
	struct sl_json_opts o;
	struct sl_buf out = {0};
	uint32_t *idx = NULL;
	size_t cap = 0;
	char *s;

	assert_int_equal(sl_json_opts_init(&o, f, key, fmt, NULL), 0);
	assert_int_equal(out_http_payload(&o, c, skip, NULL, &out, &idx, &cap),
			 expect_n);
	s = strndup(out.data ? out.data : "", out.len);
	assert_non_null(s);
	if (expect_n > 0 && skip)
		assert_int_equal(idx[0], 0); /* odd ones skipped below */
	free(idx);
	sl_buf_destroy(&out);
	sl_chunk_destroy(c);
	return s;
}

static void test_json_array(void **state)
{
	char *s = body_of(SL_JSON_ARRAY, NULL, NULL, NULL, 3);

	(void)state;
	assert_string_equal(s, "[{\"date\":1700000000.5,\"a\":1},"
			       "{\"date\":1700000001.5,\"b\":\"x\"},"
			       "{\"date\":1700000000.5}]");
	free(s);
}

static void test_json_lines_iso(void **state)
{
	char *s = body_of(SL_JSON_LINES, "@t", "iso8601", NULL, 3);

	(void)state;
	assert_string_equal(
	    s, "{\"@t\":\"2023-11-14T22:13:20.500000Z\",\"a\":1}\n"
	       "{\"@t\":\"2023-11-14T22:13:21.500000Z\",\"b\":\"x\"}\n"
	       "{\"@t\":\"2023-11-14T22:13:20.500000Z\"}\n");
	free(s);
}

static void test_json_stream_no_date(void **state)
{
	char *s = body_of(SL_JSON_STREAM, "off", NULL, NULL, 3);

	(void)state;
	assert_string_equal(s, "{\"a\":1}{\"b\":\"x\"}{}");
	free(s);
}

static bool skip_odd(void *ud, uint32_t index)
{
	(void)ud;
	return index % 2 == 1;
}

static bool skip_all(void *ud, uint32_t index)
{
	(void)ud;
	(void)index;
	return true;
}

static void test_settled_left_out(void **state)
{
	char *s = body_of(SL_JSON_ARRAY, "off", NULL, skip_odd, 2);

	(void)state;
	assert_string_equal(s, "[{\"a\":1},{}]");
	free(s);
	s = body_of(SL_JSON_ARRAY, NULL, NULL, skip_all, 0);
	assert_string_equal(s, "");
	free(s);
}

static void test_content_types(void **state)
{
	(void)state;
	assert_string_equal(out_http_content_type(SL_JSON_ARRAY),
			    "application/json");
	assert_string_equal(out_http_content_type(SL_JSON_LINES),
			    "application/x-ndjson");
}

static void test_header_lines(void **state)
{
	char *h;

	(void)state;
	h = sl_http_header_line("X-Api-Key  abc def");
	assert_string_equal(h, "X-Api-Key: abc def");
	free(h);
	h = sl_http_header_line("X-Other: v");
	assert_string_equal(h, "X-Other: v");
	free(h);
	assert_null(sl_http_header_line("Lonely"));
	assert_null(sl_http_header_line(" value"));
}

static void test_duplicated_headers(void **state)
{
	char **v = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(out_http_header_add(&v, &n, strdup("A: 1"), true), 0);
	assert_int_equal(out_http_header_add(&v, &n, strdup("a: 2"), true), 0);
	assert_int_equal(n, 2);
	assert_null(v[2]);
	/* not allowed: the last value replaces the earlier one */
	assert_int_equal(out_http_header_add(&v, &n, strdup("B: 1"), false), 0);
	assert_int_equal(out_http_header_add(&v, &n, strdup("b: 9"), false), 0);
	assert_int_equal(n, 3);
	assert_string_equal(v[2], "b: 9");
	assert_null(v[3]);
	out_http_headers_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_json_array),
	    cmocka_unit_test(test_json_lines_iso),
	    cmocka_unit_test(test_json_stream_no_date),
	    cmocka_unit_test(test_settled_left_out),
	    cmocka_unit_test(test_content_types),
	    cmocka_unit_test(test_header_lines),
	    cmocka_unit_test(test_duplicated_headers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
