/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_output.h - the output plugin interface.
 *
 * `flush` runs on one of the output's worker threads with one sealed chunk.
 * It reports the chunk's fate exactly once through sl_flush_done(),
 * possibly later and from another thread (a delivery callback). Records it
 * permanently cannot deliver are counted with sl_flush_drop() before that.
 */
#ifndef SL_OUTPUT_H
#define SL_OUTPUT_H

#include "sl_chunk.h"
#include "sl_instance.h"
#include "sl_router.h"

struct sl_output;
struct sl_flush;

enum sl_flush_result {
	SL_FLUSH_OK = 0, /* delivered (or the rest dropped with a reason) */
	SL_FLUSH_RETRY,	 /* try the whole chunk again later */
	SL_FLUSH_ERROR,	 /* permanent failure: the chunk is dropped, counted */
};

enum sl_drop_reason {
	SL_DROP_RETRY_LIMIT = 0,
	SL_DROP_REJECTED,
	SL_DROP_OVERSIZE,
	SL_DROP_BUFFER_FULL,
	SL_DROP_SHUTDOWN, /* memory chunks still pending when Grace ran out */
	SL_DROP_RELOAD,	  /* a reload's new config has no output to take them */
	SL_DROP_REASONS,
};
const char *sl_drop_reason_name(enum sl_drop_reason r);

struct sl_output_plugin {
	const char *name;
	const char *description;
	const struct sl_cfg_option *config_map;
	size_t ctx_size;
	/* As for inputs: validate only, also run by --dry-run. */
	int (*init)(void *ctx, struct sl_output *out);
	/* Optional: open servers/sockets on the engine base at start-up. */
	int (*start)(void *ctx, struct sl_output *out);
	/* Optional per-worker-thread state (a curl handle, a file). */
	int (*worker_init)(void *ctx, void **worker);
	void (*worker_exit)(void *ctx, void *worker);
	void (*flush)(void *ctx, void *worker, struct sl_flush *fl);
	void (*destroy)(void *ctx);
};

struct sl_plugin_instance *sl_output_instance(struct sl_output *out);
/* The output's Match / Match_Regex (for outputs that route more than
 * records, like the Prometheus exporter choosing metric families). */
const struct sl_route *sl_output_route(const struct sl_output *out);
/*
 * Copies the output's common tls, tls.verify, tls.ca_file, tls.crt_file,
 * tls.key_file and tls.vhost options into an HTTP client's options
 * (strings borrowed for the output's lifetime).
 */
struct sl_http_client_opts;
void sl_output_tls_opts(const struct sl_output *out,
			struct sl_http_client_opts *opts);

/* The service's Grace in seconds (5, its default, outside an engine):
 * for outputs whose shutdown waits must stay within it. */
int64_t sl_output_grace(const struct sl_output *out);

/* The chunk being flushed: borrowed until sl_flush_done(). */
const struct sl_chunk *sl_flush_chunk(const struct sl_flush *fl);
/* 0 for the first attempt, then 1, 2, ... for retries. */
int sl_flush_attempt(const struct sl_flush *fl);
/* Counts `n` records of this chunk dropped for `reason` (thread-safe). */
void sl_flush_drop(struct sl_flush *fl, enum sl_drop_reason reason, uint64_t n);
/*
 * Per-record settlement, kept across the retries of one chunk to one
 * output: an output marks each record it delivered (or dropped with a
 * reason) and, when the chunk comes back for a retry, skips the marked
 * ones, so a retry re-sends only what failed. `index` is the record's
 * position in the chunk (struct sl_chunk_iter.index - 1 after next).
 * One thread at a time may call these: the worker running the flush, or
 * the thread that completes it (a delivery callback) once the worker is
 * done with it, before sl_flush_done(). sl_flush_mark returns
 * 0 or -SL_ENOMEM (then the record is simply sent again on retry).
 */
int sl_flush_mark(struct sl_flush *fl, uint32_t index);
bool sl_flush_marked(const struct sl_flush *fl, uint32_t index);
/*
 * With SL_FLUSH_RETRY: wait at least `seconds` before the retry (an HTTP
 * Retry-After); the backoff still applies when it is longer.
 */
void sl_flush_retry_after(struct sl_flush *fl, double seconds);
/* Reports the result. `fl` must not be used afterwards. */
void sl_flush_done(struct sl_flush *fl, enum sl_flush_result result);

#endif
