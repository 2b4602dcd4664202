/* SPDX-License-Identifier: Apache-2.0 */
/*
 * splunk_encode.c - records as HEC events. The record's JSON is copied as
 * it is into "event" (never re-serialised); the envelope members around it
 * are written here. A record is viewed (parsed) only when an option reads
 * one of its fields.
 */
#include "splunk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int add_seg(struct splunk_value *v, struct splunk_seg seg)
{
	struct splunk_seg *s = realloc(v->segs, (v->n + 1) * sizeof(*s));

	if (!s)
		return -SL_ENOMEM;
	v->segs = s;
	v->segs[v->n++] = seg;
	return 0;
}

static int add_text(struct splunk_value *v, const char *p, size_t len)
{
	struct splunk_seg seg = {.kind = SPLUNK_SEG_TEXT, .len = len};
	int r;

	if (len == 0)
		return 0;
	seg.text = strndup(p, len);
	if (!seg.text)
		return -SL_ENOMEM;
	r = add_seg(v, seg);
	if (r < 0)
		free(seg.text);
	return r;
}

/* "$TAG" or "$TAG[n]" at p ('$'): its length, or 0 when it is neither. */
static size_t tag_ref(const char *p, long *part)
{
	const char *q;
	long n = 0;

	if (strncmp(p, "$TAG", 4) != 0)
		return 0;
	*part = SPLUNK_SEG_TAG;
	if (p[4] != '[')
		return 4;
	for (q = p + 5; *q >= '0' && *q <= '9' && n < 100000; q++)
		n = n * 10 + (*q - '0');
	if (q == p + 5 || *q != ']')
		return 4; /* "$TAG" then text, as Fluent Bit reads it */
	*part = n;
	return (size_t)(q + 1 - p);
}

/* Where "$key['sub']" at p ends: '.', ' ', ',' or '"' outside quotes. */
static size_t key_ref(const char *p)
{
	size_t i;
	bool quoted = false;

	for (i = 1; p[i]; i++) {
		if (p[i] == '\'')
			quoted = !quoted;
		else if (!quoted && strchr(". ,\"", p[i]))
			break;
	}
	return i;
}

int splunk_value_set(struct splunk_value *v, const char *spec, const char **err)
{
	const char *p = spec, *text = spec;
	int r = 0;

	while (r == 0 && (p = strchr(p, '$')) != NULL) {
		struct splunk_seg seg = {.kind = SPLUNK_SEG_KEY};
		size_t n = tag_ref(p, &seg.kind);
		char *acc_spec;

		/* a lone '$' is text; so is "$5" (Fluent Bit's regex
		 * captures, which no output has) */
		if (n == 0 && (p[1] == '\0' || strchr(". ,\"$", p[1]) ||
			       (p[1] >= '0' && p[1] <= '9'))) {
			p++;
			continue;
		}
		r = add_text(v, text, (size_t)(p - text));
		if (r < 0)
			break;
		if (n == 0) {
			n = key_ref(p);
			acc_spec = strndup(p, n);
			if (!acc_spec)
				return -SL_ENOMEM;
			seg.acc = sl_accessor_create(acc_spec, err);
			free(acc_spec);
			if (!seg.acc)
				return -SL_EINVAL;
		}
		r = add_seg(v, seg);
		if (r < 0)
			sl_accessor_destroy(seg.acc);
		p += n;
		text = p;
	}
	if (r == 0)
		r = add_text(v, text, strlen(text));
	return r;
}

static void value_destroy(struct splunk_value *v)
{
	for (size_t i = 0; i < v->n; i++) {
		free(v->segs[i].text);
		sl_accessor_destroy(v->segs[i].acc);
	}
	free(v->segs);
	*v = (struct splunk_value){0};
}

static bool value_reads_fields(const struct splunk_value *v)
{
	for (size_t i = 0; i < v->n; i++)
		if (v->segs[i].acc)
			return true;
	return false;
}

