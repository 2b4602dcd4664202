/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_cfgmap.c - config maps: defaults, typed values with Fluent Bit's
 * semantics (decimal sizes, on/off booleans, time suffixes), unknown,
 * repeated, out-of-range and missing options reported with FILE:LINE,
 * IGNORED and PREFIX options, KEY VALUE options split once, release, and the
 * `sluice -h` rendering.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_cfgmap.h"
#include "sl_common.h"

struct ctx {
	char *name;
	int64_t port;
	bool verbose;
	int64_t buf_size;
	double ratio;
	double interval;
	struct sl_strlist keys;
	struct sl_cfg_multi rules;
	struct sl_cfg_multi props;
	char *required;
	bool ignored;
	struct sl_cfg_kvlist pairs;
	struct sl_cfg_kv label;
};

static const struct sl_cfg_option map[] = {
    {.name = "Name",
     .type = SL_CFG_STR,
     .def = "app",
     .offset = offsetof(struct ctx, name),
     .desc = "a name"},
    {.name = "Port",
     .type = SL_CFG_INT,
     .def = "2020",
     .min = 1,
     .max = 65535,
     .offset = offsetof(struct ctx, port),
     .desc = "TCP port"},
    {.name = "Verbose",
     .type = SL_CFG_BOOL,
     .def = "off",
     .offset = offsetof(struct ctx, verbose),
     .desc = "talk more"},
    {.name = "Buffer_Size",
     .type = SL_CFG_SIZE,
     .def = "32K",
     .offset = offsetof(struct ctx, buf_size),
     .desc = "buffer"},
    {.name = "Ratio",
     .type = SL_CFG_DOUBLE,
     .min = 0,
     .max = 1,
     .offset = offsetof(struct ctx, ratio),
     .desc = "a ratio"},
    {.name = "Interval",
     .type = SL_CFG_TIME,
     .def = "1m",
     .offset = offsetof(struct ctx, interval),
     .desc = "how often"},
    {.name = "Keys",
     .type = SL_CFG_SLIST,
     .def = "a, b",
     .offset = offsetof(struct ctx, keys),
     .desc = "key list"},
    {.name = "Rule",
     .type = SL_CFG_STR,
     .flags = SL_CFG_MULTI,
     .offset = offsetof(struct ctx, rules),
     .desc = "KEY REGEX"},
    {.name = "rdkafka.",
     .type = SL_CFG_STR,
     .flags = SL_CFG_PREFIX,
     .offset = offsetof(struct ctx, props),
     .desc = "librdkafka property"},
    {.name = "Daemon",
     .type = SL_CFG_BOOL,
     .flags = SL_CFG_IGNORED,
     .offset = offsetof(struct ctx, ignored),
     .desc = "not used"},
    {.name = "Pair",
     .type = SL_CFG_KV,
     .flags = SL_CFG_MULTI,
     .offset = offsetof(struct ctx, pairs),
     .desc = "KEY REGEX: a rule"},
    {.name = "Label",
     .type = SL_CFG_KV,
     .offset = offsetof(struct ctx, label),
     .desc = "one label"},
    /* no field: an ignored prefix must never be stored (offset 0 is name) */
    {.name = "net.",
     .type = SL_CFG_STR,
     .flags = SL_CFG_IGNORED | SL_CFG_PREFIX},
    {.name = "rate_gate",
     .type = SL_CFG_STR,
     .flags = SL_CFG_IGNORED | SL_CFG_PREFIX},
    SL_CFG_END,
};

static const struct sl_cfg_option required_map[] = {
    {.name = "Host",
     .type = SL_CFG_STR,
     .flags = SL_CFG_REQUIRED,
     .offset = offsetof(struct ctx, required),
     .desc = "host"},
    SL_CFG_END,
};

