/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_httpd.c - request framing for every HTTP port: a connection reads
 * one header block (<= max_headers, else 431; parsed by sl_http_head), asks
 * its user whether the body is wanted, reads exactly Content-Length bytes or
 * decodes a chunked body (<= max_body, else 413) and hands the request over;
 * answers are queued on the bufferevent. A connection answered before its
 * body was read is closed with a lingering read, so that the client sees
 * the answer rather than a reset. Requests are served in order; no HTTP/2.
 *
 * What one client can cost is bounded: the bytes of one head or body, the
 * answers queued up to out_high_water (then its requests are not read until
 * it reads them), one request per request_timeout_s, one connection per
 * lifetime_s, max_conns_per_client connections.
 */
#include "sl_httpd.h"
#include "sl_http_body.h"
#include "sl_log.h"
#include "sl_metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define LINGER_S 2
/* how long the listener rests after accept() failed (EMFILE, ...) */
#define ACCEPT_PAUSE_MS 500
/* warnings about refusals: at most one line per period and reason */
#define WARN_PERIOD_NS (60 * SL_NS_PER_SEC)

enum conn_state {
	C_HEAD,	   /* reading the header block */
	C_BODY,	   /* reading Content-Length bytes */
	C_CHUNKED, /* decoding a chunked body */
	C_DONE,	   /* last answer queued; close once it is written */
	C_LINGER,  /* answer written; discarding input until EOF or timeout */
};

struct conn {
	struct sl_httpd *srv; /* borrowed: owns this */
	struct bufferevent *bev;
	enum conn_state state;
	bool keep_alive; /* the request allows another one after it */
	bool replied;	 /* the current request has its answer */
	bool paused;	 /* not reading: its answers are not being read */
	char *head;	 /* owned: the header block, parsed in place */
	size_t scanned;	 /* head bytes already scanned for its end */
	struct sl_http_head parsed;
	struct sl_httpd_req req;
	struct sl_http_chunked chunk;
	struct sl_buf body; /* owned: a decoded chunked body */
	int64_t born_ns;    /* accept time, for lifetime_s */
	char peer[64];
	/*
	 * Closes a connection whose request takes longer than
	 * request_timeout_s in all: the idle timeout alone lets a client
	 * that sends one byte every few seconds hold a connection forever.
	 */
	struct event *deadline;
	struct conn *prev, *next;
};

/* Why connections or requests were refused: label values, in order. */
enum { RC_CLIENT, RC_TOTAL, RC_N };
static const char *const conn_reasons[RC_N] = {"client_limit", "total_limit"};
enum { TO_DEADLINE, TO_READ, TO_WRITE, TO_N };
static const char *const timeout_reasons[TO_N] = {"request_deadline",
						  "read_idle", "write_stalled"};
static const int refused_codes[] = {400, 408, 411, 413, 431, 501, 503};
#define N_CODES SL_ARRAY_LEN(refused_codes)

struct ratelog {
	int64_t last_ns;
	uint64_t suppressed;
};

struct sl_httpd {
	struct event_base *base;
	struct sl_httpd_conf conf;
	const struct sl_httpd_ops *ops;
	void *arg;
	struct evconnlistener *lev;
	struct event *resume; /* re-enables the listener after a pause */
	struct conn *conns;   /* every open connection, owned */
	size_t n_conns;
	int port;
	struct ratelog warn_conn[RC_N], warn_accept;
	/* borrowed from the registry; NULL without one */
	struct sl_metric_series *m_conn_refused[RC_N];
	struct sl_metric_series *m_req_refused[N_CODES];
	struct sl_metric_series *m_timeout[TO_N];
	struct sl_metric_series *m_accept_err;
	struct sl_metric_series *m_open;
};

static void count(struct sl_metric_series *s)
{
	if (s)
		sl_metric_add(s, 1);
}

/* True when a warning of this kind may be logged now; counts it if not. */
static bool ratelog_ok(struct ratelog *r, uint64_t *suppressed)
{
	int64_t now = sl_mono_ns();

	if (r->last_ns && now - r->last_ns < WARN_PERIOD_NS) {
		r->suppressed++;
		return false;
	}
	r->last_ns = now;
	*suppressed = r->suppressed;
	r->suppressed = 0;
	return true;
}

