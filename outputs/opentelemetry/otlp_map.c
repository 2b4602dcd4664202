/* SPDX-License-Identifier: Apache-2.0 */
/*
 * otlp_map.c - a record as an OTLP LogRecord, with Fluent Bit's rules and
 * sluice's additions:
 * - body: the first logs_body_key found, else the whole record (less the
 *   logs_metadata_key object, which in_opentelemetry fills);
 * - attributes: the metadata's attributes, plus with logs_body_key_attributes
 *   the other root keys when a body key matched;
 * - severity: the metadata, then logs_severity_{number,text}_message_key,
 *   then (sluice) Severity_Key, the log level field; a number missing is
 *   derived from the text (sluice);
 * - trace_id / span_id: the metadata, then logs_{trace,span}_id_message_key
 *   (32 / 16 hex digits), then (sluice) the correlate filter's ID when it
 *   is a trace-id (32 hex, or a UUID) and a W3C traceparent (trace-id,
 *   parent-id, flags);
 * - time_unix_nano: the metadata's timestamp, else the record time;
 *   observed_time_unix_nano: the metadata's, else the flush time.
 */
#include "otlp_map.h"
#include "../../filters/correlate/correlate.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

void otlp_path_destroy(struct otlp_path *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->seg[i]);
	free(p->seg);
	p->seg = NULL;
	p->n = 0;
}

static int add_seg(struct otlp_path *p, const char *s, size_t len)
{
	char **v = realloc(p->seg, (p->n + 1) * sizeof(*v));

	if (!v)
		return -SL_ENOMEM;
	p->seg = v;
	v[p->n] = strndup(s, len);
	if (!v[p->n])
		return -SL_ENOMEM;
	p->n++;
	return 0;
}

int otlp_path_parse(struct otlp_path *p, const char *s)
{
	const char *q;
	size_t len;

	p->seg = NULL;
	p->n = 0;
	if (!s || !*s)
		return -SL_EINVAL;
	if (*s == '$')
		s++;
	len = strcspn(s, "[");
	if (len == 0 || add_seg(p, s, len) < 0)
		goto fail;
	for (s += len; *s;) {
		char quote;

		if (s[0] != '[' || (s[1] != '\'' && s[1] != '"'))
			goto fail;
		quote = s[1];
		q = strchr(s + 2, quote);
		if (!q || q[1] != ']' || q == s + 2 ||
		    add_seg(p, s + 2, (size_t)(q - s - 2)) < 0)
			goto fail;
		s = q + 2;
	}
	return 0;
fail:
	otlp_path_destroy(p);
	return -SL_EINVAL;
}

static yajl_val member(yajl_val o, const char *k)
{
	if (!o || o->type != yajl_t_object)
		return NULL;
	for (size_t i = 0; i < o->u.object.len; i++)
		if (strcmp(o->u.object.keys[i], k) == 0)
			return o->u.object.values[i];
	return NULL;
}

yajl_val otlp_path_get(const struct otlp_path *p, yajl_val root)
{
	yajl_val v = root;

	if (!p->n)
		return NULL;
	for (size_t i = 0; v && i < p->n; i++)
		v = member(v, p->seg[i]);
	return v;
}

int otlp_severity_number(const char *t)
{
	static const struct {
		const char *name;
		int num;
	} names[] = {
	    {"trace", 1},	{"debug", 5},	{"info", 9},
	    {"information", 9}, {"notice", 10}, {"warn", 13},
	    {"warning", 13},	{"error", 17},	{"err", 17},
	    {"critical", 21},	{"crit", 21},	{"fatal", 21},
	    {"alert", 22},	{"emerg", 23},	{"emergency", 23},
	    {"panic", 23},
	};

	for (size_t i = 0; t && i < SL_ARRAY_LEN(names); i++)
		if (strcasecmp(t, names[i].name) == 0)
			return names[i].num;
	return 0;
}

static const char *string_of(yajl_val v)
{
	return v && v->type == yajl_t_string ? v->u.string : NULL;
}

static bool int_of(yajl_val v, int64_t *out)
{
	if (!v || v->type != yajl_t_number ||
	    !(v->u.number.flags & YAJL_NUMBER_INT_VALID))
		return false;
	*out = v->u.number.i;
	return true;
}

