/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_multiline.c - tail's multiline.parser engine without the engine:
 * cri partials joined until F, docker "log" parts joined until "\n", a list
 * tried in order, the go / java / python / ruby stack-trace built-ins,
 * [MULTILINE_PARSER] regex rules (start_state -> cont),
 * endswith / equal with negate, key_content on JSON lines, flush_timeout
 * driven by an injected clock, the size cap, and unknown names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../inputs/tail/tail_multiline.h"
#include "sl_test.h"

#define MS	INT64_C(1000000)
#define READ_TS INT64_C(5000000000)

struct out {
	char *text[16], *base[16];
	int64_t ts[16], start[16], end[16];
	size_t n;
};

static int collect(void *arg, const struct tail_ml_out *o)
{
	struct out *c = arg;

	assert_true(c->n < 16);
	c->text[c->n] = strndup(o->text, o->len);
	c->base[c->n] = o->base ? strndup(o->base, o->base_len) : NULL;
	if (o->base)
		assert_string_equal(o->key, "log");
	c->ts[c->n] = o->ts_ns;
	c->start[c->n] = o->start;
	c->end[c->n] = o->end;
	c->n++;
	return 0;
}

static void out_free(struct out *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->text[i]);
		free(c->base[i]);
	}
	memset(c, 0, sizeof(*c));
}

struct fx {
	struct sl_conf conf;
	struct sl_diag diag;
	struct sl_parsers *ps;
	struct tail_ml ml;
	struct tail_ml_group g;
	struct out out;
	int64_t off; /* file offset of the next line fed */
	int64_t now; /* injected monotonic clock */
};

/* Loads `parsers` (a Parsers_File text, may be NULL), then the list. */
static int fx_setup(struct fx *f, const char *parsers, const char *list,
		    size_t max_len, char *err, size_t err_len)
{
	char buf[256];
	int rc = 0;

	memset(f, 0, sizeof(*f));
	sl_conf_init(&f->conf);
	if (parsers) {
		char *path = sl_test_write_temp(parsers);

		assert_non_null(path);
		assert_int_equal(
		    sl_conf_load_parsers(&f->conf, path, NULL, &f->diag), 0);
		unlink(path);
		free(path);
	}
	assert_int_equal(sl_parsers_build(&f->conf, &f->diag, &f->ps), 0);
	assert_int_equal(tail_ml_init(&f->ml, max_len), 0);
	tail_ml_group_init(&f->g);
	snprintf(buf, sizeof(buf), "%s", list);
	for (char *save = NULL, *t = strtok_r(buf, ",", &save); t && rc == 0;
	     t = strtok_r(NULL, ",", &save))
		rc = tail_ml_add(&f->ml, t, f->ps, err, err_len);
	return rc;
}

static void fx_free(struct fx *f)
{
	tail_ml_group_destroy(&f->g);
	tail_ml_destroy(&f->ml);
	sl_parsers_destroy(f->ps);
	sl_conf_destroy(&f->conf);
	sl_diag_destroy(&f->diag);
	out_free(&f->out);
}

static void feed(struct fx *f, const char *line)
{
	size_t len = strlen(line);

	assert_true(tail_ml_feed(&f->ml, &f->g, line, len, f->off,
				 f->off + (int64_t)len + 1, READ_TS, f->now,
				 collect, &f->out) >= 0);
	f->off += (int64_t)len + 1;
}

static void flush(struct fx *f)
{
	assert_true(tail_ml_flush(&f->ml, &f->g, collect, &f->out) >= 0);
}

/* ---- built-ins ------------------------------------------------------------
 */

