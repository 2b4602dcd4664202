/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_json.c - the record view (spans, nesting limit, what is not an
 * object), key lookups with escapes and repeats, string escaping and
 * unescaping, and sl_json_prepare_object's copy-free fast path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* cmocka needs the headers above first */
#include <cmocka.h>

#include "sl_json.h"

#define S(lit) (lit), (sizeof(lit) - 1)
#define FFFD   "\xEF\xBF\xBD"

static struct sl_view view;

static int teardown(void **state)
{
	(void)state;
	sl_view_destroy(&view);
	return 0;
}

static void assert_span(const char *text, uint32_t off, uint32_t len,
			const char *want)
{
	assert_int_equal(len, strlen(want));
	assert_memory_equal(text + off, want, len);
}

static void view_records_value_spans(void **state)
{
	const char *t =
	    " {\"a\" : 1, \"b\":{\"c\":[true, null,\"x\"]}, \"d\":-2.5e3 } \n";
	const struct sl_view_node *n;

	(void)state;
	assert_int_equal(sl_view_build(&view, t, strlen(t)), 0);
	n = view.nodes;
	assert_int_equal(view.n, 8);
	assert_span(
	    t, n[0].val_off, n[0].val_len,
	    "{\"a\" : 1, \"b\":{\"c\":[true, null,\"x\"]}, \"d\":-2.5e3 }");
	assert_int_equal(n[0].end, 8);
	assert_int_equal(n[0].parent, UINT32_MAX);
	/* "a": 1 */
	assert_span(t, n[1].key_off, n[1].key_len, "a");
	assert_int_equal(t[n[1].member_off], '"');
	assert_int_equal(n[1].member_off + 1, n[1].key_off);
	assert_span(t, n[1].val_off, n[1].val_len, "1");
	assert_int_equal(n[1].type, SL_VAL_NUMBER);
	/* "b": {...}, its subtree ends before "d" */
	assert_span(t, n[2].val_off, n[2].val_len,
		    "{\"c\":[true, null,\"x\"]}");
	assert_int_equal(n[2].type, SL_VAL_OBJECT);
	assert_int_equal(n[2].end, 7);
	assert_int_equal(n[2].index, 1);
	assert_int_equal(n[3].parent, 2);
	assert_span(t, n[3].val_off, n[3].val_len, "[true, null,\"x\"]");
	/* array items: no key, member_off == val_off, indexes in order */
	assert_span(t, n[4].val_off, n[4].val_len, "true");
	assert_int_equal(n[4].key_len, 0);
	assert_int_equal(n[4].member_off, n[4].val_off);
	assert_span(t, n[5].val_off, n[5].val_len, "null");
	assert_int_equal(n[5].index, 1);
	assert_span(t, n[6].val_off, n[6].val_len, "\"x\"");
	assert_int_equal(n[6].type, SL_VAL_STRING);
	assert_int_equal(n[6].index, 2);
	assert_span(t, n[7].val_off, n[7].val_len, "-2.5e3");
	assert_int_equal(n[7].parent, 0);
	assert_int_equal(n[7].index, 2);
}

static char *nested(int depth)
{
	char *s = malloc((size_t)depth * 6 + 8);
	size_t n = 0;

	assert_non_null(s);
	s[n++] = '{';
	for (int i = 1; i < depth; i++) {
		memcpy(s + n, "\"k\":{", 5);
		n += 5;
	}
	for (int i = 0; i < depth; i++)
		s[n++] = '}';
	s[n] = '\0';
	return s;
}

static void nesting_of_64_is_accepted(void **state)
{
	char *s = nested(SL_JSON_MAX_DEPTH);

	(void)state;
	assert_int_equal(sl_view_build(&view, s, strlen(s)), 0);
	assert_int_equal(view.n, SL_JSON_MAX_DEPTH);
	free(s);
}

static void nesting_of_65_is_too_big(void **state)
{
	char *s = nested(SL_JSON_MAX_DEPTH + 1);

	(void)state;
	assert_int_equal(sl_view_build(&view, s, strlen(s)), -SL_ETOOBIG);
	free(s);
	/* the next document parses: the handle was replaced */
	assert_int_equal(sl_view_build(&view, S("{\"a\":1}")), 0);
}

