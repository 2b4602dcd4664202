/* SPDX-License-Identifier: Apache-2.0 */
/*
 * es.c - the Elasticsearch output (Fluent Bit's out_es): a chunk's records
 * not yet settled become one _bulk request; every item of the response
 * settles its record: 2xx (and 409 on create with our own _id) delivered,
 * 429/5xx left for the retry (which re-sends those alone), other 4xx
 * dropped with reason `rejected`, counted and logged. No AWS SigV4.
 *
 * The response is read as a stream while it arrives (es_response.c), so
 * every item is read whatever the body's size: Buffer_Size only bounds the
 * error text kept from it, never which items are known.
 *
 * Whole-request statuses: 2xx read item by item; 413 halves the batch and
 * sends again (a single record still too large is dropped, `oversize`);
 * 408, 429, 5xx, 401, 403, 407, no response, an unreadable body: retry
 * (credentials and proxies get fixed; dropping every record meanwhile would
 * lose them); any other 4xx (400 malformed request, 404 wrong Path, ...):
 * the records sent are dropped with reason `rejected`, logged as an error.
 */
#include "es.h"
#include "sl_cfgmap.h"
#include "sl_output.h"
#include "sl_output_error.h"
#include "sl_http_client.h"
#include "sl_record.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Detailed log lines about rejected items, per instance and window. */
#define LOG_WINDOW_S   10
#define LOG_PER_WINDOW 20
/* A document or body quoted in a log line is cut here (Trace_Error: 64K). */
#define LOG_SNIPPET   512
#define TRACE_SNIPPET (64 * 1024)

struct es_ctx {
	/* config map */
	char *host;
	int64_t port;
	char *path;
	char *index;
	char *type;
	bool suppress_type_name;
	/* http_user, http_passwd, compress (the shared fragment) */
	struct sl_http_client_cfg hc;
	char *http_api_key;
	char *cloud_id;
	char *cloud_auth;
	bool aws_auth;
	bool logstash_format;
	char *logstash_prefix;
	char *logstash_prefix_separator;
	char *logstash_prefix_key;
	char *logstash_dateformat;
	char *time_key;
	char *time_key_format;
	bool time_key_nanos;
	bool include_tag_key;
	char *tag_key;
	char *buffer_size;
	char *pipeline;
	bool generate_id;
	char *write_operation;
	char *id_key;
	bool replace_dots;
	bool current_time_index;
	bool trace_output;
	bool trace_error;
	char *target_index;
	/* from init */
	struct sl_output *out;	  /* borrowed: the instance owning ctx */
	char *name;		  /* owned: instance name for logs */
	struct es_bulk_opts opts; /* strings borrowed from the fields above */
	struct sl_accessor *prefix_acc, *id_acc; /* owned */
	char *uri;	  /* owned: Path + /_bulk [+ ?pipeline=] */
	char *cloud_host; /* owned: from Cloud_ID */
	char *cloud_user, *cloud_passwd; /* owned: from Cloud_Auth */
	char *api_key_header; /* owned: "Authorization: ApiKey ..." */
	size_t max_response;  /* Buffer_Size: response text kept */
	/* log rate limit, shared by the workers */
	int64_t log_window;
	int log_count;
};

/* A record still to be settled, in chunk order. */
struct pend {
	uint32_t index;
	uint32_t len;
	int64_t ts;
	uint64_t identity;
	const char *body;
};

/* Per worker thread; buffers reused from chunk to chunk. */
struct es_worker {
	struct sl_http_client *http;
	struct sl_http_response resp;
	struct sl_buf payload;
	struct es_bulk_scratch scratch;
	struct es_response rr;
	struct sl_record rec;
	struct sl_text t_prefix, t_id;
	struct pend *pend;
	struct es_bulk_item *items; /* per request item */
	uint32_t *item_pend;	    /* request item -> position in pend */
	size_t cap;
};

#define OFF(f) offsetof(struct es_ctx, f)
#define IGNORED(n, t, d)                                                       \
	{                                                                      \
		.name = n, .type = t, .flags = SL_CFG_IGNORED, .desc = d       \
	}

