/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_splunk.c - the splunk output's pure parts: the HEC envelope (every
 * member, Fluent Bit's order, fallbacks, Event_Key, Splunk_Send_Raw,
 * auto_extract_timestamp, settled records left out), option parsing, HEC's
 * answers and what each means for the request. The exchange with a HEC is
 * covered by tests/e2e/test_splunk.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../outputs/splunk/splunk.h"

#define TS INT64_C(1700000000250000000) /* 1700000000.25 s */

static struct sl_chunk *chunk_of(const char *const *bodies, size_t n)
{
	struct sl_chunk *c = sl_chunk_create(NULL, "fw.a", 4);

	assert_non_null(c);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(sl_chunk_append(c,
						 TS + (int64_t)i * 1000000000,
						 bodies[i], strlen(bodies[i])),
				 0);
	return c;
}

/* The encoded body of `bodies` as a string (caller frees). */
static char *encode(const struct splunk_enc *e, const char *const *bodies,
		    size_t n, splunk_skip_fn skip, size_t expect_n)
{
	struct sl_chunk *c = chunk_of(bodies, n);
	struct splunk_batch b;
	struct sl_buf out = {0};
	char *s;

	splunk_batch_init(&b);
	assert_int_equal(splunk_encode(e, &b, c, skip, NULL, &out), 0);
	assert_int_equal(b.n, expect_n);
	for (size_t i = 1; i < b.n; i++)
		assert_true(b.off[i] > b.off[i - 1]);
	s = strndup(out.data ? out.data : "", out.len);
	assert_non_null(s);
	splunk_batch_destroy(&b);
	sl_buf_destroy(&out);
	sl_chunk_destroy(c);
	return s;
}

static void set(struct splunk_value *v, const char *spec)
{
	const char *err = NULL;

	assert_int_equal(splunk_value_set(v, spec, &err), 0);
}

static void test_plain_envelope(void **state)
{
	struct splunk_enc e = {0};
	const char *bodies[] = {"{\"a\":1}", "{\"b\":\"x\"}"};
	char *s = encode(&e, bodies, 2, NULL, 2);

	(void)state;
	/* nine decimals: exact, no float rounding */
	assert_string_equal(
	    s, "{\"time\":1700000000.250000000,\"event\":{\"a\":1}}"
	       "{\"time\":1700000001.250000000,\"event\":{"
	       "\"b\":\"x\"}}");
	free(s);
	splunk_enc_destroy(&e);
}

static void test_every_member(void **state)
{
	struct splunk_enc e = {0};
	const char *err = NULL;
	const char *bodies[] = {
	    "{\"h\":\"web-1\",\"st\":\"acc\",\"ix\":\"sec\",\"svc\":{\"n\":"
	    "\"auth\"},\"lvl\":3}",
	    "{\"h\":\"\",\"other\":true}"};
	char *s;

	(void)state;
	set(&e.host, "$h");
	set(&e.source, "$TAG");
	set(&e.sourcetype_key, "$st");
	set(&e.index_key, "$ix");
	e.sourcetype = "fixed:st";
	e.index = "main";
	assert_int_equal(splunk_enc_add_field(&e, "service $svc['n']", &err),
			 0);
	assert_int_equal(splunk_enc_add_field(&e, "level $lvl", &err), 0);
	s = encode(&e, bodies, 2, NULL, 2);
	/* found values win; absent or empty ones fall back or are left out */
	assert_string_equal(
	    s, "{\"time\":1700000000.250000000,\"host\":\"web-1\",\"source\":"
	       "\"fw.a\",\"sourcetype\":\"acc\",\"index\":\"sec\",\"fields\":{"
	       "\"service\":\"auth\",\"level\":3},\"event\":{\"h\":\"web-1\","
	       "\"st\":\"acc\",\"ix\":\"sec\",\"svc\":{\"n\":\"auth\"},\"lvl\":"
	       "3}}"
	       "{\"time\":1700000001.250000000,\"source\":\"fw.a\","
	       "\"sourcetype\":\"fixed:st\",\"index\":\"main\",\"fields\":{},"
	       "\"event\":{\"h\":\"\",\"other\":true}}");
	free(s);
	splunk_enc_destroy(&e);
}

