/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_log.h - leveled logging to stderr or Log_File. sl_log() itself is
 * declared in the public header; this adds the process-wide setup.
 * Thread-safe: one write(2) per line.
 */
#ifndef SL_LOG_H
#define SL_LOG_H

#include "sl_common.h"

/* Parses "off|error|warn|warning|info|debug|trace". Returns 0 or -SL_EINVAL. */
int sl_log_parse_level(const char *s, enum sl_log_level *out);
void sl_log_set_level(enum sl_log_level level);
enum sl_log_level sl_log_get_level(void);
/* Sends logs to `path` (appending). Returns 0 or -SL_EIO. NULL: stderr. */
int sl_log_set_file(const char *path);
/* True when `level` would be written (to skip building expensive messages). */
int sl_log_enabled(enum sl_log_level level);

#endif
