/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_es_bulk.c - the es output without a network: exact NDJSON bytes of
 * the bulk encoder (operations, types, index names, time and tag keys, ids)
 * and the bulk response reader with its per-item verdicts (all ok, mixed
 * 201/409/429/400, errors:false, garbage), fed as a stream split at any
 * byte (1, 22k and 200k items), and Generate_ID's stability (identity or
 * time, then body). The flush itself
 * (requests, retries, counters) is covered by tests/e2e/test_es.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../outputs/es/es.h"

#define TS INT64_C(1700000000123456789) /* 2023-11-14T22:13:20.123456789Z */

static struct sl_buf buf;
static struct es_bulk_scratch scratch;
static struct es_response rr;

static int reset(void **state)
{
	(void)state;
	sl_buf_reset(&buf);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sl_buf_destroy(&buf);
	es_bulk_scratch_destroy(&scratch);
	es_response_destroy(&rr);
	return 0;
}

static struct es_bulk_opts base(void)
{
	return (struct es_bulk_opts){
	    .op = ES_OP_CREATE,
	    .index = "fluent-bit",
	    .type = "_doc",
	    .logstash_prefix = "logstash",
	    .logstash_separator = "-",
	    .logstash_dateformat = "%Y.%m.%d",
	    .time_key = "@timestamp",
	    .time_key_format = "%Y-%m-%dT%H:%M:%S",
	};
}

static const char *enc(const struct es_bulk_opts *o, const char *body,
		       const char *id, const char *prefix)
{
	struct es_bulk_rec r = {
	    .ts_ns = TS,
	    .body = body,
	    .len = strlen(body),
	    .id = id,
	    .id_len = id ? strlen(id) : 0,
	    .prefix = prefix,
	    .prefix_len = prefix ? strlen(prefix) : 0,
	};

	sl_buf_reset(&buf);
	assert_int_equal(es_bulk_append(&buf, o, &r, "app.log", 7,
					INT64_C(1600000000) * SL_NS_PER_SEC,
					&scratch, NULL),
			 0);
	return buf.data;
}

/* ---- encoder ----------------------------------------------------------- */

static void test_create_with_type(void **state)
{
	struct es_bulk_opts o = base();

	(void)state;
	assert_string_equal(
	    enc(&o, "{\"msg\":\"hi\",\"n\":1}", NULL, NULL),
	    "{\"create\":{\"_index\":\"fluent-bit\",\"_type\":\"_doc\"}}\n"
	    "{\"@timestamp\":\"2023-11-14T22:13:20.123Z\",\"msg\":\"hi\","
	    "\"n\":1}\n");
}

static void test_suppress_type_and_empty_type(void **state)
{
	struct es_bulk_opts o = base();
	const char *want = "{\"create\":{\"_index\":\"fluent-bit\"}}\n"
			   "{\"@timestamp\":\"2023-11-14T22:13:20.123Z\","
			   "\"a\":1}\n";

	(void)state;
	o.type = NULL; /* Suppress_Type_Name On */
	assert_string_equal(enc(&o, "{\"a\":1}", NULL, NULL), want);
	o.type = "";
	assert_string_equal(enc(&o, "{\"a\":1}", NULL, NULL), want);
}

static void test_operations(void **state)
{
	struct es_bulk_opts o = base();

	(void)state;
	o.type = NULL;
	o.time_key = NULL;
	o.op = ES_OP_INDEX;
	assert_string_equal(enc(&o, "{\"a\":1}", "k1", NULL),
			    "{\"index\":{\"_index\":\"fluent-bit\","
			    "\"_id\":\"k1\"}}\n{\"a\":1}\n");
	o.op = ES_OP_UPDATE;
	assert_string_equal(enc(&o, "{\"a\":1}", "k1", NULL),
			    "{\"update\":{\"_index\":\"fluent-bit\","
			    "\"_id\":\"k1\"}}\n{\"doc\":{\"a\":1}}\n");
	o.op = ES_OP_UPSERT;
	assert_string_equal(enc(&o, "{\"a\":1}", "k1", NULL),
			    "{\"update\":{\"_index\":\"fluent-bit\","
			    "\"_id\":\"k1\"}}\n{\"doc\":{\"a\":1},"
			    "\"doc_as_upsert\":true}\n");
}

static void test_op_parse(void **state)
{
	enum es_op op;

	(void)state;
	assert_int_equal(es_op_parse("Upsert", &op), 0);
	assert_int_equal(op, ES_OP_UPSERT);
	assert_string_equal(es_op_action(op), "update");
	assert_int_equal(es_op_parse("CREATE", &op), 0);
	assert_int_equal(op, ES_OP_CREATE);
	assert_int_equal(es_op_parse("delete", &op), -SL_EINVAL);
	assert_int_equal(es_op_parse(NULL, &op), -SL_EINVAL);
}

