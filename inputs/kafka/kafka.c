/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kafka.c - the kafka input (Fluent Bit's in_kafka) on librdkafka: options
 * and their validation (every rdkafka.<property> is checked by librdkafka
 * at init, so --dry-run reports it), and the consumer's life: created and
 * subscribed at start, it leaves its group at destroy after committing
 * what was acknowledged.
 *
 * The guarantee Fluent Bit does not give: a partition's offset is
 * committed only up to the first record whose chunk some matching output
 * has not acknowledged yet (chunk_released; with storage.type filesystem,
 * chunk_persisted counts too: the records are on disk). Fluent Bit commits
 * once records are in its buffer, so a crash loses them; here a crash
 * re-consumes at most what was in flight.
 *
 * Not implemented: AWS MSK IAM authentication (an error, as in the kafka
 * output).
 */
#include "kafka.h"
#include "../../outputs/kafka/kafka_conf.h"
#include "sl_log.h"
#include "sl_sanitize.h"

#include <ctype.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static const struct sl_cfg_option kafka_in_config[] = {
    {.name = "brokers",
     .type = SL_CFG_STR,
     .offset = offsetof(struct kafka_in_ctx, brokers),
     .desc = "bootstrap brokers host:port[,host:port] (bootstrap.servers)"},
    {.name = "topics",
     .type = SL_CFG_SLIST,
     .flags = SL_CFG_REQUIRED,
     .offset = offsetof(struct kafka_in_ctx, topics),
     .desc = "topics to subscribe to, comma-separated (^regex allowed; a "
	     "':partitions' suffix is accepted and ignored: the group "
	     "assigns partitions)"},
    {.name = "group_id",
     .type = SL_CFG_STR,
     .def = "fluent-bit",
     .offset = offsetof(struct kafka_in_ctx, group_id),
     .desc = "consumer group (group.id); instances in one group share the "
	     "partitions"},
    {.name = "client_id",
     .type = SL_CFG_STR,
     .def = "sluice",
     .offset = offsetof(struct kafka_in_ctx, client_id),
     .desc = "client.id"},
    {.name = "format",
     .type = SL_CFG_STR,
     .def = "none",
     .offset = offsetof(struct kafka_in_ctx, format),
     .desc = "none (payload as a string) or json (a JSON payload as a "
	     "value, else a string)"},
    {.name = "poll_ms",
     .type = SL_CFG_INT,
     .def = "500",
     .min = 1,
     .max = 3600000,
     .offset = offsetof(struct kafka_in_ctx, poll_ms),
     .desc = "milliseconds between polls when librdkafka's queue did not "
	     "wake the input (group events, retried commits, lag)"},
    {.name = "poll_timeout_ms",
     .type = SL_CFG_INT,
     .flags = SL_CFG_IGNORED,
     .desc = "Fluent Bit's threaded poll wait: sluice never waits in poll "
	     "(librdkafka's queue wakes the engine loop)"},
    {.name = "buffer_max_size",
     .type = SL_CFG_SIZE,
     .def = "4M",
     .min = 0,
     .max = 2147483647,
     .offset = offsetof(struct kafka_in_ctx, buffer_max_size),
     .desc = "largest fetch (receive.message.max.bytes; fetch.max.bytes is "
	     "512 less) and payload bytes emitted per loop turn; 0: "
	     "librdkafka's defaults"},
    {.name = "enable_auto_commit",
     .type = SL_CFG_BOOL,
     .def = "false",
     .offset = offsetof(struct kafka_in_ctx, enable_auto_commit),
     .desc = "let librdkafka commit on its timer; it still commits only "
	     "acknowledged offsets (sluice stores them)"},
    {.name = "aws_msk_iam",
     .type = SL_CFG_BOOL,
     .def = "false",
     .offset = offsetof(struct kafka_in_ctx, msk_iam),
     .desc = "AWS MSK IAM authentication: not supported (an error)"},
    {.name = "aws_msk_iam_cluster_arn",
     .type = SL_CFG_STR,
     .offset = offsetof(struct kafka_in_ctx, msk_iam_arn),
     .desc = "AWS MSK IAM authentication: not supported (an error)"},
    {.name = "rdkafka.",
     .type = SL_CFG_STR,
     .flags = SL_CFG_PREFIX,
     .offset = offsetof(struct kafka_in_ctx, rdkafka),
     .desc = "rdkafka.<property> VALUE: any librdkafka consumer property "
	     "(enable.auto.offset.store must stay false)"},
    SL_CFG_END,
};

