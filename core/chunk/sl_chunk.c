/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_chunk.c - in-memory chunks: append while open, iterate once sealed.
 * Ownership and routing live in the engine; this file only knows bytes.
 */
#include "sl_chunk.h"

#include <stdlib.h>
#include <string.h>

struct sl_chunk *sl_chunk_create(struct sl_input *origin, const char *tag,
				 size_t tag_len)
{
	struct sl_chunk *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->tag = malloc(tag_len + 1);
	if (!c->tag) {
		free(c);
		return NULL;
	}
	memcpy(c->tag, tag, tag_len);
	c->tag[tag_len] = '\0';
	c->tag_len = tag_len;
	c->origin = origin;
	c->created_mono_ns = sl_mono_ns();
	return c;
}

void sl_chunk_destroy(struct sl_chunk *c)
{
	if (!c)
		return;
	sl_buf_destroy(&c->data);
	free(c->tag);
	free(c);
}

int sl_chunk_append_id(struct sl_chunk *c, int64_t ts_ns, uint64_t identity,
		       const char *body, size_t len)
{
	uint32_t len32 = (uint32_t)len;
	char *p;

	if (c->sealed || len > UINT32_MAX)
		return -SL_EINVAL;
	if (sl_buf_reserve(&c->data, SL_CHUNK_RECORD_HEADER + len) < 0)
		return -SL_ENOMEM;
	p = c->data.data + c->data.len;
	memcpy(p, &ts_ns, sizeof(ts_ns));
	memcpy(p + sizeof(ts_ns), &identity, sizeof(identity));
	memcpy(p + SL_CHUNK_RECORD_LEN_OFF, &len32, sizeof(len32));
	memcpy(p + SL_CHUNK_RECORD_HEADER, body, len);
	c->data.len += SL_CHUNK_RECORD_HEADER + len;
	c->records++;
	return 0;
}

int sl_chunk_append(struct sl_chunk *c, int64_t ts_ns, const char *body,
		    size_t len)
{
	return sl_chunk_append_id(c, ts_ns, 0, body, len);
}

size_t sl_chunk_size(const struct sl_chunk *c)
{
	return c->data.cap + c->tag_len + sizeof(*c);
}

void sl_chunk_iter_init(struct sl_chunk_iter *it, const struct sl_chunk *c)
{
	it->chunk = c;
	it->off = 0;
	it->index = 0;
	it->identity = 0;
}

int sl_chunk_next(struct sl_chunk_iter *it, int64_t *ts_ns, const char **body,
		  size_t *len)
{
	const struct sl_buf *d = &it->chunk->data;
	uint32_t len32;

	if (d->len - it->off < SL_CHUNK_RECORD_HEADER)
		return 0;
	memcpy(ts_ns, d->data + it->off, sizeof(*ts_ns));
	memcpy(&it->identity, d->data + it->off + sizeof(*ts_ns),
	       sizeof(it->identity));
	memcpy(&len32, d->data + it->off + SL_CHUNK_RECORD_LEN_OFF,
	       sizeof(len32));
	if (len32 > d->len - it->off - SL_CHUNK_RECORD_HEADER)
		return 0; /* cannot happen for chunks built by append */
	*body = d->data + it->off + SL_CHUNK_RECORD_HEADER;
	*len = len32;
	it->off += SL_CHUNK_RECORD_HEADER + len32;
	it->index++;
	return 1;
}

int sl_chunk_next_id(struct sl_chunk_iter *it, int64_t *ts_ns,
		     uint64_t *identity, const char **body, size_t *len)
{
	int rc = sl_chunk_next(it, ts_ns, body, len);

	if (rc > 0)
		*identity = it->identity;
	return rc;
}
