/* SPDX-License-Identifier: Apache-2.0 */
/*
 * forward_decode.c - Forward protocol messages to entries (see the header).
 * Nothing here trusts a declared length: the framer bounds every count by
 * the bytes present before msgpack-c builds anything, gzip output is
 * bounded by the caller's limit, and JSON output by the nesting limit.
 */
#include "forward_decode.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

void fwd_framer_reset(struct fwd_framer *f)
{
	memset(f, 0, sizeof(*f));
}

static uint64_t be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

/*
 * One token at p[0..avail): its header length, payload length and the
 * number of child items it opens. 0 when the header is not all there yet,
 * -1 for 0xc1.
 */
static int token(const uint8_t *p, size_t avail, size_t *hdr, uint64_t *body,
		 uint64_t *children)
{
	uint8_t b = p[0];
	int n;

	*hdr = 1;
	*body = 0;
	*children = 0;
	if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
		return 1;
	if (b <= 0x8f) {
		*children = 2u * (b & 0x0f);
		return 1;
	}
	if (b <= 0x9f) {
		*children = b & 0x0f;
		return 1;
	}
	if (b <= 0xbf) {
		*body = b & 0x1f;
		return 1;
	}
	switch (b) {
	case 0xc1:
		return -1;
	case 0xc4:
	case 0xc5:
	case 0xc6: /* bin 8/16/32 */
	case 0xd9:
	case 0xda:
	case 0xdb: /* str 8/16/32 */
		n = (b == 0xc4 || b == 0xd9)   ? 1
		    : (b == 0xc5 || b == 0xda) ? 2
					       : 4;
		if (avail < (size_t)1 + n)
			return 0;
		*hdr = 1 + (size_t)n;
		*body = be(p + 1, n);
		return 1;
	case 0xc7:
	case 0xc8:
	case 0xc9: /* ext 8/16/32: length, then type */
		n = b == 0xc7 ? 1 : b == 0xc8 ? 2 : 4;
		if (avail < (size_t)2 + n)
			return 0;
		*hdr = 2 + (size_t)n;
		*body = be(p + 1, n);
		return 1;
	case 0xca:
		*body = 4;
		return 1;
	case 0xcb:
		*body = 8;
		return 1;
	case 0xcc:
	case 0xd0:
		*body = 1;
		return 1;
	case 0xcd:
	case 0xd1:
		*body = 2;
		return 1;
	case 0xce:
	case 0xd2:
		*body = 4;
		return 1;
	case 0xcf:
	case 0xd3:
		*body = 8;
		return 1;
	case 0xd4:
		*body = 2;
		return 1; /* fixext: type + data */
	case 0xd5:
		*body = 3;
		return 1;
	case 0xd6:
		*body = 5;
		return 1;
	case 0xd7:
		*body = 9;
		return 1;
	case 0xd8:
		*body = 17;
		return 1;
	case 0xdc:
	case 0xdd:
	case 0xde:
	case 0xdf:
		n = (b == 0xdc || b == 0xde) ? 2 : 4;
		if (avail < (size_t)1 + n)
			return 0;
		*hdr = 1 + (size_t)n;
		*children = be(p + 1, n) * (b >= 0xde ? 2u : 1u);
		return 1;
	default:
		return -1; /* not reached: every byte is covered above */
	}
}

enum fwd_frame_result fwd_frame(struct fwd_framer *f, const uint8_t *buf,
				size_t len, size_t *obj_len, uint64_t *owed)
{
	if (!f->started) {
		f->started = true;
		f->pending = 1;
	}
	while (f->pending > 0) {
		size_t hdr;
		uint64_t body, children;
		int rc;

		if (f->off >= len)
			break;
		rc = token(buf + f->off, len - f->off, &hdr, &body, &children);
		if (rc < 0)
			return FWD_FRAME_INVALID;
		if (rc == 0)
			break;
		f->pending = f->pending - 1 + children;
		f->off += hdr + body;
	}
	if (f->pending == 0 && f->off <= len) {
		*obj_len = f->off;
		return FWD_FRAME_DONE;
	}
	if (owed) {
		uint64_t past = f->off > len ? f->off - len : 0;

		*owed = past + f->pending;
	}
	return FWD_FRAME_MORE;
}

