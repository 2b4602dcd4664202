/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http.c - the http output (Fluent Bit's out_http), for webhooks and SIEM
 * collectors: each chunk is one request in json, json_lines or json_stream.
 * Statuses mean what sl_output_http_class says: 2xx delivered;
 * 408/429/5xx/no answer retried (Retry-After honoured); 401/403/407
 * retried too (credentials may be rotating, as es does); 413 halves the
 * request and sends each half (a single record still too large is dropped,
 * `oversize`); other 4xx drop the request's records with reason `rejected`,
 * counted and logged with the answer. The Header_Tag value is the chunk's
 * tag through sl_sanitize_header_value: no CR/LF/NUL reaches the request.
 * Format msgpack sends Fluent Bit's chunk layout (one [[EventTime, {}],
 * {record}] per record, application/msgpack); gelf is not offered.
 */
#include "http.h"
#include "sl_http_client.h"
#include "sl_output.h"
#include "sl_output_error.h"
#include "sl_sanitize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LOG_BODY_MAX 1024

struct http_ctx {
	/* config map */
	char *host;
	int64_t port;
	char *uri;
	char *format;
	char *http_method;
	char *proxy;
	char *body_key, *headers_key;
	bool aws_auth;
	/* header, compress, http_user, http_passwd (the shared fragment) */
	struct sl_http_client_cfg hc;
	char *header_tag;
	char *json_date_key;
	char *json_date_format;
	bool allow_duplicated_headers;
	bool log_response_payload;
	/* from init */
	bool msgpack; /* Format msgpack, else json.format */
	struct sl_json_opts json;
	char **hdr_lines; /* "Name: value", NULL-terminated, owned */
	size_t n_hdr;
	struct sl_http_client_opts http;
	char *name;
};

struct http_worker {
	struct sl_http_client *client;
	struct sl_buf payload;
	struct sl_http_response resp;
	uint32_t *idx; /* chunk indexes of the records in the request */
	size_t idx_cap;
	const char **hdrs; /* static lines + the tag line, NULL-terminated */
	struct sl_buf tag_line;
	struct sl_record rec; /* Format msgpack: the record being packed */
	struct sl_buf unescaped;
};

#define OFF(f) offsetof(struct http_ctx, f)
static const struct sl_cfg_option http_config[] = {
    {.name = "host",
     .type = SL_CFG_STR,
     .def = "127.0.0.1",
     .offset = OFF(host),
     .desc = "HTTP server host name or address"},
    {.name = "port",
     .type = SL_CFG_INT,
     .def = "80",
     .min = 1,
     .max = 65535,
     .offset = OFF(port),
     .desc = "HTTP server TCP port"},
    {.name = "uri",
     .type = SL_CFG_STR,
     .def = "/",
     .offset = OFF(uri),
     .desc = "request path, starting with '/'"},
    {.name = "format",
     .type = SL_CFG_STR,
     .def = "msgpack", /* Fluent Bit's default */
     .offset = OFF(format),
     .desc = "json, json_lines, json_stream or msgpack (Fluent Bit's "
	     "events)"},
    {.name = "http_method",
     .type = SL_CFG_STR,
     .def = "POST",
     .offset = OFF(http_method),
     .desc = "POST or PUT"},
    SL_HTTP_CFG_HEADER(struct http_ctx, hc),
    {.name = "header_tag",
     .type = SL_CFG_STR,
     .offset = OFF(header_tag),
     .desc = "header that carries the records' tag"},
    SL_HTTP_CFG_COMPRESS(struct http_ctx, hc),
    SL_HTTP_CFG_USER(struct http_ctx, hc),
    SL_HTTP_CFG_PASSWD(struct http_ctx, hc),
    {.name = "json_date_key",
     .type = SL_CFG_STR,
     .def = "date",
     .offset = OFF(json_date_key),
     .desc = "key of the record time (off: none)"},
    {.name = "json_date_format",
     .type = SL_CFG_STR,
     .def = "double",
     .offset = OFF(json_date_format),
     .desc = "double, epoch, epoch_ms, iso8601, java_sql_timestamp"},
    {.name = "allow_duplicated_headers",
     .type = SL_CFG_BOOL,
     .def = "true",
     .offset = OFF(allow_duplicated_headers),
     .desc = "off: a repeated Header name keeps its last value"},
    {.name = "log_response_payload",
     .type = SL_CFG_BOOL,
     .def = "true",
     .offset = OFF(log_response_payload),
     .desc = "log the body of error answers"},
    {.name = "proxy",
     .type = SL_CFG_STR,
     .offset = OFF(proxy),
     .desc = "HTTP proxy, http://HOST:PORT"},
    {.name = "gelf_timestamp_key", .type = SL_CFG_STR, .flags = SL_CFG_IGNORED},
    {.name = "gelf_host_key", .type = SL_CFG_STR, .flags = SL_CFG_IGNORED},
    {.name = "gelf_short_message_key",
     .type = SL_CFG_STR,
     .flags = SL_CFG_IGNORED},
    {.name = "gelf_full_message_key",
     .type = SL_CFG_STR,
     .flags = SL_CFG_IGNORED},
    {.name = "gelf_level_key", .type = SL_CFG_STR, .flags = SL_CFG_IGNORED},
    /* accepted only to be refused with the reason, not as unknown keys */
    {.name = "body_key",
     .type = SL_CFG_STR,
     .offset = OFF(body_key),
     .desc = "one request per record: not implemented, an error"},
    {.name = "headers_key",
     .type = SL_CFG_STR,
     .offset = OFF(headers_key),
     .desc = "one request per record: not implemented, an error"},
    {.name = "aws_auth",
     .type = SL_CFG_BOOL,
     .def = "off",
     .offset = OFF(aws_auth),
     .desc = "AWS SigV4: not supported, on is an error"},
    /* used by Fluent Bit only with AWS_Auth on, which is refused */
    {.name = "aws_",
     .type = SL_CFG_STR,
     .flags = SL_CFG_IGNORED | SL_CFG_PREFIX},
    SL_CFG_END,
};

