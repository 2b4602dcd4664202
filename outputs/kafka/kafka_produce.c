/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kafka_produce.c - one chunk to Kafka messages, and the chunk's fate from
 * their delivery reports. A batch tracks one flush: each produced message
 * carries (batch, record index) as its opaque; the batch holds one extra
 * count while the worker is producing, so it cannot settle half-produced.
 * The thread that drops the count to zero (a report, or the worker itself)
 * marks the delivered records, so a retry re-produces only the others, and
 * reports OK or RETRY. Reports only write their own message's state: they
 * may run on any thread, concurrently with the worker.
 *
 * With ctx->id_header each message carries a `sluice-id` header: the
 * record's id (sl_record_id_hex, the same as es Generate_ID's), stable
 * across retries and re-reads after a crash, for consumers to dedupe on.
 *
 * Not done here: the msgpack value (sl_out_msgpack.c), other headers.
 */
#include "kafka.h"
#include "sl_out_msgpack.h"
#include "sl_format.h"
#include "sl_record.h"
#include "sl_sanitize.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A Kafka topic name: at most 249 of [a-zA-Z0-9._-] (Kafka's rule, checked
 * by sl_sanitize_topic_valid). */
#define TOPIC_MAX SL_SANITIZE_TOPIC_MAX
/* Queue full: how long one wait for room lasts. */
#define ROOM_WAIT_MS 1000

enum msg_state {
	MSG_PENDING = 0,
	MSG_DELIVERED,
	MSG_DROPPED, /* permanent error, counted: settled */
	MSG_FAILED,  /* to be retried */
};

struct kafka_batch;

struct kafka_msg {
	struct kafka_batch *b;
	uint32_t index; /* record index in the chunk */
	uint8_t state;	/* enum msg_state, written once by its report */
};

struct kafka_batch {
	struct kafka_ctx *ctx;
	struct sl_flush *fl;
	uint32_t n;	   /* messages produced (msgs used) */
	int outstanding;   /* atomic: reports to come + the worker's hold */
	bool failed;	   /* atomic: some record is not delivered */
	int last_err;	   /* atomic: a rd_kafka_resp_err_t, for the log */
	uint32_t n_failed; /* atomic */
	struct kafka_msg msgs[];
};

struct kafka_worker {
	struct sl_record rec;
	struct sl_buf value;
	struct sl_buf mp; /* Format msgpack's value */
	struct sl_buf unescaped;
	struct sl_text key_text, topic_text, raw_text;
	char topic[TOPIC_MAX + 1];
	char id[SL_RECORD_ID_HEX + 1];
};

struct kafka_worker *sl_out_kafka_worker_create(void)
{
	struct kafka_worker *w = calloc(1, sizeof(*w));

	if (w)
		sl_record_init(&w->rec);
	return w;
}

void sl_out_kafka_worker_destroy(struct kafka_worker *w)
{
	if (!w)
		return;
	sl_record_destroy(&w->rec);
	sl_buf_destroy(&w->value);
	sl_buf_destroy(&w->mp);
	sl_buf_destroy(&w->unescaped);
	free(w->key_text.buf);
	free(w->topic_text.buf);
	free(w->raw_text.buf);
	free(w);
}

/* ---- settling ------------------------------------------------------------ */

static void finish(struct kafka_batch *b)
{
	struct kafka_ctx *ctx = b->ctx;
	struct sl_flush *fl = b->fl;
	bool failed = __atomic_load_n(&b->failed, __ATOMIC_ACQUIRE);

	if (__atomic_load_n(&ctx->detached, __ATOMIC_SEQ_CST)) {
		/* the engine is gone (shutdown past Grace): nothing to tell */
		__atomic_sub_fetch(&ctx->live_batches, 1, __ATOMIC_ACQ_REL);
		free(b);
		return;
	}
	if (failed) {
		const struct sl_chunk *c = sl_flush_chunk(fl);

		/* only what failed is produced again (idempotence cannot
		 * dedupe across a re-produce) */
		for (uint32_t i = 0; i < b->n; i++)
			if (b->msgs[i].state == MSG_DELIVERED ||
			    b->msgs[i].state == MSG_DROPPED)
				sl_flush_mark(fl, b->msgs[i].index);
		sl_log(SL_LOG_WARN, ctx->name,
		       "chunk %llu: %u of %u records not delivered (%s); they "
		       "will be produced again",
		       (unsigned long long)c->id,
		       __atomic_load_n(&b->n_failed, __ATOMIC_RELAXED),
		       c->records,
		       rd_kafka_err2str((rd_kafka_resp_err_t)__atomic_load_n(
			   &b->last_err, __ATOMIC_RELAXED)));
	}
	__atomic_sub_fetch(&ctx->live_batches, 1, __ATOMIC_ACQ_REL);
	sl_flush_done(fl, failed ? SL_FLUSH_RETRY : SL_FLUSH_OK);
	free(b);
}

