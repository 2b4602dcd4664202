/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stdin.c - the stdin input: one record per line of standard input, a JSON
 * object as it is (or the output of `Parser`); anything else is kept as
 * {"log": line} and counted as a parse error. EOF finishes the input.
 * Reads only when libevent says fd 0 is readable (regular files, which
 * epoll cannot watch, are read in turns); it never sets O_NONBLOCK on a
 * descriptor it shares with its parent.
 */
#include "sl_input.h"
#include "sl_log.h"
#include "sl_parser.h"

#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct stdin_ctx {
	/* config map */
	char *parser_name;
	int64_t buffer_size;

	/* runtime */
	struct sl_input *in;		/* borrowed */
	const struct sl_parser *parser; /* borrowed from the instance */
	int fd;
	char *buf; /* owned: unprocessed bytes */
	size_t len, cap;
	bool skipping; /* dropping an overlong line */
	bool is_file;  /* fd 0 is a regular file */
	bool eof, paused, stopped;
	uint64_t long_lines;
	struct sl_record rec;
	bool rec_ok;
	struct event *ev;
};

static const struct sl_cfg_option stdin_config[] = {
    {.name = "Parser",
     .type = SL_CFG_STR,
     .offset = offsetof(struct stdin_ctx, parser_name),
     .desc = "parser applied to each line (default: JSON objects)"},
    {.name = "Buffer_Size",
     .type = SL_CFG_SIZE,
     .def = "16K",
     .min = 1,
     .max = 1e10,
     .offset = offsetof(struct stdin_ctx, buffer_size),
     .desc = "longest line accepted"},
    SL_CFG_END,
};

static bool blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

static void emit_line(struct stdin_ctx *ctx, const char *line, size_t len)
{
	size_t tag_len;
	const char *tag = sl_input_tag(ctx->in, &tag_len);
	int64_t now = sl_now_ns();
	int rc;

	if (len && line[len - 1] == '\r')
		len--;
	if (blank(line, len))
		return;
	if (ctx->parser) {
		sl_record_reset_line(&ctx->rec, now, "log", 3, line, len);
		rc = sl_parser_apply(ctx->parser, line, len, &ctx->rec);
	} else {
		rc = sl_record_reset_json(&ctx->rec, now, line, len);
		if (rc < 0)
			sl_record_reset_line(&ctx->rec, now, "log", 3, line,
					     len);
	}
	if (rc < 0 && rc != -SL_ENOMEM)
		sl_record_flag_parse_error(&ctx->rec);
	sl_input_emit(ctx->in, tag, tag_len, &ctx->rec);
}

/* Emits the complete lines held; keeps the partial one. Returns false
 * when it stopped because the input got paused. */
static bool drain(struct stdin_ctx *ctx)
{
	size_t pos = 0;
	bool go_on = true;

	while (pos < ctx->len) {
		char *nl = memchr(ctx->buf + pos, '\n', ctx->len - pos);
		size_t len;

		if (!nl)
			break;
		len = (size_t)(nl - (ctx->buf + pos));
		if (ctx->skipping)
			ctx->skipping = false;
		else
			emit_line(ctx, ctx->buf + pos, len);
		pos += len + 1;
		if (sl_input_paused(ctx->in)) {
			go_on = false;
			break;
		}
	}
	memmove(ctx->buf, ctx->buf + pos, ctx->len - pos);
	ctx->len -= pos;
	if (go_on && ctx->len == ctx->cap) {
		/* a line longer than Buffer_Size: drop it up to its end */
		if (ctx->long_lines++ == 0)
			sl_log(SL_LOG_WARN, "stdin",
			       "skipping lines longer than "
			       "Buffer_Size (%zu bytes)",
			       ctx->cap);
		ctx->skipping = true;
		ctx->len = 0;
	}
	return go_on;
}

static void finish(struct stdin_ctx *ctx)
{
	if (ctx->len && !ctx->skipping)
		emit_line(ctx, ctx->buf, ctx->len); /* unterminated last line */
	ctx->len = 0;
	ctx->eof = true;
	if (ctx->ev)
		event_del(ctx->ev);
	sl_input_finished(ctx->in);
}

