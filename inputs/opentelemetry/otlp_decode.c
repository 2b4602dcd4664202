/* SPDX-License-Identifier: Apache-2.0 */
/*
 * otlp_decode.c - OTLP logs request bodies to records. protobuf-c unpacks
 * into the request's arena (its free is a no-op), so one arena free
 * releases either encoding's messages.
 */
#include "otlp_decode.h"

#include <string.h>

static void *arena_alloc(void *data, size_t size)
{
	return otlp_alloc(data, size);
}

static void arena_free(void *data, void *p)
{
	(void)data;
	(void)p; /* released with the arena */
}

/* The messages of an ExportLogsServiceRequest, for the depth check. */
enum msg {
	M_REQ,
	M_RL,
	M_RES,
	M_SL,
	M_SCOPE,
	M_LOG,
	M_KV,
	M_ANY,
	M_ARR,
	M_KVL,
	M_NONE
};

/* The message type of field `num` of a `t`, or M_NONE (not a message). */
static enum msg child(enum msg t, uint64_t num)
{
	switch (t) {
	case M_REQ:
		return num == 1 ? M_RL : M_NONE;
	case M_RL:
		return num == 1 ? M_RES : num == 2 ? M_SL : M_NONE;
	case M_RES:
		return num == 1 ? M_KV : M_NONE;
	case M_SL:
		return num == 1 ? M_SCOPE : num == 2 ? M_LOG : M_NONE;
	case M_SCOPE:
		return num == 3 ? M_KV : M_NONE;
	case M_LOG:
		return num == 5 ? M_ANY : num == 6 ? M_KV : M_NONE;
	case M_KV:
		return num == 2 ? M_ANY : M_NONE;
	case M_ANY:
		return num == 5 ? M_ARR : num == 6 ? M_KVL : M_NONE;
	case M_ARR:
		return num == 1 ? M_ANY : M_NONE;
	case M_KVL:
		return num == 1 ? M_KV : M_NONE;
	case M_NONE:
	default:
		return M_NONE;
	}
}

static bool varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; shift < 64 && *p < end; shift += 7) {
		uint8_t b = *(*p)++;

		*v |= (uint64_t)(b & 0x7f) << shift;
		if (b < 0x80)
			return true;
	}
	return false;
}

/*
 * Whether AnyValues nest at most OTLP_MAX_DEPTH deep. protobuf-c unpacks
 * recursively with no limit, so a body of nested arrays (2 bytes a level)
 * must be refused before it reaches it; the records made from what passes
 * stay within the record's 64 levels. Walks the schema's message fields
 * only; wire errors are left to protobuf-c.
 */
#define OTLP_MAX_DEPTH 32
static bool depth_ok(const uint8_t *p, const uint8_t *end, enum msg t,
		     int depth)
{
	if (t == M_ANY && ++depth > OTLP_MAX_DEPTH)
		return false;
	while (p < end) {
		uint64_t key, len;
		enum msg c;

		if (!varint(&p, end, &key))
			return true;
		switch (key & 7) {
		case 0:
			if (!varint(&p, end, &len))
				return true;
			continue;
		case 1:
		case 5: {
			size_t n = (key & 7) == 1 ? 8 : 4;

			if ((size_t)(end - p) < n)
				return true;
			p += n;
			continue;
		}
		case 2:
			if (!varint(&p, end, &len) || len > (uint64_t)(end - p))
				return true;
			c = child(t, key >> 3);
			if (c != M_NONE && !depth_ok(p, p + len, c, depth))
				return false;
			p += len;
			continue;
		default:
			return true;
		}
	}
	return true;
}

