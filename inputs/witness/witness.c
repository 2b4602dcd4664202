/* SPDX-License-Identifier: Apache-2.0 */
/*
 * witness.c - the witness input: HTTP(S) ingestion of witness events
 * (POST /api/events: an object, an array of objects or NDJSON), answered
 * 202 only once every event of the body is emitted and persisted, and
 * nothing of a body with one bad event (all or nothing). Token and
 * signature checks live in witness_auth.c, framing and limits in
 * core/http/sl_httpd.c, body splitting in core/http/sl_http_body.c.
 */
#include "sl_httpd.h"
#include "sl_httpd_route.h"
#include "sl_http_body.h"
#include "sl_input.h"
#include "sl_log.h"
#include "sl_metrics.h"
#include "sl_time.h"
#include "witness_auth.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_HEADERS    (16 * 1024)
#define IDLE_TIMEOUT_S 10
#define JSON_TYPE      "application/json"

enum rej {
	REJ_AUTH,
	REJ_SIGNATURE,
	REJ_MALFORMED,
	REJ_TOO_LARGE,
	REJ_BUSY,
	REJ_N
};
static const char *const rej_names[REJ_N] = {"auth", "signature", "malformed",
					     "too_large", "busy"};

/* ISO 8601 as witness senders write it, most specific first */
static const char *const time_formats[] = {
    "%Y-%m-%dT%H:%M:%S.%L%z",
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%dT%H:%M:%S.%L",
    "%Y-%m-%dT%H:%M:%S",
};
#define N_TIME_FORMATS (sizeof(time_formats) / sizeof(time_formats[0]))

struct witness_ctx {
	/* config map */
	char *listen;
	int64_t port;
	bool auth;
	struct sl_cfg_multi auth_keys;
	char *auth_key_file;
	char *hmac_secret;
	char *hmac_secret_file;
	char *unsigned_action;
	int64_t buffer_max_size;
	bool tls;
	char *tls_crt_file;
	char *tls_key_file;

	/* runtime */
	struct sl_input *in; /* borrowed */
	struct sl_witness_tokens tokens;
	char *secret; /* owned: from HMAC_Secret_File, else NULL */
	const char *secret_ptr;
	size_t secret_len;
	bool tag_unsigned;
	struct ssl_ctx_st *ssl; /* owned */
	struct sl_httpd *srv;	/* owned */
	struct sl_httpd_router router;
	struct sl_http_body body;
	struct sl_record rec;
	struct sl_buf event, reply;
	struct sl_time_fmt tf[N_TIME_FORMATS];
	size_t n_tf;
	bool ready; /* init got far enough for destroy to free the above */
	uint64_t total, rejected[REJ_N];
	struct sl_metric_series *m_rejected[REJ_N], *m_events;
};

#define OFF(f) offsetof(struct witness_ctx, f)
static const struct sl_cfg_option witness_config[] = {
    {.name = "Listen",
     .type = SL_CFG_STR,
     .def = "0.0.0.0",
     .offset = OFF(listen),
     .desc = "address to listen on"},
    {.name = "Port",
     .type = SL_CFG_INT,
     .def = "8088",
     .min = 1,
     .max = 65535,
     .offset = OFF(port),
     .desc = "TCP port"},
    {.name = "Auth",
     .type = SL_CFG_BOOL,
     .def = "on",
     .offset = OFF(auth),
     .desc = "require a bearer token (Auth_Key / Auth_Key_File)"},
    {.name = "Auth_Key",
     .type = SL_CFG_STR,
     .flags = SL_CFG_MULTI,
     .offset = OFF(auth_keys),
     .desc = "an accepted bearer token"},
    {.name = "Auth_Key_File",
     .type = SL_CFG_STR,
     .offset = OFF(auth_key_file),
     .desc = "file of accepted bearer tokens, one per line"},
    {.name = "HMAC_Secret",
     .type = SL_CFG_STR,
     .offset = OFF(hmac_secret),
     .desc = "check X-Witness-Signature: sha256=<HMAC-SHA256 of the body>"},
    {.name = "HMAC_Secret_File",
     .type = SL_CFG_STR,
     .offset = OFF(hmac_secret_file),
     .desc = "file holding the HMAC secret"},
    {.name = "Unsigned_Action",
     .type = SL_CFG_STR,
     .def = "reject",
     .offset = OFF(unsigned_action),
     .desc = "reject (403) or tag (_witness.verified false) bad signatures"},
    {.name = "Buffer_Max_Size",
     .type = SL_CFG_SIZE,
     .def = "4M",
     .min = 1,
     .max = 1e9,
     .offset = OFF(buffer_max_size),
     .desc = "largest request body (413 above)"},
    SL_HTTPD_TLS_CFG(struct witness_ctx),
    SL_CFG_END,
};

