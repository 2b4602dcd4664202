/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_engine.c - the engine with a controllable input and output: every
 * record is delivered or counted as dropped, chunks are released when all
 * outputs are done with them, retries back off, the memory budget pauses
 * and resumes the input, and config errors carry file:line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_engine_int.h"
#include "sl_log.h"
#include "sl_storage.h"

#include <ftw.h>
#include <sys/stat.h>

/* ---- a fake input: emits `count` records {"n":i}, then finishes -------- */
struct fake_in {
	int64_t count;
	int64_t emitted;
	int pauses, resumes;
	uint64_t last_id, chunks_used; /* distinct chunk ids records went to */
	uint64_t released, released_max;
	bool released_unknown; /* an id no record went to */
	bool rereadable;
	bool bad_utf8;			   /* every 2nd record carries \xff */
	size_t max_held;		   /* most sealed chunks held at once */
	bool hold;			   /* emit nothing, never finish */
	uint64_t persisted, persisted_max; /* chunk_persisted calls */
	struct sl_input *in;
	struct event *ev;
	struct sl_record rec;
};

static const struct sl_cfg_option fake_in_map[] = {
    {.name = "count",
     .type = SL_CFG_INT,
     .def = "10",
     .min = 0,
     .max = 1e9,
     .offset = offsetof(struct fake_in, count),
     .desc = "records"},
    {.name = "rereadable",
     .type = SL_CFG_BOOL,
     .def = "off",
     .offset = offsetof(struct fake_in, rereadable)},
    {.name = "bad_utf8",
     .type = SL_CFG_BOOL,
     .def = "off",
     .offset = offsetof(struct fake_in, bad_utf8)},
    {.name = "hold",
     .type = SL_CFG_BOOL,
     .def = "off",
     .offset = offsetof(struct fake_in, hold)},
    SL_CFG_END,
};

static struct fake_in *last_in;

static void fake_in_emit(evutil_socket_t fd, short what, void *arg)
{
	struct fake_in *f = arg;
	char body[64];

	(void)fd;
	(void)what;
	if (f->hold)
		return;
	while (f->emitted < f->count && !sl_input_paused(f->in)) {
		int n = snprintf(body, sizeof(body), "{\"n\":%lld}",
				 (long long)f->emitted);
		if (f->bad_utf8 && f->emitted % 2)
			sl_record_reset_line(&f->rec, 0, "log", 3, "a\xff", 2);
		else
			assert_int_equal(
			    sl_record_reset_json(&f->rec, 0, body, (size_t)n),
			    0);
		assert_int_equal(sl_input_emit(f->in, "fake", 4, &f->rec), 0);
		assert_true(sl_input_last_chunk(f->in) >= f->last_id);
		if (sl_input_last_chunk(f->in) != f->last_id) {
			f->last_id = sl_input_last_chunk(f->in);
			f->chunks_used++;
		}
		f->emitted++;
		if (f->in->chunks_held > f->max_held)
			f->max_held = f->in->chunks_held;
	}
	if (f->emitted == f->count)
		sl_input_finished(f->in);
}

static int fake_in_init(void *ctx, struct sl_input *in)
{
	struct fake_in *f = ctx;

	f->in = in;
	if (f->rereadable)
		sl_input_set_rereadable(in, false);
	sl_record_init(&f->rec);
	last_in = f;
	return 0;
}

static int fake_in_start(void *ctx, struct sl_input *in)
{
	struct fake_in *f = ctx;

	f->ev = event_new(sl_input_base(in), -1, 0, fake_in_emit, f);
	event_active(f->ev, EV_READ, 0);
	return 0;
}

static void fake_in_pause(void *ctx)
{
	((struct fake_in *)ctx)->pauses++;
}

static void fake_in_resume(void *ctx)
{
	struct fake_in *f = ctx;

	f->resumes++;
	event_active(f->ev, EV_READ, 0);
}

static void fake_in_released(void *ctx, uint64_t id)
{
	struct fake_in *f = ctx;

	if (id == 0 || id > f->last_id)
		f->released_unknown = true;
	f->released++;
	if (id > f->released_max)
		f->released_max = id;
}

static void fake_in_persisted(void *ctx, uint64_t id)
{
	struct fake_in *f = ctx;

	f->persisted++;
	if (id > f->persisted_max)
		f->persisted_max = id;
}

static void fake_in_destroy(void *ctx)
{
	struct fake_in *f = ctx;

	if (f->ev)
		event_free(f->ev);
	sl_record_destroy(&f->rec);
}

static const struct sl_input_plugin fake_input = {
    .name = "fake_in",
    .description = "test input",
    .config_map = fake_in_map,
    .ctx_size = sizeof(struct fake_in),
    .init = fake_in_init,
    .start = fake_in_start,
    .pause = fake_in_pause,
    .resume = fake_in_resume,
    .chunk_released = fake_in_released,
    .chunk_persisted = fake_in_persisted,
    .destroy = fake_in_destroy,
};