static const struct sl_cfg_option es_config[] = {
    {.name = "host",
     .type = SL_CFG_STR,
     .def = "127.0.0.1",
     .offset = OFF(host),
     .desc = "Elasticsearch host"},
    {.name = "port",
     .type = SL_CFG_INT,
     .def = "9200",
     .min = 1,
     .max = 65535,
     .offset = OFF(port),
     .desc = "Elasticsearch port"},
    {.name = "path",
     .type = SL_CFG_STR,
     .offset = OFF(path),
     .desc = "path prefix of /_bulk (behind a reverse proxy)"},
    {.name = "index",
     .type = SL_CFG_STR,
     .def = "fluent-bit",
     .offset = OFF(index),
     .desc = "index name"},
    {.name = "type",
     .type = SL_CFG_STR,
     .def = "_doc",
     .offset = OFF(type),
     .desc = "mapping type (\"_type\"); empty: none"},
    {.name = "suppress_type_name",
     .type = SL_CFG_BOOL,
     .def = "off",
     .offset = OFF(suppress_type_name),
     .desc = "send no \"_type\" (Elasticsearch 7.0 and later)"},
    SL_HTTP_CFG_USER(struct es_ctx, hc),
    SL_HTTP_CFG_PASSWD(struct es_ctx, hc),
    {.name = "http_api_key",
     .type = SL_CFG_STR,
     .offset = OFF(http_api_key),
     .desc = "base64 API key (Authorization: ApiKey); ignored with "
	     "HTTP_User or Cloud_Auth"},
    SL_HTTP_CFG_COMPRESS(struct es_ctx, hc),
    {.name = "cloud_id",
     .type = SL_CFG_STR,
     .offset = OFF(cloud_id),
     .desc = "Elastic Cloud id <name>:<base64>: sets Host and Port 443"},
    {.name = "cloud_auth",
     .type = SL_CFG_STR,
     .offset = OFF(cloud_auth),
     .desc = "Elastic Cloud USER:PASSWORD"},
    {.name = "aws_auth",
     .type = SL_CFG_BOOL,
     .def = "off",
     .offset = OFF(aws_auth),
     .desc = "AWS SigV4: not supported (On is an error)"},
    IGNORED("aws_region", SL_CFG_STR, "AWS SigV4: not supported"),
    IGNORED("aws_sts_endpoint", SL_CFG_STR, "AWS SigV4: not supported"),
    IGNORED("aws_role_arn", SL_CFG_STR, "AWS SigV4: not supported"),
    IGNORED("aws_external_id", SL_CFG_STR, "AWS SigV4: not supported"),
    IGNORED("aws_service_name", SL_CFG_STR, "AWS SigV4: not supported"),
    IGNORED("aws_profile", SL_CFG_STR, "AWS SigV4: not supported"),
    {.name = "logstash_format",
     .type = SL_CFG_BOOL,
     .def = "off",
     .offset = OFF(logstash_format),
     .desc = "index = Logstash_Prefix + separator + date of the record"},
    {.name = "logstash_prefix",
     .type = SL_CFG_STR,
     .def = "logstash",
     .offset = OFF(logstash_prefix),
     .desc = "Logstash index prefix"},
    {.name = "logstash_prefix_separator",
     .type = SL_CFG_STR,
     .def = "-",
     .offset = OFF(logstash_prefix_separator),
     .desc = "between the prefix and the date"},
    {.name = "logstash_prefix_key",
     .type = SL_CFG_STR,
     .offset = OFF(logstash_prefix_key),
     .desc = "record accessor whose value replaces Logstash_Prefix"},
    {.name = "logstash_dateformat",
     .type = SL_CFG_STR,
     .def = "%Y.%m.%d",
     .offset = OFF(logstash_dateformat),
     .desc = "strftime of the index date (UTC)"},
    {.name = "time_key",
     .type = SL_CFG_STR,
     .def = "@timestamp",
     .offset = OFF(time_key),
     .desc = "member added with the record time"},
    {.name = "time_key_format",
     .type = SL_CFG_STR,
     .def = "%Y-%m-%dT%H:%M:%S",
     .offset = OFF(time_key_format),
     .desc = "strftime of the time (UTC), followed by .mmmZ"},
    {.name = "time_key_nanos",
     .type = SL_CFG_BOOL,
     .def = "off",
     .offset = OFF(time_key_nanos),
     .desc = "nanoseconds (.nnnnnnnnnZ) instead of milliseconds"},
    {.name = "include_tag_key",
     .type = SL_CFG_BOOL,
     .def = "off",
     .offset = OFF(include_tag_key),
     .desc = "add the tag to documents"},
    {.name = "tag_key",
     .type = SL_CFG_STR,
     .def = "flb-key",
     .offset = OFF(tag_key),
     .desc = "member name of the tag"},
    {.name = "buffer_size",
     .type = SL_CFG_STR,
     .def = "512k",
     .offset = OFF(buffer_size),
     .desc = "response error text kept (false: 64M); every item is read "
	     "whatever the response size"},
    {.name = "pipeline",
     .type = SL_CFG_STR,
     .offset = OFF(pipeline),
     .desc = "ingest pipeline (?pipeline=)"},
    {.name = "generate_id",
     .type = SL_CFG_BOOL,
     .def = "off",
     .offset = OFF(generate_id),
     .desc = "_id = hash of the record's identity (or time) and body: "
	     "retries and re-reads after a crash never duplicate"},
    {.name = "write_operation",
     .type = SL_CFG_STR,
     .def = "create",
     .offset = OFF(write_operation),
     .desc = "create, index, update or upsert"},
    {.name = "id_key",
     .type = SL_CFG_STR,
     .offset = OFF(id_key),
     .desc = "record accessor of the _id (over Generate_ID)"},
    {.name = "replace_dots",
     .type = SL_CFG_BOOL,
     .def = "off",
     .offset = OFF(replace_dots),
     .desc = "'.' in keys becomes '_' (Elasticsearch 2.x)"},
    {.name = "current_time_index",
     .type = SL_CFG_BOOL,
     .def = "off",
     .offset = OFF(current_time_index),
     .desc = "Logstash index date from the current time"},
    {.name = "trace_output",
     .type = SL_CFG_BOOL,
     .def = "off",
     .offset = OFF(trace_output),
     .desc = "log every request payload"},
    {.name = "trace_error",
     .type = SL_CFG_BOOL,
     .def = "off",
     .offset = OFF(trace_error),
     .desc = "log failed items with their document, failed responses"},
    {.name = "target_index",
     .type = SL_CFG_STR,
     .offset = OFF(target_index),
     .desc = "templated index: not supported (setting it is an error)"},
    SL_CFG_END,
};