/* `hex` of exactly 2 * size digits into a new arena id. */
static bool set_id(struct otlp_arena *a, ProtobufCBinaryData *id,
		   const char *hex, size_t size, int *rc)
{
	uint8_t *p;
	bool zero = true;

	if (!hex || strlen(hex) != 2 * size)
		return false;
	p = otlp_alloc(a, size);
	if (!p) {
		*rc = -SL_ENOMEM;
		return false;
	}
	if (otlp_unhex(p, hex, 2 * size) < 0)
		return false;
	for (size_t i = 0; i < size; i++)
		zero = zero && p[i] == 0;
	if (zero)
		return false; /* all-zero ids are invalid in W3C and OTLP */
	id->data = p;
	id->len = size;
	return true;
}

/* A correlation ID usable as a trace-id: 32 hex digits, or a UUID. */
static bool set_corr_id(struct otlp_arena *a, ProtobufCBinaryData *id,
			const char *s, int *rc)
{
	char hex[33];
	size_t n = 0;

	if (!s)
		return false;
	if (strlen(s) == 36 && s[8] == '-' && s[13] == '-' && s[18] == '-' &&
	    s[23] == '-') {
		for (size_t i = 0; i < 36; i++)
			if (s[i] != '-')
				hex[n++] = s[i];
		hex[n] = '\0';
		s = hex;
	}
	return set_id(a, id, s, 16, rc);
}

static char *dup_str(struct otlp_arena *a, const char *s, int *rc)
{
	char *p = otlp_strndup(a, s, strlen(s));

	if (!p)
		*rc = -SL_ENOMEM;
	return p;
}

static void map_severity(struct otlp_arena *a, const struct otlp_map_cfg *cfg,
			 yajl_val rec, yajl_val meta, otlp_log *l, int *rc)
{
	int64_t n = 0;
	const char *t;

	if ((int_of(member(meta, "severity_number"), &n) && n >= 1 &&
	     n <= 24) ||
	    (int_of(otlp_path_get(&cfg->sev_num, rec), &n) && n >= 1 &&
	     n <= 24))
		l->severity_number =
		    (Opentelemetry__Proto__Logs__V1__SeverityNumber)n;
	t = string_of(member(meta, "severity_text"));
	if (!t)
		t = string_of(otlp_path_get(&cfg->sev_text, rec));
	if (!t)
		t = string_of(otlp_path_get(&cfg->severity, rec));
	if (t && *t) {
		l->severity_text = dup_str(a, t, rc);
		if (!l->severity_number)
			l->severity_number =
			    (Opentelemetry__Proto__Logs__V1__SeverityNumber)
				otlp_severity_number(t);
	}
}

static void map_trace(struct otlp_arena *a, const struct otlp_map_cfg *cfg,
		      yajl_val rec, yajl_val meta, otlp_log *l, int *rc)
{
	const char *tp = string_of(otlp_path_get(&cfg->traceparent, rec));
	const char *tp_trace = NULL;
	int64_t flags;

	if (tp && sl_correlate_traceparent(tp, strlen(tp), &tp_trace) < 0)
		tp = NULL;
	if (!set_id(a, &l->trace_id, string_of(member(meta, "trace_id")), 16,
		    rc) &&
	    !set_id(a, &l->trace_id,
		    string_of(otlp_path_get(&cfg->trace_id, rec)), 16, rc) &&
	    !set_corr_id(a, &l->trace_id,
			 string_of(otlp_path_get(&cfg->correlation, rec)),
			 rc) &&
	    tp) {
		char hex[33];

		memcpy(hex, tp + 3, 32);
		hex[32] = '\0';
		(void)set_id(a, &l->trace_id, hex, 16, rc);
	}
	if (!set_id(a, &l->span_id, string_of(member(meta, "span_id")), 8,
		    rc) &&
	    !set_id(a, &l->span_id,
		    string_of(otlp_path_get(&cfg->span_id, rec)), 8, rc) &&
	    tp) {
		char hex[17];

		memcpy(hex, tp + 36, 16);
		hex[16] = '\0';
		(void)set_id(a, &l->span_id, hex, 8, rc);
	}
	if (int_of(member(meta, "trace_flags"), &flags) && flags >= 0)
		l->flags = (uint32_t)flags & 0xff;
	else if (tp)
		l->flags = (uint32_t)(sl_hex_digit(tp[53]) << 4 |
				      sl_hex_digit(tp[54]));
}

