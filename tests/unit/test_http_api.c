/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_http_api.c - Fluent Bit's health rule over HC_Period (pure state,
 * snapshots injected), then the service API and prometheus_exporter served
 * by a real engine on its own loop and queried with libevent's HTTP client:
 * routes, 404/405, content types, scope routing, Add_Label, port in use.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sl_engine_int.h"
#include "sl_health.h"

/* ---- the health rule --------------------------------------------------- */

static void errors_over_the_limit_fail(void **state)
{
	struct sl_health h;

	(void)state;
	assert_int_equal(sl_health_init(&h, 60, 5, 5, 0, 0), 0);
	assert_true(sl_health_ok(&h, 0, 0));
	/* Fluent Bit: more than HC_Errors_Count fails, equal does not */
	assert_true(sl_health_ok(&h, 5, 0));
	assert_false(sl_health_ok(&h, 6, 0));
	assert_true(sl_health_ok(&h, 0, 5));
	assert_false(sl_health_ok(&h, 0, 6));
	sl_health_destroy(&h);
}

static void counts_are_relative_to_the_start(void **state)
{
	struct sl_health h;

	(void)state;
	/* 100 errors happened before the API started: not this period's */
	assert_int_equal(sl_health_init(&h, 10, 2, 2, 100, 40), 0);
	assert_true(sl_health_ok(&h, 102, 42));
	assert_false(sl_health_ok(&h, 103, 40));
	assert_false(sl_health_ok(&h, 100, 43));
	/* what /api/v2/health reports: the period's counts, not the totals */
	uint64_t e, f;
	sl_health_counts(&h, 103, 41, &e, &f);
	assert_int_equal(e, 3);
	assert_int_equal(f, 1);
	sl_health_destroy(&h);
}

static void old_errors_leave_the_period(void **state)
{
	struct sl_health h;

	(void)state;
	assert_int_equal(sl_health_init(&h, 3, 2, 2, 0, 0), 0);
	/* t=1: three errors */
	sl_health_tick(&h, 3, 0);
	assert_false(sl_health_ok(&h, 3, 0));
	sl_health_tick(&h, 3, 0); /* t=2 */
	assert_false(sl_health_ok(&h, 3, 0));
	sl_health_tick(&h, 3, 0); /* t=3: the t=0 snapshot is 3 s old */
	assert_false(sl_health_ok(&h, 3, 0));
	sl_health_tick(&h, 3, 0); /* t=4: the errors are older than 3 s */
	assert_true(sl_health_ok(&h, 3, 0));
	/* new errors inside the period count again */
	sl_health_tick(&h, 4, 0);
	sl_health_tick(&h, 5, 0);
	assert_true(sl_health_ok(&h, 5, 0));
	assert_false(sl_health_ok(&h, 6, 0));
	/* a long quiet run keeps it healthy; the ring wraps many times */
	for (int i = 0; i < 100; i++)
		sl_health_tick(&h, 6, 1);
	assert_true(sl_health_ok(&h, 6, 1));
	assert_true(sl_health_ok(&h, 8, 3));
	assert_false(sl_health_ok(&h, 8, 4));
	sl_health_destroy(&h);
}

static void zero_limits_fail_on_the_first_error(void **state)
{
	struct sl_health h;

	(void)state;
	assert_int_equal(sl_health_init(&h, 1, 0, 0, 0, 0), 0);
	assert_true(sl_health_ok(&h, 0, 0));
	assert_false(sl_health_ok(&h, 1, 0));
	sl_health_tick(&h, 1, 0);
	assert_false(sl_health_ok(&h, 1, 0)); /* the t=0 snapshot, 1 s old */
	sl_health_tick(&h, 1, 0);
	assert_true(sl_health_ok(&h, 1, 0));
	sl_health_destroy(&h);
	/* destroy twice is harmless, a zeroed state is healthy */
	sl_health_destroy(&h);
	assert_true(sl_health_ok(&h, 9, 9));
}

/* ---- servers on a real engine ------------------------------------------ */

struct probe {
	int server; /* 0: service API, 1: exporter */
	enum evhttp_cmd_type cmd;
	const char *path;
	/* results */
	int status;
	char ctype[128];
	char body[16384];
};

struct client {
	struct sl_engine *eng;
	struct evhttp_connection *conn[2];
	struct probe *probes;
	size_t n, next;
	struct event *deadline;
	bool timed_out;
};

