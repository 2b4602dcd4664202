/* SPDX-License-Identifier: Apache-2.0 */
/*
 * loki.c - the loki output (Fluent Bit's out_loki options): one JSON push
 * request per chunk from each worker's HTTP client, and what each answer
 * means for the chunk's records (sl_output_http_class). 2xx: delivered.
 * 408/429/5xx/no answer: retry (Retry-After honoured). 401/403: retry too,
 * as es does (credentials may be rotating). 413: the request is split in
 * two halves, each sent on its own; a single entry still too large is
 * dropped (`oversize`). 400: Loki kept the valid entries and says how many
 * it ignored; those are counted as rejected and nothing is re-sent. Other
 * 4xx: the request's entries are dropped, counted and logged.
 *
 * With Tenant_ID_Key, a chunk's records go in one request per tenant (the
 * record's string, else Tenant_ID, else no X-Scope-OrgID), each settling
 * its own records.
 *
 * The payload itself is built by loki_encode.c: JSON, or with Format
 * protobuf Loki's snappy-compressed protobuf (written by loki_proto.c from
 * the same grouping); the answers mean the same.
 */
#include "loki.h"
#include "loki_proto.h"
#include "sl_http_client.h"
#include "sl_output.h"
#include "sl_output_error.h"
#include "sl_sanitize.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Bytes of a Loki error body quoted in the log. */
#define LOG_BODY_MAX 1024

struct loki_ctx {
	/* config map */
	char *host;
	int64_t port;
	char *uri;
	char *tenant_id;
	char *tenant_id_key;
	char *tenant_id_key_error_handling;
	struct sl_strlist labels;
	struct sl_strlist label_keys;
	struct sl_strlist remove_keys;
	char *line_format;
	char *drop_single_key;
	bool auto_kubernetes_labels;
	char *label_map_path;
	struct sl_strlist structured_metadata;
	struct sl_strlist structured_metadata_map_keys;
	/* MULTI only to know its line (reported when given twice) */
	struct sl_cfg_multi format;
	/* http_user, http_passwd, compress, header (the shared fragment) */
	struct sl_http_client_cfg hc;
	char *bearer_token;
	/* from init */
	struct loki_enc enc;
	char *tenant_line; /* "X-Scope-OrgID: ...", owned; NULL: none */
	struct sl_accessor *tenant_acc; /* Tenant_ID_Key, owned, or NULL */
	/* tenant_line, then hc.lines (borrowed), NULL-terminated */
	char **hdr_lines;
	struct sl_http_client_opts http;
	char *name;    /* instance name, owned */
	bool protobuf; /* Format protobuf */
};

/* Per worker thread. */
struct loki_worker {
	struct sl_http_client *client;
	struct loki_batch batch;
	struct sl_buf payload; /* the body sent */
	struct sl_http_response resp;
	/* Tenant_ID_Key: each record's tenant (index + 1 into tenant_off,
	 * 0: none, Tenant_ID applies), the tenants' names (NUL-terminated in
	 * `tenants`) and the one being sent */
	uint32_t *tenant_of;
	size_t cap_tenant_of;
	size_t *tenant_off;
	size_t n_tenants, cap_tenants;
	struct sl_buf tenants;
	uint32_t cur;
	struct sl_record trec;
	struct sl_text ttext;
	struct sl_buf tenant_line;
	const char **hdrs; /* this request's lines, NULL-terminated */
};