static void cri_partials_joined_until_full(void **state)
{
	struct fx f;
	char err[256];

	(void)state;
	assert_int_equal(fx_setup(&f, NULL, "cri", 1 << 20, err, sizeof(err)),
			 0);
	feed(&f, "2024-01-01T00:00:00.000000001Z stdout P hello ");
	feed(&f, "2024-01-01T00:00:00.5Z stdout P wor");
	assert_int_equal(f.out.n, 0);
	assert_true(tail_ml_pending(&f.g));
	feed(&f, "2024-01-01T00:00:01Z stdout F ld");
	assert_int_equal(f.out.n, 1);
	assert_false(tail_ml_pending(&f.g));
	assert_string_equal(f.out.text[0], "hello world");
	assert_string_equal(f.out.base[0],
			    "{\"time\":\"2024-01-01T00:00:00.000000001Z\","
			    "\"stream\":\"stdout\"}");
	/* the time of the first part, parsed */
	assert_int_equal(f.out.ts[0], INT64_C(1704067200000000001));
	assert_int_equal(f.out.start[0], 0);
	assert_int_equal(f.out.end[0], f.off);
	/* a full line alone, and an empty full line */
	feed(&f, "2024-01-01T00:00:02Z stderr F single");
	feed(&f, "2024-01-01T00:00:03Z stdout F");
	assert_int_equal(f.out.n, 3);
	assert_string_equal(f.out.text[1], "single");
	assert_non_null(strstr(f.out.base[1], "\"stderr\""));
	assert_string_equal(f.out.text[2], "");
	fx_free(&f);
}

static void docker_log_parts_joined_until_newline(void **state)
{
	struct fx f;
	char err[256];
	const char *l1 = "{\"log\":\"part one, \",\"stream\":\"stdout\","
			 "\"time\":\"2024-01-01T00:00:00.25Z\"}";

	(void)state;
	assert_int_equal(
	    fx_setup(&f, NULL, "docker", 1 << 20, err, sizeof(err)), 0);
	feed(&f, l1);
	feed(&f, "{\"log\":\"part two\\n\",\"stream\":\"stdout\","
		 "\"time\":\"2024-01-01T00:00:01Z\"}");
	assert_int_equal(f.out.n, 1);
	assert_string_equal(f.out.text[0], "part one, part two\n");
	/* the first line's object: stream and time kept, log replaced later */
	assert_string_equal(f.out.base[0], l1);
	assert_int_equal(f.out.ts[0], INT64_C(1704067200250000000));
	feed(&f, "{\"log\":\"whole\\n\",\"stream\":\"stderr\"}");
	assert_int_equal(f.out.n, 2);
	assert_string_equal(f.out.text[1], "whole\n");
	assert_int_equal(f.out.ts[1], READ_TS); /* no time: read time */
	fx_free(&f);
}

static void list_is_tried_in_order_and_others_pass_alone(void **state)
{
	struct fx f;
	char err[256];

	(void)state;
	assert_int_equal(
	    fx_setup(&f, NULL, "docker,cri", 1 << 20, err, sizeof(err)), 0);
	feed(&f, "{\"log\":\"d\\n\"}");
	feed(&f, "2024-01-01T00:00:00Z stdout F c");
	feed(&f, "plain text");
	feed(&f, "{\"not_log\":1}");
	assert_int_equal(f.out.n, 4);
	assert_string_equal(f.out.text[0], "d\n");
	assert_non_null(f.out.base[0]);
	assert_string_equal(f.out.text[1], "c");
	assert_non_null(strstr(f.out.base[1], "stream"));
	assert_string_equal(f.out.text[2], "plain text");
	assert_null(f.out.base[2]);
	assert_string_equal(f.out.text[3], "{\"not_log\":1}");
	assert_null(f.out.base[3]);
	/* a pending cri group ends when a line of another format comes */
	feed(&f, "2024-01-01T00:00:00Z stdout P half");
	feed(&f, "other");
	assert_int_equal(f.out.n, 6);
	assert_string_equal(f.out.text[4], "half");
	assert_string_equal(f.out.text[5], "other");
	fx_free(&f);
}

/* ---- stack-trace built-ins ------------------------------------------------
 */

/* Feeds `lines` (NULL-terminated) to built-in `name` and flushes. */
static void run_builtin(struct fx *f, const char *name,
			const char *const *lines)
{
	char err[256];

	assert_int_equal(fx_setup(f, NULL, name, 1 << 20, err, sizeof(err)), 0);
	for (size_t i = 0; lines[i]; i++)
		feed(f, lines[i]);
	flush(f);
}

