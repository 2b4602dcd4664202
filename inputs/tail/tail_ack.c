/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tail_ack.c - the per-file ring of (chunk, end offset) runs and the
 * committed offset: the end of the longest released prefix. Releases come
 * in any order; a run is only popped once everything before it is out. A
 * run persisted on disk (filesystem storage) counts as released.
 */
#include "tail_ack.h"

#include <stdlib.h>
#include <string.h>

void tail_ack_init(struct tail_ack *a, int64_t offset)
{
	memset(a, 0, sizeof(*a));
	a->committed = offset;
}

void tail_ack_destroy(struct tail_ack *a)
{
	free(a->v);
	a->v = NULL;
	a->head = a->n = a->cap = 0;
}

static struct tail_ack_ent *at(struct tail_ack *a, size_t i)
{
	return &a->v[(a->head + i) % a->cap];
}

static int grow(struct tail_ack *a)
{
	size_t cap = a->cap ? a->cap * 2 : 8;
	struct tail_ack_ent *v = malloc(cap * sizeof(*v));

	if (!v)
		return -SL_ENOMEM;
	/* Unroll the ring so that the oldest run is first again. */
	for (size_t i = 0; i < a->n; i++)
		v[i] = *at(a, i);
	free(a->v);
	a->v = v;
	a->cap = cap;
	a->head = 0;
	return 0;
}

/* Pops released runs off the front. 1 when the committed offset moved. */
static int advance(struct tail_ack *a)
{
	int moved = 0;

	while (a->n && at(a, 0)->released) {
		if (!a->frozen) {
			a->committed = at(a, 0)->end;
			moved = 1;
		}
		a->head = (a->head + 1) % a->cap;
		a->n--;
	}
	return moved;
}

int tail_ack_push(struct tail_ack *a, uint64_t chunk, int64_t end)
{
	struct tail_ack_ent *last;

	if (a->n == 0 && chunk == 0) {
		if (a->frozen || a->committed == end)
			return 0;
		a->committed = end;
		return 1;
	}
	last = a->n ? at(a, a->n - 1) : NULL;
	/* Same chunk (or another dropped line): the run just gets longer,
	 * unless the run was persisted already (released while its chunk
	 * still takes records): the new lines are not safe yet. */
	if (last && last->chunk == chunk && last->released == (chunk == 0)) {
		last->end = end;
		return 0;
	}
	if (a->n == a->cap && grow(a) < 0) {
		a->frozen = true;
		return -SL_ENOMEM;
	}
	last = at(a, a->n++);
	last->chunk = chunk;
	last->end = end;
	last->released = chunk == 0;
	return 0;
}

int tail_ack_release(struct tail_ack *a, uint64_t chunk)
{
	bool hit = false;

	if (chunk == 0)
		return 0;
	for (size_t i = 0; i < a->n; i++) {
		struct tail_ack_ent *e = at(a, i);

		if (e->chunk == chunk) {
			e->released = true;
			hit = true;
		}
	}
	return hit ? advance(a) : 0;
}

int tail_ack_persisted(struct tail_ack *a, uint64_t chunk)
{
	/* the same marking: what is safe may be committed, in order */
	return tail_ack_release(a, chunk);
}
