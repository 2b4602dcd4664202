/* SPDX-License-Identifier: Apache-2.0 */
/*
 * abi_1_0.c - a test plugin built for plugin ABI 1.0 (the oldest minor of
 * major 1): it declares minor 0 and uses only 1.0 functions, so it must load
 * into any 1.x host, including one with a larger minor. It sets the field
 * Key to the string Value. Built a second time claiming a future minor
 * (abi_future_minor.so) to check that a newer plugin is refused. Not
 * installed.
 */
#ifndef SL_PLUGIN_ABI_MINOR
#define SL_PLUGIN_ABI_MINOR 0
#endif
#include "sluice_plugin.h"

#include <string.h>

struct abi10_ctx {
	char *key;
	char *value;
};

static int abi10_init(void *data, struct sl_plugin_instance *ins)
{
	struct abi10_ctx *ctx = data;

	if (!ctx->key || !*ctx->key) {
		sl_plugin_error(ins, 0, "Key must not be empty");
		return -SL_ECONFIG;
	}
	return 0;
}

static enum sl_filter_verdict abi10_filter(void *data, struct sl_record *rec,
					   const char *tag, size_t tag_len)
{
	struct abi10_ctx *ctx = data;
	const char *v = ctx->value ? ctx->value : "";

	if (sl_record_set_string(rec, ctx->key, strlen(ctx->key), v,
				 strlen(v)) < 0)
		sl_log(SL_LOG_WARN, "abi_1_0", "could not set '%s'", ctx->key);
	return SL_FILTER_KEEP;
}

static const struct sl_cfg_option abi10_config[] = {
    {.name = "key",
     .type = SL_CFG_STR,
     .flags = SL_CFG_REQUIRED,
     .offset = offsetof(struct abi10_ctx, key),
     .desc = "field to set"},
    {.name = "value",
     .type = SL_CFG_STR,
     .def = "1.0",
     .offset = offsetof(struct abi10_ctx, value),
     .desc = "its string value"},
    SL_CFG_END,
};

static const struct sl_filter_plugin abi10 = {
    .name = "abi_1_0",
    .description = "sets one field; built for ABI 1.0",
    .config_map = abi10_config,
    .ctx_size = sizeof(struct abi10_ctx),
    .init = abi10_init,
    .filter = abi10_filter,
};

SL_PLUGIN_EXPORT(abi10);
