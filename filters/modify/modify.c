/* SPDX-License-Identifier: Apache-2.0 */
/*
 * modify.c - the modify filter: Fluent Bit's rules (Set, Add, Remove,
 * Remove_wildcard, Remove_regex, Rename, Hard_rename, Copy, Hard_copy,
 * Move_to_start, Move_to_end) applied in config order to records that pass
 * every Condition. Rules work on top-level keys only, as in Fluent Bit;
 * conditions on one key take record accessors. Values written are strings.
 */
#include "sluice_plugin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum rule_type {
	R_SET,
	R_ADD,
	R_REMOVE,
	R_REMOVE_WILDCARD,
	R_REMOVE_REGEX,
	R_MOVE_TO_START,
	R_MOVE_TO_END,
	R_RENAME,
	R_HARD_RENAME,
	R_COPY,
	R_HARD_COPY,
	R_N_TYPES,
};

enum cond_type {
	C_KEY_EXISTS,
	C_KEY_DOES_NOT_EXIST,
	C_A_KEY_MATCHES,
	C_NO_KEY_MATCHES,
	C_KEY_VALUE_EQUALS,
	C_KEY_VALUE_DOES_NOT_EQUAL,
	C_KEY_VALUE_MATCHES,
	C_KEY_VALUE_DOES_NOT_MATCH,
	C_MATCHING_KEYS_HAVE_MATCHING_VALUES,
	C_MATCHING_KEYS_DO_NOT_HAVE_MATCHING_VALUES,
};

/* Option name and argument count of each rule, indexed by enum rule_type. */
static const struct {
	const char *name;
	int nargs;
} rule_kinds[R_N_TYPES] = {
    [R_SET] = {"Set", 2},
    [R_ADD] = {"Add", 2},
    [R_REMOVE] = {"Remove", 1},
    [R_REMOVE_WILDCARD] = {"Remove_wildcard", 1},
    [R_REMOVE_REGEX] = {"Remove_regex", 1},
    [R_MOVE_TO_START] = {"Move_to_start", 1},
    [R_MOVE_TO_END] = {"Move_to_end", 1},
    [R_RENAME] = {"Rename", 2},
    [R_HARD_RENAME] = {"Hard_rename", 2},
    [R_COPY] = {"Copy", 2},
    [R_HARD_COPY] = {"Hard_copy", 2},
};

/* Condition names; `a_regex`: A is a key regex, else an accessor. */
static const struct {
	const char *name;
	enum cond_type type;
	bool a_regex, has_b, b_regex;
} cond_kinds[] = {
    {"Key_exists", C_KEY_EXISTS, false, false, false},
    {"Key_does_not_exist", C_KEY_DOES_NOT_EXIST, false, false, false},
    {"A_key_matches", C_A_KEY_MATCHES, true, false, false},
    {"No_key_matches", C_NO_KEY_MATCHES, true, false, false},
    {"Key_value_equals", C_KEY_VALUE_EQUALS, false, true, false},
    {"Key_value_does_not_equal", C_KEY_VALUE_DOES_NOT_EQUAL, false, true,
     false},
    {"Key_value_matches", C_KEY_VALUE_MATCHES, false, true, true},
    {"Key_value_does_not_match", C_KEY_VALUE_DOES_NOT_MATCH, false, true, true},
    {"Matching_keys_have_matching_values", C_MATCHING_KEYS_HAVE_MATCHING_VALUES,
     true, true, true},
    {"Matching_keys_do_not_have_matching_values",
     C_MATCHING_KEYS_DO_NOT_HAVE_MATCHING_VALUES, true, true, true},
};

#define N_COND_KINDS (sizeof(cond_kinds) / sizeof(cond_kinds[0]))

struct modify_rule {
	enum rule_type type;
	int line;
	char *key, *val; /* owned; val NULL for one-argument rules */
	size_t key_len, val_len;
	struct sl_regex *re; /* owned: Remove_regex only */
};

