/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dummy.c - the dummy input: emits the same JSON record (`Dummy`) `Copies`
 * times per tick, at `Rate` ticks a second or every Interval_sec/nsec, for
 * `Samples` ticks (0: forever), then goes idle: as in Fluent Bit, the
 * process keeps running (sl_input_idle). For tests and demos; it reads
 * nothing. Metadata is accepted: sluice records have none.
 */
#include "sl_input.h"
#include "sl_log.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#define DUMMY_DEFAULT "{\"message\":\"dummy\"}"

struct dummy_ctx {
	/* config map */
	char *dummy;
	int64_t rate;
	int64_t interval_sec;
	int64_t interval_nsec;
	int64_t samples;
	int64_t start_time_sec;
	int64_t start_time_nsec;
	bool fixed_timestamp;
	bool flush_on_startup;
	int64_t copies;

	/* runtime */
	struct sl_input *in; /* borrowed */
	int64_t period_ns;   /* between ticks */
	int64_t ticks;	     /* ticks done */
	int64_t fixed_ts;    /* Fixed_timestamp: the one time used */
	bool have_start;     /* Start_time_* given */
	int64_t start_ns;    /* that time */
	int64_t first_mono;  /* when the first record went out (0: not yet) */
	struct sl_record rec;
	bool rec_ok;
	struct event *timer;
	bool paused, stopped;
};

static const struct sl_cfg_option dummy_config[] = {
    {.name = "Dummy",
     .type = SL_CFG_STR,
     .def = DUMMY_DEFAULT,
     .offset = offsetof(struct dummy_ctx, dummy),
     .desc = "the record to generate, a JSON object"},
    {.name = "Rate",
     .type = SL_CFG_INT,
     .def = "1",
     .min = 0,
     .max = 1000000000,
     .offset = offsetof(struct dummy_ctx, rate),
     .desc = "ticks per second"},
    {.name = "Interval_sec",
     .type = SL_CFG_INT,
     .def = "0",
     .min = 0,
     .max = 31536000,
     .offset = offsetof(struct dummy_ctx, interval_sec),
     .desc = "seconds between ticks (with Interval_nsec, overrides Rate)"},
    {.name = "Interval_nsec",
     .type = SL_CFG_INT,
     .def = "0",
     .min = 0,
     .max = 999999999,
     .offset = offsetof(struct dummy_ctx, interval_nsec),
     .desc = "nanoseconds between ticks"},
    {.name = "Samples",
     .type = SL_CFG_INT,
     .def = "0",
     .min = 0,
     .max = 9e15,
     .offset = offsetof(struct dummy_ctx, samples),
     .desc = "ticks before the input finishes (0: forever)"},
    {.name = "Start_time_sec",
     .type = SL_CFG_INT,
     .def = "-1",
     .min = -1,
     .max = 9e15,
     .offset = offsetof(struct dummy_ctx, start_time_sec),
     .desc = "time of the first record, epoch seconds"},
    {.name = "Start_time_nsec",
     .type = SL_CFG_INT,
     .def = "-1",
     .min = -1,
     .max = 999999999,
     .offset = offsetof(struct dummy_ctx, start_time_nsec),
     .desc = "nanoseconds of the first record's time"},
    {.name = "Fixed_timestamp",
     .type = SL_CFG_BOOL,
     .def = "off",
     .offset = offsetof(struct dummy_ctx, fixed_timestamp),
     .desc = "every record carries the same time"},
    {.name = "Flush_on_startup",
     .type = SL_CFG_BOOL,
     .def = "off",
     .offset = offsetof(struct dummy_ctx, flush_on_startup),
     .desc = "first tick at start instead of one period later"},
    {.name = "Copies",
     .type = SL_CFG_INT,
     .def = "1",
     .min = 1,
     .max = 1000000,
     .offset = offsetof(struct dummy_ctx, copies),
     .desc = "records per tick"},
    {.name = "Metadata",
     .type = SL_CFG_STR,
     .flags = SL_CFG_IGNORED,
     .desc = "accepted; sluice records carry no metadata"},
    {.name = "Event_Type",
     .type = SL_CFG_STR,
     .flags = SL_CFG_IGNORED,
     .desc = "accepted; sluice generates logs only"},
    SL_CFG_END,
};

/* Time of the next record (see Fluent Bit's in_dummy: a start time moves
 * on with the wall clock from the first record). */
static int64_t record_time(struct dummy_ctx *ctx)
{
	if (ctx->fixed_timestamp)
		return ctx->fixed_ts;
	if (!ctx->have_start)
		return sl_now_ns();
	if (ctx->first_mono == 0) {
		ctx->first_mono = sl_mono_ns();
		return ctx->start_ns;
	}
	return ctx->start_ns + (sl_mono_ns() - ctx->first_mono);
}

