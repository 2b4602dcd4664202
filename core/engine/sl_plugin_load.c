/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_plugin_load.c - the Plugins_File loader (see sl_plugin_load.h). A
 * shared object is read as data before any of its code runs: version gate
 * (same major, host minor >= plugin minor), declared struct sizes, a filter
 * callback and a name that does not shadow a built-in. Only then does it get
 * the host table. The engine never sees the plugin's own structs: they are
 * copied with the plugin's element sizes into host-layout tables, so either
 * struct can grow at its end in a later minor version.
 */
#include "sl_plugin_load.h"
#include "sl_host_api.h"
#include "sl_registry.h"

#include <dlfcn.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct sl_loaded_copy {
	struct sl_filter_plugin table;
	struct sl_cfg_option *map; /* owned, host layout */
};

/* The sizes of ABI 1.0: nothing smaller can be a sluice plugin. */
#define EXPORT_SIZE_1_0                                                        \
	(offsetof(struct sl_plugin_export, host) + sizeof(void *))
#define FILTER_SIZE_1_0                                                        \
	(offsetof(struct sl_filter_plugin, filter) + sizeof(void (*)(void)))
#define OPTION_SIZE_1_0 (offsetof(struct sl_cfg_option, desc) + sizeof(char *))

struct sl_cfg_option *sl_plugin_copy_options(const void *map, size_t elem_size,
					     size_t *n_out)
{
	const char *p = map;
	struct sl_cfg_option *out;
	size_t n = 0, take;

	*n_out = 0;
	if (elem_size < OPTION_SIZE_1_0)
		return NULL;
	take = elem_size < sizeof(*out) ? elem_size : sizeof(*out);
	/* the name is the first member in every version: the terminator */
	for (;;) {
		const char *name;

		memcpy(&name, p + n * elem_size, sizeof(name));
		if (!name)
			break;
		n++;
	}
	out = calloc(n + 1, sizeof(*out));
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++)
		memcpy(&out[i], p + i * elem_size, take);
	*n_out = n;
	return out;
}

/*
 * The size the plugin gave the object at `addr` (its ELF symbol), or 0 when
 * unknown. It keeps the loader from reading past an export that is smaller
 * than the fields it is about to read.
 */
static size_t object_size(const void *addr)
{
	const ElfW(Sym) *sym = NULL;
	Dl_info info;

	if (!dladdr1(addr, &info, (void **)&sym, RTLD_DL_SYMENT) || !sym)
		return 0;
	return (size_t)sym->st_size;
}

/* Checks the export of `path`; on success fills `own`. */
static int check_export(const struct sl_plugin_export *exp,
			const struct sl_loaded_plugin *loaded, size_t n_loaded,
			const char *path, const struct sl_conf_entry *e,
			struct sl_loaded_copy *own, struct sl_diag *diag)
{
	size_t take, n_opts, size = object_size(exp);
	const struct sl_filter_plugin *f;

	if (size && size < 2 * sizeof(uint32_t)) {
		sl_diag_add(diag, e->file, e->line,
			    "'%s' is not a sluice plugin (its sluice_plugin "
			    "is %zu bytes)",
			    path, size);
		return -SL_ECONFIG;
	}
	if (exp->abi_major != SL_ABI_MAJOR) {
		sl_diag_add(diag, e->file, e->line,
			    "plugin '%s' was built for plugin ABI %u.%u; this "
			    "sluice has ABI %d.%d",
			    path, exp->abi_major, exp->abi_minor, SL_ABI_MAJOR,
			    SL_ABI_MINOR);
		return -SL_ECONFIG;
	}
	if (exp->abi_minor > SL_ABI_MINOR) {
		sl_diag_add(diag, e->file, e->line,
			    "plugin '%s' needs plugin ABI %u.%u; this sluice "
			    "has ABI %d.%d (upgrade sluice or rebuild the "
			    "plugin with SL_PLUGIN_ABI_MINOR %d)",
			    path, exp->abi_major, exp->abi_minor, SL_ABI_MAJOR,
			    SL_ABI_MINOR, SL_ABI_MINOR);
		return -SL_ECONFIG;
	}
	if (size && size < EXPORT_SIZE_1_0) {
		/* the layout before the host table: major and minor only */
		sl_diag_add(diag, e->file, e->line,
			    "plugin '%s' was built with a sluice_plugin.h "
			    "older than the host-table ABI %d.0 (its export "
			    "is %zu bytes); rebuild it",
			    path, SL_ABI_MAJOR, size);
		return -SL_ECONFIG;
	}
	if (exp->struct_size < EXPORT_SIZE_1_0 ||
	    exp->filter_size < FILTER_SIZE_1_0 ||
	    exp->option_size < OPTION_SIZE_1_0) {
		sl_diag_add(diag, e->file, e->line,
			    "plugin '%s' declares struct sizes (export %u, "
			    "filter %u, option %u bytes) below ABI 1.0's: "
			    "not built with sluice_plugin.h",
			    path, exp->struct_size, exp->filter_size,
			    exp->option_size);
		return -SL_ECONFIG;
	}
	if (!exp->filter || !exp->host) {
		sl_diag_add(diag, e->file, e->line,
			    "plugin '%s' exports no filter table or no host "
			    "table slot (use SL_PLUGIN_EXPORT)",
			    path);
		return -SL_ECONFIG;
	}
	/* the plugin's table, read with the plugin's size */
	take = exp->filter_size < sizeof(own->table) ? exp->filter_size
						     : sizeof(own->table);
	memcpy(&own->table, exp->filter, take);
	f = &own->table;
	if (!f->name || !*f->name) {
		sl_diag_add(diag, e->file, e->line,
			    "plugin '%s': its filter has no name", path);
		return -SL_ECONFIG;
	}
	if (!f->filter) {
		/* the engine would call it for every record */
		sl_diag_add(diag, e->file, e->line,
			    "plugin '%s': filter '%s' has no filter callback",
			    path, f->name);
		return -SL_ECONFIG;
	}
	if (sl_registry_filter(f->name)) {
		sl_diag_add(diag, e->file, e->line,
			    "plugin '%s': filter name '%s' is the name of a "
			    "built-in filter; a plugin cannot replace it",
			    path, f->name);
		return -SL_ECONFIG;
	}
	for (size_t i = 0; i < n_loaded; i++)
		if (strcasecmp(loaded[i].filter->name, f->name) == 0) {
			sl_diag_add(diag, e->file, e->line,
				    "plugin '%s': filter '%s' is already "
				    "loaded from another plugin",
				    path, f->name);
			return -SL_ECONFIG;
		}
	if (f->config_map) {
		own->map = sl_plugin_copy_options(f->config_map,
						  exp->option_size, &n_opts);
		if (!own->map)
			return -SL_ENOMEM;
		own->table.config_map = own->map;
	}
	return 0;
}

