/* SPDX-License-Identifier: Apache-2.0 */
/*
 * httpd.c - request framing for the ingesting inputs: a connection reads
 * one header block (<= max_headers, else 431), asks its user whether the
 * body is wanted, reads exactly Content-Length bytes (<= max_body, else
 * 413) and hands the request over; answers are queued on the bufferevent.
 * A connection answered before its body was read is closed with a lingering
 * read, so that the client sees the answer rather than a reset. No chunked
 * bodies (411), no pipelining beyond in-order processing, no HTTP/2.
 */
#include "sl_httpd.h"
#include "sl_log.h"

#include <errno.h>
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

enum conn_state {
	C_HEAD,	  /* reading the header block */
	C_BODY,	  /* reading Content-Length bytes */
	C_DONE,	  /* last answer queued; close once it is written */
	C_LINGER, /* answer written; discarding input until EOF or timeout */
};

struct conn {
	struct sl_httpd *srv; /* borrowed: owns this */
	struct bufferevent *bev;
	enum conn_state state;
	bool keep_alive; /* the request allows another one after it */
	bool replied;	 /* the current request has its answer */
	char *head;	 /* owned: the header block, parsed in place */
	struct sl_httpd_req req;
	char peer[64];
	/*
	 * Closes a connection whose request takes longer than
	 * request_timeout_s in all: the idle timeout alone lets a client
	 * that sends one byte every few seconds hold a connection forever.
	 */
	struct event *deadline;
	struct conn *prev, *next;
};

struct sl_httpd {
	struct event_base *base;
	struct sl_httpd_conf conf;
	const struct sl_httpd_ops *ops;
	void *arg;
	struct evconnlistener *lev;
	struct conn *conns; /* every open connection, owned */
	size_t n_conns;
	int port;
	bool warned_full;
};

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
	if (c->deadline)
		event_free(c->deadline);
	if (c->bev)
		bufferevent_free(c->bev);
	free(c->head);
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
	case 411:
		return "Length Required";
	case 413:
		return "Content Too Large";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
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
	/* an unread body cannot be skipped reliably: close after answering */
	bool closing =
	    !c->keep_alive || (c->state == C_HEAD && req->content_length > 0);
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
	if (srv->ops->on_refused)
		srv->ops->on_refused(srv->arg, status);
	finish(c);
}

static bool has_token(const char *value, const char *token)
{
	size_t n = strlen(token);

	for (const char *p = value; p && *p;) {
		p += strspn(p, " \t,");
		if (strncasecmp(p, token, n) == 0 &&
		    (p[n] == '\0' || p[n] == ',' || p[n] == ' ' || p[n] == ';'))
			return true;
		p = strchr(p, ',');
	}
	return false;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

/* Content-Length: digits only, no overflow. */
static int parse_length(const char *s, size_t *out)
{
	size_t v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (SIZE_MAX - 9) / 10)
			return -1;
		v = v * 10 + (size_t)(*s - '0');
	}
	*out = v;
	return 0;
}

/*
 * Parses c->head in place into c->req. Returns 0, or the status to refuse
 * with (400, 411, 431) and *msg.
 */
static int parse_head(struct conn *c, const char **msg)
{
	struct sl_httpd_req *r = &c->req;
	char *p = c->head, *eol, *sp, *version, *q;
	bool have_len = false, http10;
	const char *v;

	*msg = "malformed request\n";
	eol = strstr(p, "\r\n");
	*eol = '\0';
	r->method = p;
	sp = strchr(p, ' ');
	if (!sp || sp == p)
		return 400;
	*sp = '\0';
	r->path = sp + 1;
	version = strchr(sp + 1, ' ');
	if (!version || r->path[0] != '/')
		return 400;
	*version++ = '\0';
	if (strcmp(version, "HTTP/1.1") == 0)
		http10 = false;
	else if (strcmp(version, "HTTP/1.0") == 0)
		http10 = true;
	else
		return 400;
	q = strchr((char *)r->path, '?');
	r->query = "";
	if (q) {
		*q = '\0';
		r->query = q + 1;
	}
	for (p = eol + 2; *p && !(p[0] == '\r' && p[1] == '\n'); p = eol + 2) {
		char *colon;

		eol = strstr(p, "\r\n");
		*eol = '\0';
		colon = strchr(p, ':');
		/* no name, or obsolete line folding */
		if (!colon || colon == p || *p == ' ' || *p == '\t')
			return 400;
		if (r->n_headers == SL_HTTPD_MAX_HEADERS) {
			*msg = "too many header fields\n";
			return 431;
		}
		*colon = '\0';
		if (strpbrk(p, " \t"))
			return 400;
		r->headers[r->n_headers].name = p;
		r->headers[r->n_headers].value = trim(colon + 1);
		r->n_headers++;
	}
	for (size_t i = 0; i < r->n_headers; i++) {
		size_t n;

		if (strcasecmp(r->headers[i].name, "Content-Length") != 0)
			continue;
		if (parse_length(r->headers[i].value, &n) < 0 ||
		    (have_len && n != r->content_length)) {
			*msg = "bad Content-Length\n";
			return 400;
		}
		have_len = true;
		r->content_length = n;
	}
	if (sl_httpd_header(r, "Transfer-Encoding")) {
		*msg =
		    "chunked bodies are not supported: send Content-Length\n";
		return 411;
	}
	v = sl_httpd_header(r, "Connection");
	c->keep_alive = http10 ? (v && has_token(v, "keep-alive"))
			       : !(v && has_token(v, "close"));
	return 0;
}

