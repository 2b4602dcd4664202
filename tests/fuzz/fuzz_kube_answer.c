/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_kube_answer.c - arbitrary bytes as an answer of the Kubernetes API
 * (a pod, a pod list, a namespace) and as a tag: the parsers must stay in
 * the buffer (an exact-size copy, so ASan sees an overread), and whatever
 * they accept must splice into a "kubernetes" object that is valid JSON.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../filters/kubernetes/kube_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_object(const struct kube_pod *p)
{
	static const char rest[] = "p_ns_c-"
				   "0123456789abcdef0123456789abcdef"
				   "0123456789abcdef0123456789abcdef.log";
	struct kube_shape all = {true, true, true};
	struct kube_tag_meta t;
	struct sl_buf b = {0};
	const char *err = NULL;
	yajl_val v;

	if (kube_tag_parse(rest, sizeof(rest) - 1, &t) < 0 ||
	    kube_record_object(&b, &t, p, &all) < 0) {
		sl_buf_destroy(&b);
		return;
	}
	v = kube_json_parse(b.data, b.len, &err);
	if (!v && strcmp(err, "out of memory") != 0)
		abort(); /* a spliced value broke the JSON */
	yajl_tree_free(v);
	sl_buf_destroy(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size ? size : 1);
	const char *err = NULL;
	struct kube_pod *p, **list;
	struct kube_namespace *ns;
	struct kube_tag_meta t;
	size_t n;
	const char *type;
	char *rv;
	int code;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	p = kube_pod_parse(copy, size, &err);
	if (p) {
		if (!p->ns || !p->name)
			abort();
		check_object(p);
		kube_pod_destroy(p);
	}
	if (kube_pod_list_parse(copy, size, &list, &n, &rv, &err) == 0) {
		for (size_t i = 0; i < n; i++) {
			check_object(list[i]);
			kube_pod_destroy(list[i]);
		}
		free(list);
		free(rv);
	}
	if (kube_watch_event_parse(copy, size, &type, &p, &rv, &code) == 0) {
		if (!type || (p && (!p->ns || !p->name)))
			abort();
		kube_pod_destroy(p);
		free(rv);
	}
	ns = kube_namespace_parse(copy, size, &err);
	kube_namespace_destroy(ns);
	if (kube_tag_parse(copy, size, &t) == 0 &&
	    (t.pod < copy || t.docker_id + t.docker_id_len > copy + size ||
	     t.pod_len == 0 || t.ns_len == 0 || t.container_len == 0))
		abort();
	free(copy);
	return 0;
}