static bool is_str(const msgpack_object *o)
{
	return o->type == MSGPACK_OBJECT_STR || o->type == MSGPACK_OBJECT_BIN;
}

static const char *str_ptr(const msgpack_object *o, size_t *len)
{
	if (o->type == MSGPACK_OBJECT_STR) {
		*len = o->via.str.size;
		return o->via.str.ptr;
	}
	*len = o->via.bin.size;
	return o->via.bin.ptr;
}

static bool key_is(const msgpack_object *k, const char *name)
{
	size_t len, n = strlen(name);
	const char *p;

	if (!is_str(k))
		return false;
	p = str_ptr(k, &len);
	return len == n && memcmp(p, name, n) == 0;
}

static bool is_time(const msgpack_object *o)
{
	return o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ||
	       o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER ||
	       o->type == MSGPACK_OBJECT_FLOAT32 ||
	       o->type == MSGPACK_OBJECT_FLOAT64 ||
	       o->type == MSGPACK_OBJECT_EXT;
}

static int parse_option(const msgpack_object *opt, struct fwd_message *m)
{
	if (opt->type == MSGPACK_OBJECT_NIL)
		return 0;
	if (opt->type != MSGPACK_OBJECT_MAP)
		return -SL_EPARSE;
	for (uint32_t i = 0; i < opt->via.map.size; i++) {
		const msgpack_object *k = &opt->via.map.ptr[i].key;
		const msgpack_object *v = &opt->via.map.ptr[i].val;

		if (key_is(k, "chunk") && is_str(v)) {
			m->chunk = str_ptr(v, &m->chunk_len);
		} else if (key_is(k, "compressed") && is_str(v)) {
			size_t n;
			const char *s = str_ptr(v, &n);

			if (n == 4 && memcmp(s, "gzip", 4) == 0) {
				if (m->mode == FWD_MODE_PACKED)
					m->mode = FWD_MODE_PACKED_GZIP;
			} else if (!(n == 4 && memcmp(s, "text", 4) == 0)) {
				return -SL_EPARSE; /* a codec we do not know */
			}
		} else if (key_is(k, "fluent_signal") &&
			   (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)) {
			m->signal = (int64_t)v->via.u64;
		}
	}
	return 0;
}

int fwd_message_parse(const msgpack_object *root, struct fwd_message *m)
{
	const msgpack_object *a;
	uint32_t n;

	memset(m, 0, sizeof(*m));
	if (root->type != MSGPACK_OBJECT_ARRAY)
		return -SL_EPARSE;
	n = root->via.array.size;
	a = root->via.array.ptr;
	if (n < 2 || n > 4 || !is_str(&a[0]))
		return -SL_EPARSE;
	m->tag = str_ptr(&a[0], &m->tag_len);
	if (a[1].type == MSGPACK_OBJECT_ARRAY) {
		if (n > 3)
			return -SL_EPARSE;
		m->mode = FWD_MODE_FORWARD;
		m->entries = &a[1];
		return n == 3 ? parse_option(&a[2], m) : 0;
	}
	if (is_str(&a[1])) {
		if (n > 3)
			return -SL_EPARSE;
		m->mode = FWD_MODE_PACKED;
		m->packed = str_ptr(&a[1], &m->packed_len);
		return n == 3 ? parse_option(&a[2], m) : 0;
	}
	if (is_time(&a[1]) || a[1].type == MSGPACK_OBJECT_NIL) {
		if (n < 3)
			return -SL_EPARSE;
		m->mode = FWD_MODE_MESSAGE;
		m->time = &a[1];
		m->record = &a[2];
		return n == 4 ? parse_option(&a[3], m) : 0;
	}
	return -SL_EPARSE;
}

