/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_out_file.c - the file output without an engine: exact bytes of each
 * Fluent Bit format, the target path (tags made safe), and appends with and
 * without Mkdir. The flush itself (chunk -> one write) is covered by e2e.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../outputs/file/file_format.h"
#include "sl_output_error.h"

#define TS INT64_C(1700000000123456789)

static struct sl_buf buf;
static struct sl_fields fields;

static int reset(void **state)
{
	(void)state;
	sl_buf_reset(&buf);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sl_buf_destroy(&buf);
	sl_fields_destroy(&fields);
	return 0;
}

static void render(const struct sl_out_file_opts *o, bool *header,
		   const char *body)
{
	assert_int_equal(sl_out_file_render(&buf, o, &fields, header, "app.x",
					    5, TS, body, strlen(body)),
			 0);
}

static void expect(const char *want)
{
	assert_non_null(buf.data);
	assert_string_equal(buf.data, want);
}

static void format_names(void **state)
{
	enum sl_out_file_fmt f;

	(void)state;
	assert_int_equal(sl_out_file_fmt_parse("out_file", &f), 0);
	assert_int_equal(f, SL_OUT_FILE_FMT_OUT_FILE);
	assert_int_equal(sl_out_file_fmt_parse("Plain", &f), 0);
	assert_int_equal(f, SL_OUT_FILE_FMT_PLAIN);
	assert_int_equal(sl_out_file_fmt_parse("json_lines", &f), 0);
	assert_int_equal(f, SL_OUT_FILE_FMT_PLAIN);
	assert_int_equal(sl_out_file_fmt_parse("template", &f), 0);
	assert_int_equal(f, SL_OUT_FILE_FMT_TEMPLATE);
	assert_int_equal(sl_out_file_fmt_parse("msgpack", &f), 0);
	assert_int_equal(f, SL_OUT_FILE_FMT_MSGPACK);
	assert_int_equal(sl_out_file_fmt_parse("xml", &f), -SL_EINVAL);
	assert_string_equal(sl_out_file_delimiter("TAB"), "\t");
	assert_string_equal(sl_out_file_delimiter("\\t"), "\t");
	assert_string_equal(sl_out_file_delimiter("space"), " ");
	assert_string_equal(sl_out_file_delimiter("comma"), ",");
	assert_null(sl_out_file_delimiter(";"));
}

static void out_file_and_plain(void **state)
{
	struct sl_out_file_opts o = {.fmt = SL_OUT_FILE_FMT_OUT_FILE};

	(void)state;
	render(&o, NULL, "{\"a\":1}");
	render(&o, NULL, "{}");
	expect("app.x: [1700000000.123456789, {\"a\":1}]\n"
	       "app.x: [1700000000.123456789, {}]\n");
	sl_buf_reset(&buf);
	o.fmt = SL_OUT_FILE_FMT_PLAIN;
	render(&o, NULL, "{\"a\":1}");
	render(&o, NULL, "{\"b\":\"\\u00e9\"}");
	expect("{\"a\":1}\n{\"b\":\"\\u00e9\"}\n");
}

static void csv(void **state)
{
	struct sl_out_file_opts o = {.fmt = SL_OUT_FILE_FMT_CSV,
				     .delimiter = ","};
	bool header = true;

	(void)state;
	render(&o, NULL, "{\"a\":1,\"b\":\"x y\",\"c\":[true,null]}");
	render(&o, NULL, "{}"); /* nothing, as Fluent Bit */
	expect("1700000000.123456789,1,\"x y\",[true, nil]\n");

	sl_buf_reset(&buf);
	o.csv_column_names = true;
	o.delimiter = "\t";
	render(&o, &header, "{\"a\":1,\"b\":\"x\"}");
	assert_false(header);
	render(&o, &header, "{\"a\":2,\"b\":\"y\"}");
	expect("timestamp\t\"a\"\t\"b\"\n"
	       "1700000000.123456789\t1\t\"x\"\n"
	       "1700000000.123456789\t2\t\"y\"\n");
}

static void ltsv(void **state)
{
	struct sl_out_file_opts o = {.fmt = SL_OUT_FILE_FMT_LTSV,
				     .delimiter = "\t",
				     .label_delimiter = ":"};

	(void)state;
	render(&o, NULL, "{\"a\":1,\"msg\":\"hi\",\"o\":{\"k\":2.5}}");
	render(&o, NULL, "{}");
	expect("\"time\":1700000000.123457\t\"a\":1\t\"msg\":\"hi\"\t"
	       "\"o\":{\"k\"=>2.500000}\n");
}