static void release(struct kafka_batch *b)
{
	if (__atomic_sub_fetch(&b->outstanding, 1, __ATOMIC_ACQ_REL) == 0)
		finish(b);
}

static void set_failed(struct kafka_batch *b, rd_kafka_resp_err_t err,
		       uint32_t n)
{
	__atomic_store_n(&b->last_err, (int)err, __ATOMIC_RELAXED);
	__atomic_add_fetch(&b->n_failed, n, __ATOMIC_RELAXED);
	__atomic_store_n(&b->failed, true, __ATOMIC_RELEASE);
}

/* Errors a retry cannot fix: the record is dropped with a reason. */
static bool permanent(rd_kafka_resp_err_t err, enum sl_drop_reason *why)
{
	switch (err) {
	case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
	case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
		*why = SL_DROP_OVERSIZE;
		return true;
	case RD_KAFKA_RESP_ERR_INVALID_RECORD:
	case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION: /* an invalid topic name */
		*why = SL_DROP_REJECTED;
		return true;
	default:
		return false;
	}
}

void sl_out_kafka_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m,
			      void *opaque)
{
	struct kafka_ctx *ctx = opaque;
	struct kafka_msg *km = m->_private;
	struct kafka_batch *b;
	enum sl_drop_reason why;

	(void)rk;
	if (!km)
		return;
	b = km->b;
	if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		km->state = MSG_DELIVERED;
	} else if (permanent(m->err, &why)) {
		km->state = MSG_DROPPED;
		if (!__atomic_load_n(&ctx->detached, __ATOMIC_SEQ_CST))
			sl_flush_drop(b->fl, why, 1);
		sl_log(SL_LOG_WARN, ctx->name,
		       "record %u of topic %s dropped (%s): %s", km->index,
		       rd_kafka_topic_name(m->rkt), sl_drop_reason_name(why),
		       rd_kafka_err2str(m->err));
	} else {
		km->state = MSG_FAILED;
		set_failed(b, m->err, 1);
	}
	/*
	 * Room for a waiting worker. Waking it per report made a ping-pong
	 * with a full queue: one report, one wake-up, one message, full again
	 * (a futex round trip per record). Reports come a batch per
	 * rd_kafka_poll(), and the poller wakes waiters after each
	 * (sl_out_kafka_wake_producers); here only every 256th report does,
	 * for the polls of rd_kafka_flush() at shutdown and of a producer
	 * being replaced.
	 */
	if ((__atomic_add_fetch(&ctx->room_gen, 1, __ATOMIC_SEQ_CST) & 255) ==
	    0)
		sl_out_kafka_wake_producers(ctx);
	release(b);
}

void sl_out_kafka_wake_producers(struct kafka_ctx *ctx)
{
	if (__atomic_load_n(&ctx->room_waiters, __ATOMIC_SEQ_CST)) {
		pthread_mutex_lock(&ctx->room_lock);
		pthread_cond_broadcast(&ctx->room_cond);
		pthread_mutex_unlock(&ctx->room_lock);
	}
}

/*
 * Waits until a report is served after `gen` was read, or ROOM_WAIT_MS.
 * Returns false on timeout (no progress for that long).
 */
static bool wait_for_room(struct kafka_ctx *ctx, uint64_t gen)
{
	struct timespec until;
	bool progress;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ROOM_WAIT_MS / 1000;
	until.tv_nsec += (long)(ROOM_WAIT_MS % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&ctx->room_lock);
	__atomic_add_fetch(&ctx->room_waiters, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&ctx->room_gen, __ATOMIC_SEQ_CST) == gen &&
	       rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&ctx->room_cond, &ctx->room_lock,
					    &until);
	progress = __atomic_load_n(&ctx->room_gen, __ATOMIC_SEQ_CST) != gen;
	__atomic_sub_fetch(&ctx->room_waiters, 1, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&ctx->room_lock);
	return progress;
}

