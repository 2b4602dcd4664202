/* SPDX-License-Identifier: Apache-2.0 */
/*
 * grep.c - the grep filter: keeps or drops a record by matching regular
 * expressions against its fields, with Fluent Bit's rule semantics (legacy,
 * AND, OR). Only string values are matched, as in Fluent Bit; the filter
 * never changes a record.
 */
#include "sluice_plugin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum grep_op {
	GREP_LEGACY = 0,
	GREP_AND,
	GREP_OR,
};

struct grep_rule {
	bool exclude;
	int line;
	struct sl_accessor *acc; /* owned */
	struct sl_regex *re;	 /* owned */
};

struct grep_ctx {
	/* config map */
	struct sl_cfg_kvlist regex;
	struct sl_cfg_kvlist exclude;
	char *logical_op;
	/* built by init */
	enum grep_op op;
	struct grep_rule *rules; /* owned, config order */
	size_t n_rules;
	struct sl_text scratch; /* owned: unescaped field text */
};

/* Adds one "KEY REGEX" rule (split by the config map, SL_CFG_KV). */
static int add_rule(struct grep_ctx *ctx, struct sl_plugin_instance *ins,
		    const struct sl_cfg_kv *item, bool exclude)
{
	const char *opt = exclude ? "Exclude" : "Regex";
	struct grep_rule *r = &ctx->rules[ctx->n_rules];
	const char *v = item->key, *aerr = NULL;
	char err[200], *key;
	size_t klen = strlen(v);

	/* Fluent Bit reads a plain KEY as the accessor "$KEY". */
	key = malloc(klen + 2);
	if (!key)
		return -SL_ENOMEM;
	key[0] = '$';
	memcpy(key + 1, v, klen);
	key[klen + 1] = '\0';
	r->acc = sl_accessor_create(v[0] == '$' ? key + 1 : key, &aerr);
	if (!r->acc && v[0] != '$') /* not an accessor: a plain name */
		r->acc = sl_accessor_create(key + 1, &aerr);
	if (!r->acc) {
		sl_plugin_error(ins, item->line, "%s: bad key '%s': %s", opt,
				key + 1, aerr ? aerr : "invalid accessor");
		free(key);
		return -SL_ECONFIG;
	}
	free(key);
	r->re = sl_regex_create(item->value, err, sizeof(err));
	if (!r->re) {
		sl_accessor_destroy(r->acc);
		r->acc = NULL;
		sl_plugin_error(ins, item->line, "%s: bad regex '%s': %s", opt,
				item->value, err);
		return -SL_ECONFIG;
	}
	r->exclude = exclude;
	r->line = item->line;
	ctx->n_rules++;
	return 0;
}

static int cmp_rule_line(const void *a, const void *b)
{
	const struct grep_rule *ra = a, *rb = b;

	return (ra->line > rb->line) - (ra->line < rb->line);
}

static int grep_init(void *data, struct sl_plugin_instance *ins)
{
	struct grep_ctx *ctx = data;
	size_t total = ctx->regex.n + ctx->exclude.n;
	int rc = 0;

	if (!ctx->logical_op || strcasecmp(ctx->logical_op, "legacy") == 0) {
		ctx->op = GREP_LEGACY;
	} else if (strcasecmp(ctx->logical_op, "AND") == 0) {
		ctx->op = GREP_AND;
	} else if (strcasecmp(ctx->logical_op, "OR") == 0) {
		ctx->op = GREP_OR;
	} else {
		sl_plugin_error(ins, 0,
				"Logical_Op '%s': expected legacy, AND or OR",
				ctx->logical_op);
		rc = -SL_ECONFIG;
	}
	if (ctx->op != GREP_LEGACY && ctx->regex.n && ctx->exclude.n) {
		sl_plugin_error(ins, ctx->exclude.items[0].line,
				"Logical_Op %s: Regex and Exclude cannot be "
				"mixed in one grep filter",
				ctx->logical_op);
		rc = -SL_ECONFIG;
	}
	if (total == 0)
		return rc;
	ctx->rules = calloc(total, sizeof(*ctx->rules));
	if (!ctx->rules)
		return -SL_ENOMEM;
	for (size_t i = 0; i < ctx->regex.n; i++) {
		int r = add_rule(ctx, ins, &ctx->regex.items[i], false);
		if (r == -SL_ENOMEM)
			return r;
		if (r < 0)
			rc = r;
	}
	for (size_t i = 0; i < ctx->exclude.n; i++) {
		int r = add_rule(ctx, ins, &ctx->exclude.items[i], true);
		if (r == -SL_ENOMEM)
			return r;
		if (r < 0)
			rc = r;
	}
	/*
	 * Legacy rules run in the order they were written, whatever their
	 * kind. One section's lines are distinct; a stable order is enough.
	 */
	for (size_t i = 1; i < ctx->n_rules; i++)
		for (size_t j = i; j > 0 && cmp_rule_line(&ctx->rules[j - 1],
							  &ctx->rules[j]) > 0;
		     j--) {
			struct grep_rule t = ctx->rules[j];
			ctx->rules[j] = ctx->rules[j - 1];
			ctx->rules[j - 1] = t;
		}
	return rc;
}