/* ---- init -------------------------------------------------------------- */

/* "<name>:<base64 of region$es_id$kibana_id>" -> "es_id.region". */
static char *cloud_host(const char *cloud_id)
{
	const char *b64 = strchr(cloud_id, ':');
	unsigned char *dec;
	char *host = NULL, *d1, *d2;
	size_t n;
	int len;

	b64 = b64 ? b64 + 1 : cloud_id;
	n = strlen(b64);
	if (n == 0 || n > 4096)
		return NULL;
	dec = calloc(n + 4, 1);
	if (!dec)
		return NULL;
	/* EVP_DecodeBlock wants whole quanta; pad what users often strip */
	{
		char padded[4100];

		memcpy(padded, b64, n);
		while (n % 4)
			padded[n++] = '=';
		len =
		    EVP_DecodeBlock(dec, (const unsigned char *)padded, (int)n);
	}
	if (len <= 0)
		goto out;
	dec[len] = '\0';
	d1 = strchr((char *)dec, '$');
	d2 = d1 ? strchr(d1 + 1, '$') : NULL;
	if (!d1 || d1 == (char *)dec)
		goto out;
	if (d2)
		*d2 = '\0';
	*d1 = '\0';
	if (!d1[1])
		goto out;
	if (asprintf(&host, "%s.%s", d1 + 1, (char *)dec) < 0)
		host = NULL;
out:
	free(dec);
	return host;
}

static int init_auth(struct es_ctx *ctx, struct sl_plugin_instance *ins,
		     int line)
{
	/* "${ES_USER:-}" in a config means no auth, not an empty user */
	if (ctx->hc.http_user && !*ctx->hc.http_user) {
		free(ctx->hc.http_user);
		ctx->hc.http_user = NULL;
	}
	if (ctx->cloud_id) {
		ctx->cloud_host = cloud_host(ctx->cloud_id);
		if (!ctx->cloud_host) {
			sl_plugin_error(ins, line,
					"es: Cloud_ID '%s' is not "
					"<name>:<base64 of region$es_id$...>",
					ctx->cloud_id);
			return -SL_ECONFIG;
		}
	}
	if (ctx->cloud_auth) {
		const char *colon = strchr(ctx->cloud_auth, ':');

		if (!colon) {
			sl_plugin_error(ins, line,
					"es: Cloud_Auth must be USER:PASSWORD");
			return -SL_ECONFIG;
		}
		ctx->cloud_user =
		    strndup(ctx->cloud_auth, (size_t)(colon - ctx->cloud_auth));
		ctx->cloud_passwd = strdup(colon + 1);
		if (!ctx->cloud_user || !ctx->cloud_passwd)
			return -SL_ENOMEM;
	}
	if (ctx->http_api_key && !ctx->hc.http_user && !ctx->cloud_auth &&
	    asprintf(&ctx->api_key_header, "Authorization: ApiKey %s",
		     ctx->http_api_key) < 0) {
		ctx->api_key_header = NULL;
		return -SL_ENOMEM;
	}
	return 0;
}

