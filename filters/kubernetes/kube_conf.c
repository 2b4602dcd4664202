/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kube_conf.c - the kubernetes filter's options: every option Fluent Bit
 * 5.1's filter_kubernetes has, with its name and default. Those sluice
 * does not implement (journal mode, token commands, preload directories,
 * the AWS pod association, ...) have no default here and are refused with
 * an error naming them when given, never accepted and ignored.
 */
#include "kube.h"

#include <stdlib.h>
#include <string.h>

#define OFF(f) offsetof(struct kube_ctx, f)
#define SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount/"

const struct sl_cfg_option kube_config_map[] = {
    {.name = "buffer_size", .type = SL_CFG_SIZE, .def = "32K",
     .offset = OFF(buffer_size),
     .desc = "largest API answer read, 0: no limit"},
    {.name = "tls.debug", .type = SL_CFG_INT, .def = "0", .min = 0, .max = 4,
     .offset = OFF(tls_debug),
     .desc = "above 0: libcurl traces the API requests to stderr"},
    {.name = "tls.verify", .type = SL_CFG_BOOL, .def = "true",
     .offset = OFF(tls_verify),
     .desc = "verify the API server's certificate chain"},
    {.name = "tls.verify_hostname", .type = SL_CFG_BOOL, .def = "off",
     .offset = OFF(tls_verify_hostname),
     .desc = "also verify the certificate's host name"},
    {.name = "tls.vhost", .type = SL_CFG_STR, .offset = OFF(tls_vhost),
     .desc = "not supported (refused)"},
    {.name = "merge_log", .type = SL_CFG_BOOL, .def = "false",
     .offset = OFF(merge_log),
     .desc = "merge the JSON object in 'log' into the record"},
    {.name = "merge_parser", .type = SL_CFG_STR, .offset = OFF(merge_parser),
     .desc = "parser for 'log' instead of JSON (with merge_log)"},
    {.name = "merge_log_key", .type = SL_CFG_STR,
     .offset = OFF(merge_log_key),
     .desc = "put the merged fields under this key"},
    {.name = "merge_log_trim", .type = SL_CFG_BOOL, .def = "true",
     .offset = OFF(merge_log_trim),
     .desc = "trim trailing newlines of merged string values"},
    {.name = "keep_log", .type = SL_CFG_BOOL, .def = "true",
     .offset = OFF(keep_log),
     .desc = "keep 'log' after it was merged"},
    {.name = "kube_url", .type = SL_CFG_STR,
     .def = "https://kubernetes.default.svc:443", .offset = OFF(kube_url),
     .desc = "Kubernetes API server URL"},
    {.name = "kube_meta_preload_cache_dir", .type = SL_CFG_STR,
     .offset = OFF(preload_dir), .desc = "not supported (refused)"},
    {.name = "kube_ca_file", .type = SL_CFG_STR, .def = SA_DIR "ca.crt",
     .offset = OFF(ca_file), .desc = "CA file for the API server"},
    {.name = "kube_ca_path", .type = SL_CFG_STR, .offset = OFF(ca_path),
     .desc = "CA directory for the API server"},
    {.name = "kube_tag_prefix", .type = SL_CFG_STR,
     .def = "kube.var.log.containers.", .offset = OFF(tag_prefix),
     .desc = "tag prefix before POD_NAMESPACE_CONTAINER-ID.log"},
    {.name = "kube_namespace_file", .type = SL_CFG_STR,
     .offset = OFF(namespace_file),
     .desc = "not supported (refused: no local-logs input)"},
    {.name = "kube_token_file", .type = SL_CFG_STR, .def = SA_DIR "token",
     .offset = OFF(token_file),
     .desc = "bearer token file, read again when it changes"},
    {.name = "kube_token_command", .type = SL_CFG_STR,
     .offset = OFF(token_command), .desc = "not supported (refused)"},
    {.name = "labels", .type = SL_CFG_BOOL, .def = "true",
     .offset = OFF(labels), .desc = "add the pod's labels"},
    {.name = "annotations", .type = SL_CFG_BOOL, .def = "true",
     .offset = OFF(annotations), .desc = "add the pod's annotations"},
    {.name = "owner_references", .type = SL_CFG_BOOL, .def = "false",
     .offset = OFF(owner_references),
     .desc = "add the pod's ownerReferences"},
    {.name = "namespace_labels", .type = SL_CFG_BOOL, .def = "false",
     .offset = OFF(namespace_labels),
     .desc = "add the namespace's labels (kubernetes_namespace)"},
    {.name = "namespace_annotations", .type = SL_CFG_BOOL, .def = "false",
     .offset = OFF(namespace_annotations),
     .desc = "add the namespace's annotations (kubernetes_namespace)"},
    {.name = "namespace_metadata_only", .type = SL_CFG_BOOL, .def = "false",
     .offset = OFF(namespace_metadata_only),
     .desc = "only namespace metadata, no pod metadata"},
    {.name = "k8s-logging.parser", .type = SL_CFG_BOOL, .def = "false",
     .offset = OFF(k8s_logging_parser),
     .desc = "allow the fluentbit.io/parser annotation"},
    {.name = "k8s-logging.exclude", .type = SL_CFG_BOOL, .def = "false",
     .offset = OFF(k8s_logging_exclude),
     .desc = "allow the fluentbit.io/exclude annotation"},
    {.name = "use_journal", .type = SL_CFG_BOOL, .def = "false",
     .offset = OFF(use_journal), .desc = "journal mode: refused when on"},
    {.name = "regex_parser", .type = SL_CFG_STR, .offset = OFF(regex_parser),
     .desc = "not supported (refused)"},
    {.name = "dummy_meta", .type = SL_CFG_BOOL, .def = "false",
     .offset = OFF(dummy_meta),
     .desc = "add {\"dummy\": time} instead of asking the API"},
    {.name = "dns_retries", .type = SL_CFG_STR, .offset = OFF(dns_retries_s),
     .desc = "not supported (refused: requests are retried anyway)"},
    {.name = "dns_wait_time", .type = SL_CFG_STR,
     .offset = OFF(dns_wait_time_s),
     .desc = "not supported (refused: requests are retried anyway)"},
    {.name = "cache_use_docker_id", .type = SL_CFG_BOOL, .def = "false",
     .offset = OFF(cache_use_docker_id),
     .desc = "ask again when the container id changes"},
    {.name = "use_tag_for_meta", .type = SL_CFG_BOOL, .def = "false",
     .offset = OFF(use_tag_for_meta),
     .desc = "only the tag's metadata, never ask the API"},
    {.name = "use_kubelet", .type = SL_CFG_BOOL, .def = "false",
     .offset = OFF(use_kubelet),
     .desc = "ask the kubelet's /pods for the whole node"},
    {.name = "kubelet_host", .type = SL_CFG_STR, .def = "127.0.0.1",
     .offset = OFF(kubelet_host), .desc = "kubelet host"},
    {.name = "kubelet_port", .type = SL_CFG_INT, .def = "10250", .min = 1,
     .max = 65535, .offset = OFF(kubelet_port), .desc = "kubelet port"},
    {.name = "kube_token_ttl", .type = SL_CFG_TIME, .def = "10m",
     .offset = OFF(token_ttl),
     .desc = "read the token file again after this long"},
    {.name = "kube_meta_cache_ttl", .type = SL_CFG_TIME, .def = "0",
     .offset = OFF(meta_cache_ttl),
     .desc = "ask again for a pod after this long, 0: never"},
    {.name = "kube_meta_namespace_cache_ttl", .type = SL_CFG_TIME,
     .def = "15m", .offset = OFF(ns_cache_ttl),
     .desc = "ask again for a namespace after this long, 0: never"},
    {.name = "kube_meta_cache_size", .type = SL_CFG_INT, .def = "4096",
     .min = 1, .max = 1000000, .offset = OFF(cache_size),
     .desc = "sluice: most pods (and namespaces) kept"},
    {.name = "aws_use_pod_association", .type = SL_CFG_BOOL, .def = "false",
     .offset = OFF(aws_use_pod_association),
     .desc = "not supported (refused when on)"},
    {.name = "use_pod_association", .type = SL_CFG_BOOL, .def = "false",
     .offset = OFF(use_pod_association),
     .desc = "not supported (refused when on)"},
    {.name = "aws_pod_association_host", .type = SL_CFG_STR,
     .offset = OFF(aws_str[0]), .desc = "not supported (refused)"},
    {.name = "aws_pod_association_endpoint", .type = SL_CFG_STR,
     .offset = OFF(aws_str[1]), .desc = "not supported (refused)"},
    {.name = "aws_pod_association_port", .type = SL_CFG_STR,
     .offset = OFF(aws_str[2]), .desc = "not supported (refused)"},
    {.name = "aws_pod_service_map_ttl", .type = SL_CFG_STR,
     .offset = OFF(aws_str[3]), .desc = "not supported (refused)"},
    {.name = "aws_pod_service_map_refresh_interval", .type = SL_CFG_STR,
     .offset = OFF(aws_str[4]), .desc = "not supported (refused)"},
    {.name = "aws_pod_service_preload_cache_dir", .type = SL_CFG_STR,
     .offset = OFF(aws_str[5]), .desc = "not supported (refused)"},
    {.name = "aws_pod_association_host_server_ca_file", .type = SL_CFG_STR,
     .offset = OFF(aws_str[6]), .desc = "not supported (refused)"},
    {.name = "aws_pod_association_host_client_cert_file", .type = SL_CFG_STR,
     .offset = OFF(aws_str[7]), .desc = "not supported (refused)"},
    {.name = "aws_pod_association_host_client_key_file", .type = SL_CFG_STR,
     .offset = OFF(aws_str[8]), .desc = "not supported (refused)"},
    {.name = "aws_pod_association_host_tls_debug", .type = SL_CFG_STR,
     .offset = OFF(aws_str[9]), .desc = "not supported (refused)"},
    {.name = "aws_pod_association_host_tls_verify", .type = SL_CFG_STR,
     .offset = OFF(aws_str[10]), .desc = "not supported (refused)"},
    {.name = "set_platform", .type = SL_CFG_STR, .offset = OFF(aws_str[11]),
     .desc = "not supported (refused)"},
    SL_CFG_END,
};

/* Reports every refused option that was given. Returns how many. */
int kube_conf_refuse(struct kube_ctx *ctx, struct sl_plugin_instance *ins)
{
	int n = 0;

	for (size_t i = 0; kube_config_map[i].name; i++) {
		const struct sl_cfg_option *o = &kube_config_map[i];
		char *v;

		if (o->type != SL_CFG_STR || o->def ||
		    strncmp(o->desc, "not supported", 13) != 0)
			continue;
		memcpy(&v, (char *)ctx + o->offset, sizeof(v));
		if (v) {
			sl_plugin_error(ins, 0,
					"%s: not supported by sluice's "
					"kubernetes filter",
					o->name);
			n++;
		}
	}
	if (ctx->use_journal) {
		sl_plugin_error(ins, 0,
				"use_journal: journal mode is not supported by "
				"sluice's kubernetes filter");
		n++;
	}
	if (ctx->aws_use_pod_association || ctx->use_pod_association) {
		sl_plugin_error(ins, 0,
				"%s: the AWS pod association is not supported "
				"by sluice's kubernetes filter",
				ctx->aws_use_pod_association
				    ? "aws_use_pod_association"
				    : "use_pod_association");
		n++;
	}
	return n;
}