static void grep_destroy(void *data)
{
	struct grep_ctx *ctx = data;

	for (size_t i = 0; i < ctx->n_rules; i++) {
		sl_accessor_destroy(ctx->rules[i].acc);
		sl_regex_destroy(ctx->rules[i].re);
	}
	free(ctx->rules);
	ctx->rules = NULL;
	ctx->n_rules = 0;
	free(ctx->scratch.buf);
	ctx->scratch.buf = NULL;
	ctx->scratch.cap = 0;
}

static bool rule_matches(struct grep_ctx *ctx, struct sl_record *rec,
			 const struct grep_rule *r)
{
	return sl_regex_match_field(rec, r->acc, r->re, &ctx->scratch);
}

static enum sl_filter_verdict grep_filter(void *data, struct sl_record *rec,
					  const char *tag, size_t tag_len)
{
	struct grep_ctx *ctx = data;
	bool found = false;

	if (ctx->n_rules == 0)
		return SL_FILTER_KEEP;
	if (ctx->op == GREP_LEGACY) {
		/*
		 * Fluent Bit's legacy order: the first Regex decides (match
		 * keeps, miss drops); an Exclude that matches drops.
		 */
		for (size_t i = 0; i < ctx->n_rules; i++) {
			const struct grep_rule *r = &ctx->rules[i];
			bool m = rule_matches(ctx, rec, r);

			if (r->exclude && m)
				return SL_FILTER_DROP;
			if (!r->exclude)
				return m ? SL_FILTER_KEEP : SL_FILTER_DROP;
		}
		return SL_FILTER_KEEP;
	}
	/* AND: every rule matches; OR: one does. All rules have one kind. */
	for (size_t i = 0; i < ctx->n_rules; i++) {
		found = rule_matches(ctx, rec, &ctx->rules[i]);
		if (found == (ctx->op == GREP_OR))
			break;
	}
	if (ctx->rules[0].exclude)
		return found ? SL_FILTER_DROP : SL_FILTER_KEEP;
	return found ? SL_FILTER_KEEP : SL_FILTER_DROP;
}

static const struct sl_cfg_option grep_config[] = {
    {.name = "regex",
     .type = SL_CFG_KV,
     .flags = SL_CFG_MULTI | SL_CFG_VERBATIM,
     .offset = offsetof(struct grep_ctx, regex),
     .desc = "KEY REGEX: keep records whose KEY matches REGEX"},
    {.name = "exclude",
     .type = SL_CFG_KV,
     .flags = SL_CFG_MULTI | SL_CFG_VERBATIM,
     .offset = offsetof(struct grep_ctx, exclude),
     .desc = "KEY REGEX: drop records whose KEY matches REGEX"},
    {.name = "logical_op",
     .type = SL_CFG_STR,
     .def = "legacy",
     .offset = offsetof(struct grep_ctx, logical_op),
     .desc = "legacy, AND or OR: how several rules combine"},
    SL_CFG_END,
};

const struct sl_filter_plugin sl_filter_grep = {
    .name = "grep",
    .description = "keep or drop records by regular expressions on fields",
    .config_map = grep_config,
    .ctx_size = sizeof(struct grep_ctx),
    .init = grep_init,
    .destroy = grep_destroy,
    .filter = grep_filter,
};