static void send_next(struct client *c);

static void on_reply(struct evhttp_request *req, void *arg)
{
	struct client *c = arg;
	struct probe *p = &c->probes[c->next];

	if (req) {
		struct evbuffer *in = evhttp_request_get_input_buffer(req);
		const char *ct = evhttp_find_header(
		    evhttp_request_get_input_headers(req), "Content-Type");
		size_t len = evbuffer_get_length(in);

		p->status = evhttp_request_get_response_code(req);
		snprintf(p->ctype, sizeof(p->ctype), "%s", ct ? ct : "");
		if (len >= sizeof(p->body))
			len = sizeof(p->body) - 1;
		evbuffer_remove(in, p->body, len);
		p->body[len] = '\0';
	}
	c->next++;
	send_next(c);
}

static void send_next(struct client *c)
{
	struct probe *p;
	struct evhttp_request *req;

	if (c->next == c->n) {
		sl_engine_stop(c->eng);
		return;
	}
	p = &c->probes[c->next];
	req = evhttp_request_new(on_reply, c);
	assert_non_null(req);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Host",
			  "127.0.0.1");
	assert_int_equal(
	    evhttp_make_request(c->conn[p->server], req, p->cmd, p->path), 0);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;

	(void)fd;
	(void)what;
	c->timed_out = true;
	event_base_loopexit(c->eng->base, NULL);
}

/* A port nothing listens on right now (the kernel's pick, then closed). */
static int free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

/* A socket listening on a port, so that binding it again fails. */
static int occupy_port(int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

struct setup {
	struct sl_conf conf;
	struct sl_diag diag;
	const char *file;
	char api_port[16], prom_port[16];
};

static void add_section(struct setup *s, enum sl_section_kind kind,
			const char *hdr, const char *const *kv)
{
	struct sl_conf_section *sec =
	    sl_conf_add_section(&s->conf, kind, hdr, s->file, 1);

	assert_non_null(sec);
	for (size_t i = 0; kv[i]; i += 2)
		assert_int_equal(sl_conf_add_entry(&s->conf, sec, kv[i],
						   kv[i + 1], s->file, 2),
				 0);
}

static struct sl_engine *build(struct setup *s, int api_port, int prom_port,
			       const char *health_check)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->api_port, sizeof(s->api_port), "%d", api_port);
	snprintf(s->prom_port, sizeof(s->prom_port), "%d", prom_port);
	const char *svc[] = {
	    "flush",	    "0.05",	  "grace",	 "1",
	    "log_level",    "error",	  "http_server", "on",
	    "http_listen",  "127.0.0.1",  "http_port",	 s->api_port,
	    "health_check", health_check, NULL};
	const char *out[] = {"name",	  "prometheus_exporter",
			     "match",	  "app.*",
			     "host",	  "127.0.0.1",
			     "port",	  s->prom_port,
			     "add_label", "env prod",
			     "add_label", "region eu west",
			     NULL};

	sl_conf_init(&s->conf);
	s->file = sl_conf_intern_file(&s->conf, "http-test.conf");
	s->conf.main_file = s->file;
	add_section(s, SL_SEC_SERVICE, "SERVICE", svc);
	add_section(s, SL_SEC_OUTPUT, "OUTPUT", out);
	struct sl_engine *eng = sl_engine_create(&s->conf, &s->diag);
	if (!eng)
		sl_diag_print(&s->diag, stderr);
	assert_non_null(eng);
	return eng;
}

static void teardown_engine(struct setup *s, struct sl_engine *eng)
{
	sl_engine_destroy(eng);
	sl_conf_destroy(&s->conf);
	sl_diag_destroy(&s->diag);
}

/* A family the way log_to_metrics makes one: emitted under `scope`. */
static void scoped_counter(struct sl_engine *eng, const char *name,
			   const char *scope, double v)
{
	const char *labels[] = {"service"};
	const char *values[] = {"auth"};
	const char *err;
	struct sl_metric_family *f =
	    sl_metrics_family(&eng->metrics, name, "derived", SL_METRIC_COUNTER,
			      labels, 1, NULL, 0, &err);

	assert_non_null(f);
	f->scope = strdup(scope);
	assert_non_null(f->scope);
	sl_metric_add(sl_metric_series_get(&eng->metrics, f, values), v);
}

