/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_http_head.h - the one parser of HTTP/1.1 request heads (request line
 * and header fields, RFC 9112) for sluice's server: pure functions over
 * bytes, no I/O, so that they can be unit-tested and fuzzed alone. Anything
 * outside the grammar is refused (400) rather than guessed at: NUL and other
 * control bytes, a CR or LF not part of a CRLF, obsolete line folding, white
 * space before a colon, conflicting framing headers.
 */
#ifndef SL_HTTP_HEAD_H
#define SL_HTTP_HEAD_H

#include "sl_common.h"

#include <stdbool.h>
#include <sys/types.h>

#define SL_HTTP_HEAD_MAX_FIELDS 100

struct sl_http_field {
	const char *name, *value; /* NUL-terminated, value trimmed */
};

/* A parsed head: every string points into the caller's block. */
struct sl_http_head {
	const char *method;
	const char *path;  /* the target without its query */
	const char *query; /* after '?', or "" */
	bool http10;	   /* HTTP/1.0 (else HTTP/1.1) */
	size_t n_fields;
	struct sl_http_field fields[SL_HTTP_HEAD_MAX_FIELDS];
	/* framing, from Content-Length / Transfer-Encoding */
	bool chunked;
	size_t content_length; /* 0 when chunked or absent */
	/* Connection: another request may follow the answer */
	bool keep_alive;
};

/*
 * Where the head at the start of [data, data+len) ends: its length through
 * the empty line (CRLF CRLF) when complete, 0 when more bytes are needed,
 * -1 as soon as the bytes seen can never be a valid head (a NUL, a CR not
 * followed by LF, an LF not preceded by CR). Empty lines before the request
 * line are the caller's to skip. `from` is where a previous call with a
 * shorter prefix stopped scanning (0 the first time), so that a trickled
 * head is scanned once; the call stores its own stop there.
 */
ssize_t sl_http_head_end(const char *data, size_t len, size_t *from);

/*
 * Parses the head block [block, block+len) in place (the bytes are
 * rewritten: NULs end the strings h points to). `len` includes the final
 * CRLF CRLF. Returns 0, or the status to refuse the request with (400, 431
 * for too many fields, 501 for a transfer coding other than chunked) and
 * *msg, a static one-line reason ending in "\n".
 */
int sl_http_head_parse(char *block, size_t len, struct sl_http_head *h,
		       const char **msg);

/* The first value of field `name` (case-insensitive), or NULL. */
const char *sl_http_head_field(const struct sl_http_head *h, const char *name);

#endif
