/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_record.c - records: the lazy line fast path, borrowed and repaired
 * JSON bodies, edits that keep the body valid JSON, the double buffer,
 * repeated keys, and record ids.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* cmocka needs the headers above first */
#include <cmocka.h>

#include "sl_record.h"

#define S(lit) (lit), (sizeof(lit) - 1)

static struct sl_record rec;
static struct sl_text scratch;

static int setup(void **state)
{
	(void)state;
	sl_record_init(&rec);
	memset(&scratch, 0, sizeof(scratch));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sl_record_destroy(&rec);
	free(scratch.buf);
	return 0;
}

static void assert_body(const char *want)
{
	struct sl_view v = {0};
	size_t len;
	const char *b = sl_record_body(&rec, &len);

	assert_non_null(b);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(b, want, len);
	/* every body a record holds is a valid JSON object */
	assert_int_equal(sl_view_build(&v, b, len), 0);
	assert_true(sl_utf8_valid(b, len));
	sl_view_destroy(&v);
}

static void assert_text(const char *spec, const char *want)
{
	const char *err = NULL, *t;
	struct sl_accessor *acc = sl_accessor_create(spec, &err);
	size_t len;

	assert_non_null(acc);
	assert_int_equal(sl_record_get_text(&rec, acc, &scratch, &t, &len), 0);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(t, want, len);
	sl_accessor_destroy(acc);
}

static void json(const char *text)
{
	assert_int_equal(sl_record_reset_json(&rec, 42, text, strlen(text)), 0);
}

static void lazy_line_text_is_the_line_itself(void **state)
{
	const char line[] = "{\"msg\":\"hi\"}";
	const char *err, *t;
	struct sl_accessor *acc = sl_accessor_create("log", &err);
	size_t len;

	(void)state;
	sl_record_reset_line(&rec, 7, S("log"), S(line));
	assert_int_equal(sl_record_get_text(&rec, acc, &scratch, &t, &len), 0);
	assert_ptr_equal(t, line);
	assert_int_equal(len, sizeof(line) - 1);
	assert_true(rec.lazy); /* no body was built */
	assert_int_equal(sl_record_time(&rec), 7);
	sl_accessor_destroy(acc);
}

static void lazy_line_other_key_is_absent_without_a_body(void **state)
{
	const char *err;
	struct sl_accessor *acc = sl_accessor_create("$msg", &err);
	struct sl_value v;

	(void)state;
	sl_record_reset_line(&rec, 7, S("log"), S("text"));
	assert_int_equal(sl_record_get(&rec, acc, &v), -SL_ENOENT);
	assert_int_equal(v.type, SL_VAL_NONE);
	assert_true(rec.lazy);
	sl_accessor_destroy(acc);
}

static void lazy_line_body_is_escaped_json(void **state)
{
	(void)state;
	sl_record_reset_line(&rec, 7, S("log"), S("say \"hi\"\tnow \xC0"));
	assert_body("{\"log\":\"say \\\"hi\\\"\\tnow \xEF\xBF\xBD\"}");
	assert_true(rec.flags & SL_REC_REPAIRED);
	assert_text("log", "say \"hi\"\tnow \xEF\xBF\xBD");
}

static void json_body_is_borrowed_when_valid(void **state)
{
	const char text[] = "{\"a\":1}";
	size_t len;

	(void)state;
	assert_int_equal(sl_record_reset_json(&rec, 1, S(text)), 0);
	assert_ptr_equal(sl_record_body(&rec, &len), text);
	assert_int_equal(rec.flags, 0);
}

static void json_that_is_no_object_leaves_an_empty_record(void **state)
{
	(void)state;
	json("{\"a\":1}");
	assert_int_equal(sl_record_reset_json(&rec, 1, S("[1,2]")), -SL_EPARSE);
	assert_body("{}");
	assert_int_equal(sl_record_reset_json(&rec, 1, S("not json")),
			 -SL_EPARSE);
	assert_body("{}");
}