/* ---- counting ----------------------------------------------------------- */

static void reject(struct witness_ctx *ctx, enum rej why)
{
	ctx->rejected[why]++;
	if (ctx->m_rejected[why])
		sl_metric_add(ctx->m_rejected[why], 1);
}

static void register_metrics(struct witness_ctx *ctx,
			     struct sl_plugin_instance *ins)
{
	static const char *const two[] = {"name", "reason"};
	static const char *const one[] = {"name"};
	struct sl_metrics *reg = sl_instance_metrics(ins);
	const char *name = sl_plugin_instance_name(ins), *err;
	struct sl_metric_family *f;

	if (!reg)
		return; /* unit tests: no registry */
	f = sl_metrics_family(reg, "sluice_witness_rejected_total",
			      "witness requests refused, by reason",
			      SL_METRIC_COUNTER, two, 2, NULL, 0, &err);
	if (f) {
		f->max_series = 0;
		for (int i = 0; i < REJ_N; i++) {
			const char *values[] = {name, rej_names[i]};

			ctx->m_rejected[i] =
			    sl_metric_series_get(reg, f, values);
		}
	}
	f = sl_metrics_family(reg, "sluice_witness_events_total",
			      "witness events accepted (202)",
			      SL_METRIC_COUNTER, one, 1, NULL, 0, &err);
	if (f) {
		const char *values[] = {name};

		f->max_series = 0;
		ctx->m_events = sl_metric_series_get(reg, f, values);
	}
}

/* ---- answers ------------------------------------------------------------ */

static void reply_json(struct witness_ctx *ctx, struct sl_httpd_req *req,
		       int status, const char *const *extra)
{
	sl_httpd_reply(req, status, JSON_TYPE, ctx->reply.data, ctx->reply.len,
		       extra);
}

/* {"error":"<why>"} or, with index >= 0, {"error":"<why>","index":I} */
static void reply_error(struct witness_ctx *ctx, struct sl_httpd_req *req,
			int status, const char *why, long long index,
			const char *const *extra)
{
	char tail[48];
	int n = index >= 0
		    ? snprintf(tail, sizeof(tail), ",\"index\":%lld}\n", index)
		    : snprintf(tail, sizeof(tail), "}\n");

	sl_buf_reset(&ctx->reply);
	if (sl_buf_append(&ctx->reply, "{\"error\":", 9) < 0 ||
	    sl_json_append_string(&ctx->reply, why, strlen(why)) < 0 ||
	    sl_buf_append(&ctx->reply, tail, (size_t)n) < 0) {
		sl_httpd_reply(req, 503, NULL, NULL, 0, NULL);
		return;
	}
	reply_json(ctx, req, status, extra);
}

static void serve_stats(struct witness_ctx *ctx, struct sl_httpd_req *req)
{
	char text[320];
	int n =
	    snprintf(text, sizeof(text),
		     "{\"total_events\":%llu,\"rejected\":{\"auth\":%llu,"
		     "\"signature\":%llu,\"malformed\":%llu,\"too_large\":%llu,"
		     "\"busy\":%llu}}\n",
		     (unsigned long long)ctx->total,
		     (unsigned long long)ctx->rejected[REJ_AUTH],
		     (unsigned long long)ctx->rejected[REJ_SIGNATURE],
		     (unsigned long long)ctx->rejected[REJ_MALFORMED],
		     (unsigned long long)ctx->rejected[REJ_TOO_LARGE],
		     (unsigned long long)ctx->rejected[REJ_BUSY]);

	sl_httpd_reply(req, 200, JSON_TYPE, text, (size_t)n, NULL);
}

/* ---- requests ----------------------------------------------------------- */

/* The router's 404/405, in the API's JSON error format. */
static void refuse_route(void *arg, struct sl_httpd_req *req, int status,
			 const char *allow)
{
	char line[64];
	const char *const extra[] = {line, NULL};

	if (status == 405) {
		snprintf(line, sizeof(line), "Allow: %s", allow);
		reply_error(arg, req, 405, "method not allowed", -1, extra);
	} else {
		reply_error(arg, req, 404, "not found", -1, NULL);
	}
}