static void non_objects_do_not_parse(void **state)
{
	static const char *bad[] = {
	    "[1]",
	    "\"s\"",
	    "1",
	    "true",
	    "null",
	    "",
	    "   ",
	    "{} {}",
	    "{}x",
	    "{} 1",
	    "{\"a\":1",
	    "{\"a\" 1}",
	    "{\"a\":\"b\tc\"}",
	    "{\f\"a\":1}",
	    "{\"a\":1\v}",
	    "{'a':1}",
	    "{\"a\":01}",
	    "{\"a\":1,}",
	    "{\"a\":[1,]}",
	    "{\"a\":tru}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(sl_view_build(&view, bad[i], strlen(bad[i])),
				 -SL_EPARSE);
	assert_int_equal(sl_view_build(&view, S("{}\r\n")), 0);
}

static void nul_byte_is_not_the_end(void **state)
{
	(void)state;
	assert_int_equal(sl_view_build(&view, S("{\"a\":1}\0")), -SL_EPARSE);
	assert_int_equal(sl_view_build(&view, S("{\"a\":\"x\0y\"}")),
			 -SL_EPARSE);
	assert_int_equal(sl_view_build(&view, S("{\"a\\u0000b\":1}")), 0);
	assert_int_equal(
	    sl_view_find_key(&view, "{\"a\\u0000b\":1}", 0, S("a\0b")), 1);
}

/* Root lookups go through a hash index from the second one on. */
static void root_index_finds_every_key_and_the_last_repeat(void **state)
{
	const char *t =
	    "{\"a\":1,\"k\":1,\"bb\":{\"k\":9},\"ccc\":3,\"dddd\":4,"
	    "\"eeeee\":5,\"k\":2,\"ffffff\":[1,2,3],\"g\":7,"
	    "\"status\":200,\"statue\":201,\"h\":null}";
	const char *keys[] = {"a",	"bb", "ccc",	"dddd",	  "eeeee",
			      "ffffff", "g",  "status", "statue", "h"};

	(void)state;
	assert_int_equal(sl_view_build(&view, t, strlen(t)), 0);
	for (int round = 0; round < 3; round++) {
		uint32_t k = sl_view_find_key(&view, t, 0, S("k"));

		/* the second "k" (value 2), not the first or the nested one */
		assert_int_not_equal(k, UINT32_MAX);
		assert_span(t, view.nodes[k].val_off, view.nodes[k].val_len,
			    "2");
		assert_int_equal(sl_view_find_key(&view, t, 0, S("zz")),
				 UINT32_MAX);
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			uint32_t n = sl_view_find_key(&view, t, 0, keys[i],
						      strlen(keys[i]));

			assert_int_not_equal(n, UINT32_MAX);
			assert_span(t, view.nodes[n].key_off,
				    view.nodes[n].key_len, keys[i]);
		}
	}
	assert_true(view.root_bits > 0 && view.root_bits != 0xff);
	/* a rebuild drops the index of the previous text */
	assert_int_equal(sl_view_build(&view, S("{\"k\":5,\"a\":1}")), 0);
	assert_int_equal(view.root_bits, 0);
	assert_int_equal(
	    sl_view_find_key(&view, "{\"k\":5,\"a\":1}", 0, S("k")), 1);
}

static void escaped_keys_are_found_by_plain_name(void **state)
{
	const char *t = "{\"plain\":1,\"tab\\tkey\":2,\"\\u00e9t\\u00e9\":3}";

	(void)state;
	assert_int_equal(sl_view_build(&view, t, strlen(t)), 0);
	assert_false(view.nodes[1].key_escaped);
	assert_true(view.nodes[2].key_escaped);
	assert_span(t, view.nodes[2].key_off, view.nodes[2].key_len,
		    "tab\\tkey");
	assert_int_equal(sl_view_find_key(&view, t, 0, S("tab\tkey")), 2);
	assert_int_equal(sl_view_find_key(&view, t, 0, S("\xC3\xA9t\xC3\xA9")),
			 3);
	assert_int_equal(sl_view_find_key(&view, t, 0, S("tab\\tkey")),
			 UINT32_MAX);
	assert_int_equal(sl_view_find_key(&view, t, 0, S("plai")), UINT32_MAX);
}

static void repeated_keys_resolve_to_the_last(void **state)
{
	const char *t = "{\"a\":1,\"b\":2,\"a\":3}";

	(void)state;
	assert_int_equal(sl_view_build(&view, t, strlen(t)), 0);
	assert_int_equal(sl_view_find_key(&view, t, 0, S("a")), 3);
}

