/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_engine_storage.c - the engine's side of storage.type filesystem: each
 * open chunk of such an input has a file under storage.path (sl_storage.c
 * owns the format); sl_input_persist writes what arrived since the last
 * time, sealing writes the chunk's final form, release deletes it, and at
 * start-up the chunks found on disk go back to their input's outputs.
 *
 * Memory inputs never touch this file. Failing to write a chunk file never
 * drops records: they stay in memory and the failure is logged.
 */
#include "sl_engine_int.h"
#include "sl_log.h"
#include "sl_storage.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct recover_ctx {
	struct sl_engine *eng;
	uint64_t chunks, records, orphans;
};

static struct sl_input *input_named(struct sl_engine *eng, const char *name)
{
	for (size_t i = 0; i < eng->n_inputs; i++)
		if (eng->inputs[i]->filesystem &&
		    strcmp(eng->inputs[i]->ins.name, name) == 0)
			return eng->inputs[i];
	return NULL;
}

/* One chunk file found at start-up: back to its input's outputs. */
static int recover(void *arg, struct sl_storage_recovered *rc)
{
	struct recover_ctx *r = arg;
	struct sl_input *in = input_named(r->eng, rc->stream);
	struct sl_chunk *c;

	if (!in) {
		/* an input renamed or removed: keep the file, say so */
		sl_log(SL_LOG_WARN, "storage",
		       "%s: no filesystem input named '%s'; chunk kept on disk",
		       sl_storage_chunk_name(rc->handle), rc->stream);
		sl_storage_chunk_close(rc->handle);
		r->orphans++;
		return 0;
	}
	c = sl_chunk_create(in, rc->tag, rc->tag_len);
	if (!c) {
		sl_storage_chunk_close(rc->handle);
		return -SL_ENOMEM;
	}
	c->data = rc->records; /* stolen */
	memset(&rc->records, 0, sizeof(rc->records));
	c->records = rc->n_records;
	c->id = rc->id;
	c->store = rc->handle;
	c->persisted = c->data.len;
	c->sealed = true;
	in->mem_used += c->data.len;
	r->chunks++;
	r->records += c->records;
	sl_engine_dispatch_recovered(r->eng, c);
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
	o.path = eng->service.storage_path;
	o.sync_full = eng->service.storage_sync &&
		      strcasecmp(eng->service.storage_sync, "full") == 0;
	o.checksum = eng->service.storage_checksum;
	rc = sl_storage_open(&o, &eng->storage);
	if (rc == -SL_EIO)
		return rc; /* sl_storage_open logged what and where, once */
	if (rc < 0) {
		sl_log(SL_LOG_ERROR, "storage", "cannot use storage.path %s: %s",
		       o.path, sl_strerror(rc));
		return rc;
	}
	rc = sl_storage_scan(eng->storage, recover, &r, &st);
	if (rc < 0) {
		sl_log(SL_LOG_ERROR, "storage", "cannot read storage.path %s: %s",
		       o.path, sl_strerror(rc));
		return rc;
	}
	/* new chunks must not reuse the name of one found on disk */
	if (st.max_id >= eng->next_chunk_id)
		eng->next_chunk_id = st.max_id;
	if (st.files)
		sl_log(st.quarantined ? SL_LOG_WARN : SL_LOG_INFO, "storage",
		       "%s: %llu chunks (%llu records) recovered and queued; "
		       "%u corrupt moved to quarantine/, %u with a torn last "
		       "block, %llu kept for unknown inputs",
		       o.path, (unsigned long long)r.chunks,
		       (unsigned long long)r.records, st.quarantined, st.cut,
		       (unsigned long long)r.orphans);
	return 0;
}

void sl_engine_storage_stop(struct sl_engine *eng)
{
	sl_storage_close(eng->storage);
	eng->storage = NULL;
}

void sl_engine_storage_chunk_open(struct sl_engine *eng, struct sl_input *in,
				  struct sl_chunk *c)
{
	if (!in->filesystem || !eng->storage)
		return;
	if (sl_storage_chunk_create(eng->storage, in->ins.name, c->tag,
				    c->tag_len, c->id, &c->store) < 0) {
		sl_log(SL_LOG_ERROR, in->ins.name,
		       "cannot create a chunk file in %s (%s): chunk %llu is "
		       "kept in memory only",
		       eng->service.storage_path, strerror(errno),
		       (unsigned long long)c->id);
		c->store = NULL;
	}
}

int sl_engine_storage_persist(struct sl_chunk *c)
{
	if (!c->store || c->persisted == c->data.len)
		return 0;
	if (sl_storage_chunk_append(c->store, c->data.data + c->persisted,
				    c->data.len - c->persisted) < 0 ||
	    sl_storage_chunk_persist(c->store) < 0) {
		sl_log(SL_LOG_ERROR, "storage", "%s: cannot write: %s",
		       sl_storage_chunk_name(c->store), strerror(errno));
		return -SL_EIO;
	}
	c->persisted = c->data.len;
	return 0;
}

bool sl_engine_storage_seal(struct sl_chunk *c)
{
	if (!c->store)
		return false;
	if (sl_storage_chunk_seal(c->store, &c->data, c->records) < 0) {
		sl_log(SL_LOG_ERROR, "storage",
		       "%s: cannot seal: %s; the chunk stays in memory",
		       sl_storage_chunk_name(c->store), strerror(errno));
		return false;
	}
	c->persisted = c->data.len;
	return true;
}

void sl_engine_storage_remove(struct sl_chunk *c)
{
	if (!c->store)
		return;
	if (sl_storage_chunk_remove(c->store) < 0)
		sl_log(SL_LOG_WARN, "storage",
		       "cannot delete a delivered chunk file: %s; it will be "
		       "sent again after a restart",
		       strerror(errno));
	c->store = NULL;
}

void sl_engine_storage_keep(struct sl_chunk *c)
{
	if (!c->store)
		return;
	sl_storage_chunk_close(c->store);
	c->store = NULL;
}
