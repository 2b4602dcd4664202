/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_json.c - JSON string escaping and unescaping, and the record view:
 * one yajl callback pass that records the byte span of every value of an
 * object. Nothing here builds a DOM or re-serialises a document. UTF-8
 * checking is in sl_utf8.c.
 */
#include "sl_json.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* ---- escaping ------------------------------------------------------------ */

/*
 * Bytes copied into a JSON string as they are: printable ASCII but the
 * quote and the backslash. Every other byte needs a look (an escape, or a
 * UTF-8 check).
 */
static const unsigned char plain[256] = {
    /* 0x00 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* 0x10 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* 0x20 */ 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* 0x30 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* 0x40 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* 0x50 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    /* 0x60 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* 0x70 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* 0x80 and up: UTF-8, checked sequence by sequence */
};

/* The two-character escapes, by the byte they stand for. */
static const unsigned char short_escape[128] = {
    ['"'] = '"',  ['\\'] = '\\', ['\b'] = 'b', ['\f'] = 'f',
    ['\n'] = 'n', ['\r'] = 'r',	 ['\t'] = 't',
};

#define ONES  0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/*
 * Per byte of w, the high bit set where the byte is not plain[]: at or
 * above 0x80, below 0x20, '"' or '\\' (the classic "has zero byte" tricks).
 * A borrow can flag a byte after a flagged one, never before it, so the
 * lowest flag is exact.
 */
static inline uint64_t unsafe_bytes(uint64_t w)
{
	uint64_t q = w ^ (ONES * '"'), s = w ^ (ONES * '\\');

	return (w | ((w - ONES * 0x20) & ~w) | ((q - ONES) & ~q) |
		((s - ONES) & ~s)) &
	       HIGHS;
}

/*
 * Length of the leading run of plain bytes of p[0..n). The common case of
 * every string a collector writes, so it goes 16 bytes a step with SSE2
 * (every x86-64 has it), then a 64-bit word at a time. Each word
 * is also stored at `o` before it is checked (the caller guarantees n
 * bytes of room there): a clean word then costs no second copy, and a
 * word with an unsafe byte has its plain prefix in place already.
 */
static inline size_t plain_run(const unsigned char *p, size_t n, char *o)
{
	size_t i = 0;

#ifdef __SSE2__
	/* 16 bytes a step; a signed compare below ' ' also catches every
	 * byte from 0x80 */
	while (i + 16 <= n) {
		__m128i v =
		    _mm_loadu_si128((const __m128i *)(const void *)(p + i));
		__m128i u = _mm_or_si128(
		    _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
				 _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
		    _mm_cmplt_epi8(v, _mm_set1_epi8(' ')));
		unsigned m = (unsigned)_mm_movemask_epi8(u);

		_mm_storeu_si128((__m128i *)(void *)(o + i), v);
		if (m)
			return i + (size_t)__builtin_ctz(m);
		i += 16;
	}
#endif
	while (i + 8 <= n) {
		uint64_t w, m;

		memcpy(&w, p + i, 8);
		memcpy(o + i, &w, 8);
		m = unsafe_bytes(w);
		if (m) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			return i + ((size_t)__builtin_ctzll(m) >> 3);
#else
			break;
#endif
		}
		i += 8;
	}
	while (i < n && plain[p[i]]) {
		o[i] = (char)p[i];
		i++;
	}
	return i;
}

/*
 * The invariant of the loop below: from `o` the buffer has room for what
 * is left of the input as it is, the closing quote and the NUL. Plain
 * bytes and valid UTF-8 are copied byte for byte and keep it; an escape
 * grows the output by at most 5 bytes more than it consumes, so the room
 * is checked before each one. The output position lives in a local, not
 * in b->len: stores through a char pointer may alias *b, and the compiler
 * would reload b after each one.
 */
