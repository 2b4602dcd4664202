/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_conf_yaml.c - Fluent Bit's YAML configuration format read into the same
 * section tree as the classic format: `env`, `includes`, `service`,
 * `pipeline: {inputs, filters, outputs}`, `parsers`, `multiline_parsers`,
 * `plugins`, `customs`, `upstream_servers`. Nested maps inside a section
 * become dotted keys ("a: {b: 1}" is "a.b 1"); a list value becomes one
 * entry per item, as a repeated key would in the classic format. What the
 * keys mean is decided later by config maps; this file only knows shapes.
 */
#include "sl_conf_yaml.h"
#include "sl_common.h"
#include "sl_conf_yaml_int.h"

#include <errno.h>
#include <stdbool.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

/* Includes nest at most this deep (a cycle is reported before that). */
#define MAX_INCLUDE_DEPTH 16

struct ctx {
	struct sl_conf *conf;
	struct sl_diag *diag;
	yaml_document_t *doc;
	const char *file;		      /* interned */
	const char *stack[MAX_INCLUDE_DEPTH]; /* files being read, for cycles */
	int depth;
};

static int line_of(const yaml_node_t *n)
{
	return (int)n->start_mark.line + 1;
}

static yaml_node_t *node(struct ctx *c, yaml_node_item_t id)
{
	return yaml_document_get_node(c->doc, id);
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE
		   ? (const char *)n->data.scalar.value
		   : NULL;
}

static void error(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void error(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sl_diag_add(c->diag, c->file, n ? line_of(n) : 0, "%s", msg);
}

static int add_entry(struct ctx *c, struct sl_conf_section *sec,
		     const char *key, const char *value, int line)
{
	if (sl_conf_add_entry(c->conf, sec, key, value, c->file, line) < 0) {
		sl_diag_add(c->diag, c->file, line, "out of memory");
		return -SL_ENOMEM;
	}
	return 0;
}

/*
 * Adds `value_node` under `key` to `sec`: a scalar as one entry, a list as
 * one entry per item, a map as dotted keys (recursively).
 */
static void add_value(struct ctx *c, struct sl_conf_section *sec,
		      const char *key, yaml_node_t *v, int line, int level)
{
	if (level > 8) {
		error(c, v, "'%s' is nested too deeply", key);
		return;
	}
	switch (v->type) {
	case YAML_SCALAR_NODE:
		add_entry(c, sec, key, scalar(v), line);
		break;
	case YAML_SEQUENCE_NODE:
		for (yaml_node_item_t *it = v->data.sequence.items.start;
		     it < v->data.sequence.items.top; it++) {
			yaml_node_t *item = node(c, *it);

			if (item && item->type == YAML_SCALAR_NODE)
				add_entry(c, sec, key, scalar(item),
					  line_of(item));
			else
				error(c, item,
				      "'%s': list items must be plain "
				      "values",
				      key);
		}
		break;
	case YAML_MAPPING_NODE:
		for (yaml_node_pair_t *p = v->data.mapping.pairs.start;
		     p < v->data.mapping.pairs.top; p++) {
			yaml_node_t *k = node(c, p->key),
				    *val = node(c, p->value);
			char *full;

			if (!scalar(k) || !val) {
				error(c, k, "'%s': keys must be plain values",
				      key);
				continue;
			}
			if (asprintf(&full, "%s.%s", key, scalar(k)) < 0) {
				error(c, k, "out of memory");
				return;
			}
			add_value(c, sec, full, val, line_of(k), level + 1);
			free(full);
		}
		break;
	default:
		error(c, v, "'%s': unsupported YAML value", key);
		break;
	}
}

/*
 * Fluent Bit's `telemetry` block (service and inputs), checked by its
 * code's rules: only the nesting telemetry.metrics.logs.tag_records, each
 * level a map without unknown keys, tag_records a map of scalars
 * (enabled; max_series and max_tag_length on the service only). Its
 * options become dotted entries, which the config maps type-check; a
 * dotted key written in YAML is refused before (see map_section).
 */
static const char TAG_RECORDS[] = "telemetry.metrics.logs.tag_records";

static bool level_ok(struct ctx *c, yaml_node_t *map, const char *path,
		     const char *allowed)
{
	bool ok = true;

	if (map->type == YAML_SCALAR_NODE && !*scalar(map))
		return true; /* "metrics:" with nothing after it */
	if (map->type != YAML_MAPPING_NODE) {
		error(c, map, "'%s' must be a map", path);
		return false;
	}
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		const char *k = scalar(node(c, p->key));

		if (!k || strcasecmp(k, allowed) != 0) {
			error(c, node(c, p->key),
			      "unknown '%s' option '%s' (only '%s')", path,
			      k ? k : "?", allowed);
			ok = false;
		}
	}
	return ok;
}