static void test_logstash_index_from_record_time(void **state)
{
	struct es_bulk_opts o = base();

	(void)state;
	o.type = NULL;
	o.time_key = NULL;
	o.logstash_format = true;
	assert_string_equal(
	    enc(&o, "{}", NULL, NULL),
	    "{\"create\":{\"_index\":\"logstash-2023.11.14\"}}\n"
	    "{}\n");
	/* Logstash_Prefix_Key value, another separator and format */
	o.logstash_separator = "_";
	o.logstash_dateformat = "%Y%m%d-%H";
	assert_string_equal(
	    enc(&o, "{}", NULL, "audit\"x"),
	    "{\"create\":{\"_index\":\"audit\\\"x_20231114-22\"}}"
	    "\n{}\n");
	/* Current_Time_Index: the date of now (2020-09-13), not the record */
	o.current_time_index = true;
	o.logstash_separator = "-";
	o.logstash_dateformat = "%Y.%m.%d";
	assert_string_equal(
	    enc(&o, "{}", NULL, NULL),
	    "{\"create\":{\"_index\":\"logstash-2020.09.13\"}}\n"
	    "{}\n");
}

static void test_logstash_index_before_1970(void **state)
{
	struct es_bulk_opts o = base();
	struct es_bulk_rec r = {.ts_ns = -1, .body = "{}", .len = 2};

	(void)state;
	o.type = NULL;
	o.logstash_format = true;
	o.time_key_nanos = true;
	assert_int_equal(
	    es_bulk_append(&buf, &o, &r, "t", 1, 0, &scratch, NULL), 0);
	assert_string_equal(
	    buf.data, "{\"create\":{\"_index\":\"logstash-1969.12.31\"}}\n"
		      "{\"@timestamp\":\"1969-12-31T23:59:59.999999999Z\"}"
		      "\n");
}

static void test_time_key_nanos_format_and_tag(void **state)
{
	struct es_bulk_opts o = base();

	(void)state;
	o.type = NULL;
	o.time_key = "ts";
	o.time_key_nanos = true;
	o.tag_key = "flb-key";
	assert_string_equal(enc(&o, "{\"a\":[1,2]}", NULL, NULL),
			    "{\"create\":{\"_index\":\"fluent-bit\"}}\n"
			    "{\"ts\":\"2023-11-14T22:13:20.123456789Z\","
			    "\"flb-key\":\"app.log\",\"a\":[1,2]}\n");
	/* an empty body gets the members and nothing else */
	o.time_key_format = "%s";
	o.time_key_nanos = false;
	assert_string_equal(
	    enc(&o, "{}", NULL, NULL),
	    "{\"create\":{\"_index\":\"fluent-bit\"}}\n"
	    "{\"ts\":\"1700000000.123Z\",\"flb-key\":\"app.log\"}\n");
	/* no time key, tag only */
	o.time_key = NULL;
	assert_string_equal(enc(&o, "{\"a\":1}", NULL, NULL),
			    "{\"create\":{\"_index\":\"fluent-bit\"}}\n"
			    "{\"flb-key\":\"app.log\",\"a\":1}\n");
	/* neither: the body's own bytes */
	o.tag_key = NULL;
	assert_string_equal(enc(&o, "{\"a\":1}", NULL, NULL),
			    "{\"create\":{\"_index\":\"fluent-bit\"}}\n"
			    "{\"a\":1}\n");
}

/* The formatted second is reused by the records that follow it: each
 * record still gets its own second, fraction and index date. */
