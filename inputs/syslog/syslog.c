/* SPDX-License-Identifier: Apache-2.0 */
/*
 * syslog.c - Fluent Bit's in_syslog: options, one record per message, and
 * the input's counters. Messages are parsed by the built-in RFC 5424/3164
 * parser (syslog_parse.c) unless `Parser` names a [PARSER]; one that does
 * not parse is kept as {"log": message} and counted as a parse error,
 * never dropped. The sockets are syslog_net.c's.
 */
#include "syslog.h"

#include "sl_httpd.h"
#include "sl_cfgmap.h"
#include "sl_instance.h"
#include "sl_log.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define OFF(f) offsetof(struct syslog_ctx, f)
static const struct sl_cfg_option syslog_config[] = {
    {.name = "Mode",
     .type = SL_CFG_STR,
     .def = "unix_udp",
     .offset = OFF(mode_str),
     .desc = "udp, tcp, unix_udp or unix_tcp"},
    {.name = "Listen",
     .type = SL_CFG_STR,
     .def = "0.0.0.0",
     .offset = OFF(listen),
     .desc = "address to listen on (udp, tcp)"},
    {.name = "Port",
     .type = SL_CFG_INT,
     .def = "5140",
     .min = 0,
     .max = 65535,
     .offset = OFF(port),
     .desc = "port (udp, tcp)"},
    {.name = "Path",
     .type = SL_CFG_STR,
     .offset = OFF(path),
     .desc = "socket file (unix_udp, unix_tcp)"},
    {.name = "Unix_Perm",
     .type = SL_CFG_STR,
     .def = "0644",
     .offset = OFF(unix_perm_str),
     .desc = "octal permissions of the socket file"},
    {.name = "Parser",
     .type = SL_CFG_STR,
     .offset = OFF(parser_name),
     .desc = "a [PARSER] for each message (default: the built-in RFC "
	     "5424/3164 parser)"},
    {.name = "Buffer_Chunk_Size",
     .type = SL_CFG_SIZE,
     .def = "32K",
     .min = 1,
     .max = 1e9,
     .offset = OFF(chunk_size),
     .desc = "read size, and buffer kept per connection between messages"},
    {.name = "Buffer_Max_Size",
     .type = SL_CFG_SIZE,
     .def = "0",
     .min = 0,
     .max = 1e9,
     .offset = OFF(max_size),
     .desc = "longest message; longer ones are skipped and counted "
	     "(0: Buffer_Chunk_Size)"},
    {.name = "Receive_Buffer_Size",
     .type = SL_CFG_SIZE,
     .def = "0",
     .min = 0,
     .max = 2147483647,
     .offset = OFF(rcvbuf),
     .desc = "SO_RCVBUF of the socket (0: the system's)"},
    {.name = "Source_Address_Key",
     .type = SL_CFG_STR,
     .offset = OFF(source_address_key),
     .desc = "add the sender (udp://IP:PORT, tcp://IP:PORT, unix://PATH) "
	     "under this key"},
    {.name = "Raw_Message_Key",
     .type = SL_CFG_STR,
     .offset = OFF(raw_message_key),
     .desc = "add the message as received under this key"},
    {.name = "Structured_Data_Key",
     .type = SL_CFG_STR,
     .offset = OFF(sd_key),
     .desc = "sluice: add RFC 5424 structured data as a map "
	     "{SD-ID: {PARAM: VALUE}} under this key"},
    {.name = "Format",
     .type = SL_CFG_STR,
     .flags = SL_CFG_IGNORED,
     .desc = "accepted; each frame's framing (octet counting or newline) is "
	     "detected from its first byte (RFC 6587)"},
    {.name = "Max_Connections",
     .type = SL_CFG_INT,
     .def = "1024",
     .min = 1,
     .max = 1e6,
     .offset = OFF(max_conns),
     .desc = "sluice: open stream connections at most (tcp, unix_tcp)"},
    SL_HTTPD_TLS_CFG(struct syslog_ctx),
    SL_CFG_END,
};

void syslog_count(struct syslog_ctx *ctx, enum syslog_counter c, uint64_t n)
{
	if (n && ctx->m[c])
		sl_metric_add(ctx->m[c], (double)n);
}