static void template(void **state)
{
	struct sl_out_file_opts o = {.fmt = SL_OUT_FILE_FMT_TEMPLATE,
				     .template = "{time} {message}"};

	(void)state;
	render(&o, NULL, "{\"message\":\"a \\\"q\\\"\",\"n\":3}");
	expect("1700000000.123457 a \"q\"\n");

	sl_buf_reset(&buf);
	o.template = "n={n} o={o} miss={nope} {a{n}} } {open";
	render(&o, NULL, "{\"n\":3,\"o\":{\"x\":null}}");
	expect("n=3 o={\"x\"=>nil} miss={nope} {a3} } {open\n");
}

static void path_from_path_file_and_tag(void **state)
{
	(void)state;
	assert_int_equal(sl_out_file_path(&buf, "/var/log", "out.log", "t", 1),
			 0);
	expect("/var/log/out.log");
	assert_int_equal(sl_out_file_path(&buf, "/var/log/", NULL, "app.x", 5),
			 0);
	expect("/var/log/app.x");
	assert_int_equal(sl_out_file_path(&buf, NULL, "rel.log", "t", 1), 0);
	expect("rel.log");
	assert_int_equal(
	    sl_out_file_path(&buf, "/o", NULL, "../a/./b c//d\\e", 15), 0);
	expect("/o/_/a/_/b_c/d/e");
	assert_int_equal(sl_out_file_path(&buf, "/o", NULL, "//", 2), 0);
	expect("/o/_");
	assert_int_equal(sl_out_file_path(&buf, NULL, NULL, "k8s.*x", 6), 0);
	expect("k8s._x");
}

/* A tag-derived name over NAME_MAX is shortened (with a hash), so it can
 * be created; the target never leaves Path. */
static void long_and_hostile_tags_stay_under_path(void **state)
{
	char tag[300];
	const char *name;

	(void)state;
	memset(tag, 'p', sizeof(tag));
	assert_int_equal(sl_out_file_path(&buf, "/o", NULL, tag, sizeof(tag)),
			 0);
	assert_memory_equal(buf.data, "/o/", 3);
	name = buf.data + 3;
	assert_int_equal(strlen(name), 255);
	assert_null(strchr(name, '/'));
	assert_int_equal(
	    sl_out_file_path(&buf, "/o", NULL, "..\\..\\etc\r\n\0x", 13), 0);
	expect("/o/_/_/etc___x");
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *s = calloc(1, 4096);

	assert_non_null(f);
	assert_non_null(s);
	assert_true(fread(s, 1, 4095, f) < 4095);
	fclose(f);
	return s;
}

static void append_creates_appends_and_mkdirs(void **state)
{
	char dir[] = "/tmp/sl_test_out_file_XXXXXX";
	char target[256], deep[256];
	char *s;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(target, sizeof(target), "%s/a.log", dir);
	assert_int_equal(sl_out_file_append(target, false, "one\n", 4), 0);
	assert_int_equal(sl_out_file_append(target, false, "two\n", 4), 0);
	s = slurp(target);
	assert_string_equal(s, "one\ntwo\n");
	free(s);

	snprintf(deep, sizeof(deep), "%s/x/y/b.log", dir);
	assert_int_equal(sl_out_file_append(deep, false, "z", 1), -SL_EIO);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(sl_out_file_append(deep, true, "z", 1), 0);
	s = slurp(deep);
	assert_string_equal(s, "z");
	free(s);

	/* A file where a directory should be: an error, not a crash, and
	 * one a retry cannot fix. */
	snprintf(deep, sizeof(deep), "%s/a.log/c.log", dir);
	assert_int_equal(sl_out_file_append(deep, true, "z", 1), -SL_EIO);
	assert_int_equal(errno, ENOTDIR);
	assert_true(sl_output_errno_permanent(errno));
	/* A directory where the file should be: EISDIR, permanent too. */
	snprintf(deep, sizeof(deep), "%s/x", dir);
	assert_int_equal(sl_out_file_append(deep, false, "z", 1), -SL_EIO);
	assert_int_equal(errno, EISDIR);
	assert_true(sl_output_errno_permanent(errno));

	unlink(target);
	snprintf(deep, sizeof(deep), "%s/x/y/b.log", dir);
	unlink(deep);
	snprintf(deep, sizeof(deep), "%s/x/y", dir);
	rmdir(deep);
	snprintf(deep, sizeof(deep), "%s/x", dir);
	rmdir(deep);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(format_names, reset),
	    cmocka_unit_test_setup(out_file_and_plain, reset),
	    cmocka_unit_test_setup(csv, reset),
	    cmocka_unit_test_setup(ltsv, reset),
	    cmocka_unit_test_setup(template, reset),
	    cmocka_unit_test_setup(path_from_path_file_and_tag, reset),
	    cmocka_unit_test_setup(long_and_hostile_tags_stay_under_path,
				   reset),
	    cmocka_unit_test_setup(append_creates_appends_and_mkdirs, reset),
	};
	return cmocka_run_group_tests(tests, NULL, teardown);
}
