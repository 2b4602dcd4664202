/* SPDX-License-Identifier: Apache-2.0 */
/*
 * correlate.c - gives every record one correlation ID under Target_Key: the
 * first of `Keys` present with a usable value (a non-empty string, or a
 * number as its text; a W3C traceparent contributes its trace-id), else a
 * new UUIDv7 when Generate is on. Counts found and generated IDs in
 * sluice_correlate_found_total{name} / sluice_correlate_generated_total{name}.
 * It never drops a record and never removes the key the ID came from.
 */
#include "sluice_plugin.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "correlate.h"

#define DEFAULT_KEYS                                                           \
	"correlation_id,correlationId,x_correlation_id,x-correlation-id,"      \
	"request_id,requestId,reqId,trace_id,traceId,otelTraceID,traceparent"

struct corr_key {
	struct sl_accessor *acc; /* owned */
	bool traceparent;	 /* its last key is "traceparent" */
};

struct corr_ctx {
	/* config map */
	struct sl_strlist keys;
	char *target_key;
	bool generate, traceparent;
	/* built by init */
	struct corr_key *k; /* owned */
	size_t n_keys;
	struct sl_accessor *target; /* owned */
	size_t target_len;
	struct sl_metric_series *found, *generated; /* borrowed; may be NULL */
	struct sl_text scratch;			    /* owned */
	struct sl_text target_scratch;		    /* owned */
};

static bool is_hex_lower(const char *s, size_t n, bool *all_zero)
{
	*all_zero = true;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
		if (c != '0')
			*all_zero = false;
	}
	return true;
}

int sl_correlate_traceparent(const char *s, size_t len, const char **trace_id)
{
	bool zero;

	/* version "-" trace-id(32) "-" parent-id(16) "-" flags(2) = 55 */
	if (len < 55 || s[2] != '-' || s[35] != '-' || s[52] != '-')
		return -SL_EPARSE;
	if (!is_hex_lower(s, 2, &zero) || memcmp(s, "ff", 2) == 0)
		return -SL_EPARSE;
	/* version 00 has exactly these fields; later ones may add "-..." */
	if (memcmp(s, "00", 2) == 0 ? len != 55 : (len > 55 && s[55] != '-'))
		return -SL_EPARSE;
	if (!is_hex_lower(s + 3, 32, &zero) || zero)
		return -SL_EPARSE;
	if (!is_hex_lower(s + 36, 16, &zero) || zero)
		return -SL_EPARSE;
	if (!is_hex_lower(s + 53, 2, &zero))
		return -SL_EPARSE;
	*trace_id = s + 3;
	return 0;
}

/*
 * The instance's series of counter `name`. Returns 0 (*out NULL when there
 * is no registry: unit tests, not counted) or -SL_ENOMEM.
 */
static int counter(struct sl_plugin_instance *ins, const char *name,
		   const char *help, struct sl_metric_series **out)
{
	static const char *const labels[] = {"name"};
	const char *values[] = {sl_plugin_instance_name(ins)}, *err;
	struct sl_metric_family *f;

	/* max_series 0: one series per instance, never refused */
	f = sl_plugin_metric_family(ins, name, help, SL_METRIC_COUNTER, labels,
				    1, NULL, 0, 0, NULL, &err);
	*out = f ? sl_plugin_metric_series(ins, f, values) : NULL;
	return (f || err) && !*out ? -SL_ENOMEM : 0;
}

static int corr_init(void *data, struct sl_plugin_instance *ins)
{
	struct corr_ctx *ctx = data;
	const char *err = "";
	int rc = 0;

	if (!ctx->target_key || !*ctx->target_key) {
		sl_plugin_error(ins, 0, "Target_Key must not be empty");
		return -SL_ECONFIG;
	}
	ctx->target_len = strlen(ctx->target_key);
	ctx->target = sl_accessor_create(ctx->target_key, &err);
	if (!ctx->target)
		return -SL_ENOMEM; /* a plain key always compiles */
	if (ctx->keys.n) {
		ctx->k = calloc(ctx->keys.n, sizeof(*ctx->k));
		if (!ctx->k)
			return -SL_ENOMEM;
	}
	for (size_t i = 0; i < ctx->keys.n; i++) {
		struct corr_key *k = &ctx->k[ctx->n_keys];
		const char *last;

		k->acc = sl_accessor_create(ctx->keys.v[i], &err);
		if (!k->acc) {
			sl_plugin_error(ins, 0, "Keys: bad key '%s': %s",
					ctx->keys.v[i], err);
			rc = -SL_ECONFIG;
			continue;
		}
		last = sl_accessor_last_key(k->acc);
		k->traceparent = last && strcasecmp(last, "traceparent") == 0;
		ctx->n_keys++;
	}
	if (rc < 0)
		return rc;
	if (counter(ins, "sluice_correlate_found_total",
		    "Records whose correlation ID was found in one of the Keys",
		    &ctx->found) < 0 ||
	    counter(ins, "sluice_correlate_generated_total",
		    "Records given a new UUIDv7 correlation ID",
		    &ctx->generated) < 0)
		return -SL_ENOMEM;
	return 0;
}