static void run_probes(struct sl_engine *eng, struct probe *p, size_t n,
		       int api_port, int prom_port,
		       void (*after_start)(struct sl_engine *))
{
	struct client c = {.eng = eng, .probes = p, .n = n};
	struct timeval ten = {.tv_sec = 10};

	assert_int_equal(sl_engine_start(eng), 0);
	if (after_start)
		after_start(eng);
	c.conn[0] = evhttp_connection_base_new(eng->base, NULL, "127.0.0.1",
					       (unsigned short)api_port);
	c.conn[1] = evhttp_connection_base_new(eng->base, NULL, "127.0.0.1",
					       (unsigned short)prom_port);
	c.deadline = evtimer_new(eng->base, on_deadline, &c);
	assert_non_null(c.conn[0]);
	assert_non_null(c.conn[1]);
	assert_non_null(c.deadline);
	evtimer_add(c.deadline, &ten);
	send_next(&c);
	assert_int_equal(sl_engine_run(eng), 0);
	assert_false(c.timed_out);
	evhttp_connection_free(c.conn[0]);
	evhttp_connection_free(c.conn[1]);
	event_free(c.deadline);
}

static void api_and_exporter_serve_their_routes(void **state)
{
	struct setup s;
	int api = free_port(), prom = free_port();
	struct probe p[] = {
	    {0, EVHTTP_REQ_GET, "/", 0, "", ""},
	    {0, EVHTTP_REQ_GET, "/api/v1/metrics/prometheus", 0, "", ""},
	    {0, EVHTTP_REQ_GET, "/api/v1/health", 0, "", ""},
	    {0, EVHTTP_REQ_GET, "/api/v1/nope", 0, "", ""},
	    {0, EVHTTP_REQ_POST, "/api/v1/health", 0, "", ""},
	    {1, EVHTTP_REQ_GET, "/metrics", 0, "", ""},
	    {1, EVHTTP_REQ_GET, "/metrics?x=1", 0, "", ""},
	    {1, EVHTTP_REQ_GET, "/", 0, "", ""},
	    {1, EVHTTP_REQ_DELETE, "/metrics", 0, "", ""},
	};
	struct sl_engine *eng;

	(void)state;
	while (prom == api)
		prom = free_port();
	eng = build(&s, api, prom, "off");
	scoped_counter(eng, "app_logins_total", "app.auth", 7);
	scoped_counter(eng, "other_total", "other", 1);
	run_probes(eng, p, SL_ARRAY_LEN(p), api, prom, NULL);

	assert_int_equal(p[0].status, 200);
	assert_string_equal(p[0].ctype, "application/json");
	assert_non_null(strstr(p[0].body, "{\"sluice\":{\"version\":\""));
	assert_non_null(strstr(p[0].body, "\"prometheus_exporter\""));
	assert_non_null(strstr(p[0].body, "\"inputs\":["));

	assert_int_equal(p[1].status, 200);
	assert_string_equal(p[1].ctype,
			    "text/plain; version=0.0.4; charset=utf-8");
	assert_non_null(strstr(p[1].body, "\nsluice_uptime_seconds "));
	assert_non_null(strstr(p[1].body, "sluice_output_errors_total{name="
					  "\"prometheus_exporter.0\"} 0\n"));
	/* derived metrics go to the exporters, not to the service API */
	assert_null(strstr(p[1].body, "app_logins_total"));

	assert_int_equal(p[2].status, 200);
	assert_string_equal(p[2].body, "ok\n");
	assert_int_equal(p[3].status, 404);
	assert_int_equal(p[4].status, 405);

	assert_int_equal(p[5].status, 200);
	assert_string_equal(p[5].ctype,
			    "text/plain; version=0.0.4; charset=utf-8");
	assert_string_equal(p[5].body,
			    "# HELP app_logins_total derived\n"
			    "# TYPE app_logins_total counter\n"
			    "app_logins_total{service=\"auth\",env=\"prod\","
			    "region=\"eu west\"} 7\n");
	assert_int_equal(p[6].status, 200);
	assert_string_equal(p[6].body, p[5].body);
	assert_int_equal(p[7].status, 404);
	assert_int_equal(p[8].status, 405);
	teardown_engine(&s, eng);
}

