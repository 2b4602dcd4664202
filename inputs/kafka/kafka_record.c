/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kafka_record.c - message -> record body. The payload of Format json is
 * spliced into the body as it is and the whole body validated once; it
 * counts as JSON only when the body's last member is exactly the payload
 * (a payload such as `1,"topic":"x"` would otherwise add members).
 */
#include "kafka_record.h"

#include <inttypes.h>
#include <stdio.h>

#define MEMBERS 6 /* topic, partition, offset, error, key, payload */

/* FNV-1a: the topic's part of a record's origin. */
static uint64_t topic_hash(const char *t)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; t && *t; t++)
		h = (h ^ (unsigned char)*t) * 0x100000001b3ULL;
	return h;
}

static bool json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int append_str_or_null(struct sl_buf *b, const void *s, size_t len)
{
	if (!s)
		return sl_buf_append(b, "null", 4);
	return sl_json_append_string(b, s, len);
}

/* Everything up to and including `"payload":`. */
static int head(struct sl_buf *b, const struct kafka_msg *m)
{
	char num[64];
	int n;

	sl_buf_reset(b);
	if (sl_buf_append(b, "{\"topic\":", 9) < 0 ||
	    append_str_or_null(b, m->topic, m->topic ? strlen(m->topic) : 0) <
		0)
		return -SL_ENOMEM;
	n = snprintf(num, sizeof(num),
		     ",\"partition\":%" PRId32 ",\"offset\":%" PRId64
		     ",\"error\":null,\"key\":",
		     m->partition, m->offset);
	if (sl_buf_append(b, num, (size_t)n) < 0 ||
	    append_str_or_null(b, m->key, m->key_len) < 0 ||
	    sl_buf_append(b, ",\"payload\":", 11) < 0)
		return -SL_ENOMEM;
	return 0;
}

/* The body parsed as MEMBERS members, the last one ending at the final
 * brace: the payload was one JSON value and added nothing else. */
static bool payload_is_one_value(struct sl_record *rec)
{
	const struct sl_view *v;
	const char *body;
	size_t len;
	uint32_t i, last = 0, count = 0;

	if (sl_record_view(rec, &v) < 0 || v->n == 0)
		return false;
	body = sl_record_body(rec, &len);
	for (i = 1; i < v->nodes[0].end; i = v->nodes[i].end) {
		last = i;
		count++;
	}
	return count == MEMBERS && body &&
	       (size_t)v->nodes[last].val_off + v->nodes[last].val_len ==
		   len - 1;
}

static int try_json(struct sl_record *rec, struct sl_buf *buf,
		    const struct kafka_msg *m, int64_t ts_ns)
{
	const char *p = m->payload;
	size_t len = m->len;
	int rc;

	while (len && json_space(p[0])) {
		p++;
		len--;
	}
	while (len && json_space(p[len - 1]))
		len--;
	if (len == 0)
		return -SL_EPARSE;
	if (head(buf, m) < 0 || sl_buf_append(buf, p, len) < 0 ||
	    sl_buf_append(buf, "}", 1) < 0)
		return -SL_ENOMEM;
	rc = sl_record_reset_json(rec, ts_ns, buf->data, buf->len);
	if (rc < 0)
		return rc == -SL_ENOMEM ? rc : -SL_EPARSE;
	return payload_is_one_value(rec) ? 0 : -SL_EPARSE;
}

int kafka_record_build(struct sl_record *rec, struct sl_buf *buf,
		       const struct kafka_msg *m, bool json, int64_t ts_ns)
{
	uint64_t origin;
	bool repaired = false;
	int rc = -SL_EPARSE;

	if (json && m->payload)
		rc = try_json(rec, buf, m, ts_ns);
	if (rc == -SL_ENOMEM)
		return rc;
	if (rc < 0) {
		if (head(buf, m) < 0 ||
		    append_str_or_null(buf, m->payload, m->len) < 0 ||
		    sl_buf_append(buf, "}", 1) < 0)
			return -SL_ENOMEM;
		/* the escaper replaced invalid UTF-8: say so, as parsers do */
		repaired = (m->payload && !sl_utf8_valid(m->payload, m->len)) ||
			   (m->key && !sl_utf8_valid(m->key, m->key_len));
		rc = sl_record_reset_json(rec, ts_ns, buf->data, buf->len);
		if (rc < 0)
			return rc == -SL_ENOMEM ? rc : -SL_EINVAL;
		if (repaired)
			rec->flags |= SL_REC_REPAIRED;
	}
	origin = topic_hash(m->topic);
	origin = sl_identity_mix(origin, (uint64_t)(uint32_t)m->partition);
	origin = sl_identity_mix(origin, (uint64_t)m->offset);
	sl_record_set_origin(rec, origin);
	return 0;
}
