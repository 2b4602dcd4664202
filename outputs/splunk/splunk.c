/* SPDX-License-Identifier: Apache-2.0 */
/*
 * splunk.c - the splunk output (Fluent Bit's out_splunk): each chunk is one
 * POST of concatenated HEC events to /services/collector/event with
 * "Authorization: Splunk TOKEN" (or basic auth), gzip and TLS optional.
 *
 * What an answer means (splunk_verdict): 2xx delivered; 429/5xx/no answer
 * retried with Retry-After (HEC's 9 "Server is busy" is a 503); 401/403
 * (HEC codes 1-4: token disabled, required, invalid) retried as an
 * authentication failure, as es and http do (tokens rotate); 413 halves the
 * request. A 400 naming one event (HEC's "invalid-event-number" with code
 * 6 invalid data format, 7 incorrect index, ...) drops that event as
 * `rejected`, logged with HEC's text, and sends the others again; a 400
 * about some event without saying which halves the request until the bad
 * events are alone; a 400 about the request (no data, channel) and other
 * 4xx drop its events as `rejected`.
 */
#include "splunk.h"
#include "sl_cfgmap.h"
#include "sl_http_client.h"
#include "sl_output.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_TEXT_MAX	 512
#define ENDPOINT	 "/services/collector/event"
#define ENDPOINT_AUTO_TS ENDPOINT "?auto_extract_timestamp=true"

struct splunk_ctx {
	/* config map */
	char *host;
	int64_t port;
	char *splunk_token;
	struct sl_http_client_cfg hc; /* http_user, http_passwd, compress */
	char *http_buffer_size;
	bool http_debug_bad_request;
	char *event_key;
	char *event_host;
	char *event_source;
	char *event_sourcetype;
	char *event_sourcetype_key;
	char *event_index;
	char *event_index_key;
	struct sl_cfg_multi event_field;
	bool splunk_send_raw;
	bool auto_extract_timestamp;
	char *channel;
	/* from init */
	struct splunk_enc enc;
	char *auth_line;    /* "Authorization: Splunk TOKEN", owned */
	char *channel_line; /* "X-Splunk-Request-Channel: ...", owned */
	const char *hdrs[3];
	struct sl_http_client_opts http;
	char *name;
};

struct splunk_worker {
	struct sl_http_client *client;
	struct splunk_batch batch;
	struct sl_buf payload;
	struct sl_http_response resp;
};

#define OFF(f) offsetof(struct splunk_ctx, f)
static const struct sl_cfg_option splunk_config[] = {
    {.name = "host",
     .type = SL_CFG_STR,
     .def = "127.0.0.1",
     .offset = OFF(host),
     .desc = "HEC host name or address"},
    {.name = "port",
     .type = SL_CFG_INT,
     .def = "8088",
     .min = 1,
     .max = 65535,
     .offset = OFF(port),
     .desc = "HEC TCP port"},
    SL_HTTP_CFG_COMPRESS(struct splunk_ctx, hc),
    SL_HTTP_CFG_USER(struct splunk_ctx, hc),
    SL_HTTP_CFG_PASSWD(struct splunk_ctx, hc),
    {.name = "http_buffer_size",
     .type = SL_CFG_STR,
     .offset = OFF(http_buffer_size),
     .desc = "bytes of HEC's answer kept (false: no limit but 64M)"},
    {.name = "http_debug_bad_request",
     .type = SL_CFG_BOOL,
     .def = "false",
     .offset = OFF(http_debug_bad_request),
     .desc = "log the request of a 400 answer"},
    {.name = "event_key",
     .type = SL_CFG_STR,
     .offset = OFF(event_key),
     .desc = "$accessor: that value as the event, not the record"},
    {.name = "event_host",
     .type = SL_CFG_STR,
     .offset = OFF(event_host),
     .desc = "host of the events (text with $key, $TAG, $TAG[n])"},
    {.name = "event_source",
     .type = SL_CFG_STR,
     .offset = OFF(event_source),
     .desc = "source of the events (text with $key, $TAG, $TAG[n])"},
    {.name = "event_sourcetype",
     .type = SL_CFG_STR,
     .offset = OFF(event_sourcetype),
     .desc = "sourcetype of the events"},
    {.name = "event_sourcetype_key",
     .type = SL_CFG_STR,
     .offset = OFF(event_sourcetype_key),
     .desc = "sourcetype from the record ($key) when not empty"},
    {.name = "event_index",
     .type = SL_CFG_STR,
     .offset = OFF(event_index),
     .desc = "index of the events"},
    {.name = "event_index_key",
     .type = SL_CFG_STR,
     .offset = OFF(event_index_key),
     .desc = "index from the record ($key) when not empty"},
    {.name = "event_field",
     .type = SL_CFG_STR,
     .flags = SL_CFG_MULTI,
     .offset = OFF(event_field),
     .desc = "NAME $accessor: an indexed field of the events"},
    {.name = "splunk_token",
     .type = SL_CFG_STR,
     .offset = OFF(splunk_token),
     .desc = "HEC token (Authorization: Splunk TOKEN)"},
    {.name = "splunk_send_raw",
     .type = SL_CFG_BOOL,
     .def = "off",
     .offset = OFF(splunk_send_raw),
     .desc = "send the record itself, without the envelope"},
    {.name = "auto_extract_timestamp",
     .type = SL_CFG_BOOL,
     .def = "off",
     .offset = OFF(auto_extract_timestamp),
     .desc = "no time in the envelope: Splunk extracts it"},
    {.name = "channel",
     .type = SL_CFG_STR,
     .offset = OFF(channel),
     .desc = "X-Splunk-Request-Channel header"},
    SL_CFG_END,
};

