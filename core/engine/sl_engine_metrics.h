/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_engine_metrics.h - the bodies of the service API's metrics endpoints
 * (sl_engine_api.c routes them): the Prometheus text of the internal
 * metrics under the names [SERVICE] metrics.names chooses, Fluent Bit's
 * /api/v2/metrics text form, its /api/v1/metrics JSON, and the uptime.
 * Engine thread; each appends to `out` and returns 0 or -SL_ENOMEM.
 */
#ifndef SL_ENGINE_METRICS_H
#define SL_ENGINE_METRICS_H

#include "sl_engine_int.h"

/* Seconds since the first start (a reload keeps counting). */
double sl_engine_uptime(const struct sl_engine *eng);
/* Configuration reloads so far (SIGHUP or /api/v2/reload). */
uint64_t sl_engine_reloads(const struct sl_engine *eng);
/* Counts one reload in the new pipeline `eng` (after the handover). */
void sl_engine_count_reload(struct sl_engine *eng);

/* /api/v1/metrics/prometheus and /api/v2/metrics/prometheus. */
int sl_engine_metrics_prometheus(struct sl_engine *eng, struct sl_buf *out);
/* /api/v2/metrics: "TIME NAME{labels} = VALUE" lines (cmetrics' text). */
int sl_engine_metrics_text(struct sl_engine *eng, struct sl_buf *out);
/* /api/v1/metrics: {"input":{NAME:{records,bytes}},"filter":...}. */
int sl_engine_metrics_json(struct sl_engine *eng, struct sl_buf *out);

#endif
