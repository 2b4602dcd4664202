/* SPDX-License-Identifier: Apache-2.0 */
/*
 * otlp_model.c - the arena, AnyValue <-> JSON, and the hex helpers of the
 * OTLP plugins. OTLP/JSON requests are otlp_json.c.
 */
#include "otlp_model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_MIN (64 * 1024)

struct otlp_block {
	struct otlp_block *next;
	size_t used, cap;
	max_align_t data[];
};

void *otlp_alloc(struct otlp_arena *a, size_t size)
{
	struct otlp_block *b = a->head;
	size_t need = (size + 15) & ~(size_t)15;
	void *p;

	if (size > SIZE_MAX / 2)
		return NULL;
	if (!b || b->cap - b->used < need) {
		size_t cap = need > BLOCK_MIN ? need : BLOCK_MIN;

		b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->used = 0;
		b->cap = cap;
		b->next = a->head;
		a->head = b;
	}
	p = (char *)b->data + b->used;
	b->used += need;
	memset(p, 0, size);
	return p;
}

char *otlp_strndup(struct otlp_arena *a, const char *s, size_t len)
{
	char *p = otlp_alloc(a, len + 1);

	if (p && len)
		memcpy(p, s, len);
	return p;
}

void otlp_arena_free(struct otlp_arena *a)
{
	while (a->head) {
		struct otlp_block *b = a->head;

		a->head = b->next;
		free(b);
	}
}

otlp_any *otlp_any_new(struct otlp_arena *a)
{
	otlp_any *m = otlp_alloc(a, sizeof(*m));

	if (m)
		opentelemetry__proto__common__v1__any_value__init(m);
	return m;
}

otlp_kv *otlp_kv_new(struct otlp_arena *a, const char *key, otlp_any *v)
{
	otlp_kv *m = otlp_alloc(a, sizeof(*m));

	if (!m)
		return NULL;
	opentelemetry__proto__common__v1__key_value__init(m);
	m->key = (char *)key;
	m->value = v;
	return m;
}

otlp_log *otlp_log_new(struct otlp_arena *a)
{
	otlp_log *m = otlp_alloc(a, sizeof(*m));

	if (m)
		opentelemetry__proto__logs__v1__log_record__init(m);
	return m;
}

otlp_scope_logs *otlp_scope_logs_new(struct otlp_arena *a)
{
	otlp_scope_logs *m = otlp_alloc(a, sizeof(*m));

	if (m)
		opentelemetry__proto__logs__v1__scope_logs__init(m);
	return m;
}

otlp_resource_logs *otlp_resource_logs_new(struct otlp_arena *a)
{
	otlp_resource_logs *m = otlp_alloc(a, sizeof(*m));

	if (m)
		opentelemetry__proto__logs__v1__resource_logs__init(m);
	return m;
}

otlp_resource *otlp_resource_new(struct otlp_arena *a)
{
	otlp_resource *m = otlp_alloc(a, sizeof(*m));

	if (m)
		opentelemetry__proto__resource__v1__resource__init(m);
	return m;
}

otlp_scope *otlp_scope_new(struct otlp_arena *a)
{
	otlp_scope *m = otlp_alloc(a, sizeof(*m));

	if (m)
		opentelemetry__proto__common__v1__instrumentation_scope__init(
		    m);
	return m;
}

int otlp_push(struct otlp_arena *a, void ***v, size_t *n, void *item)
{
	/* capacity doubles at powers of two; the old array stays in the arena
	 */
	if ((*n & (*n - 1)) == 0 && (*n == 0 || *n >= 4)) {
		size_t cap = *n ? *n * 2 : 4;
		void **nv = otlp_alloc(a, cap * sizeof(*nv));

		if (!nv)
			return -SL_ENOMEM;
		if (*n)
			memcpy(nv, *v, *n * sizeof(*nv));
		*v = nv;
	}
	(*v)[(*n)++] = item;
	return 0;
}

int otlp_kvs_from_json(struct otlp_arena *a, const yajl_val obj, otlp_kv ***kv,
		       size_t *n)
{
	for (size_t i = 0; i < obj->u.object.len; i++) {
		const char *k = obj->u.object.keys[i];
		otlp_any *v = otlp_any_from_json(a, obj->u.object.values[i]);
		char *key = v ? otlp_strndup(a, k, strlen(k)) : NULL;
		otlp_kv *e = key ? otlp_kv_new(a, key, v) : NULL;

		if (!e || otlp_push(a, (void ***)kv, n, e) < 0)
			return -SL_ENOMEM;
	}
	return 0;
}

