/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_engine.c - the engine loop: records in from inputs, through the filter
 * chain, into per-tag chunks; sealed chunks routed to every matching output
 * with a reference each; results back from workers; retries with backoff;
 * a chunk released only when every output acknowledged it or dropped it
 * with a counted reason. Also shutdown: stop inputs, flush, wait for the
 * outputs up to Grace.
 *
 * Building the pipeline from the config is in sl_engine_conf.c; what
 * inputs call (emit, pause) in sl_input.c; the flush API outputs call in
 * sl_output.c.
 */
#include "sl_engine_int.h"
#include "sl_http_client.h"
#include "sl_log.h"
#include "sl_retry.h"

#include <event2/thread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static void enforce_total_limit(struct sl_engine *eng, struct sl_output *out);
static void maybe_finish(struct sl_engine *eng);

/* ---- chunks: routing, release ------------------------------------------- */

/* The chunk's input: NULL for a chunk a reload carried over from an
 * input the new configuration no longer has. */
static void release_chunk(struct sl_engine *eng, struct sl_chunk *c)
{
	struct sl_input *in = c->origin;
	uint64_t id = c->id;

	bool told = c->input_told;

	eng->chunks_live--;
	sl_metric_set(eng->m_chunks_up, (double)eng->chunks_live);
	if (in) {
		in->mem_used -=
		    c->data.len < in->mem_used ? c->data.len : in->mem_used;
		if (in->chunks_held)
			in->chunks_held--;
	}
	sl_engine_storage_remove(c);
	if (!eng->spare.data && c->data.cap >= SL_CHUNK_SEAL_BYTES) {
		eng->spare = c->data;
		memset(&c->data, 0, sizeof(c->data));
	}
	sl_chunk_destroy(c);
	if (in && !told && in->plugin->chunk_released)
		in->plugin->chunk_released(in->ctx, id);
	if (in && in->paused && !sl_engine_input_over_budget(in) &&
	    !sl_engine_input_over_window(in))
		sl_engine_input_resume(in);
	maybe_finish(eng);
}

static void pending_add(struct sl_engine *eng, struct sl_flush *fl)
{
	fl->next_pending = eng->pending;
	fl->prev_pending = NULL;
	if (eng->pending)
		eng->pending->prev_pending = fl;
	eng->pending = fl;
	eng->n_pending++;
}

static void pending_remove(struct sl_engine *eng, struct sl_flush *fl)
{
	if (fl->prev_pending)
		fl->prev_pending->next_pending = fl->next_pending;
	else
		eng->pending = fl->next_pending;
	if (fl->next_pending)
		fl->next_pending->prev_pending = fl->prev_pending;
	eng->n_pending--;
}

void sl_engine_dispatch(struct sl_engine *eng, struct sl_chunk *c)
{
	eng->chunks_live++;
	if (c->origin)
		c->origin->chunks_held++;
	sl_metric_set(eng->m_chunks_up, (double)eng->chunks_live);
	c->refs = 1; /* held by this function until every flush is queued */
	/* by Match, or by the input's routes; processed copies for outputs
	 * with processors (sl_engine_routes.c) */
	struct sl_delivery *dl = NULL;
	int n = sl_engine_deliveries(eng, c, &dl);

	for (int i = 0; i < n; i++) {
		struct sl_output *out = dl[i].out;
		struct sl_chunk *send = dl[i].chunk;
		struct sl_flush *fl = calloc(1, sizeof(*fl));

		if (!fl) {
			sl_log(SL_LOG_ERROR, out->ins.name,
			       "out of memory: %u records dropped",
			       send->records);
			sl_metric_add(out->m_dropped[SL_DROP_BUFFER_FULL],
				      send->records);
			if (send != c && --send->refs == 0)
				sl_engine_copy_free(send);
			continue;
		}
		fl->eng = eng;
		fl->out = out;
		fl->chunk = send;
		fl->source = send != c ? c : NULL;
		c->refs++;
		pending_add(eng, fl);
		out->held_bytes += send->data.len;
		sl_worker_pool_push(out->pool, fl);
		enforce_total_limit(eng, out);
	}
	free(dl);
	if (--c->refs == 0)
		release_chunk(eng, c);
}

