/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_tag_records.c - per-tag record counters (see sl_tag_records.h).
 * Fluent Bit's names with sluice's prefix, its labels and its three
 * untracked reasons (tag_length_limit, max_series, error). The cap is
 * enforced here, not by the family's Max_Series, so refusals are counted
 * under their reason and not also as dropped series.
 */
#include "sl_tag_records.h"

#include <stdlib.h>
#include <string.h>

int sl_tag_records_init(struct sl_tag_records *tr, struct sl_metrics *reg,
			int64_t max_series, int64_t max_tag_length)
{
	static const char *const tracked[] = {"name", "tag"};
	static const char *const untracked[] = {"name", "reason"};
	const char *err;

	tr->max_series = max_series;
	tr->max_tag_length = max_tag_length;
	tr->tracked =
	    sl_metrics_family(reg, "sluice_input_logs_tag_records_total",
			      "Records read by the input, by tag",
			      SL_METRIC_COUNTER, tracked, 2, NULL, 0, &err);
	tr->untracked = sl_metrics_family(
	    reg, "sluice_input_logs_tag_records_untracked_total",
	    "Records read by the input not counted by tag, by reason",
	    SL_METRIC_COUNTER, untracked, 2, NULL, 0, &err);
	if (!tr->tracked || !tr->untracked)
		return -SL_ENOMEM;
	tr->tracked->max_series = 0;
	tr->untracked->max_series = 0;
	return 0;
}

static struct sl_metric_series *find(const struct sl_metric_family *f,
				     const char *name, const char *tag)
{
	for (struct sl_metric_series *s = f->series; s; s = s->next)
		if (strcmp(s->label_values[1], tag) == 0 &&
		    strcmp(s->label_values[0], name) == 0)
			return s;
	return NULL;
}

static struct sl_metric_series *untracked(struct sl_tag_records *tr,
					  struct sl_metrics *reg,
					  const char *name, const char *reason)
{
	const char *values[] = {name, reason};

	return sl_metric_series_get(reg, tr->untracked, values);
}

/* The series records of `tag` go to (tracked or untracked), or NULL. */
static struct sl_metric_series *series_for(struct sl_tag_records *tr,
					   struct sl_metrics *reg,
					   const char *name, const char *tag,
					   size_t len)
{
	struct sl_metric_series *s;
	const char *values[2] = {name, tag};

	if (tr->max_tag_length > 0 && len > (uint64_t)tr->max_tag_length)
		return untracked(tr, reg, name, "tag_length_limit");
	if (memchr(tag, 0, len)) /* not a label value */
		return untracked(tr, reg, name, "error");
	s = find(tr->tracked, name, tag);
	if (s)
		return s;
	if (tr->max_series > 0 &&
	    tr->tracked->n_series >= (uint64_t)tr->max_series)
		return untracked(tr, reg, name, "max_series");
	s = sl_metric_series_get(reg, tr->tracked, values);
	return s ? s : untracked(tr, reg, name, "error");
}

static size_t slot_of(const char *tag, size_t len)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)tag[i]) * 1099511628211ULL;
	return (size_t)(h % SL_TAG_RECORDS_CACHE);
}

void sl_tag_records_count(struct sl_tag_records *tr, struct sl_metrics *reg,
			  struct sl_tag_records_input *in, const char *tag,
			  size_t len, uint64_t n)
{
	struct sl_tag_records_slot *slot;
	char *copy;

	if (!n)
		return;
	slot = &in->cache[slot_of(tag, len)];
	if (slot->series && slot->len == len &&
	    memcmp(slot->tag, tag, len) == 0) {
		sl_metric_add(slot->series, (double)n);
		return;
	}
	copy = malloc(len + 1);
	if (!copy) {
		struct sl_metric_series *e =
		    untracked(tr, reg, in->name, "error");

		if (e)
			sl_metric_add(e, (double)n);
		return;
	}
	memcpy(copy, tag, len);
	copy[len] = 0;
	free(slot->tag);
	slot->tag = copy;
	slot->len = len;
	/* a series, once created, lives as long as the registry: cacheable */
	slot->series = series_for(tr, reg, in->name, copy, len);
	if (slot->series)
		sl_metric_add(slot->series, (double)n);
}

void sl_tag_records_input_destroy(struct sl_tag_records_input *in)
{
	for (size_t i = 0; i < SL_TAG_RECORDS_CACHE; i++) {
		free(in->cache[i].tag);
		in->cache[i] = (struct sl_tag_records_slot){0};
	}
}