/* Auth, before a byte of a body is read. True when the request may go on. */
static bool admit(struct witness_ctx *ctx, struct sl_httpd_req *req)
{
	static const char *const bearer[] = {
	    "WWW-Authenticate: Bearer realm=\"witness\"", NULL};

	if (ctx->auth &&
	    !sl_witness_token_ok(&ctx->tokens,
				 sl_httpd_header(req, "Authorization"))) {
		reject(ctx, REJ_AUTH);
		reply_error(ctx, req, 401, "missing or invalid bearer token",
			    -1, bearer);
		return false;
	}
	return true;
}

static int on_stats(void *arg, struct sl_httpd_req *req)
{
	if (admit(arg, req))
		serve_stats(arg, req);
	return 1;
}

static int on_headers(void *arg, struct sl_httpd_req *req)
{
	static const char *const retry[] = {"Retry-After: 1", NULL};
	struct witness_ctx *ctx = arg;

	if (!admit(ctx, req))
		return 1;
	/* over Mem_Buf_Limit: refuse before reading a byte of the body */
	if (sl_input_paused(ctx->in)) {
		reject(ctx, REJ_BUSY);
		reply_error(ctx, req, 503, "buffer full, retry later", -1,
			    retry);
		return 1;
	}
	return 0;
}

static void on_refused(void *arg, int status)
{
	struct witness_ctx *ctx = arg;

	reject(ctx, status == 413 ? REJ_TOO_LARGE : REJ_MALFORMED);
}

/* The event's ISO 8601 "timestamp", else now. */
static int64_t event_time(struct witness_ctx *ctx, int64_t now)
{
	const struct sl_view *v;
	const struct sl_view_node *node;
	uint32_t i;
	int64_t ts;

	if (sl_record_view(&ctx->rec, &v) < 0)
		return now;
	i = sl_view_find_key(v, ctx->rec.body, 0, "timestamp", 9);
	if (i == UINT32_MAX || v->nodes[i].type != SL_VAL_STRING)
		return now;
	node = &v->nodes[i];
	for (size_t k = 0; k < ctx->n_tf; k++)
		if (sl_time_parse(&ctx->tf[k],
				  ctx->rec.body + node->val_off + 1,
				  node->val_len - 2, now, &ts) == 0)
			return ts;
	return now;
}

/* Copies event `text` into ctx->event with "_witness" appended. */
static int tag_event(struct witness_ctx *ctx, const char *text, size_t len,
		     const char *reason)
{
	static const char head[] =
	    "\"_witness\":{\"verified\":false,\"reason\":";
	size_t i = 1;

	/* the splitter guarantees an object: '{' ... '}' */
	while (i < len && (text[i] == ' ' || text[i] == '\t' ||
			   text[i] == '\r' || text[i] == '\n'))
		i++;
	sl_buf_reset(&ctx->event);
	if (sl_buf_append(&ctx->event, text, len - 1) < 0 ||
	    (text[i] != '}' && sl_buf_append(&ctx->event, ",", 1) < 0) ||
	    sl_buf_append(&ctx->event, head, sizeof(head) - 1) < 0 ||
	    sl_json_append_string(&ctx->event, reason, strlen(reason)) < 0 ||
	    sl_buf_append(&ctx->event, "}}", 2) < 0)
		return -SL_ENOMEM;
	return 0;
}

/* Emits every split item. 0, or a negative code after a partial emit. */
static int emit_all(struct witness_ctx *ctx, const char *data,
		    const char *unsigned_reason)
{
	size_t tag_len;
	const char *tag = sl_input_tag(ctx->in, &tag_len);
	int64_t now = sl_now_ns();
	int rc;

	for (size_t k = 0; k < ctx->body.n; k++) {
		const char *text = data + ctx->body.items[k].off;
		size_t len = ctx->body.items[k].len;

		if (unsigned_reason) {
			if ((rc = tag_event(ctx, text, len, unsigned_reason)) <
			    0)
				return rc;
			text = ctx->event.data;
			len = ctx->event.len;
		}
		rc = sl_record_reset_json(&ctx->rec, now, text, len);
		if (rc < 0)
			return rc; /* validated: only ENOMEM */
		ctx->rec.ts_ns = event_time(ctx, now);
		if ((rc = sl_input_emit(ctx->in, tag, tag_len, &ctx->rec)) < 0)
			return rc;
	}
	return 0;
}

