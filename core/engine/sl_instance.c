/* SPDX-License-Identifier: Apache-2.0 */
/* sl_instance.c - what all plugin instances share: names, errors, lookups. */
#include "sl_instance.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sl_instance_init(struct sl_plugin_instance *ins, const char *plugin,
		     const char *name, const char *file, int line)
{
	memset(ins, 0, sizeof(*ins));
	ins->name = strdup(name);
	if (!ins->name)
		return -SL_ENOMEM;
	ins->plugin = plugin;
	ins->file = file;
	ins->line = line;
	return 0;
}

void sl_instance_destroy(struct sl_plugin_instance *ins)
{
	free(ins->name);
	ins->name = NULL;
}

void sl_plugin_error(const struct sl_plugin_instance *ins, int line,
		     const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ins->diag)
		sl_diag_add(ins->diag, ins->file, line > 0 ? line : ins->line,
			    "%s: %s", ins->plugin, msg);
	else
		sl_log(SL_LOG_ERROR, ins->name, "%s", msg);
}

const char *sl_plugin_instance_name(const struct sl_plugin_instance *ins)
{
	return ins->name;
}

const char *sl_plugin_instance_file(const struct sl_plugin_instance *ins)
{
	return ins->file;
}

int sl_plugin_instance_line(const struct sl_plugin_instance *ins)
{
	return ins->line;
}

const struct sl_parsers *
sl_instance_parsers(const struct sl_plugin_instance *ins)
{
	return ins->parsers;
}

struct sl_metrics *sl_instance_metrics(const struct sl_plugin_instance *ins)
{
	return ins->metrics;
}

struct event_base *sl_instance_base(const struct sl_plugin_instance *ins)
{
	return ins->base;
}
