/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kube_record.c - what a record gets: the "kubernetes" object in Fluent
 * Bit's field order (pod_name, namespace_name, pod_id, labels, annotations,
 * ownerReferences, host, pod_ip, container_name, docker_id, container_hash,
 * container_image), the "kubernetes_namespace" object, and the
 * fluentbit.io/parser and fluentbit.io/exclude annotations read for one
 * container and stream. Pure functions over the cached pod.
 */
#include "kube.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool is_true(const char *v)
{
	return strcasecmp(v, "true") == 0 || strcasecmp(v, "on") == 0 ||
	       strcasecmp(v, "yes") == 0;
}

void kube_props_for(const struct kube_pod *pod, const char *container,
		    size_t container_len, enum kube_stream stream,
		    bool allow_parser, bool allow_exclude,
		    struct kube_props *out)
{
	/* [0] stdout, [1] stderr; exclude -1 while undefined */
	const char *parser[2] = {NULL, NULL};
	int exclude[2] = {-1, -1};

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; pod && i < pod->n_props; i++) {
		const char *k = pod->props[i].key, *v = pod->props[i].value;
		bool is_parser, specific = false;
		int which = -1; /* -1: both streams */

		if (strncmp(k, "parser", 6) == 0) {
			is_parser = true;
			k += 6;
		} else if (strncmp(k, "exclude", 7) == 0) {
			is_parser = false;
			k += 7;
		} else {
			continue; /* unknown annotation: Fluent Bit warns */
		}
		if (*k == '_') {
			if (strncmp(k + 1, "stdout", 6) == 0)
				which = 0;
			else if (strncmp(k + 1, "stderr", 6) == 0)
				which = 1;
			else
				continue;
			k += 7;
		}
		if (*k == '-') {
			k++;
			if (!*k)
				continue;
			if (strlen(k) != container_len ||
			    strncmp(k, container, container_len) != 0)
				continue; /* another container's */
			specific = true;
		} else if (*k) {
			continue;
		}
		if ((is_parser && !allow_parser) ||
		    (!is_parser && !allow_exclude))
			continue; /* not allowed by K8S-Logging.* */
		for (int s = 0; s < 2; s++) {
			if (which >= 0 && which != s)
				continue;
			if (is_parser && (specific || !parser[s]))
				parser[s] = v;
			if (!is_parser && (specific || exclude[s] < 0))
				exclude[s] = is_true(v);
		}
	}
	switch (stream) {
	case KUBE_STREAM_STDOUT:
	case KUBE_STREAM_STDERR: {
		int s = stream == KUBE_STREAM_STDOUT ? 0 : 1;

		out->parser = parser[s];
		out->exclude = exclude[s] == 1;
		break;
	}
	default:
		out->exclude = exclude[0] == 1 && exclude[1] == 1;
		if (parser[0] && parser[1] && strcmp(parser[0], parser[1]) == 0)
			out->parser = parser[0];
		break;
	}
}

static int add_str(struct sl_buf *b, bool *first, const char *key,
		   const char *v, size_t len)
{
	int rc = 0;

	if (!*first)
		rc |= sl_buf_append(b, ",", 1);
	*first = false;
	rc |= sl_json_append_string(b, key, strlen(key));
	rc |= sl_buf_append(b, ":", 1);
	rc |= sl_json_append_string(b, v, len);
	return rc ? -SL_ENOMEM : 0;
}

static int add_raw(struct sl_buf *b, bool *first, const char *key,
		   const char *json)
{
	int rc = 0;

	if (!*first)
		rc |= sl_buf_append(b, ",", 1);
	*first = false;
	rc |= sl_json_append_string(b, key, strlen(key));
	rc |= sl_buf_append(b, ":", 1);
	rc |= sl_buf_append(b, json, strlen(json));
	return rc ? -SL_ENOMEM : 0;
}

static const struct kube_container *find_container(const struct kube_pod *p,
						   const char *name, size_t len)
{
	for (size_t i = 0; p && i < p->n_containers; i++)
		if (strlen(p->containers[i].name) == len &&
		    strncmp(p->containers[i].name, name, len) == 0)
			return &p->containers[i];
	return NULL;
}

int kube_record_object(struct sl_buf *b, const struct kube_tag_meta *t,
		       const struct kube_pod *pod,
		       const struct kube_shape *shape)
{
	const struct kube_container *c =
	    find_container(pod, t->container, t->container_len);
	bool first = true;
	int rc = sl_buf_append(b, "{", 1);

	rc |= add_str(b, &first, "pod_name", t->pod, t->pod_len);
	rc |= add_str(b, &first, "namespace_name", t->ns, t->ns_len);
	if (pod && pod->uid)
		rc |= add_str(b, &first, "pod_id", pod->uid, strlen(pod->uid));
	if (pod && pod->labels && shape->labels)
		rc |= add_raw(b, &first, "labels", pod->labels);
	if (pod && pod->annotations && shape->annotations)
		rc |= add_raw(b, &first, "annotations", pod->annotations);
	if (pod && pod->owner_refs && shape->owner_references)
		rc |= add_raw(b, &first, "ownerReferences", pod->owner_refs);
	if (pod && pod->node)
		rc |= add_str(b, &first, "host", pod->node, strlen(pod->node));
	if (pod && pod->pod_ip)
		rc |= add_str(b, &first, "pod_ip", pod->pod_ip,
			      strlen(pod->pod_ip));
	rc |= add_str(b, &first, "container_name", t->container,
		      t->container_len);
	/* the tag's id first: it names the file this record came from */
	if (t->docker_id_len)
		rc |= add_str(b, &first, "docker_id", t->docker_id,
			      t->docker_id_len);
	else if (c && c->docker_id)
		rc |= add_str(b, &first, "docker_id", c->docker_id,
			      strlen(c->docker_id));
	if (c && c->hash)
		rc |= add_str(b, &first, "container_hash", c->hash,
			      strlen(c->hash));
	if (c && c->image)
		rc |= add_str(b, &first, "container_image", c->image,
			      strlen(c->image));
	rc |= sl_buf_append(b, "}", 1);
	return rc ? -SL_ENOMEM : 0;
}

int kube_record_ns_object(struct sl_buf *b, const char *ns, size_t ns_len,
			  const struct kube_namespace *nsm, bool labels,
			  bool annotations)
{
	bool first = true;
	int rc = sl_buf_append(b, "{", 1);

	rc |= add_str(b, &first, "name", ns, ns_len);
	if (nsm && nsm->labels && labels)
		rc |= add_raw(b, &first, "labels", nsm->labels);
	if (nsm && nsm->annotations && annotations)
		rc |= add_raw(b, &first, "annotations", nsm->annotations);
	rc |= sl_buf_append(b, "}", 1);
	return rc ? -SL_ENOMEM : 0;
}