static void test_time_text_follows_each_record(void **state)
{
	static const struct {
		int64_t ts;
		const char *want;
	} recs[] = {
	    /* 2023-11-14T23:59:59, twice in that second, then the next day */
	    {INT64_C(1700006399000000000),
	     "{\"create\":{\"_index\":\"logstash-2023.11.14\"}}\n"
	     "{\"@timestamp\":\"2023-11-14T23:59:59.000Z\"}\n"},
	    {INT64_C(1700006399999999999),
	     "{\"create\":{\"_index\":\"logstash-2023.11.14\"}}\n"
	     "{\"@timestamp\":\"2023-11-14T23:59:59.999Z\"}\n"},
	    {INT64_C(1700006400000000001),
	     "{\"create\":{\"_index\":\"logstash-2023.11.15\"}}\n"
	     "{\"@timestamp\":\"2023-11-15T00:00:00.000Z\"}\n"},
	    /* back in time (records out of order) */
	    {INT64_C(1700006399500000000),
	     "{\"create\":{\"_index\":\"logstash-2023.11.14\"}}\n"
	     "{\"@timestamp\":\"2023-11-14T23:59:59.500Z\"}\n"},
	    {INT64_C(-1000000000),
	     "{\"create\":{\"_index\":\"logstash-1969.12.31\"}}\n"
	     "{\"@timestamp\":\"1969-12-31T23:59:59.000Z\"}\n"},
	};
	struct es_bulk_opts o = base();

	(void)state;
	o.type = NULL;
	o.logstash_format = true;
	for (size_t i = 0; i < SL_ARRAY_LEN(recs); i++) {
		struct es_bulk_rec r = {
		    .ts_ns = recs[i].ts, .body = "{}", .len = 2};

		sl_buf_reset(&buf);
		assert_int_equal(
		    es_bulk_append(&buf, &o, &r, "t", 1, 0, &scratch, NULL), 0);
		assert_string_equal(buf.data, recs[i].want);
	}
	/* another format in the same second is formatted anew, and so is
	 * a format edited in place (the cache keys on the text) */
	{
		char fmt[] = "%H:%M:%S";
		struct es_bulk_rec r = {
		    .ts_ns = recs[0].ts, .body = "{}", .len = 2};

		o.logstash_format = false;
		o.time_key_format = fmt;
		o.time_key_nanos = true;
		sl_buf_reset(&buf);
		assert_int_equal(
		    es_bulk_append(&buf, &o, &r, "t", 1, 0, &scratch, NULL), 0);
		assert_string_equal(
		    buf.data, "{\"create\":{\"_index\":\"fluent-bit\"}}\n"
			      "{\"@timestamp\":\"23:59:59.000000000Z\"}\n");
		fmt[0] = 'h';
		fmt[1] = '=';
		sl_buf_reset(&buf);
		assert_int_equal(
		    es_bulk_append(&buf, &o, &r, "t", 1, 0, &scratch, NULL), 0);
		assert_string_equal(
		    buf.data, "{\"create\":{\"_index\":\"fluent-bit\"}}\n"
			      "{\"@timestamp\":\"h=:59:59.000000000Z\"}\n");
		/* an empty format: the fraction alone, as before */
		o.time_key_format = "";
		sl_buf_reset(&buf);
		assert_int_equal(
		    es_bulk_append(&buf, &o, &r, "t", 1, 0, &scratch, NULL), 0);
		assert_string_equal(buf.data,
				    "{\"create\":{\"_index\":\"fluent-bit\"}}\n"
				    "{\"@timestamp\":\".000000000Z\"}\n");
	}
}

static void test_generate_id_stable_and_distinct(void **state)
{
	struct es_bulk_opts o = base();
	char a[ES_ID_LEN + 1], b[ES_ID_LEN + 1], c[ES_ID_LEN + 1];

	(void)state;
	/* sha256(int64 LE time || body), first 32 hex digits */
	assert_int_equal(es_id_generate(TS, 0, "{\"a\":1}", 7, a), 0);
	assert_string_equal(a, "31bbd0850ba400ddf6feff24dbe778d1");
	assert_int_equal(es_id_generate(TS, 0, "{\"a\":1}", 7, b), 0);
	assert_string_equal(a, b);
	assert_int_equal(es_id_generate(TS, 0, "{\"a\":2}", 7, c), 0);
	assert_string_equal(c, "ad82df7decb723d123d4fc70cf385446");
	assert_int_equal(es_id_generate(TS + 1, 0, "{\"a\":1}", 7, c), 0);
	assert_string_not_equal(a, c);

	o.type = NULL;
	o.time_key = NULL;
	o.generate_id = true;
	assert_string_equal(enc(&o, "{\"a\":1}", NULL, NULL),
			    "{\"create\":{\"_index\":\"fluent-bit\","
			    "\"_id\":\"31bbd0850ba400ddf6feff24dbe778d1\"}}\n"
			    "{\"a\":1}\n");
	/* the same id on a second encoding (a retry) */
	assert_string_equal(enc(&o, "{\"a\":1}", NULL, NULL),
			    "{\"create\":{\"_index\":\"fluent-bit\","
			    "\"_id\":\"31bbd0850ba400ddf6feff24dbe778d1\"}}\n"
			    "{\"a\":1}\n");
}

