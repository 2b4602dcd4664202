/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_loki_proto.c - Format protobuf's body without HTTP: a JSON push body
 * to the snappy-compressed logproto.PushRequest. The exact wire bytes of a
 * small request (Loki's field numbers, written out by hand here), the label
 * string's escaping, string unescaping (NUL, surrogate pairs), timestamps
 * split into seconds and nanos (before 1970 too), metadata pairs, scratch
 * reuse, the encoder's own output carried over entry for entry, and every
 * malformed or truncated body refused with the output left alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>

#include "../../outputs/loki/loki.h"
#include "../../outputs/loki/loki_proto.h"

struct fx {
	struct loki_proto p;
	struct sl_buf out;
	char *plain; /* the last body, uncompressed */
	size_t plain_len;
	Sluice__Loki__PushRequest *req;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	loki_proto_init(&f->p);
	*state = f;
	return 0;
}

static void release(struct fx *f)
{
	if (f->req)
		sluice__loki__push_request__free_unpacked(f->req, NULL);
	f->req = NULL;
	free(f->plain);
	f->plain = NULL;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	release(f);
	loki_proto_destroy(&f->p);
	loki_proto_destroy(&f->p); /* idempotent */
	sl_buf_destroy(&f->out);
	free(f);
	return 0;
}

/* Encodes `json`, un-snappies and unpacks the result into f->req. */
static const Sluice__Loki__PushRequest *encode(struct fx *f, const char *json)
{
	release(f);
	sl_buf_reset(&f->out);
	assert_int_equal(loki_proto_encode(&f->p, json, strlen(json), &f->out),
			 0);
	assert_int_equal(
	    snappy_validate_compressed_buffer(f->out.data, f->out.len),
	    SNAPPY_OK);
	assert_int_equal(
	    snappy_uncompressed_length(f->out.data, f->out.len, &f->plain_len),
	    SNAPPY_OK);
	f->plain = malloc(f->plain_len + 1);
	assert_non_null(f->plain);
	assert_int_equal(
	    snappy_uncompress(f->out.data, f->out.len, f->plain, &f->plain_len),
	    SNAPPY_OK);
	f->req = sluice__loki__push_request__unpack(NULL, f->plain_len,
						    (uint8_t *)f->plain);
	assert_non_null(f->req);
	return f->req;
}

static void assert_bytes(ProtobufCBinaryData b, const char *want, size_t len)
{
	assert_int_equal(b.len, len);
	if (len)
		assert_memory_equal(b.data, want, len);
}
#define ASSERT_STR(b, s) assert_bytes((b), (s), sizeof(s) - 1)

/* The field numbers and wire types of Loki's push.proto, byte for byte. */
static void test_wire_bytes(void **state)
{
	struct fx *f = *state;
	static const unsigned char want[] = {
	    0x0a, 0x14, /* streams (1), 20 bytes */
	    0x0a, 0x07, '{',  'a',  '=',  '"',	'b', '"', '}', /* labels (1) */
	    0x12, 0x09,				/* entries (2), 9 bytes */
	    0x0a, 0x04, 0x08, 0x01, 0x10, 0x02, /* timestamp {1, 2} */
	    0x12, 0x01, 'x',			/* line (2) */
	};

	encode(f, "{\"streams\":[{\"stream\":{\"a\":\"b\"},\"values\":["
		  "[\"1000000002\",\"x\"]]}]}");
	assert_int_equal(f->plain_len, sizeof(want));
	assert_memory_equal(f->plain, want, sizeof(want));
}

static void test_streams_entries_metadata(void **state)
{
	struct fx *f = *state;
	const Sluice__Loki__PushRequest *r = encode(
	    f, "{\"streams\":["
	       "{\"stream\":{\"job\":\"j\",\"app\":\"web\"},\"values\":["
	       "[\"1700000000123456789\",\"l1\",{\"env\":\"prod\",\"t\":\"\"}],"
	       "[\"1700000001000000000\",\"l2\",{}]]},"
	       "{\"values\":[[\"0\",\"\"]],\"stream\":{\"job\":\"k\"}}]}");
	const Sluice__Loki__EntryAdapter *e;

	assert_int_equal(r->n_streams, 2);
	ASSERT_STR(r->streams[0]->labels, "{job=\"j\", app=\"web\"}");
	assert_int_equal(r->streams[0]->n_entries, 2);
	e = r->streams[0]->entries[0];
	assert_int_equal(e->timestamp->seconds, 1700000000);
	assert_int_equal(e->timestamp->nanos, 123456789);
	ASSERT_STR(e->line, "l1");
	assert_int_equal(e->n_structured_metadata, 2);
	ASSERT_STR(e->structured_metadata[0]->name, "env");
	ASSERT_STR(e->structured_metadata[0]->value, "prod");
	ASSERT_STR(e->structured_metadata[1]->name, "t");
	ASSERT_STR(e->structured_metadata[1]->value, "");
	e = r->streams[0]->entries[1];
	assert_int_equal(e->timestamp->seconds, 1700000001);
	assert_int_equal(e->timestamp->nanos, 0);
	assert_int_equal(e->n_structured_metadata, 0);
	ASSERT_STR(r->streams[1]->labels, "{job=\"k\"}");
	assert_int_equal(r->streams[1]->n_entries, 1);
	e = r->streams[1]->entries[0];
	assert_non_null(e->timestamp);
	assert_int_equal(e->timestamp->seconds, 0);
	ASSERT_STR(e->line, "");
}

/* Label values in Loki's double-quoted syntax; lines unescaped from JSON,
 * a NUL byte and a surrogate pair included. */
static void test_escaping(void **state)
{
	struct fx *f = *state;
	const Sluice__Loki__PushRequest *r = encode(
	    f, "{\"streams\":[{\"stream\":{\"v\":\"q\\\"b\\\\t\\tn\\nc\\u0001"
	       "\\u007f\\u00e9\"},\"values\":[[\"1\",\"a\\u0000b\\\"\\\\"
	       "\\ud83d\\ude00\\/\\ud800\"]]}]}");

	ASSERT_STR(r->streams[0]->labels,
		   "{v=\"q\\\"b\\\\t\\tn\\nc\\x01\\x7f\xc3\xa9\"}");
	/* a lone surrogate becomes U+FFFD */
	ASSERT_STR(r->streams[0]->entries[0]->line,
		   "a\0b\"\\\xf0\x9f\x98\x80/\xef\xbf\xbd");
}

static void test_time_split(void **state)
{
	struct fx *f = *state;
	const Sluice__Loki__PushRequest *r =
	    encode(f, "{\"streams\":[{\"stream\":{\"a\":\"b\"},\"values\":["
		      "[\"-1\",\"x\"],[\"-1000000000\",\"y\"],"
		      "[\"9223372036854775807\",\"z\"],"
		      "[\"-9223372036854775808\",\"w\"]]}]}");
	Sluice__Loki__EntryAdapter **e = r->streams[0]->entries;

	assert_int_equal(e[0]->timestamp->seconds, -1);
	assert_int_equal(e[0]->timestamp->nanos, 999999999);
	assert_int_equal(e[1]->timestamp->seconds, -1);
	assert_int_equal(e[1]->timestamp->nanos, 0);
	assert_int_equal(e[2]->timestamp->seconds, 9223372036);
	assert_int_equal(e[2]->timestamp->nanos, 854775807);
	assert_int_equal(e[3]->timestamp->seconds, -9223372037);
	assert_int_equal(e[3]->timestamp->nanos, 145224192);
}

/* Blanks between tokens are JSON too; no streams is an empty request. */
static void test_blanks_and_empty(void **state)
{
	struct fx *f = *state;
	const Sluice__Loki__PushRequest *r;

	r = encode(f, " { \"streams\" : [ { \"stream\" : { \"a\" : \"b\" } ,"
		      "\n\"values\" : [ [ \"5\" , \"x\" , { } ] ] } ] }\r\n");
	assert_int_equal(r->n_streams, 1);
	ASSERT_STR(r->streams[0]->labels, "{a=\"b\"}");
	assert_int_equal(r->streams[0]->entries[0]->timestamp->nanos, 5);
	r = encode(f, "{\"streams\":[]}");
	assert_int_equal(r->n_streams, 0);
	assert_int_equal(f->plain_len, 0);
}

/* The scratch is reused: a second, smaller request carries nothing of the
 * first. */
static void test_reuse(void **state)
{
	struct fx *f = *state;
	const Sluice__Loki__PushRequest *r;

	encode(f, "{\"streams\":[{\"stream\":{\"a\":\"1\"},\"values\":["
		  "[\"1\",\"x\",{\"m\":\"1\"}],[\"2\",\"y\",{\"m\":\"2\"}]]},"
		  "{\"stream\":{\"a\":\"2\"},\"values\":[[\"3\",\"z\"]]}]}");
	r = encode(f, "{\"streams\":[{\"stream\":{\"b\":\"2\"},\"values\":["
		      "[\"4\",\"w\"]]}]}");
	assert_int_equal(r->n_streams, 1);
	ASSERT_STR(r->streams[0]->labels, "{b=\"2\"}");
	assert_int_equal(r->streams[0]->n_entries, 1);
	ASSERT_STR(r->streams[0]->entries[0]->line, "w");
	assert_int_equal(r->streams[0]->entries[0]->n_structured_metadata, 0);
}

static const char *const bad_bodies[] = {
    "",
    "[]",
    "{}",
    "{\"streams\":{}}",
    "{\"stream\":[]}",
    "{\"streams\":[]}x",
    "{\"streams\":[{}]}",
    "{\"streams\":[{\"stream\":{\"a\":\"b\"}}]}",
    "{\"streams\":[{\"values\":[]}]}",
    "{\"streams\":[{\"stream\":{\"a\":\"b\"},\"values\":[],\"values\":[]}]}",
    "{\"streams\":[{\"stream\":{\"a\":\"b\"},\"values\":[],\"x\":1}]}",
    "{\"streams\":[{\"stream\":{\"a\":1},\"values\":[]}]}",
    "{\"streams\":[{\"stream\":{\"a\":\"b\"},\"values\":[[\"1\"]]}]}",
    "{\"streams\":[{\"stream\":{\"a\":\"b\"},\"values\":[[1,\"x\"]]}]}",
    "{\"streams\":[{\"stream\":{\"a\":\"b\"},\"values\":[[\"1x\",\"x\"]]}]}",
    "{\"streams\":[{\"stream\":{\"a\":\"b\"},\"values\":[[\"\",\"x\"]]}]}",
    "{\"streams\":[{\"stream\":{\"a\":\"b\"},\"values\":[[\"-\",\"x\"]]}]}",
    "{\"streams\":[{\"stream\":{\"a\":\"b\"},\"values\":"
    "[[\"9223372036854775808\",\"x\"]]}]}",
    "{\"streams\":[{\"stream\":{\"a\":\"b\"},\"values\":[[\"1\",\"x\",[]]]}]}",
    "{\"streams\":[{\"stream\":{\"a\":\"b\"},\"values\":"
    "[[\"1\",\"x\",{\"m\":2}]]}]}",
    "{\"streams\":[{\"stream\":{\"a\":\"b\"},\"values\":"
    "[[\"1\",\"x\",{},{}]]}]}",
    "{\"streams\":[{\"stream\":{\"a\":\"b\"},\"values\":[[\"1\",\"\\q\"]]}]}",
    "{\"streams\":[{\"stream\":{\"a\":\"b\"},\"values\":[[\"1\",\"x\\\"]]}]}",
};

/* Not the encoder's shape: -SL_EPARSE, the output untouched. */
static void test_malformed(void **state)
{
	struct fx *f = *state;
	size_t i;

	for (i = 0; i < sizeof(bad_bodies) / sizeof(bad_bodies[0]); i++) {
		sl_buf_reset(&f->out);
		assert_int_equal(sl_buf_append(&f->out, "keep", 4), 0);
		if (loki_proto_encode(&f->p, bad_bodies[i],
				      strlen(bad_bodies[i]),
				      &f->out) != -SL_EPARSE)
			fail_msg("accepted: %s", bad_bodies[i]);
		assert_int_equal(f->out.len, 4);
	}
}

/* Every proper prefix of a valid body is refused (and read within its
 * bounds: the sanitizer build checks that). */
static void test_truncated(void **state)
{
	struct fx *f = *state;
	static const char body[] =
	    "{\"streams\":[{\"stream\":{\"a\":\"b\\\"\"},\"values\":["
	    "[\"12\",\"x\\\\\",{\"k\":\"v\"}],[\"13\",\"\\u00e9\"]]}]}";
	size_t n;

	for (n = 0; n < sizeof(body) - 1; n++) {
		char *copy = malloc(n ? n : 1); /* exact size: no NUL after */

		assert_non_null(copy);
		memcpy(copy, body, n);
		sl_buf_reset(&f->out);
		if (loki_proto_encode(&f->p, copy, n, &f->out) != -SL_EPARSE)
			fail_msg("prefix of %zu bytes accepted", n);
		free(copy);
	}
	encode(f, body);
}

static void rec(struct sl_chunk *c, int64_t ts, const char *json)
{
	assert_int_equal(sl_chunk_append(c, ts, json, strlen(json)), 0);
}

/* What loki_encode writes goes over entry for entry: same streams, same
 * order, same times, lines and metadata. */
static void test_from_encoder(void **state)
{
	struct fx *f = *state;
	struct loki_enc enc = {0};
	struct loki_batch b;
	struct sl_chunk *c = sl_chunk_create(NULL, "t", 1);
	struct sl_buf json = {0};
	const Sluice__Loki__PushRequest *r;
	const char *err = NULL;
	size_t i, j, total = 0;

	assert_non_null(c);
	loki_batch_init(&b);
	assert_int_equal(loki_enc_add_label(&enc, "job=sluice", &err), 0);
	assert_int_equal(loki_enc_add_label(&enc, "$stream", &err), 0);
	assert_int_equal(loki_enc_add_metadata(&enc, "trace=$t", &err), 0);
	rec(c, 30, "{\"stream\":\"out\",\"t\":\"a\",\"m\":\"q\\\"\"}");
	rec(c, 10, "{\"stream\":\"err\",\"m\":\"\\u00e9\"}");
	rec(c, 20, "{\"stream\":\"out\",\"t\":\"b\"}");
	assert_int_equal(loki_encode(&enc, &b, c, NULL, NULL, &json), 0);
	assert_int_equal(sl_buf_append(&json, "", 1), 0);
	r = encode(f, json.data);
	assert_int_equal(r->n_streams, b.n_streams);
	for (i = 0; i < r->n_streams; i++)
		total += r->streams[i]->n_entries;
	assert_int_equal(total, b.n_entries);
	ASSERT_STR(r->streams[0]->labels, "{job=\"sluice\", stream=\"out\"}");
	ASSERT_STR(r->streams[1]->labels, "{job=\"sluice\", stream=\"err\"}");
	/* the out stream sorted by time, its metadata carried */
	assert_int_equal(r->streams[0]->entries[0]->timestamp->nanos, 20);
	assert_int_equal(r->streams[0]->entries[1]->timestamp->nanos, 30);
	ASSERT_STR(r->streams[0]->entries[0]->structured_metadata[0]->value,
		   "b");
	ASSERT_STR(r->streams[0]->entries[1]->line, "{\"m\":\"q\\\"\"}");
	for (i = 0; i < r->n_streams; i++)
		for (j = 0; j < r->streams[i]->n_entries; j++)
			assert_true(r->streams[i]->entries[j]->line.len > 0);
	/* the record's own escapes are its text: kept */
	ASSERT_STR(r->streams[1]->entries[0]->line, "{\"m\":\"\\u00e9\"}");
	sl_buf_destroy(&json);
	loki_batch_destroy(&b);
	loki_enc_destroy(&enc);
	sl_chunk_destroy(c);
}

int main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_wire_bytes),	      T(test_streams_entries_metadata),
	    T(test_escaping),	      T(test_time_split),
	    T(test_blanks_and_empty), T(test_reuse),
	    T(test_malformed),	      T(test_truncated),
	    T(test_from_encoder),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