static int load_one(const struct sl_conf_entry *e,
		    struct sl_loaded_plugin **loaded, size_t *n,
		    struct sl_diag *diag)
{
	const struct sl_plugin_export *exp;
	struct sl_loaded_copy *own;
	struct sl_loaded_plugin *arr;
	void *h;
	int rc;

	/* RTLD_LOCAL: two plugins never see each other's symbols */
	h = dlopen(e->value, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *why = dlerror();

		/* a plugin that links against host symbols: the binary has
		 * none to give (the ABI is the table) */
		sl_diag_add(diag, e->file, e->line,
			    "cannot load plugin '%s': %s%s", e->value, why,
			    why && strstr(why, "undefined symbol: sl_")
				? " (built for a sluice that exported its "
				  "symbols; rebuild it against this "
				  "sluice_plugin.h)"
				: "");
		return -SL_ECONFIG;
	}
	exp = dlsym(h, "sluice_plugin");
	if (!exp) {
		sl_diag_add(diag, e->file, e->line,
			    "'%s' is not a sluice plugin (no sluice_plugin "
			    "symbol)",
			    e->value);
		dlclose(h);
		return -SL_ECONFIG;
	}
	own = calloc(1, sizeof(*own));
	if (!own) {
		dlclose(h);
		return -SL_ENOMEM;
	}
	rc = check_export(exp, *loaded, *n, e->value, e, own, diag);
	arr = rc == 0 ? realloc(*loaded, (*n + 1) * sizeof(*arr)) : NULL;
	if (!arr) {
		free(own->map);
		free(own);
		dlclose(h);
		return rc < 0 ? rc : -SL_ENOMEM;
	}
	/* bound before any plugin code (init) can run */
	*exp->host = sl_host_api();
	*loaded = arr;
	arr[*n].filter = &own->table;
	arr[*n].handle = h;
	arr[(*n)++].own = own;
	return 0;
}

int sl_plugin_load_all(const struct sl_conf *conf,
		       struct sl_loaded_plugin **loaded, size_t *n,
		       struct sl_diag *diag)
{
	int rc = 0;

	for (size_t i = 0; i < conf->n; i++) {
		const struct sl_conf_section *s = &conf->sections[i];

		if (s->kind != SL_SEC_PLUGINS)
			continue;
		for (size_t j = 0; j < s->n; j++) {
			const struct sl_conf_entry *e = &s->entries[j];
			int r;

			if (strcasecmp(e->key, "path") != 0) {
				sl_diag_add(
				    diag, e->file, e->line,
				    "[PLUGINS] takes only Path entries");
				rc = -SL_ECONFIG;
				continue;
			}
			r = load_one(e, loaded, n, diag);
			if (r == -SL_ENOMEM)
				return r;
			if (r < 0)
				rc = r;
		}
	}
	return rc;
}

void sl_plugin_unload_all(struct sl_loaded_plugin *loaded, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (loaded[i].handle)
			dlclose(loaded[i].handle);
		if (loaded[i].own) {
			free(loaded[i].own->map);
			free(loaded[i].own);
		}
	}
	free(loaded);
}