static void array_items_are_found_by_index(void **state)
{
	const char *t = "{\"a\":[{\"x\":1},[2,3],4]}";

	(void)state;
	assert_int_equal(sl_view_build(&view, t, strlen(t)), 0);
	assert_span(t, view.nodes[sl_view_find_index(&view, 1, 2)].val_off, 1,
		    "4");
	assert_int_equal(sl_view_find_index(&view, 1, 1), 4);
	assert_int_equal(sl_view_find_index(&view, 1, 3), UINT32_MAX);
	assert_int_equal(sl_view_find_index(&view, 0, 0), UINT32_MAX);
	assert_int_equal(sl_view_find_key(&view, t, 1, S("x")), UINT32_MAX);
}

static void view_storage_is_reused(void **state)
{
	struct sl_view_node *nodes;

	(void)state;
	assert_int_equal(sl_view_build(&view, S("{\"a\":[1,2,3]}")), 0);
	nodes = view.nodes;
	for (int i = 0; i < 100; i++)
		assert_int_equal(sl_view_build(&view, S("{\"b\":{\"c\":1}}")),
				 0);
	assert_ptr_equal(view.nodes, nodes);
	assert_int_equal(view.n, 3);
}

static void check_unescape(const char *in, size_t in_len, const char *want,
			   size_t want_len)
{
	struct sl_buf b = {0};

	assert_int_equal(sl_json_unescape_append(&b, in, in_len), 0);
	assert_int_equal(b.len, want_len);
	assert_memory_equal(b.data, want, want_len);
	sl_buf_destroy(&b);
}

static void unescape_decodes_every_escape(void **state)
{
	(void)state;
	check_unescape(S("a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t"),
		       S("a\"b\\c/d\b\f\n\r\t"));
	check_unescape(S("\\u0041\\u00e9\\u20AC"), S("A\xC3\xA9\xE2\x82\xAC"));
	check_unescape(S("x\\u0000y"), S("x\0y"));
}

static void unescape_joins_surrogate_pairs(void **state)
{
	(void)state;
	check_unescape(S("\\ud83d\\ude00"), S("\xF0\x9F\x98\x80"));
}

static void unescape_replaces_lone_surrogates(void **state)
{
	(void)state;
	check_unescape(S("\\ud83d"), S(FFFD));
	check_unescape(S("\\ude00x"), S(FFFD "x"));
	check_unescape(S("\\ud83d\\u0041"), S(FFFD "A"));
	check_unescape(S("\\ud83d\\ud83d\\ude00"), S(FFFD "\xF0\x9F\x98\x80"));
}

static void unescape_rejects_bad_escapes(void **state)
{
	struct sl_buf b = {0};

	(void)state;
	assert_int_equal(sl_json_unescape_append(&b, S("\\x")), -SL_EPARSE);
	assert_int_equal(sl_json_unescape_append(&b, S("\\u12")), -SL_EPARSE);
	assert_int_equal(sl_json_unescape_append(&b, S("\\u12g4")), -SL_EPARSE);
	assert_int_equal(sl_json_unescape_append(&b, S("end\\")), -SL_EPARSE);
	assert_int_equal(b.len, 0);
	sl_buf_destroy(&b);
}

static void check_escape(const char *in, size_t in_len, const char *want)
{
	struct sl_buf b = {0};

	assert_int_equal(sl_json_append_string(&b, in, in_len), 0);
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.data, want, b.len);
	sl_buf_destroy(&b);
}

static void escape_quotes_and_controls(void **state)
{
	(void)state;
	check_escape(S("a\"b\\c/d"), "\"a\\\"b\\\\c/d\"");
	check_escape(S("\n\t\r\b\f"), "\"\\n\\t\\r\\b\\f\"");
	check_escape(S("\x01\x1f\0"), "\"\\u0001\\u001f\\u0000\"");
	check_escape(S(""), "\"\"");
}

static void escape_keeps_utf8_and_repairs_the_rest(void **state)
{
	(void)state;
	check_escape(S("caf\xC3\xA9 \xF0\x9F\x98\x80"),
		     "\"caf\xC3\xA9 \xF0\x9F\x98\x80\"");
	check_escape(S("a\xC0\xAF"
		       "b\xED\xA0\x80"),
		     "\"a" FFFD FFFD "b" FFFD FFFD FFFD "\"");
}

