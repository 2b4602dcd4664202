/* SPDX-License-Identifier: Apache-2.0 */
/*
 * opentelemetry.c - Fluent Bit's in_opentelemetry for logs: OTLP/HTTP
 * POST /v1/logs with a protobuf (application/x-protobuf) or OTLP/JSON
 * (application/json) body, gzip when Content-Encoding says so. Each
 * LogRecord is one record (otlp_decode.c). Answers
 * Successful_Response_Code (201, as Fluent Bit) with an empty
 * ExportLogsServiceResponse in the request's encoding only once the records
 * are buffered (sl_input_persist); a body that does not decode is 400 and
 * nothing of it is kept, over Buffer_Max_Size (inflated too) 413. Refusals
 * are counted in sluice_http_rejected_total{name,reason}. The tag: Tag when
 * given, else "v1_logs" (tag_from_uri), else the default tag. Metrics,
 * traces, profiles and gRPC are not offered (404).
 */
#include "../forward/forward_decode.h"
#include "otlp_decode.h"
#include "sl_cfgmap.h"
#include "sl_http_body.h"
#include "sl_httpd.h"
#include "sl_httpd_route.h"
#include "sl_input.h"
#include "sl_instance.h"
#include "sl_log.h"
#include "sl_metrics.h"
#include "sl_sanitize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_HEADERS    (16 * 1024)
#define IDLE_TIMEOUT_S 10
#define TEXT_TYPE      "text/plain; charset=utf-8"

enum rej { REJ_MALFORMED, REJ_TOO_LARGE, REJ_BUSY, REJ_N };
static const char *const rej_names[REJ_N] = {"malformed", "too_large", "busy"};

struct otel_in_ctx {
	/* config map */
	char *listen;
	int64_t port;
	char *tag_key;
	bool tag_from_uri;
	int64_t success_code;
	char *meta_key;
	char *body_key;
	int64_t buffer_max_size;
	bool tls;
	char *tls_crt_file;
	char *tls_key_file;

	/* runtime */
	struct sl_input *in; /* borrowed */
	struct ssl_ctx_st *ssl;
	struct sl_httpd *srv;
	struct sl_httpd_router router;
	struct sl_record rec;
	struct sl_buf inflated, tag;
	const char *cur_tag; /* of the request being emitted */
	size_t cur_tag_len;
	bool ready;
	struct sl_metric_series *m_rejected[REJ_N];
};

#define OFF(f) offsetof(struct otel_in_ctx, f)
static const struct sl_cfg_option otel_in_config[] = {
    {.name = "Listen",
     .type = SL_CFG_STR,
     .def = "0.0.0.0",
     .offset = OFF(listen),
     .desc = "address to listen on"},
    {.name = "Port",
     .type = SL_CFG_INT,
     .def = "4318",
     .min = 1,
     .max = 65535,
     .offset = OFF(port),
     .desc = "TCP port (OTLP/HTTP's 4318)"},
    {.name = "Tag_Key",
     .type = SL_CFG_STR,
     .offset = OFF(tag_key),
     .desc = "take each record's tag from this key"},
    {.name = "tag_from_uri",
     .type = SL_CFG_BOOL,
     .def = "true",
     .offset = OFF(tag_from_uri),
     .desc = "without Tag, tag records v1_logs"},
    {.name = "Successful_Response_Code",
     .type = SL_CFG_INT,
     .def = "201",
     .min = 200,
     .max = 204,
     .offset = OFF(success_code),
     .desc = "200, 201 or 204"},
    {.name = "logs_metadata_key",
     .type = SL_CFG_STR,
     .def = "otlp",
     .offset = OFF(meta_key),
     .desc = "key of the OTLP fields (times, severity, attributes, ids, "
	     "resource, scope)"},
    {.name = "logs_body_key",
     .type = SL_CFG_STR,
     .def = "log",
     .offset = OFF(body_key),
     .desc = "key of a body that is not a key/value list"},
    {.name = "Buffer_Max_Size",
     .type = SL_CFG_SIZE,
     .def = "4M",
     .min = 1,
     .max = 1e9,
     .offset = OFF(buffer_max_size),
     .desc = "largest request body, inflated too (413 above)"},
    {.name = "Buffer_Chunk_Size",
     .type = SL_CFG_SIZE,
     .flags = SL_CFG_IGNORED,
     .desc = "accepted; bodies are read whole up to Buffer_Max_Size"},
    {.name = "raw_traces", .type = SL_CFG_BOOL, .flags = SL_CFG_IGNORED},
    {.name = "profiles_support", .type = SL_CFG_BOOL, .flags = SL_CFG_IGNORED},
    {.name = "encode_profiles_as_log",
     .type = SL_CFG_BOOL,
     .flags = SL_CFG_IGNORED},
    {.name = "http2",
     .type = SL_CFG_BOOL,
     .flags = SL_CFG_IGNORED,
     .desc = "accepted; HTTP/1.1 only"},
    {.name = "net.",
     .type = SL_CFG_STR,
     .flags = SL_CFG_IGNORED | SL_CFG_PREFIX,
     .desc = "accepted; sluice's own timeouts and limits apply"},
    SL_HTTPD_TLS_CFG(struct otel_in_ctx),
    SL_CFG_END,
};

