/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_conf_yaml_pipeline.c - the nested parts of Fluent Bit's YAML pipeline:
 * `processors: {logs: [...]}` on inputs and outputs, `routes: {logs: [...]}`
 * on inputs, and the `condition` of either. Each becomes a section owned by
 * its input or output (SL_SEC_PROCESSOR, SL_SEC_ROUTE), each condition rule
 * a SL_SEC_RULE owned by its processor or route, so that every value keeps
 * its line. Only shapes are checked here; meanings (plugin names, outputs,
 * operators) are the engine's (sl_engine_pipeline.c).
 */
#include "sl_common.h"
#include "sl_conf_yaml_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static int line_of(const yaml_node_t *n)
{
	return (int)n->start_mark.line + 1;
}

static yaml_node_t *node(const struct sl_yaml_doc *d, yaml_node_item_t id)
{
	return yaml_document_get_node(d->doc, id);
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE
		   ? (const char *)n->data.scalar.value
		   : NULL;
}

static void error(const struct sl_yaml_doc *d, const yaml_node_t *n,
		  const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void error(const struct sl_yaml_doc *d, const yaml_node_t *n,
		  const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sl_diag_add(d->diag, d->file, n ? line_of(n) : 0, "%s", msg);
}

static size_t add_section(const struct sl_yaml_doc *d, yaml_node_t *at,
			  enum sl_section_kind kind, const char *header,
			  size_t owner)
{
	struct sl_conf_section *sec =
	    sl_conf_add_section(d->conf, kind, header, d->file, line_of(at));

	if (!sec) {
		error(d, at, "out of memory");
		return 0;
	}
	sec->owner = owner + 1;
	return (size_t)(sec - d->conf->sections) + 1;
}

static struct sl_conf_section *section(const struct sl_yaml_doc *d, size_t idx1)
{
	return &d->conf->sections[idx1 - 1];
}

static void entry(const struct sl_yaml_doc *d, size_t idx1, const char *key,
		  const char *value, int line)
{
	if (sl_conf_add_entry(d->conf, section(d, idx1), key, value, d->file,
			      line) < 0)
		sl_diag_add(d->diag, d->file, line, "out of memory");
}

/* The list under a signal: `logs` is read, `metrics`/`traces` refused. */
static yaml_node_t *logs_list(const struct sl_yaml_doc *d, const char *header,
			      const char *what, yaml_node_t *v)
{
	yaml_node_t *logs = NULL;

	if (v->type != YAML_MAPPING_NODE) {
		error(d, v, "%s: '%s' must be a map of logs: [...]", header,
		      what);
		return NULL;
	}
	for (yaml_node_pair_t *p = v->data.mapping.pairs.start;
	     p < v->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(d, p->key), *val = node(d, p->value);
		const char *key = scalar(k);

		if (!key || !val)
			continue;
		if (strcasecmp(key, "logs") == 0) {
			logs = val;
		} else if (strcasecmp(key, "metrics") == 0 ||
			   strcasecmp(key, "traces") == 0 ||
			   strcasecmp(key, "profiles") == 0) {
			error(d, k,
			      "%s: %s for '%s' are not supported: sluice "
			      "carries logs only",
			      header, what, key);
		} else {
			error(d, k,
			      "%s: unknown signal '%s' in %s (logs, "
			      "metrics, traces)",
			      header, key, what);
		}
	}
	if (logs && logs->type != YAML_SEQUENCE_NODE) {
		error(d, logs, "%s: '%s.logs' must be a list of maps", header,
		      what);
		return NULL;
	}
	return logs;
}

/* One rule of a condition: field, op, value (a scalar or a list),
 * context. */
static void rule(const struct sl_yaml_doc *d, size_t owner, yaml_node_t *map)
{
	size_t r;

	if (!map || map->type != YAML_MAPPING_NODE) {
		error(d, map,
		      "condition: each rule must be a map of field, "
		      "op, value");
		return;
	}
	r = add_section(d, map, SL_SEC_RULE, "RULE", owner - 1);
	if (!r)
		return;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(d, p->key), *v = node(d, p->value);
		const char *key = scalar(k);

		if (!key || !v)
			continue;
		if (strcasecmp(key, "value") == 0 ||
		    strcasecmp(key, "values") == 0) {
			if (v->type == YAML_SCALAR_NODE) {
				entry(d, r, "value", scalar(v), line_of(v));
				continue;
			}
			if (v->type != YAML_SEQUENCE_NODE) {
				error(d, v,
				      "rule: 'value' must be a value or "
				      "a list of values");
				continue;
			}
			entry(d, r, "list", "true", line_of(v));
			for (yaml_node_item_t *it =
				 v->data.sequence.items.start;
			     it < v->data.sequence.items.top; it++) {
				yaml_node_t *item = node(d, *it);

				if (scalar(item))
					entry(d, r, "value", scalar(item),
					      line_of(item));
				else
					error(d, item,
					      "rule: list values must be plain "
					      "values");
			}
		} else if (strcasecmp(key, "field") == 0 ||
			   strcasecmp(key, "op") == 0 ||
			   strcasecmp(key, "context") == 0) {
			if (!scalar(v))
				error(d, v, "rule: '%s' must be a plain value",
				      key);
			else
				entry(d, r, key, scalar(v), line_of(v));
		} else {
			error(d, k,
			      "rule: unknown key '%s' (field, op, value, "
			      "context)",
			      key);
		}
	}
}

