/* SPDX-License-Identifier: Apache-2.0 */
/*
 * loki_encode.c - a chunk as a Loki push body: stream labels from fixed
 * values, record accessors and kubernetes labels; the line as JSON or
 * key=value without the keys removed (nested removal copies the object
 * around the removed members, nothing is re-serialised); entries grouped
 * per label set and sorted by time within each stream, then written as
 * JSON here or as protobuf by loki_proto.c (the stream keys and entry
 * bytes are rendered for the one wire being written). Also the reader of
 * Loki's 400 bodies ("total ignored: N out of M").
 */
#include "loki.h"
#include "loki_proto.h"

#include "sl_json.h"
#include "sl_sanitize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A label of one record: name and value (unescaped) in batch->label. */
struct lk_pair {
	size_t name_off, name_len;
	size_t val_off, val_len;
	size_t order;
};

/* ---- configuration ----------------------------------------------------------
 */

char *loki_label_name(const char *s, size_t len)
{
	bool lead_digit = len > 0 && s[0] >= '0' && s[0] <= '9';
	char *out = malloc(len + (lead_digit || len == 0) + 1);
	size_t i, o = 0;

	if (!out)
		return NULL;
	if (lead_digit || len == 0)
		out[o++] = '_';
	for (i = 0; i < len; i++) {
		char ch = s[i];
		bool ok = (ch >= 'a' && ch <= 'z') ||
			  (ch >= 'A' && ch <= 'Z') ||
			  (ch >= '0' && ch <= '9') || ch == '_';

		out[o++] = ok ? ch : '_';
	}
	out[o] = '\0';
	return out;
}

static int push_label(struct loki_enc *e, char *name, char *value,
		      struct sl_accessor *acc)
{
	struct loki_label *n =
	    realloc(e->labels, (e->n_labels + 1) * sizeof(*n));

	if (!n) {
		free(name);
		free(value);
		sl_accessor_destroy(acc);
		return -SL_ENOMEM;
	}
	e->labels = n;
	n[e->n_labels++] = (struct loki_label){name, value, acc, LOKI_TAG_NONE};
	return 0;
}

static int push_remove(struct loki_enc *e, const char *spec, const char **err)
{
	struct sl_accessor *acc = sl_accessor_create(spec, err);
	struct sl_accessor **n;

	if (!acc)
		return -SL_EINVAL;
	n = realloc(e->remove, (e->n_remove + 1) * sizeof(*n));
	if (!n) {
		sl_accessor_destroy(acc);
		*err = "out of memory";
		return -SL_ENOMEM;
	}
	e->remove = n;
	n[e->n_remove++] = acc;
	return 0;
}

static void trim(const char **s, size_t *len)
{
	while (*len && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*len)--;
	}
	while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
		(*len)--;
}

char *loki_accessor_name(const char *spec)
{
	const char *p = spec + (spec[0] == '$');
	char *path, *name;
	size_t o = 0, len;

	if (spec[0] != '$')
		return loki_label_name(spec, strlen(spec));
	/* the path is never longer than the spec */
	path = malloc(strlen(spec) + 1);
	if (!path)
		return NULL;
	while (*p) {
		if (*p != '[') {
			len = strcspn(p, "[");
		} else if (p[1] == '\'' || p[1] == '"') {
			const char *end = strchr(p + 2, p[1]);

			if (!end)
				break;
			path[o++] = '_';
			p += 2;
			len = (size_t)(end - p);
			memcpy(path + o, p, len);
			o += len;
			p = end + (end[1] == ']' ? 2 : 1);
			continue;
		} else {
			p++;
			len = strcspn(p, "]");
			path[o++] = '_';
		}
		memcpy(path + o, p, len);
		o += len;
		p += len;
		if (*p == ']')
			p++;
	}
	name = loki_label_name(path, o);
	free(path);
	return name;
}

/* "$TAG" -> LOKI_TAG_ALL, "$TAG[n]" -> n, anything else LOKI_TAG_NONE. */
static long tag_spec(const char *spec)
{
	char *end;
	long n;

	if (strncmp(spec, "$TAG", 4) != 0)
		return LOKI_TAG_NONE;
	if (spec[4] == '\0')
		return LOKI_TAG_ALL;
	if (spec[4] != '[' || spec[5] < '0' || spec[5] > '9')
		return LOKI_TAG_NONE;
	n = strtol(spec + 5, &end, 10);
	return end[0] == ']' && end[1] == '\0' && n < 1024 ? n : LOKI_TAG_NONE;
}

/* A pair whose value is the tag or one of its parts: needs a name (Fluent
 * Bit would send an empty label name, which Loki refuses). */
static int tag_pair(struct loki_label **list, size_t *n, const char *name,
		    size_t nlen, bool sanitize, long part, const char **err)
{
	struct loki_label *grown;
	char *lname;

	if (!name) {
		*err = "a value read from $TAG needs a name (tag=$TAG)";
		return -SL_EINVAL;
	}
	lname = sanitize ? loki_label_name(name, nlen) : strndup(name, nlen);
	grown = lname ? realloc(*list, (*n + 1) * sizeof(**list)) : NULL;
	if (!grown) {
		free(lname);
		*err = "out of memory";
		return -SL_ENOMEM;
	}
	*list = grown;
	grown[(*n)++] = (struct loki_label){lname, NULL, NULL, part};
	return 0;
}

/*
 * A label (or metadata) whose value is read by accessor `spec`
 * (NUL-terminated), named `name` or, when NULL, by its path.
 */