static int init_uri(struct es_ctx *ctx)
{
	const char *p = ctx->path ? ctx->path : "";
	size_t n = strlen(p);
	int rc;

	while (n && p[n - 1] == '/')
		n--;
	rc =
	    asprintf(&ctx->uri, "%s%.*s/_bulk%s%s", n && p[0] != '/' ? "/" : "",
		     (int)n, p, ctx->pipeline ? "?pipeline=" : "",
		     ctx->pipeline ? ctx->pipeline : "");
	if (rc < 0) {
		ctx->uri = NULL;
		return -SL_ENOMEM;
	}
	return 0;
}

static int compile(struct es_ctx *ctx, struct sl_plugin_instance *ins, int line,
		   const char *opt, const char *spec, struct sl_accessor **acc)
{
	const char *err = NULL;

	if (!spec)
		return 0;
	*acc = sl_accessor_create(spec, &err);
	if (!*acc) {
		sl_plugin_error(ins, line, "es: %s '%s': %s", opt, spec,
				err ? err : "invalid record accessor");
		return -SL_ECONFIG;
	}
	return 0;
}

static int es_init(void *vctx, struct sl_output *out)
{
	struct es_ctx *ctx = vctx;
	struct sl_plugin_instance *ins = sl_output_instance(out);
	int line = sl_plugin_instance_line(ins);
	struct es_bulk_opts *o = &ctx->opts;
	const struct sl_http_cfg_report rep = {sl_plugin_error, ins, line,
					       "es"};
	int64_t size;
	int rc = 0, r, hrc;

	ctx->out = out;
	ctx->name = strdup(sl_plugin_instance_name(ins));
	if (!ctx->name)
		return -SL_ENOMEM;
	if (es_op_parse(ctx->write_operation, &o->op) < 0) {
		sl_plugin_error(
		    ins, line,
		    "es: Write_Operation '%s' is not create, index, "
		    "update or upsert",
		    ctx->write_operation);
		rc = -SL_ECONFIG;
	} else if ((o->op == ES_OP_UPDATE || o->op == ES_OP_UPSERT) &&
		   !ctx->id_key && !ctx->generate_id) {
		sl_plugin_error(ins, line,
				"es: Write_Operation %s needs Id_Key or "
				"Generate_ID",
				ctx->write_operation);
		rc = -SL_ECONFIG;
	}
	hrc = sl_http_client_cfg_check(&ctx->hc, &rep);
	if (hrc == -SL_ENOMEM)
		return hrc;
	if (hrc < 0)
		rc = hrc;
	if (ctx->aws_auth) {
		sl_plugin_error(ins, line,
				"es: AWS_Auth (SigV4) is not supported by "
				"sluice");
		rc = -SL_ECONFIG;
	}
	if (ctx->target_index) {
		sl_plugin_error(ins, line,
				"es: Target_Index is not supported; use Index, "
				"or Logstash_Format with Logstash_Prefix_Key");
		rc = -SL_ECONFIG;
	}
	ctx->max_response = 512 * 1000;
	if (ctx->buffer_size) {
		bool b;

		if (sl_cfg_parse_bool(ctx->buffer_size, &b) == 0 && !b) {
			/* "unlimited": still a bound on memory */
			ctx->max_response = (size_t)64 << 20;
		} else if (sl_cfg_parse_size(ctx->buffer_size, &size) == 0 &&
			   size >= 0) {
			/* below 4K nothing useful fits: an item is ~200 bytes
			 */
			ctx->max_response = size < 4096 ? 4096 : (size_t)size;
		} else {
			sl_plugin_error(ins, line,
					"es: Buffer_Size '%s' is not a size or "
					"False",
					ctx->buffer_size);
			rc = -SL_ECONFIG;
		}
	}
	r = compile(ctx, ins, line, "Logstash_Prefix_Key",
		    ctx->logstash_prefix_key, &ctx->prefix_acc);
	if (r < 0)
		rc = r;
	r = compile(ctx, ins, line, "Id_Key", ctx->id_key, &ctx->id_acc);
	if (r < 0)
		rc = r;
	r = init_auth(ctx, ins, line);
	if (r < 0)
		rc = r;
	if (rc == 0)
		rc = init_uri(ctx);
	if (rc < 0)
		return rc;

	o->index = ctx->index;
	o->type = ctx->suppress_type_name ? NULL : ctx->type;
	o->logstash_format = ctx->logstash_format;
	o->logstash_prefix = ctx->logstash_prefix;
	o->logstash_separator = ctx->logstash_prefix_separator;
	o->logstash_dateformat = ctx->logstash_dateformat;
	o->current_time_index = ctx->current_time_index;
	o->time_key = ctx->time_key && *ctx->time_key ? ctx->time_key : NULL;
	o->time_key_format = ctx->time_key_format;
	o->time_key_nanos = ctx->time_key_nanos;
	o->tag_key = ctx->include_tag_key ? ctx->tag_key : NULL;
	o->generate_id = ctx->generate_id;
	o->replace_dots = ctx->replace_dots;
	return 0;
}

