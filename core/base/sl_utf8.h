/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_utf8.h - strict UTF-8: validation, repair with U+FFFD, and the
 * one-sequence checker shared with the JSON escaper (sl_json.c).
 */
#ifndef SL_UTF8_H
#define SL_UTF8_H

#include "sl_common.h"

#include <stdbool.h>
#include <stddef.h>

/* U+FFFD REPLACEMENT CHARACTER in UTF-8. */
#define SL_UTF8_REPLACEMENT "\xEF\xBF\xBD"

/*
 * Returns true when [s, s+len) is valid UTF-8 (no overlongs, no surrogates
 * ED A0..BF xx, nothing above U+10FFFF). ASCII runs are checked a word at a
 * time.
 */
bool sl_utf8_valid(const char *s, size_t len);
/*
 * Appends `s` to `out` with every invalid UTF-8 sequence replaced by U+FFFD
 * (EF BF BD), one replacement per maximal invalid subpart (Unicode's
 * "substitution of maximal subparts"). Returns the number of replacements,
 * or -SL_ENOMEM.
 */
long sl_utf8_repair(struct sl_buf *out, const char *s, size_t len);

/*
 * Checks the sequence starting at p (n > 0 bytes available). Returns its
 * length when valid; else 0 and *bad = length of the maximal invalid
 * subpart (the lead byte plus the continuation bytes still acceptable).
 */
size_t sl_utf8_seq(const unsigned char *p, size_t n, size_t *bad);

#endif
