/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http.c - Fluent Bit's in_http: POST a JSON object or array of objects
 * (Content-Type application/json) to any path; the path (sanitised, '/'
 * stripped) is the tag, "/" means the Tag option, and Tag_Key takes the tag
 * from each record; both are sanitised here, at the source, with Fluent
 * Bit's rule (sl_sanitize_tag), so no CR, LF, NUL or '/' enters a tag.
 * Answers Successful_Response_Code (201) once the records are buffered; a
 * bad body is refused whole. Every refusal is counted in
 * sluice_http_rejected_total{name,reason} (witness' reasons: malformed,
 * too_large, busy). Not supported (yet):
 * application/x-www-form-urlencoded, Content-Encoding, chunked bodies.
 */
#include "sl_httpd.h"
#include "sl_httpd_route.h"
#include "sl_cfgmap.h"
#include "sl_http_body.h"
#include "sl_input.h"
#include "sl_instance.h"
#include "sl_log.h"
#include "sl_metrics.h"
#include "sl_sanitize.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_HEADERS    (16 * 1024)
#define IDLE_TIMEOUT_S 10
#define TEXT_TYPE      "text/plain; charset=utf-8"

/* Refusal reasons, named as witness names them. */
enum rej { REJ_MALFORMED, REJ_TOO_LARGE, REJ_BUSY, REJ_N };
static const char *const rej_names[REJ_N] = {"malformed", "too_large", "busy"};

struct http_ctx {
	/* config map */
	char *listen;
	int64_t port;
	char *tag_key;
	int64_t buffer_max_size;
	int64_t max_conns, max_conns_alias;
	int64_t success_code;
	struct sl_cfg_multi success_headers;
	bool health;
	bool tls;
	char *tls_crt_file;
	char *tls_key_file;

	/* runtime */
	struct sl_input *in; /* borrowed */
	char **headers;	     /* owned, NULL-terminated "Name: value" lines */
	struct ssl_ctx_st *ssl;
	struct sl_httpd *srv;
	struct sl_httpd_router router;
	struct sl_http_body body;
	struct sl_record rec;
	struct sl_buf tag, raw;
	bool ready;
	struct sl_metric_series *m_rejected[REJ_N];
};

#define OFF(f) offsetof(struct http_ctx, f)
static const struct sl_cfg_option http_config[] = {
    {.name = "Listen",
     .type = SL_CFG_STR,
     .def = "0.0.0.0",
     .offset = OFF(listen),
     .desc = "address to listen on"},
    {.name = "Port",
     .type = SL_CFG_INT,
     .def = "9880",
     .min = 1,
     .max = 65535,
     .offset = OFF(port),
     .desc = "TCP port"},
    {.name = "Tag_Key",
     .type = SL_CFG_STR,
     .offset = OFF(tag_key),
     .desc = "take each record's tag from this key"},
    {.name = "Buffer_Max_Size",
     .type = SL_CFG_SIZE,
     .def = "4M",
     .min = 1,
     .max = 1e9,
     .offset = OFF(buffer_max_size),
     .desc = "largest request body (413 above)"},
    {.name = "Buffer_Chunk_Size",
     .type = SL_CFG_SIZE,
     .flags = SL_CFG_IGNORED,
     .desc = "accepted; bodies are read whole up to Buffer_Max_Size"},
    {.name = "http_server.max_connections",
     .type = SL_CFG_SIZE,
     .min = 0,
     .max = 1e6,
     .offset = OFF(max_conns),
     .desc = "open connections at most (0: 1024); 64 per client address"},
    {.name = "max_connections",
     .type = SL_CFG_SIZE,
     .min = 0,
     .max = 1e6,
     .offset = OFF(max_conns_alias),
     .desc = "alias of http_server.max_connections"},
    {.name = "Successful_Response_Code",
     .type = SL_CFG_INT,
     .def = "201",
     .min = 200,
     .max = 204,
     .offset = OFF(success_code),
     .desc = "200, 201 or 204"},
    {.name = "Success_Header",
     .type = SL_CFG_STR,
     .flags = SL_CFG_MULTI,
     .offset = OFF(success_headers),
     .desc = "NAME VALUE: a header added to successful answers"},
    {.name = "enable_health_endpoint",
     .type = SL_CFG_BOOL,
     .def = "off",
     .offset = OFF(health),
     .desc = "serve GET /health"},
    {.name = "http2",
     .type = SL_CFG_BOOL,
     .flags = SL_CFG_IGNORED,
     .desc = "accepted; HTTP/1.1 only"},
    {.name = "workers",
     .type = SL_CFG_INT,
     .flags = SL_CFG_IGNORED,
     .desc = "accepted; requests are served on the engine thread"},
    {.name = "net.",
     .type = SL_CFG_STR,
     .flags = SL_CFG_IGNORED | SL_CFG_PREFIX,
     .desc = "accepted; sluice's own timeouts and limits apply"},
    SL_HTTPD_TLS_CFG(struct http_ctx),
    SL_CFG_END,
};

