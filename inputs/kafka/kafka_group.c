/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kafka_group.c - the kafka input as a consumer group member: partitions
 * assigned and revoked (eager or cooperative protocol, whichever the
 * configured assignor speaks), acknowledged offsets committed, fetching
 * paused and resumed for back-pressure. Every callback here runs on the
 * engine thread, from rd_kafka_consumer_poll() or rd_kafka_consumer_close().
 *
 * A revocation commits what is acknowledged and forgets the rest: records
 * of that partition still in flight are delivered by this member and read
 * again by the next owner (duplicates, never loss). A lost assignment (the
 * member was thrown out of the group) commits nothing: the partitions may
 * already have moved on under another member.
 */
#include "kafka.h"
#include "sl_log.h"

#include <string.h>

/* The offsets due, as a list for librdkafka (NULL: none, or no memory). */
static rd_kafka_topic_partition_list_t *due_list(struct kafka_in_ctx *ctx)
{
	rd_kafka_topic_partition_list_t *l = NULL;

	for (size_t i = 0; i < ctx->offsets.n; i++) {
		const struct kafka_part *p = &ctx->offsets.v[i];

		if (!kafka_part_due(p))
			continue;
		if (!l && !(l = rd_kafka_topic_partition_list_new(
				(int)ctx->offsets.n)))
			return NULL;
		rd_kafka_topic_partition_list_add(l, p->topic, p->partition)
		    ->offset = p->ack.committed;
	}
	return l;
}

static void mark_sent(struct kafka_in_ctx *ctx,
		      const rd_kafka_topic_partition_list_t *l)
{
	for (int i = 0; i < l->cnt; i++) {
		const rd_kafka_topic_partition_t *e = &l->elems[i];
		struct kafka_part *p =
		    kafka_offsets_find(&ctx->offsets, e->topic, e->partition);

		if (p && !e->err)
			p->sent = e->offset;
	}
}

void sl_in_kafka_commit(struct kafka_in_ctx *ctx)
{
	rd_kafka_topic_partition_list_t *l;
	rd_kafka_resp_err_t err;

	if (!ctx->rk || ctx->closed)
		return;
	l = due_list(ctx);
	if (!l)
		return;
	if (ctx->enable_auto_commit) {
		/* librdkafka's timer commits what is stored */
		err = rd_kafka_offsets_store(ctx->rk, l);
	} else {
		/* answered through sl_in_kafka_on_commit */
		err = rd_kafka_commit(ctx->rk, l, 1);
	}
	if (err) {
		sl_metric_add(ctx->m_commit_errors, 1);
		sl_log(SL_LOG_WARN, ctx->name,
		       "cannot %s offsets: %s (tried again)",
		       ctx->enable_auto_commit ? "store" : "commit",
		       rd_kafka_err2str(err));
	} else {
		mark_sent(ctx, l);
	}
	rd_kafka_topic_partition_list_destroy(l);
}

void sl_in_kafka_on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err,
			   rd_kafka_topic_partition_list_t *offsets,
			   void *opaque)
{
	struct kafka_in_ctx *ctx = opaque;

	(void)rk;
	if (err == RD_KAFKA_RESP_ERR__NO_OFFSET)
		return; /* an auto commit with nothing stored */
	if (!err) {
		sl_metric_add(ctx->m_commits, 1);
		return;
	}
	sl_metric_add(ctx->m_commit_errors, 1);
	/* expected while the group rebalances: the revocation or the next
	 * tick commits again */
	sl_log(err == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS ||
		       err == RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION
		   ? SL_LOG_DEBUG
		   : SL_LOG_WARN,
	       ctx->name, "offset commit failed: %s", rd_kafka_err2str(err));
	/* partitions still ours go again on the next tick */
	for (int i = 0; offsets && i < offsets->cnt; i++) {
		const rd_kafka_topic_partition_t *e = &offsets->elems[i];
		struct kafka_part *p =
		    kafka_offsets_find(&ctx->offsets, e->topic, e->partition);

		if (p && p->sent == e->offset)
			p->sent = -1;
	}
}

