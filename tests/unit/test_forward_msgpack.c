/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_forward_msgpack.c - the Forward protocol's msgpack paths without
 * sockets: the framer (pieces, huge declared counts, invalid bytes), message
 * classification (every mode, options), EventTime both ways, msgpack to
 * JSON (bin, ext, floats, repeated keys, depth), entries (bad ones
 * counted, gzip and its limit), JSON to msgpack and whole messages read
 * back by the decoder, and the handshake's digests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../inputs/forward/forward_auth.h"
#include "../../inputs/forward/forward_decode.h"
#include "../../outputs/forward/forward_encode.h"

static void pstr(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str(pk, strlen(s));
	msgpack_pack_str_body(pk, s, strlen(s));
}

static void ptime(msgpack_packer *pk, uint32_t s, uint32_t ns)
{
	unsigned char b[8] = {s >> 24,	s >> 16,  s >> 8,  s,
			      ns >> 24, ns >> 16, ns >> 8, ns};

	msgpack_pack_ext(pk, 8, 0);
	msgpack_pack_ext_body(pk, b, 8);
}

static void unpack(msgpack_unpacked *u, const struct sl_buf *b)
{
	size_t off = 0;

	msgpack_unpacked_init(u);
	assert_int_equal(msgpack_unpack_next(u, b->data, b->len, &off),
			 MSGPACK_UNPACK_SUCCESS);
	assert_int_equal(off, b->len);
}

/* ---- framer ---------------------------------------------------------- */

static void framer_byte_by_byte(void **state)
{
	struct sl_buf b = {0};
	msgpack_packer pk;
	struct fwd_framer f;
	size_t n = 0;

	(void)state;
	msgpack_packer_init(&pk, &b, fwd_buf_write);
	msgpack_pack_array(&pk, 3);
	pstr(&pk, "tag");
	msgpack_pack_array(&pk, 1);
	msgpack_pack_array(&pk, 2);
	ptime(&pk, 1, 2);
	msgpack_pack_map(&pk, 1);
	pstr(&pk, "k");
	msgpack_pack_bin(&pk, 300);
	assert_int_equal(sl_buf_reserve(&b, 300), 0);
	memset(b.data + b.len, 'x', 300);
	b.len += 300;
	msgpack_pack_map(&pk, 0);
	pstr(&pk, "next message"); /* must not be part of the first */
	fwd_framer_reset(&f);
	for (size_t i = 1; i < b.len; i++) {
		enum fwd_frame_result r =
		    fwd_frame(&f, (const uint8_t *)b.data, i, &n, NULL);

		if (r == FWD_FRAME_DONE)
			break;
		assert_int_equal(r, FWD_FRAME_MORE);
	}
	assert_int_equal(n, b.len - 13);
	sl_buf_destroy(&b);
}

static void framer_huge_count_is_owed_not_read(void **state)
{
	/* [ "a", array32 of 4294967295 ] */
	const uint8_t msg[] = {0x92, 0xa1, 'a', 0xdd, 0xff, 0xff, 0xff, 0xff};
	struct fwd_framer f;
	size_t n = 0;
	uint64_t owed = 0;

	(void)state;
	fwd_framer_reset(&f);
	assert_int_equal(fwd_frame(&f, msg, sizeof(msg), &n, &owed),
			 FWD_FRAME_MORE);
	assert_true(owed >= 4294967295u);
}

static void framer_invalid_byte(void **state)
{
	const uint8_t msg[] = {0x92, 0xc1, 0x00};
	struct fwd_framer f;
	size_t n;

	(void)state;
	fwd_framer_reset(&f);
	assert_int_equal(fwd_frame(&f, msg, sizeof(msg), &n, NULL),
			 FWD_FRAME_INVALID);
}

static void framer_str_longer_than_buffer(void **state)
{
	const uint8_t msg[] = {0xdb, 0x00, 0x01, 0x00, 0x00, 'a'};
	struct fwd_framer f;
	size_t n;
	uint64_t owed = 0;

	(void)state;
	fwd_framer_reset(&f);
	assert_int_equal(fwd_frame(&f, msg, sizeof(msg), &n, &owed),
			 FWD_FRAME_MORE);
	assert_int_equal(owed, 65536 - 1);
}

