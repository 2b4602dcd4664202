/* SPDX-License-Identifier: Apache-2.0 */
/*
 * loki_proto.c - the protobuf writer of the Loki encoder: the PromQL label
 * string, each entry's line and metadata fields (written while the batch
 * is built), and the PushRequest around them (written once it is ordered),
 * then the snappy block. The wire format is written by hand rather than
 * through protobuf-c messages: the fields are few and fixed, and the
 * entries' bytes are already in the batch, so nothing is copied twice.
 * The bytes are those protobuf-c packs for the same request (fields in
 * number order, proto3 defaults left out, the Timestamp always present).
 */
#include "loki_proto.h"

#include "sl_dlib.h"
#include "sl_utf8.h"

#include <pthread.h>
#include <snappy-c.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Field keys: (number << 3) | wire type (0 varint, 2 length-delimited). */
#define K_STREAMS  0x0a /* PushRequest.streams = 1 */
#define K_LABELS   0x0a /* StreamAdapter.labels = 1 */
#define K_ENTRIES  0x12 /* StreamAdapter.entries = 2 */
#define K_STAMP	   0x0a /* EntryAdapter.timestamp = 1 */
#define K_LINE	   0x12 /* EntryAdapter.line = 2 */
#define K_META	   0x1a /* EntryAdapter.structured_metadata = 3 */
#define K_NAME	   0x0a /* LabelPairAdapter.name = 1 */
#define K_VALUE	   0x12 /* LabelPairAdapter.value = 2 */
#define K_SECONDS  0x08 /* Timestamp.seconds = 1 */
#define K_NANOS	   0x10 /* Timestamp.nanos = 2 */
#define VARINT_MAX 10

/* libsnappy, opened on demand (sl_dlib.h): it brings libstdc++, about
 * 1.2 MB resident, to every pipeline otherwise */
static struct {
	size_t (*max_compressed_length)(size_t n);
	snappy_status (*compress)(const char *in, size_t n, char *out,
				  size_t *out_len);
} snappy;
static pthread_once_t snappy_once = PTHREAD_ONCE_INIT;
static int snappy_rc;
static char snappy_err[256];

static void snappy_load(void)
{
	const struct sl_dlib_sym syms[] = {
	    {"snappy_max_compressed_length", &snappy.max_compressed_length},
	    {"snappy_compress", &snappy.compress},
	};

	snappy_rc = sl_dlib_load("libsnappy.so.1", syms, SL_ARRAY_LEN(syms),
				 snappy_err, sizeof(snappy_err));
}

int loki_proto_open(char *err, size_t errlen)
{
	(void)pthread_once(&snappy_once, snappy_load);
	if (snappy_rc < 0 && err)
		snprintf(err, errlen, "%s", snappy_err);
	return snappy_rc;
}

static size_t varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static char *put_varint(char *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (char)(v | 0x80);
		v >>= 7;
	}
	*p++ = (char)v;
	return p;
}

/* Appends a key and a length. */
static int put_head(struct sl_buf *out, char key, size_t len)
{
	char h[1 + VARINT_MAX], *e;

	h[0] = key;
	e = put_varint(h + 1, len);
	return sl_buf_append(out, h, (size_t)(e - h));
}

/* One length-delimited field; nothing for empty bytes (proto3 default). */
static int put_bytes(struct sl_buf *out, char key, const char *s, size_t len)
{
	if (len == 0)
		return 0;
	if (put_head(out, key, len) < 0)
		return -SL_ENOMEM;
	return sl_buf_append(out, s, len);
}

/* `s` as valid UTF-8: itself when it is, else repaired into `fix`. */
static int repaired(const char **s, size_t *len, struct sl_buf *fix)
{
	if (sl_utf8_valid(*s, *len))
		return 0;
	sl_buf_reset(fix);
	if (sl_utf8_repair(fix, *s, *len) < 0)
		return -SL_ENOMEM;
	*s = fix->data;
	*len = fix->len;
	return 0;
}

int loki_proto_label(struct sl_buf *out, const char *name, size_t nlen,
		     const char *val, size_t vlen)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, run = 0;

	if (sl_buf_append(out, name, nlen) < 0 ||
	    sl_buf_append(out, "=\"", 2) < 0)
		return -SL_ENOMEM;
	for (i = 0; i < vlen; i++) {
		unsigned char c = (unsigned char)val[i];
		char e[4] = {'\\', 0, 0, 0};
		size_t n = 2;

		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
			continue;
		if (sl_buf_append(out, val + run, i - run) < 0)
			return -SL_ENOMEM;
		run = i + 1;
		switch (c) {
		case '"':
		case '\\':
			e[1] = (char)c;
			break;
		case '\n':
			e[1] = 'n';
			break;
		case '\r':
			e[1] = 'r';
			break;
		case '\t':
			e[1] = 't';
			break;
		default:
			e[1] = 'x';
			e[2] = hex[c >> 4];
			e[3] = hex[c & 15];
			n = 4;
			break;
		}
		if (sl_buf_append(out, e, n) < 0)
			return -SL_ENOMEM;
	}
	if (sl_buf_append(out, val + run, vlen - run) < 0)
		return -SL_ENOMEM;
	return sl_buf_append(out, "\"", 1);
}