/* ---- a fake output: fails the first N flushes, or always --------------- */
struct fake_out {
	int64_t fail_first;
	bool always_fail;
	bool permanent;
	int64_t drop_each; /* records of each chunk dropped as rejected */
	bool settle_half;  /* first attempt delivers even records only */
	bool then_fail;	   /* with settle_half: later attempts fail */
	int64_t flushes;
	int64_t delivered;
};

static const struct sl_cfg_option fake_out_map[] = {
    {.name = "fail_first",
     .type = SL_CFG_INT,
     .def = "0",
     .min = 0,
     .max = 1e9,
     .offset = offsetof(struct fake_out, fail_first)},
    {.name = "always_fail",
     .type = SL_CFG_BOOL,
     .def = "off",
     .offset = offsetof(struct fake_out, always_fail)},
    {.name = "permanent",
     .type = SL_CFG_BOOL,
     .def = "off",
     .offset = offsetof(struct fake_out, permanent)},
    {.name = "drop_each",
     .type = SL_CFG_INT,
     .def = "0",
     .min = 0,
     .max = 1e9,
     .offset = offsetof(struct fake_out, drop_each)},
    {.name = "settle_half",
     .type = SL_CFG_BOOL,
     .def = "off",
     .offset = offsetof(struct fake_out, settle_half)},
    {.name = "then_fail",
     .type = SL_CFG_BOOL,
     .def = "off",
     .offset = offsetof(struct fake_out, then_fail)},
    SL_CFG_END,
};

static void fake_out_flush(void *ctx, void *worker, struct sl_flush *fl)
{
	struct fake_out *o = ctx;
	int64_t n = __atomic_add_fetch(&o->flushes, 1, __ATOMIC_SEQ_CST);

	(void)worker;
	if (o->settle_half) {
		const struct sl_chunk *c = sl_flush_chunk(fl);
		bool first = sl_flush_attempt(fl) == 0;

		if (!first && o->then_fail) {
			sl_flush_done(fl, SL_FLUSH_RETRY);
			return;
		}
		for (uint32_t i = 0; i < c->records; i++) {
			if (sl_flush_marked(fl, i)) {
				continue;
			}
			if (first && i % 2) {
				continue; /* "failed": left for the retry */
			}
			assert_int_equal(sl_flush_mark(fl, i), 0);
			__atomic_add_fetch(&o->delivered, 1, __ATOMIC_SEQ_CST);
		}
		if (first)
			sl_flush_retry_after(fl, 0.001);
		sl_flush_done(fl, first ? SL_FLUSH_RETRY : SL_FLUSH_OK);
		return;
	}
	if (o->always_fail || n <= o->fail_first) {
		sl_flush_done(fl,
			      o->permanent ? SL_FLUSH_ERROR : SL_FLUSH_RETRY);
		return;
	}
	sl_flush_drop(fl, SL_DROP_REJECTED, (uint64_t)o->drop_each);
	__atomic_add_fetch(&o->delivered,
			   (int64_t)sl_flush_chunk(fl)->records - o->drop_each,
			   __ATOMIC_SEQ_CST);
	sl_flush_done(fl, SL_FLUSH_OK);
}

static const struct sl_output_plugin fake_output = {
    .name = "fake_out",
    .description = "test output",
    .config_map = fake_out_map,
    .ctx_size = sizeof(struct fake_out),
    .flush = fake_out_flush,
};

static const struct sl_input_plugin *const extra_in[] = {&fake_input, NULL};
static const struct sl_output_plugin *const extra_out[] = {&fake_output, NULL};

/* ---- helpers ------------------------------------------------------------- */
struct run {
	struct sl_conf conf;
	struct sl_diag diag;
	struct sl_engine *eng;
	const char *file;
	struct sl_conf_section *sec;
};

static void section(struct run *r, enum sl_section_kind kind,
		    const char *const *kv)
{
	static const char *const hdr[] = {[SL_SEC_SERVICE] = "SERVICE",
					  [SL_SEC_INPUT] = "INPUT",
					  [SL_SEC_FILTER] = "FILTER",
					  [SL_SEC_OUTPUT] = "OUTPUT"};
	int line = (int)r->conf.n * 10 + 1;

	r->sec = sl_conf_add_section(&r->conf, kind, hdr[kind], r->file, line);
	assert_non_null(r->sec);
	for (size_t i = 0; kv[i]; i += 2)
		assert_int_equal(sl_conf_add_entry(&r->conf, r->sec, kv[i],
						   kv[i + 1], r->file, ++line),
				 0);
}