static int http_init(void *vctx, struct sl_output *out)
{
	struct http_ctx *ctx = vctx;
	struct sl_plugin_instance *ins = sl_output_instance(out);
	int line = sl_plugin_instance_line(ins);
	enum sl_json_format fmt = SL_JSON_ARRAY;
	const char *what = NULL;
	const struct sl_http_cfg_report rep = {sl_plugin_error, ins, line,
					       "http"};
	size_t i;
	int rc = 0, hrc;

	ctx->name = strdup(sl_plugin_instance_name(ins));
	if (!ctx->name)
		return -SL_ENOMEM;
	ctx->msgpack = strcasecmp(ctx->format, "msgpack") == 0;
	if (!ctx->msgpack && sl_json_format_parse(ctx->format, &fmt) < 0) {
		sl_plugin_error(ins, line,
				"http: format '%s' is not supported (json, "
				"json_lines, json_stream, msgpack)",
				ctx->format);
		rc = -SL_ECONFIG;
	}
	if (sl_json_opts_init(&ctx->json, fmt, ctx->json_date_key,
			      ctx->json_date_format, &what) < 0) {
		sl_plugin_error(ins, line, "http: bad %s '%s'", what,
				ctx->json_date_format);
		rc = -SL_ECONFIG;
	}
	if (ctx->body_key || ctx->headers_key) {
		sl_plugin_error(ins, line,
				"http: %s (a request per record) is not "
				"implemented by sluice",
				ctx->body_key ? "body_key" : "headers_key");
		rc = -SL_ECONFIG;
	}
	if (ctx->aws_auth) {
		sl_plugin_error(ins, line,
				"http: AWS_Auth (SigV4) is not supported by "
				"sluice");
		rc = -SL_ECONFIG;
	}
	/* Fluent Bit takes http:// proxies only */
	if (ctx->proxy && strncasecmp(ctx->proxy, "http://", 7) != 0) {
		sl_plugin_error(ins, line,
				"http: proxy '%s' is not http://HOST:PORT",
				ctx->proxy);
		rc = -SL_ECONFIG;
	}
	if (strcasecmp(ctx->http_method, "POST") &&
	    strcasecmp(ctx->http_method, "PUT")) {
		sl_plugin_error(ins, line,
				"http: http_method '%s' is not POST "
				"or PUT",
				ctx->http_method);
		rc = -SL_ECONFIG;
	}
	hrc = sl_http_client_cfg_check(&ctx->hc, &rep);
	if (hrc == -SL_ENOMEM)
		return hrc;
	if (hrc < 0)
		rc = hrc;
	if (!ctx->uri || ctx->uri[0] != '/') {
		sl_plugin_error(ins, line, "http: uri must start with '/'");
		rc = -SL_ECONFIG;
	}
	if (ctx->header_tag &&
	    ctx->header_tag[strcspn(ctx->header_tag, ": \t\r\n")]) {
		sl_plugin_error(ins, line,
				"http: header_tag '%s' is not a header name",
				ctx->header_tag);
		rc = -SL_ECONFIG;
	}
	if (rc < 0)
		return rc;
	/* the lines move here: a repeated name may replace an earlier one */
	for (i = 0; i < ctx->hc.n_lines; i++) {
		char *h = ctx->hc.lines[i];

		ctx->hc.lines[i] = NULL;
		if (out_http_header_add(&ctx->hdr_lines, &ctx->n_hdr, h,
					ctx->allow_duplicated_headers) < 0)
			return -SL_ENOMEM;
	}
	ctx->http = (struct sl_http_client_opts){
	    .host = ctx->host,
	    .port = (int)ctx->port,
	    .proxy = ctx->proxy,
	    .max_response = 64 * 1024,
	};
	sl_http_client_cfg_opts(&ctx->hc, &ctx->http);
	sl_output_tls_opts(out, &ctx->http);
	return 0;
}