/* The root members of `rec` as KeyValues, less `skip1` and `skip2`. */
static int root_kvs(struct otlp_arena *a, yajl_val rec, const char *skip1,
		    const char *skip2, otlp_kv ***kv, size_t *n)
{
	for (size_t i = 0; i < rec->u.object.len; i++) {
		const char *k = rec->u.object.keys[i];
		otlp_any *v;
		char *key;
		otlp_kv *e;

		if ((skip1 && strcmp(k, skip1) == 0) ||
		    (skip2 && strcmp(k, skip2) == 0))
			continue;
		v = otlp_any_from_json(a, rec->u.object.values[i]);
		key = v ? otlp_strndup(a, k, strlen(k)) : NULL;
		e = key ? otlp_kv_new(a, key, v) : NULL;
		if (!e || otlp_push(a, (void ***)kv, n, e) < 0)
			return -SL_ENOMEM;
	}
	return 0;
}

int otlp_map_record(struct otlp_arena *a, const struct otlp_map_cfg *cfg,
		    yajl_val rec, int64_t ts_ns, int64_t now_ns,
		    struct otlp_mapped *out)
{
	otlp_log *l = otlp_log_new(a);
	yajl_val meta = NULL, attrs, v;
	const struct otlp_path *matched = NULL;
	const char *mkey =
	    cfg->meta_key && *cfg->meta_key ? cfg->meta_key : NULL;
	int64_t t;
	int rc = 0;

	if (!l)
		return -SL_ENOMEM;
	memset(out, 0, sizeof(*out));
	if (mkey && (meta = member(rec, mkey)) && meta->type != yajl_t_object)
		meta = NULL;
	if (!meta)
		mkey = NULL; /* a plain field of that name is data */
	for (size_t i = 0; i < cfg->n_body && !matched; i++) {
		if ((v = otlp_path_get(&cfg->body[i], rec))) {
			l->body = otlp_any_from_json(a, v);
			matched = &cfg->body[i];
		}
	}
	if (!matched) {
		l->body = otlp_any_new(a);
		if (l->body) {
			otlp_kvlist *kl = otlp_alloc(a, sizeof(*kl));

			if (!kl)
				return -SL_ENOMEM;
			opentelemetry__proto__common__v1__key_value_list__init(
			    kl);
			l->body->value_case =
			    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE;
			l->body->kvlist_value = kl;
			if (root_kvs(a, rec, mkey, NULL, &kl->values,
				     &kl->n_values) < 0)
				return -SL_ENOMEM;
		}
	}
	if (!l->body)
		return -SL_ENOMEM;
	if ((attrs = member(meta, "attributes")) &&
	    attrs->type == yajl_t_object &&
	    otlp_kvs_from_json(a, attrs, &l->attributes, &l->n_attributes) < 0)
		return -SL_ENOMEM;
	if (matched && cfg->body_key_attributes &&
	    root_kvs(a, rec, mkey, matched->n == 1 ? matched->seg[0] : NULL,
		     &l->attributes, &l->n_attributes) < 0)
		return -SL_ENOMEM;
	l->time_unix_nano = (uint64_t)(ts_ns > 0 ? ts_ns : 0);
	if (int_of(member(meta, "timestamp"), &t) && t > 0)
		l->time_unix_nano = (uint64_t)t;
	l->observed_time_unix_nano = (uint64_t)(now_ns > 0 ? now_ns : 0);
	if (int_of(member(meta, "observed_timestamp"), &t) && t > 0)
		l->observed_time_unix_nano = (uint64_t)t;
	map_severity(a, cfg, rec, meta, l, &rc);
	map_trace(a, cfg, rec, meta, l, &rc);
	if ((v = member(meta, "event_name")) && string_of(v))
		l->event_name = dup_str(a, v->u.string, &rc);
	if (rc < 0)
		return rc;
	out->log = l;
	out->resource = member(meta, "resource");
	out->scope = member(meta, "scope");
	return 0;
}

