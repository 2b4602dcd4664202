/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_http_client.c - the shared HTTP client: Retry-After in both forms,
 * gzip bodies inflated back with zlib, and real requests against a tiny
 * one-connection-at-a-time HTTP server thread on 127.0.0.1 (status, body
 * cap, headers sent, Retry-After received, keep-alive, refused connection).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include "sl_http_client.h"

/* ---- Retry-After ----------------------------------------------------------
 */

static void test_retry_after_seconds(void **state)
{
	(void)state;
	assert_true(sl_http_parse_retry_after("120", 0) == 120.0);
	assert_true(sl_http_parse_retry_after("  7 \r\n", 0) == 7.0);
	assert_true(sl_http_parse_retry_after("0", 0) == 0.0);
	assert_true(sl_http_parse_retry_after("99999999999999999999999", 0) >=
		    1e12);
}

static void test_retry_after_date(void **state)
{
	/* Sun, 06 Nov 1994 08:49:37 GMT = 784111777 */
	double now = 784111777.0 - 30;

	(void)state;
	assert_true(sl_http_parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT",
					      now) == 30.0);
	/* RFC 850 and asctime forms */
	assert_true(sl_http_parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT",
					      now) == 30.0);
	assert_true(
	    sl_http_parse_retry_after("Sun Nov  6 08:49:37 1994", now) == 30.0);
	/* a date in the past means now */
	assert_true(sl_http_parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT",
					      now + 100) == 0.0);
}

static void test_retry_after_invalid(void **state)
{
	(void)state;
	assert_true(sl_http_parse_retry_after(NULL, 0) < 0);
	assert_true(sl_http_parse_retry_after("", 0) < 0);
	assert_true(sl_http_parse_retry_after("   ", 0) < 0);
	assert_true(sl_http_parse_retry_after("-5", 0) < 0);
	assert_true(sl_http_parse_retry_after("5s", 0) < 0);
	assert_true(sl_http_parse_retry_after("1.5", 0) < 0);
	assert_true(sl_http_parse_retry_after("soon", 0) < 0);
}

/* ---- gzip -----------------------------------------------------------------
 */

static void inflate_all(const char *in, size_t len, struct sl_buf *out)
{
	z_stream zs;
	char tmp[4096];
	int rc;

	memset(&zs, 0, sizeof(zs));
	assert_int_equal(inflateInit2(&zs, 15 + 16), Z_OK);
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)len;
	do {
		zs.next_out = (Bytef *)tmp;
		zs.avail_out = sizeof(tmp);
		rc = inflate(&zs, Z_NO_FLUSH);
		assert_true(rc == Z_OK || rc == Z_STREAM_END);
		assert_int_equal(
		    sl_buf_append(out, tmp, sizeof(tmp) - zs.avail_out), 0);
	} while (rc != Z_STREAM_END);
	/* one member, nothing after its trailer */
	assert_int_equal(zs.avail_in, 0);
	inflateEnd(&zs);
}

static void test_gzip_round_trip(void **state)
{
	struct sl_buf in = {0}, gz = {0}, back = {0};
	size_t i;

	(void)state;
	for (i = 0; i < 20000; i++) {
		char line[64];
		int n = snprintf(line, sizeof(line),
				 "{\"i\":%zu,\"msg\":\"hello\"}\n",
				 i * 7919 % 1000);
		assert_int_equal(sl_buf_append(&in, line, (size_t)n), 0);
	}
	assert_int_equal(sl_buf_append(&gz, "x", 1), 0); /* appends */
	assert_int_equal(sl_gzip_compress(in.data, in.len, 6, &gz), 0);
	assert_true(gz.len > 10 && gz.len < in.len / 4);
	/* gzip magic after the byte that was there */
	assert_int_equal((unsigned char)gz.data[1], 0x1f);
	assert_int_equal((unsigned char)gz.data[2], 0x8b);
	inflate_all(gz.data + 1, gz.len - 1, &back);
	assert_int_equal(back.len, in.len);
	assert_memory_equal(back.data, in.data, in.len);
	sl_buf_destroy(&in);
	sl_buf_destroy(&gz);
	sl_buf_destroy(&back);
}

