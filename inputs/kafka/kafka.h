/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kafka.h - the kafka input's context, shared by kafka.c (options, the
 * consumer's life), kafka_poll.c (messages into records), kafka_group.c
 * (rebalances and commits). Private to the plugin's folder.
 *
 * Threads: none of its own. librdkafka fetches on its threads and signals
 * a pipe when its consumer queue gets something; the engine loop then
 * polls without waiting (rd_kafka_consumer_poll(rk, 0)). Messages,
 * rebalance and commit callbacks therefore all run on the engine thread,
 * beside the chunk releases that decide the commits: no lock anywhere.
 */
#ifndef SL_IN_KAFKA_H
#define SL_IN_KAFKA_H

#include "kafka_offsets.h"
#include "sl_input.h"
#include "sl_metrics.h"

#include <librdkafka/rdkafka.h>
#include <stdbool.h>

struct kafka_in_ctx {
	/* config map (freed by the core) */
	char *brokers;
	struct sl_strlist topics;
	char *group_id;
	char *client_id;
	char *format;
	int64_t poll_ms;
	int64_t buffer_max_size;
	bool enable_auto_commit;
	char *msk_iam_arn;
	bool msk_iam;
	struct sl_cfg_multi rdkafka; /* items "property value" */

	/* from init, read-only afterwards */
	char *name; /* instance name for logs, owned */
	bool json;  /* Format json */
	rd_kafka_conf_t
	    *conf; /* validated; start hands a copy to rd_kafka_new */
	rd_kafka_topic_partition_list_t *subscription; /* owned */

	/* runtime (engine thread) */
	struct sl_input *in; /* borrowed */
	rd_kafka_t *rk;
	rd_kafka_queue_t *queue; /* the consumer queue */
	int wake[2];		 /* librdkafka writes [1] when queue fills */
	struct event *wake_ev, *tick_ev, *more_ev;
	struct kafka_offsets offsets;
	bool paused;  /* the engine asked to stop reading */
	bool stopped; /* stop: nothing is emitted any more */
	bool closed;  /* the consumer left its group */
	bool have_pipe;
	/* a release of the chunk being appended to, inside sl_input_emit
	 * (sealed on disk, or no output takes it): before its push */
	bool in_emit, told_current;
	struct sl_record rec;
	struct sl_buf body;
	bool rec_ok;
	uint64_t errors_logged;

	struct sl_metric_series *m_consumed, *m_commits, *m_commit_errors,
	    *m_rebalances, *m_errors, *m_lag, *m_assigned;
};

/* kafka_poll.c: the engine side of the consumer queue */
int sl_in_kafka_poll_start(struct kafka_in_ctx *ctx);
void sl_in_kafka_poll_stop(struct kafka_in_ctx *ctx);
/* Serves the consumer queue: messages (unless paused or stopped),
 * rebalances, commit reports; bounded per turn by Buffer_Max_Size. */
void sl_in_kafka_drain(struct kafka_in_ctx *ctx);

/* kafka_group.c: rebalances and commits */
void sl_in_kafka_on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
			      rd_kafka_topic_partition_list_t *parts,
			      void *opaque);
void sl_in_kafka_on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err,
			   rd_kafka_topic_partition_list_t *offsets,
			   void *opaque);
/* Commits (or, with Enable_Auto_Commit, stores for librdkafka's timer)
 * every acknowledged offset not sent yet, without waiting: the answer
 * comes to sl_in_kafka_on_commit, and rd_kafka_consumer_close waits for
 * outstanding commits. */
void sl_in_kafka_commit(struct kafka_in_ctx *ctx);
/* Pauses or resumes fetching of every assigned partition. */
void sl_in_kafka_set_fetching(struct kafka_in_ctx *ctx, bool on);

#endif
