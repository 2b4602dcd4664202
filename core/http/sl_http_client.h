/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_http_client.h - the HTTP client shared by the outputs that speak HTTP
 * (loki, es, http): one client per worker thread (a libcurl easy handle, so
 * connections are kept alive), TLS options, basic and bearer auth, gzip
 * request bodies, bounded response bodies, Retry-After parsing.
 *
 * It sends one request and reports what came back; deciding what a status
 * means (retry, drop, partial success) is the output's job.
 */
#ifndef SL_HTTP_CLIENT_H
#define SL_HTTP_CLIENT_H

#include "sl_common.h"

#include <stdbool.h>
#include <stddef.h>

/* Connection settings; strings are borrowed for the client's lifetime. */
struct sl_http_client_opts {
	const char *host;
	int port;
	bool tls;
	bool tls_verify;
	const char *tls_ca_file;
	const char *tls_crt_file;
	const char *tls_key_file;
	const char *tls_vhost; /* SNI / Host override, may be NULL */
	const char *http_user; /* basic auth when set */
	const char *http_passwd;
	const char *bearer_token; /* Authorization: Bearer, when set */
	const char *proxy; /* "http://host:port" (out_http Proxy); NULL: none */
	double connect_timeout; /* seconds; 0: 10 s */
	double timeout;		/* whole request, seconds; 0: 60 s */
	size_t max_response;	/* bytes of response body kept; 0: 4 MiB */
};

struct sl_http_request {
	const char *method;	  /* "POST", "PUT", "GET" */
	const char *uri;	  /* path and query, starting with '/' */
	const char *content_type; /* NULL: none */
	const char *const
	    *headers;	  /* extra "Name: value" lines, NULL-terminated */
	const char *body; /* borrowed */
	size_t body_len;
	bool gzip; /* compress body, add Content-Encoding: gzip */
	/*
	 * When set, every response body byte is passed here as it arrives,
	 * whatever its size (resp->body still keeps only max_response bytes):
	 * for readers that stream. A non-zero return stops the passing for
	 * this response; the transfer goes on. `sink_arg` is borrowed.
	 */
	int (*body_sink)(void *sink_arg, const char *data, size_t len);
	void *sink_arg;
};

struct sl_http_response {
	long status;	    /* 0 when no response arrived */
	struct sl_buf body; /* owned; truncated at max_response */
	bool truncated;
	double retry_after; /* seconds from Retry-After; < 0: absent */
	char error[256];    /* transport error text when status == 0 */
};

struct sl_http_client;

/* NULL on ENOMEM or when libcurl cannot be set up (logged). */
struct sl_http_client *
sl_http_client_create(const struct sl_http_client_opts *o);
void sl_http_client_destroy(struct sl_http_client *c);

/*
 * Sends `req` and fills `resp` (reset first; reusable across calls).
 * Returns 0 when a response arrived, whatever its status; -SL_EIO when
 * none did (connection refused, timeout, TLS failure: resp->error says
 * which); -SL_ENOMEM.
 */
int sl_http_client_send(struct sl_http_client *c,
			const struct sl_http_request *req,
			struct sl_http_response *resp);
void sl_http_response_destroy(struct sl_http_response *resp);

/*
 * A Fluent Bit `Header` option value ("Name value", or "Name: value") as
 * a header line "Name: value" (malloc'd). NULL when it has no name or no
 * value, or on ENOMEM.
 */
char *sl_http_header_line(const char *item);

/*
 * The `Compress` option of the HTTP outputs: NULL, "" or "none", or "gzip".
 * Sets *gzip; returns 0, or -SL_EINVAL for anything else.
 */
int sl_http_compress_option(const char *value, bool *gzip);

/*
 * The client options loki, es and http share, as one config-map fragment:
 * a plugin embeds the struct in its ctx and lists the entries with the
 * SL_HTTP_CFG_* macros (one per option, so each plugin keeps the order of
 * its `-h`), or all four with SL_HTTP_CLIENT_CFG. Names, types and
 * descriptions live here only.
 */