static void reject(struct otel_in_ctx *ctx, enum rej why)
{
	if (ctx->m_rejected[why])
		sl_metric_add(ctx->m_rejected[why], 1);
}

static void refuse(struct otel_in_ctx *ctx, struct sl_httpd_req *req,
		   enum rej why, int status, const char *msg)
{
	reject(ctx, why);
	sl_httpd_reply(req, status, TEXT_TYPE, msg, strlen(msg), NULL);
}

static void on_refused(void *arg, int status)
{
	reject(arg, status == 413 ? REJ_TOO_LARGE : REJ_MALFORMED);
}

static void register_metrics(struct otel_in_ctx *ctx,
			     struct sl_plugin_instance *ins)
{
	static const char *const labels[] = {"name", "reason"};
	struct sl_metrics *reg = sl_instance_metrics(ins);
	const char *name = sl_plugin_instance_name(ins), *err;
	struct sl_metric_family *f;

	if (!reg)
		return;
	f = sl_metrics_family(reg, "sluice_http_rejected_total",
			      "in_http requests refused, by reason",
			      SL_METRIC_COUNTER, labels, 2, NULL, 0, &err);
	if (!f)
		return;
	f->max_series = 0;
	for (int i = 0; i < REJ_N; i++) {
		const char *values[] = {name, rej_names[i]};

		ctx->m_rejected[i] = sl_metric_series_get(reg, f, values);
	}
}

/* The body's encoding from Content-Type: 1 JSON, 0 protobuf, -1 neither. */
static int body_is_json(const char *ctype)
{
	size_t n;

	if (!ctype)
		return -1;
	n = strcspn(ctype, "; \t");
	if (n == 16 && strncasecmp(ctype, "application/json", n) == 0)
		return 1;
	if ((n == 22 && strncasecmp(ctype, "application/x-protobuf", n) == 0) ||
	    (n == 20 && strncasecmp(ctype, "application/protobuf", n) == 0))
		return 0;
	return -1;
}

static int on_logs_headers(void *arg, struct sl_httpd_req *req)
{
	struct otel_in_ctx *ctx = arg;
	const char *enc = sl_httpd_header(req, "Content-Encoding");

	if (body_is_json(sl_httpd_header(req, "Content-Type")) < 0) {
		refuse(ctx, req, REJ_MALFORMED, 415,
		       "error: Content-Type must be application/x-protobuf "
		       "or application/json\n");
		return 1;
	}
	if (enc && strcasecmp(enc, "gzip") && strcasecmp(enc, "identity")) {
		refuse(ctx, req, REJ_MALFORMED, 415,
		       "error: Content-Encoding must be gzip\n");
		return 1;
	}
	if (sl_input_paused(ctx->in)) {
		static const char *const retry[] = {"Retry-After: 1", NULL};

		reject(ctx, REJ_BUSY);
		sl_httpd_reply(req, 503, TEXT_TYPE, "error: buffer full\n", 19,
			       retry);
		return 1;
	}
	return 0;
}

