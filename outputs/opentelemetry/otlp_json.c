/* SPDX-License-Identifier: Apache-2.0 */
/*
 * otlp_json.c - OTLP/JSON (the specification's "JSON Protobuf Encoding"):
 * lowerCamelCase names, 64-bit integers as decimal strings, trace and span
 * ids as hex (not base64), enums as numbers, bytes values as base64.
 */
#include "otlp_model.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int key(yajl_gen g, const char *k)
{
	return yajl_gen_string(g, (const unsigned char *)k, strlen(k)) ==
		       yajl_gen_status_ok
		   ? 0
		   : -SL_ENOMEM;
}

static int str(yajl_gen g, const char *k, const char *v)
{
	if (key(g, k) < 0)
		return -SL_ENOMEM;
	return key(g, v ? v : "");
}

static int u64str(yajl_gen g, const char *k, uint64_t v)
{
	char tmp[24];

	snprintf(tmp, sizeof(tmp), "%" PRIu64, v);
	return str(g, k, tmp);
}

static int gen_any(yajl_gen g, const otlp_any *v);

static int gen_kvs(yajl_gen g, otlp_kv *const *kv, size_t n)
{
	if (yajl_gen_array_open(g) != yajl_gen_status_ok)
		return -SL_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (yajl_gen_map_open(g) != yajl_gen_status_ok)
			return -SL_ENOMEM;
		if (str(g, "key", kv[i]->key) < 0 || key(g, "value") < 0 ||
		    gen_any(g, kv[i]->value) < 0)
			return -SL_ENOMEM;
		if (yajl_gen_map_close(g) != yajl_gen_status_ok)
			return -SL_ENOMEM;
	}
	if (yajl_gen_array_close(g) != yajl_gen_status_ok)
		return -SL_ENOMEM;
	return 0;
}

static int gen_bytes_b64(yajl_gen g, const otlp_any *v)
{
	/* otlp_any_to_json writes bytes values as base64 text */
	return otlp_any_to_json(g, v);
}

static int gen_any(yajl_gen g, const otlp_any *v)
{
	if (yajl_gen_map_open(g) != yajl_gen_status_ok)
		return -SL_ENOMEM;
	switch (
	    v ? v->value_case
	      : OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE__NOT_SET) {
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE:
		if (str(g, "stringValue", v->string_value) < 0)
			return -SL_ENOMEM;
		break;
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE:
		if (key(g, "boolValue") < 0)
			return -SL_ENOMEM;
		if (yajl_gen_bool(g, v->bool_value) != yajl_gen_status_ok)
			return -SL_ENOMEM;
		break;
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE: {
		char tmp[24];

		snprintf(tmp, sizeof(tmp), "%" PRId64, v->int_value);
		if (str(g, "intValue", tmp) < 0)
			return -SL_ENOMEM;
		break;
	}
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE:
		if (key(g, "doubleValue") < 0 || otlp_any_to_json(g, v) < 0)
			return -SL_ENOMEM;
		break;
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BYTES_VALUE:
		if (key(g, "bytesValue") < 0 || gen_bytes_b64(g, v) < 0)
			return -SL_ENOMEM;
		break;
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE:
		if (key(g, "arrayValue") < 0)
			return -SL_ENOMEM;
		if (yajl_gen_map_open(g) != yajl_gen_status_ok)
			return -SL_ENOMEM;
		if (key(g, "values") < 0)
			return -SL_ENOMEM;
		if (yajl_gen_array_open(g) != yajl_gen_status_ok)
			return -SL_ENOMEM;
		for (size_t i = 0;
		     v->array_value && i < v->array_value->n_values; i++)
			if (gen_any(g, v->array_value->values[i]) < 0)
				return -SL_ENOMEM;
		if (yajl_gen_array_close(g) != yajl_gen_status_ok)
			return -SL_ENOMEM;
		if (yajl_gen_map_close(g) != yajl_gen_status_ok)
			return -SL_ENOMEM;
		break;
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE:
		if (key(g, "kvlistValue") < 0)
			return -SL_ENOMEM;
		if (yajl_gen_map_open(g) != yajl_gen_status_ok)
			return -SL_ENOMEM;
		if (key(g, "values") < 0 ||
		    gen_kvs(g, v->kvlist_value ? v->kvlist_value->values : NULL,
			    v->kvlist_value ? v->kvlist_value->n_values : 0) <
			0)
			return -SL_ENOMEM;
		if (yajl_gen_map_close(g) != yajl_gen_status_ok)
			return -SL_ENOMEM;
		break;
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE__NOT_SET:
	default:
		break;
	}
	if (yajl_gen_map_close(g) != yajl_gen_status_ok)
		return -SL_ENOMEM;
	return 0;
}