void sl_engine_dispatch_recovered(struct sl_engine *eng, struct sl_chunk *c)
{
	c->input_told = true; /* the input never saw these records */
	sl_engine_dispatch(eng, c);
}

/* Seals every open chunk of every input (flush timer, shutdown). */
static void seal_all(struct sl_engine *eng)
{
	for (size_t i = 0; i < eng->n_inputs; i++) {
		struct sl_input *in = eng->inputs[i];

		while (in->n_open)
			sl_engine_input_seal(in, in->n_open - 1);
		if (!in->stopped && sl_engine_input_over_window(in))
			sl_engine_input_pause(in);
	}
}

void sl_engine_post_completion(struct sl_engine *eng, struct sl_flush *fl)
{
	pthread_mutex_lock(&eng->completion_lock);
	fl->next = eng->completed;
	eng->completed = fl;
	pthread_mutex_unlock(&eng->completion_lock);
	event_active(eng->completion_ev, EV_READ, 0);
}

/* A flush lets go of its copy of a chunk (routes, processors), if any;
 * returns the chunk whose reference it holds. */
static struct sl_chunk *flush_unref_copy(struct sl_flush *fl)
{
	struct sl_chunk *c = fl->source ? fl->source : fl->chunk;

	if (fl->source && --fl->chunk->refs == 0)
		sl_engine_copy_free(fl->chunk);
	fl->chunk = c;
	fl->source = NULL;
	return c;
}

static void flush_finish(struct sl_engine *eng, struct sl_flush *fl)
{
	struct sl_chunk *c = fl->chunk;

	pending_remove(eng, fl);
	fl->out->held_bytes -= c->data.len < fl->out->held_bytes
				   ? c->data.len
				   : fl->out->held_bytes;
	if (fl->retry_timer)
		event_free(fl->retry_timer);
	c = flush_unref_copy(fl);
	free(fl->settled);
	free(fl);
	if (--c->refs == 0)
		release_chunk(eng, c);
}

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sl_flush *fl = arg;

	(void)fd;
	(void)what;
	sl_metric_add(fl->out->m_retries, 1);
	sl_worker_pool_push(fl->out->pool, fl);
}

static void schedule_retry(struct sl_engine *eng, struct sl_flush *fl)
{
	double delay =
	    sl_retry_backoff(fl->attempt, eng->service.scheduler_base,
			     eng->service.scheduler_cap, sl_retry_random());

	/* a server's Retry-After is a floor, capped like any backoff */
	if (fl->retry_after > delay)
		delay = fl->retry_after < eng->service.scheduler_cap
			    ? fl->retry_after
			    : eng->service.scheduler_cap;
	fl->retry_after = 0;
	struct timeval tv = {
	    .tv_sec = (time_t)delay,
	    .tv_usec = (suseconds_t)((delay - (double)(time_t)delay) * 1e6),
	};

	if (!fl->retry_timer)
		fl->retry_timer = evtimer_new(eng->base, retry_cb, fl);
	if (!fl->retry_timer) {
		retry_cb(-1, 0, fl); /* no timer: retry at once */
		return;
	}
	sl_log(SL_LOG_WARN, fl->out->ins.name,
	       "chunk %llu (%u records, tag %s) will be retried in %.1f s "
	       "(attempt %d)",
	       (unsigned long long)fl->chunk->id, fl->chunk->records,
	       fl->chunk->tag, delay, fl->attempt);
	evtimer_add(fl->retry_timer, &tv);
	enforce_total_limit(eng, fl->out);
}

/* Records of the chunk settled (delivered or dropped) by sl_flush_mark. */
static uint64_t settled_count(const struct sl_flush *fl)
{
	uint64_t n = 0;

	if (!fl->settled)
		return 0;
	for (uint32_t i = 0; i < (fl->chunk->records + 7) / 8; i++)
		n += (uint64_t)__builtin_popcount(fl->settled[i]);
	return n;
}

