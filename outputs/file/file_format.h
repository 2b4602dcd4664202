/* SPDX-License-Identifier: Apache-2.0 */
/*
 * file_format.h - the file output's pieces that need no engine: Fluent
 * Bit's file formats (out_file, plain, csv, ltsv, template) one record at
 * a time into a buffer, the target path from Path/File/tag, and the append
 * of one buffer to a file. file.c is the plugin glue around them; unit
 * tests use these directly.
 */
#ifndef SL_OUT_FILE_FORMAT_H
#define SL_OUT_FILE_FORMAT_H

#include "sl_chunk.h"
#include "sl_format.h"

#include <stdbool.h>

enum sl_out_file_fmt {
	SL_OUT_FILE_FMT_OUT_FILE = 0, /* "tag: [sec.nsec, {json}]" (default) */
	SL_OUT_FILE_FMT_PLAIN,	      /* {json} (also "json_lines") */
	SL_OUT_FILE_FMT_CSV,
	SL_OUT_FILE_FMT_LTSV,
	SL_OUT_FILE_FMT_TEMPLATE,
	SL_OUT_FILE_FMT_MSGPACK, /* Fluent Bit's events, packed by file.c */
};

/*
 * "out_file|plain|json_lines|csv|ltsv|template|msgpack" (any case).
 * Returns 0 or -SL_EINVAL.
 */
int sl_out_file_fmt_parse(const char *s, enum sl_out_file_fmt *out);
/* Fluent Bit's delimiter names: "\t" or "tab", "space", "comma"; else NULL
 * (Fluent Bit then keeps the format's default). */
const char *sl_out_file_delimiter(const char *s);

/* What a format needs; strings borrowed from the plugin context. */
struct sl_out_file_opts {
	enum sl_out_file_fmt fmt;
	const char *delimiter;	     /* csv ",", ltsv "\t" */
	const char *label_delimiter; /* ltsv ":" */
	const char *template;	     /* "{time} {message}" */
	bool csv_column_names;
};

/*
 * Appends one record's text, with its newline. `fields` is caller-owned
 * scratch reused across records. *header (csv with column names) is set by
 * the caller when the file is empty and cleared once the header is out.
 * csv and ltsv write nothing for an empty record, as Fluent Bit.
 * 0 or -SL_ENOMEM; -SL_EINVAL for msgpack (sl_out_msgpack_event's).
 */
int sl_out_file_render(struct sl_buf *out, const struct sl_out_file_opts *o,
		       struct sl_fields *fields, bool *header, const char *tag,
		       size_t tag_len, int64_t ts_ns, const char *body,
		       size_t len);

/*
 * The target path, NUL-terminated, into `out` (reset first):
 * [path "/"] (file or the tag made safe by sl_sanitize_file_path: each
 * '/'-separated part keeps [A-Za-z0-9._-], other bytes become '_', "." and
 * ".." become "_", a part over NAME_MAX is shortened with a hash).
 * 0 or -SL_ENOMEM.
 */
int sl_out_file_path(struct sl_buf *out, const char *path, const char *file,
		     const char *tag, size_t tag_len);

/* Creates `dir` and its parents (0755). 0 or -SL_EIO (errno set). */
int sl_out_file_mkdirs(const char *dir);

/*
 * Appends [data, data+len) to `target` with O_APPEND (one write(2) for
 * the whole buffer when the kernel allows), creating the file (0644) and,
 * when `mkdirs`, its directory. 0 or -SL_EIO with errno set.
 */
/*
 * Appends every record of `c` as one JSON line (the plain format), written
 * straight from the chunk with writev: no staging copy. 0 or -SL_EIO
 * (errno set).
 */
int sl_out_file_append_lines(const char *target, bool mkdirs,
			     const struct sl_chunk *c);
int sl_out_file_append(const char *target, bool mkdirs, const char *data,
		       size_t len);

/* Rotate on (file_rotate.c). */
struct sl_out_file_rotation {
	int64_t max_size;  /* Rotate_Max_Size: rotate at this size or more */
	int64_t max_files; /* Rotate_Max_Files: rotated files kept */
	bool gzip;	   /* Rotate_Gzip */
};

/*
 * Before a write to `target`: when it holds r->max_size bytes or more,
 * renames it as Fluent Bit does, gzips it when asked and removes the
 * oldest rotated files beyond r->max_files. Failures are logged under
 * `log_name`, never returned: the write goes on to the file as it is.
 */
void sl_out_file_rotate(const char *target,
			const struct sl_out_file_rotation *r,
			const char *log_name);

#endif
