/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_http_client.c - the HTTP client of the HTTP outputs, on one libcurl
 * easy handle per client (so connections are kept alive between requests),
 * plus the pure helpers: gzip bodies and Retry-After parsing.
 *
 * A client belongs to one worker thread; nothing here locks. It never
 * interprets a status: that is the output's job.
 */
#include "sl_http_client.h"
#include "sl_curl.h"

#include <ctype.h>
#include <libdeflate.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define DEFAULT_CONNECT_TIMEOUT 10.0
#define DEFAULT_TIMEOUT		60.0
#define DEFAULT_MAX_RESPONSE	(4u * 1024u * 1024u)

struct sl_http_client {
	CURL *curl;
	struct sl_http_client_opts o;
	char *base;	   /* "http(s)://host:port", owned */
	char *bearer;	   /* "Authorization: Bearer ...", owned, or NULL */
	char *host_header; /* "Host: vhost:port" when tls.vhost, or NULL */
	struct sl_buf url; /* scratch: base + uri */
	struct sl_buf gz;  /* scratch: compressed body */
	/* Owned, made at the first gzip request and kept for the client's
	 * life: a level-6 compressor is 656 KB of tables, so allocating it
	 * per request is an mmap, 164 page faults and a munmap each time
	 * (callgrind counts the same instructions either way: bench_deflate
	 * "fresh" against "deflate"). */
	struct libdeflate_compressor *deflate;
	size_t max_response;
	struct sl_http_response *cur; /* response being filled by callbacks */
	const struct sl_http_request *req; /* its request (body_sink) */
	bool sink_stopped;
};

/* ---- pure helpers ---------------------------------------------------------
 */

/* zlib's level vocabulary (-1: default, 0-9) as libdeflate's (0-12). */
static int gzip_level(int level)
{
	return level < 0 || level > 9 ? SL_GZIP_DEFAULT_LEVEL : level;
}

/*
 * One whole gzip member of in[0..len) appended to `out` with compressor
 * `z` (borrowed). libdeflate compresses whole buffers only, which is what
 * a request body is; the bound makes "does not fit" impossible, so a 0
 * result can only be a broken library and is reported as ENOMEM.
 */
static int gzip_with(struct libdeflate_compressor *z, const char *in,
		     size_t len, struct sl_buf *out)
{
	size_t bound = libdeflate_gzip_compress_bound(z, len), n;

	if (sl_buf_reserve(out, bound) < 0)
		return -SL_ENOMEM;
	n = libdeflate_gzip_compress(z, in, len, out->data + out->len, bound);
	if (n == 0)
		return -SL_ENOMEM;
	out->len += n;
	/* sl_buf's terminator, as after an append */
	out->data[out->len] = '\0';
	return 0;
}

int sl_gzip_compress(const char *in, size_t len, int level, struct sl_buf *out)
{
	struct libdeflate_compressor *z;
	int rc;

	z = libdeflate_alloc_compressor(gzip_level(level));
	if (!z)
		return -SL_ENOMEM;
	rc = gzip_with(z, in, len, out);
	libdeflate_free_compressor(z);
	return rc;
}

double sl_http_parse_retry_after(const char *value, double now)
{
	const char *p = value, *e;
	double secs = 0;
	time_t t;
	char tmp[128];
	size_t n;

	if (!value)
		return -1;
	while (*p == ' ' || *p == '\t')
		p++;
	e = p + strlen(p);
	while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
			 e[-1] == '\n'))
		e--;
	if (e == p)
		return -1;
	if (isdigit((unsigned char)*p)) {
		const char *q;

		for (q = p; q < e; q++) {
			if (!isdigit((unsigned char)*q))
				break;
			/* Huge values saturate instead of overflowing. */
			if (secs < 1e12)
				secs = secs * 10 + (*q - '0');
		}
		if (q == e)
			return secs;
		/* Not all digits: an HTTP-date never starts with one. */
		return -1;
	}
	n = (size_t)(e - p);
	if (n >= sizeof(tmp))
		return -1;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	/* The three forms RFC 9110 lets a recipient accept (IMF-fixdate,
	 * RFC 850, asctime); curl_getdate knows them all. */
	if (sl_curl_open("http_client") < 0)
		return -1;
	t = sl_curl.getdate(tmp, NULL);
	if (t == (time_t)-1)
		return -1;
	if ((double)t <= now)
		return 0;
	return (double)t - now;
}