static void test_fixed_values_escaped(void **state)
{
	struct splunk_enc e = {0};
	const char *bodies[] = {"{}"};
	char *s;

	(void)state;
	set(&e.host, "a\"b");
	e.auto_extract_timestamp = true;
	s = encode(&e, bodies, 1, NULL, 1);
	assert_string_equal(s, "{\"host\":\"a\\\"b\",\"event\":{}}");
	free(s);
	splunk_enc_destroy(&e);
}

static void test_templates(void **state)
{
	struct splunk_enc e = {.auto_extract_timestamp = true};
	const char *bodies[] = {"{\"h\":\"web\",\"k\":{\"a.b\":7}}",
				"{\"x\":1}"};
	char *s;

	(void)state;
	/* a chunk tagged "fw.a": text, fields, the tag and its parts */
	set(&e.host, "$h $TAG[1],$TAG[0]/$TAG[9]$k['a.b'].");
	set(&e.source, "cost $5 at $TAG");
	s = encode(&e, bodies, 2, NULL, 2);
	/* an absent field adds nothing; a part past the end neither */
	assert_string_equal(
	    s, "{\"host\":\"web a,fw/7.\",\"source\":\"cost $5 at fw.a\","
	       "\"event\":{\"h\":\"web\",\"k\":{\"a.b\":7}}}"
	       "{\"host\":\" a,fw/.\",\"source\":\"cost $5 at fw.a\","
	       "\"event\":{\"x\":1}}");
	free(s);
	splunk_enc_destroy(&e);
	/* only an absent field: empty, so the member is left out */
	e = (struct splunk_enc){.auto_extract_timestamp = true};
	set(&e.host, "$nope");
	set(&e.index_key, "$nope");
	e.index = "main";
	s = encode(&e, bodies + 1, 1, NULL, 1);
	assert_string_equal(s, "{\"index\":\"main\",\"event\":{\"x\":1}}");
	free(s);
	splunk_enc_destroy(&e);
}

/* Odd templates compile to what Fluent Bit reads, or fail cleanly. */
static void test_template_edges(void **state)
{
	static const struct {
		const char *spec, *want; /* want NULL: a config error */
	} cases[] = {
	    {"$", "$"},
	    {"a$", "a$"},
	    {"$$TAG", "$fw.a"},
	    {"$TAG[", "fw.a["},
	    {"$TAG[x]", "fw.a[x]"},
	    {"$TAG[0", "fw.a[0"},
	    {"$TAG[99999999999]", "fw.a[99999999999]"}, /* bounded */
	    {"$k['a", NULL},
	    {"$k[", NULL},
	    {"x $k['a b'] y", "x 1 y"},
	};
	const char *bodies[] = {"{\"k\":{\"a b\":1}}"};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct splunk_enc e = {.auto_extract_timestamp = true};
		const char *err = NULL;
		char want[128];
		char *s;
		int r = splunk_value_set(&e.host, cases[i].spec, &err);

		if (!cases[i].want) {
			assert_int_equal(r, -SL_EINVAL);
			assert_non_null(err);
			splunk_enc_destroy(&e);
			continue;
		}
		assert_int_equal(r, 0);
		snprintf(want, sizeof(want), "{\"host\":\"%s\",\"event\":%s}",
			 cases[i].want, bodies[0]);
		s = encode(&e, bodies, 1, NULL, 1);
		assert_string_equal(s, want);
		free(s);
		splunk_enc_destroy(&e);
	}
}

