/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_regex.h - regular expressions written the way Fluent Bit users write
 * them (Onigmo/Ruby style), compiled with PCRE2 and its JIT: the one regex
 * wrapper of sluice. Filters use it through the plugin ABI (struct sl_regex,
 * sluice_plugin.h); the core's own users (router, regex parsers) take the
 * pcre2_code with sl_regex_compile_opts, which also serves byte-mode
 * parsers.
 */
#ifndef SL_REGEX_H
#define SL_REGEX_H

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include "sl_common.h"

#include <pcre2.h>
#include <stdbool.h>
#include <stddef.h>

/* Options of sl_regex_compile_opts. */
enum sl_regex_flags {
	SL_REGEX_BYTES = 1 << 0, /* no PCRE2_UTF: subjects are bytes */
	SL_REGEX_RAW = 1 << 1,	 /* no "/re/imx" syntax, no MULTILINE: the
				  * pattern as written */
};

/*
 * Compiles `pattern`: "/re/imx" carries Ruby options (i caseless, m: dot
 * matches newline, x extended), "/re/" is stripped, anything else is the
 * pattern itself. As in Ruby, ^ and $ match at line breaks. Returns the
 * compiled pattern (free with pcre2_code_free), or NULL with a message in
 * `err` ("<reason> at offset N").
 */
pcre2_code *sl_regex_compile(const char *pattern, char *err, size_t err_len);
/*
 * As sl_regex_compile, for `len` bytes of pattern, with `flags` and extra
 * PCRE2 compile options `pcre_opts` (and a compile context, may be NULL).
 */
pcre2_code *sl_regex_compile_opts(const char *pattern, size_t len,
				  unsigned flags, uint32_t pcre_opts,
				  pcre2_compile_context *cctx, char *err,
				  size_t err_len);
/* The compiled pattern inside a struct sl_regex (borrowed). */
const pcre2_code *sl_regex_code(const struct sl_regex *re);

#endif
