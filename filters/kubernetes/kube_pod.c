/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kube_pod.c - reads the API server's (and the kubelet's) JSON answers into
 * what the filter keeps of a pod or a namespace: uid, labels, annotations,
 * owner references, node, pod IP, container statuses and the fluentbit.io/
 * annotations. Labels and friends are kept as compact JSON text so that a
 * record gets them by one copy. Runs on the API thread; nothing here
 * touches the cache or a record. The input is untrusted (fuzzed).
 */
#include "kube.h"

#include <stdlib.h>
#include <string.h>
#include "kube_json.h"

static char *dup_string(yajl_val v)
{
	return YAJL_IS_STRING(v) ? strdup((v)->u.string) : NULL;
}

void kube_pod_destroy(struct kube_pod *p)
{
	if (!p)
		return;
	free(p->ns);
	free(p->name);
	free(p->uid);
	free(p->node);
	free(p->pod_ip);
	free(p->labels);
	free(p->annotations);
	free(p->owner_refs);
	for (size_t i = 0; i < p->n_containers; i++) {
		free(p->containers[i].name);
		free(p->containers[i].docker_id);
		free(p->containers[i].hash);
		free(p->containers[i].image);
	}
	free(p->containers);
	for (size_t i = 0; i < p->n_props; i++) {
		free(p->props[i].key);
		free(p->props[i].value);
	}
	free(p->props);
	free(p);
}

void kube_namespace_destroy(struct kube_namespace *n)
{
	if (!n)
		return;
	free(n->name);
	free(n->labels);
	free(n->annotations);
	free(n);
}

char *kube_extract_hash(const char *v, size_t len)
{
	const char *colon = memchr(v, ':', len), *p;

	if (len <= 1 || !colon)
		return NULL;
	p = colon;
	while (p + 1 < v + len && p[1] == '/')
		p++;
	if (p == colon)
		return strndup(v, len);
	if (p + 1 >= v + len)
		return NULL;
	return strndup(p + 1, (size_t)(v + len - p - 1));
}

static int add_statuses(struct kube_pod *p, yajl_val arr)
{
	struct kube_container *c;

	if (!YAJL_IS_ARRAY(arr) || arr->u.array.len == 0)
		return 0;
	c = realloc(p->containers,
		    (p->n_containers + arr->u.array.len) * sizeof(*c));
	if (!c)
		return -SL_ENOMEM;
	p->containers = c;
	for (size_t i = 0; i < arr->u.array.len; i++) {
		yajl_val s = arr->u.array.values[i], id, img;
		struct kube_container *k = &p->containers[p->n_containers];

		if (!YAJL_IS_STRING(kube_json_member(s, "name")))
			continue;
		memset(k, 0, sizeof(*k));
		p->n_containers++;
		k->name = dup_string(kube_json_member(s, "name"));
		id = kube_json_member(s, "containerID");
		img = kube_json_member(s, "imageID");
		if (YAJL_IS_STRING(id))
			k->docker_id = kube_extract_hash(
			    (id)->u.string, strlen((id)->u.string));
		if (YAJL_IS_STRING(img))
			k->hash = kube_extract_hash((img)->u.string,
						    strlen((img)->u.string));
		k->image = dup_string(kube_json_member(s, "image"));
		if (!k->name)
			return -SL_ENOMEM;
	}
	return 0;
}

static int add_props(struct kube_pod *p, yajl_val ann)
{
	static const char prefix[] = "fluentbit.io/";
	const size_t plen = sizeof(prefix) - 1;

	if (!YAJL_IS_OBJECT(ann))
		return 0;
	for (size_t i = 0; i < ann->u.object.len; i++) {
		const char *k = ann->u.object.keys[i];
		yajl_val v = ann->u.object.values[i];
		struct kube_annotation *a;

		if (strncmp(k, prefix, plen) != 0 || !k[plen] ||
		    !YAJL_IS_STRING(v))
			continue;
		a = realloc(p->props, (p->n_props + 1) * sizeof(*a));
		if (!a)
			return -SL_ENOMEM;
		p->props = a;
		a[p->n_props].key = strdup(k + plen);
		a[p->n_props].value = strdup((v)->u.string);
		p->n_props++;
		if (!a[p->n_props - 1].key || !a[p->n_props - 1].value)
			return -SL_ENOMEM;
	}
	return 0;
}

/* A pod object (root of GET .../pods/NAME or an item of a list). */
static struct kube_pod *pod_from(yajl_val root, const char **err)
{
	yajl_val meta = kube_json_member(root, "metadata"),
		 spec = kube_json_member(root, "spec"),
		 status = kube_json_member(root, "status");
	struct kube_pod *p;

