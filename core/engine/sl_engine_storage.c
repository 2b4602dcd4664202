/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_engine_storage.c - the engine's side of storage.type filesystem: each
 * open chunk of such an input has a file under storage.path (sl_storage.c
 * owns the format); sl_input_persist and each flush tick write what arrived
 * since the last time, sealing writes the chunk's final form, release
 * deletes it, and at start-up the chunks found on disk go back to their
 * input's outputs.
 *
 * Never acknowledged without disk: a record of a filesystem input that
 * cannot be written (no chunk file, a failed write or seal) makes
 * sl_input_persist fail, so witness and in_http answer 503 and the sender
 * retries; tail is told only of chunks that are on disk, so it commits only
 * their offsets. Such records still go to the outputs from memory (tail)
 * or are taken back (inputs that answer a sender). Creating the file is
 * tried again at every persist and seal: the disk may come back. Errors are
 * counted in sluice_storage_errors_total{op} and logged once per period.
 *
 * Chunks up and down: the sealed filesystem chunks in memory (found at
 * start-up, or sealed by a running input) are held within
 * storage.backlog.mem_limit bytes and storage.max_chunks_up chunks; beyond
 * that a chunk stays "down" (a small descriptor in memory, the records on
 * disk only) and is read back, oldest first, as delivered chunks free
 * room. So a dead output makes the disk grow, not the memory, and a
 * backlog larger than memory is delivered after a restart.
 *
 * Memory inputs never touch this file.
 */
#include "sl_engine_int.h"
#include "sl_log.h"
#include "sl_storage.h"

#include <errno.h>
#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* At most one log line per operation per period: a full disk fails every
 * request, and a log line per request would fill the disk's neighbour. */
#define LOG_PERIOD_NS (10ll * 1000000000ll)

enum st_op { OP_CREATE, OP_WRITE, OP_SEAL, OP_REMOVE, OP_LOAD, OPS };
/* log periods: one per op, and one for tags too long to store (a config
 * mistake that must not hide behind a full disk's messages) */
#define SLOT_TAG OPS
#define SLOTS	 (OPS + 1)

static const char *const op_names[OPS] = {"create", "write", "seal", "remove",
					  "load"};

/* A chunk of the backlog left on disk: what it takes to load it later. */
struct down_chunk {
	struct sl_storage_chunk *handle; /* owned */
	struct sl_input *in;
	uint64_t bytes; /* record bytes, checked by the scan */
};

struct sl_engine_storage {
	struct down_chunk *down; /* FIFO, oldest (lowest id) first */
	size_t down_head, n_down, cap_down;
	/* recovered chunks in memory, counted against the backlog limits */
	const struct sl_chunk **up;
	size_t n_up, cap_up;
	uint64_t up_bytes;
	bool load_scheduled;
	struct sl_metric_series *m_down, *m_errors[OPS], *m_quarantined;
	int64_t last_log_ns[SLOTS];
	uint64_t suppressed[SLOTS];
};

static void set_down_metric(struct sl_engine_storage *s)
{
	sl_metric_set(s->m_down, (double)s->n_down);
}

/*
 * Counts a failed storage operation and logs it, once per LOG_PERIOD_NS per
 * operation (with the number of failures not logged since).
 */
__attribute__((format(printf, 4, 0))) static void
storage_error_at(struct sl_engine *eng, enum st_op op, int slot,
		 const char *fmt, va_list ap)
{
	struct sl_engine_storage *s = eng->st_state;
	char msg[512];
	int64_t now = sl_mono_ns();

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (!s) { /* not started (unit tests): log without a budget */
		sl_log(SL_LOG_ERROR, "storage", "%s", msg);
		return;
	}
	sl_metric_add(s->m_errors[op], 1);
	if (s->last_log_ns[slot] &&
	    now - s->last_log_ns[slot] < LOG_PERIOD_NS) {
		s->suppressed[slot]++;
		return;
	}
	if (s->suppressed[slot])
		sl_log(SL_LOG_ERROR, "storage",
		       "%s (and %llu more %s errors in the last %lld s)", msg,
		       (unsigned long long)s->suppressed[slot], op_names[op],
		       LOG_PERIOD_NS / 1000000000ll);
	else
		sl_log(SL_LOG_ERROR, "storage", "%s", msg);
	s->last_log_ns[slot] = now;
	s->suppressed[slot] = 0;
}

__attribute__((format(printf, 3, 4))) static void
storage_error(struct sl_engine *eng, enum st_op op, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	storage_error_at(eng, op, (int)op, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 2, 3))) static void
tag_error(struct sl_engine *eng, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	storage_error_at(eng, OP_CREATE, SLOT_TAG, fmt, ap);
	va_end(ap);
}