static void test_generate_id_from_identity(void **state)
{
	char a[ES_ID_LEN + 1], b[ES_ID_LEN + 1], c[ES_ID_LEN + 1];
	struct es_bulk_opts o = base();
	struct es_bulk_rec r = {
	    .ts_ns = TS + 1, .identity = 42, .body = "{\"a\":1}", .len = 7};
	char want[128];

	(void)state;
	/* a re-read line has a new read time but the same identity: same id */
	assert_int_equal(es_id_generate(TS, 42, "{\"a\":1}", 7, a), 0);
	assert_int_equal(es_id_generate(TS + 5000000000, 42, "{\"a\":1}", 7, b),
			 0);
	assert_string_equal(a, b);
	/* another line (another offset), same body and time: distinct */
	assert_int_equal(es_id_generate(TS, 43, "{\"a\":1}", 7, c), 0);
	assert_string_not_equal(a, c);
	/* the body still counts */
	assert_int_equal(es_id_generate(TS, 42, "{\"a\":2}", 7, c), 0);
	assert_string_not_equal(a, c);
	/* an identity never hashes like a time of the same value */
	assert_int_equal(es_id_generate(42, 0, "{\"a\":1}", 7, c), 0);
	assert_string_not_equal(a, c);

	/* the encoder takes the record's identity */
	o.type = NULL;
	o.time_key = NULL;
	o.generate_id = true;
	sl_buf_reset(&buf);
	assert_int_equal(
	    es_bulk_append(&buf, &o, &r, "t", 1, 0, &scratch, NULL), 0);
	snprintf(want, sizeof(want),
		 "{\"create\":{\"_index\":\"fluent-bit\",\"_id\":\"%s\"}}\n"
		 "{\"a\":1}\n",
		 a);
	assert_int_equal(buf.len, strlen(want));
	assert_memory_equal(buf.data, want, buf.len);
}

static void test_id_key_wins_and_is_escaped(void **state)
{
	struct es_bulk_opts o = base();
	struct es_bulk_item item;
	struct es_bulk_rec r = {.ts_ns = TS,
				.body = "{\"a\":1}",
				.len = 7,
				.id = "x\"y\\z",
				.id_len = 5};

	(void)state;
	o.type = NULL;
	o.time_key = NULL;
	o.generate_id = true;
	assert_int_equal(
	    es_bulk_append(&buf, &o, &r, "t", 1, 0, &scratch, &item), 0);
	assert_string_equal(buf.data, "{\"create\":{\"_index\":\"fluent-bit\","
				      "\"_id\":\"x\\\"y\\\\z\"}}\n{\"a\":1}\n");
	assert_true(item.has_id);
	assert_int_equal(item.len, 7);
	assert_memory_equal(buf.data + item.off, "{\"a\":1}", 7);

	sl_buf_reset(&buf);
	o.generate_id = false;
	r.id = NULL;
	assert_int_equal(
	    es_bulk_append(&buf, &o, &r, "t", 1, 0, &scratch, &item), 0);
	assert_false(item.has_id);
}

static void test_replace_dots_in_keys_only(void **state)
{
	struct es_bulk_opts o = base();

	(void)state;
	o.type = NULL;
	o.time_key = NULL;
	o.replace_dots = true;
	assert_string_equal(
	    enc(&o, "{\"a.b\":\"v.w\",\"k\":{\"c.d\":[{\"e.f\":1.5}]}}", NULL,
		NULL),
	    "{\"create\":{\"_index\":\"fluent-bit\"}}\n"
	    "{\"a_b\":\"v.w\",\"k\":{\"c_d\":[{\"e_f\":1.5}]}}\n");
}

static void test_several_records_append(void **state)
{
	struct es_bulk_opts o = base();
	struct es_bulk_rec r1 = {.ts_ns = TS, .body = "{\"a\":1}", .len = 7};
	struct es_bulk_rec r2 = {.ts_ns = TS, .body = "{\"a\":2}", .len = 7};
	struct es_bulk_item i1, i2;

	(void)state;
	o.type = NULL;
	o.time_key = NULL;
	assert_int_equal(
	    es_bulk_append(&buf, &o, &r1, "t", 1, 0, &scratch, &i1), 0);
	assert_int_equal(
	    es_bulk_append(&buf, &o, &r2, "t", 1, 0, &scratch, &i2), 0);
	assert_string_equal(buf.data,
			    "{\"create\":{\"_index\":\"fluent-bit\"}}\n"
			    "{\"a\":1}\n"
			    "{\"create\":{\"_index\":\"fluent-bit\"}}\n"
			    "{\"a\":2}\n");
	assert_memory_equal(buf.data + i2.off, "{\"a\":2}", i2.len);
}

static void test_body_not_object(void **state)
{
	struct es_bulk_opts o = base();
	struct es_bulk_rec r = {.ts_ns = TS, .body = "[1]", .len = 3};

	(void)state;
	assert_int_equal(
	    es_bulk_append(&buf, &o, &r, "t", 1, 0, &scratch, NULL),
	    -SL_EPARSE);
	o.replace_dots = true;
	assert_int_not_equal(
	    es_bulk_append(&buf, &o, &r, "t", 1, 0, &scratch, NULL), 0);
}

/* ---- response reader --------------------------------------------------- */

static int rd(const char *body, uint32_t expected)
{
	return es_response_read(&rr, body, strlen(body), expected);
}

static enum es_verdict v(uint32_t i, bool has_id)
{
	return es_response_verdict(&rr, i, ES_OP_CREATE, has_id);
}