static int accessor_pair(struct loki_label **list, size_t *n,
			 struct loki_enc *e, const char *name, size_t nlen,
			 bool sanitize, const char *spec, const char **err)
{
	long part = tag_spec(spec);
	struct sl_accessor *acc;
	struct loki_label *grown;
	char *lname;

	if (part != LOKI_TAG_NONE)
		return tag_pair(list, n, name, nlen, sanitize, part, err);
	acc = sl_accessor_create(spec, err);
	if (!acc)
		return -SL_EINVAL;
	if (!name)
		lname = loki_accessor_name(spec);
	else if (sanitize)
		lname = loki_label_name(name, nlen);
	else
		lname = strndup(name, nlen);
	grown = lname ? realloc(*list, (*n + 1) * sizeof(**list)) : NULL;
	if (!grown) {
		free(lname);
		sl_accessor_destroy(acc);
		*err = "out of memory";
		return -SL_ENOMEM;
	}
	*list = grown;
	grown[(*n)++] = (struct loki_label){lname, NULL, acc, LOKI_TAG_NONE};
	/* A record field used as a label leaves the line, as in Fluent Bit. */
	return push_remove(e, spec, err);
}

static int accessor_label(struct loki_enc *e, const char *name, size_t nlen,
			  const char *spec, const char **err)
{
	return accessor_pair(&e->labels, &e->n_labels, e, name, nlen, true,
			     spec, err);
}

int loki_enc_add_accessor_label(struct loki_enc *e, const char *name,
				const char *spec, const char **err)
{
	return accessor_label(e, name, strlen(name), spec, err);
}

int loki_enc_add_label(struct loki_enc *e, const char *spec, const char **err)
{
	const char *eq = strchr(spec, '=');
	const char *name = spec, *val;
	size_t nlen, vlen;
	char *n, *v;
	int rc;

	/* "$a['b=c']" is an accessor, not a pair */
	if (spec[0] == '$' && (!eq || strchr(spec, '[') < eq))
		eq = NULL;
	if (!eq) {
		if (spec[0] != '$') {
			*err = "a label is name=value or $record_accessor";
			return -SL_EINVAL;
		}
		return accessor_label(e, NULL, 0, spec, err);
	}
	nlen = (size_t)(eq - spec);
	trim(&name, &nlen);
	val = eq + 1;
	vlen = strlen(val);
	trim(&val, &vlen);
	if (nlen == 0) {
		*err = "a label needs a name before '='";
		return -SL_EINVAL;
	}
	if (vlen == 0) {
		*err = "a label needs a value after '='";
		return -SL_EINVAL;
	}
	if (val[0] == '$') {
		char *spec_copy = strndup(val, vlen);

		if (!spec_copy) {
			*err = "out of memory";
			return -SL_ENOMEM;
		}
		rc = accessor_label(e, name, nlen, spec_copy, err);
		free(spec_copy);
		return rc;
	}
	n = loki_label_name(name, nlen);
	v = strndup(val, vlen);
	if (!n || !v) {
		free(n);
		free(v);
		*err = "out of memory";
		return -SL_ENOMEM;
	}
	rc = push_label(e, n, v, NULL);
	if (rc < 0)
		*err = "out of memory";
	return rc;
}

int loki_enc_add_label_key(struct loki_enc *e, const char *spec,
			   const char **err)
{
	return accessor_label(e, NULL, 0, spec, err);
}

int loki_enc_add_remove_key(struct loki_enc *e, const char *spec,
			    const char **err)
{
	return push_remove(e, spec, err);
}

int loki_enc_add_metadata(struct loki_enc *e, const char *spec,
			  const char **err)
{
	const char *eq = strchr(spec, '=');
	const char *name = spec, *val;
	struct loki_label *grown;
	size_t nlen, vlen;
	char *n, *v, *acc_spec;
	int rc;

	/* as Fluent Bit: a leading '$' is an accessor, '=' or not */
	if (spec[0] == '$')
		return accessor_pair(&e->meta, &e->n_meta, e, NULL, 0, false,
				     spec, err);
	if (!eq) {
		*err = "structured metadata is name=value or $record_accessor";
		return -SL_EINVAL;
	}
	nlen = (size_t)(eq - spec);
	trim(&name, &nlen);
	val = eq + 1;
	vlen = strlen(val);
	trim(&val, &vlen);
	if (nlen == 0) {
		*err = "structured metadata needs a name before '='";
		return -SL_EINVAL;
	}
	if (vlen == 0) {
		*err = "structured metadata needs a value after '='";
		return -SL_EINVAL;
	}
	if (val[0] == '$') {
		acc_spec = strndup(val, vlen);
		if (!acc_spec) {
			*err = "out of memory";
			return -SL_ENOMEM;
		}
		rc = accessor_pair(&e->meta, &e->n_meta, e, name, nlen, false,
				   acc_spec, err);
		free(acc_spec);
		return rc;
	}
	n = strndup(name, nlen);
	v = strndup(val, vlen);
	grown =
	    n && v ? realloc(e->meta, (e->n_meta + 1) * sizeof(*grown)) : NULL;
	if (!grown) {
		free(n);
		free(v);
		*err = "out of memory";
		return -SL_ENOMEM;
	}
	e->meta = grown;
	grown[e->n_meta++] = (struct loki_label){n, v, NULL, LOKI_TAG_NONE};
	return 0;
}

int loki_enc_add_metadata_map(struct loki_enc *e, const char *spec,
			      const char **err)
{
	struct sl_accessor *acc;
	struct sl_accessor **grown;

	if (spec[0] != '$') {
		*err = "a map key is a record accessor starting with '$'";
		return -SL_EINVAL;
	}
	acc = sl_accessor_create(spec, err);
	if (!acc)
		return -SL_EINVAL;
	grown = realloc(e->meta_maps, (e->n_meta_maps + 1) * sizeof(*grown));
	if (!grown) {
		sl_accessor_destroy(acc);
		*err = "out of memory";
		return -SL_ENOMEM;
	}
	e->meta_maps = grown;
	grown[e->n_meta_maps++] = acc;
	return push_remove(e, spec, err);
}

