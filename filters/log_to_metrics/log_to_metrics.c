/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log_to_metrics.c - derives counters, gauges and histograms from records,
 * with Fluent Bit's options and rule semantics, into the engine's metrics
 * registry (core/metrics/sl_metrics.h). Instances with the same full name and
 * label names share one family; the family is emitted under `Tag`. The filter
 * never changes a record; it drops every record only with Discard_logs.
 *
 * Missing fields, as in Fluent Bit: a label whose field is absent (or is a
 * bool, null, object or array) gets the empty string and the record still
 * counts; a gauge/histogram record whose Value_field is absent or not a
 * number updates nothing.
 */
#include "sluice_plugin.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum l2m_mode { MODE_COUNTER = 1, MODE_GAUGE, MODE_HISTOGRAM };
enum l2m_op { OP_LEGACY = 0, OP_AND, OP_OR };

struct l2m_rule {
	bool exclude;
	int line;
	struct sl_accessor *acc; /* owned */
	struct sl_regex *re;	 /* owned */
};

struct l2m_label {
	char *name;		 /* owned */
	struct sl_accessor *acc; /* owned */
	int line;
};

struct l2m_ctx {
	/* config map */
	char *tag, *mode_name, *metric_name, *ns, *subsystem, *desc;
	char *value_field, *logical_op;
	struct sl_cfg_multi bucket, label_field;
	struct sl_cfg_kvlist add_label, regex, exclude;
	bool discard_logs, kubernetes_mode;
	int64_t max_series;
	/* built by init */
	enum l2m_mode mode;
	enum l2m_op op;
	struct l2m_rule *rules; /* owned, config order */
	size_t n_rules;
	struct l2m_label *labels; /* owned, family label order */
	size_t n_labels;
	struct sl_accessor *value_acc;	/* owned; gauge and histogram */
	struct sl_plugin_instance *ins; /* borrowed, for series lookups */
	char *name;			/* owned: the family's full name */
	struct sl_metric_family *fam;	/* borrowed from the registry */
	/* per-record scratch, reused: nothing is allocated in steady state */
	struct sl_text scratch;
	struct sl_buf vals;   /* label values, NUL-separated */
	size_t *val_off;      /* owned, n_labels offsets into vals */
	const char **val_ptr; /* owned, n_labels pointers into vals */
};

static const char *const k8s_labels[] = {
    "namespace_name", "pod_name", "container_name", "docker_id", "pod_id",
};

/* Fluent Bit's histogram buckets when none are given. */
static const double default_buckets[] = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
};

/* ---- init ------------------------------------------------------------------
 */

static int add_rule(struct l2m_ctx *ctx, struct sl_plugin_instance *ins,
		    const struct sl_cfg_kv *item, bool exclude)
{
	const char *opt = exclude ? "Exclude" : "Regex", *aerr = "";
	struct l2m_rule *r = &ctx->rules[ctx->n_rules];
	const char *key = item->key, *pat = item->value;
	char err[200];
	int rc = -SL_ECONFIG;

	r->acc = sl_accessor_create(key, &aerr);
	if (!r->acc) {
		sl_plugin_error(ins, item->line, "%s: bad key '%s': %s", opt,
				key, aerr);
		goto out;
	}
	r->re = sl_regex_create(pat, err, sizeof(err));
	if (!r->re) {
		sl_accessor_destroy(r->acc);
		r->acc = NULL;
		sl_plugin_error(ins, item->line, "%s: bad regex '%s': %s", opt,
				pat, err);
		goto out;
	}
	r->exclude = exclude;
	r->line = item->line;
	ctx->n_rules++;
	rc = 0;
out:
	return rc;
}

static int cmp_line(int a, int b)
{
	return (a > b) - (a < b);
}