struct modify_cond {
	enum cond_type type;
	char *b; /* owned, may be NULL */
	size_t b_len;
	struct sl_accessor *acc;      /* owned: conditions on one key */
	struct sl_regex *a_re, *b_re; /* owned */
};

struct modify_ctx {
	/*
	 * config map, one list per rule kind (same order as enum rule_type):
	 * one-argument rules in rules_cfg, KEY VALUE ones in pairs_cfg
	 */
	struct sl_cfg_multi rules_cfg[R_N_TYPES];
	struct sl_cfg_kvlist pairs_cfg[R_N_TYPES];
	struct sl_cfg_multi condition;
	/* built by init */
	struct modify_rule *rules; /* owned, config order */
	size_t n_rules;
	struct modify_cond *conds; /* owned */
	size_t n_conds;
	struct sl_text kscratch; /* owned: keys while iterating */
	struct sl_text vscratch; /* owned: accessor values */
	struct sl_buf vbuf;	 /* owned: unescaped iterated values */
	struct sl_buf out;	 /* owned: rebuilt bodies */
};

/* ---- configuration ------------------------------------------------------ */

/*
 * Splits a rule value into at most 3 arguments the way Fluent Bit does:
 * separated by spaces, a token starting with " or ' runs to its closing
 * quote, inside which \<quote> and \\ are unescaped. Tokens are written,
 * NUL-terminated, into `buf` (strlen(s) + 1 bytes). Returns the number of
 * tokens, 4 when there are more than 3, or -1 on an unterminated quote.
 */
static int split_args(const char *s, char *buf, char *tok[3], size_t len[3])
{
	int n = 0;

	for (;;) {
		char *o = buf;

		while (*s == ' ')
			s++;
		if (*s == '\0')
			return n;
		if (n == 3)
			return 4;
		if (*s == '"' || *s == '\'') {
			char q = *s++;

			while (*s != q) {
				if (*s == '\0')
					return -1;
				if (*s == '\\' && (s[1] == q || s[1] == '\\'))
					s++;
				*buf++ = *s++;
			}
			s++;
		} else {
			while (*s && *s != ' ')
				*buf++ = *s++;
		}
		*buf++ = '\0';
		tok[n] = o;
		len[n] = (size_t)(buf - o - 1);
		n++;
	}
}

/*
 * One rule: a one-argument `item`, or a KEY VALUE `kv` already split by the
 * config map (SL_CFG_KV). As in Fluent Bit, VALUE is one word.
 */
static int add_rule(struct modify_ctx *ctx, struct sl_plugin_instance *ins,
		    enum rule_type type, const struct sl_cfg_item *item,
		    const struct sl_cfg_kv *kv)
{
	const char *opt = rule_kinds[type].name;
	struct modify_rule *r = &ctx->rules[ctx->n_rules];
	char *buf = NULL, *tok[3], err[200];
	int line = kv ? kv->line : item->line;
	size_t len[3];
	struct sl_regex *re;
	int n;

	if (kv) {
		if (!kv->value_quoted && strpbrk(kv->value, " \t")) {
			sl_plugin_error(ins, line,
					"%s '%s %s': expected KEY VALUE "
					"(quote a value that holds spaces)",
					opt, kv->key, kv->value);
			return -SL_ECONFIG;
		}
		n = 2;
		tok[0] = kv->key;
		tok[1] = kv->value;
		len[0] = strlen(kv->key);
		len[1] = strlen(kv->value);
	} else {
		buf = malloc(strlen(item->value) + 1);
		if (!buf)
			return -SL_ENOMEM;
		n = split_args(item->value, buf, tok, len);
		if (n != 1) {
			if (n < 0)
				sl_plugin_error(ins, line,
						"%s '%s': unterminated quote",
						opt, item->value);
			else
				sl_plugin_error(ins, line,
						"%s '%s': expected KEY (quote "
						"a key that holds spaces)",
						opt, item->value);
			free(buf);
			return -SL_ECONFIG;
		}
	}
	/*
	 * Fluent Bit compiles every rule's key as a regex and refuses to
	 * start when it is not one (e.g. "Remove_wildcard *s3").
	 */
	re = sl_regex_create(tok[0], err, sizeof(err));
	if (!re) {
		sl_plugin_error(ins, line,
				"%s: '%s' is not a valid regular expression "
				"(%s)",
				opt, tok[0], err);
		free(buf);
		return -SL_ECONFIG;
	}
	if (type == R_REMOVE_REGEX)
		r->re = re;
	else
		sl_regex_destroy(re);
	r->key = strndup(tok[0], len[0]);
	r->key_len = len[0];
	if (n == 2) {
		r->val = strndup(tok[1], len[1]);
		r->val_len = len[1];
	}
	free(buf);
	r->type = type;
	r->line = line;
	ctx->n_rules++;
	if (!r->key || (n == 2 && !r->val))
		return -SL_ENOMEM;
	return 0;
}