/* Output errors after the start, as a failing output would count them. */
static void six_errors(struct sl_engine *eng)
{
	sl_metric_add(eng->outputs[0]->m_errors, 6);
}

static void health_follows_output_errors(void **state)
{
	struct setup s;
	int api = free_port(), prom = free_port();
	struct probe p[] = {
	    {0, EVHTTP_REQ_GET, "/api/v1/health", 0, "", ""},
	};
	struct sl_engine *eng;

	(void)state;
	while (prom == api)
		prom = free_port();
	/* before any error: healthy */
	eng = build(&s, api, prom, "on");
	run_probes(eng, p, SL_ARRAY_LEN(p), api, prom, NULL);
	assert_int_equal(p[0].status, 200);
	assert_string_equal(p[0].body, "ok\n");
	teardown_engine(&s, eng);
	/* six errors in the period, HC_Errors_Count 5 (default): 500 */
	eng = build(&s, api, prom, "on");
	run_probes(eng, p, SL_ARRAY_LEN(p), api, prom, six_errors);
	assert_int_equal(p[0].status, 500);
	assert_string_equal(p[0].body, "error\n");
	teardown_engine(&s, eng);
	/* the same errors with Health_Check Off: always 200 */
	eng = build(&s, api, prom, "off");
	run_probes(eng, p, SL_ARRAY_LEN(p), api, prom, six_errors);
	assert_int_equal(p[0].status, 200);
	teardown_engine(&s, eng);
}

static void port_in_use_fails_the_start(void **state)
{
	struct setup s;
	int busy, other = free_port();
	int fd = occupy_port(&busy);
	struct sl_engine *eng;

	(void)state;
	/* the service API's port is taken */
	eng = build(&s, busy, other, "off");
	assert_true(sl_engine_start(eng) < 0);
	teardown_engine(&s, eng);
	/* the exporter's port is taken */
	eng = build(&s, other, busy, "off");
	assert_true(sl_engine_start(eng) < 0);
	teardown_engine(&s, eng);
	close(fd);
}

static void add_label_errors_carry_their_line(void **state)
{
	struct setup s;
	const char *out[] = {"name",	  "prometheus_exporter",
			     "match",	  "*",
			     "add_label", "bad-name x",
			     "add_label", "novalue",
			     "add_label", "__reserved x",
			     "add_label", "env a",
			     "add_label", "env b",
			     NULL};
	struct sl_conf_section *sec;

	(void)state;
	memset(&s, 0, sizeof(s));
	sl_conf_init(&s.conf);
	s.file = sl_conf_intern_file(&s.conf, "labels.conf");
	s.conf.main_file = s.file;
	sec = sl_conf_add_section(&s.conf, SL_SEC_OUTPUT, "OUTPUT", s.file, 1);
	assert_non_null(sec);
	for (int i = 0; out[i]; i += 2)
		assert_int_equal(sl_conf_add_entry(&s.conf, sec, out[i],
						   out[i + 1], s.file,
						   2 + i / 2),
				 0);
	assert_null(sl_engine_create(&s.conf, &s.diag));
	assert_int_equal(sl_diag_count(&s.diag), 4);
	assert_non_null(strstr(s.diag.msgs[0], "labels.conf:4:"));
	assert_non_null(strstr(s.diag.msgs[0], "'bad-name'"));
	assert_non_null(strstr(s.diag.msgs[1], "labels.conf:5:"));
	assert_non_null(strstr(s.diag.msgs[1], "NAME VALUE"));
	assert_non_null(strstr(s.diag.msgs[2], "labels.conf:6:"));
	assert_non_null(strstr(s.diag.msgs[3], "labels.conf:8:"));
	assert_non_null(strstr(s.diag.msgs[3], "twice"));
	sl_conf_destroy(&s.conf);
	sl_diag_destroy(&s.diag);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(errors_over_the_limit_fail),
	    cmocka_unit_test(counts_are_relative_to_the_start),
	    cmocka_unit_test(old_errors_leave_the_period),
	    cmocka_unit_test(zero_limits_fail_on_the_first_error),
	    cmocka_unit_test(api_and_exporter_serve_their_routes),
	    cmocka_unit_test(health_follows_output_errors),
	    cmocka_unit_test(port_in_use_fails_the_start),
	    cmocka_unit_test(add_label_errors_carry_their_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
