/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_kafka_input.c - the kafka input's pure parts and its options: the
 * per-partition commit point (only the acknowledged prefix, releases in
 * any order, one chunk spanning partitions, revoked partitions forgotten),
 * the record shape (Fluent Bit's in_kafka fields; Format json keeps one
 * JSON value and nothing more, anything else is a string, invalid UTF-8 is
 * repaired and flagged; the origin is stable per topic/partition/offset),
 * and configuration errors with FILE:LINE and the option's name.
 * The consumer group itself runs against the mock cluster in
 * tests/e2e/test_kafka_input.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../inputs/kafka/kafka_offsets.h"
#include "../../inputs/kafka/kafka_record.h"
#include "sl_engine_int.h"

/* ---- commit points ------------------------------------------------------ */

static void commits_only_the_released_prefix(void **state)
{
	struct kafka_offsets o;
	struct kafka_part *p;

	(void)state;
	kafka_offsets_init(&o);
	assert_int_equal(kafka_offsets_assign(&o, "logs", 0), 0);
	p = kafka_offsets_find(&o, "logs", 0);
	assert_non_null(p);
	assert_false(kafka_part_due(p)); /* nothing consumed yet */
	/* offsets 10..12 into chunk 1, 13..14 into chunk 2 */
	for (int64_t off = 10; off <= 12; off++)
		assert_int_equal(kafka_offsets_push(p, 1, off), 0);
	for (int64_t off = 13; off <= 14; off++)
		assert_int_equal(kafka_offsets_push(p, 2, off), 0);
	assert_false(kafka_part_due(p));
	/* chunk 2 first: chunk 1 still holds 10..12, nothing to commit */
	assert_false(kafka_offsets_release(&o, 2));
	assert_false(kafka_part_due(p));
	assert_true(kafka_offsets_release(&o, 1));
	assert_true(kafka_part_due(p));
	assert_int_equal(p->ack.committed, 15); /* the next to read */
	p->sent = p->ack.committed;
	assert_false(kafka_part_due(p));
	assert_false(kafka_offsets_due_any(&o));
	kafka_offsets_destroy(&o);
}

static void filter_drops_commit_at_once_when_nothing_waits(void **state)
{
	struct kafka_offsets o;
	struct kafka_part *p;

	(void)state;
	kafka_offsets_init(&o);
	assert_int_equal(kafka_offsets_assign(&o, "logs", 3), 0);
	p = kafka_offsets_find(&o, "logs", 3);
	assert_int_equal(kafka_offsets_push(p, 0, 7), 0); /* dropped */
	assert_int_equal(p->ack.committed, 8);
	assert_int_equal(kafka_offsets_push(p, 4, 8), 0);
	assert_int_equal(kafka_offsets_push(p, 0, 9), 0); /* dropped after */
	/* 9 waits behind 8's chunk */
	assert_int_equal(p->ack.committed, 8);
	assert_true(kafka_offsets_release(&o, 4));
	assert_int_equal(p->ack.committed, 10);
	kafka_offsets_destroy(&o);
}

static void one_chunk_releases_every_partition_in_it(void **state)
{
	struct kafka_offsets o;

	(void)state;
	kafka_offsets_init(&o);
	for (int32_t i = 0; i < 3; i++) {
		assert_int_equal(kafka_offsets_assign(&o, "logs", i), 0);
		assert_int_equal(
		    kafka_offsets_push(kafka_offsets_find(&o, "logs", i), 9,
				       100 * i),
		    0);
	}
	assert_int_equal(kafka_offsets_assign(&o, "audit", 0), 0);
	assert_int_equal(
	    kafka_offsets_push(kafka_offsets_find(&o, "audit", 0), 10, 5), 0);
	assert_true(kafka_offsets_release(&o, 9));
	for (int32_t i = 0; i < 3; i++)
		assert_int_equal(
		    kafka_offsets_find(&o, "logs", i)->ack.committed,
		    100 * i + 1);
	assert_int_equal(kafka_offsets_find(&o, "audit", 0)->ack.committed, -1);
	kafka_offsets_destroy(&o);
}