/* Text for a failed sl_storage call: its saved errno for -SL_EIO. */
static const char *why(struct sl_engine *eng, int rc)
{
	if (rc == -SL_EIO && sl_storage_error(eng->storage))
		return strerror(sl_storage_error(eng->storage));
	return sl_strerror(rc);
}

/* ---- backlog: chunks up (in memory) and down (on disk only) ------------ */

static bool room_for(struct sl_engine *eng, uint64_t bytes)
{
	struct sl_engine_storage *s = eng->st_state;
	int64_t mem = eng->service.storage_backlog_mem_limit;
	int64_t max_up = eng->service.storage_max_chunks_up;

	if (max_up > 0 && s->n_up >= (uint64_t)max_up)
		return false;
	/* one chunk always fits, or a chunk larger than the limit never goes */
	return s->n_up == 0 || mem <= 0 || s->up_bytes + bytes <= (uint64_t)mem;
}

static int up_add(struct sl_engine_storage *s, const struct sl_chunk *c)
{
	if (s->n_up == s->cap_up) {
		size_t cap = s->cap_up ? s->cap_up * 2 : 16;
		const struct sl_chunk **v = realloc(s->up, cap * sizeof(*v));

		if (!v)
			return -SL_ENOMEM;
		s->up = v;
		s->cap_up = cap;
	}
	s->up[s->n_up++] = c;
	s->up_bytes += c->data.len;
	return 0;
}

static void load_cb(evutil_socket_t fd, short what, void *arg);

static void schedule_load(struct sl_engine *eng)
{
	struct sl_engine_storage *s = eng->st_state;
	struct timeval now = {0, 0};

	if (!s || !s->n_down || s->load_scheduled || eng->stopping)
		return;
	/* deferred: release_chunk may be deep in a dispatch */
	if (event_base_once(eng->base, -1, EV_TIMEOUT, load_cb, eng, &now) == 0)
		s->load_scheduled = true;
}

/* A recovered chunk left memory: delivered (room for the next ones), or
 * kept at exit (`more` false: the loop is over). */
static void up_remove(struct sl_engine *eng, const struct sl_chunk *c,
		      bool more)
{
	struct sl_engine_storage *s = eng->st_state;

	if (!s)
		return;
	for (size_t i = 0; i < s->n_up; i++) {
		if (s->up[i] != c)
			continue;
		s->up_bytes -=
		    c->data.len < s->up_bytes ? c->data.len : s->up_bytes;
		s->up[i] = s->up[--s->n_up];
		if (more)
			schedule_load(eng);
		return;
	}
}

static int down_push(struct sl_engine_storage *s, struct sl_input *in,
		     struct sl_storage_chunk *h)
{
	if (s->down_head + s->n_down == s->cap_down) {
		if (s->down_head) {
			memmove(s->down, s->down + s->down_head,
				s->n_down * sizeof(*s->down));
			s->down_head = 0;
		} else {
			size_t cap = s->cap_down ? s->cap_down * 2 : 64;
			struct down_chunk *v =
			    realloc(s->down, cap * sizeof(*v));

			if (!v)
				return -SL_ENOMEM;
			s->down = v;
			s->cap_down = cap;
		}
	}
	s->down[s->down_head + s->n_down++] = (struct down_chunk){
	    .handle = h, .in = in, .bytes = sl_storage_chunk_bytes(h)};
	return 0;
}

/* Makes a sealed chunk of `in` from records read back and sends it out. */
static int bring_up(struct sl_engine *eng, struct sl_input *in,
		    struct sl_storage_chunk *h, const char *tag, size_t tag_len,
		    uint64_t id, struct sl_buf *records, uint32_t n)
{
	struct sl_chunk *c = sl_chunk_create(in, tag, tag_len);

	if (!c)
		return -SL_ENOMEM;
	c->data = *records; /* stolen, given back on failure */
	if (up_add(eng->st_state, c) < 0) {
		memset(&c->data, 0, sizeof(c->data));
		sl_chunk_destroy(c);
		return -SL_ENOMEM;
	}
	memset(records, 0, sizeof(*records));
	c->records = n;
	c->id = id;
	c->store = h;
	c->persisted = c->data.len;
	c->sealed = true;
	in->mem_used += c->data.len;
	sl_engine_dispatch_recovered(eng, c);
	return 0;
}

static void down_pop(struct sl_engine_storage *s)
{
	s->down_head++;
	s->n_down--;
	set_down_metric(s);
}