static int add_cond(struct modify_ctx *ctx, struct sl_plugin_instance *ins,
		    const struct sl_cfg_item *item)
{
	struct modify_cond *c = &ctx->conds[ctx->n_conds];
	char *buf, *tok[3], err[200];
	const char *aerr = NULL;
	size_t len[3], k;
	int n, rc = -SL_ECONFIG;

	buf = malloc(strlen(item->value) + 1);
	if (!buf)
		return -SL_ENOMEM;
	n = split_args(item->value, buf, tok, len);
	if (n < 1) {
		sl_plugin_error(ins, item->line,
				"Condition '%s': expected TYPE KEY [VALUE]",
				item->value);
		goto out;
	}
	for (k = 0; k < N_COND_KINDS; k++)
		if (strcasecmp(tok[0], cond_kinds[k].name) == 0)
			break;
	if (k == N_COND_KINDS) {
		sl_plugin_error(ins, item->line,
				"Condition '%s': unknown condition '%s'",
				item->value, tok[0]);
		goto out;
	}
	if (n != (cond_kinds[k].has_b ? 3 : 2)) {
		sl_plugin_error(
		    ins, item->line, "Condition %s: expected %s, got '%s'",
		    cond_kinds[k].name,
		    cond_kinds[k].has_b ? "KEY VALUE" : "KEY", item->value);
		goto out;
	}
	ctx->n_conds++;
	c->type = cond_kinds[k].type;
	if (cond_kinds[k].a_regex) {
		c->a_re = sl_regex_create(tok[1], err, sizeof(err));
		if (!c->a_re) {
			sl_plugin_error(ins, item->line,
					"Condition %s: bad regex '%s': %s",
					cond_kinds[k].name, tok[1], err);
			goto out;
		}
	} else {
		c->acc = sl_accessor_create(tok[1], &aerr);
		if (!c->acc) {
			sl_plugin_error(ins, item->line,
					"Condition %s: bad key '%s': %s",
					cond_kinds[k].name, tok[1],
					aerr ? aerr : "invalid accessor");
			goto out;
		}
	}
	if (cond_kinds[k].b_regex) {
		c->b_re = sl_regex_create(tok[2], err, sizeof(err));
		if (!c->b_re) {
			sl_plugin_error(ins, item->line,
					"Condition %s: bad regex '%s': %s",
					cond_kinds[k].name, tok[2], err);
			goto out;
		}
	} else if (cond_kinds[k].has_b) {
		c->b = strndup(tok[2], len[2]);
		c->b_len = len[2];
		if (!c->b) {
			rc = -SL_ENOMEM;
			goto out;
		}
	}
	rc = 0;
out:
	free(buf);
	return rc;
}

