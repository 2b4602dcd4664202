/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tail_recover.h - what of a rotated or truncated file is still unread,
 * and where it is: DB entries whose file left its path while sluice was
 * down (renamed, compressed, gone), the copy copytruncate made when we had
 * not read to the end, rotated siblings nobody followed. It decides; the
 * host (tail.c) follows the files it names and counts what it reports
 * lost. Searching the file system is tail_rotated.c's.
 */
#ifndef TAIL_RECOVER_H
#define TAIL_RECOVER_H

#include "sl_common.h"
#include "tail_db.h"

#include <stdbool.h>
#include <sys/types.h>

struct tail_recover_host {
	void *arg;
	struct tail_db *db;		       /* borrowed; NULL: no DB */
	const struct sl_strlist *paths;	       /* borrowed: Path */
	const struct sl_strlist *excludes;     /* borrowed: Exclude_Path */
	const struct sl_strlist *rotated_path; /* borrowed: Rotated_Path */
	bool search;			       /* Rotated_Search */
	/* The file is followed already (by dev+inode, or inode alone). */
	bool (*followed)(void *arg, dev_t dev, ino_t ino);
	bool (*followed_ino)(void *arg, uint64_t ino);
	/* Follow `path` as the old content of `name` from `off` to its end
	 * (strings borrowed). 0 or negative. */
	int (*follow)(void *arg, const char *path, const char *name,
		      int64_t off, const char *why);
	/* Content of `name` that cannot be read: `bytes`, or -1 unknown. */
	void (*lost)(void *arg, const char *name, const char *what,
		     int64_t bytes);
};

struct tail_recover {
	struct tail_recover_host h;
	/* files accounted for in this pass (followed, known to hold nothing
	 * unread, reported lost): not twice */
	struct tail_recover_claim {
		dev_t dev;
		ino_t ino;
	} * claimed;
	size_t n_claimed, cap_claimed;
};

/* Caller storage; the host is copied. */
void tail_recover_init(struct tail_recover *r,
		       const struct tail_recover_host *h);
void tail_recover_destroy(struct tail_recover *r);

/*
 * The file at `name` (borrowed) was truncated when we had read it to `off`
 * (its head then: `fp` over `fp_len` bytes; `known` bytes of it seen):
 * follows the rest in the copy beside it and any later copies, or reports
 * what is lost. Claims last until tail_recover_end_pass().
 */
void tail_recover_copy(struct tail_recover *r, const char *name,
		       uint32_t fp_len, uint64_t fp, int64_t off,
		       int64_t known);

/*
 * After a scan of Path: DB entries (of names Path still matches) whose
 * file is no longer at its path are found among the rotated siblings and
 * followed from their offsets, or reported; their entries go. With
 * `at_start`, rotated siblings modified after the DB's last save that
 * nothing follows are followed from 0. Ends the pass.
 */
void tail_recover_scan(struct tail_recover *r, bool at_start);

/* Forgets the claims of this pass. */
void tail_recover_end_pass(struct tail_recover *r);

#endif
