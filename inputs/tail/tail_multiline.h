/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tail_multiline.h - `multiline.parser` for tail: joins the lines of one
 * file into records before they are emitted. Built-ins `docker` (JSON lines
 * whose "log" does not end in "\n" continue) and `cri` ("<time> <stream>
 * <P|F> <msg>": P parts continue until F), Fluent Bit's stack-trace
 * built-ins `go`, `java`, `python` and `ruby` (regex rules on "log" or the
 * line), and [MULTILINE_PARSER] definitions (regex rules start_state ->
 * ..., endswith, equal). Several
 * parsers may be listed: a line that no pending group takes is tried
 * against each in order; a line none accepts is emitted alone.
 * Knows nothing of the engine: finished groups go to a callback.
 */
#ifndef TAIL_MULTILINE_H
#define TAIL_MULTILINE_H

#include "sl_multiline.h"
#include "sl_time.h"
#include "sluice_plugin.h"

#include <stdbool.h>

/* Fluent Bit's default wait for a continuation, in milliseconds. */
#define TAIL_ML_FLUSH_MS_DEFAULT 4000

struct tail_ml_def;

/* The configured list, shared by every file of one input. */
struct tail_ml {
	struct tail_ml_def *defs; /* owned, in the order listed */
	size_t n;
	size_t max_len;	      /* a group is emitted before growing past it */
	int64_t min_flush_ns; /* smallest flush_timeout of the list */
	struct sl_time_fmt rfc3339; /* docker / cri times */
	bool fmt_ok;
	/* scratch for one line at a time (no allocation once grown) */
	struct sl_record scratch;
	bool scratch_ok;
	struct sl_text t1, t2;
	struct sl_buf
	    cri_base; /* {"time":..,"stream":..} of the current line */
	struct sl_accessor *acc_log, *acc_time; /* docker's fields */
};

/* One file's pending group. Caller storage; tail_ml_group_init first. */
struct tail_ml_group {
	int def;	    /* index into defs, -1 when nothing is pending */
	const char *state;  /* regex: current state, borrowed from the rule */
	struct sl_buf text; /* joined content */
	struct sl_buf
	    base;	 /* JSON object the content goes back into, or empty */
	const char *key; /* field for the content in base (borrowed) */
	int64_t ts_ns;	 /* time of the group (its first line) */
	int64_t start;	 /* file offset of the first line */
	int64_t end;	 /* file offset after the last line taken */
	int64_t deadline_ns; /* monotonic: emitted when no line came by then */
	size_t lines;
};

/* What a finished group (or a line no parser took) becomes. */
struct tail_ml_out {
	const char *text; /* the joined content, borrowed for the call */
	size_t len;
	/* NULL: a plain line, the record is {"<Key>": text} (tail's Parser
	 * applies); else a JSON object whose field `key` gets the text. */
	const char *base;
	size_t base_len;
	const char *key;
	int64_t ts_ns;
	int64_t start, end; /* file offsets of the group */
};

/* 0 to go on, 1 when the input is paused, negative on errors (logged). */
typedef int (*tail_ml_emit_fn)(void *arg, const struct tail_ml_out *o);

/* Empty list; `max_len` caps a joined group (bytes). Caller storage. */
int tail_ml_init(struct tail_ml *ml, size_t max_len);
void tail_ml_destroy(struct tail_ml *ml);

/*
 * Appends parser `name` ("docker", "cri", "go", "java", "python", "ruby",
 * or a [MULTILINE_PARSER] of `ps`, borrowed for the life of `ml`; a
 * built-in name wins over a definition of the same name). Returns 0, -SL_ENOENT
 * / -SL_EINVAL with a message in err, or -SL_ENOMEM.
 */
int tail_ml_add(struct tail_ml *ml, const char *name,
		const struct sl_parsers *ps, char *err, size_t err_len);

void tail_ml_group_init(struct tail_ml_group *g);
void tail_ml_group_destroy(struct tail_ml_group *g);
static inline bool tail_ml_pending(const struct tail_ml_group *g)
{
	return g->def >= 0;
}

/*
 * Feeds one line (borrowed) that starts at file offset `start` and ends
 * (newline included) at `end`, read at ts_ns, at monotonic time now_ns.
 * Calls `fn` for every record this completes. Returns the largest fn
 * result (1: paused), or -SL_ENOMEM.
 */
int tail_ml_feed(struct tail_ml *ml, struct tail_ml_group *g, const char *line,
		 size_t len, int64_t start, int64_t end, int64_t ts_ns,
		 int64_t now_ns, tail_ml_emit_fn fn, void *arg);

/* Emits the pending group, if any (EOF, shutdown, rotation done). */
int tail_ml_flush(struct tail_ml *ml, struct tail_ml_group *g,
		  tail_ml_emit_fn fn, void *arg);
/* Emits the pending group when its flush_timeout passed at now_ns. */
int tail_ml_expire(struct tail_ml *ml, struct tail_ml_group *g, int64_t now_ns,
		   tail_ml_emit_fn fn, void *arg);

#endif