/* ---- libcurl callbacks ----------------------------------------------------
 */

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	struct sl_http_client *c = ud;
	struct sl_http_response *r = c->cur;
	size_t n = size * nmemb, room, take;

	if (c->req && c->req->body_sink && !c->sink_stopped &&
	    c->req->body_sink(c->req->sink_arg, data, n) != 0)
		c->sink_stopped = true;

	room =
	    r->body.len < c->max_response ? c->max_response - r->body.len : 0;
	take = n < room ? n : room;
	if (take < n)
		r->truncated = true;
	/* On ENOMEM the body is cut short, not the transfer: the status is
	 * what matters and it already arrived. */
	if (take && sl_buf_append(&r->body, data, take) < 0)
		r->truncated = true;
	return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
	struct sl_http_client *c = ud;
	size_t n = size * nmemb;
	static const char name[] = "retry-after:";
	char val[128];
	size_t vlen;

	/* A new status line (after 100 Continue, or a redirect) starts over. */
	if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		c->cur->retry_after = -1;
		return n;
	}
	if (n <= sizeof(name) - 1 ||
	    strncasecmp(data, name, sizeof(name) - 1) != 0)
		return n;
	vlen = n - (sizeof(name) - 1);
	if (vlen >= sizeof(val))
		return n;
	memcpy(val, data + sizeof(name) - 1, vlen);
	val[vlen] = '\0';
	c->cur->retry_after =
	    sl_http_parse_retry_after(val, (double)time(NULL));
	return n;
}

/* ---- client -----------------------------------------------------------------
 */

static char *str_printf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static char *str_printf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

static long ms(double secs, double def)
{
	if (!(secs > 0))
		secs = def;
	return (long)ceil(secs * 1000.0);
}

/* Options that never change between requests. 0 or -SL_EINVAL. */
static int setup_handle(struct sl_http_client *c)
{
	const struct sl_http_client_opts *o = &c->o;
	CURL *h = c->curl;
	CURLcode rc = CURLE_OK;

#define SET(opt, val)                                                          \
	do {                                                                   \
		if (rc == CURLE_OK)                                            \
			rc = sl_curl.easy_setopt(h, opt, val);                 \
	} while (0)
	/* Worker threads: no SIGALRM for DNS timeouts. */
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_CONNECTTIMEOUT_MS,
	    ms(o->connect_timeout, DEFAULT_CONNECT_TIMEOUT));
	SET(CURLOPT_TIMEOUT_MS, ms(o->timeout, DEFAULT_TIMEOUT));
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, c);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, c);
	SET(CURLOPT_USERAGENT, "sluice/" SLUICE_VERSION);
	if (o->proxy)
		SET(CURLOPT_PROXY, o->proxy);
	if (o->tls) {
		SET(CURLOPT_SSL_VERIFYPEER, o->tls_verify ? 1L : 0L);
		SET(CURLOPT_SSL_VERIFYHOST, o->tls_verify ? 2L : 0L);
		SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
		if (o->tls_ca_file)
			SET(CURLOPT_CAINFO, o->tls_ca_file);
		if (o->tls_crt_file)
			SET(CURLOPT_SSLCERT, o->tls_crt_file);
		if (o->tls_key_file)
			SET(CURLOPT_SSLKEY, o->tls_key_file);
	}
	if (o->http_user) {
		SET(CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		SET(CURLOPT_USERNAME, o->http_user);
		SET(CURLOPT_PASSWORD, o->http_passwd ? o->http_passwd : "");
	}
#undef SET
	if (rc != CURLE_OK) {
		sl_log(SL_LOG_ERROR, "http_client", "libcurl setup: %s",
		       sl_curl.easy_strerror(rc));
		return -SL_EINVAL;
	}
	return 0;
}

struct sl_http_client *
sl_http_client_create(const struct sl_http_client_opts *o)
{
	struct sl_http_client *c;
	const char *host = o->host && *o->host ? o->host : "127.0.0.1";
	bool v6 = strchr(host, ':') != NULL && host[0] != '[';

	if (sl_curl_open("http_client") < 0)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->o = *o;
	c->max_response =
	    o->max_response ? o->max_response : DEFAULT_MAX_RESPONSE;
	c->base = str_printf("%s://%s%s%s:%d", o->tls ? "https" : "http",
			     v6 ? "[" : "", host, v6 ? "]" : "", o->port);
	if (!c->base)
		goto err;
	if (o->bearer_token && *o->bearer_token) {
		c->bearer =
		    str_printf("Authorization: Bearer %s", o->bearer_token);
		if (!c->bearer)
			goto err;
	}
	if (o->tls_vhost && *o->tls_vhost) {
		c->host_header =
		    str_printf("Host: %s:%d", o->tls_vhost, o->port);
		if (!c->host_header)
			goto err;
	}
	c->curl = sl_curl.easy_init();
	if (!c->curl) {
		sl_log(SL_LOG_ERROR, "http_client", "curl_easy_init failed");
		goto err;
	}
	if (setup_handle(c) < 0)
		goto err;
	return c;
err:
	sl_http_client_destroy(c);
	return NULL;
}

