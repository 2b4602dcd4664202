/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_kafka.c - the kafka output end to end against librdkafka's mock
 * cluster (3 brokers over TCP): an engine with a fake input ships JSON
 * records carrying a seq and a correlation_id, then a consumer reads every
 * partition back. Every record arrives exactly once, keyed and partitioned
 * by its correlation ID, through a broker outage, injected produce errors
 * and a partly failing chunk; oversize records are counted, not sent; bad
 * rdkafka.* properties are config errors with file:line; a fatal producer
 * error makes a new producer and loses nothing; unkeyed messages of an
 * idempotent producer carry the record's id in a sluice-id header;
 * Tag_Key puts the chunk's tag into JSON messages (an error with another
 * Format); a full librdkafka queue makes produce wait, never drop, and our
 * producer defaults bound it unless rdkafka.* says otherwise.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <event2/event.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../outputs/kafka/kafka.h"
#include "sl_engine_int.h"
#include "sl_log.h"
#include "sl_record.h"

#define BASE_NS	    INT64_C(1700000000123456789)
#define N_KEYS	    17
#define API_PRODUCE 0
#define TICK_US	    5000

/* ---- a fake input: `count` records, `per_tick` every 5 ms -------------- */
struct fake_in {
	int64_t count, per_tick, big_at, big_size;
	int64_t emitted;
	int tick;
	struct sl_input *in;
	struct event *ev;
	struct sl_record rec;
	char *body;
};

static const struct sl_cfg_option fake_in_map[] = {
    {.name = "count",
     .type = SL_CFG_INT,
     .def = "1000",
     .min = 0,
     .max = 1e9,
     .offset = offsetof(struct fake_in, count)},
    {.name = "per_tick",
     .type = SL_CFG_INT,
     .def = "50",
     .min = 1,
     .max = 1e9,
     .offset = offsetof(struct fake_in, per_tick)},
    {.name = "big_at",
     .type = SL_CFG_INT,
     .def = "-1",
     .min = -1,
     .max = 1e9,
     .offset = offsetof(struct fake_in, big_at)},
    {.name = "big_size",
     .type = SL_CFG_INT,
     .def = "0",
     .min = 0,
     .max = 1e9,
     .offset = offsetof(struct fake_in, big_size)},
    SL_CFG_END,
};

/* Called on the engine thread before each tick; returns true while the
 * scenario still has something to do (the input stays alive until then). */
static bool (*tick_hook)(struct fake_in *f);
static struct sl_engine *cur_eng;

static const char *dest_of(int64_t seq)
{
	static const char *const d[] = {"logs", "audit", "elsewhere"};

	return d[seq % 3];
}

/* The body of record `seq`; `pad` extra bytes make it big. */
static int make_body(char *buf, size_t cap, int64_t seq, int64_t pad)
{
	int n = snprintf(buf, cap,
			 "{\"seq\":%lld,\"correlation_id\":\"c-%lld\","
			 "\"dest\":\"%s\",\"msg\":\"event \\\"%lld\\\"\"",
			 (long long)seq, (long long)(seq % N_KEYS),
			 dest_of(seq), (long long)seq);

	if (pad > 0) {
		n += snprintf(buf + n, cap - (size_t)n, ",\"pad\":\"");
		memset(buf + n, 'x', (size_t)pad);
		n += (int)pad;
		n += snprintf(buf + n, cap - (size_t)n, "\"");
	}
	n += snprintf(buf + n, cap - (size_t)n, "}");
	return n;
}

static void fake_in_tick(evutil_socket_t fd, short what, void *arg)
{
	struct fake_in *f = arg;
	struct timeval tv = {0, TICK_US};
	bool more = false;

	(void)fd;
	(void)what;
	if (tick_hook)
		more = tick_hook(f);
	f->tick++;
	for (int64_t i = 0; i < f->per_tick && f->emitted < f->count; i++) {
		int64_t seq = f->emitted;

		if (sl_input_paused(f->in))
			return; /* resume re-arms the timer */
		int n = make_body(f->body, (size_t)f->big_size + 256, seq,
				  seq == f->big_at ? f->big_size : 0);
		assert_int_equal(sl_record_reset_json(&f->rec, BASE_NS + seq,
						      f->body, (size_t)n),
				 0);
		assert_int_equal(sl_input_emit(f->in, "app", 3, &f->rec), 0);
		f->emitted++;
	}
	if (f->emitted == f->count && !more) {
		sl_input_finished(f->in);
		return;
	}
	evtimer_add(f->ev, &tv);
}

static int fake_in_init(void *ctx, struct sl_input *in)
{
	struct fake_in *f = ctx;

	f->in = in;
	sl_record_init(&f->rec);
	f->body = malloc((size_t)f->big_size + 256);
	return f->body ? 0 : -SL_ENOMEM;
}

static int fake_in_start(void *ctx, struct sl_input *in)
{
	struct fake_in *f = ctx;
	struct timeval now = {0, 0};

	f->ev = evtimer_new(sl_input_base(in), fake_in_tick, f);
	if (!f->ev)
		return -SL_ENOMEM;
	evtimer_add(f->ev, &now);
	return 0;
}

