/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_curl.c - libcurl opened on demand (sl_curl.h).
 */
#include "sl_curl.h"
#include "sl_common.h"
#include "sl_dlib.h"
#include "sl_log.h"

#include <pthread.h>
#include <stdio.h>

/* The soname of libcurl's ABI 4, which every libcurl since 7.16 keeps. */
#define CURL_SONAME "libcurl.so.4"

struct sl_curl_api sl_curl;

static pthread_once_t open_once = PTHREAD_ONCE_INIT;
static int open_rc;
static char open_err[256];

static void open_library(void)
{
	CURLcode (*global_init)(long flags) = NULL;
	const struct sl_dlib_sym syms[] = {
	    {"curl_global_init", &global_init},
	    {"curl_easy_init", &sl_curl.easy_init},
	    {"curl_easy_cleanup", &sl_curl.easy_cleanup},
	    {"curl_easy_reset", &sl_curl.easy_reset},
	    {"curl_easy_setopt", &sl_curl.easy_setopt},
	    {"curl_easy_perform", &sl_curl.easy_perform},
	    {"curl_easy_getinfo", &sl_curl.easy_getinfo},
	    {"curl_easy_strerror", &sl_curl.easy_strerror},
	    {"curl_easy_escape", &sl_curl.easy_escape},
	    {"curl_free", &sl_curl.free},
	    {"curl_slist_append", &sl_curl.slist_append},
	    {"curl_slist_free_all", &sl_curl.slist_free_all},
	    {"curl_getdate", &sl_curl.getdate},
	};
	CURLcode rc;

	open_rc = sl_dlib_load(CURL_SONAME, syms, SL_ARRAY_LEN(syms), open_err,
			       sizeof(open_err));
	if (open_rc < 0)
		return;
	/* once per process: curl_global_init is not thread-safe with older
	 * libcurl builds, and workers create clients concurrently; never
	 * undone (curl_global_cleanup at exit only frees memory) */
	rc = global_init(CURL_GLOBAL_DEFAULT);
	if (rc != CURLE_OK) {
		snprintf(open_err, sizeof(open_err), "curl_global_init: %s",
			 sl_curl.easy_strerror(rc));
		open_rc = -SL_EIO;
	}
}

int sl_curl_open(const char *who)
{
	(void)pthread_once(&open_once, open_library);
	if (open_rc < 0)
		sl_log(SL_LOG_ERROR, who, "%s", open_err);
	return open_rc;
}
