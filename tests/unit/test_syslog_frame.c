/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_syslog_frame.c - the RFC 6587 framer on its own: octet counting and
 * LF / CRLF / NUL framing, both on one connection, the same messages
 * whether the bytes come whole or one at a time, oversize messages skipped
 * and counted without losing the next ones, digits that are no length,
 * stopping when the input pauses, and the end of the stream.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../inputs/syslog/syslog_frame.h"

struct got {
	char *v[32];
	size_t len[32];
	size_t n;
	size_t stop_after; /* return 1 after this many (0: never) */
};

static int collect(void *arg, const char *msg, size_t len)
{
	struct got *g = arg;

	assert_true(g->n < 32);
	assert_true(len > 0);
	g->v[g->n] = malloc(len + 1);
	assert_non_null(g->v[g->n]);
	memcpy(g->v[g->n], msg, len);
	g->v[g->n][len] = '\0';
	g->len[g->n] = len;
	g->n++;
	return g->stop_after && g->n == g->stop_after ? 1 : 0;
}

static void got_free(struct got *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->v[i]);
	memset(g, 0, sizeof(*g));
}

/* Feeds `len` bytes `step` at a time, then ends the stream. */
static void run(struct syslog_framer *f, const char *in, size_t len,
		size_t step, struct got *g)
{
	for (size_t off = 0; off < len;) {
		size_t n = len - off < step ? len - off : step;

		assert_int_equal(syslog_framer_feed(f, in + off, n, collect, g),
				 (long)n);
		off += n;
	}
	assert_int_equal(syslog_framer_finish(f, collect, g), 0);
}

static const char mixed[] = "<13>line one\n"
			    "17 <13>octet\ncounted"
			    "<13>crlf line\r\n"
			    "<13>nul ended\0"
			    "\n\n"
			    "9 <13>x\ny z"
			    "\n"
			    "<13>last without LF";

static void mixed_framing(void **state)
{
	static const char *const want[] = {
	    "<13>line one",  "<13>octet\ncounted", "<13>crlf line",
	    "<13>nul ended", "<13>x\ny z",	   "<13>last without LF",
	};
	static const size_t steps[] = {sizeof(mixed), 1, 2, 3, 7};

	(void)state;
	for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
		struct syslog_framer f;
		struct got g = {0};

		syslog_framer_init(&f, 1024, 64);
		run(&f, mixed, sizeof(mixed) - 1, steps[s], &g);
		assert_int_equal(g.n, 6);
		for (size_t i = 0; i < 6; i++)
			assert_string_equal(g.v[i], want[i]);
		assert_int_equal(f.octet_frames, 2);
		assert_int_equal(f.oversize, 0);
		got_free(&g);
		syslog_framer_destroy(&f);
	}
}

static void oversize_skipped_then_next(void **state)
{
	struct syslog_framer f;
	struct got g = {0};
	char in[256];
	int n;

	(void)state;
	/* max 10: an 11-byte octet frame and a 12-byte line are skipped;
	 * exactly 10 with CRLF is kept; the message after each is kept */
	n = snprintf(in, sizeof(in),
		     "11 <13>12345679 <13>ok-ok"
		     "<13>12345678\n<13>ok2\n<13>456789\r\n");
	for (size_t step = 1; step <= (size_t)n; step += (size_t)n - 1) {
		syslog_framer_init(&f, 10, 4);
		run(&f, in, (size_t)n, step, &g);
		assert_int_equal(g.n, 3);
		assert_string_equal(g.v[0], "<13>ok-ok");
		assert_string_equal(g.v[1], "<13>ok2");
		assert_string_equal(g.v[2], "<13>456789");
		assert_int_equal(f.oversize, 2);
		got_free(&g);
		syslog_framer_destroy(&f);
	}
}

static void digits_without_space_are_a_line(void **state)
{
	struct syslog_framer f;
	struct got g = {0};
	static const char in[] = "123abc\n0 zero\n1234567890123 long\n";

	(void)state;
	syslog_framer_init(&f, 100, 16);
	run(&f, in, sizeof(in) - 1, 1, &g);
	assert_int_equal(g.n, 3);
	assert_string_equal(g.v[0], "123abc");
	assert_string_equal(g.v[1], "0 zero");
	assert_string_equal(g.v[2], "1234567890123 long");
	got_free(&g);
	syslog_framer_destroy(&f);
}

static void huge_length_skips_without_buffering(void **state)
{
	struct syslog_framer f;
	struct got g = {0};
	char in[600];

	(void)state;
	/* a 500-byte frame over a 100-byte limit: skipped as it streams, the
	 * buffer never grows past the limit */
	memset(in, 'a', sizeof(in));
	memcpy(in, "500 ", 4);
	memcpy(in + 504, "<13>after\n", 10);
	syslog_framer_init(&f, 100, 16);
	for (size_t i = 0; i < 514; i++) {
		assert_int_equal(syslog_framer_feed(&f, in + i, 1, collect, &g),
				 1);
		assert_true(f.buf.cap <= 256); /* its first allocation */
	}
	assert_int_equal(g.n, 1);
	assert_string_equal(g.v[0], "<13>after");
	assert_int_equal(f.oversize, 1);
	got_free(&g);
	syslog_framer_destroy(&f);
}

static void stops_when_asked(void **state)
{
	struct syslog_framer f;
	struct got g = {.stop_after = 1};
	static const char in[] = "<13>a\n<13>b\n";
	long used;

	(void)state;
	syslog_framer_init(&f, 100, 16);
	used = syslog_framer_feed(&f, in, sizeof(in) - 1, collect, &g);
	assert_int_equal(used, 6); /* "<13>a\n": the rest is left */
	assert_int_equal(g.n, 1);
	g.stop_after = 0;
	assert_int_equal(syslog_framer_feed(&f, in + used,
					    sizeof(in) - 1 - (size_t)used,
					    collect, &g),
			 (long)(sizeof(in) - 1 - (size_t)used));
	assert_int_equal(g.n, 2);
	assert_string_equal(g.v[1], "<13>b");
	got_free(&g);
	syslog_framer_destroy(&f);
}

static void cut_octet_frame_is_counted(void **state)
{
	struct syslog_framer f;
	struct got g = {0};

	(void)state;
	syslog_framer_init(&f, 100, 16);
	run(&f, "50 <13>short", 12, 3, &g);
	assert_int_equal(g.n, 0);
	assert_int_equal(f.truncated, 1);
	syslog_framer_destroy(&f);
}

static void large_buffer_released(void **state)
{
	struct syslog_framer f;
	struct got g = {0};
	static char in[70000];
	int n;

	(void)state;
	/* one 65 KB message must not keep 65 KB for the connection */
	n = snprintf(in, sizeof(in), "65536 ");
	memset(in + n, 'm', 65536);
	syslog_framer_init(&f, 1 << 20, 4096);
	assert_int_equal(
	    syslog_framer_feed(&f, in, (size_t)n + 65536, collect, &g),
	    n + 65536);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.len[0], 65536);
	assert_true(f.buf.cap <= 4096);
	got_free(&g);
	syslog_framer_destroy(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(mixed_framing),
	    cmocka_unit_test(oversize_skipped_then_next),
	    cmocka_unit_test(digits_without_space_are_a_line),
	    cmocka_unit_test(huge_length_skips_without_buffering),
	    cmocka_unit_test(stops_when_asked),
	    cmocka_unit_test(cut_octet_frame_is_counted),
	    cmocka_unit_test(large_buffer_released),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
