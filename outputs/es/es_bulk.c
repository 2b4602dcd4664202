/* SPDX-License-Identifier: Apache-2.0 */
/*
 * es_bulk.c - the Elasticsearch _bulk NDJSON encoder: per record an action
 * line ({"create":{"_index":...,"_id":...}}) and a source line, the record's
 * own bytes with the time key (and tag key) spliced in front of its first
 * member. Bodies are never re-serialised; only Replace_Dots rewrites bytes,
 * and only inside keys. It does not send, compress or read responses.
 */
#include "es.h"
#include "sl_record.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char *const op_names[] = {
    [ES_OP_CREATE] = "create",
    [ES_OP_INDEX] = "index",
    [ES_OP_UPDATE] = "update",
    [ES_OP_UPSERT] = "upsert",
};

int es_op_parse(const char *s, enum es_op *out)
{
	for (size_t i = 0; i < SL_ARRAY_LEN(op_names); i++)
		if (s && strcasecmp(s, op_names[i]) == 0) {
			*out = (enum es_op)i;
			return 0;
		}
	return -SL_EINVAL;
}

const char *es_op_action(enum es_op op)
{
	/* an upsert is an update with doc_as_upsert */
	return op == ES_OP_UPSERT ? "update" : op_names[op];
}

void es_bulk_scratch_destroy(struct es_bulk_scratch *s)
{
	if (!s)
		return;
	sl_buf_destroy(&s->body);
	sl_buf_destroy(&s->name);
	sl_view_destroy(&s->view);
	sl_buf_destroy(&s->ts_text.fmt);
	sl_buf_destroy(&s->ix_date.fmt);
	s->ts_text.ok = s->ix_date.ok = false;
}

int es_id_generate(int64_t ts_ns, uint64_t identity, const char *body,
		   size_t len, char out[ES_ID_LEN + 1])
{
	/* the recipe is the core's, so kafka's sluice-id header agrees */
	return sl_record_id_hex(ts_ns, identity, body, len, out);
}

/* ts_ns as UTC seconds and the nanoseconds within that second. */
static int64_t split(int64_t ts_ns, long *nsec)
{
	int64_t sec = ts_ns / SL_NS_PER_SEC, ns = ts_ns % SL_NS_PER_SEC;

	if (ns < 0) { /* before 1970: floor, not truncation */
		ns += SL_NS_PER_SEC;
		sec--;
	}
	*nsec = (long)ns;
	return sec;
}

/*
 * strftime of `fmt` at UTC second `sec`, from the cache `c` when it holds
 * that second and format. An empty or overlong result is "". The text is
 * valid until the next call with `c`; NULL only without memory.
 */
static const char *time_text(struct es_time_text *c, const char *fmt,
			     int64_t sec, size_t *len)
{
	size_t flen = strlen(fmt);
	time_t t = (time_t)sec;
	struct tm tm;

	if (c->ok && c->sec == sec && c->fmt.len == flen &&
	    memcmp(c->fmt.data, fmt, flen) == 0) {
		*len = c->len;
		return c->text;
	}
	c->ok = false;
	sl_buf_reset(&c->fmt);
	if (sl_buf_append(&c->fmt, fmt, flen) < 0)
		return NULL;
	if (!gmtime_r(&t, &tm))
		memset(&tm, 0, sizeof(tm));
		/* the format is the user's option (Logstash_DateFormat, ...) */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	c->len = strftime(c->text, sizeof(c->text), fmt, &tm);
#pragma GCC diagnostic pop
	c->sec = sec;
	c->ok = true;
	*len = c->len;
	return c->text;
}

/* time_text appended to `out`; an empty or NULL format adds nothing. */
static int append_time_text(struct sl_buf *out, struct es_time_text *c,
			    const char *fmt, int64_t sec)
{
	const char *t;
	size_t n;

	if (!fmt || !*fmt)
		return 0;
	t = time_text(c, fmt, sec, &n);
	if (!t)
		return -SL_ENOMEM;
	return sl_buf_append(out, t, n);
}