static int modify_init(void *data, struct sl_plugin_instance *ins)
{
	struct modify_ctx *ctx = data;
	size_t total = 0, cursor[R_N_TYPES + 1] = {0};
	int rc = 0, r;

	for (int t = 0; t < R_N_TYPES; t++)
		total += ctx->rules_cfg[t].n + ctx->pairs_cfg[t].n;
	ctx->rules = calloc(total ? total : 1, sizeof(*ctx->rules));
	ctx->conds = calloc(ctx->condition.n ? ctx->condition.n : 1,
			    sizeof(*ctx->conds));
	if (!ctx->rules || !ctx->conds)
		return -SL_ENOMEM;
	/*
	 * Merge the per-option lists by line: rules run in the order they
	 * were written, and errors are reported in that order too.
	 */
	for (;;) {
		int best = -1, best_line = 0;

		for (int t = 0; t <= R_N_TYPES; t++) {
			const struct sl_cfg_kvlist *p =
			    t < R_N_TYPES && rule_kinds[t].nargs == 2
				? &ctx->pairs_cfg[t]
				: NULL;
			const struct sl_cfg_multi *m = t < R_N_TYPES
							   ? &ctx->rules_cfg[t]
							   : &ctx->condition;
			size_t n = p ? p->n : m->n;
			int line;

			if (cursor[t] >= n)
				continue;
			line = p ? p->items[cursor[t]].line
				 : m->items[cursor[t]].line;
			if (best < 0 || line < best_line) {
				best = t;
				best_line = line;
			}
		}
		if (best < 0)
			break;
		if (best < R_N_TYPES && rule_kinds[best].nargs == 2)
			r = add_rule(ctx, ins, (enum rule_type)best, NULL,
				     &ctx->pairs_cfg[best].items[cursor[best]]);
		else if (best < R_N_TYPES)
			r = add_rule(ctx, ins, (enum rule_type)best,
				     &ctx->rules_cfg[best].items[cursor[best]],
				     NULL);
		else
			r = add_cond(ctx, ins,
				     &ctx->condition.items[cursor[best]]);
		cursor[best]++;
		if (r == -SL_ENOMEM)
			return r;
		if (r < 0)
			rc = r;
	}
	return rc;
}

static void modify_destroy(void *data)
{
	struct modify_ctx *ctx = data;

	for (size_t i = 0; ctx->rules && i < ctx->n_rules; i++) {
		free(ctx->rules[i].key);
		free(ctx->rules[i].val);
		sl_regex_destroy(ctx->rules[i].re);
	}
	for (size_t i = 0; ctx->conds && i < ctx->n_conds; i++) {
		free(ctx->conds[i].b);
		sl_accessor_destroy(ctx->conds[i].acc);
		sl_regex_destroy(ctx->conds[i].a_re);
		sl_regex_destroy(ctx->conds[i].b_re);
	}
	free(ctx->rules);
	free(ctx->conds);
	ctx->rules = NULL;
	ctx->conds = NULL;
	ctx->n_rules = ctx->n_conds = 0;
	free(ctx->kscratch.buf);
	free(ctx->vscratch.buf);
	memset(&ctx->kscratch, 0, sizeof(ctx->kscratch));
	memset(&ctx->vscratch, 0, sizeof(ctx->vscratch));
	sl_buf_destroy(&ctx->vbuf);
	sl_buf_destroy(&ctx->out);
}

/* ---- record helpers ----------------------------------------------------- */

static int put_utf8(struct sl_buf *b, uint32_t cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xC0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xE0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		u[0] = (char)(0xF0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	return sl_buf_append(b, u, n);
}

static uint32_t hex4(const char *p)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
	}
	return v;
}

/*
 * Unescapes the inside of a JSON string of a valid record into `b` (reset
 * first). A lone surrogate becomes U+FFFD, as the core's view does.
 */
