/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_cfgmap.h - applies a config section to plugin contexts through their
 * config maps (struct sl_cfg_option, in sluice_plugin.h): defaults first,
 * then the section's entries, with type, range, repetition and unknown-key
 * checks. Also the value parsers shared by every option type, and the
 * rendering of a map for `sluice -h` and, as JSON, for `sluice -J`.
 */
#ifndef SL_CFGMAP_H
#define SL_CFGMAP_H

#include "sl_conf.h"
#include "sl_common.h"

#include <stdio.h>

/* One map and the context it fills. */
struct sl_cfgmap_target {
	const struct sl_cfg_option *map;
	void *ctx;
};

/*
 * Fills every target from `sec`. A key is looked up in the targets in
 * order; keys listed in `skip` (NULL-terminated, e.g. {"name", NULL}) are
 * consumed by the caller and not checked. `what` names the section in
 * messages ("input 'tail'"). Unknown keys, repeated non-MULTI keys, bad
 * values and missing REQUIRED options are added to `diag` with the entry's
 * (or section's) file:line. SL_CFG_IGNORED keys are logged once at info.
 * Returns 0 or -SL_ECONFIG. On error the targets may be partly filled;
 * sl_cfgmap_release() cleans them either way.
 */
int sl_cfgmap_apply(const struct sl_cfgmap_target *targets, size_t n_targets,
		    const struct sl_conf_section *sec, const char *const *skip,
		    const char *what, struct sl_diag *diag);
/* Frees what apply stored into ctx (strings, lists) and zeroes those fields. */
void sl_cfgmap_release(const struct sl_cfg_option *map, void *ctx);
/* Prints one line per option: name, type, default, description. */
void sl_cfgmap_help(const struct sl_cfg_option *map, FILE *out);
/*
 * The same options as sl_cfgmap_help() as one JSON array of objects {name,
 * type, default (string or null), required, multi, prefix, [min, max],
 * description}: the data `sluice -J` prints and the man pages are built from.
 */
void sl_cfgmap_help_json(const struct sl_cfg_option *map, FILE *out);
/* Writes `s` as a JSON string literal (quotes, escapes; NULL as ""). */
void sl_cfgmap_json_string(FILE *out, const char *s);

/* Value parsers; each returns 0 or -SL_EINVAL. */
int sl_cfg_parse_bool(const char *s, bool *out);
int sl_cfg_parse_int(const char *s, int64_t *out);
int sl_cfg_parse_size(const char *s, int64_t *out); /* K/M/G = 10^3.. */
int sl_cfg_parse_double(const char *s, double *out);
int sl_cfg_parse_time(const char *s, double *out); /* s/m/h/d suffixes */

/* Splits "KEY REST" at the first run of spaces, no quoting (older options;
 * new ones are SL_CFG_KV). */
int sl_cfg_split_pair(const char *s, char **key, char **rest);
/*
 * Splits `s` as an SL_CFG_KV value (sluice_plugin.h) into out->key and
 * out->value (owned by *out; file and line untouched). `flags` are the
 * option's: with SL_CFG_VERBATIM the VALUE is everything after the one
 * blank that ends KEY, as written. Returns 0, -SL_EINVAL (no KEY or no
 * VALUE), -SL_EPARSE (an unterminated quote) or -SL_ENOMEM; *out is
 * unchanged on error.
 */
int sl_cfg_split_kv(const char *s, unsigned flags, struct sl_cfg_kv *out);

#endif