int splunk_enc_add_field(struct splunk_enc *e, const char *spec,
			 const char **err)
{
	const char *sp = spec + strcspn(spec, " \t");
	const char *pat = sp + strspn(sp, " \t");
	struct splunk_field *f;

	if (sp == spec || !*pat || pat[0] != '$' || pat[strcspn(pat, " \t")]) {
		*err = "expected 'NAME $accessor'";
		return -SL_EINVAL;
	}
	f = realloc(e->fields, (e->n_fields + 1) * sizeof(*f));
	if (!f)
		return -SL_ENOMEM;
	e->fields = f;
	f = &e->fields[e->n_fields];
	f->acc = sl_accessor_create(pat, err);
	if (!f->acc)
		return -SL_EINVAL;
	f->name = strndup(spec, (size_t)(sp - spec));
	if (!f->name) {
		sl_accessor_destroy(f->acc);
		return -SL_ENOMEM;
	}
	e->n_fields++;
	return 0;
}

int splunk_enc_set_event_key(struct splunk_enc *e, const char *spec,
			     const char **err)
{
	if (spec[0] != '$') {
		*err = "must start with '$'";
		return -SL_EINVAL;
	}
	sl_accessor_destroy(e->event_key);
	e->event_key = sl_accessor_create(spec, err);
	return e->event_key ? 0 : -SL_EINVAL;
}

void splunk_enc_destroy(struct splunk_enc *e)
{
	sl_accessor_destroy(e->event_key);
	e->event_key = NULL;
	value_destroy(&e->host);
	value_destroy(&e->source);
	value_destroy(&e->sourcetype_key);
	value_destroy(&e->index_key);
	for (size_t i = 0; i < e->n_fields; i++) {
		free(e->fields[i].name);
		sl_accessor_destroy(e->fields[i].acc);
	}
	free(e->fields);
	e->fields = NULL;
	e->n_fields = 0;
}

void splunk_batch_init(struct splunk_batch *b)
{
	*b = (struct splunk_batch){0};
	sl_record_init(&b->rec);
}

void splunk_batch_destroy(struct splunk_batch *b)
{
	free(b->idx);
	free(b->off);
	sl_record_destroy(&b->rec);
	free(b->text.buf);
	sl_buf_destroy(&b->tmp);
	*b = (struct splunk_batch){0};
}

/* Whether any option reads a field of the record. */
static bool reads_fields(const struct splunk_enc *e)
{
	return e->event_key || value_reads_fields(&e->host) ||
	       value_reads_fields(&e->source) ||
	       value_reads_fields(&e->sourcetype_key) ||
	       value_reads_fields(&e->index_key) || e->n_fields;
}

/* The n-th '.'-part of the tag (the whole tag has part 0 when no dot). */
static int tag_part(struct splunk_batch *b, long n, struct sl_buf *out)
{
	const char *p = b->tag, *end = b->tag + b->tag_len;

	for (long i = 0; p <= end; i++) {
		const char *dot = memchr(p, '.', (size_t)(end - p));
		const char *stop = dot ? dot : end;

		if (i == n)
			return sl_buf_append(out, p, (size_t)(stop - p));
		if (!dot)
			break;
		p = dot + 1;
	}
	return 0;
}

/*
 * The text of `v` for the current record; false when it is not set or
 * comes out empty (then the member is left out, as Fluent Bit does). An
 * absent field adds nothing. ENOMEM also gives false: the member is left
 * out rather than the event lost.
 */
