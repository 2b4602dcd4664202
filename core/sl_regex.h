/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_regex.h - regular expressions written the way Fluent Bit users write
 * them (Onigmo/Ruby style), compiled with PCRE2 and its JIT. Shared by the
 * filters that take KEY REGEX rules (grep, modify, log_to_metrics).
 */
#ifndef SL_REGEX_H
#define SL_REGEX_H

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>
#include <stddef.h>

/*
 * Compiles `pattern`: "/re/imx" carries Ruby options (i caseless, m: dot
 * matches newline, x extended), "/re/" is stripped, anything else is the
 * pattern itself. As in Ruby, ^ and $ match at line breaks. Returns the
 * compiled pattern (free with pcre2_code_free), or NULL with a message in
 * `err` ("<reason> at offset N").
 */
pcre2_code *sl_regex_compile(const char *pattern, char *err, size_t err_len);

#endif
