/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tail_wd.h - which followed file an inotify watch descriptor belongs to.
 * A sorted array searched in O(log n), because every inotify event names a
 * watch: walking the file list per event made 5,000 files at 10 lines/s
 * cost 250M list steps a second and starved the reading (issue 15). Holds
 * borrowed file pointers only; knows nothing of inotify itself.
 */
#ifndef TAIL_WD_H
#define TAIL_WD_H

#include "sl_common.h"

#include <stddef.h>

struct tail_file;

struct tail_wd_ent {
	int wd;
	struct tail_file *file; /* borrowed: the file list owns it */
};

struct tail_wd_map {
	struct tail_wd_ent *v; /* owned, sorted by wd */
	size_t n, cap;
};

/* Starts empty (caller storage). */
void tail_wd_init(struct tail_wd_map *m);
/* Frees the array (not the files); idempotent. */
void tail_wd_destroy(struct tail_wd_map *m);
/*
 * Maps `wd` to `f` (borrowed until removed), replacing what `wd` mapped to:
 * the kernel gives one watch per inode, so the newest owner is the one.
 * 0 or -SL_ENOMEM (the map is unchanged).
 */
int tail_wd_add(struct tail_wd_map *m, int wd, struct tail_file *f);
/* Forgets `wd` when it maps to `f` (another file took the number since). */
void tail_wd_remove(struct tail_wd_map *m, int wd, const struct tail_file *f);
/* The file watched by `wd`, or NULL. */
struct tail_file *tail_wd_find(const struct tail_wd_map *m, int wd);

#endif