static bool value_text(const struct splunk_value *v, struct splunk_batch *b,
		       const char **t, size_t *tl)
{
	struct sl_buf *o = &b->tmp;

	if (v->n == 1 && v->segs[0].kind == SPLUNK_SEG_TEXT) {
		*t = v->segs[0].text;
		*tl = v->segs[0].len;
		return true;
	}
	sl_buf_reset(o);
	for (size_t i = 0; i < v->n; i++) {
		const struct splunk_seg *s = &v->segs[i];
		const char *ft;
		size_t fl;
		int r = 0;

		if (s->kind == SPLUNK_SEG_TEXT)
			r = sl_buf_append(o, s->text, s->len);
		else if (s->kind == SPLUNK_SEG_TAG)
			r = sl_buf_append(o, b->tag, b->tag_len);
		else if (s->kind >= 0)
			r = tag_part(b, s->kind, o);
		else if (sl_record_get_text(&b->rec, s->acc, &b->text, &ft,
					    &fl) == 0)
			r = sl_buf_append(o, ft, fl);
		if (r < 0)
			return false;
	}
	*t = o->data;
	*tl = o->len;
	return o->len > 0;
}

static int member(struct sl_buf *out, bool *first, const char *name)
{
	size_t nl = strlen(name);

	if (!*first && sl_buf_append(out, ",", 1) < 0)
		return -SL_ENOMEM;
	*first = false;
	if (sl_buf_append(out, "\"", 1) < 0 ||
	    sl_buf_append(out, name, nl) < 0 ||
	    sl_buf_append(out, "\":", 2) < 0)
		return -SL_ENOMEM;
	return 0;
}

/* "name":"<text of v>" when v has a text; nothing otherwise. */
static int string_member(struct sl_buf *out, bool *first, const char *name,
			 const struct splunk_value *v, struct splunk_batch *b,
			 bool *done)
{
	const char *t;
	size_t tl;

	if (done)
		*done = false;
	if (!value_text(v, b, &t, &tl))
		return 0;
	if (done)
		*done = true;
	if (member(out, first, name) < 0 ||
	    sl_json_append_string(out, t, tl) < 0)
		return -SL_ENOMEM;
	return 0;
}

/* "name":"fixed" for the sourcetype / index fallbacks. */
static int fixed_member(struct sl_buf *out, bool *first, const char *name,
			const char *value)
{
	if (!value || !*value)
		return 0;
	if (member(out, first, name) < 0 ||
	    sl_json_append_string(out, value, strlen(value)) < 0)
		return -SL_ENOMEM;
	return 0;
}

/* The time as seconds with nine decimals: exact, no float rounding. */
static int time_member(struct sl_buf *out, bool *first, int64_t ts_ns)
{
	char num[48];
	int64_t sec = ts_ns / 1000000000, ns = ts_ns % 1000000000;
	int n;

	if (ns < 0) { /* before 1970: floor, so the fraction stays positive */
		sec -= 1;
		ns += 1000000000;
	}
	n = snprintf(num, sizeof(num), "%lld.%09lld", (long long)sec,
		     (long long)ns);
	if (member(out, first, "time") < 0 ||
	    sl_buf_append(out, num, (size_t)n) < 0)
		return -SL_ENOMEM;
	return 0;
}

static int fields_member(const struct splunk_enc *e, struct splunk_batch *b,
			 struct sl_buf *out, bool *first)
{
	bool ffirst = true;

	if (!e->n_fields)
		return 0;
	/* Fluent Bit writes "fields" even when no field was found */
	if (member(out, first, "fields") < 0 || sl_buf_append(out, "{", 1) < 0)
		return -SL_ENOMEM;
	for (size_t i = 0; i < e->n_fields; i++) {
		struct sl_value v;
		const char *name = e->fields[i].name;

		if (sl_record_get(&b->rec, e->fields[i].acc, &v) < 0 ||
		    v.type == SL_VAL_NONE)
			continue;
		if (!ffirst && sl_buf_append(out, ",", 1) < 0)
			return -SL_ENOMEM;
		ffirst = false;
		if (sl_json_append_string(out, name, strlen(name)) < 0 ||
		    sl_buf_append(out, ":", 1) < 0 ||
		    sl_buf_append(out, v.raw, v.raw_len) < 0)
			return -SL_ENOMEM;
	}
	return sl_buf_append(out, "}", 1) < 0 ? -SL_ENOMEM : 0;
}

