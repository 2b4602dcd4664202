/* SPDX-License-Identifier: Apache-2.0 */
/* sl_instance.c - what all plugin instances share: names, errors, lookups. */
#include "sl_instance.h"
#include "sl_conf.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

static bool word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-';
}

/*
 * The entry of the section whose key the message names first, as a whole
 * word ("Dummy is not a JSON object", "es: Cloud_ID ..."): most plugins
 * report with line 0 or the section's, and the option's line is more use
 * than the header's.
 */
static const struct sl_conf_entry *
named_entry(const struct sl_conf_section *sec, const char *msg)
{
	const struct sl_conf_entry *best = NULL;
	const char *best_at = NULL;

	for (size_t i = 0; sec && i < sec->n; i++) {
		const char *key = sec->entries[i].key;
		size_t n = strlen(key);

		if (!n || strcasecmp(key, "name") == 0)
			continue;
		for (const char *p = msg; *p; p++) {
			if (strncasecmp(p, key, n) != 0 ||
			    (p > msg && word_char(p[-1])) || word_char(p[n]))
				continue;
			if (!best_at || p < best_at) {
				best_at = p;
				best = &sec->entries[i];
			}
			break;
		}
	}
	return best;
}

void sl_plugin_error(const struct sl_plugin_instance *ins, int line,
		     const char *fmt, ...)
{
	char msg[1024];
	const char *text = msg;
	size_t plen = strlen(ins->plugin);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* a message that names its plugin itself is not prefixed twice */
	if (strncasecmp(msg, ins->plugin, plen) == 0 && msg[plen] == ':' &&
	    msg[plen + 1] == ' ')
		text = msg + plen + 2;
	if (ins->diag) {
		/* the header's line (what sl_plugin_instance_line gives) is
		 * only a fallback: the option named in the text is better */
		const struct sl_conf_entry *e =
		    line > 0 && line != ins->line
			? NULL
			: named_entry(ins->section, text);

		if (e && e->line > 0)
			line = e->line;
		sl_diag_add(ins->diag, e && e->file ? e->file : ins->file,
			    line > 0 ? line : ins->line, "%s: %s", ins->plugin,
			    text);
	} else {
		sl_log(SL_LOG_ERROR, ins->name, "%s", text);
	}
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
