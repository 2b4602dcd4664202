/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kafka_conf.h - what the kafka output and the kafka input (which includes
 * this by relative path) share of librdkafka's configuration: setting one
 * property with the error at the option's line, the `rdkafka.*`
 * pass-through, and librdkafka's log levels as sluice's.
 */
#ifndef KAFKA_CONF_H
#define KAFKA_CONF_H

#include "sl_log.h"
#include "sluice_plugin.h"

#include <librdkafka/rdkafka.h>

/*
 * Sets `prop` to `value` in `conf`; on failure reports librdkafka's reason
 * as "OPT: reason" at `line` and returns -SL_ECONFIG.
 */
int kafka_conf_set(rd_kafka_conf_t *conf, struct sl_plugin_instance *ins,
		   int line, const char *opt, const char *prop,
		   const char *value);

/*
 * A plugin's veto over one rdkafka.* property (lower-cased) and its value:
 * NULL to let it through, else why it is refused (reported as
 * "rdkafka.PROP: WHY").
 */
typedef const char *(*kafka_conf_veto)(const char *prop, const char *value);

/*
 * Applies the "property value" items of `rdkafka.*` options. Names are
 * lower-cased: sluice option names are case-insensitive, librdkafka's are
 * all lower case. Every bad item is reported; -SL_ECONFIG if any was,
 * -SL_ENOMEM, or 0.
 */
int kafka_conf_apply_items(rd_kafka_conf_t *conf,
			   const struct sl_cfg_multi *items,
			   struct sl_plugin_instance *ins,
			   kafka_conf_veto veto);

/* librdkafka's syslog-style level as sluice's: broker connection failures
 * come at 3 (error) and are transient, so <= 4 is a warning. */
enum sl_log_level kafka_log_level(int syslog_level);

#endif
