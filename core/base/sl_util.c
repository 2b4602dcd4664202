/* SPDX-License-Identifier: Apache-2.0 */
/* sl_util.c - error strings and clocks. */
#include "sl_common.h"

#include <time.h>

const char *sl_strerror(int err)
{
	switch (err < 0 ? -err : err) {
	case SL_OK:
		return "success";
	case SL_ENOMEM:
		return "out of memory";
	case SL_EINVAL:
		return "invalid value";
	case SL_EIO:
		return "I/O error";
	case SL_EAGAIN:
		return "try again";
	case SL_ENOENT:
		return "not found";
	case SL_EPARSE:
		return "parse error";
	case SL_ETOOBIG:
		return "too large or too deep";
	case SL_ECONFIG:
		return "configuration error";
	case SL_EABI:
		return "plugin ABI mismatch";
	default:
		return "unknown error";
	}
}

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * SL_NS_PER_SEC + ts.tv_nsec;
}

int64_t sl_now_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

int64_t sl_mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}