	if (!YAJL_IS_OBJECT(meta) ||
	    !YAJL_IS_STRING(kube_json_member(meta, "name")) ||
	    !YAJL_IS_STRING(kube_json_member(meta, "namespace"))) {
		*err = "no metadata.name and metadata.namespace";
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		goto oom;
	p->ns = dup_string(kube_json_member(meta, "namespace"));
	p->name = dup_string(kube_json_member(meta, "name"));
	p->uid = dup_string(kube_json_member(meta, "uid"));
	p->labels = kube_json_text(kube_json_member(meta, "labels"));
	p->annotations = kube_json_text(kube_json_member(meta, "annotations"));
	p->owner_refs =
	    kube_json_text(kube_json_member(meta, "ownerReferences"));
	p->node = dup_string(kube_json_member(spec, "nodeName"));
	p->pod_ip = dup_string(kube_json_member(status, "podIP"));
	if (!p->ns || !p->name ||
	    add_statuses(p, kube_json_member(status, "containerStatuses")) <
		0 ||
	    add_statuses(p, kube_json_member(status, "initContainerStatuses")) <
		0 ||
	    add_props(p, kube_json_member(meta, "annotations")) < 0)
		goto oom;
	return p;
oom:
	kube_pod_destroy(p);
	*err = "out of memory";
	return NULL;
}

struct kube_pod *kube_pod_parse(const char *json, size_t len, const char **err)
{
	yajl_val root = kube_json_parse(json, len, err);
	struct kube_pod *p;

	if (!root)
		return NULL;
	p = pod_from(root, err);
	yajl_tree_free(root);
	return p;
}

int kube_pod_list_parse(const char *json, size_t len, struct kube_pod ***out,
			size_t *n, char **rv, const char **err)
{
	yajl_val root = kube_json_parse(json, len, err), items, r;
	struct kube_pod **v;
	size_t k = 0;

	*out = NULL;
	*n = 0;
	if (rv)
		*rv = NULL;
	if (!root)
		return -SL_EPARSE;
	r = kube_json_member(kube_json_member(root, "metadata"),
			     "resourceVersion");
	if (rv && YAJL_IS_STRING(r))
		*rv = strdup(r->u.string);
	items = kube_json_member(root, "items");
	if (!YAJL_IS_ARRAY(items)) {
		yajl_tree_free(root);
		*err = "no items array";
		return -SL_EPARSE;
	}
	v = calloc(items->u.array.len + 1, sizeof(*v));
	if (!v) {
		yajl_tree_free(root);
		*err = "out of memory";
		return -SL_ENOMEM;
	}
	for (size_t i = 0; i < items->u.array.len; i++) {
		const char *e = NULL;
		struct kube_pod *p = pod_from(items->u.array.values[i], &e);

		if (p)
			v[k++] = p; /* an item without a name is skipped */
	}
	yajl_tree_free(root);
	*out = v;
	*n = k;
	return 0;
}

struct kube_namespace *kube_namespace_parse(const char *json, size_t len,
					    const char **err)
{
	yajl_val root = kube_json_parse(json, len, err), meta;
	struct kube_namespace *n;

	if (!root)
		return NULL;
	meta = kube_json_member(root, "metadata");
	if (!YAJL_IS_STRING(kube_json_member(meta, "name"))) {
		yajl_tree_free(root);
		*err = "no metadata.name";
		return NULL;
	}
	n = calloc(1, sizeof(*n));
	if (n) {
		n->name = dup_string(kube_json_member(meta, "name"));
		n->labels = kube_json_text(kube_json_member(meta, "labels"));
		n->annotations =
		    kube_json_text(kube_json_member(meta, "annotations"));
	}
	yajl_tree_free(root);
	if (!n || !n->name) {
		kube_namespace_destroy(n);
		*err = "out of memory";
		return NULL;
	}
	return n;
}

int kube_watch_event_parse(const char *json, size_t len, const char **type,
			   struct kube_pod **pod, char **rv, int *code)
{
	static const char *const types[] = {"ADDED", "MODIFIED", "DELETED",
					    "BOOKMARK", "ERROR"};
	const char *err = NULL;
	yajl_val root = kube_json_parse(json, len, &err), t, obj, r, c;

	*type = NULL;
	*pod = NULL;
	*rv = NULL;
	*code = 0;
	if (!root)
		return -SL_EPARSE;
	t = kube_json_member(root, "type");
	obj = kube_json_member(root, "object");
	for (size_t i = 0; YAJL_IS_STRING(t) && i < 5; i++)
		if (strcmp(t->u.string, types[i]) == 0)
			*type = types[i];
	if (!*type || !YAJL_IS_OBJECT(obj)) {
		yajl_tree_free(root);
		return -SL_EPARSE;
	}
	c = kube_json_member(obj, "code");
	if (YAJL_IS_INTEGER(c))
		*code = (int)YAJL_GET_INTEGER(c);
	r = kube_json_member(kube_json_member(obj, "metadata"),
			     "resourceVersion");
	if (YAJL_IS_STRING(r))
		*rv = strdup(r->u.string);
	if (*type == types[0] || *type == types[1])
		*pod = pod_from(obj, &err); /* NULL when it has no name */
	yajl_tree_free(root);
	return 0;
}