static int es_worker_init(void *vctx, void **worker)
{
	struct es_ctx *ctx = vctx;
	struct es_worker *w = calloc(1, sizeof(*w));
	struct sl_http_client_opts o = {
	    .host = ctx->cloud_host ? ctx->cloud_host : ctx->host,
	    .port = ctx->cloud_host && ctx->port == 9200 ? 443 : (int)ctx->port,
	    /* the raw body is kept for log lines only: items are read
	     * from the stream (body_sink) */
	    .max_response = ctx->max_response < TRACE_SNIPPET
				? ctx->max_response
				: TRACE_SNIPPET,
	};

	if (!w)
		return -SL_ENOMEM;
	sl_http_client_cfg_opts(&ctx->hc, &o);
	if (!ctx->hc.http_user) { /* Cloud_Auth's, when HTTP_User is unset */
		o.http_user = ctx->cloud_user;
		o.http_passwd = ctx->cloud_passwd;
	}
	sl_output_tls_opts(ctx->out, &o);
	sl_record_init(&w->rec);
	w->http = sl_http_client_create(&o);
	if (!w->http) {
		sl_record_destroy(&w->rec);
		free(w);
		return -SL_ENOMEM;
	}
	*worker = w;
	return 0;
}

static void es_worker_exit(void *vctx, void *worker)
{
	struct es_worker *w = worker;

	(void)vctx;
	if (!w)
		return;
	sl_http_client_destroy(w->http);
	sl_http_response_destroy(&w->resp);
	sl_buf_destroy(&w->payload);
	es_bulk_scratch_destroy(&w->scratch);
	es_response_destroy(&w->rr);
	sl_record_destroy(&w->rec);
	free(w->t_prefix.buf);
	free(w->t_id.buf);
	free(w->pend);
	free(w->items);
	free(w->item_pend);
	free(w);
}

/* ---- flush ------------------------------------------------------------- */

/* Whether another detailed line fits this window (all workers share it). */
static bool may_log(struct es_ctx *ctx)
{
	int64_t win = sl_mono_ns() / (LOG_WINDOW_S * SL_NS_PER_SEC);
	int64_t seen = __atomic_load_n(&ctx->log_window, __ATOMIC_RELAXED);

	if (seen != win &&
	    __atomic_compare_exchange_n(&ctx->log_window, &seen, win, false,
					__ATOMIC_RELAXED, __ATOMIC_RELAXED))
		__atomic_store_n(&ctx->log_count, 0, __ATOMIC_RELAXED);
	return __atomic_add_fetch(&ctx->log_count, 1, __ATOMIC_RELAXED) <=
	       LOG_PER_WINDOW;
}

static int grow(struct es_worker *w, size_t n)
{
	struct pend *p;
	struct es_bulk_item *it;
	uint32_t *ip;

	if (n <= w->cap)
		return 0;
	p = realloc(w->pend, n * sizeof(*p));
	if (p)
		w->pend = p;
	it = realloc(w->items, n * sizeof(*it));
	if (it)
		w->items = it;
	ip = realloc(w->item_pend, n * sizeof(*ip));
	if (ip)
		w->item_pend = ip;
	if (!p || !it || !ip)
		return -SL_ENOMEM;
	w->cap = n;
	return 0;
}

