/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http_payload.c - request bodies and header lists of the http output. The
 * records' JSON is copied as is (sl_format splices the date key in front);
 * nothing is re-parsed, except for msgpack, packed from each record.
 */
#include "http.h"
#include "sl_out_msgpack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

long out_http_payload(const struct sl_json_opts *opts, const struct sl_chunk *c,
		      out_http_skip_fn skip, void *ud, struct sl_buf *out,
		      uint32_t **idx, size_t *idx_cap)
{
	struct sl_chunk_iter it;
	const char *body;
	size_t len, n = 0, start = out->len;
	int64_t ts;

	sl_chunk_iter_init(&it, c);
	while (sl_chunk_next(&it, &ts, &body, &len)) {
		uint32_t index = it.index - 1;

		if (skip && skip(ud, index))
			continue;
		if (n == *idx_cap) {
			size_t cap = *idx_cap ? *idx_cap * 2 : 256;
			uint32_t *v = realloc(*idx, cap * sizeof(*v));

			if (!v)
				goto nomem;
			*idx = v;
			*idx_cap = cap;
		}
		if (n == 0 && sl_format_json_begin(out, opts) < 0)
			goto nomem;
		if (sl_format_json_record(out, opts, n, ts, body, len) < 0)
			goto nomem;
		(*idx)[n++] = index;
	}
	if (n && sl_format_json_end(out, opts) < 0)
		goto nomem;
	return (long)n;
nomem:
	out->len = start;
	return -SL_ENOMEM;
}

/* Room for one more index in *idx. 0 or -SL_ENOMEM. */
static int idx_room(uint32_t **idx, size_t *idx_cap, size_t n)
{
	size_t cap;
	uint32_t *v;

	if (n < *idx_cap)
		return 0;
	cap = *idx_cap ? *idx_cap * 2 : 256;
	v = realloc(*idx, cap * sizeof(*v));
	if (!v)
		return -SL_ENOMEM;
	*idx = v;
	*idx_cap = cap;
	return 0;
}

long out_http_payload_msgpack(const struct sl_chunk *c, out_http_skip_fn skip,
			      void *ud, struct sl_record *rec,
			      struct sl_buf *scratch, struct sl_buf *out,
			      uint32_t **idx, size_t *idx_cap)
{
	struct sl_chunk_iter it;
	const char *body;
	size_t len, n = 0, start = out->len;
	int64_t ts;

	sl_chunk_iter_init(&it, c);
	while (sl_chunk_next(&it, &ts, &body, &len)) {
		uint32_t index = it.index - 1;

		if (skip && skip(ud, index))
			continue;
		/* a sealed chunk's bodies are objects: only ENOMEM fails */
		if (idx_room(idx, idx_cap, n) < 0 ||
		    sl_record_reset_json(rec, ts, body, len) < 0 ||
		    sl_out_msgpack_event(out, scratch, rec) < 0) {
			out->len = start;
			return -SL_ENOMEM;
		}
		(*idx)[n++] = index;
	}
	return (long)n;
}

const char *out_http_content_type(enum sl_json_format f)
{
	switch (f) {
	case SL_JSON_LINES:
		return "application/x-ndjson";
	case SL_JSON_STREAM:
		return "application/stream+json";
	case SL_JSON_ARRAY:
	default:
		return "application/json";
	}
}

static bool same_name(const char *a, const char *b)
{
	size_t la = strcspn(a, ":"), lb = strcspn(b, ":");

	return la == lb && strncasecmp(a, b, la) == 0;
}

int out_http_header_add(char ***v, size_t *n, char *line, bool dup_ok)
{
	char **nv;
	size_t i;

	if (!dup_ok) {
		for (i = 0; i < *n; i++) {
			if (same_name((*v)[i], line)) {
				free((*v)[i]);
				(*v)[i] = line;
				return 0;
			}
		}
	}
	nv = realloc(*v, (*n + 2) * sizeof(*nv));
	if (!nv) {
		free(line);
		return -SL_ENOMEM;
	}
	nv[(*n)++] = line;
	nv[*n] = NULL;
	*v = nv;
	return 0;
}

void out_http_headers_free(char **v)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}
