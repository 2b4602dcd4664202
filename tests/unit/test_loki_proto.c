/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_loki_proto.c - Format protobuf's body without HTTP: loki_encode()
 * with LOKI_WIRE_PROTOBUF, un-snappied and read back with protobuf-c's
 * unpacker (and packed again: the same bytes, so the hand-written wire is
 * what protobuf-c writes). The exact bytes of a small request, the label
 * string's escaping, lines neither escaped nor cut at NUL, invalid UTF-8
 * repaired, times at 0, before 1970 and at INT64_MAX, and the same
 * grouping, order, lines and metadata as the JSON body of the same chunk.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../outputs/loki/loki.h"
#include "loki_push.pb-c.h"
#include "sl_json.h"

struct fx {
	struct loki_enc enc;
	struct loki_batch b;
	struct sl_chunk *c;
	struct sl_buf out;
	char *plain; /* the last body, uncompressed */
	size_t plain_len;
	Sluice__Loki__PushRequest *req;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	loki_batch_init(&f->b);
	f->c = sl_chunk_create(NULL, "app.web", 7);
	assert_non_null(f->c);
	f->enc.wire = LOKI_WIRE_PROTOBUF;
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
	loki_batch_destroy(&f->b);
	loki_enc_destroy(&f->enc);
	sl_chunk_destroy(f->c);
	sl_buf_destroy(&f->out);
	free(f);
	return 0;
}

static void label(struct fx *f, const char *spec)
{
	const char *err = NULL;

	assert_int_equal(loki_enc_add_label(&f->enc, spec, &err), 0);
}

static void meta(struct fx *f, const char *spec)
{
	const char *err = NULL;

	assert_int_equal(loki_enc_add_metadata(&f->enc, spec, &err), 0);
}

static void rec_n(struct fx *f, int64_t ts, const char *body, size_t len)
{
	assert_int_equal(sl_chunk_append(f->c, ts, body, len), 0);
}

static void rec(struct fx *f, int64_t ts, const char *json)
{
	rec_n(f, ts, json, strlen(json));
}

/* Encodes the chunk as protobuf, un-snappies and unpacks it into f->req;
 * protobuf-c packs the unpacked request into the very same bytes. */
static const Sluice__Loki__PushRequest *encode(struct fx *f)
{
	uint8_t *again;

	release(f);
	sl_buf_reset(&f->out);
	assert_int_equal(loki_encode(&f->enc, &f->b, f->c, NULL, NULL, &f->out),
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
	assert_int_equal(sluice__loki__push_request__get_packed_size(f->req),
			 f->plain_len);
	again = malloc(f->plain_len + 1);
	assert_non_null(again);
	assert_int_equal(sluice__loki__push_request__pack(f->req, again),
			 f->plain_len);
	assert_memory_equal(again, f->plain, f->plain_len);
	free(again);
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
	    0x0a, 0x22, /* streams (1), 34 bytes */
	    0x0a, 0x07, '{',  'a',  '=',  '"',	'b', '"', '}', /* labels (1) */
	    0x12, 0x17,				/* entries (2), 23 bytes */
	    0x0a, 0x04, 0x08, 0x01, 0x10, 0x02, /* timestamp {1, 2} */
	    0x12, 0x07, '{',  '"',  'x',  '"',	':', '1', '}', /* line (2) */
	    0x1a, 0x06,			       /* structured_metadata (3) */
	    0x0a, 0x01, 'm',  0x12, 0x01, 'v', /* name (1), value (2) */
	};

	label(f, "a=b");
	meta(f, "m=v");
	rec(f, 1000000002, "{\"x\":1}");
	encode(f);
	assert_int_equal(f->b.n_entries, 1);
	assert_int_equal(f->plain_len, sizeof(want));
	assert_memory_equal(f->plain, want, sizeof(want));
}

/* Loki's label string: names sorted, ", " between pairs, values
 * double-quoted with '"' and '\' escaped (control bytes never get there:
 * label values are sanitised); one stream per label set, in order of
 * first appearance. */
