/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_engine_conf.c - builds the pipeline from the config tree: [SERVICE]
 * options, Parsers_File and Plugins_File, then every input, filter and
 * output with its plugin's config map plus the options common to its kind.
 * All problems are reported to the diag list with file:line; nothing here
 * opens a port or a log file (that is start-up, sl_engine_start).
 */
#include "sl_cfgmap.h"
#include "sl_engine_int.h"
#include "sl_log.h"
#include "sl_registry.h"
#include "sl_retry.h"
#include "sl_suggest.h"

#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SVC(f) offsetof(struct sl_service, f)

/* Fluent Bit 5.1 [SERVICE] keys; those sluice has no use for are IGNORED. */
static const struct sl_cfg_option service_map[] = {
    {.name = "flush",
     .type = SL_CFG_DOUBLE,
     .def = "1",
     .min = 0.001,
     .max = 86400,
     .offset = SVC(flush),
     .desc = "seconds between flushes of open chunks to the outputs"},
    {.name = "grace",
     .type = SL_CFG_INT,
     .def = "5",
     .min = 0,
     .max = 3600,
     .offset = SVC(grace),
     .desc = "seconds to wait for outputs at shutdown"},
    {.name = "log_level",
     .type = SL_CFG_STR,
     .def = "info",
     .offset = SVC(log_level),
     .desc = "off, error, warn, info, debug or trace"},
    {.name = "log_file",
     .type = SL_CFG_STR,
     .offset = SVC(log_file),
     .desc = "write logs to this file instead of stderr"},
    {.name = "parsers_file",
     .type = SL_CFG_STR,
     .flags = SL_CFG_MULTI,
     .offset = SVC(parsers_files),
     .desc = "file with [PARSER] and [MULTILINE_PARSER] sections"},
    {.name = "plugins_file",
     .type = SL_CFG_STR,
     .flags = SL_CFG_MULTI,
     .offset = SVC(plugins_files),
     .desc = "file with [PLUGINS] Path entries (filter shared objects)"},
    {.name = "http_server",
     .type = SL_CFG_BOOL,
     .def = "off",
     .offset = SVC(http_server),
     .desc = "serve the HTTP API"},
    {.name = "http_listen",
     .type = SL_CFG_STR,
     .def = "0.0.0.0",
     .offset = SVC(http_listen),
     .desc = "HTTP API address"},
    {.name = "http_port",
     .type = SL_CFG_INT,
     .def = "2020",
     .min = 1,
     .max = 65535,
     .offset = SVC(http_port),
     .desc = "HTTP API port"},
    {.name = "health_check",
     .type = SL_CFG_BOOL,
     .def = "off",
     .offset = SVC(health_check),
     .desc = "enable /api/v1/health rules"},
    {.name = "hc_errors_count",
     .type = SL_CFG_INT,
     .def = "5",
     .min = 0,
     .max = 1e9,
     .offset = SVC(hc_errors_count),
     .desc = "output errors per period that make the health check fail"},
    {.name = "hc_retry_failure_count",
     .type = SL_CFG_INT,
     .def = "5",
     .min = 0,
     .max = 1e9,
     .offset = SVC(hc_retry_failure_count),
     .desc = "failed retries per period that make the health check fail"},
    {.name = "hc_period",
     .type = SL_CFG_INT,
     .def = "60",
     .min = 1,
     .max = 86400,
     .offset = SVC(hc_period),
     .desc = "health check period in seconds"},
    {.name = "hot_reload",
     .type = SL_CFG_BOOL,
     .def = "off",
     .offset = SVC(hot_reload),
     .desc = "reload the config on SIGHUP"},
    {.name = "storage.path",
     .type = SL_CFG_STR,
     .offset = SVC(storage_path),
     .desc = "folder for filesystem chunks"},
    {.name = "storage.sync",
     .type = SL_CFG_STR,
     .def = "normal",
     .offset = SVC(storage_sync),
     .desc = "normal or full"},
    {.name = "storage.checksum",
     .type = SL_CFG_BOOL,
     .def = "off",
     .offset = SVC(storage_checksum),
     .desc = "CRC32 on chunk files"},
    {.name = "storage.backlog.mem_limit",
     .type = SL_CFG_SIZE,
     .def = "100M",
     .min = 0,
     .max = 1e15,
     .offset = SVC(storage_backlog_mem_limit),
     .desc = "memory for chunks loaded back from storage"},
    {.name = "storage.max_chunks_up",
     .type = SL_CFG_INT,
     .def = "128",
     .min = 1,
     .max = 1e9,
     .offset = SVC(storage_max_chunks_up),
     .desc = "chunks kept in memory"},
    {.name = "scheduler.base",
     .type = SL_CFG_DOUBLE,
     .def = "1",
     .min = 0.001,
     .max = 86400,
     .offset = SVC(scheduler_base),
     .desc = "retry backoff base, seconds"},
    {.name = "scheduler.cap",
     .type = SL_CFG_DOUBLE,
     .def = "300",
     .min = 0.001,
     .max = 864000,
     .offset = SVC(scheduler_cap),
     .desc = "retry backoff cap, seconds"},
    {.name = "telemetry.metrics.logs.tag_records.enabled",
     .type = SL_CFG_BOOL,
     .def = "off",
     .offset = SVC(tag_records),
     .desc = "count each input's records by tag (YAML: a nested "
	     "telemetry block)"},
    {.name = "telemetry.metrics.logs.tag_records.max_series",
     .type = SL_CFG_INT,
     .def = "500",
     .min = -2147483648.0,
     .max = 2147483647.0,
     .offset = SVC(tag_records_max_series),
     .desc = "(input, tag) pairs counted at most (<= 0: no limit)"},
    {.name = "telemetry.metrics.logs.tag_records.max_tag_length",
     .type = SL_CFG_INT,
     .def = "128",
     .min = -2147483648.0,
     .max = 2147483647.0,
     .offset = SVC(tag_records_max_tag_length),
     .desc = "longer tags are counted as untracked (<= 0: no limit)"},
    {.name = "metrics.names",
     .type = SL_CFG_STR,
     .def = "sluice",
     .offset = SVC(metrics_names),
     .desc = "internal metric names: sluice, fluentbit (Fluent Bit's "
	     "fluentbit_* names and labels) or both"},
    {.name = "daemon", .type = SL_CFG_BOOL, .flags = SL_CFG_IGNORED},
    /* pre-1.0 name of HTTP_Server, still in Fluent Bit's shipped configs */
    {.name = "http_monitor", .type = SL_CFG_BOOL, .flags = SL_CFG_IGNORED},
    {.name = "streams_file", .type = SL_CFG_STR, .flags = SL_CFG_IGNORED},
    {.name = "sp.convert_from_str_to_num",
     .type = SL_CFG_BOOL,
     .flags = SL_CFG_IGNORED},
    {.name = "json.convert_nan_to_null",
     .type = SL_CFG_BOOL,
     .flags = SL_CFG_IGNORED},
    {.name = "json.escape_unicode",
     .type = SL_CFG_BOOL,
     .flags = SL_CFG_IGNORED},
    {.name = "enable_chunk_trace",
     .type = SL_CFG_BOOL,
     .flags = SL_CFG_IGNORED},
    {.name = "hot_reload.ensure_thread_safety",
     .type = SL_CFG_BOOL,
     .flags = SL_CFG_IGNORED},
    {.name = "hot_reload.timeout", .type = SL_CFG_STR, .flags = SL_CFG_IGNORED},
    {.name = "windows.maxstdio", .type = SL_CFG_STR, .flags = SL_CFG_IGNORED},
    {.name = "dns.mode", .type = SL_CFG_STR, .flags = SL_CFG_IGNORED},
    {.name = "dns.resolver", .type = SL_CFG_STR, .flags = SL_CFG_IGNORED},
    {.name = "dns.prefer_ipv4", .type = SL_CFG_BOOL, .flags = SL_CFG_IGNORED},
    {.name = "dns.prefer_ipv6", .type = SL_CFG_BOOL, .flags = SL_CFG_IGNORED},
    {.name = "net.http_proxy", .type = SL_CFG_STR, .flags = SL_CFG_IGNORED},
    {.name = "net.no_proxy", .type = SL_CFG_STR, .flags = SL_CFG_IGNORED},
    {.name = "storage.metrics", .type = SL_CFG_BOOL, .flags = SL_CFG_IGNORED},
    {.name = "storage.backlog.flush_on_shutdown",
     .type = SL_CFG_BOOL,
     .flags = SL_CFG_IGNORED},
    {.name = "storage.delete_irrecoverable_chunks",
     .type = SL_CFG_BOOL,
     .flags = SL_CFG_IGNORED},
    {.name = "storage.trim_files",
     .type = SL_CFG_BOOL,
     .flags = SL_CFG_IGNORED},
    {.name = "storage.type", .type = SL_CFG_STR, .flags = SL_CFG_IGNORED},
    {.name = "storage.inherit", .type = SL_CFG_BOOL, .flags = SL_CFG_IGNORED},
    {.name = "coro_stack_size", .type = SL_CFG_SIZE, .flags = SL_CFG_IGNORED},
    {.name = "multiline_buffer_limit",
     .type = SL_CFG_SIZE,
     .flags = SL_CFG_IGNORED},
    {.name = "flush.adaptive",
     .type = SL_CFG_STR,
     .flags = SL_CFG_IGNORED | SL_CFG_PREFIX},
    SL_CFG_END,
};