static void fake_in_resume(void *ctx)
{
	struct fake_in *f = ctx;
	struct timeval now = {0, 0};

	evtimer_add(f->ev, &now);
}

static void fake_in_destroy(void *ctx)
{
	struct fake_in *f = ctx;

	if (f->ev)
		event_free(f->ev);
	sl_record_destroy(&f->rec);
	free(f->body);
}

static const struct sl_input_plugin fake_input = {
    .name = "fake_in",
    .description = "test input",
    .config_map = fake_in_map,
    .ctx_size = sizeof(struct fake_in),
    .init = fake_in_init,
    .start = fake_in_start,
    .resume = fake_in_resume,
    .destroy = fake_in_destroy,
};

static const struct sl_input_plugin *const extra_in[] = {&fake_input, NULL};

/* ---- the mock cluster ------------------------------------------------------
 */
struct cluster {
	rd_kafka_t *rk; /* handle the mock cluster hangs off */
	rd_kafka_mock_cluster_t *mc;
	char bootstraps[256];
};

static void cluster_up(struct cluster *c, const char *const *topics,
		       int partitions)
{
	char err[256];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();

	assert_non_null(conf);
	/* this handle has no brokers on purpose: no warning about it */
	assert_int_equal(
	    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err)),
	    RD_KAFKA_CONF_OK);
	c->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	assert_non_null(c->rk);
	c->mc = rd_kafka_mock_cluster_new(c->rk, 3);
	assert_non_null(c->mc);
	snprintf(c->bootstraps, sizeof(c->bootstraps), "%s",
		 rd_kafka_mock_cluster_bootstraps(c->mc));
	for (size_t i = 0; topics[i]; i++) {
		assert_int_equal(
		    rd_kafka_mock_topic_create(c->mc, topics[i], partitions, 3),
		    RD_KAFKA_RESP_ERR_NO_ERROR);
		/* the mock may put every leader on one broker: spread them,
		 * so that broker 1 leads partitions 0 and 3 */
		for (int p = 0; p < partitions; p++)
			assert_int_equal(rd_kafka_mock_partition_set_leader(
					     c->mc, topics[i], p, p % 3 + 1),
					 RD_KAFKA_RESP_ERR_NO_ERROR);
	}
}

static void cluster_down(struct cluster *c)
{
	rd_kafka_mock_cluster_destroy(c->mc);
	rd_kafka_destroy(c->rk);
	/* librdkafka's threads are gone before the test ends (ASan) */
	assert_int_equal(rd_kafka_wait_destroyed(10000), 0);
}

/* ---- reading everything back ------------------------------------------------
 */
struct got {
	int count; /* times seq was consumed */
	int partition;
	char topic[16];
	char key[16];
	char id[SL_RECORD_ID_HEX + 8]; /* sluice-id header, "" if none */
	char *value;		       /* owned, the last copy */
};

static int64_t parse_seq(const char *v, size_t len)
{
	const char *p = memmem(v, len, "\"seq\":", 6);

	return p ? strtoll(p + 6, NULL, 10) : -1;
}

/* Consumes every message of `topic` (as many as its watermarks say the
 * log holds) into got[seq]. Returns the number of messages in the log. */
static int64_t consume_topic(const struct cluster *c, const char *topic,
			     int partitions, struct got *got, int64_t n)
{
	char err[256];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_t *rk;
	rd_kafka_topic_partition_list_t *parts;
	int64_t total = 0, read = 0;
	int64_t deadline = sl_mono_ns() + 20 * SL_NS_PER_SEC;

	assert_int_equal(rd_kafka_conf_set(conf, "bootstrap.servers",
					   c->bootstraps, err, sizeof(err)),
			 RD_KAFKA_CONF_OK);
	assert_int_equal(
	    rd_kafka_conf_set(conf, "group.id", "verify", err, sizeof(err)),
	    RD_KAFKA_CONF_OK);
	assert_int_equal(rd_kafka_conf_set(conf, "enable.auto.commit", "false",
					   err, sizeof(err)),
			 RD_KAFKA_CONF_OK);
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
	assert_non_null(rk);
	parts = rd_kafka_topic_partition_list_new(partitions);
	for (int p = 0; p < partitions; p++) {
		int64_t lo = 0, hi = 0;

		assert_int_equal(rd_kafka_query_watermark_offsets(
				     rk, topic, p, &lo, &hi, 10000),
				 RD_KAFKA_RESP_ERR_NO_ERROR);
		total += hi - lo;
		rd_kafka_topic_partition_list_add(parts, topic, p)->offset =
		    RD_KAFKA_OFFSET_BEGINNING;
	}
	assert_int_equal(rd_kafka_assign(rk, parts),
			 RD_KAFKA_RESP_ERR_NO_ERROR);
	rd_kafka_topic_partition_list_destroy(parts);
	while (read < total && sl_mono_ns() < deadline) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
		int64_t seq;

		if (!m)
			continue;
		if (m->err) {
			rd_kafka_message_destroy(m);
			continue;
		}
		read++;
		seq = parse_seq(m->payload, m->len);
		assert_true(seq >= 0 && seq < n);
		got[seq].count++;
		got[seq].partition = m->partition;
		snprintf(got[seq].topic, sizeof(got[seq].topic), "%s", topic);
		snprintf(got[seq].key, sizeof(got[seq].key), "%.*s",
			 (int)m->key_len, m->key ? (const char *)m->key : "");
		{
			rd_kafka_headers_t *h = NULL;
			const void *hv = NULL;
			size_t hn = 0;

			got[seq].id[0] = '\0';
			if (rd_kafka_message_headers(m, &h) ==
				RD_KAFKA_RESP_ERR_NO_ERROR &&
			    rd_kafka_header_get_last(h, "sluice-id", &hv,
						     &hn) ==
				RD_KAFKA_RESP_ERR_NO_ERROR)
				snprintf(got[seq].id, sizeof(got[seq].id),
					 "%.*s", (int)hn, (const char *)hv);
		}
		free(got[seq].value);
		got[seq].value = strndup(m->payload, m->len);
		rd_kafka_message_destroy(m);
	}
	assert_int_equal(read, total);
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	return total;
}

