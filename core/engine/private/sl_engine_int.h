/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_engine_int.h - the engine's private structures, shared by the
 * engine library: sl_engine.c (loop, chunks, routing, acks), sl_input.c
 * (emit, open chunks, pause), sl_output.c (the flush API),
 * sl_engine_conf.c (instances from the config tree), sl_engine_storage.c,
 * sl_worker.c (output threads), and the service HTTP API (sl_http_api.c).
 * Outside the engine, main.c and white-box unit tests include it; it sits
 * in private/, which no plugin has on its include path.
 *
 * Threading: everything here belongs to the engine thread except the
 * worker pool queues (own mutex) and the completion queue (own mutex).
 */
#ifndef SL_ENGINE_INT_H
#define SL_ENGINE_INT_H

#include "sl_chunk.h"
#include "sl_condition.h"
#include "sl_conf.h"
#include "sl_engine.h"
#include "sl_input.h"
#include "sl_metrics.h"
#include "sl_metrics_fb.h"
#include "sl_output.h"
#include "sl_parser.h"
#include "sl_plugin_load.h"
#include "sl_router.h"
#include "sl_tag_records.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdbool.h>

/* Options every [SERVICE] may set (SPEC §3). */
struct sl_service {
	double flush;  /* seconds */
	int64_t grace; /* seconds */
	char *log_level;
	char *log_file;
	struct sl_cfg_multi parsers_files;
	struct sl_cfg_multi plugins_files;
	bool http_server;
	char *http_listen;
	int64_t http_port;
	bool health_check;
	int64_t hc_errors_count;
	int64_t hc_retry_failure_count;
	int64_t hc_period;
	bool hot_reload;
	char *storage_path;
	char *storage_sync;
	bool storage_checksum;
	int64_t storage_backlog_mem_limit;
	int64_t storage_max_chunks_up;
	double scheduler_base;
	double scheduler_cap;
	/* telemetry.metrics.logs.tag_records.* (sl_tag_records.h) */
	bool tag_records;
	int64_t tag_records_max_series, tag_records_max_tag_length;
	char *metrics_names; /* sluice, fluentbit or both (sl_metrics_fb.h) */
};

/* Options common to all inputs. */
struct sl_input_common {
	char *tag;
	char *alias;
	char *log_level;
	int64_t mem_buf_limit;
	char *storage_type;
	bool tag_records; /* telemetry...tag_records.enabled, when set */
};

/* Options common to all filters. */
struct sl_filter_common {
	char *match;
	char *match_regex;
	char *alias;
	char *log_level;
};

/* Options common to all outputs. */
struct sl_output_common {
	char *match;
	char *match_regex;
	char *alias;
	char *log_level;
	char *retry_limit;
	int64_t workers;
	int64_t storage_total_limit_size;
	bool tls;
	bool tls_verify;
	char *tls_ca_file;
	char *tls_crt_file;
	char *tls_key_file;
	char *tls_vhost;
};

/* An open chunk of an input, one per tag being written. */
struct sl_open_chunk {
	struct sl_chunk *chunk;
};

struct sl_input {
	struct sl_plugin_instance ins;
	const struct sl_input_plugin *plugin;
	void *ctx;
	struct sl_input_common common;
	struct sl_engine *eng;
	char *tag; /* Tag, or the plugin name */
	size_t tag_len;
	bool tag_is_default; /* no Tag given: <plugin>.<n> */
	int64_t mem_limit;   /* bytes; 0: unlimited */
	size_t mem_used;     /* bytes of chunks held for this input */
	uint64_t last_chunk; /* chunk of the last record emitted, 0: none */
	bool paused, finished, stopped, started;
	bool idle;	 /* produces no more but asks no end (sl_input_idle) */
	bool filesystem; /* storage.type filesystem */
	/* sl_input_set_rereadable: paused while its outputs are busy */
	bool rereadable, keeps_position;
	size_t chunks_held; /* sealed chunks not yet released */
	size_t window;	    /* rereadable: chunks_held that pause it */
	/* a chunk of this input could not be written to disk since the last
	 * sl_input_persist: that call must fail (the sender retries) */
	bool persist_failed;
	struct sl_open_chunk *open; /* open chunks by tag */
	size_t n_open, cap_open;
	/* filters that match the last tag seen (cache) */
	char *route_tag;
	size_t route_tag_len, route_tag_cap;
	bool *filter_match; /* one per engine filter */
	struct sl_metric_series *m_records, *m_bytes, *m_parse_errors,
	    *m_repaired;
	struct sl_metric_series *m_paused; /* 1 while paused at Mem_Buf_Limit */
	struct sl_tag_records_input *tag_records; /* owned; NULL: not counted */
	/* YAML processors.logs: run first, on this input's records only
	 * (borrowed from eng->processors) */
	struct sl_filter_inst **procs;
	size_t n_procs;
	/* YAML routes.logs (sl_engine_routes.c): when set, they and not the
	 * outputs' Match decide where this input's records go (at dispatch,
	 * record by record) */
	struct sl_input_route *routes;
	size_t n_routes;
	struct sl_metric_series *m_unrouted; /* records no route took */
};