static yaml_node_t *child(struct ctx *c, yaml_node_t *map, const char *key)
{
	if (map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		const char *k = scalar(node(c, p->key));

		if (k && strcasecmp(k, key) == 0)
			return node(c, p->value);
	}
	return NULL;
}

static void telemetry_block(struct ctx *c, struct sl_conf_section *sec,
			    yaml_node_t *v, bool service)
{
	static const char *const levels[][2] = {
	    {"telemetry", "metrics"},
	    {"telemetry.metrics", "logs"},
	    {"telemetry.metrics.logs", "tag_records"},
	};
	yaml_node_t *tr = v;

	if (v->type != YAML_MAPPING_NODE) {
		error(c, v,
		      "'telemetry' must be a nested map (telemetry: metrics: "
		      "logs: tag_records: enabled: true)");
		return;
	}
	for (size_t i = 0; i < SL_ARRAY_LEN(levels); i++) {
		if (!level_ok(c, tr, levels[i][0], levels[i][1]))
			return;
		tr = child(c, tr, levels[i][1]);
		if (!tr)
			return; /* stops short of tag_records: nothing set */
	}
	if (tr->type != YAML_MAPPING_NODE) {
		error(c, tr, "'%s' must be a map with an 'enabled' key",
		      TAG_RECORDS);
		return;
	}
	for (yaml_node_pair_t *p = tr->data.mapping.pairs.start;
	     p < tr->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = node(c, p->key), *vn = node(c, p->value);
		const char *k = scalar(kn), *val = scalar(vn);
		bool known = k && (strcasecmp(k, "enabled") == 0 ||
				   strcasecmp(k, "max_series") == 0 ||
				   strcasecmp(k, "max_tag_length") == 0);
		char *full;

		if (!known) {
			error(c, kn, "unknown '%s' option '%s'", TAG_RECORDS,
			      k ? k : "?");
			continue;
		}
		if (!service && strcasecmp(k, "enabled") != 0) {
			error(c, kn,
			      "'%s.%s' is a [SERVICE] option, not one of an "
			      "input",
			      TAG_RECORDS, k);
			continue;
		}
		if (!val) {
			error(c, vn, "'%s.%s' must be a plain value",
			      TAG_RECORDS, k);
			continue;
		}
		/* Fluent Bit's code takes the integers 0 and 1 as booleans */
		if (strcasecmp(k, "enabled") == 0 &&
		    vn->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		    (strcmp(val, "0") == 0 || strcmp(val, "1") == 0))
			val = val[0] == '1' ? "on" : "off";
		if (asprintf(&full, "%s.%s", TAG_RECORDS, k) < 0) {
			error(c, kn, "out of memory");
			return;
		}
		add_entry(c, sec, full, val, line_of(kn));
		free(full);
	}
}

void sl_yaml_add_value(const struct sl_yaml_doc *d, struct sl_conf_section *sec,
		       const char *key, yaml_node_t *v, int line)
{
	struct ctx c = {
	    .conf = d->conf, .diag = d->diag, .doc = d->doc, .file = d->file};

	add_value(&c, sec, key, v, line, 0);
}

