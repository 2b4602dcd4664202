/* SPDX-License-Identifier: Apache-2.0 */
/*
 * record_modifier.c - the record_modifier filter: Fluent Bit's Record (append
 * string fields), Remove_key or Allowlist_key/Whitelist_key (drop fields by
 * name, "prefix*" allowed, names compared without case) and Uuid_key (a
 * random UUIDv4 per record). Each record is rewritten once, top level only.
 */
#include "sluice_plugin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

struct rm_record {
	char *key, *val; /* owned */
	size_t key_len, val_len;
};

struct rm_key {
	const char *name; /* borrowed from the config map item */
	size_t len;	  /* without a trailing '*' */
	bool prefix;	  /* the name ended with '*' */
};

struct rm_ctx {
	/* config map */
	struct sl_cfg_kvlist record;
	struct sl_cfg_multi remove_key;
	struct sl_cfg_multi allowlist_key;
	struct sl_cfg_multi whitelist_key;
	char *uuid_key;
	/* built by init */
	struct rm_record *records; /* owned, config order */
	size_t n_records;
	struct rm_key *keys; /* owned: the remove or the allow list */
	size_t n_keys;
	bool allow;		 /* keys are an allowlist */
	struct sl_text kscratch; /* owned */
	struct sl_buf out;	 /* owned */
	unsigned char rnd[256];	 /* random bytes for UUIDs */
	size_t rnd_pos;
};

/*
 * One "KEY VALUE" item, split by the config map (SL_CFG_KV). As in Fluent
 * Bit, VALUE is one word: a value that holds blanks must be quoted.
 */
static int add_record(struct rm_ctx *ctx, struct sl_plugin_instance *ins,
		      const struct sl_cfg_kv *item)
{
	char *key, *val;

	if (!item->value_quoted && strpbrk(item->value, " \t")) {
		sl_plugin_error(ins, item->line,
				"Record '%s %s': expected KEY VALUE (quote a "
				"value that holds spaces)",
				item->key, item->value);
		return -SL_ECONFIG;
	}
	key = strdup(item->key);
	val = strdup(item->value);
	if (!key || !val) {
		free(key);
		free(val);
		return -SL_ENOMEM;
	}
	ctx->records[ctx->n_records++] = (struct rm_record){
	    .key = key,
	    .val = val,
	    .key_len = strlen(key),
	    .val_len = strlen(val),
	};
	return 0;
}

static int add_keys(struct rm_ctx *ctx, struct sl_plugin_instance *ins,
		    const struct sl_cfg_multi *m, const char *opt)
{
	int rc = 0;

	for (size_t i = 0; i < m->n; i++) {
		struct rm_key *k = &ctx->keys[ctx->n_keys];
		const char *v = m->items[i].value;
		size_t len = strlen(v);

		if (len == 0) {
			sl_plugin_error(ins, m->items[i].line,
					"%s: expected a key name", opt);
			rc = -SL_ECONFIG;
			continue;
		}
		k->name = v;
		k->prefix = v[len - 1] == '*';
		k->len = k->prefix ? len - 1 : len;
		ctx->n_keys++;
	}
	return rc;
}

