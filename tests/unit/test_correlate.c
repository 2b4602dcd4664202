/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_correlate.c - the correlate filter: the default Keys and their order,
 * nested accessors, numbers, W3C traceparent parsing (valid and invalid),
 * Target_Key left alone when it already holds the ID, UUIDv7 generation,
 * Generate Off, and the found/generated counters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../filters/correlate/correlate.h"
#include "sl_metrics.h"
#include "sl_test.h"

extern const struct sl_filter_plugin sl_filter_correlate;

static struct sl_metrics *test_reg;
static struct sl_filter_plugin corr_plugin;

/* sl_test's instance has no registry: give it ours before init. */
static int init_with_registry(void *ctx, struct sl_plugin_instance *ins)
{
	ins->metrics = test_reg;
	return sl_filter_correlate.init(ctx, ins);
}

static int setup(void **state)
{
	(void)state;
	test_reg = calloc(1, sizeof(*test_reg));
	if (!test_reg)
		return -1;
	sl_metrics_init(test_reg);
	corr_plugin = sl_filter_correlate;
	corr_plugin.init = init_with_registry;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sl_metrics_destroy(test_reg);
	free(test_reg);
	test_reg = NULL;
	return 0;
}

static struct sl_test_filter *corr(const char *const *kv)
{
	char *diag = NULL;
	struct sl_test_filter *tf =
	    sl_test_filter_create(&corr_plugin, kv, NULL, &diag);

	if (!tf)
		fail_msg("correlate config failed: %s", diag ? diag : "?");
	free(diag);
	return tf;
}

static double counter(const char *name)
{
	struct sl_metric_family *f = sl_metrics_find(test_reg, name);
	static const char *const v[] = {"correlate"};

	assert_non_null(f);
	for (struct sl_metric_series *s = f->series; s; s = s->next)
		if (strcmp(s->label_values[0], v[0]) == 0)
			return sl_metric_value(s);
	fail_msg("no series in %s", name);
	return -1;
}

/* Runs `in` and expects `out` (the record is never dropped). */
static void expect(struct sl_test_filter *tf, const char *in, const char *out)
{
	assert_int_equal(sl_test_filter_run(tf, in), SL_FILTER_KEEP);
	assert_string_equal(tf->out, out);
}

static void default_keys_in_order(void **state)
{
	struct sl_test_filter *tf = corr(NULL);

	(void)state;
	/* correlationId comes before reqId and trace_id */
	expect(tf,
	       "{\"trace_id\":\"t\",\"reqId\":\"r\",\"correlationId\":\"c\"}",
	       "{\"trace_id\":\"t\",\"reqId\":\"r\",\"correlationId\":\"c\","
	       "\"correlation_id\":\"c\"}");
	expect(tf, "{\"otelTraceID\":\"o\",\"reqId\":\"r\"}",
	       "{\"otelTraceID\":\"o\",\"reqId\":\"r\",\"correlation_id\":"
	       "\"r\"}");
	expect(tf, "{\"x-correlation-id\":\"x\",\"request_id\":\"q\"}",
	       "{\"x-correlation-id\":\"x\",\"request_id\":\"q\","
	       "\"correlation_id\":\"x\"}");
	assert_true(counter("sluice_correlate_found_total") == 3);
	assert_true(counter("sluice_correlate_generated_total") == 0);
	sl_test_filter_destroy(tf);
}

/* The target already holds the ID: the record is not rewritten. */
static void target_already_set(void **state)
{
	struct sl_test_filter *tf = corr(NULL);
	static const char *const in =
	    "{\"correlation_id\":\"abc\",\"reqId\":\"r\"}";

	(void)state;
	expect(tf, in, in);
	/* an ID from another key replaces a different target value */
	{
		static const char *const kv[] = {"Keys", "reqId", NULL};
		struct sl_test_filter *t2 = corr(kv);

		expect(t2, "{\"correlation_id\":\"old\",\"reqId\":\"r\"}",
		       "{\"correlation_id\":\"r\",\"reqId\":\"r\"}");
		expect(t2, "{\"correlation_id\":\"r\",\"reqId\":\"r\"}",
		       "{\"correlation_id\":\"r\",\"reqId\":\"r\"}");
		sl_test_filter_destroy(t2);
	}
	sl_test_filter_destroy(tf);
}

static void nested_keys_and_numbers(void **state)
{
	static const char *const kv[] = {"Keys", "$req['headers']['x-id'], id",
					 "Target_Key", "cid", NULL};
	struct sl_test_filter *tf = corr(kv);

	(void)state;
	expect(tf, "{\"req\":{\"headers\":{\"x-id\":\"n1\"}},\"id\":7}",
	       "{\"req\":{\"headers\":{\"x-id\":\"n1\"}},\"id\":7,\"cid\":"
	       "\"n1\"}");
	expect(tf, "{\"req\":{},\"id\":12345}",
	       "{\"req\":{},\"id\":12345,\"cid\":\"12345\"}");
	/* empty strings, null, bool and objects are not IDs */
	expect(tf, "{\"req\":{\"headers\":{\"x-id\":\"\"}},\"id\":\"k\"}",
	       "{\"req\":{\"headers\":{\"x-id\":\"\"}},\"id\":\"k\",\"cid\":"
	       "\"k\"}");
	sl_test_filter_destroy(tf);
}

static void escaped_values_survive(void **state)
{
	static const char *const kv[] = {"Keys", "rid", NULL};
	struct sl_test_filter *tf = corr(kv);

	(void)state;
	expect(tf, "{\"rid\":\"a\\\"b\\u00e9\"}",
	       "{\"rid\":\"a\\\"b\\u00e9\",\"correlation_id\":\"a\\\"bé\"}");
	sl_test_filter_destroy(tf);
}