static void register_metrics(struct sl_httpd *srv)
{
	static const char *const two_reason[] = {"name", "reason"};
	static const char *const two_code[] = {"name", "code"};
	static const char *const one[] = {"name"};
	struct sl_metrics *reg = srv->conf.metrics;
	const char *name = srv->conf.who ? srv->conf.who : "http", *err;
	struct sl_metric_family *f;
	char code[8];

	if (!reg)
		return;
	f = sl_metrics_family(reg, "sluice_http_connections_refused_total",
			      "HTTP server connections closed at accept, by "
			      "reason (client_limit, total_limit)",
			      SL_METRIC_COUNTER, two_reason, 2, NULL, 0, &err);
	for (int i = 0; f && i < RC_N; i++) {
		const char *v[] = {name, conn_reasons[i]};

		f->max_series = 0;
		srv->m_conn_refused[i] = sl_metric_series_get(reg, f, v);
	}
	f = sl_metrics_family(reg, "sluice_http_requests_refused_total",
			      "HTTP requests the server itself refused "
			      "(framing, limits, deadline), by status code",
			      SL_METRIC_COUNTER, two_code, 2, NULL, 0, &err);
	for (size_t i = 0; f && i < N_CODES; i++) {
		const char *v[] = {name, code};

		snprintf(code, sizeof(code), "%d", refused_codes[i]);
		f->max_series = 0;
		srv->m_req_refused[i] = sl_metric_series_get(reg, f, v);
	}
	f = sl_metrics_family(reg, "sluice_http_connections_timed_out_total",
			      "HTTP connections closed by a timeout, by reason "
			      "(request_deadline, read_idle, write_stalled)",
			      SL_METRIC_COUNTER, two_reason, 2, NULL, 0, &err);
	for (int i = 0; f && i < TO_N; i++) {
		const char *v[] = {name, timeout_reasons[i]};

		f->max_series = 0;
		srv->m_timeout[i] = sl_metric_series_get(reg, f, v);
	}
	f = sl_metrics_family(reg, "sluice_http_accept_errors_total",
			      "accept() failures of an HTTP server (EMFILE, "
			      "ENFILE, ...); each pauses its listener",
			      SL_METRIC_COUNTER, one, 1, NULL, 0, &err);
	if (f) {
		const char *v[] = {name};

		f->max_series = 0;
		srv->m_accept_err = sl_metric_series_get(reg, f, v);
	}
	f = sl_metrics_family(reg, "sluice_http_connections",
			      "HTTP server connections open now",
			      SL_METRIC_GAUGE, one, 1, NULL, 0, &err);
	if (f) {
		const char *v[] = {name};

		f->max_series = 0;
		srv->m_open = sl_metric_series_get(reg, f, v);
	}
}

static void count_refused(struct sl_httpd *srv, int status)
{
	for (size_t i = 0; i < N_CODES; i++)
		if (refused_codes[i] == status)
			count(srv->m_req_refused[i]);
}

/* ---- connections -------------------------------------------------------- */

static void conn_free(struct conn *c)
{
	struct sl_httpd *srv = c->srv;

	if (c->prev)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	srv->n_conns--;
	if (srv->m_open)
		sl_metric_set(srv->m_open, (double)srv->n_conns);
	if (c->deadline)
		event_free(c->deadline);
	if (c->bev)
		bufferevent_free(c->bev);
	free(c->head);
	sl_buf_destroy(&c->body);
	free(c);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	sl_log(SL_LOG_DEBUG, c->srv->conf.who,
	       "%s: request not complete after %d s: connection closed",
	       c->peer, c->srv->conf.request_timeout_s);
	count(c->srv->m_timeout[TO_DEADLINE]);
	conn_free(c);
}

static const char *reason_of(int status)
{
	switch (status) {
	case 100:
		return "Continue";
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 202:
		return "Accepted";
	case 204:
		return "No Content";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 411:
		return "Length Required";
	case 413:
		return "Content Too Large";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	default:
		return "Unknown";
	}
}

/* The answer is queued: stop taking requests, close once it is written. */
static void finish(struct conn *c)
{
	c->state = C_DONE;
}

