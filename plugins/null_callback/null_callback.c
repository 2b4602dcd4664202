/* SPDX-License-Identifier: Apache-2.0 */
/*
 * null_callback.c - a test plugin whose filter table has no filter
 * callback: the loader must refuse it with a clear error instead of letting
 * the engine call a NULL pointer for the first record. Not installed.
 */
#include "sluice_plugin.h"

static const struct sl_filter_plugin null_callback = {
    .name = "null_callback",
    .description = "has no filter callback",
};

SL_PLUGIN_EXPORT(null_callback);