#define IN_COMMON(f) offsetof(struct sl_input_common, f)
static const struct sl_cfg_option input_common_map[] = {
    {.name = "tag",
     .type = SL_CFG_STR,
     .offset = IN_COMMON(tag),
     .desc = "tag of the records (default: <plugin>.<n>, as Fluent Bit)"},
    {.name = "alias",
     .type = SL_CFG_STR,
     .offset = IN_COMMON(alias),
     .desc = "name in metrics and logs"},
    {.name = "log_level",
     .type = SL_CFG_STR,
     .offset = IN_COMMON(log_level),
     .desc = "off, error, warn, info, debug or trace: checked; logging is "
	     "process-wide in sluice"},
    {.name = "mem_buf_limit",
     .type = SL_CFG_SIZE,
     .def = "32M",
     .min = 0,
     .max = 1e15,
     .offset = IN_COMMON(mem_buf_limit),
     .desc = "pause the input while its buffered records exceed this"},
    {.name = "storage.type",
     .type = SL_CFG_STR,
     .def = "memory",
     .offset = IN_COMMON(storage_type),
     .desc = "memory or filesystem"},
    {.name = "telemetry.metrics.logs.tag_records.enabled",
     .type = SL_CFG_BOOL,
     .offset = IN_COMMON(tag_records),
     .desc = "this input's records by tag: overrides [SERVICE]"},
    {.name = "storage.pause_on_chunks_overlimit",
     .type = SL_CFG_BOOL,
     .flags = SL_CFG_IGNORED},
    {.name = "threaded", .type = SL_CFG_BOOL, .flags = SL_CFG_IGNORED},
    /* Fluent Bit takes Host on every input (flb_input.c); its network
     * inputs listen on Listen, as sluice's do */
    {.name = "host", .type = SL_CFG_STR, .flags = SL_CFG_IGNORED},
    {.name = "routable", .type = SL_CFG_BOOL, .flags = SL_CFG_IGNORED},
    {.name = "log_suppress_interval",
     .type = SL_CFG_STR,
     .flags = SL_CFG_IGNORED},
    {.name = "thread.ring_buffer.capacity",
     .type = SL_CFG_STR,
     .flags = SL_CFG_IGNORED},
    {.name = "rate_gate",
     .type = SL_CFG_STR,
     .flags = SL_CFG_IGNORED | SL_CFG_PREFIX},
    {.name = "rate_window", .type = SL_CFG_STR, .flags = SL_CFG_IGNORED},
    {.name = "thread.ring_buffer.window",
     .type = SL_CFG_STR,
     .flags = SL_CFG_IGNORED},
    SL_CFG_END,
};

#define FL_COMMON(f) offsetof(struct sl_filter_common, f)
static const struct sl_cfg_option filter_common_map[] = {
    {.name = "match",
     .type = SL_CFG_STR,
     .offset = FL_COMMON(match),
     .desc = "tag pattern (* wildcard) of the records to filter"},
    {.name = "match_regex",
     .type = SL_CFG_STR,
     .offset = FL_COMMON(match_regex),
     .desc = "tag regular expression"},
    {.name = "alias",
     .type = SL_CFG_STR,
     .offset = FL_COMMON(alias),
     .desc = "name in metrics and logs"},
    {.name = "log_level",
     .type = SL_CFG_STR,
     .offset = FL_COMMON(log_level),
     .desc = "off, error, warn, info, debug or trace: checked; logging is "
	     "process-wide in sluice"},
    {.name = "log_suppress_interval",
     .type = SL_CFG_STR,
     .flags = SL_CFG_IGNORED},
    SL_CFG_END,
};

