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
#include <stdbool.h>
#include <stddef.h>

/*
 * Compiles `pattern`: "/re/imx" carries Ruby options (i caseless, m: dot
 * matches newline, x extended), "/re/" is stripped, anything else is the
 * pattern itself. As in Ruby, ^ and $ match at line breaks. Returns the
 * compiled pattern (free with pcre2_code_free), or NULL with a message in
 * `err` ("<reason> at offset N").
 */
pcre2_code *sl_regex_compile(const char *pattern, char *err, size_t err_len);

struct sl_record;
struct sl_accessor;
struct sl_text;
/*
 * True when the record's field at `acc` is a string that `re` matches, as
 * Fluent Bit's grep and log_to_metrics rules read it (numbers, booleans and
 * containers never match). `md` and `scratch` are the caller's, reused.
 */
bool sl_regex_match_field(struct sl_record *rec, const struct sl_accessor *acc,
			  const pcre2_code *re, pcre2_match_data *md,
			  struct sl_text *scratch);

#endif