int loki_proto_line(struct sl_buf *out, const char *s, size_t len,
		    struct sl_buf *fix)
{
	if (repaired(&s, &len, fix) < 0)
		return -SL_ENOMEM;
	return put_bytes(out, K_LINE, s, len);
}

int loki_proto_pair(struct sl_buf *out, const char *name, size_t nlen,
		    const char *val, size_t vlen, struct sl_buf *fix)
{
	size_t inner;

	/* both repaired into one scratch: the name first, then the value
	 * after it (the scratch may move while the value is appended) */
	if (!sl_utf8_valid(name, nlen) || !sl_utf8_valid(val, vlen)) {
		sl_buf_reset(fix);
		if (sl_utf8_repair(fix, name, nlen) < 0)
			return -SL_ENOMEM;
		nlen = fix->len;
		if (sl_utf8_repair(fix, val, vlen) < 0)
			return -SL_ENOMEM;
		vlen = fix->len - nlen;
		name = fix->data;
		val = fix->data + nlen;
	}
	inner = (nlen ? 1 + varint_len(nlen) + nlen : 0) +
		(vlen ? 1 + varint_len(vlen) + vlen : 0);
	if (put_head(out, K_META, inner) < 0 ||
	    put_bytes(out, K_NAME, name, nlen) < 0 ||
	    put_bytes(out, K_VALUE, val, vlen) < 0)
		return -SL_ENOMEM;
	return 0;
}

/*
 * The Timestamp message of `ns` (its fields, without key and length) at
 * `p`; returns its end. Timestamp's nanos are never negative: before 1970
 * the seconds round down.
 */
static char *put_stamp(char *p, int64_t ns)
{
	int64_t sec = ns / 1000000000, nanos = ns % 1000000000;

	if (nanos < 0) {
		nanos += 1000000000;
		sec--;
	}
	if (sec) {
		*p++ = K_SECONDS;
		p = put_varint(p, (uint64_t)sec); /* int64: two's complement */
	}
	if (nanos) {
		*p++ = K_NANOS;
		p = put_varint(p, (uint64_t)nanos);
	}
	return p;
}

/* Bytes of an entry's fields: timestamp, then what b->lines holds. */
static size_t entry_len(const struct loki_entry *en, char *stamp,
			size_t *stamp_len)
{
	*stamp_len = (size_t)(put_stamp(stamp, en->ts_ns) - stamp);
	return 2 + *stamp_len + en->line_len; /* key + 1-byte length */
}

int loki_proto_write(struct loki_batch *b, struct sl_buf *out)
{
	char stamp[2 * (1 + VARINT_MAX)], *h;
	size_t i, total = 0, max, clen, sl;
	struct sl_buf *pk = &b->packed;

	/* pass 1: each stream's length (entries are grouped by stream) */
	for (i = 0; i < b->n_streams; i++)
		b->streams[i].wire_len = 1 + varint_len(b->streams[i].key_len) +
					 b->streams[i].key_len;
	for (i = 0; i < b->n_entries; i++) {
		const struct loki_entry *en = &b->entries[i];
		size_t n = entry_len(en, stamp, &sl);

		b->streams[en->stream].wire_len += 1 + varint_len(n) + n;
	}
	for (i = 0; i < b->n_streams; i++)
		total += 1 + varint_len(b->streams[i].wire_len) +
			 b->streams[i].wire_len;
	/* snappy's block header holds the length in a varint32 */
	if (total > UINT32_MAX)
		return -SL_ETOOBIG;
	sl_buf_reset(pk);
	if (sl_buf_reserve(pk, total) < 0)
		return -SL_ENOMEM;
	/* pass 2: the bytes, into the room reserved (nothing can fail) */
	h = pk->data;
	for (i = 0; i < b->n_entries; i++) {
		const struct loki_entry *en = &b->entries[i];
		const struct loki_stream *st = &b->streams[en->stream];
		size_t n = entry_len(en, stamp, &sl);

		if (i == 0 || b->entries[i - 1].stream != en->stream) {
			*h++ = K_STREAMS;
			h = put_varint(h, st->wire_len);
			*h++ = K_LABELS;
			h = put_varint(h, st->key_len);
			memcpy(h, b->keys.data + st->key_off, st->key_len);
			h += st->key_len;
		}
		*h++ = K_ENTRIES;
		h = put_varint(h, n);
		*h++ = K_STAMP;
		*h++ = (char)sl; /* at most 22 bytes: a one-byte varint */
		memcpy(h, stamp, sl);
		h += sl;
		if (en->line_len) /* lines may have no buffer at all */
			memcpy(h, b->lines.data + en->line_off, en->line_len);
		h += en->line_len;
	}
	pk->len = (size_t)(h - pk->data);
	if (loki_proto_open(NULL, 0) < 0)
		return -SL_ENOENT;
	max = snappy.max_compressed_length(pk->len);
	if (sl_buf_reserve(out, max) < 0)
		return -SL_ENOMEM;
	clen = max;
	if (snappy.compress(pk->data, pk->len, out->data + out->len, &clen) !=
	    SNAPPY_OK)
		return -SL_ENOMEM; /* only for a short buffer: not here */
	out->len += clen;
	return 0;
}