static void test_gzip_empty(void **state)
{
	struct sl_buf gz = {0}, back = {0};

	(void)state;
	assert_int_equal(sl_gzip_compress("", 0, 1, &gz), 0);
	assert_true(gz.len >= 18);
	inflate_all(gz.data, gz.len, &back);
	assert_int_equal(back.len, 0);
	sl_buf_destroy(&gz);
	sl_buf_destroy(&back);
}

/* xorshift64: bytes no compressor can shrink, the same on every run. */
static void random_bytes(struct sl_buf *b, size_t n)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;

	assert_int_equal(sl_buf_reserve(b, n), 0);
	while (b->len < n) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		b->data[b->len++] = (char)(x >> 56);
	}
}

/* 1 MB of noise round-trips at every level, stored nearly as it is: the
 * bound covers the worst case and no level expands it by more than the
 * block headers and the gzip wrapper. */
static void test_gzip_incompressible(void **state)
{
	static const int levels[] = {0, 1, 6, 9, -1};
	struct sl_buf in = {0}, gz = {0}, back = {0};
	size_t i;

	(void)state;
	random_bytes(&in, 1024 * 1024);
	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		sl_buf_reset(&gz);
		sl_buf_reset(&back);
		assert_int_equal(
		    sl_gzip_compress(in.data, in.len, levels[i], &gz), 0);
		assert_true(gz.len >= in.len);
		assert_true(gz.len < in.len + 1024);
		inflate_all(gz.data, gz.len, &back);
		assert_int_equal(back.len, in.len);
		assert_memory_equal(back.data, in.data, in.len);
	}
	sl_buf_destroy(&in);
	sl_buf_destroy(&gz);
	sl_buf_destroy(&back);
}

/* zlib's level meanings: 0 stores, 1-9 compress, and a level outside 0-9
 * is the default (6). (Higher is not always smaller: libdeflate's 6 beats
 * its 9 on this input, so sizes are not compared between levels.) */
static void test_gzip_levels(void **state)
{
	struct sl_buf in = {0}, gz = {0}, back = {0};
	size_t len[11], i;
	int level;

	(void)state;
	for (i = 0; i < 20000; i++) {
		char line[96];
		int n = snprintf(line, sizeof(line),
				 "{\"i\":%zu,\"msg\":\"request %zu done\"}\n",
				 i * 7919 % 1000, i * 104729 % 4093);
		assert_int_equal(sl_buf_append(&in, line, (size_t)n), 0);
	}
	for (level = 0; level <= 10; level++) {
		sl_buf_reset(&gz);
		sl_buf_reset(&back);
		assert_int_equal(sl_gzip_compress(in.data, in.len,
						  level == 10 ? 42 : level,
						  &gz),
				 0);
		len[level] = gz.len;
		inflate_all(gz.data, gz.len, &back);
		assert_int_equal(back.len, in.len);
		assert_memory_equal(back.data, in.data, in.len);
	}
	assert_true(len[0] > in.len);
	for (level = 1; level <= 9; level++)
		assert_true(len[level] < in.len / 3);
	assert_int_equal(len[10], len[6]);
	sl_buf_destroy(&in);
	sl_buf_destroy(&gz);
	sl_buf_destroy(&back);
}

/* ---- a tiny HTTP server
 * ------------------------------------------------------ */

struct srv {
	int lfd;
	int port;
	pthread_t th;
	const char *reply; /* full response bytes, sent for each request */
	int requests;	   /* served */
	int connections;   /* accepted */
	char last[65536];  /* last request: headers + body */
	size_t last_len;
	/* The test reads last/requests/connections and sets reply; the server
	 * thread writes them. Socket I/O orders the two in practice, but it is
	 * no synchronisation TSan knows, so both sides take this lock. */
	pthread_mutex_t mu;
	char in[65536]; /* server thread only: the request being read */
};