static void got_free(struct got *got, int64_t n)
{
	for (int64_t i = 0; i < n; i++)
		free(got[i].value);
	free(got);
}

/*
 * Every seq but `missing` was consumed exactly once, keyed by its
 * correlation ID, and one key always went to one partition.
 */
static void assert_exactly_once(const struct got *got, int64_t n,
				int64_t missing)
{
	int key_part[N_KEYS];

	for (int k = 0; k < N_KEYS; k++)
		key_part[k] = -1;
	for (int64_t s = 0; s < n; s++) {
		char key[16];
		int k = (int)(s % N_KEYS);

		if (s == missing) {
			assert_int_equal(got[s].count, 0);
			continue;
		}
		if (got[s].count != 1)
			fail_msg("seq %lld consumed %d times", (long long)s,
				 got[s].count);
		snprintf(key, sizeof(key), "c-%d", k);
		assert_string_equal(got[s].key, key);
		if (key_part[k] < 0)
			key_part[k] = got[s].partition;
		assert_int_equal(got[s].partition, key_part[k]);
	}
}

/* ---- the engine
 * --------------------------------------------------------------- */
struct run {
	struct sl_conf conf;
	struct sl_diag diag;
	struct sl_engine *eng;
	const char *file;
	struct sl_conf_section *sec;
};

static void section(struct run *r, enum sl_section_kind kind,
		    const char *const *kv)
{
	static const char *const hdr[] = {[SL_SEC_SERVICE] = "SERVICE",
					  [SL_SEC_INPUT] = "INPUT",
					  [SL_SEC_OUTPUT] = "OUTPUT"};
	int line = (int)r->conf.n * 20 + 1;

	r->sec = sl_conf_add_section(&r->conf, kind, hdr[kind], r->file, line);
	assert_non_null(r->sec);
	for (size_t i = 0; kv[i]; i += 2)
		assert_int_equal(sl_conf_add_entry(&r->conf, r->sec, kv[i],
						   kv[i + 1], r->file, ++line),
				 0);
}

/* Without Message_Key_Field correlation_id (run_init's default). */
static bool unkeyed;

/* [SERVICE], the fake input, and a kafka output with `extra` options. */
static void run_init(struct run *r, const struct cluster *c,
		     const char *const *in, const char *const *extra)
{
	static const char *const svc[] = {"flush",
					  "0.05",
					  "scheduler.base",
					  "0.02",
					  "scheduler.cap",
					  "0.1",
					  "grace",
					  "30",
					  NULL};
	const char *out[64] = {"name", "kafka", "match", "*", "brokers",
			       c ? c->bootstraps : "127.0.0.1:1",
			       "message_key_field", "correlation_id",
			       /* a broker back up is reconnected quickly */
			       "rdkafka.reconnect.backoff.max.ms", "200"};
	size_t n = 10;

	if (unkeyed) {
		out[6] = out[8];
		out[7] = out[9];
		n = 8;
	}
	for (size_t i = 0; extra && extra[i]; i++)
		out[n++] = extra[i];
	out[n] = NULL;
	memset(r, 0, sizeof(*r));
	sl_conf_init(&r->conf);
	r->file = sl_conf_intern_file(&r->conf, "kafka-test.conf");
	r->conf.main_file = r->file;
	section(r, SL_SEC_SERVICE, svc);
	section(r, SL_SEC_INPUT, in);
	section(r, SL_SEC_OUTPUT, out);
}

static void run_pipeline(struct run *r)
{
	r->eng = sl_engine_create_with(&r->conf, &r->diag, extra_in, NULL);
	if (!r->eng)
		sl_diag_print(&r->diag, stderr);
	assert_non_null(r->eng);
	cur_eng = r->eng;
	assert_int_equal(sl_engine_start(r->eng), 0);
	assert_int_equal(sl_engine_run(r->eng), 0);
	/* stopped because everything was acknowledged, not by Grace */
	assert_int_equal(r->eng->n_pending, 0);
	assert_int_equal(r->eng->chunks_live, 0);
}