int sl_json_append_string(struct sl_buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	size_t old = b->len, bad, k;
	char *o, *lim;

	if (len > SIZE_MAX - 8 || sl_buf_reserve(b, len + 2) < 0)
		return -SL_ENOMEM;
	o = b->data + b->len;
	lim = b->data + b->cap - 1; /* the NUL's place, at the latest */
	*o++ = '"';
	while (p < end) {
		unsigned c;

		k = plain_run(p, (size_t)(end - p), o);
		o += k;
		p += k;
		if (p == end)
			break;
		if ((size_t)(lim - o) < (size_t)(end - p) + 6 + 1) {
			b->len = (size_t)(o - b->data);
			if (sl_buf_reserve(b, (size_t)(end - p) + 6 + 1) < 0)
				goto nomem;
			o = b->data + b->len;
			lim = b->data + b->cap - 1;
		}
		c = *p;
		if (c >= 0x80) {
			k = sl_utf8_seq(p, (size_t)(end - p), &bad);
			if (k) { /* valid: as it is */
				memcpy(o, p, k);
				o += k;
				p += k;
				continue;
			}
			/* `bad` bytes (at least one) become U+FFFD */
			memcpy(o, SL_UTF8_REPLACEMENT, 3);
			o += 3;
			p += bad;
			continue;
		}
		o[0] = '\\';
		if (short_escape[c]) {
			o[1] = (char)short_escape[c];
			o += 2;
		} else {
			memcpy(o + 1, "u00", 3);
			o[4] = hex[c >> 4];
			o[5] = hex[c & 15];
			o += 6;
		}
		p++;
	}
	*o++ = '"';
	*o = '\0';
	b->len = (size_t)(o - b->data);
	return 0;
nomem:
	b->len = old;
	b->data[old] = '\0';
	return -SL_ENOMEM;
}

/* ---- unescaping ---------------------------------------------------------- */