bool loki_enc_has_metadata(const struct loki_enc *e)
{
	return e->n_meta > 0 || e->n_meta_maps > 0;
}

int loki_line_format_parse(const char *s, enum loki_line_format *out)
{
	if (!strcasecmp(s, "json"))
		*out = LOKI_LINE_JSON;
	else if (!strcasecmp(s, "key_value"))
		*out = LOKI_LINE_KEY_VALUE;
	else
		return -SL_EINVAL;
	return 0;
}

int loki_drop_single_parse(const char *s, enum loki_drop_single *out)
{
	if (!strcasecmp(s, "on") || !strcasecmp(s, "true") ||
	    !strcasecmp(s, "yes"))
		*out = LOKI_DROP_ON;
	else if (!strcasecmp(s, "off") || !strcasecmp(s, "false") ||
		 !strcasecmp(s, "no"))
		*out = LOKI_DROP_OFF;
	else if (!strcasecmp(s, "raw"))
		*out = LOKI_DROP_RAW;
	else
		return -SL_EINVAL;
	return 0;
}

int loki_enc_set_auto_k8s(struct loki_enc *e)
{
	const char *err;

	e->auto_kubernetes_labels = true;
	if (!e->k8s_labels)
		e->k8s_labels =
		    sl_accessor_create("$kubernetes['labels']", &err);
	return e->k8s_labels ? 0 : -SL_ENOMEM;
}

void loki_enc_destroy(struct loki_enc *e)
{
	size_t i;

	for (i = 0; i < e->n_labels; i++) {
		free(e->labels[i].name);
		free(e->labels[i].value);
		sl_accessor_destroy(e->labels[i].acc);
	}
	free(e->labels);
	for (i = 0; i < e->n_meta; i++) {
		free(e->meta[i].name);
		free(e->meta[i].value);
		sl_accessor_destroy(e->meta[i].acc);
	}
	free(e->meta);
	for (i = 0; i < e->n_meta_maps; i++)
		sl_accessor_destroy(e->meta_maps[i]);
	free(e->meta_maps);
	for (i = 0; i < e->n_remove; i++)
		sl_accessor_destroy(e->remove[i]);
	free(e->remove);
	sl_accessor_destroy(e->k8s_labels);
	memset(e, 0, sizeof(*e));
}

/* ---- batch -----------------------------------------------------------------
 */

void loki_batch_init(struct loki_batch *b)
{
	memset(b, 0, sizeof(*b));
	sl_record_init(&b->rec);
}

void loki_batch_destroy(struct loki_batch *b)
{
	free(b->entries);
	free(b->spare);
	free(b->streams);
	free(b->slots);
	sl_buf_destroy(&b->lines);
	sl_buf_destroy(&b->keys);
	sl_buf_destroy(&b->line);
	sl_buf_destroy(&b->label);
	sl_buf_destroy(&b->fix);
	sl_buf_destroy(&b->packed);
	sl_record_destroy(&b->rec);
	free(b->text.buf);
	sl_fields_destroy(&b->fields);
	free(b->rm);
	free(b->pairs);
	memset(b, 0, sizeof(*b));
}

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 16;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	q = realloc(*p, n * size);
	if (!q)
		return -SL_ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

/* ---- labels
 * ------------------------------------------------------------------ */

static int add_pair(struct loki_batch *b, size_t *n, const char *name,
		    size_t nlen, const char *val, size_t vlen)
{
	struct lk_pair *p;

	if (vlen == 0) /* Loki drops empty labels; so do we, up front */
		return 0;
	if (grow((void **)&b->pairs, &b->cap_pairs, *n + 1, sizeof(*p)) < 0)
		return -SL_ENOMEM;
	p = &b->pairs[*n];
	p->name_off = b->label.len;
	p->name_len = nlen;
	if (sl_buf_append(&b->label, name, nlen) < 0)
		return -SL_ENOMEM;
	/* record data: valid UTF-8, no control bytes, within Loki's
	 * max_label_value_length, so one value cannot fail the push */
	p->val_off = b->label.len;
	if (sl_sanitize_label_value(&b->label, val, vlen) < 0)
		return -SL_ENOMEM;
	p->val_len = b->label.len - p->val_off;
	p->order = (*n)++;
	return 0;
}

/* qsort has no user pointer: the label text of the batch being sorted is
 * reached through a thread-local (one batch per worker thread). */
static __thread const char *pair_buf;

