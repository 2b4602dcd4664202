/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_output_error.h - what a failed delivery means, decided in one place
 * for every output: a permanent error drops the records it concerns with
 * reason `rejected` (counted, one log line) instead of retrying forever,
 * so one poison record cannot wedge a chunk, its input and, after a
 * restart, the input again; a transient error is retried with backoff.
 *
 * It classifies; the output acts (marks, drops, splits, retries).
 */
#ifndef SL_OUTPUT_ERROR_H
#define SL_OUTPUT_ERROR_H

#include <stdbool.h>

/*
 * An errno from writing records to a local file or stream. Permanent:
 * the path or the stream can never take them as it is (ENAMETOOLONG,
 * EISDIR, ENOTDIR, ELOOP, EACCES, EPERM, EROFS, EINVAL, EFBIG, EBADF,
 * EPIPE, EEXIST). Transient: everything else (ENOSPC, EDQUOT, EIO,
 * EAGAIN, EINTR, ENOMEM, EMFILE, ENFILE, ENOENT, ...). ENOENT is
 * transient here because a missing base directory is usually a volume not
 * mounted yet; an output that knows the missing part came from record data
 * decides otherwise.
 */
bool sl_output_errno_permanent(int err);

enum sl_http_class {
	SL_HTTP_DELIVERED = 0, /* 2xx */
	SL_HTTP_RETRY,	       /* no answer, 1xx, 3xx, 408, 429, 5xx */
	SL_HTTP_AUTH,	       /* 401, 403, 407: retried, credentials may
				* be rotating (SPEC §6) */
	SL_HTTP_TOO_LARGE,     /* 413: split the request and send again */
	SL_HTTP_REJECTED,      /* any other 4xx: drop, reason `rejected` */
};

/* `status` 0 means no answer arrived (connection error, timeout). */
enum sl_http_class sl_output_http_class(long status);

#endif
