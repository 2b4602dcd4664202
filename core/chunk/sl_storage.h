/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_storage.h - chunks on disk (storage.type filesystem): one file per chunk
 * under storage.path, appended in CRC-checked blocks while the chunk is open,
 * rewritten as one LZ4 body when sealed, scanned back at start-up. It knows
 * bytes and files only: which chunk goes where is the engine's business.
 *
 * Directory: <path>/sluice.lock (flock'ed while open), chunk files, and
 * <path>/quarantine/ for files that failed the start-up scan.
 *
 * File name: <stream>-<id as 16 lowercase hex>.open or .sealed. <stream> is
 * the input's name sanitized: bytes outside [A-Za-z0-9._-] become '_', a
 * leading '.' becomes '_', at most 64 bytes, "_" when empty. It is for humans
 * only: the real stream and the id are in the header (the name's id must
 * match the header's). Sealing writes <name>.sealed.tmp first; a leftover
 * *.tmp is a seal that did not finish and is deleted by the scan.
 *
 * All integers little-endian. CRC = zlib crc32 (initial value 0).
 *
 * File header (both forms), 24 + T + S bytes:
 *   0  4  magic "SLCH"
 *   4  1  version, 2 (1: before record identity, quarantined)
 *   5  1  form: 1 = open, 2 = sealed
 *   6  2  flags, 0 (any other value is refused)
 *   8  8  chunk id
 *  16  2  T = tag length (0..65535)
 *  18  2  S = stream length (0..255, no NUL byte)
 *  20  T  tag bytes (any bytes)
 *  ..  S  stream bytes
 *  ..  4  CRC of every header byte before it
 *
 * Open form: the header, then zero or more blocks, each written by one
 * sl_storage_chunk_persist():
 *   0  4  magic "SLBK"
 *   4  4  L = payload length (1..SL_STORAGE_CHUNK_MAX)
 *   8  4  N = records in the payload (>= 1)
 *  12  4  CRC of the payload
 *  16  4  CRC of bytes 0..15 of this block header
 *  20  L  payload: N whole records in the sl_chunk encoding (int64 ts_ns,
 *         uint64 identity, uint32 body length, body; native endianness,
 *         as in memory)
 *
 * Sealed form: the header, then exactly one body and nothing after it:
 *   0  4  magic "SLSZ"
 *   4  4  U = uncompressed length (0..SL_STORAGE_CHUNK_MAX)
 *   8  4  C = compressed length (>= 1)
 *  12  4  N = records
 *  16  4  CRC of the U uncompressed bytes
 *  20  4  CRC of bytes 0..19 of this body header
 *  24  C  LZ4 block (LZ4_compress_default) of the U bytes of N records
 *
 * CRCs are always written. On load header CRCs, payload CRCs and record
 * framing (every length within its block, N records exactly filling it) are
 * always checked; `checksum` (storage.checksum) only decides how strict the
 * scan is about the LAST block of an open-form file: a crash mid-append
 * (SIGKILL, or power loss without storage.sync full) leaves that block short,
 * zero-filled or, after a power loss, with stale bytes. Short or zero-filled
 * is always a cut (the blocks before it are kept, the cut is reported); a
 * complete last block whose CRC fails is a cut with checksum off and makes
 * the file corrupt with checksum on. Anything else that fails (bad magic,
 * bad CRC or undecodable data in a block that is not the last one, a bad
 * sealed body, trailing bytes after it, a header that does not check) makes
 * the file corrupt: it is moved to quarantine/, logged, counted.
 *
 * Durability: after sl_storage_chunk_persist() returns 0 its records are in
 * the file (survive SIGKILL); with sync_full they were also fdatasync'ed
 * (survive power loss). Not thread-safe: one thread drives a storage and its
 * chunk handles (the engine thread).
 */
#ifndef SL_STORAGE_H
#define SL_STORAGE_H

#include "sl_common.h"

#include <stdbool.h>

/* Record bytes of one chunk, and of one block; more is -SL_ETOOBIG. */
#define SL_STORAGE_CHUNK_MAX	   (64u * 1024u * 1024u)
#define SL_STORAGE_STREAM_MAX	   255u
#define SL_STORAGE_TAG_MAX	   65535u
#define SL_STORAGE_NAME_STREAM_MAX 64u

struct sl_storage;
struct sl_storage_chunk;

struct sl_storage_opts {
	const char *path; /* storage.path, borrowed during open */
	bool sync_full;	  /* storage.sync full: fdatasync every persist/seal */
	bool checksum;	  /* storage.checksum: strict scan, see above */
};

/*
 * Creates `path` (with parents) and path/quarantine, and takes an exclusive
 * flock on path/sluice.lock: a second process (or a second open in this
 * one) on the same path fails. 0, -SL_EINVAL (no path), -SL_ENOMEM, or
 * -SL_EIO with errno set (EWOULDBLOCK: the path is in use; anything else:
 * the path is unusable); the reason is logged.
 */
int sl_storage_open(const struct sl_storage_opts *o, struct sl_storage **out);
/* Releases the lock. Every chunk handle must be closed first. NULL is ok. */
void sl_storage_close(struct sl_storage *st);

/*
 * Errors of the chunk calls below are not logged here: the engine logs them
 * (once per period: a full disk fails every chunk) and counts them. -SL_EIO
 * leaves the failing errno in errno and in sl_storage_error().
 *
 * Creates the open-form file of a new chunk and writes its header. `stream`
 * (the input's alias or plugin.N) and `tag` are copied. `id` must be unique
 * under this path: after a scan, start ids above stats.max_id. The handle
 * borrows `st`. 0, -SL_EINVAL (stream or tag too long), -SL_ENOMEM, or
 * -SL_EIO with errno (EEXIST: a file of that name exists).
 */
int sl_storage_chunk_create(struct sl_storage *st, const char *stream,
			    const char *tag, size_t tag_len, uint64_t id,
			    struct sl_storage_chunk **out);
/*
 * Copies whole records (the sl_chunk encoding; any number of them) into the
 * pending block. Nothing is written yet. 0; -SL_EINVAL when the bytes are
 * not whole records or the chunk is sealed/recovered; -SL_ETOOBIG past
 * SL_STORAGE_CHUNK_MAX in all; -SL_ENOMEM. The pending block is unchanged on
 * error.
 */
int sl_storage_chunk_append(struct sl_storage_chunk *f, const void *records,
			    size_t len);
/*
 * Forgets the pending block (the records the caller could not persist and
 * takes back): the file keeps what earlier persists wrote.
 */
void sl_storage_chunk_discard(struct sl_storage_chunk *f);
/*
 * Writes the pending block to the file (then fdatasync with sync_full).
 * Nothing pending: 0 and no write. On -SL_EIO (errno kept) the file is cut
 * back to its last good block and the block stays pending: calling again
 * retries. If even that cut failed, later persists fail until a seal
 * rewrites the file.
 */
int sl_storage_chunk_persist(struct sl_storage_chunk *f);
/*
 * Rewrites the chunk as the sealed form: `all_records` (borrowed; every
 * record of the chunk, n_records of them, which supersede anything pending)
 * compressed to <name>.sealed.tmp, fsync'ed with sync_full, renamed to
 * <name>.sealed (then the directory fsync'ed with sync_full), and the open
 * form unlinked. A crash leaves the open form, the sealed form, or both (the
 * scan keeps the sealed one); never neither. 0; 0 without doing anything if
 * already sealed; -SL_EINVAL if the bytes do not frame exactly n_records
 * records; -SL_ETOOBIG; -SL_ENOMEM; -SL_EIO with errno (the handle is still
 * the open form and the call can be retried).
 */
int sl_storage_chunk_seal(struct sl_storage_chunk *f,
			  const struct sl_buf *all_records, uint32_t n_records);
/*
 * The chunk was delivered (or dropped and counted): unlinks its files and
 * frees the handle. On -SL_EIO (errno kept) the handle is still valid (retry
 * or close it).
 */
int sl_storage_chunk_remove(struct sl_storage_chunk *f);
/* Frees the handle and keeps the file (shutdown). NULL is ok. */
void sl_storage_chunk_close(struct sl_storage_chunk *f);
/*
 * Reads a chunk found by the scan back from its file (a chunk kept "down"
 * on disk while the backlog is over storage.backlog.mem_limit). 0 and the
 * records (owned by the caller; *records zeroed on error); -SL_EPARSE with
 * *reason (static text) when the file no longer decodes or no longer
 * matches the handle; -SL_ENOMEM; -SL_EIO (sl_storage_error). The handle
 * stays valid whatever the result.
 */
int sl_storage_chunk_load(struct sl_storage_chunk *f, struct sl_buf *records,
			  uint32_t *n_records, const char **reason);
/*
 * Moves the chunk's file to quarantine/ (logged with `reason`) and frees the
 * handle in every case. 0, or -SL_EIO: the file could not be moved.
 */
int sl_storage_chunk_quarantine(struct sl_storage_chunk *f, const char *reason);
/*
 * errno of the last chunk call that returned -SL_EIO on this storage, saved
 * right after the failing system call (so logging in between cannot change
 * it). 0 before any failure.
 */
int sl_storage_error(const struct sl_storage *st);
/* The file name under storage.path, borrowed until the handle goes away. */
const char *sl_storage_chunk_name(const struct sl_storage_chunk *f);
/* The chunk's tag (borrowed, NUL-terminated, *len bytes) and id. */
const char *sl_storage_chunk_tag(const struct sl_storage_chunk *f, size_t *len);
uint64_t sl_storage_chunk_id(const struct sl_storage_chunk *f);
/* Record bytes in the file (persisted or sealed), not counting pending. */
uint64_t sl_storage_chunk_bytes(const struct sl_storage_chunk *f);

/* A chunk found by the scan, as handed to its callback. */
struct sl_storage_recovered {
	const char *stream; /* NUL-terminated, borrowed for the callback */
	const char *tag;    /* NUL-terminated, tag_len bytes, borrowed */
	size_t tag_len;
	uint64_t id;
	struct sl_buf records; /* framing checked; the callback may steal it
				  (take .data and zero the struct) */
	uint32_t n_records;
	bool sealed; /* found in the sealed form */
	bool cut;    /* open form whose torn last block was dropped */
	/*
	 * Owned by the callback from the call on, whatever it returns: remove
	 * it once delivered, seal it (the engine may seal a recovered open
	 * chunk), or close it. Appending to it is refused.
	 */
	struct sl_storage_chunk *handle;
};

struct sl_storage_scan_stats {
	uint32_t files;	      /* chunk files looked at */
	uint32_t recovered;   /* handed to the callback */
	uint64_t records;     /* records in them */
	uint64_t bytes;	      /* record bytes in them */
	uint32_t cut;	      /* recovered with a torn last block dropped */
	uint32_t quarantined; /* corrupt: moved to quarantine/ */
	uint32_t empty;	      /* no record (torn header, no block): deleted */
	uint32_t
	    superseded;	 /* open forms next to a good sealed form: deleted */
	uint64_t max_id; /* largest id seen in any chunk file name */
};

typedef int (*sl_storage_scan_cb)(void *arg, struct sl_storage_recovered *rc);

/*
 * Start-up: every chunk file under path, by ascending id, is decoded; good
 * ones go to `cb`, corrupt ones to quarantine/ (logged at error level, with
 * the reason). A negative return from `cb` stops the scan, which returns it.
 * 0, -SL_ENOMEM, -SL_EIO (directory unreadable, errno kept). `stats` may be
 * NULL. A file that cannot be read or moved is logged and left in place.
 */
int sl_storage_scan(struct sl_storage *st, sl_storage_scan_cb cb, void *arg,
		    struct sl_storage_scan_stats *stats);

/*
 * The decoder the scan uses, on a whole file in memory (exposed for the fuzz
 * target and tests). Allocations are bounded by `size` and
 * SL_STORAGE_CHUNK_MAX whatever the bytes say.
 */
struct sl_storage_decoded {
	uint64_t id;
	bool sealed;
	bool cut;
	bool torn_header; /* with -SL_EPARSE: shorter than a header's fixed
			     part, all zeros or a prefix of "SLCH" */
	char *stream;	  /* owned, NUL-terminated */
	char *tag;	  /* owned, NUL-terminated */
	size_t tag_len;
	struct sl_buf records;
	uint32_t n_records;
	const char *reason; /* static text, set with -SL_EPARSE */
};
/* 0, -SL_EPARSE (corrupt: out->reason; the other fields are partial),
 * -SL_ENOMEM. `out` is always initialised: free it with
 * sl_storage_decoded_destroy(). */
int sl_storage_decode(const void *file, size_t size, bool strict,
		      struct sl_storage_decoded *out);
void sl_storage_decoded_destroy(struct sl_storage_decoded *d);

/* Validates the framing of record bytes: 0 and *n_records, or -SL_EPARSE. */
int sl_storage_records_count(const void *records, size_t len,
			     uint32_t *n_records);

#endif
