/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_format.c - record to output text (see sl_format.h). The JSON formats
 * only copy and splice bytes; the print style (Fluent Bit's msgpack view of
 * a record, used by stdout's default and file's csv/ltsv/template) walks the
 * body once with yajl callbacks. Depends on nothing but sl_buf and yajl, so
 * that outputs and their tests can use it without the rest of the core.
 */
#include "sl_format.h"
#include "sl_time.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yajl/yajl_parse.h>

/* Deeper than the record model allows (64), so it never cuts a record. */
#define PRINT_MAX_DEPTH 128

int sl_date_format_parse(const char *s, enum sl_date_format *out)
{
	static const struct {
		const char *name;
		enum sl_date_format f;
	} names[] = {
	    {"double", SL_DATE_DOUBLE},
	    {"epoch", SL_DATE_EPOCH},
	    {"epoch_ms", SL_DATE_EPOCH_MS},
	    {"epoch_millis", SL_DATE_EPOCH_MS},
	    {"epoch_milliseconds", SL_DATE_EPOCH_MS},
	    {"iso8601", SL_DATE_ISO8601},
	    {"java_sql_timestamp", SL_DATE_JAVA_SQL},
	};

	for (size_t i = 0; s && i < SL_ARRAY_LEN(names); i++) {
		if (strcasecmp(s, names[i].name) == 0) {
			*out = names[i].f;
			return 0;
		}
	}
	return -SL_EINVAL;
}

int sl_json_format_parse(const char *s, enum sl_json_format *out)
{
	if (!s)
		return -SL_EINVAL;
	if (strcasecmp(s, "json") == 0)
		*out = SL_JSON_ARRAY;
	else if (strcasecmp(s, "json_lines") == 0)
		*out = SL_JSON_LINES;
	else if (strcasecmp(s, "json_stream") == 0)
		*out = SL_JSON_STREAM;
	else
		return -SL_EINVAL;
	return 0;
}

int sl_json_opts_init(struct sl_json_opts *opts, enum sl_json_format format,
		      const char *date_key, const char *date_format,
		      const char **what)
{
	opts->format = format;
	opts->date_format = SL_DATE_DOUBLE;
	opts->date_key = date_key ? date_key : "date";
	/* As Fluent Bit: a false boolean as the key turns the date off. */
	if (date_key && (strcasecmp(date_key, "off") == 0 ||
			 strcasecmp(date_key, "false") == 0 ||
			 strcasecmp(date_key, "no") == 0))
		opts->date_key = NULL;
	if (date_format &&
	    sl_date_format_parse(date_format, &opts->date_format) < 0) {
		if (what)
			*what = "json_date_format";
		return -SL_EINVAL;
	}
	return 0;
}

/* Splits into seconds and 0..999999999 nanoseconds (floor, for < 1970). */
static void split_ts(int64_t ts_ns, int64_t *sec, int64_t *nsec)
{
	*sec = ts_ns / SL_NS_PER_SEC;
	*nsec = ts_ns % SL_NS_PER_SEC;
	if (*nsec < 0) {
		*nsec += SL_NS_PER_SEC;
		*sec -= 1;
	}
}