static void test_label_string(void **state)
{
	struct fx *f = *state;
	const Sluice__Loki__PushRequest *r;

	label(f, "z=q\"b\\c");
	label(f, "$app");
	label(f, "tag=$TAG[1]");
	rec(f, 1, "{\"app\":\"we\\\"ird\\\\ \\u00e9\\u0001\"}");
	rec(f, 2, "{\"app\":\"plain\"}");
	rec(f, 3, "{\"app\":\"we\\\"ird\\\\ \\u00e9\\u0001\"}");
	r = encode(f);
	assert_int_equal(r->n_streams, 2);
	ASSERT_STR(r->streams[0]->labels,
		   "{app=\"we\\\"ird\\\\ \xc3\xa9_\", tag=\"web\", "
		   "z=\"q\\\"b\\\\c\"}");
	assert_int_equal(r->streams[0]->n_entries, 2);
	ASSERT_STR(r->streams[1]->labels,
		   "{app=\"plain\", tag=\"web\", z=\"q\\\"b\\\\c\"}");
	assert_int_equal(r->streams[1]->n_entries, 1);
}

/* The line is the record's bytes, not JSON-escaped: quotes, backslashes
 * and escapes of the record's own text as they are; a key_value line
 * keeps the NUL its value unescapes to. */
static void test_line_not_escaped(void **state)
{
	struct fx *f = *state;
	const Sluice__Loki__PushRequest *r;
	const char *err = NULL;

	label(f, "job=j");
	rec(f, 1, "{\"m\":\"say \\\"hi\\\" \\\\ \\n\\u00e9\"}");
	r = encode(f);
	ASSERT_STR(r->streams[0]->entries[0]->line,
		   "{\"m\":\"say \\\"hi\\\" \\\\ \\n\\u00e9\"}");
	sl_chunk_destroy(f->c);
	f->c = sl_chunk_create(NULL, "t", 1);
	assert_non_null(f->c);
	assert_int_equal(loki_enc_add_remove_key(&f->enc, "drop", &err), 0);
	f->enc.line_format = LOKI_LINE_KEY_VALUE;
	rec(f, 1, "{\"a\":\"x\\u0000y\",\"drop\":1,\"b\":\"q\\\"r\"}");
	r = encode(f);
	ASSERT_STR(r->streams[0]->entries[0]->line, "a=x\0y b=q\"r");
}

/* The JSON string at *p (sl_json_append_string's output) unescaped into
 * `out`; *p moves past it. */
static void json_string(const char **p, struct sl_buf *out)
{
	const char *s = *p, *q;

	assert_int_equal(*s, '"');
	for (q = s + 1; *q != '"'; q++)
		if (*q == '\\')
			q++;
	sl_buf_reset(out);
	assert_true(sl_json_unescape_append(out, s + 1, (size_t)(q - s - 1)) >=
		    0);
	*p = q + 1;
}

static void assert_same(ProtobufCBinaryData b, const struct sl_buf *want)
{
	assert_int_equal(b.len, want->len);
	if (b.len)
		assert_memory_equal(b.data, want->data, b.len);
}

/* The line of the JSON body's first entry, unescaped into `out`. */
static void json_line0(struct fx *f, struct sl_buf *out)
{
	struct loki_batch jb;
	struct sl_buf json = {0}, esc = {0};
	const char *p;

	loki_batch_init(&jb);
	f->enc.wire = LOKI_WIRE_JSON;
	assert_int_equal(loki_encode(&f->enc, &jb, f->c, NULL, NULL, &json), 0);
	f->enc.wire = LOKI_WIRE_PROTOBUF;
	if (jb.entries[0].raw) { /* escaped only into the body */
		assert_int_equal(sl_json_append_string(&esc, jb.entries[0].raw,
						       jb.entries[0].line_len),
				 0);
		p = esc.data;
	} else {
		p = jb.lines.data + jb.entries[0].line_off;
	}
	json_string(&p, out);
	sl_buf_destroy(&esc);
	sl_buf_destroy(&json);
	loki_batch_destroy(&jb);
}

/* Invalid UTF-8, each maximal invalid sequence one U+FFFD, as the JSON
 * string has it: in a record nothing parses and in one that is parsed. */