static void run_init(struct run *r)
{
	static const char *const svc[] = {"flush",
					  "0.01",
					  "scheduler.base",
					  "0.001",
					  "scheduler.cap",
					  "0.01",
					  "grace",
					  "5",
					  "log_level",
					  "error",
					  NULL};
	memset(r, 0, sizeof(*r));
	sl_conf_init(&r->conf);
	r->file = sl_conf_intern_file(&r->conf, "engine-test.conf");
	r->conf.main_file = r->file;
	section(r, SL_SEC_SERVICE, svc);
}

static struct sl_output *output(struct run *r, size_t i)
{
	return r->eng->outputs[i];
}

static double out_dropped(struct run *r, size_t i, enum sl_drop_reason why)
{
	return sl_metric_value(output(r, i)->m_dropped[why]);
}

static void run_pipeline(struct run *r)
{
	r->eng = sl_engine_create_with(&r->conf, &r->diag, extra_in, extra_out);
	if (!r->eng)
		sl_diag_print(&r->diag, stderr);
	assert_non_null(r->eng);
	assert_int_equal(sl_engine_start(r->eng), 0);
	assert_int_equal(sl_engine_run(r->eng), 0);
}

static void run_done(struct run *r)
{
	sl_engine_destroy(r->eng);
	sl_conf_destroy(&r->conf);
	sl_diag_destroy(&r->diag);
}

/* ---- tests -----------------------------------------------------------------
 */

static void every_record_reaches_every_matching_output(void **state)
{
	struct run r;
	static const char *const in[] = {"name", "fake_in", "count", "2500",
					 NULL};
	static const char *const o1[] = {"name", "fake_out", "match", "*",
					 NULL};
	static const char *const o2[] = {"name", "fake_out", "match", "fa*",
					 NULL};
	static const char *const o3[] = {"name", "fake_out", "match", "other",
					 NULL};

	(void)state;
	run_init(&r);
	section(&r, SL_SEC_INPUT, in);
	section(&r, SL_SEC_OUTPUT, o1);
	section(&r, SL_SEC_OUTPUT, o2);
	section(&r, SL_SEC_OUTPUT, o3);
	run_pipeline(&r);
	struct fake_out *a = output(&r, 0)->ctx, *b = output(&r, 1)->ctx,
			*c = output(&r, 2)->ctx;
	assert_int_equal(a->delivered, 2500);
	assert_int_equal(b->delivered, 2500);
	assert_int_equal(c->delivered, 0);
	assert_true(sl_metric_value(output(&r, 0)->m_proc_records) == 2500);
	assert_true(sl_metric_value(r.eng->inputs[0]->m_records) == 2500);
	/* every chunk was released once both outputs acknowledged it */
	assert_int_equal(r.eng->chunks_live, 0);
	assert_int_equal(r.eng->n_pending, 0);
	assert_int_equal(r.eng->inputs[0]->mem_used, 0);
	assert_string_equal(output(&r, 1)->ins.name, "fake_out.1");
	/* the input heard of every chunk its records went to, once each */
	assert_true(last_in->chunks_used > 0);
	assert_int_equal(last_in->released, last_in->chunks_used);
	assert_int_equal(last_in->released_max, last_in->last_id);
	assert_false(last_in->released_unknown);
	run_done(&r);
}

static void failed_flushes_are_retried_until_delivered(void **state)
{
	struct run r;
	static const char *const in[] = {"name", "fake_in", "count", "100",
					 NULL};
	static const char *const out[] = {
	    "name", "fake_out", "match", "*", "fail_first", "3", NULL};

	(void)state;
	run_init(&r);
	section(&r, SL_SEC_INPUT, in);
	section(&r, SL_SEC_OUTPUT, out);
	run_pipeline(&r);
	struct fake_out *o = output(&r, 0)->ctx;
	assert_int_equal(o->delivered, 100);
	assert_true(sl_metric_value(output(&r, 0)->m_retries) >= 3);
	assert_true(sl_metric_value(output(&r, 0)->m_errors) == 3);
	assert_true(out_dropped(&r, 0, SL_DROP_RETRY_LIMIT) == 0);
	run_done(&r);
}

static void retry_limit_drops_and_counts(void **state)
{
	struct run r;
	static const char *const in[] = {"name", "fake_in", "count", "40",
					 NULL};
	static const char *const out[] = {"name",	 "fake_out",	"match",
					  "*",		 "always_fail", "on",
					  "retry_limit", "2",		NULL};

	(void)state;
	run_init(&r);
	section(&r, SL_SEC_INPUT, in);
	section(&r, SL_SEC_OUTPUT, out);
	run_pipeline(&r);
	struct fake_out *o = output(&r, 0)->ctx;
	assert_int_equal(o->delivered, 0);
	/* nothing disappears uncounted */
	assert_true(out_dropped(&r, 0, SL_DROP_RETRY_LIMIT) == 40);
	/* each chunk was tried once and retried twice */
	assert_int_equal(o->flushes % 3, 0);
	assert_true(sl_metric_value(output(&r, 0)->m_retries_failed) ==
		    (double)(o->flushes / 3));
	assert_int_equal(r.eng->chunks_live, 0);
	run_done(&r);
}