/* One plugin, parser or service map becomes one section. */
static struct sl_conf_section *map_section(struct ctx *c, yaml_node_t *map,
					   enum sl_section_kind kind,
					   const char *header)
{
	struct sl_conf_section *sec;
	yaml_node_t *processors = NULL, *routes = NULL;
	size_t owner;

	if (map->type != YAML_MAPPING_NODE) {
		error(c, map, "%s: expected a map of key: value", header);
		return NULL;
	}
	sec = sl_conf_add_section(c->conf, kind, header, c->file, line_of(map));
	if (!sec) {
		error(c, map, "out of memory");
		return NULL;
	}
	owner = (size_t)(sec - c->conf->sections);
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(c, p->key), *v = node(c, p->value);

		if (!scalar(k) || !v) {
			error(c, k, "%s: keys must be plain values", header);
			continue;
		}
		/* nested sections are read after this one's entries: adding
		 * sections moves `sec` */
		if (strcasecmp(scalar(k), "processors") == 0 &&
		    (kind == SL_SEC_INPUT || kind == SL_SEC_OUTPUT)) {
			if (processors)
				error(c, k, "%s: 'processors' given twice",
				      header);
			processors = k;
			continue;
		}
		if (strcasecmp(scalar(k), "routes") == 0 &&
		    kind == SL_SEC_INPUT) {
			if (routes)
				error(c, k, "%s: 'routes' given twice", header);
			routes = k;
			continue;
		}
		if (strcasecmp(scalar(k), "processors") == 0 ||
		    strcasecmp(scalar(k), "routes") == 0) {
			error(c, k, "%s: '%s' belongs to %s only", header,
			      scalar(k),
			      scalar(k)[0] == 'p' ? "inputs and outputs"
						  : "inputs");
			continue;
		}
		if ((kind == SL_SEC_SERVICE || kind == SL_SEC_INPUT) &&
		    strncasecmp(scalar(k), "telemetry", 9) == 0) {
			if (strcasecmp(scalar(k), "telemetry") == 0) {
				telemetry_block(c, sec, v,
						kind == SL_SEC_SERVICE);
				continue;
			}
			/* Fluent Bit refuses the flat form, as sluice does */
			if (scalar(k)[9] == '.') {
				error(c, k,
				      "%s: '%s' must be configured as a nested "
				      "'telemetry' block",
				      header, scalar(k));
				continue;
			}
		}
		add_value(c, sec, scalar(k), v, line_of(k), 0);
	}
	struct sl_yaml_doc d = {
	    .conf = c->conf, .diag = c->diag, .doc = c->doc, .file = c->file};

	/* the value nodes follow their key nodes' pairs */
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(c, p->key), *v = node(c, p->value);

		if (k && k == processors && v)
			sl_yaml_processors(&d, owner, header, v);
		else if (k && k == routes && v)
			sl_yaml_routes(&d, owner, header, v);
	}
	return &c->conf->sections[owner];
}

static void sequence_of_sections(struct ctx *c, yaml_node_t *seq,
				 enum sl_section_kind kind, const char *header,
				 const char *what)
{
	if (seq->type == YAML_SCALAR_NODE && !*scalar(seq))
		return; /* "inputs:" with nothing after it */
	if (seq->type != YAML_SEQUENCE_NODE) {
		error(c, seq, "'%s' must be a list of maps (- name: ...)",
		      what);
		return;
	}
	for (yaml_node_item_t *it = seq->data.sequence.items.start;
	     it < seq->data.sequence.items.top; it++)
		map_section(c, node(c, *it), kind, header);
}

/* multiline_parsers: rules are a list of {state, regex, next_state}. */
static void multiline_parsers(struct ctx *c, yaml_node_t *seq)
{
	if (seq->type != YAML_SEQUENCE_NODE) {
		error(c, seq, "'multiline_parsers' must be a list of maps");
		return;
	}
	for (yaml_node_item_t *it = seq->data.sequence.items.start;
	     it < seq->data.sequence.items.top; it++) {
		yaml_node_t *map = node(c, *it);
		struct sl_conf_section *sec;

		if (!map || map->type != YAML_MAPPING_NODE) {
			error(c, map, "multiline parser: expected a map");
			continue;
		}
		sec = sl_conf_add_section(c->conf, SL_SEC_MULTILINE_PARSER,
					  "MULTILINE_PARSER", c->file,
					  line_of(map));
		if (!sec) {
			error(c, map, "out of memory");
			return;
		}
		for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
		     p < map->data.mapping.pairs.top; p++) {
			yaml_node_t *k = node(c, p->key),
				    *v = node(c, p->value);

			if (!scalar(k) || !v)
				continue;
			if (strcasecmp(scalar(k), "rules") != 0) {
				add_value(c, sec, scalar(k), v, line_of(k), 0);
				continue;
			}
			if (v->type != YAML_SEQUENCE_NODE) {
				error(c, v, "'rules' must be a list");
				continue;
			}
			for (yaml_node_item_t *r = v->data.sequence.items.start;
			     r < v->data.sequence.items.top; r++) {
				yaml_node_t *rule = node(c, *r);
				const char *state = NULL, *re = NULL,
					   *next = NULL;
				char *line;

				if (!rule || rule->type != YAML_MAPPING_NODE) {
					error(c, rule,
					      "a rule is a map of "
					      "state, regex, next_state");
					continue;
				}
				for (yaml_node_pair_t *q =
					 rule->data.mapping.pairs.start;
				     q < rule->data.mapping.pairs.top; q++) {
					const char *rk =
					    scalar(node(c, q->key));
					const char *rv =
					    scalar(node(c, q->value));

					if (!rk || !rv)
						continue;
					if (strcasecmp(rk, "state") == 0)
						state = rv;
					else if (strcasecmp(rk, "regex") == 0)
						re = rv;
					else if (strcasecmp(rk, "next_state") ==
						 0)
						next = rv;
					else
						error(c, rule,
						      "unknown rule key "
						      "'%s'",
						      rk);
				}
				if (!state || !re || !next) {
					error(c, rule,
					      "a rule needs state, regex "
					      "and next_state");
					continue;
				}
				/* the classic form: "state" "/regex/" "next" */
				if (asprintf(&line, "\"%s\" \"%s\" \"%s\"",
					     state, re, next) < 0) {
					error(c, rule, "out of memory");
					return;
				}
				add_entry(c, sec, "rule", line, line_of(rule));
				free(line);
			}
		}
	}
}