#define OUT_COMMON(f) offsetof(struct sl_output_common, f)
static const struct sl_cfg_option output_common_map[] = {
    {.name = "match",
     .type = SL_CFG_STR,
     .offset = OUT_COMMON(match),
     .desc = "tag pattern (* wildcard) of the records to send"},
    {.name = "match_regex",
     .type = SL_CFG_STR,
     .offset = OUT_COMMON(match_regex),
     .desc = "tag regular expression"},
    {.name = "alias",
     .type = SL_CFG_STR,
     .offset = OUT_COMMON(alias),
     .desc = "name in metrics and logs"},
    {.name = "log_level",
     .type = SL_CFG_STR,
     .offset = OUT_COMMON(log_level),
     .desc = "off, error, warn, info, debug or trace: checked; logging is "
	     "process-wide in sluice"},
    {.name = "retry_limit",
     .type = SL_CFG_STR,
     .def = "no_limits",
     .offset = OUT_COMMON(retry_limit),
     .desc = "no_limits/false (forever), no_retries, or a count"},
    {.name = "workers",
     .type = SL_CFG_INT,
     .def = "1",
     .min = 1,
     .max = 64,
     .offset = OUT_COMMON(workers),
     .desc = "worker threads"},
    {.name = "storage.total_limit_size",
     .type = SL_CFG_SIZE,
     .min = 0,
     .max = 1e15,
     .offset = OUT_COMMON(storage_total_limit_size),
     .desc = "filesystem chunks kept for this output at most"},
    {.name = "tls",
     .type = SL_CFG_BOOL,
     .def = "off",
     .offset = OUT_COMMON(tls),
     .desc = "use TLS"},
    {.name = "tls.verify",
     .type = SL_CFG_BOOL,
     .def = "on",
     .offset = OUT_COMMON(tls_verify),
     .desc = "verify the peer"},
    {.name = "tls.ca_file",
     .type = SL_CFG_STR,
     .offset = OUT_COMMON(tls_ca_file),
     .desc = "CA bundle"},
    {.name = "tls.crt_file",
     .type = SL_CFG_STR,
     .offset = OUT_COMMON(tls_crt_file),
     .desc = "client certificate"},
    {.name = "tls.key_file",
     .type = SL_CFG_STR,
     .offset = OUT_COMMON(tls_key_file),
     .desc = "client key"},
    {.name = "tls.vhost",
     .type = SL_CFG_STR,
     .offset = OUT_COMMON(tls_vhost),
     .desc = "TLS server name"},
    {.name = "tls.debug", .type = SL_CFG_INT, .flags = SL_CFG_IGNORED},
    {.name = "tls.ca_path", .type = SL_CFG_STR, .flags = SL_CFG_IGNORED},
    {.name = "tls.key_passwd", .type = SL_CFG_STR, .flags = SL_CFG_IGNORED},
    {.name = "tls.min_version", .type = SL_CFG_STR, .flags = SL_CFG_IGNORED},
    {.name = "tls.max_version", .type = SL_CFG_STR, .flags = SL_CFG_IGNORED},
    {.name = "tls.ciphers", .type = SL_CFG_STR, .flags = SL_CFG_IGNORED},
    {.name = "tls.verify_hostname",
     .type = SL_CFG_BOOL,
     .flags = SL_CFG_IGNORED},
    {.name = "net.",
     .type = SL_CFG_STR,
     .flags = SL_CFG_IGNORED | SL_CFG_PREFIX},
    {.name = "log_suppress_interval",
     .type = SL_CFG_STR,
     .flags = SL_CFG_IGNORED},
    {.name = "storage.pause_on_chunks_overlimit",
     .type = SL_CFG_BOOL,
     .flags = SL_CFG_IGNORED},
    SL_CFG_END,
};

static const char *const skip_name[] = {"name", NULL};

/*
 * An input, filter or output plugin sluice does not have: a Fluent Bit
 * plugin is named as one (the user needs another plugin, not a spelling
 * fix); anything else gets the closest name sluice does have, if any.
 */
static void unknown_plugin(struct sl_diag *diag,
			   const struct sl_conf_section *sec,
			   enum sl_plugin_kind kind, const char *name,
			   const struct sl_suggest *near)
{
	const char *k = sl_suggest_kind_name(kind);
	const struct sl_conf_entry *e = sl_conf_get(sec, "name");
	const char *file = e ? e->file : sec->file;
	int line = e ? e->line : sec->line;

	if (sl_suggest_fluentbit_plugin(kind, name))
		sl_diag_add(diag, file, line,
			    "'%s' is a Fluent Bit %s plugin that sluice does "
			    "not have",
			    name, k);
	else if (near && near->best)
		sl_diag_add(diag, file, line,
			    "unknown %s plugin '%s'; did you mean '%s'?", k,
			    name, near->best);
	else
		sl_diag_add(diag, file, line, "unknown %s plugin '%s'", k,
			    name);
}

/* A per-plugin Log_Level takes Fluent Bit's values (flb_log.c). */
static int check_log_level(const char *value, const struct sl_conf_section *sec,
			   const char *what, struct sl_diag *diag)
{
	const struct sl_conf_entry *e = sl_conf_get(sec, "log_level");
	enum sl_log_level lvl;

	if (!value || sl_log_parse_level(value, &lvl) == 0)
		return 0;
	sl_diag_add(diag, e ? e->file : sec->file, e ? e->line : sec->line,
		    "%s: log_level '%s' is not one of off, error, warn, info, "
		    "debug, trace",
		    what, value);
	return -SL_ECONFIG;
}

/*
 * After config-map errors a plugin's init still runs, so that its own
 * checks are reported in the same pass; the context then holds defaults
 * where values were refused. Not when a REQUIRED option may be unset (not
 * given, empty, or of a type whose value can be refused): init may rely on
 * it being set.
 */
static bool required_present(const struct sl_cfg_option *map,
			     const struct sl_conf_section *sec)
{
	for (const struct sl_cfg_option *o = map; o && o->name; o++) {
		const struct sl_conf_entry *e;

		if (!(o->flags & SL_CFG_REQUIRED))
			continue;
		e = sl_conf_get(sec, o->name);
		if (!e || !*e->value || o->type != SL_CFG_STR)
			return false;
	}
	return true;
}

static const char *section_name(const struct sl_conf_section *sec)
{
	const struct sl_conf_entry *e = sl_conf_get(sec, "name");

	return e ? e->value : NULL;
}

/*
 * "<plugin>.<n>" with n counting every instance of its kind so far, as
 * Fluent Bit names them (flb_input.c/flb_filter.c/flb_output.c
 * instance_id): tail.0, dummy.1. The default input tag is the same name,
 * and dashboards select by it.
 */
static char *instance_name(const char *alias, const char *plugin, size_t n)
{
	char *s;

	if (alias)
		return strdup(alias);
	if (asprintf(&s, "%s.%zu", plugin, n) < 0)
		return NULL;
	return s;
}

