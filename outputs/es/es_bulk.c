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
}

int es_id_generate(int64_t ts_ns, uint64_t identity, const char *body,
		   size_t len, char out[ES_ID_LEN + 1])
{
	/* the recipe is the core's, so kafka's sluice-id header agrees */
	return sl_record_id_hex(ts_ns, identity, body, len, out);
}

/* UTC broken-down time of ts_ns, and the nanoseconds within its second. */
static void utc(int64_t ts_ns, struct tm *tm, long *nsec)
{
	int64_t sec = ts_ns / SL_NS_PER_SEC, ns = ts_ns % SL_NS_PER_SEC;
	time_t t;

	if (ns < 0) { /* before 1970: floor, not truncation */
		ns += SL_NS_PER_SEC;
		sec--;
	}
	t = (time_t)sec;
	if (!gmtime_r(&t, tm))
		memset(tm, 0, sizeof(*tm));
	*nsec = (long)ns;
}

/* strftime into `out` (appended). An empty or overlong result adds nothing. */
static int append_strftime(struct sl_buf *out, const char *fmt,
			   const struct tm *tm)
{
	char tmp[256];
	size_t n;

	if (!fmt || !*fmt)
		return 0;
		/* the format is the user's option (Logstash_DateFormat, ...) */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	n = strftime(tmp, sizeof(tmp), fmt, tm);
#pragma GCC diagnostic pop
	return sl_buf_append(out, tmp, n);
}

/* The action line: {"<action>":{"_index":..,"_type":..,"_id":..}}\n */
static int action_line(struct sl_buf *out, const struct es_bulk_opts *o,
		       const struct es_bulk_rec *r, int64_t now_ns,
		       struct es_bulk_scratch *s, bool *has_id)
{
	const char *act = es_op_action(o->op);
	char id[ES_ID_LEN + 1];
	int rc = 0;

	rc |= sl_buf_append(out, "{\"", 2);
	rc |= sl_buf_append(out, act, strlen(act));
	rc |= sl_buf_append(out, "\":{\"_index\":", 12);
	if (o->logstash_format) {
		struct sl_buf *tmp = &s->name; /* raw name, then escaped */
		struct tm tm;
		long ns;
		const char *p = r->prefix ? r->prefix : o->logstash_prefix;
		size_t plen = r->prefix ? r->prefix_len : (p ? strlen(p) : 0);
		const char *sep =
		    o->logstash_separator ? o->logstash_separator : "-";

		utc(o->current_time_index ? now_ns : r->ts_ns, &tm, &ns);
		sl_buf_reset(tmp);
		rc |= sl_buf_append(tmp, p, plen);
		rc |= sl_buf_append(tmp, sep, strlen(sep));
		rc |= append_strftime(tmp, o->logstash_dateformat, &tm);
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
		rc |= sl_buf_append(out, ",\"_id\":\"", 8);
		rc |= sl_buf_append(out, id, ES_ID_LEN);
		rc |= sl_buf_append(out, "\"", 1);
		*has_id = true;
	}
	rc |= sl_buf_append(out, "}}\n", 3);
	return rc ? -SL_ENOMEM : 0;
}

/* The time key's value: "<Time_Key_Format>.<ms or ns>Z". */
static int time_value(struct sl_buf *out, const struct es_bulk_opts *o,
		      int64_t ts_ns)
{
	char frac[16];
	struct tm tm;
	long ns;
	int n;
	int rc = 0;

	utc(ts_ns, &tm, &ns);
	if (o->time_key_nanos)
		n = snprintf(frac, sizeof(frac), ".%09ldZ", ns);
	else
		n = snprintf(frac, sizeof(frac), ".%03ldZ", ns / 1000000);
	rc |= sl_buf_append(out, "\"", 1);
	rc |= append_strftime(
	    out, o->time_key_format ? o->time_key_format : "%Y-%m-%dT%H:%M:%S",
	    &tm);
	rc |= sl_buf_append(out, frac, (size_t)n);
	rc |= sl_buf_append(out, "\"", 1);
	return rc ? -SL_ENOMEM : 0;
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
		rc |= time_value(out, o, r->ts_ns);
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
