/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_httpd.c - the ingesting inputs' HTTP server on a real loopback
 * socket: a client that trickles its request slower than the whole-request
 * deadline (but faster than the idle timeout) is disconnected instead of
 * holding the connection forever; a NUL byte or a bare LF in a head is a
 * counted 400 and the server serves the next client; chunked bodies reach
 * the user decoded (413 over the limit, 400 when malformed); connections
 * beyond the per-client limit get a counted 503; an old connection's answer
 * says "Connection: close"; the router answers 404 for an unknown path,
 * 405 with every allowed method for a known one, and hands unmatched
 * requests to a fallback when it has one. Hostile clients at scale are
 * tests/e2e/test_http_abuse.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "sl_httpd.h"
#include "sl_httpd_route.h"
#include "sl_log.h"
#include "sl_metrics.h"

struct trickle {
	struct event_base *base;
	int fd;
	size_t sent;
	bool closed; /* the server closed the connection */
	struct event *tick;
};

static const char partial[] =
    "POST /api/events HTTP/1.1\r\nHost: x\r\n"
    "X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";

static int on_headers(void *arg, struct sl_httpd_req *req)
{
	(void)arg;
	(void)req;
	return 0;
}

/* what the last request handed over */
static char last_body[8192];
static size_t last_len;
static bool last_chunked;

static void on_request(void *arg, struct sl_httpd_req *req)
{
	(void)arg;
	last_len = req->content_length < sizeof(last_body) ? req->content_length
							   : sizeof(last_body);
	memcpy(last_body, req->body, last_len);
	last_chunked = req->chunked;
	sl_httpd_reply(req, 200, "text/plain", "ok", 2, NULL);
}

static const struct sl_httpd_ops ops = {
    .on_headers = on_headers,
    .on_request = on_request,
};

/* Every 200 ms: one more byte, or notice that the server hung up. */
static void tick(evutil_socket_t fd, short what, void *arg)
{
	struct trickle *t = arg;
	struct timeval tv = {0, 200000};
	char buf[64];

	(void)fd;
	(void)what;
	if (recv(t->fd, buf, sizeof(buf), MSG_DONTWAIT) == 0 ||
	    (t->sent < sizeof(partial) - 1 &&
	     send(t->fd, partial + t->sent, 1, MSG_NOSIGNAL) < 0 &&
	     (errno == EPIPE || errno == ECONNRESET))) {
		t->closed = true;
		event_base_loopexit(t->base, NULL);
		return;
	}
	if (t->sent < sizeof(partial) - 1)
		t->sent++;
	evtimer_add(t->tick, &tv);
}

