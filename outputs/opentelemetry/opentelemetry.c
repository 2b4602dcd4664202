/* SPDX-License-Identifier: Apache-2.0 */
/*
 * opentelemetry.c - Fluent Bit's out_opentelemetry for logs: OTLP/HTTP
 * POST to Logs_uri, protobuf (Fluent Bit's encoding) or, with the sluice
 * option Format json, OTLP/JSON; up to Batch_Size records per request.
 * The mapping is otlp_map.c. Answers, as the OTLP specification says:
 * 2xx delivered, except that an ExportLogsServiceResponse's
 * partial_success.rejected_log_records are counted as dropped (rejected)
 * and not re-sent; 429/502/503/504 (and 401/403/407, credentials may be
 * rotating, as http and es do) retried with Retry-After; 413 halves the
 * request; any other status rejects the request's records, counted and
 * logged. gRPC, metrics and traces are not offered.
 */
#include "otlp_map.h"
#include "sl_http_client.h"
#include "sl_output.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LOG_BODY_MAX 1024

struct otel_ctx {
	/* config map */
	char *host;
	int64_t port;
	char *logs_uri;
	char *format;
	char *proxy;
	struct sl_http_client_cfg hc;
	struct sl_cfg_kvlist add_label;
	int64_t batch_size;
	struct sl_cfg_multi body_key;
	bool body_key_attributes;
	char *meta_key, *sev_text_key, *sev_num_key, *trace_key, *span_key;
	char *severity_key, *correlation_key, *traceparent_key;
	bool log_response_payload;
	bool grpc, aws_auth;
	struct sl_cfg_multi oauth2; /* "suffix value" items */
	/* from init */
	bool json;
	struct otlp_map_cfg map;
	otlp_kv **res_attrs; /* in `res_arena` */
	size_t n_res;
	struct otlp_arena res_arena;
	struct sl_http_client_opts http;
	char *name;
};

struct otel_worker {
	struct sl_http_client *client;
	struct sl_buf payload, scratch, msg;
	struct sl_http_response resp;
};

