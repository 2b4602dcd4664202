/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_chunk.h - a chunk: a batch of records with one tag, the unit that is
 * routed, flushed, retried, acknowledged and (later) stored on disk.
 *
 * Layout of `data`, per record: int64 ts_ns, uint64 identity, uint32 body
 * length, body bytes (native endianness, unaligned; read with memcpy).
 * `identity` says who the record is across a crash and a re-read (see
 * sl_record_identity): 0 means "the timestamp is stable, use it". A chunk is
 * appended to by the engine thread only while open; once sealed it is immutable
 * and may be read by any number of output workers at once without locks.
 */
#ifndef SL_CHUNK_H
#define SL_CHUNK_H

#include "sl_common.h"

#include <stdbool.h>

/* Seal a chunk when its data reaches this size (DESIGN: ~2 MB). */
#define SL_CHUNK_SEAL_BYTES	(2u * 1024u * 1024u)
#define SL_CHUNK_RECORD_LEN_OFF (sizeof(int64_t) + sizeof(uint64_t))
#define SL_CHUNK_RECORD_HEADER	(SL_CHUNK_RECORD_LEN_OFF + sizeof(uint32_t))

struct sl_input;
struct sl_storage_chunk;

struct sl_chunk {
	char *tag; /* owned, NUL-terminated */
	size_t tag_len;
	struct sl_buf data; /* records, see above */
	uint32_t records;
	bool sealed;
	int64_t created_mono_ns;
	struct sl_input *origin; /* borrowed: inputs outlive their chunks */
	/*
	 * Engine-thread bookkeeping: outputs that still hold the chunk. The
	 * chunk is released (memory budget returned, acks fired) at zero.
	 */
	int refs;
	uint64_t id;
	/* storage.type filesystem: the chunk's file (owned by the engine) and
	 * how many bytes of `data` it holds already */
	struct sl_storage_chunk *store;
	size_t persisted;
	bool input_told; /* chunk_released already sent (sealed on disk) */
};

/* Creates an open, empty chunk for `tag`. NULL on ENOMEM. */
struct sl_chunk *sl_chunk_create(struct sl_input *origin, const char *tag,
				 size_t tag_len);
void sl_chunk_destroy(struct sl_chunk *c);
/* Appends one record. 0 or -SL_ENOMEM (chunk unchanged); -SL_EINVAL if sealed
 * or the body is over 4 GiB. `body` is copied. */
int sl_chunk_append_id(struct sl_chunk *c, int64_t ts_ns, uint64_t identity,
		       const char *body, size_t len);
/* The same with identity 0 (the timestamp identifies the record). */
int sl_chunk_append(struct sl_chunk *c, int64_t ts_ns, const char *body,
		    size_t len);
/* Bytes the chunk holds in memory (counts against Mem_Buf_Limit). */
size_t sl_chunk_size(const struct sl_chunk *c);

struct sl_chunk_iter {
	const struct sl_chunk *chunk;
	size_t off;
	uint32_t index;	   /* index of the record returned last + 1 */
	uint64_t identity; /* identity of the record returned last */
};
void sl_chunk_iter_init(struct sl_chunk_iter *it, const struct sl_chunk *c);
/* Returns 1 and the next record (body borrowed from the chunk), 0 at end.
 * Its identity is left in it->identity (sl_chunk_next_id returns it too). */
int sl_chunk_next(struct sl_chunk_iter *it, int64_t *ts_ns, const char **body,
		  size_t *len);
int sl_chunk_next_id(struct sl_chunk_iter *it, int64_t *ts_ns,
		     uint64_t *identity, const char **body, size_t *len);

#endif