/*
 * A delivery ends untried further: the records the output marked were
 * delivered, the unsettled rest is dropped for `reason`; both counted.
 * Returns the number dropped now, and the delivered ones in *delivered.
 */
static uint64_t count_rest(struct sl_flush *fl, enum sl_drop_reason reason,
			   uint64_t *delivered_out)
{
	struct sl_output *out = fl->out;
	struct sl_chunk *c = fl->chunk;
	uint64_t dropped = __atomic_load_n(&fl->dropped, __ATOMIC_RELAXED);
	/* marked records include the dropped ones (outputs mark both) */
	uint64_t settled = settled_count(fl);
	uint64_t delivered = settled > dropped ? settled - dropped : 0;
	uint64_t unsettled = c->records > dropped + delivered
				 ? c->records - dropped - delivered
				 : 0;

	sl_metric_add(out->m_proc_records, (double)delivered);
	sl_metric_add(out->m_dropped[reason], (double)unsettled);
	*delivered_out = delivered;
	return unsettled;
}

/* Ends a delivery that will not be tried again (see count_rest). */
static void give_up(struct sl_engine *eng, struct sl_flush *fl,
		    enum sl_drop_reason reason)
{
	struct sl_output *out = fl->out;
	struct sl_chunk *c = fl->chunk;
	uint64_t delivered;
	uint64_t unsettled = count_rest(fl, reason, &delivered);

	sl_log(SL_LOG_ERROR, out->ins.name,
	       "chunk %llu (tag %s): %llu records dropped (%s) after %d "
	       "attempts; %llu had been delivered",
	       (unsigned long long)c->id, c->tag, (unsigned long long)unsettled,
	       sl_drop_reason_name(reason), fl->attempt + 1,
	       (unsigned long long)delivered);
	flush_finish(eng, fl);
}

/*
 * storage.total_limit_size: while the chunks held for `out` exceed it, the
 * oldest one waiting for a retry is given up (buffer_full), so that an
 * output that stays down cannot hold records without bound. A chunk being
 * sent now is never cut short.
 */
static void enforce_total_limit(struct sl_engine *eng, struct sl_output *out)
{
	int64_t limit = out->common.storage_total_limit_size;

	while (limit > 0 && out->held_bytes > (uint64_t)limit) {
		struct sl_flush *oldest = NULL;

		/* the pending list runs newest first */
		for (struct sl_flush *fl = eng->pending; fl;
		     fl = fl->next_pending)
			if (fl->out == out && fl->retry_timer &&
			    evtimer_pending(fl->retry_timer, NULL))
				oldest = fl;
		if (!oldest)
			return;
		evtimer_del(oldest->retry_timer);
		give_up(eng, oldest, SL_DROP_BUFFER_FULL);
	}
}

/*
 * Accounts for every record of the chunk exactly once: dropped ones were
 * counted by sl_flush_drop; on success all the others were delivered; when
 * the chunk is given up, those the output marked were delivered and only
 * the unsettled rest is dropped now.
 */
static void handle_result(struct sl_engine *eng, struct sl_flush *fl)
{
	struct sl_output *out = fl->out;
	struct sl_chunk *c = fl->chunk;
	uint64_t dropped = __atomic_load_n(&fl->dropped, __ATOMIC_RELAXED);
	uint64_t not_dropped = c->records > dropped ? c->records - dropped : 0;
	enum sl_drop_reason reason = SL_DROP_RETRY_LIMIT;

	/* never attempted: a stopping pool handed it back, it stays pending */
	if (fl->unstarted) {
		fl->unstarted = false;
		return;
	}
	switch (fl->result) {
	case SL_FLUSH_OK:
		sl_metric_add(out->m_proc_records, (double)not_dropped);
		sl_metric_add(out->m_proc_bytes, (double)c->data.len);
		flush_finish(eng, fl);
		return;
	case SL_FLUSH_RETRY:
		sl_metric_add(out->m_errors, 1);
		if (out->retry_limit == SL_RETRY_FOREVER ||
		    fl->attempt < out->retry_limit) {
			fl->attempt++;
			/* the output skips what it marked settled; during a
			 * reload the next pipeline retries it */
			if (!eng->handing_over)
				schedule_retry(eng, fl);
			return;
		}
		sl_metric_add(out->m_retries_failed, 1);
		break;
	case SL_FLUSH_ERROR:
	default:
		sl_metric_add(out->m_errors, 1);
		reason = SL_DROP_REJECTED;
		break;
	}
	give_up(eng, fl, reason);
}