static int rm_init(void *data, struct sl_plugin_instance *ins)
{
	struct rm_ctx *ctx = data;
	size_t n_allow = ctx->allowlist_key.n + ctx->whitelist_key.n;
	int rc = 0, r;

	if (ctx->remove_key.n && n_allow) {
		sl_plugin_error(ins, ctx->remove_key.items[0].line,
				"Remove_key and Allowlist_key (Whitelist_key) "
				"cannot be used together");
		rc = -SL_ECONFIG;
	}
	if (ctx->uuid_key && ctx->uuid_key[0] == '\0') {
		sl_plugin_error(ins, 0, "Uuid_key: expected a key name");
		rc = -SL_ECONFIG;
	}
	ctx->records =
	    calloc(ctx->record.n ? ctx->record.n : 1, sizeof(*ctx->records));
	ctx->keys = calloc(
	    ctx->remove_key.n + n_allow ? ctx->remove_key.n + n_allow : 1,
	    sizeof(*ctx->keys));
	if (!ctx->records || !ctx->keys)
		return -SL_ENOMEM;
	for (size_t i = 0; i < ctx->record.n; i++) {
		r = add_record(ctx, ins, &ctx->record.items[i]);
		if (r == -SL_ENOMEM)
			return r;
		if (r < 0)
			rc = r;
	}
	if (ctx->remove_key.n) {
		if (add_keys(ctx, ins, &ctx->remove_key, "Remove_key") < 0)
			rc = -SL_ECONFIG;
	} else if (n_allow) {
		ctx->allow = true;
		if (add_keys(ctx, ins, &ctx->allowlist_key, "Allowlist_key") <
			0 ||
		    add_keys(ctx, ins, &ctx->whitelist_key, "Whitelist_key") <
			0)
			rc = -SL_ECONFIG;
	}
	ctx->rnd_pos = sizeof(ctx->rnd);
	return rc;
}

static void rm_destroy(void *data)
{
	struct rm_ctx *ctx = data;

	for (size_t i = 0; ctx->records && i < ctx->n_records; i++) {
		free(ctx->records[i].key);
		free(ctx->records[i].val);
	}
	free(ctx->records);
	free(ctx->keys);
	ctx->records = NULL;
	ctx->keys = NULL;
	ctx->n_records = ctx->n_keys = 0;
	free(ctx->kscratch.buf);
	memset(&ctx->kscratch, 0, sizeof(ctx->kscratch));
	sl_buf_destroy(&ctx->out);
}

/* Fluent Bit compares these names without case; "name*" is a prefix. */
static bool key_listed(const struct rm_ctx *ctx, const char *key, size_t klen)
{
	for (size_t i = 0; i < ctx->n_keys; i++) {
		const struct rm_key *k = &ctx->keys[i];

		if ((k->prefix ? klen >= k->len : klen == k->len) &&
		    strncasecmp(key, k->name, k->len) == 0)
			return true;
	}
	return false;
}

static bool key_is(const char *key, size_t klen, const char *s, size_t len)
{
	return klen == len && memcmp(key, s, len) == 0;
}

/* Whether a field is replaced by an appended one (so keys stay unique). */
static bool key_appended(const struct rm_ctx *ctx, const char *key, size_t klen)
{
	for (size_t i = 0; i < ctx->n_records; i++)
		if (key_is(key, klen, ctx->records[i].key,
			   ctx->records[i].key_len))
			return true;
	return ctx->uuid_key &&
	       key_is(key, klen, ctx->uuid_key, strlen(ctx->uuid_key));
}

/* Writes a random (version 4) UUID, 36 characters and a NUL. */
static int make_uuid(struct rm_ctx *ctx, char out[37])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[16];
	char *o = out;

	if (ctx->rnd_pos + sizeof(b) > sizeof(ctx->rnd)) {
		size_t got = 0;

		while (got < sizeof(ctx->rnd)) {
			ssize_t n = getrandom(ctx->rnd + got,
					      sizeof(ctx->rnd) - got, 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return -SL_EIO;
			got += (size_t)n;
		}
		ctx->rnd_pos = 0;
	}
	memcpy(b, ctx->rnd + ctx->rnd_pos, sizeof(b));
	ctx->rnd_pos += sizeof(b);
	b[6] = (unsigned char)((b[6] & 0x0F) | 0x40); /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3F) | 0x80); /* RFC 4122 variant */
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*o++ = '-';
		*o++ = hex[b[i] >> 4];
		*o++ = hex[b[i] & 0x0F];
	}
	*o = '\0';
	return 0;
}

static int emit(struct sl_buf *b, bool *first, const char *key, size_t klen)
{
	int rc = 0;

	if (!*first)
		rc = sl_buf_append(b, ",", 1);
	*first = false;
	if (rc == 0)
		rc = sl_json_append_string(b, key, klen);
	if (rc == 0)
		rc = sl_buf_append(b, ":", 1);
	return rc;
}

