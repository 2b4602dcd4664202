/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_registry.h - the compiled-in plugins, one array per kind. Adding a
 * plugin means adding its folder to the build: its meson.build names its
 * table, and core/registry/ generates the list sl_registry.c includes;
 * nothing else refers to plugins by name.
 */
#ifndef SL_REGISTRY_H
#define SL_REGISTRY_H

#include "sl_input.h"
#include "sl_output.h"

extern const struct sl_input_plugin *const sl_input_plugins[];
extern const struct sl_filter_plugin *const sl_filter_plugins[];
extern const struct sl_output_plugin *const sl_output_plugins[];

/* Case-insensitive lookups; NULL when unknown. */
const struct sl_input_plugin *sl_registry_input(const char *name);
const struct sl_filter_plugin *sl_registry_filter(const char *name);
const struct sl_output_plugin *sl_registry_output(const char *name);

#endif