struct fixture {
	struct sl_conf conf;
	struct sl_diag diag;
	struct sl_conf_section *sec;
	const char *file;
	int line;
	struct ctx ctx;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	sl_conf_init(&f->conf);
	f->file = sl_conf_intern_file(&f->conf, "test.conf");
	f->sec =
	    sl_conf_add_section(&f->conf, SL_SEC_INPUT, "INPUT", f->file, 3);
	f->line = 3;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	sl_cfgmap_release(map, &f->ctx);
	sl_cfgmap_release(required_map, &f->ctx);
	sl_conf_destroy(&f->conf);
	sl_diag_destroy(&f->diag);
	free(f);
	return 0;
}

/* Adds "key value" on the next line (lines 4, 5, ...). */
static void add(struct fixture *f, const char *key, const char *value)
{
	assert_int_equal(
	    sl_conf_add_entry(&f->conf, f->sec, key, value, f->file, ++f->line),
	    0);
}

static int apply(struct fixture *f)
{
	struct sl_cfgmap_target t = {map, &f->ctx};

	return sl_cfgmap_apply(&t, 1, f->sec, NULL, "input 'tail'", &f->diag);
}

static bool has_diag(const struct fixture *f, const char *needle)
{
	for (size_t i = 0; i < f->diag.n; i++)
		if (strstr(f->diag.msgs[i], needle))
			return true;
	return false;
}

/* ---- apply ----------------------------------------------------------------
 */

static void defaults_fill_unset_options(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(apply(f), 0);
	assert_string_equal(f->ctx.name, "app");
	assert_int_equal(f->ctx.port, 2020);
	assert_false(f->ctx.verbose);
	assert_int_equal(f->ctx.buf_size, 32000);
	assert_true(f->ctx.interval == 60.0);
	assert_int_equal(f->ctx.keys.n, 2);
	assert_string_equal(f->ctx.keys.v[1], "b");
	assert_int_equal(f->ctx.rules.n, 0);
}

static void entries_override_defaults_case_insensitively(void **state)
{
	struct fixture *f = *state;

	add(f, "NAME", "web");
	add(f, "port", "8080");
	add(f, "verbose", "On");
	add(f, "keys", " x ,, y ");
	assert_int_equal(apply(f), 0);
	assert_string_equal(f->ctx.name, "web");
	assert_int_equal(f->ctx.port, 8080);
	assert_true(f->ctx.verbose);
	/* items trimmed, empty ones dropped */
	assert_int_equal(f->ctx.keys.n, 2);
	assert_string_equal(f->ctx.keys.v[0], "x");
	assert_string_equal(f->ctx.keys.v[1], "y");
}

static void unknown_option_is_an_error_with_location(void **state)
{
	struct fixture *f = *state;

	add(f, "Nmae", "typo");
	assert_int_equal(apply(f), -SL_ECONFIG);
	assert_true(has_diag(f, "test.conf:4: unknown option 'Nmae' for "
				"input 'tail'; did you mean 'Name'?"));
}

static void unknown_option_far_from_any_gets_no_suggestion(void **state)
{
	struct fixture *f = *state;

	add(f, "zzqqxx", "1");
	assert_int_equal(apply(f), -SL_ECONFIG);
	assert_true(has_diag(f, "test.conf:4: unknown option 'zzqqxx' for "
				"input 'tail'"));
	assert_false(has_diag(f, "did you mean"));
}

static void empty_value_of_an_option_with_a_default_is_an_error(void **state)
{
	struct fixture *f = *state;

	add(f, "Name", ""); /* "${UNSET}" after expansion */
	assert_int_equal(apply(f), -SL_ECONFIG);
	assert_true(has_diag(f, "test.conf:4: option 'Name' of input 'tail' "
				"is empty; it needs a value (default 'app')"));
	/* not silently replaced by the default either: the error stands */
	assert_int_equal(f->diag.n, 1);
}

