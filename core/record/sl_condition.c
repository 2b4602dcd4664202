/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_condition.c - evaluating Fluent Bit conditions on records (see
 * sl_condition.h for the semantics). Rules are compiled once: accessor,
 * operator, values (numbers parsed for the numeric operators, regexes
 * compiled with the one PCRE2 wrapper).
 */
#include "sl_condition.h"
#include "sl_regex.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum rule_op {
	OP_EQ,
	OP_NEQ,
	OP_GT,
	OP_LT,
	OP_GTE,
	OP_LTE,
	OP_REGEX,
	OP_NOT_REGEX,
	OP_IN,
	OP_NOT_IN,
};

static const struct {
	const char *name;
	enum rule_op op;
} op_names[] = {
    {"eq", OP_EQ},	 {"neq", OP_NEQ},
    {"gt", OP_GT},	 {"lt", OP_LT},
    {"gte", OP_GTE},	 {"lte", OP_LTE},
    {"regex", OP_REGEX}, {"not_regex", OP_NOT_REGEX},
    {"in", OP_IN},	 {"not_in", OP_NOT_IN},
};

/* Contexts a sluice record has: its body, and metadata that is empty. */
static const char *const present_contexts[] = {"body", "metadata"};
static const char *const absent_contexts[] = {
    "group_metadata",	     "group_attributes",    "otel_resource_attributes",
    "otel_scope_attributes", "otel_scope_metadata",
};

enum context { CTX_BODY, CTX_METADATA, CTX_ABSENT };

struct rule {
	struct sl_accessor *acc;
	enum rule_op op;
	enum context ctx;
	char **values; /* owned */
	size_t n_values;
	double number;	/* gt, lt, gte, lte */
	pcre2_code *re; /* regex, not_regex */
	pcre2_match_data *md;
};

struct sl_condition {
	bool op_or;
	struct rule *rules;
	size_t n;
	struct sl_text scratch; /* field text of the rule being evaluated */
};

struct sl_condition *sl_condition_create(bool op_or)
{
	struct sl_condition *c = calloc(1, sizeof(*c));

	if (c)
		c->op_or = op_or;
	return c;
}

static void rule_destroy(struct rule *r)
{
	sl_accessor_destroy(r->acc);
	for (size_t i = 0; i < r->n_values; i++)
		free(r->values[i]);
	free(r->values);
	pcre2_match_data_free(r->md);
	pcre2_code_free(r->re);
}

void sl_condition_destroy(struct sl_condition *cond)
{
	if (!cond)
		return;
	for (size_t i = 0; i < cond->n; i++)
		rule_destroy(&cond->rules[i]);
	free(cond->rules);
	free(cond->scratch.buf);
	free(cond);
}

size_t sl_condition_rules(const struct sl_condition *cond)
{
	return cond ? cond->n : 0;
}

static int parse_context(const char *name, enum context *ctx)
{
	if (!name || !*name) {
		*ctx = CTX_BODY;
		return 0;
	}
	for (size_t i = 0; i < SL_ARRAY_LEN(present_contexts); i++)
		if (strcasecmp(name, present_contexts[i]) == 0) {
			*ctx = i == 0 ? CTX_BODY : CTX_METADATA;
			return 0;
		}
	for (size_t i = 0; i < SL_ARRAY_LEN(absent_contexts); i++)
		if (strcasecmp(name, absent_contexts[i]) == 0) {
			*ctx = CTX_ABSENT;
			return 0;
		}
	return -SL_EINVAL;
}

/*
 * Fluent Bit's conditions also write the root key in brackets,
 * "$['service.name']": that is "$service.name" for sluice's accessors
 * (which take every character up to '[' as the key).
 */
static struct sl_accessor *create_accessor(const char *field, const char **err)
{
	struct sl_accessor *acc;
	char q, *spec;
	const char *end;

	if (strncmp(field, "$[", 2) != 0 ||
	    (field[2] != '\'' && field[2] != '"'))
		return sl_accessor_create(field, err);
	q = field[2];
	end = strchr(field + 3, q);
	if (!end || end[1] != ']' || end == field + 3 ||
	    memchr(field + 3, '[', (size_t)(end - field - 3))) {
		*err = "expected $['key'] with a non-empty key";
		return NULL;
	}
	if (asprintf(&spec, "$%.*s%s", (int)(end - field - 3), field + 3,
		     end + 2) < 0) {
		*err = NULL;
		return NULL;
	}
	acc = sl_accessor_create(spec, err);
	free(spec);
	return acc;
}

