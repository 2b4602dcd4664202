/* SPDX-License-Identifier: Apache-2.0 */
/*
 * file.c - the file output (Fluent Bit's out_file): each chunk is rendered
 * into one buffer on the worker thread and appended to its file with one
 * write(2), the file opened and closed per flush so that users may move or
 * delete it at any time. Rotate on rotates a file by size before a write
 * (file_rotate.c), as Fluent Bit does; logrotate works too. Format msgpack
 * writes Fluent Bit's chunk layout ([[EventTime, {}], {record}] per record).
 *
 * A write error that a tag causes and the file system will keep returning
 * (sl_output_errno_permanent: ENAMETOOLONG, EISDIR, ENOTDIR, EACCES, ...,
 * under a Path that is itself fine) drops the chunk with reason `rejected`
 * instead of retrying it forever: one poison tag must not hold its input
 * at Mem_Buf_Limit, nor again after a restart.
 */
#include "sl_out_msgpack.h"
#include "file_format.h"
#include "sl_output.h"
#include "sl_output_error.h"
#include "sl_sanitize.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct file_ctx {
	/* config map */
	char *path;
	char *file;
	char *format;
	char *delimiter;
	char *label_delimiter;
	char *template;
	bool csv_column_names;
	bool mkdir;
	bool rotate;
	struct sl_out_file_rotation rotation;
	/* from init */
	struct sl_out_file_opts opts;
	char *name; /* instance name for logs, owned */
};

/* Per worker thread: buffers reused from chunk to chunk. */
struct file_worker {
	struct sl_buf out;
	struct sl_buf target;
	struct sl_buf tag; /* the tag as printed in lines, escaped */
	struct sl_fields fields;
	struct sl_record rec;	 /* format msgpack: the record being packed */
	struct sl_buf unescaped; /* format msgpack: scratch */
};

static const struct sl_cfg_option file_config[] = {
    {.name = "path",
     .type = SL_CFG_STR,
     .offset = offsetof(struct file_ctx, path),
     .desc = "directory of the files; File (or the tag) is appended"},
    {.name = "file",
     .type = SL_CFG_STR,
     .offset = offsetof(struct file_ctx, file),
     .desc = "file name (default: the tag, made safe)"},
    {.name = "format",
     .type = SL_CFG_STR,
     .def = "out_file",
     .offset = offsetof(struct file_ctx, format),
     .desc = "out_file (tag: [time, record]), plain (JSON lines; also "
	     "json_lines), csv, ltsv, template, msgpack (Fluent Bit's events)"},
    {.name = "delimiter",
     .type = SL_CFG_STR,
     .offset = offsetof(struct file_ctx, delimiter),
     .desc = "csv/ltsv field delimiter: \\t|tab, space, comma"},
    {.name = "label_delimiter",
     .type = SL_CFG_STR,
     .offset = offsetof(struct file_ctx, label_delimiter),
     .desc = "ltsv label delimiter: \\t|tab, space, comma (default ':')"},
    {.name = "template",
     .type = SL_CFG_STR,
     .def = "{time} {message}",
     .offset = offsetof(struct file_ctx, template),
     .desc = "template format: {time} and {key} placeholders"},
    {.name = "csv_column_names",
     .type = SL_CFG_BOOL,
     .def = "false",
     .offset = offsetof(struct file_ctx, csv_column_names),
     .desc = "csv: write the keys as a header line into an empty file"},
    {.name = "mkdir",
     .type = SL_CFG_BOOL,
     .def = "false",
     .offset = offsetof(struct file_ctx, mkdir),
     .desc = "create the directory (and parents, 0755) when missing"},
    {.name = "rotate",
     .type = SL_CFG_BOOL,
     .def = "false",
     .offset = offsetof(struct file_ctx, rotate),
     .desc = "size-based rotation of the output file"},
    {.name = "rotate_max_size",
     .type = SL_CFG_SIZE,
     .def = "100M",
     .min = 1,
     .offset = offsetof(struct file_ctx, rotation.max_size),
     .desc = "rotate the file once it holds this many bytes"},
    {.name = "rotate_max_files",
     .type = SL_CFG_INT,
     .def = "7",
     .min = 1,
     .max = 1000000,
     .offset = offsetof(struct file_ctx, rotation.max_files),
     .desc = "rotated files kept (the oldest are removed)"},
    {.name = "rotate_gzip",
     .type = SL_CFG_BOOL,
     .def = "true",
     .offset = offsetof(struct file_ctx, rotation.gzip),
     .desc = "gzip rotated files (.gz)"},
    SL_CFG_END,
};