#define OFF(f) offsetof(struct loki_ctx, f)
static const struct sl_cfg_option loki_config[] = {
    {.name = "host",
     .type = SL_CFG_STR,
     .def = "127.0.0.1",
     .offset = OFF(host),
     .desc = "Loki host name or address"},
    {.name = "port",
     .type = SL_CFG_INT,
     .def = "3100",
     .min = 1,
     .max = 65535,
     .offset = OFF(port),
     .desc = "Loki TCP port"},
    {.name = "uri",
     .type = SL_CFG_STR,
     .def = "/loki/api/v1/push",
     .offset = OFF(uri),
     .desc = "push path, starting with '/'"},
    {.name = "tenant_id",
     .type = SL_CFG_STR,
     .offset = OFF(tenant_id),
     .desc = "sent as X-Scope-OrgID when set"},
    {.name = "labels",
     .type = SL_CFG_SLIST,
     .offset = OFF(labels),
     .desc = "stream labels: name=value, name=$accessor, $accessor (a "
	     "record with none gets job=fluent-bit)"},
    {.name = "label_keys",
     .type = SL_CFG_SLIST,
     .offset = OFF(label_keys),
     .desc = "record keys (accessors) as labels, named by their last key"},
    {.name = "remove_keys",
     .type = SL_CFG_SLIST,
     .offset = OFF(remove_keys),
     .desc = "record keys (accessors) left out of the line"},
    {.name = "line_format",
     .type = SL_CFG_STR,
     .def = "json",
     .offset = OFF(line_format),
     .desc = "json or key_value"},
    {.name = "drop_single_key",
     .type = SL_CFG_STR,
     .def = "off",
     .offset = OFF(drop_single_key),
     .desc = "on/off/raw: one key left, the line is its value"},
    {.name = "auto_kubernetes_labels",
     .type = SL_CFG_BOOL,
     .def = "off",
     .offset = OFF(auto_kubernetes_labels),
     .desc = "kubernetes.labels.* become stream labels"},
    SL_HTTP_CFG_USER(struct loki_ctx, hc),
    SL_HTTP_CFG_PASSWD(struct loki_ctx, hc),
    {.name = "bearer_token",
     .type = SL_CFG_STR,
     .offset = OFF(bearer_token),
     .desc = "Authorization: Bearer token"},
    SL_HTTP_CFG_COMPRESS(struct loki_ctx, hc),
    SL_HTTP_CFG_HEADER(struct loki_ctx, hc),
    {.name = "label_map_path",
     .type = SL_CFG_STR,
     .offset = OFF(label_map_path),
     .desc = "JSON file mapping record keys to label names"},
    {.name = "tenant_id_key",
     .type = SL_CFG_STR,
     .offset = OFF(tenant_id_key),
     .desc = "record field (accessor) whose string is the record's "
	     "X-Scope-OrgID (else Tenant_ID); one request per tenant"},
    {.name = "tenant_id_key_error_handling",
     .type = SL_CFG_STR,
     .def = "partial_success",
     .offset = OFF(tenant_id_key_error_handling),
     .desc = "partial_success or partial_error: either way only the "
	     "failed tenants' records are retried"},
    {.name = "structured_metadata",
     .type = SL_CFG_SLIST,
     .offset = OFF(structured_metadata),
     .desc = "entry metadata: name=value, name=$accessor, $accessor"},
    {.name = "structured_metadata_map_keys",
     .type = SL_CFG_SLIST,
     .offset = OFF(structured_metadata_map_keys),
     .desc = "$accessors of maps whose members become entry metadata"},
    {.name = "format",
     .type = SL_CFG_STR,
     .flags = SL_CFG_MULTI,
     .def = "json",
     .offset = OFF(format),
     .desc = "json or protobuf (Loki's snappy-compressed protobuf push; a "
	     "sluice option)"},
    SL_CFG_END,
};

/* Bytes of a label map file at most: it names labels, it is small. */
#define LABEL_MAP_MAX (1024 * 1024)

/* Label_map_path: reads the file and adds its labels. 0, -SL_ECONFIG
 * (reported) or -SL_ENOMEM. */