static int configure_service(struct sl_engine *eng, struct sl_diag *diag)
{
	const struct sl_conf *conf = eng->conf;
	struct sl_cfgmap_target t = {service_map, &eng->service};
	struct sl_conf_section merged = {.kind = SL_SEC_SERVICE,
					 .header = "SERVICE",
					 .file = conf->main_file};
	int rc = 0;

	/*
	 * Several [SERVICE] sections (one per included file, say) act as one:
	 * their entries are applied together, so a key set twice is reported.
	 */
	for (size_t i = 0; i < conf->n; i++) {
		const struct sl_conf_section *s = &conf->sections[i];

		if (s->kind != SL_SEC_SERVICE)
			continue;
		if (!merged.line) {
			merged.file = s->file;
			merged.line = s->line;
		}
		struct sl_conf_entry *e =
		    realloc(merged.entries, (merged.n + s->n + 1) * sizeof(*e));
		if (!e) {
			free(merged.entries);
			return -SL_ENOMEM;
		}
		merged.entries = e;
		memcpy(merged.entries + merged.n, s->entries,
		       s->n * sizeof(*e));
		merged.n += s->n;
	}
	if (sl_cfgmap_apply(&t, 1, &merged, NULL, "[SERVICE]", diag) < 0)
		rc = -SL_ECONFIG;
	if (eng->service.metrics_names &&
	    sl_metrics_names_parse(eng->service.metrics_names,
				   &eng->metrics_names) < 0) {
		const struct sl_conf_entry *e =
		    sl_conf_get(&merged, "metrics.names");

		sl_diag_add(diag, e ? e->file : conf->main_file,
			    e ? e->line : 0,
			    "[SERVICE] metrics.names '%s' must be sluice, "
			    "fluentbit or both",
			    eng->service.metrics_names);
		rc = -SL_ECONFIG;
	}
	free(merged.entries); /* shallow copies: the strings are conf's */
	if (eng->service.log_level) {
		enum sl_log_level lvl;

		if (sl_log_parse_level(eng->service.log_level, &lvl) < 0) {
			sl_diag_add(diag, conf->main_file, 0,
				    "[SERVICE] Log_Level '%s' is not one of "
				    "off, error, warn, info, debug, trace",
				    eng->service.log_level);
			rc = -SL_ECONFIG;
		}
	}
	if (eng->service.storage_sync &&
	    strcasecmp(eng->service.storage_sync, "normal") != 0 &&
	    strcasecmp(eng->service.storage_sync, "full") != 0) {
		sl_diag_add(diag, conf->main_file, 0,
			    "[SERVICE] storage.sync must be normal or full");
		rc = -SL_ECONFIG;
	}
	if (eng->service.scheduler_cap < eng->service.scheduler_base) {
		sl_diag_add(diag, conf->main_file, 0,
			    "[SERVICE] scheduler.cap is below scheduler.base");
		rc = -SL_ECONFIG;
	}
	return rc;
}

static char *dir_of(const char *path)
{
	char *copy = strdup(path ? path : "."), *d;

	if (!copy)
		return NULL;
	d = strdup(dirname(copy));
	free(copy);
	return d;
}

static int load_side_files(struct sl_engine *eng, struct sl_diag *diag)
{
	char *base = dir_of(eng->conf->main_file);
	int rc = 0;

	if (!base)
		return -SL_ENOMEM;
	for (size_t i = 0; i < eng->service.parsers_files.n; i++)
		if (sl_conf_load_parsers(
			&eng->parsers_conf,
			eng->service.parsers_files.items[i].value, base,
			diag) < 0)
			rc = -SL_ECONFIG;
	for (size_t i = 0; i < eng->service.plugins_files.n; i++)
		if (sl_conf_load_plugins(
			&eng->parsers_conf,
			eng->service.plugins_files.items[i].value, base,
			diag) < 0)
			rc = -SL_ECONFIG;
	free(base);
	/* parsers given with -R (and plugins with -e, or YAML's plugins:)
	 * live in the main conf */
	for (size_t i = 0; i < eng->conf->n; i++) {
		const struct sl_conf_section *s = &eng->conf->sections[i];

		if (s->kind != SL_SEC_PARSER &&
		    s->kind != SL_SEC_MULTILINE_PARSER &&
		    s->kind != SL_SEC_PLUGINS)
			continue;
		struct sl_conf_section *c = sl_conf_add_section(
		    &eng->parsers_conf, s->kind, s->header, s->file, s->line);
		if (!c)
			return -SL_ENOMEM;
		for (size_t j = 0; j < s->n; j++)
			if (sl_conf_add_entry(
				&eng->parsers_conf, c, s->entries[j].key,
				s->entries[j].value, s->entries[j].file,
				s->entries[j].line) < 0)
				return -SL_ENOMEM;
	}
	if (sl_parsers_build(&eng->parsers_conf, diag, &eng->parsers) < 0)
		rc = -SL_ECONFIG;
	return rc;
}

struct sl_metric_series *sl_engine_series1(struct sl_engine *eng,
					   const char *name, const char *help,
					   enum sl_metric_type type,
					   const char *label, const char *value)
{
	const char *labels[1] = {label}, *values[1] = {value};
	const char *err;
	struct sl_metric_family *f = sl_metrics_family(
	    &eng->metrics, name, help, type, label ? labels : NULL,
	    label ? 1 : 0, NULL, 0, &err);

	if (!f)
		return NULL;
	f->max_series = 0; /* internal families are bounded by the config */
	return sl_metric_series_get(&eng->metrics, f, label ? values : NULL);
}

static int input_metrics(struct sl_engine *eng, struct sl_input *in)
{
	in->m_records = sl_engine_series1(
	    eng, "sluice_input_records_total", "Records read by the input",
	    SL_METRIC_COUNTER, "name", in->ins.name);
	in->m_bytes = sl_engine_series1(
	    eng, "sluice_input_bytes_total", "Bytes read by the input",
	    SL_METRIC_COUNTER, "name", in->ins.name);
	in->m_parse_errors =
	    sl_engine_series1(eng, "sluice_input_parse_errors_total",
			      "Records that failed to parse and were "
			      "kept as raw text",
			      SL_METRIC_COUNTER, "name", in->ins.name);
	in->m_paused =
	    sl_engine_series1(eng, "sluice_input_paused",
			      "1 while the input is paused at its buffer limit",
			      SL_METRIC_GAUGE, "name", in->ins.name);
	in->m_repaired =
	    sl_engine_series1(eng, "sluice_input_repaired_records_total",
			      "Records kept with invalid UTF-8 replaced "
			      "by U+FFFD",
			      SL_METRIC_COUNTER, "name", in->ins.name);
	return in->m_records && in->m_bytes && in->m_parse_errors &&
		       in->m_paused && in->m_repaired
		   ? 0
		   : -SL_ENOMEM;
}

