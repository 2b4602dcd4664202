/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_input.h - the input plugin interface and what the core offers inputs.
 *
 * Inputs run on the engine thread. They collect from their sources on the
 * libevent base, build a struct sl_record per record and hand it to
 * sl_input_emit(), which runs the filter chain and buffers the result in a
 * chunk. When the input's held bytes pass Mem_Buf_Limit the core calls
 * `pause`; an input must then stop reading until `resume`.
 *
 * An input that can read its source again (a file) declares it with
 * sl_input_set_rereadable(): the file is then the buffer, and the core
 * pauses the input as soon as it holds more sealed chunks than its outputs
 * can take now (a few per output worker), long before Mem_Buf_Limit, which
 * stays the hard cap for inputs that cannot re-read (HTTP, stdin).
 */
#ifndef SL_INPUT_H
#define SL_INPUT_H

#include "sl_instance.h"
#include "sl_record.h"

#include <stdbool.h>

struct sl_input;

struct sl_input_plugin {
	const char *name;
	const char *description;
	const struct sl_cfg_option *config_map;
	size_t ctx_size;
	/*
	 * Validates and prepares (compile, resolve parsers). Runs for
	 * --dry-run too, so it must not open ports or start reading.
	 * 0, or -SL_ECONFIG after sl_plugin_error().
	 */
	int (*init)(void *ctx, struct sl_input *in);
	/* Starts collecting. A failure here (port in use, unreadable path) is
	 * a start-up runtime error: log it and return a negative code. */
	int (*start)(void *ctx, struct sl_input *in);
	void (*pause)(void *ctx);  /* optional */
	void (*resume)(void *ctx); /* optional */
	/*
	 * Optional: chunk `id` (see sl_input_last_chunk) has left the pipeline:
	 * every output delivered its records or dropped them with a counted
	 * reason. Chunks are released in any order. An input that commits
	 * positions (tail offsets) commits only up to released chunks, so a
	 * crash re-reads at most what was in flight.
	 */
	void (*chunk_released)(void *ctx, uint64_t id);
	/*
	 * Optional, storage.type filesystem only: every record emitted into
	 * chunk `id` up to now is on disk and survives a crash, though not
	 * delivered yet (called on each flush tick and sl_input_persist). The
	 * chunk may take more records after it; chunk_released still follows
	 * for it. An input that commits positions may commit these records.
	 */
	void (*chunk_persisted)(void *ctx, uint64_t id);
	/* Shutdown: stop collecting; emit nothing after this returns. */
	void (*stop)(void *ctx);
	void (*destroy)(void *ctx);
};

/* The instance behind an input (for errors, metrics, the event base). */
struct sl_plugin_instance *sl_input_instance(struct sl_input *in);
struct event_base *sl_input_base(struct sl_input *in);
/* The configured Tag (default: the plugin name), and its length. */
const char *sl_input_tag(const struct sl_input *in, size_t *len);
/* Whether the tag is the default one (no Tag option given). */
bool sl_input_tag_is_default(const struct sl_input *in);

/*
 * Runs the filters on `rec` and buffers it under `tag`. The record is
 * consumed (reset it before reusing). Returns 0 when kept or dropped by a
 * filter, -SL_ENOMEM when it could not be stored (counted as a drop with
 * reason buffer_full).
 */
int sl_input_emit(struct sl_input *in, const char *tag, size_t tag_len,
		  struct sl_record *rec);
/*
 * The id of the chunk the last sl_input_emit() put its record into, or 0
 * when a filter dropped it (nothing to wait for). Ids grow, never repeat.
 */
uint64_t sl_input_last_chunk(const struct sl_input *in);
/*
 * Makes every record emitted so far by this input as durable as its
 * storage.type promises: with memory, they are in the pipeline's buffer
 * already (nothing to do); with filesystem, they are written to their
 * chunk files (and fsync'ed with storage.sync full). Call it before telling
 * a sender its records are accepted (witness' 202). 0 or -SL_EIO.
 *
 * With filesystem, -SL_EIO means some record emitted since the last call is
 * not on disk (no chunk file, a failed write or seal): the caller must
 * refuse the request (503 + Retry-After). The records of the open chunks
 * that are not on disk are taken back (not delivered: the sender's retry
 * sends them again); those already handed to outputs by a failed seal may
 * be delivered twice, never lost.
 */
int sl_input_persist(struct sl_input *in);
/*
 * Call from init or start: the input can read again what it has not had
 * released (see chunk_released), so it is paused while its outputs are busy
 * instead of buffering up to Mem_Buf_Limit. `keeps_position`: a new
 * instance of the input (restart, SIGHUP reload) resumes from the last
 * released position (tail with DB), so a reload may forget this input's
 * undelivered chunks: they are read again instead of being handed over.
 */
void sl_input_set_rereadable(struct sl_input *in, bool keeps_position);
/* Counts raw bytes read from the source (sluice_input_bytes_total). */
void sl_input_add_bytes(struct sl_input *in, uint64_t n);
/* True while the input is over its memory budget and must not read. */
bool sl_input_paused(const struct sl_input *in);
/*
 * The input will emit nothing more and asks the process to end (EOF with
 * Exit_On_Eof, stdin closed). When every input is finished or idle,
 * sluice flushes and exits.
 */
void sl_input_finished(struct sl_input *in);
/*
 * The input will emit nothing more but, as in Fluent Bit, does not end the
 * process (dummy after Samples): sluice keeps running and serving its
 * endpoints until stopped, or until the other inputs finish.
 */
void sl_input_idle(struct sl_input *in);

#endif