static int build_rules(struct l2m_ctx *ctx, struct sl_plugin_instance *ins)
{
	size_t total = ctx->regex.n + ctx->exclude.n;
	int rc = 0;

	if (!ctx->logical_op || strcasecmp(ctx->logical_op, "legacy") == 0) {
		ctx->op = OP_LEGACY;
	} else if (strcasecmp(ctx->logical_op, "AND") == 0) {
		ctx->op = OP_AND;
	} else if (strcasecmp(ctx->logical_op, "OR") == 0) {
		ctx->op = OP_OR;
	} else {
		sl_plugin_error(ins, 0,
				"Logical_Op '%s': expected legacy, AND or OR",
				ctx->logical_op);
		rc = -SL_ECONFIG;
	}
	if (total == 0)
		return rc;
	ctx->rules = calloc(total, sizeof(*ctx->rules));
	if (!ctx->rules)
		return -SL_ENOMEM;
	for (int pass = 0; pass < 2; pass++) {
		const struct sl_cfg_kvlist *m =
		    pass ? &ctx->exclude : &ctx->regex;

		for (size_t i = 0; i < m->n; i++) {
			int r = add_rule(ctx, ins, &m->items[i], pass == 1);

			if (r == -SL_ENOMEM)
				return r;
			if (r < 0)
				rc = r;
		}
	}
	/* Rules run in the order they were written, whatever their kind. */
	for (size_t i = 1; i < ctx->n_rules; i++)
		for (size_t j = i; j > 0 && cmp_line(ctx->rules[j - 1].line,
						     ctx->rules[j].line) > 0;
		     j--) {
			struct l2m_rule t = ctx->rules[j];

			ctx->rules[j] = ctx->rules[j - 1];
			ctx->rules[j - 1] = t;
		}
	return rc;
}

/* Appends one label; takes `name` (freed on error). */
static int push_label(struct l2m_ctx *ctx, struct sl_plugin_instance *ins,
		      char *name, const char *spec, int line)
{
	struct l2m_label *l = &ctx->labels[ctx->n_labels];
	const char *aerr = "";

	if (!name)
		return -SL_ENOMEM;
	if (!sl_metrics_valid_label_name(name)) {
		sl_plugin_error(ins, line,
				"label name '%s' is not a valid Prometheus "
				"label name",
				name);
		free(name);
		return -SL_ECONFIG;
	}
	for (size_t i = 0; i < ctx->n_labels; i++)
		if (strcmp(ctx->labels[i].name, name) == 0) {
			sl_plugin_error(ins, line, "label '%s' given twice",
					name);
			free(name);
			return -SL_ECONFIG;
		}
	l->acc = sl_accessor_create(spec, &aerr);
	if (!l->acc) {
		sl_plugin_error(ins, line, "bad record accessor '%s': %s", spec,
				aerr);
		free(name);
		return -SL_ECONFIG;
	}
	l->name = name;
	l->line = line;
	ctx->n_labels++;
	return 0;
}

/*
 * Label_field FIELD: the label is named after the field. For a nested
 * accessor ($a['b']) that would not be a valid label name, so sluice uses
 * its last key ("b") where Fluent Bit would emit "$a['b']".
 */
static int label_field(struct l2m_ctx *ctx, struct sl_plugin_instance *ins,
		       const struct sl_cfg_item *it)
{
	const char *aerr = "", *last;
	struct sl_accessor *acc = sl_accessor_create(it->value, &aerr);
	char *name;

	if (!acc) {
		sl_plugin_error(ins, it->line, "Label_field '%s': %s",
				it->value, aerr);
		return -SL_ECONFIG;
	}
	last = sl_accessor_last_key(acc);
	name = last ? strdup(last) : NULL;
	sl_accessor_destroy(acc);
	if (!last) {
		sl_plugin_error(ins, it->line,
				"Label_field '%s': the last step is an array "
				"index, use Add_label NAME ACCESSOR",
				it->value);
		return -SL_ECONFIG;
	}
	return push_label(ctx, ins, name, it->value, it->line);
}

/* "NAME ACCESSOR", split by the config map (SL_CFG_KV). */
static int add_label(struct l2m_ctx *ctx, struct sl_plugin_instance *ins,
		     const struct sl_cfg_kv *it)
{
	return push_label(ctx, ins, strdup(it->key), it->value, it->line);
}