static void traceparent_yields_trace_id(void **state)
{
	struct sl_test_filter *tf = corr(NULL);

	(void)state;
	expect(tf,
	       "{\"traceparent\":\"00-4bf92f3577b34da6a3ce929d0e0e4736-"
	       "00f067aa0ba902b7-01\"}",
	       "{\"traceparent\":\"00-4bf92f3577b34da6a3ce929d0e0e4736-"
	       "00f067aa0ba902b7-01\",\"correlation_id\":"
	       "\"4bf92f3577b34da6a3ce929d0e0e4736\"}");
	sl_test_filter_destroy(tf);
}

/* An invalid traceparent is not used: the next key, or a new UUID. */
static void invalid_traceparent_not_used(void **state)
{
	static const char *const kv[] = {"Keys", "traceparent, reqId", NULL};
	struct sl_test_filter *tf = corr(kv);

	(void)state;
	expect(tf, "{\"traceparent\":\"garbage\",\"reqId\":\"r1\"}",
	       "{\"traceparent\":\"garbage\",\"reqId\":\"r1\","
	       "\"correlation_id\":\"r1\"}");
	assert_int_equal(sl_test_filter_run(tf, "{\"traceparent\":\"00-x\"}"),
			 SL_FILTER_KEEP);
	assert_non_null(strstr(tf->out, "\"correlation_id\":\""));
	assert_null(strstr(tf->out, "\"correlation_id\":\"00-x\""));
	assert_true(counter("sluice_correlate_generated_total") == 1);
	assert_true(counter("sluice_correlate_found_total") == 1);
	sl_test_filter_destroy(tf);
}

/* Traceparent Off: the header's text is the ID as it is. */
static void traceparent_off_keeps_text(void **state)
{
	static const char *const kv[] = {"Keys", "traceparent", "Traceparent",
					 "Off", NULL};
	struct sl_test_filter *tf = corr(kv);

	(void)state;
	expect(tf, "{\"traceparent\":\"garbage\"}",
	       "{\"traceparent\":\"garbage\",\"correlation_id\":\"garbage\"}");
	sl_test_filter_destroy(tf);
}

static void traceparent_parser(void **state)
{
	static const char *const good[] = {
	    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
	    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
	    /* a future version may append fields */
	    "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-xyz",
	    "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
	};
	static const char *const bad[] = {
	    "",
	    "00",
	    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
	    /* version 00 has nothing after the flags */
	    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
	    "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
	    "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
	    "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
	    "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
	    "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
	    "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
	    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0z",
	    "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
	    "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
	};
	const char *tid;

	(void)state;
	for (size_t i = 0; i < SL_ARRAY_LEN(good); i++) {
		tid = NULL;
		assert_int_equal(
		    sl_correlate_traceparent(good[i], strlen(good[i]), &tid),
		    0);
		assert_memory_equal(tid, "4bf92f3577b34da6a3ce929d0e0e4736",
				    32);
	}
	for (size_t i = 0; i < SL_ARRAY_LEN(bad); i++)
		if (sl_correlate_traceparent(bad[i], strlen(bad[i]), &tid) !=
		    -SL_EPARSE)
			fail_msg("accepted invalid traceparent '%s'", bad[i]);
}

static bool is_uuid_v7(const char *s, size_t len)
{
	if (len != 36 || s[14] != '7' || !strchr("89ab", s[19]))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!strchr("0123456789abcdef", s[i])) {
			return false;
		}
	}
	return true;
}

static void generates_uuid_v7(void **state)
{
	struct sl_test_filter *tf = corr(NULL);
	char prev[37] = "";

	(void)state;
	for (int i = 0; i < 100; i++) {
		const char *p;

		assert_int_equal(sl_test_filter_run(tf, "{\"msg\":\"x\"}"),
				 SL_FILTER_KEEP);
		p = strstr(tf->out, "\"correlation_id\":\"");
		assert_non_null(p);
		p += strlen("\"correlation_id\":\"");
		assert_true(is_uuid_v7(p, (size_t)(strchr(p, '"') - p)));
		/* monotonic: each new ID sorts after the previous one */
		assert_true(strncmp(prev, p, 36) < 0);
		memcpy(prev, p, 36);
		prev[36] = '\0';
	}
	/* a line record (lazy) gets one too */
	assert_int_equal(sl_test_filter_run(tf, "plain line"), SL_FILTER_KEEP);
	assert_non_null(strstr(tf->out, "{\"log\":\"plain line\","
					"\"correlation_id\":\""));
	assert_true(counter("sluice_correlate_generated_total") == 101);
	assert_true(counter("sluice_correlate_found_total") == 0);
	sl_test_filter_destroy(tf);
}

static void generate_off(void **state)
{
	static const char *const kv[] = {"Generate", "Off", NULL};
	struct sl_test_filter *tf = corr(kv);

	(void)state;
	expect(tf, "{\"msg\":\"x\"}", "{\"msg\":\"x\"}");
	assert_true(counter("sluice_correlate_generated_total") == 0);
	sl_test_filter_destroy(tf);
}

static void bad_keys_rejected(void **state)
{
	static const char *const kv[] = {"Keys", "ok, $bad[", NULL};
	char *diag = NULL;

	(void)state;
	assert_null(sl_test_filter_create(&corr_plugin, kv, NULL, &diag));
	assert_non_null(diag);
	assert_non_null(strstr(diag, "$bad["));
	free(diag);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(default_keys_in_order),	    T(target_already_set),
	    T(nested_keys_and_numbers),	    T(escaped_values_survive),
	    T(traceparent_yields_trace_id), T(invalid_traceparent_not_used),
	    T(traceparent_off_keeps_text),  T(traceparent_parser),
	    T(generates_uuid_v7),	    T(generate_off),
	    T(bad_keys_rejected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
