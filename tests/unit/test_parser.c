/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_parser.c - [PARSER]/[MULTILINE_PARSER] building and sl_parser_apply:
 * json, regex, logfmt and ltsv bodies, Types, Time_Key/Time_Keep, errors
 * with file:line, and every Fluent Bit parsers file of the fixtures loads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl_parser_int.h"
#include "sl_test.h"

#define NS    SL_NS_PER_SEC
#define T0    INT64_C(1795248000) /* 2026-11-21T08:00:00Z */
#define START (INT64_C(42) * NS)

struct fx {
	struct sl_conf conf;
	struct sl_diag diag;
	struct sl_parsers *ps;
	struct sl_record rec;
	char *out;
	char *diag_text;
};

static int load_file(struct fx *f, const char *path)
{
	int rc;

	memset(f, 0, sizeof(*f));
	sl_conf_init(&f->conf);
	sl_record_init(&f->rec);
	rc = sl_conf_load_parsers(&f->conf, path, NULL, &f->diag);
	if (rc == 0)
		rc = sl_parsers_build(&f->conf, &f->diag, &f->ps);
	{
		struct sl_buf b = {0};

		for (size_t i = 0; i < f->diag.n; i++) {
			sl_buf_append(&b, f->diag.msgs[i],
				      strlen(f->diag.msgs[i]));
			sl_buf_append(&b, "\n", 1);
		}
		f->diag_text = b.data ? b.data : strdup("");
	}
	return rc;
}

static int load(struct fx *f, const char *text)
{
	char *path = sl_test_write_temp(text);
	int rc;

	assert_non_null(path);
	rc = load_file(f, path);
	unlink(path);
	free(path);
	return rc;
}

static void fx_free(struct fx *f)
{
	sl_parsers_destroy(f->ps);
	sl_conf_destroy(&f->conf);
	sl_diag_destroy(&f->diag);
	sl_record_destroy(&f->rec);
	free(f->out);
	free(f->diag_text);
}

/* Applies parser `name` to `text` held by a tail-like line record. */
static int apply(struct fx *f, const char *name, const char *text)
{
	const struct sl_parser *p = sl_parsers_find(f->ps, name);
	const char *body;
	size_t len;
	int rc;

	assert_non_null(p);
	sl_record_reset_line(&f->rec, START, "log", 3, text, strlen(text));
	rc = sl_parser_apply(p, text, strlen(text), &f->rec);
	body = sl_record_body(&f->rec, &len);
	free(f->out);
	f->out = strndup(body, len);
	return rc;
}

static void expect_body(struct fx *f, const char *name, const char *text,
			const char *body)
{
	assert_int_equal(apply(f, name, text), 0);
	assert_string_equal(f->out, body);
}

static void expect_error(const char *conf, const char *needle)
{
	struct fx f;

	assert_int_equal(load(&f, conf), -SL_ECONFIG);
	if (!strstr(f.diag_text, needle))
		fail_msg("diag '%s' lacks '%s'", f.diag_text, needle);
	fx_free(&f);
}

/* ---- json -------------------------------------------------------------- */

static void json_object_becomes_body(void **state)
{
	struct fx f;

	assert_int_equal(load(&f, "[PARSER]\n    Name j\n    Format json\n"),
			 0);
	expect_body(&f, "j", "{\"a\":1,\"b\":{\"c\":[1,2]}}",
		    "{\"a\":1,\"b\":{\"c\":[1,2]}}");
	assert_int_equal(sl_record_time(&f.rec), START);
	fx_free(&f);
}

static void json_non_object_fails_and_keeps_record(void **state)
{
	struct fx f;

	assert_int_equal(load(&f, "[PARSER]\n    Name j\n    Format json\n"),
			 0);
	assert_int_equal(apply(&f, "j", "[1,2]"), -SL_EPARSE);
	assert_string_equal(f.out, "{\"log\":\"[1,2]\"}");
	assert_int_equal(apply(&f, "j", "plain text"), -SL_EPARSE);
	assert_string_equal(f.out, "{\"log\":\"plain text\"}");
	fx_free(&f);
}

static void json_time_key_sets_time_and_is_removed(void **state)
{
	struct fx f;

	assert_int_equal(load(&f, "[PARSER]\n    Name j\n    Format json\n"
				  "    Time_Key time\n"
				  "    Time_Format %Y-%m-%dT%H:%M:%S.%L%z\n"),
			 0);
	expect_body(&f, "j",
		    "{\"time\":\"2026-11-21T08:00:00.250Z\",\"msg\":\"x\"}",
		    "{\"msg\":\"x\"}");
	assert_int_equal(sl_record_time(&f.rec), T0 * NS + 250000000);
	fx_free(&f);
}