static int load_label_map(struct loki_ctx *ctx, struct sl_plugin_instance *ins,
			  int line)
{
	FILE *f = fopen(ctx->label_map_path, "rb");
	const char *err = NULL;
	char *text, *where = NULL;
	size_t len;
	int rc;

	if (!f) {
		sl_plugin_error(ins, line, "loki: label_map_path '%s': %s",
				ctx->label_map_path, strerror(errno));
		return -SL_ECONFIG;
	}
	text = malloc(LABEL_MAP_MAX + 1);
	if (!text) {
		fclose(f);
		return -SL_ENOMEM;
	}
	len = fread(text, 1, LABEL_MAP_MAX + 1, f);
	rc = ferror(f) ? -SL_EIO : 0;
	fclose(f);
	if (rc == 0 && len > LABEL_MAP_MAX) {
		sl_plugin_error(ins, line,
				"loki: label_map_path '%s': larger than %d "
				"bytes",
				ctx->label_map_path, LABEL_MAP_MAX);
		free(text);
		return -SL_ECONFIG;
	}
	if (rc == 0)
		rc = loki_enc_add_label_map(&ctx->enc, text, len, &err, &where);
	free(text);
	if (rc == -SL_ENOMEM) {
		free(where);
		return rc;
	}
	if (rc < 0) {
		sl_plugin_error(ins, line, "loki: label_map_path '%s'%s%s: %s",
				ctx->label_map_path, where ? " at " : "",
				where ? where : "",
				rc == -SL_EIO ? "cannot be read" : err);
		free(where);
		return -SL_ECONFIG;
	}
	return 0;
}

/*
 * Format: json or protobuf, once. Protobuf bodies are snappy-compressed
 * already, so Compress gzip with it is an error (at Format's line).
 */
static int check_format(struct loki_ctx *ctx, struct sl_plugin_instance *ins,
			int line)
{
	const struct sl_cfg_item *f = &ctx->format.items[0];
	int at = f->line ? f->line : line;

	if (ctx->format.n > 1) {
		sl_plugin_error(ins, ctx->format.items[1].line,
				"option 'format' is given more than once "
				"(first on line %d)",
				at);
		return -SL_ECONFIG;
	}
	if (!strcasecmp(f->value, "protobuf")) {
		char why[256];

		if (loki_proto_open(why, sizeof(why)) < 0) {
			sl_plugin_error(ins, at,
					"loki: format protobuf needs libsnappy "
					"(Debian libsnappy1v5): %s",
					why);
			return -SL_ECONFIG;
		}
		ctx->protobuf = true;
		ctx->enc.wire = LOKI_WIRE_PROTOBUF;
	} else if (strcasecmp(f->value, "json")) {
		sl_plugin_error(ins, at,
				"loki: format '%s' is not json or "
				"protobuf",
				f->value);
		return -SL_ECONFIG;
	}
	if (ctx->protobuf && ctx->hc.gzip) {
		sl_plugin_error(
		    ins, at,
		    "loki: format protobuf is snappy-compressed "
		    "already: compress gzip cannot be used with it");
		return -SL_ECONFIG;
	}
	return 0;
}

/* The request's extra header lines: the tenant's first, then Header's. */
static int build_headers(struct loki_ctx *ctx)
{
	size_t i, k = 0;

	ctx->hdr_lines = calloc(ctx->hc.n_lines + 2, sizeof(char *));
	if (!ctx->hdr_lines)
		return -SL_ENOMEM;
	if (ctx->tenant_id && *ctx->tenant_id) {
		if (asprintf(&ctx->tenant_line, "X-Scope-OrgID: %s",
			     ctx->tenant_id) < 0) {
			ctx->tenant_line = NULL;
			return -SL_ENOMEM;
		}
		ctx->hdr_lines[k++] = ctx->tenant_line;
	}
	for (i = 0; i < ctx->hc.n_lines; i++)
		ctx->hdr_lines[k++] = ctx->hc.lines[i];
	return 0;
}