static void java_stack_trace_joined(void **state)
{
	static const char *const lines[] = {
	    "2024-01-01 12:00:00 INFO starting",
	    "Exception in thread \"main\" java.lang.IllegalStateException: "
	    "bad state",
	    "\tat com.x.Y.z(Y.java:10)",
	    "\tat com.x.Y.main(Y.java:4)",
	    "Caused by: java.lang.IllegalArgumentException: bad arg",
	    "\tat com.x.Y.check(Y.java:20)",
	    "\t... 2 more",
	    "2024-01-01 12:00:01 INFO still running",
	    NULL,
	};
	struct fx f;

	(void)state;
	run_builtin(&f, "java", lines);
	assert_int_equal(f.out.n, 3);
	assert_string_equal(f.out.text[0], lines[0]);
	assert_string_equal(f.out.text[1],
			    "Exception in thread \"main\" "
			    "java.lang.IllegalStateException: bad state\n"
			    "\tat com.x.Y.z(Y.java:10)\n"
			    "\tat com.x.Y.main(Y.java:4)\n"
			    "Caused by: java.lang.IllegalArgumentException: "
			    "bad arg\n"
			    "\tat com.x.Y.check(Y.java:20)\n"
			    "\t... 2 more");
	assert_string_equal(f.out.text[2], lines[7]);
	assert_int_equal(f.ml.min_flush_ns, 4000 * MS); /* Fluent Bit's */
	fx_free(&f);
}

static void python_traceback_joined(void **state)
{
	static const char *const lines[] = {
	    "handling request",
	    "Traceback (most recent call last):",
	    "  File \"x.py\", line 1, in <module>",
	    "    main()",
	    "  File \"x.py\", line 7, in main",
	    "    raise ValueError(\"bad\")",
	    "ValueError: bad",
	    "next request",
	    NULL,
	};
	struct fx f;

	(void)state;
	run_builtin(&f, "python", lines);
	assert_int_equal(f.out.n, 3);
	assert_string_equal(f.out.text[0], "handling request");
	assert_string_equal(f.out.text[1],
			    "Traceback (most recent call last):\n"
			    "  File \"x.py\", line 1, in <module>\n"
			    "    main()\n"
			    "  File \"x.py\", line 7, in main\n"
			    "    raise ValueError(\"bad\")\n"
			    "ValueError: bad");
	/* the exception line ended the group: no wait for a next line */
	assert_string_equal(f.out.text[2], "next request");
	fx_free(&f);
}

static void go_panic_joined(void **state)
{
	static const char *const lines[] = {
	    "listening on :8080",
	    "panic: runtime error: index out of range [3] with length 3",
	    "",
	    "goroutine 1 [running]:",
	    "main.main()",
	    "\t/x/main.go:5 +0x1d",
	    "exit status 2",
	    NULL,
	};
	struct fx f;

	(void)state;
	run_builtin(&f, "go", lines);
	assert_int_equal(f.out.n, 3);
	assert_string_equal(f.out.text[0], "listening on :8080");
	assert_string_equal(f.out.text[1],
			    "panic: runtime error: index out of range [3] "
			    "with length 3\n"
			    "\n"
			    "goroutine 1 [running]:\n"
			    "main.main()\n"
			    "\t/x/main.go:5 +0x1d");
	assert_string_equal(f.out.text[2], "exit status 2");
	fx_free(&f);
}

static void ruby_backtrace_joined(void **state)
{
	static const char *const lines[] = {
	    "I, [2024-01-01T12:00:00] INFO -- : booting",
	    "/app/lib/x.rb:10:in `foo': undefined method `bar' for nil "
	    "(NoMethodError)",
	    "\tfrom /app/lib/x.rb:20:in `run'",
	    "\tfrom /app/main.rb:3:in `<main>'",
	    "I, [2024-01-01T12:00:01] INFO -- : retrying",
	    NULL,
	};
	struct fx f;

	(void)state;
	run_builtin(&f, "ruby", lines);
	assert_int_equal(f.out.n, 3);
	assert_string_equal(f.out.text[0], lines[0]);
	assert_string_equal(f.out.text[1],
			    "/app/lib/x.rb:10:in `foo': undefined method `bar' "
			    "for nil (NoMethodError)\n"
			    "\tfrom /app/lib/x.rb:20:in `run'\n"
			    "\tfrom /app/main.rb:3:in `<main>'");
	assert_string_equal(f.out.text[2], lines[4]);
	fx_free(&f);
}

