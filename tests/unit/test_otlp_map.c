/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_otlp_map.c - the opentelemetry plugins' pure parts: record ->
 * LogRecord mapping (body, attributes, severity, times, trace context,
 * metadata precedence), requests grouped by resource, protobuf and
 * OTLP/JSON round trips through the input's decoder, and its depth limit.
 * The HTTP exchanges are tests/e2e/test_otlp.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "../../inputs/opentelemetry/otlp_decode.h"
#include "../../outputs/opentelemetry/otlp_map.h"

#define TRACE "4bf92f3577b34da6a3ce929d0e0e4736"
#define SPAN  "00f067aa0ba902b7"
#define TP    "00-" TRACE "-" SPAN "-01"

struct fixture {
	struct otlp_map_cfg cfg;
	struct otlp_path body;
	struct otlp_arena a;
	yajl_val trees[4];
	size_t n_trees;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->cfg.meta_key = "otlp";
	assert_int_equal(otlp_path_parse(&f->cfg.sev_text, "$SeverityText"), 0);
	assert_int_equal(otlp_path_parse(&f->cfg.sev_num, "$SeverityNumber"),
			 0);
	assert_int_equal(otlp_path_parse(&f->cfg.trace_id, "$TraceId"), 0);
	assert_int_equal(otlp_path_parse(&f->cfg.span_id, "$SpanId"), 0);
	assert_int_equal(otlp_path_parse(&f->cfg.severity, "level"), 0);
	assert_int_equal(otlp_path_parse(&f->cfg.correlation, "correlation_id"),
			 0);
	assert_int_equal(otlp_path_parse(&f->cfg.traceparent, "traceparent"),
			 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	otlp_path_destroy(&f->cfg.sev_text);
	otlp_path_destroy(&f->cfg.sev_num);
	otlp_path_destroy(&f->cfg.trace_id);
	otlp_path_destroy(&f->cfg.span_id);
	otlp_path_destroy(&f->cfg.severity);
	otlp_path_destroy(&f->cfg.correlation);
	otlp_path_destroy(&f->cfg.traceparent);
	otlp_path_destroy(&f->body);
	for (size_t i = 0; i < f->n_trees; i++)
		yajl_tree_free(f->trees[i]);
	otlp_arena_free(&f->a);
	free(f);
	return 0;
}

static void map(struct fixture *f, const char *json, int64_t ts,
		struct otlp_mapped *m)
{
	yajl_val t = yajl_tree_parse(json, NULL, 0);

	assert_non_null(t);
	f->trees[f->n_trees++] = t;
	assert_int_equal(otlp_map_record(&f->a, &f->cfg, t, ts, 99, m), 0);
	assert_non_null(m->log);
}

static const otlp_any *kv_get(otlp_kv *const *kv, size_t n, const char *k)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(kv[i]->key, k) == 0)
			return kv[i]->value;
	return NULL;
}

static void test_path_parse(void **state)
{
	struct otlp_path p;

	(void)state;
	assert_int_equal(otlp_path_parse(&p, "$a['b'][\"c\"]"), 0);
	assert_int_equal(p.n, 3);
	assert_string_equal(p.seg[2], "c");
	otlp_path_destroy(&p);
	assert_int_equal(otlp_path_parse(&p, "level"), 0);
	assert_int_equal(p.n, 1);
	otlp_path_destroy(&p);
	assert_int_equal(otlp_path_parse(&p, "$a[b]"), -SL_EINVAL);
	assert_int_equal(otlp_path_parse(&p, "$a['']"), -SL_EINVAL);
	assert_int_equal(otlp_path_parse(&p, ""), -SL_EINVAL);
}

static void test_severity_names(void **state)
{
	(void)state;
	assert_int_equal(otlp_severity_number("WARN"), 13);
	assert_int_equal(otlp_severity_number("warning"), 13);
	assert_int_equal(otlp_severity_number("information"), 9);
	assert_int_equal(otlp_severity_number("err"), 17);
	assert_int_equal(otlp_severity_number("loud"), 0);
}