static void corr_destroy(void *data)
{
	struct corr_ctx *ctx = data;

	for (size_t i = 0; i < ctx->n_keys; i++)
		sl_accessor_destroy(ctx->k[i].acc);
	free(ctx->k);
	ctx->k = NULL;
	ctx->n_keys = 0;
	sl_accessor_destroy(ctx->target);
	ctx->target = NULL;
	free(ctx->scratch.buf);
	free(ctx->target_scratch.buf);
	memset(&ctx->scratch, 0, sizeof(ctx->scratch));
	memset(&ctx->target_scratch, 0, sizeof(ctx->target_scratch));
}

/*
 * The ID a key holds, borrowed from the record or ctx->scratch: a non-empty
 * string or a number's text; a traceparent yields its trace-id when
 * Traceparent is on (an invalid one yields nothing).
 */
static bool key_value(struct corr_ctx *ctx, struct sl_record *rec,
		      const struct corr_key *k, const char **id, size_t *len)
{
	struct sl_value v;

	if (sl_record_get(rec, k->acc, &v) < 0 ||
	    (v.type != SL_VAL_STRING && v.type != SL_VAL_NUMBER))
		return false;
	if (sl_record_get_text(rec, k->acc, &ctx->scratch, id, len) < 0 ||
	    *len == 0)
		return false;
	if (k->traceparent && ctx->traceparent) {
		const char *tid;

		if (sl_correlate_traceparent(*id, *len, &tid) < 0)
			return false;
		*id = tid;
		*len = 32;
	}
	return true;
}

/* True when Target_Key already holds exactly this string. */
static bool target_holds(struct corr_ctx *ctx, struct sl_record *rec,
			 const char *id, size_t len)
{
	struct sl_value v;
	const char *cur;
	size_t cur_len;

	if (sl_record_get(rec, ctx->target, &v) < 0 || v.type != SL_VAL_STRING)
		return false;
	if (sl_record_get_text(rec, ctx->target, &ctx->target_scratch, &cur,
			       &cur_len) < 0)
		return false;
	return cur_len == len && memcmp(cur, id, len) == 0;
}

static enum sl_filter_verdict corr_filter(void *data, struct sl_record *rec,
					  const char *tag, size_t tag_len)
{
	struct corr_ctx *ctx = data;
	char uuid[SL_UUID_STR_LEN + 1];
	const char *id;
	size_t len;

	(void)tag;
	(void)tag_len;
	for (size_t i = 0; i < ctx->n_keys; i++) {
		if (!key_value(ctx, rec, &ctx->k[i], &id, &len))
			continue;
		if (ctx->found)
			sl_metric_add(ctx->found, 1);
		if (target_holds(ctx, rec, id, len))
			return SL_FILTER_KEEP;
		/*
		 * `id` may point into the record's body; set_string reads
		 * it before the body is replaced (double buffer).
		 */
		if (sl_record_set_string(rec, ctx->target_key, ctx->target_len,
					 id, len) < 0)
			sl_log(SL_LOG_WARN, "correlate",
			       "out of memory: record kept without its ID");
		return SL_FILTER_KEEP;
	}
	if (!ctx->generate || sl_uuid_v7_string(uuid) < 0)
		return SL_FILTER_KEEP;
	if (sl_record_set_string(rec, ctx->target_key, ctx->target_len, uuid,
				 SL_UUID_STR_LEN) == 0 &&
	    ctx->generated)
		sl_metric_add(ctx->generated, 1);
	return SL_FILTER_KEEP;
}

#define CORR(f) offsetof(struct corr_ctx, f)
static const struct sl_cfg_option corr_config[] = {
    {.name = "keys",
     .type = SL_CFG_SLIST,
     .def = DEFAULT_KEYS,
     .offset = CORR(keys),
     .desc = "fields to take the ID from, first found wins "
	     "(accessors allowed)"},
    {.name = "target_key",
     .type = SL_CFG_STR,
     .def = "correlation_id",
     .offset = CORR(target_key),
     .desc = "top-level key the ID is set in"},
    {.name = "generate",
     .type = SL_CFG_BOOL,
     .def = "on",
     .offset = CORR(generate),
     .desc = "set a new UUIDv7 when no key holds an ID"},
    {.name = "traceparent",
     .type = SL_CFG_BOOL,
     .def = "on",
     .offset = CORR(traceparent),
     .desc = "a W3C traceparent key yields its trace-id"},
    SL_CFG_END,
};

const struct sl_filter_plugin sl_filter_correlate = {
    .name = "correlate",
    .description = "give every record one correlation ID",
    .config_map = corr_config,
    .ctx_size = sizeof(struct corr_ctx),
    .init = corr_init,
    .destroy = corr_destroy,
    .filter = corr_filter,
};