/* The input's override of [SERVICE]'s tag_records, as in Fluent Bit. */
static int input_tag_records(struct sl_engine *eng, struct sl_input *in,
			     const struct sl_conf_section *sec)
{
	bool on = sl_conf_get(sec, "telemetry.metrics.logs.tag_records.enabled")
		      ? in->common.tag_records
		      : eng->service.tag_records;

	if (!on)
		return 0;
	if (!eng->tag_records.tracked &&
	    sl_tag_records_init(&eng->tag_records, &eng->metrics,
				eng->service.tag_records_max_series,
				eng->service.tag_records_max_tag_length) < 0)
		return -SL_ENOMEM;
	in->tag_records = calloc(1, sizeof(*in->tag_records));
	if (!in->tag_records)
		return -SL_ENOMEM;
	in->tag_records->name = in->ins.name;
	return 0;
}

static int output_metrics(struct sl_engine *eng, struct sl_output *out)
{
	const char *names[] = {"name", "reason"};
	const char *err;
	struct sl_metric_family *f;

	out->m_proc_records =
	    sl_engine_series1(eng, "sluice_output_proc_records_total",
			      "Records delivered by the output",
			      SL_METRIC_COUNTER, "name", out->ins.name);
	out->m_proc_bytes =
	    sl_engine_series1(eng, "sluice_output_proc_bytes_total",
			      "Bytes of records delivered by the output",
			      SL_METRIC_COUNTER, "name", out->ins.name);
	out->m_errors = sl_engine_series1(
	    eng, "sluice_output_errors_total", "Failed flush attempts",
	    SL_METRIC_COUNTER, "name", out->ins.name);
	out->m_retries = sl_engine_series1(eng, "sluice_output_retries_total",
					   "Flush retries", SL_METRIC_COUNTER,
					   "name", out->ins.name);
	out->m_retries_failed =
	    sl_engine_series1(eng, "sluice_output_retries_failed_total",
			      "Chunks dropped after Retry_Limit",
			      SL_METRIC_COUNTER, "name", out->ins.name);
	f = sl_metrics_family(&eng->metrics,
			      "sluice_output_dropped_records_total",
			      "Records an output dropped, by reason",
			      SL_METRIC_COUNTER, names, 2, NULL, 0, &err);
	if (!f)
		return -SL_ENOMEM;
	f->max_series = 0;
	for (int r = 0; r < SL_DROP_REASONS; r++) {
		const char *values[] = {
		    out->ins.name, sl_drop_reason_name((enum sl_drop_reason)r)};

		out->m_dropped[r] =
		    sl_metric_series_get(&eng->metrics, f, values);
		if (!out->m_dropped[r])
			return -SL_ENOMEM;
	}
	return out->m_proc_records && out->m_proc_bytes && out->m_errors &&
		       out->m_retries && out->m_retries_failed
		   ? 0
		   : -SL_ENOMEM;
}

static void instance_common(struct sl_engine *eng,
			    struct sl_plugin_instance *ins,
			    const struct sl_conf_section *sec,
			    struct sl_diag *diag)
{
	ins->engine = eng;
	ins->section = sec;
	ins->diag = diag;
	ins->parsers = eng->parsers;
	ins->metrics = &eng->metrics;
	ins->base = eng->base;
}

static int add_input(struct sl_engine *eng, const struct sl_conf_section *sec,
		     const char *name, struct sl_diag *diag)
{
	const struct sl_input_plugin *p = sl_registry_input(name);
	struct sl_input *in;

	for (size_t i = 0; !p && eng->extra_inputs && eng->extra_inputs[i]; i++)
		if (strcasecmp(eng->extra_inputs[i]->name, name) == 0)
			p = eng->extra_inputs[i];
	char what[128];
	size_t index = eng->n_inputs;
	bool bad = false;
	int rc;

	if (!p) {
		struct sl_suggest near;

		sl_suggest_start(&near, name);
		for (size_t i = 0; sl_input_plugins[i]; i++)
			sl_suggest_offer(&near, sl_input_plugins[i]->name);
		unknown_plugin(diag, sec, SL_KIND_INPUT, name, &near);
		return -SL_ECONFIG;
	}
	in = calloc(1, sizeof(*in));
	if (!in)
		return -SL_ENOMEM;
	in->plugin = p;
	in->eng = eng;
	eng->inputs[eng->n_inputs++] = in;
	in->ctx = calloc(1, p->ctx_size ? p->ctx_size : 1);
	if (!in->ctx)
		return -SL_ENOMEM;
	snprintf(what, sizeof(what), "input '%s'", p->name);
	struct sl_cfgmap_target t[] = {{p->config_map, in->ctx},
				       {input_common_map, &in->common}};
	if (sl_cfgmap_apply(t, 2, sec, skip_name, what, diag) < 0)
		bad = true;
	if (check_log_level(in->common.log_level, sec, what, diag) < 0)
		bad = true;
	char *iname = instance_name(in->common.alias, p->name, index);
	if (!iname || sl_instance_init(&in->ins, p->name, iname, sec->file,
				       sec->line) < 0) {
		free(iname);
		return -SL_ENOMEM;
	}
	free(iname);
	instance_common(eng, &in->ins, sec, diag);
	/*
	 * Without Tag, Fluent Bit tags with the instance name it gives
	 * before any Alias: "<plugin>.<n>", n counting every input so far
	 * (flb_input.c instance_id), e.g. dummy.0 then tail.1.
	 */
	if (in->common.tag && !*in->common.tag) {
		const struct sl_conf_entry *e = sl_conf_get(sec, "tag");

		/* "${TAG}" unset: a default tag would route other records */
		sl_diag_add(
		    diag, e ? e->file : sec->file, e ? e->line : sec->line,
		    "option 'Tag' of %s is empty; it needs a value", what);
		bad = true;
	}
	in->tag_is_default = !in->common.tag || !*in->common.tag;
	if (!in->tag_is_default)
		in->tag = strdup(in->common.tag);
	else if (asprintf(&in->tag, "%s.%zu", p->name, index) < 0)
		in->tag = NULL;
	if (!in->tag)
		return -SL_ENOMEM;
	in->tag_len = strlen(in->tag);
	in->mem_limit = in->common.mem_buf_limit;
	if (strcasecmp(in->common.storage_type, "memory") != 0 &&
	    strcasecmp(in->common.storage_type, "filesystem") != 0 &&
	    strcasecmp(in->common.storage_type, "memrb") != 0) {
		sl_diag_add(diag, sec->file, sec->line,
			    "input '%s': storage.type must be memory or "
			    "filesystem",
			    p->name);
		return -SL_ECONFIG;
	}
	in->filesystem = strcasecmp(in->common.storage_type, "filesystem") == 0;
	if (in->filesystem && !eng->service.storage_path) {
		const struct sl_conf_entry *e =
		    sl_conf_get(sec, "storage.type");

		sl_diag_add(diag, sec->file, e ? e->line : sec->line,
			    "input '%s': storage.type filesystem needs "
			    "[SERVICE] storage.path",
			    p->name);
		return -SL_ECONFIG;
	}
	if ((rc = input_metrics(eng, in)) < 0 ||
	    (rc = input_tag_records(eng, in, sec)) < 0)
		return rc;
	if (bad && !required_present(p->config_map, sec))
		return -SL_ECONFIG;
	if (p->init && (rc = p->init(in->ctx, in)) < 0)
		return rc;
	return bad ? -SL_ECONFIG : 0;
}

