/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http.h - the http output's pure parts (http_payload.c): a chunk as one
 * request body in Fluent Bit's json / json_lines / json_stream / msgpack
 * formats, and
 * the header list from Header / Header_Tag options. Shared with the unit
 * tests; the plugin is http.c.
 */
#ifndef SL_OUT_HTTP_H
#define SL_OUT_HTTP_H

#include "sl_chunk.h"
#include "sl_format.h"
#include "sl_record.h"

#include <stdbool.h>

/* Returns true for a record to leave out (already settled). */
typedef bool (*out_http_skip_fn)(void *ud, uint32_t index);

/*
 * Appends the records of `c` not skipped to `out` in opts->format, and
 * their chunk indexes to *idx (grown as needed; caller frees). Returns the
 * number of records (0: nothing to send, out unchanged) or -SL_ENOMEM.
 */
long out_http_payload(const struct sl_json_opts *opts, const struct sl_chunk *c,
		      out_http_skip_fn skip, void *ud, struct sl_buf *out,
		      uint32_t **idx, size_t *idx_cap);

/*
 * The same for Format msgpack: one Fluent Bit event per record
 * (sl_out_msgpack_event). `rec` and `scratch` are the caller's, reused.
 */
long out_http_payload_msgpack(const struct sl_chunk *c, out_http_skip_fn skip,
			      void *ud, struct sl_record *rec,
			      struct sl_buf *scratch, struct sl_buf *out,
			      uint32_t **idx, size_t *idx_cap);

/* The Content-Type of a format. */
const char *out_http_content_type(enum sl_json_format f);

/*
 * Adds `line` ("Name: value", taken) to the NULL-terminated list *v of *n
 * entries. Without `dup_ok`, an earlier line with the same name (any case)
 * is replaced, as Fluent Bit's allow_duplicated_headers false does.
 * 0 or -SL_ENOMEM (line freed).
 */
int out_http_header_add(char ***v, size_t *n, char *line, bool dup_ok);
void out_http_headers_free(char **v);

#endif
