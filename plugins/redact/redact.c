/* SPDX-License-Identifier: Apache-2.0 */
/*
 * redact.c - an example filter built as a shared object against the public
 * plugin ABI (sluice_plugin.h) only: it replaces the values of the listed
 * top-level keys (tokens, passwords) with a fixed mask before records leave
 * the node. Load it with Plugins_File; see plugins/README.md.
 */
#include "sluice_plugin.h"

#include <stdlib.h>
#include <string.h>

struct redact_ctx {
	struct sl_cfg_multi keys; /* config map: Key NAME, repeatable */
	char *mask;		  /* config map: Mask */
};

static const struct sl_cfg_option redact_map[] = {
    {.name = "key",
     .type = SL_CFG_STR,
     .flags = SL_CFG_MULTI | SL_CFG_REQUIRED,
     .offset = offsetof(struct redact_ctx, keys),
     .desc = "top-level key whose value is masked (repeatable)"},
    {.name = "mask",
     .type = SL_CFG_STR,
     .def = "[REDACTED]",
     .offset = offsetof(struct redact_ctx, mask),
     .desc = "text written instead of the value"},
    SL_CFG_END,
};

static int redact_init(void *data, struct sl_plugin_instance *ins)
{
	struct redact_ctx *ctx = data;

	for (size_t i = 0; i < ctx->keys.n; i++) {
		if (!ctx->keys.items[i].value[0]) {
			sl_plugin_error(ins, ctx->keys.items[i].line,
					"Key must name a field");
			return -SL_ECONFIG;
		}
	}
	return 0;
}

static enum sl_filter_verdict redact_filter(void *data, struct sl_record *rec,
					    const char *tag, size_t tag_len)
{
	struct redact_ctx *ctx = data;
	size_t mask_len = strlen(ctx->mask);

	(void)tag;
	(void)tag_len;
	for (size_t i = 0; i < ctx->keys.n; i++) {
		const char *key = ctx->keys.items[i].value;
		struct sl_accessor *acc;
		struct sl_value v;
		const char *err;

		/* top-level names only: an accessor lookup would be overkill */
		acc = sl_accessor_create(key, &err);
		if (!acc)
			continue;
		if (sl_record_get(rec, acc, &v) == 0)
			sl_record_set_string(rec, key, strlen(key), ctx->mask,
					     mask_len);
		sl_accessor_destroy(acc);
	}
	return SL_FILTER_KEEP;
}

static const struct sl_filter_plugin redact_plugin = {
    .name = "redact",
    .description = "mask the values of sensitive keys (example plugin)",
    .config_map = redact_map,
    .ctx_size = sizeof(struct redact_ctx),
    .init = redact_init,
    .filter = redact_filter,
};

SL_PLUGIN_EXPORT(redact_plugin);