static int file_init(void *vctx, struct sl_output *out)
{
	struct file_ctx *ctx = vctx;
	struct sl_plugin_instance *ins = sl_output_instance(out);
	int line = sl_plugin_instance_line(ins);
	const char *d;
	int rc = 0;

	ctx->name = strdup(sl_plugin_instance_name(ins));
	if (!ctx->name)
		return -SL_ENOMEM;
	if (sl_out_file_fmt_parse(ctx->format, &ctx->opts.fmt) < 0) {
		sl_plugin_error(ins, line,
				"file: unknown format '%s' (out_file, plain, "
				"json_lines, csv, ltsv, template, msgpack)",
				ctx->format);
		rc = -SL_ECONFIG;
	}
	ctx->opts.delimiter =
	    ctx->opts.fmt == SL_OUT_FILE_FMT_LTSV ? "\t" : ",";
	ctx->opts.label_delimiter = ":";
	/* Fluent Bit falls back to the default on an unknown delimiter name;
	 * sluice says so instead of silently writing something else. */
	if (ctx->delimiter) {
		d = sl_out_file_delimiter(ctx->delimiter);
		if (!d) {
			sl_plugin_error(
			    ins, line,
			    "file: delimiter '%s' is not one of \\t, "
			    "tab, space, comma",
			    ctx->delimiter);
			rc = -SL_ECONFIG;
		} else {
			ctx->opts.delimiter = d;
		}
	}
	if (ctx->label_delimiter) {
		d = sl_out_file_delimiter(ctx->label_delimiter);
		if (!d) {
			sl_plugin_error(ins, line,
					"file: label_delimiter '%s' is not one "
					"of \\t, tab, space, comma",
					ctx->label_delimiter);
			rc = -SL_ECONFIG;
		} else {
			ctx->opts.label_delimiter = d;
		}
	}
	ctx->opts.template = ctx->template ? ctx->template : "{time} {message}";
	ctx->opts.csv_column_names = ctx->csv_column_names;
	return rc;
}

static int file_worker_init(void *vctx, void **worker)
{
	struct file_worker *w = calloc(1, sizeof(*w));

	if (!w)
		return -SL_ENOMEM;
	sl_record_init(&w->rec);
	*worker = w;
	return 0;
}

/* Frees what the worker's scratch holds (not the struct itself). */
static void worker_clear(struct file_worker *w)
{
	sl_buf_destroy(&w->out);
	sl_buf_destroy(&w->target);
	sl_buf_destroy(&w->tag);
	sl_fields_destroy(&w->fields);
	sl_record_destroy(&w->rec);
	sl_buf_destroy(&w->unescaped);
}

static void file_worker_exit(void *vctx, void *worker)
{
	struct file_worker *w = worker;

	if (!w)
		return;
	worker_clear(w);
	free(w);
}

/* Whether the csv header is due: the target is absent or empty. */
static bool target_empty(const char *target)
{
	struct stat st;

	return stat(target, &st) < 0 || st.st_size == 0;
}

/*
 * Whether a failed write will fail again whatever the wait, because of
 * the record's tag: the name came from the tag (no File option) and Path
 * itself is a usable directory, so what is wrong is the tag's part
 * (sl_output_errno_permanent, or ENOENT: a tag's subdirectory without
 * Mkdir). A broken Path or File is the operator's to fix (a volume not
 * mounted yet, a permission being repaired): those errors are retried, the
 * input pauses at its limit and the health check sees the errors.
 */
static bool write_error_permanent(const struct file_ctx *ctx, int err)
{
	const char *base = ctx->path && *ctx->path ? ctx->path : ".";
	struct stat st;

	if (ctx->file && *ctx->file)
		return false;
	if (stat(base, &st) < 0 || !S_ISDIR(st.st_mode) ||
	    access(base, W_OK | X_OK) < 0)
		return false;
	return err == ENOENT || sl_output_errno_permanent(err);
}