static rd_kafka_topic_partition_list_t *assigned_list(struct kafka_in_ctx *ctx)
{
	rd_kafka_topic_partition_list_t *l =
	    rd_kafka_topic_partition_list_new((int)ctx->offsets.n + 1);

	for (size_t i = 0; l && i < ctx->offsets.n; i++)
		rd_kafka_topic_partition_list_add(l, ctx->offsets.v[i].topic,
						  ctx->offsets.v[i].partition);
	return l;
}

void sl_in_kafka_set_fetching(struct kafka_in_ctx *ctx, bool on)
{
	rd_kafka_topic_partition_list_t *l;

	if (!ctx->rk || ctx->closed || ctx->offsets.n == 0)
		return;
	l = assigned_list(ctx);
	if (!l)
		return;
	/* librdkafka drops what it prefetched for a paused partition and
	 * fetches again from the last message the input took */
	if (on)
		rd_kafka_resume_partitions(ctx->rk, l);
	else
		rd_kafka_pause_partitions(ctx->rk, l);
	rd_kafka_topic_partition_list_destroy(l);
}

static void assign(struct kafka_in_ctx *ctx, bool cooperative,
		   rd_kafka_topic_partition_list_t *parts)
{
	rd_kafka_error_t *error = NULL;
	rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;

	for (int i = 0; i < parts->cnt; i++)
		if (kafka_offsets_assign(&ctx->offsets, parts->elems[i].topic,
					 parts->elems[i].partition) < 0)
			sl_log(SL_LOG_ERROR, ctx->name,
			       "out of memory: %s [%d] is read but never "
			       "committed by this member",
			       parts->elems[i].topic,
			       (int)parts->elems[i].partition);
	if (cooperative)
		error = rd_kafka_incremental_assign(ctx->rk, parts);
	else
		err = rd_kafka_assign(ctx->rk, parts);
	if (error) {
		sl_log(SL_LOG_ERROR, ctx->name, "assignment failed: %s",
		       rd_kafka_error_string(error));
		rd_kafka_error_destroy(error);
	} else if (err) {
		sl_log(SL_LOG_ERROR, ctx->name, "assignment failed: %s",
		       rd_kafka_err2str(err));
	}
	/* newly assigned partitions start fetching: not while paused */
	if (ctx->paused || ctx->stopped)
		rd_kafka_pause_partitions(ctx->rk, parts);
	sl_log(SL_LOG_INFO, ctx->name, "assigned %d partitions (%zu in all)",
	       parts->cnt, ctx->offsets.n);
}

static void revoke(struct kafka_in_ctx *ctx, bool cooperative,
		   rd_kafka_topic_partition_list_t *parts)
{
	bool lost = rd_kafka_assignment_lost(ctx->rk);
	rd_kafka_error_t *error = NULL;

	if (!lost)
		sl_in_kafka_commit(ctx);
	for (int i = 0; i < parts->cnt; i++)
		kafka_offsets_forget(&ctx->offsets, parts->elems[i].topic,
				     parts->elems[i].partition);
	if (cooperative)
		error = rd_kafka_incremental_unassign(ctx->rk, parts);
	else
		rd_kafka_assign(ctx->rk, NULL);
	if (error) {
		sl_log(SL_LOG_ERROR, ctx->name, "unassignment failed: %s",
		       rd_kafka_error_string(error));
		rd_kafka_error_destroy(error);
	}
	sl_log(SL_LOG_INFO, ctx->name,
	       "%s %d partitions (%zu left); what was in flight is read again "
	       "by their next owner",
	       lost ? "lost" : "revoked", parts->cnt, ctx->offsets.n);
}

void sl_in_kafka_on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
			      rd_kafka_topic_partition_list_t *parts,
			      void *opaque)
{
	struct kafka_in_ctx *ctx = opaque;
	bool cooperative =
	    strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;

	sl_metric_add(ctx->m_rebalances, 1);
	switch (err) {
	case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
		assign(ctx, cooperative, parts);
		break;
	case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
		revoke(ctx, cooperative, parts);
		break;
	default:
		sl_log(SL_LOG_ERROR, ctx->name, "rebalance failed: %s",
		       rd_kafka_err2str(err));
		kafka_offsets_destroy(&ctx->offsets);
		kafka_offsets_init(&ctx->offsets);
		rd_kafka_assign(rk, NULL);
		break;
	}
	sl_metric_set(ctx->m_assigned, (double)ctx->offsets.n);
}
