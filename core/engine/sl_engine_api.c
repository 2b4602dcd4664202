/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_engine_api.c - the engine's service HTTP API ([SERVICE] HTTP_Server
 * On) on sl_httpd, the server of every HTTP port of sluice: GET / (build
 * information as JSON), GET /api/v1/metrics/prometheus (the internal
 * metrics, scope NULL), GET /api/v1/health (Fluent Bit's rule over
 * HC_Period, sl_health.c, from per-second snapshots). A body sent with a
 * GET is read under the server's limits and ignored. No other Fluent Bit
 * endpoints (uptime, the v2 API, reload) are served.
 */
#include "sl_engine_int.h"
#include "sl_health.h"
#include "sl_httpd.h"
#include "sl_httpd_route.h"
#include "sl_log.h"
#include "sl_metrics_text.h"
#include "sl_registry.h"

#include <stdlib.h>
#include <string.h>

#ifndef SLUICE_VERSION
#define SLUICE_VERSION "0.1.0"
#endif

#define TEXT "text/plain; charset=utf-8"
/* the API's limits; the rest are sl_httpd's defaults, as for every port */
#define API_MAX_HEADERS (16 * 1024)
#define API_MAX_BODY	4096
#define API_TIMEOUT_S	10

struct sl_engine_api {
	struct sl_engine *eng; /* borrowed: owns this */
	struct sl_httpd *srv;  /* owned */
	struct sl_httpd_router router;
	struct event *hc_timer; /* owned; NULL when Health_Check Off */
	struct sl_health health;
	struct sl_buf body; /* reused response buffer */
};

static void reply(struct sl_httpd_req *req, int status, const char *ctype,
		  const char *body, size_t len)
{
	/* out of memory closes the connection: nothing more to do */
	(void)sl_httpd_reply(req, status, ctype, body, len, NULL);
}

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
	struct sl_engine_api *api = arg;
	uint64_t errors, failed;

	(void)fd;
	(void)what;
	output_totals(api->eng, &errors, &failed);
	sl_health_tick(&api->health, errors, failed);
}

static void serve_health(void *arg, struct sl_httpd_req *req)
{
	struct sl_engine_api *api = arg;
	uint64_t errors, failed;
	bool ok = true;

	if (api->eng->service.health_check) {
		output_totals(api->eng, &errors, &failed);
		ok = sl_health_ok(&api->health, errors, failed);
	}
	if (ok)
		reply(req, 200, TEXT, "ok\n", 3);
	else
		reply(req, 500, TEXT, "error\n", 6);
}

static void serve_metrics(void *arg, struct sl_httpd_req *req)
{
	struct sl_engine_api *api = arg;
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
		reply(req, 503, TEXT, "out of memory\n", 14);
		return;
	}
	reply(req, 200, SL_METRICS_TEXT_CONTENT_TYPE, api->body.data,
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

static void serve_info(void *arg, struct sl_httpd_req *req)
{
	struct sl_engine_api *api = arg;
	sl_buf_reset(&api->body);
	if (build_info(api->eng, &api->body) < 0) {
		reply(req, 503, TEXT, "out of memory\n", 14);
		return;
	}
	reply(req, 200, "application/json", api->body.data, api->body.len);
}

static const struct sl_httpd_route api_routes[] = {
    {.method = "GET", .path = "/", .on_request = serve_info},
    {.method = "GET",
     .path = "/api/v1/metrics/prometheus",
     .on_request = serve_metrics},
    {.method = "GET", .path = "/api/v1/health", .on_request = serve_health},
};

int sl_engine_api_start(struct sl_engine *eng)
{
	const struct sl_service *svc = &eng->service;
	struct sl_engine_api *api;
	uint64_t errors, failed;

	if (!svc->http_server || eng->api)
		return 0;
	api = calloc(1, sizeof(*api));
	if (!api) {
		sl_log(SL_LOG_ERROR, "http_server", "out of memory");
		return -SL_ENOMEM;
	}
	api->eng = eng;
	eng->api = api;
	api->router = (struct sl_httpd_router){
	    .routes = api_routes,
	    .n_routes = SL_ARRAY_LEN(api_routes),
	    .arg = api,
	};
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
	{
		struct sl_httpd_conf conf = {
		    .listen = svc->http_listen,
		    .port = (int)svc->http_port,
		    .max_headers = API_MAX_HEADERS,
		    .max_body = API_MAX_BODY,
		    .timeout_s = API_TIMEOUT_S,
		    .who = "http_server",
		    .metrics = &eng->metrics,
		};

		/* sl_httpd_serve logs "listening on" or the failure */
		api->srv =
		    sl_httpd_serve(eng->base, &conf, false, NULL, NULL, NULL,
				   &sl_httpd_route_ops, &api->router);
	}
	return api->srv ? 0 : -SL_EIO;
}

void sl_engine_api_stop(struct sl_engine *eng)
{
	struct sl_engine_api *api = eng ? eng->api : NULL;

	if (!api)
		return;
	if (api->hc_timer)
		event_free(api->hc_timer);
	sl_httpd_stop(api->srv);
	sl_health_destroy(&api->health);
	sl_buf_destroy(&api->body);
	free(api);
	eng->api = NULL;
}