/* No metadata: the whole record is the body, level and traceparent map. */
static void test_map_whole_record(void **state)
{
	struct fixture *f = *state;
	struct otlp_mapped m;
	const otlp_log *l;
	uint8_t want_trace[16];

	map(f,
	    "{\"msg\":\"x\",\"level\":\"error\",\"traceparent\":\"" TP
	    "\",\"n\":3}",
	    1234, &m);
	l = m.log;
	assert_int_equal(
	    l->body->value_case,
	    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE);
	assert_int_equal(l->body->kvlist_value->n_values, 4);
	assert_int_equal(
	    kv_get(l->body->kvlist_value->values, 4, "n")->int_value, 3);
	assert_string_equal(l->severity_text, "error");
	assert_int_equal(l->severity_number, 17);
	assert_int_equal(l->time_unix_nano, 1234);
	assert_int_equal(l->observed_time_unix_nano, 99);
	assert_int_equal(otlp_unhex(want_trace, TRACE, 32), 0);
	assert_int_equal(l->trace_id.len, 16);
	assert_memory_equal(l->trace_id.data, want_trace, 16);
	assert_int_equal(l->span_id.len, 8);
	assert_int_equal(l->span_id.data[1], 0xf0);
	assert_int_equal(l->flags, 1);
	assert_int_equal(l->n_attributes, 0);
	assert_null(m.resource);
}

/* in_opentelemetry's metadata wins over the record's fields and is not
 * part of the body. */
static void test_map_metadata_first(void **state)
{
	struct fixture *f = *state;
	struct otlp_mapped m;
	const otlp_log *l;

	map(f,
	    "{\"log\":\"l\",\"level\":\"error\",\"otlp\":{\"severity_number\":"
	    "5,"
	    "\"severity_text\":\"DEBUG\",\"trace_id\":\"" TRACE "\","
	    "\"span_id\":\"" SPAN
	    "\",\"timestamp\":42,\"observed_timestamp\":43,"
	    "\"trace_flags\":0,\"attributes\":{\"a\":1},\"resource\":{"
	    "\"attributes\":{\"r\":\"v\"}},\"scope\":{\"name\":\"s\"}}}",
	    7, &m);
	l = m.log;
	assert_int_equal(l->body->kvlist_value->n_values, 2);
	assert_null(kv_get(l->body->kvlist_value->values, 2, "otlp"));
	assert_int_equal(l->severity_number, 5);
	assert_string_equal(l->severity_text, "DEBUG");
	assert_int_equal(l->time_unix_nano, 42);
	assert_int_equal(l->observed_time_unix_nano, 43);
	assert_int_equal(l->n_attributes, 1);
	assert_int_equal(l->trace_id.len, 16);
	assert_int_equal(l->flags, 0);
	assert_non_null(m.resource);
	assert_non_null(m.scope);
}

static void test_body_key_attributes(void **state)
{
	struct fixture *f = *state;
	struct otlp_mapped m;
	const otlp_log *l;

	assert_int_equal(otlp_path_parse(&f->body, "$log"), 0);
	f->cfg.body = &f->body;
	f->cfg.n_body = 1;
	f->cfg.body_key_attributes = true;
	map(f, "{\"log\":\"hello\",\"pod\":\"p1\",\"SeverityText\":\"INFO\"}",
	    1, &m);
	l = m.log;
	assert_int_equal(
	    l->body->value_case,
	    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE);
	assert_string_equal(l->body->string_value, "hello");
	assert_int_equal(l->n_attributes, 2);
	assert_null(kv_get(l->attributes, l->n_attributes, "log"));
	assert_string_equal(
	    kv_get(l->attributes, l->n_attributes, "pod")->string_value, "p1");
	/* Fluent Bit's $SeverityText key comes before the level field */
	assert_string_equal(l->severity_text, "INFO");
	assert_int_equal(l->severity_number, 9);
}

/* correlate's UUIDv7 is a trace id; a bad or all-zero id is left out. */
static void test_trace_from_correlation(void **state)
{
	struct fixture *f = *state;
	struct otlp_mapped m;

	map(f, "{\"correlation_id\":\"0190b5a4-3c2e-7d1f-8a9b-0123456789ab\"}",
	    1, &m);
	assert_int_equal(m.log->trace_id.len, 16);
	assert_int_equal(m.log->trace_id.data[0], 0x01);
	assert_int_equal(m.log->trace_id.data[15], 0xab);
	assert_int_equal(m.log->span_id.len, 0);
	map(f,
	    "{\"TraceId\":\"00000000000000000000000000000000\","
	    "\"correlation_id\":\"not-hex\",\"traceparent\":\"00-zz\"}",
	    1, &m);
	assert_int_equal(m.log->trace_id.len, 0);
	assert_int_equal(m.log->flags, 0);
}