static void reply_text(struct sl_httpd_req *req, int status, const char *msg)
{
	sl_httpd_reply(req, status, TEXT_TYPE, msg, strlen(msg), NULL);
}

/* Fluent Bit's tag from a path: '/' stripped, %XX decoded, then made a
 * tag (sl_sanitize_tag: [A-Za-z0-9_.], others '_'). Empty for "/". */
static int path_tag(struct sl_buf *out, struct sl_buf *raw, const char *path)
{
	sl_buf_reset(out);
	sl_buf_reset(raw);
	for (const char *p = path + 1; *p && raw->len < SL_SANITIZE_TAG_MAX;
	     p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '%' && isxdigit((unsigned char)p[1]) &&
		    isxdigit((unsigned char)p[2])) {
			char hex[3] = {p[1], p[2], '\0'};

			c = (unsigned char)strtol(hex, NULL, 16);
			p += 2;
		}
		if (sl_buf_append(raw, &c, 1) < 0)
			return -SL_ENOMEM;
	}
	return sl_sanitize_tag(out, raw->data, raw->len);
}

static void reject(struct http_ctx *ctx, enum rej why)
{
	if (ctx->m_rejected[why])
		sl_metric_add(ctx->m_rejected[why], 1);
}

static void refuse(struct http_ctx *ctx, struct sl_httpd_req *req, int status,
		   const char *msg)
{
	reject(ctx, REJ_MALFORMED);
	reply_text(req, status, msg);
}

/* The server itself refused a request (400, 411, 413, 431). */
static void on_refused(void *arg, int status)
{
	reject(arg, status == 413 ? REJ_TOO_LARGE : REJ_MALFORMED);
}

static void register_metrics(struct http_ctx *ctx,
			     struct sl_plugin_instance *ins)
{
	static const char *const labels[] = {"name", "reason"};
	struct sl_metrics *reg = sl_instance_metrics(ins);
	const char *name = sl_plugin_instance_name(ins), *err;
	struct sl_metric_family *f;