/* One route of an input (Fluent Bit 4.x `routes`). */
struct sl_input_route {
	char *name; /* owned; the tag of the records it takes */
	size_t name_len;
	struct sl_condition *cond; /* owned; NULL: every record */
	bool conditional;	   /* has a condition (or is the default) */
	bool is_default; /* takes what no other conditional route took */
	struct sl_output **outs; /* borrowed from eng->outputs */
	size_t n_outs;
};

struct sl_filter_inst {
	struct sl_plugin_instance ins;
	const struct sl_filter_plugin *plugin;
	void *ctx;
	struct sl_filter_common common;
	struct sl_route route;
	struct sl_metric_series *m_drop, *m_records;
	/* a processor: applies to the records this matches (NULL: all) */
	struct sl_condition *cond;
	bool processor;
};

struct sl_worker_pool;

struct sl_output {
	struct sl_plugin_instance ins;
	const struct sl_output_plugin *plugin;
	void *ctx;
	struct sl_output_common common;
	struct sl_route route;
	int retry_limit;
	uint64_t held_bytes; /* chunk bytes pending for this output */
	struct sl_worker_pool *pool;
	struct sl_metric_series *m_proc_records, *m_proc_bytes, *m_errors,
	    *m_retries, *m_retries_failed, *m_dropped[SL_DROP_REASONS];
	/* YAML processors.logs: run on this output's own copy of a chunk
	 * (borrowed from eng->processors) */
	struct sl_filter_inst **procs;
	size_t n_procs;
};

/* One delivery of one chunk to one output, from dispatch to its result. */
struct sl_flush {
	struct sl_engine *eng;
	struct sl_output *out;
	struct sl_chunk *chunk;
	/* set when `chunk` is this output's processed copy (owned by the
	 * flush) of `source`, which holds the reference */
	struct sl_chunk *source;
	int attempt;
	enum sl_flush_result result;
	uint64_t dropped;   /* records counted by sl_flush_drop (atomic) */
	uint8_t *settled;   /* bitmap of records delivered/dropped */
	double retry_after; /* seconds, from the output; 0: none */
	struct event *retry_timer;
	bool unstarted;	       /* handed back by a stopping worker pool */
	struct sl_flush *next; /* queue link (worker queue or completions) */
	struct sl_flush *prev_pending, *next_pending; /* engine's list */
};

struct sl_engine {
	const struct sl_conf *conf;
	struct sl_conf
	    parsers_conf; /* Parsers_File and Plugins_File contents */
	struct sl_parsers *parsers;
	struct sl_service service;
	struct sl_metrics metrics;
	struct event_base *base;
	struct sl_input **inputs;
	size_t n_inputs;
	struct sl_filter_inst **filters;
	size_t n_filters;
	struct sl_output **outputs;
	size_t n_outputs;
	struct sl_filter_inst **processors; /* every processor, owned */
	size_t n_processors;
	struct sl_loaded_plugin *loaded; /* from Plugins_File */
	size_t n_loaded;
	/* extra plugin tables besides the registry (tests); NULL-terminated */
	const struct sl_input_plugin *const *extra_inputs;
	const struct sl_output_plugin *const *extra_outputs;

	struct event *flush_timer, *grace_timer, *sig_term, *sig_int, *sig_hup,
	    *completion_ev, *stop_ev;
	/* results posted by workers, taken by the engine thread */
	pthread_mutex_t completion_lock;
	struct sl_flush *completed;
	/* every flush not yet completed (queued, running, or waiting retry) */
	struct sl_flush *pending;
	size_t n_pending;
	size_t chunks_live; /* sealed chunks not yet released */
	/* the data buffer of the last chunk released, for the next chunk:
	 * 2 MB buffers in their own mappings cost a page fault per 4 KB when
	 * new, so one is kept warm instead of freed and mapped again */
	struct sl_buf spare;
	uint64_t next_chunk_id;
	bool stopping;
	bool handing_over;   /* a reload: buffered chunks go to `next` */
	bool stop_requested; /* set from any thread */
	int exit_code;
	struct sl_storage *storage; /* storage.path, when an input uses it */
	struct sl_engine_storage *st_state; /* sl_engine_storage.c's own */
	sl_engine_reload_fn reload;	    /* builds a replacement on SIGHUP */
	void *reload_arg;
	struct sl_engine *next; /* the replacement, once built */
	struct sl_metric_series *m_chunks_up, *m_uptime;
	struct sl_tag_records tag_records; /* families NULL: no input counts */
	enum sl_metrics_names metrics_names; /* [SERVICE] metrics.names */
	int64_t start_mono_ns;
	struct sl_engine_api *api; /* owned (sl_engine_api.c); NULL when off */
};