static int gen_id(yajl_gen g, const char *k, const ProtobufCBinaryData *id)
{
	char hex[2 * 16 + 1];

	if (id->len == 0 || id->len > 16)
		return 0;
	otlp_hex(hex, id->data, id->len);
	return str(g, k, hex);
}

static int gen_log(yajl_gen g, const otlp_log *l)
{
	if (yajl_gen_map_open(g) != yajl_gen_status_ok)
		return -SL_ENOMEM;
	if (l->time_unix_nano && u64str(g, "timeUnixNano", l->time_unix_nano))
		return -SL_ENOMEM;
	if (l->observed_time_unix_nano &&
	    u64str(g, "observedTimeUnixNano", l->observed_time_unix_nano))
		return -SL_ENOMEM;
	if (l->severity_number) {
		if (key(g, "severityNumber") < 0)
			return -SL_ENOMEM;
		if (yajl_gen_integer(g, l->severity_number) !=
		    yajl_gen_status_ok)
			return -SL_ENOMEM;
	}
	if (l->severity_text && *l->severity_text &&
	    str(g, "severityText", l->severity_text) < 0)
		return -SL_ENOMEM;
	if (l->body && (key(g, "body") < 0 || gen_any(g, l->body) < 0))
		return -SL_ENOMEM;
	if (l->n_attributes && (key(g, "attributes") < 0 ||
				gen_kvs(g, l->attributes, l->n_attributes) < 0))
		return -SL_ENOMEM;
	if (l->flags) {
		if (key(g, "flags") < 0)
			return -SL_ENOMEM;
		if (yajl_gen_integer(g, l->flags) != yajl_gen_status_ok)
			return -SL_ENOMEM;
	}
	if (gen_id(g, "traceId", &l->trace_id) < 0 ||
	    gen_id(g, "spanId", &l->span_id) < 0)
		return -SL_ENOMEM;
	if (l->event_name && *l->event_name &&
	    str(g, "eventName", l->event_name) < 0)
		return -SL_ENOMEM;
	if (yajl_gen_map_close(g) != yajl_gen_status_ok)
		return -SL_ENOMEM;
	return 0;
}

static int gen_scope_logs(yajl_gen g, const otlp_scope_logs *sl)
{
	if (yajl_gen_map_open(g) != yajl_gen_status_ok)
		return -SL_ENOMEM;
	if (sl->scope) {
		if (key(g, "scope") < 0)
			return -SL_ENOMEM;
		if (yajl_gen_map_open(g) != yajl_gen_status_ok)
			return -SL_ENOMEM;
		if ((sl->scope->name && *sl->scope->name &&
		     str(g, "name", sl->scope->name) < 0) ||
		    (sl->scope->version && *sl->scope->version &&
		     str(g, "version", sl->scope->version) < 0))
			return -SL_ENOMEM;
		if (sl->scope->n_attributes &&
		    (key(g, "attributes") < 0 ||
		     gen_kvs(g, sl->scope->attributes,
			     sl->scope->n_attributes) < 0))
			return -SL_ENOMEM;
		if (yajl_gen_map_close(g) != yajl_gen_status_ok)
			return -SL_ENOMEM;
	}
	if (key(g, "logRecords") < 0)
		return -SL_ENOMEM;
	if (yajl_gen_array_open(g) != yajl_gen_status_ok)
		return -SL_ENOMEM;
	for (size_t i = 0; i < sl->n_log_records; i++)
		if (gen_log(g, sl->log_records[i]) < 0)
			return -SL_ENOMEM;
	if (yajl_gen_array_close(g) != yajl_gen_status_ok)
		return -SL_ENOMEM;
	if (yajl_gen_map_close(g) != yajl_gen_status_ok)
		return -SL_ENOMEM;
	return 0;
}