/* Bad bytes for a header value: a token or channel with CR/LF. */
static bool header_safe(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 && *s != '\t')
			return false;
	return true;
}

static char *header_line(const char *name, const char *prefix,
			 const char *value)
{
	size_t n = strlen(name) + strlen(prefix) + strlen(value) + 3;
	char *s = malloc(n);

	if (s)
		snprintf(s, n, "%s: %s%s", name, prefix, value);
	return s;
}

/* Compiles an option into `v`; reports and returns -SL_ECONFIG if bad. */
static int value_opt(struct sl_plugin_instance *ins, int line, const char *opt,
		     const char *spec, struct splunk_value *v)
{
	const char *err = NULL;
	int r;

	if (!spec)
		return 0;
	r = splunk_value_set(v, spec, &err);
	if (r == -SL_EINVAL) {
		sl_plugin_error(ins, line, "splunk: %s '%s': %s", opt, spec,
				err);
		return -SL_ECONFIG;
	}
	return r;
}

static int build_encoder(struct splunk_ctx *ctx, struct sl_plugin_instance *ins,
			 int line)
{
	struct splunk_enc *e = &ctx->enc;
	const char *err = NULL;
	int rc = 0, r;

	e->send_raw = ctx->splunk_send_raw;
	e->auto_extract_timestamp = ctx->auto_extract_timestamp;
	e->sourcetype = ctx->event_sourcetype;
	e->index = ctx->event_index;
	if (ctx->event_key) {
		r = splunk_enc_set_event_key(e, ctx->event_key, &err);
		if (r == -SL_ENOMEM)
			return r;
		if (r < 0) {
			sl_plugin_error(ins, line, "splunk: event_key '%s': %s",
					ctx->event_key, err);
			rc = -SL_ECONFIG;
		}
	}
	r = value_opt(ins, line, "event_host", ctx->event_host, &e->host);
	if (r < 0)
		rc = r;
	r = value_opt(ins, line, "event_source", ctx->event_source, &e->source);
	if (r < 0)
		rc = r;
	r = value_opt(ins, line, "event_sourcetype_key",
		      ctx->event_sourcetype_key, &e->sourcetype_key);
	if (r < 0)
		rc = r;
	r = value_opt(ins, line, "event_index_key", ctx->event_index_key,
		      &e->index_key);
	if (r < 0)
		rc = r;
	for (size_t i = 0; i < ctx->event_field.n; i++) {
		const struct sl_cfg_item *it = &ctx->event_field.items[i];

		r = splunk_enc_add_field(e, it->value, &err);
		if (r == -SL_ENOMEM)
			return r;
		if (r < 0) {
			sl_plugin_error(ins, it->line,
					"splunk: event_field '%s': %s",
					it->value, err);
			rc = -SL_ECONFIG;
		}
	}
	return rc;
}

static int response_limit(struct splunk_ctx *ctx,
			  struct sl_plugin_instance *ins, int line,
			  size_t *limit)
{
	int64_t size;
	bool b;

	*limit = 64 * 1024;
	if (!ctx->http_buffer_size)
		return 0;
	if (sl_cfg_parse_bool(ctx->http_buffer_size, &b) == 0 && !b) {
		*limit = (size_t)64 << 20; /* "unlimited": still a bound */
		return 0;
	}
	if (sl_cfg_parse_size(ctx->http_buffer_size, &size) == 0 && size >= 0) {
		/* Fluent Bit's floor: 4 KiB */
		*limit = size < 4096 ? 4096 : (size_t)size;
		return 0;
	}
	sl_plugin_error(ins, line,
			"splunk: http_buffer_size '%s' is not a size or false",
			ctx->http_buffer_size);
	return -SL_ECONFIG;
}