static void test_utf8_repaired(void **state)
{
	struct fx *f = *state;
	static const char bad[] = "{\"m\":\"a\xff"
				  "b\xc3\"}";
	const Sluice__Loki__PushRequest *r;

	struct sl_buf s = {0};

	label(f, "job=j");
	rec_n(f, 1, bad, sizeof(bad) - 1);
	r = encode(f);
	ASSERT_STR(r->streams[0]->entries[0]->line, "{\"m\":\"a\xef\xbf\xbd"
						    "b\xef\xbf\xbd\"}");
	json_line0(f, &s);
	assert_same(r->streams[0]->entries[0]->line, &s);
	/* an accessor label: the record is parsed */
	label(f, "$absent");
	r = encode(f);
	json_line0(f, &s);
	assert_same(r->streams[0]->entries[0]->line, &s);
	assert_non_null(memmem(r->streams[0]->entries[0]->line.data,
			       r->streams[0]->entries[0]->line.len,
			       "\xef\xbf\xbd", 3));
	sl_buf_destroy(&s);
}

/* Times split into seconds and nanos; before 1970 (and INT64_MIN) is 0,
 * as in the JSON body; INT64_MAX whole; 0 an empty Timestamp, present. */
static void test_times(void **state)
{
	struct fx *f = *state;
	const Sluice__Loki__PushRequest *r;
	Sluice__Loki__EntryAdapter **e;

	label(f, "job=j");
	rec(f, INT64_MAX, "{\"n\":0}");
	rec(f, -1, "{\"n\":1}");
	rec(f, INT64_MIN, "{\"n\":2}");
	rec(f, 1700000000123456789, "{\"n\":3}");
	rec(f, 0, "{\"n\":4}");
	r = encode(f);
	assert_int_equal(r->n_streams, 1);
	assert_int_equal(r->streams[0]->n_entries, 5);
	e = r->streams[0]->entries;
	ASSERT_STR(e[0]->line, "{\"n\":1}");
	ASSERT_STR(e[1]->line, "{\"n\":2}");
	ASSERT_STR(e[2]->line, "{\"n\":4}");
	for (int i = 0; i < 3; i++) {
		assert_non_null(e[i]->timestamp);
		assert_int_equal(e[i]->timestamp->seconds, 0);
		assert_int_equal(e[i]->timestamp->nanos, 0);
	}
	assert_int_equal(e[3]->timestamp->seconds, 1700000000);
	assert_int_equal(e[3]->timestamp->nanos, 123456789);
	assert_int_equal(e[4]->timestamp->seconds, 9223372036);
	assert_int_equal(e[4]->timestamp->nanos, 854775807);
	ASSERT_STR(e[4]->line, "{\"n\":0}");
}

/*
 * One chunk through both writers: the same entries in the same order
 * (record indexes), the same stream sizes, each protobuf line the JSON
 * line unescaped, each metadata pair the JSON object's member.
 */
