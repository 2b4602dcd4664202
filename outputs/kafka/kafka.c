/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kafka.c - the kafka output (Fluent Bit's out_kafka) on librdkafka: options
 * and their validation (every rdkafka.<property> is checked by librdkafka at
 * init, so --dry-run reports it), and the producer's life. One idempotent
 * producer per output instance, shared by its workers (librdkafka is
 * thread-safe), created at start.
 *
 * Threads. Workers only produce (kafka_produce.c). Delivery reports are
 * served by one poller thread per instance that loops on rd_kafka_poll();
 * a worker never polls, so a chunk's flush returns as soon as its messages
 * are queued and the next chunk is produced while the first is in flight.
 * The report of a chunk's last message settles the chunk (sl_flush_done).
 * When the last worker exits, the producer is flushed (bounded by a share
 * of Grace), what is still queued is purged, and the purge reports settle
 * the remaining chunks as retries, before the engine frees its flushes.
 *
 * A fatal error (an idempotent producer that lost its sequence) does not
 * stop the output: the poller purges the failed producer, whose reports
 * make its chunks retries, and makes a new one from the same
 * configuration; the retries go to it. Workers use the producer under a
 * read lock, the poller replaces it under the write lock.
 *
 * Not implemented: Format gelf and avro (Fluent Bit's avro needs its
 * optional Avro encoder build), AWS MSK IAM authentication.
 */
#include "kafka.h"
#include "kafka_conf.h"
#include "sl_sanitize.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* After a fatal error, how long purge reports of the old producer may
 * take before it is destroyed anyway. */
#define SETTLE_MAX_S	 10
#define CLAMP(v, lo, hi) ((v) < (lo) ? (lo) : (v) > (hi) ? (hi) : (v))
/* The poller's wait: also the worst-case delay to stop it. */
#define POLL_MS 100

static const struct sl_cfg_option kafka_config[] = {
    {.name = "brokers",
     .type = SL_CFG_STR,
     .offset = offsetof(struct kafka_ctx, brokers),
     .desc = "bootstrap brokers host:port[,host:port] (bootstrap.servers)"},
    {.name = "topics",
     .type = SL_CFG_SLIST,
     .def = "fluent-bit",
     .offset = offsetof(struct kafka_ctx, topics),
     .desc = "topics, comma-separated; the first is the default"},
    {.name = "topic_key",
     .type = SL_CFG_STR,
     .offset = offsetof(struct kafka_ctx, topic_key),
     .desc = "field whose value names the topic (one of Topics, else the "
	     "default)"},
    {.name = "dynamic_topic",
     .type = SL_CFG_BOOL,
     .def = "off",
     .offset = offsetof(struct kafka_ctx, dynamic_topic),
     .desc = "Topic_Key values not in Topics are used as topics too"},
    {.name = "format",
     .type = SL_CFG_STR,
     .def = "json",
     .offset = offsetof(struct kafka_ctx, format),
     .desc = "json or msgpack (the record with Timestamp_Key) or raw "
	     "(Raw_Log_Key's text)"},
    {.name = "message_key",
     .type = SL_CFG_STR,
     .offset = offsetof(struct kafka_ctx, message_key),
     .desc = "static message key"},
    {.name = "message_key_field",
     .type = SL_CFG_STR,
     .offset = offsetof(struct kafka_ctx, message_key_field),
     .desc = "field whose text is the message key (a correlation ID keeps "
	     "related events in one partition); else Message_Key"},
    {.name = "timestamp_key",
     .type = SL_CFG_STR,
     .def = "@timestamp",
     .offset = offsetof(struct kafka_ctx, timestamp_key),
     .desc = "key of the record time added to json messages"},
    {.name = "timestamp_format",
     .type = SL_CFG_STR,
     .def = "double",
     .offset = offsetof(struct kafka_ctx, timestamp_format),
     .desc = "double, iso8601 (microseconds) or iso8601_ns"},
    {.name = "tag_key",
     .type = SL_CFG_STR,
     .offset = offsetof(struct kafka_ctx, tag_key),
     .desc = "Format json: add the record's tag under this key (a consumer "
	     "gets the tag back; Kafka messages carry none)"},
    {.name = "queue_full_retries",
     .type = SL_CFG_INT,
     .def = "10",
     .min = 0,
     .max = 1e9,
     .offset = offsetof(struct kafka_ctx, queue_full_retries),
     .desc = "seconds to wait for room in librdkafka's queue before the "
	     "chunk is retried later (0: wait forever)"},
    {.name = "raw_log_key",
     .type = SL_CFG_STR,
     .offset = offsetof(struct kafka_ctx, raw_log_key),
     .desc = "Format raw: the field sent as the message"},
    {.name = "client_id",
     .type = SL_CFG_STR,
     .def = "sluice",
     .offset = offsetof(struct kafka_ctx, client_id),
     .desc = "client.id"},
    {.name = "group_id",
     .type = SL_CFG_STR,
     .flags = SL_CFG_IGNORED,
     .desc = "consumer group: a producer has none, ignored"},
    {.name = "gelf_timestamp_key",
     .type = SL_CFG_STR,
     .flags = SL_CFG_IGNORED,
     .desc = "Format gelf is not supported"},
    {.name = "gelf_host_key",
     .type = SL_CFG_STR,
     .flags = SL_CFG_IGNORED,
     .desc = "Format gelf is not supported"},
    {.name = "gelf_short_message_key",
     .type = SL_CFG_STR,
     .flags = SL_CFG_IGNORED,
     .desc = "Format gelf is not supported"},
    {.name = "gelf_full_message_key",
     .type = SL_CFG_STR,
     .flags = SL_CFG_IGNORED,
     .desc = "Format gelf is not supported"},
    {.name = "gelf_level_key",
     .type = SL_CFG_STR,
     .flags = SL_CFG_IGNORED,
     .desc = "Format gelf is not supported"},
    /* Fluent Bit has these only in its FLB_AVRO_ENCODER build */
    {.name = "schema",
     .type = SL_CFG_STR,
     .flags = SL_CFG_PREFIX,
     .offset = offsetof(struct kafka_ctx, avro_opts),
     .desc = "schema_str, schema_id, schema_registry_*: Format avro's "
	     "options, refused (avro needs a build sluice does not offer)"},
    {.name = "serializer.framing",
     .type = SL_CFG_STR,
     .offset = offsetof(struct kafka_ctx, serializer_framing),
     .desc = "Format avro's option, refused"},
    {.name = "aws_msk_iam_cluster_arn",
     .type = SL_CFG_STR,
     .offset = offsetof(struct kafka_ctx, msk_iam_arn),
     .desc = "AWS MSK IAM authentication: not supported (an error)"},
    {.name = "rdkafka.",
     .type = SL_CFG_STR,
     .flags = SL_CFG_PREFIX,
     .offset = offsetof(struct kafka_ctx, rdkafka),
     .desc = "rdkafka.<property> VALUE: any librdkafka property "
	     "(enable.idempotence is true unless set)"},
    SL_CFG_END,
};

/* ---- init: validate everything, build the librdkafka configuration ------ */

/* Why Format avro and its options are refused (Fluent Bit builds them only
 * with FLB_AVRO_ENCODER, off by default). */
#define AVRO_BUILD                                                             \
	"needs Fluent Bit's optional Avro encoder build (FLB_AVRO_ENCODER), "  \
	"which sluice does not offer"

static int parse_formats(struct kafka_ctx *ctx, struct sl_plugin_instance *ins,
			 int line)
{
	int rc = 0;

	if (!strcasecmp(ctx->format, "json")) {
		ctx->fmt = KAFKA_FMT_JSON;
	} else if (!strcasecmp(ctx->format, "raw")) {
		ctx->fmt = KAFKA_FMT_RAW;
		if (!ctx->raw_log_key) {
			sl_plugin_error(ins, line,
					"Format raw needs Raw_Log_Key "
					"(the field to send)");
			rc = -SL_ECONFIG;
		}
	} else if (!strcasecmp(ctx->format, "msgpack")) {
		ctx->fmt = KAFKA_FMT_MSGPACK;
	} else if (!strcasecmp(ctx->format, "avro")) {
		/* Fluent Bit has it only when built with FLB_AVRO_ENCODER */
		sl_plugin_error(ins, line,
				"Format avro " AVRO_BUILD
				" (use json, msgpack or raw)");
		rc = -SL_ECONFIG;
	} else if (!strcasecmp(ctx->format, "gelf")) {
		sl_plugin_error(ins, line,
				"Format gelf is not implemented by sluice's "
				"kafka output (use json, msgpack or raw)");
		rc = -SL_ECONFIG;
	} else {
		sl_plugin_error(ins, line,
				"unknown Format '%s' (json, msgpack, raw)",
				ctx->format);
		rc = -SL_ECONFIG;
	}
	/* one error for an avro config: the Format's, else the option's */
	if (strcasecmp(ctx->format, "avro") &&
	    (ctx->avro_opts.n > 0 || ctx->serializer_framing)) {
		const struct sl_cfg_item *it = ctx->avro_opts.items;

		if (ctx->avro_opts.n)
			sl_plugin_error(ins, it->line,
					"'schema%.*s' is an option of Format "
					"avro, which " AVRO_BUILD,
					(int)strcspn(it->value, " "),
					it->value);
		else
			sl_plugin_error(ins, line,
					"'serializer.framing' is an option of "
					"Format avro, which " AVRO_BUILD);
		rc = -SL_ECONFIG;
	}
	if (!strcasecmp(ctx->timestamp_format, "double")) {
		ctx->ts_fmt = KAFKA_TS_DOUBLE;
	} else if (!strcasecmp(ctx->timestamp_format, "iso8601")) {
		ctx->ts_fmt = KAFKA_TS_ISO8601;
	} else if (!strcasecmp(ctx->timestamp_format, "iso8601_ns")) {
		ctx->ts_fmt = KAFKA_TS_ISO8601_NS;
	} else {
		sl_plugin_error(ins, line,
				"unknown Timestamp_Format '%s' (double, "
				"iso8601, iso8601_ns)",
				ctx->timestamp_format);
		rc = -SL_ECONFIG;
	}
	return rc;
}

static int compile(struct sl_plugin_instance *ins, int line, const char *opt,
		   const char *spec, struct sl_accessor **out)
{
	const char *err = NULL;

	if (!spec)
		return 0;
	*out = sl_accessor_create(spec, &err);
	if (*out)
		return 0;
	sl_plugin_error(ins, line, "%s '%s': %s", opt, spec,
			err ? err : "invalid");
	return -SL_ECONFIG;
}

/*
 * librdkafka settings we choose, set before the user's rdkafka.<property>
 * items (which override them):
 * - idempotence: retries inside librdkafka never duplicate or reorder.
 * - the queue bound. librdkafka's own is 100000 messages or 1 GB. Every
 *   queued message is a copy of a record that its chunk still holds until
 *   the delivery report, so a queue deeper than what keeps the brokers
 *   busy only doubles memory (~1 KB a record with its header and
 *   bookkeeping). Past the bound, produce waits for reports (backpressure
 *   to the chunks, which the engine bounds and may keep on disk): nothing
 *   is dropped. 2 MB is two default batches (batch.size 1 MB) and keeps
 *   ~200 MB/s going at a 10 ms round trip.
 * - linger.ms 20 (librdkafka: 5): bigger batches, fewer requests and
 *   wake-ups of the broker thread (~10% less CPU a record, measured
 *   against the mock cluster); chunks are flushed once a Flush interval,
 *   so 15 ms more before a send is nothing.
 */
static const struct {
	const char *prop, *value;
} producer_defaults[] = {
    {"enable.idempotence", "true"},
    {"queue.buffering.max.kbytes", "2048"},
    {"queue.buffering.max.messages", "20000"},
    {"linger.ms", "20"},
};

/* Whether the user's rdkafka.<property> items set `prop`. */
static bool user_set(const struct kafka_ctx *ctx, const char *prop)
{
	size_t n = strlen(prop);

	for (size_t i = 0; i < ctx->rdkafka.n; i++) {
		const char *v = ctx->rdkafka.items[i].value;

		if (!strncasecmp(v, prop, n) && (v[n] == ' ' || !v[n]))
			return true;
	}
	return false;
}

static int read_max_message_bytes(struct kafka_ctx *ctx)
{
	char buf[32];
	size_t len = sizeof(buf);
	char *end;
	long long v;

	if (rd_kafka_conf_get(ctx->conf, "message.max.bytes", buf, &len) !=
	    RD_KAFKA_CONF_OK)
		return -SL_EINVAL;
	errno = 0;
	v = strtoll(buf, &end, 10);
	if (errno || end == buf || v <= 0)
		return -SL_EINVAL;
	ctx->max_message_bytes = v;
	return 0;
}

/*
 * A message over queue.buffering.max.kbytes never fits librdkafka's queue:
 * its produce would wait for room forever. Our bound grows to two of the
 * largest messages allowed (message.max.bytes); a user's smaller one is a
 * configuration error.
 */
static int fit_queue_to_messages(struct kafka_ctx *ctx,
				 struct sl_plugin_instance *ins, int line)
{
	char buf[32];
	size_t len = sizeof(buf);
	long long kb;

	if (rd_kafka_conf_get(ctx->conf, "queue.buffering.max.kbytes", buf,
			      &len) != RD_KAFKA_CONF_OK) {
		sl_plugin_error(ins, line,
				"cannot read queue.buffering.max.kbytes");
		return -SL_ECONFIG;
	}
	kb = strtoll(buf, NULL, 10);
	if (kb * 1024 >= ctx->max_message_bytes)
		return 0;
	if (user_set(ctx, "queue.buffering.max.kbytes")) {
		sl_plugin_error(ins, line,
				"rdkafka.queue.buffering.max.kbytes (%lld KB) "
				"is below message.max.bytes (%lld): a message "
				"that large could never be queued",
				kb, (long long)ctx->max_message_bytes);
		return -SL_ECONFIG;
	}
	kb = (2 * ctx->max_message_bytes + 1023) / 1024;
	if (kb > INT32_MAX) /* librdkafka's largest value */
		kb = INT32_MAX;
	snprintf(buf, sizeof(buf), "%lld", kb);
	return kafka_conf_set(ctx->conf, ins, line, "message.max.bytes",
			      "queue.buffering.max.kbytes", buf);
}

static int kafka_init(void *vctx, struct sl_output *out)
{
	struct kafka_ctx *ctx = vctx;
	struct sl_plugin_instance *ins = sl_output_instance(out);
	int line = sl_plugin_instance_line(ins);
	int rc = 0;

	ctx->name = strdup(sl_plugin_instance_name(ins));
	ctx->conf = rd_kafka_conf_new();
	if (!ctx->name || !ctx->conf)
		return -SL_ENOMEM;
	if (parse_formats(ctx, ins, line) < 0)
		rc = -SL_ECONFIG;
	if (ctx->topics.n == 0 || !ctx->topics.v[0][0]) {
		sl_plugin_error(ins, line, "Topics is empty");
		rc = -SL_ECONFIG;
	}
	for (size_t i = 0; i < ctx->topics.n; i++) {
		const char *t = ctx->topics.v[i];

		if (*t && !sl_sanitize_topic_valid(t, strlen(t))) {
			sl_plugin_error(
			    ins, line,
			    "Topics: '%s' is not a Kafka topic name "
			    "(1-249 of [A-Za-z0-9._-], not . or ..)",
			    t);
			rc = -SL_ECONFIG;
		}
	}
	if (ctx->msk_iam_arn) {
		sl_plugin_error(ins, line,
				"aws_msk_iam_cluster_arn: AWS MSK IAM "
				"authentication is not supported");
		rc = -SL_ECONFIG;
	}
	if (compile(ins, line, "Message_Key_Field", ctx->message_key_field,
		    &ctx->key_acc) < 0 ||
	    compile(ins, line, "Topic_Key", ctx->topic_key, &ctx->topic_acc) <
		0 ||
	    compile(ins, line, "Raw_Log_Key", ctx->raw_log_key, &ctx->raw_acc) <
		0)
		rc = -SL_ECONFIG;
	ctx->message_key_len = ctx->message_key ? strlen(ctx->message_key) : 0;
	if (ctx->fmt == KAFKA_FMT_JSON) {
		if (sl_json_append_string(&ctx->ts_member, ctx->timestamp_key,
					  strlen(ctx->timestamp_key)) < 0 ||
		    sl_buf_append(&ctx->ts_member, ":", 1) < 0)
			return -SL_ENOMEM;
	}
	if (ctx->tag_key && ctx->fmt != KAFKA_FMT_JSON) {
		/* the message names the option: the error is at its line */
		sl_plugin_error(ins, line,
				"Tag_Key needs Format json (Format %s sends "
				"no JSON object to add the tag to)",
				ctx->format);
		rc = -SL_ECONFIG;
	} else if (ctx->tag_key && !ctx->tag_key[0]) {
		sl_plugin_error(ins, line, "Tag_Key is empty");
		rc = -SL_ECONFIG;
	} else if (ctx->tag_key) {
		if (sl_buf_append(&ctx->tag_member, ",", 1) < 0 ||
		    sl_json_append_string(&ctx->tag_member, ctx->tag_key,
					  strlen(ctx->tag_key)) < 0 ||
		    sl_buf_append(&ctx->tag_member, ":", 1) < 0)
			return -SL_ENOMEM;
	}

	/* Our defaults first, so that rdkafka.<property> overrides them. */
	for (size_t i = 0; i < SL_ARRAY_LEN(producer_defaults); i++)
		if (kafka_conf_set(ctx->conf, ins, line,
				   producer_defaults[i].prop,
				   producer_defaults[i].prop,
				   producer_defaults[i].value) < 0)
			rc = -SL_ECONFIG;
	if (kafka_conf_set(ctx->conf, ins, line, "Client_ID", "client.id",
			   ctx->client_id) < 0)
		rc = -SL_ECONFIG;
	if (ctx->brokers &&
	    kafka_conf_set(ctx->conf, ins, line, "Brokers", "bootstrap.servers",
			   ctx->brokers) < 0)
		rc = -SL_ECONFIG;
	switch (kafka_conf_apply_items(ctx->conf, &ctx->rdkafka, ins, NULL)) {
	case 0:
		break;
	case -SL_ENOMEM:
		return -SL_ENOMEM;
	default:
		rc = -SL_ECONFIG;
	}
	if (rc == 0) {
		char buf[8];
		size_t len = sizeof(buf);
		size_t len2 = sizeof(buf);

		if (rd_kafka_conf_get(ctx->conf, "bootstrap.servers", buf,
				      &len) == RD_KAFKA_CONF_OK &&
		    len <= 1 &&
		    rd_kafka_conf_get(ctx->conf, "metadata.broker.list", buf,
				      &len2) == RD_KAFKA_CONF_OK &&
		    len2 <= 1) {
			sl_plugin_error(ins, line,
					"no brokers: set Brokers (or "
					"rdkafka.bootstrap.servers)");
			rc = -SL_ECONFIG;
		}
	}
	if (rc == 0 && read_max_message_bytes(ctx) < 0) {
		sl_plugin_error(ins, line, "cannot read message.max.bytes");
		rc = -SL_ECONFIG;
	}
	if (rc == 0)
		rc = fit_queue_to_messages(ctx, ins, line);
	return rc;
}

/* ---- librdkafka callbacks (any librdkafka thread) ----------------------- */

static void on_log(const rd_kafka_t *rk, int level, const char *fac,
		   const char *buf)
{
	const struct kafka_ctx *ctx = rd_kafka_opaque(rk);

	/* what matters (a chunk not delivered) is logged by the output */
	sl_log(kafka_log_level(level), ctx ? ctx->name : "kafka",
	       "librdkafka %s: %s", fac, buf);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct kafka_ctx *ctx = opaque;
	char fatal[512];

	if (err != RD_KAFKA_RESP_ERR__FATAL) {
		sl_log(SL_LOG_DEBUG, ctx->name, "librdkafka: %s: %s",
		       rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
		return;
	}
	rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
	sl_log(SL_LOG_ERROR, ctx->name,
	       "fatal producer error: %s; the producer is made again once "
	       "what it holds is settled (those chunks are retried)",
	       fatal);
	/* the poller replaces the producer; workers stop using it */
	__atomic_store_n(&ctx->fatal, true, __ATOMIC_SEQ_CST);
}

/* ---- the producer: made at start, made again after a fatal error ------- */

static void destroy_producer(struct kafka_ctx *ctx)
{
	for (size_t i = 0; ctx->rkt && i < ctx->topics.n; i++)
		if (ctx->rkt[i])
			rd_kafka_topic_destroy(ctx->rkt[i]);
	free(ctx->rkt);
	ctx->rkt = NULL;
	if (ctx->rk)
		rd_kafka_destroy(ctx->rk);
	ctx->rk = NULL;
}

/* A producer and its topics from the validated configuration. 0, or a
 * negative error (logged) with nothing left behind. */
static int create_producer(struct kafka_ctx *ctx)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_dup(ctx->conf);
	char err[512];

	if (!conf)
		return -SL_ENOMEM;
	rd_kafka_conf_set_opaque(conf, ctx);
	rd_kafka_conf_set_dr_msg_cb(conf, sl_out_kafka_on_delivery);
	rd_kafka_conf_set_log_cb(conf, on_log);
	rd_kafka_conf_set_error_cb(conf, on_error);
	/* rd_kafka_new takes conf only when it succeeds */
	ctx->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (!ctx->rk) {
		rd_kafka_conf_destroy(conf);
		sl_log(SL_LOG_ERROR, ctx->name,
		       "cannot create the Kafka producer: %s", err);
		return -SL_EINVAL;
	}
	ctx->rkt = calloc(ctx->topics.n, sizeof(*ctx->rkt));
	if (!ctx->rkt) {
		destroy_producer(ctx);
		return -SL_ENOMEM;
	}
	for (size_t i = 0; i < ctx->topics.n; i++) {
		ctx->rkt[i] =
		    rd_kafka_topic_new(ctx->rk, ctx->topics.v[i], NULL);
		if (!ctx->rkt[i]) {
			sl_log(SL_LOG_ERROR, ctx->name, "topic '%s': %s",
			       ctx->topics.v[i],
			       rd_kafka_err2str(rd_kafka_last_error()));
			destroy_producer(ctx);
			return -SL_EINVAL;
		}
	}
	return 0;
}

/*
 * After a fatal error (poller thread): settles what the old producer holds
 * (purged: its reports make those chunks retries), then replaces it. The
 * write lock waits for workers that are producing; they stop at once on a
 * fatal producer, and the poller keeps serving reports while it waits, so
 * a worker waiting for queue room cannot hold it up.
 */
static void recreate(struct kafka_ctx *ctx)
{
	int64_t until;

	while (pthread_rwlock_trywrlock(&ctx->rk_lock) != 0) {
		if (__atomic_load_n(&ctx->poller_stop, __ATOMIC_ACQUIRE))
			return;
		if (ctx->rk) {
			rd_kafka_poll(ctx->rk, 10);
			sl_out_kafka_wake_producers(ctx);
		} else
			usleep(10 * 1000);
	}
	if (ctx->rk) {
		rd_kafka_purge(ctx->rk, RD_KAFKA_PURGE_F_QUEUE |
					    RD_KAFKA_PURGE_F_INFLIGHT);
		/* purge reports come at once; the bound is for a stuck one */
		until = sl_mono_ns() + SETTLE_MAX_S * SL_NS_PER_SEC;
		while (rd_kafka_outq_len(ctx->rk) > 0 && sl_mono_ns() < until)
			rd_kafka_poll(ctx->rk, 50);
		if (rd_kafka_outq_len(ctx->rk) > 0)
			sl_log(SL_LOG_ERROR, ctx->name,
			       "%d messages of the failed producer were never "
			       "reported; their chunks wait for shutdown",
			       rd_kafka_outq_len(ctx->rk));
		destroy_producer(ctx);
	}
	__atomic_store_n(&ctx->fatal, false, __ATOMIC_SEQ_CST);
	if (create_producer(ctx) == 0) {
		__atomic_add_fetch(&ctx->recreated, 1, __ATOMIC_ACQ_REL);
		sl_log(SL_LOG_WARN, ctx->name,
		       "producer made again after a fatal error; retried "
		       "chunks go to it");
	} else {
		/* flushes retry while rk is NULL; so does the poller */
		ctx->next_create_ns = sl_mono_ns() + SL_NS_PER_SEC;
	}
	pthread_rwlock_unlock(&ctx->rk_lock);
}

static void *poller_main(void *arg)
{
	struct kafka_ctx *ctx = arg;

	while (!__atomic_load_n(&ctx->poller_stop, __ATOMIC_ACQUIRE)) {
		if (__atomic_load_n(&ctx->fatal, __ATOMIC_SEQ_CST) ||
		    (!ctx->rk && sl_mono_ns() >= ctx->next_create_ns))
			recreate(ctx);
		else if (ctx->rk) {
			/* the reports of a whole batch, then one wake-up */
			if (rd_kafka_poll(ctx->rk, POLL_MS) > 0)
				sl_out_kafka_wake_producers(ctx);
		} else
			usleep(POLL_MS * 1000);
	}
	return NULL;
}

/* ---- start: the producer, its topics, its poller ----------------------- */

/* Whether the configuration asks for idempotence (our default: true). */
static bool idempotent(const struct kafka_ctx *ctx)
{
	char buf[8];
	size_t len = sizeof(buf);

	return rd_kafka_conf_get(ctx->conf, "enable.idempotence", buf, &len) ==
		   RD_KAFKA_CONF_OK &&
	       !strcmp(buf, "true");
}

static int kafka_start(void *vctx, struct sl_output *out)
{
	struct kafka_ctx *ctx = vctx;
	int64_t grace_ms = sl_output_grace(out) * 1000;
	int rc;

	/*
	 * The engine has waited Grace for the chunks when the last worker
	 * drains the producer: what is still queued then gets a tenth of it
	 * for its reports (0.2 to 5 s), purge reports a twentieth (0.1 to
	 * 2 s), so a stop ends soon after Grace whatever Grace is.
	 */
	ctx->drain_flush_ms = (int)CLAMP(grace_ms / 10, 200, 5000);
	ctx->drain_purge_ms = (int)CLAMP(grace_ms / 20, 100, 2000);
	ctx->id_header =
	    idempotent(ctx) && !ctx->message_key && !ctx->message_key_field;
	if (pthread_mutex_init(&ctx->room_lock, NULL))
		return -SL_ENOMEM;
	if (pthread_cond_init(&ctx->room_cond, NULL)) {
		pthread_mutex_destroy(&ctx->room_lock);
		return -SL_ENOMEM;
	}
	ctx->sync_init = true;
	if (pthread_rwlock_init(&ctx->rk_lock, NULL))
		return -SL_ENOMEM;
	ctx->lock_init = true;
	rc = create_producer(ctx);
	if (rc < 0)
		return rc;
	if (pthread_create(&ctx->poller, NULL, poller_main, ctx)) {
		sl_log(SL_LOG_ERROR, ctx->name,
		       "cannot start the delivery report thread");
		return -SL_EIO;
	}
	ctx->poller_started = true;
	sl_log(SL_LOG_INFO, ctx->name, "producing to '%s' (brokers %s)%s",
	       ctx->topics.v[0], ctx->brokers ? ctx->brokers : "from rdkafka.",
	       ctx->id_header ? ", sluice-id header on each message" : "");
	return 0;
}

/*
 * Waits (bounded) for every queued message's report; then purges what is
 * left, whose reports settle the remaining chunks as retries. Idempotent.
 * The caller holds rk_lock (or the poller is stopped).
 */
static void drain(struct kafka_ctx *ctx)
{
	rd_kafka_resp_err_t err;

	if (!ctx->rk)
		return;
	err = rd_kafka_flush(ctx->rk, ctx->drain_flush_ms);
	if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
		return;
	sl_log(SL_LOG_WARN, ctx->name,
	       "%d messages still without delivery report after %d ms; "
	       "purging them (their chunks stay undelivered)",
	       rd_kafka_outq_len(ctx->rk), ctx->drain_flush_ms);
	rd_kafka_purge(ctx->rk,
		       RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
	rd_kafka_flush(ctx->rk, ctx->drain_purge_ms);
}

static int kafka_worker_init(void *vctx, void **worker)
{
	struct kafka_ctx *ctx = vctx;

	/* counted first: worker_exit runs even when this fails */
	__atomic_add_fetch(&ctx->workers, 1, __ATOMIC_ACQ_REL);
	*worker = sl_out_kafka_worker_create();
	return *worker ? 0 : -SL_ENOMEM;
}

static void kafka_worker_exit(void *vctx, void *worker)
{
	struct kafka_ctx *ctx = vctx;

	sl_out_kafka_worker_destroy(worker);
	/*
	 * The last worker out drains the producer: the engine frees the
	 * flushes still pending right after its workers are gone, so every
	 * report must have been served by then.
	 */
	if (__atomic_sub_fetch(&ctx->workers, 1, __ATOMIC_ACQ_REL) == 0 &&
	    ctx->lock_init) {
		pthread_rwlock_rdlock(&ctx->rk_lock);
		drain(ctx);
		/* no flush comes after the pool stopped; a chunk whose
		 * reports are still missing now is forgotten by the engine */
		__atomic_store_n(&ctx->detached, true, __ATOMIC_SEQ_CST);
		pthread_rwlock_unlock(&ctx->rk_lock);
	}
}

static void kafka_destroy(void *vctx)
{
	struct kafka_ctx *ctx = vctx;

	/* the poller first: from here on this thread alone touches rk */
	if (ctx->poller_started) {
		__atomic_store_n(&ctx->poller_stop, true, __ATOMIC_RELEASE);
		if (ctx->rk)
			rd_kafka_yield(ctx->rk);
		pthread_join(ctx->poller, NULL);
		ctx->poller_started = false;
	}
	if (ctx->rk) {
		/*
		 * Flushes the engine has freed must not be touched by a late
		 * report: from here on reports only free their tracking.
		 */
		__atomic_store_n(&ctx->detached, true, __ATOMIC_SEQ_CST);
		drain(ctx);
	}
	if (__atomic_load_n(&ctx->live_batches, __ATOMIC_ACQUIRE))
		sl_log(SL_LOG_ERROR, ctx->name,
		       "%lld chunks still awaiting delivery reports at exit",
		       (long long)ctx->live_batches);
	destroy_producer(ctx);
	if (ctx->conf)
		rd_kafka_conf_destroy(ctx->conf);
	ctx->conf = NULL;
	if (ctx->lock_init) {
		pthread_rwlock_destroy(&ctx->rk_lock);
		ctx->lock_init = false;
	}
	if (ctx->sync_init) {
		pthread_mutex_destroy(&ctx->room_lock);
		pthread_cond_destroy(&ctx->room_cond);
		ctx->sync_init = false;
	}
	sl_accessor_destroy(ctx->key_acc);
	sl_accessor_destroy(ctx->topic_acc);
	sl_accessor_destroy(ctx->raw_acc);
	ctx->key_acc = ctx->topic_acc = ctx->raw_acc = NULL;
	sl_buf_destroy(&ctx->ts_member);
	sl_buf_destroy(&ctx->tag_member);
	free(ctx->name);
	ctx->name = NULL;
}

const struct sl_output_plugin sl_output_kafka = {
    .name = "kafka",
    .description = "Kafka producer (librdkafka), acknowledged on delivery",
    .config_map = kafka_config,
    .ctx_size = sizeof(struct kafka_ctx),
    .init = kafka_init,
    .start = kafka_start,
    .worker_init = kafka_worker_init,
    .worker_exit = kafka_worker_exit,
    .flush = sl_out_kafka_flush,
    .destroy = kafka_destroy,
};