static int gen_request(yajl_gen g, const otlp_request *req)
{
	if (yajl_gen_map_open(g) != yajl_gen_status_ok)
		return -SL_ENOMEM;
	if (key(g, "resourceLogs") < 0)
		return -SL_ENOMEM;
	if (yajl_gen_array_open(g) != yajl_gen_status_ok)
		return -SL_ENOMEM;
	for (size_t i = 0; i < req->n_resource_logs; i++) {
		const otlp_resource_logs *rl = req->resource_logs[i];

		if (yajl_gen_map_open(g) != yajl_gen_status_ok)
			return -SL_ENOMEM;
		if (rl->resource) {
			if (key(g, "resource") < 0)
				return -SL_ENOMEM;
			if (yajl_gen_map_open(g) != yajl_gen_status_ok)
				return -SL_ENOMEM;
			if (key(g, "attributes") < 0 ||
			    gen_kvs(g, rl->resource->attributes,
				    rl->resource->n_attributes) < 0)
				return -SL_ENOMEM;
			if (yajl_gen_map_close(g) != yajl_gen_status_ok)
				return -SL_ENOMEM;
		}
		if (key(g, "scopeLogs") < 0)
			return -SL_ENOMEM;
		if (yajl_gen_array_open(g) != yajl_gen_status_ok)
			return -SL_ENOMEM;
		for (size_t j = 0; j < rl->n_scope_logs; j++)
			if (gen_scope_logs(g, rl->scope_logs[j]) < 0)
				return -SL_ENOMEM;
		if (yajl_gen_array_close(g) != yajl_gen_status_ok)
			return -SL_ENOMEM;
		if (yajl_gen_map_close(g) != yajl_gen_status_ok)
			return -SL_ENOMEM;
	}
	if (yajl_gen_array_close(g) != yajl_gen_status_ok)
		return -SL_ENOMEM;
	if (yajl_gen_map_close(g) != yajl_gen_status_ok)
		return -SL_ENOMEM;
	return 0;
}

int otlp_request_to_json(const otlp_request *req, struct sl_buf *out)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *buf;
	size_t len;
	int rc;

	if (!g)
		return -SL_ENOMEM;
	rc = gen_request(g, req);
	if (rc == 0 && yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok)
		rc = sl_buf_append(out, buf, len);
	yajl_gen_free(g);
	return rc;
}

/* ---- reading ---- */

/* Member `camel` (or `snake`) of object `o`, or NULL. */
static yajl_val get(yajl_val o, const char *camel, const char *snake)
{
	if (!o || o->type != yajl_t_object)
		return NULL;
	for (size_t i = 0; i < o->u.object.len; i++) {
		const char *k = o->u.object.keys[i];

		if (strcmp(k, camel) == 0 || (snake && strcmp(k, snake) == 0))
			return o->u.object.values[i];
	}
	return NULL;
}

static yajl_val get_array(yajl_val o, const char *camel, const char *snake,
			  bool *bad)
{
	yajl_val v = get(o, camel, snake);

	if (v && v->type != yajl_t_array && v->type != yajl_t_null)
		*bad = true;
	return v && v->type == yajl_t_array ? v : NULL;
}

/* A 64-bit unsigned number written as a string or a JSON number. */
static int get_u64(yajl_val o, const char *camel, const char *snake,
		   uint64_t *out)
{
	yajl_val v = get(o, camel, snake);
	char *end;

	*out = 0;
	if (!v || v->type == yajl_t_null)
		return 0;
	if (v->type == yajl_t_number) {
		if (!(v->u.number.flags & YAJL_NUMBER_INT_VALID) ||
		    v->u.number.i < 0)
			return -SL_EPARSE;
		*out = (uint64_t)v->u.number.i;
		return 0;
	}
	if (v->type != yajl_t_string || !*v->u.string)
		return -SL_EPARSE;
	errno = 0;
	*out = strtoull(v->u.string, &end, 10);
	return errno || *end || v->u.string[0] == '-' ? -SL_EPARSE : 0;
}

static int get_str(struct otlp_arena *a, yajl_val o, const char *camel,
		   const char *snake, char **out)
{
	yajl_val v = get(o, camel, snake);

	if (!v || v->type == yajl_t_null)
		return 0;
	if (v->type != yajl_t_string)
		return -SL_EPARSE;
	*out = otlp_strndup(a, v->u.string, strlen(v->u.string));
	return *out ? 0 : -SL_ENOMEM;
}

static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