static int splunk_init(void *vctx, struct sl_output *out)
{
	struct splunk_ctx *ctx = vctx;
	struct sl_plugin_instance *ins = sl_output_instance(out);
	int line = sl_plugin_instance_line(ins);
	const struct sl_http_cfg_report rep = {sl_plugin_error, ins, line,
					       "splunk"};
	size_t limit = 0, nh = 0;
	int rc = 0, r;

	ctx->name = strdup(sl_plugin_instance_name(ins));
	if (!ctx->name)
		return -SL_ENOMEM;
	r = sl_http_client_cfg_check(&ctx->hc, &rep);
	if (r == -SL_ENOMEM)
		return r;
	if (r < 0)
		rc = r;
	r = build_encoder(ctx, ins, line);
	if (r == -SL_ENOMEM)
		return r;
	if (r < 0)
		rc = r;
	if (response_limit(ctx, ins, line, &limit) < 0)
		rc = -SL_ECONFIG;
	/* Fluent Bit: basic auth when http_user is set, else the token */
	if (!ctx->hc.http_user && (!ctx->splunk_token || !*ctx->splunk_token)) {
		sl_plugin_error(ins, line,
				"splunk: either splunk_token or http_user "
				"must be set");
		rc = -SL_ECONFIG;
	}
	if (ctx->splunk_token && !header_safe(ctx->splunk_token)) {
		sl_plugin_error(ins, line,
				"splunk: splunk_token holds control bytes");
		rc = -SL_ECONFIG;
	}
	if (ctx->channel && !header_safe(ctx->channel)) {
		sl_plugin_error(ins, line,
				"splunk: channel holds control bytes");
		rc = -SL_ECONFIG;
	}
	if (rc < 0)
		return rc;
	if (!ctx->hc.http_user) {
		ctx->auth_line =
		    header_line("Authorization", "Splunk ", ctx->splunk_token);
		if (!ctx->auth_line)
			return -SL_ENOMEM;
		ctx->hdrs[nh++] = ctx->auth_line;
	}
	if (ctx->channel) {
		ctx->channel_line =
		    header_line("X-Splunk-Request-Channel", "", ctx->channel);
		if (!ctx->channel_line)
			return -SL_ENOMEM;
		ctx->hdrs[nh++] = ctx->channel_line;
	}
	ctx->hdrs[nh] = NULL;
	ctx->http = (struct sl_http_client_opts){
	    .host = ctx->host,
	    .port = (int)ctx->port,
	    .max_response = limit,
	};
	sl_http_client_cfg_opts(&ctx->hc, &ctx->http);
	sl_output_tls_opts(out, &ctx->http);
	return 0;
}

static int splunk_worker_init(void *vctx, void **worker)
{
	struct splunk_ctx *ctx = vctx;
	struct splunk_worker *w = calloc(1, sizeof(*w));

	if (!w)
		return -SL_ENOMEM;
	w->client = sl_http_client_create(&ctx->http);
	if (!w->client) {
		free(w);
		return -SL_ENOMEM;
	}
	splunk_batch_init(&w->batch);
	*worker = w;
	return 0;
}

