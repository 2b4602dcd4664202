/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_httpd_route.h - the router every sl_httpd server uses (the service
 * API, prometheus_exporter, witness, in_http): method + exact path to a
 * handler, 404 for an unknown path, 405 with Allow for a known path and
 * another method. It is a set of sl_httpd_ops over a table, so the server
 * and its limits stay one; routing is the only thing it adds.
 */
#ifndef SL_HTTPD_ROUTE_H
#define SL_HTTPD_ROUTE_H

#include "sl_httpd.h"

struct sl_httpd_route {
	const char *method; /* exact, e.g. "GET" */
	const char *path;   /* exact, without query */
	/*
	 * Optional: as sl_httpd_ops.on_headers (answer and return 1, or
	 * return 0 to have the body read). NULL: the body is read.
	 */
	int (*on_headers)(void *arg, struct sl_httpd_req *req);
	/* The whole request (body read, framing checked); answers once.
	 * May be NULL only when on_headers always answers. */
	void (*on_request)(void *arg, struct sl_httpd_req *req);
};

struct sl_httpd_router {
	const struct sl_httpd_route *routes; /* borrowed */
	size_t n_routes;
	/*
	 * Optional: what a request matching no route gets (in_http serves
	 * any path). NULL on_headers: 404, or 405 with Allow when another
	 * method has the path.
	 */
	struct sl_httpd_ops fallback;
	/*
	 * Optional: answers a 404 or 405 (allow: "GET, POST" for 405, else
	 * NULL) in the user's format. NULL: a text/plain answer.
	 */
	void (*refuse)(void *arg, struct sl_httpd_req *req, int status,
		       const char *allow);
	/* Optional: as sl_httpd_ops.on_refused. */
	void (*on_refused)(void *arg, int status);
	void *arg; /* borrowed, handed to every callback */
};

/* The ops to give sl_httpd_start()/sl_httpd_serve() with a router as arg. */
extern const struct sl_httpd_ops sl_httpd_route_ops;

#endif
