/* SPDX-License-Identifier: Apache-2.0 */
/*
 * forward.c - Fluent Bit's out_forward: each chunk is one Forward message
 * to a Fluentd or Fluent Bit aggregator (or sluice's forward input).
 * PackedForward by default (the entries as one bin), CompressedPacked-
 * Forward with Compress gzip, Forward mode (an array of entries) with
 * Time_as_Integer, as Fluent Bit chooses. With Require_ack_response the
 * chunk counts as delivered only when the server answers {"ack": token}
 * with this flush's token; a missing or wrong ack, a closed connection or
 * a refused handshake is a retry, so records are delivered at least once.
 * Upstream (HA node lists) and record-accessor tags are not offered.
 */
#include "forward_client.h"
#include "forward_encode.h"
#include "sl_http_client.h"
#include "sl_output.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CONNECT_TIMEOUT_MS 10000
#define IO_TIMEOUT_MS	   60000

struct fwdo_ctx {
	/* config map */
	char *host;
	int64_t port;
	char *unix_path;
	char *tag;
	char *shared_key;
	bool empty_shared_key;
	char *self_hostname;
	char *username, *password;
	bool time_as_integer;
	bool send_options;
	bool require_ack;
	char *compress;
	char *upstream;
	struct sl_cfg_kvlist add_option;

	/* from init */
	bool gzip;
	struct fwdo_peer peer;
	struct sl_http_client_opts tls;		 /* the output's common tls.* */
	const char **extra_keys, **extra_values; /* borrowed strings */
	char *name;
};

struct fwdo_worker {
	struct fwdo_conn conn;
	struct fwdo_peer peer; /* the output's, with this worker's TLS */
	struct ssl_ctx_st *tls;
	struct sl_buf entries, gz, msg;
};

#define OFF(f) offsetof(struct fwdo_ctx, f)
static const struct sl_cfg_option fwdo_config[] = {
    {.name = "Host",
     .type = SL_CFG_STR,
     .def = "127.0.0.1",
     .offset = OFF(host),
     .desc = "Forward server host name or address"},
    {.name = "Port",
     .type = SL_CFG_INT,
     .def = "24224",
     .min = 1,
     .max = 65535,
     .offset = OFF(port),
     .desc = "Forward server TCP port"},
    {.name = "Unix_Path",
     .type = SL_CFG_STR,
     .offset = OFF(unix_path),
     .desc = "connect to this unix socket instead of Host:Port"},
    {.name = "Tag",
     .type = SL_CFG_STR,
     .offset = OFF(tag),
     .desc = "send records under this tag instead of their own"},
    {.name = "Shared_Key",
     .type = SL_CFG_STR,
     .offset = OFF(shared_key),
     .desc = "run the secure forward handshake with this key"},
    {.name = "Empty_Shared_Key",
     .type = SL_CFG_BOOL,
     .def = "false",
     .offset = OFF(empty_shared_key),
     .desc = "run the handshake with an empty shared key"},
    {.name = "Self_Hostname",
     .type = SL_CFG_STR,
     .def = "localhost",
     .offset = OFF(self_hostname),
     .desc = "host name sent in the handshake"},
    {.name = "Username",
     .type = SL_CFG_STR,
     .offset = OFF(username),
     .desc = "user for the server's user authentication"},
    {.name = "Password",
     .type = SL_CFG_STR,
     .offset = OFF(password),
     .desc = "password of Username"},
    {.name = "Time_as_Integer",
     .type = SL_CFG_BOOL,
     .def = "false",
     .offset = OFF(time_as_integer),
     .desc = "integer seconds instead of EventTime (Fluentd 0.12); sent "
	     "in Forward mode"},
    {.name = "Send_options",
     .type = SL_CFG_BOOL,
     .def = "false",
     .offset = OFF(send_options),
     .desc = "send the options map (size) with every message"},
    {.name = "Require_ack_response",
     .type = SL_CFG_BOOL,
     .def = "false",
     .offset = OFF(require_ack),
     .desc = "a chunk is delivered only when the server acknowledges it"},
    {.name = "Compress",
     .type = SL_CFG_STR,
     .offset = OFF(compress),
     .desc = "gzip: CompressedPackedForward"},
    {.name = "Add_Option",
     .type = SL_CFG_KV,
     .flags = SL_CFG_MULTI,
     .offset = OFF(add_option),
     .desc = "KEY VALUE: an extra entry of the options map"},
    {.name = "Upstream",
     .type = SL_CFG_STR,
     .offset = OFF(upstream),
     .desc = "not offered (one Host per output); refused when set"},
    {.name = "Retain_Metadata_In_Forward_Mode",
     .type = SL_CFG_BOOL,
     .flags = SL_CFG_IGNORED,
     .desc = "accepted; sluice records carry no metadata"},
    {.name = "fluentd_compat",
     .type = SL_CFG_BOOL,
     .flags = SL_CFG_IGNORED,
     .desc = "accepted; only records are forwarded"},
    SL_CFG_END,
};