static void invalid_utf8_is_repaired_and_flagged(void **state)
{
	(void)state;
	json("{\"a\":\"x\xED\xA0\x80y\"}");
	assert_body("{\"a\":\"x\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDy\"}");
	assert_true(rec.flags & SL_REC_REPAIRED);
}

static void set_replaces_an_existing_value_in_place(void **state)
{
	(void)state;
	json("{\"a\":1, \"b\":{\"c\":2}, \"d\":3}");
	assert_int_equal(sl_record_set(&rec, S("b"), S("[true]")), 0);
	assert_body("{\"a\":1, \"b\":[true], \"d\":3}");
}

static void set_appends_a_new_key(void **state)
{
	(void)state;
	json("{\"a\":1 }");
	assert_int_equal(sl_record_set(&rec, S("new"), S("null")), 0);
	assert_body("{\"a\":1,\"new\":null }");
	json("{ }");
	assert_int_equal(sl_record_set(&rec, S("k"), S("2")), 0);
	assert_body("{\"k\":2 }");
}

static void set_string_escapes_key_and_value(void **state)
{
	(void)state;
	json("{}");
	assert_int_equal(sl_record_set_string(&rec, S("k\"1"), S("v\n\"")), 0);
	assert_body("{\"k\\\"1\":\"v\\n\\\"\"}");
	assert_text("k\"1", "v\n\"");
}

static void set_string_may_copy_from_the_record(void **state)
{
	const char *t;
	size_t len;
	const char *err;
	struct sl_accessor *acc = sl_accessor_create("src", &err);

	(void)state;
	json("{\"src\":\"hello\"}");
	assert_int_equal(sl_record_get_text(&rec, acc, &scratch, &t, &len), 0);
	/* t points into the body the edit reads */
	assert_int_equal(sl_record_set_string(&rec, S("dst"), t, len), 0);
	assert_body("{\"src\":\"hello\",\"dst\":\"hello\"}");
	sl_accessor_destroy(acc);
}

static void remove_keeps_separators_valid(void **state)
{
	(void)state;
	json("{\"a\":1, \"b\":2, \"c\":3}");
	assert_int_equal(sl_record_remove(&rec, S("a")), 0);
	assert_body("{\"b\":2, \"c\":3}");
	assert_int_equal(sl_record_remove(&rec, S("c")), 0);
	assert_body("{\"b\":2}");
	assert_int_equal(sl_record_remove(&rec, S("b")), 0);
	assert_body("{}");
	assert_int_equal(sl_record_remove(&rec, S("b")), -SL_ENOENT);
}

static void remove_from_the_middle(void **state)
{
	(void)state;
	json("{\"a\":1,\"b\":{\"x\":[1]},\"c\":3}");
	assert_int_equal(sl_record_remove(&rec, S("b")), 0);
	assert_body("{\"a\":1,\"c\":3}");
}

static void rename_changes_only_the_key(void **state)
{
	(void)state;
	json("{\"a\":1,\"b\":\"v\"}");
	assert_int_equal(sl_record_rename(&rec, S("b"), S("n\tew")), 0);
	assert_body("{\"a\":1,\"n\\tew\":\"v\"}");
	assert_text("n\tew", "v");
	assert_int_equal(sl_record_rename(&rec, S("zz"), S("y")), -SL_ENOENT);
}

static void edits_find_escaped_keys(void **state)
{
	(void)state;
	json("{\"\\u0061\":1,\"b\":2}");
	assert_int_equal(sl_record_set(&rec, S("a"), S("9")), 0);
	assert_body("{\"\\u0061\":9,\"b\":2}");
	assert_int_equal(sl_record_remove(&rec, S("a")), 0);
	assert_body("{\"b\":2}");
}

static void repeated_keys_read_last_and_edit_all(void **state)
{
	(void)state;
	json("{\"a\":1,\"b\":2,\"a\":3}");
	assert_text("a", "3");
	assert_int_equal(sl_record_set(&rec, S("a"), S("7")), 0);
	assert_body("{\"a\":7,\"b\":2,\"a\":7}");
	assert_int_equal(sl_record_remove(&rec, S("a")), 0);
	assert_body("{\"b\":2}");
}