/* ---- init: validate everything, build the librdkafka configuration ------ */

/* librdkafka must not store or commit what the outputs did not
 * acknowledge: the input stores offsets itself. */
static const char *refused_rdkafka(const char *prop, const char *value)
{
	if (!strcmp(prop, "enable.auto.offset.store") &&
	    strcasecmp(value, "false") != 0)
		return "must be false: the input stores only acknowledged "
		       "offsets";
	if (!strcmp(prop, "enable.auto.commit"))
		return "use Enable_Auto_Commit (it keeps commits behind "
		       "acknowledgements)";
	return NULL;
}

/* "N" or "N-M": Fluent Bit's partition suffix, validated and ignored. */
static bool partitions_spec(const char *s)
{
	bool dash = false, digit = false;

	for (; *s; s++) {
		if (isdigit((unsigned char)*s)) {
			digit = true;
		} else if (*s == '-' && digit && !dash) {
			dash = true;
			digit = false;
		} else {
			return false;
		}
	}
	return digit;
}

static int parse_topics(struct kafka_in_ctx *ctx,
			struct sl_plugin_instance *ins, int line)
{
	int rc = 0;

	ctx->subscription =
	    rd_kafka_topic_partition_list_new((int)ctx->topics.n);
	if (!ctx->subscription)
		return -SL_ENOMEM;
	for (size_t i = 0; i < ctx->topics.n; i++) {
		char *t = ctx->topics.v[i];
		char *colon = t[0] == '^' ? NULL : strchr(t, ':');

		if (colon) {
			if (!partitions_spec(colon + 1)) {
				sl_plugin_error(ins, line,
						"Topics: '%s': bad partitions "
						"after ':' (N or N-M)",
						t);
				rc = -SL_ECONFIG;
				continue;
			}
			*colon = '\0';
			sl_log(SL_LOG_WARN, ctx->name,
			       "Topics: partitions of '%s' are ignored: the "
			       "consumer group assigns them",
			       t);
		}
		if (t[0] != '^' && !sl_sanitize_topic_valid(t, strlen(t))) {
			sl_plugin_error(
			    ins, line,
			    "Topics: '%s' is not a Kafka topic name "
			    "(1-249 of [A-Za-z0-9._-], not . or "
			    "..; ^regex for a pattern)",
			    t);
			rc = -SL_ECONFIG;
			continue;
		}
		if (t[0] == '^' && !t[1]) {
			sl_plugin_error(ins, line, "Topics: empty pattern '^'");
			rc = -SL_ECONFIG;
			continue;
		}
		rd_kafka_topic_partition_list_add(ctx->subscription, t,
						  RD_KAFKA_PARTITION_UA);
	}
	if (rc == 0 && ctx->subscription->cnt == 0) {
		sl_plugin_error(ins, line, "Topics is empty");
		rc = -SL_ECONFIG;
	}
	return rc;
}

static bool conf_empty(rd_kafka_conf_t *conf, const char *prop)
{
	char buf[8];
	size_t len = sizeof(buf);

	/* an unset property is not found, or found empty */
	return rd_kafka_conf_get(conf, prop, buf, &len) != RD_KAFKA_CONF_OK ||
	       len <= 1;
}

static int set_buffer_limits(struct kafka_in_ctx *ctx,
			     struct sl_plugin_instance *ins, int line)
{
	char v[24];

	if (ctx->buffer_max_size == 0)
		return 0;
	/* Fluent Bit's mapping: a fetch fits the receive buffer with room
	 * for the response header */
	if (ctx->buffer_max_size < 1024) {
		sl_plugin_error(ins, line,
				"Buffer_Max_Size: %lld is too small (at least "
				"1K, or 0 for librdkafka's defaults)",
				(long long)ctx->buffer_max_size);
		return -SL_ECONFIG;
	}
	snprintf(v, sizeof(v), "%lld", (long long)ctx->buffer_max_size - 512);
	if (kafka_conf_set(ctx->conf, ins, line, "Buffer_Max_Size",
			   "fetch.max.bytes", v) < 0)
		return -SL_ECONFIG;
	snprintf(v, sizeof(v), "%lld", (long long)ctx->buffer_max_size);
	return kafka_conf_set(ctx->conf, ins, line, "Buffer_Max_Size",
			      "receive.message.max.bytes", v);
}