static int loki_init(void *vctx, struct sl_output *out)
{
	struct loki_ctx *ctx = vctx;
	struct sl_plugin_instance *ins = sl_output_instance(out);
	int line = sl_plugin_instance_line(ins);
	const char *err = NULL;
	const struct sl_http_cfg_report rep = {sl_plugin_error, ins, line,
					       "loki"};
	size_t i;
	int rc = 0, hrc;

	ctx->name = strdup(sl_plugin_instance_name(ins));
	if (!ctx->name)
		return -SL_ENOMEM;
	for (i = 0; i < ctx->labels.n; i++) {
		if (!*ctx->labels.v[i])
			continue;
		if (loki_enc_add_label(&ctx->enc, ctx->labels.v[i], &err) < 0) {
			sl_plugin_error(ins, line, "loki: label '%s': %s",
					ctx->labels.v[i], err);
			rc = -SL_ECONFIG;
		}
	}
	for (i = 0; i < ctx->label_keys.n; i++) {
		if (loki_enc_add_label_key(&ctx->enc, ctx->label_keys.v[i],
					   &err) < 0) {
			sl_plugin_error(ins, line, "loki: label_keys '%s': %s",
					ctx->label_keys.v[i], err);
			rc = -SL_ECONFIG;
		}
	}
	for (i = 0; i < ctx->remove_keys.n; i++) {
		if (loki_enc_add_remove_key(&ctx->enc, ctx->remove_keys.v[i],
					    &err) < 0) {
			sl_plugin_error(ins, line, "loki: remove_keys '%s': %s",
					ctx->remove_keys.v[i], err);
			rc = -SL_ECONFIG;
		}
	}
	for (i = 0; i < ctx->structured_metadata.n; i++) {
		if (!*ctx->structured_metadata.v[i])
			continue;
		if (loki_enc_add_metadata(
			&ctx->enc, ctx->structured_metadata.v[i], &err) < 0) {
			sl_plugin_error(ins, line,
					"loki: structured_metadata '%s': %s",
					ctx->structured_metadata.v[i], err);
			rc = -SL_ECONFIG;
		}
	}
	for (i = 0; i < ctx->structured_metadata_map_keys.n; i++) {
		if (!*ctx->structured_metadata_map_keys.v[i])
			continue;
		if (loki_enc_add_metadata_map(
			&ctx->enc, ctx->structured_metadata_map_keys.v[i],
			&err) < 0) {
			sl_plugin_error(
			    ins, line,
			    "loki: structured_metadata_map_keys '%s': %s",
			    ctx->structured_metadata_map_keys.v[i], err);
			rc = -SL_ECONFIG;
		}
	}
	if (ctx->tenant_id_key && *ctx->tenant_id_key) {
		ctx->tenant_acc = sl_accessor_create(ctx->tenant_id_key, &err);
		if (!ctx->tenant_acc) {
			sl_plugin_error(ins, line,
					"loki: tenant_id_key '%s': %s",
					ctx->tenant_id_key, err);
			rc = -SL_ECONFIG;
		}
	}
	if (strcasecmp(ctx->tenant_id_key_error_handling, "partial_success") &&
	    strcasecmp(ctx->tenant_id_key_error_handling, "partial_error")) {
		sl_plugin_error(
		    ins, line,
		    "loki: tenant_id_key_error_handling '%s' is not "
		    "partial_success or partial_error",
		    ctx->tenant_id_key_error_handling);
		rc = -SL_ECONFIG;
	}
	if (ctx->label_map_path && *ctx->label_map_path) {
		int lrc = load_label_map(ctx, ins, line);

		if (lrc == -SL_ENOMEM)
			return lrc;
		if (lrc < 0)
			rc = lrc;
	}
	if (ctx->auto_kubernetes_labels && loki_enc_set_auto_k8s(&ctx->enc) < 0)
		return -SL_ENOMEM;
	if (loki_line_format_parse(ctx->line_format, &ctx->enc.line_format) <
	    0) {
		sl_plugin_error(
		    ins, line,
		    "loki: line_format '%s' is not json or key_value",
		    ctx->line_format);
		rc = -SL_ECONFIG;
	}
	if (loki_drop_single_parse(ctx->drop_single_key,
				   &ctx->enc.drop_single_key) < 0) {
		sl_plugin_error(
		    ins, line,
		    "loki: drop_single_key '%s' is not on, off or raw",
		    ctx->drop_single_key);
		rc = -SL_ECONFIG;
	}
	hrc = sl_http_client_cfg_check(&ctx->hc, &rep);
	if (hrc == -SL_ENOMEM)
		return hrc;
	if (hrc < 0)
		rc = hrc;
	if (ctx->format.n && check_format(ctx, ins, line) < 0)
		rc = -SL_ECONFIG;
	if (!ctx->uri || ctx->uri[0] != '/') {
		sl_plugin_error(ins, line, "loki: uri must start with '/'");
		rc = -SL_ECONFIG;
	}
	if (rc < 0)
		return rc;
	if (build_headers(ctx) < 0)
		return -SL_ENOMEM;
	ctx->http = (struct sl_http_client_opts){
	    .host = ctx->host,
	    .port = (int)ctx->port,
	    .bearer_token = ctx->bearer_token,
	    /* enough of a 400 body to find "total ignored" at its end */
	    .max_response = 1024 * 1024,
	};
	sl_http_client_cfg_opts(&ctx->hc, &ctx->http);
	sl_output_tls_opts(out, &ctx->http);
	return 0;
}

