/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kafka_conf.c - librdkafka configuration shared by the kafka output and
 * input (see kafka_conf.h).
 */
#include "kafka_conf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int kafka_conf_set(rd_kafka_conf_t *conf, struct sl_plugin_instance *ins,
		   int line, const char *opt, const char *prop,
		   const char *value)
{
	char err[512];

	if (rd_kafka_conf_set(conf, prop, value, err, sizeof(err)) ==
	    RD_KAFKA_CONF_OK)
		return 0;
	sl_plugin_error(ins, line, "%s: %s", opt, err);
	return -SL_ECONFIG;
}

int kafka_conf_apply_items(rd_kafka_conf_t *conf,
			   const struct sl_cfg_multi *items,
			   struct sl_plugin_instance *ins, kafka_conf_veto veto)
{
	int rc = 0;

	for (size_t i = 0; i < items->n; i++) {
		const struct sl_cfg_item *it = &items->items[i];
		char *prop = strdup(it->value), *value, *opt;
		const char *why;

		if (!prop)
			return -SL_ENOMEM;
		value = strchr(prop, ' ');
		if (value)
			*value++ = '\0';
		else
			value = prop + strlen(prop);
		for (char *p = prop; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		if (asprintf(&opt, "rdkafka.%s", prop) < 0) {
			free(prop);
			return -SL_ENOMEM;
		}
		why = veto ? veto(prop, value) : NULL;
		if (why) {
			sl_plugin_error(ins, it->line, "%s: %s", opt, why);
			rc = -SL_ECONFIG;
		} else if (kafka_conf_set(conf, ins, it->line, opt, prop,
					  value) < 0) {
			rc = -SL_ECONFIG;
		}
		free(opt);
		free(prop);
	}
	return rc;
}

enum sl_log_level kafka_log_level(int syslog_level)
{
	if (syslog_level <= 4)
		return SL_LOG_WARN;
	if (syslog_level <= 6)
		return SL_LOG_INFO;
	return SL_LOG_DEBUG;
}