/* A processor's condition is read by sl_engine_routes.c, not the map. */
static const char *const skip_processor[] = {"name", "condition",
					     "condition.op", NULL};

static int add_filter(struct sl_engine *eng, const struct sl_filter_plugin *p,
		      const struct sl_conf_section *sec, struct sl_diag *diag)
{
	struct sl_filter_inst *f = calloc(1, sizeof(*f));
	bool processor = sec->kind == SL_SEC_PROCESSOR;
	char what[128], err[256];
	size_t same;
	bool bad = false;
	int rc;

	if (!f)
		return -SL_ENOMEM;
	f->plugin = p;
	f->processor = processor;
	/* processors are numbered apart: Fluent Bit's are not filters */
	same = processor ? eng->n_processors : eng->n_filters;
	if (processor)
		eng->processors[eng->n_processors++] = f;
	else
		eng->filters[eng->n_filters++] = f;
	f->ctx = calloc(1, p->ctx_size ? p->ctx_size : 1);
	if (!f->ctx)
		return -SL_ENOMEM;
	snprintf(what, sizeof(what), "%s '%s'",
		 processor ? "processor" : "filter", p->name);
	struct sl_cfgmap_target t[] = {{p->config_map, f->ctx},
				       {filter_common_map, &f->common}};
	if (sl_cfgmap_apply(t, 2, sec, processor ? skip_processor : skip_name,
			    what, diag) < 0)
		bad = true;
	if (check_log_level(f->common.log_level, sec, what, diag) < 0)
		bad = true;
	char *iname = instance_name(f->common.alias, p->name, same);
	if (!iname || sl_instance_init(&f->ins, p->name, iname, sec->file,
				       sec->line) < 0) {
		free(iname);
		return -SL_ENOMEM;
	}
	free(iname);
	instance_common(eng, &f->ins, sec, diag);
	if (!processor && !f->common.match && !f->common.match_regex)
		sl_log(
		    SL_LOG_WARN, f->ins.name,
		    "no Match or Match_Regex: the filter applies to nothing");
	if (sl_route_init(&f->route, f->common.match, f->common.match_regex,
			  err, sizeof(err)) < 0) {
		sl_diag_add(diag, sec->file, sec->line,
			    "filter '%s': Match_Regex: %s", p->name, err);
		return -SL_ECONFIG;
	}
	f->m_drop = sl_engine_series1(eng, "sluice_filter_drop_records_total",
				      "Records dropped by the filter",
				      SL_METRIC_COUNTER, "name", f->ins.name);
	f->m_records = sl_engine_series1(
	    eng, "sluice_filter_records_total", "Records handed to the filter",
	    SL_METRIC_COUNTER, "name", f->ins.name);
	if (!f->m_drop || !f->m_records)
		return -SL_ENOMEM;
	if (bad && !required_present(p->config_map, sec))
		return -SL_ECONFIG;
	if (p->init && (rc = p->init(f->ctx, &f->ins)) < 0)
		return rc;
	return bad ? -SL_ECONFIG : 0;
}

/* YAML routes name outputs: then an output without Match is no mistake. */
static bool conf_has_routes(const struct sl_conf *conf)
{
	for (size_t i = 0; i < conf->n; i++)
		if (conf->sections[i].kind == SL_SEC_ROUTE)
			return true;
	return false;
}

static int add_output(struct sl_engine *eng, const struct sl_conf_section *sec,
		      const char *name, bool sole, struct sl_diag *diag)
{
	const struct sl_output_plugin *p = sl_registry_output(name);
	struct sl_output *out;

	for (size_t i = 0; !p && eng->extra_outputs && eng->extra_outputs[i];
	     i++)
		if (strcasecmp(eng->extra_outputs[i]->name, name) == 0)
			p = eng->extra_outputs[i];
	char what[128], err[256];
	size_t same;
	bool bad = false;
	int rc;

	if (!p) {
		struct sl_suggest near;

		sl_suggest_start(&near, name);
		for (size_t i = 0; sl_output_plugins[i]; i++)
			sl_suggest_offer(&near, sl_output_plugins[i]->name);
		unknown_plugin(diag, sec, SL_KIND_OUTPUT, name, &near);
		return -SL_ECONFIG;
	}
	out = calloc(1, sizeof(*out));
	if (!out)
		return -SL_ENOMEM;
	out->plugin = p;
	same = eng->n_outputs;
	eng->outputs[eng->n_outputs++] = out;
	out->ctx = calloc(1, p->ctx_size ? p->ctx_size : 1);
	if (!out->ctx)
		return -SL_ENOMEM;
	snprintf(what, sizeof(what), "output '%s'", p->name);
	struct sl_cfgmap_target t[] = {{p->config_map, out->ctx},
				       {output_common_map, &out->common}};
	if (sl_cfgmap_apply(t, 2, sec, skip_name, what, diag) < 0)
		bad = true;
	if (check_log_level(out->common.log_level, sec, what, diag) < 0)
		bad = true;
	char *iname = instance_name(out->common.alias, p->name, same);
	if (!iname || sl_instance_init(&out->ins, p->name, iname, sec->file,
				       sec->line) < 0) {
		free(iname);
		return -SL_ENOMEM;
	}
	free(iname);
	instance_common(eng, &out->ins, sec, diag);
	if (sl_retry_parse_limit(out->common.retry_limit, &out->retry_limit) <
	    0) {
		const struct sl_conf_entry *e = sl_conf_get(sec, "retry_limit");

		sl_diag_add(diag, sec->file, e ? e->line : sec->line,
			    "output '%s': Retry_Limit '%s' is not no_limits, "
			    "false, no_retries or a positive integer",
			    p->name, out->common.retry_limit);
		return -SL_ECONFIG;
	}
	/* Fluent Bit's router: one input and one output need no Match
	 * (flb_router_io_set); only outputs get this, not filters. */
	if (sole && !out->common.match && !out->common.match_regex) {
		out->common.match = strdup("*");
		if (!out->common.match)
			return -SL_ENOMEM;
	}
	if (!out->common.match && !out->common.match_regex &&
	    !conf_has_routes(eng->conf))
		sl_log(SL_LOG_WARN, out->ins.name,
		       "no Match or Match_Regex: the output receives nothing");
	if (sl_route_init(&out->route, out->common.match,
			  out->common.match_regex, err, sizeof(err)) < 0) {
		sl_diag_add(diag, sec->file, sec->line,
			    "output '%s': Match_Regex: %s", p->name, err);
		return -SL_ECONFIG;
	}
	if ((rc = output_metrics(eng, out)) < 0)
		return rc;
	out->pool = sl_worker_pool_create(out, (int)out->common.workers);
	if (!out->pool)
		return -SL_ENOMEM;
	if (bad && !required_present(p->config_map, sec))
		return -SL_ECONFIG;
	if (p->init && (rc = p->init(out->ctx, out)) < 0)
		return rc;
	return bad ? -SL_ECONFIG : 0;
}