static const struct {
	const char *name, *help;
} counters[SYSLOG_M_N] = {
    [SYSLOG_M_OVERSIZE] = {"sluice_syslog_oversize_total",
			   "Messages over Buffer_Max_Size, skipped"},
    [SYSLOG_M_TRUNCATED] = {"sluice_syslog_truncated_total",
			    "Octet-counted frames cut short by the end of "
			    "their connection"},
    [SYSLOG_M_UDP_DROPPED] = {"sluice_syslog_udp_dropped_total",
			      "Datagrams dropped by the kernel before sluice "
			      "read them (socket buffer full, SO_RXQ_OVFL)"},
    [SYSLOG_M_CONN_REFUSED] = {"sluice_syslog_connections_refused_total",
			       "Connections closed at once: over "
			       "Max_Connections"},
};

static void register_metrics(struct syslog_ctx *ctx,
			     struct sl_plugin_instance *ins)
{
	static const char *const labels[] = {"name"};
	struct sl_metrics *reg = sl_instance_metrics(ins);
	const char *values[] = {sl_plugin_instance_name(ins)}, *err;

	if (!reg)
		return; /* unit tests: no registry */
	for (int i = 0; i < SYSLOG_M_N; i++) {
		struct sl_metric_family *f = sl_metrics_family(
		    reg, counters[i].name, counters[i].help, SL_METRIC_COUNTER,
		    labels, 1, NULL, 0, &err);

		if (f)
			ctx->m[i] = sl_metric_series_get(reg, f, values);
	}
}

/* Source_Address_Key and Raw_Message_Key, added to the record built. */
static int add_extras(struct syslog_ctx *ctx, const char *msg, size_t len,
		      const char *peer)
{
	int rc = 0;

	if (ctx->raw_message_key)
		rc = sl_record_set_string(&ctx->rec, ctx->raw_message_key,
					  strlen(ctx->raw_message_key), msg,
					  len);
	if (rc == 0 && ctx->source_address_key && peer)
		rc = sl_record_set_string(&ctx->rec, ctx->source_address_key,
					  strlen(ctx->source_address_key), peer,
					  strlen(peer));
	return rc;
}

/* {"log": msg}, the record of a message that did not parse. */
static int keep_raw(struct syslog_ctx *ctx, int64_t now, const char *msg,
		    size_t len)
{
	int rc;

	sl_buf_reset(&ctx->body);
	rc = sl_buf_append(&ctx->body, "{\"log\":", 7);
	if (rc == 0)
		rc = sl_json_append_string(&ctx->body, msg, len);
	if (rc == 0)
		rc = sl_buf_append(&ctx->body, "}", 1);
	if (rc == 0)
		rc = sl_record_reset_json(&ctx->rec, now, ctx->body.data,
					  ctx->body.len);
	if (rc == 0)
		sl_record_flag_parse_error(&ctx->rec);
	return rc;
}

static int build(struct syslog_ctx *ctx, int64_t now, const char *msg,
		 size_t len)
{
	struct syslog_parsed res;
	int rc;

	if (ctx->parser) {
		sl_record_reset_line(&ctx->rec, now, "log", 3, msg, len);
		rc = sl_parser_apply(ctx->parser, msg, len, &ctx->rec);
		if (rc == -SL_EPARSE)
			return keep_raw(ctx, now, msg, len);
		return rc;
	}
	sl_buf_reset(&ctx->body);
	rc = syslog_parse(msg, len, now, &ctx->popts, &ctx->body, &res);
	if (rc == -SL_EPARSE)
		return keep_raw(ctx, now, msg, len);
	if (rc < 0)
		return rc;
	rc = sl_record_reset_json(&ctx->rec, res.ts_ns ? res.ts_ns : now,
				  ctx->body.data, ctx->body.len);
	if (rc < 0)
		return rc;
	/* the body is valid UTF-8 already (the JSON writer repaired it),
	 * so the record view would not see the repair: flag it here */
	if (res.repaired)
		ctx->rec.flags |= SL_REC_REPAIRED;
	if (res.ts_ns)
		ctx->rec.flags |= SL_REC_TIME_FROM_LOG;
	return 0;
}

int syslog_emit(struct syslog_ctx *ctx, const char *msg, size_t len,
		const char *peer)
{
	size_t tag_len;
	const char *tag = sl_input_tag(ctx->in, &tag_len);
	int64_t now = sl_now_ns();
	int rc;

	sl_input_add_bytes(ctx->in, len);
	rc = build(ctx, now, msg, len);
	if (rc == 0)
		rc = add_extras(ctx, msg, len, peer);
	if (rc < 0) {
		sl_log(SL_LOG_ERROR,
		       sl_plugin_instance_name(sl_input_instance(ctx->in)),
		       "out of memory: message dropped");
		return rc;
	}
	/* -SL_ENOMEM here is counted by the engine (buffer_full) */
	(void)sl_input_emit(ctx->in, tag, tag_len, &ctx->rec);
	return sl_input_paused(ctx->in) ? 1 : 0;
}

