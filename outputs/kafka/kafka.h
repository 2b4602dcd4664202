/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kafka.h - the kafka output's context, shared by kafka.c (options, the
 * producer's life: init, start, drain, destroy) and kafka_produce.c
 * (records to messages, delivery tracking per chunk). Private to the
 * plugin's folder.
 */
#ifndef SL_OUT_KAFKA_H
#define SL_OUT_KAFKA_H

#include "sl_output.h"

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdbool.h>

enum kafka_format {
	KAFKA_FMT_JSON = 0, /* the record, Timestamp_Key (and Tag_Key) first */
	KAFKA_FMT_RAW,	    /* the text of the Raw_Log_Key field */
	KAFKA_FMT_MSGPACK,  /* a msgpack map, Timestamp_Key first */
};

enum kafka_ts_format {
	KAFKA_TS_DOUBLE = 0, /* 1700000000.123457 */
	KAFKA_TS_ISO8601,    /* "2023-11-14T22:13:20.123456Z" */
	KAFKA_TS_ISO8601_NS, /* "2023-11-14T22:13:20.123456789Z" */
};

struct kafka_ctx {
	/* config map (freed by the core) */
	char *brokers;
	struct sl_strlist topics;
	char *topic_key;
	bool dynamic_topic;
	char *format;
	char *message_key;
	char *message_key_field;
	char *timestamp_key;
	char *timestamp_format;
	char *tag_key; /* sluice extension: the chunk's tag under this key */
	int64_t queue_full_retries;
	char *raw_log_key;
	char *client_id;
	char *msk_iam_arn;
	struct sl_cfg_multi rdkafka; /* items "property value" */
	/* schema_str, schema_id, schema_registry_*, schema.registry.*:
	 * Format avro's options, items "suffix value"; all refused */
	struct sl_cfg_multi avro_opts;
	char *serializer_framing;

	/* from init, read-only afterwards */
	char *name; /* instance name for logs, owned */
	enum kafka_format fmt;
	enum kafka_ts_format ts_fmt;
	struct sl_buf ts_member; /* "\"@timestamp\":", owned */
	struct sl_buf
	    tag_member; /* ",\"tag\":" (Tag_Key), owned; empty: none */
	struct sl_accessor *key_acc, *topic_acc, *raw_acc; /* owned or NULL */
	size_t message_key_len;
	int64_t max_message_bytes; /* message.max.bytes as configured */
	rd_kafka_conf_t *conf;	   /* validated; start duplicates it */
	/* idempotence on and no Message_Key(_Field): each message carries a
	 * sluice-id header (the record's id) for consumers to dedupe on */
	bool id_header;
	int drain_flush_ms, drain_purge_ms; /* shutdown waits, from Grace */

	/* from start. rk and rkt are replaced by the poller after a fatal
	 * error (under the write lock); workers use them under the read lock */
	pthread_rwlock_t rk_lock;
	rd_kafka_t *rk;
	rd_kafka_topic_t **rkt; /* one per Topics entry, rkt[0] default */
	bool fatal;		/* atomic: rk is in a fatal error state */
	int64_t recreated;	/* atomic: producers made after a fatal error */
	int64_t next_create_ns; /* poller: when to try again after a failure */
	pthread_t poller;
	bool poller_started;
	bool poller_stop; /* atomic */
	bool sync_init;
	bool lock_init;

	/* a producer blocked on a full local queue waits here for reports */
	pthread_mutex_t room_lock;
	pthread_cond_t room_cond;
	uint64_t room_gen; /* atomic: delivery reports served */
	int room_waiters;  /* atomic */

	int workers;	      /* atomic: worker threads alive */
	int64_t live_batches; /* atomic: chunks awaiting reports */
	bool detached;	      /* atomic: the engine's flushes are gone */
};

/* kafka_produce.c */

/* Per worker thread: scratch reused from chunk to chunk. */
struct kafka_worker;
struct kafka_worker *sl_out_kafka_worker_create(void);
void sl_out_kafka_worker_destroy(struct kafka_worker *w);
/*
 * Produces the chunk's unsettled records and returns; sl_flush_done() is
 * called once every produced message has its delivery report (from the
 * thread that serves the last one) or at once when nothing was produced.
 * `w` may be NULL (a worker whose init failed): scratch is then local.
 */
void sl_out_kafka_flush(void *ctx, void *worker, struct sl_flush *fl);
/* librdkafka's delivery report callback (rd_kafka_conf_set_dr_msg_cb). */
void sl_out_kafka_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m,
			      void *opaque);
/* Wakes workers waiting for queue room once reports have been served. */
void sl_out_kafka_wake_producers(struct kafka_ctx *ctx);

#endif
