/* SPDX-License-Identifier: Apache-2.0 */
/*
 * prometheus_exporter.c - Fluent Bit's out_prometheus_exporter: an HTTP
 * server on the engine's loop answering GET /metrics with the metric
 * families whose scope (the Tag of the log_to_metrics instance that feeds
 * them) matches this output's Match/Match_Regex, in text format 0.0.4.
 * Log records routed here are acknowledged and ignored; nothing is cached:
 * each scrape renders the live registry. Its port is an sl_httpd server
 * of its own (the limits of every sluice port, refusals counted under its
 * instance name); a body sent with the GET is read and ignored.
 */
#include "sl_output.h"
#include "sl_httpd.h"
#include "sl_httpd_route.h"
#include "sl_log.h"
#include "sl_metrics_text.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* a scrape is a small GET: the service API's limits */
#define PROM_MAX_HEADERS (16 * 1024)
#define PROM_MAX_BODY	 4096
#define PROM_TIMEOUT_S	 10

struct prom_ctx {
	/* config map */
	char *host;
	int64_t port;
	struct sl_cfg_multi add_label;
	bool add_timestamp;
	/* from init */
	struct sl_output *out;		 /* borrowed: the instance owning ctx */
	char *name;			 /* owned: instance name for logs */
	struct sl_metrics_label *labels; /* owned array; strings owned */
	size_t n_labels;
	/* from start (engine thread) */
	struct sl_httpd *srv; /* owned */
	struct sl_httpd_router router;
	struct sl_buf body; /* reused response buffer */
};

/* one option per entry reads better than one line per field */
/* clang-format off */
static const struct sl_cfg_option prom_config[] = {
	{ .name = "host", .type = SL_CFG_STR, .def = "0.0.0.0",
	  .offset = offsetof(struct prom_ctx, host),
	  .desc = "address to listen on" },
	{ .name = "port", .type = SL_CFG_INT, .def = "2021", .min = 1,
	  .max = 65535, .offset = offsetof(struct prom_ctx, port),
	  .desc = "TCP port of GET /metrics" },
	{ .name = "add_label", .type = SL_CFG_STR, .flags = SL_CFG_MULTI,
	  .offset = offsetof(struct prom_ctx, add_label),
	  .desc = "NAME VALUE: a label added to every exported sample" },
	{ .name = "add_timestamp", .type = SL_CFG_BOOL, .def = "off",
	  .offset = offsetof(struct prom_ctx, add_timestamp),
	  .desc = "add the scrape time (ms) to every sample" },
	SL_CFG_END,
};
/* clang-format on */

/* Splits "NAME VALUE" at the first run of blanks; the value is the rest. */
static int parse_label(const char *item, char **name, char **value)
{
	const char *sp = item, *v;

	while (*sp && !isspace((unsigned char)*sp))
		sp++;
	v = sp;
	while (*v && isspace((unsigned char)*v))
		v++;
	if (sp == item || !*v)
		return -SL_EINVAL;
	*name = strndup(item, (size_t)(sp - item));
	*value = strdup(v);
	if (!*name || !*value) {
		free(*name);
		free(*value);
		*name = *value = NULL;
		return -SL_ENOMEM;
	}
	/* trailing blanks are not part of the value */
	for (size_t n = strlen(*value);
	     n && isspace((unsigned char)(*value)[n - 1]);)
		(*value)[--n] = '\0';
	return 0;
}

static int prom_init(void *vctx, struct sl_output *out)
{
	struct prom_ctx *ctx = vctx;
	struct sl_plugin_instance *ins = sl_output_instance(out);
	int rc = 0;

	ctx->out = out;
	ctx->name = strdup(sl_plugin_instance_name(ins));
	ctx->labels = calloc(ctx->add_label.n + 1, sizeof(*ctx->labels));
	if (!ctx->name || !ctx->labels)
		return -SL_ENOMEM;
	for (size_t i = 0; i < ctx->add_label.n; i++) {
		const struct sl_cfg_item *it = &ctx->add_label.items[i];
		char *name = NULL, *value = NULL;
		int r = parse_label(it->value, &name, &value);

		if (r == -SL_ENOMEM)
			return r;
		if (r < 0) {
			sl_plugin_error(ins, it->line,
					"Add_Label needs "
					"NAME VALUE, got '%s'",
					it->value);
			rc = -SL_ECONFIG;
			continue;
		}
		if (!sl_metrics_valid_label_name(name)) {
			sl_plugin_error(ins, it->line,
					"Add_Label '%s' is "
					"not a valid label name "
					"([a-zA-Z_][a-zA-Z0-9_]*, not __*)",
					name);
			rc = -SL_ECONFIG;
		}
		for (size_t j = 0; j < ctx->n_labels; j++)
			if (strcmp(ctx->labels[j].name, name) == 0) {
				sl_plugin_error(ins, it->line,
						"Add_Label "
						"'%s' given twice",
						name);
				rc = -SL_ECONFIG;
			}
		ctx->labels[ctx->n_labels].name = name;
		ctx->labels[ctx->n_labels++].value = value;
	}
	return rc;
}

