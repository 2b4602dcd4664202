/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_http_body.c - request bodies to record spans for the HTTP inputs.
 * Items are found by a lexical scan (strings and brackets matched, nothing
 * else checked), then each one is validated by the record model's own
 * check (sl_json_prepare_object): what passes here is what
 * sl_record_reset_json accepts, so the caller's emit loop cannot fail
 * halfway through a body on bad input. No recursion: any bytes are safe.
 */
#include "sl_http_body.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

void sl_http_body_init(struct sl_http_body *b)
{
	memset(b, 0, sizeof(*b));
}

void sl_http_body_destroy(struct sl_http_body *b)
{
	free(b->items);
	sl_buf_destroy(&b->scratch);
	sl_view_destroy(&b->view);
	memset(b, 0, sizeof(*b));
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static const char *skip_ws(const char *p, const char *end, bool *saw_nl)
{
	for (; p < end && is_ws(*p); p++)
		if (*p == '\n' && saw_nl)
			*saw_nl = true;
	return p;
}

/*
 * One past the JSON value that starts at p (not white space), matched
 * lexically; NULL when the text ends inside a string or container.
 */
static const char *value_end(const char *p, const char *end)
{
	size_t depth = 0;
	bool in_str = false;

	for (; p < end; p++) {
		char c = *p;

		if (in_str) {
			if (c == '\\') {
				if (end - p < 2)
					return NULL;
				p++;
			} else if (c == '"') {
				in_str = false;
				if (depth == 0)
					return p + 1;
			}
			continue;
		}
		switch (c) {
		case '"':
			in_str = true;
			break;
		case '{':
		case '[':
			depth++;
			break;
		case '}':
		case ']':
			if (depth == 0)
				return p; /* a scalar ended by its container */
			if (--depth == 0)
				return p + 1;
			break;
		case ',':
		case ' ':
		case '\t':
		case '\r':
		case '\n':
			if (depth == 0)
				return p;
			break;
		default:
			break;
		}
	}
	return depth == 0 && !in_str ? end : NULL;
}

static int fail(struct sl_http_body *b, int rc, const char *why, size_t index)
{
	b->error = why;
	b->index = index;
	b->n = 0;
	return rc;
}

/* Validates [p, p+len) as a record body and appends it as item `index`. */
static int add_item(struct sl_http_body *b, const char *data, const char *p,
		    size_t len, size_t index)
{
	const char *body;
	size_t body_len;
	long repaired;
	int rc;

	if (len == 0)
		return fail(b, -SL_EPARSE, "malformed JSON", index);
	if (*p != '{')
		return fail(b, -SL_EPARSE, "event is not a JSON object", index);
	rc = sl_json_prepare_object(p, len, &b->scratch, &b->view, &body,
				    &body_len, &repaired);
	if (rc == -SL_ENOMEM)
		return rc;
	if (rc == -SL_ETOOBIG)
		return fail(b, rc, "JSON nested deeper than 64 levels", index);
	if (rc < 0)
		return fail(b, -SL_EPARSE, "malformed JSON", index);
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		struct sl_http_item *v = realloc(b->items, cap * sizeof(*v));

		if (!v)
			return -SL_ENOMEM;
		b->items = v;
		b->cap = cap;
	}
	b->items[b->n].off = (size_t)(p - data);
	b->items[b->n].len = len;
	b->n++;
	return 0;
}

static int split_ndjson(struct sl_http_body *b, const char *data, const char *p,
			const char *end)
{
	size_t line = 0;
	int rc;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end, *s = p, *e = eol;

		while (s < e && is_ws(*s))
			s++;
		while (e > s && is_ws(e[-1]))
			e--;
		if (s < e &&
		    (rc = add_item(b, data, s, (size_t)(e - s), line)) < 0)
			return rc;
		line++;
		p = nl ? nl + 1 : end;
	}
	return 0;
}