static int hex4(const char *s)
{
	int v = 0;

	for (int i = 0; i < 4; i++) {
		char c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

static size_t put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xE0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* What each two-character escape stands for; 0 = not an escape. */
static const unsigned char unescape_char[128] = {
    ['"'] = '"',  ['\\'] = '\\', ['/'] = '/',  ['b'] = '\b',
    ['f'] = '\f', ['n'] = '\n',	 ['r'] = '\r', ['t'] = '\t',
};

/*
 * Decodes the escape at s (s[0] == '\\', n bytes left) into o (4 bytes).
 * Returns the bytes written and sets *used, or -1 on a bad escape. Never
 * writes more than it consumes, so unescaping never grows a string.
 */
static int unescape_one(const char *s, size_t n, size_t *used, char *o)
{
	int cp, lo;

	if (n < 2)
		return -1;
	*used = 2;
	if (s[1] != 'u') {
		unsigned char c = (unsigned char)s[1];

		if (c >= 128 || !unescape_char[c])
			return -1;
		o[0] = (char)unescape_char[c];
		return 1;
	}
	if (n < 6 || (cp = hex4(s + 2)) < 0)
		return -1;
	*used = 6;
	if (cp >= 0xD800 && cp <= 0xDBFF) {
		if (n >= 12 && s[6] == '\\' && s[7] == 'u' &&
		    (lo = hex4(s + 8)) >= 0xDC00 && lo <= 0xDFFF) {
			*used = 12;
			return (int)put_utf8(
			    o, 0x10000 + (((unsigned)cp - 0xD800) << 10) +
				   ((unsigned)lo - 0xDC00));
		}
		cp = 0xFFFD; /* lone high surrogate */
	} else if (cp >= 0xDC00 && cp <= 0xDFFF) {
		cp = 0xFFFD; /* lone low surrogate */
	}
	return (int)put_utf8(o, (unsigned)cp);
}

int sl_json_unescape_append(struct sl_buf *out, const char *s, size_t len)
{
	size_t i = 0, old = out->len;
	char *o;

	if (sl_buf_reserve(out, len) < 0)
		return -SL_ENOMEM;
	o = out->data + out->len;
	while (i < len) {
		const char *bs = memchr(s + i, '\\', len - i);
		size_t run = bs ? (size_t)(bs - (s + i)) : len - i;
		size_t used;
		int k;

		memcpy(o, s + i, run);
		o += run;
		i += run;
		if (i >= len)
			break;
		k = unescape_one(s + i, len - i, &used, o);
		if (k < 0) {
			out->data[old] = '\0';
			return -SL_EPARSE;
		}
		o += k;
		i += used;
	}
	out->len = (size_t)(o - out->data);
	out->data[out->len] = '\0';
	return 0;
}

/* Compares the raw (escaped) key with the plain key, decoding on the fly. */
static bool key_equal(const char *raw, size_t raw_len, bool escaped,
		      const char *key, size_t key_len)
{
	size_t i = 0, j = 0;

	if (!escaped)
		return raw_len == key_len && memcmp(raw, key, key_len) == 0;
	while (i < raw_len) {
		char o[4];
		size_t used;
		int k;

		if (raw[i] != '\\') {
			if (j >= key_len || raw[i] != key[j])
				return false;
			i++;
			j++;
			continue;
		}
		k = unescape_one(raw + i, raw_len - i, &used, o);
		if (k < 0 || j + (size_t)k > key_len ||
		    memcmp(o, key + j, (size_t)k) != 0)
			return false;
		i += used;
		j += (size_t)k;
	}
	return j == key_len;
}

/* ---- the record view ----------------------------------------------------- */

/*
 * One builder and one yajl handle per thread, reused for every document:
 * yajl 2.1 has no reset, and allocating a handle costs several mallocs per
 * record. Reuse works because the handle runs with allow_multiple_values:
 * after a complete object it waits for the next value in a clean state.
 * What allow_multiple_values would otherwise accept (a second value, or
 * trailing bytes) is rejected by the callbacks and the trailing check below;
 * any failure frees the handle, since its state is then unknown.
 */
struct vbuild {
	yajl_handle h;
	struct sl_view *v;
	const unsigned char *t;
	uint32_t len;
	uint32_t prev;			   /* end of the previous token */
	uint32_t depth;			   /* open containers */
	uint32_t open[SL_JSON_MAX_DEPTH];  /* their node indexes */
	uint32_t count[SL_JSON_MAX_DEPTH]; /* their children so far */
	uint32_t key_off, key_len, member_off, key_hash;
	bool key_escaped;
	bool done; /* the root object closed */
	int err;
};

static _Thread_local struct vbuild *tls_builder;
static pthread_key_t builder_key;
static pthread_once_t builder_once = PTHREAD_ONCE_INIT;

static void builder_free(void *p)
{
	struct vbuild *b = p;

	if (!b)
		return;
	if (b->h)
		yajl_free(b->h);
	free(b);
}

static void builder_key_create(void)
{
	(void)pthread_key_create(&builder_key, builder_free);
}

/* Offset of the next token at or after `from`: skips JSON white space and
 * the separators yajl has already checked. \f and \v, which yajl takes for
 * white space and JSON does not, stop the skip and so fail the caller. */
static uint32_t skip_gap(const struct vbuild *b, uint32_t from)
{
	while (from < b->len) {
		unsigned char c = b->t[from];

		if (c != ' ' && c != '\n' && c != '\t' && c != '\r' &&
		    c != ':' && c != ',')
			break;
		from++;
	}
	return from;
}

static int fail(struct vbuild *b, int err)
{
	b->err = err;
	return 0; /* cancels the parse */
}

/* Appends the node of a value starting at `off`; NULL cancels. */
static struct sl_view_node *add_node(struct vbuild *b, uint8_t type,
				     uint32_t off)
{
	struct sl_view *v = b->v;
	struct sl_view_node *nd;

	if (b->done || (b->depth == 0 && type != SL_VAL_OBJECT)) {
		b->err = -SL_EPARSE; /* a second value, or not an object */
		return NULL;
	}
	if (b->t[off] == '\f' || b->t[off] == '\v') {
		b->err = -SL_EPARSE;
		return NULL;
	}
	if (v->n == v->cap) {
		uint32_t cap = v->cap ? v->cap * 2 : 64;
		struct sl_view_node *p;

		if (cap < v->cap ||
		    !(p = realloc(v->nodes, (size_t)cap * sizeof(*p)))) {
			b->err = -SL_ENOMEM;
			return NULL;
		}
		v->nodes = p;
		v->cap = cap;
	}
	nd = &v->nodes[v->n];
	nd->val_off = off;
	nd->type = type;
	nd->end = v->n + 1;
	if (b->depth == 0) {
		nd->parent = UINT32_MAX;
		nd->index = 0;
		nd->key_off = nd->member_off = off;
		nd->key_len = 0;
		nd->key_escaped = 0;
		nd->key_hash = 0;
	} else {
		uint32_t parent = b->open[b->depth - 1];

		nd->parent = parent;
		nd->index = b->count[b->depth - 1]++;
		if (v->nodes[parent].type == SL_VAL_OBJECT) {
			nd->key_off = b->key_off;
			nd->key_len = b->key_len;
			nd->member_off = b->member_off;
			nd->key_escaped = b->key_escaped;
			nd->key_hash = b->key_hash;
		} else {
			nd->key_off = nd->member_off = off;
			nd->key_len = 0;
			nd->key_escaped = 0;
			nd->key_hash = 0;
		}
	}
	v->n++;
	return nd;
}

static int scalar(void *ctx, uint8_t type)
{
	struct vbuild *b = ctx;
	uint32_t end = (uint32_t)yajl_get_bytes_consumed(b->h);
	uint32_t off = skip_gap(b, b->prev);
	struct sl_view_node *nd;

	if (off >= end)
		return fail(b, -SL_EPARSE);
	nd = add_node(b, type, off);
	if (!nd)
		return 0;
	nd->val_len = end - off;
	b->prev = end;
	return 1;
}

static int on_null(void *ctx)
{
	return scalar(ctx, SL_VAL_NULL);
}

static int on_bool(void *ctx, int val)
{
	(void)val;
	return scalar(ctx, SL_VAL_BOOL);
}

static int on_number(void *ctx, const char *s, size_t len)
{
	(void)s;
	(void)len;
	return scalar(ctx, SL_VAL_NUMBER);
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
	(void)s;
	(void)len;
	return scalar(ctx, SL_VAL_STRING);
}

static int on_key(void *ctx, const unsigned char *s, size_t len)
{
	struct vbuild *b = ctx;
	uint32_t end = (uint32_t)yajl_get_bytes_consumed(b->h);
	uint32_t off = skip_gap(b, b->prev);

	if (off + 2 > end || b->t[off] != '"')
		return fail(b, -SL_EPARSE);
	/* yajl hands over the decoded key, so escaped keys hash like plain ones
	 */
	b->key_hash = sl_json_key_hash((const char *)s, len);
	b->member_off = off;
	b->key_off = off + 1;
	b->key_len = end - 1 - b->key_off;
	/* yajl hands over the decoded key: any escape makes it shorter */
	b->key_escaped = len != b->key_len;
	b->prev = end;
	return 1;
}

static int open_container(void *ctx, uint8_t type)
{
	struct vbuild *b = ctx;
	uint32_t end = (uint32_t)yajl_get_bytes_consumed(b->h);
	struct sl_view_node *nd;

	if (end == 0 || skip_gap(b, b->prev) != end - 1)
		return fail(b, -SL_EPARSE);
	if (b->depth >= SL_JSON_MAX_DEPTH)
		return fail(b, -SL_ETOOBIG);
	nd = add_node(b, type, end - 1);
	if (!nd)
		return 0;
	b->open[b->depth] = b->v->n - 1;
	b->count[b->depth] = 0;
	b->depth++;
	b->prev = end;
	return 1;
}

static int close_container(void *ctx)
{
	struct vbuild *b = ctx;
	uint32_t end = (uint32_t)yajl_get_bytes_consumed(b->h);
	struct sl_view_node *nd;

	if (b->depth == 0 || end == 0 || skip_gap(b, b->prev) != end - 1)
		return fail(b, -SL_EPARSE);
	b->depth--;
	nd = &b->v->nodes[b->open[b->depth]];
	nd->val_len = end - nd->val_off;
	nd->end = b->v->n;
	b->prev = end;
	if (b->depth == 0)
		b->done = true;
	return 1;
}

static int on_start_map(void *ctx)
{
	return open_container(ctx, SL_VAL_OBJECT);
}

static int on_start_array(void *ctx)
{
	return open_container(ctx, SL_VAL_ARRAY);
}

static const yajl_callbacks view_callbacks = {
    .yajl_null = on_null,
    .yajl_boolean = on_bool,
    .yajl_number = on_number,
    .yajl_string = on_string,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_key,
    .yajl_end_map = close_container,
    .yajl_start_array = on_start_array,
    .yajl_end_array = close_container,
};

static struct vbuild *builder_get(void)
{
	struct vbuild *b = tls_builder;

	if (SL_LIKELY(b && b->h))
		return b;
	if (!b) {
		b = calloc(1, sizeof(*b));
		if (!b)
			return NULL;
		(void)pthread_once(&builder_once, builder_key_create);
		/* frees the builder when the thread exits */
		(void)pthread_setspecific(builder_key, b);
		tls_builder = b;
	}
	b->h = yajl_alloc(&view_callbacks, NULL, b);
	if (!b->h)
		return NULL;
	yajl_config(b->h, yajl_dont_validate_strings, 1);
	yajl_config(b->h, yajl_allow_multiple_values, 1);
	return b;
}

static bool only_space(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\n' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

int sl_view_build(struct sl_view *v, const char *text, size_t len)
{
	struct vbuild *b;
	yajl_status st;

	v->n = 0;
	sl_view_reset_index(v);
	if (len > UINT32_MAX - 1)
		return -SL_ETOOBIG;
	b = builder_get();
	if (!b)
		return -SL_ENOMEM;
	b->v = v;
	b->t = (const unsigned char *)text;
	b->len = (uint32_t)len;
	b->prev = 0;
	b->depth = 0;
	b->done = false;
	b->err = 0;
	st = yajl_parse(b->h, b->t, len);
	if (st == yajl_status_ok && b->done && !b->err &&
	    only_space(text + b->prev, len - b->prev))
		return 0;
	/* the handle may be mid-document or in an error state: drop it */
	yajl_free(b->h);
	b->h = NULL;
	v->n = 0;
	if (b->err)
		return b->err;
	return -SL_EPARSE;
}

void sl_view_destroy(struct sl_view *v)
{
	if (!v)
		return;
	free(v->nodes);
	v->nodes = NULL;
	v->n = v->cap = 0;
}

/* Two unescaped keys are the same when their bytes are. */
static bool same_raw_key(const char *text, const struct sl_view_node *a,
			 const struct sl_view_node *b)
{
	return a->key_len == b->key_len &&
	       memcmp(text + a->key_off, text + b->key_off, a->key_len) == 0;
}

/* Fills the root index; marks it unusable when it cannot be exact. */
static void build_root_index(struct sl_view *v, const char *text)
{
	uint32_t n = 0, end = v->nodes[0].end, mask, bits = 3;

	v->root_bits = 0xff;
	for (uint32_t i = 1; i < end; i = v->nodes[i].end) {
		/* escaped keys would need decoding to detect repeats, and
		 * slots hold 16-bit node indexes: otherwise scan */
		if (v->nodes[i].key_escaped || i >= UINT16_MAX)
			return;
		n++;
	}
	if (n > SL_VIEW_ROOT_SLOTS / 2)
		return;
	while ((1u << bits) < 2 * n)
		bits++;
	mask = (1u << bits) - 1;
	memset(v->root_slots, 0, sizeof(v->root_slots[0]) << bits);
	for (uint32_t i = 1; i < end; i = v->nodes[i].end) {
		const struct sl_view_node *nd = &v->nodes[i];
		uint32_t pos = nd->key_hash & mask;

		/* a repeated key takes its first slot: the last one wins */
		while (v->root_slots[pos]) {
			const struct sl_view_node *o =
			    &v->nodes[v->root_slots[pos] - 1];

			if (o->key_hash == nd->key_hash &&
			    same_raw_key(text, o, nd))
				break;
			pos = (pos + 1) & mask;
		}
		v->root_slots[pos] = (uint16_t)(i + 1);
	}
	v->root_bits = (uint8_t)bits;
}

static uint32_t find_root_key(const struct sl_view *v, const char *text,
			      const char *key, size_t key_len, uint32_t hash)
{
	uint32_t mask = (1u << v->root_bits) - 1, pos = hash & mask;

	while (v->root_slots[pos]) {
		uint32_t i = v->root_slots[pos] - 1u;
		const struct sl_view_node *nd = &v->nodes[i];

		if (nd->key_hash == hash &&
		    key_equal(text + nd->key_off, nd->key_len, false, key,
			      key_len))
			return i;
		pos = (pos + 1) & mask;
	}
	return UINT32_MAX;
}

uint32_t sl_view_find_key(const struct sl_view *v, const char *text,
			  uint32_t parent, const char *key, size_t key_len)
{
	uint32_t found = UINT32_MAX, i, end, hash;

	if (parent >= v->n || v->nodes[parent].type != SL_VAL_OBJECT)
		return UINT32_MAX;
	hash = sl_json_key_hash(key, key_len);
	if (parent == 0 && v->n > 8) {
		/* the index is a cache inside a view that is never const */
		struct sl_view *mv = (struct sl_view *)v;

		if (mv->root_bits == 0 && ++mv->root_lookups >= 2)
			build_root_index(mv, text);
		if (mv->root_bits && mv->root_bits != 0xff)
			return find_root_key(v, text, key, key_len, hash);
	}
	end = v->nodes[parent].end;
	/* every child is compared: with repeated keys the last one wins */
	for (i = parent + 1; i < end; i = v->nodes[i].end) {
		const struct sl_view_node *nd = &v->nodes[i];

		if (nd->key_hash == hash &&
		    key_equal(text + nd->key_off, nd->key_len, nd->key_escaped,
			      key, key_len))
			found = i;
	}
	return found;
}

uint32_t sl_view_find_index(const struct sl_view *v, uint32_t parent,
			    uint32_t idx)
{
	uint32_t i, end;

	if (parent >= v->n || v->nodes[parent].type != SL_VAL_ARRAY)
		return UINT32_MAX;
	end = v->nodes[parent].end;
	for (i = parent + 1; i < end; i = v->nodes[i].end)
		if (v->nodes[i].index == idx)
			return i;
	return UINT32_MAX;
}

int sl_json_prepare_object(const char *text, size_t len, struct sl_buf *scratch,
			   struct sl_view *view, const char **body,
			   size_t *body_len, long *repaired)
{
	long n = 0;
	int rc;

	if (!sl_utf8_valid(text, len)) {
		sl_buf_reset(scratch);
		n = sl_utf8_repair(scratch, text, len);
		if (n < 0)
			return (int)n;
		text = scratch->data;
		len = scratch->len;
	}
	rc = sl_view_build(view, text, len);
	if (rc < 0)
		return rc;
	*body = text;
	*body_len = len;
	if (repaired)
		*repaired = n;
	return 0;
}