static double metric(struct run *r, struct sl_metric_series *s)
{
	(void)r;
	return sl_metric_value(s);
}

static void run_done(struct run *r)
{
	sl_engine_destroy(r->eng);
	cur_eng = NULL;
	tick_hook = NULL;
	sl_conf_destroy(&r->conf);
	sl_diag_destroy(&r->diag);
}

/* ---- (a) plain
 * ------------------------------------------------------------------ */

static void every_record_once_keyed_by_correlation_id(void **state)
{
	static const char *const topics[] = {"logs", NULL};
	static const char *const in[] = {"name",     "fake_in", "count", "3000",
					 "per_tick", "100",	NULL};
	static const char *const out[] = {"topics", "logs", NULL};
	struct cluster c;
	struct run r;
	struct got *got = calloc(3000, sizeof(*got));
	char body[256];

	(void)state;
	assert_non_null(got);
	cluster_up(&c, topics, 6);
	run_init(&r, &c, in, out);
	run_pipeline(&r);
	struct sl_output *o = r.eng->outputs[0];
	assert_true(metric(&r, o->m_proc_records) == 3000);
	assert_true(metric(&r, o->m_retries) == 0);
	run_done(&r);

	assert_int_equal(consume_topic(&c, "logs", 6, got, 3000), 3000);
	assert_exactly_once(got, 3000, -1);
	/* keyed by the user: no sluice-id header, Fluent Bit's messages */
	for (int64_t s = 0; s < 3000; s++)
		assert_string_equal(got[s].id, "");
	/* Format json: the record's bytes behind a spliced @timestamp */
	for (int64_t s = 0; s < 3000; s += 499) {
		const char *v = got[s].value;
		char *end;
		int n = make_body(body, sizeof(body), s, 0);

		assert_true(strncmp(v, "{\"@timestamp\":", 14) == 0);
		double t = strtod(v + 14, &end);
		assert_true(t > 1700000000.1234 && t < 1700000000.1236);
		assert_int_equal(*end, ',');
		assert_int_equal(strlen(end + 1), (size_t)n - 1);
		assert_memory_equal(end + 1, body + 1, (size_t)n - 1);
	}
	got_free(got, 3000);
	cluster_down(&c);
}

/* ---- (b) a broker down mid-run ---------------------------------------------
 */
static struct cluster *hook_cluster;
static int64_t emitted_at_down, acked_at_up, emitted_at_up;

static bool broker_outage(struct fake_in *f)
{
	struct sl_output *o = cur_eng->outputs[0];

	if (f->tick == 10) {
		emitted_at_down = f->emitted;
		assert_int_equal(
		    rd_kafka_mock_broker_set_down(hook_cluster->mc, 1),
		    RD_KAFKA_RESP_ERR_NO_ERROR);
	}
	if (f->tick == 150) { /* 0.7 s later */
		acked_at_up = (int64_t)sl_metric_value(o->m_proc_records);
		emitted_at_up = f->emitted;
		assert_int_equal(
		    rd_kafka_mock_broker_set_up(hook_cluster->mc, 1),
		    RD_KAFKA_RESP_ERR_NO_ERROR);
	}
	return f->tick < 150;
}

static void broker_down_mid_run_loses_nothing(void **state)
{
	static const char *const topics[] = {"logs", NULL};
	static const char *const in[] = {"name",     "fake_in", "count", "4000",
					 "per_tick", "20",	NULL};
	static const char *const out[] = {"topics", "logs", NULL};
	struct cluster c;
	struct run r;
	struct got *got = calloc(4000, sizeof(*got));

	(void)state;
	assert_non_null(got);
	cluster_up(&c, topics, 6);
	hook_cluster = &c;
	tick_hook = broker_outage;
	run_init(&r, &c, in, out);
	run_pipeline(&r);
	assert_true(metric(&r, r.eng->outputs[0]->m_proc_records) == 4000);
	run_done(&r);

	/* while the broker was down, chunks waited for its partitions:
	 * nothing produced after it went down had been acknowledged */
	if (getenv("SL_TEST_KAFKA_LOG"))
		fprintf(stderr,
			"down at %lld emitted; up at %lld emitted, %lld "
			"acknowledged\n",
			(long long)emitted_at_down, (long long)emitted_at_up,
			(long long)acked_at_up);
	assert_true(emitted_at_up > emitted_at_down);
	if (acked_at_up > emitted_at_down)
		fail_msg("%lld records acknowledged while down, only %lld "
			 "emitted before",
			 (long long)acked_at_up, (long long)emitted_at_down);
	assert_int_equal(consume_topic(&c, "logs", 6, got, 4000), 4000);
	assert_exactly_once(got, 4000, -1);
	got_free(got, 4000);
	cluster_down(&c);
}

/* ---- (c) injected produce errors --------------------------------------------
 */