/* On a JSON line the rules look at "log", which gets the joined text. */
static void builtins_join_the_log_field_of_json_lines(void **state)
{
	static const char *const lines[] = {
	    "{\"log\":\"java.lang.RuntimeException: x\",\"pod\":\"a\"}",
	    "{\"log\":\"\\tat A.b(A.java:1)\",\"pod\":\"a\"}",
	    "{\"log\":\"done\",\"pod\":\"a\"}",
	    NULL,
	};
	struct fx f;

	(void)state;
	run_builtin(&f, "java", lines);
	assert_int_equal(f.out.n, 2);
	assert_string_equal(f.out.text[0], "java.lang.RuntimeException: x\n"
					   "\tat A.b(A.java:1)");
	assert_string_equal(f.out.base[0], lines[0]);
	/* taken by no rule: the line goes out as it came, like without one */
	assert_string_equal(f.out.text[1], lines[2]);
	assert_null(f.out.base[1]);
	fx_free(&f);
}

/* ---- [MULTILINE_PARSER] -------------------------------------------------- */

static const char *const REGEX_ML =
    "[MULTILINE_PARSER]\n"
    "    name          multiline-regex\n"
    "    type          regex\n"
    "    flush_timeout 500\n"
    "    rule \"start_state\" \"/^[A-Z][a-z]{2} \\d+ /\" \"cont\"\n"
    "    rule \"cont\"        \"/^\\s+at /\"          \"cont\"\n";

static void regex_rules_join_start_and_continuations(void **state)
{
	struct fx f;
	char err[256];

	(void)state;
	assert_int_equal(fx_setup(&f, REGEX_ML, "multiline-regex", 1 << 20, err,
				  sizeof(err)),
			 0);
	feed(&f, "orphan before any start");
	assert_int_equal(f.out.n, 1); /* no group, no start: alone */
	feed(&f, "Dec 14 boom");
	feed(&f, "    at a()");
	feed(&f, "    at b()");
	assert_int_equal(f.out.n, 1);
	feed(&f, "Dec 15 next");
	assert_int_equal(f.out.n, 2);
	assert_string_equal(f.out.text[1],
			    "Dec 14 boom\n    at a()\n    at b()");
	assert_null(f.out.base[1]);
	assert_int_equal(f.out.start[1], 24);
	assert_int_equal(f.out.end[1], 24 + 12 + 11 + 11);
	/* a line matching no rule ends the group and goes alone */
	feed(&f, "garbage");
	assert_int_equal(f.out.n, 4);
	assert_string_equal(f.out.text[2], "Dec 15 next");
	assert_string_equal(f.out.text[3], "garbage");
	feed(&f, "Jan 1 last");
	flush(&f);
	assert_int_equal(f.out.n, 5);
	assert_string_equal(f.out.text[4], "Jan 1 last");
	fx_free(&f);
}

static void flush_timeout_emits_a_group_left_waiting(void **state)
{
	struct fx f;
	char err[256];

	(void)state;
	assert_int_equal(fx_setup(&f, REGEX_ML, "multiline-regex", 1 << 20, err,
				  sizeof(err)),
			 0);
	assert_int_equal(f.ml.min_flush_ns, 500 * MS);
	f.now = 1000 * MS;
	feed(&f, "Dec 14 boom");
	f.now = 1400 * MS;
	feed(&f, "    at a()"); /* a continuation restarts the wait */
	assert_int_equal(
	    tail_ml_expire(&f.ml, &f.g, 1899 * MS, collect, &f.out), 0);
	assert_int_equal(f.out.n, 0);
	assert_true(tail_ml_pending(&f.g));
	assert_int_equal(
	    tail_ml_expire(&f.ml, &f.g, 1900 * MS, collect, &f.out), 0);
	assert_int_equal(f.out.n, 1);
	assert_false(tail_ml_pending(&f.g));
	assert_string_equal(f.out.text[0], "Dec 14 boom\n    at a()");
	fx_free(&f);
}

