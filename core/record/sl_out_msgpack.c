/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_out_msgpack.c - records as msgpack for the outputs that offer Fluent
 * Bit's Format msgpack: kafka's message value (a map, Timestamp_Key first)
 * and the event stream http and file send ([[EventTime, {}], {record}],
 * Fluent Bit's chunk layout). Packed by libmsgpack from the record's JSON
 * index; nothing here writes msgpack bytes by hand.
 *
 * JSON numbers become integers when they are integral literals that fit in
 * 64 bits (as Fluent Bit's JSON parser makes them), else float64.
 */
#include "sl_out_msgpack.h"

#include "sl_json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int pack_text(msgpack_packer *pk, const char *s, size_t len)
{
	return msgpack_pack_str_with_body(pk, s, len);
}

/* A JSON string's content (between its quotes), unescaped. */
static int pack_json_string(msgpack_packer *pk, struct sl_buf *scratch,
			    const char *raw, size_t raw_len)
{
	sl_buf_reset(scratch);
	if (sl_json_unescape_append(scratch, raw, raw_len) == -SL_ENOMEM)
		return -1;
	return pack_text(pk, scratch->data ? scratch->data : "", scratch->len);
}

static int pack_number(msgpack_packer *pk, const char *raw, size_t len)
{
	char tmp[64], *end;
	bool integral = memchr(raw, '.', len) == NULL &&
			memchr(raw, 'e', len) == NULL &&
			memchr(raw, 'E', len) == NULL;
	double d;

	/* a number literal longer than this is a float anyway */
	if (len >= sizeof(tmp))
		integral = false;
	if (len < sizeof(tmp)) {
		memcpy(tmp, raw, len);
		tmp[len] = '\0';
	}
	if (integral) {
		errno = 0;
		if (tmp[0] == '-') {
			long long v = strtoll(tmp, &end, 10);

			if (errno == 0 && *end == '\0')
				return msgpack_pack_int64(pk, v);
		} else {
			unsigned long long v = strtoull(tmp, &end, 10);

			if (errno == 0 && *end == '\0')
				return msgpack_pack_uint64(pk, v);
		}
	}
	if (len < sizeof(tmp)) {
		d = strtod(tmp, NULL);
	} else {
		char *big = strndup(raw, len);

		if (!big)
			return -1;
		d = strtod(big, NULL);
		free(big);
	}
	return msgpack_pack_double(pk, d);
}

/* As Fluent Bit's flb_time_to_double: seconds plus the fraction. */
static double seconds(int64_t ts_ns)
{
	return (double)(ts_ns / 1000000000) +
	       (double)(ts_ns % 1000000000) / 1e9;
}

/* Node `n` of the view and everything under it. */
static int pack_node(msgpack_packer *pk, struct sl_buf *scratch,
		     const struct sl_view *v, const char *text, uint32_t n)
{
	const struct sl_view_node *nd = &v->nodes[n];
	const char *raw = text + nd->val_off;
	uint32_t c, count = 0;

	switch ((enum sl_value_type)nd->type) {
	case SL_VAL_NULL:
		return msgpack_pack_nil(pk);
	case SL_VAL_BOOL:
		return raw[0] == 't' ? msgpack_pack_true(pk)
				     : msgpack_pack_false(pk);
	case SL_VAL_NUMBER:
		return pack_number(pk, raw, nd->val_len);
	case SL_VAL_STRING:
		return pack_json_string(pk, scratch, raw + 1, nd->val_len - 2);
	case SL_VAL_OBJECT:
	case SL_VAL_ARRAY:
		break;
	case SL_VAL_NONE:
	default:
		return -1;
	}
	for (c = n + 1; c < nd->end; c = v->nodes[c].end)
		count++;
	if (nd->type == SL_VAL_ARRAY ? msgpack_pack_array(pk, count)
				     : msgpack_pack_map(pk, count))
		return -1;
	for (c = n + 1; c < nd->end; c = v->nodes[c].end) {
		const struct sl_view_node *cn = &v->nodes[c];

		if (nd->type == SL_VAL_OBJECT &&
		    pack_json_string(pk, scratch, text + cn->key_off,
				     cn->key_len))
			return -1;
		if (pack_node(pk, scratch, v, text, c))
			return -1;
	}
	return 0;
}

/* The record's view and text; -SL_EPARSE when the body is not an object. */
static int record_view(struct sl_record *rec, const struct sl_view **v,
		       const char **text)
{
	size_t len;
	int rc = sl_record_view(rec, v);

	if (rc < 0)
		return rc == -SL_ENOMEM ? rc : -SL_EPARSE;
	*text = sl_record_body(rec, &len);
	if (!*text || (*v)->n == 0 || (*v)->nodes[0].type != SL_VAL_OBJECT)
		return -SL_EPARSE;
	return 0;
}

/* Every member of the root object, key then value (the caller packs the
 * map header). */
static int pack_root(msgpack_packer *pk, struct sl_buf *scratch,
		     const struct sl_view *v, const char *text)
{
	uint32_t c;

	for (c = 1; c < v->nodes[0].end; c = v->nodes[c].end) {
		const struct sl_view_node *cn = &v->nodes[c];

		if (pack_json_string(pk, scratch, text + cn->key_off,
				     cn->key_len) ||
		    pack_node(pk, scratch, v, text, c))
			return -1;
	}
	return 0;
}

static uint32_t root_members(const struct sl_view *v)
{
	uint32_t c, count = 0;

	for (c = 1; c < v->nodes[0].end; c = v->nodes[c].end)
		count++;
	return count;
}

/* msgpack_packer's writer: appends to a struct sl_buf. */
static int buf_write(void *data, const char *buf, size_t len)
{
	return sl_buf_append(data, buf, len) < 0 ? -1 : 0;
}

int sl_out_msgpack_kafka_value(struct sl_buf *out, struct sl_buf *scratch,
			       struct sl_record *rec, const char *ts_key,
			       size_t ts_key_len, const char *date,
			       size_t date_len)
{
	const struct sl_view *v;
	const char *text;
	msgpack_packer pk;
	int rc = record_view(rec, &v, &text);

	if (rc < 0)
		return rc;
	sl_buf_reset(out);
	msgpack_packer_init(&pk, out, buf_write);
	if (msgpack_pack_map(&pk, root_members(v) + 1) ||
	    pack_text(&pk, ts_key, ts_key_len) ||
	    (date ? pack_text(&pk, date, date_len)
		  : msgpack_pack_double(&pk, seconds(sl_record_time(rec)))) ||
	    pack_root(&pk, scratch, v, text))
		return -SL_ENOMEM;
	return 0;
}

int sl_out_msgpack_event(struct sl_buf *out, struct sl_buf *scratch,
			 struct sl_record *rec)
{
	const struct sl_view *v;
	const char *text;
	msgpack_packer pk;
	int64_t ts = sl_record_time(rec);
	uint32_t sec, nsec;
	unsigned char et[8];
	size_t undo = out->len;
	int rc = record_view(rec, &v, &text);

	if (rc < 0)
		return rc;
	if (ts < 0)
		ts = 0;
	/* EventTime (ext type 0): seconds and nanoseconds, big-endian */
	sec = (uint32_t)(ts / 1000000000);
	nsec = (uint32_t)(ts % 1000000000);
	for (int i = 0; i < 4; i++) {
		et[i] = (unsigned char)(sec >> (24 - 8 * i));
		et[4 + i] = (unsigned char)(nsec >> (24 - 8 * i));
	}
	msgpack_packer_init(&pk, out, buf_write);
	if (msgpack_pack_array(&pk, 2) || msgpack_pack_array(&pk, 2) ||
	    msgpack_pack_ext(&pk, sizeof(et), 0) ||
	    msgpack_pack_ext_body(&pk, et, sizeof(et)) ||
	    msgpack_pack_map(&pk, 0) ||
	    msgpack_pack_map(&pk, root_members(v)) ||
	    pack_root(&pk, scratch, v, text)) {
		out->len = undo; /* no half event */
		return -SL_ENOMEM;
	}
	return 0;
}
