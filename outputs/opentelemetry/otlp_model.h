/* SPDX-License-Identifier: Apache-2.0 */
/*
 * otlp_model.h - what the opentelemetry output and input share: the
 * protobuf-c messages of OTLP logs (generated from proto/), an arena that
 * owns every message of one request, JSON values to and from AnyValue, and
 * OTLP/JSON (the specification's JSON mapping) written from and read into
 * an ExportLogsServiceRequest. No I/O, no plugin state.
 */
#ifndef SL_OTLP_MODEL_H
#define SL_OTLP_MODEL_H

#include "otlp_logs_service.pb-c.h"
#include "sl_common.h"

#include <stdbool.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

typedef Opentelemetry__Proto__Common__V1__AnyValue otlp_any;
typedef Opentelemetry__Proto__Common__V1__KeyValue otlp_kv;
typedef Opentelemetry__Proto__Common__V1__KeyValueList otlp_kvlist;
typedef Opentelemetry__Proto__Common__V1__ArrayValue otlp_array;
typedef Opentelemetry__Proto__Common__V1__InstrumentationScope otlp_scope;
typedef Opentelemetry__Proto__Resource__V1__Resource otlp_resource;
typedef Opentelemetry__Proto__Logs__V1__LogRecord otlp_log;
typedef Opentelemetry__Proto__Logs__V1__ScopeLogs otlp_scope_logs;
typedef Opentelemetry__Proto__Logs__V1__ResourceLogs otlp_resource_logs;
typedef Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest
    otlp_request;
typedef Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceResponse
    otlp_response;

/* Bump allocator: everything of one request, freed in one call. */
struct otlp_arena {
	struct otlp_block *head;
};
/* Zeroed memory owned by the arena, or NULL on ENOMEM. */
void *otlp_alloc(struct otlp_arena *a, size_t size);
/* A NUL-terminated copy of `len` bytes owned by the arena. */
char *otlp_strndup(struct otlp_arena *a, const char *s, size_t len);
void otlp_arena_free(struct otlp_arena *a);

/* Initialised messages owned by the arena (NULL on ENOMEM). */
otlp_any *otlp_any_new(struct otlp_arena *a);
otlp_kv *otlp_kv_new(struct otlp_arena *a, const char *key, otlp_any *v);
otlp_log *otlp_log_new(struct otlp_arena *a);
otlp_scope_logs *otlp_scope_logs_new(struct otlp_arena *a);
otlp_resource_logs *otlp_resource_logs_new(struct otlp_arena *a);
otlp_resource *otlp_resource_new(struct otlp_arena *a);
otlp_scope *otlp_scope_new(struct otlp_arena *a);

/* Appends `item` to the array *v of *n items (arena-grown). 0 or ENOMEM. */
int otlp_push(struct otlp_arena *a, void ***v, size_t *n, void *item);

/*
 * A JSON value as an AnyValue: objects are kvlists, arrays arrays,
 * integers int, other numbers double, null an empty AnyValue. NULL on
 * ENOMEM. The strings are copied into the arena.
 */
otlp_any *otlp_any_from_json(struct otlp_arena *a, const yajl_val v);
/* The members of a JSON object as KeyValues appended to *kv. */
int otlp_kvs_from_json(struct otlp_arena *a, const yajl_val obj, otlp_kv ***kv,
		       size_t *n);

/*
 * An AnyValue as JSON through `g`: kvlist an object, bytes base64 text,
 * a double that JSON cannot hold (NaN, inf) and an empty value null.
 * 0 or -SL_ENOMEM.
 */
int otlp_any_to_json(yajl_gen g, const otlp_any *v);
/* KeyValues as one JSON object. */
int otlp_kvs_to_json(yajl_gen g, otlp_kv *const *kv, size_t n);

/* Lower-case hex of `len` bytes into `out` (2 * len + 1 bytes). */
void otlp_hex(char *out, const uint8_t *in, size_t len);
/* `n` hex digits (either case) into n / 2 bytes. 0 or -SL_EPARSE. */
int otlp_unhex(uint8_t *out, const char *in, size_t n);

/* The request as OTLP/JSON appended to `out`. 0 or -SL_ENOMEM. */
int otlp_request_to_json(const otlp_request *req, struct sl_buf *out);
/*
 * OTLP/JSON `json` (NUL-terminated) as a request in the arena. Both the
 * specification's lowerCamelCase names and the proto's snake_case are
 * read; unknown fields are ignored (as the specification asks).
 * Returns the request, or NULL with *err set (-SL_EPARSE, -SL_ENOMEM).
 */
otlp_request *otlp_request_from_json(struct otlp_arena *a, const char *json,
				     int *err);
/* The response's rejected_log_records from a JSON answer body (0: none). */
int64_t otlp_response_rejected_json(const char *json, size_t len,
				    struct sl_buf *msg);

#endif