/* ---- messages ---------------------------------------------------------- */

static void parse_modes(void **state)
{
	struct sl_buf b = {0};
	msgpack_packer pk;
	msgpack_unpacked u;
	struct fwd_message m;

	(void)state;
	msgpack_packer_init(&pk, &b, fwd_buf_write);
	/* Message with option chunk */
	msgpack_pack_array(&pk, 4);
	pstr(&pk, "t.msg");
	ptime(&pk, 5, 6);
	msgpack_pack_map(&pk, 0);
	msgpack_pack_map(&pk, 1);
	pstr(&pk, "chunk");
	pstr(&pk, "abc");
	unpack(&u, &b);
	assert_int_equal(fwd_message_parse(&u.data, &m), 0);
	assert_int_equal(m.mode, FWD_MODE_MESSAGE);
	assert_int_equal(m.tag_len, 5);
	assert_memory_equal(m.tag, "t.msg", 5);
	assert_int_equal(m.chunk_len, 3);
	assert_memory_equal(m.chunk, "abc", 3);
	msgpack_unpacked_destroy(&u);

	/* PackedForward compressed gzip */
	sl_buf_reset(&b);
	msgpack_pack_array(&pk, 3);
	pstr(&pk, "t");
	msgpack_pack_bin(&pk, 0);
	msgpack_pack_map(&pk, 1);
	pstr(&pk, "compressed");
	pstr(&pk, "gzip");
	unpack(&u, &b);
	assert_int_equal(fwd_message_parse(&u.data, &m), 0);
	assert_int_equal(m.mode, FWD_MODE_PACKED_GZIP);
	assert_null(m.chunk);
	msgpack_unpacked_destroy(&u);

	/* an unknown codec is refused, not read as plain bytes */
	sl_buf_reset(&b);
	msgpack_pack_array(&pk, 3);
	pstr(&pk, "t");
	msgpack_pack_bin(&pk, 0);
	msgpack_pack_map(&pk, 1);
	pstr(&pk, "compressed");
	pstr(&pk, "zstd");
	unpack(&u, &b);
	assert_int_equal(fwd_message_parse(&u.data, &m), -SL_EPARSE);
	msgpack_unpacked_destroy(&u);

	/* no tag, too many elements, not an array */
	sl_buf_reset(&b);
	msgpack_pack_array(&pk, 2);
	msgpack_pack_int(&pk, 1);
	msgpack_pack_array(&pk, 0);
	unpack(&u, &b);
	assert_int_equal(fwd_message_parse(&u.data, &m), -SL_EPARSE);
	msgpack_unpacked_destroy(&u);
	sl_buf_reset(&b);
	msgpack_pack_array(&pk, 4);
	pstr(&pk, "t");
	msgpack_pack_array(&pk, 0);
	msgpack_pack_nil(&pk);
	msgpack_pack_nil(&pk);
	unpack(&u, &b);
	assert_int_equal(fwd_message_parse(&u.data, &m), -SL_EPARSE);
	msgpack_unpacked_destroy(&u);
	sl_buf_reset(&b);
	msgpack_pack_map(&pk, 0);
	unpack(&u, &b);
	assert_int_equal(fwd_message_parse(&u.data, &m), -SL_EPARSE);
	msgpack_unpacked_destroy(&u);
	sl_buf_destroy(&b);
}

/* ---- time ----------------------------------------------------------- */