/* Fills the accessor values of one record (NULL when absent). */
static void lookup(struct es_ctx *ctx, struct es_worker *w,
		   const struct pend *p, struct es_bulk_rec *r)
{
	const char *text;
	size_t len;

	if (!ctx->prefix_acc && !ctx->id_acc)
		return;
	if (sl_record_reset_json(&w->rec, p->ts, p->body, p->len) < 0)
		return;
	if (ctx->prefix_acc &&
	    sl_record_get_text(&w->rec, ctx->prefix_acc, &w->t_prefix, &text,
			       &len) == 0 &&
	    len) {
		r->prefix = text;
		r->prefix_len = len;
	}
	if (ctx->id_acc &&
	    sl_record_get_text(&w->rec, ctx->id_acc, &w->t_id, &text, &len) ==
		0 &&
	    len) {
		r->id = text;
		r->id_len = len;
	}
}

/* Settles a record for good: delivered, or dropped and counted. */
static void settle(struct sl_flush *fl, const struct pend *p, bool dropped,
		   enum sl_drop_reason reason)
{
	if (dropped)
		sl_flush_drop(fl, reason, 1);
	/* on ENOMEM the record is sent again: a duplicate, never a loss */
	(void)sl_flush_mark(fl, p->index);
}

/*
 * Encodes pend[from, to) into the payload. Records that cannot be sent at
 * all (update without an _id, a body that is not an object) are dropped
 * here. Returns the number of request items, or -SL_ENOMEM.
 */
static long encode(struct es_ctx *ctx, struct es_worker *w, struct sl_flush *fl,
		   size_t from, size_t to)
{
	const struct sl_chunk *c = sl_flush_chunk(fl);
	int64_t now = sl_now_ns();
	uint32_t n = 0;

	sl_buf_reset(&w->payload);
	for (size_t k = from; k < to; k++) {
		struct pend *p = &w->pend[k];
		struct es_bulk_rec r = {
		    .ts_ns = p->ts,
		    .identity = p->identity,
		    .body = p->body,
		    .len = p->len,
		};
		size_t mark = w->payload.len;
		int rc;

		lookup(ctx, w, p, &r);
		if ((ctx->opts.op == ES_OP_UPDATE ||
		     ctx->opts.op == ES_OP_UPSERT) &&
		    !r.id && !ctx->opts.generate_id) {
			if (may_log(ctx))
				sl_log(SL_LOG_ERROR, ctx->name,
				       "record without %s cannot be an %s: "
				       "dropped",
				       ctx->id_key, ctx->write_operation);
			settle(fl, p, true, SL_DROP_REJECTED);
			continue;
		}
		rc = es_bulk_append(&w->payload, &ctx->opts, &r, c->tag,
				    c->tag_len, now, &w->scratch, &w->items[n]);
		if (rc == -SL_ENOMEM)
			return rc;
		if (rc < 0) {
			w->payload.len = mark;
			sl_log(SL_LOG_ERROR, ctx->name,
			       "record %u is not a JSON object: dropped",
			       p->index);
			settle(fl, p, true, SL_DROP_REJECTED);
			continue;
		}
		w->item_pend[n++] = (uint32_t)k;
	}
	return n;
}

static void log_rejected(struct es_ctx *ctx, struct es_worker *w, uint32_t item,
			 int status)
{
	const struct es_response *r = &w->rr;
	const struct es_resp_item *it =
	    item < r->expected && item < r->n_items ? &r->items[item] : NULL;
	const struct es_bulk_item *bi = &w->items[item];
	const char *ix = it && it->index_len ? es_response_str(r, it->index_off)
					     : ctx->index;
	int ix_len =
	    it && it->index_len ? (int)it->index_len : (int)strlen(ctx->index);
	size_t doc = ctx->trace_error ? TRACE_SNIPPET : LOG_SNIPPET;

	if (!may_log(ctx))
		return;
	sl_log(SL_LOG_ERROR, ctx->name,
	       "document rejected (%d), not retried: %.*s %.*s: %.*s", status,
	       ix_len, ix, it ? (int)it->type_len : 0,
	       it ? es_response_str(r, it->type_off) : "",
	       it ? (int)it->reason_len : 0,
	       it ? es_response_str(r, it->reason_off) : "");
	if (ctx->trace_error)
		sl_log(SL_LOG_ERROR, ctx->name, "rejected document: %.*s",
		       (int)(bi->len < doc ? bi->len : doc),
		       w->payload.data + bi->off);
}