static void test_event_key(void **state)
{
	struct splunk_enc e = {0};
	const char *err = NULL;
	const char *bodies[] = {"{\"msg\":\"hi \\\"there\\\"\"}", "{\"n\":5}",
				"{\"msg\":\"\"}", "{\"msg\":42}"};
	char *s;

	(void)state;
	assert_int_equal(splunk_enc_set_event_key(&e, "msg", &err), -SL_EINVAL);
	assert_int_equal(splunk_enc_set_event_key(&e, "$msg", &err), 0);
	e.auto_extract_timestamp = true;
	s = encode(&e, bodies, 4, NULL, 4);
	/* absent or empty: the whole record, as Fluent Bit falls back */
	assert_string_equal(s, "{\"event\":\"hi \\\"there\\\"\"}"
			       "{\"event\":{\"n\":5}}"
			       "{\"event\":{\"msg\":\"\"}}"
			       "{\"event\":\"42\"}");
	free(s);
	splunk_enc_destroy(&e);
}

static void test_send_raw(void **state)
{
	struct splunk_enc e = {.send_raw = true};
	const char *bodies[] = {"{\"event\":\"x\",\"index\":\"i\"}",
				"{\"a\":1}"};
	char *s;

	(void)state;
	set(&e.host, "ignored-in-raw");
	s = encode(&e, bodies, 2, NULL, 2);
	assert_string_equal(s, "{\"event\":\"x\",\"index\":\"i\"}\n"
			       "{\"a\":1}\n");
	free(s);
	splunk_enc_destroy(&e);
}

static bool skip_even(void *ud, uint32_t index)
{
	(void)ud;
	return index % 2 == 0;
}

static void test_skip(void **state)
{
	struct splunk_enc e = {.send_raw = true};
	const char *bodies[] = {"{\"a\":0}", "{\"a\":1}", "{\"a\":2}",
				"{\"a\":3}"};
	char *s = encode(&e, bodies, 4, skip_even, 2);

	(void)state;
	assert_string_equal(s, "{\"a\":1}\n{\"a\":3}\n");
	free(s);
	s = encode(&e, bodies, 2, skip_even, 1);
	free(s);
}

static void test_options(void **state)
{
	struct splunk_enc e = {0};
	const char *err = NULL;

	(void)state;
	assert_int_equal(splunk_enc_add_field(&e, "name", &err), -SL_EINVAL);
	assert_non_null(err);
	assert_int_equal(splunk_enc_add_field(&e, "name value", &err),
			 -SL_EINVAL);
	assert_int_equal(splunk_enc_add_field(&e, "name $a $b", &err),
			 -SL_EINVAL);
	assert_int_equal(splunk_enc_add_field(&e, "name $a['x", &err),
			 -SL_EINVAL);
	assert_int_equal(e.n_fields, 0);
	assert_int_equal(splunk_enc_add_field(&e, "k  $a['x']", &err), 0);
	assert_int_equal(e.n_fields, 1);
	assert_string_equal(e.fields[0].name, "k");
	err = NULL;
	assert_int_equal(splunk_value_set(&e.host, "$a[", &err), -SL_EINVAL);
	assert_non_null(err);
	splunk_enc_destroy(&e);
}

static void parse(const char *s, struct splunk_answer *a)
{
	splunk_answer_parse(s, strlen(s), a);
}

static void test_answer_parse(void **state)
{
	struct splunk_answer a;

	(void)state;
	parse("{\"text\":\"Invalid data format\",\"code\":6,"
	      "\"invalid-event-number\":3}",
	      &a);
	assert_true(a.parsed);
	assert_int_equal(a.code, 6);
	assert_int_equal(a.bad_event, 3);
	assert_int_equal(a.text_len, strlen("Invalid data format"));
	assert_memory_equal(a.text, "Invalid data format", a.text_len);
	parse("{\"text\":\"Success\",\"code\":0}", &a);
	assert_int_equal(a.code, 0);
	assert_int_equal(a.bad_event, -1);
	parse("Service Unavailable", &a);
	assert_false(a.parsed);
	assert_int_equal(a.code, -1);
	assert_null(a.text);
	/* not integers, not what HEC sends: ignored */
	parse("{\"code\":\"6\",\"invalid-event-number\":1.5,\"text\":7}", &a);
	assert_true(a.parsed);
	assert_int_equal(a.code, -1);
	assert_int_equal(a.bad_event, -1);
	assert_null(a.text);
	parse("{\"invalid-event-number\":-2}", &a);
	assert_int_equal(a.bad_event, -1);
	splunk_answer_parse(NULL, 0, &a);
	assert_false(a.parsed);
}

