/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_json.c - JSON string escaping and unescaping, and the record view:
 * one scan that records the byte span of every value of an object. Nothing here
 * builds a DOM or re-serialises a document. UTF-8 checking is in sl_utf8.c.
 */
#include "sl_json.h"

#include <stdlib.h>
#include <string.h>
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

#ifdef __SSE2__
/* Input handed to escape_quote_blocks at a time: bounds the room it asks. */
#define QUOTE_BLOCKS_MAX 4096

/*
 * Escape-dense text (a JSON record escaped into a JSON string: every Loki
 * line) has a quote every few bytes, and restarting the plain-run scan at
 * each one cost more than the copying. Here a 16-byte block whose only
 * unsafe bytes are '"' and '\\' is done in one pass: each segment before an
 * escape is one 16-byte store from a zero-padded copy of the block, then
 * the two escape bytes. The stores run up to 16 bytes past what they
 * mean, so the caller guarantees 2 * n + 16 bytes of room at *out. Stops
 * at a block with a control or non-ASCII byte, or fewer than 16 bytes
 * left; returns the input bytes done, *out advanced past their output.
 */
static inline size_t escape_quote_blocks(const unsigned char *p, size_t n,
					 char **out)
{
	unsigned char tmp[32] = {0};
	char *o = *out;
	size_t i = 0;

	while (i + 16 <= n) {
		__m128i v =
		    _mm_loadu_si128((const __m128i *)(const void *)(p + i));
		unsigned q = (unsigned)_mm_movemask_epi8(
		    _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
				 _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
		unsigned done = 0;

		/* signed: below ' ' is a control byte or one from 0x80 */
		if (_mm_movemask_epi8(_mm_cmplt_epi8(v, _mm_set1_epi8(' '))))
			break;
		if (q) {
			_mm_storeu_si128((__m128i *)(void *)tmp, v);
			do {
				unsigned j = (unsigned)__builtin_ctz(q);

				_mm_storeu_si128(
				    (__m128i *)(void *)o,
				    _mm_loadu_si128(
					(const __m128i *)(const void *)(tmp +
									done)));
				o += j - done;
				o[0] = '\\';
				o[1] = (char)tmp[j];
				o += 2;
				done = j + 1;
				q &= q - 1;
			} while (q);
			v = _mm_loadu_si128(
			    (const __m128i *)(const void *)(tmp + done));
		}
		_mm_storeu_si128((__m128i *)(void *)o, v);
		o += 16 - done;
		i += 16;
	}
	*out = o;
	return i;
}
#endif

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
#ifdef __SSE2__
		if ((c == '"' || c == '\\') && end - p >= 32) {
			size_t n = (size_t)(end - p);

			if (n > QUOTE_BLOCKS_MAX)
				n = QUOTE_BLOCKS_MAX;
			if ((size_t)(lim - o) < 2 * n + 16 + 1) {
				b->len = (size_t)(o - b->data);
				if (sl_buf_reserve(b, 2 * n + 16 + 1) < 0)
					goto nomem;
				o = b->data + b->len;
				lim = b->data + b->cap - 1;
			}
			k = escape_quote_blocks(p, n, &o);
			p += k;
			if (k)
				continue;
		}
#endif
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
 * The view is built by a strict RFC 8259 scanner of our own, not by a
 * callback parser: a collector parses every line it reads, and yajl's
 * byte-at-a-time lexer with a callback per token cost about 9k
 * instructions for a 370-byte log line, three quarters of the whole
 * tail -> parser -> null pipeline. This scanner only finds where each value
 * starts and ends (it decodes nothing but escaped keys, for their hash),
 * runs strings 16 bytes a step, and needs no allocation but the node array.
 * What it accepts: one object, surrounded by JSON white space (space, \t,
 * \n, \r) only; strings whose bytes are all at or above 0x20 with valid
 * escapes (bytes from 0x80 are not checked here: sl_utf8.c does that, or
 * repairs them, before a record is built); numbers in JSON's grammar;
 * containers nested at most SL_JSON_MAX_DEPTH deep. tests/unit's
 * JSONTestSuite run and fuzz_record_view hold it to that.
 */
struct vparse {
	struct sl_view *v;
	const unsigned char *t;
	uint32_t len;
	uint32_t pos;
	uint32_t depth;			   /* open containers */
	uint32_t open[SL_JSON_MAX_DEPTH];  /* their node indexes */
	uint32_t count[SL_JSON_MAX_DEPTH]; /* their children so far */
	bool object[SL_JSON_MAX_DEPTH];	   /* an object, not an array */
};

static inline bool json_space(unsigned char c)
{
	return c == ' ' || c == '\n' || c == '\t' || c == '\r';
}

static inline uint32_t skip_space(const struct vparse *p, uint32_t i)
{
	/* one compare for the usual case, a token right here: every JSON
	 * space is at or below ' ' */
	while (i < p->len && p->t[i] <= ' ' && json_space(p->t[i]))
		i++;
	return i;
}

/*
 * Offset of the first byte at or after i that ends a run of plain string
 * bytes: '"', '\\' or a control byte (below 0x20), or len.
 */
static inline uint32_t string_run(const unsigned char *t, uint32_t i,
				  uint32_t len)
{
#ifdef __SSE2__
	const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
	const __m128i ctl = _mm_set1_epi8(0x1f);

	while (i + 16 <= len) {
		__m128i v =
		    _mm_loadu_si128((const __m128i *)(const void *)(t + i));
		/* min(v, 0x1f) == v exactly for the bytes below 0x20 */
		__m128i u =
		    _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote),
					      _mm_cmpeq_epi8(v, bslash)),
				 _mm_cmpeq_epi8(_mm_min_epu8(v, ctl), v));
		unsigned m = (unsigned)_mm_movemask_epi8(u);

		if (m)
			return i + (uint32_t)__builtin_ctz(m);
		i += 16;
	}
