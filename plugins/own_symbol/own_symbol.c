/* SPDX-License-Identifier: Apache-2.0 */
/*
 * own_symbol.c - a test plugin that defines a global function with the name
 * of a host-internal function (sl_now_ns, core/base/sl_common.h) and stamps its
 * result into each record. With a closed ABI the plugin's own definition is
 * the one it calls; a host that exported its symbols would interpose its
 * clock and the stamp would be a real time. Not installed.
 */
#include "sluice_plugin.h"

#include <stdint.h>

int64_t sl_now_ns(void);

/* not a clock: a value no clock returns, so the test can tell */
int64_t sl_now_ns(void)
{
	return 42;
}

static enum sl_filter_verdict stamp(void *ctx, struct sl_record *rec,
				    const char *tag, size_t tag_len)
{
	char num[24];
	int n = 0;
	int64_t v = sl_now_ns();

	/* v is small and positive: two digits are enough */
	num[n++] = (char)('0' + (v / 10) % 10);
	num[n++] = (char)('0' + v % 10);
	sl_record_set(rec, "stamp", 5, num, (size_t)n);
	return SL_FILTER_KEEP;
}

static const struct sl_filter_plugin own_symbol = {
    .name = "own_symbol",
    .description = "stamps records with its own sl_now_ns()",
    .filter = stamp,
};

SL_PLUGIN_EXPORT(own_symbol);
