/* SPDX-License-Identifier: Apache-2.0 */
/*
 * forward_encode.c - records to Forward messages (see the header). JSON is
 * turned into msgpack in one yajl pass without a tree: a container's
 * header is written with room for a 32-bit count and patched when it
 * closes, so nothing is parsed twice.
 */
#include "forward_encode.h"

#include <errno.h>
#include <libdeflate.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#define MAX_DEPTH 64

int fwdo_buf_write(void *data, const char *buf, size_t len)
{
	return sl_buf_append(data, buf, len) < 0 ? -1 : 0;
}

struct walk {
	struct sl_buf *out;
	msgpack_packer pk;
	int depth;
	size_t hdr[MAX_DEPTH];	   /* offset of each open container's header */
	uint32_t count[MAX_DEPTH]; /* its elements (arrays) or keys (maps) */
	bool is_map[MAX_DEPTH];
	bool oom;
};

/* A value starts: it is one more element of an enclosing array. */
static void value(struct walk *w)
{
	if (w->depth > 0 && !w->is_map[w->depth - 1])
		w->count[w->depth - 1]++;
}

static int ok(struct walk *w, int rc)
{
	if (rc < 0)
		w->oom = true;
	return rc < 0 ? 0 : 1;
}

static int on_null(void *ctx)
{
	struct walk *w = ctx;

	value(w);
	return ok(w, msgpack_pack_nil(&w->pk));
}

static int on_bool(void *ctx, int b)
{
	struct walk *w = ctx;

	value(w);
	return ok(w,
		  b ? msgpack_pack_true(&w->pk) : msgpack_pack_false(&w->pk));
}

static int on_number(void *ctx, const char *s, size_t len)
{
	struct walk *w = ctx;
	char tmp[64];
	char *end;

	value(w);
	if (len >= sizeof(tmp)) /* longer than any int64: a float */
		return ok(w, msgpack_pack_double(&w->pk, strtod(s, NULL)));
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	if (!memchr(tmp, '.', len) && !memchr(tmp, 'e', len) &&
	    !memchr(tmp, 'E', len)) {
		errno = 0;
		if (tmp[0] == '-') {
			long long v = strtoll(tmp, &end, 10);

			if (errno == 0 && *end == '\0')
				return ok(w, msgpack_pack_int64(&w->pk, v));
		} else {
			unsigned long long v = strtoull(tmp, &end, 10);

			if (errno == 0 && *end == '\0')
				return ok(w, msgpack_pack_uint64(&w->pk, v));
		}
	}
	return ok(w, msgpack_pack_double(&w->pk, strtod(tmp, NULL)));
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
	struct walk *w = ctx;

	value(w);
	if (msgpack_pack_str(&w->pk, len) < 0)
		return ok(w, -1);
	return ok(w, msgpack_pack_str_body(&w->pk, s, len));
}

static int open_container(struct walk *w, bool map)
{
	static const char hdr_map[5] = {(char)0xdf, 0, 0, 0, 0};
	static const char hdr_arr[5] = {(char)0xdd, 0, 0, 0, 0};

	value(w);
	if (w->depth >= MAX_DEPTH)
		return 0; /* yajl reports a client cancel: -SL_EPARSE */
	w->hdr[w->depth] = w->out->len;
	w->count[w->depth] = 0;
	w->is_map[w->depth] = map;
	w->depth++;
	return ok(w, sl_buf_append(w->out, map ? hdr_map : hdr_arr, 5));
}

static int close_container(struct walk *w)
{
	uint32_t n = w->count[--w->depth];
	char *p = w->out->data + w->hdr[w->depth] + 1;

	p[0] = (char)(n >> 24);
	p[1] = (char)(n >> 16);
	p[2] = (char)(n >> 8);
	p[3] = (char)n;
	return 1;
}

static int on_start_map(void *ctx)
{
	return open_container(ctx, true);
}

static int on_map_key(void *ctx, const unsigned char *s, size_t len)
{
	struct walk *w = ctx;

	w->count[w->depth - 1]++;
	if (msgpack_pack_str(&w->pk, len) < 0)
		return ok(w, -1);
	return ok(w, msgpack_pack_str_body(&w->pk, s, len));
}

static int on_start_array(void *ctx)
{
	return open_container(ctx, false);
}

static int on_end(void *ctx)
{
	return close_container(ctx);
}

static const yajl_callbacks walk_callbacks = {
    .yajl_null = on_null,
    .yajl_boolean = on_bool,
    .yajl_number = on_number,
    .yajl_string = on_string,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_map_key,
    .yajl_end_map = on_end,
    .yajl_start_array = on_start_array,
    .yajl_end_array = on_end,
};