static int loki_worker_init(void *vctx, void **worker)
{
	struct loki_ctx *ctx = vctx;
	struct loki_worker *w = calloc(1, sizeof(*w));

	if (!w)
		return -SL_ENOMEM;
	loki_batch_init(&w->batch);
	sl_record_init(&w->trec);
	w->hdrs = calloc(ctx->hc.n_lines + 2, sizeof(*w->hdrs));
	w->client = w->hdrs ? sl_http_client_create(&ctx->http) : NULL;
	if (!w->client) {
		loki_batch_destroy(&w->batch);
		free(w->hdrs);
		free(w);
		return -SL_ENOMEM;
	}
	*worker = w;
	return 0;
}

static void loki_worker_exit(void *vctx, void *worker)
{
	struct loki_worker *w = worker;

	(void)vctx;
	if (!w)
		return;
	sl_http_client_destroy(w->client);
	loki_batch_destroy(&w->batch);
	sl_buf_destroy(&w->payload);
	sl_http_response_destroy(&w->resp);
	free(w->tenant_of);
	free(w->tenant_off);
	sl_buf_destroy(&w->tenants);
	sl_record_destroy(&w->trec);
	free(w->ttext.buf);
	sl_buf_destroy(&w->tenant_line);
	free(w->hdrs);
	free(w);
}

/* The records of one request: chunk indexes [lo, hi) not yet settled. */
struct range {
	struct sl_flush *fl;
	uint32_t lo, hi;
	const struct loki_worker *w; /* its tenant_of and cur, or NULL */
};

static bool skip_settled(void *ud, uint32_t index)
{
	const struct range *r = ud;

	return index < r->lo || index >= r->hi ||
	       sl_flush_marked(r->fl, index) ||
	       (r->w && r->w->tenant_of[index] != r->w->cur);
}

/* Settles every record of the request (delivered or counted). */
static void mark_all(struct sl_flush *fl, const struct loki_batch *b)
{
	size_t i;

	for (i = 0; i < b->n_entries; i++)
		(void)sl_flush_mark(fl, b->entries[i].index);
}

/* The start of a response body, printable, for a log line. */
static int body_excerpt(const struct sl_http_response *r)
{
	return (int)(r->body.len < LOG_BODY_MAX ? r->body.len : LOG_BODY_MAX);
}

static enum sl_flush_result send_range(struct loki_ctx *ctx,
				       struct loki_worker *w,
				       struct sl_flush *fl, uint32_t lo,
				       uint32_t hi);

/*
 * 413: sends the two halves of the request's index range one after the
 * other (each may split again). The batch is reused by the sends, so the
 * range is read first. With two entries or more the lowest and highest
 * indexes differ, so each half is smaller: the recursion ends.
 */
static enum sl_flush_result split(struct loki_ctx *ctx, struct loki_worker *w,
				  struct sl_flush *fl)
{
	uint32_t lo = UINT32_MAX, hi = 0, mid;
	enum sl_flush_result r;
	size_t i;

	for (i = 0; i < w->batch.n_entries; i++) {
		uint32_t x = w->batch.entries[i].index;

		lo = x < lo ? x : lo;
		hi = x + 1 > hi ? x + 1 : hi;
	}
	mid = lo + (hi - lo) / 2;
	sl_log(SL_LOG_WARN, ctx->name,
	       "%s:%lld, HTTP status=413 for %zu entries (%zu bytes): sending "
	       "them in two halves",
	       ctx->host, (long long)ctx->port, w->batch.n_entries,
	       w->payload.len);
	r = send_range(ctx, w, fl, lo, mid);
	if (r != SL_FLUSH_OK)
		return r;
	return send_range(ctx, w, fl, mid, hi);
}

