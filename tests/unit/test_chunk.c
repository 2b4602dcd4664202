/* SPDX-License-Identifier: Apache-2.0 */
/* test_chunk.c - records (time, identity, body) go into a chunk and come
 * back out unchanged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "sl_chunk.h"

static void records_round_trip_in_order(void **state)
{
	struct sl_chunk *c = sl_chunk_create(NULL, "app.log", 7);
	struct sl_chunk_iter it;
	const char *body;
	size_t len;
	int64_t ts;

	(void)state;
	assert_non_null(c);
	assert_string_equal(c->tag, "app.log");
	assert_int_equal(sl_chunk_append(c, 11, "{\"a\":1}", 7), 0);
	assert_int_equal(sl_chunk_append(c, 22, "{}", 2), 0);
	/* a body with a NUL inside keeps its length */
	assert_int_equal(sl_chunk_append(c, 33, "{\"k\":\"\\u0000\"}\0x", 16),
			 0);
	assert_int_equal(c->records, 3);

	sl_chunk_iter_init(&it, c);
	assert_int_equal(sl_chunk_next(&it, &ts, &body, &len), 1);
	assert_int_equal(ts, 11);
	assert_int_equal(len, 7);
	assert_memory_equal(body, "{\"a\":1}", 7);
	assert_int_equal(sl_chunk_next(&it, &ts, &body, &len), 1);
	assert_int_equal(ts, 22);
	assert_int_equal(sl_chunk_next(&it, &ts, &body, &len), 1);
	assert_int_equal(len, 16);
	assert_int_equal(body[15], 'x');
	assert_int_equal(sl_chunk_next(&it, &ts, &body, &len), 0);
	assert_int_equal(it.index, 3);
	sl_chunk_destroy(c);
}

static void sealed_chunk_refuses_appends(void **state)
{
	struct sl_chunk *c = sl_chunk_create(NULL, "t", 1);

	(void)state;
	assert_int_equal(sl_chunk_append(c, 1, "{}", 2), 0);
	c->sealed = true;
	assert_int_equal(sl_chunk_append(c, 1, "{}", 2), -SL_EINVAL);
	assert_int_equal(c->records, 1);
	assert_true(sl_chunk_size(c) >= c->data.len);
	sl_chunk_destroy(c);
	sl_chunk_destroy(NULL);
}

static void identity_round_trips(void **state)
{
	struct sl_chunk *c = sl_chunk_create(NULL, "t", 1);
	struct sl_chunk_iter it;
	const char *body;
	uint64_t id;
	size_t len;
	int64_t ts;

	(void)state;
	assert_non_null(c);
	assert_int_equal(sl_chunk_append_id(c, 5, UINT64_MAX - 1, "{}", 2), 0);
	assert_int_equal(sl_chunk_append(c, 6, "{\"a\":1}", 7), 0);
	assert_int_equal(sl_chunk_append_id(c, -7, 42, "{}", 2), 0);
	assert_int_equal(c->data.len, 3 * SL_CHUNK_RECORD_HEADER + 11);
	sl_chunk_iter_init(&it, c);
	assert_int_equal(sl_chunk_next_id(&it, &ts, &id, &body, &len), 1);
	assert_true(ts == 5 && id == UINT64_MAX - 1 && len == 2);
	/* sl_chunk_next leaves the identity in the iterator */
	assert_int_equal(sl_chunk_next(&it, &ts, &body, &len), 1);
	assert_true(ts == 6 && it.identity == 0 && len == 7);
	assert_memory_equal(body, "{\"a\":1}", 7);
	assert_int_equal(sl_chunk_next_id(&it, &ts, &id, &body, &len), 1);
	assert_true(ts == -7 && id == 42 && len == 2);
	assert_int_equal(sl_chunk_next_id(&it, &ts, &id, &body, &len), 0);
	sl_chunk_destroy(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(records_round_trip_in_order),
	    cmocka_unit_test(sealed_chunk_refuses_appends),
	    cmocka_unit_test(identity_round_trips),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