static void permanent_errors_and_partial_drops_are_counted(void **state)
{
	struct run r;
	static const char *const in[] = {"name", "fake_in", "count", "30",
					 NULL};
	static const char *const bad[] = {"name",      "fake_out",    "match",
					  "*",	       "always_fail", "on",
					  "permanent", "on",	      NULL};
	static const char *const partial[] = {
	    "name", "fake_out", "match", "*", "drop_each", "1", NULL};

	(void)state;
	run_init(&r);
	section(&r, SL_SEC_INPUT, in);
	section(&r, SL_SEC_OUTPUT, bad);
	section(&r, SL_SEC_OUTPUT, partial);
	run_pipeline(&r);
	assert_true(out_dropped(&r, 0, SL_DROP_REJECTED) == 30);
	assert_true(sl_metric_value(output(&r, 0)->m_retries) == 0);
	struct fake_out *p = output(&r, 1)->ctx;
	double dropped = out_dropped(&r, 1, SL_DROP_REJECTED);
	/* delivered + dropped accounts for every record */
	assert_true((double)p->delivered + dropped == 30);
	assert_true(sl_metric_value(output(&r, 1)->m_proc_records) ==
		    (double)p->delivered);
	run_done(&r);
}

static void memory_budget_pauses_and_resumes_the_input(void **state)
{
	struct run r;
	/* ~20 bytes a record: 200k records are ~4 MB through a 64 KB budget */
	static const char *const in[] = {
	    "name", "fake_in", "count", "200000", "mem_buf_limit", "64K", NULL};
	static const char *const out[] = {
	    "name", "fake_out", "match", "*", "fail_first", "2", NULL};

	(void)state;
	run_init(&r);
	section(&r, SL_SEC_INPUT, in);
	section(&r, SL_SEC_OUTPUT, out);
	run_pipeline(&r);
	struct fake_out *o = output(&r, 0)->ctx;
	assert_int_equal(o->delivered, 200000);
	assert_non_null(last_in);
	assert_true(last_in->pauses > 0);
	assert_int_equal(last_in->pauses, last_in->resumes);
	run_done(&r);
}

/*
 * The file is the buffer: an input that can read again holds no more than
 * its window of sealed chunks (the busiest output's workers + 1), where
 * one that cannot fills Mem_Buf_Limit. The emitter never yields to the
 * loop while it may read, so only a pause stops it.
 */
static void window(bool rereadable, const char *workers, size_t *max_held,
		   size_t *win, int *pauses)
{
	struct run r;
	/* ~20 bytes a record: 1M records are ~10 chunks of 2 MB */
	const char *const in[] = {"name",	"fake_in",
				  "count",	"1000000",
				  "rereadable", rereadable ? "on" : "off",
				  NULL};
	const char *const out[] = {"name",    "fake_out", "match", "*",
				   "workers", workers,	  NULL};

	run_init(&r);
	section(&r, SL_SEC_INPUT, in);
	section(&r, SL_SEC_OUTPUT, out);
	run_pipeline(&r);
	struct fake_out *o = output(&r, 0)->ctx;
	assert_int_equal(o->delivered, 1000000);
	assert_int_equal(last_in->pauses, last_in->resumes);
	*max_held = last_in->max_held;
	*pauses = last_in->pauses;
	*win = r.eng->inputs[0]->window;
	run_done(&r);
}

static void rereadable_input_holds_only_its_window(void **state)
{
	size_t held, win;
	int pauses;

	(void)state;
	window(true, "1", &held, &win, &pauses);
	assert_int_equal(win, 2);
	assert_true(held >= 1 && held <= 2);
	assert_true(pauses > 0);
	window(true, "3", &held, &win, &pauses);
	assert_int_equal(win, 4);
	assert_true(held <= 4);
	/* Mem_Buf_Limit (32M) alone lets every chunk pile up */
	window(false, "1", &held, &win, &pauses);
	assert_true(held > 4);
}

/* Fluent Bit's filter records_total: every record handed to the filter;
 * records with invalid UTF-8 repaired are kept and counted per input. */