int otlp_decode_request(struct otlp_arena *a, const char *body, size_t len,
			bool json, otlp_request **out)
{
	ProtobufCAllocator alloc = {arena_alloc, arena_free, a};
	char *text;
	int err;

	*out = NULL;
	if (!json) {
		if (!depth_ok((const uint8_t *)body,
			      (const uint8_t *)body + len, M_REQ, 0))
			return -SL_EPARSE;
		*out =
		    opentelemetry__proto__collector__logs__v1__export_logs_service_request__unpack(
			&alloc, len, (const uint8_t *)body);
		/* protobuf-c does not tell ENOMEM from a bad message */
		return *out ? 0 : -SL_EPARSE;
	}
	if (memchr(body, '\0', len))
		return -SL_EPARSE; /* yajl's tree reads up to a NUL */
	text = otlp_strndup(a, body, len);
	if (!text)
		return -SL_ENOMEM;
	*out = otlp_request_from_json(a, text, &err);
	return *out ? 0 : err;
}

static int gen_key(yajl_gen g, const char *k)
{
	return yajl_gen_string(g, (const unsigned char *)k, strlen(k)) ==
		       yajl_gen_status_ok
		   ? 0
		   : -SL_ENOMEM;
}

static int gen_u64(yajl_gen g, const char *k, uint64_t v)
{
	if (gen_key(g, k) < 0)
		return -SL_ENOMEM;
	/* JSON integers above INT64_MAX do not occur before year 2262 */
	return yajl_gen_integer(g,
				(long long)(v > INT64_MAX ? INT64_MAX : v)) ==
		       yajl_gen_status_ok
		   ? 0
		   : -SL_ENOMEM;
}

static int gen_text(yajl_gen g, const char *k, const char *v)
{
	if (gen_key(g, k) < 0)
		return -SL_ENOMEM;
	return gen_key(g, v);
}

static int gen_id(yajl_gen g, const char *k, const ProtobufCBinaryData *id)
{
	char hex[2 * 64 + 1];

	if (id->len == 0 || id->len > 64)
		return 0;
	otlp_hex(hex, id->data, id->len);
	return gen_text(g, k, hex);
}

static int gen_scope(yajl_gen g, const otlp_scope *s)
{
	if (gen_key(g, "scope") < 0 ||
	    yajl_gen_map_open(g) != yajl_gen_status_ok)
		return -SL_ENOMEM;
	if (s->name && *s->name && gen_text(g, "name", s->name) < 0)
		return -SL_ENOMEM;
	if (s->version && *s->version && gen_text(g, "version", s->version) < 0)
		return -SL_ENOMEM;
	if (s->n_attributes &&
	    (gen_key(g, "attributes") < 0 ||
	     otlp_kvs_to_json(g, s->attributes, s->n_attributes) < 0))
		return -SL_ENOMEM;
	return yajl_gen_map_close(g) == yajl_gen_status_ok ? 0 : -SL_ENOMEM;
}

static int gen_meta(yajl_gen g, const otlp_log *l, const otlp_resource *res,
		    const otlp_scope *scope)
{
	if (yajl_gen_map_open(g) != yajl_gen_status_ok)
		return -SL_ENOMEM;
	if (l->observed_time_unix_nano &&
	    gen_u64(g, "observed_timestamp", l->observed_time_unix_nano) < 0)
		return -SL_ENOMEM;
	if (l->time_unix_nano && gen_u64(g, "timestamp", l->time_unix_nano) < 0)
		return -SL_ENOMEM;
	if (l->severity_number >= 1 && l->severity_number <= 24 &&
	    gen_u64(g, "severity_number", (uint64_t)l->severity_number) < 0)
		return -SL_ENOMEM;
	if (l->severity_text && *l->severity_text &&
	    gen_text(g, "severity_text", l->severity_text) < 0)
		return -SL_ENOMEM;
	if (l->n_attributes &&
	    (gen_key(g, "attributes") < 0 ||
	     otlp_kvs_to_json(g, l->attributes, l->n_attributes) < 0))
		return -SL_ENOMEM;
	if (l->dropped_attributes_count &&
	    gen_u64(g, "dropped_attributes_count",
		    l->dropped_attributes_count) < 0)
		return -SL_ENOMEM;
	if (gen_id(g, "trace_id", &l->trace_id) < 0 ||
	    gen_id(g, "span_id", &l->span_id) < 0 ||
	    gen_u64(g, "trace_flags", l->flags & 0xff) < 0)
		return -SL_ENOMEM;
	if (l->event_name && *l->event_name &&
	    gen_text(g, "event_name", l->event_name) < 0)
		return -SL_ENOMEM;
	if (res && res->n_attributes) {
		if (gen_key(g, "resource") < 0 ||
		    yajl_gen_map_open(g) != yajl_gen_status_ok ||
		    gen_key(g, "attributes") < 0 ||
		    otlp_kvs_to_json(g, res->attributes, res->n_attributes) <
			0 ||
		    yajl_gen_map_close(g) != yajl_gen_status_ok)
			return -SL_ENOMEM;
	}
	if (scope && gen_scope(g, scope) < 0)
		return -SL_ENOMEM;
	return yajl_gen_map_close(g) == yajl_gen_status_ok ? 0 : -SL_ENOMEM;
}