static int append_fmt(struct sl_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int append_fmt(struct sl_buf *b, const char *fmt, ...)
{
	char tmp[96];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -SL_EINVAL; /* callers only format short numbers */
	return sl_buf_append(b, tmp, (size_t)n);
}

/* ---- dates without printf ------------------------------------------------
 * Every output that splices a date formats one per record, and printf of a
 * double was most of their cost (~4k of ~5k instructions a record). These
 * write the same bytes by hand; test_format compares them with snprintf
 * over many timestamps.
 */

/* Writes v in decimal at the end of `p` (no NUL); returns the length. */
static size_t put_u64(char *p, uint64_t v)
{
	char tmp[20];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		p[i] = tmp[n - 1 - i];
	return n;
}

static size_t put_i64(char *p, int64_t v)
{
	if (v >= 0)
		return put_u64(p, (uint64_t)v);
	p[0] = '-';
	return 1 + put_u64(p + 1, -(uint64_t)v);
}

/* "00" to "99": two digits per division. */
static const char digits2[201] = "0001020304050607080910111213141516171819"
				 "2021222324252627282930313233343536373839"
				 "4041424344454647484950515253545556575859"
				 "6061626364656667686970717273747576777879"
				 "8081828384858687888990919293949596979899";

/* Exactly `width` digits of v (zero-padded, v < 10^width). */
static void put_fixed(char *p, uint64_t v, int width)
{
	int i = width;

	while (i >= 2) {
		i -= 2;
		memcpy(p + i, digits2 + 2 * (v % 100), 2);
		v /= 100;
	}
	if (i)
		p[0] = (char)('0' + v % 10);
}

/* 5^k, k <= 27 (the largest power of five under 2^64). */
static const uint64_t pow5[28] = {
    1ull,
    5ull,
    25ull,
    125ull,
    625ull,
    3125ull,
    15625ull,
    78125ull,
    390625ull,
    1953125ull,
    9765625ull,
    48828125ull,
    244140625ull,
    1220703125ull,
    6103515625ull,
    30517578125ull,
    152587890625ull,
    762939453125ull,
    3814697265625ull,
    19073486328125ull,
    95367431640625ull,
    476837158203125ull,
    2384185791015625ull,
    11920928955078125ull,
    59604644775390625ull,
    298023223876953125ull,
    1490116119384765625ull,
    7450580596923828125ull,
};

#define DIGITS16_MIN 1000000000000000ull  /* 10^15 */
#define DIGITS16_END 10000000000000000ull /* 10^16 */

/* m * p as 128 bits, without __int128 (not ISO C, absent on 32 bits). */
static void mul_64x64(uint64_t m, uint64_t p, uint64_t *hi, uint64_t *lo)
{
	uint64_t m0 = m & 0xffffffffu, m1 = m >> 32;
	uint64_t p0 = p & 0xffffffffu, p1 = p >> 32;
	uint64_t w0 = m0 * p0, w1 = m1 * p0, w2 = m0 * p1, w3 = m1 * p1;
	uint64_t mid = (w0 >> 32) + (w1 & 0xffffffffu) + (w2 & 0xffffffffu);

	*lo = (mid << 32) | (w0 & 0xffffffffu);
	*hi = w3 + (w1 >> 32) + (w2 >> 32) + (mid >> 32);
}

/* Bit i (0..127) of hi:lo. */
static unsigned bit128(uint64_t hi, uint64_t lo, int i)
{
	return (unsigned)((i >= 64 ? hi >> (i - 64) : lo >> i) & 1);
}

/* Whether bits 0..i-1 of hi:lo are all zero (i <= 127). */
static bool low_zero128(uint64_t hi, uint64_t lo, int i)
{
	if (i <= 0)
		return true;
	if (i < 64)
		return (lo & ((1ull << i) - 1)) == 0;
	return lo == 0 && (i == 64 || (hi & ((1ull << (i - 64)) - 1)) == 0);
}

/*
 * floor(m * 2^e * 10^k), and whether the rest is below, at or above one
 * half (-1, 0, 1), exactly: m * 10^k * 2^e = m * 5^k * 2^(e + k), and
 * m < 2^53 times 5^k < 2^63 fits 128 bits. The quotient must fit 64 bits.
 */
static uint64_t scale10(uint64_t m, int e, int k, int *rest)
{
	uint64_t hi, lo;
	int sh = -(e + k);

	mul_64x64(m, pow5[k], &hi, &lo);
	*rest = -1;
	if (sh <= 0) /* an integer: nothing left */
		return -sh >= 64 ? 0 : lo << -sh;
	if (sh >= 128)
		return 0;
	if (!bit128(hi, lo, sh - 1))
		*rest = -1;
	else
		*rest = low_zero128(hi, lo, sh - 1) ? 0 : 1;
	if (sh >= 64)
		return hi >> (sh - 64);
	return (lo >> sh) | (hi << (64 - sh));
}

/*
 * printf's "%.16g" of a finite, non-integral double whose magnitude is
 * below 2^63 and above 2^-30 (every time an int64 of nanoseconds gives);
 * glibc rounds the exact binary value to nearest, ties to even. Returns
 * the length written to p (at most 32), or 0 outside that domain.
 */
static size_t put_g16(char *p, double d)
{
	char dig[16];
	uint64_t bits, m, q;
	int e, k, rest, x, last;
	size_t n = 0;

	memcpy(&bits, &d, sizeof(bits));
	if (((bits >> 52) & 0x7ff) == 0)
		return 0; /* zero or subnormal */
	m = (bits & ((1ull << 52) - 1)) | (1ull << 52);
	e = (int)((bits >> 52) & 0x7ff) - 1075;
	if (e >= 11 || e < -30 - 52)
		return 0;
	if (bits >> 63)
		p[n++] = '-';
	/* k such that 10^15 <= |d| * 10^k < 10^16 (x = 15 - k) */
	k = 15 - (52 + e) * 30103 / 100000;
	if (k < 0)
		k = 0;
	/* the estimate is off by one at most: one product most of the time */
	for (;;) {
		q = scale10(m, e, k, &rest);
		if (q < DIGITS16_MIN && k < 27)
			k++;
		else if (q >= DIGITS16_END && k > 0)
			k--;
		else
			break;
	}
	if (q < DIGITS16_MIN || q >= DIGITS16_END)
		return 0;
	if (rest > 0 || (rest == 0 && (q & 1)))
		q++;
	if (q == DIGITS16_END) {
		q = DIGITS16_MIN;
		k--;
	}
	x = 15 - k;
	put_fixed(dig, q, 16);
	for (last = 15; last > 0 && dig[last] == '0'; last--)
		;
	if (x < -4 || x >= 16) {
		p[n++] = dig[0];
		if (last > 0) {
			p[n++] = '.';
			memcpy(p + n, dig + 1, (size_t)last);
			n += (size_t)last;
		}
		p[n++] = 'e';
		p[n++] = x < 0 ? '-' : '+';
		if (x < 0)
			x = -x;
		if (x < 10)
			p[n++] = '0';
		return n + put_u64(p + n, (uint64_t)x);
	}
	if (x >= 0) {
		memcpy(p + n, dig, (size_t)x + 1);
		n += (size_t)x + 1;
		if (last > x) {
			p[n++] = '.';
			memcpy(p + n, dig + x + 1, (size_t)(last - x));
			n += (size_t)(last - x);
		}
		return n;
	}
	p[n++] = '0';
	p[n++] = '.';
	for (int i = -1; i > x; i--)
		p[n++] = '0';
	memcpy(p + n, dig, (size_t)last + 1);
	return n + (size_t)last + 1;
}

/*
 * "YYYY-MM-DD?HH:MM:SS" of a UTC second into p (19 bytes), `sep` between
 * the date and the time: the proleptic Gregorian calendar from the day
 * count, in 400-year eras (as gmtime does). Seconds from int64
 * nanoseconds are years 1677 to 2262, so always four digits.
 */
static void put_datetime(char *p, int64_t sec, char sep)
{
	int64_t days = sec / 86400, sod = sec % 86400;
	int64_t y;
	int mon, day;

	if (sod < 0) {
		sod += 86400;
		days--;
	}
	sl_time_civil_from_days(days, &y, &mon, &day);
	put_fixed(p, (uint64_t)y, 4);
	p[4] = '-';
	put_fixed(p + 5, (uint64_t)mon, 2);
	p[7] = '-';
	put_fixed(p + 8, (uint64_t)day, 2);
	p[10] = sep;
	put_fixed(p + 11, (uint64_t)(sod / 3600), 2);
	p[13] = ':';
	put_fixed(p + 14, (uint64_t)(sod / 60 % 60), 2);
	p[16] = ':';
	put_fixed(p + 17, (uint64_t)(sod % 60), 2);
}

int sl_format_time_nsec(struct sl_buf *b, int64_t ts_ns)
{
	int64_t sec, nsec;
	char tmp[32];
	size_t n;

	split_ts(ts_ns, &sec, &nsec);
	n = put_i64(tmp, sec);
	tmp[n++] = '.';
	put_fixed(tmp + n, (uint64_t)nsec, 9);
	return sl_buf_append(b, tmp, n + 9);
}

int sl_format_time_f(struct sl_buf *b, int64_t ts_ns)
{
	int64_t sec, nsec;

	split_ts(ts_ns, &sec, &nsec);
	return append_fmt(b, "%f", (double)sec + (double)nsec / 1e9);
}

/*
 * ISO 8601 ("T", "Z") or java.sql.Timestamp (" ", no zone), UTC, quoted,
 * with 6 (as Fluent Bit: microseconds) or 9 fraction digits.
 */
static int append_datetime(struct sl_buf *b, int64_t ts_ns, bool iso,
			   int digits)
{
	int64_t sec, nsec;
	char tmp[40];
	size_t n;

	split_ts(ts_ns, &sec, &nsec);
	tmp[0] = '"';
	put_datetime(tmp + 1, sec, iso ? 'T' : ' ');
	tmp[20] = '.';
	put_fixed(tmp + 21, (uint64_t)(digits == 9 ? nsec : nsec / 1000),
		  digits);
	n = 21 + (size_t)digits;
	if (iso)
		tmp[n++] = 'Z';
	tmp[n++] = '"';
	return sl_buf_append(b, tmp, n);
}

int sl_format_iso8601_ns(struct sl_buf *b, int64_t ts_ns)
{
	return append_datetime(b, ts_ns, true, 9);
}

int sl_format_date(struct sl_buf *b, int64_t ts_ns, enum sl_date_format f)
{
	int64_t sec, nsec;
	char tmp[40];
	size_t n;
	double d;

	split_ts(ts_ns, &sec, &nsec);
	switch (f) {
	case SL_DATE_DOUBLE:
		d = (double)sec + (double)nsec / 1e9;
		/* Fluent Bit's JSON writer: integral doubles keep one decimal
		 * ("%.1f"), others are "%.16g" */
		if (d == (double)(long long)d) {
			n = put_i64(tmp, (long long)d);
			tmp[n++] = '.';
			tmp[n++] = '0';
		} else {
			n = put_g16(tmp, d);
		}
		if (n == 0) /* outside put_g16's domain: not from int64 ns */
			return append_fmt(b, "%.16g", d);
		return sl_buf_append(b, tmp, n);
	case SL_DATE_EPOCH:
		return sl_buf_append(b, tmp, put_i64(tmp, sec));
	case SL_DATE_EPOCH_MS:
		return sl_buf_append(b, tmp,
				     put_i64(tmp, sec * 1000 + nsec / 1000000));
	case SL_DATE_ISO8601:
		return append_datetime(b, ts_ns, true, 6);
	case SL_DATE_JAVA_SQL:
		return append_datetime(b, ts_ns, false, 6);
	}
	return -SL_EINVAL;
}

/* A config string as a JSON string (keys come from configs, not records). */
static int append_json_key(struct sl_buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	char esc[6] = {'\\', 'u', '0', '0', 0, 0};
	size_t run = 0, i;

	if (sl_buf_append(b, "\"", 1) < 0)
		return -SL_ENOMEM;
	for (i = 0; s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		if (sl_buf_append(b, s + run, i - run) < 0)
			return -SL_ENOMEM;
		if (c == '"' || c == '\\') {
			esc[1] = (char)c;
			if (sl_buf_append(b, esc, 2) < 0)
				return -SL_ENOMEM;
			esc[1] = 'u';
		} else {
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			if (sl_buf_append(b, esc, 6) < 0)
				return -SL_ENOMEM;
		}
		run = i + 1;
	}
	if (sl_buf_append(b, s + run, i - run) < 0)
		return -SL_ENOMEM;
	return sl_buf_append(b, "\"", 1);
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int sl_format_json_object(struct sl_buf *b, const struct sl_json_opts *o,
			  int64_t ts_ns, const char *body, size_t len)
{
	size_t open = 0, next;
	int rc;

	while (open < len && is_ws(body[open]))
		open++;
	if (!o->date_key || open == len || body[open] != '{')
		return sl_buf_append(b, body, len);
	next = open + 1;
	while (next < len && is_ws(body[next]))
		next++;
	/* Reserve once (the splice adds ~40 bytes to the body), then plain
	 * stores: this runs once per record of every JSON output. */
	if (sl_buf_reserve(b, len + strlen(o->date_key) + 48) < 0)
		return -SL_ENOMEM;
	b->data[b->len++] = '{';
	if ((rc = append_json_key(b, o->date_key)) < 0 ||
	    (rc = sl_buf_append(b, ":", 1)) < 0 ||
	    (rc = sl_format_date(b, ts_ns, o->date_format)) < 0)
		return rc;
	/* {"date":1.5,  +  the body after its '{' ("}" alone: no comma). */
	if (sl_buf_reserve(b, 1 + len - next) < 0)
		return -SL_ENOMEM;
	if (next < len && body[next] != '}')
		b->data[b->len++] = ',';
	memcpy(b->data + b->len, body + next, len - next);
	b->len += len - next;
	b->data[b->len] = '\0';
	return 0;
}

int sl_format_json_begin(struct sl_buf *b, const struct sl_json_opts *o)
{
	return o->format == SL_JSON_ARRAY ? sl_buf_append(b, "[", 1) : 0;
}

int sl_format_json_record(struct sl_buf *b, const struct sl_json_opts *o,
			  size_t index, int64_t ts_ns, const char *body,
			  size_t len)
{
	int rc;

	if (o->format == SL_JSON_ARRAY && index > 0 &&
	    sl_buf_append(b, ",", 1) < 0)
		return -SL_ENOMEM;
	if ((rc = sl_format_json_object(b, o, ts_ns, body, len)) < 0)
		return rc;
	if (o->format == SL_JSON_LINES)
		return sl_buf_append(b, "\n", 1);
	return 0;
}

int sl_format_json_end(struct sl_buf *b, const struct sl_json_opts *o)
{
	return o->format == SL_JSON_ARRAY ? sl_buf_append(b, "]", 1) : 0;
}

int sl_format_tag_line(struct sl_buf *b, const char *tag, size_t tag_len,
		       int64_t ts_ns, const char *body, size_t len)
{
	if (sl_buf_reserve(b, tag_len + len + 40) < 0 ||
	    sl_buf_append(b, tag, tag_len) < 0 ||
	    sl_buf_append(b, ": [", 3) < 0 ||
	    sl_format_time_nsec(b, ts_ns) < 0 ||
	    sl_buf_append(b, ", ", 2) < 0 || sl_buf_append(b, body, len) < 0 ||
	    sl_buf_append(b, "]\n", 2) < 0)
		return -SL_ENOMEM;
	return 0;
}

/* ---- print style ----------------------------------------------------------
 */

/*
 * One walk of a JSON text. Print mode renders everything into `out`.
 * Collect mode (fields != NULL) renders each top-level value on its own
 * and records the spans; the root object's braces, separators and keys
 * are not printed then.
 */
struct walk {
	struct sl_buf *out;
	struct sl_fields *fields;
	int depth;
	int oom;
	unsigned char first[PRINT_MAX_DEPTH + 1];
	unsigned char is_map[PRINT_MAX_DEPTH + 1];
};

/* The root object's own braces, in collect mode. */
static bool collecting_root(const struct walk *w)
{
	return w->fields && w->depth == 0;
}

static int put(struct walk *w, const void *s, size_t n)
{
	if (sl_buf_append(w->out, s, n) < 0) {
		w->oom = 1;
		return 0;
	}
	return 1;
}

/* msgpack-c's string print: '"' escaped, non-printable bytes as \xNN. */
static int put_print_string(struct walk *w, const unsigned char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char esc[4] = {'\\', 'x', 0, 0};
	size_t run = 0, i;

	if (!put(w, "\"", 1))
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"')
			continue;
		if (!put(w, s + run, i - run))
			return 0;
		if (s[i] == '"') {
			if (!put(w, "\\\"", 2))
				return 0;
		} else {
			esc[2] = hex[s[i] >> 4];
			esc[3] = hex[s[i] & 15];
			if (!put(w, esc, 4))
				return 0;
		}
		run = i + 1;
	}
	return put(w, s + run, n - run) && put(w, "\"", 1);
}

static struct sl_field *cur_field(struct walk *w)
{
	return &w->fields->v[w->fields->n - 1];
}

/* Before any value: the array separator. Collect mode takes objects only. */
static int before_value(struct walk *w, bool is_map)
{
	if (w->depth == 0)
		return !w->fields || is_map;
	if (w->is_map[w->depth])
		return 1;
	if (!w->first[w->depth] && !put(w, ", ", 2))
		return 0;
	w->first[w->depth] = 0;
	return 1;
}

/* After a value that ended at the current depth. */
static void after_value(struct walk *w)
{
	struct sl_field *f;

	if (!w->fields || w->depth != 1)
		return;
	f = cur_field(w);
	f->print_len = w->out->len - f->print_off;
	f->raw_off = f->print_off;
	f->raw_len = f->print_len;
}

static int cb_null(void *ctx)
{
	struct walk *w = ctx;

	if (!before_value(w, false) || !put(w, "nil", 3))
		return 0;
	after_value(w);
	return 1;
}

static int cb_bool(void *ctx, int v)
{
	struct walk *w = ctx;

	if (!before_value(w, false) || !put(w, v ? "true" : "false", v ? 4 : 5))
		return 0;
	after_value(w);
	return 1;
}

static int print_number(struct walk *w, const char *s, size_t n)
{
	char tmp[64], out[400];
	char *end;
	int len;

	if (n >= sizeof(tmp) || memchr(s, '.', n) || memchr(s, 'e', n) ||
	    memchr(s, 'E', n))
		goto as_double;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	errno = 0;
	if (tmp[0] == '-') {
		long long v = strtoll(tmp, &end, 10);

		if (errno || *end)
			goto as_double;
		/* msgpack stores -0 as the positive integer 0. */
		len = snprintf(out, sizeof(out), "%lld", v);
	} else {
		unsigned long long v = strtoull(tmp, &end, 10);

		if (errno || *end)
			goto as_double;
		len = snprintf(out, sizeof(out), "%llu", v);
	}
	return put(w, out, (size_t)len);
as_double:
	/* A number may be longer than tmp only through digits: truncating
	 * a huge mantissa still gives an honest "%f" of a huge value. */
	if (n >= sizeof(tmp))
		n = sizeof(tmp) - 1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	len = snprintf(out, sizeof(out), "%f", strtod(tmp, NULL));
	if (len < 0 || (size_t)len >= sizeof(out))
		len = snprintf(out, sizeof(out), "%g", strtod(tmp, NULL));
	return put(w, out, (size_t)len);
}

static int cb_number(void *ctx, const char *s, size_t n)
{
	struct walk *w = ctx;

	if (!before_value(w, false) || !print_number(w, s, n))
		return 0;
	after_value(w);
	return 1;
}

static int cb_string(void *ctx, const unsigned char *s, size_t n)
{
	struct walk *w = ctx;
	struct sl_field *f;

	if (!before_value(w, false) || !put_print_string(w, s, n))
		return 0;
	after_value(w);
	if (w->fields && w->depth == 1) {
		f = cur_field(w);
		f->raw_off = w->out->len;
		f->raw_len = n;
		if (!put(w, s, n))
			return 0;
	}
	return 1;
}

static int cb_start_map(void *ctx)
{
	struct walk *w = ctx;

	if (!before_value(w, true) || w->depth >= PRINT_MAX_DEPTH)
		return 0;
	if (!collecting_root(w) && !put(w, "{", 1))
		return 0;
	w->depth++;
	w->first[w->depth] = 1;
	w->is_map[w->depth] = 1;
	return 1;
}

static int cb_map_key(void *ctx, const unsigned char *s, size_t n)
{
	struct walk *w = ctx;
	struct sl_fields *fs = w->fields;
	struct sl_field *f;

	if (fs && w->depth == 1) {
		if (fs->n == fs->cap) {
			size_t cap = fs->cap ? fs->cap * 2 : 16;
			struct sl_field *v = realloc(fs->v, cap * sizeof(*v));

			if (!v) {
				w->oom = 1;
				return 0;
			}
			fs->v = v;
			fs->cap = cap;
		}
		f = &fs->v[fs->n++];
		memset(f, 0, sizeof(*f));
		f->key_off = w->out->len;
		f->key_len = n;
		if (!put(w, s, n))
			return 0;
		f->print_off = w->out->len;
		return 1;
	}
	if (!w->first[w->depth] && !put(w, ", ", 2))
		return 0;
	w->first[w->depth] = 0;
	return put_print_string(w, s, n) && put(w, "=>", 2);
}

static int cb_end_map(void *ctx)
{
	struct walk *w = ctx;

	w->depth--;
	if (!collecting_root(w) && !put(w, "}", 1))
		return 0;
	after_value(w);
	return 1;
}

static int cb_start_array(void *ctx)
{
	struct walk *w = ctx;

	if (!before_value(w, false) || w->depth >= PRINT_MAX_DEPTH)
		return 0;
	if (!put(w, "[", 1))
		return 0;
	w->depth++;
	w->first[w->depth] = 1;
	w->is_map[w->depth] = 0;
	return 1;
}

static int cb_end_array(void *ctx)
{
	struct walk *w = ctx;

	w->depth--;
	if (!put(w, "]", 1))
		return 0;
	after_value(w);
	return 1;
}

static const yajl_callbacks walk_callbacks = {
    .yajl_null = cb_null,
    .yajl_boolean = cb_bool,
    .yajl_number = cb_number,
    .yajl_string = cb_string,
    .yajl_start_map = cb_start_map,
    .yajl_map_key = cb_map_key,
    .yajl_end_map = cb_end_map,
    .yajl_start_array = cb_start_array,
    .yajl_end_array = cb_end_array,
};

static int walk_run(struct walk *w, const char *json, size_t len)
{
	yajl_handle h;
	yajl_status st;

	h = yajl_alloc(&walk_callbacks, NULL, w);
	if (!h)
		return -SL_ENOMEM;
	st = yajl_parse(h, (const unsigned char *)json, len);
	if (st == yajl_status_ok)
		st = yajl_complete_parse(h);
	yajl_free(h);
	if (w->oom)
		return -SL_ENOMEM;
	return st == yajl_status_ok ? 0 : -SL_EPARSE;
}

int sl_format_print_value(struct sl_buf *b, const char *json, size_t len)
{
	struct walk w = {.out = b};
	size_t mark = b->len;
	int rc;

	rc = walk_run(&w, json, len);
	if (rc < 0) {
		b->len = mark;
		if (b->data)
			b->data[mark] = '\0';
	}
	return rc;
}

int sl_format_print_string(struct sl_buf *b, const char *s, size_t len)
{
	struct walk w = {.out = b};

	return put_print_string(&w, (const unsigned char *)s, len) ? 0
								   : -SL_ENOMEM;
}

int sl_format_print_line(struct sl_buf *b, size_t n, const char *tag,
			 size_t tag_len, int64_t ts_ns, const char *body,
			 size_t len)
{
	int rc;

	if (append_fmt(b, "[%zu] ", n) < 0 ||
	    sl_buf_append(b, tag, tag_len) < 0 ||
	    sl_buf_append(b, ": [[", 4) < 0 ||
	    sl_format_time_nsec(b, ts_ns) < 0 ||
	    sl_buf_append(b, ", {}], ", 7) < 0)
		return -SL_ENOMEM;
	rc = sl_format_print_value(b, body, len);
	/* Records are valid JSON; should one not be, show it as it is. */
	if (rc == -SL_EPARSE)
		rc = sl_buf_append(b, body, len);
	if (rc < 0)
		return rc;
	return sl_buf_append(b, "]\n", 2);
}

int sl_fields_split(struct sl_fields *f, const char *body, size_t len)
{
	struct walk w = {.out = &f->text, .fields = f};
	int rc;

	f->n = 0;
	sl_buf_reset(&f->text);
	rc = walk_run(&w, body, len);
	if (rc < 0)
		f->n = 0;
	return rc;
}

void sl_fields_destroy(struct sl_fields *f)
{
	free(f->v);
	sl_buf_destroy(&f->text);
	memset(f, 0, sizeof(*f));
}

long sl_fields_find(const struct sl_fields *f, const char *key, size_t len)
{
	for (size_t i = 0; i < f->n; i++) {
		if (f->v[i].key_len == len &&
		    memcmp(f->text.data + f->v[i].key_off, key, len) == 0)
			return (long)i;
	}
	return -1;
}
