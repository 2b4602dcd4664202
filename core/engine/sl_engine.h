/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_engine.h - the engine: builds the pipeline from a config tree, owns the
 * libevent loop on the calling thread (inputs, filters, chunks, routing,
 * retry timers, signals) and the output worker threads.
 *
 * Lifecycle: create (validate everything, report all errors) -> start
 * (open files/ports; failure is a start-up runtime error) -> run (until
 * SIGTERM/SIGINT or every input finished) -> destroy.
 */
#ifndef SL_ENGINE_H
#define SL_ENGINE_H

#include "sl_conf.h"
#include "sl_metrics.h"

#include <stdio.h>

struct sl_engine;

/*
 * Builds the engine from `conf` (borrowed for the engine's lifetime).
 * Every config problem goes to `diag`. Returns NULL on any error.
 */
struct sl_engine *sl_engine_create(const struct sl_conf *conf,
				   struct sl_diag *diag);
/* Starts inputs, outputs and workers. 0 or a negative code (logged). */
int sl_engine_start(struct sl_engine *eng);
/* Runs the loop until stopped. Returns 0 on a clean stop. */
int sl_engine_run(struct sl_engine *eng);
/* Asks the engine to flush and stop (thread-safe, async-signal-unsafe). */
void sl_engine_stop(struct sl_engine *eng);
void sl_engine_destroy(struct sl_engine *eng);

/*
 * SIGHUP: `build` makes the replacement engine from the configuration as it
 * is now, while this one keeps running (no port is opened by creating an
 * engine). It returns NULL after logging why, and nothing changes;
 * otherwise this engine's inputs stop and its loop ends (without draining),
 * and sl_engine_take_next() hands the new one to the caller, who calls
 * sl_engine_handover() and starts it.
 */
typedef struct sl_engine *(*sl_engine_reload_fn)(void *arg);
void sl_engine_on_reload(struct sl_engine *eng, sl_engine_reload_fn build,
			 void *arg);
/* After sl_engine_run: the engine a reload built, or NULL. Caller owns it. */
struct sl_engine *sl_engine_take_next(struct sl_engine *eng);
/*
 * After sl_engine_run returned for a reload, before `next` starts: waits
 * for the flushes `old`'s workers are running, then gives each delivery
 * still pending (memory chunks) to the output of `next` with the same name
 * and plugin whose Match takes the chunk's tag; those no such output takes
 * are counted as dropped (reason reload). Chunks on disk stay there for
 * `next` to recover; a tail with DB reads its own again. Then old's
 * counters are added into next's, so that they continue across reloads.
 */
void sl_engine_handover(struct sl_engine *old, struct sl_engine *next);

/* Prints every compiled-in plugin with its options (`sluice -h`). */
void sl_engine_help(FILE *out);
/* The same as one JSON object {service, input, filter, output} for -J. */
void sl_engine_help_json(FILE *out);
/*
 * `sluice -J`, Fluent Bit's shape (sl_engine_schema.c): the members
 * ,"fluent-bit":{...},"customs":[],"inputs":[...],...,"outputs":[...]
 * to append inside the -J document.
 */
void sl_engine_help_schema(FILE *out);

struct sl_metrics *sl_engine_metrics(struct sl_engine *eng);
struct event_base *sl_engine_base(struct sl_engine *eng);

#endif
