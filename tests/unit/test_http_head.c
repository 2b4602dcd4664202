/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_http_head.c - the request-head parser and the chunked-body decoder
 * on their own: what a well-formed request yields, and that each kind of
 * malformed or smuggling-prone head is refused with the right status
 * instead of being guessed at (NUL, bare CR/LF, obs-fold, both framings).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_http_body.h"
#include "sl_http_head.h"

/* Parses a copy of `text` (len bytes, NULs allowed); returns the status. */
static int parse_n(const char *text, size_t len, struct sl_http_head *h,
		   char **keep)
{
	const char *msg = NULL;
	char *copy = malloc(len ? len : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, text, len);
	rc = sl_http_head_parse(copy, len, h, &msg);
	if (rc)
		assert_non_null(msg);
	if (keep)
		*keep = copy;
	else
		free(copy);
	return rc;
}

static int parse(const char *text, struct sl_http_head *h)
{
	return parse_n(text, strlen(text), h, NULL);
}

static void a_request_is_parsed(void **state)
{
	static const char req[] = "POST /api/events?x=1 HTTP/1.1\r\n"
				  "Host: a\r\n"
				  "Content-Type:  application/json \t\r\n"
				  "X-Empty:\r\n"
				  "Content-Length: 12\r\n\r\n";
	struct sl_http_head h;
	char *buf;

	(void)state;
	assert_int_equal(parse_n(req, strlen(req), &h, &buf), 0);
	assert_string_equal(h.method, "POST");
	assert_string_equal(h.path, "/api/events");
	assert_string_equal(h.query, "x=1");
	assert_false(h.http10);
	assert_int_equal(h.n_fields, 4);
	assert_string_equal(sl_http_head_field(&h, "content-type"),
			    "application/json");
	assert_string_equal(sl_http_head_field(&h, "X-EMPTY"), "");
	assert_int_equal(h.content_length, 12);
	assert_false(h.chunked);
	assert_true(h.keep_alive);
	free(buf);
}

static void connection_decides_keep_alive(void **state)
{
	struct sl_http_head h;

	(void)state;
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\n"
			       "Connection: keep-alive, close\r\n\r\n",
			       &h),
			 0);
	assert_false(h.keep_alive);
	assert_int_equal(parse("GET / HTTP/1.0\r\n\r\n", &h), 0);
	assert_true(h.http10);
	assert_false(h.keep_alive);
	assert_int_equal(
	    parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &h), 0);
	assert_true(h.keep_alive);
}

