/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kafka_offsets.h - what the kafka input may commit, per assigned
 * partition: which chunk each consumed message went into, and the offset
 * below which every message's chunk was released (or persisted on disk).
 * Uses in_tail's ack rings (tail_ack.h) with Kafka offsets for file
 * offsets. Knows nothing of librdkafka or the engine.
 */
#ifndef SL_IN_KAFKA_OFFSETS_H
#define SL_IN_KAFKA_OFFSETS_H

#include "../tail/tail_ack.h"

#include <stdbool.h>
#include <stdint.h>

struct kafka_part {
	char *topic; /* owned */
	int32_t partition;
	/* runs of (chunk, offset after the run); committed: the offset to
	 * commit (next to read), -1 while nothing was consumed */
	struct tail_ack ack;
	int64_t sent; /* the last offset handed to a commit, -1: none */
	int64_t next; /* after the last message consumed, -1: none (lag) */
};

struct kafka_offsets {
	struct kafka_part *v; /* owned, unordered */
	size_t n, cap;
	size_t last; /* the partition of the last lookup (a cache) */
};

void kafka_offsets_init(struct kafka_offsets *o);
/* Forgets every partition; idempotent. */
void kafka_offsets_destroy(struct kafka_offsets *o);

/* The partition, or NULL when it is not assigned. */
struct kafka_part *kafka_offsets_find(struct kafka_offsets *o,
				      const char *topic, int32_t partition);
/* Starts tracking a newly assigned partition (nothing in flight); one
 * already tracked is kept. 0 or -SL_ENOMEM. */
int kafka_offsets_assign(struct kafka_offsets *o, const char *topic,
			 int32_t partition);
/* Stops tracking a partition (revoked): its releases are ignored from now
 * on, so what is in flight is never committed by this member. */
void kafka_offsets_forget(struct kafka_offsets *o, const char *topic,
			  int32_t partition);

/*
 * The message at `offset` went into chunk `chunk` (0: a filter dropped it,
 * nothing to wait for). 0, or -SL_ENOMEM: the partition is frozen (never
 * committed again by this member: duplicates after a restart, never loss).
 */
int kafka_offsets_push(struct kafka_part *p, uint64_t chunk, int64_t offset);
/* Chunk `chunk` left the pipeline. True when some partition may commit
 * further. */
bool kafka_offsets_release(struct kafka_offsets *o, uint64_t chunk);
/* Every record emitted into chunk `chunk` so far is on disk (storage.type
 * filesystem): counted as released. True as for release. */
bool kafka_offsets_persisted(struct kafka_offsets *o, uint64_t chunk);

/* Whether partition `p` has an offset to commit that was not sent yet. */
static inline bool kafka_part_due(const struct kafka_part *p)
{
	return p->ack.committed >= 0 && p->ack.committed != p->sent;
}

/* Whether any partition is due. */
bool kafka_offsets_due_any(const struct kafka_offsets *o);

#endif