static void test_response_all_ok(void **state)
{
	(void)state;
	assert_int_equal(
	    rd("{\"took\":3,\"errors\":false,\"items\":["
	       "{\"create\":{\"_index\":\"i\",\"_id\":\"1\",\"status\":201}},"
	       "{\"create\":{\"_index\":\"i\",\"_id\":\"2\",\"status\":201}}"
	       "]}",
	       2),
	    0);
	assert_true(rr.has_errors);
	assert_false(rr.errors);
	assert_int_equal(rr.n_items, 2);
	assert_int_equal(v(0, false), ES_DELIVERED);
	assert_int_equal(v(1, false), ES_DELIVERED);
}

static void test_response_mixed_items(void **state)
{
	(void)state;
	assert_int_equal(
	    rd("{\"took\":30,\"errors\":true,\"items\":["
	       "{\"create\":{\"_index\":\"logs\",\"_id\":\"a\",\"status\":201,"
	       "\"result\":\"created\"}},"
	       "{\"create\":{\"_index\":\"logs\",\"_id\":\"b\",\"status\":409,"
	       "\"error\":{\"type\":\"version_conflict_engine_exception\","
	       "\"reason\":\"[b]: version conflict, document already "
	       "exists\"}}},"
	       "{\"create\":{\"_index\":\"logs\",\"_id\":\"c\",\"status\":429,"
	       "\"error\":{\"type\":\"es_rejected_execution_exception\","
	       "\"reason\":\"rejected execution\"}}},"
	       "{\"create\":{\"_index\":\"logs\",\"_id\":\"d\",\"status\":400,"
	       "\"error\":{\"type\":\"mapper_parsing_exception\","
	       "\"reason\":\"failed to parse field [n] of type [long]\","
	       "\"caused_by\":{\"type\":\"illegal_argument_exception\","
	       "\"reason\":\"For input string\"}}}},"
	       "{\"create\":{\"_index\":\"logs\",\"_id\":\"e\",\"status\":503}}"
	       "]}",
	       5),
	    0);
	assert_true(rr.errors);
	assert_int_equal(rr.n_items, 5);
	assert_int_equal(rr.items[0].status, 201);
	assert_int_equal(rr.items[3].status, 400);
	assert_int_equal(v(0, true), ES_DELIVERED);
	assert_int_equal(v(1, true), ES_DELIVERED); /* ours, already there */
	assert_int_equal(v(1, false), ES_REJECTED); /* no id: not ours */
	assert_int_equal(v(2, true), ES_RETRY);
	assert_int_equal(v(3, true), ES_REJECTED);
	assert_int_equal(v(4, true), ES_RETRY);
	/* the outer error, not caused_by's */
	assert_memory_equal(es_response_str(&rr, rr.items[3].type_off),
			    "mapper_parsing_exception", rr.items[3].type_len);
	assert_int_equal(rr.items[3].type_len, 24);
	assert_memory_equal(es_response_str(&rr, rr.items[3].reason_off),
			    "failed to parse field [n] of type [long]",
			    rr.items[3].reason_len);
	assert_memory_equal(es_response_str(&rr, rr.items[3].index_off), "logs",
			    rr.items[3].index_len);
	/* 409 with index or update: a concurrent change, retried */
	assert_int_equal(es_response_verdict(&rr, 1, ES_OP_INDEX, true),
			 ES_RETRY);
	assert_int_equal(es_response_verdict(&rr, 1, ES_OP_UPSERT, true),
			 ES_RETRY);
}

static void test_item_verdicts(void **state)
{
	(void)state;
	assert_int_equal(es_item_verdict(200, ES_OP_INDEX, false),
			 ES_DELIVERED);
	assert_int_equal(es_item_verdict(201, ES_OP_CREATE, false),
			 ES_DELIVERED);
	assert_int_equal(es_item_verdict(404, ES_OP_UPDATE, true), ES_REJECTED);
	assert_int_equal(es_item_verdict(408, ES_OP_CREATE, true), ES_RETRY);
	assert_int_equal(es_item_verdict(500, ES_OP_CREATE, true), ES_RETRY);
	assert_int_equal(es_item_verdict(0, ES_OP_CREATE, true), ES_RETRY);
	assert_int_equal(es_item_verdict(302, ES_OP_CREATE, true), ES_RETRY);
}

static void test_response_cut_body_is_unreadable(void **state)
{
	const char *body = "{\"took\":1,\"errors\":false,\"items\":["
			   "{\"create\":{\"_index\":\"i\",\"status\":201}},"
			   "{\"create\":{\"_ind";

	(void)state;
	/* the reader never cuts a body itself; one that ends early was cut
	 * by the network and nothing in it is trusted */
	assert_int_equal(rd(body, 3), -SL_EPARSE);
	assert_int_equal(rr.n_items, 0);
	assert_int_equal(v(0, false), ES_RETRY);
	assert_int_equal(v(2, false), ES_RETRY);
}

