/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_out_msgpack.h - records as msgpack for Format msgpack (kafka, http,
 * file), packed by libmsgpack (sl_out_msgpack.c). Shared by the outputs
 * only; not part of the plugin ABI.
 */
#ifndef SL_OUT_MSGPACK_H
#define SL_OUT_MSGPACK_H

#include "sl_record.h"

#include <msgpack.h>

/*
 * kafka's value: packs `rec` into `out` (cleared first) as a map whose
 * first member is ts_key (ts_key_len bytes, borrowed), its value the date
 * string `date` (date_len bytes) or, when date is NULL, the time as float64
 * seconds; then every member of the body. `scratch` is the caller's, for
 * unescaped strings. Returns 0, -SL_EPARSE (the body is not an object:
 * cannot happen for a sealed chunk) or -SL_ENOMEM.
 */
int sl_out_msgpack_kafka_value(struct sl_buf *out, struct sl_buf *scratch,
			       struct sl_record *rec, const char *ts_key,
			       size_t ts_key_len, const char *date,
			       size_t date_len);

/*
 * Appends one event of Fluent Bit's chunk layout to `out`:
 * [[EventTime(sec, nsec), {}], {body}] (sluice records carry no metadata,
 * so the metadata map is empty). On error `out` is as it was. Returns 0,
 * -SL_EPARSE or -SL_ENOMEM.
 */
int sl_out_msgpack_event(struct sl_buf *out, struct sl_buf *scratch,
			 struct sl_record *rec);

#endif
