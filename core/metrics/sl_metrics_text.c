/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_metrics_text.c - the Prometheus text exposition format 0.0.4 from the
 * registry: HELP/TYPE once per family, escaped label values, cumulative
 * histogram buckets ending with le="+Inf", then _sum and _count. Output is
 * always valid UTF-8 (invalid bytes in help or label values become U+FFFD).
 * It does not do the OpenMetrics format, summaries or content negotiation.
 */
#include "sl_metrics_text.h"
#include "sl_json.h"
#include "sl_log.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool name_char(char c, bool first, bool colon)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
		return true;
	if (colon && c == ':')
		return true;
	return !first && c >= '0' && c <= '9';
}

bool sl_metrics_valid_name(const char *name)
{
	if (!name || !*name)
		return false;
	for (size_t i = 0; name[i]; i++)
		if (!name_char(name[i], i == 0, true))
			return false;
	return true;
}

bool sl_metrics_valid_label_name(const char *name)
{
	if (!name || !*name || strncmp(name, "__", 2) == 0)
		return false;
	for (size_t i = 0; name[i]; i++)
		if (!name_char(name[i], i == 0, false))
			return false;
	return true;
}

bool sl_metrics_filter_internal(const struct sl_metric_family *fam, void *arg)
{
	(void)arg;
	return fam->scope == NULL;
}

static size_t copy_str(char *buf, const char *s)
{
	size_t n = strlen(s);

	memcpy(buf, s, n + 1);
	return n;
}