static void test_response_count_mismatch(void **state)
{
	(void)state;
	/* fewer items than sent, even with errors:false: the rest retry */
	assert_int_equal(rd("{\"errors\":false,\"items\":["
			    "{\"index\":{\"status\":200}}]}",
			    3),
			 0);
	assert_int_equal(v(0, false), ES_DELIVERED);
	assert_int_equal(v(1, false), ES_RETRY);
	assert_int_equal(v(2, false), ES_RETRY);
	/* more items than sent: the extra ones are ignored */
	assert_int_equal(rd("{\"errors\":true,\"items\":["
			    "{\"index\":{\"status\":200}},"
			    "{\"index\":{\"status\":400}},"
			    "{\"index\":{\"status\":400}}]}",
			    1),
			 0);
	assert_int_equal(rr.n_items, 3);
	assert_int_equal(v(0, false), ES_DELIVERED);
	assert_int_equal(v(1, false), ES_RETRY); /* out of range */
	/* no items at all */
	assert_int_equal(rd("{}", 2), 0);
	assert_int_equal(v(0, false), ES_RETRY);
}

static void test_response_odd_items(void **state)
{
	(void)state;
	/* non-object items and a non-integer status keep the alignment */
	assert_int_equal(rd("{\"errors\":true,\"items\":[7,"
			    "{\"create\":{\"status\":\"201\"}},"
			    "[1,{\"status\":201}],"
			    "{\"create\":{\"status\":201.0}},"
			    "{\"create\":{\"status\":99999999}},"
			    "{\"create\":{\"status\":201}}]}",
			    6),
			 0);
	assert_int_equal(rr.n_items, 6);
	for (uint32_t i = 0; i < 5; i++)
		assert_int_equal(v(i, true), ES_RETRY);
	assert_int_equal(v(5, true), ES_DELIVERED);
}

static void test_response_whole_request_error(void **state)
{
	(void)state;
	assert_int_equal(
	    rd("{\"error\":{\"root_cause\":[{\"type\":\"a\"}],"
	       "\"type\":\"illegal_argument_exception\","
	       "\"reason\":\"Action/metadata line [1] contains an unknown "
	       "parameter [_type]\"},\"status\":400}",
	       1),
	    0);
	assert_memory_equal(es_response_str(&rr, rr.err_type_off),
			    "illegal_argument_exception", rr.err_type_len);
	assert_int_equal(rr.err_type_len, 26);
	assert_int_equal(v(0, false), ES_RETRY);
}

static void test_response_garbage(void **state)
{
	static const char *const bad[] = {
	    "",
	    "   ",
	    "null",
	    "42",
	    "\"x\"",
	    "[]",
	    "[{\"errors\":false}]",
	    "{\"errors\":false,\"items\":[",
	    "{\"errors\":false}}",
	    "<html>502 Bad Gateway</html>",
	    "{\"errors\":false,\"items\":[]} trailing",
	    "{\"status\":1e999999999999}",
	};

	(void)state;
	for (size_t i = 0; i < SL_ARRAY_LEN(bad); i++) {
		assert_int_equal(rd(bad[i], 2), -SL_EPARSE);
		/* nothing from a failed read is trusted */
		assert_false(rr.has_errors);
		assert_int_equal(v(0, false), ES_RETRY);
	}
	/* a non-JSON body cut by the client is still not a response */
	assert_int_equal(es_response_read(&rr, "<html>", 6, 2), -SL_EPARSE);
	assert_int_equal(es_response_read(&rr, NULL, 0, 2), -SL_EPARSE);
	/* after a failed feed, later feeds and the end keep failing */
	assert_int_equal(es_response_begin(&rr, 2, 0), 0);
	assert_int_equal(es_response_feed(&rr, "{]", 2), -SL_EPARSE);
	assert_int_equal(es_response_feed(&rr, "}", 1), -SL_EPARSE);
	assert_int_equal(es_response_end(&rr), -SL_EPARSE);
	assert_int_equal(v(0, false), ES_RETRY);
}