static int connect_to(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void a_trickling_request_is_cut_at_its_deadline(void **state)
{
	struct event_base *base = event_base_new();
	struct sl_httpd_conf conf = {
	    .listen = "127.0.0.1",
	    .port = 0,
	    .max_headers = 16384,
	    .max_body = 4096,
	    .timeout_s = 10,	    /* never reached: a byte every 200 ms */
	    .request_timeout_s = 1, /* the whole request */
	    .who = "test",
	};
	struct sl_httpd *srv = sl_httpd_start(base, &conf, &ops, NULL);
	struct trickle t = {.base = base};
	struct timeval give_up = {5, 0};

	(void)state;
	assert_non_null(srv);
	t.fd = connect_to(sl_httpd_port(srv));
	t.tick = evtimer_new(base, tick, &t);
	tick(-1, 0, &t);
	event_base_loopexit(base, &give_up);
	event_base_dispatch(base);
	assert_true(t.closed);
	/* it was cut early, not after the idle timeout or the whole header */
	assert_true(t.sent < sizeof(partial) - 1);
	assert_true(t.sent >= 3);
	event_free(t.tick);
	close(t.fd);
	sl_httpd_stop(srv);
	event_base_free(base);
}

/* ---- a blocking client in a thread, the server loop in the test's ------ */

struct run {
	struct event_base *base;
	struct event *poll;
	int port;
	void (*client)(struct run *);
	atomic_bool done;
};

static void poll_done(evutil_socket_t fd, short what, void *arg)
{
	struct run *r = arg;
	struct timeval tv = {0, 20000};

	(void)fd;
	(void)what;
	if (atomic_load(&r->done))
		event_base_loopexit(r->base, NULL);
	else
		evtimer_add(r->poll, &tv);
}

static void *client_main(void *arg)
{
	struct run *r = arg;

	r->client(r);
	atomic_store(&r->done, true);
	return NULL;
}

/* what serve() serves with: the plain ops, or a router */
static const struct sl_httpd_ops *serve_ops = &ops;
static void *serve_arg;

/* Serves with `conf` until r->client returns; the registry may be NULL. */
static void serve(struct sl_httpd_conf *conf, struct sl_metrics *reg,
		  void (*client)(struct run *))
{
	struct run r = {.client = client};
	struct sl_httpd *srv;
	pthread_t th;

	r.base = event_base_new();
	conf->listen = "127.0.0.1";
	conf->who = "test";
	conf->metrics = reg;
	srv = sl_httpd_start(r.base, conf, serve_ops, serve_arg);
	assert_non_null(srv);
	r.port = sl_httpd_port(srv);
	r.poll = evtimer_new(r.base, poll_done, &r);
	poll_done(-1, 0, &r);
	assert_int_equal(pthread_create(&th, NULL, client_main, &r), 0);
	event_base_dispatch(r.base);
	pthread_join(th, NULL);
	event_free(r.poll);
	sl_httpd_stop(srv);
	event_base_free(r.base);
}

static int dial(int port)
{
	struct timeval tv = {5, 0};
	int fd = connect_to(port);

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* Reads one answer (head + Content-Length body) or until EOF. */
static size_t read_answer(int fd, char *buf, size_t cap)
{
	size_t got = 0;
	ssize_t n;

	while (got + 1 < cap &&
	       (n = recv(fd, buf + got, cap - got - 1, 0)) > 0) {
		const char *end, *cl;

		got += (size_t)n;
		buf[got] = '\0';
		end = strstr(buf, "\r\n\r\n");
		cl = strstr(buf, "Content-Length: ");
		if (end && cl && cl < end &&
		    got >= (size_t)(end + 4 - buf) + strtoul(cl + 16, NULL, 10))
			break;
	}
	buf[got] = '\0';
	return got;
}

/* One request on a new connection; the answer's status, or -1. */
static int ask(int port, const char *req, size_t len, char *resp, size_t cap)
{
	int fd = dial(port), status = -1;

	if (send(fd, req, len, MSG_NOSIGNAL) == (ssize_t)len &&
	    read_answer(fd, resp, cap) > 0 &&
	    sscanf(resp, "HTTP/1.1 %d", &status) != 1)
		status = -1;
	close(fd);
	return status;
}

static double series_value(struct sl_metrics *reg, const char *family,
			   const char *label)
{
	struct sl_metric_family *f = sl_metrics_find(reg, family);

	for (struct sl_metric_series *s = f ? f->series : NULL; s; s = s->next)
		if (strcmp(s->label_values[1], label) == 0)
			return sl_metric_value(s);
	return -1;
}

#define S(lit) lit, sizeof(lit) - 1

static void bad_heads_client(struct run *r)
{
	char resp[1024];

	assert_int_equal(ask(r->port,
			     S("POST /api/events HTTP/1.1\r\nHost: x\r\n"
			       "X-A: a\0b\r\n\r\n"),
			     resp, sizeof(resp)),
			 400);
	assert_int_equal(
	    ask(r->port, S("GET / HTTP/1.1\nHost: x\n\n"), resp, sizeof(resp)),
	    400);
	assert_int_equal(ask(r->port, S("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
			     resp, sizeof(resp)),
			 200);
}

static void nul_and_bare_lf_are_counted_400s(void **state)
{
	struct sl_httpd_conf conf = {
	    .max_headers = 16384, .max_body = 4096, .timeout_s = 5};
	struct sl_metrics reg;

	(void)state;
	sl_metrics_init(&reg);
	serve(&conf, &reg, bad_heads_client);
	assert_true(series_value(&reg, "sluice_http_requests_refused_total",
				 "400") == 2);
	sl_metrics_destroy(&reg);
}

static void chunked_client(struct run *r)
{
	char resp[1024], big[6000];
	int n;

	assert_int_equal(ask(r->port,
			     S("POST /x HTTP/1.1\r\nHost: x\r\n"
			       "Transfer-Encoding: chunked\r\n\r\n"
			       "4\r\nabcd\r\n3;x=\"y\"\r\nefg\r\n0\r\n"
			       "T: v\r\n\r\n"),
			     resp, sizeof(resp)),
			 200);
	assert_true(last_chunked);
	assert_int_equal(last_len, 7);
	assert_memory_equal(last_body, "abcdefg", 7);
	n = snprintf(big, sizeof(big),
		     "POST /x HTTP/1.1\r\nHost: x\r\n"
		     "Transfer-Encoding: chunked\r\n\r\n"
		     "800\r\n%02048d\r\n800\r\n%02048d\r\n1\r\n",
		     0, 0);
	assert_int_equal(ask(r->port, big, (size_t)n, resp, sizeof(resp)), 413);
	assert_int_equal(ask(r->port,
			     S("POST /x HTTP/1.1\r\nHost: x\r\n"
			       "Transfer-Encoding: chunked\r\n\r\n"
			       "4\r\nabcdX\r\n0\r\n\r\n"),
			     resp, sizeof(resp)),
			 400);
}

static void chunked_bodies_reach_the_user_decoded(void **state)
{
	struct sl_httpd_conf conf = {
	    .max_headers = 16384, .max_body = 4096, .timeout_s = 5};

	(void)state;
	serve(&conf, NULL, chunked_client);
}

static void per_client_client(struct run *r)
{
	char resp[1024];
	int a = dial(r->port), b = dial(r->port), fd;

	/* the limit is 2: a third connection is answered 503 and closed */
	assert_int_equal(ask(r->port, S("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
			     resp, sizeof(resp)),
			 503);
	close(a);
	/* once one closed, a new connection is served */
	for (int i = 0; i < 100; i++) {
		fd = dial(r->port);
		if (send(fd, S("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
			 MSG_NOSIGNAL) > 0 &&
		    read_answer(fd, resp, sizeof(resp)) > 0 &&
		    strncmp(resp, "HTTP/1.1 200", 12) == 0) {
			close(fd);
			break;
		}
		close(fd);
		usleep(20000); /* the server may not have seen the close yet */
		resp[0] = '\0';
	}
	assert_int_equal(strncmp(resp, "HTTP/1.1 200", 12), 0);
	close(b);
}

static void connections_beyond_the_per_client_limit_are_refused(void **state)
{
	struct sl_httpd_conf conf = {.max_headers = 16384,
				     .max_body = 4096,
				     .timeout_s = 5,
				     .max_conns_per_client = 2};
	struct sl_metrics reg;

	(void)state;
	sl_metrics_init(&reg);
	serve(&conf, &reg, per_client_client);
	assert_true(series_value(&reg, "sluice_http_connections_refused_total",
				 "client_limit") >= 1);
	assert_true(series_value(&reg, "sluice_http_connections_refused_total",
				 "total_limit") == 0);
	sl_metrics_destroy(&reg);
}

static void lifetime_client(struct run *r)
{
	char resp[1024];
	int fd = dial(r->port);

	assert_true(
	    send(fd, S("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), MSG_NOSIGNAL) > 0);
	assert_true(read_answer(fd, resp, sizeof(resp)) > 0);
	assert_null(strstr(resp, "Connection: close"));
	usleep(1200000); /* past lifetime_s */
	assert_true(
	    send(fd, S("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), MSG_NOSIGNAL) > 0);
	assert_true(read_answer(fd, resp, sizeof(resp)) > 0);
	assert_non_null(strstr(resp, "Connection: close"));
	/* and the server does close it */
	assert_int_equal(recv(fd, resp, sizeof(resp), 0), 0);
	close(fd);
}

static void an_old_connection_is_told_to_close(void **state)
{
	struct sl_httpd_conf conf = {.max_headers = 16384,
				     .max_body = 4096,
				     .timeout_s = 5,
				     .lifetime_s = 1};

	(void)state;
	serve(&conf, NULL, lifetime_client);
}

/* ---- the router ------------------------------------------------------- */

static void answer(struct sl_httpd_req *req, const char *what)
{
	char body[64];
	int n = snprintf(body, sizeof(body), "%s %s %zu", what, req->method,
			 req->content_length);

	sl_httpd_reply(req, 200, "text/plain", body, (size_t)n, NULL);
}

static void on_thing(void *arg, struct sl_httpd_req *req)
{
	(void)arg;
	answer(req, "thing");
}

static int on_early(void *arg, struct sl_httpd_req *req)
{
	(void)arg;
	sl_httpd_reply(req, 204, NULL, NULL, 0, NULL);
	return 1;
}

static int fallback_headers(void *arg, struct sl_httpd_req *req)
{
	(void)arg;
	(void)req;
	return 0;
}

static void fallback_request(void *arg, struct sl_httpd_req *req)
{
	(void)arg;
	answer(req, "fallback");
}

static const struct sl_httpd_route routes[] = {
    {.method = "GET", .path = "/thing", .on_request = on_thing},
    {.method = "POST", .path = "/thing", .on_request = on_thing},
    {.method = "GET", .path = "/early", .on_headers = on_early},
};

static void router_client(struct run *r)
{
	char resp[1024];

	assert_int_equal(ask(r->port,
			     S("GET /thing?q=1 HTTP/1.1\r\nHost: x\r\n\r\n"),
			     resp, sizeof(resp)),
			 200);
	assert_non_null(strstr(resp, "\r\n\r\nthing GET 0"));
	assert_int_equal(ask(r->port,
			     S("POST /thing HTTP/1.1\r\nHost: x\r\n"
			       "Content-Length: 3\r\n\r\nabc"),
			     resp, sizeof(resp)),
			 200);
	assert_non_null(strstr(resp, "thing POST 3"));
	assert_int_equal(ask(r->port,
			     S("DELETE /thing HTTP/1.1\r\nHost: x\r\n\r\n"),
			     resp, sizeof(resp)),
			 405);
	assert_non_null(strstr(resp, "\r\nAllow: GET, POST\r\n"));
	assert_int_equal(ask(r->port,
			     S("GET /early HTTP/1.1\r\nHost: x\r\n\r\n"), resp,
			     sizeof(resp)),
			 204);
	assert_int_equal(ask(r->port,
			     S("POST /early HTTP/1.1\r\nHost: x\r\n\r\n"), resp,
			     sizeof(resp)),
			 405);
	assert_non_null(strstr(resp, "\r\nAllow: GET\r\n"));
	/* a path the table lacks: 404, its prefix is no match */
	assert_int_equal(ask(r->port,
			     S("GET /thing/x HTTP/1.1\r\nHost: x\r\n\r\n"),
			     resp, sizeof(resp)),
			 404);
}

static void routes_answer_404_405_with_allow(void **state)
{
	struct sl_httpd_conf conf = {
	    .max_headers = 16384, .max_body = 4096, .timeout_s = 5};
	struct sl_httpd_router router = {.routes = routes,
					 .n_routes = SL_ARRAY_LEN(routes)};

	(void)state;
	serve_ops = &sl_httpd_route_ops;
	serve_arg = &router;
	serve(&conf, NULL, router_client);
	serve_ops = &ops;
	serve_arg = NULL;
}

static void fallback_client(struct run *r)
{
	char resp[1024];

	/* unknown path, and a known path with another method: both its */
	assert_int_equal(ask(r->port,
			     S("GET /any/path HTTP/1.1\r\nHost: x\r\n\r\n"),
			     resp, sizeof(resp)),
			 200);
	assert_non_null(strstr(resp, "fallback GET 0"));
	assert_int_equal(ask(r->port,
			     S("PUT /thing HTTP/1.1\r\nHost: x\r\n"
			       "Content-Length: 2\r\n\r\nab"),
			     resp, sizeof(resp)),
			 200);
	assert_non_null(strstr(resp, "fallback PUT 2"));
	assert_int_equal(ask(r->port,
			     S("GET /thing HTTP/1.1\r\nHost: x\r\n\r\n"), resp,
			     sizeof(resp)),
			 200);
	assert_non_null(strstr(resp, "thing GET 0"));
}

static void unmatched_requests_go_to_the_fallback(void **state)
{
	struct sl_httpd_conf conf = {
	    .max_headers = 16384, .max_body = 4096, .timeout_s = 5};
	struct sl_httpd_router router = {
	    .routes = routes,
	    .n_routes = SL_ARRAY_LEN(routes),
	    .fallback = {.on_headers = fallback_headers,
			 .on_request = fallback_request},
	};

	(void)state;
	serve_ops = &sl_httpd_route_ops;
	serve_arg = &router;
	serve(&conf, NULL, fallback_client);
	serve_ops = &ops;
	serve_arg = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(a_trickling_request_is_cut_at_its_deadline),
	    cmocka_unit_test(nul_and_bare_lf_are_counted_400s),
	    cmocka_unit_test(chunked_bodies_reach_the_user_decoded),
	    cmocka_unit_test(
		connections_beyond_the_per_client_limit_are_refused),
	    cmocka_unit_test(an_old_connection_is_told_to_close),
	    cmocka_unit_test(routes_answer_404_405_with_allow),
	    cmocka_unit_test(unmatched_requests_go_to_the_fallback),
	};
	sl_log_set_level(SL_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
