/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tail_file.h - one followed file: open, read blocks, cut lines, notice
 * truncation and rotation. Knows nothing of the engine: lines go to a
 * callback, so that the unit tests drive this file alone.
 */
#ifndef TAIL_FILE_H
#define TAIL_FILE_H

#include "sl_common.h"
#include "tail_ack.h"
#include "tail_multiline.h"

#include <stdbool.h>
#include <sys/types.h>

struct tail_file {
	char *name; /* owned: the path as matched (kept after rotation) */
	size_t name_len;
	int fd;
	dev_t dev;
	ino_t ino;
	/* Everything before `offset` has been handed to the line callback;
	 * reading always restarts there (a partial last line is re-read). */
	int64_t offset;
	int64_t line_end; /* during the line callback: offset after the line */
	bool skipping;	  /* inside a long line being skipped */
	bool at_eof;	  /* the last read found no more data */
	bool failed;	  /* stopped after an error (long line, I/O) */
	bool rotated;	  /* `name` no longer names this file */
	bool pending;	  /* there may be data to read */
	int64_t eof_size; /* where the last read found the end */
	int64_t eof_mono_ns; /* when a rotated file was first seen at EOF */
	uint64_t long_lines; /* lines skipped for being too long */
	uint64_t truncations;
	/* Truncation (copytruncate) is seen as the size going below the
	 * largest size seen, or the head changing under us (a file truncated
	 * and grown back past where we were). */
	int64_t size_max;  /* largest size seen */
	uint32_t head_len; /* bytes the head fingerprint covers (<= 256) */
	uint64_t head_fp;
	/* Set by a truncation, cleared by tail.c once it looked for the copy:
	 * where this file was read to, its head before, and its size then. */
	bool trunc_pending;
	int64_t trunc_offset, trunc_size;
	uint32_t trunc_fp_len;
	uint64_t trunc_fp;
	char *tag; /* owned: the tag its records carry */
	size_t tag_len;
	int wd; /* inotify watch, -1 when none */
	/* Owned by the file, used by tail.c: what is committed (DB), the
	 * multiline group being joined, the "kubernetes" object or NULL. */
	struct tail_ack ack;
	struct tail_ml_group ml;
	char *k8s;
	size_t k8s_len;
	struct tail_file *next;
};

/* How lines are cut. */
struct tail_line_opts {
	size_t max_line; /* Buffer_Max_Size: longest line kept (bytes) */
	bool skip_long;	 /* Skip_Long_Lines */
	bool skip_empty; /* Skip_Empty_Lines */
};

/*
 * Called for each complete line, '\n' and a trailing '\r' removed. `line`
 * is borrowed until the callback returns. `off` is the file offset of the
 * line's first byte, f->line_end the offset after it, `ts_ns` the read time.
 * Return 0 to go on, 1 to stop after this line (paused), or a negative code
 * (the line counts as read).
 */
typedef int (*tail_line_fn)(void *arg, struct tail_file *f, const char *line,
			    size_t len, int64_t off, int64_t ts_ns);

enum tail_read_status {
	TAIL_READ_EOF = 0,  /* no more data now */
	TAIL_READ_MORE = 1, /* a full block was read: call again */
	TAIL_READ_STOP = 2, /* the callback asked to stop */
};

/*
 * Opens `path` (regular files only) and fills a new file at offset 0.
 * Returns 0 and *out (owned by the caller, tail_file_destroy), -SL_ENOENT
 * (gone or not a regular file), -SL_EIO or -SL_ENOMEM.
 */
int tail_file_open(const char *path, struct tail_file **out);
/* Closes and frees; accepts NULL. */
void tail_file_destroy(struct tail_file *f);
/* Sets the tag (copied). 0 or -SL_ENOMEM. */
int tail_file_set_tag(struct tail_file *f, const char *tag, size_t len);

/*
 * Reads one block at f->offset into `buf` (cap bytes, scratch owned by the
 * caller, cap > opts->max_line + 2) and hands every complete line to `fn`.
 * When no more data is found and the file is now shorter than the offset
 * (copytruncate), restarts at 0 and returns TAIL_READ_MORE. Returns a
 * tail_read_status, -SL_ETOOBIG for a line over max_line without
 * skip_long (f->failed set, offset left at that line), or -SL_EIO.
 */
int tail_file_read(struct tail_file *f, char *buf, size_t cap,
		   const struct tail_line_opts *opts, int64_t ts_ns,
		   tail_line_fn fn, void *arg);

/*
 * Hands the unterminated last line (if any) to `fn` as a line and moves
 * the offset past it: for Exit_On_Eof. Same return codes.
 */
int tail_file_flush_partial(struct tail_file *f, char *buf, size_t cap,
			    const struct tail_line_opts *opts, int64_t ts_ns,
			    tail_line_fn fn, void *arg);

/* Current size of the open file, or -SL_EIO. */
int64_t tail_file_size(const struct tail_file *f);

/*
 * Takes the truncation when the first bytes of the file no longer match the
 * fingerprint taken earlier (truncated and grown back): 1 when it was
 * truncated (offset now 0, trunc_pending set), 0 when not, negative on
 * errors. Also extends the head fingerprint as the file grows.
 */
int tail_file_check_head(struct tail_file *f);

/*
 * True (1) when f->name now names another file or nothing (rename
 * rotation, deletion), 0 when it still names f, negative on other errors.
 */
int tail_file_check_rotated(const struct tail_file *f);

#endif
