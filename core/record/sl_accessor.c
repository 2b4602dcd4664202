/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_accessor.c - record accessors ("key", "$key", "$key['sub'][0]",
 * `$key["sub"]`) compiled once into path steps, and the field lookups that
 * walk a record's view with them. Accessors never allocate while looking up.
 */
#include "sl_record.h"

#include <stdlib.h>
#include <string.h>

struct step {
	char *key; /* owned, NUL-terminated; NULL for an array index */
	size_t len;
	uint32_t idx;
};

struct sl_accessor {
	size_t n;
	struct step *steps; /* owned */
};

void sl_accessor_destroy(struct sl_accessor *acc)
{
	if (!acc)
		return;
	for (size_t i = 0; i < acc->n; i++)
		free(acc->steps[i].key);
	free(acc->steps);
	free(acc);
}

static int add_step(struct sl_accessor *acc, const char *key, size_t len,
		    uint32_t idx)
{
	char *copy = NULL;
	struct step *s;

	if (key) {
		copy = malloc(len + 1);
		if (!copy)
			return -SL_ENOMEM;
		memcpy(copy, key, len);
		copy[len] = '\0';
	}
	s = realloc(acc->steps, (acc->n + 1) * sizeof(*s));
	if (!s) {
		free(copy);
		return -SL_ENOMEM;
	}
	acc->steps = s;
	s[acc->n] = (struct step){.key = copy, .len = len, .idx = idx};
	acc->n++;
	return 0;
}

/* Parses the "[...]" steps after "$key". Returns NULL or an error message. */
static const char *parse_brackets(struct sl_accessor *acc, const char *p)
{
	while (*p) {
		if (*p != '[')
			return "expected '[' after a key";
		p++;
		if (*p == '\'' || *p == '"') {
			char q = *p++;
			const char *end = strchr(p, q);

			if (!end || end[1] != ']')
				return "unterminated quoted key";
			if (end == p)
				return "empty key in brackets";
			if (add_step(acc, p, (size_t)(end - p), 0) < 0)
				return "out of memory";
			p = end + 2;
		} else if (*p >= '0' && *p <= '9') {
			uint64_t v = 0;

			while (*p >= '0' && *p <= '9') {
				v = v * 10 + (uint64_t)(*p - '0');
				if (v >= UINT32_MAX)
					return "array index too large";
				p++;
			}
			if (*p != ']')
				return "expected ']' after an array index";
			if (add_step(acc, NULL, 0, (uint32_t)v) < 0)
				return "out of memory";
			p++;
		} else {
			return "expected a quoted key or an index in brackets";
		}
	}
	return NULL;
}

struct sl_accessor *sl_accessor_create(const char *spec, const char **err)
{
	struct sl_accessor *acc;
	const char *msg = NULL;

	if (!spec || !*spec) {
		*err = "empty record accessor";
		return NULL;
	}
	acc = calloc(1, sizeof(*acc));
	if (!acc) {
		*err = "out of memory";
		return NULL;
	}
	if (spec[0] != '$') {
		/* a plain top-level key: every character is part of it */
		if (add_step(acc, spec, strlen(spec), 0) < 0)
			msg = "out of memory";
	} else {
		const char *key = spec + 1;
		size_t len = strcspn(key, "[");

		if (len == 0)
			msg = "record accessor needs a key after '$'";
		else if (add_step(acc, key, len, 0) < 0)
			msg = "out of memory";
		else
			msg = parse_brackets(acc, key + len);
	}
	if (msg) {
		sl_accessor_destroy(acc);
		*err = msg;
		return NULL;
	}
	return acc;
}

size_t sl_accessor_depth(const struct sl_accessor *acc)
{
	return acc->n;
}

const char *sl_accessor_last_key(const struct sl_accessor *acc)
{
	return acc->steps[acc->n - 1].key;
}

/* True when the accessor names exactly the key of a lazy line record. */
static bool is_line_key(const struct sl_record *rec,
			const struct sl_accessor *acc)
{
	return acc->n == 1 && acc->steps[0].len == rec->line_key_len &&
	       memcmp(acc->steps[0].key, rec->line_key, rec->line_key_len) == 0;
}

static int lookup(struct sl_record *rec, const struct sl_accessor *acc,
		  struct sl_value *out)
{
	const struct sl_view *v;
	const struct sl_view_node *nd;
	uint32_t node = 0;
	int rc;

	/* a lazy record has one key: others are absent, no body needed */
	if (rec->lazy &&
	    (acc->steps[0].len != rec->line_key_len ||
	     memcmp(acc->steps[0].key, rec->line_key, rec->line_key_len) != 0))
		return -SL_ENOENT;
	rc = sl_record_view(rec, &v);
	if (rc < 0)
		return rc == -SL_ENOMEM ? rc : -SL_EPARSE;
	for (size_t i = 0; i < acc->n; i++) {
		const struct step *s = &acc->steps[i];

		node = s->key ? sl_view_find_key(v, rec->body, node, s->key,
						 s->len)
			      : sl_view_find_index(v, node, s->idx);
		if (node == UINT32_MAX)
			return -SL_ENOENT;
	}
	nd = &v->nodes[node];
	out->type = (enum sl_value_type)nd->type;
	out->raw = rec->body + nd->val_off;
	out->raw_len = nd->val_len;
	return 0;
}

int sl_record_get(struct sl_record *rec, const struct sl_accessor *acc,
		  struct sl_value *out)
{
	int rc = lookup(rec, acc, out);

	if (rc < 0)
		out->type = SL_VAL_NONE;
	return rc;
}

int sl_record_get_text(struct sl_record *rec, const struct sl_accessor *acc,
		       struct sl_text *scratch, const char **text, size_t *len)
{
	struct sl_value val;
	int rc;

	/* the parser filter's hot path: the line itself, no body built */
	if (rec->lazy && is_line_key(rec, acc)) {
		*text = rec->line;
		*len = rec->line_len;
		return 0;
	}
	rc = lookup(rec, acc, &val);
	if (rc < 0)
		return rc;
	if (val.type == SL_VAL_STRING) {
		const char *in = val.raw + 1;
		size_t n = val.raw_len - 2;

		if (memchr(in, '\\', n)) {
			struct sl_buf b = {scratch->buf, 0, scratch->cap};

			rc = sl_json_unescape_append(&b, in, n);
			scratch->buf = b.data;
			scratch->cap = b.cap;
			if (rc < 0)
				return rc;
			*text = b.data;
			*len = b.len;
		} else {
			*text = in;
			*len = n;
		}
		return 0;
	}
	*text = val.raw;
	*len = val.raw_len;
	return 0;
}