static void test_same_as_json(void **state)
{
	struct fx *f = *state;
	const Sluice__Loki__PushRequest *r;
	struct loki_batch jb;
	struct sl_buf json = {0}, s = {0};
	const char *err = NULL;
	uint32_t *order;
	size_t i, k, n, j;

	label(f, "job=same");
	label(f, "$app");
	meta(f, "trace=$t");
	assert_int_equal(loki_enc_add_metadata_map(&f->enc, "$k['m']", &err),
			 0);
	for (i = 0; i < 40; i++) {
		static const char *const apps[] = {"d\\\"b", "web", "api"};
		char body[256];

		snprintf(body, sizeof(body),
			 "{\"app\":\"%s\",\"n\":%zu,\"msg\":\"q\\\"\\\\ \\n"
			 "\\u2028 \\ud83d\\ude00 \xc3\xa9\\u0000\"%s%s}",
			 apps[i % 3], i, i % 2 ? ",\"t\":\"tr\\\"x\"" : "",
			 i % 5 ? ",\"k\":{\"m\":{\"e\":\"\\t1\",\"n\":2}}"
			       : "");
		/* out of order inside each stream: the sort is shared too */
		rec(f, 1000 + (int64_t)((i * 7) % 13), body);
	}
	r = encode(f);
	n = f->b.n_entries;
	order = malloc(n * sizeof(*order));
	assert_non_null(order);
	for (i = 0; i < n; i++)
		order[i] = f->b.entries[i].index;

	loki_batch_init(&jb);
	f->enc.wire = LOKI_WIRE_JSON;
	assert_int_equal(loki_encode(&f->enc, &jb, f->c, NULL, NULL, &json), 0);
	f->enc.wire = LOKI_WIRE_PROTOBUF;
	assert_int_equal(jb.n_entries, n);
	assert_int_equal(jb.n_streams, r->n_streams);
	assert_int_equal(r->n_streams, 3);
	for (i = 0; i < n; i++)
		assert_int_equal(jb.entries[i].index, order[i]);
	k = 0;
	for (i = 0; i < r->n_streams; i++) {
		assert_int_equal(r->streams[i]->n_entries,
				 jb.streams[i].entries);
		for (j = 0; j < r->streams[i]->n_entries; j++, k++) {
			const Sluice__Loki__EntryAdapter *e =
			    r->streams[i]->entries[j];
			const char *p = jb.lines.data + jb.entries[k].line_off;
			size_t m = 0;

			assert_int_equal(e->timestamp->nanos,
					 jb.entries[k].ts_ns);
			json_string(&p, &s);
			assert_same(e->line, &s);
			assert_memory_equal(p, ",{", 2);
			p += 2;
			while (*p != '}') {
				if (*p == ',')
					p++;
				assert_true(m < e->n_structured_metadata);
				json_string(&p, &s);
				assert_same(e->structured_metadata[m]->name,
					    &s);
				assert_int_equal(*p++, ':');
				json_string(&p, &s);
				assert_same(e->structured_metadata[m]->value,
					    &s);
				m++;
			}
			assert_int_equal(m, e->n_structured_metadata);
		}
	}
	assert_int_equal(k, n);
	ASSERT_STR(r->streams[0]->labels, "{app=\"d\\\"b\", job=\"same\"}");
	ASSERT_STR(r->streams[1]->labels, "{app=\"web\", job=\"same\"}");
	ASSERT_STR(r->streams[2]->labels, "{app=\"api\", job=\"same\"}");
	free(order);
	sl_buf_destroy(&s);
	sl_buf_destroy(&json);
	loki_batch_destroy(&jb);
}

static bool skip_all(void *ud, uint32_t index)
{
	(void)ud;
	(void)index;
	return true;
}

/* The scratch is reused: a second, smaller request carries nothing of the
 * first; nothing to send leaves the output alone. */
static void test_reuse_and_empty(void **state)
{
	struct fx *f = *state;
	const Sluice__Loki__PushRequest *r;

	label(f, "$a");
	meta(f, "m=$m");
	rec(f, 2, "{\"a\":\"1\",\"m\":\"x\"}");
	rec(f, 1, "{\"a\":\"2\",\"m\":\"y\"}");
	rec(f, 3, "{\"a\":\"1\",\"m\":\"z\"}");
	encode(f);
	sl_chunk_destroy(f->c);
	f->c = sl_chunk_create(NULL, "t", 1);
	assert_non_null(f->c);
	rec(f, 4, "{\"a\":\"3\"}");
	r = encode(f);
	assert_int_equal(r->n_streams, 1);
	ASSERT_STR(r->streams[0]->labels, "{a=\"3\"}");
	assert_int_equal(r->streams[0]->n_entries, 1);
	ASSERT_STR(r->streams[0]->entries[0]->line, "{}");
	assert_int_equal(r->streams[0]->entries[0]->n_structured_metadata, 0);
	sl_buf_reset(&f->out);
	assert_int_equal(sl_buf_append(&f->out, "keep", 4), 0);
	assert_int_equal(
	    loki_encode(&f->enc, &f->b, f->c, skip_all, NULL, &f->out), 0);
	assert_int_equal(f->b.n_entries, 0);
	assert_int_equal(f->out.len, 4);
}

int main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_wire_bytes),
	    T(test_label_string),
	    T(test_line_not_escaped),
	    T(test_utf8_repaired),
	    T(test_times),
	    T(test_same_as_json),
	    T(test_reuse_and_empty),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