static void escape_round_trips_through_unescape(void **state)
{
	const char in[] = "q\"\\/\x01\xE2\x82\xAC\n end";
	struct sl_buf e = {0}, u = {0};

	(void)state;
	assert_int_equal(sl_json_append_string(&e, in, sizeof(in) - 1), 0);
	assert_int_equal(sl_json_unescape_append(&u, e.data + 1, e.len - 2), 0);
	assert_int_equal(u.len, sizeof(in) - 1);
	assert_memory_equal(u.data, in, u.len);
	sl_buf_destroy(&e);
	sl_buf_destroy(&u);
}

/*
 * The obvious escaper, one byte at a time, for text already repaired by
 * sl_utf8_repair (a separate implementation of the U+FFFD rule): what the
 * word-at-a-time sl_json_append_string must give byte for byte.
 */
static void ref_escape(struct sl_buf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	struct sl_buf fixed = {0};
	size_t i;

	assert_true(sl_utf8_repair(&fixed, s, len) >= 0);
	assert_int_equal(sl_buf_append(out, "\"", 1), 0);
	for (i = 0; i < fixed.len; i++) {
		unsigned char c = (unsigned char)fixed.data[i];
		char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
		const char *two = NULL;

		switch (c) {
		case '"':
			two = "\\\"";
			break;
		case '\\':
			two = "\\\\";
			break;
		case '\b':
			two = "\\b";
			break;
		case '\f':
			two = "\\f";
			break;
		case '\n':
			two = "\\n";
			break;
		case '\r':
			two = "\\r";
			break;
		case '\t':
			two = "\\t";
			break;
		default:
			break;
		}
		if (two)
			assert_int_equal(sl_buf_append(out, two, 2), 0);
		else if (c < 0x20)
			assert_int_equal(sl_buf_append(out, e, 6), 0);
		else
			assert_int_equal(sl_buf_append(out, &fixed.data[i], 1),
					 0);
	}
	assert_int_equal(sl_buf_append(out, "\"", 1), 0);
	sl_buf_destroy(&fixed);
}

/* sl_json_append_string(in) equals ref_escape(in), appended after `prefix`
 * bytes already in the buffer, and the buffer stays NUL-terminated. */
static void check_like_ref(const char *in, size_t len, size_t prefix)
{
	struct sl_buf got = {0}, want = {0};

	for (size_t i = 0; i < prefix; i++) {
		assert_int_equal(sl_buf_append(&got, "p", 1), 0);
		assert_int_equal(sl_buf_append(&want, "p", 1), 0);
	}
	ref_escape(&want, in, len);
	assert_int_equal(sl_json_append_string(&got, in, len), 0);
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.data, want.data, got.len);
	assert_int_equal(got.data[got.len], '\0');
	sl_buf_destroy(&got);
	sl_buf_destroy(&want);
}

/* Every byte value, alone and at every position of a word inside a long
 * plain run (the word path, its tail and the boundary between them). */
static void escape_every_byte_at_every_offset(void **state)
{
	char in[40];

	(void)state;
	for (unsigned c = 0; c < 256; c++) {
		in[0] = (char)c;
		check_like_ref(in, 1, 0);
		for (size_t at = 0; at < 20; at++) {
			memset(in, 'a', sizeof(in));
			in[at] = (char)c;
			check_like_ref(in, 20, at % 3);
			check_like_ref(in, sizeof(in), 0);
		}
	}
	/* what the reference is held to: the escapes JSON needs */
	check_escape(S("\x7f"
		       "a\x1f"),
		     "\"\x7f"
		     "a\\u001f\"");
	check_escape(S("\x0b\x00\x1b"), "\"\\u000b\\u0000\\u001b\"");
}

/* Long plain runs, with one quote, one backslash or one multi-byte
 * character far inside, and a run that ends exactly on a word. */