/* Every one of these is refused with 400, never parsed somehow. */
static void malformed_heads_are_400(void **state)
{
	static const struct {
		const char *text;
		size_t len;
	} bad[] = {
#define B(s) {s, sizeof(s) - 1}
	    B("POST /api/events HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n"),
	    B("POST /api/ev\0ents HTTP/1.1\r\nHost: x\r\n\r\n"),
	    B("GET / HTTP/1.1\nHost: x\r\n\r\n"),
	    B("GET / HTTP/1.1\r\nHost: x\nX: y\r\n\r\n"),
	    B("GET / HTTP/1.1\r\nHost: x\rX: y\r\n\r\n"),
	    B("GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n folded\r\n\r\n"),
	    B("GET / HTTP/1.1\r\n Host: x\r\n\r\n"),
	    B("GET / HTTP/1.1\r\nHost : x\r\n\r\n"),
	    B("GET / HTTP/1.1\r\nHost: x\r\n: empty\r\n\r\n"),
	    B("GET / HTTP/1.1\r\nHost: x\r\nNo colon\r\n\r\n"),
	    B("GET / HTTP/1.1\r\nHost: x\r\nX: a\x01b\r\n\r\n"),
	    B("GET / HTTP/1.1\r\nHost: x\r\nX: a\x7f\r\n\r\n"),
	    B("GET  / HTTP/1.1\r\nHost: x\r\n\r\n"),
	    B("GET / HTTP/1.1 \r\nHost: x\r\n\r\n"),
	    B("GET /a\tb HTTP/1.1\r\nHost: x\r\n\r\n"),
	    B("GET x HTTP/1.1\r\nHost: x\r\n\r\n"),
	    B("GET / HTTP/2.0\r\nHost: x\r\n\r\n"),
	    B("GET / http/1.1\r\nHost: x\r\n\r\n"),
	    B("G(T / HTTP/1.1\r\nHost: x\r\n\r\n"),
	    B("GET /\r\n\r\n"),
	    B("\r\n\r\n"),
	    B("GET / HTTP/1.1\r\nHost: x\r\n\r"),
	    B("GET / HTTP/1.1\r\n\r\n"), /* no Host in 1.1 */
	    B("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
	    B("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
	      "Transfer-Encoding: chunked\r\n\r\n"),
	    B("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
	      "Content-Length: 2\r\n\r\n"),
	    B("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +1\r\n\r\n"),
	    B("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1, 1\r\n\r\n"),
	    B("POST / HTTP/1.1\r\nHost: x\r\n"
	      "Content-Length: 99999999999999999999999\r\n\r\n"),
	    B("POST / HTTP/1.1\r\nHost: x\r\n"
	      "Transfer-Encoding: chunked, chunked\r\n\r\n"),
	    B("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
	      "Transfer-Encoding: chunked\r\n\r\n"),
	    B("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: \r\n\r\n"),
	    B("POST / HTTP/1.1\r\nHost: x\r\n"
	      "Transfer-Encoding: chunked;q=1\r\n\r\n"),
	    B("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"),
#undef B
	};
	struct sl_http_head h;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse_n(bad[i].text, bad[i].len, &h, NULL);

		if (rc != 400)
			fail_msg("case %zu: %d, not 400", i, rc);
	}
}

static void unknown_codings_are_501(void **state)
{
	struct sl_http_head h;

	(void)state;
	assert_int_equal(parse("POST / HTTP/1.1\r\nHost: x\r\n"
			       "Transfer-Encoding: gzip, chunked\r\n\r\n",
			       &h),
			 501);
	assert_int_equal(parse("POST / HTTP/1.1\r\nHost: x\r\n"
			       "Transfer-Encoding: identity\r\n\r\n",
			       &h),
			 501);
	assert_int_equal(parse("POST / HTTP/1.1\r\nHost: x\r\n"
			       "Transfer-Encoding:  Chunked \r\n\r\n",
			       &h),
			 0);
	assert_true(h.chunked);
	assert_int_equal(h.content_length, 0);
}

static void too_many_fields_are_431(void **state)
{
	char text[8192];
	size_t n = 0;
	struct sl_http_head h;

	(void)state;
	n += (size_t)snprintf(text, sizeof(text),
			      "GET / HTTP/1.1\r\nHost: x\r\n");
	for (int i = 0; i < SL_HTTP_HEAD_MAX_FIELDS; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "X%d: v\r\n",
				      i);
	memcpy(text + n, "\r\n", 3);
	assert_int_equal(parse(text, &h), 431);
}

static void head_end_finds_the_empty_line(void **state)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\nnext";
	size_t from = 0;

	(void)state;
	/* byte by byte, as a trickling client sends it */
	for (size_t n = 1; n < sizeof(req) - 5; n++)
		assert_int_equal(sl_http_head_end(req, n, &from), 0);
	assert_int_equal(sl_http_head_end(req, sizeof(req) - 1, &from),
			 sizeof(req) - 5);
	from = 0;
	assert_int_equal(sl_http_head_end("GET / HTTP/1.1\n\n", 16, &from), -1);
	from = 0;
	assert_int_equal(sl_http_head_end("GET /\0", 6, &from), -1);
	from = 0;
	assert_int_equal(sl_http_head_end("GET /\rX", 7, &from), -1);
	from = 0;
	assert_int_equal(sl_http_head_end("GET /\r", 6, &from), 0);
}

/* Decodes `in` fed in pieces of `step` bytes. */
static int decode(const char *in, size_t len, size_t step, size_t max,
		  struct sl_buf *out, size_t *used_total)
{
	struct sl_http_chunked d;
	size_t off = 0;
	int rc = 0;

