/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tail_db.h - the tail offsets database (`DB`): where each followed file
 * was read up to, so that a restart goes on from there. Kept in memory and
 * written out whole, atomically (temp file, fsync, rename), as a small text
 * file. A file is known by its inode plus a fingerprint of its first bytes,
 * so that a reused inode is not mistaken for the old file.
 *
 * The database only stores what it is told: tail gives it committed
 * offsets, those whose records every output acknowledged or that are
 * sealed on disk (tail_ack.c), so a restart re-reads at most what was in
 * flight.
 */
#ifndef TAIL_DB_H
#define TAIL_DB_H

#include "sl_common.h"

#include <stdbool.h>
#include <stdio.h>

/* The fingerprint covers at most this many leading bytes. */
#define TAIL_DB_FP_MAX 256u

enum tail_db_sync {
	TAIL_DB_SYNC_OFF =
	    0,		     /* no fsync: rename alone (fast, not crash-safe) */
	TAIL_DB_SYNC_NORMAL, /* fsync the temp file before the rename */
	TAIL_DB_SYNC_FULL,   /* also fsync the folder after the rename */
};

struct tail_db_entry {
	uint64_t ino;
	uint32_t fp_len; /* bytes the fingerprint covers */
	uint64_t fp;	 /* FNV-1a 64 of the first fp_len bytes */
	int64_t offset;
	char *name; /* owned: informative only (the path when saved) */
};

struct tail_db {
	char *path; /* owned */
	enum tail_db_sync sync;
	struct tail_db_entry *e; /* owned */
	size_t n, cap;
	bool dirty;	  /* changed since the last save */
	int64_t saved_ns; /* mtime of the file when opened (0: none): when the
			   * last run last saved, so files changed after it
			   * were changed while sluice was down */
};

/* Parses "off|normal|full|extra" (any case; extra = full). 0 or -SL_EINVAL. */
int tail_db_parse_sync(const char *s, enum tail_db_sync *out);

/*
 * Opens the database at `path` (copied) and loads it when the file exists.
 * Malformed lines are skipped with a warning. Returns 0, -SL_EIO (exists
 * but unreadable) or -SL_ENOMEM; on error db is left empty and usable.
 */
int tail_db_open(struct tail_db *db, const char *path, enum tail_db_sync sync);
void tail_db_close(struct tail_db *db);

/*
 * Adds the entries of a database text read from `fp` (borrowed) to `db`;
 * `what` names it in warnings. Malformed lines are skipped with a warning.
 * 0 or -SL_ENOMEM (entries read so far stay).
 */
int tail_db_load(struct tail_db *db, FILE *fp, const char *what);
/* Parses one entry line (no newline). 0, -SL_EPARSE or -SL_ENOMEM. */
int tail_db_parse_line(struct tail_db *db, const char *line);
/* Appends the database text (what a save writes) to `out`. 0 or -SL_ENOMEM. */
int tail_db_render(const struct tail_db *db, struct sl_buf *out);
/* The entry of `ino`, borrowed until the next change, or NULL. */
struct tail_db_entry *tail_db_find(struct tail_db *db, uint64_t ino);
/* The fingerprint of `len` bytes in memory (what tail_db_fingerprint uses). */
uint64_t tail_db_fp_bytes(const void *data, size_t len);

/*
 * Fingerprint of the first `len` bytes of `fd` (read with pread). Returns
 * 0, -SL_ENOENT when the file is shorter than `len`, or -SL_EIO.
 */
int tail_db_fingerprint(int fd, uint32_t len, uint64_t *fp);

/*
 * The saved offset of the file open as `fd` with inode `ino`: 0 and
 * *offset when an entry for `ino` has a fingerprint that matches the file
 * now, -SL_ENOENT otherwise (a stale entry for a reused inode is dropped).
 */
int tail_db_lookup(struct tail_db *db, int fd, uint64_t ino, int64_t *offset);

/*
 * Records that the file `fd` (inode `ino`, path `name`, borrowed) is read
 * up to `offset`, refreshing the fingerprint while it covers fewer than
 * TAIL_DB_FP_MAX bytes of what was read. 0 or -SL_ENOMEM / -SL_EIO.
 */
int tail_db_set(struct tail_db *db, int fd, uint64_t ino, const char *name,
		int64_t offset);
/* Some entry was saved under the path `name`. */
bool tail_db_has_name(const struct tail_db *db, const char *name);
/* Forgets `ino` (a rotated file let go). */
void tail_db_remove(struct tail_db *db, uint64_t ino);

/* Writes the database atomically when dirty. 0 or -SL_EIO (logged). */
int tail_db_save(struct tail_db *db);

#endif