static int fwdo_init(void *data, struct sl_output *out)
{
	struct fwdo_ctx *ctx = data;
	struct sl_plugin_instance *ins = sl_output_instance(out);

	if (ctx->upstream) {
		sl_plugin_error(ins, 0,
				"Upstream is not supported: use one forward "
				"output per aggregator (or a load balancer)");
		return -SL_ECONFIG;
	}
	if (ctx->compress && *ctx->compress) {
		if (strcasecmp(ctx->compress, "gzip") != 0) {
			sl_plugin_error(ins, 0,
					"Compress must be gzip, not '%s'",
					ctx->compress);
			return -SL_ECONFIG;
		}
		ctx->gzip = true;
	}
	if (ctx->gzip && ctx->time_as_integer) {
		sl_plugin_error(ins, 0,
				"Compress gzip needs PackedForward, "
				"Time_as_Integer sends Forward mode: choose "
				"one");
		return -SL_ECONFIG;
	}
	if (ctx->tag && !*ctx->tag) {
		sl_plugin_error(ins, 0, "Tag must not be empty");
		return -SL_ECONFIG;
	}
	ctx->name = strdup(sl_plugin_instance_name(ins));
	ctx->extra_keys = calloc(ctx->add_option.n + 1, sizeof(char *));
	ctx->extra_values = calloc(ctx->add_option.n + 1, sizeof(char *));
	if (!ctx->name || !ctx->extra_keys || !ctx->extra_values)
		return -SL_ENOMEM;
	for (size_t i = 0; i < ctx->add_option.n; i++) {
		ctx->extra_keys[i] = ctx->add_option.items[i].key;
		ctx->extra_values[i] = ctx->add_option.items[i].value;
	}
	sl_output_tls_opts(out, &ctx->tls);
	ctx->peer = (struct fwdo_peer){
	    .host = ctx->host,
	    .port = (int)ctx->port,
	    .unix_path = ctx->unix_path,
	    .sni = ctx->tls.tls_vhost ? ctx->tls.tls_vhost : ctx->host,
	    /* an empty Shared_Key is no key, as in Fluent Bit */
	    .shared_key = ctx->shared_key && *ctx->shared_key ? ctx->shared_key
			  : ctx->empty_shared_key	      ? ""
							      : NULL,
	    .self_hostname = ctx->self_hostname,
	    .username = ctx->username,
	    .password = ctx->password,
	    .connect_timeout_ms = CONNECT_TIMEOUT_MS,
	    .io_timeout_ms = IO_TIMEOUT_MS,
	    .who = ctx->name,
	};
	return 0;
}

static int fwdo_worker_init(void *data, void **worker)
{
	struct fwdo_ctx *ctx = data;
	struct fwdo_worker *w = calloc(1, sizeof(*w));

	if (!w)
		return -SL_ENOMEM;
	fwdo_conn_init(&w->conn);
	if (ctx->tls.tls) {
		w->tls = fwdo_tls_new(ctx->tls.tls_verify, ctx->tls.tls_ca_file,
				      ctx->tls.tls_crt_file,
				      ctx->tls.tls_key_file, ctx->name);
		if (!w->tls) {
			fwdo_conn_destroy(&w->conn);
			free(w);
			return -SL_EIO;
		}
	}
	w->peer = ctx->peer;
	w->peer.tls = w->tls;
	*worker = w;
	return 0;
}

static void fwdo_worker_exit(void *data, void *worker)
{
	struct fwdo_worker *w = worker;

	(void)data;
	if (!w)
		return;
	fwdo_conn_destroy(&w->conn);
	fwdo_tls_free(w->tls);
	sl_buf_destroy(&w->entries);
	sl_buf_destroy(&w->gz);
	sl_buf_destroy(&w->msg);
	free(w);
}

/* Fluent Bit's chunk token: 16 random bytes in base64 (24 characters). */
static int chunk_token(char out[25])
{
	unsigned char raw[16];

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -SL_EIO;
	EVP_EncodeBlock((unsigned char *)out, raw, sizeof(raw));
	return 0;
}

/* The entries of the chunk; records that are not JSON are dropped. */
static int gather(struct fwdo_ctx *ctx, struct fwdo_worker *w,
		  struct sl_flush *fl, uint64_t *n)
{
	struct sl_chunk_iter it;
	int64_t ts;
	const char *body;
	size_t len;
	uint64_t bad = 0;