static int unescape(struct sl_buf *b, const char *s, size_t len)
{
	const char *end = s + len;
	int rc = 0;

	sl_buf_reset(b);
	while (s < end && rc == 0) {
		const char *bs = memchr(s, '\\', (size_t)(end - s));

		if (!bs)
			return sl_buf_append(b, s, (size_t)(end - s));
		rc = sl_buf_append(b, s, (size_t)(bs - s));
		s = bs + 1;
		if (s >= end || rc)
			break;
		switch (*s) {
		case 'b':
			rc = sl_buf_append(b, "\b", 1);
			break;
		case 'f':
			rc = sl_buf_append(b, "\f", 1);
			break;
		case 'n':
			rc = sl_buf_append(b, "\n", 1);
			break;
		case 'r':
			rc = sl_buf_append(b, "\r", 1);
			break;
		case 't':
			rc = sl_buf_append(b, "\t", 1);
			break;
		case 'u': {
			uint32_t cp = end - s >= 5 ? hex4(s + 1) : 0xFFFD;

			s += end - s >= 5 ? 4 : 0;
			if (cp >= 0xD800 && cp < 0xDC00 && end - s >= 7 &&
			    s[1] == '\\' && s[2] == 'u') {
				uint32_t lo = hex4(s + 3);

				if (lo >= 0xDC00 && lo < 0xE000) {
					cp = 0x10000 + ((cp - 0xD800) << 10) +
					     (lo - 0xDC00);
					s += 6;
				}
			}
			if (cp >= 0xD800 && cp < 0xE000)
				cp = 0xFFFD;
			rc = put_utf8(b, cp);
			break;
		}
		default: /* \" \\ \/ */
			rc = sl_buf_append(b, s, 1);
			break;
		}
		s++;
	}
	return rc;
}

/*
 * The text a value is compared as, like Fluent Bit: a string (unescaped)
 * or a boolean literal. Other types have none: returns false.
 */
static bool value_text(struct modify_ctx *ctx, const struct sl_value *v,
		       const char **text, size_t *len)
{
	if (v->type == SL_VAL_BOOL) {
		*text = v->raw;
		*len = v->raw_len;
		return true;
	}
	if (v->type != SL_VAL_STRING || v->raw_len < 2)
		return false;
	if (!memchr(v->raw, '\\', v->raw_len)) {
		*text = v->raw + 1;
		*len = v->raw_len - 2;
		return true;
	}
	if (unescape(&ctx->vbuf, v->raw + 1, v->raw_len - 2) < 0)
		return false;
	*text = ctx->vbuf.data ? ctx->vbuf.data : "";
	*len = ctx->vbuf.len;
	return true;
}

static bool re_match(struct modify_ctx *ctx, const struct sl_regex *re,
		     const char *s, size_t len)
{
	return sl_regex_match(re, s, len);
}

static bool key_is(const char *key, size_t klen, const char *s, size_t len)
{
	return klen == len && memcmp(key, s, len) == 0;
}

/* Number of top-level fields named exactly `name`. */
static size_t count_key(struct modify_ctx *ctx, struct sl_record *rec,
			const char *name, size_t len)
{
	struct sl_value v;
	const char *key;
	size_t pos = 0, klen, n = 0;

	while (sl_record_next_field(rec, &pos, &ctx->kscratch, &key, &klen,
				    &v) == 1)
		if (key_is(key, klen, name, len))
			n++;
	return n;
}

/* ---- conditions --------------------------------------------------------- */

/*
 * Value of the condition's key as comparable text; false when there is
 * none. Fluent Bit compares only strings for equality, and strings or
 * booleans for regex matches (`bools`).
 */
static bool cond_value(struct modify_ctx *ctx, struct sl_record *rec,
		       const struct modify_cond *c, bool bools, bool *exists,
		       const char **text, size_t *len)
{
	struct sl_value v;

	*exists = sl_record_get(rec, c->acc, &v) == 0;
	if (!*exists || (!bools && v.type != SL_VAL_STRING))
		return false;
	if (v.type == SL_VAL_STRING && memchr(v.raw, '\\', v.raw_len))
		return sl_record_get_text(rec, c->acc, &ctx->vscratch, text,
					  len) == 0;
	return value_text(ctx, &v, text, len);
}