int sl_httpd_reply(struct sl_httpd_req *req, int status, const char *ctype,
		   const char *body, size_t len, const char *const *extra)
{
	struct conn *c = req->conn;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	bool no_body = status == 204 || status == 304 || status < 200;
	/* an unread body cannot be skipped reliably: close after answering;
	 * an old connection is closed too, so that no client keeps one
	 * forever (it reconnects, which resets the per-request limits) */
	bool closing =
	    !c->keep_alive ||
	    (c->state == C_HEAD && (req->content_length > 0 || req->chunked)) ||
	    sl_mono_ns() - c->born_ns >
		(int64_t)c->srv->conf.lifetime_s * SL_NS_PER_SEC;
	int rc = 0;

	if (c->replied)
		return 0;
	c->replied = true;
	if (evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n", status,
				reason_of(status)) < 0 ||
	    (ctype &&
	     evbuffer_add_printf(out, "Content-Type: %s\r\n", ctype) < 0) ||
	    (!no_body &&
	     evbuffer_add_printf(out, "Content-Length: %zu\r\n", len) < 0))
		rc = -SL_ENOMEM;
	for (size_t i = 0; rc == 0 && extra && extra[i]; i++)
		if (evbuffer_add_printf(out, "%s\r\n", extra[i]) < 0)
			rc = -SL_ENOMEM;
	if (rc == 0 && closing &&
	    evbuffer_add(out, "Connection: close\r\n", 19) < 0)
		rc = -SL_ENOMEM;
	if (rc == 0 && evbuffer_add(out, "\r\n", 2) < 0)
		rc = -SL_ENOMEM;
	if (rc == 0 && !no_body && len && evbuffer_add(out, body, len) < 0)
		rc = -SL_ENOMEM;
	if (rc < 0 || closing)
		c->keep_alive = false;
	return rc;
}

