/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stdout.c - the stdout output (Fluent Bit's out_stdout). Format msgpack
 * (the default) prints records as Fluent Bit does,
 * `[0] tag: [[1700000000.000000000, {}], {"k"=>"v"}]`; json, json_lines and
 * json_stream print JSON with json_date_key / json_date_format. A chunk is
 * rendered on the worker thread and written with one write(2), so lines of
 * concurrent chunks never interleave mid-line. A write error that cannot
 * clear (stdout closed: EBADF, its reader gone: EPIPE; see
 * sl_output_errno_permanent) drops the chunk as `rejected`; others retry.
 */
#include "sl_format.h"
#include "sl_output.h"
#include "sl_output_error.h"
#include "sl_sanitize.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

struct stdout_ctx {
	/* config map */
	char *format;
	char *json_date_key;
	char *json_date_format;
	/* from init */
	bool print; /* Format msgpack: Fluent Bit's print style */
	struct sl_json_opts json;
	char *name; /* owned, for logs */
};

static const struct sl_cfg_option stdout_config[] = {
    {.name = "format",
     .type = SL_CFG_STR,
     .def = "msgpack",
     .offset = offsetof(struct stdout_ctx, format),
     .desc = "msgpack (Fluent Bit's record print), json, json_lines, "
	     "json_stream"},
    {.name = "json_date_key",
     .type = SL_CFG_STR,
     .def = "date",
     .offset = offsetof(struct stdout_ctx, json_date_key),
     .desc = "name of the date field in JSON formats; off/false: none"},
    {.name = "json_date_format",
     .type = SL_CFG_STR,
     .def = "double",
     .offset = offsetof(struct stdout_ctx, json_date_format),
     .desc = "double, epoch, epoch_ms, iso8601, java_sql_timestamp"},
    SL_CFG_END,
};

static int stdout_init(void *vctx, struct sl_output *out)
{
	struct stdout_ctx *ctx = vctx;
	struct sl_plugin_instance *ins = sl_output_instance(out);
	int line = sl_plugin_instance_line(ins);
	enum sl_json_format jf = SL_JSON_LINES;
	const char *what = NULL;
	int rc = 0;

	ctx->name = strdup(sl_plugin_instance_name(ins));
	if (!ctx->name)
		return -SL_ENOMEM;
	if (!ctx->format || strcasecmp(ctx->format, "msgpack") == 0) {
		ctx->print = true;
	} else if (sl_json_format_parse(ctx->format, &jf) < 0) {
		/* Fluent Bit warns and prints msgpack; a typo is an error here.
		 */
		sl_plugin_error(ins, line,
				"stdout: unknown format '%s' (msgpack, json, "
				"json_lines, json_stream)",
				ctx->format);
		rc = -SL_ECONFIG;
	}
	if (sl_json_opts_init(&ctx->json, jf, ctx->json_date_key,
			      ctx->json_date_format, &what) < 0) {
		sl_plugin_error(ins, line,
				"stdout: invalid %s '%s' (double, epoch, "
				"epoch_ms, iso8601, java_sql_timestamp)",
				what, ctx->json_date_format);
		rc = -SL_ECONFIG;
	}
	return rc;
}

static int stdout_worker_init(void *vctx, void **worker)
{
	struct sl_buf *b = calloc(1, sizeof(*b));

	if (!b)
		return -SL_ENOMEM;
	*worker = b;
	return 0;
}

static void stdout_worker_exit(void *vctx, void *worker)
{
	struct sl_buf *b = worker;

	if (!b)
		return;
	sl_buf_destroy(b);
	free(b);
}

static int render_records(const struct stdout_ctx *ctx, struct sl_buf *b,
			  const struct sl_chunk *c, const char *tag,
			  size_t tag_len)
{
	struct sl_chunk_iter it;
	const char *body;
	size_t len, n = 0;
	int64_t ts;

	if (sl_buf_reserve(b, c->data.len + c->records * 64u) < 0)
		return -SL_ENOMEM;
	if (!ctx->print && sl_format_json_begin(b, &ctx->json) < 0)
		return -SL_ENOMEM;
	sl_chunk_iter_init(&it, c);
	while (sl_chunk_next(&it, &ts, &body, &len)) {
		int rc = ctx->print ? sl_format_print_line(b, n, tag, tag_len,
							   ts, body, len)
				    : sl_format_json_record(b, &ctx->json, n,
							    ts, body, len);
		if (rc < 0)
			return rc;
		n++;
	}
	if (ctx->print || n == 0)
		return 0;
	if (sl_format_json_end(b, &ctx->json) < 0)
		return -SL_ENOMEM;
	/* Fluent Bit ends json and json_stream output with a newline too. */
	if (ctx->json.format != SL_JSON_LINES)
		return sl_buf_append(b, "\n", 1);
	return 0;
}

static int render(const struct stdout_ctx *ctx, struct sl_buf *b,
		  const struct sl_chunk *c)
{
	struct sl_buf tag = {0};
	int rc;

	/* a tag's CR/LF must not end the printed record's line */
	if (ctx->print && sl_sanitize_line_text(&tag, c->tag, c->tag_len) < 0)
		return -SL_ENOMEM;
	rc = render_records(ctx, b, c, tag.data ? tag.data : "", tag.len);
	sl_buf_destroy(&tag);
	return rc;
}

static int write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -SL_EIO;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void stdout_flush(void *vctx, void *worker, struct sl_flush *fl)
{
	struct stdout_ctx *ctx = vctx;
	struct sl_buf local = {0};
	struct sl_buf *b = worker ? worker : &local;
	enum sl_flush_result r = SL_FLUSH_OK;

	sl_buf_reset(b);
	if (render(ctx, b, sl_flush_chunk(fl)) < 0) {
		sl_log(SL_LOG_ERROR, ctx->name,
		       "out of memory formatting a chunk");
		r = SL_FLUSH_RETRY;
	} else if (write_all(STDOUT_FILENO, b->data, b->len) < 0) {
		int err = errno;
		bool permanent = sl_output_errno_permanent(err);

		sl_log(SL_LOG_ERROR, ctx->name, "cannot write to stdout: %s%s",
		       strerror(err),
		       permanent ? ": records dropped (rejected)"
				 : " (will retry)");
		r = permanent ? SL_FLUSH_ERROR : SL_FLUSH_RETRY;
	}
	if (b == &local)
		sl_buf_destroy(&local);
	sl_flush_done(fl, r);
}

static void stdout_destroy(void *vctx)
{
	struct stdout_ctx *ctx = vctx;

	free(ctx->name);
	ctx->name = NULL;
}

const struct sl_output_plugin sl_output_stdout = {
    .name = "stdout",
    .description = "Prints events to STDOUT",
    .config_map = stdout_config,
    .ctx_size = sizeof(struct stdout_ctx),
    .init = stdout_init,
    .worker_init = stdout_worker_init,
    .worker_exit = stdout_worker_exit,
    .flush = stdout_flush,
    .destroy = stdout_destroy,
};