static void produce_errors_lose_nothing(void **state)
{
	static const char *const topics[] = {"logs", NULL};
	static const char *const in[] = {"name",     "fake_in", "count", "2000",
					 "per_tick", "50",	NULL};
	static const char *const out[] = {"topics", "logs", "timestamp_format",
					  "iso8601_ns", NULL};
	struct cluster c;
	struct run r;
	struct got *got = calloc(2000, sizeof(*got));

	(void)state;
	assert_non_null(got);
	cluster_up(&c, topics, 6);
	for (int32_t b = 1; b <= 3; b++)
		assert_int_equal(rd_kafka_mock_broker_push_request_error_rtts(
				     c.mc, b, API_PRODUCE, 4,
				     RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
				     0, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, 0,
				     RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, 0,
				     RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE, 0),
				 RD_KAFKA_RESP_ERR_NO_ERROR);
	run_init(&r, &c, in, out);
	run_pipeline(&r);
	assert_true(metric(&r, r.eng->outputs[0]->m_proc_records) == 2000);
	run_done(&r);

	/* every injected error was answered to a produce request */
	for (int32_t b = 1; b <= 3; b++) {
		size_t left = 99;

		assert_int_equal(rd_kafka_mock_broker_error_stack_cnt(
				     c.mc, b, API_PRODUCE, &left),
				 RD_KAFKA_RESP_ERR_NO_ERROR);
		assert_int_equal(left, 0);
	}
	assert_int_equal(consume_topic(&c, "logs", 6, got, 2000), 2000);
	assert_exactly_once(got, 2000, -1);
	/* Timestamp_Format iso8601_ns */
	char want[64];
	snprintf(want, sizeof(want),
		 "{\"@timestamp\":\"2023-11-14T22:13:20.%09lldZ\",",
		 (long long)(123456789 + 1234));
	assert_true(strncmp(got[1234].value, want, strlen(want)) == 0);
	got_free(got, 2000);
	cluster_down(&c);
}

/* ---- (d) oversize records
 * ----------------------------------------------------- */

static void oversize_record_is_dropped_and_counted(void **state)
{
	static const char *const topics[] = {"logs", NULL};
	static const char *const in[] = {"name",     "fake_in", "count",
					 "500",	     "big_at",	"37",
					 "big_size", "5000",	NULL};
	static const char *const out[] = {
	    "topics", "logs", "rdkafka.message.max.bytes", "2000", NULL};
	struct cluster c;
	struct run r;
	struct got *got = calloc(500, sizeof(*got));

	(void)state;
	assert_non_null(got);
	cluster_up(&c, topics, 6);
	run_init(&r, &c, in, out);
	run_pipeline(&r);
	struct sl_output *o = r.eng->outputs[0];
	assert_true(metric(&r, o->m_dropped[SL_DROP_OVERSIZE]) == 1);
	assert_true(metric(&r, o->m_proc_records) == 499);
	assert_true(metric(&r, o->m_retries) == 0);
	run_done(&r);

	assert_int_equal(consume_topic(&c, "logs", 6, got, 500), 499);
	assert_exactly_once(got, 500, 37);
	got_free(got, 500);
	cluster_down(&c);
}

/* ---- (f) a chunk that partly fails: only the failed part is re-sent
 * ---------- */
static bool errors_seen;

static bool lift_topic_error(struct fake_in *f)
{
	struct sl_output *o = cur_eng->outputs[0];

	(void)f;
	if (!errors_seen && sl_metric_value(o->m_errors) >= 1) {
		errors_seen = true;
		rd_kafka_mock_topic_set_error(hook_cluster->mc, "audit",
					      RD_KAFKA_RESP_ERR_NO_ERROR);
	}
	return !errors_seen;
}

