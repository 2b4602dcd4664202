/* SPDX-License-Identifier: Apache-2.0 */
/*
 * otlp_decode.h - the opentelemetry input's decoder: an OTLP/HTTP logs
 * request body (protobuf or OTLP/JSON, already inflated) as sluice records,
 * in the shape Fluent Bit's in_opentelemetry gives logs. Pure; the fuzz
 * target and the unit tests call it directly.
 */
#ifndef SL_OTLP_DECODE_H
#define SL_OTLP_DECODE_H

#include "../../outputs/opentelemetry/otlp_model.h"

/*
 * Decodes `body` into a request owned by the arena. `json` selects
 * OTLP/JSON, else protobuf. Returns 0, -SL_EPARSE or -SL_ENOMEM.
 */
int otlp_decode_request(struct otlp_arena *a, const char *body, size_t len,
			bool json, otlp_request **out);

/* Receives one record: its time and JSON object (borrowed for the call). */
typedef int (*otlp_record_fn)(void *arg, int64_t ts_ns, const char *json,
			      size_t len);

/*
 * Calls `fn` for every LogRecord of `req`, in order: a kvlist body's
 * members are the record's keys, any other body is under `body_key`
 * ("log"); the OTLP fields (times, severity, attributes, trace_id and
 * span_id as hex, trace_flags, event_name, resource, scope) are an object
 * under `meta_key` ("otlp"). The time is time_unix_nano, else the observed
 * time, else `now_ns`. Stops at the first non-zero return of `fn` and
 * returns it; -SL_ENOMEM; else the number of records.
 */
long otlp_request_records(const otlp_request *req, const char *meta_key,
			  const char *body_key, int64_t now_ns,
			  otlp_record_fn fn, void *arg);

#endif
