/* SPDX-License-Identifier: Apache-2.0 */
/*
 * loki_proto.c - the JSON push body to Loki's protobuf push body. A strict
 * reader of the one JSON shape loki_encode() writes (not a general JSON
 * parser: any other shape is -SL_EPARSE), the PromQL label string, the
 * protobuf-c messages (pointing into the scratch text, never copied again)
 * and the snappy block around the packed request.
 */
#include "loki_proto.h"
#include "sl_json.h"

#include <snappy-c.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct loki_pstream {
	size_t labels_off, labels_len; /* in text */
	size_t first_entry, n_entries;
};

struct loki_pentry {
	int64_t ts_ns;
	size_t line_off, line_len; /* in text */
	size_t first_pair, n_pairs;
};

struct loki_ppair {
	size_t name_off, name_len, value_off, value_len; /* in text */
};

void loki_proto_init(struct loki_proto *p)
{
	memset(p, 0, sizeof(*p));
}

void loki_proto_destroy(struct loki_proto *p)
{
	sl_buf_destroy(&p->text);
	sl_buf_destroy(&p->tmp);
	sl_buf_destroy(&p->packed);
	free(p->streams);
	free(p->entries);
	free(p->pairs);
	free(p->m_streams);
	free(p->m_stream_ptrs);
	free(p->m_entries);
	free(p->m_entry_ptrs);
	free(p->m_stamps);
	free(p->m_pairs);
	free(p->m_pair_ptrs);
	loki_proto_init(p);
}

/* Makes room for `need` items of `size` bytes in *v (capacity *cap). */
static int grow(void **v, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 16;
	void *nv;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	nv = realloc(*v, n * size);
	if (!nv)
		return -SL_ENOMEM;
	*v = nv;
	*cap = n;
	return 0;
}

/* The reader of the JSON body. */
struct rd {
	const char *p, *end;
};