static void json_time_keep_keeps_field(void **state)
{
	struct fx f;
	const char *in =
	    "{\"ts\":\"2026-11-21 08:00:00,123\",\"level\":\"INFO\"}";

	assert_int_equal(load(&f, "[PARSER]\n    Name j\n    Format json\n"
				  "    Time_Key ts\n    Time_Keep On\n"
				  "    Time_Format %Y-%m-%d %H:%M:%S,%L\n"),
			 0);
	expect_body(&f, "j", in, in);
	assert_int_equal(sl_record_time(&f.rec), T0 * NS + 123000000);
	fx_free(&f);
}

static void json_epoch_ms_number(void **state)
{
	struct fx f;

	assert_int_equal(load(&f,
			      "[PARSER]\n    Name pino\n    Format json\n"
			      "    Time_Key time\n    Time_Format epoch_ms\n"),
			 0);
	expect_body(&f, "pino",
		    "{\"level\":30,\"time\":1795248000000,\"msg\":\"ok\"}",
		    "{\"level\":30,\"msg\":\"ok\"}");
	assert_int_equal(sl_record_time(&f.rec), T0 * NS);
	fx_free(&f);
}

static void json_bad_time_keeps_field_and_time(void **state)
{
	struct fx f;
	const char *in = "{\"time\":\"yesterday\",\"msg\":\"x\"}";

	assert_int_equal(load(&f,
			      "[PARSER]\n    Name j\n    Format json\n"
			      "    Time_Key time\n    Time_Format %Y-%m-%d\n"),
			 0);
	expect_body(&f, "j", in, in);
	assert_int_equal(sl_record_time(&f.rec), START);
	fx_free(&f);
}

static void json_types_convert(void **state)
{
	struct fx f;

	assert_int_equal(load(&f,
			      "[PARSER]\n    Name j\n    Format json\n"
			      "    Types code:integer ratio:float ok:bool\n"),
			 0);
	assert_int_equal(apply(&f, "j",
			       "{\"code\":\"200\",\"ratio\":\"0.5\",\"ok\":"
			       "\"true\",\"s\":\"1\"}"),
			 0);
	assert_non_null(strstr(f.out, "\"code\":200"));
	assert_non_null(strstr(f.out, "\"ratio\":0.5"));
	assert_non_null(strstr(f.out, "\"ok\":true"));
	assert_non_null(strstr(f.out, "\"s\":\"1\""));
	fx_free(&f);
}

/* ---- regex --------------------------------------------------------------- */

static const char *apache_conf =
    "[PARSER]\n"
    "    Name   apache\n"
    "    Format regex\n"
    "    Regex  ^(?<host>[^ ]*) [^ ]* (?<user>[^ ]*) \\[(?<time>[^\\]]*)\\] "
    "\"(?<method>\\S+)(?: +(?<path>[^\\\"]*?)(?: +\\S*)?)?\" (?<code>[^ ]*) "
    "(?<size>[^ ]*)(?: \"(?<referer>[^\\\"]*)\" \"(?<agent>[^\\\"]*)\")?$\n"
    "    Time_Key time\n"
    "    Time_Format %d/%b/%Y:%H:%M:%S %z\n"
    "    Types code:integer size:integer\n";

static void regex_named_groups_become_fields(void **state)
{
	struct fx f;

	assert_int_equal(load(&f, apache_conf), 0);
	expect_body(&f, "apache",
		    "192.168.0.1 - - [21/Nov/2026:09:00:00 +0100] \"GET "
		    "/index.html HTTP/1.1\" 200 512 \"-\" \"curl/8\"",
		    "{\"host\":\"192.168.0.1\",\"user\":\"-\",\"method\":"
		    "\"GET\",\"path\":\"/index.html\","
		    "\"code\":200,\"size\":512,\"referer\":\"-\",\"agent\":"
		    "\"curl/8\"}");
	assert_int_equal(sl_record_time(&f.rec), T0 * NS);
	fx_free(&f);
}

static void regex_no_match_fails(void **state)
{
	struct fx f;

	assert_int_equal(load(&f, apache_conf), 0);
	assert_int_equal(apply(&f, "apache", "garbage"), -SL_EPARSE);
	assert_string_equal(f.out, "{\"log\":\"garbage\"}");
	fx_free(&f);
}