static void times(void **state)
{
	struct sl_buf b = {0};
	msgpack_packer pk;
	msgpack_unpacked u;
	int64_t ts = 0;

	(void)state;
	msgpack_packer_init(&pk, &b, fwd_buf_write);
	msgpack_pack_array(&pk, 6);
	ptime(&pk, 1700000000, 123456789);
	msgpack_pack_uint32(&pk, 1700000001);
	msgpack_pack_double(&pk, 1700000002.5);
	msgpack_pack_array(&pk, 2); /* Fluent Bit 2: [time, metadata] */
	ptime(&pk, 1700000003, 3);
	msgpack_pack_map(&pk, 0);
	ptime(&pk, 1, 1000000000);   /* nanoseconds out of range */
	msgpack_pack_ext(&pk, 8, 1); /* another ext type */
	msgpack_pack_ext_body(&pk, "12345678", 8);
	unpack(&u, &b);
	const msgpack_object *a = u.data.via.array.ptr;
	assert_int_equal(fwd_time_ns(&a[0], &ts), 0);
	assert_int_equal(ts, INT64_C(1700000000123456789));
	assert_int_equal(fwd_time_ns(&a[1], &ts), 0);
	assert_int_equal(ts, INT64_C(1700000001000000000));
	assert_int_equal(fwd_time_ns(&a[2], &ts), 0);
	assert_int_equal(ts, INT64_C(1700000002500000000));
	assert_int_equal(fwd_time_ns(&a[3], &ts), 0);
	assert_int_equal(ts, INT64_C(1700000003000000003));
	assert_int_equal(fwd_time_ns(&a[4], &ts), -SL_EPARSE);
	assert_int_equal(fwd_time_ns(&a[5], &ts), -SL_EPARSE);
	msgpack_unpacked_destroy(&u);
	sl_buf_destroy(&b);
}

static void event_time_encoded(void **state)
{
	struct sl_buf b = {0};
	msgpack_unpacked u;
	int64_t ts = 0;
	const unsigned char want[] = {0x92, 0xd7, 0x00, 0x65, 0x53, 0xf1,
				      0x00, 0x07, 0x5b, 0xcd, 0x15, 0x80};

	(void)state;
	assert_int_equal(
	    fwdo_entry(&b, INT64_C(1700000000123456789), false, "{}", 2), 0);
	assert_int_equal(b.len, sizeof(want) + 4); /* map32 header */
	assert_memory_equal(b.data, want, sizeof(want) - 1);
	unpack(&u, &b);
	assert_int_equal(fwd_time_ns(&u.data.via.array.ptr[0], &ts), 0);
	assert_int_equal(ts, INT64_C(1700000000123456789));
	msgpack_unpacked_destroy(&u);
	sl_buf_reset(&b);
	assert_int_equal(
	    fwdo_entry(&b, INT64_C(1700000000999999999), true, "{}", 2), 0);
	unpack(&u, &b);
	assert_int_equal(u.data.via.array.ptr[0].type,
			 MSGPACK_OBJECT_POSITIVE_INTEGER);
	assert_int_equal(u.data.via.array.ptr[0].via.u64, 1700000000);
	msgpack_unpacked_destroy(&u);
	sl_buf_destroy(&b);
}

/* ---- msgpack to JSON -------------------------------------------------- */

static void json_of_values(void **state)
{
	struct sl_buf b = {0}, j = {0};
	msgpack_packer pk;
	msgpack_unpacked u;
	const char want[] = "{\"bin\":\"ab\\u0000\",\"ext\":\"\\\\x01\\\\xff\","
			    "\"f\":2.0,\"g\":0.25,\"nan\":null,\"neg\":-3,"
			    "\"big\":18446744073709551615,\"k\":\"last\","
			    "\"7\":true,\"bad\":\"\xef\xbf\xbd\",\"a\":[null,"
			    "false]}";

	(void)state;
	msgpack_packer_init(&pk, &b, fwd_buf_write);
	msgpack_pack_map(&pk, 12);
	pstr(&pk, "bin");
	msgpack_pack_bin(&pk, 3);
	msgpack_pack_bin_body(&pk, "ab\0", 3);
	pstr(&pk, "ext");
	msgpack_pack_ext(&pk, 2, 5);
	msgpack_pack_ext_body(&pk, "\x01\xff", 2);
	pstr(&pk, "f");
	msgpack_pack_double(&pk, 2.0);
	pstr(&pk, "g");
	msgpack_pack_float(&pk, 0.25f);
	pstr(&pk, "nan");
	msgpack_pack_double(&pk, 0.0 / 0.0);
	pstr(&pk, "neg");
	msgpack_pack_int(&pk, -3);
	pstr(&pk, "big");
	msgpack_pack_uint64(&pk, UINT64_MAX);
	pstr(&pk, "k");
	pstr(&pk, "first"); /* repeated: the last one wins */
	pstr(&pk, "k");
	pstr(&pk, "last");
	msgpack_pack_int(&pk, 7); /* a key that is not a string */
	msgpack_pack_true(&pk);
	pstr(&pk, "bad");
	msgpack_pack_str(&pk, 1);
	msgpack_pack_str_body(&pk, "\xff", 1);
	pstr(&pk, "a");
	msgpack_pack_array(&pk, 2);
	msgpack_pack_nil(&pk);
	msgpack_pack_false(&pk);
	unpack(&u, &b);
	assert_int_equal(fwd_json_append(&j, &u.data), 0);
	assert_int_equal(j.len, strlen(want));
	assert_memory_equal(j.data, want, j.len);
	msgpack_unpacked_destroy(&u);
	sl_buf_destroy(&b);
	sl_buf_destroy(&j);
}