/*
 * sl_engine_create() with extra input/output plugin tables (NULL-terminated
 * arrays, borrowed for the engine's lifetime), looked up after the registry.
 * For tests that need a controllable plugin.
 */
struct sl_engine *
sl_engine_create_with(const struct sl_conf *conf, struct sl_diag *diag,
		      const struct sl_input_plugin *const *in,
		      const struct sl_output_plugin *const *out);

/* sl_engine_storage.c: filesystem chunks (storage.type filesystem). */
int sl_engine_storage_start(struct sl_engine *eng);
void sl_engine_storage_stop(struct sl_engine *eng);
/* A new open chunk of a filesystem input gets its file (best effort). */
void sl_engine_storage_chunk_open(struct sl_engine *eng, struct sl_input *in,
				  struct sl_chunk *c);
/*
 * Writes what the chunk of a filesystem input holds beyond its file (and
 * creates the file first when that failed before: the disk may be back).
 * 0 when every record of the chunk is on disk; -SL_EIO (counted, logged
 * once per period) otherwise. Memory inputs: 0.
 */
int sl_engine_storage_persist(struct sl_chunk *c);
/*
 * Takes back the records of a filesystem chunk that are not on disk (after
 * a failed persist: the sender is told to retry, so keeping them would
 * deliver them twice or, after a crash, acknowledge what was lost). True
 * when the chunk is left with no record.
 */
bool sl_engine_storage_rollback(struct sl_chunk *c);
/*
 * Seals the chunk's file. True when the chunk is safe on disk. A filesystem
 * chunk that could not be sealed sets its input's persist_failed.
 */
bool sl_engine_storage_seal(struct sl_chunk *c);
/*
 * A chunk just sealed goes out now (true) or, for a filesystem chunk safe
 * on disk while the chunks up are over storage.max_chunks_up or
 * storage.backlog.mem_limit, goes "down" (false): its memory is freed (the
 * chunk is destroyed, a descriptor keeps the file) and it is read back and
 * dispatched, oldest first, as delivered chunks free room.
 */
bool sl_engine_storage_admit(struct sl_chunk *c, bool on_disk);
/*
 * Flush tick: writes the open chunks of every filesystem input and tells
 * each input (chunk_persisted) which chunks are safe on disk; loads chunks
 * down on disk again when there is room.
 */
void sl_engine_storage_tick(struct sl_engine *eng);
/* Delivered or dropped: the file goes. Undelivered at exit: it stays. */
void sl_engine_storage_remove(struct sl_chunk *c);
void sl_engine_storage_keep(struct sl_chunk *c);

/* sl_engine.c: hands a recovered, sealed chunk to the outputs. */
void sl_engine_dispatch_recovered(struct sl_engine *eng, struct sl_chunk *c);
/* sl_engine.c: routes a sealed chunk to every matching output. */
void sl_engine_dispatch(struct sl_engine *eng, struct sl_chunk *c);

/*
 * sl_input.c: the input side of flow control, also driven by the engine
 * (flush timer, chunk release). Seal: the open chunk at `idx` is sealed
 * and dispatched. Over budget: Mem_Buf_Limit reached. Over window: a
 * rereadable input holds as many sealed chunks as its outputs take. Pause
 * seals what frees memory and pauses only if still over; resume is
 * unconditional.
 */
void sl_engine_input_seal(struct sl_input *in, size_t idx);
bool sl_engine_input_over_budget(const struct sl_input *in);
bool sl_engine_input_over_window(const struct sl_input *in);
void sl_engine_input_pause(struct sl_input *in);
void sl_engine_input_resume(struct sl_input *in);

/*
 * sl_engine_conf.c: the series of an internal family with at most one
 * label (NULL: none). Internal families have no Max_Series cap: their label
 * values are bounded by the configuration. NULL on ENOMEM.
 */
struct sl_metric_series *sl_engine_series1(struct sl_engine *eng,
					   const char *name, const char *help,
					   enum sl_metric_type type,
					   const char *label,
					   const char *value);

