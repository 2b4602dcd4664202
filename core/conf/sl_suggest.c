/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_suggest.c - closest-name suggestions and Fluent Bit's plugin names
 * (sl_suggest.h). The lists are the plugin names registered by the
 * folders of Fluent Bit 5.1's plugins/ directory (in_*, filter_*, out_*,
 * processor_*, custom_*): data only, to word an error message.
 */
#include "sl_suggest.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

/*
 * Optimal string alignment distance: Levenshtein plus the swap of two
 * adjacent letters as one edit ("Nmae" is one typo away from "Name").
 * Three rows of the classic table: i-2, i-1 and i.
 */
size_t sl_suggest_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t rows[3][SL_SUGGEST_MAX_LEN + 1];

	if (la > SL_SUGGEST_MAX_LEN || lb > SL_SUGGEST_MAX_LEN)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		rows[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t *cur = rows[i % 3], *prev = rows[(i - 1) % 3];
		size_t *prev2 = rows[(i + 1) % 3]; /* i-2 */
		int ca = tolower((unsigned char)a[i - 1]);

		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			int cb = tolower((unsigned char)b[j - 1]);
			size_t best = prev[j - 1] + (ca == cb ? 0 : 1);

			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			if (i > 1 && j > 1 && ca != cb &&
			    ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb &&
			    prev2[j - 2] + 1 < best)
				best = prev2[j - 2] + 1;
			cur[j] = best;
		}
	}
	return rows[la % 3][lb];
}

static size_t allowed(const char *word)
{
	size_t n = strlen(word);

	return n <= 4 ? 1 : n <= 8 ? 2 : 3;
}

void sl_suggest_start(struct sl_suggest *s, const char *word)
{
	s->word = word;
	s->best = NULL;
	s->dist = SIZE_MAX;
}

void sl_suggest_offer(struct sl_suggest *s, const char *cand)
{
	size_t d;

	if (!cand || !*cand || strcasecmp(cand, s->word) == 0)
		return;
	d = sl_suggest_distance(s->word, cand);
	if (d <= allowed(s->word) && d < strlen(cand) && d < s->dist) {
		s->best = cand;
		s->dist = d;
	}
}

const char *sl_suggest_best(const char *word, const char *const *cands)
{
	struct sl_suggest s;

	sl_suggest_start(&s, word);
	for (size_t i = 0; cands && cands[i]; i++)
		sl_suggest_offer(&s, cands[i]);
	return s.best;
}

static const char *const fb_inputs[] = {
    "blob",
    "calyptia_fleet",
    "collectd",
    "cpu",
    "disk",
    "docker",
    "docker_events",
    "dummy",
    "ebpf",
    "elasticsearch",
    "emitter",
    "event_tracing_windows",
    "event_test",
    "event_type",
    "exec",
    "exec_wasi",
    "fluentbit_logs",
    "fluentbit_metrics",
    "forward",
    "gpu_metrics",
    "head",
    "health",
    "http",
    "kafka",
    "kmsg",
    "kubernetes_events",
    "lib",
    "mem",
    "mqtt",
    "netif",
    "nginx_metrics",
    "node_exporter_metrics",
    "opentelemetry",
    "podman_metrics",
    "process_exporter_metrics",
    "proc",
    "prometheus_remote_write",
    "prometheus_scrape",
    "prometheus_textfile",
    "random",
    "serial",
    "splunk",
    "statsd",
    "stdin",
    "storage_backlog",
    "stream_processor",
    "syslog",
    "systemd",
    "tail",
    "tcp",
    "thermal",
    "udp",
    "unix_socket",
    "windows_exporter_metrics",
    "winevtlog",
    "winlog",
    "winstat",
    NULL,
};

static const char *const fb_filters[] = {
    "alter_size",
    "aws",
    "checklist",
    "ecs",
    "expect",
    "geoip2",
    "grep",
    "kubernetes",
    "log_to_metrics",
    "lua",
    "modify",
    "multiline",
    "nest",
    "nightfall",
    "parser",
    "record_modifier",
    "rewrite_tag",
    "stdout",
    "sysinfo",
    "tensorflow",
    "throttle",
    "throttle_size",
    "type_converter",
    "wasm",
    NULL,
};

static const char *const fb_outputs[] = {
    "azure",
    "azure_blob",
    "azure_kusto",
    "azure_logs_ingestion",
    "bigquery",
    "calyptia",
    "chronicle",
    "cloudwatch_logs",
    "counter",
    "datadog",
    "es",
    "exit",
    "file",
    "flowcounter",
    "forward",
    "gcs",
    "gelf",
    "http",
    "influxdb",
    "kafka",
    "kafka-rest",
    "kinesis_firehose",
    "kinesis_streams",
    "lib",
    "logdna",
    "loki",
    "nats",
    "nrlogs",
    "null",
    "opensearch",
    "opentelemetry",
    "oracle_log_analytics",
    "pgsql",
    "plot",
    "prometheus_exporter",
    "prometheus_remote_write",
    "retry",
    "s3",
    "skywalking",
    "slack",
    "splunk",
    "stackdriver",
    "stdout",
    "syslog",
    "tcp",
    "td",
    "udp",
    "vivo_exporter",
    "websocket",
    NULL,
};

static const char *const fb_processors[] = {
    "content_modifier",
    "cumulative_to_delta",
    "labels",
    "metrics_selector",
    "opentelemetry_envelope",
    "sampling",
    "sql",
    "tda",
    "template",
    NULL,
};

static const char *const fb_customs[] = {
    "calyptia",
    NULL,
};

static const char *const *list_of(enum sl_plugin_kind kind)
{
	switch (kind) {
	case SL_KIND_INPUT:
		return fb_inputs;
	case SL_KIND_FILTER:
		return fb_filters;
	case SL_KIND_OUTPUT:
		return fb_outputs;
	case SL_KIND_PROCESSOR:
		return fb_processors;
	case SL_KIND_CUSTOM:
		return fb_customs;
	}
	return NULL;
}

bool sl_suggest_fluentbit_plugin(enum sl_plugin_kind kind, const char *name)
{
	const char *const *l = list_of(kind);

	for (size_t i = 0; name && l && l[i]; i++)
		if (strcasecmp(l[i], name) == 0)
			return true;
	return false;
}

const char *sl_suggest_kind_name(enum sl_plugin_kind kind)
{
	static const char *const names[] = {"input", "filter", "output",
					    "processor", "custom"};

	return (unsigned)kind < sizeof(names) / sizeof(names[0]) ? names[kind]
								 : "plugin";
}
