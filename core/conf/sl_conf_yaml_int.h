/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_conf_yaml_int.h - what the YAML reader (sl_conf_yaml.c) shares with the
 * reader of its nested pipeline parts (sl_conf_yaml_pipeline.c: processors,
 * routes and their conditions). Private to core/conf.
 */
#ifndef SL_CONF_YAML_INT_H
#define SL_CONF_YAML_INT_H

#include "sl_conf.h"

#include <yaml.h>

/* The document being read; every pointer borrowed. */
struct sl_yaml_doc {
	struct sl_conf *conf;
	struct sl_diag *diag;
	yaml_document_t *doc;
	const char *file; /* interned */
};

/* sl_conf_yaml.c: `v` under `key` into `sec` (scalars, lists, dotted maps) */
void sl_yaml_add_value(const struct sl_yaml_doc *d, struct sl_conf_section *sec,
		       const char *key, yaml_node_t *v, int line);

/*
 * sl_conf_yaml_pipeline.c: `processors:` of the input or output section at
 * index `owner` (header "INPUT"/"OUTPUT"), and `routes:` of an input. Adds
 * SL_SEC_PROCESSOR / SL_SEC_ROUTE / SL_SEC_RULE sections owned by it, or
 * errors at the offending line.
 */
void sl_yaml_processors(const struct sl_yaml_doc *d, size_t owner,
			const char *header, yaml_node_t *v);
void sl_yaml_routes(const struct sl_yaml_doc *d, size_t owner,
		    const char *header, yaml_node_t *v);

#endif
