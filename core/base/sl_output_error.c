/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_output_error.c - the permanent-vs-transient tables of
 * sl_output_error.h.
 */
#include "sl_output_error.h"

#include <errno.h>

bool sl_output_errno_permanent(int err)
{
	switch (err) {
	case ENAMETOOLONG: /* a tag-derived name over NAME_MAX or PATH_MAX */
	case EISDIR:	   /* the target is a directory */
	case ENOTDIR:	   /* a path step is a file */
	case ELOOP:
	case EACCES:
	case EPERM:
	case EROFS:
	case EINVAL:
	case EFBIG:
	case EBADF: /* stdout closed */
	case EPIPE: /* its reader is gone for good */
	case EEXIST:
		return true;
	default:
		return false;
	}
}

enum sl_http_class sl_output_http_class(long status)
{
	if (status >= 200 && status < 300)
		return SL_HTTP_DELIVERED;
	if (status == 401 || status == 403 || status == 407)
		return SL_HTTP_AUTH;
	if (status == 413)
		return SL_HTTP_TOO_LARGE;
	if (status == 408 || status == 429)
		return SL_HTTP_RETRY;
	if (status >= 400 && status < 500)
		return SL_HTTP_REJECTED;
	return SL_HTTP_RETRY; /* 0, 1xx, 3xx, 5xx and nonsense */
}
