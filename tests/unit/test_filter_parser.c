/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_filter_parser.c - the parser filter through the real config map:
 * Reserve_Data, Preserve_Key, several Parser entries, failed parses kept
 * and flagged, nested JSON untouched, invalid UTF-8 repaired.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl_test.h"

extern const struct sl_filter_plugin sl_filter_parser;

static const char *parsers_text = "[PARSER]\n"
				  "    Name   json\n"
				  "    Format json\n"
				  "    Time_Key time\n"
				  "    Time_Format epoch_ms\n"
				  "\n"
				  "[PARSER]\n"
				  "    Name   kv\n"
				  "    Format regex\n"
				  "    Regex  ^(?<k>[a-z]+)=(?<v>[0-9]+)$\n"
				  "    Types  v:integer\n";

static char *parsers_path;

static int setup(void **state)
{
	parsers_path = sl_test_write_temp(parsers_text);
	return parsers_path ? 0 : -1;
}

static int teardown(void **state)
{
	unlink(parsers_path);
	free(parsers_path);
	return 0;
}

static struct sl_test_filter *make(const char *const *kv)
{
	char *diag = NULL;
	struct sl_test_filter *tf =
	    sl_test_filter_create(&sl_filter_parser, kv, parsers_path, &diag);

	if (!tf)
		fail_msg("config failed: %s", diag ? diag : "?");
	free(diag);
	return tf;
}

static void run(struct sl_test_filter *tf, const char *in, const char *out)
{
	assert_int_equal(sl_test_filter_run(tf, in), SL_FILTER_KEEP);
	assert_string_equal(tf->out, out);
}

/* As tail does: a lazy {"log": line} record, whatever the line holds. */
static void run_line(struct sl_test_filter *tf, const char *line,
		     const char *out)
{
	const char *body;
	size_t len;

	sl_record_reset_line(&tf->rec, 1000000000, "log", 3, line,
			     strlen(line));
	assert_int_equal(tf->plugin->filter(tf->ctx, &tf->rec, "t", 1),
			 SL_FILTER_KEEP);
	body = sl_record_body(&tf->rec, &len);
	assert_non_null(body);
	assert_int_equal(len, strlen(out));
	assert_memory_equal(body, out, len);
}

static void parsed_fields_replace_body(void **state)
{
	const char *kv[] = {"Key_Name", "log", "Parser", "json", NULL};
	struct sl_test_filter *tf = make(kv);

	run(tf,
	    "{\"log\":\"{\\\"a\\\":1,\\\"time\\\":1795248000000}\",\"stream\":"
	    "\"stdout\"}",
	    "{\"a\":1}");
	assert_int_equal(sl_record_time(&tf->rec),
			 INT64_C(1795248000) * SL_NS_PER_SEC);
	assert_false(tf->rec.flags & SL_REC_PARSE_ERROR);
	sl_test_filter_destroy(tf);
}

static void tail_line_record_parses(void **state)
{
	const char *kv[] = {"Key_Name", "log", "Parser", "json", NULL};
	struct sl_test_filter *tf = make(kv);

	run_line(tf, "{\"a\":{\"b\":[1,{\"c\":null}]},\"s\":\"x\"}",
		 "{\"a\":{\"b\":[1,{\"c\":null}]},\"s\":\"x\"}");
	assert_false(tf->rec.flags & SL_REC_PARSE_ERROR);
	run_line(tf, "{\"a\":1} trailing",
		 "{\"log\":\"{\\\"a\\\":1} trailing\"}");
	assert_true(tf->rec.flags & SL_REC_PARSE_ERROR);
	sl_test_filter_destroy(tf);
}

static void nested_json_kept_intact(void **state)
{
	const char *kv[] = {"Key_Name", "log", "Parser", "json", NULL};
	struct sl_test_filter *tf = make(kv);

	run(tf,
	    "{\"log\":\"{\\\"req\\\":{\\\"headers\\\":{\\\"x\\\":[1,2.5e3,true]"
	    "}},\\\"msg\\\":\\\"\\\\u00e9\\\"}\"}",
	    "{\"req\":{\"headers\":{\"x\":[1,2.5e3,true]}},\"msg\":"
	    "\"\\u00e9\"}");
	sl_test_filter_destroy(tf);
}

static void reserve_data_keeps_other_fields(void **state)
{
	const char *kv[] = {"Key_Name",	    "log", "Parser", "kv",
			    "Reserve_Data", "On",  NULL};
	struct sl_test_filter *tf = make(kv);

	run(tf, "{\"stream\":\"stdout\",\"log\":\"count=7\",\"k\":\"old\"}",
	    "{\"stream\":\"stdout\",\"k\":\"count\",\"v\":7}");
	sl_test_filter_destroy(tf);
}

static void preserve_key_keeps_parsed_field(void **state)
{
	const char *kv[] = {"Key_Name",	    "log", "Parser", "kv",
			    "Preserve_Key", "On",  NULL};
	struct sl_test_filter *tf = make(kv);

	run(tf, "{\"stream\":\"stdout\",\"log\":\"count=7\"}",
	    "{\"k\":\"count\",\"v\":7,\"log\":\"count=7\"}");
	sl_test_filter_destroy(tf);
}