static int http_worker_init(void *vctx, void **worker)
{
	struct http_ctx *ctx = vctx;
	struct http_worker *w = calloc(1, sizeof(*w));

	if (!w)
		return -SL_ENOMEM;
	w->hdrs = calloc(ctx->n_hdr + 2, sizeof(*w->hdrs));
	w->client = w->hdrs ? sl_http_client_create(&ctx->http) : NULL;
	if (!w->client) {
		free(w->hdrs);
		free(w);
		return -SL_ENOMEM;
	}
	sl_record_init(&w->rec);
	*worker = w;
	return 0;
}

static void http_worker_exit(void *vctx, void *worker)
{
	struct http_worker *w = worker;

	(void)vctx;
	if (!w)
		return;
	sl_http_client_destroy(w->client);
	sl_buf_destroy(&w->payload);
	sl_http_response_destroy(&w->resp);
	sl_record_destroy(&w->rec);
	sl_buf_destroy(&w->unescaped);
	free(w->idx);
	free(w->hdrs);
	sl_buf_destroy(&w->tag_line);
	free(w);
}

/* The records of one request: chunk indexes [lo, hi) not yet settled. */
struct range {
	struct sl_flush *fl;
	uint32_t lo, hi;
};

static bool skip_settled(void *ud, uint32_t index)
{
	const struct range *r = ud;

	return index < r->lo || index >= r->hi || sl_flush_marked(r->fl, index);
}

static void mark_all(struct sl_flush *fl, const struct http_worker *w, long n)
{
	long i;

	for (i = 0; i < n; i++)
		(void)sl_flush_mark(fl, w->idx[i]);
}

static enum sl_flush_result send_range(struct http_ctx *ctx,
				       struct http_worker *w,
				       struct sl_flush *fl, uint32_t lo,
				       uint32_t hi);

static enum sl_flush_result handle_response(struct http_ctx *ctx,
					    struct http_worker *w,
					    struct sl_flush *fl, long n)
{
	const struct sl_http_response *r = &w->resp;
	int blen =
	    ctx->log_response_payload
		? (int)(r->body.len < LOG_BODY_MAX ? r->body.len : LOG_BODY_MAX)
		: 0;
	const char *body = r->body.data ? r->body.data : "";
	uint32_t lo, mid, hi;
	enum sl_flush_result res;

	switch (sl_output_http_class(r->status)) {
	case SL_HTTP_DELIVERED:
		mark_all(fl, w, n);
		sl_log(SL_LOG_DEBUG, ctx->name, "%s:%lld, HTTP status=%ld",
		       ctx->host, (long long)ctx->port, r->status);
		return SL_FLUSH_OK;
	case SL_HTTP_TOO_LARGE:
		if (n == 1) {
			sl_log(
			    SL_LOG_ERROR, ctx->name,
			    "%s:%lld, HTTP status=413 for a single record of "
			    "%zu bytes: dropped (oversize)",
			    ctx->host, (long long)ctx->port, w->payload.len);
			sl_flush_drop(fl, SL_DROP_OVERSIZE, 1);
			mark_all(fl, w, n);
			return SL_FLUSH_OK;
		}
		/* halves by count; w->idx is reused by the sends below */
		lo = w->idx[0];
		mid = w->idx[n / 2];
		hi = w->idx[n - 1] + 1;
		sl_log(SL_LOG_WARN, ctx->name,
		       "%s:%lld, HTTP status=413 for %ld records: sending "
		       "them in two halves",
		       ctx->host, (long long)ctx->port, n);
		res = send_range(ctx, w, fl, lo, mid);
		if (res != SL_FLUSH_OK)
			return res;
		return send_range(ctx, w, fl, mid, hi);
	case SL_HTTP_REJECTED:
		sl_log(SL_LOG_ERROR, ctx->name,
		       "%s:%lld, HTTP status=%ld, %ld records dropped "
		       "(rejected): %.*s",
		       ctx->host, (long long)ctx->port, r->status, n, blen,
		       body);
		sl_flush_drop(fl, SL_DROP_REJECTED, (uint64_t)n);
		mark_all(fl, w, n);
		return SL_FLUSH_OK;
	case SL_HTTP_AUTH:
	case SL_HTTP_RETRY:
	default:
		break;
	}
	if (r->retry_after >= 0)
		sl_flush_retry_after(fl, r->retry_after);
	sl_log(SL_LOG_WARN, ctx->name,
	       "%s:%lld, HTTP status=%ld, %ld records will be retried%s: %.*s",
	       ctx->host, (long long)ctx->port, r->status, n,
	       sl_output_http_class(r->status) == SL_HTTP_AUTH
		   ? " (credentials refused)"
		   : "",
	       blen, body);
	return SL_FLUSH_RETRY;
}