static void edits_on_a_lazy_record_build_its_body(void **state)
{
	(void)state;
	sl_record_reset_line(&rec, 1, S("log"), S("line"));
	assert_int_equal(sl_record_set_string(&rec, S("k"), S("v")), 0);
	assert_body("{\"log\":\"line\",\"k\":\"v\"}");
	sl_record_reset_line(&rec, 1, S("log"), S("line"));
	assert_int_equal(sl_record_remove(&rec, S("log")), 0);
	assert_body("{}");
}

static void replace_json_may_read_the_record_itself(void **state)
{
	struct sl_value v;
	const char *err;
	struct sl_accessor *acc = sl_accessor_create("$inner", &err);

	(void)state;
	json("{\"inner\":{\"x\":1,\"y\":[2]},\"z\":0}");
	assert_int_equal(sl_record_set(&rec, S("z"), S("5")), 0);
	/* the sub-object lives in the record's own buffer */
	assert_int_equal(sl_record_get(&rec, acc, &v), 0);
	assert_int_equal(sl_record_replace_json(&rec, v.raw, v.raw_len), 0);
	assert_body("{\"x\":1,\"y\":[2]}");
	assert_int_equal(sl_record_time(&rec), 42);
	sl_accessor_destroy(acc);
}

static void replace_json_failure_keeps_the_record(void **state)
{
	(void)state;
	json("{\"a\":1}");
	sl_record_flag_parse_error(&rec);
	assert_int_equal(sl_record_replace_json(&rec, S("{\"a\":")),
			 -SL_EPARSE);
	assert_body("{\"a\":1}");
	assert_text("a", "1");
	assert_true(rec.flags & SL_REC_PARSE_ERROR);
}

static void set_body_copies_the_text(void **state)
{
	char text[] = "{\"a\":\"b\"}";

	(void)state;
	assert_int_equal(sl_record_set_body(&rec, S(text)), 0);
	text[6] = 'X';
	assert_body("{\"a\":\"b\"}");
	assert_text("a", "b");
}

static void next_field_walks_top_level_fields(void **state)
{
	const char *key;
	size_t key_len, pos = 0;
	struct sl_value v;

	(void)state;
	json("{\"a\":{\"n\":1},\"t\\tk\":\"s\",\"c\":[1]}");
	assert_int_equal(
	    sl_record_next_field(&rec, &pos, &scratch, &key, &key_len, &v), 1);
	assert_memory_equal(key, "a", key_len);
	assert_int_equal(v.type, SL_VAL_OBJECT);
	assert_int_equal(v.raw_len, 7);
	assert_int_equal(
	    sl_record_next_field(&rec, &pos, &scratch, &key, &key_len, &v), 1);
	assert_int_equal(key_len, 3);
	assert_memory_equal(key, "t\tk", 3);
	assert_int_equal(v.type, SL_VAL_STRING);
	assert_int_equal(
	    sl_record_next_field(&rec, &pos, &scratch, &key, &key_len, &v), 1);
	assert_memory_equal(v.raw, "[1]", 3);
	assert_int_equal(
	    sl_record_next_field(&rec, &pos, &scratch, &key, &key_len, &v), 0);
}

static void steady_state_reuses_buffers(void **state)
{
	const char *a = "{\"k\":\"v\",\"n\":[1,2,3]}";
	char *own0, *own1;

	(void)state;
	json(a);
	assert_int_equal(sl_record_set(&rec, S("x"), S("1")), 0);
	assert_int_equal(sl_record_set(&rec, S("y"), S("2")), 0);
	own0 = rec.own[0].data;
	own1 = rec.own[1].data;
	for (int i = 0; i < 50; i++) {
		json(a);
		assert_int_equal(sl_record_set(&rec, S("x"), S("1")), 0);
		assert_int_equal(sl_record_set(&rec, S("y"), S("2")), 0);
	}
	assert_ptr_equal(rec.own[0].data, own0);
	assert_ptr_equal(rec.own[1].data, own1);
	assert_body("{\"k\":\"v\",\"n\":[1,2,3],\"x\":1,\"y\":2}");
}