/* Settles every item of a 2xx response. Returns true when some must wait. */
static bool settle_items(struct es_ctx *ctx, struct es_worker *w,
			 struct sl_flush *fl, uint32_t n)
{
	uint32_t retry = 0, rejected = 0;

	for (uint32_t i = 0; i < n; i++) {
		const struct pend *p = &w->pend[w->item_pend[i]];
		int status = i < w->rr.n_items ? w->rr.items[i].status : 0;

		switch (es_response_verdict(&w->rr, i, ctx->opts.op,
					    w->items[i].has_id)) {
		case ES_DELIVERED:
			settle(fl, p, false, SL_DROP_REJECTED);
			break;
		case ES_REJECTED:
			log_rejected(ctx, w, i, status);
			settle(fl, p, true, SL_DROP_REJECTED);
			rejected++;
			break;
		case ES_RETRY:
		default:
			retry++;
			break;
		}
	}
	if (w->rr.n_items != n)
		sl_log(SL_LOG_WARN, ctx->name,
		       "bulk response has %u items for %u sent; the missing "
		       "ones will be sent again",
		       w->rr.n_items, n);
	if (retry || rejected)
		sl_log(SL_LOG_WARN, ctx->name,
		       "bulk of %u: %u delivered, %u to retry, %u rejected", n,
		       n - retry - rejected, retry, rejected);
	return retry > 0;
}

enum req_class { REQ_ITEMS, REQ_TOO_LARGE, REQ_RETRY, REQ_REJECT };

/* The whole-request status, as every HTTP output reads it (core). */
static enum req_class classify(long status)
{
	switch (sl_output_http_class(status)) {
	case SL_HTTP_DELIVERED:
		return REQ_ITEMS;
	case SL_HTTP_TOO_LARGE:
		return REQ_TOO_LARGE;
	case SL_HTTP_REJECTED:
		return REQ_REJECT;
	/* credentials get rotated and fixed: hold the data */
	case SL_HTTP_AUTH:
	case SL_HTTP_RETRY:
	default:
		return REQ_RETRY;
	}
}

static void log_response(struct es_ctx *ctx, enum sl_log_level lvl,
			 const struct sl_http_response *resp, const char *what)
{
	size_t cut = ctx->trace_error ? TRACE_SNIPPET : LOG_SNIPPET;
	size_t n = resp->body.len < cut ? resp->body.len : cut;

	sl_log(lvl, ctx->name, "bulk request: HTTP %ld, %s: %.*s", resp->status,
	       what, (int)n, resp->body.data ? resp->body.data : "");
}

/* libcurl's body bytes, straight into the streaming reader. */
static int feed_response(void *arg, const char *data, size_t len)
{
	return es_response_feed(arg, data, len) != 0;
}

/* Sends what is still pending of the chunk, batch by batch. */
static enum sl_flush_result send_all(struct es_ctx *ctx, struct es_worker *w,
				     struct sl_flush *fl, size_t npend)
{
	size_t pos = 0, batch = npend;
	bool retry = false;
	double retry_after = -1;