#endif
	while (i < len && t[i] != '"' && t[i] != '\\' && t[i] >= 0x20)
		i++;
	return i;
}

static inline bool is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') ||
	       ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/*
 * Scans the string whose opening quote is at p->pos; leaves p->pos one
 * past the closing quote. *escaped: it holds a backslash.
 */
static inline __attribute__((always_inline)) int scan_string(struct vparse *p,
							     bool *escaped)
{
	const unsigned char *t = p->t;
	uint32_t i = p->pos + 1, len = p->len;

	*escaped = false;
	for (;;) {
		i = string_run(t, i, len);
		if (i >= len || t[i] < 0x20)
			return -SL_EPARSE;
		if (t[i] == '"')
			break;
		/* a backslash: one of JSON's escapes */
		*escaped = true;
		if (i + 1 >= len)
			return -SL_EPARSE;
		switch (t[i + 1]) {
		case '"':
		case '\\':
		case '/':
		case 'b':
		case 'f':
		case 'n':
		case 'r':
		case 't':
			i += 2;
			break;
		case 'u':
			if (i + 6 > len || !is_hex(t[i + 2]) ||
			    !is_hex(t[i + 3]) || !is_hex(t[i + 4]) ||
			    !is_hex(t[i + 5]))
				return -SL_EPARSE;
			i += 6;
			break;
		default:
			return -SL_EPARSE;
		}
	}
	p->pos = i + 1;
	return 0;
}