static void test_response_bounds(void **state)
{
	struct sl_buf big = {0};
	const uint32_t n = 2000;

	(void)state;
	/* long reasons are cut; the total text has a ceiling */
	assert_int_equal(
	    sl_buf_append(&big, "{\"errors\":true,\"items\":[", 24), 0);
	for (uint32_t i = 0; i < n; i++) {
		assert_int_equal(sl_buf_append(&big, i ? "," : "", i ? 1 : 0),
				 0);
		assert_int_equal(
		    sl_buf_append(&big,
				  "{\"create\":{\"status\":400,\"error\":{"
				  "\"type\":\"t\",\"reason\":\"",
				  54),
		    0);
		for (int k = 0; k < 20; k++)
			assert_int_equal(
			    sl_buf_append(&big,
					  "0123456789012345678901234567890"
					  "123456789012345678901234567890"
					  "1234",
					  64),
			    0);
		assert_int_equal(sl_buf_append(&big, "\"}}}", 4), 0);
	}
	assert_int_equal(sl_buf_append(&big, "]}", 2), 0);
	assert_int_equal(es_response_read(&rr, big.data, big.len, n), 0);
	assert_int_equal(rr.n_items, n);
	assert_int_equal(rr.items[0].reason_len, ES_RESP_STR_MAX);
	assert_true(rr.text.len <= ES_RESP_TEXT_MAX);
	assert_int_equal(v(n - 1, false), ES_REJECTED);
	sl_buf_destroy(&big);

	/* deep nesting inside an item is skipped, not a crash */
	sl_buf_reset(&buf);
	assert_int_equal(
	    sl_buf_append(&buf, "{\"items\":[{\"create\":{\"x\":", 25), 0);
	for (int i = 0; i < 5000; i++)
		assert_int_equal(sl_buf_append(&buf, "[", 1), 0);
	for (int i = 0; i < 5000; i++)
		assert_int_equal(sl_buf_append(&buf, "]", 1), 0);
	assert_int_equal(sl_buf_append(&buf, ",\"status\":201}}]}", 17), 0);
	assert_int_equal(es_response_read(&rr, buf.data, buf.len, 1), 0);
	assert_int_equal(v(0, false), ES_DELIVERED);

	/* a body far longer than any response to its items is refused before
	 * yajl can hold it: 0 items allow ES_RESP_BASE_BYTES */
	sl_buf_reset(&buf);
	assert_int_equal(sl_buf_append(&buf, "{\"took\":\"", 9), 0);
	for (size_t i = 0; i < ES_RESP_BASE_BYTES; i++)
		assert_int_equal(sl_buf_append(&buf, "x", 1), 0);
	assert_int_equal(es_response_begin(&rr, 0, 0), 0);
	assert_int_equal(es_response_feed(&rr, buf.data, 9), 0);
	assert_int_equal(es_response_feed(&rr, buf.data + 9, buf.len - 9),
			 -SL_EPARSE);
	assert_int_equal(es_response_end(&rr), -SL_EPARSE);
}

/* ---- streaming: every item whatever the size and the split ----------- */

/* The status the fake server gave item i: 429, 400 or 201. */
static int status_of(uint32_t i)
{
	if (i % 10 == 3)
		return 429;
	if (i % 97 == 5)
		return 400;
	return 201;
}

/* A bulk response of n items in Elasticsearch's real shape. */
static void build_response(struct sl_buf *b, uint32_t n)
{
	static const char head[] = "{\"took\":12,\"errors\":true,\"items\":[";
	char item[512];

	sl_buf_reset(b);
	assert_int_equal(sl_buf_append(b, head, sizeof(head) - 1), 0);
	for (uint32_t i = 0; i < n; i++) {
		int st = status_of(i), len;

		if (st == 201)
			len =
			    snprintf(item, sizeof(item),
				     "%s{\"create\":{\"_index\":\"logs-%u\","
				     "\"_id\":\"%08x\",\"_version\":1,"
				     "\"result\":\"created\",\"status\":201}}",
				     i ? "," : "", i % 3, i);
		else
			len = snprintf(
			    item, sizeof(item),
			    "%s{\"create\":{\"_index\":\"logs-%u\",\"_id\":"
			    "\"%08x\",\"status\":%d,\"error\":{\"type\":"
			    "\"%s\",\"reason\":\"item %u \\u00e9 failed\"}}}",
			    i ? "," : "", i % 3, i, st,
			    st == 429 ? "es_rejected_execution_exception"
				      : "mapper_parsing_exception",
			    i);
		assert_true(len > 0 && (size_t)len < sizeof(item));
		assert_int_equal(sl_buf_append(b, item, (size_t)len), 0);
	}
	assert_int_equal(sl_buf_append(b, "]}", 2), 0);
}

static void check_all_items(uint32_t n)
{
	assert_int_equal(rr.n_items, n);
	assert_true(rr.has_errors && rr.errors);
	for (uint32_t i = 0; i < n; i++) {
		int st = status_of(i);
		enum es_verdict want = st == 429   ? ES_RETRY
				       : st == 400 ? ES_REJECTED
						   : ES_DELIVERED;

		assert_int_equal(rr.items[i].status, st);
		assert_int_equal(v(i, true), want);
	}
	/* the first rejected item kept its reason, \u00e9 decoded */
	if (n > 5) {
		const char *want = "item 5 \xc3\xa9 failed";

		assert_int_equal(rr.items[5].reason_len, strlen(want));
		assert_memory_equal(
		    es_response_str(&rr, rr.items[5].reason_off), want,
		    strlen(want));
	}
}

