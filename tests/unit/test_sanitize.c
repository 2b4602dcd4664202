/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_sanitize.c - record-derived text made safe per destination (tag,
 * file name, relative path, header value, URL component, Loki label value,
 * Kafka topic, log text), and the permanent-vs-transient error tables.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
/* cmocka needs the headers above first */
#include <cmocka.h>

#include "sl_json.h"
#include "sl_output_error.h"
#include "sl_sanitize.h"

#include <errno.h>

#define S(lit) (lit), (sizeof(lit) - 1)

typedef int (*san_fn)(struct sl_buf *, const char *, size_t);

/* The result of `fn` as a NUL-terminated string (static, per call). */
static const char *run(san_fn fn, const char *s, size_t len)
{
	static char out[8192];
	struct sl_buf b = {0};

	assert_int_equal(fn(&b, s, len), 0);
	assert_true(b.len < sizeof(out));
	memcpy(out, b.data ? b.data : "", b.len);
	out[b.len] = '\0';
	sl_buf_destroy(&b);
	return out;
}

static void tag_keeps_fluent_bit_charset(void **state)
{
	(void)state;
	assert_string_equal(run(sl_sanitize_tag, S("app.web_1")), "app.web_1");
	assert_string_equal(run(sl_sanitize_tag, S("a\r\nX-Evil: 1\0z")),
			    "a__X_Evil__1_z");
	assert_string_equal(run(sl_sanitize_tag, S("../../etc/passwd")),
			    ".._.._etc_passwd");
}

static void tag_is_bounded(void **state)
{
	char big[5000];

	(void)state;
	memset(big, 'a', sizeof(big));
	assert_int_equal(strlen(run(sl_sanitize_tag, big, sizeof(big))),
			 SL_SANITIZE_TAG_MAX);
}

static void file_name_refuses_dots_and_separators(void **state)
{
	(void)state;
	assert_string_equal(run(sl_sanitize_file_name, S("")), "_");
	assert_string_equal(run(sl_sanitize_file_name, S(".")), "_");
	assert_string_equal(run(sl_sanitize_file_name, S("..")), "_");
	assert_string_equal(run(sl_sanitize_file_name, S("...")), "...");
	assert_string_equal(run(sl_sanitize_file_name, S("a/b\\c\0d\ne")),
			    "a_b_c_d_e");
	assert_string_equal(run(sl_sanitize_file_name, S("app-1.log")),
			    "app-1.log");
}

static void long_file_names_stay_distinct_and_bounded(void **state)
{
	char a[300], b[300];
	char ra[512];

	(void)state;
	memset(a, 'x', sizeof(a));
	memcpy(b, a, sizeof(b));
	b[299] = 'y'; /* differs only past the cut */
	strcpy(ra, run(sl_sanitize_file_name, a, sizeof(a)));
	assert_int_equal(strlen(ra), SL_SANITIZE_NAME_MAX);
	assert_int_equal(strlen(run(sl_sanitize_file_name, b, sizeof(b))),
			 SL_SANITIZE_NAME_MAX);
	assert_string_not_equal(ra, run(sl_sanitize_file_name, b, sizeof(b)));
	/* exactly NAME_MAX is kept whole */
	assert_int_equal(strlen(run(sl_sanitize_file_name, a, 255)), 255);
	assert_null(strchr(run(sl_sanitize_file_name, a, 255), '~'));
}

static void file_path_stays_relative(void **state)
{
	(void)state;
	assert_string_equal(run(sl_sanitize_file_path, S("/etc/passwd")),
			    "etc/passwd");
	assert_string_equal(run(sl_sanitize_file_path, S("../../x")), "_/_/x");
	assert_string_equal(run(sl_sanitize_file_path, S("a//b\\..\\c")),
			    "a/b/_/c");
	assert_string_equal(run(sl_sanitize_file_path, S("///")), "_");
	assert_string_equal(run(sl_sanitize_file_path, S("app.log")),
			    "app.log");
}

