/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tail_rotated.h - finding where a file went: the rotated siblings of a
 * path (renamed, copied by copytruncate, gzip-compressed) and which of them
 * is the file a DB entry describes, known by inode and head fingerprint.
 * Pure functions of the file system: it opens nothing for reading lines,
 * follows nothing and decides nothing about offsets (tail.c does).
 */
#ifndef TAIL_ROTATED_H
#define TAIL_ROTATED_H

#include "sl_common.h"

#include <stdbool.h>
#include <sys/stat.h>

/*
 * Called for each candidate: `path` and `st` (stat, symlinks followed) are
 * borrowed for the call. Return 0 to go on, negative to stop with it.
 */
typedef int (*tail_rot_each_fn)(void *arg, const char *path,
				const struct stat *st);

/*
 * Lists the rotated siblings of `name` (borrowed): regular files in its
 * folder, and in the folder of its symlink target (kubelet's
 * /var/log/containers links), whose names begin with its name ("app.log.1",
 * "0.log.20240101-120000", "app.log-20240101.gz") or with its stem and end
 * with its extension ("app.1.log", "app-20240101.log"), plus what the
 * `extra` globs match (Rotated_Path; may be NULL). Never the file now at
 * `name` itself; each file once. Returns 0 or the first negative code (fn's,
 * or -SL_ENOMEM).
 */
int tail_rotated_each(const char *name, const struct sl_strlist *extra,
		      tail_rot_each_fn fn, void *arg);

/* The file at `path` starts with the gzip magic. */
bool tail_rotated_is_gz(const char *path);

/*
 * For a gzip file: the fingerprint of the first `fp_len` uncompressed bytes
 * (*fp; -SL_ENOENT when it holds fewer) and its uncompressed size from the
 * trailer (*size; modulo 4 GiB, the last member only, as gzip -l says).
 * 0, -SL_ENOENT, -SL_EPARSE (not gzip, corrupt) or -SL_EIO.
 */
int tail_rotated_gz_probe(const char *path, uint32_t fp_len, uint64_t *fp,
			  int64_t *size);

/*
 * The plain (uncompressed) file at `path` starts with `fp_len` bytes whose
 * fingerprint is `fp`: 1 yes, 0 no (or shorter), negative on errors.
 */
int tail_rotated_fp_matches(const char *path, uint32_t fp_len, uint64_t fp);

#endif
