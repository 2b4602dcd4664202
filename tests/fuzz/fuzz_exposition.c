/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_exposition.c - arbitrary bytes as help text, label values, constant
 * label values, a metric name and a sample value, rendered in the
 * Prometheus text format. The result must be valid UTF-8, every line a
 * well-formed HELP, TYPE or sample line (escapes complete, no raw newline
 * inside a value), with the expected number of samples.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sl_json.h"
#include "sl_metrics_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_SEGS 8

static bool name_ok(const char **p, bool colon)
{
	const char *s = *p;

	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
	      *s == '_' || (colon && *s == ':')))
		return false;
	while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
	       (*s >= '0' && *s <= '9') || *s == '_' || (colon && *s == ':'))
		s++;
	*p = s;
	return true;
}

/* name{l="v",...} number\n -- returns false on any deviation. */
static bool sample_ok(const char *s, const char *end)
{
	if (!name_ok(&s, true))
		return false;
	if (*s == '{') {
		s++;
		for (;;) {
			if (!name_ok(&s, false) || *s++ != '=' || *s++ != '"')
				return false;
			while (s < end && *s != '"') {
				if (*s == '\\') {
					s++;
					if (*s != '\\' && *s != '"' &&
					    *s != 'n')
						return false;
				}
				s++;
			}
			if (s >= end || *s++ != '"')
				return false;
			if (*s == ',') {
				s++;
				continue;
			}
			if (*s++ != '}')
				return false;
			break;
		}
	}
	if (*s++ != ' ' || s >= end)
		return false;
	if ((end - s == 3 && strncmp(s, "NaN", 3) == 0) ||
	    (end - s == 4 &&
	     (strncmp(s, "+Inf", 4) == 0 || strncmp(s, "-Inf", 4) == 0)))
		return true;
	char *num_end;
	strtod(s, &num_end);
	return num_end == end && *s != ' ';
}

static size_t check(const char *text, size_t len)
{
	size_t samples = 0;
	const char *p = text, *end = text + len;

	if (!sl_utf8_valid(text, len) || (len && text[len - 1] != '\n'))
		abort();
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (strncmp(p, "# HELP ", 7) == 0 ||
		    strncmp(p, "# TYPE ", 7) == 0) {
			/* backslashes in help are complete escapes */
			for (const char *q = p + 7; q < nl; q++)
				if (*q == '\\' &&
				    (++q == nl || (*q != '\\' && *q != 'n')))
					abort();
		} else if (!sample_ok(p, nl)) {
			abort();
		} else {
			samples++;
		}
		p = nl + 1;
	}
	return samples;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const double buckets[] = {0.5, 1, 1e300};
	const char *labels[] = {"a", "b"};
	char *segs[MAX_SEGS] = {0};
	size_t n_segs = 0, pos = 9;
	struct sl_metrics reg;
	struct sl_buf out = {0};
	enum sl_metric_type type;
	double value = 0;
	const char *err, *name;

	if (size < 9)
		return 0;
	type = (enum sl_metric_type)(data[0] % 3 + 1);
	memcpy(&value, data + 1, sizeof(value));
	/* the rest: NUL-separated segments */
	while (pos <= size && n_segs < MAX_SEGS) {
		const uint8_t *z = memchr(data + pos, 0, size - pos);
		size_t n = z ? (size_t)(z - (data + pos)) : size - pos;

		segs[n_segs] = strndup((const char *)data + pos, n);
		if (!segs[n_segs])
			goto out;
		n_segs++;
		pos += n + 1;
	}
	while (n_segs < 4) {
		segs[n_segs] = strdup("");
		if (!segs[n_segs++])
			goto out;
	}
	/* segs: help, name candidate, constant label value, label values... */
	name = (data[0] & 0x80) ? segs[1] : "fuzz_metric";
	sl_metrics_init(&reg);
	struct sl_metric_family *f = sl_metrics_family(
	    &reg, name, segs[0], type, labels, 2, buckets, 3, &err);
	size_t series = 0;
	if (f) {
		for (size_t i = 3; i < n_segs; i += 2) {
			const char *v[2] = {segs[i],
					    i + 1 < n_segs ? segs[i + 1] : ""};
			struct sl_metric_series *s =
			    sl_metric_series_get(&reg, f, v);

			if (!s)
				continue;
			if (type == SL_METRIC_HISTOGRAM)
				sl_metric_observe(f, s, value);
			else
				sl_metric_add(s, value);
		}
		series = f->n_series;
	}
	const struct sl_metrics_label add[] = {{"env", segs[2]},
					       {"a", "shadowed"}};
	const struct sl_metrics_text_opts o = {.labels = add, .n_labels = 2};
	if (sl_metrics_text_render(&reg, &o, &out) == 0) {
		size_t got = check(out.data ? out.data : "", out.len);
		size_t per = type == SL_METRIC_HISTOGRAM ? 3 + 1 + 2 : 1;

		if (f && sl_metrics_valid_name(name) && got != series * per)
			abort();
		if (!sl_metrics_valid_name(name) && got != 0)
			abort();
	}
	sl_buf_destroy(&out);
	sl_metrics_destroy(&reg);
out:
	for (size_t i = 0; i < n_segs; i++)
		free(segs[i]);
	return 0;
}
