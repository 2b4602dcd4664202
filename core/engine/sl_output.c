/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_output.c - what the core offers outputs (sl_output.h): their
 * instance, route, grace and TLS options, and the flush API a worker uses
 * on one delivery (records marked settled, counted drops, retry hints,
 * the result posted back to the engine thread).
 */
#include "sl_engine_int.h"
#include "sl_http_client.h"

#include <stdlib.h>

struct sl_plugin_instance *sl_output_instance(struct sl_output *out)
{
	return &out->ins;
}

const struct sl_route *sl_output_route(const struct sl_output *out)
{
	return &out->route;
}

int64_t sl_output_grace(const struct sl_output *out)
{
	return out->ins.engine ? out->ins.engine->service.grace : 5;
}

void sl_output_tls_opts(const struct sl_output *out,
			struct sl_http_client_opts *opts)
{
	opts->tls = out->common.tls;
	opts->tls_verify = out->common.tls_verify;
	opts->tls_ca_file = out->common.tls_ca_file;
	opts->tls_crt_file = out->common.tls_crt_file;
	opts->tls_key_file = out->common.tls_key_file;
	opts->tls_vhost = out->common.tls_vhost;
}

const struct sl_chunk *sl_flush_chunk(const struct sl_flush *fl)
{
	return fl->chunk;
}

int sl_flush_attempt(const struct sl_flush *fl)
{
	return fl->attempt;
}

const char *sl_drop_reason_name(enum sl_drop_reason r)
{
	static const char *const names[SL_DROP_REASONS] = {
	    [SL_DROP_RETRY_LIMIT] = "retry_limit",
	    [SL_DROP_REJECTED] = "rejected",
	    [SL_DROP_OVERSIZE] = "oversize",
	    [SL_DROP_BUFFER_FULL] = "buffer_full",
	    [SL_DROP_SHUTDOWN] = "shutdown",
	    [SL_DROP_RELOAD] = "reload",
	};
	return (unsigned)r < SL_DROP_REASONS ? names[r] : "unknown";
}

void sl_flush_drop(struct sl_flush *fl, enum sl_drop_reason reason, uint64_t n)
{
	if ((unsigned)reason >= SL_DROP_REASONS || n == 0)
		return;
	__atomic_add_fetch(&fl->dropped, n, __ATOMIC_RELAXED);
	sl_metric_add(fl->out->m_dropped[reason], (double)n);
}

int sl_flush_mark(struct sl_flush *fl, uint32_t index)
{
	if (index >= fl->chunk->records)
		return -SL_EINVAL;
	if (!fl->settled) {
		fl->settled = calloc((fl->chunk->records + 7) / 8, 1);
		if (!fl->settled)
			return -SL_ENOMEM;
	}
	fl->settled[index / 8] |= (uint8_t)(1u << (index % 8));
	return 0;
}

bool sl_flush_marked(const struct sl_flush *fl, uint32_t index)
{
	return fl->settled && index < fl->chunk->records &&
	       (fl->settled[index / 8] & (1u << (index % 8)));
}

void sl_flush_retry_after(struct sl_flush *fl, double seconds)
{
	fl->retry_after = seconds > 0 ? seconds : 0;
}

void sl_flush_done(struct sl_flush *fl, enum sl_flush_result result)
{
	fl->result = result;
	sl_engine_post_completion(fl->eng, fl);
}