static void completion_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sl_engine *eng = arg;
	struct sl_flush *list, *fl, *rev = NULL;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&eng->completion_lock);
	list = eng->completed;
	eng->completed = NULL;
	pthread_mutex_unlock(&eng->completion_lock);
	/* the list is LIFO; handle in arrival order */
	while (list) {
		fl = list;
		list = fl->next;
		fl->next = rev;
		rev = fl;
	}
	while (rev) {
		fl = rev;
		rev = fl->next;
		fl->next = NULL;
		handle_result(eng, fl);
	}
}

/* ---- timers, signals, shutdown ------------------------------------------- */

static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sl_engine *eng = arg;

	(void)fd;
	(void)what;
	/* filesystem inputs: what arrived is on disk before anything else */
	sl_engine_storage_tick(eng);
	seal_all(eng);
	sl_metric_set(eng->m_uptime,
		      (double)(sl_mono_ns() - eng->start_mono_ns) / 1e9);
}

static void maybe_finish(struct sl_engine *eng)
{
	if (eng->stopping && eng->chunks_live == 0 && eng->n_pending == 0)
		event_base_loopexit(eng->base, NULL);
}

static void grace_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sl_engine *eng = arg;
	uint64_t records = 0;

	(void)fd;
	(void)what;
	for (struct sl_flush *fl = eng->pending; fl; fl = fl->next_pending)
		records += fl->chunk->records;
	sl_log(SL_LOG_WARN, "engine",
	       "grace period over with %zu deliveries (%llu records) still "
	       "pending; they are not delivered",
	       eng->n_pending, (unsigned long long)records);
	event_base_loopexit(eng->base, NULL);
}

/* Shutdown and hand-over: no input reads again; what they hold is sealed
 * and routed. */
static void stop_inputs(struct sl_engine *eng)
{
	for (size_t i = 0; i < eng->n_inputs; i++) {
		struct sl_input *in = eng->inputs[i];

		if (in->started && !in->stopped && in->plugin->stop)
			in->plugin->stop(in->ctx);
		in->stopped = true;
	}
	seal_all(eng);
}

static void begin_stop(struct sl_engine *eng)
{
	struct timeval grace = {.tv_sec = (time_t)eng->service.grace};

	if (eng->stopping)
		return;
	eng->stopping = true;
	sl_log(SL_LOG_INFO, "engine",
	       "stopping: flushing pending records "
	       "(grace %lld s)",
	       (long long)eng->service.grace);
	stop_inputs(eng);
	/* Retries waiting on backoff go now: the grace period is short. */
	for (struct sl_flush *fl = eng->pending; fl; fl = fl->next_pending)
		if (fl->retry_timer && evtimer_pending(fl->retry_timer, NULL)) {
			struct timeval now = {0, 0};

			evtimer_add(fl->retry_timer, &now);
		}
	eng->grace_timer = evtimer_new(eng->base, grace_cb, eng);
	if (eng->grace_timer)
		evtimer_add(eng->grace_timer, &grace);
	maybe_finish(eng);
}

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	begin_stop(arg);
}

/*
 * A reload: the inputs stop, their open chunks are sealed, the workers
 * finish the flush each is running and take no other, and the loop ends
 * at once; sl_engine_handover() then gives every delivery still pending
 * to the new pipeline instead of draining it here first (a dead output
 * would hold the new configuration back for Grace, then lose the rest).
 */
static void begin_handover(struct sl_engine *eng)
{
	eng->stopping = true;
	eng->handing_over = true;
	stop_inputs(eng);
	for (size_t i = 0; i < eng->n_outputs; i++)
		sl_worker_pool_quiesce(eng->outputs[i]->pool);
	event_base_loopexit(eng->base, NULL);
}

