/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_engine_schema.c - the part of `sluice -J` shaped as Fluent Bit's
 * `fluent-bit -J` schema ({"fluent-bit": {version, schema_version, os},
 * "customs", "inputs", "processors", "filters", "outputs"}, each plugin
 * {type, name, description, properties: {global_options, options}} and
 * each option {name, description, default, type} with Fluent Bit's type
 * words), so tools that read Fluent Bit's schema read sluice's plugins.
 * Options sluice accepts without effect are left out: a schema lists
 * what does something.
 */
#include "sl_engine_int.h"
#include "sl_cfgmap.h"
#include "sl_registry.h"

#ifndef SLUICE_VERSION
#define SLUICE_VERSION "0.1.0"
#endif

static const char *type_word(const struct sl_cfg_option *o)
{
	if (o->flags & SL_CFG_PREFIX)
		return "prefixed string";
	switch (o->type) {
	case SL_CFG_INT:
		return "integer";
	case SL_CFG_BOOL:
		return "boolean";
	case SL_CFG_SIZE:
		return "size";
	case SL_CFG_DOUBLE:
		return "double";
	case SL_CFG_TIME:
		return "time";
	case SL_CFG_SLIST:
		return "multiple comma delimited strings";
	case SL_CFG_KV:
		return "space delimited strings (minimum 2)";
	case SL_CFG_STR:
	default:
		return "string";
	}
}

static void options(FILE *out, const struct sl_cfg_option *map)
{
	size_t n = 0;

	fputc('[', out);
	for (const struct sl_cfg_option *o = map; o && o->name; o++) {
		if (o->flags & SL_CFG_IGNORED)
			continue;
		fputs(n++ ? ",{\"name\":" : "{\"name\":", out);
		sl_cfgmap_json_string(out, o->name);
		fputs(",\"description\":", out);
		sl_cfgmap_json_string(out, o->desc ? o->desc : "");
		fputs(",\"default\":", out);
		if (o->def)
			sl_cfgmap_json_string(out, o->def);
		else
			fputs("null", out);
		fputs(",\"type\":", out);
		sl_cfgmap_json_string(out, type_word(o));
		fputc('}', out);
	}
	fputc(']', out);
}

static void plugin(FILE *out, bool first, const char *type, const char *name,
		   const char *desc, const struct sl_cfg_option *common,
		   const struct sl_cfg_option *map)
{
	fputs(first ? "{\"type\":" : ",{\"type\":", out);
	sl_cfgmap_json_string(out, type);
	fputs(",\"name\":", out);
	sl_cfgmap_json_string(out, name);
	fputs(",\"description\":", out);
	sl_cfgmap_json_string(out, desc ? desc : "");
	fputs(",\"properties\":{\"global_options\":", out);
	options(out, common);
	fputs(",\"options\":", out);
	options(out, map);
	fputs("}}", out);
}

void sl_engine_help_schema(FILE *out)
{
	fputs(",\"fluent-bit\":{\"version\":", out);
	sl_cfgmap_json_string(out, SLUICE_VERSION);
	fputs(",\"schema_version\":\"1\",\"os\":\"linux\"},\"customs\":[]"
	      ",\"inputs\":[",
	      out);
	for (size_t i = 0; sl_input_plugins[i]; i++)
		plugin(out, i == 0, "input", sl_input_plugins[i]->name,
		       sl_input_plugins[i]->description,
		       sl_engine_common_map(SL_SEC_INPUT),
		       sl_input_plugins[i]->config_map);
	fputs("],\"processors\":[],\"filters\":[", out);
	for (size_t i = 0; sl_filter_plugins[i]; i++)
		plugin(out, i == 0, "filter", sl_filter_plugins[i]->name,
		       sl_filter_plugins[i]->description,
		       sl_engine_common_map(SL_SEC_FILTER),
		       sl_filter_plugins[i]->config_map);
	fputs("],\"outputs\":[", out);
	for (size_t i = 0; sl_output_plugins[i]; i++)
		plugin(out, i == 0, "output", sl_output_plugins[i]->name,
		       sl_output_plugins[i]->description,
		       sl_engine_common_map(SL_SEC_OUTPUT),
		       sl_output_plugins[i]->config_map);
	fputc(']', out);
}
