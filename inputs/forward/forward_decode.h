/* SPDX-License-Identifier: Apache-2.0 */
/*
 * forward_decode.h - Fluent's Forward protocol v1, the receiving side's
 * bytes-to-records half: framing msgpack messages out of a byte stream
 * without allocating, classifying a message (Message, Forward,
 * PackedForward, CompressedPackedForward), inflating gzip, and turning each
 * entry's time into nanoseconds and its record into a JSON object.
 *
 * Pure functions over buffers: no sockets, no engine, so the unit tests and
 * the fuzz target drive exactly what the input runs. The handshake lives in
 * forward_auth.c, the connections in forward.c.
 */
#ifndef FORWARD_DECODE_H
#define FORWARD_DECODE_H

#include "sl_common.h"

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* JSON nesting sluice accepts (the record view's limit). */
#define FWD_MAX_DEPTH 64

/*
 * A resumable framer: finds where one msgpack object ends by counting the
 * items still owed, without building anything. Every array element takes
 * at least one byte and every map entry two, so a declared count larger
 * than the bytes at hand is only ever "not complete yet": a 5-byte header
 * promising 4 billion elements costs nothing until the bytes arrive (the
 * limit cuts it first). msgpack-c's unpacker would allocate the elements
 * up front, which is why it only ever sees framed objects.
 */
struct fwd_framer {
	size_t off;	  /* scanned so far (may pass the buffer's end) */
	uint64_t pending; /* items still owed; 0 before the first byte */
	bool started;
};

enum fwd_frame_result {
	FWD_FRAME_MORE = 0,	/* incomplete: feed more bytes */
	FWD_FRAME_DONE = 1,	/* *len is the object's length */
	FWD_FRAME_INVALID = -1, /* a byte that msgpack never uses (0xc1) */
};

void fwd_framer_reset(struct fwd_framer *f);
/*
 * Scans `buf` (the object starts at buf[0]; len bytes available so far,
 * the same prefix as on earlier calls). `*owed` (optional) gets the bytes
 * the object still needs at least, for limits.
 */
enum fwd_frame_result fwd_frame(struct fwd_framer *f, const uint8_t *buf,
				size_t len, size_t *obj_len, uint64_t *owed);

/* The mode of one message, decided by its second element. */
enum fwd_mode {
	FWD_MODE_MESSAGE,     /* [tag, time, record, option?] */
	FWD_MODE_FORWARD,     /* [tag, [[time, record], ...], option?] */
	FWD_MODE_PACKED,      /* [tag, bin(entries), option?] */
	FWD_MODE_PACKED_GZIP, /* the same, option compressed: gzip */
};

/* One message, classified; every pointer borrows from the unpacked root. */
struct fwd_message {
	enum fwd_mode mode;
	const char *tag;
	size_t tag_len;
	const msgpack_object *time, *record; /* Message mode */
	const msgpack_object *entries;	     /* Forward mode: the array */
	const char *packed;		     /* PackedForward: the entries */
	size_t packed_len;
	const char *chunk; /* option chunk (ack wanted), NULL without */
	size_t chunk_len;
	int64_t signal; /* option fluent_signal: 0 logs (the default) */
};

/*
 * Classifies `root`. 0, or -SL_EPARSE when it is no Forward message (not
 * an array of 2-4, no string tag, an unknown second element or
 * compression).
 */
int fwd_message_parse(const msgpack_object *root, struct fwd_message *m);

/*
 * Inflates gzip data (one or more concatenated members) into `out`
 * (reset first). 0, -SL_EPARSE (not gzip, cut short), -SL_ETOOBIG (more
 * than `max` bytes inflated) or -SL_ENOMEM.
 */
int fwd_gunzip(struct sl_buf *out, const char *data, size_t len, size_t max);

/*
 * An entry's time in nanoseconds since the epoch: EventTime (ext type 0,
 * seconds and nanoseconds, big endian), an integer or a float of seconds,
 * or Fluent Bit 2's [time, metadata]. 0, or -SL_EPARSE for anything else.
 */
int fwd_time_ns(const msgpack_object *o, int64_t *ts_ns);

/*
 * Appends `o` as JSON to `out` the way Fluent Bit's msgpack-to-JSON does:
 * bin as a string, ext as a string of "\xNN" escapes, a float with an
 * integral value as "N.0", a repeated map key keeps its last value.
 * sluice's own rules on top: strings that are not UTF-8 are repaired
 * (U+FFFD), NaN and infinities become null (JSON has neither), a key that
 * is not a string becomes the string of its JSON text. 0, -SL_ETOOBIG
 * (deeper than FWD_MAX_DEPTH) or -SL_ENOMEM; `out` may hold a prefix then.
 */
int fwd_json_append(struct sl_buf *out, const msgpack_object *o);

/*
 * What a decoded entry becomes. `record` is a map; `arg` is the caller's.
 * Return 0 to go on, a negative code to stop (returned by fwd_entries).
 */
typedef int (*fwd_entry_cb)(void *arg, int64_t ts_ns,
			    const msgpack_object *record);

/* Counts of what fwd_entries could not use, by cause. */
struct fwd_entry_stats {
	uint64_t ok;	    /* handed to the callback */
	uint64_t malformed; /* not [time, map], a bad time, cut short */
};

/*
 * Calls `cb` for each entry of `m` (Message: one; Forward: the array;
 * Packed: each framed object of the bytes, inflated first into `scratch`
 * when gzip, at most `max` bytes). Bad entries are counted in `st` and
 * skipped. 0, a negative code from `cb`, or -SL_ETOOBIG / -SL_EPARSE /
 * -SL_ENOMEM for the whole message (gzip over `max`, not gzip).
 */
int fwd_entries(const struct fwd_message *m, struct sl_buf *scratch, size_t max,
		fwd_entry_cb cb, void *arg, struct fwd_entry_stats *st);

#endif
