/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tail_ack.h - commit-after-ack for one followed file: which chunk each
 * emitted run of lines went into, and how far the file is committed (every
 * line before that offset is in a chunk the pipeline released). Only the
 * committed offset goes to the DB, so a crash re-reads the in-flight window
 * and loses nothing. Knows nothing of the engine or the DB.
 */
#ifndef TAIL_ACK_H
#define TAIL_ACK_H

#include "sl_common.h"

#include <stdbool.h>

struct tail_ack_ent {
	uint64_t chunk; /* 0: dropped by a filter (released at once) */
	int64_t end;	/* file offset after the last line of this run */
	bool released;
};

/*
 * A ring of runs, oldest first. Consecutive lines that went into the same
 * chunk share one entry, so the ring holds about one entry per chunk in
 * flight: bounded by the input's memory budget, not by the line count.
 */
struct tail_ack {
	struct tail_ack_ent *v; /* owned */
	size_t head, n, cap;
	int64_t committed; /* everything before it is released */
	bool frozen;	   /* a run could not be recorded: never advance */
};

/* Starts empty, committed at `offset` (caller storage). */
void tail_ack_init(struct tail_ack *a, int64_t offset);
/* Frees the ring; idempotent. */
void tail_ack_destroy(struct tail_ack *a);

/*
 * Records that the lines up to `end` went into chunk `chunk` (0: nothing to
 * wait for). Returns 1 when the committed offset moved (nothing in flight
 * before them), 0 otherwise, or -SL_ENOMEM: the run is not tracked and the
 * committed offset is frozen from then on (duplicates after a restart,
 * never loss).
 */
int tail_ack_push(struct tail_ack *a, uint64_t chunk, int64_t end);

/*
 * Chunk `chunk` left the pipeline. Returns 1 when the committed offset
 * moved, else 0. Unknown ids are ignored.
 */
int tail_ack_release(struct tail_ack *a, uint64_t chunk);

/*
 * Every line recorded so far for chunk `chunk` is safe on disk
 * (storage.type filesystem): those runs count as released; a later line
 * into the same chunk starts a new run, released only by the next call or
 * by tail_ack_release. Returns 1 when the committed offset moved, else 0.
 */
int tail_ack_persisted(struct tail_ack *a, uint64_t chunk);

/* Nothing of this file is in flight. */
static inline bool tail_ack_idle(const struct tail_ack *a)
{
	return a->n == 0;
}

#endif