static void skip_ws(struct rd *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' ||
				 *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static bool eat(struct rd *r, char c)
{
	skip_ws(r);
	if (r->p < r->end && *r->p == c) {
		r->p++;
		return true;
	}
	return false;
}

static int hex4(const char *s)
{
	int v = 0, i;

	for (i = 0; i < 4; i++) {
		char c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			v |= (c | 0x20) - 'a' + 10;
		else
			return -1;
	}
	return v;
}

/*
 * The JSON string at the reader, its inside unescaped and appended to
 * `out`, in one pass: lines (records as JSON text) are full of escaped
 * quotes, so a loop per escape (memchr, a call) would cost more than the
 * bytes. \u escapes go to sl_json_unescape_append, with the low half of a
 * surrogate pair when one follows, so that pairs and lone halves come out
 * as everywhere else in sluice.
 */
static int string_to(struct rd *r, struct sl_buf *out)
{
	const char *s, *end = r->end;
	char *o;

	if (!eat(r, '"'))
		return -SL_EPARSE;
	s = r->p;
	/* unescaping never lengthens: the rest of the body is enough */
	if (sl_buf_reserve(out, (size_t)(end - s)) < 0)
		return -SL_ENOMEM;
	o = out->data + out->len;
	for (;;) {
		char c, e;
		size_t n;
		int u;

		if (s == end)
			return -SL_EPARSE;
		c = *s++;
		if (c == '"')
			break;
		if (c != '\\') {
			*o++ = c;
			continue;
		}
		if (s == end)
			return -SL_EPARSE;
		e = *s++;
		switch (e) {
		case '"':
		case '\\':
		case '/':
			*o++ = e;
			continue;
		case 'b':
			*o++ = '\b';
			continue;
		case 'f':
			*o++ = '\f';
			continue;
		case 'n':
			*o++ = '\n';
			continue;
		case 'r':
			*o++ = '\r';
			continue;
		case 't':
			*o++ = '\t';
			continue;
		case 'u':
			break;
		default:
			return -SL_EPARSE;
		}
		if (end - s < 4 || (u = hex4(s)) < 0)
			return -SL_EPARSE;
		n = 6;
		if (u >= 0xd800 && u < 0xdc00 && end - s >= 10 &&
		    s[4] == '\\' && s[5] == 'u')
			n = 12;
		out->len = (size_t)(o - out->data);
		if (sl_json_unescape_append(out, s - 2, n) < 0)
			return -SL_EPARSE;
		/* at most 6 bytes written for 6 read: the reserve holds */
		o = out->data + out->len;
		s += n - 2;
	}
	out->len = (size_t)(o - out->data);
	r->p = s;
	return 0;
}

/* "<decimal ns>", as loki_encode writes the time of an entry. */
static int parse_ns(const char *s, size_t len, int64_t *out)
{
	bool neg = len > 0 && s[0] == '-';
	uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : INT64_MAX;
	size_t i = neg;

	if (i == len)
		return -SL_EPARSE;
	for (; i < len; i++) {
		unsigned d = (unsigned char)s[i] - '0';

		if (d > 9 || v > (lim - d) / 10)
			return -SL_EPARSE;
		v = v * 10 + d;
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

/*
 * A label value inside Loki's label string, in the double-quoted syntax
 * Loki parses it with (PromQL's, unquoted as a Go string): backslash,
 * quote and the control bytes escaped, a raw newline being an error there.
 */
static int escape_value(struct sl_buf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, run = 0;

	if (sl_buf_reserve(out, len + 2) < 0)
		return -SL_ENOMEM;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char e[4] = {'\\', 0, 0, 0};
		size_t n = 2;

		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
			continue;
		if (sl_buf_append(out, s + run, i - run) < 0)
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
	return sl_buf_append(out, s + run, len - run) < 0 ? -SL_ENOMEM : 0;
}

/* "stream":{"name":"value",...} as the label string {name="value", ...}. */
static int parse_labels(struct loki_proto *p, struct rd *r, size_t si)
{
	struct loki_pstream *st = &p->streams[si];
	size_t start = p->text.len;
	bool first = true;
	int rc;

	if (!eat(r, '{'))
		return -SL_EPARSE;
	if (sl_buf_append(&p->text, "{", 1) < 0)
		return -SL_ENOMEM;
	if (!eat(r, '}')) {
		do {
			size_t name_len;

			sl_buf_reset(&p->tmp);
			rc = string_to(r, &p->tmp);
			if (rc < 0)
				return rc;
			name_len = p->tmp.len;
			if (!eat(r, ':'))
				return -SL_EPARSE;
			rc = string_to(r, &p->tmp);
			if (rc < 0)
				return rc;
			/* names are Loki label names already (the encoder
			 * made them so): copied as they are */
			if ((!first && sl_buf_append(&p->text, ", ", 2) < 0) ||
			    sl_buf_append(&p->text, p->tmp.data, name_len) <
				0 ||
			    sl_buf_append(&p->text, "=\"", 2) < 0)
				return -SL_ENOMEM;
			rc = escape_value(&p->text, p->tmp.data + name_len,
					  p->tmp.len - name_len);
			if (rc < 0)
				return rc;
			if (sl_buf_append(&p->text, "\"", 1) < 0)
				return -SL_ENOMEM;
			first = false;
		} while (eat(r, ','));
		if (!eat(r, '}'))
			return -SL_EPARSE;
	}
	if (sl_buf_append(&p->text, "}", 1) < 0)
		return -SL_ENOMEM;
	st->labels_off = start;
	st->labels_len = p->text.len - start;
	return 0;
}

/* An entry's metadata object {"name":"value",...} as pairs. */
static int parse_meta(struct loki_proto *p, struct rd *r,
		      struct loki_pentry *en)
{
	int rc;

	en->first_pair = p->n_pairs;
	if (!eat(r, '{'))
		return -SL_EPARSE;
	if (eat(r, '}'))
		return 0;
	do {
		struct loki_ppair *pr;

		if (grow((void **)&p->pairs, &p->cap_pairs, p->n_pairs + 1,
			 sizeof(*p->pairs)) < 0)
			return -SL_ENOMEM;
		pr = &p->pairs[p->n_pairs];
		pr->name_off = p->text.len;
		rc = string_to(r, &p->text);
		if (rc < 0)
			return rc;
		pr->name_len = p->text.len - pr->name_off;
		if (!eat(r, ':'))
			return -SL_EPARSE;
		pr->value_off = p->text.len;
		rc = string_to(r, &p->text);
		if (rc < 0)
			return rc;
		pr->value_len = p->text.len - pr->value_off;
		p->n_pairs++;
		en->n_pairs++;
	} while (eat(r, ','));
	return eat(r, '}') ? 0 : -SL_EPARSE;
}

/* ["<ns>","<line>"] or ["<ns>","<line>",{metadata}] */
static int parse_entry(struct loki_proto *p, struct rd *r)
{
	struct loki_pentry *en;
	int rc;

	if (grow((void **)&p->entries, &p->cap_entries, p->n_entries + 1,
		 sizeof(*p->entries)) < 0)
		return -SL_ENOMEM;
	en = &p->entries[p->n_entries];
	memset(en, 0, sizeof(*en));
	if (!eat(r, '['))
		return -SL_EPARSE;
	sl_buf_reset(&p->tmp);
	rc = string_to(r, &p->tmp);
	if (rc < 0)
		return rc;
	if (parse_ns(p->tmp.data, p->tmp.len, &en->ts_ns) < 0 || !eat(r, ','))
		return -SL_EPARSE;
	en->line_off = p->text.len;
	rc = string_to(r, &p->text);
	if (rc < 0)
		return rc;
	en->line_len = p->text.len - en->line_off;
	if (eat(r, ',')) {
		rc = parse_meta(p, r, en);
		if (rc < 0)
			return rc;
	}
	if (!eat(r, ']'))
		return -SL_EPARSE;
	p->n_entries++;
	return 0;
}

/* "values":[entry,...] */
static int parse_values(struct loki_proto *p, struct rd *r, size_t si)
{
	int rc;

	p->streams[si].first_entry = p->n_entries;
	if (!eat(r, '['))
		return -SL_EPARSE;
	if (!eat(r, ']')) {
		do {
			rc = parse_entry(p, r);
			if (rc < 0)
				return rc;
		} while (eat(r, ','));
		if (!eat(r, ']'))
			return -SL_EPARSE;
	}
	p->streams[si].n_entries = p->n_entries - p->streams[si].first_entry;
	return 0;
}

/* {"stream":{...},"values":[...]}, members in either order, once each. */
static int parse_stream(struct loki_proto *p, struct rd *r)
{
	bool labels = false, values = false;
	size_t si = p->n_streams;
	int rc;

	if (grow((void **)&p->streams, &p->cap_streams, p->n_streams + 1,
		 sizeof(*p->streams)) < 0)
		return -SL_ENOMEM;
	p->n_streams++;
	if (!eat(r, '{'))
		return -SL_EPARSE;
	do {
		sl_buf_reset(&p->tmp);
		rc = string_to(r, &p->tmp);
		if (rc < 0)
			return rc;
		if (!eat(r, ':'))
			return -SL_EPARSE;
		if (!labels && p->tmp.len == 6 &&
		    !memcmp(p->tmp.data, "stream", 6)) {
			labels = true;
			rc = parse_labels(p, r, si);
		} else if (!values && p->tmp.len == 6 &&
			   !memcmp(p->tmp.data, "values", 6)) {
			values = true;
			rc = parse_values(p, r, si);
		} else {
			rc = -SL_EPARSE;
		}
		if (rc < 0)
			return rc;
	} while (eat(r, ','));
	return eat(r, '}') && labels && values ? 0 : -SL_EPARSE;
}

static int parse_body(struct loki_proto *p, const char *json, size_t len)
{
	struct rd r = {json, json + len};
	int rc;

	p->n_streams = p->n_entries = p->n_pairs = 0;
	sl_buf_reset(&p->text);
	if (!eat(&r, '{'))
		return -SL_EPARSE;
	sl_buf_reset(&p->tmp);
	rc = string_to(&r, &p->tmp);
	if (rc < 0)
		return rc;
	if (p->tmp.len != 7 || memcmp(p->tmp.data, "streams", 7) ||
	    !eat(&r, ':') || !eat(&r, '['))
		return -SL_EPARSE;
	if (!eat(&r, ']')) {
		do {
			rc = parse_stream(p, &r);
			if (rc < 0)
				return rc;
		} while (eat(&r, ','));
		if (!eat(&r, ']'))
			return -SL_EPARSE;
	}
	if (!eat(&r, '}'))
		return -SL_EPARSE;
	skip_ws(&r);
	return r.p == r.end ? 0 : -SL_EPARSE;
}

static ProtobufCBinaryData bytes_at(const struct loki_proto *p, size_t off,
				    size_t len)
{
	ProtobufCBinaryData b = {len,
				 len ? (uint8_t *)p->text.data + off : NULL};

	return b;
}

/* grow() for a message array and its pointer array, sharing *cap. */
static int grow2(void **msgs, void **ptrs, size_t *cap, size_t need,
		 size_t msg_size)
{
	size_t c = *cap, c2 = *cap;

	if (grow(msgs, &c, need, msg_size) < 0 ||
	    grow(ptrs, &c2, c, sizeof(void *)) < 0)
		return -SL_ENOMEM;
	*cap = c < c2 ? c : c2;
	return 0;
}

/*
 * The protobuf-c messages over what parse_body read. Built once the text
 * is complete: its buffer no longer moves, so the messages can point into
 * it. The pointer arrays are laid out in stream, entry, pair order, so
 * each repeated field is a slice of them.
 */
static int build(struct loki_proto *p, Sluice__Loki__PushRequest *req)
{
	size_t i;

	if (grow2((void **)&p->m_streams, (void **)&p->m_stream_ptrs,
		  &p->cap_m_streams, p->n_streams, sizeof(*p->m_streams)) < 0 ||
	    grow2((void **)&p->m_entries, (void **)&p->m_entry_ptrs,
		  &p->cap_m_entries, p->n_entries, sizeof(*p->m_entries)) < 0 ||
	    grow((void **)&p->m_stamps, &p->cap_m_stamps, p->n_entries,
		 sizeof(*p->m_stamps)) < 0 ||
	    grow2((void **)&p->m_pairs, (void **)&p->m_pair_ptrs,
		  &p->cap_m_pairs, p->n_pairs, sizeof(*p->m_pairs)) < 0)
		return -SL_ENOMEM;
	for (i = 0; i < p->n_pairs; i++) {
		const struct loki_ppair *pr = &p->pairs[i];
		Sluice__Loki__LabelPairAdapter *m = &p->m_pairs[i];

		sluice__loki__label_pair_adapter__init(m);
		m->name = bytes_at(p, pr->name_off, pr->name_len);
		m->value = bytes_at(p, pr->value_off, pr->value_len);
		p->m_pair_ptrs[i] = m;
	}
	for (i = 0; i < p->n_entries; i++) {
		const struct loki_pentry *en = &p->entries[i];
		Sluice__Loki__EntryAdapter *m = &p->m_entries[i];
		Sluice__Loki__Timestamp *t = &p->m_stamps[i];
		int64_t sec = en->ts_ns / 1000000000,
			ns = en->ts_ns % 1000000000;

		/* Timestamp's nanos are never negative: before 1970 the
		 * seconds round down */
		if (ns < 0) {
			ns += 1000000000;
			sec--;
		}
		sluice__loki__timestamp__init(t);
		t->seconds = sec;
		t->nanos = (int32_t)ns;
		sluice__loki__entry_adapter__init(m);
		m->timestamp = t;
		m->line = bytes_at(p, en->line_off, en->line_len);
		m->n_structured_metadata = en->n_pairs;
		m->structured_metadata =
		    en->n_pairs ? p->m_pair_ptrs + en->first_pair : NULL;
		p->m_entry_ptrs[i] = m;
	}
	for (i = 0; i < p->n_streams; i++) {
		const struct loki_pstream *st = &p->streams[i];
		Sluice__Loki__StreamAdapter *m = &p->m_streams[i];

		sluice__loki__stream_adapter__init(m);
		m->labels = bytes_at(p, st->labels_off, st->labels_len);
		m->n_entries = st->n_entries;
		m->entries =
		    st->n_entries ? p->m_entry_ptrs + st->first_entry : NULL;
		p->m_stream_ptrs[i] = m;
	}
	sluice__loki__push_request__init(req);
	req->n_streams = p->n_streams;
	req->streams = p->n_streams ? p->m_stream_ptrs : NULL;
	return 0;
}

int loki_proto_encode(struct loki_proto *p, const char *json, size_t len,
		      struct sl_buf *out)
{
	Sluice__Loki__PushRequest req;
	size_t n, max, clen;
	int rc;

	rc = parse_body(p, json, len);
	if (rc < 0)
		return rc;
	rc = build(p, &req);
	if (rc < 0)
		return rc;
	n = sluice__loki__push_request__get_packed_size(&req);
	/* snappy's block header holds the length in a varint32 */
	if (n > UINT32_MAX)
		return -SL_ETOOBIG;
	sl_buf_reset(&p->packed);
	if (sl_buf_reserve(&p->packed, n + 1) < 0)
		return -SL_ENOMEM;
	p->packed.len =
	    sluice__loki__push_request__pack(&req, (uint8_t *)p->packed.data);
	max = snappy_max_compressed_length(p->packed.len);
	if (sl_buf_reserve(out, max) < 0)
		return -SL_ENOMEM;
	clen = max;
	if (snappy_compress(p->packed.data, p->packed.len, out->data + out->len,
			    &clen) != SNAPPY_OK)
		return -SL_ENOMEM; /* only for a short buffer: not here */
	out->len += clen;
	return 0;
}