static bool routed_here(const struct sl_metric_family *f, void *arg)
{
	const struct prom_ctx *ctx = arg;

	return f->scope && sl_route_matches(sl_output_route(ctx->out), f->scope,
					    strlen(f->scope));
}

static void serve_metrics(void *arg, struct sl_httpd_req *req)
{
	struct prom_ctx *ctx = arg;
	struct sl_plugin_instance *ins = sl_output_instance(ctx->out);
	struct sl_metrics_text_opts opts = {
	    .filter = routed_here,
	    .filter_arg = ctx,
	    .labels = ctx->labels,
	    .n_labels = ctx->n_labels,
	    .timestamp_ms = ctx->add_timestamp ? sl_now_ns() / 1000000 : 0,
	};

	sl_buf_reset(&ctx->body);
	if (sl_metrics_text_render(sl_instance_metrics(ins), &opts,
				   &ctx->body) < 0) {
		sl_log(SL_LOG_ERROR, ctx->name,
		       "out of memory rendering "
		       "/metrics");
		sl_httpd_reply(req, 503, "text/plain; charset=utf-8",
			       "out of memory\n", 14, NULL);
		return;
	}
	sl_httpd_reply(req, 200, SL_METRICS_TEXT_CONTENT_TYPE, ctx->body.data,
		       ctx->body.len, NULL);
}

static const struct sl_httpd_route prom_routes[] = {
    {.method = "GET", .path = "/metrics", .on_request = serve_metrics},
};

static int prom_start(void *vctx, struct sl_output *out)
{
	struct prom_ctx *ctx = vctx;
	struct sl_plugin_instance *ins = sl_output_instance(out);
	struct sl_httpd_conf conf = {
	    .listen = ctx->host,
	    .port = (int)ctx->port,
	    .max_headers = PROM_MAX_HEADERS,
	    .max_body = PROM_MAX_BODY,
	    .timeout_s = PROM_TIMEOUT_S,
	    .who = ctx->name,
	    .metrics = sl_instance_metrics(ins),
	};

	ctx->router = (struct sl_httpd_router){
	    .routes = prom_routes,
	    .n_routes = SL_ARRAY_LEN(prom_routes),
	    .arg = ctx,
	};
	/* logs "listening on" or the failure */
	ctx->srv =
	    sl_httpd_serve(sl_instance_base(ins), &conf, false, NULL, NULL,
			   NULL, &sl_httpd_route_ops, &ctx->router);
	return ctx->srv ? 0 : -SL_EIO;
}

/* Metrics reach the exporter through the registry, not through chunks. */
static void prom_flush(void *vctx, void *worker, struct sl_flush *fl)
{
	(void)vctx;
	(void)worker;
	sl_flush_done(fl, SL_FLUSH_OK);
}

static void prom_destroy(void *vctx)
{
	struct prom_ctx *ctx = vctx;

	sl_httpd_stop(ctx->srv);
	ctx->srv = NULL;
	for (size_t i = 0; ctx->labels && i < ctx->n_labels; i++) {
		free((char *)ctx->labels[i].name);
		free((char *)ctx->labels[i].value);
	}
	free(ctx->labels);
	ctx->labels = NULL;
	ctx->n_labels = 0;
	sl_buf_destroy(&ctx->body);
	free(ctx->name);
	ctx->name = NULL;
}

const struct sl_output_plugin sl_output_prometheus_exporter = {
    .name = "prometheus_exporter",
    .description = "Serves the metrics routed to it on GET /metrics "
		   "(Prometheus text format)",
    .config_map = prom_config,
    .ctx_size = sizeof(struct prom_ctx),
    .init = prom_init,
    .start = prom_start,
    .flush = prom_flush,
    .destroy = prom_destroy,
};
