/* SPDX-License-Identifier: Apache-2.0 */
/* kube_json.h - yajl tree helpers of the kubernetes filter (kube_json.c). */
#ifndef SL_FILTER_KUBE_JSON_H
#define SL_FILTER_KUBE_JSON_H

#include "kube.h"

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

/* The member `key` of object obj, or NULL. */
yajl_val kube_json_member(yajl_val obj, const char *key);
/*
 * Parses json (len bytes, need not end in NUL) into a tree whose root is an
 * object (caller frees with yajl_tree_free), or NULL with *err set.
 */
yajl_val kube_json_parse(const char *json, size_t len, const char **err);
/* Writes v into g (nesting up to 64). 0 or -1. */
int kube_json_gen(yajl_gen g, yajl_val v, int depth);
/* v as compact JSON text (malloc'd), or NULL when absent or on ENOMEM. */
char *kube_json_text(yajl_val v);

#endif