/* Copies `n` bytes to the end of `out`, which the caller reserved. */
static void put(struct sl_buf *out, const char *s, size_t n)
{
	memcpy(out->data + out->len, s, n);
	out->len += n;
	out->data[out->len] = '\0';
}

/* The action line: {"<action>":{"_index":..,"_type":..,"_id":..}}\n */
static int action_line(struct sl_buf *out, const struct es_bulk_opts *o,
		       const struct es_bulk_rec *r, int64_t now_ns,
		       struct es_bulk_scratch *s, bool *has_id)
{
	const char *act = es_op_action(o->op);
	size_t act_len = strlen(act);
	char id[ES_ID_LEN + 1];
	int rc = 0;

	if (sl_buf_reserve(out, act_len + 14) < 0)
		return -SL_ENOMEM;
	put(out, "{\"", 2);
	put(out, act, act_len);
	put(out, "\":{\"_index\":", 12);
	if (o->logstash_format) {
		struct sl_buf *tmp = &s->name; /* raw name, then escaped */
		long ns;
		int64_t sec =
		    split(o->current_time_index ? now_ns : r->ts_ns, &ns);
		const char *p = r->prefix ? r->prefix : o->logstash_prefix;
		size_t plen = r->prefix ? r->prefix_len : (p ? strlen(p) : 0);
		const char *sep =
		    o->logstash_separator ? o->logstash_separator : "-";

		sl_buf_reset(tmp);
		rc |= sl_buf_append(tmp, p, plen);
		rc |= sl_buf_append(tmp, sep, strlen(sep));
		rc |= append_time_text(tmp, &s->ix_date, o->logstash_dateformat,
				       sec);
		rc |= sl_json_append_string(out, tmp->data ? tmp->data : "",
					    tmp->len);
	} else {
		const char *ix = o->index ? o->index : "";

		rc |= sl_json_append_string(out, ix, strlen(ix));
	}
	if (o->type && *o->type) {
		rc |= sl_buf_append(out, ",\"_type\":", 9);
		rc |= sl_json_append_string(out, o->type, strlen(o->type));
	}
	*has_id = false;
	if (r->id) {
		rc |= sl_buf_append(out, ",\"_id\":", 7);
		rc |= sl_json_append_string(out, r->id, r->id_len);
		*has_id = true;
	} else if (o->generate_id) {
		if (es_id_generate(r->ts_ns, r->identity, r->body, r->len, id) <
		    0)
			return -SL_ENOMEM;
		if (sl_buf_reserve(out, 9 + ES_ID_LEN) < 0)
			return -SL_ENOMEM;
		put(out, ",\"_id\":\"", 8);
		put(out, id, ES_ID_LEN);
		put(out, "\"", 1);
		*has_id = true;
	}
	rc |= sl_buf_append(out, "}}\n", 3);
	return rc ? -SL_ENOMEM : 0;
}

/* The time key's value: "<Time_Key_Format>.<ms or ns>Z". */
static int time_value(struct sl_buf *out, const struct es_bulk_opts *o,
		      int64_t ts_ns, struct es_bulk_scratch *s)
{
	const char *fmt =
	    o->time_key_format ? o->time_key_format : "%Y-%m-%dT%H:%M:%S";
	char frac[12]; /* ".nnnnnnnnnZ" */
	const char *text = "";
	size_t n = 0, digits = o->time_key_nanos ? 9 : 3;
	long ns;
	int64_t sec = split(ts_ns, &ns);
	long v = o->time_key_nanos ? ns : ns / 1000000;

	if (*fmt) {
		text = time_text(&s->ts_text, fmt, sec, &n);
		if (!text)
			return -SL_ENOMEM;
	}
	/* what snprintf's ".%03ldZ" / ".%09ldZ" wrote, without its cost */
	frac[0] = '.';
	for (size_t i = digits; i > 0; i--) {
		frac[i] = (char)('0' + v % 10);
		v /= 10;
	}
	frac[digits + 1] = 'Z';
	if (sl_buf_reserve(out, n + digits + 4) < 0)
		return -SL_ENOMEM;
	put(out, "\"", 1);
	put(out, text, n);
	put(out, frac, digits + 2);
	put(out, "\"", 1);
	return 0;
}