/* Tag_Key's string value made a tag, else the request's tag. */
static int record_tag(struct otel_in_ctx *ctx, const char **tag, size_t *len)
{
	const struct sl_view *v;
	const struct sl_view_node *node;
	struct sl_buf raw = {0};
	uint32_t i;
	int rc;

	*tag = ctx->cur_tag;
	*len = ctx->cur_tag_len;
	if (!ctx->tag_key || sl_record_view(&ctx->rec, &v) < 0)
		return 0;
	i = sl_view_find_key(v, ctx->rec.body, 0, ctx->tag_key,
			     strlen(ctx->tag_key));
	if (i == UINT32_MAX || v->nodes[i].type != SL_VAL_STRING)
		return 0;
	node = &v->nodes[i];
	sl_buf_reset(&ctx->tag);
	rc = sl_json_unescape_append(&raw, ctx->rec.body + node->val_off + 1,
				     node->val_len - 2);
	if (rc == 0)
		rc = sl_sanitize_tag(&ctx->tag, raw.data, raw.len);
	sl_buf_destroy(&raw);
	if (rc == -SL_ENOMEM)
		return rc;
	if (rc == 0 && ctx->tag.len) {
		*tag = ctx->tag.data;
		*len = ctx->tag.len;
	}
	return 0;
}

static int emit_one(void *arg, int64_t ts, const char *json, size_t len)
{
	struct otel_in_ctx *ctx = arg;
	const char *tag;
	size_t tag_len;
	int rc = sl_record_reset_json(&ctx->rec, ts, json, len);

	if (rc == 0)
		rc = record_tag(ctx, &tag, &tag_len);
	if (rc == 0)
		rc = sl_input_emit(ctx->in, tag, tag_len, &ctx->rec);
	return rc;
}

/* An empty ExportLogsServiceResponse: no bytes in protobuf, {} in JSON. */
static void answer_ok(struct otel_in_ctx *ctx, struct sl_httpd_req *req,
		      bool json)
{
	if (json)
		sl_httpd_reply(req, (int)ctx->success_code, "application/json",
			       "{}", ctx->success_code == 204 ? 0 : 2, NULL);
	else
		sl_httpd_reply(req, (int)ctx->success_code,
			       "application/x-protobuf", NULL, 0, NULL);
}

static void on_logs(void *arg, struct sl_httpd_req *req)
{
	struct otel_in_ctx *ctx = arg;
	bool json = body_is_json(sl_httpd_header(req, "Content-Type")) == 1;
	const char *enc = sl_httpd_header(req, "Content-Encoding");
	const char *body = req->body ? req->body : "";
	size_t len = req->content_length;
	struct otlp_arena a = {0};
	otlp_request *r = NULL;
	long n;
	int rc;

	sl_input_add_bytes(ctx->in, len);
	if (enc && strcasecmp(enc, "gzip") == 0) {
		rc = fwd_gunzip(&ctx->inflated, body, len,
				(size_t)ctx->buffer_max_size);
		if (rc == -SL_ETOOBIG) {
			refuse(ctx, req, REJ_TOO_LARGE, 413,
			       "error: inflated body too large\n");
			return;
		}
		if (rc == -SL_ENOMEM)
			goto busy;
		if (rc < 0) {
			refuse(ctx, req, REJ_MALFORMED, 400,
			       "error: invalid gzip body\n");
			return;
		}
		body = ctx->inflated.data ? ctx->inflated.data : "";
		len = ctx->inflated.len;
	}
	rc = otlp_decode_request(&a, body, len, json, &r);
	if (rc == -SL_ENOMEM)
		goto busy;
	if (rc < 0) {
		otlp_arena_free(&a);
		refuse(ctx, req, REJ_MALFORMED, 400,
		       "error: invalid OTLP logs request\n");
		return;
	}
	n = otlp_request_records(r, ctx->meta_key, ctx->body_key, sl_now_ns(),
				 emit_one, ctx);
	otlp_arena_free(&a);
	sl_buf_destroy(&ctx->inflated);
	if (n == -SL_EPARSE || n == -SL_ETOOBIG) {
		/* not expected past the decoder's checks; earlier records of
		 * the request stay buffered */
		refuse(ctx, req, REJ_MALFORMED, 400,
		       "error: a log record is not a valid record\n");
		return;
	}
	if (n < 0)
		goto busy;
	if (sl_input_persist(ctx->in) < 0) {
		static const char *const retry[] = {"Retry-After: 1", NULL};

		sl_httpd_reply(req, 503, TEXT_TYPE,
			       "error: cannot store records\n", 28, retry);
		return;
	}
	answer_ok(ctx, req, json);
	return;
busy:
	/* records emitted before the failure stay: a retry may repeat them */
	otlp_arena_free(&a);
	sl_buf_destroy(&ctx->inflated);
	reject(ctx, REJ_BUSY);
	sl_httpd_reply(req, 503, TEXT_TYPE, "error: cannot buffer records\n",
		       29, NULL);
}