/* The event itself: Event_Key's value as a string, else the record. */
static int event_value(const struct splunk_enc *e, struct splunk_batch *b,
		       const char *body, size_t len, struct sl_buf *out)
{
	const char *t;
	size_t tl;

	if (e->event_key &&
	    sl_record_get_text(&b->rec, e->event_key, &b->text, &t, &tl) == 0 &&
	    tl > 0)
		return sl_json_append_string(out, t, tl) < 0 ? -SL_ENOMEM : 0;
	return sl_buf_append(out, body, len) < 0 ? -SL_ENOMEM : 0;
}

static int encode_one(const struct splunk_enc *e, struct splunk_batch *b,
		      int64_t ts, const char *body, size_t len,
		      struct sl_buf *out)
{
	bool first = true, found;

	if (e->send_raw) {
		if (event_value(e, b, body, len, out) < 0 ||
		    sl_buf_append(out, "\n", 1) < 0)
			return -SL_ENOMEM;
		return 0;
	}
	if (sl_buf_append(out, "{", 1) < 0)
		return -SL_ENOMEM;
	if (!e->auto_extract_timestamp && time_member(out, &first, ts) < 0)
		return -SL_ENOMEM;
	if (string_member(out, &first, "host", &e->host, b, NULL) < 0 ||
	    string_member(out, &first, "source", &e->source, b, NULL) < 0 ||
	    string_member(out, &first, "sourcetype", &e->sourcetype_key, b,
			  &found) < 0 ||
	    (!found &&
	     fixed_member(out, &first, "sourcetype", e->sourcetype) < 0) ||
	    string_member(out, &first, "index", &e->index_key, b, &found) < 0 ||
	    (!found && fixed_member(out, &first, "index", e->index) < 0) ||
	    fields_member(e, b, out, &first) < 0 ||
	    member(out, &first, "event") < 0 ||
	    event_value(e, b, body, len, out) < 0 ||
	    sl_buf_append(out, "}", 1) < 0)
		return -SL_ENOMEM;
	return 0;
}

static int batch_room(struct splunk_batch *b)
{
	size_t cap;
	uint32_t *idx;
	size_t *off;

	if (b->n < b->cap)
		return 0;
	cap = b->cap ? b->cap * 2 : 256;
	idx = realloc(b->idx, cap * sizeof(*idx));
	if (!idx)
		return -SL_ENOMEM;
	b->idx = idx;
	off = realloc(b->off, cap * sizeof(*off));
	if (!off)
		return -SL_ENOMEM;
	b->off = off;
	b->cap = cap;
	return 0;
}

int splunk_encode(const struct splunk_enc *e, struct splunk_batch *b,
		  const struct sl_chunk *c, splunk_skip_fn skip, void *skip_ud,
		  struct sl_buf *out)
{
	struct sl_chunk_iter it;
	const char *body;
	size_t len, start = out->len;
	int64_t ts;
	bool view = reads_fields(e);

	b->n = 0;
	b->tag = c->tag;
	b->tag_len = c->tag_len;
	sl_chunk_iter_init(&it, c);
	while (sl_chunk_next(&it, &ts, &body, &len)) {
		uint32_t index = it.index - 1;

		if (skip && skip(skip_ud, index))
			continue;
		if (batch_room(b) < 0)
			goto nomem;
		/*
		 * Chunk bodies are valid JSON objects, so this fails only on
		 * ENOMEM; a record that still did not parse is sent as it
		 * is, with no field read from it.
		 */
		if (view && sl_record_reset_json(&b->rec, ts, body, len) < 0)
			sl_record_reset_json(&b->rec, ts, "{}", 2);
		b->off[b->n] = out->len;
		if (encode_one(e, b, ts, body, len, out) < 0)
			goto nomem;
		b->idx[b->n++] = index;
	}
	return 0;
nomem:
	out->len = start;
	b->n = 0;
	return -SL_ENOMEM;
}