static void escape_long_plain_runs(void **state)
{
	static const char *const odd[] = {
	    "\"", "\\", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\xFF"};
	char in[1100];

	(void)state;
	memset(in, 'x', sizeof(in));
	check_like_ref(in, 1024, 0);
	check_like_ref(in, 1023, 5);
	for (size_t k = 0; k < SL_ARRAY_LEN(odd); k++)
		for (size_t at = 1000; at < 1009; at++) {
			size_t n = strlen(odd[k]);

			memset(in, 'x', sizeof(in));
			memcpy(in + at, odd[k], n);
			check_like_ref(in, at + n, 0);
			check_like_ref(in, sizeof(in), 1);
		}
}

/* Output six or three times the input: the room check at each escape. */
static void escape_grows_the_buffer_at_escapes(void **state)
{
	char in[5000];

	(void)state;
	memset(in, 0x01, sizeof(in));
	check_like_ref(in, sizeof(in), 0);
	memset(in, 0xFF, sizeof(in));
	check_like_ref(in, sizeof(in), 255); /* next to a 256-byte edge */
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = "\"\x01\xFFz"[i % 4];
	check_like_ref(in, sizeof(in), 0);
}

/* Sequences cut by the end of the string or by a plain byte, overlong and
 * surrogate forms, at each word position. */
static void escape_invalid_utf8_everywhere(void **state)
{
	static const char *const bad[] = {
	    "\xC3",	    "\xE2\x82",		"\xF0\x9F\x98", "\xC0\xAF",
	    "\xED\xA0\x80", "\xF4\x90\x80\x80", "\x80\x80",	"\xF8"};
	char in[32];

	(void)state;
	for (size_t k = 0; k < SL_ARRAY_LEN(bad); k++) {
		size_t n = strlen(bad[k]);

		for (size_t at = 0; at < 12; at++) {
			memset(in, 'a', sizeof(in));
			memcpy(in + at, bad[k], n);
			check_like_ref(in, at + n, 0); /* cut by the end */
			check_like_ref(in, sizeof(in), 0);
		}
	}
	check_escape(S("a\xE2\x82"), "\"a" FFFD "\"");
}

/* Mixed strings from a fixed seed, weighted toward what needs a look. */
static void escape_matches_reference_on_mixed_strings(void **state)
{
	static const char alphabet[] = "aZ9 {}:,\"\\\n\t\x01\x1f\x7f"
				       "\xC3\xA9\xE2\x82\xAC\xF0\x9F\xED\xFF";
	uint32_t seed = 12345;
	char in[200];

	(void)state;
	for (int round = 0; round < 3000; round++) {
		size_t len;

		seed = seed * 1103515245u + 12345u;
		len = (seed >> 8) % sizeof(in);
		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			in[i] = alphabet[(seed >> 8) % (sizeof(alphabet) - 1)];
		}
		check_like_ref(in, len, (size_t)round % 9);
	}
}

/* Quote-dense strings (a JSON record escaped into a string), long enough
 * to cross the 4 KB step of the block escaper, now and then with a byte
 * that ends a block run, after prefixes that put the buffer near a
 * growth edge. */
static void escape_matches_reference_on_quote_dense_strings(void **state)
{
	static const char dense[] = "ab{}:,\"\"\"\\";
	static const char rare[] = "\x01\n\xC3\xA9\xFF\x7f";
	uint32_t seed = 777;
	char in[9000];

	(void)state;
	for (int round = 0; round < 400; round++) {
		size_t len;

		seed = seed * 1103515245u + 12345u;
		len =
		    round < 200 ? (seed >> 8) % 300 : (seed >> 8) % sizeof(in);
		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			in[i] = (seed >> 8) % 97 == 0
				    ? rare[(seed >> 16) % (sizeof(rare) - 1)]
				    : dense[(seed >> 16) % (sizeof(dense) - 1)];
		}
		check_like_ref(in, len, (size_t)round % 70);
	}
	memset(in, '"', sizeof(in));
	check_like_ref(in, sizeof(in), 0);
	check_like_ref(in, 4113, 63);
}

static void prepare_borrows_valid_text(void **state)
{
	const char t[] = "{\"a\":\"\xC3\xA9\"}";
	struct sl_buf scratch = {0};
	const char *body;
	size_t len;
	long rep = -1;

	(void)state;
	assert_int_equal(
	    sl_json_prepare_object(S(t), &scratch, &view, &body, &len, &rep),
	    0);
	assert_ptr_equal(body, t);
	assert_int_equal(len, sizeof(t) - 1);
	assert_int_equal(rep, 0);
	assert_int_equal(view.n, 2);
	sl_buf_destroy(&scratch);
}