static void empty_value_of_a_required_option_is_an_error(void **state)
{
	struct fixture *f = *state;
	struct sl_cfgmap_target t = {required_map, &f->ctx};

	add(f, "host", "");
	assert_int_equal(
	    sl_cfgmap_apply(&t, 1, f->sec, NULL, "output 'es'", &f->diag),
	    -SL_ECONFIG);
	assert_true(has_diag(f, "test.conf:4: option 'host' of output 'es' is "
				"empty; it needs a value"));
	/* one error, not also "missing required option" */
	assert_int_equal(f->diag.n, 1);
}

static void skipped_keys_are_not_checked(void **state)
{
	struct fixture *f = *state;
	struct sl_cfgmap_target t = {map, &f->ctx};
	static const char *const skip[] = {"name", "match", NULL};

	add(f, "Match", "*");
	assert_int_equal(
	    sl_cfgmap_apply(&t, 1, f->sec, skip, "input 'tail'", &f->diag), 0);
}

static void repeated_option_is_an_error(void **state)
{
	struct fixture *f = *state;

	add(f, "Port", "1");
	add(f, "port", "2");
	assert_int_equal(apply(f), -SL_ECONFIG);
	assert_true(has_diag(f,
			     "test.conf:5: option 'port' is given more "
			     "than once for input 'tail' (first on line 4)"));
}

static void multi_option_keeps_every_line_with_location(void **state)
{
	struct fixture *f = *state;

	add(f, "Rule", "log ^a");
	add(f, "rule", "msg  b c");
	assert_int_equal(apply(f), 0);
	assert_int_equal(f->ctx.rules.n, 2);
	assert_string_equal(f->ctx.rules.items[1].value, "msg  b c");
	assert_string_equal(f->ctx.rules.items[1].file, "test.conf");
	assert_int_equal(f->ctx.rules.items[1].line, 5);
}

static void out_of_range_value_is_an_error(void **state)
{
	struct fixture *f = *state;

	add(f, "Port", "99999");
	add(f, "Ratio", "1.5");
	assert_int_equal(apply(f), -SL_ECONFIG);
	assert_true(has_diag(f, "test.conf:4: option 'Port' of input 'tail' "
				"is 99999, outside 1..65535"));
	assert_true(has_diag(f, "test.conf:5: option 'Ratio'"));
}

static void range_bounds_are_inclusive(void **state)
{
	struct fixture *f = *state;

	add(f, "Port", "65535");
	add(f, "Ratio", "0");
	assert_int_equal(apply(f), 0);
	assert_int_equal(f->ctx.port, 65535);
}

static void bad_value_names_expected_type(void **state)
{
	struct fixture *f = *state;

	add(f, "Verbose", "1");
	add(f, "Buffer_Size", "12X");
	add(f, "Port", "80a");
	assert_int_equal(apply(f), -SL_ECONFIG);
	/* every bad value is reported, not only the first */
	assert_int_equal(f->diag.n, 3);
	assert_true(has_diag(f, "test.conf:4: invalid value '1' for option "
				"'Verbose' of input 'tail': expected on/off"));
	assert_true(has_diag(f, "test.conf:5: invalid value '12X'"));
	assert_true(has_diag(f, "test.conf:6: invalid value '80a'"));
}

static void missing_required_option_is_reported_at_section(void **state)
{
	struct fixture *f = *state;
	struct sl_cfgmap_target t = {required_map, &f->ctx};

	assert_int_equal(
	    sl_cfgmap_apply(&t, 1, f->sec, NULL, "output 'es'", &f->diag),
	    -SL_ECONFIG);
	assert_true(has_diag(f, "test.conf:3: missing required option 'Host' "
				"for output 'es'"));
}

static void keys_are_looked_up_in_every_target(void **state)
{
	struct fixture *f = *state;
	struct sl_cfgmap_target t[] = {{map, &f->ctx}, {required_map, &f->ctx}};

	add(f, "host", "example.org");
	add(f, "port", "9");
	assert_int_equal(
	    sl_cfgmap_apply(t, 2, f->sec, NULL, "output 'es'", &f->diag), 0);
	assert_string_equal(f->ctx.required, "example.org");
	assert_int_equal(f->ctx.port, 9);
}