static const struct sl_httpd_route otel_routes[] = {
    {.method = "POST",
     .path = "/v1/logs",
     .on_headers = on_logs_headers,
     .on_request = on_logs},
};

static int otel_in_init(void *data, struct sl_input *in)
{
	struct otel_in_ctx *ctx = data;
	struct sl_plugin_instance *ins = sl_input_instance(in);

	ctx->in = in;
	sl_record_init(&ctx->rec);
	ctx->ready = true;
	if (ctx->success_code != 200 && ctx->success_code != 201 &&
	    ctx->success_code != 204) {
		sl_plugin_error(ins, 0,
				"Successful_Response_Code must be 200, 201 or "
				"204, not %lld",
				(long long)ctx->success_code);
		return -SL_ECONFIG;
	}
	if (!ctx->meta_key || !*ctx->meta_key || !ctx->body_key ||
	    !*ctx->body_key) {
		sl_plugin_error(ins, 0,
				"logs_metadata_key and logs_body_key must not "
				"be empty");
		return -SL_ECONFIG;
	}
	if (ctx->tls && (!ctx->tls_crt_file || !ctx->tls_key_file)) {
		sl_plugin_error(ins, 0,
				"tls On needs tls.crt_file and tls.key_file");
		return -SL_ECONFIG;
	}
	if (!sl_input_tag_is_default(in) || !ctx->tag_from_uri) {
		ctx->cur_tag = sl_input_tag(in, &ctx->cur_tag_len);
	} else {
		ctx->cur_tag = "v1_logs";
		ctx->cur_tag_len = 7;
	}
	register_metrics(ctx, ins);
	return 0;
}

static int otel_in_start(void *data, struct sl_input *in)
{
	struct otel_in_ctx *ctx = data;
	struct sl_httpd_conf conf = {
	    .listen = ctx->listen,
	    .port = (int)ctx->port,
	    .max_headers = MAX_HEADERS,
	    .max_body = (size_t)ctx->buffer_max_size,
	    .timeout_s = IDLE_TIMEOUT_S,
	    .who = sl_plugin_instance_name(sl_input_instance(in)),
	    .metrics = sl_instance_metrics(sl_input_instance(in)),
	};

	ctx->router = (struct sl_httpd_router){
	    .routes = otel_routes,
	    .n_routes = SL_ARRAY_LEN(otel_routes),
	    .on_refused = on_refused,
	    .arg = ctx,
	};
	ctx->srv = sl_httpd_serve(sl_input_base(in), &conf, ctx->tls,
				  ctx->tls_crt_file, ctx->tls_key_file,
				  &ctx->ssl, &sl_httpd_route_ops, &ctx->router);
	return ctx->srv ? 0 : -SL_EIO;
}

static void otel_in_stop(void *data)
{
	struct otel_in_ctx *ctx = data;

	sl_httpd_stop(ctx->srv);
	ctx->srv = NULL;
}

static void otel_in_destroy(void *data)
{
	struct otel_in_ctx *ctx = data;

	otel_in_stop(ctx);
	if (!ctx->ready)
		return;
	sl_httpd_tls_free(ctx->ssl);
	ctx->ssl = NULL;
	sl_record_destroy(&ctx->rec);
	sl_buf_destroy(&ctx->inflated);
	sl_buf_destroy(&ctx->tag);
	ctx->ready = false;
}

const struct sl_input_plugin sl_input_opentelemetry = {
    .name = "opentelemetry",
    .description = "OTLP/HTTP logs, protobuf or JSON (Fluent Bit's "
		   "in_opentelemetry, logs)",
    .config_map = otel_in_config,
    .ctx_size = sizeof(struct otel_in_ctx),
    .init = otel_in_init,
    .start = otel_in_start,
    .stop = otel_in_stop,
    .destroy = otel_in_destroy,
};