static int parse_mode(struct syslog_ctx *ctx)
{
	static const struct {
		const char *name;
		enum syslog_mode mode;
	} modes[] = {{"udp", SYSLOG_UDP},
		     {"tcp", SYSLOG_TCP},
		     {"unix_udp", SYSLOG_UNIX_UDP},
		     {"unix_tcp", SYSLOG_UNIX_TCP}};

	for (size_t i = 0; i < SL_ARRAY_LEN(modes); i++)
		if (strcasecmp(ctx->mode_str, modes[i].name) == 0) {
			ctx->mode = modes[i].mode;
			return 0;
		}
	return -SL_EINVAL;
}

static int syslog_init(void *data, struct sl_input *in)
{
	struct syslog_ctx *ctx = data;
	struct sl_plugin_instance *ins = sl_input_instance(in);
	char *end = NULL;
	int rc = 0;

	ctx->in = in;
	ctx->fd = -1;
	sl_record_init(&ctx->rec);
	ctx->ready = true;
	if (parse_mode(ctx) < 0) {
		sl_plugin_error(ins, 0,
				"Mode must be udp, tcp, unix_udp or "
				"unix_tcp, not '%s'",
				ctx->mode_str);
		rc = -SL_ECONFIG;
	}
	bool is_unix =
	    ctx->mode == SYSLOG_UNIX_UDP || ctx->mode == SYSLOG_UNIX_TCP;
	if (rc == 0 && is_unix && (!ctx->path || !*ctx->path)) {
		sl_plugin_error(ins, 0, "Mode %s needs Path", ctx->mode_str);
		rc = -SL_ECONFIG;
	}
	ctx->unix_perm = (unsigned)strtoul(ctx->unix_perm_str, &end, 8);
	if (!end || *end || ctx->unix_perm > 07777) {
		sl_plugin_error(ins, 0, "Unix_Perm must be octal, not '%s'",
				ctx->unix_perm_str);
		rc = -SL_ECONFIG;
	}
	if (ctx->tls && ctx->mode != SYSLOG_TCP) {
		sl_plugin_error(ins, 0, "tls needs Mode tcp");
		rc = -SL_ECONFIG;
	}
	if (ctx->tls && (!ctx->tls_crt_file || !ctx->tls_key_file)) {
		sl_plugin_error(ins, 0,
				"tls On needs tls.crt_file and tls.key_file");
		rc = -SL_ECONFIG;
	}
	if (ctx->parser_name) {
		ctx->parser =
		    sl_parsers_find(sl_instance_parsers(ins), ctx->parser_name);
		if (!ctx->parser) {
			sl_plugin_error(ins, 0, "Parser '%s' is not defined",
					ctx->parser_name);
			rc = -SL_ECONFIG;
		}
	}
	if (ctx->max_size == 0)
		ctx->max_size = ctx->chunk_size;
	ctx->popts.sd_key = ctx->sd_key;
	register_metrics(ctx, ins);
	return rc;
}

static int syslog_start(void *data, struct sl_input *in)
{
	(void)in;
	return syslog_net_start(data);
}

static void syslog_pause(void *data)
{
	struct syslog_ctx *ctx = data;

	ctx->paused = true;
	syslog_net_pause(ctx);
}

static void syslog_resume(void *data)
{
	struct syslog_ctx *ctx = data;

	ctx->paused = false;
	syslog_net_resume(ctx);
}

static void syslog_stop(void *data)
{
	syslog_net_stop(data);
}

static void syslog_destroy(void *data)
{
	struct syslog_ctx *ctx = data;

	if (!ctx->ready)
		return;
	syslog_net_stop(ctx);
	sl_record_destroy(&ctx->rec);
	sl_buf_destroy(&ctx->body);
	ctx->ready = false;
}

const struct sl_input_plugin sl_input_syslog = {
    .name = "syslog",
    .description = "syslog over UDP, TCP (TLS) and Unix sockets: RFC 5424, "
		   "RFC 3164, RFC 6587 framing (Fluent Bit's in_syslog)",
    .config_map = syslog_config,
    .ctx_size = sizeof(struct syslog_ctx),
    .init = syslog_init,
    .start = syslog_start,
    .pause = syslog_pause,
    .resume = syslog_resume,
    .stop = syslog_stop,
    .destroy = syslog_destroy,
};