/* Puts back the chunk down_pop() just took (its slot is still there). */
static void down_unpop(struct sl_engine_storage *s, struct down_chunk d)
{
	s->down[--s->down_head] = d;
	s->n_down++;
	set_down_metric(s);
}

static void load_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sl_engine *eng = arg;
	struct sl_engine_storage *s = eng->st_state;

	(void)fd;
	(void)what;
	s->load_scheduled = false;
	while (s->n_down && !eng->stopping &&
	       room_for(eng, s->down[s->down_head].bytes)) {
		struct down_chunk d = s->down[s->down_head];
		struct sl_buf records;
		const char *reason, *tag;
		size_t tag_len;
		uint32_t n;
		int rc;

		rc = sl_storage_chunk_load(d.handle, &records, &n, &reason);
		if (rc == -SL_ENOMEM)
			return; /* stays first; tried again on the next tick */
		if (rc == -SL_EIO && sl_storage_error(eng->storage) != ENOENT) {
			storage_error(eng, OP_LOAD,
				      "cannot read %s back: %s; tried again "
				      "on the next flush",
				      sl_storage_chunk_name(d.handle),
				      why(eng, rc));
			return;
		}
		down_pop(s);
		if (rc == -SL_EPARSE) {
			sl_metric_add(s->m_quarantined, 1);
			sl_storage_chunk_quarantine(d.handle, reason);
			continue;
		}
		if (rc < 0) { /* gone from disk meanwhile: nothing to send */
			storage_error(eng, OP_LOAD, "%s vanished from %s",
				      sl_storage_chunk_name(d.handle),
				      eng->service.storage_path);
			sl_storage_chunk_close(d.handle);
			continue;
		}
		tag = sl_storage_chunk_tag(d.handle, &tag_len);
		if (bring_up(eng, d.in, d.handle, tag, tag_len,
			     sl_storage_chunk_id(d.handle), &records, n) < 0) {
			sl_buf_destroy(&records);
			down_unpop(s, d); /* tried again on the next tick */
			return;
		}
	}
	if (s->n_down == 0)
		s->down_head = 0;
}

/* ---- start-up ------------------------------------------------------------ */

struct recover_ctx {
	struct sl_engine *eng;
	uint64_t chunks, records, orphans, down;
};

static struct sl_input *input_named(struct sl_engine *eng, const char *name)
{
	for (size_t i = 0; i < eng->n_inputs; i++)
		if (eng->inputs[i]->filesystem &&
		    strcmp(eng->inputs[i]->ins.name, name) == 0)
			return eng->inputs[i];
	return NULL;
}

/* One chunk file found at start-up: to its input's outputs, now or later. */
static int recover(void *arg, struct sl_storage_recovered *rc)
{
	struct recover_ctx *r = arg;
	struct sl_engine *eng = r->eng;
	struct sl_input *in = input_named(eng, rc->stream);

	if (!in) {
		/* an input renamed or removed: keep the file, say so */
		sl_log(SL_LOG_WARN, "storage",
		       "%s: no filesystem input named '%s'; chunk kept on disk",
		       sl_storage_chunk_name(rc->handle), rc->stream);
		sl_storage_chunk_close(rc->handle);
		r->orphans++;
		return 0;
	}
	r->chunks++;
	r->records += rc->n_records;
	/* a backlog over the limits waits on disk; the scan frees records */
	if (eng->st_state->n_down || !room_for(eng, rc->records.len)) {
		if (down_push(eng->st_state, in, rc->handle) < 0) {
			sl_storage_chunk_close(rc->handle);
			return -SL_ENOMEM;
		}
		r->down++;
		set_down_metric(eng->st_state);
		return 0;
	}
	if (bring_up(eng, in, rc->handle, rc->tag, rc->tag_len, rc->id,
		     &rc->records, rc->n_records) < 0) {
		sl_storage_chunk_close(rc->handle);
		return -SL_ENOMEM;
	}
	return 0;
}

static int state_create(struct sl_engine *eng)
{
	struct sl_engine_storage *s = calloc(1, sizeof(*s));

	if (!s)
		return -SL_ENOMEM;
	eng->st_state = s;
	s->m_down = sl_engine_series1(eng, "sluice_storage_chunks",
				      "Chunks held, by state", SL_METRIC_GAUGE,
				      "state", "down");
	for (int i = 0; i < OPS; i++)
		s->m_errors[i] =
		    sl_engine_series1(eng, "sluice_storage_errors_total",
				      "Failed chunk file operations",
				      SL_METRIC_COUNTER, "op", op_names[i]);
	s->m_quarantined =
	    sl_engine_series1(eng, "sluice_storage_quarantined_chunks_total",
			      "Corrupt chunk files moved to quarantine/",
			      SL_METRIC_COUNTER, NULL, NULL);
	sl_metric_set(s->m_down, 0);
	return 0;
}