/*
 * `condition: {op, rules}` (and `default` on a route) of the processor or
 * route at `owner`: op and default become entries "condition.op" and
 * "condition.default" of it, each rule a RULE section.
 */
static void condition(const struct sl_yaml_doc *d, size_t owner,
		      yaml_node_t *map, bool is_route)
{
	if (map->type != YAML_MAPPING_NODE) {
		error(d, map, "'condition' must be a map with op and rules");
		return;
	}
	entry(d, owner, "condition", "", line_of(map));
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(d, p->key), *v = node(d, p->value);
		const char *key = scalar(k);

		if (!key || !v)
			continue;
		if (strcasecmp(key, "op") == 0 ||
		    (is_route && strcasecmp(key, "default") == 0)) {
			char full[32];

			if (!scalar(v)) {
				error(d, v,
				      "condition: '%s' must be a plain value",
				      key);
				continue;
			}
			snprintf(full, sizeof(full), "condition.%s", key);
			entry(d, owner, full, scalar(v), line_of(v));
		} else if (strcasecmp(key, "rules") == 0) {
			if (v->type != YAML_SEQUENCE_NODE) {
				error(d, v,
				      "condition: 'rules' must be a list "
				      "of maps");
				continue;
			}
			for (yaml_node_item_t *it =
				 v->data.sequence.items.start;
			     it < v->data.sequence.items.top; it++)
				rule(d, owner, node(d, *it));
		} else {
			error(d, k, "condition: unknown key '%s' (op, rules%s)",
			      key, is_route ? ", default" : "");
		}
	}
}

void sl_yaml_processors(const struct sl_yaml_doc *d, size_t owner,
			const char *header, yaml_node_t *v)
{
	yaml_node_t *logs = logs_list(d, header, "processors", v);

	if (!logs)
		return;
	for (yaml_node_item_t *it = logs->data.sequence.items.start;
	     it < logs->data.sequence.items.top; it++) {
		yaml_node_t *map = node(d, *it), *cond = NULL;
		size_t p;

		if (!map || map->type != YAML_MAPPING_NODE) {
			error(d, map, "%s: a processor is a map (- name: ...)",
			      header);
			continue;
		}
		p = add_section(d, map, SL_SEC_PROCESSOR, "PROCESSOR", owner);
		if (!p)
			return;
		for (yaml_node_pair_t *q = map->data.mapping.pairs.start;
		     q < map->data.mapping.pairs.top; q++) {
			yaml_node_t *k = node(d, q->key),
				    *val = node(d, q->value);

			if (!scalar(k) || !val) {
				error(d, k,
				      "processor: keys must be plain "
				      "values");
				continue;
			}
			if (strcasecmp(scalar(k), "condition") == 0)
				cond = val;
			else
				sl_yaml_add_value(d, section(d, p), scalar(k),
						  val, line_of(k));
		}
		if (cond)
			condition(d, p, cond, false);
	}
}

