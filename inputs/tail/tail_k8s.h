/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tail_k8s.h - Kube_Meta_From_Path (sluice extension): the kubelet names
 * container logs /var/log/containers/<pod>_<namespace>_<container>-<id>.log;
 * this turns such a name into the "kubernetes" object tail adds to each
 * record. No API server, no labels: only what the name says.
 */
#ifndef TAIL_K8S_H
#define TAIL_K8S_H

#include "sl_common.h"

/* Pieces of a name, borrowed from the path given to tail_k8s_parse. */
struct tail_k8s_meta {
	const char *pod, *ns, *container, *id;
	size_t pod_len, ns_len, container_len, id_len;
};

/*
 * Splits the last component of `path` (borrowed). Only the file name is
 * looked at, so a copy of the tree elsewhere works too. Returns 0, or
 * -SL_ENOENT when the name is not <pod>_<ns>_<container>-<64 hex>.log.
 */
int tail_k8s_parse(const char *path, struct tail_k8s_meta *out);

/*
 * The JSON object {"namespace_name":..,"pod_name":..,"container_name":..,
 * "docker_id":..} for `path`: 0 and *json (owned by the caller, free()),
 * -SL_ENOENT when the name does not match, or -SL_ENOMEM.
 */
int tail_k8s_json(const char *path, char **json, size_t *len);

#endif
