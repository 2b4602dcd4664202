/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_record.h - the record as the core holds it while it moves through an
 * input's filter chain. Plugins see only the opaque API of sluice_plugin.h.
 *
 * An input owns one struct sl_record and reuses it for every record it
 * emits, so that the hot path allocates nothing once buffers have grown.
 * A record made from a plain line stays "lazy": its body {"<key>":"<line>"}
 * is only built when something asks for it, and a parser reading that key
 * gets the line itself, unescaped for free.
 */
#ifndef SL_RECORD_H
#define SL_RECORD_H

#include "sl_json.h"

enum sl_record_flags {
	SL_REC_PARSE_ERROR = 1 << 0, /* kept as {"log": ...} after a failed parse */
	SL_REC_REPAIRED = 1 << 1,    /* invalid UTF-8 was replaced by U+FFFD */
};

struct sl_record {
	int64_t ts_ns;
	unsigned flags;
	/* current body; points into `own[cur]` or is borrowed from the input */
	const char *body;
	size_t len;
	struct sl_buf own[2]; /* double buffer: an edit reads one, writes other */
	int cur;
	struct sl_view view;  /* index of `body`, valid when view_ok */
	bool view_ok;
	/* lazy line record: body not built yet */
	bool lazy;
	const char *line, *line_key;
	size_t line_len, line_key_len;
	struct sl_buf tmp; /* scratch for unescaping and lazy builds */
};

void sl_record_init(struct sl_record *rec);
void sl_record_destroy(struct sl_record *rec);

/*
 * Makes `rec` the lazy record {"<key>": "<line>"} at time ts_ns. `line` and
 * `key` are borrowed until the record is emitted (sl_input_emit returns).
 */
void sl_record_reset_line(struct sl_record *rec, int64_t ts_ns,
			  const char *key, size_t key_len, const char *line,
			  size_t line_len);
/*
 * Makes `rec` the record whose body is the JSON object `json` (borrowed
 * until emitted), validating it and repairing invalid UTF-8 (copied then).
 * Returns 0, -SL_EPARSE (not a JSON object), -SL_ETOOBIG (nesting), or
 * -SL_ENOMEM; on error the record is left empty.
 */
int sl_record_reset_json(struct sl_record *rec, int64_t ts_ns, const char *json,
			 size_t len);
/*
 * Replaces the body of `rec` with `json`, validated and repaired as above,
 * copied into the record (json may point into the record's own storage).
 * Keeps ts and flags. Returns as sl_record_reset_json; record unchanged on
 * error.
 */
int sl_record_replace_json(struct sl_record *rec, const char *json, size_t len);

/* Builds the view if needed. Returns 0 or a negative error. */
int sl_record_view(struct sl_record *rec, const struct sl_view **view);

#endif