static int kafka_in_init(void *vctx, struct sl_input *in)
{
	struct kafka_in_ctx *ctx = vctx;
	struct sl_plugin_instance *ins = sl_input_instance(in);
	int line = sl_plugin_instance_line(ins);
	int rc = 0;

	ctx->in = in;
	ctx->wake[0] = ctx->wake[1] = -1;
	kafka_offsets_init(&ctx->offsets);
	sl_record_init(&ctx->rec);
	ctx->rec_ok = true;
	ctx->name = strdup(sl_plugin_instance_name(ins));
	ctx->conf = rd_kafka_conf_new();
	if (!ctx->name || !ctx->conf)
		return -SL_ENOMEM;
	if (!strcasecmp(ctx->format, "json")) {
		ctx->json = true;
	} else if (strcasecmp(ctx->format, "none") != 0) {
		sl_plugin_error(ins, line, "unknown Format '%s' (none, json)",
				ctx->format);
		rc = -SL_ECONFIG;
	}
	switch (parse_topics(ctx, ins, line)) {
	case 0:
		break;
	case -SL_ENOMEM:
		return -SL_ENOMEM;
	default:
		rc = -SL_ECONFIG;
	}
	if (ctx->msk_iam || ctx->msk_iam_arn) {
		sl_plugin_error(
		    ins, line,
		    "aws_msk_iam: AWS MSK IAM authentication is not "
		    "supported");
		rc = -SL_ECONFIG;
	}
	if (!ctx->group_id[0]) {
		sl_plugin_error(ins, line, "Group_ID is empty");
		rc = -SL_ECONFIG;
	}

	/* Ours first, so that rdkafka.<property> can override them. */
	if (kafka_conf_set(ctx->conf, ins, line, "Client_ID", "client.id",
			   ctx->client_id) < 0 ||
	    kafka_conf_set(ctx->conf, ins, line, "Group_ID", "group.id",
			   ctx->group_id) < 0 ||
	    set_buffer_limits(ctx, ins, line) < 0)
		rc = -SL_ECONFIG;
	if (ctx->brokers &&
	    kafka_conf_set(ctx->conf, ins, line, "Brokers", "bootstrap.servers",
			   ctx->brokers) < 0)
		rc = -SL_ECONFIG;
	switch (kafka_conf_apply_items(ctx->conf, &ctx->rdkafka, ins,
				       refused_rdkafka)) {
	case 0:
		break;
	case -SL_ENOMEM:
		return -SL_ENOMEM;
	default:
		rc = -SL_ECONFIG;
	}
	/*
	 * Offsets reach a commit only through the ack rings: librdkafka must
	 * not store what the application merely consumed. With
	 * Enable_Auto_Commit its timer commits what the input stored.
	 */
	if (kafka_conf_set(ctx->conf, ins, line, "Enable_Auto_Commit",
			   "enable.auto.commit",
			   ctx->enable_auto_commit ? "true" : "false") < 0 ||
	    kafka_conf_set(ctx->conf, ins, line,
			   "rdkafka.enable.auto.offset.store",
			   "enable.auto.offset.store", "false") < 0)
		rc = -SL_ECONFIG;
	if (rc == 0 && conf_empty(ctx->conf, "bootstrap.servers") &&
	    conf_empty(ctx->conf, "metadata.broker.list")) {
		sl_plugin_error(ins, line,
				"no brokers: set Brokers (or "
				"rdkafka.bootstrap.servers)");
		rc = -SL_ECONFIG;
	}
	/* the broker is the buffer: paused while the outputs are busy, and a
	 * new member resumes from the committed offsets */
	sl_input_set_rereadable(in, true);
	return rc;
}

/* ---- librdkafka callbacks ------------------------------------------------ */

/* Any librdkafka thread. */
static void on_log(const rd_kafka_t *rk, int level, const char *fac,
		   const char *buf)
{
	const struct kafka_in_ctx *ctx = rd_kafka_opaque(rk);

	sl_log(kafka_log_level(level), ctx ? ctx->name : "kafka",
	       "librdkafka %s: %s", fac, buf);
}