/* The header lines of a request: the static ones and Header_Tag's. */
static int set_headers(struct http_ctx *ctx, struct http_worker *w,
		       const struct sl_chunk *c)
{
	size_t i;

	for (i = 0; i < ctx->n_hdr; i++)
		w->hdrs[i] = ctx->hdr_lines[i];
	if (ctx->header_tag && *ctx->header_tag) {
		sl_buf_reset(&w->tag_line);
		if (sl_buf_append(&w->tag_line, ctx->header_tag,
				  strlen(ctx->header_tag)) < 0 ||
		    sl_buf_append(&w->tag_line, ": ", 2) < 0 ||
		    sl_sanitize_header_value(&w->tag_line, c->tag, c->tag_len) <
			0 ||
		    sl_buf_append(&w->tag_line, "", 1) < 0)
			return -SL_ENOMEM;
		w->hdrs[i++] = w->tag_line.data;
	}
	w->hdrs[i] = NULL;
	return 0;
}

/* One request for the unsettled records in [lo, hi) of the chunk. */
static enum sl_flush_result send_range(struct http_ctx *ctx,
				       struct http_worker *w,
				       struct sl_flush *fl, uint32_t lo,
				       uint32_t hi)
{
	const struct sl_chunk *c = sl_flush_chunk(fl);
	struct range rg = {.fl = fl, .lo = lo, .hi = hi};
	struct sl_http_request req = {
	    .method = strcasecmp(ctx->http_method, "PUT") ? "POST" : "PUT",
	    .uri = ctx->uri,
	    .content_type = ctx->msgpack
				? "application/msgpack"
				: out_http_content_type(ctx->json.format),
	    .headers = w->hdrs,
	    .gzip = ctx->hc.gzip,
	};
	long n;

	sl_buf_reset(&w->payload);
	if (ctx->msgpack)
		n = out_http_payload_msgpack(c, skip_settled, &rg, &w->rec,
					     &w->unescaped, &w->payload,
					     &w->idx, &w->idx_cap);
	else
		n = out_http_payload(&ctx->json, c, skip_settled, &rg,
				     &w->payload, &w->idx, &w->idx_cap);
	if (n < 0) {
		sl_log(SL_LOG_ERROR, ctx->name,
		       "out of memory formatting "
		       "chunk %llu",
		       (unsigned long long)c->id);
		return SL_FLUSH_RETRY;
	}
	if (n == 0)
		return SL_FLUSH_OK;
	req.body = w->payload.data;
	req.body_len = w->payload.len;
	if (sl_http_client_send(w->client, &req, &w->resp) < 0) {
		sl_log(SL_LOG_WARN, ctx->name,
		       "no answer for %ld records, will retry: %s", n,
		       w->resp.error);
		return SL_FLUSH_RETRY;
	}
	return handle_response(ctx, w, fl, n);
}

static enum sl_flush_result
flush_chunk(struct http_ctx *ctx, struct http_worker *w, struct sl_flush *fl)
{
	const struct sl_chunk *c = sl_flush_chunk(fl);

	if (set_headers(ctx, w, c) < 0)
		return SL_FLUSH_RETRY;
	return send_range(ctx, w, fl, 0, UINT32_MAX);
}

static void http_flush(void *vctx, void *worker, struct sl_flush *fl)
{
	struct http_ctx *ctx = vctx;
	enum sl_flush_result r = SL_FLUSH_RETRY;
	void *local = NULL;

	if (!worker && http_worker_init(ctx, &local) == 0)
		worker = local;
	if (worker)
		r = flush_chunk(ctx, worker, fl);
	http_worker_exit(ctx, local);
	sl_flush_done(fl, r);
}

static void http_destroy(void *vctx)
{
	struct http_ctx *ctx = vctx;

	out_http_headers_free(ctx->hdr_lines);
	ctx->hdr_lines = NULL;
	sl_http_client_cfg_destroy(&ctx->hc);
	ctx->n_hdr = 0;
	free(ctx->name);
	ctx->name = NULL;
}

const struct sl_output_plugin sl_output_http = {
    .name = "http",
    .description = "Send records to an HTTP endpoint (Fluent Bit's out_http)",
    .config_map = http_config,
    .ctx_size = sizeof(struct http_ctx),
    .init = http_init,
    .worker_init = http_worker_init,
    .worker_exit = http_worker_exit,
    .flush = http_flush,
    .destroy = http_destroy,
};
