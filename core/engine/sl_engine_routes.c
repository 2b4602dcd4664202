/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_engine_routes.c - Fluent Bit's YAML `processors` and `routes`: built
 * from the sections sl_conf_yaml_pipeline.c makes, and applied.
 *
 * - Input processors run in sl_input_emit before the [FILTER]s, on that
 *   input's records only. Output processors run when a chunk is
 *   dispatched, on a copy for that output only: other outputs get the
 *   chunk unchanged.
 * - Routes are evaluated when a chunk is dispatched, record by record, on
 *   the records as stored (after processors and filters). So a chunk read
 *   back from disk after a crash is routed exactly like it was live, the
 *   storage format carries no routing, and each record sits in one chunk
 *   of its input (tail's commit-after-release stays exact). Fluent Bit
 *   routes before its filters, which then see the route name as tag; here
 *   filters see the input's tag.
 * What this file does not do: match tags (sl_router.c), queue flushes
 * (sl_engine.c).
 */
#include "sl_engine_int.h"
#include "sl_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A route mask is 64 bits wide. */
#define MAX_ROUTES 64

/* Fluent Bit's native processors: named as such, not as typos. */
static const char *const fluentbit_processors[] = {
    "content_modifier",
    "cumulative_to_delta",
    "labels",
    "metrics_selector",
    "opentelemetry_envelope",
    "sampling",
    "sql",
    "tda",
    "template",
};

static const char *value_of(const struct sl_conf_section *sec, const char *key)
{
	const struct sl_conf_entry *e = sl_conf_get(sec, key);

	return e ? e->value : NULL;
}

static int line_of(const struct sl_conf_section *sec, const char *key)
{
	const struct sl_conf_entry *e = sl_conf_get(sec, key);

	return e ? e->line : sec->line;
}

static int parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = {"true", "on", "yes", "1"};
	static const char *const no[] = {"false", "off", "no", "0"};

	for (size_t i = 0; i < SL_ARRAY_LEN(yes); i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -SL_EINVAL;
}

/* One RULE section into `cond`. */
static int add_rule(struct sl_condition *cond,
		    const struct sl_conf_section *rule, const char *what,
		    bool processor, struct sl_diag *diag)
{
	const char *context = value_of(rule, "context");

	const char **values = calloc(rule->n + 1, sizeof(*values));
	const char *field = value_of(rule, "field"), *op = value_of(rule, "op");
	size_t n = 0;
	char err[256];
	int rc;

	if (!values)
		return -SL_ENOMEM;
	for (size_t i = 0; i < rule->n; i++)
		if (strcasecmp(rule->entries[i].key, "value") == 0)
			values[n++] = rule->entries[i].value;
	if (!field || !op || (n == 0 && !sl_conf_get(rule, "list"))) {
		sl_diag_add(diag, rule->file, rule->line,
			    "%s: a condition rule needs field, op and value",
			    what);
		free(values);
		return -SL_ECONFIG;
	}
	/* Fluent Bit's processors know two contexts: metadata, and the body
	 * for any other name (routes know more, see sl_condition.h) */
	if (processor && context && strcasecmp(context, "metadata") != 0)
		context = NULL;
	rc = sl_condition_add_rule(cond, field, op, values, n, context, err,
				   sizeof(err));
	free(values);
	if (rc == -SL_ENOMEM)
		return rc;
	if (rc < 0) {
		/* the line of the part the message is about */
		const char *part = strncmp(err, "op '", 4) == 0	     ? "op"
				   : strncmp(err, "field", 5) == 0   ? "field"
				   : strncmp(err, "context", 7) == 0 ? "context"
								     : "value";

		sl_diag_add(diag, rule->file, line_of(rule, part),
			    "%s: condition rule: %s", what, err);
		return -SL_ECONFIG;
	}
	return 0;
}

/*
 * The condition of the processor or route at section index `idx`: its
 * "condition.op" and the RULE sections it owns. *out stays NULL when the
 * section has no condition.
 */
static int build_condition(struct sl_engine *eng, size_t idx, const char *what,
			   bool rules_required, struct sl_condition **out,
			   struct sl_diag *diag)
{
	bool processor = eng->conf->sections[idx].kind == SL_SEC_PROCESSOR;
	const struct sl_conf *conf = eng->conf;
	const struct sl_conf_section *sec = &conf->sections[idx];
	const char *op = value_of(sec, "condition.op");
	bool op_or = false;
	size_t rules = 0;
	int rc = 0;

	*out = NULL;
	if (!sl_conf_get(sec, "condition"))
		return 0;
	if (op && strcasecmp(op, "or") == 0) {
		op_or = true;
	} else if (op && strcasecmp(op, "and") != 0) {
		sl_diag_add(diag, sec->file, line_of(sec, "condition.op"),
			    "%s: condition op '%s' is not and or or", what, op);
		return -SL_ECONFIG;
	}
	*out = sl_condition_create(op_or);
	if (!*out)
		return -SL_ENOMEM;
	for (size_t j = idx + 1; j < conf->n; j++) {
		const struct sl_conf_section *r = &conf->sections[j];

		if (r->kind != SL_SEC_RULE || r->owner != idx + 1)
			continue;
		rules++;
		int r_rc = add_rule(*out, r, what, processor, diag);

		if (r_rc == -SL_ENOMEM)
			return r_rc;
		if (r_rc < 0)
			rc = r_rc;
	}
	if (rules == 0 && rules_required) {
		sl_diag_add(diag, sec->file, line_of(sec, "condition"),
			    "%s: a condition needs a non-empty 'rules' list",
			    what);
		return -SL_ECONFIG;
	}
	return rc;
}

static int append_ptr(void ***arr, size_t *n, void *p)
{
	void **a = realloc(*arr, (*n + 1) * sizeof(*a));

	if (!a)
		return -SL_ENOMEM;
	a[(*n)++] = p;
	*arr = a;
	return 0;
}

static int add_processor(struct sl_engine *eng, size_t idx, void *const *inst,
			 struct sl_diag *diag)
{
	const struct sl_conf_section *sec = &eng->conf->sections[idx];
	const struct sl_conf_section *owner =
	    &eng->conf->sections[sec->owner - 1];
	const char *name = value_of(sec, "name");
	const struct sl_filter_plugin *p;
	struct sl_filter_inst *f;
	char what[160];
	int rc;

	if (!inst[sec->owner - 1])
		return 0; /* its input or output failed: reported already */
	if (!name || !*name) {
		sl_diag_add(diag, sec->file, sec->line,
			    "processor has no name");
		return -SL_ECONFIG;
	}
	p = sl_engine_find_filter(eng, name);
	if (!p) {
		for (size_t i = 0; i < SL_ARRAY_LEN(fluentbit_processors); i++)
			if (strcasecmp(name, fluentbit_processors[i]) == 0) {
				sl_diag_add(
				    diag, sec->file, line_of(sec, "name"),
				    "processor '%s' is a Fluent Bit processor "
				    "sluice does not have (sluice's filters "
				    "can be processors)",
				    name);
				return -SL_ECONFIG;
			}
		sl_diag_add(diag, sec->file, line_of(sec, "name"),
			    "unknown processor '%s' (a processor is one of "
			    "sluice's filters)",
			    name);
		return -SL_ECONFIG;
	}
	f = sl_engine_processor_create(eng, p, sec, diag, &rc);
	if (!f)
		return rc;
	snprintf(what, sizeof(what), "processor '%s'", p->name);
	if ((rc = build_condition(eng, idx, what, true, &f->cond, diag)) < 0)
		return rc;
	if (owner->kind == SL_SEC_INPUT) {
		struct sl_input *in = inst[sec->owner - 1];

		return append_ptr((void ***)&in->procs, &in->n_procs, f);
	}
	struct sl_output *out = inst[sec->owner - 1];

	return append_ptr((void ***)&out->procs, &out->n_procs, f);
}

/*
 * The output a route names, as Fluent Bit finds it: the first output whose
 * alias, instance name ("file.0") or plugin name is `name`.
 */
static struct sl_output *output_named(struct sl_engine *eng, const char *name)
{
	for (size_t i = 0; i < eng->n_outputs; i++) {
		struct sl_output *o = eng->outputs[i];

		if ((o->common.alias && strcmp(o->common.alias, name) == 0) ||
		    strcmp(o->ins.name, name) == 0 ||
		    strcmp(o->plugin->name, name) == 0)
			return o;
	}
	return NULL;
}

static int add_route(struct sl_engine *eng, size_t idx, void *const *inst,
		     struct sl_diag *diag)
{
	const struct sl_conf_section *sec = &eng->conf->sections[idx];
	struct sl_input *in = inst[sec->owner - 1];
	const char *name = value_of(sec, "name"), *def;
	struct sl_input_route *r, *routes;
	char what[160];
	int rc = 0;

	if (!in)
		return 0;
	if (!name || !*name) {
		sl_diag_add(diag, sec->file, sec->line, "route has no name");
		return -SL_ECONFIG;
	}
	for (size_t i = 0; i < in->n_routes; i++)
		if (strcmp(in->routes[i].name, name) == 0) {
			sl_diag_add(diag, sec->file, line_of(sec, "name"),
				    "route '%s': the input has another route "
				    "of that name",
				    name);
			return -SL_ECONFIG;
		}
	if (in->n_routes == MAX_ROUTES) {
		sl_diag_add(diag, sec->file, sec->line,
			    "route '%s': an input has at most %d routes", name,
			    MAX_ROUTES);
		return -SL_ECONFIG;
	}
	routes = realloc(in->routes, (in->n_routes + 1) * sizeof(*routes));
	if (!routes)
		return -SL_ENOMEM;
	in->routes = routes;
	r = &in->routes[in->n_routes++];
	memset(r, 0, sizeof(*r));
	r->name = strdup(name);
	if (!r->name)
		return -SL_ENOMEM;
	r->name_len = strlen(name);
	snprintf(what, sizeof(what), "route '%s'", name);
	def = value_of(sec, "condition.default");
	if (def && parse_bool(def, &r->is_default) < 0) {
		sl_diag_add(diag, sec->file, line_of(sec, "condition.default"),
			    "%s: condition default '%s' is not true or false",
			    what, def);
		rc = -SL_ECONFIG;
	}
	{
		int c_rc = build_condition(eng, idx, what, !r->is_default,
					   &r->cond, diag);

		if (c_rc == -SL_ENOMEM)
			return c_rc;
		if (c_rc < 0)
			rc = c_rc;
	}
	r->conditional = r->cond || r->is_default;
	const char *prr = value_of(sec, "per_record_routing");
	bool per_record = false;

	if (prr && parse_bool(prr, &per_record) < 0) {
		sl_diag_add(diag, sec->file, line_of(sec, "per_record_routing"),
			    "%s: per_record_routing '%s' is not true or false",
			    what, prr);
		rc = -SL_ECONFIG;
	}
	/* Fluent Bit's code: per-record routing takes a route without a
	 * condition off the chunk's own routes, and with no condition it
	 * takes no record either */
	if (per_record && !r->conditional) {
		r->conditional = true;
		sl_log(SL_LOG_WARN, "config",
		       "%s:%d: %s: per_record_routing without a condition "
		       "takes no records (as in Fluent Bit)",
		       sec->file, line_of(sec, "per_record_routing"), what);
	}
	for (size_t i = 0; i < sec->n; i++) {
		const struct sl_conf_entry *e = &sec->entries[i];
		struct sl_output *o;

		if (strcasecmp(e->key, "to") != 0)
			continue;
		o = output_named(eng, e->value);
		if (!o) {
			sl_diag_add(diag, e->file, e->line,
				    "%s: no output named '%s' (an output's "
				    "alias or name)",
				    what, e->value);
			rc = -SL_ECONFIG;
			continue;
		}
		if (append_ptr((void ***)&r->outs, &r->n_outs, o) < 0)
			return -SL_ENOMEM;
	}
	return rc;
}

int sl_engine_pipeline_configure(struct sl_engine *eng, void *const *inst,
				 struct sl_diag *diag)
{
	const struct sl_conf *conf = eng->conf;
	int rc = 0;

	for (size_t i = 0; i < conf->n; i++) {
		const struct sl_conf_section *sec = &conf->sections[i];
		int r;

		if (sec->kind == SL_SEC_PROCESSOR)
			r = add_processor(eng, i, inst, diag);
		else if (sec->kind == SL_SEC_ROUTE)
			r = add_route(eng, i, inst, diag);
		else
			continue;
		if (r == -SL_ENOMEM) {
			sl_diag_add(diag, sec->file, sec->line,
				    "out of memory");
			return r;
		}
		if (r < 0)
			rc = r;
	}
	for (size_t i = 0; i < eng->n_inputs; i++) {
		struct sl_input *in = eng->inputs[i];

		if (!in->n_routes)
			continue;
		in->m_unrouted = sl_engine_series1(
		    eng, "sluice_route_unmatched_records_total",
		    "Records of an input with routes that no route took",
		    SL_METRIC_COUNTER, "name", in->ins.name);
		if (!in->m_unrouted)
			return -SL_ENOMEM;
	}
	return rc;
}

void sl_engine_pipeline_unconfigure(struct sl_engine *eng)
{
	for (size_t i = 0; i < eng->n_inputs; i++) {
		struct sl_input *in = eng->inputs[i];

		for (size_t j = 0; j < in->n_routes; j++) {
			free(in->routes[j].name);
			sl_condition_destroy(in->routes[j].cond);
			free(in->routes[j].outs);
		}
		free(in->routes);
		free(in->procs);
		in->routes = NULL;
		in->procs = NULL;
		in->n_routes = in->n_procs = 0;
	}
	for (size_t i = 0; i < eng->n_outputs; i++) {
		free(eng->outputs[i]->procs);
		eng->outputs[i]->procs = NULL;
		eng->outputs[i]->n_procs = 0;
	}
	for (size_t i = 0; i < eng->n_processors; i++)
		sl_engine_filter_free(eng->processors[i]);
	free(eng->processors);
	eng->processors = NULL;
	eng->n_processors = 0;
}

int sl_engine_run_processors(struct sl_filter_inst *const *procs, size_t n,
			     struct sl_record *rec, const char *tag,
			     size_t tag_len)
{
	for (size_t i = 0; i < n; i++) {
		struct sl_filter_inst *f = procs[i];

		/* a record the condition does not take passes unchanged */
		if (f->cond && !sl_condition_eval(f->cond, rec))
			continue;
		sl_metric_add(f->m_records, 1);
		if (f->plugin->filter(f->ctx, rec, tag, tag_len) ==
		    SL_FILTER_DROP) {
			sl_metric_add(f->m_drop, 1);
			return SL_FILTER_DROP;
		}
	}
	return SL_FILTER_KEEP;
}

bool sl_engine_output_takes(const struct sl_input *in,
			    const struct sl_output *out, const char *tag,
			    size_t tag_len)
{
	if (!in || !in->n_routes)
		return sl_route_matches(&out->route, tag, tag_len);
	for (size_t i = 0; i < in->n_routes; i++)
		for (size_t j = 0; j < in->routes[i].n_outs; j++)
			if (in->routes[i].outs[j] == out)
				return true;
	return false;
}

/*
 * Copies count against their input's memory budget like the chunk they
 * come from: with routes and output processors a chunk can be held several
 * times over. A copy is counted once complete (sealed) and until freed.
 */
static void copy_complete(struct sl_chunk *d)
{
	d->sealed = true;
	if (d->origin)
		d->origin->mem_used += d->data.len;
}

static void uncount(struct sl_chunk *d)
{
	struct sl_input *in = d->origin;

	if (!in || !d->sealed)
		return;
	in->mem_used -= d->data.len < in->mem_used ? d->data.len : in->mem_used;
}

void sl_engine_copy_free(struct sl_chunk *copy)
{
	struct sl_input *in = copy ? copy->origin : NULL;

	if (!copy)
		return;
	uncount(copy);
	sl_chunk_destroy(copy);
	/* not while the engine stops: its inputs are stopped or going */
	if (in && !in->eng->stopping && in->paused &&
	    !sl_engine_input_over_budget(in) &&
	    !sl_engine_input_over_window(in))
		sl_engine_input_resume(in);
}

void sl_engine_copy_rehome(struct sl_chunk *copy, struct sl_input *to)
{
	if (copy->origin == to)
		return; /* shared by several deliveries: moved once */
	uncount(copy);
	copy->origin = to;
	if (to)
		to->mem_used += copy->data.len;
}

/* An empty copy of `c` under another tag (sealed once filled). */
static struct sl_chunk *copy_shell(const struct sl_chunk *c, const char *tag,
				   size_t tag_len)
{
	struct sl_chunk *d = sl_chunk_create(c->origin, tag, tag_len);

	if (!d)
		return NULL;
	d->id = c->id;
	d->created_mono_ns = c->created_mono_ns;
	d->input_told = true; /* a copy is never reported to the input */
	return d;
}

/*
 * `src` through the processors of `out`: a new chunk (refs 1) with what
 * they kept, NULL when they dropped everything (*enomem false) or on
 * ENOMEM (*enomem true).
 */
static struct sl_chunk *process_for(struct sl_output *out,
				    const struct sl_chunk *src,
				    struct sl_record *rec, bool *enomem)
{
	struct sl_chunk *d = copy_shell(src, src->tag, src->tag_len);
	struct sl_chunk_iter it;
	const char *body;
	uint64_t identity;
	int64_t ts;
	size_t len;

	*enomem = d == NULL;
	if (!d)
		return NULL;
	sl_chunk_iter_init(&it, src);
	while (sl_chunk_next_id(&it, &ts, &identity, &body, &len) == 1) {
		const char *nb = body;
		size_t nlen = len;

		/* a body that does not read (the core wrote it: it cannot
		 * happen) goes on as it is rather than vanish */
		if (sl_record_reset_json(rec, ts, body, len) == 0) {
			if (sl_engine_run_processors(
				out->procs, out->n_procs, rec, src->tag,
				src->tag_len) == SL_FILTER_DROP)
				continue;
			nb = sl_record_body(rec, &nlen);
			ts = sl_record_time(rec);
		}
		/* the identity stays: the same record, whatever it became */
		if (!nb || sl_chunk_append_id(d, ts, identity, nb, nlen) < 0) {
			*enomem = true;
			sl_chunk_destroy(d);
			return NULL;
		}
	}
	if (d->records == 0) {
		sl_chunk_destroy(d);
		return NULL;
	}
	copy_complete(d);
	d->refs = 1;
	return d;
}

struct build {
	struct sl_engine *eng;
	struct sl_delivery *list;
	size_t n, cap;
	struct sl_record rec;
	bool enomem;
};

static int push(struct build *b, struct sl_output *out, struct sl_chunk *c)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 8;
		struct sl_delivery *p = realloc(b->list, cap * sizeof(*p));

		if (!p)
			return -SL_ENOMEM;
		b->list = p;
		b->cap = cap;
	}
	b->list[b->n++] = (struct sl_delivery){.out = out, .chunk = c};
	return 0;
}