static int cmp_pair(const void *a, const void *b)
{
	const struct lk_pair *x = a, *y = b;
	size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
	int c = memcmp(pair_buf + x->name_off, pair_buf + y->name_off, n);

	if (c)
		return c;
	if (x->name_len != y->name_len)
		return x->name_len < y->name_len ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* The kubernetes.labels object of the record, each member a label. */
static int k8s_pairs(const struct loki_enc *e, struct loki_batch *b, size_t *n)
{
	struct sl_value v;
	size_t i;
	int rc = 0;

	if (sl_record_get(&b->rec, e->k8s_labels, &v) < 0 ||
	    v.type != SL_VAL_OBJECT)
		return 0;
	if (sl_fields_split(&b->fields, v.raw, v.raw_len) < 0)
		return 0;
	for (i = 0; i < b->fields.n && rc == 0; i++) {
		const struct sl_field *f = &b->fields.v[i];
		char *ln = loki_label_name(b->fields.text.data + f->key_off,
					   f->key_len);

		if (!ln)
			return -SL_ENOMEM;
		rc = add_pair(b, n, ln, strlen(ln),
			      b->fields.text.data + f->raw_off, f->raw_len);
		free(ln);
	}
	return rc;
}

/* The value of label/metadata `l` for the current record and chunk:
 * false when it has none (absent field, no such tag part). */
static bool pair_value(const struct loki_label *l, struct loki_batch *b,
		       bool have_rec, const char **t, size_t *tl)
{
	const char *p, *end, *dot;
	long i;

	if (l->value) {
		*t = l->value;
		*tl = strlen(l->value);
		return true;
	}
	if (l->tag_part == LOKI_TAG_ALL) {
		*t = b->tag;
		*tl = b->tag_len;
		return true;
	}
	if (l->tag_part >= 0) {
		p = b->tag;
		end = b->tag + b->tag_len;
		for (i = 0; p <= end; i++) {
			dot = memchr(p, '.', (size_t)(end - p));
			if (!dot)
				dot = end;
			if (i == l->tag_part) {
				*t = p;
				*tl = (size_t)(dot - p);
				return true;
			}
			p = dot + 1;
		}
		return false;
	}
	return have_rec &&
	       sl_record_get_text(&b->rec, l->acc, &b->text, t, tl) == 0;
}

/*
 * Renders the record's label set at the end of b->keys, as the JSON
 * "stream" object or Loki's label string (names sorted, a repeated name
 * keeps its last value).
 */
static int render_labels(const struct loki_enc *e, struct loki_batch *b,
			 bool have_rec)
{
	size_t n = 0, i, out_n;
	int rc;

	sl_buf_reset(&b->label);
	for (i = 0; i < e->n_labels; i++) {
		const struct loki_label *l = &e->labels[i];
		const char *t;
		size_t tl;

		if (!pair_value(l, b, have_rec, &t, &tl))
			continue; /* absent: no such label for this record */
		if (add_pair(b, &n, l->name, strlen(l->name), t, tl) < 0)
			return -SL_ENOMEM;
	}
	if (have_rec && e->auto_kubernetes_labels &&
	    (rc = k8s_pairs(e, b, &n)) < 0)
		return rc;
	/* Fluent Bit's label for a record that got none (Loki needs one) */
	if (n == 0 && add_pair(b, &n, "job", 3, "fluent-bit", 10) < 0)
		return -SL_ENOMEM;
	pair_buf = b->label.data;
	if (n > 1)
		qsort(b->pairs, n, sizeof(*b->pairs), cmp_pair);
	/* keep the last of equal names */
	out_n = 0;
	for (i = 0; i < n; i++) {
		if (i + 1 < n &&
		    b->pairs[i].name_len == b->pairs[i + 1].name_len &&
		    !memcmp(b->label.data + b->pairs[i].name_off,
			    b->label.data + b->pairs[i + 1].name_off,
			    b->pairs[i].name_len))
			continue;
		b->pairs[out_n++] = b->pairs[i];
	}
	if (sl_buf_append(&b->keys, "{", 1) < 0)
		return -SL_ENOMEM;
	for (i = 0; i < out_n; i++) {
		const struct lk_pair *p = &b->pairs[i];

		if (e->wire == LOKI_WIRE_PROTOBUF) {
			if ((i && sl_buf_append(&b->keys, ", ", 2) < 0) ||
			    loki_proto_label(
				&b->keys, b->label.data + p->name_off,
				p->name_len, b->label.data + p->val_off,
				p->val_len) < 0)
				return -SL_ENOMEM;
			continue;
		}
		if ((i && sl_buf_append(&b->keys, ",", 1) < 0) ||
		    sl_json_append_string(&b->keys, b->label.data + p->name_off,
					  p->name_len) < 0 ||
		    sl_buf_append(&b->keys, ":", 1) < 0 ||
		    sl_json_append_string(&b->keys, b->label.data + p->val_off,
					  p->val_len) < 0)
			return -SL_ENOMEM;
	}
	return sl_buf_append(&b->keys, "}", 1);
}

static uint32_t fnv1a(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (uint8_t)s[i];
		h *= 16777619u;
	}
	return h;
}

static int rehash(struct loki_batch *b, size_t slots)
{
	uint32_t *t = calloc(slots, sizeof(*t));
	size_t i;

	if (!t)
		return -SL_ENOMEM;
	for (i = 0; i < b->n_streams; i++) {
		size_t s = b->streams[i].hash & (slots - 1);

		while (t[s])
			s = (s + 1) & (slots - 1);
		t[s] = (uint32_t)i + 1;
	}
	free(b->slots);
	b->slots = t;
	b->n_slots = slots;
	return 0;
}

/*
 * The stream of the label set rendered at b->keys[key_off..]: an existing
 * one (the rendering is dropped) or a new one. Returns its index or -1.
 */
static long stream_of(struct loki_batch *b, size_t key_off)
{
	const char *k = b->keys.data + key_off;
	size_t klen = b->keys.len - key_off, s;
	uint32_t h = fnv1a(k, klen);
	struct loki_stream *st;

	if ((b->n_streams + 1) * 2 > b->n_slots &&
	    rehash(b, b->n_slots ? b->n_slots * 2 : 64) < 0)
		return -1;
	s = h & (b->n_slots - 1);
	while (b->slots[s]) {
		st = &b->streams[b->slots[s] - 1];
		if (st->hash == h && st->key_len == klen &&
		    !memcmp(b->keys.data + st->key_off, k, klen)) {
			b->keys.len = key_off;
			return (long)b->slots[s] - 1;
		}
		s = (s + 1) & (b->n_slots - 1);
	}
	if (grow((void **)&b->streams, &b->cap_streams, b->n_streams + 1,
		 sizeof(*st)) < 0)
		return -1;
	st = &b->streams[b->n_streams];
	*st = (struct loki_stream){key_off, klen, h, 0, 0, 0};
	b->slots[s] = (uint32_t)b->n_streams + 1;
	return (long)b->n_streams++;
}

/* ---- the line
 * ---------------------------------------------------------------- */