static void regex_types_float_bool_hex(void **state)
{
	struct fx f;

	assert_int_equal(
	    load(&f, "[PARSER]\n    Name r\n    Format regex\n"
		     "    Regex ^(?<f>\\S+) (?<b>\\S+) (?<h>\\S+) (?<i>\\S+)$\n"
		     "    Types f:float b:bool h:hex i:integer\n"),
	    0);
	expect_body(&f, "r", "2.5 TRUE ff 12",
		    "{\"f\":2.5,\"b\":true,\"h\":255,\"i\":12}");
	expect_body(&f, "r", "3 no 0x10 x1",
		    "{\"f\":3.0,\"b\":false,\"h\":16,\"i\":\"x1\"}");
	fx_free(&f);
}

static void regex_skips_empty_values_by_default(void **state)
{
	struct fx f;

	assert_int_equal(load(&f, "[PARSER]\n    Name r\n    Format regex\n"
				  "    Regex ^(?<a>[^,]*),(?<b>[^,]*)$\n"
				  "[PARSER]\n    Name keep\n    Format regex\n"
				  "    Regex ^(?<a>[^,]*),(?<b>[^,]*)$\n"
				  "    Skip_Empty_Values Off\n"),
			 0);
	expect_body(&f, "r", "x,", "{\"a\":\"x\"}");
	expect_body(&f, "keep", "x,", "{\"a\":\"x\",\"b\":\"\"}");
	fx_free(&f);
}

static void regex_slashes_and_u_escapes(void **state)
{
	struct fx f;

	assert_int_equal(load(&f, "[PARSER]\n    Name r\n    Format regex\n"
				  "    Regex /Processing by "
				  "(?<c>[^\\u0023]+)\\u0023(?<m>[^ ]+)$/\n"),
			 0);
	expect_body(&f, "r", "Processing by Users#show",
		    "{\"c\":\"Users\",\"m\":\"show\"}");
	fx_free(&f);
}

static void regex_group_names_longer_than_pcre2_limit(void **state)
{
	struct fx f;

	assert_int_equal(
	    load(&f, "[PARSER]\n    Name r\n    Format regex\n"
		     "    Regex ^(?<upstream_transport_failure_reason_long>[^ "
		     "]*) [a-z]+ (?<b>x)$\n"),
	    0);
	expect_body(
	    &f, "r", "eof zz x",
	    "{\"upstream_transport_failure_reason_long\":\"eof\",\"b\":\"x\"}");
	fx_free(&f);
}

static void regex_escapes_output_json(void **state)
{
	struct fx f;

	assert_int_equal(load(&f, "[PARSER]\n    Name r\n    Format regex\n"
				  "    Regex ^(?<msg>.*)$\n"),
			 0);
	expect_body(&f, "r", "say \"hi\"\t\\",
		    "{\"msg\":\"say \\\"hi\\\"\\t\\\\\"}");
	/* invalid UTF-8 is repaired, never passed through */
	expect_body(&f, "r", "a\xC0\xAF",
		    "{\"msg\":\"a\xEF\xBF\xBD\xEF\xBF\xBD\"}");
	fx_free(&f);
}

/* ---- logfmt / ltsv
 * ----------------------------------------------------------- */

static void logfmt_body_with_bare_key_and_time(void **state)
{
	struct fx f;

	assert_int_equal(
	    load(&f, "[PARSER]\n    Name l\n    Format logfmt\n"
		     "    Time_Key ts\n    Time_Format %Y-%m-%dT%H:%M:%SZ\n"
		     "    Types status:integer\n"),
	    0);
	expect_body(&f, "l",
		    "ts=2026-11-21T08:00:00Z msg=\"GET /\" status=200 debug",
		    "{\"msg\":\"GET /\",\"status\":200,\"debug\":true}");
	assert_int_equal(sl_record_time(&f.rec), T0 * NS);
	fx_free(&f);
}

static void logfmt_no_bare_keys_fails(void **state)
{
	struct fx f;

	assert_int_equal(load(&f, "[PARSER]\n    Name l\n    Format logfmt\n"
				  "    Logfmt_No_Bare_Keys true\n"),
			 0);
	assert_int_equal(apply(&f, "l", "a=1 b"), -SL_EPARSE);
	fx_free(&f);
}

static void ltsv_body(void **state)
{
	struct fx f;

	assert_int_equal(load(&f, "[PARSER]\n    Name t\n    Format ltsv\n"),
			 0);
	expect_body(
	    &f, "t", "host:127.0.0.1\tmethod:GET\turl:/a:b",
	    "{\"host\":\"127.0.0.1\",\"method\":\"GET\",\"url\":\"/a:b\"}");
	assert_int_equal(apply(&f, "t", "no label here"), -SL_EPARSE);
	fx_free(&f);
}