static int gen_record(yajl_gen g, const otlp_log *l, const otlp_resource *res,
		      const otlp_scope *scope, const char *meta_key,
		      const char *body_key)
{
	const otlp_any *b = l->body;

	if (yajl_gen_map_open(g) != yajl_gen_status_ok)
		return -SL_ENOMEM;
	if (b &&
	    b->value_case ==
		OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE &&
	    b->kvlist_value) {
		for (size_t i = 0; i < b->kvlist_value->n_values; i++) {
			const otlp_kv *kv = b->kvlist_value->values[i];

			if (gen_key(g, kv->key ? kv->key : "") < 0 ||
			    otlp_any_to_json(g, kv->value) < 0)
				return -SL_ENOMEM;
		}
	} else if (
	    b &&
	    b->value_case !=
		OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE__NOT_SET) {
		if (gen_key(g, body_key) < 0 || otlp_any_to_json(g, b) < 0)
			return -SL_ENOMEM;
	}
	if (gen_key(g, meta_key) < 0 || gen_meta(g, l, res, scope) < 0)
		return -SL_ENOMEM;
	return yajl_gen_map_close(g) == yajl_gen_status_ok ? 0 : -SL_ENOMEM;
}

long otlp_request_records(const otlp_request *req, const char *meta_key,
			  const char *body_key, int64_t now_ns,
			  otlp_record_fn fn, void *arg)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	long n = 0;
	int rc = 0;

	if (!g)
		return -SL_ENOMEM;
	for (size_t i = 0; rc == 0 && i < req->n_resource_logs; i++) {
		const otlp_resource_logs *rl = req->resource_logs[i];

		for (size_t j = 0; rc == 0 && rl && j < rl->n_scope_logs; j++) {
			const otlp_scope_logs *sl = rl->scope_logs[j];

			for (size_t k = 0;
			     rc == 0 && sl && k < sl->n_log_records; k++) {
				const otlp_log *l = sl->log_records[k];
				const unsigned char *buf;
				size_t len;
				int64_t ts = now_ns;

				if (!l)
					continue;
				if (l->time_unix_nano &&
				    l->time_unix_nano <= INT64_MAX)
					ts = (int64_t)l->time_unix_nano;
				else if (l->observed_time_unix_nano &&
					 l->observed_time_unix_nano <=
					     INT64_MAX)
					ts =
					    (int64_t)l->observed_time_unix_nano;
				yajl_gen_clear(g);
				yajl_gen_reset(g, NULL);
				rc = gen_record(g, l, rl->resource, sl->scope,
						meta_key, body_key);
				if (rc == 0 &&
				    yajl_gen_get_buf(g, &buf, &len) !=
					yajl_gen_status_ok)
					rc = -SL_ENOMEM;
				if (rc == 0)
					rc =
					    fn(arg, ts, (const char *)buf, len);
				if (rc == 0)
					n++;
			}
		}
	}
	yajl_gen_free(g);
	return rc ? rc : n;
}