/* Reads one request (headers and Content-Length body) into s->last.
 * Returns 1, or 0 when the peer closed. */
static int read_request(struct srv *s, int fd)
{
	size_t len = 0, need = 0;
	char *hend = NULL;

	for (;;) {
		ssize_t n;

		if (hend && len >= need)
			break;
		if (len >= sizeof(s->in) - 1)
			return 0;
		n = read(fd, s->in + len, sizeof(s->in) - 1 - len);
		if (n <= 0)
			return 0;
		len += (size_t)n;
		s->in[len] = '\0';
		if (!hend && (hend = strstr(s->in, "\r\n\r\n"))) {
			const char *cl = strcasestr(s->in, "content-length:");

			need = (size_t)(hend + 4 - s->in);
			if (cl && cl < hend)
				need += strtoul(cl + 15, NULL, 10);
		}
	}
	pthread_mutex_lock(&s->mu);
	memcpy(s->last, s->in, len + 1);
	s->last_len = len;
	pthread_mutex_unlock(&s->mu);
	return 1;
}

static void *serve(void *arg)
{
	struct srv *s = arg;
	int fd;

	while ((fd = accept(s->lfd, NULL, NULL)) >= 0) {
		pthread_mutex_lock(&s->mu);
		s->connections++;
		pthread_mutex_unlock(&s->mu);
		while (read_request(s, fd)) {
			const char *reply;

			pthread_mutex_lock(&s->mu);
			s->requests++;
			reply = s->reply;
			pthread_mutex_unlock(&s->mu);
			if (write(fd, reply, strlen(reply)) < 0)
				break;
			if (strstr(reply, "Connection: close"))
				break;
		}
		close(fd);
	}
	return NULL;
}

static void srv_start(struct srv *s, const char *reply)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);

	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->mu, NULL);
	s->reply = reply;
	s->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->lfd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->lfd, 8), 0);
	assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&a, &al), 0);
	s->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&s->th, NULL, serve, s), 0);
}

static void srv_stop(struct srv *s)
{
	shutdown(s->lfd, SHUT_RDWR);
	close(s->lfd);
	pthread_join(s->th, NULL);
	pthread_mutex_destroy(&s->mu);
}

/* Orders the server thread's last writes before the test's reads that
 * follow, and the test's reads before the server's next writes. */
static void srv_sync(struct srv *s)
{
	pthread_mutex_lock(&s->mu);
	pthread_mutex_unlock(&s->mu);
}

static void srv_set_reply(struct srv *s, const char *reply)
{
	pthread_mutex_lock(&s->mu);
	s->reply = reply;
	pthread_mutex_unlock(&s->mu);
}

static struct sl_http_client *client_for(int port, const char *user,
					 const char *token, size_t max)
{
	struct sl_http_client_opts o = {
	    .host = "127.0.0.1",
	    .port = port,
	    .http_user = user,
	    .http_passwd = user ? "secret" : NULL,
	    .bearer_token = token,
	    .timeout = 10,
	    .max_response = max,
	};
	struct sl_http_client *c = sl_http_client_create(&o);

	assert_non_null(c);
	return c;
}

