/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_host_api.h - the host side of the plugin ABI: the function table handed
 * to plugins and the host services behind its instance-bound slots.
 */
#ifndef SL_HOST_API_H
#define SL_HOST_API_H

#include "sl_common.h"

/* The host's table (static, valid for the process). */
const struct sluice_host_api *sl_host_api(void);

#endif