/* Any key matches a_re; with `values`, every such key's value matches. */
static bool keys_match(struct modify_ctx *ctx, struct sl_record *rec,
		       const struct modify_cond *c, bool values)
{
	struct sl_value v;
	const char *key, *text;
	size_t pos = 0, klen, tlen;

	while (sl_record_next_field(rec, &pos, &ctx->kscratch, &key, &klen,
				    &v) == 1) {
		if (!re_match(ctx, c->a_re, key, klen))
			continue;
		if (!values)
			return true;
		if (!value_text(ctx, &v, &text, &tlen) ||
		    !re_match(ctx, c->b_re, text, tlen))
			return false;
	}
	return values;
}

static bool cond_holds(struct modify_ctx *ctx, struct sl_record *rec,
		       const struct modify_cond *c)
{
	const char *text = NULL;
	size_t len = 0;
	bool exists, has;

	switch (c->type) {
	case C_KEY_EXISTS:
	case C_KEY_DOES_NOT_EXIST: {
		struct sl_value v;

		exists = sl_record_get(rec, c->acc, &v) == 0;
		return exists == (c->type == C_KEY_EXISTS);
	}
	case C_A_KEY_MATCHES:
		return keys_match(ctx, rec, c, false);
	case C_NO_KEY_MATCHES:
		return !keys_match(ctx, rec, c, false);
	case C_KEY_VALUE_EQUALS:
	case C_KEY_VALUE_DOES_NOT_EQUAL:
		has = cond_value(ctx, rec, c, false, &exists, &text, &len) &&
		      key_is(text, len, c->b, c->b_len);
		if (c->type == C_KEY_VALUE_EQUALS)
			return has;
		return exists && !has;
	case C_KEY_VALUE_MATCHES:
	case C_KEY_VALUE_DOES_NOT_MATCH:
		has = cond_value(ctx, rec, c, true, &exists, &text, &len) &&
		      re_match(ctx, c->b_re, text, len);
		if (c->type == C_KEY_VALUE_MATCHES)
			return has;
		return exists && !has;
	case C_MATCHING_KEYS_HAVE_MATCHING_VALUES:
		return keys_match(ctx, rec, c, true);
	case C_MATCHING_KEYS_DO_NOT_HAVE_MATCHING_VALUES:
		return !keys_match(ctx, rec, c, true);
	}
	return false;
}

/* ---- rules -------------------------------------------------------------- */

static bool rule_selects(struct modify_ctx *ctx, const struct modify_rule *r,
			 const char *key, size_t klen)
{
	switch (r->type) {
	case R_REMOVE_REGEX:
		return re_match(ctx, r->re, key, klen);
	case R_REMOVE_WILDCARD:
	case R_MOVE_TO_START:
	case R_MOVE_TO_END:
		/* Fluent Bit's "wildcard" is a literal key prefix. */
		return klen >= r->key_len &&
		       memcmp(key, r->key, r->key_len) == 0;
	default:
		return key_is(key, klen, r->key, r->key_len);
	}
}

static int emit_field(struct sl_buf *b, bool *first, const char *key,
		      size_t klen, const char *raw, size_t raw_len)
{
	int rc = 0;

	if (!*first)
		rc = sl_buf_append(b, ",", 1);
	*first = false;
	if (!rc)
		rc = sl_json_append_string(b, key, klen);
	if (!rc)
		rc = sl_buf_append(b, ":", 1);
	if (!rc)
		rc = sl_buf_append(b, raw, raw_len);
	return rc;
}

/*
 * Writes the record once more with the rule applied, for the rules that
 * remove several keys, reorder keys, or place a copy after its source.
 */
