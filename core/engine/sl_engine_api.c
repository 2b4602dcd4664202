/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_engine_api.c - the engine's service HTTP API ([SERVICE] HTTP_Server
 * On) on sl_httpd, the server of every HTTP port of sluice, with Fluent
 * Bit's paths and JSON shapes: GET / (build information), GET
 * /api/v1/metrics/prometheus and /api/v2/metrics/prometheus (the internal
 * metrics, scope NULL, under the names of metrics.names), /api/v2/metrics
 * (cmetrics' text form), /api/v1/metrics (JSON), /api/v1/uptime,
 * /api/v1/health (Fluent Bit's rule over HC_Period, sl_health.c, from
 * per-second snapshots) and /api/v2/health (the same as JSON), and
 * /api/v2/reload (GET: the count; POST/PUT: a reload as SIGHUP, when
 * Hot_Reload is On). A body sent with a GET is read under the server's
 * limits and ignored. Not served: /api/v1/plugins, /api/v1/storage,
 * /api/v1/trace (sluice has no chunk trace).
 */
#include "sl_engine_int.h"
#include "sl_engine_metrics.h"
#include "sl_health.h"
#include "sl_httpd.h"
#include "sl_httpd_route.h"
#include "sl_log.h"
#include "sl_metrics_text.h"
#include "sl_registry.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* {"status","errors","retries_failed","error_limit",...} as Fluent Bit */
static void serve_health_v2(void *arg, struct sl_httpd_req *req)
{
	struct sl_engine_api *api = arg;
	const struct sl_service *svc = &api->eng->service;
	uint64_t errors = 0, failed = 0, total_e, total_f;
	bool ok = true;
	char body[512];
	int n;

	if (svc->health_check) {
		output_totals(api->eng, &total_e, &total_f);
		sl_health_counts(&api->health, total_e, total_f, &errors,
				 &failed);
		ok = sl_health_ok(&api->health, total_e, total_f);
	}
	n = snprintf(body, sizeof(body),
		     "{\"status\":\"%s\",\"errors\":%" PRIu64
		     ",\"retries_failed\":%" PRIu64 ",\"error_limit\":%" PRId64
		     ",\"retry_failure_limit\":%" PRId64
		     ",\"period_limit\":%" PRId64 "}\n",
		     ok ? "ok" : "error", errors, failed, svc->hc_errors_count,
		     svc->hc_retry_failure_count, svc->hc_period);
	reply(req, ok ? 200 : 500, "application/json", body, (size_t)n);
}

/* The metrics endpoints: which body, which content type. */
static void serve_with(struct sl_httpd_req *req, struct sl_engine_api *api,
		       int (*render)(struct sl_engine *, struct sl_buf *),
		       const char *ctype)
{
	sl_buf_reset(&api->body);
	if (render(api->eng, &api->body) < 0) {
		reply(req, 503, TEXT, "out of memory\n", 14);
		return;
	}
	reply(req, 200, ctype, api->body.data, api->body.len);
}

static void serve_metrics(void *arg, struct sl_httpd_req *req)
{
	serve_with(req, arg, sl_engine_metrics_prometheus,
		   SL_METRICS_TEXT_CONTENT_TYPE);
}

static void serve_metrics_text(void *arg, struct sl_httpd_req *req)
{
	serve_with(req, arg, sl_engine_metrics_text, TEXT);
}

static void serve_metrics_json(void *arg, struct sl_httpd_req *req)
{
	serve_with(req, arg, sl_engine_metrics_json, "application/json");
}

static void serve_uptime(void *arg, struct sl_httpd_req *req)
{
	struct sl_engine_api *api = arg;
	uint64_t up = (uint64_t)sl_engine_uptime(api->eng);
	uint64_t d = up / 86400, h = up % 86400 / 3600, m = up % 3600 / 60,
		 s = up % 60;
	char body[256];
	int n = snprintf(body, sizeof(body),
			 "{\"uptime_sec\":%" PRIu64
			 ",\"uptime_hr\":\"sluice has been running: "
			 " %" PRIu64 " day%s, %" PRIu64 " hour%s, %" PRIu64
			 " minute%s and %" PRIu64 " second%s\"}\n",
			 up, d, d == 1 ? "" : "s", h, h == 1 ? "" : "s", m,
			 m == 1 ? "" : "s", s, s == 1 ? "" : "s");

	reply(req, 200, "application/json", body, (size_t)n);
}

static void serve_reload_status(void *arg, struct sl_httpd_req *req)
{
	struct sl_engine_api *api = arg;
	char body[64];
	int n =
	    snprintf(body, sizeof(body), "{\"hot_reload_count\":%" PRIu64 "}\n",
		     sl_engine_reloads(api->eng));

	reply(req, 200, "application/json", body, (size_t)n);
}

/*
 * As Fluent Bit: a reload over HTTP needs Hot_Reload On (a port must not
 * be able to change the pipeline unless asked for), and is the SIGHUP
 * path, signalled to ourselves so that this answer is written before the
 * old pipeline (and this server) goes.
 */
static void serve_reload(void *arg, struct sl_httpd_req *req)
{
	static const char off[] =
	    "{\"reload\":\"not enabled\",\"status\":-1}\n";
	static const char busy[] =
	    "{\"reload\":\"in progress\",\"status\":-2}\n";
	static const char done[] = "{\"reload\":\"done\",\"status\":0}\n";
	struct sl_engine_api *api = arg;
	struct sl_engine *eng = api->eng;

	if (!eng->service.hot_reload) {
		reply(req, 200, "application/json", off, sizeof(off) - 1);
		return;
	}
	if (eng->stopping || eng->next) {
		reply(req, 400, "application/json", busy, sizeof(busy) - 1);
		return;
	}
	if (kill(getpid(), SIGHUP) != 0) {
		reply(req, 500, TEXT, "cannot signal\n", 14);
		return;
	}
	reply(req, 200, "application/json", done, sizeof(done) - 1);
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
    {.method = "GET",
     .path = "/api/v2/metrics/prometheus",
     .on_request = serve_metrics},
    {.method = "GET",
     .path = "/api/v2/metrics",
     .on_request = serve_metrics_text},
    {.method = "GET",
     .path = "/api/v1/metrics",
     .on_request = serve_metrics_json},
    {.method = "GET", .path = "/api/v1/uptime", .on_request = serve_uptime},
    {.method = "GET", .path = "/api/v1/health", .on_request = serve_health},
    {.method = "GET", .path = "/api/v2/health", .on_request = serve_health_v2},
    {.method = "GET",
     .path = "/api/v2/reload",
     .on_request = serve_reload_status},
    {.method = "POST", .path = "/api/v2/reload", .on_request = serve_reload},
    {.method = "PUT", .path = "/api/v2/reload", .on_request = serve_reload},
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