	sl_http_chunked_init(&d, max, 64);
	sl_buf_reset(out);
	while (off < len) {
		size_t n = len - off < step ? len - off : step, used;

		rc = sl_http_chunked_feed(&d, in + off, n, &used, out);
		off += used;
		if (rc != 0)
			break;
		assert_int_equal(used, n);
	}
	*used_total = off;
	return rc;
}

static void chunked_bodies_decode(void **state)
{
	static const char body[] = "5;name=\"q;v\"\r\nhello\r\n"
				   "1 ; a=b\r\n \r\n"
				   "0006\r\nworld!\r\n"
				   "0\r\nX-Trailer: t\r\n\r\n"
				   "GET /next";
	struct sl_buf out = {0};
	size_t used;

	(void)state;
	for (size_t step = 1; step <= sizeof(body); step++) {
		assert_int_equal(
		    decode(body, sizeof(body) - 1, step, 100, &out, &used), 1);
		assert_int_equal(out.len, 12);
		assert_memory_equal(out.data, "hello world!", 12);
		assert_int_equal(used, sizeof(body) - 1 - 9);
	}
	assert_int_equal(decode("0\r\n\r\n", 5, 5, 100, &out, &used), 1);
	assert_int_equal(out.len, 0);
	sl_buf_destroy(&out);
}

static void bad_chunked_framing_is_refused(void **state)
{
	static const char *const bad[] = {
	    "\r\n",
	    "x\r\n",
	    "5\nhello\r\n0\r\n\r\n",
	    "5\r\nhelloX\r\n0\r\n\r\n",
	    "5\r\nhello\n0\r\n\r\n",
	    "5 x\r\nhello\r\n0\r\n\r\n",
	    "5;a\x01\r\nhello\r\n0\r\n\r\n",
	    "0\r\n folded: x\r\n\r\n",
	    "0\r\nX-T: a\x7f\r\n\r\n",
	    "0\r\nX-T\r\n\r\n",
	    "0\r\n\r\r",
	    "-1\r\n",
	};
	struct sl_buf out = {0};
	size_t used;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (decode(bad[i], strlen(bad[i]), 3, 100, &out, &used) !=
		    -SL_EPARSE)
			fail_msg("case %zu accepted", i);
	sl_buf_destroy(&out);
}

static void chunked_limits_are_413(void **state)
{
	struct sl_buf out = {0};
	char trailer[256];
	size_t used;

	(void)state;
	/* over max_body: refused at the size line, before the data */
	assert_int_equal(decode("b\r\n", 3, 3, 10, &out, &used), -SL_ETOOBIG);
	assert_int_equal(out.len, 0);
	assert_int_equal(decode("5\r\nhello\r\n6\r\n", 13, 13, 10, &out, &used),
			 -SL_ETOOBIG);
	assert_int_equal(
	    decode("ffffffffffffffffffffffff\r\n", 26, 26, 10, &out, &used),
	    -SL_ETOOBIG);
	/* exactly max_body is fine */
	assert_int_equal(
	    decode("a\r\n0123456789\r\n0\r\n\r\n", 20, 4, 10, &out, &used), 1);
	/* trailers are bounded too (64 bytes here) */
	snprintf(trailer, sizeof(trailer), "0\r\nX: %0100d\r\n\r\n", 0);
	assert_int_equal(decode(trailer, strlen(trailer), 7, 10, &out, &used),
			 -SL_ETOOBIG);
	sl_buf_destroy(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(a_request_is_parsed),
	    cmocka_unit_test(connection_decides_keep_alive),
	    cmocka_unit_test(malformed_heads_are_400),
	    cmocka_unit_test(unknown_codings_are_501),
	    cmocka_unit_test(too_many_fields_are_431),
	    cmocka_unit_test(head_end_finds_the_empty_line),
	    cmocka_unit_test(chunked_bodies_decode),
	    cmocka_unit_test(bad_chunked_framing_is_refused),
	    cmocka_unit_test(chunked_limits_are_413),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