/* Engine thread (served by rd_kafka_consumer_poll). */
static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct kafka_in_ctx *ctx = opaque;

	(void)rk;
	sl_metric_add(ctx->m_errors, 1);
	sl_log(err == RD_KAFKA_RESP_ERR__FATAL ? SL_LOG_ERROR : SL_LOG_DEBUG,
	       ctx->name, "librdkafka: %s: %s",
	       rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

/* ---- start, flow control, acknowledgements, stop ------------------------- */

static struct sl_metric_series *series(struct sl_plugin_instance *ins,
				       const char *name, const char *help,
				       enum sl_metric_type type)
{
	static const char *const labels[] = {"name"};
	struct sl_metrics *reg = sl_instance_metrics(ins);
	const char *values[] = {sl_plugin_instance_name(ins)};
	struct sl_metric_family *fam;
	const char *err;

	if (!reg)
		return NULL; /* unit tests: no registry */
	fam =
	    sl_metrics_family(reg, name, help, type, labels, 1, NULL, 0, &err);
	if (!fam)
		return NULL;
	fam->max_series = 0; /* one per input: bounded by the config */
	return sl_metric_series_get(reg, fam, values);
}

static void register_metrics(struct kafka_in_ctx *ctx)
{
	struct sl_plugin_instance *ins = sl_input_instance(ctx->in);

	ctx->m_consumed =
	    series(ins, "sluice_kafka_input_records_total",
		   "messages consumed from Kafka", SL_METRIC_COUNTER);
	ctx->m_commits = series(ins, "sluice_kafka_input_commits_total",
				"offset commits the group coordinator took",
				SL_METRIC_COUNTER);
	ctx->m_commit_errors = series(
	    ins, "sluice_kafka_input_commit_errors_total",
	    "offset commits that failed (sent again)", SL_METRIC_COUNTER);
	ctx->m_rebalances =
	    series(ins, "sluice_kafka_input_rebalances_total",
		   "partition assignments and revocations", SL_METRIC_COUNTER);
	ctx->m_errors =
	    series(ins, "sluice_kafka_input_errors_total",
		   "consumer errors reported by librdkafka", SL_METRIC_COUNTER);
	ctx->m_lag = series(ins, "sluice_kafka_input_lag_messages",
			    "messages behind the high watermark, summed over "
			    "the assigned partitions",
			    SL_METRIC_GAUGE);
	ctx->m_assigned =
	    series(ins, "sluice_kafka_input_assigned_partitions",
		   "partitions assigned to this member", SL_METRIC_GAUGE);
}

static int kafka_in_start(void *vctx, struct sl_input *in)
{
	struct kafka_in_ctx *ctx = vctx;
	rd_kafka_conf_t *conf = rd_kafka_conf_dup(ctx->conf);
	rd_kafka_resp_err_t err;
	char errstr[512];

	if (!conf)
		return -SL_ENOMEM;
	register_metrics(ctx);
	rd_kafka_conf_set_opaque(conf, ctx);
	rd_kafka_conf_set_log_cb(conf, on_log);
	rd_kafka_conf_set_error_cb(conf, on_error);
	rd_kafka_conf_set_rebalance_cb(conf, sl_in_kafka_on_rebalance);
	rd_kafka_conf_set_offset_commit_cb(conf, sl_in_kafka_on_commit);
	/* rd_kafka_new takes conf only when it succeeds */
	ctx->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
	if (!ctx->rk) {
		rd_kafka_conf_destroy(conf);
		sl_log(SL_LOG_ERROR, ctx->name,
		       "cannot create the Kafka consumer: %s", errstr);
		return -SL_EINVAL;
	}
	/* one queue for messages, group events and callbacks */
	rd_kafka_poll_set_consumer(ctx->rk);
	ctx->queue = rd_kafka_queue_get_consumer(ctx->rk);
	if (!ctx->queue || sl_in_kafka_poll_start(ctx) < 0) {
		sl_log(SL_LOG_ERROR, ctx->name,
		       "cannot watch the consumer queue");
		return -SL_EIO;
	}
	err = rd_kafka_subscribe(ctx->rk, ctx->subscription);
	if (err) {
		sl_log(SL_LOG_ERROR, ctx->name, "cannot subscribe: %s",
		       rd_kafka_err2str(err));
		return -SL_EINVAL;
	}
	(void)in;
	sl_log(SL_LOG_INFO, ctx->name,
	       "consuming %s%s as group '%s' (brokers %s)",
	       ctx->subscription->elems[0].topic,
	       ctx->subscription->cnt > 1 ? ", ..." : "", ctx->group_id,
	       ctx->brokers ? ctx->brokers : "from rdkafka.");
	return 0;
}

static void kafka_in_pause(void *vctx)
{
	struct kafka_in_ctx *ctx = vctx;

	if (ctx->paused)
		return;
	ctx->paused = true;
	sl_in_kafka_set_fetching(ctx, false);
}

static void kafka_in_resume(void *vctx)
{
	struct kafka_in_ctx *ctx = vctx;

	if (!ctx->paused)
		return;
	ctx->paused = false;
	if (ctx->stopped)
		return;
	sl_in_kafka_set_fetching(ctx, true);
	if (ctx->more_ev)
		event_active(ctx->more_ev, EV_READ, 0);
}

static void kafka_in_chunk_released(void *vctx, uint64_t id)
{
	struct kafka_in_ctx *ctx = vctx;

	if (ctx->in_emit && id == sl_input_last_chunk(ctx->in))
		ctx->told_current = true;
	if (kafka_offsets_release(&ctx->offsets, id))
		sl_in_kafka_commit(ctx);
}

/* storage.type filesystem: records on disk count as acknowledged (the
 * storage recovers them after a crash; committing later would deliver
 * them twice, once from disk and once re-consumed). */
static void kafka_in_chunk_persisted(void *vctx, uint64_t id)
{
	struct kafka_in_ctx *ctx = vctx;

	if (ctx->in_emit && id == sl_input_last_chunk(ctx->in))
		ctx->told_current = true;
	if (kafka_offsets_persisted(&ctx->offsets, id))
		sl_in_kafka_commit(ctx);
}

/*
 * Nothing is emitted after this; fetching stops, but the loop keeps
 * polling until it ends (Grace), so rebalances are answered and releases
 * still commit.
 */
static void kafka_in_stop(void *vctx)
{
	struct kafka_in_ctx *ctx = vctx;

	if (ctx->stopped)
		return;
	ctx->stopped = true;
	sl_in_kafka_set_fetching(ctx, false);
}

static void kafka_in_destroy(void *vctx)
{
	struct kafka_in_ctx *ctx = vctx;

	if (ctx->rk) {
		ctx->stopped = true;
		/* what the last releases acknowledged, then leave the group
		 * (the revocation it triggers commits again and forgets the
		 * rest, which the next owner reads again); close waits for
		 * outstanding commits */
		sl_in_kafka_commit(ctx);
		rd_kafka_consumer_close(ctx->rk);
		ctx->closed = true;
	}
	sl_in_kafka_poll_stop(ctx);
	if (ctx->queue)
		rd_kafka_queue_destroy(ctx->queue);
	ctx->queue = NULL;
	if (ctx->rk)
		rd_kafka_destroy(ctx->rk);
	ctx->rk = NULL;
	if (ctx->subscription)
		rd_kafka_topic_partition_list_destroy(ctx->subscription);
	ctx->subscription = NULL;
	if (ctx->conf)
		rd_kafka_conf_destroy(ctx->conf);
	ctx->conf = NULL;
	kafka_offsets_destroy(&ctx->offsets);
	if (ctx->rec_ok)
		sl_record_destroy(&ctx->rec);
	ctx->rec_ok = false;
	sl_buf_destroy(&ctx->body);
	free(ctx->name);
	ctx->name = NULL;
}

const struct sl_input_plugin sl_input_kafka = {
    .name = "kafka",
    .description = "Kafka consumer group member (librdkafka); offsets "
		   "committed after the outputs acknowledged",
    .config_map = kafka_in_config,
    .ctx_size = sizeof(struct kafka_in_ctx),
    .init = kafka_in_init,
    .start = kafka_in_start,
    .pause = kafka_in_pause,
    .resume = kafka_in_resume,
    .chunk_released = kafka_in_chunk_released,
    .chunk_persisted = kafka_in_chunk_persisted,
    .stop = kafka_in_stop,
    .destroy = kafka_in_destroy,
};
