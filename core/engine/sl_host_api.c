/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_host_api.c - the table of host functions that plugins call through
 * (struct sluice_host_api, sluice_plugin.h): the loader hands it to every
 * shared object, and the built-in filters use the same table, so the ABI is
 * exercised by every run. The few services that need the engine's state
 * (metrics registry, parsers) are reached through the instance here.
 */
#include "sl_host_api.h"
#include "sl_instance.h"
#include "sl_json.h"
#include "sl_log.h"
#include "sl_metrics.h"
#include "sl_metrics_text.h"
#include "sl_parser.h"
#include "sl_record.h"
#include "sl_regex.h"
#include "sl_uuid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

SL_ABI_PRINTF(3, 0)
static void host_vlog(enum sl_log_level level, const char *component,
		      const char *fmt, va_list ap)
{
	char msg[4096];

	if (level == SL_LOG_OFF || !sl_log_enabled(level))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	sl_log(level, component, "%s", msg);
}

SL_ABI_PRINTF(3, 0)
static void host_verror(const struct sl_plugin_instance *ins, int line,
			const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	sl_plugin_error(ins, line, "%s", msg);
}

bool sl_plugin_metric_exists(const struct sl_plugin_instance *ins,
			     const char *name)
{
	return ins->metrics && sl_metrics_find(ins->metrics, name) != NULL;
}

struct sl_metric_family *
sl_plugin_metric_family(const struct sl_plugin_instance *ins, const char *name,
			const char *help, enum sl_metric_type type,
			const char *const *label_names, size_t n_labels,
			const double *buckets, size_t n_buckets,
			size_t max_series, const char *scope, const char **err)
{
	struct sl_metric_family *f;
	bool existed;

	*err = NULL;
	if (!ins->metrics)
		return NULL; /* unit tests run filters without a registry */
	existed = sl_metrics_find(ins->metrics, name) != NULL;
	f = sl_metrics_family(ins->metrics, name, help, type, label_names,
			      n_labels, buckets, n_buckets, err);
	if (!f)
		return NULL;
	if (!existed) {
		f->max_series = max_series;
		if (scope && !(f->scope = strdup(scope))) {
			*err = "out of memory";
			return NULL; /* the empty family stays, unscoped */
		}
		return f;
	}
	if ((f->scope == NULL) != (scope == NULL) ||
	    (scope && strcmp(f->scope, scope) != 0)) {
		*err = "is already emitted under another Tag; instances "
		       "sharing a metric must use the same Tag";
		return NULL;
	}
	if (f->max_series != max_series)
		sl_log(SL_LOG_WARN, ins->name,
		       "metric '%s': Max_Series %zu ignored, the family keeps "
		       "%zu",
		       name, max_series, f->max_series);
	return f;
}

struct sl_metric_series *
sl_plugin_metric_series(const struct sl_plugin_instance *ins,
			struct sl_metric_family *fam,
			const char *const *label_values)
{
	if (!ins->metrics || !fam)
		return NULL;
	return sl_metric_series_get(ins->metrics, fam, label_values);
}

const struct sl_parser *
sl_plugin_parser_find(const struct sl_plugin_instance *ins, const char *name)
{
	return ins->parsers ? sl_parsers_find(ins->parsers, name) : NULL;
}

#define SLOT(name, params, args)       .name = name,
#define SLOTV(name, ret, params, args) .name = name,
static const struct sluice_host_api host_api = {
    .abi_major = SL_ABI_MAJOR,
    .abi_minor = SL_ABI_MINOR,
    .struct_size = sizeof(struct sluice_host_api),
    .sl_vlog = host_vlog,
    .sl_plugin_verror = host_verror,
    SL_HOST_API_1_0(SLOT, SLOTV) SL_HOST_API_1_1(SLOT, SLOTV)};
#undef SLOT
#undef SLOTV

/* Built-in filters call through the table as shared objects do. */
const struct sluice_host_api *sluice_host = &host_api;

const struct sluice_host_api *sl_host_api(void)
{
	return &host_api;
}
