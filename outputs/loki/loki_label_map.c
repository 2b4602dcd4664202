/* SPDX-License-Identifier: Apache-2.0 */
/*
 * loki_label_map.c - Label_map_path, Fluent Bit's label map file: a JSON
 * object mirroring the record, each string leaf the name of a label whose
 * value is read from that leaf's key path. Every leaf becomes one accessor
 * label (loki_enc_add_accessor_label), exactly as if written in Labels as
 * name=$a['b']; leaves that are neither strings nor objects are errors, as
 * in Fluent Bit. Reading the file is the plugin's (loki.c).
 */
#include "loki.h"

#include "sl_json.h"

#include <stdlib.h>
#include <string.h>

struct walk {
	struct loki_enc *e;
	const char *text;
	const struct sl_view *v;
	struct sl_buf spec, tmp;
	const char **err;
	char **where;
};

/* Appends one key step: "$key" first, then "['key']" (or "[\"key\"]"). */
static int add_step(struct walk *w, const char *key, size_t len, bool first)
{
	const char *q = memchr(key, '\'', len) ? "\"" : "'";

	if (len == 0 ||
	    (first && (memchr(key, '[', len) || memchr(key, '\'', len) ||
		       memchr(key, '"', len))) ||
	    (!first && memchr(key, '\'', len) && memchr(key, '"', len))) {
		*w->err = "a key that cannot be written as a record accessor";
		return -SL_EINVAL;
	}
	if (first)
		return sl_buf_append(&w->spec, "$", 1) < 0 ||
			       sl_buf_append(&w->spec, key, len) < 0
			   ? -SL_ENOMEM
			   : 0;
	if (sl_buf_append(&w->spec, "[", 1) < 0 ||
	    sl_buf_append(&w->spec, q, 1) < 0 ||
	    sl_buf_append(&w->spec, key, len) < 0 ||
	    sl_buf_append(&w->spec, q, 1) < 0 ||
	    sl_buf_append(&w->spec, "]", 1) < 0)
		return -SL_ENOMEM;
	return 0;
}

static int walk_object(struct walk *w, uint32_t p, bool top)
{
	const struct sl_view *v = w->v;
	uint32_t c;
	int rc;

	for (c = p + 1; c < v->nodes[p].end; c = v->nodes[c].end) {
		const struct sl_view_node *cn = &v->nodes[c];
		size_t mark = w->spec.len;
		char *key, *name;

		sl_buf_reset(&w->tmp);
		if (sl_json_unescape_append(&w->tmp, w->text + cn->key_off,
					    cn->key_len) == -SL_ENOMEM)
			return -SL_ENOMEM;
		key = strndup(w->tmp.data ? w->tmp.data : "", w->tmp.len);
		if (!key)
			return -SL_ENOMEM;
		rc = add_step(w, key, strlen(key), top);
		free(key);
		if (rc == 0 && cn->type == SL_VAL_OBJECT) {
			rc = walk_object(w, c, false);
		} else if (rc == 0 && cn->type == SL_VAL_STRING) {
			sl_buf_reset(&w->tmp);
			if (sl_json_unescape_append(
				&w->tmp, w->text + cn->val_off + 1,
				cn->val_len - 2) == -SL_ENOMEM ||
			    sl_buf_append(&w->spec, "", 1) < 0)
				return -SL_ENOMEM;
			w->spec.len--; /* the NUL stays past the end */
			name =
			    strndup(w->tmp.data ? w->tmp.data : "", w->tmp.len);
			if (!name)
				return -SL_ENOMEM;
			if (*name)
				rc = loki_enc_add_accessor_label(
				    w->e, name, w->spec.data, w->err);
			else {
				*w->err = "an empty label name";
				rc = -SL_EINVAL;
			}
			free(name);
		} else if (rc == 0) {
			*w->err = "a value that is neither a label name (a "
				  "string) nor an object";
			rc = -SL_EINVAL;
		}
		if (rc == -SL_EINVAL && !*w->where &&
		    sl_buf_append(&w->spec, "", 1) == 0)
			*w->where = strdup(w->spec.data);
		if (rc < 0)
			return rc;
		w->spec.len = mark;
	}
	return 0;
}

int loki_enc_add_label_map(struct loki_enc *e, const char *text, size_t len,
			   const char **err, char **where)
{
	struct sl_view v = {0};
	struct walk w = {
	    .e = e, .text = text, .v = &v, .err = err, .where = where};
	int rc;

	*where = NULL;
	rc = sl_view_build(&v, text, len);
	if (rc == -SL_ENOMEM)
		return rc;
	if (rc < 0) {
		*err = "not a JSON object";
		rc = -SL_EINVAL;
	} else {
		rc = walk_object(&w, 0, true);
	}
	sl_view_destroy(&v);
	sl_buf_destroy(&w.spec);
	sl_buf_destroy(&w.tmp);
	return rc;
}