static enum sl_flush_result handle_response(struct loki_ctx *ctx,
					    struct loki_worker *w,
					    struct sl_flush *fl)
{
	const struct sl_http_response *r = &w->resp;
	uint64_t n = w->batch.n_entries, ignored;
	const char *body = r->body.data ? r->body.data : "";
	enum sl_http_class cls = sl_output_http_class(r->status);
	int found;

	switch (cls) {
	case SL_HTTP_DELIVERED:
		mark_all(fl, &w->batch);
		sl_log(SL_LOG_DEBUG, ctx->name,
		       "%s:%lld, HTTP status=%ld, %llu "
		       "entries",
		       ctx->host, (long long)ctx->port, r->status,
		       (unsigned long long)n);
		return SL_FLUSH_OK;
	case SL_HTTP_RETRY:
	case SL_HTTP_AUTH:
		if (r->retry_after >= 0)
			sl_flush_retry_after(fl, r->retry_after);
		sl_log(
		    SL_LOG_WARN, ctx->name,
		    "%s:%lld, HTTP status=%ld, %llu entries will be retried%s: "
		    "%.*s",
		    ctx->host, (long long)ctx->port, r->status,
		    (unsigned long long)n,
		    cls == SL_HTTP_AUTH	  ? " (credentials refused)"
		    : r->retry_after >= 0 ? " (Retry-After)"
					  : "",
		    body_excerpt(r), body);
		return SL_FLUSH_RETRY;
	case SL_HTTP_TOO_LARGE:
		if (n > 1)
			return split(ctx, w, fl);
		sl_log(SL_LOG_ERROR, ctx->name,
		       "%s:%lld, HTTP status=413 for a single entry of %zu "
		       "bytes: dropped (oversize)",
		       ctx->host, (long long)ctx->port, w->payload.len);
		sl_flush_drop(fl, SL_DROP_OVERSIZE, n);
		mark_all(fl, &w->batch);
		return SL_FLUSH_OK;
	case SL_HTTP_REJECTED:
	default:
		break;
	}
	if (r->status == 400) {
		/* Loki stored the valid entries: re-sending would duplicate
		 * them, and the invalid ones would fail again. */
		found = loki_error_ignored(body, r->body.len, &ignored);
		if (!found || ignored > n)
			ignored = n;
		sl_log(SL_LOG_WARN, ctx->name,
		       "%s:%lld, HTTP status=400, Loki rejected %llu of %llu "
		       "entries%s: %.*s",
		       ctx->host, (long long)ctx->port,
		       (unsigned long long)ignored, (unsigned long long)n,
		       found ? "" : " (no count in the answer: all counted)",
		       body_excerpt(r), body);
	} else {
		ignored = n;
		sl_log(SL_LOG_ERROR, ctx->name,
		       "%s:%lld, HTTP status=%ld, %llu entries dropped: %.*s",
		       ctx->host, (long long)ctx->port, r->status,
		       (unsigned long long)n, body_excerpt(r), body);
	}
	sl_flush_drop(fl, SL_DROP_REJECTED, ignored);
	mark_all(fl, &w->batch);
	return SL_FLUSH_OK;
}

