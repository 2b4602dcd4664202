/* SPDX-License-Identifier: Apache-2.0 */
/*
 * old_layout.c - a test plugin shaped like those built before the host
 * table: its export is only major 1, minor 0 and a filter pointer, and (as
 * old_linked.so, with OLD_LINKS_HOST) it calls a host function directly.
 * The loader must refuse both with a message saying to rebuild, without
 * reading past the small export. Written without sluice_plugin.h on
 * purpose. Not installed.
 */
#include <stddef.h>
#include <stdint.h>

struct old_filter {
	const char *name;
	const char *description;
};

struct old_export {
	uint32_t abi_major;
	uint32_t abi_minor;
	const struct old_filter *filter;
};

#ifdef OLD_LINKS_HOST
/* resolved from the executable by the old loader; the new one exports none */
extern const char *sl_strerror(int err);
const char *old_layout_strerror(int err);
const char *old_layout_strerror(int err)
{
	return sl_strerror(err);
}
#endif

static const struct old_filter old_filter = {
    .name = "old_layout",
    .description = "built for the pre-table ABI",
};

extern const struct old_export sluice_plugin;
const struct old_export sluice_plugin = {
    .abi_major = 1,
    .abi_minor = 0,
    .filter = &old_filter,
};