/* Feeds the body in two pieces cut at `at`. */
static void read_split(const struct sl_buf *b, uint32_t n, size_t at)
{
	assert_int_equal(es_response_begin(&rr, n, 0), 0);
	assert_int_equal(es_response_feed(&rr, b->data, at), 0);
	assert_int_equal(es_response_feed(&rr, b->data + at, b->len - at), 0);
	assert_int_equal(es_response_end(&rr), 0);
	check_all_items(n);
}

/* Feeds the body in random pieces of 1..max bytes. */
static void read_pieces(const struct sl_buf *b, uint32_t n, size_t max,
			unsigned *seed)
{
	size_t off = 0;

	assert_int_equal(es_response_begin(&rr, n, 0), 0);
	while (off < b->len) {
		size_t k = 1 + (size_t)rand_r(seed) % max;

		if (k > b->len - off)
			k = b->len - off;
		assert_int_equal(es_response_feed(&rr, b->data + off, k), 0);
		off += k;
	}
	assert_int_equal(es_response_end(&rr), 0);
	check_all_items(n);
}

static void test_stream_one_item_every_split(void **state)
{
	/* 1 item (201), then 4 (a 429 last) and 6 (a 400 last): every byte
	 * boundary of each, and byte by byte */
	static const uint32_t sizes[] = {1, 4, 6};
	struct sl_buf b = {0};
	unsigned seed = 1;

	(void)state;
	for (size_t s = 0; s < SL_ARRAY_LEN(sizes); s++) {
		build_response(&b, sizes[s]);
		for (size_t at = 0; at <= b.len; at++)
			read_split(&b, sizes[s], at);
		read_pieces(&b, sizes[s], 1, &seed);
	}
	sl_buf_destroy(&b);
}

static void test_stream_22k_items_random_splits(void **state)
{
	struct sl_buf b = {0};
	unsigned seed = 22000;

	(void)state;
	build_response(&b, 22000);
	for (int k = 0; k < 48; k++)
		read_split(&b, 22000, (size_t)rand_r(&seed) % (b.len + 1));
	read_pieces(&b, 22000, 16384, &seed); /* libcurl's piece size */
	read_pieces(&b, 22000, 7, &seed);
	sl_buf_destroy(&b);
}

static void test_stream_200k_items_random_splits(void **state)
{
	struct sl_buf b = {0};
	unsigned seed = 200000;

	(void)state;
	build_response(&b, 200000);
	/* far past Buffer_Size's 512K default: every item is still read */
	assert_true(b.len > 10u * 1024u * 1024u);
	for (int k = 0; k < 6; k++)
		read_split(&b, 200000, (size_t)rand_r(&seed) % (b.len + 1));
	read_pieces(&b, 200000, 16384, &seed);
	/* the kept text stays within its budget */
	assert_true(rr.text.len <= ES_RESP_TEXT_MAX);
	sl_buf_destroy(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_create_with_type, reset),
	    cmocka_unit_test_setup(test_suppress_type_and_empty_type, reset),
	    cmocka_unit_test_setup(test_operations, reset),
	    cmocka_unit_test(test_op_parse),
	    cmocka_unit_test_setup(test_logstash_index_from_record_time, reset),
	    cmocka_unit_test_setup(test_logstash_index_before_1970, reset),
	    cmocka_unit_test_setup(test_time_key_nanos_format_and_tag, reset),
	    cmocka_unit_test_setup(test_time_text_follows_each_record, reset),
	    cmocka_unit_test_setup(test_generate_id_stable_and_distinct, reset),
	    cmocka_unit_test_setup(test_generate_id_from_identity, reset),
	    cmocka_unit_test_setup(test_id_key_wins_and_is_escaped, reset),
	    cmocka_unit_test_setup(test_replace_dots_in_keys_only, reset),
	    cmocka_unit_test_setup(test_several_records_append, reset),
	    cmocka_unit_test_setup(test_body_not_object, reset),
	    cmocka_unit_test(test_response_all_ok),
	    cmocka_unit_test(test_response_mixed_items),
	    cmocka_unit_test(test_item_verdicts),
	    cmocka_unit_test(test_response_cut_body_is_unreadable),
	    cmocka_unit_test(test_response_count_mismatch),
	    cmocka_unit_test(test_response_odd_items),
	    cmocka_unit_test(test_response_whole_request_error),
	    cmocka_unit_test(test_response_garbage),
	    cmocka_unit_test_setup(test_response_bounds, reset),
	    cmocka_unit_test(test_stream_one_item_every_split),
	    cmocka_unit_test(test_stream_22k_items_random_splits),
	    cmocka_unit_test(test_stream_200k_items_random_splits),
	};

	return cmocka_run_group_tests(tests, NULL, teardown);
}