static int add_var(struct ctx *c, const char *name, const char *value)
{
	char **v = realloc(c->conf->vars, (c->conf->n_vars + 1) * sizeof(*v));
	char *s;

	if (!v)
		return -SL_ENOMEM;
	c->conf->vars = v;
	if (asprintf(&s, "%s=%s", name, value) < 0)
		return -SL_ENOMEM;
	c->conf->vars[c->conf->n_vars++] = s;
	return 0;
}

static int load_file(struct ctx *c, const char *path);

static void includes(struct ctx *c, yaml_node_t *seq)
{
	char *copy, *dir;

	if (seq->type != YAML_SEQUENCE_NODE) {
		error(c, seq, "'includes' must be a list of file names");
		return;
	}
	copy = strdup(c->file);
	if (!copy) {
		error(c, seq, "out of memory");
		return;
	}
	dir = dirname(copy);
	for (yaml_node_item_t *it = seq->data.sequence.items.start;
	     it < seq->data.sequence.items.top; it++) {
		yaml_node_t *n = node(c, *it);
		const char *inc = scalar(n);
		const char *saved_file = c->file;
		yaml_document_t *saved_doc = c->doc;
		char *full;

		if (!inc) {
			error(c, n, "'includes' items must be file names");
			continue;
		}
		if (inc[0] == '/')
			full = strdup(inc);
		else if (asprintf(&full, "%s/%s", dir, inc) < 0)
			full = NULL;
		if (!full) {
			error(c, n, "out of memory");
			break;
		}
		if (load_file(c, full) < 0)
			sl_diag_add(c->diag, saved_file, line_of(n),
				    "included from here");
		c->file = saved_file;
		c->doc = saved_doc;
		free(full);
	}
	free(copy);
}

static void pipeline(struct ctx *c, yaml_node_t *map)
{
	if (map->type != YAML_MAPPING_NODE) {
		error(c, map,
		      "'pipeline' must be a map with inputs, filters "
		      "and outputs");
		return;
	}
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
		const char *key = scalar(k);

		if (!key || !v)
			continue;
		if (strcasecmp(key, "inputs") == 0)
			sequence_of_sections(c, v, SL_SEC_INPUT, "INPUT", key);
		else if (strcasecmp(key, "filters") == 0)
			sequence_of_sections(c, v, SL_SEC_FILTER, "FILTER",
					     key);
		else if (strcasecmp(key, "outputs") == 0)
			sequence_of_sections(c, v, SL_SEC_OUTPUT, "OUTPUT",
					     key);
		else
			error(c, k,
			      "unknown pipeline section '%s' (inputs, "
			      "filters or outputs)",
			      key);
	}
}

