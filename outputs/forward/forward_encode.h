/* SPDX-License-Identifier: Apache-2.0 */
/*
 * forward_encode.h - the sending side's records-to-bytes half of Fluent's
 * Forward protocol v1: a JSON record as a msgpack map, its time as
 * EventTime (ext type 0) or integer seconds, entries gathered into one
 * Forward (array) or PackedForward (bin, gzip optional) message with its
 * options map. Pure functions over buffers.
 */
#ifndef FORWARD_ENCODE_H
#define FORWARD_ENCODE_H

#include "sl_common.h"

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The msgpack write callback for a packer over a struct sl_buf. */
int fwdo_buf_write(void *data, const char *buf, size_t len);

/*
 * Appends the JSON text json[0..len) as msgpack to `out`: objects and
 * arrays keep their order, integers that fit int64/uint64 are integers,
 * other numbers float64. Containers use the 32-bit headers (filled in
 * when they close), which every msgpack reader accepts. 0, -SL_EPARSE (not
 * JSON, or nested deeper than 64) or -SL_ENOMEM; `out` is left as it was
 * on error.
 */
int fwdo_json_to_msgpack(struct sl_buf *out, const char *json, size_t len);

/* Appends one entry [time, record] (time: EventTime, or integer seconds
 * with `time_as_integer`). Returns as fwdo_json_to_msgpack. */
int fwdo_entry(struct sl_buf *out, int64_t ts_ns, bool time_as_integer,
	       const char *json, size_t len);

/* A gzip member of data[0..len) into `out` (reset first). 0 or -SL_ENOMEM. */
int fwdo_gzip(struct sl_buf *out, const char *data, size_t len);

struct fwdo_message {
	const char *tag;
	size_t tag_len;
	const char *entries; /* n concatenated [time, record] */
	size_t entries_len;
	uint64_t n;
	bool forward_mode; /* array of entries, else PackedForward bin */
	bool gzip;	   /* entries are a gzip member */
	bool options;	   /* send the options map */
	const char *chunk; /* ack token, NULL for none */
	/* extra options "KEY VALUE" (Add_Option), already split */
	const char *const *extra_keys, *const *extra_values;
	size_t n_extra;
};

/* Appends the whole message. 0 or -SL_ENOMEM. */
int fwdo_message(struct sl_buf *out, const struct fwdo_message *m);

#endif