/* `to: {outputs: [a, {name: b}]}` (or the list itself): entries "to". */
static void route_to(const struct sl_yaml_doc *d, size_t r, yaml_node_t *to)
{
	yaml_node_t *outs = to;

	if (to->type == YAML_MAPPING_NODE) {
		outs = NULL;
		for (yaml_node_pair_t *p = to->data.mapping.pairs.start;
		     p < to->data.mapping.pairs.top; p++) {
			const char *key = scalar(node(d, p->key));

			if (key && strcasecmp(key, "outputs") == 0)
				outs = node(d, p->value);
			else
				error(d, node(d, p->key),
				      "route: unknown key '%s' in 'to' "
				      "(outputs)",
				      key ? key : "");
		}
		if (!outs) {
			error(d, to, "route: 'to' needs 'outputs'");
			return;
		}
	}
	if (outs->type == YAML_SCALAR_NODE) {
		entry(d, r, "to", scalar(outs), line_of(outs));
		return;
	}
	if (outs->type != YAML_SEQUENCE_NODE ||
	    outs->data.sequence.items.start == outs->data.sequence.items.top) {
		error(d, outs, "route: 'outputs' must be a non-empty list");
		return;
	}
	for (yaml_node_item_t *it = outs->data.sequence.items.start;
	     it < outs->data.sequence.items.top; it++) {
		yaml_node_t *o = node(d, *it);
		const char *name = scalar(o);

		if (o && o->type == YAML_MAPPING_NODE) {
			for (yaml_node_pair_t *p = o->data.mapping.pairs.start;
			     p < o->data.mapping.pairs.top; p++) {
				const char *key = scalar(node(d, p->key));

				if (key && strcasecmp(key, "name") == 0)
					name = scalar(node(d, p->value));
				else if (key &&
					 strcasecmp(key, "fallback") == 0)
					error(d, node(d, p->key),
					      "route: output 'fallback' is "
					      "not supported by sluice");
				else
					error(d, node(d, p->key),
					      "route: unknown key '%s' of an "
					      "output (name)",
					      key ? key : "");
			}
		}
		if (!name || !*name) {
			error(d, o,
			      "route: an output is a name or {name: ...}");
			continue;
		}
		entry(d, r, "to", name, line_of(o));
	}
}

void sl_yaml_routes(const struct sl_yaml_doc *d, size_t owner,
		    const char *header, yaml_node_t *v)
{
	yaml_node_t *logs = logs_list(d, header, "routes", v);

	if (!logs)
		return;
	if (logs->data.sequence.items.start == logs->data.sequence.items.top)
		error(d, logs, "%s: 'routes.logs' is empty", header);
	for (yaml_node_item_t *it = logs->data.sequence.items.start;
	     it < logs->data.sequence.items.top; it++) {
		yaml_node_t *map = node(d, *it), *cond = NULL, *to = NULL;
		size_t r;

		if (!map || map->type != YAML_MAPPING_NODE) {
			error(d, map, "%s: a route is a map (- name: ...)",
			      header);
			continue;
		}
		r = add_section(d, map, SL_SEC_ROUTE, "ROUTE", owner);
		if (!r)
			return;
		for (yaml_node_pair_t *q = map->data.mapping.pairs.start;
		     q < map->data.mapping.pairs.top; q++) {
			yaml_node_t *k = node(d, q->key),
				    *val = node(d, q->value);
			const char *key = scalar(k);

			if (!key || !val)
				continue;
			if (strcasecmp(key, "condition") == 0) {
				cond = val;
			} else if (strcasecmp(key, "to") == 0) {
				to = val;
			} else if ((strcasecmp(key, "name") == 0 ||
				    strcasecmp(key, "per_record_routing") ==
					0) &&
				   scalar(val)) {
				entry(d, r, key, scalar(val), line_of(val));
			} else if (strcasecmp(key, "processors") == 0) {
				error(d, k,
				      "route: 'processors' on a route are not "
				      "supported by sluice (put them on the "
				      "outputs)");
			} else {
				error(d, k,
				      "route: unknown key '%s' (name, "
				      "condition, to, per_record_routing)",
				      key);
			}
		}
		if (cond)
			condition(d, r, cond, true);
		if (to)
			route_to(d, r, to);
		else
			error(d, map, "route: 'to' is required");
	}
}