otlp_any *otlp_any_from_json(struct otlp_arena *a, const yajl_val v)
{
	otlp_any *any = otlp_any_new(a);

	if (!any)
		return NULL;
	switch (v ? v->type : yajl_t_null) {
	case yajl_t_string:
		any->value_case =
		    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
		any->string_value =
		    otlp_strndup(a, v->u.string, strlen(v->u.string));
		return any->string_value ? any : NULL;
	case yajl_t_number:
		if (v->u.number.flags & YAJL_NUMBER_INT_VALID) {
			any->value_case =
			    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
			any->int_value = v->u.number.i;
		} else {
			any->value_case =
			    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE;
			any->double_value = v->u.number.d;
		}
		return any;
	case yajl_t_true:
	case yajl_t_false:
		any->value_case =
		    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE;
		any->bool_value = v->type == yajl_t_true;
		return any;
	case yajl_t_object: {
		otlp_kvlist *l = otlp_alloc(a, sizeof(*l));

		if (!l)
			return NULL;
		opentelemetry__proto__common__v1__key_value_list__init(l);
		any->value_case =
		    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE;
		any->kvlist_value = l;
		if (otlp_kvs_from_json(a, v, &l->values, &l->n_values) < 0)
			return NULL;
		return any;
	}
	case yajl_t_array: {
		otlp_array *arr = otlp_alloc(a, sizeof(*arr));

		if (!arr)
			return NULL;
		opentelemetry__proto__common__v1__array_value__init(arr);
		any->value_case =
		    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE;
		any->array_value = arr;
		for (size_t i = 0; i < v->u.array.len; i++) {
			otlp_any *e =
			    otlp_any_from_json(a, v->u.array.values[i]);

			if (!e || otlp_push(a, (void ***)&arr->values,
					    &arr->n_values, e) < 0)
				return NULL;
		}
		return any;
	}
	case yajl_t_null:
	case yajl_t_any:
	default:
		return any; /* VALUE__NOT_SET: JSON null */
	}
}

static int gen_ok(yajl_gen_status s)
{
	return s == yajl_gen_status_ok ? 0 : -SL_ENOMEM;
}

static int gen_str(yajl_gen g, const char *s, size_t len)
{
	return gen_ok(yajl_gen_string(g, (const unsigned char *)s, len));
}

static int gen_base64(yajl_gen g, const uint8_t *p, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t olen = (n + 2) / 3 * 4, o = 0;
	char *out = malloc(olen + 1);
	int rc;

	if (!out)
		return -SL_ENOMEM;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t w = (uint32_t)p[i] << 16;

		if (i + 1 < n)
			w |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			w |= p[i + 2];
		out[o++] = tab[(w >> 18) & 63];
		out[o++] = tab[(w >> 12) & 63];
		out[o++] = i + 1 < n ? tab[(w >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? tab[w & 63] : '=';
	}
	rc = gen_str(g, out, o);
	free(out);
	return rc;
}

int otlp_kvs_to_json(yajl_gen g, otlp_kv *const *kv, size_t n)
{
	if (gen_ok(yajl_gen_map_open(g)) < 0)
		return -SL_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *k = kv[i]->key ? kv[i]->key : "";

		if (gen_str(g, k, strlen(k)) < 0 ||
		    otlp_any_to_json(g, kv[i]->value) < 0)
			return -SL_ENOMEM;
	}
	return gen_ok(yajl_gen_map_close(g));
}

int otlp_any_to_json(yajl_gen g, const otlp_any *v)
{
	switch (
	    v ? v->value_case
	      : OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE__NOT_SET) {
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE:
		return gen_str(g, v->string_value ? v->string_value : "",
			       v->string_value ? strlen(v->string_value) : 0);
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE:
		return gen_ok(yajl_gen_bool(g, v->bool_value));
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE:
		return gen_ok(yajl_gen_integer(g, (long long)v->int_value));
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE:
		if (!isfinite(v->double_value))
			return gen_ok(yajl_gen_null(g));
		return gen_ok(yajl_gen_double(g, v->double_value));
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BYTES_VALUE:
		return gen_base64(g, v->bytes_value.data, v->bytes_value.len);
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE:
		if (!v->kvlist_value)
			return otlp_kvs_to_json(g, NULL, 0);
		return otlp_kvs_to_json(g, v->kvlist_value->values,
					v->kvlist_value->n_values);
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE:
		if (gen_ok(yajl_gen_array_open(g)) < 0)
			return -SL_ENOMEM;
		for (size_t i = 0;
		     v->array_value && i < v->array_value->n_values; i++)
			if (otlp_any_to_json(g, v->array_value->values[i]) < 0)
				return -SL_ENOMEM;
		return gen_ok(yajl_gen_array_close(g));
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE__NOT_SET:
	default:
		return gen_ok(yajl_gen_null(g));
	}
}

void otlp_hex(char *out, const uint8_t *in, size_t len)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

int otlp_unhex(uint8_t *out, const char *in, size_t n)
{
	if (n % 2)
		return -SL_EPARSE;
	for (size_t i = 0; i < n; i += 2) {
		int hi = sl_hex_digit(in[i]), lo = sl_hex_digit(in[i + 1]);

		if (hi < 0 || lo < 0)
			return -SL_EPARSE;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}