int sl_engine_storage_start(struct sl_engine *eng)
{
	struct sl_storage_opts o = {0};
	struct sl_storage_scan_stats st = {0};
	struct recover_ctx r = {.eng = eng};
	int rc;

	bool used = false;

	for (size_t i = 0; i < eng->n_inputs; i++)
		used |= eng->inputs[i]->filesystem;
	if (!used)
		return 0; /* storage.path alone opens nothing */
	if ((rc = state_create(eng)) < 0)
		return rc;
	o.path = eng->service.storage_path;
	o.sync_full = eng->service.storage_sync &&
		      strcasecmp(eng->service.storage_sync, "full") == 0;
	o.checksum = eng->service.storage_checksum;
	rc = sl_storage_open(&o, &eng->storage);
	if (rc == -SL_EIO)
		return rc; /* sl_storage_open logged what and where, once */
	if (rc < 0) {
		sl_log(SL_LOG_ERROR, "storage",
		       "cannot use storage.path %s: %s", o.path,
		       sl_strerror(rc));
		return rc;
	}
	rc = sl_storage_scan(eng->storage, recover, &r, &st);
	sl_metric_add(eng->st_state->m_quarantined, st.quarantined);
	if (rc < 0) {
		sl_log(SL_LOG_ERROR, "storage",
		       "cannot read storage.path %s: %s", o.path,
		       sl_strerror(rc));
		return rc;
	}
	/* new chunks must not reuse the name of one found on disk */
	if (st.max_id >= eng->next_chunk_id)
		eng->next_chunk_id = st.max_id;
	if (st.files)
		sl_log(
		    st.quarantined ? SL_LOG_WARN : SL_LOG_INFO, "storage",
		    "%s: %llu chunks (%llu records) recovered and queued, "
		    "%llu of them waiting on disk (storage.backlog.mem_limit "
		    "%lld, storage.max_chunks_up %lld); %u corrupt moved to "
		    "quarantine/, %u with a torn last block, %llu kept for "
		    "unknown inputs",
		    o.path, (unsigned long long)r.chunks,
		    (unsigned long long)r.records, (unsigned long long)r.down,
		    (long long)eng->service.storage_backlog_mem_limit,
		    (long long)eng->service.storage_max_chunks_up,
		    st.quarantined, st.cut, (unsigned long long)r.orphans);
	return 0;
}

void sl_engine_storage_stop(struct sl_engine *eng)
{
	struct sl_engine_storage *s = eng->st_state;

	if (s) {
		/* down chunks stay on disk for the next start */
		for (size_t i = 0; i < s->n_down; i++)
			sl_storage_chunk_close(
			    s->down[s->down_head + i].handle);
		free(s->down);
		free(s->up);
		free(s);
		eng->st_state = NULL;
	}
	sl_storage_close(eng->storage);
	eng->storage = NULL;
}

/* ---- chunks of running inputs ------------------------------------------- */

/* Gives a filesystem chunk its file if it has none (yet). 0 or negative. */
static int ensure_file(struct sl_engine *eng, struct sl_input *in,
		       struct sl_chunk *c)
{
	int rc;

	if (c->store)
		return 0;
	if (!eng->storage)
		return -SL_EIO;
	rc = sl_storage_chunk_create(eng->storage, in->ins.name, c->tag,
				     c->tag_len, c->id, &c->store);
	if (rc == 0) {
		c->persisted = 0; /* the file holds no record yet */
		return 0;
	}
	c->store = NULL;
	if (rc == -SL_EINVAL)
		tag_error(eng,
			  "%s: tag of %zu bytes is over the %u a chunk file "
			  "holds: its records cannot be stored on disk",
			  in->ins.name, c->tag_len, SL_STORAGE_TAG_MAX);
	else
		storage_error(eng, OP_CREATE,
			      "%s: cannot create a chunk file in %s: %s; "
			      "its records are not acknowledged until it can",
			      in->ins.name, eng->service.storage_path,
			      why(eng, rc));
	return rc == -SL_EINVAL ? -SL_EIO : rc;
}

void sl_engine_storage_chunk_open(struct sl_engine *eng, struct sl_input *in,
				  struct sl_chunk *c)
{
	if (!in->filesystem || !eng->storage)
		return;
	(void)ensure_file(eng, in, c); /* failures refuse at persist */
}