/* ---- one record to one message ------------------------------------------ */

struct message {
	const char *value, *key;
	size_t value_len, key_len;
	const char *id; /* sluice-id header value (SL_RECORD_ID_HEX), or NULL */
	rd_kafka_topic_t *rkt; /* or */
	const char *topic;     /* NUL-terminated, in the worker */
};

static int append_date(struct sl_buf *b, int64_t ts_ns, enum kafka_ts_format f)
{
	if (f == KAFKA_TS_DOUBLE)
		return sl_format_date(b, ts_ns, SL_DATE_DOUBLE);
	if (f == KAFKA_TS_ISO8601)
		return sl_format_date(b, ts_ns, SL_DATE_ISO8601);
	return sl_format_iso8601_ns(b, ts_ns);
}

/*
 * The record with the time spliced in as its first member, then the tag
 * with Tag_Key: its bytes are copied, never re-serialised. A record that
 * has a member named like Tag_Key keeps it after ours (as es does with
 * Include_Tag_Key: a consumer taking the last duplicate sees the record's).
 */
static int json_value(struct kafka_ctx *ctx, struct sl_buf *out, int64_t ts_ns,
		      const char *tag, size_t tag_len, const char *body,
		      size_t len)
{
	size_t i = 1;

	while (i < len && (body[i] == ' ' || body[i] == '\t' ||
			   body[i] == '\n' || body[i] == '\r'))
		i++;
	/* one reserve for the common case (no tag): then plain copies */
	sl_buf_reset(out);
	if (sl_buf_reserve(out, 2 + ctx->ts_member.len + len) < 0)
		return -SL_ENOMEM;
	out->data[0] = '{';
	memcpy(out->data + 1, ctx->ts_member.data, ctx->ts_member.len);
	out->len = 1 + ctx->ts_member.len;
	if (append_date(out, ts_ns, ctx->ts_fmt) < 0)
		return -SL_ENOMEM;
	if (ctx->tag_member.len &&
	    (sl_buf_append(out, ctx->tag_member.data, ctx->tag_member.len) <
		 0 ||
	     sl_json_append_string(out, tag, tag_len) < 0))
		return -SL_ENOMEM;
	if (i < len && body[i] == '}')
		return sl_buf_append(out, "}", 1);
	if (sl_buf_reserve(out, len) < 0)
		return -SL_ENOMEM;
	out->data[out->len] = ',';
	memcpy(out->data + out->len + 1, body + 1, len - 1);
	out->len += len;
	out->data[out->len] = '\0';
	return 0;
}

/* Format msgpack: the record (already in w->rec when `parsed`) as the
 * value in w->mp; the date is the same text json messages carry. */
static int msgpack_value(struct kafka_ctx *ctx, struct kafka_worker *w,
			 int64_t ts, bool parsed)
{
	const char *date = NULL;
	size_t date_len = 0;
	int rc;

	/* a sealed chunk's body always parses */
	if (!parsed)
		return -SL_ENOMEM;
	if (ctx->ts_fmt != KAFKA_TS_DOUBLE) {
		sl_buf_reset(&w->value);
		if (append_date(&w->value, ts, ctx->ts_fmt) < 0 ||
		    w->value.len < 2)
			return -SL_ENOMEM;
		date = w->value.data + 1; /* without the JSON quotes */
		date_len = w->value.len - 2;
	}
	rc = sl_out_msgpack_kafka_value(
	    &w->mp, &w->unescaped, &w->rec, ctx->timestamp_key,
	    strlen(ctx->timestamp_key), date, date_len);
	return rc == -SL_EPARSE ? -SL_ENOMEM : rc;
}

/* A field as text when it is a string or a number (Fluent Bit takes only
 * strings; a numeric correlation ID is as good a key). */
static bool field_text(struct sl_record *rec, const struct sl_accessor *acc,
		       struct sl_text *scratch, const char **text, size_t *len)
{
	struct sl_value v;