static int unbase64(struct otlp_arena *a, const char *s,
		    ProtobufCBinaryData *out)
{
	size_t n = strlen(s), o = 0;
	uint32_t acc = 0;
	int bits = 0;
	uint8_t *p = otlp_alloc(a, n * 3 / 4 + 3);

	if (!p)
		return -SL_ENOMEM;
	for (size_t i = 0; i < n && s[i] != '='; i++) {
		int v = b64val(s[i]);

		if (v < 0)
			return -SL_EPARSE;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			p[o++] = (uint8_t)(acc >> bits);
		}
	}
	out->data = p;
	out->len = o;
	return 0;
}

static otlp_any *read_any(struct otlp_arena *a, yajl_val v, int depth,
			  int *err);

static int read_kvs(struct otlp_arena *a, yajl_val arr, int depth,
		    otlp_kv ***kv, size_t *n)
{
	int err = 0;

	if (!arr)
		return 0;
	if (arr->type != yajl_t_array)
		return -SL_EPARSE;
	for (size_t i = 0; i < arr->u.array.len; i++) {
		yajl_val e = arr->u.array.values[i];
		char *k = NULL;
		otlp_any *v;
		otlp_kv *item;
		int rc;

		if (!e || e->type != yajl_t_object)
			return -SL_EPARSE;
		if ((rc = get_str(a, e, "key", NULL, &k)) < 0)
			return rc;
		v = read_any(a, get(e, "value", NULL), depth + 1, &err);
		if (!v)
			return err;
		item = otlp_kv_new(a, k ? k : otlp_strndup(a, "", 0), v);
		if (!item || !item->key || otlp_push(a, (void ***)kv, n, item))
			return -SL_ENOMEM;
	}
	return 0;
}

static otlp_any *read_any(struct otlp_arena *a, yajl_val v, int depth, int *err)
{
	otlp_any *any = otlp_any_new(a);
	yajl_val x;

	*err = -SL_ENOMEM;
	if (!any)
		return NULL;
	*err = -SL_EPARSE;
	/* as the protobuf check: records stay within 64 levels */
	if (depth > 32)
		return NULL;
	if (!v || v->type == yajl_t_null)
		return any;
	if (v->type != yajl_t_object)
		return NULL;
	if ((x = get(v, "stringValue", "string_value"))) {
		if (x->type != yajl_t_string)
			return NULL;
		any->value_case =
		    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
		any->string_value =
		    otlp_strndup(a, x->u.string, strlen(x->u.string));
		*err = -SL_ENOMEM;
		return any->string_value ? any : NULL;
	}
	if ((x = get(v, "boolValue", "bool_value"))) {
		if (x->type != yajl_t_true && x->type != yajl_t_false)
			return NULL;
		any->value_case =
		    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE;
		any->bool_value = x->type == yajl_t_true;
		return any;
	}
	if ((x = get(v, "intValue", "int_value"))) {
		char *end;

		any->value_case =
		    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
		if (x->type == yajl_t_number &&
		    (x->u.number.flags & YAJL_NUMBER_INT_VALID)) {
			any->int_value = x->u.number.i;
			return any;
		}
		if (x->type != yajl_t_string || !*x->u.string)
			return NULL;
		errno = 0;
		any->int_value = strtoll(x->u.string, &end, 10);
		return errno || *end ? NULL : any;
	}
	if ((x = get(v, "doubleValue", "double_value"))) {
		if (x->type != yajl_t_number)
			return NULL;
		any->value_case =
		    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE;
		any->double_value = x->u.number.d;
		return any;
	}
	if ((x = get(v, "bytesValue", "bytes_value"))) {
		if (x->type != yajl_t_string)
			return NULL;
		any->value_case =
		    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BYTES_VALUE;
		*err = unbase64(a, x->u.string, &any->bytes_value);
		return *err ? NULL : any;
	}
	if ((x = get(v, "arrayValue", "array_value"))) {
		otlp_array *arr = otlp_alloc(a, sizeof(*arr));
		bool bad = false;
		yajl_val vals = get_array(x, "values", NULL, &bad);

		*err = -SL_ENOMEM;
		if (!arr)
			return NULL;
		opentelemetry__proto__common__v1__array_value__init(arr);
		any->value_case =
		    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE;
		any->array_value = arr;
		*err = -SL_EPARSE;
		if (bad || x->type != yajl_t_object)
			return NULL;
		for (size_t i = 0; vals && i < vals->u.array.len; i++) {
			otlp_any *e = read_any(a, vals->u.array.values[i],
					       depth + 1, err);

			if (!e)
				return NULL;
			if (otlp_push(a, (void ***)&arr->values, &arr->n_values,
				      e) < 0) {
				*err = -SL_ENOMEM;
				return NULL;
			}
		}
		return any;
	}
	if ((x = get(v, "kvlistValue", "kvlist_value"))) {
		otlp_kvlist *l = otlp_alloc(a, sizeof(*l));
		bool bad = false;
		yajl_val vals = get_array(x, "values", NULL, &bad);

		*err = -SL_ENOMEM;
		if (!l)
			return NULL;
		opentelemetry__proto__common__v1__key_value_list__init(l);
		any->value_case =
		    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE;
		any->kvlist_value = l;
		*err = -SL_EPARSE;
		if (bad || x->type != yajl_t_object)
			return NULL;
		*err = read_kvs(a, vals, depth, &l->values, &l->n_values);
		return *err ? NULL : any;
	}
	return any; /* an empty or unknown value: not set */
}

