/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_curl.h - libcurl, opened when the first HTTP client or the kubernetes
 * filter starts (sl_dlib.h says why it is not linked). Callers use the
 * table's members where they would call curl_*: sl_curl.easy_setopt(...)
 * for curl_easy_setopt(...). curl/curl.h still gives the types and
 * constants; libcurl.so.4 is the ABI the package depends on.
 */
#ifndef SL_CURL_H
#define SL_CURL_H

#include <curl/curl.h>

struct sl_curl_api {
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *h);
	void (*easy_reset)(CURL *h);
	CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *h);
	CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
	const char *(*easy_strerror)(CURLcode rc);
	char *(*easy_escape)(CURL *h, const char *s, int len);
	void (*free)(void *p);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void (*slist_free_all)(struct curl_slist *l);
	time_t (*getdate)(const char *s, const time_t *unused);
};

/* Filled by the first successful sl_curl_open; read-only afterwards. */
extern struct sl_curl_api sl_curl;

/*
 * Loads libcurl and runs curl_global_init, once per process (thread-safe;
 * later calls return the first call's result). Returns 0, or -SL_ENOENT /
 * -SL_EIO after logging the reason under `who`.
 */
int sl_curl_open(const char *who);

#endif