static void splunk_worker_exit(void *vctx, void *worker)
{
	struct splunk_worker *w = worker;

	(void)vctx;
	if (!w)
		return;
	sl_http_client_destroy(w->client);
	splunk_batch_destroy(&w->batch);
	sl_buf_destroy(&w->payload);
	sl_http_response_destroy(&w->resp);
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

static void mark_all(struct sl_flush *fl, const struct splunk_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		(void)sl_flush_mark(fl, b->idx[i]);
}

/* HEC's text, or the body as it came, for a log line. */
static void answer_text(const struct splunk_worker *w,
			const struct splunk_answer *a, const char **t, int *tl)
{
	const struct sl_http_response *r = &w->resp;

	if (a->text) {
		*t = a->text;
		*tl = (int)(a->text_len < LOG_TEXT_MAX ? a->text_len
						       : LOG_TEXT_MAX);
	} else if (splunk_code_text(a->code)) {
		*t = splunk_code_text(a->code);
		*tl = (int)strlen(*t);
	} else {
		*t = r->body.data ? r->body.data : "";
		*tl = (int)(r->body.len < LOG_TEXT_MAX ? r->body.len
						       : LOG_TEXT_MAX);
	}
}

/* Event `i` of the body just sent, bounded, for the log. */
static void event_text(const struct splunk_worker *w, size_t i, const char **t,
		       int *tl)
{
	const struct splunk_batch *b = &w->batch;
	size_t end = i + 1 < b->n ? b->off[i + 1] : w->payload.len;
	size_t len = end - b->off[i];

	*t = w->payload.data + b->off[i];
	*tl = (int)(len < LOG_TEXT_MAX ? len : LOG_TEXT_MAX);
}

static enum sl_flush_result send_range(struct splunk_ctx *ctx,
				       struct splunk_worker *w,
				       struct sl_flush *fl, uint32_t lo,
				       uint32_t hi);

/* Sends [lo, mid) and [mid, hi) of the request just answered. */
static enum sl_flush_result halve(struct splunk_ctx *ctx,
				  struct splunk_worker *w, struct sl_flush *fl)
{
	const struct splunk_batch *b = &w->batch;
	/* read before the sends below reuse the batch */
	uint32_t lo = b->idx[0], mid = b->idx[b->n / 2],
		 hi = b->idx[b->n - 1] + 1;
	enum sl_flush_result res = send_range(ctx, w, fl, lo, mid);

	if (res != SL_FLUSH_OK)
		return res;
	return send_range(ctx, w, fl, mid, hi);
}

static void log_bad_request(struct splunk_ctx *ctx,
			    const struct splunk_worker *w)
{
	size_t n = w->payload.len < 4096 ? w->payload.len : 4096;

	if (ctx->http_debug_bad_request)
		sl_log(SL_LOG_WARN, ctx->name,
		       "HTTP status=400, the request (%zu of %zu bytes): %.*s",
		       n, w->payload.len, (int)n, w->payload.data);
}

/*
 * Acts on the answer to the request in w->batch / w->payload. Returns
 * OK when each of its events is settled (delivered or dropped), RETRY
 * when the rest must wait, or -1 to send the range again (an event was
 * dropped: the others go in a new request).
 */
static int handle_answer(struct splunk_ctx *ctx, struct splunk_worker *w,
			 struct sl_flush *fl)
{
	const struct sl_http_response *r = &w->resp;
	struct splunk_batch *b = &w->batch;
	struct splunk_answer a;
	const char *t, *ev;
	int tl, el;
	size_t bad;

	splunk_answer_parse(r->body.data, r->body.len, &a);
	answer_text(w, &a, &t, &tl);
	switch (splunk_verdict(r->status, &a, b->n)) {
	case SPLUNK_DELIVERED:
		mark_all(fl, b);
		sl_log(SL_LOG_DEBUG, ctx->name, "%s:%lld, HTTP status=%ld",
		       ctx->host, (long long)ctx->port, r->status);
		return SL_FLUSH_OK;
	case SPLUNK_DROP_ONE:
		log_bad_request(ctx, w);
		bad = (size_t)a.bad_event;
		event_text(w, bad, &ev, &el);
		sl_log(SL_LOG_ERROR, ctx->name,
		       "%s:%lld, HTTP status=%ld, HEC code %ld: %.*s: event "
		       "%zu of %zu dropped (rejected), the others sent again: "
		       "%.*s",
		       ctx->host, (long long)ctx->port, r->status, a.code, tl,
		       t, bad, b->n, el, ev);
		sl_flush_drop(fl, SL_DROP_REJECTED, 1);
		(void)sl_flush_mark(fl, b->idx[bad]);
		return -1;
	case SPLUNK_SPLIT:
		log_bad_request(ctx, w);
		sl_log(SL_LOG_WARN, ctx->name,
		       "%s:%lld, HTTP status=%ld (%.*s) for %zu events, no "
		       "event named: sending them in two halves",
		       ctx->host, (long long)ctx->port, r->status, tl, t, b->n);
		return halve(ctx, w, fl);
	case SPLUNK_TOO_LARGE:
		if (b->n > 1) {
			sl_log(SL_LOG_WARN, ctx->name,
			       "%s:%lld, HTTP status=413 for %zu events: "
			       "sending them in two halves",
			       ctx->host, (long long)ctx->port, b->n);
			return halve(ctx, w, fl);
		}
		sl_log(SL_LOG_ERROR, ctx->name,
		       "%s:%lld, HTTP status=413 for a single event of %zu "
		       "bytes: dropped (oversize)",
		       ctx->host, (long long)ctx->port, w->payload.len);
		sl_flush_drop(fl, SL_DROP_OVERSIZE, 1);
		mark_all(fl, b);
		return SL_FLUSH_OK;
	case SPLUNK_REJECT_ALL:
		if (r->status == 400)
			log_bad_request(ctx, w);
		sl_log(SL_LOG_ERROR, ctx->name,
		       "%s:%lld, HTTP status=%ld, HEC code %ld: %.*s: %zu "
		       "events dropped (rejected)",
		       ctx->host, (long long)ctx->port, r->status, a.code, tl,
		       t, b->n);
		sl_flush_drop(fl, SL_DROP_REJECTED, b->n);
		mark_all(fl, b);
		return SL_FLUSH_OK;
	case SPLUNK_AUTH:
	case SPLUNK_RETRY:
	default:
		break;
	}
	if (r->retry_after >= 0)
		sl_flush_retry_after(fl, r->retry_after);
	sl_log(SL_LOG_WARN, ctx->name,
	       "%s:%lld, HTTP status=%ld, HEC code %ld, %zu events will be "
	       "retried%s: %.*s",
	       ctx->host, (long long)ctx->port, r->status, a.code, b->n,
	       r->status == 401 || r->status == 403 ? " (token refused)" : "",
	       tl, t);
	return SL_FLUSH_RETRY;
}

/* Requests for the unsettled records in [lo, hi) until each is settled. */
static enum sl_flush_result send_range(struct splunk_ctx *ctx,
				       struct splunk_worker *w,
				       struct sl_flush *fl, uint32_t lo,
				       uint32_t hi)
{
	const struct sl_chunk *c = sl_flush_chunk(fl);
	struct range rg = {.fl = fl, .lo = lo, .hi = hi};
	struct sl_http_request req = {
	    .method = "POST",
	    .uri = ctx->auto_extract_timestamp ? ENDPOINT_AUTO_TS : ENDPOINT,
	    .content_type = "application/json",
	    .headers = ctx->hdrs,
	    .gzip = ctx->hc.gzip,
	};
	int res;

	/* each pass that does not settle the range settles one event */
	for (;;) {
		sl_buf_reset(&w->payload);
		if (splunk_encode(&ctx->enc, &w->batch, c, skip_settled, &rg,
				  &w->payload) < 0) {
			sl_log(SL_LOG_ERROR, ctx->name,
			       "out of memory formatting chunk %llu",
			       (unsigned long long)c->id);
			return SL_FLUSH_RETRY;
		}
		if (w->batch.n == 0)
			return SL_FLUSH_OK;
		req.body = w->payload.data;
		req.body_len = w->payload.len;
		if (sl_http_client_send(w->client, &req, &w->resp) < 0) {
			sl_log(SL_LOG_WARN, ctx->name,
			       "no answer for %zu events, will retry: %s",
			       w->batch.n, w->resp.error);
			return SL_FLUSH_RETRY;
		}
		res = handle_answer(ctx, w, fl);
		if (res >= 0)
			return (enum sl_flush_result)res;
	}
}

static void splunk_flush(void *vctx, void *worker, struct sl_flush *fl)
{
	struct splunk_ctx *ctx = vctx;
	enum sl_flush_result r = SL_FLUSH_RETRY;
	void *local = NULL;

	if (!worker && splunk_worker_init(ctx, &local) == 0)
		worker = local;
	if (worker)
		r = send_range(ctx, worker, fl, 0, UINT32_MAX);
	splunk_worker_exit(ctx, local);
	sl_flush_done(fl, r);
}

static void splunk_destroy(void *vctx)
{
	struct splunk_ctx *ctx = vctx;

	splunk_enc_destroy(&ctx->enc);
	sl_http_client_cfg_destroy(&ctx->hc);
	free(ctx->auth_line);
	free(ctx->channel_line);
	free(ctx->name);
	ctx->auth_line = ctx->channel_line = ctx->name = NULL;
}

const struct sl_output_plugin sl_output_splunk = {
    .name = "splunk",
    .description = "Send events to Splunk's HTTP Event Collector",
    .config_map = splunk_config,
    .ctx_size = sizeof(struct splunk_ctx),
    .init = splunk_init,
    .worker_init = splunk_worker_init,
    .worker_exit = splunk_worker_exit,
    .flush = splunk_flush,
    .destroy = splunk_destroy,
};