static int build_labels(struct l2m_ctx *ctx, struct sl_plugin_instance *ins)
{
	size_t nk = ctx->kubernetes_mode
			? sizeof(k8s_labels) / sizeof(k8s_labels[0])
			: 0;
	size_t total = nk + ctx->add_label.n + ctx->label_field.n;
	size_t ia = 0, il = 0;
	char spec[64];
	int rc = 0;

	if (total > SL_METRICS_MAX_LABELS) {
		sl_plugin_error(ins, 0, "too many labels: %zu (at most %d)",
				total, SL_METRICS_MAX_LABELS);
		return -SL_ECONFIG;
	}
	if (total == 0)
		return 0;
	ctx->labels = calloc(total, sizeof(*ctx->labels));
	ctx->val_off = calloc(total, sizeof(*ctx->val_off));
	ctx->val_ptr = calloc(total, sizeof(*ctx->val_ptr));
	if (!ctx->labels || !ctx->val_off || !ctx->val_ptr)
		return -SL_ENOMEM;
	/* Kubernetes labels first, as in Fluent Bit. */
	for (size_t i = 0; i < nk; i++) {
		snprintf(spec, sizeof(spec), "$kubernetes['%s']",
			 k8s_labels[i]);
		rc = push_label(ctx, ins, strdup(k8s_labels[i]), spec, 0);
		if (rc < 0)
			return rc;
	}
	/* Then Add_label and Label_field in the order they were written. */
	while (ia < ctx->add_label.n || il < ctx->label_field.n) {
		bool take_add = il == ctx->label_field.n ||
				(ia < ctx->add_label.n &&
				 ctx->add_label.items[ia].line <
				     ctx->label_field.items[il].line);
		int r =
		    take_add
			? add_label(ctx, ins, &ctx->add_label.items[ia++])
			: label_field(ctx, ins, &ctx->label_field.items[il++]);

		if (r == -SL_ENOMEM)
			return r;
		if (r < 0)
			rc = r;
	}
	return rc;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * Bucket values: one or more numbers per line (Fluent Bit takes one), sorted
 * ascending as Fluent Bit does. `*out` is owned by the caller.
 */
static int build_buckets(struct l2m_ctx *ctx, struct sl_plugin_instance *ins,
			 double **out, size_t *n_out)
{
	size_t n = 0, cap = 0;
	double *b = NULL;
	int rc = 0;

	for (size_t i = 0; i < ctx->bucket.n; i++) {
		const char *p = ctx->bucket.items[i].value;

		for (;;) {
			char *end;
			double v;

			p += strspn(p, " \t,");
			if (!*p)
				break;
			v = strtod(p, &end);
			if (end == p || !isfinite(v) ||
			    (*end && !strchr(" \t,", *end))) {
				sl_plugin_error(ins, ctx->bucket.items[i].line,
						"Bucket '%s': not a finite "
						"number",
						ctx->bucket.items[i].value);
				rc = -SL_ECONFIG;
				break;
			}
			if (n == cap) {
				double *nb;

				cap = cap ? cap * 2 : 16;
				nb = realloc(b, cap * sizeof(*b));
				if (!nb) {
					free(b);
					return -SL_ENOMEM;
				}
				b = nb;
			}
			b[n++] = v;
			p = end;
		}
	}
	if (n)
		qsort(b, n, sizeof(*b), cmp_double);
	for (size_t i = 1; i < n; i++)
		if (b[i] == b[i - 1]) {
			sl_plugin_error(ins, ctx->bucket.items[0].line,
					"Bucket %g given twice", b[i]);
			rc = -SL_ECONFIG;
			break;
		}
	*out = b;
	*n_out = n;
	return rc;
}

/* `<namespace>_<subsystem>_<name>`, empty parts left out (as cmetrics). */
static char *full_name(const struct l2m_ctx *ctx)
{
	const char *sub =
	    ctx->subsystem && *ctx->subsystem ? ctx->subsystem : ctx->mode_name;
	const char *parts[] = {ctx->ns ? ctx->ns : "", sub,
			       ctx->metric_name ? ctx->metric_name : ""};
	size_t len = 1;
	char *s;

	for (size_t i = 0; i < 3; i++)
		len += strlen(parts[i]) + 1;
	s = malloc(len);
	if (!s)
		return NULL;
	s[0] = '\0';
	for (size_t i = 0; i < 3; i++) {
		if (!*parts[i])
			continue;
		if (s[0])
			strcat(s, "_");
		strcat(s, parts[i]);
	}
	return s;
}

static int build_family(struct l2m_ctx *ctx, struct sl_plugin_instance *ins,
			const double *buckets, size_t n_buckets)
{
	static const enum sl_metric_type types[] = {
	    [MODE_COUNTER] = SL_METRIC_COUNTER,
	    [MODE_GAUGE] = SL_METRIC_GAUGE,
	    [MODE_HISTOGRAM] = SL_METRIC_HISTOGRAM,
	};
	const char *names[SL_METRICS_MAX_LABELS], *err = NULL;
	char *name = full_name(ctx);

	if (!name)
		return -SL_ENOMEM;
	if (!sl_metrics_valid_name(name)) {
		sl_plugin_error(ins, 0,
				"metric name '%s' is not a valid Prometheus "
				"metric name",
				name);
		free(name);
		return -SL_ECONFIG;
	}
	for (size_t i = 0; i < ctx->n_labels; i++)
		names[i] = ctx->labels[i].name;
	ctx->fam = sl_plugin_metric_family(
	    ins, name, ctx->desc, types[ctx->mode], names, ctx->n_labels,
	    buckets, n_buckets, (size_t)ctx->max_series, ctx->tag, &err);
	if (!ctx->fam) {
		int rc = err && strcmp(err, "out of memory") == 0 ? -SL_ENOMEM
								  : -SL_ECONFIG;

		if (rc == -SL_ECONFIG)
			sl_plugin_error(ins, 0, "metric '%s': %s", name,
					err ? err : "no metrics registry");
		free(name);
		return rc;
	}
	ctx->name = name;
	return 0;
}

static int l2m_init(void *data, struct sl_plugin_instance *ins)
{
	struct l2m_ctx *ctx = data;
	double *buckets = NULL;
	size_t n_buckets = 0;
	int rc = 0, r;

	ctx->ins = ins;

	if (!ctx->tag || !*ctx->tag) {
		sl_plugin_error(ins, 0, "Tag is required");
		rc = -SL_ECONFIG;
	}
	if (!ctx->desc || !*ctx->desc) {
		sl_plugin_error(ins, 0, "Metric_description is required");
		rc = -SL_ECONFIG;
	}
	if (!ctx->mode_name || strcasecmp(ctx->mode_name, "counter") == 0) {
		ctx->mode = MODE_COUNTER;
	} else if (strcasecmp(ctx->mode_name, "gauge") == 0) {
		ctx->mode = MODE_GAUGE;
	} else if (strcasecmp(ctx->mode_name, "histogram") == 0) {
		ctx->mode = MODE_HISTOGRAM;
	} else {
		sl_plugin_error(ins, 0,
				"Metric_mode '%s': expected counter, gauge or "
				"histogram",
				ctx->mode_name);
		rc = -SL_ECONFIG;
	}
	if (ctx->mode == MODE_GAUGE || ctx->mode == MODE_HISTOGRAM) {
		const char *aerr = "";

		if (!ctx->value_field || !*ctx->value_field) {
			sl_plugin_error(ins, 0,
					"Value_field is required with "
					"Metric_mode %s",
					ctx->mode_name);
			rc = -SL_ECONFIG;
		} else if (!(ctx->value_acc =
				 sl_accessor_create(ctx->value_field, &aerr))) {
			sl_plugin_error(ins, 0, "Value_field '%s': %s",
					ctx->value_field, aerr);
			rc = -SL_ECONFIG;
		}
	}
	if (ctx->bucket.n && ctx->mode != MODE_HISTOGRAM)
		sl_log(SL_LOG_WARN, sl_plugin_instance_name(ins),
		       "Bucket is only used with Metric_mode histogram");
	if ((r = build_rules(ctx, ins)) == -SL_ENOMEM)
		return r;
	rc = r < 0 ? r : rc;
	if ((r = build_labels(ctx, ins)) == -SL_ENOMEM)
		return r;
	rc = r < 0 ? r : rc;
	if (ctx->mode == MODE_HISTOGRAM) {
		if ((r = build_buckets(ctx, ins, &buckets, &n_buckets)) ==
		    -SL_ENOMEM)
			return r;
		rc = r < 0 ? r : rc;
	}
	if (rc == 0) {
		if (ctx->mode == MODE_HISTOGRAM && n_buckets == 0)
			rc = build_family(ctx, ins, default_buckets,
					  sizeof(default_buckets) /
					      sizeof(default_buckets[0]));
		else
			rc = build_family(ctx, ins, buckets, n_buckets);
	}
	free(buckets);
	return rc;
}

static void l2m_destroy(void *data)
{
	struct l2m_ctx *ctx = data;

	for (size_t i = 0; i < ctx->n_rules; i++) {
		sl_accessor_destroy(ctx->rules[i].acc);
		sl_regex_destroy(ctx->rules[i].re);
	}
	free(ctx->rules);
	ctx->rules = NULL;
	ctx->n_rules = 0;
	for (size_t i = 0; i < ctx->n_labels; i++) {
		free(ctx->labels[i].name);
		sl_accessor_destroy(ctx->labels[i].acc);
	}
	free(ctx->labels);
	ctx->labels = NULL;
	ctx->n_labels = 0;
	sl_accessor_destroy(ctx->value_acc);
	ctx->value_acc = NULL;
	free(ctx->scratch.buf);
	ctx->scratch.buf = NULL;
	ctx->scratch.cap = 0;
	sl_buf_destroy(&ctx->vals);
	free(ctx->val_off);
	free(ctx->val_ptr);
	ctx->val_off = NULL;
	ctx->val_ptr = NULL;
	ctx->fam = NULL;
	free(ctx->name);
	ctx->name = NULL;
}

/* ---- per record ------------------------------------------------------------
 */

static bool rule_matches(struct l2m_ctx *ctx, struct sl_record *rec,
			 const struct l2m_rule *r)
{
	return sl_regex_match_field(rec, r->acc, r->re, &ctx->scratch);
}

static bool selected(struct l2m_ctx *ctx, struct sl_record *rec)
{
	if (ctx->op == OP_LEGACY) {
		/* the first Regex decides; a matching Exclude drops */
		for (size_t i = 0; i < ctx->n_rules; i++) {
			const struct l2m_rule *r = &ctx->rules[i];
			bool m = rule_matches(ctx, rec, r);

			if (r->exclude && m)
				return false;
			if (!r->exclude)
				return m;
		}
		return true;
	}
	/*
	 * AND: every rule holds; OR: one does. A Regex holds when it
	 * matches, an Exclude when it does not.
	 */
	for (size_t i = 0; i < ctx->n_rules; i++) {
		const struct l2m_rule *r = &ctx->rules[i];
		bool holds = rule_matches(ctx, rec, r) != r->exclude;

		if (ctx->op == OP_OR && holds)
			return true;
		if (ctx->op == OP_AND && !holds)
			return false;
	}
	return ctx->op == OP_AND || ctx->n_rules == 0;
}

static bool is_integer_literal(const char *s, size_t len)
{
	return !memchr(s, '.', len) && !memchr(s, 'e', len) &&
	       !memchr(s, 'E', len);
}

/*
 * Appends the label's value and a NUL to ctx->vals: a string unescaped,
 * an integer as written, another number as "%f" (Fluent Bit's rendering of
 * floats), anything else (absent, bool, null, object, array) empty.
 */
static int label_value(struct l2m_ctx *ctx, struct sl_record *rec,
		       const struct l2m_label *l)
{
	struct sl_value v;
	const char *text = "";
	size_t len = 0;
	char num[64];

	if (sl_record_get(rec, l->acc, &v) == 0) {
		if (v.type == SL_VAL_STRING) {
			if (sl_record_get_text(rec, l->acc, &ctx->scratch,
					       &text, &len) < 0) {
				text = "";
				len = 0;
			}
		} else if (v.type == SL_VAL_NUMBER) {
			if (is_integer_literal(v.raw, v.raw_len) ||
			    v.raw_len >= sizeof(num)) {
				text = v.raw;
				len = v.raw_len;
			} else {
				memcpy(num, v.raw, v.raw_len);
				num[v.raw_len] = '\0';
				len = (size_t)snprintf(num, sizeof(num), "%f",
						       strtod(num, NULL));
				len = len < sizeof(num) ? len : sizeof(num) - 1;
				text = num;
			}
		}
	}
	if (sl_buf_append(&ctx->vals, text, len) < 0 ||
	    sl_buf_append(&ctx->vals, "", 1) < 0)
		return -SL_ENOMEM;
	return 0;
}

/*
 * The Value_field as a number: a JSON number, or a string that starts with
 * one (as Fluent Bit's sscanf("%lf")). False when absent or not a number.
 */
static bool read_value(struct l2m_ctx *ctx, struct sl_record *rec, double *out)
{
	struct sl_value v;
	const char *text;
	size_t len;
	char buf[128], *end;

	if (sl_record_get(rec, ctx->value_acc, &v) < 0)
		return false;
	if (v.type == SL_VAL_NUMBER) {
		text = v.raw;
		len = v.raw_len;
	} else if (v.type == SL_VAL_STRING) {
		if (sl_record_get_text(rec, ctx->value_acc, &ctx->scratch,
				       &text, &len) < 0)
			return false;
	} else {
		return false;
	}
	if (len >= sizeof(buf))
		len = sizeof(buf) - 1;
	memcpy(buf, text, len);
	buf[len] = '\0';
	*out = strtod(buf, &end);
	return end != buf && !isnan(*out);
}

static void record_metric(struct l2m_ctx *ctx, struct sl_record *rec)
{
	struct sl_metric_series *s;
	double value = 0;

	if (ctx->mode != MODE_COUNTER && !read_value(ctx, rec, &value)) {
		sl_log(SL_LOG_DEBUG, "log_to_metrics",
		       "%s: Value_field '%s' absent or not a number", ctx->name,
		       ctx->value_field);
		return;
	}
	sl_buf_reset(&ctx->vals);
	for (size_t i = 0; i < ctx->n_labels; i++) {
		ctx->val_off[i] = ctx->vals.len;
		if (label_value(ctx, rec, &ctx->labels[i]) < 0)
			return; /* out of memory: this update is lost */
	}
	/* pointers only once vals stopped growing */
	for (size_t i = 0; i < ctx->n_labels; i++)
		ctx->val_ptr[i] = ctx->vals.data + ctx->val_off[i];
	s = sl_plugin_metric_series(ctx->ins, ctx->fam, ctx->val_ptr);
	if (!s)
		return; /* over Max_Series (counted by the registry) or ENOMEM
			 */
	switch (ctx->mode) {
	case MODE_COUNTER:
		sl_metric_add(s, 1);
		break;
	case MODE_GAUGE:
		sl_metric_set(s, value);
		break;
	case MODE_HISTOGRAM:
		sl_metric_observe(ctx->fam, s, value);
		break;
	}
}

static enum sl_filter_verdict l2m_filter(void *data, struct sl_record *rec,
					 const char *tag, size_t tag_len)
{
	struct l2m_ctx *ctx = data;

	(void)tag;
	(void)tag_len;
	if (ctx->fam && selected(ctx, rec))
		record_metric(ctx, rec);
	return ctx->discard_logs ? SL_FILTER_DROP : SL_FILTER_KEEP;
}

#define L2M(f) offsetof(struct l2m_ctx, f)
static const struct sl_cfg_option l2m_config[] = {
    {.name = "tag",
     .type = SL_CFG_STR,
     .flags = SL_CFG_REQUIRED,
     .offset = L2M(tag),
     .desc = "tag the metrics are emitted under (required)"},
    {.name = "metric_mode",
     .type = SL_CFG_STR,
     .def = "counter",
     .offset = L2M(mode_name),
     .desc = "counter, gauge or histogram"},
    {.name = "metric_name",
     .type = SL_CFG_STR,
     .def = "a",
     .offset = L2M(metric_name),
     .desc = "name of the metric"},
    {.name = "metric_description",
     .type = SL_CFG_STR,
     .flags = SL_CFG_REQUIRED,
     .offset = L2M(desc),
     .desc = "help text of the metric (required)"},
    {.name = "metric_namespace",
     .type = SL_CFG_STR,
     .def = "log_metric",
     .offset = L2M(ns),
     .desc = "first part of the full name"},
    {.name = "metric_subsystem",
     .type = SL_CFG_STR,
     .offset = L2M(subsystem),
     .desc = "second part of the full name (default: the mode)"},
    {.name = "value_field",
     .type = SL_CFG_STR,
     .offset = L2M(value_field),
     .desc = "accessor of the number for gauge and histogram"},
    {.name = "bucket",
     .type = SL_CFG_STR,
     .flags = SL_CFG_MULTI,
     .offset = L2M(bucket),
     .desc = "histogram bucket upper bound(s)"},
    {.name = "add_label",
     .type = SL_CFG_KV,
     .flags = SL_CFG_MULTI,
     .offset = L2M(add_label),
     .desc = "NAME ACCESSOR: a label read from the record"},
    {.name = "label_field",
     .type = SL_CFG_STR,
     .flags = SL_CFG_MULTI,
     .offset = L2M(label_field),
     .desc = "FIELD: a label named after the field (last key)"},
    {.name = "regex",
     .type = SL_CFG_KV,
     .flags = SL_CFG_MULTI | SL_CFG_VERBATIM,
     .offset = L2M(regex),
     .desc = "KEY REGEX: records to count"},
    {.name = "exclude",
     .type = SL_CFG_KV,
     .flags = SL_CFG_MULTI | SL_CFG_VERBATIM,
     .offset = L2M(exclude),
     .desc = "KEY REGEX: records not to count"},
    {.name = "logical_op",
     .type = SL_CFG_STR,
     .def = "legacy",
     .offset = L2M(logical_op),
     .desc = "legacy, AND or OR: how the rules combine"},
    {.name = "discard_logs",
     .type = SL_CFG_BOOL,
     .def = "off",
     .offset = L2M(discard_logs),
     .desc = "drop every record afterwards"},
    {.name = "kubernetes_mode",
     .type = SL_CFG_BOOL,
     .def = "off",
     .offset = L2M(kubernetes_mode),
     .desc = "labels namespace_name, pod_name, container_name, "
	     "docker_id, pod_id from $kubernetes"},
    {.name = "max_series",
     .type = SL_CFG_INT,
     .def = "1000",
     .min = 1,
     .max = 10000000,
     .offset = L2M(max_series),
     .desc = "label sets per metric at most; more are counted in "
	     "sluice_metrics_series_dropped_total"},
    {.name = "flush_interval_sec", .type = SL_CFG_INT, .flags = SL_CFG_IGNORED},
    {.name = "flush_interval_nsec",
     .type = SL_CFG_INT,
     .flags = SL_CFG_IGNORED},
    {.name = "emitter_name", .type = SL_CFG_STR, .flags = SL_CFG_IGNORED},
    {.name = "emitter_mem_buf_limit",
     .type = SL_CFG_SIZE,
     .flags = SL_CFG_IGNORED},
    SL_CFG_END,
};

const struct sl_filter_plugin sl_filter_log_to_metrics = {
    .name = "log_to_metrics",
    .description = "derive counters, gauges and histograms from records",
    .config_map = l2m_config,
    .ctx_size = sizeof(struct l2m_ctx),
    .init = l2m_init,
    .destroy = l2m_destroy,
    .filter = l2m_filter,
};
