/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tail_scan.h - which files a tail instance follows: Path globs minus
 * Exclude_Path patterns, Ignore_Older, and the tag each file's records
 * carry. Pure functions of the file system; no engine, no state.
 */
#ifndef TAIL_SCAN_H
#define TAIL_SCAN_H

#include "sl_common.h"

#include <sys/stat.h>

struct tail_scan_opts {
	const struct sl_strlist *paths;	   /* borrowed: glob patterns */
	const struct sl_strlist *excludes; /* borrowed, may be NULL */
	double ignore_older;		   /* seconds; 0 = off */
	int64_t now_ns;			   /* injected clock (realtime) */
};

/*
 * Called once per matching regular file (each path at most once per scan,
 * in glob order). `path` and `st` are borrowed for the call. Return 0 to go
 * on, negative to stop the scan with that code.
 */
typedef int (*tail_scan_fn)(void *arg, const char *path, const struct stat *st);

/*
 * Expands every pattern, drops excluded, non-regular and (with
 * ignore_older) old files. Patterns that match nothing are not errors.
 * Returns the number of files reported, or a negative code.
 */
int tail_scan(const struct tail_scan_opts *o, tail_scan_fn fn, void *arg);

/* True when `path` matches one of `excludes` (fnmatch, '*' crosses '/'). */
bool tail_scan_excluded(const struct sl_strlist *excludes, const char *path);

/*
 * True when `path` is one the Path globs (`paths`, glob rules: '*' stays
 * within a folder) match and `excludes` does not: a file the scan follows.
 */
bool tail_scan_matches(const struct sl_strlist *paths,
		       const struct sl_strlist *excludes, const char *path);

/*
 * The tag of a file, as Fluent Bit composes it: when `tag` holds a '*', it
 * is replaced by `path` and then '/', '\\' and ':' become '.' (dropped at
 * the very start), runs of '.' collapse, other '*' go, and a trailing '.'
 * goes: "kube.*" + "/var/log/a.log" = "kube.var.log.a.log". A tag without
 * '*' is copied. Returns 0 and *out (malloc'd, NUL-terminated) and
 * *out_len, or -SL_ENOMEM.
 */
int tail_tag_compose(const char *tag, const char *path, char **out,
		     size_t *out_len);

#endif