static void revoked_partition_is_forgotten(void **state)
{
	struct kafka_offsets o;

	(void)state;
	kafka_offsets_init(&o);
	assert_int_equal(kafka_offsets_assign(&o, "logs", 0), 0);
	assert_int_equal(kafka_offsets_assign(&o, "logs", 1), 0);
	/* assigning again keeps what is tracked */
	assert_int_equal(
	    kafka_offsets_push(kafka_offsets_find(&o, "logs", 1), 5, 41), 0);
	assert_int_equal(kafka_offsets_assign(&o, "logs", 1), 0);
	assert_int_equal(kafka_offsets_find(&o, "logs", 1)->ack.n, 1);
	kafka_offsets_forget(&o, "logs", 1);
	assert_null(kafka_offsets_find(&o, "logs", 1));
	assert_non_null(kafka_offsets_find(&o, "logs", 0));
	/* its chunk comes back later: nothing to commit for this member */
	assert_false(kafka_offsets_release(&o, 5));
	assert_false(kafka_offsets_due_any(&o));
	/* reassigned later: starts afresh, from the committed offset */
	assert_int_equal(kafka_offsets_assign(&o, "logs", 1), 0);
	assert_int_equal(kafka_offsets_find(&o, "logs", 1)->ack.committed, -1);
	kafka_offsets_destroy(&o);
}

static void persisted_records_count_as_acknowledged(void **state)
{
	struct kafka_offsets o;
	struct kafka_part *p;

	(void)state;
	kafka_offsets_init(&o);
	assert_int_equal(kafka_offsets_assign(&o, "logs", 0), 0);
	p = kafka_offsets_find(&o, "logs", 0);
	assert_int_equal(kafka_offsets_push(p, 3, 0), 0);
	assert_int_equal(kafka_offsets_push(p, 3, 1), 0);
	assert_true(kafka_offsets_persisted(&o, 3));
	assert_int_equal(p->ack.committed, 2);
	/* the open chunk takes more: not safe until persisted again */
	assert_int_equal(kafka_offsets_push(p, 3, 2), 0);
	assert_int_equal(p->ack.committed, 2);
	assert_true(kafka_offsets_release(&o, 3));
	assert_int_equal(p->ack.committed, 3);
	kafka_offsets_destroy(&o);
}

/* ---- records --------------------------------------------------------------
 */

struct built {
	struct sl_record rec;
	struct sl_buf buf;
	char *body;
};

static void build(struct built *b, const char *payload, size_t len, bool json)
{
	struct kafka_msg m = {.topic = "logs",
			      .partition = 2,
			      .offset = 41,
			      .key = "k1",
			      .key_len = 2,
			      .payload = payload,
			      .len = len};
	const char *body;
	size_t blen;

	memset(b, 0, sizeof(*b));
	sl_record_init(&b->rec);
	assert_int_equal(kafka_record_build(&b->rec, &b->buf, &m, json, 1), 0);
	body = sl_record_body(&b->rec, &blen);
	b->body = strndup(body, blen);
}

static void built_done(struct built *b)
{
	sl_record_destroy(&b->rec);
	sl_buf_destroy(&b->buf);
	free(b->body);
}

#define HEAD                                                                   \
	"{\"topic\":\"logs\",\"partition\":2,\"offset\":41,\"error\":null,"    \
	"\"key\":\"k1\",\"payload\":"

static void format_none_keeps_the_payload_as_a_string(void **state)
{
	struct built b;
	const char *p = "{\"a\":1}";

	(void)state;
	build(&b, p, strlen(p), false);
	assert_string_equal(b.body, HEAD "\"{\\\"a\\\":1}\"}");
	built_done(&b);
}