void sl_http_client_destroy(struct sl_http_client *c)
{
	if (!c)
		return;
	if (c->curl)
		sl_curl.easy_cleanup(c->curl);
	free(c->base);
	free(c->bearer);
	free(c->host_header);
	sl_buf_destroy(&c->url);
	sl_buf_destroy(&c->gz);
	libdeflate_free_compressor(c->deflate);
	free(c);
}

void sl_http_response_destroy(struct sl_http_response *resp)
{
	if (!resp)
		return;
	sl_buf_destroy(&resp->body);
}

static void response_reset(struct sl_http_response *r)
{
	r->status = 0;
	sl_buf_reset(&r->body);
	r->truncated = false;
	r->retry_after = -1;
	r->error[0] = '\0';
}

/* Appends one header line to *list. 0 or -SL_ENOMEM (list kept). */
static int add_header(struct curl_slist **list, const char *line)
{
	struct curl_slist *n = sl_curl.slist_append(*list, line);

	if (!n)
		return -SL_ENOMEM;
	*list = n;
	return 0;
}

/* The vhost is used for SNI and certificate checks through a resolve
 * entry: "vhost:port:<address of host>" is not known without a lookup,
 * so with TLS the URL names the vhost and CONNECT_TO sends it to host. */
static int build_url(struct sl_http_client *c, const char *uri,
		     struct curl_slist **connect_to)
{
	const struct sl_http_client_opts *o = &c->o;
	char *ct;

	sl_buf_reset(&c->url);
	if (o->tls && c->host_header) {
		char *b = str_printf("https://%s:%d", o->tls_vhost, o->port);
		int rc;

		if (!b)
			return -SL_ENOMEM;
		rc = sl_buf_append(&c->url, b, strlen(b));
		free(b);
		if (rc < 0)
			return rc;
		ct = str_printf("%s:%d:%s:%d", o->tls_vhost, o->port,
				o->host && *o->host ? o->host : "127.0.0.1",
				o->port);
		if (!ct)
			return -SL_ENOMEM;
		rc = add_header(connect_to, ct);
		free(ct);
		if (rc < 0)
			return rc;
	} else if (sl_buf_append(&c->url, c->base, strlen(c->base)) < 0) {
		return -SL_ENOMEM;
	}
	if (!uri || uri[0] != '/')
		if (sl_buf_append(&c->url, "/", 1) < 0)
			return -SL_ENOMEM;
	if (uri && sl_buf_append(&c->url, uri, strlen(uri)) < 0)
		return -SL_ENOMEM;
	return sl_buf_append(&c->url, "", 1);
}

int sl_http_client_send(struct sl_http_client *c,
			const struct sl_http_request *req,
			struct sl_http_response *resp)
{
	struct curl_slist *hdrs = NULL, *connect_to = NULL;
	const char *body = req->body ? req->body : "";
	size_t body_len = req->body ? req->body_len : 0;
	char line[256];
	CURLcode rc = CURLE_OK;
	const char *method = req->method ? req->method : "POST";
	int ret = 0;

	response_reset(resp);
	if (build_url(c, req->uri, &connect_to) < 0) {
		ret = -SL_ENOMEM;
		goto out;
	}
	if (req->gzip) {
		sl_buf_reset(&c->gz);
		if (!c->deflate)
			c->deflate =
			    libdeflate_alloc_compressor(SL_GZIP_DEFAULT_LEVEL);
		if (!c->deflate ||
		    gzip_with(c->deflate, body, body_len, &c->gz) < 0) {
			ret = -SL_ENOMEM;
			goto out;
		}
		body = c->gz.data ? c->gz.data : "";
		body_len = c->gz.len;
		if (add_header(&hdrs, "Content-Encoding: gzip") < 0) {
			ret = -SL_ENOMEM;
			goto out;
		}
	}
	if (req->content_type) {
		snprintf(line, sizeof(line), "Content-Type: %s",
			 req->content_type);
		if (add_header(&hdrs, line) < 0) {
			ret = -SL_ENOMEM;
			goto out;
		}
	}
	/* "Expect:" off: libcurl would otherwise send "100-continue" for big
	 * bodies and wait a second for servers that never answer it. */
	if (add_header(&hdrs, "Expect:") < 0 ||
	    (c->bearer && add_header(&hdrs, c->bearer) < 0) ||
	    (c->host_header && !c->o.tls &&
	     add_header(&hdrs, c->host_header) < 0)) {
		ret = -SL_ENOMEM;
		goto out;
	}
	for (const char *const *h = req->headers; h && *h; h++) {
		if (add_header(&hdrs, *h) < 0) {
			ret = -SL_ENOMEM;
			goto out;
		}
	}