static void partial_failure_resends_only_failed_records(void **state)
{
	static const char *const topics[] = {"logs", "audit", NULL};
	static const char *const in[] = {"name",     "fake_in", "count", "900",
					 "per_tick", "300",	NULL};
	static const char *const out[] = {
	    "topics", "logs,audit", "topic_key", "dest",
	    "rdkafka.topic.metadata.refresh.interval.ms", "100",
	    /* queued "audit" messages fail (never sent) while the topic is
	     * unauthorized */
	    "rdkafka.message.timeout.ms", "500", NULL};
	struct cluster c;
	struct run r;
	struct got *got = calloc(900, sizeof(*got));

	(void)state;
	assert_non_null(got);
	cluster_up(&c, topics, 3);
	rd_kafka_mock_topic_set_error(
	    c.mc, "audit", RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
	hook_cluster = &c;
	errors_seen = false;
	tick_hook = lift_topic_error;
	run_init(&r, &c, in, out);
	run_pipeline(&r);
	struct sl_output *o = r.eng->outputs[0];
	assert_true(errors_seen);
	assert_true(metric(&r, o->m_retries) >= 1);
	assert_true(metric(&r, o->m_proc_records) == 900);
	run_done(&r);

	/* "logs" got its records once although their chunks were retried */
	assert_int_equal(consume_topic(&c, "logs", 3, got, 900), 600);
	assert_int_equal(consume_topic(&c, "audit", 3, got, 900), 300);
	assert_exactly_once(got, 900, -1);
	for (int64_t s = 0; s < 900; s++)
		assert_string_equal(got[s].topic,
				    s % 3 == 1 ? "audit" : "logs");
	got_free(got, 900);
	cluster_down(&c);
}

/* ---- (e) configuration errors
 * ------------------------------------------------- */

static void bad_rdkafka_property_is_a_config_error(void **state)
{
	static const char *const in[] = {"name", "fake_in", NULL};
	static const char *const out[] = {"rdkafka.no.such.property",
					  "1",
					  "rdkafka.acks",
					  "banana",
					  "rdkafka.linger.ms",
					  "5",
					  NULL};
	struct run r;
	int found = 0;

	(void)state;
	run_init(&r, NULL, in, out);
	r.eng = sl_engine_create_with(&r.conf, &r.diag, extra_in, NULL);
	assert_null(r.eng);
	assert_int_equal(r.diag.n, 2);
	for (size_t j = 0; j < r.sec->n; j++) {
		const struct sl_conf_entry *e = &r.sec->entries[j];
		char want[128];

		if (strcmp(e->key, "rdkafka.no.such.property") &&
		    strcmp(e->key, "rdkafka.acks"))
			continue;
		snprintf(want, sizeof(want),
			 "kafka-test.conf:%d: kafka: %s:", e->line, e->key);
		for (size_t i = 0; i < r.diag.n; i++)
			if (!strncmp(r.diag.msgs[i], want, strlen(want)))
				found++;
	}
	assert_int_equal(found, 2);
	run_done(&r);
}

static void unsupported_format_is_a_config_error(void **state)
{
	static const char *const in[] = {"name", "fake_in", NULL};
	static const char *const out[] = {"format", "avro", NULL};
	static const char *const out2[] = {"format", "raw", NULL};
	struct run r;

	(void)state;
	run_init(&r, NULL, in, out);
	r.eng = sl_engine_create_with(&r.conf, &r.diag, extra_in, NULL);
	assert_null(r.eng);
	assert_int_equal(r.diag.n, 1);
	assert_non_null(strstr(r.diag.msgs[0], "FLB_AVRO_ENCODER"));
	run_done(&r);
	run_init(&r, NULL, in, out2);
	r.eng = sl_engine_create_with(&r.conf, &r.diag, extra_in, NULL);
	assert_null(r.eng);
	assert_int_equal(r.diag.n, 1);
	assert_non_null(strstr(r.diag.msgs[0], "Raw_Log_Key"));
	run_done(&r);
}

/* ---- (f) a fatal producer error ---------------------------------------------
 */
static bool fatal_raised;

static bool raise_fatal(struct fake_in *f)
{
	struct kafka_ctx *ctx = cur_eng->outputs[0]->ctx;

	if (f->tick == 30 && !fatal_raised) {
		/* what an idempotent producer that lost its sequence raises */
		assert_int_equal(
		    rd_kafka_test_fatal_error(
			ctx->rk, RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
			"injected by the test"),
		    RD_KAFKA_RESP_ERR_NO_ERROR);
		fatal_raised = true;
	}
	return f->tick < 40;
}

static void fatal_error_makes_a_new_producer(void **state)
{
	static const char *const topics[] = {"logs", NULL};
	static const char *const in[] = {"name",     "fake_in", "count", "3000",
					 "per_tick", "30",	NULL};
	static const char *const out[] = {"topics", "logs", NULL};
	struct cluster c;
	struct run r;
	struct got *got = calloc(3000, sizeof(*got));
	struct kafka_ctx *ctx;
	int64_t recreated;

	(void)state;
	assert_non_null(got);
	cluster_up(&c, topics, 6);
	/* slow acks: messages are in flight when the error comes */
	for (int32_t b = 1; b <= 3; b++)
		assert_int_equal(rd_kafka_mock_broker_set_rtt(c.mc, b, 150),
				 RD_KAFKA_RESP_ERR_NO_ERROR);
	fatal_raised = false;
	tick_hook = raise_fatal;
	run_init(&r, &c, in, out);
	run_pipeline(&r);
	ctx = r.eng->outputs[0]->ctx;
	recreated = __atomic_load_n(&ctx->recreated, __ATOMIC_ACQUIRE);
	assert_true(fatal_raised);
	/* the output did not stop: every record was acknowledged, by the
	 * producer made after the error for those the old one held */
	assert_int_equal(recreated, 1);
	/* shutdown waits follow the service's Grace (30 s here) */
	assert_int_equal(ctx->drain_flush_ms, 3000);
	assert_int_equal(ctx->drain_purge_ms, 1500);
	assert_true(metric(&r, r.eng->outputs[0]->m_proc_records) == 3000);
	assert_true(metric(&r, r.eng->outputs[0]->m_retries) >= 1);
	run_done(&r);

	/* at least once: what the purge cut off in flight may be there
	 * twice, nothing is missing */
	consume_topic(&c, "logs", 6, got, 3000);
	for (int64_t s = 0; s < 3000; s++)
		if (got[s].count < 1)
			fail_msg("seq %lld lost", (long long)s);
	got_free(got, 3000);
	cluster_down(&c);
}

/* ---- (g) the sluice-id header -----------------------------------------------
 */
static void unkeyed_idempotent_messages_carry_the_record_id(void **state)
{
	static const char *const topics[] = {"logs", NULL};
	static const char *const in[] = {"name",     "fake_in", "count", "500",
					 "per_tick", "100",	NULL};
	static const char *const out[] = {"topics", "logs", NULL};
	struct cluster c;
	struct run r;
	struct got *got = calloc(500, sizeof(*got));
	char body[256], want[SL_RECORD_ID_HEX + 1];

	(void)state;
	assert_non_null(got);
	cluster_up(&c, topics, 6);
	unkeyed = true;
	run_init(&r, &c, in, out);
	unkeyed = false;
	run_pipeline(&r);
	run_done(&r);
	assert_int_equal(consume_topic(&c, "logs", 6, got, 500), 500);
	for (int64_t s = 0; s < 500; s++) {
		int n = make_body(body, sizeof(body), s, 0);

		assert_int_equal(got[s].count, 1);
		assert_string_equal(got[s].key, ""); /* keying unchanged */
		/* the id es Generate_ID would give the same record */
		assert_int_equal(
		    sl_record_id_hex(BASE_NS + s, 0, body, (size_t)n, want), 0);
		assert_string_equal(got[s].id, want);
	}
	got_free(got, 500);
	cluster_down(&c);
}

/* ---- (h) Tag_Key ----------------------------------------------------------
 */
static void tag_key_puts_the_tag_into_json_messages(void **state)
{
	static const char *const topics[] = {"logs", NULL};
	static const char *const in[] = {"name",     "fake_in", "count", "200",
					 "per_tick", "100",	NULL};
	static const char *const out[] = {"topics", "logs", "tag_key",
					  "src_tag", NULL};
	struct cluster c;
	struct run r;
	struct got *got = calloc(200, sizeof(*got));
	char body[256], want[320];

	(void)state;
	assert_non_null(got);
	cluster_up(&c, topics, 2);
	run_init(&r, &c, in, out);
	run_pipeline(&r);
	run_done(&r);
	assert_int_equal(consume_topic(&c, "logs", 2, got, 200), 200);
	for (int64_t s = 0; s < 200; s++) {
		const char *v = got[s].value, *after;

		make_body(body, sizeof(body), s, 0);
		assert_int_equal(got[s].count, 1);
		/* the time first, then the tag the fake input emits with,
		 * then the record's own members, unchanged */
		assert_non_null(v);
		assert_true(!strncmp(v, "{\"@timestamp\":", 14));
		after = strstr(v, ",\"src_tag\":\"app\",");
		assert_non_null(after);
		snprintf(want, sizeof(want), ",\"src_tag\":\"app\",%s",
			 body + 1);
		assert_int_equal(strlen(after), strlen(want));
		assert_string_equal(after, want);
	}
	got_free(got, 200);
	cluster_down(&c);
}

/* Tag_Key with a Format that sends no JSON object: an error at its line. */
static void tag_key_without_format_json_is_a_config_error(void **state)
{
	static const char *const in[] = {"name", "fake_in", NULL};
	static const char *const formats[] = {"msgpack", "raw"};

	(void)state;
	for (size_t f = 0; f < 2; f++) {
		const char *out[] = {"format", formats[f], "raw_log_key",
				     "msg",    "tag_key",  "tag",
				     NULL};
		struct run r;
		int line = 0;
		char want[128];

		run_init(&r, NULL, in, out);
		for (size_t j = 0; j < r.sec->n; j++)
			if (!strcmp(r.sec->entries[j].key, "tag_key"))
				line = r.sec->entries[j].line;
		assert_true(line > 0);
		r.eng = sl_engine_create_with(&r.conf, &r.diag, extra_in, NULL);
		assert_null(r.eng);
		assert_int_equal(r.diag.n, 1);
		snprintf(want, sizeof(want),
			 "kafka-test.conf:%d: kafka: Tag_Key needs Format json",
			 line);
		if (strncmp(r.diag.msgs[0], want, strlen(want)))
			fail_msg("got '%s', want '%s...'", r.diag.msgs[0],
				 want);
		run_done(&r);
	}
}

/* ---- (k) the queue bound: backpressure, never a loss ---------------------
 */
static void full_queue_waits_and_loses_nothing(void **state)
{
	static const char *const topics[] = {"logs", NULL};
	static const char *const in[] = {"name",     "fake_in", "count", "2000",
					 "per_tick", "500",	NULL};
	/* room for 16 messages: nearly every produce meets a full queue */
	static const char *const out[] = {
	    "topics", "logs", "rdkafka.queue.buffering.max.messages", "16",
	    NULL};
	struct cluster c;
	struct run r;
	struct got *got = calloc(2000, sizeof(*got));

	(void)state;
	assert_non_null(got);
	cluster_up(&c, topics, 6);
	run_init(&r, &c, in, out);
	run_pipeline(&r);
	struct sl_output *o = r.eng->outputs[0];
	assert_true(metric(&r, o->m_proc_records) == 2000);
	assert_true(metric(&r, o->m_retries) == 0);
	run_done(&r);

	assert_int_equal(consume_topic(&c, "logs", 6, got, 2000), 2000);
	assert_exactly_once(got, 2000, -1);
	got_free(got, 2000);
	cluster_down(&c);
}

/* The value librdkafka holds for `prop` in the output's configuration. */
static void conf_value(struct run *r, const char *prop, char *buf, size_t cap)
{
	const struct kafka_ctx *ctx = r->eng->outputs[0]->ctx;

	assert_int_equal(rd_kafka_conf_get(ctx->conf, prop, buf, &cap),
			 RD_KAFKA_CONF_OK);
}

static void producer_defaults_are_bounded_and_overridable(void **state)
{
	static const char *const in[] = {"name", "fake_in", NULL};
	static const char *const mine[] = {"rdkafka.linger.ms", "5",
					   "rdkafka.queue.buffering.max.kbytes",
					   "65536", NULL};
	/* a larger message.max.bytes grows our bound to fit two */
	static const char *const big[] = {"rdkafka.message.max.bytes",
					  "4000000", NULL};
	struct run r;
	char v[64];

	(void)state;
	run_init(&r, NULL, in, NULL);
	r.eng = sl_engine_create_with(&r.conf, &r.diag, extra_in, NULL);
	assert_non_null(r.eng);
	conf_value(&r, "queue.buffering.max.kbytes", v, sizeof(v));
	assert_string_equal(v, "2048");
	conf_value(&r, "queue.buffering.max.messages", v, sizeof(v));
	assert_string_equal(v, "20000");
	conf_value(&r, "linger.ms", v, sizeof(v));
	assert_string_equal(v, "20");
	conf_value(&r, "enable.idempotence", v, sizeof(v));
	assert_string_equal(v, "true");
	run_done(&r);

	run_init(&r, NULL, in, mine);
	r.eng = sl_engine_create_with(&r.conf, &r.diag, extra_in, NULL);
	assert_non_null(r.eng);
	conf_value(&r, "queue.buffering.max.kbytes", v, sizeof(v));
	assert_string_equal(v, "65536");
	conf_value(&r, "linger.ms", v, sizeof(v));
	assert_string_equal(v, "5");
	run_done(&r);

	run_init(&r, NULL, in, big);
	r.eng = sl_engine_create_with(&r.conf, &r.diag, extra_in, NULL);
	assert_non_null(r.eng);
	conf_value(&r, "queue.buffering.max.kbytes", v, sizeof(v));
	assert_string_equal(v, "7813");
	run_done(&r);
}

static void queue_smaller_than_a_message_is_a_config_error(void **state)
{
	static const char *const in[] = {"name", "fake_in", NULL};
	static const char *const out[] = {
	    "rdkafka.message.max.bytes", "4000000",
	    "rdkafka.queue.buffering.max.kbytes", "1024", NULL};
	struct run r;

	(void)state;
	run_init(&r, NULL, in, out);
	r.eng = sl_engine_create_with(&r.conf, &r.diag, extra_in, NULL);
	assert_null(r.eng);
	assert_int_equal(r.diag.n, 1);
	assert_non_null(strstr(r.diag.msgs[0], "kafka-test.conf:"));
	assert_non_null(
	    strstr(r.diag.msgs[0], "rdkafka.queue.buffering.max.kbytes"));
	run_done(&r);
}

int main(void)
{
	sl_log_set_level(getenv("SL_TEST_KAFKA_LOG") ? SL_LOG_DEBUG
						     : SL_LOG_OFF);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_record_once_keyed_by_correlation_id),
	    cmocka_unit_test(broker_down_mid_run_loses_nothing),
	    cmocka_unit_test(produce_errors_lose_nothing),
	    cmocka_unit_test(oversize_record_is_dropped_and_counted),
	    cmocka_unit_test(partial_failure_resends_only_failed_records),
	    cmocka_unit_test(fatal_error_makes_a_new_producer),
	    cmocka_unit_test(unkeyed_idempotent_messages_carry_the_record_id),
	    cmocka_unit_test(bad_rdkafka_property_is_a_config_error),
	    cmocka_unit_test(unsupported_format_is_a_config_error),
	    cmocka_unit_test(tag_key_puts_the_tag_into_json_messages),
	    cmocka_unit_test(tag_key_without_format_json_is_a_config_error),
	    cmocka_unit_test(full_queue_waits_and_loses_nothing),
	    cmocka_unit_test(producer_defaults_are_bounded_and_overridable),
	    cmocka_unit_test(queue_smaller_than_a_message_is_a_config_error),
	};
	/* SL_TEST_KAFKA_ONLY=<pattern> runs one scenario */
	if (getenv("SL_TEST_KAFKA_ONLY"))
		cmocka_set_test_filter(getenv("SL_TEST_KAFKA_ONLY"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