/* Records of `src` an output loses to a failed copy: counted, logged. */
static void lost_copy(struct sl_output *out, const struct sl_chunk *src)
{
	sl_log(SL_LOG_ERROR, out->ins.name, "out of memory: %u records dropped",
	       src->records);
	sl_metric_add(out->m_dropped[SL_DROP_BUFFER_FULL], src->records);
}

/*
 * `src` (the dispatched chunk `c`, or a route's copy) to `out`: as it is,
 * or through the output's processors. A shared copy counts its users.
 */
static void deliver(struct build *b, struct sl_output *out,
		    struct sl_chunk *src, struct sl_chunk *c)
{
	struct sl_chunk *chunk = src;
	bool enomem = false;

	if (out->n_procs) {
		chunk = process_for(out, src, &b->rec, &enomem);
		if (!chunk) {
			if (enomem)
				lost_copy(out, src);
			return;
		}
	} else if (src != c) {
		src->refs++;
	}
	if (push(b, out, chunk) < 0) {
		lost_copy(out, chunk);
		if (chunk != c && --chunk->refs == 0)
			sl_engine_copy_free(chunk);
	}
}

/* The routes of `in` that take `rec`, as a bit mask (conditional ones). */
static uint64_t routes_taking(const struct sl_input *in, struct sl_record *rec)
{
	uint64_t take = 0;

	for (size_t k = 0; k < in->n_routes; k++) {
		const struct sl_input_route *r = &in->routes[k];

		if (r->conditional && !r->is_default && r->cond &&
		    sl_condition_eval(r->cond, rec))
			take |= (uint64_t)1 << k;
	}
	/* a default route takes what no other conditional route took */
	if (take)
		return take;
	for (size_t k = 0; k < in->n_routes; k++) {
		const struct sl_input_route *r = &in->routes[k];

		if (r->is_default && sl_condition_eval(r->cond, rec))
			take |= (uint64_t)1 << k;
	}
	return take;
}