static otlp_request *three_records(struct fixture *f)
{
	struct otlp_mapped m[3];
	otlp_any *v = otlp_any_new(&f->a);
	otlp_kv *label = otlp_kv_new(&f->a, "service.name", v);

	v->value_case =
	    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
	v->string_value = "svc";
	map(f, "{\"a\":1,\"otlp\":{\"resource\":{\"attributes\":{\"h\":1}}}}",
	    10, &m[0]);
	map(f, "{\"a\":2,\"otlp\":{\"resource\":{\"attributes\":{\"h\":1}}}}",
	    11, &m[1]);
	map(f, "{\"log\":\"x\",\"level\":\"info\",\"traceparent\":\"" TP "\"}",
	    12, &m[2]);
	return otlp_build_request(&f->a, m, 3, &label, 1);
}

static void test_request_groups_by_resource(void **state)
{
	struct fixture *f = *state;
	otlp_request *r = three_records(f);

	assert_non_null(r);
	assert_int_equal(r->n_resource_logs, 2);
	assert_int_equal(r->resource_logs[0]->scope_logs[0]->n_log_records, 2);
	assert_int_equal(r->resource_logs[1]->scope_logs[0]->n_log_records, 1);
	assert_int_equal(r->resource_logs[0]->resource->n_attributes, 2);
	assert_string_equal(r->resource_logs[0]->resource->attributes[0]->key,
			    "service.name");
	assert_int_equal(r->resource_logs[1]->resource->n_attributes, 1);
}

struct collected {
	char recs[3][1024];
	int64_t ts[3];
	size_t n;
};

static int collect(void *arg, int64_t ts, const char *json, size_t len)
{
	struct collected *c = arg;

	assert_true(c->n < 3 && len < sizeof(c->recs[0]));
	memcpy(c->recs[c->n], json, len);
	c->recs[c->n][len] = '\0';
	c->ts[c->n++] = ts;
	return 0;
}

static void check_decoded(const struct collected *c)
{
	assert_int_equal(c->n, 3);
	assert_string_equal(
	    c->recs[0],
	    "{\"a\":1,\"otlp\":{\"observed_timestamp\":99,\"timestamp\":10,"
	    "\"trace_flags\":0,\"resource\":{\"attributes\":{\"service.name\":"
	    "\"svc\",\"h\":1}}}}");
	assert_string_equal(
	    c->recs[2],
	    "{\"log\":\"x\",\"level\":\"info\",\"traceparent\":\"" TP "\","
	    "\"otlp\":{\"observed_timestamp\":99,\"timestamp\":12,"
	    "\"severity_number\":9,\"severity_text\":\"info\",\"trace_id\":"
	    "\"" TRACE "\",\"span_id\":\"" SPAN
	    "\",\"trace_flags\":1,\"resource\":{"
	    "\"attributes\":{\"service.name\":\"svc\"}}}}");
	assert_int_equal(c->ts[1], 11);
}

static void test_protobuf_round_trip(void **state)
{
	struct fixture *f = *state;
	otlp_request *r = three_records(f), *back = NULL;
	size_t len =
	    opentelemetry__proto__collector__logs__v1__export_logs_service_request__get_packed_size(
		r);
	uint8_t *buf = malloc(len);
	struct otlp_arena a = {0};
	struct collected c = {0};

	assert_non_null(buf);
	opentelemetry__proto__collector__logs__v1__export_logs_service_request__pack(
	    r, buf);
	assert_int_equal(
	    otlp_decode_request(&a, (char *)buf, len, false, &back), 0);
	assert_int_equal(
	    otlp_request_records(back, "otlp", "log", 5, collect, &c), 3);
	check_decoded(&c);
	otlp_arena_free(&a);
	free(buf);
}

static void test_json_round_trip(void **state)
{
	struct fixture *f = *state;
	otlp_request *r = three_records(f), *back = NULL;
	struct sl_buf json = {0};
	struct otlp_arena a = {0};
	struct collected c = {0};

	assert_int_equal(otlp_request_to_json(r, &json), 0);
	assert_int_equal(
	    otlp_decode_request(&a, json.data, json.len, true, &back), 0);
	assert_int_equal(
	    otlp_request_records(back, "otlp", "log", 5, collect, &c), 3);
	check_decoded(&c);
	otlp_arena_free(&a);
	sl_buf_destroy(&json);
}