enum { RM_SELF = 1, RM_INSIDE = 2 };

/* First node whose value starts at `off` (nodes are in document order). */
static uint32_t node_at(const struct sl_view *v, size_t off)
{
	uint32_t lo = 0, hi = v->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (v->nodes[mid].val_off < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < v->n && v->nodes[lo].val_off == off ? lo : UINT32_MAX;
}

/*
 * Flags the nodes the remove accessors reach in b->rm. Returns whether any
 * was found; -SL_ENOMEM.
 */
static int mark_removed(const struct loki_enc *e, struct loki_batch *b,
			const char *text, const struct sl_view *v)
{
	size_t i;
	int any = 0;

	if (grow((void **)&b->rm, &b->cap_rm, v->n, 1) < 0)
		return -SL_ENOMEM;
	memset(b->rm, 0, v->n);
	for (i = 0; i < e->n_remove; i++) {
		struct sl_value val;
		uint32_t node, p;

		if (sl_record_get(&b->rec, e->remove[i], &val) < 0)
			continue;
		node = node_at(v, (size_t)(val.raw - text));
		/* the root cannot be removed; a value shared by a deeper
		 * node (same offset) is its container's first member */
		if (node == UINT32_MAX || node == 0)
			continue;
		while (node + 1 < v->n &&
		       v->nodes[node + 1].val_off == v->nodes[node].val_off)
			node++; /* cannot happen for JSON, kept for safety */
		b->rm[node] |= RM_SELF;
		for (p = v->nodes[node].parent; p != 0; p = v->nodes[p].parent)
			b->rm[p] |= RM_INSIDE;
		any = 1;
	}
	return any;
}

/*
 * Copies container `p` without its removed members, joined by ','. Kept
 * members that were already joined by exactly one ',' in the text are
 * copied as one run (one append instead of two per member); any other gap
 * (white space) is not copied, as before.
 */
static int copy_filtered(struct sl_buf *out, const struct sl_view *v,
			 const char *text, const uint8_t *rm, uint32_t p)
{
	const struct sl_view_node *pn = &v->nodes[p];
	size_t run_off = 0, run_end = 0;
	bool first = true, run = false;
	uint32_t c;

	if (sl_buf_append(out, pn->type == SL_VAL_ARRAY ? "[" : "{", 1) < 0)
		return -SL_ENOMEM;
	for (c = p + 1; c < pn->end; c = v->nodes[c].end) {
		const struct sl_view_node *cn = &v->nodes[c];
		size_t m_off = cn->member_off,
		       m_end = cn->val_off + cn->val_len;

		if (rm[c] & RM_SELF)
			continue;
		if (run && !(rm[c] & RM_INSIDE) && m_off == run_end + 1 &&
		    text[run_end] == ',') {
			run_end = m_end;
			continue;
		}
		if (run &&
		    sl_buf_append(out, text + run_off, run_end - run_off) < 0)
			return -SL_ENOMEM;
		run = false;
		if (!first && sl_buf_append(out, ",", 1) < 0)
			return -SL_ENOMEM;
		first = false;
		if (rm[c] & RM_INSIDE) {
			if (sl_buf_append(out, text + m_off,
					  cn->val_off - m_off) < 0 ||
			    copy_filtered(out, v, text, rm, c) < 0)
				return -SL_ENOMEM;
		} else {
			run = true;
			run_off = m_off;
			run_end = m_end;
		}
	}
	if (run && sl_buf_append(out, text + run_off, run_end - run_off) < 0)
		return -SL_ENOMEM;
	return sl_buf_append(out, pn->type == SL_VAL_ARRAY ? "]" : "}", 1);
}

/* A value as line text: strings unescaped when `unquote`, containers
 * filtered, the rest as its literal. */
static int value_text(struct sl_buf *out, const struct sl_view *v,
		      const char *text, const uint8_t *rm, uint32_t c,
		      bool unquote)
{
	const struct sl_view_node *cn = &v->nodes[c];

	if (cn->type == SL_VAL_STRING && unquote)
		return sl_json_unescape_append(out, text + cn->val_off + 1,
					       cn->val_len - 2) == -SL_ENOMEM
			   ? -SL_ENOMEM
			   : 0;
	if (rm[c] & RM_INSIDE)
		return copy_filtered(out, v, text, rm, c);
	return sl_buf_append(out, text + cn->val_off, cn->val_len);
}

/* The record's line into b->line. */
static int build_line(const struct loki_enc *e, struct loki_batch *b,
		      const char *text, size_t len, const struct sl_view *v)
{
	uint32_t c, kept = 0, only = 0;
	int any;

	sl_buf_reset(&b->line);
	any = e->n_remove ? mark_removed(e, b, text, v) : 0;
	if (any < 0)
		return any;
	if (!any) {
		if (grow((void **)&b->rm, &b->cap_rm, v->n, 1) < 0)
			return -SL_ENOMEM;
		memset(b->rm, 0, v->n);
	}
	for (c = 1; c < v->nodes[0].end; c = v->nodes[c].end) {
		if (!(b->rm[c] & RM_SELF)) {
			kept++;
			only = c;
		}
	}
	if (kept == 1 && e->drop_single_key != LOKI_DROP_OFF)
		return value_text(&b->line, v, text, b->rm, only,
				  e->drop_single_key == LOKI_DROP_RAW ||
				      e->line_format == LOKI_LINE_KEY_VALUE);
	if (e->line_format == LOKI_LINE_JSON) {
		if (!any)
			return sl_buf_append(&b->line, text, len);
		return copy_filtered(&b->line, v, text, b->rm, 0);
	}
	kept = 0;
	for (c = 1; c < v->nodes[0].end; c = v->nodes[c].end) {
		const struct sl_view_node *cn = &v->nodes[c];

		if (b->rm[c] & RM_SELF)
			continue;
		if ((kept++ && sl_buf_append(&b->line, " ", 1) < 0) ||
		    sl_json_unescape_append(&b->line, text + cn->key_off,
					    cn->key_len) == -SL_ENOMEM ||
		    sl_buf_append(&b->line, "=", 1) < 0 ||
		    value_text(&b->line, v, text, b->rm, c, true) < 0)
			return -SL_ENOMEM;
	}
	return 0;
}

/* ---- structured metadata
 * ------------------------------------------------------ */

/* A metadata pair of the record, copied into b->label (not sanitised:
 * metadata values are not label values). */
static int meta_pair(struct loki_batch *b, size_t *n, const char *name,
		     size_t nlen, const char *val, size_t vlen)
{
	struct lk_pair *p;

	if (grow((void **)&b->pairs, &b->cap_pairs, *n + 1, sizeof(*p)) < 0)
		return -SL_ENOMEM;
	p = &b->pairs[*n];
	p->name_off = b->label.len;
	p->name_len = nlen;
	if (sl_buf_append(&b->label, name, nlen) < 0)
		return -SL_ENOMEM;
	p->val_off = b->label.len;
	p->val_len = vlen;
	if (sl_buf_append(&b->label, val, vlen) < 0)
		return -SL_ENOMEM;
	p->order = (*n)++;
	return 0;
}

/* Each member of the object `acc` reads: named as a label name, a string
 * value unescaped, any other value as its JSON text (Fluent Bit's rule). */
static int meta_map_pairs(struct loki_batch *b, size_t *n,
			  const struct sl_accessor *acc,
			  const struct sl_view *v)
{
	struct sl_value val;
	const char *text;
	size_t tlen;
	uint32_t p, c;

	if (sl_record_get(&b->rec, acc, &val) < 0 || val.type != SL_VAL_OBJECT)
		return 0; /* absent or not a map: nothing from it */
	text = sl_record_body(&b->rec, &tlen);
	p = node_at(v, (size_t)(val.raw - text));
	if (p == UINT32_MAX)
		return 0;
	for (c = p + 1; c < v->nodes[p].end; c = v->nodes[c].end) {
		const struct sl_view_node *cn = &v->nodes[c];
		char *name;
		int rc;

		sl_buf_reset(&b->line);
		if (sl_json_unescape_append(&b->line, text + cn->key_off,
					    cn->key_len) == -SL_ENOMEM)
			return -SL_ENOMEM;
		name = loki_label_name(b->line.data ? b->line.data : "",
				       b->line.len);
		if (!name)
			return -SL_ENOMEM;
		sl_buf_reset(&b->line);
		if (cn->type == SL_VAL_STRING)
			rc = sl_json_unescape_append(
				 &b->line, text + cn->val_off + 1,
				 cn->val_len - 2) == -SL_ENOMEM
				 ? -SL_ENOMEM
				 : 0;
		else
			rc = sl_buf_append(&b->line, text + cn->val_off,
					   cn->val_len);
		if (rc == 0)
			rc = meta_pair(b, n, name, strlen(name),
				       b->line.data ? b->line.data : "",
				       b->line.len);
		free(name);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* True when a later pair has the same name (the later one is kept). */
static bool meta_overridden(const struct loki_batch *b, size_t i, size_t n)
{
	const struct lk_pair *p = &b->pairs[i];
	size_t j;

	for (j = i + 1; j < n; j++)
		if (b->pairs[j].name_len == p->name_len &&
		    !memcmp(b->label.data + b->pairs[j].name_off,
			    b->label.data + p->name_off, p->name_len))
			return true;
	return false;
}

/*
 * Appends ",{name:value,...}" (the entry's third element) to b->lines, or
 * with protobuf the pairs as structured_metadata fields:
 * map members first, then Structured_metadata in its order, which
 * overrides a member of the same name. An accessor that finds nothing or
 * an empty value adds nothing. `v` is NULL when the body is not an object.
 * Uses b->label, b->pairs and b->line (the line is already copied).
 */
static int render_metadata(const struct loki_enc *e, struct loki_batch *b,
			   const struct sl_view *v)
{
	size_t n = 0, i, out = 0;
	int rc;

	sl_buf_reset(&b->label);
	for (i = 0; v && i < e->n_meta_maps; i++)
		if ((rc = meta_map_pairs(b, &n, e->meta_maps[i], v)) < 0)
			return rc;
	for (i = 0; i < e->n_meta; i++) {
		const struct loki_label *m = &e->meta[i];
		const char *t;
		size_t tl;

		if (!pair_value(m, b, v != NULL, &t, &tl) || tl == 0)
			continue;
		if (meta_pair(b, &n, m->name, strlen(m->name), t, tl) < 0)
			return -SL_ENOMEM;
	}
	if (e->wire == LOKI_WIRE_PROTOBUF) {
		for (i = 0; i < n; i++) {
			const struct lk_pair *p = &b->pairs[i];

			if (!meta_overridden(b, i, n) &&
			    loki_proto_pair(
				&b->lines, b->label.data + p->name_off,
				p->name_len, b->label.data + p->val_off,
				p->val_len, &b->fix) < 0)
				return -SL_ENOMEM;
		}
		return 0;
	}
	if (sl_buf_append(&b->lines, ",{", 2) < 0)
		return -SL_ENOMEM;
	for (i = 0; i < n; i++) {
		const struct lk_pair *p = &b->pairs[i];

		if (meta_overridden(b, i, n))
			continue;
		if ((out++ && sl_buf_append(&b->lines, ",", 1) < 0) ||
		    sl_json_append_string(&b->lines,
					  b->label.data + p->name_off,
					  p->name_len) < 0 ||
		    sl_buf_append(&b->lines, ":", 1) < 0 ||
		    sl_json_append_string(&b->lines, b->label.data + p->val_off,
					  p->val_len) < 0)
			return -SL_ENOMEM;
	}
	return sl_buf_append(&b->lines, "}", 1);
}

/* ---- the payload
 * ----------------------------------------------------------------- */

static int cmp_entry(const void *a, const void *b)
{
	const struct loki_entry *x = a, *y = b;

	if (x->stream != y->stream)
		return x->stream < y->stream ? -1 : 1;
	if (x->ts_ns != y->ts_ns)
		return x->ts_ns < y->ts_ns ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/*
 * Whether anything but the line itself reads the record: labels and
 * metadata from accessors (which also remove their fields), Remove_keys,
 * Drop_Single_Key, key_value lines. When nothing does, the record is not
 * parsed at all: its bytes are the line. That is the same line the parse
 * would give, since a repaired body (invalid UTF-8 as U+FFFD) is exactly
 * what escaping the raw bytes gives, and a body that does not parse is
 * sent as it is either way.
 */
static bool reads_record(const struct loki_enc *e)
{
	size_t i;

	if (e->n_remove || e->drop_single_key != LOKI_DROP_OFF ||
	    e->line_format != LOKI_LINE_JSON || e->auto_kubernetes_labels ||
	    e->n_meta_maps)
		return true;
	for (i = 0; i < e->n_labels; i++)
		if (e->labels[i].acc)
			return true;
	for (i = 0; i < e->n_meta; i++)
		if (e->meta[i].acc)
			return true;
	return false;
}

/* Whether every label is fixed or read from the tag: one stream a chunk. */
static bool labels_fixed(const struct loki_enc *e)
{
	size_t i;

	if (e->auto_kubernetes_labels)
		return false;
	for (i = 0; i < e->n_labels; i++)
		if (e->labels[i].acc)
			return false;
	return true;
}

/*
 * One record: its stream and its line, appended to the batch. `parse`:
 * whether anything reads the record (reads_record); `fixed`: the stream
 * of every record of the chunk, or -1 when the labels come from it.
 */
static int add_record(const struct loki_enc *e, struct loki_batch *b,
		      uint32_t index, int64_t ts, const char *body, size_t len,
		      bool parse, long fixed)
{
	const struct sl_view *v = NULL;
	struct loki_entry *en;
	bool ok = false;
	long st = fixed;

	if (parse)
		ok = sl_record_reset_json(&b->rec, ts, body, len) == 0 &&
		     sl_record_view(&b->rec, &v) == 0;
	if (st < 0) {
		size_t key_off = b->keys.len;

		if (render_labels(e, b, ok) < 0)
			return -SL_ENOMEM;
		st = stream_of(b, key_off);
		if (st < 0)
			return -SL_ENOMEM;
	}
	if (grow((void **)&b->entries, &b->cap_entries, b->n_entries + 1,
		 sizeof(*en)) < 0)
		return -SL_ENOMEM;
	en = &b->entries[b->n_entries];
	en->ts_ns = ts < 0 ? 0 : ts;
	en->stream = (uint32_t)st;
	en->index = index;
	en->line_off = b->lines.len;
	en->raw = NULL;
	if (!ok && e->wire == LOKI_WIRE_JSON && !loki_enc_has_metadata(e)) {
		/* the commonest case, and a whole chunk's lines: the body
		 * escapes them straight from the chunk */
		en->raw = body;
		en->line_len = len;
		b->raw_bytes += len;
		goto added;
	}
	if (ok) {
		const char *text;
		size_t tlen;

		text = sl_record_body(&b->rec, &tlen);
		if (build_line(e, b, text, tlen, v) < 0)
			return -SL_ENOMEM;
		body = b->line.data ? b->line.data : "";
		len = b->line.len;
	}
	/* else nothing reads it, or not an object (cannot come from the
	 * core): the record's bytes are the line */
	if (e->wire == LOKI_WIRE_PROTOBUF) {
		if (loki_proto_line(&b->lines, body, len, &b->fix) < 0)
			return -SL_ENOMEM;
	} else if (sl_json_append_string(&b->lines, body, len) < 0) {
		return -SL_ENOMEM;
	}
	if (loki_enc_has_metadata(e) &&
	    render_metadata(e, b, ok ? v : NULL) < 0)
		return -SL_ENOMEM;
	en->line_len = b->lines.len - en->line_off;
added:
	b->n_entries++;
	b->streams[st].entries++;
	return 0;
}

/* True when entries[from, to) are in time order (ties in chunk order,
 * which is how they were appended). */
static bool in_time_order(const struct loki_entry *en, size_t from, size_t to)
{
	size_t i;

	for (i = from + 1; i < to; i++)
		if (en[i].ts_ns < en[i - 1].ts_ns)
			return false;
	return true;
}

/*
 * Orders the entries by stream (first appearance), then time, then chunk
 * position, as one qsort by that key would, without its n log n
 * comparisons in the common cases: a stable counting sort by stream
 * (nothing to do for one stream), then a sort of each stream only when its
 * times go backwards (tail records mostly arrive in order). 0 or
 * -SL_ENOMEM.
 */
static int order_entries(struct loki_batch *b)
{
	struct loki_entry *t;
	size_t i, off = 0;

	if (b->n_streams > 1) {
		if (grow((void **)&b->spare, &b->cap_spare, b->n_entries,
			 sizeof(*b->spare)) < 0)
			return -SL_ENOMEM;
		for (i = 0; i < b->n_streams; i++) {
			b->streams[i].next = (uint32_t)off;
			off += b->streams[i].entries;
		}
		for (i = 0; i < b->n_entries; i++)
			b->spare[b->streams[b->entries[i].stream].next++] =
			    b->entries[i];
		t = b->entries;
		b->entries = b->spare;
		b->spare = t;
		i = b->cap_entries;
		b->cap_entries = b->cap_spare;
		b->cap_spare = i;
	}
	off = 0;
	for (i = 0; i < b->n_streams; i++) {
		size_t n = b->streams[i].entries;

		if (!in_time_order(b->entries, off, off + n))
			qsort(b->entries + off, n, sizeof(*b->entries),
			      cmp_entry);
		off += n;
	}
	return 0;
}

/* Appends `v` in decimal ("[\"<v>\","), faster than snprintf. */
static int put_ts(struct sl_buf *out, int64_t v)
{
	char num[24], *p = num + sizeof(num);
	uint64_t u = (uint64_t)v;

	*--p = ',';
	*--p = '"';
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	*--p = '"';
	*--p = '[';
	return sl_buf_append(out, p, (size_t)(num + sizeof(num) - p));
}

static void batch_reset(struct loki_batch *b)
{
	b->n_entries = 0;
	b->n_streams = 0;
	if (b->slots)
		memset(b->slots, 0, b->n_slots * sizeof(*b->slots));
	sl_buf_reset(&b->lines);
	sl_buf_reset(&b->keys);
	b->raw_bytes = 0;
}

int loki_encode(const struct loki_enc *e, struct loki_batch *b,
		const struct sl_chunk *c, loki_skip_fn skip, void *skip_ud,
		struct sl_buf *out)
{
	bool parse = reads_record(e);
	struct sl_chunk_iter it;
	const char *body;
	long fixed = -1;
	size_t len, i;
	int64_t ts;

	batch_reset(b);
	b->tag = c->tag ? c->tag : "";
	b->tag_len = c->tag ? c->tag_len : 0;
	if (labels_fixed(e)) {
		/* the same label set for every record: rendered once */
		if (render_labels(e, b, false) < 0 ||
		    (fixed = stream_of(b, 0)) < 0)
			return -SL_ENOMEM;
	}
	sl_chunk_iter_init(&it, c);
	while (sl_chunk_next(&it, &ts, &body, &len)) {
		uint32_t index = it.index - 1;

		if (skip && skip(skip_ud, index))
			continue;
		if (add_record(e, b, index, ts, body, len, parse, fixed) < 0)
			return -SL_ENOMEM;
	}
	if (b->n_entries == 0)
		return 0;
	if (order_entries(b) < 0)
		return -SL_ENOMEM;
	if (e->wire == LOKI_WIRE_PROTOBUF)
		return loki_proto_write(b, out);
	/* raw lines grow when escaped: a quarter more is reserved for them
	 * (pages never written are never resident; past it the buffer
	 * grows as usual) */
	if (sl_buf_reserve(out, b->lines.len + b->raw_bytes + b->raw_bytes / 4 +
				    b->keys.len + b->n_entries * 28 +
				    b->n_streams * 32 + 16) < 0 ||
	    sl_buf_append(out, "{\"streams\":[", 12) < 0)
		return -SL_ENOMEM;
	for (i = 0; i < b->n_entries; i++) {
		const struct loki_entry *en = &b->entries[i];
		const struct loki_stream *st = &b->streams[en->stream];
		bool first = i == 0 || b->entries[i - 1].stream != en->stream;

		if (first) {
			if ((i && sl_buf_append(out, "]},", 3) < 0) ||
			    sl_buf_append(out, "{\"stream\":", 10) < 0 ||
			    sl_buf_append(out, b->keys.data + st->key_off,
					  st->key_len) < 0 ||
			    sl_buf_append(out, ",\"values\":[", 11) < 0)
				return -SL_ENOMEM;
		} else if (sl_buf_append(out, ",", 1) < 0) {
			return -SL_ENOMEM;
		}
		if (put_ts(out, en->ts_ns) < 0 ||
		    (en->raw ? sl_json_append_string(out, en->raw, en->line_len)
			     : sl_buf_append(out, b->lines.data + en->line_off,
					     en->line_len)) < 0 ||
		    sl_buf_append(out, "]", 1) < 0)
			return -SL_ENOMEM;
	}
	return sl_buf_append(out, "]}]}", 4);
}

/* ---- Loki's 400 body
 * ------------------------------------------------------------- */

/* Reads decimal digits at *p (bounded by end); false when none. */
static bool read_u64(const char **p, const char *end, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;

	if (s >= end || *s < '0' || *s > '9')
		return false;
	while (s < end && *s >= '0' && *s <= '9') {
		uint64_t d = (uint64_t)(*s - '0');

		v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
		s++;
	}
	*p = s;
	*out = v;
	return true;
}

int loki_error_ignored(const char *body, size_t len, uint64_t *ignored)
{
	static const char key[] = "total ignored:";
	const size_t klen = sizeof(key) - 1;
	const char *p, *end;
	int found = 0;
	uint64_t sum = 0;

	*ignored = 0;
	if (!body)
		return 0;
	p = body;
	end = body + len;
	while ((size_t)(end - p) >= klen) {
		const char *q = memmem(p, (size_t)(end - p), key, klen);
		uint64_t n, m;

		if (!q)
			break;
		p = q + klen;
		while (p < end && *p == ' ')
			p++;
		if (!read_u64(&p, end, &n))
			continue;
		/* "N out of M": M is not needed but must be there for the
		 * phrase to count, so that unrelated text is not misread */
		while (p < end && *p == ' ')
			p++;
		if ((size_t)(end - p) < 6 || memcmp(p, "out of", 6) != 0)
			continue;
		p += 6;
		while (p < end && *p == ' ')
			p++;
		if (!read_u64(&p, end, &m))
			continue;
		if (n > m)
			n = m;
		sum = sum > UINT64_MAX - n ? UINT64_MAX : sum + n;
		found++;
	}
	*ignored = sum;
	return found;
}