static enum sl_filter_verdict rm_filter(void *data, struct sl_record *rec,
					const char *tag, size_t tag_len)
{
	struct rm_ctx *ctx = data;
	struct sl_buf *b = &ctx->out;
	bool first = true;
	size_t pos = 0, klen, removed = 0;
	struct sl_value v;
	const char *key;
	char uuid[37];
	int rc;

	if (ctx->n_keys == 0 && ctx->n_records == 0 && !ctx->uuid_key)
		return SL_FILTER_KEEP;
	sl_buf_reset(b);
	rc = sl_buf_append(b, "{", 1);
	while (rc == 0 && sl_record_next_field(rec, &pos, &ctx->kscratch, &key,
					       &klen, &v) == 1) {
		if ((ctx->n_keys && key_listed(ctx, key, klen) != ctx->allow) ||
		    key_appended(ctx, key, klen)) {
			removed++;
			continue;
		}
		rc = emit(b, &first, key, klen);
		if (rc == 0)
			rc = sl_buf_append(b, v.raw, v.raw_len);
	}
	if (removed == 0 && ctx->n_records == 0 && !ctx->uuid_key)
		return SL_FILTER_KEEP; /* nothing to change */
	for (size_t i = 0; rc == 0 && i < ctx->n_records; i++) {
		const struct rm_record *r = &ctx->records[i];

		rc = emit(b, &first, r->key, r->key_len);
		if (rc == 0)
			rc = sl_json_append_string(b, r->val, r->val_len);
	}
	if (rc == 0 && ctx->uuid_key) {
		if (make_uuid(ctx, uuid) == 0) {
			rc = emit(b, &first, ctx->uuid_key,
				  strlen(ctx->uuid_key));
			if (rc == 0)
				rc = sl_json_append_string(b, uuid, 36);
		} else {
			sl_log(SL_LOG_WARN, "record_modifier",
			       "no random bytes for %s: not added",
			       ctx->uuid_key);
		}
	}
	/*
	 * Fluent Bit emits nothing for a record whose every field was
	 * removed and to which nothing is appended.
	 */
	if (first && removed > 0)
		return SL_FILTER_DROP;
	if (rc == 0)
		rc = sl_buf_append(b, "}", 1);
	if (rc == 0)
		rc = sl_record_set_body(rec, b->data, b->len);
	if (rc < 0)
		sl_log(SL_LOG_WARN, "record_modifier",
		       "record left unchanged: %s",
		       rc == -SL_ENOMEM ? "out of memory" : "record error");
	return SL_FILTER_KEEP;
}

static const struct sl_cfg_option rm_config[] = {
    {.name = "record",
     .type = SL_CFG_KV,
     .flags = SL_CFG_MULTI,
     .offset = offsetof(struct rm_ctx, record),
     .desc = "KEY VALUE: append KEY with the string VALUE"},
    {.name = "remove_key",
     .type = SL_CFG_STR,
     .flags = SL_CFG_MULTI,
     .offset = offsetof(struct rm_ctx, remove_key),
     .desc = "KEY or PREFIX*: remove matching fields"},
    {.name = "allowlist_key",
     .type = SL_CFG_STR,
     .flags = SL_CFG_MULTI,
     .offset = offsetof(struct rm_ctx, allowlist_key),
     .desc = "KEY or PREFIX*: keep only matching fields"},
    {.name = "whitelist_key",
     .type = SL_CFG_STR,
     .flags = SL_CFG_MULTI,
     .offset = offsetof(struct rm_ctx, whitelist_key),
     .desc = "alias of Allowlist_key"},
    {.name = "uuid_key",
     .type = SL_CFG_STR,
     .offset = offsetof(struct rm_ctx, uuid_key),
     .desc = "KEY: append a random UUIDv4 under KEY"},
    SL_CFG_END,
};

const struct sl_filter_plugin sl_filter_record_modifier = {
    .name = "record_modifier",
    .description = "append, remove or allowlist record fields",
    .config_map = rm_config,
    .ctx_size = sizeof(struct rm_ctx),
    .init = rm_init,
    .destroy = rm_destroy,
    .filter = rm_filter,
};
