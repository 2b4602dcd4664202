/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_jsontestsuite.c - every file of JSONTestSuite's test_parsing/ (copied
 * under tests/conformance/json/) through sl_record_reset_json: objects
 * become records, everything else is refused, and whatever is accepted
 * stays valid UTF-8. The verdicts come from expectations.json.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>
/* cmocka needs the headers above first */
#include <cmocka.h>

#include "sl_record.h"

#define CORPUS SL_SOURCE_ROOT "/tests/conformance/json"

static yajl_val expectations;
static yajl_val files; /* the "files" object: name -> expectation */

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

static int setup(void **state)
{
	static const char *path[] = {"files", NULL};
	char err[256];
	size_t len;
	char *text;

	(void)state;
	text = slurp(CORPUS "/expectations.json", &len);
	expectations = yajl_tree_parse(text, err, sizeof(err));
	free(text);
	if (!expectations)
		return -1;
	files = yajl_tree_get(expectations, path, yajl_t_object);
	return files ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	yajl_tree_free(expectations);
	return 0;
}

/* The "record" verdict: 1 true, 0 false, -1 null (either way). */
static int record_verdict(yajl_val e)
{
	static const char *path[] = {"record", NULL};
	yajl_val r = yajl_tree_get(e, path, yajl_t_any);

	assert_non_null(r);
	if (YAJL_IS_TRUE(r))
		return 1;
	if (YAJL_IS_FALSE(r))
		return 0;
	return -1;
}

/* Every key and string value of an accepted record is valid UTF-8. */
static void assert_fields_valid(struct sl_record *rec)
{
	struct sl_text scratch = {0};
	struct sl_value v;
	const char *key;
	size_t key_len, pos = 0;
	int rc;

	while ((rc = sl_record_next_field(rec, &pos, &scratch, &key, &key_len,
					  &v)) == 1)
		assert_true(sl_utf8_valid(key, key_len));
	assert_int_equal(rc, 0);
	free(scratch.buf);
}

/*
 * Runs every file whose verdict is `want` and returns how many there were.
 * A file is fed whole, as one document.
 */
static size_t run_class(int want)
{
	struct sl_record rec;
	size_t ran = 0;

	sl_record_init(&rec);
	for (size_t i = 0; i < files->u.object.len; i++) {
		const char *name = files->u.object.keys[i];
		char path[512];
		const char *body;
		size_t len, blen;
		char *text;
		int rc;

		if (record_verdict(files->u.object.values[i]) != want)
			continue;
		snprintf(path, sizeof(path), CORPUS "/test_parsing/%s", name);
		text = slurp(path, &len);
		rc = sl_record_reset_json(&rec, 1, text, len);
		if (want == 1 && rc != 0)
			fail_msg("%s: a record was expected, got %d", name, rc);
		if (want == 0 && rc != -SL_EPARSE && rc != -SL_ETOOBIG)
			fail_msg("%s: must not be a record, got %d", name, rc);
		if (rc == 0) {
			body = sl_record_body(&rec, &blen);
			assert_non_null(body);
			if (!sl_utf8_valid(body, blen))
				fail_msg("%s: body is not valid UTF-8", name);
			assert_fields_valid(&rec);
		}
		free(text);
		ran++;
	}
	sl_record_destroy(&rec);
	return ran;
}

static void objects_become_records(void **state)
{
	(void)state;
	assert_int_equal(run_class(1), 12);
}

static void everything_else_is_refused(void **state)
{
	(void)state;
	assert_int_equal(run_class(0), 188 + 83);
}

static void implementation_defined_stay_valid_utf8(void **state)
{
	(void)state;
	assert_int_equal(run_class(-1), 35);
}

static int reset_file(struct sl_record *rec, const char *name)
{
	char path[512];
	size_t len;
	char *text;
	int rc;

	snprintf(path, sizeof(path), CORPUS "/test_parsing/%s", name);
	text = slurp(path, &len);
	rc = sl_record_replace_json(rec, text, len); /* copies: text freed */
	free(text);
	return rc;
}

static void duplicate_key_reads_the_last_value(void **state)
{
	struct sl_record rec;
	struct sl_text scratch = {0};
	const char *err, *t;
	struct sl_accessor *acc = sl_accessor_create("a", &err);
	size_t len;

	(void)state;
	sl_record_init(&rec);
	assert_int_equal(reset_file(&rec, "y_object_duplicated_key.json"), 0);
	assert_int_equal(sl_record_get_text(&rec, acc, &scratch, &t, &len), 0);
	assert_int_equal(len, 1);
	assert_memory_equal(t, "c", 1);
	sl_accessor_destroy(acc);
	sl_record_destroy(&rec);
	free(scratch.buf);
}

static void lone_surrogate_key_reads_as_replacement(void **state)
{
	struct sl_record rec;
	struct sl_text scratch = {0};
	struct sl_value v;
	const char *key;
	size_t key_len, pos = 0;

	(void)state;
	sl_record_init(&rec);
	assert_int_equal(
	    reset_file(&rec, "i_object_key_lone_2nd_surrogate.json"), 0);
	assert_int_equal(
	    sl_record_next_field(&rec, &pos, &scratch, &key, &key_len, &v), 1);
	assert_int_equal(key_len, 3);
	assert_memory_equal(key, "\xEF\xBF\xBD", 3);
	sl_record_destroy(&rec);
	free(scratch.buf);
}

/* Decision: a UTF-8 byte order mark is not white space; the line is not a
 * record (it is kept as text by the parser filter, like any other). */
static void byte_order_mark_is_refused(void **state)
{
	struct sl_record rec;

	(void)state;
	sl_record_init(&rec);
	assert_int_equal(
	    reset_file(&rec, "i_structure_UTF-8_BOM_empty_object.json"),
	    -SL_EPARSE);
	sl_record_destroy(&rec);
}

static void hostile_nesting_hits_the_depth_limit(void **state)
{
	struct sl_record rec;
	struct sl_buf doc = {0};
	char path[512];
	size_t len;
	char *text;

	(void)state;
	/* 100,000 '[' behind an object key: refused by depth, not by type */
	snprintf(path, sizeof(path), CORPUS "/test_parsing/%s",
		 "n_structure_100000_opening_arrays.json");
	text = slurp(path, &len);
	assert_int_equal(sl_buf_append(&doc, "{\"a\":", 5), 0);
	assert_int_equal(sl_buf_append(&doc, text, len), 0);
	sl_record_init(&rec);
	assert_int_equal(sl_record_reset_json(&rec, 1, doc.data, doc.len),
			 -SL_ETOOBIG);
	sl_record_destroy(&rec);
	sl_buf_destroy(&doc);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(objects_become_records),
	    cmocka_unit_test(everything_else_is_refused),
	    cmocka_unit_test(implementation_defined_stay_valid_utf8),
	    cmocka_unit_test(duplicate_key_reads_the_last_value),
	    cmocka_unit_test(lone_surrogate_key_reads_as_replacement),
	    cmocka_unit_test(byte_order_mark_is_refused),
	    cmocka_unit_test(hostile_nesting_hits_the_depth_limit),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