static void test_send_status_and_headers(void **state)
{
	struct srv s;
	struct sl_http_client *c;
	struct sl_http_response r = {0};
	const char *extra[] = {"X-Scope-OrgID: tenant1", NULL};
	struct sl_http_request req = {
	    .method = "POST",
	    .uri = "/loki/api/v1/push",
	    .content_type = "application/json",
	    .headers = extra,
	    .body = "{\"a\":1}",
	    .body_len = 7,
	};

	(void)state;
	srv_start(&s, "HTTP/1.1 429 Too Many Requests\r\n"
		      "Retry-After: 3\r\nContent-Length: 4\r\n\r\nslow");
	c = client_for(s.port, NULL, "tok", 0);
	assert_int_equal(sl_http_client_send(c, &req, &r), 0);
	srv_sync(&s);
	assert_int_equal(r.status, 429);
	assert_true(r.retry_after == 3.0);
	assert_int_equal(r.body.len, 4);
	assert_memory_equal(r.body.data, "slow", 4);
	assert_false(r.truncated);
	assert_non_null(strstr(s.last, "POST /loki/api/v1/push HTTP/1.1\r\n"));
	assert_non_null(strcasestr(s.last, "X-Scope-OrgID: tenant1\r\n"));
	assert_non_null(
	    strcasestr(s.last, "Content-Type: application/json\r\n"));
	assert_non_null(strcasestr(s.last, "Authorization: Bearer tok\r\n"));
	assert_null(strcasestr(s.last, "Expect:"));
	assert_memory_equal(s.last + s.last_len - 7, "{\"a\":1}", 7);
	/* second request on the same connection (keep-alive); Retry-After
	 * does not leak from the previous response */
	srv_set_reply(&s, "HTTP/1.1 204 No Content\r\n\r\n");
	assert_int_equal(sl_http_client_send(c, &req, &r), 0);
	srv_sync(&s);
	assert_int_equal(r.status, 204);
	assert_true(r.retry_after < 0);
	assert_int_equal(r.body.len, 0);
	assert_int_equal(s.requests, 2);
	assert_int_equal(s.connections, 1);
	sl_http_client_destroy(c);
	sl_http_response_destroy(&r);
	srv_stop(&s);
}

static void test_send_basic_gzip_truncated(void **state)
{
	struct srv s;
	struct sl_http_client *c;
	struct sl_http_response r = {0};
	struct sl_buf back = {0};
	const char *hend;
	struct sl_http_request req = {
	    .method = "POST",
	    .uri = "/x",
	    .body = "hello hello hello",
	    .body_len = 17,
	    .gzip = true,
	};

	(void)state;
	srv_start(&s, "HTTP/1.1 400 Bad Request\r\nContent-Length: 10\r\n"
		      "Connection: close\r\n\r\n0123456789");
	c = client_for(s.port, "user", NULL, 4);
	assert_int_equal(sl_http_client_send(c, &req, &r), 0);
	srv_sync(&s);
	assert_int_equal(r.status, 400);
	assert_int_equal(r.body.len, 4);
	assert_memory_equal(r.body.data, "0123", 4);
	assert_true(r.truncated);
	/* "user:secret" in base64 */
	assert_non_null(
	    strcasestr(s.last, "Authorization: Basic dXNlcjpzZWNyZXQ=\r\n"));
	assert_non_null(strcasestr(s.last, "Content-Encoding: gzip\r\n"));
	hend = strstr(s.last, "\r\n\r\n") + 4;
	inflate_all(hend, s.last_len - (size_t)(hend - s.last), &back);
	assert_int_equal(back.len, 17);
	assert_memory_equal(back.data, "hello hello hello", 17);
	sl_buf_destroy(&back);
	sl_http_client_destroy(c);
	sl_http_response_destroy(&r);
	srv_stop(&s);
}

/* The client keeps its compressor between requests: each body is its
 * own complete gzip member (nothing carried over), an empty one too. */