static void prepare_repairs_invalid_utf8(void **state)
{
	const char t[] = "{\"a\":\"x\xC0\xAFy\"}";
	struct sl_buf scratch = {0};
	const char *body;
	size_t len;
	long rep = 0;

	(void)state;
	assert_int_equal(
	    sl_json_prepare_object(S(t), &scratch, &view, &body, &len, &rep),
	    0);
	assert_ptr_equal(body, scratch.data);
	assert_int_equal(rep, 2);
	assert_int_equal(len, strlen("{\"a\":\"x" FFFD FFFD "y\"}"));
	assert_memory_equal(body, "{\"a\":\"x" FFFD FFFD "y\"}", len);
	assert_span(body, view.nodes[1].val_off, view.nodes[1].val_len,
		    "\"x" FFFD FFFD "y\"");
	sl_buf_destroy(&scratch);
}

static void prepare_rejects_invalid_bytes_outside_strings(void **state)
{
	struct sl_buf scratch = {0};
	const char *body;
	size_t len;
	long rep;

	(void)state;
	assert_int_equal(sl_json_prepare_object(S("{\"a\":1\xFF}"), &scratch,
						&view, &body, &len, &rep),
			 -SL_EPARSE);
	sl_buf_destroy(&scratch);
}

/*
 * The scanner runs strings 16 bytes a step: a string of every length up to
 * 40 with a quote-like byte at every position must end, escape or fail
 * exactly where a byte-at-a-time reading says.
 */
static void string_ends_are_found_at_every_offset(void **state)
{
	char t[64];

	(void)state;
	for (size_t n = 0; n <= 40; n++) {
		for (size_t at = 0; at <= n; at++) {
			static const char special[] = {'"',  '\\', 0x01,
						       0x1f, 0x7f, (char)0x80};

			for (size_t k = 0; k < sizeof(special); k++) {
				size_t len = 0, vlen;
				int rc;

				len += (size_t)sprintf(t, "{\"k\":\"");
				memset(t + len, 'a', n);
				if (at < n)
					t[len + at] = special[k];
				len += n;
				t[len++] = '"';
				t[len++] = '}';
				rc = sl_view_build(&view, t, len);
				if (at < n && special[k] != 0x7f &&
				    special[k] != (char)0x80) {
					/* a quote ends the string early
					 * (garbage follows), "\a" is no
					 * escape and a "\"" at the end
					 * eats the closing quote; control
					 * bytes need escaping */
					assert_int_equal(rc, -SL_EPARSE);
					continue;
				}
				assert_int_equal(rc, 0);
				vlen = n + 2;
				assert_int_equal(view.n, 2);
				assert_int_equal(view.nodes[1].val_off, 5);
				assert_int_equal(view.nodes[1].val_len, vlen);
			}
		}
	}
}

/* Escapes inside long strings are checked wherever they fall. */
static void escapes_are_checked_at_every_offset(void **state)
{
	static const char *good[] = {"\\\"",	"\\\\",		 "\\/", "\\b",
				     "\\f",	"\\n",		 "\\r", "\\t",
				     "\\u00e9", "\\uD83D\\uDE00"};
	static const char *bad[] = {"\\x",     "\\u12 z", "\\u12G4",
				    "\\U0041", "\\'",	  "\\0"};
	char t[128];

	(void)state;
	for (size_t at = 0; at <= 33; at++) {
		for (size_t g = 0; g < sizeof(good) / sizeof(*good); g++) {
			int len = snprintf(
			    t, sizeof(t), "{\"k\":\"%.*s%s%s\"}", (int)at,
			    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", good[g],
			    "bbbbbbbbbbbbbbbbbbbbbbbb");

			assert_int_equal(sl_view_build(&view, t, (size_t)len),
					 0);
			assert_int_equal(view.nodes[1].val_len,
					 (uint32_t)len - 6);
		}
		for (size_t b = 0; b < sizeof(bad) / sizeof(*bad); b++) {
			int len = snprintf(
			    t, sizeof(t), "{\"k\":\"%.*s%s%s\"}", (int)at,
			    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", bad[b],
			    "bbbbbbbbbbbbbbbbbbbbbbbb");

			assert_int_equal(sl_view_build(&view, t, (size_t)len),
					 -SL_EPARSE);
		}
	}
}

