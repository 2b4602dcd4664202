/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_dummy.c - the dummy input through the real engine and config maps:
 * options parse, Samples x Copies records come out and then the input
 * goes idle without stopping the engine (Fluent Bit keeps running too; the
 * test stops it), Fixed_timestamp/Start_time set the time, a Dummy that is
 * not a JSON object is a config error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_engine_int.h"

/* ---- an output that keeps what it receives ------------------------------ */
static pthread_mutex_t got_lock = PTHREAD_MUTEX_INITIALIZER;
static char *got_body[64];
static int64_t got_ts[64];
static size_t got_n;

static void keep_flush(void *ctx, void *worker, struct sl_flush *fl)
{
	struct sl_chunk_iter it;
	const char *body;
	size_t len;
	int64_t ts;

	(void)ctx;
	(void)worker;
	pthread_mutex_lock(&got_lock);
	sl_chunk_iter_init(&it, sl_flush_chunk(fl));
	while (sl_chunk_next(&it, &ts, &body, &len) > 0 && got_n < 64) {
		got_body[got_n] = strndup(body, len);
		got_ts[got_n++] = ts;
	}
	pthread_mutex_unlock(&got_lock);
	sl_flush_done(fl, SL_FLUSH_OK);
}

static const struct sl_cfg_option keep_map[] = {SL_CFG_END};

static const struct sl_output_plugin keep_output = {
    .name = "keep",
    .description = "test output",
    .config_map = keep_map,
    .flush = keep_flush,
};
static const struct sl_output_plugin *const extra_out[] = {&keep_output, NULL};

static void got_reset(void)
{
	for (size_t i = 0; i < got_n; i++)
		free(got_body[i]);
	got_n = 0;
}

/* ---- a pipeline: [SERVICE] fast, one dummy input, the keep output -------- */
struct run {
	struct sl_conf conf;
	struct sl_diag diag;
	struct sl_engine *eng;
};

static struct sl_engine *build(struct run *r, const char *const *in_kv)
{
	static const char *const svc[] = {"flush",     "0.01",	"grace", "5",
					  "log_level", "error", NULL};
	static const char *const out[] = {"name", "keep", "match", "*", NULL};
	const char *const *kvs[] = {svc, in_kv, out};
	static const enum sl_section_kind kinds[] = {
	    SL_SEC_SERVICE, SL_SEC_INPUT, SL_SEC_OUTPUT};
	static const char *const hdr[] = {"SERVICE", "INPUT", "OUTPUT"};
	const char *file;
	int line = 1;

	memset(r, 0, sizeof(*r));
	sl_conf_init(&r->conf);
	file = sl_conf_intern_file(&r->conf, "dummy-test.conf");
	r->conf.main_file = file;
	for (int s = 0; s < 3; s++) {
		struct sl_conf_section *sec = sl_conf_add_section(
		    &r->conf, kinds[s], hdr[s], file, line++);

		assert_non_null(sec);
		for (size_t i = 0; kvs[s][i]; i += 2)
			assert_int_equal(
			    sl_conf_add_entry(&r->conf, sec, kvs[s][i],
					      kvs[s][i + 1], file, line++),
			    0);
	}
	r->eng = sl_engine_create_with(&r->conf, &r->diag, NULL, extra_out);
	return r->eng;
}

static void done(struct run *r)
{
	sl_engine_destroy(r->eng);
	sl_conf_destroy(&r->conf);
	sl_diag_destroy(&r->diag);
	got_reset();
}

/* Stops the engine once its input is idle, as a user would. */
static void stop_when_idle(evutil_socket_t fd, short what, void *arg)
{
	struct sl_engine *eng = arg;

	(void)fd;
	(void)what;
	if (eng->inputs[0]->idle && !eng->inputs[0]->finished)
		sl_engine_stop(eng);
}

/* Runs until the dummy input is idle; the engine never stops by itself. */
static void run_until_idle(struct run *r)
{
	struct timeval tv = {0, 10000};
	struct event *ev =
	    event_new(r->eng->base, -1, EV_PERSIST, stop_when_idle, r->eng);

	assert_non_null(ev);
	assert_int_equal(event_add(ev, &tv), 0);
	assert_int_equal(sl_engine_run(r->eng), 0);
	event_free(ev);
}

static bool diag_has(const struct sl_diag *d, const char *what)
{
	for (size_t i = 0; i < d->n; i++)
		if (strstr(d->msgs[i], what))
			return true;
	return false;
}

/* ---- tests ----------------------------------------------------------------
 */

static void samples_times_copies_then_idle(void **state)
{
	static const char *const in[] = {"name",
					 "dummy",
					 "dummy",
					 "{\"x\":\"y\"}",
					 "samples",
					 "3",
					 "copies",
					 "2",
					 "interval_sec",
					 "0",
					 "interval_nsec",
					 "1000",
					 "fixed_timestamp",
					 "on",
					 "start_time_sec",
					 "1000",
					 "start_time_nsec",
					 "5",
					 "metadata",
					 "{\"k\":1}",
					 NULL};
	struct run r;

	(void)state;
	assert_non_null(build(&r, in));
	assert_int_equal(sl_engine_start(r.eng), 0);
	run_until_idle(&r);
	assert_int_equal(got_n, 6);
	for (size_t i = 0; i < got_n; i++) {
		assert_string_equal(got_body[i], "{\"x\":\"y\"}");
		assert_true(got_ts[i] == 1000 * SL_NS_PER_SEC + 5);
	}
	done(&r);
}

static void default_record_and_flush_on_startup(void **state)
{
	static const char *const in[] = {
	    "name", "dummy", "samples", "1", "rate", "1", "flush_on_startup",
	    "on",   NULL};
	struct run r;
	int64_t before = sl_now_ns();

	(void)state;
	assert_non_null(build(&r, in));
	assert_int_equal(sl_engine_start(r.eng), 0);
	run_until_idle(&r);
	assert_int_equal(got_n, 1);
	assert_string_equal(got_body[0], "{\"message\":\"dummy\"}");
	assert_true(got_ts[0] >= before);
	done(&r);
}

static void dummy_not_an_object_is_a_config_error(void **state)
{
	static const char *const in[] = {"name", "dummy", "dummy", "[1,2]",
					 NULL};
	struct run r;

	(void)state;
	assert_null(build(&r, in));
	assert_true(diag_has(&r.diag, "Dummy is not a JSON object"));
	/* the Dummy option's line (7), not the [INPUT] header's (5) */
	assert_true(diag_has(&r.diag, "dummy-test.conf:7: dummy: Dummy"));
	done(&r);
}

static void out_of_range_and_unknown_options_are_errors(void **state)
{
	static const char *const in[] = {"name",     "dummy", "copies", "0",
					 "nonsense", "1",     NULL};
	struct run r;

	(void)state;
	assert_null(build(&r, in));
	assert_true(sl_diag_count(&r.diag) >= 2);
	done(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(samples_times_copies_then_idle),
	    cmocka_unit_test(default_record_and_flush_on_startup),
	    cmocka_unit_test(dummy_not_an_object_is_a_config_error),
	    cmocka_unit_test(out_of_range_and_unknown_options_are_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
