/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_correlate.c - arbitrary bytes as a record (a JSON body, or a line
 * when they are not an object) through the correlate filter with its
 * default Keys, then the same bytes through the traceparent parser. The
 * record must stay a valid object whose correlation_id is a string, and a
 * second pass must leave it unchanged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../filters/correlate/correlate.h"
#include "sl_cfgmap.h"
#include "sl_conf.h"
#include "sl_instance.h"
#include "sl_metrics.h"
#include "sl_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

extern const struct sl_filter_plugin sl_filter_correlate;

static void *ctx;
static struct sl_plugin_instance ins;
static struct sl_metrics reg;

/* One filter instance for the whole run, configured with its defaults. */
static int setup(void)
{
	static struct sl_conf conf;
	static struct sl_diag diag;
	const struct sl_filter_plugin *p = &sl_filter_correlate;
	struct sl_conf_section *sec;
	const char *file;

	sl_conf_init(&conf);
	file = sl_conf_intern_file(&conf, "fuzz.conf");
	sec = sl_conf_add_section(&conf, SL_SEC_FILTER, "FILTER", file, 1);
	if (!sec || sl_instance_init(&ins, p->name, p->name, file, 1) < 0)
		return -1;
	sl_metrics_init(&reg);
	ins.metrics = &reg;
	ins.diag = &diag;
	ctx = calloc(1, p->ctx_size);
	if (!ctx)
		return -1;
	struct sl_cfgmap_target t = {p->config_map, ctx};
	if (sl_cfgmap_apply(&t, 1, sec, NULL, p->name, &diag) < 0)
		return -1;
	return p->init(ctx, &ins);
}

static struct sl_accessor *target;

/* A valid, UTF-8 clean object whose correlation_id is a non-empty string. */
static void check(struct sl_record *rec)
{
	struct sl_view v = {0};
	struct sl_value val;
	size_t len;
	const char *b = sl_record_body(rec, &len), *err;

	if (!b)
		return; /* out of memory */
	if (!sl_utf8_valid(b, len) || sl_view_build(&v, b, len) != 0)
		abort();
	sl_view_destroy(&v);
	if (!target && !(target = sl_accessor_create("correlation_id", &err)))
		abort();
	if (sl_record_get(rec, target, &val) < 0 || val.type != SL_VAL_STRING ||
	    val.raw_len < 3)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct sl_record rec;
	const char *text = (const char *)data, *tid;

	if (!ready) {
		if (setup() < 0)
			abort();
		ready = 1;
	}
	sl_record_init(&rec);
	if (sl_record_reset_json(&rec, 1, text, size) < 0)
		sl_record_reset_line(&rec, 1, "log", 3, text, size);
	if (sl_filter_correlate.filter(ctx, &rec, "t", 1) != SL_FILTER_KEEP)
		abort();
	check(&rec);
	/* twice: the second pass must find the ID and change nothing */
	{
		size_t len1, len2;
		const char *b1 = sl_record_body(&rec, &len1);
		char *copy = b1 ? malloc(len1 + 1) : NULL;

		if (copy) {
			memcpy(copy, b1, len1);
			sl_filter_correlate.filter(ctx, &rec, "t", 1);
			const char *b2 = sl_record_body(&rec, &len2);

			if (b2 && (len1 != len2 || memcmp(copy, b2, len1)))
				abort();
			free(copy);
		}
	}
	sl_record_destroy(&rec);
	if (sl_correlate_traceparent(text, size, &tid) == 0 &&
	    (tid != text + 3 || size < 55))
		abort();
	return 0;
}