static void format_json_keeps_one_value(void **state)
{
	static const struct {
		const char *payload, *want;
	} cases[] = {
	    {"{\"a\":[1,2]}", HEAD "{\"a\":[1,2]}}"},
	    {"  [1, \"x\"]\n", HEAD "[1, \"x\"]}"},
	    {"42", HEAD "42}"},
	    /* not one value: a string, never extra members */
	    {"1,\"topic\":\"forged\"",
	     HEAD "\"1,\\\"topic\\\":\\\"forged\\\"\"}"},
	    {"{\"a\":1}}", HEAD "\"{\\\"a\\\":1}}\"}"},
	    {"not json", HEAD "\"not json\"}"},
	    {"", HEAD "\"\"}"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct built b;

		build(&b, cases[i].payload, strlen(cases[i].payload), true);
		assert_string_equal(b.body, cases[i].want);
		built_done(&b);
	}
}

static void invalid_utf8_is_repaired_and_flagged(void **state)
{
	struct built b;
	const char p[] = "caf\xc3 \xff";

	(void)state;
	build(&b, p, sizeof(p) - 1, true);
	assert_true(sl_utf8_valid(b.body, strlen(b.body)));
	assert_true(b.rec.flags & SL_REC_REPAIRED);
	assert_non_null(strstr(b.body, "\xef\xbf\xbd"));
	built_done(&b);
}

static void null_key_and_payload_are_null(void **state)
{
	struct kafka_msg m = {.topic = "t", .partition = 0, .offset = 0};
	struct sl_record rec;
	struct sl_buf buf = {0};
	const char *body;
	size_t len;

	(void)state;
	sl_record_init(&rec);
	assert_int_equal(kafka_record_build(&rec, &buf, &m, true, 1), 0);
	body = sl_record_body(&rec, &len);
	assert_int_equal(len,
			 strlen("{\"topic\":\"t\",\"partition\":0,\"offset\":"
				"0,\"error\":null,\"key\":null,"
				"\"payload\":null}"));
	assert_memory_equal(body,
			    "{\"topic\":\"t\",\"partition\":0,\"offset\":0,"
			    "\"error\":null,\"key\":null,\"payload\":null}",
			    len);
	sl_record_destroy(&rec);
	sl_buf_destroy(&buf);
}

static uint64_t origin_of(const char *topic, int32_t partition, int64_t off,
			  int64_t ts)
{
	struct kafka_msg m = {.topic = topic,
			      .partition = partition,
			      .offset = off,
			      .payload = "x",
			      .len = 1};
	struct sl_record rec;
	struct sl_buf buf = {0};
	uint64_t id;

	sl_record_init(&rec);
	assert_int_equal(kafka_record_build(&rec, &buf, &m, false, ts), 0);
	id = sl_record_identity(&rec);
	sl_record_destroy(&rec);
	sl_buf_destroy(&buf);
	return id;
}

static void identity_is_topic_partition_offset(void **state)
{
	(void)state;
	/* consumed again later (another read time): the same record */
	assert_int_equal(origin_of("logs", 1, 7, 100),
			 origin_of("logs", 1, 7, 999));
	assert_int_not_equal(origin_of("logs", 1, 7, 1),
			     origin_of("logs", 1, 8, 1));
	assert_int_not_equal(origin_of("logs", 1, 7, 1),
			     origin_of("logs", 2, 7, 1));
	assert_int_not_equal(origin_of("logs", 1, 7, 1),
			     origin_of("audit", 1, 7, 1));
	assert_int_not_equal(origin_of("logs", 1, 7, 1), 0);
}

/* ---- options ---------------------------------------------------------------
 */

/* Builds an engine from a kafka input with `kv` and a null output; returns
 * the diagnostics joined (caller frees) and asserts the engine failed. */
static char *config_errors(const char *const *kv, int *first_line)
{
	struct sl_conf conf;
	struct sl_diag diag = {0};
	struct sl_conf_section *sec;
	struct sl_engine *eng;
	const char *file;
	size_t len = 0;
	char *all = calloc(1, 1);
	int line = 1;

	sl_conf_init(&conf);
	file = sl_conf_intern_file(&conf, "kin.conf");
	conf.main_file = file;
	sec = sl_conf_add_section(&conf, SL_SEC_INPUT, "INPUT", file, line);
	assert_int_equal(
	    sl_conf_add_entry(&conf, sec, "name", "kafka", file, ++line), 0);
	*first_line = line + 1;
	for (size_t i = 0; kv[i]; i += 2)
		assert_int_equal(sl_conf_add_entry(&conf, sec, kv[i], kv[i + 1],
						   file, ++line),
				 0);
	sec = sl_conf_add_section(&conf, SL_SEC_OUTPUT, "OUTPUT", file, 50);
	assert_int_equal(
	    sl_conf_add_entry(&conf, sec, "name", "null", file, 51), 0);
	assert_int_equal(sl_conf_add_entry(&conf, sec, "match", "*", file, 52),
			 0);
	eng = sl_engine_create(&conf, &diag);
	if (eng)
		sl_engine_destroy(eng);
	assert_null(eng);
	for (size_t i = 0; i < diag.n; i++) {
		size_t n = strlen(diag.msgs[i]);

		all = realloc(all, len + n + 2);
		memcpy(all + len, diag.msgs[i], n);
		all[len + n] = '\n';
		len += n + 1;
		all[len] = '\0';
	}
	sl_diag_destroy(&diag);
	sl_conf_destroy(&conf);
	return all;
}

static void bad_options_name_file_line_and_option(void **state)
{
	static const char *const kv[] = {"topics",
					 "logs,bad/topic,t:x",
					 "format",
					 "msgpack",
					 "rdkafka.enable.auto.offset.store",
					 "true",
					 "rdkafka.fetch.wait.max.ms",
					 "soon",
					 "rdkafka.enable.auto.commit",
					 "true",
					 NULL};
	char want[128];
	int first;
	char *errs = config_errors(kv, &first);

	(void)state;
	/* no Brokers either: reported once the rest is valid only */
	assert_non_null(strstr(errs, "kin.conf:1: kafka: unknown Format "
				     "'msgpack'"));
	assert_non_null(strstr(errs, "Topics: 'bad/topic' is not a Kafka"));
	assert_non_null(strstr(errs, "Topics: 't:x': bad partitions"));
	snprintf(want, sizeof(want),
		 "kin.conf:%d: kafka: rdkafka.enable.auto.offset.store: must "
		 "be false",
		 first + 2);
	assert_non_null(strstr(errs, want));
	snprintf(want, sizeof(want),
		 "kin.conf:%d: kafka: rdkafka.fetch.wait.max.ms:", first + 3);
	assert_non_null(strstr(errs, want));
	snprintf(want, sizeof(want),
		 "kin.conf:%d: kafka: rdkafka.enable.auto.commit: use "
		 "Enable_Auto_Commit",
		 first + 4);
	assert_non_null(strstr(errs, want));
	free(errs);
}

static void missing_brokers_and_topics_are_errors(void **state)
{
	static const char *const no_brokers[] = {"topics", "logs", NULL};
	static const char *const no_topics[] = {"brokers", "127.0.0.1:1", NULL};
	static const char *const tiny[] = {
	    "brokers",	       "127.0.0.1:1", "topics", "logs",
	    "buffer_max_size", "100",	      NULL};
	int first;
	char *errs = config_errors(no_brokers, &first);

	(void)state;
	assert_non_null(strstr(errs, "kin.conf:1: kafka: no brokers"));
	free(errs);
	errs = config_errors(no_topics, &first);
	assert_non_null(strstr(errs, "topics"));
	free(errs);
	errs = config_errors(tiny, &first);
	assert_non_null(strstr(errs, "Buffer_Max_Size: 100 is too small"));
	free(errs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(commits_only_the_released_prefix),
	    cmocka_unit_test(filter_drops_commit_at_once_when_nothing_waits),
	    cmocka_unit_test(one_chunk_releases_every_partition_in_it),
	    cmocka_unit_test(revoked_partition_is_forgotten),
	    cmocka_unit_test(persisted_records_count_as_acknowledged),
	    cmocka_unit_test(format_none_keeps_the_payload_as_a_string),
	    cmocka_unit_test(format_json_keeps_one_value),
	    cmocka_unit_test(invalid_utf8_is_repaired_and_flagged),
	    cmocka_unit_test(null_key_and_payload_are_null),
	    cmocka_unit_test(identity_is_topic_partition_offset),
	    cmocka_unit_test(bad_options_name_file_line_and_option),
	    cmocka_unit_test(missing_brokers_and_topics_are_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