static int rebuild(struct modify_ctx *ctx, struct sl_record *rec,
		   const struct modify_rule *r)
{
	int passes =
	    r->type == R_MOVE_TO_START || r->type == R_MOVE_TO_END ? 2 : 1;
	struct sl_buf *b = &ctx->out;
	bool first = true;
	int rc;

	sl_buf_reset(b);
	rc = sl_buf_append(b, "{", 1);
	for (int pass = 0; pass < passes && rc == 0; pass++) {
		struct sl_value v;
		const char *key;
		size_t pos = 0, klen;

		while (rc == 0 &&
		       sl_record_next_field(rec, &pos, &ctx->kscratch, &key,
					    &klen, &v) == 1) {
			bool sel = rule_selects(ctx, r, key, klen);

			switch (r->type) {
			case R_MOVE_TO_START:
				if (sel != (pass == 0))
					continue;
				break;
			case R_MOVE_TO_END:
				if (sel != (pass == 1))
					continue;
				break;
			case R_COPY:
			case R_HARD_COPY:
				/* The old target goes; the copy replaces it. */
				if (key_is(key, klen, r->val, r->val_len))
					continue;
				break;
			default: /* the removals */
				if (sel)
					continue;
				break;
			}
			rc = emit_field(b, &first, key, klen, v.raw, v.raw_len);
			if (rc == 0 && sel &&
			    (r->type == R_COPY || r->type == R_HARD_COPY))
				rc = emit_field(b, &first, r->val, r->val_len,
						v.raw, v.raw_len);
		}
	}
	if (rc == 0)
		rc = sl_buf_append(b, "}", 1);
	if (rc == 0)
		rc = sl_record_set_body(rec, b->data, b->len);
	return rc;
}

/* Number of top-level keys the rule selects. */
static size_t count_selected(struct modify_ctx *ctx, struct sl_record *rec,
			     const struct modify_rule *r)
{
	struct sl_value v;
	const char *key;
	size_t pos = 0, klen, n = 0;

	while (sl_record_next_field(rec, &pos, &ctx->kscratch, &key, &klen,
				    &v) == 1)
		if (rule_selects(ctx, r, key, klen))
			n++;
	return n;
}

/* Removes every field named `key` (a repeated key included). */
static int remove_all(struct sl_record *rec, const char *key, size_t len,
		      size_t n)
{
	int rc = n ? sl_record_remove(rec, key, len) : 0;

	return rc == -SL_ENOENT ? 0 : rc;
}

static int apply_rule(struct modify_ctx *ctx, struct sl_record *rec,
		      const struct modify_rule *r)
{
	size_t n, conflicts;
	int rc = 0;

	switch (r->type) {
	case R_SET:
		/* Fluent Bit drops the old pair and appends the new one. */
		n = count_key(ctx, rec, r->key, r->key_len);
		rc = remove_all(rec, r->key, r->key_len, n);
		if (rc == 0)
			rc = sl_record_set_string(rec, r->key, r->key_len,
						  r->val, r->val_len);
		return rc;
	case R_ADD:
		if (count_key(ctx, rec, r->key, r->key_len) > 0)
			return 0;
		return sl_record_set_string(rec, r->key, r->key_len, r->val,
					    r->val_len);
	case R_REMOVE:
		n = count_key(ctx, rec, r->key, r->key_len);
		return remove_all(rec, r->key, r->key_len, n);
	case R_RENAME:
	case R_HARD_RENAME:
		n = count_key(ctx, rec, r->key, r->key_len);
		if (n == 0 || key_is(r->key, r->key_len, r->val, r->val_len))
			return 0;
		conflicts = count_key(ctx, rec, r->val, r->val_len);
		if (conflicts && r->type == R_RENAME)
			return 0;
		/* The record API renames every field named KEY at once. */
		rc = remove_all(rec, r->val, r->val_len, conflicts);
		if (rc == 0)
			rc = sl_record_rename(rec, r->key, r->key_len, r->val,
					      r->val_len);
		return rc;
	case R_COPY:
	case R_HARD_COPY:
		/* One source, and no target (Copy) or at most one. */
		if (count_key(ctx, rec, r->key, r->key_len) != 1 ||
		    key_is(r->key, r->key_len, r->val, r->val_len))
			return 0;
		conflicts = count_key(ctx, rec, r->val, r->val_len);
		if (conflicts > (r->type == R_HARD_COPY ? 1u : 0u))
			return 0;
		return rebuild(ctx, rec, r);
	case R_REMOVE_WILDCARD:
	case R_REMOVE_REGEX:
	case R_MOVE_TO_START:
	case R_MOVE_TO_END:
		if (count_selected(ctx, rec, r) == 0)
			return 0;
		return rebuild(ctx, rec, r);
	case R_N_TYPES:
		break;
	}
	return 0;
}

