/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_metrics.c - the metrics registry. Families and series are created on
 * the engine thread and never freed before the registry, so workers may keep
 * series pointers and update values with atomics (doubles are stored as
 * their bit patterns and updated with compare-and-swap).
 */
#include "sl_metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t dbl_bits(double v)
{
	uint64_t b;

	memcpy(&b, &v, sizeof(b));
	return b;
}

static double bits_dbl(uint64_t b)
{
	double v;

	memcpy(&v, &b, sizeof(v));
	return v;
}

static void atomic_add_double(uint64_t *bits, double v)
{
	uint64_t old = __atomic_load_n(bits, __ATOMIC_RELAXED), upd;

	do {
		upd = dbl_bits(bits_dbl(old) + v);
	} while (!__atomic_compare_exchange_n(
	    bits, &old, upd, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
}

void sl_metrics_init(struct sl_metrics *reg)
{
	memset(reg, 0, sizeof(*reg));
}

static void series_free(struct sl_metric_series *s, size_t n_labels)
{
	for (size_t i = 0; i < n_labels; i++)
		free(s->label_values[i]);
	free(s->label_values);
	free(s->bucket_counts);
	free(s);
}

static void family_free(struct sl_metric_family *f)
{
	struct sl_metric_series *s, *next;

	for (s = f->series; s; s = next) {
		next = s->next;
		series_free(s, f->n_labels);
	}
	for (size_t i = 0; i < f->n_labels; i++)
		free(f->label_names[i]);
	free(f->label_names);
	free(f->buckets);
	free(f->name);
	free(f->help);
	free(f->scope);
	free(f);
}

void sl_metrics_destroy(struct sl_metrics *reg)
{
	struct sl_metric_family *f, *next;

	for (f = reg->families; f; f = next) {
		next = f->next;
		family_free(f);
	}
	memset(reg, 0, sizeof(*reg));
}

struct sl_metric_family *sl_metrics_find(const struct sl_metrics *reg,
					 const char *name)
{
	for (struct sl_metric_family *f = reg->families; f; f = f->next)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

static bool same_shape(const struct sl_metric_family *f,
		       enum sl_metric_type type, const char *const *labels,
		       size_t n_labels, const double *buckets, size_t n_buckets)
{
	if (f->type != type || f->n_labels != n_labels)
		return false;
	for (size_t i = 0; i < n_labels; i++)
		if (strcmp(f->label_names[i], labels[i]) != 0)
			return false;
	if (type == SL_METRIC_HISTOGRAM) {
		if (f->n_buckets != n_buckets)
			return false;
		for (size_t i = 0; i < n_buckets; i++)
			if (f->buckets[i] != buckets[i])
				return false;
	}
	return true;
}

struct sl_metric_family *
sl_metrics_family(struct sl_metrics *reg, const char *name, const char *help,
		  enum sl_metric_type type, const char *const *label_names,
		  size_t n_labels, const double *buckets, size_t n_buckets,
		  const char **err)
{
	struct sl_metric_family *f = sl_metrics_find(reg, name);

	if (f) {
		if (same_shape(f, type, label_names, n_labels, buckets,
			       n_buckets))
			return f;
		*err = "a metric with this name exists with another type, "
		       "label names or buckets";
		return NULL;
	}
	if (n_labels > SL_METRICS_MAX_LABELS) {
		*err = "too many labels";
		return NULL;
	}
	*err = "out of memory";
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->name = strdup(name);
	f->help = strdup(help ? help : "");
	f->label_names = calloc(n_labels + 1, sizeof(char *));
	if (!f->name || !f->help || !f->label_names)
		goto fail;
	f->n_labels = n_labels;
	for (size_t i = 0; i < n_labels; i++)
		if (!(f->label_names[i] = strdup(label_names[i])))
			goto fail;
	if (type == SL_METRIC_HISTOGRAM && n_buckets) {
		f->buckets = malloc(n_buckets * sizeof(double));
		if (!f->buckets)
			goto fail;
		memcpy(f->buckets, buckets, n_buckets * sizeof(double));
		f->n_buckets = n_buckets;
	}
	f->type = type;
	f->max_series = SL_METRICS_DEFAULT_MAX_SERIES;
	if (reg->tail)
		reg->tail->next = f;
	else
		reg->families = f;
	reg->tail = f;
	*err = NULL;
	return f;
fail:
	family_free(f);
	return NULL;
}

static struct sl_metric_series *dropped_series(struct sl_metrics *reg)
{
	struct sl_metric_family *f;
	const char *err;

	if (reg->series_dropped)
		return reg->series_dropped;
	f = sl_metrics_family(reg, "sluice_metrics_series_dropped_total",
			      "Label sets refused because a family reached "
			      "Max_Series",
			      SL_METRIC_COUNTER, NULL, 0, NULL, 0, &err);
	if (!f)
		return NULL;
	f->max_series = 0;
	reg->series_dropped = sl_metric_series_get(reg, f, NULL);
	return reg->series_dropped;
}

struct sl_metric_series *sl_metric_series_get(struct sl_metrics *reg,
					      struct sl_metric_family *f,
					      const char *const *values)
{
	struct sl_metric_series *s;

	for (s = f->series; s; s = s->next) {
		size_t i;

		for (i = 0; i < f->n_labels; i++)
			if (strcmp(s->label_values[i], values[i]) != 0)
				break;
		if (i == f->n_labels)
			return s;
	}
	if (f->max_series && f->n_series >= f->max_series) {
		struct sl_metric_series *d = dropped_series(reg);

		if (d)
			sl_metric_add(d, 1);
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->label_values = calloc(f->n_labels + 1, sizeof(char *));
	if (!s->label_values)
		goto fail;
	for (size_t i = 0; i < f->n_labels; i++)
		if (!(s->label_values[i] = strdup(values[i])))
			goto fail;
	if (f->type == SL_METRIC_HISTOGRAM) {
		s->bucket_counts = calloc(f->n_buckets + 1, sizeof(uint64_t));
		if (!s->bucket_counts)
			goto fail;
	}
	if (f->series_tail)
		f->series_tail->next = s;
	else
		f->series = s;
	f->series_tail = s;
	f->n_series++;
	return s;
fail:
	series_free(s, f->n_labels);
	return NULL;
}

void sl_metric_add(struct sl_metric_series *s, double v)
{
	/* 2^53: beyond it a double no longer holds every whole number */
	if (v >= 0 && v < 9007199254740992.0 && v == (double)(uint64_t)v)
		__atomic_add_fetch(&s->int_part, (uint64_t)v, __ATOMIC_RELAXED);
	else
		atomic_add_double(&s->value_bits, v);
}

/* Gauges only: a set and a concurrent add on one series are not ordered. */
void sl_metric_set(struct sl_metric_series *s, double v)
{
	__atomic_store_n(&s->int_part, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&s->value_bits, dbl_bits(v), __ATOMIC_RELAXED);
}

double sl_metric_value(const struct sl_metric_series *s)
{
	return (double)__atomic_load_n(&s->int_part, __ATOMIC_RELAXED) +
	       bits_dbl(__atomic_load_n(&s->value_bits, __ATOMIC_RELAXED));
}

void sl_metric_observe(const struct sl_metric_family *f,
		       struct sl_metric_series *s, double v)
{
	size_t i = 0;

	if (isnan(v))
		return;
	/* bucket i counts le buckets[i]; the last slot is +Inf */
	while (i < f->n_buckets && v > f->buckets[i])
		i++;
	__atomic_add_fetch(&s->bucket_counts[i], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&s->count_bits, 1, __ATOMIC_RELAXED);
	atomic_add_double(&s->sum_bits, v);
}

void sl_metrics_carry(struct sl_metrics *dst, const struct sl_metrics *src)
{
	for (const struct sl_metric_family *f = src->families; f; f = f->next) {
		struct sl_metric_family *d = sl_metrics_find(dst, f->name);

		/* a gauge is state, not history: the new pipeline sets it */
		if (f->type == SL_METRIC_GAUGE || !d ||
		    !same_shape(d, f->type, (const char *const *)f->label_names,
				f->n_labels, f->buckets, f->n_buckets))
			continue;
		for (const struct sl_metric_series *s = f->series; s;
		     s = s->next) {
			struct sl_metric_series *ds = sl_metric_series_get(
			    dst, d, (const char *const *)s->label_values);

			if (!ds)
				continue; /* over the new cap: counted there */
			if (f->type == SL_METRIC_COUNTER) {
				sl_metric_add(ds, sl_metric_value(s));
				continue;
			}
			for (size_t i = 0; i <= f->n_buckets; i++)
				ds->bucket_counts[i] += s->bucket_counts[i];
			ds->count_bits += s->count_bits;
			ds->sum_bits = dbl_bits(bits_dbl(ds->sum_bits) +
						bits_dbl(s->sum_bits));
		}
	}
}