static void test_send_gzip_reused(void **state)
{
	struct srv s;
	struct sl_http_client *c;
	struct sl_http_response r = {0};
	struct sl_buf body = {0}, back = {0};
	const char *hend;
	struct sl_http_request req = {
	    .method = "POST", .uri = "/x", .gzip = true};
	int round;

	(void)state;
	for (int i = 0; i < 2000; i++) {
		char line[48];
		int n = snprintf(line, sizeof(line), "{\"n\":%d}\n", i);

		assert_int_equal(sl_buf_append(&body, line, (size_t)n), 0);
	}
	srv_start(&s, "HTTP/1.1 204 No Content\r\n\r\n");
	c = client_for(s.port, NULL, NULL, 0);
	for (round = 0; round < 3; round++) {
		/* the full body, the last 7 bytes, then nothing */
		size_t len = round == 0 ? body.len : round == 1 ? 7 : 0;

		req.body = body.data + body.len - len;
		req.body_len = len;
		assert_int_equal(sl_http_client_send(c, &req, &r), 0);
		srv_sync(&s);
		assert_int_equal(r.status, 204);
		assert_non_null(
		    strcasestr(s.last, "Content-Encoding: gzip\r\n"));
		hend = strstr(s.last, "\r\n\r\n") + 4;
		sl_buf_reset(&back);
		inflate_all(hend, s.last_len - (size_t)(hend - s.last), &back);
		assert_int_equal(back.len, len);
		if (len)
			assert_memory_equal(back.data, req.body, len);
	}
	assert_int_equal(s.requests, 3);
	sl_buf_destroy(&body);
	sl_buf_destroy(&back);
	sl_http_client_destroy(c);
	sl_http_response_destroy(&r);
	srv_stop(&s);
}

static void test_send_refused(void **state)
{
	struct srv s;
	struct sl_http_client *c;
	struct sl_http_response r = {0};
	struct sl_http_request req = {.method = "POST", .uri = "/"};
	int port;

	(void)state;
	/* a port that was just free: bind, note, close */
	srv_start(&s, "");
	port = s.port;
	srv_stop(&s);
	c = client_for(port, NULL, NULL, 0);
	assert_int_equal(sl_http_client_send(c, &req, &r), -SL_EIO);
	assert_int_equal(r.status, 0);
	assert_true(strlen(r.error) > 0);
	sl_http_client_destroy(c);
	sl_http_response_destroy(&r);
}

/* --- the config-map fragment shared by loki, es and http --- */

struct report_log {
	int n;
	int line[4];
	char msg[4][160];
};

static struct report_log g_log;

static void record_report(const struct sl_plugin_instance *ins, int line,
			  const char *fmt, ...) SL_ABI_PRINTF(3, 4);

static void record_report(const struct sl_plugin_instance *ins, int line,
			  const char *fmt, ...)
{
	va_list ap;

	(void)ins;
	if (g_log.n >= 4)
		return;
	g_log.line[g_log.n] = line;
	va_start(ap, fmt);
	vsnprintf(g_log.msg[g_log.n], sizeof(g_log.msg[0]), fmt, ap);
	va_end(ap);
	g_log.n++;
}

struct cfg_ctx {
	int before;
	struct sl_http_client_cfg hc;
};

/* Each entry names the field it fills: a swapped offset would fail. */
static void test_cfg_fragment_entries(void **state)
{
	static const struct sl_cfg_option map[] = {
	    SL_HTTP_CLIENT_CFG(struct cfg_ctx, hc), SL_CFG_END};
	static const struct {
		const char *name;
		size_t off;
	} want[] = {
	    {"http_user", offsetof(struct cfg_ctx, hc.http_user)},
	    {"http_passwd", offsetof(struct cfg_ctx, hc.http_passwd)},
	    {"compress", offsetof(struct cfg_ctx, hc.compress)},
	    {"header", offsetof(struct cfg_ctx, hc.header)},
	};
	size_t i;

	(void)state;
	for (i = 0; i < 4; i++) {
		assert_string_equal(map[i].name, want[i].name);
		assert_int_equal(map[i].offset, want[i].off);
		assert_int_equal(map[i].type, SL_CFG_STR);
		assert_non_null(map[i].desc);
	}
	assert_true(map[3].flags & SL_CFG_MULTI);
	assert_false(map[0].flags & SL_CFG_MULTI);
	assert_null(map[4].name);
}

