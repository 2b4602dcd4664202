/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_input.c - what the core offers inputs (sl_input.h): emit through the
 * filter chain into per-tag open chunks, sealing, Mem_Buf_Limit and the
 * re-read window (pause/resume), persistence of open chunks on disk, and
 * the small accessors. Sealed chunks go to sl_engine_dispatch(); the
 * engine drives sealing and pausing too (sl_engine_int.h).
 */
#include "sl_engine_int.h"
#include "sl_log.h"

#include <stdlib.h>
#include <string.h>

struct sl_plugin_instance *sl_input_instance(struct sl_input *in)
{
	return &in->ins;
}

struct event_base *sl_input_base(struct sl_input *in)
{
	return in->eng->base;
}

const char *sl_input_tag(const struct sl_input *in, size_t *len)
{
	if (len)
		*len = in->tag_len;
	return in->tag;
}

bool sl_input_tag_is_default(const struct sl_input *in)
{
	return in->tag_is_default;
}

bool sl_input_paused(const struct sl_input *in)
{
	return in->paused || in->stopped;
}

int sl_input_persist(struct sl_input *in)
{
	int rc = 0;

	/* memory inputs: emitted records are already held, nothing to do */
	if (!in->filesystem)
		return 0;
	for (size_t i = in->n_open; i-- > 0;) {
		struct sl_chunk *c = in->open[i].chunk;

		if (sl_engine_storage_persist(c) == 0)
			continue;
		/* not on disk: the sender is refused, so take them back */
		rc = -SL_EIO;
		if (sl_engine_storage_rollback(c)) {
			in->open[i] = in->open[--in->n_open];
			sl_engine_storage_remove(c);
			sl_chunk_destroy(c);
		}
	}
	if (in->persist_failed) { /* a seal since the last call failed */
		in->persist_failed = false;
		rc = -SL_EIO;
	}
	for (size_t i = 0; rc == 0 && i < in->n_open; i++)
		if (in->plugin->chunk_persisted)
			in->plugin->chunk_persisted(in->ctx,
						    in->open[i].chunk->id);
	return rc;
}

uint64_t sl_input_last_chunk(const struct sl_input *in)
{
	return in->last_chunk;
}

void sl_input_set_rereadable(struct sl_input *in, bool keeps_position)
{
	in->rereadable = true;
	in->keeps_position = keeps_position;
}

void sl_input_add_bytes(struct sl_input *in, uint64_t n)
{
	sl_metric_add(in->m_bytes, (double)n);
}

/* Stops once some input asked to end and every other one is done too. */
static void stop_when_all_done(struct sl_engine *eng)
{
	bool asked = false;

	for (size_t i = 0; i < eng->n_inputs; i++) {
		if (!eng->inputs[i]->finished && !eng->inputs[i]->idle)
			return;
		asked |= eng->inputs[i]->finished;
	}
	if (!asked)
		return;
	sl_log(SL_LOG_INFO, "engine",
	       "every input finished; flushing and "
	       "stopping");
	sl_engine_stop(eng);
}

void sl_input_finished(struct sl_input *in)
{
	if (in->finished)
		return;
	in->finished = true;
	sl_log(SL_LOG_DEBUG, in->ins.name, "input finished");
	stop_when_all_done(in->eng);
}

void sl_input_idle(struct sl_input *in)
{
	if (in->idle || in->finished)
		return;
	in->idle = true;
	sl_log(SL_LOG_DEBUG, in->ins.name,
	       "input idle: it emits nothing more, sluice keeps running");
	stop_when_all_done(in->eng);
}

bool sl_engine_input_over_budget(const struct sl_input *in)
{
	return in->mem_limit > 0 && in->mem_used >= (size_t)in->mem_limit;
}

/*
 * The file is the buffer: an input that can read again holds no more
 * sealed chunks than its outputs can take now; the rest stays in its
 * source until they have taken these. Not with storage.type filesystem:
 * there the user chose the disk as the buffer (a source may rotate away
 * while an output is down for hours), and storage.backlog.mem_limit bounds
 * what stays in memory.
 */
bool sl_engine_input_over_window(const struct sl_input *in)
{
	return in->rereadable && !in->filesystem && in->window &&
	       in->chunks_held >= in->window;
}

void sl_engine_input_pause(struct sl_input *in)
{
	if (in->paused)
		return;
	/*
	 * What the input holds can only be freed by delivering it: send the
	 * open chunks now instead of waiting for the flush timer. Sealing may
	 * release chunks at once (no output matches), so check again after.
	 * Over the window only, the open chunk waits: sealing it would hold
	 * one more chunk, not free one.
	 */
	if (sl_engine_input_over_budget(in))
		while (in->n_open)
			sl_engine_input_seal(in, in->n_open - 1);
	if (!sl_engine_input_over_budget(in) &&
	    !sl_engine_input_over_window(in))
		return;
	in->paused = true;
	/* the gauge tells an operator about the hard limit only: pausing for
	 * the re-read window is ordinary flow control */
	sl_metric_set(in->m_paused, sl_engine_input_over_budget(in) ? 1 : 0);
	sl_log(SL_LOG_DEBUG, in->ins.name,
	       "paused: %zu bytes in %zu chunks held, limit %lld, window %zu",
	       in->mem_used, in->chunks_held, (long long)in->mem_limit,
	       in->window);
	if (in->plugin->pause && !in->stopped)
		in->plugin->pause(in->ctx);
}

void sl_engine_input_resume(struct sl_input *in)
{
	if (!in->paused)
		return;
	in->paused = false;
	sl_metric_set(in->m_paused, 0);
	sl_log(SL_LOG_DEBUG, in->ins.name, "resumed");
	if (in->plugin->resume && !in->stopped)
		in->plugin->resume(in->ctx);
}

