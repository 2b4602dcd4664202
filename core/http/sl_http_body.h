/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_http_body.h - splits an HTTP request body into records for the HTTP
 * inputs (witness, http): one JSON object, a JSON array of objects, or
 * NDJSON (one object per line). Every item is validated as a record would
 * be (an object, nesting <= 64, UTF-8 repairable) before the caller emits
 * anything, so that a bad item rejects the whole body. It does not emit.
 * Also the decoder of chunked request bodies (RFC 9112 7.1), the other
 * half of request framing besides Content-Length.
 */
#ifndef SL_HTTP_BODY_H
#define SL_HTTP_BODY_H

#include "sl_json.h"

#include <stdbool.h>

enum sl_http_body_format {
	SL_BODY_AUTO = 0, /* object, array, or NDJSON detected by newlines */
	SL_BODY_JSON,	  /* one object or one array of objects */
	SL_BODY_NDJSON,	  /* one object per line; blank lines are skipped */
};

/* One item: a span of the body (whitespace trimmed). */
struct sl_http_item {
	size_t off, len;
};

struct sl_http_body {
	struct sl_http_item *items; /* owned; valid until the next split */
	size_t n, cap;
	/* after a failed split: a static reason and the 0-based index of the
	 * offending event (array item, or NDJSON line counting blank ones) */
	const char *error;
	size_t index;
	/* validation scratch, reused across splits */
	struct sl_buf scratch;
	struct sl_view view;
};

void sl_http_body_init(struct sl_http_body *b);
/* Frees what the splitter holds. Idempotent. */
void sl_http_body_destroy(struct sl_http_body *b);

/*
 * Splits and validates [data, data+len) (borrowed for the call; items are
 * offsets into it). Returns 0 with b->n items (0 for an empty array),
 * -SL_EPARSE or -SL_ETOOBIG with b->error and b->index set (an empty body
 * is -SL_EPARSE at index 0), or -SL_ENOMEM.
 */
int sl_http_body_split(struct sl_http_body *b, const char *data, size_t len,
		       enum sl_http_body_format fmt);

/* The format a Content-Type announces (parameters ignored); AUTO if none. */
enum sl_http_body_format sl_http_body_format_of(const char *content_type);

/*
 * The chunked transfer coding, decoded incrementally: feed it the bytes
 * that follow the head as they arrive. Chunk extensions are checked for
 * stray control bytes and ignored; trailer fields are checked as header
 * fields and discarded (RFC 9110 6.5.1 lets a recipient drop them).
 */
struct sl_http_chunked {
	int state;
	size_t left;	    /* data bytes left in the current chunk */
	size_t line;	    /* bytes of the current size or trailer line */
	size_t trailer;	    /* trailer section bytes so far */
	size_t max_body;    /* decoded bytes allowed (Buffer_Max_Size) */
	size_t max_trailer; /* trailer section bytes allowed */
	bool digits;	    /* the size line has a digit */
};

#define SL_HTTP_CHUNK_LINE_MAX 4096 /* one size line, extensions included */

void sl_http_chunked_init(struct sl_http_chunked *d, size_t max_body,
			  size_t max_trailer);

/*
 * Decodes [in, in+len), appending chunk data to `out`. *used is set to the
 * bytes consumed. Returns 1 when the body is complete (what follows *used
 * is the next request), 0 when every byte was used and more are needed,
 * -SL_EPARSE on bad framing (answer 400), -SL_ETOOBIG when the decoded body
 * would exceed max_body or the trailers max_trailer (413), -SL_ENOMEM.
 * After a negative return the decoder must not be fed again.
 */
int sl_http_chunked_feed(struct sl_http_chunked *d, const char *in, size_t len,
			 size_t *used, struct sl_buf *out);

#endif
