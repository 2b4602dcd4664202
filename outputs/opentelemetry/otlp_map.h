/* SPDX-License-Identifier: Apache-2.0 */
/*
 * otlp_map.h - the opentelemetry output's record -> LogRecord mapping and
 * the request built from a batch of them; pure functions, shared with the
 * unit tests. The plugin (HTTP, retries) is opentelemetry.c.
 */
#ifndef SL_OTLP_MAP_H
#define SL_OTLP_MAP_H

#include "otlp_model.h"

/* A key path: "$a['b']", "$a" or "a" (Fluent Bit's record accessor form). */
struct otlp_path {
	char **seg; /* owned */
	size_t n;
};
/* 0, -SL_EINVAL (not a path) or -SL_ENOMEM. */
int otlp_path_parse(struct otlp_path *p, const char *s);
void otlp_path_destroy(struct otlp_path *p);
/* The value at `p` in object `root`, or NULL. */
yajl_val otlp_path_get(const struct otlp_path *p, yajl_val root);

struct otlp_map_cfg {
	struct otlp_path *body; /* logs_body_key, in order */
	size_t n_body;
	bool body_key_attributes;
	const char
	    *meta_key; /* logs_metadata_key: what in_opentelemetry adds */
	struct otlp_path sev_text, sev_num, trace_id, span_id;
	struct otlp_path severity;    /* sluice: the log level field */
	struct otlp_path correlation; /* correlate's Target_Key */
	struct otlp_path traceparent;
};

/* A mapped record: the LogRecord and the resource / scope it came with. */
struct otlp_mapped {
	otlp_log *log;
	yajl_val resource, scope; /* borrowed from the record's tree; or NULL */
};

/*
 * Maps the record `rec` (a parsed JSON object) with time `ts_ns`, seen at
 * `now_ns`: body, attributes, severity, times, trace context (see the
 * .c). Strings are copied into the arena. 0 or -SL_ENOMEM.
 */
int otlp_map_record(struct otlp_arena *a, const struct otlp_map_cfg *cfg,
		    yajl_val rec, int64_t ts_ns, int64_t now_ns,
		    struct otlp_mapped *out);

/* The severity number of a level name ("info", "WARN", "err"), or 0. */
int otlp_severity_number(const char *text);

/*
 * One request for `n` mapped records: records next to each other with the
 * same resource and scope share one ResourceLogs / ScopeLogs; every
 * resource gets the `res_attrs` (add_label) first. NULL on ENOMEM.
 */
otlp_request *otlp_build_request(struct otlp_arena *a,
				 const struct otlp_mapped *m, size_t n,
				 otlp_kv *const *res_attrs, size_t n_res);

#endif