static void end_request(struct conn *c)
{
	free(c->head);
	c->head = NULL;
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
	struct evbuffer_ptr end;
	const char *msg;
	size_t hlen;
	char first;
	int status;

	/* RFC 9112: ignore empty lines before a request line */
	while (evbuffer_copyout(in, &first, 1) == 1 &&
	       (first == '\r' || first == '\n'))
		evbuffer_drain(in, 1);
	end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	if (end.pos < 0) {
		if (evbuffer_get_length(in) > srv->conf.max_headers)
			refuse(c, 431, "request header fields too large\n");
		return false;
	}
	hlen = (size_t)end.pos + 4;
	if (hlen > srv->conf.max_headers) {
		refuse(c, 431, "request header fields too large\n");
		return false;
	}
	c->head = malloc(hlen + 1);
	if (!c->head) {
		refuse(c, 503, "out of memory\n");
		return false;
	}
	evbuffer_remove(in, c->head, hlen);
	c->head[hlen] = '\0';
	status = parse_head(c, &msg);
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
	if (c->req.content_length > 0) {
		const char *expect = sl_httpd_header(&c->req, "Expect");

		if (expect && strcasecmp(expect, "100-continue") == 0)
			evbuffer_add(bufferevent_get_output(c->bev),
				     "HTTP/1.1 100 Continue\r\n\r\n", 25);
	}
	c->state = C_BODY;
	return true;
}

/* Serves a complete request. Returns true when another may follow. */
static bool read_body(struct conn *c, struct evbuffer *in)
{
	struct sl_httpd *srv = c->srv;
	size_t n = c->req.content_length;

	if (evbuffer_get_length(in) < n)
		return false;
	c->req.body = n ? (const char *)evbuffer_pullup(in, (ev_ssize_t)n) : "";
	if (!c->req.body) {
		refuse(c, 503, "out of memory\n");
		return false;
	}
	srv->ops->on_request(srv->arg, &c->req);
	if (!c->replied) {
		c->keep_alive = false;
		sl_httpd_reply(&c->req, 500, NULL, NULL, 0, NULL);
	}
	evbuffer_drain(in, n);
	end_request(c);
	return c->state == C_HEAD;
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	bool more = true;

	while (more) {
		switch (c->state) {
		case C_HEAD:
			more = evbuffer_get_length(in) > 0 && read_head(c, in);
			break;
		case C_BODY:
			more = read_body(c, in);
			break;
		case C_DONE:
		case C_LINGER:
			evbuffer_drain(in, evbuffer_get_length(in));
			more = false;
			break;
		}
	}
	if (c->state == C_DONE &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		conn_free(c);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct timeval linger = {.tv_sec = LINGER_S};

	if (c->state != C_DONE)
		return;
	if (c->srv->conf.tls) {
		conn_free(c);
		return;
	}
	/* half-close, then drain what the client still sends for a moment:
	 * closing with unread input would reset the connection, and the
	 * client could lose the answer it has not read yet */
	shutdown(bufferevent_getfd(bev), SHUT_WR);
	c->state = C_LINGER;
	bufferevent_set_timeouts(bev, &linger, NULL);
	bufferevent_disable(bev, EV_WRITE);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & BEV_EVENT_CONNECTED)
		return; /* TLS handshake done */
	/* EOF, error or idle timeout: nothing more to answer */
	conn_free(arg);
}

static void on_accept(struct evconnlistener *lev, evutil_socket_t fd,
		      struct sockaddr *sa, int salen, void *arg)
{
	struct sl_httpd *srv = arg;
	struct timeval tv = {.tv_sec = srv->conf.timeout_s};
	struct conn *c;

	(void)lev;
	if (srv->n_conns >= srv->conf.max_conns) {
		if (!srv->warned_full)
			sl_log(SL_LOG_WARN, srv->conf.who,
			       "%zu connections open: refusing more",
			       srv->n_conns);
		srv->warned_full = true;
		close(fd);
		return;
	}
	srv->warned_full = false;
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->srv = srv;
	if (getnameinfo(sa, (socklen_t)salen, c->peer, sizeof(c->peer), NULL, 0,
			NI_NUMERICHOST) != 0)
		strcpy(c->peer, "unknown");
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
	end_request(c);
	c->state = C_HEAD;
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	bufferevent_set_timeouts(c->bev, &tv, &tv);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
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
	if (srv->conf.request_timeout_s <= 0)
		srv->conf.request_timeout_s = 60;
	fd = listen_on(srv);
	if (fd < 0) {
		free(srv);
		return NULL;
	}
	srv->lev = evconnlistener_new(base, on_accept, srv,
				      LEV_OPT_CLOSE_ON_FREE, -1, fd);
	if (!srv->lev) {
		sl_log(SL_LOG_ERROR, conf->who, "cannot serve on port %d",
		       conf->port);
		close(fd);
		free(srv);
		return NULL;
	}
	return srv;
}

void sl_httpd_stop(struct sl_httpd *srv)
{
	if (!srv)
		return;
	if (srv->lev)
		evconnlistener_free(srv->lev);
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