/* One push of the unsettled records in [lo, hi) of the chunk. */
static enum sl_flush_result send_range(struct loki_ctx *ctx,
				       struct loki_worker *w,
				       struct sl_flush *fl, uint32_t lo,
				       uint32_t hi)
{
	const struct sl_chunk *c = sl_flush_chunk(fl);
	struct range rg = {
	    .fl = fl, .lo = lo, .hi = hi, .w = ctx->tenant_acc ? w : NULL};
	struct sl_http_request req = {
	    .method = "POST",
	    .uri = ctx->uri,
	    .content_type =
		ctx->protobuf ? "application/x-protobuf" : "application/json",
	    .headers =
		ctx->tenant_acc ? w->hdrs : (const char *const *)ctx->hdr_lines,
	    .gzip = ctx->hc.gzip,
	};
	int rc;

	sl_buf_reset(&w->payload);
	rc = loki_encode(&ctx->enc, &w->batch, c, skip_settled, &rg,
			 &w->payload);
	if (rc == -SL_ETOOBIG) {
		/* the same body every retry: its entries can never go */
		sl_log(SL_LOG_ERROR, ctx->name,
		       "%zu entries dropped: their protobuf push body is over "
		       "snappy's 4 GiB",
		       w->batch.n_entries);
		sl_flush_drop(fl, SL_DROP_REJECTED, w->batch.n_entries);
		mark_all(fl, &w->batch);
		return SL_FLUSH_OK;
	}
	if (rc < 0) {
		sl_log(SL_LOG_ERROR, ctx->name,
		       "out of memory encoding chunk %llu",
		       (unsigned long long)c->id);
		return SL_FLUSH_RETRY;
	}
	if (w->batch.n_entries == 0)
		return SL_FLUSH_OK;
	req.body = w->payload.data;
	req.body_len = w->payload.len;
	if (sl_http_client_send(w->client, &req, &w->resp) < 0) {
		sl_log(SL_LOG_WARN, ctx->name,
		       "no answer for %zu entries, will retry: %s",
		       w->batch.n_entries, w->resp.error);
		return SL_FLUSH_RETRY;
	}
	return handle_response(ctx, w, fl);
}

/* The tenant of each record of `c` (Tenant_ID_Key), interned. */
static int assign_tenants(struct loki_ctx *ctx, struct loki_worker *w,
			  const struct sl_chunk *c)
{
	struct sl_chunk_iter it;
	const char *body, *t;
	size_t len, tl, k;
	struct sl_value v;
	int64_t ts;

	if (c->records > w->cap_tenant_of) {
		uint32_t *n = realloc(w->tenant_of, c->records * sizeof(*n));

		if (!n)
			return -SL_ENOMEM;
		w->tenant_of = n;
		w->cap_tenant_of = c->records;
	}
	memset(w->tenant_of, 0, c->records * sizeof(*w->tenant_of));
	w->n_tenants = 0;
	sl_buf_reset(&w->tenants);
	sl_chunk_iter_init(&it, c);
	while (sl_chunk_next(&it, &ts, &body, &len)) {
		uint32_t index = it.index - 1;

		/* as Fluent Bit: only a string names a tenant */
		if (index >= c->records ||
		    sl_record_reset_json(&w->trec, ts, body, len) < 0 ||
		    sl_record_get(&w->trec, ctx->tenant_acc, &v) < 0 ||
		    v.type != SL_VAL_STRING ||
		    sl_record_get_text(&w->trec, ctx->tenant_acc, &w->ttext, &t,
				       &tl) < 0 ||
		    tl == 0)
			continue;
		for (k = 0; k < w->n_tenants; k++) {
			const char *have = w->tenants.data + w->tenant_off[k];

			if (strlen(have) == tl && !memcmp(have, t, tl))
				break;
		}
		if (k == w->n_tenants) {
			if (w->n_tenants == w->cap_tenants) {
				size_t cap =
				    w->cap_tenants ? w->cap_tenants * 2 : 8;
				size_t *n =
				    realloc(w->tenant_off, cap * sizeof(*n));

				if (!n)
					return -SL_ENOMEM;
				w->tenant_off = n;
				w->cap_tenants = cap;
			}
			w->tenant_off[k] = w->tenants.len;
			if (sl_buf_append(&w->tenants, t, tl) < 0 ||
			    sl_buf_append(&w->tenants, "", 1) < 0)
				return -SL_ENOMEM;
			w->n_tenants++;
		}
		w->tenant_of[index] = (uint32_t)k + 1;
	}
	return 0;
}

/* The header lines of a request for tenant w->cur: its X-Scope-OrgID
 * (header-safe) or Tenant_ID's, then Header's. */