	if (!reg)
		return; /* unit tests: no registry */
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

/* GET /health (Health_Check On); other requests on any path are records */
static int on_health(void *arg, struct sl_httpd_req *req)
{
	static const char ok[] = "{\"status\":\"ok\"}\n";

	(void)arg;
	sl_httpd_reply(req, 200, "application/json", ok, sizeof(ok) - 1, NULL);
	return 1;
}

static int on_headers(void *arg, struct sl_httpd_req *req)
{
	struct http_ctx *ctx = arg;
	const char *ctype;
	size_t n;

	if (strcmp(req->method, "POST") != 0) {
		refuse(ctx, req, 400, "error: invalid HTTP method\n");
		return 1;
	}
	ctype = sl_httpd_header(req, "Content-Type");
	if (!ctype) {
		refuse(ctx, req, 400,
		       "error: header 'Content-Type' is not set\n");
		return 1;
	}
	n = strcspn(ctype, "; \t");
	if (!(n == 16 && strncasecmp(ctype, "application/json", 16) == 0)) {
		refuse(ctx, req, 400, "error: invalid 'Content-Type'\n");
		return 1;
	}
	if (req->content_length == 0 && !req->chunked) {
		refuse(ctx, req, 400, "error: no payload found\n");
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

/* The tag of the current record: Tag_Key's string value made a tag (as
 * Fluent Bit does), else `def`. */
static int record_tag(struct http_ctx *ctx, const char *def, size_t def_len,
		      const char **tag, size_t *len)
{
	const struct sl_view *v;
	const struct sl_view_node *node;
	uint32_t i;
	int rc;

	*tag = def;
	*len = def_len;
	if (!ctx->tag_key || (rc = sl_record_view(&ctx->rec, &v)) < 0)
		return 0;
	i = sl_view_find_key(v, ctx->rec.body, 0, ctx->tag_key,
			     strlen(ctx->tag_key));
	if (i == UINT32_MAX || v->nodes[i].type != SL_VAL_STRING)
		return 0;
	node = &v->nodes[i];
	sl_buf_reset(&ctx->raw);
	sl_buf_reset(&ctx->tag);
	rc = sl_json_unescape_append(
	    &ctx->raw, ctx->rec.body + node->val_off + 1, node->val_len - 2);
	if (rc == -SL_ENOMEM)
		return rc;
	if (rc == 0 &&
	    sl_sanitize_tag(&ctx->tag, ctx->raw.data, ctx->raw.len) < 0)
		return -SL_ENOMEM;
	if (rc == 0 && ctx->tag.len > 0) {
		*tag = ctx->tag.data;
		*len = ctx->tag.len;
	}
	return 0;
}

static void on_request(void *arg, struct sl_httpd_req *req)
{
	struct http_ctx *ctx = arg;
	int64_t now = sl_now_ns();
	struct sl_buf path = {0};
	const char *tag, *rtag;
	size_t tag_len, rtag_len;
	int rc;

	sl_input_add_bytes(ctx->in, req->content_length);
	rc = sl_http_body_split(&ctx->body, req->body, req->content_length,
				SL_BODY_AUTO);
	if (rc == -SL_ENOMEM)
		goto busy;
	if (rc < 0) {
		refuse(ctx, req, 400, "error: invalid payload\n");
		return;
	}
	if (path_tag(&path, &ctx->raw, req->path) < 0)
		goto busy;
	if (path.len) {
		tag = path.data;
		tag_len = path.len;
	} else {
		tag = sl_input_tag(ctx->in, &tag_len);
	}
	for (size_t k = 0; k < ctx->body.n; k++) {
		rc = sl_record_reset_json(&ctx->rec, now,
					  req->body + ctx->body.items[k].off,
					  ctx->body.items[k].len);
		if (rc == 0)
			rc = record_tag(ctx, tag, tag_len, &rtag, &rtag_len);
		if (rc == 0)
			rc = sl_input_emit(ctx->in, rtag, rtag_len, &ctx->rec);
		if (rc < 0)
			goto busy;
	}
	sl_buf_destroy(&path);
	if (sl_input_persist(ctx->in) < 0) {
		/* storage.type filesystem and not on disk: the records were
		 * taken back, the sender must send them again */
		static const char *const retry[] = {"Retry-After: 1", NULL};

		sl_httpd_reply(req, 503, TEXT_TYPE,
			       "error: cannot store records\n", 28, retry);
		return;
	}
	sl_httpd_reply(req, (int)ctx->success_code, NULL, NULL, 0,
		       (const char *const *)ctx->headers);
	return;
busy:
	sl_buf_destroy(&path);
	reject(ctx, REJ_BUSY);
	sl_httpd_reply(req, 503, TEXT_TYPE, "error: cannot buffer records\n",
		       29, NULL);
}

static const struct sl_httpd_route http_routes[] = {
    {.method = "GET", .path = "/health", .on_headers = on_health},
};

/* Success_Header "NAME VALUE" items to "NAME: VALUE" lines. */
static int build_headers(struct http_ctx *ctx, struct sl_plugin_instance *ins)
{
	size_t n = ctx->success_headers.n;

	ctx->headers = calloc(n + 1, sizeof(*ctx->headers));
	if (!ctx->headers)
		return -SL_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct sl_cfg_item *it = &ctx->success_headers.items[i];
		char *name = NULL, *value = NULL;
		int rc = sl_cfg_split_pair(it->value, &name, &value);
		size_t len;

		if (rc == -SL_ENOMEM)
			return rc;
		if (rc < 0 || !name || !value || strpbrk(name, ":\r\n") ||
		    strpbrk(value, "\r\n")) {
			free(name);
			free(value);
			sl_plugin_error(ins, it->line,
					"Success_Header needs NAME VALUE: '%s'",
					it->value);
			return -SL_ECONFIG;
		}
		len = strlen(name) + strlen(value) + 3;
		ctx->headers[i] = malloc(len);
		if (ctx->headers[i])
			snprintf(ctx->headers[i], len, "%s: %s", name, value);
		free(name);
		free(value);
		if (!ctx->headers[i])
			return -SL_ENOMEM;
	}
	return 0;
}

static int http_init(void *data, struct sl_input *in)
{
	struct http_ctx *ctx = data;
	struct sl_plugin_instance *ins = sl_input_instance(in);
	int rc;

	ctx->in = in;
	sl_http_body_init(&ctx->body);
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
	if ((rc = build_headers(ctx, ins)) < 0)
		return rc;
	register_metrics(ctx, ins);
	if (ctx->tls && (!ctx->tls_crt_file || !ctx->tls_key_file)) {
		sl_plugin_error(ins, 0,
				"tls On needs tls.crt_file and "
				"tls.key_file");
		return -SL_ECONFIG;
	}
	return 0;
}

static int http_start(void *data, struct sl_input *in)
{
	struct http_ctx *ctx = data;
	struct sl_httpd_conf conf = {
	    .listen = ctx->listen,
	    .port = (int)ctx->port,
	    .max_headers = MAX_HEADERS,
	    .max_body = (size_t)ctx->buffer_max_size,
	    .timeout_s = IDLE_TIMEOUT_S,
	    .who = sl_plugin_instance_name(sl_input_instance(in)),
	    .metrics = sl_instance_metrics(sl_input_instance(in)),
	    .max_conns = (size_t)(ctx->max_conns ? ctx->max_conns
						 : ctx->max_conns_alias),
	};

	/* a path no route has is a record path: every such request is the
	 * fallback's, whatever its method (Fluent Bit answers 400) */
	ctx->router = (struct sl_httpd_router){
	    .routes = http_routes,
	    .n_routes = ctx->health ? SL_ARRAY_LEN(http_routes) : 0,
	    .fallback = {.on_headers = on_headers, .on_request = on_request},
	    .on_refused = on_refused,
	    .arg = ctx,
	};
	ctx->srv = sl_httpd_serve(sl_input_base(in), &conf, ctx->tls,
				  ctx->tls_crt_file, ctx->tls_key_file,
				  &ctx->ssl, &sl_httpd_route_ops, &ctx->router);
	if (!ctx->srv)
		return -SL_EIO;
	return 0;
}

static void http_stop(void *data)
{
	struct http_ctx *ctx = data;

	sl_httpd_stop(ctx->srv);
	ctx->srv = NULL;
}

static void http_destroy(void *data)
{
	struct http_ctx *ctx = data;

	http_stop(ctx);
	if (!ctx->ready)
		return;
	for (size_t i = 0; ctx->headers && ctx->headers[i]; i++)
		free(ctx->headers[i]);
	free(ctx->headers);
	ctx->headers = NULL;
	sl_httpd_tls_free(ctx->ssl);
	ctx->ssl = NULL;
	sl_http_body_destroy(&ctx->body);
	sl_record_destroy(&ctx->rec);
	sl_buf_destroy(&ctx->tag);
	sl_buf_destroy(&ctx->raw);
	ctx->ready = false;
}

const struct sl_input_plugin sl_input_http = {
    .name = "http",
    .description = "JSON records POSTed over HTTP (Fluent Bit's in_http)",
    .config_map = http_config,
    .ctx_size = sizeof(struct http_ctx),
    .init = http_init,
    .start = http_start,
    .stop = http_stop,
    .destroy = http_destroy,
};