const char *sl_httpd_header(const struct sl_httpd_req *req, const char *name)
{
	for (size_t i = 0; i < req->n_headers; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	return NULL;
}

/* The server itself refuses the request (bad framing, limits). */
static void refuse(struct conn *c, int status, const char *msg)
{
	struct sl_httpd *srv = c->srv;

	c->keep_alive = false;
	c->replied = false;
	sl_httpd_reply(&c->req, status, "text/plain; charset=utf-8", msg,
		       strlen(msg), NULL);
	count_refused(srv, status);
	if (srv->ops->on_refused)
		srv->ops->on_refused(srv->arg, status);
	finish(c);
}

/* c->head (hlen bytes) into c->req. Returns 0 or the status to refuse. */
static int parse_head(struct conn *c, size_t hlen, const char **msg)
{
	struct sl_http_head *h = &c->parsed;
	struct sl_httpd_req *r = &c->req;
	int status = sl_http_head_parse(c->head, hlen, h, msg);

	if (status)
		return status;
	r->method = h->method;
	r->path = h->path;
	r->query = h->query;
	r->n_headers = h->n_fields;
	for (size_t i = 0; i < h->n_fields; i++) {
		r->headers[i].name = h->fields[i].name;
		r->headers[i].value = h->fields[i].value;
	}
	r->chunked = h->chunked;
	r->content_length = h->content_length;
	c->keep_alive = h->keep_alive;
	return 0;
}

static void end_request(struct conn *c)
{
	free(c->head);
	c->head = NULL;
	c->scanned = 0;
	/* a decoded body may be Buffer_Max_Size: not kept while idle */
	sl_buf_destroy(&c->body);
	memset(&c->req, 0, sizeof(c->req));
	c->req.conn = c;
	c->req.peer = c->peer;
	c->replied = false;
	c->state = c->keep_alive ? C_HEAD : C_DONE;
	if (c->deadline) {
		/* every request gets the whole allowance from its start */
		struct timeval tv = {.tv_sec = c->srv->conf.request_timeout_s};

		evtimer_add(c->deadline, &tv);
	}
}

/* Reads a header block. Returns true when the connection can go on. */
static bool read_head(struct conn *c, struct evbuffer *in)
{
	struct sl_httpd *srv = c->srv;
	const char *msg, *data;
	char crlf[2];
	size_t avail, n;
	ssize_t hlen;
	int status;

	/* RFC 9112 2.2: ignore empty lines (CRLF) before a request line */
	while (c->scanned == 0 && evbuffer_copyout(in, crlf, 2) == 2 &&
	       crlf[0] == '\r' && crlf[1] == '\n')
		evbuffer_drain(in, 2);
	avail = evbuffer_get_length(in);
	if (avail == 0 ||
	    (avail == 1 && c->scanned == 0 &&
	     evbuffer_copyout(in, crlf, 1) == 1 && crlf[0] == '\r'))
		return false;
	/* scan at most one byte past the limit: enough to know it is over */
	n = avail < srv->conf.max_headers + 1 ? avail
					      : srv->conf.max_headers + 1;
	data = (const char *)evbuffer_pullup(in, (ev_ssize_t)n);
	if (!data) {
		refuse(c, 503, "out of memory\n");
		return false;
	}
	hlen = sl_http_head_end(data, n, &c->scanned);
	if (hlen < 0) {
		refuse(c, 400, "malformed request (NUL byte, bare CR or LF)\n");
		return false;
	}
	if (hlen == 0 || (size_t)hlen > srv->conf.max_headers) {
		if (n > srv->conf.max_headers || hlen > 0)
			refuse(c, 431, "request header fields too large\n");
		return false;
	}
	c->head = malloc((size_t)hlen);
	if (!c->head) {
		refuse(c, 503, "out of memory\n");
		return false;
	}
	evbuffer_remove(in, c->head, (size_t)hlen);
	c->scanned = 0;
	status = parse_head(c, (size_t)hlen, &msg);
	if (status) {
		refuse(c, status, msg);
		return false;
	}
	if (srv->ops->on_headers(srv->arg, &c->req)) {
		if (!c->replied)
			refuse(c, 500, "no answer\n");
		else if (c->keep_alive)
			end_request(c); /* answered without a body to skip */
		else
			finish(c);
		return c->state == C_HEAD;
	}
	if (c->req.content_length > srv->conf.max_body) {
		refuse(c, 413, "body larger than Buffer_Max_Size\n");
		return false;
	}
	if (c->req.content_length > 0 || c->req.chunked) {
		const char *expect = sl_httpd_header(&c->req, "Expect");

		if (expect && strcasecmp(expect, "100-continue") == 0)
			evbuffer_add(bufferevent_get_output(c->bev),
				     "HTTP/1.1 100 Continue\r\n\r\n", 25);
	}
	if (c->req.chunked) {
		/* trailers are bounded like the head they extend */
		sl_http_chunked_init(&c->chunk, srv->conf.max_body,
				     srv->conf.max_headers);
		c->state = C_CHUNKED;
	} else {
		c->state = C_BODY;
	}
	return true;
}

/* Hands a complete request over. Returns true when another may follow. */
static bool serve(struct conn *c)
{
	struct sl_httpd *srv = c->srv;

	srv->ops->on_request(srv->arg, &c->req);
	if (!c->replied) {
		c->keep_alive = false;
		sl_httpd_reply(&c->req, 500, NULL, NULL, 0, NULL);
	}
	return true;
}

/* Serves a complete Content-Length request. */
static bool read_body(struct conn *c, struct evbuffer *in)
{
	size_t n = c->req.content_length;

	if (evbuffer_get_length(in) < n)
		return false;
	c->req.body = n ? (const char *)evbuffer_pullup(in, (ev_ssize_t)n) : "";
	if (!c->req.body) {
		refuse(c, 503, "out of memory\n");
		return false;
	}
	serve(c);
	evbuffer_drain(in, n);
	end_request(c);
	return c->state == C_HEAD;
}

/* Decodes what has come of a chunked body; serves it once complete. */
static bool read_chunked(struct conn *c, struct evbuffer *in)
{
	struct evbuffer_iovec v;
	size_t used;
	int rc = 0;

	while (rc == 0 && evbuffer_peek(in, -1, NULL, &v, 1) > 0) {
		rc = sl_http_chunked_feed(&c->chunk, v.iov_base, v.iov_len,
					  &used, &c->body);
		evbuffer_drain(in, used);
		if (used == 0 && rc == 0)
			break;
	}
	if (rc == -SL_EPARSE)
		refuse(c, 400, "malformed chunked body\n");
	else if (rc == -SL_ETOOBIG)
		refuse(c, 413, "body larger than Buffer_Max_Size\n");
	else if (rc < 0)
		refuse(c, 503, "out of memory\n");
	if (rc != 1)
		return false;
	c->req.body = c->body.data ? c->body.data : "";
	c->req.content_length = c->body.len;
	serve(c);
	end_request(c);
	return c->state == C_HEAD;
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer *out = bufferevent_get_output(bev);
	bool more = true;

	while (more) {
		switch (c->state) {
		case C_HEAD:
			if (evbuffer_get_length(in) == 0) {
				more = false;
				break;
			}
			/* a client that pipelines without reading the answers
			 * is not read either until it catches up: the kernel's
			 * buffers then push back on it, not our memory */
			if (evbuffer_get_length(out) >
			    c->srv->conf.out_high_water) {
				c->paused = true;
				bufferevent_disable(bev, EV_READ);
				more = false;
				break;
			}
			more = read_head(c, in);
			break;
		case C_BODY:
			more = read_body(c, in);
			break;
		case C_CHUNKED:
			more = read_chunked(c, in);
			break;
		case C_DONE:
		case C_LINGER:
			evbuffer_drain(in, evbuffer_get_length(in));
			more = false;
			break;
		}
	}
	if (c->state == C_DONE && evbuffer_get_length(out) == 0)
		conn_free(c);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct timeval linger = {.tv_sec = LINGER_S};

	if (c->paused) {
		/* every answer is out: take requests again, starting with
		 * those already buffered (on_read may free c) */
		c->paused = false;
		bufferevent_enable(bev, EV_READ);
		on_read(bev, c);
		return;
	}
	if (c->state != C_DONE)
		return;
	/* drain what the client still sends for a moment: closing with
	 * unread input would reset the connection, and the client could
	 * lose the answer it has not read yet. Plain HTTP half-closes first;
	 * under TLS a raw shutdown would cut the record stream, so the
	 * client's own close (it was told "Connection: close") ends it. */
	if (!c->srv->conf.tls)
		shutdown(bufferevent_getfd(bev), SHUT_WR);
	c->state = C_LINGER;
	bufferevent_set_timeouts(bev, &linger, NULL);
	bufferevent_disable(bev, EV_WRITE);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED)
		return; /* TLS handshake done */
	if ((what & BEV_EVENT_TIMEOUT) && c->state != C_LINGER)
		count(c->srv->m_timeout[what & BEV_EVENT_WRITING ? TO_WRITE
								 : TO_READ]);
	/* EOF, error or idle timeout: nothing more to answer */
	conn_free(c);
}

