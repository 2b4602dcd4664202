/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_parser_int.h - what the parser modules share among themselves and
 * nobody else: named-group matching (sl_parser_regex.c) and the logfmt
 * tokenizer (sl_parser_logfmt.c). Only the parser library and white-box
 * unit tests have private/ on their include path; what inputs need
 * (multiline definitions, the pattern matcher) is in sl_multiline.h.
 */
#ifndef SL_PARSER_INT_H
#define SL_PARSER_INT_H

#include "sl_multiline.h"
#include "sl_parser.h"

/* ---- regex: sl_parser_regex_compile() etc. are in sl_multiline.h ------ */
/* Called for each named group that took part in a match, in group order. */
typedef int (*sl_parser_field_cb)(void *arg, const char *key, size_t key_len,
				  const char *val, size_t val_len);
/*
 * Matches once; on a match calls `cb` for every named group that matched.
 * Returns 0, -SL_EPARSE when there is no match, or the first negative cb
 * result.
 */
int sl_parser_regex_fields(struct sl_parser_regex *re, const char *s,
			   size_t len, sl_parser_field_cb cb, void *arg);

/* ---- logfmt ------------------------------------------------------------- */
/*
 * Tokenizes a logfmt line: key=value, key="quoted \"value\"", bare key.
 * `cb` gets each pair; a bare key has val == NULL. Quoted values are
 * unescaped (\" \\ \n \r \t; other escapes are kept as written) through
 * `tmp`, so val is valid only during the call. Returns 0, -SL_EPARSE (empty
 * line, bare key with `no_bare_keys`, unterminated quote, '=' without key)
 * or the first negative cb result.
 */
int sl_parser_logfmt_scan(const char *s, size_t len, bool no_bare_keys,
			  struct sl_buf *tmp, sl_parser_field_cb cb, void *arg);

#endif