int sl_engine_storage_persist(struct sl_chunk *c)
{
	struct sl_input *in = c->origin;
	struct sl_engine *eng = in->eng;
	int rc;

	if (!in->filesystem)
		return 0;
	if ((rc = ensure_file(eng, in, c)) < 0)
		return -SL_EIO;
	if (c->persisted >= c->data.len)
		return 0;
	rc = sl_storage_chunk_append(c->store, c->data.data + c->persisted,
				     c->data.len - c->persisted);
	if (rc == 0)
		rc = sl_storage_chunk_persist(c->store);
	if (rc < 0) {
		/* the block goes: the next try appends from c->persisted */
		sl_storage_chunk_discard(c->store);
		storage_error(eng, OP_WRITE, "%s: cannot write: %s",
			      sl_storage_chunk_name(c->store), why(eng, rc));
		return -SL_EIO;
	}
	c->persisted = c->data.len;
	return 0;
}

bool sl_engine_storage_rollback(struct sl_chunk *c)
{
	struct sl_input *in = c->origin;
	size_t keep = c->persisted < c->data.len ? c->persisted : c->data.len;
	size_t cut = c->data.len - keep;
	uint32_t n = 0;

	if (!in->filesystem || c->sealed)
		return c->records == 0;
	if (cut &&
	    sl_storage_records_count(c->data.data + keep, cut, &n) == 0) {
		c->data.len = keep;
		c->records -= n < c->records ? n : c->records;
		in->mem_used -= cut < in->mem_used ? cut : in->mem_used;
	}
	return c->records == 0;
}

bool sl_engine_storage_seal(struct sl_chunk *c)
{
	struct sl_input *in = c->origin;
	struct sl_engine *eng = in->eng;
	int rc;

	if (!in->filesystem)
		return false;
	if (ensure_file(eng, in, c) < 0) {
		in->persist_failed = c->records > 0 || in->persist_failed;
		return false;
	}
	rc = sl_storage_chunk_seal(c->store, &c->data, c->records);
	if (rc == 0) {
		c->persisted = c->data.len;
		return true;
	}
	storage_error(eng, OP_SEAL, "%s: cannot seal: %s",
		      sl_storage_chunk_name(c->store), why(eng, rc));
	/* the open form stays valid: safe if it holds every record */
	if (sl_engine_storage_persist(c) == 0)
		return true;
	in->persist_failed = true;
	return false;
}

bool sl_engine_storage_admit(struct sl_chunk *c, bool on_disk)
{
	struct sl_input *in = c->origin;
	struct sl_engine *eng = in->eng;
	struct sl_engine_storage *s = eng->st_state;
	size_t len = c->data.len;

	if (!on_disk || !s || !c->store)
		return true; /* memory chunk: bounded by Mem_Buf_Limit */
	if (!s->n_down && room_for(eng, len)) {
		(void)up_add(s, c); /* untracked on ENOMEM: sent all the same */
		return true;
	}
	/* FIFO with the chunks already down, so that order is kept */
	if (down_push(s, in, c->store) < 0) {
		(void)up_add(s, c);
		return true;
	}
	c->store = NULL; /* the descriptor owns the file now */
	in->mem_used -= len < in->mem_used ? len : in->mem_used;
	sl_chunk_destroy(c);
	set_down_metric(s);
	return false;
}

void sl_engine_storage_tick(struct sl_engine *eng)
{
	for (size_t i = 0; i < eng->n_inputs; i++) {
		struct sl_input *in = eng->inputs[i];

		if (!in->filesystem)
			continue;
		for (size_t j = 0; j < in->n_open; j++) {
			struct sl_chunk *c = in->open[j].chunk;

			/* a failure keeps the records in memory: tail will
			 * read them again after a crash */
			if (c->records && sl_engine_storage_persist(c) == 0 &&
			    in->plugin->chunk_persisted)
				in->plugin->chunk_persisted(in->ctx, c->id);
		}
	}
	schedule_load(eng);
}

void sl_engine_storage_remove(struct sl_chunk *c)
{
	struct sl_engine *eng = c->origin->eng;
	int rc;

	up_remove(eng, c, true);
	if (!c->store)
		return;
	rc = sl_storage_chunk_remove(c->store);
	if (rc < 0) {
		storage_error(eng, OP_REMOVE,
			      "cannot delete the delivered chunk file %s: %s; "
			      "it will be sent again after a restart",
			      sl_storage_chunk_name(c->store), why(eng, rc));
		sl_storage_chunk_close(c->store);
	}
	c->store = NULL;
}

void sl_engine_storage_keep(struct sl_chunk *c)
{
	up_remove(c->origin->eng, c, false);
	if (!c->store)
		return;
	sl_storage_chunk_close(c->store);
	c->store = NULL;
}
