/* SPDX-License-Identifier: Apache-2.0 */
/*
 * null.c - the null output: every chunk is acknowledged and discarded. For
 * benchmarks and for pipelines kept only for their metrics. It formats
 * nothing, so Fluent Bit's format options are accepted and ignored.
 */
#include "sl_output.h"

#include <stddef.h>

struct null_ctx {
	int unused;
};

static const struct sl_cfg_option null_config[] = {
    {.name = "format",
     .type = SL_CFG_STR,
     .flags = SL_CFG_IGNORED,
     .desc = "Fluent Bit's test formatter: nothing is formatted here"},
    {.name = "json_date_key",
     .type = SL_CFG_STR,
     .flags = SL_CFG_IGNORED,
     .desc = "Fluent Bit's test formatter option, ignored"},
    {.name = "json_date_format",
     .type = SL_CFG_STR,
     .flags = SL_CFG_IGNORED,
     .desc = "Fluent Bit's test formatter option, ignored"},
    SL_CFG_END,
};

static int null_init(void *ctx, struct sl_output *out)
{
	return 0;
}

static void null_flush(void *ctx, void *worker, struct sl_flush *fl)
{
	sl_flush_done(fl, SL_FLUSH_OK);
}

static void null_destroy(void *ctx)
{
}

const struct sl_output_plugin sl_output_null = {
    .name = "null",
    .description = "Throws away events",
    .config_map = null_config,
    .ctx_size = sizeof(struct null_ctx),
    .init = null_init,
    .flush = null_flush,
    .destroy = null_destroy,
};
