/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_httpd_route.c - method + path dispatch over sl_httpd. A request is
 * matched twice (at its headers and once its body is in) rather than the
 * match being stored in the request: tables are a handful of entries and
 * the server's request stays free of user state.
 */
#include "sl_httpd_route.h"

#include <stdio.h>
#include <string.h>

static const struct sl_httpd_route *find(const struct sl_httpd_router *r,
					 const struct sl_httpd_req *req,
					 bool *path_known)
{
	*path_known = false;
	for (size_t i = 0; i < r->n_routes; i++) {
		const struct sl_httpd_route *rt = &r->routes[i];

		if (strcmp(rt->path, req->path) != 0)
			continue;
		*path_known = true;
		if (strcmp(rt->method, req->method) == 0)
			return rt;
	}
	return NULL;
}

/* "GET, POST": the methods the routes have for this path, in table order. */
static void allow_of(const struct sl_httpd_router *r, const char *path,
		     char *out, size_t cap)
{
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < r->n_routes; i++) {
		int n;

		if (strcmp(r->routes[i].path, path) != 0)
			continue;
		n = snprintf(out + len, cap - len, "%s%s", len ? ", " : "",
			     r->routes[i].method);
		if (n < 0 || (size_t)n >= cap - len)
			break; /* a shorter Allow still names a method */
		len += (size_t)n;
	}
}

static void refuse(const struct sl_httpd_router *r, struct sl_httpd_req *req,
		   int status, const char *allow)
{
	static const char ctype[] = "text/plain; charset=utf-8";
	char line[160];
	const char *extra[] = {line, NULL};

	if (r->refuse) {
		r->refuse(r->arg, req, status, allow);
		return;
	}
	if (status == 405) {
		snprintf(line, sizeof(line), "Allow: %s", allow);
		sl_httpd_reply(req, 405, ctype, "method not allowed\n", 19,
			       extra);
	} else {
		sl_httpd_reply(req, 404, ctype, "not found\n", 10, NULL);
	}
}

static int route_headers(void *arg, struct sl_httpd_req *req)
{
	const struct sl_httpd_router *r = arg;
	bool path_known;
	const struct sl_httpd_route *rt = find(r, req, &path_known);
	char allow[128];

	if (rt)
		return rt->on_headers ? rt->on_headers(r->arg, req) : 0;
	if (r->fallback.on_headers)
		return r->fallback.on_headers(r->arg, req);
	if (path_known) {
		allow_of(r, req->path, allow, sizeof(allow));
		refuse(r, req, 405, allow);
	} else {
		refuse(r, req, 404, NULL);
	}
	return 1;
}

static void route_request(void *arg, struct sl_httpd_req *req)
{
	const struct sl_httpd_router *r = arg;
	bool path_known;
	const struct sl_httpd_route *rt = find(r, req, &path_known);

	/* no answer here makes the server answer 500 */
	if (rt && rt->on_request)
		rt->on_request(r->arg, req);
	else if (!rt && r->fallback.on_request)
		r->fallback.on_request(r->arg, req);
}

static void route_refused(void *arg, int status)
{
	const struct sl_httpd_router *r = arg;

	if (r->on_refused)
		r->on_refused(r->arg, status);
}

const struct sl_httpd_ops sl_httpd_route_ops = {
    .on_headers = route_headers,
    .on_request = route_request,
    .on_refused = route_refused,
};