	if (sl_record_get(rec, acc, &v) < 0 ||
	    (v.type != SL_VAL_STRING && v.type != SL_VAL_NUMBER))
		return false;
	return sl_record_get_text(rec, acc, scratch, text, len) == 0;
}

static void pick_topic(struct kafka_ctx *ctx, struct kafka_worker *w,
		       struct message *msg)
{
	const char *t;
	size_t len;

	msg->rkt = ctx->rkt[0];
	msg->topic = NULL;
	if (!ctx->topic_acc ||
	    !field_text(&w->rec, ctx->topic_acc, &w->topic_text, &t, &len))
		return;
	for (size_t i = 0; i < ctx->topics.n; i++)
		if (strlen(ctx->topics.v[i]) == len &&
		    !memcmp(ctx->topics.v[i], t, len)) {
			msg->rkt = ctx->rkt[i];
			return;
		}
	if (!ctx->dynamic_topic)
		return;
	if (!sl_sanitize_topic_valid(t, len)) {
		sl_log(SL_LOG_WARN, ctx->name,
		       "Topic_Key value '%.*s' is not a valid topic name; "
		       "using '%s'",
		       (int)(len > 64 ? 64 : len), t, ctx->topics.v[0]);
		return;
	}
	memcpy(w->topic, t, len);
	w->topic[len] = '\0';
	msg->rkt = NULL;
	msg->topic = w->topic;
}

/*
 * Builds the message of one record into the worker's scratch. Returns 0,
 * -SL_ENOENT (Format raw and no Raw_Log_Key field: cannot be sent) or
 * -SL_ENOMEM.
 */
static int build(struct kafka_ctx *ctx, struct kafka_worker *w,
		 const struct sl_chunk *c, int64_t ts, uint64_t identity,
		 const char *body, size_t len, struct message *msg)
{
	bool fields = ctx->key_acc || ctx->topic_acc || ctx->raw_acc ||
		      ctx->fmt == KAFKA_FMT_MSGPACK;

	memset(msg, 0, sizeof(*msg));
	if (ctx->id_header) {
		if (sl_record_id_hex(ts, identity, body, len, w->id) < 0)
			return -SL_ENOMEM;
		msg->id = w->id;
	}
	if (fields) {
		int rc = sl_record_reset_json(&w->rec, ts, body, len);

		if (rc == -SL_ENOMEM)
			return rc;
		if (rc < 0) /* not from a sealed chunk: cannot happen */
			fields = false;
	}
	if (ctx->fmt == KAFKA_FMT_RAW) {
		if (!fields || !field_text(&w->rec, ctx->raw_acc, &w->raw_text,
					   &msg->value, &msg->value_len))
			return -SL_ENOENT;
	} else if (ctx->fmt == KAFKA_FMT_MSGPACK) {
		int rc = msgpack_value(ctx, w, ts, fields);

		if (rc < 0)
			return rc;
		msg->value = w->mp.data;
		msg->value_len = w->mp.len;
	} else {
		if (json_value(ctx, &w->value, ts, c->tag, c->tag_len, body,
			       len) < 0)
			return -SL_ENOMEM;
		msg->value = w->value.data;
		msg->value_len = w->value.len;
	}
	msg->key = ctx->message_key;
	msg->key_len = ctx->message_key_len;
	if (fields && ctx->key_acc)
		field_text(&w->rec, ctx->key_acc, &w->key_text, &msg->key,
			   &msg->key_len);
	if (fields)
		pick_topic(ctx, w, msg);
	else
		msg->rkt = ctx->rkt[0];
	return 0;
}

/* rd_kafka_produceva: the RD_KAFKA_V_* macros are GNU statement
 * expressions, which -Wpedantic refuses. */