int fwdo_json_to_msgpack(struct sl_buf *out, const char *json, size_t len)
{
	struct walk w = {.out = out};
	size_t before = out->len;
	yajl_handle h;
	yajl_status st;

	msgpack_packer_init(&w.pk, out, fwdo_buf_write);
	h = yajl_alloc(&walk_callbacks, NULL, &w);
	if (!h)
		return -SL_ENOMEM;
	st = yajl_parse(h, (const unsigned char *)json, len);
	if (st == yajl_status_ok)
		st = yajl_complete_parse(h);
	yajl_free(h);
	if (st != yajl_status_ok || w.depth != 0 || w.oom) {
		out->len = before;
		return w.oom ? -SL_ENOMEM : -SL_EPARSE;
	}
	return 0;
}

int fwdo_entry(struct sl_buf *out, int64_t ts_ns, bool time_as_integer,
	       const char *json, size_t len)
{
	msgpack_packer pk;
	size_t before = out->len;
	int rc;

	if (sl_buf_reserve(out, 16) < 0)
		return -SL_ENOMEM;
	msgpack_packer_init(&pk, out, fwdo_buf_write);
	msgpack_pack_array(&pk, 2);
	if (time_as_integer) {
		msgpack_pack_int64(&pk, ts_ns / SL_NS_PER_SEC -
					    (ts_ns % SL_NS_PER_SEC < 0));
	} else {
		int64_t s = ts_ns / SL_NS_PER_SEC, ns = ts_ns % SL_NS_PER_SEC;
		unsigned char b[8];

		if (ns < 0) {
			ns += SL_NS_PER_SEC;
			s--;
		}
		/* EventTime: uint32 seconds, uint32 nanoseconds, big endian */
		for (int i = 0; i < 4; i++) {
			b[i] = (unsigned char)((uint64_t)s >> (24 - 8 * i));
			b[4 + i] =
			    (unsigned char)((uint64_t)ns >> (24 - 8 * i));
		}
		msgpack_pack_ext(&pk, 8, 0);
		msgpack_pack_ext_body(&pk, b, 8);
	}
	rc = fwdo_json_to_msgpack(out, json, len);
	if (rc < 0)
		out->len = before;
	return rc;
}

int fwdo_gzip(struct sl_buf *out, const char *data, size_t len)
{
	/* libdeflate at zlib's default level, as the HTTP outputs send
	 * (tests/bench/bench_deflate). A compressor per message: its
	 * allocation is noise beside compressing a chunk. */
	struct libdeflate_compressor *z = libdeflate_alloc_compressor(6);
	size_t bound, n;

	sl_buf_reset(out);
	if (!z)
		return -SL_ENOMEM;
	bound = libdeflate_gzip_compress_bound(z, len);
	if (sl_buf_reserve(out, bound) < 0) {
		libdeflate_free_compressor(z);
		return -SL_ENOMEM;
	}
	n = libdeflate_gzip_compress(z, data, len, out->data, bound);
	libdeflate_free_compressor(z);
	out->len = n;
	return n ? 0 : -SL_ENOMEM;
}

static void pack_cstr(msgpack_packer *pk, const char *s, size_t len)
{
	msgpack_pack_str(pk, len);
	msgpack_pack_str_body(pk, s, len);
}

int fwdo_message(struct sl_buf *out, const struct fwdo_message *m)
{
	msgpack_packer pk;
	size_t extra = 64 + m->tag_len + m->entries_len;
	uint32_t n_opt;

	if (m->chunk)
		extra += strlen(m->chunk);
	for (size_t i = 0; i < m->n_extra; i++)
		extra +=
		    16 + strlen(m->extra_keys[i]) + strlen(m->extra_values[i]);
	/* reserved whole first: no append below can fail */
	if (sl_buf_reserve(out, extra) < 0)
		return -SL_ENOMEM;
	msgpack_packer_init(&pk, out, fwdo_buf_write);
	msgpack_pack_array(&pk, m->options ? 3 : 2);
	pack_cstr(&pk, m->tag, m->tag_len);
	if (m->forward_mode) {
		/* the entries are complete objects: an array header before
		 * them makes the Forward mode's array */
		msgpack_pack_array(&pk, (size_t)m->n);
		sl_buf_append(out, m->entries, m->entries_len);
	} else {
		msgpack_pack_bin(&pk, m->entries_len);
		msgpack_pack_bin_body(&pk, m->entries, m->entries_len);
	}
	if (!m->options)
		return 0;
	n_opt = 1 + (m->chunk != NULL) + m->gzip + (uint32_t)m->n_extra;
	msgpack_pack_map(&pk, n_opt);
	pack_cstr(&pk, "size", 4);
	msgpack_pack_uint64(&pk, m->n);
	if (m->chunk) {
		pack_cstr(&pk, "chunk", 5);
		pack_cstr(&pk, m->chunk, strlen(m->chunk));
	}
	if (m->gzip) {
		pack_cstr(&pk, "compressed", 10);
		pack_cstr(&pk, "gzip", 4);
	}
	for (size_t i = 0; i < m->n_extra; i++) {
		pack_cstr(&pk, m->extra_keys[i], strlen(m->extra_keys[i]));
		pack_cstr(&pk, m->extra_values[i], strlen(m->extra_values[i]));
	}
	return 0;
}
