/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_plugin_load.h - filters from shared objects listed in Plugins_File:
 * loaded, gated by ABI version and sizes, bound to the host table, and
 * copied into host-layout tables that the engine then uses like built-ins.
 */
#ifndef SL_PLUGIN_LOAD_H
#define SL_PLUGIN_LOAD_H

#include "sl_common.h"
#include "sl_conf.h"
#include "sl_diag.h"

struct sl_loaded_plugin {
	const struct sl_filter_plugin *filter; /* == &own->table, or a test's */
	void *handle; /* dlopen handle, closed after the filters are gone */
	struct sl_loaded_copy *own; /* owned: host-layout copies */
};

/*
 * Loads every Path of the [PLUGINS] sections of `conf`, appending to
 * *loaded / *n (the caller frees them with sl_plugin_unload_all, also on
 * error). Each refusal is reported to `diag` with its file and line.
 * Returns 0, -SL_ECONFIG or -SL_ENOMEM.
 */
int sl_plugin_load_all(const struct sl_conf *conf,
		       struct sl_loaded_plugin **loaded, size_t *n,
		       struct sl_diag *diag);
/* Unloads and frees; call after every instance of the filters is gone. */
void sl_plugin_unload_all(struct sl_loaded_plugin *loaded, size_t n);

/*
 * Copies a NULL-name-terminated config map whose elements are `elem_size`
 * bytes (the plugin's sizeof) into a new host-layout array: shorter
 * elements are zero-extended, longer ones cut. NULL on ENOMEM or when
 * elem_size is below the 1.0 size (*n_out then 0). Exposed for tests.
 */
struct sl_cfg_option *sl_plugin_copy_options(const void *map, size_t elem_size,
					     size_t *n_out);

#endif