static void reserve_data_and_preserve_key(void **state)
{
	const char *kv[] = {"Key_Name",	    "log",	    "Parser",
			    "kv",	    "Reserve_Data", "On",
			    "Preserve_Key", "On",	    NULL};
	struct sl_test_filter *tf = make(kv);

	run(tf, "{\"log\":\"count=7\",\"stream\":\"stdout\"}",
	    "{\"log\":\"count=7\",\"stream\":\"stdout\",\"k\":\"count\",\"v\":"
	    "7}");
	sl_test_filter_destroy(tf);
}

static void parsers_tried_in_order(void **state)
{
	const char *kv[] = {"Key_Name", "log", "Parser", "json",
			    "Parser",	"kv",  NULL};
	struct sl_test_filter *tf = make(kv);

	run(tf, "{\"log\":\"count=7\"}", "{\"k\":\"count\",\"v\":7}");
	run(tf, "{\"log\":\"{\\\"j\\\":1}\"}", "{\"j\":1}");
	sl_test_filter_destroy(tf);
}

static void failed_parse_kept_and_flagged(void **state)
{
	const char *kv[] = {"Key_Name", "log", "Parser", "json",
			    "Parser",	"kv",  NULL};
	struct sl_test_filter *tf = make(kv);

	run(tf, "{\"log\":\"neither\",\"stream\":\"stderr\"}",
	    "{\"log\":\"neither\",\"stream\":\"stderr\"}");
	assert_true(tf->rec.flags & SL_REC_PARSE_ERROR);
	/* a plain tail line stays {"log": line} */
	run(tf, "plain text line", "{\"log\":\"plain text line\"}");
	assert_true(tf->rec.flags & SL_REC_PARSE_ERROR);
	sl_test_filter_destroy(tf);
}

static void missing_key_leaves_record_unchanged(void **state)
{
	const char *kv[] = {"Key_Name", "message", "Parser", "json", NULL};
	struct sl_test_filter *tf = make(kv);

	run(tf, "{\"log\":\"{}\"}", "{\"log\":\"{}\"}");
	assert_false(tf->rec.flags & SL_REC_PARSE_ERROR);
	sl_test_filter_destroy(tf);
}

static void nested_key_name(void **state)
{
	const char *kv[] = {"Key_Name",	    "$m['raw']", "Parser", "kv",
			    "Reserve_Data", "On",	 NULL};
	struct sl_test_filter *tf = make(kv);

	run(tf, "{\"m\":{\"raw\":\"a=1\"},\"x\":true}",
	    "{\"x\":true,\"k\":\"a\",\"v\":1}");
	sl_test_filter_destroy(tf);
}

static void invalid_utf8_repaired(void **state)
{
	const char *kv[] = {"Key_Name", "log", "Parser", "json", NULL};
	struct sl_test_filter *tf = make(kv);

	/* a tail line that is JSON with an overlong "/" and a surrogate */
	run_line(tf, "{\"a\":\"x\xC0\xAFy\",\"b\":\"\xED\xA0\x80\"}",
		 "{\"a\":\"x\xEF\xBF\xBD\xEF\xBF\xBDy\",\"b\":"
		 "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"}");
	assert_true(tf->rec.flags & SL_REC_REPAIRED);
	assert_false(tf->rec.flags & SL_REC_PARSE_ERROR);
	sl_test_filter_destroy(tf);
}

static void unknown_parser_is_config_error(void **state)
{
	const char *kv[] = {"Key_Name", "log", "Parser", "nope", NULL};
	char *diag = NULL;

	assert_null(
	    sl_test_filter_create(&sl_filter_parser, kv, parsers_path, &diag));
	assert_non_null(strstr(diag, "unknown parser 'nope'"));
	free(diag);
}

static void key_name_required(void **state)
{
	const char *kv[] = {"Parser", "json", NULL};
	char *diag = NULL;

	assert_null(
	    sl_test_filter_create(&sl_filter_parser, kv, parsers_path, &diag));
	assert_non_null(strstr(diag, "key_name"));
	free(diag);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parsed_fields_replace_body),
	    cmocka_unit_test(tail_line_record_parses),
	    cmocka_unit_test(nested_json_kept_intact),
	    cmocka_unit_test(reserve_data_keeps_other_fields),
	    cmocka_unit_test(preserve_key_keeps_parsed_field),
	    cmocka_unit_test(reserve_data_and_preserve_key),
	    cmocka_unit_test(parsers_tried_in_order),
	    cmocka_unit_test(failed_parse_kept_and_flagged),
	    cmocka_unit_test(missing_key_leaves_record_unchanged),
	    cmocka_unit_test(nested_key_name),
	    cmocka_unit_test(invalid_utf8_repaired),
	    cmocka_unit_test(unknown_parser_is_config_error),
	    cmocka_unit_test(key_name_required),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
