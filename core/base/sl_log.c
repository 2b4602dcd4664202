/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_log.c - leveled log lines: "[2026-11-22T05:31:00.123Z] [warn] [tail.0]
 * msg". Each line is formatted into a stack buffer and written with one
 * write(2), so lines from worker threads never interleave. The message's
 * control bytes are escaped here (sl_sanitize_log_text), not by callers: a tag
 * or a field printed in a message can never start a forged line of its own.
 */
#include "sl_log.h"
#include "sl_sanitize.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static atomic_int log_level = SL_LOG_INFO;
static atomic_int log_fd = STDERR_FILENO;

static const char *const level_names[] = {
    [SL_LOG_OFF] = "off",   [SL_LOG_ERROR] = "error", [SL_LOG_WARN] = "warn",
    [SL_LOG_INFO] = "info", [SL_LOG_DEBUG] = "debug", [SL_LOG_TRACE] = "trace",
};

int sl_log_parse_level(const char *s, enum sl_log_level *out)
{
	for (size_t i = 0; i < SL_ARRAY_LEN(level_names); i++) {
		if (strcasecmp(s, level_names[i]) == 0) {
			*out = (enum sl_log_level)i;
			return 0;
		}
	}
	if (strcasecmp(s, "warning") == 0) {
		*out = SL_LOG_WARN;
		return 0;
	}
	return -SL_EINVAL;
}

void sl_log_set_level(enum sl_log_level level)
{
	atomic_store(&log_level, (int)level);
}

enum sl_log_level sl_log_get_level(void)
{
	return (enum sl_log_level)atomic_load(&log_level);
}

int sl_log_enabled(enum sl_log_level level)
{
	return (int)level <= atomic_load(&log_level);
}

int sl_log_set_file(const char *path)
{
	int fd, old;

	if (!path) {
		fd = STDERR_FILENO;
	} else {
		fd =
		    open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		if (fd < 0)
			return -SL_EIO;
	}
	old = atomic_exchange(&log_fd, fd);
	if (old != STDERR_FILENO)
		close(old);
	return 0;
}

void sl_log(enum sl_log_level level, const char *component, const char *fmt,
	    ...)
{
	char line[4096], msg[4096];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	size_t n;
	int w;

	if (level == SL_LOG_OFF || !sl_log_enabled(level))
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "[%Y-%m-%dT%H:%M:%S", &tm);
	w = snprintf(line + n, sizeof(line) - n, ".%03ldZ] [%s] [",
		     ts.tv_nsec / 1000000, level_names[level]);
	if (w > 0)
		n += (size_t)w;
	if (!component)
		component = "sluice";
	n += sl_sanitize_log_text(line + n, sizeof(line) - n, component,
				  strlen(component));
	if (n + 2 < sizeof(line)) {
		memcpy(line + n, "] ", 2);
		n += 2;
	}
	va_start(ap, fmt);
	w = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (w > 0 && n < sizeof(line))
		n += sl_sanitize_log_text(
		    line + n, sizeof(line) - n, msg,
		    (size_t)w < sizeof(msg) ? (size_t)w : sizeof(msg) - 1);
	if (n >= sizeof(line))
		n = sizeof(line) - 1; /* truncated: keep the newline */
	line[n++] = '\n';
	while (write(atomic_load(&log_fd), line, n) < 0 && errno == EINTR)
		;
}