/* Filters from Plugins_File shared objects (core/engine/sl_plugin_load.c). */
static int load_plugins(struct sl_engine *eng, struct sl_diag *diag)
{
	return sl_plugin_load_all(&eng->parsers_conf, &eng->loaded,
				  &eng->n_loaded, diag);
}

static const struct sl_filter_plugin *find_filter(struct sl_engine *eng,
						  const char *name)
{
	const struct sl_filter_plugin *p = sl_registry_filter(name);

	for (size_t i = 0; !p && i < eng->n_loaded; i++)
		if (strcasecmp(eng->loaded[i].filter->name, name) == 0)
			p = eng->loaded[i].filter;
	return p;
}

const struct sl_filter_plugin *sl_engine_find_filter(struct sl_engine *eng,
						     const char *name)
{
	return find_filter(eng, name);
}

struct sl_filter_inst *sl_engine_processor_create(
    struct sl_engine *eng, const struct sl_filter_plugin *p,
    const struct sl_conf_section *sec, struct sl_diag *diag, int *rc)
{
	size_t n = eng->n_processors;

	*rc = add_filter(eng, p, sec, diag);
	if (*rc < 0 || eng->n_processors == n)
		return NULL;
	return eng->processors[n];
}

int sl_engine_configure(struct sl_engine *eng, struct sl_diag *diag)
{
	const struct sl_conf *conf = eng->conf;
	size_t n_in = 0, n_fl = 0, n_out = 0, n_proc = 0;
	void **inst = NULL; /* section index -> input or output */
	int rc = 0;

	if (configure_service(eng, diag) < 0)
		rc = -SL_ECONFIG;
	if (load_side_files(eng, diag) < 0)
		rc = -SL_ECONFIG;
	if (load_plugins(eng, diag) < 0)
		rc = -SL_ECONFIG;

	for (size_t i = 0; i < conf->n; i++) {
		switch (conf->sections[i].kind) {
		case SL_SEC_INPUT:
			n_in++;
			break;
		case SL_SEC_FILTER:
			n_fl++;
			break;
		case SL_SEC_OUTPUT:
			n_out++;
			break;
		case SL_SEC_PROCESSOR:
			n_proc++;
			break;
		default:
			break;
		}
	}
	eng->processors = calloc(n_proc + 1, sizeof(*eng->processors));
	inst = calloc(conf->n + 1, sizeof(*inst));
	if (!eng->processors || !inst) {
		free(inst);
		return -SL_ENOMEM;
	}
	eng->inputs = calloc(n_in + 1, sizeof(*eng->inputs));
	eng->filters = calloc(n_fl + 1, sizeof(*eng->filters));
	eng->outputs = calloc(n_out + 1, sizeof(*eng->outputs));
	if (!eng->inputs || !eng->filters || !eng->outputs)
		return -SL_ENOMEM;

	for (size_t i = 0; i < conf->n; i++) {
		const struct sl_conf_section *sec = &conf->sections[i];
		const char *name;
		int r = 0;

		switch (sec->kind) {
		case SL_SEC_SERVICE:
		case SL_SEC_PARSER:
		case SL_SEC_MULTILINE_PARSER:
		case SL_SEC_PLUGINS:
		case SL_SEC_UPSTREAM:
		case SL_SEC_NODE:
		case SL_SEC_PROCESSOR: /* sl_engine_pipeline_configure */
		case SL_SEC_ROUTE:
		case SL_SEC_RULE:
			continue;
		case SL_SEC_INPUT:
		case SL_SEC_FILTER:
		case SL_SEC_OUTPUT:
		case SL_SEC_CUSTOM:
			break;
		case SL_SEC_OTHER:
		default: {
			static const char *const known[] = {
			    "SERVICE", "INPUT",	   "FILTER",
			    "OUTPUT",  "PARSER",   "MULTILINE_PARSER",
			    "PLUGINS", "UPSTREAM", "NODE",
			    "CUSTOM",  NULL};
			const char *near = sl_suggest_best(sec->header, known);

			sl_diag_add(diag, sec->file, sec->line,
				    "unknown section [%s]%s%s%s", sec->header,
				    near ? "; did you mean [" : "",
				    near ? near : "", near ? "]?" : "");
			rc = -SL_ECONFIG;
			continue;
		}
		}
		name = section_name(sec);
		if (!name || !*name) {
			sl_diag_add(diag, sec->file, sec->line,
				    "[%s] has no Name", sec->header);
			rc = -SL_ECONFIG;
			continue;
		}
		if (sec->kind == SL_SEC_INPUT) {
			r = add_input(eng, sec, name, diag);
			if (r == 0)
				inst[i] = eng->inputs[eng->n_inputs - 1];
		} else if (sec->kind == SL_SEC_OUTPUT) {
			r = add_output(eng, sec, name, n_in == 1 && n_out == 1,
				       diag);
			if (r == 0)
				inst[i] = eng->outputs[eng->n_outputs - 1];
		} else if (sec->kind == SL_SEC_FILTER) {
			const struct sl_filter_plugin *p =
			    find_filter(eng, name);

			if (!p) {
				struct sl_suggest near;

				sl_suggest_start(&near, name);
				for (size_t j = 0; sl_filter_plugins[j]; j++)
					sl_suggest_offer(
					    &near, sl_filter_plugins[j]->name);
				for (size_t j = 0; j < eng->n_loaded; j++)
					sl_suggest_offer(
					    &near, eng->loaded[j].filter->name);
				unknown_plugin(diag, sec, SL_KIND_FILTER, name,
					       &near);
				r = -SL_ECONFIG;
			} else {
				r = add_filter(eng, p, sec, diag);
			}
		} else {
			unknown_plugin(diag, sec, SL_KIND_CUSTOM, name, NULL);
			r = -SL_ECONFIG;
		}
		if (r == -SL_ENOMEM) {
			sl_diag_add(diag, sec->file, sec->line,
				    "out of memory");
			free(inst);
			return r;
		}
		if (r < 0)
			rc = r;
	}
	{
		int r = sl_engine_pipeline_configure(eng, inst, diag);

		free(inst);
		if (r == -SL_ENOMEM)
			return r;
		if (r < 0)
			rc = r;
	}
	for (size_t i = 0; i < eng->n_inputs; i++) {
		struct sl_input *in = eng->inputs[i];

		in->filter_match = calloc(eng->n_filters + 1, sizeof(bool));
		if (!in->filter_match)
			return -SL_ENOMEM;
	}
	eng->m_chunks_up = sl_engine_series1(eng, "sluice_storage_chunks",
					     "Chunks held, by state",
					     SL_METRIC_GAUGE, "state", "up");
	eng->m_uptime = sl_engine_series1(eng, "sluice_uptime_seconds",
					  "Seconds since start",
					  SL_METRIC_GAUGE, NULL, NULL);
	/* After start-up, plugin errors are logged, not collected. */
	for (size_t i = 0; i < eng->n_inputs; i++)
		eng->inputs[i]->ins.diag = NULL;
	for (size_t i = 0; i < eng->n_filters; i++)
		eng->filters[i]->ins.diag = NULL;
	for (size_t i = 0; i < eng->n_outputs; i++)
		eng->outputs[i]->ins.diag = NULL;
	return rc;
}