/* Recomputes which filters apply when the tag changes. */
static void route_filters(struct sl_input *in, const char *tag, size_t len)
{
	struct sl_engine *eng = in->eng;

	if (in->route_tag && in->route_tag_len == len &&
	    memcmp(in->route_tag, tag, len) == 0)
		return;
	if (len + 1 > in->route_tag_cap) {
		char *p = realloc(in->route_tag, len + 1);

		if (!p) {
			/* no cache: still route correctly below */
			free(in->route_tag);
			in->route_tag = NULL;
			in->route_tag_cap = 0;
		} else {
			in->route_tag = p;
			in->route_tag_cap = len + 1;
		}
	}
	for (size_t i = 0; i < eng->n_filters; i++)
		in->filter_match[i] =
		    sl_route_matches(&eng->filters[i]->route, tag, len);
	if (in->route_tag) {
		memcpy(in->route_tag, tag, len);
		in->route_tag[len] = '\0';
		in->route_tag_len = len;
	}
}

static struct sl_chunk *open_chunk(struct sl_input *in, const char *tag,
				   size_t len)
{
	struct sl_chunk *c;

	for (size_t i = 0; i < in->n_open; i++) {
		c = in->open[i].chunk;
		if (c->tag_len == len && memcmp(c->tag, tag, len) == 0)
			return c;
	}
	if (in->n_open == in->cap_open) {
		size_t cap = in->cap_open ? in->cap_open * 2 : 4;
		struct sl_open_chunk *p = realloc(in->open, cap * sizeof(*p));

		if (!p)
			return NULL;
		in->open = p;
		in->cap_open = cap;
	}
	c = sl_chunk_create(in, tag, len);
	if (!c)
		return NULL;
	if (in->eng->spare.data) {
		c->data = in->eng->spare;
		c->data.len = 0;
		memset(&in->eng->spare, 0, sizeof(in->eng->spare));
	}
	c->id = ++in->eng->next_chunk_id;
	in->open[in->n_open++].chunk = c;
	sl_engine_storage_chunk_open(in->eng, in, c);
	return c;
}

void sl_engine_input_seal(struct sl_input *in, size_t idx)
{
	struct sl_chunk *c = in->open[idx].chunk;

	in->open[idx] = in->open[--in->n_open];
	c->sealed = true;
	/*
	 * A chunk sealed on disk survives a crash: the input may forget its
	 * records now (tail commits their offsets), or a restart would send
	 * them twice, once from disk and once re-read.
	 */
	bool on_disk = sl_engine_storage_seal(c);

	if (on_disk && in->plugin->chunk_released) {
		c->input_told = true;
		in->plugin->chunk_released(in->ctx, c->id);
	}
	/* over the storage limits it waits on disk, sent when there is room */
	if (sl_engine_storage_admit(c, on_disk))
		sl_engine_dispatch(in->eng, c);
}

int sl_input_emit(struct sl_input *in, const char *tag, size_t tag_len,
		  struct sl_record *rec)
{
	struct sl_engine *eng = in->eng;
	struct sl_chunk *c;
	const char *body;
	size_t len, before;

	sl_metric_add(in->m_records, 1);
	if (in->tag_records)
		sl_tag_records_count(&eng->tag_records, &eng->metrics,
				     in->tag_records, tag, tag_len, 1);
	in->last_chunk = 0;
	/* YAML processors: this input's own, before any [FILTER] */
	if (in->n_procs &&
	    sl_engine_run_processors(in->procs, in->n_procs, rec, tag,
				     tag_len) == SL_FILTER_DROP)
		return 0;
	if (in->filter_match && eng->n_filters) {
		route_filters(in, tag, tag_len);
		for (size_t i = 0; i < eng->n_filters; i++) {
			struct sl_filter_inst *f = eng->filters[i];

			if (!in->filter_match[i])
				continue;
			/* as fluentbit_filter_records_total: records in */
			sl_metric_add(f->m_records, 1);
			if (f->plugin->filter(f->ctx, rec, tag, tag_len) ==
			    SL_FILTER_DROP) {
				sl_metric_add(f->m_drop, 1);
				return 0;
			}
		}
	}
	if (rec->flags & SL_REC_PARSE_ERROR)
		sl_metric_add(in->m_parse_errors, 1);
	if (rec->flags & SL_REC_REPAIRED)
		sl_metric_add(in->m_repaired, 1);
	if (rec->ts_ns == 0)
		rec->ts_ns = sl_now_ns();
	body = sl_record_body(rec, &len);
	c = open_chunk(in, tag, tag_len);
	if (!body || !c) {
		sl_log(SL_LOG_ERROR, in->ins.name,
		       "out of memory: record dropped");
		return -SL_ENOMEM;
	}
	before = c->data.len;
	if (sl_chunk_append_id(c, rec->ts_ns, sl_record_identity(rec), body,
			       len) < 0) {
		sl_log(SL_LOG_ERROR, in->ins.name,
		       "out of memory: record dropped");
		return -SL_ENOMEM;
	}
	in->mem_used += c->data.len - before;
	in->last_chunk = c->id;
	if (c->data.len >= SL_CHUNK_SEAL_BYTES) {
		for (size_t i = 0; i < in->n_open; i++)
			if (in->open[i].chunk == c) {
				sl_engine_input_seal(in, i);
				break;
			}
	}
	if (sl_engine_input_over_budget(in) || sl_engine_input_over_window(in))
		sl_engine_input_pause(in);
	return 0;
}