	while (pos < npend) {
		size_t end = pos + batch < npend ? pos + batch : npend;
		struct sl_http_request req = {
		    .method = "POST",
		    .uri = ctx->uri,
		    .content_type = "application/x-ndjson",
		    .gzip = ctx->hc.gzip,
		};
		const char *hdrs[2] = {ctx->api_key_header, NULL};
		long n = encode(ctx, w, fl, pos, end);

		if (n < 0) {
			sl_log(SL_LOG_ERROR, ctx->name,
			       "out of memory encoding a bulk request");
			return SL_FLUSH_RETRY;
		}
		if (n == 0) {
			pos = end;
			continue;
		}
		if (ctx->trace_output)
			sl_log(SL_LOG_INFO, ctx->name, "bulk request:\n%.*s",
			       (int)(w->payload.len < INT32_MAX ? w->payload.len
								: INT32_MAX),
			       w->payload.data);
		req.headers = ctx->api_key_header ? hdrs : NULL;
		req.body = w->payload.data;
		req.body_len = w->payload.len;
		req.body_sink = feed_response;
		req.sink_arg = &w->rr;
		/* an ENOMEM here is seen again by es_response_end: retry */
		(void)es_response_begin(&w->rr, (uint32_t)n, ctx->max_response);
		if (sl_http_client_send(w->http, &req, &w->resp) < 0) {
			sl_log(SL_LOG_WARN, ctx->name,
			       "bulk request to %s failed: %s", ctx->uri,
			       w->resp.error);
			return SL_FLUSH_RETRY;
		}
		switch (classify(w->resp.status)) {
		case REQ_ITEMS:
			if (es_response_end(&w->rr) < 0) {
				log_response(ctx, SL_LOG_WARN, &w->resp,
					     "unreadable bulk response, will "
					     "retry");
				retry = true;
				goto done;
			}
			if (settle_items(ctx, w, fl, (uint32_t)n)) {
				retry = true;
				if (w->resp.retry_after > retry_after)
					retry_after = w->resp.retry_after;
			}
			break;
		case REQ_TOO_LARGE:
			if (n > 1) {
				batch = (size_t)n / 2;
				sl_log(SL_LOG_WARN, ctx->name,
				       "bulk of %ld records (%zu bytes) is too "
				       "large (413): sending %zu at a time",
				       n, w->payload.len, batch);
				continue; /* same records, smaller batches */
			}
			sl_log(SL_LOG_ERROR, ctx->name,
			       "one record of %zu bytes is too large for the "
			       "server (413): dropped",
			       w->payload.len);
			settle(fl, &w->pend[w->item_pend[0]], true,
			       SL_DROP_OVERSIZE);
			break;
		case REQ_REJECT:
			log_response(ctx, SL_LOG_ERROR, &w->resp,
				     "the request is rejected for good: its "
				     "records are dropped");
			/* Elasticsearch 8 refuses "_type", Type's default */
			if (ctx->opts.type && w->resp.body.data &&
			    strstr(w->resp.body.data, "[_type]"))
				sl_log(SL_LOG_ERROR, ctx->name,
				       "hint: set Suppress_Type_Name On for "
				       "Elasticsearch 7.0 and later");
			for (long i = 0; i < n; i++)
				settle(fl, &w->pend[w->item_pend[i]], true,
				       SL_DROP_REJECTED);
			break;
		case REQ_RETRY:
		default:
			log_response(ctx, SL_LOG_WARN, &w->resp, "will retry");
			retry = true;
			retry_after = w->resp.retry_after;
			goto done; /* the server is unwell: send no more now */
		}
		pos = end;
	}
done:
	if (retry && retry_after > 0)
		sl_flush_retry_after(fl, retry_after);
	return retry || pos < npend ? SL_FLUSH_RETRY : SL_FLUSH_OK;
}

static void es_flush(void *vctx, void *worker, struct sl_flush *fl)
{
	struct es_ctx *ctx = vctx;
	struct es_worker *w = worker;
	const struct sl_chunk *c = sl_flush_chunk(fl);
	struct sl_chunk_iter it;
	const char *body;
	size_t len, npend = 0;
	uint64_t identity;
	int64_t ts;

	if (!w || grow(w, c->records) < 0) {
		sl_flush_done(fl, SL_FLUSH_RETRY);
		return;
	}
	sl_chunk_iter_init(&it, c);
	while (sl_chunk_next_id(&it, &ts, &identity, &body, &len)) {
		uint32_t index = it.index - 1;

		if (sl_flush_marked(fl, index))
			continue; /* settled by an earlier attempt */
		w->pend[npend++] = (struct pend){
		    .index = index,
		    .len = (uint32_t)len,
		    .ts = ts,
		    .identity = identity,
		    .body = body,
		};
	}
	sl_flush_done(fl, npend ? send_all(ctx, w, fl, npend) : SL_FLUSH_OK);
}

static void es_destroy(void *vctx)
{
	struct es_ctx *ctx = vctx;

	sl_accessor_destroy(ctx->prefix_acc);
	sl_accessor_destroy(ctx->id_acc);
	free(ctx->name);
	free(ctx->uri);
	free(ctx->cloud_host);
	free(ctx->cloud_user);
	free(ctx->cloud_passwd);
	free(ctx->api_key_header);
	sl_http_client_cfg_destroy(&ctx->hc);
	ctx->prefix_acc = ctx->id_acc = NULL;
	ctx->name = ctx->uri = ctx->cloud_host = NULL;
	ctx->cloud_user = ctx->cloud_passwd = ctx->api_key_header = NULL;
}

const struct sl_output_plugin sl_output_es = {
    .name = "es",
    .description = "Elasticsearch _bulk",
    .config_map = es_config,
    .ctx_size = sizeof(struct es_ctx),
    .init = es_init,
    .worker_init = es_worker_init,
    .worker_exit = es_worker_exit,
    .flush = es_flush,
    .destroy = es_destroy,
};