static void json_depth_limit(void **state)
{
	struct sl_buf b = {0}, j = {0};
	msgpack_packer pk;
	msgpack_unpacked u;
	size_t off = 0;

	(void)state;
	/* msgpack-c's own unpacker stops at 32 levels; build 70 by hand */
	msgpack_packer_init(&pk, &b, fwd_buf_write);
	for (int i = 0; i < 30; i++)
		msgpack_pack_array(&pk, 1);
	msgpack_pack_nil(&pk);
	msgpack_unpacked_init(&u);
	assert_int_equal(msgpack_unpack_next(&u, b.data, b.len, &off),
			 MSGPACK_UNPACK_SUCCESS);
	assert_int_equal(fwd_json_append(&j, &u.data), 0);
	/* a deeper object built in the zone: the converter refuses it */
	msgpack_object deep[70];
	for (int i = 0; i < 69; i++) {
		deep[i].type = MSGPACK_OBJECT_ARRAY;
		deep[i].via.array.size = 1;
		deep[i].via.array.ptr = &deep[i + 1];
	}
	deep[69].type = MSGPACK_OBJECT_NIL;
	sl_buf_reset(&j);
	assert_int_equal(fwd_json_append(&j, &deep[0]), -SL_ETOOBIG);
	msgpack_unpacked_destroy(&u);
	sl_buf_destroy(&b);
	sl_buf_destroy(&j);
}

/* ---- entries -------------------------------------------------------- */

struct seen {
	int n;
	int64_t ts[8];
	char json[8][64];
};

static int collect(void *arg, int64_t ts, const msgpack_object *rec)
{
	struct seen *s = arg;
	struct sl_buf j = {0};

	assert_true(s->n < 8);
	assert_int_equal(fwd_json_append(&j, rec), 0);
	snprintf(s->json[s->n], sizeof(s->json[0]), "%.*s", (int)j.len, j.data);
	s->ts[s->n++] = ts;
	sl_buf_destroy(&j);
	return 0;
}

static void forward_entries_bad_counted(void **state)
{
	struct sl_buf b = {0}, scratch = {0};
	msgpack_packer pk;
	msgpack_unpacked u;
	struct fwd_message m;
	struct fwd_entry_stats st = {0};
	struct seen s = {0};

	(void)state;
	msgpack_packer_init(&pk, &b, fwd_buf_write);
	msgpack_pack_array(&pk, 2);
	pstr(&pk, "t");
	msgpack_pack_array(&pk, 4);
	msgpack_pack_array(&pk, 2);
	ptime(&pk, 10, 1);
	msgpack_pack_map(&pk, 1);
	pstr(&pk, "a");
	msgpack_pack_int(&pk, 1);
	msgpack_pack_array(&pk, 2); /* record not a map */
	ptime(&pk, 11, 0);
	msgpack_pack_array(&pk, 0);
	msgpack_pack_array(&pk, 2); /* time a string */
	pstr(&pk, "noon");
	msgpack_pack_map(&pk, 0);
	msgpack_pack_array(&pk, 2);
	msgpack_pack_int(&pk, 12);
	msgpack_pack_map(&pk, 0);
	unpack(&u, &b);
	assert_int_equal(fwd_message_parse(&u.data, &m), 0);
	assert_int_equal(m.mode, FWD_MODE_FORWARD);
	assert_int_equal(fwd_entries(&m, &scratch, 1 << 20, collect, &s, &st),
			 0);
	assert_int_equal(st.ok, 2);
	assert_int_equal(st.malformed, 2);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.ts[0], INT64_C(10000000001));
	assert_string_equal(s.json[0], "{\"a\":1}");
	assert_int_equal(s.ts[1], INT64_C(12000000000));
	msgpack_unpacked_destroy(&u);
	sl_buf_destroy(&b);
	sl_buf_destroy(&scratch);
}