/* Record identity: what a re-read after a crash must find again. */
static void identity_follows_origin_and_time_source(void **state)
{
	uint64_t a, b;

	(void)state;
	/* no origin: 0, "the timestamp is stable, use it" */
	sl_record_reset_line(&rec, 100, S("log"), S("x"));
	assert_int_equal(sl_record_identity(&rec), 0);
	sl_record_set_time(&rec, 5);
	assert_int_equal(sl_record_identity(&rec), 0);

	/* read time: the origin alone, whatever the time read at */
	sl_record_reset_line(&rec, 100, S("log"), S("x"));
	sl_record_set_origin(&rec, 77);
	a = sl_record_identity(&rec);
	assert_int_equal(a, 77);
	sl_record_reset_line(&rec, 999, S("log"), S("x"));
	sl_record_set_origin(&rec, 77);
	assert_int_equal(sl_record_identity(&rec), a);

	/* a time from the log (a parser) is part of it: same log time, same
	 * identity; another log time at the same place is another record */
	assert_int_equal(sl_record_reset_json(&rec, 1, S("{\"t\":1}")), 0);
	sl_record_set_origin(&rec, 77);
	sl_record_set_time(&rec, 5000);
	assert_true(rec.flags & SL_REC_TIME_FROM_LOG);
	b = sl_record_identity(&rec);
	assert_int_not_equal(b, 0);
	assert_int_not_equal(b, a);
	assert_int_equal(sl_record_reset_json(&rec, 2, S("{\"t\":1}")), 0);
	assert_false(rec.flags & SL_REC_TIME_FROM_LOG); /* reset clears it */
	assert_int_equal(sl_record_identity(&rec), 0);	/* and the origin */
	sl_record_set_origin(&rec, 77);
	sl_record_set_time(&rec, 5000);
	assert_int_equal(sl_record_identity(&rec), b);
	sl_record_set_time(&rec, 5001);
	assert_int_not_equal(sl_record_identity(&rec), b);

	/* edits keep the origin and the flag */
	assert_int_equal(sl_record_set(&rec, S("k"), S("1")), 0);
	sl_record_set_time(&rec, 5000);
	assert_int_equal(sl_record_identity(&rec), b);
}

static void identity_mix_is_stable_and_never_zero(void **state)
{
	(void)state;
	assert_int_equal(sl_identity_mix(1, 2), sl_identity_mix(1, 2));
	assert_int_not_equal(sl_identity_mix(1, 2), sl_identity_mix(2, 1));
	assert_int_not_equal(sl_identity_mix(1, 2), sl_identity_mix(1, 3));
	for (uint64_t i = 0; i < 100000; i++)
		assert_int_not_equal(sl_identity_mix(0, i), 0);
}

/*
 * Ids are the dedup identity of documents already stored (ES _id, kafka
 * sluice-id): these values, computed independently (Python hashlib:
 * sha256(b'I' + identity.to_bytes(8, 'little') + body), or the time as a
 * signed 8-byte little-endian integer without the 'I'), must never change.
 */