static inline uint32_t skip_digits(const unsigned char *t, uint32_t i,
				   uint32_t len)
{
	while (i < len && t[i] >= '0' && t[i] <= '9')
		i++;
	return i;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? at p->pos. */
static int scan_number(struct vparse *p)
{
	const unsigned char *t = p->t;
	uint32_t i = p->pos, len = p->len, d;

	if (t[i] == '-')
		i++;
	if (i >= len)
		return -SL_EPARSE;
	if (t[i] == '0')
		i++;
	else if (t[i] >= '1' && t[i] <= '9')
		i = skip_digits(t, i + 1, len);
	else
		return -SL_EPARSE;
	if (i < len && t[i] == '.') {
		d = skip_digits(t, i + 1, len);
		if (d == i + 1)
			return -SL_EPARSE;
		i = d;
	}
	if (i < len && (t[i] | 0x20) == 'e') {
		i++;
		if (i < len && (t[i] == '+' || t[i] == '-'))
			i++;
		d = skip_digits(t, i, len);
		if (d == i)
			return -SL_EPARSE;
		i = d;
	}
	p->pos = i;
	return 0;
}

static int scan_word(struct vparse *p, const char *word, size_t n)
{
	if (p->len - p->pos < n || memcmp(p->t + p->pos, word, n) != 0)
		return -SL_EPARSE;
	p->pos += (uint32_t)n;
	return 0;
}

/* The hash of an escaped key: of its decoded bytes, as lookups hash. */
static int escaped_key_hash(const char *raw, size_t len, uint32_t *hash)
{
	char small[256];
	struct sl_buf big = {0};
	int rc;

	if (len <= sizeof(small)) {
		/* unescaping never grows a string */
		size_t i = 0, o = 0;

		while (i < len) {
			size_t used;
			int k;

			if (raw[i] != '\\') {
				small[o++] = raw[i++];
				continue;
			}
			k = unescape_one(raw + i, len - i, &used, small + o);
			if (k < 0)
				return -SL_EPARSE;
			o += (size_t)k;
			i += used;
		}
		*hash = sl_json_key_hash(small, o);
		return 0;
	}
	rc = sl_json_unescape_append(&big, raw, len);
	if (rc == 0)
		*hash = sl_json_key_hash(big.data, big.len);
	sl_buf_destroy(&big);
	return rc;
}

/*
 * Appends the node of the value at p->pos, a child of the innermost open
 * container. A member's key fields are filled by the caller.
 */
static inline struct sl_view_node *add_node(struct vparse *p, uint8_t type,
					    uint32_t off)
{
	struct sl_view *v = p->v;
	struct sl_view_node *nd;

	if (SL_UNLIKELY(v->n == v->cap)) {
		uint32_t cap = v->cap ? v->cap * 2 : 64;
		struct sl_view_node *grown;

		if (cap < v->cap ||
		    !(grown = realloc(v->nodes, (size_t)cap * sizeof(*grown))))
			return NULL;
		v->nodes = grown;
		v->cap = cap;
	}
	nd = &v->nodes[v->n];
	nd->val_off = nd->key_off = nd->member_off = off;
	nd->key_len = 0;
	nd->key_escaped = 0;
	nd->key_hash = 0;
	nd->type = type;
	nd->end = v->n + 1;
	if (p->depth) {
		nd->parent = p->open[p->depth - 1];
		nd->index = p->count[p->depth - 1]++;
	} else {
		nd->parent = UINT32_MAX;
		nd->index = 0;
	}
	v->n++;
	return nd;
}

/*
 * The value at p->pos (white space already skipped) becomes node `*out`;
 * a container is left open. Scalars are scanned whole.
 */
static int scan_value(struct vparse *p, uint32_t *out)
{
	struct sl_view_node *nd;
	uint32_t start = p->pos;
	uint8_t type;
	bool escaped;
	int rc;

	if (start >= p->len)
		return -SL_EPARSE;
	switch (p->t[start]) {
	case '{':
	case '[':
		if (p->depth >= SL_JSON_MAX_DEPTH)
			return -SL_ETOOBIG;
		type = p->t[start] == '{' ? SL_VAL_OBJECT : SL_VAL_ARRAY;
		if (!(nd = add_node(p, type, start)))
			return -SL_ENOMEM;
		p->open[p->depth] = p->v->n - 1;
		p->count[p->depth] = 0;
		p->object[p->depth] = type == SL_VAL_OBJECT;
		p->depth++;
		p->pos++;
		*out = p->v->n - 1;
		return 0;
	case '"':
		type = SL_VAL_STRING;
		rc = scan_string(p, &escaped);
		break;
	case 't':
		type = SL_VAL_BOOL;
		rc = scan_word(p, "true", 4);
		break;
	case 'f':
		type = SL_VAL_BOOL;
		rc = scan_word(p, "false", 5);
		break;
	case 'n':
		type = SL_VAL_NULL;
		rc = scan_word(p, "null", 4);
		break;
	default:
		type = SL_VAL_NUMBER;
		rc = scan_number(p);
		break;
	}
	if (rc < 0)
		return rc;
	if (!(nd = add_node(p, type, start)))
		return -SL_ENOMEM;
	nd->val_len = p->pos - start;
	*out = p->v->n - 1;
	return 0;
}

/* Closes the innermost container at p->pos (its closing bracket). */
static void close_container(struct vparse *p)
{
	struct sl_view_node *nd = &p->v->nodes[p->open[--p->depth]];

	p->pos++;
	nd->val_len = p->pos - nd->val_off;
	nd->end = p->v->n;
}

/* An object member at p->pos: its key, the colon and its value's start. */
static int scan_member(struct vparse *p)
{
	uint32_t key_at = p->pos, key_len, after, node, hash = 0;
	struct sl_view_node *nd;
	bool escaped;
	int rc;

	if (key_at >= p->len || p->t[key_at] != '"')
		return -SL_EPARSE;
	if ((rc = scan_string(p, &escaped)) < 0)
		return rc;
	key_len = p->pos - key_at - 2;
	if (!escaped)
		hash =
		    sl_json_key_hash((const char *)p->t + key_at + 1, key_len);
	else if ((rc = escaped_key_hash((const char *)p->t + key_at + 1,
					key_len, &hash)) < 0)
		return rc;
	after = skip_space(p, p->pos);
	if (after >= p->len || p->t[after] != ':')
		return -SL_EPARSE;
	p->pos = skip_space(p, after + 1);
	if ((rc = scan_value(p, &node)) < 0)
		return rc;
	nd = &p->v->nodes[node];
	nd->member_off = key_at;
	nd->key_off = key_at + 1;
	nd->key_len = key_len;
	nd->key_escaped = escaped;
	nd->key_hash = hash;
	return 0;
}

/*
 * The document: one object. Each step looks at the innermost open
 * container: its closing bracket, or (after a comma unless it was just
 * opened) one more member or item.
 */
static int scan_document(struct vparse *p)
{
	bool first = true; /* the innermost container was just opened */
	uint32_t node;
	int rc;

	p->pos = skip_space(p, 0);
	if (p->pos >= p->len || p->t[p->pos] != '{')
		return -SL_EPARSE;
	if ((rc = scan_value(p, &node)) < 0)
		return rc;
	while (p->depth) {
		uint32_t depth = p->depth;
		bool object = p->object[depth - 1];
		unsigned char c;

		p->pos = skip_space(p, p->pos);
		if (p->pos >= p->len)
			return -SL_EPARSE;
		c = p->t[p->pos];
		if (c == (object ? '}' : ']')) {
			close_container(p);
			first = false;
			continue;
		}
		if (!first) {
			if (c != ',')
				return -SL_EPARSE;
			p->pos = skip_space(p, p->pos + 1);
		}
		rc = object ? scan_member(p) : scan_value(p, &node);
		if (rc < 0)
			return rc;
		first = p->depth > depth;
	}
	return skip_space(p, p->pos) == p->len ? 0 : -SL_EPARSE;
}

int sl_view_build(struct sl_view *v, const char *text, size_t len)
{
	struct vparse p;
	int rc;

	v->n = 0;
	sl_view_reset_index(v);
	/* the margin keeps every `i + 16` of the scan from wrapping */
	if (len > UINT32_MAX - 64)
		return -SL_ETOOBIG;
	p.v = v;
	p.t = (const unsigned char *)text;
	p.len = (uint32_t)len;
	p.pos = 0;
	p.depth = 0;
	rc = scan_document(&p);
	if (rc < 0)
		v->n = 0;
	return rc;
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
