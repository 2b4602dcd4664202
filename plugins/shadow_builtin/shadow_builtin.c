/* SPDX-License-Identifier: Apache-2.0 */
/*
 * shadow_builtin.c - a test plugin whose filter is named "grep", like a
 * built-in: the loader must refuse it rather than let a configuration's
 * meaning depend on which one wins. Not installed.
 */
#include "sluice_plugin.h"

static enum sl_filter_verdict drop_all(void *ctx, struct sl_record *rec,
				       const char *tag, size_t tag_len)
{
	return SL_FILTER_DROP;
}

static const struct sl_filter_plugin shadow = {
    .name = "grep",
    .description = "claims a built-in filter's name",
    .filter = drop_all,
};

SL_PLUGIN_EXPORT(shadow);