static void id_hex_is_pinned(void **state)
{
	char big[1009], out[SL_RECORD_ID_HEX + 1];

	(void)state;
	assert_int_equal(sl_record_id_hex(INT64_C(1700000000123456789), 0,
					  S("{\"a\":1}"), out),
			 0);
	assert_string_equal(out, "31bbd0850ba400ddf6feff24dbe778d1");
	assert_int_equal(sl_record_id_hex(INT64_C(1700000000123456789), 42,
					  S("{\"a\":1}"), out),
			 0);
	assert_string_equal(out, "64407fdebdec3ec4d392c70ec658069d");
	/* the time does not count once there is an identity */
	assert_int_equal(sl_record_id_hex(5, 42, S("{\"a\":1}"), out), 0);
	assert_string_equal(out, "64407fdebdec3ec4d392c70ec658069d");
	assert_int_equal(
	    sl_record_id_hex(0, UINT64_C(0x8000000000000001), S("{}"), out), 0);
	assert_string_equal(out, "7ca8cd2913e299733f9cba716df1ead1");
	assert_int_equal(sl_record_id_hex(-1, 0, "", 0, out), 0);
	assert_string_equal(out, "12a3ae445661ce5dee78d0650d33362d");
	/* a body of several SHA-256 blocks */
	memcpy(big, "{\"k\":\"", 6);
	memset(big + 6, 'x', 1000);
	memcpy(big + 1006, "\"}", 3);
	assert_int_equal(sl_record_id_hex(0, 77, big, 1008, out), 0);
	assert_string_equal(out, "a12edc3e9d973e230f3d86fb642b4420");
	/* a reused hashing state starts clean: the first id again */
	assert_int_equal(sl_record_id_hex(INT64_C(1700000000123456789), 0,
					  S("{\"a\":1}"), out),
			 0);
	assert_string_equal(out, "31bbd0850ba400ddf6feff24dbe778d1");
}

#define ID_THREADS 4
#define ID_RECORDS 512
#define ID_ROUNDS  8

static char id_want[ID_RECORDS][SL_RECORD_ID_HEX + 1];

/* Record i: time i, an identity on two of three, body {"n":i}. */
static int id_of(int i, char out[SL_RECORD_ID_HEX + 1])
{
	char body[32];
	int n = snprintf(body, sizeof(body), "{\"n\":%d}", i);

	return sl_record_id_hex(i, i % 3 ? (uint64_t)i << 20 : 0, body,
				(size_t)n, out);
}

static void *id_worker(void *arg)
{
	char out[SL_RECORD_ID_HEX + 1];
	intptr_t bad = 0;

	(void)arg;
	for (int r = 0; r < ID_ROUNDS; r++)
		for (int i = 0; i < ID_RECORDS; i++)
			if (id_of(i, out) < 0 || strcmp(out, id_want[i]) != 0)
				bad++;
	return (void *)bad;
}

/* Output workers are threads sharing the id code: threads hashing at the
 * same time each get the ids the main thread got. */
static void id_hex_agrees_across_threads(void **state)
{
	pthread_t t[ID_THREADS];

	(void)state;
	for (int i = 0; i < ID_RECORDS; i++)
		assert_int_equal(id_of(i, id_want[i]), 0);
	for (int i = 0; i < ID_THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, id_worker, NULL),
				 0);
	for (int i = 0; i < ID_THREADS; i++) {
		void *bad = NULL;

		assert_int_equal(pthread_join(t[i], &bad), 0);
		assert_ptr_equal(bad, NULL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	    T(lazy_line_text_is_the_line_itself),
	    T(lazy_line_other_key_is_absent_without_a_body),
	    T(lazy_line_body_is_escaped_json),
	    T(json_body_is_borrowed_when_valid),
	    T(json_that_is_no_object_leaves_an_empty_record),
	    T(invalid_utf8_is_repaired_and_flagged),
	    T(set_replaces_an_existing_value_in_place),
	    T(set_appends_a_new_key),
	    T(set_string_escapes_key_and_value),
	    T(set_string_may_copy_from_the_record),
	    T(remove_keeps_separators_valid),
	    T(remove_from_the_middle),
	    T(rename_changes_only_the_key),
	    T(edits_find_escaped_keys),
	    T(repeated_keys_read_last_and_edit_all),
	    T(edits_on_a_lazy_record_build_its_body),
	    T(replace_json_may_read_the_record_itself),
	    T(replace_json_failure_keeps_the_record),
	    T(set_body_copies_the_text),
	    T(next_field_walks_top_level_fields),
	    T(steady_state_reuses_buffers),
	    T(identity_follows_origin_and_time_source),
	    T(identity_mix_is_stable_and_never_zero),
	    T(id_hex_is_pinned),
	    T(id_hex_agrees_across_threads),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