	c->cur = resp;
	c->req = req;
	c->sink_stopped = false;
#define SET(opt, val)                                                          \
	do {                                                                   \
		if (rc == CURLE_OK)                                            \
			rc = sl_curl.easy_setopt(c->curl, opt, val);           \
	} while (0)
	SET(CURLOPT_URL, c->url.data);
	SET(CURLOPT_HTTPHEADER, hdrs);
	SET(CURLOPT_CONNECT_TO, connect_to);
	if (strcmp(method, "GET") == 0) {
		SET(CURLOPT_HTTPGET, 1L);
		SET(CURLOPT_CUSTOMREQUEST, (char *)NULL);
	} else {
		SET(CURLOPT_POST, 1L);
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
		SET(CURLOPT_POSTFIELDS, body);
		SET(CURLOPT_CUSTOMREQUEST,
		    strcmp(method, "POST") == 0 ? NULL : method);
	}
#undef SET
	if (rc == CURLE_OK)
		rc = sl_curl.easy_perform(c->curl);
	if (rc == CURLE_OK) {
		sl_curl.easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE,
				     &resp->status);
	} else {
		snprintf(resp->error, sizeof(resp->error), "%s: %s",
			 c->url.data ? c->url.data : "",
			 sl_curl.easy_strerror(rc));
		resp->status = 0;
		ret = -SL_EIO;
	}
	/* Borrowed pointers must not outlive this call. */
	sl_curl.easy_setopt(c->curl, CURLOPT_HTTPHEADER,
			    (struct curl_slist *)NULL);
	sl_curl.easy_setopt(c->curl, CURLOPT_CONNECT_TO,
			    (struct curl_slist *)NULL);
	sl_curl.easy_setopt(c->curl, CURLOPT_POSTFIELDS, (char *)NULL);
	c->cur = NULL;
	c->req = NULL;
out:
	if (ret == -SL_ENOMEM && !resp->error[0])
		snprintf(resp->error, sizeof(resp->error), "out of memory");
	sl_curl.slist_free_all(hdrs);
	sl_curl.slist_free_all(connect_to);
	return ret;
}

char *sl_http_header_line(const char *item)
{
	size_t nlen = strcspn(item, " \t:");
	const char *val = item + nlen;
	char *out;

	while (*val == ' ' || *val == '\t' || *val == ':')
		val++;
	if (nlen == 0 || !*val)
		return NULL;
	if (asprintf(&out, "%.*s: %s", (int)nlen, item, val) < 0)
		return NULL;
	return out;
}

int sl_http_compress_option(const char *value, bool *gzip)
{
	*gzip = false;
	if (!value || !*value || strcasecmp(value, "none") == 0)
		return 0;
	if (strcasecmp(value, "gzip") != 0)
		return -SL_EINVAL;
	*gzip = true;
	return 0;
}

int sl_http_client_cfg_check(struct sl_http_client_cfg *cfg,
			     const struct sl_http_cfg_report *r)
{
	size_t i;
	int rc = 0;

	if (sl_http_compress_option(cfg->compress, &cfg->gzip) < 0) {
		r->report(r->ins, r->line,
			  "%s: compress '%s' is not supported (gzip)", r->who,
			  cfg->compress);
		rc = -SL_ECONFIG;
	}
	cfg->lines = calloc(cfg->header.n + 1, sizeof(*cfg->lines));
	if (!cfg->lines)
		return -SL_ENOMEM;
	cfg->n_lines = 0;
	for (i = 0; i < cfg->header.n; i++) {
		const char *v = cfg->header.items[i].value;
		size_t nlen = strcspn(v, " \t:");
		char *h;

		/* a name, then a value after the blanks or ':' */
		if (nlen == 0 || !v[nlen + strspn(v + nlen, " \t:")]) {
			r->report(r->ins, cfg->header.items[i].line,
				  "%s: header '%s' needs a name and a value",
				  r->who, v);
			rc = -SL_ECONFIG;
			continue;
		}
		h = sl_http_header_line(v);
		if (!h)
			return -SL_ENOMEM;
		cfg->lines[cfg->n_lines++] = h;
	}
	return rc;
}

void sl_http_client_cfg_opts(const struct sl_http_client_cfg *cfg,
			     struct sl_http_client_opts *o)
{
	o->http_user = cfg->http_user;
	o->http_passwd = cfg->http_passwd;
}

void sl_http_client_cfg_destroy(struct sl_http_client_cfg *cfg)
{
	size_t i;

	for (i = 0; cfg->lines && i < cfg->n_lines; i++)
		free(cfg->lines[i]);
	free(cfg->lines);
	cfg->lines = NULL;
	cfg->n_lines = 0;
}
