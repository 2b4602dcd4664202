/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_httpd.h - the one HTTP/1.1 server of sluice: every port (the service
 * API, prometheus_exporter, the http and witness inputs) is one of these,
 * routed by sl_httpd_route, on bufferevents of the engine's loop, plain or
 * TLS. It replaced evhttp, which cannot answer 431 for oversized headers
 * nor let an input refuse a request (401, 503) before its body is read.
 * It frames requests (Content-Length or chunked bodies; heads by
 * sl_http_head), enforces
 * header/body limits, idle timeouts, a per-request deadline, a connection
 * lifetime, an output high-water mark (a client that does not read its
 * answers is not read either), per-client and total connection limits and
 * an accept() back-off; every refusal is counted in the metrics registry
 * when one is given. Meaning is its user's. Engine thread only.
 */
#ifndef SL_HTTPD_H
#define SL_HTTPD_H

#include "sl_common.h"
#include "sl_http_head.h"

#include <stdbool.h>

struct event_base;
struct ssl_ctx_st;
struct sl_metrics;

#define SL_HTTPD_MAX_HEADERS SL_HTTP_HEAD_MAX_FIELDS

struct sl_httpd_header {
	const char *name, *value; /* NUL-terminated, value trimmed */
};

/* One request. Everything is borrowed until the request is answered. */
struct sl_httpd_req {
	const char *method;
	const char *path;  /* the target without its query */
	const char *query; /* after '?', or "" */
	size_t n_headers;
	struct sl_httpd_header headers[SL_HTTPD_MAX_HEADERS];
	bool chunked; /* Transfer-Encoding: chunked; on_headers sees
		       * content_length 0, on_request the decoded length */
	size_t content_length;
	const char *body; /* on_request only: content_length bytes */
	const char *peer; /* remote address, numeric */
	void *conn;	  /* the server's; do not touch */
};

struct sl_httpd_ops {
	/*
	 * Headers are in, the body is not read yet. Return 0 to read it, or
	 * answer with sl_httpd_reply() and return 1: the body is then never
	 * read (auth, routing, busy refusals cost no body bytes).
	 */
	int (*on_headers)(void *arg, struct sl_httpd_req *req);
	/* The whole request. Must answer with sl_httpd_reply() once. */
	void (*on_request)(void *arg, struct sl_httpd_req *req);
	/* Optional: the server itself refused a request (status 400, 413,
	 * 431, 501, 503), for counting. */
	void (*on_refused)(void *arg, int status);
};

struct sl_httpd_conf {
	const char *listen; /* address; NULL or "" for any */
	int port;
	size_t max_headers;    /* request line + headers, bytes */
	size_t max_body;       /* body limit (decoded if chunked): 413 above */
	int timeout_s;	       /* idle read/write timeout */
	int request_timeout_s; /* one request, first byte to answer; 0: 60 */
	int lifetime_s;	       /* a connection's answers say "close" after
				* this long; 0: 600 */
	size_t max_conns;      /* open connections; beyond are closed at once;
				* 0: 1024 */
	size_t max_conns_per_client; /* the same per peer address; 0: 64 */
	size_t out_high_water;	    /* answers queued on a connection before its
				     * requests stop being read; 0: 256 KiB */
	struct ssl_ctx_st *tls;	    /* borrowed, NULL for plain HTTP */
	const char *who;	    /* component name for logs, and the metrics'
				     * `name` label */
	struct sl_metrics *metrics; /* borrowed, may be NULL: where the
				     * sluice_http_* counters go */
};

struct sl_httpd;

/*
 * Listens and serves on `base`. `conf` is copied (its strings are
 * borrowed for the server's life); ops and arg are borrowed. Returns NULL
 * after logging one error line (address in use, bad address).
 */
struct sl_httpd *sl_httpd_start(struct event_base *base,
				const struct sl_httpd_conf *conf,
				const struct sl_httpd_ops *ops, void *arg);
/* Closes the listener and every connection. NULL-safe. */
void sl_httpd_stop(struct sl_httpd *srv);
/* The port actually bound (useful with port 0). */
int sl_httpd_port(const struct sl_httpd *srv);

/*
 * Answers `req`: status line, Content-Type (when ctype), Content-Length,
 * `extra` header lines ("Name: value", NULL-terminated list, may be NULL),
 * then `body` (copied). 0 or -SL_ENOMEM (the connection is then closed).
 */
int sl_httpd_reply(struct sl_httpd_req *req, int status, const char *ctype,
		   const char *body, size_t len, const char *const *extra);

/* The first value of header `name` (case-insensitive), or NULL. */
const char *sl_httpd_header(const struct sl_httpd_req *req, const char *name);

/*
 * The server TLS options every listening input shares (in_http, witness,
 * forward, syslog, opentelemetry), as one config-map fragment over the
 * ctx members `tls`, `tls_crt_file` and `tls_key_file`. Fluent Bit's
 * client-certificate options are accepted without effect: client
 * certificates are not requested (README's differences).
 */
#define SL_HTTPD_TLS_CFG(ctx_type)                                             \
	{.name = "tls",                                                        \
	 .type = SL_CFG_BOOL,                                                  \
	 .def = "off",                                                         \
	 .offset = offsetof(ctx_type, tls),                                    \
	 .desc = "TLS (1.2+) on the listening socket"},                        \
	    {.name = "tls.crt_file",                                           \
	     .type = SL_CFG_STR,                                               \
	     .offset = offsetof(ctx_type, tls_crt_file),                       \
	     .desc = "PEM certificate chain"},                                 \
	    {.name = "tls.key_file",                                           \
	     .type = SL_CFG_STR,                                               \
	     .offset = offsetof(ctx_type, tls_key_file),                       \
	     .desc = "PEM private key"},                                       \
	    {.name = "tls.verify",                                             \
	     .type = SL_CFG_BOOL,                                              \
	     .flags = SL_CFG_IGNORED,                                          \
	     .desc = "accepted; client certificates are not requested"},       \
	    {.name = "tls.ca_file",                                            \
	     .type = SL_CFG_STR,                                               \
	     .flags = SL_CFG_IGNORED,                                          \
	     .desc = "accepted; client certificates are not requested"},       \
	    {.name = "tls.debug",                                              \
	     .type = SL_CFG_INT,                                               \
	     .flags = SL_CFG_IGNORED,                                          \
	     .desc = "accepted"},                                              \
	{                                                                      \
		.name = "tls.vhost", .type = SL_CFG_STR,                       \
		.flags = SL_CFG_IGNORED, .desc = "accepted"                    \
	}

/*
 * A TLS 1.2+ server context from PEM files. Returns NULL with *err set to
 * a static message. Free with sl_httpd_tls_free().
 */
struct ssl_ctx_st *sl_httpd_tls_new(const char *crt_file, const char *key_file,
				    const char **err);
void sl_httpd_tls_free(struct ssl_ctx_st *ctx);

/*
 * What an input's start does: with `tls`, reads the certificate now (a
 * missing file is a start-up failure, and --dry-run never reads it) into
 * *ssl, kept by the caller across restarts and freed with
 * sl_httpd_tls_free; then listens and logs where, as conf->who. Returns the
 * server, or NULL after logging one line.
 */
struct sl_httpd *sl_httpd_serve(struct event_base *base,
				struct sl_httpd_conf *conf, bool tls,
				const char *crt_file, const char *key_file,
				struct ssl_ctx_st **ssl,
				const struct sl_httpd_ops *ops, void *arg);

#endif