/* sl_engine_conf.c: the options common to inputs, filters or outputs. */
const struct sl_cfg_option *sl_engine_common_map(enum sl_section_kind kind);
/*
 * sl_engine_conf.c: a processor (SL_SEC_PROCESSOR section) as a filter
 * instance, appended to eng->processors; its condition is set by the
 * caller. NULL with *rc set (and diagnostics added) on error.
 */
struct sl_filter_inst *sl_engine_processor_create(
    struct sl_engine *eng, const struct sl_filter_plugin *p,
    const struct sl_conf_section *sec, struct sl_diag *diag, int *rc);
/* sl_engine_conf.c: a filter instance's plugin context and options. */
void sl_engine_filter_free(struct sl_filter_inst *f);
/* sl_engine_conf.c: a filter plugin by name (built-in or loaded). */
const struct sl_filter_plugin *sl_engine_find_filter(struct sl_engine *eng,
						     const char *name);

/*
 * sl_engine_routes.c: processors and routes from the YAML sections owned
 * by inputs and outputs. `inst` maps a section index to the input or
 * output built from it (NULL when it failed). 0 or a negative code after
 * adding diagnostics.
 */
int sl_engine_pipeline_configure(struct sl_engine *eng, void *const *inst,
				 struct sl_diag *diag);
void sl_engine_pipeline_unconfigure(struct sl_engine *eng);
/*
 * Runs `procs` on `rec` in order, each only on a record its condition
 * takes. SL_FILTER_DROP when one dropped it (counted).
 */
int sl_engine_run_processors(struct sl_filter_inst *const *procs, size_t n,
			     struct sl_record *rec, const char *tag,
			     size_t tag_len);
/*
 * What a sealed chunk `c` becomes at dispatch: one delivery per output
 * that takes some of its records. Without routes or processors that is
 * `c` itself for every output whose Match takes its tag. An input with
 * routes: each conditional route gets a copy with the records it takes,
 * tagged with the route's name (Fluent Bit's behaviour); routes without a
 * condition take `c` as it is. An output with processors gets its own
 * processed copy. A copy's refs count the deliveries that share it; `c`'s
 * refs are the caller's business. Returns the number of deliveries in
 * *list (malloc'd), or -SL_ENOMEM. Records no route took are counted.
 */
struct sl_delivery {
	struct sl_output *out;
	struct sl_chunk *chunk; /* `c` or a copy */
};
int sl_engine_deliveries(struct sl_engine *eng, struct sl_chunk *c,
			 struct sl_delivery **list);
/*
 * Frees a copy sl_engine_deliveries made. A complete copy counts against
 * its input's Mem_Buf_Limit until then (the input may resume).
 */
void sl_engine_copy_free(struct sl_chunk *copy);
/* Moves a complete copy's bytes to the budget of input `to` (a reload). */
void sl_engine_copy_rehome(struct sl_chunk *copy, struct sl_input *to);
/* Whether `out` of `in`'s engine takes tag `tag` by Match (no routes) or
 * through a route of `in`. */
bool sl_engine_output_takes(const struct sl_input *in,
			    const struct sl_output *out, const char *tag,
			    size_t tag_len);

/* sl_engine_conf.c: builds instances into `eng` from eng->conf. */
/*
 * The service API ([SERVICE] HTTP_Server On), sl_engine_api.c. start does
 * nothing when HTTP_Server is Off; returns 0, or a negative code after
 * logging one error line (port in use: a start-up failure). stop is
 * idempotent.
 */
int sl_engine_api_start(struct sl_engine *eng);
void sl_engine_api_stop(struct sl_engine *eng);

int sl_engine_configure(struct sl_engine *eng, struct sl_diag *diag);
void sl_engine_unconfigure(struct sl_engine *eng);

/* sl_worker.c */
struct sl_worker_pool *sl_worker_pool_create(struct sl_output *out, int n);
/* Starts the threads. 0 or a negative code. */
int sl_worker_pool_start(struct sl_worker_pool *pool);
/* Queues a flush for a worker. Thread-safe. */
void sl_worker_pool_push(struct sl_worker_pool *pool, struct sl_flush *fl);
/*
 * Asks the threads to exit after the flush each is running; queued flushes
 * stay queued (sl_worker_pool_destroy hands them back). Does not block.
 */
void sl_worker_pool_quiesce(struct sl_worker_pool *pool);
/*
 * Stops after the flushes being run (joins the threads); queued ones are
 * completed as RETRY with `unstarted` set: they were never attempted.
 */
void sl_worker_pool_destroy(struct sl_worker_pool *pool);

/* sl_engine.c: called by sl_flush_done from any thread. */
void sl_engine_post_completion(struct sl_engine *eng, struct sl_flush *fl);

#endif
