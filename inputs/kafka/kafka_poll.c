/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kafka_poll.c - the engine side of the consumer queue. librdkafka writes
 * a byte to a pipe when its queue gets something while empty; the loop
 * then serves the queue with rd_kafka_consumer_poll(rk, 0), which never
 * waits. A timer (Poll_Ms) polls as well: librdkafka wants a poll at least
 * every max.poll.interval.ms even while the input is paused, retried
 * commits go out, and the lag gauge is refreshed.
 *
 * Each message becomes one record (kafka_record.c); its offset and chunk go
 * to the partition's ack ring (kafka_offsets.c). A turn emits at most
 * Buffer_Max_Size payload bytes, then yields to the loop.
 */
#include "kafka.h"
#include "kafka_record.h"
#include "sl_log.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* A turn's limits when Buffer_Max_Size is 0, and in messages. */
#define TURN_BYTES    (4 * 1024 * 1024)
#define TURN_MESSAGES 10000
/* Consumer errors logged one by one; then one line per LOG_EVERY. */
#define LOG_FIRST 10
#define LOG_EVERY 1000

static void log_consumer_error(struct kafka_in_ctx *ctx,
			       const rd_kafka_message_t *m)
{
	uint64_t n = ++ctx->errors_logged;

	sl_metric_add(ctx->m_errors, 1);
	if (n > LOG_FIRST && n % LOG_EVERY)
		return;
	sl_log(SL_LOG_WARN, ctx->name, "consumer error%s: %s%s%s [%d]: %s",
	       n > LOG_FIRST ? " (1 of 1000 shown)" : "",
	       rd_kafka_err2name(m->err), m->rkt ? " on " : "",
	       m->rkt ? rd_kafka_topic_name(m->rkt) : "", (int)m->partition,
	       rd_kafka_message_errstr(m));
}

/* One message into the pipeline. Returns the payload bytes taken. */
static size_t take(struct kafka_in_ctx *ctx, const rd_kafka_message_t *m)
{
	struct kafka_msg km = {
	    .topic = m->rkt ? rd_kafka_topic_name(m->rkt) : NULL,
	    .partition = m->partition,
	    .offset = m->offset,
	    .key = m->key,
	    .key_len = m->key_len,
	    .payload = m->payload,
	    .len = m->len,
	};
	struct kafka_part *p;
	size_t tag_len;
	const char *tag = sl_input_tag(ctx->in, &tag_len);
	uint64_t chunk = 0;
	int rc;

	if (m->err) {
		if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
			log_consumer_error(ctx, m);
		return 0;
	}
	/* after stop nothing is emitted: the offset is not committed, so
	 * the next owner reads the message */
	if (ctx->stopped || !km.topic)
		return 0;
	p = kafka_offsets_find(&ctx->offsets, km.topic, km.partition);
	sl_metric_add(ctx->m_consumed, 1);
	sl_input_add_bytes(ctx->in, (uint64_t)(m->len + m->key_len));
	if (kafka_record_build(&ctx->rec, &ctx->body, &km, ctx->json,
			       sl_now_ns()) < 0) {
		/* not emitted: the partition must never commit past it */
		sl_log(SL_LOG_ERROR, ctx->name,
		       "out of memory: %s [%d] offset %lld not taken; the "
		       "partition is not committed until it is reassigned",
		       km.topic, (int)km.partition, (long long)km.offset);
		if (p)
			p->ack.frozen = true;
		return m->len;
	}
	ctx->in_emit = true;
	ctx->told_current = false;
	rc = sl_input_emit(ctx->in, tag, tag_len, &ctx->rec);
	ctx->in_emit = false;
	if (rc == 0)
		chunk = sl_input_last_chunk(ctx->in);
	else if (p) /* counted by the engine (buffer_full); read it again */
		p->ack.frozen = true;
	if (!p)
		return m->len; /* not tracked (out of memory at assignment) */
	if (kafka_offsets_push(p, chunk, km.offset) < 0) {
		sl_log(SL_LOG_ERROR, ctx->name,
		       "out of memory: %s [%d] is not committed until it is "
		       "reassigned",
		       km.topic, (int)km.partition);
	} else if (chunk && ctx->told_current) {
		/* released (or on disk) inside the emit, before the push */
		kafka_offsets_persisted(&ctx->offsets, chunk);
	}
	return m->len;
}