/* A PackedForward message of the entries in `e`, gzip'ed or not. */
static void packed_message(struct sl_buf *msg, const struct sl_buf *e,
			   bool gzip)
{
	struct sl_buf gz = {0};
	struct fwdo_message m = {.tag = "p",
				 .tag_len = 1,
				 .n = 0,
				 .entries = e->data,
				 .entries_len = e->len,
				 .gzip = gzip,
				 .options = gzip};

	if (gzip) {
		assert_int_equal(fwdo_gzip(&gz, e->data, e->len), 0);
		m.entries = gz.data;
		m.entries_len = gz.len;
	}
	assert_int_equal(fwdo_message(msg, &m), 0);
	sl_buf_destroy(&gz);
}

static void packed_gzip_round_trip_and_limit(void **state)
{
	struct sl_buf e = {0}, msg = {0}, scratch = {0};
	msgpack_unpacked u;
	struct fwd_message m;
	struct fwd_entry_stats st = {0};
	struct seen s = {0};

	(void)state;
	assert_int_equal(fwdo_entry(&e, 5, false, "{\"x\":[1,2]}", 11), 0);
	assert_int_equal(fwdo_entry(&e, 6, false, "{\"y\":\"z\"}", 9), 0);
	packed_message(&msg, &e, true);
	unpack(&u, &msg);
	assert_int_equal(fwd_message_parse(&u.data, &m), 0);
	assert_int_equal(m.mode, FWD_MODE_PACKED_GZIP);
	assert_int_equal(fwd_entries(&m, &scratch, 1 << 20, collect, &s, &st),
			 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.json[0], "{\"x\":[1,2]}");
	assert_string_equal(s.json[1], "{\"y\":\"z\"}");
	assert_int_equal(s.ts[1], 6);
	/* the same, inflating past the limit: refused whole */
	s.n = 0;
	assert_int_equal(fwd_entries(&m, &scratch, 10, collect, &s, &st),
			 -SL_ETOOBIG);
	assert_int_equal(s.n, 0);
	msgpack_unpacked_destroy(&u);

	/* plain PackedForward whose last entry is cut short */
	sl_buf_reset(&msg);
	e.len -= 3;
	packed_message(&msg, &e, false);
	unpack(&u, &msg);
	assert_int_equal(fwd_message_parse(&u.data, &m), 0);
	s.n = 0;
	memset(&st, 0, sizeof(st));
	assert_int_equal(fwd_entries(&m, &scratch, 1 << 20, collect, &s, &st),
			 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(st.malformed, 1);
	msgpack_unpacked_destroy(&u);
	sl_buf_destroy(&e);
	sl_buf_destroy(&msg);
	sl_buf_destroy(&scratch);
}

static void gunzip_refuses_garbage(void **state)
{
	struct sl_buf out = {0}, gz = {0};

	(void)state;
	assert_int_equal(fwd_gunzip(&out, "not gzip", 8, 1000), -SL_EPARSE);
	assert_int_equal(fwdo_gzip(&gz, "hello", 5), 0);
	assert_int_equal(fwd_gunzip(&out, gz.data, gz.len - 4, 1000),
			 -SL_EPARSE); /* cut short */
	assert_int_equal(fwd_gunzip(&out, gz.data, gz.len, 1000), 0);
	assert_int_equal(out.len, 5);
	sl_buf_destroy(&out);
	sl_buf_destroy(&gz);
}

/* ---- JSON to msgpack ------------------------------------------------- */

static void json_round_trip(void **state)
{
	/* JSON in, and the JSON the decoder makes of the msgpack */
	static const char *const cases[][2] = {
	    {"{}", "{}"},
	    {"{\"a\":1,\"b\":-2,\"c\":2.5,\"e\":null,\"f\":[true,false,[],{}],"
	     "\"g\":{\"h\":{\"i\":[1]}}}",
	     "{\"a\":1,\"b\":-2,\"c\":2.5,\"e\":null,\"f\":[true,false,[],{}],"
	     "\"g\":{\"h\":{\"i\":[1]}}}"},
	    {"{\"d\":\"s\\n\\u00e9\"}", "{\"d\":\"s\\n\xc3\xa9\"}"},
	    {"{\"max\":18446744073709551615,\"min\":-9223372036854775808}",
	     "{\"max\":18446744073709551615,\"min\":-9223372036854775808}"},
	    {"{\"huge\":1.0e+300,\"int_float\":3.0}",
	     "{\"huge\":1e+300,\"int_float\":3.0}"},
	};
	struct sl_buf b = {0}, j = {0};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		msgpack_unpacked u;

		sl_buf_reset(&b);
		sl_buf_reset(&j);
		assert_int_equal(
		    fwdo_json_to_msgpack(&b, cases[i][0], strlen(cases[i][0])),
		    0);
		unpack(&u, &b);
		assert_int_equal(fwd_json_append(&j, &u.data), 0);
		assert_int_equal(sl_buf_append(&j, "", 1), 0);
		assert_string_equal(j.data, cases[i][1]);
		msgpack_unpacked_destroy(&u);
	}
	sl_buf_destroy(&b);
	sl_buf_destroy(&j);
}