size_t sl_metrics_format_number(char buf[SL_METRICS_NUM_MAX], double v)
{
	int n = 0;

	if (isnan(v))
		return copy_str(buf, "NaN");
	if (isinf(v))
		return copy_str(buf, v > 0 ? "+Inf" : "-Inf");
	if (v == 0)
		return copy_str(buf, "0");
	/* integers as integers: counters read "15", never "1.5e+01" */
	if (v == trunc(v) && fabs(v) < 1e17) {
		n = snprintf(buf, SL_METRICS_NUM_MAX, "%.0f", v);
		return (size_t)n;
	}
	/* the shortest of 15..17 digits that reads back to the same double */
	for (int prec = 15; prec <= 17; prec++) {
		n = snprintf(buf, SL_METRICS_NUM_MAX, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	return (size_t)n;
}

static int put(struct sl_buf *b, const char *s)
{
	return sl_buf_append(b, s, strlen(s));
}

/*
 * Appends `s` escaped: backslash and newline always, the double quote when
 * `quoted` (label values). Invalid UTF-8 is repaired through `scratch`
 * first, so the exposition stays UTF-8 whatever bytes came from logs.
 */
static int put_escaped(struct sl_buf *b, const char *s, bool quoted,
		       struct sl_buf *scratch)
{
	size_t len = strlen(s), run = 0;

	if (!sl_utf8_valid(s, len)) {
		sl_buf_reset(scratch);
		if (sl_utf8_repair(scratch, s, len) < 0)
			return -SL_ENOMEM;
		s = scratch->data;
		len = scratch->len;
	}
	for (size_t i = 0; i < len; i++) {
		const char *esc = NULL;

		if (s[i] == '\\')
			esc = "\\\\";
		else if (s[i] == '\n')
			esc = "\\n";
		else if (s[i] == '"' && quoted)
			esc = "\\\"";
		if (!esc)
			continue;
		if (sl_buf_append(b, s + run, i - run) < 0 || put(b, esc) < 0)
			return -SL_ENOMEM;
		run = i + 1;
	}
	return sl_buf_append(b, s + run, len - run);
}

struct render {
	const struct sl_metrics_text_opts *opts;
	struct sl_buf *out;
	struct sl_buf scratch;
};

static bool family_has_label(const struct sl_metric_family *f, const char *name)
{
	for (size_t i = 0; i < f->n_labels; i++)
		if (strcmp(f->label_names[i], name) == 0)
			return true;
	return false;
}

static int put_label(struct render *r, bool *first, const char *name,
		     const char *value)
{
	struct sl_buf *b = r->out;

	if (put(b, *first ? "{" : ",") < 0 || put(b, name) < 0 ||
	    put(b, "=\"") < 0 || put_escaped(b, value, true, &r->scratch) < 0 ||
	    put(b, "\"") < 0)
		return -SL_ENOMEM;
	*first = false;
	return 0;
}

/* name{family labels,constant labels[,le="..."]} value[ timestamp]\n */
static int put_sample(struct render *r, const struct sl_metric_family *f,
		      const struct sl_metric_series *s, const char *suffix,
		      const char *le, double value)
{
	const struct sl_metrics_text_opts *o = r->opts;
	struct sl_buf *b = r->out;
	char num[SL_METRICS_NUM_MAX];
	bool first = true;
	size_t n;

	if (put(b, f->name) < 0 || put(b, suffix) < 0)
		return -SL_ENOMEM;
	for (size_t i = 0; i < f->n_labels; i++)
		if (put_label(r, &first, f->label_names[i],
			      s->label_values[i]) < 0)
			return -SL_ENOMEM;
	for (size_t i = 0; i < o->n_labels; i++) {
		const char *name = o->labels[i].name;

		if (!sl_metrics_valid_label_name(name) ||
		    family_has_label(f, name) ||
		    (f->type == SL_METRIC_HISTOGRAM && strcmp(name, "le") == 0))
			continue;
		if (put_label(r, &first, name, o->labels[i].value) < 0)
			return -SL_ENOMEM;
	}
	if (le && put_label(r, &first, "le", le) < 0)
		return -SL_ENOMEM;
	if (!first && put(b, "}") < 0)
		return -SL_ENOMEM;
	n = sl_metrics_format_number(num, value);
	if (put(b, " ") < 0 || sl_buf_append(b, num, n) < 0)
		return -SL_ENOMEM;
	if (o->timestamp_ms > 0) {
		n = (size_t)snprintf(num, sizeof(num), " %lld",
				     (long long)o->timestamp_ms);
		if (sl_buf_append(b, num, n) < 0)
			return -SL_ENOMEM;
	}
	return put(b, "\n");
}

static double load_double(const uint64_t *bits)
{
	uint64_t u = __atomic_load_n(bits, __ATOMIC_RELAXED);
	double v;

	memcpy(&v, &u, sizeof(v));
	return v;
}

static int put_histogram(struct render *r, const struct sl_metric_family *f,
			 const struct sl_metric_series *s)
{
	char le[SL_METRICS_NUM_MAX];
	uint64_t cum = 0;

	/*
	 * _count is the +Inf bucket by construction, so the two agree even
	 * when a worker observes between the loads.
	 */
	for (size_t i = 0; i <= f->n_buckets; i++) {
		cum += __atomic_load_n(&s->bucket_counts[i], __ATOMIC_RELAXED);
		if (i < f->n_buckets)
			sl_metrics_format_number(le, f->buckets[i]);
		else
			copy_str(le, "+Inf");
		if (put_sample(r, f, s, "_bucket", le, (double)cum) < 0)
			return -SL_ENOMEM;
	}
	if (put_sample(r, f, s, "_sum", NULL, load_double(&s->sum_bits)) < 0 ||
	    put_sample(r, f, s, "_count", NULL, (double)cum) < 0)
		return -SL_ENOMEM;
	return 0;
}

static const char *type_name(enum sl_metric_type t)
{
	switch (t) {
	case SL_METRIC_COUNTER:
		return "counter";
	case SL_METRIC_GAUGE:
		return "gauge";
	case SL_METRIC_HISTOGRAM:
		return "histogram";
	}
	return "untyped";
}

static bool family_renderable(const struct sl_metric_family *f)
{
	if (!sl_metrics_valid_name(f->name))
		return false;
	for (size_t i = 0; i < f->n_labels; i++) {
		if (!sl_metrics_valid_label_name(f->label_names[i]))
			return false;
		if (f->type == SL_METRIC_HISTOGRAM &&
		    strcmp(f->label_names[i], "le") == 0)
			return false;
	}
	return true;
}

static int put_family(struct render *r, const struct sl_metric_family *f)
{
	struct sl_buf *b = r->out;

	if (put(b, "# HELP ") < 0 || put(b, f->name) < 0 || put(b, " ") < 0 ||
	    put_escaped(b, f->help ? f->help : "", false, &r->scratch) < 0 ||
	    put(b, "\n# TYPE ") < 0 || put(b, f->name) < 0 || put(b, " ") < 0 ||
	    put(b, type_name(f->type)) < 0 || put(b, "\n") < 0)
		return -SL_ENOMEM;
	for (const struct sl_metric_series *s = f->series; s; s = s->next) {
		int rc;

		if (f->type == SL_METRIC_HISTOGRAM)
			rc = put_histogram(r, f, s);
		else
			rc = put_sample(r, f, s, "", NULL, sl_metric_value(s));
		if (rc < 0)
			return rc;
	}
	return 0;
}

int sl_metrics_text_render(const struct sl_metrics *reg,
			   const struct sl_metrics_text_opts *opts,
			   struct sl_buf *out)
{
	static const struct sl_metrics_text_opts all = {0};
	struct render r = {.opts = opts ? opts : &all, .out = out};
	int rc = 0;

	for (const struct sl_metric_family *f = reg->families; f; f = f->next) {
		if (!f->series)
			continue; /* nothing to say about it yet */
		if (r.opts->filter && !r.opts->filter(f, r.opts->filter_arg))
			continue;
		if (!family_renderable(f)) {
			sl_log(SL_LOG_DEBUG, "metrics",
			       "family with an invalid name or label skipped");
			continue;
		}
		if ((rc = put_family(&r, f)) < 0)
			break;
	}
	sl_buf_destroy(&r.scratch);
	return rc;
}