void sl_in_kafka_drain(struct kafka_in_ctx *ctx)
{
	size_t budget = ctx->buffer_max_size > 0 ? (size_t)ctx->buffer_max_size
						 : TURN_BYTES;
	size_t used = 0;

	if (!ctx->rk || ctx->closed)
		return;
	for (int n = 0; n < TURN_MESSAGES && used < budget; n++) {
		/* also serves rebalance, commit and error callbacks */
		rd_kafka_message_t *m = rd_kafka_consumer_poll(ctx->rk, 0);

		if (!m) {
			if (kafka_offsets_due_any(&ctx->offsets))
				sl_in_kafka_commit(ctx);
			return; /* empty: the pipe wakes us again */
		}
		used += take(ctx, m);
		rd_kafka_message_destroy(m);
		/* paused by this emit: what is fetched already stays in
		 * librdkafka's queue (dropped by the pause, fetched again on
		 * resume) */
		if (ctx->paused && !ctx->stopped)
			return;
	}
	event_active(ctx->more_ev, EV_READ, 0); /* the rest next turn */
}

static void update_lag(struct kafka_in_ctx *ctx)
{
	int64_t lag = 0;

	for (size_t i = 0; i < ctx->offsets.n; i++) {
		const struct kafka_part *p = &ctx->offsets.v[i];
		int64_t low, high;

		if (p->next < 0 ||
		    rd_kafka_get_watermark_offsets(
			ctx->rk, p->topic, p->partition, &low, &high) != 0 ||
		    high < p->next)
			continue;
		lag += high - p->next;
	}
	sl_metric_set(ctx->m_lag, (double)lag);
	sl_metric_set(ctx->m_assigned, (double)ctx->offsets.n);
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct kafka_in_ctx *ctx = arg;
	char buf[64];

	(void)what;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	sl_in_kafka_drain(ctx);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct kafka_in_ctx *ctx = arg;

	(void)fd;
	(void)what;
	sl_in_kafka_drain(ctx);
	if (ctx->rk && !ctx->closed) {
		sl_in_kafka_commit(ctx); /* failed ones go again */
		update_lag(ctx);
	}
}

static void on_more(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	sl_in_kafka_drain(arg);
}

int sl_in_kafka_poll_start(struct kafka_in_ctx *ctx)
{
	struct event_base *base = sl_input_base(ctx->in);
	struct timeval tv = {
	    .tv_sec = (time_t)(ctx->poll_ms / 1000),
	    .tv_usec = (suseconds_t)((ctx->poll_ms % 1000) * 1000),
	};

	if (pipe2(ctx->wake, O_NONBLOCK | O_CLOEXEC) < 0) {
		ctx->wake[0] = ctx->wake[1] = -1;
		return -SL_EIO;
	}
	ctx->have_pipe = true;
	ctx->wake_ev =
	    event_new(base, ctx->wake[0], EV_READ | EV_PERSIST, on_wake, ctx);
	ctx->tick_ev = event_new(base, -1, EV_PERSIST, on_tick, ctx);
	ctx->more_ev = event_new(base, -1, 0, on_more, ctx);
	if (!ctx->wake_ev || !ctx->tick_ev || !ctx->more_ev ||
	    event_add(ctx->wake_ev, NULL) < 0 ||
	    event_add(ctx->tick_ev, &tv) < 0)
		return -SL_ENOMEM;
	rd_kafka_queue_io_event_enable(ctx->queue, ctx->wake[1], "1", 1);
	event_active(ctx->more_ev, EV_READ, 0);
	return 0;
}

void sl_in_kafka_poll_stop(struct kafka_in_ctx *ctx)
{
	if (ctx->queue && ctx->have_pipe)
		rd_kafka_queue_io_event_enable(ctx->queue, -1, NULL, 0);
	if (ctx->wake_ev)
		event_free(ctx->wake_ev);
	if (ctx->tick_ev)
		event_free(ctx->tick_ev);
	if (ctx->more_ev)
		event_free(ctx->more_ev);
	ctx->wake_ev = ctx->tick_ev = ctx->more_ev = NULL;
	if (ctx->have_pipe) {
		close(ctx->wake[0]);
		close(ctx->wake[1]);
		ctx->have_pipe = false;
	}
	ctx->wake[0] = ctx->wake[1] = -1;
}