static void test_cfg_check_good(void **state)
{
	struct sl_cfg_item items[] = {
	    {.value = (char *)"X-A  one two", .line = 7},
	    {.value = (char *)"X-B: 2", .line = 8}};
	struct sl_http_client_cfg hc = {.http_user = (char *)"u",
					.http_passwd = (char *)"p",
					.compress = (char *)"GZIP",
					.header = {2, items}};
	const struct sl_http_cfg_report r = {record_report, NULL, 3, "loki"};
	struct sl_http_client_opts o = {.host = "h"};

	(void)state;
	memset(&g_log, 0, sizeof(g_log));
	assert_int_equal(sl_http_client_cfg_check(&hc, &r), 0);
	assert_int_equal(g_log.n, 0);
	assert_true(hc.gzip);
	assert_int_equal(hc.n_lines, 2);
	assert_string_equal(hc.lines[0], "X-A: one two");
	assert_string_equal(hc.lines[1], "X-B: 2");
	assert_null(hc.lines[2]);
	sl_http_client_cfg_opts(&hc, &o);
	assert_string_equal(o.http_user, "u");
	assert_string_equal(o.http_passwd, "p");
	assert_string_equal(o.host, "h"); /* the rest is left alone */
	sl_http_client_cfg_destroy(&hc);
	assert_null(hc.lines);
	assert_int_equal(hc.n_lines, 0);
}

/* Every bad value is reported, each Header at its own line. */
static void test_cfg_check_bad(void **state)
{
	struct sl_cfg_item items[] = {
	    {.value = (char *)"X-Name-Only", .line = 11},
	    {.value = (char *)"X-Ok 1", .line = 12},
	    {.value = (char *)"X-Empty:", .line = 13}};
	struct sl_http_client_cfg hc = {.compress = (char *)"zstd",
					.header = {3, items}};
	const struct sl_http_cfg_report r = {record_report, NULL, 3, "http"};

	(void)state;
	memset(&g_log, 0, sizeof(g_log));
	assert_int_equal(sl_http_client_cfg_check(&hc, &r), -SL_ECONFIG);
	assert_int_equal(g_log.n, 3);
	assert_int_equal(g_log.line[0], 3);
	assert_string_equal(g_log.msg[0],
			    "http: compress 'zstd' is not supported (gzip)");
	assert_int_equal(g_log.line[1], 11);
	assert_string_equal(
	    g_log.msg[1],
	    "http: header 'X-Name-Only' needs a name and a value");
	assert_int_equal(g_log.line[2], 13);
	assert_false(hc.gzip);
	sl_http_client_cfg_destroy(&hc);
}

/* No option set: no gzip, no lines, no auth. */
static void test_cfg_check_empty(void **state)
{
	struct sl_http_client_cfg hc = {0};
	const struct sl_http_cfg_report r = {record_report, NULL, 1, "es"};
	struct sl_http_client_opts o = {0};

	(void)state;
	memset(&g_log, 0, sizeof(g_log));
	hc.compress = (char *)"none";
	assert_int_equal(sl_http_client_cfg_check(&hc, &r), 0);
	assert_false(hc.gzip);
	assert_int_equal(hc.n_lines, 0);
	assert_null(hc.lines[0]);
	sl_http_client_cfg_opts(&hc, &o);
	assert_null(o.http_user);
	assert_null(o.http_passwd);
	assert_int_equal(g_log.n, 0);
	sl_http_client_cfg_destroy(&hc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_retry_after_seconds),
	    cmocka_unit_test(test_retry_after_date),
	    cmocka_unit_test(test_retry_after_invalid),
	    cmocka_unit_test(test_gzip_round_trip),
	    cmocka_unit_test(test_gzip_empty),
	    cmocka_unit_test(test_gzip_incompressible),
	    cmocka_unit_test(test_gzip_levels),
	    cmocka_unit_test(test_send_status_and_headers),
	    cmocka_unit_test(test_send_basic_gzip_truncated),
	    cmocka_unit_test(test_send_gzip_reused),
	    cmocka_unit_test(test_send_refused),
	    cmocka_unit_test(test_cfg_fragment_entries),
	    cmocka_unit_test(test_cfg_check_good),
	    cmocka_unit_test(test_cfg_check_bad),
	    cmocka_unit_test(test_cfg_check_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
