/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_httpd.c - the ingesting inputs' HTTP server on a real loopback
 * socket: a client that trickles its request slower than the whole-request
 * deadline (but faster than the idle timeout) is disconnected instead of
 * holding the connection forever. Requests themselves are covered by the
 * witness and in_http tests.
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
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sl_httpd.h"
#include "sl_log.h"

struct trickle {
	struct event_base *base;
	int fd;
	size_t sent;
	bool closed;      /* the server closed the connection */
	struct event *tick;
};

static const char partial[] = "POST /api/events HTTP/1.1\r\nHost: x\r\n"
			      "X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";

static int on_headers(void *arg, struct sl_httpd_req *req)
{
	(void)arg;
	(void)req;
	return 0;
}

static void on_request(void *arg, struct sl_httpd_req *req)
{
	(void)arg;
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
		.timeout_s = 10,        /* never reached: a byte every 200 ms */
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_trickling_request_is_cut_at_its_deadline),
	};
	sl_log_set_level(SL_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