static void json_to_msgpack_refuses(void **state)
{
	struct sl_buf b = {0};
	char deep[200];
	size_t n = 0;

	(void)state;
	assert_int_equal(sl_buf_append(&b, "keep", 4), 0);
	assert_int_equal(fwdo_json_to_msgpack(&b, "{\"a\":", 5), -SL_EPARSE);
	assert_int_equal(fwdo_json_to_msgpack(&b, "{\"a\" 1}", 7), -SL_EPARSE);
	for (int i = 0; i < 70; i++)
		deep[n++] = '[';
	for (int i = 0; i < 70; i++)
		deep[n++] = ']';
	assert_int_equal(fwdo_json_to_msgpack(&b, deep, n), -SL_EPARSE);
	assert_int_equal(b.len, 4); /* left as it was */
	sl_buf_destroy(&b);
}

static void message_options_read_back(void **state)
{
	struct sl_buf e = {0}, msg = {0};
	msgpack_unpacked u;
	struct fwd_message m;
	const char *keys[] = {"env"}, *values[] = {"prod"};
	struct fwdo_message om = {.tag = "app.x",
				  .tag_len = 5,
				  .n = 1,
				  .forward_mode = true,
				  .options = true,
				  .chunk = "tok",
				  .extra_keys = keys,
				  .extra_values = values,
				  .n_extra = 1};
	const msgpack_object *opt;

	(void)state;
	assert_int_equal(fwdo_entry(&e, 7, true, "{\"a\":1}", 7), 0);
	om.entries = e.data;
	om.entries_len = e.len;
	assert_int_equal(fwdo_message(&msg, &om), 0);
	unpack(&u, &msg);
	assert_int_equal(fwd_message_parse(&u.data, &m), 0);
	assert_int_equal(m.mode, FWD_MODE_FORWARD);
	assert_int_equal(m.entries->via.array.size, 1);
	assert_int_equal(m.chunk_len, 3);
	opt = &u.data.via.array.ptr[2];
	assert_int_equal(opt->via.map.size, 3); /* size, chunk, env */
	assert_int_equal(opt->via.map.ptr[0].val.via.u64, 1);
	msgpack_unpacked_destroy(&u);
	sl_buf_destroy(&e);
	sl_buf_destroy(&msg);
}

/* ---- handshake --------------------------------------------------------- */

static void sha512_known_answer(void **state)
{
	char hex[FWD_HEX_DIGEST + 1];
	struct fwd_part parts[] = {{"a", 1}, {"bc", 2}};

	(void)state;
	assert_int_equal(fwd_sha512_hex(hex, parts, 2), 0);
	assert_string_equal(
	    hex, "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55"
		 "d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94f"
		 "a54ca49f");
}

