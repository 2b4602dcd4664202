/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tail_k8s.c - parses kubelet container log names. Pod and namespace names
 * are DNS names and cannot hold '_', so the first two '_' split the name;
 * the container name runs to the '-' before the 64-hex-digit container id.
 */
#include "tail_k8s.h"

#include "sluice_plugin.h"

#include <stdlib.h>
#include <string.h>

#define K8S_ID_LEN 64

static bool is_hex(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int tail_k8s_parse(const char *path, struct tail_k8s_meta *out)
{
	const char *name = strrchr(path, '/');
	const char *end, *u1, *u2, *dash;
	size_t len;

	name = name ? name + 1 : path;
	len = strlen(name);
	if (len < 4 || memcmp(name + len - 4, ".log", 4) != 0)
		return -SL_ENOENT;
	end = name + len - 4;
	if (end - name < K8S_ID_LEN + 1)
		return -SL_ENOENT;
	dash = end - K8S_ID_LEN - 1;
	if (*dash != '-' || !is_hex(dash + 1, K8S_ID_LEN))
		return -SL_ENOENT;
	u1 = memchr(name, '_', (size_t)(dash - name));
	if (!u1)
		return -SL_ENOENT;
	u2 = memchr(u1 + 1, '_', (size_t)(dash - u1 - 1));
	if (!u2 || u1 == name || u2 == u1 + 1 || dash == u2 + 1 ||
	    memchr(u2 + 1, '_', (size_t)(dash - u2 - 1)))
		return -SL_ENOENT;
	out->pod = name;
	out->pod_len = (size_t)(u1 - name);
	out->ns = u1 + 1;
	out->ns_len = (size_t)(u2 - u1 - 1);
	out->container = u2 + 1;
	out->container_len = (size_t)(dash - u2 - 1);
	out->id = dash + 1;
	out->id_len = K8S_ID_LEN;
	return 0;
}

static int field(struct sl_buf *b, const char *key, const char *v, size_t len)
{
	if (sl_buf_append(b, b->len > 1 ? ",\"" : "\"", b->len > 1 ? 2 : 1) <
		0 ||
	    sl_buf_append(b, key, strlen(key)) < 0 ||
	    sl_buf_append(b, "\":", 2) < 0)
		return -SL_ENOMEM;
	return sl_json_append_string(b, v, len);
}

int tail_k8s_json(const char *path, char **json, size_t *len)
{
	struct tail_k8s_meta m;
	struct sl_buf b = {0};

	if (tail_k8s_parse(path, &m) < 0)
		return -SL_ENOENT;
	if (sl_buf_append(&b, "{", 1) < 0 ||
	    field(&b, "namespace_name", m.ns, m.ns_len) < 0 ||
	    field(&b, "pod_name", m.pod, m.pod_len) < 0 ||
	    field(&b, "container_name", m.container, m.container_len) < 0 ||
	    field(&b, "docker_id", m.id, m.id_len) < 0 ||
	    sl_buf_append(&b, "}", 2) < 0) {
		sl_buf_destroy(&b);
		return -SL_ENOMEM;
	}
	*json = b.data;
	*len = b.len - 1; /* the NUL appended with '}' is not part of it */
	return 0;
}
