/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_conf.c - libFuzzer target for the classic config reader: any bytes
 * are parsed as a config file (from memory, with @INCLUDE disabled so the
 * fuzzer never reads the host's files), values are expanded and fed to the
 * value parsers. It must never crash, hang or leak.
 */
#include <stdint.h>
#include <stdlib.h>

#include "sl_cfgmap.h"
#include "sl_conf.h"
#include "sl_conf_classic.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sl_conf conf;
	struct sl_diag diag = {0};

	sl_conf_init(&conf);
	sl_conf_classic_load(&conf, "fuzz.conf", (const char *)data, size,
			     SL_CONF_CLASSIC_NO_INCLUDE, &diag);
	for (size_t i = 0; i < conf.n; i++) {
		const struct sl_conf_section *sec = &conf.sections[i];

		for (size_t j = 0; j < sec->n; j++) {
			char *v = sl_conf_expand(&conf, sec->entries[j].value);
			char *k = NULL, *r = NULL;
			int64_t n;
			double d;
			bool b;

			if (!v)
				continue;
			sl_cfg_parse_bool(v, &b);
			sl_cfg_parse_int(v, &n);
			sl_cfg_parse_size(v, &n);
			sl_cfg_parse_double(v, &d);
			sl_cfg_parse_time(v, &d);
			if (sl_cfg_split_pair(v, &k, &r) == 0) {
				free(k);
				free(r);
			}
			free(v);
		}
	}
	sl_conf_destroy(&conf);
	sl_diag_destroy(&diag);
	return 0;
}
