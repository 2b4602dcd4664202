/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_dlib.c - libraries opened on demand: a library that is there fills
 * its slots with working functions; a missing library or symbol is an
 * error naming it; and libcurl opens once for every caller (sl_curl).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "sl_common.h"
#include "sl_curl.h"
#include "sl_dlib.h"

static void test_loads_and_calls(void **state)
{
	size_t (*my_strlen)(const char *s) = NULL;
	int (*my_abs)(int v) = NULL;
	const struct sl_dlib_sym syms[] = {
	    {"strlen", &my_strlen},
	    {"abs", &my_abs},
	};
	char err[256] = "";

	(void)state;
	assert_int_equal(sl_dlib_load("libc.so.6", syms, SL_ARRAY_LEN(syms),
				      err, sizeof(err)),
			 0);
	assert_non_null(my_strlen);
	assert_int_equal(my_strlen("sluice"), 6);
	assert_int_equal(my_abs(-7), 7);
}

static void test_missing_library(void **state)
{
	void (*fn)(void) = NULL;
	const struct sl_dlib_sym syms[] = {{"anything", &fn}};
	char err[256] = "";

	(void)state;
	assert_int_equal(
	    sl_dlib_load("libsluice-no-such.so.9", syms, 1, err, sizeof(err)),
	    -SL_ENOENT);
	assert_non_null(strstr(err, "cannot load libsluice-no-such.so.9"));
	assert_null(fn);
}

static void test_missing_symbol(void **state)
{
	size_t (*my_strlen)(const char *s) = NULL;
	void (*none)(void) = NULL;
	const struct sl_dlib_sym syms[] = {
	    {"strlen", &my_strlen},
	    {"sluice_no_such_function", &none},
	};
	char err[256] = "";

	(void)state;
	assert_int_equal(sl_dlib_load("libc.so.6", syms, SL_ARRAY_LEN(syms),
				      err, sizeof(err)),
			 -SL_ENOENT);
	assert_string_equal(err, "libc.so.6 has no sluice_no_such_function");
	assert_null(none);
}

/* Both callers get the same table; curl_global_init ran (an easy handle
 * can be made and an URL escaped through it). */
static void test_curl_once(void **state)
{
	CURL *h;
	char *esc;

	(void)state;
	assert_int_equal(sl_curl_open("test"), 0);
	assert_int_equal(sl_curl_open("test again"), 0);
	h = sl_curl.easy_init();
	assert_non_null(h);
	esc = sl_curl.easy_escape(h, "a b/c", 0);
	assert_string_equal(esc, "a%20b%2Fc");
	sl_curl.free(esc);
	sl_curl.easy_cleanup(h);
	assert_int_equal(sl_curl.getdate("Sun, 06 Nov 1994 08:49:37 GMT", NULL),
			 784111777);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_loads_and_calls),
	    cmocka_unit_test(test_missing_library),
	    cmocka_unit_test(test_missing_symbol),
	    cmocka_unit_test(test_curl_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