static int split_array(struct sl_http_body *b, const char *data, const char *p,
		       const char *end)
{
	size_t i = 0;
	const char *v;
	int rc;

	p = skip_ws(p + 1, end, NULL);
	if (p < end && *p == ']')
		goto close;
	for (;; i++) {
		p = skip_ws(p, end, NULL);
		if (p == end)
			return fail(b, -SL_EPARSE, "unterminated array", i);
		v = value_end(p, end);
		if (!v)
			return fail(b, -SL_EPARSE, "malformed JSON", i);
		if ((rc = add_item(b, data, p, (size_t)(v - p), i)) < 0)
			return rc;
		p = skip_ws(v, end, NULL);
		if (p == end)
			return fail(b, -SL_EPARSE, "unterminated array", i + 1);
		if (*p == ']')
			break;
		if (*p != ',')
			return fail(b, -SL_EPARSE, "malformed JSON", i);
		p++;
	}
close:
	if (skip_ws(p + 1, end, NULL) != end)
		return fail(b, -SL_EPARSE, "trailing data after the array",
			    b->n);
	return 0;
}

int sl_http_body_split(struct sl_http_body *b, const char *data, size_t len,
		       enum sl_http_body_format fmt)
{
	const char *end = data + len, *p, *v, *q;
	bool nl = false;
	int rc;

	b->n = 0;
	b->error = NULL;
	b->index = 0;
	p = skip_ws(data, end, NULL);
	if (p == end)
		return fail(b, -SL_EPARSE, "empty body", 0);
	if (fmt == SL_BODY_NDJSON) {
		rc = split_ndjson(b, data, data, end);
		if (rc == 0 && b->n == 0)
			return fail(b, -SL_EPARSE, "empty body", 0);
		return rc;
	}
	if (*p == '[')
		return split_array(b, data, p, end);
	if (*p != '{')
		return fail(b, -SL_EPARSE, "event is not a JSON object", 0);
	v = value_end(p, end);
	q = v ? skip_ws(v, end, &nl) : NULL;
	if (q == end)
		return add_item(b, data, p, (size_t)(v - p), 0);
	/* more after the first object: NDJSON when a line break follows it */
	if (fmt == SL_BODY_AUTO && q && nl)
		return split_ndjson(b, data, data, end);
	if (!v)
		return fail(b, -SL_EPARSE, "malformed JSON", 0);
	return fail(b, -SL_EPARSE, "trailing data after the event", 0);
}

enum sl_http_body_format sl_http_body_format_of(const char *content_type)
{
	static const char *const ndjson[] = {
	    "application/x-ndjson",  "application/ndjson",
	    "application/jsonlines", "application/x-jsonlines",
	    "application/json-seq",
	};
	size_t n;

	if (!content_type)
		return SL_BODY_AUTO;
	while (*content_type == ' ' || *content_type == '\t')
		content_type++;
	n = strcspn(content_type, "; \t");
	for (size_t i = 0; i < SL_ARRAY_LEN(ndjson); i++)
		if (strlen(ndjson[i]) == n &&
		    strncasecmp(content_type, ndjson[i], n) == 0)
			return SL_BODY_NDJSON;
	return SL_BODY_AUTO;
}

/* ---- chunked request bodies --------------------------------------------- */

enum chunk_state {
	CH_SIZE,    /* hex digits of a chunk size */
	CH_EXT,	    /* after the digits: BWS, extensions, until CR */
	CH_SIZE_LF, /* the LF of the size line */
	CH_DATA,    /* chunk data */
	CH_DATA_CR, /* the CRLF after chunk data */
	CH_DATA_LF,
	CH_TRL,	     /* the start of a trailer line, or the final CRLF */
	CH_TRL_NAME, /* a trailer field name, until ':' */
	CH_TRL_VAL,  /* a trailer field value, until CR */
	CH_TRL_LF,   /* the LF of a trailer line */
	CH_END_LF,   /* the LF of the final empty line */
	CH_DONE,
};

