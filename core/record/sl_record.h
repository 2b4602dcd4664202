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
	SL_REC_PARSE_ERROR =
	    1 << 0, /* kept as {"log": ...} after a failed parse */
	SL_REC_REPAIRED = 1 << 1, /* invalid UTF-8 was replaced by U+FFFD */
	/* the time was set from the record's content (a parser's Time_Key, a
	 * filter): the same line read again gets the same time */
	SL_REC_TIME_FROM_LOG = 1 << 2,
};

struct sl_record {
	int64_t ts_ns;
	unsigned flags;
	/* where an input that can re-read found the record (tail: file and
	 * offset), 0 when it cannot say; see sl_record_identity */
	uint64_t origin;
	/* current body; points into `own[cur]` or is borrowed from the input */
	const char *body;
	size_t len;
	struct sl_buf
	    own[2]; /* double buffer: an edit reads one, writes other */
	int cur;
	struct sl_view view; /* index of `body`, valid when view_ok */
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
void sl_record_reset_line(struct sl_record *rec, int64_t ts_ns, const char *key,
			  size_t key_len, const char *line, size_t line_len);
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

/*
 * Record identity: what makes a record read again after a crash the same
 * record, so outputs can derive an id a re-send cannot duplicate (es
 * Generate_ID, the kafka sluice-id header). An input that can re-read sets
 * an origin after the reset (reset_* clear it). 0 from sl_record_identity
 * means "no origin: the timestamp is stable, use it with the body" (records
 * recovered from disk keep their original time).
 */
void sl_record_set_origin(struct sl_record *rec, uint64_t origin);
/* The identity stored with the record in its chunk: 0 without an origin;
 * the origin when the time is the read time; origin mixed with the time
 * when the time came from the log (a copytruncated file that repeats the
 * same line at the same offset is then still a new record). */
uint64_t sl_record_identity(const struct sl_record *rec);
/*
 * The record's id as text: the first 32 hex digits of SHA-256 over who the
 * record is and its body. Who it is: `identity` when not 0 (the byte 'I'
 * and the 8 bytes, little endian), else the time (8 bytes, little endian:
 * stable for times parsed from the log or recovered from disk; the recipe
 * ids had before identities existed). Same record, same id, on any host,
 * at any attempt, across a crash and a re-read. es Generate_ID and kafka's
 * sluice-id header. `out` gets 32 digits and a NUL. 0 or -SL_ENOMEM.
 */
#define SL_RECORD_ID_HEX 32
int sl_record_id_hex(int64_t ts_ns, uint64_t identity, const char *body,
		     size_t len, char out[SL_RECORD_ID_HEX + 1]);
/* A 64-bit mix of two values (splitmix64 finaliser over a ^ rotated b),
 * never 0: for building origins from several parts. */
uint64_t sl_identity_mix(uint64_t a, uint64_t b);

/* Builds the view if needed. Returns 0 or a negative error. */
int sl_record_view(struct sl_record *rec, const struct sl_view **view);

#endif