static int fill_rule(struct rule *r, const char *field, const char *op,
		     const char *const *values, size_t n, const char *context,
		     char *err, size_t err_len)
{
	const char *aerr = NULL;
	size_t k;

	for (k = 0; k < SL_ARRAY_LEN(op_names); k++)
		if (strcasecmp(op, op_names[k].name) == 0)
			break;
	if (k == SL_ARRAY_LEN(op_names)) {
		snprintf(err, err_len,
			 "op '%s' is not eq, neq, gt, lt, gte, lte, regex, "
			 "not_regex, in or not_in",
			 op);
		return -SL_EINVAL;
	}
	r->op = op_names[k].op;
	if (parse_context(context, &r->ctx) < 0) {
		snprintf(err, err_len,
			 "context '%s' is not body, metadata, group_metadata, "
			 "group_attributes, otel_resource_attributes, "
			 "otel_scope_attributes or otel_scope_metadata",
			 context);
		return -SL_EINVAL;
	}
	if (r->op == OP_IN || r->op == OP_NOT_IN) {
		if (n == 0) {
			snprintf(err, err_len, "op %s needs a list of values",
				 op_names[k].name);
			return -SL_EINVAL;
		}
	} else if (n != 1) {
		snprintf(err, err_len, "op %s needs exactly one value",
			 op_names[k].name);
		return -SL_EINVAL;
	}
	r->acc = create_accessor(field, &aerr);
	if (!r->acc) {
		snprintf(err, err_len, "field '%s': %s", field,
			 aerr ? aerr : "out of memory");
		return aerr ? -SL_EINVAL : -SL_ENOMEM;
	}
	r->values = calloc(n, sizeof(*r->values));
	if (!r->values)
		return -SL_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		r->values[i] = strdup(values[i]);
		if (!r->values[i])
			return -SL_ENOMEM;
		r->n_values++;
	}
	switch (r->op) {
	case OP_EQ:
	case OP_NEQ:
	case OP_REGEX:
	case OP_NOT_REGEX:
		/* Fluent Bit refuses an empty value for these */
		if (!*values[0]) {
			snprintf(err, err_len, "op %s needs a non-empty value",
				 op_names[k].name);
			return -SL_EINVAL;
		}
		break;
	case OP_GT:
	case OP_LT:
	case OP_GTE:
	case OP_LTE: {
		char *end;

		r->number = strtod(values[0], &end);
		if (end == values[0] || *end) {
			snprintf(err, err_len, "op %s needs a number, not '%s'",
				 op_names[k].name, values[0]);
			return -SL_EINVAL;
		}
		break;
	}
	case OP_IN:
	case OP_NOT_IN:
		break;
	}
	if (r->op == OP_REGEX || r->op == OP_NOT_REGEX) {
		char rerr[160];

		r->re = sl_regex_compile(values[0], rerr, sizeof(rerr));
		if (!r->re) {
			snprintf(err, err_len, "regex '%s': %s", values[0],
				 rerr);
			return -SL_EINVAL;
		}
		r->md = pcre2_match_data_create_from_pattern(r->re, NULL);
		if (!r->md)
			return -SL_ENOMEM;
	}
	return 0;
}

int sl_condition_add_rule(struct sl_condition *cond, const char *field,
			  const char *op, const char *const *values, size_t n,
			  const char *context, char *err, size_t err_len)
{
	struct rule r = {0}, *p;
	int rc;

	if (!field || !*field) {
		snprintf(err, err_len, "a rule needs a field");
		return -SL_EINVAL;
	}
	if (!op || !*op) {
		snprintf(err, err_len, "a rule needs an op");
		return -SL_EINVAL;
	}
	rc = fill_rule(&r, field, op, values, n, context, err, err_len);
	if (rc == -SL_ENOMEM)
		snprintf(err, err_len, "out of memory");
	if (rc < 0) {
		rule_destroy(&r);
		return rc;
	}
	p = realloc(cond->rules, (cond->n + 1) * sizeof(*p));
	if (!p) {
		rule_destroy(&r);
		snprintf(err, err_len, "out of memory");
		return -SL_ENOMEM;
	}
	cond->rules = p;
	cond->rules[cond->n++] = r;
	return 0;
}

