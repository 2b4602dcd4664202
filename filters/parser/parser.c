/* SPDX-License-Identifier: Apache-2.0 */
/*
 * parser.c - the parser filter: Fluent Bit's Key_Name, Parser (tried in
 * order), Reserve_Data and Preserve_Key. The field's text goes through a
 * [PARSER] (sl_parser_apply); a record that no parser accepts is kept as it
 * was and flagged, never dropped. Reading the key of a tail line record
 * costs no copy, which keeps tail -> parser(json) fast.
 */
#include "sluice_plugin.h"

#include <stdlib.h>
#include <string.h>

struct parser_ctx {
	/* config map */
	char *key_name;
	struct sl_cfg_multi parser_names;
	bool reserve_data, preserve_key, unescape_key;
	/* runtime */
	const struct sl_parser **parsers; /* owned array, borrowed parsers */
	size_t n_parsers;
	struct sl_accessor *key;
	char *top_key; /* owned: the field the key lives in */
	size_t top_key_len;
	struct sl_text text;		  /* scratch for the key's text */
	struct sl_text kscratch;	  /* scratch for field names */
	struct sl_buf copy, orig, merged; /* scratch for Preserve/Reserve */
	struct sl_buf pkeys;		  /* the parsed keys, NUL-separated */
};

#define CO(f) offsetof(struct parser_ctx, f)
static const struct sl_cfg_option parser_config[] = {
    {.name = "key_name",
     .type = SL_CFG_STR,
     .flags = SL_CFG_REQUIRED,
     .offset = CO(key_name),
     .desc = "field to parse ($key['sub'] allowed)"},
    {.name = "parser",
     .type = SL_CFG_STR,
     .flags = SL_CFG_MULTI | SL_CFG_REQUIRED,
     .offset = CO(parser_names),
     .desc = "[PARSER] name; repeat to try several in order"},
    {.name = "reserve_data",
     .type = SL_CFG_BOOL,
     .def = "off",
     .offset = CO(reserve_data),
     .desc = "keep the record's other fields"},
    {.name = "preserve_key",
     .type = SL_CFG_BOOL,
     .def = "off",
     .offset = CO(preserve_key),
     .desc = "keep the parsed field itself"},
    {.name = "unescape_key",
     .type = SL_CFG_BOOL,
     .flags = SL_CFG_IGNORED,
     .def = "off",
     .offset = CO(unescape_key),
     .desc = "Fluent Bit option; sluice always parses the unescaped text"},
    SL_CFG_END,
};
#undef CO

/* "log", "$log" or "$log['a'][0]": the top-level field name. */
static char *top_field(const char *spec, size_t *len)
{
	const char *s = spec[0] == '$' ? spec + 1 : spec;
	size_t n = strcspn(s, "[");
	char *out = strndup(s, n);

	*len = n;
	return out;
}

static int parser_init(void *data, struct sl_plugin_instance *ins)
{
	struct parser_ctx *ctx = data;
	const char *err = NULL;
	int rc = 0;

	ctx->key = sl_accessor_create(ctx->key_name, &err);
	if (!ctx->key) {
		sl_plugin_error(ins, 0, "Key_Name '%s': %s", ctx->key_name,
				err ? err : "invalid");
		rc = -SL_ECONFIG;
	}
	ctx->top_key = top_field(ctx->key_name, &ctx->top_key_len);
	ctx->parsers = calloc(ctx->parser_names.n ? ctx->parser_names.n : 1,
			      sizeof(*ctx->parsers));
	if (!ctx->top_key || !ctx->parsers)
		return -SL_ENOMEM;
	for (size_t i = 0; i < ctx->parser_names.n; i++) {
		const struct sl_cfg_item *it = &ctx->parser_names.items[i];
		const struct sl_parser *p =
		    sl_plugin_parser_find(ins, it->value);

		if (!p) {
			sl_plugin_error(ins, it->line, "unknown parser '%s'",
					it->value);
			rc = -SL_ECONFIG;
			continue;
		}
		ctx->parsers[ctx->n_parsers++] = p;
	}
	return rc;
}

static void parser_destroy(void *data)
{
	struct parser_ctx *ctx = data;

	sl_accessor_destroy(ctx->key);
	free(ctx->parsers);
	free(ctx->top_key);
	free(ctx->text.buf);
	sl_buf_destroy(&ctx->copy);
	sl_buf_destroy(&ctx->orig);
	sl_buf_destroy(&ctx->merged);
	sl_buf_destroy(&ctx->pkeys);
	free(ctx->kscratch.buf);
}

/* Is `key` one of the NUL-separated keys in `keys`? */
static bool has_key(const struct sl_buf *keys, const char *key, size_t len)
{
	for (size_t off = 0; off < keys->len;) {
		const char *k = keys->data + off;
		size_t n = strlen(k);

		if (n == len && memcmp(k, key, len) == 0)
			return true;
		off += n + 1;
	}
	return false;
}