static void filter_records_are_counted(void **state)
{
	struct run r;
	static const char *const in[] = {"name",     "fake_in", "count", "100",
					 "bad_utf8", "on",	NULL};
	static const char *const add[] = {"name", "modify", "match", "*",
					  "add",  "k v",    NULL};
	static const char *const other[] = {"name", "modify", "match", "x",
					    "add",  "k v",    NULL};
	static const char *const out[] = {"name", "fake_out", "match", "*",
					  NULL};

	(void)state;
	run_init(&r);
	section(&r, SL_SEC_INPUT, in);
	section(&r, SL_SEC_FILTER, add);
	section(&r, SL_SEC_FILTER, other);
	section(&r, SL_SEC_OUTPUT, out);
	run_pipeline(&r);
	assert_int_equal(sl_metric_value(r.eng->filters[0]->m_records), 100);
	assert_int_equal(sl_metric_value(r.eng->filters[1]->m_records), 0);
	assert_int_equal(sl_metric_value(r.eng->filters[0]->m_drop), 0);
	/* sluice_input_repaired_records_total: kept, with U+FFFD */
	assert_int_equal(sl_metric_value(r.eng->inputs[0]->m_repaired), 50);
	struct fake_out *o = output(&r, 0)->ctx;
	assert_int_equal(o->delivered, 100);
	run_done(&r);
}

/* A reload carries counters and histograms, not gauges, by name+labels. */
static void reload_carries_counters(void **state)
{
	struct sl_metrics a, b;
	const char *err;
	const char *const lbl[] = {"name"};
	const char *const v1[] = {"x"}, *const v2[] = {"y"};
	const double buckets[] = {1, 10};

	(void)state;
	sl_metrics_init(&a);
	sl_metrics_init(&b);
	struct sl_metric_family *ca = sl_metrics_family(
	    &a, "c_total", "c", SL_METRIC_COUNTER, lbl, 1, NULL, 0, &err);
	struct sl_metric_family *ga = sl_metrics_family(
	    &a, "g", "g", SL_METRIC_GAUGE, NULL, 0, NULL, 0, &err);
	struct sl_metric_family *ha = sl_metrics_family(
	    &a, "h", "h", SL_METRIC_HISTOGRAM, NULL, 0, buckets, 2, &err);
	struct sl_metric_family *oa = sl_metrics_family(
	    &a, "gone_total", "o", SL_METRIC_COUNTER, NULL, 0, NULL, 0, &err);
	sl_metric_add(sl_metric_series_get(&a, ca, v1), 5);
	sl_metric_add(sl_metric_series_get(&a, ca, v2), 2.5);
	sl_metric_set(sl_metric_series_get(&a, ga, NULL), 7);
	sl_metric_observe(ha, sl_metric_series_get(&a, ha, NULL), 5);
	sl_metric_add(sl_metric_series_get(&a, oa, NULL), 1);

	struct sl_metric_family *cb = sl_metrics_family(
	    &b, "c_total", "c", SL_METRIC_COUNTER, lbl, 1, NULL, 0, &err);
	struct sl_metric_family *gb = sl_metrics_family(
	    &b, "g", "g", SL_METRIC_GAUGE, NULL, 0, NULL, 0, &err);
	struct sl_metric_family *hb = sl_metrics_family(
	    &b, "h", "h", SL_METRIC_HISTOGRAM, NULL, 0, buckets, 2, &err);
	struct sl_metric_series *x = sl_metric_series_get(&b, cb, v1);
	sl_metric_add(x, 1);
	sl_metrics_carry(&b, &a);
	assert_true(sl_metric_value(x) == 6.0);
	assert_true(sl_metric_value(sl_metric_series_get(&b, cb, v2)) == 2.5);
	assert_true(sl_metric_value(sl_metric_series_get(&b, gb, NULL)) == 0);
	struct sl_metric_series *h = sl_metric_series_get(&b, hb, NULL);
	assert_int_equal(h->count_bits, 1);
	assert_int_equal(h->bucket_counts[1], 1);
	/* a family the new config lacks is not created */
	assert_null(sl_metrics_find(&b, "gone_total"));
	sl_metrics_destroy(&a);
	sl_metrics_destroy(&b);
}

static void retry_resends_only_unsettled_records(void **state)
{
	struct run r;
	static const char *const in[] = {"name", "fake_in", "count", "1001",
					 NULL};
	static const char *const out[] = {
	    "name", "fake_out", "match", "*", "settle_half", "on", NULL};

	(void)state;
	run_init(&r);
	section(&r, SL_SEC_INPUT, in);
	section(&r, SL_SEC_OUTPUT, out);
	run_pipeline(&r);
	struct fake_out *o = output(&r, 0)->ctx;
	/* each record delivered exactly once over two attempts per chunk */
	assert_int_equal(o->delivered, 1001);
	assert_true(sl_metric_value(output(&r, 0)->m_proc_records) == 1001);
	assert_true(sl_metric_value(output(&r, 0)->m_retries) >= 1);
	run_done(&r);
}