/* n nested ArrayValues around a string, as one LogRecord body. */
static size_t nested_body(uint8_t *out, int n)
{
	/* built inside out: AnyValue{string "x"} = 0a 01 78 */
	uint8_t tmp[4096], *p;
	size_t len = 3;

	memcpy(tmp + sizeof(tmp) - 3, "\x0a\x01x", 3);
	p = tmp + sizeof(tmp) - 3;
	for (int i = 0; i < n; i++) {
		/* ArrayValue{1: any} then AnyValue{5: array}: lengths < 128 */
		assert_true(len + 2 < 126);
		*--p = (uint8_t)len;
		*--p = 0x0a;
		len += 2;
		*--p = (uint8_t)len;
		*--p = 0x2a;
		len += 2;
	}
	/* LogRecord{5: body}, ScopeLogs{2: log}, ResourceLogs{2: scope
	 * logs}, request{1: resource logs} */
	for (int k = 0; k < 4; k++) {
		static const uint8_t tags[] = {0x2a, 0x12, 0x12, 0x0a};

		*--p = (uint8_t)len;
		*--p = tags[k];
		len += 2;
	}
	memcpy(out, p, len);
	return len;
}

static void test_decode_depth_limit(void **state)
{
	uint8_t body[256];
	struct otlp_arena a = {0};
	otlp_request *r;
	size_t len;

	(void)state;
	len = nested_body(body, 20);
	assert_int_equal(otlp_decode_request(&a, (char *)body, len, false, &r),
			 0);
	assert_int_equal(r->resource_logs[0]->scope_logs[0]->n_log_records, 1);
	otlp_arena_free(&a);
	len = nested_body(body, 29);
	assert_int_equal(otlp_decode_request(&a, (char *)body, len, false, &r),
			 0);
	otlp_arena_free(&a);
	len = nested_body(body, 31); /* 32 AnyValues: the limit */
	assert_int_equal(otlp_decode_request(&a, (char *)body, len, false, &r),
			 -SL_EPARSE);
	otlp_arena_free(&a);
}

/* OTLP/JSON as the specification writes it, and the proto's snake_case;
 * ids must be hex of the right length, integers whole. */
static void test_json_decode_rules(void **state)
{
	static const char *const bad[] = {
	    "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{"
	    "\"traceId\":\"zz\"}]}]}]}",
	    "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{"
	    "\"spanId\":\"" TRACE "\"}]}]}]}",
	    "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{"
	    "\"timeUnixNano\":\"-5\"}]}]}]}",
	    "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":"
	    "{\"intValue\":\"1.5\"}}]}]}]}",
	    "{\"resourceLogs\":{}}",
	    "[1]",
	    "{\"resourceLogs\":[",
	};
	static const char ok[] =
	    "{\"resource_logs\":[{\"scope_logs\":[{\"log_records\":[{"
	    "\"time_unix_nano\":5,\"severity_number\":99,\"body\":{"
	    "\"string_value\":\"s\"},\"unknownField\":1}]}]}]}";
	struct otlp_arena a = {0};
	struct collected c = {0};
	otlp_request *r;

	(void)state;
	for (size_t i = 0; i < SL_ARRAY_LEN(bad); i++) {
		assert_int_equal(
		    otlp_decode_request(&a, bad[i], strlen(bad[i]), true, &r),
		    -SL_EPARSE);
		otlp_arena_free(&a);
	}
	assert_int_equal(otlp_decode_request(&a, ok, strlen(ok), true, &r), 0);
	assert_int_equal(otlp_request_records(r, "otlp", "log", 1, collect, &c),
			 1);
	/* severity 99 is not one the data model has: left out */
	assert_string_equal(c.recs[0],
			    "{\"log\":\"s\",\"otlp\":{\"timestamp\":5,"
			    "\"trace_flags\":0}}");
	assert_int_equal(c.ts[0], 5);
	otlp_arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_path_parse),
	    cmocka_unit_test(test_severity_names),
	    cmocka_unit_test_setup_teardown(test_map_whole_record, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_map_metadata_first, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_body_key_attributes, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_trace_from_correlation, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_request_groups_by_resource,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_protobuf_round_trip, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_json_round_trip, setup,
					    teardown),
	    cmocka_unit_test(test_decode_depth_limit),
	    cmocka_unit_test(test_json_decode_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