struct sl_http_client_cfg {
	/* config map */
	char *http_user;
	char *http_passwd;
	char *compress;
	struct sl_cfg_multi header;
	/* from sl_http_client_cfg_check */
	bool gzip;
	char **lines; /* Header values as "Name: value", NULL-terminated */
	size_t n_lines;
};

#define SL_HTTP_CFG_USER(ctx_type, member)                                     \
	{                                                                      \
		.name = "http_user", .type = SL_CFG_STR,                       \
		.offset = offsetof(ctx_type, member.http_user),                \
		.desc = "basic authentication user"                            \
	}
#define SL_HTTP_CFG_PASSWD(ctx_type, member)                                   \
	{                                                                      \
		.name = "http_passwd", .type = SL_CFG_STR,                     \
		.offset = offsetof(ctx_type, member.http_passwd),              \
		.desc = "basic authentication password"                        \
	}
#define SL_HTTP_CFG_COMPRESS(ctx_type, member)                                 \
	{                                                                      \
		.name = "compress", .type = SL_CFG_STR,                        \
		.offset = offsetof(ctx_type, member.compress),                 \
		.desc = "gzip: compress request bodies"                        \
	}
#define SL_HTTP_CFG_HEADER(ctx_type, member)                                   \
	{                                                                      \
		.name = "header", .type = SL_CFG_STR, .flags = SL_CFG_MULTI,   \
		.offset = offsetof(ctx_type, member.header),                   \
		.desc = "NAME VALUE: an extra HTTP header"                     \
	}
#define SL_HTTP_CLIENT_CFG(ctx_type, member)                                   \
	SL_HTTP_CFG_USER(ctx_type, member),                                    \
	    SL_HTTP_CFG_PASSWD(ctx_type, member),                              \
	    SL_HTTP_CFG_COMPRESS(ctx_type, member),                            \
	    SL_HTTP_CFG_HEADER(ctx_type, member)

/*
 * Where sl_http_client_cfg_check reports: `report` is sl_plugin_error
 * when called from a plugin (passed in, so core/http needs no engine),
 * `line` the instance's line, `who` the message prefix ("loki").
 */
struct sl_http_cfg_report {
	void (*report)(const struct sl_plugin_instance *ins, int line,
		       const char *fmt, ...) SL_ABI_PRINTF(3, 4);
	const struct sl_plugin_instance *ins;
	int line;
	const char *who;
};

/*
 * Checks Compress (sets cfg->gzip) and every Header (each one a line in
 * cfg->lines), reporting every bad value through `r`. Returns 0,
 * -SL_ECONFIG after reporting, or -SL_ENOMEM. Release with
 * sl_http_client_cfg_destroy, whatever the result.
 */
int sl_http_client_cfg_check(struct sl_http_client_cfg *cfg,
			     const struct sl_http_cfg_report *r);
/* Basic auth of `cfg` into `o` (borrowed: cfg must outlive the client). */
void sl_http_client_cfg_opts(const struct sl_http_client_cfg *cfg,
			     struct sl_http_client_opts *o);
/* Frees cfg->lines (the config map frees the option values). */
void sl_http_client_cfg_destroy(struct sl_http_client_cfg *cfg);

/* The level of Compress gzip request bodies: zlib's default, which is
 * what Fluent Bit sends; libdeflate at 6 is faster and smaller still. */
#define SL_GZIP_DEFAULT_LEVEL 6

/*
 * One gzip member of in[0..len) appended to `out` (libdeflate), at
 * `level` with zlib's meaning (0-9; anything else is the default, 6).
 * It allocates a compressor per call: the client keeps one per worker
 * instead. 0 or -SL_ENOMEM (`out` may have grown, its length is kept).
 */
int sl_gzip_compress(const char *in, size_t len, int level, struct sl_buf *out);

/*
 * Parses a Retry-After value: delay-seconds or an HTTP-date (relative to
 * `now`, seconds since the epoch). Returns seconds (>= 0) or -1.
 */
double sl_http_parse_retry_after(const char *value, double now);

#endif