static int tenant_headers(struct loki_ctx *ctx, struct loki_worker *w)
{
	size_t i, k = 0;

	if (w->cur) {
		const char *t = w->tenants.data + w->tenant_off[w->cur - 1];

		sl_buf_reset(&w->tenant_line);
		if (sl_buf_append(&w->tenant_line, "X-Scope-OrgID: ", 15) < 0 ||
		    sl_sanitize_header_value(&w->tenant_line, t, strlen(t)) <
			0 ||
		    sl_buf_append(&w->tenant_line, "", 1) < 0)
			return -SL_ENOMEM;
		w->hdrs[k++] = w->tenant_line.data;
	} else if (ctx->tenant_line) {
		w->hdrs[k++] = ctx->tenant_line;
	}
	for (i = 0; i < ctx->hc.n_lines; i++)
		w->hdrs[k++] = ctx->hc.lines[i];
	w->hdrs[k] = NULL;
	return 0;
}

/*
 * With Tenant_ID_Key, one request per tenant, in order of first record.
 * A tenant's failure ends the flush: its records (and those of tenants
 * not sent yet) are retried, the delivered ones are settled and are not
 * sent again, which is what both of Fluent Bit's error handlings want.
 */
static enum sl_flush_result
flush_tenants(struct loki_ctx *ctx, struct loki_worker *w, struct sl_flush *fl)
{
	const struct sl_chunk *c = sl_flush_chunk(fl);
	enum sl_flush_result r;
	uint32_t i;

	if (assign_tenants(ctx, w, c) < 0) {
		sl_log(SL_LOG_ERROR, ctx->name,
		       "out of memory reading tenants of chunk %llu",
		       (unsigned long long)c->id);
		return SL_FLUSH_RETRY;
	}
	for (i = 0; i < c->records; i++) {
		if (sl_flush_marked(fl, i))
			continue;
		w->cur = w->tenant_of[i];
		if (tenant_headers(ctx, w) < 0)
			return SL_FLUSH_RETRY;
		r = send_range(ctx, w, fl, 0, UINT32_MAX);
		if (r != SL_FLUSH_OK)
			return r;
		if (!sl_flush_marked(fl, i))
			return SL_FLUSH_RETRY; /* cannot happen: no loop */
	}
	return SL_FLUSH_OK;
}

static enum sl_flush_result
flush_chunk(struct loki_ctx *ctx, struct loki_worker *w, struct sl_flush *fl)
{
	if (ctx->tenant_acc)
		return flush_tenants(ctx, w, fl);
	return send_range(ctx, w, fl, 0, UINT32_MAX);
}

static void loki_flush(void *vctx, void *worker, struct sl_flush *fl)
{
	struct loki_ctx *ctx = vctx;
	enum sl_flush_result r = SL_FLUSH_RETRY;
	void *local = NULL;

	/* Without worker state (its init failed) try to build it now. */
	if (!worker && loki_worker_init(ctx, &local) == 0)
		worker = local;
	if (worker)
		r = flush_chunk(ctx, worker, fl);
	loki_worker_exit(ctx, local);
	sl_flush_done(fl, r);
}

static void loki_destroy(void *vctx)
{
	struct loki_ctx *ctx = vctx;

	loki_enc_destroy(&ctx->enc);
	sl_accessor_destroy(ctx->tenant_acc);
	ctx->tenant_acc = NULL;
	free(ctx->tenant_line);
	ctx->tenant_line = NULL;
	free(ctx->hdr_lines);
	ctx->hdr_lines = NULL;
	sl_http_client_cfg_destroy(&ctx->hc);
	free(ctx->name);
	ctx->name = NULL;
}

const struct sl_output_plugin sl_output_loki = {
    .name = "loki",
    .description = "Send logs to Grafana Loki (push API: JSON or protobuf)",
    .config_map = loki_config,
    .ctx_size = sizeof(struct loki_ctx),
    .init = loki_init,
    .worker_init = loki_worker_init,
    .worker_exit = loki_worker_exit,
    .flush = loki_flush,
    .destroy = loki_destroy,
};