static void tick(struct dummy_ctx *ctx)
{
	size_t tag_len, len = strlen(ctx->dummy);
	const char *tag = sl_input_tag(ctx->in, &tag_len);

	if (ctx->samples > 0 && ctx->ticks >= ctx->samples)
		return;
	for (int64_t i = 0; i < ctx->copies; i++) {
		if (sl_record_reset_json(&ctx->rec, record_time(ctx),
					 ctx->dummy, len) < 0)
			break; /* validated at init: only ENOMEM gets here */
		sl_input_emit(ctx->in, tag, tag_len, &ctx->rec);
		sl_input_add_bytes(ctx->in, len);
	}
	ctx->ticks++;
	if (ctx->samples > 0 && ctx->ticks >= ctx->samples) {
		if (ctx->timer)
			event_del(ctx->timer);
		sl_input_idle(ctx->in);
	}
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct dummy_ctx *ctx = arg;

	(void)fd;
	(void)what;
	/* While paused ticks are skipped, not queued: dummy has no backlog. */
	if (ctx->paused || ctx->stopped || sl_input_paused(ctx->in))
		return;
	tick(ctx);
}

static int dummy_init(void *data, struct sl_input *in)
{
	struct dummy_ctx *ctx = data;
	struct sl_plugin_instance *ins = sl_input_instance(in);
	int rc;

	ctx->in = in;
	sl_record_init(&ctx->rec);
	ctx->rec_ok = true;
	rc = sl_record_reset_json(&ctx->rec, 0, ctx->dummy, strlen(ctx->dummy));
	if (rc == -SL_ENOMEM)
		return rc;
	if (rc < 0) {
		sl_plugin_error(ins, 0, "Dummy is not a JSON object: %s",
				ctx->dummy);
		return -SL_ECONFIG;
	}
	if (ctx->interval_sec > 0 || ctx->interval_nsec > 0)
		ctx->period_ns =
		    ctx->interval_sec * SL_NS_PER_SEC + ctx->interval_nsec;
	else if (ctx->rate > 1)
		ctx->period_ns = SL_NS_PER_SEC / ctx->rate;
	else
		ctx->period_ns = SL_NS_PER_SEC;
	if (ctx->start_time_sec >= 0 || ctx->start_time_nsec >= 0) {
		ctx->have_start = true;
		ctx->start_ns =
		    (ctx->start_time_sec > 0
			 ? ctx->start_time_sec * SL_NS_PER_SEC
			 : 0) +
		    (ctx->start_time_nsec > 0 ? ctx->start_time_nsec : 0);
	}
	ctx->fixed_ts = ctx->have_start ? ctx->start_ns : sl_now_ns();
	return 0;
}

static int dummy_start(void *data, struct sl_input *in)
{
	struct dummy_ctx *ctx = data;
	struct timeval tv = {
	    .tv_sec = (time_t)(ctx->period_ns / SL_NS_PER_SEC),
	    .tv_usec = (suseconds_t)((ctx->period_ns % SL_NS_PER_SEC) / 1000),
	};

	if (tv.tv_sec == 0 && tv.tv_usec == 0)
		tv.tv_usec =
		    1; /* sub-microsecond periods: as fast as the loop */
	ctx->timer =
	    event_new(sl_input_base(in), -1, EV_PERSIST, on_timer, ctx);
	if (!ctx->timer || event_add(ctx->timer, &tv) < 0)
		return -SL_ENOMEM;
	if (ctx->flush_on_startup)
		tick(ctx);
	return 0;
}

static void dummy_pause(void *data)
{
	((struct dummy_ctx *)data)->paused = true;
}

static void dummy_resume(void *data)
{
	((struct dummy_ctx *)data)->paused = false;
}

static void dummy_stop(void *data)
{
	struct dummy_ctx *ctx = data;

	ctx->stopped = true;
	if (ctx->timer) {
		event_free(ctx->timer);
		ctx->timer = NULL;
	}
}

static void dummy_destroy(void *data)
{
	struct dummy_ctx *ctx = data;

	dummy_stop(ctx);
	if (ctx->rec_ok)
		sl_record_destroy(&ctx->rec);
	ctx->rec_ok = false;
}

const struct sl_input_plugin sl_input_dummy = {
    .name = "dummy",
    .description = "generate a fixed JSON record at a rate",
    .config_map = dummy_config,
    .ctx_size = sizeof(struct dummy_ctx),
    .init = dummy_init,
    .start = dummy_start,
    .pause = dummy_pause,
    .resume = dummy_resume,
    .stop = dummy_stop,
    .destroy = dummy_destroy,
};