/* Numbers in JSON's grammar and nothing else. */
static void numbers_follow_the_json_grammar(void **state)
{
	static const char *good[] = {"0",
				     "-0",
				     "1",
				     "-12",
				     "1.5",
				     "0.25",
				     "1e5",
				     "1E+5",
				     "2e-3",
				     "-0.0e0",
				     "123456789012345678901234"};
	static const char *bad[] = {"01",	"-",   "+1",  ".5",   "1.",
				    "1e",	"1e+", "0x1", "1.e3", "--1",
				    "Infinity", "NaN", "1 2"};
	char t[96];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
		int len = snprintf(t, sizeof(t), "{\"n\":%s}", good[i]);

		assert_int_equal(sl_view_build(&view, t, (size_t)len), 0);
		assert_int_equal(view.nodes[1].type, SL_VAL_NUMBER);
		assert_int_equal(view.nodes[1].val_len, strlen(good[i]));
		len = snprintf(t, sizeof(t), "{\"n\":[%s]}", good[i]);
		assert_int_equal(sl_view_build(&view, t, (size_t)len), 0);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		int len = snprintf(t, sizeof(t), "{\"n\":%s}", bad[i]);

		assert_int_equal(sl_view_build(&view, t, (size_t)len),
				 -SL_EPARSE);
	}
}

/* Only JSON's four white-space bytes separate tokens. */
static void only_json_white_space_separates(void **state)
{
	static const char *bad[] = {
	    "{\f\"a\":1}",  "{\"a\":1\v}",	 "\f{\"a\":1}", "{\"a\":1}\f",
	    "{\"a\" 1}",    "{\"a\":1 \"b\":2}", "{\"a\":1,}",	"{,\"a\":1}",
	    "{\"a\":[1,]}", "{\"a\":[,1]}",	 "{\"a\":tru}", "{\"a\":nulll}",
	    "{\"a\":1}}",   "{\"a\":{}",	 "{\"a\"}",	"{1:2}"};

	(void)state;
	const char *spaced = " \t\r\n{ \"a\" \t:\r\n[ 1 , {} ] }\n ";

	assert_int_equal(sl_view_build(&view, spaced, strlen(spaced)), 0);
	assert_int_equal(view.n, 4);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_int_equal(sl_view_build(&view, bad[i], strlen(bad[i])),
				 -SL_EPARSE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(view_records_value_spans),
	    cmocka_unit_test(nesting_of_64_is_accepted),
	    cmocka_unit_test(nesting_of_65_is_too_big),
	    cmocka_unit_test(non_objects_do_not_parse),
	    cmocka_unit_test(nul_byte_is_not_the_end),
	    cmocka_unit_test(escaped_keys_are_found_by_plain_name),
	    cmocka_unit_test(repeated_keys_resolve_to_the_last),
	    cmocka_unit_test(array_items_are_found_by_index),
	    cmocka_unit_test(view_storage_is_reused),
	    cmocka_unit_test(unescape_decodes_every_escape),
	    cmocka_unit_test(unescape_joins_surrogate_pairs),
	    cmocka_unit_test(unescape_replaces_lone_surrogates),
	    cmocka_unit_test(unescape_rejects_bad_escapes),
	    cmocka_unit_test(escape_quotes_and_controls),
	    cmocka_unit_test(escape_keeps_utf8_and_repairs_the_rest),
	    cmocka_unit_test(escape_round_trips_through_unescape),
	    cmocka_unit_test(escape_every_byte_at_every_offset),
	    cmocka_unit_test(escape_long_plain_runs),
	    cmocka_unit_test(escape_grows_the_buffer_at_escapes),
	    cmocka_unit_test(escape_invalid_utf8_everywhere),
	    cmocka_unit_test(escape_matches_reference_on_mixed_strings),
	    cmocka_unit_test(escape_matches_reference_on_quote_dense_strings),
	    cmocka_unit_test(prepare_borrows_valid_text),
	    cmocka_unit_test(root_index_finds_every_key_and_the_last_repeat),
	    cmocka_unit_test(prepare_repairs_invalid_utf8),
	    cmocka_unit_test(prepare_rejects_invalid_bytes_outside_strings),
	    cmocka_unit_test(string_ends_are_found_at_every_offset),
	    cmocka_unit_test(escapes_are_checked_at_every_offset),
	    cmocka_unit_test(numbers_follow_the_json_grammar),
	    cmocka_unit_test(only_json_white_space_separates),
	};
	return cmocka_run_group_tests(tests, NULL, teardown);
}