void sl_engine_filter_free(struct sl_filter_inst *f)
{
	if (!f)
		return;
	if (f->ctx) {
		if (f->plugin->destroy)
			f->plugin->destroy(f->ctx);
		sl_cfgmap_release(f->plugin->config_map, f->ctx);
		free(f->ctx);
	}
	sl_cfgmap_release(filter_common_map, &f->common);
	sl_route_destroy(&f->route);
	sl_instance_destroy(&f->ins);
	sl_condition_destroy(f->cond);
	free(f);
}

void sl_engine_unconfigure(struct sl_engine *eng)
{
	/* routes and processors first: they point at inputs and outputs */
	sl_engine_pipeline_unconfigure(eng);
	for (size_t i = 0; i < eng->n_inputs; i++) {
		struct sl_input *in = eng->inputs[i];

		if (in->ctx) {
			if (in->plugin->destroy)
				in->plugin->destroy(in->ctx);
			sl_cfgmap_release(in->plugin->config_map, in->ctx);
			free(in->ctx);
		}
		sl_cfgmap_release(input_common_map, &in->common);
		sl_instance_destroy(&in->ins);
		free(in->open);
		free(in->route_tag);
		free(in->filter_match);
		if (in->tag_records)
			sl_tag_records_input_destroy(in->tag_records);
		free(in->tag_records);
		free(in->tag);
		free(in);
	}
	for (size_t i = 0; i < eng->n_filters; i++)
		sl_engine_filter_free(eng->filters[i]);
	for (size_t i = 0; i < eng->n_outputs; i++) {
		struct sl_output *out = eng->outputs[i];

		sl_worker_pool_destroy(out->pool);
		if (out->ctx) {
			if (out->plugin->destroy)
				out->plugin->destroy(out->ctx);
			sl_cfgmap_release(out->plugin->config_map, out->ctx);
			free(out->ctx);
		}
		sl_cfgmap_release(output_common_map, &out->common);
		sl_route_destroy(&out->route);
		sl_instance_destroy(&out->ins);
		free(out);
	}
	free(eng->inputs);
	free(eng->filters);
	free(eng->outputs);
	eng->inputs = NULL;
	eng->filters = NULL;
	eng->outputs = NULL;
	eng->n_inputs = eng->n_filters = eng->n_outputs = 0;
	sl_cfgmap_release(service_map, &eng->service);
	/* plugin code is unloaded only after every filter was destroyed */
	sl_plugin_unload_all(eng->loaded, eng->n_loaded);
	eng->loaded = NULL;
	eng->n_loaded = 0;
}

void sl_engine_help(FILE *out)
{
	fprintf(out, "\n[SERVICE] options:\n");
	sl_cfgmap_help(service_map, out);
	fprintf(out, "\nInputs (options common to all:)\n");
	sl_cfgmap_help(input_common_map, out);
	for (size_t i = 0; sl_input_plugins[i]; i++) {
		fprintf(out, "\n  input %s - %s\n", sl_input_plugins[i]->name,
			sl_input_plugins[i]->description);
		sl_cfgmap_help(sl_input_plugins[i]->config_map, out);
	}
	fprintf(out, "\nFilters (options common to all:)\n");
	sl_cfgmap_help(filter_common_map, out);
	for (size_t i = 0; sl_filter_plugins[i]; i++) {
		fprintf(out, "\n  filter %s - %s\n", sl_filter_plugins[i]->name,
			sl_filter_plugins[i]->description);
		sl_cfgmap_help(sl_filter_plugins[i]->config_map, out);
	}
	fprintf(out, "\nOutputs (options common to all:)\n");
	sl_cfgmap_help(output_common_map, out);
	for (size_t i = 0; sl_output_plugins[i]; i++) {
		fprintf(out, "\n  output %s - %s\n", sl_output_plugins[i]->name,
			sl_output_plugins[i]->description);
		sl_cfgmap_help(sl_output_plugins[i]->config_map, out);
	}
}

const struct sl_cfg_option *sl_engine_common_map(enum sl_section_kind kind)
{
	return kind == SL_SEC_INPUT    ? input_common_map
	       : kind == SL_SEC_FILTER ? filter_common_map
				       : output_common_map;
}

/* -J: the maps sl_engine_help() prints, as data (see sl_cfgmap_help_json). */
static void help_json_plugin(FILE *out, size_t i, const char *name,
			     const char *desc, const struct sl_cfg_option *map)
{
	fputs(i ? ",{\"name\":" : "{\"name\":", out);
	sl_cfgmap_json_string(out, name);
	fputs(",\"description\":", out);
	sl_cfgmap_json_string(out, desc);
	fputs(",\"options\":", out);
	sl_cfgmap_help_json(map, out);
	fputc('}', out);
}

void sl_engine_help_json(FILE *out)
{
	fputs("{\"service\":", out);
	sl_cfgmap_help_json(service_map, out);
	fputs(",\"input\":{\"common\":", out);
	sl_cfgmap_help_json(input_common_map, out);
	fputs(",\"plugins\":[", out);
	for (size_t i = 0; sl_input_plugins[i]; i++)
		help_json_plugin(out, i, sl_input_plugins[i]->name,
				 sl_input_plugins[i]->description,
				 sl_input_plugins[i]->config_map);
	fputs("]},\"filter\":{\"common\":", out);
	sl_cfgmap_help_json(filter_common_map, out);
	fputs(",\"plugins\":[", out);
	for (size_t i = 0; sl_filter_plugins[i]; i++)
		help_json_plugin(out, i, sl_filter_plugins[i]->name,
				 sl_filter_plugins[i]->description,
				 sl_filter_plugins[i]->config_map);
	fputs("]},\"output\":{\"common\":", out);
	sl_cfgmap_help_json(output_common_map, out);
	fputs(",\"plugins\":[", out);
	for (size_t i = 0; sl_output_plugins[i]; i++)
		help_json_plugin(out, i, sl_output_plugins[i]->name,
				 sl_output_plugins[i]->description,
				 sl_output_plugins[i]->config_map);
	fputs("]}}", out);
}