static enum sl_filter_verdict modify_filter(void *data, struct sl_record *rec,
					    const char *tag, size_t tag_len)
{
	struct modify_ctx *ctx = data;

	/* Every condition is checked on the record as it came in. */
	for (size_t i = 0; i < ctx->n_conds; i++)
		if (!cond_holds(ctx, rec, &ctx->conds[i]))
			return SL_FILTER_KEEP;
	for (size_t i = 0; i < ctx->n_rules; i++) {
		int rc = apply_rule(ctx, rec, &ctx->rules[i]);

		if (rc < 0)
			sl_log(SL_LOG_WARN, "modify", "%s '%s' not applied: %s",
			       rule_kinds[ctx->rules[i].type].name,
			       ctx->rules[i].key,
			       rc == -SL_ENOMEM ? "out of memory"
						: "record error");
	}
	return SL_FILTER_KEEP;
}

#define RULE_OPT(t, lname, d)                                                  \
	{                                                                      \
		.name = lname, .type = SL_CFG_STR, .flags = SL_CFG_MULTI,      \
		.offset = offsetof(struct modify_ctx, rules_cfg) +             \
			  (t) * sizeof(struct sl_cfg_multi),                   \
		.desc = d                                                      \
	}
/* the two-argument rules: KEY VALUE options */
#define PAIR_OPT(t, lname, d)                                                  \
	{                                                                      \
		.name = lname, .type = SL_CFG_KV, .flags = SL_CFG_MULTI,       \
		.offset = offsetof(struct modify_ctx, pairs_cfg) +             \
			  (t) * sizeof(struct sl_cfg_kvlist),                  \
		.desc = d                                                      \
	}

static const struct sl_cfg_option modify_config[] = {
    PAIR_OPT(R_SET, "set", "KEY VALUE: set KEY to the string VALUE"),
    PAIR_OPT(R_ADD, "add", "KEY VALUE: add KEY = VALUE if KEY is absent"),
    RULE_OPT(R_REMOVE, "remove", "KEY: remove KEY"),
    RULE_OPT(R_REMOVE_WILDCARD, "remove_wildcard",
	     "PREFIX: remove every key starting with PREFIX"),
    RULE_OPT(R_REMOVE_REGEX, "remove_regex",
	     "REGEX: remove every key matching REGEX"),
    RULE_OPT(R_MOVE_TO_START, "move_to_start",
	     "PREFIX: move keys starting with PREFIX to the start"),
    RULE_OPT(R_MOVE_TO_END, "move_to_end",
	     "PREFIX: move keys starting with PREFIX to the end"),
    PAIR_OPT(R_RENAME, "rename",
	     "KEY NEW: rename KEY to NEW unless NEW exists"),
    PAIR_OPT(R_HARD_RENAME, "hard_rename",
	     "KEY NEW: rename KEY to NEW, replacing NEW"),
    PAIR_OPT(R_COPY, "copy", "KEY NEW: copy KEY to NEW unless NEW exists"),
    PAIR_OPT(R_HARD_COPY, "hard_copy",
	     "KEY NEW: copy KEY to NEW, replacing NEW"),
    {.name = "condition",
     .type = SL_CFG_STR,
     .flags = SL_CFG_MULTI,
     .offset = offsetof(struct modify_ctx, condition),
     .desc = "TYPE KEY [VALUE]: apply the rules only when it holds"},
    SL_CFG_END,
};

const struct sl_filter_plugin sl_filter_modify = {
    .name = "modify",
    .description = "change records with rules under conditions",
    .config_map = modify_config,
    .ctx_size = sizeof(struct modify_ctx),
    .init = modify_init,
    .destroy = modify_destroy,
    .filter = modify_filter,
};