static enum sl_flush_result flush_chunk(struct file_ctx *ctx,
					struct file_worker *w,
					const struct sl_chunk *c)
{
	struct sl_chunk_iter it;
	const char *body;
	size_t len;
	int64_t ts;
	bool header;
	int err;

	if (sl_out_file_path(&w->target, ctx->path, ctx->file, c->tag,
			     c->tag_len) < 0)
		return SL_FLUSH_RETRY;
	if (ctx->rotate)
		sl_out_file_rotate(w->target.data, &ctx->rotation, ctx->name);
	if (ctx->opts.fmt == SL_OUT_FILE_FMT_PLAIN) {
		if (sl_out_file_append_lines(w->target.data, ctx->mkdir, c) < 0)
			goto write_error;
		return SL_FLUSH_OK;
	}
	header = ctx->opts.fmt == SL_OUT_FILE_FMT_CSV &&
		 ctx->opts.csv_column_names && target_empty(w->target.data);
	/* a tag's CR/LF must not end the record's line */
	sl_buf_reset(&w->tag);
	if (sl_sanitize_line_text(&w->tag, c->tag, c->tag_len) < 0 ||
	    sl_buf_append(&w->tag, "", 1) < 0)
		return SL_FLUSH_RETRY;
	sl_buf_reset(&w->out);
	/* Grows to the chunk's size once, then is reused. */
	if (sl_buf_reserve(&w->out, c->data.len + c->records * 48u) < 0)
		return SL_FLUSH_RETRY;
	sl_chunk_iter_init(&it, c);
	while (ctx->opts.fmt == SL_OUT_FILE_FMT_MSGPACK &&
	       sl_chunk_next(&it, &ts, &body, &len)) {
		/* a sealed chunk's bodies are objects: only ENOMEM fails */
		if (sl_record_reset_json(&w->rec, ts, body, len) < 0 ||
		    sl_out_msgpack_event(&w->out, &w->unescaped, &w->rec) < 0) {
			sl_log(SL_LOG_ERROR, ctx->name,
			       "out of memory packing a chunk");
			return SL_FLUSH_RETRY;
		}
	}
	while (sl_chunk_next(&it, &ts, &body, &len)) {
		if (sl_out_file_render(&w->out, &ctx->opts, &w->fields, &header,
				       w->tag.data, w->tag.len - 1, ts, body,
				       len) < 0) {
			sl_log(SL_LOG_ERROR, ctx->name,
			       "out of memory formatting a chunk");
			return SL_FLUSH_RETRY;
		}
	}
	if (w->out.len == 0)
		return SL_FLUSH_OK;
	if (sl_out_file_append(w->target.data, ctx->mkdir, w->out.data,
			       w->out.len) < 0)
		goto write_error;
	return SL_FLUSH_OK;
write_error:
	err = errno;
	if (write_error_permanent(ctx, err)) {
		/* the cause first: a long target may be cut off the line */
		sl_log(SL_LOG_ERROR, ctx->name,
		       "%s: %u records dropped (rejected), not retried: "
		       "cannot write %s",
		       strerror(err), c->records, w->target.data);
		return SL_FLUSH_ERROR;
	}
	sl_log(SL_LOG_ERROR, ctx->name, "%s (will retry): cannot write %s",
	       strerror(err), w->target.data);
	return SL_FLUSH_RETRY;
}

static void file_flush(void *vctx, void *worker, struct sl_flush *fl)
{
	struct file_ctx *ctx = vctx;
	struct file_worker local = {0};
	struct file_worker *w = worker ? worker : &local;
	enum sl_flush_result r;

	if (w == &local)
		sl_record_init(&local.rec);
	r = flush_chunk(ctx, w, sl_flush_chunk(fl));
	if (w == &local)
		worker_clear(&local);
	sl_flush_done(fl, r);
}

static void file_destroy(void *vctx)
{
	struct file_ctx *ctx = vctx;

	free(ctx->name);
	ctx->name = NULL;
}

const struct sl_output_plugin sl_output_file = {
    .name = "file",
    .description = "Generate log file",
    .config_map = file_config,
    .ctx_size = sizeof(struct file_ctx),
    .init = file_init,
    .worker_init = file_worker_init,
    .worker_exit = file_worker_exit,
    .flush = file_flush,
    .destroy = file_destroy,
};