#define OFF(f) offsetof(struct otel_ctx, f)
static const struct sl_cfg_option otel_config[] = {
    {.name = "host",
     .type = SL_CFG_STR,
     .def = "127.0.0.1",
     .offset = OFF(host),
     .desc = "OTLP/HTTP receiver host"},
    {.name = "port",
     .type = SL_CFG_INT,
     .def = "80", /* Fluent Bit's default; receivers listen on 4318 */
     .min = 1,
     .max = 65535,
     .offset = OFF(port),
     .desc = "OTLP/HTTP receiver port"},
    {.name = "logs_uri",
     .type = SL_CFG_STR,
     .def = "/v1/logs",
     .offset = OFF(logs_uri),
     .desc = "path of the logs endpoint"},
    {.name = "format",
     .type = SL_CFG_STR,
     .def = "protobuf",
     .offset = OFF(format),
     .desc = "protobuf or json (OTLP/JSON; a sluice option)"},
    SL_HTTP_CFG_HEADER(struct otel_ctx, hc),
    SL_HTTP_CFG_COMPRESS(struct otel_ctx, hc),
    SL_HTTP_CFG_USER(struct otel_ctx, hc),
    SL_HTTP_CFG_PASSWD(struct otel_ctx, hc),
    {.name = "proxy",
     .type = SL_CFG_STR,
     .offset = OFF(proxy),
     .desc = "HTTP proxy, http://HOST:PORT"},
    {.name = "add_label",
     .type = SL_CFG_KV,
     .flags = SL_CFG_MULTI,
     .offset = OFF(add_label),
     .desc = "NAME VALUE: a resource attribute of every request"},
    {.name = "batch_size",
     .type = SL_CFG_INT,
     .def = "1000",
     .min = 1,
     .max = 1000000,
     .offset = OFF(batch_size),
     .desc = "log records per request at most"},
    {.name = "logs_body_key",
     .type = SL_CFG_STR,
     .flags = SL_CFG_MULTI,
     .offset = OFF(body_key),
     .desc = "key whose value is the body (first found; else the record)"},
    {.name = "logs_body_key_attributes",
     .type = SL_CFG_BOOL,
     .def = "false",
     .offset = OFF(body_key_attributes),
     .desc = "with a body key found, the other keys become attributes"},
    {.name = "logs_metadata_key",
     .type = SL_CFG_STR,
     .def = "otlp",
     .offset = OFF(meta_key),
     .desc = "key of the OTLP fields the opentelemetry input keeps"},
    {.name = "logs_severity_text_message_key",
     .type = SL_CFG_STR,
     .def = "$SeverityText",
     .offset = OFF(sev_text_key),
     .desc = "key of the severity text"},
    {.name = "logs_severity_number_message_key",
     .type = SL_CFG_STR,
     .def = "$SeverityNumber",
     .offset = OFF(sev_num_key),
     .desc = "key of the severity number"},
    {.name = "logs_trace_id_message_key",
     .type = SL_CFG_STR,
     .def = "$TraceId",
     .offset = OFF(trace_key),
     .desc = "key of the trace id (32 hex digits)"},
    {.name = "logs_span_id_message_key",
     .type = SL_CFG_STR,
     .def = "$SpanId",
     .offset = OFF(span_key),
     .desc = "key of the span id (16 hex digits)"},
    {.name = "severity_key",
     .type = SL_CFG_STR,
     .def = "level",
     .offset = OFF(severity_key),
     .desc = "log level field, when no severity key is found (sluice)"},
    {.name = "correlation_key",
     .type = SL_CFG_STR,
     .def = "correlation_id",
     .offset = OFF(correlation_key),
     .desc = "correlate's ID, the trace id when it is one (sluice)"},
    {.name = "traceparent_key",
     .type = SL_CFG_STR,
     .def = "traceparent",
     .offset = OFF(traceparent_key),
     .desc = "W3C traceparent: trace id, span id, flags (sluice)"},
    {.name = "log_response_payload",
     .type = SL_CFG_BOOL,
     .def = "true",
     .offset = OFF(log_response_payload),
     .desc = "log the body of error answers"},
    {.name = "grpc",
     .type = SL_CFG_BOOL,
     .def = "off",
     .offset = OFF(grpc),
     .desc = "gRPC: not supported, on is an error"},
    {.name = "aws_auth",
     .type = SL_CFG_BOOL,
     .def = "off",
     .offset = OFF(aws_auth),
     .desc = "AWS SigV4: not supported, on is an error"},
    {.name = "oauth2.",
     .type = SL_CFG_STR,
     .flags = SL_CFG_PREFIX,
     .offset = OFF(oauth2),
     .desc = "OAuth2: not supported, oauth2.enable on is an error"},
    {.name = "aws_",
     .type = SL_CFG_STR,
     .flags = SL_CFG_IGNORED | SL_CFG_PREFIX},
    {.name = "http2", .type = SL_CFG_STR, .flags = SL_CFG_IGNORED},
    {.name = "metrics_uri", .type = SL_CFG_STR, .flags = SL_CFG_IGNORED},
    {.name = "traces_uri", .type = SL_CFG_STR, .flags = SL_CFG_IGNORED},
    {.name = "profiles_uri", .type = SL_CFG_STR, .flags = SL_CFG_IGNORED},
    {.name = "grpc_",
     .type = SL_CFG_STR,
     .flags = SL_CFG_IGNORED | SL_CFG_PREFIX},
    {.name = "logs_max_resources", .type = SL_CFG_INT, .flags = SL_CFG_IGNORED},
    {.name = "logs_max_scopes", .type = SL_CFG_INT, .flags = SL_CFG_IGNORED},
    /* Fluent Bit's event metadata keys: sluice records have none */
    {.name = "logs_observed_timestamp_metadata_key",
     .type = SL_CFG_STR,
     .flags = SL_CFG_IGNORED},
    {.name = "logs_timestamp_metadata_key",
     .type = SL_CFG_STR,
     .flags = SL_CFG_IGNORED},
    {.name = "logs_severity_text_metadata_key",
     .type = SL_CFG_STR,
     .flags = SL_CFG_IGNORED},
    {.name = "logs_severity_number_metadata_key",
     .type = SL_CFG_STR,
     .flags = SL_CFG_IGNORED},
    {.name = "logs_trace_flags_metadata_key",
     .type = SL_CFG_STR,
     .flags = SL_CFG_IGNORED},
    {.name = "logs_span_id_metadata_key",
     .type = SL_CFG_STR,
     .flags = SL_CFG_IGNORED},
    {.name = "logs_trace_id_metadata_key",
     .type = SL_CFG_STR,
     .flags = SL_CFG_IGNORED},
    {.name = "logs_attributes_metadata_key",
     .type = SL_CFG_STR,
     .flags = SL_CFG_IGNORED},
    {.name = "logs_instrumentation_scope_metadata_key",
     .type = SL_CFG_STR,
     .flags = SL_CFG_IGNORED},
    {.name = "logs_resource_metadata_key",
     .type = SL_CFG_STR,
     .flags = SL_CFG_IGNORED},
    SL_CFG_END,
};