/* Connections open from `peer`. */
static size_t conns_from(const struct sl_httpd *srv, const char *peer)
{
	size_t n = 0;

	for (const struct conn *c = srv->conns; c; c = c->next)
		n += strcmp(c->peer, peer) == 0;
	return n;
}

/* Closes a connection refused at accept, with a 503 when it fits. */
static void refuse_conn(struct sl_httpd *srv, evutil_socket_t fd, int why,
			const char *peer)
{
	static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
				   "Content-Length: 0\r\nRetry-After: 1\r\n"
				   "Connection: close\r\n\r\n";
	uint64_t suppressed;

	count(srv->m_conn_refused[why]);
	if (ratelog_ok(&srv->warn_conn[why], &suppressed)) {
		if (why == RC_CLIENT)
			sl_log(SL_LOG_WARN, srv->conf.who,
			       "%s has %zu connections open: refusing more "
			       "(%" PRIu64 " refusals not logged)",
			       peer, srv->conf.max_conns_per_client,
			       suppressed);
		else
			sl_log(SL_LOG_WARN, srv->conf.who,
			       "%zu connections open: refusing more "
			       "(%" PRIu64 " refusals not logged)",
			       srv->n_conns, suppressed);
	}
	/* plain HTTP only: a TLS client would read garbage; never blocks */
	if (!srv->conf.tls &&
	    send(fd, busy, sizeof(busy) - 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		(void)0;
	close(fd);
}

static void on_accept(struct evconnlistener *lev, evutil_socket_t fd,
		      struct sockaddr *sa, int salen, void *arg)
{
	struct sl_httpd *srv = arg;
	struct timeval tv = {.tv_sec = srv->conf.timeout_s};
	char peer[64];
	struct conn *c;

	(void)lev;
	if (getnameinfo(sa, (socklen_t)salen, peer, sizeof(peer), NULL, 0,
			NI_NUMERICHOST) != 0)
		strcpy(peer, "unknown");
	if (srv->n_conns >= srv->conf.max_conns) {
		refuse_conn(srv, fd, RC_TOTAL, peer);
		return;
	}
	if (conns_from(srv, peer) >= srv->conf.max_conns_per_client) {
		refuse_conn(srv, fd, RC_CLIENT, peer);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->srv = srv;
	c->born_ns = sl_mono_ns();
	memcpy(c->peer, peer, sizeof(peer));
	if (srv->conf.tls) {
		SSL *ssl = SSL_new(srv->conf.tls);

		c->bev =
		    ssl ? bufferevent_openssl_socket_new(
			      srv->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
			      BEV_OPT_CLOSE_ON_FREE)
			: NULL;
		if (!c->bev && ssl)
			SSL_free(ssl);
		if (c->bev)
			bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	} else {
		c->bev = bufferevent_socket_new(srv->base, fd,
						BEV_OPT_CLOSE_ON_FREE);
	}
	if (!c->bev) {
		close(fd);
		free(c);
		return;
	}
	c->deadline = evtimer_new(srv->base, on_deadline, c);
	if (!c->deadline) {
		bufferevent_free(c->bev);
		free(c);
		return;
	}
	c->next = srv->conns;
	if (srv->conns)
		srv->conns->prev = c;
	srv->conns = c;
	srv->n_conns++;
	if (srv->m_open)
		sl_metric_set(srv->m_open, (double)srv->n_conns);
	end_request(c);
	c->state = C_HEAD;
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	bufferevent_set_timeouts(c->bev, &tv, &tv);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
	struct sl_httpd *srv = arg;

	(void)fd;
	(void)what;
	evconnlistener_enable(srv->lev);
}

/*
 * accept() failed for a reason other than a retriable one: most often
 * EMFILE/ENFILE, which stays true while the pending connection waits, so
 * retrying at once would spin. The listener rests for a moment instead
 * (pending clients wait in the backlog) and one line per period says so.
 */
static void on_accept_error(struct evconnlistener *lev, void *arg)
{
	struct sl_httpd *srv = arg;
	int err = EVUTIL_SOCKET_ERROR();
	struct timeval tv = {.tv_sec = ACCEPT_PAUSE_MS / 1000,
			     .tv_usec = (ACCEPT_PAUSE_MS % 1000) * 1000};
	uint64_t suppressed;

	count(srv->m_accept_err);
	if (ratelog_ok(&srv->warn_accept, &suppressed))
		sl_log(SL_LOG_WARN, srv->conf.who,
		       "accept: %s (%zu connections open): not accepting for "
		       "%d ms (%" PRIu64 " such errors not logged)",
		       strerror(err), srv->n_conns, ACCEPT_PAUSE_MS,
		       suppressed);
	evconnlistener_disable(lev);
	evtimer_add(srv->resume, &tv);
}

/* ---- the listener ------------------------------------------------------- */

static int listen_on(struct sl_httpd *srv)
{
	const struct sl_httpd_conf *cf = &srv->conf;
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *res = NULL;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	char service[16], host[NI_MAXHOST];
	int fd = -1, on = 1, rc;
	const char *listen_host = cf->listen && *cf->listen ? cf->listen : NULL;

	snprintf(service, sizeof(service), "%d", cf->port);
	rc = getaddrinfo(listen_host, service, &hints, &res);
	if (rc != 0) {
		sl_log(SL_LOG_ERROR, cf->who, "cannot listen on %s:%d: %s",
		       listen_host ? listen_host : "*", cf->port,
		       gai_strerror(rc));
		return -1;
	}
	fd = socket(res->ai_family,
		    res->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    res->ai_protocol);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) < 0 ||
	    listen(fd, 128) < 0) {
		sl_log(SL_LOG_ERROR, cf->who, "cannot listen on %s:%d: %s",
		       listen_host ? listen_host : "*", cf->port,
		       strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd >= 0 && getsockname(fd, (struct sockaddr *)&ss, &sslen) == 0 &&
	    getnameinfo((struct sockaddr *)&ss, sslen, host, sizeof(host),
			service, sizeof(service),
			NI_NUMERICHOST | NI_NUMERICSERV) == 0)
		srv->port = atoi(service);
	return fd;
}

struct sl_httpd *sl_httpd_start(struct event_base *base,
				const struct sl_httpd_conf *conf,
				const struct sl_httpd_ops *ops, void *arg)
{
	struct sl_httpd *srv = calloc(1, sizeof(*srv));
	int fd;

	if (!srv) {
		sl_log(SL_LOG_ERROR, conf->who, "out of memory");
		return NULL;
	}
	srv->base = base;
	srv->conf = *conf;
	srv->ops = ops;
	srv->arg = arg;
	srv->port = conf->port;
	if (!srv->conf.max_conns)
		srv->conf.max_conns = 1024;
	if (!srv->conf.max_conns_per_client)
		srv->conf.max_conns_per_client = 64;
	if (!srv->conf.out_high_water)
		srv->conf.out_high_water = 256 * 1024;
	if (srv->conf.request_timeout_s <= 0)
		srv->conf.request_timeout_s = 60;
	if (srv->conf.lifetime_s <= 0)
		srv->conf.lifetime_s = 600;
	srv->resume = evtimer_new(base, on_resume, srv);
	fd = srv->resume ? listen_on(srv) : -1;
	if (fd < 0) {
		if (srv->resume)
			event_free(srv->resume);
		free(srv);
		return NULL;
	}
	srv->lev = evconnlistener_new(base, on_accept, srv,
				      LEV_OPT_CLOSE_ON_FREE, -1, fd);
	if (!srv->lev) {
		sl_log(SL_LOG_ERROR, conf->who, "cannot serve on port %d",
		       conf->port);
		close(fd);
		event_free(srv->resume);
		free(srv);
		return NULL;
	}
	evconnlistener_set_error_cb(srv->lev, on_accept_error);
	register_metrics(srv);
	return srv;
}

void sl_httpd_stop(struct sl_httpd *srv)
{
	if (!srv)
		return;
	if (srv->lev)
		evconnlistener_free(srv->lev);
	if (srv->resume)
		event_free(srv->resume);
	while (srv->conns)
		conn_free(srv->conns);
	free(srv);
}

int sl_httpd_port(const struct sl_httpd *srv)
{
	return srv->port;
}

/* ---- TLS ---------------------------------------------------------------- */

struct ssl_ctx_st *sl_httpd_tls_new(const char *crt_file, const char *key_file,
				    const char **err)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	*err = "cannot create a TLS context";
	if (!ctx)
		return NULL;
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
		goto fail;
	*err = "cannot load tls.crt_file (PEM certificate chain)";
	if (!crt_file || SSL_CTX_use_certificate_chain_file(ctx, crt_file) != 1)
		goto fail;
	*err = "cannot load tls.key_file (PEM private key)";
	if (!key_file ||
	    SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1)
		goto fail;
	*err = "tls.key_file does not match tls.crt_file";
	if (SSL_CTX_check_private_key(ctx) != 1)
		goto fail;
	*err = NULL;
	return ctx;
fail:
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return NULL;
}

void sl_httpd_tls_free(struct ssl_ctx_st *ctx)
{
	SSL_CTX_free(ctx);
}

struct sl_httpd *sl_httpd_serve(struct event_base *base,
				struct sl_httpd_conf *conf, bool tls,
				const char *crt_file, const char *key_file,
				struct ssl_ctx_st **ssl,
				const struct sl_httpd_ops *ops, void *arg)
{
	struct sl_httpd *srv;
	const char *err;

	if (tls && !*ssl) {
		*ssl = sl_httpd_tls_new(crt_file, key_file, &err);
		if (!*ssl) {
			sl_log(SL_LOG_ERROR, conf->who, "tls: %s (%s, %s)", err,
			       crt_file, key_file);
			return NULL;
		}
	}
	conf->tls = tls ? *ssl : NULL;
	srv = sl_httpd_start(base, conf, ops, arg);
	if (srv)
		sl_log(SL_LOG_INFO, conf->who, "listening on %s:%d (%s)",
		       conf->listen && *conf->listen ? conf->listen : "*",
		       sl_httpd_port(srv), tls ? "https" : "http");
	return srv;
}