static void file_path_is_bounded(void **state)
{
	char deep[20000];

	(void)state;
	for (size_t i = 0; i < sizeof(deep); i++)
		deep[i] = i % 200 == 199 ? '/' : 'd';
	assert_true(strlen(run(sl_sanitize_file_path, deep, sizeof(deep))) <=
		    SL_SANITIZE_PATH_MAX);
}

static void header_value_cannot_end_the_header(void **state)
{
	const char *v;

	(void)state;
	v = run(sl_sanitize_header_value,
		S("tag\r\nX-Injected: 1\r\n\r\nPOST / HTTP/1.1"));
	assert_null(strchr(v, '\r'));
	assert_null(strchr(v, '\n'));
	assert_string_equal(v, "tag__X-Injected: 1____POST / HTTP/1.1");
	assert_string_equal(run(sl_sanitize_header_value, S("  a\tb \t")),
			    "a\tb");
	assert_string_equal(run(sl_sanitize_header_value, S("a\0b\x7f")),
			    "a_b_");
	/* UTF-8 (obs-text) passes */
	assert_string_equal(run(sl_sanitize_header_value, S("caf\xC3\xA9")),
			    "caf\xC3\xA9");
}

static void header_value_is_bounded(void **state)
{
	char big[10000];

	(void)state;
	memset(big, 'h', sizeof(big));
	assert_int_equal(
	    strlen(run(sl_sanitize_header_value, big, sizeof(big))),
	    SL_SANITIZE_HEADER_MAX);
}

static void url_component_is_percent_encoded(void **state)
{
	(void)state;
	assert_string_equal(run(sl_sanitize_url_component, S("a-b.c_d~e")),
			    "a-b.c_d~e");
	assert_string_equal(run(sl_sanitize_url_component, S("a/b?c=d&e#f")),
			    "a%2Fb%3Fc%3Dd%26e%23f");
	assert_string_equal(run(sl_sanitize_url_component, S("..")), "%2E%2E");
	assert_string_equal(run(sl_sanitize_url_component, S(".")), "%2E");
	assert_string_equal(run(sl_sanitize_url_component, S("\r\n\0 ")),
			    "%0D%0A%00%20");
}

static void label_value_is_utf8_and_bounded(void **state)
{
	char big[3000];
	const char *v;

	(void)state;
	assert_string_equal(run(sl_sanitize_label_value, S("/var/log/a.log")),
			    "/var/log/a.log");
	assert_string_equal(run(sl_sanitize_label_value, S("a\nb\0c")),
			    "a_b_c");
	assert_string_equal(run(sl_sanitize_label_value, S("a\xC0\xAF")),
			    "a\xEF\xBF\xBD\xEF\xBF\xBD");
	/* cut on a character boundary: 1 + 2 bytes per e-acute */
	big[0] = 'x';
	for (size_t i = 1; i + 1 < sizeof(big); i += 2) {
		big[i] = '\xC3';
		big[i + 1] = '\xA9';
	}
	v = run(sl_sanitize_label_value, big, sizeof(big) - 1);
	assert_true(strlen(v) <= SL_SANITIZE_LABEL_MAX);
	assert_true(strlen(v) >= SL_SANITIZE_LABEL_MAX - 1);
	assert_true(sl_utf8_valid(v, strlen(v)));
}

static void topic_rules_are_kafkas(void **state)
{
	char big[250];

	(void)state;
	assert_true(sl_sanitize_topic_valid(S("logs.app-1_x")));
	assert_false(sl_sanitize_topic_valid(S("")));
	assert_false(sl_sanitize_topic_valid(S(".")));
	assert_false(sl_sanitize_topic_valid(S("..")));
	assert_false(sl_sanitize_topic_valid(S("a/b")));
	assert_false(sl_sanitize_topic_valid(S("a b")));
	memset(big, 't', sizeof(big));
	assert_true(sl_sanitize_topic_valid(big, 249));
	assert_false(sl_sanitize_topic_valid(big, 250));
}

