/* SPDX-License-Identifier: Apache-2.0 */
/*
 * abi_mismatch.c - a test plugin that claims a future ABI major version, so
 * the tests can check that sluice refuses it with a clear error instead of
 * calling into a table whose layout it does not know. Not installed.
 */
#include "sluice_plugin.h"

static const struct sl_filter_plugin future_plugin = {
    .name = "future",
    .description = "built against ABI 99",
};

const struct sl_plugin_export sluice_plugin = {
    .abi_major = 99,
    .abi_minor = 0,
    .filter = &future_plugin,
};
