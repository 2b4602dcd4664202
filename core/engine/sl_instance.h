/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_instance.h - what every plugin instance (input, filter, output) has in
 * common: its name for metrics and logs, where it was declared, and the
 * engine it belongs to. Opaque to plugins (sluice_plugin.h).
 */
#ifndef SL_INSTANCE_H
#define SL_INSTANCE_H

#include "sl_common.h"
#include "sl_diag.h"

struct sl_conf_section;
struct sl_engine;
struct sl_parsers;

struct sl_plugin_instance {
	const char *plugin; /* plugin name, static */
	char *name;	    /* owned: Alias or "<plugin>.<n>" */
	const char *file;   /* section header location (interned) */
	int line;
	struct sl_engine *engine; /* borrowed; NULL in unit tests */
	struct sl_diag *diag; /* where init errors go; NULL after start-up */
	/* borrowed, valid while diag is set: finds an option's line */
	const struct sl_conf_section *section;
	const struct sl_parsers *parsers; /* borrowed: Parsers_File parsers */
	struct sl_metrics *metrics;	  /* borrowed: the registry */
	struct event_base *base;	  /* borrowed: the engine's loop */
};

/* Fills the common fields; `name` is copied. 0 or -SL_ENOMEM. */
int sl_instance_init(struct sl_plugin_instance *ins, const char *plugin,
		     const char *name, const char *file, int line);
void sl_instance_destroy(struct sl_plugin_instance *ins);

/* The parsers declared by Parsers_File, for plugins that take `Parser`. */
const struct sl_parsers *
sl_instance_parsers(const struct sl_plugin_instance *ins);
struct sl_metrics *sl_instance_metrics(const struct sl_plugin_instance *ins);
struct event_base *sl_instance_base(const struct sl_plugin_instance *ins);

#endif