/* One read. Returns false when no more reading should happen now. */
static bool read_once(struct stdin_ctx *ctx)
{
	ssize_t n;

	if (ctx->eof || ctx->stopped || ctx->paused || sl_input_paused(ctx->in))
		return false;
	if (!drain(ctx))
		return false;
	n = read(ctx->fd, ctx->buf + ctx->len, ctx->cap - ctx->len);
	if (n < 0) {
		if (errno == EINTR || errno == EAGAIN)
			return false;
		sl_log(SL_LOG_ERROR, "stdin", "read failed: %s",
		       strerror(errno));
		finish(ctx);
		return false;
	}
	if (n == 0) {
		drain(ctx);
		finish(ctx);
		return false;
	}
	sl_input_add_bytes(ctx->in, (uint64_t)n);
	ctx->len += (size_t)n;
	return drain(ctx);
}

static void on_event(evutil_socket_t fd, short what, void *arg)
{
	struct stdin_ctx *ctx = arg;

	(void)fd;
	(void)what;
	/* A regular file is always "readable": read a few blocks per turn
	 * and come back, so other events get the loop too. */
	if (ctx->is_file) {
		for (int i = 0; i < 16; i++)
			if (!read_once(ctx))
				return;
		event_active(ctx->ev, EV_READ, 0);
		return;
	}
	read_once(ctx);
}

static int stdin_init(void *data, struct sl_input *in)
{
	struct stdin_ctx *ctx = data;
	struct sl_plugin_instance *ins = sl_input_instance(in);

	ctx->in = in;
	if (ctx->parser_name) {
		ctx->parser =
		    sl_parsers_find(sl_instance_parsers(ins), ctx->parser_name);
		if (!ctx->parser) {
			sl_plugin_error(ins, 0, "Parser '%s' is not defined",
					ctx->parser_name);
			return -SL_ECONFIG;
		}
	}
	sl_record_init(&ctx->rec);
	ctx->rec_ok = true;
	return 0;
}

static int stdin_start(void *data, struct sl_input *in)
{
	struct stdin_ctx *ctx = data;
	struct stat st;

	ctx->fd = STDIN_FILENO;
	ctx->cap = (size_t)ctx->buffer_size;
	ctx->buf = malloc(ctx->cap);
	if (!ctx->buf)
		return -SL_ENOMEM;
	ctx->is_file = fstat(ctx->fd, &st) == 0 && S_ISREG(st.st_mode);
	ctx->ev =
	    event_new(sl_input_base(in), ctx->is_file ? -1 : ctx->fd,
		      ctx->is_file ? 0 : EV_READ | EV_PERSIST, on_event, ctx);
	if (!ctx->ev)
		return -SL_ENOMEM;
	if (ctx->is_file) {
		event_active(ctx->ev, EV_READ, 0);
	} else if (event_add(ctx->ev, NULL) < 0) {
		sl_log(SL_LOG_ERROR, "stdin",
		       "standard input cannot be "
		       "watched");
		return -SL_EIO;
	}
	return 0;
}

static void stdin_pause(void *data)
{
	struct stdin_ctx *ctx = data;

	ctx->paused = true;
	if (ctx->ev && !ctx->is_file)
		event_del(ctx->ev);
}

static void stdin_resume(void *data)
{
	struct stdin_ctx *ctx = data;

	ctx->paused = false;
	if (!ctx->ev || ctx->eof || ctx->stopped)
		return;
	if (ctx->is_file)
		event_active(ctx->ev, EV_READ, 0);
	else if (drain(ctx))
		event_add(ctx->ev, NULL);
}

static void stdin_stop(void *data)
{
	struct stdin_ctx *ctx = data;

	ctx->stopped = true;
	if (ctx->ev) {
		event_free(ctx->ev);
		ctx->ev = NULL;
	}
}

static void stdin_destroy(void *data)
{
	struct stdin_ctx *ctx = data;

	stdin_stop(ctx);
	free(ctx->buf);
	ctx->buf = NULL;
	if (ctx->rec_ok)
		sl_record_destroy(&ctx->rec);
	ctx->rec_ok = false;
}

const struct sl_input_plugin sl_input_stdin = {
    .name = "stdin",
    .description = "read records from standard input, one per line",
    .config_map = stdin_config,
    .ctx_size = sizeof(struct stdin_ctx),
    .init = stdin_init,
    .start = stdin_start,
    .pause = stdin_pause,
    .resume = stdin_resume,
    .stop = stdin_stop,
    .destroy = stdin_destroy,
};