static void on_request(void *arg, struct sl_httpd_req *req)
{
	static const char *const retry[] = {"Retry-After: 1", NULL};
	struct witness_ctx *ctx = arg;
	const char *why = NULL;
	char text[48];
	int rc, n;

	sl_input_add_bytes(ctx->in, req->content_length);
	if (ctx->secret_ptr) {
		enum sl_witness_sig s = sl_witness_signature_check(
		    ctx->secret_ptr, ctx->secret_len,
		    sl_httpd_header(req, "X-Witness-Signature"), req->body,
		    req->content_length);

		if (s != SL_WITNESS_SIG_OK && !ctx->tag_unsigned) {
			reject(ctx, REJ_SIGNATURE);
			reply_error(ctx, req, 403, sl_witness_sig_reason(s), -1,
				    NULL);
			return;
		}
		if (s != SL_WITNESS_SIG_OK)
			why = sl_witness_sig_reason(s);
	}
	rc = sl_http_body_split(
	    &ctx->body, req->body, req->content_length,
	    sl_http_body_format_of(sl_httpd_header(req, "Content-Type")));
	if (rc == -SL_ENOMEM) {
		reject(ctx, REJ_BUSY);
		reply_error(ctx, req, 503, "out of memory", -1, retry);
		return;
	}
	if (rc < 0) {
		reject(ctx, REJ_MALFORMED);
		reply_error(ctx, req, 400, ctx->body.error,
			    (long long)ctx->body.index, NULL);
		return;
	}
	rc = emit_all(ctx, req->body, why);
	if (rc == 0)
		rc = sl_input_persist(ctx->in);
	if (rc < 0) {
		/* not all in the pipeline or not on disk: refused. Records
		 * not on disk were taken back; some handed on already (a
		 * failed seal) may be sent twice by the retry, never lost.
		 * Storage failures are logged by the engine once per period,
		 * so a full disk does not log a line per request. */
		sl_log(rc == -SL_EIO ? SL_LOG_DEBUG : SL_LOG_ERROR,
		       sl_plugin_instance_name(sl_input_instance(ctx->in)),
		       "cannot buffer %zu events: %s", ctx->body.n,
		       sl_strerror(rc));
		reject(ctx, REJ_BUSY);
		reply_error(ctx, req, 503, "cannot buffer the events", -1,
			    retry);
		return;
	}
	ctx->total += ctx->body.n;
	if (ctx->m_events)
		sl_metric_add(ctx->m_events, (double)ctx->body.n);
	n = snprintf(text, sizeof(text), "{\"accepted\":%zu}\n", ctx->body.n);
	sl_httpd_reply(req, 202, JSON_TYPE, text, (size_t)n, NULL);
}

static const struct sl_httpd_route witness_routes[] = {
    {.method = "POST",
     .path = "/api/events",
     .on_headers = on_headers,
     .on_request = on_request},
    {.method = "GET", .path = "/api/stats", .on_headers = on_stats},
};

/* ---- lifecycle ---------------------------------------------------------- */

static int load_keys(struct witness_ctx *ctx, struct sl_plugin_instance *ins)
{
	int rc;

	for (size_t i = 0; i < ctx->auth_keys.n; i++) {
		const struct sl_cfg_item *it = &ctx->auth_keys.items[i];

		rc = sl_witness_tokens_add(&ctx->tokens, it->value,
					   strlen(it->value));
		if (rc == -SL_ENOMEM)
			return rc;
		if (rc < 0) {
			sl_plugin_error(ins, it->line, "Auth_Key is empty");
			return -SL_ECONFIG;
		}
	}
	if (ctx->auth_key_file) {
		rc = sl_witness_tokens_load(&ctx->tokens, ctx->auth_key_file);
		if (rc == -SL_ENOMEM)
			return rc;
		if (rc < 0) {
			sl_plugin_error(ins, 0,
					"cannot read Auth_Key_File %s: %s",
					ctx->auth_key_file, strerror(errno));
			return -SL_ECONFIG;
		}
	}
	if (ctx->auth && ctx->tokens.n == 0) {
		sl_plugin_error(ins, 0,
				"no bearer token: set Auth_Key or "
				"Auth_Key_File (or Auth Off)");
		return -SL_ECONFIG;
	}
	return 0;
}