static void given_up_chunks_count_only_undelivered_records(void **state)
{
	struct run r;
	static const char *const in[] = {"name", "fake_in", "count", "100",
					 NULL};
	static const char *const out[] = {
	    "name",	 "fake_out", "match",	    "*", "settle_half", "on",
	    "then_fail", "on",	     "retry_limit", "1", NULL};

	(void)state;
	run_init(&r);
	section(&r, SL_SEC_INPUT, in);
	section(&r, SL_SEC_OUTPUT, out);
	run_pipeline(&r);
	struct fake_out *o = output(&r, 0)->ctx;
	double proc = sl_metric_value(output(&r, 0)->m_proc_records);
	double lost = out_dropped(&r, 0, SL_DROP_RETRY_LIMIT);
	/* half delivered on the first attempt, the rest given up: each once */
	assert_true(o->delivered > 0 && o->delivered < 100);
	assert_true(proc == (double)o->delivered);
	assert_true(lost == (double)(100 - o->delivered));
	run_done(&r);
}

static void total_limit_gives_up_the_oldest_waiting_chunks(void **state)
{
	struct run r;
	/* ~20 bytes a record, a 4K budget: many small chunks wait on retries */
	static const char *const in[] = {
	    "name", "fake_in", "count", "3000", "mem_buf_limit", "4K", NULL};
	static const char *const out[] = {"name",
					  "fake_out",
					  "match",
					  "*",
					  "fail_first",
					  "30",
					  "storage.total_limit_size",
					  "2K",
					  NULL};

	(void)state;
	run_init(&r);
	section(&r, SL_SEC_INPUT, in);
	section(&r, SL_SEC_OUTPUT, out);
	run_pipeline(&r);
	struct fake_out *o = output(&r, 0)->ctx;
	double full = out_dropped(&r, 0, SL_DROP_BUFFER_FULL);
	/* some chunks were given up, the rest delivered: every record once */
	assert_true(full > 0);
	assert_true((double)o->delivered + full == 3000);
	assert_int_equal(output(&r, 0)->held_bytes, 0);
	run_done(&r);
}

/* ---- storage.type filesystem ------------------------------------------- */

static void run_init_storage_up(struct run *r, const char *dir,
				const char *mem_limit, const char *max_up)
{
	const char *svc[] = {"flush",
			     "0.01",
			     "scheduler.base",
			     "0.001",
			     "scheduler.cap",
			     "0.01",
			     "grace",
			     "5",
			     "log_level",
			     "error",
			     "storage.path",
			     dir,
			     "storage.backlog.mem_limit",
			     mem_limit,
			     "storage.max_chunks_up",
			     max_up,
			     NULL};

	memset(r, 0, sizeof(*r));
	sl_conf_init(&r->conf);
	r->file = sl_conf_intern_file(&r->conf, "engine-test.conf");
	r->conf.main_file = r->file;
	section(r, SL_SEC_SERVICE, svc);
}

static void run_init_storage(struct run *r, const char *dir,
			     const char *mem_limit)
{
	run_init_storage_up(r, dir, mem_limit, "128");
}

static void make_tmpdir(char *dir, size_t cap)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, cap, "%s/sl_engine_XXXXXX", tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(dir));
}

