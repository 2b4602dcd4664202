/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_dlib.c - shared libraries opened on demand (sl_dlib.h).
 */
#include "sl_dlib.h"
#include "sl_common.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

int sl_dlib_load(const char *soname, const struct sl_dlib_sym *syms, size_t n,
		 char *err, size_t errlen)
{
	void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		const char *why = dlerror();

		snprintf(err, errlen, "cannot load %s: %s", soname,
			 why ? why : "unknown error");
		return -SL_ENOENT;
	}
	for (size_t i = 0; i < n; i++) {
		void *fn = dlsym(h, syms[i].name);

		if (!fn) {
			snprintf(err, errlen, "%s has no %s", soname,
				 syms[i].name);
			dlclose(h);
			return -SL_ENOENT;
		}
		/* POSIX: a dlsym result converts to a function pointer; the
		 * copy avoids writing the slot through a mismatched type */
		memcpy(syms[i].slot, &fn, sizeof(fn));
	}
	return 0;
}
