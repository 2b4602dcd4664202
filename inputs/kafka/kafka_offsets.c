/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kafka_offsets.c - the table of assigned partitions and their ack rings.
 * A consumer holds tens of partitions at most, so lookups are a scan with
 * a one-entry cache (messages come in runs of one partition).
 */
#include "kafka_offsets.h"

#include <stdlib.h>
#include <string.h>

void kafka_offsets_init(struct kafka_offsets *o)
{
	memset(o, 0, sizeof(*o));
}

static void part_destroy(struct kafka_part *p)
{
	free(p->topic);
	p->topic = NULL;
	tail_ack_destroy(&p->ack);
}

void kafka_offsets_destroy(struct kafka_offsets *o)
{
	for (size_t i = 0; i < o->n; i++)
		part_destroy(&o->v[i]);
	free(o->v);
	memset(o, 0, sizeof(*o));
}

static bool same(const struct kafka_part *p, const char *topic,
		 int32_t partition)
{
	return p->partition == partition && strcmp(p->topic, topic) == 0;
}

struct kafka_part *kafka_offsets_find(struct kafka_offsets *o,
				      const char *topic, int32_t partition)
{
	if (o->last < o->n && same(&o->v[o->last], topic, partition))
		return &o->v[o->last];
	for (size_t i = 0; i < o->n; i++)
		if (same(&o->v[i], topic, partition)) {
			o->last = i;
			return &o->v[i];
		}
	return NULL;
}

int kafka_offsets_assign(struct kafka_offsets *o, const char *topic,
			 int32_t partition)
{
	struct kafka_part *p;

	if (kafka_offsets_find(o, topic, partition))
		return 0;
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 8;
		struct kafka_part *v = realloc(o->v, cap * sizeof(*v));

		if (!v)
			return -SL_ENOMEM;
		o->v = v;
		o->cap = cap;
	}
	p = &o->v[o->n];
	memset(p, 0, sizeof(*p));
	p->topic = strdup(topic);
	if (!p->topic)
		return -SL_ENOMEM;
	p->partition = partition;
	tail_ack_init(&p->ack, -1);
	p->sent = -1;
	p->next = -1;
	o->n++;
	return 0;
}

void kafka_offsets_forget(struct kafka_offsets *o, const char *topic,
			  int32_t partition)
{
	struct kafka_part *p = kafka_offsets_find(o, topic, partition);

	if (!p)
		return;
	part_destroy(p);
	*p = o->v[--o->n];
	o->last = 0;
}

int kafka_offsets_push(struct kafka_part *p, uint64_t chunk, int64_t offset)
{
	int rc = tail_ack_push(&p->ack, chunk, offset + 1);

	p->next = offset + 1;
	return rc < 0 ? rc : 0;
}

bool kafka_offsets_release(struct kafka_offsets *o, uint64_t chunk)
{
	bool moved = false;

	/* one chunk holds records of many partitions: ask every ring */
	for (size_t i = 0; i < o->n; i++)
		if (tail_ack_release(&o->v[i].ack, chunk) == 1)
			moved = true;
	return moved;
}

bool kafka_offsets_persisted(struct kafka_offsets *o, uint64_t chunk)
{
	bool moved = false;

	for (size_t i = 0; i < o->n; i++)
		if (tail_ack_persisted(&o->v[i].ack, chunk) == 1)
			moved = true;
	return moved;
}

bool kafka_offsets_due_any(const struct kafka_offsets *o)
{
	for (size_t i = 0; i < o->n; i++)
		if (kafka_part_due(&o->v[i]))
			return true;
	return false;
}