static void key_content_of_json_lines(void **state)
{
	struct fx f;
	char err[256];
	const char *first = "{\"log\":\"Dec 1 start\",\"level\":\"error\"}";

	(void)state;
	assert_int_equal(
	    fx_setup(&f,
		     "[MULTILINE_PARSER]\n    name js\n"
		     "    type regex\n    key_content log\n"
		     "    rule \"start_state\" \"/^Dec/\" \"cont\"\n"
		     "    rule \"cont\" \"/^ /\" \"cont\"\n",
		     "js", 1 << 20, err, sizeof(err)),
	    0);
	feed(&f, first);
	feed(&f, "{\"log\":\" more\",\"level\":\"error\"}");
	flush(&f);
	assert_int_equal(f.out.n, 1);
	assert_string_equal(f.out.text[0], "Dec 1 start\n more");
	assert_string_equal(f.out.base[0], first);
	fx_free(&f);
}

static void endswith_negate_joins_backslash_continuations(void **state)
{
	struct fx f;
	char err[256];

	(void)state;
	assert_int_equal(fx_setup(&f,
				  "[MULTILINE_PARSER]\n    name bs\n"
				  "    type endswith\n    match_string \\\n"
				  "    negate true\n",
				  "bs", 1 << 20, err, sizeof(err)),
			 0);
	feed(&f, "a \\");
	feed(&f, "b \\");
	assert_int_equal(f.out.n, 0);
	feed(&f, "c");
	feed(&f, "d");
	assert_int_equal(f.out.n, 2);
	assert_string_equal(f.out.text[0], "a \\\nb \\\nc");
	assert_string_equal(f.out.text[1], "d");
	fx_free(&f);
}

static void equal_ends_the_group_on_the_marker(void **state)
{
	struct fx f;
	char err[256];

	(void)state;
	assert_int_equal(fx_setup(&f,
				  "[MULTILINE_PARSER]\n    name eq\n"
				  "    type equal\n    match_string END\n",
				  "eq", 1 << 20, err, sizeof(err)),
			 0);
	feed(&f, "one");
	feed(&f, "two");
	feed(&f, "END");
	feed(&f, "three");
	assert_int_equal(f.out.n, 1);
	assert_string_equal(f.out.text[0], "one\ntwo\nEND");
	flush(&f);
	assert_int_equal(f.out.n, 2);
	assert_string_equal(f.out.text[1], "three");
	fx_free(&f);
}

static void a_group_never_grows_past_the_cap(void **state)
{
	struct fx f;
	char err[256];

	(void)state;
	assert_int_equal(fx_setup(&f, NULL, "cri", 10, err, sizeof(err)), 0);
	feed(&f, "2024-01-01T00:00:00Z stdout P 123456");
	feed(&f, "2024-01-01T00:00:00Z stdout P 7890ab");
	assert_int_equal(f.out.n, 1); /* 12 bytes would pass the 10-byte cap */
	assert_string_equal(f.out.text[0], "123456");
	feed(&f, "2024-01-01T00:00:00Z stdout F c");
	assert_int_equal(f.out.n, 2);
	assert_string_equal(f.out.text[1], "7890abc");
	fx_free(&f);
}

static void unknown_names_are_errors(void **state)
{
	struct fx f;
	char err[256] = "";

	(void)state;
	assert_int_equal(
	    fx_setup(&f, NULL, "docker,nope", 1 << 20, err, sizeof(err)),
	    -SL_ENOENT);
	assert_non_null(strstr(err, "'nope' is not defined"));
	fx_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(cri_partials_joined_until_full),
	    cmocka_unit_test(docker_log_parts_joined_until_newline),
	    cmocka_unit_test(list_is_tried_in_order_and_others_pass_alone),
	    cmocka_unit_test(java_stack_trace_joined),
	    cmocka_unit_test(python_traceback_joined),
	    cmocka_unit_test(go_panic_joined),
	    cmocka_unit_test(ruby_backtrace_joined),
	    cmocka_unit_test(builtins_join_the_log_field_of_json_lines),
	    cmocka_unit_test(regex_rules_join_start_and_continuations),
	    cmocka_unit_test(flush_timeout_emits_a_group_left_waiting),
	    cmocka_unit_test(key_content_of_json_lines),
	    cmocka_unit_test(endswith_negate_joins_backslash_continuations),
	    cmocka_unit_test(equal_ends_the_group_on_the_marker),
	    cmocka_unit_test(a_group_never_grows_past_the_cap),
	    cmocka_unit_test(unknown_names_are_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