static int load_secret(struct witness_ctx *ctx, struct sl_plugin_instance *ins)
{
	int rc;

	if (ctx->hmac_secret && ctx->hmac_secret_file) {
		sl_plugin_error(
		    ins, 0, "HMAC_Secret and HMAC_Secret_File are exclusive");
		return -SL_ECONFIG;
	}
	if (ctx->hmac_secret_file) {
		rc = sl_witness_read_secret(ctx->hmac_secret_file, &ctx->secret,
					    &ctx->secret_len);
		if (rc == -SL_ENOMEM)
			return rc;
		if (rc < 0) {
			sl_plugin_error(ins, 0,
					"cannot read HMAC_Secret_File %s: %s",
					ctx->hmac_secret_file,
					rc == -SL_ETOOBIG ? "over 64 KiB"
							  : strerror(errno));
			return -SL_ECONFIG;
		}
		ctx->secret_ptr = ctx->secret;
	} else if (ctx->hmac_secret) {
		ctx->secret_ptr = ctx->hmac_secret;
		ctx->secret_len = strlen(ctx->hmac_secret);
	}
	if (ctx->secret_ptr && ctx->secret_len == 0) {
		sl_plugin_error(ins, 0, "the HMAC secret is empty");
		return -SL_ECONFIG;
	}
	return 0;
}

static int witness_init(void *data, struct sl_input *in)
{
	struct witness_ctx *ctx = data;
	struct sl_plugin_instance *ins = sl_input_instance(in);
	const char *err;
	int rc;

	ctx->in = in;
	sl_witness_tokens_init(&ctx->tokens);
	sl_http_body_init(&ctx->body);
	sl_record_init(&ctx->rec);
	ctx->ready = true;
	for (size_t i = 0; i < N_TIME_FORMATS; i++) {
		if (sl_time_fmt_init(&ctx->tf[i], time_formats[i], &err) < 0)
			return -SL_ENOMEM;
		ctx->n_tf++;
	}
	if (strcasecmp(ctx->unsigned_action, "reject") == 0) {
		ctx->tag_unsigned = false;
	} else if (strcasecmp(ctx->unsigned_action, "tag") == 0) {
		ctx->tag_unsigned = true;
	} else {
		sl_plugin_error(
		    ins, 0, "Unsigned_Action must be reject or tag, not '%s'",
		    ctx->unsigned_action);
		return -SL_ECONFIG;
	}
	if ((rc = load_keys(ctx, ins)) < 0 || (rc = load_secret(ctx, ins)) < 0)
		return rc;
	if (ctx->tls && (!ctx->tls_crt_file || !ctx->tls_key_file)) {
		sl_plugin_error(ins, 0,
				"tls On needs tls.crt_file and "
				"tls.key_file");
		return -SL_ECONFIG;
	}
	register_metrics(ctx, ins);
	return 0;
}

static int witness_start(void *data, struct sl_input *in)
{
	struct witness_ctx *ctx = data;
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
	    .routes = witness_routes,
	    .n_routes = SL_ARRAY_LEN(witness_routes),
	    .refuse = refuse_route,
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

static void witness_stop(void *data)
{
	struct witness_ctx *ctx = data;

	sl_httpd_stop(ctx->srv);
	ctx->srv = NULL;
}

static void witness_destroy(void *data)
{
	struct witness_ctx *ctx = data;

	witness_stop(ctx);
	if (!ctx->ready)
		return;
	sl_httpd_tls_free(ctx->ssl);
	ctx->ssl = NULL;
	sl_witness_tokens_destroy(&ctx->tokens);
	if (ctx->secret) {
		OPENSSL_cleanse(ctx->secret, ctx->secret_len);
		free(ctx->secret);
		ctx->secret = NULL;
	}
	sl_http_body_destroy(&ctx->body);
	sl_record_destroy(&ctx->rec);
	sl_buf_destroy(&ctx->event);
	sl_buf_destroy(&ctx->reply);
	for (size_t i = 0; i < ctx->n_tf; i++)
		sl_time_fmt_destroy(&ctx->tf[i]);
	ctx->n_tf = 0;
	ctx->ready = false;
}

const struct sl_input_plugin sl_input_witness = {
    .name = "witness",
    .description = "witness events over HTTP(S), verified and counted",
    .config_map = witness_config,
    .ctx_size = sizeof(struct witness_ctx),
    .init = witness_init,
    .start = witness_start,
    .stop = witness_stop,
    .destroy = witness_destroy,
};