	sl_buf_reset(&w->entries);
	*n = 0;
	sl_chunk_iter_init(&it, sl_flush_chunk(fl));
	while (sl_chunk_next(&it, &ts, &body, &len) == 1) {
		int rc = fwdo_entry(&w->entries, ts, ctx->time_as_integer, body,
				    len);

		if (rc == -SL_ENOMEM)
			return rc;
		if (rc < 0)
			bad++;
		else
			(*n)++;
	}
	if (bad)
		sl_flush_drop(fl, SL_DROP_REJECTED, bad);
	return 0;
}

/* Reads the server's answer: {"ack": token} with our token. */
static bool acked(struct fwdo_ctx *ctx, struct fwdo_worker *w,
		  const char *token)
{
	const msgpack_object *o;

	if (fwdo_conn_read(&w->conn, &w->peer) < 0)
		return false;
	o = &w->conn.obj.data;
	if (o->type == MSGPACK_OBJECT_MAP)
		for (uint32_t i = 0; i < o->via.map.size; i++) {
			const msgpack_object *k = &o->via.map.ptr[i].key;
			const msgpack_object *v = &o->via.map.ptr[i].val;

			if (k->type == MSGPACK_OBJECT_STR &&
			    k->via.str.size == 3 &&
			    memcmp(k->via.str.ptr, "ack", 3) == 0 &&
			    v->type == MSGPACK_OBJECT_STR &&
			    v->via.str.size == strlen(token) &&
			    memcmp(v->via.str.ptr, token, strlen(token)) == 0)
				return true;
		}
	sl_log(SL_LOG_WARN, ctx->name,
	       "the server's answer is not the ack of this chunk: retrying");
	fwdo_conn_close(&w->conn);
	return false;
}

static void fwdo_flush(void *data, void *worker, struct sl_flush *fl)
{
	struct fwdo_ctx *ctx = data;
	struct fwdo_worker *w = worker;
	const struct sl_chunk *chunk = sl_flush_chunk(fl);
	char token[25];
	uint64_t n = 0;
	struct fwdo_message m = {
	    .tag = ctx->tag ? ctx->tag : chunk->tag,
	    .tag_len = ctx->tag ? strlen(ctx->tag) : chunk->tag_len,
	    .forward_mode = ctx->time_as_integer,
	    .gzip = ctx->gzip,
	    .options = ctx->send_options || ctx->require_ack || ctx->gzip ||
		       ctx->add_option.n > 0,
	    .extra_keys = ctx->extra_keys,
	    .extra_values = ctx->extra_values,
	    .n_extra = ctx->add_option.n,
	};

	if (gather(ctx, w, fl, &n) < 0) {
		sl_flush_done(fl, SL_FLUSH_RETRY);
		return;
	}
	if (n == 0) {
		sl_flush_done(fl, SL_FLUSH_OK); /* all dropped, counted */
		return;
	}
	m.entries = w->entries.data;
	m.entries_len = w->entries.len;
	m.n = n;
	if (ctx->gzip) {
		if (fwdo_gzip(&w->gz, w->entries.data, w->entries.len) < 0) {
			sl_flush_done(fl, SL_FLUSH_RETRY);
			return;
		}
		m.entries = w->gz.data;
		m.entries_len = w->gz.len;
	}
	if (ctx->require_ack) {
		if (chunk_token(token) < 0) {
			sl_flush_done(fl, SL_FLUSH_RETRY);
			return;
		}
		m.chunk = token;
	}
	sl_buf_reset(&w->msg);
	if (fwdo_message(&w->msg, &m) < 0 ||
	    fwdo_conn_open(&w->conn, &w->peer) < 0 ||
	    fwdo_conn_write(&w->conn, &w->peer, w->msg.data, w->msg.len) < 0 ||
	    (ctx->require_ack && !acked(ctx, w, token))) {
		sl_flush_done(fl, SL_FLUSH_RETRY);
		return;
	}
	sl_flush_done(fl, SL_FLUSH_OK);
}

static void fwdo_destroy(void *data)
{
	struct fwdo_ctx *ctx = data;

	free(ctx->extra_keys);
	free(ctx->extra_values);
	free(ctx->name);
	ctx->extra_keys = NULL;
	ctx->extra_values = NULL;
	ctx->name = NULL;
}

const struct sl_output_plugin sl_output_forward = {
    .name = "forward",
    .description = "Fluent's Forward protocol (Fluent Bit's out_forward)",
    .config_map = fwdo_config,
    .ctx_size = sizeof(struct fwdo_ctx),
    .init = fwdo_init,
    .worker_init = fwdo_worker_init,
    .worker_exit = fwdo_worker_exit,
    .flush = fwdo_flush,
    .destroy = fwdo_destroy,
};