static void reload(struct sl_engine *eng)
{
	if (eng->stopping || eng->next) {
		sl_log(SL_LOG_WARN, "engine", "SIGHUP while stopping: ignored");
		return;
	}
	if (!eng->reload) {
		sl_log(SL_LOG_WARN, "engine", "SIGHUP: nothing to reload from");
		return;
	}
	sl_log(SL_LOG_INFO, "engine",
	       "SIGHUP: reading the configuration again");
	eng->next = eng->reload(eng->reload_arg);
	if (!eng->next) {
		sl_log(SL_LOG_ERROR, "engine",
		       "reload rejected (errors above): the running pipeline "
		       "goes on unchanged");
		return;
	}
	sl_log(SL_LOG_INFO, "engine",
	       "new configuration is valid: handing "
	       "this pipeline's buffered records to it");
	begin_handover(eng);
}

void sl_engine_on_reload(struct sl_engine *eng, sl_engine_reload_fn build,
			 void *arg)
{
	eng->reload = build;
	eng->reload_arg = arg;
}

/* The output of `next` that takes over `o`'s deliveries of `c`: the one
 * with the same name and plugin whose Match still takes the tag. */
static struct sl_input *input_successor(struct sl_engine *next,
					const struct sl_input *in);

/* The output of `next` that takes over `o`'s delivery `fl`: the one with
 * the same name and plugin that still takes its tag (by Match, or by a
 * route of the input's successor). A delivery that is a processed or
 * routed copy goes on as that copy. */
static struct sl_output *output_successor(struct sl_engine *next,
					  const struct sl_output *o,
					  const struct sl_flush *fl)
{
	const struct sl_chunk *c = fl->source ? fl->source : fl->chunk;
	const struct sl_input *in = input_successor(next, c->origin);

	for (size_t i = 0; i < next->n_outputs; i++) {
		struct sl_output *n = next->outputs[i];

		if (n->plugin == o->plugin &&
		    strcmp(n->ins.name, o->ins.name) == 0 &&
		    sl_engine_output_takes(in, n, c->tag, c->tag_len))
			return n;
	}
	return NULL;
}

static struct sl_input *input_successor(struct sl_engine *next,
					const struct sl_input *in)
{
	for (size_t i = 0; in && i < next->n_inputs; i++) {
		struct sl_input *n = next->inputs[i];

		if (n->plugin == in->plugin &&
		    strcmp(n->ins.name, in->ins.name) == 0)
			return n;
	}
	return NULL;
}

/* Moves chunk `c` (memory storage) from `old` to `next`, once. */
static int rehome_chunk(struct sl_engine *old, struct sl_engine *next,
			struct sl_chunk *c, struct sl_chunk ***moved,
			size_t *n_moved, size_t *cap)
{
	struct sl_input *in = c->origin;

	for (size_t i = 0; i < *n_moved; i++)
		if ((*moved)[i] == c)
			return 0;
	if (*n_moved == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct sl_chunk **p = realloc(*moved, ncap * sizeof(*p));

		if (!p)
			return -SL_ENOMEM;
		*moved = p;
		*cap = ncap;
	}
	(*moved)[(*n_moved)++] = c;
	old->chunks_live--;
	if (in) {
		in->mem_used -=
		    c->data.len < in->mem_used ? c->data.len : in->mem_used;
		if (in->chunks_held)
			in->chunks_held--;
	}
	/* The new input never emitted it: nothing to tell it on release. An
	 * input the new config lacks leaves the chunk without an origin. */
	c->input_told = true;
	c->origin = input_successor(next, in);
	if (c->origin) {
		c->origin->mem_used += c->data.len;
		c->origin->chunks_held++;
	}
	next->chunks_live++;
	return 0;
}