static rd_kafka_resp_err_t
produce(struct kafka_ctx *ctx, const struct message *msg, struct kafka_msg *km)
{
	rd_kafka_vu_t vu[6];
	rd_kafka_error_t *error;
	rd_kafka_resp_err_t err;
	size_t n = 0;

	memset(vu, 0, sizeof(vu));
	if (msg->rkt) {
		vu[n].vtype = RD_KAFKA_VTYPE_RKT;
		vu[n++].u.rkt = msg->rkt;
	} else {
		vu[n].vtype = RD_KAFKA_VTYPE_TOPIC;
		vu[n++].u.cstr = msg->topic;
	}
	vu[n].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
	vu[n++].u.i = RD_KAFKA_MSG_F_COPY;
	vu[n].vtype = RD_KAFKA_VTYPE_VALUE;
	vu[n].u.mem.ptr = (void *)(uintptr_t)msg->value;
	vu[n++].u.mem.size = msg->value_len;
	if (msg->key) {
		vu[n].vtype = RD_KAFKA_VTYPE_KEY;
		vu[n].u.mem.ptr = (void *)(uintptr_t)msg->key;
		vu[n++].u.mem.size = msg->key_len;
	}
	if (msg->id) {
		vu[n].vtype = RD_KAFKA_VTYPE_HEADER;
		vu[n].u.header.name = "sluice-id";
		vu[n].u.header.val = msg->id;
		vu[n++].u.header.size = SL_RECORD_ID_HEX;
	}
	vu[n].vtype = RD_KAFKA_VTYPE_OPAQUE;
	vu[n++].u.ptr = km;
	error = rd_kafka_produceva(ctx->rk, vu, n);
	if (!error)
		return RD_KAFKA_RESP_ERR_NO_ERROR;
	err = rd_kafka_error_code(error);
	rd_kafka_error_destroy(error);
	return err;
}

/*
 * Produces one message, waiting for room while librdkafka's queue is full.
 * Returns its error; RD_KAFKA_RESP_ERR__QUEUE_FULL means Queue_Full_Retries
 * waits passed without any report served.
 */
static rd_kafka_resp_err_t produce_waiting(struct kafka_ctx *ctx,
					   const struct message *msg,
					   struct kafka_msg *km)
{
	int64_t idle = 0;

	for (;;) {
		uint64_t gen =
		    __atomic_load_n(&ctx->room_gen, __ATOMIC_SEQ_CST);
		rd_kafka_resp_err_t err = produce(ctx, msg, km);

		if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
			return err;
		/* no room comes from a producer being replaced */
		if (__atomic_load_n(&ctx->fatal, __ATOMIC_SEQ_CST))
			return RD_KAFKA_RESP_ERR__FATAL;
		if (wait_for_room(ctx, gen))
			idle = 0;
		else if (ctx->queue_full_retries > 0 &&
			 ++idle >= ctx->queue_full_retries)
			return err;
	}
}

/* ---- the flush --------------------------------------------------------------
 */

struct oversize {
	uint32_t n;
	size_t largest;
};

static void drop(struct sl_flush *fl, uint32_t index, enum sl_drop_reason why)
{
	sl_flush_drop(fl, why, 1);
	sl_flush_mark(fl, index);
}

static void produce_chunk(struct kafka_ctx *ctx, struct kafka_worker *w,
			  struct kafka_batch *b, struct oversize *big)
{
	const struct sl_chunk *c = sl_flush_chunk(b->fl);
	struct sl_chunk_iter it;
	struct message msg;
	const char *body;
	uint64_t identity;
	size_t len;
	int64_t ts;