static void ping(struct sl_buf *b, const char *key, const char *user,
		 const char *pass, const uint8_t *nonce, const uint8_t *salt)
{
	char kd[FWD_HEX_DIGEST + 1], ud[FWD_HEX_DIGEST + 1];
	struct fwd_part kp[] = {{"csalt", 5},
				{"agent", 5},
				{nonce, FWD_NONCE_SIZE},
				{key, strlen(key)}};
	struct fwd_part up[] = {
	    {salt, FWD_SALT_SIZE}, {user, strlen(user)}, {pass, strlen(pass)}};
	msgpack_packer pk;

	assert_int_equal(fwd_sha512_hex(kd, kp, 4), 0);
	assert_int_equal(fwd_sha512_hex(ud, up, 3), 0);
	sl_buf_reset(b);
	msgpack_packer_init(&pk, b, fwd_buf_write);
	msgpack_pack_array(&pk, 6);
	pstr(&pk, "PING");
	pstr(&pk, "agent");
	pstr(&pk, "csalt");
	pstr(&pk, kd);
	pstr(&pk, user);
	pstr(&pk, ud);
}

static void ping_checked(void **state)
{
	const uint8_t nonce[FWD_NONCE_SIZE] = "0123456789abcdef";
	const uint8_t salt[FWD_SALT_SIZE] = "fedcba9876543210";
	struct fwd_user users[] = {{"alice", "pw"}};
	struct fwd_auth auth = {.shared_key = "k",
				.self_hostname = "agg",
				.users = users,
				.n_users = 1};
	struct sl_buf b = {0};
	msgpack_unpacked u;
	const char *cs;
	size_t cs_len;

	(void)state;
	ping(&b, "k", "alice", "pw", nonce, salt);
	unpack(&u, &b);
	assert_int_equal(
	    fwd_ping_check(&auth, &u.data, nonce, salt, &cs, &cs_len),
	    FWD_PING_OK);
	assert_int_equal(cs_len, 5);
	msgpack_unpacked_destroy(&u);
	ping(&b, "wrong", "alice", "pw", nonce, salt);
	unpack(&u, &b);
	assert_int_equal(
	    fwd_ping_check(&auth, &u.data, nonce, salt, &cs, &cs_len),
	    FWD_PING_BAD_KEY);
	msgpack_unpacked_destroy(&u);
	ping(&b, "k", "alice", "nope", nonce, salt);
	unpack(&u, &b);
	assert_int_equal(
	    fwd_ping_check(&auth, &u.data, nonce, salt, &cs, &cs_len),
	    FWD_PING_BAD_USER);
	msgpack_unpacked_destroy(&u);
	ping(&b, "k", "mallory", "pw", nonce, salt);
	unpack(&u, &b);
	assert_int_equal(
	    fwd_ping_check(&auth, &u.data, nonce, salt, &cs, &cs_len),
	    FWD_PING_BAD_USER);
	msgpack_unpacked_destroy(&u);
	/* the nonce of another connection does not verify */
	ping(&b, "k", "alice", "pw", salt, salt);
	unpack(&u, &b);
	assert_int_equal(
	    fwd_ping_check(&auth, &u.data, nonce, salt, &cs, &cs_len),
	    FWD_PING_BAD_KEY);
	msgpack_unpacked_destroy(&u);
	sl_buf_reset(&b);
	assert_int_equal(fwd_helo_pack(&b, nonce, salt), 0); /* not a PING */
	unpack(&u, &b);
	assert_int_equal(
	    fwd_ping_check(&auth, &u.data, nonce, salt, &cs, &cs_len),
	    FWD_PING_MALFORMED);
	msgpack_unpacked_destroy(&u);
	sl_buf_destroy(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(framer_byte_by_byte),
	    cmocka_unit_test(framer_huge_count_is_owed_not_read),
	    cmocka_unit_test(framer_invalid_byte),
	    cmocka_unit_test(framer_str_longer_than_buffer),
	    cmocka_unit_test(parse_modes),
	    cmocka_unit_test(times),
	    cmocka_unit_test(event_time_encoded),
	    cmocka_unit_test(json_of_values),
	    cmocka_unit_test(json_depth_limit),
	    cmocka_unit_test(forward_entries_bad_counted),
	    cmocka_unit_test(packed_gzip_round_trip_and_limit),
	    cmocka_unit_test(gunzip_refuses_garbage),
	    cmocka_unit_test(json_round_trip),
	    cmocka_unit_test(json_to_msgpack_refuses),
	    cmocka_unit_test(message_options_read_back),
	    cmocka_unit_test(sha512_known_answer),
	    cmocka_unit_test(ping_checked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