void sl_engine_handover(struct sl_engine *old, struct sl_engine *next)
{
	struct sl_chunk **moved = NULL;
	size_t n_moved = 0, cap = 0, n_flushes = 0;
	uint64_t records = 0, dropped = 0;

	/* after this no old worker runs: every flush is back, or done */
	for (size_t i = 0; i < old->n_outputs; i++) {
		sl_worker_pool_destroy(old->outputs[i]->pool);
		old->outputs[i]->pool = NULL;
	}
	old->handing_over = true;
	completion_cb(-1, 0, old);
	/* chunk ids go on growing: an input never sees one twice */
	if (next->next_chunk_id < old->next_chunk_id)
		next->next_chunk_id = old->next_chunk_id;
	next->start_mono_ns = old->start_mono_ns;
	while (old->pending) {
		struct sl_flush *fl = old->pending;
		/* the chunk the flush holds a reference on */
		struct sl_chunk *c = fl->source ? fl->source : fl->chunk;
		struct sl_output *o = fl->out;
		/*
		 * A chunk on disk is found there again by the new pipeline; one
		 * of an input that resumes from its committed position (tail
		 * with DB) is read again. Only the others are carried.
		 */
		bool elsewhere =
		    c->store || (c->origin && c->origin->keeps_position);
		struct sl_output *n =
		    elsewhere ? NULL : output_successor(next, o, fl);
		size_t bytes = fl->chunk->data.len;

		pending_remove(old, fl);
		o->held_bytes -= bytes < o->held_bytes ? bytes : o->held_bytes;
		if (fl->retry_timer) {
			event_free(fl->retry_timer);
			fl->retry_timer = NULL;
		}
		if (n && rehome_chunk(old, next, c, &moved, &n_moved, &cap) < 0)
			n = NULL;
		if (n) {
			/* a copy follows its chunk into the new pipeline */
			if (fl->source)
				sl_engine_copy_rehome(fl->chunk, c->origin);
			fl->eng = next;
			fl->out = n;
			n->held_bytes += bytes;
			pending_add(next, fl);
			sl_worker_pool_push(n->pool, fl);
			n_flushes++;
			records += fl->chunk->records;
			continue;
		}
		if (!elsewhere) {
			uint64_t delivered,
			    lost = count_rest(fl, SL_DROP_RELOAD, &delivered);

			dropped += lost;
			sl_log(SL_LOG_ERROR, o->ins.name,
			       "reload: the new configuration has no output %s "
			       "for tag %s: %llu records dropped (reload)",
			       o->ins.name, c->tag, (unsigned long long)lost);
		}
		flush_unref_copy(fl);
		free(fl->settled);
		free(fl);
		if (--c->refs > 0)
			continue;
		if (elsewhere) {
			/* kept on disk, or left for the input to read again */
			sl_engine_storage_keep(c);
			old->chunks_live--;
			sl_chunk_destroy(c);
		} else {
			release_chunk(old, c);
		}
	}
	free(moved);
	sl_metric_set(next->m_chunks_up, (double)next->chunks_live);
	sl_metrics_carry(&next->metrics, &old->metrics);
	sl_log(SL_LOG_INFO, "engine",
	       "reload: %zu deliveries (%llu records) handed to the new "
	       "pipeline, %llu records dropped",
	       n_flushes, (unsigned long long)records,
	       (unsigned long long)dropped);
}

struct sl_engine *sl_engine_take_next(struct sl_engine *eng)
{
	struct sl_engine *next = eng->next;

	eng->next = NULL;
	return next;
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct sl_engine *eng = arg;

	(void)what;
	if (sig == SIGHUP) {
		reload(eng);
		return;
	}
	if (eng->stopping) {
		sl_log(SL_LOG_WARN, "engine", "second signal: exiting now");
		event_base_loopexit(eng->base, NULL);
		return;
	}
	begin_stop(eng);
}

void sl_engine_stop(struct sl_engine *eng)
{
	__atomic_store_n(&eng->stop_requested, true, __ATOMIC_SEQ_CST);
	if (eng->stop_ev)
		event_active(eng->stop_ev, EV_READ, 0);
}

/* ---- lifecycle ----------------------------------------------------------- */

