/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_http_api.c - the service HTTP API on the engine's loop: GET / (build
 * information as JSON), GET /api/v1/metrics/prometheus (the internal
 * metrics, scope NULL), GET /api/v1/health (Fluent Bit's rule over
 * HC_Period, from per-second snapshots). No other Fluent Bit endpoints
 * (uptime, the v2 API, reload) are served.
 */
#include "sl_http_api.h"
#include "sl_engine_int.h"
#include "sl_log.h"
#include "sl_metrics_text.h"
#include "sl_registry.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef SLUICE_VERSION
#define SLUICE_VERSION "0.1.0"
#endif

#define HTTP_MAX_HEADERS (16 * 1024)
#define HTTP_MAX_BODY	 4096
#define HTTP_TIMEOUT_S	 10

/* ---- listening ---------------------------------------------------------- */

static int listen_socket(const char *host, int port, const char *who)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *res = NULL;
	char service[16];
	int fd = -1, on = 1, err, rc;

	snprintf(service, sizeof(service), "%d", port);
	rc = getaddrinfo(host && *host ? host : NULL, service, &hints, &res);
	if (rc != 0) {
		sl_log(SL_LOG_ERROR, who, "cannot listen on %s:%d: %s",
		       host ? host : "", port, gai_strerror(rc));
		return -1;
	}
	fd = socket(res->ai_family,
		    res->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    res->ai_protocol);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) < 0 ||
	    listen(fd, 128) < 0) {
		err = errno;
		sl_log(SL_LOG_ERROR, who, "cannot listen on %s:%d: %s",
		       host ? host : "", port, strerror(err));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

struct evhttp *sl_http_listen(struct event_base *base, const char *host,
			      int port, const char *who)
{
	struct evhttp *http;
	int fd = listen_socket(host, port, who);

	if (fd < 0)
		return NULL;
	http = evhttp_new(base);
	if (!http || !evhttp_accept_socket_with_handle(http, fd)) {
		sl_log(SL_LOG_ERROR, who,
		       "cannot serve HTTP on %s:%d: out of memory", host, port);
		if (http)
			evhttp_free(http);
		close(fd);
		return NULL;
	}
	evhttp_set_max_headers_size(http, HTTP_MAX_HEADERS);
	evhttp_set_max_body_size(http, HTTP_MAX_BODY);
	evhttp_set_timeout(http, HTTP_TIMEOUT_S);
	/* every method reaches the callbacks, which answer 405 (not 501) */
	evhttp_set_allowed_methods(
	    http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
		      EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
		      EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
	return http;
}

void sl_http_reply(struct evhttp_request *req, int code, const char *ctype,
		   const void *body, size_t len)
{
	struct evbuffer *buf = evbuffer_new();
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	const char *reason;

	switch (code) {
	case 200:
		reason = "OK";
		break;
	case 404:
		reason = "Not Found";
		break;
	case 405:
		reason = "Method Not Allowed";
		break;
	case 500:
		reason = "Internal Server Error";
		break;
	case 503:
		reason = "Service Unavailable";
		break;
	default:
		reason = NULL; /* libevent supplies the standard phrase */
		break;
	}
	if (!buf || (len && evbuffer_add(buf, body, len) < 0)) {
		if (buf)
			evbuffer_free(buf);
		evhttp_send_error(req, 503, "Service Unavailable");
		return;
	}
	evhttp_add_header(h, "Content-Type", ctype);
	if (code == 405)
		evhttp_add_header(h, "Allow", "GET");
	evhttp_send_reply(req, code, reason, buf);
	evbuffer_free(buf);
}

const char *sl_http_path(struct evhttp_request *req)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;

	return path && *path ? path : "/";
}

/* ---- the health rule ---------------------------------------------------- */

int sl_health_init(struct sl_health *h, int64_t period_s, int64_t errors_limit,
		   int64_t failed_limit, uint64_t errors, uint64_t failed)
{
	memset(h, 0, sizeof(*h));
	if (period_s < 1)
		period_s = 1;
	/* snapshots at t-period .. t: period + 1 of them */
	h->cap = (size_t)period_s + 1;
	h->errors = calloc(h->cap, sizeof(*h->errors));
	h->failed = calloc(h->cap, sizeof(*h->failed));
	if (!h->errors || !h->failed) {
		sl_health_destroy(h);
		return -SL_ENOMEM;
	}
	h->errors_limit = errors_limit > 0 ? (uint64_t)errors_limit : 0;
	h->failed_limit = failed_limit > 0 ? (uint64_t)failed_limit : 0;
	sl_health_tick(h, errors, failed);
	return 0;
}

void sl_health_destroy(struct sl_health *h)
{
	free(h->errors);
	free(h->failed);
	memset(h, 0, sizeof(*h));
}

void sl_health_tick(struct sl_health *h, uint64_t errors, uint64_t failed)
{
	size_t at;

	if (!h->cap)
		return;
	if (h->n < h->cap) {
		at = (h->head + h->n++) % h->cap;
	} else {
		at = h->head; /* overwrite the oldest */
		h->head = (h->head + 1) % h->cap;
	}
	h->errors[at] = errors;
	h->failed[at] = failed;
}

bool sl_health_ok(const struct sl_health *h, uint64_t errors, uint64_t failed)
{
	uint64_t e, f;

	if (!h->n)
		return true;
	/* counters only grow; a smaller total (never expected) is no error */
	e = errors > h->errors[h->head] ? errors - h->errors[h->head] : 0;
	f = failed > h->failed[h->head] ? failed - h->failed[h->head] : 0;
	/* Fluent Bit's code and docs: strictly more than the limit fails */
	return e <= h->errors_limit && f <= h->failed_limit;
}

/* ---- the API server ----------------------------------------------------- */

struct sl_http_api {
	struct sl_engine *eng;	/* borrowed: owns this */
	struct evhttp *http;	/* owned */
	struct event *hc_timer; /* owned; NULL when Health_Check Off */
	struct sl_health health;
	struct sl_buf body; /* reused response buffer */
};

static void output_totals(const struct sl_engine *eng, uint64_t *errors,
			  uint64_t *failed)
{
	*errors = *failed = 0;
	for (size_t i = 0; i < eng->n_outputs; i++) {
		const struct sl_output *out = eng->outputs[i];

		if (out->m_errors)
			*errors += (uint64_t)sl_metric_value(out->m_errors);
		if (out->m_retries_failed)
			*failed +=
			    (uint64_t)sl_metric_value(out->m_retries_failed);
	}
}

static void hc_tick(evutil_socket_t fd, short what, void *arg)
{
	struct sl_http_api *api = arg;
	uint64_t errors, failed;

	(void)fd;
	(void)what;
	output_totals(api->eng, &errors, &failed);
	sl_health_tick(&api->health, errors, failed);
}

static void serve_health(struct sl_http_api *api, struct evhttp_request *req)
{
	uint64_t errors, failed;
	bool ok = true;

	if (api->eng->service.health_check) {
		output_totals(api->eng, &errors, &failed);
		ok = sl_health_ok(&api->health, errors, failed);
	}
	if (ok)
		sl_http_reply(req, 200, "text/plain; charset=utf-8", "ok\n", 3);
	else
		sl_http_reply(req, 500, "text/plain; charset=utf-8", "error\n",
			      6);
}

static void serve_metrics(struct sl_http_api *api, struct evhttp_request *req)
{
	struct sl_engine *eng = api->eng;
	const struct sl_metrics_text_opts opts = {
	    .filter = sl_metrics_filter_internal,
	};

	if (eng->m_uptime)
		sl_metric_set(eng->m_uptime,
			      (double)(sl_mono_ns() - eng->start_mono_ns) /
				  1e9);
	sl_buf_reset(&api->body);
	if (sl_metrics_text_render(&eng->metrics, &opts, &api->body) < 0) {
		sl_http_reply(req, 503, "text/plain; charset=utf-8",
			      "out of memory\n", 14);
		return;
	}
	sl_http_reply(req, 200, SL_METRICS_TEXT_CONTENT_TYPE, api->body.data,
		      api->body.len);
}

/* "key":["a","b"] */
static int put_names(struct sl_buf *b, const char *key, const char **names,
		     size_t n)
{
	if (sl_buf_append(b, "\"", 1) < 0 ||
	    sl_buf_append(b, key, strlen(key)) < 0 ||
	    sl_buf_append(b, "\":[", 3) < 0)
		return -SL_ENOMEM;
	for (size_t i = 0; i < n; i++)
		if ((i && sl_buf_append(b, ",", 1) < 0) ||
		    sl_json_append_string(b, names[i], strlen(names[i])) < 0)
			return -SL_ENOMEM;
	return sl_buf_append(b, "]", 1);
}

/* {"sluice":{"version","edition","plugins":{"inputs","filters","outputs"}}} */
static int build_info(struct sl_engine *eng, struct sl_buf *b)
{
	static const char head[] = "{\"sluice\":{\"version\":";
	static const char mid[] = ",\"edition\":\"Community\",\"plugins\":{";
	const char *names[256];
	size_t n = 0;

	if (sl_buf_append(b, head, sizeof(head) - 1) < 0 ||
	    sl_json_append_string(b, SLUICE_VERSION, strlen(SLUICE_VERSION)) <
		0 ||
	    sl_buf_append(b, mid, sizeof(mid) - 1) < 0)
		return -SL_ENOMEM;
	for (size_t i = 0; sl_input_plugins[i] && n < SL_ARRAY_LEN(names); i++)
		names[n++] = sl_input_plugins[i]->name;
	if (put_names(b, "inputs", names, n) < 0 ||
	    sl_buf_append(b, ",", 1) < 0)
		return -SL_ENOMEM;
	/* built-in filters, then those loaded from Plugins_File */
	n = 0;
	for (size_t i = 0; sl_filter_plugins[i] && n < SL_ARRAY_LEN(names); i++)
		names[n++] = sl_filter_plugins[i]->name;
	for (size_t i = 0; i < eng->n_loaded && n < SL_ARRAY_LEN(names); i++)
		names[n++] = eng->loaded[i].filter->name;
	if (put_names(b, "filters", names, n) < 0 ||
	    sl_buf_append(b, ",", 1) < 0)
		return -SL_ENOMEM;
	n = 0;
	for (size_t i = 0; sl_output_plugins[i] && n < SL_ARRAY_LEN(names); i++)
		names[n++] = sl_output_plugins[i]->name;
	if (put_names(b, "outputs", names, n) < 0 ||
	    sl_buf_append(b, "}}}\n", 4) < 0)
		return -SL_ENOMEM;
	return 0;
}

static void serve_info(struct sl_http_api *api, struct evhttp_request *req)
{
	sl_buf_reset(&api->body);
	if (build_info(api->eng, &api->body) < 0) {
		sl_http_reply(req, 503, "text/plain; charset=utf-8",
			      "out of memory\n", 14);
		return;
	}
	sl_http_reply(req, 200, "application/json", api->body.data,
		      api->body.len);
}

static void api_cb(struct evhttp_request *req, void *arg)
{
	struct sl_http_api *api = arg;
	const char *path = sl_http_path(req);
	void (*serve)(struct sl_http_api *, struct evhttp_request *) = NULL;

	if (strcmp(path, "/") == 0)
		serve = serve_info;
	else if (strcmp(path, "/api/v1/metrics/prometheus") == 0)
		serve = serve_metrics;
	else if (strcmp(path, "/api/v1/health") == 0)
		serve = serve_health;
	if (!serve) {
		sl_http_reply(req, 404, "text/plain; charset=utf-8",
			      "not found\n", 10);
		return;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		sl_http_reply(req, 405, "text/plain; charset=utf-8",
			      "method not allowed\n", 19);
		return;
	}
	serve(api, req);
}

int sl_http_api_start(struct sl_engine *eng)
{
	const struct sl_service *svc = &eng->service;
	struct sl_http_api *api;
	uint64_t errors, failed;

	if (!svc->http_server || eng->http_api)
		return 0;
	api = calloc(1, sizeof(*api));
	if (!api) {
		sl_log(SL_LOG_ERROR, "http_server", "out of memory");
		return -SL_ENOMEM;
	}
	api->eng = eng;
	eng->http_api = api;
	api->http = sl_http_listen(eng->base, svc->http_listen,
				   (int)svc->http_port, "http_server");
	if (!api->http)
		return -SL_EIO;
	evhttp_set_gencb(api->http, api_cb, api);
	if (svc->health_check) {
		struct timeval second = {.tv_sec = 1};

		output_totals(eng, &errors, &failed);
		api->hc_timer =
		    event_new(eng->base, -1, EV_PERSIST, hc_tick, api);
		if (!api->hc_timer ||
		    sl_health_init(
			&api->health, svc->hc_period, svc->hc_errors_count,
			svc->hc_retry_failure_count, errors, failed) < 0) {
			sl_log(SL_LOG_ERROR, "http_server", "out of memory");
			return -SL_ENOMEM;
		}
		evtimer_add(api->hc_timer, &second);
	}
	sl_log(SL_LOG_INFO, "http_server", "listening on %s:%lld",
	       svc->http_listen, (long long)svc->http_port);
	return 0;
}

void sl_http_api_stop(struct sl_engine *eng)
{
	struct sl_http_api *api = eng ? eng->http_api : NULL;

	if (!api)
		return;
	if (api->hc_timer)
		event_free(api->hc_timer);
	if (api->http)
		evhttp_free(api->http);
	sl_health_destroy(&api->health);
	sl_buf_destroy(&api->body);
	free(api);
	eng->http_api = NULL;
}
