/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_conf_classic.h - Fluent Bit's classic configuration format
 * (sl_conf_classic.c). sl_conf.c dispatches to it for every name that is
 * not .yaml/.yml; the fuzz target calls it on bytes in memory.
 */
#ifndef SL_CONF_CLASSIC_H
#define SL_CONF_CLASSIC_H

#include "sl_conf.h"

/* flags for sl_conf_classic_load */
#define SL_CONF_CLASSIC_NO_INCLUDE 1u /* @INCLUDE is an error (fuzzing) */

/*
 * Reads `path` (or, when data is not NULL, the `len` bytes of data named
 * `path`) in the classic format, appending sections with their values not
 * yet expanded. Returns 0 or -SL_ECONFIG after adding diagnostics.
 */
int sl_conf_classic_load(struct sl_conf *conf, const char *path,
			 const char *data, size_t len, unsigned flags,
			 struct sl_diag *diag);

#endif