void sl_http_chunked_init(struct sl_http_chunked *d, size_t max_body,
			  size_t max_trailer)
{
	memset(d, 0, sizeof(*d));
	d->state = CH_SIZE;
	d->max_body = max_body;
	d->max_trailer = max_trailer;
}

static bool is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* The bytes a field value or a chunk extension may hold: no controls but
 * HTAB, no DEL; a CR ends the line and is handled by the caller. */
static bool is_line_byte(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

int sl_http_chunked_feed(struct sl_http_chunked *d, const char *in, size_t len,
			 size_t *used, struct sl_buf *out)
{
	size_t i = 0;

	while (i < len && d->state != CH_DONE) {
		unsigned char c = (unsigned char)in[i];
		int h;

		switch (d->state) {
		case CH_DATA: {
			size_t n = len - i < d->left ? len - i : d->left;

			if (sl_buf_append(out, in + i, n) < 0)
				return *used = i, -SL_ENOMEM;
			i += n;
			d->left -= n;
			if (d->left == 0)
				d->state = CH_DATA_CR;
			continue;
		}
		case CH_SIZE:
			if (++d->line > SL_HTTP_CHUNK_LINE_MAX)
				goto bad;
			h = sl_hex_digit((char)c);
			if (h < 0) {
				if (!d->digits)
					goto bad;
				d->state = CH_EXT;
				continue; /* the same byte, as an extension */
			}
			d->digits = true;
			/* a size past what may still be decoded is refused
			 * before a byte of it is buffered */
			if (d->left > (d->max_body - out->len) / 16 ||
			    d->left * 16 + (size_t)h > d->max_body - out->len)
				return *used = i, -SL_ETOOBIG;
			d->left = d->left * 16 + (size_t)h;
			break;
		case CH_EXT:
			/* chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS val ]
			 * ): any CR ends it, since qdtext excludes controls;
			 * the first thing after BWS must be ';' */
			if (++d->line > SL_HTTP_CHUNK_LINE_MAX)
				goto bad;
			if (c == '\r') {
				d->state = CH_SIZE_LF;
			} else if (!is_line_byte(c)) {
				goto bad;
			} else if (d->digits && c != ' ' && c != '\t') {
				if (c != ';')
					goto bad;
				d->digits = false; /* now in the extensions */
			}
			break;
		case CH_SIZE_LF:
			if (c != '\n')
				goto bad;
			d->line = 0;
			d->digits = false;
			d->state = d->left ? CH_DATA : CH_TRL;
			break;
		case CH_DATA_CR:
			if (c != '\r')
				goto bad;
			d->state = CH_DATA_LF;
			break;
		case CH_DATA_LF:
			if (c != '\n')
				goto bad;
			d->state = CH_SIZE;
			break;
		case CH_TRL:
			if (c == '\r') {
				d->state = CH_END_LF;
				break;
			}
			/* obs-fold is refused in trailers as in headers */
			if (!is_tchar(c))
				goto bad;
			d->state = CH_TRL_NAME;
			continue;
		case CH_TRL_NAME:
			if (c == ':')
				d->state = CH_TRL_VAL;
			else if (!is_tchar(c))
				goto bad;
			break;
		case CH_TRL_VAL:
			if (c == '\r')
				d->state = CH_TRL_LF;
			else if (!is_line_byte(c))
				goto bad;
			break;
		case CH_TRL_LF:
			if (c != '\n')
				goto bad;
			d->state = CH_TRL;
			break;
		case CH_END_LF:
			if (c != '\n')
				goto bad;
			d->state = CH_DONE;
			break;
		default:
			goto bad;
		}
		if (d->state >= CH_TRL && d->state != CH_DONE &&
		    ++d->trailer > d->max_trailer)
			return *used = i, -SL_ETOOBIG;
		i++;
	}
	*used = i;
	return d->state == CH_DONE ? 1 : 0;
bad:
	*used = i;
	return -SL_EPARSE;
}