static void ignored_option_is_validated_but_not_stored(void **state)
{
	struct fixture *f = *state;

	add(f, "Daemon", "On");
	assert_int_equal(apply(f), 0);
	assert_false(f->ctx.ignored);
}

static void ignored_option_still_rejects_bad_values(void **state)
{
	struct fixture *f = *state;

	add(f, "Daemon", "perhaps");
	assert_int_equal(apply(f), -SL_ECONFIG);
	assert_true(has_diag(f, "test.conf:4: invalid value 'perhaps'"));
}

static void prefix_options_collect_suffix_and_value(void **state)
{
	struct fixture *f = *state;

	add(f, "rdkafka.queue.buffering.max.ms", "100");
	add(f, "RDKAFKA.client.id", "sluice");
	assert_int_equal(apply(f), 0);
	assert_int_equal(f->ctx.props.n, 2);
	assert_string_equal(f->ctx.props.items[0].value,
			    "queue.buffering.max.ms 100");
	assert_string_equal(f->ctx.props.items[1].value, "client.id sluice");
	assert_int_equal(f->ctx.props.items[1].line, 5);
}

static void ignored_prefix_options_are_accepted_and_not_stored(void **state)
{
	struct fixture *f = *state;

	add(f, "net.keepalive", "on");
	add(f, "NET.connect_timeout", "10");
	add(f, "rate_gate", "on"); /* the prefix itself is a key too */
	add(f, "rate_gate.max_bytes", "1M");
	assert_int_equal(apply(f), 0);
	assert_int_equal(f->diag.n, 0);
	assert_string_equal(f->ctx.name, "app");
}

static void release_frees_and_zeroes(void **state)
{
	struct fixture *f = *state;

	add(f, "Rule", "a b");
	assert_int_equal(apply(f), 0);
	sl_cfgmap_release(map, &f->ctx);
	assert_null(f->ctx.name);
	assert_null(f->ctx.keys.v);
	assert_int_equal(f->ctx.keys.n, 0);
	assert_null(f->ctx.rules.items);
	assert_int_equal(f->ctx.rules.n, 0);
}

/* ---- value parsers --------------------------------------------------------
 */

static void bools_accept_fluent_bit_words_only(void **state)
{
	static const char *const yes[] = {"on",	  "ON",	 "true",
					  "True", "yes", "YES"};
	static const char *const no[] = {"off",	  "Off", "false",
					 "FALSE", "no",	 "No"};
	static const char *const bad[] = {"1", "0", "", "y", "onn", " on"};
	bool b;

	(void)state;
	for (size_t i = 0; i < SL_ARRAY_LEN(yes); i++) {
		assert_int_equal(sl_cfg_parse_bool(yes[i], &b), 0);
		assert_true(b);
		assert_int_equal(sl_cfg_parse_bool(no[i], &b), 0);
		assert_false(b);
		assert_int_equal(sl_cfg_parse_bool(bad[i], &b), -SL_EINVAL);
	}
}

static void sizes_use_decimal_suffixes(void **state)
{
	static const struct {
		const char *s;
		int64_t v;
	} ok[] = {
	    {"0", 0},	      {"512", 512},	   {"32K", 32000},
	    {"32k", 32000},   {"32KB", 32000},	   {"5M", 5000000},
	    {"5mb", 5000000}, {"1G", 1000000000},  {"1.5M", 1500000},
	    {"false", 0},     {"100M", 100000000},
	};
	static const char *const bad[] = {"-1",	 "12X", "K",	"",    "1KBB",
					  "1 K", "1T",	"0x10", "1e3", "1.2.3"};
	int64_t v;

	(void)state;
	for (size_t i = 0; i < SL_ARRAY_LEN(ok); i++) {
		assert_int_equal(sl_cfg_parse_size(ok[i].s, &v), 0);
		assert_int_equal(v, ok[i].v);
	}
	for (size_t i = 0; i < SL_ARRAY_LEN(bad); i++)
		assert_int_equal(sl_cfg_parse_size(bad[i], &v), -SL_EINVAL);
}