struct sl_metrics *sl_engine_metrics(struct sl_engine *eng)
{
	return &eng->metrics;
}

struct event_base *sl_engine_base(struct sl_engine *eng)
{
	return eng->base;
}

struct sl_engine *sl_engine_create(const struct sl_conf *conf,
				   struct sl_diag *diag)
{
	return sl_engine_create_with(conf, diag, NULL, NULL);
}

struct sl_engine *
sl_engine_create_with(const struct sl_conf *conf, struct sl_diag *diag,
		      const struct sl_input_plugin *const *in,
		      const struct sl_output_plugin *const *out)
{
	struct sl_engine *eng = calloc(1, sizeof(*eng));

	if (!eng) {
		sl_diag_add(diag, NULL, 0, "out of memory");
		return NULL;
	}
	eng->conf = conf;
	eng->extra_inputs = in;
	eng->extra_outputs = out;
	/* workers wake the loop with event_active(): libevent must lock */
	evthread_use_pthreads();
	sl_conf_init(&eng->parsers_conf);
	sl_metrics_init(&eng->metrics);
	pthread_mutex_init(&eng->completion_lock, NULL);
	eng->base = event_base_new();
	if (!eng->base) {
		sl_diag_add(diag, NULL, 0, "cannot create the event loop");
		sl_engine_destroy(eng);
		return NULL;
	}
	if (sl_engine_configure(eng, diag) < 0 || sl_diag_count(diag)) {
		sl_engine_destroy(eng);
		return NULL;
	}
	return eng;
}

/*
 * The chunks a re-readable input may hold: what the busiest output can take
 * now, one per worker being sent plus one queued so that a worker finishing
 * finds the next one ready (throughput stays; memory stays a few chunks).
 * Outputs the input's tags never match only make the window larger.
 */
static size_t input_window(const struct sl_engine *eng)
{
	size_t w = 2;

	for (size_t i = 0; i < eng->n_outputs; i++) {
		size_t n = (size_t)eng->outputs[i]->common.workers + 1;

		if (n > w)
			w = n;
	}
	return w;
}

int sl_engine_start(struct sl_engine *eng)
{
	struct timeval flush = {
	    .tv_sec = (time_t)eng->service.flush,
	    .tv_usec = (suseconds_t)((eng->service.flush -
				      (double)(time_t)eng->service.flush) *
				     1e6),
	};
	int rc;

	if (!eng->start_mono_ns) /* a reload carries the first start's */
		eng->start_mono_ns = sl_mono_ns();
	eng->completion_ev = event_new(eng->base, -1, 0, completion_cb, eng);
	eng->stop_ev = event_new(eng->base, -1, 0, stop_cb, eng);
	eng->flush_timer = event_new(eng->base, -1, EV_PERSIST, flush_cb, eng);
	eng->sig_term = evsignal_new(eng->base, SIGTERM, signal_cb, eng);
	eng->sig_int = evsignal_new(eng->base, SIGINT, signal_cb, eng);
	eng->sig_hup = evsignal_new(eng->base, SIGHUP, signal_cb, eng);
	if (!eng->completion_ev || !eng->stop_ev || !eng->flush_timer ||
	    !eng->sig_term || !eng->sig_int || !eng->sig_hup) {
		sl_log(SL_LOG_ERROR, "engine", "cannot create loop events");
		return -SL_ENOMEM;
	}
	signal(SIGPIPE, SIG_IGN);
	evsignal_add(eng->sig_term, NULL);
	evsignal_add(eng->sig_int, NULL);
	evsignal_add(eng->sig_hup, NULL);
	evtimer_add(eng->flush_timer, &flush);
	if ((rc = sl_engine_api_start(eng)) < 0)
		return rc;

	for (size_t i = 0; i < eng->n_outputs; i++) {
		struct sl_output *out = eng->outputs[i];

		if (out->plugin->start &&
		    (rc = out->plugin->start(out->ctx, out)) < 0)
			return rc;
		if ((rc = sl_worker_pool_start(out->pool)) < 0)
			return rc;
	}
	/* chunks left on disk by the last run go out before new records */
	if ((rc = sl_engine_storage_start(eng)) < 0)
		return rc;
	for (size_t i = 0; i < eng->n_inputs; i++) {
		struct sl_input *in = eng->inputs[i];

		in->window = input_window(eng);
		if (in->plugin->start &&
		    (rc = in->plugin->start(in->ctx, in)) < 0)
			return rc;
		in->started = true;
	}
	/* an input may have finished (or a stop been asked) while starting */
	if (__atomic_load_n(&eng->stop_requested, __ATOMIC_SEQ_CST))
		event_active(eng->stop_ev, EV_READ, 0);
	return 0;
}