static int read_id(struct otlp_arena *a, yajl_val o, const char *camel,
		   const char *snake, size_t size, ProtobufCBinaryData *out)
{
	yajl_val v = get(o, camel, snake);
	uint8_t *p;

	if (!v || v->type == yajl_t_null ||
	    (v->type == yajl_t_string && !*v->u.string))
		return 0;
	if (v->type != yajl_t_string || strlen(v->u.string) != 2 * size)
		return -SL_EPARSE;
	p = otlp_alloc(a, size);
	if (!p)
		return -SL_ENOMEM;
	if (otlp_unhex(p, v->u.string, 2 * size) < 0)
		return -SL_EPARSE;
	out->data = p;
	out->len = size;
	return 0;
}

static int read_log(struct otlp_arena *a, yajl_val o, otlp_log **out)
{
	otlp_log *l = otlp_log_new(a);
	yajl_val x;
	uint64_t u;
	int rc, err = 0;

	if (!l)
		return -SL_ENOMEM;
	if (!o || o->type != yajl_t_object)
		return -SL_EPARSE;
	if ((rc = get_u64(o, "timeUnixNano", "time_unix_nano",
			  &l->time_unix_nano)) < 0 ||
	    (rc = get_u64(o, "observedTimeUnixNano", "observed_time_unix_nano",
			  &l->observed_time_unix_nano)) < 0 ||
	    (rc = get_u64(o, "severityNumber", "severity_number", &u)) < 0)
		return rc;
	if (u > 24)
		u = 0; /* not a severity the data model defines */
	l->severity_number = (Opentelemetry__Proto__Logs__V1__SeverityNumber)u;
	if ((rc = get_u64(o, "flags", NULL, &u)) < 0)
		return rc;
	l->flags = (uint32_t)u;
	if ((rc = get_str(a, o, "severityText", "severity_text",
			  &l->severity_text)) < 0 ||
	    (rc = get_str(a, o, "eventName", "event_name", &l->event_name)) <
		0 ||
	    (rc = read_id(a, o, "traceId", "trace_id", 16, &l->trace_id)) < 0 ||
	    (rc = read_id(a, o, "spanId", "span_id", 8, &l->span_id)) < 0)
		return rc;
	if ((x = get(o, "body", NULL))) {
		l->body = read_any(a, x, 0, &err);
		if (!l->body)
			return err;
	}
	if ((rc = read_kvs(a, get(o, "attributes", NULL), 0, &l->attributes,
			   &l->n_attributes)) < 0)
		return rc;
	*out = l;
	return 0;
}

static int read_scope_logs(struct otlp_arena *a, yajl_val o,
			   otlp_scope_logs **out)
{
	otlp_scope_logs *sl = otlp_scope_logs_new(a);
	bool bad = false;
	yajl_val logs = get_array(o, "logRecords", "log_records", &bad), s;
	int rc;

	if (!sl)
		return -SL_ENOMEM;
	if (bad || !o || o->type != yajl_t_object)
		return -SL_EPARSE;
	if ((s = get(o, "scope", NULL)) && s->type == yajl_t_object) {
		sl->scope = otlp_scope_new(a);
		if (!sl->scope)
			return -SL_ENOMEM;
		if ((rc = get_str(a, s, "name", NULL, &sl->scope->name)) < 0 ||
		    (rc = get_str(a, s, "version", NULL, &sl->scope->version)) <
			0 ||
		    (rc = read_kvs(a, get(s, "attributes", NULL), 0,
				   &sl->scope->attributes,
				   &sl->scope->n_attributes)) < 0)
			return rc;
	}
	for (size_t i = 0; logs && i < logs->u.array.len; i++) {
		otlp_log *l = NULL;

		if ((rc = read_log(a, logs->u.array.values[i], &l)) < 0)
			return rc;
		if (otlp_push(a, (void ***)&sl->log_records, &sl->n_log_records,
			      l) < 0)
			return -SL_ENOMEM;
	}
	*out = sl;
	return 0;
}