static int path_opt(struct sl_plugin_instance *ins, int line,
		    struct otlp_path *p, const char *opt, const char *value)
{
	int rc = otlp_path_parse(p, value);

	if (rc == -SL_EINVAL) {
		sl_plugin_error(ins, line,
				"opentelemetry: %s '%s' is not a key", opt,
				value ? value : "");
		return -SL_ECONFIG;
	}
	return rc;
}

static int otel_init(void *vctx, struct sl_output *out)
{
	struct otel_ctx *ctx = vctx;
	struct sl_plugin_instance *ins = sl_output_instance(out);
	int line = sl_plugin_instance_line(ins);
	const struct sl_http_cfg_report rep = {sl_plugin_error, ins, line,
					       "opentelemetry"};
	struct otlp_map_cfg *m = &ctx->map;
	int rc = 0, prc;

	ctx->name = strdup(sl_plugin_instance_name(ins));
	if (!ctx->name)
		return -SL_ENOMEM;
	if (strcasecmp(ctx->format, "json") == 0) {
		ctx->json = true;
	} else if (strcasecmp(ctx->format, "protobuf") != 0) {
		sl_plugin_error(ins, line,
				"opentelemetry: format '%s' is not protobuf "
				"or json",
				ctx->format);
		rc = -SL_ECONFIG;
	}
	if (ctx->grpc || ctx->aws_auth) {
		sl_plugin_error(ins, line,
				"opentelemetry: %s is not supported by sluice",
				ctx->grpc ? "grpc" : "aws_auth");
		rc = -SL_ECONFIG;
	}
	for (size_t i = 0; i < ctx->oauth2.n; i++) {
		const struct sl_cfg_item *it = &ctx->oauth2.items[i];
		const char *v = it->value + strcspn(it->value, " \t");

		v += strspn(v, " \t");
		/* without enable on, Fluent Bit ignores the others too */
		if (strncasecmp(it->value, "enable", 6) == 0 &&
		    (!strcasecmp(v, "on") || !strcasecmp(v, "true") ||
		     !strcasecmp(v, "yes"))) {
			sl_plugin_error(ins, it->line,
					"opentelemetry: OAuth2 (oauth2.enable) "
					"is not supported by sluice");
			rc = -SL_ECONFIG;
		}
	}
	if (!ctx->logs_uri || ctx->logs_uri[0] != '/') {
		sl_plugin_error(ins, line,
				"opentelemetry: logs_uri must start with '/'");
		rc = -SL_ECONFIG;
	}
	if (ctx->proxy && strncasecmp(ctx->proxy, "http://", 7) != 0) {
		sl_plugin_error(ins, line,
				"opentelemetry: proxy '%s' is not "
				"http://HOST:PORT",
				ctx->proxy);
		rc = -SL_ECONFIG;
	}
	prc = sl_http_client_cfg_check(&ctx->hc, &rep);
	if (prc == -SL_ENOMEM)
		return prc;
	if (prc < 0)
		rc = prc;
	if (ctx->body_key.n) {
		m->body = calloc(ctx->body_key.n, sizeof(*m->body));
		if (!m->body)
			return -SL_ENOMEM;
	}
	for (size_t i = 0; i < ctx->body_key.n; i++) {
		const struct sl_cfg_item *it = &ctx->body_key.items[i];

		prc = path_opt(ins, it->line, &m->body[m->n_body],
			       "logs_body_key", it->value);
		if (prc == -SL_ENOMEM)
			return prc;
		if (prc < 0)
			rc = prc;
		else
			m->n_body++;
	}
	m->body_key_attributes = ctx->body_key_attributes;
	m->meta_key = ctx->meta_key;
	{
		const struct {
			struct otlp_path *p;
			const char *opt, *value;
		} paths[] = {
		    {&m->sev_text, "logs_severity_text_message_key",
		     ctx->sev_text_key},
		    {&m->sev_num, "logs_severity_number_message_key",
		     ctx->sev_num_key},
		    {&m->trace_id, "logs_trace_id_message_key", ctx->trace_key},
		    {&m->span_id, "logs_span_id_message_key", ctx->span_key},
		    {&m->severity, "severity_key", ctx->severity_key},
		    {&m->correlation, "correlation_key", ctx->correlation_key},
		    {&m->traceparent, "traceparent_key", ctx->traceparent_key},
		};

		for (size_t i = 0; i < SL_ARRAY_LEN(paths); i++) {
			/* an empty value turns the lookup off */
			if (!paths[i].value || !*paths[i].value)
				continue;
			prc = path_opt(ins, line, paths[i].p, paths[i].opt,
				       paths[i].value);
			if (prc == -SL_ENOMEM)
				return prc;
			if (prc < 0)
				rc = prc;
		}
	}
	for (size_t i = 0; i < ctx->add_label.n; i++) {
		const struct sl_cfg_kv *kv = &ctx->add_label.items[i];
		otlp_any *v = otlp_any_new(&ctx->res_arena);
		char *k =
		    otlp_strndup(&ctx->res_arena, kv->key, strlen(kv->key));
		otlp_kv *e;

		if (!v || !k)
			return -SL_ENOMEM;
		if (!kv->value || !*kv->value) {
			sl_plugin_error(ins, kv->line,
					"opentelemetry: add_label needs NAME "
					"VALUE");
			rc = -SL_ECONFIG;
			continue;
		}
		v->value_case =
		    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
		v->string_value =
		    otlp_strndup(&ctx->res_arena, kv->value, strlen(kv->value));
		e = v->string_value ? otlp_kv_new(&ctx->res_arena, k, v) : NULL;
		if (!e || otlp_push(&ctx->res_arena, (void ***)&ctx->res_attrs,
				    &ctx->n_res, e) < 0)
			return -SL_ENOMEM;
	}
	if (rc < 0)
		return rc;
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

static void otel_worker_exit(void *vctx, void *worker)
{
	struct otel_worker *w = worker;

	(void)vctx;
	if (!w)
		return;
	sl_http_client_destroy(w->client);
	sl_buf_destroy(&w->payload);
	sl_buf_destroy(&w->scratch);
	sl_buf_destroy(&w->msg);
	sl_http_response_destroy(&w->resp);
	free(w);
}

static int otel_worker_init(void *vctx, void **worker)
{
	struct otel_ctx *ctx = vctx;
	struct otel_worker *w = calloc(1, sizeof(*w));

	if (!w)
		return -SL_ENOMEM;
	w->client = sl_http_client_create(&ctx->http);
	if (!w->client) {
		free(w);
		return -SL_ENOMEM;
	}
	*worker = w;
	return 0;
}

/* One batch: records [i0, i1) of the chunk's unsettled ones. */
struct batch {
	uint32_t *idx; /* chunk indexes */
	yajl_val *trees;
	struct otlp_mapped *m;
	size_t n;
};

static void mark_batch(struct sl_flush *fl, const struct batch *b, size_t lo,
		       size_t hi)
{
	for (size_t i = lo; i < hi; i++)
		(void)sl_flush_mark(fl, b->idx[i]);
}

/* The rejected count of a 2xx answer (protobuf or JSON). */
static int64_t answer_rejected(struct otel_ctx *ctx, struct otel_worker *w)
{
	const struct sl_http_response *r = &w->resp;
	otlp_response *resp;
	int64_t n = 0;

	sl_buf_reset(&w->msg);
	if (!r->body.len)
		return 0;
	if (ctx->json)
		return otlp_response_rejected_json(r->body.data, r->body.len,
						   &w->msg);
	resp =
	    opentelemetry__proto__collector__logs__v1__export_logs_service_response__unpack(
		NULL, r->body.len, (const uint8_t *)r->body.data);
	if (!resp)
		return 0; /* not a response message: the request was taken */
	if (resp->partial_success) {
		n = resp->partial_success->rejected_log_records;
		if (resp->partial_success->error_message)
			(void)sl_buf_append(
			    &w->msg, resp->partial_success->error_message,
			    strlen(resp->partial_success->error_message));
	}
	opentelemetry__proto__collector__logs__v1__export_logs_service_response__free_unpacked(
	    resp, NULL);
	return n < 0 ? 0 : n;
}

static enum sl_flush_result
send_batch(struct otel_ctx *ctx, struct otel_worker *w, struct sl_flush *fl,
	   const struct batch *b, size_t lo, size_t hi);

static enum sl_flush_result
handle_answer(struct otel_ctx *ctx, struct otel_worker *w, struct sl_flush *fl,
	      const struct batch *b, size_t lo, size_t hi)
{
	const struct sl_http_response *r = &w->resp;
	size_t n = hi - lo;
	int blen =
	    ctx->log_response_payload
		? (int)(r->body.len < LOG_BODY_MAX ? r->body.len : LOG_BODY_MAX)
		: 0;
	const char *body = r->body.data ? r->body.data : "";
	enum sl_flush_result res;
	int64_t rej;

	if (r->status >= 200 && r->status < 300) {
		rej = answer_rejected(ctx, w);
		if (rej > 0) {
			uint64_t k = (uint64_t)rej < n ? (uint64_t)rej : n;

			sl_log(SL_LOG_ERROR, ctx->name,
			       "%s:%lld, partial success: %llu of %zu log "
			       "records rejected: %.*s",
			       ctx->host, (long long)ctx->port,
			       (unsigned long long)k, n, (int)w->msg.len,
			       w->msg.data ? w->msg.data : "");
			sl_flush_drop(fl, SL_DROP_REJECTED, k);
		}
		mark_batch(fl, b, lo, hi);
		return SL_FLUSH_OK;
	}
	switch (r->status) {
	case 429:
	case 502:
	case 503:
	case 504:
	case 401:
	case 403:
	case 407:
		if (r->retry_after >= 0)
			sl_flush_retry_after(fl, r->retry_after);
		sl_log(SL_LOG_WARN, ctx->name,
		       "%s:%lld, HTTP status=%ld, %zu log records will be "
		       "retried: %.*s",
		       ctx->host, (long long)ctx->port, r->status, n, blen,
		       body);
		return SL_FLUSH_RETRY;
	case 413:
		if (n > 1) {
			size_t mid = lo + n / 2;

			res = send_batch(ctx, w, fl, b, lo, mid);
			return res != SL_FLUSH_OK
				   ? res
				   : send_batch(ctx, w, fl, b, mid, hi);
		}
		sl_log(SL_LOG_ERROR, ctx->name,
		       "%s:%lld, HTTP status=413 for one log record: dropped "
		       "(oversize)",
		       ctx->host, (long long)ctx->port);
		sl_flush_drop(fl, SL_DROP_OVERSIZE, 1);
		mark_batch(fl, b, lo, hi);
		return SL_FLUSH_OK;
	default:
		sl_log(SL_LOG_ERROR, ctx->name,
		       "%s:%lld, HTTP status=%ld, %zu log records dropped "
		       "(rejected): %.*s",
		       ctx->host, (long long)ctx->port, r->status, n, blen,
		       body);
		sl_flush_drop(fl, SL_DROP_REJECTED, n);
		mark_batch(fl, b, lo, hi);
		return SL_FLUSH_OK;
	}
}

static enum sl_flush_result
send_batch(struct otel_ctx *ctx, struct otel_worker *w, struct sl_flush *fl,
	   const struct batch *b, size_t lo, size_t hi)
{
	struct otlp_arena a = {0};
	otlp_request *req = otlp_build_request(&a, b->m + lo, hi - lo,
					       ctx->res_attrs, ctx->n_res);
	struct sl_http_request hr = {
	    .method = "POST",
	    .uri = ctx->logs_uri,
	    .content_type =
		ctx->json ? "application/json" : "application/x-protobuf",
	    .headers = (const char *const *)ctx->hc.lines,
	    .gzip = ctx->hc.gzip,
	};
	int rc = -SL_ENOMEM;

	sl_buf_reset(&w->payload);
	if (req && ctx->json) {
		rc = otlp_request_to_json(req, &w->payload);
	} else if (req) {
		size_t len =
		    opentelemetry__proto__collector__logs__v1__export_logs_service_request__get_packed_size(
			req);

		rc = sl_buf_reserve(&w->payload, len + 1);
		if (rc == 0)
			w->payload.len =
			    opentelemetry__proto__collector__logs__v1__export_logs_service_request__pack(
				req, (uint8_t *)w->payload.data);
	}
	otlp_arena_free(&a);
	if (rc < 0) {
		sl_log(SL_LOG_ERROR, ctx->name,
		       "out of memory encoding %zu log records", hi - lo);
		return SL_FLUSH_RETRY;
	}
	hr.body = w->payload.data;
	hr.body_len = w->payload.len;
	if (sl_http_client_send(w->client, &hr, &w->resp) < 0) {
		sl_log(SL_LOG_WARN, ctx->name,
		       "no answer for %zu log records, will retry: %s", hi - lo,
		       w->resp.error);
		return SL_FLUSH_RETRY;
	}
	return handle_answer(ctx, w, fl, b, lo, hi);
}

static void batch_clear(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		yajl_tree_free(b->trees[i]);
	b->n = 0;
}

static enum sl_flush_result
flush_chunk(struct otel_ctx *ctx, struct otel_worker *w, struct sl_flush *fl)
{
	const struct sl_chunk *c = sl_flush_chunk(fl);
	size_t cap = (size_t)ctx->batch_size;
	struct batch b = {
	    .idx = calloc(cap, sizeof(*b.idx)),
	    .trees = calloc(cap, sizeof(*b.trees)),
	    .m = calloc(cap, sizeof(*b.m)),
	};
	enum sl_flush_result res = SL_FLUSH_OK;
	struct otlp_arena a = {0};
	struct sl_chunk_iter it;
	const char *body;
	size_t len;
	int64_t ts, now = sl_now_ns();
	bool more = true;

	if (!b.idx || !b.trees || !b.m) {
		res = SL_FLUSH_RETRY;
		goto out;
	}
	sl_chunk_iter_init(&it, c);
	while (more && res == SL_FLUSH_OK) {
		more = sl_chunk_next(&it, &ts, &body, &len);
		if (more) {
			uint32_t index = it.index - 1;
			yajl_val t;

			if (sl_flush_marked(fl, index))
				continue;
			sl_buf_reset(&w->scratch);
			if (sl_buf_append(&w->scratch, body, len) < 0 ||
			    sl_buf_append(&w->scratch, "", 1) < 0) {
				res = SL_FLUSH_RETRY;
				break;
			}
			t = yajl_tree_parse(w->scratch.data, NULL, 0);
			if (!t || t->type != yajl_t_object) {
				/* a sealed chunk holds objects: only ENOMEM */
				yajl_tree_free(t);
				res = SL_FLUSH_RETRY;
				break;
			}
			b.trees[b.n] = t;
			b.idx[b.n] = index;
			if (otlp_map_record(&a, &ctx->map, t, ts, now,
					    &b.m[b.n]) < 0) {
				b.n++;
				res = SL_FLUSH_RETRY;
				break;
			}
			b.n++;
		}
		if (b.n && (b.n == cap || !more)) {
			res = send_batch(ctx, w, fl, &b, 0, b.n);
			batch_clear(&b);
			otlp_arena_free(&a);
		}
	}
out:
	batch_clear(&b);
	otlp_arena_free(&a);
	free(b.idx);
	free(b.trees);
	free(b.m);
	return res;
}

static void otel_flush(void *vctx, void *worker, struct sl_flush *fl)
{
	struct otel_ctx *ctx = vctx;
	enum sl_flush_result r = SL_FLUSH_RETRY;
	void *local = NULL;

	if (!worker && otel_worker_init(ctx, &local) == 0)
		worker = local;
	if (worker)
		r = flush_chunk(ctx, worker, fl);
	otel_worker_exit(ctx, local);
	sl_flush_done(fl, r);
}

static void otel_destroy(void *vctx)
{
	struct otel_ctx *ctx = vctx;
	struct otlp_map_cfg *m = &ctx->map;

	for (size_t i = 0; i < m->n_body; i++)
		otlp_path_destroy(&m->body[i]);
	free(m->body);
	m->body = NULL;
	m->n_body = 0;
	otlp_path_destroy(&m->sev_text);
	otlp_path_destroy(&m->sev_num);
	otlp_path_destroy(&m->trace_id);
	otlp_path_destroy(&m->span_id);
	otlp_path_destroy(&m->severity);
	otlp_path_destroy(&m->correlation);
	otlp_path_destroy(&m->traceparent);
	otlp_arena_free(&ctx->res_arena);
	ctx->res_attrs = NULL;
	ctx->n_res = 0;
	sl_http_client_cfg_destroy(&ctx->hc);
	free(ctx->name);
	ctx->name = NULL;
}

const struct sl_output_plugin sl_output_opentelemetry = {
    .name = "opentelemetry",
    .description = "Send logs over OTLP/HTTP (Fluent Bit's "
		   "out_opentelemetry, logs)",
    .config_map = otel_config,
    .ctx_size = sizeof(struct otel_ctx),
    .init = otel_init,
    .worker_init = otel_worker_init,
    .worker_exit = otel_worker_exit,
    .flush = otel_flush,
    .destroy = otel_destroy,
};