static void ints_must_be_whole_numbers(void **state)
{
	int64_t v;

	(void)state;
	assert_int_equal(sl_cfg_parse_int("-42", &v), 0);
	assert_int_equal(v, -42);
	assert_int_equal(sl_cfg_parse_int("12abc", &v), -SL_EINVAL);
	assert_int_equal(sl_cfg_parse_int(" 1", &v), -SL_EINVAL);
	assert_int_equal(sl_cfg_parse_int("", &v), -SL_EINVAL);
	assert_int_equal(sl_cfg_parse_int("99999999999999999999", &v),
			 -SL_EINVAL);
}

static void times_take_seconds_with_suffixes(void **state)
{
	static const struct {
		const char *s;
		double v;
	} ok[] = {
	    {"5", 5},	  {"1.5", 1.5},	 {"10s", 10},  {"5m", 300},
	    {"1h", 3600}, {"1d", 86400}, {"2H", 7200}, {"0.5", 0.5},
	};
	static const char *const bad[] = {"-1", "5x", "m", "", "5ms", "1 h"};
	double v;

	(void)state;
	for (size_t i = 0; i < SL_ARRAY_LEN(ok); i++) {
		assert_int_equal(sl_cfg_parse_time(ok[i].s, &v), 0);
		assert_true(v == ok[i].v);
	}
	for (size_t i = 0; i < SL_ARRAY_LEN(bad); i++)
		assert_int_equal(sl_cfg_parse_time(bad[i], &v), -SL_EINVAL);
}

static void doubles_reject_non_numbers(void **state)
{
	double v;

	(void)state;
	assert_int_equal(sl_cfg_parse_double("-0.25", &v), 0);
	assert_true(v == -0.25);
	assert_int_equal(sl_cfg_parse_double("1e3", &v), 0);
	assert_int_equal(sl_cfg_parse_double("nan", &v), -SL_EINVAL);
	assert_int_equal(sl_cfg_parse_double("inf", &v), -SL_EINVAL);
	assert_int_equal(sl_cfg_parse_double("1,5", &v), -SL_EINVAL);
}

static void split_pair_splits_at_first_blank_run(void **state)
{
	char *k, *r;

	(void)state;
	assert_int_equal(sl_cfg_split_pair("log   ^(a b)$  ", &k, &r), 0);
	assert_string_equal(k, "log");
	assert_string_equal(r, "^(a b)$");
	free(k);
	free(r);
	assert_int_equal(sl_cfg_split_pair("lonely", &k, &r), -SL_EINVAL);
}

static void kv_options_are_split_once_with_location(void **state)
{
	struct fixture *f = *state;

	add(f, "Pair", "log   ^(a b)$  ");
	add(f, "pair", "'my key' \"x \\\"y\\\" z\"");
	add(f, "Pair", "k \"a\":\"b\"");
	add(f, "Label", "env prod");
	assert_int_equal(apply(f), 0);
	assert_int_equal(f->ctx.pairs.n, 3);
	/* VALUE starts after the blanks that follow KEY, trimmed */
	assert_string_equal(f->ctx.pairs.items[0].key, "log");
	assert_string_equal(f->ctx.pairs.items[0].value, "^(a b)$");
	assert_false(f->ctx.pairs.items[0].value_quoted);
	assert_string_equal(f->ctx.pairs.items[0].file, "test.conf");
	assert_int_equal(f->ctx.pairs.items[0].line, 4);
	/* one quoted word, with its escapes */
	assert_string_equal(f->ctx.pairs.items[1].key, "my key");
	assert_string_equal(f->ctx.pairs.items[1].value, "x \"y\" z");
	assert_true(f->ctx.pairs.items[1].value_quoted);
	/* quotes that do not wrap the whole value are the value's own */
	assert_string_equal(f->ctx.pairs.items[2].value, "\"a\":\"b\"");
	assert_false(f->ctx.pairs.items[2].value_quoted);
	assert_string_equal(f->ctx.label.key, "env");
	assert_string_equal(f->ctx.label.value, "prod");
}

