/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kube_json.c - the few yajl tree helpers the kubernetes filter shares:
 * parse an answer, find a member, print a value back as compact JSON.
 */
#include "kube_json.h"

#include <stdlib.h>
#include <string.h>

/* A JSON text larger than this is refused even with Buffer_Size 0. */
#define KUBE_MAX_ANSWER (256u * 1024 * 1024)

yajl_val kube_json_member(yajl_val obj, const char *key)
{
	if (!YAJL_IS_OBJECT(obj))
		return NULL;
	for (size_t i = 0; i < obj->u.object.len; i++)
		if (strcmp(obj->u.object.keys[i], key) == 0)
			return obj->u.object.values[i];
	return NULL;
}

yajl_val kube_json_parse(const char *json, size_t len, const char **err)
{
	char *text, ebuf[1];
	yajl_val root;

	if (len > KUBE_MAX_ANSWER) {
		*err = "answer too large";
		return NULL;
	}
	text = malloc(len + 1);
	if (!text) {
		*err = "out of memory";
		return NULL;
	}
	memcpy(text, json, len);
	text[len] = '\0';
	root = yajl_tree_parse(text, ebuf, sizeof(ebuf));
	free(text);
	if (!root)
		*err = "not JSON";
	else if (!YAJL_IS_OBJECT(root)) {
		yajl_tree_free(root);
		root = NULL;
		*err = "not a JSON object";
	}
	return root;
}

int kube_json_gen(yajl_gen g, yajl_val v, int depth)
{
	if (depth > 64)
		return -1;
	switch (v ? v->type : yajl_t_null) {
	case yajl_t_string:
		return yajl_gen_string(g, (const unsigned char *)v->u.string,
				       strlen(v->u.string)) ==
			       yajl_gen_status_ok
			   ? 0
			   : -1;
	case yajl_t_number:
		return yajl_gen_number(g, v->u.number.r,
				       strlen(v->u.number.r)) ==
			       yajl_gen_status_ok
			   ? 0
			   : -1;
	case yajl_t_object:
		if (yajl_gen_map_open(g) != yajl_gen_status_ok)
			return -1;
		for (size_t i = 0; i < v->u.object.len; i++) {
			const char *k = v->u.object.keys[i];

			if (yajl_gen_string(g, (const unsigned char *)k,
					    strlen(k)) != yajl_gen_status_ok ||
			    kube_json_gen(g, v->u.object.values[i], depth + 1) <
				0)
				return -1;
		}
		return yajl_gen_map_close(g) == yajl_gen_status_ok ? 0 : -1;
	case yajl_t_array:
		if (yajl_gen_array_open(g) != yajl_gen_status_ok)
			return -1;
		for (size_t i = 0; i < v->u.array.len; i++)
			if (kube_json_gen(g, v->u.array.values[i], depth + 1) <
			    0)
				return -1;
		return yajl_gen_array_close(g) == yajl_gen_status_ok ? 0 : -1;
	case yajl_t_true:
		return yajl_gen_bool(g, 1) == yajl_gen_status_ok ? 0 : -1;
	case yajl_t_false:
		return yajl_gen_bool(g, 0) == yajl_gen_status_ok ? 0 : -1;
	default:
		return yajl_gen_null(g) == yajl_gen_status_ok ? 0 : -1;
	}
}

/* v as compact JSON text (malloc'd), or NULL when v is absent. */
char *kube_json_text(yajl_val v)
{
	yajl_gen g;
	const unsigned char *buf;
	size_t len;
	char *out = NULL;

	if (!v)
		return NULL;
	g = yajl_gen_alloc(NULL);
	if (!g)
		return NULL;
	yajl_gen_config(g, yajl_gen_validate_utf8, 1);
	if (kube_json_gen(g, v, 0) == 0 &&
	    yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok) {
		out = malloc(len + 1);
		if (out) {
			memcpy(out, buf, len);
			out[len] = '\0';
		}
	}
	yajl_gen_free(g);
	return out;
}
