/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_http_api.h - the service HTTP API ([SERVICE] HTTP_Server On):
 * GET / (name, version, plugins), GET /api/v1/metrics/prometheus (internal
 * metrics) and GET /api/v1/health (Fluent Bit's Health_Check rule). Also
 * the listening helper the other HTTP servers of the engine thread share.
 */
#ifndef SL_HTTP_API_H
#define SL_HTTP_API_H

#include "sl_common.h"

#include <stdbool.h>

struct sl_engine;
struct event_base;
struct evhttp;
struct evhttp_request;

/*
 * Starts the API when HTTP_Server is On (otherwise does nothing). Engine
 * thread, from sl_engine_start(). Returns 0, or a negative code after
 * logging one error line (port in use: a start-up failure, exit 2).
 */
int sl_http_api_start(struct sl_engine *eng);
/* Closes the server and frees its state. Idempotent; NULL-safe. */
void sl_http_api_stop(struct sl_engine *eng);

/*
 * An evhttp server on `base` listening on host:port with sluice's limits
 * (16 KiB of headers, small bodies, 10 s timeouts) and every method let
 * through to the callbacks (which answer 405 themselves). `who` names the
 * component in the error logged on failure (address in use, bad host).
 * Returns the server (free with evhttp_free) or NULL.
 */
struct evhttp *sl_http_listen(struct event_base *base, const char *host,
			      int port, const char *who);

/*
 * Sends a complete reply: status, Content-Type, a copy of `body` (len
 * bytes), plus `Allow: GET` on 405. Engine thread.
 */
void sl_http_reply(struct evhttp_request *req, int code, const char *ctype,
		   const void *body, size_t len);
/* The request's path without query ("/" when empty). Borrowed from req. */
const char *sl_http_path(struct evhttp_request *req);

/*
 * Fluent Bit's health rule: the service is unhealthy when, over the last
 * HC_Period seconds, output errors exceed HC_Errors_Count or failed retries
 * exceed HC_Retry_Failure_Count. Totals are snapshotted once a second
 * (sl_health_tick); the period's counts are the live totals minus the
 * oldest snapshot still inside the period. Pure state, no clock: testable.
 */
struct sl_health {
	uint64_t *errors, *failed; /* ring of snapshots, owned */
	size_t cap, n, head;	   /* head: index of the oldest */
	uint64_t errors_limit, failed_limit;
};

/* period_s >= 1. Takes the first snapshot from the totals at start. */
int sl_health_init(struct sl_health *h, int64_t period_s, int64_t errors_limit,
		   int64_t failed_limit, uint64_t errors, uint64_t failed);
void sl_health_destroy(struct sl_health *h);
/* One snapshot of the totals; called every second. */
void sl_health_tick(struct sl_health *h, uint64_t errors, uint64_t failed);
/* True while healthy, given the current totals. */
bool sl_health_ok(const struct sl_health *h, uint64_t errors, uint64_t failed);

#endif