int sl_engine_run(struct sl_engine *eng)
{
	sl_log(SL_LOG_INFO, "engine",
	       "started: %zu inputs, %zu filters, %zu "
	       "outputs",
	       eng->n_inputs, eng->n_filters, eng->n_outputs);
	if (event_base_dispatch(eng->base) < 0)
		return -SL_EIO;
	sl_log(SL_LOG_INFO, "engine", "stopped");
	return eng->exit_code;
}

void sl_engine_destroy(struct sl_engine *eng)
{
	if (!eng)
		return;
	sl_engine_destroy(eng->next); /* a reload that never started */
	/* Stop workers first: after this no thread touches engine state. */
	for (size_t i = 0; i < eng->n_outputs; i++) {
		sl_worker_pool_destroy(eng->outputs[i]->pool);
		eng->outputs[i]->pool = NULL;
	}
	if (eng->completion_ev)
		completion_cb(-1, 0, eng);
	/*
	 * What is left was not delivered: free it. Memory chunks of an input
	 * that cannot read them again are lost: counted (reason shutdown);
	 * files stay for the next start; tail with DB reads them again.
	 */
	while (eng->pending) {
		struct sl_flush *fl = eng->pending;
		struct sl_chunk *c = fl->source ? fl->source : fl->chunk;

		pending_remove(eng, fl);
		if (!c->store && !(c->origin && c->origin->keeps_position)) {
			uint64_t delivered,
			    lost = count_rest(fl, SL_DROP_SHUTDOWN, &delivered);

			if (lost)
				sl_log(SL_LOG_WARN, fl->out->ins.name,
				       "chunk %llu (tag %s): %llu records not "
				       "delivered before exit (shutdown)",
				       (unsigned long long)c->id, c->tag,
				       (unsigned long long)lost);
		}
		if (fl->retry_timer)
			event_free(fl->retry_timer);
		flush_unref_copy(fl);
		if (--fl->chunk->refs == 0) {
			/* not delivered: its file stays for the next start */
			sl_engine_storage_keep(fl->chunk);
			sl_chunk_destroy(fl->chunk);
		}
		free(fl->settled);
		free(fl);
	}
	for (size_t i = 0; i < eng->n_inputs; i++) {
		struct sl_input *in = eng->inputs[i];

		for (size_t j = 0; j < in->n_open; j++) {
			sl_engine_storage_keep(in->open[j].chunk);
			sl_chunk_destroy(in->open[j].chunk);
		}
		in->n_open = 0;
	}
	sl_engine_api_stop(eng);
	sl_engine_unconfigure(eng);
	if (eng->flush_timer)
		event_free(eng->flush_timer);
	if (eng->grace_timer)
		event_free(eng->grace_timer);
	if (eng->completion_ev)
		event_free(eng->completion_ev);
	if (eng->stop_ev)
		event_free(eng->stop_ev);
	if (eng->sig_term)
		event_free(eng->sig_term);
	if (eng->sig_int)
		event_free(eng->sig_int);
	if (eng->sig_hup)
		event_free(eng->sig_hup);
	if (eng->base)
		event_base_free(eng->base);
	sl_engine_storage_stop(eng);
	sl_buf_destroy(&eng->spare);
	sl_parsers_destroy(eng->parsers);
	sl_conf_destroy(&eng->parsers_conf);
	sl_metrics_destroy(&eng->metrics);
	pthread_mutex_destroy(&eng->completion_lock);
	free(eng);
}