static void log_text_cannot_start_a_line(void **state)
{
	char out[64];
	size_t n;

	(void)state;
	n = sl_sanitize_log_text(
	    out, sizeof(out),
	    S("tag\n[2026-01-01T00:00:00.000Z] [error] forged\r\x1b[2J\tok"));
	assert_int_equal(n, strlen(out));
	assert_null(strchr(out, '\n'));
	assert_null(strchr(out, '\r'));
	assert_null(strchr(out, '\x1b'));
	assert_memory_equal(out, "tag\\n[2026", 10);
	/* truncated within the capacity, NUL-terminated */
	assert_true(n < sizeof(out));
	n = sl_sanitize_log_text(out, sizeof(out), S("a\0b\tc\x7f"));
	assert_string_equal(out, "a\\x00b\tc\\x7f");
	assert_int_equal(n, 12);
	/* an escape never straddles the end */
	n = sl_sanitize_log_text(out, 4, S("ab\n"));
	assert_string_equal(out, "ab");
}

static void line_text_escapes_into_a_buffer(void **state)
{
	(void)state;
	assert_string_equal(run(sl_sanitize_line_text, S("t\n{\"x\":1}\0")),
			    "t\\n{\"x\":1}\\x00");
	assert_string_equal(run(sl_sanitize_line_text, S("app.log")),
			    "app.log");
}

static void errno_classes(void **state)
{
	(void)state;
	assert_true(sl_output_errno_permanent(ENAMETOOLONG));
	assert_true(sl_output_errno_permanent(EISDIR));
	assert_true(sl_output_errno_permanent(ENOTDIR));
	assert_true(sl_output_errno_permanent(EACCES));
	assert_true(sl_output_errno_permanent(EPERM));
	assert_true(sl_output_errno_permanent(EINVAL));
	assert_false(sl_output_errno_permanent(ENOSPC));
	assert_false(sl_output_errno_permanent(EIO));
	assert_false(sl_output_errno_permanent(EAGAIN));
	assert_false(sl_output_errno_permanent(EINTR));
	assert_false(sl_output_errno_permanent(ENOENT));
	assert_false(sl_output_errno_permanent(EMFILE));
}

static void http_classes(void **state)
{
	(void)state;
	assert_int_equal(sl_output_http_class(200), SL_HTTP_DELIVERED);
	assert_int_equal(sl_output_http_class(204), SL_HTTP_DELIVERED);
	assert_int_equal(sl_output_http_class(0), SL_HTTP_RETRY);
	assert_int_equal(sl_output_http_class(100), SL_HTTP_RETRY);
	assert_int_equal(sl_output_http_class(302), SL_HTTP_RETRY);
	assert_int_equal(sl_output_http_class(408), SL_HTTP_RETRY);
	assert_int_equal(sl_output_http_class(429), SL_HTTP_RETRY);
	assert_int_equal(sl_output_http_class(500), SL_HTTP_RETRY);
	assert_int_equal(sl_output_http_class(503), SL_HTTP_RETRY);
	assert_int_equal(sl_output_http_class(401), SL_HTTP_AUTH);
	assert_int_equal(sl_output_http_class(403), SL_HTTP_AUTH);
	assert_int_equal(sl_output_http_class(413), SL_HTTP_TOO_LARGE);
	assert_int_equal(sl_output_http_class(400), SL_HTTP_REJECTED);
	assert_int_equal(sl_output_http_class(404), SL_HTTP_REJECTED);
	assert_int_equal(sl_output_http_class(422), SL_HTTP_REJECTED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(tag_keeps_fluent_bit_charset),
	    cmocka_unit_test(tag_is_bounded),
	    cmocka_unit_test(file_name_refuses_dots_and_separators),
	    cmocka_unit_test(long_file_names_stay_distinct_and_bounded),
	    cmocka_unit_test(file_path_stays_relative),
	    cmocka_unit_test(file_path_is_bounded),
	    cmocka_unit_test(header_value_cannot_end_the_header),
	    cmocka_unit_test(header_value_is_bounded),
	    cmocka_unit_test(url_component_is_percent_encoded),
	    cmocka_unit_test(label_value_is_utf8_and_bounded),
	    cmocka_unit_test(topic_rules_are_kafkas),
	    cmocka_unit_test(log_text_cannot_start_a_line),
	    cmocka_unit_test(line_text_escapes_into_a_buffer),
	    cmocka_unit_test(errno_classes),
	    cmocka_unit_test(http_classes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
