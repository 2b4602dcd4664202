/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kafka_msgpack.h - Format msgpack's message value (kafka_msgpack.c).
 * Private to the plugin's folder.
 */
#ifndef SL_OUT_KAFKA_MSGPACK_H
#define SL_OUT_KAFKA_MSGPACK_H

#include "sl_record.h"

#include <msgpack.h>

/*
 * Packs `rec` (its time and body) into `out` (cleared first) as a map:
 * ts_key (ts_key_len bytes, borrowed) first, its value the date string
 * `date` (date_len bytes) or, when date is NULL, the time as float64
 * seconds; then every member of the body. `scratch` is the caller's,
 * reused for unescaped strings. Returns 0, -SL_EPARSE (the body is not an
 * object: cannot happen for a sealed chunk) or -SL_ENOMEM.
 */
int sl_out_kafka_msgpack_value(msgpack_sbuffer *out, struct sl_buf *scratch,
			       struct sl_record *rec, const char *ts_key,
			       size_t ts_key_len, const char *date,
			       size_t date_len);

#endif