static void top_level(struct ctx *c, yaml_node_t *root)
{
	if (root->type == YAML_SCALAR_NODE && !*scalar(root))
		return; /* empty file */
	if (root->type != YAML_MAPPING_NODE) {
		error(c, root, "a YAML configuration is a map of sections");
		return;
	}
	/* env first: its names may be used anywhere in the file */
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
	     p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(c, p->key), *v = node(c, p->value);

		if (!scalar(k) || strcasecmp(scalar(k), "env") != 0 || !v)
			continue;
		if (v->type != YAML_MAPPING_NODE) {
			error(c, v, "'env' must be a map of NAME: value");
			continue;
		}
		for (yaml_node_pair_t *e = v->data.mapping.pairs.start;
		     e < v->data.mapping.pairs.top; e++) {
			const char *name = scalar(node(c, e->key));
			const char *val = scalar(node(c, e->value));

			if (!name || !val) {
				error(c, node(c, e->key),
				      "'env' values must be plain values");
				continue;
			}
			if (add_var(c, name, val) < 0)
				error(c, v, "out of memory");
		}
	}
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
	     p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
		const char *key = scalar(k);

		if (!key || !v) {
			error(c, k, "section names must be plain values");
			continue;
		}
		if (strcasecmp(key, "env") == 0)
			continue;
		if (strcasecmp(key, "service") == 0) {
			map_section(c, v, SL_SEC_SERVICE, "SERVICE");
		} else if (strcasecmp(key, "pipeline") == 0) {
			pipeline(c, v);
		} else if (strcasecmp(key, "includes") == 0) {
			includes(c, v);
		} else if (strcasecmp(key, "parsers") == 0) {
			sequence_of_sections(c, v, SL_SEC_PARSER, "PARSER",
					     key);
		} else if (strcasecmp(key, "multiline_parsers") == 0) {
			multiline_parsers(c, v);
		} else if (strcasecmp(key, "customs") == 0) {
			sequence_of_sections(c, v, SL_SEC_CUSTOM, "CUSTOM",
					     key);
		} else if (strcasecmp(key, "upstream_servers") == 0) {
			sequence_of_sections(c, v, SL_SEC_UPSTREAM, "UPSTREAM",
					     key);
		} else if (strcasecmp(key, "plugins") == 0) {
			struct sl_conf_section *sec =
			    sl_conf_add_section(c->conf, SL_SEC_PLUGINS,
						"PLUGINS", c->file, line_of(v));
			if (sec)
				add_value(c, sec, "path", v, line_of(v), 0);
		} else if (strcasecmp(key, "extensions") == 0 ||
			   strcasecmp(key, "stream_processor") == 0) {
			/* Fluent Bit features sluice does not have */
			sl_log(SL_LOG_WARN, "config",
			       "%s:%d: section '%s' is not supported by sluice "
			       "and is ignored",
			       c->file, line_of(k), key);
		} else {
			error(c, k, "unknown section '%s'", key);
		}
	}
}

/* Reads one file; errors (its own and its includes') go to the diag list. */
static int load_file(struct ctx *c, const char *path)
{
	size_t errors = sl_diag_count(c->diag);
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	FILE *f;

	c->file = sl_conf_intern_file(c->conf, path);
	if (!c->file) {
		sl_diag_add(c->diag, path, 0, "out of memory");
		return -SL_ECONFIG;
	}
	for (int i = 0; i < c->depth; i++) {
		if (strcmp(c->stack[i], c->file) == 0) {
			sl_diag_add(c->diag, c->file, 0,
				    "includes itself (directly or through "
				    "other files)");
			return -SL_ECONFIG;
		}
	}
	if (c->depth == MAX_INCLUDE_DEPTH) {
		sl_diag_add(c->diag, c->file, 0, "includes nest too deeply");
		return -SL_ECONFIG;
	}
	f = fopen(path, "rb");
	if (!f) {
		sl_diag_add(c->diag, c->file, 0, "cannot open: %s",
			    strerror(errno));
		return -SL_ECONFIG;
	}
	if (!yaml_parser_initialize(&parser)) {
		fclose(f);
		sl_diag_add(c->diag, c->file, 0, "out of memory");
		return -SL_ECONFIG;
	}
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		sl_diag_add(c->diag, c->file, (int)parser.problem_mark.line + 1,
			    "YAML syntax error: %s%s%s",
			    parser.problem ? parser.problem : "unknown",
			    parser.context ? ", " : "",
			    parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		fclose(f);
		return -SL_ECONFIG;
	}
	c->stack[c->depth++] = c->file;
	c->doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (root)
		top_level(c, root);
	c->depth--;
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	return sl_diag_count(c->diag) > errors ? -SL_ECONFIG : 0;
}

int sl_conf_yaml_load(struct sl_conf *conf, const char *path,
		      struct sl_diag *diag)
{
	struct ctx c = {.conf = conf, .diag = diag};

	return load_file(&c, path);
}