static enum splunk_verdict verdict_of(long status, const char *body, size_t n)
{
	struct splunk_answer a;

	parse(body, &a);
	return splunk_verdict(status, &a, n);
}

static void test_verdicts(void **state)
{
	(void)state;
	assert_int_equal(
	    verdict_of(200, "{\"text\":\"Success\",\"code\":0}", 5),
	    SPLUNK_DELIVERED);
	/* busy, throttled, server errors, no answer: retried */
	assert_int_equal(
	    verdict_of(503, "{\"text\":\"Server is busy\",\"code\":9}", 5),
	    SPLUNK_RETRY);
	assert_int_equal(verdict_of(429, "", 5), SPLUNK_RETRY);
	assert_int_equal(verdict_of(500, "{\"code\":8}", 5), SPLUNK_RETRY);
	assert_int_equal(verdict_of(0, "", 5), SPLUNK_RETRY);
	/* codes 1-4: the token; retried, as credentials rotate */
	assert_int_equal(
	    verdict_of(403, "{\"text\":\"Token disabled\",\"code\":1}", 5),
	    SPLUNK_AUTH);
	assert_int_equal(verdict_of(401, "{\"code\":2}", 5), SPLUNK_AUTH);
	assert_int_equal(verdict_of(401, "{\"code\":3}", 5), SPLUNK_AUTH);
	assert_int_equal(verdict_of(403, "{\"code\":4}", 5), SPLUNK_AUTH);
	assert_int_equal(verdict_of(413, "", 5), SPLUNK_TOO_LARGE);
	/* one event named: drop it, the rest again */
	assert_int_equal(
	    verdict_of(400, "{\"code\":6,\"invalid-event-number\":4}", 5),
	    SPLUNK_DROP_ONE);
	assert_int_equal(
	    verdict_of(400, "{\"code\":7,\"invalid-event-number\":0}", 5),
	    SPLUNK_DROP_ONE);
	assert_int_equal(
	    verdict_of(400, "{\"code\":13,\"invalid-event-number\":2}", 5),
	    SPLUNK_DROP_ONE);
	/* a position outside the request is not trusted: look for it */
	assert_int_equal(
	    verdict_of(400, "{\"code\":6,\"invalid-event-number\":5}", 5),
	    SPLUNK_SPLIT);
	assert_int_equal(verdict_of(400, "{\"code\":6}", 5), SPLUNK_SPLIT);
	assert_int_equal(verdict_of(400, "Bad Request", 5), SPLUNK_SPLIT);
	/* about the request, not an event: all of it */
	assert_int_equal(verdict_of(400, "{\"code\":5}", 5), SPLUNK_REJECT_ALL);
	assert_int_equal(
	    verdict_of(400, "{\"code\":10,\"invalid-event-number\":0}", 5),
	    SPLUNK_REJECT_ALL);
	assert_int_equal(verdict_of(400, "{\"code\":6}", 1), SPLUNK_REJECT_ALL);
	assert_int_equal(verdict_of(404, "", 5), SPLUNK_REJECT_ALL);
}

static void test_code_text(void **state)
{
	(void)state;
	assert_string_equal(splunk_code_text(0), "Success");
	assert_string_equal(splunk_code_text(4), "Invalid token");
	assert_string_equal(splunk_code_text(7), "Incorrect index");
	assert_string_equal(splunk_code_text(9), "Server is busy");
	assert_null(splunk_code_text(-1));
	assert_null(splunk_code_text(99));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain_envelope),
	    cmocka_unit_test(test_every_member),
	    cmocka_unit_test(test_fixed_values_escaped),
	    cmocka_unit_test(test_templates),
	    cmocka_unit_test(test_template_edges),
	    cmocka_unit_test(test_event_key),
	    cmocka_unit_test(test_send_raw),
	    cmocka_unit_test(test_skip),
	    cmocka_unit_test(test_options),
	    cmocka_unit_test(test_answer_parse),
	    cmocka_unit_test(test_verdicts),
	    cmocka_unit_test(test_code_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