	sl_chunk_iter_init(&it, c);
	while (sl_chunk_next_id(&it, &ts, &identity, &body, &len)) {
		uint32_t idx = it.index - 1;
		struct kafka_msg *km;
		rd_kafka_resp_err_t err;
		int rc;

		if (sl_flush_marked(b->fl, idx))
			continue;
		rc = build(ctx, w, c, ts, identity, body, len, &msg);
		if (rc == -SL_ENOENT) {
			sl_log(SL_LOG_WARN, ctx->name,
			       "chunk %llu record %u has no Raw_Log_Key field "
			       "'%s': dropped",
			       (unsigned long long)c->id, idx,
			       ctx->raw_log_key);
			drop(b->fl, idx, SL_DROP_REJECTED);
			continue;
		}
		if (rc < 0) {
			set_failed(b, RD_KAFKA_RESP_ERR__FAIL, 1);
			continue;
		}
		/* librdkafka would refuse it too (with framing): never
		 * queue what cannot be sent */
		if (msg.value_len + msg.key_len >
		    (uint64_t)ctx->max_message_bytes) {
			big->n++;
			if (msg.value_len + msg.key_len > big->largest)
				big->largest = msg.value_len + msg.key_len;
			drop(b->fl, idx, SL_DROP_OVERSIZE);
			continue;
		}
		km = &b->msgs[b->n];
		km->b = b;
		km->index = idx;
		km->state = MSG_PENDING;
		/* counted before: its report may come before producev
		 * returns */
		__atomic_add_fetch(&b->outstanding, 1, __ATOMIC_ACQ_REL);
		err = produce_waiting(ctx, &msg, km);
		if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
			b->n++;
			continue;
		}
		__atomic_sub_fetch(&b->outstanding, 1, __ATOMIC_ACQ_REL);
		if (err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
			big->n++;
			if (msg.value_len + msg.key_len > big->largest)
				big->largest = msg.value_len + msg.key_len;
			drop(b->fl, idx, SL_DROP_OVERSIZE);
			continue;
		}
		if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
			sl_log(SL_LOG_WARN, ctx->name,
			       "chunk %llu: librdkafka's queue stayed full for "
			       "%lld s; the rest of the chunk will be retried",
			       (unsigned long long)c->id,
			       (long long)ctx->queue_full_retries);
			/* every record from here on is unsettled */
			set_failed(b, err, c->records - idx);
			return;
		}
		if (err == RD_KAFKA_RESP_ERR__FATAL) {
			/* the producer is being replaced: the rest of the
			 * chunk goes to the new one, on the retry */
			sl_log(SL_LOG_WARN, ctx->name,
			       "producer in fatal error state: chunk %llu "
			       "will be retried",
			       (unsigned long long)c->id);
			set_failed(b, err, c->records - idx);
			return;
		}
		set_failed(b, err, 1);
	}
}

void sl_out_kafka_flush(void *vctx, void *worker, struct sl_flush *fl)
{
	struct kafka_ctx *ctx = vctx;
	const struct sl_chunk *c = sl_flush_chunk(fl);
	struct kafka_worker *w = worker, *local = NULL;
	struct oversize big = {0};
	struct kafka_batch *b;
	uint32_t todo = 0;

	for (uint32_t i = 0; i < c->records; i++)
		todo += !sl_flush_marked(fl, i);
	if (todo == 0) {
		sl_flush_done(fl, SL_FLUSH_OK);
		return;
	}
	/* a producer being replaced takes nothing (and so does not keep the
	 * poller's write lock waiting): retried on the new one */
	if (__atomic_load_n(&ctx->fatal, __ATOMIC_SEQ_CST)) {
		sl_flush_done(fl, SL_FLUSH_RETRY);
		return;
	}
	pthread_rwlock_rdlock(&ctx->rk_lock);
	if (!ctx->rk) {
		pthread_rwlock_unlock(&ctx->rk_lock);
		sl_flush_done(fl, SL_FLUSH_RETRY);
		return;
	}
	if (!w) /* this worker's init failed: scratch for this chunk */
		w = local = sl_out_kafka_worker_create();
	b = calloc(1, sizeof(*b) + (size_t)todo * sizeof(b->msgs[0]));
	if (!b || !w) {
		pthread_rwlock_unlock(&ctx->rk_lock);
		free(b);
		sl_out_kafka_worker_destroy(local);
		sl_log(SL_LOG_ERROR, ctx->name,
		       "out of memory: chunk %llu retried later",
		       (unsigned long long)c->id);
		sl_flush_done(fl, SL_FLUSH_RETRY);
		return;
	}
	b->ctx = ctx;
	b->fl = fl;
	b->outstanding = 1; /* the worker's hold, released below */
	__atomic_add_fetch(&ctx->live_batches, 1, __ATOMIC_ACQ_REL);
	produce_chunk(ctx, w, b, &big);
	pthread_rwlock_unlock(&ctx->rk_lock);
	sl_out_kafka_worker_destroy(local);
	if (big.n)
		sl_log(SL_LOG_WARN, ctx->name,
		       "chunk %llu: %u records over message.max.bytes (%lld) "
		       "dropped (largest %zu bytes)",
		       (unsigned long long)c->id, big.n,
		       (long long)ctx->max_message_bytes, big.largest);
	/* from here on the batch may settle on another thread */
	release(b);
}