static int rm_one(const char *p, const struct stat *sb, int flag,
		  struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static double series_value(struct sl_engine *eng, const char *family,
			   const char *label_value)
{
	struct sl_metric_family *f = sl_metrics_find(&eng->metrics, family);

	assert_non_null(f);
	for (struct sl_metric_series *s = f->series; s; s = s->next)
		if (!label_value || (f->n_labels && strcmp(s->label_values[0],
							   label_value) == 0))
			return sl_metric_value(s);
	fail_msg("no series %s{%s}", family, label_value ? label_value : "");
	return 0;
}

static void emit_n(struct sl_input *in, const char *tag, size_t tag_len, int n)
{
	struct sl_record rec;

	sl_record_init(&rec);
	for (int i = 0; i < n; i++) {
		assert_int_equal(sl_record_reset_json(&rec, 0, "{\"x\":1}", 7),
				 0);
		assert_int_equal(sl_input_emit(in, tag, tag_len, &rec), 0);
	}
	sl_record_destroy(&rec);
}

/* A filesystem input never counts as stored what has no file: persist
 * fails, the records are taken back (the sender retries), the failure is
 * counted; what is on disk is reported safe and survives a restart. */
static void filesystem_input_refuses_what_it_cannot_store(void **state)
{
	struct run r;
	char dir[256];
	static const char *const in[] = {"name", "fake_in",	 "hold",
					 "on",	 "storage.type", "filesystem",
					 NULL};
	static const char *const out[] = {"name", "fake_out", "match", "*",
					  NULL};
	size_t long_len = SL_STORAGE_TAG_MAX + 10;
	char *long_tag = malloc(long_len);
	struct sl_input *input;

	(void)state;
	assert_non_null(long_tag);
	memset(long_tag, 'l', long_len);
	make_tmpdir(dir, sizeof(dir));
	run_init_storage(&r, dir, "100M");
	section(&r, SL_SEC_INPUT, in);
	section(&r, SL_SEC_OUTPUT, out);
	r.eng = sl_engine_create_with(&r.conf, &r.diag, extra_in, extra_out);
	assert_non_null(r.eng);
	assert_int_equal(sl_engine_start(r.eng), 0);
	input = r.eng->inputs[0];

	emit_n(input, long_tag, long_len, 3);
	assert_int_equal(sl_input_persist(input), -SL_EIO);
	assert_int_equal(input->n_open, 0); /* taken back */
	assert_int_equal(input->mem_used, 0);
	assert_int_equal(last_in->persisted, 0);
	assert_true(
	    series_value(r.eng, "sluice_storage_errors_total", "create") >= 1);

	emit_n(input, "ok", 2, 2);
	assert_int_equal(sl_input_persist(input), 0);
	assert_int_equal(last_in->persisted, 1);
	assert_int_equal(last_in->persisted_max, sl_input_last_chunk(input));
	/* a crash now: the open chunk stays on disk */
	sl_engine_destroy(r.eng);
	sl_conf_destroy(&r.conf);
	sl_diag_destroy(&r.diag);

	/* the restart delivers exactly the 2 stored records */
	static const char *const in2[] = {"name", "fake_in",	  "count",
					  "0",	  "storage.type", "filesystem",
					  NULL};
	run_init_storage(&r, dir, "100M");
	section(&r, SL_SEC_INPUT, in2);
	section(&r, SL_SEC_OUTPUT, out);
	run_pipeline(&r);
	assert_int_equal(((struct fake_out *)output(&r, 0)->ctx)->delivered, 2);
	run_done(&r);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(long_tag);
}

struct backlog_watch {
	struct sl_engine *eng;
	struct fake_out *out;
	int64_t want;
	int ticks;
	double max_down;
	struct event *ev;
};

static void backlog_poll(evutil_socket_t fd, short what, void *arg)
{
	struct backlog_watch *w = arg;
	struct timeval tv = {0, 10000};
	double down = series_value(w->eng, "sluice_storage_chunks", "down");

	(void)fd;
	(void)what;
	if (down > w->max_down)
		w->max_down = down;
	if (__atomic_load_n(&w->out->delivered, __ATOMIC_SEQ_CST) >= w->want ||
	    ++w->ticks > 1000) {
		sl_engine_stop(w->eng);
		return;
	}
	evtimer_add(w->ev, &tv);
}

/* A backlog over storage.backlog.mem_limit waits on disk and is loaded as
 * delivered chunks free room: all of it arrives, once. */
static void backlog_over_the_limit_waits_on_disk(void **state)
{
	struct run r;
	char dir[256];
	static const char *const in[] = {"name", "fake_in",	 "hold",
					 "on",	 "storage.type", "filesystem",
					 NULL};
	static const char *const out[] = {"name", "fake_out", "match", "*",
					  NULL};
	struct sl_storage_opts o = {0};
	struct sl_storage *st;
	char body[1001];
	struct backlog_watch w = {0};
	struct timeval tv = {0, 0};

	(void)state;
	make_tmpdir(dir, sizeof(dir));
	memset(body, 'b', sizeof(body) - 1);
	body[sizeof(body) - 1] = '\0';
	o.path = dir;
	assert_int_equal(sl_storage_open(&o, &st), 0);
	/* 5 sealed chunks of 100 records of ~1 KB: ~100 KB each */
	for (uint64_t id = 1; id <= 5; id++) {
		struct sl_chunk *c = sl_chunk_create(NULL, "bk", 2);
		struct sl_storage_chunk *f;

		assert_non_null(c);
		for (int i = 0; i < 100; i++)
			assert_int_equal(sl_chunk_append(c, 1, body, 1000), 0);
		assert_int_equal(
		    sl_storage_chunk_create(st, "fake_in.0", "bk", 2, id, &f),
		    0);
		assert_int_equal(sl_storage_chunk_seal(f, &c->data, c->records),
				 0);
		sl_storage_chunk_close(f);
		sl_chunk_destroy(c);
	}
	sl_storage_close(st);

	run_init_storage(&r, dir, "250K");
	section(&r, SL_SEC_INPUT, in);
	section(&r, SL_SEC_OUTPUT, out);
	r.eng = sl_engine_create_with(&r.conf, &r.diag, extra_in, extra_out);
	assert_non_null(r.eng);
	assert_int_equal(sl_engine_start(r.eng), 0);
	/* two fit in 250 KB, three wait on disk */
	assert_true(series_value(r.eng, "sluice_storage_chunks", "down") == 3);
	w.eng = r.eng;
	w.out = output(&r, 0)->ctx;
	w.want = 500;
	w.ev = evtimer_new(r.eng->base, backlog_poll, &w);
	assert_non_null(w.ev);
	evtimer_add(w.ev, &tv);
	assert_int_equal(sl_engine_run(r.eng), 0);
	event_free(w.ev);
	assert_int_equal(w.out->delivered, 500);
	assert_true(series_value(r.eng, "sluice_storage_chunks", "down") == 0);
	run_done(&r);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* While running, sealed filesystem chunks beyond storage.max_chunks_up go
 * down to disk (memory returned to the input) and come back as the output
 * frees room: every record is delivered once. */
static void chunks_over_max_up_go_down_while_running(void **state)
{
	struct run r;
	char dir[256];
	static const char *const in[] = {"name", "fake_in",	 "hold",
					 "on",	 "storage.type", "filesystem",
					 NULL};
	static const char *const out[] = {
	    "name", "fake_out", "match", "*", "fail_first", "3", NULL};
	struct backlog_watch w = {0};
	struct timeval tv = {0, 0};
	struct sl_input *input;
	char tag[8];

	(void)state;
	make_tmpdir(dir, sizeof(dir));
	run_init_storage_up(&r, dir, "100M", "2");
	section(&r, SL_SEC_INPUT, in);
	section(&r, SL_SEC_OUTPUT, out);
	r.eng = sl_engine_create_with(&r.conf, &r.diag, extra_in, extra_out);
	assert_non_null(r.eng);
	assert_int_equal(sl_engine_start(r.eng), 0);
	input = r.eng->inputs[0];
	/* 6 tags: 6 open chunks, sealed together by the first flush */
	for (int t = 0; t < 6; t++) {
		int n = snprintf(tag, sizeof(tag), "t%d", t);

		emit_n(input, tag, (size_t)n, 50);
	}
	w.eng = r.eng;
	w.out = output(&r, 0)->ctx;
	w.want = 300;
	w.ev = evtimer_new(r.eng->base, backlog_poll, &w);
	assert_non_null(w.ev);
	evtimer_add(w.ev, &tv);
	assert_int_equal(sl_engine_run(r.eng), 0);
	event_free(w.ev);
	assert_true(w.max_down >= 4); /* 2 up, the rest waited on disk */
	assert_int_equal(w.out->delivered, 300);
	assert_true(series_value(r.eng, "sluice_storage_chunks", "down") == 0);
	assert_int_equal(input->mem_used, 0);
	run_done(&r);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void config_errors_name_file_and_line(void **state)
{
	struct run r;
	static const char *const in[] = {"name", "fake_in", "bogus_key", "1",
					 NULL};
	static const char *const out[] = {"name", "no_such_output", NULL};
	static const char *const out2[] = {
	    "name", "fake_out", "match", "*", "retry_limit", "sometimes", NULL};

	(void)state;
	run_init(&r);
	section(&r, SL_SEC_INPUT, in);
	section(&r, SL_SEC_OUTPUT, out);
	section(&r, SL_SEC_OUTPUT, out2);
	r.eng = sl_engine_create_with(&r.conf, &r.diag, extra_in, extra_out);
	assert_null(r.eng);
	assert_true(r.diag.n >= 3);
	int unknown_opt = 0, unknown_plugin = 0, retry = 0;
	for (size_t i = 0; i < r.diag.n; i++) {
		const char *m = r.diag.msgs[i];

		assert_true(strncmp(m, "engine-test.conf:", 17) == 0);
		if (strstr(m, "bogus_key"))
			unknown_opt = 1;
		if (strstr(m, "no_such_output"))
			unknown_plugin = 1;
		if (strstr(m, "Retry_Limit"))
			retry = 1;
	}
	assert_true(unknown_opt && unknown_plugin && retry);
	run_done(&r);
}

int main(void)
{
	/* Log_Level is applied by main(), not the engine: keep tests quiet */
	sl_log_set_level(SL_LOG_ERROR);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_record_reaches_every_matching_output),
	    cmocka_unit_test(failed_flushes_are_retried_until_delivered),
	    cmocka_unit_test(retry_limit_drops_and_counts),
	    cmocka_unit_test(permanent_errors_and_partial_drops_are_counted),
	    cmocka_unit_test(memory_budget_pauses_and_resumes_the_input),
	    cmocka_unit_test(rereadable_input_holds_only_its_window),
	    cmocka_unit_test(filter_records_are_counted),
	    cmocka_unit_test(reload_carries_counters),
	    cmocka_unit_test(retry_resends_only_unsettled_records),
	    cmocka_unit_test(given_up_chunks_count_only_undelivered_records),
	    cmocka_unit_test(total_limit_gives_up_the_oldest_waiting_chunks),
	    cmocka_unit_test(config_errors_name_file_and_line),
	    cmocka_unit_test(filesystem_input_refuses_what_it_cannot_store),
	    cmocka_unit_test(backlog_over_the_limit_waits_on_disk),
	    cmocka_unit_test(chunks_over_max_up_go_down_while_running),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
