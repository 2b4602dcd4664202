/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_dlib.h - a shared library opened when the first plugin that needs it
 * starts, rather than linked into the binary. For libraries whose load cost
 * is large next to what most pipelines use of them (libcurl brings about
 * twenty libraries and 4 MB of resident pages to a kafka or metrics-only
 * pipeline that sends no HTTP; core/README.md, "Libraries opened on
 * demand"). The handle stays open for the process's life: function
 * pointers taken from it are never invalidated.
 */
#ifndef SL_DLIB_H
#define SL_DLIB_H

#include <stddef.h>

struct sl_dlib_sym {
	const char *name;
	void *slot; /* the address of a function pointer of the right type */
};

/*
 * Opens `soname` (RTLD_NOW | RTLD_LOCAL) and fills every slot. Returns 0,
 * or -SL_ENOENT with the reason in err (the library is missing, or lacks a
 * symbol: then no slot is trusted and the handle is closed).
 */
int sl_dlib_load(const char *soname, const struct sl_dlib_sym *syms, size_t n,
		 char *err, size_t errlen);

#endif