/*
 * Reserve_Data: the original fields (without the parsed one unless
 * Preserve_Key, and without those the parser produced again), then the
 * parsed fields. `ctx->orig` holds the original body, the record the
 * parsed one. Works through the record API only: the original is put back
 * into the record to be read field by field.
 */
static int merge_reserved(struct parser_ctx *ctx, struct sl_record *rec)
{
	struct sl_buf *m = &ctx->merged, *pk = &ctx->pkeys;
	const char *key, *parsed, *a, *z;
	size_t klen, plen, pos = 0, n = 0;
	struct sl_value v;
	int rc = 0;

	parsed = sl_record_body(rec, &plen);
	if (!parsed)
		return -SL_ENOMEM;
	sl_buf_reset(&ctx->copy);
	sl_buf_reset(pk);
	if ((rc = sl_buf_append(&ctx->copy, parsed, plen)) < 0)
		return rc;
	while (rc == 0 && sl_record_next_field(rec, &pos, &ctx->kscratch, &key,
					       &klen, &v) == 1) {
		rc = sl_buf_append(pk, key, klen);
		if (rc == 0)
			rc = sl_buf_append(pk, "", 1);
	}
	if (rc < 0 ||
	    (rc = sl_record_set_body(rec, ctx->orig.data, ctx->orig.len)) < 0)
		return rc;
	sl_buf_reset(m);
	rc = sl_buf_append(m, "{", 1);
	pos = 0;
	while (rc == 0 && sl_record_next_field(rec, &pos, &ctx->kscratch, &key,
					       &klen, &v) == 1) {
		bool is_top = klen == ctx->top_key_len &&
			      memcmp(key, ctx->top_key, klen) == 0;

		if ((is_top && !ctx->preserve_key) || has_key(pk, key, klen))
			continue;
		if (n++)
			rc = sl_buf_append(m, ",", 1);
		if (rc == 0)
			rc = sl_json_append_string(m, key, klen);
		if (rc == 0)
			rc = sl_buf_append(m, ":", 1);
		if (rc == 0)
			rc = sl_buf_append(m, v.raw, v.raw_len);
	}
	/* the parsed body's members, without its braces */
	a = memchr(ctx->copy.data, '{', ctx->copy.len);
	z = ctx->copy.data + ctx->copy.len;
	while (a && z > a && z[-1] != '}')
		z--;
	if (rc == 0 && a && z - a > 2) {
		if (n)
			rc = sl_buf_append(m, ",", 1);
		if (rc == 0)
			rc = sl_buf_append(m, a + 1, (size_t)(z - a - 2));
	}
	if (rc == 0)
		rc = sl_buf_append(m, "}", 1);
	return rc < 0 ? rc : sl_record_set_body(rec, m->data, m->len);
}

static enum sl_filter_verdict parser_filter(void *data, struct sl_record *rec,
					    const char *tag, size_t tag_len)
{
	struct parser_ctx *ctx = data;
	const char *text, *body;
	size_t len, blen;
	int rc = -SL_EPARSE;

	if (sl_record_get_text(rec, ctx->key, &ctx->text, &text, &len) < 0)
		return SL_FILTER_KEEP; /* no such field: as Fluent Bit,
					  unchanged */
	if (ctx->reserve_data) {
		body = sl_record_body(rec, &blen);
		sl_buf_reset(&ctx->orig);
		if (!body || sl_buf_append(&ctx->orig, body, blen) < 0)
			goto fail;
	}
	if (ctx->preserve_key && !ctx->reserve_data) {
		/* the text may live in the body the parser is about to replace
		 */
		sl_buf_reset(&ctx->copy);
		if (sl_buf_append(&ctx->copy, text, len) < 0)
			goto fail;
		text = ctx->copy.data;
	}
	for (size_t i = 0; i < ctx->n_parsers && rc < 0; i++) {
		rc = sl_parser_apply(ctx->parsers[i], text, len, rec);
		if (rc == -SL_ENOMEM)
			goto fail;
	}
	if (rc < 0)
		goto fail;
	if (ctx->reserve_data)
		rc = merge_reserved(ctx, rec);
	else if (ctx->preserve_key)
		rc = sl_record_set_string(rec, ctx->top_key, ctx->top_key_len,
					  ctx->copy.data, ctx->copy.len);
	if (rc < 0)
		sl_log(SL_LOG_WARN, "filter_parser",
		       "could not rebuild record: %s", sl_strerror(rc));
	return SL_FILTER_KEEP;
fail:
	/* SPEC: kept as it was ({"log": line} for a tail line) and counted */
	sl_record_flag_parse_error(rec);
	return SL_FILTER_KEEP;
}

const struct sl_filter_plugin sl_filter_parser = {
    .name = "parser",
    .description = "parse a field with [PARSER] definitions",
    .config_map = parser_config,
    .ctx_size = sizeof(struct parser_ctx),
    .init = parser_init,
    .destroy = parser_destroy,
    .filter = parser_filter,
};
