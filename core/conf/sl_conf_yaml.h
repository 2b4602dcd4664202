/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_conf_yaml.h - Fluent Bit's YAML configuration format (sl_conf_yaml.c).
 * sl_conf.c dispatches to it for .yaml/.yml names.
 */
#ifndef SL_CONF_YAML_H
#define SL_CONF_YAML_H

#include "sl_conf.h"

/*
 * Reads `path`, appending sections (values not yet expanded) and `env`
 * variables to `conf`; follows `includes` relative to the including file.
 * Returns 0, or -SL_ECONFIG after adding diagnostics.
 */
int sl_conf_yaml_load(struct sl_conf *conf, const char *path,
		      struct sl_diag *diag);

#endif