static void routed(struct build *b, struct sl_chunk *c)
{
	struct sl_input *in = c->origin;
	struct sl_chunk *copies[MAX_ROUTES] = {0};
	bool unconditional = false, *seen;
	struct sl_chunk_iter it;
	const char *body;
	uint64_t identity, unrouted = 0;
	int64_t ts;
	size_t len;

	for (size_t k = 0; k < in->n_routes; k++)
		unconditional |= !in->routes[k].conditional;
	sl_chunk_iter_init(&it, c);
	while (sl_chunk_next_id(&it, &ts, &identity, &body, &len) == 1) {
		uint64_t take;

		/* a body that does not read takes no route (counted) */
		take = sl_record_reset_json(&b->rec, ts, body, len) == 0
			   ? routes_taking(in, &b->rec)
			   : 0;
		if (!take && !unconditional)
			unrouted++;
		for (size_t k = 0; take && k < in->n_routes; k++) {
			const struct sl_input_route *r = &in->routes[k];

			if (!(take & ((uint64_t)1 << k)))
				continue;
			if (!copies[k])
				copies[k] = copy_shell(c, r->name, r->name_len);
			if (!copies[k] ||
			    sl_chunk_append_id(copies[k], ts, identity, body,
					       len) < 0) {
				b->enomem = true;
				break;
			}
		}
		if (b->enomem)
			break;
	}
	if (unrouted && in->m_unrouted)
		sl_metric_add(in->m_unrouted, (double)unrouted);
	seen = calloc(b->eng->n_outputs + 1, sizeof(*seen));
	if (b->enomem || !seen) {
		/* every output of every route loses this chunk: counted */
		for (size_t k = 0; k < in->n_routes; k++) {
			for (size_t j = 0; j < in->routes[k].n_outs; j++)
				lost_copy(in->routes[k].outs[j], c);
			sl_chunk_destroy(copies[k]);
		}
		free(seen);
		b->enomem = true;
		return;
	}
	for (size_t k = 0; k < in->n_routes; k++) {
		const struct sl_input_route *r = &in->routes[k];

		if (!r->conditional) {
			/* the chunk as it is, once per output */
			for (size_t j = 0; j < r->n_outs; j++)
				for (size_t o = 0; o < b->eng->n_outputs; o++)
					if (b->eng->outputs[o] == r->outs[j] &&
					    !seen[o]) {
						seen[o] = true;
						deliver(b, r->outs[j], c, c);
					}
			continue;
		}
		if (!copies[k])
			continue;
		copy_complete(copies[k]);
		for (size_t j = 0; j < r->n_outs; j++)
			deliver(b, r->outs[j], copies[k], c);
		/* no delivery kept it (every output had processors) */
		if (copies[k]->refs == 0)
			sl_engine_copy_free(copies[k]);
	}
	free(seen);
}

int sl_engine_deliveries(struct sl_engine *eng, struct sl_chunk *c,
			 struct sl_delivery **list)
{
	struct build b = {.eng = eng};

	sl_record_init(&b.rec);
	if (c->origin && c->origin->n_routes) {
		routed(&b, c);
	} else {
		for (size_t i = 0; i < eng->n_outputs; i++) {
			struct sl_output *out = eng->outputs[i];

			if (sl_route_matches(&out->route, c->tag, c->tag_len))
				deliver(&b, out, c, c);
		}
	}
	sl_record_destroy(&b.rec);
	*list = b.list;
	return (int)b.n;
}