int fwd_gunzip(struct sl_buf *out, const char *data, size_t len, size_t max)
{
	z_stream zs;
	int zrc = Z_OK, rc = 0;

	sl_buf_reset(out);
	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
		return -SL_ENOMEM;
	zs.next_in = (Bytef *)(uintptr_t)data;
	zs.avail_in = (uInt)len;
	if (len > UINT32_MAX) {
		inflateEnd(&zs);
		return -SL_ETOOBIG;
	}
	for (;;) {
		size_t room;

		if (sl_buf_reserve(out, 64 * 1024) < 0) {
			rc = -SL_ENOMEM;
			break;
		}
		room = out->cap - out->len;
		if (room > UINT32_MAX)
			room = UINT32_MAX;
		zs.next_out = (Bytef *)out->data + out->len;
		zs.avail_out = (uInt)room;
		zrc = inflate(&zs, Z_NO_FLUSH);
		out->len += room - zs.avail_out;
		if (out->len > max) {
			rc = -SL_ETOOBIG;
			break;
		}
		if (zrc == Z_STREAM_END) {
			if (zs.avail_in == 0)
				break;
			/* Fluentd appends one gzip member per flush */
			if (inflateReset(&zs) != Z_OK) {
				rc = -SL_EPARSE;
				break;
			}
			continue;
		}
		if (zrc == Z_BUF_ERROR && zs.avail_in == 0) {
			rc = -SL_EPARSE; /* cut short */
			break;
		}
		if (zrc != Z_OK && zrc != Z_BUF_ERROR) {
			rc = zrc == Z_MEM_ERROR ? -SL_ENOMEM : -SL_EPARSE;
			break;
		}
	}
	inflateEnd(&zs);
	return rc;
}

int fwd_time_ns(const msgpack_object *o, int64_t *ts_ns)
{
	switch (o->type) {
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		if (o->via.u64 > (uint64_t)(INT64_MAX / SL_NS_PER_SEC))
			return -SL_EPARSE;
		*ts_ns = (int64_t)o->via.u64 * SL_NS_PER_SEC;
		return 0;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		if (o->via.i64 < INT64_MIN / SL_NS_PER_SEC)
			return -SL_EPARSE;
		*ts_ns = o->via.i64 * SL_NS_PER_SEC;
		return 0;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64: {
		double s = o->via.f64;

		if (!isfinite(s) || fabs(s) > 9.2e9)
			return -SL_EPARSE;
		*ts_ns = (int64_t)llround(s * 1e9);
		return 0;
	}
	case MSGPACK_OBJECT_EXT: {
		const uint8_t *p = (const uint8_t *)o->via.ext.ptr;
		uint64_t ns;

		if (o->via.ext.type != 0 || o->via.ext.size != 8)
			return -SL_EPARSE;
		ns = be(p + 4, 4);
		if (ns >= (uint64_t)SL_NS_PER_SEC)
			return -SL_EPARSE;
		*ts_ns = (int64_t)be(p, 4) * SL_NS_PER_SEC + (int64_t)ns;
		return 0;
	}
	case MSGPACK_OBJECT_ARRAY:
		/* Fluent Bit 2: [[time, metadata], record] */
		if (o->via.array.size == 2 &&
		    o->via.array.ptr[0].type != MSGPACK_OBJECT_ARRAY)
			return fwd_time_ns(&o->via.array.ptr[0], ts_ns);
		return -SL_EPARSE;
	default:
		return -SL_EPARSE;
	}
}

static int append_lit(struct sl_buf *out, const char *s)
{
	return sl_buf_append(out, s, strlen(s));
}