/* ---- configuration ---------------------------------------------------------
 */

static void every_fluent_bit_parsers_file_loads(void **state)
{
	const char *dir = SL_TEST_DATA_DIR "/parsers";
	DIR *d = opendir(dir);
	struct dirent *e;
	int files = 0;

	assert_non_null(d);
	while ((e = readdir(d))) {
		char path[1024];
		size_t n = strlen(e->d_name);
		struct fx f;

		if (n < 6 || strcmp(e->d_name + n - 5, ".conf") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (load_file(&f, path) != 0)
			fail_msg("%s: %s", e->d_name, f.diag_text);
		assert_int_equal(sl_diag_count(&f.diag), 0);
		fx_free(&f);
		files++;
	}
	closedir(d);
	assert_true(files >= 20);
}

static void fluent_bit_invalid_parsers_file_rejected(void **state)
{
	struct fx f;

	assert_int_not_equal(load_file(&f, SL_TEST_DATA_DIR
				       "/parsers/invalid/parser_custom.conf"),
			     0);
	assert_true(sl_diag_count(&f.diag) > 0);
	fx_free(&f);
}

static void conformance_parsers_work(void **state)
{
	struct fx f;

	if (load_file(&f, SL_TEST_DATA_DIR "/parsers/parsers.conf") != 0)
		fail_msg("%s", f.diag_text);
	expect_body(&f, "cri", "2026-11-21T08:00:00.5Z stdout F hello world",
		    "{\"time\":\"2026-11-21T08:00:00.5Z\",\"stream\":"
		    "\"stdout\",\"logtag\":\"F\",\"message\":\"hello world\"}");
	assert_int_equal(sl_record_time(&f.rec), T0 * NS + 500000000);
	expect_body(&f, "docker",
		    "{\"log\":\"hi\\n\",\"stream\":\"stderr\",\"time\":\"2026-"
		    "11-21T08:00:00.000000001Z\"}",
		    "{\"log\":\"hi\\n\",\"stream\":\"stderr\",\"time\":\"2026-"
		    "11-21T08:00:00.000000001Z\"}");
	assert_int_equal(sl_record_time(&f.rec), T0 * NS + 1);
	fx_free(&f);
}

static void bad_regex_reported_with_line(void **state)
{
	expect_error(
	    "[PARSER]\n    Name r\n    Format regex\n    Regex ^(?<a>[0-9+$\n",
	    ":4: parser 'r': invalid regex");
}

static void unknown_option_reported_with_line(void **state)
{
	expect_error("[PARSER]\n    Name r\n    Format json\n    Tyme_Key t\n",
		     ":4:");
}

static void unknown_format_reported(void **state)
{
	expect_error("[PARSER]\n    Name r\n    Format csvx\n",
		     ":3: parser 'r': unknown Format 'csvx'");
}

static void regex_format_needs_regex(void **state)
{
	expect_error("[PARSER]\n    Name r\n    Format regex\n",
		     "needs a Regex");
}

static void duplicate_parser_name_rejected(void **state)
{
	expect_error("[PARSER]\n    Name r\n    Format json\n\n[PARSER]\n    "
		     "Name r\n    Format logfmt\n",
		     ":6: parser 'r' already defined at ");
}

static void bad_types_and_offset_rejected(void **state)
{
	expect_error(
	    "[PARSER]\n    Name r\n    Format json\n    Types a:integr\n",
	    ":4: parser 'r': bad Types entry 'a:integr'");
	expect_error("[PARSER]\n    Name r\n    Format json\n    Time_Format "
		     "%H\n    Time_Offset 0900\n",
		     ":5: parser 'r': bad Time_Offset");
	expect_error(
	    "[PARSER]\n    Name r\n    Format json\n    Time_Format %H:%Q\n",
	    ":4: parser 'r': unsupported conversion");
	expect_error("[PARSER]\n    Name r\n    Format json\n    Time_Format "
		     "%H\n    Time_Zone Mars/Olympus\n",
		     ":5: parser 'r': unknown or unreadable Time_Zone");
}

static void decoders_are_accepted(void **state)
{
	struct fx f;

	assert_int_equal(load(&f, "[PARSER]\n    Name j\n    Format json\n"
				  "    Decode_Field_As json log\n    "
				  "Decode_Field_As escaped msg\n"),
			 0);
	fx_free(&f);
}

/* ---- multiline
 * ---------------------------------------------------------------- */

static void multiline_rules_kept(void **state)
{
	struct fx f;
	const struct sl_ml_parser *m;

	assert_int_equal(
	    load_file(
		&f, SL_TEST_DATA_DIR
		"/parsers/tests-runtime-data_tail_parsers_multiline_json.conf"),
	    0);
	m = sl_parsers_find_multiline(f.ps, "multiline-json-regex");
	assert_non_null(m);
	assert_int_equal(m->type, SL_ML_REGEX);
	assert_string_equal(m->parser, "json");
	assert_string_equal(m->key_content, "message");
	assert_int_equal(m->flush_timeout_ms, 2000);
	assert_int_equal(m->n_rules, 2);
	assert_string_equal(m->rules[0].from_state, "start_state");
	assert_string_equal(m->rules[0].pattern,
			    "/(Dec \\d+ \\d+\\:\\d+\\:\\d+)(.*)/");
	assert_string_equal(m->rules[0].to_state, "cont");
	assert_int_equal(
	    sl_parser_regex_match(m->rules[1].re, "    at Foo.bar", 14), 1);
	assert_int_equal(
	    sl_parser_regex_match(m->rules[1].re, "Dec 1 1:1:1 x", 13), 0);
	fx_free(&f);
}

static void multiline_bad_regex_reported_with_line(void **state)
{
	expect_error("[MULTILINE_PARSER]\n    name m\n    type regex\n"
		     "    rule \"start_state\" \"/(unclosed/\" \"cont\"\n"
		     "    rule \"cont\" \"/^\\s+at/\" \"cont\"\n",
		     ":4: multiline parser 'm': invalid regex");
}

static void multiline_unknown_state_reported(void **state)
{
	expect_error(
	    "[MULTILINE_PARSER]\n    name m\n    type regex\n"
	    "    rule \"start_state\" \"/^a/\" \"nowhere\"\n",
	    ":4: multiline parser 'm': next state 'nowhere' has no rule");
	expect_error("[MULTILINE_PARSER]\n    name m\n    type regex\n"
		     "    rule \"cont\" \"/^a/\" \"cont\"\n",
		     "needs a rule for \"start_state\"");
	expect_error("[MULTILINE_PARSER]\n    name m\n    type regex\n"
		     "    rule \"start_state\"\n",
		     ":4: multiline parser 'm': rule must be");
}

static void multiline_unknown_type_and_parser_reported(void **state)
{
	expect_error("[MULTILINE_PARSER]\n    name m\n    type wobble\n",
		     ":3: multiline parser 'm': unknown type 'wobble'");
	expect_error("[MULTILINE_PARSER]\n    name m\n    type endswith\n    "
		     "match_string \\\n    parser nope\n",
		     ":5: multiline parser 'm': unknown parser 'nope'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(json_object_becomes_body),
	    cmocka_unit_test(json_non_object_fails_and_keeps_record),
	    cmocka_unit_test(json_time_key_sets_time_and_is_removed),
	    cmocka_unit_test(json_time_keep_keeps_field),
	    cmocka_unit_test(json_epoch_ms_number),
	    cmocka_unit_test(json_bad_time_keeps_field_and_time),
	    cmocka_unit_test(json_types_convert),
	    cmocka_unit_test(regex_named_groups_become_fields),
	    cmocka_unit_test(regex_no_match_fails),
	    cmocka_unit_test(regex_types_float_bool_hex),
	    cmocka_unit_test(regex_skips_empty_values_by_default),
	    cmocka_unit_test(regex_slashes_and_u_escapes),
	    cmocka_unit_test(regex_group_names_longer_than_pcre2_limit),
	    cmocka_unit_test(regex_escapes_output_json),
	    cmocka_unit_test(logfmt_body_with_bare_key_and_time),
	    cmocka_unit_test(logfmt_no_bare_keys_fails),
	    cmocka_unit_test(ltsv_body),
	    cmocka_unit_test(every_fluent_bit_parsers_file_loads),
	    cmocka_unit_test(fluent_bit_invalid_parsers_file_rejected),
	    cmocka_unit_test(conformance_parsers_work),
	    cmocka_unit_test(bad_regex_reported_with_line),
	    cmocka_unit_test(unknown_option_reported_with_line),
	    cmocka_unit_test(unknown_format_reported),
	    cmocka_unit_test(regex_format_needs_regex),
	    cmocka_unit_test(duplicate_parser_name_rejected),
	    cmocka_unit_test(bad_types_and_offset_rejected),
	    cmocka_unit_test(decoders_are_accepted),
	    cmocka_unit_test(multiline_rules_kept),
	    cmocka_unit_test(multiline_bad_regex_reported_with_line),
	    cmocka_unit_test(multiline_unknown_state_reported),
	    cmocka_unit_test(multiline_unknown_type_and_parser_reported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
