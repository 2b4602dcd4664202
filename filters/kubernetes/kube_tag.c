/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kube_tag.c - pod, namespace, container and container id from a tail tag,
 * with the semantics of Fluent Bit's KUBE_TAG_TO_REGEX written out as a
 * scan: the id is the 64 [a-z0-9] before ".log" at the end, the pod is a DNS
 * subdomain at the leftmost position where POD_NS_CONTAINER fits. A scan,
 * not PCRE, because the match is needed with its spans on every new tag and
 * the plugin ABI's regex answers only yes or no.
 */
#include "kube.h"

#include <string.h>

#define KUBE_ID_LEN 64

static bool lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* [a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)* */
static bool dns_subdomain(const char *s, size_t len)
{
	size_t i = 0;

	if (len == 0)
		return false;
	while (i < len) {
		size_t start = i;

		while (i < len && s[i] != '.') {
			if (!lower_alnum(s[i]) && s[i] != '-')
				return false;
			i++;
		}
		if (i == start || !lower_alnum(s[start]) ||
		    !lower_alnum(s[i - 1]))
			return false;
		if (i < len) { /* a dot: a label must follow */
			i++;
			if (i == len)
				return false;
		}
	}
	return true;
}

int kube_tag_parse(const char *rest, size_t len, struct kube_tag_meta *m)
{
	const char *id;
	size_t head;

	/* "-" ID ".log" at the end, and at least "p_n_c" before it */
	if (len < KUBE_ID_LEN + 5 + 5 || memcmp(rest + len - 4, ".log", 4) != 0)
		return -SL_ENOENT;
	id = rest + len - 4 - KUBE_ID_LEN;
	for (size_t i = 0; i < KUBE_ID_LEN; i++)
		if (!lower_alnum(id[i]))
			return -SL_ENOENT;
	if (id[-1] != '-')
		return -SL_ENOENT;
	head = (size_t)(id - 1 - rest); /* POD_NS_CONTAINER */
	for (size_t s = 0; s < head; s++) {
		const char *p = rest + s, *u1, *u2;
		size_t left = head - s;

		if (!lower_alnum(*p))
			continue;
		u1 = memchr(p, '_', left);
		if (!u1)
			break; /* no later start has an '_' either */
		if (!dns_subdomain(p, (size_t)(u1 - p)))
			continue;
		u2 = memchr(u1 + 1, '_', (size_t)(rest + head - u1 - 1));
		if (!u2 || u2 == u1 + 1 || u2 + 1 >= rest + head)
			continue;
		m->pod = p;
		m->pod_len = (size_t)(u1 - p);
		m->ns = u1 + 1;
		m->ns_len = (size_t)(u2 - u1 - 1);
		m->container = u2 + 1;
		m->container_len = (size_t)(rest + head - u2 - 1);
		m->docker_id = id;
		m->docker_id_len = KUBE_ID_LEN;
		return 0;
	}
	return -SL_ENOENT;
}