static int append_double(struct sl_buf *out, double d)
{
	char tmp[64];
	int n;

	if (!isfinite(d))
		return append_lit(out, "null");
	/* the range check first: the cast of a larger value is undefined */
	if (fabs(d) < 1e15 && d == (double)(long long)d)
		n = snprintf(tmp, sizeof(tmp), "%.1f", d);
	else
		n = snprintf(tmp, sizeof(tmp), "%.16g", d);
	return sl_buf_append(out, tmp, (size_t)n);
}

static int append_ext(struct sl_buf *out, const msgpack_object *o)
{
	static const char hex[] = "0123456789abcdef";

	if (sl_buf_append(out, "\"", 1) < 0)
		return -SL_ENOMEM;
	for (uint32_t i = 0; i < o->via.ext.size; i++) {
		uint8_t b = (uint8_t)o->via.ext.ptr[i];
		/* the JSON text of the four characters \xNN */
		char esc[5] = {'\\', '\\', 'x', hex[b >> 4], hex[b & 15]};

		if (sl_buf_append(out, esc, sizeof(esc)) < 0)
			return -SL_ENOMEM;
	}
	return sl_buf_append(out, "\"", 1);
}

static int json_value(struct sl_buf *out, const msgpack_object *o, int depth);

/* Is the key at index i repeated later in the map? (Last one wins.) */
static bool repeated_later(const msgpack_object_map *m, uint32_t i)
{
	const msgpack_object *k = &m->ptr[i].key;

	for (uint32_t j = i + 1; j < m->size; j++)
		if (msgpack_object_equal(*k, m->ptr[j].key))
			return true;
	return false;
}

static int json_key(struct sl_buf *out, const msgpack_object *k, int depth)
{
	struct sl_buf tmp = {0};
	int rc;

	if (is_str(k)) {
		size_t len;
		const char *p = str_ptr(k, &len);

		return sl_json_append_string(out, p, len);
	}
	rc = json_value(&tmp, k, depth);
	if (rc == 0)
		rc = sl_json_append_string(out, tmp.data ? tmp.data : "",
					   tmp.len);
	sl_buf_destroy(&tmp);
	return rc;
}

static int json_map(struct sl_buf *out, const msgpack_object_map *m, int depth)
{
	bool first = true;
	/* the quadratic duplicate scan only for maps that can afford it */
	bool dedupe = m->size <= 1024;

	if (sl_buf_append(out, "{", 1) < 0)
		return -SL_ENOMEM;
	for (uint32_t i = 0; i < m->size; i++) {
		int rc;

		if (dedupe && repeated_later(m, i))
			continue;
		if (!first && sl_buf_append(out, ",", 1) < 0)
			return -SL_ENOMEM;
		first = false;
		if ((rc = json_key(out, &m->ptr[i].key, depth)) < 0)
			return rc;
		if (sl_buf_append(out, ":", 1) < 0)
			return -SL_ENOMEM;
		if ((rc = json_value(out, &m->ptr[i].val, depth)) < 0)
			return rc;
	}
	return sl_buf_append(out, "}", 1);
}