/* A JSON number literal with a fraction or exponent. */
static bool is_float(const char *raw, size_t len)
{
	return memchr(raw, '.', len) || memchr(raw, 'e', len) ||
	       memchr(raw, 'E', len);
}

/*
 * The field as Fluent Bit's record accessor prints it. False when the
 * rule cannot be evaluated at all (an array, an unreadable body).
 */
static bool field_text(struct sl_condition *cond, const struct rule *r,
		       struct sl_record *rec, const char **text, size_t *len,
		       char *num, size_t num_len)
{
	struct sl_value v;
	int rc;

	if (r->ctx == CTX_METADATA) { /* present but empty: never found */
		*text = "";
		*len = 0;
		return true;
	}
	rc = sl_record_get(rec, r->acc, &v);
	if (rc == -SL_ENOENT) {
		*text = "";
		*len = 0;
		return true;
	}
	if (rc < 0 || v.type == SL_VAL_ARRAY)
		return false;
	if (v.type == SL_VAL_NUMBER && is_float(v.raw, v.raw_len)) {
		/* a float: "%f" as Fluent Bit's accessor formats it */
		char lit[64];
		size_t l =
		    v.raw_len < sizeof(lit) - 1 ? v.raw_len : sizeof(lit) - 1;

		memcpy(lit, v.raw, l);
		lit[l] = '\0';
		int n = snprintf(num, num_len, "%f", strtod(lit, NULL));

		*text = num;
		*len = n < 0		     ? 0
		       : (size_t)n < num_len ? (size_t)n
					     : num_len - 1;
		return true;
	}
	return sl_record_get_text(rec, r->acc, &cond->scratch, text, len) == 0;
}

static bool text_is(const char *text, size_t len, const char *value)
{
	return strlen(value) == len && memcmp(text, value, len) == 0;
}

static bool eval_rule(struct sl_condition *cond, const struct rule *r,
		      struct sl_record *rec)
{
	char num[512];
	const char *text;
	size_t len;
	char *copy;
	double x;
	bool found;

	if (!field_text(cond, r, rec, &text, &len, num, sizeof(num)))
		return false;
	switch (r->op) {
	case OP_EQ:
		return text_is(text, len, r->values[0]);
	case OP_NEQ:
		return !text_is(text, len, r->values[0]);
	case OP_GT:
	case OP_LT:
	case OP_GTE:
	case OP_LTE:
		/* atof() of the text, as Fluent Bit: a text that is not a
		 * number reads as 0 */
		copy = strndup(text, len);
		if (!copy)
			return false;
		x = atof(copy);
		free(copy);
		if (r->op == OP_GT)
			return x > r->number;
		if (r->op == OP_LT)
			return x < r->number;
		if (r->op == OP_GTE)
			return x >= r->number;
		return x <= r->number;
	case OP_REGEX:
	case OP_NOT_REGEX:
		found = pcre2_match(r->re, (PCRE2_SPTR)text, len, 0, 0, r->md,
				    NULL) >= 0;
		return r->op == OP_REGEX ? found : !found;
	case OP_IN:
	case OP_NOT_IN:
		found = false;
		for (size_t i = 0; i < r->n_values && !found; i++)
			found = text_is(text, len, r->values[i]);
		return r->op == OP_IN ? found : !found;
	}
	return false;
}

bool sl_condition_eval(const struct sl_condition *cond, struct sl_record *rec)
{
	/* the scratch buffer is evaluation state, not the condition's
	 * meaning: evaluating is logically const */
	struct sl_condition *c = (struct sl_condition *)cond;
	bool any = false;

	if (!cond)
		return true;
	if (cond->n == 0)
		return !cond->op_or;
	for (size_t i = 0; i < cond->n; i++) {
		const struct rule *r = &cond->rules[i];
		bool ok;

		if (r->ctx == CTX_ABSENT) {
			/* no such context: false under and, skipped under or */
			if (!cond->op_or)
				return false;
			continue;
		}
		ok = eval_rule(c, r, rec);
		if (!cond->op_or && !ok)
			return false;
		if (cond->op_or && ok)
			return true;
		any |= ok;
	}
	return cond->op_or ? any : true;
}