static int read_request(struct otlp_arena *a, yajl_val root, otlp_request *req)
{
	bool bad = false;
	yajl_val rls = get_array(root, "resourceLogs", "resource_logs", &bad);
	int rc;

	if (bad || !root || root->type != yajl_t_object)
		return -SL_EPARSE;
	for (size_t i = 0; rls && i < rls->u.array.len; i++) {
		yajl_val o = rls->u.array.values[i], res, sls;
		otlp_resource_logs *rl = otlp_resource_logs_new(a);

		if (!rl)
			return -SL_ENOMEM;
		if (!o || o->type != yajl_t_object)
			return -SL_EPARSE;
		if ((res = get(o, "resource", NULL)) &&
		    res->type == yajl_t_object) {
			rl->resource = otlp_resource_new(a);
			if (!rl->resource)
				return -SL_ENOMEM;
			if ((rc = read_kvs(a, get(res, "attributes", NULL), 0,
					   &rl->resource->attributes,
					   &rl->resource->n_attributes)) < 0)
				return rc;
		}
		sls = get_array(o, "scopeLogs", "scope_logs", &bad);
		if (bad)
			return -SL_EPARSE;
		for (size_t j = 0; sls && j < sls->u.array.len; j++) {
			otlp_scope_logs *sl = NULL;

			if ((rc = read_scope_logs(a, sls->u.array.values[j],
						  &sl)) < 0)
				return rc;
			if (otlp_push(a, (void ***)&rl->scope_logs,
				      &rl->n_scope_logs, sl) < 0)
				return -SL_ENOMEM;
		}
		if (otlp_push(a, (void ***)&req->resource_logs,
			      &req->n_resource_logs, rl) < 0)
			return -SL_ENOMEM;
	}
	return 0;
}

/* Refuses nesting past 128 levels before yajl builds (and later frees,
 * recursively) a tree of it: a deep body must not exhaust the stack. */
static bool depth_ok(const char *s, size_t len)
{
	int depth = 0;
	bool in_str = false;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
		} else if (c == '"') {
			in_str = true;
		} else if (c == '{' || c == '[') {
			if (++depth > 128)
				return false;
		} else if (c == '}' || c == ']') {
			depth--;
		}
	}
	return true;
}

otlp_request *otlp_request_from_json(struct otlp_arena *a, const char *json,
				     int *err)
{
	otlp_request *req = otlp_alloc(a, sizeof(*req));
	yajl_val root;

	*err = -SL_ENOMEM;
	if (!req)
		return NULL;
	opentelemetry__proto__collector__logs__v1__export_logs_service_request__init(
	    req);
	root = depth_ok(json, strlen(json)) ? yajl_tree_parse(json, NULL, 0)
					    : NULL;
	if (!root) {
		*err = -SL_EPARSE;
		return NULL;
	}
	*err = read_request(a, root, req);
	yajl_tree_free(root);
	return *err ? NULL : req;
}

int64_t otlp_response_rejected_json(const char *json, size_t len,
				    struct sl_buf *msg)
{
	char *copy = malloc(len + 1);
	yajl_val root, ps, m;
	uint64_t n = 0;

	if (!copy)
		return 0;
	memcpy(copy, json, len);
	copy[len] = '\0';
	root = depth_ok(copy, len) ? yajl_tree_parse(copy, NULL, 0) : NULL;
	free(copy);
	ps = get(root, "partialSuccess", "partial_success");
	if (ps &&
	    get_u64(ps, "rejectedLogRecords", "rejected_log_records", &n) < 0)
		n = 0;
	m = get(ps, "errorMessage", "error_message");
	if (msg && m && m->type == yajl_t_string)
		(void)sl_buf_append(msg, m->u.string, strlen(m->u.string));
	yajl_tree_free(root);
	return n > INT64_MAX ? INT64_MAX : (int64_t)n;
}