static int json_value(struct sl_buf *out, const msgpack_object *o, int depth)
{
	char tmp[32];
	int n, rc;

	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		return append_lit(out, "null");
	case MSGPACK_OBJECT_BOOLEAN:
		return append_lit(out, o->via.boolean ? "true" : "false");
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		n = snprintf(tmp, sizeof(tmp), "%llu",
			     (unsigned long long)o->via.u64);
		return sl_buf_append(out, tmp, (size_t)n);
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		n = snprintf(tmp, sizeof(tmp), "%lld", (long long)o->via.i64);
		return sl_buf_append(out, tmp, (size_t)n);
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		return append_double(out, o->via.f64);
	case MSGPACK_OBJECT_STR:
		return sl_json_append_string(out, o->via.str.ptr,
					     o->via.str.size);
	case MSGPACK_OBJECT_BIN:
		return sl_json_append_string(out, o->via.bin.ptr,
					     o->via.bin.size);
	case MSGPACK_OBJECT_EXT:
		return append_ext(out, o);
	case MSGPACK_OBJECT_ARRAY:
		if (depth >= FWD_MAX_DEPTH)
			return -SL_ETOOBIG;
		if (sl_buf_append(out, "[", 1) < 0)
			return -SL_ENOMEM;
		for (uint32_t i = 0; i < o->via.array.size; i++) {
			if (i && sl_buf_append(out, ",", 1) < 0)
				return -SL_ENOMEM;
			rc = json_value(out, &o->via.array.ptr[i], depth + 1);
			if (rc < 0)
				return rc;
		}
		return sl_buf_append(out, "]", 1);
	case MSGPACK_OBJECT_MAP:
		if (depth >= FWD_MAX_DEPTH)
			return -SL_ETOOBIG;
		return json_map(out, &o->via.map, depth + 1);
	}
	return append_lit(out, "null");
}

int fwd_json_append(struct sl_buf *out, const msgpack_object *o)
{
	return json_value(out, o, 0);
}

/* One [time, record] entry. */
static int one_entry(const msgpack_object *e, fwd_entry_cb cb, void *arg,
		     struct fwd_entry_stats *st)
{
	int64_t ts;

	if (e->type != MSGPACK_OBJECT_ARRAY || e->via.array.size != 2 ||
	    e->via.array.ptr[1].type != MSGPACK_OBJECT_MAP ||
	    fwd_time_ns(&e->via.array.ptr[0], &ts) < 0) {
		st->malformed++;
		return 0;
	}
	st->ok++;
	return cb(arg, ts, &e->via.array.ptr[1]);
}

static int packed_entries(const char *p, size_t len, fwd_entry_cb cb, void *arg,
			  struct fwd_entry_stats *st)
{
	msgpack_unpacked u;
	size_t off = 0;
	int rc = 0;

	msgpack_unpacked_init(&u);
	while (off < len && rc == 0) {
		struct fwd_framer f;
		size_t n = 0, used = 0;

		fwd_framer_reset(&f);
		if (fwd_frame(&f, (const uint8_t *)p + off, len - off, &n,
			      NULL) != FWD_FRAME_DONE) {
			st->malformed++; /* the rest cannot be framed */
			break;
		}
		if (msgpack_unpack_next(&u, p + off, n, &used) !=
			MSGPACK_UNPACK_SUCCESS ||
		    used != n) {
			st->malformed++;
		} else {
			rc = one_entry(&u.data, cb, arg, st);
		}
		off += n;
	}
	msgpack_unpacked_destroy(&u);
	return rc;
}

int fwd_entries(const struct fwd_message *m, struct sl_buf *scratch, size_t max,
		fwd_entry_cb cb, void *arg, struct fwd_entry_stats *st)
{
	int64_t ts;
	int rc;

	switch (m->mode) {
	case FWD_MODE_MESSAGE:
		if (m->record->type != MSGPACK_OBJECT_MAP ||
		    fwd_time_ns(m->time, &ts) < 0) {
			st->malformed++;
			return 0;
		}
		st->ok++;
		return cb(arg, ts, m->record);
	case FWD_MODE_FORWARD:
		for (uint32_t i = 0; i < m->entries->via.array.size; i++)
			if ((rc = one_entry(&m->entries->via.array.ptr[i], cb,
					    arg, st)) < 0)
				return rc;
		return 0;
	case FWD_MODE_PACKED:
		return packed_entries(m->packed, m->packed_len, cb, arg, st);
	case FWD_MODE_PACKED_GZIP:
		rc = fwd_gunzip(scratch, m->packed, m->packed_len, max);
		if (rc < 0)
			return rc;
		return packed_entries(scratch->data, scratch->len, cb, arg, st);
	}
	return -SL_EPARSE;
}