/* The body with every '.' inside a key replaced by '_', into s->body. */
static int replace_dots(struct es_bulk_scratch *s, const char **body,
			size_t *len)
{
	int rc;

	rc = sl_view_build(&s->view, *body, *len);
	if (rc < 0)
		return rc;
	sl_buf_reset(&s->body);
	if (sl_buf_append(&s->body, *body, *len) < 0)
		return -SL_ENOMEM;
	for (uint32_t i = 1; i < s->view.n; i++) {
		const struct sl_view_node *nd = &s->view.nodes[i];
		char *k = s->body.data + nd->key_off;

		for (uint32_t j = 0; j < nd->key_len; j++)
			if (k[j] == '.')
				k[j] = '_';
	}
	*body = s->body.data;
	*len = s->body.len;
	return 0;
}

/* The document: time and tag members, then the body's own members. */
static int source(struct sl_buf *out, const struct es_bulk_opts *o,
		  const struct es_bulk_rec *r, const char *tag, size_t tag_len,
		  struct es_bulk_scratch *s)
{
	const char *body = r->body;
	size_t len = r->len, i = 1;
	bool first = true;
	int rc = 0;

	if (o->replace_dots) {
		rc = replace_dots(s, &body, &len);
		if (rc < 0)
			return rc;
	}
	if (len < 2 || body[0] != '{')
		return -SL_EPARSE;
	rc |= sl_buf_append(out, "{", 1);
	if (o->time_key) {
		rc |= sl_json_append_string(out, o->time_key,
					    strlen(o->time_key));
		rc |= sl_buf_append(out, ":", 1);
		rc |= time_value(out, o, r->ts_ns, s);
		first = false;
	}
	if (o->tag_key) {
		if (!first)
			rc |= sl_buf_append(out, ",", 1);
		rc |=
		    sl_json_append_string(out, o->tag_key, strlen(o->tag_key));
		rc |= sl_buf_append(out, ":", 1);
		rc |= sl_json_append_string(out, tag, tag_len);
		first = false;
	}
	while (i < len && (body[i] == ' ' || body[i] == '\t' ||
			   body[i] == '\n' || body[i] == '\r'))
		i++;
	/* an empty body closes what was added; otherwise splice its members */
	if (i < len && body[i] != '}' && !first)
		rc |= sl_buf_append(out, ",", 1);
	rc |= sl_buf_append(out, body + i, len - i);
	return rc ? -SL_ENOMEM : 0;
}

int es_bulk_append(struct sl_buf *out, const struct es_bulk_opts *o,
		   const struct es_bulk_rec *r, const char *tag, size_t tag_len,
		   int64_t now_ns, struct es_bulk_scratch *s,
		   struct es_bulk_item *item)
{
	bool has_id = false;
	size_t src;
	int rc;

	rc = action_line(out, o, r, now_ns, s, &has_id);
	if (rc < 0)
		return rc;
	src = out->len;
	if (o->op == ES_OP_UPDATE || o->op == ES_OP_UPSERT) {
		if (sl_buf_append(out, "{\"doc\":", 7) < 0)
			return -SL_ENOMEM;
	}
	rc = source(out, o, r, tag, tag_len, s);
	if (rc < 0)
		return rc;
	if (o->op == ES_OP_UPDATE && sl_buf_append(out, "}", 1) < 0)
		return -SL_ENOMEM;
	if (o->op == ES_OP_UPSERT &&
	    sl_buf_append(out, ",\"doc_as_upsert\":true}", 22) < 0)
		return -SL_ENOMEM;
	if (item) {
		item->off = src;
		item->len = out->len - src;
		item->has_id = has_id;
	}
	return sl_buf_append(out, "\n", 1);
}