static void kv_without_value_is_an_error_in_the_options_words(void **state)
{
	struct fixture *f = *state;

	add(f, "Pair", "lonely");
	add(f, "Pair", "\"unterminated value");
	add(f, "Label", "   ");
	assert_int_equal(apply(f), -SL_ECONFIG);
	assert_true(has_diag(f, "test.conf:4:"));
	assert_true(has_diag(f, "expected KEY REGEX"));
	assert_true(has_diag(f, "test.conf:5:"));
	assert_true(has_diag(f, "unterminated quote"));
	assert_true(has_diag(f, "test.conf:6:"));
	assert_true(has_diag(f, "expected KEY VALUE"));
}

static void split_kv_leaves_its_output_alone_on_error(void **state)
{
	struct sl_cfg_kv kv = {.key = NULL, .value = NULL};

	(void)state;
	assert_int_equal(sl_cfg_split_kv("'a'b c", 0, &kv), -SL_EINVAL);
	assert_int_equal(sl_cfg_split_kv("", 0, &kv), -SL_EINVAL);
	assert_null(kv.key);
	assert_int_equal(sl_cfg_split_kv(" a  'b' ", 0, &kv), 0);
	assert_string_equal(kv.key, "a");
	assert_string_equal(kv.value, "b");
	free(kv.key);
	free(kv.value);
}

/* ---- help -----------------------------------------------------------------
 */

static void help_prints_aligned_lines_without_ignored(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	char *port, *name;

	(void)state;
	assert_non_null(out);
	sl_cfgmap_help(map, out);
	fclose(out);
	assert_null(strstr(text, "Daemon"));
	port = strstr(text, "  Port ");
	name = strstr(text, "  Name ");
	assert_non_null(port);
	assert_non_null(name);
	assert_non_null(strstr(port, "[2020]"));
	assert_non_null(strstr(text, "rdkafka.*"));
	/* descriptions start in the same column */
	assert_int_equal(strstr(port, "TCP port") - port,
			 strstr(name, "a name") - name);
	free(text);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(defaults_fill_unset_options),
	    T(entries_override_defaults_case_insensitively),
	    T(unknown_option_is_an_error_with_location),
	    T(unknown_option_far_from_any_gets_no_suggestion),
	    T(empty_value_of_an_option_with_a_default_is_an_error),
	    T(empty_value_of_a_required_option_is_an_error),
	    T(skipped_keys_are_not_checked),
	    T(repeated_option_is_an_error),
	    T(multi_option_keeps_every_line_with_location),
	    T(out_of_range_value_is_an_error),
	    T(range_bounds_are_inclusive),
	    T(bad_value_names_expected_type),
	    T(missing_required_option_is_reported_at_section),
	    T(keys_are_looked_up_in_every_target),
	    T(ignored_option_is_validated_but_not_stored),
	    T(ignored_option_still_rejects_bad_values),
	    T(prefix_options_collect_suffix_and_value),
	    T(ignored_prefix_options_are_accepted_and_not_stored),
	    T(release_frees_and_zeroes),
	    T(kv_options_are_split_once_with_location),
	    T(kv_without_value_is_an_error_in_the_options_words),
	    cmocka_unit_test(bools_accept_fluent_bit_words_only),
	    cmocka_unit_test(sizes_use_decimal_suffixes),
	    cmocka_unit_test(ints_must_be_whole_numbers),
	    cmocka_unit_test(times_take_seconds_with_suffixes),
	    cmocka_unit_test(doubles_reject_non_numbers),
	    cmocka_unit_test(split_pair_splits_at_first_blank_run),
	    cmocka_unit_test(split_kv_leaves_its_output_alone_on_error),
	    cmocka_unit_test(help_prints_aligned_lines_without_ignored),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