static bool same_json(yajl_val x, yajl_val y)
{
	if (!x || !y)
		return x == y;
	if (x->type != y->type)
		return false;
	switch (x->type) {
	case yajl_t_string:
		return strcmp(x->u.string, y->u.string) == 0;
	case yajl_t_number:
		return strcmp(x->u.number.r, y->u.number.r) == 0;
	case yajl_t_object:
		if (x->u.object.len != y->u.object.len)
			return false;
		for (size_t i = 0; i < x->u.object.len; i++)
			if (strcmp(x->u.object.keys[i], y->u.object.keys[i]) ||
			    !same_json(x->u.object.values[i],
				       y->u.object.values[i]))
				return false;
		return true;
	case yajl_t_array:
		if (x->u.array.len != y->u.array.len)
			return false;
		for (size_t i = 0; i < x->u.array.len; i++)
			if (!same_json(x->u.array.values[i],
				       y->u.array.values[i]))
				return false;
		return true;
	case yajl_t_true:
	case yajl_t_false:
	case yajl_t_null:
	case yajl_t_any:
	default:
		return true;
	}
}

static otlp_resource_logs *new_resource(struct otlp_arena *a, yajl_val res,
					otlp_kv *const *res_attrs, size_t n_res)
{
	otlp_resource_logs *rl = otlp_resource_logs_new(a);
	yajl_val attrs = member(res, "attributes");

	if (!rl || !(rl->resource = otlp_resource_new(a)))
		return NULL;
	for (size_t i = 0; i < n_res; i++)
		if (otlp_push(a, (void ***)&rl->resource->attributes,
			      &rl->resource->n_attributes, res_attrs[i]) < 0)
			return NULL;
	if (attrs && attrs->type == yajl_t_object &&
	    otlp_kvs_from_json(a, attrs, &rl->resource->attributes,
			       &rl->resource->n_attributes) < 0)
		return NULL;
	return rl;
}

static otlp_scope_logs *new_scope(struct otlp_arena *a, yajl_val sc)
{
	otlp_scope_logs *sl = otlp_scope_logs_new(a);
	yajl_val attrs = member(sc, "attributes");
	const char *name = string_of(member(sc, "name"));
	const char *version = string_of(member(sc, "version"));

	if (!sl)
		return NULL;
	if (!sc || sc->type != yajl_t_object)
		return sl;
	if (!(sl->scope = otlp_scope_new(a)))
		return NULL;
	if (name && !(sl->scope->name = otlp_strndup(a, name, strlen(name))))
		return NULL;
	if (version &&
	    !(sl->scope->version = otlp_strndup(a, version, strlen(version))))
		return NULL;
	if (attrs && attrs->type == yajl_t_object &&
	    otlp_kvs_from_json(a, attrs, &sl->scope->attributes,
			       &sl->scope->n_attributes) < 0)
		return NULL;
	return sl;
}

otlp_request *otlp_build_request(struct otlp_arena *a,
				 const struct otlp_mapped *m, size_t n,
				 otlp_kv *const *res_attrs, size_t n_res)
{
	otlp_request *req = otlp_alloc(a, sizeof(*req));
	otlp_resource_logs *rl = NULL;
	otlp_scope_logs *sl = NULL;

	if (!req)
		return NULL;
	opentelemetry__proto__collector__logs__v1__export_logs_service_request__init(
	    req);
	for (size_t i = 0; i < n; i++) {
		bool new_res =
		    !rl || !same_json(m[i].resource, m[i - 1].resource);

		if (new_res) {
			rl = new_resource(a, m[i].resource, res_attrs, n_res);
			if (!rl || otlp_push(a, (void ***)&req->resource_logs,
					     &req->n_resource_logs, rl) < 0)
				return NULL;
		}
		if (new_res || !same_json(m[i].scope, m[i - 1].scope)) {
			sl = new_scope(a, m[i].scope);
			if (!sl || otlp_push(a, (void ***)&rl->scope_logs,
					     &rl->n_scope_logs, sl) < 0)
				return NULL;
		}
		if (otlp_push(a, (void ***)&sl->log_records, &sl->n_log_records,
			      m[i].log) < 0)
			return NULL;
	}
	return req;
}
